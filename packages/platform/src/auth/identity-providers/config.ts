/**
 * Identity provider configurations (KubeSphere's identityprovider.Configuration), read from Secrets
 * of type `config.kubesphere.io/identityprovider`:
 *
 * ```yaml
 * name: ldap
 * type: LDAPIdentityProvider        # or OIDCIdentityProvider, GitHubIdentityProvider, CASIdentityProvider…
 * mappingMethod: auto               # auto | lookup | manual
 * displayName: Corporate LDAP
 * hidden: false
 * disabled: false
 * provider: { …options of the type… }
 * ```
 *
 * and what becomes of an external identity at sign-in (mappingMethod):
 * - auto: the identity's user is created on first sign-in (named after the identity's username);
 * - lookup: only users already linked to the identity may sign in (an administrator provisions them);
 * - manual: a new identity signs in as the pre-registration user and confirms a user name first.
 * A user is linked to an identity by the annotation `iam.kubesphere.io/identity-provider.<idp>: <uid>`.
 */
import {
  EXTRA_DISPLAY_NAME,
  EXTRA_EMAIL,
  EXTRA_IDENTITY_PROVIDER,
  EXTRA_UID,
  EXTRA_USERNAME,
  IAM_API_VERSION,
  IDENTITY_PROVIDER_ANNOTATION,
  PRE_REGISTRATION_USER,
  USER_ACTIVE,
  USER_DISABLED,
  UserExistsError,
  type SecretObject,
  type UserObject,
  type UserStore,
} from '../model.js';
import {
  ConfigurationError,
  buildConfigurationSecret,
  optionalBoolean,
  optionalObject,
  optionalString,
  readConfigurationSecret,
} from '../secrets.js';

export const IDENTITY_PROVIDER_SECRET_TYPE = 'config.kubesphere.io/identityprovider';
export const IDENTITY_PROVIDER_CONFIG_TYPE = 'identityprovider';

export type MappingMethod = 'auto' | 'lookup' | 'manual';
const MAPPING_METHODS: readonly string[] = ['auto', 'lookup', 'manual'];

export interface IdentityProviderConfig {
  name: string;
  /** LDAPIdentityProvider, OIDCIdentityProvider, GitHubIdentityProvider, CASIdentityProvider, … */
  type: string;
  mappingMethod: MappingMethod;
  hidden: boolean;
  disabled: boolean;
  displayName?: string;
  /** The options of the provider type, checked by that type's parser. */
  provider: Record<string, unknown>;
}

/**
 * Parses an identity provider Secret. A missing mappingMethod means auto (KubeSphere refuses such
 * a configuration at sign-in; its documentation's examples all say auto).
 */
export function parseIdentityProviderSecret(secret: SecretObject): IdentityProviderConfig {
  return parseIdentityProviderConfiguration(readConfigurationSecret(secret, IDENTITY_PROVIDER_SECRET_TYPE));
}

export function parseIdentityProviderConfiguration(raw: Record<string, unknown>): IdentityProviderConfig {
  const where = 'identity provider';
  const name = optionalString(raw, 'name', where);
  if (!name) throw new ConfigurationError(`${where}.name: required`);
  const type = optionalString(raw, 'type', where);
  if (!type) throw new ConfigurationError(`${where}.type: required`);
  const mappingMethod = optionalString(raw, 'mappingMethod', where) || 'auto';
  if (!MAPPING_METHODS.includes(mappingMethod))
    throw new ConfigurationError(
      `${where}.mappingMethod: invalid mapping method ${JSON.stringify(mappingMethod)}, must be one of auto, lookup, manual`,
    );
  const config: IdentityProviderConfig = {
    name,
    type,
    mappingMethod: mappingMethod as MappingMethod,
    hidden: optionalBoolean(raw, 'hidden', where) ?? false,
    disabled: optionalBoolean(raw, 'disabled', where) ?? false,
    provider: optionalObject(raw, 'provider', where) ?? {},
  };
  const displayName = optionalString(raw, 'displayName', where);
  if (displayName) config.displayName = displayName;
  return config;
}

export function buildIdentityProviderSecret(
  config: IdentityProviderConfig,
  secretName = `identityprovider-${config.name}`,
): SecretObject {
  return buildConfigurationSecret(secretName, IDENTITY_PROVIDER_SECRET_TYPE, IDENTITY_PROVIDER_CONFIG_TYPE, config);
}

/** Provider option keys that hold credentials: left out of anything shown to users (the console's /configs/oauth). */
const SECRET_OPTION_KEYS = new Set(['managerPassword', 'clientSecret', 'rootCAData', 'password', 'secret']);

/** A configuration without credentials, for the console's list of sign-in options. */
export function publicIdentityProviderConfig(config: IdentityProviderConfig): IdentityProviderConfig {
  const provider = Object.fromEntries(Object.entries(config.provider).filter(([key]) => !SECRET_OPTION_KEYS.has(key)));
  return { ...config, provider };
}

/** Who someone is at an identity provider, after it authenticated them. */
export interface ExternalIdentity {
  /** Stable id at the provider (LDAP: the login attribute's value; OIDC: `sub`). */
  uid: string;
  /** The user name it suggests (LDAP: the login attribute; OIDC: preferred_username or name). */
  username: string;
  email?: string;
  displayName?: string;
}

