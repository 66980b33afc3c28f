/**
 * The ReplicaSet controller (kube's pkg/controller/replicaset): keeps `spec.replicas` active pods matching the selector. It creates missing pods
 * from the template in slow-start batches and deletes surplus ones in kube's preference order,
 * adopts matching orphans and releases pods that stopped matching, never acts twice on one
 * owner while its informer lags its own writes (expectations), and reports replicas,
 * fullyLabeledReplicas, readyReplicas, availableReplicas, observedGeneration and the
 * ReplicaFailure condition in status.
 */
import { labelSelectorFromObject, matchesLabels, type LabelSelector } from '@canopy/apimachinery';
import { isNotFound, objectKey, rfc3339, types, WorkQueue, type Informer, type ResourceType, type TimerHandle } from '@canopy/client';
import type { Controller, ControllerContext, ControllerFactory } from './context.js';
import {
  addControllerIndex,
  controlledBy,
  ControllerExpectations,
  ControllerRefManager,
  deepCopy,
  getCondition,
  getControllerOf,
  hasStatusCause,
  isPodActive,
  isPodAvailable,
  isPodReady,
  NAMESPACE_TERMINATING_CAUSE,
  newControllerRef,
  orphansIn,
  PodControl,
  podKey,
  podsToDelete,
  recheckOwner,
  removeCondition,
  setCondition,
  slowStartBatch,
  SLOW_START_INITIAL_BATCH_SIZE,
  type Pod,
  type ReplicaSet,
  type ReplicaSetStatus,
} from './controller-utils/index.js';

/**
 * What differs between ReplicaSets and ReplicationControllers (kube runs both with this one
 * controller). Only ReplicaSets are served by Canopy's API server so far.
 */
export interface ReplicaSetKind {
  /** kube-controller-manager's name for the controller. */
  name: string;
  serviceAccount: string;
  type: ResourceType;
  apiVersion: string;
  kind: string;
  /** The owner's pod selector; throws for an invalid one. */
  selector(owner: ReplicaSet): LabelSelector;
}

export const replicaSetKind: ReplicaSetKind = {
  name: 'replicaset',
  serviceAccount: 'replicaset-controller',
  type: types.replicaSets,
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  selector: (rs) => labelSelectorFromObject(rs.spec.selector),
};

export interface ReplicaSetControllerOptions {
  /** Most pods created or deleted for one owner per sync (kube's burstReplicas, 500). */
  burstReplicas?: number;
  /** Owners synced concurrently (kube's --concurrent-replicaset-syncs, 5). */
  workers?: number;
}

/** kube's statusUpdateRetries: one retry with a fresh object after a failed status write. */
const STATUS_UPDATE_RETRIES = 1;

