/** The CustomResourceDefinitions the platform installs (iam, tenant and quota groups). */
import type { KubeObject } from '@canopy/apimachinery';
import { iamCrds } from './iam.js';
import { quotaCrds, tenantCrds } from './tenant.js';

export { IAM_GROUP } from './iam.js';
export { QUOTA_GROUP, TENANT_GROUP } from './tenant.js';
export * as schemaDsl from './schema-dsl.js';

/** Fresh objects on every call, so callers may mutate them (e.g. add labels) freely. */
export function platformCrds(): KubeObject[] {
  return [...iamCrds(), ...tenantCrds(), ...quotaCrds()];
}
