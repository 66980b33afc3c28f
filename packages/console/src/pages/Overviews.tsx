/**
 * Overviews of the cluster, a workspace and a project. The cluster's: node health and pods by
 * phase (live, from watches), CPU and memory — capacity and allocatable summed over nodes, what
 * scheduled pods request, and usage from metrics.k8s.io (read every 15 s: metrics are computed on
 * each read and cannot be watched). A project's: its pods' usage (PodMetrics) and requests against
 * its ResourceQuota. A workspace's: its quota and its projects. Below, counts through the
 * resources API, each card a link to its list. Whatever the user may not read, or the cluster
 * does not serve (no metrics API), is said in place; the rest of the page still works.
 */
import { useMemo } from 'react';
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
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { api, isApiError } from '../api/http';
import { countOf, fetchList, DEFAULT_LIST_PARAMS } from '../api/resources';
import { useWatchedCollection, type WatchedCollection } from '../api/collection';
import { parseQuantity, unitOf } from '../api/quantity';
import {
  nodeMetricsPath,
  phaseCounts,
  plus,
  podMetricsPath,
  requestedBy,
  summarizeNode,
  summarizePod,
  totalUsage,
  usageProblem,
  useMetricsList,
  ZERO,
  METRICS_REFRESH_MS,
  type CpuMemory,
  type NodeSummary,
} from '../api/usage';
import { clusterPrefix, projectBase, registeredModel } from '../models/registry';
import { levelBase } from '../layout/navigation';
import { useScope } from '../layout/scope';
import { Cell, StatusLabel } from '../components/format';
import { ErrorState, Loading } from '../components/States';
import { UsageBar, UsageUnavailable, useAmount } from '../components/Usage';
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

// --- live figures -------------------------------------------------------------------------------

/** A figure from a watched collection: "…" while listing, "No access" when refused. */
function useFigure() {
  const { t } = useTranslation();
  return (collection: WatchedCollection<unknown>, value: () => number): string =>
    collection.state === 'loading'
      ? '…'
      : collection.state === 'error'
        ? isApiError(collection.error) && collection.error.forbidden
          ? t('overview.noAccess')
          : '—'
        : String(value());
}

function FigureCard({ title, value, to, testId }: { title: string; value: string; to?: string; testId: string }) {
  const { t } = useTranslation();
  return (
    <Card isCompact component="div">
      <CardTitle>{to ? <Link to={to}>{title}</Link> : title}</CardTitle>
      <CardBody>
        <span className="canopy-count" data-testid={testId} aria-label={t('overview.countOf', { what: title, count: value })}>
          {value}
        </span>
      </CardBody>
    </Card>
  );
}

const POD_PHASES = ['Running', 'Pending', 'Failed'] as const;

/** Pods by phase, live; each figure links to the pod list filtered by that phase. */
function PodPhases({ pods, base }: { pods: WatchedCollection<ReturnType<typeof summarizePod>>; base: string }) {
  const { t } = useTranslation();
  const figure = useFigure();
  const counts = useMemo(() => phaseCounts(pods.items.values()), [pods.items]);
  return (
    <>
      {POD_PHASES.map((phase) => (
        <FigureCard
          key={phase}
          title={t(`usage.pods${phase}`)}
          value={figure(pods, () => counts[phase] ?? 0)}
          to={`${base}/pods?phase=${phase}`}
          testId={`pods-${phase.toLowerCase()}`}
        />
      ))}
    </>
  );
}

/** A measured amount, and the whole it is a part of when there is one (allocatable, a quota). */
interface Measure {
  value?: number;
  whole?: { total: number; title: string };
}

/**
 * CPU or memory: usage and requests as bars against their whole, or as plain figures without
 * one; then facts (allocatable, capacity). Absent values (not readable) are left out.
 */
