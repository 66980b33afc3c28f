/**
 * JSON Patch (RFC 6902), as kube-apiserver applies `application/json-patch+json` bodies.
 *
 * Status codes follow staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go:
 *  - a body that does not decode as a list of operation objects → 400 BadRequest with the Go
 *    decoder's message (`jsonpatch.DecodePatch` → `errors.NewBadRequest(err.Error())`);
 *  - more than 10000 operations → 413 RequestEntityTooLarge;
 *  - any failure while applying (unknown op, missing path, failed `test`, bad index, copy limit)
 *    → 422 Invalid with the generic message `NewGenericServerResponse(422, …)` produces,
 *    "the server rejected our request due to an error in our request". Kube drops the
 *    underlying reason there; we keep it as the single cause so kubectl can show it.
 *
 * Semantics are RFC 6902 with the leniencies of the evanphx/json-patch v4 library kube uses,
 * where clients depend on them: `replace` of a missing object member sets it, and negative
 * array indices count from the end. The input document and patch are never mutated.
 */
import { StatusError, errors, type StatusCause } from '../errors.js';
import {
  JsonNestingError,
  cloneJson,
  isJsonObject,
  jsonDeepEqual,
  jsonEncodedLength,
  setJsonProperty,
  type JsonObject,
} from '../json.js';

/** patch.go maxJSONPatchOperations. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;
/** kube-apiserver's default JSONPatchMaxCopyBytes: how much `copy` operations may grow a document. */
export const JSON_PATCH_MAX_COPY_BYTES = 3 * 1024 * 1024;

export interface JsonPatchOptions {
  maxCopyBytes?: number;
}

/** The 422 that kube-apiserver answers when a patch cannot be applied (message fixed by NewGenericServerResponse). */
export function patchApplyError(detail: string): StatusError {
  const causes: StatusCause[] = [{ message: detail }];
  return new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', { causes });
}

/** Go's name for the JSON type of a value, as in `json: cannot unmarshal <type> into Go value …`. */
export function goJsonTypeName(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'object':
      return 'object';
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      return 'value';
  }
}

class ApplyFailure extends Error {}

function fail(message: string): never {
  throw new ApplyFailure(message);
}

const own = (obj: object, key: string) => Object.prototype.hasOwnProperty.call(obj, key);

