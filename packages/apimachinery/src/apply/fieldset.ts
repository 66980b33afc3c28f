/**
 * Field paths, field sets and the schema-typed walks that server-side apply is built on, as
 * sigs.k8s.io/structured-merge-diff (fieldpath + typed) defines them.
 *
 * A field set is a trie of path elements. A path is a *member* when the field it names is in
 * the set; children are only structure (a child with members below it is not itself owned unless
 * it is also a member). Path elements are:
 *  - `f:<name>`  a field of a struct or a key of a map;
 *  - `k:{...}`   an item of an associative list (`x-kubernetes-list-type: map`), by the values
 *                of its `x-kubernetes-list-map-keys` (JSON, keys sorted);
 *  - `v:<json>`  an item of a set (`x-kubernetes-list-type: set`) by its value;
 *  - `i:<n>`     a list item by index (upstream never produces these for apply: atomic lists are
 *                owned whole, but they decode and round-trip).
 * FieldsV1 (the `managedFields[].fieldsV1` wire form) nests these as object keys, with `"."`
 * marking a node that is also a member, in the order upstream serializes (`f` < `k` < `v` < `i`,
 * then by value; `"."` last).
 *
 * The typed walks read list and map semantics from OpenAPI schema nodes the way kube-openapi's
 * schemaconv turns them into structured-merge-diff types:
 *  - arrays: `x-kubernetes-list-type` `atomic` | `set` | `map` (+ `x-kubernetes-list-map-keys`);
 *    without it, `x-kubernetes-patch-strategy: merge` makes the list associative (keyed by
 *    `x-kubernetes-patch-merge-key`, or a set without one); anything else is atomic;
 *  - objects: struct fields from `properties`, map values from `additionalProperties`,
 *    `x-kubernetes-map-type: atomic` makes the whole object one field;
 *    `x-kubernetes-preserve-unknown-fields` (or no schema at all) gives untyped ("deduced")
 *    content: maps granular, lists atomic, scalars leaves.
 * Associative list keys missing from an item fall back to the key field's schema `default`
 * (kube publishes `protocol: TCP` that way for container and service ports).
 *
 * The walks are lenient with live objects (a value of the wrong shape is treated as one atomic
 * field) and, when given an error collector, report what upstream refuses in an applied
 * configuration: fields the schema does not declare, list items without their keys, duplicated
 * keys.
 */
import { StatusError, errors } from '../errors.js';
import { isJsonObject, jsonDeepEqual, setJsonProperty, type JsonObject } from '../json.js';
import type { SchemaNode, SchemaResolver } from '../schema.js';

// ---------------------------------------------------------------------------------------------
// Path elements

export interface KeyField {
  readonly name: string;
  readonly value: unknown;
}

export type PathElement =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'key'; readonly fields: readonly KeyField[] }
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'index'; readonly index: number };

export type FieldPath = readonly PathElement[];

export function fieldElement(name: string): PathElement {
  return { kind: 'field', name };
}

/** An associative-list item element; the key fields are sorted by name as upstream keeps them. */
export function keyElement(fields: Record<string, unknown> | readonly KeyField[]): PathElement {
  const list: KeyField[] = Array.isArray(fields)
    ? [...(fields as readonly KeyField[])]
    : Object.keys(fields).map((name) => ({ name, value: (fields as Record<string, unknown>)[name] }));
  list.sort((a, b) => compareStrings(a.name, b.name));
  return { kind: 'key', fields: list };
}

export function valueElement(value: unknown): PathElement {
  return { kind: 'value', value };
}

export function indexElement(index: number): PathElement {
  return { kind: 'index', index };
}

/** A path of plain field names: `fieldPathOf('spec', 'replicas')`. */
export function fieldPathOf(...names: string[]): FieldPath {
  return names.map(fieldElement);
}

/** Raised for FieldsV1 content that is not a valid field set. */
export class FieldsV1Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldsV1Error';
  }
}

/** The FieldsV1 key of an element: `f:name`, `k:{"name":"x"}`, `v:"a"`, `i:0`. */
export function serializePathElement(pe: PathElement): string {
  switch (pe.kind) {
    case 'field':
      return 'f:' + pe.name;
    case 'key':
      return 'k:{' + pe.fields.map((f) => JSON.stringify(f.name) + ':' + canonicalJson(f.value)).join(',') + '}';
    case 'value':
      return 'v:' + canonicalJson(pe.value);
    case 'index':
      return 'i:' + String(pe.index);
  }
}

/**
 * Parses a FieldsV1 key. Returns undefined for element types this version does not know
 * (upstream drops those rather than fail); throws {@link FieldsV1Error} for malformed keys.
 */
export function parsePathElement(text: string): PathElement | undefined {
  if (text.length < 2) throw new FieldsV1Error(`key must be 2 characters long: ${JSON.stringify(text)}`);
  if (text[1] !== ':') throw new FieldsV1Error(`missing colon: ${text}`);
  const body = text.slice(2);
  switch (text[0]) {
    case 'f':
      return fieldElement(body);
    case 'v':
      return valueElement(parseJsonOrFail(body, text));
    case 'k': {
      const parsed = parseJsonOrFail(body, text);
      if (parsed === null) return keyElement([]);
      if (!isJsonObject(parsed)) throw new FieldsV1Error(`parsing key as path element: ${text}: expected an object`);
      return keyElement(parsed);
    }
    case 'i': {
      if (!/^[+-]?\d+$/.test(body)) throw new FieldsV1Error(`parsing key as path element: invalid index ${JSON.stringify(body)}`);
      const index = Number(body);
      if (!Number.isSafeInteger(index)) throw new FieldsV1Error(`parsing key as path element: index out of range ${body}`);
      return indexElement(index);
    }
    default:
      return undefined;
  }
}

