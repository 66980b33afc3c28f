import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  FieldSet,
  FieldsV1Error,
  StatusError,
  applyConfiguration,
  applyConflictError,
  decodeManagedFields,
  definitionsResolver,
  fieldPathOf,
  fieldSetOf,
  formatFieldPath,
  keyElement,
  updateManagedFields,
  valueElement,
  type ApplyOptions,
  type FieldPath,
  type KubeObject,
  type ManagedFieldsEntry,
  type SchemaNode,
} from '../src/index.js';

const str: SchemaNode = { type: 'string' };
const int: SchemaNode = { type: 'integer' };
const ref = (name: string): SchemaNode => ({ $ref: `#/definitions/${name}` });

/** A small kind exercising every list and map flavour. */
const fixtureDefs: Record<string, SchemaNode> = {
  Widget: {
    type: 'object',
    properties: { apiVersion: str, kind: str, metadata: ref('Meta'), spec: ref('WidgetSpec'), status: ref('WidgetStatus') },
  },
  Meta: {
    type: 'object',
    properties: {
      name: str,
      namespace: str,
      uid: str,
      resourceVersion: str,
      generation: int,
      creationTimestamp: str,
      labels: { type: 'object', additionalProperties: str },
      annotations: { type: 'object', additionalProperties: str },
      finalizers: { type: 'array', items: str, 'x-kubernetes-list-type': 'set' },
      managedFields: {
        type: 'array',
        items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        'x-kubernetes-list-type': 'atomic',
      },
    },
  },
  WidgetSpec: {
    type: 'object',
    properties: {
      replicas: int,
      items: {
        type: 'array',
        items: ref('Item'),
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name', 'zone'],
      },
      tags: { type: 'array', items: str, 'x-kubernetes-list-type': 'set' },
      args: { type: 'array', items: str },
      legacy: {
        type: 'array',
        items: ref('Item'),
        'x-kubernetes-patch-strategy': 'merge',
        'x-kubernetes-patch-merge-key': 'name',
      },
      selector: { type: 'object', properties: { a: str, b: str }, 'x-kubernetes-map-type': 'atomic' },
      settings: { type: 'object', additionalProperties: str },
      extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
  },
  WidgetStatus: { type: 'object', properties: { phase: str } },
  Item: { type: 'object', properties: { name: str, zone: { type: 'string', default: 'a' }, size: int, note: str } },
};
const fixtures = definitionsResolver(fixtureDefs);
const widgetSchema = fixtureDefs.Widget;

// shared/ sits beside the checkout; a missing file fails the test.
const referenceSpec = fileURLToPath(new URL('../../../../shared/reference/kubernetes-openapi-v2.json', import.meta.url));
const k8sDefs = (JSON.parse(readFileSync(referenceSpec, 'utf8')) as { definitions: Record<string, SchemaNode> }).definitions;
// kube's OpenAPI v3 (and Canopy's built-in definitions) publish `default: TCP` on port protocols,
// which makes `protocol` optional in apply configurations; the v2 reference does not carry it.
const portDef = k8sDefs['io.k8s.api.core.v1.ContainerPort'];
const k8s = definitionsResolver({
  ...k8sDefs,
  'io.k8s.api.core.v1.ContainerPort': {
    ...portDef,
    properties: { ...portDef.properties, protocol: { type: 'string', default: 'TCP' } },
  },
});
const deploymentSchema = k8sDefs['io.k8s.api.apps.v1.Deployment'];

const T0 = new Date('2025-03-01T10:00:00Z');
const T1 = new Date('2025-03-01T10:05:00Z');
const T2 = new Date('2025-03-01T10:10:00Z');

const paths = (set: FieldSet) => set.paths().map(formatFieldPath);

function deploymentApply(
  over: Partial<ApplyOptions> & { config: unknown; manager: string },
): ReturnType<typeof applyConfiguration> {
  return applyConfiguration({
    live: undefined,
    schema: deploymentSchema,
    resolver: k8s,
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    now: T0,
    ...over,
  });
}

function applied(result: ReturnType<typeof applyConfiguration>): { object: KubeObject; managedFields: ManagedFieldsEntry[] } {
  assert.ok(!result.conflicts, `unexpected conflicts: ${JSON.stringify(result.conflicts?.map((c) => c.field))}`);
  return result as { object: KubeObject; managedFields: ManagedFieldsEntry[] };
}

/** The entry of one manager (and operation), or undefined. */
function entryOf(mf: ManagedFieldsEntry[], manager: string, operation?: 'Apply' | 'Update'): ManagedFieldsEntry | undefined {
  return mf.find((e) => e.manager === manager && (!operation || e.operation === operation));
}

function ownedBy(mf: ManagedFieldsEntry[], manager: string, operation?: 'Apply' | 'Update'): string[] {
  const e = entryOf(mf, manager, operation);
  return e ? paths(FieldSet.fromFieldsV1(e.fieldsV1)) : [];
}

/** A stored object: what the server keeps after a successful apply (uid marks it as existing). */
function stored(r: { object: KubeObject }): KubeObject {
  const o = structuredClone(r.object);
  o.metadata.uid ??= 'uid-1';
  return o;
}

const deploymentConfig = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', ...metadata },
  spec,
});

const podTemplate = (containers: unknown[]) => ({
  selector: { matchLabels: { app: 'web' } },
  template: { metadata: { labels: { app: 'web' } }, spec: { containers } },
});

