/**
 * The scheduler running as a controller against an in-process API server, with nodes created
 * through the API: it binds pods, reports unschedulable ones with kube's condition and event,
 * retries them when a node appears, spreads replicas by anti-affinity and topology constraints,
 * and preempts lower-priority pods.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, InProcessTransport, isAlreadyExists, types, type KubeClient } from '@canopy/client';
import type { KubeObject } from '@canopy/apimachinery';
import { ControllerManager } from '../src/manager.js';
import { schedulerFactory } from '../src/scheduler/scheduler.js';
import type { Pod, Taint } from '../src/scheduler/api.js';
import { ADMIN, startCluster, type TestCluster } from '../../client/test/support.js';
import { seededRandom } from './scheduler-fixtures.js';
import { eventually, settle } from './workload-support.js';

interface Harness {
  cluster: TestCluster;
  client: KubeClient;
  clock: FakeClock;
  manager: ControllerManager;
}

let current: Harness | undefined;

afterEach(async () => {
  await current?.manager.stop();
  await current?.cluster.close();
  current = undefined;
});

async function start(): Promise<Harness> {
  const cluster = await startCluster();
  const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
  const transport = new InProcessTransport((req) => cluster.server.handle(req), ADMIN);
  const log = process.env.CANOPY_TEST_LOG ? (m: string) => console.error(m) : undefined;
  const manager = new ControllerManager({ transport, factories: [schedulerFactory({ random: seededRandom(11) })], leaderElection: false, clock, log });
  const client = cluster.inProcess();
  await client.create(types.serviceAccounts, { metadata: { name: 'default', namespace: 'default' } }).catch((err) => {
    if (!isAlreadyExists(err)) throw err;
  });
  await manager.start();
  current = { cluster, client, clock, manager };
  return current;
}

/** A node as a kubelet registers it: created, then its status (allocatable) reported. */
async function createNode(client: KubeClient, name: string, options: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; taints?: Taint[] } = {}): Promise<void> {
  await client.create(types.nodes, {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...options.labels } },
    spec: options.taints ? { taints: options.taints } : {},
  });
  const allocatable = { cpu: options.cpu ?? '4', memory: options.memory ?? '8Gi', pods: options.pods ?? '110' };
  await client.patch(types.nodes, name, { status: { allocatable, capacity: allocatable, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }] } }, 'merge', {
    subresource: 'status',
  });
}

async function createPod(client: KubeClient, name: string, spec: Record<string, unknown> = {}, labels: Record<string, string> = {}, namespace = 'default'): Promise<Pod> {
  const { cpu, ...rest } = spec as { cpu?: string };
  return client.create<Pod>(types.pods, {
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu: cpu ?? '100m', memory: '64Mi' } } }], ...rest },
  });
}

async function nodeOf(client: KubeClient, name: string, namespace = 'default'): Promise<string | undefined> {
  const pod = await client.get<Pod>(types.pods, name, namespace);
  return pod.spec?.nodeName;
}

async function podEvents(client: KubeClient, name: string, namespace = 'default') {
  const list = await client.list(types.events, { namespace });
  return list.items
    .filter((e) => (e.involvedObject as { name?: string }).name === name)
    .map((e) => ({ type: e.type as string, reason: e.reason as string, message: e.message as string, component: (e.source as { component?: string }).component, count: e.count as number }));
}

const scheduled = (h: Harness, name: string, namespace = 'default') => eventually(`${name} bound`, () => nodeOf(h.client, name, namespace), 10_000);

test('pending pods are bound, spread over equal nodes, with PodScheduled and a Scheduled event', async () => {
  const h = await start();
  for (const n of ['n1', 'n2', 'n3']) await createNode(h.client, n);
  for (let i = 0; i < 6; i++) await createPod(h.client, `web-${i}`, { cpu: '500m' });
  const placement: Record<string, number> = {};
  for (let i = 0; i < 6; i++) {
    const node = await scheduled(h, `web-${i}`);
    placement[node] = (placement[node] ?? 0) + 1;
  }
  // LeastAllocated: each placement makes its node less attractive, so equal nodes fill evenly.
  assert.deepEqual(placement, { n1: 2, n2: 2, n3: 2 });
  const pod = await h.client.get<Pod>(types.pods, 'web-0', 'default');
  assert.equal(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status, 'True');
  const events = await eventually('Scheduled event', async () => (await podEvents(h.client, 'web-0')).find((e) => e.reason === 'Scheduled'));
  assert.deepEqual(events, { type: 'Normal', reason: 'Scheduled', message: `Successfully assigned default/web-0 to ${pod.spec?.nodeName}`, component: 'default-scheduler', count: 1 });
});

