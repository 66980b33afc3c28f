/** The platform's own resource types (iam, tenant, quota groups), for its clients and informers. */
import { resourceType } from '@canopy/client';

const iam = (resource: string, kind: string, namespaced = false) => resourceType('iam.kubesphere.io', 'v1beta1', resource, kind, namespaced);

export const platformTypes = {
  users: iam('users', 'User'),
  loginRecords: iam('loginrecords', 'LoginRecord'),
  globalRoles: iam('globalroles', 'GlobalRole'),
  globalRoleBindings: iam('globalrolebindings', 'GlobalRoleBinding'),
  clusterRoles: iam('clusterroles', 'ClusterRole'),
  clusterRoleBindings: iam('clusterrolebindings', 'ClusterRoleBinding'),
  workspaceRoles: iam('workspaceroles', 'WorkspaceRole'),
  workspaceRoleBindings: iam('workspacerolebindings', 'WorkspaceRoleBinding'),
  roles: iam('roles', 'Role', true),
  roleBindings: iam('rolebindings', 'RoleBinding', true),
  roleTemplates: iam('roletemplates', 'RoleTemplate'),
  builtinRoles: iam('builtinroles', 'BuiltinRole'),
  categories: iam('categories', 'Category'),
  groups: iam('groups', 'Group'),
  groupBindings: iam('groupbindings', 'GroupBinding'),
  workspaceTemplates: resourceType('tenant.kubesphere.io', 'v1beta1', 'workspacetemplates', 'WorkspaceTemplate', false),
  workspaces: resourceType('tenant.kubesphere.io', 'v1beta1', 'workspaces', 'Workspace', false),
  workspaceQuotas: resourceType('quota.kubesphere.io', 'v1alpha2', 'resourcequotas', 'ResourceQuota', false),
} as const;
