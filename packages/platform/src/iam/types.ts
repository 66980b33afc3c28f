/**
 * The iam.kubesphere.io v1beta1 object model as plain data, and the label and annotation names
 * KubeSphere gives meaning to. Everything here is an interface fact shared with KubeSphere clients
 * (console, ksctl, scripts), so the spellings must not change.
 */
import type { KubeObject, LabelSelectorObject } from '@canopy/apimachinery';

export const IAM_API_GROUP = 'iam.kubesphere.io';
export const IAM_API_VERSION = 'iam.kubesphere.io/v1beta1';
export const TENANT_API_GROUP = 'tenant.kubesphere.io';

// --- labels ---------------------------------------------------------------------------------
/** Scope of a RoleTemplate, Category or BuiltinRole: global | cluster | workspace | namespace. */
export const SCOPE_LABEL = 'iam.kubesphere.io/scope';
export const CATEGORY_LABEL = 'iam.kubesphere.io/category';
/** Workspace of a namespace (project), workspace role, workspace role binding, group. */
export const WORKSPACE_LABEL = 'kubesphere.io/workspace';
/** Objects KubeSphere manages; on a namespace it makes the namespace a project. */
export const MANAGED_LABEL = 'kubesphere.io/managed';
export const USER_REFERENCE_LABEL = 'iam.kubesphere.io/user-ref';
export const ROLE_REFERENCE_LABEL = 'iam.kubesphere.io/role-ref';
export const GROUP_REFERENCE_LABEL = 'iam.kubesphere.io/group-ref';
/** Templates the console does not list as choosable permissions. */
export const HIDDEN_ROLE_TEMPLATE_LABEL = 'iam.kubesphere.io/hidden-role-template';
/** Templates every custom role of the scope includes. */
export const BASIC_ROLE_TEMPLATE_LABEL = 'iam.kubesphere.io/basic-role-template';
export const PROTECTED_RESOURCE_LABEL = 'kubesphere.io/protected-resource';
/** `iam.kubesphere.io/aggregate-to-<role>`: which built-in roles select a template. */
export const aggregateToLabel = (role: string): string => `iam.kubesphere.io/aggregate-to-${role}`;

// --- annotations ----------------------------------------------------------------------------
/** JSON object `{module: action}` the console uses to show or hide actions. */
export const ROLE_TEMPLATE_RULES_ANNOTATION = 'iam.kubesphere.io/role-template-rules';
/** JSON list of templates a template needs (the console ticks them together). */
export const DEPENDENCIES_ANNOTATION = 'iam.kubesphere.io/dependencies';
/** A Rego module (package authz, rule allow) granting what rules cannot express. */
export const REGO_OVERRIDE_ANNOTATION = 'iam.kubesphere.io/rego-override';
/** Roles that pick up new matching templates automatically. */
export const AUTO_AGGREGATE_ANNOTATION = 'iam.kubesphere.io/auto-aggregate';
/** On a User: the GlobalRole the user controller binds. */
export const GLOBAL_ROLE_ANNOTATION = 'iam.kubesphere.io/globalrole';
export const UNINITIALIZED_ANNOTATION = 'iam.kubesphere.io/uninitialized';
export const CREATOR_ANNOTATION = 'kubesphere.io/creator';
export const DESCRIPTION_ANNOTATION = 'kubesphere.io/description';
export const ALIAS_NAME_ANNOTATION = 'kubesphere.io/alias-name';

// --- well-known identities ------------------------------------------------------------------
export const ALL_AUTHENTICATED_GROUP = 'system:authenticated';
export const ALL_UNAUTHENTICATED_GROUP = 'system:unauthenticated';
export const ANONYMOUS_USER = 'system:anonymous';
export const PRE_REGISTRATION_USER = 'system:pre-registration';
export const PRE_REGISTRATION_GROUP = 'pre-registration';
/** Kubernetes ServiceAccount user names: system:serviceaccount:<namespace>:<name>. */
export const SERVICE_ACCOUNT_USERNAME_PREFIX = 'system:serviceaccount:';
/** KubeSphere (core.kubesphere.io) ServiceAccount token user names: kubesphere:serviceaccount:<ns>:<name>. */
export const KUBESPHERE_SERVICE_ACCOUNT_USERNAME_PREFIX = 'kubesphere:serviceaccount:';
export const KUBESPHERE_CORE_GROUP = 'core.kubesphere.io';
export const RBAC_API_GROUP = 'rbac.authorization.k8s.io';

/** The scopes roles and templates live in (the value of `iam.kubesphere.io/scope`). */
export type IamScope = 'global' | 'cluster' | 'workspace' | 'namespace';
export const IAM_SCOPES: readonly IamScope[] = ['global', 'cluster', 'workspace', 'namespace'];

export type RoleKind = 'GlobalRole' | 'ClusterRole' | 'WorkspaceRole' | 'Role';
export type RoleBindingKind = 'GlobalRoleBinding' | 'ClusterRoleBinding' | 'WorkspaceRoleBinding' | 'RoleBinding';

export const ROLE_KIND_OF_SCOPE: Record<IamScope, RoleKind> = {
  global: 'GlobalRole',
  cluster: 'ClusterRole',
  workspace: 'WorkspaceRole',
  namespace: 'Role',
};

/** rbacv1.PolicyRule. */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** rbacv1.RoleRef. */
export interface RoleRef {
  apiGroup: string;
  kind: string;
  name: string;
}

/** rbacv1.Subject. */
export interface Subject {
  kind: string;
  name: string;
  apiGroup?: string;
  namespace?: string;
}

export interface AggregationRoleTemplates {
  templateNames?: string[];
  roleSelector?: LabelSelectorObject;
}

/** GlobalRole, ClusterRole, WorkspaceRole and Role share this shape. */
export interface IamRole extends KubeObject {
  rules?: PolicyRule[];
  aggregationRoleTemplates?: AggregationRoleTemplates;
}

/** GlobalRoleBinding, ClusterRoleBinding, WorkspaceRoleBinding and RoleBinding. */
export interface IamRoleBinding extends KubeObject {
  roleRef: RoleRef;
  subjects?: Subject[];
}

export interface RoleTemplate extends KubeObject {
  spec: {
    rules: PolicyRule[];
    displayName?: Record<string, string>;
    description?: Record<string, string>;
  };
}

export interface Category extends KubeObject {
  spec: { displayName?: Record<string, string>; description?: Record<string, string>; icon?: string };
}

export interface BuiltinRole extends KubeObject {
  targetSelector?: LabelSelectorObject;
  role: IamRole;
}

/** The identity a request is made as. */
export interface UserInfo {
  name: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}
