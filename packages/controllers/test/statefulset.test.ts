import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { types } from '@canopy/client';
import type { KubeObject } from '@canopy/apimachinery';
import { statefulSetController } from '../src/statefulset.js';
import { container, createNamespace, eventually, events, listPods, markRunningReady, settle, startWorkloadCluster, type WorkloadCluster } from './workload-support.js';

let env: WorkloadCluster;
before(async () => {
  env = await startWorkloadCluster([statefulSetController()]);
});
after(async () => env?.close());

function webSet(ns: string, overrides: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name: 'web', namespace: ns },
    spec: {
      replicas: 3,
      serviceName: 'nginx',
      selector: { matchLabels: { app: 'nginx' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [container('nginx:1.25')] } },
      volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...overrides,
    },
  };
}

async function podNames(ns: string): Promise<string[]> {
  return (await listPods(env.client, ns, 'app=nginx')).filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name!).sort();
}

async function statusOf(ns: string, name = 'web') {
  return (await env.client.get(types.statefulSets, name, ns)).status as Record<string, any>;
}

/** Marks each pod ready as it appears, in order, checking no later ordinal exists before its predecessor is ready. */
async function rollOutInOrder(ns: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await eventually(`web-${i} to be created`, async () => (await podNames(ns)).includes(`web-${i}`));
    await settle(100);
    assert.deepEqual(await podNames(ns), Array.from({ length: i + 1 }, (_, k) => `web-${k}`), `only web-0..${i} exist before web-${i} is ready`);
    await markRunningReady(env.client, env.clock, ns, `web-${i}`);
  }
}

