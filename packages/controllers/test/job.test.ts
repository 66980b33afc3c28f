import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { types } from '@canopy/client';
import type { KubeObject } from '@canopy/apimachinery';
import { garbageCollectorController } from '../src/garbage-collector.js';
import { jobController } from '../src/job.js';
import { ttlAfterFinishedController } from '../src/ttl-after-finished.js';
import { container, createNamespace, eventually, events, finishPod, listPods, markRunningReady, settle, startWorkloadCluster, type WorkloadCluster } from './workload-support.js';

let env: WorkloadCluster;
const ns = 'jobs';
before(async () => {
  env = await startWorkloadCluster([jobController({ syncBatchMs: 10 }), ttlAfterFinishedController(), garbageCollectorController]);
  await createNamespace(env.client, ns);
});
after(async () => env?.close());

function job(name: string, spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name, namespace: ns },
    spec: { template: { spec: { containers: [container('busybox')], restartPolicy: 'Never', ...podSpec } }, ...spec },
  };
}

async function jobPods(name: string): Promise<KubeObject[]> {
  return listPods(env.client, ns, `batch.kubernetes.io/job-name=${name}`);
}

function isActive(p: KubeObject): boolean {
  const phase = (p.status as any)?.phase;
  return !p.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed';
}

async function jobStatus(name: string): Promise<Record<string, any>> {
  return ((await env.client.get(types.jobs, name, ns)).status ?? {}) as Record<string, any>;
}

function conditionTypes(status: Record<string, any>): string[] {
  return (status.conditions ?? []).filter((c: any) => c.status === 'True').map((c: any) => c.type);
}

