/**
 * Defaulting of custom resources from the `default:` values of their CRD schema, and the
 * decode-time pipeline kube-apiextensions runs on every custom resource it reads from a request
 * or from storage: prune unknown fields (and non-nullable nulls), then apply defaults.
 *
 * kube's order (apiextensions-apiserver customresource_handler: the schema-coercing decoder
 * prunes, the versioning codec's defaulter then defaults; validation runs later in the strategy)
 * matters because defaults must only land where the schema knows the field, and a request's
 * explicit `null` for a defaulted non-nullable field is replaced by the default.
 */
import {
  cloneJson,
  definitionsResolver,
  validateAgainstSchema,
  type SchemaNode,
  type SchemaResolver,
  type StatusCause,
  type UnknownFieldsMode,
  type ValidationResult,
} from '@canopy/apimachinery';
import { additionalPropertiesOf, isRawSchema, isUnknownFieldCause, itemsOf, propertiesOf, type RawSchema } from './structural.js';

type JsonMap = Record<string, unknown>;

function isJsonMap(value: unknown): value is JsonMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Go decodes `default: null` into no default at all. */
function defaultOf(schema: RawSchema | undefined): unknown {
  return schema ? schema.default : undefined;
}

function hasDefault(schema: RawSchema | undefined): boolean {
  const value = defaultOf(schema);
  return value !== undefined && value !== null;
}

/** A `null` where the schema does not allow null: the default takes its place. */
function isNonNullableNull(value: unknown, schema: RawSchema | undefined): boolean {
  return value === null && schema !== undefined && schema.nullable !== true;
}

/** Assigns an own property, even `__proto__`, without touching the prototype chain. */
function setOwn(target: JsonMap, name: string, value: unknown): void {
  if (name === '__proto__') Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  else target[name] = value;
}

/**
 * Applies the schema's defaults to `object` in place and returns it (structuraldefaulting.Default):
 *
 * - a property with a default is set when it is absent, or `null` while not nullable; the
 *   default is deep-copied and then defaulted itself, so defaults nested in a defaulted object
 *   apply too;
 * - defaults apply only inside objects that exist: a missing parent is not created;
 * - every array item and every additionalProperties value is defaulted by the item/value
 *   schema, and a non-nullable `null` item is replaced by the item schema's default.
 *
 * Value validations (`allOf`, `anyOf`…) carry no defaults in a structural schema and are not followed.
 */
export function applySchemaDefaults<T>(object: T, schema: SchemaNode | undefined): T {
  defaultValue(object, isRawSchema(schema) ? schema : undefined, 0);
  return object;
}

function defaultValue(value: unknown, schema: RawSchema | undefined, depth: number): void {
  if (!schema || depth > 200) return;
  if (Array.isArray(value)) {
    const items = itemsOf(schema);
    for (let i = 0; i < value.length; i++) {
      if (isNonNullableNull(value[i], items) && hasDefault(items)) value[i] = cloneJson(defaultOf(items));
      defaultValue(value[i], items, depth + 1);
    }
    return;
  }
  if (!isJsonMap(value)) return;
  const properties = propertiesOf(schema);
  for (const [name, property] of properties) {
    if (!hasDefault(property)) continue;
    if (!Object.hasOwn(value, name) || value[name] === undefined || isNonNullableNull(value[name], property)) {
      setOwn(value, name, cloneJson(defaultOf(property)));
    }
  }
  const declared = new Map(properties);
  const additional = additionalPropertiesOf(schema);
  for (const name of Object.keys(value)) {
    const property = declared.get(name);
    if (property) {
      defaultValue(value[name], property, depth + 1);
    } else if (additional) {
      if (isNonNullableNull(value[name], additional) && hasDefault(additional))
        setOwn(value, name, cloneJson(defaultOf(additional)));
      defaultValue(value[name], additional, depth + 1);
    }
  }
}

/**
 * A resolver for objects validated without the server's definitions: `metadata` (validated as
 * ObjectMeta at the root and in embedded resources) is then kept as it is, unvalidated.
 */
const PRESERVING_RESOLVER: SchemaResolver = definitionsResolver({
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
});

export interface PruneAndDefaultOptions {
  /**
   * What happens to unknown fields (the request's fieldValidation): they are always pruned;
   * Strict also reports each as an `unknown field "<path>"` cause, Warn as a warning. Default Prune.
   */
  unknownFields?: UnknownFieldsMode;
}

/**
 * What kube does to a custom resource between decoding and the strategy: prune unknown fields
 * (keeping `apiVersion`, `kind` and `metadata` at the root and in embedded resources, and
 * everything under `x-kubernetes-preserve-unknown-fields`), drop non-nullable nulls, apply the
 * schema's defaults, then validate the result against the schema.
 *
 * Returns the pruned and defaulted object (the input is not modified), the unknown-field causes
 * (Strict) followed by the validation causes of the defaulted object, and the warnings (Warn).
 * `resolver` should know ObjectMeta (the server's definitions resolver); without one, metadata is
 * kept as it is.
 */
export function pruneAndDefault(
  object: unknown,
  schema: SchemaNode,
  resolver: SchemaResolver = PRESERVING_RESOLVER,
  options: PruneAndDefaultOptions = {},
): ValidationResult {
  const mode = options.unknownFields ?? 'Prune';
  const pruned = validateAgainstSchema(object, schema, resolver, { unknownFields: mode });
  // Only the unknown-field reports of the first pass count: the object is validated again once
  // defaults are in, as kube validates after defaulting (a defaulted null item is then valid).
  const unknownFieldCauses: StatusCause[] = mode === 'Strict' ? pruned.causes.filter(isUnknownFieldCause) : [];
  // Pruning copies only what it changes; defaulting works in place, so it gets its own copy.
  const value = cloneJson(pruned.value);
  applySchemaDefaults(value, schema);
  const validated = validateAgainstSchema(value, schema, resolver, { unknownFields: 'Ignore' });
  return { causes: [...unknownFieldCauses, ...validated.causes], warnings: pruned.warnings, value: validated.value };
}
