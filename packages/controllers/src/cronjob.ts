/**
 * The CronJob controller (kube's cronjob_controllerv2.go and utils.go): creates a Job for each
 * time the schedule (cron syntax, in `spec.timeZone` or the controller's zone) comes due, named
 * `<cronjob>-<scheduled minutes since the epoch>` so that a time is never run twice, annotated
 * with `batch.kubernetes.io/cronjob-scheduled-timestamp`. Only the most recent missed time is
 * run; more than 100 missed times is reported; `startingDeadlineSeconds` skips times too old to
 * start. `concurrencyPolicy` Forbid skips a run while one is active, Replace deletes the active
 * ones first. Finished jobs beyond the history limits are deleted oldest first. `status.active`,
 * `lastScheduleTime` and `lastSuccessfulTime` follow the jobs. All times come from the
 * controller's clock, and the next run is a delayed wake-up on it.
 */
import type { OwnerReference } from '@canopy/apimachinery';
import { isAlreadyExists, isNotFound, objectKey, rfc3339, types, type Informer } from '@canopy/client';
import type { ControllerContext, ControllerFactory } from './context.js';
import { addControllerIndex, controlledBy, getControllerOf, hasStatusCause, NAMESPACE_TERMINATING_CAUSE, newControllerRef } from './controller-utils/index.js';
import { CronParseError, formatRfc3339InZone, isKnownTimeZone, parseCronSchedule, type CronSchedule } from './cron.js';
import { QueueController } from './queue-controller.js';
import type { CronJob, Job, ObjectReference } from './workload-types.js';

export const CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const API_VERSION = 'batch/v1';
const KIND = 'CronJob';
/** nextScheduleDelta: wake a little after the scheduled time, so a slightly early timer still finds it due. */
const NEXT_SCHEDULE_DELTA_MS = 100;
const TOO_MANY_MISSED = 100;

type Missed = 'none' | 'few' | 'many';
/** syncCronJob's answer when the cached CronJob turned out older than the server's. */
const STALE = Symbol('stale');

function finishedType(job: Job): 'Complete' | 'Failed' | undefined {
  for (const c of job.status?.conditions ?? []) if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  return undefined;
}

/**
 * mostRecentScheduleTime: the earliest time considered (last schedule or creation, or the
 * starting deadline), the most recent due time not after `now`, and how many were missed.
 */
export function mostRecentScheduleTime(
  cj: CronJob,
  now: number,
  schedule: CronSchedule,
  includeStartingDeadline: boolean,
): { earliest: number; mostRecent?: number; missed: Missed; error?: string } {
  let earliest = Date.parse(cj.status?.lastScheduleTime ?? cj.metadata.creationTimestamp ?? '') || 0;
  if (includeStartingDeadline && cj.spec.startingDeadlineSeconds !== undefined && cj.spec.startingDeadlineSeconds !== null) {
    const deadline = now - cj.spec.startingDeadlineSeconds * 1000;
    if (deadline > earliest) earliest = deadline;
  }
  const t1 = schedule.next(earliest);
  const t2 = t1 === undefined ? undefined : schedule.next(t1);
  if (t1 !== undefined && now < t1) return { earliest, missed: 'none' };
  if (t1 !== undefined && t2 !== undefined && now < t2) return { earliest, mostRecent: t1, missed: 'none' };
  // A schedule that parses but never fires (31 February) has no interval.
  const interval = t1 !== undefined && t2 !== undefined ? Math.round((t2 - t1) / 1000) : 0;
  if (interval < 1) return { earliest, missed: 'none', error: 'time difference between two schedules is less than 1 second' };
  // Roughly how many intervals fit since t1; then walk the real schedule from one interval before.
  const elapsed = Math.floor((now - t1!) / 1000);
  const missedCount = Math.floor(elapsed / interval) + 1;
  let mostRecent: number | undefined;
  const potentialEarliest = t1! + (missedCount - 2) * interval * 1000;
  for (let t = schedule.next(potentialEarliest); t !== undefined && t <= now; t = schedule.next(t)) mostRecent = t;
  const missed: Missed = missedCount > TOO_MANY_MISSED ? 'many' : missedCount > 0 ? 'few' : 'none';
  return { earliest, mostRecent, missed };
}

/** nextScheduleTimeDuration: how long until the next wake-up (the next due time plus a small delta). */
export function nextScheduleDelay(cj: CronJob, now: number, schedule: CronSchedule): number | undefined {
  const { earliest, mostRecent, missed, error } = mostRecentScheduleTime(cj, now, schedule, false);
  let from: number;
  if (error) from = now;
  else if (mostRecent === undefined) from = missed === 'none' ? earliest : now;
  else from = mostRecent;
  const next = schedule.next(from);
  return next === undefined ? undefined : next + NEXT_SCHEDULE_DELTA_MS - now;
}

