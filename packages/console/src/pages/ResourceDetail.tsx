/**
 * The one detail page of every kind: metadata, the model's status fields, conditions, events,
 * related objects (owners as links, owned and selected objects as embedded lists), and the YAML
 * (CodeMirror, loaded when the tab opens; editable when the user may edit, with a server-side
 * dry run before the update). The object stays current through a watch on its name.
 */
import { lazy, Suspense, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  Breadcrumb,
  BreadcrumbItem,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  Flex,
  FlexItem,
  Label,
  LabelGroup,
  PageSection,
  Tab,
  Tabs,
  TabTitleText,
  Title,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { api } from '../api/http';
import { fetchObject, kubePath, objectQueryKey } from '../api/resources';
import { useJoins } from '../api/joins';
import { watchCollection } from '../api/watch';
import { translateKey } from '../i18n';
import { clusterPrefix, modelOfKind, registeredModel } from '../models/registry';
import { Cell, StatusLabel } from '../components/format';
import { ErrorState, Loading, NotFound } from '../components/States';
import { ActionsMenu, useActionDialogs, useAllowedActions } from '../components/ObjectActions';
import { useScope } from '../layout/scope';
import { detailHref, listHref } from './paths';
import { ResourceList } from './ResourceList';
import { modelTitle } from '../models/title';
import { useModel } from './useModel';
import type { DetailTab, K8sObject, ResourceModel, Scope } from '../models/types';
import { LoginRecords, RoleTemplatesTab } from './DetailExtras';

const YamlEditor = lazy(() => import('../components/YamlEditor'));
const PodLogs = lazy(() => import('../components/PodLogs'));
const NodeUsage = lazy(() => import('./NodeUsage'));
/** xterm.js is large: the terminal loads only when its tab opens. */
const PodTerminal = lazy(() => import('../components/PodTerminal'));

type TabKey = 'overview' | 'events' | 'related' | 'yaml' | DetailTab;

function MapLabels({ map }: { map?: Record<string, string> }) {
  const { t } = useTranslation();
  const entries = Object.entries(map ?? {});
  if (!entries.length) return <span className="canopy-muted">—</span>;
  return (
    <LabelGroup
      numLabels={10}
      expandedText={t('detail.showLess')}
      collapsedText={t('detail.showMore', { count: entries.length - 10 })}
    >
      {entries.map(([k, v]) => (
        <Label key={k} isCompact textMaxWidth="40ch">
          {v ? `${k}=${v}` : k}
        </Label>
      ))}
    </LabelGroup>
  );
}

function Overview({ model, scope, object }: { model: ResourceModel; scope: Scope; object: K8sObject }) {
  const { t, i18n } = useTranslation();
  const joined = useJoins(model, scope, object)(object);
  const m = object.metadata;
  const conditions = (object.status?.conditions ?? []) as any[];
  const owners = m.ownerReferences ?? [];
  return (
    <>
      <DescriptionList isHorizontal isCompact aria-label={t('detail.metadata')} className="canopy-gap-top">
        <DescriptionListGroup>
          <DescriptionListTerm>{t('columns.name')}</DescriptionListTerm>
          <DescriptionListDescription>{m.name}</DescriptionListDescription>
        </DescriptionListGroup>
        {m.namespace && (
          <DescriptionListGroup>
            <DescriptionListTerm>{t('columns.project')}</DescriptionListTerm>
            <DescriptionListDescription>{m.namespace}</DescriptionListDescription>
          </DescriptionListGroup>
        )}
        <DescriptionListGroup>
          <DescriptionListTerm>{t('detail.kind')}</DescriptionListTerm>
          <DescriptionListDescription>
            {object.kind} <span className="canopy-muted">({object.apiVersion})</span>
          </DescriptionListDescription>
        </DescriptionListGroup>
        {model.columns.map((c) => (
          <DescriptionListGroup key={c.id}>
            <DescriptionListTerm>{c.literal ? c.title : translateKey(c.title)}</DescriptionListTerm>
            <DescriptionListDescription>
              <Cell value={c.value(object, joined)} format={c.format} language={i18n.language} />
            </DescriptionListDescription>
          </DescriptionListGroup>
        ))}
        <DescriptionListGroup>
          <DescriptionListTerm>{t('columns.created')}</DescriptionListTerm>
          <DescriptionListDescription>
            <Cell value={m.creationTimestamp} format="age" language={i18n.language} />
          </DescriptionListDescription>
        </DescriptionListGroup>
        {owners.length > 0 && (
          <DescriptionListGroup>
            <DescriptionListTerm>{t('detail.owners')}</DescriptionListTerm>
            <DescriptionListDescription>
              {owners.map((o) => {
                const owner = modelOfKind(o.apiVersion, o.kind);
                const text = `${o.kind} ${o.name}`;
                return (
                  <div key={o.uid}>
                    {owner ? (
                      <Link to={detailHref(owner, scope, { metadata: { name: o.name, namespace: m.namespace } })}>{text}</Link>
                    ) : (
                      text
                    )}
                  </div>
                );
              })}
            </DescriptionListDescription>
          </DescriptionListGroup>
        )}
        {(model.links ?? []).map((l) => (
          <DescriptionListGroup key={l.title}>
            <DescriptionListTerm>{translateKey(l.title)}</DescriptionListTerm>
            <DescriptionListDescription>
              <Link to={l.href(object, scope)}>{translateKey(l.title)}</Link>
            </DescriptionListDescription>
          </DescriptionListGroup>
        ))}
        <DescriptionListGroup>
          <DescriptionListTerm>{t('detail.labels')}</DescriptionListTerm>
          <DescriptionListDescription>
            <MapLabels map={m.labels} />
          </DescriptionListDescription>
        </DescriptionListGroup>
        <DescriptionListGroup>
          <DescriptionListTerm>{t('detail.annotations')}</DescriptionListTerm>
          <DescriptionListDescription>
            <MapLabels
              map={Object.fromEntries(
                Object.entries(m.annotations ?? {}).filter(([k]) => k !== 'kubectl.kubernetes.io/last-applied-configuration'),
              )}
            />
          </DescriptionListDescription>
        </DescriptionListGroup>
      </DescriptionList>
      <Title headingLevel="h2" size="lg" className="canopy-gap-top">
        {t('detail.conditions')}
      </Title>
      {conditions.length ? (
        <Table aria-label={t('detail.conditions')} variant="compact" gridBreakPoint="">
          <Thead>
            <Tr>
              <Th>{t('columns.type')}</Th>
              <Th>{t('columns.status')}</Th>
              <Th>{t('columns.reason')}</Th>
              <Th>{t('columns.message')}</Th>
              <Th>{t('columns.lastTransition')}</Th>
            </Tr>
          </Thead>
          <Tbody>
            {conditions.map((c) => (
              <Tr key={c.type}>
                <Td>{c.type}</Td>
                <Td>
                  <StatusLabel value={String(c.status)} />
                </Td>
                <Td>{c.reason}</Td>
                <Td>{c.message}</Td>
                <Td>
                  <Cell value={c.lastTransitionTime} format="age" language={i18n.language} />
                </Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
      ) : (
        <p className="canopy-muted">{t('detail.noConditions')}</p>
      )}
    </>
  );
}

function Events({ object, cluster }: { object: K8sObject; cluster: string }) {
  const { t, i18n } = useTranslation();
  const ns = object.metadata.namespace;
  const selector = `involvedObject.uid=${object.metadata.uid}`;
  const path = `${clusterPrefix(cluster)}/api/v1${ns ? `/namespaces/${encodeURIComponent(ns)}` : ''}/events?fieldSelector=${encodeURIComponent(selector)}`;
  const events = useQuery({
    queryKey: ['events', cluster, object.metadata.uid],
    queryFn: () => api<{ items: any[] }>(path),
    refetchInterval: 10_000,
  });
  if (events.isLoading) return <Loading />;
  if (events.isError) return <ErrorState error={events.error} />;
  const items = [...(events.data?.items ?? [])].sort((a, b) =>
    String(b.lastTimestamp ?? b.eventTime ?? '').localeCompare(String(a.lastTimestamp ?? a.eventTime ?? '')),
  );
  if (!items.length) return <p className="canopy-muted canopy-gap-top">{t('detail.noEvents')}</p>;
  return (
    <Table aria-label={t('detail.events')} variant="compact" gridBreakPoint="">
      <Thead>
        <Tr>
          <Th>{t('columns.type')}</Th>
          <Th>{t('columns.reason')}</Th>
          <Th>{t('columns.message')}</Th>
          <Th>{t('columns.count')}</Th>
          <Th>{t('columns.lastSeen')}</Th>
        </Tr>
      </Thead>
      <Tbody>
        {items.map((e) => (
          <Tr key={e.metadata.uid ?? e.metadata.name}>
            <Td>
              {e.type === 'Warning' ? (
                <Label color="orange" isCompact>
                  {t('status.Warning')}
                </Label>
              ) : (
                t('status.Normal')
              )}
            </Td>
            <Td>{e.reason}</Td>
            <Td>{e.message}</Td>
            <Td>{e.count ?? 1}</Td>
            <Td>
              <Cell value={e.lastTimestamp ?? e.eventTime} format="age" language={i18n.language} />
            </Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}

function Related({ model, scope, object }: { model: ResourceModel; scope: Scope; object: K8sObject }) {
  const { t } = useTranslation();
  const relations = (model.relations ?? []).flatMap((r) => {
    const related = registeredModel(r.model);
    const query = r.query(object);
    return related && query ? [{ related, query }] : [];
  });
  if (!relations.length) return <p className="canopy-muted canopy-gap-top">{t('detail.noRelated')}</p>;
  const relatedScope = object.metadata.namespace ? { ...scope, namespace: object.metadata.namespace } : scope;
  return (
    <>
      {relations.map(({ related, query }) => (
        <ResourceList key={related.key + JSON.stringify(query)} model={related} scope={relatedScope} fixed={query} />
      ))}
    </>
  );
}

/** Keeps the object's query current through a watch on its name. */
function useLiveObject(
  model: ResourceModel | undefined,
  scope: Scope,
  namespace: string | undefined,
  name: string,
  enabled: boolean,
): boolean {
  const client = useQueryClient();
  const [deleted, setDeleted] = useState(false);
  useEffect(() => {
    if (!model || !enabled || model.watch === false) return;
    const abort = new AbortController();
    const key = objectQueryKey(model, scope, namespace, name);
    const apiVersion = model.group ? `${model.group}/${model.version}` : model.version;
    void watchCollection(
      kubePath(model, scope.cluster, namespace),
      new URLSearchParams({ fieldSelector: `metadata.name=${name}` }),
      {
        onEvents: (events) => {
          const last = events[events.length - 1];
          if (last.type === 'DELETED') setDeleted(true);
          else {
            setDeleted(false);
            client.setQueryData(key, { apiVersion, kind: model.kind, ...last.object });
          }
        },
        onReset: () => void client.invalidateQueries({ queryKey: key }),
      },
      abort.signal,
    );
    return () => abort.abort();
  }, [client, model, scope, namespace, name, enabled]);
  return deleted;
}

export function ResourceDetail() {
  const { t } = useTranslation();
  const params = useParams();
  const scope = useScope();
  const navigate = useNavigate();
  const [search, setSearch] = useSearchParams();
  const page = params.resource ?? '';
  const name = params.name ?? '';
  const modelQuery = useModel(scope.level, page, scope.cluster);
  const model = modelQuery.data ?? undefined;
  const namespace = model?.namespaced ? scope.namespace : undefined;
  const object = useQuery({
    queryKey: model ? objectQueryKey(model, scope, namespace, name) : ['object', 'pending'],
    queryFn: ({ signal }) => fetchObject(model!, scope, namespace, name, signal),
    enabled: !!model,
  });
  const deleted = useLiveObject(model, scope, namespace, name, object.isSuccess);
  const allowed = useAllowedActions(model, scope);
  const tab = (search.get('tab') as TabKey) || 'overview';
  const { run, dialogs } = useActionDialogs(
    model ?? ({} as ResourceModel),
    scope,
    () => model && navigate(listHref(model, scope)),
  );

  if (modelQuery.isLoading) return <Loading />;
  if (modelQuery.isError) return <ErrorState error={modelQuery.error} />;
  if (!model) return <NotFound detail={t('states.unknownResource', { resource: page })} />;
  const title = modelTitle(model);
  const setTab = (key: TabKey) => {
    const next = new URLSearchParams(search);
    if (key === 'overview') next.delete('tab');
    else next.set('tab', key);
    next.delete('edit');
    setSearch(next, { replace: true });
  };

  return (
    <>
      <PageSection>
        <Breadcrumb>
          <BreadcrumbItem
            render={({ className }) => (
              <Link className={className} to={listHref(model, scope)}>
                {title}
              </Link>
            )}
          />
          <BreadcrumbItem isActive>{name}</BreadcrumbItem>
        </Breadcrumb>
        <Flex className="canopy-gap-top" alignItems={{ default: 'alignItemsCenter' }}>
          <FlexItem>
            <Title headingLevel="h1" data-testid="page-title">
              {name}
            </Title>
          </FlexItem>
          <FlexItem>
            <Label isCompact>{model.kind}</Label>
          </FlexItem>
          <FlexItem align={{ default: 'alignRight' }}>
            {object.data && <ActionsMenu actions={allowed} object={object.data} onAction={run} label={t('actions.title')} />}
          </FlexItem>
        </Flex>
        {deleted && <Alert isInline variant="warning" title={t('detail.deleted')} className="canopy-gap-top" />}
      </PageSection>
      <PageSection isFilled>
        {object.isLoading ? (
          <Loading />
        ) : object.isError ? (
          <ErrorState error={object.error} />
        ) : (
          object.data && (
            <Tabs
              activeKey={tab}
              onSelect={(_e, key) => setTab(key as TabKey)}
              aria-label={t('detail.tabs')}
              mountOnEnter
              unmountOnExit
            >
              {[
                <Tab key="overview" eventKey="overview" title={<TabTitleText>{t('detail.overview')}</TabTitleText>}>
                  <Overview model={model} scope={scope} object={object.data} />
                </Tab>,
                ...(model.detailTabs ?? []).map((extra) => (
                  <Tab key={extra} eventKey={extra} title={<TabTitleText>{t(`detail.${extra}`)}</TabTitleText>}>
                    <Suspense fallback={<Loading />}>
                      {extra === 'logs' && <PodLogs pod={object.data!} cluster={scope.cluster} />}
                      {extra === 'terminal' && <PodTerminal pod={object.data!} cluster={scope.cluster} />}
                      {extra === 'loginRecords' && <LoginRecords user={object.data!} />}
                      {extra === 'roleTemplates' && <RoleTemplatesTab model={model} scope={scope} role={object.data!} />}
                      {extra === 'usage' && <NodeUsage node={object.data!} scope={scope} />}
                    </Suspense>
                  </Tab>
                )),
                <Tab key="events" eventKey="events" title={<TabTitleText>{t('detail.events')}</TabTitleText>}>
                  <Events object={object.data} cluster={scope.cluster} />
                </Tab>,
                <Tab key="related" eventKey="related" title={<TabTitleText>{t('detail.related')}</TabTitleText>}>
                  <Related model={model} scope={scope} object={object.data} />
                </Tab>,
                <Tab key="yaml" eventKey="yaml" title={<TabTitleText>{t('detail.yaml')}</TabTitleText>}>
                  <Suspense fallback={<Loading />}>
                    <YamlEditor
                      model={model}
                      scope={scope}
                      object={object.data}
                      editable={allowed.includes('editYaml')}
                      startEditing={search.get('edit') === '1'}
                    />
                  </Suspense>
                </Tab>,
              ]}
            </Tabs>
          )
        )}
      </PageSection>
      {dialogs}
    </>
  );
}
