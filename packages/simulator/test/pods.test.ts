import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '@canopy/apimachinery';
import { types } from '@canopy/client';
import { condition, containerStatus, eventsFor, eventually, pod, startSimulated, statusOf, type SimulatedCluster } from './support.js';

type Obj = Record<string, any>;

describe('simulated pod lifecycle', () => {
  let c: SimulatedCluster;
  let ns: string;
  before(async () => {
    c = await startSimulated({ nodes: 3 });
    ns = await c.namespace('lifecycle');
  });
  after(() => c.close());

  const get = (name: string) => c.client.get(types.pods, name, ns) as Promise<KubeObject & Obj>;

  it('runs a bound pod: Pending (ContainerCreating) → Running → Ready, with conditions, IPs and kubelet events', async () => {
    await c.client.create(
      types.pods,
      pod('web', ns, {
        containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }], readinessProbe: { httpGet: { path: '/', port: 80 }, initialDelaySeconds: 5 }, resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
      }),
    );
    // Seen by the simulator but not bound: nothing happens.
    await c.advance(1000);
    assert.equal(statusOf(await get('web')).containerStatuses, undefined);

    const seen: string[] = [];
    const watch = await c.client.watch(types.pods, { namespace: ns, fieldSelector: 'metadata.name=web' });
    const collecting = (async () => {
      for await (const event of watch) {
        const s = statusOf(event.object);
        const state = s.containerStatuses?.[0]?.state ?? {};
        const label = `${s.phase}/${Object.keys(state)[0] ?? '-'}${state.waiting ? `:${state.waiting.reason}` : ''}/${s.containerStatuses?.[0]?.ready ?? '-'}`;
        if (seen[seen.length - 1] !== label) seen.push(label);
      }
    })();
    await c.client.createSubresource(types.pods, 'web', 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'web' }, target: { apiVersion: 'v1', kind: 'Node', name: 'canopy-node-1' } }, { namespace: ns });
    await c.advance(200, 50);
    let p = await get('web');
    assert.equal(statusOf(p).phase, 'Pending');
    await c.advance(3000);
    p = await get('web');
    assert.equal(statusOf(p).phase, 'Running');
    assert.equal(containerStatus(p, 'web')?.ready, false, 'not ready before the readiness delay');
    await c.advance(5000, 500);
    p = await get('web');
    watch.close();
    await collecting;
    assert.deepEqual(seen.filter((s) => !s.startsWith('Pending/-')), ['Pending/waiting:ContainerCreating/false', 'Running/running/false', 'Running/running/true'], seen.join(', '));

    const s = statusOf(p);
    const node = (await c.client.get(types.nodes, 'canopy-node-1')) as Obj;
    assert.equal(s.hostIP, node.status.addresses[0].address);
    assert.deepEqual(s.hostIPs, [{ ip: s.hostIP }]);
    assert.match(s.podIP, /^10\.42\.1\.\d+$/);
    assert.deepEqual(s.podIPs, [{ ip: s.podIP }]);
    assert.ok(s.startTime);
    assert.equal(s.qosClass, 'Burstable');
    for (const type of ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready', 'PodScheduled']) assert.equal(condition(p, type)?.status, 'True', type);
    assert.equal(condition(p, 'Ready')?.reason, undefined, 'stale reasons are removed');
    const cs = containerStatus(p, 'web')!;
    assert.equal(cs.restartCount, 0);
    assert.equal(cs.started, true);
    assert.equal(cs.image, 'docker.io/library/nginx:1.27');
    assert.match(cs.imageID, /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
    assert.match(cs.containerID, /^containerd:\/\/[0-9a-f]{64}$/);
    assert.ok(cs.state.running.startedAt);
    assert.deepEqual(cs.lastState, {});

    const events = await eventsFor(c.client, ns, 'web');
    // Events carry second-resolution times: order within a second is not observable.
    const kubelet = events.filter((e) => e.source?.component === 'kubelet');
    const byReason = (reason: string) => kubelet.find((e) => e.reason === reason)!;
    assert.deepEqual(kubelet.map((e) => e.reason).sort(), ['Created', 'Pulled', 'Pulling', 'Started']);
    assert.ok(Date.parse(byReason('Pulling').firstTimestamp) <= Date.parse(byReason('Started').firstTimestamp));
    for (const e of kubelet) {
      assert.equal(e.source.host, 'canopy-node-1');
      assert.equal(e.involvedObject.fieldPath, 'spec.containers{web}');
      assert.equal(e.type, 'Normal');
    }
    assert.equal(byReason('Pulling').message, 'Pulling image "nginx:1.27"');
    assert.match(byReason('Pulled').message, /^Successfully pulled image "nginx:1\.27" in \d+ms \(\d+ms including waiting\)\. Image size: \d+ bytes\.$/);
    assert.equal(byReason('Created').message, 'Created container: web');
    assert.equal(byReason('Started').message, 'Started container web');
  });

  it('uses the image cache: a second pod of the same image on the node is not pulled again', async () => {
    await c.client.create(types.pods, pod('web-2', ns, { nodeName: 'canopy-node-1', containers: [{ name: 'web', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent' }] }));
    await c.advance(1000);
    assert.equal(statusOf(await get('web-2')).phase, 'Running');
    const reasons = (await eventsFor(c.client, ns, 'web-2')).map((e) => `${e.reason}: ${e.message}`);
    assert.deepEqual(reasons.sort(), ['Created: Created container: web', 'Pulled: Container image "nginx:1.27" already present on machine', 'Started: Started container web']);
  });

  it('runs init containers in order, each to completion, before the containers', async () => {
    await c.client.create(
      types.pods,
      pod('init', ns, {
        nodeName: 'canopy-node-2',
        initContainers: [
          { name: 'migrate', image: 'busybox:1.36', command: ['sh', '-c', 'echo migrating'] },
          { name: 'warm', image: 'busybox:1.36' },
        ],
        containers: [{ name: 'app', image: 'nginx:1.27' }],
      }, { annotations: { 'simulator.canopy.io/init-duration': 'migrate=3s,warm=2s' } }),
    );
    await c.advance(2000);
    let p = await get('init');
    assert.equal(statusOf(p).phase, 'Pending');
    assert.ok(containerStatus(p, 'migrate', true)?.state.running, 'the first init container runs');
    assert.equal(containerStatus(p, 'warm', true)?.state.waiting?.reason, 'PodInitializing');
    assert.equal(containerStatus(p, 'app')?.state.waiting?.reason, 'PodInitializing');
    assert.equal(condition(p, 'Initialized')?.status, 'False');
    assert.equal(condition(p, 'Initialized')?.reason, 'ContainersNotInitialized');
    assert.equal(condition(p, 'Initialized')?.message, 'containers with incomplete status: [migrate warm]');
    await c.advance(3000);
    p = await get('init');
    assert.equal(containerStatus(p, 'migrate', true)?.state.terminated?.reason, 'Completed');
    assert.ok(containerStatus(p, 'warm', true)?.state.running, 'then the second');
    await c.advance(4000);
    p = await get('init');
    assert.equal(statusOf(p).phase, 'Running');
    assert.equal(condition(p, 'Initialized')?.status, 'True');
    const migrate = containerStatus(p, 'migrate', true)!.state.terminated;
    const warm = containerStatus(p, 'warm', true)!.state.terminated;
    assert.equal(migrate.exitCode, 0);
    assert.equal(warm.exitCode, 0);
    assert.ok(Date.parse(migrate.finishedAt) <= Date.parse(warm.startedAt), 'in order');
    assert.ok(Date.parse(warm.finishedAt) <= Date.parse(containerStatus(p, 'app')!.state.running.startedAt));
    assert.equal(containerStatus(p, 'migrate', true)?.ready, true);
  });

  it('crashes by annotation and restarts with CrashLoopBackOff back-off (immediately, then 10 s, then 20 s)', async () => {
    await c.client.create(types.pods, pod('crash', ns, { nodeName: 'canopy-node-3', containers: [{ name: 'app', image: 'registry.example.com/team/api:2.1' }] }, { annotations: { 'simulator.canopy.io/crash-after': '5s', 'simulator.canopy.io/exit-code': '2' } }));
    await c.advance(2000);
    const startedAt = Date.parse(containerStatus(await get('crash'), 'app')!.state.running.startedAt);
    await c.advance(Math.max(0, startedAt + 5000 - c.clock.now()) + 500);
    let p = await get('crash');
    let cs = containerStatus(p, 'app')!;
    assert.equal(cs.restartCount, 1, 'the first restart is immediate');
    assert.ok(cs.state.running);
    assert.equal(cs.lastState.terminated.exitCode, 2);
    assert.equal(cs.lastState.terminated.reason, 'Error');
    await c.advance(5000);
    p = await get('crash');
    cs = containerStatus(p, 'app')!;
    assert.equal(cs.state.waiting?.reason, 'CrashLoopBackOff');
    assert.match(cs.state.waiting.message, /^back-off 10s restarting failed container=app pod=crash_lifecycle\(/);
    assert.equal(cs.restartCount, 1);
    assert.equal(statusOf(p).phase, 'Running');
    assert.equal(condition(p, 'Ready')?.status, 'False');
    await c.advance(10_500);
    cs = containerStatus(await get('crash'), 'app')!;
    assert.equal(cs.restartCount, 2);
    assert.ok(cs.state.running);
    await c.advance(5_500);
    cs = containerStatus(await get('crash'), 'app')!;
    assert.match(cs.state.waiting?.message ?? '', /^back-off 20s /);
    const events = await eventsFor(c.client, ns, 'crash');
    const backoff = events.find((e) => e.reason === 'BackOff');
    assert.equal(backoff?.type, 'Warning');
    assert.match(backoff?.message, /^Back-off restarting failed container app in pod crash_lifecycle\(/);
    assert.ok(backoff.count >= 2, 'repeats aggregate into count');
  });

  it("completes a Job's pod after a short default duration; annotations complete or fail other pods", async () => {
    const job = await c.client.create(types.jobs, {
      metadata: { name: 'batch', namespace: ns },
      spec: { manualSelector: true, selector: { matchLabels: { run: 'batch' } }, template: { metadata: { labels: { run: 'batch' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox:1.36' }] } } },
    });
    await c.client.create(
      types.pods,
      pod('batch-x', ns, { nodeName: 'canopy-node-1', restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox:1.36' }] }, {
        labels: { run: 'batch' },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'batch', uid: job.metadata.uid, controller: true, blockOwnerDeletion: true }],
      }),
    );
    await c.client.create(types.pods, pod('once', ns, { nodeName: 'canopy-node-2', restartPolicy: 'OnFailure' }, { annotations: { 'simulator.canopy.io/complete-after': '4s' } }));
    await c.client.create(types.pods, pod('fails', ns, { nodeName: 'canopy-node-2', restartPolicy: 'Never' }, { annotations: { 'simulator.canopy.io/crash-after': '1s', 'simulator.canopy.io/exit-code': '3' } }));
    await c.advance(8000, 200);
    const batch = await get('batch-x');
    assert.equal(statusOf(batch).phase, 'Succeeded');
    const done = containerStatus(batch, 'work')!.state.terminated;
    assert.equal(done.exitCode, 0);
    assert.equal(done.reason, 'Completed');
    assert.equal(condition(batch, 'Ready')?.status, 'False');
    assert.equal(condition(batch, 'Ready')?.reason, 'PodCompleted');
    assert.equal(condition(batch, 'PodReadyToStartContainers')?.status, 'False', 'the sandbox is gone');
    assert.ok(statusOf(batch).podIP, 'the pod IP stays in the status');

    const once = await get('once');
    assert.equal(statusOf(once).phase, 'Succeeded');
    assert.equal(containerStatus(once, 'app')?.restartCount, 0);

    const fails = await get('fails');
    assert.equal(statusOf(fails).phase, 'Failed');
    assert.equal(containerStatus(fails, 'app')?.state.terminated.exitCode, 3);
    assert.equal(containerStatus(fails, 'app')?.state.terminated.reason, 'Error');
    assert.equal(condition(fails, 'Ready')?.reason, 'PodFailed');
  });

  it('kills a container whose memory goes over its limit (OOMKilled, exit 137) and restarts it', async () => {
    await c.client.create(
      types.pods,
      pod('hog', ns, { nodeName: 'canopy-node-3', containers: [{ name: 'app', image: 'python:3.12', resources: { limits: { memory: '128Mi', cpu: '500m' } } }] }, { annotations: { 'simulator.canopy.io/memory-usage': '300Mi' } }),
    );
    await c.advance(20_000, 250);
    const p = await get('hog');
    const cs = containerStatus(p, 'app')!;
    assert.ok(cs.restartCount >= 1, `restarted (${JSON.stringify(cs)})`);
    assert.equal(cs.lastState.terminated.reason, 'OOMKilled');
    assert.equal(cs.lastState.terminated.exitCode, 137);
    const nodeEvents = (await c.client.list(types.events, { namespace: 'default', fieldSelector: 'involvedObject.name=canopy-node-3,reason=SystemOOM' })).items as Obj[];
    assert.equal(nodeEvents[0]?.type, 'Warning');
    assert.match(nodeEvents[0]?.message, /^System OOM encountered, victim process: python, pid: \d+$/);
  });

  it('fails image pulls by annotation: ErrImagePull, then ImagePullBackOff', async () => {
    await c.client.create(types.pods, pod('badimage', ns, { nodeName: 'canopy-node-1', containers: [{ name: 'app', image: 'example.com/nope:1' }] }, { annotations: { 'simulator.canopy.io/image-pull-error': 'true' } }));
    await c.advance(700);
    assert.equal(containerStatus(await get('badimage'), 'app')?.state.waiting?.reason, 'ErrImagePull');
    await c.advance(1500);
    const p = await get('badimage');
    assert.equal(containerStatus(p, 'app')?.state.waiting?.reason, 'ImagePullBackOff');
    assert.equal(statusOf(p).phase, 'Pending');
    const reasons = (await eventsFor(c.client, ns, 'badimage')).map((e) => e.reason);
    assert.ok(reasons.includes('Failed') && reasons.includes('BackOff'), reasons.join(','));
  });

  it('terminates gracefully on deletion: Killing, containers terminated, then the pod is removed', async () => {
    await c.client.create(types.pods, pod('bye', ns, { nodeName: 'canopy-node-2', terminationGracePeriodSeconds: 30 }));
    await c.advance(1500);
    assert.equal(statusOf(await get('bye')).phase, 'Running');
    const watch = await c.client.watch(types.pods, { namespace: ns, fieldSelector: 'metadata.name=bye' });
    const states: string[] = [];
    const collecting = (async () => {
      for await (const event of watch) {
        const cs = containerStatus(event.object, 'app');
        states.push(`${event.type}:${statusOf(event.object).phase}:${Object.keys(cs?.state ?? {})[0]}`);
        if (event.type === 'DELETED') break;
      }
    })();
    await c.client.delete(types.pods, 'bye', { namespace: ns });
    await c.advance(300);
    const terminating = await get('bye');
    assert.ok(terminating.metadata.deletionTimestamp, 'still there while containers stop');
    await c.advance(1200);
    await eventually('the pod to be removed', async () => (await c.client.tryGet(types.pods, 'bye', ns)) === undefined);
    await collecting;
    assert.equal(states[states.length - 1].split(':')[0], 'DELETED', states.join(' '));
    const killing = (await eventsFor(c.client, ns, 'bye')).find((e) => e.reason === 'Killing');
    assert.equal(killing?.message, 'Stopping container app');
  });

  it('flaps readiness by annotation, with Unhealthy events', async () => {
    await c.client.create(
      types.pods,
      pod('flaky', ns, { nodeName: 'canopy-node-1', containers: [{ name: 'app', image: 'nginx:1.27', readinessProbe: { tcpSocket: { port: 80 } } }] }, { annotations: { 'simulator.canopy.io/ready-after': '2s', 'simulator.canopy.io/readiness-flap': '10s' } }),
    );
    await c.advance(3000);
    const startedAt = Date.parse(containerStatus(await get('flaky'), 'app')!.state.running.startedAt);
    const at = async (ms: number) => {
      await c.advance(Math.max(0, startedAt + ms - c.clock.now()), 250);
      return condition(await get('flaky'), 'Ready')?.status;
    };
    assert.equal(await at(2500), 'True');
    assert.equal(await at(12_500), 'False');
    assert.equal(await at(22_500), 'True');
    const unhealthy = (await eventsFor(c.client, ns, 'flaky')).find((e) => e.reason === 'Unhealthy');
    assert.equal(unhealthy?.type, 'Warning');
    assert.match(unhealthy?.message, /^Readiness probe failed: dial tcp 10\.42\.1\.\d+:80: connect: connection refused$/);
  });

  it('does nothing for the pods of a paused node until it is resumed', async () => {
    await c.client.create(types.pods, pod('cut-off', ns, { nodeName: 'canopy-node-3' }));
    await c.advance(2000);
    assert.equal(statusOf(await get('cut-off')).phase, 'Running');
    c.sim.pauseNode('canopy-node-3');
    await c.client.delete(types.pods, 'cut-off', { namespace: ns });
    await c.advance(5000, 500);
    assert.ok((await get('cut-off')).metadata.deletionTimestamp, 'still terminating: nobody stops its containers');
    await c.sim.resumeNode('canopy-node-3');
    await c.advance(1500, 250);
    await eventually('the pod to be removed after the node is back', async () => (await c.client.tryGet(types.pods, 'cut-off', ns)) === undefined);
  });

  it('coalesces status writes: a pod reaches Ready in at most three kubelet writes', async () => {
    const watch = await c.client.watch(types.pods, { namespace: ns, fieldSelector: 'metadata.name=quick' });
    let modified = 0;
    const counting = (async () => {
      for await (const event of watch) if (event.type === 'MODIFIED') modified++;
    })();
    await c.client.create(types.pods, pod('quick', ns, { nodeName: 'canopy-node-3' }));
    await c.advance(3000, 100);
    assert.equal(condition(await get('quick'), 'Ready')?.status, 'True');
    await c.advance(5000, 1000);
    watch.close();
    await counting;
    assert.ok(modified >= 2 && modified <= 3, `${modified} writes`);
  });
});

describe('deleting many simulated pods', () => {
  let c: SimulatedCluster;
  before(async () => {
    c = await startSimulated({ nodes: 3 });
  });
  after(() => c.close());

  it('runs 200 pods and removes them all within the simulated shutdown time', async () => {
    const ns = await c.namespace('crowd');
    const nodes = c.sim.nodeNames();
    for (let i = 0; i < 200; i++) await c.client.create(types.pods, pod(`p-${i}`, ns, { nodeName: nodes[i % nodes.length] }, { labels: { app: 'crowd' } }));
    await c.advance(3000, 250);
    await eventually('200 running pods', async () => (await c.client.list(types.pods, { namespace: ns, fieldSelector: 'status.phase=Running' })).items.length === 200);
    const ips = new Set((await c.client.list(types.pods, { namespace: ns })).items.map((p) => statusOf(p).podIP));
    assert.equal(ips.size, 200, 'every pod has its own IP');
    const started = Date.now();
    await c.client.deleteCollection(types.pods, { namespace: ns, labelSelector: 'app=crowd' });
    await c.advance(1200, 200);
    await eventually('every pod removed', async () => (await c.client.list(types.pods, { namespace: ns })).items.length === 0, 15_000);
    assert.ok(Date.now() - started < 15_000);
  });
});
