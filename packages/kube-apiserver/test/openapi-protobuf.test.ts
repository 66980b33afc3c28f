/**
 * `/openapi/v2` as gnostic protobuf: decoded here by an independent reader (a generic wire
 * parser driven by a table of gnostic's `openapiv2/OpenAPIv2.proto` messages) and turned back
 * into swagger JSON, which must be the document that was encoded.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { buildDefinitions } from '../src/openapi/definitions.js';
import { openApiV2 } from '../src/openapi/documents.js';
import { encodeOpenApiV2Protobuf } from '../src/openapi/protobuf-v2.js';
import { builtinResources } from '../src/registry/builtin.js';
import type { ResourceDefinition } from '../src/registry/types.js';

// ---------------------------------------------------------------------------------------------
// A table of the proto messages: field number → name and type (scalar or message name).

type Scalar = 'string' | 'bool' | 'int64' | 'double';
interface Field {
  name: string;
  type: Scalar | string;
  repeated?: boolean;
  /** Member of the message's `oneof`. */
  oneof?: boolean;
}

const f = (name: string, type: Scalar | string, extra: Partial<Field> = {}): Field => ({ name, type, ...extra });
const rep = (name: string, type: Scalar | string): Field => f(name, type, { repeated: true });
const one = (name: string, type: Scalar | string): Field => f(name, type, { oneof: true });
const named = (valueType: string): Record<number, Field> => ({ 1: f('name', 'string'), 2: f('value', valueType) });
const ext = (n: number): Record<number, Field> => ({ [n]: rep('vendor_extension', 'NamedAny') });
/** type … multiple_of, numbered from `first`, as the non-body parameters, PrimitivesItems and Header have them. */
const primitive = (first: number): Record<number, Field> => {
  const names: Array<[string, Scalar | string, boolean?]> = [
    ['type', 'string'],
    ['format', 'string'],
    ['items', 'PrimitivesItems'],
    ['collection_format', 'string'],
    ['default', 'Any'],
    ['maximum', 'double'],
    ['exclusive_maximum', 'bool'],
    ['minimum', 'double'],
    ['exclusive_minimum', 'bool'],
    ['max_length', 'int64'],
    ['min_length', 'int64'],
    ['pattern', 'string'],
    ['max_items', 'int64'],
    ['min_items', 'int64'],
    ['unique_items', 'bool'],
    ['enum', 'Any', true],
    ['multiple_of', 'double'],
  ];
  return Object.fromEntries(names.map(([name, type, repeated], i) => [first + i, f(name, type, { repeated })]));
};
const parameterHead = { 1: f('required', 'bool'), 2: f('in', 'string'), 3: f('description', 'string'), 4: f('name', 'string') };

