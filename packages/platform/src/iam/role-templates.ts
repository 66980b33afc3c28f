/**
 * KubeSphere's permission model as data: the RoleTemplates (permission items the console offers
 * per scope), their Categories, the built-in roles of each scope, the BuiltinRoles that are
 * instantiated per workspace and per project, and the default bindings.
 *
 * Names, scopes, categories, rules and the annotations clients read
 * (`iam.kubesphere.io/role-template-rules`, `…/dependencies`, `…/rego-override`) are KubeSphere
 * 4.1's interface and must stay as they are: roles created for KubeSphere reference templates
 * by name, and the console decides what to show from the role-template-rules annotation.
 * Display texts are short labels; descriptions are Canopy's own.
 */
import { labelSelectorFromObject, matchesLabels } from '@canopy/apimachinery';
import { formatRegoModule, parseRegoModule } from './rego.js';
import {
  AUTO_AGGREGATE_ANNOTATION,
  ALL_AUTHENTICATED_GROUP,
  ALL_UNAUTHENTICATED_GROUP,
  BASIC_ROLE_TEMPLATE_LABEL,
  type BuiltinRole,
  type Category,
  CATEGORY_LABEL,
  CREATOR_ANNOTATION,
  DEPENDENCIES_ANNOTATION,
  DESCRIPTION_ANNOTATION,
  HIDDEN_ROLE_TEMPLATE_LABEL,
  IAM_API_GROUP,
  IAM_API_VERSION,
  type IamRole,
  type IamRoleBinding,
  type IamScope,
  MANAGED_LABEL,
  type PolicyRule,
  PRE_REGISTRATION_GROUP,
  PRE_REGISTRATION_USER,
  REGO_OVERRIDE_ANNOTATION,
  ROLE_REFERENCE_LABEL,
  ROLE_TEMPLATE_RULES_ANNOTATION,
  type RoleTemplate,
  SCOPE_LABEL,
  USER_REFERENCE_LABEL,
  WORKSPACE_LABEL,
  aggregateToLabel,
} from './types.js';

// --- rule shorthands ------------------------------------------------------------------------

const READ = ['get', 'list', 'watch'];
const ALL = ['*'];
const ANY_GROUP = ['*'];

/** A resource rule. */
const allow = (apiGroups: string[], resources: string[], verbs: string[]): PolicyRule => ({ apiGroups, resources, verbs });
/** A rule for non-resource URLs. */
const allowPaths = (nonResourceURLs: string[], verbs: string[]): PolicyRule => ({ nonResourceURLs, verbs });

/** What a platform-wide workspace viewer or manager reaches inside every workspace. */
const WORKSPACE_WIDE_RESOURCES = [
  'abnormalworkloads', 'quotas', 'workloads', 'configmaps', 'endpoints', 'events', 'limitranges', 'namespaces',
  'persistentvolumeclaims', 'podtemplates', 'replicationcontrollers', 'resourcequotas', 'secrets', 'serviceaccounts',
  'services', 'applications', 'controllerrevisions', 'deployments', 'replicasets', 'statefulsets', 'daemonsets',
  'meshpolicies', 'cronjobs', 'jobs', 'horizontalpodautoscalers', 'events', 'ingresses', 'router', 'filters', 'pods',
  'pods/log', 'pods/exec', 'pods/containers', 'namespacenetworkpolicies', 'workspacenetworkpolicies', 'networkpolicies',
  'podsecuritypolicies', 'rolebindings', 'roles', 'namespacemembers', 'servicepolicies', 'workspaces',
  'workspacetemplates', 'workspaceroles', 'workspacemembers', 'workspacemembers/namespaces', 'workspacerolebindings',
  'workloads',
];

/** Project resources a workspace member sees in the workspace's projects. */
const WORKSPACE_PROJECT_VIEW_RESOURCES = [
  'namespaces', 'configmaps', 'endpoints', 'events', 'limitranges', 'persistentvolumeclaims', 'podtemplates',
  'replicationcontrollers', 'resourcequotas', 'secrets', 'serviceaccounts', 'services', 'applications',
  'controllerrevisions', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'cronjobs', 'jobs', 'events',
  'ingresses', 'router', 'pods', 'pods/log', 'pods/containers', 'namespacenetworkpolicies', 'networkpolicies',
  'podsecuritypolicies', 'rolebindings', 'roles', 'namespacemembers', 'servicepolicies', 'workspaces', 'quotas',
  'abnormalworkloads', 'workloads', 'router', 'strategies',
];

/** As above, plus what only managers get: mesh policies and exec into pods. */
const WORKSPACE_PROJECT_MANAGE_RESOURCES = [
  'namespaces', 'configmaps', 'endpoints', 'events', 'limitranges', 'persistentvolumeclaims', 'podtemplates',
  'replicationcontrollers', 'resourcequotas', 'secrets', 'serviceaccounts', 'services', 'applications',
  'controllerrevisions', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'meshpolicies', 'cronjobs', 'jobs',
  'events', 'ingresses', 'router', 'pods', 'pods/log', 'pods/exec', 'pods/containers', 'namespacenetworkpolicies',
  'networkpolicies', 'podsecuritypolicies', 'rolebindings', 'roles', 'namespacemembers', 'servicepolicies', 'workspaces',
  'quotas', 'abnormalworkloads', 'workloads', 'router', 'strategies',
];

/** API groups of project workloads. */
const PROJECT_WORKLOAD_GROUPS = ['apps', 'extensions', 'batch', 'autoscaling', 'app.k8s.io', 'operations.kubesphere.io', 'resources.kubesphere.io'];

const CLUSTER_VIEW_GROUPS = [
  '', 'apiextensions.k8s.io', 'app.k8s.io', 'apps', 'autoscaling', 'batch', 'config.istio.io', 'events.k8s.io',
  'events.kubesphere.io', 'extensions', 'metrics.k8s.io', 'networking.k8s.io', 'node.k8s.io', 'rbac.istio.io',
  'scheduling.k8s.io', 'security.istio.io', 'storage.k8s.io', 'storage.kubesphere.io', 'resources.kubesphere.io',
  'cluster.kubesphere.io',
];

const CLUSTER_MANAGE_GROUPS = [
  '', 'apiextensions.k8s.io', 'app.k8s.io', 'apps', 'autoscaling', 'batch', 'events.k8s.io', 'extensions', 'node.k8s.io',
  'scheduling.k8s.io', 'storage.k8s.io', 'storage.k8s.io', 'storage.kubesphere.io', 'resources.kubesphere.io',
  'cluster.kubesphere.io',
];

const PROJECT_APP_WORKLOADS_VIEW = [
  'services', 'applications', 'controllerrevisions', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs',
  'cronjobs', 'pods', 'pods/log', 'pods/containers', 'services', 'ingresses', 'router', 'horizontalpodautoscalers',
  'configmaps', 'secrets',
];

