/**
 * The StatefulSet controller (kube's pkg/controller/statefulset): pods with stable identities
 * `<set>-<ordinal>` (hostname, the governing service as subdomain, the pod-name and pod-index
 * labels), each with its own PersistentVolumeClaims `<template>-<set>-<ordinal>` created before
 * the pod. With OrderedReady, pods are created in ordinal order, each Running and Ready (and
 * available for minReadySeconds) before the next, and removed from the highest ordinal down;
 * with Parallel, all at once. Templates are recorded as ControllerRevisions; RollingUpdate
 * replaces pods from the highest ordinal down to the partition, one unavailable at a time;
 * OnDelete replaces a pod only when the user deletes it. Claims are kept on scale-down and
 * deletion unless persistentVolumeClaimRetentionPolicy says Delete (then owner references let the
 * garbage collector remove them with the pod or the set).
 */
import { labelSelectorFromObject, matchesLabels, type KubeObject, type OwnerReference } from '@canopy/apimachinery';
import { isAlreadyExists, isConflict, isNotFound, types, type Informer } from '@canopy/client';
import type { ControllerContext, ControllerFactory } from './context.js';
import {
  applyTemplateRevision,
  createControllerRevision,
  equalRevisionData,
  newControllerRevision,
  nextRevisionNumber,
  renumberControllerRevision,
  sortControllerRevisions,
  templatePatch,
  type ControllerRevision,
} from './controller-history.js';
import {
  addControllerIndex,
  controlledBy,
  ControllerRefManager,
  getControllerOf,
  isPodAvailable,
  isPodReady,
  newControllerRef,
  orphansIn,
  podFromTemplate,
  recheckOwner,
} from './controller-utils/index.js';
import { QueueController } from './queue-controller.js';
import type { PersistentVolumeClaim, Pod, StatefulSet } from './workload-types.js';

export const STATEFULSET_POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const STATEFULSET_REVISION_LABEL = 'controller-revision-hash';

const API_VERSION = 'apps/v1';
const KIND = 'StatefulSet';
const podKind = { apiVersion: 'v1', kind: 'Pod' };

type Status = NonNullable<StatefulSet['status']>;

// --- identity (stateful_set_utils.go) ----------------------------------------------------------

const ORDINAL_NAME = /^(.*)-([0-9]+)$/;

/** The parent set's name and the ordinal in a pod's name (-1 when it has none). */
export function parentAndOrdinal(pod: KubeObject): { parent: string; ordinal: number } {
  const m = ORDINAL_NAME.exec(pod.metadata.name ?? '');
  if (!m) return { parent: '', ordinal: -1 };
  const n = Number(m[2]);
  return { parent: m[1], ordinal: n <= 2147483647 ? n : -1 };
}

function ordinalOf(pod: KubeObject): number {
  return parentAndOrdinal(pod).ordinal;
}

function startOrdinal(set: StatefulSet): number {
  return set.spec.ordinals?.start ?? 0;
}

function replicaCount(set: StatefulSet): number {
  return set.spec.replicas ?? 1;
}

function inOrdinalRange(pod: KubeObject, set: StatefulSet): boolean {
  const ord = ordinalOf(pod);
  return ord >= startOrdinal(set) && ord < startOrdinal(set) + replicaCount(set);
}

export function claimName(set: StatefulSet, template: PersistentVolumeClaim, ordinal: number): string {
  return `${template.metadata.name}-${set.metadata.name}-${ordinal}`;
}

function isMemberOf(set: StatefulSet, pod: KubeObject): boolean {
  return parentAndOrdinal(pod).parent === set.metadata.name;
}

function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const { parent, ordinal } = parentAndOrdinal(pod);
  return (
    ordinal >= 0 &&
    parent === set.metadata.name &&
    pod.metadata.namespace === set.metadata.namespace &&
    pod.metadata.labels?.[STATEFULSET_POD_NAME_LABEL] === pod.metadata.name
  );
}

