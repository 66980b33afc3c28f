/**
 * What the identity module decides before the three-scope authorizer:
 * - The OAuth endpoints (`/oauth/*`, `/.well-known/*`) check credentials themselves, so every
 *   caller reaches them, signed in or not (the front lets only anonymous callers skip authorization).
 * - The forced password change: while a user carries `iam.kubesphere.io/uninitialized` (the
 *   first-start admin, or a user an administrator created so), the user may change its own password,
 *   read itself and sign out, and nothing else. The flag is read from the live User, not from the
 *   token: the token's `uninitialized` extra (which the console reads) stays in tokens issued before
 *   the change, and a flag set later by an administrator applies at once.
 */
import { UNINITIALIZED_ANNOTATION, type UserObject } from '../auth/model.js';
import type { Decision, PlatformRequest } from '../server/types.js';

const OAUTH_PATH = /^\/(oauth|\.well-known)(\/|$)/;
const USERS_PREFIX = '/kapis/iam.kubesphere.io/v1beta1/users/';

export function identityDecision(request: PlatformRequest, userOf: (name: string) => UserObject | undefined): Decision | undefined {
  if (OAUTH_PATH.test(request.path)) return { allowed: true };
  const user = userOf(request.user.name);
  if (!user?.metadata.annotations?.[UNINITIALIZED_ANNOTATION] || request.user.groups.includes('system:unauthenticated')) return undefined;
  const self = `${USERS_PREFIX}${encodeURIComponent(request.user.name)}`;
  const method = request.method.toUpperCase();
  if ((method === 'GET' || method === 'HEAD') && request.path === self) return undefined;
  if (method === 'PUT' && request.path === `${self}/password`) return undefined;
  return {
    allowed: false,
    reason: `user "${request.user.name}" must change its password before doing anything else: PUT ${self}/password with {"currentPassword": …, "password": …}`,
  };
}
