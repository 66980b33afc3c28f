/**
 * The Deployment controller (kube's pkg/controller/deployment). A Deployment owns one ReplicaSet
 * per pod template (named `<deployment>-<pod-template-hash>`, numbered by the
 * `deployment.kubernetes.io/revision` annotation) and moves replicas from the old ones to the new
 * one by its strategy:
 * - RollingUpdate: grows the new ReplicaSet while the total stays within replicas + maxSurge and
 *   shrinks old ones while availability stays at least replicas − maxUnavailable;
 * - Recreate: scales every old ReplicaSet to zero, waits until none of their pods runs, then
 *   scales the new one up.
 * Resizing a Deployment mid-rollout spreads the change over its ReplicaSets in proportion.
 * A paused Deployment is only resized; old ReplicaSets beyond revisionHistoryLimit are deleted;
 * a rollback is just a template change (what `kubectl rollout undo` writes), which finds the
 * old ReplicaSet again and gives it the next revision. Status carries the replica counts, the
 * Available and Progressing conditions (with progressDeadlineSeconds) and collisionCount.
 *
 * The flow of each function follows kube's closely, so its behaviour can be checked line by
 * line; differences are noted where they are.
 */
import { matchesLabels, type LabelSelector } from '@canopy/apimachinery';
import { isAlreadyExists, isNotFound, objectKey, realClock, types, WorkQueue, type Informer, type TimerHandle } from '@canopy/client';
import type { Controller, ControllerContext, ControllerFactory } from '../context.js';
import {
  addControllerIndex,
  controlledBy,
  ControllerRefManager,
  deepCopy,
  getCondition,
  getControllerOf,
  hasStatusCause,
  NAMESPACE_TERMINATING_CAUSE,
  newControllerRef,
  orphansIn,
  recheckOwner,
  removeCondition,
  type Condition,
  type Deployment,
  type DeploymentStatus,
  type Pod,
  type ReplicaSet,
} from '../controller-utils/index.js';
import { computeHash } from './hash.js';
import {
  activeReplicaSets,
  actualReplicaCount,
  availableReplicaCount,
  byCreationTimestamp,
  byRevision,
  bySizeNewer,
  bySizeOlder,
  cloneSelectorAndAddLabel,
  DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY,
  deploymentComplete,
  deploymentProgressing,
  deploymentSelector,
  deploymentTimedOut,
  desiredReplicasAnnotation,
  equalIgnoreHash,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  getProportion,
  hasProgressDeadline,
  hasRevisionHistoryLimit,
  isRollingUpdate,
  isSaturated,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newDeploymentCondition,
  newRSNewReplicas,
  readyReplicaCount,
  Reasons,
  replicaCount,
  replicasAnnotationsNeedUpdate,
  replicasOf,
  RevisionAnnotation,
  selectorIsEmpty,
  setDeploymentCondition,
  setDeploymentRevision,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  specReplicas,
} from './util.js';

const CONTROLLER_API_VERSION = 'apps/v1';
const CONTROLLER_KIND = 'Deployment';

export interface DeploymentControllerOptions {
  /** Deployments synced concurrently (kube's --concurrent-deployment-syncs, 5). */
  workers?: number;
}

/** One sync's view: the deployment being reconciled (a private copy) and its ReplicaSets. */
interface SyncState {
  d: Deployment;
  rsList: ReplicaSet[];
}

