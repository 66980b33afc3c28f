/**
 * Validation of CustomResourceDefinition objects (apiextensions.k8s.io/v1), with the rules,
 * order, field paths and wording of kube's pkg/apis/apiextensions/validation.
 *
 * Callers validate the object as kube's CRD strategy does: after v1 defaulting
 * (`defaultCustomResourceDefinition`) and create/update preparation
 * (`prepareCustomResourceDefinitionForCreate` / `…ForUpdate`), which fill `names.singular`,
 * `names.listKind` and `status.storedVersions`.
 *
 * Like kube, which validates its internal form, version-specific fields that are identical in
 * every version are validated (and reported) at the top level: one schema shared by all versions
 * (every single-version CRD) is reported under `spec.validation.openAPIV3Schema`, shared
 * subresources under `spec.subresources`, shared printer columns under
 * `spec.additionalPrinterColumns`; differing ones under `spec.versions[i].…`.
 *
 * Differences from kube, on purpose: conversion webhooks are refused (this server converts
 * versions by rewriting apiVersion only, strategy None), CEL rules in x-kubernetes-validations get
 * only their static checks (the expressions are neither compiled nor enforced), and printer
 * column JSONPaths must be ones the server's printer can evaluate.
 */
import {
  fieldErrors,
  isDNS1035Label,
  isDNS1123Subdomain,
  nameIsDNSSubdomain,
  validateObjectMeta,
  validateObjectMetaUpdate,
  type StatusCause,
} from '@canopy/apimachinery';
import { parseJsonPath } from '../registry/printing.js';
import { isEstablished } from './definitions.js';
import {
  hasDefaults,
  hasInvalidMapListKeysMapSet,
  hasInvalidTypes,
  hasNonAtomicSetType,
  hasUnprunedDefaults,
  index,
  isRawSchema,
  isStructural,
  propertyOf,
  additionalPropertiesOf,
  sameJson,
  schemaHas,
  validateCustomResourceSchema,
  type RawSchema,
} from './structural.js';

type Json = Record<string, unknown>;

function record(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function strings(value: unknown): string[] {
  return list(value).filter((v): v is string => typeof v === 'string');
}

const SCOPES = ['Cluster', 'Namespaced'];
const PRINTER_COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
const PRINTER_COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];
const MAX_SELECTABLE_FIELDS = 8;
const API_APPROVAL_ANNOTATION = 'api-approved.kubernetes.io';

/** The per-version fields kube's internal form lifts to the top level when every version has the same value. */
interface Hoisting {
  schema: boolean;
  subresources: boolean;
  columns: boolean;
  selectableFields: boolean;
}

/** What an update relaxes so that CRDs stored under older rules stay updatable. */
interface Options {
  requireOpenAPISchema: boolean;
  requireValidPropertyType: boolean;
  requireStructuralSchema: boolean;
  requirePrunedDefaults: boolean;
  requireAtomicSetType: boolean;
  requireMapListKeysMapSetValidation: boolean;
}

/**
 * Validates a CRD being created (`old` absent) or updated (`old` the stored object). Returns
 * kube's causes in kube's order; an empty list means the CRD is valid.
 */
export function validateCustomResourceDefinition(crd: unknown, old?: unknown): StatusCause[] {
  const object = record(crd);
  const spec = record(object.spec);
  const oldSpec = old === undefined ? undefined : record(record(old).spec);
  const causes: StatusCause[] = [];

  if (old === undefined) {
    const requiredName = `${text(record(spec.names).plural)}.${text(spec.group)}`;
    causes.push(
      ...validateObjectMeta(object.metadata, {
        namespaced: false,
        path: 'metadata',
        nameValidator: (name, prefix) => {
          const problems = nameIsDNSSubdomain(name, prefix);
          if (name !== requiredName) problems.push('must be spec.names.plural+"."+spec.group');
          return problems;
        },
      }),
    );
  } else {
    causes.push(...validateObjectMetaUpdate(object.metadata, record(old).metadata, 'metadata'));
  }

  const options = optionsFor(spec, oldSpec);
  causes.push(...validateSpec(spec, options));
  if (oldSpec !== undefined) causes.push(...immutableFields(spec, oldSpec, isEstablished(old)));

  const status = record(object.status);
  causes.push(...validateNames(record(status.acceptedNames), 'status.acceptedNames'));
  causes.push(...validateStoredVersions(status.storedVersions, list(spec.versions).map(record)));
  causes.push(...validateAPIApproval(object, old === undefined ? undefined : record(old)));
  causes.push(...validatePreserveUnknownFields(spec, oldSpec));
  return causes;
}

