/**
 * Building blocks for server-side Table printing, as kube-apiserver's printers use them:
 * human-readable durations (k8s.io/apimachinery/pkg/util/duration), the `<none>`/`<unknown>`/`<unset>`
 * placeholders, label and label-selector formatting, the default table convertor for kinds
 * without a printer, and the printer CRDs get from `additionalPrinterColumns`.
 *
 * Objects reach printers straight from users and storage, so nothing here trusts their shape:
 * every reader tolerates missing fields and wrong types and falls back to the zero value the Go
 * printers would see after decoding into typed structs.
 */
import type { KubeObject } from '@canopy/apimachinery';
import type { Printer, TableColumn } from './types.js';

export const NONE = '<none>';
export const UNKNOWN = '<unknown>';
export const UNSET = '<unset>';

// ---------------------------------------------------------------------------------------------
// Reading untrusted objects

type Json = Record<string, unknown>;

/** Follows `keys` through nested objects; undefined as soon as a step is not an object. */
export function at(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Json)[key];
  }
  return current;
}

/** A string field, or '' (Go's zero value) for anything else. */
export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** An integer field as Go's int32/int64 would hold it, or 0. */
export function int(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : 0;
}

/** An optional integer (a Go pointer field): undefined when absent or not a number. */
export function optionalInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : undefined;
}

export function bool(value: unknown): boolean {
  return value === true;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function record(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

/** Number of keys of a map field (`len(obj.Data)`). */
export function mapSize(value: unknown): number {
  return Object.keys(record(value)).length;
}

/**
 * A resource.Quantity as its String() prints it. Stored quantities are already canonical (the
 * API server re-serialises them), so the stored text is printed as is; a missing value field is
 * the zero Quantity, "0".
 */
export function quantity(value: unknown): string {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return '0';
}

/** A *resource.Quantity: nil prints as Go prints a nil pointer Quantity. */
export function quantityPointer(value: unknown): string {
  return value === undefined || value === null ? '<nil>' : quantity(value);
}

/** intstr.IntOrString.String(). */
export function intOrString(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(Math.trunc(value));
  return str(value);
}

// ---------------------------------------------------------------------------------------------
// Time

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** Go's time.Time{} (0001-01-01T00:00:00Z): metav1.Time.IsZero() is true for it. */
const ZERO_TIME_MS = Date.parse('0001-01-01T00:00:00Z');

/**
 * Parses an RFC 3339 timestamp (metav1.Time / metav1.MicroTime on the wire) to epoch
 * milliseconds. Returns undefined for a missing value, an unparseable one and Go's zero time,
 * which is what `IsZero()` callers need; `parseTimestamp` distinguishes invalid text.
 */
export function timestampMillis(value: unknown): number | undefined {
  const parsed = parseTimestamp(value);
  return typeof parsed === 'number' ? parsed : undefined;
}

/** 'zero' for absent/empty/zero time, 'invalid' for text that is not RFC 3339, else epoch ms. */
export function parseTimestamp(value: unknown): number | 'zero' | 'invalid' {
  if (value === undefined || value === null || value === '') return 'zero';
  if (typeof value !== 'string' || !RFC3339.test(value)) return 'invalid';
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return 'invalid';
  return ms === ZERO_TIME_MS ? 'zero' : ms;
}

/**
 * duration.HumanDuration: a succinct duration with ~2-3 significant figures. Takes
 * milliseconds; the thresholds and truncation follow the Go implementation exactly
 * (`int(d.Seconds())` truncates toward zero, small negative skews print as "0s").
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / 3_600_000);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const dy = days % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${years}y`;
}

/** translateTimestampSince: the age of a timestamp, `<unknown>` when it is unset. */
export function translateTimestampSince(timestamp: unknown, now: Date): string {
  const ms = timestampMillis(timestamp);
  return ms === undefined ? UNKNOWN : humanDuration(now.getTime() - ms);
}

/** The AGE cell: time since metadata.creationTimestamp. */
export function age(object: KubeObject, now: Date): string {
  return translateTimestampSince(at(object, 'metadata', 'creationTimestamp'), now);
}

export function nameOf(object: KubeObject): string {
  return str(at(object, 'metadata', 'name'));
}

/** `time.Time.UTC().Format(time.RFC3339)`: whole seconds, `Z` suffix; the zero time for unset. */
export function formatRFC3339(ms: number | undefined): string {
  const iso = new Date(ms ?? ZERO_TIME_MS).toISOString();
  return `${iso.slice(0, 19)}Z`;
}

// ---------------------------------------------------------------------------------------------
// Labels and selectors

/** labels.FormatLabels: `k=v` pairs sorted by key, `<none>` when empty. */
export function formatLabels(value: unknown): string {
  const entries = Object.entries(record(value))
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .sort(([a], [b]) => compareStrings(a, b));
  const text = entries.map(([k, v]) => `${k}=${v}`).join(',');
  return text === '' ? NONE : text;
}

/** Go's string ordering (bytewise), not locale ordering. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Requirement {
  key: string;
  text: string;
}

/**
 * metav1.LabelSelectorAsSelector(...).String(): requirements sorted by key, `k=v`,
 * `k in (a,b)`, `k notin (a,b)`, `k`, `!k`. Returns undefined for a selector Go rejects
 * (unknown operator, wrong number of values); nil and empty selectors print as ''.
 */
export function labelSelectorString(selector: unknown): string | undefined {
  if (typeof selector !== 'object' || selector === null || Array.isArray(selector)) return '';
  const matchLabels = record((selector as Json).matchLabels);
  const requirements: Requirement[] = [];
  for (const [key, value] of Object.entries(matchLabels)) {
    if (typeof value !== 'string') return undefined;
    requirements.push({ key, text: `${key}=${value}` });
  }
  for (const expression of list((selector as Json).matchExpressions)) {
    const key = str(at(expression, 'key'));
    const operator = at(expression, 'operator');
    const values = list(at(expression, 'values')).filter((v): v is string => typeof v === 'string');
    const joined = [...values].sort(compareStrings).join(',');
    switch (operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) return undefined;
        requirements.push({
          key,
          text: `${key} ${operator === 'In' ? 'in' : 'notin'} (${values.length === 1 ? values[0] : joined})`,
        });
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length !== 0) return undefined;
        requirements.push({ key, text: operator === 'Exists' ? key : `!${key}` });
        break;
      default:
        return undefined;
    }
  }
  // Selector.Add sorts requirements by key; a stable sort keeps same-key requirements in order.
  requirements.sort((a, b) => compareStrings(a.key, b.key));
  return requirements.map((r) => r.text).join(',');
}

