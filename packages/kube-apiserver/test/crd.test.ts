import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { definitionsResolver, isDNS1035Label, type KubeObject, type SchemaNode, type StatusCause } from '@canopy/apimachinery';
import { validateCustomResourceDefinition, validateCustomResourceDefinitionStatusUpdate } from '../src/crd/validation.js';
import { applySchemaDefaults, pruneAndDefault } from '../src/crd/defaulting.js';
import {
  crdStatusFor,
  crdToResourceDefinitions,
  defaultCustomResourceDefinition,
  prepareCustomResourceDefinitionForCreate,
  prepareCustomResourceDefinitionForUpdate,
  type CustomResourceDefinition,
} from '../src/crd/definitions.js';
import { isStructural, validateStructural } from '../src/crd/structural.js';

const CRD_DIR = join(import.meta.dirname, '../../../../shared/reference/kubesphere-crds');

/**
 * A few of the reference files continue single-quoted descriptions at the indentation of their
 * key. go-yaml (kubectl) and libyaml accept that; the `yaml` package does not, so continuation
 * lines of an unterminated single-quoted scalar get two more spaces before parsing.
 */
function indentQuotedContinuations(text: string): string {
  let open = false;
  return text
    .split('\n')
    .map((line) => {
      const out = open ? `  ${line}` : line;
      const quoted = open ? line : /^\s*(?:- )?[\w.$-]+: '/.test(line) ? line.slice(line.indexOf(": '") + 2) : '';
      if ((quoted.split("'").length - 1) % 2 === 1) open = !open;
      return out;
    })
    .join('\n');
}

function readReferenceCrds(): Array<{ file: string; crd: CustomResourceDefinition }> {
  return readdirSync(CRD_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => ({
      file,
      crd: parseYaml(indentQuotedContinuations(readFileSync(join(CRD_DIR, file), 'utf8'))) as CustomResourceDefinition,
    }));
}

/** As the CRD strategy prepares a created CRD before validating it. */
function prepared(crd: CustomResourceDefinition): CustomResourceDefinition {
  return prepareCustomResourceDefinitionForCreate(defaultCustomResourceDefinition(structuredClone(crd)));
}

function lines(causes: StatusCause[]): string[] {
  return causes.map((c) => `${c.field}: ${c.message}`);
}

function validate(crd: CustomResourceDefinition, old?: CustomResourceDefinition): string[] {
  return lines(validateCustomResourceDefinition(crd, old));
}

/** A minimal valid namespaced CRD: widgets.example.com, one version v1 with `schema` as its openAPIV3Schema. */
function widgetCrd(
  schema: SchemaNode = { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } },
): CustomResourceDefinition {
  return prepared({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', kind: 'Widget', shortNames: ['wd'], categories: ['all'] },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }],
    },
  });
}

const SCHEMA = 'spec.validation.openAPIV3Schema';

describe('CRD validation: real-world CRDs', () => {
  const crds = readReferenceCrds();

  it('reads every KubeSphere reference CRD', () => {
    assert.ok(crds.length >= 30, `found ${crds.length} CRDs`);
  });

  for (const { file, crd } of crds) {
    it(`${file} validates without causes and yields ResourceDefinitions`, () => {
      const object = prepared(crd);
      assert.deepEqual(validate(object), []);
      for (const version of object.spec.versions) {
        assert.ok(isStructural(version.schema?.openAPIV3Schema), `${version.name} schema is structural`);
      }
      const definitions = crdToResourceDefinitions(object);
      const served = object.spec.versions.filter((v) => v.served);
      assert.deepEqual(
        definitions.map((d) => d.version),
        served.map((v) => v.name),
      );
      for (const def of definitions) {
        assert.equal(def.group, object.spec.group);
        assert.equal(def.resource, object.spec.names.plural);
        assert.equal(def.kind, object.spec.names.kind);
        assert.equal(def.namespaced, object.spec.scope === 'Namespaced');
        assert.equal(def.schemaName, undefined);
        const version = served.find((v) => v.name === def.version)!;
        assert.equal(def.storageVersion, version.storage);
        assert.equal(def.printer!.columns.length, 1 + (version.additionalPrinterColumns?.length || 1));
        assert.equal(def.subresources?.status === true, version.subresources?.status !== undefined);
      }
    });
  }

  it('the same CRDs validate as updates of themselves once established', () => {
    for (const { file, crd } of crds) {
      const old = prepared(crd);
      old.status = crdStatusFor(old, { now: new Date('2025-01-01T00:00:00Z') });
      const next = structuredClone(old);
      prepareCustomResourceDefinitionForUpdate(next, old);
      assert.deepEqual(validate(next, old), [], file);
    }
  });
});

