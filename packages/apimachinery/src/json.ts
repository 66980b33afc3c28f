/**
 * JSON helpers shared by the decoders and the patch engines: a strict decoder that reports
 * duplicate object keys the way kube-apiserver does for `fieldValidation=Strict`, Go-worded
 * syntax errors, and iterative (stack-safe) clone/equality for decoded values.
 */

/** encoding/json's limit (Go 1.15+, inherited by sigs.k8s.io/json): deeper documents are syntax errors. */
export const MAX_JSON_NESTING_DEPTH = 10000;

export type JsonObject = Record<string, unknown>;

/** A decoding failure, worded like Go's encoding/json so clients see the messages kube-apiserver sends. */
export class JsonSyntaxError extends SyntaxError {
  /** Offset (in UTF-16 code units) of the character that made the input invalid. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.name = 'JsonSyntaxError';
    this.offset = offset;
  }
}

/** Raised by the helpers below for values nested deeper than {@link MAX_JSON_NESTING_DEPTH} (or cyclic). */
export class JsonNestingError extends RangeError {
  constructor() {
    super(`value nesting exceeds ${MAX_JSON_NESTING_DEPTH} levels`);
    this.name = 'JsonNestingError';
  }
}

export interface StrictJsonResult {
  value: unknown;
  /**
   * Paths of object keys that appeared more than once, in order of first repetition, without
   * repeats: `metadata.name`, `spec.template.spec.containers[0].image`. Like Go's decoder the
   * last occurrence wins in `value`. kube-apiserver reports each as `duplicate field "<path>"`.
   */
  duplicateFields: string[];
}

/** sigs.k8s.io/json stops accumulating strict errors after this many. */
const MAX_REPORTED_DUPLICATES = 100;

/**
 * Parses JSON text, reporting duplicate keys. Throws only {@link JsonSyntaxError}.
 *
 * V8's JSON.parse does the decoding (natively, and iteratively, so deep input cannot overflow
 * the stack). Duplicates are then detected cheaply: a JSON text has duplicate keys exactly when
 * it names more object keys than the decoded value holds. Counting the keys in the text only
 * visits strings (indexOf jumps), and counting the decoded keys is a walk over the objects;
 * together they cost about half a JSON.parse. Only when the counts differ (or the nesting may
 * be too deep) does the exact, slower scan run to name the duplicated fields.
 */
export function parseJsonStrict(text: string): StrictJsonResult {
  if (typeof text !== 'string') throw new JsonSyntaxError('unexpected end of JSON input', 0);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw describeSyntaxError(text);
  }
  if (value === null || typeof value !== 'object') return { value, duplicateFields: [] };
  // Every nesting level takes two characters, so short texts cannot be too deep.
  const limitDepth = text.length > 2 * MAX_JSON_NESTING_DEPTH;
  const decodedKeys = countKeysInValue(value, limitDepth);
  if (decodedKeys >= 0 && countKeysInText(text) === decodedKeys) return { value, duplicateFields: [] };
  return { value, duplicateFields: scanKeys(text) };
}

/** Number of object keys written in valid JSON text: the strings followed by a colon. */
function countKeysInText(text: string): number {
  let keys = 0;
  let i = 0;
  for (;;) {
    i = text.indexOf('"', i);
    if (i < 0) return keys;
    let end = text.indexOf('"', i + 1);
    while (text.charCodeAt(end - 1) === 0x5c) {
      let backslashes = 0;
      for (let b = end - 1; text.charCodeAt(b) === 0x5c; b--) backslashes++;
      if ((backslashes & 1) === 0) break;
      end = text.indexOf('"', end + 1);
    }
    let j = end + 1;
    let c = text.charCodeAt(j);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++j);
    if (c === 0x3a /* : */) keys++;
    i = end + 1;
  }
}

/**
 * Number of keys held by the objects of a freshly decoded value; -1 when `limitDepth` is set and
 * the value nests deeper than {@link MAX_JSON_NESTING_DEPTH}.
 */
