import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError, applyMergePatch, cloneJson } from '../src/index.js';

function apply(doc: unknown, patch: unknown): unknown {
  const docBefore = cloneJson(doc);
  const patchBefore = cloneJson(patch);
  const result = applyMergePatch(doc, patch);
  assert.deepEqual(doc, docBefore, 'the document must not be mutated');
  assert.deepEqual(patch, patchBefore, 'the patch must not be mutated');
  return result;
}

describe('applyMergePatch', () => {
  // RFC 7386 appendix A, plus kube's handling of the cases the RFC leaves to the target type.
  const rfcCases: Array<[unknown, unknown, unknown]> = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [doc, patch, expected] of rfcCases) {
    it(`${JSON.stringify(doc)} + ${JSON.stringify(patch)} = ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(apply(doc, patch), expected);
    });
  }

  it('merges a typical label/annotation patch and keeps key order', () => {
    const pod = {
      metadata: { name: 'p', labels: { a: '1', b: '2' }, annotations: { x: 'y' } },
      spec: { containers: [{ name: 'c' }] },
    };
    const result = apply(pod, { metadata: { labels: { b: null, c: '3' }, annotations: null } }) as typeof pod;
    assert.deepEqual(result, { metadata: { name: 'p', labels: { a: '1', c: '3' } }, spec: { containers: [{ name: 'c' }] } });
    assert.deepEqual(Object.keys(result.metadata), ['name', 'labels']);
  });

  it('replaces lists wholesale, dropping null members of objects inside them (as evanphx does)', () => {
    assert.deepEqual(apply({ a: [1] }, { a: [{ b: null, c: 1 }, null] }), { a: [{ c: 1 }, null] });
  });

  it('keeps nulls inside a non-object value that replaces an object (as evanphx does)', () => {
    assert.deepEqual(apply({ a: { x: 1 } }, { a: [{ b: null }] }), { a: [{ b: null }] });
  });

  it('returns a copy that shares nothing with the inputs', () => {
    const doc = { keep: { deep: [1] } };
    const patch = { added: { list: [1] } };
    const result = apply(doc, patch) as { keep: { deep: number[] }; added: { list: number[] } };
    result.keep.deep.push(2);
    result.added.list.push(2);
    assert.deepEqual(doc, { keep: { deep: [1] } });
    assert.deepEqual(patch, { added: { list: [1] } });
  });

  for (const patch of [null, 'bar', 3, true]) {
    it(`rejects a ${JSON.stringify(patch)} body with 400 Invalid JSON Patch`, () => {
      assert.throws(
        () => applyMergePatch({ a: 1 }, patch),
        (err: unknown) =>
          err instanceof StatusError && err.code === 400 && err.reason === 'BadRequest' && err.message === 'Invalid JSON Patch',
      );
    });
  }

  it('handles patches nested deeper than the call stack', () => {
    let patch: Record<string, unknown> = { leaf: true };
    let doc: Record<string, unknown> = { leaf: false, other: 1 };
    for (let i = 0; i < 9000; i++) {
      patch = { n: patch };
      doc = { n: doc };
    }
    let result = applyMergePatch(doc, patch) as Record<string, unknown>;
    for (let i = 0; i < 9000; i++) result = result.n as Record<string, unknown>;
    assert.deepEqual(result, { leaf: true, other: 1 });
  });

  it('creates __proto__ members as data', () => {
    const result = apply({}, JSON.parse('{"__proto__":{"polluted":true}}')) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(result), Object.prototype);
    assert.deepEqual(Object.keys(result), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
