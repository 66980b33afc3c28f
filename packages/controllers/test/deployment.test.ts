/**
 * The Deployment controller, with the ReplicaSet controller, against an in-process API server. The
 * test plays the kubelet (marking pods Running and Ready) so each rollout step is under its
 * control: rolling updates are checked step by step against maxSurge and maxUnavailable (with
 * watches asserting the bounds at every change, not only at the end), and Recreate, pause and
 * resume, rollback, history cleanup, the progress deadline (on a fake clock), proportional
 * scaling and adoption after orphaning are checked as a user would see them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { types } from '@canopy/client';
import { computeHash, deploymentControllerFactory, deploymentUtil as u, replicaSetControllerFactory, type Deployment, type Pod, type ReplicaSet } from '../src/index.js';
import { createNamespace, eventsFor, isReady, listPods, readyAll, setPodReady, settled, startReplicaCluster, waitFor, watchAll, type ReplicaCluster } from './replica-support.js';

let w: ReplicaCluster;
before(async () => {
  w = await startReplicaCluster([deploymentControllerFactory, replicaSetControllerFactory]);
});
after(async () => w?.close());

interface Options {
  replicas?: number;
  image?: string;
  strategy?: Deployment['spec']['strategy'];
  revisionHistoryLimit?: number;
  progressDeadlineSeconds?: number;
  annotations?: Record<string, string>;
}

function deployment(name: string, namespace: string, o: Options = {}): Deployment {
  const d: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: o.image ?? 'nginx:1.26' }] } },
    },
  };
  if (o.strategy) d.spec.strategy = o.strategy;
  if (o.revisionHistoryLimit !== undefined) d.spec.revisionHistoryLimit = o.revisionHistoryLimit;
  if (o.progressDeadlineSeconds !== undefined) d.spec.progressDeadlineSeconds = o.progressDeadlineSeconds;
  return d;
}

const getD = (ns: string, name: string) => w.client.get<Deployment>(types.deployments, name, ns);

/** The deployment's ReplicaSets, oldest revision first. */
async function replicaSets(ns: string, name: string): Promise<ReplicaSet[]> {
  const d = await getD(ns, name);
  const all = (await w.client.list<ReplicaSet>(types.replicaSets, { namespace: ns })).items;
  return all.filter((rs) => rs.metadata.ownerReferences?.some((r) => r.uid === d.metadata.uid)).sort((a, b) => Number(a.metadata.annotations?.[u.RevisionAnnotation] ?? 0) - Number(b.metadata.annotations?.[u.RevisionAnnotation] ?? 0));
}

const imageOf = (o: { spec?: any }) => (o.spec?.template?.spec ?? o.spec)?.containers?.[0]?.image;
const condition = (d: Deployment, type: string) => d.status?.conditions?.find((c) => c.type === type);

function complete(d: Deployment): boolean {
  const r = d.spec.replicas ?? 1;
  const s = d.status ?? {};
  return (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) && (s.updatedReplicas ?? 0) === r && (s.replicas ?? 0) === r && (s.availableReplicas ?? 0) === r;
}

/** Plays the kubelet until the rollout completes (every pod it creates becomes Ready). */
async function rollOut(ns: string, name: string): Promise<Deployment> {
  return waitFor(`${name} rolled out`, async () => {
    await readyAll(w.client, ns, `app=${name}`, w.clock);
    const d = await getD(ns, name);
    return complete(d) && condition(d, 'Progressing')?.reason === 'NewReplicaSetAvailable' ? d : undefined;
  });
}

async function setImage(ns: string, name: string, image: string, changeCause?: string): Promise<void> {
  await w.client.patch(
    types.deployments,
    name,
    {
      ...(changeCause ? { metadata: { annotations: { 'kubernetes.io/change-cause': changeCause } } } : {}),
      spec: { template: { spec: { containers: [{ name: 'app', image }] } } },
    },
    'strategic',
    { namespace: ns },
  );
}