function storageMatches(set: StatefulSet, pod: Pod): boolean {
  const ordinal = ordinalOf(pod);
  if (ordinal < 0) return false;
  const volumes = new Map((pod.spec?.volumes ?? []).map((v) => [v.name, v]));
  for (const template of set.spec.volumeClaimTemplates ?? []) {
    const v = volumes.get(template.metadata.name ?? '');
    if (!v?.persistentVolumeClaim || v.persistentVolumeClaim.claimName !== claimName(set, template, ordinal)) return false;
  }
  return true;
}

function updateIdentity(set: StatefulSet, pod: Pod): void {
  const ordinal = ordinalOf(pod);
  pod.metadata.name = `${set.metadata.name}-${ordinal}`;
  pod.metadata.namespace = set.metadata.namespace;
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [STATEFULSET_POD_NAME_LABEL]: pod.metadata.name, [POD_INDEX_LABEL]: String(ordinal) };
}

/** The claims a pod of the set needs, keyed by template name. */
function claimsFor(set: StatefulSet, ordinal: number): Map<string, PersistentVolumeClaim> {
  const claims = new Map<string, PersistentVolumeClaim>();
  for (const template of set.spec.volumeClaimTemplates ?? []) {
    const meta = template.metadata;
    const claim: PersistentVolumeClaim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: claimName(set, template, ordinal),
        namespace: set.metadata.namespace,
        labels: { ...(meta.labels ?? {}), ...(set.spec.selector.matchLabels ?? {}) },
      },
      spec: structuredClone(template.spec ?? {}),
    };
    if (meta.annotations && Object.keys(meta.annotations).length) claim.metadata.annotations = { ...meta.annotations };
    claims.set(meta.name ?? '', claim);
  }
  return claims;
}

/** updateStorage: a volume per claim template pointing at the pod's claim; template volumes of the same name give way. */
function updateStorage(set: StatefulSet, pod: Pod): void {
  const claims = claimsFor(set, ordinalOf(pod));
  const volumes: NonNullable<Pod['spec']['volumes']> = [];
  for (const [name, claim] of claims) volumes.push({ name, persistentVolumeClaim: { claimName: claim.metadata.name! } });
  for (const v of pod.spec.volumes ?? []) if (!claims.has(v.name)) volumes.push(v);
  pod.spec.volumes = volumes;
}

function revisionOf(pod: KubeObject): string {
  return pod.metadata.labels?.[STATEFULSET_REVISION_LABEL] ?? '';
}

/** newStatefulSetPod: the template at `revision`, named and wired for `ordinal`. */
function newStatefulSetPod(set: StatefulSet, ordinal: number, revision: string): Pod {
  const pod = podFromTemplate(set.spec.template, set, newControllerRef(set, API_VERSION, KIND)) as Pod;
  delete pod.metadata.generateName;
  pod.metadata.name = `${set.metadata.name}-${ordinal}`;
  pod.metadata.namespace = set.metadata.namespace;
  updateIdentity(set, pod);
  pod.spec.hostname = pod.metadata.name;
  if (set.spec.serviceName) pod.spec.subdomain = set.spec.serviceName;
  updateStorage(set, pod);
  pod.metadata.labels![STATEFULSET_REVISION_LABEL] = revision;
  return pod;
}

/**
 * newVersionedStatefulSetPod: ordinals below the partition (or, without a rollingUpdate block,
 * below the current replica count) are recreated at the current revision, the rest at the update
 * revision.
 */
function newVersionedPod(currentSet: StatefulSet, updateSet: StatefulSet, currentRevision: string, updateRevision: string, ordinal: number): Pod {
  const strategy = currentSet.spec.updateStrategy;
  const rolling = strategy?.type !== 'OnDelete';
  const atCurrent =
    (rolling && !strategy?.rollingUpdate && ordinal < startOrdinal(currentSet) + (currentSet.status?.currentReplicas ?? 0)) ||
    (!!strategy?.rollingUpdate && ordinal < startOrdinal(currentSet) + (strategy.rollingUpdate.partition ?? 0));
  return atCurrent ? newStatefulSetPod(currentSet, ordinal, currentRevision) : newStatefulSetPod(updateSet, ordinal, updateRevision);
}

