/**
 * The schema model: an OpenAPI v3 schema object with the Kubernetes extensions. The same nodes
 * drive OpenAPI documents, validation, defaulting of CRDs, strategic merge patch and apply.
 * Definitions are referenced as `#/definitions/<name>` internally; the v3 writer rewrites refs.
 */
export interface SchemaNode {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  pattern?: string;
  uniqueItems?: boolean;
  $ref?: string;
  allOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  not?: SchemaNode;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-group-version-kind'?: Array<{ group: string; version: string; kind: string }>;
  'x-kubernetes-unions'?: unknown[];
}

/** Resolves `$ref` (and the `allOf: [{$ref}]` wrapper OpenAPI v3 uses for described refs). */
export interface SchemaResolver {
  resolve(node: SchemaNode | undefined): SchemaNode | undefined;
}

export function definitionsResolver(definitions: Record<string, SchemaNode>): SchemaResolver {
  const lookup = (ref: string): SchemaNode | undefined => {
    const name = ref.slice(ref.lastIndexOf('/') + 1);
    return definitions[name];
  };
  return {
    resolve(node) {
      let current = node;
      for (let depth = 0; current && depth < 16; depth++) {
        if (current.$ref) {
          current = lookup(current.$ref);
          continue;
        }
        if (current.allOf && current.allOf.length === 1 && !current.type && !current.properties) {
          const merged = { ...current, ...this.resolve(current.allOf[0]) };
          delete merged.allOf;
          // Keep the list/patch extensions of the wrapper: they describe the field, not the type.
          return { ...merged, ...pickExtensions(current) };
        }
        return current;
      }
      return current;
    },
  };
}

function pickExtensions(node: SchemaNode): Partial<SchemaNode> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) if (k.startsWith('x-kubernetes-')) out[k] = v;
  return out as Partial<SchemaNode>;
}
