/**
 * The resource usage model. Each container gets a profile from its requests, limits and
 * annotations, with deterministic noise from the simulator's seed: CPU follows a mean with two
 * sine waves (so the cumulative CPU counter has a closed form and rates over any window agree
 * with it), memory ramps up after start to a target and wobbles a little around it. Nothing is
 * sampled or stored per tick: any figure at any time is computed on demand, which is what lets
 * 30,000 idle pods cost nothing.
 *
 * - CPU mean: the `cpu-usage` annotation; else 20–80 % of the request; else 10–40 % of the
 *   limit; else 2–30 millicores. Never above the limit: an annotated mean above it runs flat at
 *   the limit and counts as throttled.
 * - Memory target: the `memory-usage` annotation; else 40–90 % of the request; else 20–50 % of
 *   the limit; else 20–150 MiB; kept under 95 % of the limit unless annotated. An annotated
 *   target above the limit makes the container OOMKilled when the ramp crosses the limit.
 */
import { parseQuantity } from '@canopy/apimachinery';
import { Annotations, containerQuantity } from './annotations.js';
import type { KubeObject } from '@canopy/apimachinery';
import { between } from './random.js';

const MiB = 1024 * 1024;
/** Memory ramps from 30 % of the target to the target over this time after start. */
const MEMORY_RAMP_S = 20;
const MEMORY_RAMP_FLOOR = 0.3;
const MEMORY_WOBBLE = 0.03;

export interface ContainerResources {
  cpuRequest?: number;
  cpuLimit?: number;
  memoryRequest?: number;
  memoryLimit?: number;
}

export interface UsageProfile {
  /** Mean CPU in cores. */
  cpuMean: number;
  cpuLimit?: number;
  /** The annotated mean exceeded the limit: usage runs flat at the limit. */
  throttled: boolean;
  waves: Array<{ amplitude: number; periodS: number; phase: number }>;
  /** Working set the container settles at, in bytes. */
  memoryTarget: number;
  memoryLimit?: number;
  memoryPhase: number;
  memoryPeriodS: number;
  /** Seconds after start at which the working set crosses the limit (OOMKilled), if it does. */
  oomAfterS?: number;
}

type Obj = Record<string, unknown>;

function quantity(value: unknown): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    return parseQuantity(value).asApproximateNumber();
  } catch {
    return undefined;
  }
}

export function containerResources(container: Obj): ContainerResources {
  const resources = (container.resources ?? {}) as { requests?: Obj; limits?: Obj };
  const requests = resources.requests ?? {};
  const limits = resources.limits ?? {};
  // kube defaults a missing request to the limit.
  const cpuLimit = quantity(limits.cpu);
  const memoryLimit = quantity(limits.memory);
  return {
    cpuRequest: quantity(requests.cpu) ?? cpuLimit,
    cpuLimit,
    memoryRequest: quantity(requests.memory) ?? memoryLimit,
    memoryLimit,
  };
}

export function usageProfile(seed: string, pod: KubeObject, container: Obj, init: boolean): UsageProfile {
  const name = String(container.name ?? '');
  const key = [seed, pod.metadata.uid ?? pod.metadata.name ?? '', name];
  const r = containerResources(container);
  const waves = [
    { amplitude: between(0.1, 0.25, ...key, 'a1'), periodS: between(60, 300, ...key, 't1'), phase: between(0, 2 * Math.PI, ...key, 'p1') },
    { amplitude: between(0.03, 0.1, ...key, 'a2'), periodS: between(7, 23, ...key, 't2'), phase: between(0, 2 * Math.PI, ...key, 'p2') },
  ];
  const peak = 1 + waves[0].amplitude + waves[1].amplitude;

  const annotatedCpu = containerQuantity(pod, Annotations.cpuUsage, name, init);
  let cpuMean: number;
  if (annotatedCpu !== undefined) cpuMean = Math.max(0, annotatedCpu);
  else if (r.cpuRequest) cpuMean = r.cpuRequest * between(0.2, 0.8, ...key, 'cpu');
  else if (r.cpuLimit) cpuMean = r.cpuLimit * between(0.1, 0.4, ...key, 'cpu');
  else cpuMean = between(0.002, 0.03, ...key, 'cpu');
  if (init) cpuMean = Math.min(cpuMean, 0.05);
  let throttled = false;
  if (r.cpuLimit !== undefined && cpuMean * peak > r.cpuLimit) {
    if (annotatedCpu !== undefined && annotatedCpu >= r.cpuLimit) {
      throttled = true;
      cpuMean = r.cpuLimit;
      for (const w of waves) w.amplitude = 0;
    } else {
      cpuMean = r.cpuLimit / peak;
    }
  }

  const annotatedMemory = containerQuantity(pod, Annotations.memoryUsage, name, init);
  let memoryTarget: number;
  if (annotatedMemory !== undefined) memoryTarget = Math.max(MiB, annotatedMemory);
  else if (r.memoryRequest) memoryTarget = r.memoryRequest * between(0.4, 0.9, ...key, 'mem');
  else if (r.memoryLimit) memoryTarget = r.memoryLimit * between(0.2, 0.5, ...key, 'mem');
  else memoryTarget = between(20, 150, ...key, 'mem') * MiB;
  if (init && annotatedMemory === undefined) memoryTarget = Math.min(memoryTarget, 8 * MiB);
  let oomAfterS: number | undefined;
  if (r.memoryLimit !== undefined) {
    if (annotatedMemory !== undefined && memoryTarget > r.memoryLimit) {
      const fraction = r.memoryLimit / memoryTarget;
      oomAfterS = Math.max(1, (MEMORY_RAMP_S * (fraction - MEMORY_RAMP_FLOOR)) / (1 - MEMORY_RAMP_FLOOR));
    } else {
      memoryTarget = Math.min(memoryTarget, (r.memoryLimit * 0.95) / (1 + MEMORY_WOBBLE));
    }
  }
  return {
    cpuMean,
    cpuLimit: r.cpuLimit,
    throttled,
    waves,
    memoryTarget,
    memoryLimit: r.memoryLimit,
    memoryPhase: between(0, 2 * Math.PI, ...key, 'mp'),
    memoryPeriodS: between(30, 120, ...key, 'mt'),
    oomAfterS,
  };
}

