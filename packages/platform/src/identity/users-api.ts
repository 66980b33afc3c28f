/**
 * KubeSphere's users API (`/kapis/iam.kubesphere.io/v1beta1`), after its iam handler:
 *
 *   POST /users                     create (password hashed before it is stored; `iam.kubesphere.io/globalrole` binds a GlobalRole)
 *   GET  /users                     list with the resources API's query (filters, sorting, paging) → {items, totalItems}
 *   GET  /users/<u>                 one user
 *   PUT  /users/<u>                 update (password kept; status only Active ⇄ Disabled; disabling ends every session)
 *   DELETE /users/<u>               delete (every token revoked)
 *   PUT  /users/<u>/password        {currentPassword, password}: policy enforced, uninitialized cleared, other sessions ended
 *   GET  /users/<u>/loginrecords    the user's LoginRecords → {items, totalItems}
 *
 * Answers never carry `spec.password` (KubeSphere strips it) and carry the user's GlobalRole as the
 * `iam.kubesphere.io/globalrole` annotation. The front has already authorized each request (a user
 * may act on itself through the `authenticated` role); the handlers add what KubeSphere checks
 * beyond that: only a user manager (may update any user) changes status, groups, `iam.kubesphere.io/`
 * annotations or someone else's password without the current one, and only who may create
 * GlobalRoleBindings changes a global role.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StatusError, errors, fieldErrors, isStatusError, type KubeObject, type StatusCause } from '@canopy/apimachinery';
import { rfc3339, type Informer } from '@canopy/client';
import {
  GLOBAL_ROLE_ANNOTATION,
  IAM_API_VERSION,
  UserExistsError,
  PRE_REGISTRATION_USER,
  USER_ACTIVE,
  USER_DISABLED,
  USER_REFERENCE_LABEL,
  type LoginRecordObject,
  type UserObject,
  type UserStatus,
} from '../auth/model.js';
import { withChangedPassword } from '../auth/bootstrap.js';
import { PasswordPolicyError, encryptPasswordIfPlain, verifyPassword } from '../auth/passwords.js';
import { createLinkedUser, identityFromPreRegistration, isValidUsername, IdentityMappingError, USER_NAME_MAX_LENGTH } from '../auth/identity-providers/config.js';
import type { IdentityProviderRegistry } from '../auth/identity-providers/registry.js';
import type { TokenStore } from '../auth/token-store.js';
import type { TokenManager } from '../auth/tokens.js';
import type { AuthorizationAttributes } from '../iam/authorizer.js';
import { memberRoleBinding } from '../iam/role-templates.js';
import type { IamRoleBinding } from '../iam/types.js';
import { platformTypes } from '../resource-types.js';
import { applyListQuery, parseListQuery, type KindFilter } from '../resources/query.js';
import type { PlatformContext, PlatformUser } from '../server/types.js';
import { waitForInformer, waitForInformerDelete } from './cache-sync.js';
import { SUCCESS, bearerToken, jsonBody, queryOf } from './http.js';
import type { KubeLoginRecordStore, KubeUserStore } from './kube-stores.js';

const PREFIX = '/kapis/iam.kubesphere.io/v1beta1';
const USERS = { group: 'iam.kubesphere.io', resource: 'users', kind: 'User' };
/** Annotations of this prefix carry meaning for authentication (uninitialized, linked identities): users may not set their own. */
const PROTECTED_ANNOTATION_PREFIX = 'iam.kubesphere.io/';
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export interface UsersApiOptions {
  users: KubeUserStore;
  loginRecords: KubeLoginRecordStore;
  globalRoleBindings: Informer<IamRoleBinding>;
  globalRoles: Informer<KubeObject>;
  tokenStore: TokenStore;
  /** The token manager (created once the front knows its URL). */
  tokens(): TokenManager;
  identityProviders: IdentityProviderRegistry;
  /** The platform's authorizer on attributes of the caller's choosing. */
  allowed(user: PlatformUser, attributes: Omit<AuthorizationAttributes, 'user'>): boolean;
}

/** Users of the email, group or global role asked for (ks usersGetter's filters), then the common ones. */
function userFilter(globalRoleOf: (name: string) => string | undefined): KindFilter {
  return (object, key, value) => {
    const user = object as UserObject;
    switch (key) {
      case 'email':
        return user.spec?.email === value;
      case 'ingroup':
        return (user.spec?.groups ?? []).includes(value);
      case 'notingroup':
        return !(user.spec?.groups ?? []).includes(value);
      case 'globalrole':
        return globalRoleOf(user.metadata.name) === value;
      default:
        return undefined;
    }
  };
}

/** LoginRecords by type or reason (ks loginRecordGetter), then the common filters. */
const loginRecordFilter: KindFilter = (object, key, value) => {
  const record = object as LoginRecordObject;
  if (key === 'type') return record.spec?.type === value;
  if (key === 'reason') return record.spec?.reason === value;
  return undefined;
};

