/**
 * A compact DSL for the structural OpenAPI v3 schemas and CustomResourceDefinitions the platform
 * installs. Each helper returns a plain schema node, so the results are ordinary
 * apiextensions.k8s.io/v1 objects that any API server (the embedded one or a real cluster) accepts.
 * Descriptions are left out on purpose: the schemas are data for validation and pruning.
 */
import type { KubeObject, SchemaNode } from '@canopy/apimachinery';

export type Schema = SchemaNode;

export interface ObjectOptions {
  required?: string[];
  /** `x-kubernetes-map-type`. */
  mapType?: 'atomic' | 'granular';
  /** `x-kubernetes-preserve-unknown-fields`. */
  preserveUnknown?: boolean;
  /** `x-kubernetes-embedded-resource` (implies apiVersion/kind/metadata inside). */
  embedded?: boolean;
}

export interface ArrayOptions {
  listType?: 'atomic' | 'set' | 'map';
  mapKeys?: string[];
}

export interface StringOptions {
  format?: string;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

export function str(options: StringOptions = {}): Schema {
  return { type: 'string', ...options };
}

export function bool(): Schema {
  return { type: 'boolean' };
}

export function int(format?: 'int32' | 'int64'): Schema {
  return format ? { type: 'integer', format } : { type: 'integer' };
}

/** A timestamp field (metav1.Time). */
export function time(): Schema {
  return str({ format: 'date-time' });
}

/** An object with known properties. */
export function obj(properties: Record<string, Schema>, options: ObjectOptions = {}): Schema {
  const node: Schema = { type: 'object', properties };
  applyObjectOptions(node, options);
  return node;
}

/** An object whose fields are not described (`type: object` only, or preserving unknown fields). */
export function anyObject(options: ObjectOptions = {}): Schema {
  const node: Schema = { type: 'object' };
  applyObjectOptions(node, options);
  return node;
}

/** `map[string]T`. */
export function mapOf(values: Schema, options: ObjectOptions = {}): Schema {
  const node: Schema = { type: 'object', additionalProperties: values };
  applyObjectOptions(node, options);
  return node;
}

export function arrayOf(items: Schema, options: ArrayOptions = {}): Schema {
  const node: Schema = { type: 'array', items };
  if (options.listType) node['x-kubernetes-list-type'] = options.listType;
  if (options.mapKeys) node['x-kubernetes-list-map-keys'] = options.mapKeys;
  return node;
}

/** `[]string` with a list type (controller-gen marks k8s API lists `atomic`). */
export function strings(listType?: ArrayOptions['listType']): Schema {
  return arrayOf(str(), listType ? { listType } : {});
}

function applyObjectOptions(node: Schema, options: ObjectOptions): void {
  if (options.required?.length) node.required = [...options.required];
  if (options.embedded) node['x-kubernetes-embedded-resource'] = true;
  if (options.preserveUnknown) node['x-kubernetes-preserve-unknown-fields'] = true;
  if (options.mapType) node['x-kubernetes-map-type'] = options.mapType;
}

// resource.Quantity as controller-gen renders it: an int-or-string with the quantity grammar.
const SIGN = '(\\+|-)?';
const DECIMAL = '(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))';
export const QUANTITY_PATTERN = `^${SIGN}${DECIMAL}(([KMGTPE]i)|[numkMGTPE]|([eE]${SIGN}${DECIMAL}))?$`;

export function quantity(): Schema {
  return {
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    pattern: QUANTITY_PATTERN,
    'x-kubernetes-int-or-string': true,
  };
}

/** corev1.ResourceList. */
export function resourceList(): Schema {
  return mapOf(quantity());
}

// --- shared Kubernetes API pieces ------------------------------------------------------------

/** metav1.LabelSelector (an atomic map, as in the Kubernetes API). */
export function labelSelector(): Schema {
  return obj(
    {
      matchExpressions: arrayOf(
        obj({ key: str(), operator: str(), values: strings('atomic') }, { required: ['key', 'operator'] }),
        { listType: 'atomic' },
      ),
      matchLabels: mapOf(str()),
    },
    { mapType: 'atomic' },
  );
}

/** rbacv1.PolicyRule. */
export function policyRule(): Schema {
  return obj(
    {
      apiGroups: strings('atomic'),
      nonResourceURLs: strings('atomic'),
      resourceNames: strings('atomic'),
      resources: strings('atomic'),
      verbs: strings('atomic'),
    },
    { required: ['verbs'] },
  );
}

/** rbacv1.RoleRef. */
export function roleRef(): Schema {
  return obj({ apiGroup: str(), kind: str(), name: str() }, { required: ['apiGroup', 'kind', 'name'], mapType: 'atomic' });
}

/** rbacv1.Subject. */
export function subject(): Schema {
  return obj(
    { apiGroup: str(), kind: str(), name: str(), namespace: str() },
    { required: ['kind', 'name'], mapType: 'atomic' },
  );
}

/**
 * The root of a custom resource's schema: apiVersion, kind and metadata plus the kind's own
 * top-level fields.
 */
export function root(properties: Record<string, Schema>, options: ObjectOptions = {}): Schema {
  return obj({ apiVersion: str(), kind: str(), metadata: anyObject(), ...properties }, options);
}

// --- CustomResourceDefinition ----------------------------------------------------------------

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  format?: string;
  priority?: number;
}

export interface CrdVersion {
  name: string;
  schema: Schema;
  served?: boolean;
  storage?: boolean;
  deprecated?: boolean;
  printerColumns?: PrinterColumn[];
  /**
   * `status` adds the status subresource. `{}` (no subresource) is kept distinct from absent
   * because controller-gen emits it for kinds marked with an empty subresource list.
   */
  subresources?: { status?: boolean } ;
}

export interface CrdSpec {
  group: string;
  kind: string;
  plural: string;
  singular?: string;
  scope: 'Cluster' | 'Namespaced';
  categories?: string[];
  shortNames?: string[];
  versions: CrdVersion[];
}

export function customResourceDefinition(spec: CrdSpec): KubeObject {
  const names: Record<string, unknown> = {};
  if (spec.categories) names.categories = [...spec.categories];
  names.kind = spec.kind;
  names.listKind = `${spec.kind}List`;
  names.plural = spec.plural;
  if (spec.shortNames) names.shortNames = [...spec.shortNames];
  names.singular = spec.singular ?? spec.kind.toLowerCase();
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${spec.plural}.${spec.group}` },
    spec: {
      group: spec.group,
      names,
      scope: spec.scope,
      versions: spec.versions.map((v) => {
        const version: Record<string, unknown> = {};
        if (v.printerColumns) version.additionalPrinterColumns = v.printerColumns.map((c) => ({ ...c }));
        if (v.deprecated) version.deprecated = true;
        version.name = v.name;
        version.schema = { openAPIV3Schema: structuredClone(v.schema) };
        version.served = v.served ?? true;
        version.storage = v.storage ?? false;
        if (v.subresources) version.subresources = v.subresources.status ? { status: {} } : {};
        return version;
      }),
    },
  };
}