/** Someone authenticated by an identity provider, as a platform user or as a pending registration. */
export type MappedIdentity =
  | { kind: 'user'; username: string; user: UserObject; created: boolean }
  | { kind: 'preRegistration'; username: typeof PRE_REGISTRATION_USER; extra: Record<string, string[]> };

export class IdentityMappingError extends Error {
  constructor(
    readonly reason: 'not_found' | 'disabled' | 'conflict' | 'invalid_username',
    message: string,
  ) {
    super(message);
    this.name = 'IdentityMappingError';
  }
}

export function identityAnnotation(idp: string): string {
  return `${IDENTITY_PROVIDER_ANNOTATION}.${idp}`;
}

/** Kubernetes-style user names KubeSphere accepts (console PATTERN_USER_NAME), at most 32 characters (console USERNAME_DESC). */
const USER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const USER_NAME_MAX_LENGTH = 32;

export function isValidUsername(name: string): boolean {
  return name.length <= USER_NAME_MAX_LENGTH && USER_NAME.test(name);
}

/** The User an identity provider's identity becomes (auto mapping, or the confirm step of manual). */
export function newMappedUser(idp: string, identity: ExternalIdentity, username = identity.username.toLowerCase()): UserObject {
  const user: UserObject = {
    apiVersion: IAM_API_VERSION,
    kind: 'User',
    metadata: { name: username, annotations: { [identityAnnotation(idp)]: identity.uid } },
    spec: { email: identity.email ?? '' },
    status: { state: USER_ACTIVE },
  };
  if (identity.displayName) user.spec.displayName = identity.displayName;
  return user;
}

/** The `extra` of the pre-registration user's token: who is waiting to confirm (KubeSphere's newRreRegistrationUser). */
export function preRegistrationExtra(idp: string, identity: ExternalIdentity): Record<string, string[]> {
  const extra: Record<string, string[]> = {
    [EXTRA_IDENTITY_PROVIDER]: [idp],
    [EXTRA_UID]: [identity.uid],
    [EXTRA_USERNAME]: [identity.username],
    [EXTRA_EMAIL]: [identity.email ?? ''],
  };
  if (identity.displayName) extra[EXTRA_DISPLAY_NAME] = [identity.displayName];
  return extra;
}

/** The identity a pre-registration token stands for, or undefined when the extra does not describe one. */
export function identityFromPreRegistration(
  extra: Record<string, string[]>,
): { idp: string; identity: ExternalIdentity } | undefined {
  const idp = extra[EXTRA_IDENTITY_PROVIDER]?.[0];
  const uid = extra[EXTRA_UID]?.[0];
  if (!idp || !uid) return undefined;
  const identity: ExternalIdentity = { uid, username: extra[EXTRA_USERNAME]?.[0] ?? '' };
  if (extra[EXTRA_EMAIL]?.[0]) identity.email = extra[EXTRA_EMAIL][0];
  if (extra[EXTRA_DISPLAY_NAME]?.[0]) identity.displayName = extra[EXTRA_DISPLAY_NAME][0];
  return { idp, identity };
}

/**
 * Applies the provider's mappingMethod to an authenticated identity. A linked user signs in (unless
 * disabled, KubeSphere's "account is not active"). Otherwise: lookup refuses; manual yields the
 * pre-registration user; auto creates the user, but never takes over an existing user of the same
 * name that is not linked to this identity (KubeSphere 4.1 would link it; that lets whoever
 * controls a name at the provider sign in as the platform user of that name).
 */
export async function mapExternalIdentity(
  users: UserStore,
  config: IdentityProviderConfig,
  identity: ExternalIdentity,
): Promise<MappedIdentity> {
  const linked = await users.findByIdentity(config.name, identity.uid);
  if (linked) {
    if (linked.status?.state === USER_DISABLED) throw new IdentityMappingError('disabled', 'account is not active');
    return { kind: 'user', username: linked.metadata.name, user: linked, created: false };
  }
  switch (config.mappingMethod) {
    case 'lookup':
      throw new IdentityMappingError('not_found', `failed to find mapped user: ${identity.uid}`);
    case 'manual':
      return { kind: 'preRegistration', username: PRE_REGISTRATION_USER, extra: preRegistrationExtra(config.name, identity) };
    case 'auto': {
      const username = identity.username.toLowerCase();
      if (!isValidUsername(username))
        throw new IdentityMappingError(
          'invalid_username',
          `the user name ${JSON.stringify(identity.username)} given by identity provider ${config.name} is not a valid user name; use mappingMethod manual to choose one`,
        );
      return { kind: 'user', username, user: await createLinkedUser(users, config.name, identity, username), created: true };
    }
  }
}

/** Creates the user linked to an identity; a name already taken becomes a conflict error. */
export async function createLinkedUser(
  users: UserStore,
  idp: string,
  identity: ExternalIdentity,
  username: string,
): Promise<UserObject> {
  try {
    return await users.create(newMappedUser(idp, identity, username));
  } catch (err) {
    if (err instanceof UserExistsError)
      throw new IdentityMappingError('conflict', `user ${username} already exists and is not linked to identity provider ${idp}`);
    throw err;
  }
}
