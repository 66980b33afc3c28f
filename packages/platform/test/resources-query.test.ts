/**
 * The resources API's sorting as ks-apiserver sorts (DefaultObjectMetaCompare): names compared as
 * Go compares strings (code units, so "Zed" before "alpha" and "web-1002" before "web-6"), creation
 * time newest first with ties broken by name, `ascending` reversing both — with each object's
 * timestamp read once however many comparisons the sort makes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '@canopy/apimachinery';
import { applyListQuery, parseListQuery } from '../src/resources/query.js';

const object = (name: string, creationTimestamp: string): KubeObject => ({ metadata: { name, creationTimestamp } });
const names = (query: string, objects: KubeObject[]) =>
  applyListQuery(objects, parseListQuery(new URLSearchParams(query))).items.map((o) => o.metadata.name);

const objects = [
  object('web-6', '2026-01-01T00:00:02Z'),
  object('alpha', '2026-01-01T00:00:01Z'),
  object('Zed', '2026-01-01T00:00:01Z'),
  object('web-1002', '2026-01-01T00:00:03Z'),
  object('web-12', '2026-01-01T00:00:01Z'),
];

test('names sort in code-unit order, as Go strings.Compare, not by locale', () => {
  assert.deepEqual(names('sortBy=name&ascending=true', objects), ['Zed', 'alpha', 'web-1002', 'web-12', 'web-6']);
  assert.deepEqual(names('sortBy=name', objects), ['web-6', 'web-12', 'web-1002', 'alpha', 'Zed']);
});

test('creation time newest first, ties by name in the same direction; ascending reverses', () => {
  assert.deepEqual(names('', objects), ['web-1002', 'web-6', 'web-12', 'alpha', 'Zed']);
  assert.deepEqual(names('ascending=true', objects), ['Zed', 'alpha', 'web-12', 'web-6', 'web-1002']);
  assert.deepEqual(names('limit=2&page=2', objects), ['web-12', 'alpha']);
});

test('each timestamp is parsed once per list, not per comparison', () => {
  const many = Array.from({ length: 1000 }, (_, i) => object(`pod-${i}`, `2026-01-01T00:${String(i % 60).padStart(2, '0')}:00Z`));
  const parse = Date.parse;
  let calls = 0;
  Date.parse = (s: string) => {
    calls++;
    return parse(s);
  };
  try {
    const result = applyListQuery(many, parseListQuery(new URLSearchParams('limit=10')));
    assert.equal(result.totalItems, 1000);
    assert.equal(result.items[0].metadata.creationTimestamp, '2026-01-01T00:59:00Z');
  } finally {
    Date.parse = parse;
  }
  assert.equal(calls, 1000);
});
