/**
 * InterPodAffinity: required pod affinity (some matching pod in the node's topology domain),
 * required anti-affinity (none there), and the anti-affinity of pods already placed against the
 * incoming pod (filter); preferred terms of both sides, and existing pods' required affinity at
 * weight 1, as a score per topology domain.
 *
 * PreFilter counts matching pods per topology pair once — walking only the pods the terms'
 * selectors match (label index) and the pods that carry anti-affinity — so Filter is a lookup.
 */
import type { NodeInfo } from '../cache.js';
import { MAX_NODE_SCORE, unresolvable, unschedulable, type CycleState, type FilterPlugin, type PreFilterResult, type ScorePlugin, type Status } from '../framework.js';
import { termMatches, type AffinityTerm, type Labels, type WeightedAffinityTerm } from '../matching.js';


/** CycleState key of what PreScore computed for Score. */
const SCORE_STATE = 'InterPodAffinity/score';
export const ERR_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

/** kube's HardPodAffinityWeight default: existing pods' required affinity counts this much in scoring. */
const HARD_POD_AFFINITY_WEIGHT = 1;

const pairKey = (key: string, value: string) => `${key}\u0000${value}`;

function increment(m: Map<string, number>, key: string, by = 1): void {
  const next = (m.get(key) ?? 0) + by;
  if (next === 0) m.delete(key);
  else m.set(key, next);
}

interface FilterState {
  affinityTerms: AffinityTerm[];
  antiAffinityTerms: AffinityTerm[];
  affinityCounts: Map<string, number>;
  antiAffinityCounts: Map<string, number>;
  /** Topology pairs (key, value) where an existing pod's anti-affinity rejects the incoming pod. */
  existingAnti: Array<[string, string]>;
  /** The pod matches all its own affinity terms (it may be the first of a group). */
  matchesOwnAffinity: boolean;
}

export class InterPodAffinity implements FilterPlugin, ScorePlugin {
  readonly name = 'InterPodAffinity';
  private readonly affinityStatus = unresolvable(this.name, ERR_AFFINITY);
  private readonly antiStatus = unschedulable(this.name, ERR_ANTI_AFFINITY);
  private readonly existingStatus = unschedulable(this.name, ERR_EXISTING_ANTI_AFFINITY);
  constructor(readonly weight = 2) {}

  /**
   * The incoming pod's terms with their namespaceSelector resolved to namespaces now, so they
   * can be matched without namespace labels (mergeAffinityTermNamespacesIfNotEmpty).
   */
  private mergedTerms<T extends AffinityTerm>(state: CycleState, terms: readonly T[]): T[] {
    return terms.map((t) => {
      if (t.namespaceSelector.nothing) return t;
      const namespaces = new Set(t.namespaces);
      for (const ns of state.cache.namespacesMatching(t.namespaceSelector)) namespaces.add(ns);
      return { ...t, namespaces, namespaceSelector: { requirements: [], nothing: true } };
    });
  }

  private namespaceLabels(state: CycleState): Labels {
    return state.cache.namespaceLabels.get(state.podInfo.namespace) ?? {};
  }

  preFilter(state: CycleState): PreFilterResult | void {
    const pod = state.podInfo;
    const nsLabels = this.namespaceLabels(state);
    const existing = new Map<string, number>();
    for (const other of state.cache.podsWithRequiredAntiAffinity) {
      const node = other.node;
      if (!node?.node) continue;
      for (const term of other.requiredAntiAffinityTerms) {
        if (!termMatches(term, pod.namespace, pod.labels, nsLabels)) continue;
        const value = node.labels[term.topologyKey];
        if (value !== undefined) increment(existing, pairKey(term.topologyKey, value));
      }
    }
    const affinityTerms = this.mergedTerms(state, pod.requiredAffinityTerms);
    const antiAffinityTerms = this.mergedTerms(state, pod.requiredAntiAffinityTerms);
    if (!existing.size && !affinityTerms.length && !antiAffinityTerms.length) return { skip: true };

    const affinityCounts = new Map<string, number>();
    if (affinityTerms.length) {
      // A pod counts toward affinity only if it matches every term (updateWithAffinityTerms).
      for (const other of state.cache.podsMatchingTerm(affinityTerms[0])) {
        if (!affinityTerms.every((t) => termMatches(t, other.namespace, other.labels, undefined))) continue;
        const node = other.node!;
        for (const t of affinityTerms) {
          const value = node.labels[t.topologyKey];
          if (value !== undefined) increment(affinityCounts, pairKey(t.topologyKey, value));
        }
      }
    }
    const antiAffinityCounts = new Map<string, number>();
    for (const t of antiAffinityTerms) {
      for (const other of state.cache.podsMatchingTerm(t)) {
        const value = other.node!.labels[t.topologyKey];
        if (value !== undefined) increment(antiAffinityCounts, pairKey(t.topologyKey, value));
      }
    }
    const existingAnti: Array<[string, string]> = [];
    for (const [key, count] of existing) {
      if (count <= 0) continue;
      const sep = key.indexOf('\u0000');
      existingAnti.push([key.slice(0, sep), key.slice(sep + 1)]);
    }
    const matchesOwnAffinity = affinityTerms.length > 0 && affinityTerms.every((t) => termMatches(t, pod.namespace, pod.labels, undefined));
    state.write(this.name, { affinityTerms, antiAffinityTerms, affinityCounts, antiAffinityCounts, existingAnti, matchesOwnAffinity } satisfies FilterState);
  }

