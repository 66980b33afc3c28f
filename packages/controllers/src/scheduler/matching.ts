/**
 * Matching rules shared by the filters and scores: node selector terms (component-helpers'
 * nodeaffinity), tolerations against taints (v1helper), and pod affinity terms
 * (framework.AffinityTerm).
 */
import { labelSelectorFromObject, matchesLabels, type LabelSelector } from '@canopy/apimachinery';
import type { LabelSelectorJson, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodAffinityTermJson, Taint, Toleration } from './api.js';

export type Labels = Record<string, string>;

const NOTHING: LabelSelector = { requirements: [], nothing: true };
const EVERYTHING: LabelSelector = { requirements: [] };

/** metav1.LabelSelectorAsSelector; an invalid selector selects nothing (the API server validated it). */
export function toSelector(selector: LabelSelectorJson | null | undefined): LabelSelector {
  if (selector === null || selector === undefined) return NOTHING;
  try {
    const s = labelSelectorFromObject(selector);
    return s.requirements.length ? s : EVERYTHING;
  } catch {
    return NOTHING;
  }
}

export function selectorIsEmpty(s: LabelSelector): boolean {
  return !s.nothing && s.requirements.length === 0;
}

export { matchesLabels };

// ---- node selectors --------------------------------------------------------------------------

/** A compiled NodeSelectorRequirement; `valid` false makes its term match nothing (kube's lazy errors). */
interface CompiledRequirement {
  key: string;
  op: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  values: Set<string>;
  bound: number;
}

export interface CompiledNodeSelectorTerm {
  expressions: CompiledRequirement[];
  /** matchFields: only metadata.name with In/NotIn is supported, as in kube. */
  fields: CompiledRequirement[];
  valid: boolean;
}

function compileRequirement(r: NodeSelectorRequirement, field: boolean): CompiledRequirement | undefined {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
    case 'NotIn':
      if (field && (r.key !== 'metadata.name' || values.length !== 1)) return undefined;
      if (!values.length) return undefined;
      return { key: r.key, op: r.operator, values: new Set(values), bound: 0 };
    case 'Exists':
    case 'DoesNotExist':
      if (field || values.length) return undefined;
      return { key: r.key, op: r.operator, values: new Set(), bound: 0 };
    case 'Gt':
    case 'Lt': {
      if (field || values.length !== 1 || !/^[+-]?\d+$/.test(values[0])) return undefined;
      return { key: r.key, op: r.operator, values: new Set(), bound: Number(values[0]) };
    }
    default:
      return undefined;
  }
}

export function compileNodeSelectorTerm(term: NodeSelectorTerm | null | undefined): CompiledNodeSelectorTerm {
  const out: CompiledNodeSelectorTerm = { expressions: [], fields: [], valid: true };
  for (const r of term?.matchExpressions ?? []) {
    const c = compileRequirement(r, false);
    if (c) out.expressions.push(c);
    else out.valid = false;
  }
  for (const r of term?.matchFields ?? []) {
    const c = compileRequirement(r, true);
    if (c) out.fields.push(c);
    else out.valid = false;
  }
  return out;
}

function requirementMatches(r: CompiledRequirement, value: string | undefined): boolean {
  switch (r.op) {
    case 'In':
      return value !== undefined && r.values.has(value);
    case 'NotIn':
      return value === undefined || !r.values.has(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || !/^[+-]?\d+$/.test(value)) return false;
      const n = Number(value);
      return r.op === 'Gt' ? n > r.bound : n < r.bound;
    }
  }
}

/** A term with no requirements matches nothing; all requirements of a term must hold. */
export function nodeSelectorTermMatches(term: CompiledNodeSelectorTerm, nodeName: string, labels: Labels): boolean {
  if (!term.valid || (!term.expressions.length && !term.fields.length)) return false;
  for (const r of term.expressions) if (!requirementMatches(r, Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined)) return false;
  for (const r of term.fields) if (!requirementMatches(r, nodeName)) return false;
  return true;
}

/**
 * The pod's required node affinity: `spec.nodeSelector` AND any one of the required node
 * selector terms (nodeaffinity.RequiredNodeAffinity).
 */