const PROTO: Record<string, Record<number, Field>> = {
  Document: {
    1: f('swagger', 'string'),
    2: f('info', 'Info'),
    3: f('host', 'string'),
    4: f('base_path', 'string'),
    5: rep('schemes', 'string'),
    6: rep('consumes', 'string'),
    7: rep('produces', 'string'),
    8: f('paths', 'Paths'),
    9: f('definitions', 'Definitions'),
    10: f('parameters', 'ParameterDefinitions'),
    11: f('responses', 'ResponseDefinitions'),
    12: rep('security', 'SecurityRequirement'),
    13: f('security_definitions', 'SecurityDefinitions'),
    14: rep('tags', 'Tag'),
    15: f('external_docs', 'ExternalDocs'),
    ...ext(16),
  },
  Info: {
    1: f('title', 'string'),
    2: f('version', 'string'),
    3: f('description', 'string'),
    4: f('terms_of_service', 'string'),
    5: f('contact', 'Contact'),
    6: f('license', 'License'),
    ...ext(7),
  },
  Contact: { 1: f('name', 'string'), 2: f('url', 'string'), 3: f('email', 'string'), ...ext(4) },
  License: { 1: f('name', 'string'), 2: f('url', 'string'), ...ext(3) },
  Tag: { 1: f('name', 'string'), 2: f('description', 'string'), 3: f('external_docs', 'ExternalDocs'), ...ext(4) },
  ExternalDocs: { 1: f('description', 'string'), 2: f('url', 'string'), ...ext(3) },
  Any: { 2: f('yaml', 'string') },
  NamedAny: named('Any'),
  Paths: { ...ext(1), 2: rep('path', 'NamedPathItem') },
  NamedPathItem: named('PathItem'),
  PathItem: {
    1: f('_ref', 'string'),
    2: f('get', 'Operation'),
    3: f('put', 'Operation'),
    4: f('post', 'Operation'),
    5: f('delete', 'Operation'),
    6: f('options', 'Operation'),
    7: f('head', 'Operation'),
    8: f('patch', 'Operation'),
    9: rep('parameters', 'ParametersItem'),
    ...ext(10),
  },
  Operation: {
    1: rep('tags', 'string'),
    2: f('summary', 'string'),
    3: f('description', 'string'),
    4: f('external_docs', 'ExternalDocs'),
    5: f('operation_id', 'string'),
    6: rep('produces', 'string'),
    7: rep('consumes', 'string'),
    8: rep('parameters', 'ParametersItem'),
    9: f('responses', 'Responses'),
    10: rep('schemes', 'string'),
    11: f('deprecated', 'bool'),
    12: rep('security', 'SecurityRequirement'),
    ...ext(13),
  },
  ParametersItem: { 1: one('parameter', 'Parameter'), 2: one('json_reference', 'JsonReference') },
  JsonReference: { 1: f('_ref', 'string'), 2: f('description', 'string') },
  Parameter: { 1: one('body_parameter', 'BodyParameter'), 2: one('non_body_parameter', 'NonBodyParameter') },
  BodyParameter: {
    1: f('description', 'string'),
    2: f('name', 'string'),
    3: f('in', 'string'),
    4: f('required', 'bool'),
    5: f('schema', 'Schema'),
    ...ext(6),
  },
  NonBodyParameter: {
    1: one('header_parameter_sub_schema', 'HeaderParameterSubSchema'),
    2: one('form_data_parameter_sub_schema', 'FormDataParameterSubSchema'),
    3: one('query_parameter_sub_schema', 'QueryParameterSubSchema'),
    4: one('path_parameter_sub_schema', 'PathParameterSubSchema'),
  },
  HeaderParameterSubSchema: { ...parameterHead, ...primitive(5), ...ext(22) },
  PathParameterSubSchema: { ...parameterHead, ...primitive(5), ...ext(22) },
  QueryParameterSubSchema: { ...parameterHead, 5: f('allow_empty_value', 'bool'), ...primitive(6), ...ext(23) },
  FormDataParameterSubSchema: { ...parameterHead, 5: f('allow_empty_value', 'bool'), ...primitive(6), ...ext(23) },
  PrimitivesItems: { ...primitive(1), ...ext(18) },
  Header: { ...primitive(1), 18: f('description', 'string'), ...ext(19) },
  Responses: { 1: rep('response_code', 'NamedResponseValue'), ...ext(2) },
  NamedResponseValue: named('ResponseValue'),
  ResponseValue: { 1: one('response', 'Response'), 2: one('json_reference', 'JsonReference') },
  Response: {
    1: f('description', 'string'),
    2: f('schema', 'SchemaItem'),
    3: f('headers', 'Headers'),
    4: f('examples', 'Examples'),
    ...ext(5),
  },
  Headers: { 1: rep('additional_properties', 'NamedHeader') },
  NamedHeader: named('Header'),
  Examples: { 1: rep('additional_properties', 'NamedAny') },
  SchemaItem: { 1: one('schema', 'Schema'), 2: one('file_schema', 'FileSchema') },
  FileSchema: {
    1: f('format', 'string'),
    2: f('title', 'string'),
    3: f('description', 'string'),
    4: f('default', 'Any'),
    5: rep('required', 'string'),
    6: f('type', 'string'),
    7: f('read_only', 'bool'),
    8: f('external_docs', 'ExternalDocs'),
    9: f('example', 'Any'),
    ...ext(10),
  },
  Definitions: { 1: rep('additional_properties', 'NamedSchema') },
  Properties: { 1: rep('additional_properties', 'NamedSchema') },
  NamedSchema: named('Schema'),
  ParameterDefinitions: { 1: rep('additional_properties', 'NamedParameter') },
  NamedParameter: named('Parameter'),
  ResponseDefinitions: { 1: rep('additional_properties', 'NamedResponse') },
  NamedResponse: named('Response'),
  Schema: {
    1: f('_ref', 'string'),
    2: f('format', 'string'),
    3: f('title', 'string'),
    4: f('description', 'string'),
    5: f('default', 'Any'),
    6: f('multiple_of', 'double'),
    7: f('maximum', 'double'),
    8: f('exclusive_maximum', 'bool'),
    9: f('minimum', 'double'),
    10: f('exclusive_minimum', 'bool'),
    11: f('max_length', 'int64'),
    12: f('min_length', 'int64'),
    13: f('pattern', 'string'),
    14: f('max_items', 'int64'),
    15: f('min_items', 'int64'),
    16: f('unique_items', 'bool'),
    17: f('max_properties', 'int64'),
    18: f('min_properties', 'int64'),
    19: rep('required', 'string'),
    20: rep('enum', 'Any'),
    21: f('additional_properties', 'AdditionalPropertiesItem'),
    22: f('type', 'TypeItem'),
    23: f('items', 'ItemsItem'),
    24: rep('all_of', 'Schema'),
    25: f('properties', 'Properties'),
    26: f('discriminator', 'string'),
    27: f('read_only', 'bool'),
    29: f('external_docs', 'ExternalDocs'),
    30: f('example', 'Any'),
    ...ext(31),
  },
  AdditionalPropertiesItem: { 1: one('schema', 'Schema'), 2: one('boolean', 'bool') },
  TypeItem: { 1: rep('value', 'string') },
  ItemsItem: { 1: rep('schema', 'Schema') },
  SecurityRequirement: { 1: rep('additional_properties', 'NamedStringArray') },
  NamedStringArray: named('StringArray'),
  StringArray: { 1: rep('value', 'string') },
  SecurityDefinitions: { 1: rep('additional_properties', 'NamedSecurityDefinitionsItem') },
  NamedSecurityDefinitionsItem: named('SecurityDefinitionsItem'),
  SecurityDefinitionsItem: {
    1: one('basic_authentication_security', 'BasicAuthenticationSecurity'),
    2: one('api_key_security', 'ApiKeySecurity'),
  },
  BasicAuthenticationSecurity: { 1: f('type', 'string'), 2: f('description', 'string'), ...ext(3) },
  ApiKeySecurity: {
    1: f('type', 'string'),
    2: f('name', 'string'),
    3: f('in', 'string'),
    4: f('description', 'string'),
    ...ext(5),
  },
};

