/**
 * The default RBAC policy kube-apiserver reconciles at start-up
 * (plugin/pkg/auth/authorizer/rbac/bootstrappolicy: policy.go, controller_policy.go,
 * namespace_policy.go), as plain rbac.authorization.k8s.io/v1 objects ready to store.
 *
 * Left out: roles for components Canopy does not have (heapster, cloud providers, CSR signing and
 * approval, attach/detach and volume expansion, DRA), and feature-gated alpha roles.
 *
 * `admin`, `edit` and `view` are aggregated roles. They are returned with `rules` already filled as
 * the clusterrole-aggregation controller fills them, so they grant their permissions from the first
 * request; the controller (or `aggregateClusterRoles`) keeps them current afterwards.
 *
 * The `system:node` ClusterRoleBinding has no subjects, as in kube since 1.8: kubelets are authorized
 * by the Node authorizer, not through this binding. Canopy has no Node authorizer yet; its stand-in
 * is the `canopy:node` binding of the `system:node` role to the group `system:nodes`.
 */
import {
  aggregateClusterRoles,
  RBAC_GROUP,
  type ClusterRole,
  type PolicyRule,
  type Role,
  type RoleBinding,
  type Subject,
} from './rbac.js';

/** Objects carrying this annotation set to "true" are brought back to the defaults on every start. */
export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
export const BOOTSTRAPPING_LABEL = 'kubernetes.io/bootstrapping';
export const BOOTSTRAPPING_LABEL_VALUE = 'rbac-defaults';
export const AGGREGATE_TO_ADMIN_LABEL = 'rbac.authorization.k8s.io/aggregate-to-admin';
export const AGGREGATE_TO_EDIT_LABEL = 'rbac.authorization.k8s.io/aggregate-to-edit';
export const AGGREGATE_TO_VIEW_LABEL = 'rbac.authorization.k8s.io/aggregate-to-view';
/** Prefix of the roles (and service accounts, in kube-system) of the built-in controllers. */
export const CONTROLLER_ROLE_PREFIX = 'system:controller:';

const RBAC_API_VERSION = `${RBAC_GROUP}/v1`;

const read = ['get', 'list', 'watch'];
const readWrite = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const write = ['create', 'update', 'patch', 'delete', 'deletecollection'];

const legacyGroup = '';
const appsGroup = 'apps';
const authenticationGroup = 'authentication.k8s.io';
const authorizationGroup = 'authorization.k8s.io';
const autoscalingGroup = 'autoscaling';
const batchGroup = 'batch';
const certificatesGroup = 'certificates.k8s.io';
const coordinationGroup = 'coordination.k8s.io';
const discoveryGroup = 'discovery.k8s.io';
const eventsGroup = 'events.k8s.io';
const extensionsGroup = 'extensions';
const networkingGroup = 'networking.k8s.io';
const nodeGroup = 'node.k8s.io';
const policyGroup = 'policy';
const storageGroup = 'storage.k8s.io';

const sorted = (values: string[]) => [...values].sort();

/**
 * A resource rule, with every list sorted as rbacv1helpers.PolicyRuleBuilder.Rule() leaves it (so the
 * objects read back as they do from a kube-apiserver).
 */
function rule(verbs: string[], groups: string[], resources: string[], resourceNames?: string[]): PolicyRule {
  return {
    verbs: sorted(verbs),
    apiGroups: sorted(groups),
    resources: sorted(resources),
    ...(resourceNames?.length ? { resourceNames: sorted(resourceNames) } : {}),
  };
}

function urlRule(verbs: string[], urls: string[]): PolicyRule {
  return { verbs: sorted(verbs), nonResourceURLs: sorted(urls) };
}

/** Writing Events through either API group, which every component does. */
const eventsRule = () => rule(['create', 'update', 'patch'], [legacyGroup, eventsGroup], ['events']);

function metadata(name: string, labels: Record<string, string> = {}, namespace?: string) {
  return {
    name,
    ...(namespace ? { namespace } : {}),
    labels: { [BOOTSTRAPPING_LABEL]: BOOTSTRAPPING_LABEL_VALUE, ...labels },
    annotations: { [AUTOUPDATE_ANNOTATION]: 'true' },
  };
}