/** RFC 6901 reference tokens (`~1` → `/`, then `~0` → `~`). */
function parsePointer(pointer: string, op: string, field: string): string[] {
  if (pointer === '') return [];
  if (pointer[0] !== '/') fail(`${op} operation ${field} "${pointer}" is not a JSON pointer: it must be empty or start with '/'`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** strconv.Atoi-compatible index parsing (kube accepts `+1` and leading zeros). */
function parseIndex(token: string): number | undefined {
  if (!/^[+-]?\d+$/.test(token)) return undefined;
  const n = Number(token);
  return Number.isSafeInteger(n) ? n : undefined;
}

type Container = JsonObject | unknown[];

/** Walks to the container holding the last token. */
function parentOf(root: unknown, tokens: string[], op: string, pointer: string): { parent: Container; key: string } {
  let node = root;
  for (let i = 0; i < tokens.length - 1; i++) {
    const token = tokens[i];
    if (Array.isArray(node)) {
      const idx = parseIndex(token);
      if (idx === undefined || idx < 0 || idx >= node.length)
        fail(`${op} operation does not apply: doc is missing path: "${pointer}"`);
      node = node[idx];
    } else if (isJsonObject(node)) {
      if (!own(node, token)) fail(`${op} operation does not apply: doc is missing path: "${pointer}"`);
      node = node[token];
    } else fail(`${op} operation does not apply: doc is missing path: "${pointer}"`);
  }
  if (!Array.isArray(node) && !isJsonObject(node)) fail(`${op} operation does not apply: doc is missing path: "${pointer}"`);
  return { parent: node, key: tokens[tokens.length - 1] };
}

function getAt(root: unknown, tokens: string[], op: string, pointer: string): unknown {
  if (tokens.length === 0) return root;
  const { parent, key } = parentOf(root, tokens, op, pointer);
  if (Array.isArray(parent)) {
    const idx = parseIndex(key);
    if (idx === undefined) fail(`error in ${op} for path: '${pointer}': value was not a proper array index: '${key}'`);
    if (idx < 0 || idx >= parent.length) fail(`error in ${op} for path: '${pointer}': Unable to access invalid index: ${idx}`);
    return parent[idx];
  }
  if (!own(parent, key)) fail(`${op} operation does not apply: doc is missing path: "${pointer}"`);
  return parent[key];
}

/** Inserts `value`; returns the new root (the root itself is replaced for the empty pointer). */
function addAt(root: unknown, tokens: string[], value: unknown, op: string, pointer: string): unknown {
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(root, tokens, op, pointer);
  if (Array.isArray(parent)) {
    if (key === '-') {
      parent.push(value);
      return root;
    }
    let idx = parseIndex(key);
    if (idx === undefined) fail(`error in ${op} for path: '${pointer}': value was not a proper array index: '${key}'`);
    const size = parent.length + 1;
    if (idx >= size || idx < -size) fail(`error in ${op} for path: '${pointer}': Unable to access invalid index: ${idx}`);
    if (idx < 0) idx += size;
    parent.splice(idx, 0, value);
    return root;
  }
  setJsonProperty(parent, key, value);
  return root;
}

function removeAt(root: unknown, tokens: string[], op: string, pointer: string): unknown {
  if (tokens.length === 0) fail(`${op} operation does not apply: cannot remove the whole document`);
  const { parent, key } = parentOf(root, tokens, op, pointer);
  if (Array.isArray(parent)) {
    let idx = parseIndex(key);
    if (idx === undefined) fail(`error in ${op} for path: '${pointer}': value was not a proper array index: '${key}'`);
    if (idx >= parent.length || idx < -parent.length)
      fail(`error in ${op} for path: '${pointer}': Unable to access invalid index: ${idx}`);
    if (idx < 0) idx += parent.length;
    return parent.splice(idx, 1)[0];
  }
  if (!own(parent, key)) fail(`error in ${op} for path: '${pointer}': Unable to remove nonexistent key: ${key}`);
  const removed = parent[key];
  delete parent[key];
  return removed;
}

function replaceAt(root: unknown, tokens: string[], value: unknown, pointer: string): unknown {
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(root, tokens, 'replace', pointer);
  if (Array.isArray(parent)) {
    const idx = parseIndex(key);
    if (idx === undefined || idx < 0 || idx >= parent.length)
      fail(`replace operation does not apply: doc is missing key: ${pointer}`);
    parent[idx] = value;
    return root;
  }
  // evanphx/json-patch v4 (kube's) sets a missing member instead of failing as RFC 6902 would.
  setJsonProperty(parent, key, value);
  return root;
}

function stringField(operation: JsonObject, field: string, op: string): string {
  if (!own(operation, field) || operation[field] === null) fail(`${op} operation missing ${field} field`);
  const v = operation[field];
  if (typeof v !== 'string') fail(`${op} operation ${field} field is not a string`);
  return v;
}

function valueField(operation: JsonObject, op: string): unknown {
  if (!own(operation, 'value')) fail(`${op} operation missing value field`);
  return operation.value;
}

/**
 * Applies an RFC 6902 patch (already decoded from JSON) to a document, returning the patched
 * copy. Throws only StatusError.
 */
export function applyJsonPatch(doc: unknown, patch: unknown, options: JsonPatchOptions = {}): unknown {
  // json.Unmarshal of `null` into a slice leaves it empty: a no-op patch.
  if (patch === null || patch === undefined) return cloneOrReject(doc);
  if (!Array.isArray(patch))
    throw badRequest(`json: cannot unmarshal ${goJsonTypeName(patch)} into Go value of type jsonpatch.Patch`);
  for (const operation of patch) {
    if (operation !== null && !isJsonObject(operation)) {
      throw badRequest(`json: cannot unmarshal ${goJsonTypeName(operation)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (patch.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new StatusError(
      413,
      'RequestEntityTooLarge',
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${patch.length}`,
    );
  }
  const maxCopyBytes = options.maxCopyBytes ?? JSON_PATCH_MAX_COPY_BYTES;
  let root = cloneOrReject(doc);
  let copied = 0;
  try {
    for (const operation of patch as Array<JsonObject | null>) {
      const op = operation && typeof operation.op === 'string' ? operation.op : 'unknown';
      if (!operation) fail(`Unexpected kind: ${op}`);
      switch (op) {
        case 'add': {
          const pointer = stringField(operation, 'path', op);
          root = addAt(root, parsePointer(pointer, op, 'path'), cloneJson(valueField(operation, op)), op, pointer);
          break;
        }
        case 'remove': {
          const pointer = stringField(operation, 'path', op);
          removeAt(root, parsePointer(pointer, op, 'path'), op, pointer);
          break;
        }
        case 'replace': {
          const pointer = stringField(operation, 'path', op);
          root = replaceAt(root, parsePointer(pointer, op, 'path'), cloneJson(valueField(operation, op)), pointer);
          break;
        }
        case 'move': {
          const from = stringField(operation, 'from', op);
          const pointer = stringField(operation, 'path', op);
          const fromTokens = parsePointer(from, op, 'from');
          const toTokens = parsePointer(pointer, op, 'path');
          if (from === pointer) {
            getAt(root, fromTokens, op, from);
            break;
          }
          if (toTokens.length > fromTokens.length && fromTokens.every((t, i) => toTokens[i] === t)) {
            fail(`move operation does not apply: cannot move "${from}" into its own child "${pointer}"`);
          }
          getAt(root, fromTokens, op, from);
          const value = fromTokens.length === 0 ? root : removeAt(root, fromTokens, op, from);
          root = addAt(root, toTokens, value, op, pointer);
          break;
        }
        case 'copy': {
          const from = stringField(operation, 'from', op);
          const pointer = stringField(operation, 'path', op);
          const value = getAt(root, parsePointer(from, op, 'from'), op, from);
          // Copies are the one way a small patch can grow a document without bound.
          copied += jsonEncodedLength(value);
          if (maxCopyBytes > 0 && copied > maxCopyBytes) {
            fail(
              `Unable to complete the copy, the accumulated size increase of copy is ${copied}, exceeding the limit ${maxCopyBytes}`,
            );
          }
          root = addAt(root, parsePointer(pointer, op, 'path'), cloneJson(value), op, pointer);
          break;
        }
        case 'test': {
          const pointer = stringField(operation, 'path', op);
          const expected = valueField(operation, op);
          const actual = getAt(root, parsePointer(pointer, op, 'path'), op, pointer);
          if (!jsonDeepEqual(actual, expected)) fail(`testing value ${pointer} failed: test failed`);
          break;
        }
        default:
          fail(`Unexpected kind: ${op}`);
      }
    }
  } catch (err) {
    if (err instanceof ApplyFailure) throw patchApplyError(err.message);
    if (err instanceof JsonNestingError) throw patchApplyError(err.message);
    if (err instanceof StatusError) throw err;
    throw errors.internal(String((err as Error)?.message ?? err));
  }
  return root;
}

function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

function cloneOrReject(doc: unknown): unknown {
  try {
    return cloneJson(doc);
  } catch {
    throw patchApplyError('the document is nested too deeply');
  }
}
