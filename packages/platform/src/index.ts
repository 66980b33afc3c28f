export * from './crds/index.js';
export * from './iam/index.js';
export * from './platform.js';
export * from './resource-types.js';
export * from './server/types.js';
export { PlatformFront } from './server/front.js';
export * from './audit/audit-log.js';
export * from './auth/index.js';
export * from './controllers/index.js';
export {
  checkWorkspaceQuota,
  WorkspaceQuotaTracker,
  asNamespaceQuota,
  quotaSelects,
  type WorkspaceQuota,
  type WorkspaceQuotaRequest,
} from './tenant/workspace-quota.js';
export {
  checkProtectedDeletion,
  platformAdmissionPlugins,
  WriteAdmission,
  type AdmissionPluginLike,
  type AdmissionAttributesLike,
  type StoredObjects,
} from './tenant/admission.js';
export { MemberManager, MEMBER_ROLE_ANNOTATIONS, type Member } from './iam-api/members.js';
export { reviewAttributes } from './iam-api/routes.js';
export { parseGenericPath } from './iam-api/generic.js';