/** metav1.FormatLabelSelector: `<none>` for an empty selector, `<error>` for an invalid one. */
export function formatLabelSelector(selector: unknown): string {
  const text = labelSelectorString(selector);
  if (text === undefined) return '<error>';
  return text === '' ? NONE : text;
}

// ---------------------------------------------------------------------------------------------
// Columns

export function column(
  name: string,
  type: TableColumn['type'],
  description: string,
  options: { priority?: number; format?: string } = {},
): TableColumn {
  const result: TableColumn = { name, type, description, priority: options.priority ?? 0 };
  if (options.format !== undefined) result.format = options.format;
  return result;
}

export const NAME_DESCRIPTION = 'Name of the object, unique within its namespace (or cluster-wide for cluster-scoped kinds).';
export const CREATION_TIMESTAMP_DESCRIPTION = 'Time since the server created the object (metadata.creationTimestamp).';

export const nameColumn = (): TableColumn => column('Name', 'string', NAME_DESCRIPTION, { format: 'name' });
export const ageColumn = (): TableColumn => column('Age', 'string', CREATION_TIMESTAMP_DESCRIPTION);

/**
 * rest.DefaultTableConvertor, used by kube-apiserver for kinds without a printer (Role,
 * ClusterRole, LimitRange, CustomResourceDefinition, ...): NAME and CREATED AT, the latter a
 * `date` column whose cell is the creation time in RFC 3339 (kubectl prints it verbatim).
 */
export const defaultPrinter: Printer = {
  columns: [nameColumn(), column('Created At', 'date', CREATION_TIMESTAMP_DESCRIPTION)],
  cells(object) {
    return [nameOf(object), formatRFC3339(timestampMillis(at(object, 'metadata', 'creationTimestamp')))];
  },
};

// ---------------------------------------------------------------------------------------------
// CustomResourceDefinition additionalPrinterColumns

/** apiextensions.k8s.io/v1 CustomResourceColumnDefinition. */
export interface CustomResourceColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

const COLUMN_TYPES = new Set<TableColumn['type']>(['string', 'integer', 'number', 'boolean', 'date']);

/**
 * The table convertor kube-apiextensions builds from a version's additionalPrinterColumns:
 * NAME first, then each column in order. With no columns declared the CRD gets a single AGE
 * column (serveDefaultColumnsIfEmpty). `date` cells are ages (`5m`), `<unknown>` for an empty
 * timestamp and `<invalid>` for one that does not parse; a path that finds nothing gives null.
 */
