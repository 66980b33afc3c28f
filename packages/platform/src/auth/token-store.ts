/**
 * The server-side registry of issued tokens. A token is valid only while its id (the JWT `jti`) is
 * registered here, as KubeSphere keeps every issued token in its cache: signing out removes the
 * token, and a new sign-in with `multipleLogin` off removes every older one of the user. Expired
 * entries are pruned. The interface is synchronous: both implementations are (memory,
 * better-sqlite3), and a check on every API request must stay cheap.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface TokenRecord {
  /** The JWT id. */
  jti: string;
  username: string;
  /** access_token, refresh_token, static_token or code. */
  tokenType: string;
  /** Tokens of one sign-in (access, refresh, and their refreshed successors) share a session id; signing out ends the session. */
  sessionId: string;
  /** OAuth client the tokens were issued through, if any. */
  clientId?: string;
  /** metadata.uid of the user when the token was issued: a user deleted and created again under the same name does not inherit tokens. */
  userUid?: string;
  issuedAt: number;
  /** ms since the epoch; undefined for tokens that never expire (static tokens). */
  expiresAt?: number;
  /** Last time the token authenticated a request, ms. */
  lastUsedAt: number;
  /** Idle time after which the token stops working (ms); undefined or 0: no inactivity timeout. */
  inactivityTimeout?: number;
}

export interface TokenStore {
  add(record: TokenRecord): void;
  get(jti: string): TokenRecord | undefined;
  /** Records use of the token at `at`. */
  touch(jti: string, at: number): void;
  /** Removes one token; true if it was registered (so a one-time code is redeemed once). */
  revoke(jti: string): boolean;
  /** Removes every token of a session; returns how many. */
  revokeSession(sessionId: string): number;
  /** Removes every token of a user, except those of `exceptSession`; returns how many. */
  revokeUser(username: string, exceptSession?: string): number;
  listUser(username: string): TokenRecord[];
  /** Deletes entries that expired before `now`; returns how many. */
  pruneExpired(now: number): number;
  close(): void;
}

export class MemoryTokenStore implements TokenStore {
  private readonly records = new Map<string, TokenRecord>();
  private readonly byUser = new Map<string, Set<string>>();
  private readonly bySession = new Map<string, Set<string>>();

  add(record: TokenRecord): void {
    this.revoke(record.jti);
    this.records.set(record.jti, { ...record });
    index(this.byUser, record.username, record.jti);
    index(this.bySession, record.sessionId, record.jti);
  }

  get(jti: string): TokenRecord | undefined {
    const r = this.records.get(jti);
    return r && { ...r };
  }

  touch(jti: string, at: number): void {
    const r = this.records.get(jti);
    if (r && at > r.lastUsedAt) r.lastUsedAt = at;
  }

  revoke(jti: string): boolean {
    const r = this.records.get(jti);
    if (!r) return false;
    this.records.delete(jti);
    unindex(this.byUser, r.username, jti);
    unindex(this.bySession, r.sessionId, jti);
    return true;
  }

  revokeSession(sessionId: string): number {
    let n = 0;
    for (const jti of [...(this.bySession.get(sessionId) ?? [])]) if (this.revoke(jti)) n++;
    return n;
  }

  revokeUser(username: string, exceptSession?: string): number {
    let n = 0;
    for (const jti of [...(this.byUser.get(username) ?? [])]) {
      if (exceptSession !== undefined && this.records.get(jti)?.sessionId === exceptSession) continue;
      if (this.revoke(jti)) n++;
    }
    return n;
  }

  listUser(username: string): TokenRecord[] {
    return [...(this.byUser.get(username) ?? [])].map((jti) => ({ ...this.records.get(jti)! }));
  }

  pruneExpired(now: number): number {
    let n = 0;
    for (const [jti, r] of [...this.records]) if (r.expiresAt !== undefined && r.expiresAt < now && this.revoke(jti)) n++;
    return n;
  }

  close(): void {
    this.records.clear();
    this.byUser.clear();
    this.bySession.clear();
  }
}

function index(map: Map<string, Set<string>>, key: string, jti: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(jti);
}

function unindex(map: Map<string, Set<string>>, key: string, jti: string): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(jti);
  if (set.size === 0) map.delete(key);
}

interface TokenRow {
  jti: string;
  username: string;
  token_type: string;
  session_id: string;
  client_id: string | null;
  user_uid: string | null;
  issued_at: number;
  expires_at: number | null;
  last_used_at: number;
  inactivity_timeout: number | null;
}

