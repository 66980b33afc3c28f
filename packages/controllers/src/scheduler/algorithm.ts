/**
 * One scheduling cycle (kube's schedulePod): PreFilter, Filter over a rotating sample of the
 * nodes (percentageOfNodesToScore), PreScore/Score/NormalizeScore with the default profile's
 * weights, and a random choice among the best. When no node fits, the failure is explained as
 * kube explains it (`0/3 nodes are available: …`), and DefaultPreemption looks for lower-priority
 * pods whose eviction would make room.
 */
import type { Pod } from './api.js';
import { PodInfo, type NodeInfo, type SchedulerCache } from './cache.js';
import { CycleState, NO_WORKLOADS, unresolvable, type FilterPlugin, type ScorePlugin, type Status, type WorkloadListers } from './framework.js';
import { ImageLocality } from './plugins/image-locality.js';
import { NodeName, NodePorts, NodeUnschedulable } from './plugins/node-basics.js';
import { NodeAffinity } from './plugins/node-affinity.js';
import { NodeResourcesBalancedAllocation, NodeResourcesFit } from './plugins/node-resources.js';
import { InterPodAffinity } from './plugins/inter-pod-affinity.js';
import { PodTopologySpread } from './plugins/pod-topology-spread.js';
import { TaintToleration } from './plugins/taint-toleration.js';

/** The default profile: filters in kube's order, scores with kube's default weights. */
export function defaultPlugins(): { filters: FilterPlugin[]; scorers: ScorePlugin[] } {
  const taints = new TaintToleration(3);
  const nodeAffinity = new NodeAffinity(2);
  const fit = new NodeResourcesFit(1);
  const spread = new PodTopologySpread(2);
  const interPod = new InterPodAffinity(2);
  return {
    filters: [new NodeUnschedulable(), new NodeName(), taints, nodeAffinity, new NodePorts(), fit, spread, interPod],
    scorers: [taints, nodeAffinity, fit, new NodeResourcesBalancedAllocation(1), new ImageLocality(1), spread, interPod],
  };
}

export const NO_NODES_AVAILABLE = 'no nodes available to schedule pods';
const MIN_FEASIBLE_NODES_TO_FIND = 100;
const MIN_FEASIBLE_NODES_PERCENTAGE = 5;
const MAX_MESSAGE = 1024;

/** Why a pod fits nowhere (framework.FitError with its Diagnosis). */
export class FitError {
  /** Node name → the first failing filter's status. */
  readonly statuses = new Map<string, Status>();
  /** Status of the nodes a PreFilter excluded (they are not in `statuses`). */
  absentStatus?: Status;
  preFilterMsg = '';
  postFilterMsg = '';
  readonly unschedulablePlugins = new Set<string>();

  constructor(readonly numAllNodes: number) {}

  /** `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {k: v}. preemption: …` */
  get message(): string {
    let msg = `0/${this.numAllNodes} nodes are available:`;
    if (this.preFilterMsg) msg += ` ${this.preFilterMsg}.`;
    else {
      const histogram = new Map<string, number>();
      for (const status of this.statuses.values()) for (const r of status.reasons) histogram.set(r, (histogram.get(r) ?? 0) + 1);
      const absent = this.numAllNodes - this.statuses.size;
      if (absent > 0 && this.absentStatus) for (const r of this.absentStatus.reasons) histogram.set(r, (histogram.get(r) ?? 0) + absent);
      const parts = [...histogram].map(([r, n]) => `${n} ${r}`).sort(compareBytes);
      if (parts.length) msg += ` ${parts.join(', ')}.`;
    }
    if (this.postFilterMsg) msg += ` ${this.postFilterMsg}.`;
    return msg;
  }
}

/** Go's sort.Strings order (bytewise), not locale order. */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** kube truncates messages written to events and conditions. */
export function truncateMessage(message: string): string {
  if (message.length <= MAX_MESSAGE) return message;
  const suffix = ' ...';
  return message.slice(0, MAX_MESSAGE - suffix.length) + suffix;
}