function clusterRole(name: string, rules: PolicyRule[], labels: Record<string, string> = {}): ClusterRole {
  return { apiVersion: RBAC_API_VERSION, kind: 'ClusterRole', metadata: metadata(name, labels), rules };
}

function aggregatedClusterRole(name: string, selectLabel: string, labels: Record<string, string> = {}): ClusterRole {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRole',
    metadata: metadata(name, labels),
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [selectLabel]: 'true' } }] },
    rules: [],
  };
}

const user = (name: string): Subject => ({ apiGroup: RBAC_GROUP, kind: 'User', name });
const group = (name: string): Subject => ({ apiGroup: RBAC_GROUP, kind: 'Group', name });
const serviceAccount = (namespace: string, name: string): Subject => ({ kind: 'ServiceAccount', name, namespace });

function clusterRoleBinding(roleName: string, subjects: Subject[], bindingName = roleName): RoleBinding {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRoleBinding',
    metadata: metadata(bindingName),
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: roleName },
    // Stored without `subjects` when there are none, as kube's omitempty leaves it.
    ...(subjects.length ? { subjects } : {}),
  };
}

// --- policy.go: ClusterRoles ----------------------------------------------------------------------

function userFacingRoles(): ClusterRole[] {
  return [
    // A superuser: everything, everywhere (bound to system:masters).
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urlRule(['*'], ['*'])]),
    // Namespace admin: edit plus roles/rolebindings. Bound with a RoleBinding it grants the namespace.
    aggregatedClusterRole('admin', AGGREGATE_TO_ADMIN_LABEL),
    // Read and write of most objects in a namespace, without roles, bindings, quota or limits writes.
    aggregatedClusterRole('edit', AGGREGATE_TO_EDIT_LABEL, { [AGGREGATE_TO_ADMIN_LABEL]: 'true' }),
    // Read-only of non-escalating objects: no secrets (reading them can escalate), no roles or bindings.
    aggregatedClusterRole('view', AGGREGATE_TO_VIEW_LABEL, { [AGGREGATE_TO_EDIT_LABEL]: 'true' }),
    clusterRole(
      'system:aggregate-to-admin',
      [
        rule(['create'], [authorizationGroup], ['localsubjectaccessreviews']),
        rule(readWrite, [RBAC_GROUP], ['roles', 'rolebindings']),
      ],
      { [AGGREGATE_TO_ADMIN_LABEL]: 'true' },
    ),
    clusterRole(
      'system:aggregate-to-edit',
      [
        // Reading secrets and the proxy/exec subresources escalates, hence edit rather than view.
        rule(read, [legacyGroup], ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy']),
        rule(['impersonate'], [legacyGroup], ['serviceaccounts']),
        rule(write, [legacyGroup], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
        rule(['create'], [legacyGroup], ['pods/eviction']),
        rule(
          write,
          [legacyGroup],
          [
            'replicationcontrollers',
            'replicationcontrollers/scale',
            'serviceaccounts',
            'services',
            'services/proxy',
            'persistentvolumeclaims',
            'configmaps',
            'secrets',
            'events',
          ],
        ),
        rule(['create'], [legacyGroup], ['serviceaccounts/token']),
        rule(
          write,
          [appsGroup],
          [
            'statefulsets',
            'statefulsets/scale',
            'daemonsets',
            'deployments',
            'deployments/scale',
            'deployments/rollback',
            'replicasets',
            'replicasets/scale',
          ],
        ),
        rule(write, [autoscalingGroup], ['horizontalpodautoscalers']),
        rule(write, [batchGroup], ['jobs', 'cronjobs']),
        rule(
          write,
          [extensionsGroup],
          [
            'daemonsets',
            'deployments',
            'deployments/scale',
            'deployments/rollback',
            'ingresses',
            'replicasets',
            'replicasets/scale',
            'replicationcontrollers/scale',
            'networkpolicies',
          ],
        ),
        rule(write, [policyGroup], ['poddisruptionbudgets']),
        rule(write, [networkingGroup], ['networkpolicies', 'ingresses']),
        rule(readWrite, [coordinationGroup], ['leases']),
      ],
      { [AGGREGATE_TO_EDIT_LABEL]: 'true' },
    ),
    clusterRole(
      'system:aggregate-to-view',
      [
        rule(
          read,
          [legacyGroup],
          [
            'pods',
            'replicationcontrollers',
            'replicationcontrollers/scale',
            'serviceaccounts',
            'services',
            'services/status',
            'endpoints',
            'persistentvolumeclaims',
            'persistentvolumeclaims/status',
            'configmaps',
          ],
        ),
        rule(
          read,
          [legacyGroup],
          [
            'limitranges',
            'resourcequotas',
            'bindings',
            'events',
            'pods/status',
            'resourcequotas/status',
            'namespaces/status',
            'replicationcontrollers/status',
            'pods/log',
          ],
        ),
        // Reading namespaces at namespace scope means reading *this* namespace: the hint of which namespaces one can use.
        rule(read, [legacyGroup], ['namespaces']),
        rule(read, [discoveryGroup], ['endpointslices']),
        rule(
          read,
          [appsGroup],
          [
            'controllerrevisions',
            'statefulsets',
            'statefulsets/status',
            'statefulsets/scale',
            'daemonsets',
            'daemonsets/status',
            'deployments',
            'deployments/status',
            'deployments/scale',
            'replicasets',
            'replicasets/status',
            'replicasets/scale',
          ],
        ),
        rule(read, [autoscalingGroup], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
        rule(read, [batchGroup], ['jobs', 'cronjobs', 'cronjobs/status', 'jobs/status']),
        rule(
          read,
          [extensionsGroup],
          [
            'daemonsets',
            'daemonsets/status',
            'deployments',
            'deployments/scale',
            'deployments/status',
            'ingresses',
            'ingresses/status',
            'replicasets',
            'replicasets/scale',
            'replicasets/status',
            'replicationcontrollers/scale',
            'networkpolicies',
          ],
        ),
        rule(read, [policyGroup], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
        rule(read, [networkingGroup], ['networkpolicies', 'ingresses', 'ingresses/status']),
      ],
      { [AGGREGATE_TO_VIEW_LABEL]: 'true' },
    ),
  ];
}

function systemRoles(): ClusterRole[] {
  return [
    // Just enough to negotiate API versions; bound to every authenticated user.
    clusterRole('system:discovery', [
      urlRule(
        ['get'],
        [
          '/api',
          '/api/*',
          '/apis',
          '/apis/*',
          '/healthz',
          '/livez',
          '/openapi',
          '/openapi/*',
          '/readyz',
          '/version',
          '/version/',
        ],
      ),
    ]),
    // What may be read without credentials.
    clusterRole('system:public-info-viewer', [urlRule(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])]),
    clusterRole('system:monitoring', [
      urlRule(['get'], ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*']),
    ]),
    // Learning about oneself.
    clusterRole('system:basic-user', [
      rule(['create'], [authorizationGroup], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], [authenticationGroup], ['selfsubjectreviews']),
    ]),
    clusterRole('system:service-account-issuer-discovery', [
      urlRule(['get'], ['/.well-known/openid-configuration', '/openid/v1/jwks']),
    ]),
    // Delegated authentication and authorization (extension API servers, kube-rbac-proxy).
    clusterRole('system:auth-delegator', [
      rule(['create'], [authenticationGroup], ['tokenreviews']),
      rule(['create'], [authorizationGroup], ['subjectaccessreviews']),
    ]),
    clusterRole('system:kube-aggregator', [rule(read, [legacyGroup], ['services', 'endpoints'])]),
    clusterRole('system:kube-controller-manager', [
      eventsRule(),
      rule(['create'], [coordinationGroup], ['leases']),
      rule(['get', 'update'], [coordinationGroup], ['leases'], ['kube-controller-manager']),
      // Creates the per-controller service accounts and their token secrets.
      rule(['create'], [legacyGroup], ['secrets', 'serviceaccounts']),
      rule(['delete'], [legacyGroup], ['secrets']),
      rule(['get'], [legacyGroup], ['namespaces', 'secrets', 'serviceaccounts', 'configmaps']),
      rule(['update'], [legacyGroup], ['secrets', 'serviceaccounts']),
      rule(['create'], [authenticationGroup], ['tokenreviews']),
      rule(['create'], [authorizationGroup], ['subjectaccessreviews']),
      // Shared informers of every resource.
      rule(['list', 'watch'], ['*'], ['*']),
      rule(['create'], [legacyGroup], ['serviceaccounts/token']),
    ]),
    clusterRole('system:kube-scheduler', [
      eventsRule(),
      rule(['create'], [coordinationGroup], ['leases']),
      rule(['get', 'update'], [coordinationGroup], ['leases'], ['kube-scheduler']),
      rule(read, [legacyGroup], ['nodes']),
      rule(['get', 'list', 'watch', 'delete'], [legacyGroup], ['pods']),
      rule(['create'], [legacyGroup], ['pods/binding', 'bindings']),
      rule(['patch', 'update'], [legacyGroup], ['pods/status']),
      rule(read, [legacyGroup], ['replicationcontrollers', 'services']),
      rule(read, [appsGroup, extensionsGroup], ['replicasets']),
      rule(read, [appsGroup], ['statefulsets']),
      rule(read, [policyGroup], ['poddisruptionbudgets']),
      rule(read, [legacyGroup], ['persistentvolumeclaims', 'persistentvolumes']),
      rule(['create'], [authenticationGroup], ['tokenreviews']),
      rule(['create'], [authorizationGroup], ['subjectaccessreviews']),
      rule(read, [storageGroup], ['csinodes']),
      rule(read, [legacyGroup], ['namespaces']),
      rule(read, [storageGroup], ['csidrivers']),
      rule(read, [storageGroup], ['csistoragecapacities']),
    ]),
    clusterRole('system:volume-scheduler', [
      rule(['get', 'list', 'watch', 'update', 'patch'], [legacyGroup], ['persistentvolumes']),
      rule(read, [storageGroup], ['storageclasses']),
      rule(['get', 'list', 'watch', 'update', 'patch'], [legacyGroup], ['persistentvolumeclaims']),
    ]),
    clusterRole('system:kube-dns', [rule(['list', 'watch'], [legacyGroup], ['endpoints', 'services'])]),
    // What a kubelet needs; granted to nodes by the Node authorizer (the binding has no subjects).
    clusterRole('system:node', [
      rule(['create'], [authenticationGroup], ['tokenreviews']),
      rule(['create'], [authorizationGroup], ['subjectaccessreviews', 'localsubjectaccessreviews']),
      rule(read, [legacyGroup], ['services']),
      rule(['create', 'get', 'list', 'watch'], [legacyGroup], ['nodes']),
      rule(['update', 'patch'], [legacyGroup], ['nodes/status']),
      rule(['update', 'patch'], [legacyGroup], ['nodes']),
      rule(['create', 'update', 'patch'], [legacyGroup], ['events']),
      rule(read, [legacyGroup], ['pods']),
      // Mirror pods of static pods.
      rule(['create', 'delete'], [legacyGroup], ['pods']),
      rule(['update', 'patch'], [legacyGroup], ['pods/status']),
      rule(['create'], [legacyGroup], ['pods/eviction']),
      rule(read, [legacyGroup], ['secrets', 'configmaps']),
      rule(['get'], [legacyGroup], ['persistentvolumeclaims', 'persistentvolumes']),
      rule(['get'], [legacyGroup], ['endpoints']),
      rule(['create', 'get', 'list', 'watch'], [certificatesGroup], ['certificatesigningrequests']),
      rule(['get', 'create', 'update', 'patch', 'delete'], [coordinationGroup], ['leases']),
      rule(['get'], [storageGroup], ['volumeattachments']),
      rule(['create'], [legacyGroup], ['serviceaccounts/token']),
      rule(['get', 'update', 'patch'], [legacyGroup], ['persistentvolumeclaims/status']),
      rule(read, [storageGroup], ['csidrivers']),
      rule(['get', 'create', 'update', 'patch', 'delete'], [storageGroup], ['csinodes']),
      rule(read, [nodeGroup], ['runtimeclasses']),
    ]),
    clusterRole('system:node-proxier', [
      rule(['list', 'watch'], [legacyGroup], ['services', 'endpoints']),
      rule(read, [legacyGroup], ['nodes']),
      eventsRule(),
      rule(['list', 'watch'], [discoveryGroup], ['endpointslices']),
    ]),
    clusterRole('system:node-bootstrapper', [
      rule(['create', 'get', 'list', 'watch'], [certificatesGroup], ['certificatesigningrequests']),
    ]),
    // Full access to the kubelet API.
    clusterRole('system:kubelet-api-admin', [
      rule(read, [legacyGroup], ['nodes']),
      rule(['proxy'], [legacyGroup], ['nodes']),
      rule(['*'], [legacyGroup], ['nodes/proxy', 'nodes/metrics', 'nodes/stats', 'nodes/log']),
    ]),
    clusterRole('system:persistent-volume-provisioner', [
      rule(['get', 'list', 'watch', 'create', 'delete'], [legacyGroup], ['persistentvolumes']),
      // update is needed for the binding annotation on claims.
      rule(['get', 'list', 'watch', 'update'], [legacyGroup], ['persistentvolumeclaims']),
      rule(read, [storageGroup], ['storageclasses']),
      rule(['watch'], [legacyGroup], ['events']),
      eventsRule(),
    ]),
  ];
}

// --- controller_policy.go ----------------------------------------------------------------------------

function controllerRole(controller: string, rules: PolicyRule[]): ClusterRole {
  return clusterRole(CONTROLLER_ROLE_PREFIX + controller, rules);
}

/** The roles of the controllers kube-controller-manager runs, each used through its own service account. */
export function controllerRoles(): ClusterRole[] {
  return [
    controllerRole('clusterrole-aggregation-controller', [
      // Writing aggregated rules the controller does not hold itself needs escalate.
      rule(['escalate', 'get', 'list', 'watch', 'update', 'patch'], [RBAC_GROUP], ['clusterroles']),
    ]),
    controllerRole('cronjob-controller', [
      rule(['get', 'list', 'watch', 'update'], [batchGroup], ['cronjobs']),
      rule(['get', 'list', 'watch', 'create', 'update', 'delete', 'patch'], [batchGroup], ['jobs']),
      rule(['update'], [batchGroup], ['cronjobs/status']),
      rule(['update'], [batchGroup], ['cronjobs/finalizers']),
      rule(['list', 'watch', 'delete'], [legacyGroup], ['pods']),
      eventsRule(),
    ]),
    controllerRole('daemon-set-controller', [
      rule(read, [extensionsGroup, appsGroup], ['daemonsets']),
      rule(['update'], [extensionsGroup, appsGroup], ['daemonsets/status']),
      rule(['update'], [extensionsGroup, appsGroup], ['daemonsets/finalizers']),
      rule(['list', 'watch'], [legacyGroup], ['nodes']),
      rule(['list', 'watch', 'create', 'delete', 'patch'], [legacyGroup], ['pods']),
      rule(['create'], [legacyGroup], ['pods/binding']),
      rule(['get', 'list', 'watch', 'create', 'delete', 'update', 'patch'], [appsGroup], ['controllerrevisions']),
      eventsRule(),
    ]),
    controllerRole('deployment-controller', [
      rule(['get', 'list', 'watch', 'update'], [extensionsGroup, appsGroup], ['deployments']),
      rule(['update'], [extensionsGroup, appsGroup], ['deployments/status']),
      rule(['update'], [extensionsGroup, appsGroup], ['deployments/finalizers']),
      rule(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], [appsGroup, extensionsGroup], ['replicasets']),
      // Pods are listed to check whether a recreate deployment has none left; update is for adoption.
      rule(['get', 'list', 'watch', 'update'], [legacyGroup], ['pods']),
      eventsRule(),
    ]),
    controllerRole('disruption-controller', [
      rule(read, [extensionsGroup, appsGroup], ['deployments']),
      rule(read, [appsGroup, extensionsGroup], ['replicasets']),
      rule(read, [legacyGroup], ['replicationcontrollers']),
      rule(read, [policyGroup], ['poddisruptionbudgets']),
      rule(read, [appsGroup], ['statefulsets']),
      rule(['update'], [policyGroup], ['poddisruptionbudgets/status']),
      rule(['patch', 'update'], [legacyGroup], ['pods/status']),
      // The scale of any controller that owns pods.
      rule(['get'], ['*'], ['*/scale']),
      eventsRule(),
    ]),
    controllerRole('endpoint-controller', [
      rule(read, [legacyGroup], ['services', 'pods']),
      rule(['get', 'list', 'watch', 'create', 'update', 'delete'], [legacyGroup], ['endpoints']),
      rule(['create'], [legacyGroup], ['endpoints/restricted']),
      eventsRule(),
    ]),
    controllerRole('endpointslice-controller', [
      rule(read, [legacyGroup], ['services', 'pods', 'nodes']),
      // Owner references with blockOwnerDeletion on services.
      rule(['update'], [legacyGroup], ['services/finalizers']),
      rule(['get', 'list', 'watch', 'create', 'update', 'delete'], [discoveryGroup], ['endpointslices']),
      eventsRule(),
    ]),
    controllerRole('endpointslicemirroring-controller', [
      rule(read, [legacyGroup], ['services', 'endpoints']),
      rule(['update'], [legacyGroup], ['services/finalizers']),
      rule(['update'], [legacyGroup], ['endpoints/finalizers']),
      rule(['get', 'list', 'watch', 'create', 'update', 'delete'], [discoveryGroup], ['endpointslices']),
      eventsRule(),
    ]),
    controllerRole('generic-garbage-collector', [
      // Reads every kind to build the ownership graph; deletes dependents and patches owner references.
      rule(['get', 'list', 'watch', 'patch', 'update', 'delete'], ['*'], ['*']),
      eventsRule(),
    ]),
    controllerRole('horizontal-pod-autoscaler', [
      rule(read, [autoscalingGroup], ['horizontalpodautoscalers']),
      rule(['update'], [autoscalingGroup], ['horizontalpodautoscalers/status']),
      rule(['get', 'update'], ['*'], ['*/scale']),
      rule(['list', 'watch'], [legacyGroup], ['pods']),
      rule(['list', 'watch'], ['metrics.k8s.io'], ['pods']),
      rule(read, ['custom.metrics.k8s.io'], ['*']),
      rule(read, ['external.metrics.k8s.io'], ['*']),
      eventsRule(),
    ]),
    controllerRole('job-controller', [
      rule(['get', 'list', 'watch', 'update', 'patch'], [batchGroup], ['jobs']),
      rule(['update'], [batchGroup], ['jobs/status']),
      rule(['update'], [batchGroup], ['jobs/finalizers']),
      rule(['list', 'watch', 'create', 'delete', 'patch'], [legacyGroup], ['pods']),
      eventsRule(),
    ]),
    controllerRole('namespace-controller', [
      rule(['get', 'list', 'watch', 'delete'], [legacyGroup], ['namespaces']),
      rule(['update'], [legacyGroup], ['namespaces/finalize', 'namespaces/status']),
      // Empties a terminating namespace of every kind.
      rule(['get', 'list', 'watch', 'delete', 'deletecollection'], ['*'], ['*']),
    ]),
    controllerRole('node-controller', [
      rule(['get', 'list', 'watch', 'update', 'delete', 'patch'], [legacyGroup], ['nodes']),
      rule(['patch', 'update'], [legacyGroup], ['nodes/status']),
      // Marks pods on unreachable nodes not ready.
      rule(['patch', 'update'], [legacyGroup], ['pods/status']),
      rule(['get', 'list', 'watch', 'delete'], [legacyGroup], ['pods']),
      eventsRule(),
    ]),
    controllerRole('persistent-volume-binder', [
      rule(['get', 'list', 'watch', 'update', 'create', 'delete'], [legacyGroup], ['persistentvolumes']),
      rule(['update'], [legacyGroup], ['persistentvolumes/status']),
      rule(['get', 'list', 'watch', 'update'], [legacyGroup], ['persistentvolumeclaims']),
      rule(['update'], [legacyGroup], ['persistentvolumeclaims/status']),
      // Recycler pods.
      rule(['list', 'watch', 'get', 'create', 'delete'], [legacyGroup], ['pods']),
      rule(read, [storageGroup], ['storageclasses']),
      // Canopy: the simulated provisioner runs in this controller and installs the default
      // `local` StorageClass when a cluster has none (kube leaves that to an add-on).
      rule(['create'], [storageGroup], ['storageclasses']),
      rule(['list', 'watch'], [legacyGroup], ['nodes']),
      eventsRule(),
      rule(['watch'], [legacyGroup], ['events']),
    ]),
    controllerRole('pod-garbage-collector', [
      rule(['list', 'watch', 'delete'], [legacyGroup], ['pods']),
      rule(read, [legacyGroup], ['nodes']),
      rule(['patch'], [legacyGroup], ['pods/status']),
    ]),
    controllerRole('pv-protection-controller', [
      rule(['get', 'list', 'watch', 'update'], [legacyGroup], ['persistentvolumes']),
      eventsRule(),
    ]),
    controllerRole('pvc-protection-controller', [
      rule(['get', 'list', 'watch', 'update'], [legacyGroup], ['persistentvolumeclaims']),
      rule(['update'], [legacyGroup], ['persistentvolumeclaims/status']),
      rule(read, [legacyGroup], ['pods']),
      eventsRule(),
    ]),
    controllerRole('replicaset-controller', [
      rule(['get', 'list', 'watch', 'update'], [appsGroup, extensionsGroup], ['replicasets']),
      rule(['update'], [appsGroup, extensionsGroup], ['replicasets/status']),
      rule(['update'], [appsGroup, extensionsGroup], ['replicasets/finalizers']),
      rule(['list', 'watch', 'patch', 'create', 'delete'], [legacyGroup], ['pods']),
      eventsRule(),
    ]),
    controllerRole('replication-controller', [
      rule(['get', 'list', 'watch', 'update'], [legacyGroup], ['replicationcontrollers']),
      rule(['update'], [legacyGroup], ['replicationcontrollers/status']),
      rule(['update'], [legacyGroup], ['replicationcontrollers/finalizers']),
      rule(['list', 'watch', 'patch', 'create', 'delete'], [legacyGroup], ['pods']),
      eventsRule(),
    ]),
    controllerRole('resourcequota-controller', [
      // Counts usage of every kind.
      rule(['list', 'watch'], ['*'], ['*']),
      rule(['update'], [legacyGroup], ['resourcequotas/status']),
      eventsRule(),
    ]),
    controllerRole('root-ca-cert-publisher', [rule(['create', 'update'], [legacyGroup], ['configmaps']), eventsRule()]),
    controllerRole('service-account-controller', [rule(['create'], [legacyGroup], ['serviceaccounts']), eventsRule()]),
    controllerRole('statefulset-controller', [
      rule(['list', 'watch'], [legacyGroup], ['pods']),
      rule(read, [appsGroup], ['statefulsets']),
      rule(['update'], [appsGroup], ['statefulsets/status']),
      rule(['update'], [appsGroup], ['statefulsets/finalizers']),
      rule(['get', 'create', 'delete', 'update', 'patch'], [legacyGroup], ['pods']),
      rule(['get', 'create', 'delete', 'update', 'patch', 'list', 'watch'], [appsGroup], ['controllerrevisions']),
      rule(['get', 'create', 'list', 'watch'], [legacyGroup], ['persistentvolumeclaims']),
      // PersistentVolumeClaim retention policy.
      rule(['update', 'delete'], [legacyGroup], ['persistentvolumeclaims']),
      rule(['update'], [legacyGroup], ['pods/finalizers']),
      eventsRule(),
    ]),
    controllerRole('ttl-after-finished-controller', [
      rule(['get', 'list', 'watch', 'delete'], [batchGroup], ['jobs']),
      eventsRule(),
    ]),
    controllerRole('ttl-controller', [rule(['update', 'patch', 'list', 'watch'], [legacyGroup], ['nodes']), eventsRule()]),
  ];
}

