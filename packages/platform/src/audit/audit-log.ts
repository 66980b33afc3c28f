/**
 * The audit trail: every mutating request and every denial, with who, what, where, from where,
 * the outcome, and the object before and after for updates. Stored in SQLite (WAL, synchronous
 * commit) so an acknowledged request's record survives a crash; queried with KubeSphere's
 * auditing API (`logging.kubesphere.io/v1alpha2/auditing`).
 *
 * Secret values never enter it: Secret data, string data and last-applied annotations, user
 * passwords and request bodies of sign-in and token endpoints are removed before storage.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';

export interface AuditObjectRef {
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  apiGroup?: string;
  apiVersion?: string;
  uid?: string;
}

export interface AuditEntry {
  time: number;
  user: string;
  groups: string[];
  verb: string;
  requestURI: string;
  sourceIp: string;
  userAgent?: string;
  workspace?: string;
  cluster: string;
  objectRef: AuditObjectRef;
  code: number;
  allowed: boolean;
  reason?: string;
  requestObject?: unknown;
  before?: unknown;
  after?: unknown;
}

/** A record in KubeSphere's auditing event shape (k8s audit.Event plus Workspace and Cluster). */
export interface AuditRecord {
  Workspace: string;
  Cluster: string;
  Message?: string;
  auditID: string;
  level: 'Metadata' | 'RequestResponse';
  stage: 'ResponseComplete';
  verb: string;
  requestURI: string;
  user: { username: string; groups: string[] };
  sourceIPs: string[];
  userAgent?: string;
  objectRef: AuditObjectRef;
  responseStatus: { metadata: Record<string, never>; code: number; status?: string; reason?: string };
  requestObject?: unknown;
  /** The object before the change (updates, patches, deletes). */
  beforeObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

const SECRET_KINDS = new Set(['secrets']);
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Removes secret material from an object before it is audited or logged. */
export function redact(resource: string | undefined, value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const copy = structuredClone(value) as Record<string, any>;
  const isSecret = (o: Record<string, any>) => SECRET_KINDS.has(resource ?? '') || o.kind === 'Secret';
  const scrub = (o: Record<string, any>) => {
    if (!o || typeof o !== 'object') return;
    if (isSecret(o)) {
      for (const field of ['data', 'stringData']) if (o[field] && typeof o[field] === 'object') o[field] = Object.fromEntries(Object.keys(o[field]).map((k) => [k, '[redacted]']));
      if (o.metadata?.annotations?.[LAST_APPLIED]) o.metadata.annotations[LAST_APPLIED] = '[redacted]';
    }
    if (o.kind === 'User' || resource === 'users') {
      if (o.spec?.password !== undefined) o.spec.password = '[redacted]';
      if (o.metadata?.annotations?.[LAST_APPLIED]) o.metadata.annotations[LAST_APPLIED] = '[redacted]';
    }
    for (const key of ['password', 'currentPassword', 'client_secret', 'access_token', 'refresh_token', 'token']) if (typeof o[key] === 'string') o[key] = '[redacted]';
    if (Array.isArray(o.items)) for (const item of o.items) scrub(item);
  };
  scrub(copy);
  return copy;
}

export interface AuditQuery {
  workspaces?: string[];
  workspaceSearch?: string[];
  namespaces?: string[];
  namespaceSearch?: string[];
  names?: string[];
  nameSearch?: string[];
  verbs?: string[];
  users?: string[];
  userSearch?: string[];
  groupSearch?: string[];
  sourceIpSearch?: string[];
  resources?: string[];
  subresources?: string[];
  codes?: number[];
  /** Failure | Success */
  statuses?: string[];
  start?: number;
  end?: number;
  ascending?: boolean;
  from?: number;
  size?: number;
}

export class AuditLog {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS audit (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      time INTEGER NOT NULL,
      user TEXT NOT NULL,
      groups TEXT NOT NULL,
      verb TEXT NOT NULL,
      workspace TEXT NOT NULL DEFAULT '',
      namespace TEXT NOT NULL DEFAULT '',
      resource TEXT NOT NULL DEFAULT '',
      subresource TEXT NOT NULL DEFAULT '',
      name TEXT NOT NULL DEFAULT '',
      source_ip TEXT NOT NULL DEFAULT '',
      code INTEGER NOT NULL,
      allowed INTEGER NOT NULL,
      record TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS audit_time ON audit(time);
    CREATE INDEX IF NOT EXISTS audit_user ON audit(user, time);
    CREATE INDEX IF NOT EXISTS audit_ns ON audit(namespace, time);
    CREATE INDEX IF NOT EXISTS audit_ws ON audit(workspace, time);`);
    this.insert = this.db.prepare(
      `INSERT INTO audit (time, user, groups, verb, workspace, namespace, resource, subresource, name, source_ip, code, allowed, record)
       VALUES (@time, @user, @groups, @verb, @workspace, @namespace, @resource, @subresource, @name, @sourceIp, @code, @allowed, @record)`,
    );
  }

  record(entry: AuditEntry): void {
    const resource = entry.objectRef.resource;
    const stamp = new Date(entry.time).toISOString();
    const hasBodies = entry.requestObject !== undefined || entry.before !== undefined || entry.after !== undefined;
    const record: AuditRecord = {
      Workspace: entry.workspace ?? '',
      Cluster: entry.cluster,
      ...(entry.reason ? { Message: entry.reason } : {}),
      auditID: randomUUID(),
      level: hasBodies ? 'RequestResponse' : 'Metadata',
      stage: 'ResponseComplete',
      verb: entry.verb,
      requestURI: entry.requestURI,
      user: { username: entry.user, groups: entry.groups },
      sourceIPs: entry.sourceIp ? [entry.sourceIp] : [],
      ...(entry.userAgent ? { userAgent: entry.userAgent } : {}),
      objectRef: entry.objectRef,
      responseStatus: { metadata: {}, code: entry.code, ...(entry.code >= 400 ? { status: 'Failure', reason: entry.reason } : {}) },
      ...(entry.requestObject !== undefined ? { requestObject: redact(resource, entry.requestObject) } : {}),
      ...(entry.before !== undefined ? { beforeObject: redact(resource, entry.before) } : {}),
      ...(entry.after !== undefined ? { responseObject: redact(resource, entry.after) } : {}),
      requestReceivedTimestamp: stamp,
      stageTimestamp: stamp,
    };
    this.insert.run({
      time: entry.time,
      user: entry.user,
      groups: JSON.stringify(entry.groups),
      verb: entry.verb,
      workspace: entry.workspace ?? '',
      namespace: entry.objectRef.namespace ?? '',
      resource: resource ?? '',
      subresource: entry.objectRef.subresource ?? '',
      name: entry.objectRef.name ?? '',
      sourceIp: entry.sourceIp,
      code: entry.code,
      allowed: entry.allowed ? 1 : 0,
      record: JSON.stringify(record),
    });
  }

  private where(q: AuditQuery): { sql: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    const anyOf = (column: string, values?: (string | number)[]) => {
      if (!values?.length) return;
      clauses.push(`${column} IN (${values.map(() => '?').join(',')})`);
      params.push(...values);
    };
    const search = (column: string, values?: string[]) => {
      if (!values?.length) return;
      clauses.push(`(${values.map(() => `instr(lower(${column}), ?) > 0`).join(' OR ')})`);
      params.push(...values.map((v) => v.toLowerCase()));
    };
    anyOf('workspace', q.workspaces);
    search('workspace', q.workspaceSearch);
    anyOf('namespace', q.namespaces);
    search('namespace', q.namespaceSearch);
    anyOf('name', q.names);
    search('name', q.nameSearch);
    anyOf('verb', q.verbs);
    anyOf('user', q.users);
    search('user', q.userSearch);
    search('groups', q.groupSearch);
    search('source_ip', q.sourceIpSearch);
    anyOf('resource', q.resources);
    anyOf('subresource', q.subresources);
    anyOf('code', q.codes);
    if (q.statuses?.length) {
      const want = new Set(q.statuses.map((s) => s.toLowerCase()));
      if (want.has('failure') && !want.has('success')) clauses.push('code >= 400');
      if (want.has('success') && !want.has('failure')) clauses.push('code < 400');
    }
    if (q.start !== undefined) {
      clauses.push('time >= ?');
      params.push(q.start);
    }
    if (q.end !== undefined) {
      clauses.push('time <= ?');
      params.push(q.end);
    }
    return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  query(q: AuditQuery): { total: number; records: AuditRecord[] } {
    const { sql, params } = this.where(q);
    const total = (this.db.prepare(`SELECT count(*) AS n FROM audit ${sql}`).get(...params) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT record FROM audit ${sql} ORDER BY time ${q.ascending ? 'ASC' : 'DESC'}, id ${q.ascending ? 'ASC' : 'DESC'} LIMIT ? OFFSET ?`)
      .all(...params, q.size ?? 10, q.from ?? 0) as { record: string }[];
    return { total, records: rows.map((r) => JSON.parse(r.record) as AuditRecord) };
  }

  statistics(q: AuditQuery): { events: number; resources: number } {
    const { sql, params } = this.where(q);
    const row = this.db.prepare(`SELECT count(*) AS events, count(DISTINCT resource || '/' || namespace || '/' || name) AS resources FROM audit ${sql}`).get(...params) as { events: number; resources: number };
    return row;
  }

  histogram(q: AuditQuery, intervalMs: number): { total: number; buckets: { time: number; count: number }[] } {
    const { sql, params } = this.where(q);
    const rows = this.db.prepare(`SELECT (time / ?) * ? AS bucket, count(*) AS n FROM audit ${sql} GROUP BY bucket ORDER BY bucket`).all(intervalMs, intervalMs, ...params) as { bucket: number; n: number }[];
    return { total: rows.reduce((s, r) => s + r.n, 0), buckets: rows.map((r) => ({ time: r.bucket, count: r.n })) };
  }

  close(): void {
    this.db.close();
  }
}