export type ScheduleOutcome =
  | { kind: 'scheduled'; node: NodeInfo; podInfo: PodInfo; evaluated: number; feasible: number }
  | { kind: 'unschedulable'; error: FitError; podInfo: PodInfo; preemption?: PreemptionPlan }
  | { kind: 'noNodes'; podInfo: PodInfo };

/** What DefaultPreemption decided: make room on `node` by deleting `victims`. */
export interface PreemptionPlan {
  node: NodeInfo;
  victims: PodInfo[];
}

export interface AlgorithmOptions {
  /** Uniform [0,1) source for tie-breaking (seed it in tests). */
  random?: () => number;
  workloads?: WorkloadListers;
  /** 0: kube's adaptive percentage (50% − nodes/125, at least 5%). */
  percentageOfNodesToScore?: number;
  plugins?: { filters: FilterPlugin[]; scorers: ScorePlugin[] };
}

export class SchedulingAlgorithm {
  private readonly filters: FilterPlugin[];
  private readonly scorers: ScorePlugin[];
  private readonly random: () => number;
  private readonly workloads: WorkloadListers;
  private nextStartNodeIndex = 0;

  constructor(
    readonly cache: SchedulerCache,
    private readonly options: AlgorithmOptions = {},
  ) {
    const plugins = options.plugins ?? defaultPlugins();
    this.filters = plugins.filters;
    this.scorers = plugins.scorers;
    this.random = options.random ?? Math.random;
    this.workloads = options.workloads ?? NO_WORKLOADS;
  }

  /** numFeasibleNodesToFind: enough feasible nodes to score well without filtering all of a big cluster. */
  numFeasibleNodesToFind(numAllNodes: number): number {
    if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
    let percentage = this.options.percentageOfNodesToScore ?? 0;
    if (percentage <= 0) percentage = Math.max(MIN_FEASIBLE_NODES_PERCENTAGE, 50 - Math.trunc(numAllNodes / 125));
    if (percentage >= 100) return numAllNodes;
    return Math.max(MIN_FEASIBLE_NODES_TO_FIND, Math.trunc((numAllNodes * percentage) / 100));
  }

  schedule(pod: Pod): ScheduleOutcome {
    const podInfo = new PodInfo(pod);
    const nodes = this.cache.nodeList();
    if (!nodes.length) return { kind: 'noNodes', podInfo };
    const state = new CycleState(pod, podInfo, this.cache, this.workloads);
    const error = new FitError(nodes.length);

    const pre = this.runPreFilters(state, nodes);
    if ('rejected' in pre) {
      error.preFilterMsg = pre.rejected.reasons.join(', ');
      error.unschedulablePlugins.add(pre.rejected.plugin);
      for (const n of nodes) error.statuses.set(n.name, pre.rejected);
      return { kind: 'unschedulable', error, podInfo, preemption: this.postFilter(state, nodes, error) };
    }
    let candidates: readonly NodeInfo[] = nodes;
    if (pre.nodeNames) {
      candidates = [...pre.nodeNames].map((n) => this.cache.getNode(n)).filter((n): n is NodeInfo => !!n);
      error.absentStatus = unresolvable(pre.restrictedBy.join(','), `node(s) didn't satisfy plugin(s) [${pre.restrictedBy.sort().join(' ')}]`);
    }

    // A pod preemption nominated to a node tries that node first (evaluateNominatedNode).
    const nominated = pod.status?.nominatedNodeName ? this.cache.getNode(pod.status.nominatedNodeName) : undefined;
    if (nominated && candidates.includes(nominated) && !this.runFilters(state, nominated)) {
      return { kind: 'scheduled', node: nominated, podInfo, evaluated: 1, feasible: 1 };
    }

    const toFind = this.numFeasibleNodesToFind(candidates.length);
    const feasible: NodeInfo[] = [];
    let processed = 0;
    for (let i = 0; i < candidates.length && feasible.length < toFind; i++) {
      const node = candidates[(this.nextStartNodeIndex + i) % candidates.length];
      processed++;
      const status = this.runFilters(state, node);
      if (!status) feasible.push(node);
      else {
        error.statuses.set(node.name, status);
        error.unschedulablePlugins.add(status.plugin);
      }
    }
    this.nextStartNodeIndex = (this.nextStartNodeIndex + processed) % nodes.length;
    if (!feasible.length) {
      if (error.absentStatus) error.unschedulablePlugins.add(error.absentStatus.plugin);
      return { kind: 'unschedulable', error, podInfo, preemption: this.postFilter(state, nodes, error) };
    }
    if (feasible.length === 1) return { kind: 'scheduled', node: feasible[0], podInfo, evaluated: processed, feasible: 1 };
    const scores = this.prioritize(state, feasible, nodes);
    return { kind: 'scheduled', node: this.selectHost(feasible, scores), podInfo, evaluated: processed, feasible: feasible.length };
  }

