/**
 * Test support: an in-process API server with the lifecycle controllers (real time), and a
 * simulator on a FakeClock registered as the server's node connector and metrics provider.
 * Tests move simulated time with `advance`, which lets the API calls each step causes finish.
 */
import type { KubeObject } from '@canopy/apimachinery';
import { FakeClock, InProcessTransport, types, type InProcessUser, type KubeClient } from '@canopy/client';
import { ADMIN, startCluster, type TestCluster } from '../../client/test/support.js';
import { Simulator, type SimulatorOptions } from '../src/index.js';

export interface SimulatedCluster {
  cluster: TestCluster;
  client: KubeClient;
  clock: FakeClock;
  sim: Simulator;
  /** Moves the fake clock in steps, letting the simulator's writes and the watch catch up. */
  advance(ms: number, step?: number): Promise<void>;
  /** Lets pending API calls and watch events run without moving the clock. */
  flush(): Promise<void>;
  namespace(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function startSimulated(options: Partial<SimulatorOptions> & { user?: InProcessUser } = {}): Promise<SimulatedCluster> {
  const cluster = await startCluster({ lifecycleControllers: true });
  const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
  const transport = new InProcessTransport((req) => cluster.server.handle(req), options.user ?? ADMIN);
  const log = process.env.CANOPY_TEST_LOG ? (m: string) => console.error(m) : undefined;
  const sim = new Simulator({ transport, clock, log, ...options });
  await sim.start();
  cluster.server.setNodeConnector(sim);
  cluster.server.setMetricsProvider(sim);
  const client = cluster.inProcess();
  const flush = async () => {
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      await sim.idle();
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  return {
    cluster,
    client,
    clock,
    sim,
    flush,
    async advance(ms: number, step = 100) {
      for (let done = 0; done < ms; done += step) {
        clock.advance(Math.min(step, ms - done));
        await flush();
      }
    },
    async namespace(name: string) {
      await client.create(types.namespaces, { metadata: { name } });
      await eventually(`the default ServiceAccount of ${name}`, () => client.tryGet(types.serviceAccounts, 'default', name));
      return name;
    },
    async close() {
      cluster.server.setNodeConnector(undefined);
      cluster.server.setMetricsProvider(undefined);
      await sim.stop();
      await cluster.close();
    },
  };
}

/** Polls `probe` (real time) until it answers something truthy. */
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
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

type Obj = Record<string, any>;

export function pod(name: string, namespace: string, spec: Obj = {}, metadata: Obj = {}): KubeObject {
  return {
    metadata: { name, namespace, ...metadata },
    spec: { containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 80, name: 'http' }] }], ...spec },
  };
}

export function statusOf(p: KubeObject): Obj {
  return (p.status ?? {}) as Obj;
}

export function condition(p: KubeObject, type: string): Obj | undefined {
  return (statusOf(p).conditions ?? []).find((c: Obj) => c.type === type);
}

export function containerStatus(p: KubeObject, name: string, init = false): Obj | undefined {
  return (statusOf(p)[init ? 'initContainerStatuses' : 'containerStatuses'] ?? []).find((c: Obj) => c.name === name);
}

/** Events about an object, oldest first. */
export async function eventsFor(client: KubeClient, namespace: string, name: string): Promise<Obj[]> {
  const list = await client.list(types.events, { namespace, fieldSelector: `involvedObject.name=${name}` });
  return (list.items as Obj[]).sort((a, b) => String(a.firstTimestamp).localeCompare(String(b.firstTimestamp)) || String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
}
