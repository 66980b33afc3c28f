/**
 * JSON Merge Patch (RFC 7386), as kube-apiserver applies `application/merge-patch+json` bodies
 * through evanphx/json-patch's MergePatch:
 *  - objects merge member by member, `null` deletes a member;
 *  - any other patch value replaces the target; values inserted where the target had nothing
 *    (or something that is not an object) lose their null members at every depth, as the
 *    library prunes them;
 *  - a `null` or scalar patch body is `Invalid JSON Patch` (400 BadRequest); an array body
 *    replaces the document.
 * The inputs are never mutated; the result shares no structure with them.
 */
import { StatusError, errors } from '../errors.js';
import {
  JsonNestingError,
  MAX_JSON_NESTING_DEPTH,
  cloneJson,
  cloneJsonWithoutNulls,
  isJsonObject,
  setJsonProperty,
  type JsonObject,
} from '../json.js';
import { patchApplyError } from './json-patch.js';

const own = (obj: object, key: string) => Object.prototype.hasOwnProperty.call(obj, key);

export function applyMergePatch(doc: unknown, patch: unknown): unknown {
  if (patch === null || patch === undefined || (typeof patch !== 'object' && !Array.isArray(patch))) {
    throw new StatusError(400, 'BadRequest', 'Invalid JSON Patch');
  }
  try {
    if (Array.isArray(patch)) return cloneJsonWithoutNulls(patch);
    if (!isJsonObject(doc)) return cloneJsonWithoutNulls(patch);
    const result = cloneJson(doc);
    // Iterative walk over (target, patch) object pairs: a deep patch cannot exhaust the stack.
    const work: Array<[JsonObject, JsonObject, number]> = [[result, patch as JsonObject, 1]];
    while (work.length) {
      const [target, delta, depth] = work.pop()!;
      if (depth > MAX_JSON_NESTING_DEPTH) throw new JsonNestingError();
      for (const key of Object.keys(delta)) {
        const value = delta[key];
        if (value === null) {
          delete target[key];
          continue;
        }
        const current = own(target, key) ? target[key] : undefined;
        if (isJsonObject(current) && isJsonObject(value)) work.push([current, value, depth + 1]);
        else if (isJsonObject(current)) {
          // evanphx replaces an object with a non-object patch value without pruning it.
          setJsonProperty(target, key, cloneJson(value));
        } else setJsonProperty(target, key, cloneJsonWithoutNulls(value));
      }
    }
    return result;
  } catch (err) {
    if (err instanceof StatusError) throw err;
    if (err instanceof JsonNestingError) throw patchApplyError(err.message);
    throw errors.internal(String((err as Error)?.message ?? err));
  }
}