function ResourceCard({
  resource,
  testPrefix,
  usage,
  requests,
  facts = [],
}: {
  resource: 'cpu' | 'memory';
  testPrefix: string;
  usage: Measure;
  requests: Measure;
  facts?: { id: string; term: string; value: number }[];
}) {
  const { t } = useTranslation();
  const amount = useAmount();
  const unit = resource === 'cpu' ? 'cores' : 'bytes';
  const measures = (
    [
      ['usage', usage],
      ['requests', requests],
    ] as const
  ).filter(([, m]) => m.value !== undefined);
  const bars = measures.filter(([, m]) => m.whole && m.whole.total > 0);
  const figures = [
    ...measures
      .filter(([, m]) => !(m.whole && m.whole.total > 0))
      .map(([id, m]) => ({ id, term: t(`usage.${id}`), value: m.value! })),
    ...facts,
  ];
  return (
    <Card component="div" aria-label={t(`usage.${resource}`)}>
      <CardTitle>{t(`usage.${resource}`)}</CardTitle>
      <CardBody>
        {bars.map(([id, m]) => (
          <UsageBar
            key={id}
            title={m.whole!.title}
            used={m.value!}
            total={m.whole!.total}
            unit={unit}
            data-testid={`${testPrefix}-${resource}-${id}`}
          />
        ))}
        <DescriptionList isHorizontal isCompact>
          {figures.map(({ id, term, value }) => (
            <DescriptionListGroup key={id}>
              <DescriptionListTerm>{term}</DescriptionListTerm>
              <DescriptionListDescription data-testid={`${testPrefix}-${resource}-${id}`}>
                {amount(value, unit)}
              </DescriptionListDescription>
            </DescriptionListGroup>
          ))}
        </DescriptionList>
      </CardBody>
    </Card>
  );
}

/** Where usage comes from and how often it is read; or why it cannot be shown. */
function UsageSource({ metrics }: { metrics: ReturnType<typeof useMetricsList> }) {
  const { t } = useTranslation();
  if (metrics.isError) return <UsageUnavailable problem={usageProblem(metrics.error)} />;
  return (
    <p className="canopy-muted canopy-usage-note" data-testid="usage-source">
      {metrics.isLoading ? t('states.loading') : t('usage.source', { seconds: METRICS_REFRESH_MS / 1000 })}
    </p>
  );
}

/** A quota's resources as bars, used against hard. */
function QuotaBars({ hard, used, testId }: { hard: Record<string, string>; used: Record<string, string>; testId: string }) {
  const { t } = useTranslation();
  const entries = Object.entries(hard).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section aria-label={t('usage.quota')} data-testid={testId}>
      {entries.map(([resource, limit]) => (
        <UsageBar
          key={resource}
          title={resource}
          used={parseQuantity(used[resource]) ?? 0}
          total={parseQuantity(limit) ?? 0}
          unit={unitOf(resource)}
        />
      ))}
    </section>
  );
}

// --- the cluster --------------------------------------------------------------------------------

function sumNodes(nodes: Iterable<NodeSummary>): {
  capacity: CpuMemory;
  allocatable: CpuMemory;
  ready: number;
  notReady: number;
} {
  let capacity = ZERO;
  let allocatable = ZERO;
  let ready = 0;
  let notReady = 0;
  for (const n of nodes) {
    capacity = plus(capacity, n.capacity);
    allocatable = plus(allocatable, n.allocatable);
    if (n.ready) ready++;
    else notReady++;
  }
  return { capacity, allocatable, ready, notReady };
}

