/**
 * Validation of request bodies against schema nodes, as kube-apiserver does it: types and
 * formats, required fields, value validations (enum, pattern, bounds, lengths, sizes,
 * allOf/anyOf/oneOf/not), and unknown fields according to the request's `fieldValidation`.
 *
 * - Type errors are worded as the CRD validator words them:
 *   `spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`.
 * - Unknown fields are dropped from the returned value in every mode (built-in kinds decode into
 *   typed structs, CRDs are pruned); Strict also reports each one as a cause whose message is
 *   `unknown field "<path>"` (the handler turns those into kube's 400 `strict decoding error`),
 *   Warn reports them as warnings, Ignore and Prune drop them silently.
 * - A `null` for a field that is not `nullable` is treated as absent and dropped (Go decoding
 *   of built-in kinds; CRDs prune such nulls), so `creationTimestamp: null` from kubectl passes.
 * - `apiVersion`, `kind` and `metadata` are always known at the root and in embedded resources;
 *   metadata is validated as ObjectMeta whenever the resolver knows that definition.
 *
 * The input is never mutated: changed objects are copied along the changed path only. Compiled
 * schema nodes are cached per resolver, so validating the same kind again allocates little.
 */
import { fieldErrors, type StatusCause } from './errors.js';
import type { SchemaNode, SchemaResolver } from './schema.js';

export type UnknownFieldsMode = 'Strict' | 'Warn' | 'Ignore' | 'Prune';

export interface ValidationOptions {
  unknownFields: UnknownFieldsMode;
  /** Prefix of every reported field path (e.g. `spec.template` when validating a part of an object). */
  rootPath?: string;
}

export interface ValidationResult {
  causes: StatusCause[];
  warnings: string[];
  /** The value with unknown fields and non-nullable nulls removed (the input itself when nothing changed). */
  value: unknown;
}

const OBJECT_META_REF = '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const QUANTITY_DEFINITION = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING_DEFINITION = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
/** Deeper schema-guided nesting than any real object has; past it the value is rejected, not traversed. */
const MAX_DEPTH = 200;
const QUANTITY_PATTERN = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_LIMIT = 2 ** 63;

type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

/** A schema node prepared for validation: references resolved, lookups turned into maps and sets. */
interface CompiledNode {
  type?: SchemaNode['type'];
  format?: string;
  intOrString: boolean;
  quantity: boolean;
  /** No structural information: any value is accepted and kept as is. */
  anything: boolean;
  nullable: boolean;
  preserveUnknownFields: boolean;
  embeddedResource: boolean;
  properties?: Map<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  required?: string[];
  enumValues?: unknown[];
  enumPrimitives?: Set<unknown>;
  pattern?: RegExp;
  patternSource?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  allOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  not?: SchemaNode;
}

interface Context {
  mode: UnknownFieldsMode;
  causes: StatusCause[];
  warnings: string[];
  compiler: Compiler;
  /** Value-validation branches (anyOf…) only collect causes: they neither prune nor report unknown fields. */
  checkOnly: boolean;
}

class Compiler {
  private readonly cache = new WeakMap<SchemaNode, CompiledNode>();
  private objectMeta: CompiledNode | null | undefined;

  constructor(readonly resolver: SchemaResolver) {}

  compile(raw: SchemaNode | undefined): CompiledNode {
    if (!raw || typeof raw !== 'object') return ANYTHING;
    const cached = this.cache.get(raw);
    if (cached) return cached;
    const compiled = compileNode(raw, this.resolver);
    this.cache.set(raw, compiled);
    return compiled;
  }

  /** ObjectMeta as the resolver knows it, for `metadata` at the root and in embedded resources. */
  objectMetaNode(): CompiledNode | undefined {
    if (this.objectMeta === undefined) {
      let resolved: SchemaNode | undefined;
      try {
        resolved = this.resolver.resolve({ $ref: OBJECT_META_REF });
      } catch {
        resolved = undefined;
      }
      this.objectMeta = resolved && !resolved.$ref ? this.compile(resolved) : null;
    }
    return this.objectMeta ?? undefined;
  }
}

const ANYTHING: CompiledNode = {
  intOrString: false,
  quantity: false,
  anything: true,
  nullable: true,
  preserveUnknownFields: true,
  embeddedResource: false,
};

const compilers = new WeakMap<SchemaResolver, Compiler>();

function compilerFor(resolver: SchemaResolver): Compiler {
  let compiler = compilers.get(resolver);
  if (!compiler) {
    compiler = new Compiler(resolver);
    compilers.set(resolver, compiler);
  }
  return compiler;
}