function isCreated(pod: Pod): boolean {
  return !!pod.status?.phase;
}

function isRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && isPodReady(pod);
}

function isRunningAndAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  return isPodAvailable(pod, minReadySeconds, now);
}

function isTerminating(pod: Pod): boolean {
  return !!pod.metadata.deletionTimestamp;
}

function isHealthy(pod: Pod): boolean {
  return isRunningAndReady(pod) && !isTerminating(pod);
}

// --- claim ownership per retention policy -----------------------------------------------------

function retentionPolicy(set: StatefulSet): { whenDeleted: string; whenScaled: string } {
  return {
    whenDeleted: set.spec.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain',
    whenScaled: set.spec.persistentVolumeClaimRetentionPolicy?.whenScaled ?? 'Retain',
  };
}

function hasOwnerRef(target: KubeObject, owner: KubeObject): boolean {
  return !!owner.metadata.uid && (target.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid);
}

function matchesRef(ref: OwnerReference, owner: KubeObject, apiVersion: string, kind: string): boolean {
  return ref.apiVersion === apiVersion && ref.kind === kind && ref.name === owner.metadata.name;
}

/** A reference to the set or pod by name but to another uid: a predecessor's claim, left alone. */
function hasStaleOwnerRef(claim: PersistentVolumeClaim, owner: KubeObject, apiVersion: string, kind: string): boolean {
  const ref = (claim.metadata.ownerReferences ?? []).find((r) => matchesRef(r, owner, apiVersion, kind));
  return !!ref && ref.uid !== owner.metadata.uid;
}

/** isClaimOwnerUpToDate: the claim's owner references agree with the retention policy. */
function claimOwnerUpToDate(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): boolean {
  if (hasStaleOwnerRef(claim, set, API_VERSION, KIND) || (pod.metadata.uid && hasStaleOwnerRef(claim, pod, podKind.apiVersion, podKind.kind))) return true;
  const policy = retentionPolicy(set);
  const scaledDown = !inOrdinalRange(pod, set);
  const setRef = hasOwnerRef(claim, set);
  const podRef = hasOwnerRef(claim, pod);
  if (policy.whenScaled === 'Delete' && policy.whenDeleted === 'Delete') return scaledDown !== setRef && scaledDown === podRef;
  if (policy.whenScaled === 'Delete') return !setRef && scaledDown === podRef;
  if (policy.whenDeleted === 'Delete') return setRef && !podRef;
  return !setRef && !podRef;
}

/** updateClaimOwnerRefForSetAndPod: owner references rewritten per the retention policy. */
function updateClaimOwnerRefs(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): void {
  let refs = (claim.metadata.ownerReferences ?? []).filter(
    (r) => !matchesRef(r, set, API_VERSION, KIND) && !matchesRef(r, pod, podKind.apiVersion, podKind.kind),
  );
  const policy = retentionPolicy(set);
  const scaledDown = !inOrdinalRange(pod, set);
  const add = (owner: KubeObject, apiVersion: string, kind: string) => {
    if (owner.metadata.uid && !refs.some((r) => r.uid === owner.metadata.uid)) refs = [...refs, newControllerRef(owner, apiVersion, kind)];
  };
  if (policy.whenDeleted === 'Delete' && !(policy.whenScaled === 'Delete' && scaledDown)) add(set, API_VERSION, KIND);
  if (policy.whenScaled === 'Delete' && scaledDown) add(pod, podKind.apiVersion, podKind.kind);
  claim.metadata.ownerReferences = refs;
}

// --- the controller ----------------------------------------------------------------------------

