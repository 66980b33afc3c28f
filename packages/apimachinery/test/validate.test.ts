import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { definitionsResolver, validateAgainstSchema, type SchemaNode, type UnknownFieldsMode } from '../src/index.js';

const ref = (name: string): SchemaNode => ({ $ref: `#/definitions/${name}` });
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

/** A small slice of the built-in definitions, shaped as the generated ones are. */
const definitions: Record<string, SchemaNode> = {
  [`${META}.ObjectMeta`]: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      namespace: { type: 'string' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      annotations: { type: 'object', additionalProperties: { type: 'string' } },
      creationTimestamp: ref(`${META}.Time`),
      generation: { type: 'integer', format: 'int64' },
    },
  },
  [`${META}.Time`]: { type: 'string', format: 'date-time' },
  [`${META}.LabelSelector`]: {
    type: 'object',
    properties: { matchLabels: { type: 'object', additionalProperties: { type: 'string' } } },
  },
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { type: 'string', format: 'int-or-string' },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { type: 'string', format: 'quantity' },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  'io.k8s.api.core.v1.ContainerPort': {
    type: 'object',
    required: ['containerPort'],
    properties: { containerPort: { type: 'integer', format: 'int32' }, protocol: { type: 'string' } },
  },
  'io.k8s.api.core.v1.Container': {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string' },
      image: { type: 'string' },
      ports: { type: 'array', items: ref('io.k8s.api.core.v1.ContainerPort') },
      resources: {
        type: 'object',
        properties: {
          limits: { type: 'object', additionalProperties: ref('io.k8s.apimachinery.pkg.api.resource.Quantity') },
        },
      },
    },
  },
  'io.k8s.api.core.v1.PodSpec': {
    type: 'object',
    required: ['containers'],
    properties: { containers: { type: 'array', items: ref('io.k8s.api.core.v1.Container') } },
  },
  'io.k8s.api.core.v1.PodTemplateSpec': {
    type: 'object',
    properties: { metadata: ref(`${META}.ObjectMeta`), spec: ref('io.k8s.api.core.v1.PodSpec') },
  },
  'io.k8s.api.apps.v1.DeploymentSpec': {
    type: 'object',
    required: ['selector', 'template'],
    properties: {
      replicas: { type: 'integer', format: 'int32' },
      selector: ref(`${META}.LabelSelector`),
      template: ref('io.k8s.api.core.v1.PodTemplateSpec'),
      strategy: {
        type: 'object',
        properties: {
          rollingUpdate: { type: 'object', properties: { maxSurge: ref('io.k8s.apimachinery.pkg.util.intstr.IntOrString') } },
        },
      },
    },
  },
  'io.k8s.api.apps.v1.Deployment': {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: ref(`${META}.ObjectMeta`),
      spec: ref('io.k8s.api.apps.v1.DeploymentSpec'),
      status: { type: 'object', properties: { replicas: { type: 'integer', format: 'int32' } } },
    },
  },
};
const resolver = definitionsResolver(definitions);
const deploymentSchema = ref('io.k8s.api.apps.v1.Deployment');

function deployment(spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }] },
      },
      ...spec,
    },
  };
}

function validate(value: unknown, schema: SchemaNode = deploymentSchema, unknownFields: UnknownFieldsMode = 'Strict') {
  return validateAgainstSchema(value, schema, resolver, { unknownFields });
}