function invalidUser(name: string, causes: StatusCause[]): StatusError {
  return errors.invalid(USERS, name, causes);
}

/** The policy failure of a password, without the password in it (kube's field errors quote values). */
function passwordCause(field: string, err: PasswordPolicyError): StatusCause {
  return { reason: 'FieldValueInvalid', field, message: err.message };
}

export function usersApi(options: UsersApiOptions) {
  const { users, loginRecords, globalRoleBindings, tokenStore } = options;
  globalRoleBindings.addIndex(USER_REFERENCE_LABEL, (b) => {
    const user = b.metadata.labels?.[USER_REFERENCE_LABEL];
    return user ? [user] : [];
  });

  const bindingsOf = (username: string) => globalRoleBindings.byIndex(USER_REFERENCE_LABEL, username);
  /** ks GetGlobalRoleOfUser: the role of the user's (first) labelled GlobalRoleBinding. */
  const globalRoleOf = (username: string): string | undefined => {
    const bindings = bindingsOf(username).sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
    return bindings[0]?.roleRef.name;
  };

  /** What the API shows of a user: no password hash, the global role as an annotation. */
  const present = (user: UserObject): UserObject => {
    const out = structuredClone(user);
    delete out.spec.password;
    const role = globalRoleOf(user.metadata.name);
    if (role) out.metadata.annotations = { ...out.metadata.annotations, [GLOBAL_ROLE_ANNOTATION]: role };
    return { ...out, apiVersion: IAM_API_VERSION, kind: 'User' };
  };

  const isUserManager = (operator: PlatformUser) =>
    options.allowed(operator, { verb: 'update', resourceRequest: true, apiGroup: 'iam.kubesphere.io', apiVersion: 'v1beta1', resource: 'users', name: '', resourceScope: 'Global' });
  const mayBindGlobalRoles = (operator: PlatformUser) =>
    options.allowed(operator, { verb: 'create', resourceRequest: true, apiGroup: 'iam.kubesphere.io', apiVersion: 'v1beta1', resource: 'globalrolebindings', name: '', resourceScope: 'Global' });

  const mustGet = (name: string): UserObject => {
    const user = users.get(name);
    if (!user) throw errors.notFound(USERS, name);
    return user;
  };

  /**
   * ks CreateOrUpdateGlobalRoleBinding: the user ends with exactly one labelled GlobalRoleBinding,
   * to `role`, named `<user>-<role>`. Waits until the authorization policy has it.
   */
  const setGlobalRole = async (context: PlatformContext, username: string, role: string) => {
    if (!options.globalRoles.get(role)) throw errors.notFound({ group: 'iam.kubesphere.io', resource: 'globalroles' }, role);
    let keep = false;
    for (const binding of bindingsOf(username)) {
      if (binding.roleRef.name === role && !keep) {
        keep = true;
        continue;
      }
      await context.client.tryDelete(platformTypes.globalRoleBindings, binding.metadata.name!);
      await waitForInformerDelete(globalRoleBindings, binding.metadata.uid, binding.metadata.name!);
    }
    if (keep) return;
    try {
      const created = await context.client.create<IamRoleBinding>(platformTypes.globalRoleBindings, memberRoleBinding('GlobalRoleBinding', username, role));
      await waitForInformer(globalRoleBindings, created.metadata.resourceVersion);
    } catch (err) {
      if (!(isStatusError(err) && err.code === 409)) throw err;
    }
  };

  const checkEmail = (name: string, email: unknown, field = 'spec.email') => {
    if (email === undefined || email === '') return;
    if (typeof email !== 'string') throw invalidUser(name, [fieldErrors.typeInvalid(field, email, 'must be a string')]);
    if (!EMAIL.test(email)) throw invalidUser(name, [fieldErrors.invalid(field, email, 'must be an email address')]);
    const owner = users.findByEmail(email);
    if (owner && owner.metadata.name !== name) throw invalidUser(name, [fieldErrors.duplicate(field, email)]);
  };

  /** The password as stored: a plain one must satisfy the policy and becomes its bcrypt hash. */
  const storedPassword = async (name: string, password: unknown, field: string): Promise<string> => {
    if (typeof password !== 'string') throw invalidUser(name, [fieldErrors.typeInvalid(field, '', 'must be a string')]);
    try {
      return await encryptPasswordIfPlain(password);
    } catch (err) {
      if (err instanceof PasswordPolicyError) throw invalidUser(name, [passwordCause(field, err)]);
      throw err;
    }
  };

  /** The pre-registration user (an external identity under mappingMethod manual) creates its own user, linked to the identity. */
  const register = async (operator: PlatformUser, body: Record<string, any>): Promise<UserObject> => {
    const pending = identityFromPreRegistration(operator.extra ?? {});
    if (!pending || !options.identityProviders.config(pending.idp)) throw errors.badRequest('invalid registration');
    const name = body.metadata?.name;
    if (typeof name !== 'string' || !isValidUsername(name))
      throw invalidUser(String(name ?? ''), [fieldErrors.invalid('metadata.name', name ?? '', `a user name consists of lower case letters, digits, '-' and '.', starts and ends with a letter or digit, at most ${USER_NAME_MAX_LENGTH} characters`)]);
    const email = body.spec?.email;
    checkEmail(name, email);
    const linked = users.findByIdentity(pending.idp, pending.identity.uid);
    if (linked) return linked;
    try {
      return await createLinkedUser(users, pending.idp, { ...pending.identity, ...(typeof email === 'string' && email ? { email } : {}) }, name);
    } catch (err) {
      if (err instanceof IdentityMappingError && err.reason === 'conflict') throw errors.alreadyExists(USERS, name);
      throw err;
    }
  };

  return (app: FastifyInstance, context: PlatformContext): void => {
    app.post(`${PREFIX}/users`, async (req: FastifyRequest) => {
      const operator = context.userOf(req);
      const body = jsonBody(req) as Record<string, any>;
      if (operator.name === PRE_REGISTRATION_USER) return present(await register(operator, body));

      const name = body.metadata?.name;
      if (typeof name !== 'string' || !name) throw invalidUser('', [fieldErrors.required('metadata.name', 'name or generateName is required')]);
      if (!isValidUsername(name))
        throw invalidUser(name, [fieldErrors.invalid('metadata.name', name, `a user name consists of lower case letters, digits, '-' and '.', starts and ends with a letter or digit, at most ${USER_NAME_MAX_LENGTH} characters`)]);
      if (body.spec !== undefined && (typeof body.spec !== 'object' || body.spec === null || Array.isArray(body.spec)))
        throw invalidUser(name, [fieldErrors.typeInvalid('spec', body.spec, 'must be an object')]);
      const spec = { ...(body.spec ?? {}) } as Record<string, unknown>;
      checkEmail(name, spec.email);
      if (users.get(name)) throw errors.alreadyExists(USERS, name);
      if (spec.password !== undefined && spec.password !== '') spec.password = await storedPassword(name, spec.password, 'spec.password');
      else delete spec.password;

      const annotations: Record<string, string> = { ...(body.metadata?.annotations ?? {}) };
      const globalRole = annotations[GLOBAL_ROLE_ANNOTATION];
      delete annotations[GLOBAL_ROLE_ANNOTATION];
      if (globalRole) {
        if (!mayBindGlobalRoles(operator)) throw errors.forbidden({ group: 'iam.kubesphere.io', resource: 'globalrolebindings' }, '', `User "${operator.name}" cannot create resource "globalrolebindings" in API group "iam.kubesphere.io" at the cluster scope`);
        if (!options.globalRoles.get(globalRole)) throw errors.notFound({ group: 'iam.kubesphere.io', resource: 'globalroles' }, globalRole);
      }
      annotations['kubesphere.io/creator'] = operator.name;
      const state = body.status?.state === USER_DISABLED ? USER_DISABLED : USER_ACTIVE;
      const user: UserObject = {
        apiVersion: IAM_API_VERSION,
        kind: 'User',
        metadata: { name, ...(body.metadata?.labels ? { labels: body.metadata.labels } : {}), annotations },
        spec: spec as UserObject['spec'],
        status: { state },
      };
      let created: UserObject;
      try {
        created = await users.create(user);
      } catch (err) {
        if (err instanceof UserExistsError) throw errors.alreadyExists(USERS, name);
        throw err;
      }
      if (globalRole) await setGlobalRole(context, name, globalRole);
      return present(created);
    });

    app.get(`${PREFIX}/users`, async (req) => {
      const result = applyListQuery(users.list(), parseListQuery(queryOf(req)), userFilter(globalRoleOf));
      return { items: result.items.map((u) => present(u as UserObject)), totalItems: result.totalItems };
    });

    app.get<{ Params: { user: string } }>(`${PREFIX}/users/:user`, async (req) => present(mustGet(req.params.user)));

    app.put<{ Params: { user: string } }>(`${PREFIX}/users/:user`, async (req) => {
      const operator = context.userOf(req);
      const name = req.params.user;
      const body = jsonBody(req) as Record<string, any>;
      const bodyName = body.metadata?.name;
      if (bodyName !== name) throw errors.badRequest(`the name of the object (${bodyName ?? ''}) does not match the name on the URL (${name})`);
      const old = await context.client.tryGet<UserObject>(platformTypes.users, name);
      if (!old) throw errors.notFound(USERS, name);
      const manager = isUserManager(operator);
      const spec = { ...(typeof body.spec === 'object' && body.spec ? body.spec : {}) } as Record<string, unknown>;
      checkEmail(name, spec.email);
      // The password changes only through PUT /users/<u>/password; the stored hash stays.
      if (old.spec.password) spec.password = old.spec.password;
      else delete spec.password;
      if (!manager) {
        if (old.spec.groups) spec.groups = old.spec.groups;
        else delete spec.groups;
      }

      const annotations: Record<string, string> = { ...(body.metadata?.annotations ?? {}) };
      const globalRole = annotations[GLOBAL_ROLE_ANNOTATION];
      delete annotations[GLOBAL_ROLE_ANNOTATION];
      if (!manager) {
        for (const key of Object.keys(annotations)) if (key.startsWith(PROTECTED_ANNOTATION_PREFIX)) delete annotations[key];
        for (const [key, value] of Object.entries(old.metadata.annotations ?? {})) if (key.startsWith(PROTECTED_ANNOTATION_PREFIX)) annotations[key] = value;
      }
      if (old.metadata.annotations?.[GLOBAL_ROLE_ANNOTATION] && !globalRole) annotations[GLOBAL_ROLE_ANNOTATION] = old.metadata.annotations[GLOBAL_ROLE_ANNOTATION];
      const changesRole = globalRole !== undefined && globalRole !== '' && globalRole !== globalRoleOf(name);
      if (changesRole && !mayBindGlobalRoles(operator))
        throw errors.forbidden({ group: 'iam.kubesphere.io', resource: 'globalrolebindings' }, '', `User "${operator.name}" cannot create resource "globalrolebindings" in API group "iam.kubesphere.io" at the cluster scope`);

      // ks UpdateUser: status is kept, except that a user manager may enable or disable.
      const status: UserStatus = { ...old.status };
      const wanted = body.status?.state;
      if (manager && (wanted === USER_DISABLED || wanted === USER_ACTIVE) && wanted !== old.status?.state) {
        status.state = wanted;
        status.reason = '';
        status.lastTransitionTime = rfc3339(context.clock.now());
      }
      const next: UserObject = {
        apiVersion: IAM_API_VERSION,
        kind: 'User',
        metadata: {
          ...old.metadata,
          labels: body.metadata?.labels ?? old.metadata.labels,
          annotations,
          resourceVersion: typeof body.metadata?.resourceVersion === 'string' && body.metadata.resourceVersion ? body.metadata.resourceVersion : old.metadata.resourceVersion,
        },
        spec: spec as UserObject['spec'],
        status,
      };
      const updated = await users.update(next);
      // Disabling ends every session and kubeconfig at once (verification also refuses disabled users).
      if (updated.status?.state === USER_DISABLED) tokenStore.revokeUser(name);
      if (changesRole) await setGlobalRole(context, name, globalRole);
      return present(updated);
    });

    app.delete<{ Params: { user: string } }>(`${PREFIX}/users/:user`, async (req) => {
      const name = req.params.user;
      mustGet(name);
      await users.delete(name);
      tokenStore.revokeUser(name);
      return SUCCESS;
    });

    app.put<{ Params: { user: string } }>(`${PREFIX}/users/:user/password`, async (req) => {
      const operator = context.userOf(req);
      const name = req.params.user;
      const body = jsonBody(req);
      const user = await context.client.tryGet<UserObject>(platformTypes.users, name);
      if (!user) throw errors.notFound(USERS, name);
      const current = body.currentPassword;
      if (current !== undefined && typeof current !== 'string') throw errors.badRequest('currentPassword must be a string');
      // A user changes its own password with the current one; a user manager resets another's without it.
      const self = operator.name === name;
      if (self || !isUserManager(operator) || current) {
        if (!current || !user.spec.password || !(await verifyPassword(current, user.spec.password))) throw errors.badRequest('incorrect old password');
      }
      if (body.password === undefined || body.password === '') throw invalidUser(name, [fieldErrors.required('password')]);
      const hash = await storedPassword(name, body.password, 'password');
      await users.update(withChangedPassword(user, hash, context.clock.now()));
      // Every other session of the user ends; the caller's own goes on when it is the user.
      let session: string | undefined;
      const token = self ? bearerToken(req) : undefined;
      if (token) {
        try {
          session = options.tokens().parse(token).sid;
        } catch {
          session = undefined;
        }
      }
      tokenStore.revokeUser(name, session);
      return SUCCESS;
    });

    app.get<{ Params: { user: string } }>(`${PREFIX}/users/:user/loginrecords`, async (req) => {
      const result = applyListQuery(loginRecords.listForUser(req.params.user), parseListQuery(queryOf(req)), loginRecordFilter);
      return { items: result.items.map((r) => ({ apiVersion: IAM_API_VERSION, kind: 'LoginRecord', ...r })), totalItems: result.totalItems };
    });
  };
}

