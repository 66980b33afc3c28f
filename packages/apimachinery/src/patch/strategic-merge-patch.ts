/**
 * Strategic merge patch, applied server side as k8s.io/apimachinery/pkg/util/strategicpatch
 * StrategicMergeMapPatch applies it (MergeParallelList and IgnoreUnmatchedNulls on).
 *
 * The schema says how each field merges: `x-kubernetes-patch-strategy` (`merge`, `replace`,
 * `retainKeys`, `merge,retainKeys`) and `x-kubernetes-patch-merge-key`. Fields without a schema
 * (CRDs, unknown fields) merge like JSON merge patch: maps merge, lists are replaced.
 *
 * Maps merge recursively and `null` deletes. Lists with the merge strategy merge elements by the
 * merge key (lists of scalars: union); other lists are replaced. Directives:
 *  - `$patch: replace | delete` in a map; in a merged list element, `$patch: delete` removes the
 *    elements with that key and `$patch: replace` replaces the whole list;
 *  - `$retainKeys: [...]` clears the fields not listed;
 *  - `$deleteFromPrimitiveList/<field>: [...]` removes values from a scalar list;
 *  - `$setElementOrder/<field>: [...]` fixes the order of the merged list.
 * Ordering follows upstream: patch items keep their relative patch order, items only on the
 * server keep theirs, and items new to the list come before server items they cannot be placed
 * relative to (so a new container added without `$setElementOrder` goes first, as in kube).
 *
 * Status codes: upstream's interpretStrategicMergePatchError answers 400 for the malformed
 * directive formats and 422 (generic message) for lists of lists and patches that contradict
 * `$retainKeys`. Every other upstream failure is a plain Go error that kube-apiserver turns into
 * a 500; those are all caused by the request, so they are 400 BadRequest here, with upstream's text.
 *
 * Values inserted where the original had nothing (or a value of another type), and values of
 * `replace`-strategy fields, are processed as a merge into nothing: nulls are dropped, `$patch:
 * delete` maps vanish (as upstream's removeDirectives does), and other directives are applied
 * rather than stored, since unstructured storage has no typed decoding to drop them later.
 * The inputs are never mutated.
 */
import { StatusError, errors } from '../errors.js';
import type { SchemaNode, SchemaResolver } from '../schema.js';
import {
  JsonNestingError,
  MAX_JSON_NESTING_DEPTH,
  cloneJson,
  cloneJsonWithoutNulls,
  isJsonObject,
  jsonDeepEqual,
  setJsonProperty,
  type JsonObject,
} from '../json.js';
import { goJsonTypeName, patchApplyError } from './json-patch.js';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

const ERR_PRIMITIVE_LIST = 'invalid patch format of primitive list';
const ERR_RETAIN_KEYS = 'invalid patch format of retainKeys';
const ERR_SET_ELEMENT_ORDER = 'invalid patch format of setElementOrder list';
const ERR_NOT_MATCH_RETAIN_KEYS = "patch content doesn't match retainKeys list";
const ERR_LIST_OF_LISTS = 'lists of lists are not supported';

const own = (obj: object, key: string) => Object.prototype.hasOwnProperty.call(obj, key);

class PatchFailure extends Error {
  constructor(
    message: string,
    readonly code: 400 | 422,
  ) {
    super(message);
  }
}

const badPatch = (message: string): never => {
  throw new PatchFailure(message, 400);
};
const unprocessable = (message: string): never => {
  throw new PatchFailure(message, 422);
};

/** Patch metadata of one field. */
interface FieldMeta {
  schema: SchemaNode | undefined;
  strategy: '' | 'merge' | 'replace';
  mergeKey: string;
}

type ElementKind = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';

function kindOf(v: unknown): ElementKind {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as ElementKind;
}

/** Go's %v rendering of decoded JSON, for error messages that quote patch content. */
function goFormat(v: unknown, depth = 0): string {
  if (depth > 32) return '...';
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map((x) => goFormat(x, depth + 1)).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goFormat((v as JsonObject)[k], depth + 1)}`).join(' ')}]`;
  }
  return String(v);
}