describe('validateAgainstSchema: types and required fields', () => {
  it('accepts a well-formed object and returns it unchanged', () => {
    const object = deployment();
    const result = validate(object);
    assert.deepEqual(result.causes, []);
    assert.deepEqual(result.warnings, []);
    assert.equal(result.value, object);
  });

  it('reports a type mismatch with the wording of kube-apiserver', () => {
    const result = validate(deployment({ replicas: 'three' }));
    assert.deepEqual(result.causes, [
      {
        reason: 'FieldValueTypeInvalid',
        field: 'spec.replicas',
        message: 'Invalid value: "string": spec.replicas in body must be of type integer: "string"',
      },
    ]);
  });

  it('names the JSON type of the offending value', () => {
    const causes = validate(deployment({ replicas: 1.5, selector: 'app=web' })).causes;
    assert.deepEqual(
      causes.map((c) => c.message),
      [
        'Invalid value: "number": spec.replicas in body must be of type integer: "number"',
        'Invalid value: "string": spec.selector in body must be of type object: "string"',
      ],
    );
  });

  it('reports missing required fields, nested inside arrays too', () => {
    const object = deployment();
    const spec = object.spec as Record<string, unknown>;
    delete spec.selector;
    (spec.template as { spec: { containers: unknown[] } }).spec.containers = [{ image: 'nginx', ports: [{ protocol: 'TCP' }] }];
    const causes = validate(object).causes;
    assert.deepEqual(causes, [
      {
        reason: 'FieldValueRequired',
        message: 'Required value',
        field: 'spec.template.spec.containers[0].ports[0].containerPort',
      },
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.template.spec.containers[0].name' },
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' },
    ]);
  });

  it('rejects int32 values out of range', () => {
    const causes = validate(deployment({ replicas: 2 ** 31 })).causes;
    assert.equal(causes.length, 1);
    assert.equal(causes[0].field, 'spec.replicas');
    assert.match(causes[0].message!, /should be less than or equal to 2147483647/);
  });

  it('checks string formats kube decodes strictly (date-time)', () => {
    const object = deployment();
    (object.metadata as Record<string, unknown>).creationTimestamp = 'yesterday';
    assert.deepEqual(validate(object).causes, [
      {
        reason: 'FieldValueTypeInvalid',
        field: 'metadata.creationTimestamp',
        message: 'Invalid value: "yesterday": metadata.creationTimestamp in body must be of type date-time: "yesterday"',
      },
    ]);
    (object.metadata as Record<string, unknown>).creationTimestamp = '2024-05-01T10:00:00Z';
    assert.deepEqual(validate(object).causes, []);
  });

  it('drops nulls for non-nullable fields, as Go decoding does (kubectl sends creationTimestamp: null)', () => {
    const object = deployment();
    (object.metadata as Record<string, unknown>).creationTimestamp = null;
    (object.spec as Record<string, unknown>).replicas = null;
    const result = validate(object);
    assert.deepEqual(result.causes, []);
    const value = result.value as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    assert.equal('creationTimestamp' in value.metadata, false);
    assert.equal('replicas' in value.spec, false);
    // The input is left alone.
    assert.equal((object.metadata as Record<string, unknown>).creationTimestamp, null);
  });

  it('treats a null required field as missing', () => {
    const result = validate(deployment({ template: null }));
    assert.deepEqual(result.causes, [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.template' }]);
  });

  it('keeps nulls where the schema is nullable', () => {
    const schema: SchemaNode = { type: 'object', properties: { note: { type: 'string', nullable: true } } };
    const object = { note: null };
    const result = validate(object, schema);
    assert.deepEqual(result.causes, []);
    assert.equal(result.value, object);
  });

  it('rejects a root that is not an object', () => {
    for (const value of [null, [], 'x', 3]) {
      const causes = validate(value).causes;
      assert.equal(causes.length, 1, JSON.stringify(value));
      assert.equal(causes[0].reason, 'FieldValueTypeInvalid');
    }
  });
});

describe('validateAgainstSchema: unknown fields', () => {
  const withUnknown = () => {
    const object = deployment({ foo: 1 });
    const template = (object.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }).template;
    template.spec.containers[0].imagePolicy = 'Always';
    (object as Record<string, unknown>).extra = true;
    return object;
  };

  it('Strict reports every unknown field by its full path and drops it', () => {
    const object = withUnknown();
    const result = validate(object, deploymentSchema, 'Strict');
    assert.deepEqual(
      result.causes.map((c) => c.message),
      ['unknown field "spec.template.spec.containers[0].imagePolicy"', 'unknown field "spec.foo"', 'unknown field "extra"'],
    );
    assert.deepEqual(
      result.causes.map((c) => c.field),
      ['spec.template.spec.containers[0].imagePolicy', 'spec.foo', 'extra'],
    );
    assert.deepEqual(result.warnings, []);
    assert.equal((object.spec as Record<string, unknown>).foo, 1, 'input not mutated');
  });

  it('Warn reports them as warnings and drops them', () => {
    const result = validate(withUnknown(), deploymentSchema, 'Warn');
    assert.deepEqual(result.causes, []);
    assert.deepEqual(result.warnings, [
      'unknown field "spec.template.spec.containers[0].imagePolicy"',
      'unknown field "spec.foo"',
      'unknown field "extra"',
    ]);
    const value = result.value as { spec: Record<string, unknown>; extra?: unknown };
    assert.equal('foo' in value.spec, false);
    assert.equal('extra' in value, false);
  });

  it('Ignore and Prune drop them silently', () => {
    for (const mode of ['Ignore', 'Prune'] as const) {
      const result = validate(withUnknown(), deploymentSchema, mode);
      assert.deepEqual(result.causes, []);
      assert.deepEqual(result.warnings, []);
      assert.deepEqual(result.value, deployment());
    }
  });

  it('always knows apiVersion, kind and metadata at the root, and validates metadata as ObjectMeta', () => {
    const crd: SchemaNode = {
      type: 'object',
      properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
    };
    const object = {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', labels: { a: 'b' } },
      spec: { size: 3 },
    };
    assert.deepEqual(validate(object, crd), { causes: [], warnings: [], value: object });

    const bad = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', labels: { a: 1 }, color: 'red' } };
    assert.deepEqual(
      validate(bad, crd).causes.map((c) => `${c.field}: ${c.message}`),
      [
        'metadata.labels[a]: Invalid value: "integer": metadata.labels[a] in body must be of type string: "integer"',
        'metadata.color: unknown field "metadata.color"',
      ],
    );
  });

  it('respects x-kubernetes-preserve-unknown-fields but still validates declared fields', () => {
    const schema: SchemaNode = {
      type: 'object',
      properties: {
        spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { size: { type: 'integer' } } },
        raw: ref('io.k8s.apimachinery.pkg.runtime.RawExtension'),
      },
    };
    const object = { spec: { size: 1, anything: { deep: [1, 2] } }, raw: { kind: 'Pod', spec: { x: 1 } } };
    assert.deepEqual(validate(object, schema), { causes: [], warnings: [], value: object });
    assert.deepEqual(
      validate({ spec: { size: 'big', other: 1 } }, schema).causes.map((c) => c.field),
      ['spec.size'],
    );
  });

  it('prunes everything under an object schema without properties (CRD semantics)', () => {
    const schema: SchemaNode = { type: 'object', properties: { spec: { type: 'object' } } };
    const result = validate({ spec: { a: 1 } }, schema, 'Prune');
    assert.deepEqual(result.value, { spec: {} });
  });

  it('validates embedded resources: apiVersion and kind required, metadata as ObjectMeta', () => {
    const schema: SchemaNode = {
      type: 'object',
      properties: {
        template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
      },
    };
    const ok = { template: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } } };
    assert.deepEqual(validate(ok, schema).causes, []);
    const causes = validate({ template: { metadata: { name: 1 } } }, schema).causes;
    assert.deepEqual(
      causes.map((c) => c.field),
      ['template.metadata.name', 'template.apiVersion', 'template.kind'],
    );
  });

  it('never lets a property named like an Object.prototype member through', () => {
    const schema: SchemaNode = { type: 'object', properties: { a: { type: 'string' } } };
    const value = JSON.parse('{"a":"x","constructor":1,"__proto__":{"polluted":true},"toString":2}');
    const result = validate(value, schema);
    assert.deepEqual(
      result.causes.map((c) => c.field),
      ['constructor', '__proto__', 'toString'],
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('validateAgainstSchema: int-or-string and quantities', () => {
  const maxSurge = (value: unknown) => validate(deployment({ strategy: { rollingUpdate: { maxSurge: value } } })).causes;

  it('accepts integers and strings for IntOrString', () => {
    assert.deepEqual(maxSurge(1), []);
    assert.deepEqual(maxSurge('25%'), []);
  });

  it('rejects other types for IntOrString', () => {
    assert.deepEqual(maxSurge(true), [
      {
        reason: 'FieldValueTypeInvalid',
        field: 'spec.strategy.rollingUpdate.maxSurge',
        message:
          'Invalid value: "boolean": spec.strategy.rollingUpdate.maxSurge in body must be of type integer or string: "boolean"',
      },
    ]);
    assert.equal(maxSurge(1.5).length, 1);
  });

  it('honours x-kubernetes-int-or-string on CRD schemas', () => {
    const schema: SchemaNode = {
      type: 'object',
      properties: { port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] } },
    };
    assert.deepEqual(validate({ port: 80 }, schema).causes, []);
    assert.deepEqual(validate({ port: 'http' }, schema).causes, []);
    assert.equal(validate({ port: [80] }, schema).causes.length, 1);
  });

  const limits = (value: unknown) => {
    const object = deployment();
    const containers = (object.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }).template.spec
      .containers;
    containers[0].resources = { limits: { cpu: value } };
    return validate(object).causes;
  };

  it('accepts quantities as strings and as numbers', () => {
    for (const value of ['500m', '1.5Gi', '2', '1e3', 2, 0.5]) assert.deepEqual(limits(value), [], String(value));
  });

  it('rejects malformed quantities and non-scalar ones', () => {
    const causes = limits('lots');
    assert.equal(causes.length, 1);
    assert.equal(causes[0].field, 'spec.template.spec.containers[0].resources.limits[cpu]');
    assert.match(causes[0].message!, /^Invalid value: "lots": quantities must match the regular expression/);
    assert.equal(limits(true)[0].reason, 'FieldValueTypeInvalid');
    assert.equal(limits({ value: 1 })[0].reason, 'FieldValueTypeInvalid');
  });
});

