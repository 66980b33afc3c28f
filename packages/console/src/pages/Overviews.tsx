/**
 * Overviews of the cluster, a workspace and a project: what is there (counts through the
 * resources API, each card a link to its list) and the level's own object. Node usage and
 * health charts come with metrics.
 */
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import {
  Card,
  CardBody,
  CardTitle,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  Gallery,
  PageSection,
  Title,
} from '@patternfly/react-core';
import { api, isApiError } from '../api/http';
import { countOf } from '../api/resources';
import { clusterPrefix, registeredModel } from '../models/registry';
import { levelBase } from '../layout/navigation';
import { useScope } from '../layout/scope';
import { Cell, StatusLabel } from '../components/format';
import { ErrorState, Loading } from '../components/States';
import { modelTitle } from '../models/title';
import type { K8sObject, Scope } from '../models/types';

interface CountSpec {
  model: string;
  /** Page segment the card links to. */
  page: string;
  filters?: Record<string, string>;
  title?: string;
}

function CountCard({ spec, scope }: { spec: CountSpec; scope: Scope }) {
  const { t } = useTranslation();
  const model = registeredModel(spec.model)!;
  const count = useQuery({
    queryKey: ['count', spec.model, scope.cluster, scope.workspace ?? '', scope.namespace ?? '', spec.filters ?? {}],
    queryFn: () => countOf(model, scope, spec.filters),
    refetchInterval: 15_000,
  });
  const title = spec.title ?? modelTitle(model);
  const value = count.isLoading
    ? '…'
    : count.isError
      ? isApiError(count.error) && count.error.forbidden
        ? t('overview.noAccess')
        : '—'
      : String(count.data);
  return (
    <Card isCompact component="div">
      <CardTitle>
        <Link to={`${levelBase(scope)}/${spec.page}`}>{title}</Link>
      </CardTitle>
      <CardBody>
        <span className="canopy-count" aria-label={t('overview.countOf', { what: title, count: value })}>
          {value}
        </span>
      </CardBody>
    </Card>
  );
}

function Counts({ specs, scope }: { specs: CountSpec[]; scope: Scope }) {
  const { t } = useTranslation();
  return (
    <section aria-label={t('overview.resources')}>
      <Gallery hasGutter minWidths={{ default: '12rem' }}>
        {specs.map((s) => (
          <CountCard key={s.page + JSON.stringify(s.filters ?? {})} spec={s} scope={scope} />
        ))}
      </Gallery>
    </section>
  );
}

function Facts({ facts }: { facts: [string, React.ReactNode][] }) {
  return (
    <DescriptionList isHorizontal isCompact className="canopy-gap-bottom">
      {facts.map(([term, value]) => (
        <DescriptionListGroup key={term}>
          <DescriptionListTerm>{term}</DescriptionListTerm>
          <DescriptionListDescription>{value ?? '—'}</DescriptionListDescription>
        </DescriptionListGroup>
      ))}
    </DescriptionList>
  );
}

function Header({ title, name }: { title: string; name: string }) {
  return (
    <PageSection>
      <Title headingLevel="h1" data-testid="page-title">
        {title}: {name}
      </Title>
    </PageSection>
  );
}

export function ClusterOverview() {
  const { t, i18n } = useTranslation();
  const scope = useScope();
  const version = useQuery({
    queryKey: ['version', scope.cluster],
    queryFn: () => api<{ gitVersion: string; platform?: string }>(`${clusterPrefix(scope.cluster)}/version`),
  });
  return (
    <>
      <Header title={t('overview.cluster')} name={scope.cluster} />
      <PageSection isFilled>
        <Facts
          facts={[
            [t('overview.kubernetesVersion'), version.data?.gitVersion],
            [t('overview.platform'), version.data?.platform],
            [t('overview.language'), i18n.language === 'zh' ? '中文' : 'English'],
          ]}
        />
        <Counts
          scope={scope}
          specs={[
            { model: 'nodes', page: 'nodes' },
            { model: 'projects', page: 'projects' },
            { model: 'deployments', page: 'deployments' },
            { model: 'statefulsets', page: 'statefulsets' },
            { model: 'daemonsets', page: 'daemonsets' },
            { model: 'pods', page: 'pods' },
            { model: 'pods', page: 'pods?phase=Running', filters: { phase: 'Running' }, title: t('overview.runningPods') },
            { model: 'services', page: 'services' },
            { model: 'persistentvolumeclaims', page: 'persistentvolumeclaims' },
            { model: 'customresourcedefinitions', page: 'customresourcedefinitions' },
          ]}
        />
      </PageSection>
    </>
  );
}

