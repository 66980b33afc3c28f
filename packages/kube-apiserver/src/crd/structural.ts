/**
 * Static checks of a CustomResourceDefinition's `openAPIV3Schema`, as apiextensions-apiserver
 * makes them before it accepts a CRD:
 *
 * - the OpenAPI subset CRDs may use (pkg/apis/apiextensions/validation: no `$ref`, `id`,
 *   `patternProperties`, `uniqueItems`…; `additionalProperties` and `properties` exclusive; the
 *   `x-kubernetes-list-type` / `-list-map-keys` / `-map-type` rules; no defaults in top-level
 *   metadata);
 * - structurality (pkg/apiserver/schema: `ValidateStructural`): every specified node has a type
 *   unless it preserves unknown fields or is int-or-string, value validations (`allOf`, `anyOf`,
 *   `oneOf`, `not`) carry no types, descriptions or defaults and only mention fields specified
 *   outside of them, root metadata restricts at most `name` and `generateName`;
 * - defaults (pkg/apiserver/schema/defaulting: `ValidateDefaults`): each default validates
 *   against its own schema and has no field the schema would prune.
 *
 * Schemas arrive straight from users, so every reader here accepts any JSON and never throws.
 * Field paths and messages are kube's, e.g.
 * `spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields`.
 */
import {
  definitionsResolver,
  fieldErrors,
  jsonDeepEqual,
  validateAgainstSchema,
  type SchemaNode,
  type StatusCause,
} from '@canopy/apimachinery';

/** A schema node as decoded from JSON: any keys, any values. */
export type RawSchema = Record<string, unknown>;

export function isRawSchema(value: unknown): value is RawSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Field paths (k8s.io/apimachinery/pkg/util/validation/field.Path)

