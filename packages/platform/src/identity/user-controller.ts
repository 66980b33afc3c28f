/**
 * The users controller (KubeSphere's user and loginrecord controllers), run by the platform:
 * - a password written in plain text straight to the Kubernetes API (kubectl apply of a User) is
 *   replaced by its bcrypt hash, with the time of the change, and the kubectl last-applied
 *   annotation that repeats it is dropped; the user's sessions end. (The platform's users API
 *   hashes before it stores; KubeSphere does this in a mutating webhook, which a platform that
 *   reaches its cluster only through the API cannot install, so until this controller has run the
 *   plain password is in the cluster's storage. A password that fails the policy is removed.)
 * - status.state defaults to Active; an AuthLimitExceeded lock is lifted once its window has
 *   passed (a timer is set for then); a Disabled user's tokens are revoked;
 * - lastLoginTime follows the newest LoginRecord;
 * - LoginRecords are kept 168 h and at most 100 per user (loginHistoryRetentionPeriod,
 *   loginHistoryMaximumEntries), with a timer for the next expiry;
 * - when a user is deleted: its tokens, LoginRecords and labelled role bindings go too.
 * Time comes from the platform's clock, so tests move it.
 */
import type { KubeObject } from '@canopy/apimachinery';
import { WorkQueue, rfc3339, type Clock, type Informer, type KubeClient, type ResourceType } from '@canopy/client';
import {
  LAST_PASSWORD_CHANGE_TIME_ANNOTATION,
  USER_ACTIVE,
  USER_DISABLED,
  USER_REFERENCE_LABEL,
  type UserObject,
} from '../auth/model.js';
import { DEFAULT_LOGIN_SECURITY, lockExpiry, loginRecordExpiry, loginRecordsToDelete, nextUserStatus, type LoginSecurityOptions } from '../auth/login-security.js';
import { PasswordPolicyError, encryptPasswordIfPlain, isBcryptHash } from '../auth/passwords.js';
import type { TokenStore } from '../auth/token-store.js';
import { platformTypes } from '../resource-types.js';
import type { KubeLoginRecordStore, KubeUserStore } from './kube-stores.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** Queue keys of LoginRecords without a user label (orphans, deleted as KubeSphere does). */
const ORPHAN_PREFIX = '\u0000record:';

export interface UserControllerOptions {
  client: KubeClient;
  users: KubeUserStore;
  loginRecords: KubeLoginRecordStore;
  /** Role bindings labelled with a user (iam.kubesphere.io/user-ref), removed with the user. */
  bindings: Array<{ type: ResourceType; informer: Informer<KubeObject> }>;
  tokenStore: TokenStore;
  clock: Clock;
  log: (message: string) => void;
  security?: Partial<LoginSecurityOptions>;
}

export class UserController {
  private readonly queue: WorkQueue<string>;
  private readonly security: LoginSecurityOptions;
  private running?: Promise<void>;

  constructor(private readonly options: UserControllerOptions) {
    this.security = { ...DEFAULT_LOGIN_SECURITY, ...options.security };
    this.queue = new WorkQueue<string>({ clock: options.clock, log: options.log, name: 'users' });
  }

  start(): void {
    const { users, loginRecords } = this.options;
    const enqueueUser = (u: UserObject) => this.queue.add(u.metadata.name);
    users.informer.addHandler({ onAdd: enqueueUser, onUpdate: (_old, u) => enqueueUser(u), onDelete: enqueueUser });
    loginRecords.informer.addHandler({
      onAdd: (r) => {
        const user = r.metadata.labels?.[USER_REFERENCE_LABEL];
        this.queue.add(user ? user : `${ORPHAN_PREFIX}${r.metadata.name}`);
      },
    });
    this.running = this.queue.run((key) => this.reconcile(key), 2);
  }

  /** Resolves when nothing is queued or being reconciled (delayed keys do not count): for tests. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  async stop(): Promise<void> {
    this.queue.shutdown();
    await this.running;
  }

  private async reconcile(key: string): Promise<void> {
    if (key.startsWith(ORPHAN_PREFIX)) {
      const name = key.slice(ORPHAN_PREFIX.length);
      const record = this.options.loginRecords.informer.get(name);
      if (record && !record.metadata.labels?.[USER_REFERENCE_LABEL]) await this.options.loginRecords.delete(name);
      return;
    }
    const user = this.options.users.get(key);
    if (!user) return this.cleanUpDeleted(key);
    const now = this.options.clock.now();
    const records = this.options.loginRecords.listForUser(key);
    const next = structuredClone(user);
    let changed = false;
    let passwordChanged = false;

    const password = next.spec?.password;
    if (password && !isBcryptHash(password)) {
      try {
        next.spec.password = await encryptPasswordIfPlain(password);
      } catch (err) {
        if (!(err instanceof PasswordPolicyError)) throw err;
        // Never leave a password in plain text: one that cannot be hashed is removed (the user cannot sign in with it).
        delete next.spec.password;
        this.options.log(`users: the password written for user ${key} does not satisfy the policy and was removed: ${err.message}`);
      }
      const annotations: Record<string, string> = { ...next.metadata.annotations, [LAST_PASSWORD_CHANGE_TIME_ANNOTATION]: rfc3339(now) };
      delete annotations[LAST_APPLIED];
      next.metadata.annotations = annotations;
      changed = passwordChanged = true;
    }

    if (!next.status?.state) {
      next.status = { ...next.status, state: USER_ACTIVE };
      changed = true;
    }
    const transition = nextUserStatus(next, records, now, this.security);
    if (transition) {
      next.status = { ...next.status, ...transition };
      changed = true;
    }
    const newest = records.reduce((t, r) => Math.max(t, Date.parse(r.metadata.creationTimestamp ?? '') || 0), 0);
    const lastLogin = Date.parse(next.status?.lastLoginTime ?? '') || 0;
    if (newest > lastLogin) {
      next.status = { ...next.status, lastLoginTime: rfc3339(newest) };
      changed = true;
    }

    if (changed) await this.options.users.update(next);
    if (passwordChanged || next.status?.state === USER_DISABLED) this.options.tokenStore.revokeUser(key);

    const doomed = new Set(loginRecordsToDelete(records, now, this.security));
    for (const name of doomed) await this.options.loginRecords.delete(name);

    // Come back when the lock lifts or the oldest kept record expires.
    const wakeups: number[] = [];
    const lockEnds = lockExpiry(next, this.security);
    if (lockEnds !== undefined) wakeups.push(lockEnds + 1);
    for (const record of records) if (!doomed.has(record.metadata.name!)) wakeups.push(loginRecordExpiry(record, this.security) + 1);
    if (wakeups.length) this.queue.addAfter(key, Math.max(0, Math.min(...wakeups) - now));
  }

  /** The user is gone from the cache; confirmed gone from the API, whatever referred to it goes too. */
  private async cleanUpDeleted(name: string): Promise<void> {
    // The cache may lag behind a user created a moment ago (its LoginRecord seen first): ask the API.
    if (await this.options.client.tryGet(platformTypes.users, name)) return;
    this.options.tokenStore.revokeUser(name);
    for (const record of this.options.loginRecords.listForUser(name)) await this.options.loginRecords.delete(record.metadata.name!);
    for (const { type, informer } of this.options.bindings) {
      for (const binding of informer.list()) {
        if (binding.metadata.labels?.[USER_REFERENCE_LABEL] !== name) continue;
        await this.options.client.tryDelete(type, binding.metadata.name!, { namespace: binding.metadata.namespace });
      }
    }
  }
}

