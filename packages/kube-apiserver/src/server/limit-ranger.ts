/**
 * The LimitRanger admission plug-in (plugin/pkg/admission/limitranger): the LimitRanges of a
 * namespace give its pods default requests and limits per container (mutating) and bound what
 * containers, pods and PersistentVolumeClaims may ask for (validating). Pods are handled on
 * create only (their containers' resources cannot change afterwards); claims on create and
 * update, since a claim's storage request may grow.
 */
import { errors, parseQuantity, type KubeObject, type Quantity } from '@canopy/apimachinery';
import { listPrefix } from '../storage/keys.js';
import type { RevisionStore } from '../storage/types.js';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import { asRecord } from './object-utils.js';

type ResourceList = Record<string, unknown>;

/** The annotation kube records the defaults it applied in. */
export const LIMIT_RANGER_ANNOTATION = 'kubernetes.io/limit-ranger';

interface LimitRangeItem {
  type?: string;
  min?: ResourceList;
  max?: ResourceList;
  default?: ResourceList;
  defaultRequest?: ResourceList;
  maxLimitRequestRatio?: ResourceList;
}

export function limitRanger(store: RevisionStore): AdmissionPlugin {
  /** The items of each LimitRange in the namespace, one list per LimitRange. */
  const rangesOf = (namespace: string): LimitRangeItem[][] =>
    store.list(listPrefix('', 'limitranges', namespace)).items.map((s) => {
      const limits = asRecord(s.object.spec)?.limits;
      return Array.isArray(limits) ? (limits.filter((item) => asRecord(item) !== undefined) as LimitRangeItem[]) : [];
    });
  return {
    name: 'LimitRanger',
    admit(a: AdmissionAttributes) {
      if (!handles(a) || a.def.resource !== 'pods') return;
      const items = rangesOf(a.namespace).flat();
      if (items.length) applyPodDefaults(a.object!, items);
    },
    validate(a: AdmissionAttributes) {
      if (!handles(a)) return;
      for (const items of rangesOf(a.namespace)) {
        const problems = a.def.resource === 'pods' ? validatePod(a.object!, items) : validateClaim(a.object!, items);
        if (problems.length) {
          throw errors.forbidden(
            { group: a.def.group, resource: a.def.resource },
            a.name,
            problems.length === 1 ? problems[0] : `[${problems.join(', ')}]`,
          );
        }
      }
    },
  };
}

function handles(a: AdmissionAttributes): boolean {
  if (a.def.group !== '' || a.subresource || !a.object || a.object.metadata.deletionTimestamp) return false;
  if (a.def.resource === 'pods') return a.operation === 'CREATE';
  return a.def.resource === 'persistentvolumeclaims' && (a.operation === 'CREATE' || a.operation === 'UPDATE');
}

function containersOf(pod: KubeObject, field: 'containers' | 'initContainers'): Record<string, unknown>[] {
  const list = asRecord(pod.spec)?.[field];
  return Array.isArray(list) ? (list.map(asRecord).filter(Boolean) as Record<string, unknown>[]) : [];
}

function resourcesOf(container: Record<string, unknown>): { requests: ResourceList; limits: ResourceList } {
  const resources = asRecord(container.resources) ?? {};
  return { requests: asRecord(resources.requests) ?? {}, limits: asRecord(resources.limits) ?? {} };
}

/** kube's defaultContainerResourceRequirements: the last Container item naming a resource wins. */
function defaultRequirements(items: LimitRangeItem[]): { requests: ResourceList; limits: ResourceList } {
  const requests: ResourceList = {};
  const limits: ResourceList = {};
  for (const item of items) {
    if (item.type !== 'Container') continue;
    Object.assign(requests, asRecord(item.defaultRequest) ?? {});
    Object.assign(limits, asRecord(item.default) ?? {});
  }
  return { requests, limits };
}