export class StatefulSetController extends QueueController {
  readonly name = 'statefulset';
  private readonly sets: Informer<StatefulSet>;
  private readonly pods: Informer<Pod>;
  private readonly revisions: Informer<ControllerRevision>;
  private readonly claims: Informer<PersistentVolumeClaim>;

  constructor(ctx: ControllerContext) {
    super(ctx, 2);
    this.sets = this.informer(ctx.informers.for<StatefulSet>(types.statefulSets));
    this.pods = this.informer(ctx.informers.for<Pod>(types.pods));
    this.revisions = this.informer(ctx.informers.for<ControllerRevision>(types.controllerRevisions));
    this.claims = this.informer(ctx.informers.for<PersistentVolumeClaim>(types.persistentVolumeClaims));
  }

  protected register(): void {
    addControllerIndex(this.pods as Informer<any>);
    addControllerIndex(this.revisions);
    this.sets.addHandler({
      onAdd: (s) => this.enqueueSet(s),
      onUpdate: (_old, s) => this.enqueueSet(s),
      onDelete: (s) => this.enqueueSet(s),
    });
    this.pods.addHandler({
      onAdd: (p) => this.podChanged(undefined, p),
      onUpdate: (old, p) => this.podChanged(old, p),
      onDelete: (p) => this.podChanged(undefined, p),
    });
  }

  private enqueueSet(set: KubeObject): void {
    this.enqueue(`${set.metadata.namespace}/${set.metadata.name}`);
  }

  private resolve(namespace: string | undefined, ref: OwnerReference | undefined): StatefulSet | undefined {
    if (!ref || ref.kind !== KIND) return undefined;
    const set = this.sets.get(ref.name, namespace);
    return set?.metadata.uid === ref.uid ? set : undefined;
  }

  private podChanged(old: Pod | undefined, pod: Pod): void {
    if (old && old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    const ref = getControllerOf(pod);
    const oldRef = old && getControllerOf(old);
    if (oldRef && oldRef.uid !== ref?.uid) {
      const previous = this.resolve(old.metadata.namespace, oldRef);
      if (previous) this.enqueueSet(previous);
    }
    if (ref) {
      const set = this.resolve(pod.metadata.namespace, ref);
      if (!set) return;
      this.enqueueSet(set);
      // A pod that just became ready is available minReadySeconds later: look again then.
      const minReady = set.spec.minReadySeconds ?? 0;
      if (minReady > 0 && old && !isPodReady(old) && isPodReady(pod)) this.enqueueAfter(`${set.metadata.namespace}/${set.metadata.name}`, minReady * 1000 + 1000);
      return;
    }
    // An orphan: every set whose selector matches may want to adopt it.
    for (const set of this.sets.list(pod.metadata.namespace)) {
      try {
        if (matchesLabels(labelSelectorFromObject(set.spec.selector), pod.metadata.labels)) this.enqueueSet(set);
      } catch {
        // An invalid selector selects nothing.
      }
    }
  }

  protected async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const set = this.sets.get(name, namespace);
    if (!set) return;
    let selector;
    try {
      selector = labelSelectorFromObject(set.spec.selector);
    } catch (err) {
      this.ctx.log(`statefulset ${key}: invalid selector: ${(err as Error).message}`);
      return;
    }
    const canAdopt = recheckOwner(this.ctx.client, types.statefulSets, set);
    const revisions = await this.listRevisions(set, selector, canAdopt);
    const candidates = [...controlledBy(this.pods as Informer<any>, set.metadata.uid!), ...orphansIn(this.pods as Informer<any>, namespace)] as Pod[];
    const pods = (await new ControllerRefManager<Pod>({
      client: this.ctx.client,
      type: types.pods,
      owner: set,
      ownerApiVersion: API_VERSION,
      ownerKind: KIND,
      selector,
      canAdopt,
    }).claim(candidates, (p) => isMemberOf(set, p))) as Pod[];
    const status = await this.updateStatefulSet(set, pods, sortControllerRevisions(revisions));
    const minReady = set.spec.minReadySeconds ?? 0;
    if (minReady > 0 && status && (status.availableReplicas ?? 0) !== replicaCount(set)) this.enqueueAfter(key, minReady * 1000);
  }