function parseJsonOrFail(body: string, key: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new FieldsV1Error(`parsing key as path element: invalid JSON in ${key}`);
  }
}

/** JSON with object keys sorted at every level (how upstream writes values inside keys). */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
  if (isJsonObject(value)) {
    const keys = Object.keys(value).sort(compareStrings);
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(value[k])).join(',') + '}';
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Orders strings by code point, which is Go's byte-wise order of their UTF-8 encodings (plain
 * `<` compares UTF-16 code units and puts astral characters before U+E000..U+FFFF).
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codeUnitRank(x) < codeUnitRank(y) ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

function codeUnitRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000; // surrogates encode code points above U+FFFF
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

function valueRank(v: unknown): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (isJsonObject(v)) return 4;
  return 5; // null
}

/** structured-merge-diff's total order of values: numbers < strings < booleans < lists < maps < null. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = valueRank(a);
  const rb = valueRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 1:
      return compareStrings(a as string, b as string);
    case 2:
      return a === b ? 0 : a ? 1 : -1;
    case 3: {
      const la = a as unknown[];
      const lb = b as unknown[];
      for (let i = 0; i < Math.min(la.length, lb.length); i++) {
        const c = compareValues(la[i], lb[i]);
        if (c !== 0) return c;
      }
      return la.length === lb.length ? 0 : la.length < lb.length ? -1 : 1;
    }
    case 4: {
      const ma = a as JsonObject;
      const mb = b as JsonObject;
      const keys = [...new Set([...Object.keys(ma), ...Object.keys(mb)])].sort(compareStrings);
      const lengthA = Object.keys(ma).length;
      const lengthB = Object.keys(mb).length;
      let i = 0;
      for (const k of keys) {
        let c: number;
        if (i === lengthA) c = -1;
        else if (i === lengthB) c = 1;
        else if (!own(ma, k)) c = 1;
        else if (!own(mb, k)) c = -1;
        else c = compareValues(ma[k], mb[k]);
        if (c !== 0) return c;
        i++;
      }
      return 0;
    }
    default:
      return 0;
  }
}

function compareKeyFields(a: readonly KeyField[], b: readonly KeyField[]): number {
  for (let i = 0; ; i++) {
    if (i >= a.length && i >= b.length) return 0;
    if (i >= a.length) return -1;
    if (i >= b.length) return 1;
    const c = compareStrings(a[i].name, b[i].name) || compareValues(a[i].value, b[i].value);
    if (c !== 0) return c;
  }
}

const kindRank = { field: 0, key: 1, value: 2, index: 3 } as const;

/** Upstream's order of path elements: fields, then keys, then values, then indexes. */
export function comparePathElements(a: PathElement, b: PathElement): number {
  if (a.kind !== b.kind) return kindRank[a.kind] < kindRank[b.kind] ? -1 : 1;
  switch (a.kind) {
    case 'field':
      return compareStrings(a.name, (b as typeof a).name);
    case 'key':
      return compareKeyFields(a.fields, (b as typeof a).fields);
    case 'value':
      return compareValues(a.value, (b as typeof a).value);
    case 'index':
      return a.index === (b as typeof a).index ? 0 : a.index < (b as typeof a).index ? -1 : 1;
  }
}

/** Go's %v of a decoded value, as upstream prints key values in paths. */
function goValueString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(goValueString).join(',') + ']';
  if (isJsonObject(v))
    return Object.keys(v)
      .map((k) => `${k}=${goValueString(v[k])}`)
      .join('');
  return String(v);
}

/** Upstream's human form of a path element: `.name`, `[name="x"]`, `[="v"]`, `[0]`. */
export function formatPathElement(pe: PathElement): string {
  switch (pe.kind) {
    case 'field':
      return '.' + pe.name;
    case 'key':
      return '[' + pe.fields.map((f) => `${f.name}=${goValueString(f.value)}`).join(',') + ']';
    case 'value':
      return `[=${goValueString(pe.value)}]`;
    case 'index':
      return `[${pe.index}]`;
  }
}

/** Upstream's human form of a path, as used in conflicts: `.spec.template.spec.containers[name="app"].image`. */
export function formatFieldPath(path: FieldPath): string {
  return path.map(formatPathElement).join('');
}

// ---------------------------------------------------------------------------------------------
// Field sets

interface ChildNode {
  readonly element: PathElement;
  readonly set: FieldSet;
}

/** A set of field paths (structured-merge-diff's fieldpath.Set). Operations return new sets. */
export class FieldSet {
  readonly #members = new Map<string, PathElement>();
  readonly #children = new Map<string, ChildNode>();

  static of(...paths: FieldPath[]): FieldSet {
    const set = new FieldSet();
    for (const p of paths) set.insert(p);
    return set;
  }

