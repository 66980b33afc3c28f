/**
 * ResourceQuota, LimitRange and ServiceAccount admission with their controllers, over HTTPS
 * against an in-process server, as kube-apiserver and kube-controller-manager behave: quota
 * refusals with kube's message, status.used kept true, LimitRange defaults and bounds, pods
 * given the `default` account and its token volume, and every namespace given its `default`
 * ServiceAccount and `kube-root-ca.crt`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ControllerManager } from '@canopy/controllers';
import { ApiServer } from '../src/apiserver.js';
import { startLifecycleControllers } from './support/controllers.js';

interface Response {
  status: number;
  body: any;
}

let server: ApiServer;
let controllers: ControllerManager | undefined;
let dir: string;
let agent: Agent;

function call(method: string, path: string, body?: unknown): Promise<Response> {
  const url = new URL(path, server.url);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        method,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        agent,
        headers: payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function created(path: string, body: unknown): Promise<any> {
  const res = await call('POST', path, body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** Polls until `check` returns a value (kube's controllers are eventually consistent). */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await check();
    if (last !== undefined) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function pod(name: string, resources?: unknown, extra: Record<string, unknown> = {}): unknown {
  return {
    metadata: { name },
    spec: { containers: [{ name: 'app', image: 'nginx', ...(resources ? { resources } : {}) }], ...extra },
  };
}

async function namespace(name: string): Promise<string> {
  await created('/api/v1/namespaces', { metadata: { name } });
  return name;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'canopy-quota-'));
  server = await ApiServer.start({ dataDir: dir, port: 0 });
  controllers = await startLifecycleControllers(server);
  agent = new Agent({ keepAlive: true, ca: server.pki.ca.cert, cert: server.pki.admin.cert, key: server.pki.admin.key });
});

after(async () => {
  agent?.destroy();
  await controllers?.stop();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a count quota refuses the object beyond it with kube’s 403, and status.used follows creates and deletes', async () => {
  const ns = await namespace('quota-count');
  await created(`/api/v1/namespaces/${ns}/resourcequotas`, {
    metadata: { name: 'objects' },
    spec: { hard: { configmaps: '3', pods: '2', 'count/deployments.apps': '1' } },
  });
  // kube-root-ca.crt is one configmap already.
  const usedOf = async () => (await call('GET', `/api/v1/namespaces/${ns}/resourcequotas/objects`)).body.status?.used;
  await eventually('initial usage', async () => ((await usedOf())?.configmaps === '1' ? true : undefined));
  const status = (await call('GET', `/api/v1/namespaces/${ns}/resourcequotas/objects`)).body.status;
  assert.deepEqual(status.hard, { configmaps: '3', 'count/deployments.apps': '1', pods: '2' });
  assert.deepEqual(status.used, { configmaps: '1', 'count/deployments.apps': '0', pods: '0' });

  await created(`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'a' } });
  await created(`/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'b' } });
  const refused = await call('POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'c' } });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.reason, 'Forbidden');
  assert.equal(
    refused.body.message,
    'configmaps "c" is forbidden: exceeded quota: objects, requested: configmaps=1, used: configmaps=3, limited: configmaps=3',
  );

  await created(`/api/v1/namespaces/${ns}/pods`, pod('p1'));
  await created(`/api/v1/namespaces/${ns}/pods`, pod('p2'));
  const third = await call('POST', `/api/v1/namespaces/${ns}/pods`, pod('p3'));
  assert.equal(third.status, 403);
  assert.equal(
    third.body.message,
    'pods "p3" is forbidden: exceeded quota: objects, requested: pods=1, used: pods=2, limited: pods=2',
  );

  const deployment = (name: string) => ({
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    },
  });
  await created(`/apis/apps/v1/namespaces/${ns}/deployments`, deployment('d1'));
  const d2 = await call('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, deployment('d2'));
  assert.equal(d2.status, 403);
  assert.match(
    d2.body.message,
    /exceeded quota: objects, requested: count\/deployments.apps=1, used: count\/deployments.apps=1, limited: count\/deployments.apps=1$/,
  );

  await eventually('usage after creates', async () => {
    const used = await usedOf();
    return used?.configmaps === '3' && used.pods === '2' && used['count/deployments.apps'] === '1' ? true : undefined;
  });
  assert.equal((await call('DELETE', `/api/v1/namespaces/${ns}/configmaps/a`)).status, 200);
  assert.equal((await call('DELETE', `/api/v1/namespaces/${ns}/pods/p1`)).status, 200);
  await eventually('usage after deletes', async () => {
    const used = await usedOf();
    return used?.configmaps === '2' && used.pods === '1' ? true : undefined;
  });
  // The freed unit can be taken again.
  await created(`/api/v1/namespaces/${ns}/pods`, pod('p3'));
});