// ---------------------------------------------------------------------------------------------
// Wire reader

type Decoded = { [name: string]: unknown };

function readVarint(buf: Buffer, pos: { at: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    assert.ok(pos.at < buf.length, 'varint runs past the end of the message');
    const byte = buf[pos.at++];
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7n;
    assert.ok(shift < 70n, 'varint longer than 10 bytes');
  }
}

/** Decodes `buf` as message `type`: fails on unknown field numbers, wrong wire types, several oneof members or truncation. */
function decode(type: string, buf: Buffer): Decoded {
  const fields = PROTO[type];
  assert.ok(fields, `no table entry for message ${type}`);
  const out: Decoded = {};
  const oneofsSet: string[] = [];
  const pos = { at: 0 };
  while (pos.at < buf.length) {
    const key = readVarint(buf, pos);
    const number = Number(key >> 3n);
    const wire = Number(key & 7n);
    const field = fields[number];
    assert.ok(field, `${type}: unknown field number ${number}`);
    let value: unknown;
    if (field.type === 'bool' || field.type === 'int64') {
      assert.equal(wire, 0, `${type}.${field.name}: wire type`);
      const v = readVarint(buf, pos);
      value = field.type === 'bool' ? v !== 0n : Number(BigInt.asIntN(64, v));
    } else if (field.type === 'double') {
      assert.equal(wire, 1, `${type}.${field.name}: wire type`);
      value = buf.readDoubleLE(pos.at);
      pos.at += 8;
    } else {
      assert.equal(wire, 2, `${type}.${field.name}: wire type`);
      const length = Number(readVarint(buf, pos));
      assert.ok(pos.at + length <= buf.length, `${type}.${field.name}: length past the end`);
      const bytes = buf.subarray(pos.at, pos.at + length);
      pos.at += length;
      value = field.type === 'string' ? bytes.toString('utf8') : decode(field.type, bytes);
    }
    if (field.oneof) oneofsSet.push(field.name);
    if (field.repeated) ((out[field.name] ??= []) as unknown[]).push(value);
    else out[field.name] = value;
  }
  assert.ok(oneofsSet.length <= 1, `${type}: several oneof members set: ${oneofsSet.join(', ')}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Back to swagger JSON

const camel = (name: string) => (name === '_ref' ? '$ref' : name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()));

/** `NamedX` pairs to a JSON map. */
function fromNamed(type: string, pairs: unknown): Record<string, unknown> {
  const valueType = PROTO[type][2].type;
  const out: Record<string, unknown> = {};
  for (const pair of (pairs as Decoded[] | undefined) ?? []) out[pair.name as string] = toJson(valueType, pair.value as Decoded);
  return out;
}

function toJson(type: string, message: Decoded | undefined): unknown {
  if (message === undefined) return undefined;
  const fields = Object.values(PROTO[type]);
  if (type === 'Any') return YAML.parse(message.yaml as string, { version: '1.1' });
  if (type === 'TypeItem') return (message.value as string[]).length === 1 ? (message.value as string[])[0] : message.value;
  if (type === 'ItemsItem')
    return (message.schema as Decoded[]).length === 1
      ? toJson('Schema', (message.schema as Decoded[])[0])
      : (message.schema as Decoded[]).map((s) => toJson('Schema', s));
  if (type === 'StringArray') return message.value ?? [];
  // A map message: its one field is the list of pairs.
  if (fields.length === 1 && fields[0].name === 'additional_properties')
    return fromNamed(fields[0].type, message.additional_properties);
  // A oneof wrapper: the member that is set.
  if (fields.every((fl) => fl.oneof)) {
    const member = fields.find((fl) => fl.name in message)!;
    assert.ok(member, `${type}: no oneof member set`);
    return member.type === 'bool' ? message[member.name] : toJson(member.type, message[member.name] as Decoded);
  }
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const value = message[field.name];
    if (value === undefined) continue;
    if (field.name === 'vendor_extension') Object.assign(out, fromNamed('NamedAny', value));
    else if (type === 'Paths' && field.name === 'path') Object.assign(out, fromNamed('NamedPathItem', value));
    else if (type === 'Responses' && field.name === 'response_code') Object.assign(out, fromNamed('NamedResponseValue', value));
    else if (field.type === 'string' || field.type === 'bool' || field.type === 'int64' || field.type === 'double')
      out[camel(field.name)] = value;
    else if (field.repeated) out[camel(field.name)] = (value as Decoded[]).map((m) => toJson(field.type, m));
    else out[camel(field.name)] = toJson(field.type, value as Decoded);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// What kubectl ≤1.28 refuses: kube-openapi's pkg/util/proto `NewOpenAPIData` builds its models
// from the decoded definitions and fails the whole document (so all validation and explain) on
// one schema it cannot place. Its rules, on the decoded messages:

function kubectlModelErrors(doc: Decoded): string[] {
  const definitions = ((doc.definitions as Decoded | undefined)?.additional_properties ?? []) as Decoded[];
  const names = new Set(definitions.map((d) => d.name as string));
  const errors: string[] = [];
  const visit = (s: Decoded, path: string): void => {
    const types = ((s.type as Decoded | undefined)?.value ?? []) as string[];
    const properties = s.properties as Decoded | undefined;
    if (s._ref) {
      const ref = s._ref as string;
      if (((properties?.additional_properties as unknown[]) ?? []).length)
        errors.push(`${path}: unallowed embedded type definition`);
      if (types.length) errors.push(`${path}: definition reference can't have a type`);
      if (!ref.startsWith('#/definitions/')) errors.push(`${path}: unallowed reference to non-definition ${ref}`);
      else if (!names.has(ref.slice('#/definitions/'.length))) errors.push(`${path}: unknown model in reference ${ref}`);
      return;
    }
    if (types.length > 1) return void errors.push(`${path}: definitions with multiple types aren't supported`);
    const [type] = types;
    if (properties && (type === undefined || type === 'object')) {
      for (const p of (properties.additional_properties ?? []) as Decoded[])
        visit(p.value as Decoded, `${path}.${p.name as string}`);
    } else if (type === 'object') {
      const sub = (s.additional_properties as Decoded | undefined)?.schema as Decoded | undefined;
      if (sub) visit(sub, path);
    } else if (type === 'array') {
      const items = ((s.items as Decoded | undefined)?.schema ?? []) as Decoded[];
      if (items.length !== 1) errors.push(`${path}: array should have exactly one sub-item`);
      else visit(items[0], path);
    } else if (type !== undefined && !['string', 'number', 'integer', 'boolean'].includes(type)) {
      errors.push(`${path}: Unknown primitive type: ${type}`);
    }
  };
  for (const d of definitions) visit(d.value as Decoded, d.name as string);
  return errors;
}

