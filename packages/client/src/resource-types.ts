/** Resource types: what a client needs to build a resource's paths. */

export interface ResourceType {
  group: string;
  version: string;
  /** Plural resource name, as in the URL. */
  resource: string;
  kind: string;
  namespaced: boolean;
}

function type(group: string, version: string, resource: string, kind: string, namespaced = true): ResourceType {
  return { group, version, resource, kind, namespaced };
}

export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** The built-in types controllers, the simulator and the platform use. */
export const types = {
  namespaces: type('', 'v1', 'namespaces', 'Namespace', false),
  nodes: type('', 'v1', 'nodes', 'Node', false),
  pods: type('', 'v1', 'pods', 'Pod'),
  services: type('', 'v1', 'services', 'Service'),
  endpoints: type('', 'v1', 'endpoints', 'Endpoints'),
  events: type('', 'v1', 'events', 'Event'),
  configMaps: type('', 'v1', 'configmaps', 'ConfigMap'),
  secrets: type('', 'v1', 'secrets', 'Secret'),
  serviceAccounts: type('', 'v1', 'serviceaccounts', 'ServiceAccount'),
  persistentVolumes: type('', 'v1', 'persistentvolumes', 'PersistentVolume', false),
  persistentVolumeClaims: type('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim'),
  resourceQuotas: type('', 'v1', 'resourcequotas', 'ResourceQuota'),
  limitRanges: type('', 'v1', 'limitranges', 'LimitRange'),
  replicationControllers: type('', 'v1', 'replicationcontrollers', 'ReplicationController'),
  deployments: type('apps', 'v1', 'deployments', 'Deployment'),
  replicaSets: type('apps', 'v1', 'replicasets', 'ReplicaSet'),
  statefulSets: type('apps', 'v1', 'statefulsets', 'StatefulSet'),
  daemonSets: type('apps', 'v1', 'daemonsets', 'DaemonSet'),
  controllerRevisions: type('apps', 'v1', 'controllerrevisions', 'ControllerRevision'),
  jobs: type('batch', 'v1', 'jobs', 'Job'),
  cronJobs: type('batch', 'v1', 'cronjobs', 'CronJob'),
  leases: type('coordination.k8s.io', 'v1', 'leases', 'Lease'),
  endpointSlices: type('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice'),
  storageClasses: type('storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', false),
  horizontalPodAutoscalers: type('autoscaling', 'v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler'),
  podDisruptionBudgets: type('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget'),
  ingresses: type('networking.k8s.io', 'v1', 'ingresses', 'Ingress'),
  customResourceDefinitions: type('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false),
  clusterRoles: type('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  clusterRoleBindings: type('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  roles: type('rbac.authorization.k8s.io', 'v1', 'roles', 'Role'),
  roleBindings: type('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding'),
  nodeMetrics: type('metrics.k8s.io', 'v1beta1', 'nodes', 'NodeMetrics', false),
  podMetrics: type('metrics.k8s.io', 'v1beta1', 'pods', 'PodMetrics'),
} as const satisfies Record<string, ResourceType>;

export { type as resourceType };