/** mergepatch.ErrBadArgType wording for the Go types decoded JSON has. */
function goTypeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'object':
      return 'map[string]interface {}';
    case 'array':
      return '[]interface {}';
    case 'string':
      return 'string';
    case 'number':
      return Number.isInteger(v) ? 'int64' : 'float64';
    case 'boolean':
      return 'bool';
    default:
      return '<nil>';
  }
}

const errBadArgType = (expected: string, actual: unknown) =>
  badPatch(`expected a ${expected}, but received a ${goTypeName(actual)}`);
const errNoMergeKey = (m: unknown, key: string) => badPatch(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);

class StrategicMerger {
  constructor(private readonly resolver: SchemaResolver) {}

  private resolve(node: SchemaNode | undefined): SchemaNode | undefined {
    return node ? this.resolver.resolve(node) : undefined;
  }

  /** LookupPatchMetadata for `key` of an object whose (resolved) schema is `parent`. */
  fieldMeta(parent: SchemaNode | undefined, key: string): FieldMeta {
    if (!parent) return { schema: undefined, strategy: '', mergeKey: '' };
    let raw: SchemaNode | undefined;
    if (parent.properties && own(parent.properties, key)) raw = parent.properties[key];
    else if (parent.additionalProperties && typeof parent.additionalProperties === 'object') raw = parent.additionalProperties;
    if (!raw) return { schema: undefined, strategy: '', mergeKey: '' };
    const schema = this.resolve(raw);
    // The extensions describe the field, so they sit on the property node (next to a $ref).
    const strategies = (raw['x-kubernetes-patch-strategy'] ?? schema?.['x-kubernetes-patch-strategy'] ?? '')
      .split(',')
      .filter((s) => s !== '');
    const mergeKey = raw['x-kubernetes-patch-merge-key'] ?? schema?.['x-kubernetes-patch-merge-key'] ?? '';
    const other = strategies.filter((s) => s !== 'retainKeys');
    const strategy = other[0] === 'merge' || other[0] === 'replace' ? other[0] : '';
    return { schema, strategy, mergeKey };
  }

  itemsSchema(meta: FieldMeta): SchemaNode | undefined {
    return this.resolve(meta.schema?.items);
  }