/** kubectl's `parseGroupVersionKind`: the definitions serving each group/version/kind, read with YAML 1.1. */
function kindsServed(doc: Decoded): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of ((doc.definitions as Decoded).additional_properties ?? []) as Decoded[]) {
    const ext = (((d.value as Decoded).vendor_extension ?? []) as Decoded[]).find(
      (e) => e.name === 'x-kubernetes-group-version-kind',
    );
    if (!ext) continue;
    for (const gvk of YAML.parse((ext.value as Decoded).yaml as string, { version: '1.1' }) as Array<Record<string, unknown>>) {
      assert.ok(
        ['group', 'version', 'kind'].every((k) => typeof gvk[k] === 'string'),
        `${d.name as string}: ${JSON.stringify(gvk)}`,
      );
      out.set(`${gvk.group as string}/${gvk.version as string}/${gvk.kind as string}`, d.name as string);
    }
  }
  return out;
}

/** cli-runtime's query parameter verifier: does the PATCH operation of this kind declare `fieldValidation`? */
function patchSupportsFieldValidation(doc: Decoded, gvk: { group: string; version: string; kind: string }): boolean {
  for (const path of ((doc.paths as Decoded).path ?? []) as Decoded[]) {
    const patch = (path.value as Decoded).patch as Decoded | undefined;
    const ext = ((patch?.vendor_extension ?? []) as Decoded[]).find((e) => e.name === 'x-kubernetes-group-version-kind');
    if (!patch || !ext) continue;
    const value = YAML.parse((ext.value as Decoded).yaml as string, { version: '1.1' }) as Record<string, string>;
    if (value.group !== gvk.group || value.version !== gvk.version || value.kind !== gvk.kind) continue;
    return ((patch.parameters ?? []) as Decoded[]).some(
      (p) =>
        (
          ((p.parameter as Decoded | undefined)?.non_body_parameter as Decoded | undefined)?.query_parameter_sub_schema as
            Decoded | undefined
        )?.name === 'fieldValidation',
    );
  }
  return false;
}