describe('field paths and FieldsV1', () => {
  it('round-trips upstream-ordered FieldsV1 byte for byte (fields, keys, values by type, indexes)', () => {
    const text =
      '{"f:aaa":{},"f:aab":{},"k:{\\"name\\":\\"first\\"}":{},"k:{\\"port\\":443,\\"protocol\\":\\"tcp\\"}":{},' +
      '"k:{\\"port\\":443,\\"protocol\\":\\"udp\\"}":{},"v:1":{},"v:3":{},"v:\\"aa\\"":{},"v:\\"ab\\"":{},"v:true":{},"i:1":{},"i:4":{}}';
    const set = FieldSet.fromFieldsV1(JSON.parse(text));
    assert.equal(set.size, 12);
    assert.equal(JSON.stringify(set.toFieldsV1()), text);
    // Inserting in another order produces the same encoding.
    const shuffled = FieldSet.of(...[...set.paths()].reverse());
    assert.equal(JSON.stringify(shuffled.toFieldsV1()), text);
  });

  it('marks nodes that are members and have children with "." last', () => {
    const set = FieldSet.of(
      fieldPathOf('spec', 'containers'),
      [...fieldPathOf('spec', 'containers'), keyElement({ name: 'app' })],
      [...fieldPathOf('spec', 'containers'), keyElement({ name: 'app' }), { kind: 'field', name: 'image' }],
      fieldPathOf('metadata', 'labels', 'x'),
    );
    assert.equal(
      JSON.stringify(set.toFieldsV1()),
      '{"f:metadata":{"f:labels":{"f:x":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"app\\"}":{"f:image":{},".":{}},".":{}}}}',
    );
    const back = FieldSet.fromFieldsV1(set.toFieldsV1());
    assert.ok(back.equals(set));
    assert.ok(back.has(fieldPathOf('spec', 'containers')));
    assert.ok(!back.has(fieldPathOf('spec')), 'a parent with members below is not itself a member');
  });

  it('writes associative keys sorted, with JSON values', () => {
    const pe = keyElement({ protocol: 'TCP', containerPort: 80 });
    assert.equal(JSON.stringify(FieldSet.of([pe]).toFieldsV1()), '{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{}}');
    assert.equal(
      formatFieldPath([...fieldPathOf('spec', 'ports'), pe, { kind: 'field', name: 'name' }]),
      '.spec.ports[containerPort=80,protocol="TCP"].name',
    );
    assert.equal(formatFieldPath([...fieldPathOf('metadata', 'finalizers'), valueElement('x')]), '.metadata.finalizers[="x"]');
  });

  it('drops unknown element types and refuses malformed ones', () => {
    assert.deepEqual(paths(FieldSet.fromFieldsV1({ 'f:a': {}, 'r:b': {} })), ['.a']);
    // A node whose children are all unknown still counts as a member, as upstream reads it.
    assert.deepEqual(paths(FieldSet.fromFieldsV1({ 'f:a': { 'z:q': {} } })), ['.a']);
    assert.deepEqual(paths(FieldSet.fromFieldsV1(null)), []);
    for (const bad of [{ f: {} }, { fa: {} }, { 'k:[1]': {} }, { 'i:x': {} }, { 'v:{': {} }, { 'f:a': 1 }, { 'f:a': [] }]) {
      assert.throws(() => FieldSet.fromFieldsV1(bad), FieldsV1Error, JSON.stringify(bad));
    }
    assert.throws(() => FieldSet.fromFieldsV1('f:a'), FieldsV1Error);
  });

  it('distinguishes difference from recursive difference', () => {
    const s = FieldSet.of(fieldPathOf('a'), fieldPathOf('a', 'b'), fieldPathOf('c'));
    const minus = FieldSet.of(fieldPathOf('a'));
    assert.deepEqual(paths(s.difference(minus)), ['.c', '.a.b']);
    assert.deepEqual(paths(s.recursiveDifference(minus)), ['.c']);
    assert.deepEqual(paths(s.intersection(FieldSet.of(fieldPathOf('a', 'b'), fieldPathOf('d')))), ['.a.b']);
    assert.deepEqual(paths(s.union(FieldSet.of(fieldPathOf('d', 'e')))), ['.a', '.c', '.a.b', '.d.e']);
  });
});

describe('fieldSetOf', () => {
  it('owns leaves, list items and map keys, but not struct fields', () => {
    const set = fieldSetOf(
      {
        metadata: { name: 'w', labels: { app: 'x' } },
        spec: {
          replicas: 2,
          items: [{ name: 'a', zone: 'z1', size: 1 }, { name: 'b' }],
          tags: ['t1', 't2'],
          args: ['--x', '--y'],
          legacy: [{ name: 'l', size: 3 }],
          selector: { a: '1' },
          settings: { k: 'v' },
        },
      },
      widgetSchema,
      fixtures,
    );
    assert.deepEqual(paths(set), [
      '.metadata.name',
      '.metadata.labels.app',
      '.spec.args',
      '.spec.replicas',
      '.spec.selector',
      '.spec.items[name="a",zone="z1"]',
      // zone is missing: the key falls back to the schema default.
      '.spec.items[name="b",zone="a"]',
      '.spec.items[name="a",zone="z1"].name',
      '.spec.items[name="a",zone="z1"].size',
      '.spec.items[name="a",zone="z1"].zone',
      '.spec.items[name="b",zone="a"].name',
      '.spec.legacy[name="l"]',
      '.spec.legacy[name="l"].name',
      '.spec.legacy[name="l"].size',
      '.spec.settings.k',
      '.spec.tags[="t1"]',
      '.spec.tags[="t2"]',
    ]);
  });

  it('treats preserve-unknown-fields and untyped content as granular maps with atomic lists', () => {
    const set = fieldSetOf(
      { spec: { extra: { a: { b: 1 }, list: [1, { x: 2 }] } }, unknown: { z: [1] } },
      widgetSchema,
      fixtures,
    );
    assert.deepEqual(paths(set), ['.unknown', '.spec.extra.a', '.spec.extra.list', '.spec.extra.a.b', '.unknown.z']);
    assert.deepEqual(paths(fieldSetOf({ a: { b: [1, 2] }, c: 1 }, undefined, fixtures)), ['.a', '.c', '.a.b']);
  });

  it('keys real Kubernetes lists: containers by name, ports by containerPort and protocol', () => {
    const set = fieldSetOf(
      deploymentConfig({ ...podTemplate([{ name: 'app', image: 'nginx', ports: [{ containerPort: 80 }], args: ['a'] }]) }),
      deploymentSchema,
      k8s,
    );
    const owned = paths(set);
    assert.ok(owned.includes('.spec.template.spec.containers[name="app"]'));
    assert.ok(owned.includes('.spec.template.spec.containers[name="app"].ports[containerPort=80,protocol="TCP"]'));
    assert.ok(owned.includes('.spec.template.spec.containers[name="app"].args'), 'args is atomic');
    assert.ok(owned.includes('.spec.selector'), 'LabelSelector is an atomic map');
    assert.ok(!owned.includes('.spec.selector.matchLabels.app'));
  });
});

