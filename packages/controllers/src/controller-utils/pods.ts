/**
 * Pods as workload controllers see them (kube's pkg/api/v1/pod and pkg/controller helpers):
 * readiness and availability, creating pods from a template on behalf of an owner, the order in
 * which surplus pods are deleted, and kube's slow-start batching of creations.
 */
import { StatusError, type KubeObject, type OwnerReference } from '@canopy/apimachinery';
import { isNotFound, objectKey, types, type EventRecorder, type KubeClient } from '@canopy/client';
import { getCondition } from './conditions.js';
import type { Pod, PodTemplateSpec } from './types.js';
import { deepCopy } from './types.js';

/** The annotation by which users rank which pods of a ReplicaSet go first on scale-down. */
export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

export function podReadyCondition(pod: Pod) {
  return getCondition(pod.status?.conditions, 'Ready');
}

export function isPodReady(pod: Pod): boolean {
  return podReadyCondition(pod)?.status === 'True';
}

/**
 * Ready for at least `minReadySeconds` at `now` (ms). With minReadySeconds 0 a ready pod is
 * available at once; otherwise the Ready condition's lastTransitionTime must be far enough back.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  const ready = podReadyCondition(pod);
  if (ready?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN;
  return !Number.isNaN(since) && since + minReadySeconds * 1000 < now;
}

/** Neither terminated nor being deleted: counts towards a controller's replicas. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

/** kube's pod-deletion-cost: an int32 annotation, 0 when absent or invalid. */
export function podDeletionCost(pod: Pod): number {
  const raw = pod.metadata.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (raw === undefined || !/^[+-]?\d+$/.test(raw.trim())) return 0;
  const n = Number(raw.trim());
  return n >= -2147483648 && n <= 2147483647 ? n : 0;
}

/**
 * GetPodFromTemplate: the pod an owner creates — the template's labels, annotations, finalizers
 * and spec, the owner's name as generateName prefix, and the controller reference.
 */
export function podFromTemplate(template: PodTemplateSpec, owner: KubeObject, controllerRef?: OwnerReference): Pod {
  const meta = template.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: generateNamePrefix(owner.metadata.name ?? '') },
    spec: deepCopy(template.spec ?? {}),
  };
  if (meta.labels && Object.keys(meta.labels).length) pod.metadata.labels = { ...meta.labels };
  if (meta.annotations && Object.keys(meta.annotations).length) pod.metadata.annotations = { ...meta.annotations };
  if (meta.finalizers?.length) pod.metadata.finalizers = [...meta.finalizers];
  if (controllerRef) pod.metadata.ownerReferences = [controllerRef];
  return pod;
}

/**
 * getPodsPrefix: `<owner>-` when that is a valid generateName, else the bare name. The API
 * server truncates the prefix so the generated name stays within 63 characters.
 */
function generateNamePrefix(ownerName: string): string {
  const prefix = `${ownerName}-`;
  return prefix.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?-$/.test(prefix) ? prefix : ownerName;
}

/** Event reasons of kube's RealPodControl. */
export const PodEventReasons = {
  SuccessfulCreate: 'SuccessfulCreate',
  FailedCreate: 'FailedCreate',
  SuccessfulDelete: 'SuccessfulDelete',
  FailedDelete: 'FailedDelete',
} as const;

export function hasStatusCause(err: unknown, reason: string): boolean {
  return err instanceof StatusError && !!err.status.details?.causes?.some((c) => c.reason === reason);
}

/** The cause kube-apiserver attaches when a create is refused because the namespace is going away. */
export const NAMESPACE_TERMINATING_CAUSE = 'NamespaceTerminating';

/** kube's RealPodControl: creates and deletes pods for an owner, recording events on it. */
export class PodControl {
  constructor(
    private readonly client: KubeClient,
    private readonly events: EventRecorder,
  ) {}

  async createPod(namespace: string, template: PodTemplateSpec, owner: KubeObject, controllerRef?: OwnerReference): Promise<Pod> {
    const pod = podFromTemplate(template, owner, controllerRef);
    if (!pod.metadata.labels) throw new StatusError(422, 'Invalid', 'unable to create pods, no labels');
    try {
      const created = await this.client.create<Pod>(types.pods, pod, { namespace });
      this.events.event(owner, 'Normal', PodEventReasons.SuccessfulCreate, `Created pod: ${created.metadata.name}`);
      return created;
    } catch (err) {
      // A terminating namespace refuses every create; saying so on each owner would be noise.
      if (!hasStatusCause(err, NAMESPACE_TERMINATING_CAUSE)) {
        this.events.event(owner, 'Warning', PodEventReasons.FailedCreate, `Error creating: ${(err as Error).message}`);
      }
      throw err;
    }
  }

  /** Deletes a pod; NotFound is thrown as is (without an event) so callers can treat it as done. */
  async deletePod(namespace: string, name: string, owner: KubeObject): Promise<void> {
    try {
      await this.client.delete(types.pods, name, { namespace });
    } catch (err) {
      if (isNotFound(err)) throw err;
      this.events.event(owner, 'Warning', PodEventReasons.FailedDelete, `Error deleting: ${(err as Error).message}`);
      throw err;
    }
    this.events.event(owner, 'Normal', PodEventReasons.SuccessfulDelete, `Deleted pod: ${name}`);
  }
}