describe('CRD validation: invalid CRDs', () => {
  it('requires the name to be <plural>.<group>', () => {
    const crd = widgetCrd();
    crd.metadata.name = 'gadgets.example.com';
    assert.deepEqual(validate(crd), [
      'metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group',
    ]);
  });

  it('requires a group with a dot and a known scope', () => {
    const crd = widgetCrd();
    crd.spec.group = 'example';
    crd.metadata.name = 'widgets.example';
    crd.spec.scope = 'Global';
    assert.deepEqual(validate(crd), [
      'spec.group: Invalid value: "example": should be a domain with at least one dot',
      'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
    ]);
    crd.spec.group = '';
    crd.metadata.name = 'widgets.';
    assert.ok(validate(crd).includes('spec.group: Required value'));
  });

  it('checks names: lowercase DNS labels, mixed-case kinds, distinct list kind, short names and categories', () => {
    const crd = widgetCrd();
    crd.spec.names = {
      plural: 'widgets',
      singular: 'Widget',
      kind: 'My_Widget',
      listKind: 'My_Widget',
      shortNames: ['w!'],
      categories: ['All'],
    };
    const dns1035 = (value: string) => isDNS1035Label(value).join(',');
    assert.deepEqual(validate(crd), [
      `spec.names.singular: Invalid value: "Widget": ${dns1035('Widget')}`,
      `spec.names.kind: Invalid value: "My_Widget": may have mixed case, but should otherwise match: ${dns1035('my_widget')}`,
      `spec.names.listKind: Invalid value: "My_Widget": may have mixed case, but should otherwise match: ${dns1035('my_widget')}`,
      `spec.names.shortNames[0]: Invalid value: "w!": ${dns1035('w!')}`,
      'spec.names.listKind: Invalid value: "My_Widget": kind and listKind may not be the same',
      `spec.names.categories[0]: Invalid value: "All": ${dns1035('All')}`,
    ]);
    assert.notEqual(dns1035('Widget'), '');
  });

  it('reports required names when defaulting did not fill them', () => {
    const crd = widgetCrd();
    crd.spec.names = { plural: '', kind: '' };
    const result = validate(crd);
    for (const name of ['plural', 'singular', 'kind', 'listKind'])
      assert.ok(result.includes(`spec.names.${name}: Required value`), name);
  });

  it('checks versions: DNS-1035 names, uniqueness, exactly one storage version, schemas required', () => {
    const crd = widgetCrd();
    const schema = crd.spec.versions[0].schema;
    crd.spec.versions = [
      { name: 'v1', served: true, storage: true, schema },
      { name: 'v1', served: true, storage: true },
      { name: 'V2', served: false, storage: false, schema },
    ];
    const result = validate(crd);
    assert.ok(result.includes('spec.versions[1].schema.openAPIV3Schema: Required value'));
    assert.ok(result.includes(`spec.versions[2].name: Invalid value: "V2": ${isDNS1035Label('V2').join(',')}`));
    assert.ok(
      result.some((l) => l.startsWith('spec.versions: Invalid value: ') && l.endsWith(': must contain unique version names')),
    );
    assert.ok(
      result.some(
        (l) =>
          l.startsWith('spec.versions: Invalid value: ') &&
          l.endsWith(': must have exactly one version marked as storage version'),
      ),
    );
    crd.spec.versions = [{ name: 'v1', served: true, storage: false, schema }];
    assert.ok(validate(crd).some((l) => l.endsWith('must have exactly one version marked as storage version')));
  });

  it('accepts a CRD whose versions are all unserved, as kube does', () => {
    const crd = widgetCrd();
    crd.spec.versions[0].served = false;
    assert.deepEqual(validate(crd), []);
    assert.deepEqual(crdToResourceDefinitions(crd), []);
  });

  it('reports a schema shared by all versions at spec.validation and differing schemas per version', () => {
    const broken: SchemaNode = { type: 'object', properties: { spec: { properties: { size: { type: 'integer' } } } } };
    const crd = widgetCrd(broken);
    crd.spec.versions.push({ name: 'v2', served: true, storage: false, schema: { openAPIV3Schema: broken } });
    assert.deepEqual(validate(crd), [
      `${SCHEMA}.properties[spec].type: Required value: must not be empty for specified object fields`,
    ]);
    crd.spec.versions[1].schema = { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object' } } } };
    assert.deepEqual(validate(crd), [
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields',
    ]);
  });

  it('requires structural schemas: types everywhere, items for arrays, object at the root', () => {
    const result = validate(
      widgetCrd({
        type: 'object',
        properties: {
          spec: {
            type: 'object',
            properties: {
              untyped: { description: 'no type' },
              list: { type: 'array' },
              objects: { type: 'array', items: { properties: { a: { type: 'string' } } } },
              free: { 'x-kubernetes-preserve-unknown-fields': true },
              port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
            },
          },
        },
      }),
    );
    assert.deepEqual(result, [
      `${SCHEMA}.properties[spec].properties[list].items: Required value: must be specified`,
      `${SCHEMA}.properties[spec].properties[objects].items.type: Required value: must not be empty for specified array items`,
      `${SCHEMA}.properties[spec].properties[untyped].type: Required value: must not be empty for specified object fields`,
    ]);
    assert.deepEqual(validate(widgetCrd({ type: 'string' } as SchemaNode)), [
      `${SCHEMA}.type: Invalid value: "string": must be object at the root`,
    ]);
    assert.deepEqual(validate(widgetCrd({ properties: {} } as SchemaNode)), [
      `${SCHEMA}.type: Required value: must not be empty at the root`,
    ]);
  });

  it('forbids what structural schemas cannot express in value validations', () => {
    const result = validate(
      widgetCrd({
        type: 'object',
        properties: { spec: { type: 'object', properties: { a: { type: 'string' } } } },
        anyOf: [
          { type: 'object', description: 'x', properties: { spec: { properties: { b: { nullable: true } } } } },
          { properties: { metadata: {} } },
        ],
      } as SchemaNode),
    );
    assert.deepEqual(result, [
      `${SCHEMA}.anyOf[0].description: Forbidden: must be empty to be structural`,
      `${SCHEMA}.anyOf[0].properties[spec].properties[b].nullable: Forbidden: must be false to be structural`,
      `${SCHEMA}.anyOf[0].type: Forbidden: must be empty to be structural`,
      `${SCHEMA}.anyOf[1].properties[metadata]: Forbidden: must not be specified in a nested context`,
      `${SCHEMA}.properties[metadata]: Required value: because it is defined in ${SCHEMA}.anyOf[1].properties[metadata]`,
      `${SCHEMA}.properties[spec].properties[b]: Required value: because it is defined in ${SCHEMA}.anyOf[0].properties[spec].properties[b]`,
    ]);
  });

  it('restricts root metadata to name and generateName', () => {
    const ok = widgetCrd({
      type: 'object',
      properties: { metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 20 } } } },
    });
    assert.deepEqual(validate(ok), []);
    const bad = widgetCrd({
      type: 'object',
      properties: { metadata: { type: 'object', properties: { labels: { type: 'object' } } } },
    });
    assert.deepEqual(validate(bad), [
      `${SCHEMA}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified`,
    ]);
    const typed = widgetCrd({ type: 'object', properties: { kind: { type: 'integer' }, metadata: { type: 'string' } } });
    assert.deepEqual(validate(typed), [
      `${SCHEMA}.properties[kind].type: Invalid value: "integer": must be string`,
      `${SCHEMA}.properties[metadata].type: Invalid value: "string": must be object`,
    ]);
  });

  it('forbids the unsupported OpenAPI fields', () => {
    const result = validate(
      widgetCrd({
        type: 'object',
        properties: {
          ref: { $ref: '#/definitions/other' },
          tags: { type: 'array', items: { type: 'string' }, uniqueItems: true },
          map: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } },
          patterned: { type: 'object', patternProperties: { '^a': { type: 'string' } } },
          keep: { type: 'object', 'x-kubernetes-preserve-unknown-fields': false },
          nothing: { type: 'null' },
        },
      } as unknown as SchemaNode),
    );
    assert.deepEqual(result, [
      `${SCHEMA}.properties[ref].$ref: Forbidden: $ref is not supported`,
      `${SCHEMA}.properties[tags].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic`,
      `${SCHEMA}.properties[map].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`,
      `${SCHEMA}.properties[patterned].patternProperties: Forbidden: patternProperties is not supported`,
      `${SCHEMA}.properties[keep].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined`,
      `${SCHEMA}.properties[nothing].type: Unsupported value: "null": supported values: "array", "boolean", "integer", "number", "object", "string"`,
      `${SCHEMA}.properties[nothing].type: Forbidden: type cannot be set to null, use nullable as an alternative`,
    ]);
  });

  it('checks list and map types and their keys', () => {
    const result = validate(
      widgetCrd({
        type: 'object',
        properties: {
          notList: { type: 'object', 'x-kubernetes-list-type': 'set' },
          keysWithoutMap: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-map-keys': ['name'] },
          byName: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['name', 'port'],
            items: { type: 'object', properties: { name: { type: 'string' } } },
          },
          optionalKey: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['name'],
            items: { type: 'object', properties: { name: { type: 'string' } } },
          },
          setOfObjects: {
            type: 'array',
            'x-kubernetes-list-type': 'set',
            items: { type: 'object', properties: { a: { type: 'string' } } },
          },
          badMapType: { type: 'object', 'x-kubernetes-map-type': 'merge' },
        },
      } as unknown as SchemaNode),
    );
    assert.deepEqual(result, [
      `${SCHEMA}.properties[notList].type: Invalid value: "object": must be array if x-kubernetes-list-type is specified`,
      `${SCHEMA}.properties[keysWithoutMap].x-kubernetes-list-type: Required value: must be map if x-kubernetes-list-map-keys is non-empty`,
      `${SCHEMA}.properties[byName].x-kubernetes-list-map-keys: Invalid value: ["name","port"]: entries must all be names of item properties`,
      `${SCHEMA}.properties[byName].items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property`,
      `${SCHEMA}.properties[optionalKey].items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property`,
      `${SCHEMA}.properties[setOfObjects].items.x-kubernetes-map-type: Invalid value: null: must be atomic as item of a list with x-kubernetes-list-type=set`,
      `${SCHEMA}.properties[badMapType].x-kubernetes-map-type: Unsupported value: "merge": supported values: "atomic", "granular"`,
    ]);
  });

  it('validates defaults against their schema and forbids them in top-level metadata', () => {
    const wrongType = validate(
      widgetCrd({
        type: 'object',
        properties: {
          spec: {
            type: 'object',
            properties: {
              size: { type: 'integer', default: 'large' },
              mode: { type: 'string', enum: ['a', 'b'], default: 'c' },
              nested: { type: 'object', properties: { a: { type: 'string' } }, default: { a: 'x', extra: 1 } },
            },
          },
        },
      }),
    );
    assert.deepEqual(wrongType, [
      `${SCHEMA}.properties[spec].properties[size].default: Invalid value: "string": ${SCHEMA}.properties[spec].properties[size].default in body must be of type integer: "string"`,
      `${SCHEMA}.properties[spec].properties[mode].default: Unsupported value: "c": supported values: "a", "b"`,
      `${SCHEMA}.properties[spec].properties[nested].default: Invalid value: {"a":"x","extra":1}: must not have unknown fields`,
    ]);
    const metadataDefault = validate(
      widgetCrd({
        type: 'object',
        properties: { metadata: { type: 'object', properties: { name: { type: 'string', default: 'x' } } } },
      }),
    );
    assert.deepEqual(metadataDefault, [
      `${SCHEMA}.properties[metadata].properties[name].default: Forbidden: must not be set in top-level metadata`,
    ]);
  });

  it('rejects invalid patterns, including Perl syntax RE2 lacks', () => {
    const result = validate(
      widgetCrd({
        type: 'object',
        properties: { a: { type: 'string', pattern: '(' }, b: { type: 'string', pattern: '^(?!x)' } },
      }),
    );
    assert.equal(result.length, 2);
    assert.match(
      result[0],
      /^spec\.validation\.openAPIV3Schema\.properties\[a\]\.pattern: Invalid value: "\(": must be a valid regular expression, but isn't: /,
    );
    assert.equal(
      result[1],
      `${SCHEMA}.properties[b].pattern: Invalid value: "^(?!x)": must be a valid regular expression, but isn't: error parsing regexp: invalid or unsupported Perl syntax: \`(?!\``,
    );
  });

  it('restricts the root schema when the status subresource is enabled', () => {
    const crd = widgetCrd({ type: 'object', nullable: true, enum: [{}], properties: {} } as SchemaNode);
    crd.spec.versions[0].subresources = { status: {} };
    assert.deepEqual(validate(crd), [
      `${SCHEMA}: Invalid value: "object": only [Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations] fields are allowed at the root of the schema if the status subresource is enabled`,
      `${SCHEMA}.nullable: Forbidden: nullable cannot be true at the root`,
    ]);
  });

  it('checks printer columns and scale paths', () => {
    const crd = widgetCrd();
    crd.spec.versions[0].additionalPrinterColumns = [
      { name: '', type: 'float', jsonPath: 'spec.size' },
      { name: 'Size', type: 'integer', format: 'huge', jsonPath: '.spec..size' },
    ];
    crd.spec.versions[0].subresources = {
      scale: { specReplicasPath: '.status.replicas', statusReplicasPath: '', labelSelectorPath: '.metadata.labels' },
    };
    assert.deepEqual(validate(crd), [
      'spec.subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be a json path under .spec',
      'spec.subresources.scale.statusReplicasPath: Required value',
      'spec.subresources.scale.labelSelectorPath: Invalid value: ".metadata.labels": should be a json path under either .spec or .status',
      'spec.additionalPrinterColumns[0].name: Required value',
      'spec.additionalPrinterColumns[0].type: Invalid value: "float": must be one of boolean,date,integer,number,string',
      'spec.additionalPrinterColumns[0].JSONPath: Invalid value: "spec.size": must be a simple json path starting with .',
      'spec.additionalPrinterColumns[1].format: Invalid value: "huge": must be one of byte,date,date-time,double,float,int32,int64,password',
      'spec.additionalPrinterColumns[1].JSONPath: Invalid value: ".spec..size": must be a JSONPath this server can evaluate (fields, indexes, slices, wildcards and filters)',
    ]);
  });

  it('refuses conversion webhooks and webhook settings without them', () => {
    const crd = widgetCrd();
    crd.spec.conversion = {
      strategy: 'Webhook',
      webhook: { clientConfig: { url: 'https://example.com/convert' }, conversionReviewVersions: ['v1'] },
    };
    assert.deepEqual(validate(crd), [
      'spec.conversion.strategy: Forbidden: Webhook conversion is not supported by this server: its custom resource versions convert with strategy None (apiVersion rewrite only)',
    ]);
    crd.spec.conversion.strategy = 'None';
    assert.deepEqual(validate(crd), [
      'spec.conversion.webhookClientConfig: Forbidden: should not be set when strategy is not set to Webhook',
      'spec.conversion.conversionReviewVersions: Forbidden: should not be set when strategy is not set to Webhook',
    ]);
    crd.spec.conversion = { strategy: 'Magic' };
    assert.deepEqual(validate(crd), [
      'spec.conversion.strategy: Unsupported value: "Magic": supported values: "None", "Webhook"',
    ]);
  });

  it('refuses preserveUnknownFields and requires API approval for kubernetes.io groups', () => {
    const crd = widgetCrd();
    crd.spec.preserveUnknownFields = true;
    assert.deepEqual(validate(crd), [
      'spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead',
    ]);
    const community = widgetCrd();
    community.spec.group = 'widgets.k8s.io';
    community.metadata.name = 'widgets.widgets.k8s.io';
    assert.deepEqual(validate(community), [
      'metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111',
    ]);
    community.metadata.annotations = { 'api-approved.kubernetes.io': 'not a url' };
    assert.match(
      validate(community)[0],
      /Invalid value: "not a url": protected groups must have approval annotation .* with either a URL or a reason starting with "unapproved"/,
    );
    community.metadata.annotations = { 'api-approved.kubernetes.io': 'unapproved, experimental' };
    assert.deepEqual(validate(community), []);
  });

  it('checks selectable fields against the schema', () => {
    const crd = widgetCrd({
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            color: { type: 'string' },
            size: { type: 'integer' },
            parts: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    });
    crd.spec.versions[0].selectableFields = [
      { jsonPath: '.spec.color' },
      { jsonPath: '.spec.parts' },
      { jsonPath: '.spec.missing' },
      { jsonPath: '.spec.color' },
    ];
    assert.deepEqual(validate(crd), [
      'spec.selectableFields[1].jsonPath: Invalid value: ".spec.parts": must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.',
      'spec.selectableFields[2].jsonPath: Invalid value: ".spec.missing": is an invalid path: does not refer to a valid field',
      'spec.selectableFields[3].jsonPath: Duplicate value: ".spec.color"',
    ]);
  });
});

