/**
 * The TTL-after-finished controller (kube's pkg/controller/ttlafterfinished): a finished Job with
 * `ttlSecondsAfterFinished` is deleted, with its pods (foreground propagation), that many seconds
 * after its Complete or Failed condition — re-checked against a fresh read first, so a TTL that
 * was raised or removed meanwhile is honoured.
 */
import { isNotFound, objectKey, types, type Informer } from '@canopy/client';
import type { ControllerContext, ControllerFactory } from './context.js';
import { isJobFinished } from './job.js';
import { QueueController } from './queue-controller.js';
import type { Job } from './workload-types.js';

/** The time the job finished: its terminal condition's transition. */
function finishTime(job: Job): number | undefined {
  const c = (job.status?.conditions ?? []).find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  const t = c?.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return Number.isNaN(t) ? undefined : t;
}

function needsCleanup(job: Job): boolean {
  return job.spec.ttlSecondsAfterFinished !== undefined && job.spec.ttlSecondsAfterFinished !== null && isJobFinished(job);
}

export class TtlAfterFinishedController extends QueueController {
  readonly name = 'ttl-after-finished';
  private readonly jobs: Informer<Job>;

  constructor(ctx: ControllerContext) {
    super(ctx, 2);
    this.jobs = this.informer(ctx.informers.for<Job>(types.jobs));
  }

  protected register(): void {
    const consider = (job: Job) => {
      if (!job.metadata.deletionTimestamp && needsCleanup(job)) this.enqueue(objectKey(job));
    };
    this.jobs.addHandler({ onAdd: consider, onUpdate: (_old, job) => consider(job) });
  }

  /** Time left before the job expires (≤ 0: expired), or undefined if it never does. */
  private remaining(job: Job): number | undefined {
    if (!needsCleanup(job) || job.metadata.deletionTimestamp) return undefined;
    const finished = finishTime(job);
    if (finished === undefined) return undefined;
    return finished + job.spec.ttlSecondsAfterFinished! * 1000 - this.ctx.clock.now();
  }

  protected async sync(key: string): Promise<void> {
    const cached = this.jobs.getByKey(key);
    if (!cached) return;
    const left = this.remaining(cached);
    if (left === undefined) return;
    if (left > 0) return this.enqueueAfter(key, left);
    // The cache may be stale: decide on what the server says now.
    const fresh = await this.ctx.client.tryGet<Job>(types.jobs, cached.metadata.name!, cached.metadata.namespace);
    if (!fresh) return;
    const freshLeft = this.remaining(fresh);
    if (freshLeft === undefined) return;
    if (freshLeft > 0) return this.enqueueAfter(key, freshLeft);
    try {
      await this.ctx.client.delete(types.jobs, fresh.metadata.name!, {
        namespace: fresh.metadata.namespace,
        propagationPolicy: 'Foreground',
        preconditions: { uid: fresh.metadata.uid },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

export function ttlAfterFinishedController(): ControllerFactory {
  return { serviceAccount: 'ttl-after-finished-controller', create: (ctx) => new TtlAfterFinishedController(ctx) };
}