describe('Job controller', () => {
  it('completes 5 completions with at most 2 pods at a time', async () => {
    await env.client.create(types.jobs, job('pi', { completions: 5, parallelism: 2 }));
    let finished = 0;
    let maxActive = 0;
    while (finished < 5) {
      const pods = await eventually('active pods', async () => {
        const all = (await jobPods('pi')).filter(isActive);
        return all.length ? all : undefined;
      });
      await settle(50);
      const active = (await jobPods('pi')).filter(isActive);
      maxActive = Math.max(maxActive, active.length);
      assert.ok(active.length <= 2, `at most parallelism pods run (saw ${active.length})`);
      assert.ok(active.length <= 5 - finished, 'never more than the completions left');
      await finishPod(env.client, env.clock, ns, pods[0].metadata.name!, 0);
      finished++;
    }
    assert.equal(maxActive, 2);
    const status = await eventually('job complete', async () => {
      const s = await jobStatus('pi');
      return conditionTypes(s).includes('Complete') ? s : undefined;
    });
    assert.deepEqual(conditionTypes(status), ['SuccessCriteriaMet', 'Complete'], 'kube ≥ 1.31 adds the interim condition first');
    const complete = status.conditions.find((c: any) => c.type === 'Complete');
    assert.equal(complete.reason, 'CompletionsReached');
    assert.equal(status.succeeded, 5);
    assert.equal(status.failed, undefined);
    assert.equal(status.active, undefined);
    assert.equal(status.ready, 0);
    assert.equal(status.terminating, 0);
    assert.ok(status.startTime);
    assert.equal(status.completionTime, complete.lastTransitionTime);
    assert.deepEqual(status.uncountedTerminatedPods, {});

    const pods = await jobPods('pi');
    assert.equal(pods.length, 5);
    const j = await env.client.get(types.jobs, 'pi', ns);
    for (const pod of pods) {
      assert.ok(!(pod.metadata.finalizers ?? []).includes('batch.kubernetes.io/job-tracking'), 'counted pods lose the tracking finalizer');
      assert.equal(pod.metadata.labels!['batch.kubernetes.io/controller-uid'], j.metadata.uid);
      assert.equal(pod.metadata.ownerReferences?.[0].kind, 'Job');
      assert.match(pod.metadata.name!, /^pi-[a-z0-9]{5}$/);
    }
    const recorded = await events(env.client, ns, 'pi');
    assert.ok(recorded.some((e) => e.reason === 'SuccessfulCreate' && /^Created pod: pi-/.test(e.message)));
    assert.ok(recorded.some((e) => e.reason === 'Completed' && e.message === 'Job completed'));
  });

  it('recreates failed pods after an exponential backoff, then fails at the backoff limit', async () => {
    await env.client.create(types.jobs, job('flaky', { backoffLimit: 1 }));
    const first = await eventually('first pod', async () => (await jobPods('flaky'))[0]);
    assert.ok((first.metadata.finalizers ?? []).includes('batch.kubernetes.io/job-tracking'), 'pods are created with the tracking finalizer');
    await finishPod(env.client, env.clock, ns, first.metadata.name!, 1);
    await eventually('failure counted', async () => (await jobStatus('flaky')).failed === 1);
    await settle(150);
    assert.equal((await jobPods('flaky')).filter(isActive).length, 0, 'no replacement before the 10 s backoff');
    env.clock.advance(9_000);
    await settle(150);
    assert.equal((await jobPods('flaky')).filter(isActive).length, 0, 'still backing off at 9 s');
    env.clock.advance(1_500);
    const second = await eventually('replacement after 10 s', async () => (await jobPods('flaky')).find(isActive));
    await finishPod(env.client, env.clock, ns, second.metadata.name!, 1);
    const status = await eventually('job failed', async () => {
      const s = await jobStatus('flaky');
      return conditionTypes(s).includes('Failed') ? s : undefined;
    });
    assert.deepEqual(conditionTypes(status), ['FailureTarget', 'Failed']);
    const failed = status.conditions.find((c: any) => c.type === 'Failed');
    assert.equal(failed.reason, 'BackoffLimitExceeded');
    assert.equal(failed.message, 'Job has reached the specified backoff limit');
    assert.equal(status.failed, 2);
    assert.equal(status.completionTime, undefined);
    const recorded = await events(env.client, ns, 'flaky');
    assert.ok(recorded.some((e) => e.reason === 'BackoffLimitExceeded' && e.type === 'Warning'));
  });

  it('fails a job active longer than activeDeadlineSeconds and removes its pods', async () => {
    await env.client.create(types.jobs, job('slow', { activeDeadlineSeconds: 30, parallelism: 2, completions: 4 }));
    await eventually('two pods', async () => (await jobPods('slow')).filter(isActive).length === 2);
    for (const pod of await jobPods('slow')) await markRunningReady(env.client, env.clock, ns, pod.metadata.name!);
    await eventually('ready counted', async () => (await jobStatus('slow')).ready === 2);
    env.clock.advance(29_000);
    await settle(100);
    assert.ok(!conditionTypes(await jobStatus('slow')).includes('FailureTarget'), 'not before the deadline');
    env.clock.advance(1_000);
    const status = await eventually('deadline exceeded', async () => {
      const s = await jobStatus('slow');
      return conditionTypes(s).includes('Failed') ? s : undefined;
    });
    assert.equal(status.conditions.find((c: any) => c.type === 'Failed').reason, 'DeadlineExceeded');
    assert.equal(status.failed, 2, 'the pods it stopped count as failed');
    await eventually('pods removed', async () => (await jobPods('slow')).length === 0);
  });

  it('runs an Indexed job with completion indexes, hostnames and JOB_COMPLETION_INDEX', async () => {
    await env.client.create(types.jobs, job('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
    const pods = await eventually('three indexed pods', async () => {
      const all = await jobPods('idx');
      return all.length === 3 ? all : undefined;
    });
    const byIndex = new Map(pods.map((p) => [p.metadata.annotations!['batch.kubernetes.io/job-completion-index'], p]));
    assert.deepEqual([...byIndex.keys()].sort(), ['0', '1', '2']);
    const one = byIndex.get('1')!;
    assert.equal(one.metadata.labels!['batch.kubernetes.io/job-completion-index'], '1');
    assert.equal((one.spec as any).hostname, 'idx-1');
    assert.match(one.metadata.name!, /^idx-1-[a-z0-9]{5}$/);
    assert.deepEqual(
      (one.spec as any).containers[0].env.find((e: any) => e.name === 'JOB_COMPLETION_INDEX')?.valueFrom,
      { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } },
    );
    await finishPod(env.client, env.clock, ns, one.metadata.name!, 0);
    await eventually('index 1 completed', async () => (await jobStatus('idx')).completedIndexes === '1');
    // A failed index is retried with the same index.
    await finishPod(env.client, env.clock, ns, byIndex.get('2')!.metadata.name!, 1);
    env.clock.advance(11_000);
    const retry = await eventually('index 2 retried', async () =>
      (await jobPods('idx')).find((p) => isActive(p) && p.metadata.annotations!['batch.kubernetes.io/job-completion-index'] === '2'),
    );
    await finishPod(env.client, env.clock, ns, retry.metadata.name!, 0);
    await finishPod(env.client, env.clock, ns, byIndex.get('0')!.metadata.name!, 0);
    const status = await eventually('indexed job complete', async () => {
      const s = await jobStatus('idx');
      return conditionTypes(s).includes('Complete') ? s : undefined;
    });
    assert.equal(status.completedIndexes, '0-2');
    assert.equal(status.succeeded, 3);
    assert.equal(status.failed, 1);
  });

  it('creates no pods while suspended and starts them on resume', async () => {
    await env.client.create(types.jobs, job('later', { suspend: true }));
    const status = await eventually('suspended condition', async () => {
      const s = await jobStatus('later');
      return conditionTypes(s).includes('Suspended') ? s : undefined;
    });
    assert.equal(status.startTime, undefined);
    assert.equal((await jobPods('later')).length, 0);
    await env.client.patch(types.jobs, 'later', { spec: { suspend: false } }, 'merge', { namespace: ns });
    await eventually('pod after resume', async () => (await jobPods('later')).length === 1);
    const resumed = await eventually('resumed condition', async () => {
      const s = await jobStatus('later');
      return s.conditions?.find((c: any) => c.type === 'Suspended' && c.status === 'False') ? s : undefined;
    });
    assert.equal(resumed.conditions.find((c: any) => c.type === 'Suspended').reason, 'JobResumed');
    assert.ok(resumed.startTime);
  });

  it('fails at once on an exit code the pod failure policy marks fatal', async () => {
    await env.client.create(
      types.jobs,
      job('policy', { backoffLimit: 6, podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] } }),
    );
    const pod = await eventually('pod', async () => (await jobPods('policy'))[0]);
    await finishPod(env.client, env.clock, ns, pod.metadata.name!, 42);
    const status = await eventually('failed by policy', async () => {
      const s = await jobStatus('policy');
      return conditionTypes(s).includes('Failed') ? s : undefined;
    });
    const failed = status.conditions.find((c: any) => c.type === 'Failed');
    assert.equal(failed.reason, 'PodFailurePolicy');
    assert.equal(failed.message, `Container app for pod ${ns}/${pod.metadata.name} failed with exit code 42 matching FailJob rule at index 0`);
  });

  it('deletes a finished job and its pods after ttlSecondsAfterFinished', async () => {
    await env.client.create(types.jobs, job('short-lived', { ttlSecondsAfterFinished: 60 }));
    const pod = await eventually('pod', async () => (await jobPods('short-lived'))[0]);
    await finishPod(env.client, env.clock, ns, pod.metadata.name!, 0);
    await eventually('complete', async () => conditionTypes(await jobStatus('short-lived')).includes('Complete'));
    env.clock.advance(59_000);
    await settle(150);
    assert.ok(await env.client.tryGet(types.jobs, 'short-lived', ns), 'kept until the TTL passes');
    env.clock.advance(2_000);
    await eventually('job deleted', async () => !(await env.client.tryGet(types.jobs, 'short-lived', ns)));
    await eventually('its pods deleted', async () => (await jobPods('short-lived')).length === 0);
  });
});
