/**
 * The one list page of every kind: the model's columns, a name filter and its choice filters,
 * sorting and paging through the resources API (state in the URL, so a list can be bookmarked
 * and the back button works), live updates through a watch, virtualised rows, and the actions
 * the user may take. Embedded (`fixed`), it lists an object's related objects.
 */
import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import {
  Button,
  EmptyState,
  EmptyStateBody,
  FormSelect,
  FormSelectOption,
  Label,
  PageSection,
  Pagination,
  SearchInput,
  Title,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from '@patternfly/react-core';
import SyncAltIcon from '@patternfly/react-icons/dist/esm/icons/sync-alt-icon';
import { fetchList, listQueryKey, DEFAULT_LIST_PARAMS, type ListParams } from '../api/resources';
import { useLiveList } from '../api/live';
import { useJoins } from '../api/joins';
import { translateKey } from '../i18n';
import { Cell } from '../components/format';
import { ErrorState, Loading } from '../components/States';
import { ActionsMenu, useActionDialogs, useAllowedActions, useCanCreate } from '../components/ObjectActions';
import { VirtualTable, type VirtualColumn } from '../components/VirtualTable';
import { detailHref } from './paths';
import { modelTitle } from '../models/title';
import type { K8sObject, ResourceModel, Scope } from '../models/types';

/** The create dialog (forms, YAML editor, review) loads when first opened. */
const CreateDialog = lazy(() => import('../components/forms/FormDialogs').then((m) => ({ default: m.CreateDialog })));

export const PAGE_SIZES = [10, 20, 50, 100, 500, 1000, 5000];

function paramsFromSearch(search: URLSearchParams, model: ResourceModel): ListParams {
  const int = (key: string, fallback: number) => {
    const n = Number(search.get(key));
    return Number.isInteger(n) && n > 0 ? n : fallback;
  };
  const filters: Record<string, string> = {};
  for (const f of model.filters ?? []) {
    const v = search.get(f.key);
    if (v) filters[f.key] = v;
  }
  return {
    name: search.get('name') ?? undefined,
    sortBy: search.get('sortBy') === 'name' ? 'name' : 'creationTimestamp',
    ascending: search.get('ascending') === 'true',
    page: int('page', 1),
    limit: int('limit', DEFAULT_LIST_PARAMS.limit),
    filters,
  };
}

export interface ResourceListProps {
  model: ResourceModel;
  scope: Scope;
  /** Embedded list of related objects: these query keys, no URL state, no page header. */
  fixed?: Record<string, string>;
  title?: string;
}

export function ResourceList({ model, scope, fixed, title }: ResourceListProps) {
  const { t, i18n } = useTranslation();
  const [search, setSearch] = useSearchParams();
  const [embeddedParams, setEmbeddedParams] = useState<ListParams>({ ...DEFAULT_LIST_PARAMS, filters: fixed ?? {} });
  const params = fixed ? embeddedParams : paramsFromSearch(search, model);
  const update = (change: Partial<ListParams>) => {
    if (fixed) {
      setEmbeddedParams({ ...params, ...change, filters: { ...fixed, ...(change.filters ?? {}) } });
      return;
    }
    const next = new URLSearchParams(search);
    const merged = { ...params, ...change };
    const set = (k: string, v: string | undefined, fallback?: string) => (v && v !== fallback ? next.set(k, v) : next.delete(k));
    set('name', merged.name);
    set('sortBy', merged.sortBy, 'creationTimestamp');
    set('ascending', String(merged.ascending), 'false');
    set('page', String(merged.page), '1');
    set('limit', String(merged.limit), String(DEFAULT_LIST_PARAMS.limit));
    for (const f of model.filters ?? []) set(f.key, merged.filters[f.key]);
    setSearch(next, { replace: true });
  };

  const queryKey = listQueryKey(model, scope, params);
  const list = useQuery({
    queryKey,
    queryFn: ({ signal }) => fetchList(model, scope, params, signal),
    placeholderData: keepPreviousData,
  });
  const live = useLiveList(list.isSuccess ? model : undefined, scope, params, queryKey);
  const joinedOf = useJoins(model, scope);
  const allowed = useAllowedActions(model, scope);
  const { run, dialogs } = useActionDialogs(model, scope);
  const canCreate = useCanCreate(model, scope) && !fixed;
  const [creating, setCreating] = useState(false);

  // The name box filters as the user types, one request per pause.
  const [nameInput, setNameInput] = useState(params.name ?? '');
  useEffect(() => {
    if ((params.name ?? '') === nameInput) return;
    const timer = setTimeout(() => update({ name: nameInput || undefined, page: 1 }), 300);
    return () => clearTimeout(timer);
  }, [nameInput]);

  const showNamespace = model.namespaced && !scope.namespace;
  const columns: VirtualColumn[] = useMemo(
    () => [
      { id: 'name', title: t('columns.name'), sortable: true, width: 25 },
      ...(showNamespace ? [{ id: 'namespace', title: t('columns.project') }] : []),
      ...model.columns.map((c) => ({ id: c.id, title: c.literal ? c.title : translateKey(c.title) })),
      { id: 'created', title: t('columns.created'), sortable: true },
      ...(allowed.length ? [{ id: 'actions', title: '', screenReaderText: t('columns.actions'), isActionCell: true }] : []),
    ],
    // i18n.language: headers follow the language.
    [model, showNamespace, allowed.length, i18n.language],
  );
  const byId = useMemo(() => new Map(model.columns.map((c) => [c.id, c])), [model]);
  const kindTitle = title ?? modelTitle(model);

  const cell = (o: K8sObject, id: string) => {
    switch (id) {
      case 'name':
        return (
          <Link to={detailHref(model, scope, o)} className="canopy-name">
            {o.metadata.name}
          </Link>
        );
      case 'namespace':
        return o.metadata.namespace;
      case 'created':
        return <Cell value={o.metadata.creationTimestamp} format="age" language={i18n.language} />;
      case 'actions':
        return <ActionsMenu actions={allowed} object={o} onAction={run} />;
      default: {
        const column = byId.get(id);
        return <Cell value={column?.value(o, joinedOf(o))} format={column?.format} language={i18n.language} />;
      }
    }
  };

  const data = list.data;
  const toolbar = (
    <Toolbar>
      <ToolbarContent>
        <ToolbarItem>
          <SearchInput
            aria-label={t('list.filterByName', { kind: kindTitle })}
            placeholder={t('list.filterByNamePlaceholder')}
            value={nameInput}
            onChange={(_e, v) => setNameInput(v)}
            onClear={() => setNameInput('')}
          />
        </ToolbarItem>
        {(fixed ? [] : (model.filters ?? [])).map((f) => (
          <ToolbarItem key={f.key}>
            <FormSelect
              aria-label={translateKey(f.title)}
              value={params.filters[f.key] ?? ''}
              onChange={(_e, v) => update({ filters: { ...params.filters, [f.key]: v }, page: 1 })}
            >
              <FormSelectOption value="" label={t('list.any', { what: translateKey(f.title) })} />
              {f.options.map((o) => (
                <FormSelectOption key={o.value} value={o.value} label={translateKey(o.title, o.value)} />
              ))}
            </FormSelect>
          </ToolbarItem>
        ))}
        {canCreate && (
          <ToolbarItem>
            <Button variant="primary" onClick={() => setCreating(true)} data-testid="create">
              {model.form === 'member' ? t('members.invite') : t('list.create')}
            </Button>
          </ToolbarItem>
        )}
        <ToolbarItem>
          <Button variant="plain" aria-label={t('list.refresh')} onClick={() => void list.refetch()} icon={<SyncAltIcon />} />
        </ToolbarItem>
        <ToolbarItem alignSelf="center">
          {live === 'live' ? (
            <Label isCompact color="green" data-testid="live">
              {t('list.live')}
            </Label>
          ) : live === 'denied' ? (
            <Label isCompact>{t('list.notLive')}</Label>
          ) : null}
        </ToolbarItem>
        <ToolbarItem variant="pagination" align={{ default: 'alignEnd' }}>
          <span className="canopy-muted" data-testid="total-items">
            {data ? t('list.total', { count: data.totalItems }) : ''}
          </span>
        </ToolbarItem>
      </ToolbarContent>
    </Toolbar>
  );

  let body;
  if (list.isLoading) body = <Loading />;
  else if (list.isError) body = <ErrorState error={list.error} />;
  else if (!data?.items.length)
    body = (
      <EmptyState titleText={t('list.emptyTitle', { kind: kindTitle })} headingLevel="h2" data-testid="empty-list">
        <EmptyStateBody>{params.name ? t('list.emptyFiltered') : t('list.emptyBody')}</EmptyStateBody>
      </EmptyState>
    );
  else
    body = (
      <VirtualTable
        ariaLabel={t('list.tableLabel', { kind: kindTitle })}
        columns={columns}
        rows={data.items}
        rowKey={(o) => o.metadata.uid ?? `${o.metadata.namespace}/${o.metadata.name}`}
        cell={cell}
        sort={{ columnId: params.sortBy === 'name' ? 'name' : 'created', direction: params.ascending ? 'asc' : 'desc' }}
        onSort={(id, direction) =>
          update({ sortBy: id === 'name' ? 'name' : 'creationTimestamp', ascending: direction === 'asc', page: 1 })
        }
        maxHeight={fixed ? '24rem' : undefined}
      />
    );

  const pagination = data && data.totalItems > Math.min(...PAGE_SIZES) && (
    <Pagination
      itemCount={data.totalItems}
      page={params.page}
      perPage={params.limit}
      perPageOptions={PAGE_SIZES.map((n) => ({ title: String(n), value: n }))}
      onSetPage={(_e, page) => update({ page })}
      onPerPageSelect={(_e, limit) => update({ limit, page: 1 })}
      titles={{
        items: t('pagination.items'),
        page: t('pagination.page'),
        pages: t('pagination.pages'),
        itemsPerPage: t('pagination.itemsPerPage'),
        perPageSuffix: t('pagination.perPageSuffix'),
        toFirstPageAriaLabel: t('pagination.first'),
        toPreviousPageAriaLabel: t('pagination.previous'),
        toNextPageAriaLabel: t('pagination.next'),
        toLastPageAriaLabel: t('pagination.last'),
        optionsToggleAriaLabel: t('pagination.perPage'),
        currPageAriaLabel: t('pagination.current'),
        paginationAriaLabel: t('pagination.label'),
        ofWord: t('pagination.of'),
      }}
    />
  );

  if (fixed)
    return (
      <section aria-label={kindTitle} className="canopy-related">
        <Title headingLevel="h3">{kindTitle}</Title>
        {toolbar}
        {body}
        {pagination}
        {dialogs}
      </section>
    );
  return (
    <>
      <PageSection>
        <Title headingLevel="h1" data-testid="page-title">
          {kindTitle}
        </Title>
      </PageSection>
      <PageSection isFilled>
        {toolbar}
        {body}
        {pagination}
      </PageSection>
      {dialogs}
      {creating && (
        <Suspense fallback={null}>
          <CreateDialog model={model} scope={scope} onClose={() => setCreating(false)} />
        </Suspense>
      )}
    </>
  );
}
