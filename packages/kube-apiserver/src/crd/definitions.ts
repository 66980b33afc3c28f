/**
 * CustomResourceDefinitions (apiextensions.k8s.io/v1) as the server serves them: the CRD object
 * model, its v1 defaults and create/update preparation, the status kube's naming and
 * establishing controllers would compute, and the ResourceDefinitions of its served versions,
 * which the generic REST handler serves like any built-in kind.
 */
import {
  cloneJson,
  definitionsResolver,
  fieldErrors,
  jsonDeepEqual,
  validateAgainstSchema,
  type KubeObject,
  type ObjectMeta,
  type SchemaNode,
  type StatusCause,
} from '@canopy/apimachinery';
import { printerForCustomColumns, type CustomResourceColumn } from '../registry/printing.js';
import type { ResourceDefinition, ValidationContext, Verb } from '../registry/types.js';
import { applySchemaDefaults } from './defaulting.js';
import {
  child,
  index,
  isRawSchema,
  itemsOf,
  key,
  propertiesOf,
  propertyOf,
  additionalPropertiesOf,
  type RawSchema,
} from './structural.js';

// ---------------------------------------------------------------------------------------------
// The object model

export const CRD_GROUP = 'apiextensions.k8s.io';
export const CRD_API_VERSION = 'apiextensions.k8s.io/v1';

export interface CustomResourceDefinitionNames {
  plural: string;
  singular?: string;
  shortNames?: string[];
  kind: string;
  listKind?: string;
  categories?: string[];
}