const PROJECT_APP_WORKLOADS_MANAGE = [
  'services', 'applications', 'controllerrevisions', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs',
  'cronjobs', 'pods', 'pods/log', 'pods/exec', 'pods/containers', 'services', 'ingresses', 'router', 'workloads',
  'horizontalpodautoscalers',
];

const APP_GROUP = ['application.kubesphere.io'];
const APP_TEMPLATES = ['apps', 'apps/versions', 'applications', 'attachments'];
const APP_RELEASES = ['applications', 'attachments'];

/** The console modules of application workloads, for role-template-rules. */
const CLUSTER_WORKLOAD_MODULES = ['deployments', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs', 'pods', 'services', 'ingresses', 'configmaps', 'secrets', 'serviceaccounts'];
const PROJECT_WORKLOAD_MODULES = ['applications', 'deployments', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs', 'pods', 'services', 'ingresses'];
const modules = (names: string[], action: string): Record<string, string> => Object.fromEntries(names.map((n) => [n, action]));

// --- Rego policies --------------------------------------------------------------------------

const regoList = (values: string[]): string => `[${values.map((v) => JSON.stringify(v)).join(',')}]`;

/** A policy of one or more alternative `allow` bodies, printed in canonical form. */
function regoPolicy(...bodies: string[][]): string {
  const source = ['package authz', 'default allow = false', ...bodies.map((b) => `allow = true {\n${b.join('\n')}\n}`)].join('\n');
  return formatRegoModule(parseRegoModule(source));
}

/** `<what> is one of <values>`, as KubeSphere's policies spell it. */
const oneOf = (variable: string, values: string[], field: string): string[] => [
  `${variable} := ${regoList(values)}`,
  `${variable}[_] == ${field}`,
];

const BELOW_GLOBAL_SCOPES = ['Workspace', 'Namespace', 'Cluster'];

/** Reading anything in cluster, workspace or project scope (a platform-wide cluster viewer). */
const VIEW_BELOW_GLOBAL = regoPolicy([
  ...oneOf('allowedScopes', BELOW_GLOBAL_SCOPES, 'input.ResourceScope'),
  ...oneOf('allowedVerbs', READ, 'input.Verb'),
]);

/** Doing anything in cluster, workspace or project scope (a platform-wide cluster manager). */
const MANAGE_BELOW_GLOBAL = regoPolicy(oneOf('allowedScopes', BELOW_GLOBAL_SCOPES, 'input.ResourceScope'));

/**
 * What every signed-in user may do that rules cannot say: act on their own User object, read
 * their own memberships, GET the API roots, read the tenant APIs (whose handlers filter by
 * membership), and exec into their own web-kubectl pod.
 */
const AUTHENTICATED_POLICY = regoPolicy(
  ['input.Resource == "users"', 'input.User.Name == input.Name'],
  [
    ...oneOf('allowedResources', ['clustermembers', 'workspacemembers', 'namespacemembers'], 'input.Resource'),
    'input.User.Name == input.Name',
    ...oneOf('allowedVerbs', READ, 'input.Verb'),
  ],
  [...oneOf('allowedNoneResources', ['/api', '/api/v1'], 'input.Path'), 'input.Verb == "GET"'],
  ['input.APIGroup == "tenant.kubesphere.io"', 'input.KubernetesRequest == false', ...oneOf('allowedVerbs', READ, 'input.Verb')],
  [
    'input.Resource == "pods"',
    'input.Subresource == "exec"',
    ...oneOf('allowedVerbs', ['get', 'create'], 'input.Verb'),
    'podName := input.Name',
    'prefix := "ks-managed-kubectl-"',
    'startswith(podName, prefix) == true',
    'input.Namespace == "kubesphere-system"',
    'input.User.Name == trim_prefix(podName, prefix)',
  ],
);

// --- templates ------------------------------------------------------------------------------

interface TemplateDefinition {
  name: string;
  category: string;
  /** [en, zh] */
  displayName: [string, string];
  /** role-template-rules: console module → action. */
  ui: Record<string, string>;
  rules: PolicyRule[];
  /** Built-in roles whose selectors pick this template (`aggregate-to-<role>` labels). */
  aggregateTo?: string[];
  dependencies?: string[];
  hidden?: boolean;
  basic?: boolean;
  rego?: string;
}

/** The scope is the name's first word (global-…, cluster-…, workspace-…, namespace-…). */
function scopeOf(name: string): IamScope {
  return name.slice(0, name.indexOf('-')) as IamScope;
}

const TEMPLATES: TemplateDefinition[] = [
  // global
  {
    name: 'global-create-workspaces', category: 'global-workspace-management', displayName: ['Workspace Creation', '企业空间创建'],
    ui: { workspaces: 'create' },
    rules: [allow(['tenant.kubesphere.io'], ['workspaces', 'workspacetemplates'], ['create', 'watch'])],
  },
  {
    name: 'global-view-workspaces', category: 'global-workspace-management', displayName: ['Workspace Viewing', '企业空间查看'],
    ui: { workspaces: 'view' },
    rules: [allow(ANY_GROUP, WORKSPACE_WIDE_RESOURCES, READ), allow(['resources.kubesphere.io'], ['*'], ['list', 'get', 'watch'])],
  },
  {
    name: 'global-manage-workspaces', category: 'global-workspace-management', displayName: ['Workspace Management', '企业空间管理'],
    ui: { workspaces: 'manage' },
    rules: [allow(ANY_GROUP, WORKSPACE_WIDE_RESOURCES, ALL), allow(['resources.kubesphere.io'], ['*'], ALL)],
  },
  {
    name: 'global-view-clusters', category: 'global-cluster-management', displayName: ['Cluster Viewing', '集群查看'],
    ui: { clusters: 'view' }, rego: VIEW_BELOW_GLOBAL,
    rules: [
      allow(CLUSTER_VIEW_GROUPS, ['*'], READ),
      allow(['tenant.kubesphere.io'], ['workspaces', 'workspacetemplates'], READ),
      allow([IAM_API_GROUP], ['clustermembers', 'clusterroles'], READ),
      allowPaths(['*'], ['GET']),
    ],
  },
  {
    name: 'global-manage-clusters', category: 'global-cluster-management', displayName: ['Cluster Management', '集群管理'],
    ui: { clusters: 'manage' }, rego: MANAGE_BELOW_GLOBAL, dependencies: ['global-view-clusters'],
    rules: [
      allow(CLUSTER_MANAGE_GROUPS, ['*'], ALL),
      allow(['tenant.kubesphere.io'], ['workspaces', 'workspacetemplates'], ['update', 'patch']),
      allow([IAM_API_GROUP], ['clustermembers', 'clusterroles'], ALL),
      allowPaths(['*'], ['GET']),
    ],
  },
  {
    name: 'global-manage-platform-settings', category: 'global-platform-settings', displayName: ['Platform Settings Management', '平台设置管理'],
    ui: { 'platform-settings': 'manage' }, hidden: true,
    rules: [allow(['extensions.kubesphere.io'], ['*'], ALL), allow(['kubesphere.io'], ['*'], ALL)],
  },
  {
    name: 'global-view-roles', category: 'global-access-control', displayName: ['Role Viewing', '角色查看'],
    ui: { roles: 'view' }, dependencies: ['global-view-users'],
    rules: [allow([IAM_API_GROUP], ['globalroles'], READ)],
  },
  {
    name: 'global-manage-roles', category: 'global-access-control', displayName: ['Role Management', '角色管理'],
    ui: { roles: 'manage' }, hidden: true,
    rules: [allow(ANY_GROUP, ['globalroles'], ALL)],
  },
  {
    name: 'global-view-users', category: 'global-access-control', displayName: ['User Viewing', '用户查看'],
    ui: { users: 'view' },
    rules: [allow(ANY_GROUP, ['users', 'users/loginrecords'], READ)],
  },
  {
    name: 'global-manage-users', category: 'global-access-control', displayName: ['User Management', '用户管理'],
    ui: { users: 'manage' }, hidden: true,
    rules: [allow(ANY_GROUP, ['users', 'users/password', 'users/loginrecords'], ALL)],
  },
  {
    name: 'global-role-template-manage-app', category: 'manage-app', displayName: ['AppStore Management', '应用商店管理'],
    ui: { 'manage-app': 'manage' }, aggregateTo: ['admin'],
    rules: [allow(APP_GROUP, ['*'], ALL)],
  },

  // cluster: the console toggles these; cluster-admin and cluster-viewer carry the rules themselves
  ...clusterTemplates(),

  // workspace
  {
    name: 'workspace-view-workspace-settings', category: 'workspace-settings', displayName: ['Workspace Settings Viewing', '企业空间设置查看'],
    ui: { 'workspace-settings': 'view' }, aggregateTo: ['regular', 'viewer', 'self-provisioner'], hidden: true, basic: true,
    rules: [allow(ANY_GROUP, ['workspaces'], READ)],
  },
  {
    name: 'workspace-manage-workspace-settings', category: 'workspace-settings', displayName: ['Workspace Settings Management', '企业空间设置管理'],
    ui: { 'workspace-settings': 'manage' }, hidden: true,
    rules: [allow(ANY_GROUP, ['workspaces'], ALL)],
  },
  {
    name: 'workspace-create-projects', category: 'workspace-project-management', displayName: ['Project Creation', '项目创建'],
    ui: { projects: 'create' }, aggregateTo: ['self-provisioner'],
    rules: [
      allow(ANY_GROUP, ['workspaces', 'workspacemembers', 'quotas', 'abnormalworkloads', 'pods'], READ),
      allow(ANY_GROUP, ['namespaces', 'federatednamespaces'], ['create', 'watch']),
    ],
  },
  {
    name: 'workspace-view-projects', category: 'workspace-project-management', displayName: ['Project Viewing', '项目查看'],
    ui: { projects: 'view' }, aggregateTo: ['viewer'],
    rules: [allow(ANY_GROUP, WORKSPACE_PROJECT_VIEW_RESOURCES, READ), allow(PROJECT_WORKLOAD_GROUPS, ['*'], ['list', 'get', 'watch'])],
  },
  {
    name: 'workspace-manage-projects', category: 'workspace-project-management', displayName: ['Project Management', '项目管理'],
    ui: { projects: 'manage' }, dependencies: ['workspace-view-projects', 'workspace-view-members', 'workspace-create-projects'],
    rules: [allow(PROJECT_WORKLOAD_GROUPS, ['*'], ALL), allow(ANY_GROUP, WORKSPACE_PROJECT_MANAGE_RESOURCES, ALL)],
  },
  {
    name: 'workspace-view-members', category: 'workspace-access-control', displayName: ['Member Viewing', '成员查看'],
    ui: { members: 'view' }, aggregateTo: ['viewer', 'self-provisioner', 'regular'],
    rules: [allow(ANY_GROUP, ['workspacemembers'], READ)],
  },
  {
    name: 'workspace-manage-members', category: 'workspace-access-control', displayName: ['Member Management', '成员管理'],
    ui: { members: 'manage' }, hidden: true,
    rules: [allow(ANY_GROUP, ['workspacemembers'], ALL), allow(ANY_GROUP, ['workspaceroles'], ['list', 'get', 'watch'])],
  },
  {
    name: 'workspace-view-roles', category: 'workspace-access-control', displayName: ['Role Viewing', '角色查看'],
    ui: { roles: 'view' }, aggregateTo: ['viewer', 'regular', 'self-provisioner'], dependencies: ['workspace-view-members'],
    rules: [allow(ANY_GROUP, ['workspaceroles'], READ)],
  },
  {
    name: 'workspace-manage-roles', category: 'workspace-access-control', displayName: ['Role Management', '角色管理'],
    ui: { roles: 'manage' }, hidden: true,
    rules: [allow(ANY_GROUP, ['workspaceroles'], ALL)],
  },
  {
    name: 'workspace-view-app-repos', category: 'workspace-app', displayName: ['Workspace App Repos View', '应用仓库查看'],
    ui: { 'app-repos': 'view' }, aggregateTo: ['self-provisioner', 'viewer', 'regular'],
    rules: [allow(APP_GROUP, ['repos', 'repos/events'], ['get', 'list'])],
  },
  {
    name: 'workspace-manage-app-repos', category: 'workspace-app', displayName: ['Workspace App Repos Management', '应用仓库管理'],
    ui: { 'app-repos': 'manage' }, aggregateTo: ['admin'], dependencies: ['workspace-view-app-repos'],
    rules: [allow(APP_GROUP, ['repos', 'repos/events'], ALL)],
  },
  {
    name: 'workspace-view-app-templates', category: 'workspace-app',
    displayName: ['Application/application version/application instance view', '应用/应用版本/应用实例查看'],
    ui: { 'app-templates': 'view' }, aggregateTo: ['viewer'],
    rules: [allow(APP_GROUP, APP_TEMPLATES, ['get', 'list'])],
  },
  {
    name: 'workspace-view-create-app-templates', category: 'workspace-app',
    displayName: ['Workspace Application/application version/application instance view and create', '应用/应用版本/应用实例查看和创建'],
    ui: { 'app-templates': 'view' }, aggregateTo: ['viewer'],
    rules: [allow(APP_GROUP, APP_TEMPLATES, ['get', 'list', 'create', 'update', 'patch'])],
  },
  {
    name: 'workspace-delete-app-templates', category: 'workspace-app',
    displayName: ['Application/application version/application instance deletion', '应用/应用版本/应用实例删除'],
    ui: { 'app-templates': 'view' }, aggregateTo: ['viewer'],
    rules: [allow(APP_GROUP, APP_TEMPLATES, ['delete'])],
  },
  {
    name: 'workspace-manage-app-templates', category: 'workspace-app',
    displayName: ['Workspace applications/application versions/application instance management', '应用/应用版本/应用实例管理'],
    ui: { 'app-templates': 'manage' }, aggregateTo: ['admin'],
    dependencies: ['workspace-view-app-templates', 'workspace-view-create-app-templates', 'workspace-delete-app-templates'],
    rules: [allow(APP_GROUP, APP_TEMPLATES, ALL)],
  },

  // namespace (project)
  {
    name: 'namespace-view-project-settings', category: 'namespace-settings', displayName: ['Project Settings Viewing', '项目设置查看'],
    ui: { 'project-settings': 'view' }, aggregateTo: ['operator', 'viewer'], hidden: true, basic: true,
    rules: [
      allow(ANY_GROUP, ['namespaces'], ['get']),
      allow(['resources.kubesphere.io'], ['quotas', 'metrics'], ['list']),
      allow([''], ['limitranges'], ['list']),
    ],
  },
  {
    name: 'namespace-manage-project-settings', category: 'namespace-settings', displayName: ['Project Settings Management', '项目设置管理'],
    ui: { 'project-settings': 'manage' }, hidden: true,
    rules: [allow(ANY_GROUP, ['*'], ALL)],
  },
  {
    name: 'namespace-view-members', category: 'namespace-access-control', displayName: ['Member Viewing', '成员查看'],
    ui: { members: 'view' }, aggregateTo: ['operator', 'viewer'],
    rules: [allow(ANY_GROUP, ['namespacemembers', 'rolebindings'], READ)],
  },
  {
    name: 'namespace-manage-members', category: 'namespace-access-control', displayName: ['Member Management', '成员管理'],
    ui: { members: 'manage' }, hidden: true,
    rules: [allow(ANY_GROUP, ['namespacemembers', 'rolebindings'], ALL)],
  },
  {
    name: 'namespace-view-roles', category: 'namespace-access-control', displayName: ['Role Viewing', '角色查看'],
    ui: { roles: 'view' }, aggregateTo: ['operator', 'viewer'], dependencies: ['namespace-view-members'],
    rules: [allow(ANY_GROUP, ['roles'], READ)],
  },
  {
    name: 'namespace-manage-roles', category: 'namespace-access-control', displayName: ['Role Management', '角色管理'],
    ui: { roles: 'manage' }, hidden: true,
    rules: [allow(ANY_GROUP, ['roles'], ALL)],
  },
  {
    name: 'namespace-view-app-workloads', category: 'namespace-application-workloads', displayName: ['Application Workload Viewing', '应用负载查看'],
    ui: modules(PROJECT_WORKLOAD_MODULES, 'view'), aggregateTo: ['operator', 'viewer'],
    dependencies: ['namespace-view-volumes', 'namespace-view-secrets', 'namespace-view-configmaps'],
    rules: [allow(ANY_GROUP, PROJECT_APP_WORKLOADS_VIEW, READ)],
  },
  {
    name: 'namespace-manage-app-workloads', category: 'namespace-application-workloads', displayName: ['Application Workload Management', '应用负载管理'],
    ui: modules(PROJECT_WORKLOAD_MODULES, 'manage'), aggregateTo: ['operator'], dependencies: ['namespace-view-app-workloads'],
    rules: [allow(ANY_GROUP, PROJECT_APP_WORKLOADS_MANAGE, ALL), allow(ANY_GROUP, ['secrets'], ['list'])],
  },
  ...viewAndManage('configmaps', 'namespace-view-configmaps', 'namespace-manage-configmaps', ['ConfigMap Viewing', '配置字典查看'], ['ConfigMap Management', '配置字典管理']),
  ...viewAndManage('secrets', 'namespace-view-secrets', 'namespace-manage-secrets', ['Secret Viewing', '保密字典查看'], ['Secret Management', '保密字典管理']),
  {
    name: 'namespace-view-serviceaccount', category: 'namespace-configuration-management', displayName: ['Service Account Viewing', '服务账户查看'],
    ui: { serviceaccounts: 'view' }, aggregateTo: ['operator', 'viewer'], dependencies: ['namespace-view-roles', 'namespace-view-secrets'],
    rules: [allow(ANY_GROUP, ['serviceaccounts'], READ)],
  },
  {
    // Not aggregated into operator: service accounts carry credentials.
    name: 'namespace-manage-serviceaccount', category: 'namespace-configuration-management', displayName: ['Service Account Management', '服务账户管理'],
    ui: { serviceaccounts: 'manage' }, dependencies: ['namespace-view-serviceaccount'],
    rules: [allow(ANY_GROUP, ['serviceaccounts'], ALL)],
  },
  {
    name: 'namespace-view-persistentvolumeclaims', category: 'namespace-storage-management', displayName: ['PersistentVolumeClaims Viewing', '持久卷声明查看'],
    ui: { persistentvolumeclaims: 'view' }, aggregateTo: ['operator', 'viewer'],
    rules: [allow(ANY_GROUP, ['persistentvolumeclaims'], READ), allow(ANY_GROUP, ['pods'], ['list'])],
  },
  {
    name: 'namespace-manage-persistentvolumeclaims', category: 'namespace-storage-management', displayName: ['PersistentVolumeClaims Management', '持久卷声明管理'],
    ui: { persistentvolumeclaims: 'manage' }, aggregateTo: ['operator'], dependencies: ['namespace-view-persistentvolumeclaims'],
    rules: [allow(ANY_GROUP, ['persistentvolumeclaims'], ALL), allow(ANY_GROUP, ['pods'], ['list'])],
  },
  {
    name: 'namespace-view-app-releases', category: 'namespace-app', displayName: ['Namespace App Releases View', '应用实例查看'],
    ui: { 'app-releases': 'view' }, aggregateTo: ['viewer'],
    rules: [allow(APP_GROUP, APP_RELEASES, ['get', 'list'])],
  },
  {
    name: 'namespace-manage-app-releases', category: 'namespace-app', displayName: ['Namespace App Releases Management', '应用实例管理'],
    ui: { 'app-releases': 'manage' }, aggregateTo: ['operator', 'admin'],
    dependencies: ['namespace-view-app-releases', 'namespace-delete-app-releases', 'namespace-create-app-releases'],
    rules: [allow(APP_GROUP, APP_RELEASES, ALL)],
  },
  {
    name: 'namespace-delete-app-releases', category: 'namespace-app', displayName: ['Namespace Application instance deletion', '应用实例删除'],
    ui: { 'app-releases': 'manage' }, aggregateTo: ['operator', 'admin'],
    rules: [allow(APP_GROUP, APP_RELEASES, ['delete'])],
  },
  {
    name: 'namespace-create-app-releases', category: 'namespace-app', displayName: ['Namespace Application instance create', '应用实例创建'],
    ui: { 'app-releases': 'manage' }, aggregateTo: ['operator', 'admin'],
    rules: [allow(APP_GROUP, APP_RELEASES, ['post'])],
  },
];

/** A project view/manage pair over one resource, as configmaps and secrets have. */
function viewAndManage(
  resource: string,
  viewName: string,
  manageName: string,
  viewDisplay: [string, string],
  manageDisplay: [string, string],
): TemplateDefinition[] {
  const category = 'namespace-configuration-management';
  return [
    {
      name: viewName, category, displayName: viewDisplay, ui: { [resource]: 'view' }, aggregateTo: ['operator', 'viewer'],
      rules: [allow(ANY_GROUP, [resource], READ)],
    },
    {
      name: manageName, category, displayName: manageDisplay, ui: { [resource]: 'manage' }, aggregateTo: ['operator'],
      dependencies: [viewName], rules: [allow(ANY_GROUP, [resource], ALL)],
    },
  ];
}

/**
 * Cluster-scope templates have no rules: cluster-admin and cluster-viewer grant everything or
 * all reads themselves, and the templates serve custom cluster roles and the console.
 */
function clusterTemplates(): TemplateDefinition[] {
  const pair = (
    subject: string,
    category: string,
    ui: string[],
    view: [string, string],
    manage: [string, string],
    deps: { view?: string[]; manage?: string[]; viewerPicksView?: boolean } = {},
  ): TemplateDefinition[] => [
    {
      name: `cluster-view-${subject}`, category, displayName: view, ui: modules(ui, 'view'), rules: [],
      ...(deps.viewerPicksView === false ? {} : { aggregateTo: ['cluster-viewer'] }),
      ...(deps.view ? { dependencies: deps.view } : {}),
    },
    {
      name: `cluster-manage-${subject}`, category, displayName: manage, ui: modules(ui, 'manage'), rules: [],
      ...(deps.manage ? { dependencies: deps.manage } : {}),
    },
  ];
  return [
    ...pair('cluster-settings', 'cluster-settings', ['cluster-settings'], ['Cluster Settings View', '集群设置查看'], ['Cluster Settings Management', '集群设置管理']),
    ...pair('crds', 'cluster-resource-management', ['customresources'], ['Custom Resource Definition Viewing', '定制资源定义查看'], ['Custom Resource Definition Management', '定制资源定义管理']),
    ...pair('members', 'cluster-access-control', ['members'], ['Member Viewing', '成员查看'], ['Member Management', '成员管理'], {
      manage: ['cluster-view-roles', 'cluster-view-members'],
    }),
    ...pair('roles', 'cluster-access-control', ['roles'], ['Role Viewing', '角色查看'], ['Role Management', '角色管理'], {
      view: ['cluster-view-members'],
      manage: ['cluster-view-roles'],
    }),
    ...pair('nodes', 'cluster-resource-management', ['nodes'], ['Node Viewing', '节点查看'], ['Node Management', '节点管理'], {
      manage: ['cluster-view-nodes'],
    }),
    ...pair('app-workloads', 'cluster-app-workloads-management', CLUSTER_WORKLOAD_MODULES, ['Application Workload Viewing', '应用负载查看'], ['Application Workload Management', '应用负载管理'], {
      view: ['cluster-view-projects'],
      manage: ['cluster-view-app-workloads', 'cluster-view-projects'],
      viewerPicksView: false,
    }),
    ...pair('projects', 'cluster-project-management', ['projects'], ['Project Viewing', '项目查看'], ['Project Management', '项目管理'], {
      manage: ['cluster-view-projects'],
    }),
    ...pair('storageclasses', 'cluster-storage-management', ['storageclasses'], ['Storage Class Viewing', '存储类查看'], ['Storage Class Management', '存储类管理'], {
      view: ['cluster-view-persistentvolumeclaims'],
      manage: ['cluster-view-persistentvolumeclaims', 'cluster-view-storageclasses'],
    }),
    ...pair('persistentvolumeclaims', 'cluster-storage-management', ['persistentvolumeclaims'], ['Persistent Volume Claim Viewing', '持久卷声明查看'], ['Persistent Volume Claim Management', '持久卷声明管理'], {
      manage: ['cluster-view-persistentvolumeclaims', 'cluster-view-storageclasses'],
    }),
    {
      name: 'cluster-view-components', category: 'cluster-resource-management', displayName: ['System Component Viewing', '系统组件查看'],
      ui: { components: 'view' }, aggregateTo: ['cluster-viewer'], rules: [],
    },
  ];
}

function templateObject(t: TemplateDefinition): RoleTemplate {
  const labels: Record<string, string> = {
    [CATEGORY_LABEL]: t.category,
    [SCOPE_LABEL]: scopeOf(t.name),
    [MANAGED_LABEL]: 'true',
  };
  for (const role of t.aggregateTo ?? []) labels[aggregateToLabel(role)] = '';
  if (t.hidden) labels[HIDDEN_ROLE_TEMPLATE_LABEL] = 'true';
  if (t.basic) labels[BASIC_ROLE_TEMPLATE_LABEL] = 'true';
  const annotations: Record<string, string> = { [ROLE_TEMPLATE_RULES_ANNOTATION]: JSON.stringify(t.ui) };
  if (t.dependencies) annotations[DEPENDENCIES_ANNOTATION] = JSON.stringify(t.dependencies);
  if (t.rego) annotations[REGO_OVERRIDE_ANNOTATION] = t.rego;
  return {
    apiVersion: IAM_API_VERSION,
    kind: 'RoleTemplate',
    metadata: { name: t.name, labels, annotations },
    spec: {
      displayName: { en: t.displayName[0], zh: t.displayName[1] },
      rules: structuredClone(t.rules),
    },
  };
}

/** KubeSphere's RoleTemplates (fresh objects on every call). */
export function roleTemplates(): RoleTemplate[] {
  return TEMPLATES.map(templateObject);
}

// --- categories -----------------------------------------------------------------------------

const CATEGORIES: Array<[name: string, scope: IamScope, en: string, zh: string]> = [
  ['global-platform-settings', 'global', 'Platform Settings', '平台设置'],
  ['global-access-control', 'global', 'Access Control', '访问控制'],
  ['global-workspace-management', 'global', 'Workspace', '企业空间'],
  ['global-cluster-management', 'global', 'Cluster Management', '集群管理'],
  ['cluster-access-control', 'cluster', 'Access Control', '访问控制'],
  ['cluster-resource-management', 'cluster', 'Cluster Resources', '集群资源'],
  ['cluster-settings', 'cluster', 'Cluster Settings', '集群设置'],
  ['cluster-app-workloads-management', 'cluster', 'Application Workloads', '应用负载'],
  ['cluster-project-management', 'cluster', 'Project', '项目'],
  ['cluster-storage-management', 'cluster', 'Storage', '存储'],
  ['workspace-settings', 'workspace', 'Workspace Settings', '企业空间设置'],
  ['workspace-project-management', 'workspace', 'Projects', '项目'],
  ['workspace-access-control', 'workspace', 'Access Control', '访问控制'],
  ['namespace-access-control', 'namespace', 'Access Control', '访问控制'],
  ['namespace-configuration-management', 'namespace', 'Configuration', '配置'],
  ['namespace-storage-management', 'namespace', 'Storage', '存储'],
  ['namespace-application-workloads', 'namespace', 'Application Workloads', '应用负载'],
  ['namespace-settings', 'namespace', 'Project Settings', '项目设置'],
  ['manage-app', 'global', 'AppStore Manage', '应用商店管理'],
  ['workspace-app', 'workspace', 'Workspace Apps', '应用管理'],
  ['namespace-app', 'namespace', 'App Releases', '应用'],
];

/** The Categories RoleTemplates are grouped by in the console. */
export function roleTemplateCategories(): Category[] {
  return CATEGORIES.map(([name, scope, en, zh]) => ({
    apiVersion: IAM_API_VERSION,
    kind: 'Category',
    metadata: { name, labels: { [SCOPE_LABEL]: scope, [MANAGED_LABEL]: 'true' } },
    spec: { displayName: { en, zh } },
  }));
}

// --- built-in roles -------------------------------------------------------------------------

const description = (en: string, zh: string): string => JSON.stringify({ zh, en });
const FULL_ACCESS: PolicyRule[] = [allow(['*'], ['*'], ALL), allowPaths(['*'], ALL)];

function role(
  kind: 'GlobalRole' | 'ClusterRole' | 'WorkspaceRole' | 'Role',
  name: string,
  fields: {
    rules: PolicyRule[];
    aggregation?: IamRole['aggregationRoleTemplates'];
    annotations?: Record<string, string>;
    autoAggregate?: boolean;
  },
): IamRole {
  const annotations = { ...fields.annotations };
  if (fields.autoAggregate) annotations[AUTO_AGGREGATE_ANNOTATION] = 'true';
  const object: IamRole = { apiVersion: IAM_API_VERSION, kind, metadata: { name } };
  if (Object.keys(annotations).length) object.metadata.annotations = annotations;
  if (fields.aggregation) object.aggregationRoleTemplates = structuredClone(fields.aggregation);
  object.rules = structuredClone(fields.rules);
  return object;
}

/**
 * The GlobalRoles KubeSphere installs: platform-admin, platform-regular,
 * platform-self-provisioner, the internal authenticated and anonymous roles, pre-registration
 * (external identities not yet confirmed) and ks-console (the console's own service identity).
 * Aggregation from templates happens when a controller reconciles them (see aggregation.ts).
 */
export function builtinGlobalRoles(): IamRole[] {
  return [
    role('GlobalRole', 'anonymous', {
      rules: [allow(['config.kubesphere.io'], ['configs'], ['get', 'list']), allowPaths(['/static/images/*'], ['GET'])],
    }),
    role('GlobalRole', 'authenticated', {
      autoAggregate: true,
      annotations: { [REGO_OVERRIDE_ANNOTATION]: AUTHENTICATED_POLICY },
      aggregation: { roleSelector: { matchLabels: { [aggregateToLabel('authenticated')]: '', [SCOPE_LABEL]: 'global' } } },
      rules: [
        allow(['config.kubesphere.io'], ['configs', 'platformconfigs'], ['get', 'list']),
        allow([IAM_API_GROUP], ['users', 'roletemplates', 'categories'], ['list']),
        allow(['resources.kubesphere.io'], ['registry', 'git'], ['get', 'create']),
        allow(['resources.kubesphere.io'], ['clusters'], ['get', 'list']),
        allow(['*'], ['storageclasses', 'storageclasscapabilities', 'nodes'], ['get', 'list']),
        allow(['resources.kubesphere.io'], ['namespaces', 'services'], ['list']),
        allow(['tenant.kubesphere.io'], ['workspacetemplates'], ['patch']),
        allow(['extensions.kubesphere.io'], ['jsbundles', 'extensionentries'], ['get', 'list']),
        allow(['kubesphere.io'], ['extensions'], ['get', 'list']),
        allow(APP_GROUP, ['apps', 'categories', 'apps/versions', 'applications'], ['get', 'list']),
        allow(['cluster.kubesphere.io'], ['labels'], ['get', 'list']),
        allowPaths(['/static/images/*'], ['GET']),
      ],
    }),
    role('GlobalRole', 'platform-admin', {
      autoAggregate: true,
      annotations: {
        [CREATOR_ANNOTATION]: 'admin',
        [DESCRIPTION_ANNOTATION]: description('Full control of every resource of the platform.', '完全控制平台上的所有资源。'),
        [REGO_OVERRIDE_ANNOTATION]: regoPolicy(
          [...oneOf('allowedScopes', BELOW_GLOBAL_SCOPES, 'input.ResourceScope'), ...oneOf('allowedVerbs', READ, 'input.Verb')],
          oneOf('allowedScopes', BELOW_GLOBAL_SCOPES, 'input.ResourceScope'),
        ),
      },
      aggregation: {
        roleSelector: { matchLabels: { [SCOPE_LABEL]: 'global' } },
        templateNames: [
          'global-manage-clusters', 'global-view-clusters', 'global-create-workspaces', 'global-view-basic',
          'global-manage-app-templates', 'global-manage-users', 'global-view-roles', 'global-manage-platform-settings',
          'global-manage-workspaces', 'global-view-app-templates', 'global-view-users', 'global-manage-roles',
          'global-view-workspaces',
        ],
      },
      rules: FULL_ACCESS,
    }),
    role('GlobalRole', 'platform-regular', {
      annotations: {
        [CREATOR_ANNOTATION]: 'admin',
        [DESCRIPTION_ANNOTATION]: description('No access until invited into a workspace.', '被邀请加入企业空间前无任何资源访问权限。'),
      },
      rules: [],
    }),
    role('GlobalRole', 'platform-self-provisioner', {
      annotations: {
        [CREATOR_ANNOTATION]: 'admin',
        [DESCRIPTION_ANNOTATION]: description('Creates workspaces and administers the ones it created.', '可创建企业空间并管理自己创建的企业空间。'),
      },
      aggregation: { templateNames: ['global-create-workspaces'] },
      rules: [allow(['tenant.kubesphere.io'], ['workspaces', 'workspacetemplates'], ['create', 'watch'])],
    }),
    role('GlobalRole', 'pre-registration', { rules: [allow([IAM_API_GROUP], ['users'], ['create', 'list'])] }),
    role('GlobalRole', 'ks-console', {
      rules: [allow(['extensions.kubesphere.io', 'config.kubesphere.io'], ['*'], READ)],
    }),
  ];
}

/** cluster-admin (everything in the cluster) and cluster-viewer (reads everything). */
export function builtinClusterRoles(): IamRole[] {
  return [
    role('ClusterRole', 'cluster-admin', {
      autoAggregate: true,
      annotations: {
        [CREATOR_ANNOTATION]: 'system',
        [DESCRIPTION_ANNOTATION]: description('Full control of every resource in the cluster.', '完全控制集群中的所有资源。'),
      },
      aggregation: { roleSelector: { matchLabels: { [SCOPE_LABEL]: 'cluster' } }, templateNames: [] },
      rules: FULL_ACCESS,
    }),
    role('ClusterRole', 'cluster-viewer', {
      autoAggregate: true,
      annotations: {
        [CREATOR_ANNOTATION]: 'system',
        [DESCRIPTION_ANNOTATION]: description('Reads every resource in the cluster.', '查看集群中的所有资源。'),
      },
      aggregation: {
        roleSelector: { matchLabels: { [aggregateToLabel('cluster-viewer')]: '' } },
        templateNames: ['cluster-view-components', 'cluster-view-volume-snapshot-classes', 'cluster-view-volumes', 'cluster-view-roles'],
      },
      rules: [allow(['*'], ['*'], READ), allowPaths(['*'], ['GET'])],
    }),
  ];
}

/** Groups whose members operators may manage freely in their project. */
const OPERATOR_WRITABLE_GROUPS = [
  '', 'apps', 'extensions', 'batch', 'autoscaling', 'app.k8s.io', 'operations.kubesphere.io', 'resources.kubesphere.io',
  'config.istio.io', 'events.k8s.io', 'events.kubesphere.io', 'snapshot.storage.k8s.io', 'networking.k8s.io',
];

function builtin(name: string, scope: 'workspace' | 'namespace', roleObject: IamRole, targetSelector?: BuiltinRole['targetSelector']): BuiltinRole {
  const object: BuiltinRole = {
    apiVersion: IAM_API_VERSION,
    kind: 'BuiltinRole',
    metadata: { name, labels: { [SCOPE_LABEL]: scope } },
    role: roleObject,
  };
  if (targetSelector) object.targetSelector = targetSelector;
  return object;
}

const systemAnnotations = (en: string, zh: string): Record<string, string> => ({
  [CREATOR_ANNOTATION]: 'system',
  [DESCRIPTION_ANNOTATION]: description(en, zh),
});

/**
 * The roles every workspace gets (`<ws>-admin`, `-regular`, `-self-provisioner`, `-viewer`) and
 * every project gets (`admin`, `operator`, `viewer`, for namespaces labelled
 * kubesphere.io/managed=true), as BuiltinRole objects holding the role to instantiate.
 */
export function builtinRoles(): BuiltinRole[] {
  const projects = { matchLabels: { [MANAGED_LABEL]: 'true' } };
  const projectSelector = (extra: Record<string, string>) => ({
    roleSelector: { matchLabels: { ...extra, [MANAGED_LABEL]: 'true', [SCOPE_LABEL]: 'namespace' } },
  });
  const workspaceSelector = (extra: Record<string, string>, templateNames: string[]) => ({
    roleSelector: { matchLabels: { ...extra, [SCOPE_LABEL]: 'workspace' } },
    templateNames,
  });
  return [
    builtin('project-admin', 'namespace', role('Role', 'admin', {
      autoAggregate: true,
      annotations: systemAnnotations('Full control of the project.', '完全控制项目中的所有资源。'),
      aggregation: projectSelector({}),
      rules: [allow(['*'], ['*'], ALL)],
    }), projects),
    builtin('project-operator', 'namespace', role('Role', 'operator', {
      autoAggregate: true,
      annotations: systemAnnotations('Manages the project\'s resources except members and roles.', '管理项目中除成员和角色以外的资源。'),
      aggregation: projectSelector({ [aggregateToLabel('operator')]: '' }),
      rules: [allow(['*'], ['*'], READ), allow(OPERATOR_WRITABLE_GROUPS, ['*'], ALL)],
    }), projects),
    builtin('project-viewer', 'namespace', role('Role', 'viewer', {
      autoAggregate: true,
      annotations: systemAnnotations('Reads every resource of the project.', '查看项目中的所有资源。'),
      aggregation: projectSelector({ [aggregateToLabel('viewer')]: '' }),
      rules: [allow(['*'], ['*'], READ)],
    }), projects),
    builtin('workspace-admin', 'workspace', role('WorkspaceRole', 'admin', {
      autoAggregate: true,
      annotations: systemAnnotations('Full control of the workspace.', '完全控制企业空间中的所有资源。'),
      aggregation: workspaceSelector({}, [
        'workspace-manage-workspace-settings', 'workspace-view-workspace-settings', 'workspace-manage-projects',
        'workspace-view-projects', 'workspace-create-projects', 'workspace-view-members', 'workspace-manage-members',
        'workspace-manage-roles', 'workspace-view-roles', 'workspace-manage-groups', 'workspace-view-groups',
      ]),
      rules: [allow(['*'], ['*'], ALL)],
    })),
    builtin('workspace-regular', 'workspace', role('WorkspaceRole', 'regular', {
      autoAggregate: true,
      annotations: systemAnnotations('Sees the workspace settings and members.', '查看企业空间设置和成员。'),
      aggregation: workspaceSelector({ [aggregateToLabel('regular')]: '' }, [
        'workspace-view-workspace-settings', 'workspace-view-members', 'workspace-view-roles',
      ]),
      rules: [],
    })),
    builtin('workspace-self-provisioner', 'workspace', role('WorkspaceRole', 'self-provisioner', {
      autoAggregate: true,
      annotations: systemAnnotations('Sees the workspace settings and creates projects in it.', '查看企业空间设置并可创建项目。'),
      aggregation: workspaceSelector({ [aggregateToLabel('self-provisioner')]: '' }, [
        'workspace-create-projects', 'workspace-view-workspace-settings', 'workspace-view-members', 'workspace-view-roles',
        'workspace-view-app-repos',
      ]),
      rules: [],
    })),
    builtin('workspace-viewer', 'workspace', role('WorkspaceRole', 'viewer', {
      autoAggregate: true,
      annotations: systemAnnotations('Reads every resource of the workspace.', '查看企业空间中的所有资源。'),
      aggregation: workspaceSelector({ [aggregateToLabel('viewer')]: '' }, [
        'workspace-view-projects', 'workspace-view-members', 'workspace-view-roles', 'workspace-view-groups',
        'workspace-view-workspace-settings',
      ]),
      rules: [allow(['*'], ['*'], READ)],
    })),
  ];
}

/** The bindings KubeSphere creates at install: admin → platform-admin and the internal groups. */
export function builtinGlobalRoleBindings(adminUser = 'admin'): IamRoleBinding[] {
  const binding = (name: string, roleName: string, subjects: Array<{ kind: 'User' | 'Group'; name: string }>, labels?: Record<string, string>): IamRoleBinding => ({
    apiVersion: IAM_API_VERSION,
    kind: 'GlobalRoleBinding',
    metadata: labels ? { name, labels } : { name },
    roleRef: { apiGroup: IAM_API_GROUP, kind: 'GlobalRole', name: roleName },
    subjects: subjects.map((s) => ({ apiGroup: IAM_API_GROUP, kind: s.kind, name: s.name })),
  });
  return [
    binding(adminUser, 'platform-admin', [{ kind: 'User', name: adminUser }], {
      [ROLE_REFERENCE_LABEL]: 'platform-admin',
      [USER_REFERENCE_LABEL]: adminUser,
    }),
    binding('anonymous', 'anonymous', [{ kind: 'Group', name: ALL_UNAUTHENTICATED_GROUP }]),
    binding('authenticated', 'authenticated', [{ kind: 'Group', name: ALL_AUTHENTICATED_GROUP }]),
    binding('pre-registration', 'pre-registration', [
      { kind: 'Group', name: PRE_REGISTRATION_GROUP },
      { kind: 'User', name: PRE_REGISTRATION_USER },
    ]),
  ];
}

// --- instantiation --------------------------------------------------------------------------

/**
 * The WorkspaceRole a workspace-scope BuiltinRole yields for one workspace: named
 * `<workspace>-<role>` and labelled with the workspace, as the workspace controller creates it.
 */
export function workspaceRoleFor(builtinRole: BuiltinRole, workspace: string): IamRole {
  const template = builtinRole.role;
  if (template.kind !== 'WorkspaceRole') throw new Error(`BuiltinRole ${builtinRole.metadata.name} does not hold a WorkspaceRole`);
  const object = structuredClone(template);
  object.metadata = {
    name: `${workspace}-${template.metadata.name}`,
    labels: { ...template.metadata.labels, [WORKSPACE_LABEL]: workspace },
    ...(template.metadata.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
  };
  return object;
}

/** The Role a namespace-scope BuiltinRole yields in one project (same name, in the namespace). */
export function projectRoleFor(builtinRole: BuiltinRole, namespace: string): IamRole {
  const template = builtinRole.role;
  if (template.kind !== 'Role') throw new Error(`BuiltinRole ${builtinRole.metadata.name} does not hold a Role`);
  const object = structuredClone(template);
  object.metadata = {
    name: template.metadata.name,
    namespace,
    ...(template.metadata.labels ? { labels: { ...template.metadata.labels } } : {}),
    ...(template.metadata.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
  };
  return object;
}

/** Names of the per-workspace roles: `<ws>-admin`, `<ws>-regular`, `<ws>-self-provisioner`, `<ws>-viewer`. */
export const WORKSPACE_BUILTIN_ROLES = ['admin', 'regular', 'self-provisioner', 'viewer'] as const;
/** Names of the per-project roles. */
export const PROJECT_BUILTIN_ROLES = ['admin', 'operator', 'viewer'] as const;

/**
 * The roles the BuiltinRoles of a scope yield for one workspace or project whose labels match
 * their targetSelector (project roles only for namespaces labelled kubesphere.io/managed=true; an
 * absent selector matches everything), as the workspace and namespace controllers create them.
 * Not yet aggregated: pass each through `aggregatedRole`.
 */
export function instantiateBuiltinRoles(
  scope: 'workspace' | 'namespace',
  target: { name: string; labels?: Record<string, string> },
  builtins: readonly BuiltinRole[] = builtinRoles(),
): IamRole[] {
  const roles: IamRole[] = [];
  for (const b of builtins) {
    if (b.metadata.labels?.[SCOPE_LABEL] !== scope) continue;
    let selector;
    try {
      selector = labelSelectorFromObject(b.targetSelector ?? {});
    } catch {
      continue; // an invalid selector selects nothing, as KubeSphere logs and skips it
    }
    if (!matchesLabels(selector, target.labels)) continue;
    if (scope === 'workspace' && b.role.kind === 'WorkspaceRole') roles.push(workspaceRoleFor(b, target.name));
    if (scope === 'namespace' && b.role.kind === 'Role') roles.push(projectRoleFor(b, target.name));
  }
  return roles;
}

/**
 * A member's binding as KubeSphere's member APIs write it: named `<user>-<role>`, labelled with
 * the user and role (and the workspace for WorkspaceRoleBindings), one User subject.
 */
export function memberRoleBinding(
  kind: 'GlobalRoleBinding' | 'ClusterRoleBinding' | 'WorkspaceRoleBinding' | 'RoleBinding',
  username: string,
  roleName: string,
  target: { workspace?: string; namespace?: string } = {},
): IamRoleBinding {
  const roleKind = { GlobalRoleBinding: 'GlobalRole', ClusterRoleBinding: 'ClusterRole', WorkspaceRoleBinding: 'WorkspaceRole', RoleBinding: 'Role' }[kind];
  const labels: Record<string, string> = { [USER_REFERENCE_LABEL]: username, [ROLE_REFERENCE_LABEL]: roleName };
  if (kind === 'WorkspaceRoleBinding') {
    if (!target.workspace) throw new Error('a WorkspaceRoleBinding needs a workspace');
    labels[WORKSPACE_LABEL] = target.workspace;
  }
  if (kind === 'RoleBinding' && !target.namespace) throw new Error('a RoleBinding needs a namespace');
  return {
    apiVersion: IAM_API_VERSION,
    kind,
    metadata: {
      name: `${username}-${roleName}`,
      ...(kind === 'RoleBinding' ? { namespace: target.namespace } : {}),
      labels,
    },
    roleRef: { apiGroup: IAM_API_GROUP, kind: roleKind, name: roleName },
    subjects: [{ apiGroup: IAM_API_GROUP, kind: 'User', name: username }],
  };
}