function countKeysInValue(value: unknown, limitDepth: boolean): number {
  let keys = 0;
  const stack: unknown[] = [value];
  const depths: number[] = [1];
  while (stack.length) {
    const node = stack.pop() as object;
    const depth = limitDepth ? depths.pop()! : 0;
    if (depth > MAX_JSON_NESTING_DEPTH) return -1;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v: unknown = node[i];
        if (v !== null && typeof v === 'object') {
          stack.push(v);
          if (limitDepth) depths.push(depth + 1);
        }
      }
    } else {
      for (const k in node) {
        keys++;
        const v: unknown = (node as JsonObject)[k];
        if (v !== null && typeof v === 'object') {
          stack.push(v);
          if (limitDepth) depths.push(depth + 1);
        }
      }
    }
  }
  return keys;
}

/** Exact key/nesting scan over text already known to be valid JSON: names duplicates, enforces the depth limit. */
function scanKeys(text: string): string[] {
  // Per-depth frames, reused across siblings to avoid allocating per object.
  const isObject: boolean[] = [false];
  const currentKey: string[] = [''];
  const index: number[] = [0];
  const seen: Array<string[] | Set<string>> = [[]];
  let depth = 0;
  let expectKey = false;
  let nextBackslash = text.indexOf('\\');
  let duplicates: string[] | undefined;
  let reported: Set<string> | undefined;

  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    // Whitespace, numbers and literals say nothing about keys or nesting.
    if (c !== 0x22 && c !== 0x7b && c !== 0x7d && c !== 0x5b && c !== 0x5d && c !== 0x2c) continue;
    if (c === 0x22 /* " */) {
      // Find the closing quote: the first quote preceded by an even number of backslashes.
      let end = text.indexOf('"', i + 1);
      for (;;) {
        let backslashes = 0;
        for (let b = end - 1; text.charCodeAt(b) === 0x5c; b--) backslashes++;
        if ((backslashes & 1) === 0) break;
        end = text.indexOf('"', end + 1);
      }
      if (expectKey) {
        expectKey = false;
        if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = text.indexOf('\\', i);
        const key =
          nextBackslash !== -1 && nextBackslash < end ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        currentKey[depth] = key;
        const keys = seen[depth];
        let duplicate: boolean;
        if (Array.isArray(keys)) {
          duplicate = keys.includes(key);
          if (!duplicate) {
            if (keys.length < 16) keys.push(key);
            else seen[depth] = new Set([...keys, key]);
          }
        } else {
          duplicate = keys.has(key);
          if (!duplicate) keys.add(key);
        }
        if (duplicate) {
          duplicates ??= [];
          reported ??= new Set();
          const path = pathAt(depth, isObject, currentKey, index);
          if (!reported.has(path) && duplicates.length < MAX_REPORTED_DUPLICATES) {
            reported.add(path);
            duplicates.push(path);
          }
        }
      }
      i = end;
      continue;
    }
    switch (c) {
      case 0x7b /* { */:
      case 0x5b /* [ */:
        depth++;
        if (depth > MAX_JSON_NESTING_DEPTH) throw new JsonSyntaxError(`invalid character '${text[i]}' exceeded max depth`, i);
        isObject[depth] = c === 0x7b;
        index[depth] = 0;
        currentKey[depth] = '';
        if (c === 0x7b) {
          const keys = seen[depth];
          if (Array.isArray(keys)) keys.length = 0;
          else seen[depth] = [];
        }
        expectKey = c === 0x7b;
        break;
      case 0x7d /* } */:
      case 0x5d /* ] */:
        depth--;
        expectKey = false;
        break;
      default: /* , */
        if (isObject[depth]) expectKey = true;
        else index[depth]++;
        break;
    }
  }
  return duplicates ?? [];
}