function fromRow(row: TokenRow): TokenRecord {
  const r: TokenRecord = {
    jti: row.jti,
    username: row.username,
    tokenType: row.token_type,
    sessionId: row.session_id,
    issuedAt: row.issued_at,
    lastUsedAt: row.last_used_at,
  };
  if (row.client_id !== null) r.clientId = row.client_id;
  if (row.user_uid !== null) r.userUid = row.user_uid;
  if (row.expires_at !== null) r.expiresAt = row.expires_at;
  if (row.inactivity_timeout !== null) r.inactivityTimeout = row.inactivity_timeout;
  return r;
}

/**
 * The durable registry for all-in-one installations: one SQLite file in the data directory (WAL, so a
 * revocation survives a crash of the process once `revoke` has returned). Sessions outlive restarts.
 */
export class SqliteTokenStore implements TokenStore {
  private readonly db: Database.Database;
  private readonly stmts: {
    add: Database.Statement;
    get: Database.Statement<[string], TokenRow>;
    touch: Database.Statement;
    revoke: Database.Statement;
    revokeSession: Database.Statement;
    revokeUser: Database.Statement;
    revokeUserExcept: Database.Statement;
    listUser: Database.Statement<[string], TokenRow>;
    prune: Database.Statement;
  };

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS tokens (
        jti TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        token_type TEXT NOT NULL,
        session_id TEXT NOT NULL,
        client_id TEXT,
        user_uid TEXT,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER,
        last_used_at INTEGER NOT NULL,
        inactivity_timeout INTEGER
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS tokens_by_user ON tokens (username);
      CREATE INDEX IF NOT EXISTS tokens_by_session ON tokens (session_id);
      CREATE INDEX IF NOT EXISTS tokens_by_expiry ON tokens (expires_at) WHERE expires_at IS NOT NULL;
    `);
    this.stmts = {
      add: this.db.prepare(
        `INSERT OR REPLACE INTO tokens (jti, username, token_type, session_id, client_id, user_uid, issued_at, expires_at, last_used_at, inactivity_timeout)
         VALUES (@jti, @username, @tokenType, @sessionId, @clientId, @userUid, @issuedAt, @expiresAt, @lastUsedAt, @inactivityTimeout)`,
      ),
      get: this.db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE jti = ?'),
      touch: this.db.prepare('UPDATE tokens SET last_used_at = ? WHERE jti = ? AND last_used_at < ?'),
      revoke: this.db.prepare('DELETE FROM tokens WHERE jti = ?'),
      revokeSession: this.db.prepare('DELETE FROM tokens WHERE session_id = ?'),
      revokeUser: this.db.prepare('DELETE FROM tokens WHERE username = ?'),
      revokeUserExcept: this.db.prepare('DELETE FROM tokens WHERE username = ? AND session_id <> ?'),
      listUser: this.db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE username = ? ORDER BY issued_at'),
      prune: this.db.prepare('DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at < ?'),
    };
  }

  add(record: TokenRecord): void {
    this.stmts.add.run({
      jti: record.jti,
      username: record.username,
      tokenType: record.tokenType,
      sessionId: record.sessionId,
      clientId: record.clientId ?? null,
      userUid: record.userUid ?? null,
      issuedAt: record.issuedAt,
      expiresAt: record.expiresAt ?? null,
      lastUsedAt: record.lastUsedAt,
      inactivityTimeout: record.inactivityTimeout ?? null,
    });
  }

  get(jti: string): TokenRecord | undefined {
    const row = this.stmts.get.get(jti);
    return row && fromRow(row);
  }

  touch(jti: string, at: number): void {
    this.stmts.touch.run(at, jti, at);
  }

  revoke(jti: string): boolean {
    return this.stmts.revoke.run(jti).changes > 0;
  }

  revokeSession(sessionId: string): number {
    return this.stmts.revokeSession.run(sessionId).changes;
  }

  revokeUser(username: string, exceptSession?: string): number {
    return exceptSession === undefined
      ? this.stmts.revokeUser.run(username).changes
      : this.stmts.revokeUserExcept.run(username, exceptSession).changes;
  }

  listUser(username: string): TokenRecord[] {
    return this.stmts.listUser.all(username).map(fromRow);
  }

  pruneExpired(now: number): number {
    return this.stmts.prune.run(now).changes;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