  /** The set's revisions: those it controls plus matching orphans, which it adopts. */
  private async listRevisions(set: StatefulSet, selector: ReturnType<typeof labelSelectorFromObject>, canAdopt: () => Promise<void>): Promise<ControllerRevision[]> {
    const owned = controlledBy(this.revisions, set.metadata.uid!).filter((r) => matchesLabels(selector, r.metadata.labels));
    const orphans = orphansIn(this.revisions, set.metadata.namespace).filter((r) => matchesLabels(selector, r.metadata.labels));
    if (!orphans.length) return owned;
    const adopted = await new ControllerRefManager<ControllerRevision>({
      client: this.ctx.client,
      type: types.controllerRevisions,
      owner: set,
      ownerApiVersion: API_VERSION,
      ownerKind: KIND,
      selector,
      canAdopt,
    }).claim(orphans);
    return [...owned, ...adopted];
  }

  /** getStatefulSetRevisions: the current and update revisions, creating or re-numbering the latter. */
  private async revisionsFor(set: StatefulSet, revisions: ControllerRevision[]) {
    let collisionCount = set.status?.collisionCount ?? 0;
    const candidate = newControllerRevision(
      set,
      newControllerRef(set, API_VERSION, KIND),
      set.spec.template.metadata?.labels,
      templatePatch(set),
      nextRevisionNumber(revisions),
      collisionCount,
    );
    if (set.metadata.annotations) candidate.metadata.annotations = { ...set.metadata.annotations };
    const equal = revisions.filter((r) => equalRevisionData(r, candidate));
    let updateRevision: ControllerRevision;
    const latest = revisions[revisions.length - 1];
    if (equal.length && latest && equalRevisionData(latest, equal[equal.length - 1])) {
      updateRevision = latest;
    } else if (equal.length) {
      // Back to an earlier template: that revision becomes the newest again (a rollback).
      updateRevision = await renumberControllerRevision(this.ctx.client, equal[equal.length - 1], candidate.revision);
    } else {
      const created = await createControllerRevision(this.ctx.client, set, candidate, collisionCount);
      updateRevision = created.revision;
      collisionCount = created.collisionCount;
    }
    const currentRevision = revisions.find((r) => r.metadata.name === set.status?.currentRevision) ?? updateRevision;
    return { currentRevision, updateRevision, collisionCount };
  }

  private async updateStatefulSet(set: StatefulSet, pods: Pod[], revisions: ControllerRevision[]): Promise<Status | undefined> {
    const { currentRevision, updateRevision, collisionCount } = await this.revisionsFor(set, revisions);
    let status: Status | undefined;
    try {
      status = await this.reconcile(set, pods, currentRevision, updateRevision, collisionCount);
    } finally {
      await this.truncateHistory(set, pods, revisions, currentRevision, updateRevision);
    }
    return status;
  }

  private computeStatus(
    set: StatefulSet,
    lists: Pod[][],
    currentRevision: ControllerRevision,
    updateRevision: ControllerRevision,
    collisionCount: number,
  ): Status {
    const now = this.ctx.clock.now();
    const minReady = set.spec.minReadySeconds ?? 0;
    const status: Status = {
      observedGeneration: set.metadata.generation,
      replicas: 0,
      readyReplicas: 0,
      availableReplicas: 0,
      currentReplicas: 0,
      updatedReplicas: 0,
      currentRevision: currentRevision.metadata.name,
      updateRevision: updateRevision.metadata.name,
      collisionCount,
    };
    for (const list of lists) {
      for (const pod of list) {
        if (isCreated(pod)) status.replicas!++;
        if (isRunningAndReady(pod)) {
          status.readyReplicas!++;
          if (isRunningAndAvailable(pod, minReady, now)) status.availableReplicas!++;
        }
        if (isCreated(pod) && !isTerminating(pod)) {
          if (revisionOf(pod) === currentRevision.metadata.name) status.currentReplicas!++;
          if (revisionOf(pod) === updateRevision.metadata.name) status.updatedReplicas!++;
        }
      }
    }
    return status;
  }