test('terminal pods are not charged for pods and compute resources', async () => {
  const ns = await namespace('quota-terminal');
  await created(`/api/v1/namespaces/${ns}/resourcequotas`, {
    metadata: { name: 'q' },
    spec: { hard: { pods: '1', 'count/pods': '5' } },
  });
  await created(`/api/v1/namespaces/${ns}/pods`, pod('done'));
  assert.equal((await call('POST', `/api/v1/namespaces/${ns}/pods`, pod('next'))).status, 403);
  const current = (await call('GET', `/api/v1/namespaces/${ns}/pods/done`)).body;
  const res = await call('PUT', `/api/v1/namespaces/${ns}/pods/done/status`, {
    ...current,
    status: { ...current.status, phase: 'Succeeded' },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  await created(`/api/v1/namespaces/${ns}/pods`, pod('next'));
  await eventually('terminal pod uncharged', async () => {
    const used = (await call('GET', `/api/v1/namespaces/${ns}/resourcequotas/q`)).body.status?.used;
    return used?.pods === '1' && used['count/pods'] === '2' ? true : undefined;
  });
});

test('a compute quota charges requests and limits and requires pods to state them', async () => {
  const ns = await namespace('quota-compute');
  await created(`/api/v1/namespaces/${ns}/resourcequotas`, {
    metadata: { name: 'compute' },
    spec: { hard: { 'requests.cpu': '1', 'requests.memory': '1Gi', 'limits.cpu': '2' } },
  });
  const missing = await call('POST', `/api/v1/namespaces/${ns}/pods`, pod('bare'));
  assert.equal(missing.status, 403);
  assert.equal(
    missing.body.message,
    'pods "bare" is forbidden: failed quota: compute: must specify limits.cpu for: app; requests.cpu for: app; requests.memory for: app',
  );

  const sized = (name: string, cpu: string) => pod(name, { requests: { cpu, memory: '256Mi' }, limits: { cpu: '1' } });
  await created(`/api/v1/namespaces/${ns}/pods`, sized('a', '600m'));
  const over = await call('POST', `/api/v1/namespaces/${ns}/pods`, sized('b', '500m'));
  assert.equal(over.status, 403);
  assert.equal(
    over.body.message,
    'pods "b" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1',
  );
  await created(`/api/v1/namespaces/${ns}/pods`, sized('b', '400m'));
  await eventually('compute usage', async () => {
    const used = (await call('GET', `/api/v1/namespaces/${ns}/resourcequotas/compute`)).body.status?.used;
    return used?.['requests.cpu'] === '1' && used['requests.memory'] === '512Mi' && used['limits.cpu'] === '2' ? true : undefined;
  });
});

test('concurrent creates never take a quota past hard', async () => {
  const ns = await namespace('quota-race');
  await created(`/api/v1/namespaces/${ns}/resourcequotas`, { metadata: { name: 'few' }, spec: { hard: { secrets: '4' } } });
  const results = await Promise.all(
    Array.from({ length: 12 }, (_, i) => call('POST', `/api/v1/namespaces/${ns}/secrets`, { metadata: { name: `s${i}` } })),
  );
  assert.equal(results.filter((r) => r.status === 201).length, 4);
  assert.equal(results.filter((r) => r.status === 403).length, 8);
  assert.equal((await call('GET', `/api/v1/namespaces/${ns}/secrets`)).body.items.length, 4);
});

test('LimitRange defaults container resources and refuses what is out of bounds', async () => {
  const ns = await namespace('limits');
  await created(`/api/v1/namespaces/${ns}/limitranges`, {
    metadata: { name: 'bounds' },
    spec: {
      limits: [
        {
          type: 'Container',
          default: { cpu: '500m', memory: '256Mi' },
          defaultRequest: { cpu: '200m' },
          min: { cpu: '100m' },
          max: { cpu: '1' },
        },
        { type: 'PersistentVolumeClaim', min: { storage: '1Gi' }, max: { storage: '10Gi' } },
      ],
    },
  });
  const defaulted = await created(`/api/v1/namespaces/${ns}/pods`, pod('defaulted', { requests: { memory: '100Mi' } }));
  assert.deepEqual(defaulted.spec.containers[0].resources, {
    requests: { cpu: '200m', memory: '100Mi' },
    limits: { cpu: '500m', memory: '256Mi' },
  });
  assert.equal(
    defaulted.metadata.annotations['kubernetes.io/limit-ranger'],
    'LimitRanger plugin set: cpu request for container app; cpu, memory limit for container app',
  );

  const small = await call('POST', `/api/v1/namespaces/${ns}/pods`, pod('small', { requests: { cpu: '50m' } }));
  assert.equal(small.status, 403);
  assert.equal(small.body.message, 'pods "small" is forbidden: minimum cpu usage per Container is 100m, but request is 50m');
  const big = await call('POST', `/api/v1/namespaces/${ns}/pods`, pod('big', { requests: { cpu: '2' }, limits: { cpu: '2' } }));
  assert.equal(big.status, 403);
  assert.equal(big.body.message, 'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2');

  const claim = (name: string, storage: string) => ({
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } },
  });
  const tiny = await call('POST', `/api/v1/namespaces/${ns}/persistentvolumeclaims`, claim('tiny', '500Mi'));
  assert.equal(tiny.status, 403);
  assert.equal(
    tiny.body.message,
    'persistentvolumeclaims "tiny" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi',
  );
  await created(`/api/v1/namespaces/${ns}/persistentvolumeclaims`, claim('fine', '5Gi'));
});