const roundTrip = (doc: object) =>
  toJson('Document', decode('Document', encodeOpenApiV2Protobuf(doc))) as Record<string, unknown>;

// ---------------------------------------------------------------------------------------------

const GVK = 'x-kubernetes-group-version-kind';
const longDescription = 'A description long enough to need a three-byte length varint. '.repeat(300);

const sample = {
  swagger: '2.0',
  info: { title: 'Kubernetes', version: 'unversioned' },
  paths: {
    '/apis/example.com/v1/namespaces/{namespace}/widgets/{name}': {
      parameters: [
        { name: 'name', in: 'path', type: 'string', required: true, uniqueItems: true, description: 'name of the Widget' },
        { $ref: '#/parameters/namespace-vgWSWtn3' },
      ],
      get: {
        operationId: 'readExampleComV1NamespacedWidget',
        produces: ['application/json'],
        responses: {
          '200': { description: 'OK', schema: { $ref: '#/definitions/com.example.v1.Widget' } },
          '401': { description: 'Unauthorized' },
        },
        [GVK]: { group: 'example.com', version: 'v1', kind: 'Widget' },
        'x-kubernetes-action': 'get',
      },
      patch: {
        consumes: ['application/json-patch+json', 'application/merge-patch+json'],
        operationId: 'patchExampleComV1NamespacedWidget',
        parameters: [
          {
            name: 'body',
            in: 'body',
            required: true,
            schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' },
          },
          { name: 'fieldValidation', in: 'query', type: 'string', description: 'unknown fields: Ignore, Warn or Strict' },
          { name: 'limit', in: 'query', type: 'integer', minimum: -1, maximum: 5e9 },
          {
            name: 'ids',
            in: 'query',
            type: 'array',
            items: { type: 'string', enum: ['on', 'off'] },
            collectionFormat: 'csv',
            default: [],
          },
        ],
        responses: { '200': { description: 'OK', schema: { $ref: '#/definitions/com.example.v1.Widget' } } },
        [GVK]: { group: 'example.com', version: 'v1', kind: 'Widget' },
      },
    },
  },
  definitions: {
    'com.example.v1.Widget': {
      description: longDescription,
      type: 'object',
      required: ['spec'],
      properties: {
        apiVersion: { type: 'string' },
        metadata: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', default: {} },
        spec: {
          type: 'object',
          properties: {
            ports: {
              type: 'array',
              items: {
                type: 'object',
                required: ['port'],
                properties: { port: { type: 'integer', format: 'int32', minimum: 1, maximum: 65535 } },
              },
              'x-kubernetes-list-type': 'map',
              'x-kubernetes-list-map-keys': ['port', 'protocol'],
              'x-kubernetes-patch-strategy': 'merge',
              'x-kubernetes-patch-merge-key': 'port',
            },
            labels: { type: 'object', additionalProperties: { type: 'string' } },
            closed: { type: 'object', properties: {}, additionalProperties: false },
            mode: {
              type: 'string',
              enum: ['yes', 'no', '08', 'null', 'on'],
              default: 'yes',
              maxLength: 200,
              pattern: '^[a-z]+$',
            },
            anything: { 'x-kubernetes-preserve-unknown-fields': true, 'x-kubernetes-int-or-string': false },
            nullableTypes: { type: ['string', 'null'] },
            composed: { allOf: [{ $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }], readOnly: true },
            ratio: { type: 'number', format: 'double', multipleOf: 0.25, exclusiveMinimum: true, minimum: -2.5 },
            'ünïcode\u2028key': { type: 'string', description: 'control \u0085 and \u007f, separators \u2028 \u2029, emoji 🌲' },
          },
        },
      },
      [GVK]: [{ group: 'example.com', kind: 'Widget', version: 'v1' }],
    },
    'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': { type: 'object', properties: { name: { type: 'string' } } },
    'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': { type: 'object' },
    'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string', format: 'quantity' },
  },
  parameters: {
    'namespace-vgWSWtn3': { name: 'namespace', in: 'path', required: true, type: 'string', uniqueItems: true },
    'body-2Y1dVQaQ': {
      name: 'body',
      in: 'body',
      required: true,
      schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' },
    },
  },
  securityDefinitions: {
    BearerToken: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer Token authentication' },
  },
  security: [{ BearerToken: [] }],
  'x-document-extension': { nested: [1, 2.5, true, null, 'text'] },
};

