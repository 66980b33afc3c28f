/**
 * Sign-in history and lockout, after KubeSphere's loginrecord and user controllers:
 * - every sign-in attempt of an existing user leaves a LoginRecord (type, provider, source IP, user
 *   agent, success, reason), kept `loginHistoryRetentionPeriod` (168h) and at most
 *   `loginHistoryMaximumEntries` (100) per user, oldest first out;
 * - `authenticateRateLimiterMaxTries` (10) failures within `authenticateRateLimiterDuration` (10m)
 *   put the user in state AuthLimitExceeded, lifted once that duration has passed since the state
 *   changed. Failures from before the last state change do not count again.
 * Everything here is a pure function of the records, the user and `now` (milliseconds), so the
 * server's controllers and the sign-in path share it and tests drive it with their own clock.
 */
import { formatGoDuration } from './duration.js';
import {
  IAM_API_VERSION,
  USER_ACTIVE,
  USER_AUTH_LIMIT_EXCEEDED,
  USER_DISABLED,
  USER_REFERENCE_LABEL,
  loginRecordUser,
  type LoginRecordObject,
  type LoginType,
  type UserObject,
  type UserStatus,
} from './model.js';

export interface LoginSecurityOptions {
  /** Failed attempts inside `rateLimiterDuration` that lock the user (KubeSphere: authenticateRateLimiterMaxTries). */
  rateLimiterMaxTries: number;
  /** The failure window, and how long a lock lasts (authenticateRateLimiterDuration), in ms. */
  rateLimiterDuration: number;
  /** How long LoginRecords are kept (loginHistoryRetentionPeriod), in ms. */
  loginHistoryRetentionPeriod: number;
  /** Most LoginRecords kept per user (loginHistoryMaximumEntries). */
  loginHistoryMaximumEntries: number;
}

export const DEFAULT_LOGIN_SECURITY: LoginSecurityOptions = {
  rateLimiterMaxTries: 10,
  rateLimiterDuration: 10 * 60_000,
  loginHistoryRetentionPeriod: 168 * 3_600_000,
  loginHistoryMaximumEntries: 100,
};

/** LoginRecord.spec.reason of a successful attempt (iamv1beta1.AuthenticatedSuccessfully). */
export const AUTHENTICATED_SUCCESSFULLY = 'authenticated successfully';

export interface LoginAttempt {
  username: string;
  type: LoginType | string;
  /** Identity provider name; empty for platform accounts. */
  provider?: string;
  sourceIP: string;
  userAgent?: string;
  /** Why the attempt failed; absent when it succeeded. */
  failure?: string;
}

/** The LoginRecord KubeSphere's LoginRecorder creates for an attempt (named by the API server from generateName). */
export function buildLoginRecord(attempt: LoginAttempt): LoginRecordObject {
  return {
    apiVersion: IAM_API_VERSION,
    kind: 'LoginRecord',
    metadata: {
      generateName: `${attempt.username}-`,
      labels: { [USER_REFERENCE_LABEL]: attempt.username },
    },
    spec: {
      type: attempt.type,
      provider: attempt.provider ?? '',
      sourceIP: attempt.sourceIP,
      ...(attempt.userAgent ? { userAgent: attempt.userAgent } : {}),
      success: attempt.failure === undefined,
      reason: attempt.failure ?? AUTHENTICATED_SUCCESSFULLY,
    },
  };
}