  private runPreFilters(state: CycleState, nodes: readonly NodeInfo[]): { rejected: Status } | { nodeNames?: Set<string>; restrictedBy: string[] } {
    let nodeNames: Set<string> | undefined;
    const restrictedBy: string[] = [];
    for (const p of this.filters) {
      if (!p.preFilter) continue;
      const r = p.preFilter(state, nodes);
      if (!r) continue;
      if (r.status) return { rejected: r.status };
      if (r.skip) state.skipFilter.add(p.name);
      if (r.nodeNames) {
        nodeNames = nodeNames ? new Set([...nodeNames].filter((n) => r.nodeNames!.has(n))) : r.nodeNames;
        restrictedBy.push(p.name);
      }
    }
    return { nodeNames, restrictedBy };
  }

  /**
   * The first failing filter's status, or undefined when the node fits. With pods nominated to
   * the node (of at least this pod's priority) the filters run twice, as in kube: once with those
   * pods placed — their room is reserved — and once without, since a nominated pod may yet go
   * elsewhere and what it brings (say, affinity) cannot be counted on.
   */
  runFilters(state: CycleState, node: NodeInfo): Status | undefined {
    const nominated = this.cache.nominatedFor(node.name, state.podInfo.priority, state.podInfo.uid);
    if (nominated.length) {
      for (const p of nominated) this.cache.simulateRestore(p, node.name);
      try {
        const withNominated = new CycleState(state.pod, state.podInfo, this.cache, this.workloads);
        const pre = this.runPreFilters(withNominated, this.cache.nodeList());
        const status = 'rejected' in pre ? pre.rejected : this.runFiltersOnce(withNominated, node);
        if (status) return status;
      } finally {
        for (const p of nominated) this.cache.simulateRemove(p);
      }
    }
    return this.runFiltersOnce(state, node);
  }

  private runFiltersOnce(state: CycleState, node: NodeInfo): Status | undefined {
    for (const p of this.filters) {
      if (state.skipFilter.has(p.name)) continue;
      const status = p.filter(state, node);
      if (status) return status;
    }
    return undefined;
  }

  /** Weighted sum of every score plugin's normalised (0–100) scores, per feasible node. */
  prioritize(state: CycleState, feasible: readonly NodeInfo[], allNodes: readonly NodeInfo[]): number[] {
    const total = new Array<number>(feasible.length).fill(0);
    for (const p of this.scorers) {
      if (p.preScore && !p.preScore(state, feasible, allNodes)) continue;
      const scores = feasible.map((n) => p.score(state, n));
      p.normalize?.(state, feasible, scores);
      for (let i = 0; i < scores.length; i++) total[i] += scores[i] * p.weight;
    }
    return total;
  }

  /** The highest total; ties broken uniformly at random (reservoir sampling, as kube's selectHost). */
  private selectHost(nodes: readonly NodeInfo[], scores: readonly number[]): NodeInfo {
    let best = 0;
    let ties = 1;
    for (let i = 1; i < nodes.length; i++) {
      if (scores[i] > scores[best]) {
        best = i;
        ties = 1;
      } else if (scores[i] === scores[best]) {
        ties++;
        if (Math.floor(this.random() * ties) === 0) best = i;
      }
    }
    return nodes[best];
  }

  // ---- DefaultPreemption (PostFilter) --------------------------------------------------------

