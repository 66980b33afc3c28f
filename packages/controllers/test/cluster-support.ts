/**
 * Test support for the cluster controllers (endpoints, volumes, node lifecycle, autoscaling,
 * disruption, lifecycle): an in-process API server with the lifecycle controllers running on
 * real time, the controllers under test on a FakeClock, and the kubelet's part played by writing
 * pod and node status and Leases through the API, as kube's controller tests do.
 */
import type { KubeObject } from '@canopy/apimachinery';
import { FakeClock, InProcessTransport, rfc3339, types, type KubeClient } from '@canopy/client';
import { ControllerManager, type ControllerFactory } from '../src/index.js';
import { ADMIN, startCluster, type TestCluster } from '../../client/test/support.js';

export interface ClusterUnderTest {
  cluster: TestCluster;
  client: KubeClient;
  clock: FakeClock;
  manager: ControllerManager;
  close(): Promise<void>;
}

export async function startClusterWith(factories: ControllerFactory[], options: { clockStart?: number } = {}): Promise<ClusterUnderTest> {
  const cluster = await startCluster({ lifecycleControllers: true });
  const clock = new FakeClock(options.clockStart ?? Math.floor(Date.now() / 1000) * 1000);
  const log = process.env.CANOPY_TEST_LOG ? (m: string) => console.error(m) : undefined;
  const manager = new ControllerManager({ transport: new InProcessTransport((req) => cluster.server.handle(req), ADMIN), factories, leaderElection: false, clock, log });
  await manager.start();
  return {
    cluster,
    client: cluster.inProcess(),
    clock,
    manager,
    async close() {
      await manager.stop();
      await cluster.close();
    },
  };
}

/** Polls `probe` (real time) until it answers something truthy; fails naming `what` (and the last value seen). */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value as T;
      last = value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

/** Lets informer events and queued syncs run (real time) without moving the fake clock. */
export function settle(ms = 100): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Moves the fake clock forward `stepMs` at a time (running `each` before every step, e.g. a
 * kubelet's heartbeat) until `probe` holds, failing after `maxSteps`. Controllers react in real
 * time between steps, so a loaded machine only makes the test slower, never wrong.
 */
export async function advanceUntil<T>(
  clock: FakeClock,
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  options: { stepMs?: number; maxSteps?: number; each?: () => Promise<void> } = {},
): Promise<T> {
  const { stepMs = 5000, maxSteps = 20, each } = options;
  for (let i = 0; ; i++) {
    // Long enough for controllers to react to the last step; a slow reaction costs only an extra step.
    const deadline = Date.now() + 120;
    while (Date.now() < deadline) {
      const value = await probe();
      if (value) return value;
      await settle(20);
    }
    if (i >= maxSteps) throw new Error(`timed out waiting for ${what} after ${maxSteps} clock steps of ${stepMs} ms`);
    await each?.();
    clock.advance(stepMs);
  }
}

/** A namespace, once the serviceaccount controller has given it its `default` account. */
export async function createNamespace(client: KubeClient, name: string): Promise<void> {
  await client.create(types.namespaces, { metadata: { name } });
  await eventually(`the default ServiceAccount of ${name}`, () => client.tryGet(types.serviceAccounts, 'default', name));
}

export function pod(name: string, labels: Record<string, string>, extra: Record<string, unknown> = {}, containerExtra: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name, labels },
    spec: { containers: [{ name: 'app', image: 'nginx:1.25', ...containerExtra }], ...extra },
  } as KubeObject;
}

/** The kubelet's report: Running with an IP, Ready or not (`ready`), at the clock's time. */
export async function setPodRunning(client: KubeClient, namespace: string, name: string, ip: string, ready: boolean, now = Date.now()): Promise<KubeObject> {
  const current = await client.get(types.pods, name, namespace);
  const at = rfc3339(now);
  const status = (current.status ?? {}) as Record<string, unknown>;
  return client.updateStatus(types.pods, {
    ...current,
    status: {
      ...status,
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      hostIP: '192.168.0.10',
      startTime: (status.startTime as string | undefined) ?? at,
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: at },
        { type: 'Initialized', status: 'True', lastTransitionTime: at },
        { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: at },
        { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: at },
      ],
    },
  });
}

/** A node as a kubelet registers it: capacity, labels and a Ready condition. */
export async function createNode(client: KubeClient, name: string, now: number, labels: Record<string, string> = {}): Promise<KubeObject> {
  const node = await client.create(types.nodes, {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: {},
  } as KubeObject);
  return client.updateStatus(types.nodes, { ...node, status: nodeStatus('True', now) });
}

export function nodeStatus(ready: 'True' | 'False', now: number): Record<string, unknown> {
  const at = rfc3339(now);
  const condition = (type: string, status: string, reason: string) => ({ type, status, reason, message: reason, lastHeartbeatTime: at, lastTransitionTime: at });
  return {
    capacity: { cpu: '4', memory: '8Gi', pods: '110' },
    allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
    conditions: [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID'),
      condition('Ready', ready, ready === 'True' ? 'KubeletReady' : 'KubeletNotReady'),
    ],
  };
}

/** The kubelet's heartbeat: creates or renews the node's Lease in kube-node-lease. */
export async function renewLease(client: KubeClient, node: string, now: number): Promise<void> {
  const renewTime = new Date(now).toISOString().replace('Z', '000Z');
  const current = await client.tryGet(types.leases, node, 'kube-node-lease');
  if (!current) {
    await client.create(types.leases, { metadata: { name: node, namespace: 'kube-node-lease' }, spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime } } as KubeObject);
    return;
  }
  await client.update(types.leases, { ...current, spec: { ...(current.spec as object), renewTime } });
}