  filter(state: CycleState, node: NodeInfo): Status | undefined {
    const s = state.read<FilterState>(this.name);
    if (!s) return undefined;
    if (!this.satisfiesAffinity(s, node)) return this.affinityStatus;
    if (s.antiAffinityCounts.size) {
      for (const t of s.antiAffinityTerms) {
        const value = node.labels[t.topologyKey];
        if (value !== undefined && (s.antiAffinityCounts.get(pairKey(t.topologyKey, value)) ?? 0) > 0) return this.antiStatus;
      }
    }
    for (const [key, value] of s.existingAnti) if (node.labels[key] === value) return this.existingStatus;
    return undefined;
  }

  private satisfiesAffinity(s: FilterState, node: NodeInfo): boolean {
    let podsExist = true;
    for (const t of s.affinityTerms) {
      const value = node.labels[t.topologyKey];
      // Every topology key must exist on the node.
      if (value === undefined) return false;
      if ((s.affinityCounts.get(pairKey(t.topologyKey, value)) ?? 0) <= 0) podsExist = false;
    }
    if (podsExist) return true;
    // The first pod of a group with affinity to itself: allowed when no pod anywhere matches yet.
    return s.affinityCounts.size === 0 && s.matchesOwnAffinity;
  }

  // ---- scoring -------------------------------------------------------------------------------

  preScore(state: CycleState): boolean {
    const pod = state.podInfo;
    const preferred = this.mergedTerms(state, pod.preferredAffinityTerms);
    const preferredAnti = this.mergedTerms(state, pod.preferredAntiAffinityTerms);
    if (!preferred.length && !preferredAnti.length && !state.cache.podsWithAffinity.size) return false;
    const scores = new Map<string, Map<string, number>>();
    const add = (key: string, value: string | undefined, by: number) => {
      if (value === undefined || by === 0) return;
      let m = scores.get(key);
      if (!m) scores.set(key, (m = new Map()));
      m.set(value, (m.get(value) ?? 0) + by);
    };
    const incoming = (terms: WeightedAffinityTerm[], sign: number) => {
      for (const t of terms) for (const other of state.cache.podsMatchingTerm(t)) add(t.topologyKey, other.node!.labels[t.topologyKey], sign * t.weight);
    };
    incoming(preferred, 1);
    incoming(preferredAnti, -1);
    const nsLabels = this.namespaceLabels(state);
    for (const other of state.cache.podsWithAffinity) {
      const node = other.node;
      if (!node?.node) continue;
      for (const t of other.requiredAffinityTerms) {
        if (termMatches(t, pod.namespace, pod.labels, nsLabels)) add(t.topologyKey, node.labels[t.topologyKey], HARD_POD_AFFINITY_WEIGHT);
      }
      for (const t of other.preferredAffinityTerms) {
        if (termMatches(t, pod.namespace, pod.labels, nsLabels)) add(t.topologyKey, node.labels[t.topologyKey], t.weight);
      }
      for (const t of other.preferredAntiAffinityTerms) {
        if (termMatches(t, pod.namespace, pod.labels, nsLabels)) add(t.topologyKey, node.labels[t.topologyKey], -t.weight);
      }
    }
    if (!scores.size) return false;
    state.write(SCORE_STATE, scores);
    return true;
  }

  score(state: CycleState, node: NodeInfo): number {
    const scores = state.read<Map<string, Map<string, number>>>(SCORE_STATE);
    if (!scores) return 0;
    let score = 0;
    for (const [key, values] of scores) {
      const value = node.labels[key];
      if (value !== undefined) score += values.get(value) ?? 0;
    }
    return score;
  }

  /** Min–max scaling to 0–100 (all equal: 0). */
  normalize(_state: CycleState, _nodes: readonly NodeInfo[], scores: number[]): void {
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      if (s < min) min = s;
      if (s > max) max = s;
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.trunc((MAX_NODE_SCORE * (scores[i] - min)) / diff) : 0;
  }
}