export class ReplicaSetController implements Controller {
  readonly name: string;
  private readonly queue: WorkQueue<string>;
  private readonly expectations: ControllerExpectations;
  private readonly owners: Informer<ReplicaSet>;
  private readonly pods: Informer<Pod>;
  private readonly podControl: PodControl;
  private readonly burstReplicas: number;
  private readonly workers: number;
  private readonly selectors = new WeakMap<ReplicaSet, LabelSelector | null>();
  private readonly delayed = new Map<string, { at: number; timer: TimerHandle }>();
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly kind: ReplicaSetKind,
    options: ReplicaSetControllerOptions = {},
  ) {
    this.name = kind.name;
    this.burstReplicas = options.burstReplicas ?? 500;
    this.workers = options.workers ?? 5;
    // Retry backoff is infrastructure time, not the controller's clock: a test driving a fake
    // clock must not stall retries of conflicting writes. Delays with meaning (minReadySeconds)
    // go through ctx.clock.
    this.queue = new WorkQueue<string>({ name: kind.name, log: ctx.log });
    this.expectations = new ControllerExpectations(ctx.clock);
    this.owners = ctx.informers.for<ReplicaSet>(kind.type);
    this.pods = ctx.informers.for<Pod>(types.pods);
    this.podControl = new PodControl(ctx.client, ctx.events);
  }

  start(): void {
    addControllerIndex(this.owners);
    addControllerIndex(this.pods);
    this.owners.addHandler({
      onAdd: (rs) => this.enqueue(rs),
      onUpdate: (old, cur) => {
        // Deleted and recreated under the same name between two events: the old one is gone.
        if (old.metadata.uid !== cur.metadata.uid) this.onOwnerDeleted(old);
        this.enqueue(cur);
      },
      onDelete: (rs) => this.onOwnerDeleted(rs),
    });
    this.pods.addHandler({
      onAdd: (pod) => this.onPodAdded(pod),
      onUpdate: (old, cur) => this.onPodUpdated(old, cur),
      onDelete: (pod) => this.onPodDeleted(pod),
    });
    // Workers start once both caches are complete: a sync against a partial pod cache would
    // count too few pods and create extra ones.
    this.running = Promise.all([this.owners.waitForSync(), this.pods.waitForSync()]).then(() =>
      this.stopped ? undefined : this.queue.run((key) => this.sync(key), this.workers),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const d of this.delayed.values()) d.timer.cancel();
    this.delayed.clear();
    this.queue.shutdown();
    await this.running;
  }

  /** Resolves when no owner is queued or being synced (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  // --- event handlers ------------------------------------------------------------------------

  private enqueue(rs: ReplicaSet): void {
    this.queue.add(objectKey(rs));
  }

  /** Adds the key after `ms` of the controller's clock; an earlier pending delay wins. */
  private enqueueAfter(key: string, ms: number): void {
    const at = this.ctx.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    pending?.timer.cancel();
    const timer = this.ctx.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.queue.add(key);
    }, ms);
    this.delayed.set(key, { at, timer });
  }

  private onOwnerDeleted(rs: ReplicaSet): void {
    const key = objectKey(rs);
    this.expectations.delete(key);
    this.queue.add(key);
  }

  private selectorOf(rs: ReplicaSet): LabelSelector | null {
    let selector = this.selectors.get(rs);
    if (selector === undefined) {
      try {
        selector = this.kind.selector(rs);
      } catch {
        selector = null;
      }
      this.selectors.set(rs, selector);
    }
    return selector;
  }

  /** The owner a controller reference points to, if it is one of ours and still the same object. */
  private resolveControllerRef(namespace: string | undefined, ref: { kind: string; apiVersion: string; name: string; uid: string }): ReplicaSet | undefined {
    if (ref.kind !== this.kind.kind || ref.apiVersion.split('/')[0] !== this.kind.apiVersion.split('/')[0]) return undefined;
    const rs = this.owners.get(ref.name, namespace);
    return rs && rs.metadata.uid === ref.uid ? rs : undefined;
  }

  /** Owners in the pod's namespace whose selector matches it (candidates to adopt an orphan). */
  private ownersSelecting(pod: Pod): ReplicaSet[] {
    if (!pod.metadata.labels) return [];
    return this.owners.list(pod.metadata.namespace ?? '').filter((rs) => {
      const selector = this.selectorOf(rs);
      return !!selector && selector.requirements.length > 0 && matchesLabels(selector, pod.metadata.labels);
    });
  }

  private onPodAdded(pod: Pod): void {
    // A pod already being deleted when first seen (e.g. after a restart) is not a creation.
    if (pod.metadata.deletionTimestamp) return this.onPodDeleted(pod);
    const ref = getControllerOf(pod);
    if (ref) {
      const rs = this.resolveControllerRef(pod.metadata.namespace, ref);
      if (!rs) return;
      const key = objectKey(rs);
      this.expectations.creationObserved(key);
      this.queue.add(key);
      return;
    }
    // An orphan: wake every owner that might adopt it.
    for (const rs of this.ownersSelecting(pod)) this.enqueue(rs);
  }

  private onPodUpdated(old: Pod, cur: Pod): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const labelsChanged = !sameStringMap(old.metadata.labels, cur.metadata.labels);
    if (cur.metadata.deletionTimestamp) {
      // Graceful deletion: the pod no longer counts, so the owner may replace it right away
      // instead of waiting for the kubelet to finish.
      this.onPodDeleted(cur);
      if (labelsChanged) this.onPodDeleted(old);
      return;
    }
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = curRef?.uid !== oldRef?.uid;
    if (refChanged && oldRef) {
      const rs = this.resolveControllerRef(old.metadata.namespace, oldRef);
      if (rs) this.enqueue(rs);
    }
    if (curRef) {
      const rs = this.resolveControllerRef(cur.metadata.namespace, curRef);
      if (!rs) return;
      this.enqueue(rs);
      // Becoming ready starts the minReadySeconds countdown to available: look again then.
      const minReady = rs.spec.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(cur)) this.enqueueAfter(objectKey(rs), minReady * 1000 + 1000);
      return;
    }
    if (labelsChanged || refChanged) for (const rs of this.ownersSelecting(cur)) this.enqueue(rs);
  }

  private onPodDeleted(pod: Pod): void {
    const ref = getControllerOf(pod);
    if (!ref) return;
    const rs = this.resolveControllerRef(pod.metadata.namespace, ref);
    if (!rs) return;
    const key = objectKey(rs);
    this.expectations.deletionObserved(key, podKey(pod));
    this.queue.add(key);
  }

  // --- sync ----------------------------------------------------------------------------------

  private async sync(key: string): Promise<void> {
    const cached = this.owners.getByKey(key);
    if (!cached) {
      this.expectations.delete(key);
      return;
    }
    const rs = cached;
    const needsSync = this.expectations.satisfied(key);
    const selector = this.selectorOf(rs);
    if (!selector) {
      this.ctx.log(`${key}: invalid selector; not syncing`);
      return;
    }
    // The owner's pods and the namespace's orphans: everything it might own after claiming.
    const candidates = [...controlledBy(this.pods, rs.metadata.uid!), ...orphansIn(this.pods, rs.metadata.namespace)].filter(isPodActive);
    const manager = new ControllerRefManager<Pod>({
      client: this.ctx.client,
      type: types.pods,
      owner: rs,
      ownerApiVersion: this.kind.apiVersion,
      ownerKind: this.kind.kind,
      selector,
      canAdopt: recheckOwner(this.ctx.client, this.kind.type, rs),
    });
    const pods = await manager.claim(candidates);

    let manageError: unknown;
    if (needsSync && !rs.metadata.deletionTimestamp) {
      try {
        await this.manageReplicas(key, pods, rs);
      } catch (err) {
        manageError = err;
      }
    }
    const status = this.calculateStatus(rs, pods, manageError);
    const updated = await this.updateStatus(rs, status);
    // A last look after minReadySeconds, in case no pod event arrives when pods become available.
    const minReady = updated.spec.minReadySeconds ?? 0;
    const replicas = updated.spec.replicas ?? 1;
    if (manageError === undefined && minReady > 0 && (updated.status?.readyReplicas ?? 0) === replicas && (updated.status?.availableReplicas ?? 0) !== replicas) {
      this.enqueueAfter(key, minReady * 1000);
    }
    if (manageError !== undefined) throw manageError;
  }

  private async manageReplicas(key: string, pods: Pod[], rs: ReplicaSet): Promise<void> {
    const diff = pods.length - (rs.spec.replicas ?? 1);
    if (diff < 0) {
      const count = Math.min(-diff, this.burstReplicas);
      // Expect every creation before making any, so events that arrive first still count.
      this.expectations.expectCreations(key, count);
      const ref = newControllerRef(rs, this.kind.apiVersion, this.kind.kind);
      const { successes, error } = await slowStartBatch(count, SLOW_START_INITIAL_BATCH_SIZE, async () => {
        try {
          await this.podControl.createPod(rs.metadata.namespace!, rs.spec.template ?? {}, rs, ref);
        } catch (err) {
          // The namespace is going away and the owner with it: nothing to retry.
          if (hasStatusCause(err, NAMESPACE_TERMINATING_CAUSE)) return;
          throw err;
        }
      });
      // Creations that were never attempted or failed will never be observed.
      for (let i = 0; i < count - successes; i++) this.expectations.creationObserved(key);
      if (error !== undefined) throw error;
      return;
    }
    if (diff > 0) {
      const count = Math.min(diff, this.burstReplicas);
      const victims = podsToDelete(pods, this.relatedPods(rs), count, this.ctx.clock.now());
      this.expectations.expectDeletions(key, victims.map(podKey));
      const failures: unknown[] = [];
      await Promise.all(
        victims.map(async (pod) => {
          try {
            await this.podControl.deletePod(rs.metadata.namespace!, pod.metadata.name!, rs);
          } catch (err) {
            // The informer will not report a deletion that did not happen.
            this.expectations.deletionObserved(key, podKey(pod));
            if (!isNotFound(err)) failures.push(err);
          }
        }),
      );
      if (failures.length) throw failures[0];
    }
  }

  /** The pods of every owner sharing this one's controller (a Deployment's ReplicaSets). */
  private relatedPods(rs: ReplicaSet): Pod[] {
    const ref = getControllerOf(rs);
    const siblings = ref ? controlledBy(this.owners, ref.uid) : [rs];
    if (!siblings.some((s) => s.metadata.uid === rs.metadata.uid)) siblings.push(rs);
    const out: Pod[] = [];
    for (const s of siblings) out.push(...controlledBy(this.pods, s.metadata.uid!));
    return out;
  }

  private calculateStatus(rs: ReplicaSet, pods: Pod[], manageError: unknown): ReplicaSetStatus {
    const templateLabels = rs.spec.template?.metadata?.labels ?? {};
    const now = this.ctx.clock.now();
    const minReady = rs.spec.minReadySeconds ?? 0;
    let fullyLabeled = 0;
    let ready = 0;
    let available = 0;
    for (const pod of pods) {
      const labels = pod.metadata.labels ?? {};
      if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fullyLabeled++;
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReady, now)) available++;
      }
    }
    let conditions = rs.status?.conditions;
    const failure = getCondition(conditions, 'ReplicaFailure');
    if (manageError !== undefined && !failure) {
      const diff = pods.length - (rs.spec.replicas ?? 1);
      const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
      conditions = setCondition(conditions, {
        type: 'ReplicaFailure',
        status: 'True',
        reason,
        message: (manageError as Error)?.message ?? String(manageError),
        lastTransitionTime: rfc3339(now),
      });
    } else if (manageError === undefined && failure) {
      conditions = removeCondition(conditions, 'ReplicaFailure');
    }
    return {
      replicas: pods.length,
      fullyLabeledReplicas: fullyLabeled,
      readyReplicas: ready,
      availableReplicas: available,
      observedGeneration: rs.status?.observedGeneration,
      conditions,
    };
  }

  private async updateStatus(rs: ReplicaSet, status: ReplicaSetStatus): Promise<ReplicaSet> {
    const cur = rs.status ?? {};
    if (
      (cur.replicas ?? 0) === status.replicas &&
      (cur.fullyLabeledReplicas ?? 0) === status.fullyLabeledReplicas &&
      (cur.readyReplicas ?? 0) === status.readyReplicas &&
      (cur.availableReplicas ?? 0) === status.availableReplicas &&
      (rs.metadata.generation ?? 0) === (cur.observedGeneration ?? 0) &&
      sameJson(cur.conditions ?? [], status.conditions ?? [])
    ) {
      return rs;
    }
    // The generation acted on, even if the retry below reads a newer object.
    const wire = replicaSetStatusJson({ ...status, observedGeneration: rs.metadata.generation });
    let target = deepCopy(rs);
    for (let attempt = 0; ; attempt++) {
      target.status = wire;
      try {
        return await this.ctx.client.updateStatus<ReplicaSet>(this.kind.type, target);
      } catch (err) {
        if (attempt >= STATUS_UPDATE_RETRIES) throw err;
        target = await this.ctx.client.get<ReplicaSet>(this.kind.type, rs.metadata.name!, rs.metadata.namespace);
      }
    }
  }
}

/** ReplicaSetStatus as kube serializes it: `replicas` always, other counts only when non-zero. */
function replicaSetStatusJson(s: ReplicaSetStatus): ReplicaSetStatus {
  const out: ReplicaSetStatus = { replicas: s.replicas ?? 0 };
  if (s.fullyLabeledReplicas) out.fullyLabeledReplicas = s.fullyLabeledReplicas;
  if (s.readyReplicas) out.readyReplicas = s.readyReplicas;
  if (s.availableReplicas) out.availableReplicas = s.availableReplicas;
  if (s.observedGeneration) out.observedGeneration = s.observedGeneration;
  if (s.conditions?.length) out.conditions = s.conditions;
  return out;
}

function sameStringMap(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => a![k] === b?.[k]);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export const replicaSetControllerFactory: ControllerFactory = {
  serviceAccount: replicaSetKind.serviceAccount,
  create: (ctx) => new ReplicaSetController(ctx, replicaSetKind),
};
