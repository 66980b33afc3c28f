/**
 * Shared pod helpers for every controller that owns pods (k8s.io/kubernetes/pkg/api/v1/pod and
 * pkg/controller's controller_utils.go): readiness and availability, the "active pods" order
 * controllers delete in, owner references, pods from templates, and pod creation/deletion with
 * the events kube's RealPodControl records.
 */
import { StatusError, type KubeObject, type OwnerReference } from '@canopy/apimachinery';
import { isNotFound, types, type EventRecorder, type KubeClient } from '@canopy/client';
import type { Condition, Pod, PodTemplateSpec } from './workload-types.js';

export function getControllerOf(object: KubeObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((r) => r.controller === true);
}

export function isControlledBy(object: KubeObject, owner: KubeObject): boolean {
  return getControllerOf(object)?.uid === owner.metadata.uid;
}

/** metav1.NewControllerRef: the owner as controller, blocking its foreground deletion until the dependent goes. */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

export function podCondition(pod: Pod, type: string): Condition | undefined {
  return pod.status?.conditions?.find((c) => c.type === type);
}

export function isPodReady(pod: Pod): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

/** podutil.IsPodAvailable: ready for at least minReadySeconds. */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  const ready = podCondition(pod, 'Ready');
  if (ready?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN;
  return !Number.isNaN(since) && since + minReadySeconds * 1000 <= now;
}

export function isPodTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** controller.IsPodActive: neither finished nor being deleted. */
export function isPodActive(pod: Pod): boolean {
  return !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;
}

/** controller.IsPodTerminating: being deleted but not finished. */
export function isPodTerminating(pod: Pod): boolean {
  return !isPodTerminal(pod) && !!pod.metadata.deletionTimestamp;
}

function phaseRank(pod: Pod): number {
  return { Pending: 0, Unknown: 1, Running: 2 }[pod.status?.phase as string] ?? 0;
}

function restarts(pod: Pod): number {
  let max = 0;
  for (const c of pod.status?.containerStatuses ?? []) max = Math.max(max, c.restartCount ?? 0);
  return max;
}

/**
 * controller.ActivePods ordering: the pods a controller should delete first sort first —
 * unscheduled before scheduled, pending before running, not ready before ready, ready for less
 * time before longer, more restarts before fewer, newer before older.
 */
export function compareActivePods(a: Pod, b: Pod): number {
  const scheduledA = a.spec?.nodeName ? 1 : 0;
  const scheduledB = b.spec?.nodeName ? 1 : 0;
  if (scheduledA !== scheduledB) return scheduledA - scheduledB;
  if (phaseRank(a) !== phaseRank(b)) return phaseRank(a) - phaseRank(b);
  const readyA = isPodReady(a) ? 1 : 0;
  const readyB = isPodReady(b) ? 1 : 0;
  if (readyA !== readyB) return readyA - readyB;
  if (readyA && readyB) {
    const ta = podCondition(a, 'Ready')?.lastTransitionTime ?? '';
    const tb = podCondition(b, 'Ready')?.lastTransitionTime ?? '';
    if (ta !== tb) return ta > tb ? -1 : 1;
  }
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  const ca = a.metadata.creationTimestamp ?? '';
  const cb = b.metadata.creationTimestamp ?? '';
  if (ca !== cb) return ca > cb ? -1 : 1;
  return 0;
}

/**
 * controller.GetPodFromTemplate: the template's labels, annotations, finalizers and spec, named
 * `<parent>-<random>` by the server unless the caller names it, owned by the controller.
 */
export function podFromTemplate(template: PodTemplateSpec, parent: KubeObject, controllerRef?: OwnerReference): Pod {
  const meta = template.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${parent.metadata.name}-`,
      namespace: parent.metadata.namespace,
      labels: { ...(meta.labels ?? {}) },
    },
    spec: structuredClone(template.spec),
  };
  if (meta.annotations && Object.keys(meta.annotations).length) pod.metadata.annotations = { ...meta.annotations };
  if (meta.finalizers?.length) pod.metadata.finalizers = [...meta.finalizers];
  if (controllerRef) pod.metadata.ownerReferences = [controllerRef];
  return pod;
}

/** Whether the error says the namespace is terminating (creating there is pointless, not a failure to retry). */
export function isNamespaceTerminating(err: unknown): boolean {
  return err instanceof StatusError && (err.status.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}

/**
 * controller.RealPodControl: creates and deletes pods on behalf of `owner`, recording
 * SuccessfulCreate/FailedCreate and SuccessfulDelete/FailedDelete events on it.
 */
export class PodControl {
  constructor(
    private readonly client: KubeClient,
    private readonly events: EventRecorder,
  ) {}

  async create(pod: Pod, owner: KubeObject): Promise<Pod> {
    if (!pod.metadata.labels || Object.keys(pod.metadata.labels).length === 0) {
      throw new Error('unable to create pods, no labels');
    }
    try {
      const created = await this.client.create<Pod>(types.pods, pod, { namespace: pod.metadata.namespace ?? owner.metadata.namespace });
      this.events.event(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
      return created;
    } catch (err) {
      if (!isNamespaceTerminating(err)) this.events.event(owner, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
      throw err;
    }
  }

  /** Deletes; a pod already gone counts as deleted (answers false). */
  async delete(namespace: string, name: string, owner: KubeObject): Promise<boolean> {
    try {
      await this.client.delete(types.pods, name, { namespace });
      this.events.event(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      this.events.event(owner, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`);
      throw err;
    }
  }

  patch(namespace: string, name: string, patch: unknown): Promise<Pod> {
    return this.client.patch<Pod>(types.pods, name, patch, 'strategic', { namespace });
  }
}

/** intstr.GetScaledValueFromIntOrPercent: an int, or a percentage of `total` rounded up or down. */
export function scaledValue(value: number | string | undefined, total: number, roundUp: boolean, fallback = 0): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  if (!match) {
    if (/^\d+$/.test(value)) return Number(value);
    throw new Error(`invalid value for IntOrString: invalid value ${JSON.stringify(value)}`);
  }
  const scaled = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}
