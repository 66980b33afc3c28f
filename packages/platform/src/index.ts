export * from './crds/index.js';
export * from './iam/index.js';
export * from './platform.js';
export * from './resource-types.js';
export * from './server/types.js';
export { PlatformFront } from './server/front.js';
export * from './audit/audit-log.js';
export * from './auth/index.js';
