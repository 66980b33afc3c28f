/**
 * The scheduling framework's extension points, reduced to what the in-tree default plugins use:
 * PreFilter/Filter (which nodes can run the pod) and PreScore/Score/NormalizeScore (which of
 * them is best). A cycle's per-pod state lives in CycleState; plugins compute it once in their
 * Pre* step so the per-node steps are cheap lookups.
 */
import type { Pod } from './api.js';
import type { NodeInfo, PodInfo, SchedulerCache } from './cache.js';

export const MAX_NODE_SCORE = 100;

export type StatusCode = 'Unschedulable' | 'UnschedulableAndUnresolvable';

/** Why a node cannot run the pod. UnschedulableAndUnresolvable: preemption cannot help. */
export interface Status {
  code: StatusCode;
  reasons: string[];
  plugin: string;
}

export function unschedulable(plugin: string, ...reasons: string[]): Status {
  return { code: 'Unschedulable', reasons, plugin };
}

export function unresolvable(plugin: string, ...reasons: string[]): Status {
  return { code: 'UnschedulableAndUnresolvable', reasons, plugin };
}

/** The objects the default topology spreading derives a selector from (services, controllers). */
export interface WorkloadListers {
  /** Selectors (spec.selector maps) of the services in a namespace. */
  serviceSelectors(namespace: string): Array<Record<string, string>>;
  /** The label selector (metav1.LabelSelector or an RC's map) of a pod's controller, if it is a ReplicaSet, StatefulSet or ReplicationController. */
  controllerSelector(namespace: string, kind: string, apiVersion: string, name: string): { matchLabels?: Record<string, string> | null; matchExpressions?: unknown[] | null } | undefined;
}

export const NO_WORKLOADS: WorkloadListers = {
  serviceSelectors: () => [],
  controllerSelector: () => undefined,
};

export class CycleState {
  private readonly data = new Map<string, unknown>();
  /** Plugins whose PreFilter said their Filter has nothing to check. */
  readonly skipFilter = new Set<string>();
  readonly skipScore = new Set<string>();

  constructor(
    readonly pod: Pod,
    readonly podInfo: PodInfo,
    readonly cache: SchedulerCache,
    readonly workloads: WorkloadListers = NO_WORKLOADS,
  ) {}

  read<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  write(key: string, value: unknown): void {
    this.data.set(key, value);
  }
}

export interface PreFilterResult {
  /** The plugin's Filter need not run for this pod. */
  skip?: boolean;
  /** The pod cannot be scheduled at all (reported for every node). */
  status?: Status;
  /** Only these nodes can pass (e.g. node affinity to node names). */
  nodeNames?: Set<string>;
}

export interface FilterPlugin {
  readonly name: string;
  preFilter?(state: CycleState, nodes: readonly NodeInfo[]): PreFilterResult | void;
  filter(state: CycleState, node: NodeInfo): Status | undefined;
}

export interface ScorePlugin {
  readonly name: string;
  readonly weight: number;
  /** Returns false when the plugin has nothing to score for this pod (its scores are then 0). */
  preScore?(state: CycleState, nodes: readonly NodeInfo[], allNodes: readonly NodeInfo[]): boolean;
  score(state: CycleState, node: NodeInfo): number;
  /** Rewrites the raw scores (in `nodes` order) into 0–100. */
  normalize?(state: CycleState, nodes: readonly NodeInfo[], scores: number[]): void;
}

/** helper.DefaultNormalizeScore: scale to 0–maxScore by the highest score, optionally reversed. */
export function defaultNormalizeScore(scores: number[], reverse: boolean, maxScore = MAX_NODE_SCORE): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  if (max === 0) {
    if (reverse) scores.fill(maxScore);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    const s = Math.trunc((maxScore * scores[i]) / max);
    scores[i] = reverse ? maxScore - s : s;
  }
}
