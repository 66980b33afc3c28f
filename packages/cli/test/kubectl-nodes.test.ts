/**
 * Acceptance (issue 4): nodes and namespaces with real kubectl 1.33 against `canopy server
 * --nodes 4 --node-monitor-grace-period 10s`.
 *
 *  - A node whose heartbeats stop (its Node annotated `simulator.canopy.io/paused=true`, which
 *    the simulated kubelet honours as a network partition) becomes NotReady — Ready Unknown,
 *    "Kubelet stopped posting node status." — once the grace period passes, is tainted
 *    unreachable, and its pods that tolerate that for 2 s are evicted and replaced on the other
 *    nodes, while a pod with the default 300 s toleration stays. Removing the annotation brings
 *    the node back: Ready, untainted, the evicted pods' termination finished.
 *    The grace period is kube-controller-manager's --node-monitor-grace-period (40 s by
 *    default), shortened to 10 s here, and the tolerationSeconds are the pods' own, so the test
 *    takes seconds instead of the 5 minutes of kube's defaults, with the same mechanism.
 *  - `kubectl delete namespace` holding 200 Running pods (a Deployment over the four nodes, with
 *    a Service, its Endpoints and EndpointSlices, a ConfigMap, a Secret and the pods' events)
 *    completes and leaves nothing behind in any namespaced resource.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeKubectl, ok, removeDir, startServer, type RunningServer } from './support/server.js';

const GRACE_SECONDS = 10;
/** The simulated kubelets renew their Leases every quarter of the grace period. */
const RENEW_SECONDS = GRACE_SECONDS / 4;
/** The node lifecycle controller's --node-monitor-period (kube's 5 s). */
const MONITOR_SECONDS = 5;
const PAUSED = 'simulator.canopy.io/paused';

let server: RunningServer;
let cacheRoot: string;
let kubectl: ReturnType<typeof makeKubectl>;

before(async () => {
  server = await startServer({ extraArgs: ['--nodes', '4', '--node-monitor-grace-period', `${GRACE_SECONDS}s`] });
  cacheRoot = mkdtempSync(join(tmpdir(), 'canopy-kubectl-nodes-'));
  kubectl = makeKubectl('1.33', server.kubeconfig, cacheRoot);
});
after(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  if (cacheRoot) removeDir(cacheRoot);
});

async function k(args: string[], input?: string): Promise<string> {
  return ok(await kubectl(args, { timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) }), `kubectl ${args.join(' ')}`);
}

async function json(args: string[]): Promise<any> {
  return JSON.parse(await k([...args, '-o', 'json']));
}

/** Polls until `probe` answers something truthy (real time). */
async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}\n${server.output().slice(-3000)}`);
}

const condition = (object: any, type: string) => object.status?.conditions?.find((c: any) => c.type === type);

describe('nodes and namespaces with kubectl 1.33', () => {
  test('a node whose heartbeats stop becomes NotReady, and its pods are replaced elsewhere after their toleration', async (t) => {
    const NS = 'failover';
    await k(['create', 'namespace', NS]);
    await k(
      ['apply', '-f', '-'],
      `
apiVersion: apps/v1
kind: Deployment
metadata: { name: app, namespace: ${NS} }
spec:
  replicas: 4
  selector: { matchLabels: { app: app } }
  template:
    metadata: { labels: { app: app } }
    spec:
      topologySpreadConstraints:
      - { maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: { matchLabels: { app: app } } }
      # Evicted 2 s after the node is tainted, instead of the 300 s DefaultTolerationSeconds adds.
      tolerations:
      - { key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 2 }
      - { key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2 }
      containers: [{ name: app, image: "nginx:1.27" }]
`,
    );
    await k(['-n', NS, 'rollout', 'status', 'deployment/app', '--timeout=60s']);
    const pods = (await json(['-n', NS, 'get', 'pods', '-l', 'app=app'])).items;
    const victim: string = pods[0].spec.nodeName;
    const doomed: string[] = pods.filter((p: any) => p.spec.nodeName === victim).map((p: any) => p.metadata.name as string);
    // A pod on the same node with the admission's default tolerations (300 s): it must outlast the test.
    await k(
      ['apply', '-f', '-'],
      `
apiVersion: v1
kind: Pod
metadata: { name: patient, namespace: ${NS} }
spec:
  nodeSelector: { kubernetes.io/hostname: ${victim} }
  containers: [{ name: app, image: "nginx:1.27" }]