function ClusterResources({ scope }: { scope: Scope }) {
  const { t } = useTranslation();
  const figure = useFigure();
  const prefix = clusterPrefix(scope.cluster);
  const nodes = useWatchedCollection(`${prefix}/api/v1/nodes`, summarizeNode);
  const pods = useWatchedCollection(`${prefix}/api/v1/pods`, summarizePod);
  const metrics = useMetricsList(nodeMetricsPath(scope.cluster));
  const totals = useMemo(() => sumNodes(nodes.items.values()), [nodes.items]);
  const requests = useMemo(() => requestedBy(pods.items.values()), [pods.items]);
  const usage = totalUsage(metrics.data);
  const base = levelBase(scope);
  const nodesKnown = nodes.state === 'ready';
  const card = (resource: 'cpu' | 'memory') => (
    <ResourceCard
      resource={resource}
      testPrefix="cluster"
      usage={{
        value: nodesKnown ? usage?.[resource] : undefined,
        whole: { total: totals.allocatable[resource], title: t('usage.usageOfAllocatable') },
      }}
      requests={{
        value: nodesKnown && pods.state === 'ready' ? requests[resource] : undefined,
        whole: { total: totals.allocatable[resource], title: t('usage.requestsOfAllocatable') },
      }}
      facts={
        nodesKnown
          ? [
              { id: 'allocatable', term: t('usage.allocatable'), value: totals.allocatable[resource] },
              { id: 'capacity', term: t('usage.capacity'), value: totals.capacity[resource] },
            ]
          : []
      }
    />
  );
  return (
    <>
      <section aria-label={t('usage.health')} className="canopy-gap-bottom">
        <Title headingLevel="h2" size="lg" className="canopy-gap-bottom">
          {t('usage.health')}
        </Title>
        <Gallery hasGutter minWidths={{ default: '12rem' }}>
          <FigureCard
            title={t('usage.nodesReady')}
            value={figure(nodes, () => totals.ready)}
            to={`${base}/nodes`}
            testId="nodes-ready"
          />
          <FigureCard
            title={t('usage.nodesNotReady')}
            value={figure(nodes, () => totals.notReady)}
            to={`${base}/nodes`}
            testId="nodes-not-ready"
          />
          <PodPhases pods={pods} base={base} />
        </Gallery>
      </section>
      <section aria-label={t('usage.resources')} className="canopy-gap-bottom">
        <Title headingLevel="h2" size="lg" className="canopy-gap-bottom">
          {t('usage.resources')}
        </Title>
        <UsageSource metrics={metrics} />
        {nodes.state === 'error' ? (
          <p className="canopy-muted">{t('usage.noNodes')}</p>
        ) : (
          <Gallery hasGutter minWidths={{ default: '22rem' }}>
            {card('cpu')}
            {card('memory')}
          </Gallery>
        )}
      </section>
    </>
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
        <ClusterResources scope={scope} />
        <Title headingLevel="h2" size="lg" className="canopy-gap-bottom">
          {t('overview.resources')}
        </Title>
        <Counts
          scope={scope}
          specs={[
            { model: 'nodes', page: 'nodes' },
            { model: 'projects', page: 'projects' },
            { model: 'deployments', page: 'deployments' },
            { model: 'statefulsets', page: 'statefulsets' },
            { model: 'daemonsets', page: 'daemonsets' },
            { model: 'pods', page: 'pods' },
            { model: 'services', page: 'services' },
            { model: 'persistentvolumeclaims', page: 'persistentvolumeclaims' },
            { model: 'customresourcedefinitions', page: 'customresourcedefinitions' },
          ]}
        />
      </PageSection>
    </>
  );
}

// --- a workspace --------------------------------------------------------------------------------

/** The workspace's quota (quota.kubesphere.io, named after it): bars of used against hard, or that there is none. */
function WorkspaceQuotaBars({ ws }: { ws: string }) {
  const { t } = useTranslation();
  const quota = useQuery({
    queryKey: ['workspace-quota', ws],
    queryFn: () =>
      api<K8sObject>(
        `/kapis/tenant.kubesphere.io/v1beta1/workspaces/${encodeURIComponent(ws)}/resourcequotas/${encodeURIComponent(ws)}`,
      ),
    retry: false,
    refetchInterval: 30_000,
  });
  if (quota.isLoading) return <Loading />;
  if (quota.isError)
    return (
      <p className="canopy-muted" data-testid="workspace-quota-none">
        {isApiError(quota.error) && quota.error.notFound
          ? t('usage.noQuota')
          : isApiError(quota.error) && quota.error.forbidden
            ? t('overview.noAccess')
            : (quota.error as Error).message}
      </p>
    );
  return (
    <QuotaBars
      hard={(quota.data?.spec?.quota?.hard ?? {}) as Record<string, string>}
      used={(quota.data?.status?.total?.used ?? {}) as Record<string, string>}
      testId="workspace-quota"
    />
  );
}