/**
 * Validates a write of the CRD's status subresource (ValidateUpdateCustomResourceDefinitionStatus):
 * metadata may not change what updates may not change, and accepted names must be valid names.
 */
export function validateCustomResourceDefinitionStatusUpdate(crd: unknown, old: unknown): StatusCause[] {
  const object = record(crd);
  return [
    ...validateObjectMetaUpdate(object.metadata, record(old).metadata, 'metadata'),
    ...validateNames(record(record(object.status).acceptedNames), 'status.acceptedNames'),
  ];
}

function optionsFor(spec: Json, oldSpec: Json | undefined): Options {
  const schemas = (s: Json) => list(s.versions).map((v) => record(record(v).schema).openAPIV3Schema);
  if (oldSpec === undefined) {
    return {
      requireOpenAPISchema: true,
      requireValidPropertyType: true,
      requireStructuralSchema: true,
      requirePrunedDefaults: true,
      requireAtomicSetType: true,
      requireMapListKeysMapSetValidation: true,
    };
  }
  const old = schemas(oldSpec);
  const current = schemas(spec);
  const pruning = spec.preserveUnknownFields !== true;
  return {
    requireOpenAPISchema: old.every(isRawSchema),
    requireValidPropertyType: !old.some(hasInvalidTypes),
    // Pruning needs a structural schema, and so do defaults and the x-kubernetes extensions.
    requireStructuralSchema:
      pruning ||
      !old.some((s) => isRawSchema(s) && !isStructural(s)) ||
      current.some(hasDefaults) ||
      current.some(hasKubernetesExtensions),
    requirePrunedDefaults: !old.some(hasUnprunedDefaults),
    requireAtomicSetType: !old.some(hasNonAtomicSetType),
    requireMapListKeysMapSetValidation: !old.some(hasInvalidMapListKeysMapSet),
  };
}

function hasKubernetesExtensions(schema: unknown): boolean {
  return schemaHas(schema, (node) =>
    [
      'x-kubernetes-embedded-resource',
      'x-kubernetes-preserve-unknown-fields',
      'x-kubernetes-int-or-string',
      'x-kubernetes-list-map-keys',
      'x-kubernetes-list-type',
      'x-kubernetes-validations',
    ].some((name) => node[name] !== undefined && node[name] !== null && node[name] !== false),
  );
}

/** apiequality.Semantic: nil and empty lists are the same, and so are absent and null. */
function samePerVersionValue(a: unknown, b: unknown): boolean {
  const normal = (v: unknown) => (v === undefined || v === null || (Array.isArray(v) && v.length === 0) ? null : v);
  return sameJson(normal(a), normal(b));
}

function hoistingOf(versions: Json[]): Hoisting {
  const identical = (name: string) =>
    versions.length > 0 && versions.every((v) => samePerVersionValue(v[name], versions[0][name]));
  const schema = identical('schema');
  return {
    schema,
    subresources: identical('subresources'),
    columns: identical('additionalPrinterColumns'),
    selectableFields: schema && identical('selectableFields'),
  };
}

function hasStatus(subresources: unknown): boolean {
  return isRawSchema(record(subresources).status);
}

