import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { StatusError, applyStrategicMergePatch, cloneJson, definitionsResolver, type SchemaNode } from '../src/index.js';

const ref = (name: string): SchemaNode => ({ $ref: `#/definitions/${name}` });
const mergeBy = (key: string, items: SchemaNode, strategy = 'merge'): SchemaNode => ({
  type: 'array',
  items,
  'x-kubernetes-patch-strategy': strategy,
  'x-kubernetes-patch-merge-key': key,
});

/**
 * Upstream's test type (strategicpatch patch_test.go MergeItem), as OpenAPI with patch
 * extensions, plus a slice of the pod API with the real fields' strategies.
 */
const definitions: Record<string, SchemaNode> = {
  MergeItem: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      value: { type: 'string' },
      other: { type: 'string' },
      mergingList: mergeBy('name', ref('MergeItem')),
      nonMergingList: { type: 'array', items: ref('MergeItem') },
      mergingIntList: { type: 'array', items: { type: 'integer' }, 'x-kubernetes-patch-strategy': 'merge' },
      nonMergingIntList: { type: 'array', items: { type: 'integer' } },
      simpleMap: { type: 'object', additionalProperties: { type: 'string' } },
      replacingItem: { type: 'object', 'x-kubernetes-patch-strategy': 'replace', 'x-kubernetes-preserve-unknown-fields': true },
      retainKeysMap: { allOf: [ref('RetainKeysMergeItem')], 'x-kubernetes-patch-strategy': 'retainKeys' },
      retainKeysMergingList: mergeBy('name', ref('MergeItem'), 'merge,retainKeys'),
    },
  },
  RetainKeysMergeItem: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      value: { type: 'string' },
      other: { type: 'string' },
      simpleMap: { type: 'object', additionalProperties: { type: 'string' } },
      mergingIntList: { type: 'array', items: { type: 'integer' }, 'x-kubernetes-patch-strategy': 'merge' },
      mergingList: mergeBy('name', ref('MergeItem')),
      nonMergingList: { type: 'array', items: ref('MergeItem') },
    },
  },
  Pod: { type: 'object', properties: { metadata: ref('ObjectMeta'), spec: ref('PodSpec') } },
  ObjectMeta: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      finalizers: { type: 'array', items: { type: 'string' }, 'x-kubernetes-patch-strategy': 'merge' },
      ownerReferences: mergeBy('uid', { type: 'object', properties: { uid: { type: 'string' }, name: { type: 'string' } } }),
    },
  },
  PodSpec: {
    type: 'object',
    properties: {
      containers: mergeBy('name', ref('Container')),
      initContainers: mergeBy('name', ref('Container')),
      volumes: mergeBy('name', ref('Volume'), 'merge,retainKeys'),
      tolerations: { type: 'array', items: { type: 'object', properties: { key: { type: 'string' } } } },
      nodeSelector: { type: 'object', additionalProperties: { type: 'string' } },
    },
  },
  Container: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      image: { type: 'string' },
      args: { type: 'array', items: { type: 'string' } },
      env: mergeBy('name', { type: 'object', properties: { name: { type: 'string' }, value: { type: 'string' } } }),
      ports: mergeBy('containerPort', {
        type: 'object',
        properties: { containerPort: { type: 'integer' }, protocol: { type: 'string' } },
      }),
      volumeMounts: mergeBy('mountPath', {
        type: 'object',
        properties: { name: { type: 'string' }, mountPath: { type: 'string' } },
      }),
      resources: { type: 'object', properties: { limits: { type: 'object', additionalProperties: { type: 'string' } } } },
    },
  },
  Volume: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      emptyDir: { type: 'object', properties: { medium: { type: 'string' } } },
      configMap: { type: 'object', properties: { name: { type: 'string' } } },
      hostPath: { type: 'object', properties: { path: { type: 'string' } } },
    },
  },
};
const resolver = definitionsResolver(definitions);
const MERGE_ITEM = ref('MergeItem');
const POD = ref('Pod');

/** Applies and checks that neither input was touched. */
function apply(original: unknown, patch: unknown, schema: SchemaNode | undefined = MERGE_ITEM): any {
  const originalBefore = cloneJson(original);
  const patchBefore = cloneJson(patch);
  try {
    return applyStrategicMergePatch(original, patch, schema, resolver);
  } finally {
    assert.deepEqual(original, originalBefore, 'the original must not be mutated');
    assert.deepEqual(patch, patchBefore, 'the patch must not be mutated');
  }
}