describe('CRD validation: updates', () => {
  function established(crd: CustomResourceDefinition): CustomResourceDefinition {
    crd.status = crdStatusFor(crd, { now: new Date('2025-01-01T00:00:00Z') });
    return crd;
  }

  it('keeps group and plural immutable, and scope and kind once established', () => {
    const old = widgetCrd();
    const next = structuredClone(old);
    next.spec.scope = 'Cluster';
    next.spec.names.kind = 'Gadget';
    next.spec.names.listKind = 'GadgetList';
    next.spec.names.plural = 'gadgets';
    prepareCustomResourceDefinitionForUpdate(next, old);
    assert.deepEqual(validate(next, old), ['spec.names.plural: Invalid value: "gadgets": field is immutable']);
    established(old);
    prepareCustomResourceDefinitionForUpdate(next, old);
    assert.deepEqual(validate(next, old), [
      'spec.scope: Invalid value: "Cluster": field is immutable',
      'spec.names.kind: Invalid value: "Gadget": field is immutable',
      'spec.names.plural: Invalid value: "gadgets": field is immutable',
    ]);
  });

  it('keeps previously stored versions listed until they are migrated away', () => {
    const old = established(widgetCrd());
    const next = structuredClone(old);
    const schema = next.spec.versions[0].schema;
    next.spec.versions = [{ name: 'v2', served: true, storage: true, schema }];
    prepareCustomResourceDefinitionForUpdate(next, old);
    assert.deepEqual(next.status!.storedVersions, ['v1', 'v2']);
    assert.deepEqual(validate(next, old), [
      'status.storedVersions[0]: Invalid value: "v1": missing from spec.versions; v1 was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in v1 and removes v1 from status.storedVersions',
    ]);
    next.spec.versions.unshift({ name: 'v1', served: false, storage: false, schema });
    assert.deepEqual(validate(next, old), []);
  });

  it('validates status writes: accepted names and immutable metadata', () => {
    const old = established(widgetCrd());
    const next = structuredClone(old);
    next.status!.acceptedNames.plural = 'Widgets';
    next.metadata.name = 'other.example.com';
    assert.deepEqual(
      validateCustomResourceDefinitionStatusUpdate(next, old).map((c) => c.field),
      ['metadata.name', 'status.acceptedNames.plural'],
    );
    assert.deepEqual(validateCustomResourceDefinitionStatusUpdate(old, old), []);
  });

  it('does not tighten rules an existing CRD was stored under', () => {
    const lax: SchemaNode = {
      type: 'object',
      properties: {
        ports: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', properties: { name: { type: 'string' } } },
        },
      },
    };
    const old = established(widgetCrd(lax));
    assert.equal(validate(widgetCrd(lax)).length, 1);
    const next = structuredClone(old);
    next.metadata.labels = { touched: 'yes' };
    prepareCustomResourceDefinitionForUpdate(next, old);
    assert.deepEqual(validate(next, old), []);
  });
});

