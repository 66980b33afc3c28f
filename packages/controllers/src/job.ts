/**
 * The Job controller (kube's pkg/controller/job, as of Kubernetes 1.33): runs pods until
 * `completions` succeed (or, without completions, until one does), at most `parallelism` at a
 * time. Pods carry the `batch.kubernetes.io/job-tracking` finalizer until the controller has
 * counted them: a finished pod is first recorded in `status.uncountedTerminatedPods`, then its
 * finalizer is removed, then it moves to `succeeded`/`failed` — so no pod is counted twice or lost
 * when pods are deleted. Failed pods are replaced after an exponential backoff (10 s doubling, at
 * most 10 minutes) until `backoffLimit` is exceeded; `activeDeadlineSeconds` bounds the run;
 * `podFailurePolicy` can fail the job, ignore a failure or count it; `suspend` removes the active
 * pods. Indexed jobs give each pod a completion index (annotation, label, JOB_COMPLETION_INDEX,
 * hostname `<job>-<index>`) and track `completedIndexes`. A finished job gets the interim
 * condition first (SuccessCriteriaMet or FailureTarget) and the terminal one (Complete or Failed)
 * once no pod is left terminating, as kube ≥ 1.31 does.
 */
import { labelSelectorFromObject, matchesLabels, type KubeObject, type LabelSelector, type OwnerReference } from '@canopy/apimachinery';
import { isNotFound, objectKey, rfc3339, types, WorkQueue, type Informer } from '@canopy/client';
import type { ControllerContext, ControllerFactory } from './context.js';
import {
  addControllerIndex,
  controlledBy,
  ControllerExpectations,
  ControllerRefManager,
  getControllerOf,
  hasStatusCause,
  isPodActive,
  isPodReady,
  NAMESPACE_TERMINATING_CAUSE,
  newControllerRef,
  orphansIn,
  podFromTemplate,
  podsToDelete,
  recheckOwner,
  slowStartBatch,
  SLOW_START_INITIAL_BATCH_SIZE,
} from './controller-utils/index.js';
import { QueueController } from './queue-controller.js';
import type { Condition, Job, JobStatus, Pod, PodFailurePolicyRule } from './workload-types.js';
import { isPodTerminating } from './workload-util.js';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const JOB_COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const JOB_COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
export const JOB_CONTROLLER_NAME = 'kubernetes.io/job-controller';

const API_VERSION = 'batch/v1';
const KIND = 'Job';
/** DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 10 * 60_000;
/** MaxUncountedPods: keeps uncountedTerminatedPods small and one big job from starving others. */
const MAX_UNCOUNTED_PODS = 500;
const MAX_POD_CREATE_DELETE_PER_SYNC = 500;
const MAX_GENERATED_NAME_PREFIX = 58;

// --- conditions ---------------------------------------------------------------------------------

function newCondition(type: string, reason: string, message: string, now: number): Condition {
  const t = rfc3339(now);
  return { type, status: 'True', lastProbeTime: t, lastTransitionTime: t, reason, message };
}

function findCondition(job: Job, type: string): Condition | undefined {
  return job.status?.conditions?.find((c) => c.type === type);
}