describe('validateAgainstSchema: value validations', () => {
  const schema: SchemaNode = {
    type: 'object',
    properties: {
      mode: { type: 'string', enum: ['Fast', 'Safe'] },
      name: { type: 'string', pattern: '^[a-z]+$', minLength: 2, maxLength: 5 },
      count: { type: 'integer', minimum: 1, maximum: 10 },
      ratio: { type: 'number', minimum: 0, exclusiveMinimum: true },
      tags: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 2 },
      either: {
        type: 'object',
        oneOf: [{ required: ['a'] }, { required: ['b'] }],
        properties: { a: { type: 'string' }, b: { type: 'string' } },
      },
    },
  };

  it('accepts values within the constraints', () => {
    const value = { mode: 'Fast', name: 'abc', count: 10, ratio: 0.1, tags: ['x'], either: { a: 'y' } };
    assert.deepEqual(validate(value, schema).causes, []);
  });

  it('words each violation as kube-apiserver does', () => {
    const value = { mode: 'Slow', name: 'ABCDEFG', count: 0, ratio: 0, tags: ['a', 'b', 'c'], either: { a: 'x', b: 'y' } };
    assert.deepEqual(
      validate(value, schema).causes.map((c) => `${c.field}: ${c.message}`),
      [
        'mode: Unsupported value: "Slow": supported values: "Fast", "Safe"',
        'name: Too long: may not be more than 5 bytes',
        'name: Invalid value: "ABCDEFG": name in body should match \'^[a-z]+$\'',
        'count: Invalid value: 0: count in body should be greater than or equal to 1',
        'ratio: Invalid value: 0: ratio in body should be greater than 0',
        'tags: Too many: 3: must have at most 2 items',
        'either: Invalid value: "object": "either" must validate one and only one schema (oneOf)',
      ],
    );
  });

  it('reports too short strings and arrays', () => {
    const causes = validate({ name: 'a', tags: [] }, schema).causes.map((c) => c.message);
    assert.deepEqual(causes, [
      'Invalid value: "a": name in body should be at least 2 chars long',
      'Invalid value: "array": tags in body should have at least 1 items',
    ]);
  });

  it('prefixes paths with rootPath', () => {
    const result = validateAgainstSchema({ count: 'x' }, schema, resolver, { unknownFields: 'Strict', rootPath: 'spec.config' });
    assert.equal(result.causes[0].field, 'spec.config.count');
  });
});