function rejects(
  original: unknown,
  patch: unknown,
  code: number,
  message: RegExp,
  schema: SchemaNode | undefined = MERGE_ITEM,
): void {
  assert.throws(
    () => apply(original, patch, schema),
    (err: unknown) => {
      assert.ok(err instanceof StatusError, `expected StatusError, got ${String(err)}`);
      assert.equal(err.code, code);
      const text = `${err.message} ${err.status.details?.causes?.map((c) => c.message).join(' ') ?? ''}`;
      assert.match(text, message);
      return true;
    },
  );
}

const names = (...ns: Array<number | string>) => ns.map((name) => ({ name }));

describe('strategic merge patch: upstream cases (MergeItem)', () => {
  // [description, original, patch, expected] — from strategicpatch's patch_test.go.
  const cases: Array<[string, unknown, unknown, unknown]> = [
    ['unique scalars when merging lists', { mergingIntList: [1, 2] }, { mergingIntList: [2, 3] }, { mergingIntList: [1, 2, 3] }],
    [
      'delete map from nested map',
      { simpleMap: { key1: '1', key2: '1' } },
      { simpleMap: { $patch: 'delete' } },
      { simpleMap: {} },
    ],
    [
      'delete all items from merging list',
      { mergingList: names(1, 2) },
      { mergingList: [{ $patch: 'replace' }] },
      { mergingList: [] },
    ],
    ['merge empty merging lists', { mergingList: [] }, { mergingList: [] }, { mergingList: [] }],
    ['delete all keys from map', { name: '1', value: '1' }, { $patch: 'replace' }, {}],
    ['add key and delete all keys from map', { name: '1', value: '1' }, { other: 'a', $patch: 'replace' }, { other: 'a' }],
    [
      'delete all duplicate entries in a merging list',
      { mergingList: [{ name: 1 }, { name: 1 }, { name: 2, value: 'a' }, { name: 3 }, { name: 3 }] },
      {
        mergingList: [
          { name: 1, $patch: 'delete' },
          { name: 3, $patch: 'delete' },
        ],
      },
      { mergingList: [{ name: 2, value: 'a' }] },
    ],
    [
      'retainKeys map can add a field when no retainKeys directive present',
      { retainKeysMap: { name: 'foo' } },
      { retainKeysMap: { value: 'bar' } },
      { retainKeysMap: { name: 'foo', value: 'bar' } },
    ],
    [
      'retainKeys map can delete a field when no retainKeys directive present',
      { retainKeysMap: { name: 'foo', value: 'a' } },
      { retainKeysMap: { value: null } },
      { retainKeysMap: { name: 'foo' } },
    ],
    [
      'retainKeys map merge an empty map',
      { retainKeysMap: { name: 'foo', value: 'a' } },
      { retainKeysMap: {} },
      { retainKeysMap: { name: 'foo', value: 'a' } },
    ],
    [
      'retainKeys list can change a field when no retainKeys directive present',
      { retainKeysMergingList: [{ name: 'bar' }, { name: 'foo', value: 'a' }] },
      { retainKeysMergingList: [{ name: 'foo', value: 'b' }] },
      { retainKeysMergingList: [{ name: 'bar' }, { name: 'foo', value: 'b' }] },
    ],
    [
      'preserve the order from the patch in a merging list',
      { mergingList: [{ name: 1 }, { name: 2, value: 'b' }, { name: 3 }] },
      {
        mergingList: [
          { name: 3, value: 'c' },
          { name: 1, value: 'a' },
          { name: 2, other: 'x' },
        ],
      },
      {
        mergingList: [
          { name: 3, value: 'c' },
          { name: 1, value: 'a' },
          { name: 2, value: 'b', other: 'x' },
        ],
      },
    ],
    [
      'preserve the order from the patch in a merging list 2',
      { mergingList: [{ name: 1 }, { name: 2, value: 'b' }, { name: 3 }] },
      {
        mergingList: [
          { name: 3, value: 'c' },
          { name: 1, value: 'a' },
        ],
      },
      {
        mergingList: [
          { name: 2, value: 'b' },
          { name: 3, value: 'c' },
          { name: 1, value: 'a' },
        ],
      },
    ],
    [
      'preserve the order from the patch in a merging int list',
      { mergingIntList: [1, 2, 3] },
      { mergingIntList: [3, 1, 2] },
      { mergingIntList: [3, 1, 2] },
    ],
    [
      'preserve the order from the patch in a merging int list 2',
      { mergingIntList: [1, 2, 3] },
      { mergingIntList: [3, 1] },
      { mergingIntList: [2, 3, 1] },
    ],
    [
      '$setElementOrder contains item that is not present in the list to be merged',
      { mergingList: names(1, 3) },
      {
        '$setElementOrder/mergingList': names(3, 2, 1),
        mergingList: [
          { name: 3, value: '3' },
          { name: 1, value: '1' },
        ],
      },
      {
        mergingList: [
          { name: 3, value: '3' },
          { name: 1, value: '1' },
        ],
      },
    ],
    [
      '$setElementOrder contains item that is not present in the int list to be merged',
      { mergingIntList: [1, 3] },
      { '$setElementOrder/mergingIntList': [3, 2, 1] },
      { mergingIntList: [3, 1] },
    ],
    [
      'delete items in lists of scalars',
      { mergingIntList: [1, 2, 3, 4] },
      { '$setElementOrder/mergingIntList': [1, 2], '$deleteFromPrimitiveList/mergingIntList': [3] },
      { mergingIntList: [1, 2, 4] },
    ],
    [
      'delete all duplicate items in lists of scalars',
      { mergingIntList: [1, 2, 3, 3, 4] },
      { '$setElementOrder/mergingIntList': [1, 2], '$deleteFromPrimitiveList/mergingIntList': [3] },
      { mergingIntList: [1, 2, 4] },
    ],
    [
      'add and delete items in lists of scalars',
      { mergingIntList: [1, 2, 3, 4] },
      { '$setElementOrder/mergingIntList': [1, 2, 4], '$deleteFromPrimitiveList/mergingIntList': [3], mergingIntList: [4] },
      { mergingIntList: [1, 2, 4] },
    ],
    [
      'merge lists of maps with $setElementOrder',
      {
        mergingList: [
          { name: 1, other: 'a' },
          { name: 2, value: 2, other: 'b' },
        ],
      },
      {
        '$setElementOrder/mergingList': names(4, 1, 2, 3),
        mergingList: [
          { name: 4, value: 4 },
          { name: 3, value: 3 },
        ],
      },
      {
        mergingList: [
          { name: 4, value: 4 },
          { name: 1, other: 'a' },
          { name: 2, value: 2, other: 'b' },
          { name: 3, value: 3 },
        ],
      },
    ],
    [
      'add field to map in merging list',
      {
        mergingList: [
          { name: 1, other: 'a' },
          { name: 2, value: 2, other: 'b' },
        ],
      },
      { '$setElementOrder/mergingList': names(1, 2), mergingList: [{ name: 1, value: 1 }] },
      {
        mergingList: [
          { name: 1, other: 'a', value: 1 },
          { name: 2, value: 2, other: 'b' },
        ],
      },
    ],
    ['replace list of scalars', { nonMergingIntList: [1, 2] }, { nonMergingIntList: [2, 3] }, { nonMergingIntList: [2, 3] }],
    [
      'replace list of maps',
      { nonMergingList: [{ name: 1, value: 'a' }] },
      { nonMergingList: [{ name: 2 }] },
      { nonMergingList: [{ name: 2 }] },
    ],
    [
      'delete field from map in merging list',
      {
        mergingList: [
          { name: 1, value: 1, other: 'a' },
          { name: 2, value: 2 },
        ],
      },
      { mergingList: [{ name: 1, value: null }] },
      {
        mergingList: [
          { name: 1, other: 'a' },
          { name: 2, value: 2 },
        ],
      },
    ],
    [
      'delete missing map from merging list',
      { mergingList: [{ name: 2, other: 'b' }] },
      { mergingList: [{ name: 1, $patch: 'delete' }] },
      { mergingList: [{ name: 2, other: 'b' }] },
    ],
    [
      'add map and delete map from merging list',
      { mergingList: [{ name: 1 }, { name: 2, other: 'b' }, { name: 4, other: 'c' }] },
      { mergingList: [{ name: 1, $patch: 'delete' }, { name: 3 }] },
      // Upstream's ordering puts a new item before server items it cannot be placed against.
      { mergingList: [{ name: 3 }, { name: 2, other: 'b' }, { name: 4, other: 'c' }] },
    ],
    [
      'defined null values propagate removing original fields',
      { name: 'n', value: 'v', other: 'o' },
      { name: 'm', value: null },
      { name: 'm', other: 'o' },
    ],
    ['null for a missing field is ignored', { name: 'n' }, { value: null }, { name: 'n' }],
    [
      'replace-strategy maps are replaced',
      { replacingItem: { a: 1, b: 2 } },
      { replacingItem: { c: 3 } },
      { replacingItem: { c: 3 } },
    ],
  ];
  for (const [description, original, patch, expected] of cases) {
    it(description, () => {
      assert.deepEqual(apply(original, patch), expected);
    });
  }

  it('order in $setElementOrder must match the patch list', () => {
    rejects(
      { mergingList: names(1, 3, 2) },
      {
        '$setElementOrder/mergingList': names(1, 2, 3),
        mergingList: [
          { name: 3, value: 3 },
          { name: 1, value: 1 },
        ],
      },
      400,
      /doesn't match \$setElementOrder list/,
    );
    rejects(
      { mergingIntList: [1, 3, 2] },
      { '$setElementOrder/mergingIntList': [1, 2, 3], mergingIntList: [3, 1] },
      400,
      /doesn't match/,
    );
  });

  it('list items must carry the merge key', () => {
    rejects(
      { mergingList: [{ name: 1, value: 'a' }] },
      { mergingList: [{ value: 'b' }] },
      400,
      /map: map\[value:b\] does not contain declared merge key: name/,
    );
    rejects(
      { mergingList: [{ name: 1 }] },
      { mergingList: [{ $patch: 'delete', value: 'b' }] },
      400,
      /does not contain declared merge key: name/,
    );
  });
});

