/**
 * The ReplicaSet controller against an in-process API server: pods
 * created and deleted to match spec.replicas with owner references and generated names, kube's
 * deletion order (pod-deletion-cost included), status counts with minReadySeconds on the
 * controller's clock, adoption and release by selector, slow-start batches and the
 * ReplicaFailure condition under a quota, and no double creation at scale.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { types } from '@canopy/client';
import { podsToDelete, replicaSetControllerFactory, slowStartBatch, type Pod, type ReplicaSet } from '../src/index.js';
import { createNamespace, eventsFor, listPods, setPodReady, settled, startReplicaCluster, waitFor, type ReplicaCluster } from './replica-support.js';

let w: ReplicaCluster;
before(async () => {
  w = await startReplicaCluster([replicaSetControllerFactory]);
});
after(async () => w?.close());

function replicaSet(name: string, namespace: string, replicas: number, extra: Partial<ReplicaSet['spec']> = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, tier: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } },
      ...extra,
    },
  };
}

const getRS = (ns: string, name: string) => w.client.get<ReplicaSet>(types.replicaSets, name, ns);
const activePods = async (ns: string, selector: string) => (await listPods(w.client, ns, selector)).filter((p) => !p.metadata.deletionTimestamp);

describe('ReplicaSet controller', () => {
  it('creates pods from the template with generated names and a controller reference, and reports status', async () => {
    const ns = 'rs-create';
    await createNamespace(w.client, ns);
    const rs = await w.client.create<ReplicaSet>(types.replicaSets, replicaSet('web', ns, 3));
    const pods = await waitFor('3 pods', async () => {
      const p = await listPods(w.client, ns, 'app=web');
      return p.length === 3 ? p : undefined;
    });
    for (const pod of pods) {
      assert.match(pod.metadata.name!, /^web-[a-z0-9]{5}$/);
      assert.equal(pod.metadata.generateName, 'web-');
      assert.deepEqual(pod.metadata.labels, { app: 'web', tier: 'web' });
      assert.deepEqual(pod.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      assert.equal((pod.spec as any).containers[0].image, 'nginx:1.27');
    }
    const status = await waitFor('status', async () => {
      const s = (await getRS(ns, 'web')).status;
      return s?.replicas === 3 && s.observedGeneration === 1 ? s : undefined;
    });
    assert.deepEqual(status, { replicas: 3, fullyLabeledReplicas: 3, observedGeneration: 1 });

    await setPodReady(w.client, ns, pods[0].metadata.name!, true, w.clock);
    await setPodReady(w.client, ns, pods[1].metadata.name!, true, w.clock);
    await waitFor('2 ready and available', async () => {
      const s = (await getRS(ns, 'web')).status;
      return s?.readyReplicas === 2 && s.availableReplicas === 2;
    });
    const events = await waitFor('creation events', async () => {
      const e = await eventsFor(w.client, ns, 'web');
      return e.filter((x) => x.startsWith('SuccessfulCreate')).length === 3 ? e : undefined;
    });
    for (const pod of pods) assert.ok(events.includes(`SuccessfulCreate: Created pod: ${pod.metadata.name}`), events.join('\n'));
  });

  it('replaces a deleted pod and scales down in kube\'s preference order, honouring pod-deletion-cost', async () => {
    const ns = 'rs-scale';
    await createNamespace(w.client, ns);
    await w.client.create(types.replicaSets, replicaSet('app', ns, 4));
    const pods = await waitFor('4 pods', async () => {
      const p = await activePods(ns, 'app=app');
      return p.length === 4 ? p : undefined;
    });
    // A stays Pending; B Running but not ready; C and D ready, C with a high deletion cost.
    const [a, b, c, d] = pods.map((p) => p.metadata.name!);
    await setPodReady(w.client, ns, b, false, w.clock);
    await setPodReady(w.client, ns, c, true, w.clock);
    await setPodReady(w.client, ns, d, true, w.clock);
    await w.client.patch(types.pods, c, { metadata: { annotations: { 'controller.kubernetes.io/pod-deletion-cost': '100' } } }, 'merge', { namespace: ns });

    // A deleted pod is replaced.
    await w.client.delete(types.pods, a, { namespace: ns });
    const replaced = await waitFor('replacement', async () => {
      const p = await activePods(ns, 'app=app');
      return p.length === 4 && !p.some((x) => x.metadata.name === a) ? p : undefined;
    });
    const e = replaced.find((p) => ![b, c, d].includes(p.metadata.name!))!.metadata.name!;

    await w.client.patch(types.replicaSets, 'app', { spec: { replicas: 1 } }, 'merge', { namespace: ns });
    const left = await waitFor('1 pod left', async () => {
      const p = await activePods(ns, 'app=app');
      return p.length === 1 ? p : undefined;
    });
    // Pending (e) and not ready (b) go first; of the ready ones the cheaper (d).
    assert.deepEqual(left.map((p) => p.metadata.name), [c]);
    const events = await eventsFor(w.client, ns, 'app');
    for (const gone of [b, d, e]) assert.ok(events.includes(`SuccessfulDelete: Deleted pod: ${gone}`), events.join('\n'));
    await waitFor('status replicas 1', async () => (await getRS(ns, 'app')).status?.replicas === 1);
  });

  it('counts a pod available only minReadySeconds after it became ready, on the controller clock', async () => {
    const ns = 'rs-minready';
    await createNamespace(w.client, ns);
    await w.client.create(types.replicaSets, replicaSet('slow', ns, 1, { minReadySeconds: 30 }));
    const [pod] = await waitFor('pod', async () => {
      const p = await activePods(ns, 'app=slow');
      return p.length === 1 ? p : undefined;
    });
    await setPodReady(w.client, ns, pod.metadata.name!, true, w.clock);
    const status = await settled('ready, not available', async () => (await getRS(ns, 'slow')).status);
    assert.equal(status?.readyReplicas, 1);
    assert.equal(status?.availableReplicas, undefined);
    w.clock.advance(32_000);
    await waitFor('available after minReadySeconds', async () => (await getRS(ns, 'slow')).status?.availableReplicas === 1);
  });

  it('adopts matching orphans, ignores pods of other controllers, and releases pods whose labels stop matching', async () => {
    const ns = 'rs-adopt';
    await createNamespace(w.client, ns);
    const orphan = await w.client.create<Pod>(types.pods, {
      metadata: { name: 'orphan', namespace: ns, labels: { app: 'own', tier: 'web' } },
      spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] },
    });
    // Controlled by something else (any kind will do; it must exist, or the collector deletes the pod).
    const other = await w.client.create(types.configMaps, { metadata: { name: 'other-controller', namespace: ns } });
    const foreign = await w.client.create<Pod>(types.pods, {
      metadata: {
        name: 'foreign',
        namespace: ns,
        labels: { app: 'own' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'other-controller', uid: other.metadata.uid!, controller: true }],
      },
      spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] },
    });
    const rs = await w.client.create<ReplicaSet>(types.replicaSets, replicaSet('own', ns, 2));
    const owned = await settled('2 owned pods', async () =>
      (await activePods(ns, 'app=own')).filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === rs.metadata.uid)).map((p) => p.metadata.name).sort(),
    );
    assert.equal(owned.length, 2);
    assert.ok(owned.includes('orphan'), 'the orphan is adopted rather than a second pod created');
    const adopted = await w.client.get<Pod>(types.pods, 'orphan', ns);
    assert.equal(adopted.metadata.uid, orphan.metadata.uid);
    assert.deepEqual(adopted.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.controller, r.blockOwnerDeletion]), [['ReplicaSet', 'own', true, true]]);
    const untouched = await w.client.get<Pod>(types.pods, 'foreign', ns);
    assert.deepEqual(untouched.metadata.ownerReferences, foreign.metadata.ownerReferences);

    // Relabelled out of the selector: released (owner reference removed) and replaced.
    await w.client.patch(types.pods, 'orphan', { metadata: { labels: { app: 'debug' } } }, 'merge', { namespace: ns });
    await waitFor('released', async () => !(await w.client.get<Pod>(types.pods, 'orphan', ns)).metadata.ownerReferences?.length);
    await waitFor('replaced', async () => {
      const p = await activePods(ns, 'app=own');
      return p.filter((x) => x.metadata.ownerReferences?.some((r) => r.uid === rs.metadata.uid)).length === 2;
    });
  });

  it('reports ReplicaFailure with the refusal when a quota stops creations, and recovers when the quota allows', async () => {
    const ns = 'rs-quota';
    await createNamespace(w.client, ns);
    await w.client.create(types.resourceQuotas, { metadata: { name: 'pods', namespace: ns }, spec: { hard: { pods: '2' } } });
    await waitFor('quota status', async () => !!((await w.client.get(types.resourceQuotas, 'pods', ns)) as any).status?.hard);
    await w.client.create(types.replicaSets, replicaSet('capped', ns, 6));
    const rs = await waitFor('ReplicaFailure', async () => {
      const r = await getRS(ns, 'capped');
      return r.status?.conditions?.some((c) => c.type === 'ReplicaFailure') ? r : undefined;
    });
    const cond = rs.status!.conditions!.find((c) => c.type === 'ReplicaFailure')!;
    assert.equal(cond.status, 'True');
    assert.equal(cond.reason, 'FailedCreate');
    assert.match(cond.message!, /exceeded quota: pods/);
    assert.equal((await activePods(ns, 'app=capped')).length, 2);
    const failed = (await eventsFor(w.client, ns, 'capped')).filter((e) => e.startsWith('FailedCreate'));
    assert.ok(failed.length >= 1, 'a FailedCreate event');
    assert.match(failed[0], /^FailedCreate: Error creating: .*exceeded quota: pods/);

    await w.client.patch(types.resourceQuotas, 'pods', { spec: { hard: { pods: '10' } } }, 'merge', { namespace: ns });
    await waitFor('6 pods and no failure', async () => {
      const r = await getRS(ns, 'capped');
      return r.status?.replicas === 6 && !r.status.conditions?.length;
    });
    assert.equal((await activePods(ns, 'app=capped')).length, 6);
  });

  it('creates exactly spec.replicas pods at scale, never twice while its cache lags', async () => {
    const ns = 'rs-burst';
    await createNamespace(w.client, ns);
    await w.client.create(types.replicaSets, replicaSet('many', ns, 250));
    await waitFor('250 replicas in status', async () => (await getRS(ns, 'many')).status?.replicas === 250, 60_000);
    // Every pod was created once: an extra create would have to be undone by a delete.
    const events = await settled('events', () => eventsFor(w.client, ns, 'many'));
    assert.equal(events.filter((e) => e.startsWith('SuccessfulCreate')).length, 250);
    assert.equal(events.filter((e) => e.startsWith('SuccessfulDelete')).length, 0);
    assert.equal((await activePods(ns, 'app=many')).length, 250);
    // Resize twice in a row while the first resize is still being carried out.
    await w.client.patch(types.replicaSets, 'many', { spec: { replicas: 120 } }, 'merge', { namespace: ns });
    await w.client.patch(types.replicaSets, 'many', { spec: { replicas: 180 } }, 'merge', { namespace: ns });
    const pods = await settled('180 pods', async () => (await activePods(ns, 'app=many')).length, 60_000);
    assert.equal(pods, 180);
    assert.equal((await getRS(ns, 'many')).status?.replicas, 180);
  });
});

describe('pod control helpers', () => {
  it('creates in slow-start batches of 1, 2, 4, … and stops after the first batch with a failure', async () => {
    let calls = 0;
    const result = await slowStartBatch(20, 1, async () => {
      calls++;
      if (calls > 3) throw new Error('quota');
    });
    // Batches 1 and 2 succeed; the batch of 4 has failures; nothing further is tried.
    assert.equal(calls, 7);
    assert.equal(result.successes, 3);
    assert.equal((result.error as Error).message, 'quota');
    assert.deepEqual(await slowStartBatch(5, 1, async () => {}), { successes: 5 });
  });

  it('deletes doubled-up, recently ready, restarting and newer pods first', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    const pod = (name: string, node: string, readyAgoS: number, restarts = 0, createdAgoS = 3600): Pod => ({
      metadata: { name, uid: name, creationTimestamp: new Date(now - createdAgoS * 1000).toISOString() },
      spec: { nodeName: node },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(now - readyAgoS * 1000).toISOString() }],
        containerStatuses: [{ name: 'c', restartCount: restarts }],
      },
    });
    const lonely = pod('lonely', 'n1', 3000);
    const crowdedOld = pod('crowded-old', 'n2', 3000);
    const crowdedNew = pod('crowded-new', 'n2', 10);
    const crowdedRestarts = pod('crowded-restarts', 'n2', 3000, 5);
    const all = [lonely, crowdedOld, crowdedNew, crowdedRestarts];
    // n2 holds three related pods: its pods go first; of them, the one ready for the shortest time,
    // then the one with restarts; the lonely pod on n1 goes last.
    assert.deepEqual(podsToDelete(all, all, 3, now).map((p) => p.metadata.name), ['crowded-new', 'crowded-restarts', 'crowded-old']);
  });
});