describe('validateAgainstSchema: robustness', () => {
  it('never throws, whatever the input', () => {
    const cyclic: Record<string, unknown> = { spec: {} };
    (cyclic.spec as Record<string, unknown>).template = cyclic;
    const samples: unknown[] = [
      undefined,
      NaN,
      Symbol('x'),
      () => 1,
      10n,
      cyclic,
      { spec: { replicas: 1n, template: { spec: { containers: [null, 1, 'x', [], { name: {} }] } } } },
      { metadata: 'x', spec: [] },
      { metadata: { labels: [] }, spec: { selector: { matchLabels: { a: null } } } },
    ];
    for (const sample of samples) {
      assert.doesNotThrow(() => validate(sample));
      assert.doesNotThrow(() => validate(sample, { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }));
    }
  });

  it('stops at a depth limit on recursive schemas and deep input', () => {
    const schema: SchemaNode = { type: 'object', properties: { child: ref('Node') } };
    const recursive = definitionsResolver({ Node: schema });
    let value: Record<string, unknown> = {};
    const root = value;
    for (let i = 0; i < 5000; i++) {
      const next = {};
      value.child = next;
      value = next;
    }
    const result = validateAgainstSchema(root, schema, recursive, { unknownFields: 'Strict' });
    assert.equal(result.causes.length, 1);
    assert.match(result.causes[0].message!, /exceeds the maximum nesting depth/);
  });

  it('tolerates schemas with odd content', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'string', pattern: '([' }, b: { $ref: '#/definitions/Missing' }, c: { enum: [{ x: 1 }] } },
    } as SchemaNode;
    assert.deepEqual(validate({ a: 'x', b: { anything: 1 }, c: { x: 1 } }, schema).causes, []);
    assert.equal(validate({ c: { x: 2 } }, schema).causes[0].reason, 'FieldValueNotSupported');
  });
});