  /** Adds a path (not its parents). The empty path is ignored: nobody owns the whole object. */
  insert(path: FieldPath): void {
    if (path.length === 0) return;
    const node = path.slice(0, -1).reduce<FieldSet>((set, pe) => set.descend(pe), this);
    node.addMember(path[path.length - 1]);
  }

  has(path: FieldPath): boolean {
    if (path.length === 0) return false;
    const node = path.slice(0, -1).reduce<FieldSet | undefined>((set, pe) => set?.child(pe), this);
    return node ? node.hasMember(path[path.length - 1]) : false;
  }

  hasMember(pe: PathElement): boolean {
    return this.#members.has(serializePathElement(pe));
  }

  /** The subset below `pe` (not including `pe` itself), if there is one. */
  child(pe: PathElement): FieldSet | undefined {
    return this.#children.get(serializePathElement(pe))?.set;
  }

  /** Members at this level, in upstream order. */
  memberElements(): PathElement[] {
    return sortElements([...this.#members.values()]);
  }

  /** Children at this level, in upstream order. */
  childEntries(): Array<{ element: PathElement; set: FieldSet }> {
    return [...this.#children.values()].sort((a, b) => comparePathElements(a.element, b.element));
  }

  isEmpty(): boolean {
    if (this.#members.size > 0) return false;
    for (const c of this.#children.values()) if (!c.set.isEmpty()) return false;
    return true;
  }

  /** Number of member paths. */
  get size(): number {
    let n = this.#members.size;
    for (const c of this.#children.values()) n += c.set.size;
    return n;
  }

  union(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.#members) out.#members.set(k, pe);
    for (const [k, pe] of other.#members) out.#members.set(k, pe);
    for (const [k, c] of this.#children) {
      const o = other.#children.get(k);
      out.#children.set(k, { element: c.element, set: o ? c.set.union(o.set) : c.set.clone() });
    }
    for (const [k, c] of other.#children)
      if (!this.#children.has(k)) out.#children.set(k, { element: c.element, set: c.set.clone() });
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.#members) if (other.#members.has(k)) out.#members.set(k, pe);
    for (const [k, c] of this.#children) {
      const o = other.#children.get(k);
      if (!o) continue;
      const i = c.set.intersection(o.set);
      if (!i.isEmpty()) out.#children.set(k, { element: c.element, set: i });
    }
    return out;
  }

  /** Members of this set that are not members of `other` (children of removed members stay). */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.#members) if (!other.#members.has(k)) out.#members.set(k, pe);
    for (const [k, c] of this.#children) {
      const o = other.#children.get(k);
      const d = o ? c.set.difference(o.set) : c.set.clone();
      if (!d.isEmpty()) out.#children.set(k, { element: c.element, set: d });
    }
    return out;
  }

  /** Like {@link difference}, but a member of `other` also removes everything below it. */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.#members) if (!other.#members.has(k)) out.#members.set(k, pe);
    for (const [k, c] of this.#children) {
      if (other.#members.has(k)) continue;
      const o = other.#children.get(k);
      const d = o ? c.set.recursiveDifference(o.set) : c.set.clone();
      if (!d.isEmpty()) out.#children.set(k, { element: c.element, set: d });
    }
    return out;
  }

  equals(other: FieldSet): boolean {
    if (this.#members.size !== other.#members.size) return false;
    for (const k of this.#members.keys()) if (!other.#members.has(k)) return false;
    const mine = [...this.#children].filter(([, c]) => !c.set.isEmpty());
    const theirs = [...other.#children].filter(([, c]) => !c.set.isEmpty());
    if (mine.length !== theirs.length) return false;
    for (const [k, c] of mine) {
      const o = other.#children.get(k);
      if (!o || !c.set.equals(o.set)) return false;
    }
    return true;
  }

  clone(): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.#members) out.#members.set(k, pe);
    for (const [k, c] of this.#children) out.#children.set(k, { element: c.element, set: c.set.clone() });
    return out;
  }

  /** Member paths in upstream's iteration order: this level's members, then each child subtree. */
  paths(): FieldPath[] {
    const out: FieldPath[] = [];
    const walk = (set: FieldSet, prefix: PathElement[]) => {
      for (const pe of set.memberElements()) out.push([...prefix, pe]);
      for (const c of set.childEntries()) walk(c.set, [...prefix, c.element]);
    };
    walk(this, []);
    return out;
  }

  toString(): string {
    return this.paths().map(formatFieldPath).join('\n');
  }

  /** The FieldsV1 JSON object (key order as upstream writes it). */
  toFieldsV1(): JsonObject {
    return encodeLevel(this, false);
  }

  /**
   * Decodes FieldsV1. Unknown element types are dropped, as upstream does; malformed keys and
   * non-object values throw {@link FieldsV1Error}. `null` is the empty set.
   */
  static fromFieldsV1(fields: unknown): FieldSet {
    if (fields === null || fields === undefined) return new FieldSet();
    if (!isJsonObject(fields)) throw new FieldsV1Error('FieldsV1 must be a JSON object');
    return decodeLevel(fields, 0).set ?? new FieldSet();
  }

  // Builders used while walking; they keep the "no empty child" invariant only if callers add members.
  private descend(pe: PathElement): FieldSet {
    const k = serializePathElement(pe);
    let c = this.#children.get(k);
    if (!c) {
      c = { element: pe, set: new FieldSet() };
      this.#children.set(k, c);
    }
    return c.set;
  }

  private addMember(pe: PathElement): void {
    this.#members.set(serializePathElement(pe), pe);
  }

  /** @internal Adds `pe` as a member of this level. */
  static addMemberTo(set: FieldSet, pe: PathElement): void {
    set.addMember(pe);
  }

  /** @internal Sets (or merges) the subset below `pe`. */
  static addChildTo(set: FieldSet, pe: PathElement, child: FieldSet): void {
    if (child.isEmpty()) return;
    const k = serializePathElement(pe);
    const existing = set.#children.get(k);
    set.#children.set(k, { element: pe, set: existing ? existing.set.union(child) : child });
  }
}

function sortElements(list: PathElement[]): PathElement[] {
  return list.sort(comparePathElements);
}

function encodeLevel(set: FieldSet, includeSelf: boolean): JsonObject {
  const out: JsonObject = {};
  const members = set.memberElements();
  const children = set.childEntries().filter((c) => !c.set.isEmpty());
  let mi = 0;
  let ci = 0;
  while (mi < members.length || ci < children.length) {
    const m = mi < members.length ? members[mi] : undefined;
    const c = ci < children.length ? children[ci] : undefined;
    const order = m && c ? comparePathElements(m, c.element) : m ? -1 : 1;
    if (order < 0) {
      setJsonProperty(out, serializePathElement(m!), {});
      mi++;
    } else if (order > 0) {
      setJsonProperty(out, serializePathElement(c!.element), encodeLevel(c!.set, false));
      ci++;
    } else {
      setJsonProperty(out, serializePathElement(c!.element), encodeLevel(c!.set, true));
      mi++;
      ci++;
    }
  }
  if (includeSelf && Object.keys(out).length > 0) out['.'] = {};
  return out;
}

const MAX_FIELDS_DEPTH = 1000;

function decodeLevel(obj: JsonObject, depth: number): { set: FieldSet | undefined; isMember: boolean } {
  if (depth > MAX_FIELDS_DEPTH) throw new FieldsV1Error('FieldsV1 nesting is too deep');
  let set: FieldSet | undefined;
  let isMember = false;
  for (const key of Object.keys(obj)) {
    if (key === '.') {
      isMember = true;
      continue;
    }
    const pe = parsePathElement(key);
    if (!pe) continue;
    const value = obj[key];
    let child: { set: FieldSet | undefined; isMember: boolean };
    if (value === null) child = { set: undefined, isMember: true };
    else if (isJsonObject(value)) child = decodeLevel(value, depth + 1);
    else throw new FieldsV1Error(`parsing key as path element: ${key}: expected an object`);
    if (child.isMember) FieldSet.addMemberTo((set ??= new FieldSet()), pe);
    if (child.set) FieldSet.addChildTo((set ??= new FieldSet()), pe, child.set);
  }
  if (!set) isMember = true;
  return { set, isMember };
}

// ---------------------------------------------------------------------------------------------
// Schema-typed walks

/** A schema node for a position in an object; undefined means untyped ("deduced"). */
export type TypeRef = SchemaNode | undefined;

interface MapAtom {
  readonly kind: 'map';
  readonly fields: Record<string, SchemaNode> | undefined;
  /** Type of keys that are not declared fields; null when the schema refuses them. */
  readonly elements: { ref: TypeRef } | null;
  readonly atomic: boolean;
  readonly embeddedResource: boolean;
}

interface ListAtom {
  readonly kind: 'list';
  readonly items: TypeRef;
  readonly relationship: 'atomic' | 'set' | 'map';
  readonly keys: readonly string[];
}

type Atom = { readonly kind: 'scalar' } | { readonly kind: 'deduced' } | MapAtom | ListAtom;

const SCALAR: Atom = { kind: 'scalar' };
const DEDUCED: Atom = { kind: 'deduced' };
const DEDUCED_MAP: MapAtom = {
  kind: 'map',
  fields: undefined,
  elements: { ref: undefined },
  atomic: false,
  embeddedResource: false,
};
const EMBEDDED_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);

/** A problem upstream reports while typing an applied configuration. */
export interface TypingError {
  path: FieldPath;
  message: string;
}

/** upstream's ValidationErrors text: one error inline, several as an indented list. */
export function formatTypingErrors(errs: readonly TypingError[]): string {
  const one = (e: TypingError) => (e.path.length ? `${formatFieldPath(e.path)}: ${e.message}` : e.message);
  if (errs.length === 1) return one(errs[0]);
  return ['errors:', ...errs.map((e) => '  ' + one(e))].join('\n');
}

/** Added, modified and removed fields between two values of one type. */
export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** Drops `fields` (and everything below them) from a comparison, as upstream's ExcludeFields. */
export function excludeFields(c: Comparison, fields: FieldSet | undefined): Comparison {
  if (!fields || fields.isEmpty()) return c;
  return {
    added: c.added.recursiveDifference(fields),
    modified: c.modified.recursiveDifference(fields),
    removed: c.removed.recursiveDifference(fields),
  };
}

const own = (obj: object, key: string) => Object.prototype.hasOwnProperty.call(obj, key);
const fieldOf = (obj: unknown, key: string): unknown => (isJsonObject(obj) && own(obj, key) ? obj[key] : undefined);

type Shape = 'leaf' | 'map' | 'list';

/**
 * The typed operations over values of one schema: field sets, merge, comparison, removal.
 * Create one per resolver (it caches the interpretation of schema nodes).
 */
export class TypedFields {
  private readonly atoms = new WeakMap<SchemaNode, Atom>();

  constructor(private readonly resolver: SchemaResolver) {}

  // ---- schema interpretation ----

  private resolve(ref: SchemaNode): SchemaNode | undefined {
    try {
      return this.resolver.resolve(ref);
    } catch {
      return undefined;
    }
  }

  private atom(ref: TypeRef): Atom {
    if (!ref) return DEDUCED;
    const cached = this.atoms.get(ref);
    if (cached) return cached;
    const atom = this.interpret(ref);
    this.atoms.set(ref, atom);
    return atom;
  }

  private interpret(raw: SchemaNode): Atom {
    const node = this.resolve(raw);
    if (!node || typeof node !== 'object') return DEDUCED;
    // Extensions describe the field, so they may sit on the property node next to a $ref.
    const ext = <K extends keyof SchemaNode>(k: K): SchemaNode[K] => (raw[k] !== undefined ? raw[k] : node[k]);
    if (ext('x-kubernetes-int-or-string') || node.format === 'int-or-string') return SCALAR;
    const type = node.type;
    if (type === 'array' || (type === undefined && node.items && typeof node.items === 'object')) {
      return this.listAtom(node, ext);
    }
    const properties = isJsonObject(node.properties) ? (node.properties as Record<string, SchemaNode>) : undefined;
    if (type === 'object' || properties || node.additionalProperties !== undefined) {
      const preserve = ext('x-kubernetes-preserve-unknown-fields') === true;
      const additional = node.additionalProperties;
      let elements: { ref: TypeRef } | null;
      if (isJsonObject(additional)) elements = { ref: additional as SchemaNode };
      else if (additional === true || preserve) elements = { ref: undefined };
      else if (!properties || Object.keys(properties).length === 0) elements = { ref: undefined };
      else elements = null;
      return {
        kind: 'map',
        fields: properties,
        elements,
        atomic: ext('x-kubernetes-map-type') === 'atomic',
        embeddedResource: ext('x-kubernetes-embedded-resource') === true,
      };
    }
    if (type === 'string' || type === 'integer' || type === 'number' || type === 'boolean') return SCALAR;
    return DEDUCED;
  }

  private listAtom(node: SchemaNode, ext: <K extends keyof SchemaNode>(k: K) => SchemaNode[K]): ListAtom {
    const items = isJsonObject(node.items) ? (node.items as SchemaNode) : undefined;
    const listType = ext('x-kubernetes-list-type');
    const mapKeys = ext('x-kubernetes-list-map-keys');
    if (listType === 'map') {
      const keys = Array.isArray(mapKeys) ? mapKeys.filter((k): k is string => typeof k === 'string') : [];
      if (keys.length === 0) return { kind: 'list', items, relationship: 'atomic', keys: [] };
      return { kind: 'list', items, relationship: 'map', keys };
    }
    if (listType === 'set') return { kind: 'list', items, relationship: 'set', keys: [] };
    if (listType === 'atomic') return { kind: 'list', items, relationship: 'atomic', keys: [] };
    const strategy = String(ext('x-kubernetes-patch-strategy') ?? '')
      .split(',')
      .map((s) => s.trim());
    if (strategy.includes('merge')) {
      const mergeKey = ext('x-kubernetes-patch-merge-key');
      if (typeof mergeKey === 'string' && mergeKey) return { kind: 'list', items, relationship: 'map', keys: [mergeKey] };
      return { kind: 'list', items, relationship: 'set', keys: [] };
    }
    return { kind: 'list', items, relationship: 'atomic', keys: [] };
  }

  /** The type of `key` inside a map atom; undefined when the schema does not declare it. */
  private mapChild(atom: MapAtom, key: string): { ref: TypeRef; declared: boolean } | undefined {
    if (atom.fields && own(atom.fields, key)) return { ref: atom.fields[key], declared: true };
    if (atom.embeddedResource && EMBEDDED_FIELDS.has(key)) return { ref: undefined, declared: true };
    if (atom.elements) return { ref: atom.elements.ref, declared: false };
    return undefined;
  }

  private keyDefault(items: TypeRef, key: string): unknown {
    if (!items) return undefined;
    const node = this.resolve(items);
    const prop = node && isJsonObject(node.properties) ? (node.properties as Record<string, SchemaNode>)[key] : undefined;
    if (!prop || !own(node!.properties!, key)) return undefined;
    if (prop.default !== undefined) return prop.default;
    return this.resolve(prop)?.default;
  }

  /**
   * How a pair of values (either may be absent) is walked at `ref`: as a leaf (scalars, atomic
   * containers, values whose shape disagrees with the schema), a granular map, or an
   * associative list. Null stands for an empty container of the schema's shape.
   */
  private shapeOf(atom: Atom, values: readonly unknown[]): { shape: Shape; atom: Atom } {
    const present = values.filter((v) => v !== undefined);
    switch (atom.kind) {
      case 'scalar':
        return { shape: 'leaf', atom };
      case 'deduced':
        if (present.length > 0 && present.every(isJsonObject)) return { shape: 'map', atom: DEDUCED_MAP };
        return { shape: 'leaf', atom };
      case 'map':
        if (atom.atomic) return { shape: 'leaf', atom };
        return { shape: present.every((v) => v === null || isJsonObject(v)) ? 'map' : 'leaf', atom };
      case 'list':
        if (atom.relationship === 'atomic') return { shape: 'leaf', atom };
        return { shape: present.every((v) => v === null || Array.isArray(v)) ? 'list' : 'leaf', atom };
    }
  }

  /** The path element of one list item, or why it has none. */
  private itemElement(atom: ListAtom, item: unknown): PathElement | { problem: string } {
    if (atom.relationship === 'map') {
      if (item === null) return { problem: 'associative list with keys may not have a null element' };
      if (!isJsonObject(item)) return { problem: 'associative list with keys may not have non-map elements' };
      const fields: KeyField[] = [];
      for (const name of atom.keys) {
        if (own(item, name)) {
          fields.push({ name, value: item[name] });
          continue;
        }
        const def = this.keyDefault(atom.items, name);
        if (def === undefined) {
          return {
            problem: `associative list with keys has an element that omits key field ${JSON.stringify(name)} (and doesn't have default value)`,
          };
        }
        fields.push({ name, value: def });
      }
      return keyElement(fields);
    }
    if (isJsonObject(item)) return { problem: "associative list without keys has an element that's a map type" };
    if (Array.isArray(item)) return { problem: 'not supported: associative list with lists as elements' };
    if (item === null) return { problem: "associative list without keys has an element that's an explicit null" };
    return valueElement(item);
  }

  /** The path elements of a list's items; undefined when one cannot be keyed (the list is then treated as atomic). */
  private listElements(atom: ListAtom, list: readonly unknown[]): PathElement[] | undefined {
    const out: PathElement[] = [];
    for (const item of list) {
      const pe = this.itemElement(atom, item);
      if ('problem' in pe) return undefined;
      out.push(pe);
    }
    return out;
  }

  // ---- field sets ----

  /**
   * The fields a value sets (upstream's ToFieldSet): scalars and atomic containers as leaves,
   * every associative-list item and every map key (but not struct fields) as members too.
   * With `errors`, records what upstream refuses in an applied configuration.
   */
  fieldSet(value: unknown, ref: TypeRef, errors?: TypingError[]): FieldSet {
    const set = new FieldSet();
    this.collect(value, ref, [], set, errors);
    return set;
  }

  private collect(value: unknown, ref: TypeRef, path: PathElement[], set: FieldSet, errors?: TypingError[]): void {
    const { shape, atom } = this.shapeOf(this.atom(ref), [value]);
    if (shape === 'leaf') {
      set.insert(path);
      return;
    }
    if (shape === 'map') {
      if (!isJsonObject(value)) return; // null: an empty container sets nothing
      const mapAtom = atom as MapAtom;
      for (const key of Object.keys(value)) {
        const child = this.mapChild(mapAtom, key);
        path.push(fieldElement(key));
        if (!child) {
          if (errors) errors.push({ path: [...path], message: 'field not declared in schema' });
          else {
            this.collect(value[key], undefined, path, set);
            set.insert(path);
          }
        } else {
          this.collect(value[key], child.ref, path, set, errors);
          if (!child.declared) set.insert(path);
        }
        path.pop();
      }
      return;
    }
    if (!Array.isArray(value)) return;
    const listAtom = atom as ListAtom;
    if (!errors) {
      const elements = this.listElements(listAtom, value);
      if (!elements) {
        set.insert(path);
        return;
      }
      for (let i = 0; i < value.length; i++) {
        path.push(elements[i]);
        this.collect(value[i], listAtom.items, path, set);
        set.insert(path);
        path.pop();
      }
      return;
    }
    // Upstream's validation order: an item's own problems, then a repeated key, then its content.
    const seen = new Set<string>();
    for (let i = 0; i < value.length; i++) {
      const pe = this.itemElement(listAtom, value[i]);
      if ('problem' in pe) {
        errors.push({ path: [...path], message: `element ${i}: ${pe.problem}` });
        continue;
      }
      const k = serializePathElement(pe);
      if (seen.has(k)) errors.push({ path: [...path], message: `duplicate entries for key ${formatPathElement(pe)}` });
      seen.add(k);
      path.push(pe);
      this.collect(value[i], listAtom.items, path, set, errors);
      set.insert(path);
      path.pop();
    }
  }

  /**
   * Adds every struct field that has owned fields below it as a member (upstream's
   * EnsureNamedFieldsAreMembers), so removing a set's members also removes emptied structs.
   */
  ensureNamedFieldsAreMembers(set: FieldSet, ref: TypeRef): FieldSet {
    const out = new FieldSet();
    const atom = this.atom(ref);
    for (const pe of set.memberElements()) FieldSet.addMemberTo(out, pe);
    for (const { element, set: sub } of set.childEntries()) {
      let childRef: TypeRef;
      if (atom.kind === 'map' && element.kind === 'field') {
        const child = this.mapChild(atom, element.name);
        childRef = child?.ref;
        if (child?.declared) FieldSet.addMemberTo(out, element);
      } else if (atom.kind === 'list') childRef = atom.items;
      FieldSet.addChildTo(out, element, this.ensureNamedFieldsAreMembers(sub, childRef));
    }
    return out;
  }

  // ---- merge ----

  /**
   * Merges a partial object into a full one (upstream's TypedValue.Merge): leaves and atomic
   * values come from `rhs`, maps merge by key, associative lists by item key; nothing is ever
   * removed. Items keep `lhs` order unless `rhs` reorders the items it names. Returns new
   * containers but may share unchanged subtrees with its inputs.
   */
  merge(lhs: unknown, rhs: unknown, ref: TypeRef): unknown {
    if (rhs === undefined) return lhs;
    if (lhs === undefined) return rhs;
    const { shape, atom } = this.shapeOf(this.atom(ref), [lhs, rhs]);
    if (shape === 'leaf') return rhs;
    if (shape === 'map') {
      const l = isJsonObject(lhs) ? lhs : undefined;
      const r = isJsonObject(rhs) ? rhs : undefined;
      if (isEmptyContainer(l) && isEmptyContainer(r)) return rhs;
      if (!r) return lhs;
      if (!l) return rhs;
      const mapAtom = atom as MapAtom;
      const out: JsonObject = {};
      for (const k of Object.keys(l)) {
        setJsonProperty(out, k, own(r, k) ? this.merge(l[k], r[k], this.mapChild(mapAtom, k)?.ref) : l[k]);
      }
      for (const k of Object.keys(r)) if (!own(l, k)) setJsonProperty(out, k, r[k]);
      return out;
    }
    const l = Array.isArray(lhs) ? lhs : [];
    const r = Array.isArray(rhs) ? rhs : [];
    if (l.length === 0 && r.length === 0) return rhs;
    if (r.length === 0) return lhs;
    if (l.length === 0) return rhs;
    const listAtom = atom as ListAtom;
    const lpes = this.listElements(listAtom, l);
    const rpes = this.listElements(listAtom, r);
    if (!lpes || !rpes) return rhs;
    return this.mergeListItems(listAtom, l, lpes, r, rpes);
  }

  /**
   * Upstream's item order: items of `rhs` in `rhs` order; items only in `lhs` keep their
   * position relative to the items around them.
   */
  private mergeListItems(
    atom: ListAtom,
    l: readonly unknown[],
    lpes: PathElement[],
    r: readonly unknown[],
    rpes: PathElement[],
  ): unknown[] {
    const rhsItems = new Map<string, unknown>();
    const rhsOrder: string[] = [];
    for (let i = 0; i < r.length; i++) {
      const k = serializePathElement(rpes[i]);
      if (!rhsItems.has(k)) rhsOrder.push(k);
      rhsItems.set(k, r[i]);
    }
    const lhsItems = new Map<string, unknown>();
    const lhsOrder: string[] = [];
    const lhsDuplicates = new Map<string, unknown[]>();
    for (let i = 0; i < l.length; i++) {
      const k = serializePathElement(lpes[i]);
      if (lhsItems.has(k)) {
        // Repeated keys in a live list (possible after non-apply writes) are kept while the
        // configuration does not name that key.
        if (!lhsDuplicates.has(k)) lhsDuplicates.set(k, []);
        lhsDuplicates.get(k)!.push(l[i]);
        continue;
      }
      lhsItems.set(k, l[i]);
      lhsOrder.push(k);
    }
    const shared = rhsOrder.filter((k) => lhsItems.has(k));
    let sharedIndex = 0;
    const out: unknown[] = [];
    const emitMerged = (k: string) => out.push(this.merge(lhsItems.get(k), rhsItems.get(k), atom.items));
    const emitLhsOnly = (k: string) => {
      out.push(lhsItems.get(k));
      for (const dup of lhsDuplicates.get(k) ?? []) out.push(dup);
    };
    let li = 0;
    let ri = 0;
    // Each round advances li or ri, so this terminates; the guard only protects against bugs.
    for (let guard = 0; (li < lhsOrder.length || ri < rhsOrder.length) && guard <= l.length + r.length + 2; guard++) {
      const nextShared = sharedIndex < shared.length ? shared[sharedIndex] : undefined;
      if (li < lhsOrder.length && ri < rhsOrder.length) {
        const lk = lhsOrder[li];
        if (lk === rhsOrder[ri]) {
          emitMerged(lk);
          li++;
          ri++;
          sharedIndex++;
          continue;
        }
        if (rhsItems.has(lk) && nextShared !== undefined && nextShared !== lk) {
          li++; // a shared item whose turn has not come yet: it is emitted in rhs order
          continue;
        }
      }
      if (li < lhsOrder.length && !rhsItems.has(lhsOrder[li])) {
        emitLhsOnly(lhsOrder[li]);
        li++;
        continue;
      }
      if (ri < rhsOrder.length) {
        const rk = rhsOrder[ri];
        if (lhsItems.has(rk)) emitMerged(rk);
        else out.push(rhsItems.get(rk));
        ri++;
        if (nextShared === rk) sharedIndex++;
        continue;
      }
      li++; // only already-emitted shared lhs items remain
    }
    return out;
  }

  // ---- comparison ----

  /** Upstream's TypedValue.Compare: leaves added/modified/removed, plus containers added or removed. */
  compare(lhs: unknown, rhs: unknown, ref: TypeRef): Comparison {
    const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
    this.compareAt(lhs, rhs, ref, [], c);
    return c;
  }

  private compareAt(lhs: unknown, rhs: unknown, ref: TypeRef, path: PathElement[], c: Comparison): void {
    if (lhs === undefined && rhs === undefined) return;
    const { shape, atom } = this.shapeOf(this.atom(ref), [lhs, rhs]);
    const leaf = () => {
      if (lhs === undefined) c.added.insert(path);
      else if (rhs === undefined) c.removed.insert(path);
      else if (!jsonDeepEqual(lhs, rhs)) c.modified.insert(path);
    };
    if (shape === 'leaf') return leaf();
    if (shape === 'map') {
      const l = isJsonObject(lhs) ? lhs : undefined;
      const r = isJsonObject(rhs) ? rhs : undefined;
      if (isEmptyContainer(l) && isEmptyContainer(r)) return leaf();
      const mapAtom = atom as MapAtom;
      const keys = l ? Object.keys(l) : [];
      if (r) for (const k of Object.keys(r)) if (!l || !own(l, k)) keys.push(k);
      for (const k of keys) {
        path.push(fieldElement(k));
        this.compareAt(fieldOf(l, k), fieldOf(r, k), this.mapChild(mapAtom, k)?.ref, path, c);
        path.pop();
      }
    } else {
      const l = Array.isArray(lhs) ? lhs : [];
      const r = Array.isArray(rhs) ? rhs : [];
      if (l.length === 0 && r.length === 0) return leaf();
      const listAtom = atom as ListAtom;
      const lpes = this.listElements(listAtom, l);
      const rpes = this.listElements(listAtom, r);
      if (!lpes || !rpes) return leaf();
      const lItems = indexItems(l, lpes);
      const rItems = indexItems(r, rpes);
      for (const [k, { element, value }] of lItems) {
        path.push(element);
        this.compareAt(value, rItems.get(k)?.value, listAtom.items, path, c);
        path.pop();
      }
      for (const [k, { element, value }] of rItems) {
        if (lItems.has(k)) continue;
        path.push(element);
        this.compareAt(undefined, value, listAtom.items, path, c);
        path.pop();
      }
    }
    if (lhs === undefined) c.added.insert(path);
    else if (rhs === undefined) c.removed.insert(path);
  }

  // ---- removal ----

  /**
   * Removes every member of `set` (with everything below it) from a value (upstream's
   * RemoveItems). Containers emptied by the removal disappear; returns undefined when nothing
   * is left of `value` itself.
   */
  removeItems(value: unknown, set: FieldSet, ref: TypeRef): unknown {
    const { shape, atom } = this.shapeOf(this.atom(ref), [value]);
    if (shape === 'map' && isJsonObject(value) && Object.keys(value).length > 0) {
      const mapAtom = atom as MapAtom;
      const out: JsonObject = {};
      for (const k of Object.keys(value)) {
        const pe = fieldElement(k);
        if (set.hasMember(pe)) continue;
        const sub = set.child(pe);
        if (!sub) {
          setJsonProperty(out, k, value[k]);
          continue;
        }
        const kept = this.removeItems(value[k], sub, this.mapChild(mapAtom, k)?.ref);
        if (kept !== undefined) setJsonProperty(out, k, kept);
      }
      return Object.keys(out).length > 0 ? out : undefined;
    }
    if (shape === 'list' && Array.isArray(value) && value.length > 0) {
      const listAtom = atom as ListAtom;
      const elements = this.listElements(listAtom, value);
      if (!elements) return value;
      const out: unknown[] = [];
      for (let i = 0; i < value.length; i++) {
        if (set.hasMember(elements[i])) continue;
        const sub = set.child(elements[i]);
        if (!sub) {
          out.push(value[i]);
          continue;
        }
        const kept = this.removeItems(value[i], sub, listAtom.items);
        if (kept !== undefined) out.push(kept);
      }
      return out.length > 0 ? out : undefined;
    }
    return value;
  }
}

function isEmptyContainer(v: JsonObject | undefined): boolean {
  return v === undefined || Object.keys(v).length === 0;
}

function indexItems(list: readonly unknown[], elements: PathElement[]): Map<string, { element: PathElement; value: unknown }> {
  const out = new Map<string, { element: PathElement; value: unknown }>();
  for (let i = 0; i < list.length; i++) {
    const k = serializePathElement(elements[i]);
    if (!out.has(k)) out.set(k, { element: elements[i], value: list[i] });
  }
  return out;
}

/**
 * The set of fields a (partial) object sets, per the schema's list and map semantics. Lenient:
 * values that do not fit the schema count as one field each.
 */
export function fieldSetOf(value: unknown, schema: SchemaNode | undefined, resolver: SchemaResolver): FieldSet {
  try {
    return new TypedFields(resolver).fieldSet(value, schema);
  } catch (err) {
    if (err instanceof StatusError) throw err;
    // The walks recurse; only absurd nesting can get here.
    throw errors.internal(err instanceof RangeError ? 'field set: object nesting is too deep' : String(err));
  }
}