function refName(ref: string | undefined): string | undefined {
  return ref ? ref.slice(ref.lastIndexOf('/') + 1) : undefined;
}

function compileNode(raw: SchemaNode, resolver: SchemaResolver): CompiledNode {
  let node: SchemaNode = raw;
  const referenced = refName(raw.$ref) ?? refName(raw.allOf?.length === 1 ? raw.allOf[0].$ref : undefined);
  const resolved = resolver.resolve(raw);
  if (resolved && resolved !== raw) {
    // Keep the validations written beside a reference (`nullable`, extensions); the target gives the type.
    const siblings: SchemaNode = { ...raw };
    delete siblings.$ref;
    if (raw.allOf?.length === 1 && !raw.type && !raw.properties) delete siblings.allOf;
    node = { ...resolved, ...siblings };
  } else if (raw.$ref) {
    // A reference the resolver does not know: nothing can be checked.
    return ANYTHING;
  }

  const intOrString =
    node['x-kubernetes-int-or-string'] === true || node.format === 'int-or-string' || referenced === INT_OR_STRING_DEFINITION;
  const quantity = node.format === 'quantity' || referenced === QUANTITY_DEFINITION;
  const hasStructure = !!(
    node.type ||
    node.properties ||
    node.items ||
    node.additionalProperties !== undefined ||
    intOrString ||
    quantity
  );
  const compiled: CompiledNode = {
    type: node.type,
    format: node.format,
    intOrString,
    quantity,
    anything: false,
    nullable: node.nullable === true || !hasStructure,
    preserveUnknownFields: node['x-kubernetes-preserve-unknown-fields'] === true,
    embeddedResource: node['x-kubernetes-embedded-resource'] === true,
  };
  let validates = false;
  if (node.properties && typeof node.properties === 'object') compiled.properties = new Map(Object.entries(node.properties));
  if (node.additionalProperties !== undefined) compiled.additionalProperties = node.additionalProperties;
  if (node.items && typeof node.items === 'object' && !Array.isArray(node.items)) compiled.items = node.items;
  if (Array.isArray(node.required) && node.required.length) {
    compiled.required = node.required.filter((r) => typeof r === 'string');
    validates = true;
  }
  if (Array.isArray(node.enum) && node.enum.length) {
    compiled.enumValues = node.enum;
    compiled.enumPrimitives = new Set(node.enum.filter((v) => v === null || typeof v !== 'object'));
    validates = true;
  }
  if (typeof node.pattern === 'string') {
    compiled.pattern = compilePattern(node.pattern);
    compiled.patternSource = node.pattern;
    validates = true;
  }
  for (const key of [
    'minimum',
    'maximum',
    'minLength',
    'maxLength',
    'minItems',
    'maxItems',
    'minProperties',
    'maxProperties',
  ] as const) {
    if (typeof node[key] === 'number') {
      compiled[key] = node[key];
      validates = true;
    }
  }
  const multipleOf = (node as { multipleOf?: unknown }).multipleOf;
  if (typeof multipleOf === 'number' && multipleOf > 0) {
    compiled.multipleOf = multipleOf;
    validates = true;
  }
  if (node.exclusiveMinimum === true) compiled.exclusiveMinimum = true;
  if (node.exclusiveMaximum === true) compiled.exclusiveMaximum = true;
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    const branches = node[key];
    if (Array.isArray(branches) && branches.length) {
      compiled[key] = branches.filter((b) => b && typeof b === 'object');
      validates = true;
    }
  }
  if (node.not && typeof node.not === 'object') {
    compiled.not = node.not;
    validates = true;
  }
  // Nothing to check and nothing to prune: the value is taken as it is (RawExtension, JSON, `{}`).
  compiled.anything = !hasStructure && !validates;
  return compiled;
}

/** Go's RE2 and JavaScript agree on the patterns schemas use; one JavaScript cannot compile is not enforced. */
function compilePattern(source: string): RegExp | undefined {
  for (const flags of ['u', '']) {
    try {
      return new RegExp(source, flags);
    } catch {
      // try the next flavour
    }
  }
  return undefined;
}

function jsonType(value: unknown): JsonType | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    case 'object':
      return Array.isArray(value) ? 'array' : 'object';
    default:
      return undefined;
  }
}

function inBody(path: string): string {
  return path ? `${path} in body` : 'body';
}

function typeError(context: Context, path: string, actual: string, expected: string): void {
  context.causes.push(fieldErrors.typeInvalid(path, actual, `${inBody(path)} must be of type ${expected}: "${actual}"`));
}

function childPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Assigns an own property, even `__proto__`, without touching the prototype chain. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The string formats kube-apiserver rejects malformed values of (others are documentation only). */
function formatValid(format: string, value: string): boolean {
  switch (format) {
    case 'date-time':
      return DATE_TIME.test(value) && !Number.isNaN(Date.parse(value.toUpperCase()));
    case 'date':
      return DATE.test(value);
    case 'byte':
      return BASE64.test(value.replace(/\s+/g, ''));
    case 'uuid':
      return UUID.test(value);
    case 'ipv4':
      return IPV4.test(value);
    default:
      return true;
  }
}

function deepEqual(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true;
  if (depth > 64 || typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i], depth + 1));
  const ak = Object.keys(a as object);
  const bk = Object.keys(b as object);
  if (ak.length !== bk.length) return false;
  return ak.every(
    (k) =>
      Object.hasOwn(b as object, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], depth + 1),
  );
}

function enumLabel(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}

/** Validates `value` against `node`; returns the value with unknown fields and non-nullable nulls dropped. */
function visit(value: unknown, node: CompiledNode, path: string, depth: number, context: Context): unknown {
  if (depth > MAX_DEPTH) {
    context.causes.push(
      fieldErrors.invalid(path, jsonType(value) ?? 'unknown', `exceeds the maximum nesting depth of ${MAX_DEPTH}`),
    );
    return value;
  }
  if (node.anything) return value;
  const actual = jsonType(value);
  if (actual === undefined) {
    typeError(context, path, typeof value, expectedType(node));
    return value;
  }
  if (actual === 'null') {
    if (!node.nullable) typeError(context, path, 'null', expectedType(node));
    return value;
  }

  let result = value;
  if (node.intOrString) {
    if (actual !== 'integer' && actual !== 'string') {
      typeError(context, path, actual, 'integer or string');
      return value;
    }
    checkScalar(value, actual, node, path, context);
  } else if (node.quantity) {
    if (actual !== 'string' && actual !== 'integer' && actual !== 'number') {
      typeError(context, path, actual, 'string or number');
      return value;
    }
    if (actual === 'string' && !QUANTITY_PATTERN.test(value as string)) {
      context.causes.push(
        fieldErrors.invalid(path, value, `quantities must match the regular expression '${QUANTITY_PATTERN.source}'`),
      );
    }
  } else if (node.type && !typeMatches(node.type, actual)) {
    typeError(context, path, actual, node.type);
    return value;
  } else if (actual === 'object') {
    result = visitObject(value as Record<string, unknown>, node, path, depth, context);
  } else if (actual === 'array') {
    result = visitArray(value as unknown[], node, path, depth, context);
  } else {
    checkScalar(value, actual, node, path, context);
  }
  checkEnum(result, node, path, context);
  checkCombinators(result, node, path, depth, context);
  return result;
}

function expectedType(node: CompiledNode): string {
  if (node.intOrString) return 'integer or string';
  if (node.quantity) return 'string or number';
  return node.type ?? 'object';
}

function typeMatches(type: string, actual: JsonType): boolean {
  if (type === actual) return true;
  return type === 'number' && actual === 'integer';
}

