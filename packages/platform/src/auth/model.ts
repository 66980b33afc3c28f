/**
 * The objects authentication reads and writes, in KubeSphere's shapes (iam.kubesphere.io/v1beta1
 * User and LoginRecord, core/v1 Secrets for OAuth clients and identity providers), and the small
 * storage interfaces the platform server implements over the Kubernetes API (informer caches for
 * reads, the API for writes). `memory-stores.ts` implements them in memory for tests.
 */
import type { KubeObject, ObjectMeta } from '@canopy/apimachinery';

// The names the iam package already defines are shared, not repeated.
import {
  GLOBAL_ROLE_ANNOTATION,
  IAM_API_VERSION,
  PRE_REGISTRATION_USER,
  UNINITIALIZED_ANNOTATION,
  USER_REFERENCE_LABEL,
} from '../iam/types.js';
export { GLOBAL_ROLE_ANNOTATION, IAM_API_VERSION, PRE_REGISTRATION_USER, UNINITIALIZED_ANNOTATION, USER_REFERENCE_LABEL };

export const KUBESPHERE_NAMESPACE = 'kubesphere-system';

/** Annotations and labels with KubeSphere's names (kubesphere.io/api/iam/v1beta1 constants). */
export const LAST_PASSWORD_CHANGE_TIME_ANNOTATION = 'iam.kubesphere.io/last-password-change-time';
/** `iam.kubesphere.io/identity-provider.<idp>: <uid at the idp>` links a user to an external identity. */
export const IDENTITY_PROVIDER_ANNOTATION = 'iam.kubesphere.io/identity-provider';
/** Label KubeSphere's configuration Secrets carry (`config.kubesphere.io/type: oauthclient|identityprovider`). */
export const CONFIG_TYPE_LABEL = 'config.kubesphere.io/type';

/** Keys of a token's `extra` claim. */
export const EXTRA_IDENTITY_PROVIDER = 'idp';
export const EXTRA_UID = 'uid';
export const EXTRA_USERNAME = 'username';
export const EXTRA_EMAIL = 'email';
export const EXTRA_DISPLAY_NAME = 'displayName';
export const EXTRA_UNINITIALIZED = 'uninitialized';

export type UserState = 'Active' | 'Disabled' | 'AuthLimitExceeded';
export const USER_ACTIVE: UserState = 'Active';
export const USER_DISABLED: UserState = 'Disabled';
export const USER_AUTH_LIMIT_EXCEEDED: UserState = 'AuthLimitExceeded';

export interface UserSpec {
  email?: string;
  lang?: string;
  description?: string;
  displayName?: string;
  groups?: string[];
  /** bcrypt hash once the users controller has encrypted it; empty for users mapped from an identity provider. */
  password?: string;
}

export interface UserStatus {
  state?: UserState | string;
  reason?: string;
  lastTransitionTime?: string;
  lastLoginTime?: string;
}

export interface UserObject extends KubeObject {
  metadata: ObjectMeta & { name: string };
  spec: UserSpec;
  status?: UserStatus;
}

export type LoginType = 'Token' | 'OAuth' | 'Password' | 'Basic';
/** KubeSphere's LoginType values: 4.x writes Password/OAuth/Token; 3.x wrote Basic for HTTP basic auth. */
export const LOGIN_TYPES = { Token: 'Token', OAuth: 'OAuth', Password: 'Password', BasicAuth: 'Basic' } as const;

export interface LoginRecordSpec {
  type: LoginType | string;
  provider: string;
  sourceIP: string;
  userAgent?: string;
  success: boolean;
  reason: string;
}

export interface LoginRecordObject extends KubeObject {
  metadata: ObjectMeta;
  spec: LoginRecordSpec;
}

export interface SecretObject extends KubeObject {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export type Awaitable<T> = T | Promise<T>;

/**
 * Users as authentication needs them. Reads come from an informer cache in the platform server;
 * `create` and `updateStatus` go through the Kubernetes API.
 */
export interface UserStore {
  get(name: string): Awaitable<UserObject | undefined>;
  /** The user whose spec.email is `email` (KubeSphere lets users sign in with their email address). */
  findByEmail(email: string): Awaitable<UserObject | undefined>;
  /** The user annotated `iam.kubesphere.io/identity-provider.<idp>: <uid>`. */
  findByIdentity(idp: string, uid: string): Awaitable<UserObject | undefined>;
  /** Creates the user; rejects with {@link UserExistsError} when the name is taken. */
  create(user: UserObject): Awaitable<UserObject>;
  /** Merges `status` into the user's status (the status subresource). */
  updateStatus(name: string, status: UserStatus): Awaitable<void>;
}

export class UserExistsError extends Error {
  constructor(readonly username: string) {
    super(`users.iam.kubesphere.io "${username}" already exists`);
    this.name = 'UserExistsError';
  }
}

/** LoginRecords of users (label iam.kubesphere.io/user-ref). */
export interface LoginRecordStore {
  /** Creates the record (metadata.generateName names it) and returns it as stored, with name and creationTimestamp. */
  create(record: LoginRecordObject): Awaitable<LoginRecordObject>;
  listForUser(username: string): Awaitable<LoginRecordObject[]>;
  delete(name: string): Awaitable<void>;
}

/** The user name of a LoginRecord, from its user-ref label. */
export function loginRecordUser(record: LoginRecordObject): string | undefined {
  return record.metadata.labels?.[USER_REFERENCE_LABEL];
}