describe('strategic merge patch: directives', () => {
  it('$retainKeys clears unlisted fields and merges the rest', () => {
    const original = { retainKeysMap: { name: 'foo', value: 'a', other: 'b', simpleMap: { x: 'y' } } };
    assert.deepEqual(
      apply(original, { retainKeysMap: { $retainKeys: ['name', 'value', 'simpleMap'], value: 'c', simpleMap: { z: 'w' } } }),
      {
        retainKeysMap: { name: 'foo', value: 'c', simpleMap: { x: 'y', z: 'w' } },
      },
    );
  });

  it('$retainKeys works inside merged list items (volumes switching source)', () => {
    const pod = {
      spec: {
        volumes: [
          { name: 'data', emptyDir: {} },
          { name: 'cfg', configMap: { name: 'c' } },
        ],
      },
    };
    const result = apply(
      pod,
      { spec: { volumes: [{ name: 'data', $retainKeys: ['name', 'hostPath'], hostPath: { path: '/srv' } }] } },
      POD,
    );
    assert.deepEqual(result.spec.volumes, [
      { name: 'data', hostPath: { path: '/srv' } },
      { name: 'cfg', configMap: { name: 'c' } },
    ]);
  });

  it('$retainKeys must list every field the patch sets (422) and be a list (400)', () => {
    rejects(
      { retainKeysMap: { name: 'a' } },
      { retainKeysMap: { $retainKeys: ['name'], value: 'x' } },
      422,
      /patch content doesn't match retainKeys list/,
    );
    rejects(
      { retainKeysMap: { name: 'a' } },
      { retainKeysMap: { $retainKeys: 'name' } },
      400,
      /invalid patch format of retainKeys/,
    );
  });

  it('$deleteFromPrimitiveList removes every occurrence and ignores missing lists', () => {
    assert.deepEqual(apply({ mergingIntList: [1, 2, 1, 3] }, { '$deleteFromPrimitiveList/mergingIntList': [1, 9] }), {
      mergingIntList: [2, 3],
    });
    assert.deepEqual(apply({ name: 'x' }, { '$deleteFromPrimitiveList/mergingIntList': [1] }), { name: 'x' });
    rejects(
      { mergingIntList: [1] },
      { '$deleteFromPrimitiveListX/mergingIntList': [1] },
      400,
      /invalid patch format of primitive list/,
    );
    rejects(
      { mergingIntList: [1] },
      { '$deleteFromPrimitiveList/mergingIntList': 1 },
      400,
      /invalid patch format of primitive list/,
    );
  });

  it('$setElementOrder must name a list field and be a list', () => {
    rejects({ mergingIntList: [1] }, { $setElementOrder: [1] }, 400, /invalid patch format of setElementOrder list/);
    rejects(
      { mergingIntList: [1] },
      { '$setElementOrder/mergingIntList': 'x' },
      400,
      /expected a \[\]interface \{\}, but received a string/,
    );
  });

  it('rejects unknown and unsupported $patch values', () => {
    rejects(
      { simpleMap: { a: 'b' } },
      { simpleMap: { $patch: 'merge' } },
      400,
      /unknown patch type: merge in map: map\[\$patch:merge\]/,
    );
    rejects(
      { mergingList: names(1) },
      { mergingList: [{ name: 1, $patch: 'merge' }] },
      400,
      /merging lists cannot yet be specified in the patch/,
    );
    rejects({ mergingList: names(1) }, { mergingList: [{ name: 1, $patch: 'frob' }] }, 400, /unknown patch type: frob/);
  });

  it('rejects lists of lists (422) and mixed element types (400)', () => {
    rejects({ mergingIntList: [[1]] }, { mergingIntList: [[2]] }, 422, /lists of lists are not supported/);
    rejects({ mergingIntList: [1] }, { mergingIntList: ['a'] }, 400, /list element types are not identical/);
  });

  it('merging maps without a merge key is refused', () => {
    const schema: SchemaNode = {
      type: 'object',
      properties: { list: { type: 'array', items: { type: 'object' }, 'x-kubernetes-patch-strategy': 'merge' } },
    };
    assert.throws(
      () => applyStrategicMergePatch({ list: [{ a: 1 }] }, { list: [{ a: 2 }] }, schema, resolver),
      (err: unknown) => err instanceof StatusError && err.code === 400 && /without merge key/.test(err.message),
    );
  });

  it('directives in new fields are applied, never stored', () => {
    const result = apply(
      { name: 'x' },
      {
        simpleMap: { $patch: 'replace', a: 'b', gone: null },
        mergingList: [
          { name: 1, $patch: 'delete' },
          { name: 2, value: null, mergingList: [{ name: 'n', $patch: 'delete' }] },
          { $patch: 'replace' },
        ],
        retainKeysMap: { $retainKeys: ['name'], name: 'r' },
        nonMergingList: [{ name: 3, other: null }],
      },
    );
    assert.deepEqual(result, {
      name: 'x',
      simpleMap: { a: 'b' },
      mergingList: [{ name: 2, mergingList: [] }],
      retainKeysMap: { name: 'r' },
      nonMergingList: [{ name: 3 }],
    });
    assert.deepEqual(apply({ name: 'x' }, { simpleMap: { $patch: 'delete' } }), { name: 'x' });
    assert.deepEqual(apply({ name: 'x', simpleMap: 'was a string' }, { simpleMap: { $patch: 'delete' } }), { name: 'x' });
  });
});

