/**
 * Test support for the ReplicaSet and Deployment controllers: an in-process API server with a
 * ControllerManager running the given factories on a fake clock, polling helpers, and a
 * stand-in kubelet that reports pods Running and Ready through the status subresource (as kube's
 * controller tests do; the real scheduler and simulated kubelet are exercised end to end
 * elsewhere).
 */
import type { KubeObject } from '@canopy/apimachinery';
import { FakeClock, Informer, isConflict, rfc3339, types, type Clock, type KubeClient } from '@canopy/client';
import { startCluster, type TestCluster } from '../../client/test/support.js';
import { ControllerManager, type ControllerFactory, type Pod } from '../src/index.js';

export interface ReplicaCluster {
  cluster: TestCluster;
  /** Admin client (in-process). */
  client: KubeClient;
  clock: FakeClock;
  manager: ControllerManager;
  close(): Promise<void>;
}

export async function startReplicaCluster(factories: ControllerFactory[]): Promise<ReplicaCluster> {
  // The lifecycle controllers (default ServiceAccount, quota status, garbage collector) run as in
  // `canopy server`: pods need the default account, and orphaning needs the collector.
  const cluster = await startCluster({ lifecycleControllers: true });
  const client = cluster.inProcess();
  const clock = new FakeClock(Date.now());
  const manager = new ControllerManager({
    transport: client.transport,
    factories,
    leaderElection: false,
    clock,
    log: (m) => {
      if (process.env.CANOPY_TEST_LOG) console.error(m);
    },
  });
  await manager.start();
  return {
    cluster,
    client,
    clock,
    manager,
    async close() {
      await manager.stop();
      await cluster.close();
    },
  };
}

/** Polls `fn` until it returns something truthy; fails with `what` and the last value after the timeout. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 15));
  }
  throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

/** Waits until `fn` gives the same JSON twice 150 ms apart (the controllers have settled). */
export async function settled<T>(what: string, fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  let previous = JSON.stringify(await fn());
  return waitFor(
    what,
    async () => {
      await new Promise((r) => setTimeout(r, 150));
      const value = await fn();
      const json = JSON.stringify(value);
      const same = json === previous;
      previous = json;
      return same ? { value } : undefined;
    },
    timeoutMs,
  ).then((v) => v.value);
}

export async function createNamespace(client: KubeClient, name: string): Promise<void> {
  await client.create(types.namespaces, { metadata: { name } });
}

export async function listPods(client: KubeClient, namespace: string, labelSelector?: string): Promise<Pod[]> {
  return (await client.list<Pod>(types.pods, { namespace, labelSelector })).items;
}

export function isReady(pod: Pod): boolean {
  return !!pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * Plays the kubelet for one pod: Running, with the Ready condition as given (its
 * lastTransitionTime from `clock`, changed only when readiness changes, as a kubelet does).
 */
export async function setPodReady(client: KubeClient, namespace: string, name: string, ready: boolean, clock: Clock): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const pod = await client.get<Pod>(types.pods, name, namespace);
    const now = rfc3339(clock.now());
    const status = pod.status ?? {};
    const current = status.conditions?.find((c) => c.type === 'Ready');
    const value = ready ? 'True' : 'False';
    const transition = current?.status === value ? current.lastTransitionTime : now;
    pod.status = {
      ...status,
      phase: 'Running',
      conditions: [
        { type: 'Initialized', status: 'True', lastTransitionTime: now },
        { type: 'Ready', status: value, lastTransitionTime: transition },
        { type: 'ContainersReady', status: value, lastTransitionTime: transition },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
      ],
    };
    try {
      await client.updateStatus(types.pods, pod);
      return;
    } catch (err) {
      if (!isConflict(err) || attempt > 5) throw err;
    }
  }
}

/** Marks every not-yet-ready, not-deleted pod matching the selector Ready; returns how many. */
export async function readyAll(client: KubeClient, namespace: string, labelSelector: string | undefined, clock: Clock): Promise<number> {
  let n = 0;
  for (const pod of await listPods(client, namespace, labelSelector)) {
    if (pod.metadata.deletionTimestamp || isReady(pod)) continue;
    await setPodReady(client, namespace, pod.metadata.name!, true, clock);
    n++;
  }
  return n;
}

/** Events recorded on an object, as `reason: message`, oldest first. */
export async function eventsFor(client: KubeClient, namespace: string, name: string): Promise<string[]> {
  const list = await client.list(types.events, { namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items
    .sort((a, b) => String(a.firstTimestamp).localeCompare(String(b.firstTimestamp)) || String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)))
    .map((e) => `${e.reason}: ${e.message}`);
}

/** An informer on a namespace, for assertions that must hold at every step, not just at the end. */
export async function watchAll<T extends KubeObject>(client: KubeClient, type: typeof types.pods | typeof types.replicaSets, namespace: string, onChange: (objects: T[]) => void): Promise<Informer<T>> {
  const informer = new Informer<T>(client, type, { namespace });
  // Not during the initial list, which adds objects one at a time.
  const fire = () => {
    if (informer.hasSynced) onChange(informer.list());
  };
  informer.addHandler({ onAdd: fire, onUpdate: fire, onDelete: fire });
  await informer.start();
  onChange(informer.list());
  return informer;
}
