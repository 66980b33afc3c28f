/**
 * PodTopologySpread: with `whenUnsatisfiable: DoNotSchedule`, placing the pod in a domain must
 * not make that domain's count of matching pods exceed the global minimum by more than maxSkew
 * (filter); `ScheduleAnyway` constraints — or, for pods without constraints, kube's system
 * defaults (hostname maxSkew 3, zone maxSkew 5, over the pods of the same services and
 * controller) — favour less crowded domains (score).
 *
 * Counting walks the pods the constraint's selector matches in the pod's namespace (through the
 * cache's label index) rather than every pod on every node.
 */
import type { LabelSelector } from '@canopy/apimachinery';
import { LABEL_HOSTNAME, LABEL_ZONE, type Pod, type TopologySpreadConstraintJson } from '../api.js';
import type { NodeInfo, SchedulerCache } from '../cache.js';
import { MAX_NODE_SCORE, unresolvable, unschedulable, type CycleState, type FilterPlugin, type PreFilterResult, type ScorePlugin, type Status, type WorkloadListers } from '../framework.js';
import { firstUntoleratedTaint, matchesLabels, RequiredNodeAffinity, selectorIsEmpty, toSelector } from '../matching.js';


/** CycleState key of what PreScore computed for Score. */
const SCORE_STATE = 'PodTopologySpread/score';
export const ERR_SPREAD_CONSTRAINTS = "node(s) didn't match pod topology spread constraints";
export const ERR_SPREAD_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";

export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  selector: LabelSelector;
  minDomains: number;
  honorNodeAffinity: boolean;
  honorNodeTaints: boolean;
}

/** The system default constraints (ScheduleAnyway), applied to pods that declare none. */
const SYSTEM_DEFAULTS: Array<{ topologyKey: string; maxSkew: number }> = [
  { topologyKey: LABEL_HOSTNAME, maxSkew: 3 },
  { topologyKey: LABEL_ZONE, maxSkew: 5 },
];

export function spreadConstraints(pod: Pod, action: 'DoNotSchedule' | 'ScheduleAnyway'): SpreadConstraint[] {
  const labels = pod.metadata.labels ?? {};
  const out: SpreadConstraint[] = [];
  for (const c of pod.spec?.topologySpreadConstraints ?? []) {
    if (c.whenUnsatisfiable !== action) continue;
    out.push({
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      selector: withMatchLabelKeys(toSelector(c.labelSelector), c, labels),
      minDomains: c.minDomains ?? 1,
      honorNodeAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
      honorNodeTaints: (c.nodeTaintsPolicy ?? 'Ignore') === 'Honor',
    });
  }
  return out;
}

/** matchLabelKeys: `key in (the pod's value)` for each listed key the pod has. */
function withMatchLabelKeys(selector: LabelSelector, c: TopologySpreadConstraintJson, labels: Record<string, string>): LabelSelector {
  if (selector.nothing || !c.matchLabelKeys?.length) return selector;
  const extra = c.matchLabelKeys.filter((k) => k in labels).map((key) => ({ key, operator: 'in' as const, values: [labels[key]] }));
  return extra.length ? { requirements: [...selector.requirements, ...extra] } : selector;
}

/**
 * helper.DefaultSelector: the union of the selectors of the services selecting the pod, and of
 * its controlling ReplicaSet, StatefulSet or ReplicationController.
 */
export function defaultSelector(pod: Pod, workloads: WorkloadListers): LabelSelector {
  const namespace = pod.metadata.namespace ?? '';
  const labels = pod.metadata.labels ?? {};
  const set: Record<string, string> = {};
  for (const selector of workloads.serviceSelectors(namespace)) {
    const entries = Object.entries(selector);
    if (!entries.length || !entries.every(([k, v]) => labels[k] === v)) continue;
    Object.assign(set, selector);
  }
  const owner = pod.metadata.ownerReferences?.find((r) => r.controller);
  let extra: LabelSelector['requirements'] = [];
  if (owner) {
    const selector = workloads.controllerSelector(namespace, owner.kind, owner.apiVersion, owner.name);
    if (selector && owner.kind === 'ReplicationController') Object.assign(set, selector.matchLabels ?? {});
    else if (selector) {
      const s = toSelector(selector as Parameters<typeof toSelector>[0]);
      if (!s.nothing) extra = s.requirements;
    }
  }
  const requirements = Object.entries(set).map(([key, value]) => ({ key, operator: '=' as const, values: [value] }));
  return { requirements: [...requirements, ...extra] };
}

