/**
 * Node selection as the DaemonSet controller applies it, on the scheduler's matching rules
 * (scheduler/matching.ts: required node affinity, tolerations against taints): whether a pod
 * template fits a node, and kube's way of pinning a daemon pod to its node through node affinity
 * on `metadata.name` so that the scheduler binds it.
 */
import { RequiredNodeAffinity, toleratesTaint } from './scheduler/matching.js';
import type { Pod as SchedulerPod } from './scheduler/api.js';
import type { Node, NodeSelectorTerm, PodSpec, Taint, Toleration } from './workload-types.js';

/** nodeaffinity.GetRequiredNodeAffinity(pod).Match(node): nodeSelector and required node affinity. */
export function podFitsNodeAffinity(spec: PodSpec, node: Node): boolean {
  const pod = { metadata: {}, spec } as unknown as SchedulerPod;
  return new RequiredNodeAffinity(pod).matches(node.metadata.name ?? '', node.metadata.labels ?? {});
}

/** FindMatchingUntoleratedTaint: the first taint passing `filter` that no toleration tolerates. */
export function findUntoleratedTaint(taints: Taint[] | undefined, tolerations: Toleration[] | undefined, filter: (t: Taint) => boolean): Taint | undefined {
  for (const taint of taints ?? []) {
    if (!filter(taint)) continue;
    if (!(tolerations ?? []).some((t) => toleratesTaint(t, taint))) return taint;
  }
  return undefined;
}

/**
 * util.ReplaceDaemonSetPodNodeNameNodeAffinity: required node affinity reduced to one term that
 * picks the node by name (the scheduler then binds the pod there); other affinity kinds stay.
 */
export function affinityForNode(affinity: PodSpec['affinity'], nodeName: string): NonNullable<PodSpec['affinity']> {
  const term: NodeSelectorTerm = { matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] };
  const out = structuredClone(affinity ?? {});
  out.nodeAffinity = { ...(out.nodeAffinity ?? {}), requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [term] } };
  return out;
}

/** util.GetTargetNodeName: the node a pod is bound to, or the one its `metadata.name` node affinity names. */
export function targetNodeName(spec: PodSpec | undefined): string | undefined {
  if (spec?.nodeName) return spec.nodeName;
  for (const term of spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}