describe('managedFields for non-apply writes', () => {
  const created = (): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'nginx',
      namespace: 'default',
      uid: 'u-1',
      resourceVersion: '1',
      generation: 1,
      creationTimestamp: '2025-03-01T10:00:00Z',
      labels: { app: 'nginx' },
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'nginx' } },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: 'nginx',
              resources: {},
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              imagePullPolicy: 'Always',
            },
          ],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
          dnsPolicy: 'ClusterFirst',
          securityContext: {},
          schedulerName: 'default-scheduler',
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {},
  });
  // Go's zero apps/v1 Deployment as the field manager sees it: non-pointer structs exist.
  const deploymentZero = {
    metadata: { creationTimestamp: null },
    spec: { template: { metadata: { creationTimestamp: null }, spec: { containers: null } }, strategy: {} },
    status: {},
  };

  it('records `kubectl create deployment` exactly as kube-apiserver does', () => {
    const mf = updateManagedFields({
      old: undefined,
      next: created(),
      manager: 'kubectl-create',
      schema: deploymentSchema,
      resolver: k8s,
      apiVersion: 'apps/v1',
      now: T0,
      createBaseline: deploymentZero,
    });
    assert.equal(
      JSON.stringify(mf),
      '[{"manager":"kubectl-create","operation":"Update","apiVersion":"apps/v1","time":"2025-03-01T10:00:00Z","fieldsType":"FieldsV1","fieldsV1":' +
        '{"f:metadata":{"f:labels":{"f:app":{},".":{}}},"f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit":{},' +
        '"f:selector":{},"f:strategy":{"f:rollingUpdate":{"f:maxSurge":{},"f:maxUnavailable":{},".":{}},"f:type":{}},"f:template":{"f:metadata":' +
        '{"f:labels":{"f:app":{},".":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{"f:image":{},"f:imagePullPolicy":{},"f:name":{},' +
        '"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{},".":{}}},"f:dnsPolicy":{},"f:restartPolicy":{},' +
        '"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}}}]',
    );
  });

  it('without a zero-value baseline every new container is a member (how CRDs look)', () => {
    const mf = updateManagedFields({
      old: undefined,
      next: created(),
      manager: 'kubectl-create',
      schema: deploymentSchema,
      resolver: k8s,
      apiVersion: 'apps/v1',
      now: T0,
    });
    const owned = ownedBy(mf, 'kubectl-create');
    assert.ok(owned.includes('.spec') && owned.includes('.spec.template.spec.containers'));
    assert.ok(
      !owned.includes('.metadata') && !owned.includes('.metadata.name') && !owned.includes('.apiVersion'),
      'system fields are stripped',
    );
  });

  it('gives an updater the fields it changed and takes them from the others', () => {
    const v1 = created();
    v1.metadata.managedFields = updateManagedFields({
      old: undefined,
      next: v1,
      manager: 'kubectl-create',
      schema: deploymentSchema,
      resolver: k8s,
      apiVersion: 'apps/v1',
      now: T0,
    });
    const v2 = structuredClone(v1);
    (v2.spec as { replicas: number }).replicas = 5;
    v2.metadata.labels = { app: 'nginx', tier: 'web' };
    const mf = updateManagedFields({
      old: v1,
      next: v2,
      manager: 'kubectl-edit',
      schema: deploymentSchema,
      resolver: k8s,
      apiVersion: 'apps/v1',
      now: T1,
    });
    assert.deepEqual(ownedBy(mf, 'kubectl-edit'), ['.metadata.labels.tier', '.spec.replicas']);
    const creator = ownedBy(mf, 'kubectl-create');
    assert.ok(!creator.includes('.spec.replicas'));
    assert.ok(creator.includes('.spec.template.spec.containers[name="nginx"].image'));
    assert.equal(entryOf(mf, 'kubectl-create')!.time, '2025-03-01T10:00:00Z', 'the other entry keeps its time');
    assert.equal(entryOf(mf, 'kubectl-edit')!.time, '2025-03-01T10:05:00Z');
    assert.deepEqual(
      mf.map((e) => e.manager),
      ['kubectl-create', 'kubectl-edit'],
      'entries sort by time',
    );

    // Removing a field takes it out of every set; a manager left with nothing disappears.
    const v3 = structuredClone(v2);
    v3.metadata.managedFields = mf;
    v3.metadata.labels = { app: 'nginx' };
    delete (v3.spec as { replicas?: number }).replicas;
    const after = updateManagedFields({
      old: v2 as KubeObject,
      next: v3,
      manager: 'janitor',
      schema: deploymentSchema,
      resolver: k8s,
      apiVersion: 'apps/v1',
      now: T2,
    });
    assert.equal(entryOf(after, 'kubectl-edit'), undefined);
    assert.equal(entryOf(after, 'janitor'), undefined, 'only removals: nothing to own');
  });

  it('keeps one Update entry per manager, apiVersion and subresource, merging its fields', () => {
    const v1: KubeObject = { apiVersion: 'x/v1', kind: 'Widget', metadata: { name: 'w', uid: 'u' }, spec: { replicas: 1 } };
    v1.metadata.managedFields = updateManagedFields({
      old: undefined,
      next: v1,
      manager: 'ctl',
      schema: widgetSchema,
      resolver: fixtures,
      apiVersion: 'x/v1',
      now: T0,
    });
    const v2 = { ...structuredClone(v1), spec: { replicas: 1, tags: ['a'] } };
    const mf2 = updateManagedFields({
      old: v1,
      next: v2,
      manager: 'ctl',
      schema: widgetSchema,
      resolver: fixtures,
      apiVersion: 'x/v1',
      now: T1,
    });
    assert.equal(mf2.length, 1);
    // Created against nothing, so the containers it brought into existence are members too.
    assert.deepEqual(ownedBy(mf2, 'ctl'), ['.spec', '.spec.replicas', '.spec.tags', '.spec.tags[="a"]']);
    const v3 = { ...structuredClone(v2), metadata: { ...v2.metadata, managedFields: mf2 }, status: { phase: 'Ready' } };
    const mf3 = updateManagedFields({
      old: v2,
      next: v3,
      manager: 'ctl',
      subresource: 'status',
      schema: widgetSchema,
      resolver: fixtures,
      apiVersion: 'x/v1',
      now: T2,
    });
    assert.equal(mf3.length, 2);
    assert.deepEqual(
      mf3.map((e) => [e.manager, e.subresource ?? '']),
      [
        ['ctl', ''],
        ['ctl', 'status'],
      ],
    );
  });

  it('honours managedFields sent by the client: [] or [{}] resets them, later updates stay untracked', () => {
    const v1: KubeObject = { apiVersion: 'x/v1', kind: 'Widget', metadata: { name: 'w', uid: 'u' }, spec: { replicas: 1 } };
    v1.metadata.managedFields = updateManagedFields({
      old: undefined,
      next: v1,
      manager: 'a',
      schema: widgetSchema,
      resolver: fixtures,
      apiVersion: 'x/v1',
      now: T0,
    });
    for (const reset of [[], [{}]]) {
      const next = {
        ...structuredClone(v1),
        metadata: { ...v1.metadata, managedFields: reset as ManagedFieldsEntry[] },
        spec: { replicas: 2 },
      };
      assert.deepEqual(
        updateManagedFields({
          old: v1,
          next,
          manager: 'b',
          schema: widgetSchema,
          resolver: fixtures,
          apiVersion: 'x/v1',
          now: T1,
        }),
        [],
      );
    }
    // Absent or garbage managedFields in the request keep the stored ones.
    for (const keep of [undefined, 'garbage', [{ operation: 'Nope' }]]) {
      const next = {
        ...structuredClone(v1),
        metadata: { ...v1.metadata, managedFields: keep as ManagedFieldsEntry[] },
        spec: { replicas: 2 },
      };
      const mf = updateManagedFields({
        old: v1,
        next,
        manager: 'b',
        schema: widgetSchema,
        resolver: fixtures,
        apiVersion: 'x/v1',
        now: T1,
      });
      assert.deepEqual(ownedBy(mf, 'b'), ['.spec.replicas']);
    }
    // An existing object without managedFields is not tracked by updates.
    const bare = { ...structuredClone(v1), metadata: { name: 'w', uid: 'u' } };
    assert.deepEqual(
      updateManagedFields({
        old: bare,
        next: { ...bare, spec: { replicas: 9 } },
        manager: 'b',
        schema: widgetSchema,
        resolver: fixtures,
        apiVersion: 'x/v1',
        now: T1,
      }),
      [],
    );
  });

  it('keeps the stored entries of a write that changes nothing', () => {
    const v1: KubeObject = { apiVersion: 'x/v1', kind: 'Widget', metadata: { name: 'w', uid: 'u' }, spec: { replicas: 1 } };
    v1.metadata.managedFields = updateManagedFields({
      old: undefined,
      next: v1,
      manager: 'a',
      schema: widgetSchema,
      resolver: fixtures,
      apiVersion: 'x/v1',
      now: T0,
    });
    const mf = updateManagedFields({
      old: v1,
      next: structuredClone(v1),
      manager: 'a',
      schema: widgetSchema,
      resolver: fixtures,
      apiVersion: 'x/v1',
      now: T2,
    });
    assert.deepEqual(mf, v1.metadata.managedFields);
  });

  it('caps Update entries at 10, folding the oldest into ancient-changes', () => {
    let obj: KubeObject = { apiVersion: 'x/v1', kind: 'Widget', metadata: { name: 'w', uid: 'u' }, spec: { settings: {} } };
    let old: KubeObject | undefined;
    for (let i = 0; i < 12; i++) {
      const next = structuredClone(obj);
      (next.spec as { settings: Record<string, string> }).settings[`k${i}`] = 'v';
      next.metadata.managedFields = updateManagedFields({
        old,
        next,
        manager: `m${i}`,
        schema: widgetSchema,
        resolver: fixtures,
        apiVersion: 'x/v1',
        now: new Date(T0.getTime() + i * 1000),
      });
      old = next;
      obj = next;
    }
    const mf = obj.metadata.managedFields!;
    assert.equal(mf.length, 10);
    assert.deepEqual(ownedBy(mf, 'ancient-changes'), [
      '.spec',
      '.spec.settings',
      '.spec.settings.k0',
      '.spec.settings.k1',
      '.spec.settings.k2',
    ]);
    assert.equal(entryOf(mf, 'ancient-changes')!.time, '2025-03-01T10:00:02Z', 'the bucket takes the newest folded time');
    assert.equal(entryOf(mf, 'm0'), undefined);
    assert.ok(entryOf(mf, 'm3'));
  });

  it('does not give owners to ignored (reset) fields', () => {
    const v1: KubeObject = {
      apiVersion: 'x/v1',
      kind: 'Widget',
      metadata: { name: 'w' },
      spec: { replicas: 1 },
      status: { phase: 'New' },
    };
    const mf = updateManagedFields({
      old: undefined,
      next: v1,
      manager: 'a',
      schema: widgetSchema,
      resolver: fixtures,
      apiVersion: 'x/v1',
      now: T0,
      ignoredFields: FieldSet.of(fieldPathOf('status')),
    });
    assert.deepEqual(ownedBy(mf, 'a'), ['.spec', '.spec.replicas']);
  });
});