  /**
   * Looks for a node where deleting lower-priority pods lets the pod fit. Records kube's
   * `preemption: …` explanation in the FitError when there is none.
   */
  private postFilter(state: CycleState, nodes: readonly NodeInfo[], error: FitError): PreemptionPlan | undefined {
    const pod = state.pod;
    if (pod.spec?.preemptionPolicy === 'Never') {
      error.postFilterMsg = 'preemption: not eligible due to preemptionPolicy=Never.';
      return undefined;
    }
    const diagnosis = new FitError(nodes.length);
    diagnosis.absentStatus = unresolvable('DefaultPreemption', 'Preemption is not helpful for scheduling');
    const candidates: Array<{ node: NodeInfo; victims: PodInfo[] }> = [];
    for (const node of nodes) {
      const status = error.statuses.get(node.name) ?? error.absentStatus;
      // Preemption cannot help where the failure does not depend on other pods.
      if (!status || status.code === 'UnschedulableAndUnresolvable') continue;
      const result = this.selectVictimsOnNode(state, node);
      if ('victims' in result) candidates.push({ node, victims: result.victims });
      else diagnosis.statuses.set(node.name, result.status);
    }
    if (!candidates.length) {
      error.postFilterMsg = `preemption: ${diagnosis.message}`;
      return undefined;
    }
    return pickOneNodeForPreemption(candidates);
  }

  /**
   * selectVictimsOnNode: remove every lower-priority pod; if the pod then fits, put back as many
   * as possible, most important first. Works on the cache itself and restores it.
   */
  private selectVictimsOnNode(state: CycleState, node: NodeInfo): { victims: PodInfo[] } | { status: Status } {
    const priority = state.podInfo.priority;
    const lower = [...node.pods.values()].filter((p) => p.priority < priority);
    if (!lower.length) return { status: unresolvable('DefaultPreemption', 'No preemption victims found for incoming pod') };
    const cache = this.cache;
    const fits = () => {
      const s = new CycleState(state.pod, state.podInfo, cache, this.workloads);
      const pre = this.runPreFilters(s, cache.nodeList());
      if ('rejected' in pre) return pre.rejected;
      return this.runFilters(s, node);
    };
    for (const p of lower) cache.simulateRemove(p);
    try {
      const status = fits();
      if (status) return { status };
      const victims: PodInfo[] = [];
      for (const p of lower.sort(moreImportantFirst)) {
        cache.simulateRestore(p, node.name);
        if (fits()) {
          cache.simulateRemove(p);
          victims.push(p);
        }
      }
      return { victims };
    } finally {
      for (const p of lower) if (!p.node) cache.simulateRestore(p, node.name);
    }
  }
}

/** MoreImportantPod: higher priority first, then the one that started earlier. */
function moreImportantFirst(a: PodInfo, b: PodInfo): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return startTime(a) - startTime(b);
}

function startTime(p: PodInfo): number {
  const t = Date.parse(p.pod.status?.startTime ?? p.pod.metadata.creationTimestamp ?? '');
  return Number.isNaN(t) ? 0 : t;
}

/**
 * pickOneNodeForPreemption: the lowest highest-victim priority, then the lowest sum of victim
 * priorities, then the fewest victims, then the latest start among the highest-priority victims.
 */
function pickOneNodeForPreemption(candidates: Array<{ node: NodeInfo; victims: PodInfo[] }>): PreemptionPlan {
  const key = (c: { victims: PodInfo[] }) => {
    const highest = Math.max(...c.victims.map((v) => v.priority));
    const sum = c.victims.reduce((s, v) => s + v.priority + 2 ** 31, 0);
    const earliestOfHighest = Math.min(...c.victims.filter((v) => v.priority === highest).map(startTime));
    return [highest, sum, c.victims.length, -earliestOfHighest];
  };
  let best = candidates[0];
  let bestKey = key(best);
  for (const c of candidates.slice(1)) {
    const k = key(c);
    for (let i = 0; i < k.length; i++) {
      if (k[i] < bestKey[i]) {
        best = c;
        bestKey = k;
        break;
      }
      if (k[i] > bestKey[i]) break;
    }
  }
  return { node: best.node, victims: best.victims };
}