describe('CRD defaulting', () => {
  const schema: SchemaNode = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          replicas: { type: 'integer', default: 1 },
          strategy: {
            type: 'object',
            default: {},
            properties: { type: { type: 'string', default: 'Rolling' }, maxSurge: { type: 'integer', default: 25 } },
          },
          template: { type: 'object', properties: { image: { type: 'string', default: 'nginx' } } },
          ports: {
            type: 'array',
            items: {
              type: 'object',
              default: { port: 80 },
              properties: { port: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' } },
            },
          },
          labels: {
            type: 'object',
            additionalProperties: { type: 'object', properties: { value: { type: 'string', default: 'none' } } },
          },
          note: { type: 'string', nullable: true, default: 'n/a' },
          mode: { type: 'string', default: 'auto' },
        },
      },
    },
  };

  it('applies nested defaults, including those inside a defaulted object', () => {
    const object = applySchemaDefaults({ spec: {} } as Record<string, unknown>, schema);
    assert.deepEqual(object, {
      spec: { replicas: 1, strategy: { type: 'Rolling', maxSurge: 25 }, note: 'n/a', mode: 'auto' },
    });
  });

  it('does not create parents that are absent', () => {
    assert.deepEqual(applySchemaDefaults({ metadata: { name: 'x' } } as Record<string, unknown>, schema), {
      metadata: { name: 'x' },
    });
    const object = applySchemaDefaults({ spec: { replicas: 3 } } as Record<string, unknown>, schema);
    assert.equal((object.spec as Record<string, unknown>).template, undefined);
    assert.equal((object.spec as Record<string, unknown>).replicas, 3);
  });

  it('defaults every array item and additionalProperties value, and replaces non-nullable null items', () => {
    const object = applySchemaDefaults(
      {
        spec: { ports: [{ port: 443 }, null, { port: 8080, protocol: 'UDP' }], labels: { a: {}, b: { value: 'set' } } },
      } as Record<string, unknown>,
      schema,
    );
    const spec = object.spec as Record<string, unknown>;
    assert.deepEqual(spec.ports, [
      { port: 443, protocol: 'TCP' },
      { port: 80, protocol: 'TCP' },
      { port: 8080, protocol: 'UDP' },
    ]);
    assert.deepEqual(spec.labels, { a: { value: 'none' }, b: { value: 'set' } });
  });

  it('replaces a non-nullable null by its default and keeps a nullable null', () => {
    const object = applySchemaDefaults({ spec: { mode: null, note: null } } as Record<string, unknown>, schema);
    assert.equal((object.spec as Record<string, unknown>).mode, 'auto');
    assert.equal((object.spec as Record<string, unknown>).note, null);
  });

  it('copies defaults rather than sharing them', () => {
    const first = applySchemaDefaults({ spec: {} } as Record<string, unknown>, schema);
    ((first.spec as Record<string, unknown>).strategy as Record<string, unknown>).type = 'Changed';
    const second = applySchemaDefaults({ spec: {} } as Record<string, unknown>, schema);
    assert.equal(((second.spec as Record<string, unknown>).strategy as Record<string, unknown>).type, 'Rolling');
    assert.deepEqual(schema.properties!.spec.properties!.strategy.default, {});
  });
});