export class RequiredNodeAffinity {
  private readonly selector: Array<[string, string]>;
  private readonly terms?: CompiledNodeSelectorTerm[];

  constructor(pod: Pod) {
    this.selector = Object.entries(pod.spec?.nodeSelector ?? {});
    const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (required) this.terms = (required.nodeSelectorTerms ?? []).map(compileNodeSelectorTerm);
  }

  get isEmpty(): boolean {
    return !this.selector.length && !this.terms;
  }

  matches(nodeName: string, labels: Labels): boolean {
    for (const [k, v] of this.selector) if (labels[k] !== v) return false;
    if (!this.terms) return true;
    for (const t of this.terms) if (nodeSelectorTermMatches(t, nodeName, labels)) return true;
    return false;
  }

  /**
   * Node names the required terms pin the pod to (matchFields metadata.name In), or undefined
   * when some term allows any node (NodeAffinity PreFilter). An empty set means the terms conflict.
   */
  nodeNames(): Set<string> | undefined {
    if (!this.terms) return undefined;
    let union: Set<string> | undefined;
    for (const t of this.terms) {
      let names: Set<string> | undefined;
      for (const f of t.fields) {
        if (f.op !== 'In') continue;
        names = names ? new Set([...names].filter((n) => f.values.has(n))) : new Set(f.values);
      }
      if (!names) return undefined;
      union = union ? new Set([...union, ...names]) : names;
    }
    return union;
  }
}

// ---- taints and tolerations ------------------------------------------------------------------

/** Toleration.ToleratesTaint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? '') {
    case '':
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

export function tolerationsTolerateTaint(tolerations: readonly Toleration[], taint: Taint): boolean {
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** The first NoSchedule/NoExecute taint no toleration tolerates (FindMatchingUntoleratedTaint with DoNotSchedule filter). */
export function firstUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[]): Taint | undefined {
  for (const taint of taints) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (!tolerationsTolerateTaint(tolerations, taint)) return taint;
  }
  return undefined;
}

// ---- pod affinity terms ----------------------------------------------------------------------

/** framework.AffinityTerm: which pods a (anti-)affinity term selects, in which namespaces, per which topology key. */
export interface AffinityTerm {
  namespaces: Set<string>;
  /** Namespaces whose labels match also count; `nothing` when the term has no namespaceSelector. */
  namespaceSelector: LabelSelector;
  selector: LabelSelector;
  topologyKey: string;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

/**
 * framework.newAffinityTerm: namespaces default to the owning pod's when neither namespaces nor a
 * namespaceSelector is given; matchLabelKeys / mismatchLabelKeys add `key in/notin (own value)`.
 */
export function affinityTerm(pod: Pod, term: PodAffinityTermJson): AffinityTerm {
  const namespaces = new Set(term.namespaces ?? []);
  if (!namespaces.size && (term.namespaceSelector === null || term.namespaceSelector === undefined)) namespaces.add(pod.metadata.namespace ?? '');
  let selector = toSelector(term.labelSelector);
  const own = pod.metadata.labels ?? {};
  if (!selector.nothing && (term.matchLabelKeys?.length || term.mismatchLabelKeys?.length)) {
    const extra = [];
    for (const key of term.matchLabelKeys ?? []) if (key in own) extra.push({ key, operator: 'in' as const, values: [own[key]] });
    for (const key of term.mismatchLabelKeys ?? []) if (key in own) extra.push({ key, operator: 'notin' as const, values: [own[key]] });
    selector = { requirements: [...selector.requirements, ...extra] };
  }
  return { namespaces, namespaceSelector: toSelector(term.namespaceSelector), selector, topologyKey: term.topologyKey };
}

/** AffinityTerm.Matches: the pod is in one of the term's namespaces and its labels match. */
export function termMatches(term: AffinityTerm, podNamespace: string, podLabels: Labels, namespaceLabels: Labels | undefined): boolean {
  if (!term.namespaces.has(podNamespace) && !matchesLabels(term.namespaceSelector, namespaceLabels ?? {})) return false;
  return matchesLabels(term.selector, podLabels);
}