function checkScalar(value: unknown, actual: JsonType, node: CompiledNode, path: string, context: Context): void {
  if (actual === 'string') {
    const text = value as string;
    if (node.format && !formatValid(node.format, text)) {
      context.causes.push(fieldErrors.typeInvalid(path, text, `${inBody(path)} must be of type ${node.format}: "${text}"`));
    }
    if (node.maxLength !== undefined && [...text].length > node.maxLength)
      context.causes.push(fieldErrors.tooLong(path, text, node.maxLength));
    if (node.minLength !== undefined && [...text].length < node.minLength) {
      context.causes.push(fieldErrors.invalid(path, text, `${inBody(path)} should be at least ${node.minLength} chars long`));
    }
    if (node.pattern && !node.pattern.test(text)) {
      context.causes.push(fieldErrors.invalid(path, text, `${inBody(path)} should match '${node.patternSource}'`));
    }
    return;
  }
  if (actual === 'integer' || actual === 'number') {
    const number = value as number;
    if (node.format === 'int32' && (number < INT32_MIN || number > INT32_MAX)) {
      const bound = number < INT32_MIN ? `greater than or equal to ${INT32_MIN}` : `less than or equal to ${INT32_MAX}`;
      context.causes.push(fieldErrors.invalid(path, number, `${inBody(path)} should be ${bound}`));
    } else if (node.format === 'int64' && (number >= INT64_LIMIT || number < -INT64_LIMIT)) {
      context.causes.push(fieldErrors.invalid(path, number, `${inBody(path)} must fit in a 64-bit integer`));
    }
    if (node.minimum !== undefined) {
      if (node.exclusiveMinimum ? number <= node.minimum : number < node.minimum) {
        const relation = node.exclusiveMinimum ? 'greater than' : 'greater than or equal to';
        context.causes.push(fieldErrors.invalid(path, number, `${inBody(path)} should be ${relation} ${node.minimum}`));
      }
    }
    if (node.maximum !== undefined) {
      if (node.exclusiveMaximum ? number >= node.maximum : number > node.maximum) {
        const relation = node.exclusiveMaximum ? 'less than' : 'less than or equal to';
        context.causes.push(fieldErrors.invalid(path, number, `${inBody(path)} should be ${relation} ${node.maximum}`));
      }
    }
    if (node.multipleOf !== undefined) {
      const quotient = number / node.multipleOf;
      if (Math.abs(quotient - Math.round(quotient)) > 1e-9) {
        context.causes.push(fieldErrors.invalid(path, number, `${inBody(path)} should be a multiple of ${node.multipleOf}`));
      }
    }
  }
}

function checkEnum(value: unknown, node: CompiledNode, path: string, context: Context): void {
  if (!node.enumValues) return;
  if (value === null || typeof value !== 'object') {
    if (node.enumPrimitives!.has(value)) return;
  } else if (node.enumValues.some((candidate) => deepEqual(candidate, value))) {
    return;
  }
  const shown = value === null || typeof value !== 'object' ? value : jsonType(value);
  context.causes.push(fieldErrors.notSupported(path, shown, node.enumValues.map(enumLabel)));
}

/** Runs a value-validation branch and reports whether it passed, without touching the main result. */
function branchPasses(value: unknown, raw: SchemaNode, path: string, depth: number, context: Context): boolean {
  const branch: Context = { mode: 'Ignore', causes: [], warnings: [], compiler: context.compiler, checkOnly: true };
  visit(value, context.compiler.compile(raw), path, depth + 1, branch);
  return branch.causes.length === 0;
}

function checkCombinators(value: unknown, node: CompiledNode, path: string, depth: number, context: Context): void {
  if (!node.allOf && !node.anyOf && !node.oneOf && !node.not) return;
  const quoted = JSON.stringify(path);
  const shown = jsonType(value) ?? 'unknown';
  if (node.allOf) {
    for (const raw of node.allOf) {
      const branch: Context = {
        mode: 'Ignore',
        causes: context.causes,
        warnings: [],
        compiler: context.compiler,
        checkOnly: true,
      };
      visit(value, context.compiler.compile(raw), path, depth + 1, branch);
    }
  }
  if (node.anyOf && !node.anyOf.some((raw) => branchPasses(value, raw, path, depth, context))) {
    context.causes.push(fieldErrors.invalid(path, shown, `${quoted} must validate at least one schema (anyOf)`));
  }
  if (node.oneOf) {
    const passing = node.oneOf.filter((raw) => branchPasses(value, raw, path, depth, context)).length;
    if (passing !== 1)
      context.causes.push(fieldErrors.invalid(path, shown, `${quoted} must validate one and only one schema (oneOf)`));
  }
  if (node.not && branchPasses(value, node.not, path, depth, context)) {
    context.causes.push(fieldErrors.invalid(path, shown, `${quoted} must not validate the schema (not)`));
  }
}

function visitArray(value: unknown[], node: CompiledNode, path: string, depth: number, context: Context): unknown[] {
  if (node.maxItems !== undefined && value.length > node.maxItems) {
    context.causes.push({
      reason: 'FieldValueTooMany',
      message: `Too many: ${value.length}: must have at most ${node.maxItems} items`,
      field: path,
    });
  }
  if (node.minItems !== undefined && value.length < node.minItems) {
    context.causes.push(fieldErrors.invalid(path, 'array', `${inBody(path)} should have at least ${node.minItems} items`));
  }
  if (!node.items) return value;
  const itemNode = context.compiler.compile(node.items);
  let out: unknown[] | undefined;
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    const next = visit(item, itemNode, `${path}[${i}]`, depth + 1, context);
    if (next !== item) {
      out ??= value.slice();
      out[i] = next;
    }
  }
  return out ?? value;
}

