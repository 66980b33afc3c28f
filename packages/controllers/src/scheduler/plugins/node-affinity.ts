/**
 * NodeAffinity: spec.nodeSelector and required node affinity (filter; node-name terms narrow the
 * candidate nodes in PreFilter), preferred node affinity weights (score).
 */
import type { NodeInfo } from '../cache.js';
import { defaultNormalizeScore, unresolvable, type CycleState, type FilterPlugin, type PreFilterResult, type ScorePlugin, type Status } from '../framework.js';
import { compileNodeSelectorTerm, nodeSelectorTermMatches, RequiredNodeAffinity, type CompiledNodeSelectorTerm } from '../matching.js';


/** CycleState key of what PreScore computed for Score. */
const PREFERRED_STATE = 'NodeAffinity/preferred';
export const ERR_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const ERR_NODE_AFFINITY_CONFLICT = 'pod affinity terms conflict';

export class NodeAffinity implements FilterPlugin, ScorePlugin {
  readonly name = 'NodeAffinity';
  private readonly status = unresolvable(this.name, ERR_NODE_AFFINITY);
  constructor(readonly weight = 2) {}

  preFilter(state: CycleState): PreFilterResult | void {
    const required = new RequiredNodeAffinity(state.pod);
    if (required.isEmpty) return { skip: true };
    state.write(this.name, required);
    const names = required.nodeNames();
    if (names && !names.size) return { status: unresolvable(this.name, ERR_NODE_AFFINITY_CONFLICT) };
    if (names) return { nodeNames: names };
  }

  filter(state: CycleState, node: NodeInfo): Status | undefined {
    const required = state.read<RequiredNodeAffinity>(this.name);
    if (!required || required.matches(node.name, node.labels)) return undefined;
    return this.status;
  }

  preScore(state: CycleState): boolean {
    const preferred = state.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    const terms: Array<{ weight: number; term: CompiledNodeSelectorTerm }> = [];
    for (const p of preferred) {
      // Terms of weight 0 and empty preferences are no-ops (NewPreferredSchedulingTerms).
      if (!p?.weight || !p.preference || (!p.preference.matchExpressions?.length && !p.preference.matchFields?.length)) continue;
      terms.push({ weight: p.weight, term: compileNodeSelectorTerm(p.preference) });
    }
    if (!terms.length) return false;
    state.write(PREFERRED_STATE, terms);
    return true;
  }

  score(state: CycleState, node: NodeInfo): number {
    const terms = state.read<Array<{ weight: number; term: CompiledNodeSelectorTerm }>>(PREFERRED_STATE) ?? [];
    let score = 0;
    for (const t of terms) if (nodeSelectorTermMatches(t.term, node.name, node.labels)) score += t.weight;
    return score;
  }

  normalize(_state: CycleState, _nodes: readonly NodeInfo[], scores: number[]): void {
    defaultNormalizeScore(scores, false);
  }
}
