import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rfc3339, types } from '@canopy/client';
import type { KubeObject } from '@canopy/apimachinery';
import { cronJobController } from '../src/cronjob.js';
import { container, createNamespace, eventually, events, settle, startWorkloadCluster, type WorkloadCluster } from './workload-support.js';

let env: WorkloadCluster;
const ns = 'cron';
const MINUTE = 60_000;
before(async () => {
  env = await startWorkloadCluster([cronJobController()]);
  await createNamespace(env.client, ns);
});
after(async () => env?.close());

function cronJob(name: string, schedule: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name, namespace: ns },
    spec: {
      schedule,
      jobTemplate: {
        metadata: { labels: { team: 'batch' }, annotations: { note: 'from template' } },
        spec: { template: { spec: { containers: [container('busybox')], restartPolicy: 'OnFailure' } } },
      },
      ...spec,
    },
  };
}

async function jobsOf(cj: string): Promise<KubeObject[]> {
  const all = (await env.client.list(types.jobs, { namespace: ns })).items;
  return all.filter((j) => j.metadata.ownerReferences?.[0]?.name === cj && !j.metadata.deletionTimestamp).sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
}

/** Plays the Job controller: marks a job finished at the clock's time. */
async function finishJob(name: string, outcome: 'Complete' | 'Failed'): Promise<void> {
  const job = await env.client.get(types.jobs, name, ns);
  const now = rfc3339(env.clock.now());
  const conditions =
    outcome === 'Complete'
      ? [
          { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastTransitionTime: now, lastProbeTime: now },
          { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastTransitionTime: now, lastProbeTime: now },
        ]
      : [
          { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: now, lastProbeTime: now },
          { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastTransitionTime: now, lastProbeTime: now },
        ];
  await env.client.updateStatus(types.jobs, {
    ...job,
    status: {
      startTime: (job.status as any)?.startTime ?? now,
      ...(outcome === 'Complete' ? { completionTime: now, succeeded: 1 } : { failed: 1 }),
      conditions,
      uncountedTerminatedPods: {},
      ready: 0,
      terminating: 0,
    },
  });
}

/** The next whole `stepMs` boundary strictly after the clock. */
function nextBoundary(stepMs: number): number {
  return (Math.floor(env.clock.now() / stepMs) + 1) * stepMs;
}

async function statusOf(name: string): Promise<Record<string, any>> {
  return ((await env.client.get(types.cronJobs, name, ns)).status ?? {}) as Record<string, any>;
}