export function child(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

export function key(path: string, name: string): string {
  return `${path}[${name}]`;
}

export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

// ---------------------------------------------------------------------------------------------
// Readers

function str(node: RawSchema, name: string): string {
  const value = node[name];
  return typeof value === 'string' ? value : '';
}

function isTrue(node: RawSchema, name: string): boolean {
  return node[name] === true;
}

/** Go decodes JSON `null` into a nil pointer: a `default: null` is no default. */
export function hasDefault(node: RawSchema): boolean {
  return node.default !== undefined && node.default !== null;
}

export function propertiesOf(node: RawSchema): Array<[string, RawSchema]> {
  const properties = node.properties;
  if (!isRawSchema(properties)) return [];
  return Object.entries(properties).filter((entry): entry is [string, RawSchema] => isRawSchema(entry[1]));
}

export function propertyOf(node: RawSchema, name: string): RawSchema | undefined {
  const properties = node.properties;
  if (!isRawSchema(properties) || !Object.hasOwn(properties, name)) return undefined;
  const value = properties[name];
  return isRawSchema(value) ? value : undefined;
}

/** `items` when it is one schema (an array of schemas is not allowed in CRDs). */
export function itemsOf(node: RawSchema): RawSchema | undefined {
  return isRawSchema(node.items) ? node.items : undefined;
}

/** JSONSchemaPropsOrBool: present whenever `additionalProperties` is set to a schema or a boolean. */
function hasAdditionalProperties(node: RawSchema): boolean {
  return node.additionalProperties !== undefined && node.additionalProperties !== null;
}

export function additionalPropertiesOf(node: RawSchema): RawSchema | undefined {
  return isRawSchema(node.additionalProperties) ? node.additionalProperties : undefined;
}

function schemaList(node: RawSchema, name: 'allOf' | 'anyOf' | 'oneOf'): RawSchema[] {
  const value = node[name];
  return Array.isArray(value) ? value.filter(isRawSchema) : [];
}

function stringList(node: RawSchema, name: string): string[] {
  const value = node[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function nonEmptyObject(value: unknown): boolean {
  return isRawSchema(value) && Object.keys(value).length > 0;
}

function nonEmptyList(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}

/**
 * Visits `node` and every schema below it (items, properties, additionalProperties, the value
 * validations and the unsupported containers kube still walks) until `predicate` holds.
 */
export function schemaHas(node: unknown, predicate: (node: RawSchema) => boolean, depth = 0): boolean {
  if (!isRawSchema(node) || depth > 200) return false;
  if (predicate(node)) return true;
  const children: unknown[] = [];
  if (Array.isArray(node.items)) children.push(...node.items);
  else children.push(node.items);
  for (const name of ['allOf', 'anyOf', 'oneOf'] as const)
    if (Array.isArray(node[name])) children.push(...(node[name] as unknown[]));
  children.push(node.not, node.additionalProperties, node.additionalItems);
  for (const container of ['properties', 'patternProperties', 'definitions', 'dependencies']) {
    const value = node[container];
    if (isRawSchema(value)) children.push(...Object.values(value));
  }
  return children.some((c) => schemaHas(c, predicate, depth + 1));
}

// ---------------------------------------------------------------------------------------------
// NewStructural: the fields that cannot be represented in a structural schema at all

/**
 * The error NewStructural returns for `schema`, or undefined when it converts. kube reports it
 * only when no other schema error was found (the same fields are reported more precisely by the
 * OpenAPI checks), and skips the structural checks when it is set.
 */
export function structuralConversionError(schema: unknown): string | undefined {
  return conversionError(schema, 0);
}

function conversionError(node: unknown, depth: number): string | undefined {
  if (!isRawSchema(node) || depth > 200) return undefined;
  if (str(node, 'id')) return "OpenAPIV3Schema 'id' is not supported";
  if (str(node, '$schema')) return "OpenAPIV3Schema 'schema' is not supported";
  if (str(node, '$ref')) return "OpenAPIV3Schema '$ref' is not supported";
  if (nonEmptyObject(node.patternProperties)) return "OpenAPIV3Schema 'patternProperties' is not supported";
  if (nonEmptyObject(node.dependencies)) return "OpenAPIV3Schema 'dependencies' is not supported";
  if (node.additionalItems !== undefined && node.additionalItems !== null)
    return "OpenAPIV3Schema 'additionalItems' is not supported";
  if (nonEmptyObject(node.definitions)) return "OpenAPIV3Schema 'definitions' is not supported";
  const nested = [node.not, ...schemaList(node, 'allOf'), ...schemaList(node, 'anyOf'), ...schemaList(node, 'oneOf')];
  for (const n of nested) {
    const err = conversionError(n, depth + 1);
    if (err) return err;
  }
  const additional = conversionError(additionalPropertiesOf(node), depth + 1);
  if (additional) return additional;
  if (node['x-kubernetes-preserve-unknown-fields'] === false) {
    return "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined";
  }
  if (Array.isArray(node.items) && node.items.length > 0) return "OpenAPIV3Schema 'items' must be a schema, but is an array";
  const items = conversionError(itemsOf(node), depth + 1);
  if (items) return items;
  for (const [, property] of propertiesOf(node)) {
    const err = conversionError(property, depth + 1);
    if (err) return err;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// ValidateStructural

type Level = 'root' | 'item' | 'field';

const EMPTY_TYPE_DETAIL: Record<Level, string> = {
  root: 'must not be empty at the root',
  item: 'must not be empty for specified array items',
  field: 'must not be empty for specified object fields',
};

/**
 * ValidateStructural: the structural invariants and the completeness of value validations.
 * Causes are sorted by their text, as kube sorts them.
 */
export function validateStructural(schema: RawSchema, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  structuralInvariants(schema, 'root', path, causes, 0);
  valueValidationCompleteness(schema, schema, path, path, causes, 0);
  return causes.sort((a, b) => {
    const left = `${a.field}: ${a.message}`;
    const right = `${b.field}: ${b.message}`;
    return left < right ? -1 : left > right ? 1 : 0;
  });
}

/** Whether a schema passes NewStructural and ValidateStructural. */
export function isStructural(schema: unknown): boolean {
  return isRawSchema(schema) && !structuralConversionError(schema) && validateStructural(schema, '').length === 0;
}

function structuralInvariants(s: RawSchema, level: Level, path: string, causes: StatusCause[], depth: number): void {
  if (depth > 200) return;
  const type = str(s, 'type');
  const items = itemsOf(s);
  if (type === 'array' && !items) causes.push(fieldErrors.required(child(path, 'items'), 'must be specified'));
  if (items) structuralInvariants(items, 'item', child(path, 'items'), causes, depth + 1);
  for (const [name, property] of propertiesOf(s)) {
    structuralInvariants(property, 'field', key(child(path, 'properties'), name), causes, depth + 1);
  }
  if (hasAdditionalProperties(s)) {
    if (level === 'root') causes.push(fieldErrors.forbidden(child(path, 'additionalProperties'), 'must not be used at the root'));
    const additional = additionalPropertiesOf(s);
    if (additional) structuralInvariants(additional, 'field', child(path, 'additionalProperties'), causes, depth + 1);
  }

  const intOrString = isTrue(s, 'x-kubernetes-int-or-string');
  const preserveUnknownFields = isTrue(s, 'x-kubernetes-preserve-unknown-fields');
  const embeddedResource = isTrue(s, 'x-kubernetes-embedded-resource');
  if (intOrString && preserveUnknownFields) {
    causes.push(
      fieldErrors.invalid(
        child(path, 'x-kubernetes-preserve-unknown-fields'),
        true,
        'must be false if x-kubernetes-int-or-string is true',
      ),
    );
  }
  if (intOrString && embeddedResource) {
    causes.push(
      fieldErrors.invalid(
        child(path, 'x-kubernetes-embedded-resource'),
        true,
        'must be false if x-kubernetes-int-or-string is true',
      ),
    );
  }

  valueValidation(s, isIntOrStringAnyOf(s), isIntOrStringAllOf(s), level, path, causes, depth);

  const checkMetadata = level === 'root' || embeddedResource;
  if (embeddedResource && type !== 'object') {
    const detail = 'must be object if x-kubernetes-embedded-resource is true';
    causes.push(
      type ? fieldErrors.invalid(child(path, 'type'), type, detail) : fieldErrors.required(child(path, 'type'), detail),
    );
  } else if (!type && !intOrString && !preserveUnknownFields) {
    causes.push(fieldErrors.required(child(path, 'type'), EMPTY_TYPE_DETAIL[level]));
  }
  if (embeddedResource && hasAdditionalProperties(s)) {
    causes.push(
      fieldErrors.forbidden(child(path, 'additionalProperties'), 'must not be used if x-kubernetes-embedded-resource is set'),
    );
  }
  if (level === 'root' && type && type !== 'object')
    causes.push(fieldErrors.invalid(child(path, 'type'), type, 'must be object at the root'));

  if (checkMetadata) {
    for (const name of ['kind', 'apiVersion']) {
      const property = propertyOf(s, name);
      if (property && str(property, 'type') !== 'string') {
        causes.push(
          fieldErrors.invalid(child(key(child(path, 'properties'), name), 'type'), str(property, 'type'), 'must be string'),
        );
      }
    }
  }
  const metadata = propertyOf(s, 'metadata');
  if (metadata) metadataInvariants(metadata, checkMetadata, level, key(child(path, 'properties'), 'metadata'), causes);

  if (embeddedResource && !preserveUnknownFields && propertiesOf(s).length === 0) {
    causes.push(
      fieldErrors.required(
        child(path, 'properties'),
        'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields',
      ),
    );
  }
}

/** The keys a structural schema keeps (NewStructural drops `example`, `externalDocs` and unknown keys). */
const STRUCTURAL_KEYS = [
  'type',
  'description',
  'title',
  'default',
  'nullable',
  'additionalProperties',
  'items',
  'properties',
  'format',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'multipleOf',
  'enum',
  'maxProperties',
  'minProperties',
  'required',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
];

/** Whether a key holds something other than Go's zero value for its field. */
function isSet(node: RawSchema, name: string): boolean {
  const value = node[name];
  if (Array.isArray(value)) return value.length > 0;
  return value !== undefined && value !== null && value !== false && value !== '';
}

function metadataInvariants(s: RawSchema, checkMetadata: boolean, level: Level, path: string, causes: StatusCause[]): void {
  if (checkMetadata && str(s, 'type') !== 'object') {
    causes.push(fieldErrors.invalid(child(path, 'type'), str(s, 'type'), 'must be object'));
  }
  if (level !== 'root') return;
  // At the root only name and generateName may be restricted; anything else would narrow what
  // ObjectMeta holds, which the server fills in itself.
  const names = propertiesOf(s).map(([name]) => name);
  const onlyNames =
    names.length > 0 &&
    names.length <= 2 &&
    names.every((n) => n === 'name' || n === 'generateName') &&
    new Set(names).size === names.length;
  const offending = STRUCTURAL_KEYS.filter((name) => {
    if (name === 'type' || name === 'default') return false;
    if (name === 'properties') return isSet(s, name) && !onlyNames && names.length > 0;
    return isSet(s, name);
  });
  if (offending.length > 0) {
    causes.push(
      fieldErrors.forbidden(
        path,
        'must not specify anything other than name and generateName, but metadata is implicitly specified',
      ),
    );
  }
}

/** `anyOf: [{type: integer}, {type: string}]` exactly, the IntOrString pattern kube allows. */
function isIntOrStringPattern(branches: unknown): boolean {
  if (!Array.isArray(branches) || branches.length !== 2) return false;
  return (['integer', 'string'] as const).every((type, i) => {
    const branch = branches[i];
    if (!isRawSchema(branch)) return false;
    return branch.type === type && STRUCTURAL_KEYS.every((name) => name === 'type' || !isSet(branch, name));
  });
}

function isIntOrStringAnyOf(s: RawSchema): boolean {
  return isIntOrStringPattern(s.anyOf);
}

function isIntOrStringAllOf(s: RawSchema): boolean {
  const allOf = schemaList(s, 'allOf');
  return allOf.length >= 1 && isIntOrStringPattern(allOf[0].anyOf);
}

function valueValidation(
  v: RawSchema,
  skipAnyOf: boolean,
  skipFirstAllOfAnyOf: boolean,
  level: Level,
  path: string,
  causes: StatusCause[],
  depth: number,
): void {
  if (depth > 200) return;
  if (!skipAnyOf) {
    schemaList(v, 'anyOf').forEach((branch, i) =>
      nestedValueValidation(branch, false, false, level, index(child(path, 'anyOf'), i), causes, depth + 1),
    );
  }
  schemaList(v, 'allOf').forEach((branch, i) =>
    nestedValueValidation(
      branch,
      skipFirstAllOfAnyOf && i === 0,
      false,
      level,
      index(child(path, 'allOf'), i),
      causes,
      depth + 1,
    ),
  );
  schemaList(v, 'oneOf').forEach((branch, i) =>
    nestedValueValidation(branch, false, false, level, index(child(path, 'oneOf'), i), causes, depth + 1),
  );
  if (isRawSchema(v.not)) nestedValueValidation(v.not, false, false, level, child(path, 'not'), causes, depth + 1);
  const pattern = str(v, 'pattern');
  if (pattern) {
    const problem = regexpProblem(pattern);
    if (problem)
      causes.push(
        fieldErrors.invalid(child(path, 'pattern'), pattern, `must be a valid regular expression, but isn't: ${problem}`),
      );
  }
}

function nestedValueValidation(
  v: RawSchema,
  skipAnyOf: boolean,
  skipAllOfAnyOf: boolean,
  level: Level,
  path: string,
  causes: StatusCause[],
  depth: number,
): void {
  valueValidation(v, skipAnyOf, skipAllOfAnyOf, level, path, causes, depth);
  const items = itemsOf(v);
  if (items) nestedValueValidation(items, false, false, level, child(path, 'items'), causes, depth + 1);
  for (const [name, property] of propertiesOf(v)) {
    nestedValueValidation(property, false, false, 'field', key(child(path, 'properties'), name), causes, depth + 1);
  }
  if (isSet(v, 'type')) causes.push(fieldErrors.forbidden(child(path, 'type'), 'must be empty to be structural'));
  if (hasAdditionalProperties(v))
    causes.push(fieldErrors.forbidden(child(path, 'additionalProperties'), 'must be undefined to be structural'));
  if (hasDefault(v)) causes.push(fieldErrors.forbidden(child(path, 'default'), 'must be undefined to be structural'));
  if (isSet(v, 'title')) causes.push(fieldErrors.forbidden(child(path, 'title'), 'must be empty to be structural'));
  if (isSet(v, 'description')) causes.push(fieldErrors.forbidden(child(path, 'description'), 'must be empty to be structural'));
  if (isTrue(v, 'nullable')) causes.push(fieldErrors.forbidden(child(path, 'nullable'), 'must be false to be structural'));
  for (const extension of [
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-embedded-resource',
    'x-kubernetes-int-or-string',
  ]) {
    if (isTrue(v, extension)) causes.push(fieldErrors.forbidden(child(path, extension), 'must be false to be structural'));
  }
  if (nonEmptyList(v['x-kubernetes-list-map-keys'])) {
    causes.push(fieldErrors.forbidden(child(path, 'x-kubernetes-list-map-keys'), 'must be empty to be structural'));
  }
  for (const extension of ['x-kubernetes-list-type', 'x-kubernetes-map-type']) {
    if (v[extension] !== undefined && v[extension] !== null)
      causes.push(fieldErrors.forbidden(child(path, extension), 'must be undefined to be structural'));
  }
  if (nonEmptyList(v['x-kubernetes-validations'])) {
    causes.push(fieldErrors.forbidden(child(path, 'x-kubernetes-validations'), 'must be empty to be structural'));
  }
  // Reasoning about metadata inside value validations could restrict metadata in ways the server cannot honour.
  if (propertyOf(v, 'metadata')) {
    causes.push(fieldErrors.forbidden(key(child(path, 'properties'), 'metadata'), 'must not be specified in a nested context'));
  }
}

/**
 * Go's RE2 refuses what JavaScript also refuses, plus the Perl features RE2 does not implement
 * (lookaround, backreferences, possessive quantifiers). Returns a description of the problem.
 */
export function regexpProblem(pattern: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1];
      if (!inClass && next !== undefined && next >= '1' && next <= '9')
        return `error parsing regexp: invalid escape sequence: \`\\${next}\``;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++;
      continue;
    }
    if (c === '(' && pattern[i + 1] === '?' && /^<?[=!]/.test(pattern.slice(i + 2))) {
      return `error parsing regexp: invalid or unsupported Perl syntax: \`${pattern.slice(i, i + 3)}\``;
    }
    if ((c === '*' || c === '+' || c === '?') && pattern[i + 1] === '+') {
      return `error parsing regexp: invalid nested repetition operator: \`${c}+\``;
    }
  }
  for (const flags of ['u', '']) {
    try {
      new RegExp(pattern, flags);
      return undefined;
    } catch (err) {
      if (flags === '') return `error parsing regexp: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  return undefined;
}

/** Every field or item a value validation mentions must be specified in the structural part (checked from the root). */
function valueValidationCompleteness(
  v: RawSchema,
  s: RawSchema | undefined,
  sPath: string,
  vPath: string,
  causes: StatusCause[],
  depth: number,
): void {
  if (depth > 200) return;
  if (!s) {
    causes.push(fieldErrors.required(sPath, `because it is defined in ${vPath}`));
    return;
  }
  if (isRawSchema(v.not)) nestedCompleteness(v.not, s, sPath, child(vPath, 'not'), causes, depth + 1);
  for (const name of ['allOf', 'anyOf', 'oneOf'] as const) {
    schemaList(v, name).forEach((branch, i) =>
      nestedCompleteness(branch, s, sPath, index(child(vPath, name), i), causes, depth + 1),
    );
  }
}

function nestedCompleteness(
  v: RawSchema,
  s: RawSchema | undefined,
  sPath: string,
  vPath: string,
  causes: StatusCause[],
  depth: number,
): void {
  if (!s) {
    causes.push(fieldErrors.required(sPath, `because it is defined in ${vPath}`));
    return;
  }
  valueValidationCompleteness(v, s, sPath, vPath, causes, depth);
  const items = itemsOf(v);
  if (items) nestedCompleteness(items, itemsOf(s), child(sPath, 'items'), child(vPath, 'items'), causes, depth + 1);
  for (const [name, property] of propertiesOf(v)) {
    const structural = propertyOf(s, name);
    const sChild = key(child(sPath, 'properties'), name);
    const vChild = key(child(vPath, 'properties'), name);
    if (!structural) causes.push(fieldErrors.required(sChild, `because it is defined in ${vChild}`));
    else nestedCompleteness(property, structural, sChild, vChild, causes, depth + 1);
  }
}

// ---------------------------------------------------------------------------------------------
// ValidateCustomResourceDefinitionOpenAPISchema

export interface OpenAPISchemaOptions {
  /** `type` must be one of the OpenAPI v3 types (relaxed on update when the old CRD had others). */
  requireValidPropertyType: boolean;
  /** Items of `x-kubernetes-list-type: set` must be atomic. */
  requireAtomicSetType: boolean;
  /** Map-list keys are required or defaulted and not nullable; set/map items are not nullable. */
  requireMapListKeysMapSetValidation: boolean;
}

interface NodeContext {
  allowDefaults: boolean;
  disallowDefaultsReason: string;
  insideResourceMeta: boolean;
}

const OPENAPI_V3_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const META_FIELDS = new Set(['metadata', 'kind', 'apiVersion']);
const VALIDATION_RULE_REASONS = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];

/** The checks of the OpenAPI subset every node of a CRD schema must keep to. */
export function validateOpenAPISchema(schema: RawSchema, path: string, options: OpenAPISchemaOptions): StatusCause[] {
  const causes: StatusCause[] = [];
  openAPISchema(
    schema,
    path,
    { allowDefaults: true, disallowDefaultsReason: '', insideResourceMeta: false },
    true,
    options,
    causes,
    0,
  );
  return causes;
}

function forbidDefaults(context: NodeContext, reason: string): NodeContext {
  return { ...context, allowDefaults: false, disallowDefaultsReason: reason };
}

function openAPISchema(
  s: RawSchema,
  path: string,
  context: NodeContext,
  isRoot: boolean,
  options: OpenAPISchemaOptions,
  causes: StatusCause[],
  depth: number,
): void {
  if (depth > 200) return;
  standardChecks(s, path, context, options, causes);

  if (isTrue(s, 'uniqueItems')) {
    causes.push(
      fieldErrors.forbidden(
        child(path, 'uniqueItems'),
        'uniqueItems cannot be set to true since the runtime complexity becomes quadratic',
      ),
    );
  }
  // properties are for structs, additionalProperties for maps: both would contradict the
  // convention that unknown fields are dropped.
  if (hasAdditionalProperties(s)) {
    if (propertiesOf(s).length > 0 && (s.additionalProperties === false || isRawSchema(s.additionalProperties))) {
      causes.push(
        fieldErrors.forbidden(child(path, 'additionalProperties'), 'additionalProperties and properties are mutual exclusive'),
      );
    }
    const additional = additionalPropertiesOf(s);
    if (additional) {
      const sub = context.insideResourceMeta
        ? forbidDefaults(context, 'inside additionalProperties applying to object metadata')
        : context;
      openAPISchema(additional, child(path, 'additionalProperties'), sub, false, options, causes, depth + 1);
    }
  }
  for (const [name, property] of propertiesOf(s)) {
    let sub = context;
    if ((isRoot || isTrue(s, 'x-kubernetes-embedded-resource')) && META_FIELDS.has(name)) {
      sub = { ...sub, insideResourceMeta: true };
      if (isRoot) sub = forbidDefaults(sub, `in top-level ${name}`);
    }
    openAPISchema(property, key(child(path, 'properties'), name), sub, false, options, causes, depth + 1);
  }
  if (isRawSchema(s.not)) openAPISchema(s.not, child(path, 'not'), context, false, options, causes, depth + 1);
  for (const name of ['allOf', 'oneOf', 'anyOf'] as const) {
    schemaList(s, name).forEach((branch, i) =>
      openAPISchema(branch, index(child(path, name), i), context, false, options, causes, depth + 1),
    );
  }
  if (isRawSchema(s.definitions)) {
    for (const [name, definition] of Object.entries(s.definitions)) {
      if (isRawSchema(definition))
        openAPISchema(definition, key(child(path, 'definitions'), name), context, false, options, causes, depth + 1);
    }
  }
  if (isRawSchema(s.items)) openAPISchema(s.items, child(path, 'items'), context, false, options, causes, depth + 1);
  else if (Array.isArray(s.items)) {
    s.items.forEach((item, i) => {
      if (isRawSchema(item)) openAPISchema(item, index(child(path, 'items'), i), context, false, options, causes, depth + 1);
    });
  }
  if (isRawSchema(s.dependencies)) {
    for (const [name, dependency] of Object.entries(s.dependencies)) {
      if (isRawSchema(dependency))
        openAPISchema(dependency, key(child(path, 'dependencies'), name), context, false, options, causes, depth + 1);
    }
  }

  if (s['x-kubernetes-preserve-unknown-fields'] === false) {
    causes.push(fieldErrors.invalid(child(path, 'x-kubernetes-preserve-unknown-fields'), false, 'must be true or undefined'));
  }
  listAndMapTypeChecks(s, path, options, causes);
  if (options.requireMapListKeysMapSetValidation) causes.push(...mapListKeysMapSetProblems(s, path));
  validationRuleChecks(s, path, causes);
}

function standardChecks(
  s: RawSchema,
  path: string,
  context: NodeContext,
  options: OpenAPISchemaOptions,
  causes: StatusCause[],
): void {
  const type = str(s, 'type');
  if (options.requireValidPropertyType && type && !OPENAPI_V3_TYPES.includes(type)) {
    causes.push(fieldErrors.notSupported(child(path, 'type'), type, OPENAPI_V3_TYPES));
  }
  if (hasDefault(s) && !context.allowDefaults) {
    const detail = context.disallowDefaultsReason ? `must not be set ${context.disallowDefaultsReason}` : 'must not be set';
    causes.push(fieldErrors.forbidden(child(path, 'default'), detail));
  }
  if (str(s, 'id')) causes.push(fieldErrors.forbidden(child(path, 'id'), 'id is not supported'));
  if (s.additionalItems !== undefined && s.additionalItems !== null) {
    causes.push(fieldErrors.forbidden(child(path, 'additionalItems'), 'additionalItems is not supported'));
  }
  if (nonEmptyObject(s.patternProperties))
    causes.push(fieldErrors.forbidden(child(path, 'patternProperties'), 'patternProperties is not supported'));
  if (nonEmptyObject(s.definitions))
    causes.push(fieldErrors.forbidden(child(path, 'definitions'), 'definitions is not supported'));
  if (s.dependencies !== undefined && s.dependencies !== null) {
    causes.push(fieldErrors.forbidden(child(path, 'dependencies'), 'dependencies is not supported'));
  }
  if (typeof s.$ref === 'string') causes.push(fieldErrors.forbidden(child(path, '$ref'), '$ref is not supported'));
  if (type === 'null')
    causes.push(fieldErrors.forbidden(child(path, 'type'), 'type cannot be set to null, use nullable as an alternative'));
  if (nonEmptyList(s.items))
    causes.push(fieldErrors.forbidden(child(path, 'items'), 'items must be a schema object and not an array'));
  if (context.insideResourceMeta && isTrue(s, 'x-kubernetes-embedded-resource')) {
    causes.push(fieldErrors.forbidden(child(path, 'x-kubernetes-embedded-resource'), 'must not be used inside of resource meta'));
  }
}

function listAndMapTypeChecks(s: RawSchema, path: string, options: OpenAPISchemaOptions, causes: StatusCause[]): void {
  const type = str(s, 'type');
  const mapType = s['x-kubernetes-map-type'];
  const listType = s['x-kubernetes-list-type'];
  const hasMapType = mapType !== undefined && mapType !== null;
  const hasListType = listType !== undefined && listType !== null;
  const items = itemsOf(s);

  if (hasMapType && type !== 'object') {
    const detail = 'must be object if x-kubernetes-map-type is specified';
    causes.push(
      type ? fieldErrors.invalid(child(path, 'type'), type, detail) : fieldErrors.required(child(path, 'type'), detail),
    );
  }
  if (hasMapType && mapType !== 'atomic' && mapType !== 'granular') {
    causes.push(fieldErrors.notSupported(child(path, 'x-kubernetes-map-type'), mapType, ['atomic', 'granular']));
  }

  if (hasListType && type !== 'array') {
    const detail = 'must be array if x-kubernetes-list-type is specified';
    causes.push(
      type ? fieldErrors.invalid(child(path, 'type'), type, detail) : fieldErrors.required(child(path, 'type'), detail),
    );
  } else if (options.requireAtomicSetType && listType === 'set' && items) {
    causes.push(...nonAtomicSetItemProblems(items, path));
  }
  if (hasListType && listType !== 'atomic' && listType !== 'set' && listType !== 'map') {
    causes.push(fieldErrors.notSupported(child(path, 'x-kubernetes-list-type'), listType, ['atomic', 'set', 'map']));
  }

  const mapKeys = stringList(s, 'x-kubernetes-list-map-keys');
  if (mapKeys.length > 0) {
    const detail = 'must be map if x-kubernetes-list-map-keys is non-empty';
    if (!hasListType) causes.push(fieldErrors.required(child(path, 'x-kubernetes-list-type'), detail));
    else if (listType !== 'map') causes.push(fieldErrors.invalid(child(path, 'x-kubernetes-list-type'), listType, detail));
  }

  if (listType === 'map') {
    if (mapKeys.length === 0) {
      causes.push(
        fieldErrors.required(child(path, 'x-kubernetes-list-map-keys'), 'must not be empty if x-kubernetes-list-type is map'),
      );
    }
    if (s.items === undefined || s.items === null) {
      causes.push(fieldErrors.required(child(path, 'items'), 'must have a schema if x-kubernetes-list-type is map'));
    } else if (!items) {
      causes.push(
        fieldErrors.invalid(child(path, 'items'), s.items, 'must only have a single schema if x-kubernetes-list-type is map'),
      );
    } else if (str(items, 'type') !== 'object') {
      causes.push(
        fieldErrors.invalid(
          child(child(path, 'items'), 'type'),
          str(items, 'type'),
          "must be object if parent array's x-kubernetes-list-type is map",
        ),
      );
    } else {
      const seen = new Set<string>();
      for (const mapKey of mapKeys) {
        const property = propertyOf(items, mapKey);
        if (property) {
          const keyType = str(property, 'type');
          if (keyType === 'array' || keyType === 'object') {
            // kube reports the items' type here, not the key's.
            causes.push(
              fieldErrors.invalid(
                child(key(child(child(path, 'items'), 'properties'), mapKey), 'type'),
                str(items, 'type'),
                "must be a scalar type if parent array's x-kubernetes-list-type is map",
              ),
            );
          }
        } else {
          causes.push(
            fieldErrors.invalid(
              child(path, 'x-kubernetes-list-map-keys'),
              mapKeys,
              'entries must all be names of item properties',
            ),
          );
        }
        if (seen.has(mapKey)) {
          causes.push(
            fieldErrors.invalid(child(path, 'x-kubernetes-list-map-keys'), mapKeys, 'must not contain duplicate entries'),
          );
        }
        seen.add(mapKey);
      }
    }
  }
}

/** Items of a set list must be atomic: scalars, atomic lists or atomic maps. */
function nonAtomicSetItemProblems(items: RawSchema, path: string): StatusCause[] {
  const detail = 'must be atomic as item of a list with x-kubernetes-list-type=set';
  const itemsPath = child(path, 'items');
  switch (str(items, 'type')) {
    case 'array': {
      const listType = items['x-kubernetes-list-type'];
      if (listType !== undefined && listType !== null && listType !== 'atomic') {
        return [fieldErrors.invalid(child(itemsPath, 'x-kubernetes-list-type'), listType, detail)];
      }
      return [];
    }
    case 'object':
      if (items['x-kubernetes-map-type'] !== 'atomic') {
        // kube shows the items' list type as the value here.
        return [fieldErrors.invalid(child(itemsPath, 'x-kubernetes-map-type'), items['x-kubernetes-list-type'] ?? null, detail)];
      }
      return [];
    default:
      return [];
  }
}

/** validateMapListKeysMapSet: what makes set and map list items identifiable. */
export function mapListKeysMapSetProblems(s: RawSchema, path: string): StatusCause[] {
  const items = itemsOf(s);
  const listType = s['x-kubernetes-list-type'];
  if (!items || (listType !== 'set' && listType !== 'map')) return [];
  const causes: StatusCause[] = [];
  const itemsPath = child(path, 'items');
  if (isTrue(items, 'nullable')) {
    causes.push(
      fieldErrors.forbidden(child(itemsPath, 'nullable'), `cannot be nullable when x-kubernetes-list-type is ${listType}`),
    );
  }
  if (listType === 'map') {
    const required = new Set(stringList(items, 'required'));
    for (const mapKey of stringList(s, 'x-kubernetes-list-map-keys')) {
      const property = propertyOf(items, mapKey);
      if (!property) continue; // reported by the list-type checks
      const propertyPath = key(child(itemsPath, 'properties'), mapKey);
      if (!required.has(mapKey) && !hasDefault(property)) {
        causes.push(
          fieldErrors.required(
            child(propertyPath, 'default'),
            'this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property',
          ),
        );
      }
      if (isTrue(property, 'nullable')) {
        causes.push(
          fieldErrors.forbidden(
            child(propertyPath, 'nullable'),
            'this property is in x-kubernetes-list-map-keys, so it cannot be nullable',
          ),
        );
      }
    }
  }
  return causes;
}

/** The static checks of x-kubernetes-validations rules (the CEL programs themselves are not compiled here). */
function validationRuleChecks(s: RawSchema, path: string, causes: StatusCause[]): void {
  const rules = s['x-kubernetes-validations'];
  if (!Array.isArray(rules)) return;
  const newlines = /[\n\r]+/;
  rules.forEach((rule, i) => {
    const rulePath = index(child(path, 'x-kubernetes-validations'), i);
    const entry = isRawSchema(rule) ? rule : {};
    const text = str(entry, 'rule').trim();
    const message = str(entry, 'message');
    const messageExpression = str(entry, 'messageExpression');
    const fieldPath = str(entry, 'fieldPath');
    if (!text) causes.push(fieldErrors.required(child(rulePath, 'rule'), 'rule is not specified'));
    else if (message.length > 0 && message.trim().length === 0)
      causes.push(fieldErrors.invalid(child(rulePath, 'message'), message, 'must be non-empty if specified'));
    else if (newlines.test(message.trim()))
      causes.push(fieldErrors.invalid(child(rulePath, 'message'), message, 'must not contain line breaks'));
    else if (newlines.test(text) && message.trim().length === 0) {
      causes.push(fieldErrors.required(child(rulePath, 'message'), 'message must be specified if rule contains line breaks'));
    }
    if (messageExpression.length > 0 && messageExpression.trim().length === 0) {
      causes.push(fieldErrors.required(child(rulePath, 'messageExpression'), 'messageExpression must be non-empty if specified'));
    }
    if (entry.reason !== undefined && entry.reason !== null && !VALIDATION_RULE_REASONS.includes(String(entry.reason))) {
      causes.push(fieldErrors.notSupported(child(rulePath, 'reason'), entry.reason, VALIDATION_RULE_REASONS));
    }
    if (fieldPath.length > 0 && fieldPath.trim().length === 0)
      causes.push(fieldErrors.invalid(child(rulePath, 'fieldPath'), fieldPath, 'must be non-empty if specified'));
    if (newlines.test(fieldPath))
      causes.push(fieldErrors.invalid(child(rulePath, 'fieldPath'), fieldPath, 'must not contain line breaks'));
  });
}

// ---------------------------------------------------------------------------------------------
// ValidateDefaults

const EMPTY_RESOLVER = definitionsResolver({});

/**
 * Every default must validate against the schema it sits in and, when `requirePruned`, contain
 * no field that pruning would drop. The root is treated as a resource (apiVersion, kind and
 * metadata are known there), as are embedded resources. additionalProperties are not followed:
 * kube does not validate defaults there.
 */
export function validateDefaults(schema: RawSchema, path: string, requirePruned: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  defaultsOf(schema, path, false, requirePruned, causes, 0);
  return causes;
}

function defaultsOf(
  s: RawSchema,
  path: string,
  insideMeta: boolean,
  requirePruned: boolean,
  causes: StatusCause[],
  depth: number,
): void {
  if (depth > 200) return;
  const embedded = isTrue(s, 'x-kubernetes-embedded-resource');
  if (embedded) insideMeta = false;
  if (hasDefault(s)) {
    const defaultPath = child(path, 'default');
    const node = s as SchemaNode;
    if (!insideMeta && requirePruned) {
      const strict = validateAgainstSchema(s.default, node, EMPTY_RESOLVER, { unknownFields: 'Strict', rootPath: defaultPath });
      if (strict.causes.some(isUnknownFieldCause))
        causes.push(fieldErrors.invalid(defaultPath, s.default, 'must not have unknown fields'));
    }
    const result = validateAgainstSchema(s.default, node, EMPTY_RESOLVER, { unknownFields: 'Ignore', rootPath: defaultPath });
    causes.push(...result.causes);
  }
  const items = itemsOf(s);
  if (items) defaultsOf(items, child(path, 'items'), insideMeta, requirePruned, causes, depth + 1);
  const rootOrEmbedded = depth === 0 || embedded;
  for (const [name, property] of propertiesOf(s)) {
    const childInsideMeta = insideMeta || (rootOrEmbedded && META_FIELDS.has(name));
    defaultsOf(property, key(child(path, 'properties'), name), childInsideMeta, requirePruned, causes, depth + 1);
  }
}

export function isUnknownFieldCause(cause: StatusCause): boolean {
  return typeof cause.message === 'string' && cause.message === `unknown field "${cause.field}"`;
}

/** Whether pruning would change some default (kube relaxes the pruned-defaults rule for CRDs that already had such defaults). */
export function hasUnprunedDefaults(schema: unknown): boolean {
  if (!isRawSchema(schema) || !isStructural(schema)) return false;
  return validateDefaults(schema, '', true).some((c) => c.message?.endsWith('must not have unknown fields'));
}

/** Whether any node is an `x-kubernetes-list-type: set` of non-atomic items. */
export function hasNonAtomicSetType(schema: unknown): boolean {
  return schemaHas(
    schema,
    (node) =>
      node['x-kubernetes-list-type'] === 'set' && !!itemsOf(node) && nonAtomicSetItemProblems(itemsOf(node)!, '').length > 0,
  );
}

/** Whether any node breaks the map-list key and set/map item nullability rules. */
export function hasInvalidMapListKeysMapSet(schema: unknown): boolean {
  return schemaHas(schema, (node) => mapListKeysMapSetProblems(node, '').length > 0);
}

/** Whether any node has a `type` outside the OpenAPI v3 types. */
export function hasInvalidTypes(schema: unknown): boolean {
  return schemaHas(schema, (node) => typeof node.type === 'string' && node.type !== '' && !OPENAPI_V3_TYPES.includes(node.type));
}

export function hasDefaults(schema: unknown): boolean {
  return schemaHas(schema, hasDefault);
}

/** Deep equality of decoded JSON (key order does not matter), as apiequality.Semantic compares schemas. */
export function sameJson(a: unknown, b: unknown): boolean {
  return jsonDeepEqual(a, b);
}

// ---------------------------------------------------------------------------------------------
// The whole schema check of one version (validateCustomResourceDefinitionValidation)

/** The fields allowed at the root of the schema when the status subresource is enabled, in kube's (Go struct) names and order. */
const ROOT_FIELDS_WITH_STATUS: Array<[string, string]> = [
  ['description', 'Description'],
  ['type', 'Type'],
  ['format', 'Format'],
  ['title', 'Title'],
  ['maximum', 'Maximum'],
  ['exclusiveMaximum', 'ExclusiveMaximum'],
  ['minimum', 'Minimum'],
  ['exclusiveMinimum', 'ExclusiveMinimum'],
  ['maxLength', 'MaxLength'],
  ['minLength', 'MinLength'],
  ['pattern', 'Pattern'],
  ['maxItems', 'MaxItems'],
  ['minItems', 'MinItems'],
  ['uniqueItems', 'UniqueItems'],
  ['multipleOf', 'MultipleOf'],
  ['required', 'Required'],
  ['items', 'Items'],
  ['properties', 'Properties'],
  ['externalDocs', 'ExternalDocs'],
  ['example', 'Example'],
  ['x-kubernetes-preserve-unknown-fields', 'XPreserveUnknownFields'],
  ['x-kubernetes-validations', 'XValidations'],
];

/** JSONSchemaProps fields in struct order: the first offending one is reported. */
const SCHEMA_FIELD_ORDER = [
  'id',
  '$schema',
  '$ref',
  'description',
  'type',
  'format',
  'title',
  'default',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'multipleOf',
  'enum',
  'maxProperties',
  'minProperties',
  'required',
  'items',
  'allOf',
  'oneOf',
  'anyOf',
  'not',
  'properties',
  'additionalProperties',
  'patternProperties',
  'dependencies',
  'additionalItems',
  'definitions',
  'externalDocs',
  'example',
  'nullable',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
];

export interface SchemaValidationOptions extends OpenAPISchemaOptions {
  /** Whether the version (or any version, for a schema shared by all) has the status subresource. */
  statusSubresource: boolean;
  /** Defaults must not contain fields pruning would drop. */
  requirePrunedDefaults: boolean;
  /**
   * Structurality and the default checks (default true): relaxed only for updates of legacy CRDs
   * that preserve unknown fields and were stored with a non-structural schema.
   */
  requireStructural?: boolean;
}

/**
 * All checks of one `openAPIV3Schema` at `path` (…`.openAPIV3Schema`), in kube's order: the
 * root restrictions of the status subresource, `nullable` at the root, structurality and
 * defaults, then the OpenAPI subset rules.
 */
export function validateCustomResourceSchema(schema: unknown, path: string, options: SchemaValidationOptions): StatusCause[] {
  if (!isRawSchema(schema)) return [fieldErrors.typeInvalid(path, schema, 'must be of type object')];
  const causes: StatusCause[] = [];
  if (options.statusSubresource) {
    for (const name of SCHEMA_FIELD_ORDER) {
      if (!isSet(schema, name) || (Array.isArray(schema[name]) && (schema[name] as unknown[]).length === 0)) continue;
      if (name === 'type') {
        if (schema.type !== 'object') {
          causes.push(
            fieldErrors.invalid(
              child(path, 'type'),
              schema.type,
              'only "object" is allowed as the type at the root of the schema if the status subresource is enabled',
            ),
          );
          break;
        }
        continue;
      }
      if (!ROOT_FIELDS_WITH_STATUS.some(([json]) => json === name)) {
        const allowed = ROOT_FIELDS_WITH_STATUS.map(([, goName]) => goName).join(' ');
        causes.push(
          fieldErrors.invalid(
            path,
            'object',
            `only [${allowed}] fields are allowed at the root of the schema if the status subresource is enabled`,
          ),
        );
        break;
      }
    }
  }
  if (isTrue(schema, 'nullable'))
    causes.push(fieldErrors.forbidden(child(path, 'nullable'), 'nullable cannot be true at the root'));

  const requireStructural = options.requireStructural ?? true;
  const conversionProblem = requireStructural ? structuralConversionError(schema) : undefined;
  if (requireStructural && !conversionProblem) {
    const structural = validateStructural(schema, path);
    if (structural.length > 0) causes.push(...structural);
    else causes.push(...validateDefaults(schema, path, options.requirePrunedDefaults));
  }
  causes.push(...validateOpenAPISchema(schema, path, options));
  if (causes.length === 0 && conversionProblem) causes.push(fieldErrors.invalid(path, '', conversionProblem));
  return causes;
}