  /** mergeMap: merges `patch` into `original` (a private copy, mutated in place). */
  mergeMap(original: JsonObject, patch: JsonObject, schema: SchemaNode | undefined, depth: number): JsonObject {
    if (depth > MAX_JSON_NESTING_DEPTH) throw new JsonNestingError();
    if (own(patch, DIRECTIVE)) {
      const directive = patch[DIRECTIVE];
      if (directive === 'replace') {
        const rest: JsonObject = {};
        for (const k of Object.keys(patch)) if (k !== DIRECTIVE) setJsonProperty(rest, k, patch[k]);
        return this.mergeMap({}, rest, schema, depth + 1);
      }
      if (directive === 'delete') return {};
      return badPatch(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(patch)}`);
    }

    if (own(patch, RETAIN_KEYS)) this.applyRetainKeys(original, patch);
    const handled = this.applySetElementOrder(original, patch, schema, depth);

    for (const patchKey of Object.keys(patch)) {
      if (patchKey === RETAIN_KEYS || patchKey.startsWith(SET_ELEMENT_ORDER) || handled.has(patchKey)) continue;
      let key = patchKey;
      let isDeleteList = false;
      if (patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
        key = extractKey(patchKey, DELETE_FROM_PRIMITIVE_LIST, ERR_PRIMITIVE_LIST);
        isDeleteList = true;
      }
      const patchValue = patch[patchKey];
      if (patchValue === null) {
        delete original[key];
        continue;
      }
      if (isDeleteList && !Array.isArray(patchValue)) badPatch(ERR_PRIMITIVE_LIST);
      const meta = this.fieldMeta(schema, key);
      const current = own(original, key) ? original[key] : undefined;
      if (
        current === undefined ||
        kindOf(current) !== kindOf(patchValue) ||
        (isJsonObject(current) && meta.strategy === 'replace')
      ) {
        if (isDeleteList) continue;
        const value = this.newValue(patchValue, meta, depth + 1);
        if (value === undefined) delete original[key];
        else setJsonProperty(original, key, value);
        continue;
      }
      if (isJsonObject(current)) {
        setJsonProperty(original, key, this.mergeMap(current, patchValue as JsonObject, meta.schema, depth + 1));
      } else if (Array.isArray(current)) {
        setJsonProperty(original, key, this.mergeSliceHandler(current, patchValue as unknown[], meta, isDeleteList, depth + 1));
      } else setJsonProperty(original, key, patchValue);
    }
    return original;
  }

  /** applyRetainKeysDirective: every patched field must be listed; unlisted original fields go. */
  private applyRetainKeys(original: JsonObject, patch: JsonObject): void {
    const list = patch[RETAIN_KEYS];
    if (!Array.isArray(list)) badPatch(ERR_RETAIN_KEYS);
    const retained = new Set(list as unknown[]);
    for (const k of Object.keys(patch)) {
      const v = patch[k];
      if (k === RETAIN_KEYS || v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER))
        continue;
      if (!retained.has(k)) unprocessable(ERR_NOT_MATCH_RETAIN_KEYS);
    }
    for (const k of Object.keys(original)) if (!retained.has(k)) delete original[k];
  }

  /**
   * mergePatchIntoOriginal: merges each list named by a `$setElementOrder/<field>` directive and
   * orders it. Returns the list fields it consumed, so the main loop skips them.
   */
  private applySetElementOrder(
    original: JsonObject,
    patch: JsonObject,
    schema: SchemaNode | undefined,
    depth: number,
  ): Set<string> {
    const handled = new Set<string>();
    for (const directiveKey of Object.keys(patch)) {
      if (!directiveKey.startsWith(SET_ELEMENT_ORDER)) continue;
      const order = patch[directiveKey];
      if (!Array.isArray(order)) return errBadArgType('[]interface {}', order);
      const key = extractKey(directiveKey, SET_ELEMENT_ORDER, ERR_SET_ELEMENT_ORDER);
      const foundOriginal = own(original, key);
      const foundPatch = own(patch, key) && patch[key] !== null;
      const originalList = foundOriginal ? original[key] : undefined;
      const patchList = foundPatch ? patch[key] : undefined;
      if (foundOriginal && !Array.isArray(originalList)) return errBadArgType('[]interface {}', originalList);
      if (foundPatch && !Array.isArray(patchList)) return errBadArgType('[]interface {}', patchList);
      const meta = this.fieldMeta(schema, key);
      const originalItems = (originalList as unknown[] | undefined) ?? [];
      const patchItemsRaw = (patchList as unknown[] | undefined) ?? [];
      const kind = sliceElementKind(originalItems, patchItemsRaw);
      const mergeKey = kind === 'object' ? meta.mergeKey : '';
      if (kind === 'object' && !mergeKey) continue; // nothing to order by: leave the list to the main loop
      validatePatchWithSetOrderList(patchItemsRaw, order, mergeKey);

      let merged: unknown[];
      if (foundOriginal && !foundPatch) merged = originalItems;
      else if (!foundOriginal && foundPatch) merged = this.newList(patchItemsRaw, meta, depth + 1);
      else if (foundOriginal && foundPatch) merged = this.mergeSliceHandler(originalItems, patchItemsRaw, meta, false, depth + 1);
      else continue;

      handled.add(key);
      if (kind === undefined) {
        setJsonProperty(original, key, merged);
        continue;
      }
      const [inOrder, serverOnly] =
        kind === 'object' ? partitionMaps(merged, order, mergeKey) : partitionPrimitives(merged, order);
      setJsonProperty(original, key, normalizeElementOrder(inOrder, serverOnly, order, originalItems, mergeKey, kind));
    }
    return handled;
  }

  /** mergeSliceHandler: merge or replace a list according to the field's strategy. */
  mergeSliceHandler(original: unknown[], patch: unknown[], meta: FieldMeta, isDeleteList: boolean, depth: number): unknown[] {
    if (isDeleteList) {
      // Upstream only honours the deletion list on merge lists (and otherwise stores the deletion
      // list as the field value); removing the values is the only meaningful reading.
      return deleteFromSlice(original, patch);
    }
    if (meta.strategy === 'merge') return this.mergeSlice(original, patch, meta, depth);
    return this.newList(patch, meta, depth);
  }

  private mergeSlice(original: unknown[], patch: unknown[], meta: FieldMeta, depth: number): unknown[] {
    if (original.length === 0 && patch.length === 0) return original;
    const kind = sliceElementKind(original, patch);
    if (kind !== 'object') {
      const merged = dedupe([...original, ...patch]);
      const [inPatch, serverOnly] = partitionPrimitives(merged, patch);
      return normalizeElementOrder(inPatch, serverOnly, patch, original, '', kind ?? 'null');
    }
    const mergeKey = meta.mergeKey;
    if (!mergeKey) badPatch('cannot merge lists without merge key for type struct');
    const itemSchema = this.itemsSchema(meta);
    const [serverList, patchList] = this.mergeSliceWithSpecialElements(
      original,
      patch as JsonObject[],
      mergeKey,
      itemSchema,
      depth,
    );
    const merged = serverList.slice();
    for (const item of patchList) {
      if (!own(item, mergeKey)) errNoMergeKey(item, mergeKey);
      const at = merged.findIndex((el) => isJsonObject(el) && own(el, mergeKey) && mergeKeyEqual(el[mergeKey], item[mergeKey]));
      if (at >= 0) merged[at] = this.mergeMap(merged[at] as JsonObject, item, itemSchema, depth + 1);
      else merged.push(this.mergeMap({}, item, itemSchema, depth + 1));
    }
    const [inPatch, serverOnly] = partitionMaps(merged, patchList, mergeKey);
    return normalizeElementOrder(inPatch, serverOnly, patchList, serverList, mergeKey, 'object');
  }

  /** Handles `$patch` elements; returns the server list after deletions and the remaining patch items. */
  private mergeSliceWithSpecialElements(
    original: unknown[],
    patch: JsonObject[],
    mergeKey: string,
    itemSchema: SchemaNode | undefined,
    depth: number,
  ): [unknown[], JsonObject[]] {
    let server = original;
    const rest: JsonObject[] = [];
    let replace = false;
    for (const item of patch) {
      if (!own(item, DIRECTIVE)) {
        rest.push(item);
        continue;
      }
      const directive = item[DIRECTIVE];
      if (directive === 'delete') {
        if (!own(item, mergeKey)) errNoMergeKey(item, mergeKey);
        server = server.filter((el) => !(isJsonObject(el) && own(el, mergeKey) && mergeKeyEqual(el[mergeKey], item[mergeKey])));
      } else if (directive === 'replace') replace = true;
      else if (directive === 'merge') badPatch('merging lists cannot yet be specified in the patch');
      else badPatch(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(item)}`);
    }
    if (replace) return [rest.map((item) => this.mergeMap({}, item, itemSchema, depth + 1)), []];
    return [server, rest];
  }

  /**
   * A value for a field the original lacks (or had with another type): a merge into nothing.
   * `undefined` means the field must not exist (a map that is only a `$patch: delete`), which is
   * what upstream's removeDirectives does for such values.
   */
  newValue(value: unknown, meta: FieldMeta, depth: number): unknown {
    if (isJsonObject(value)) {
      if (value[DIRECTIVE] === 'delete') return undefined;
      return this.mergeMap({}, value, meta.schema, depth);
    }
    if (Array.isArray(value)) return this.newList(value, meta, depth);
    return value;
  }

  /** A list taken from the patch as a whole: directives in its elements are applied, nulls dropped. */
  private newList(list: unknown[], meta: FieldMeta, depth: number): unknown[] {
    if (depth > MAX_JSON_NESTING_DEPTH) throw new JsonNestingError();
    const itemSchema = this.itemsSchema(meta);
    const itemMeta: FieldMeta = { schema: itemSchema, strategy: '', mergeKey: '' };
    const out: unknown[] = [];
    for (const item of list) {
      // Directive-only elements (`{$patch: replace}`) and deletions have nothing to contribute.
      if (isJsonObject(item) && own(item, DIRECTIVE) && Object.keys(item).length === 1) continue;
      const value = Array.isArray(item) ? cloneJsonWithoutNulls(item) : this.newValue(item, itemMeta, depth + 1);
      if (value !== undefined) out.push(value);
    }
    return out;
  }
}

