/**
 * KubeSphere's list query (pkg/apiserver/query and models/resources/v1alpha3): filters by any
 * non-reserved query key, sorting, paging, with the same semantics as ks-apiserver so the
 * console and scripts get the same pages.
 */
import { StatusError, type KubeObject } from '@canopy/apimachinery';
import { matchesLabels, parseFieldSelector, parseLabelSelector, type FieldSelector, type LabelSelector } from '@canopy/apimachinery';

export interface ListQuery {
  page: number;
  /** -1: no paging. */
  limit: number;
  sortBy: string;
  ascending: boolean;
  filters: Map<string, string>;
  labelSelector?: LabelSelector;
}

const RESERVED = new Set(['page', 'limit', 'sortBy', 'orderBy', 'ascending', 'reverse', 'labelSelector']);
/** What Go's strconv.ParseBool reads as true. */
const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);

export function parseListQuery(query: URLSearchParams): ListQuery {
  const int = (name: string, fallback: number): number => {
    const raw = query.get(name);
    if (raw === null || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n)) throw new StatusError(400, 'BadRequest', `invalid ${name} "${raw}": must be an integer`);
    return n;
  };
  const filters = new Map<string, string>();
  for (const [key, value] of query) if (!RESERVED.has(key) && value !== '') filters.set(key, value);
  let labelSelector: LabelSelector | undefined;
  const rawSelector = query.get('labelSelector');
  if (rawSelector) {
    try {
      labelSelector = parseLabelSelector(rawSelector);
    } catch (err) {
      throw new StatusError(400, 'BadRequest', `invalid labelSelector: ${(err as Error).message}`);
    }
  }
  return {
    // Not clamped: ks-apiserver answers nothing for a page before the first (its offset is negative).
    page: int('page', 1),
    limit: int('limit', -1),
    sortBy: query.get('sortBy') ?? query.get('orderBy') ?? 'creationTimestamp',
    // ks-apiserver reads it with Go's strconv.ParseBool (a Python client sends `True`); anything else is descending.
    ascending: GO_TRUE.has(query.get('ascending') ?? ''),
    filters,
    labelSelector,
  };
}

/** `key`, `key=value` or `key!=value` against labels or annotations (ks labelMatch). */
export function labelMatch(map: Record<string, string> | undefined, filter: string): boolean {
  const at = filter.indexOf('=');
  let key = at < 0 ? filter : filter.slice(0, at);
  const value = at < 0 ? '*' : filter.slice(at + 1);
  let opposite = false;
  if (at >= 0 && key.endsWith('!')) {
    key = key.slice(0, -1);
    opposite = true;
  }
  if (!map || !(key in map)) return false;
  return opposite ? map[key] !== value : value === '*' || map[key] === value;
}