function hasAllKeys(node: NodeInfo, constraints: readonly SpreadConstraint[]): boolean {
  for (const c of constraints) if (!(c.topologyKey in node.labels)) return false;
  return true;
}

function includesNode(c: SpreadConstraint, node: NodeInfo, affinity: RequiredNodeAffinity, state: CycleState): boolean {
  if (c.honorNodeAffinity && !affinity.matches(node.name, node.labels)) return false;
  if (c.honorNodeTaints && firstUntoleratedTaint(node.taints, state.podInfo.tolerations)) return false;
  return true;
}

interface FilterState {
  constraints: SpreadConstraint[];
  /** Per constraint: matching pods per topology value, over the eligible domains. */
  domains: Array<Map<string, number>>;
  /** Per constraint: the global minimum used for the skew (0 below minDomains). */
  minMatch: number[];
  selfMatch: number[];
}

/** Matching non-terminating pods of the namespace, with the node each runs on. */
function* matchingPods(cache: SchedulerCache, namespace: string, selector: LabelSelector): Iterable<NodeInfo> {
  if (selectorIsEmpty(selector)) return;
  for (const pi of cache.podsMatching(namespace, selector)) {
    if (pi.terminating || !pi.node) continue;
    yield pi.node;
  }
}

export class PodTopologySpread implements FilterPlugin, ScorePlugin {
  readonly name = 'PodTopologySpread';
  private readonly labelStatus = unresolvable(this.name, ERR_SPREAD_LABEL);
  private readonly skewStatus = unschedulable(this.name, ERR_SPREAD_CONSTRAINTS);
  constructor(readonly weight = 2) {}

  preFilter(state: CycleState, nodes: readonly NodeInfo[]): PreFilterResult | void {
    const constraints = spreadConstraints(state.pod, 'DoNotSchedule');
    if (!constraints.length) return { skip: true };
    const affinity = new RequiredNodeAffinity(state.pod);
    const domains = constraints.map(() => new Map<string, number>());
    const eligible = constraints.map(() => new Uint8Array(nodes.length));
    for (const node of nodes) {
      if (!hasAllKeys(node, constraints)) continue;
      constraints.forEach((c, i) => {
        if (!includesNode(c, node, affinity, state)) return;
        eligible[i][node.index] = 1;
        const value = node.labels[c.topologyKey];
        if (!domains[i].has(value)) domains[i].set(value, 0);
      });
    }
    const namespace = state.podInfo.namespace;
    constraints.forEach((c, i) => {
      for (const node of matchingPods(state.cache, namespace, c.selector)) {
        if (node.index < 0 || !eligible[i][node.index] || nodes[node.index] !== node) continue;
        const value = node.labels[c.topologyKey];
        domains[i].set(value, (domains[i].get(value) ?? 0) + 1);
      }
    });
    const minMatch = constraints.map((c, i) => {
      if (domains[i].size < c.minDomains) return 0;
      let min = Number.MAX_SAFE_INTEGER;
      for (const n of domains[i].values()) if (n < min) min = n;
      return min;
    });
    const selfMatch = constraints.map((c) => (matchesLabels(c.selector, state.podInfo.labels) ? 1 : 0));
    state.write(this.name, { constraints, domains, minMatch, selfMatch } satisfies FilterState);
  }