describe('CRD pruning and defaulting', () => {
  const schema: SchemaNode = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        required: ['size'],
        properties: {
          size: { type: 'integer', default: 3 },
          config: {
            type: 'object',
            'x-kubernetes-preserve-unknown-fields': true,
            properties: { level: { type: 'string', default: 'info' } },
          },
          template: {
            type: 'object',
            'x-kubernetes-embedded-resource': true,
            properties: { spec: { type: 'object', properties: { image: { type: 'string' } } } },
          },
        },
      },
    },
  };
  const objectMeta: SchemaNode = {
    type: 'object',
    properties: { name: { type: 'string' }, labels: { type: 'object', additionalProperties: { type: 'string' } } },
  };
  const resolver = definitionsResolver({ 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': objectMeta });

  function input(): Record<string, unknown> {
    return {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', labels: { a: 'b' }, bogus: 1 },
      unknownTop: true,
      spec: {
        extra: 'dropped',
        config: { anything: { deep: [1, 2] }, level: 'debug' },
        template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'inner' }, spec: { image: 'busybox', junk: 1 }, other: 2 },
      },
    };
  }

  it('prunes unknown fields, keeps preserve-unknown-fields subtrees and resource meta, then defaults', () => {
    const original = input();
    const snapshot = structuredClone(original);
    const result = pruneAndDefault(original, schema, resolver);
    assert.deepEqual(result.causes, []);
    assert.deepEqual(result.value, {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', labels: { a: 'b' } },
      spec: {
        config: { anything: { deep: [1, 2] }, level: 'debug' },
        template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'inner' }, spec: { image: 'busybox' } },
        size: 3,
      },
    });
    assert.deepEqual(original, snapshot, 'the input is not modified');
  });

  it('never modifies its input, even where nothing was pruned', () => {
    const clean = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { config: {} } };
    const snapshot = structuredClone(clean);
    const result = pruneAndDefault(clean, schema, resolver);
    assert.deepEqual(clean, snapshot);
    assert.deepEqual((result.value as { spec: unknown }).spec, { config: { level: 'info' }, size: 3 });
  });

  it('reports unknown fields in Strict mode and warns in Warn mode', () => {
    const strict = pruneAndDefault(input(), schema, resolver, { unknownFields: 'Strict' });
    assert.deepEqual(strict.causes.map((c) => c.message).sort(), [
      'unknown field "metadata.bogus"',
      'unknown field "spec.extra"',
      'unknown field "spec.template.other"',
      'unknown field "spec.template.spec.junk"',
      'unknown field "unknownTop"',
    ]);
    assert.deepEqual(strict.value, pruneAndDefault(input(), schema, resolver).value, 'Strict prunes as well');
    const warn = pruneAndDefault(input(), schema, resolver, { unknownFields: 'Warn' });
    assert.equal(warn.causes.length, 0);
    assert.equal(warn.warnings.length, 5);
  });

  it('validates the defaulted object: a default satisfies required, a wrong type is reported', () => {
    const withNull = pruneAndDefault(
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: null } },
      schema,
      resolver,
    );
    assert.deepEqual(withNull.causes, []);
    assert.equal((withNull.value as { spec: { size: number } }).spec.size, 3);
    const wrong = pruneAndDefault(
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 'big' } },
      schema,
      resolver,
    );
    assert.deepEqual(lines(wrong.causes), [
      'spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"',
    ]);
  });

  it('keeps metadata as it is without a resolver that knows ObjectMeta', () => {
    const result = pruneAndDefault(
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', annotations: { x: 'y' } }, spec: {} },
      schema,
    );
    assert.deepEqual((result.value as KubeObject).metadata, { name: 'w', annotations: { x: 'y' } });
  });
});

