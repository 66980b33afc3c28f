import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { types } from '@canopy/client';
import type { KubeObject } from '@canopy/apimachinery';
import { daemonSetController } from '../src/daemonset.js';
import { container, createNamespace, eventually, listPods, markRunningReady, settle, startWorkloadCluster, type WorkloadCluster } from './workload-support.js';

let env: WorkloadCluster;
before(async () => {
  env = await startWorkloadCluster([daemonSetController()]);
  for (const name of ['node-a', 'node-b']) await env.client.create(types.nodes, { metadata: { name, labels: { 'kubernetes.io/hostname': name, disk: 'ssd' } } });
  await env.client.create(types.nodes, {
    metadata: { name: 'node-gpu', labels: { 'kubernetes.io/hostname': 'node-gpu', disk: 'ssd' } },
    spec: { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
  });
  // A node kube has marked not ready: daemon pods tolerate it, ordinary pods would not.
  await env.client.create(types.nodes, {
    metadata: { name: 'node-notready', labels: { 'kubernetes.io/hostname': 'node-notready', disk: 'hdd' } },
    spec: { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] },
  });
});
after(async () => env?.close());

function daemonSet(ns: string, name: string, podSpec: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name, namespace: ns },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [container('fluentd:1')], ...podSpec } },
    },
  };
}

/** node name → live pods pinned there. */
async function podsByNode(ns: string, app: string): Promise<Map<string, KubeObject[]>> {
  const out = new Map<string, KubeObject[]>();
  for (const pod of await listPods(env.client, ns, `app=${app}`)) {
    if (pod.metadata.deletionTimestamp) continue;
    const terms = (pod.spec as any).affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    const node = terms?.[0]?.matchFields?.[0]?.values?.[0] as string;
    out.set(node, [...(out.get(node) ?? []), pod]);
  }
  return out;
}

async function nodesWithPods(ns: string, app: string): Promise<string[]> {
  return [...(await podsByNode(ns, app)).keys()].sort();
}

async function dsStatus(ns: string, name: string) {
  return (await env.client.get(types.daemonSets, name, ns)).status as Record<string, number>;
}