function ProjectRow({ scope, project }: { scope: Scope; project: K8sObject }) {
  const pods = registeredModel('pods')!;
  const ns = project.metadata.name;
  const projectScope: Scope = { level: 'project', cluster: scope.cluster, workspace: scope.workspace, namespace: ns };
  const count = (filters: Record<string, string>) => ({
    queryKey: ['count', 'pods', scope.cluster, scope.workspace ?? '', ns, filters],
    queryFn: () => countOf(pods, projectScope, filters),
    refetchInterval: 15_000,
    retry: false,
  });
  const all = useQuery(count({}));
  const running = useQuery(count({ phase: 'Running' }));
  const shown = (q: typeof all) => (q.isLoading ? '…' : q.isError ? '—' : String(q.data));
  return (
    <Tr>
      <Td>
        <Link to={`${projectBase(scope, ns)}/overview`}>{ns}</Link>
      </Td>
      <Td>{project.status?.phase && <StatusLabel value={project.status.phase} />}</Td>
      <Td>{shown(running)}</Td>
      <Td>{shown(all)}</Td>
    </Tr>
  );
}

const WORKSPACE_PROJECTS_SHOWN = 20;

/** The workspace's projects with their pods; the full list is one link away. */
function WorkspaceProjects({ scope }: { scope: Scope }) {
  const { t } = useTranslation();
  const model = registeredModel('projects')!;
  const projects = useQuery({
    queryKey: ['workspace-projects', scope.workspace],
    queryFn: () =>
      fetchList(model, scope, { ...DEFAULT_LIST_PARAMS, sortBy: 'name', ascending: true, limit: WORKSPACE_PROJECTS_SHOWN }),
    refetchInterval: 15_000,
  });
  if (projects.isLoading) return <Loading />;
  if (projects.isError) return <p className="canopy-muted">{(projects.error as Error).message}</p>;
  const items = projects.data?.items ?? [];
  if (!items.length) return <p className="canopy-muted">{t('usage.noProjects')}</p>;
  return (
    <>
      <Table aria-label={t('nav.projects')} variant="compact" gridBreakPoint="" data-testid="workspace-projects">
        <Thead>
          <Tr>
            <Th>{t('columns.name')}</Th>
            <Th>{t('columns.status')}</Th>
            <Th>{t('usage.podsRunning')}</Th>
            <Th>{t('kinds.pods')}</Th>
          </Tr>
        </Thead>
        <Tbody>
          {items.map((p) => (
            <ProjectRow key={p.metadata.name} scope={scope} project={p} />
          ))}
        </Tbody>
      </Table>
      {(projects.data?.totalItems ?? 0) > items.length && (
        <Link to={`${levelBase(scope)}/projects`}>{t('usage.allProjects', { count: projects.data!.totalItems })}</Link>
      )}
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
        <Title headingLevel="h2" size="lg" className="canopy-gap-bottom">
          {t('usage.quota')}
        </Title>
        <WorkspaceQuotaBars ws={ws} />
        <Title headingLevel="h2" size="lg" className="canopy-gap-bottom canopy-gap-top">
          {t('nav.projects')}
        </Title>
        <WorkspaceProjects scope={scope} />
        <Title headingLevel="h2" size="lg" className="canopy-gap-bottom canopy-gap-top">
          {t('overview.resources')}
        </Title>
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

// --- a project ----------------------------------------------------------------------------------

interface QuotaSummary {
  hard: Record<string, string>;
  used: Record<string, string>;
}

const summarizeQuota = (q: K8sObject): QuotaSummary => ({
  hard: (q.status?.hard ?? q.spec?.hard ?? {}) as Record<string, string>,
  used: (q.status?.used ?? {}) as Record<string, string>,
});

/** Several quotas in a namespace all apply: the tightest limit of each resource counts. */
function combineQuotas(quotas: Iterable<QuotaSummary>): QuotaSummary {
  const hard: Record<string, string> = {};
  const used: Record<string, string> = {};
  for (const q of quotas)
    for (const [resource, limit] of Object.entries(q.hard)) {
      if (!(resource in hard) || (parseQuantity(limit) ?? Infinity) < (parseQuantity(hard[resource]) ?? Infinity)) {
        hard[resource] = limit;
      }
      if (q.used[resource] !== undefined) used[resource] = q.used[resource];
    }
  return { hard, used };
}

/** The quota resource a figure is measured against: the first the quota limits. */
function quotaWhole(quota: QuotaSummary, resources: string[], title: (resource: string) => string) {
  const resource = resources.find((r) => quota.hard[r] !== undefined);
  const total = resource ? parseQuantity(quota.hard[resource]) : undefined;
  return resource && total ? { total, title: title(resource) } : undefined;
}

function ProjectResources({ scope }: { scope: Scope }) {
  const { t } = useTranslation();
  const ns = scope.namespace ?? '';
  const prefix = clusterPrefix(scope.cluster);
  const pods = useWatchedCollection(`${prefix}/api/v1/namespaces/${encodeURIComponent(ns)}/pods`, summarizePod);
  const quotas = useWatchedCollection(`${prefix}/api/v1/namespaces/${encodeURIComponent(ns)}/resourcequotas`, summarizeQuota);
  const metrics = useMetricsList(podMetricsPath(scope.cluster, ns));
  const requests = useMemo(() => requestedBy(pods.items.values()), [pods.items]);
  const quota = useMemo(() => combineQuotas(quotas.items.values()), [quotas.items]);
  const usage = totalUsage(metrics.data);
  const hasQuota = Object.keys(quota.hard).length > 0;
  const card = (resource: 'cpu' | 'memory') => (
    <ResourceCard
      resource={resource}
      testPrefix="project"
      usage={{
        value: usage?.[resource],
        whole: quotaWhole(quota, [`limits.${resource}`, `requests.${resource}`, resource], (r) =>
          t('usage.usageOfQuota', { resource: r }),
        ),
      }}
      requests={{
        value: pods.state === 'ready' ? requests[resource] : undefined,
        whole: quotaWhole(quota, [`requests.${resource}`, resource], (r) => t('usage.requestsOfQuota', { resource: r })),
      }}
    />
  );
  return (
    <>
      <section aria-label={t('usage.health')} className="canopy-gap-bottom">
        <Title headingLevel="h2" size="lg" className="canopy-gap-bottom">
          {t('usage.health')}
        </Title>
        <Gallery hasGutter minWidths={{ default: '12rem' }}>
          <PodPhases pods={pods} base={levelBase(scope)} />
        </Gallery>
      </section>
      <section aria-label={t('usage.resources')} className="canopy-gap-bottom">
        <Title headingLevel="h2" size="lg" className="canopy-gap-bottom">
          {t('usage.podUsage')}
        </Title>
        <UsageSource metrics={metrics} />
        <Gallery hasGutter minWidths={{ default: '22rem' }}>
          {card('cpu')}
          {card('memory')}
        </Gallery>
      </section>
      <section aria-label={t('usage.quota')} className="canopy-gap-bottom">
        <Title headingLevel="h2" size="lg" className="canopy-gap-bottom">
          {t('usage.quota')}
        </Title>
        {quotas.state === 'loading' ? (
          <Loading />
        ) : hasQuota ? (
          <QuotaBars hard={quota.hard} used={quota.used} testId="project-quota" />
        ) : (
          <p className="canopy-muted" data-testid="project-quota-none">
            {quotas.state === 'error' ? t('overview.noAccess') : t('usage.noQuota')}
          </p>
        )}
      </section>
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
        <ProjectResources scope={scope} />
        <Title headingLevel="h2" size="lg" className="canopy-gap-bottom">
          {t('overview.resources')}
        </Title>
        <Counts
          scope={scope}
          specs={[
            { model: 'deployments', page: 'deployments' },
            { model: 'statefulsets', page: 'statefulsets' },
            { model: 'daemonsets', page: 'daemonsets' },
            { model: 'jobs', page: 'jobs' },
            { model: 'pods', page: 'pods' },
            { model: 'services', page: 'services' },
            { model: 'persistentvolumeclaims', page: 'persistentvolumeclaims' },
            { model: 'namespacemembers', page: 'members' },
          ]}
        />
      </PageSection>
    </>
  );
}