function createdAt(record: { metadata: { creationTimestamp?: string } }): number {
  const t = record.metadata.creationTimestamp ? Date.parse(record.metadata.creationTimestamp) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

/**
 * Names of the LoginRecords to delete: those older than the retention period, and for each user
 * the oldest ones beyond the maximum count. Records without a user-ref label are orphans and go too.
 */
export function loginRecordsToDelete(
  records: readonly LoginRecordObject[],
  now: number,
  options: Pick<LoginSecurityOptions, 'loginHistoryRetentionPeriod' | 'loginHistoryMaximumEntries'> = DEFAULT_LOGIN_SECURITY,
): string[] {
  const doomed = new Set<string>();
  const byUser = new Map<string, LoginRecordObject[]>();
  for (const record of records) {
    const name = record.metadata.name;
    if (!name) continue;
    const user = loginRecordUser(record);
    if (!user || createdAt(record) + options.loginHistoryRetentionPeriod < now) {
      doomed.add(name);
      continue;
    }
    let list = byUser.get(user);
    if (!list) byUser.set(user, (list = []));
    list.push(record);
  }
  for (const list of byUser.values()) {
    if (list.length <= options.loginHistoryMaximumEntries) continue;
    // Oldest first; equal timestamps fall back to the name so the choice is stable.
    list.sort((a, b) => createdAt(a) - createdAt(b) || (a.metadata.name! < b.metadata.name! ? -1 : 1));
    for (const record of list.slice(0, list.length - options.loginHistoryMaximumEntries)) doomed.add(record.metadata.name!);
  }
  return [...doomed];
}

/** When a LoginRecord falls out of the retention period (for a controller's requeue), in ms. */
export function loginRecordExpiry(
  record: LoginRecordObject,
  options: Pick<LoginSecurityOptions, 'loginHistoryRetentionPeriod'>,
): number {
  return createdAt(record) + options.loginHistoryRetentionPeriod;
}

function transitionTime(status: UserStatus | undefined): number | undefined {
  if (!status?.lastTransitionTime) return undefined;
  const t = Date.parse(status.lastTransitionTime);
  return Number.isNaN(t) ? undefined : t;
}

/** Failed attempts that count towards a lock at `now`: inside the window and after the user's last state change. */
export function countRecentFailures(
  user: UserObject,
  records: readonly LoginRecordObject[],
  now: number,
  options: Pick<LoginSecurityOptions, 'rateLimiterDuration'> = DEFAULT_LOGIN_SECURITY,
): number {
  const since = transitionTime(user.status);
  let failures = 0;
  for (const record of records) {
    if (record.spec.success) continue;
    if (loginRecordUser(record) !== user.metadata.name) continue;
    const t = createdAt(record);
    if (since !== undefined && !(t > since)) continue;
    if (t + options.rateLimiterDuration > now) failures++;
  }
  return failures;
}

/** True while a lock holds: the user is AuthLimitExceeded and the duration has not passed since it was set. */
export function isLocked(
  user: UserObject,
  now: number,
  options: Pick<LoginSecurityOptions, 'rateLimiterDuration'> = DEFAULT_LOGIN_SECURITY,
): boolean {
  if (user.status?.state !== USER_AUTH_LIMIT_EXCEEDED) return false;
  const since = transitionTime(user.status);
  // A lock without a transition time cannot expire by itself; KubeSphere keeps it until the controller sets one.
  return since === undefined || since + options.rateLimiterDuration >= now;
}

/** When the user's current lock lifts (ms), or undefined when not locked: a controller requeues for then. */
export function lockExpiry(
  user: UserObject,
  options: Pick<LoginSecurityOptions, 'rateLimiterDuration'> = DEFAULT_LOGIN_SECURITY,
): number | undefined {
  if (user.status?.state !== USER_AUTH_LIMIT_EXCEEDED) return undefined;
  const since = transitionTime(user.status);
  return since === undefined ? undefined : since + options.rateLimiterDuration;
}

/**
 * The status the user should move to at `now`, or undefined when it stays: an expired lock is lifted
 * (Active), and enough recent failures lock an Active user (AuthLimitExceeded, with KubeSphere's
 * reason "Failed login attempts exceed N in last 10m0s"). Disabled users are left alone.
 */
export function nextUserStatus(
  user: UserObject,
  records: readonly LoginRecordObject[],
  now: number,
  options: Pick<LoginSecurityOptions, 'rateLimiterDuration' | 'rateLimiterMaxTries'> = DEFAULT_LOGIN_SECURITY,
): UserStatus | undefined {
  const state = user.status?.state;
  if (state === USER_DISABLED) return undefined;
  if (state === USER_AUTH_LIMIT_EXCEEDED) {
    if (isLocked(user, now, options)) return undefined;
    return { state: USER_ACTIVE, reason: '', lastTransitionTime: new Date(now).toISOString() };
  }
  const failures = countRecentFailures(user, records, now, options);
  if (failures < options.rateLimiterMaxTries) return undefined;
  return {
    state: USER_AUTH_LIMIT_EXCEEDED,
    reason: `Failed login attempts exceed ${failures} in last ${formatGoDuration(options.rateLimiterDuration)}`,
    lastTransitionTime: new Date(now).toISOString(),
  };
}