describe('StatefulSet controller', () => {
  it('creates web-0..2 in order, each with its claim, identity and revision', async () => {
    const ns = 'sts-order';
    await createNamespace(env.client, ns);
    await env.client.create(types.statefulSets, webSet(ns));
    await rollOutInOrder(ns, 3);

    const status = await eventually('all replicas ready', async () => {
      const s = await statusOf(ns);
      return s?.readyReplicas === 3 && s.currentRevision === s.updateRevision ? s : undefined;
    });
    assert.equal(status.replicas, 3);
    assert.equal(status.currentReplicas, 3);
    assert.equal(status.updatedReplicas, 3);
    assert.equal(status.availableReplicas, 3);
    assert.equal(status.observedGeneration, 1);
    assert.match(status.currentRevision, /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);

    for (let i = 0; i < 3; i++) {
      const pod = await env.client.get(types.pods, `web-${i}`, ns);
      const spec = pod.spec as any;
      assert.equal(spec.hostname, `web-${i}`);
      assert.equal(spec.subdomain, 'nginx');
      assert.equal(pod.metadata.labels!['statefulset.kubernetes.io/pod-name'], `web-${i}`);
      assert.equal(pod.metadata.labels!['apps.kubernetes.io/pod-index'], String(i));
      assert.equal(pod.metadata.labels!['controller-revision-hash'], status.currentRevision);
      assert.equal(pod.metadata.ownerReferences?.[0].kind, 'StatefulSet');
      assert.deepEqual(spec.volumes.find((v: any) => v.name === 'www')?.persistentVolumeClaim, { claimName: `www-web-${i}` });
      const claim = await env.client.get(types.persistentVolumeClaims, `www-web-${i}`, ns);
      assert.equal(claim.metadata.labels!.app, 'nginx');
      assert.deepEqual((claim.spec as any).resources.requests, { storage: '1Gi' });
      // Retain/Retain: the claim outlives pods and set, so nothing owns it.
      assert.equal(claim.metadata.ownerReferences?.length ?? 0, 0);
    }
    const revisions = await env.client.list(types.controllerRevisions, { namespace: ns });
    assert.equal(revisions.items.length, 1);
    assert.equal(revisions.items[0].metadata.name, status.currentRevision);
    assert.equal((revisions.items[0] as any).revision, 1);

    const recorded = await events(env.client, ns, 'web');
    assert.ok(recorded.some((e) => e.reason === 'SuccessfulCreate' && e.message === 'create Pod web-0 in StatefulSet web successful'), JSON.stringify(recorded));
    assert.ok(recorded.some((e) => e.message === 'create Claim www-web-0 Pod web-0 in StatefulSet web success'));
  });

  it('rolls an update from the highest ordinal down to the partition, then finishes it', async () => {
    const ns = 'sts-order';
    const before = await statusOf(ns);
    await env.client.patch(
      types.statefulSets,
      'web',
      { spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } }, template: { spec: { containers: [container('nginx:1.26')] } } } },
      'strategic',
      { namespace: ns },
    );
    const web2 = await eventually('web-2 to be recreated at the new revision', async () => {
      const pod = await env.client.tryGet(types.pods, 'web-2', ns);
      return pod && (pod.spec as any).containers[0].image === 'nginx:1.26' ? pod : undefined;
    });
    const updateRevision = web2.metadata.labels!['controller-revision-hash'];
    assert.notEqual(updateRevision, before.currentRevision);
    await markRunningReady(env.client, env.clock, ns, 'web-2');
    await settle(200);
    for (const name of ['web-0', 'web-1']) {
      const pod = await env.client.get(types.pods, name, ns);
      assert.equal((pod.spec as any).containers[0].image, 'nginx:1.25', `${name} stays below the partition`);
    }
    const partial = await eventually('status of the partial update', async () => {
      const s = await statusOf(ns);
      return s.updatedReplicas === 1 && s.readyReplicas === 3 ? s : undefined;
    });
    assert.equal(partial.currentRevision, before.currentRevision);
    assert.equal(partial.updateRevision, updateRevision);
    assert.equal(partial.currentReplicas, 2);

    // Lowering the partition continues with web-1, and only after it is ready, web-0.
    await env.client.patch(types.statefulSets, 'web', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } }, 'merge', { namespace: ns });
    await eventually('web-1 updated', async () => ((await env.client.tryGet(types.pods, 'web-1', ns))?.spec as any)?.containers[0].image === 'nginx:1.26');
    await settle(200);
    assert.equal(((await env.client.get(types.pods, 'web-0', ns)).spec as any).containers[0].image, 'nginx:1.25', 'web-0 waits for web-1 to be ready');
    await markRunningReady(env.client, env.clock, ns, 'web-1');
    await eventually('web-0 updated', async () => ((await env.client.tryGet(types.pods, 'web-0', ns))?.spec as any)?.containers[0].image === 'nginx:1.26');
    await markRunningReady(env.client, env.clock, ns, 'web-0');
    const done = await eventually('rollout complete', async () => {
      const s = await statusOf(ns);
      return s.currentRevision === updateRevision && s.updatedReplicas === 3 && s.readyReplicas === 3 ? s : undefined;
    });
    assert.equal(done.currentReplicas, 3);
    const revisions = await env.client.list(types.controllerRevisions, { namespace: ns });
    assert.deepEqual(revisions.items.map((r: any) => r.revision).sort(), [1, 2]);
  });

  it('scales down from the highest ordinal and keeps the claims', async () => {
    const ns = 'sts-order';
    await env.client.patch(types.statefulSets, 'web', { spec: { replicas: 1 } }, 'merge', { namespace: ns });
    await eventually('scaled to web-0', async () => (await podNames(ns)).join() === 'web-0');
    for (let i = 0; i < 3; i++) assert.ok(await env.client.tryGet(types.persistentVolumeClaims, `www-web-${i}`, ns), `www-web-${i} retained`);
    const s = await eventually('status after scale-down', async () => {
      const st = await statusOf(ns);
      return st.replicas === 1 ? st : undefined;
    });
    assert.equal(s.readyReplicas, 1);
  });

  it('runs Parallel sets without waiting, and hands condemned claims to their pods when the policy deletes them on scale-down', async () => {
    const ns = 'sts-parallel';
    await createNamespace(env.client, ns);
    await env.client.create(
      types.statefulSets,
      webSet(ns, { podManagementPolicy: 'Parallel', persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' } }),
    );
    await eventually('all three pods at once', async () => (await podNames(ns)).length === 3);
    const uids = new Map<string, string>();
    for (let i = 0; i < 3; i++) uids.set(`web-${i}`, (await markRunningReady(env.client, env.clock, ns, `web-${i}`)).metadata.uid!);
    await env.client.patch(types.statefulSets, 'web', { spec: { replicas: 1 } }, 'merge', { namespace: ns });
    await eventually('scaled down to one pod', async () => (await podNames(ns)).join() === 'web-0');
    // whenScaled: Delete hands each condemned claim to its pod, so the garbage collector removes
    // the claim with the pod (the collector is another controller; ownership is this one's job).
    for (const i of [1, 2]) {
      const claim = await env.client.get(types.persistentVolumeClaims, `www-web-${i}`, ns);
      const ref = claim.metadata.ownerReferences?.find((r) => r.kind === 'Pod');
      assert.equal(ref?.name, `web-${i}`, `www-web-${i} is owned by its pod`);
      assert.equal(ref?.uid, uids.get(`web-${i}`));
      assert.equal(ref?.controller, true);
    }
    assert.equal((await env.client.get(types.persistentVolumeClaims, 'www-web-0', ns)).metadata.ownerReferences?.length ?? 0, 0);
    assert.ok(await env.client.tryGet(types.persistentVolumeClaims, 'www-web-0', ns), 'the remaining pod keeps its claim');
  });

  it('recreates a pod that failed', async () => {
    const ns = 'sts-parallel';
    const old = await env.client.get(types.pods, 'web-0', ns);
    await env.client.updateStatus(types.pods, { ...old, status: { ...(old.status as object), phase: 'Failed' } });
    await eventually('web-0 replaced', async () => {
      const pod = await env.client.tryGet(types.pods, 'web-0', ns);
      return pod && pod.metadata.uid !== old.metadata.uid;
    });
  });
});
