/**
 * The resource models of the kinds the console knows by name. Everything a list or detail page
 * shows of a kind is here, as data; pages have no per-kind code. Kinds not listed here get a
 * model from discovery (discovery.ts).
 */
import i18n from '../i18n';
import { parseQuantity } from '../api/quantity';
import type { Column, Join, K8sObject, ResourceModel, Scope } from './types';

const RESOURCES_API = '/kapis/resources.kubesphere.io/v1alpha3';
const IAM_API = '/kapis/iam.kubesphere.io/v1beta1';
const TENANT_API = '/kapis/tenant.kubesphere.io/v1beta1';

/** `/clusters/<name>` for member clusters; the host cluster is addressed without a prefix. */
export function clusterPrefix(cluster: string): string {
  return !cluster || cluster === 'host' ? '' : `/clusters/${encodeURIComponent(cluster)}`;
}

/** The base path of a project's pages: inside its workspace when known, else under the cluster. */
export function projectBase(scope: Scope, namespace: string): string {
  const cluster = encodeURIComponent(scope.cluster || 'host');
  const ns = encodeURIComponent(namespace);
  return scope.workspace
    ? `/workspaces/${encodeURIComponent(scope.workspace)}/clusters/${cluster}/projects/${ns}`
    : `/clusters/${cluster}/projects/${ns}`;
}

// --- column helpers ---------------------------------------------------------------------------

const text = (
  id: string,
  title: string,
  value: (o: K8sObject) => string | number | undefined,
  format: Column['format'] = 'text',
): Column => ({ id, title, value, format });
const status = (value: (o: K8sObject) => string | undefined): Column => ({
  id: 'status',
  title: 'columns.status',
  value,
  format: 'status',
});
const condition = (o: K8sObject, type: string): string | undefined =>
  (o.status?.conditions ?? []).find((c: any) => c.type === type)?.status;
const count = (v: unknown): number => (v && typeof v === 'object' ? Object.keys(v).length : 0);
const replicas = (o: K8sObject, ready = 'readyReplicas') => `${o.status?.[ready] ?? 0}/${o.spec?.replicas ?? 0}`;
const images = (o: K8sObject) => ((o.spec?.template?.spec?.containers ?? []) as any[]).map((c) => c.image).join(', ');

/** A workload's state as KubeSphere words it: stopped at 0 replicas, updating until all are ready. */
function workloadStatus(o: K8sObject, desired: number, ready: number): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  if (desired === 0) return 'Stopped';
  return ready >= desired ? 'Running' : 'Updating';
}

export function podStatus(o: K8sObject): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  const waiting = ((o.status?.containerStatuses ?? []) as any[]).find((c) => c.state?.waiting?.reason)?.state.waiting.reason;
  const terminated = ((o.status?.containerStatuses ?? []) as any[]).find(
    (c) => c.state?.terminated?.reason && o.status?.phase !== 'Succeeded',
  )?.state.terminated.reason;
  return waiting ?? terminated ?? o.status?.reason ?? o.status?.phase ?? 'Pending';
}

function nodeRoles(o: K8sObject): string {
  const roles = Object.keys(o.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length));
  return roles.join(', ');
}

/**
 * A description as KubeSphere keeps it: plain text, or (built-in roles) JSON with one text per
 * language, of which the console's language is shown.
 */
export function localizedText(raw: string | undefined): string | undefined {
  if (!raw || !raw.startsWith('{')) return raw;
  try {
    const texts = JSON.parse(raw) as Record<string, unknown>;
    const text = texts[i18n.language] ?? texts.en;
    return typeof text === 'string' ? text : raw;
  } catch {
    return raw;
  }
}

const description = (o: K8sObject) => localizedText(o.metadata.annotations?.['kubesphere.io/description']);

/** A node's NodeMetrics (metrics.k8s.io), read every 15 s: usage is measured, not watched. */
const NODE_METRICS: Join = {
  id: 'metrics',
  group: 'metrics.k8s.io',
  version: 'v1beta1',
  plural: 'nodes',
  namespaced: false,
  refreshMs: 15_000,
};