describe('CRD ResourceDefinitions', () => {
  function multiVersionCrd(): CustomResourceDefinition {
    const schema: SchemaNode = {
      type: 'object',
      properties: {
        metadata: { type: 'object', properties: { name: { type: 'string', maxLength: 10 } } },
        spec: {
          type: 'object',
          properties: {
            replicas: { type: 'integer', default: 1 },
            color: { type: 'string' },
            tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
            ports: {
              type: 'array',
              'x-kubernetes-list-type': 'map',
              'x-kubernetes-list-map-keys': ['port'],
              items: { type: 'object', required: ['port'], properties: { port: { type: 'integer' }, name: { type: 'string' } } },
            },
          },
        },
        status: { type: 'object', properties: { replicas: { type: 'integer' }, selector: { type: 'string' } } },
      },
    };
    const crd = widgetCrd(schema);
    crd.spec.scope = 'Cluster';
    crd.spec.versions = [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: { openAPIV3Schema: schema },
        subresources: {
          status: {},
          scale: {
            specReplicasPath: '.spec.replicas',
            statusReplicasPath: '.status.replicas',
            labelSelectorPath: '.status.selector',
          },
        },
        additionalPrinterColumns: [
          { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
          { name: 'Color', type: 'string', jsonPath: '.spec.color', priority: 1 },
        ],
        selectableFields: [{ jsonPath: '.spec.color' }],
      },
      { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: schema } },
      { name: 'v1alpha1', served: false, storage: false, schema: { openAPIV3Schema: schema } },
    ];
    return crd;
  }

  it('serves each served version with its names, subresources, printer and schema', () => {
    const crd = multiVersionCrd();
    assert.deepEqual(validate(crd), []);
    const [v1, v1beta1, ...rest] = crdToResourceDefinitions(crd);
    assert.equal(rest.length, 0, 'the unserved version is not served');
    assert.deepEqual(
      { ...v1, schema: undefined, printer: undefined, defaults: undefined, validate: undefined, selectableFields: undefined },
      {
        group: 'example.com',
        version: 'v1',
        kind: 'Widget',
        listKind: 'WidgetList',
        resource: 'widgets',
        singular: 'widget',
        namespaced: false,
        shortNames: ['wd'],
        categories: ['all'],
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
        subresources: {
          status: true,
          scale: {
            specReplicasPath: '.spec.replicas',
            statusReplicasPath: '.status.replicas',
            labelSelectorPath: '.status.selector',
          },
        },
        statusSubresourceSemantics: true,
        tracksGeneration: true,
        storageVersion: true,
        schema: undefined,
        printer: undefined,
        defaults: undefined,
        validate: undefined,
        selectableFields: undefined,
      },
    );
    assert.equal(v1beta1.storageVersion, false);
    assert.equal(v1beta1.subresources, undefined);
    assert.equal(v1beta1.statusSubresourceSemantics, undefined);
    assert.equal('schemaName' in v1, false);

    const schema = v1.schema!;
    assert.deepEqual(schema.properties!.metadata, {
      $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
      description:
        "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
    });
    assert.equal(schema.properties!.apiVersion.type, 'string');
    assert.equal(schema.properties!.kind.type, 'string');
    assert.deepEqual(schema['x-kubernetes-group-version-kind'], [{ group: 'example.com', version: 'v1', kind: 'Widget' }]);
    assert.equal(
      crd.spec.versions[0].schema!.openAPIV3Schema!.properties!.metadata.type,
      'object',
      "the CRD's own schema is not modified",
    );

    const now = new Date('2025-01-10T12:00:00Z');
    const widget: KubeObject = {
      metadata: { name: 'w1', creationTimestamp: '2025-01-10T11:00:00Z' },
      spec: { replicas: 2, color: 'red' },
    };
    assert.deepEqual(
      v1.printer!.columns.map((c) => c.name),
      ['Name', 'Replicas', 'Color'],
    );
    assert.deepEqual(v1.printer!.cells(widget, now), ['w1', 2, 'red']);
    assert.deepEqual(
      v1beta1.printer!.columns.map((c) => c.name),
      ['Name', 'Age'],
    );
    assert.deepEqual(v1beta1.printer!.cells(widget, now), ['w1', '60m']);
    assert.equal(v1.selectableFields!['spec.color'](widget), 'red');
  });

  it('defaults and checks objects as the custom resource strategy does', () => {
    const [v1] = crdToResourceDefinitions(multiVersionCrd());
    const object: KubeObject = { metadata: { name: 'w1' }, spec: {} };
    v1.defaults!(object);
    assert.deepEqual(object.spec, { replicas: 1 });

    const bad: KubeObject = {
      metadata: { name: 'much-too-long-name' },
      spec: { replicas: -1, tags: ['a', 'b', 'a', 'a'], ports: [{ port: 80 }, { port: 443 }, { port: 80, name: 'again' }] },
      status: { replicas: 'two' },
    };
    assert.deepEqual(lines(v1.validate!(bad, {})), [
      'metadata.name: Too long: may not be more than 10 bytes',
      'spec.tags[2]: Duplicate value: "a"',
      'spec.ports[2]: Duplicate value: {"port":80}',
      '.spec.replicas: Invalid value: -1: should be a non-negative integer',
      '.status.replicas: Invalid value: 0: .status.replicas accessor error: two is of the type string, expected int64',
    ]);
    assert.deepEqual(lines(v1.validate!(bad, { subresource: 'status', old: bad })), [
      'spec.tags[2]: Duplicate value: "a"',
      'spec.ports[2]: Duplicate value: {"port":80}',
      '.status.replicas: Invalid value: 0: .status.replicas accessor error: two is of the type string, expected int64',
    ]);
    assert.deepEqual(v1.validate!({ metadata: { name: 'ok' }, spec: { replicas: 2, tags: ['a', 'b'] } }, {}), []);
  });

  it('serves under the accepted names once the naming controller accepted them', () => {
    const crd = multiVersionCrd();
    crd.status = { acceptedNames: { plural: 'widgets', kind: 'Widget' }, storedVersions: ['v1'] };
    crd.spec.names.shortNames = ['w2'];
    const [v1] = crdToResourceDefinitions(crd);
    assert.equal(v1.shortNames, undefined);
    assert.equal(v1.listKind, 'WidgetList');
  });
});