/** `$deleteFromPrimitiveList/<field>` → `<field>`; the prefix must be exactly the directive's. */
function extractKey(key: string, prefix: string, error: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) badPatch(error);
  return key.slice(slash + 1);
}

/** Merge key values are scalars in practice; Go compares them with ==. */
function mergeKeyEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && jsonDeepEqual(a, b);
}

/**
 * sliceElementType: the one element type of all given lists (undefined when all are empty).
 * Lists of lists are refused (422); mixed element types are a bad request.
 */
function sliceElementKind(...lists: unknown[][]): ElementKind | undefined {
  let kind: ElementKind | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = kindOf(v);
      if (kind === undefined) {
        kind = k;
        if (k === 'array') unprocessable(ERR_LIST_OF_LISTS);
      } else if (k !== kind) {
        badPatch(`list element types are not identical: ${goFormat(lists)}`);
      }
    }
  }
  return kind;
}

function dedupe(values: unknown[]): unknown[] {
  const seen = new Set<unknown>();
  const out: unknown[] = [];
  for (const v of values) {
    if (seen.has(v)) continue;
    seen.add(v);
    out.push(v);
  }
  return out;
}

function deleteFromSlice(current: unknown[], toDelete: unknown[]): unknown[] {
  const doomed = new Set(toDelete);
  return current.filter((v) => !doomed.has(v));
}