test('a LimitRange with a limit/request ratio and a Pod maximum', async () => {
  const ns = await namespace('limits-ratio');
  await created(`/api/v1/namespaces/${ns}/limitranges`, {
    metadata: { name: 'ratio' },
    spec: {
      limits: [
        { type: 'Container', maxLimitRequestRatio: { memory: '2' } },
        { type: 'Pod', max: { memory: '1Gi' } },
      ],
    },
  });
  const skewed = await call(
    'POST',
    `/api/v1/namespaces/${ns}/pods`,
    pod('skewed', { requests: { memory: '100Mi' }, limits: { memory: '300Mi' } }),
  );
  assert.equal(skewed.status, 403);
  assert.equal(
    skewed.body.message,
    'pods "skewed" is forbidden: memory max limit to request ratio per Container is 2, but provided ratio is 3.000000',
  );
  const two = {
    metadata: { name: 'two' },
    spec: {
      containers: ['a', 'b'].map((name) => ({
        name,
        image: 'nginx',
        resources: { requests: { memory: '600Mi' }, limits: { memory: '600Mi' } },
      })),
    },
  };
  const total = await call('POST', `/api/v1/namespaces/${ns}/pods`, two);
  assert.equal(total.status, 403);
  assert.equal(total.body.message, 'pods "two" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1200Mi');
});