export function printerForCustomColumns(additionalPrinterColumns: CustomResourceColumn[] | undefined): Printer {
  const declared =
    additionalPrinterColumns && additionalPrinterColumns.length > 0
      ? additionalPrinterColumns
      : [{ name: 'Age', type: 'date', description: CREATION_TIMESTAMP_DESCRIPTION, jsonPath: '.metadata.creationTimestamp' }];
  const columns: TableColumn[] = [nameColumn()];
  const paths: Array<JsonPath | undefined> = [];
  for (const declaration of declared) {
    const type = COLUMN_TYPES.has(declaration.type as TableColumn['type']) ? (declaration.type as TableColumn['type']) : 'string';
    const description =
      declaration.description && declaration.description.length > 0
        ? declaration.description
        : `Custom resource definition column (in JSONPath format): ${declaration.jsonPath}`;
    const definition: TableColumn = { name: declaration.name, type, description, priority: int(declaration.priority) };
    if (declaration.format) definition.format = declaration.format;
    columns.push(definition);
    paths.push(parseJsonPath(declaration.jsonPath));
  }
  const declaredTypes = declared.map((d) => d.type);
  return {
    columns,
    cells(object, now) {
      const cells: unknown[] = [nameOf(object)];
      paths.forEach((path, i) => {
        const results = path ? evaluateJsonPath(path, object) : [];
        // Only simple paths are allowed, so upstream reads the first result and ignores the rest.
        if (results.length === 0) {
          cells.push(null);
          return;
        }
        cells.push(customCell(declaredTypes[i], results[0], now));
      });
      return cells;
    },
  };
}

/** cellForJSONValue (and the jsonpath text printer for `string` columns). */
function customCell(type: string, value: unknown, now: Date): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'string':
      return goPrint(value);
    case 'integer':
      return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      if (value === 'null') return UNKNOWN;
      const parsed = parseTimestamp(value);
      if (parsed === 'invalid') return '<invalid>';
      if (parsed === 'zero') return UNKNOWN;
      return humanDuration(now.getTime() - parsed);
    }
    default:
      return null;
  }
}