/** Each controller role bound to its service account `kube-system/<controller>`. */
export function controllerRoleBindings(): RoleBinding[] {
  return controllerRoles().map((role) =>
    clusterRoleBinding(role.metadata.name, [
      serviceAccount('kube-system', role.metadata.name.slice(CONTROLLER_ROLE_PREFIX.length)),
    ]),
  );
}

// --- exported policy ---------------------------------------------------------------------------------

/**
 * Every default ClusterRole: the user-facing roles (with aggregated rules filled in), the system
 * component roles and the controller roles.
 */
export function defaultClusterRoles(): ClusterRole[] {
  const roles = [...userFacingRoles(), ...systemRoles(), ...controllerRoles()];
  const aggregated = aggregateClusterRoles(roles);
  for (const role of roles) {
    const rules = aggregated.get(role.metadata.name);
    if (rules) role.rules = rules.map((r) => structuredClone(r));
  }
  return roles;
}

export function defaultClusterRoleBindings(): RoleBinding[] {
  return [
    clusterRoleBinding('cluster-admin', [group('system:masters')]),
    clusterRoleBinding('system:monitoring', [group('system:monitoring')]),
    // Discovery and self-review need a login; health and version do not.
    clusterRoleBinding('system:discovery', [group('system:authenticated')]),
    clusterRoleBinding('system:basic-user', [group('system:authenticated')]),
    clusterRoleBinding('system:public-info-viewer', [group('system:authenticated'), group('system:unauthenticated')]),
    clusterRoleBinding('system:service-account-issuer-discovery', [group('system:serviceaccounts')]),
    clusterRoleBinding('system:node-proxier', [user('system:kube-proxy')]),
    clusterRoleBinding('system:kube-controller-manager', [user('system:kube-controller-manager')]),
    clusterRoleBinding('system:kube-dns', [serviceAccount('kube-system', 'kube-dns')]),
    clusterRoleBinding('system:kube-scheduler', [user('system:kube-scheduler')]),
    clusterRoleBinding('system:volume-scheduler', [user('system:kube-scheduler')]),
    clusterRoleBinding('system:node', []),
    // Canopy has no Node authorizer: in all-in-one mode the simulated kubelets (users
    // `system:node:<name>` in group `system:nodes`) get the `system:node` role through this binding
    // instead. It grants every node what the Node authorizer grants a node for its own objects, so
    // a node can also write other nodes' pods and status; acceptable only because the kubelets are
    // simulated in the same process. Remove it when a Node authorizer lands.
    clusterRoleBinding('system:node', [group('system:nodes')], 'canopy:node'),
    ...controllerRoleBindings(),
  ];
}