test('every namespace gets the default ServiceAccount and kube-root-ca.crt', async () => {
  const ns = await namespace('fresh');
  // A pod can follow the namespace at once: admission waits for the controller's default account.
  await created(`/api/v1/namespaces/${ns}/pods`, pod('first'));
  const sa = await call('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`);
  assert.equal(sa.status, 200);
  const ca = await eventually('the root CA published', async () => {
    const res = await call('GET', `/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`);
    return res.status === 200 ? res : undefined;
  });
  assert.equal(ca.body.data['ca.crt'], server.pki.ca.cert);
  for (const existing of ['default', 'kube-system', 'kube-public']) {
    assert.equal((await call('GET', `/api/v1/namespaces/${existing}/serviceaccounts/default`)).status, 200, existing);
  }
  // Deleted or changed, they come back.
  assert.equal((await call('DELETE', `/api/v1/namespaces/${ns}/serviceaccounts/default`)).status, 200);
  await eventually('default recreated', async () =>
    (await call('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`)).status === 200 ? true : undefined,
  );
  const changed = await call('PUT', `/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`, {
    ...ca.body,
    data: { 'ca.crt': 'tampered' },
  });
  assert.equal(changed.status, 200);
  await eventually('CA restored', async () =>
    (await call('GET', `/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`)).body.data['ca.crt'] === server.pki.ca.cert
      ? true
      : undefined,
  );
});

test('pods run as the default ServiceAccount with its token volume; a missing account is refused', async () => {
  const ns = await namespace('accounts');
  const created1 = await created(`/api/v1/namespaces/${ns}/pods`, {
    metadata: { name: 'web' },
    spec: { initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'app', image: 'nginx' }] },
  });
  assert.equal(created1.spec.serviceAccountName, 'default');
  assert.equal(created1.spec.serviceAccount, 'default');
  const volume = created1.spec.volumes.find((v: any) => v.name.startsWith('kube-api-access-'));
  assert.match(volume.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.deepEqual(volume.projected.sources, [
    { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
    { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
    { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
  ]);
  for (const c of [...created1.spec.initContainers, ...created1.spec.containers]) {
    assert.deepEqual(c.volumeMounts, [
      { name: volume.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
    ]);
  }

  const optedOut = await created(
    `/api/v1/namespaces/${ns}/pods`,
    pod('quiet', undefined, { automountServiceAccountToken: false }),
  );
  assert.equal(optedOut.spec.volumes, undefined);
  assert.equal(optedOut.spec.containers[0].volumeMounts, undefined);

  const missing = await call('POST', `/api/v1/namespaces/${ns}/pods`, pod('robot', undefined, { serviceAccountName: 'robot' }));
  assert.equal(missing.status, 403);
  assert.equal(
    missing.body.message,
    'pods "robot" is forbidden: error looking up service account accounts/robot: serviceaccount "robot" not found',
  );

  await created(`/api/v1/namespaces/${ns}/serviceaccounts`, {
    metadata: { name: 'robot' },
    automountServiceAccountToken: false,
    imagePullSecrets: [{ name: 'registry' }],
  });
  const robot = await created(`/api/v1/namespaces/${ns}/pods`, pod('robot', undefined, { serviceAccountName: 'robot' }));
  assert.equal(robot.spec.serviceAccountName, 'robot');
  assert.equal(robot.spec.volumes, undefined);
  assert.deepEqual(robot.spec.imagePullSecrets, [{ name: 'registry' }]);
});

test('service quotas count load balancers and node ports; scoped quotas select pods by QoS', async () => {
  const ns = await namespace('quota-services');
  await created(`/api/v1/namespaces/${ns}/resourcequotas`, {
    metadata: { name: 'svc' },
    spec: { hard: { 'services.loadbalancers': '1', 'services.nodeports': '2' } },
  });
  const service = (name: string, type: string, ports: number) => ({
    metadata: { name },
    spec: { type, selector: { app: name }, ports: Array.from({ length: ports }, (_, i) => ({ name: `p${i}`, port: 80 + i })) },
  });
  await created(`/api/v1/namespaces/${ns}/services`, service('plain', 'ClusterIP', 3));
  await created(`/api/v1/namespaces/${ns}/services`, service('lb', 'LoadBalancer', 1));
  const second = await call('POST', `/api/v1/namespaces/${ns}/services`, service('lb2', 'LoadBalancer', 1));
  assert.equal(second.status, 403);
  assert.equal(
    second.body.message,
    'services "lb2" is forbidden: exceeded quota: svc, requested: services.loadbalancers=1, used: services.loadbalancers=1, limited: services.loadbalancers=1',
  );
  const ports = await call('POST', `/api/v1/namespaces/${ns}/services`, service('np', 'NodePort', 2));
  assert.equal(ports.status, 403);
  assert.match(ports.body.message, /requested: services.nodeports=2, used: services.nodeports=1, limited: services.nodeports=2$/);

  await created(`/api/v1/namespaces/${ns}/resourcequotas`, {
    metadata: { name: 'besteffort' },
    spec: { hard: { pods: '1' }, scopes: ['BestEffort'] },
  });
  await created(`/api/v1/namespaces/${ns}/pods`, pod('be-1'));
  assert.equal((await call('POST', `/api/v1/namespaces/${ns}/pods`, pod('be-2'))).status, 403);
  // A pod with requests is not BestEffort: the scoped quota does not apply to it.
  await created(`/api/v1/namespaces/${ns}/pods`, pod('burstable', { requests: { cpu: '100m' } }));
});