describe('server-side apply', () => {
  it('creates the object and records exactly the configuration as the Apply entry', () => {
    const config = deploymentConfig(
      {
        replicas: 2,
        ...podTemplate([{ name: 'app', image: 'nginx:1', ports: [{ containerPort: 80, protocol: 'TCP' }] }]),
      },
      { labels: { app: 'web' } },
    );
    const r = applied(deploymentApply({ config, manager: 'kubectl' }));
    assert.deepEqual(r.object, { ...config, metadata: { ...config.metadata, managedFields: r.managedFields } });
    assert.equal(
      JSON.stringify(r.managedFields),
      '[{"manager":"kubectl","operation":"Apply","apiVersion":"apps/v1","time":"2025-03-01T10:00:00Z","fieldsType":"FieldsV1","fieldsV1":' +
        '{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},' +
        '"f:spec":{"f:containers":{"k:{\\"name\\":\\"app\\"}":{"f:image":{},"f:name":{},"f:ports":{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":' +
        '{"f:containerPort":{},"f:protocol":{},".":{}}},".":{}}}}}}}}]',
    );
  });

  it('lets two managers own different fields, and merges associative lists by key', () => {
    const first = applied(
      deploymentApply({
        config: deploymentConfig({
          replicas: 2,
          ...podTemplate([{ name: 'app', image: 'app:1', ports: [{ containerPort: 80 }] }]),
        }),
        manager: 'team-a',
      }),
    );
    const second = applied(
      deploymentApply({
        live: stored(first),
        config: deploymentConfig(
          {
            template: {
              spec: {
                containers: [
                  { name: 'sidecar', image: 'proxy:1' },
                  { name: 'app', ports: [{ containerPort: 9090, protocol: 'TCP' }] },
                ],
              },
            },
          },
          { labels: { owner: 'b' } },
        ),
        manager: 'team-b',
        now: T1,
      }),
    );
    const obj = second.object as {
      metadata: { labels: Record<string, string> };
      spec: { replicas: number; template: { spec: { containers: Array<Record<string, unknown>> } } };
    };
    assert.equal(obj.spec.replicas, 2);
    assert.deepEqual(obj.metadata.labels, { owner: 'b' });
    // team-b named sidecar before app: that order wins for the items it names.
    assert.deepEqual(
      obj.spec.template.spec.containers.map((c) => c.name),
      ['sidecar', 'app'],
    );
    assert.deepEqual(obj.spec.template.spec.containers[1], {
      name: 'app',
      image: 'app:1',
      ports: [{ containerPort: 80 }, { containerPort: 9090, protocol: 'TCP' }],
    });
    const a = ownedBy(second.managedFields, 'team-a');
    const b = ownedBy(second.managedFields, 'team-b');
    assert.ok(a.includes('.spec.replicas') && a.includes('.spec.template.spec.containers[name="app"].image'));
    assert.ok(b.includes('.metadata.labels.owner') && b.includes('.spec.template.spec.containers[name="sidecar"].image'));
    assert.ok(b.includes('.spec.template.spec.containers[name="app"].ports[containerPort=9090,protocol="TCP"]'));
    // Both name the app container, so both own the item itself.
    assert.ok(
      a.includes('.spec.template.spec.containers[name="app"]') && b.includes('.spec.template.spec.containers[name="app"]'),
    );
    assert.equal(entryOf(second.managedFields, 'team-a')!.time, '2025-03-01T10:00:00Z');
  });

  it('reports a conflict when a second manager changes a field the first applied, and force moves it', () => {
    const first = applied(
      deploymentApply({
        config: deploymentConfig({ replicas: 2, ...podTemplate([{ name: 'app', image: 'app:1' }]) }),
        manager: 'other',
      }),
    );
    const live = stored(first);
    const change = deploymentConfig({ replicas: 5 });
    const r = deploymentApply({ live, config: change, manager: 'kubectl', now: T1 });
    assert.ok(r.conflicts);
    assert.deepEqual(
      r.conflicts.map((c) => [c.manager, c.operation, c.field]),
      [['other', 'Apply', '.spec.replicas']],
    );
    const err = applyConflictError(r.conflicts);
    assert.equal(err.code, 409);
    assert.deepEqual(err.status, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Apply failed with 1 conflict: conflict with "other": .spec.replicas',
      reason: 'Conflict',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "other"', field: '.spec.replicas' }] },
      code: 409,
    });

    // The same value is no conflict: both own it.
    const same = applied(deploymentApply({ live, config: deploymentConfig({ replicas: 2 }), manager: 'kubectl', now: T1 }));
    assert.ok(ownedBy(same.managedFields, 'other').includes('.spec.replicas'));
    assert.ok(ownedBy(same.managedFields, 'kubectl').includes('.spec.replicas'));

    const forced = applied(deploymentApply({ live, config: change, manager: 'kubectl', force: true, now: T1 }));
    assert.equal((forced.object.spec as { replicas: number }).replicas, 5);
    assert.ok(!ownedBy(forced.managedFields, 'other').includes('.spec.replicas'));
    assert.ok(ownedBy(forced.managedFields, 'other').includes('.spec.template.spec.containers[name="app"].image'));
    assert.deepEqual(ownedBy(forced.managedFields, 'kubectl'), ['.spec.replicas']);
  });

  it('names Update owners with their apiVersion and groups several conflicts like kube', () => {
    const base: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default', labels: { x: '1' } },
      spec: { replicas: 1 },
    };
    base.metadata.managedFields = updateManagedFields({
      old: undefined,
      next: base,
      manager: 'other',
      schema: deploymentSchema,
      resolver: k8s,
      apiVersion: 'apps/v1',
      now: T0,
    });
    const live = { ...base, metadata: { ...base.metadata, uid: 'u' } };
    const labelled = applied(
      deploymentApply({ live, config: deploymentConfig({}, { labels: { y: '2' } }), manager: 'a', now: T1 }),
    );
    const r = deploymentApply({
      live: stored(labelled),
      config: deploymentConfig({ replicas: 3 }, { labels: { x: '9', y: '9' } }),
      manager: 'b',
      now: T2,
    });
    assert.ok(r.conflicts);
    const err = applyConflictError(r.conflicts);
    assert.equal(
      err.message,
      'Apply failed with 3 conflicts: conflicts with "a":\n- .metadata.labels.y\nconflicts with "other" using apps/v1:\n- .metadata.labels.x\n- .spec.replicas',
    );
    assert.deepEqual(err.status.details?.causes?.[2], {
      reason: 'FieldManagerConflict',
      message: 'conflict with "other" using apps/v1',
      field: '.spec.replicas',
    });
  });

  it('removes a field dropped from the configuration only when nobody else owns it', () => {
    const a1 = applied(
      deploymentApply({
        config: deploymentConfig({ replicas: 1 }, { labels: { a: '1', shared: 's' }, annotations: { note: 'n' } }),
        manager: 'a',
      }),
    );
    const b1 = applied(
      deploymentApply({ live: stored(a1), config: deploymentConfig({}, { labels: { shared: 's' } }), manager: 'b', now: T1 }),
    );
    const a2 = applied(deploymentApply({ live: stored(b1), config: deploymentConfig({ replicas: 1 }), manager: 'a', now: T2 }));
    assert.deepEqual(a2.object.metadata.labels, { shared: 's' }, 'label a goes, shared stays with b');
    assert.equal(a2.object.metadata.annotations, undefined, 'an emptied map disappears');
    assert.deepEqual(ownedBy(a2.managedFields, 'a'), ['.spec.replicas']);
    assert.deepEqual(ownedBy(a2.managedFields, 'b'), ['.metadata.labels.shared']);
  });

  it('removes dropped list items but keeps items another manager owns', () => {
    const a1 = applied(
      deploymentApply({
        config: deploymentConfig({
          ...podTemplate([
            { name: 'app', image: 'app:1' },
            { name: 'debug', image: 'busybox' },
          ]),
        }),
        manager: 'a',
      }),
    );
    const b1 = applied(
      deploymentApply({
        live: stored(a1),
        config: deploymentConfig({ template: { spec: { containers: [{ name: 'debug', image: 'busybox' }] } } }),
        manager: 'b',
        now: T1,
      }),
    );
    const a2 = applied(
      deploymentApply({
        live: stored(b1),
        config: deploymentConfig({ ...podTemplate([{ name: 'app', image: 'app:2' }]) }),
        manager: 'a',
        now: T2,
      }),
    );
    const names = (o: KubeObject) =>
      (o.spec as { template: { spec: { containers: Array<{ name: string }> } } }).template.spec.containers.map((c) => c.name);
    assert.deepEqual(names(a2.object), ['app', 'debug']);
    const a3 = applied(
      deploymentApply({
        live: stored(a1),
        config: deploymentConfig({ ...podTemplate([{ name: 'app', image: 'app:2' }]) }),
        manager: 'a',
        now: T2,
      }),
    );
    assert.deepEqual(names(a3.object), ['app'], 'without b, debug goes');
  });

  it('replaces atomic lists and maps whole, and unions sets', () => {
    const live: KubeObject = {
      apiVersion: 'x/v1',
      kind: 'Widget',
      metadata: { name: 'w', uid: 'u' },
      spec: { args: ['a', 'b'], selector: { a: '1', b: '2' }, tags: ['t1'], settings: { keep: 'k' } },
    };
    live.metadata.managedFields = updateManagedFields({
      old: undefined,
      next: live,
      manager: 'owner',
      schema: widgetSchema,
      resolver: fixtures,
      apiVersion: 'x/v1',
      now: T0,
    });
    const r = applied(
      applyConfiguration({
        live,
        config: {
          apiVersion: 'x/v1',
          kind: 'Widget',
          metadata: { name: 'w' },
          spec: { args: ['c'], selector: { b: '3' }, tags: ['t2'], settings: { add: 'x' } },
        },
        manager: 'm',
        force: true,
        schema: widgetSchema,
        resolver: fixtures,
        apiVersion: 'x/v1',
        kind: 'Widget',
        now: T1,
      }),
    );
    assert.deepEqual(r.object.spec, { args: ['c'], selector: { b: '3' }, tags: ['t1', 't2'], settings: { keep: 'k', add: 'x' } });
    assert.deepEqual(ownedBy(r.managedFields, 'owner'), [
      '.spec',
      '.spec.settings',
      '.spec.tags',
      '.spec.settings.keep',
      '.spec.tags[="t1"]',
    ]);
    assert.deepEqual(ownedBy(r.managedFields, 'm'), ['.spec.args', '.spec.selector', '.spec.settings.add', '.spec.tags[="t2"]']);
  });

  it('loses fields an Update takes over, and then conflicts with that updater', () => {
    const a1 = applied(
      deploymentApply({
        config: deploymentConfig({ replicas: 2, ...podTemplate([{ name: 'app', image: 'app:1' }]) }),
        manager: 'kubectl',
      }),
    );
    const live = stored(a1);
    const scaled = structuredClone(live);
    (scaled.spec as { replicas: number }).replicas = 7;
    scaled.metadata.managedFields = updateManagedFields({
      old: live,
      next: scaled,
      manager: 'hpa',
      schema: deploymentSchema,
      resolver: k8s,
      apiVersion: 'apps/v1',
      now: T1,
    });
    assert.deepEqual(ownedBy(scaled.metadata.managedFields, 'hpa'), ['.spec.replicas']);
    assert.ok(!ownedBy(scaled.metadata.managedFields, 'kubectl').includes('.spec.replicas'));

    const r = deploymentApply({
      live: scaled,
      config: deploymentConfig({ replicas: 2, ...podTemplate([{ name: 'app', image: 'app:1' }]) }),
      manager: 'kubectl',
      now: T2,
    });
    assert.deepEqual(
      r.conflicts?.map((c) => `${c.manager} ${c.operation} ${c.apiVersion} ${c.field}`),
      ['hpa Update apps/v1 .spec.replicas'],
    );
    assert.equal(
      applyConflictError(r.conflicts!).message,
      'Apply failed with 1 conflict: conflict with "hpa" using apps/v1: .spec.replicas',
    );

    // Dropping replicas from the configuration leaves the updater's value alone.
    const r2 = applied(
      deploymentApply({
        live: scaled,
        config: deploymentConfig({ ...podTemplate([{ name: 'app', image: 'app:1' }]) }),
        manager: 'kubectl',
        now: T2,
      }),
    );
    assert.equal((r2.object.spec as { replicas: number }).replicas, 7);
  });

  it('gives the fields of an object without managedFields to before-first-apply', () => {
    const live: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default', uid: 'u' },
      spec: { replicas: 1, paused: true },
    };
    const r = deploymentApply({ live, config: deploymentConfig({ replicas: 3 }), manager: 'helm', now: T1 });
    assert.deepEqual(
      r.conflicts?.map((c) => `${c.manager} ${c.field}`),
      ['before-first-apply .spec.replicas'],
    );
    const ok = applied(deploymentApply({ live, config: deploymentConfig({ replicas: 1 }), manager: 'helm', now: T1 }));
    assert.deepEqual(ownedBy(ok.managedFields, 'before-first-apply'), ['.spec', '.spec.paused', '.spec.replicas']);
    assert.deepEqual(ownedBy(ok.managedFields, 'helm'), ['.spec.replicas']);
  });

  it('keeps the stored managedFields when an apply changes nothing', () => {
    const first = applied(deploymentApply({ config: deploymentConfig({ replicas: 2 }), manager: 'kubectl' }));
    const live = stored(first);
    const again = applied(deploymentApply({ live, config: deploymentConfig({ replicas: 2 }), manager: 'kubectl', now: T2 }));
    assert.deepEqual(again.object, live);
    assert.equal(again.managedFields[0].time, '2025-03-01T10:00:00Z');
  });

  it('does not own reset fields and leaves inputs untouched', () => {
    const config = {
      apiVersion: 'x/v1',
      kind: 'Widget',
      metadata: { name: 'w' },
      spec: { replicas: 2 },
      status: { phase: 'Mine' },
    };
    const common = {
      manager: 'm',
      schema: widgetSchema,
      resolver: fixtures,
      apiVersion: 'x/v1',
      now: T0,
      ignoredFields: FieldSet.of(fieldPathOf('status')),
    };
    const created = applied(applyConfiguration({ ...common, live: undefined, config }));
    assert.deepEqual(ownedBy(created.managedFields, 'm', 'Apply'), ['.spec.replicas']);

    const live: KubeObject = { ...stored(created), status: { phase: 'Old' } };
    const change = { ...config, spec: { replicas: 3 } };
    const before = structuredClone({ live, change });
    const r = applied(applyConfiguration({ ...common, live, config: change, now: T1 }));
    assert.equal((r.object.spec as { replicas: number }).replicas, 3);
    assert.deepEqual({ live, change }, before);
    (r.object.spec as { replicas: number }).replicas = 99;
    (r.object.metadata.managedFields as unknown[]).length = 0;
    assert.equal(change.spec.replicas, 3);
    assert.equal(r.managedFields.length, 1, "the returned list is not the object's");
  });
});