/** RFC 1123 with a numeric zone, in UTC (Go's time.RFC1123Z), as the MissSchedule event words it. */
function rfc1123z(ms: number): string {
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export function jobNameFor(cj: CronJob, scheduled: number): string {
  return `${cj.metadata.name}-${Math.floor(scheduled / 60_000)}`;
}

function reference(job: Job): ObjectReference {
  return {
    kind: 'Job',
    namespace: job.metadata.namespace,
    name: job.metadata.name,
    uid: job.metadata.uid,
    apiVersion: API_VERSION,
    resourceVersion: job.metadata.resourceVersion,
  };
}

/** byJobStartTime: jobs with a start time first, oldest first, then by name. */
function byStartTime(a: Job, b: Job): number {
  const sa = a.status?.startTime;
  const sb = b.status?.startTime;
  if (!sa && sb) return 1;
  if (sa && !sb) return -1;
  if (sa && sb && sa !== sb) return Date.parse(sa) - Date.parse(sb);
  return (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

export class CronJobController extends QueueController {
  readonly name = 'cronjob';
  private readonly cronJobs: Informer<CronJob>;
  private readonly jobs: Informer<Job>;

  constructor(ctx: ControllerContext) {
    super(ctx, 2);
    this.cronJobs = this.informer(ctx.informers.for<CronJob>(types.cronJobs));
    this.jobs = this.informer(ctx.informers.for<Job>(types.jobs));
  }

  protected register(): void {
    addControllerIndex(this.jobs);
    this.cronJobs.addHandler({
      onAdd: (cj) => this.enqueue(objectKey(cj)),
      onUpdate: (old, cj) => {
        if (old.spec.schedule !== cj.spec.schedule || old.spec.timeZone !== cj.spec.timeZone) {
          // A new schedule: wake at its next time (an earlier pending wake-up still wins and is a no-op).
          const schedule = this.parse(cj, false);
          if (!schedule) return;
          const delay = nextScheduleDelay(cj, this.ctx.clock.now(), schedule);
          if (delay !== undefined) this.enqueueAfter(objectKey(cj), delay);
          return;
        }
        this.enqueue(objectKey(cj));
      },
      onDelete: (cj) => this.enqueue(objectKey(cj)),
    });
    const jobChanged = (job: Job, old?: Job) => {
      if (old && old.metadata.resourceVersion === job.metadata.resourceVersion) return;
      const oldRef = old && getControllerOf(old);
      const ref = getControllerOf(job);
      if (oldRef && oldRef.uid !== ref?.uid) this.enqueueOwner(old!.metadata.namespace, oldRef);
      this.enqueueOwner(job.metadata.namespace, ref);
    };
    this.jobs.addHandler({ onAdd: (job) => jobChanged(job), onUpdate: (old, job) => jobChanged(job, old), onDelete: (job) => jobChanged(job) });
  }

  private enqueueOwner(namespace: string | undefined, ref: OwnerReference | undefined): void {
    if (!ref || ref.kind !== KIND) return;
    const cj = this.cronJobs.get(ref.name, namespace);
    if (cj && cj.metadata.uid === ref.uid) this.enqueue(objectKey(cj));
  }

  /** formatSchedule + cron.ParseStandard; with `record`, problems become events. */
  private parse(cj: CronJob, record: boolean): CronSchedule | undefined {
    let spec = cj.spec.schedule;
    if (spec.includes('TZ')) {
      if (record) this.ctx.events.event(cj, 'Warning', 'UnsupportedSchedule', `CRON_TZ or TZ used in schedule ${JSON.stringify(spec)} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`);
    } else if (cj.spec.timeZone !== undefined && cj.spec.timeZone !== null && isKnownTimeZone(cj.spec.timeZone)) {
      spec = `TZ=${cj.spec.timeZone} ${spec}`;
    }
    try {
      return parseCronSchedule(spec, 'Local');
    } catch (err) {
      if (!(err instanceof CronParseError)) throw err;
      if (record) this.ctx.events.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cj.spec.schedule)} : ${err.message}`);
      else this.ctx.events.event(cj, 'Warning', 'UnParseableCronJobSchedule', `unparseable schedule for cronjob: ${cj.spec.schedule}`);
      return undefined;
    }
  }

  protected async sync(key: string): Promise<void> {
    const cached = this.cronJobs.getByKey(key);
    if (!cached) return;
    return this.syncFrom(key, cached, false);
  }

  private async syncFrom(key: string, source: CronJob, fresh: boolean): Promise<void> {
    const jobs = controlledBy(this.jobs, source.metadata.uid!) as Job[];
    const cj = structuredClone(source);
    cj.status ??= {};
    const cleaned = await this.cleanupFinishedJobs(cj, jobs);
    let requeue: number | undefined;
    let changed = cleaned;
    let syncError: unknown;
    try {
      const result = await this.syncCronJob(cj, jobs, fresh);
      if (result === STALE) {
        // The cache lags our own last status write: decide again on the server's CronJob.
        const current = await this.ctx.client.tryGet<CronJob>(types.cronJobs, source.metadata.name!, source.metadata.namespace);
        if (current && current.metadata.uid === source.metadata.uid) return this.syncFrom(key, current, true);
        return;
      }
      requeue = result.requeueAfter;
      changed ||= result.updateStatus;
    } catch (err) {
      syncError = err;
    }
    if (changed) {
      const status = { ...cj.status };
      if (!status.active?.length) delete status.active;
      await this.ctx.client.updateStatus(types.cronJobs, { ...cj, status });
    }
    if (requeue !== undefined) this.enqueueAfter(key, requeue);
    if (syncError) throw syncError;
  }

  /** syncCronJob: reconcile status with the jobs, then start the due run if there is one. */
  private async syncCronJob(cj: CronJob, jobs: Job[], fresh: boolean): Promise<{ requeueAfter?: number; updateStatus: boolean } | typeof STALE> {
    const now = this.ctx.clock.now();
    let updateStatus = false;
    const status = cj.status!;
    const inActive = (uid: string | undefined) => (status.active ?? []).some((r) => r.uid === uid);
    const removeActive = (uid: string | undefined) => {
      status.active = (status.active ?? []).filter((r) => r.uid !== uid);
    };
    const children = new Set<string>();
    for (const job of jobs) {
      children.add(job.metadata.uid!);
      const finished = finishedType(job);
      const found = inActive(job.metadata.uid);
      if (!found && !finished) {
        // Our status may be older than our jobs list: look at the server's before complaining.
        const fresh = await this.ctx.client.tryGet<CronJob>(types.cronJobs, cj.metadata.name!, cj.metadata.namespace);
        if (fresh && (fresh.status?.active ?? []).some((r) => r.uid === job.metadata.uid)) {
          Object.assign(cj, { metadata: fresh.metadata, spec: fresh.spec, status: { ...(fresh.status ?? {}) } });
          return this.syncCronJob(cj, jobs, true);
        }
        this.ctx.events.event(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${job.metadata.name}`);
      } else if (found && finished) {
        removeActive(job.metadata.uid);
        this.ctx.events.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata.name}, status: ${finished}`);
        updateStatus = true;
      }
      if (finished === 'Complete' && job.status?.completionTime) {
        if (!status.lastSuccessfulTime || Date.parse(job.status.completionTime) > Date.parse(status.lastSuccessfulTime)) {
          status.lastSuccessfulTime = job.status.completionTime;
          updateStatus = true;
        }
      }
    }
    // Active references to jobs that are gone (asked of the server: the cache may lag).
    for (const ref of [...(status.active ?? [])]) {
      if (children.has(ref.uid ?? '')) continue;
      const job = await this.ctx.client.tryGet(types.jobs, ref.name!, ref.namespace);
      if (!job) {
        this.ctx.events.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        removeActive(ref.uid);
        updateStatus = true;
      }
    }
    if (cj.metadata.deletionTimestamp) return { updateStatus };
    if (cj.spec.timeZone !== undefined && cj.spec.timeZone !== null && !isKnownTimeZone(cj.spec.timeZone)) {
      this.ctx.events.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(cj.spec.timeZone)}: unknown time zone ${cj.spec.timeZone}`);
      return { updateStatus };
    }
    if (cj.spec.suspend) return { updateStatus };
    const schedule = this.parse(cj, true);
    if (!schedule) return { updateStatus };

    const { mostRecent, missed, error } = mostRecentScheduleTime(cj, now, schedule, true);
    if (error) {
      this.ctx.events.event(cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${cj.spec.schedule} : ${error}`);
      return { updateStatus };
    }
    const next = () => nextScheduleDelay(cj, now, schedule);
    if (mostRecent === undefined || mostRecent > now) return { requeueAfter: next(), updateStatus };
    if (missed === 'many') {
      this.ctx.events.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    }
    const scheduled = mostRecent;
    if (cj.spec.startingDeadlineSeconds !== undefined && cj.spec.startingDeadlineSeconds !== null && scheduled + cj.spec.startingDeadlineSeconds * 1000 < now) {
      this.ctx.events.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`);
      return { requeueAfter: next(), updateStatus };
    }
    const name = jobNameFor(cj, scheduled);
    if ((status.active ?? []).some((r) => r.name === name && r.namespace === cj.metadata.namespace) || (status.lastScheduleTime && Date.parse(status.lastScheduleTime) === scheduled)) {
      return { requeueAfter: next(), updateStatus };
    }
    // Starting a job cannot be undone: make sure the status it is decided on is the server's.
    if (!fresh) {
      const current = await this.ctx.client.tryGet<CronJob>(types.cronJobs, cj.metadata.name!, cj.metadata.namespace);
      if (!current) return { updateStatus: false };
      if (current.metadata.resourceVersion !== cj.metadata.resourceVersion) return STALE;
    }
    if (cj.spec.concurrencyPolicy === 'Forbid' && (status.active ?? []).length > 0) {
      this.ctx.events.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return { requeueAfter: next(), updateStatus };
    }
    if (cj.spec.concurrencyPolicy === 'Replace') {
      for (const ref of [...(status.active ?? [])]) {
        const job = await this.ctx.client.tryGet<Job>(types.jobs, ref.name!, ref.namespace);
        if (!job) {
          removeActive(ref.uid);
          updateStatus = true;
          continue;
        }
        if (!(await this.deleteJob(cj, job))) throw new Error(`could not replace job ${job.metadata.namespace}/${job.metadata.name}`);
        updateStatus = true;
      }
    }

    const request = this.jobFromTemplate(cj, scheduled);
    let created: Job;
    try {
      created = await this.ctx.client.create<Job>(types.jobs, request, { namespace: cj.metadata.namespace });
      this.ctx.events.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
    } catch (err) {
      if (hasStatusCause(err, NAMESPACE_TERMINATING_CAUSE)) throw err;
      if (!isAlreadyExists(err)) {
        this.ctx.events.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
        throw err;
      }
      // Created before but not recorded (or by someone else, who then keeps the status).
      const existing = await this.ctx.client.get<Job>(types.jobs, request.metadata.name!, cj.metadata.namespace);
      if (getControllerOf(existing)?.uid !== cj.metadata.uid || inActive(existing.metadata.uid)) return { updateStatus };
      created = existing;
    }
    status.active = [...(status.active ?? []), reference(created)];
    status.lastScheduleTime = rfc3339(scheduled);
    return { requeueAfter: next(), updateStatus: true };
  }

  /** getJobFromTemplate2. */
  private jobFromTemplate(cj: CronJob, scheduled: number): Job {
    const meta = cj.spec.jobTemplate.metadata ?? {};
    return {
      apiVersion: API_VERSION,
      kind: 'Job',
      metadata: {
        name: jobNameFor(cj, scheduled),
        namespace: cj.metadata.namespace,
        labels: { ...(meta.labels ?? {}) },
        annotations: { ...(meta.annotations ?? {}), [CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]: formatRfc3339InZone(scheduled, cj.spec.timeZone ?? '') },
        ownerReferences: [newControllerRef(cj, API_VERSION, KIND)],
      },
      spec: structuredClone(cj.spec.jobTemplate.spec),
    };
  }

  /** deleteJob: the job and, in the background, its pods; and its reference in status.active. */
  private async deleteJob(cj: CronJob, job: Job): Promise<boolean> {
    try {
      await this.ctx.client.delete(types.jobs, job.metadata.name!, { namespace: job.metadata.namespace, propagationPolicy: 'Background' });
    } catch (err) {
      if (!isNotFound(err)) {
        this.ctx.events.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${(err as Error).message}`);
        return false;
      }
    }
    cj.status!.active = (cj.status!.active ?? []).filter((r) => r.uid !== job.metadata.uid);
    this.ctx.events.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
    return true;
  }

  /** cleanupFinishedJobs: successful and failed jobs beyond their history limits, oldest first. */
  private async cleanupFinishedJobs(cj: CronJob, jobs: Job[]): Promise<boolean> {
    const successful = jobs.filter((j) => finishedType(j) === 'Complete' && !j.metadata.deletionTimestamp);
    const failed = jobs.filter((j) => finishedType(j) === 'Failed' && !j.metadata.deletionTimestamp);
    let changed = false;
    const removeOldest = async (list: Job[], limit: number | undefined) => {
      if (limit === undefined || limit === null) return;
      const excess = list.length - limit;
      if (excess <= 0) return;
      for (const job of [...list].sort(byStartTime).slice(0, excess)) if (await this.deleteJob(cj, job)) changed = true;
    };
    await removeOldest(successful, cj.spec.successfulJobsHistoryLimit);
    await removeOldest(failed, cj.spec.failedJobsHistoryLimit);
    return changed;
  }
}

export function cronJobController(): ControllerFactory {
  return { serviceAccount: 'cronjob-controller', create: (ctx) => new CronJobController(ctx) };
}