describe('Deployment controller', () => {
  it('creates a ReplicaSet named by the pod-template-hash and reports the rollout in status and events', async () => {
    const ns = 'deploy-create';
    await createNamespace(w.client, ns);
    const created = await w.client.create<Deployment>(types.deployments, deployment('web', ns, { annotations: { 'kubernetes.io/change-cause': 'first' } }));
    const d = await rollOut(ns, 'web');
    const [rs] = await replicaSets(ns, 'web');
    const hash = rs.spec.template!.metadata!.labels![u.DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY];
    assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(rs.metadata.name, `web-${hash}`);
    assert.deepEqual(rs.spec.selector, { matchLabels: { app: 'web', 'pod-template-hash': hash } });
    assert.deepEqual(rs.metadata.labels, { app: 'web', 'pod-template-hash': hash });
    assert.deepEqual(rs.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(rs.metadata.annotations, {
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
      'kubernetes.io/change-cause': 'first',
    });
    const pods = await listPods(w.client, ns, 'app=web');
    assert.equal(pods.length, 3);
    for (const pod of pods) {
      assert.equal(pod.metadata.labels!['pod-template-hash'], hash);
      assert.ok(pod.metadata.name!.startsWith(`web-${hash}-`));
    }
    assert.equal(d.metadata.annotations?.[u.RevisionAnnotation], '1');
    assert.equal(d.status?.observedGeneration, 1);
    assert.equal(d.status?.readyReplicas, 3);
    assert.equal(d.status?.unavailableReplicas, undefined);
    assert.deepEqual(
      d.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message]),
      [
        ['Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'],
        ['Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rs.metadata.name}" has successfully progressed.`],
      ],
    );
    assert.deepEqual(await eventsFor(w.client, ns, 'web'), [`ScalingReplicaSet: Scaled up replica set ${rs.metadata.name} from 0 to 3`]);
  });

  it('scales up and down through spec.replicas and the scale subresource', async () => {
    const ns = 'deploy-scale';
    await createNamespace(w.client, ns);
    await w.client.create(types.deployments, deployment('api', ns, { replicas: 2 }));
    await rollOut(ns, 'api');
    await w.client.patch(types.deployments, 'api', { spec: { replicas: 5 } }, 'merge', { namespace: ns, subresource: 'scale' });
    await rollOut(ns, 'api');
    let [rs] = await replicaSets(ns, 'api');
    assert.equal(rs.spec.replicas, 5);
    assert.equal(rs.metadata.annotations![u.DesiredReplicasAnnotation], '5');
    assert.equal(rs.metadata.annotations![u.MaxReplicasAnnotation], '7');
    assert.equal((await listPods(w.client, ns, 'app=api')).length, 5);

    await w.client.patch(types.deployments, 'api', { spec: { replicas: 1 } }, 'merge', { namespace: ns });
    await waitFor('1 pod', async () => (await listPods(w.client, ns, 'app=api')).length === 1);
    const d = await rollOut(ns, 'api');
    [rs] = await replicaSets(ns, 'api');
    assert.equal(rs.spec.replicas, 1);
    assert.equal(d.status?.replicas, 1);
    const events = await eventsFor(w.client, ns, 'api');
    assert.ok(events.includes(`ScalingReplicaSet: Scaled up replica set ${rs.metadata.name} from 2 to 5`), events.join('\n'));
    assert.ok(events.includes(`ScalingReplicaSet: Scaled down replica set ${rs.metadata.name} from 5 to 1`), events.join('\n'));
  });

  it('rolls out step by step within maxSurge and maxUnavailable, never dropping below the availability bound', async () => {
    const ns = 'deploy-rolling';
    await createNamespace(w.client, ns);
    const strategy: Deployment['spec']['strategy'] = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } };
    await w.client.create(types.deployments, deployment('web', ns, { replicas: 4, strategy }));
    await rollOut(ns, 'web');

    // Watched at every change from here on: desired pods ≤ 4 + maxSurge, ready pods ≥ 4 − maxUnavailable.
    const violations: string[] = [];
    let minReady = Infinity;
    let maxDesired = 0;
    const podWatch = await watchAll<Pod>(w.client, types.pods, ns, (pods) => {
      const ready = pods.filter((p) => !p.metadata.deletionTimestamp && isReady(p)).length;
      minReady = Math.min(minReady, ready);
      if (ready < 3) violations.push(`only ${ready} ready pods`);
    });
    const rsWatch = await watchAll<ReplicaSet>(w.client, types.replicaSets, ns, (list) => {
      const desired = list.reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
      maxDesired = Math.max(maxDesired, desired);
      if (desired > 5) violations.push(`${desired} desired pods`);
    });
    try {
      await setImage(ns, 'web', 'nginx:1.27');
      const sizes = async () => {
        const [oldRS, newRS] = await replicaSets(ns, 'web');
        const pods = await listPods(w.client, ns, 'app=web');
        return { old: oldRS.spec.replicas, new: newRS?.spec.replicas, ready: pods.filter(isReady).length, pods: pods.length };
      };
      const steps: Array<[number | undefined, number | undefined]> = [];
      for (let i = 0; i < 10; i++) {
        const s = await settled('a rollout step', sizes);
        steps.push([s.old, s.new]);
        if (s.old === 0 && s.new === 4 && s.ready === 4) break;
        // The kubelet readies one new pod.
        const notReady = (await listPods(w.client, ns, 'app=web')).find((p) => imageOf(p) === 'nginx:1.27' && !isReady(p) && !p.metadata.deletionTimestamp);
        assert.ok(notReady, `a new pod to ready at step ${JSON.stringify(s)}`);
        await setPodReady(w.client, ns, notReady.metadata.name!, true, w.clock);
      }
      // 4 replicas, surge 1, unavailable 1: new 1 → old 3 → new 2, then one old out per new pod ready.
      assert.deepEqual(steps, [
        [3, 2],
        [2, 3],
        [1, 4],
        [0, 4],
        [0, 4],
      ]);
    } finally {
      await podWatch.stop();
      await rsWatch.stop();
    }
    assert.deepEqual(violations, []);
    assert.equal(minReady, 3, 'availability went down to the bound and no further');
    assert.equal(maxDesired, 5);
    const d = await rollOut(ns, 'web');
    assert.equal(d.metadata.annotations?.[u.RevisionAnnotation], '2');
    const rsList = await replicaSets(ns, 'web');
    assert.deepEqual(rsList.map((rs) => [rs.metadata.annotations![u.RevisionAnnotation], rs.spec.replicas, imageOf(rs)]), [
      ['1', 0, 'nginx:1.26'],
      ['2', 4, 'nginx:1.27'],
    ]);
    for (const pod of await listPods(w.client, ns, 'app=web')) assert.equal(imageOf(pod), 'nginx:1.27');
  });

  it('Recreate removes every old pod before creating new ones', async () => {
    const ns = 'deploy-recreate';
    await createNamespace(w.client, ns);
    await w.client.create(types.deployments, deployment('db', ns, { replicas: 3, strategy: { type: 'Recreate' } }));
    await rollOut(ns, 'db');
    let overlap = false;
    const watch = await watchAll<Pod>(w.client, types.pods, ns, (pods) => {
      const images = new Set(pods.map(imageOf));
      if (images.has('nginx:1.26') && images.has('nginx:1.27')) overlap = true;
    });
    try {
      await setImage(ns, 'db', 'nginx:1.27');
      await rollOut(ns, 'db');
    } finally {
      await watch.stop();
    }
    assert.equal(overlap, false, 'old and new pods never coexisted');
    const [oldRS, newRS] = await replicaSets(ns, 'db');
    const events = await eventsFor(w.client, ns, 'db');
    const down = events.indexOf(`ScalingReplicaSet: Scaled down replica set ${oldRS.metadata.name} from 3 to 0`);
    const up = events.indexOf(`ScalingReplicaSet: Scaled up replica set ${newRS.metadata.name} from 0 to 3`);
    assert.ok(down >= 0 && up > down, events.join('\n'));
  });

  it('pauses: scaling applies, template changes wait for resume', async () => {
    const ns = 'deploy-pause';
    await createNamespace(w.client, ns);
    await w.client.create(types.deployments, deployment('web', ns, { replicas: 2 }));
    await rollOut(ns, 'web');
    await w.client.patch(types.deployments, 'web', { spec: { paused: true } }, 'merge', { namespace: ns });
    let d = await waitFor('paused condition', async () => {
      const x = await getD(ns, 'web');
      return condition(x, 'Progressing')?.reason === 'DeploymentPaused' ? x : undefined;
    });
    assert.equal(condition(d, 'Progressing')?.status, 'Unknown');
    assert.equal(condition(d, 'Progressing')?.message, 'Deployment is paused');

    await setImage(ns, 'web', 'nginx:1.27');
    await w.client.patch(types.deployments, 'web', { spec: { replicas: 3 } }, 'merge', { namespace: ns });
    const rsList = await settled('paused deployment scaled', async () => (await replicaSets(ns, 'web')).map((rs) => [imageOf(rs), rs.spec.replicas]));
    assert.deepEqual(rsList, [['nginx:1.26', 3]], 'no new ReplicaSet while paused; the current one takes the new size');
    d = await getD(ns, 'web');
    assert.equal(d.metadata.annotations?.[u.RevisionAnnotation], '1');

    await w.client.patch(types.deployments, 'web', { spec: { paused: false } }, 'merge', { namespace: ns });
    d = await rollOut(ns, 'web');
    assert.equal(d.metadata.annotations?.[u.RevisionAnnotation], '2');
    assert.deepEqual((await replicaSets(ns, 'web')).map((rs) => [imageOf(rs), rs.spec.replicas]), [
      ['nginx:1.26', 0],
      ['nginx:1.27', 3],
    ]);
  });

  it('rolls back when the template returns to an old revision (what kubectl rollout undo writes)', async () => {
    const ns = 'deploy-undo';
    await createNamespace(w.client, ns);
    await w.client.create(types.deployments, deployment('web', ns, { replicas: 2, annotations: { 'kubernetes.io/change-cause': 'create 1.26' } }));
    await rollOut(ns, 'web');
    await setImage(ns, 'web', 'nginx:1.27', 'upgrade to 1.27');
    await rollOut(ns, 'web');
    const [first, second] = await replicaSets(ns, 'web');
    assert.equal(second.metadata.annotations!['kubernetes.io/change-cause'], 'upgrade to 1.27');

    // kubectl rollout undo: the old ReplicaSet's template without its hash label, and its annotations.
    const template = structuredClone(first.spec.template!);
    delete template.metadata!.labels![u.DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY];
    const current = await getD(ns, 'web');
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(current.metadata.annotations ?? {})) if (u.skipCopyAnnotation(k)) annotations[k] = v;
    for (const [k, v] of Object.entries(first.metadata.annotations ?? {})) if (!u.skipCopyAnnotation(k)) annotations[k] = v;
    await w.client.patch(
      types.deployments,
      'web',
      [
        { op: 'replace', path: '/spec/template', value: template },
        { op: 'replace', path: '/metadata/annotations', value: annotations },
      ],
      'json',
      { namespace: ns },
    );
    const d = await waitFor('revision 3', async () => {
      await readyAll(w.client, ns, 'app=web', w.clock);
      const x = await getD(ns, 'web');
      return complete(x) && x.metadata.annotations?.[u.RevisionAnnotation] === '3' ? x : undefined;
    });
    const rsList = await replicaSets(ns, 'web');
    assert.equal(rsList.length, 2, 'the old ReplicaSet is reused, not a new one created');
    const back = rsList.find((rs) => rs.metadata.uid === first.metadata.uid)!;
    assert.equal(back.metadata.annotations![u.RevisionAnnotation], '3');
    assert.equal(back.metadata.annotations![u.RevisionHistoryAnnotation], '1');
    assert.equal(back.metadata.annotations!['kubernetes.io/change-cause'], 'create 1.26');
    assert.equal(back.spec.replicas, 2);
    assert.equal(d.metadata.annotations!['kubernetes.io/change-cause'], 'create 1.26');
    for (const pod of await listPods(w.client, ns, 'app=web')) if (!pod.metadata.deletionTimestamp) assert.equal(imageOf(pod), 'nginx:1.26');
  });

  it('keeps only revisionHistoryLimit old ReplicaSets', async () => {
    const ns = 'deploy-history';
    await createNamespace(w.client, ns);
    await w.client.create(types.deployments, deployment('web', ns, { replicas: 1, revisionHistoryLimit: 1 }));
    await rollOut(ns, 'web');
    for (const image of ['nginx:1.27', 'nginx:1.28', 'nginx:1.29']) {
      await setImage(ns, 'web', image);
      await rollOut(ns, 'web');
    }
    const rsList = await settled('history cleaned', async () => (await replicaSets(ns, 'web')).map((rs) => [rs.metadata.annotations![u.RevisionAnnotation], imageOf(rs), rs.spec.replicas]));
    assert.deepEqual(rsList, [
      ['3', 'nginx:1.28', 0],
      ['4', 'nginx:1.29', 1],
    ]);
  });

  it('reports ProgressDeadlineExceeded when a rollout makes no progress, and recovers when it completes', async () => {
    const ns = 'deploy-deadline';
    await createNamespace(w.client, ns);
    await w.client.create(types.deployments, deployment('stuck', ns, { replicas: 2, progressDeadlineSeconds: 30 }));
    // Pods are never made ready: the rollout cannot progress.
    const started = await settled('rollout started', async () => {
      const x = await getD(ns, 'stuck');
      return condition(x, 'Progressing')?.reason === 'NewReplicaSetCreated' || condition(x, 'Progressing')?.reason === 'ReplicaSetUpdated' ? x.status : undefined;
    });
    assert.ok(started, 'Progressing recorded');
    const [rs] = await replicaSets(ns, 'stuck');
    w.clock.advance(20_000);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(condition(await getD(ns, 'stuck'), 'Progressing')?.status, 'True', 'not timed out before the deadline');
    w.clock.advance(12_000);
    const timedOut = await waitFor('ProgressDeadlineExceeded', async () => {
      const x = await getD(ns, 'stuck');
      return condition(x, 'Progressing')?.reason === 'ProgressDeadlineExceeded' ? x : undefined;
    });
    assert.equal(condition(timedOut, 'Progressing')?.status, 'False');
    assert.equal(condition(timedOut, 'Progressing')?.message, `ReplicaSet "${rs.metadata.name}" has timed out progressing.`);
    assert.deepEqual([condition(timedOut, 'Available')?.status, condition(timedOut, 'Available')?.reason], ['False', 'MinimumReplicasUnavailable']);
    assert.equal(timedOut.status?.unavailableReplicas, 2);

    const recovered = await rollOut(ns, 'stuck');
    assert.equal(condition(recovered, 'Progressing')?.status, 'True');
  });

  it('scales proportionally during a rollout', async () => {
    const ns = 'deploy-proportional';
    await createNamespace(w.client, ns);
    const strategy: Deployment['spec']['strategy'] = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } };
    await w.client.create(types.deployments, deployment('web', ns, { replicas: 10, strategy }));
    await rollOut(ns, 'web');
    // An update whose pods never become ready: the rollout stops at old 8, new 5.
    await setImage(ns, 'web', 'nginx:broken');
    let sizes = await settled('rollout blocked', async () => (await replicaSets(ns, 'web')).map((rs) => rs.spec.replicas));
    assert.deepEqual(sizes, [8, 5]);
    await w.client.patch(types.deployments, 'web', { spec: { replicas: 15 } }, 'merge', { namespace: ns });
    // 15 + 3 allowed, 13 present: old 8·18/13 → 11, new 5·18/13 → 7.
    sizes = await settled('proportional scale', async () => (await replicaSets(ns, 'web')).map((rs) => rs.spec.replicas));
    assert.deepEqual(sizes, [11, 7]);
    const [oldRS, newRS] = await replicaSets(ns, 'web');
    const events = await eventsFor(w.client, ns, 'web');
    assert.ok(events.includes(`ScalingReplicaSet: Scaled up replica set ${oldRS.metadata.name} from 8 to 11`), events.join('\n'));
    assert.ok(events.includes(`ScalingReplicaSet: Scaled up replica set ${newRS.metadata.name} from 5 to 7`), events.join('\n'));
  });

  it('orphans its ReplicaSets when deleted with propagationPolicy=Orphan, and a new Deployment adopts them', async () => {
    const ns = 'deploy-adopt';
    await createNamespace(w.client, ns);
    await w.client.create(types.deployments, deployment('web', ns, { replicas: 2 }));
    await rollOut(ns, 'web');
    const [rs] = await replicaSets(ns, 'web');
    const podNames = (await listPods(w.client, ns, 'app=web')).map((p) => p.metadata.name).sort();
    await w.client.delete(types.deployments, 'web', { namespace: ns, propagationPolicy: 'Orphan' });
    await waitFor('ReplicaSet orphaned', async () => {
      const x = await w.client.get<ReplicaSet>(types.replicaSets, rs.metadata.name!, ns);
      return !x.metadata.ownerReferences?.length;
    });
    const again = await w.client.create<Deployment>(types.deployments, deployment('web', ns, { replicas: 2 }));
    const adopted = await waitFor('ReplicaSet adopted', async () => {
      const x = await w.client.get<ReplicaSet>(types.replicaSets, rs.metadata.name!, ns);
      return x.metadata.ownerReferences?.[0]?.uid === again.metadata.uid ? x : undefined;
    });
    assert.equal(adopted.metadata.uid, rs.metadata.uid);
    const d = await rollOut(ns, 'web');
    assert.equal(d.metadata.annotations?.[u.RevisionAnnotation], '1');
    assert.equal((await replicaSets(ns, 'web')).length, 1, 'no second ReplicaSet');
    assert.deepEqual((await listPods(w.client, ns, 'app=web')).map((p) => p.metadata.name).sort(), podNames, 'the same pods');
  });
  it('counts a hash collision in status.collisionCount and names the ReplicaSet by the next hash', async () => {
    const ns = 'deploy-collision';
    await createNamespace(w.client, ns);
    // Paused: no ReplicaSet yet, so the name its template hashes to can be taken first.
    const paused = deployment('web', ns, { replicas: 1 });
    paused.spec.paused = true;
    const stored = await w.client.create<Deployment>(types.deployments, paused);
    const taken = `web-${computeHash(stored.spec.template)}`;
    await w.client.create<ReplicaSet>(types.replicaSets, {
      metadata: { name: taken, namespace: ns, labels: { app: 'other' } },
      spec: { replicas: 0, selector: { matchLabels: { app: 'other' } }, template: { metadata: { labels: { app: 'other' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    await w.client.patch(types.deployments, 'web', { spec: { paused: false } }, 'merge', { namespace: ns });
    const d = await rollOut(ns, 'web');
    assert.equal(d.status?.collisionCount, 1);
    const [rs] = await replicaSets(ns, 'web');
    assert.equal(rs.metadata.name, `web-${computeHash(stored.spec.template, 1)}`);
    const other = await w.client.get<ReplicaSet>(types.replicaSets, taken, ns);
    assert.equal(other.metadata.ownerReferences, undefined, 'the colliding ReplicaSet is left alone');
  });
});