describe('CRD status', () => {
  const T0 = new Date('2025-01-01T00:00:00Z');
  const T1 = new Date('2025-02-01T00:00:00Z');

  it('accepts fresh names and establishes the CRD', () => {
    const crd = widgetCrd();
    const status = crdStatusFor(crd, { now: T0 });
    assert.deepEqual(status, {
      conditions: [
        {
          type: 'NamesAccepted',
          status: 'True',
          lastTransitionTime: '2025-01-01T00:00:00Z',
          reason: 'NoConflicts',
          message: 'no conflicts found',
        },
        {
          type: 'Established',
          status: 'True',
          lastTransitionTime: '2025-01-01T00:00:00Z',
          reason: 'InitialNamesAccepted',
          message: 'the initial names have been accepted',
        },
      ],
      acceptedNames: {
        plural: 'widgets',
        singular: 'widget',
        shortNames: ['wd'],
        kind: 'Widget',
        listKind: 'WidgetList',
        categories: ['all'],
      },
      storedVersions: ['v1'],
    });
    crd.status = status;
    const again = crdStatusFor(crd, { now: T1 });
    assert.deepEqual(
      again.conditions!.map((c) => c.lastTransitionTime),
      ['2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z'],
      'unchanged conditions keep their transition time',
    );
  });

  it('refuses names another CRD of the group has accepted', () => {
    const other = widgetCrd();
    other.metadata.name = 'gizmos.example.com';
    other.status = {
      acceptedNames: { plural: 'gizmos', singular: 'gizmo', shortNames: ['wd'], kind: 'Widget', listKind: 'WidgetList' },
      storedVersions: ['v1'],
    };
    const crd = widgetCrd();
    const status = crdStatusFor(crd, { others: [other], now: T0 });
    const namesAccepted = status.conditions!.find((c) => c.type === 'NamesAccepted')!;
    assert.equal(namesAccepted.status, 'False');
    assert.equal(namesAccepted.reason, 'ListKindConflict');
    assert.equal(namesAccepted.message, '"WidgetList" is already in use');
    assert.deepEqual(
      status.conditions!.find((c) => c.type === 'Established'),
      {
        type: 'Established',
        status: 'False',
        lastTransitionTime: '2025-01-01T00:00:00Z',
        reason: 'NotAccepted',
        message: 'not all names are accepted',
      },
    );
    assert.deepEqual(status.acceptedNames, { plural: 'widgets', singular: 'widget', kind: '', categories: ['all'] });

    const elsewhere = structuredClone(other);
    elsewhere.spec.group = 'other.com';
    assert.equal(crdStatusFor(crd, { others: [elsewhere], now: T0 }).conditions![0].status, 'True');
  });

  it('stays established when later names conflict, keeping the names it had', () => {
    const crd = widgetCrd();
    crd.status = crdStatusFor(crd, { now: T0 });
    const other = widgetCrd();
    other.metadata.name = 'gizmos.example.com';
    other.status = { acceptedNames: { plural: 'gizmos', shortNames: ['gz'], kind: 'Gizmo' }, storedVersions: ['v1'] };
    crd.spec.names.shortNames = ['wd', 'gz'];
    const status = crdStatusFor(crd, { others: [other], now: T1 });
    assert.deepEqual(status.conditions![0], {
      type: 'NamesAccepted',
      status: 'False',
      lastTransitionTime: '2025-02-01T00:00:00Z',
      reason: 'ShortNamesConflict',
      message: '"gz" is already in use',
    });
    assert.equal(status.conditions![1].status, 'True');
    assert.deepEqual(status.acceptedNames.shortNames, ['wd']);
  });

  it('reports a conflict the caller found, accepting none of the requested names', () => {
    const status = crdStatusFor(widgetCrd(), { namesConflict: 'widgets is served by a built-in API', now: T0 });
    assert.deepEqual(status.acceptedNames, { plural: '', kind: '' });
    assert.deepEqual(
      status.conditions!.map((c) => [c.type, c.status, c.reason]),
      [
        ['NamesAccepted', 'False', 'NamesConflict'],
        ['Established', 'False', 'NotAccepted'],
      ],
    );
  });

  it('applies the v1 defaults', () => {
    const crd = defaultCustomResourceDefinition({
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', kind: 'Widget' },
        versions: [{ name: 'v1', served: true, storage: true }],
      },
    } as CustomResourceDefinition);
    assert.deepEqual(crd.spec.names, { plural: 'widgets', kind: 'Widget', singular: 'widget', listKind: 'WidgetList' });
    assert.deepEqual(crd.spec.conversion, { strategy: 'None' });
    assert.deepEqual(crd.status?.storedVersions, ['v1']);
  });
});

describe('structural schemas', () => {
  it('accepts the IntOrString patterns and preserve-unknown-fields without type', () => {
    assert.equal(
      isStructural({
        type: 'object',
        properties: {
          a: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
          b: {
            'x-kubernetes-int-or-string': true,
            allOf: [{ anyOf: [{ type: 'integer' }, { type: 'string' }] }, { pattern: '^\\d+%?$' }],
          },
          c: { 'x-kubernetes-preserve-unknown-fields': true },
        },
      }),
      true,
    );
    assert.equal(
      isStructural({ type: 'object', properties: { a: { anyOf: [{ type: 'string' }, { type: 'integer' }] } } }),
      false,
    );
  });

  it('sorts causes as kube does', () => {
    const causes = validateStructural({ type: 'object', properties: { z: {}, a: {} } }, 'root');
    assert.deepEqual(lines(causes), [
      'root.properties[a].type: Required value: must not be empty for specified object fields',
      'root.properties[z].type: Required value: must not be empty for specified object fields',
    ]);
  });
});
