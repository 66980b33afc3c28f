/**
 * PodDisruptionBudget status from the disruption controller, and the eviction subresource that
 * honours it: expectedPods from the controller's scale with maxUnavailable, from the pods with
 * an integer minAvailable; evictions allowed while disruptions remain, then kube's 429; unhealthy
 * pods under AlwaysAllow.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StatusError, type KubeObject } from '@canopy/apimachinery';
import { types } from '@canopy/client';
import { disruptionController } from '../src/index.js';
import { createNamespace, eventually, pod, setPodRunning, startClusterWith, type ClusterUnderTest } from './cluster-support.js';

let env: ClusterUnderTest;

before(async () => {
  env = await startClusterWith([disruptionController]);
});

after(async () => {
  await env?.close();
});

type Budget = KubeObject & {
  status?: { expectedPods?: number; currentHealthy?: number; desiredHealthy?: number; disruptionsAllowed?: number; disruptedPods?: Record<string, string>; observedGeneration?: number; conditions?: Array<{ type: string; status: string; reason: string }> };
};

async function budgetWhere(ns: string, name: string, what: string, check: (b: Budget) => boolean): Promise<Budget> {
  return eventually(what, async () => {
    const b = await env.client.get<Budget>(types.podDisruptionBudgets, name, ns);
    return check(b) ? b : undefined;
  });
}

function evict(ns: string, name: string) {
  return env.client.createSubresource<KubeObject>(types.pods, name, 'eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: ns } }, { namespace: ns });
}

describe('pod disruption budgets', () => {
  it('count the controller’s replicas, allow evictions while disruptions remain, then answer 429', async () => {
    const ns = 'pdb-scale';
    await createNamespace(env.client, ns);
    const rs = await env.client.create(types.replicaSets, {
      metadata: { name: 'db' },
      spec: { replicas: 4, selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'postgres' }] } } },
    } as KubeObject, { namespace: ns });
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'db', uid: rs.metadata.uid!, controller: true, blockOwnerDeletion: true };
    for (let i = 1; i <= 4; i++) {
      await env.client.create(types.pods, { ...pod(`db-${i}`, { app: 'db' }), metadata: { name: `db-${i}`, labels: { app: 'db' }, ownerReferences: [owner] } } as KubeObject, { namespace: ns });
      await setPodRunning(env.client, ns, `db-${i}`, `10.8.0.${i}`, true);
    }
    await env.client.create(types.podDisruptionBudgets, { metadata: { name: 'db' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'db' } } } } as KubeObject, { namespace: ns });
    const ready = await budgetWhere(ns, 'db', 'one disruption allowed', (b) => b.status?.disruptionsAllowed === 1);
    assert.equal(ready.status?.expectedPods, 4);
    assert.equal(ready.status?.desiredHealthy, 3);
    assert.equal(ready.status?.currentHealthy, 4);
    assert.equal(ready.status?.observedGeneration, ready.metadata.generation);
    assert.deepEqual(ready.status?.conditions?.map((c) => [c.type, c.status, c.reason]), [['DisruptionAllowed', 'True', 'SufficientPods']]);

    const first = await evict(ns, 'db-1');
    assert.equal((first as unknown as { status?: string }).status, 'Success');
    assert.equal(await env.client.tryGet(types.pods, 'db-1', ns), undefined, 'an unscheduled pod goes at once');
    await budgetWhere(ns, 'db', 'no disruption left', (b) => b.status?.disruptionsAllowed === 0 && b.status?.currentHealthy === 3);

    await assert.rejects(evict(ns, 'db-2'), (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.equal(err.code, 429);
      assert.equal(err.reason, 'TooManyRequests');
      assert.equal(err.message, "Cannot evict pod as it would violate the pod's disruption budget.");
      assert.deepEqual(err.status.details?.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget db needs 3 healthy pods and has 3 currently' }]);
      return true;
    });
    assert.ok(await env.client.tryGet(types.pods, 'db-2', ns), 'the pod stays');

    // db-3 turns unready: under AlwaysAllow an unhealthy pod may always be evicted.
    await setPodRunning(env.client, ns, 'db-3', '10.8.0.3', false);
    await budgetWhere(ns, 'db', 'two healthy', (b) => b.status?.currentHealthy === 2);
    await assert.rejects(evict(ns, 'db-3'), (err: unknown) => err instanceof StatusError && err.code === 429);
    await env.client.patch(types.podDisruptionBudgets, 'db', { spec: { unhealthyPodEvictionPolicy: 'AlwaysAllow' } }, 'merge', { namespace: ns });
    await evict(ns, 'db-3');
    assert.equal(await env.client.tryGet(types.pods, 'db-3', ns), undefined);
  });

  it('take an integer minAvailable against the pods themselves; pods no budget selects are evicted freely', async () => {
    const ns = 'pdb-min';
    await createNamespace(env.client, ns);
    for (let i = 1; i <= 3; i++) {
      await env.client.create(types.pods, pod(`web-${i}`, { app: 'web' }), { namespace: ns });
      await setPodRunning(env.client, ns, `web-${i}`, `10.8.1.${i}`, true);
    }
    await env.client.create(types.podDisruptionBudgets, { metadata: { name: 'web' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } } as KubeObject, { namespace: ns });
    const b = await budgetWhere(ns, 'web', 'status', (x) => x.status?.expectedPods === 3);
    assert.deepEqual([b.status?.desiredHealthy, b.status?.currentHealthy, b.status?.disruptionsAllowed], [2, 3, 1]);
    await env.client.create(types.pods, pod('loner', { app: 'other' }), { namespace: ns });
    await setPodRunning(env.client, ns, 'loner', '10.8.1.9', true);
    await evict(ns, 'loner');
    assert.equal(await env.client.tryGet(types.pods, 'loner', ns), undefined);
  });
});
