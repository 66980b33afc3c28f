/**
 * Node lifecycle on a fake clock, the test playing the kubelets (Leases renewed every 10 s, node
 * status written once): a node whose heartbeats stop becomes Unknown after 40 s, is tainted
 * unreachable (NoSchedule and NoExecute), its pods are marked not ready and evicted once their
 * tolerationSeconds pass (300 s by default, from admission); a node reporting NotReady gets the
 * not-ready taints; a NoExecute taint a pod does not tolerate evicts it at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '@canopy/apimachinery';
import { types } from '@canopy/client';
import { nodeLifecycleController, taintEvictionController } from '../src/index.js';
import { advanceUntil, createNamespace, createNode, eventually, nodeStatus, pod, renewLease, setPodRunning, settle, startClusterWith, type ClusterUnderTest } from './cluster-support.js';

let env: ClusterUnderTest;

before(async () => {
  env = await startClusterWith([nodeLifecycleController(), taintEvictionController]);
});

after(async () => {
  await env?.close();
});

type Node = KubeObject & { spec?: { taints?: Array<{ key: string; effect: string; timeAdded?: string }> }; status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }> } };
type Pod = KubeObject & { spec: { tolerations?: Array<Record<string, unknown>> }; status?: { conditions?: Array<{ type: string; status: string; reason?: string }> } };

const taintsOf = (n: Node) => (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();

describe('node lifecycle', () => {
  it('a node whose heartbeats stop goes Unknown, is tainted, and its pods are evicted after their toleration', async () => {
    const { client, clock } = env;
    const ns = 'nodes';
    await createNamespace(client, ns);
    const alive = new Set(['node-a', 'node-b', 'node-c']);
    for (const name of alive) {
      await createNode(client, name, clock.now(), { 'topology.kubernetes.io/zone': 'z1' });
      await renewLease(client, name, clock.now());
    }
    // Pods on node-a: one with the admission's default tolerations, one tolerating 30 s only.
    await client.create(types.pods, pod('default-toleration', {}, { nodeName: 'node-a' }), { namespace: ns });
    await client.create(types.pods, pod('short-toleration', {}, { nodeName: 'node-a', tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }] }), { namespace: ns });
    await client.create(types.pods, pod('on-b', {}, { nodeName: 'node-b' }), { namespace: ns });
    for (const [i, name] of ['default-toleration', 'short-toleration', 'on-b'].entries()) await setPodRunning(client, ns, name, `10.9.0.${i + 1}`, true, clock.now());
    const defaulted = await client.get<Pod>(types.pods, 'default-toleration', ns);
    assert.deepEqual(
      defaulted.spec.tolerations,
      [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      'DefaultTolerationSeconds admission',
    );
    await settle(200);

    // The kubelets: every 10 s each living node renews its lease. node-a dies now.
    alive.delete('node-a');
    const diedAt = clock.now();
    let lastBeat = clock.now();
    const heartbeats = async () => {
      if (clock.now() - lastBeat < 10_000) return;
      lastBeat = clock.now();
      for (const name of alive) await renewLease(client, name, clock.now());
    };
    const run = async (seconds: number) => {
      for (let s = 0; s < seconds; s += 5) {
        await heartbeats();
        clock.advance(5000);
        await settle(60);
      }
    };
    await run(35);
    assert.equal((await client.get<Node>(types.nodes, 'node-a')).status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True', 'still within the grace period');
    const lost = await advanceUntil(
      clock,
      'node-a Unknown and tainted',
      async () => {
        const n = await client.get<Node>(types.nodes, 'node-a');
        return taintsOf(n).length === 2 ? n : undefined;
      },
      { each: heartbeats },
    );
    assert.ok(clock.now() - diedAt >= 40_000, 'not before the 40 s grace period');
    for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      const c = lost.status?.conditions?.find((x) => x.type === type);
      assert.equal(c?.status, 'Unknown', type);
      assert.equal(c?.reason, 'NodeStatusUnknown');
      assert.equal(c?.message, 'Kubelet stopped posting node status.');
    }
    assert.deepEqual(taintsOf(lost), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    // Tainted NoExecute in the pass that found it Unknown, not one monitor period later.
    assert.equal(lost.spec?.taints?.find((t) => t.effect === 'NoExecute')?.timeAdded, lost.status?.conditions?.find((x) => x.type === 'Ready')?.lastTransitionTime);
    // NodeNotReady once, for the node that was Ready and went silent; none for registering without status.
    const notReadyEvents = async (name: string) => (await client.list(types.events, { namespace: 'default', fieldSelector: `involvedObject.name=${name},reason=NodeNotReady` })).items as Array<KubeObject & { count?: number }>;
    await eventually('the NodeNotReady event of node-a', async () => (await notReadyEvents('node-a')).length === 1);
    assert.equal((await notReadyEvents('node-a'))[0].count ?? 1, 1);
    assert.deepEqual(await notReadyEvents('node-b'), []);
    const taintedAt = clock.now();
    const notReady = await eventually('node-a pods marked not ready', async () => {
      const p = await client.get<Pod>(types.pods, 'default-toleration', ns);
      return p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False' ? p : undefined;
    });
    assert.ok(notReady);
    assert.deepEqual(taintsOf(await client.get<Node>(types.nodes, 'node-b')), [], 'a healthy node keeps no taints');

    // 30 s of toleration: short-toleration is evicted, default-toleration stays.
    const evicted = await advanceUntil(
      clock,
      'short-toleration evicted',
      async () => {
        const p = await client.tryGet<Pod>(types.pods, 'short-toleration', ns);
        return !p || p.metadata.deletionTimestamp ? (p ?? true) : undefined;
      },
      { each: heartbeats },
    );
    assert.ok(clock.now() - taintedAt >= 30_000, 'not before its 30 s');
    if (evicted !== true) assert.equal((evicted as Pod).status?.conditions?.find((c) => c.type === 'DisruptionTarget')?.reason, 'DeletionByTaintManager');
    assert.equal((await client.get<Pod>(types.pods, 'default-toleration', ns)).metadata.deletionTimestamp, undefined);

    // 300 s after the taint: the default toleration has run out too.
    await run(Math.floor((taintedAt + 290_000 - clock.now()) / 5000) * 5);
    assert.equal((await client.get<Pod>(types.pods, 'default-toleration', ns)).metadata.deletionTimestamp, undefined, 'not before 300 s');
    await advanceUntil(
      clock,
      'default-toleration evicted',
      async () => {
        const p = await client.tryGet<Pod>(types.pods, 'default-toleration', ns);
        return !p || !!p.metadata.deletionTimestamp;
      },
      { each: heartbeats },
    );
    assert.equal((await client.get<Pod>(types.pods, 'on-b', ns)).metadata.deletionTimestamp, undefined, 'pods on healthy nodes stay');

    // node-c's kubelet reports NotReady: the not-ready taints.
    const c = await client.get<Node>(types.nodes, 'node-c');
    await client.updateStatus(types.nodes, { ...c, status: nodeStatus('False', clock.now()) });
    const cTainted = await advanceUntil(
      clock,
      'node-c tainted not-ready',
      async () => {
        const n = await client.get<Node>(types.nodes, 'node-c');
        return taintsOf(n).length === 2 ? n : undefined;
      },
      { each: heartbeats },
    );
    assert.deepEqual(taintsOf(cTainted), ['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/not-ready:NoSchedule']);

    // node-a comes back: its taints go.
    alive.add('node-a');
    const a = await client.get<Node>(types.nodes, 'node-a');
    await client.updateStatus(types.nodes, { ...a, status: nodeStatus('True', clock.now()) });
    await advanceUntil(clock, 'node-a untainted', async () => taintsOf(await client.get<Node>(types.nodes, 'node-a')).length === 0, { each: heartbeats });
  });

  it('a NoExecute taint evicts pods that do not tolerate it at once, and the others after their tolerationSeconds', async () => {
    const { client, clock } = env;
    const ns = 'dedicated';
    await createNamespace(client, ns);
    await createNode(client, 'node-d', clock.now());
    await renewLease(client, 'node-d', clock.now());
    const toleration = (seconds?: number) => [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoExecute', ...(seconds !== undefined ? { tolerationSeconds: seconds } : {}) }];
    await client.create(types.pods, pod('intolerant', {}, { nodeName: 'node-d' }), { namespace: ns });
    await client.create(types.pods, pod('for-a-minute', {}, { nodeName: 'node-d', tolerations: toleration(60) }), { namespace: ns });
    await client.create(types.pods, pod('forever', {}, { nodeName: 'node-d', tolerations: toleration() }), { namespace: ns });
    await settle(150);
    const node = await client.get<Node>(types.nodes, 'node-d');
    await client.update(types.nodes, { ...node, spec: { ...node.spec, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }] } });
    await eventually('intolerant evicted at once', async () => !!(await client.get(types.pods, 'intolerant', ns)).metadata.deletionTimestamp);
    assert.equal((await client.get(types.pods, 'for-a-minute', ns)).metadata.deletionTimestamp, undefined);
    const taintedAt = clock.now();
    await advanceUntil(clock, 'for-a-minute evicted', async () => !!(await client.get(types.pods, 'for-a-minute', ns)).metadata.deletionTimestamp, {
      each: () => renewLease(client, 'node-d', clock.now()),
    });
    assert.ok(clock.now() - taintedAt >= 60_000, 'not before its 60 s');
    assert.equal((await client.get(types.pods, 'forever', ns)).metadata.deletionTimestamp, undefined, 'a toleration without seconds tolerates forever');
  });
});