describe('CronJob controller', () => {
  it('creates a Job at 09:00 in the CronJob time zone, named by the scheduled minute', async () => {
    await env.client.create(types.cronJobs, cronJob('hello', '0 9 * * *', { timeZone: 'Asia/Tokyo' }));
    // Tokyo has no daylight saving: 09:00 there is 00:00 UTC.
    const nineInTokyo = nextBoundary(24 * 60 * MINUTE);
    await settle(150);
    assert.equal((await jobsOf('hello')).length, 0, 'nothing before the schedule');
    env.clock.set(nineInTokyo - 1000);
    await settle(100);
    assert.equal((await jobsOf('hello')).length, 0, 'nothing a second early');
    env.clock.set(nineInTokyo + 2000);
    const [job] = await eventually('the 09:00 job', async () => {
      const jobs = await jobsOf('hello');
      return jobs.length ? jobs : undefined;
    });
    assert.equal(job.metadata.name, `hello-${nineInTokyo / MINUTE}`);
    const day = new Date(nineInTokyo).toISOString().slice(0, 10);
    assert.equal(job.metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp'], `${day}T09:00:00+09:00`);
    assert.equal(job.metadata.annotations!.note, 'from template');
    assert.equal(job.metadata.labels!.team, 'batch');
    assert.equal(job.metadata.ownerReferences?.[0].kind, 'CronJob');
    assert.equal(job.metadata.ownerReferences?.[0].controller, true);
    const status = await eventually('status with the active job', async () => {
      const s = await statusOf('hello');
      return s.active?.length === 1 ? s : undefined;
    });
    assert.equal(status.lastScheduleTime, new Date(nineInTokyo).toISOString().replace('.000Z', 'Z'));
    assert.deepEqual({ kind: status.active[0].kind, name: status.active[0].name, uid: status.active[0].uid }, { kind: 'Job', name: job.metadata.name, uid: job.metadata.uid });
    const recorded = await events(env.client, ns, 'hello');
    assert.ok(recorded.some((e) => e.reason === 'SuccessfulCreate' && e.message === `Created job ${job.metadata.name}`));

    // Finishing it clears status.active and records lastSuccessfulTime; the next day brings the next job.
    await finishJob(job.metadata.name!, 'Complete');
    const done = await eventually('completed job seen', async () => {
      const s = await statusOf('hello');
      return !s.active && s.lastSuccessfulTime ? s : undefined;
    });
    assert.ok(done.lastSuccessfulTime);
    env.clock.set(nineInTokyo + 24 * 60 * MINUTE + 1000);
    await eventually('the next day job', async () => (await jobsOf('hello')).length === 2);
  });

  it('holds a run back while the previous one is active with Forbid, starting it late once that finishes', async () => {
    await env.client.create(types.cronJobs, cronJob('forbid', '*/5 * * * *', { concurrencyPolicy: 'Forbid', timeZone: 'UTC' }));
    const first = nextBoundary(5 * MINUTE);
    env.clock.set(first + 1000);
    const [job] = await eventually('first run', async () => {
      const jobs = await jobsOf('forbid');
      return jobs.length ? jobs : undefined;
    });
    await eventually('active recorded', async () => (await statusOf('forbid')).active?.length === 1);
    env.clock.set(first + 5 * MINUTE + 1000);
    await eventually('JobAlreadyActive event', async () => (await events(env.client, ns, 'forbid')).some((e) => e.reason === 'JobAlreadyActive'));
    assert.equal((await jobsOf('forbid')).length, 1, `no second job while the first runs: ${(await jobsOf('forbid')).map((j) => j.metadata.name)} first=${first / MINUTE}`);
    // The skipped time is still the most recent unmet one: kube starts it, late, once the first finishes.
    await finishJob(job.metadata.name!, 'Complete');
    const jobs = await eventually('the delayed run', async () => {
      const list = await jobsOf('forbid');
      return list.length === 2 ? list : undefined;
    });
    assert.equal(jobs[1].metadata.name, `forbid-${(first + 5 * MINUTE) / MINUTE}`);
    const status = await eventually('one active job', async () => {
      const s = await statusOf('forbid');
      return s.active?.length === 1 && s.active[0].uid === jobs[1].metadata.uid ? s : undefined;
    });
    assert.equal(status.lastScheduleTime, new Date(first + 5 * MINUTE).toISOString().replace('.000Z', 'Z'));
  });

  it('replaces the running job with Replace', async () => {
    await env.client.create(types.cronJobs, cronJob('replace', '*/5 * * * *', { concurrencyPolicy: 'Replace', timeZone: 'UTC' }));
    const first = nextBoundary(5 * MINUTE);
    env.clock.set(first + 1000);
    const [old] = await eventually('first run', async () => {
      const jobs = await jobsOf('replace');
      return jobs.length ? jobs : undefined;
    });
    await eventually('active recorded', async () => (await statusOf('replace')).active?.length === 1);
    env.clock.set(first + 5 * MINUTE + 1000);
    const [fresh] = await eventually('replacement', async () => {
      const jobs = await jobsOf('replace');
      return jobs.length === 1 && jobs[0].metadata.uid !== old.metadata.uid ? jobs : undefined;
    });
    assert.equal(fresh.metadata.name, `replace-${(first + 5 * MINUTE) / MINUTE}`);
    const status = await eventually('only the new job active', async () => {
      const s = await statusOf('replace');
      return s.active?.length === 1 && s.active[0].uid === fresh.metadata.uid ? s : undefined;
    });
    assert.ok(status);
    assert.ok((await events(env.client, ns, 'replace')).some((e) => e.reason === 'SuccessfulDelete' && e.message === `Deleted job ${old.metadata.name}`));
  });

  it('keeps only successfulJobsHistoryLimit and failedJobsHistoryLimit finished jobs', async () => {
    await env.client.create(types.cronJobs, cronJob('history', '* * * * *', { successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1, timeZone: 'UTC' }));
    const start = nextBoundary(MINUTE);
    const outcomes: Array<'Complete' | 'Failed'> = ['Complete', 'Failed', 'Complete', 'Failed', 'Complete', 'Complete'];
    const names: string[] = [];
    for (const [i, outcome] of outcomes.entries()) {
      env.clock.set(start + i * MINUTE + 1000);
      const name = `history-${start / MINUTE + i}`;
      await eventually(`run ${i}`, async () => !!(await env.client.tryGet(types.jobs, name, ns)));
      await finishJob(name, outcome);
      names.push(name);
      await eventually(`run ${i} seen finished`, async () => !(await statusOf('history')).active);
    }
    // One more tick so cleanup sees the last outcome.
    env.clock.set(start + outcomes.length * MINUTE + 1000);
    const kept = await eventually('history trimmed', async () => {
      const jobs = (await jobsOf('history')).map((j) => j.metadata.name!);
      const finished = jobs.filter((n) => names.includes(n));
      return finished.length === 3 ? finished : undefined;
    });
    assert.deepEqual(kept.sort(), [names[3], names[4], names[5]].sort(), 'the newest failed job and the two newest successful ones remain');
  });

  it('runs only the latest of many missed times, and respects startingDeadlineSeconds', async () => {
    await env.client.create(types.cronJobs, cronJob('missed', '* * * * *', { timeZone: 'UTC', suspend: true }));
    await settle(100);
    // Three hours pass while suspended; on resume only the most recent minute runs.
    const later = nextBoundary(MINUTE) + 180 * MINUTE;
    env.clock.set(later + 5000);
    await env.client.patch(types.cronJobs, 'missed', { spec: { suspend: false } }, 'merge', { namespace: ns });
    const jobs = await eventually('one job for the latest time', async () => {
      const list = await jobsOf('missed');
      return list.length ? list : undefined;
    });
    await settle(100);
    assert.equal((await jobsOf('missed')).length, 1);
    assert.equal(jobs[0].metadata.name, `missed-${later / MINUTE}`);
    assert.ok((await events(env.client, ns, 'missed')).some((e) => e.reason === 'TooManyMissedTimes'));

    await env.client.create(types.cronJobs, cronJob('deadline', '0 * * * *', { timeZone: 'UTC', startingDeadlineSeconds: 30, suspend: true }));
    await settle(100);
    const hour = nextBoundary(60 * MINUTE);
    env.clock.set(hour + 2 * MINUTE);
    await env.client.patch(types.cronJobs, 'deadline', { spec: { suspend: false } }, 'merge', { namespace: ns });
    await settle(200);
    assert.equal((await jobsOf('deadline')).length, 0, 'a run two minutes late with a 30 s deadline is skipped');
    env.clock.set(hour + 60 * MINUTE + 10_000);
    await eventually('the next hour runs', async () => (await jobsOf('deadline')).length === 1);
  });
});