function validateSpec(spec: Json, options: Options): StatusCause[] {
  const causes: StatusCause[] = [];
  const group = text(spec.group);
  if (!group) causes.push(fieldErrors.required('spec.group'));
  else {
    const problems = isDNS1123Subdomain(group);
    if (problems.length) causes.push(fieldErrors.invalid('spec.group', group, problems.join(',')));
    else if (group.split('.').length < 2)
      causes.push(fieldErrors.invalid('spec.group', group, 'should be a domain with at least one dot'));
  }
  causes.push(...enumString('spec.scope', spec.scope, SCOPES));

  const versions = list(spec.versions).map(record);
  const preserveUnknownFields = spec.preserveUnknownFields === true;
  if (options.requireOpenAPISchema) {
    versions.forEach((v, i) => {
      if (!isRawSchema(record(v.schema).openAPIV3Schema))
        causes.push(fieldErrors.required(`spec.versions[${i}].schema.openAPIV3Schema`));
    });
  } else if (!preserveUnknownFields) {
    versions.forEach((v, i) => {
      if (v.served === true && !isRawSchema(record(v.schema).openAPIV3Schema)) {
        causes.push(
          fieldErrors.required(`spec.versions[${i}].schema.openAPIV3Schema`, 'because otherwise all fields are pruned'),
        );
      }
    });
  }
  const schemas = versions.map((v) => record(v.schema).openAPIV3Schema);
  if (schemas.some(hasDefaults) && preserveUnknownFields) {
    causes.push(fieldErrors.invalid('spec.preserveUnknownFields', true, 'must be false in order to use defaults in the schema'));
  }

  const hoisting = hoistingOf(versions);
  let storageVersions = 0;
  const seen = new Set<string>();
  let unique = true;
  versions.forEach((version, i) => {
    const path = `spec.versions[${i}]`;
    const name = text(version.name);
    if (version.storage === true) storageVersions++;
    if (seen.has(name)) unique = false;
    seen.add(name);
    const problems = isDNS1035Label(name);
    if (problems.length) causes.push(fieldErrors.invalid(`${path}.name`, name, problems.join(',')));

    for (const problem of deprecationWarningProblems(version.deprecated === true, version.deprecationWarning)) {
      causes.push(fieldErrors.invalid(`${path}.deprecationWarning`, version.deprecationWarning, problem));
    }
    const subresources = hoisting.subresources ? versions[0].subresources : version.subresources;
    if (!hoisting.schema && isRawSchema(version.schema)) {
      causes.push(...validateValidation(version.schema, hasStatus(subresources), options, `${path}.schema`));
    }
    if (!hoisting.subresources) causes.push(...validateSubresources(version.subresources, `${path}.subresources`));
    if (!hoisting.columns) causes.push(...validateColumns(version.additionalPrinterColumns, `${path}.additionalPrinterColumns`));
    if (!hoisting.selectableFields && list(version.selectableFields).length > 0) {
      const schema = record(version.schema).openAPIV3Schema;
      if (!isRawSchema(schema)) {
        causes.push(
          fieldErrors.invalid(
            `${path}.selectableFields`,
            '',
            'may only be set when `version.schema.openAPIV3Schema` is not included',
          ),
        );
      } else {
        causes.push(...validateSelectableFields(version.selectableFields, schema, `${path}.selectableFields`));
      }
    }
  });
  if (!unique) causes.push(fieldErrors.invalid('spec.versions', versions, 'must contain unique version names'));
  if (storageVersions !== 1)
    causes.push(fieldErrors.invalid('spec.versions', versions, 'must have exactly one version marked as storage version'));
  // kube's internal form also carries the first version's name as spec.version, and checks it again.
  const firstName = versions.length ? text(versions[0].name) : '';
  if (firstName) {
    const problems = isDNS1035Label(firstName);
    if (problems.length) causes.push(fieldErrors.invalid('spec.version', firstName, problems.join(',')));
  }

  const names = record(spec.names);
  for (const name of ['plural', 'singular', 'kind', 'listKind']) {
    if (!text(names[name])) causes.push(fieldErrors.required(`spec.names.${name}`));
  }
  causes.push(...validateNames(names, 'spec.names'));

  if (hoisting.schema && isRawSchema(versions[0].schema)) {
    const anyStatus = versions.some((v) => hasStatus(v.subresources));
    causes.push(...validateValidation(versions[0].schema, anyStatus, options, 'spec.validation'));
  }
  if (hoisting.subresources) causes.push(...validateSubresources(versions[0].subresources, 'spec.subresources'));
  if (hoisting.columns) causes.push(...validateColumns(versions[0].additionalPrinterColumns, 'spec.additionalPrinterColumns'));
  if (hoisting.selectableFields && list(versions[0].selectableFields).length > 0) {
    const schema = record(versions[0].schema).openAPIV3Schema;
    if (!isRawSchema(versions[0].schema)) {
      causes.push(fieldErrors.invalid('spec.selectableFields', '', 'may only be set when validations.schema is included'));
    } else if (isRawSchema(schema)) {
      causes.push(...validateSelectableFields(versions[0].selectableFields, schema, 'spec.selectableFields'));
    }
  }

  causes.push(...validateConversion(spec.conversion, preserveUnknownFields));
  return causes;
}