export interface CustomResourceSubresourceScale {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface CustomResourceSubresources {
  /** Present (an empty object) when the status subresource is enabled. */
  status?: Record<string, unknown>;
  scale?: CustomResourceSubresourceScale;
}

export interface SelectableField {
  jsonPath: string;
}

export interface CustomResourceDefinitionVersion {
  name: string;
  served: boolean;
  storage: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema?: { openAPIV3Schema?: SchemaNode };
  subresources?: CustomResourceSubresources;
  additionalPrinterColumns?: CustomResourceColumn[];
  selectableFields?: SelectableField[];
}

export interface CustomResourceConversion {
  strategy: 'None' | 'Webhook' | string;
  webhook?: { clientConfig?: Record<string, unknown>; conversionReviewVersions?: string[] };
}

export interface CustomResourceDefinitionSpec {
  group: string;
  names: CustomResourceDefinitionNames;
  scope: 'Namespaced' | 'Cluster' | string;
  versions: CustomResourceDefinitionVersion[];
  conversion?: CustomResourceConversion;
  preserveUnknownFields?: boolean;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface CustomResourceDefinitionCondition {
  type:
    'NamesAccepted' | 'Established' | 'Terminating' | 'NonStructuralSchema' | 'KubernetesAPIApprovalPolicyConformant' | string;
  status: ConditionStatus;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface CustomResourceDefinitionStatus {
  conditions?: CustomResourceDefinitionCondition[];
  acceptedNames: CustomResourceDefinitionNames;
  storedVersions?: string[];
}

export interface CustomResourceDefinition extends KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: CustomResourceDefinitionSpec;
  status?: CustomResourceDefinitionStatus;
}

// ---------------------------------------------------------------------------------------------
// Tolerant readers (CRDs reach these functions from users and storage)

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function versionsOf(crd: unknown): Array<Record<string, unknown>> {
  const versions = record(record(crd).spec).versions;
  return Array.isArray(versions) ? versions.map(record) : [];
}

/** The name of the version marked `storage: true` (the first one, should a broken CRD have several). */
export function storageVersionOf(crd: unknown): string | undefined {
  const storage = versionsOf(crd).find((v) => v.storage === true);
  return storage ? text(storage.name) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Defaults and create/update preparation (apiextensions v1 SetDefaults, the CRD strategy)

/**
 * apiextensions v1 defaulting, in place: `names.singular` (lowercased kind), `names.listKind`
 * (`<kind>List`), `conversion` (`strategy: None`) and, when empty, `status.storedVersions` (the
 * storage version). Returns the object.
 */
export function defaultCustomResourceDefinition<T extends KubeObject>(crd: T): T {
  const spec = record(crd.spec);
  if (typeof crd.spec !== 'object' || crd.spec === null) return crd;
  const names = record(spec.names);
  if (typeof spec.names === 'object' && spec.names !== null) {
    const kind = text(names.kind);
    if (!text(names.singular)) names.singular = kind.toLowerCase();
    if (!text(names.listKind) && kind) names.listKind = `${kind}List`;
  }
  if (spec.conversion === undefined || spec.conversion === null) spec.conversion = { strategy: 'None' };
  const status = record(crd.status);
  if (strings(status.storedVersions).length === 0) {
    const storage = storageVersionOf(crd);
    if (storage !== undefined) {
      const target = crd as KubeObject;
      if (typeof target.status !== 'object' || target.status === null)
        target.status = { acceptedNames: { plural: '', kind: '' } };
      (target.status as Record<string, unknown>).storedVersions = [storage];
    }
  }
  return crd;
}

/**
 * The CRD strategy's PrepareForCreate: a client cannot set status, so it starts empty except for
 * the storage version in `storedVersions`; generation starts at 1. Works in place.
 */
export function prepareCustomResourceDefinitionForCreate<T extends KubeObject>(crd: T): T {
  const status: CustomResourceDefinitionStatus = { acceptedNames: { plural: '', kind: '' } };
  const storage = storageVersionOf(crd);
  if (storage !== undefined) status.storedVersions = [storage];
  (crd as KubeObject).status = status;
  crd.metadata.generation = 1;
  return crd;
}

/**
 * The CRD strategy's PrepareForUpdate of the main resource: status is kept from the stored
 * object, with the (possibly new) storage version added to `storedVersions`; a spec change bumps
 * the generation. Works in place on `crd`.
 */
export function prepareCustomResourceDefinitionForUpdate<T extends KubeObject>(crd: T, old: KubeObject): T {
  const status = cloneJson(record(old.status)) as unknown as CustomResourceDefinitionStatus;
  status.acceptedNames ??= { plural: '', kind: '' };
  const storage = storageVersionOf(crd);
  const stored = strings(status.storedVersions);
  if (storage !== undefined && !stored.includes(storage)) status.storedVersions = [...stored, storage];
  (crd as KubeObject).status = status;
  const oldGeneration = typeof old.metadata.generation === 'number' ? old.metadata.generation : 0;
  const specChanged = !jsonDeepEqual(crd.spec, old.spec);
  crd.metadata.generation = specChanged ? oldGeneration + 1 : oldGeneration;
  return crd;
}

// ---------------------------------------------------------------------------------------------
// Status: names acceptance and establishment (the NamingConditionController and the
// EstablishingController, computed at once)

export interface CustomResourceDefinitionStatusOptions {
  /** Every other CRD the server has (any group): those in the same group claim their accepted names. */
  others?: CustomResourceDefinition[];
  /**
   * A naming conflict the caller found itself (e.g. with a built-in resource of the group): names
   * are not accepted, with this message and the reason `NamesConflict`.
   */
  namesConflict?: string;
  /** The time of any condition that changes status (default: now). */
  now?: Date;
}

function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function namesOf(value: unknown): CustomResourceDefinitionNames {
  const names = record(value);
  const out: CustomResourceDefinitionNames = { plural: text(names.plural), kind: text(names.kind) };
  if (text(names.singular)) out.singular = text(names.singular);
  if (strings(names.shortNames).length) out.shortNames = strings(names.shortNames);
  if (text(names.listKind)) out.listKind = text(names.listKind);
  if (strings(names.categories).length) out.categories = strings(names.categories);
  return out;
}

/** Accepted names in the field order kube serializes them. */
function orderedNames(names: CustomResourceDefinitionNames): CustomResourceDefinitionNames {
  const out: CustomResourceDefinitionNames = { plural: names.plural } as CustomResourceDefinitionNames;
  if (names.singular) out.singular = names.singular;
  if (names.shortNames?.length) out.shortNames = [...names.shortNames];
  out.kind = names.kind;
  if (names.listKind) out.listKind = names.listKind;
  if (names.categories?.length) out.categories = [...names.categories];
  return out;
}

/** equalToAcceptedOrFresh: a name is fine when it is already ours or nobody in the group uses it. */
function nameProblem(requested: string, accepted: string, used: Set<string>): string | undefined {
  if (requested === accepted || !used.has(requested)) return undefined;
  return `${JSON.stringify(requested)} is already in use`;
}

/** SetCRDCondition: the transition time moves only when the status changes. */
function setCondition(
  conditions: CustomResourceDefinitionCondition[],
  next: CustomResourceDefinitionCondition,
  now: string,
): void {
  const existing = conditions.find((c) => c.type === next.type);
  if (!existing) {
    conditions.push({
      type: next.type,
      status: next.status,
      lastTransitionTime: now,
      reason: next.reason,
      message: next.message,
    });
    return;
  }
  if (existing.status !== next.status || !existing.lastTransitionTime) {
    existing.status = next.status;
    existing.lastTransitionTime = now;
  }
  existing.reason = next.reason;
  existing.message = next.message;
}

/**
 * The status kube's controllers converge a CRD to: `acceptedNames` (each requested name unless
 * another CRD of the group already accepted it), the `NamesAccepted` condition (True,
 * `NoConflicts`, `no conflicts found`; or False with `PluralConflict`, `SingularConflict`,
 * `ShortNamesConflict`, `KindConflict`, `ListKindConflict` and `"x" is already in use`), the
 * `Established` condition (True, `InitialNamesAccepted`, `the initial names have been accepted`
 * once names were accepted; it stays True afterwards), and `storedVersions` with the current
 * storage version added. Other conditions of the current status are kept.
 */
export function crdStatusFor(
  crd: CustomResourceDefinition,
  options: CustomResourceDefinitionStatusOptions = {},
): CustomResourceDefinitionStatus {
  const now = formatTime(options.now ?? new Date());
  const spec = record(crd.spec);
  const group = text(spec.group);
  const current = record(crd.status);
  const requested = namesOf(spec.names);
  const accepted = namesOf(current.acceptedNames);

  // The names claimed in the group, this CRD's own accepted names included (as kube lists them).
  const usedResources = new Set<string>();
  const usedKinds = new Set<string>();
  const claim = (names: CustomResourceDefinitionNames) => {
    usedResources.add(names.plural);
    if (names.singular) usedResources.add(names.singular);
    for (const short of names.shortNames ?? []) usedResources.add(short);
    usedKinds.add(names.kind);
    if (names.listKind) usedKinds.add(names.listKind);
  };
  claim(accepted);
  for (const other of options.others ?? []) {
    if (text(record(other.spec).group) !== group || other.metadata?.name === crd.metadata?.name) continue;
    claim(namesOf(record(other.status).acceptedNames));
  }

  const next: CustomResourceDefinitionNames = { ...accepted };
  let namesAccepted: CustomResourceDefinitionCondition = { type: 'NamesAccepted', status: 'Unknown' };
  const conflict = (reason: string, message: string) => {
    namesAccepted = { type: 'NamesAccepted', status: 'False', reason, message };
  };

  const plural = nameProblem(requested.plural, accepted.plural, usedResources);
  if (plural) conflict('PluralConflict', plural);
  else next.plural = requested.plural;
  const singular = nameProblem(requested.singular ?? '', accepted.singular ?? '', usedResources);
  if (singular) conflict('SingularConflict', singular);
  else if (requested.singular) next.singular = requested.singular;
  else delete next.singular;
  if (JSON.stringify(requested.shortNames ?? []) !== JSON.stringify(accepted.shortNames ?? [])) {
    const ours = new Set(accepted.shortNames ?? []);
    const problems = (requested.shortNames ?? [])
      .filter((short) => !ours.has(short))
      .map((short) => nameProblem(short, '', usedResources))
      .filter((p): p is string => p !== undefined);
    if (problems.length) conflict('ShortNamesConflict', problems.length === 1 ? problems[0] : `[${problems.join(', ')}]`);
    else if (requested.shortNames?.length) next.shortNames = requested.shortNames;
    else delete next.shortNames;
  }
  const kind = nameProblem(requested.kind, accepted.kind, usedKinds);
  if (kind) conflict('KindConflict', kind);
  else next.kind = requested.kind;
  const listKind = nameProblem(requested.listKind ?? '', accepted.listKind ?? '', usedKinds);
  if (listKind) conflict('ListKindConflict', listKind);
  else if (requested.listKind) next.listKind = requested.listKind;
  else delete next.listKind;
  if (requested.categories?.length) next.categories = requested.categories;
  else delete next.categories;

  if (options.namesConflict) {
    // The caller's conflict does not say which name is taken: none of the requested names is accepted.
    conflict('NamesConflict', options.namesConflict);
    Object.assign(next, accepted);
    for (const name of ['singular', 'shortNames', 'listKind', 'categories'] as const) if (!(name in accepted)) delete next[name];
  }
  if (namesAccepted.status === 'Unknown') {
    namesAccepted = { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' };
  }

  const conditions = (Array.isArray(current.conditions) ? current.conditions : [])
    .filter((c): c is Record<string, unknown> => typeof c === 'object' && c !== null)
    .map((c) => ({ ...c }) as unknown as CustomResourceDefinitionCondition);
  const wasEstablished = conditions.some((c) => c.type === 'Established' && c.status === 'True');
  setCondition(conditions, namesAccepted, now);
  if (wasEstablished) {
    // Established never goes back: the resource keeps being served under its accepted names.
  } else if (namesAccepted.status === 'True') {
    setCondition(
      conditions,
      { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
      now,
    );
  } else if (!conditions.some((c) => c.type === 'Established')) {
    setCondition(
      conditions,
      { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' },
      now,
    );
  }

  const storedVersions = strings(current.storedVersions);
  const storage = storageVersionOf(crd);
  if (storage !== undefined && !storedVersions.includes(storage)) storedVersions.push(storage);

  const status: CustomResourceDefinitionStatus = { conditions, acceptedNames: orderedNames(next) };
  status.storedVersions = storedVersions;
  return status;
}

/** Whether the CRD's `Established` condition is True: only then does kube serve its resources. */
export function isEstablished(crd: unknown): boolean {
  const conditions = record(record(crd).status).conditions;
  return Array.isArray(conditions) && conditions.some((c) => record(c).type === 'Established' && record(c).status === 'True');
}

// ---------------------------------------------------------------------------------------------
// ResourceDefinitions

const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const OBJECT_META_REF = '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const API_VERSION_DESCRIPTION =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const KIND_DESCRIPTION =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';
const METADATA_DESCRIPTION =
  "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/**
 * The schema kube publishes for a version: the CRD's schema with `apiVersion` and `kind` (as
 * strings, when the CRD does not declare them so), `metadata` as a reference to ObjectMeta, and
 * the `x-kubernetes-group-version-kind` kubectl looks schemas up by.
 */
export function publishedSchema(schema: SchemaNode | undefined, group: string, version: string, kind: string): SchemaNode {
  const root = (
    isRawSchema(schema) ? cloneJson(schema) : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }
  ) as SchemaNode;
  const properties: Record<string, SchemaNode> = isRawSchema(root.properties) ? { ...root.properties } : {};
  if (properties.apiVersion?.type !== 'string') properties.apiVersion = { type: 'string', description: API_VERSION_DESCRIPTION };
  if (properties.kind?.type !== 'string') properties.kind = { type: 'string', description: KIND_DESCRIPTION };
  properties.metadata = { $ref: OBJECT_META_REF, description: METADATA_DESCRIPTION };
  root.properties = properties;
  root['x-kubernetes-group-version-kind'] = [{ group, version, kind }];
  return root;
}

/** The names kube serves under: the accepted names once the naming controller accepted them, the requested ones before. */
function servedNames(crd: CustomResourceDefinition): CustomResourceDefinitionNames {
  const accepted = namesOf(record(crd.status).acceptedNames);
  const requested = namesOf(record(crd.spec).names);
  const names = accepted.plural && accepted.kind ? accepted : requested;
  return {
    ...names,
    singular: names.singular || names.kind.toLowerCase(),
    listKind: names.listKind || `${names.kind}List`,
  };
}

/**
 * One ResourceDefinition per served version, as the CRD handler serves it: all eight verbs,
 * the version's subresources, its schema as published (see {@link publishedSchema}), the printer
 * of its additionalPrinterColumns (NAME and AGE when there are none), the storage version
 * marked, generation tracking, status semantics with the status subresource, the selectable
 * fields, schema defaulting, and the checks kube's custom resource strategy adds to schema
 * validation (metadata name restrictions, list-type set/map uniqueness, scale paths).
 */
export function crdToResourceDefinitions(crd: CustomResourceDefinition): ResourceDefinition[] {
  const spec = record(crd.spec);
  const group = text(spec.group);
  const names = servedNames(crd);
  const namespaced = spec.scope === 'Namespaced';
  const definitions: ResourceDefinition[] = [];
  for (const version of versionsOf(crd)) {
    if (version.served !== true) continue;
    const name = text(version.name);
    const schema = record(version.schema).openAPIV3Schema;
    const rawSchema = isRawSchema(schema) ? schema : undefined;
    const subresources = record(version.subresources);
    const statusEnabled = isRawSchema(subresources.status);
    const scale = isRawSchema(subresources.scale) ? scaleOf(subresources.scale) : undefined;

    const definition: ResourceDefinition = {
      group,
      version: name,
      kind: names.kind,
      listKind: names.listKind!,
      resource: names.plural,
      singular: names.singular!,
      namespaced,
      verbs: [...ALL_VERBS],
      schema: publishedSchema(rawSchema as SchemaNode | undefined, group, name, names.kind),
      printer: printerForCustomColumns(columnsOf(version.additionalPrinterColumns)),
      tracksGeneration: true,
      storageVersion: version.storage === true,
    };
    if (names.shortNames?.length) definition.shortNames = [...names.shortNames];
    if (names.categories?.length) definition.categories = [...names.categories];
    if (statusEnabled || scale) {
      definition.subresources = {};
      if (statusEnabled) definition.subresources.status = true;
      if (scale) definition.subresources.scale = scale;
    }
    if (statusEnabled) definition.statusSubresourceSemantics = true;
    const selectable = selectableFieldsOf(version.selectableFields);
    if (selectable) definition.selectableFields = selectable;
    if (rawSchema) {
      const userSchema = rawSchema as SchemaNode;
      definition.defaults = (object) => {
        applySchemaDefaults(object, userSchema);
      };
    }
    definition.validate = (object, context) => validateCustomResource(object, context, rawSchema, scale);
    definitions.push(definition);
  }
  return definitions;
}

function scaleOf(scale: Record<string, unknown>): CustomResourceSubresourceScale {
  const out: CustomResourceSubresourceScale = {
    specReplicasPath: text(scale.specReplicasPath),
    statusReplicasPath: text(scale.statusReplicasPath),
  };
  if (text(scale.labelSelectorPath)) out.labelSelectorPath = text(scale.labelSelectorPath);
  return out;
}

function columnsOf(value: unknown): CustomResourceColumn[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  return value.map((column) => {
    const c = record(column);
    const out: CustomResourceColumn = { name: text(c.name), type: text(c.type), jsonPath: text(c.jsonPath) };
    if (text(c.format)) out.format = text(c.format);
    if (text(c.description)) out.description = text(c.description);
    if (typeof c.priority === 'number') out.priority = c.priority;
    return out;
  });
}

/** Field selector keys from `selectableFields`: `.spec.color` is selected as `spec.color`. */
function selectableFieldsOf(value: unknown): ResourceDefinition['selectableFields'] {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const out: NonNullable<ResourceDefinition['selectableFields']> = {};
  for (const field of value) {
    const jsonPath = text(record(field).jsonPath);
    if (!jsonPath.startsWith('.')) continue;
    const segments = jsonPath.slice(1).split('.');
    out[segments.join('.')] = (object) => {
      let current: unknown = object;
      for (const segment of segments) current = record(current)[segment];
      if (current === undefined || current === null) return '';
      return typeof current === 'object' ? JSON.stringify(current) : String(current);
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// What the custom resource strategy checks beyond the OpenAPI schema

const EMPTY_RESOLVER = definitionsResolver({});

function validateCustomResource(
  object: KubeObject,
  context: ValidationContext,
  schema: RawSchema | undefined,
  scale: CustomResourceSubresourceScale | undefined,
): StatusCause[] {
  const causes: StatusCause[] = [];
  if (schema && context.subresource !== 'status') causes.push(...metadataNameRestrictions(object, schema));
  if (schema) causes.push(...validateListSetsAndMaps(object, schema));
  if (scale) causes.push(...validateScalePaths(object, scale, context.subresource === 'status'));
  return causes;
}

/** The CRD schema may restrict `metadata.name` and `metadata.generateName` (only those two). */
function metadataNameRestrictions(object: KubeObject, schema: RawSchema): StatusCause[] {
  const metadata = propertyOf(schema, 'metadata');
  if (!metadata) return [];
  const causes: StatusCause[] = [];
  for (const field of ['name', 'generateName'] as const) {
    const restriction = propertyOf(metadata, field);
    const value = object.metadata?.[field];
    if (!restriction || typeof value !== 'string' || value === '') continue;
    const result = validateAgainstSchema(value, restriction as SchemaNode, EMPTY_RESOLVER, {
      unknownFields: 'Ignore',
      rootPath: `metadata.${field}`,
    });
    causes.push(...result.causes);
  }
  return causes;
}

/** Canonical JSON (sorted keys, as Go's encoder writes maps) for comparing compound list items. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/** Indices of the second appearance of each repeated value (validateListSet). */
function nonUniqueIndices(values: unknown[]): number[] {
  const seen = new Map<string, number>();
  const out: number[] = [];
  values.forEach((value, i) => {
    const id = canonical(value);
    const times = seen.get(id) ?? 0;
    if (times === 1) out.push(i);
    seen.set(id, times + 1);
  });
  return out;
}

/**
 * listtype.ValidateListSetsAndMaps: items of `x-kubernetes-list-type: set` lists are unique, and
 * so are the key tuples of `map` lists; reported as kube's Duplicate value causes.
 */
export function validateListSetsAndMaps(object: unknown, schema: SchemaNode): StatusCause[] {
  const causes: StatusCause[] = [];
  if (isRawSchema(schema) && isRawSchema(object)) objectListSetsAndMaps(object, schema, '', causes, 0);
  return causes;
}

function objectListSetsAndMaps(
  object: Record<string, unknown>,
  schema: RawSchema,
  path: string,
  causes: StatusCause[],
  depth: number,
): void {
  if (depth > 200) return;
  const additional = additionalPropertiesOf(schema);
  if (additional) {
    for (const [name, value] of Object.entries(object))
      valueListSetsAndMaps(value, additional, key(path, name), causes, depth + 1);
  }
  const declared = new Map(propertiesOf(schema));
  for (const [name, value] of Object.entries(object)) {
    const property = declared.get(name);
    if (property) valueListSetsAndMaps(value, property, child(path, name), causes, depth + 1);
  }
}

function valueListSetsAndMaps(value: unknown, schema: RawSchema, path: string, causes: StatusCause[], depth: number): void {
  if (Array.isArray(value)) arrayListSetsAndMaps(value, schema, path, causes, depth);
  else if (isRawSchema(value)) objectListSetsAndMaps(value, schema, path, causes, depth);
}

function arrayListSetsAndMaps(list: unknown[], schema: RawSchema, path: string, causes: StatusCause[], depth: number): void {
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'set') {
    for (const i of nonUniqueIndices(list)) causes.push(fieldErrors.duplicate(index(path, i), list[i]));
  } else if (listType === 'map') {
    causes.push(...listMapDuplicates(list, schema, path));
  }
  const items = itemsOf(schema);
  if (items) list.forEach((item, i) => valueListSetsAndMaps(item, items, index(path, i), causes, depth + 1));
}

function listMapDuplicates(list: unknown[], schema: RawSchema, path: string): StatusCause[] {
  const badItem = list.findIndex((item) => item !== null && !isRawSchema(item));
  if (badItem >= 0)
    return [fieldErrors.invalid(index(path, badItem), list[badItem], 'must be an object for an array of list-type map')];
  if (list.length <= 1) return [];
  const keyFields = Array.isArray(schema['x-kubernetes-list-map-keys'])
    ? (schema['x-kubernetes-list-map-keys'] as unknown[]).filter((k): k is string => typeof k === 'string')
    : [];
  const keys = list.map((item) => {
    const entry: Record<string, unknown> = {};
    for (const field of keyFields) if (isRawSchema(item) && Object.hasOwn(item, field)) entry[field] = item[field];
    return entry;
  });
  return nonUniqueIndices(keys).map((i) => fieldErrors.duplicate(index(path, i), keys[i]));
}

/** Reads a dotted scale path (`.spec.replicas`) as unstructured.NestedFieldNoCopy does. */
function readPath(object: unknown, path: string): { found: boolean; value: unknown; at: string } {
  const segments = path.replace(/^\./, '').split('.');
  let current: unknown = object;
  for (let i = 0; i < segments.length; i++) {
    if (!isRawSchema(current)) {
      return { found: false, value: current, at: `.${segments.slice(0, i).join('.')}` };
    }
    if (!Object.hasOwn(current, segments[i])) return { found: false, value: undefined, at: '' };
    current = current[segments[i]];
  }
  return { found: true, value: current, at: '' };
}

function goTypeOf(value: unknown): string {
  if (value === null) return '<nil>';
  if (Array.isArray(value)) return '[]interface {}';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(value) ? 'int64' : 'float64';
    default:
      return 'map[string]interface {}';
  }
}

/**
 * ValidateScaleSpec / ValidateScaleStatus: the replicas paths, when present, hold non-negative
 * int32 integers and the label selector path a string. Status writes check only the status side.
 */
function validateScalePaths(object: KubeObject, scale: CustomResourceSubresourceScale, statusOnly: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  const replicas = (path: string) => {
    if (!path) return;
    const read = readPath(object, path);
    if (!read.found) {
      if (read.at)
        causes.push(
          fieldErrors.invalid(
            path,
            0,
            `${read.at} accessor error: ${String(read.value)} is of the type ${goTypeOf(read.value)}, expected map[string]interface{}`,
          ),
        );
      return;
    }
    const value = read.value;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      causes.push(
        fieldErrors.invalid(
          path,
          0,
          `${path} accessor error: ${String(value)} is of the type ${goTypeOf(value)}, expected int64`,
        ),
      );
    } else if (value < 0) {
      causes.push(fieldErrors.invalid(path, value, 'should be a non-negative integer'));
    } else if (value > 2147483647) {
      causes.push(fieldErrors.invalid(path, value, 'should be less than or equal to 2147483647'));
    }
  };
  if (!statusOnly) replicas(scale.specReplicasPath);
  replicas(scale.statusReplicasPath);
  if (scale.labelSelectorPath) {
    const read = readPath(object, scale.labelSelectorPath);
    if (read.found && typeof read.value !== 'string') {
      causes.push(
        fieldErrors.invalid(
          scale.labelSelectorPath,
          '',
          `${scale.labelSelectorPath} accessor error: ${String(read.value)} is of the type ${goTypeOf(read.value)}, expected string`,
        ),
      );
    }
  }
  return causes;
}