describe('encodeOpenApiV2Protobuf', () => {
  it('round-trips a document through the gnostic messages', () => {
    assert.deepEqual(roundTrip(sample), sample);
  });

  it('writes schemas in the shapes kubectl reads', () => {
    const doc = decode('Document', encodeOpenApiV2Protobuf(sample));
    const definitions = (doc.definitions as Decoded).additional_properties as Decoded[];
    assert.deepEqual(
      definitions.map((d) => d.name),
      Object.keys(sample.definitions),
      'definitions keep their document order',
    );
    const widget = definitions[0].value as Decoded;
    assert.deepEqual(widget.type, { value: ['object'] });
    assert.deepEqual(widget.required, ['spec']);
    const gvk = (widget.vendor_extension as Decoded[]).find((e) => e.name === GVK)!;
    // kubectl reads extension values with yaml.v2: YAML 1.1 must give back the list of maps.
    assert.deepEqual(YAML.parse((gvk.value as Decoded).yaml as string, { version: '1.1' }), [
      { group: 'example.com', kind: 'Widget', version: 'v1' },
    ]);

    const props = Object.fromEntries(
      ((widget.properties as Decoded).additional_properties as Decoded[]).map((p) => [p.name, p.value as Decoded]),
    );
    assert.equal(props.metadata._ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    assert.equal(props.metadata.type, undefined, 'a reference has no type');
    const spec = Object.fromEntries(
      ((props.spec.properties as Decoded).additional_properties as Decoded[]).map((p) => [p.name, p.value as Decoded]),
    );
    assert.equal(((spec.ports.items as Decoded).schema as Decoded[]).length, 1);
    assert.deepEqual(((spec.labels.additional_properties as Decoded).schema as Decoded).type, { value: ['string'] });
    assert.deepEqual(
      spec.closed.additional_properties,
      { boolean: false },
      'additionalProperties: false is written (oneof presence)',
    );
    assert.deepEqual(spec.closed.properties, {}, 'empty properties are present, not absent');
    assert.equal(spec.anything.type, undefined);
    assert.equal(spec.anything.properties, undefined);
    // Enum strings YAML 1.1 would read as bools, numbers or null stay strings.
    assert.deepEqual(
      (spec.mode.enum as Decoded[]).map((a) => YAML.parse(a.yaml as string, { version: '1.1' })),
      ['yes', 'no', '08', 'null', 'on'],
    );
  });

  it('writes operations and parameters as kubectl looks for fieldValidation', () => {
    const doc = decode('Document', encodeOpenApiV2Protobuf(sample));
    const [path] = (doc.paths as Decoded).path as Decoded[];
    const patch = (path.value as Decoded).patch as Decoded;
    const gvk = (patch.vendor_extension as Decoded[]).find((e) => e.name === GVK)!;
    assert.deepEqual(YAML.parse((gvk.value as Decoded).yaml as string, { version: '1.1' }), {
      group: 'example.com',
      version: 'v1',
      kind: 'Widget',
    });
    const queryNames = (patch.parameters as Decoded[])
      .map(
        (p) =>
          (
            ((p.parameter as Decoded | undefined)?.non_body_parameter as Decoded | undefined)?.query_parameter_sub_schema as
              Decoded | undefined
          )?.name,
      )
      .filter(Boolean);
    assert.deepEqual(queryNames, ['fieldValidation', 'limit', 'ids']);
    const body = ((patch.parameters as Decoded[])[0].parameter as Decoded).body_parameter as Decoded;
    assert.equal(body.in, 'body');
    assert.equal((body.schema as Decoded)._ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch');
    const pathParams = (path.value as Decoded).parameters as Decoded[];
    assert.equal(
      ((pathParams[0].parameter as Decoded).non_body_parameter as Decoded).path_parameter_sub_schema !== undefined,
      true,
    );
    assert.deepEqual(pathParams[1].json_reference, { _ref: '#/parameters/namespace-vgWSWtn3' });
  });

  it('drops what gnostic has no field for and proto3 defaults', () => {
    const out = roundTrip({
      swagger: '2.0',
      info: { title: 't', version: 'v' },
      paths: {},
      definitions: {
        A: {
          type: 'object',
          anyOf: [{ type: 'string' }],
          nullable: true,
          required: [],
          properties: { b: { type: 'boolean', readOnly: false } },
        },
      },
    });
    assert.deepEqual(out.definitions, { A: { type: 'object', properties: { b: { type: 'boolean' } } } });
    assert.deepEqual(out.paths, {});
  });

  it('encodes the served document in a form kubectl 1.27 accepts, custom resources included', () => {
    const widget: ResourceDefinition = {
      group: 'example.com',
      version: 'v1',
      kind: 'Widget',
      listKind: 'WidgetList',
      resource: 'widgets',
      singular: 'widget',
      namespaced: true,
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      schema: {
        type: 'object',
        properties: {
          spec: {
            type: 'object',
            required: ['size'],
            properties: {
              size: { type: 'integer', minimum: 1 },
              color: { type: 'string', nullable: true, enum: ['red', 'blue'] },
              port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
              tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
              labels: { type: 'object', additionalProperties: { type: 'string' } },
            },
          },
          status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
    };
    const doc = decode('Document', encodeOpenApiV2Protobuf(openApiV2([...builtinResources(), widget], buildDefinitions())));
    assert.deepEqual(kubectlModelErrors(doc), []);
    const kinds = kindsServed(doc);
    assert.equal(kinds.get('apps/v1/Deployment'), 'io.k8s.api.apps.v1.Deployment');
    assert.equal(kinds.get('/v1/ConfigMap'), 'io.k8s.api.core.v1.ConfigMap');
    assert.ok(kinds.get('example.com/v1/Widget'));
    assert.equal(patchSupportsFieldValidation(doc, { group: 'apps', version: 'v1', kind: 'Deployment' }), true);
    assert.equal(patchSupportsFieldValidation(doc, { group: 'example.com', version: 'v1', kind: 'Widget' }), true);
  });

  it('the model rules above refuse what kubectl refuses', () => {
    const broken = decode(
      'Document',
      encodeOpenApiV2Protobuf({
        swagger: '2.0',
        definitions: {
          A: {
            type: 'object',
            properties: { r: { $ref: '#/definitions/B', type: 'object' }, m: { $ref: '#/definitions/Missing' } },
          },
          B: { type: ['string', 'null'] },
          C: { type: 'array' },
          D: { type: 'null' },
        },
      }),
    );
    assert.deepEqual(kubectlModelErrors(broken), [
      "A.r: definition reference can't have a type",
      'A.m: unknown model in reference #/definitions/Missing',
      "B: definitions with multiple types aren't supported",
      'C: array should have exactly one sub-item',
      'D: Unknown primitive type: null',
    ]);
  });

  const referencePath = fileURLToPath(new URL('../../../../shared/reference/kubernetes-openapi-v2.json', import.meta.url));
  it(
    'round-trips the Kubernetes OpenAPI v2 document',
    () => {
      const reference = JSON.parse(readFileSync(referencePath, 'utf8')) as Record<string, unknown>;
      assert.deepEqual(roundTrip(reference), reference);
    },
  );
});