function lookupPath(object: unknown, path: string): unknown {
  let current: unknown = object;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** ks fieldSelector: any JSON path, `=`/`==`/`!=`, values prefixed `~` compare case-insensitively. */
function fieldMatch(object: KubeObject, selector: FieldSelector): boolean {
  for (const req of selector.requirements) {
    const raw = lookupPath(object, req.field);
    const actual = raw === undefined ? '' : typeof raw === 'object' ? JSON.stringify(raw) : String(raw);
    let expected = req.value;
    let equal: boolean;
    if (expected.startsWith('~')) {
      expected = expected.slice(1);
      equal = actual.toLowerCase() === expected.toLowerCase();
    } else equal = actual === expected;
    if (req.operator === '!=' ? equal : !equal) return false;
  }
  return true;
}

/** A kind's own filters (pods by node, deployments by status, …); undefined: not this kind's key. */
export type KindFilter = (object: KubeObject, key: string, value: string) => boolean | undefined;

/** KubeSphere's display name (constants.DisplayNameAnnotationKey). */
const ALIAS_NAME = 'kubesphere.io/alias-name';

export function metaFilter(object: KubeObject, key: string, value: string, parsedFieldSelector?: FieldSelector): boolean {
  const m = object.metadata;
  switch (key) {
    case 'names':
      return value.split(',').includes(m.name ?? '');
    case 'name': {
      const alias = m.annotations?.[ALIAS_NAME];
      if (alias && alias.toLowerCase().includes(value.toLowerCase())) return true;
      return (m.name ?? '').includes(value);
    }
    case 'uid':
      return m.uid === value;
    case 'namespace':
      return m.namespace === value;
    case 'ownerReference':
      return (m.ownerReferences ?? []).some((o) => o.uid === value);
    case 'ownerKind':
      return (m.ownerReferences ?? []).some((o) => o.kind === value);
    case 'annotation':
      return labelMatch(m.annotations, value);
    case 'label':
      return labelMatch(m.labels, value);
    case 'fieldSelector':
      return parsedFieldSelector ? fieldMatch(object, parsedFieldSelector) : true;
    default:
      return true;
  }
}

function creationTime(o: KubeObject): number {
  return o.metadata.creationTimestamp ? Date.parse(o.metadata.creationTimestamp) : 0;
}

/** Go's strings.Compare, which ks-apiserver sorts names with: code units, not the locale's collation. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What an object sorts by, computed once per object rather than once per comparison. */
interface SortKey {
  object: KubeObject;
  name: string;
  time: number;
}

function sortKey(object: KubeObject, byName: boolean): SortKey {
  return { object, name: object.metadata.name ?? '', time: byName ? 0 : creationTime(object) };
}

/** ks DefaultObjectMetaCompare as an ordering: negative when `a` comes first in the default (descending) order. */
function compareKeys(a: SortKey, b: SortKey, byName: boolean): number {
  if (byName) return -compareNames(a.name, b.name);
  const t = b.time - a.time;
  return t !== 0 ? t : -compareNames(a.name, b.name);
}

/** ks DefaultObjectMetaCompare: negative when `a` sorts before `b` in the default (descending) order. */
export function defaultCompare(a: KubeObject, b: KubeObject, sortBy: string): number {
  const byName = sortBy === 'name';
  return compareKeys(sortKey(a, byName), sortKey(b, byName), byName);
}

export interface ListResult<T> {
  items: T[];
  totalItems: number;
}

/** Filters, sorts and pages as ks DefaultList does. */
export function applyListQuery(objects: Iterable<KubeObject>, q: ListQuery, kindFilter?: KindFilter): ListResult<KubeObject> {
  let fieldSelector: FieldSelector | undefined;
  const rawFields = q.filters.get('fieldSelector');
  if (rawFields) {
    try {
      fieldSelector = parseFieldSelector(rawFields);
    } catch (err) {
      throw new StatusError(400, 'BadRequest', `invalid fieldSelector: ${(err as Error).message}`);
    }
  }
  const filters = [...q.filters];
  const matched: KubeObject[] = [];
  for (const o of objects) {
    if (q.labelSelector && !matchesLabels(q.labelSelector, o.metadata.labels)) continue;
    let ok = true;
    for (const [key, value] of filters) {
      const own = kindFilter?.(o, key, value);
      if (!(own ?? metaFilter(o, key, value, fieldSelector))) {
        ok = false;
        break;
      }
    }
    if (ok) matched.push(o);
  }
  // Timestamps are parsed once per object, not twice per comparison: sorting a thousand matches
  // took ~20,000 Date.parse calls, half the time of a broad name filter over 10,000 pods.
  const byName = q.sortBy === 'name';
  const sign = q.ascending ? -1 : 1;
  const keyed = matched.map((o) => sortKey(o, byName));
  keyed.sort((a, b) => sign * compareKeys(a, b, byName));
  const total = keyed.length;
  if (q.limit === -1) return { items: keyed.map((k) => k.object), totalItems: total };
  const offset = (q.page - 1) * q.limit;
  if (q.limit < 0 || offset < 0 || offset > total) return { items: [], totalItems: total };
  return { items: keyed.slice(offset, offset + q.limit).map((k) => k.object), totalItems: total };
}