function enumString(path: string, value: unknown, accepted: string[]): StatusCause[] {
  const v = text(value);
  if (!v) return [fieldErrors.required(path)];
  return accepted.includes(v) ? [] : [fieldErrors.notSupported(path, v, accepted)];
}

function deprecationWarningProblems(deprecated: boolean, warning: unknown): string[] {
  if (warning === undefined || warning === null) return [];
  if (!deprecated) return ['can only be set for deprecated versions'];
  const value = text(warning);
  const problems: string[] = [];
  if (Buffer.byteLength(value) > 256) problems.push('must be <= 256 characters long');
  if (value.length === 0) problems.push('must not be an empty string');
  let offset = 0;
  for (const character of value) {
    if (/\p{Cc}/u.test(character)) {
      problems.push(`must only contain printable UTF-8 characters; control character found at index ${offset}`);
      break;
    }
    if (!/[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(character)) {
      problems.push(`must only contain printable UTF-8 characters; non-printable character found at index ${offset}`);
      break;
    }
    offset += Buffer.byteLength(character);
  }
  return problems;
}

/** validateCustomResourceDefinitionValidation: the `schema` wrapper of a version (or the shared one) at `path`. */
function validateValidation(wrapper: RawSchema, statusSubresource: boolean, options: Options, path: string): StatusCause[] {
  const schema = wrapper.openAPIV3Schema;
  if (schema === undefined || schema === null) return [];
  return validateCustomResourceSchema(schema, `${path}.openAPIV3Schema`, {
    ...options,
    statusSubresource,
    requireStructural: options.requireStructuralSchema,
  });
}

function validateSubresources(value: unknown, path: string): StatusCause[] {
  const scale = record(value).scale;
  if (!isRawSchema(scale)) return [];
  const causes: StatusCause[] = [];
  const spec = text(scale.specReplicasPath);
  if (!spec) causes.push(fieldErrors.required(`${path}.scale.specReplicasPath`));
  else {
    const problems = simpleJsonPathProblems(spec, `${path}.scale.specReplicasPath`);
    if (problems.length) causes.push(...problems);
    else if (!spec.startsWith('.spec.'))
      causes.push(fieldErrors.invalid(`${path}.scale.specReplicasPath`, spec, 'should be a json path under .spec'));
  }
  const status = text(scale.statusReplicasPath);
  if (!status) causes.push(fieldErrors.required(`${path}.scale.statusReplicasPath`));
  else {
    const problems = simpleJsonPathProblems(status, `${path}.scale.statusReplicasPath`);
    if (problems.length) causes.push(...problems);
    else if (!status.startsWith('.status.'))
      causes.push(fieldErrors.invalid(`${path}.scale.statusReplicasPath`, status, 'should be a json path under .status'));
  }
  const selector = text(scale.labelSelectorPath);
  if (selector) {
    const problems = simpleJsonPathProblems(selector, `${path}.scale.labelSelectorPath`);
    if (problems.length) causes.push(...problems);
    else if (!selector.startsWith('.spec.') && !selector.startsWith('.status.')) {
      causes.push(
        fieldErrors.invalid(`${path}.scale.labelSelectorPath`, selector, 'should be a json path under either .spec or .status'),
      );
    }
  }
  return causes;
}

function simpleJsonPathProblems(value: string, path: string): StatusCause[] {
  if (value.length === 0) return [fieldErrors.invalid(path, value, 'must not be empty')];
  if (value[0] !== '.') return [fieldErrors.invalid(path, value, 'must be a simple json path starting with .')];
  return [];
}

function validateColumns(value: unknown, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  list(value).forEach((entry, i) => {
    const column = record(entry);
    const columnPath = index(path, i);
    if (!text(column.name)) causes.push(fieldErrors.required(`${columnPath}.name`));
    const type = text(column.type);
    const types = `must be one of ${PRINTER_COLUMN_TYPES.join(',')}`;
    if (!type) causes.push(fieldErrors.required(`${columnPath}.type`, types));
    else if (!PRINTER_COLUMN_TYPES.includes(type)) causes.push(fieldErrors.invalid(`${columnPath}.type`, type, types));
    const format = text(column.format);
    if (format && !PRINTER_COLUMN_FORMATS.includes(format)) {
      causes.push(fieldErrors.invalid(`${columnPath}.format`, format, `must be one of ${PRINTER_COLUMN_FORMATS.join(',')}`));
    }
    // kube names this field by its Go name in the path.
    const jsonPath = text(column.jsonPath);
    if (!jsonPath) causes.push(fieldErrors.required(`${columnPath}.JSONPath`));
    else {
      const problems = simpleJsonPathProblems(jsonPath, `${columnPath}.JSONPath`);
      if (problems.length) causes.push(...problems);
      else if (!parseJsonPath(jsonPath)) {
        causes.push(
          fieldErrors.invalid(
            `${columnPath}.JSONPath`,
            jsonPath,
            'must be a JSONPath this server can evaluate (fields, indexes, slices, wildcards and filters)',
          ),
        );
      }
    }
  });
  return causes;
}

/** The schema node a selectable field's `.a.b` path names, or an error (cel.ValidFieldPath without array notation). */
function resolveFieldPath(jsonPath: string, schema: RawSchema): { node?: RawSchema; root?: string; error?: string } {
  if (!jsonPath.startsWith('.')) return { error: 'must start with a dot' };
  const segments = jsonPath.slice(1).split('.');
  let node: RawSchema = schema;
  for (const segment of segments) {
    if (!segment || segment.includes('[')) return { error: 'expected single field name' };
    const next = propertyOf(node, segment) ?? additionalPropertiesOf(node);
    if (!next) return { error: 'does not refer to a valid field' };
    node = next;
  }
  return { node, root: segments[0] };
}

function validateSelectableFields(value: unknown, schema: RawSchema, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const unique = new Set<string>();
  list(value).forEach((entry, i) => {
    const fieldPath = `${index(path, i)}.jsonPath`;
    const jsonPath = text(record(entry).jsonPath);
    if (!jsonPath) {
      causes.push(fieldErrors.required(fieldPath));
      return;
    }
    const resolved = resolveFieldPath(jsonPath, schema);
    if (resolved.error) {
      causes.push(fieldErrors.invalid(fieldPath, jsonPath, `is an invalid path: ${resolved.error}`));
      return;
    }
    if (resolved.root === 'metadata')
      causes.push(fieldErrors.invalid(fieldPath, jsonPath, 'must not point to fields in metadata'));
    if (!['string', 'boolean', 'integer'].includes(text(resolved.node?.type))) {
      causes.push(
        fieldErrors.invalid(
          fieldPath,
          jsonPath,
          'must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.',
        ),
      );
    }
    if (unique.has(jsonPath)) causes.push(fieldErrors.duplicate(fieldPath, jsonPath));
    else unique.add(jsonPath);
  });
  if (unique.size > MAX_SELECTABLE_FIELDS) {
    causes.push({
      reason: 'FieldValueTooMany',
      message: `Too many: ${unique.size}: must have at most ${MAX_SELECTABLE_FIELDS} items`,
      field: path,
    });
  }
  return causes;
}

function validateConversion(value: unknown, preserveUnknownFields: boolean): StatusCause[] {
  if (value === undefined || value === null) return [];
  const conversion = record(value);
  const strategy = text(conversion.strategy);
  const causes: StatusCause[] = [];
  if (strategy !== 'None' && preserveUnknownFields) {
    causes.push(fieldErrors.invalid('spec.conversion.strategy', strategy, 'must be None if spec.preserveUnknownFields is true'));
  }
  causes.push(...enumString('spec.conversion.strategy', strategy, ['None', 'Webhook']));
  const webhook = record(conversion.webhook);
  if (strategy === 'Webhook') {
    causes.push(
      fieldErrors.forbidden(
        'spec.conversion.strategy',
        'Webhook conversion is not supported by this server: its custom resource versions convert with strategy None (apiVersion rewrite only)',
      ),
    );
  } else {
    if (isRawSchema(webhook.clientConfig)) {
      causes.push(
        fieldErrors.forbidden('spec.conversion.webhookClientConfig', 'should not be set when strategy is not set to Webhook'),
      );
    }
    if (strings(webhook.conversionReviewVersions).length > 0) {
      causes.push(
        fieldErrors.forbidden(
          'spec.conversion.conversionReviewVersions',
          'should not be set when strategy is not set to Webhook',
        ),
      );
    }
  }
  return causes;
}

/** ValidateCustomResourceDefinitionNames (spec.names and status.acceptedNames). */
function validateNames(names: Json, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const name of ['plural', 'singular']) {
    const value = text(names[name]);
    const problems = value ? isDNS1035Label(value) : [];
    if (problems.length) causes.push(fieldErrors.invalid(`${path}.${name}`, value, problems.join(',')));
  }
  for (const name of ['kind', 'listKind']) {
    const value = text(names[name]);
    const problems = value ? isDNS1035Label(value.toLowerCase()) : [];
    if (problems.length)
      causes.push(
        fieldErrors.invalid(`${path}.${name}`, value, `may have mixed case, but should otherwise match: ${problems.join(',')}`),
      );
  }
  strings(names.shortNames).forEach((shortName, i) => {
    const problems = isDNS1035Label(shortName);
    if (problems.length) causes.push(fieldErrors.invalid(`${path}.shortNames[${i}]`, shortName, problems.join(',')));
  });
  const kind = text(names.kind);
  if (kind && kind === text(names.listKind))
    causes.push(fieldErrors.invalid(`${path}.listKind`, kind, 'kind and listKind may not be the same'));
  strings(names.categories).forEach((category, i) => {
    const problems = isDNS1035Label(category);
    if (problems.length) causes.push(fieldErrors.invalid(`${path}.categories[${i}]`, category, problems.join(',')));
  });
  return causes;
}