/** fmt.Fprint of a decoded JSON value, as the jsonpath printer writes it. */
export function goPrint(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return goNumber(value);
  if (Array.isArray(value)) return `[${value.map(goPrint).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Json).sort(([a], [b]) => compareStrings(a, b));
    return `map[${entries.map(([k, v]) => `${k}:${goPrint(v)}`).join(' ')}]`;
  }
  return String(value);
}

/** Integers decode to int64 and print in full; other numbers print as Go's %v prints a float64. */
function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return BigInt(n).toString();
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf';
  const exponent = Math.floor(Math.log10(Math.abs(n)));
  if (exponent < -4 || exponent >= 21) {
    const [mantissa, exp] = n.toExponential().split('e');
    const sign = exp.startsWith('-') ? '-' : '+';
    const digits = exp.replace(/^[+-]/, '').padStart(2, '0');
    return `${mantissa}e${sign}${digits}`;
  }
  return String(n);
}

// ---------------------------------------------------------------------------------------------
// JSONPath (the subset printer columns use)

type Segment =
  | { kind: 'field'; name: string }
  | { kind: 'wildcard' }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start?: number; end?: number }
  | { kind: 'filter'; path: Segment[]; operator?: '==' | '!=' | '<' | '>' | '<=' | '>='; literal?: unknown };

export interface JsonPath {
  segments: Segment[];
}

/**
 * Parses the JSONPath kubectl and CRD printer columns use: `.a.b`, `.a['b.c']`, `.a[0]`,
 * `.a[-1]`, `.a[1:3]`, `.a[*]`, `.a.*`, `.a[?(@.type=="Ready")].status`, `\.` to escape a dot in a
 * key. Optional surrounding `{}` are accepted. Returns undefined for anything else.
 */
export function parseJsonPath(text: string): JsonPath | undefined {
  let source = text.trim();
  if (source.startsWith('{') && source.endsWith('}')) source = source.slice(1, -1).trim();
  if (source.startsWith('$')) source = source.slice(1);
  const segments = parseSegments(source, 0, source.length);
  return segments ? { segments } : undefined;
}

function parseSegments(source: string, start: number, end: number): Segment[] | undefined {
  const segments: Segment[] = [];
  let i = start;
  while (i < end) {
    const c = source[i];
    if (c === '.') {
      if (source[i + 1] === '.') return undefined; // recursive descent is not a simple path
      i++;
      if (source[i] === '*') {
        segments.push({ kind: 'wildcard' });
        i++;
        continue;
      }
      let name = '';
      while (i < end && source[i] !== '.' && source[i] !== '[') {
        if (source[i] === '\\' && i + 1 < end) {
          name += source[i + 1];
          i += 2;
          continue;
        }
        name += source[i];
        i++;
      }
      if (name === '') return undefined;
      segments.push({ kind: 'field', name });
    } else if (c === '[') {
      const close = findClosingBracket(source, i, end);
      if (close < 0) return undefined;
      const segment = parseBracket(source.slice(i + 1, close).trim());
      if (!segment) return undefined;
      segments.push(segment);
      i = close + 1;
    } else {
      return undefined;
    }
  }
  return segments;
}

function findClosingBracket(source: string, open: number, end: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < end; i++) {
    const c = source[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i;
  }
  return -1;
}

function parseBracket(inner: string): Segment | undefined {
  if (inner === '*') return { kind: 'wildcard' };
  const quoted = /^(['"])(.*)\1$/s.exec(inner);
  if (quoted) return { kind: 'field', name: quoted[2] };
  if (/^-?\d+$/.test(inner)) return { kind: 'index', index: Number(inner) };
  const slice = /^(-?\d+)?:(-?\d+)?$/.exec(inner);
  if (slice) {
    const segment: Segment = { kind: 'slice' };
    if (slice[1] !== undefined) segment.start = Number(slice[1]);
    if (slice[2] !== undefined) segment.end = Number(slice[2]);
    return segment;
  }
  const filter = /^\?\((.*)\)$/s.exec(inner);
  if (filter) return parseFilter(filter[1].trim());
  return undefined;
}

function parseFilter(expression: string): Segment | undefined {
  const match = /^@((?:\.[^\s=!<>]+|\[[^\]]*\])*)\s*(?:(==|!=|<=|>=|<|>)\s*(.+))?$/s.exec(expression);
  if (!match) return undefined;
  const path = parseSegments(match[1], 0, match[1].length);
  if (!path) return undefined;
  if (match[2] === undefined) return { kind: 'filter', path };
  const literalText = match[3].trim();
  let literal: unknown;
  const quoted = /^(['"])(.*)\1$/s.exec(literalText);
  if (quoted) literal = quoted[2];
  else if (/^-?\d+(\.\d+)?$/.test(literalText)) literal = Number(literalText);
  else if (literalText === 'true' || literalText === 'false') literal = literalText === 'true';
  else return undefined;
  return { kind: 'filter', path, operator: match[2] as '==' | '!=' | '<' | '>' | '<=' | '>=', literal };
}

/** Evaluates a parsed path with missing keys allowed: the list of values found, possibly empty. */
export function evaluateJsonPath(path: JsonPath, root: unknown): unknown[] {
  let current: unknown[] = [root];
  for (const segment of path.segments) {
    const next: unknown[] = [];
    for (const value of current) applySegment(segment, value, next);
    current = next;
    if (current.length === 0) break;
  }
  return current;
}

function applySegment(segment: Segment, value: unknown, out: unknown[]): void {
  switch (segment.kind) {
    case 'field':
      if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, segment.name)) {
        out.push((value as Json)[segment.name]);
      }
      return;
    case 'wildcard':
      if (Array.isArray(value)) out.push(...value);
      else if (typeof value === 'object' && value !== null) {
        for (const key of Object.keys(value).sort(compareStrings)) out.push((value as Json)[key]);
      }
      return;
    case 'index': {
      if (!Array.isArray(value)) return;
      const index = segment.index < 0 ? value.length + segment.index : segment.index;
      if (index >= 0 && index < value.length) out.push(value[index]);
      return;
    }
    case 'slice': {
      if (!Array.isArray(value)) return;
      const clamp = (n: number) => Math.min(Math.max(n < 0 ? value.length + n : n, 0), value.length);
      out.push(...value.slice(clamp(segment.start ?? 0), clamp(segment.end ?? value.length)));
      return;
    }
    case 'filter': {
      const items = Array.isArray(value) ? value : [];
      for (const item of items) {
        const found = evaluateJsonPath({ segments: segment.path }, item);
        if (segment.operator === undefined) {
          if (found.length > 0) out.push(item);
        } else if (found.length > 0 && compareFilter(found[0], segment.operator, segment.literal)) {
          out.push(item);
        }
      }
      return;
    }
  }
}

function compareFilter(left: unknown, operator: string, right: unknown): boolean {
  switch (operator) {
    case '==':
      return left === right;
    case '!=':
      return left !== right;
  }
  if (typeof left !== typeof right || (typeof left !== 'number' && typeof left !== 'string')) return false;
  const l = left as number | string;
  const r = right as number | string;
  switch (operator) {
    case '<':
      return l < r;
    case '>':
      return l > r;
    case '<=':
      return l <= r;
    case '>=':
      return l >= r;
  }
  return false;
}
