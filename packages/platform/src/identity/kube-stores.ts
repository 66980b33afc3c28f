/**
 * The storage interfaces of authentication (auth/model.ts) over the Kubernetes API: Users and
 * LoginRecords of iam.kubesphere.io/v1beta1, read from informer caches (indexed by email, linked
 * identity and user) and written through the platform's client. Every write waits until the
 * informer reflects it (cache-sync.ts), so the next sign-in or token check sees it.
 */
import { isStatusError, type KubeObject } from '@canopy/apimachinery';
import type { Informer, KubeClient } from '@canopy/client';
import {
  IDENTITY_PROVIDER_ANNOTATION,
  USER_REFERENCE_LABEL,
  UserExistsError,
  type LoginRecordObject,
  type LoginRecordStore,
  type UserObject,
  type UserStatus,
  type UserStore,
} from '../auth/model.js';
import { platformTypes } from '../resource-types.js';
import { waitForInformer, waitForInformerDelete } from './cache-sync.js';

export const EMAIL_INDEX = 'email';
export const IDENTITY_INDEX = 'identity';
export const USER_INDEX = 'user';

const IDENTITY_PREFIX = `${IDENTITY_PROVIDER_ANNOTATION}.`;

/** Index values `<idp>/<uid>` of the identities a user is linked to. */
function linkedIdentities(user: UserObject): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(user.metadata.annotations ?? {}))
    if (key.startsWith(IDENTITY_PREFIX) && value) out.push(`${key.slice(IDENTITY_PREFIX.length)}/${value}`);
  return out;
}

/**
 * Users from the informer. Objects returned are the cache's own and must be treated as read-only
 * (token verification reads one per request; copying each would cost more than the check).
 */
export class KubeUserStore implements UserStore {
  constructor(
    private readonly client: KubeClient,
    readonly informer: Informer<UserObject>,
  ) {
    informer.addIndex(EMAIL_INDEX, (u) => (u.spec?.email ? [u.spec.email] : []));
    informer.addIndex(IDENTITY_INDEX, linkedIdentities);
  }

  get(name: string): UserObject | undefined {
    return this.informer.get(name);
  }

  list(): UserObject[] {
    return this.informer.list();
  }

  findByEmail(email: string): UserObject | undefined {
    // Emails are unique by the users API's validation; a user written directly may repeat one: the oldest wins.
    return oldest(this.informer.byIndex(EMAIL_INDEX, email));
  }

  findByIdentity(idp: string, uid: string): UserObject | undefined {
    return oldest(this.informer.byIndex(IDENTITY_INDEX, `${idp}/${uid}`));
  }

  async create(user: UserObject): Promise<UserObject> {
    let created: UserObject;
    try {
      created = await this.client.create<UserObject>(platformTypes.users, user);
    } catch (err) {
      if (isStatusError(err) && err.code === 409 && err.reason === 'AlreadyExists') throw new UserExistsError(user.metadata.name);
      throw err;
    }
    await this.synced(created);
    return created;
  }

  /** Replaces the user (optimistic concurrency on metadata.resourceVersion); answers the stored object. */
  async update(user: UserObject): Promise<UserObject> {
    const updated = await this.client.update<UserObject>(platformTypes.users, user);
    await this.synced(updated);
    return updated;
  }

  /** The User CRD has no status subresource (as KubeSphere's): status is merged into the object. */
  async updateStatus(name: string, status: UserStatus): Promise<void> {
    const patched = await this.client.patch<UserObject>(platformTypes.users, name, { status }, 'merge');
    await this.synced(patched);
  }

  async delete(name: string): Promise<boolean> {
    const uid = this.informer.get(name)?.metadata.uid;
    const deleted = await this.client.tryDelete(platformTypes.users, name);
    await waitForInformerDelete(this.informer, uid, name);
    return deleted;
  }

  private synced(object: KubeObject): Promise<void> {
    return waitForInformer(this.informer, object.metadata.resourceVersion, () => {
      const cached = this.informer.get(object.metadata.name!);
      return cached?.metadata.resourceVersion === object.metadata.resourceVersion;
    });
  }
}

function oldest<T extends KubeObject>(objects: T[]): T | undefined {
  if (objects.length <= 1) return objects[0];
  return [...objects].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))[0];
}

/** LoginRecords (cluster-scoped, labelled iam.kubesphere.io/user-ref) from the informer. */
export class KubeLoginRecordStore implements LoginRecordStore {
  constructor(
    private readonly client: KubeClient,
    readonly informer: Informer<LoginRecordObject>,
  ) {
    informer.addIndex(USER_INDEX, (r) => {
      const user = r.metadata.labels?.[USER_REFERENCE_LABEL];
      return user ? [user] : [];
    });
  }

  async create(record: LoginRecordObject): Promise<LoginRecordObject> {
    const created = await this.client.create<LoginRecordObject>(platformTypes.loginRecords, record);
    await waitForInformer(this.informer, created.metadata.resourceVersion, () => this.informer.get(created.metadata.name!) !== undefined);
    return created;
  }

  listForUser(username: string): LoginRecordObject[] {
    return this.informer.byIndex(USER_INDEX, username);
  }

  async delete(name: string): Promise<void> {
    const uid = this.informer.get(name)?.metadata.uid;
    await this.client.tryDelete(platformTypes.loginRecords, name);
    await waitForInformerDelete(this.informer, uid, name);
  }
}