/** A job is finished once it has a true Complete or Failed condition. */
export function isJobFinished(job: Job): boolean {
  return (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** ensureJobConditionStatus: sets a condition's status, reason and message; false over nothing is no change. */
function ensureCondition(status: JobStatus, type: string, value: 'True' | 'False', reason: string, message: string, now: number): boolean {
  const list = (status.conditions ??= []);
  const existing = list.find((c) => c.type === type);
  if (existing) {
    if (existing.status === value && existing.reason === reason && existing.message === message) return false;
    Object.assign(existing, { ...newCondition(type, reason, message, now), status: value });
    return true;
  }
  if (value === 'False') return false;
  list.push(newCondition(type, reason, message, now));
  return true;
}

// --- pods ----------------------------------------------------------------------------------------

function hasFinalizer(pod: Pod): boolean {
  return (pod.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
}

const REMOVE_FINALIZER_PATCH = { metadata: { [`$deleteFromPrimitiveList/finalizers`]: [JOB_TRACKING_FINALIZER] } };

/** The pod's completion index, or -1 without a valid one. */
export function completionIndex(pod: KubeObject): number {
  const v = pod.metadata.annotations?.[JOB_COMPLETION_INDEX_ANNOTATION];
  if (v === undefined || !/^\d+$/.test(v)) return -1;
  const n = Number(v);
  return n <= 2147483647 ? n : -1;
}

function onlyReplaceFailedPods(job: Job): boolean {
  return job.spec.podReplacementPolicy === 'Failed' || !!job.spec.podFailurePolicy;
}

/** isPodFailed: Failed, or (unless only failed pods are replaced) deleted before succeeding. */
function isPodFailed(pod: Pod, job: Job): boolean {
  if (pod.status?.phase === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return !!pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded';
}

/** getFinishedTime: the last container's finish, the Ready=False transition, the deletion, or creation. */
function finishedTime(pod: Pod): number {
  let latest: number | undefined;
  const statuses = pod.status?.containerStatuses ?? [];
  let all = statuses.length > 0;
  for (const s of statuses) {
    const at = s.state?.terminated?.finishedAt ? Date.parse(s.state.terminated.finishedAt) : NaN;
    if (Number.isNaN(at)) {
      all = false;
      break;
    }
    latest = latest === undefined ? at : Math.max(latest, at);
  }
  if (all && latest !== undefined) return latest;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'False' && ready.lastTransitionTime) return Date.parse(ready.lastTransitionTime);
  if (pod.metadata.deletionTimestamp) return Date.parse(pod.metadata.deletionTimestamp) - (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
  return Date.parse(pod.metadata.creationTimestamp ?? '') || 0;
}

/** matchPodFailurePolicy: the FailJob message, whether the failure counts, and the action of the matching rule. */
export function matchPodFailurePolicy(rules: PodFailurePolicyRule[] | undefined, pod: Pod): { failJobMessage?: string; count: boolean; action?: string } {
  if (!rules) return { count: true };
  for (const [index, rule] of rules.entries()) {
    if (rule.onExitCodes) {
      const req = rule.onExitCodes;
      const matched = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((s) => {
        const exit = s.state?.terminated?.exitCode;
        if (exit === undefined || exit === 0) return false;
        if (req.containerName && req.containerName !== s.name) return false;
        const listed = (req.values ?? []).includes(exit);
        return req.operator === 'In' ? listed : req.operator === 'NotIn' ? !listed : false;
      });
      if (!matched) continue;
      if (rule.action === 'Ignore') return { count: false, action: 'Ignore' };
      if (rule.action === 'Count') return { count: true, action: 'Count' };
      if (rule.action === 'FailJob') {
        const message = `Container ${matched.name} for pod ${pod.metadata.namespace}/${pod.metadata.name} failed with exit code ${matched.state!.terminated!.exitCode} matching FailJob rule at index ${index}`;
        return { failJobMessage: message, count: true, action: 'FailJob' };
      }
      // FailIndex needs backoffLimitPerIndex, which Canopy does not implement: the failure counts.
      return { count: true, action: rule.action };
    }
    if (rule.onPodConditions) {
      const condition = (pod.status?.conditions ?? []).find((c) => rule.onPodConditions!.some((p) => p.type === c.type && (p.status ?? 'True') === c.status));
      if (!condition) continue;
      if (rule.action === 'Ignore') return { count: false, action: 'Ignore' };
      if (rule.action === 'Count') return { count: true, action: 'Count' };
      if (rule.action === 'FailJob') {
        return { failJobMessage: `Pod ${pod.metadata.namespace}/${pod.metadata.name} has condition ${condition.type} matching FailJob rule at index ${index}`, count: true, action: 'FailJob' };
      }
      return { count: true, action: rule.action };
    }
  }
  return { count: true };
}

// --- completion indexes ---------------------------------------------------------------------------

/** parseIndexesFromString: "1,3-5" → {1,3,4,5}, ignoring what is malformed or ≥ completions. */
export function parseIndexes(text: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  for (const part of (text ?? '').split(',')) {
    if (!part) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) continue;
    const first = Number(m[1]);
    const last = Math.min(m[2] === undefined ? first : Number(m[2]), completions - 1);
    for (let i = first; i <= last; i++) out.add(i);
  }
  return out;
}

/** orderedIntervals.String: sorted indexes as "1,3-5". */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

// --- pod failure backoff (backoff_utils.go) ------------------------------------------------------------

interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

function newBackoffRecord(previous: BackoffRecord | undefined, succeeded: Pod[], failed: Pod[]): BackoffRecord {
  const record: BackoffRecord = { ...(previous ?? { failuresAfterLastSuccess: 0 }) };
  const failedTimes = failed.map(finishedTime).sort((a, b) => a - b);
  if (!succeeded.length) {
    if (!failed.length) return record;
    return { failuresAfterLastSuccess: record.failuresAfterLastSuccess + failed.length, lastFailureTime: failedTimes[failedTimes.length - 1] };
  }
  const lastSuccess = Math.max(...succeeded.map(finishedTime));
  const out: BackoffRecord = { failuresAfterLastSuccess: 0 };
  for (let i = failedTimes.length - 1; i >= 0 && failedTimes[i] > lastSuccess; i--) {
    out.lastFailureTime ??= failedTimes[i];
    out.failuresAfterLastSuccess++;
  }
  return out;
}

/** getRemainingTimeForFailuresCount: how long pod creation must still wait after the failures. */
export function backoffRemaining(record: BackoffRecord, now: number): number {
  if (!record.failuresAfterLastSuccess || record.lastFailureTime === undefined) return 0;
  let delay = POD_FAILURE_BACKOFF_MS;
  for (let i = 1; i < record.failuresAfterLastSuccess; i++) {
    delay *= 2;
    if (delay >= MAX_POD_FAILURE_BACKOFF_MS) {
      delay = MAX_POD_FAILURE_BACKOFF_MS;
      break;
    }
  }
  const elapsed = now - record.lastFailureTime;
  return delay < elapsed ? 0 : delay - elapsed;
}

// --- the controller --------------------------------------------------------------------------------

export interface JobControllerOptions {
  /** Pod events for a job are batched this long before it syncs (kube's syncJobBatchPeriod, 1 s). Real time. */
  syncBatchMs?: number;
}

interface SyncContext {
  job: Job;
  pods: Pod[];
  activePods: Pod[];
  finished?: Condition;
  succeeded: number;
  failed: number;
  prevSucceededIndexes: Set<number>;
  succeededIndexes: Set<number>;
  backoff: BackoffRecord;
  expectedRemovals: Set<string>;
  uncountedSucceeded: Set<string>;
  uncountedFailed: Set<string>;
  terminating: number;
  ready: number;
}

export class JobController extends QueueController {
  readonly name = 'job';
  private readonly jobs: Informer<Job>;
  private readonly pods: Informer<Pod>;
  private readonly expectations: ControllerExpectations;
  /** The pod uids whose finalizer removal was asked for and not yet seen (uidTrackingExpectations). */
  private readonly finalizerRemovals = new Map<string, Set<string>>();
  private readonly backoffRecords = new Map<string, BackoffRecord>();
  private readonly orphanQueue = new WorkQueue<string>({ baseDelayMs: 1000, maxDelayMs: 60_000 });
  private readonly batchMs: number;

  constructor(ctx: ControllerContext, options: JobControllerOptions = {}) {
    super(ctx, 5);
    this.batchMs = options.syncBatchMs ?? 1000;
    this.jobs = this.informer(ctx.informers.for<Job>(types.jobs));
    this.pods = this.informer(ctx.informers.for<Pod>(types.pods));
    this.expectations = new ControllerExpectations(ctx.clock);
  }

  protected register(): void {
    addControllerIndex(this.pods as Informer<any>);
    this.jobs.addHandler({
      onAdd: (job) => this.enqueue(objectKey(job)),
      onUpdate: (old, job) => {
        if (old.metadata.generation === job.metadata.generation) this.enqueueBatched(job);
        else this.enqueue(objectKey(job));
        // A finished job must not keep finalizers on its pods (a backup of syncJob's own removal).
        if (isJobFinished(job)) this.cleanupPodFinalizers(job);
        const deadline = job.spec.activeDeadlineSeconds;
        if (job.status?.startTime && deadline !== undefined && deadline !== old.spec.activeDeadlineSeconds) {
          this.enqueueAfter(objectKey(job), deadline * 1000 - (this.ctx.clock.now() - Date.parse(job.status.startTime)));
        }
      },
      onDelete: (job) => {
        this.enqueue(objectKey(job));
        this.cleanupPodFinalizers(job);
      },
    });
    this.pods.addHandler({
      onAdd: (pod) => {
        if (pod.metadata.deletionTimestamp) return this.podDeleted(pod, false);
        const ref = getControllerOf(pod);
        if (ref) {
          const job = this.resolve(pod.metadata.namespace, ref);
          if (!job) return;
          this.expectations.creationObserved(objectKey(job));
          this.enqueueBatched(job);
          return;
        }
        if (hasFinalizer(pod)) this.orphanQueue.add(objectKey(pod));
        for (const job of this.matchingJobs(pod)) this.enqueueBatched(job);
      },
      onUpdate: (old, pod) => {
        if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
        if (pod.metadata.deletionTimestamp) return this.podDeleted(pod, false);
        const finalizerRemoved = !hasFinalizer(pod);
        const ref = getControllerOf(pod);
        const oldRef = getControllerOf(old);
        if (oldRef && oldRef.uid !== ref?.uid) {
          const previous = this.resolve(old.metadata.namespace, oldRef);
          if (previous) {
            if (finalizerRemoved) this.finalizerRemovalObserved(objectKey(previous), pod.metadata.uid!);
            this.enqueueBatched(previous);
          }
        }
        if (ref) {
          const job = this.resolve(pod.metadata.namespace, ref);
          if (!job) return;
          if (finalizerRemoved) this.finalizerRemovalObserved(objectKey(job), pod.metadata.uid!);
          this.enqueueBatched(job);
          return;
        }
        if (hasFinalizer(pod)) this.orphanQueue.add(objectKey(pod));
        for (const job of this.matchingJobs(pod)) this.enqueueBatched(job);
      },
      onDelete: (pod) => this.podDeleted(pod, true),
    });
  }

  override start(): void {
    super.start();
    void Promise.all([this.jobs.waitForSync(), this.pods.waitForSync()]).then(() => this.orphanQueue.run((key) => this.syncOrphanPod(key), 1));
  }

  override stop(): void {
    this.orphanQueue.shutdown();
    super.stop();
  }

  /** Pod-driven syncs are batched (real time: this is load shaping, not job semantics). */
  private enqueueBatched(job: KubeObject): void {
    if (this.batchMs <= 0) this.enqueue(objectKey(job));
    else this.queue.addAfter(objectKey(job), this.batchMs);
  }

  private resolve(namespace: string | undefined, ref: OwnerReference | undefined): Job | undefined {
    if (!ref || ref.kind !== KIND) return undefined;
    const job = this.jobs.get(ref.name, namespace);
    return job?.metadata.uid === ref.uid ? job : undefined;
  }

  private matchingJobs(pod: Pod): Job[] {
    return this.jobs.list(pod.metadata.namespace).filter((job) => {
      try {
        return matchesLabels(labelSelectorFromObject(job.spec.selector), pod.metadata.labels);
      } catch {
        return false;
      }
    });
  }

  private podDeleted(pod: Pod, final: boolean): void {
    const ref = getControllerOf(pod);
    if (!ref) {
      // It may have belonged to a job and lost its reference to the garbage collector.
      if (hasFinalizer(pod)) this.orphanQueue.add(objectKey(pod));
      return;
    }
    const job = this.resolve(pod.metadata.namespace, ref);
    if (!job || isJobFinished(job)) {
      // No sync of this job will remove the finalizer.
      if (hasFinalizer(pod)) this.orphanQueue.add(objectKey(pod));
      return;
    }
    const key = objectKey(job);
    this.expectations.deletionObserved(key, objectKey(pod));
    if (final || !hasFinalizer(pod)) this.finalizerRemovalObserved(key, pod.metadata.uid!);
    this.enqueueBatched(job);
  }

  private finalizerRemovalObserved(key: string, uid: string): void {
    const set = this.finalizerRemovals.get(key);
    if (!set) return;
    set.delete(uid);
    if (!set.size) this.finalizerRemovals.delete(key);
  }

  private cleanupPodFinalizers(job: Job): void {
    for (const pod of controlledBy(this.pods as Informer<any>, job.metadata.uid!) as Pod[]) if (hasFinalizer(pod)) this.orphanQueue.add(objectKey(pod));
  }

  /** syncOrphanPod: the tracking finalizer comes off pods no live job will count. */
  private async syncOrphanPod(key: string): Promise<void> {
    const pod = this.pods.getByKey(key);
    if (!pod || !hasFinalizer(pod)) return;
    const ref = getControllerOf(pod);
    if (ref) {
      if (ref.kind !== KIND || ref.apiVersion !== API_VERSION) return;
      const job = this.resolve(pod.metadata.namespace, ref);
      if (job && job.spec.managedBy && job.spec.managedBy !== JOB_CONTROLLER_NAME) return;
      if (job && !isJobFinished(job)) return;
    }
    try {
      await this.ctx.client.patch(types.pods, pod.metadata.name!, REMOVE_FINALIZER_PATCH, 'strategic', { namespace: pod.metadata.namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  protected async sync(key: string): Promise<void> {
    const shared = this.jobs.getByKey(key);
    if (!shared) {
      this.expectations.delete(key);
      this.finalizerRemovals.delete(key);
      this.backoffRecords.delete(key);
      return;
    }
    if (shared.spec.managedBy && shared.spec.managedBy !== JOB_CONTROLLER_NAME) return;
    if (isJobFinished(shared)) {
      this.backoffRecords.delete(key);
      return;
    }
    const job = structuredClone(shared);
    const mode = job.spec.completionMode ?? 'NonIndexed';
    if (mode !== 'NonIndexed' && mode !== 'Indexed') {
      this.ctx.events.event(job, 'Warning', 'UnknownCompletionMode', 'Skipped Job sync because completion mode is unknown');
      return;
    }
    const indexed = mode === 'Indexed';
    job.status ??= {};
    job.status.uncountedTerminatedPods ??= {};
    const now = () => this.ctx.clock.now();
    const satisfied = this.expectations.satisfied(key);
    const pods = await this.podsForJob(job);
    const activePods = pods.filter((p) => isPodActive(p));
    const uncounted = job.status.uncountedTerminatedPods;
    const ctx: SyncContext = {
      job,
      pods,
      activePods,
      succeeded: 0,
      failed: 0,
      prevSucceededIndexes: new Set(),
      succeededIndexes: new Set(),
      backoff: { failuresAfterLastSuccess: 0 },
      expectedRemovals: new Set(this.finalizerRemovals.get(key) ?? []),
      uncountedSucceeded: new Set(uncounted.succeeded ?? []),
      uncountedFailed: new Set(uncounted.failed ?? []),
      terminating: pods.filter(isPodTerminating).length,
      ready: activePods.filter((p) => isPodReady(p)).length,
    };
    let active = activePods.length;
    const { newSucceeded, newFailed } = this.newFinishedPods(ctx);
    const rules = job.spec.podFailurePolicy?.rules;
    const counted = newFailed.filter((p) => matchPodFailurePolicy(rules, p).count).length;
    ctx.succeeded = (job.status.succeeded ?? 0) + newSucceeded.length + ctx.uncountedSucceeded.size;
    ctx.failed = (job.status.failed ?? 0) + counted + ctx.uncountedFailed.size;
    const suspended = job.spec.suspend === true;
    if (!job.status.startTime && !suspended) job.status.startTime = rfc3339(now());
    ctx.backoff = newBackoffRecord(this.backoffRecords.get(key), newSucceeded, newFailed);

    ctx.finished = findCondition(job, 'SuccessCriteriaMet')?.status === 'True' ? findCondition(job, 'SuccessCriteriaMet') : undefined;
    if (!ctx.finished) {
      const target = findCondition(job, 'FailureTarget');
      if (target?.status === 'True') ctx.finished = newCondition('Failed', target.reason ?? '', target.message ?? '', now());
      else if (rules) {
        for (const pod of pods) {
          if (!isPodFailed(pod, job)) continue;
          const { failJobMessage } = matchPodFailurePolicy(rules, pod);
          if (failJobMessage) {
            ctx.finished = newCondition('FailureTarget', 'PodFailurePolicy', failJobMessage, now());
            break;
          }
        }
      }
    }
    if (!ctx.finished) {
      const backoffLimit = job.spec.backoffLimit ?? 6;
      if (ctx.failed > backoffLimit || this.pastBackoffLimitOnFailure(job, pods)) {
        ctx.finished = newCondition('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', now());
      } else if (this.pastActiveDeadline(job)) {
        ctx.finished = newCondition('FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline', now());
      } else if (job.spec.activeDeadlineSeconds !== undefined && !suspended && job.status.startTime) {
        this.enqueueAfter(key, job.spec.activeDeadlineSeconds * 1000 - (now() - Date.parse(job.status.startTime)));
      }
    }
    if (indexed) {
      const completions = job.spec.completions ?? 0;
      ctx.prevSucceededIndexes = parseIndexes(job.status.completedIndexes, completions);
      ctx.succeededIndexes = new Set(ctx.prevSucceededIndexes);
      for (const pod of pods) {
        const ix = completionIndex(pod);
        if (pod.status?.phase === 'Succeeded' && ix >= 0 && ix < completions && hasFinalizer(pod)) ctx.succeededIndexes.add(ix);
      }
      ctx.succeeded = ctx.succeededIndexes.size;
    }

    let suspendChanged = false;
    let manageError: unknown;
    if (ctx.finished) {
      // The job is done: every active pod goes (its finalizer stays until it is counted).
      const { deleted, deletedReady, error } = await this.deleteActivePods(job, ctx.activePods);
      if (deleted !== active || !satisfied) ctx.finished = undefined;
      active -= deleted;
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      manageError = error;
    } else {
      let managed = false;
      if (satisfied && !job.metadata.deletionTimestamp) {
        try {
          active = await this.manageJob(job, ctx);
        } catch (err) {
          manageError = err;
          active = ctx.activePods.length;
        }
        managed = true;
      }
      const completions = job.spec.completions;
      const complete = completions === undefined || completions === null ? ctx.succeeded > 0 && active === 0 : ctx.succeeded >= completions && active === 0;
      if (complete) {
        ctx.finished = newCondition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods', now());
      } else if (managed) {
        if (suspended) {
          if (ensureCondition(job.status, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now())) {
            suspendChanged = true;
            this.ctx.events.event(job, 'Normal', 'Suspended', 'Job suspended');
          }
        } else if (ensureCondition(job.status, 'Suspended', 'False', 'JobResumed', 'Job resumed', now())) {
          suspendChanged = true;
          this.ctx.events.event(job, 'Normal', 'Resumed', 'Job resumed');
          // activeDeadlineSeconds counts continuous activity: a resumed job starts again.
          job.status.startTime = rfc3339(now());
        }
      }
    }

    const needsUpdate = suspendChanged || active !== (job.status.active ?? 0) || ctx.ready !== job.status.ready || ctx.terminating !== job.status.terminating;
    job.status.active = active;
    job.status.ready = ctx.ready;
    job.status.terminating = ctx.terminating;
    if (!job.status.active) delete job.status.active;
    await this.trackStatusAndRemoveFinalizers(key, ctx, needsUpdate);
    if (manageError) throw manageError;
  }

  /** getPodsForJob: the pods the job controls, adopting matching orphans (with the tracking finalizer). */
  private async podsForJob(job: Job): Promise<Pod[]> {
    let selector: LabelSelector;
    try {
      selector = labelSelectorFromObject(job.spec.selector);
    } catch (err) {
      throw new Error(`couldn't convert Job selector: ${(err as Error).message}`);
    }
    const candidates = [...controlledBy(this.pods as Informer<any>, job.metadata.uid!), ...orphansIn(this.pods as Informer<any>, job.metadata.namespace)] as Pod[];
    const manager = new ControllerRefManager<Pod>({
      client: this.ctx.client,
      type: types.pods,
      owner: job,
      ownerApiVersion: API_VERSION,
      ownerKind: KIND,
      selector,
      canAdopt: recheckOwner(this.ctx.client, types.jobs, job),
    });
    const orphans = new Set(candidates.filter((c) => !getControllerOf(c)).map((c) => c.metadata.uid));
    const claimed = (await manager.claim(candidates)) as Pod[];
    // Adopted pods need the tracking finalizer before they are counted.
    const adopted = claimed.filter((p) => orphans.has(p.metadata.uid) && !hasFinalizer(p));
    for (const pod of adopted) {
      try {
        const patched = await this.ctx.client.patch<Pod>(types.pods, pod.metadata.name!, { metadata: { finalizers: [JOB_TRACKING_FINALIZER], uid: pod.metadata.uid } }, 'strategic', { namespace: pod.metadata.namespace });
        claimed[claimed.indexOf(pod)] = patched;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return claimed;
  }

  /** getNewFinishedPods: finished pods still carrying the finalizer and not yet in uncountedTerminatedPods. */
  private newFinishedPods(ctx: SyncContext): { newSucceeded: Pod[]; newFailed: Pod[] } {
    const valid = (p: Pod, uncounted: Set<string>) => {
      const uid = p.metadata.uid!;
      if (!hasFinalizer(p) || uncounted.has(uid) || ctx.expectedRemovals.has(uid)) return false;
      if (ctx.job.spec.completionMode === 'Indexed') {
        const ix = completionIndex(p);
        if (ix < 0 || ix >= (ctx.job.spec.completions ?? 0)) return false;
      }
      return true;
    };
    return {
      newSucceeded: ctx.pods.filter((p) => valid(p, ctx.uncountedSucceeded) && p.status?.phase === 'Succeeded'),
      newFailed: ctx.pods.filter((p) => valid(p, ctx.uncountedFailed) && isPodFailed(p, ctx.job)),
    };
  }

  /** pastBackoffLimitOnFailure: with restartPolicy OnFailure, container restarts count as failures. */
  private pastBackoffLimitOnFailure(job: Job, pods: Pod[]): boolean {
    if (job.spec.template.spec.restartPolicy !== 'OnFailure') return false;
    let restarts = 0;
    for (const pod of pods) {
      if (pod.status?.phase !== 'Running' && pod.status?.phase !== 'Pending') continue;
      for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) restarts += s.restartCount ?? 0;
    }
    const limit = job.spec.backoffLimit ?? 6;
    return limit === 0 ? restarts > 0 : restarts >= limit;
  }

  private pastActiveDeadline(job: Job): boolean {
    if (job.spec.activeDeadlineSeconds === undefined || !job.status?.startTime || job.spec.suspend) return false;
    return this.ctx.clock.now() - Date.parse(job.status.startTime) >= job.spec.activeDeadlineSeconds * 1000;
  }

  /** deleteActivePods: DELETEs that keep the finalizers (removed once the pods are counted). */
  private async deleteActivePods(job: Job, pods: Pod[]): Promise<{ deleted: number; deletedReady: number; error?: unknown }> {
    let deleted = 0;
    let deletedReady = 0;
    let error: unknown;
    await Promise.all(
      pods.map(async (pod) => {
        try {
          await this.ctx.client.delete(types.pods, pod.metadata.name!, { namespace: pod.metadata.namespace });
          this.ctx.events.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
        } catch (err) {
          if (!isNotFound(err)) {
            error ??= err;
            return;
          }
        }
        deleted++;
        if (isPodReady(pod)) deletedReady++;
      }),
    );
    return { deleted, deletedReady, error };
  }

  /** deleteJobPods: surplus pods lose their finalizer first (they will not be counted), then go. */
  private async deleteJobPods(job: Job, key: string, pods: Pod[]): Promise<{ removed: number; removedReady: number; error?: unknown }> {
    let removed = 0;
    let removedReady = 0;
    let error: unknown;
    await Promise.all(
      pods.map(async (pod) => {
        const failed = (err: unknown) => {
          this.expectations.deletionObserved(key, objectKey(pod));
          if (!isNotFound(err)) error ??= err;
        };
        if (hasFinalizer(pod)) {
          try {
            await this.ctx.client.patch(types.pods, pod.metadata.name!, REMOVE_FINALIZER_PATCH, 'strategic', { namespace: pod.metadata.namespace });
          } catch (err) {
            return failed(err);
          }
        }
        try {
          await this.ctx.client.delete(types.pods, pod.metadata.name!, { namespace: pod.metadata.namespace });
          this.ctx.events.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
          removed++;
          if (isPodReady(pod)) removedReady++;
        } catch (err) {
          if (isNotFound(err)) {
            removed++;
            this.expectations.deletionObserved(key, objectKey(pod));
          } else failed(err);
        }
      }),
    );
    return { removed, removedReady, error };
  }

  /** activePodsForRemoval: duplicated or invalid indexes first (indexed jobs), then kube's deletion order. */
  private activePodsForRemoval(job: Job, pods: Pod[], atLeast: number): Pod[] {
    const rm: Pod[] = [];
    let left = pods;
    if (job.spec.completionMode === 'Indexed') {
      const completions = job.spec.completions ?? 0;
      const byIndex = new Map<number, Pod[]>();
      left = [];
      for (const pod of pods) {
        const ix = completionIndex(pod);
        if (ix < 0 || ix >= completions) rm.push(pod);
        else byIndex.set(ix, [...(byIndex.get(ix) ?? []), pod]);
      }
      for (const group of byIndex.values()) {
        if (group.length === 1) {
          left.push(group[0]);
          continue;
        }
        // Keep the one kube would delete last.
        const victims = podsToDelete(group, group, group.length - 1, this.ctx.clock.now()) as Pod[];
        rm.push(...victims);
        left.push(...group.filter((p) => !victims.includes(p)));
      }
    }
    if (rm.length < atLeast) rm.push(...(podsToDelete(left, left, atLeast - rm.length, this.ctx.clock.now()) as Pod[]));
    return rm;
  }

  /** manageJob: creates or deletes pods towards min(parallelism, remaining completions) active. */
  private async manageJob(job: Job, ctx: SyncContext): Promise<number> {
    const key = objectKey(job);
    let active = ctx.activePods.length;
    const parallelism = job.spec.parallelism ?? 1;
    if (job.spec.suspend) {
      const victims = this.activePodsForRemoval(job, ctx.activePods, active);
      this.expectations.expectDeletions(key, victims.map((p) => objectKey(p)));
      const { removed, removedReady, error } = await this.deleteJobPods(job, key, victims);
      ctx.terminating += removed;
      ctx.ready -= removedReady;
      if (error) throw error;
      return active - removed;
    }
    let wantActive: number;
    const completions = job.spec.completions;
    if (completions === undefined || completions === null) wantActive = ctx.succeeded > 0 ? active : parallelism;
    else wantActive = Math.max(0, Math.min(completions - ctx.succeeded, parallelism));
    const rmAtLeast = Math.max(0, active - wantActive);
    const victims = this.activePodsForRemoval(job, ctx.activePods, rmAtLeast).slice(0, MAX_POD_CREATE_DELETE_PER_SYNC);
    if (victims.length) {
      this.expectations.expectDeletions(key, victims.map((p) => objectKey(p)));
      const { removed, removedReady, error } = await this.deleteJobPods(job, key, victims);
      active -= removed;
      ctx.terminating += removed;
      ctx.ready -= removedReady;
      if (error) throw error;
      // Deleting takes precedence: creations wait for the next sync.
      return active;
    }
    const terminating = onlyReplaceFailedPods(job) ? ctx.terminating : 0;
    let diff = wantActive - terminating - active;
    if (diff <= 0) return active;
    const wait = backoffRemaining(ctx.backoff, this.ctx.clock.now());
    if (wait > 0) {
      this.enqueueAfter(key, Math.max(wait, this.batchMs));
      return active;
    }
    diff = Math.min(diff, MAX_POD_CREATE_DELETE_PER_SYNC);
    let indexes: number[] = [];
    if (job.spec.completionMode === 'Indexed') {
      indexes = this.firstPendingIndexes(ctx, diff);
      diff = indexes.length;
      if (!diff) return active;
    }
    const template = structuredClone(job.spec.template);
    if (job.spec.completionMode === 'Indexed') addCompletionIndexEnv(template.spec);
    template.metadata = { ...(template.metadata ?? {}), finalizers: [...new Set([...(template.metadata?.finalizers ?? []), JOB_TRACKING_FINALIZER])] };
    this.expectations.expectCreations(key, diff);
    const ref = newControllerRef(job, API_VERSION, KIND);
    let attempted = 0;
    const { successes, error } = await slowStartBatch(diff, SLOW_START_INITIAL_BATCH_SIZE, async () => {
      const index = indexes.length ? indexes[attempted] : -1;
      attempted++;
      const pod = podFromTemplate(template as never, job, ref) as Pod;
      if (index >= 0) {
        pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [JOB_COMPLETION_INDEX_ANNOTATION]: String(index) };
        pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [JOB_COMPLETION_INDEX_ANNOTATION]: String(index) };
        pod.spec.hostname = `${job.metadata.name}-${index}`;
        pod.metadata.generateName = generateNameWithIndex(job.metadata.name!, index);
      }
      try {
        const made = await this.ctx.client.create<Pod>(types.pods, pod, { namespace: job.metadata.namespace });
        this.ctx.events.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${made.metadata.name}`);
      } catch (err) {
        // A failed creation will never be observed.
        this.expectations.creationObserved(key);
        if (hasStatusCause(err, NAMESPACE_TERMINATING_CAUSE)) return;
        this.ctx.events.event(job, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
        throw err;
      }
    });
    // Slow start stopped early: what was never attempted will not be observed either.
    for (let i = attempted; i < diff; i++) this.expectations.creationObserved(key);
    active += successes;
    if (error) throw error;
    return active;
  }

  /** firstPendingIndexes: the lowest indexes neither succeeded nor held by an active (or, with podReplacementPolicy Failed, terminating) pod. */
  private firstPendingIndexes(ctx: SyncContext, count: number): number[] {
    const completions = ctx.job.spec.completions ?? 0;
    const taken = new Set(ctx.succeededIndexes);
    for (const pod of ctx.activePods) taken.add(completionIndex(pod));
    if (onlyReplaceFailedPods(ctx.job)) for (const pod of ctx.pods) if (isPodTerminating(pod)) taken.add(completionIndex(pod));
    const out: number[] = [];
    for (let i = 0; i < completions && out.length < count; i++) if (!taken.has(i)) out.push(i);
    return out;
  }

  /**
   * trackJobStatusAndRemoveFinalizers: finished pods into uncountedTerminatedPods (status written
   * first), then their finalizers removed, then counted; the terminal condition once nothing is
   * left uncounted or terminating.
   */
  private async trackStatusAndRemoveFinalizers(key: string, ctx: SyncContext, needsFlushIn: boolean): Promise<void> {
    let needsFlush = needsFlushIn;
    const job = ctx.job;
    const status = job.status!;
    const uncounted = status.uncountedTerminatedPods!;
    uncounted.succeeded ??= [];
    uncounted.failed ??= [];
    const indexed = job.spec.completionMode === 'Indexed';
    const completions = job.spec.completions ?? 0;
    const pods = indexed ? [...ctx.pods].sort((a, b) => completionIndex(a) - completionIndex(b)) : ctx.pods;
    const withFinalizer = new Set<string>();
    for (const p of pods) if (hasFinalizer(p) && !ctx.expectedRemovals.has(p.metadata.uid!)) withFinalizer.add(p.metadata.uid!);
    if (this.cleanUncounted(status, withFinalizer)) needsFlush = true;
    const toRemove: Pod[] = [];
    const newSucceededIndexes: number[] = [];
    let reachedMax = false;
    for (const pod of pods) {
      const uid = pod.metadata.uid!;
      if (!hasFinalizer(pod) || ctx.expectedRemovals.has(uid)) continue;
      const failed = isPodFailed(pod, job);
      // canRemoveFinalizer
      if (!(job.metadata.deletionTimestamp || ctx.finished || pod.status?.phase === 'Succeeded' || failed)) continue;
      toRemove.push(pod);
      if (pod.status?.phase === 'Succeeded' && !ctx.uncountedFailed.has(uid)) {
        if (indexed) {
          const ix = completionIndex(pod);
          if (ix >= 0 && ix < completions && !ctx.prevSucceededIndexes.has(ix)) {
            newSucceededIndexes.push(ix);
            needsFlush = true;
          }
        } else if (!ctx.uncountedSucceeded.has(uid)) {
          uncounted.succeeded.push(uid);
          needsFlush = true;
        }
      } else if (failed || (ctx.finished && ctx.finished.type !== 'SuccessCriteriaMet')) {
        // When the job has failed, every pod not finished counts as failed.
        const ix = completionIndex(pod);
        if (!ctx.uncountedFailed.has(uid) && (!indexed || (ix >= 0 && ix < completions))) {
          if (matchPodFailurePolicy(job.spec.podFailurePolicy?.rules, pod).count) {
            uncounted.failed.push(uid);
            needsFlush = true;
          }
        }
      }
      if (newSucceededIndexes.length + uncounted.succeeded.length + uncounted.failed.length >= MAX_UNCOUNTED_PODS) {
        reachedMax = true;
        break;
      }
    }
    if (indexed) {
      for (const ix of newSucceededIndexes) ctx.succeededIndexes.add(ix);
      const text = formatIndexes(ctx.succeededIndexes);
      if (text !== (status.completedIndexes ?? '')) needsFlush = true;
      status.succeeded = ctx.succeededIndexes.size;
      status.completedIndexes = text;
    }
    if (ctx.finished?.type === 'FailureTarget') {
      // The interim condition goes in before finalizers come off; Failed follows.
      if (!findCondition(job, 'FailureTarget')) {
        status.conditions = [...(status.conditions ?? []), ctx.finished];
        needsFlush = true;
      }
      ctx.finished = newCondition('Failed', ctx.finished.reason ?? '', ctx.finished.message ?? '', this.ctx.clock.now());
    } else if (ctx.finished?.type === 'SuccessCriteriaMet') {
      if (!findCondition(job, 'SuccessCriteriaMet')) {
        status.conditions = [...(status.conditions ?? []), ctx.finished];
        needsFlush = true;
      }
      ctx.finished = newCondition('Complete', ctx.finished.reason ?? '', ctx.finished.message ?? '', this.ctx.clock.now());
    }

    // flushUncountedAndRemoveFinalizers
    if (needsFlush) {
      ctx.job = await this.writeStatus(ctx.job);
      this.backoffRecords.set(key, ctx.backoff);
      needsFlush = false;
    }
    let removalError: unknown;
    if (toRemove.length) {
      let set = this.finalizerRemovals.get(key);
      if (!set) this.finalizerRemovals.set(key, (set = new Set()));
      for (const p of toRemove) set.add(p.metadata.uid!);
      await Promise.all(
        toRemove.map(async (pod) => {
          try {
            await this.ctx.client.patch(types.pods, pod.metadata.name!, REMOVE_FINALIZER_PATCH, 'strategic', { namespace: pod.metadata.namespace });
            withFinalizer.delete(pod.metadata.uid!);
          } catch (err) {
            this.finalizerRemovalObserved(key, pod.metadata.uid!);
            if (isNotFound(err)) withFinalizer.delete(pod.metadata.uid!);
            else removalError ??= err;
          }
        }),
      );
    }
    if (this.cleanUncounted(ctx.job.status!, withFinalizer)) needsFlush = true;
    if (removalError) {
      if (needsFlush) ctx.job = await this.writeStatus(ctx.job);
      throw removalError;
    }
    // enactJobFinished: only with nothing uncounted and nothing still terminating.
    let finished = false;
    const final = ctx.job.status!;
    const left = (final.uncountedTerminatedPods?.succeeded?.length ?? 0) + (final.uncountedTerminatedPods?.failed?.length ?? 0);
    if (ctx.finished && !reachedMax && left === 0 && ctx.terminating === 0) {
      ensureCondition(final, ctx.finished.type, 'True', ctx.finished.reason ?? '', ctx.finished.message ?? '', this.ctx.clock.now());
      if (ctx.finished.type === 'Complete') final.completionTime = findCondition(ctx.job, 'Complete')!.lastTransitionTime;
      finished = true;
      needsFlush = true;
    }
    if (needsFlush) {
      ctx.job = await this.writeStatus(ctx.job);
      if (finished) this.recordFinished(ctx.job, ctx.finished!);
    }
  }

  /** cleanUncountedPodsWithoutFinalizers: uids whose finalizer is gone move to the counters. */
  private cleanUncounted(status: JobStatus, withFinalizer: Set<string>): boolean {
    const uncounted = (status.uncountedTerminatedPods ??= {});
    let changed = false;
    const keepSucceeded = (uncounted.succeeded ?? []).filter((u) => withFinalizer.has(u));
    if (keepSucceeded.length !== (uncounted.succeeded ?? []).length) {
      status.succeeded = (status.succeeded ?? 0) + (uncounted.succeeded!.length - keepSucceeded.length);
      uncounted.succeeded = keepSucceeded;
      changed = true;
    }
    const keepFailed = (uncounted.failed ?? []).filter((u) => withFinalizer.has(u));
    if (keepFailed.length !== (uncounted.failed ?? []).length) {
      status.failed = (status.failed ?? 0) + (uncounted.failed!.length - keepFailed.length);
      uncounted.failed = keepFailed;
      changed = true;
    }
    return changed;
  }

  private recordFinished(job: Job, condition: Condition): void {
    if (condition.type === 'Complete') {
      const completions = job.spec.completions;
      if (completions !== undefined && completions !== null && (job.status?.succeeded ?? 0) > completions) {
        this.ctx.events.event(job, 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached');
      }
      this.ctx.events.event(job, 'Normal', 'Completed', 'Job completed');
    } else {
      this.ctx.events.event(job, 'Warning', condition.reason ?? 'Failed', condition.message ?? '');
    }
  }

  /** updateJobStatus; empty uncounted lists and zero counters are left out as kube's omitempty does. */
  private async writeStatus(job: Job): Promise<Job> {
    const status = structuredClone(job.status ?? {});
    const uncounted = status.uncountedTerminatedPods ?? {};
    if (!uncounted.succeeded?.length) delete uncounted.succeeded;
    if (!uncounted.failed?.length) delete uncounted.failed;
    status.uncountedTerminatedPods = uncounted;
    for (const k of ['active', 'succeeded', 'failed'] as const) if (!status[k]) delete status[k];
    if (!status.completedIndexes) delete status.completedIndexes;
    const written = await this.ctx.client.updateStatus<Job>(types.jobs, { ...job, status });
    written.status ??= {};
    written.status.uncountedTerminatedPods ??= {};
    return written;
  }
}

/** addCompletionIndexEnvVariables: JOB_COMPLETION_INDEX from the pod's annotation, in every container. */
function addCompletionIndexEnv(spec: Pod['spec']): void {
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if ((c.env ?? []).some((e) => e.name === JOB_COMPLETION_INDEX_ENV)) continue;
    c.env = [...(c.env ?? []), { name: JOB_COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JOB_COMPLETION_INDEX_ANNOTATION}']` } } }];
  }
}

/** podGenerateNameWithIndex: `<job>-<index>-`, the job name cut so the prefix fits. */
function generateNameWithIndex(jobName: string, index: number): string {
  const suffix = `-${index}-`;
  const prefix = jobName + suffix;
  return prefix.length > MAX_GENERATED_NAME_PREFIX ? jobName.slice(0, MAX_GENERATED_NAME_PREFIX - suffix.length) + suffix : prefix;
}

export function jobController(options: JobControllerOptions = {}): ControllerFactory {
  return { serviceAccount: 'job-controller', create: (ctx) => new JobController(ctx, options) };
}