describe('server-side apply after client-side apply', () => {
  const LAST = 'kubectl.kubernetes.io/last-applied-configuration';
  /** A Deployment as `kubectl apply` (client-side) leaves it. */
  function clientSideApplied(replicas: number, liveReplicas = replicas): KubeObject {
    const lastApplied = deploymentConfig({ replicas, ...podTemplate([{ name: 'app', image: 'app:1' }]) });
    const obj = structuredClone(lastApplied) as KubeObject;
    obj.metadata.annotations = { [LAST]: JSON.stringify(lastApplied) + '\n' };
    obj.metadata.managedFields = updateManagedFields({
      old: undefined,
      next: obj,
      manager: 'kubectl-client-side-apply',
      schema: deploymentSchema,
      resolver: k8s,
      apiVersion: 'apps/v1',
      now: T0,
    });
    obj.metadata.uid = 'u';
    if (liveReplicas !== replicas) {
      const next = structuredClone(obj);
      (next.spec as { replicas: number }).replicas = liveReplicas;
      next.metadata.managedFields = updateManagedFields({
        old: obj,
        next,
        manager: 'kubectl-scale',
        schema: deploymentSchema,
        resolver: k8s,
        apiVersion: 'apps/v1',
        now: T1,
      });
      return next;
    }
    return obj;
  }

  it('lets kubectl take over fields it applied client-side, and rewrites the annotation', () => {
    const live = clientSideApplied(2);
    const config = deploymentConfig({ replicas: 3, ...podTemplate([{ name: 'app', image: 'app:2' }]) });
    const r = applied(deploymentApply({ live, config, manager: 'kubectl', now: T2 }));
    assert.equal((r.object.spec as { replicas: number }).replicas, 3);
    assert.ok(ownedBy(r.managedFields, 'kubectl', 'Apply').includes('.spec.replicas'));
    assert.ok(!ownedBy(r.managedFields, 'kubectl-client-side-apply').includes('.spec.replicas'));
    const annotation = r.object.metadata.annotations?.[LAST];
    assert.ok(annotation?.endsWith('\n'));
    assert.deepEqual(JSON.parse(annotation!), config);
    assert.ok(annotation!.startsWith('{"apiVersion":"apps/v1","kind":"Deployment","metadata":'), 'keys sorted as Go writes them');
  });

  it('still conflicts on fields changed since the client-side apply, and for other managers', () => {
    const scaled = clientSideApplied(2, 5);
    const r = deploymentApply({ live: scaled, config: deploymentConfig({ replicas: 3 }), manager: 'kubectl', now: T2 });
    assert.deepEqual(
      r.conflicts?.map((c) => `${c.manager} ${c.field}`),
      ['kubectl-scale .spec.replicas'],
    );

    const live = clientSideApplied(2);
    const other = deploymentApply({ live, config: deploymentConfig({ replicas: 3 }), manager: 'helm', now: T2 });
    assert.equal(
      applyConflictError(other.conflicts!).message,
      'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
    );
  });
});

