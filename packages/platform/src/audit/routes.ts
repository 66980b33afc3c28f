/** KubeSphere's auditing query API over the audit log: `GET /kapis/logging.kubesphere.io/v1alpha2/auditing`. */
import type { FastifyInstance } from 'fastify';
import { StatusError } from '@canopy/apimachinery';
import type { AuditLog, AuditQuery } from './audit-log.js';

const INTERVAL_UNITS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3, M: 30 * 86400e3, q: 91 * 86400e3, y: 365 * 86400e3 };

function list(query: URLSearchParams, name: string): string[] | undefined {
  const raw = query.get(name);
  if (!raw) return undefined;
  const values = raw.split(',').map((v) => v.trim()).filter(Boolean);
  return values.length ? values : undefined;
}

function seconds(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new StatusError(400, 'BadRequest', `invalid ${name} "${raw}": seconds since the epoch expected`);
  return n * 1000;
}

export function parseAuditQuery(query: URLSearchParams): AuditQuery {
  const from = Number(query.get('from') ?? 0);
  const size = Number(query.get('size') ?? 10);
  if (!Number.isInteger(from) || from < 0) throw new StatusError(400, 'BadRequest', `invalid from "${query.get('from')}"`);
  if (!Number.isInteger(size) || size < 0 || size > 10_000) throw new StatusError(400, 'BadRequest', `invalid size "${query.get('size')}": 0-10000`);
  const sort = query.get('sort') ?? 'desc';
  if (sort !== 'asc' && sort !== 'desc') throw new StatusError(400, 'BadRequest', `invalid sort "${sort}": asc or desc`);
  const codes = list(query, 'response_code_filter')?.map(Number);
  if (codes?.some((c) => !Number.isInteger(c))) throw new StatusError(400, 'BadRequest', 'response_code_filter must list integers');
  return {
    workspaces: list(query, 'workspace_filter'),
    workspaceSearch: list(query, 'workspace_search'),
    namespaces: list(query, 'objectref_namespace_filter'),
    namespaceSearch: list(query, 'objectref_namespace_search'),
    names: list(query, 'objectref_name_filter'),
    nameSearch: list(query, 'objectref_name_search'),
    verbs: list(query, 'verb_filter'),
    users: list(query, 'user_filter'),
    userSearch: list(query, 'user_search'),
    groupSearch: list(query, 'group_search'),
    sourceIpSearch: list(query, 'source_ip_search'),
    resources: list(query, 'objectref_resource_filter'),
    subresources: list(query, 'objectref_subresource_filter'),
    codes,
    statuses: list(query, 'response_status_filter'),
    start: seconds(query, 'start_time'),
    end: seconds(query, 'end_time'),
    ascending: sort === 'asc',
    from,
    size,
  };
}

export function auditingApi(log: AuditLog) {
  return (app: FastifyInstance): void => {
    app.get('/kapis/logging.kubesphere.io/v1alpha2/auditing', async (req) => {
      const query = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
      const q = parseAuditQuery(query);
      const operation = query.get('operation') ?? 'query';
      switch (operation) {
        case 'query':
          return { query: log.query(q) };
        case 'statistics':
          return { statistics: log.statistics(q) };
        case 'histogram': {
          const interval = query.get('interval') ?? '15m';
          const m = /^(\d+)([smhdwMqy])$/.exec(interval);
          if (!m || Number(m[1]) === 0) throw new StatusError(400, 'BadRequest', `invalid interval "${interval}": [0-9]+[smhdwMqy] expected`);
          return { histogram: log.histogram(q, Number(m[1]) * INTERVAL_UNITS[m[2]]) };
        }
        default:
          throw new StatusError(400, 'BadRequest', `invalid operation "${operation}": query, statistics or histogram`);
      }
    });
  };
}
