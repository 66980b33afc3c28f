import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_JSON_PATCH_OPERATIONS, StatusError, applyJsonPatch, cloneJson } from '../src/index.js';

const GENERIC_422 = 'the server rejected our request due to an error in our request';

/** Applies and checks that neither input was touched. */
function apply(doc: unknown, patch: unknown, options?: { maxCopyBytes?: number }): unknown {
  const docBefore = cloneJson(doc);
  const patchBefore = cloneJson(patch);
  try {
    return applyJsonPatch(doc, patch, options);
  } finally {
    assert.deepEqual(doc, docBefore, 'the document must not be mutated');
    assert.deepEqual(patch, patchBefore, 'the patch must not be mutated');
  }
}

function rejects(doc: unknown, patch: unknown, code: number, check?: (err: StatusError) => void): void {
  assert.throws(
    () => apply(doc, patch),
    (err: unknown) => {
      assert.ok(err instanceof StatusError, `expected StatusError, got ${String(err)}`);
      assert.equal(err.code, code);
      check?.(err);
      return true;
    },
  );
}

describe('applyJsonPatch operations', () => {
  const doc = { metadata: { name: 'web', labels: { app: 'web' } }, spec: { list: ['a', 'b', 'c'], 'a/b': 1, 'm~n': 2 } };
  const labels = (d: any) => d.metadata.labels;
  const list = (d: any) => d.spec.list;
  const name = (d: any) => d.metadata.name;
  const cases: Array<[string, unknown[], (d: any) => unknown, unknown]> = [
    ['add a member', [{ op: 'add', path: '/metadata/labels/tier', value: 'fe' }], labels, { app: 'web', tier: 'fe' }],
    ['add replaces an existing member', [{ op: 'add', path: '/metadata/labels/app', value: 'x' }], labels, { app: 'x' }],
    ['add into an array by index', [{ op: 'add', path: '/spec/list/1', value: 'z' }], list, ['a', 'z', 'b', 'c']],
    ['add at the end with -', [{ op: 'add', path: '/spec/list/-', value: 'z' }], list, ['a', 'b', 'c', 'z']],
    ['add at index == length', [{ op: 'add', path: '/spec/list/3', value: 'z' }], list, ['a', 'b', 'c', 'z']],
    [
      'add with a negative index (kube extension)',
      [{ op: 'add', path: '/spec/list/-1', value: 'z' }],
      list,
      ['a', 'b', 'c', 'z'],
    ],
    ['add with a leading-zero index (Atoi)', [{ op: 'add', path: '/spec/list/01', value: 'z' }], list, ['a', 'z', 'b', 'c']],
    ['remove a member', [{ op: 'remove', path: '/metadata/labels/app' }], labels, {}],
    ['remove an array item', [{ op: 'remove', path: '/spec/list/0' }], list, ['b', 'c']],
    ['remove the last item with -1', [{ op: 'remove', path: '/spec/list/-1' }], list, ['a', 'b']],
    ['replace a member', [{ op: 'replace', path: '/metadata/name', value: 'api' }], name, 'api'],
    [
      'replace sets a missing member (evanphx v4, as kube)',
      [{ op: 'replace', path: '/metadata/labels/new', value: 'v' }],
      labels,
      { app: 'web', new: 'v' },
    ],
    ['replace an array item', [{ op: 'replace', path: '/spec/list/2', value: 'Z' }], list, ['a', 'b', 'Z']],
    ['move a member', [{ op: 'move', from: '/metadata/labels/app', path: '/metadata/labels/role' }], labels, { role: 'web' }],
    ['move within an array', [{ op: 'move', from: '/spec/list/0', path: '/spec/list/-' }], list, ['b', 'c', 'a']],
    [
      'copy a member',
      [{ op: 'copy', from: '/metadata/name', path: '/metadata/labels/name' }],
      labels,
      { app: 'web', name: 'web' },
    ],
    [
      'test then act',
      [
        { op: 'test', path: '/metadata/name', value: 'web' },
        { op: 'replace', path: '/metadata/name', value: 'v2' },
      ],
      name,
      'v2',
    ],
    ['test compares structurally', [{ op: 'test', path: '/metadata/labels', value: { app: 'web' } }], labels, { app: 'web' }],
    [
      'escaped tokens ~1 and ~0',
      [
        { op: 'replace', path: '/spec/a~1b', value: 10 },
        { op: 'replace', path: '/spec/m~0n', value: 20 },
      ],
      (d) => [d.spec['a/b'], d.spec['m~n']],
      [10, 20],
    ],
    ['empty patch', [], (d) => d, doc],
  ];
  for (const [title, patch, view, expected] of cases) {
    it(title, () => {
      assert.deepEqual(view(apply(doc, patch)), expected);
    });
  }

  it('operates on the whole document with the empty pointer', () => {
    assert.deepEqual(apply({ a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }]), { b: 2 });
    assert.deepEqual(apply({ a: 1 }, [{ op: 'test', path: '', value: { a: 1 } }]), { a: 1 });
    assert.deepEqual(apply({ a: { b: 1 } }, [{ op: 'move', from: '/a', path: '' }]), { b: 1 });
  });

  it('inserted values are copies: later operations do not leak into the patch', () => {
    const patch = [
      { op: 'add', path: '/x', value: { list: [1] } },
      { op: 'add', path: '/x/list/-', value: 2 },
      { op: 'copy', from: '/x', path: '/y' },
      { op: 'add', path: '/y/list/-', value: 3 },
    ];
    assert.deepEqual(apply({}, patch), { x: { list: [1, 2] }, y: { list: [1, 2, 3] } });
  });

  it('a null patch is a no-op (Go decodes it as an empty patch)', () => {
    assert.deepEqual(apply({ a: 1 }, null), { a: 1 });
  });

  it('creates __proto__ as data', () => {
    const result = apply({}, [{ op: 'add', path: '/__proto__', value: { polluted: true } }]) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.deepEqual(Object.keys(result), ['__proto__']);
  });
});

