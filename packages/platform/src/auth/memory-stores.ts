/**
 * In-memory implementations of the storage interfaces of authentication, for tests and for
 * embedding without a cluster. They keep Kubernetes semantics where authentication relies on them:
 * names from generateName, creationTimestamp from the clock, uid on create, AlreadyExists on a
 * taken name.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  IDENTITY_PROVIDER_ANNOTATION,
  UserExistsError,
  loginRecordUser,
  type LoginRecordObject,
  type LoginRecordStore,
  type UserObject,
  type UserStatus,
  type UserStore,
} from './model.js';
import type { OAuthClient, OAuthClientSource } from './oauth-clients.js';

const clone = <T>(v: T): T => structuredClone(v);

export class MemoryUserStore implements UserStore {
  private readonly users = new Map<string, UserObject>();

  constructor(
    users: UserObject[] = [],
    private readonly now: () => number = Date.now,
  ) {
    for (const u of users) this.put(u);
  }

  /** Adds or replaces a user as is (a test's setup), filling in uid and creationTimestamp. */
  put(user: UserObject): UserObject {
    const stored = clone(user);
    stored.metadata.uid ??= randomUUID();
    stored.metadata.creationTimestamp ??= new Date(this.now()).toISOString();
    this.users.set(stored.metadata.name, stored);
    return clone(stored);
  }

  delete(name: string): boolean {
    return this.users.delete(name);
  }

  get(name: string): UserObject | undefined {
    const u = this.users.get(name);
    return u && clone(u);
  }

  findByEmail(email: string): UserObject | undefined {
    for (const u of this.users.values()) if (u.spec.email === email) return clone(u);
    return undefined;
  }

  findByIdentity(idp: string, uid: string): UserObject | undefined {
    const key = `${IDENTITY_PROVIDER_ANNOTATION}.${idp}`;
    for (const u of this.users.values()) if (u.metadata.annotations?.[key] === uid) return clone(u);
    return undefined;
  }

  create(user: UserObject): UserObject {
    if (this.users.has(user.metadata.name)) throw new UserExistsError(user.metadata.name);
    return this.put(user);
  }

  updateStatus(name: string, status: UserStatus): void {
    const u = this.users.get(name);
    if (!u) throw new Error(`users.iam.kubesphere.io "${name}" not found`);
    u.status = { ...u.status, ...status };
  }
}

export class MemoryLoginRecordStore implements LoginRecordStore {
  private readonly records = new Map<string, LoginRecordObject>();

  constructor(private readonly now: () => number = Date.now) {}

  create(record: LoginRecordObject): LoginRecordObject {
    const stored = clone(record);
    if (!stored.metadata.name) {
      if (!stored.metadata.generateName) throw new Error('a LoginRecord needs metadata.name or metadata.generateName');
      // Like the API server: five random lowercase alphanumerics after generateName.
      let name: string;
      do name = stored.metadata.generateName + randomSuffix();
      while (this.records.has(name));
      stored.metadata.name = name;
    }
    stored.metadata.uid ??= randomUUID();
    stored.metadata.creationTimestamp ??= new Date(this.now()).toISOString();
    this.records.set(stored.metadata.name, stored);
    return clone(stored);
  }

  listForUser(username: string): LoginRecordObject[] {
    return [...this.records.values()].filter((r) => loginRecordUser(r) === username).map(clone);
  }

  list(): LoginRecordObject[] {
    return [...this.records.values()].map(clone);
  }

  delete(name: string): void {
    this.records.delete(name);
  }
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

export class MemoryOAuthClientSource implements OAuthClientSource {
  private readonly clients = new Map<string, OAuthClient>();

  constructor(clients: OAuthClient[] = []) {
    for (const c of clients) this.clients.set(c.name, c);
  }

  set(client: OAuthClient): void {
    this.clients.set(client.name, client);
  }

  get(name: string): OAuthClient | undefined {
    return this.clients.get(name);
  }
}
