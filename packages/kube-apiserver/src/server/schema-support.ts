/**
 * Schema lookups for the object pipeline: the schema of each served kind (built-in from the
 * generated definitions, CRDs inline), validation with the request's fieldValidation mode, and
 * the patch metadata strategic merge patch needs.
 */
import { definitionsResolver, errors, validateAgainstSchema, type KubeObject, type SchemaNode, type SchemaResolver, type StatusCause } from '@canopy/apimachinery';
import { pruneAndDefault } from '../crd/defaulting.js';
import type { ResourceDefinition } from '../registry/types.js';
import type { FieldValidation } from './objects.js';

export class SchemaSupport {
  readonly resolver: SchemaResolver;

  constructor(readonly definitions: Record<string, SchemaNode>) {
    this.resolver = definitionsResolver(definitions);
  }

  schemaOf(def: ResourceDefinition): SchemaNode | undefined {
    if (def.schema) return def.schema;
    return def.schemaName ? this.definitions[def.schemaName] : undefined;
  }

  /**
   * Returns type and required-field causes. Unknown fields: Strict → 400 BadRequest (as kube's
   * strict decoding), Warn → warnings, Ignore → nothing. Unknown fields are never stored.
   */
  validate(def: ResourceDefinition, object: KubeObject, mode: FieldValidation, warnings: string[]): StatusCause[] {
    const schema = this.schemaOf(def);
    if (!schema) return [];
    const pruning = !def.schemaName;
    // Custom resources are pruned, defaulted from their schema and validated, in kube's order.
    const result = pruning
      ? pruneAndDefault(object, schema, this.resolver, { unknownFields: mode === 'Ignore' ? 'Prune' : mode })
      : validateAgainstSchema(object, schema, this.resolver, { unknownFields: mode });
    const unknown = result.causes.filter((c) => c.message?.startsWith('unknown field'));
    const others = result.causes.filter((c) => !c.message?.startsWith('unknown field'));
    if (unknown.length && mode === 'Strict') {
      throw errors.badRequest(`strict decoding error: ${unknown.map((c) => c.message).join(', ')}`);
    }
    warnings.push(...result.warnings);
    // What is stored is what the schema knows: unknown fields and nulls go, as Go's decoding drops
    // them for built-in kinds and pruning does for CRDs.
    if (result.value !== object && typeof result.value === 'object' && result.value) {
      for (const k of Object.keys(object)) delete (object as Record<string, unknown>)[k];
      Object.assign(object, result.value);
    }
    return others;
  }
}