describe('strategic merge patch: pods', () => {
  const pod = {
    metadata: { name: 'web', labels: { app: 'web', tier: 'fe' }, finalizers: ['a', 'b'] },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'app:1',
          args: ['--a', '--b'],
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
          ports: [{ containerPort: 80, protocol: 'TCP' }],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
        { name: 'sidecar', image: 'side:1' },
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
      tolerations: [{ key: 'a' }, { key: 'b' }],
      nodeSelector: { zone: 'a' },
    },
  };

  it('merges containers by name and env by name, keeping everything else', () => {
    const result = apply(pod, { spec: { containers: [{ name: 'app', image: 'app:2', env: [{ name: 'B', value: '3' }] }] } }, POD);
    assert.deepEqual(result.spec.containers, [
      {
        ...pod.spec.containers[0],
        image: 'app:2',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '3' },
        ],
      },
      pod.spec.containers[1],
    ]);
  });

  it('merges ports by containerPort and volume mounts by mountPath', () => {
    const result = apply(
      pod,
      {
        spec: {
          containers: [
            {
              name: 'app',
              ports: [{ containerPort: 80, protocol: 'UDP' }, { containerPort: 443 }],
              volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
            },
          ],
        },
      },
      POD,
    );
    const app = result.spec.containers[0];
    assert.deepEqual(app.ports, [{ containerPort: 80, protocol: 'UDP' }, { containerPort: 443 }]);
    assert.deepEqual(app.volumeMounts, [
      { name: 'cache', mountPath: '/cache' },
      { name: 'data', mountPath: '/data' },
    ]);
  });

  it('replaces lists without a merge strategy (args, tolerations)', () => {
    const result = apply(pod, { spec: { tolerations: [{ key: 'c' }], containers: [{ name: 'app', args: ['--c'] }] } }, POD);
    assert.deepEqual(result.spec.tolerations, [{ key: 'c' }]);
    assert.deepEqual(result.spec.containers[0].args, ['--c']);
  });

  it('adds a container without $setElementOrder in front, as kube does', () => {
    const result = apply(pod, { spec: { containers: [{ name: 'new', image: 'new:1' }] } }, POD);
    assert.deepEqual(
      result.spec.containers.map((c: { name: string }) => c.name),
      ['new', 'app', 'sidecar'],
    );
  });

  it('places a new container where $setElementOrder says (kubectl apply)', () => {
    const result = apply(
      pod,
      {
        spec: {
          '$setElementOrder/containers': [{ name: 'app' }, { name: 'sidecar' }, { name: 'new' }],
          containers: [{ name: 'new', image: 'new:1' }],
        },
      },
      POD,
    );
    assert.deepEqual(
      result.spec.containers.map((c: { name: string }) => c.name),
      ['app', 'sidecar', 'new'],
    );
  });

  it('deletes a container with $patch: delete and a label with null', () => {
    const result = apply(
      pod,
      { metadata: { labels: { tier: null } }, spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } },
      POD,
    );
    assert.deepEqual(result.metadata.labels, { app: 'web' });
    assert.deepEqual(
      result.spec.containers.map((c: { name: string }) => c.name),
      ['app'],
    );
  });

  it('merges finalizers (a merge-strategy list of strings) as a union and deletes from them', () => {
    assert.deepEqual(apply(pod, { metadata: { finalizers: ['c', 'a'] } }, POD).metadata.finalizers, ['c', 'a', 'b']);
    assert.deepEqual(apply(pod, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, POD).metadata.finalizers, ['b']);
  });

  it('replaces a whole list with $patch: replace', () => {
    const result = apply(pod, { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'o:1' }] } }, POD);
    assert.deepEqual(result.spec.containers, [{ name: 'only', image: 'o:1' }]);
  });

  it('a kubectl rollout restart patch adds a template-style annotation map', () => {
    const result = apply(
      pod,
      { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-01-01T00:00:00Z' } } },
      POD,
    );
    assert.deepEqual(result.metadata.annotations, { 'kubectl.kubernetes.io/restartedAt': '2024-01-01T00:00:00Z' });
    assert.deepEqual(result.metadata.labels, pod.metadata.labels);
  });

  it('returns a result that shares nothing with the original', () => {
    const result = apply(pod, { metadata: { labels: { x: 'y' } } }, POD);
    result.spec.containers[0].env.push({ name: 'C' });
    assert.equal(pod.spec.containers[0].env?.length, 2);
  });
});

