export * from './storage/types.js';
export * from './registry/types.js';
export { ApiServer, type ApiServerOptions } from './apiserver.js';
export { renderKubeconfig, writeKubeconfig } from './auth/kubeconfig.js';
export { SERVER_VERSION } from './version.js';
export { SqliteRevisionStore, type SqliteRevisionStoreOptions } from './storage/sqlite-store.js';
export { AdmissionChain, SYSTEM_USER, type AdmissionAttributes, type AdmissionOperation, type AdmissionPlugin } from './server/admission.js';
export type { UserInfo } from './server/types.js';
export type { ActionContext, ActionHandler } from './server/rest.js';
export * from './server/authorization.js';
export {
  RbacAuthorizer,
  aggregateClusterRoles,
  checkBindingWrite,
  checkRoleWrite,
  confirmNoEscalation,
  ruleCovers,
  resourceRequestAttributes,
  nonResourceRequestAttributes,
  serviceAccountUser,
  type RbacPolicySource,
  type RequestAttributes,
  type RbacAuthorizationResult,
  type PolicyRule,
  type Role,
  type ClusterRole,
  type RoleBinding,
  type ClusterRoleBinding,
  type SubjectRulesReviewStatus,
  type RbacWriteCheck,
} from './auth/rbac.js';
export { defaultClusterRoles, defaultClusterRoleBindings, defaultRoles, defaultRoleBindings } from './auth/bootstrap-policy.js';
export type * from './server/node-connector.js';
