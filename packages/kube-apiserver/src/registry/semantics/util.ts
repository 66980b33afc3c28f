/**
 * Helpers shared by the per-group semantics modules: tolerant field access (objects arrive as
 * whatever JSON a client sent, so nothing here may throw), defaulting primitives with Go's notion
 * of "unset", a validation accumulator, Go-style value rendering for the messages kube prints with
 * %#v, label selector matching, resource quantities and semantic equality.
 */
import {
  fieldErrors,
  formatQuantity,
  isPlainObject,
  labelSelectorFromObject,
  matchesLabels,
  parseQuantity,
  wrongType,
  type LabelSelector,
  type LabelSelectorObject,
  type StatusCause,
} from '@canopy/apimachinery';

export type Obj = Record<string, unknown>;

export function asObj(value: unknown): Obj | undefined {
  return isPlainObject(value) ? value : undefined;
}

export function asArr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asStr(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function asNum(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Objects of an array, skipping anything else (defaulting never invents structure inside garbage). */
export function objectsOf(value: unknown): Obj[] {
  return asArr(value).filter(isPlainObject);
}

export function isUnset(value: unknown): boolean {
  return value === undefined || value === null;
}

// ---------------------------------------------------------------------------------------------
// Defaulting. Go decodes JSON null into a nil pointer or a zero value, so null counts as unset.

/** A pointer field (`*int32`, `*string`…): defaulted only when absent or null; an explicit 0 stays. */
export function defaultPointer(target: Obj, key: string, value: unknown): void {
  if (isUnset(target[key])) target[key] = value;
}

/** A non-pointer string field: the empty string is Go's zero value, so it is defaulted too. */
export function defaultString(target: Obj, key: string, value: string): void {
  if (isUnset(target[key]) || target[key] === '') target[key] = value;
}

/** A non-pointer integer field: 0 is Go's zero value, so it is defaulted too. */
export function defaultInteger(target: Obj, key: string, value: number): void {
  if (isUnset(target[key]) || target[key] === 0) target[key] = value;
}

/**
 * The object at `target[key]`, created empty when absent (a non-pointer struct, or a pointer the
 * defaulter allocates). A value of another type is left alone and undefined returned.
 */
export function ensureObj(target: Obj, key: string): Obj | undefined {
  if (isUnset(target[key])) target[key] = {};
  return asObj(target[key]);
}

// ---------------------------------------------------------------------------------------------
// Validation accumulator

export const SUPPORTED_PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

/** Collects causes; the typed getters report a value of the wrong JSON type once and then treat it as absent. */
export class Causes {
  readonly list: StatusCause[] = [];

  push(...causes: StatusCause[]): void {
    this.list.push(...causes);
  }

  required(path: string, detail = ''): void {
    this.list.push(fieldErrors.required(path, detail));
  }

  invalid(path: string, value: unknown, detail: string): void {
    this.list.push(fieldErrors.invalid(path, value, detail));
  }

  /** An Invalid cause whose value is already rendered (Go's %#v of maps and structs). */
  invalidRendered(path: string, rendered: string, detail: string): void {
    this.list.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${rendered}: ${detail}`, field: path });
  }

  notSupported(path: string, value: unknown, valid: string[]): void {
    this.list.push(fieldErrors.notSupported(path, value, valid));
  }

  forbidden(path: string, detail: string): void {
    this.list.push(fieldErrors.forbidden(path, detail));
  }

  duplicate(path: string, value: unknown): void {
    this.list.push(fieldErrors.duplicate(path, value));
  }

  /** field.NotFound: a reference to something that does not exist (a volume a mount names). */
  notFound(path: string, value: unknown): void {
    this.list.push({ reason: 'FieldValueNotFound', message: `Not found: ${JSON.stringify(value ?? null)}`, field: path });
  }

  tooLong(path: string, max: number): void {
    this.list.push(fieldErrors.tooLong(path, '', max));
  }

  /** field.TooMany. */
  tooMany(path: string, actual: number, max: number): void {
    this.list.push({ reason: 'FieldValueTooMany', message: `Too many: ${actual}: must have at most ${max} items`, field: path });
  }

  /** Each message of an `is*` check as an Invalid cause (the `for _, msg := range …` idiom). */
  each(path: string, value: unknown, messages: string[]): void {
    for (const msg of messages) this.invalid(path, value, msg);
  }

  string(source: Obj | undefined, key: string, path: string): string | undefined {
    const value = source?.[key];
    if (isUnset(value)) return undefined;
    if (typeof value !== 'string') {
      this.list.push(wrongType(path, value, 'string'));
      return undefined;
    }
    return value;
  }

  integer(source: Obj | undefined, key: string, path: string): number | undefined {
    const value = source?.[key];
    if (isUnset(value)) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.list.push(wrongType(path, value, 'integer'));
      return undefined;
    }
    return value;
  }

  boolean(source: Obj | undefined, key: string, path: string): boolean | undefined {
    const value = source?.[key];
    if (isUnset(value)) return undefined;
    if (typeof value !== 'boolean') {
      this.list.push(wrongType(path, value, 'boolean'));
      return undefined;
    }
    return value;
  }

  object(source: Obj | undefined, key: string, path: string): Obj | undefined {
    const value = source?.[key];
    if (isUnset(value)) return undefined;
    if (!isPlainObject(value)) {
      this.list.push(wrongType(path, value, 'object'));
      return undefined;
    }
    return value;
  }

  array(source: Obj | undefined, key: string, path: string): unknown[] | undefined {
    const value = source?.[key];
    if (isUnset(value)) return undefined;
    if (!Array.isArray(value)) {
      this.list.push(wrongType(path, value, 'array'));
      return undefined;
    }
    return value;
  }

  /** The objects of an array field with their paths; non-objects are reported. */
  objects(source: Obj | undefined, key: string, path: string): Array<[Obj, string]> {
    const out: Array<[Obj, string]> = [];
    (this.array(source, key, path) ?? []).forEach((item, i) => {
      if (isPlainObject(item)) out.push([item, `${path}[${i}]`]);
      else this.list.push(wrongType(`${path}[${i}]`, item, 'object'));
    });
    return out;
  }

  /** A map of strings (labels, data); non-string values are reported. */
  stringMap(source: Obj | undefined, key: string, path: string): Record<string, string> | undefined {
    const map = this.object(source, key, path);
    if (!map) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(map)) {
      if (typeof v === 'string') out[k] = v;
      else this.list.push(wrongType(`${path}[${k}]`, v, 'string'));
    }
    return out;
  }

  nonNegative(value: number | undefined, path: string): void {
    if (value !== undefined && value < 0) this.invalid(path, value, 'must be greater than or equal to 0');
  }
}

// ---------------------------------------------------------------------------------------------
// Go %#v rendering for the few messages where kube shows a Go value users recognise.

export function goString(value: string): string {
  return JSON.stringify(value);
}

/** `map[string]string{"a":"b", "c":"d"}` (keys sorted, as fmt prints maps). */
export function goStringMap(map: unknown): string {
  const obj = asObj(map);
  if (!obj) return 'map[string]string(nil)';
  const entries = Object.keys(obj)
    .sort()
    .map((k) => `${goString(k)}:${goString(String(obj[k]))}`);
  return `map[string]string{${entries.join(', ')}}`;
}

function goStringSlice(values: unknown): string {
  if (!Array.isArray(values)) return '[]string(nil)';
  return `[]string{${values.map((v) => goString(String(v))).join(', ')}}`;
}

/** `v1.LabelSelector{MatchLabels:map[string]string{…}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}` */
export function goLabelSelector(selector: unknown): string {
  const sel = asObj(selector);
  if (!sel) return 'null';
  const expressions = Array.isArray(sel.matchExpressions)
    ? `[]v1.LabelSelectorRequirement{${sel.matchExpressions
        .map((e) => {
          const expr = asObj(e) ?? {};
          return `v1.LabelSelectorRequirement{Key:${goString(asStr(expr.key))}, Operator:${goString(asStr(expr.operator))}, Values:${goStringSlice(expr.values)}}`;
        })
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${goStringMap(sel.matchLabels)}, MatchExpressions:${expressions}}`;
}

// ---------------------------------------------------------------------------------------------
// Label selectors (metav1.LabelSelectorAsSelector + Matches)

/**
 * Whether a metav1.LabelSelector selects the labels: a nil selector selects nothing, an empty one
 * everything. Undefined when the selector does not convert (kube skips the match check then,
 * leaving the error to selector validation).
 */
export function selectorMatches(selector: unknown, labels: unknown): boolean | undefined {
  let parsed: LabelSelector;
  try {
    parsed = labelSelectorFromObject(selector as LabelSelectorObject | null | undefined);
  } catch {
    return undefined;
  }
  const set: Record<string, string> = {};
  for (const [key, value] of Object.entries(asObj(labels) ?? {})) if (typeof value === 'string') set[key] = value;
  return matchesLabels(parsed, set);
}

export function selectorIsEmpty(selector: Obj): boolean {
  return Object.keys(asObj(selector.matchLabels) ?? {}).length + asArr(selector.matchExpressions).length === 0;
}

// ---------------------------------------------------------------------------------------------
// Quantities

export { QUANTITY_FORMAT_ERROR as QUANTITY_FORMAT_MESSAGE } from '@canopy/apimachinery';

/** The amount of a quantity (string or JSON number) in nano-units, or undefined when it does not parse. */
export function quantityNanos(value: unknown): bigint | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    return parseQuantity(value).nanos;
  } catch {
    return undefined;
  }
}

/** A quantity as kube prints it in messages (Quantity.String(), the canonical form); other values as given. */
export function quantityText(value: unknown): string {
  try {
    if (typeof value === 'string' || typeof value === 'number') return formatQuantity(value);
  } catch {
    // not a quantity: fall through to the raw text
  }
  return typeof value === 'number' ? String(value) : asStr(value);
}

// ---------------------------------------------------------------------------------------------
// Semantic equality (apiequality.Semantic.DeepEqual): nil and empty maps/slices are equal, and
// JSON null is the same as absent.

function isEmptyish(value: unknown): boolean {
  if (isUnset(value)) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isPlainObject(value)) return Object.values(value).every(isEmptyish);
  return false;
}

export function semanticEqual(a: unknown, b: unknown): boolean {
  if (isEmptyish(a) && isEmptyish(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => semanticEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) if (!semanticEqual(a[key], b[key])) return false;
    return true;
  }
  return a === b;
}

/** Paths where two values differ with both sides, for the explanation appended to "may not change" messages. */
export function describeDifferences(before: unknown, after: unknown, path: string, limit = 10): string[] {
  const lines: string[] = [];
  const render = (v: unknown) => {
    const text = v === undefined ? 'null' : JSON.stringify(v);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  };
  const walk = (a: unknown, b: unknown, at: string) => {
    if (lines.length >= limit || semanticEqual(a, b)) return;
    if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
      a.forEach((item, i) => walk(item, b[i], `${at}[${i}]`));
      return;
    }
    if (isPlainObject(a) && isPlainObject(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[key], b[key], `${at}.${key}`);
      return;
    }
    lines.push(`  ${at}: ${render(a)} -> ${render(b)}`);
  };
  walk(before, after, path);
  return lines;
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Integer-or-percent fields (`maxSurge`, `minAvailable`): the absolute value when an int, the percentage when a string. */
export function intOrPercentValue(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const n = Number.parseInt(value.replace(/%$/, ''), 10);
    return Number.isNaN(n) ? 0 : n;
  }
  return 0;
}
