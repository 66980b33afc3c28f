/**
 * TaintToleration: a node's NoSchedule and NoExecute taints must be tolerated (filter); each
 * PreferNoSchedule taint the pod does not tolerate lowers the node's score.
 */
import type { Toleration } from '../api.js';
import type { NodeInfo } from '../cache.js';
import { defaultNormalizeScore, unresolvable, type CycleState, type FilterPlugin, type ScorePlugin, type Status } from '../framework.js';
import { firstUntoleratedTaint, tolerationsTolerateTaint } from '../matching.js';

export class TaintToleration implements FilterPlugin, ScorePlugin {
  readonly name = 'TaintToleration';
  constructor(readonly weight = 3) {}

  filter(state: CycleState, node: NodeInfo): Status | undefined {
    if (!node.taints.length) return undefined;
    const taint = firstUntoleratedTaint(node.taints, state.podInfo.tolerations);
    if (!taint) return undefined;
    return unresolvable(this.name, `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
  }

  preScore(state: CycleState): boolean {
    // Only tolerations that can tolerate PreferNoSchedule count (effect empty or PreferNoSchedule).
    const tolerations: Toleration[] = state.podInfo.tolerations.filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    state.write(this.name, tolerations);
    return true;
  }

  score(state: CycleState, node: NodeInfo): number {
    const tolerations = state.read<Toleration[]>(this.name) ?? [];
    let intolerable = 0;
    for (const taint of node.taints) {
      if (taint.effect !== 'PreferNoSchedule') continue;
      if (!tolerationsTolerateTaint(tolerations, taint)) intolerable++;
    }
    return intolerable;
  }

  normalize(_state: CycleState, _nodes: readonly NodeInfo[], scores: number[]): void {
    defaultNormalizeScore(scores, true);
  }
}