describe('DaemonSet controller', () => {
  const ns = 'ds';

  it('runs one pod on every node but the tainted one, pinned by node affinity, with daemon tolerations', async () => {
    await createNamespace(env.client, ns);
    await env.client.create(types.daemonSets, daemonSet(ns, 'logs'));
    await eventually('pods on the eligible nodes', async () => (await nodesWithPods(ns, 'logs')).join() === 'node-a,node-b,node-notready');
    await settle(150);
    assert.deepEqual(await nodesWithPods(ns, 'logs'), ['node-a', 'node-b', 'node-notready'], 'exactly one pod per node, none on node-gpu');
    const pod = (await podsByNode(ns, 'logs')).get('node-a')![0];
    const spec = pod.spec as any;
    assert.deepEqual(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms, [
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-a'] }] },
    ]);
    assert.equal(spec.nodeName, undefined, 'the scheduler binds daemon pods');
    const keys = spec.tolerations.map((t: any) => `${t.key}:${t.effect}`);
    for (const k of [
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/pid-pressure:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ])
      assert.ok(keys.includes(k), `toleration ${k}`);
    assert.ok(!keys.includes('node.kubernetes.io/network-unavailable:NoSchedule'), 'network-unavailable only for host-network pods');
    assert.match(pod.metadata.labels!['controller-revision-hash'], /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(pod.metadata.generateName, 'logs-');
    assert.equal(pod.metadata.ownerReferences?.[0].kind, 'DaemonSet');

    for (const pods of (await podsByNode(ns, 'logs')).values()) await markRunningReady(env.client, env.clock, ns, pods[0].metadata.name!);
    const status = await eventually('status with ready pods', async () => {
      const s = await dsStatus(ns, 'logs');
      return s?.numberReady === 3 ? s : undefined;
    });
    assert.equal(status.desiredNumberScheduled, 3);
    assert.equal(status.currentNumberScheduled, 3);
    assert.equal(status.updatedNumberScheduled, 3);
    assert.equal(status.numberAvailable, 3);
    assert.equal(status.numberMisscheduled, 0);
    assert.equal(status.observedGeneration, 1);
    const revisions = await env.client.list(types.controllerRevisions, { namespace: ns });
    assert.equal(revisions.items.length, 1);
    assert.equal(revisions.items[0].metadata.name, `logs-${pod.metadata.labels!['controller-revision-hash']}`);
  });

  it('adds a pod when a node joins and the pod on a node that gains an untolerated NoExecute taint goes', async () => {
    await env.client.create(types.nodes, { metadata: { name: 'node-c', labels: { 'kubernetes.io/hostname': 'node-c', disk: 'ssd' } } });
    await eventually('a pod on the new node', async () => (await nodesWithPods(ns, 'logs')).includes('node-c'));
    await env.client.patch(types.nodes, 'node-b', { spec: { taints: [{ key: 'maintenance', effect: 'NoExecute' }] } }, 'merge');
    await eventually('pod evicted from node-b', async () => !(await nodesWithPods(ns, 'logs')).includes('node-b'));
    // node-b no longer qualifies: it leaves desired, and once its pod is gone nothing is misscheduled.
    await eventually('status after node changes', async () => {
      const s = await dsStatus(ns, 'logs');
      return s.desiredNumberScheduled === 3 && s.currentNumberScheduled === 3 && s.numberMisscheduled === 0 ? s : undefined;
    });
    await env.client.patch(types.nodes, 'node-b', { spec: { taints: null } }, 'merge');
    await eventually('pod back on node-b', async () => (await nodesWithPods(ns, 'logs')).includes('node-b'));
  });

  it('honours the nodeSelector, and leaves a pod whose node stops matching', async () => {
    await env.client.create(types.daemonSets, daemonSet(ns, 'ssd-only', { nodeSelector: { disk: 'ssd' } }));
    await eventually('pods on ssd nodes only', async () => (await nodesWithPods(ns, 'ssd-only')).join() === 'node-a,node-b,node-c');
    await env.client.patch(types.nodes, 'node-c', { metadata: { labels: { disk: 'hdd' } } }, 'merge');
    await eventually('pod removed from node-c', async () => (await nodesWithPods(ns, 'ssd-only')).join() === 'node-a,node-b');
  });

  it('rolls out a new template one node at a time within maxUnavailable', async () => {
    await env.client.create(types.daemonSets, daemonSet(ns, 'agent', { nodeSelector: { disk: 'ssd' } }));
    await eventually('agent pods', async () => (await nodesWithPods(ns, 'agent')).length === 2);
    for (const pods of (await podsByNode(ns, 'agent')).values()) await markRunningReady(env.client, env.clock, ns, pods[0].metadata.name!);
    await eventually('agent ready', async () => (await dsStatus(ns, 'agent'))?.numberAvailable === 2);

    await env.client.patch(types.daemonSets, 'agent', { spec: { template: { spec: { containers: [container('fluentd:2')] } } } }, 'strategic', { namespace: ns });
    const image = (p: KubeObject) => (p.spec as any).containers[0].image as string;
    // maxUnavailable 1: one node is replaced; the other keeps its old pod until the new one is ready.
    const firstNew = await eventually('one updated pod', async () => {
      const all = [...(await podsByNode(ns, 'agent')).values()].flat();
      return all.find((p) => image(p) === 'fluentd:2');
    });
    await settle(200);
    let all = [...(await podsByNode(ns, 'agent')).values()].flat();
    assert.equal(all.filter((p) => image(p) === 'fluentd:1').length, 1, 'the second node still runs the old pod');
    await markRunningReady(env.client, env.clock, ns, firstNew.metadata.name!);
    const secondNew = await eventually('second updated pod', async () => {
      all = [...(await podsByNode(ns, 'agent')).values()].flat();
      return all.length === 2 && all.every((p) => image(p) === 'fluentd:2') ? all.find((p) => p.metadata.name !== firstNew.metadata.name) : undefined;
    });
    await markRunningReady(env.client, env.clock, ns, secondNew!.metadata.name!);
    const status = await eventually('rollout complete', async () => {
      const s = await dsStatus(ns, 'agent');
      return s.updatedNumberScheduled === 2 && s.numberAvailable === 2 ? s : undefined;
    });
    assert.equal(status.observedGeneration, 2);
    const revisions = (await env.client.list(types.controllerRevisions, { namespace: ns })).items.filter((r) => r.metadata.name!.startsWith('agent-'));
    assert.deepEqual(revisions.map((r: any) => r.revision).sort(), [1, 2]);
  });

  it('surges a new pod before removing the old one when maxSurge is set', async () => {
    await env.client.create(types.daemonSets, {
      ...daemonSet(ns, 'surge', { nodeSelector: { 'kubernetes.io/hostname': 'node-a' } }),
      spec: {
        ...(daemonSet(ns, 'surge', { nodeSelector: { 'kubernetes.io/hostname': 'node-a' } }).spec as object),
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      },
    });
    const old = await eventually('surge pod', async () => (await podsByNode(ns, 'surge')).get('node-a')?.[0]);
    await markRunningReady(env.client, env.clock, ns, old.metadata.name!);
    await eventually('surge available', async () => (await dsStatus(ns, 'surge'))?.numberAvailable === 1);
    await env.client.patch(types.daemonSets, 'surge', { spec: { template: { spec: { containers: [container('fluentd:2')] } } } }, 'strategic', { namespace: ns });
    const fresh = await eventually('new pod beside the old one', async () => {
      const pods = (await podsByNode(ns, 'surge')).get('node-a') ?? [];
      return pods.length === 2 ? pods.find((p) => p.metadata.uid !== old.metadata.uid) : undefined;
    });
    await settle(150);
    assert.ok(await env.client.tryGet(types.pods, old.metadata.name!, ns), 'the old pod stays until the new one is available');
    await markRunningReady(env.client, env.clock, ns, fresh!.metadata.name!);
    await eventually('old pod removed', async () => !(await env.client.tryGet(types.pods, old.metadata.name!, ns)));
  });
});
