/**
 * The deployment arithmetic as kube computes it: int-or-percent rounding, maxSurge/maxUnavailable
 * fenceposts, proportional shares, the pod-template-hash encoding, and revision-history upkeep.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeHash, deploymentUtil as u, type Deployment, type ReplicaSet } from '../src/index.js';
import { canonicalJson, fnv32a, safeEncodeString } from '../src/deployment/hash.js';

function deployment(replicas: number, maxSurge: number | string, maxUnavailable: number | string): Deployment {
  return {
    metadata: { name: 'd', generation: 1 },
    spec: { replicas, template: {}, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } } },
  };
}

function rs(name: string, replicas: number, annotations: Record<string, string> = {}): ReplicaSet {
  return { metadata: { name, annotations, creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { replicas } };
}

describe('deployment arithmetic', () => {
  it('rounds surge up and unavailability down, as intstr does', () => {
    assert.equal(u.valueFromIntOrPercent('25%', 10, true), 3);
    assert.equal(u.valueFromIntOrPercent('25%', 10, false), 2);
    assert.equal(u.valueFromIntOrPercent(4, 10, true), 4);
    assert.equal(u.maxSurge(deployment(3, '25%', '25%')), 1);
    assert.equal(u.maxUnavailable(deployment(3, '25%', '25%')), 0);
    // Both fenceposts at zero after rounding: unavailability becomes 1 so the rollout can move.
    assert.deepEqual(u.resolveFenceposts('0%', '10%', 3), { surge: 0, unavailable: 1 });
    assert.equal(u.maxUnavailable(deployment(2, 0, 5)), 2, 'never more than replicas');
    assert.equal(u.maxUnavailable(deployment(0, 1, 1)), 0);
    const recreate: Deployment = { metadata: {}, spec: { replicas: 3, template: {}, strategy: { type: 'Recreate' } } };
    assert.equal(u.maxSurge(recreate), 0);
    assert.equal(u.maxUnavailable(recreate), 0);
  });

  it('grows the new ReplicaSet only within replicas + maxSurge', () => {
    const d = deployment(10, 3, 2);
    const newRS = rs('new', 0);
    assert.equal(u.newRSNewReplicas(d, [rs('old', 10), newRS], newRS), 3);
    assert.equal(u.newRSNewReplicas(d, [rs('old', 8), rs('new', 3)], rs('new', 3)), 5);
    assert.equal(u.newRSNewReplicas(d, [rs('old', 10), rs('new', 3)], rs('new', 3)), 3);
  });

  it('spreads a resize over ReplicaSets in proportion to their recorded sizes', () => {
    const d = deployment(15, 3, 2);
    const old = rs('old', 8, { [u.MaxReplicasAnnotation]: '13' });
    const cur = rs('new', 5, { [u.MaxReplicasAnnotation]: '13' });
    // 18 allowed, 13 present: 5 to add; 8·18/13 ≈ 11.08 → +3, 5·18/13 ≈ 6.92 → +2.
    assert.equal(u.getProportion(old, d, 5, 0), 3);
    assert.equal(u.getProportion(cur, d, 5, 3), 2);
    assert.equal(u.getProportion(cur, d, 5, 5), 0);
  });

  it('keeps the revision history of a ReplicaSet rolled back to', () => {
    const d: Deployment = { metadata: { annotations: { 'kubernetes.io/change-cause': 'undo', [u.RevisionAnnotation]: '9' } }, spec: { replicas: 2, template: {} } };
    const target = rs('r', 0, { [u.RevisionAnnotation]: '1' });
    assert.equal(u.setNewReplicaSetAnnotations(d, target, '3', true), true);
    assert.equal(target.metadata.annotations![u.RevisionAnnotation], '3');
    assert.equal(target.metadata.annotations![u.RevisionHistoryAnnotation], '1');
    assert.equal(target.metadata.annotations!['kubernetes.io/change-cause'], 'undo');
    u.setNewReplicaSetAnnotations(d, target, '5', true);
    assert.equal(target.metadata.annotations![u.RevisionHistoryAnnotation], '1,3');
    // A lower revision never replaces a higher one.
    assert.equal(u.setNewReplicaSetAnnotations(d, target, '4', true), false);
  });

  it('compares templates ignoring the hash label and empty fields', () => {
    const a = { metadata: { labels: { app: 'x', 'pod-template-hash': 'abc' } }, spec: { containers: [{ name: 'c', image: 'i', env: [] }] } };
    const b = { metadata: { labels: { app: 'x' }, annotations: {} }, spec: { containers: [{ name: 'c', image: 'i' }] } };
    assert.equal(u.equalIgnoreHash(a, b), true);
    assert.equal(u.equalIgnoreHash(a, { ...b, spec: { containers: [{ name: 'c', image: 'j' }] } }), false);
  });
});

describe('pod-template-hash', () => {
  it('is FNV-32a encoded with SafeEncodeString, stable under key order, and changed by the collision count', () => {
    // FNV-32a of "a" is 0xe40c292c (a published test vector).
    assert.equal(fnv32a(new TextEncoder().encode('a')), 0xe40c292c);
    assert.equal(safeEncodeString('0123456789'), '456789bcdf');
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }), '{"a":[{"c":3,"d":2}],"b":1}');
    const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } };
    const reordered = { spec: { containers: [{ image: 'nginx:1.27', name: 'nginx' }] }, metadata: { labels: { app: 'web' } } };
    const hash = computeHash(template);
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    assert.equal(computeHash(reordered), hash);
    assert.notEqual(computeHash(template, 1), hash);
    assert.notEqual(computeHash(template, 1), computeHash(template, 2));
  });
});