function role(namespace: string, name: string, rules: PolicyRule[]): Role {
  return { apiVersion: RBAC_API_VERSION, kind: 'Role', metadata: metadata(name, {}, namespace), rules };
}

function roleBinding(namespace: string, roleName: string, subjects: Subject[], bindingName = roleName): RoleBinding {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'RoleBinding',
    metadata: metadata(bindingName, {}, namespace),
    roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: roleName },
    subjects,
  };
}

/** namespace_policy.go: Roles in kube-system for leader election and the authentication configmap. */
export function defaultRoles(): Role[] {
  const leaderLocking = [
    rule(['watch', 'list', 'get', 'create', 'update'], [coordinationGroup], ['leases']),
    rule(['watch', 'list', 'get', 'create', 'update'], [coordinationGroup], ['leasecandidates']),
  ];
  return [
    // Delegating API servers read the client CA and request-header settings from this configmap.
    role('kube-system', 'extension-apiserver-authentication-reader', [
      rule(read, [legacyGroup], ['configmaps'], ['extension-apiserver-authentication']),
    ]),
    role('kube-system', 'system::leader-locking-kube-controller-manager', leaderLocking),
    role('kube-system', 'system::leader-locking-kube-scheduler', leaderLocking),
  ];
}

export function defaultRoleBindings(): RoleBinding[] {
  return [
    roleBinding(
      'kube-system',
      'extension-apiserver-authentication-reader',
      [user('system:kube-controller-manager'), user('system:kube-scheduler')],
      'system::extension-apiserver-authentication-reader',
    ),
    roleBinding('kube-system', 'system::leader-locking-kube-controller-manager', [
      user('system:kube-controller-manager'),
      serviceAccount('kube-system', 'kube-controller-manager'),
      serviceAccount('kube-system', 'leader-election-controller'),
    ]),
    roleBinding('kube-system', 'system::leader-locking-kube-scheduler', [
      user('system:kube-scheduler'),
      serviceAccount('kube-system', 'kube-scheduler'),
    ]),
  ];
}