/**
 * kube's slowStartBatch: calls `fn` `count` times in batches of 1, 2, 4, … run concurrently,
 * stopping after the first batch with a failure. A create that fails for a systemic reason
 * (quota, admission) then fails once or twice instead of `count` times.
 * Returns the number of successful calls and the first error.
 */
export async function slowStartBatch(count: number, initialBatchSize: number, fn: () => Promise<unknown>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += batch - failures.length;
    if (failures.length) return { successes, error: failures[0].reason };
    remaining -= batch;
  }
  return { successes };
}

/** kube's SlowStartInitialBatchSize. */
export const SLOW_START_INITIAL_BATCH_SIZE = 1;

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function readyTime(pod: Pod): number {
  const c = podReadyCondition(pod);
  return c?.status === 'True' && c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : 0;
}

function maxRestarts(pod: Pod): number {
  let max = 0;
  for (const c of pod.status?.containerStatuses ?? []) max = Math.max(max, c.restartCount ?? 0);
  return max;
}

function creationTime(pod: Pod): number {
  return pod.metadata.creationTimestamp ? Date.parse(pod.metadata.creationTimestamp) : 0;
}

/** afterOrZero: a zero time first, then the later time. */
function afterOrZero(t1: number, t2: number): boolean {
  if (!t1 || !t2) return !t1;
  return t1 > t2;
}

/**
 * logarithmicRankDiff: compares how long ago two times were in powers of two of nanoseconds,
 * so pods of similar age compare equal and are then picked pseudo-randomly (by uid).
 */
function logarithmicRankDiff(t1: number, t2: number, now: number): number {
  const rank = (t: number) => {
    const d = (now - t) * 1e6;
    return d > 0 ? Math.floor(Math.log2(d)) : -1;
  };
  return rank(t1) - rank(t2);
}

/**
 * kube's ActivePodsWithRanks ordering: true when pod `a` should be deleted before `b`.
 * 1. unscheduled before scheduled; 2. Pending before Unknown before Running; 3. not ready
 * before ready; 4. lower pod-deletion-cost first; 5. more related pods on the same node first;
 * 6. ready for a shorter time first; 7. more container restarts first; 8. newer first.
 * Times in 6 and 8 are compared on a logarithmic scale (LogarithmicScaleDown, GA in 1.31).
 */
function deleteBefore(a: Pod, rankA: number, b: Pod, rankB: number, now: number): boolean {
  const nodeA = a.spec?.nodeName ?? '';
  const nodeB = b.spec?.nodeName ?? '';
  if (nodeA !== nodeB && (!nodeA || !nodeB)) return !nodeA;
  const phaseA = PHASE_ORDINAL[a.status?.phase ?? ''] ?? 0;
  const phaseB = PHASE_ORDINAL[b.status?.phase ?? ''] ?? 0;
  if (phaseA !== phaseB) return phaseA < phaseB;
  const readyA = isPodReady(a);
  const readyB = isPodReady(b);
  if (readyA !== readyB) return !readyA;
  const costA = podDeletionCost(a);
  const costB = podDeletionCost(b);
  if (costA !== costB) return costA < costB;
  if (rankA !== rankB) return rankA > rankB;
  if (readyA && readyB) {
    const t1 = readyTime(a);
    const t2 = readyTime(b);
    if (t1 !== t2) {
      if (!t1 || !t2) return afterOrZero(t1, t2);
      const diff = logarithmicRankDiff(t1, t2, now);
      if (diff === 0) return (a.metadata.uid ?? '') < (b.metadata.uid ?? '');
      return diff < 0;
    }
  }
  const restartsA = maxRestarts(a);
  const restartsB = maxRestarts(b);
  if (restartsA !== restartsB) return restartsA > restartsB;
  const c1 = creationTime(a);
  const c2 = creationTime(b);
  if (c1 !== c2) {
    if (!c1 || !c2) return afterOrZero(c1, c2);
    const diff = logarithmicRankDiff(c1, c2, now);
    if (diff === 0) return (a.metadata.uid ?? '') < (b.metadata.uid ?? '');
    return diff < 0;
  }
  return false;
}

/**
 * getPodsToDelete: the `count` pods of `pods` to delete first. Each pod is ranked by how many
 * active pods of `relatedPods` (the owner's and its siblings', e.g. all ReplicaSets of one
 * Deployment) share its node, so scale-down spreads what remains across nodes.
 */
export function podsToDelete(pods: Pod[], relatedPods: Pod[], count: number, now: number): Pod[] {
  if (count >= pods.length) return pods.slice(0, count);
  const onNode = new Map<string, number>();
  for (const p of relatedPods) if (isPodActive(p)) onNode.set(p.spec?.nodeName ?? '', (onNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
  const ranked = pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((x, y) => (deleteBefore(x.pod, x.rank, y.pod, y.rank, now) ? -1 : deleteBefore(y.pod, y.rank, x.pod, x.rank, now) ? 1 : 0));
  return ranked.slice(0, count).map((r) => r.pod);
}

export function podKey(pod: Pod): string {
  return objectKey(pod);
}