/** Usage from the joined metrics as a percentage of the node's allocatable (as `kubectl top node`). */
const usageShare = (id: string, title: string, resource: 'cpu' | 'memory'): Column => ({
  id,
  title,
  format: 'percent',
  value: (o, joined) => {
    const used = parseQuantity(joined?.metrics?.usage?.[resource]);
    const allocatable = parseQuantity(o.status?.allocatable?.[resource]);
    return used === undefined || !allocatable ? undefined : Math.round((used / allocatable) * 100);
  },
});

// --- the models -------------------------------------------------------------------------------

type Spec = Omit<ResourceModel, 'key' | 'actions' | 'columns'> & Partial<Pick<ResourceModel, 'key' | 'actions' | 'columns'>>;

function model(spec: Spec): ResourceModel {
  return { key: spec.plural, actions: ['editYaml', 'delete'], columns: [], ...spec };
}

const ownedPods = { model: 'pods', query: (o: K8sObject) => ({ ownerReference: o.metadata.uid ?? '' }) };
const selectedPods = {
  model: 'pods',
  query: (o: K8sObject) => {
    const labels = o.spec?.selector?.matchLabels as Record<string, string> | undefined;
    return labels && Object.keys(labels).length
      ? {
          labelSelector: Object.entries(labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
        }
      : undefined;
  },
};

/** Roles at every scope show their description (KubeSphere keeps it in an annotation). */
const roleColumns: Column[] = [text('description', 'columns.description', description)];

const memberColumns = (annotation: string): Column[] => [
  text('role', 'columns.role', (o) => o.metadata.annotations?.[annotation]),
  text('email', 'columns.email', (o) => o.spec?.email),
  status((o) => o.status?.state),
];

export const models: ResourceModel[] = [
  model({
    group: '',
    version: 'v1',
    plural: 'pods',
    kind: 'Pod',
    namespaced: true,
    title: 'kinds.pods',
    module: 'pods',
    detailTabs: ['logs', 'terminal'],
    actions: ['delete'],
    columns: [
      status(podStatus),
      text('ready', 'columns.ready', (o) => {
        const statuses = (o.status?.containerStatuses ?? []) as any[];
        return `${statuses.filter((c) => c.ready).length}/${(o.spec?.containers ?? []).length}`;
      }),
      text('restarts', 'columns.restarts', (o) =>
        ((o.status?.containerStatuses ?? []) as any[]).reduce((n, c) => n + (c.restartCount ?? 0), 0),
      ),
      text('node', 'columns.node', (o) => o.spec?.nodeName),
      text('podIP', 'columns.podIP', (o) => o.status?.podIP, 'mono'),
    ],
    filters: [
      {
        key: 'phase',
        title: 'columns.status',
        options: ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'].map((p) => ({ value: p, title: `status.${p}` })),
      },
    ],
  }),
  model({
    group: 'apps',
    version: 'v1',
    plural: 'deployments',
    kind: 'Deployment',
    namespaced: true,
    title: 'kinds.deployments',
    module: 'deployments',
    form: 'deployment',
    scalable: true,
    actions: ['edit', 'scale', 'restart', 'rollback', 'editYaml', 'delete'],
    columns: [
      status((o) => workloadStatus(o, o.spec?.replicas ?? 0, o.status?.availableReplicas ?? 0)),
      text('replicas', 'columns.replicas', (o) => replicas(o, 'availableReplicas')),
      text('images', 'columns.images', images, 'mono'),
    ],
    relations: [{ model: 'replicasets', query: (o) => ({ ownerReference: o.metadata.uid ?? '' }) }, selectedPods],
  }),
  model({
    group: 'apps',
    version: 'v1',
    plural: 'statefulsets',
    kind: 'StatefulSet',
    namespaced: true,
    title: 'kinds.statefulsets',
    module: 'statefulsets',
    form: 'statefulset',
    scalable: true,
    actions: ['edit', 'scale', 'restart', 'editYaml', 'delete'],
    columns: [
      status((o) => workloadStatus(o, o.spec?.replicas ?? 0, o.status?.readyReplicas ?? 0)),
      text('replicas', 'columns.replicas', (o) => replicas(o)),
      text('images', 'columns.images', images, 'mono'),
    ],
    relations: [ownedPods],
  }),
  model({
    group: 'apps',
    version: 'v1',
    plural: 'daemonsets',
    kind: 'DaemonSet',
    namespaced: true,
    title: 'kinds.daemonsets',
    module: 'daemonsets',
    form: 'daemonset',
    actions: ['edit', 'restart', 'editYaml', 'delete'],
    columns: [
      status((o) => workloadStatus(o, o.status?.desiredNumberScheduled ?? 0, o.status?.numberReady ?? 0)),
      text('replicas', 'columns.replicas', (o) => `${o.status?.numberReady ?? 0}/${o.status?.desiredNumberScheduled ?? 0}`),
      text('images', 'columns.images', images, 'mono'),
    ],
    relations: [ownedPods],
  }),
  model({
    group: 'apps',
    version: 'v1',
    plural: 'replicasets',
    kind: 'ReplicaSet',
    namespaced: true,
    title: 'kinds.replicasets',
    module: 'deployments',
    columns: [
      text('replicas', 'columns.replicas', (o) => replicas(o)),
      text('revision', 'columns.revision', (o) => o.metadata.annotations?.['deployment.kubernetes.io/revision']),
    ],
    relations: [ownedPods],
  }),
  model({
    group: 'batch',
    version: 'v1',
    plural: 'jobs',
    kind: 'Job',
    namespaced: true,
    title: 'kinds.jobs',
    module: 'jobs',
    form: 'job',
    actions: ['edit', 'editYaml', 'delete'],
    columns: [
      status((o) =>
        condition(o, 'Complete') === 'True'
          ? 'Completed'
          : condition(o, 'Failed') === 'True'
            ? 'Failed'
            : o.spec?.suspend
              ? 'Suspended'
              : 'Running',
      ),
      text('completions', 'columns.completions', (o) => `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}`),
    ],
    relations: [ownedPods],
  }),
  model({
    group: 'batch',
    version: 'v1',
    plural: 'cronjobs',
    kind: 'CronJob',
    namespaced: true,
    title: 'kinds.cronjobs',
    module: 'cronjobs',
    form: 'cronjob',
    actions: ['edit', 'editYaml', 'delete'],
    columns: [
      status((o) => (o.spec?.suspend ? 'Suspended' : 'Running')),
      text('schedule', 'columns.schedule', (o) => o.spec?.schedule, 'mono'),
      text('lastSchedule', 'columns.lastSchedule', (o) => o.status?.lastScheduleTime, 'age'),
      text('active', 'columns.active', (o) => (o.status?.active ?? []).length),
    ],
    relations: [{ model: 'jobs', query: (o) => ({ ownerReference: o.metadata.uid ?? '' }) }],
  }),
  model({
    group: '',
    version: 'v1',
    plural: 'services',
    kind: 'Service',
    namespaced: true,
    title: 'kinds.services',
    module: 'services',
    form: 'service',
    actions: ['edit', 'editYaml', 'delete'],
    columns: [
      text('type', 'columns.type', (o) => o.spec?.type),
      text('clusterIP', 'columns.clusterIP', (o) => o.spec?.clusterIP, 'mono'),
      text(
        'ports',
        'columns.ports',
        (o) => ((o.spec?.ports ?? []) as any[]).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(', '),
        'mono',
      ),
    ],
    relations: [{ model: 'pods', query: (o) => (o.spec?.selector ? { serviceName: o.metadata.name } : undefined) }],
  }),
  model({
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'ingresses',
    kind: 'Ingress',
    namespaced: true,
    title: 'kinds.ingresses',
    module: 'ingresses',
    form: 'ingress',
    actions: ['edit', 'editYaml', 'delete'],
    columns: [
      text('class', 'columns.class', (o) => o.spec?.ingressClassName),
      text('hosts', 'columns.hosts', (o) => ((o.spec?.rules ?? []) as any[]).map((r) => r.host ?? '*').join(', ')),
      text(
        'address',
        'columns.address',
        (o) => ((o.status?.loadBalancer?.ingress ?? []) as any[]).map((i) => i.ip ?? i.hostname).join(', '),
        'mono',
      ),
    ],
  }),
  model({
    group: '',
    version: 'v1',
    plural: 'configmaps',
    kind: 'ConfigMap',
    namespaced: true,
    title: 'kinds.configmaps',
    module: 'configmaps',
    form: 'configmap',
    actions: ['edit', 'editYaml', 'delete'],
    columns: [text('data', 'columns.data', (o) => count(o.data) + count(o.binaryData))],
  }),
  model({
    group: '',
    version: 'v1',
    plural: 'secrets',
    kind: 'Secret',
    namespaced: true,
    title: 'kinds.secrets',
    module: 'secrets',
    form: 'secret',
    actions: ['edit', 'editYaml', 'delete'],
    columns: [text('type', 'columns.type', (o) => o.type), text('data', 'columns.data', (o) => count(o.data))],
  }),
  model({
    group: '',
    version: 'v1',
    plural: 'serviceaccounts',
    kind: 'ServiceAccount',
    namespaced: true,
    title: 'kinds.serviceaccounts',
    module: 'serviceaccounts',
    columns: [text('secrets', 'columns.secrets', (o) => (o.secrets ?? []).length)],
  }),
  model({
    group: '',
    version: 'v1',
    plural: 'persistentvolumeclaims',
    kind: 'PersistentVolumeClaim',
    namespaced: true,
    title: 'kinds.persistentvolumeclaims',
    module: 'persistentvolumeclaims',
    form: 'persistentvolumeclaim',
    columns: [
      status((o) => o.status?.phase),
      text('capacity', 'columns.capacity', (o) => o.status?.capacity?.storage ?? o.spec?.resources?.requests?.storage),
      text('accessModes', 'columns.accessModes', (o) => (o.spec?.accessModes ?? []).join(', ')),
      text('storageClass', 'columns.storageClass', (o) => o.spec?.storageClassName),
    ],
    relations: [{ model: 'pods', query: (o) => ({ pvcName: o.metadata.name }) }],
  }),
  model({
    group: '',
    version: 'v1',
    plural: 'persistentvolumes',
    kind: 'PersistentVolume',
    namespaced: false,
    title: 'kinds.persistentvolumes',
    module: 'persistentvolumeclaims',
    columns: [
      status((o) => o.status?.phase),
      text('capacity', 'columns.capacity', (o) => o.spec?.capacity?.storage),
      text('claim', 'columns.claim', (o) =>
        o.spec?.claimRef ? `${o.spec.claimRef.namespace}/${o.spec.claimRef.name}` : undefined,
      ),
      text('storageClass', 'columns.storageClass', (o) => o.spec?.storageClassName),
    ],
  }),
  model({
    group: 'storage.k8s.io',
    version: 'v1',
    plural: 'storageclasses',
    kind: 'StorageClass',
    namespaced: false,
    title: 'kinds.storageclasses',
    module: 'storageclasses',
    columns: [
      text('provisioner', 'columns.provisioner', (o) => o.provisioner, 'mono'),
      text('reclaimPolicy', 'columns.reclaimPolicy', (o) => o.reclaimPolicy),
      text('default', 'columns.default', (o) =>
        o.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true' ? '✓' : '',
      ),
    ],
  }),
  model({
    group: '',
    version: 'v1',
    plural: 'nodes',
    kind: 'Node',
    namespaced: false,
    title: 'kinds.nodes',
    module: 'nodes',
    columns: [
      status((o) => (o.spec?.unschedulable ? 'Unschedulable' : condition(o, 'Ready') === 'True' ? 'Ready' : 'NotReady')),
      text('roles', 'columns.roles', nodeRoles),
      text(
        'internalIP',
        'columns.internalIP',
        (o) => ((o.status?.addresses ?? []) as any[]).find((a) => a.type === 'InternalIP')?.address,
        'mono',
      ),
      text('version', 'columns.version', (o) => o.status?.nodeInfo?.kubeletVersion),
      text('cpu', 'columns.cpu', (o) => o.status?.allocatable?.cpu),
      text('memory', 'columns.memory', (o) => o.status?.allocatable?.memory),
      usageShare('cpuUsage', 'usage.cpuColumn', 'cpu'),
      usageShare('memoryUsage', 'usage.memoryColumn', 'memory'),
    ],
    joins: [NODE_METRICS],
    detailTabs: ['usage'],
    relations: [{ model: 'pods', query: (o) => ({ nodeName: o.metadata.name }) }],
  }),
  model({
    key: 'projects',
    group: '',
    version: 'v1',
    plural: 'namespaces',
    kind: 'Namespace',
    namespaced: false,
    title: 'kinds.projects',
    module: 'projects',
    form: 'project',
    // Inside a workspace a project is created through the tenant API, which labels it and makes its creator its admin.
    createPath: (scope) =>
      scope.workspace
        ? `${TENANT_API}/workspaces/${encodeURIComponent(scope.workspace)}/namespaces`
        : `${clusterPrefix(scope.cluster)}/api/v1/namespaces`,
    actions: ['editYaml', 'delete'],
    columns: [
      status((o) => o.status?.phase),
      text('workspace', 'columns.workspace', (o) => o.metadata.labels?.['kubesphere.io/workspace']),
    ],
    listQuery: (scope) =>
      scope.level === 'workspace' && scope.workspace
        ? { labelSelector: `kubesphere.io/workspace=${scope.workspace}` }
        : ({} as Record<string, string>),
    href: (o, scope) =>
      `${projectBase({ ...scope, workspace: scope.workspace ?? o.metadata.labels?.['kubesphere.io/workspace'] }, o.metadata.name)}/overview`,
  }),
  model({
    key: 'customresourcedefinitions',
    group: 'apiextensions.k8s.io',
    version: 'v1',
    plural: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
    namespaced: false,
    title: 'kinds.customresourcedefinitions',
    module: 'customresources',
    columns: [
      text('kind', 'columns.kind', (o) => o.spec?.names?.kind),
      text('group', 'columns.group', (o) => o.spec?.group, 'mono'),
      text('scope', 'columns.scope', (o) => o.spec?.scope),
      text('versions', 'columns.versions', (o) =>
        ((o.spec?.versions ?? []) as any[])
          .filter((v) => v.served)
          .map((v) => v.name)
          .join(', '),
      ),
    ],
    links: [
      {
        title: 'detail.instances',
        href: (o, scope) => `/clusters/${encodeURIComponent(scope.cluster)}/${o.spec?.names?.plural}.${o.spec?.group}`,
      },
    ],
  }),
  model({
    key: 'users',
    group: 'iam.kubesphere.io',
    version: 'v1beta1',
    plural: 'users',
    kind: 'User',
    namespaced: false,
    title: 'kinds.users',
    module: 'users',
    form: 'user',
    createPath: () => `${IAM_API}/users`,
    detailTabs: ['loginRecords'],
    actions: ['toggleUser', 'resetPassword', 'delete'],
    watch: false,
    columns: [
      status((o) => o.status?.state ?? 'Active'),
      text('email', 'columns.email', (o) => o.spec?.email),
      text('platformRole', 'columns.platformRole', (o) => o.metadata.annotations?.['iam.kubesphere.io/globalrole']),
      text('lastLogin', 'columns.lastLogin', (o) => o.status?.lastLoginTime, 'age'),
    ],
    listPaths: () => [`${IAM_API}/users`],
    getPath: (name) => `${IAM_API}/users/${encodeURIComponent(name)}`,
    href: (o) => `/access/users/${encodeURIComponent(o.metadata.name)}`,
  }),
  model({
    key: 'workspaces',
    group: 'tenant.kubesphere.io',
    version: 'v1beta1',
    plural: 'workspacetemplates',
    kind: 'WorkspaceTemplate',
    namespaced: false,
    title: 'kinds.workspaces',
    module: 'workspaces',
    form: 'workspace',
    createPath: () => `${TENANT_API}/workspacetemplates`,
    writePath: (name) => `${TENANT_API}/workspacetemplates/${encodeURIComponent(name)}`,
    columns: [
      text('manager', 'columns.manager', (o) => o.spec?.template?.spec?.manager),
      text('description', 'columns.description', description),
    ],
    listPaths: () => [`${TENANT_API}/workspacetemplates`, `${RESOURCES_API}/workspacetemplates`],
    href: (o) => `/workspaces/${encodeURIComponent(o.metadata.name)}/overview`,
  }),
  model({
    key: 'globalroles',
    group: 'iam.kubesphere.io',
    version: 'v1beta1',
    plural: 'globalroles',
    kind: 'GlobalRole',
    namespaced: false,
    title: 'kinds.platformRoles',
    module: 'roles',
    form: 'role',
    detailTabs: ['roleTemplates'],
    actions: ['edit', 'editYaml', 'delete'],
    columns: roleColumns,
    href: (o) => `/access/roles/${encodeURIComponent(o.metadata.name)}`,
  }),
  model({
    key: 'clusterroles',
    group: 'iam.kubesphere.io',
    version: 'v1beta1',
    plural: 'clusterroles',
    kind: 'ClusterRole',
    namespaced: false,
    title: 'kinds.clusterRoles',
    module: 'roles',
    form: 'role',
    detailTabs: ['roleTemplates'],
    actions: ['edit', 'editYaml', 'delete'],
    columns: roleColumns,
    href: (o, scope) => `/clusters/${encodeURIComponent(scope.cluster)}/roles/${encodeURIComponent(o.metadata.name)}`,
  }),
  model({
    key: 'workspaceroles',
    group: 'iam.kubesphere.io',
    version: 'v1beta1',
    plural: 'workspaceroles',
    kind: 'WorkspaceRole',
    namespaced: false,
    title: 'kinds.workspaceRoles',
    module: 'roles',
    form: 'role',
    detailTabs: ['roleTemplates'],
    // Through the workspace's own path: the workspace's admin is authorized there, and the label is set.
    createPath: (scope) => `${IAM_API}/workspaces/${encodeURIComponent(scope.workspace ?? '')}/workspaceroles`,
    writePath: (name, scope) =>
      `${IAM_API}/workspaces/${encodeURIComponent(scope.workspace ?? '')}/workspaceroles/${encodeURIComponent(name)}`,
    actions: ['edit', 'editYaml', 'delete'],
    columns: roleColumns,
    listQuery: (scope) =>
      scope.workspace ? { labelSelector: `kubesphere.io/workspace=${scope.workspace}` } : ({} as Record<string, string>),
    href: (o, scope) =>
      `/workspaces/${encodeURIComponent(scope.workspace ?? o.metadata.labels?.['kubesphere.io/workspace'] ?? '')}/roles/${encodeURIComponent(o.metadata.name)}`,
  }),
  model({
    key: 'roles',
    group: 'iam.kubesphere.io',
    version: 'v1beta1',
    plural: 'roles',
    kind: 'Role',
    namespaced: true,
    title: 'kinds.projectRoles',
    module: 'roles',
    form: 'role',
    detailTabs: ['roleTemplates'],
    createPath: (scope) => `${IAM_API}/namespaces/${encodeURIComponent(scope.namespace ?? '')}/roles`,
    writePath: (name, scope) =>
      `${IAM_API}/namespaces/${encodeURIComponent(scope.namespace ?? '')}/roles/${encodeURIComponent(name)}`,
    actions: ['edit', 'editYaml', 'delete'],
    columns: roleColumns,
  }),
  model({
    key: 'clustermembers',
    group: 'iam.kubesphere.io',
    version: 'v1beta1',
    plural: 'users',
    kind: 'User',
    namespaced: false,
    title: 'kinds.members',
    module: 'members',
    form: 'member',
    createPath: (scope) => `${clusterPrefix(scope.cluster)}${IAM_API}/clustermembers`,
    writePath: (name, scope) => `${clusterPrefix(scope.cluster)}${IAM_API}/clustermembers/${encodeURIComponent(name)}`,
    actions: ['changeRole', 'removeMember'],
    watch: false,
    columns: memberColumns('iam.kubesphere.io/clusterrole'),
    listPaths: (scope) => [`${clusterPrefix(scope.cluster)}${IAM_API}/clustermembers`],
    getPath: (name) => `${IAM_API}/users/${encodeURIComponent(name)}`,
    href: (o) => `/access/users/${encodeURIComponent(o.metadata.name)}`,
  }),
  model({
    key: 'workspacemembers',
    group: 'iam.kubesphere.io',
    version: 'v1beta1',
    plural: 'users',
    kind: 'User',
    namespaced: false,
    title: 'kinds.members',
    module: 'members',
    form: 'member',
    createPath: (scope) => `${IAM_API}/workspaces/${encodeURIComponent(scope.workspace ?? '')}/workspacemembers`,
    writePath: (name, scope) =>
      `${IAM_API}/workspaces/${encodeURIComponent(scope.workspace ?? '')}/workspacemembers/${encodeURIComponent(name)}`,
    actions: ['changeRole', 'removeMember'],
    watch: false,
    columns: memberColumns('iam.kubesphere.io/workspacerole'),
    listPaths: (scope) => [`${IAM_API}/workspaces/${encodeURIComponent(scope.workspace ?? '')}/workspacemembers`],
    getPath: (name) => `${IAM_API}/users/${encodeURIComponent(name)}`,
    href: (o) => `/access/users/${encodeURIComponent(o.metadata.name)}`,
  }),
  model({
    key: 'namespacemembers',
    group: 'iam.kubesphere.io',
    version: 'v1beta1',
    plural: 'users',
    kind: 'User',
    namespaced: false,
    title: 'kinds.members',
    module: 'members',
    form: 'member',
    createPath: (scope) =>
      `${clusterPrefix(scope.cluster)}${IAM_API}/namespaces/${encodeURIComponent(scope.namespace ?? '')}/namespacemembers`,
    writePath: (name, scope) =>
      `${clusterPrefix(scope.cluster)}${IAM_API}/namespaces/${encodeURIComponent(scope.namespace ?? '')}/namespacemembers/${encodeURIComponent(name)}`,
    actions: ['changeRole', 'removeMember'],
    watch: false,
    columns: memberColumns('iam.kubesphere.io/role'),
    listPaths: (scope) => [
      `${clusterPrefix(scope.cluster)}${IAM_API}/namespaces/${encodeURIComponent(scope.namespace ?? '')}/namespacemembers`,
    ],
    getPath: (name) => `${IAM_API}/users/${encodeURIComponent(name)}`,
    href: (o) => `/access/users/${encodeURIComponent(o.metadata.name)}`,
  }),
];

const byKey = new Map(models.map((m) => [m.key, m]));
/** URL keys that name the same model (kubectl's plural and KubeSphere's console name). */
const aliases: Record<string, string> = {
  namespaces: 'projects',
  workspacetemplates: 'workspaces',
  crds: 'customresourcedefinitions',
};

export function registeredModel(key: string): ResourceModel | undefined {
  return byKey.get(aliases[key] ?? key);
}

/** The registered model of objects of this apiVersion and kind (owner references link through it). */
export function modelOfKind(apiVersion: string, kind: string): ResourceModel | undefined {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  return models.find((m) => m.kind === kind && m.group === group && !m.listPaths);
}

export { RESOURCES_API };