/** mergePodResourceRequirements: fills what each container left out and records it in an annotation. */
function applyPodDefaults(pod: KubeObject, items: LimitRangeItem[]): void {
  const defaults = defaultRequirements(items);
  if (!Object.keys(defaults.requests).length && !Object.keys(defaults.limits).length) return;
  const notes: string[] = [];
  const merge = (container: Record<string, unknown>, label: string) => {
    const resources = (asRecord(container.resources) ?? (container.resources = {})) as Record<string, unknown>;
    const limits = (asRecord(resources.limits) ?? (resources.limits = {})) as ResourceList;
    const requests = (asRecord(resources.requests) ?? (resources.requests = {})) as ResourceList;
    const setLimits: string[] = [];
    const setRequests: string[] = [];
    for (const [k, v] of Object.entries(defaults.limits)) {
      if (!(k in limits)) {
        limits[k] = v;
        setLimits.push(k);
      }
    }
    for (const [k, v] of Object.entries(defaults.requests)) {
      if (!(k in requests)) {
        requests[k] = v;
        setRequests.push(k);
      }
    }
    const name = typeof container.name === 'string' ? container.name : '';
    if (setRequests.length) notes.push(`${setRequests.sort().join(', ')} request for ${label} ${name}`);
    if (setLimits.length) notes.push(`${setLimits.sort().join(', ')} limit for ${label} ${name}`);
  };
  for (const c of containersOf(pod, 'containers')) merge(c, 'container');
  for (const c of containersOf(pod, 'initContainers')) merge(c, 'init container');
  if (notes.length)
    pod.metadata.annotations = {
      ...(pod.metadata.annotations ?? {}),
      [LIMIT_RANGER_ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}`,
    };
}

function quantity(value: unknown): Quantity | undefined {
  try {
    return typeof value === 'string' || typeof value === 'number' ? parseQuantity(value) : undefined;
  } catch {
    return undefined;
  }
}

function minConstraint(
  type: string,
  resource: string,
  enforced: Quantity,
  requests: ResourceList,
  limits: ResourceList,
): string | undefined {
  const req = quantity(requests[resource]);
  const lim = quantity(limits[resource]);
  if (!req) return `minimum ${resource} usage per ${type} is ${enforced.toString()}.  No request is specified`;
  if (req.cmp(enforced) < 0)
    return `minimum ${resource} usage per ${type} is ${enforced.toString()}, but request is ${req.toString()}`;
  if (lim && lim.cmp(enforced) < 0)
    return `minimum ${resource} usage per ${type} is ${enforced.toString()}, but limit is ${lim.toString()}`;
  return undefined;
}

function maxConstraint(
  type: string,
  resource: string,
  enforced: Quantity,
  requests: ResourceList,
  limits: ResourceList,
): string | undefined {
  const req = quantity(requests[resource]);
  const lim = quantity(limits[resource]);
  if (!lim) return `maximum ${resource} usage per ${type} is ${enforced.toString()}.  No limit is specified`;
  if (lim.cmp(enforced) > 0)
    return `maximum ${resource} usage per ${type} is ${enforced.toString()}, but limit is ${lim.toString()}`;
  if (req && req.cmp(enforced) > 0)
    return `maximum ${resource} usage per ${type} is ${enforced.toString()}, but request is ${req.toString()}`;
  return undefined;
}

function ratioConstraint(
  type: string,
  resource: string,
  enforced: Quantity,
  requests: ResourceList,
  limits: ResourceList,
): string | undefined {
  const req = quantity(requests[resource]);
  const lim = quantity(limits[resource]);
  if (!req || req.isZero())
    return `${resource} max limit to request ratio per ${type} is ${enforced.toString()}, but no request is specified or request is 0`;
  if (!lim || lim.isZero())
    return `${resource} max limit to request ratio per ${type} is ${enforced.toString()}, but no limit is specified or limit is 0`;
  const observed = Number(lim.milliValue()) / Number(req.milliValue());
  // kube compares in thousandths: limit/request×1000 against the ratio's milli-value.
  if (observed * 1000 > enforced.milliValue()) {
    return `${resource} max limit to request ratio per ${type} is ${enforced.toString()}, but provided ratio is ${observed.toFixed(6)}`;
  }
  return undefined;
}

function checkItem(item: LimitRangeItem, type: string, requests: ResourceList, limits: ResourceList, out: string[]): void {
  const each = (list: unknown, check: typeof minConstraint) => {
    for (const [resource, value] of Object.entries(asRecord(list) ?? {})) {
      const enforced = quantity(value);
      if (!enforced) continue;
      const problem = check(type, resource, enforced, requests, limits);
      if (problem) out.push(problem);
    }
  };
  each(item.min, minConstraint);
  each(item.max, maxConstraint);
  each(item.maxLimitRequestRatio, ratioConstraint);
}

/** Pod totals as kube's LimitRanger computes them: containers summed, init containers as a maximum. */
function podTotals(pod: KubeObject, field: 'requests' | 'limits'): ResourceList {
  const totals = new Map<string, Quantity>();
  for (const c of containersOf(pod, 'containers')) {
    for (const [k, v] of Object.entries(resourcesOf(c)[field])) {
      const q = quantity(v);
      if (q) totals.set(k, totals.has(k) ? totals.get(k)!.add(q) : q);
    }
  }
  for (const c of containersOf(pod, 'initContainers')) {
    for (const [k, v] of Object.entries(resourcesOf(c)[field])) {
      const q = quantity(v);
      if (q && (!totals.has(k) || q.cmp(totals.get(k)!) > 0)) totals.set(k, q);
    }
  }
  return Object.fromEntries([...totals].map(([k, q]) => [k, q.toString()]));
}

function validatePod(pod: KubeObject, items: LimitRangeItem[]): string[] {
  const problems: string[] = [];
  for (const item of items) {
    if (item.type === 'Container') {
      for (const c of [...containersOf(pod, 'containers'), ...containersOf(pod, 'initContainers')]) {
        const { requests, limits } = resourcesOf(c);
        checkItem(item, 'Container', requests, limits, problems);
      }
    } else if (item.type === 'Pod') {
      checkItem(item, 'Pod', podTotals(pod, 'requests'), podTotals(pod, 'limits'), problems);
    }
  }
  return problems;
}

function validateClaim(claim: KubeObject, items: LimitRangeItem[]): string[] {
  const problems: string[] = [];
  const requests = asRecord(asRecord(asRecord(claim.spec)?.resources)?.requests) ?? {};
  for (const item of items) {
    if (item.type !== 'PersistentVolumeClaim') continue;
    // A claim's limits are not user input: min is checked against the request only.
    for (const [resource, value] of Object.entries(asRecord(item.min) ?? {})) {
      const enforced = quantity(value);
      const problem = enforced && minConstraint('PersistentVolumeClaim', resource, enforced, requests, {});
      if (problem) problems.push(problem);
    }
    for (const [resource, value] of Object.entries(asRecord(item.max) ?? {})) {
      const enforced = quantity(value);
      if (!enforced) continue;
      const req = quantity(requests[resource]);
      if (!req)
        problems.push(`maximum ${resource} usage per PersistentVolumeClaim is ${enforced.toString()}.  No request is specified`);
      else if (req.cmp(enforced) > 0)
        problems.push(
          `maximum ${resource} usage per PersistentVolumeClaim is ${enforced.toString()}, but request is ${req.toString()}`,
        );
    }
  }
  return problems;
}
