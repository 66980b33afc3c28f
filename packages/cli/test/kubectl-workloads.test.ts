/**
 * Acceptance (issue 4): StatefulSet, DaemonSet, Job and CronJob with real kubectl 1.33 against
 * `canopy server`, whose controllers, scheduler and simulated nodes (three by default) run them:
 * StatefulSet pods web-0..2 created in order with bound claims and a partitioned rolling update;
 * a DaemonSet on every node but a tainted one; a Job with completions 5 and parallelism 2
 * completing; a CronJob creating a Job on schedule (`@every 5s`, robfig's syntax kube accepts, so
 * real time is short). The workloads run side by side in their own namespaces.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeKubectl, ok, removeDir, startServer, type RunningServer } from './support/server.js';

let server: RunningServer;
let cacheRoot: string;
let kubectl: ReturnType<typeof makeKubectl>;

before(async () => {
  server = await startServer();
  cacheRoot = mkdtempSync(join(tmpdir(), 'canopy-kubectl-workloads-'));
  kubectl = makeKubectl('1.33', server.kubeconfig, cacheRoot);
});
after(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  if (cacheRoot) removeDir(cacheRoot);
});

async function apply(manifest: string): Promise<void> {
  ok(await kubectl(['apply', '-f', '-'], { input: manifest }), 'kubectl apply');
}

async function jsonpath(args: string[], path: string): Promise<string> {
  return ok(await kubectl([...args, '-o', `jsonpath=${path}`]), `kubectl get ${args.join(' ')}`);
}

/** Polls a kubectl jsonpath until `accept` says yes (real time). */
async function until(what: string, args: string[], path: string, accept: (out: string) => boolean, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const r = await kubectl([...args, '-o', `jsonpath=${path}`]);
    last = r.code === 0 ? r.stdout : r.stderr;
    if (r.code === 0 && accept(r.stdout)) return r.stdout;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`timed out waiting for ${what}; last: ${last}\n${server.output().slice(-3000)}`);
}