`,
    );
    await k(['-n', NS, 'wait', '--for=condition=Ready', 'pod/patient', '--timeout=30s']);
    const patient = await json(['-n', NS, 'get', 'pod', 'patient']);
    assert.deepEqual(
      patient.spec.tolerations.filter((t: any) => t.effect === 'NoExecute').map((t: any) => `${t.key}=${t.tolerationSeconds}`),
      ['node.kubernetes.io/not-ready=300', 'node.kubernetes.io/unreachable=300'],
    );

    // The heartbeats stop.
    assert.match(await k(['annotate', 'node', victim, `${PAUSED}=true`]), new RegExp(`node/${victim} annotated`));
    const pausedAt = Date.now();
    const lostAt = await until(`${victim} NotReady`, async () => ((await k(['get', 'node', victim, '--no-headers'])).split(/\s+/)[1] === 'NotReady' ? Date.now() : undefined), 60_000);
    const elapsed = (lostAt - pausedAt) / 1000;
    t.diagnostic(`${victim} NotReady ${elapsed}s after its heartbeats stopped`);
    // Not before the grace period after the last renewal (at most one renewal interval before the
    // pause), and within a monitor period of it (plus slack for a loaded machine).
    assert.ok(elapsed >= GRACE_SECONDS - RENEW_SECONDS, `NotReady after ${elapsed}s, before the ${GRACE_SECONDS}s grace period`);
    assert.ok(elapsed <= GRACE_SECONDS + MONITOR_SECONDS + 10, `NotReady only after ${elapsed}s`);
    const node = await json(['get', 'node', victim]);
    for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      assert.equal(condition(node, type).status, 'Unknown', type);
      assert.equal(condition(node, type).reason, 'NodeStatusUnknown');
      assert.equal(condition(node, type).message, 'Kubelet stopped posting node status.');
    }
    const taints = await until(`${victim} tainted unreachable`, async () => {
      const t = ((await json(['get', 'node', victim])).spec.taints ?? []).map((x: any) => `${x.key}:${x.effect}`).sort();
      return t.length === 2 ? t : undefined;
    });
    assert.deepEqual(taints, ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    const events = await k(['get', 'events', '-A', '--field-selector', `involvedObject.name=${victim},reason=NodeNotReady`, '-o', 'custom-columns=SOURCE:.source.component,MESSAGE:.message', '--no-headers']);
    assert.match(events, new RegExp(`node-controller\\s+Node ${victim} status is now: NodeNotReady`));

    // After their 2 s: the pods on the lost node are evicted (Terminating: the kubelet is not
    // there to confirm) and the ReplicaSet replaces them on the other nodes.
    for (const name of doomed) {
      const evicted = await until(`${name} evicted`, async () => {
        const p = await json(['-n', NS, 'get', 'pod', name]);
        return p.metadata.deletionTimestamp ? p : undefined;
      });
      assert.equal(condition(evicted, 'DisruptionTarget')?.reason, 'DeletionByTaintManager');
      assert.equal(condition(evicted, 'Ready')?.status, 'False', 'marked not ready when its node was lost');
      const reasons = await k(['-n', NS, 'get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'custom-columns=REASON:.reason,MESSAGE:.message', '--no-headers']);
      assert.match(reasons, new RegExp(`TaintManagerEviction\\s+Marking for deletion Pod ${NS}/${name}`));
    }
    const replaced = await until('4 running replicas off the lost node', async () => {
      const items = (await json(['-n', NS, 'get', 'pods', '-l', 'app=app'])).items.filter((p: any) => !p.metadata.deletionTimestamp);
      return items.length === 4 && items.every((p: any) => p.status.phase === 'Running' && p.spec.nodeName !== victim && condition(p, 'Ready')?.status === 'True') ? items : undefined;
    });
    assert.equal(new Set(replaced.map((p: any) => p.spec.nodeName)).size, 3, 'spread over the three remaining nodes');
    await k(['-n', NS, 'rollout', 'status', 'deployment/app', '--timeout=30s']);
    // The pod with the default toleration is still there (its 300 s have not passed), not ready.
    const waiting = await json(['-n', NS, 'get', 'pod', 'patient']);
    assert.equal(waiting.metadata.deletionTimestamp, undefined);
    assert.equal(condition(waiting, 'Ready').status, 'False');

    // The node comes back: Ready, its taints gone, the evicted pods' termination completes and
    // the pod that stayed is ready again.
    await k(['annotate', 'node', victim, `${PAUSED}-`]);
    await until(`${victim} Ready again`, async () => {
      const n = await json(['get', 'node', victim]);
      return condition(n, 'Ready').status === 'True' && !(n.spec.taints ?? []).length;
    });
    await until('the evicted pods gone', async () => {
      const names = (await json(['-n', NS, 'get', 'pods'])).items.map((p: any) => p.metadata.name);
      return doomed.every((d) => !names.includes(d));
    });
    await k(['-n', NS, 'wait', '--for=condition=Ready', 'pod/patient', '--timeout=30s']);
  });

  test('delete namespace holding 200 running pods completes and leaves nothing behind', async (t) => {
    const NS = 'crowd';
    const REPLICAS = 200;
    await k(['create', 'namespace', NS]);
    await k(
      ['apply', '-f', '-'],
      `
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: ${NS} }
data: { mode: crowd }
---
apiVersion: v1
kind: Secret
metadata: { name: credentials, namespace: ${NS} }
stringData: { password: s3cret }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${NS} }
spec: { selector: { app: web }, ports: [{ port: 80 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${NS} }
spec:
  replicas: ${REPLICAS}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{ containerPort: 80 }]
        envFrom: [{ configMapRef: { name: settings } }]
`,
    );
    await k(['-n', NS, 'rollout', 'status', 'deployment/web', '--timeout=90s']);
    const pods = (await json(['-n', NS, 'get', 'pods'])).items;
    assert.equal(pods.length, REPLICAS);
    assert.ok(pods.every((p: any) => p.status.phase === 'Running'), 'every pod Running');
    const perNode = new Map<string, number>();
    for (const p of pods) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
    assert.ok(perNode.size >= 3, `spread over ${[...perNode.keys()].join(', ')}`);
    // What the namespace holds besides the pods: endpoints of all 200, slices, events.
    const addresses = await until('200 ready endpoints', async () => {
      const e = await json(['-n', NS, 'get', 'endpoints', 'web']);
      const n = (e.subsets ?? []).reduce((sum: number, s: any) => sum + (s.addresses?.length ?? 0), 0);
      return n === REPLICAS ? n : undefined;
    });
    assert.equal(addresses, REPLICAS);
    assert.ok((await json(['-n', NS, 'get', 'endpointslices'])).items.length >= 2, 'at least two EndpointSlices of at most 100 endpoints');
    assert.ok((await json(['-n', NS, 'get', 'events'])).items.length >= REPLICAS, 'events of the pods');

    // Bound: the simulated kubelets stop each container after its 1 s shutdown (well inside the
    // 30 s grace period), writing a final status and deleting each pod — ~3 writes per pod, 600
    // writes that this API server does at several hundred a second — and the namespace
    // controller looks again as soon as content goes. It takes ~3 s here; 20 s leaves room for a
    // loaded machine yet stays under the 30 s a kubelet that waited out the grace period would need.
    const started = Date.now();
    assert.match(await k(['delete', 'namespace', NS, '--timeout=60s']), new RegExp(`namespace "${NS}" deleted`));
    const seconds = (Date.now() - started) / 1000;
    t.diagnostic(`namespace with ${REPLICAS} pods deleted in ${seconds}s`);
    assert.ok(seconds < 20, `namespace deletion took ${seconds}s`);
    const gone = await kubectl(['get', 'namespace', NS]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, new RegExp(`namespaces "${NS}" not found`));

    // Nothing left in any namespaced resource the server serves — now, and after any late writer
    // (a kubelet event, an endpoints sync) would have had time to strike.
    const resources = (await k(['api-resources', '--namespaced=true', '--verbs=list', '-o', 'name'])).trim().split('\n');
    for (const expected of ['pods', 'replicasets.apps', 'deployments.apps', 'endpoints', 'endpointslices.discovery.k8s.io', 'events', 'events.events.k8s.io', 'configmaps', 'secrets', 'serviceaccounts', 'services']) {
      assert.ok(resources.includes(expected), `${expected} served`);
    }
    for (const pass of [0, 1]) {
      if (pass) await new Promise((r) => setTimeout(r, 2000));
      const left = await kubectl(['get', resources.join(','), '-n', NS, '-o', 'name']);
      assert.equal(left.code, 0, left.stderr);
      assert.equal(left.stdout, '', `left behind:\n${left.stdout}`);
      // Cluster-wide lists agree (no object filed under the namespace's name).
      for (const kind of ['pods', 'events', 'endpoints', 'replicasets']) {
        const all = await k(['get', kind, '-A', '--field-selector', `metadata.namespace=${NS}`, '-o', 'name']);
        assert.equal(all, '', `${kind} left behind:\n${all}`);
      }
    }
  });
});