/** CPU in cores `t` seconds after the container started. */
export function cpuAt(p: UsageProfile, t: number): number {
  let factor = 1;
  for (const w of p.waves) factor += w.amplitude * Math.sin((2 * Math.PI * t) / w.periodS + w.phase);
  return p.cpuMean * factor;
}

/** Cumulative CPU seconds over the first `t` seconds of the container (the integral of cpuAt). */
export function cpuSeconds(p: UsageProfile, t: number): number {
  if (t <= 0) return 0;
  let total = t;
  for (const w of p.waves) {
    const k = (2 * Math.PI) / w.periodS;
    total += (w.amplitude / k) * (Math.cos(w.phase) - Math.cos(k * t + w.phase));
  }
  return p.cpuMean * total;
}

/** Mean CPU in cores over the window ending `t` seconds after start (as metrics-server computes it). */
export function cpuRate(p: UsageProfile, t: number, windowS: number): number {
  const from = Math.max(0, t - windowS);
  if (t <= from) return cpuAt(p, Math.max(0, t));
  return (cpuSeconds(p, t) - cpuSeconds(p, from)) / (t - from);
}

/** Working set in bytes `t` seconds after start (page aligned, as the kernel accounts it). */
export function memoryAt(p: UsageProfile, t: number): number {
  const ramp = MEMORY_RAMP_FLOOR + (1 - MEMORY_RAMP_FLOOR) * Math.min(1, Math.max(0, t) / MEMORY_RAMP_S);
  let bytes = p.memoryTarget * ramp * (1 + MEMORY_WOBBLE * Math.sin((2 * Math.PI * t) / p.memoryPeriodS + p.memoryPhase));
  if (p.memoryLimit !== undefined && p.oomAfterS === undefined) bytes = Math.min(bytes, p.memoryLimit * 0.98);
  if (p.memoryLimit !== undefined && p.oomAfterS !== undefined && t >= p.oomAfterS) bytes = p.memoryLimit;
  return Math.floor(bytes / 4096) * 4096;
}

/**
 * The rest of cAdvisor's memory figures from the working set: usage includes inactive page
 * cache, RSS is the anonymous part.
 */
export function memoryBreakdown(workingSet: number): { usage: number; rss: number; cache: number; mappedFile: number } {
  const cache = Math.floor((workingSet * 0.18) / 4096) * 4096;
  const rss = Math.floor((workingSet * 0.82) / 4096) * 4096;
  return { usage: workingSet + Math.floor((workingSet * 0.07) / 4096) * 4096, rss, cache, mappedFile: Math.floor((workingSet * 0.04) / 4096) * 4096 };
}

/** What the node itself uses beyond its pods (kubelet, runtime, system daemons). */
export interface NodeOverhead {
  cpuCores: number;
  memoryBytes: number;
}

export function nodeOverhead(seed: string, node: string): NodeOverhead {
  return { cpuCores: between(0.08, 0.25, seed, node, 'cpu'), memoryBytes: Math.floor(between(900, 1600, seed, node, 'mem')) * MiB };
}