describe('workload controllers with kubectl 1.33', { concurrency: true }, () => {
  test('StatefulSet web-0..2 in order with bound claims, then a partitioned rolling update', async () => {
    ok(await kubectl(['create', 'namespace', 'sts']));
    await apply(`
apiVersion: v1
kind: Service
metadata: { name: nginx, namespace: sts }
spec:
  clusterIP: None
  selector: { app: nginx }
  ports: [{ port: 80, name: web }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web, namespace: sts }
spec:
  serviceName: nginx
  replicas: 3
  selector: { matchLabels: { app: nginx } }
  template:
    metadata: { labels: { app: nginx } }
    spec:
      containers: [{ name: nginx, image: "nginx:1.25", ports: [{ containerPort: 80, name: web }] }]
  volumeClaimTemplates:
  - metadata: { name: www }
    spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
`);
    const status = ok(await kubectl(['-n', 'sts', 'rollout', 'status', 'statefulset/web', '--timeout=90s']), 'rollout status');
    assert.match(status, /partitioned roll out complete|rolling update complete|3 pods at revision/);
    const pods = JSON.parse(ok(await kubectl(['-n', 'sts', 'get', 'pods', '-l', 'app=nginx', '-o', 'json']))).items as any[];
    assert.deepEqual(pods.map((p) => p.metadata.name).sort(), ['web-0', 'web-1', 'web-2']);
    const byName = new Map(pods.map((p) => [p.metadata.name, p]));
    for (let i = 1; i < 3; i++) {
      // OrderedReady: web-i is created only once web-(i-1) is Running and Ready.
      const previousReady = byName.get(`web-${i - 1}`).status.conditions.find((c: any) => c.type === 'Ready').lastTransitionTime;
      assert.ok(Date.parse(byName.get(`web-${i}`).metadata.creationTimestamp) >= Date.parse(previousReady), `web-${i} created after web-${i - 1} was ready`);
    }
    for (let i = 0; i < 3; i++) {
      const pod = byName.get(`web-${i}`);
      assert.equal(pod.spec.hostname, `web-${i}`);
      assert.equal(pod.spec.subdomain, 'nginx');
      assert.ok(pod.spec.nodeName, `web-${i} is scheduled`);
      assert.equal(pod.spec.volumes.find((v: any) => v.name === 'www').persistentVolumeClaim.claimName, `www-web-${i}`);
      ok(await kubectl(['-n', 'sts', 'wait', '--for=jsonpath={.status.phase}=Bound', `pvc/www-web-${i}`, '--timeout=60s']), `claim www-web-${i} bound`);
    }

    ok(await kubectl(['-n', 'sts', 'patch', 'statefulset', 'web', '-p', '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}']));
    ok(await kubectl(['-n', 'sts', 'set', 'image', 'statefulset/web', 'nginx=nginx:1.26']));
    const partitioned = ok(await kubectl(['-n', 'sts', 'rollout', 'status', 'statefulset/web', '--timeout=90s']), 'partitioned rollout');
    assert.match(partitioned, /partitioned roll out complete: 1 new pods have been updated/);
    const images = await jsonpath(['-n', 'sts', 'get', 'pods', '-l', 'app=nginx'], '{range .items[*]}{.metadata.name}={.spec.containers[0].image}{"\\n"}{end}');
    assert.deepEqual(images.trim().split('\n').sort(), ['web-0=nginx:1.25', 'web-1=nginx:1.25', 'web-2=nginx:1.26']);
    const revisions = await jsonpath(['-n', 'sts', 'get', 'statefulset', 'web'], '{.status.currentRevision} {.status.updateRevision} {.status.updatedReplicas}');
    const [current, update, updated] = revisions.split(' ');
    assert.notEqual(current, update);
    assert.equal(updated, '1');
  });

  test('DaemonSet on every node but a tainted one', async () => {
    ok(await kubectl(['create', 'namespace', 'ds']));
    const nodes = ok(await kubectl(['get', 'nodes', '-o', 'jsonpath={.items[*].metadata.name}'])).trim().split(/\s+/).sort();
    assert.ok(nodes.length >= 3, `canopy server simulates three nodes by default (got ${nodes.join(',')})`);
    const tainted = nodes[0];
    ok(await kubectl(['taint', 'nodes', tainted, 'dedicated=gpu:NoSchedule']));
    await apply(`
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent, namespace: ds }
spec:
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec:
      containers: [{ name: agent, image: "fluentd:1" }]
`);
    ok(await kubectl(['-n', 'ds', 'rollout', 'status', 'daemonset/agent', '--timeout=90s']), 'daemonset rollout');
    const placed = await until(
      'one running agent per untainted node',
      ['-n', 'ds', 'get', 'pods', '-l', 'app=agent'],
      '{range .items[*]}{.spec.nodeName}={.status.phase}{"\\n"}{end}',
      (out) => out.trim().split('\n').filter((l) => l.endsWith('=Running')).length === nodes.length - 1,
    );
    const onNodes = placed.trim().split('\n').map((l) => l.split('=')[0]).sort();
    assert.deepEqual(onNodes, nodes.slice(1), 'every node but the tainted one');
    const status = await jsonpath(['-n', 'ds', 'get', 'daemonset', 'agent'], '{.status.desiredNumberScheduled} {.status.numberReady}');
    assert.equal(status, `${nodes.length - 1} ${nodes.length - 1}`);
    ok(await kubectl(['taint', 'nodes', tainted, 'dedicated=gpu:NoSchedule-']));
    await until('an agent on the untainted node', ['-n', 'ds', 'get', 'pods', '-l', 'app=agent'], '{range .items[*]}{.spec.nodeName} {end}', (out) => out.split(' ').includes(tainted));
  });

  test('Job with completions 5 and parallelism 2 completes', async () => {
    ok(await kubectl(['create', 'namespace', 'job']));
    await apply(`
apiVersion: batch/v1
kind: Job
metadata: { name: pi, namespace: job }
spec:
  completions: 5
  parallelism: 2
  template:
    metadata: { annotations: { simulator.canopy.io/complete-after: 3s } }
    spec:
      restartPolicy: Never
      containers: [{ name: pi, image: "perl:5.34", command: [perl, "-Mbignum=bpi", "-wle", "print bpi(100)"] }]
`);
    const parallel = await until('two pods running at once', ['-n', 'job', 'get', 'job', 'pi'], '{.status.active}', (out) => out === '2', 30_000);
    assert.equal(parallel, '2');
    ok(await kubectl(['-n', 'job', 'wait', '--for=condition=complete', 'job/pi', '--timeout=90s']), 'job complete');
    const status = await jsonpath(['-n', 'job', 'get', 'job', 'pi'], '{.status.succeeded} {.status.conditions[*].type}');
    assert.equal(status, '5 SuccessCriteriaMet Complete');
    const pods = await jsonpath(['-n', 'job', 'get', 'pods', '-l', 'batch.kubernetes.io/job-name=pi'], '{range .items[*]}{.status.phase} {end}');
    assert.deepEqual(pods.trim().split(' '), ['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded']);
  });

  test('CronJob creates a Job on schedule and records its success', async () => {
    ok(await kubectl(['create', 'namespace', 'cron']));
    await apply(`
apiVersion: batch/v1
kind: CronJob
metadata: { name: tick, namespace: cron }
spec:
  schedule: "@every 5s"
  successfulJobsHistoryLimit: 2
  jobTemplate:
    spec:
      template:
        metadata: { annotations: { simulator.canopy.io/complete-after: 1s } }
        spec:
          restartPolicy: OnFailure
          containers: [{ name: date, image: "busybox:1.36", command: [date] }]
`);
    const created = await jsonpath(['-n', 'cron', 'get', 'cronjob', 'tick'], '{.metadata.creationTimestamp}');
    const names = await until(
      'a job from the CronJob',
      ['-n', 'cron', 'get', 'jobs'],
      '{range .items[*]}{.metadata.ownerReferences[0].name}/{.metadata.name} {end}',
      (out) => out.trim().split(' ').some((n) => n.startsWith('tick/tick-')),
      30_000,
    );
    // Job names carry the scheduled minute, so kube (and Canopy) run a schedule at most once a minute.
    for (const n of names.trim().split(' ')) assert.match(n, /^tick\/tick-\d{8}$/, 'jobs are named by their scheduled minute');
    const annotation = await jsonpath(['-n', 'cron', 'get', 'jobs'], "{.items[0].metadata.annotations['batch\\.kubernetes\\.io/cronjob-scheduled-timestamp']}");
    assert.match(annotation, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const lastSchedule = await until('lastScheduleTime', ['-n', 'cron', 'get', 'cronjob', 'tick'], '{.status.lastScheduleTime}', (out) => out.length > 0, 10_000);
    assert.ok(Date.parse(lastSchedule) >= Date.parse(created) + 5000, 'the first run is one period after creation');
    await until('a successful run recorded', ['-n', 'cron', 'get', 'cronjob', 'tick'], '{.status.lastSuccessfulTime}', (out) => out.length > 0, 30_000);
  });
});