  filter(state: CycleState, node: NodeInfo): Status | undefined {
    const s = state.read<FilterState>(this.name);
    if (!s) return undefined;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      const value = node.labels[c.topologyKey];
      if (value === undefined) return this.labelStatus;
      const skew = (s.domains[i].get(value) ?? 0) + s.selfMatch[i] - s.minMatch[i];
      if (skew > c.maxSkew) return this.skewStatus;
    }
    return undefined;
  }

  // ---- scoring -------------------------------------------------------------------------------

  preScore(state: CycleState, filtered: readonly NodeInfo[]): boolean {
    if (!filtered.length) return false;
    const declared = state.pod.spec?.topologySpreadConstraints ?? [];
    let constraints: SpreadConstraint[];
    if (declared.length) {
      constraints = spreadConstraints(state.pod, 'ScheduleAnyway');
    } else {
      const selector = defaultSelector(state.pod, state.workloads);
      if (!selector.requirements.length) return false;
      constraints = SYSTEM_DEFAULTS.map((d) => ({ ...d, selector, minDomains: 1, honorNodeAffinity: true, honorNodeTaints: false }));
    }
    if (!constraints.length) return false;
    // Pods with their own constraints need every topology key on a node; system defaults do not.
    const requireAll = declared.length > 0;
    const ignored = new Set<NodeInfo>();
    const pairs = constraints.map(() => new Map<string, number>());
    for (const node of filtered) {
      if (requireAll && !hasAllKeys(node, constraints)) {
        ignored.add(node);
        continue;
      }
      constraints.forEach((c, i) => {
        if (c.topologyKey === LABEL_HOSTNAME) return;
        const value = node.labels[c.topologyKey] ?? '';
        if (!pairs[i].has(value)) pairs[i].set(value, 0);
      });
    }
    const weights = constraints.map((c, i) => Math.log((c.topologyKey === LABEL_HOSTNAME ? filtered.length - ignored.size : pairs[i].size) + 2));
    const affinity = new RequiredNodeAffinity(state.pod);
    const hostCounts = constraints.map(() => new Map<NodeInfo, number>());
    const included = new Map<NodeInfo, boolean[]>();
    const namespace = state.podInfo.namespace;
    constraints.forEach((c, i) => {
      for (const node of matchingPods(state.cache, namespace, c.selector)) {
        if (c.topologyKey === LABEL_HOSTNAME) {
          hostCounts[i].set(node, (hostCounts[i].get(node) ?? 0) + 1);
          continue;
        }
        let flags = included.get(node);
        if (!flags) {
          const all = !requireAll || hasAllKeys(node, constraints);
          flags = constraints.map((cc) => all && includesNode(cc, node, affinity, state));
          included.set(node, flags);
        }
        if (!flags[i]) continue;
        const value = node.labels[c.topologyKey] ?? '';
        const count = pairs[i].get(value);
        if (count !== undefined) pairs[i].set(value, count + 1);
      }
    });
    state.write(SCORE_STATE, { constraints, ignored, pairs, weights, hostCounts });
    return true;
  }

  score(state: CycleState, node: NodeInfo): number {
    const s = state.read<{
      constraints: SpreadConstraint[];
      ignored: Set<NodeInfo>;
      pairs: Array<Map<string, number>>;
      weights: number[];
      hostCounts: Array<Map<NodeInfo, number>>;
    }>(SCORE_STATE);
    if (!s || s.ignored.has(node)) return 0;
    let score = 0;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      const value = node.labels[c.topologyKey];
      if (value === undefined) continue;
      const count = c.topologyKey === LABEL_HOSTNAME ? (s.hostCounts[i].get(node) ?? 0) : (s.pairs[i].get(value) ?? 0);
      score += count * s.weights[i] + (c.maxSkew - 1);
    }
    return Math.round(score);
  }

  /** Fewer matching pods is better: maxScore × (max + min − score) / max; ignored nodes get 0. */
  normalize(state: CycleState, nodes: readonly NodeInfo[], scores: number[]): void {
    const ignored = state.read<{ ignored: Set<NodeInfo> }>(SCORE_STATE)?.ignored ?? new Set<NodeInfo>();
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    nodes.forEach((node, i) => {
      if (ignored.has(node)) return;
      if (scores[i] < min) min = scores[i];
      if (scores[i] > max) max = scores[i];
    });
    nodes.forEach((node, i) => {
      if (ignored.has(node)) scores[i] = 0;
      else if (max === 0) scores[i] = MAX_NODE_SCORE;
      else scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - scores[i])) / max);
    });
  }
}
