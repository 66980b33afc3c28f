/**
 * NodeResourcesFit: the pod's requests must fit the node's allocatable minus what the pods on it
 * (bound and assumed) request, and the node's pod count must allow one more (filter); nodes with
 * more left score higher (LeastAllocated over cpu and memory, weight 1 each).
 * NodeResourcesBalancedAllocation: nodes whose cpu and memory fractions stay close score higher.
 */
import type { NodeInfo } from '../cache.js';
import { MAX_NODE_SCORE, unschedulable, type CycleState, type FilterPlugin, type ScorePlugin, type Status } from '../framework.js';

export const ERR_TOO_MANY_PODS = 'Too many pods';

export class NodeResourcesFit implements FilterPlugin, ScorePlugin {
  readonly name = 'NodeResourcesFit';
  private readonly tooManyPods = unschedulable(this.name, ERR_TOO_MANY_PODS);
  constructor(readonly weight = 1) {}

  filter(state: CycleState, node: NodeInfo): Status | undefined {
    const req = state.podInfo.requests;
    let reasons: string[] | undefined;
    if (node.pods.size + 1 > node.allowedPods) reasons = [ERR_TOO_MANY_PODS];
    if (req.milliCPU === 0 && req.memory === 0 && req.ephemeralStorage === 0 && !req.scalar?.size) {
      return reasons ? this.tooManyPods : undefined;
    }
    const free = node.allocatable;
    const used = node.requested;
    if (req.milliCPU > 0 && req.milliCPU > free.milliCPU - used.milliCPU) (reasons ??= []).push('Insufficient cpu');
    if (req.memory > 0 && req.memory > free.memory - used.memory) (reasons ??= []).push('Insufficient memory');
    if (req.ephemeralStorage > 0 && req.ephemeralStorage > free.ephemeralStorage - used.ephemeralStorage) (reasons ??= []).push('Insufficient ephemeral-storage');
    if (req.scalar) {
      for (const name of [...req.scalar.keys()].sort()) {
        const want = req.scalar.get(name) ?? 0;
        if (want === 0) continue;
        if (want > (free.scalar?.get(name) ?? 0) - (used.scalar?.get(name) ?? 0)) (reasons ??= []).push(`Insufficient ${name}`);
      }
    }
    return reasons ? unschedulable(this.name, ...reasons) : undefined;
  }

  /** LeastAllocated: (allocatable − requested) × 100 / allocatable, averaged over cpu and memory. */
  score(state: CycleState, node: NodeInfo): number {
    const pod = state.podInfo;
    let score = 0;
    let weights = 0;
    const cpu = node.allocatable.milliCPU;
    if (cpu > 0) {
      score += leastRequested(node.nonZeroCPU + pod.nonZeroCPU, cpu);
      weights++;
    }
    const memory = node.allocatable.memory;
    if (memory > 0) {
      score += leastRequested(node.nonZeroMemory + pod.nonZeroMemory, memory);
      weights++;
    }
    return weights ? Math.trunc(score / weights) : 0;
  }
}

function leastRequested(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

export class NodeResourcesBalancedAllocation implements ScorePlugin {
  readonly name = 'NodeResourcesBalancedAllocation';
  constructor(readonly weight = 1) {}

  /** Best-effort pods are not scored: they would pile onto whichever node is balanced now (kubernetes#129138). */
  preScore(state: CycleState): boolean {
    const req = state.podInfo.requests;
    return req.milliCPU !== 0 || req.memory !== 0;
  }

  score(state: CycleState, node: NodeInfo): number {
    const req = state.podInfo.requests;
    const fractions: number[] = [];
    if (node.allocatable.milliCPU > 0) fractions.push(Math.min(1, (node.requested.milliCPU + req.milliCPU) / node.allocatable.milliCPU));
    if (node.allocatable.memory > 0) fractions.push(Math.min(1, (node.requested.memory + req.memory) / node.allocatable.memory));
    const std = fractions.length === 2 ? Math.abs((fractions[0] - fractions[1]) / 2) : 0;
    return Math.trunc((1 - std) * MAX_NODE_SCORE);
  }
}