/** Position lookup in an order list: by merge key value for maps, by value for scalars. */
function indexer(order: unknown[], mergeKey: string, kind: ElementKind): (item: unknown) => number {
  const byValue = new Map<unknown, number>();
  const objectKeys: Array<[unknown, number]> = [];
  order.forEach((entry, i) => {
    const key = kind === 'object' ? (isJsonObject(entry) ? entry[mergeKey] : undefined) : entry;
    if (key !== null && typeof key === 'object') objectKeys.push([key, i]);
    else if (!byValue.has(key)) byValue.set(key, i);
  });
  return (item) => {
    const key = kind === 'object' ? (isJsonObject(item) ? item[mergeKey] : undefined) : item;
    if (key !== null && typeof key === 'object') return objectKeys.find(([k]) => jsonDeepEqual(k, key))?.[1] ?? -1;
    return byValue.get(key) ?? -1;
  };
}

function requireMapsWithKey(list: unknown[], mergeKey: string): void {
  for (const item of list) {
    if (!isJsonObject(item)) errBadArgType('map[string]interface {}', item);
    else if (!own(item, mergeKey)) errNoMergeKey(item, mergeKey);
  }
}

/** normalizeSliceOrder: stable sort by position in `order`; `$patch: delete` items go last. */
function normalizeSliceOrder(items: unknown[], order: unknown[], mergeKey: string, kind: ElementKind): unknown[] {
  let toSort = items;
  let deletions: unknown[] = [];
  if (kind === 'object') {
    requireMapsWithKey(items, mergeKey);
    requireMapsWithKey(order, mergeKey);
    toSort = items.filter((v) => (v as JsonObject)[DIRECTIVE] !== 'delete');
    deletions = items.filter((v) => (v as JsonObject)[DIRECTIVE] === 'delete');
  }
  const position = indexer(order, mergeKey, kind);
  const decorated = toSort.map((item, i) => ({ item, i, at: position(item) }));
  decorated.sort((a, b) => {
    if (a.at >= 0 && b.at >= 0) return a.at - b.at || a.i - b.i;
    if (a.at >= 0) return -1;
    if (b.at >= 0) return 1;
    return a.i - b.i;
  });
  return [...decorated.map((d) => d.item), ...deletions];
}

/**
 * mergeSortedSlice: interleaves server-only items (`left`) with patch items (`right`). A server
 * item goes first only when both items are in the server order and it comes earlier there.
 */
