/**
 * Resource arithmetic as the scheduler does it (framework.Resource and resourcehelper.PodRequests):
 * CPU in millicores, memory and ephemeral storage in bytes, scalar resources (extended resources,
 * hugepages) in whole units. Quantities are parsed once per distinct string.
 */
import { parseQuantity } from '@canopy/apimachinery';
import type { ContainerJson, Pod, ResourceList } from './api.js';

export interface Resources {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Extended resources and hugepages, by name; absent when none. */
  scalar?: Map<string, number>;
}

/** What a container without a request counts as when scoring (kube's DefaultMilliCPURequest / DefaultMemoryRequest). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export function emptyResources(): Resources {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0 };
}

const parsed = new Map<string, number>();
const parsedMilli = new Map<string, number>();

/** The value in whole units (Quantity.Value()); invalid quantities count as 0 (the API server rejects them). */
export function quantityValue(q: string | number | undefined | null): number {
  if (q === undefined || q === null) return 0;
  if (typeof q === 'number') return Math.ceil(q);
  let v = parsed.get(q);
  if (v === undefined) {
    try {
      v = parseQuantity(q).value();
    } catch {
      v = 0;
    }
    if (parsed.size > 10_000) parsed.clear();
    parsed.set(q, v);
  }
  return v;
}

export function quantityMilliValue(q: string | number | undefined | null): number {
  if (q === undefined || q === null) return 0;
  if (typeof q === 'number') return Math.ceil(q * 1000);
  let v = parsedMilli.get(q);
  if (v === undefined) {
    try {
      v = parseQuantity(q).milliValue();
    } catch {
      v = 0;
    }
    if (parsedMilli.size > 10_000) parsedMilli.clear();
    parsedMilli.set(q, v);
  }
  return v;
}

/**
 * Resources the scheduler tracks beyond cpu, memory, ephemeral-storage and pods
 * (schedutil.IsScalarResourceName): extended resources (`example.com/gpu`), hugepages, and
 * prefixed native resources. Others (e.g. `storage`) are ignored, as in kube.
 */
export function isScalarResourceName(name: string): boolean {
  return name.includes('/') || name.startsWith('hugepages-') || name.startsWith('attachable-volumes-');
}

export function resourcesFromList(list: ResourceList | null | undefined): Resources {
  const r = emptyResources();
  if (!list) return r;
  for (const [name, q] of Object.entries(list)) addOne(r, name, q);
  return r;
}

function addOne(r: Resources, name: string, q: string | number): void {
  switch (name) {
    case 'cpu':
      r.milliCPU += quantityMilliValue(q);
      return;
    case 'memory':
      r.memory += quantityValue(q);
      return;
    case 'ephemeral-storage':
      r.ephemeralStorage += quantityValue(q);
      return;
    case 'pods':
      return;
    default:
      if (!isScalarResourceName(name)) return;
      (r.scalar ??= new Map()).set(name, (r.scalar.get(name) ?? 0) + quantityValue(q));
  }
}

export function addResources(into: Resources, other: Resources, sign = 1): void {
  into.milliCPU += sign * other.milliCPU;
  into.memory += sign * other.memory;
  into.ephemeralStorage += sign * other.ephemeralStorage;
  if (other.scalar) {
    for (const [name, v] of other.scalar) {
      const scalar = (into.scalar ??= new Map());
      const next = (scalar.get(name) ?? 0) + sign * v;
      if (next === 0) scalar.delete(name);
      else scalar.set(name, next);
    }
  }
}

function maxResources(into: Resources, other: Resources): void {
  into.milliCPU = Math.max(into.milliCPU, other.milliCPU);
  into.memory = Math.max(into.memory, other.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, other.ephemeralStorage);
  if (other.scalar) {
    for (const [name, v] of other.scalar) {
      const scalar = (into.scalar ??= new Map());
      scalar.set(name, Math.max(scalar.get(name) ?? 0, v));
    }
  }
}

function cloneResources(r: Resources): Resources {
  return { milliCPU: r.milliCPU, memory: r.memory, ephemeralStorage: r.ephemeralStorage, ...(r.scalar ? { scalar: new Map(r.scalar) } : {}) };
}

function containerRequests(container: ContainerJson, nonZero: boolean): Resources {
  const requests = container.resources?.requests ?? undefined;
  const r = resourcesFromList(requests);
  if (nonZero) {
    if (!requests || requests.cpu === undefined) r.milliCPU = DEFAULT_MILLI_CPU_REQUEST;
    if (!requests || requests.memory === undefined) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
}

/**
 * resourcehelper.PodRequests: containers summed; each init container is a floor (restartable
 * "sidecar" init containers keep running, so they add to the sum and to every later init
 * container); then the pod overhead. `nonZero` substitutes kube's defaults for missing cpu and
 * memory requests, as the scoring plugins do.
 */
export function podRequests(pod: Pod, nonZero = false): Resources {
  const spec = pod.spec ?? {};
  const reqs = emptyResources();
  for (const c of spec.containers ?? []) addResources(reqs, containerRequests(c, nonZero));
  const restartable = emptyResources();
  const initMax = emptyResources();
  for (const c of spec.initContainers ?? []) {
    const own = containerRequests(c, nonZero);
    let effective: Resources;
    if (c.restartPolicy === 'Always') {
      addResources(reqs, own);
      addResources(restartable, own);
      effective = restartable;
    } else {
      effective = cloneResources(own);
      addResources(effective, restartable);
    }
    maxResources(initMax, effective);
  }
  maxResources(reqs, initMax);
  if (spec.overhead) addResources(reqs, resourcesFromList(spec.overhead));
  return reqs;
}

/** Node allocatable; `pods` is the number of pods the node accepts. */
export function nodeAllocatable(list: ResourceList | null | undefined): { resources: Resources; pods: number } {
  return { resources: resourcesFromList(list), pods: list?.pods !== undefined ? quantityValue(list.pods) : 0 };
}
