/**
 * Test support for the workload controllers: an in-process API server with a ControllerManager
 * running the given factories on a FakeClock, plus the parts of a kubelet and scheduler a test
 * plays by writing pod status and bindings through the API (as kube's controller tests do).
 */
import { FakeClock, InProcessTransport, isAlreadyExists, rfc3339, types, type KubeClient } from '@canopy/client';
import type { KubeObject } from '@canopy/apimachinery';
import { ControllerManager, type ControllerFactory } from '../src/index.js';
import { ADMIN, startCluster, type TestCluster } from '../../client/test/support.js';

export interface WorkloadCluster {
  cluster: TestCluster;
  client: KubeClient;
  clock: FakeClock;
  manager: ControllerManager;
  close(): Promise<void>;
}

/** A cluster whose controllers run on a fake clock starting at the real time (creation timestamps are real). */
export async function startWorkloadCluster(factories: ControllerFactory[], options: { clockStart?: number } = {}): Promise<WorkloadCluster> {
  const cluster = await startCluster();
  const clock = new FakeClock(options.clockStart ?? Math.floor(Date.now() / 1000) * 1000);
  const transport = new InProcessTransport((req) => cluster.server.handle(req), ADMIN);
  const log = process.env.CANOPY_TEST_LOG ? (m: string) => console.error(m) : undefined;
  const manager = new ControllerManager({ transport, factories, leaderElection: false, clock, log });
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

/** Polls `probe` (real time) until it answers something truthy; fails with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value as T;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 15));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/** Lets pending informer events and syncs run (real time) without advancing the fake clock. */
export function settle(ms = 150): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function listPods(client: KubeClient, namespace: string, labelSelector?: string): Promise<KubeObject[]> {
  return (await client.list(types.pods, { namespace, labelSelector })).items;
}

/** The kubelet's report of a started container: Running and Ready at the clock's time. */
export async function markRunningReady(client: KubeClient, clock: FakeClock, namespace: string, name: string): Promise<KubeObject> {
  const pod = await client.get(types.pods, name, namespace);
  const now = rfc3339(clock.now());
  const spec = pod.spec as { containers: Array<{ name: string }> };
  return client.updateStatus(types.pods, {
    ...pod,
    status: {
      ...(pod.status as object),
      phase: 'Running',
      startTime: now,
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
        { type: 'Initialized', status: 'True', lastTransitionTime: now },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
        { type: 'Ready', status: 'True', lastTransitionTime: now },
      ],
      containerStatuses: spec.containers.map((c) => ({ name: c.name, ready: true, restartCount: 0, image: 'img', imageID: '', state: { running: { startedAt: now } } })),
    },
  });
}

/** The kubelet's report of a pod whose containers exited: Succeeded (exit 0) or Failed (exitCode). */
export async function finishPod(client: KubeClient, clock: FakeClock, namespace: string, name: string, exitCode = 0): Promise<KubeObject> {
  const pod = await client.get(types.pods, name, namespace);
  const now = rfc3339(clock.now());
  const spec = pod.spec as { containers: Array<{ name: string }> };
  return client.updateStatus(types.pods, {
    ...pod,
    status: {
      ...(pod.status as object),
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      conditions: [{ type: 'Ready', status: 'False', reason: 'PodCompleted', lastTransitionTime: now }],
      containerStatuses: spec.containers.map((c) => ({
        name: c.name,
        ready: false,
        restartCount: 0,
        image: 'img',
        imageID: '',
        state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: now, finishedAt: now } },
      })),
    },
  });
}

/** The scheduler's part: binds a pod to a node through the binding subresource. */
export async function bindPod(client: KubeClient, namespace: string, name: string, node: string): Promise<void> {
  await client.createSubresource(types.pods, name, 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: node } }, { namespace });
}

export function container(image = 'nginx:1.25') {
  return { name: 'app', image };
}

export async function events(client: KubeClient, namespace: string, involvedName: string): Promise<Array<{ reason: string; message: string; type: string }>> {
  const list = await client.list(types.events, { namespace });
  return list.items
    .filter((e) => (e.involvedObject as { name?: string }).name === involvedName)
    .map((e) => ({ reason: e.reason as string, message: e.message as string, type: e.type as string }));
}

/**
 * A namespace with its `default` ServiceAccount (pods are refused without it; the serviceaccount
 * controller that makes it is not among the controllers under test).
 */
export async function createNamespace(client: KubeClient, name: string): Promise<void> {
  await client.create(types.namespaces, { metadata: { name } });
  try {
    await client.create(types.serviceAccounts, { metadata: { name: 'default', namespace: name } });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}