  /** updateStatefulSet + updateStatefulSetStatus: one pass over the replicas, then the status. */
  private async reconcile(
    set: StatefulSet,
    pods: Pod[],
    currentRevision: ControllerRevision,
    updateRevision: ControllerRevision,
    collisionCount: number,
  ): Promise<Status> {
    const currentSet = applyTemplateRevision(set, currentRevision);
    const updateSet = applyTemplateRevision(set, updateRevision);
    const count = replicaCount(set);
    const start = startOrdinal(set);
    const replicas: Pod[] = new Array(count);
    const condemned: Pod[] = [];
    for (const pod of pods) {
      if (inOrdinalRange(pod, set)) replicas[ordinalOf(pod) - start] = pod;
      else if (ordinalOf(pod) >= 0) condemned.push(pod);
    }
    for (let i = 0; i < count; i++) {
      replicas[i] ??= newVersionedPod(currentSet, updateSet, currentRevision.metadata.name!, updateRevision.metadata.name!, start + i);
    }
    condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));
    let firstUnhealthy: Pod | undefined = replicas.find((p) => !isHealthy(p));
    if (!firstUnhealthy) for (let i = condemned.length - 1; i >= 0; i--) if (!isHealthy(condemned[i])) { firstUnhealthy = condemned[i]; break; }

    const finish = async () => {
      const status = this.computeStatus(set, [replicas, condemned], currentRevision, updateRevision, collisionCount);
      await this.writeStatus(set, status);
      return status;
    };
    if (set.metadata.deletionTimestamp) return finish();

    const monotonic = set.spec.podManagementPolicy !== 'Parallel';
    const minReady = set.spec.minReadySeconds ?? 0;
    const now = () => this.ctx.clock.now();

    // Each live replica, in ordinal order: recreate finished pods, create missing ones (claims
    // first), and in OrderedReady stop at the first that is not yet Running, Ready and available.
    const processReplica = async (i: number): Promise<boolean> => {
      const pod = replicas[i];
      if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') {
        if (!pod.metadata.deletionTimestamp) await this.deletePod(set, pod);
        return true;
      }
      if (!isCreated(pod)) {
        const created = await this.createPod(set, pod);
        if (created) replicas[i] = created;
        if (monotonic || !created) return monotonic;
        return false;
      }
      if (pod.status?.phase === 'Pending') await this.createMissingClaims(set, pod);
      if (isTerminating(pod) && monotonic) return true;
      if (!isRunningAndReady(pod) && monotonic) return true;
      if (!isRunningAndAvailable(pod, minReady, now()) && monotonic) return true;
      await this.enforceIdentity(updateSet, pod);
      return false;
    };
    if (await this.runForAll(replicas.length, processReplica, monotonic)) return finish();

    // Condemned pods' claims get the pod as owner when the policy deletes claims on scale-down.
    const fixClaims = async (i: number): Promise<boolean> => {
      await this.fixClaimOwners(updateSet, condemned[i]);
      return false;
    };
    if (await this.runForAll(condemned.length, fixClaims, monotonic)) return finish();

    // Scale down from the highest ordinal; in OrderedReady one at a time, only with the rest healthy.
    const processCondemned = async (i: number): Promise<boolean> => {
      const pod = condemned[i];
      if (isTerminating(pod)) return monotonic;
      if (!isRunningAndReady(pod) && monotonic && pod !== firstUnhealthy) return true;
      if (!isRunningAndAvailable(pod, minReady, now()) && monotonic && pod !== firstUnhealthy) return true;
      await this.deletePod(set, pod);
      return true;
    };
    if (await this.runForAll(condemned.length, processCondemned, monotonic)) return finish();

    if (set.spec.updateStrategy?.type === 'OnDelete') return finish();

    // RollingUpdate: replace the pod with the highest ordinal not at the update revision, down to
    // the partition, one at a time, waiting for each replaced pod to be healthy again.
    const partition = set.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
    for (let target = replicas.length - 1; target >= partition; target--) {
      const pod = replicas[target];
      if (revisionOf(pod) !== updateRevision.metadata.name && !isTerminating(pod)) {
        await this.deletePod(set, pod);
        replicas[target] = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date(now()).toISOString() } };
        break;
      }
      if (!isHealthy(pod)) break;
    }
    return finish();
  }

  /** runForAll: in order, stopping at the first that says so (OrderedReady); or all, in slow-start batches (Parallel). */
  private async runForAll(count: number, fn: (i: number) => Promise<boolean>, monotonic: boolean): Promise<boolean> {
    if (monotonic) {
      for (let i = 0; i < count; i++) if (await fn(i)) return true;
      return false;
    }
    let next = 0;
    for (let batch = Math.min(1, count); batch > 0; batch = Math.min(batch * 2, count - next, 500)) {
      const indexes = Array.from({ length: batch }, () => next++);
      const results = await Promise.allSettled(indexes.map((i) => fn(i)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    return false;
  }

  private async writeStatus(set: StatefulSet, computed: Status): Promise<void> {
    const status = { ...computed };
    // completeRollingUpdate: every replica updated and ready makes the update revision current.
    if (
      set.spec.updateStrategy?.type !== 'OnDelete' &&
      status.updatedReplicas === replicaCount(set) &&
      status.readyReplicas === replicaCount(set) &&
      status.replicas === replicaCount(set)
    ) {
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = status.updateRevision;
    }
    const old = set.status ?? {};
    const same =
      (status.observedGeneration ?? 0) <= (old.observedGeneration ?? 0) &&
      (['replicas', 'currentReplicas', 'readyReplicas', 'updatedReplicas', 'availableReplicas', 'currentRevision', 'updateRevision'] as const).every(
        (k) => (status[k] ?? 0) === (old[k] ?? 0),
      ) &&
      (status.collisionCount ?? 0) === (old.collisionCount ?? 0);
    if (same) return;
    let target: StatefulSet = set;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.ctx.client.updateStatus(types.statefulSets, { ...target, status: { ...(target.status ?? {}), ...status } });
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 4) throw err;
        const fresh = await this.ctx.client.tryGet<StatefulSet>(types.statefulSets, set.metadata.name!, set.metadata.namespace);
        if (!fresh || fresh.metadata.uid !== set.metadata.uid) return;
        target = fresh;
      }
    }
  }

  private async truncateHistory(set: StatefulSet, pods: Pod[], revisions: ControllerRevision[], current: ControllerRevision, update: ControllerRevision): Promise<void> {
    const live = new Set<string>([current.metadata.name!, update.metadata.name!, ...pods.map(revisionOf)]);
    const history = revisions.filter((r) => !live.has(r.metadata.name!));
    const limit = set.spec.revisionHistoryLimit ?? 10;
    for (const r of history.slice(0, Math.max(0, history.length - limit))) {
      await this.ctx.client.tryDelete(types.controllerRevisions, r.metadata.name!, { namespace: r.metadata.namespace });
    }
  }

  // --- pods and claims (stateful_pod_control.go) ----------------------------------------------

  private podEvent(verb: 'create' | 'delete' | 'update', set: StatefulSet, pod: Pod, err?: unknown): void {
    const where = `Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name}`;
    if (err) this.ctx.events.event(set, 'Warning', `Failed${verb[0].toUpperCase()}${verb.slice(1)}`, `${verb} ${where} failed error: ${(err as Error).message}`);
    else this.ctx.events.event(set, 'Normal', `Successful${verb[0].toUpperCase()}${verb.slice(1)}`, `${verb} ${where} successful`);
  }

  /** Creates the pod's claims, then the pod. Answers the created pod, or undefined if it already existed (the informer will tell). */
  private async createPod(set: StatefulSet, pod: Pod): Promise<Pod | undefined> {
    try {
      await this.createMissingClaims(set, pod);
    } catch (err) {
      this.podEvent('create', set, pod, err);
      throw err;
    }
    try {
      const created = await this.ctx.client.create<Pod>(types.pods, pod, { namespace: set.metadata.namespace });
      this.podEvent('create', set, pod);
      // Claims created before the pod existed could not name it as owner; fix them now.
      await this.fixClaimOwners(set, created);
      return created;
    } catch (err) {
      // Our cache has not seen the pod yet: the informer's event will bring us back.
      if (isAlreadyExists(err)) return undefined;
      this.podEvent('create', set, pod, err);
      throw err;
    }
  }

  private async deletePod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.ctx.client.delete(types.pods, pod.metadata.name!, { namespace: pod.metadata.namespace, preconditions: { uid: pod.metadata.uid } });
      this.podEvent('delete', set, pod);
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return;
      this.podEvent('delete', set, pod, err);
      throw err;
    }
  }

  /** createPersistentVolumeClaims: each claim the pod needs that does not exist yet. */
  private async createMissingClaims(set: StatefulSet, pod: Pod): Promise<void> {
    const errors: string[] = [];
    for (const claim of claimsFor(set, ordinalOf(pod)).values()) {
      const existing = this.claims.get(claim.metadata.name!, claim.metadata.namespace);
      if (existing) {
        if (existing.metadata.deletionTimestamp) errors.push(`pvc ${claim.metadata.name} is being deleted`);
        continue;
      }
      updateClaimOwnerRefs(claim, set, pod);
      try {
        await this.ctx.client.create(types.persistentVolumeClaims, claim, { namespace: claim.metadata.namespace });
        this.ctx.events.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata.name} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} success`);
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        errors.push(`failed to create PVC ${claim.metadata.name}: ${(err as Error).message}`);
        this.ctx.events.event(
          set,
          'Warning',
          'FailedCreate',
          `create Claim ${claim.metadata.name} for Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${(err as Error).message}`,
        );
      }
    }
    if (errors.length) throw new Error(errors.join('; '));
  }

  /** The claims' owner references per the retention policy (ClaimsMatchRetentionPolicy / UpdatePodClaimForRetentionPolicy). */
  private async fixClaimOwners(set: StatefulSet, pod: Pod): Promise<void> {
    const ordinal = ordinalOf(pod);
    if (ordinal < 0 || !pod.metadata.uid) return;
    for (const wanted of claimsFor(set, ordinal).values()) {
      const claim = this.claims.get(wanted.metadata.name!, wanted.metadata.namespace) ?? (await this.ctx.client.tryGet<PersistentVolumeClaim>(types.persistentVolumeClaims, wanted.metadata.name!, wanted.metadata.namespace));
      if (!claim || claimOwnerUpToDate(claim, set, pod)) continue;
      const updated = structuredClone(claim);
      updateClaimOwnerRefs(updated, set, pod);
      try {
        await this.ctx.client.update(types.persistentVolumeClaims, updated);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /** UpdateStatefulPod: a live pod's identity labels and claims brought back in line with the set. */
  private async enforceIdentity(set: StatefulSet, pod: Pod): Promise<void> {
    if (!storageMatches(set, pod)) await this.createMissingClaims(set, pod);
    await this.fixClaimOwners(set, pod);
    if (identityMatches(set, pod) && pod.metadata.labels?.[POD_INDEX_LABEL] === String(ordinalOf(pod))) return;
    const updated = structuredClone(pod);
    updateIdentity(set, updated);
    try {
      await this.ctx.client.update(types.pods, updated);
    } catch (err) {
      this.podEvent('update', set, pod, err);
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}

export function statefulSetController(): ControllerFactory {
  return { serviceAccount: 'statefulset-controller', create: (ctx) => new StatefulSetController(ctx) };
}
