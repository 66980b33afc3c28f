/** Builders for scheduler tests: nodes and pods as the API server would return them, and a seeded RNG. */
import type { Node, Pod, Taint, Toleration } from '../src/scheduler/api.js';
import { SchedulerCache } from '../src/scheduler/cache.js';

let uidCounter = 0;

export interface NodeSpec {
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  extra?: Record<string, string>;
  zone?: string;
  /** Images on the node: name → size in MB. */
  images?: Record<string, number>;
}

export function node(name: string, spec: NodeSpec = {}): Node {
  const labels: Record<string, string> = { 'kubernetes.io/hostname': name, ...(spec.zone ? { 'topology.kubernetes.io/zone': spec.zone } : {}), ...spec.labels };
  const allocatable = { cpu: spec.cpu ?? '4', memory: spec.memory ?? '8Gi', pods: String(spec.pods ?? 110), ...spec.extra };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `node-${name}`, labels },
    spec: { ...(spec.taints ? { taints: spec.taints } : {}), ...(spec.unschedulable ? { unschedulable: true } : {}) },
    status: {
      allocatable,
      capacity: allocatable,
      ...(spec.images ? { images: Object.entries(spec.images).map(([name, mb]) => ({ names: [name], sizeBytes: mb * 1024 * 1024 })) } : {}),
    },
  };
}

export interface PodSpec {
  namespace?: string;
  labels?: Record<string, string>;
  cpu?: string;
  memory?: string;
  requests?: Record<string, string>;
  containers?: Array<Record<string, string>>;
  initContainers?: Array<{ requests: Record<string, string>; restartPolicy?: string }>;
  overhead?: Record<string, string>;
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  affinity?: NonNullable<Pod['spec']>['affinity'];
  tolerations?: Toleration[];
  topologySpreadConstraints?: NonNullable<Pod['spec']>['topologySpreadConstraints'];
  hostPorts?: Array<{ hostPort: number; protocol?: string; hostIP?: string }>;
  priority?: number;
  preemptionPolicy?: string;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
  startTime?: string;
  image?: string;
}

export function pod(name: string, spec: PodSpec = {}): Pod {
  const requests = spec.requests ?? { ...(spec.cpu ? { cpu: spec.cpu } : {}), ...(spec.memory ? { memory: spec.memory } : {}) };
  const containers = (spec.containers ?? [requests]).map((r, i) => ({
    name: `c${i}`,
    image: spec.image ?? 'nginx',
    ...(Object.keys(r).length ? { resources: { requests: r } } : {}),
    ...(i === 0 && spec.hostPorts ? { ports: spec.hostPorts.map((p) => ({ containerPort: p.hostPort, ...p })) } : {}),
  }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: spec.namespace ?? 'default',
      uid: `pod-${++uidCounter}`,
      labels: spec.labels ?? {},
      creationTimestamp: '2026-01-01T00:00:00Z',
      ...(spec.ownerReferences ? { ownerReferences: spec.ownerReferences } : {}),
    },
    spec: {
      schedulerName: 'default-scheduler',
      containers,
      ...(spec.initContainers ? { initContainers: spec.initContainers.map((c, i) => ({ name: `init${i}`, resources: { requests: c.requests }, ...(c.restartPolicy ? { restartPolicy: c.restartPolicy } : {}) })) } : {}),
      ...(spec.overhead ? { overhead: spec.overhead } : {}),
      ...(spec.nodeName ? { nodeName: spec.nodeName } : {}),
      ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
      ...(spec.affinity ? { affinity: spec.affinity } : {}),
      ...(spec.tolerations ? { tolerations: spec.tolerations } : {}),
      ...(spec.topologySpreadConstraints ? { topologySpreadConstraints: spec.topologySpreadConstraints } : {}),
      ...(spec.priority !== undefined ? { priority: spec.priority } : {}),
      ...(spec.preemptionPolicy ? { preemptionPolicy: spec.preemptionPolicy } : {}),
    },
    status: { phase: spec.nodeName ? 'Running' : 'Pending', ...(spec.startTime ? { startTime: spec.startTime } : {}) },
  };
}

/** A cache holding `nodes` and the `pods` (each must name its node). */
export function cacheOf(nodes: Node[], pods: Pod[] = [], namespaces: Record<string, Record<string, string>> = {}): SchedulerCache {
  const cache = new SchedulerCache();
  for (const n of nodes) cache.setNode(n);
  for (const p of pods) cache.addPod(p);
  for (const [ns, labels] of Object.entries({ default: {}, ...namespaces })) cache.namespaceLabels.set(ns, labels);
  return cache;
}

/** mulberry32: a small seeded PRNG so tie-breaking is reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