describe('strategic merge patch: without a schema (merge-patch behaviour)', () => {
  const cr = { spec: { items: [{ name: 'a', v: 1 }], config: { a: 1, b: { c: 2 } } } };
  it('merges maps and replaces lists', () => {
    assert.deepEqual(apply(cr, { spec: { items: [{ name: 'b' }], config: { b: { d: 3 }, a: null } } }, undefined), {
      spec: { items: [{ name: 'b' }], config: { b: { c: 2, d: 3 } } },
    });
  });

  it('fields the schema does not describe behave the same', () => {
    assert.deepEqual(apply({ name: 'x', unknown: { list: [1, 2], m: { a: 1 } } }, { unknown: { list: [3], m: { b: 2 } } }), {
      name: 'x',
      unknown: { list: [3], m: { a: 1, b: 2 } },
    });
  });
});

describe('strategic merge patch: inputs', () => {
  it('a null patch changes nothing; a non-object patch is a 400', () => {
    assert.deepEqual(apply({ name: 'x' }, null), { name: 'x' });
    rejects({ name: 'x' }, [1], 400, /json: cannot unmarshal array into Go value of type map\[string\]interface \{\}/);
    rejects({ name: 'x' }, 'x', 400, /cannot unmarshal string/);
  });

  it('type changes replace the value', () => {
    assert.deepEqual(apply({ simpleMap: { a: 'b' } }, { simpleMap: 'now a string' }), { simpleMap: 'now a string' });
    assert.deepEqual(apply({ mergingList: 'x' }, { mergingList: [{ name: 1, other: null }] }), { mergingList: [{ name: 1 }] });
  });

  it('creates __proto__ keys as data', () => {
    const result = apply({}, JSON.parse('{"simpleMap":{"__proto__":"x"},"__proto__":{"polluted":true}}'), undefined);
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.deepEqual(Object.keys(result.simpleMap), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('deep patches fail with a StatusError, not a stack overflow', () => {
    let patch: Record<string, unknown> = { leaf: 1 };
    let original: Record<string, unknown> = { leaf: 0 };
    for (let i = 0; i < 20000; i++) {
      patch = { n: patch };
      original = { n: original };
    }
    assert.throws(
      () => applyStrategicMergePatch(original, patch, undefined, resolver),
      (err: unknown) => err instanceof StatusError && err.code === 422,
    );
  });

  it('never throws anything but StatusError for random patches', () => {
    let seed = 11;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
    const keys = [
      'name',
      'value',
      'mergingList',
      'mergingIntList',
      'nonMergingList',
      'simpleMap',
      'retainKeysMap',
      'replacingItem',
      '$patch',
      '$retainKeys',
      '$setElementOrder/mergingList',
      '$setElementOrder/mergingIntList',
      '$deleteFromPrimitiveList/mergingIntList',
      '$setElementOrder',
      '$deleteFromPrimitiveList/x',
    ];
    const leaf = () =>
      pick<unknown>([
        null,
        1,
        'a',
        true,
        'delete',
        'replace',
        'merge',
        [],
        {},
        [1, 2],
        ['name'],
        [{ name: 1 }],
        [{ name: 2, $patch: 'delete' }],
        [[1]],
        [{ $patch: 'replace' }],
      ]);
    const value = (depth: number): unknown => {
      if (depth > 3 || random() < 0.4) return leaf();
      if (random() < 0.3) return Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1));
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 4); i > 0; i--) out[pick(keys)] = value(depth + 1);
      return out;
    };
    for (let n = 0; n < 2000; n++) {
      const original = value(0);
      const patch = value(0);
      try {
        apply(
          typeof original === 'object' && !Array.isArray(original) ? original : {},
          patch,
          pick([MERGE_ITEM, undefined, POD]),
        );
      } catch (err) {
        assert.ok(err instanceof StatusError, `unexpected ${String(err)} for ${JSON.stringify(patch)}`);
      }
    }
  });
});

