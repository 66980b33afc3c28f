/**
 * Scheduler benchmark: can kube-scheduler's logic keep up with 50 pods a second on 1,000 nodes?
 *
 *   node --conditions=source --import tsx bench/scheduler.ts [--nodes 1000] [--existing 30000] [--pods 2000] [--rate 50] [--e2e-seconds 20]
 *
 * Phase 1 (algorithm): a cache of N nodes in 3 zones holding `existing` pods (ReplicaSet-owned,
 * so default spreading has work to do), then scheduling cycles for several pod shapes; each
 * scheduled pod is assumed, as in the real loop. Reports the cycle time per shape.
 * Phase 2 (end to end): an in-process API server with the scheduler controller, N nodes created
 * through the API, pods created at `rate` per second; reports created → bound latency (observed
 * by watch) and whether the scheduler kept up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from '@canopy/kube-apiserver';
import { InProcessTransport, KubeClient, types } from '@canopy/client';
import { ControllerManager } from '@canopy/controllers';
import { SchedulerCache } from '../packages/controllers/src/scheduler/cache.js';
import { SchedulingAlgorithm } from '../packages/controllers/src/scheduler/algorithm.js';
import { schedulerFactory } from '../packages/controllers/src/scheduler/scheduler.js';
import type { Node, Pod } from '../packages/controllers/src/scheduler/api.js';
import { fmt, msSince, nowNs, percentile } from './support.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const NODES = flag('nodes', 1000);
const EXISTING = flag('existing', 30000);
const PODS = flag('pods', 2000);
const RATE = flag('rate', 50);
const E2E_SECONDS = flag('e2e-seconds', 20);
const ZONES = ['zone-a', 'zone-b', 'zone-c'];

function nodeObject(i: number): Node {
  const name = `node-${i}`;
  const allocatable = { cpu: '32', memory: '128Gi', pods: '110' };
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': ZONES[i % ZONES.length] } },
    spec: {},
    status: { allocatable, capacity: allocatable },
  };
}

let uid = 0;
function podObject(name: string, shape: string, namespace = `ns-${uid % 20}`, nodeName?: string): Pod {
  const app = `app-${uid % 200}`;
  const labels = { app, 'pod-template-hash': 'h1' };
  const spec: Pod['spec'] = {
    schedulerName: 'default-scheduler',
    containers: [{ name: 'c', resources: { requests: { cpu: '100m', memory: '128Mi' } } }],
    ...(nodeName ? { nodeName } : {}),
  };
  if (shape === 'zone-spread') spec.topologySpreadConstraints = [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app } } }];
  if (shape === 'anti-affinity') spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app } }, topologyKey: 'kubernetes.io/hostname' }] } };
  if (shape === 'preferred-affinity') spec.affinity = { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: { labelSelector: { matchLabels: { app } }, topologyKey: 'topology.kubernetes.io/zone' } }] } };
  return {
    metadata: {
      name,
      namespace,
      uid: `uid-${++uid}`,
      labels,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-h1`, uid: `rs-${app}`, controller: true }],
    },
    spec,
  };
}

function algorithmPhase(): void {
  const cache = new SchedulerCache();
  for (let i = 0; i < NODES; i++) cache.setNode(nodeObject(i));
  for (let i = 0; i < EXISTING; i++) cache.addPod(podObject(`existing-${i}`, 'plain', undefined, `node-${i % NODES}`));
  const workloads = {
    serviceSelectors: () => [],
    controllerSelector: (_ns: string, _kind: string, _v: string, name: string) => ({ matchLabels: { app: name.replace(/-h1$/, ''), 'pod-template-hash': 'h1' } }),
  };
  const algorithm = new SchedulingAlgorithm(cache, { workloads });
  console.log(`algorithm: ${NODES} nodes, ${EXISTING} existing pods`);
  for (const shape of ['plain', 'zone-spread', 'anti-affinity', 'preferred-affinity']) {
    const times: number[] = [];
    const start = nowNs();
    for (let i = 0; i < PODS / 4; i++) {
      const pod = podObject(`${shape}-${i}`, shape);
      const t = nowNs();
      const outcome = algorithm.schedule(pod);
      if (outcome.kind === 'scheduled') cache.assumePod(outcome.podInfo, outcome.node.name);
      times.push(msSince(t));
    }
    const wall = msSince(start);
    console.log(`  ${shape.padEnd(20)} p50 ${fmt(percentile(times, 50))} ms  p99 ${fmt(percentile(times, 99))} ms  → ${Math.round((times.length / wall) * 1000)} pods/s`);
  }
}

async function endToEndPhase(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-bench-scheduler-'));
  const server = await ApiServer.start({ dataDir, port: 0 });
  const admin = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };
  const transport = new InProcessTransport((req) => server.handle(req), admin);
  const client = new KubeClient(transport);
  try {
    await client.create(types.namespaces, { metadata: { name: 'bench' } });
    await client.create(types.serviceAccounts, { metadata: { name: 'default', namespace: 'bench' } });
    for (let i = 0; i < NODES; i++) {
      const n = nodeObject(i);
      await client.create(types.nodes, { metadata: n.metadata, spec: {} });
      await client.patch(types.nodes, n.metadata.name!, { status: n.status }, 'merge', { subresource: 'status' });
    }
    const manager = new ControllerManager({ transport, factories: [schedulerFactory()], leaderElection: false });
    await manager.start();
    const created = new Map<string, bigint>();
    const latencies: number[] = [];
    const watch = await client.watch(types.pods, { namespace: 'bench', resourceVersion: '0' });
    const watching = (async () => {
      for await (const event of watch) {
        const pod = event.object as Pod;
        const at = created.get(pod.metadata.name ?? '');
        if (at !== undefined && pod.spec?.nodeName) {
          latencies.push(msSince(at));
          created.delete(pod.metadata.name ?? '');
        }
      }
    })();
    const total = RATE * E2E_SECONDS;
    const cpuStart = process.cpuUsage();
    const wallStart = nowNs();
    for (let i = 0; i < total; i++) {
      const due = wallStart + BigInt(Math.round((i * 1e9) / RATE));
      const wait = Number(due - nowNs()) / 1e6;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const pod = podObject(`pod-${i}`, i % 4 === 1 ? 'zone-spread' : 'plain', 'bench');
      const name = pod.metadata.name!;
      created.set(name, nowNs());
      void client.create(types.pods, { metadata: { name, namespace: 'bench', labels: pod.metadata.labels }, spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '100m', memory: '128Mi' } } }], topologySpreadConstraints: pod.spec?.topologySpreadConstraints ?? undefined } });
    }
    const deadline = Date.now() + 30_000;
    while (created.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const wall = msSince(wallStart) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    watch.close();
    await watching.catch(() => {});
    await manager.stop();
    console.log(`end to end: ${NODES} nodes, ${total} pods at ${RATE}/s (API server, watch and scheduler in one process)`);
    console.log(`  bound ${latencies.length}/${total}; created → bound p50 ${fmt(percentile(latencies, 50))} ms  p99 ${fmt(percentile(latencies, 99))} ms  max ${fmt(Math.max(...latencies))} ms`);
    console.log(`  process CPU ${fmt((cpu.user + cpu.system) / 1e6 / wall * 100, 0)}% of one core over ${fmt(wall, 1)} s`);
    if (created.size) process.exitCode = 1;
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

algorithmPhase();
await endToEndPhase();
