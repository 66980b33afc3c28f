/**
 * Resource arithmetic of the overviews, free of React and HTTP (unit-tested on its own): nodes
 * reduced to health, capacity and allocatable; pods to phase and what they request of their node;
 * metrics.k8s.io objects to their usage. Objects are reduced as they arrive, so a watched
 * collection of thousands of pods keeps a few numbers each, not the objects.
 */
import { parseQuantity } from './quantity.js';
import type { K8sObject } from '../models/types.js';

export interface CpuMemory {
  /** Cores. */
  cpu: number;
  /** Bytes. */
  memory: number;
}

export const ZERO: CpuMemory = { cpu: 0, memory: 0 };

export const plus = (a: CpuMemory, b: CpuMemory): CpuMemory => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory });

export function resourcesOf(list: Record<string, unknown> | undefined): CpuMemory {
  return { cpu: parseQuantity(list?.cpu) ?? 0, memory: parseQuantity(list?.memory) ?? 0 };
}

export interface NodeSummary {
  name: string;
  ready: boolean;
  unschedulable: boolean;
  capacity: CpuMemory;
  allocatable: CpuMemory;
}

export function summarizeNode(node: K8sObject): NodeSummary {
  const ready = ((node.status?.conditions ?? []) as any[]).some((c) => c.type === 'Ready' && c.status === 'True');
  return {
    name: node.metadata.name,
    ready,
    unschedulable: !!node.spec?.unschedulable,
    capacity: resourcesOf(node.status?.capacity),
    allocatable: resourcesOf(node.status?.allocatable),
  };
}

/**
 * What a pod asks of its node, as the scheduler counts it (kube's resource.PodRequests): the
 * larger of its containers (with restartable init containers, "sidecars", which keep running) and
 * the peak of its init phase, where each ordinary init container runs beside the sidecars started
 * before it; plus the pod's overhead.
 */
export function podRequests(pod: K8sObject): CpuMemory {
  const spec = pod.spec ?? {};
  let containers = ZERO;
  for (const c of (spec.containers ?? []) as any[]) containers = plus(containers, resourcesOf(c.resources?.requests));
  let sidecars = ZERO;
  let initPeak = ZERO;
  for (const c of (spec.initContainers ?? []) as any[]) {
    const request = resourcesOf(c.resources?.requests);
    const during = c.restartPolicy === 'Always' ? (sidecars = plus(sidecars, request)) : plus(sidecars, request);
    initPeak = { cpu: Math.max(initPeak.cpu, during.cpu), memory: Math.max(initPeak.memory, during.memory) };
  }
  const running = plus(containers, sidecars);
  const overhead = resourcesOf(spec.overhead);
  return plus({ cpu: Math.max(running.cpu, initPeak.cpu), memory: Math.max(running.memory, initPeak.memory) }, overhead);
}

export interface PodSummary {
  name: string;
  namespace: string;
  phase: string;
  node?: string;
  requests: CpuMemory;
  /** Holds its node's resources: scheduled and not finished (Succeeded or Failed). */
  holdsResources: boolean;
}

export function summarizePod(pod: K8sObject): PodSummary {
  const phase = (pod.status?.phase as string | undefined) ?? 'Pending';
  const node = pod.spec?.nodeName as string | undefined;
  return {
    name: pod.metadata.name,
    namespace: pod.metadata.namespace ?? '',
    phase,
    node,
    requests: podRequests(pod),
    holdsResources: !!node && phase !== 'Succeeded' && phase !== 'Failed',
  };
}

/** Summed requests of the pods that hold node resources, optionally of one node. */
export function requestedBy(pods: Iterable<PodSummary>, node?: string): CpuMemory {
  let total = ZERO;
  for (const p of pods) if (p.holdsResources && (!node || p.node === node)) total = plus(total, p.requests);
  return total;
}

export function phaseCounts(pods: Iterable<PodSummary>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const p of pods) counts[p.phase] = (counts[p.phase] ?? 0) + 1;
  return counts;
}

/** A NodeMetrics' usage, or a PodMetrics' (the sum of its containers). */
export function usageOf(metrics: K8sObject | undefined): CpuMemory | undefined {
  if (!metrics) return undefined;
  if (metrics.usage) return resourcesOf(metrics.usage);
  if (Array.isArray(metrics.containers))
    return (metrics.containers as any[]).reduce<CpuMemory>((sum, c) => plus(sum, resourcesOf(c.usage)), ZERO);
  return undefined;
}

/** Summed usage of a metrics list. */
export function totalUsage(items: K8sObject[] | undefined): CpuMemory | undefined {
  if (!items) return undefined;
  return items.reduce<CpuMemory>((sum, m) => plus(sum, usageOf(m) ?? ZERO), ZERO);
}