function pathAt(depth: number, isObject: boolean[], currentKey: string[], index: number[]): string {
  let path = '';
  for (let d = 1; d <= depth; d++) {
    if (isObject[d]) path += path === '' ? currentKey[d] : `.${currentKey[d]}`;
    else if (d < depth) path += `[${index[d]}]`;
  }
  return path;
}

// ---------------------------------------------------------------------------------------------
// Syntax errors, worded as Go's encoding/json scanner words them.

const enum Ctx {
  TopValue,
  ArrayValue,
  ObjectValue,
}

/** Walks invalid JSON to find and describe the first error. Only runs after JSON.parse failed. */
export function describeSyntaxError(text: string): JsonSyntaxError {
  const n = text.length;
  const stack: Ctx[] = [];
  let i = 0;
  const eof = () => new JsonSyntaxError('unexpected end of JSON input', n);
  const bad = (at: number, context: string) => new JsonSyntaxError(`invalid character ${quoteChar(text, at)} ${context}`, at);
  const skipSpace = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

  // Returns an error, or undefined once a complete value has been consumed at `i`.
  const scanString = (): JsonSyntaxError | undefined => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c < 0x20) return bad(i, 'in string literal');
      if (c === 0x5c) {
        i++;
        if (i >= n) return eof();
        const e = text[i];
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) {
            if (i + k >= n) return eof();
            if (!/[0-9a-fA-F]/.test(text[i + k])) return bad(i + k, 'in \\u hexadecimal character escape');
          }
          i += 5;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) return bad(i, 'in string escape code');
      }
      i++;
    }
    return eof();
  };

  const scanNumber = (): JsonSyntaxError | undefined => {
    if (text[i] === '-') {
      i++;
      if (i >= n) return eof();
      if (!isDigit(text.charCodeAt(i))) return bad(i, 'in numeric literal');
    }
    if (text[i] === '0') i++;
    else while (i < n && isDigit(text.charCodeAt(i))) i++;
    if (i < n && text[i] === '.') {
      i++;
      if (i >= n) return eof();
      if (!isDigit(text.charCodeAt(i))) return bad(i, 'after decimal point in numeric literal');
      while (i < n && isDigit(text.charCodeAt(i))) i++;
    }
    if (i < n && (text[i] === 'e' || text[i] === 'E')) {
      i++;
      if (i < n && (text[i] === '+' || text[i] === '-')) i++;
      if (i >= n) return eof();
      if (!isDigit(text.charCodeAt(i))) return bad(i, 'in exponent of numeric literal');
      while (i < n && isDigit(text.charCodeAt(i))) i++;
    }
    return undefined;
  };

  const scanLiteral = (word: string): JsonSyntaxError | undefined => {
    for (let k = 1; k < word.length; k++) {
      if (i + k >= n) return eof();
      if (text[i + k] !== word[k]) return bad(i + k, `in literal ${word} (expecting '${word[k]}')`);
    }
    i += word.length;
    return undefined;
  };

  // Iterative: `stack` holds the containers we are inside; after each value we look for the
  // separator its container expects.
  let expectValue = true;
  for (;;) {
    skipSpace();
    if (expectValue) {
      if (i >= n) return eof();
      const ch = text[i];
      let err: JsonSyntaxError | undefined;
      if (ch === '{' || ch === '[') {
        if (stack.length >= MAX_JSON_NESTING_DEPTH) return bad(i, 'exceeded max depth');
        i++;
        skipSpace();
        if (ch === '{') {
          stack.push(Ctx.ObjectValue);
          if (i >= n) return eof();
          if (text[i] === '}') {
            i++;
            stack.pop();
            expectValue = false;
            continue;
          }
          if (text[i] !== '"') return bad(i, 'looking for beginning of object key string');
          const keyErr = readKey();
          if (keyErr) return keyErr;
          continue;
        }
        stack.push(Ctx.ArrayValue);
        if (i >= n) return eof();
        if (text[i] === ']') {
          i++;
          stack.pop();
          expectValue = false;
        }
        continue;
      } else if (ch === '"') err = scanString();
      else if (ch === '-' || isDigit(text.charCodeAt(i))) err = scanNumber();
      else if (ch === 't') err = scanLiteral('true');
      else if (ch === 'f') err = scanLiteral('false');
      else if (ch === 'n') err = scanLiteral('null');
      else return bad(i, 'looking for beginning of value');
      if (err) return err;
      expectValue = false;
      continue;
    }
    // After a complete value.
    const ctx = stack.length ? stack[stack.length - 1] : Ctx.TopValue;
    if (ctx === Ctx.TopValue) {
      if (i >= n) return new JsonSyntaxError('unexpected end of JSON input', n); // valid JSON after all
      return bad(i, 'after top-level value');
    }
    if (i >= n) return eof();
    const ch = text[i];
    if (ctx === Ctx.ArrayValue) {
      if (ch === ',') {
        i++;
        expectValue = true;
      } else if (ch === ']') {
        i++;
        stack.pop();
      } else return bad(i, 'after array element');
      continue;
    }
    if (ch === ',') {
      i++;
      skipSpace();
      if (i >= n) return eof();
      if (text[i] !== '"') return bad(i, 'looking for beginning of object key string');
      const keyErr = readKey();
      if (keyErr) return keyErr;
    } else if (ch === '}') {
      i++;
      stack.pop();
    } else return bad(i, 'after object key:value pair');
  }

  function readKey(): JsonSyntaxError | undefined {
    const err = scanString();
    if (err) return err;
    skipSpace();
    if (i >= n) return eof();
    if (text[i] !== ':') return bad(i, 'after object key');
    i++;
    expectValue = true;
    return undefined;
  }
}