test('a pod that fits nowhere stays Pending with the reason, and is scheduled when a node with room appears', async () => {
  const h = await start();
  for (const n of ['n1', 'n2']) await createNode(h.client, n, { cpu: '2' });
  await createNode(h.client, 'gpu', { cpu: '16', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
  await createPod(h.client, 'big', { cpu: '3' });
  const message =
    '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..';
  const condition = await eventually('PodScheduled=False', async () => (await h.client.get<Pod>(types.pods, 'big', 'default')).status?.conditions?.find((c) => c.type === 'PodScheduled'));
  assert.deepEqual({ status: condition.status, reason: condition.reason, message: condition.message }, { status: 'False', reason: 'Unschedulable', message });
  const failed = await eventually('FailedScheduling event', async () => (await podEvents(h.client, 'big')).find((e) => e.reason === 'FailedScheduling'));
  assert.deepEqual(failed, { type: 'Warning', reason: 'FailedScheduling', message, component: 'default-scheduler', count: 1 });
  assert.equal((await h.client.get<Pod>(types.pods, 'big', 'default')).status?.phase, 'Pending');

  await createNode(h.client, 'n4', { cpu: '8' });
  // The node event moves the pod out of the unschedulable pods; its 1 s backoff runs on the scheduler's clock.
  await settle(100);
  h.clock.advance(1_000);
  assert.equal(await scheduled(h, 'big'), 'n4');
  const after = await h.client.get<Pod>(types.pods, 'big', 'default');
  assert.equal(after.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status, 'True');
});

test('resources freed by a deleted pod let a waiting pod in', async () => {
  const h = await start();
  await createNode(h.client, 'only', { cpu: '1' });
  await createPod(h.client, 'first', { cpu: '800m' });
  assert.equal(await scheduled(h, 'first'), 'only');
  await createPod(h.client, 'second', { cpu: '800m' });
  await eventually('second unschedulable', async () => (await h.client.get<Pod>(types.pods, 'second', 'default')).status?.conditions?.find((c) => c.reason === 'Unschedulable'));
  // The first pod is gone (a kubelet would confirm with grace period 0).
  await h.client.delete(types.pods, 'first', { namespace: 'default', gracePeriodSeconds: 0 });
  await settle(100);
  h.clock.advance(1_000);
  assert.equal(await scheduled(h, 'second'), 'only');
});

test('required anti-affinity on the hostname spreads replicas, one per node', async () => {
  const h = await start();
  for (const n of ['n1', 'n2', 'n3']) await createNode(h.client, n);
  const antiAffinity = {
    affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] } },
  };
  for (let i = 0; i < 4; i++) await createPod(h.client, `db-${i}`, antiAffinity, { app: 'db' });
  const nodes = new Set<string>();
  const pending: string[] = [];
  await eventually('three bound, one refused', async () => {
    nodes.clear();
    pending.length = 0;
    for (let i = 0; i < 4; i++) {
      const pod = await h.client.get<Pod>(types.pods, `db-${i}`, 'default');
      if (pod.spec?.nodeName) nodes.add(pod.spec.nodeName);
      else if (pod.status?.conditions?.some((c) => c.reason === 'Unschedulable')) pending.push(pod.status.conditions.find((c) => c.reason === 'Unschedulable')!.message!);
    }
    return nodes.size === 3 && pending.length === 1;
  });
  assert.deepEqual([...nodes].sort(), ['n1', 'n2', 'n3']);
  assert.equal(pending[0], "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..");
});

test('topology spread constraints place replicas evenly across zones', async () => {
  const h = await start();
  for (const [name, zone] of [['a1', 'a'], ['a2', 'a'], ['a3', 'a'], ['b1', 'b'], ['c1', 'c']]) await createNode(h.client, name, { labels: { 'topology.kubernetes.io/zone': zone } });
  const spread = {
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }],
  };
  for (let i = 0; i < 6; i++) await createPod(h.client, `web-${i}`, spread, { app: 'web' });
  const zones: Record<string, number> = {};
  for (let i = 0; i < 6; i++) {
    const node = await scheduled(h, `web-${i}`);
    zones[node[0]] = (zones[node[0]] ?? 0) + 1;
  }
  // Zone a has three nodes, yet every zone gets two replicas.
  assert.deepEqual(zones, { a: 2, b: 2, c: 2 });
});

test('nodes that are not ready (tainted by the node lifecycle) and pods of other schedulers are left alone', async () => {
  const h = await start();
  await createNode(h.client, 'notready', { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }] });
  await createNode(h.client, 'ready');
  for (let i = 0; i < 3; i++) await createPod(h.client, `p${i}`);
  for (let i = 0; i < 3; i++) assert.equal(await scheduled(h, `p${i}`), 'ready');
  await createPod(h.client, 'custom', { schedulerName: 'my-scheduler' });
  await settle(300);
  assert.equal(await nodeOf(h.client, 'custom'), undefined);
  assert.deepEqual(await podEvents(h.client, 'custom'), []);
});

test('a higher-priority pod preempts a lower-priority one and takes its place', async () => {
  const h = await start();
  await createNode(h.client, 'only', { cpu: '1' });
  await createPod(h.client, 'low', { cpu: '800m', priority: 0 });
  assert.equal(await scheduled(h, 'low'), 'only');
  await createPod(h.client, 'high', { cpu: '800m', priority: 1000 });
  // The victim is deleted (gracefully: it is bound to a node) after being marked as a disruption target.
  const victim = await eventually('victim terminating', async () => {
    const pod = await h.client.get<KubeObject>(types.pods, 'low', 'default');
    return pod.metadata.deletionTimestamp ? pod : undefined;
  });
  const disruption = (victim.status as Pod['status'])?.conditions?.find((c) => c.type === 'DisruptionTarget');
  assert.deepEqual([disruption?.status, disruption?.reason], ['True', 'PreemptionByScheduler']);
  const high = await eventually('nominated', async () => {
    const pod = await h.client.get<Pod>(types.pods, 'high', 'default');
    return pod.status?.nominatedNodeName ? pod : undefined;
  });
  assert.equal(high.status?.nominatedNodeName, 'only');
  assert.equal(high.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message, '0/1 nodes are available: 1 Insufficient cpu.');
  const preempted = await eventually('Preempted event', async () => (await podEvents(h.client, 'low')).find((e) => e.reason === 'Preempted'));
  assert.equal(preempted.message, `Preempted by pod ${high.metadata.uid} on node only`);
  // The kubelet's part: the victim's containers stop and the pod is removed.
  await h.client.delete(types.pods, 'low', { namespace: 'default', gracePeriodSeconds: 0 });
  await settle(100);
  h.clock.advance(1_000);
  assert.equal(await scheduled(h, 'high'), 'only');
});
