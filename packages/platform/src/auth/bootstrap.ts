/**
 * The first-start `admin` user and the end of its forced password change. KubeSphere's chart ships
 * admin with a fixed default password; Canopy generates one, shows it once, and keeps only its hash.
 */
import {
  GLOBAL_ROLE_ANNOTATION,
  IAM_API_VERSION,
  LAST_PASSWORD_CHANGE_TIME_ANNOTATION,
  UNINITIALIZED_ANNOTATION,
  USER_ACTIVE,
  type UserObject,
} from './model.js';
import { generatePassword, hashPassword } from './passwords.js';

export const ADMIN_USERNAME = 'admin';

/** The admin User to create on first start (KubeSphere chart's user.yaml) and its one-time password. */
export async function buildFirstStartAdmin(
  options: { email?: string; password?: string } = {},
): Promise<{ user: UserObject; password: string }> {
  const password = options.password ?? generatePassword();
  const user: UserObject = {
    apiVersion: IAM_API_VERSION,
    kind: 'User',
    metadata: {
      name: ADMIN_USERNAME,
      annotations: {
        [UNINITIALIZED_ANNOTATION]: 'true',
        [GLOBAL_ROLE_ANNOTATION]: 'platform-admin',
        'kubesphere.io/creator': 'system',
      },
    },
    spec: { email: options.email ?? 'admin@kubesphere.io', password: await hashPassword(password) },
    status: { state: USER_ACTIVE },
  };
  return { user, password };
}

/**
 * The user after a password change: the new hash, the time of the change, and no more
 * uninitialized flag (so the console stops asking for one). The caller revokes the user's other
 * sessions (TokenManager.revokeAllOf).
 */
export function withChangedPassword(user: UserObject, passwordHash: string, now: number): UserObject {
  const annotations: Record<string, string> = {
    ...user.metadata.annotations,
    [LAST_PASSWORD_CHANGE_TIME_ANNOTATION]: new Date(now).toISOString(),
  };
  delete annotations[UNINITIALIZED_ANNOTATION];
  return { ...user, metadata: { ...user.metadata, annotations }, spec: { ...user.spec, password: passwordHash } };
}
