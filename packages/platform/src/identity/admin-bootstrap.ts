/**
 * First start: the GlobalRoleBindings of the internal groups (authenticated, anonymous,
 * pre-registration) and the `admin` user with a random password, marked uninitialized so that its
 * first sign-in must change it, bound to platform-admin. The password is returned once for the
 * server to show and is never written anywhere but as a bcrypt hash in the User.
 *
 * "First start" means: this data directory has not bootstrapped an admin before and the cluster
 * has no user `admin`. An administrator who deletes `admin` on purpose does not see it come back.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '@canopy/apimachinery';
import { ADMIN_USERNAME, buildFirstStartAdmin } from '../auth/bootstrap.js';
import { UserExistsError } from '../auth/model.js';
import { builtinGlobalRoleBindings } from '../iam/role-templates.js';
import { platformTypes } from '../resource-types.js';
import type { KubeUserStore } from './kube-stores.js';

export const ADMIN_BOOTSTRAP_MARKER = 'admin-bootstrapped';

export type ApplyOwned = (type: typeof platformTypes.globalRoleBindings, object: KubeObject) => Promise<unknown>;

export interface BootstrapResult {
  /** The generated password of the admin created now; undefined when admin was created before. */
  password?: string;
}

export async function bootstrapIdentity(options: { dataDir: string; users: KubeUserStore; apply: ApplyOwned }): Promise<BootstrapResult> {
  const [adminBinding, ...internal] = builtinGlobalRoleBindings(ADMIN_USERNAME);
  for (const binding of internal) await options.apply(platformTypes.globalRoleBindings, binding as KubeObject);

  const marker = join(options.dataDir, ADMIN_BOOTSTRAP_MARKER);
  const remember = () => writeFileSync(marker, `${new Date().toISOString()}\n`, { mode: 0o600 });
  if (existsSync(marker)) return {};
  if (options.users.get(ADMIN_USERNAME)) {
    remember();
    return {};
  }
  const { user, password } = await buildFirstStartAdmin();
  try {
    await options.users.create(user);
  } catch (err) {
    if (err instanceof UserExistsError) {
      remember();
      return {};
    }
    throw err;
  }
  await options.apply(platformTypes.globalRoleBindings, adminBinding as KubeObject);
  remember();
  return { password };
}