function validateStoredVersions(value: unknown, versions: Json[]): StatusCause[] {
  const path = 'status.storedVersions';
  const stored = strings(value);
  if (stored.length === 0) return [fieldErrors.invalid(path, stored, 'must have at least one stored version')];
  const causes: StatusCause[] = [];
  const remaining = new Map<string, number>();
  stored.forEach((v, i) => remaining.set(v, i));
  for (const version of versions) {
    const name = text(version.name);
    const found = remaining.has(name);
    if (version.storage === true && !found)
      causes.push(fieldErrors.invalid(path, stored, `must have the storage version ${name}`));
    if (found) remaining.delete(name);
  }
  for (const [v, i] of [...remaining].sort((a, b) => a[1] - b[1])) {
    causes.push(
      fieldErrors.invalid(
        `${path}[${i}]`,
        v,
        `missing from spec.versions; ${v} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in ${v} and removes ${v} from status.storedVersions`,
      ),
    );
  }
  return causes;
}

/** Groups under k8s.io and kubernetes.io belong to the Kubernetes project and need an API review link. */
function isProtectedCommunityGroup(group: string): boolean {
  return group === 'k8s.io' || group.endsWith('.k8s.io') || group === 'kubernetes.io' || group.endsWith('.kubernetes.io');
}