/** `apiVersion` and `kind` of a resource, known whether or not its schema declares them. */
const STRING_NODE: CompiledNode = {
  type: 'string',
  intOrString: false,
  quantity: false,
  anything: false,
  nullable: false,
  preserveUnknownFields: false,
  embeddedResource: false,
};

function visitObject(
  value: Record<string, unknown>,
  node: CompiledNode,
  path: string,
  depth: number,
  context: Context,
): Record<string, unknown> {
  const isResource = depth === 0 || node.embeddedResource;
  let out: Record<string, unknown> | undefined;
  let present = 0;
  const drop = (key: string): void => {
    out ??= { ...value };
    delete out[key];
  };

  for (const key of Object.keys(value)) {
    const child = value[key];
    if (child === undefined) continue;
    let childNode: CompiledNode | undefined;
    let childFieldPath: string;
    const declared = node.properties?.get(key);
    if (isResource && key === 'metadata') {
      // ObjectMeta is fixed for every kind; a CRD schema cannot change what metadata holds.
      childNode = context.compiler.objectMetaNode() ?? (declared !== undefined ? context.compiler.compile(declared) : ANYTHING);
      childFieldPath = childPath(path, key);
    } else if (declared !== undefined) {
      childNode = context.compiler.compile(declared);
      childFieldPath = childPath(path, key);
    } else if (isResource && (key === 'apiVersion' || key === 'kind')) {
      childNode = STRING_NODE;
      childFieldPath = childPath(path, key);
    } else if (node.additionalProperties !== undefined && node.additionalProperties !== false) {
      childNode = node.additionalProperties === true ? ANYTHING : context.compiler.compile(node.additionalProperties);
      childFieldPath = `${path}[${key}]`;
    } else if (node.preserveUnknownFields || (!node.properties && node.additionalProperties === undefined && !node.type)) {
      present++;
      continue;
    } else {
      if (!context.checkOnly) {
        const where = childPath(path, key);
        if (context.mode === 'Strict') context.causes.push(fieldErrors.unknownField(where));
        else if (context.mode === 'Warn') context.warnings.push(`unknown field "${where}"`);
        drop(key);
      }
      continue;
    }
    if (child === null && !childNode.nullable) {
      // Go decoding leaves the zero value and CRDs prune such nulls: either way the field is absent.
      if (!context.checkOnly) drop(key);
      continue;
    }
    present++;
    const next = visit(child, childNode, childFieldPath, depth + 1, context);
    if (next !== child && !context.checkOnly) {
      out ??= { ...value };
      setOwn(out, key, next);
    }
  }

  const result = out ?? value;
  if (node.required) {
    for (const name of node.required) {
      if (!Object.hasOwn(result, name) || result[name] === undefined)
        context.causes.push(fieldErrors.required(childPath(path, name)));
    }
  }
  if (node.embeddedResource) {
    for (const name of ['apiVersion', 'kind']) {
      if (typeof result[name] !== 'string' || result[name] === '') {
        context.causes.push(fieldErrors.required(childPath(path, name), 'must not be empty'));
      }
    }
  }
  if (node.maxProperties !== undefined && present > node.maxProperties) {
    context.causes.push(
      fieldErrors.invalid(path, 'object', `${inBody(path)} should have at most ${node.maxProperties} properties`),
    );
  }
  if (node.minProperties !== undefined && present < node.minProperties) {
    context.causes.push(
      fieldErrors.invalid(path, 'object', `${inBody(path)} should have at least ${node.minProperties} properties`),
    );
  }
  return result;
}

/**
 * Validates a decoded request body against a schema. Never throws: a failure inside the
 * validator itself is reported as a cause on the root path.
 */
export function validateAgainstSchema(
  value: unknown,
  schema: SchemaNode,
  resolver: SchemaResolver,
  options: ValidationOptions,
): ValidationResult {
  const context: Context = {
    mode: options.unknownFields,
    causes: [],
    warnings: [],
    compiler: compilerFor(resolver),
    checkOnly: false,
  };
  const rootPath = options.rootPath ?? '';
  let result = value;
  try {
    const root = context.compiler.compile(schema);
    if (value === null || value === undefined) {
      typeError(context, rootPath, value === null ? 'null' : 'undefined', expectedType(root));
    } else {
      result = visit(value, root, rootPath, 0, context);
    }
  } catch (err) {
    context.causes.push(
      fieldErrors.invalid(rootPath, 'object', `could not be validated: ${err instanceof Error ? err.message : String(err)}`),
    );
  }
  return { causes: context.causes, warnings: context.warnings, value: result };
}