/** Go's quoteChar over the byte at `at` (non-ASCII characters show their first UTF-8 byte, as Go does). */
function quoteChar(text: string, at: number): string {
  const code = text.codePointAt(at) ?? 0;
  let byte = code;
  if (code > 0x7f) byte = Buffer.from(String.fromCodePoint(code), 'utf8')[0];
  if (byte === 0x27) return `'\\''`;
  if (byte === 0x22) return `'"'`;
  const named: Record<number, string> = {
    7: '\\a',
    8: '\\b',
    9: '\\t',
    10: '\\n',
    11: '\\v',
    12: '\\f',
    13: '\\r',
    0x5c: '\\\\',
  };
  if (named[byte]) return `'${named[byte]}'`;
  if (byte < 0x20 || byte === 0x7f) return `'\\x${byte.toString(16).padStart(2, '0')}'`;
  if ((byte >= 0x80 && byte <= 0xa0) || byte === 0xad) return `'\\u00${byte.toString(16).padStart(2, '0')}'`;
  return `'${String.fromCharCode(byte)}'`;
}

// ---------------------------------------------------------------------------------------------
// Value helpers. All iterative, so hostile nesting cannot overflow the call stack.

/** A JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Sets an own enumerable property, including `__proto__`, which plain assignment would turn
 * into a prototype change (JSON.parse creates such keys as ordinary properties).
 */
export function setJsonProperty(target: JsonObject, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Deep copy of a decoded JSON value, preserving key order. Throws {@link JsonNestingError}. */
export function cloneJson<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  const root: unknown = Array.isArray(value) ? new Array(value.length) : {};
  const work: Array<[unknown, unknown, number]> = [[value, root, 1]];
  while (work.length) {
    const [src, dst, depth] = work.pop()!;
    if (depth > MAX_JSON_NESTING_DEPTH) throw new JsonNestingError();
    if (Array.isArray(src)) {
      const out = dst as unknown[];
      for (let i = 0; i < src.length; i++) {
        const v: unknown = src[i];
        if (v !== null && typeof v === 'object') {
          const c = Array.isArray(v) ? new Array(v.length) : {};
          out[i] = c;
          work.push([v, c, depth + 1]);
        } else out[i] = v;
      }
    } else {
      const out = dst as JsonObject;
      for (const k of Object.keys(src as object)) {
        const v = (src as JsonObject)[k];
        if (v !== null && typeof v === 'object') {
          const c = Array.isArray(v) ? new Array(v.length) : {};
          setJsonProperty(out, k, c);
          work.push([v, c, depth + 1]);
        } else setJsonProperty(out, k, v);
      }
    }
  }
  return root as T;
}