type ApprovalState = 'Approved' | 'Bypassed' | 'Missing' | 'Invalid';

function approvalState(annotations: Json): { state: ApprovalState; reason: string } {
  const annotation = text(annotations[API_APPROVAL_ANNOTATION]);
  if (!annotation) {
    return {
      state: 'Missing',
      reason: `protected groups must have approval annotation ${JSON.stringify(API_APPROVAL_ANNOTATION)}, see https://github.com/kubernetes/enhancements/pull/1111`,
    };
  }
  if (annotation.startsWith('unapproved')) return { state: 'Bypassed', reason: '' };
  if (!isRequestURI(annotation)) {
    return {
      state: 'Invalid',
      reason: `protected groups must have approval annotation ${JSON.stringify(API_APPROVAL_ANNOTATION)} with either a URL or a reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111`,
    };
  }
  return { state: 'Approved', reason: '' };
}

/** url.ParseRequestURI: an absolute URL or an absolute path. */
function isRequestURI(value: string): boolean {
  if (value.startsWith('/')) return true;
  try {
    new URL(value);
    return /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(value);
  } catch {
    return false;
  }
}

function validateAPIApproval(crd: Json, old: Json | undefined): StatusCause[] {
  if (!isProtectedCommunityGroup(text(record(crd.spec).group))) return [];
  const annotations = record(record(crd.metadata).annotations);
  const next = approvalState(annotations);
  if (old !== undefined && approvalState(record(record(old.metadata).annotations)).state === next.state) return [];
  const path = `metadata.annotations[${API_APPROVAL_ANNOTATION}]`;
  switch (next.state) {
    case 'Missing':
      return [fieldErrors.required(path, next.reason)];
    case 'Invalid':
      return [fieldErrors.invalid(path, text(annotations[API_APPROVAL_ANNOTATION]), next.reason)];
    default:
      return [];
  }
}

function validatePreserveUnknownFields(spec: Json, oldSpec: Json | undefined): StatusCause[] {
  if (oldSpec?.preserveUnknownFields === true) return [];
  if (spec.preserveUnknownFields !== true) return [];
  return [
    fieldErrors.invalid(
      'spec.preserveUnknownFields',
      true,
      'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead',
    ),
  ];
}

/** What an update may not change: group and plural (they make up the name) always, scope and kind once established. */
function immutableFields(spec: Json, oldSpec: Json, established: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  const immutable = (path: string, next: unknown, previous: unknown) => {
    if (next !== previous) causes.push(fieldErrors.invalid(path, next ?? '', 'field is immutable'));
  };
  if (established) {
    immutable('spec.scope', spec.scope, oldSpec.scope);
    immutable('spec.names.kind', record(spec.names).kind, record(oldSpec.names).kind);
  }
  immutable('spec.group', spec.group, oldSpec.group);
  immutable('spec.names.plural', record(spec.names).plural, record(oldSpec.names).plural);
  return causes;
}