function mergeSortedSlice(
  left: unknown[],
  right: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: ElementKind,
): unknown[] {
  const position = indexer(serverOrder, mergeKey, kind);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = position(left[i]);
      const ri = position(right[j]);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

function normalizeElementOrder(
  patchItems: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: ElementKind,
): unknown[] {
  const sortedPatch = normalizeSliceOrder(patchItems, patchOrder, mergeKey, kind);
  const sortedServer = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(sortedServer, sortedPatch, serverOrder, mergeKey, kind);
}

function partitionPrimitives(list: unknown[], partitionBy: unknown[]): [unknown[], unknown[]] {
  const members = new Set(partitionBy);
  const inside: unknown[] = [];
  const outside: unknown[] = [];
  for (const v of list) (members.has(v) ? inside : outside).push(v);
  return [inside, outside];
}

function partitionMaps(list: unknown[], partitionBy: unknown[], mergeKey: string): [unknown[], unknown[]] {
  partitionBy.forEach((v, i) => {
    if (!isJsonObject(v)) badPatch(`value for key ${i} is not a map`);
  });
  const position = indexer(partitionBy, mergeKey, 'object');
  const inside: unknown[] = [];
  const outside: unknown[] = [];
  for (const v of list) {
    if (!isJsonObject(v)) errBadArgType('map[string]interface {}', v);
    if (!own(v as JsonObject, mergeKey)) errNoMergeKey(v, mergeKey);
    (position(v) >= 0 ? inside : outside).push(v);
  }
  return [inside, outside];
}

/**
 * validatePatchWithSetOrderList: the patch list's items (deletions aside) must appear in the
 * `$setElementOrder` list, in the same relative order.
 */
function validatePatchWithSetOrderList(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  let items = patchList;
  if (mergeKey) {
    for (const v of patchList) if (!isJsonObject(v)) errBadArgType('map[string]interface {}', v);
    items = patchList.filter((v) => (v as JsonObject)[DIRECTIVE] !== 'delete');
  }
  let p = 0;
  let s = 0;
  while (p < items.length && s < order.length) {
    const item = items[p];
    if (isJsonObject(item) && own(item, DIRECTIVE)) {
      p++;
      continue;
    }
    let equal: boolean;
    if (!mergeKey) equal = item === order[s];
    else {
      const entry = order[s];
      if (!isJsonObject(entry)) return errBadArgType('map[string]interface {}', entry);
      if (!own(item as JsonObject, mergeKey)) return errNoMergeKey(item, mergeKey);
      if (!own(entry, mergeKey)) return errNoMergeKey(entry, mergeKey);
      equal = mergeKeyEqual((item as JsonObject)[mergeKey], entry[mergeKey]);
    }
    if (equal) p++;
    s++;
  }
  if (p < items.length && s >= order.length) {
    badPatch(`The order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goFormat(order)}\n`);
  }
}

/**
 * Applies a strategic merge patch (decoded JSON) to `original`, returning the patched copy.
 * `schema` is the object's schema (undefined: no patch metadata, merge-patch-like behaviour);
 * `$ref`s are followed through `resolver`. Throws only StatusError.
 */
export function applyStrategicMergePatch(
  original: unknown,
  patch: unknown,
  schema: SchemaNode | undefined,
  resolver: SchemaResolver,
): unknown {
  // The handler decodes the body into map[string]interface{}: `null` leaves it empty.
  if (patch === null || patch === undefined) patch = {};
  if (!isJsonObject(patch)) {
    throw new StatusError(
      400,
      'BadRequest',
      `json: cannot unmarshal ${goJsonTypeName(patch)} into Go value of type map[string]interface {}`,
    );
  }
  if (original !== null && original !== undefined && !isJsonObject(original)) {
    throw errors.internal(`strategic merge patch needs an object to patch, got ${goJsonTypeName(original)}`);
  }
  try {
    const merger = new StrategicMerger(resolver);
    const work = original ? cloneJson(original) : {};
    return merger.mergeMap(work, patch, schema ? resolver.resolve(schema) : undefined, 1);
  } catch (err) {
    if (err instanceof PatchFailure) {
      if (err.code === 422) throw patchApplyError(err.message);
      throw new StatusError(400, 'BadRequest', err.message);
    }
    if (err instanceof StatusError) throw err;
    // A patch nested deeply enough to exhaust the stack is the client's problem, not ours.
    if (err instanceof JsonNestingError || err instanceof RangeError) throw patchApplyError('the patch is nested too deeply');
    throw errors.internal(String((err as Error)?.message ?? err));
  }
}