/**
 * Deep copy that drops object members whose value is null (at every level, including objects
 * inside arrays; nulls that are array elements stay). This is what evanphx/json-patch's merge
 * patch does to values it inserts, and what kube's strategic merge patch does to new fields.
 */
export function cloneJsonWithoutNulls<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  const root: unknown = Array.isArray(value) ? [] : {};
  const work: Array<[unknown, unknown, number]> = [[value, root, 1]];
  while (work.length) {
    const [src, dst, depth] = work.pop()!;
    if (depth > MAX_JSON_NESTING_DEPTH) throw new JsonNestingError();
    if (Array.isArray(src)) {
      const out = dst as unknown[];
      for (const v of src) {
        if (v !== null && typeof v === 'object') {
          const c = Array.isArray(v) ? [] : {};
          out.push(c);
          work.push([v, c, depth + 1]);
        } else out.push(v);
      }
    } else {
      const out = dst as JsonObject;
      for (const k of Object.keys(src as object)) {
        const v = (src as JsonObject)[k];
        if (v === null) continue;
        if (typeof v === 'object') {
          const c = Array.isArray(v) ? [] : {};
          setJsonProperty(out, k, c);
          work.push([v, c, depth + 1]);
        } else setJsonProperty(out, k, v);
      }
    }
  }
  return root as T;
}

/** Structural equality of decoded JSON values (object key order ignored). Throws {@link JsonNestingError}. */
export function jsonDeepEqual(a: unknown, b: unknown): boolean {
  const work: Array<[unknown, unknown, number]> = [[a, b, 0]];
  while (work.length) {
    const [x, y, depth] = work.pop()!;
    if (x === y) continue;
    if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object') return false;
    if (depth >= MAX_JSON_NESTING_DEPTH) throw new JsonNestingError();
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    if (Array.isArray(x)) {
      const ya = y as unknown[];
      if (x.length !== ya.length) return false;
      for (let i = 0; i < x.length; i++) work.push([x[i], ya[i], depth + 1]);
    } else {
      const xo = x as JsonObject;
      const yo = y as JsonObject;
      const keys = Object.keys(xo);
      if (keys.length !== Object.keys(yo).length) return false;
      for (const k of keys) {
        if (!Object.prototype.hasOwnProperty.call(yo, k)) return false;
        work.push([xo[k], yo[k], depth + 1]);
      }
    }
  }
  return true;
}

/** Length of the compact JSON encoding of a decoded value, computed without recursion. */
export function jsonEncodedLength(value: unknown): number {
  let total = 0;
  const work: Array<[unknown, number]> = [[value, 0]];
  while (work.length) {
    const [v, depth] = work.pop()!;
    if (v === null || typeof v !== 'object') {
      total += (JSON.stringify(v) ?? 'null').length;
      continue;
    }
    if (depth >= MAX_JSON_NESTING_DEPTH) throw new JsonNestingError();
    if (Array.isArray(v)) {
      total += 2 + Math.max(0, v.length - 1);
      for (const item of v) work.push([item, depth + 1]);
    } else {
      const keys = Object.keys(v);
      total += 2 + Math.max(0, keys.length - 1);
      for (const k of keys) {
        total += JSON.stringify(k).length + 1;
        work.push([(v as JsonObject)[k], depth + 1]);
      }
    }
  }
  return total;
}