export class DeploymentController implements Controller {
  readonly name = 'deployment';
  private readonly queue: WorkQueue<string>;
  private readonly deployments: Informer<Deployment>;
  private readonly replicaSets: Informer<ReplicaSet>;
  private readonly pods: Informer<Pod>;
  private readonly workers: number;
  private readonly delayed = new Map<string, { at: number; timer: TimerHandle }>();
  private readonly selectors = new WeakMap<Deployment, LabelSelector | null>();
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly ctx: ControllerContext,
    options: DeploymentControllerOptions = {},
  ) {
    this.workers = options.workers ?? 5;
    // Backoff of failed syncs is infrastructure time (see ReplicaSetController); progress
    // deadlines go through ctx.clock.
    this.queue = new WorkQueue<string>({ name: 'deployment', log: ctx.log, clock: realClock });
    this.deployments = ctx.informers.for<Deployment>(types.deployments);
    this.replicaSets = ctx.informers.for<ReplicaSet>(types.replicaSets);
    this.pods = ctx.informers.for<Pod>(types.pods);
  }

  start(): void {
    addControllerIndex(this.replicaSets);
    addControllerIndex(this.pods);
    this.deployments.addHandler({
      onAdd: (d) => this.enqueue(d),
      onUpdate: (_old, cur) => this.enqueue(cur),
      onDelete: (d) => this.enqueue(d),
    });
    this.replicaSets.addHandler({
      onAdd: (rs) => this.onReplicaSetAdded(rs),
      onUpdate: (old, cur) => this.onReplicaSetUpdated(old, cur),
      onDelete: (rs) => this.onReplicaSetDeleted(rs),
    });
    this.pods.addHandler({ onDelete: (pod) => this.onPodDeleted(pod) });
    this.running = Promise.all([this.deployments.waitForSync(), this.replicaSets.waitForSync(), this.pods.waitForSync()]).then(() =>
      this.stopped ? undefined : this.queue.run((key) => this.syncDeployment(key), this.workers),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const d of this.delayed.values()) d.timer.cancel();
    this.delayed.clear();
    this.queue.shutdown();
    await this.running;
  }

  // --- event handlers ------------------------------------------------------------------------

  private enqueue(d: Deployment): void {
    this.queue.add(objectKey(d));
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

  private selectorOf(d: Deployment): LabelSelector | null {
    let selector = this.selectors.get(d);
    if (selector === undefined) {
      try {
        selector = deploymentSelector(d);
      } catch {
        selector = null;
      }
      this.selectors.set(d, selector);
    }
    return selector;
  }

  private resolveControllerRef(namespace: string | undefined, ref: { kind: string; apiVersion: string; name: string; uid: string }): Deployment | undefined {
    if (ref.kind !== CONTROLLER_KIND || !ref.apiVersion.startsWith('apps/')) return undefined;
    const d = this.deployments.get(ref.name, namespace);
    return d && d.metadata.uid === ref.uid ? d : undefined;
  }

  /** Deployments whose selector matches an orphaned ReplicaSet (those that may adopt it). */
  private deploymentsSelecting(rs: ReplicaSet): Deployment[] {
    if (!rs.metadata.labels) return [];
    return this.deployments.list(rs.metadata.namespace ?? '').filter((d) => {
      const selector = this.selectorOf(d);
      return !!selector && selector.requirements.length > 0 && matchesLabels(selector, rs.metadata.labels);
    });
  }

  private onReplicaSetAdded(rs: ReplicaSet): void {
    if (rs.metadata.deletionTimestamp) return this.onReplicaSetDeleted(rs);
    const ref = getControllerOf(rs);
    if (ref) {
      const d = this.resolveControllerRef(rs.metadata.namespace, ref);
      if (d) this.enqueue(d);
      return;
    }
    for (const d of this.deploymentsSelecting(rs)) this.enqueue(d);
  }

  private onReplicaSetUpdated(old: ReplicaSet, cur: ReplicaSet): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const curRef = getControllerOf(cur);
    const oldRef = getControllerOf(old);
    const refChanged = curRef?.uid !== oldRef?.uid;
    if (refChanged && oldRef) {
      const d = this.resolveControllerRef(old.metadata.namespace, oldRef);
      if (d) this.enqueue(d);
    }
    if (curRef) {
      const d = this.resolveControllerRef(cur.metadata.namespace, curRef);
      if (d) this.enqueue(d);
      return;
    }
    const labelsChanged = JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(cur.metadata.labels ?? {});
    if (labelsChanged || refChanged) for (const d of this.deploymentsSelecting(cur)) this.enqueue(d);
  }

  private onReplicaSetDeleted(rs: ReplicaSet): void {
    const ref = getControllerOf(rs);
    if (!ref) return;
    const d = this.resolveControllerRef(rs.metadata.namespace, ref);
    if (d) this.enqueue(d);
  }

  /** A Recreate deployment waits for its old pods to be gone: look again when the last one goes. */
  private onPodDeleted(pod: Pod): void {
    const rsRef = getControllerOf(pod);
    if (!rsRef || rsRef.kind !== 'ReplicaSet') return;
    const rs = this.replicaSets.get(rsRef.name, pod.metadata.namespace);
    if (!rs || rs.metadata.uid !== rsRef.uid) return;
    const dRef = getControllerOf(rs);
    if (!dRef) return;
    const d = this.resolveControllerRef(rs.metadata.namespace, dRef);
    if (!d || isRollingUpdate(d)) return;
    const remaining = controlledBy(this.replicaSets, d.metadata.uid!).reduce((n, s) => n + controlledBy(this.pods, s.metadata.uid!).length, 0);
    if (remaining === 0) this.enqueue(d);
  }

  // --- syncDeployment --------------------------------------------------------------------------

  private async syncDeployment(key: string): Promise<void> {
    const cached = this.deployments.getByKey(key);
    if (!cached) return;
    const d = deepCopy(cached);
    if (selectorIsEmpty(d.spec.selector)) {
      this.ctx.events.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        d.status = { ...(d.status ?? {}), observedGeneration: d.metadata.generation };
        await this.writeStatus(d);
      }
      return;
    }
    const rsList = await this.getReplicaSetsForDeployment(d);
    const state: SyncState = { d, rsList };
    if (d.metadata.deletionTimestamp) return this.syncStatusOnly(state);
    // Pausing and resuming are recorded (Progressing Unknown) so the time spent paused never
    // counts against progressDeadlineSeconds.
    await this.checkPausedConditions(d);
    if (d.spec.paused) return this.sync(state);
    if (await this.isScalingEvent(state)) return this.sync(state);
    if (isRollingUpdate(d)) return this.rolloutRolling(state);
    if (d.spec.strategy?.type === 'Recreate') return this.rolloutRecreate(state);
    throw new Error(`unexpected deployment strategy type: ${d.spec.strategy?.type}`);
  }

  /** The ReplicaSets the deployment controls, after adopting matching orphans and releasing the rest. */
  private async getReplicaSetsForDeployment(d: Deployment): Promise<ReplicaSet[]> {
    const selector = this.selectorOf(d);
    if (!selector) throw new Error(`deployment ${objectKey(d)} has an invalid selector`);
    const candidates = [...controlledBy(this.replicaSets, d.metadata.uid!), ...orphansIn(this.replicaSets, d.metadata.namespace)];
    const manager = new ControllerRefManager<ReplicaSet>({
      client: this.ctx.client,
      type: types.replicaSets,
      owner: d,
      ownerApiVersion: CONTROLLER_API_VERSION,
      ownerKind: CONTROLLER_KIND,
      selector,
      canAdopt: recheckOwner(this.ctx.client, types.deployments, d),
    });
    return manager.claim(candidates);
  }

  /** The pods of each ReplicaSet that match the deployment's selector, by ReplicaSet uid. */
  private podMapForDeployment(d: Deployment, rsList: ReplicaSet[]): Map<string, Pod[]> {
    const selector = this.selectorOf(d);
    const map = new Map<string, Pod[]>();
    for (const rs of rsList) {
      // Inactive pods count too: Recreate must see that no old pod is still running.
      map.set(rs.metadata.uid!, controlledBy(this.pods, rs.metadata.uid!).filter((p) => !!selector && matchesLabels(selector, p.metadata.labels)));
    }
    return map;
  }

  // --- writes ------------------------------------------------------------------------------------

  /** Writes the deployment's status, keeping the copy's resourceVersion current for later writes. */
  private async writeStatus(d: Deployment): Promise<void> {
    d.status = deploymentStatusJson(d.status ?? {});
    const updated = await this.ctx.client.updateStatus<Deployment>(types.deployments, d);
    d.metadata.resourceVersion = updated.metadata.resourceVersion;
  }

  /**
   * Writes the deployment's revision annotation. kube writes it with the status (its
   * deployment status strategy keeps annotation changes); Canopy's status subresource keeps only
   * status, as most kinds do, so the annotation goes through the main resource.
   */
  private async writeRevisionAnnotation(d: Deployment): Promise<void> {
    // The copy's spec is the cached one and its resourceVersion current, so a concurrent change
    // by anyone else fails this write (409) and the sync is retried from the newer object; the
    // status in the copy is ignored by the main resource.
    const updated = await this.ctx.client.update<Deployment>(types.deployments, deepCopy(d));
    d.metadata.resourceVersion = updated.metadata.resourceVersion;
  }

  private replaceInList(state: SyncState, rs: ReplicaSet): void {
    const i = state.rsList.findIndex((r) => r.metadata.uid === rs.metadata.uid);
    if (i >= 0) state.rsList[i] = rs;
  }

  // --- new and old ReplicaSets ----------------------------------------------------------------

  /**
   * getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created if asked and missing) with its
   * revision set to one above every old one, and all old ReplicaSets.
   */
  private async getAllReplicaSetsAndSyncRevision(state: SyncState, createIfNotExisted: boolean): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[] }> {
    const { all: oldRSs } = findOldReplicaSets(state.d, state.rsList);
    const newRS = await this.getNewReplicaSet(state, oldRSs, createIfNotExisted);
    return { newRS, oldRSs };
  }

  private async getNewReplicaSet(state: SyncState, oldRSs: ReplicaSet[], createIfNotExisted: boolean): Promise<ReplicaSet | undefined> {
    const { d } = state;
    const existing = findNewReplicaSet(d, state.rsList);
    const newRevision = String(maxRevision(oldRSs) + 1);
    const now = this.ctx.clock.now();

    if (existing) {
      // Sync its annotations (the deployment's, the revision) and minReadySeconds.
      const rsCopy = deepCopy(existing);
      const annotationsUpdated = setNewReplicaSetAnnotations(d, rsCopy, newRevision, true);
      const minReady = d.spec.minReadySeconds ?? 0;
      if (annotationsUpdated || (rsCopy.spec.minReadySeconds ?? 0) !== minReady) {
        if (minReady) rsCopy.spec.minReadySeconds = minReady;
        else delete rsCopy.spec.minReadySeconds;
        const updated = await this.ctx.client.update<ReplicaSet>(types.replicaSets, rsCopy);
        this.replaceInList(state, updated);
        return updated;
      }
      // The deployment's revision is its new ReplicaSet's.
      const annotationChanged = setDeploymentRevision(d, rsCopy.metadata.annotations![RevisionAnnotation]);
      let statusChanged = false;
      // Deployments that had no Progressing condition start being measured from now.
      if (hasProgressDeadline(d) && !getCondition(d.status?.conditions, 'Progressing')) {
        d.status ??= {};
        setDeploymentCondition(d.status, newDeploymentCondition('Progressing', 'True', Reasons.FoundNewRS, `Found new replica set "${rsCopy.metadata.name}"`, now));
        statusChanged = true;
      }
      if (annotationChanged) await this.writeRevisionAnnotation(d);
      if (statusChanged) await this.writeStatus(d);
      return rsCopy;
    }

    if (!createIfNotExisted) return undefined;

    // Create the new ReplicaSet: the template labelled with its hash, the selector narrowed to it.
    const template = deepCopy(d.spec.template);
    const hash = computeHash(template, d.status?.collisionCount);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY]: hash } };
    const newRS: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        // Deterministic, so a retry after a lost answer finds the same object.
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        ownerReferences: [newControllerRef(d, CONTROLLER_API_VERSION, CONTROLLER_KIND)],
        labels: { ...template.metadata.labels! },
      },
      spec: {
        replicas: 0,
        selector: cloneSelectorAndAddLabel(d.spec.selector, DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY, hash),
        template,
      },
    };
    if (d.spec.minReadySeconds) newRS.spec.minReadySeconds = d.spec.minReadySeconds;
    const newReplicasCount = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
    newRS.spec.replicas = newReplicasCount;
    setNewReplicaSetAnnotations(d, newRS, newRevision, false);

    let created: ReplicaSet;
    let alreadyExists = false;
    try {
      created = await this.ctx.client.create<ReplicaSet>(types.replicaSets, newRS);
    } catch (err) {
      if (isAlreadyExists(err)) {
        // Our own earlier create (the cache is behind), or a hash collision with another template.
        alreadyExists = true;
        const rs =
          this.replicaSets.get(newRS.metadata.name!, d.metadata.namespace) ??
          (await this.ctx.client.get<ReplicaSet>(types.replicaSets, newRS.metadata.name!, d.metadata.namespace));
        const ref = getControllerOf(rs);
        if (ref?.uid === d.metadata.uid && equalIgnoreHash(d.spec.template, rs.spec.template)) {
          created = rs;
        } else {
          // A collision: count it, so the next hash differs, and retry.
          d.status = { ...(d.status ?? {}), collisionCount: (d.status?.collisionCount ?? 0) + 1 };
          await this.writeStatus(d).catch(() => {});
          throw err;
        }
      } else if (hasStatusCause(err, NAMESPACE_TERMINATING_CAUSE)) {
        throw err;
      } else {
        const msg = `Failed to create new replica set "${newRS.metadata.name}": ${(err as Error).message}`;
        if (hasProgressDeadline(d)) {
          d.status ??= {};
          setDeploymentCondition(d.status, newDeploymentCondition('Progressing', 'False', Reasons.FailedRSCreate, msg, now));
          // The creation failure is the error worth reporting; a failed status write is not.
          await this.writeStatus(d).catch(() => {});
        }
        this.ctx.events.event(d, 'Warning', Reasons.FailedRSCreate, msg);
        throw err;
      }
    }
    if (!alreadyExists) {
      state.rsList.push(created);
      if (newReplicasCount > 0) {
        this.ctx.events.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${newReplicasCount}`);
      }
    }
    const annotationChanged = setDeploymentRevision(d, newRevision);
    let statusChanged = false;
    if (!alreadyExists && hasProgressDeadline(d)) {
      d.status ??= {};
      setDeploymentCondition(d.status, newDeploymentCondition('Progressing', 'True', Reasons.NewReplicaSet, `Created new replica set "${created.metadata.name}"`, now));
      statusChanged = true;
    }
    if (annotationChanged) await this.writeRevisionAnnotation(d);
    if (statusChanged) await this.writeStatus(d);
    return created;
  }

  // --- scaling ---------------------------------------------------------------------------------

  private async scaleReplicaSetAndRecordEvent(state: SyncState, rs: ReplicaSet, newScale: number): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    if (specReplicas(rs) === newScale) return { scaled: false, rs };
    return this.scaleReplicaSet(state, rs, newScale, specReplicas(rs) < newScale ? 'up' : 'down');
  }

  /** Sets the ReplicaSet's size and its desired/max-replicas annotations; an event if the size changed. */
  private async scaleReplicaSet(state: SyncState, rs: ReplicaSet, newScale: number, operation: string): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    const { d } = state;
    const sizeNeedsUpdate = specReplicas(rs) !== newScale;
    const desired = replicasOf(d);
    const max = desired + maxSurge(d);
    if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, desired, max)) return { scaled: false, rs };
    const oldScale = specReplicas(rs);
    const copy = deepCopy(rs);
    copy.spec.replicas = newScale;
    setReplicasAnnotations(copy, desired, max);
    const updated = await this.ctx.client.update<ReplicaSet>(types.replicaSets, copy);
    this.replaceInList(state, updated);
    if (sizeNeedsUpdate) {
      this.ctx.events.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${operation} replica set ${updated.metadata.name} from ${oldScale} to ${newScale}`);
    }
    return { scaled: sizeNeedsUpdate, rs: updated };
  }

  /**
   * scale: resizes for a change of spec.replicas. One active ReplicaSet (or none) takes the whole
   * size; a saturated new one means old ones go to zero; otherwise, in a rolling update, the
   * difference is spread over the active ReplicaSets in proportion to their sizes, the leftover
   * to the largest (newest first when growing, oldest first when shrinking).
   */
  private async scale(state: SyncState, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
    const { d } = state;
    const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if (specReplicas(activeOrLatest) === replicasOf(d)) return;
      await this.scaleReplicaSetAndRecordEvent(state, activeOrLatest, replicasOf(d));
      return;
    }
    if (isSaturated(d, newRS)) {
      for (const old of activeReplicaSets(oldRSs)) await this.scaleReplicaSetAndRecordEvent(state, old, 0);
      return;
    }
    if (!isRollingUpdate(d)) return;
    const allRSs = activeReplicaSets([...oldRSs, newRS]);
    const allRSsReplicas = replicaCount(allRSs);
    const allowedSize = replicasOf(d) > 0 ? replicasOf(d) + maxSurge(d) : 0;
    const toAdd = allowedSize - allRSsReplicas;
    let operation = '';
    if (toAdd > 0) {
      allRSs.sort(bySizeNewer);
      operation = 'up';
    } else if (toAdd < 0) {
      allRSs.sort(bySizeOlder);
      operation = 'down';
    }
    let added = 0;
    const sizes = new Map<string, number>();
    for (const rs of allRSs) {
      if (toAdd !== 0) {
        const proportion = getProportion(rs, d, toAdd, added);
        sizes.set(rs.metadata.name!, specReplicas(rs) + proportion);
        added += proportion;
      } else {
        sizes.set(rs.metadata.name!, specReplicas(rs));
      }
    }
    for (let i = 0; i < allRSs.length; i++) {
      const rs = allRSs[i];
      if (i === 0 && toAdd !== 0) {
        const leftover = toAdd - added;
        sizes.set(rs.metadata.name!, Math.max(0, sizes.get(rs.metadata.name!)! + leftover));
      }
      await this.scaleReplicaSet(state, rs, sizes.get(rs.metadata.name!)!, operation);
    }
  }

  /** isScalingEvent: an active ReplicaSet was sized for another spec.replicas than the current one. */
  private async isScalingEvent(state: SyncState): Promise<boolean> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(state, false);
    for (const rs of activeReplicaSets([...oldRSs, newRS])) {
      const desired = desiredReplicasAnnotation(rs);
      if (desired === undefined) continue;
      if (desired !== replicasOf(state.d)) return true;
    }
    return false;
  }

  /** sync: scaling, and paused deployments (which are only resized and cleaned up). */
  private async sync(state: SyncState): Promise<void> {
    const { d } = state;
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(state, false);
    await this.scale(state, newRS, oldRSs);
    if (d.spec.paused) await this.cleanupDeployment(state, oldRSs);
    await this.syncDeploymentStatus(state, this.current(state, [...oldRSs, newRS]), this.current(state, [newRS])[0]);
  }

  private async syncStatusOnly(state: SyncState): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(state, false);
    await this.syncDeploymentStatus(state, [...oldRSs, newRS], newRS);
  }

  /** The latest known version of each ReplicaSet (after this sync's own writes). */
  private current(state: SyncState, list: Array<ReplicaSet | undefined>): ReplicaSet[] {
    return list.filter((rs): rs is ReplicaSet => !!rs).map((rs) => state.rsList.find((r) => r.metadata.uid === rs.metadata.uid) ?? rs);
  }

  private async checkPausedConditions(d: Deployment): Promise<void> {
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status?.conditions, 'Progressing');
    // A reported lack of progress is not overwritten by pausing.
    if (cond?.reason === Reasons.TimedOut) return;
    const pausedConditionExists = cond?.reason === Reasons.Paused;
    const now = this.ctx.clock.now();
    d.status ??= {};
    if (d.spec.paused && !pausedConditionExists) {
      setDeploymentCondition(d.status, newDeploymentCondition('Progressing', 'Unknown', Reasons.Paused, 'Deployment is paused', now));
    } else if (!d.spec.paused && pausedConditionExists) {
      setDeploymentCondition(d.status, newDeploymentCondition('Progressing', 'Unknown', Reasons.Resumed, 'Deployment is resumed', now));
    } else {
      return;
    }
    await this.writeStatus(d);
  }

  /** cleanupDeployment: deletes the oldest idle ReplicaSets beyond revisionHistoryLimit. */
  private async cleanupDeployment(state: SyncState, oldRSs: ReplicaSet[]): Promise<void> {
    const { d } = state;
    if (!hasRevisionHistoryLimit(d)) return;
    const cleanable = this.current(state, oldRSs).filter((rs) => !rs.metadata.deletionTimestamp);
    const diff = cleanable.length - d.spec.revisionHistoryLimit!;
    if (diff <= 0) return;
    cleanable.sort(byRevision);
    for (let i = 0; i < diff; i++) {
      const rs = cleanable[i];
      // Only ReplicaSets that are empty, want nothing, and whose controller has caught up.
      if ((rs.status?.replicas ?? 0) !== 0 || specReplicas(rs) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0) || rs.metadata.deletionTimestamp) continue;
      try {
        await this.ctx.client.delete(types.replicaSets, rs.metadata.name!, { namespace: rs.metadata.namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  // --- RollingUpdate -------------------------------------------------------------------------------

  private async rolloutRolling(state: SyncState): Promise<void> {
    const { d } = state;
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(state, true);
    const allRSs = [...oldRSs, newRS!];

    if (await this.reconcileNewReplicaSet(state, allRSs, newRS!)) return this.syncRolloutStatus(state, allRSs, newRS);
    if (await this.reconcileOldReplicaSets(state, allRSs, activeReplicaSets(oldRSs), newRS!)) return this.syncRolloutStatus(state, allRSs, newRS);
    if (deploymentComplete(d, d.status)) await this.cleanupDeployment(state, oldRSs);
    return this.syncRolloutStatus(state, allRSs, newRS);
  }

  private async reconcileNewReplicaSet(state: SyncState, allRSs: ReplicaSet[], newRS: ReplicaSet): Promise<boolean> {
    const { d } = state;
    if (specReplicas(newRS) === replicasOf(d)) return false;
    if (specReplicas(newRS) > replicasOf(d)) return (await this.scaleReplicaSetAndRecordEvent(state, newRS, replicasOf(d))).scaled;
    const count = newRSNewReplicas(d, allRSs, newRS);
    return (await this.scaleReplicaSetAndRecordEvent(state, newRS, count)).scaled;
  }

  /**
   * reconcileOldReplicaSets: scales old ReplicaSets down as far as availability allows:
   * maxScaledDown = allPods − minAvailable − unavailable pods of the new ReplicaSet. Unhealthy
   * old replicas go first (removing them costs no availability), then healthy ones while
   * available pods stay above minAvailable.
   */
  private async reconcileOldReplicaSets(state: SyncState, allRSs: ReplicaSet[], oldRSs: ReplicaSet[], newRS: ReplicaSet): Promise<boolean> {
    const { d } = state;
    if (replicaCount(oldRSs) === 0) return false;
    const allPodsCount = replicaCount(allRSs);
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const newRSUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = allPodsCount - minAvailable - newRSUnavailable;
    if (maxScaledDown <= 0) return false;

    let cleanedUp: { oldRSs: ReplicaSet[]; count: number };
    try {
      cleanedUp = await this.cleanupUnhealthyReplicas(state, oldRSs, maxScaledDown);
    } catch (err) {
      // kube ignores the error here (the next sync retries); keep the log.
      this.ctx.log(`${objectKey(d)}: cleaning up unhealthy replicas: ${(err as Error).message}`);
      return false;
    }
    let scaledDown = 0;
    try {
      scaledDown = await this.scaleDownOldReplicaSetsForRollingUpdate(state, [...cleanedUp.oldRSs, newRS], cleanedUp.oldRSs);
    } catch (err) {
      this.ctx.log(`${objectKey(d)}: scaling down old replica sets: ${(err as Error).message}`);
      return false;
    }
    return cleanedUp.count + scaledDown > 0;
  }

  private async cleanupUnhealthyReplicas(state: SyncState, oldRSs: ReplicaSet[], maxCleanupCount: number): Promise<{ oldRSs: ReplicaSet[]; count: number }> {
    const sorted = [...oldRSs].sort(byCreationTimestamp);
    let total = 0;
    for (let i = 0; i < sorted.length; i++) {
      if (total >= maxCleanupCount) break;
      const rs = sorted[i];
      const replicas = specReplicas(rs);
      const available = rs.status?.availableReplicas ?? 0;
      if (replicas === 0 || replicas === available) continue;
      const count = Math.min(maxCleanupCount - total, replicas - available);
      const { rs: updated } = await this.scaleReplicaSetAndRecordEvent(state, rs, replicas - count);
      total += count;
      sorted[i] = updated;
    }
    return { oldRSs: sorted, count: total };
  }

  private async scaleDownOldReplicaSetsForRollingUpdate(state: SyncState, allRSs: ReplicaSet[], oldRSs: ReplicaSet[]): Promise<number> {
    const { d } = state;
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const available = availableReplicaCount(allRSs);
    if (available <= minAvailable) return 0;
    const sorted = [...oldRSs].sort(byCreationTimestamp);
    const target = available - minAvailable;
    let total = 0;
    for (const rs of sorted) {
      if (total >= target) break;
      if (specReplicas(rs) === 0) continue;
      const count = Math.min(specReplicas(rs), target - total);
      await this.scaleReplicaSetAndRecordEvent(state, rs, specReplicas(rs) - count);
      total += count;
    }
    return total;
  }

  // --- Recreate --------------------------------------------------------------------------------------

  private async rolloutRecreate(state: SyncState): Promise<void> {
    const { d } = state;
    // No new ReplicaSet yet: old pods must be gone before anything new is created.
    let { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(state, false);
    let allRSs = [...oldRSs, newRS];
    let scaledDown = false;
    for (const rs of activeReplicaSets(oldRSs)) {
      if ((await this.scaleReplicaSetAndRecordEvent(state, rs, 0)).scaled) scaledDown = true;
    }
    if (scaledDown) return this.syncRolloutStatus(state, allRSs, newRS);
    if (this.oldPodsRunning(newRS, oldRSs, this.podMapForDeployment(d, state.rsList))) return this.syncRolloutStatus(state, allRSs, newRS);
    if (!newRS) {
      ({ newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(state, true));
      allRSs = [...oldRSs, newRS];
    }
    await this.scaleReplicaSetAndRecordEvent(state, newRS!, replicasOf(d));
    if (deploymentComplete(d, d.status)) await this.cleanupDeployment(state, oldRSs);
    return this.syncRolloutStatus(state, allRSs, newRS);
  }

  /** Whether an old ReplicaSet reports pods, or any pod of one is not yet terminated. */
  private oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[], podMap: Map<string, Pod[]>): boolean {
    if (actualReplicaCount(oldRSs) > 0) return true;
    for (const [uid, pods] of podMap) {
      if (newRS && newRS.metadata.uid === uid) continue;
      // Pending, Running and Unknown (the node may still run it) all count; terminated ones do not.
      if (pods.some((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded')) return true;
    }
    return false;
  }

  // --- status ------------------------------------------------------------------------------------

  private calculateStatus(allRSs: Array<ReplicaSet | undefined>, newRS: ReplicaSet | undefined, d: Deployment): DeploymentStatus {
    const available = availableReplicaCount(allRSs);
    const total = replicaCount(allRSs);
    const status: DeploymentStatus = {
      observedGeneration: d.metadata.generation,
      replicas: actualReplicaCount(allRSs),
      updatedReplicas: actualReplicaCount([newRS]),
      readyReplicas: readyReplicaCount(allRSs),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
      conditions: [...(d.status?.conditions ?? [])],
      collisionCount: d.status?.collisionCount,
    };
    const now = this.ctx.clock.now();
    if (available >= replicasOf(d) - maxUnavailable(d)) {
      setDeploymentCondition(status, newDeploymentCondition('Available', 'True', Reasons.MinimumReplicasAvailable, 'Deployment has minimum availability.', now));
    } else {
      setDeploymentCondition(status, newDeploymentCondition('Available', 'False', Reasons.MinimumReplicasUnavailable, 'Deployment does not have minimum availability.', now));
    }
    return status;
  }

  private async syncDeploymentStatus(state: SyncState, allRSs: Array<ReplicaSet | undefined>, newRS: ReplicaSet | undefined): Promise<void> {
    const { d } = state;
    const next = deploymentStatusJson(this.calculateStatus(this.current(state, allRSs), this.current(state, [newRS])[0], d));
    if (sameJson(deploymentStatusJson(d.status ?? {}), next)) return;
    d.status = next;
    await this.writeStatus(d);
  }

  /** syncRolloutStatus: status plus the Progressing condition, and a look back at the deadline. */
  private async syncRolloutStatus(state: SyncState, allRSs: Array<ReplicaSet | undefined>, newRSArg: ReplicaSet | undefined): Promise<void> {
    const { d } = state;
    const newRS = this.current(state, [newRSArg])[0];
    const next = this.calculateStatus(this.current(state, allRSs), newRS, d);
    if (!hasProgressDeadline(d)) next.conditions = removeCondition(next.conditions, 'Progressing');
    const now = this.ctx.clock.now();
    const currentCond = getCondition(d.status?.conditions, 'Progressing');
    const isCompleteDeployment = next.replicas === next.updatedReplicas && currentCond?.reason === Reasons.NewRSAvailable;
    if (hasProgressDeadline(d) && !isCompleteDeployment) {
      if (deploymentComplete(d, next)) {
        const msg = newRS ? `ReplicaSet "${newRS.metadata.name}" has successfully progressed.` : `Deployment "${d.metadata.name}" has successfully progressed.`;
        setDeploymentCondition(next, newDeploymentCondition('Progressing', 'True', Reasons.NewRSAvailable, msg, now));
      } else if (deploymentProgressing(d, next)) {
        // Progress refreshes lastUpdateTime even with the same reason: that is what the
        // deadline is measured from.
        const msg = newRS ? `ReplicaSet "${newRS.metadata.name}" is progressing.` : `Deployment "${d.metadata.name}" is progressing.`;
        const condition = newDeploymentCondition('Progressing', 'True', Reasons.ReplicaSetUpdated, msg, now);
        if (currentCond) {
          if (currentCond.status === 'True') condition.lastTransitionTime = currentCond.lastTransitionTime;
          next.conditions = removeCondition(next.conditions, 'Progressing');
        }
        setDeploymentCondition(next, condition);
      } else if (deploymentTimedOut(d, next, now)) {
        const msg = newRS ? `ReplicaSet "${newRS.metadata.name}" has timed out progressing.` : `Deployment "${d.metadata.name}" has timed out progressing.`;
        setDeploymentCondition(next, newDeploymentCondition('Progressing', 'False', Reasons.TimedOut, msg, now));
      }
    }
    // A ReplicaSet's ReplicaFailure (the new one's first) becomes the deployment's.
    const failure = this.replicaFailure(allRSs, newRS);
    if (failure) setDeploymentCondition(next, failure);
    else next.conditions = removeCondition(next.conditions, 'ReplicaFailure');

    const wire = deploymentStatusJson(next);
    if (sameJson(deploymentStatusJson(d.status ?? {}), wire)) {
      this.requeueStuckDeployment(d, next);
      return;
    }
    d.status = wire;
    await this.writeStatus(d);
  }

  private replicaFailure(allRSs: Array<ReplicaSet | undefined>, newRS: ReplicaSet | undefined): Condition | undefined {
    const toDeployment = (c: Condition): Condition => ({
      type: c.type,
      status: c.status,
      lastUpdateTime: c.lastTransitionTime,
      lastTransitionTime: c.lastTransitionTime,
      reason: c.reason,
      message: c.message,
    });
    const fromNew = newRS?.status?.conditions?.find((c) => c.type === 'ReplicaFailure');
    if (fromNew) return toDeployment(fromNew);
    for (const rs of allRSs) {
      const c = rs?.status?.conditions?.find((x) => x.type === 'ReplicaFailure');
      if (c) return toDeployment(c);
    }
    return undefined;
  }

  /**
   * requeueStuckDeployment: a rollout that shows no progress is looked at again when its
   * deadline passes (lastUpdateTime + progressDeadlineSeconds), so it times out on time without
   * waiting for an unrelated event.
   */
  private requeueStuckDeployment(d: Deployment, next: DeploymentStatus): void {
    const currentCond = getCondition(d.status?.conditions, 'Progressing');
    if (!hasProgressDeadline(d) || !currentCond) return;
    if (deploymentComplete(d, next) || currentCond.reason === Reasons.TimedOut) return;
    const last = currentCond.lastUpdateTime ? Date.parse(currentCond.lastUpdateTime) : NaN;
    if (Number.isNaN(last)) return;
    const after = last + d.spec.progressDeadlineSeconds! * 1000 - this.ctx.clock.now();
    const key = objectKey(d);
    if (after < 1000) this.queue.addRateLimited(key);
    else this.enqueueAfter(key, after + 1000);
  }
}

/** DeploymentStatus as kube serializes it: every field omitted when zero. */
function deploymentStatusJson(s: DeploymentStatus): DeploymentStatus {
  const out: DeploymentStatus = {};
  if (s.observedGeneration) out.observedGeneration = s.observedGeneration;
  if (s.replicas) out.replicas = s.replicas;
  if (s.updatedReplicas) out.updatedReplicas = s.updatedReplicas;
  if (s.readyReplicas) out.readyReplicas = s.readyReplicas;
  if (s.availableReplicas) out.availableReplicas = s.availableReplicas;
  if (s.unavailableReplicas) out.unavailableReplicas = s.unavailableReplicas;
  if (s.conditions?.length) out.conditions = s.conditions.map(conditionJson);
  if (s.collisionCount !== undefined && s.collisionCount !== null) out.collisionCount = s.collisionCount;
  return out;
}

function conditionJson(c: Condition): Condition {
  const out: Condition = { type: c.type, status: c.status };
  if (c.lastUpdateTime) out.lastUpdateTime = c.lastUpdateTime;
  if (c.lastTransitionTime) out.lastTransitionTime = c.lastTransitionTime;
  if (c.reason) out.reason = c.reason;
  if (c.message) out.message = c.message;
  return out;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export const deploymentControllerFactory: ControllerFactory = {
  serviceAccount: 'deployment-controller',
  create: (ctx) => new DeploymentController(ctx),
};