describe('apply input checks', () => {
  const base = {
    schema: deploymentSchema,
    resolver: k8s,
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    manager: 'm',
    live: undefined,
    now: T0,
  } as const;
  const statusOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof StatusError, String(err));
      return err.status;
    }
    assert.fail('expected a StatusError');
  };

  it('refuses configurations of another kind, with managedFields, or not an object', () => {
    assert.deepEqual(
      [
        statusOf(() => applyConfiguration({ ...base, config: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } } })),
      ].map((s) => [s.code, s.message]),
      [[400, 'invalid object type: /v1, Kind=ConfigMap']],
    );
    const mf = statusOf(() => applyConfiguration({ ...base, config: deploymentConfig({}, { managedFields: [] }) }));
    assert.deepEqual([mf.code, mf.reason, mf.message], [400, 'BadRequest', 'metadata.managedFields must be nil']);
    const arr = statusOf(() => applyConfiguration({ ...base, config: [1] }));
    assert.equal(arr.code, 400);
    assert.match(arr.message!, /cannot unmarshal array into Go value of type map\[string\]interface \{\}/);
  });

  it('refuses undeclared fields, keyless items and duplicate keys like kube (500, no reason)', () => {
    const s = statusOf(() =>
      applyConfiguration({
        ...base,
        config: deploymentConfig({
          replicaz: 1,
          ...podTemplate([
            { name: 'a', image: 'x', ports: [{ name: 'http' }] },
            { name: 'a', image: 'y' },
          ]),
        }),
      }),
    );
    assert.equal(s.code, 500);
    assert.equal(s.reason, undefined);
    assert.equal(
      s.message,
      'failed to create typed patch object (default/web; apps/v1, Kind=Deployment): errors:\n' +
        '  .spec.replicaz: field not declared in schema\n' +
        '  .spec.template.spec.containers[name="a"].ports: element 0: associative list with keys has an element that omits key field "containerPort" (and doesn\'t have default value)\n' +
        '  .spec.template.spec.containers: duplicate entries for key [name="a"]',
    );
  });

  it('answers 500 for undecodable stored managedFields', () => {
    const live: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', uid: 'u', managedFields: [{ manager: 'x', operation: 'Update' } as ManagedFieldsEntry] },
    };
    const s = statusOf(() => applyConfiguration({ ...base, live, config: deploymentConfig({ replicas: 1 }) }));
    assert.deepEqual([s.code, s.message], [500, 'failed to decode managed fields: apiVersion must not be empty']);
    assert.throws(
      () => decodeManagedFields([{ operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV2' }]),
      /invalid fieldsType "FieldsV2" in managed fields entry 0/,
    );
  });

  it('answers absurdly nested content with a StatusError, and updates without managedFields', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 50000; i++) deep = { a: deep };
    const config = { apiVersion: 'x/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { extra: deep } };
    const s = statusOf(() =>
      applyConfiguration({ live: undefined, config, manager: 'm', schema: widgetSchema, resolver: fixtures, apiVersion: 'x/v1' }),
    );
    assert.equal(s.code, 500);
    assert.equal(statusOf(() => fieldSetOf(config, widgetSchema, fixtures)).code, 500);
    assert.deepEqual(
      updateManagedFields({
        old: undefined,
        next: config as KubeObject,
        manager: 'm',
        schema: widgetSchema,
        resolver: fixtures,
        apiVersion: 'x/v1',
      }),
      [],
    );
  });

  it('never throws anything but StatusError on garbage (seeded fuzz)', () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const words = [
      'apiVersion',
      'kind',
      'metadata',
      'name',
      'spec',
      'replicas',
      'template',
      'containers',
      'ports',
      'containerPort',
      'protocol',
      'labels',
      'managedFields',
      'f:spec',
      'k:{',
      '.',
      'selector',
      'status',
    ];
    const gen = (depth: number): unknown => {
      const r = rand();
      if (depth > 4 || r < 0.3) return [null, 1, 1.5, 'x', true, '', -3][Math.floor(rand() * 7)];
      if (r < 0.55) return Array.from({ length: Math.floor(rand() * 3) }, () => gen(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rand() * 4); i > 0; i--) o[words[Math.floor(rand() * words.length)]] = gen(depth + 1);
      return o;
    };
    for (let i = 0; i < 400; i++) {
      const live =
        rand() < 0.5
          ? undefined
          : ({
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              metadata: { name: 'web', uid: 'u', managedFields: gen(1) },
              spec: gen(1),
            } as KubeObject);
      const config =
        rand() < 0.7 ? { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: gen(1) } : gen(0);
      try {
        applyConfiguration({ ...base, live, config, force: rand() < 0.5, manager: rand() < 0.5 ? 'kubectl' : 'm' });
      } catch (err) {
        assert.ok(err instanceof StatusError, `${String(err)} for ${JSON.stringify(config)}`);
      }
      const next = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', managedFields: gen(1) },
        spec: gen(1),
        status: gen(1),
      } as KubeObject;
      const mf = updateManagedFields({
        old: live,
        next,
        manager: 'm',
        schema: deploymentSchema,
        resolver: k8s,
        apiVersion: 'apps/v1',
        now: T1,
      });
      assert.ok(Array.isArray(mf));
      const viaFields = (): FieldPath[] => fieldSetOf(gen(0), deploymentSchema, k8s).paths();
      assert.ok(Array.isArray(viaFields()));
    }
  });
});