// shared/ sits beside the checkout (CI and developer machines alike); a missing file fails the test.
const referenceSpec = fileURLToPath(new URL('../../../../shared/reference/kubernetes-openapi-v2.json', import.meta.url));
describe(
  'strategic merge patch with the Kubernetes OpenAPI definitions',
  () => {
    it('applies a kubectl-apply-style Deployment patch', () => {
      const spec = JSON.parse(readFileSync(referenceSpec, 'utf8')) as { definitions: Record<string, SchemaNode> };
      const k8s = definitionsResolver(spec.definitions);
      const deployment = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', labels: { app: 'web' }, annotations: { keep: 'me' } },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              containers: [
                { name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] },
                { name: 'log', image: 'busybox' },
              ],
              volumes: [{ name: 'cache', emptyDir: {} }],
            },
          },
        },
      };
      const patch = {
        metadata: { annotations: { keep: null, added: 'x' } },
        spec: {
          replicas: 3,
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'web' }, { name: 'metrics' }],
              containers: [
                {
                  name: 'web',
                  image: 'nginx:1.27',
                  '$setElementOrder/env': [{ name: 'A' }, { name: 'B' }],
                  env: [{ name: 'B', value: '2' }],
                },
                { name: 'metrics', image: 'exporter:1' },
                { name: 'log', $patch: 'delete' },
              ],
              volumes: [{ name: 'cache', $retainKeys: ['hostPath', 'name'], hostPath: { path: '/var/cache' } }],
            },
          },
        },
      };
      const result = applyStrategicMergePatch(
        deployment,
        patch,
        { $ref: '#/definitions/io.k8s.api.apps.v1.Deployment' },
        k8s,
      ) as any;
      assert.deepEqual(result.metadata.annotations, { added: 'x' });
      assert.equal(result.spec.replicas, 3);
      assert.deepEqual(result.spec.template.spec.containers, [
        {
          name: 'web',
          image: 'nginx:1.27',
          ports: [{ containerPort: 80 }],
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
        },
        { name: 'metrics', image: 'exporter:1' },
      ]);
      assert.deepEqual(result.spec.template.spec.volumes, [{ name: 'cache', hostPath: { path: '/var/cache' } }]);
    });
  },
);