export function WorkspaceOverview() {
  const { t, i18n } = useTranslation();
  const scope = useScope();
  const ws = scope.workspace ?? '';
  const workspace = useQuery({
    queryKey: ['workspace', ws],
    queryFn: () => api<K8sObject>(`/apis/tenant.kubesphere.io/v1beta1/workspacetemplates/${encodeURIComponent(ws)}`),
  });
  return (
    <>
      <Header title={t('overview.workspace')} name={ws} />
      <PageSection isFilled>
        {workspace.isLoading ? (
          <Loading />
        ) : workspace.isError && !(isApiError(workspace.error) && workspace.error.forbidden) ? (
          <ErrorState error={workspace.error} />
        ) : (
          <Facts
            facts={[
              [t('columns.manager'), workspace.data?.spec?.template?.spec?.manager],
              [t('columns.description'), workspace.data?.metadata.annotations?.['kubesphere.io/description']],
              [
                t('columns.created'),
                <Cell key="c" value={workspace.data?.metadata.creationTimestamp} format="age" language={i18n.language} />,
              ],
            ]}
          />
        )}
        <Counts
          scope={scope}
          specs={[
            { model: 'projects', page: 'projects', filters: { labelSelector: `kubesphere.io/workspace=${ws}` } },
            { model: 'workspacemembers', page: 'members' },
            { model: 'workspaceroles', page: 'roles', filters: { labelSelector: `kubesphere.io/workspace=${ws}` } },
          ]}
        />
      </PageSection>
    </>
  );
}

export function ProjectOverview() {
  const { t, i18n } = useTranslation();
  const scope = useScope();
  const ns = scope.namespace ?? '';
  const namespace = useQuery({
    queryKey: ['namespace', scope.cluster, ns],
    queryFn: () => api<K8sObject>(`${clusterPrefix(scope.cluster)}/api/v1/namespaces/${encodeURIComponent(ns)}`),
  });
  return (
    <>
      <Header title={t('overview.project')} name={ns} />
      <PageSection isFilled>
        {namespace.isLoading ? (
          <Loading />
        ) : namespace.isError ? (
          <ErrorState error={namespace.error} />
        ) : (
          <Facts
            facts={[
              [t('columns.status'), namespace.data?.status?.phase && <StatusLabel value={namespace.data.status.phase} />],
              [t('columns.workspace'), namespace.data?.metadata.labels?.['kubesphere.io/workspace']],
              [
                t('columns.created'),
                <Cell key="c" value={namespace.data?.metadata.creationTimestamp} format="age" language={i18n.language} />,
              ],
            ]}
          />
        )}
        <Counts
          scope={scope}
          specs={[
            { model: 'deployments', page: 'deployments' },
            { model: 'statefulsets', page: 'statefulsets' },
            { model: 'daemonsets', page: 'daemonsets' },
            { model: 'jobs', page: 'jobs' },
            { model: 'pods', page: 'pods' },
            { model: 'pods', page: 'pods?phase=Running', filters: { phase: 'Running' }, title: t('overview.runningPods') },
            { model: 'services', page: 'services' },
            { model: 'persistentvolumeclaims', page: 'persistentvolumeclaims' },
            { model: 'namespacemembers', page: 'members' },
          ]}
        />
      </PageSection>
    </>
  );
}