describe('applyJsonPatch errors', () => {
  const doc = { metadata: { name: 'web' }, list: [1, 2] };

  it('a body that is not a list of operations is a 400 with the Go decoder message', () => {
    rejects(doc, { op: 'add' }, 400, (err) =>
      assert.equal(err.message, 'json: cannot unmarshal object into Go value of type jsonpatch.Patch'),
    );
    rejects(doc, 'x', 400, (err) =>
      assert.equal(err.message, 'json: cannot unmarshal string into Go value of type jsonpatch.Patch'),
    );
    rejects(doc, ['add'], 400, (err) =>
      assert.equal(err.message, 'json: cannot unmarshal string into Go value of type jsonpatch.Operation'),
    );
    rejects(doc, [true], 400, (err) =>
      assert.equal(err.message, 'json: cannot unmarshal bool into Go value of type jsonpatch.Operation'),
    );
  });

  it('too many operations is a 413', () => {
    const patch = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({
      op: 'test',
      path: '/metadata/name',
      value: 'web',
    }));
    rejects(doc, patch, 413, (err) => {
      assert.equal(err.reason, 'RequestEntityTooLarge');
      assert.equal(err.message, `Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001`);
    });
  });

  const applyFailures: Array<[string, unknown[], RegExp]> = [
    ['unknown op', [{ op: 'merge', path: '/a' }], /Unexpected kind: merge/],
    ['missing op', [{ path: '/a' }], /Unexpected kind: unknown/],
    ['null operation', [null], /Unexpected kind: unknown/],
    ['missing path', [{ op: 'add', value: 1 }], /missing path/],
    ['non-string path', [{ op: 'remove', path: 3 }], /path field is not a string/],
    ['pointer without leading slash', [{ op: 'add', path: 'a', value: 1 }], /is not a JSON pointer/],
    ['missing value', [{ op: 'add', path: '/a' }], /missing value/],
    ['missing parent', [{ op: 'add', path: '/nope/x', value: 1 }], /doc is missing path/],
    ['parent is a scalar', [{ op: 'add', path: '/metadata/name/x', value: 1 }], /doc is missing path/],
    ['index past the end', [{ op: 'add', path: '/list/3', value: 1 }], /invalid index/],
    ['non-numeric index', [{ op: 'add', path: '/list/x', value: 1 }], /not a proper array index/],
    ['remove missing member', [{ op: 'remove', path: '/metadata/nope' }], /nonexistent key/],
    ['remove past the end', [{ op: 'remove', path: '/list/2' }], /invalid index/],
    ['remove -', [{ op: 'remove', path: '/list/-' }], /not a proper array index/],
    ['remove the root', [{ op: 'remove', path: '' }], /whole document/],
    ['replace past the end', [{ op: 'replace', path: '/list/5', value: 1 }], /missing key/],
    ['move from missing', [{ op: 'move', from: '/nope', path: '/x' }], /missing path/],
    ['move into own child', [{ op: 'move', from: '/metadata', path: '/metadata/child' }], /own child/],
    ['copy from missing', [{ op: 'copy', from: '/nope', path: '/x' }], /missing path/],
    ['failed test', [{ op: 'test', path: '/metadata/name', value: 'api' }], /testing value \/metadata\/name failed/],
    ['test of a missing member', [{ op: 'test', path: '/metadata/nope', value: null }], /missing path/],
  ];
  for (const [name, patch, detail] of applyFailures) {
    it(`${name} → 422 Invalid with the reason as cause`, () => {
      rejects(doc, patch, 422, (err) => {
        assert.equal(err.reason, 'Invalid');
        assert.equal(err.message, GENERIC_422);
        assert.match(String(err.status.details?.causes?.[0]?.message), detail);
      });
    });
  }

  it('is all-or-nothing: a failing later op leaves no partial result', () => {
    const original = { a: 1 };
    rejects(
      original,
      [
        { op: 'add', path: '/b', value: 2 },
        { op: 'test', path: '/a', value: 2 },
      ],
      422,
    );
    assert.deepEqual(original, { a: 1 });
  });

  it('limits how much copy operations may grow the document', () => {
    const big = 'x'.repeat(1000);
    const patch = [
      { op: 'add', path: '/s', value: [big] },
      ...Array.from({ length: 12 }, () => ({ op: 'copy', from: '/s', path: '/s/-' })),
    ];
    // Each copy doubles /s: 12 copies of a growing list exceed a 100 KB budget.
    assert.throws(
      () => applyJsonPatch({}, patch, { maxCopyBytes: 100_000 }),
      (err: unknown) =>
        err instanceof StatusError &&
        err.code === 422 &&
        /accumulated size increase of copy/.test(String(err.status.details?.causes?.[0]?.message)),
    );
    assert.doesNotThrow(() => applyJsonPatch({}, patch.slice(0, 4), { maxCopyBytes: 100_000 }));
  });

  it('never throws anything but StatusError for random operations', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pickOne = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
    const pointers = [
      '',
      '/',
      '/a',
      '/a/b',
      '/a/0',
      '/a/-',
      '/a/-1',
      '/list/0',
      '/list/9',
      '/~',
      '/~2',
      '/a~1b',
      'x',
      '/list/+1',
      '/list/01',
    ];
    const values = [null, 1, 'x', [], {}, { a: [1, 2] }, [{ b: null }], true];
    for (let n = 0; n < 3000; n++) {
      const ops = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
        const op: Record<string, unknown> = { op: pickOne(['add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus', 7]) };
        if (random() < 0.9) op.path = pickOne<unknown>([...pointers, 5]);
        if (random() < 0.5) op.from = pickOne(pointers);
        if (random() < 0.8) op.value = pickOne(values);
        return random() < 0.05 ? pickOne<unknown>([null, 'op', 3]) : op;
      });
      const docs = [{ a: { b: 1 }, list: [1, 2] }, [], 'scalar', null, { a: [] }];
      try {
        apply(pickOne(docs), random() < 0.03 ? pickOne<unknown>([{}, 'x', 1]) : ops);
      } catch (err) {
        assert.ok(err instanceof StatusError, `unexpected ${String(err)} for ${JSON.stringify(ops)}`);
      }
    }
  });
});
