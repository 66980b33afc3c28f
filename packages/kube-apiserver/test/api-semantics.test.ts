/**
 * HTTP-level tests of the API server's Kubernetes semantics: a real server on an ephemeral port,
 * spoken to over HTTPS with the admin client certificate, the way kubectl and client-go speak to
 * kube-apiserver. Expectations are what kube-apiserver answers (status codes, reasons, message
 * wording where clients print it), not what this implementation happens to do.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { StatusError } from '@canopy/apimachinery';
import type { ControllerManager } from '@canopy/controllers';
import { ApiServer } from '../src/apiserver.js';
import { startLifecycleControllers } from './support/controllers.js';

// ---- HTTP client ---------------------------------------------------------------------------------

interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: any;
}

interface CallOptions {
  /** A string or Buffer is sent as is; anything else is JSON-encoded. */
  body?: unknown;
  contentType?: string;
  accept?: string;
}

interface WatchEvent {
  type: string;
  object: any;
}

interface WatchStream {
  status: number;
  headers: IncomingHttpHeaders;
  /** The next event; undefined when the stream ended or nothing came within `timeoutMs`. */
  next(timeoutMs?: number): Promise<WatchEvent | undefined>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

interface Credentials {
  ca: string;
  cert?: string;
  key?: string;
}

class Client {
  private readonly agent: Agent;

  constructor(
    readonly baseUrl: string,
    private readonly credentials: Credentials,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 16, ...credentials });
  }

  private options(method: string, path: string, headers: Record<string, string>, agent: Agent | false): RequestOptions {
    const url = new URL(path, this.baseUrl);
    return {
      method,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      headers,
      agent,
      ...(agent === false ? this.credentials : {}),
    };
  }

  call(method: string, path: string, options: CallOptions = {}, agent: Agent | false = this.agent): Promise<Response> {
    let payload: Buffer | undefined;
    if (options.body !== undefined) {
      payload = Buffer.isBuffer(options.body)
        ? options.body
        : Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body));
    }
    const headers: Record<string, string> = {};
    if (options.accept) headers.accept = options.accept;
    if (payload) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    return new Promise((resolve, reject) => {
      const req = httpsRequest(this.options(method, path, headers, agent), (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
      });
      req.on('error', reject);
      req.setTimeout(20_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.end(payload);
    });
  }

  get = (path: string, accept?: string) => this.call('GET', path, accept ? { accept } : {});
  post = (path: string, body: unknown, contentType?: string) =>
    this.call('POST', path, { body, ...(contentType ? { contentType } : {}) });
  put = (path: string, body: unknown) => this.call('PUT', path, { body });
  patch = (path: string, body: unknown, contentType = 'application/merge-patch+json') =>
    this.call('PATCH', path, { body, contentType });
  del = (path: string, body?: unknown) => this.call('DELETE', path, body === undefined ? {} : { body });

  /** Opens a watch on its own connection and reads newline-delimited events. */
  watch(path: string, accept?: string): Promise<WatchStream> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(this.options('GET', path, accept ? { accept } : {}, false), (res) => {
        const queue: WatchEvent[] = [];
        const waiters: Array<() => void> = [];
        let buffered = '';
        let done = false;
        let endedResolve!: () => void;
        const ended = new Promise<void>((r) => (endedResolve = r));
        const wake = () => waiters.splice(0).forEach((w) => w());
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line) queue.push(JSON.parse(line) as WatchEvent);
          }
          wake();
        });
        const finish = () => {
          done = true;
          endedResolve();
          wake();
        };
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          ended,
          async next(timeoutMs = 5000) {
            const deadline = Date.now() + timeoutMs;
            while (queue.length === 0 && !done && Date.now() < deadline) {
              await new Promise<void>((r) => {
                const t = setTimeout(r, deadline - Date.now());
                waiters.push(() => {
                  clearTimeout(t);
                  r();
                });
              });
            }
            if (queue.length === 0 && done && buffered.trim()) {
              // A non-streaming answer (an error Status) is one JSON document without a newline.
              const body = buffered;
              buffered = '';
              return { type: '<body>', object: JSON.parse(body) };
            }
            return queue.shift();
          },
          close: () => req.destroy(),
        });
      });
      req.on('error', (err) => {
        if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
      });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

// ---- helpers -------------------------------------------------------------------------------------

const RFC3339_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
/** k8s.io/apimachinery/pkg/util/rand's alphabet for generateName suffixes. */
const NAME_SUFFIX = /^[bcdfghjklmnpqrstvwxz2456789]{5}$/;
const TABLE_ACCEPT =
  'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

/** Asserts an error answer: a `Status` whose code is the HTTP status, with the expected reason. */
function assertStatus(
  res: Response,
  code: number,
  reason?: string,
): {
  message: string;
  reason: string;
  details?: { causes?: Array<{ field?: string; message?: string; reason?: string }>; name?: string; kind?: string };
} {
  assert.equal(res.status, code, `expected HTTP ${code}, got ${res.status}: ${res.text.slice(0, 400)}`);
  assert.equal(res.body?.kind, 'Status', `error body is not a Status: ${res.text.slice(0, 200)}`);
  assert.equal(res.body.apiVersion, 'v1');
  assert.equal(res.body.status, 'Failure');
  assert.equal(res.body.code, res.status, 'Status.code must equal the HTTP status');
  if (reason) assert.equal(res.body.reason, reason, `reason of: ${res.body.message}`);
  return res.body;
}

function assertOk(res: Response, code = 200): void {
  assert.equal(res.status, code, `expected HTTP ${code}, got ${res.status}: ${res.text.slice(0, 600)}`);
}

/**
 * A deletion that did not complete at once (grace period, finalizers): the object, marked. The
 * status code is checked once, in its own test, so that this does not hide other behaviour.
 */
function assertMarkedForDeletion(res: Response): void {
  assert.ok(res.status === 200 || res.status === 202, `expected the marked object, got ${res.status}: ${res.text.slice(0, 400)}`);
  assert.match(res.body?.metadata?.deletionTimestamp ?? '', RFC3339_SECONDS);
}

function causeFields(status: { details?: { causes?: Array<{ field?: string }> } }): string[] {
  return (status.details?.causes ?? []).map((c) => c.field ?? '');
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Reads events until one satisfies `match` (others are collected); fails after `timeoutMs`. */
async function nextMatching(
  watch: WatchStream,
  match: (e: WatchEvent) => boolean,
  timeoutMs = 5000,
): Promise<{ event: WatchEvent; skipped: WatchEvent[] }> {
  const deadline = Date.now() + timeoutMs;
  const skipped: WatchEvent[] = [];
  for (;;) {
    const remaining = deadline - Date.now();
    const event = remaining > 0 ? await watch.next(remaining) : undefined;
    if (!event)
      assert.fail(`no matching watch event; saw ${JSON.stringify(skipped.map((e) => [e.type, e.object?.metadata?.name]))}`);
    if (match(event)) return { event, skipped };
    skipped.push(event);
  }
}

const configMap = (name: string, extra: Record<string, unknown> = {}, data: Record<string, string> = { key: 'value' }) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...extra },
  data,
});

const deployment = (
  name: string,
  replicas = 1,
  containers: Array<Record<string, unknown>> = [{ name: 'web', image: 'nginx:1.25' }],
) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels: { app: name } },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers } },
  },
});

const ns = (name: string) => `/api/v1/namespaces/${name}`;
const cms = (namespace: string) => `${ns(namespace)}/configmaps`;
const deploys = (namespace: string) => `/apis/apps/v1/namespaces/${namespace}/deployments`;

// ---- servers -------------------------------------------------------------------------------------

const dirs: string[] = [];
let server: ApiServer;
let api: Client;
let controllers: ControllerManager | undefined;

function clientFor(s: ApiServer, withCert = true): Client {
  return new Client(
    s.url,
    withCert ? { ca: s.pki.ca.cert, cert: s.pki.admin.cert, key: s.pki.admin.key } : { ca: s.pki.ca.cert },
  );
}

async function createNamespace(name: string): Promise<void> {
  const res = await api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  assertOk(res, 201);
  // As kube's e2e framework does: the controllers give every namespace its default account and CA.
  await eventually(`namespace ${name} to be set up`, async () =>
    (await api.get(`/api/v1/namespaces/${name}/serviceaccounts/default`)).status === 200 &&
    (await api.get(`/api/v1/namespaces/${name}/configmaps/kube-root-ca.crt`)).status === 200,
  );
}

/** The current resourceVersion of a list (advances with every write in the store). */
async function listVersion(path: string): Promise<string> {
  const res = await api.get(path);
  assertOk(res);
  return res.body.metadata.resourceVersion;
}

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-api-semantics-'));
  dirs.push(dir);
  server = await ApiServer.start({ dataDir: dir, port: 0 });
  controllers = await startLifecycleControllers(server);
  api = clientFor(server);
});

after(async () => {
  api?.close();
  await controllers?.stop();
  await server?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// ---- create --------------------------------------------------------------------------------------

test('create: 201 with system metadata; generation only where the kind tracks it; generateName', async () => {
  await createNamespace('create');
  const cm = await api.post(cms('create'), configMap('plain'));
  assertOk(cm, 201);
  assert.equal(cm.body.kind, 'ConfigMap');
  assert.equal(cm.body.apiVersion, 'v1');
  assert.equal(cm.body.metadata.namespace, 'create');
  assert.match(cm.body.metadata.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.match(cm.body.metadata.creationTimestamp, RFC3339_SECONDS);
  assert.match(cm.body.metadata.resourceVersion, /^[1-9][0-9]*$/);
  assert.equal(cm.body.metadata.generation, undefined, 'ConfigMaps have no generation');

  const dep = await api.post(deploys('create'), deployment('web'));
  assertOk(dep, 201);
  assert.equal(dep.body.metadata.generation, 1);
  assert.ok(Number(dep.body.metadata.resourceVersion) > Number(cm.body.metadata.resourceVersion), 'resourceVersions increase');

  const generated = await api.post(cms('create'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } });
  assertOk(generated, 201);
  assert.equal(generated.body.metadata.generateName, 'gen-');
  assert.ok(generated.body.metadata.name.startsWith('gen-'));
  assert.match(generated.body.metadata.name.slice('gen-'.length), NAME_SUFFIX);
  assertOk(await api.get(`${cms('create')}/${generated.body.metadata.name}`));

  const again = await api.post(cms('create'), configMap('plain'));
  const exists = assertStatus(again, 409, 'AlreadyExists');
  assert.equal(exists.message, 'configmaps "plain" already exists');
});

test('create: wrong apiVersion or kind in the body → 400', async () => {
  const wrongVersion = await api.post(cms('create'), { ...configMap('wrong-version'), apiVersion: 'apps/v1' });
  assertStatus(wrongVersion, 400, 'BadRequest');
  const wrongKind = await api.post(cms('create'), { ...configMap('wrong-kind'), kind: 'Secret' });
  assertStatus(wrongKind, 400, 'BadRequest');
  assertStatus(await api.get(`${cms('create')}/wrong-kind`), 404, 'NotFound');
});

test('create: namespace in the body differs from the URL → 400', async () => {
  const res = await api.post(cms('create'), configMap('mismatch', { namespace: 'default' }));
  const status = assertStatus(res, 400, 'BadRequest');
  assert.equal(status.message, 'the namespace of the provided object does not match the namespace sent on the request');
});

test('create: in a namespace that does not exist → 404 namespaces "x" not found', async () => {
  const res = await api.post(cms('no-such-namespace'), configMap('orphan'));
  const status = assertStatus(res, 404, 'NotFound');
  assert.equal(status.message, 'namespaces "no-such-namespace" not found');
  assert.equal(status.details?.kind, 'namespaces');
  assert.equal(status.details?.name, 'no-such-namespace');
});

test('create: in a terminating namespace → 403 Forbidden (NamespaceLifecycle)', async () => {
  await createNamespace('terminating');
  // A finalizer nobody removes keeps the namespace in Terminating while we try to write into it.
  assertOk(await api.post(cms('terminating'), configMap('held', { finalizers: ['example.com/hold'] })), 201);
  const deleted = await api.del(ns('terminating'));
  assertMarkedForDeletion(deleted);
  assert.equal(deleted.body.status?.phase, 'Terminating');
  await eventually(
    'the held ConfigMap to be marked for deletion',
    async () => (await api.get(`${cms('terminating')}/held`)).body?.metadata?.deletionTimestamp,
  );

  const res = await api.post(cms('terminating'), configMap('late'));
  const status = assertStatus(res, 403, 'Forbidden');
  assert.match(status.message, /unable to create new content in namespace terminating because it is being terminated$/);
  assert.ok((status.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating' && c.field === 'metadata.namespace'));
  assertStatus(await api.get(`${cms('terminating')}/late`), 404, 'NotFound');

  // Releasing the finalizer lets the namespace finish.
  const held = (await api.get(`${cms('terminating')}/held`)).body;
  assertOk(await api.put(`${cms('terminating')}/held`, { ...held, metadata: { ...held.metadata, finalizers: [] } }));
  await eventually('namespace "terminating" to be gone', async () => (await api.get(ns('terminating'))).status === 404);

  // kube: errors.NewForbidden(configmaps, "late", …), which prefixes what was forbidden.
  assert.equal(
    status.message,
    'configmaps "late" is forbidden: unable to create new content in namespace terminating because it is being terminated',
  );
});

// ---- defaults ------------------------------------------------------------------------------------

test('defaults: Deployment strategy, revisionHistoryLimit, progressDeadlineSeconds', async () => {
  await createNamespace('defaults');
  const body = deployment('defaulted');
  delete (body.spec as { replicas?: number }).replicas;
  const res = await api.post(deploys('defaults'), body);
  assertOk(res, 201);
  const spec = res.body.spec;
  assert.equal(spec.replicas, 1);
  assert.deepEqual(spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
  assert.equal(spec.revisionHistoryLimit, 10);
  assert.equal(spec.progressDeadlineSeconds, 600);
  assert.equal(spec.template.spec.restartPolicy, 'Always');
  // What is returned is what is stored.
  assert.deepEqual((await api.get(`${deploys('defaults')}/defaulted`)).body.spec, spec);
});

test('defaults: Pod restartPolicy, dnsPolicy, terminationGracePeriodSeconds, imagePullPolicy by tag', async () => {
  const digest = 'busybox@sha256:' + 'a'.repeat(64);
  const res = await api.post(`${ns('defaults')}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'pulls' },
    spec: {
      containers: [
        { name: 'untagged', image: 'nginx' },
        { name: 'latest', image: 'nginx:latest' },
        { name: 'tagged', image: 'nginx:1.25' },
        { name: 'digest', image: digest },
        { name: 'explicit', image: 'nginx', imagePullPolicy: 'Never' },
      ],
    },
  });
  assertOk(res, 201);
  const spec = res.body.spec;
  assert.equal(spec.restartPolicy, 'Always');
  assert.equal(spec.dnsPolicy, 'ClusterFirst');
  assert.equal(spec.terminationGracePeriodSeconds, 30);
  assert.equal(spec.schedulerName, 'default-scheduler');
  const policies = Object.fromEntries(
    spec.containers.map((c: { name: string; imagePullPolicy: string }) => [c.name, c.imagePullPolicy]),
  );
  assert.deepEqual(policies, {
    untagged: 'Always',
    latest: 'Always',
    tagged: 'IfNotPresent',
    digest: 'IfNotPresent',
    explicit: 'Never',
  });
  assert.equal(spec.containers[0].terminationMessagePath, '/dev/termination-log');
  assert.equal(spec.containers[0].terminationMessagePolicy, 'File');
  assert.equal(res.body.status.phase, 'Pending');
});

test('defaults: Service clusterIP allocated in 10.43.0.0/16, clusterIPs, NodePort allocation and conflicts', async () => {
  const svc = await api.post(`${ns('defaults')}/services`, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
  });
  assertOk(svc, 201);
  const spec = svc.body.spec;
  assert.match(spec.clusterIP, /^10\.43\.\d{1,3}\.\d{1,3}$/);
  assert.notEqual(spec.clusterIP, '10.43.0.1', 'the kubernetes Service owns the first address');
  assert.deepEqual(spec.clusterIPs, [spec.clusterIP]);
  assert.equal(spec.type, 'ClusterIP');
  assert.equal(spec.sessionAffinity, 'None');
  assert.deepEqual(spec.ipFamilies, ['IPv4']);
  assert.equal(spec.ipFamilyPolicy, 'SingleStack');
  assert.equal(spec.internalTrafficPolicy, 'Cluster');
  assert.deepEqual(spec.ports, [{ port: 80, protocol: 'TCP', targetPort: 80 }]);

  const nodePort = await api.post(`${ns('defaults')}/services`, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'exposed' },
    spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
  });
  assertOk(nodePort, 201);
  const allocated = nodePort.body.spec.ports[0].nodePort;
  assert.ok(Number.isInteger(allocated) && allocated >= 30000 && allocated <= 32767, `nodePort ${allocated} outside 30000-32767`);
  assert.equal(nodePort.body.spec.externalTrafficPolicy, 'Cluster');
  assert.notEqual(nodePort.body.spec.clusterIP, spec.clusterIP);

  const taken = await api.post(`${ns('defaults')}/services`, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'clash' },
    spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 81, nodePort: allocated }] },
  });
  const status = assertStatus(taken, 422, 'Invalid');
  assert.deepEqual(causeFields(status), ['spec.ports[0].nodePort']);
  assert.match(status.message, /provided port is already allocated/);
  assertStatus(await api.get(`${ns('defaults')}/services/clash`), 404, 'NotFound');
});

// ---- update --------------------------------------------------------------------------------------

test('update: a stale resourceVersion → 409 Conflict with kube wording', async () => {
  await createNamespace('update');
  const created = (await api.post(cms('update'), configMap('contended'))).body;
  assertOk(await api.put(`${cms('update')}/contended`, { ...created, data: { key: 'first' } }));
  const stale = await api.put(`${cms('update')}/contended`, { ...created, data: { key: 'second' } });
  const status = assertStatus(stale, 409, 'Conflict');
  assert.equal(
    status.message,
    'Operation cannot be fulfilled on configmaps "contended": the object has been modified; please apply your changes to the latest version and try again',
  );
  assert.equal(status.details?.name, 'contended');
  assert.equal(status.details?.kind, 'configmaps');
  assert.equal((await api.get(`${cms('update')}/contended`)).body.data.key, 'first');
});

test('update: a no-op update keeps the resourceVersion and emits no watch event', async () => {
  const created = (await api.post(cms('update'), configMap('steady'))).body;
  const watch = await api.watch(`${cms('update')}?watch=true&resourceVersion=${created.metadata.resourceVersion}`);
  try {
    const same = await api.put(`${cms('update')}/steady`, created);
    assertOk(same);
    assert.equal(same.body.metadata.resourceVersion, created.metadata.resourceVersion);
    const withoutVersion = structuredClone(created);
    delete withoutVersion.metadata.resourceVersion;
    const same2 = await api.put(`${cms('update')}/steady`, withoutVersion);
    assertOk(same2);
    assert.equal(same2.body.metadata.resourceVersion, created.metadata.resourceVersion);

    const changed = await api.put(`${cms('update')}/steady`, { ...created, data: { key: 'changed' } });
    assertOk(changed);
    const first = await watch.next();
    assert.equal(first?.type, 'MODIFIED');
    assert.equal(
      first?.object.metadata.resourceVersion,
      changed.body.metadata.resourceVersion,
      'the first event is the real change',
    );
  } finally {
    watch.close();
  }
});

test('update: generation bumps on spec changes only', async () => {
  const created = (await api.post(deploys('update'), deployment('gen'))).body;
  assert.equal(created.metadata.generation, 1);
  const relabelled = await api.put(`${deploys('update')}/gen`, {
    ...created,
    metadata: { ...created.metadata, labels: { app: 'gen', tier: 'web' } },
  });
  assertOk(relabelled);
  assert.equal(relabelled.body.metadata.generation, 1, 'a label change is not a spec change');
  assert.notEqual(relabelled.body.metadata.resourceVersion, created.metadata.resourceVersion);
  const rescaled = await api.put(`${deploys('update')}/gen`, {
    ...relabelled.body,
    spec: { ...relabelled.body.spec, replicas: 3 },
  });
  assertOk(rescaled);
  assert.equal(rescaled.body.metadata.generation, 2);
});

test('update: the main resource keeps status; PUT /status changes only status', async () => {
  const created = (await api.post(deploys('update'), deployment('stat'))).body;
  const status = { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 };
  const statusWrite = await api.put(`${deploys('update')}/stat/status`, {
    ...created,
    metadata: { ...created.metadata, labels: { app: 'stat', sneaky: 'label' } },
    spec: { ...created.spec, replicas: 9 },
    status,
  });
  assertOk(statusWrite);
  assert.deepEqual(statusWrite.body.status, status);
  assert.equal(statusWrite.body.spec.replicas, 1, 'status writes ignore spec');
  assert.deepEqual(statusWrite.body.metadata.labels, { app: 'stat' }, 'status writes ignore labels');
  assert.equal(statusWrite.body.metadata.generation, 1);

  const mainWrite = await api.put(`${deploys('update')}/stat`, {
    ...statusWrite.body,
    spec: { ...statusWrite.body.spec, replicas: 2 },
    status: { replicas: 7 },
  });
  assertOk(mainWrite);
  assert.equal(mainWrite.body.spec.replicas, 2);
  assert.deepEqual(mainWrite.body.status, status, 'main resource writes ignore status');
});

test('update: the Deployment selector is immutable → 422 field is immutable', async () => {
  const created = (await api.post(deploys('update'), deployment('fixed'))).body;
  const relabel = { app: 'other' };
  const res = await api.put(`${deploys('update')}/fixed`, {
    ...created,
    spec: {
      ...created.spec,
      selector: { matchLabels: relabel },
      template: { ...created.spec.template, metadata: { labels: relabel } },
    },
  });
  const status = assertStatus(res, 422, 'Invalid');
  assert.ok(causeFields(status).includes('spec.selector'), `causes: ${JSON.stringify(status.details?.causes)}`);
  assert.match(status.message, /^Deployment\.apps "fixed" is invalid: .*spec\.selector: Invalid value: .*: field is immutable/);
  assert.deepEqual((await api.get(`${deploys('update')}/fixed`)).body.spec.selector, { matchLabels: { app: 'fixed' } });
});

test('update: a Service keeps its clusterIP → 422 may not change once set', async () => {
  const svc = (
    await api.post(`${ns('update')}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'pinned' },
      spec: { ports: [{ port: 80 }] },
    })
  ).body;
  const [a, b, c, d] = svc.spec.clusterIP.split('.').map(Number);
  const moved = `${a}.${b}.${c}.${d === 200 ? 201 : 200}`;
  const svcRes = await api.put(`${ns('update')}/services/pinned`, { ...svc, spec: { ...svc.spec, clusterIP: moved } });
  // kube normalises clusterIPs from the changed clusterIP, then: spec.clusterIPs[0]: Invalid value: []string{…}: may not change once set
  const svcStatus = assertStatus(svcRes, 422, 'Invalid');
  assert.ok(causeFields(svcStatus).includes('spec.clusterIPs[0]'), `causes: ${JSON.stringify(svcStatus.details?.causes)}`);
  assert.match(svcStatus.message, /may not change once set/);
  const stored = (await api.get(`${ns('update')}/services/pinned`)).body.spec;
  assert.equal(stored.clusterIP, svc.spec.clusterIP);
  assert.deepEqual(stored.clusterIPs, [stored.clusterIP], 'clusterIPs[0] is always clusterIP');
});

// ---- patch ---------------------------------------------------------------------------------------

test('patch: merge patch with a stale resourceVersion precondition → 409', async () => {
  await createNamespace('patch');
  const created = (await api.post(cms('patch'), configMap('pre'))).body;
  assertOk(await api.patch(`${cms('patch')}/pre`, { data: { key: 'moved' } }));
  const res = await api.patch(`${cms('patch')}/pre`, {
    metadata: { resourceVersion: created.metadata.resourceVersion },
    data: { key: 'stale' },
  });
  assertStatus(res, 409, 'Conflict');
  assert.equal((await api.get(`${cms('patch')}/pre`)).body.data.key, 'moved');
});

test('patch: strategic merge patch on a built-in kind merges lists by key and honours $patch: delete', async () => {
  const created = await api.post(
    deploys('patch'),
    deployment('smp', 1, [
      { name: 'app', image: 'nginx:1.25' },
      { name: 'sidecar', image: 'busybox:1.36', command: ['sleep', 'infinity'] },
    ]),
  );
  assertOk(created, 201);
  const smp = 'application/strategic-merge-patch+json';
  const merged = await api.patch(
    `${deploys('patch')}/smp`,
    { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox:1.37' }] } } } },
    smp,
  );
  assertOk(merged);
  const containers = merged.body.spec.template.spec.containers;
  assert.deepEqual(
    containers.map((c: { name: string; image: string }) => [c.name, c.image]),
    [
      ['app', 'nginx:1.25'],
      ['sidecar', 'busybox:1.37'],
    ],
  );
  assert.deepEqual(containers[1].command, ['sleep', 'infinity'], 'fields the patch does not name are kept');
  assert.equal(merged.body.metadata.generation, 2);

  const removed = await api.patch(
    `${deploys('patch')}/smp`,
    { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } },
    smp,
  );
  assertOk(removed);
  assert.deepEqual(
    removed.body.spec.template.spec.containers.map((c: { name: string }) => c.name),
    ['app'],
  );
});

test('patch: JSON patch test failure → 422; missing object → 404; unsupported patch type → 415', async () => {
  assertOk(await api.post(cms('patch'), configMap('jp')), 201);
  const failedTest = await api.patch(
    `${cms('patch')}/jp`,
    [
      { op: 'test', path: '/data/key', value: 'not-the-value' },
      { op: 'replace', path: '/data/key', value: 'x' },
    ],
    'application/json-patch+json',
  );
  assertStatus(failedTest, 422, 'Invalid');
  assert.equal((await api.get(`${cms('patch')}/jp`)).body.data.key, 'value');

  const applied = await api.patch(
    `${cms('patch')}/jp`,
    [
      { op: 'test', path: '/data/key', value: 'value' },
      { op: 'add', path: '/data/other', value: 'y' },
    ],
    'application/json-patch+json',
  );
  assertOk(applied);
  assert.deepEqual(applied.body.data, { key: 'value', other: 'y' });

  const missing = await api.patch(`${cms('patch')}/absent`, { data: { a: 'b' } });
  const notFound = assertStatus(missing, 404, 'NotFound');
  assert.equal(notFound.message, 'configmaps "absent" not found');

  const unsupported = await api.patch(`${cms('patch')}/jp`, '<data/>', 'application/xml');
  assertStatus(unsupported, 415, 'UnsupportedMediaType');
});

// ---- dryRun --------------------------------------------------------------------------------------

test('dryRun=All on create/update/patch/delete changes nothing and returns the would-be object', async () => {
  await createNamespace('dry');
  const existing = (await api.post(cms('dry'), configMap('real'))).body;
  const before = await api.get(cms('dry'));
  const rv = before.body.metadata.resourceVersion;

  const created = await api.post(`${cms('dry')}?dryRun=All`, configMap('imagined'));
  assertOk(created, 201);
  assert.equal(created.body.metadata.name, 'imagined');
  assert.ok(created.body.metadata.uid && created.body.metadata.creationTimestamp, 'the would-be object carries system metadata');
  assertStatus(await api.get(`${cms('dry')}/imagined`), 404, 'NotFound');

  const updated = await api.put(`${cms('dry')}/real?dryRun=All`, { ...existing, data: { key: 'updated' } });
  assertOk(updated);
  assert.equal(updated.body.data.key, 'updated');

  const patched = await api.patch(`${cms('dry')}/real?dryRun=All`, { data: { key: 'patched' } });
  assertOk(patched);
  assert.equal(patched.body.data.key, 'patched');

  const deleted = await api.del(`${cms('dry')}/real?dryRun=All`);
  assertOk(deleted);

  const after = await api.get(cms('dry'));
  assert.equal(after.body.metadata.resourceVersion, rv, 'no write happened');
  assert.deepEqual(
    after.body.items.map((i: { metadata: { name: string } }) => i.metadata.name),
    // Every namespace holds the root CA publisher's ConfigMap, as in kube.
    ['kube-root-ca.crt', 'real'],
  );
  const stored = (await api.get(`${cms('dry')}/real`)).body;
  assert.equal(stored.data.key, 'value');
  assert.equal(stored.metadata.resourceVersion, existing.metadata.resourceVersion);
  assert.equal(stored.metadata.deletionTimestamp, undefined);

  assertStatus(await api.post(`${cms('dry')}?dryRun=Sometimes`, configMap('never')), 400, 'BadRequest');
  assertStatus(await api.get(`${cms('dry')}/never`), 404, 'NotFound');
});

// ---- fieldValidation -----------------------------------------------------------------------------

test('fieldValidation: Strict rejects unknown and duplicate fields; Warn warns; Ignore is silent; bad value → 400', async () => {
  await createNamespace('fields');
  const withUnknown = (name: string) => {
    const body = deployment(name);
    (body.spec as Record<string, unknown>).foo = 'bar';
    return body;
  };
  const strict = await api.post(`${deploys('fields')}?fieldValidation=Strict`, withUnknown('strict'));
  const strictStatus = assertStatus(strict, 400, 'BadRequest');
  assert.ok(strictStatus.message.includes('unknown field "spec.foo"'), strictStatus.message);
  assertStatus(await api.get(`${deploys('fields')}/strict`), 404, 'NotFound');

  const duplicate = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup"},"data":{"a":"1"},"data":{"b":"2"}}';
  const dup = await api.post(`${cms('fields')}?fieldValidation=Strict`, duplicate);
  const dupStatus = assertStatus(dup, 400, 'BadRequest');
  assert.ok(dupStatus.message.includes('duplicate field "data"'), dupStatus.message);

  const warn = await api.post(`${deploys('fields')}?fieldValidation=Warn`, withUnknown('warn'));
  assertOk(warn, 201);
  assert.equal(warn.headers.warning, '299 - "unknown field \\"spec.foo\\""');
  assert.equal(warn.body.spec.foo, undefined, 'unknown fields are dropped');

  // Without the parameter kube-apiserver validates as Warn.
  const unset = await api.post(deploys('fields'), withUnknown('unset'));
  assertOk(unset, 201);
  assert.equal(unset.headers.warning, '299 - "unknown field \\"spec.foo\\""');

  const ignore = await api.post(`${deploys('fields')}?fieldValidation=Ignore`, withUnknown('ignore'));
  assertOk(ignore, 201);
  assert.equal(ignore.headers.warning, undefined);
  assert.equal(ignore.body.spec.foo, undefined);

  assertStatus(await api.post(`${deploys('fields')}?fieldValidation=Loose`, deployment('loose')), 400, 'BadRequest');
});

// ---- validation ----------------------------------------------------------------------------------

test('validation: bad name → 422 on metadata.name', async () => {
  await createNamespace('invalid');
  const res = await api.post(cms('invalid'), configMap('Bad_Name'));
  const status = assertStatus(res, 422, 'Invalid');
  assert.deepEqual(causeFields(status), ['metadata.name']);
  assert.match(
    status.message,
    /^ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
  );
  assert.equal(status.details?.name, 'Bad_Name');
  assert.equal(status.details?.kind, 'ConfigMap');
});

test('validation: missing required fields → 422 naming them', async () => {
  const noSelector = deployment('no-selector');
  delete (noSelector.spec as { selector?: unknown }).selector;
  const a = assertStatus(await api.post(deploys('invalid'), noSelector), 422, 'Invalid');
  assert.ok(causeFields(a).includes('spec.selector'), `causes: ${JSON.stringify(a.details?.causes)}`);

  const noContainers = deployment('no-containers', 1, []);
  const b = assertStatus(await api.post(deploys('invalid'), noContainers), 422, 'Invalid');
  assert.ok(causeFields(b).includes('spec.template.spec.containers'), `causes: ${JSON.stringify(b.details?.causes)}`);
  assert.match(b.message, /^Deployment\.apps "no-containers" is invalid: /);
});

test('validation: a wrongly typed field in a built-in kind is 422 Invalid naming spec.replicas', async () => {
  const body = { ...deployment('typed'), spec: { ...deployment('typed').spec, replicas: 'three' } };
  const res = await api.post(deploys('invalid'), body);
  // A deliberate difference from kube, which fails Go decoding with a 400 whose message names the
  // field: Canopy validates types against the schema and answers 422 with a field cause, the same
  // shape as every other validation error (and as kube does for custom resources).
  const status = assertStatus(res, 422, 'Invalid');
  assert.ok(
    status.details!.causes!.some((c: { field?: string }) => c.field === 'spec.replicas'),
    JSON.stringify(status.details!.causes),
  );
  assert.ok(status.message.includes('spec.replicas'), status.message);
});

// ---- list ----------------------------------------------------------------------------------------

test('list: limit + continue pages through a consistent snapshot', async () => {
  await createNamespace('paging');
  for (const name of ['p-0', 'p-1', 'p-2', 'p-3', 'p-4']) assertOk(await api.post(cms('paging'), configMap(name)), 201);
  const first = await api.get(`${cms('paging')}?limit=2`);
  assertOk(first);
  assert.deepEqual(
    first.body.items.map((i: { metadata: { name: string } }) => i.metadata.name),
    // Every namespace holds the root CA publisher's ConfigMap, as in kube.
    ['kube-root-ca.crt', 'p-0'],
  );
  assert.ok(first.body.metadata.continue, 'a continue token');
  const snapshot = first.body.metadata.resourceVersion;

  // Written after the first page: not part of this list.
  assertOk(await api.post(cms('paging'), configMap('p-9')), 201);
  assertOk(await api.patch(`${cms('paging')}/p-3`, { data: { key: 'changed' } }));

  const names: string[] = first.body.items.map((i: { metadata: { name: string } }) => i.metadata.name);
  let token = first.body.metadata.continue;
  let pages = 1;
  while (token) {
    const page = await api.get(`${cms('paging')}?limit=2&continue=${encodeURIComponent(token)}`);
    assertOk(page);
    assert.equal(page.body.metadata.resourceVersion, snapshot, 'every page is read at the first page’s revision');
    for (const item of page.body.items) {
      names.push(item.metadata.name);
      if (item.metadata.name === 'p-3') assert.equal(item.data.key, 'value', 'later pages show the snapshot state');
    }
    token = page.body.metadata.continue;
    assert.ok(++pages < 10);
  }
  assert.deepEqual(names, ['kube-root-ca.crt', 'p-0', 'p-1', 'p-2', 'p-3', 'p-4']);
  assert.equal(pages, 3);

  const fresh = await api.get(cms('paging'));
  assert.deepEqual(
    fresh.body.items.map((i: { metadata: { name: string } }) => i.metadata.name),
    ['kube-root-ca.crt', 'p-0', 'p-1', 'p-2', 'p-3', 'p-4', 'p-9'],
  );
  assert.equal(fresh.body.metadata.continue, undefined);

  // kube's etcd3 store counts what is left when no selector filters the list.
  assert.equal(first.body.metadata.remainingItemCount, 4, 'remainingItemCount of an unfiltered paged list');
});

test('list: a list over 1 MB is streamed in chunks, objects and text-kept Events alike, and parses whole', async () => {
  await createNamespace('big-list');
  const filler = 'x'.repeat(20_000);
  const names = Array.from({ length: 60 }, (_, i) => `big-${String(i).padStart(2, '0')}`);
  for (const name of names) {
    assertOk(await api.post(cms('big-list'), { ...configMap(name), data: { filler, name } }), 201);
    assertOk(
      await api.post(`${ns('big-list')}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, annotations: { filler } },
        involvedObject: { kind: 'ConfigMap', namespace: 'big-list', name },
        reason: 'Filled',
        message: name,
        type: 'Normal',
      }),
      201,
    );
  }
  for (const [path, pick] of [
    [cms('big-list'), (i: any) => i.data?.name],
    [`${ns('big-list')}/events`, (i: any) => i.message],
  ] as const) {
    const res = await api.get(path);
    assertOk(res);
    assert.ok(JSON.stringify(res.body).length > 1 << 20, 'over the streaming threshold');
    assert.equal(res.body.kind, path.endsWith('events') ? 'EventList' : 'ConfigMapList');
    const items = res.body.items.filter((i: any) => i.metadata.name.startsWith('big-'));
    assert.deepEqual(items.map(pick), names);
    assert.ok(items.every((i: any) => i.metadata.resourceVersion && i.metadata.uid));
  }
});

test('list: resourceVersionMatch=Exact returns the state at that revision', async () => {
  const created = (await api.post(cms('paging'), configMap('history'))).body;
  assertOk(await api.patch(`${cms('paging')}/history`, { data: { key: 'new' } }));
  const old = await api.get(`${cms('paging')}?resourceVersion=${created.metadata.resourceVersion}&resourceVersionMatch=Exact`);
  assertOk(old);
  assert.equal(old.body.metadata.resourceVersion, created.metadata.resourceVersion);
  const item = old.body.items.find((i: { metadata: { name: string } }) => i.metadata.name === 'history');
  assert.equal(item?.data.key, 'value');
  const latest = await api.get(cms('paging'));
  assert.equal(latest.body.items.find((i: { metadata: { name: string } }) => i.metadata.name === 'history')?.data.key, 'new');
});

test('list: label selectors with in, notin, !key; invalid selector → 400', async () => {
  await createNamespace('labels');
  const objects: Array<[string, Record<string, string>]> = [
    ['a', { tier: 'web', env: 'prod' }],
    ['b', { tier: 'db', env: 'prod' }],
    ['c', { tier: 'cache' }],
    ['d', {}],
  ];
  for (const [name, labels] of objects) assertOk(await api.post(cms('labels'), configMap(name, { labels })), 201);
  const select = async (selector: string) => {
    const res = await api.get(`${cms('labels')}?labelSelector=${encodeURIComponent(selector)}`);
    assertOk(res);
    return res.body.items.map((i: { metadata: { name: string } }) => i.metadata.name).filter((n: string) => n.length === 1);
  };
  assert.deepEqual(await select('tier in (web,db)'), ['a', 'b']);
  assert.deepEqual(await select('tier notin (web)'), ['b', 'c', 'd']);
  assert.deepEqual(await select('!env'), ['c', 'd']);
  assert.deepEqual(await select('tier,env=prod,tier!=db'), ['a']);
  assert.deepEqual(await select('env'), ['a', 'b']);

  const bad = await api.get(`${cms('labels')}?labelSelector=${encodeURIComponent('tier in (web')}`);
  assertStatus(bad, 400, 'BadRequest');
});

test('list: an unsupported field selector → 400 field label not supported', async () => {
  const pods = await api.get(`${ns('labels')}/pods?fieldSelector=${encodeURIComponent('spec.foo=bar')}`);
  const status = assertStatus(pods, 400, 'BadRequest');
  assert.ok(status.message.includes('field label not supported: spec.foo'), status.message);
  // Supported everywhere: metadata.name; pods also spec.nodeName and status.phase.
  assertOk(await api.get(`${ns('labels')}/pods?fieldSelector=${encodeURIComponent('spec.nodeName=n1,status.phase!=Running')}`));
  const byName = await api.get(`${cms('labels')}?fieldSelector=${encodeURIComponent('metadata.name=b')}`);
  assertOk(byName);
  assert.deepEqual(
    byName.body.items.map((i: { metadata: { name: string } }) => i.metadata.name),
    ['b'],
  );
  assertStatus(await api.get(`${cms('labels')}?fieldSelector=${encodeURIComponent('data.key=x')}`), 400, 'BadRequest');
});

test('list: Table representation has column definitions and PartialObjectMetadata rows', async () => {
  const res = await api.get(cms('labels'), TABLE_ACCEPT);
  assertOk(res);
  assert.equal(res.body.kind, 'Table');
  assert.equal(res.body.apiVersion, 'meta.k8s.io/v1');
  assert.match(res.body.metadata.resourceVersion, /^[0-9]+$/);
  const columns = res.body.columnDefinitions.map((c: { name: string }) => c.name);
  assert.deepEqual(columns, ['Name', 'Data', 'Age']);
  for (const c of res.body.columnDefinitions)
    assert.ok(typeof c.type === 'string' && typeof c.description === 'string' && typeof c.priority === 'number');
  assert.ok(res.body.rows.length >= 4);
  const row = res.body.rows.find((r: { cells: unknown[] }) => r.cells[0] === 'a');
  assert.ok(row, 'a row for ConfigMap a');
  assert.equal(row.cells[1], 1, 'DATA counts keys');
  assert.equal(row.object.kind, 'PartialObjectMetadata');
  assert.equal(row.object.apiVersion, 'meta.k8s.io/v1');
  assert.equal(row.object.metadata.name, 'a');
  assert.deepEqual(row.object.metadata.labels, { tier: 'web', env: 'prod' });
  assert.equal(
    res.headers['content-type'],
    'application/json;as=Table;v=v1;g=meta.k8s.io',
    'the media type kube-apiserver writes',
  );
});

// ---- watch ---------------------------------------------------------------------------------------

test('watch: from a resourceVersion delivers ADDED, MODIFIED, DELETED in order', async () => {
  await createNamespace('watching');
  const rv = await listVersion(cms('watching'));
  const watch = await api.watch(`${cms('watching')}?watch=true&resourceVersion=${rv}`);
  try {
    assert.equal(watch.status, 200);
    assert.match(String(watch.headers['content-type']), /^application\/json/);
    const created = (await api.post(cms('watching'), configMap('w1'))).body;
    const modified = (await api.patch(`${cms('watching')}/w1`, { data: { key: 'v2' } })).body;
    assertOk(await api.del(`${cms('watching')}/w1`));
    const events = [await watch.next(), await watch.next(), await watch.next()];
    assert.deepEqual(
      events.map((e) => [e?.type, e?.object.metadata.name]),
      [
        ['ADDED', 'w1'],
        ['MODIFIED', 'w1'],
        ['DELETED', 'w1'],
      ],
    );
    assert.equal(events[0]!.object.metadata.resourceVersion, created.metadata.resourceVersion);
    assert.equal(events[1]!.object.metadata.resourceVersion, modified.metadata.resourceVersion);
    assert.equal(events[1]!.object.data.key, 'v2');
    assert.ok(
      Number(events[2]!.object.metadata.resourceVersion) > Number(modified.metadata.resourceVersion),
      'DELETED carries the deletion revision',
    );
    assert.equal(events[2]!.object.kind, 'ConfigMap');
  } finally {
    watch.close();
  }
});

test('watch: with a label selector, leaving the selection is DELETED and entering it is ADDED', async () => {
  const rv = await listVersion(cms('watching'));
  const watch = await api.watch(
    `${cms('watching')}?watch=true&resourceVersion=${rv}&labelSelector=${encodeURIComponent('app=x')}`,
  );
  try {
    assertOk(await api.post(cms('watching'), configMap('leaves', { labels: { app: 'x' } })), 201);
    assertOk(await api.post(cms('watching'), configMap('enters', { labels: { app: 'y' } })), 201);
    const left = await api.patch(`${cms('watching')}/leaves`, { metadata: { labels: { app: 'y' } } });
    const entered = await api.patch(`${cms('watching')}/enters`, { metadata: { labels: { app: 'x' } } });
    const events = [await watch.next(), await watch.next(), await watch.next()];
    assert.deepEqual(
      events.map((e) => [e?.type, e?.object.metadata.name]),
      [
        ['ADDED', 'leaves'],
        ['DELETED', 'leaves'],
        ['ADDED', 'enters'],
      ],
    );
    assert.equal(events[1]!.object.metadata.resourceVersion, left.body.metadata.resourceVersion);
    assert.equal(events[2]!.object.metadata.resourceVersion, entered.body.metadata.resourceVersion);
    assert.deepEqual(events[2]!.object.metadata.labels, { app: 'x' });
    assert.equal(await watch.next(300), undefined, 'no event for the object that never matched');
    // kube's cacheWatcher sends the previous state (the one that matched) with the event's revision.
    assert.deepEqual(events[1]!.object.metadata.labels, { app: 'x' }, 'DELETED carries the last matching state');
  } finally {
    watch.close();
  }
});

test('watch: allowWatchBookmarks delivers a BOOKMARK before the watch times out', async () => {
  // kube's cacher sends a bookmark every minute, and at the latest 2 s before the watch's deadline
  // (cacheWatcher.nextBookmarkTime), so a 4 s watch sees one after about 2 s.
  const rv = await listVersion(cms('watching'));
  const started = Date.now();
  const watch = await api.watch(`${cms('watching')}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=4`);
  try {
    const bookmark = await watch.next(6000);
    assert.equal(
      bookmark?.type,
      'BOOKMARK',
      `expected a BOOKMARK within the 4 s watch, got ${JSON.stringify(bookmark)} after ${Date.now() - started} ms`,
    );
    assert.equal(bookmark.object.kind, 'ConfigMap');
    assert.equal(bookmark.object.apiVersion, 'v1');
    assert.ok(Number(bookmark.object.metadata.resourceVersion) >= Number(rv));
    await watch.ended;
    assert.ok(Date.now() - started < 6000, 'timeoutSeconds ends the watch');
  } finally {
    watch.close();
  }
});

test('watch-list: initial ADDED events, then the initial-events-end BOOKMARK, then live events', async () => {
  await createNamespace('watchlist');
  for (const name of ['l-1', 'l-2']) assertOk(await api.post(cms('watchlist'), configMap(name)), 201);
  const listed = await listVersion(cms('watchlist'));
  const watch = await api.watch(
    `${cms('watchlist')}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`,
  );
  try {
    assert.equal(watch.status, 200);
    const initial = [await watch.next(), await watch.next(), await watch.next()];
    assert.deepEqual(
      initial.map((e) => e?.type),
      ['ADDED', 'ADDED', 'ADDED'],
    );
    // With the root CA publisher's ConfigMap every namespace holds, as in kube.
    assert.deepEqual(initial.map((e) => e?.object.metadata.name).sort(), ['kube-root-ca.crt', 'l-1', 'l-2']);
    const end = await watch.next();
    assert.equal(end?.type, 'BOOKMARK');
    assert.deepEqual(end.object.metadata.annotations, { 'k8s.io/initial-events-end': 'true' });
    assert.ok(Number(end.object.metadata.resourceVersion) >= Number(listed));
    const live = (await api.post(cms('watchlist'), configMap('l-3'))).body;
    const next = await watch.next();
    assert.equal(next?.type, 'ADDED');
    assert.equal(next?.object.metadata.name, 'l-3');
    assert.equal(next?.object.metadata.resourceVersion, live.metadata.resourceVersion);
  } finally {
    watch.close();
  }
});

test('watch-list: sendInitialEvents without allowWatchBookmarks is served (kube validates no bookmark requirement)', async () => {
  // k8s.io/apimachinery ValidateListOptions: "watch-sendInitialEvents-no-allowWatchBookmark" is valid
  // ("validating allowWatchBookmarks would break backward compatibility"); the end bookmark is just not sent.
  const watch = await api.watch(`${cms('watchlist')}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan`);
  try {
    assert.equal(watch.status, 200, 'kube serves this watch');
    // l-1, l-2, l-3 and the root CA publisher's kube-root-ca.crt.
    const initial = [await watch.next(), await watch.next(), await watch.next(), await watch.next()];
    assert.deepEqual(
      initial.map((e) => e?.type),
      ['ADDED', 'ADDED', 'ADDED', 'ADDED'],
    );
    assertOk(await api.post(cms('watchlist'), configMap('l-4')), 201);
    const next = await watch.next();
    assert.deepEqual([next?.type, next?.object.metadata.name], ['ADDED', 'l-4']);
  } finally {
    watch.close();
  }
});

test('watch-list: sendInitialEvents without resourceVersionMatch=NotOlderThan → 422 on resourceVersionMatch', async () => {
  const res = await api.get(`${cms('watchlist')}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true`);
  const status = assertStatus(res, 422, 'Invalid');
  assert.deepEqual(causeFields(status), ['resourceVersionMatch']);
  assert.match(
    status.message,
    /resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan/,
  );
});

test('watch: Table watch events are one-row Tables, column definitions only in the first', async () => {
  const rv = await listVersion(cms('watching'));
  const watch = await api.watch(`${cms('watching')}?watch=true&resourceVersion=${rv}`, TABLE_ACCEPT);
  try {
    assertOk(await api.post(cms('watching'), configMap('t-1')), 201);
    assertOk(await api.post(cms('watching'), configMap('t-2')), 201);
    const first = await watch.next();
    const second = await watch.next();
    for (const event of [first, second]) {
      assert.equal(event?.type, 'ADDED');
      assert.equal(event.object.kind, 'Table');
      assert.equal(event.object.apiVersion, 'meta.k8s.io/v1');
      assert.equal(event.object.rows.length, 1);
      assert.equal(event.object.rows[0].object.kind, 'PartialObjectMetadata');
    }
    assert.equal(first!.object.rows[0].cells[0], 't-1');
    assert.equal(second!.object.rows[0].cells[0], 't-2');
    assert.deepEqual(
      first!.object.columnDefinitions.map((c: { name: string }) => c.name),
      ['Name', 'Data', 'Age'],
    );
    assert.ok(!second!.object.columnDefinitions?.length, 'headers are sent once per watch');
  } finally {
    watch.close();
  }
});

// ---- delete --------------------------------------------------------------------------------------

test('delete: a pod bound to a node is deleted gracefully; gracePeriodSeconds=0 removes it', async () => {
  await createNamespace('deleting');
  const pod = await api.post(`${ns('deleting')}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'bound' },
    spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'nginx:1.25' }] },
  });
  assertOk(pod, 201);
  const graceful = await api.del(`${ns('deleting')}/pods/bound`);
  assertMarkedForDeletion(graceful);
  assert.equal(graceful.body.kind, 'Pod');
  assert.equal(graceful.body.metadata.deletionGracePeriodSeconds, 30);
  const stillThere = await api.get(`${ns('deleting')}/pods/bound`);
  assertOk(stillThere);
  assert.equal(stillThere.body.metadata.deletionTimestamp, graceful.body.metadata.deletionTimestamp);

  const forced = await api.del(`${ns('deleting')}/pods/bound?gracePeriodSeconds=0`);
  assertOk(forced);
  assertStatus(await api.get(`${ns('deleting')}/pods/bound`), 404, 'NotFound');
});

test('delete: a custom finalizer holds the object until an update removes it', async () => {
  const created = (await api.post(cms('deleting'), configMap('final', { finalizers: ['example.com/cleanup'] }))).body;
  const watch = await api.watch(`${cms('deleting')}?watch=true&resourceVersion=${created.metadata.resourceVersion}`);
  try {
    const marked = await api.del(`${cms('deleting')}/final`);
    assertMarkedForDeletion(marked);
    assert.deepEqual(marked.body.metadata.finalizers, ['example.com/cleanup']);
    const held = await api.get(`${cms('deleting')}/final`);
    assertOk(held);
    const modified = await watch.next();
    assert.equal(modified?.type, 'MODIFIED');
    assert.ok(modified.object.metadata.deletionTimestamp);

    const released = await api.put(`${cms('deleting')}/final`, {
      ...held.body,
      metadata: { ...held.body.metadata, finalizers: [] },
    });
    assertOk(released);
    assertStatus(await api.get(`${cms('deleting')}/final`), 404, 'NotFound');
    const { event } = await nextMatching(watch, (e) => e.type === 'DELETED');
    assert.equal(event.object.metadata.name, 'final');
  } finally {
    watch.close();
  }
});

test('delete: Foreground waits for blocking dependents, which go first', async () => {
  const owner = (await api.post(cms('deleting'), configMap('fg-owner'))).body;
  const ownerRef = { apiVersion: 'v1', kind: 'ConfigMap', name: 'fg-owner', uid: owner.metadata.uid, blockOwnerDeletion: true };
  const dependent = (await api.post(cms('deleting'), configMap('fg-dep', { ownerReferences: [ownerRef] }))).body;
  const watch = await api.watch(`${cms('deleting')}?watch=true&resourceVersion=${dependent.metadata.resourceVersion}`);
  try {
    const res = await api.del(`${cms('deleting')}/fg-owner`, {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      propagationPolicy: 'Foreground',
    });
    assertMarkedForDeletion(res);
    assert.ok(
      res.body.metadata.finalizers?.includes('foregroundDeletion'),
      `finalizers: ${JSON.stringify(res.body.metadata.finalizers)}`,
    );
    assert.ok(res.body.metadata.deletionTimestamp);
    const deletions: string[] = [];
    while (deletions.length < 2) {
      const { event } = await nextMatching(watch, (e) => e.type === 'DELETED');
      deletions.push(event.object.metadata.name);
    }
    assert.deepEqual(deletions, ['fg-dep', 'fg-owner']);
    assertStatus(await api.get(`${cms('deleting')}/fg-owner`), 404, 'NotFound');
    assertStatus(await api.get(`${cms('deleting')}/fg-dep`), 404, 'NotFound');
  } finally {
    watch.close();
  }
});

test('delete: Orphan leaves dependents without the ownerReference', async () => {
  const owner = (await api.post(cms('deleting'), configMap('or-owner'))).body;
  const other = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    name: 'or-other',
    uid: (await api.post(cms('deleting'), configMap('or-other'))).body.metadata.uid,
  };
  const ownerRef = { apiVersion: 'v1', kind: 'ConfigMap', name: 'or-owner', uid: owner.metadata.uid, blockOwnerDeletion: true };
  assertOk(await api.post(cms('deleting'), configMap('or-dep', { ownerReferences: [ownerRef, other] })), 201);
  const res = await api.del(`${cms('deleting')}/or-owner?propagationPolicy=Orphan`);
  assertMarkedForDeletion(res);
  assert.ok(res.body.metadata.finalizers?.includes('orphan'), `finalizers: ${JSON.stringify(res.body.metadata.finalizers)}`);
  await eventually('the orphaned owner to be gone', async () => (await api.get(`${cms('deleting')}/or-owner`)).status === 404);
  const dep = await api.get(`${cms('deleting')}/or-dep`);
  assertOk(dep);
  assert.deepEqual(
    dep.body.metadata.ownerReferences.map((r: { name: string }) => r.name),
    ['or-other'],
  );
});

test('delete: a namespace turns Terminating, its contents are deleted, then it goes', async () => {
  await createNamespace('doomed');
  assertOk(await api.post(cms('doomed'), configMap('one')), 201);
  assertOk(await api.post(deploys('doomed'), deployment('app')), 201);
  const res = await api.del(ns('doomed'));
  assertMarkedForDeletion(res);
  assert.equal(res.body.kind, 'Namespace');
  assert.equal(res.body.status.phase, 'Terminating');
  assert.ok(res.body.metadata.deletionTimestamp);
  await eventually('namespace "doomed" to be gone', async () => (await api.get(ns('doomed'))).status === 404);
  const leftovers = await api.get(cms('doomed'));
  assertOk(leftovers);
  assert.deepEqual(leftovers.body.items, []);
  assert.deepEqual((await api.get(deploys('doomed'))).body.items, []);
});

test('delete: an unfinished deletion answers 200 with the object; 202 only when orphanDependents=false', async () => {
  // k8s.io/apiserver handlers/delete.go: status 200, or 202 when !wasDeleted && orphanDependents == false.
  const pod = { apiVersion: 'v1', kind: 'Pod', spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'nginx:1.25' }] } };
  assertOk(await api.post(`${ns('deleting')}/pods`, { ...pod, metadata: { name: 'graceful-200' } }), 201);
  const graceful = await api.del(`${ns('deleting')}/pods/graceful-200`);
  assert.equal(graceful.status, 200, 'graceful pod deletion');
  assertOk(await api.post(cms('deleting'), configMap('finalized-200', { finalizers: ['example.com/hold'] })), 201);
  const finalized = await api.del(`${cms('deleting')}/finalized-200`);
  assert.equal(finalized.status, 200, 'deletion held by a finalizer');
  assertOk(await api.post(cms('deleting'), configMap('cascade-202', { finalizers: ['example.com/hold'] })), 201);
  const cascading = await api.del(`${cms('deleting')}/cascade-202`, {
    kind: 'DeleteOptions',
    apiVersion: 'v1',
    orphanDependents: false,
  });
  assert.equal(cascading.status, 202, 'orphanDependents=false and not deleted yet');

  for (const name of ['finalized-200', 'cascade-202']) {
    const held = (await api.get(`${cms('deleting')}/${name}`)).body;
    assertOk(await api.put(`${cms('deleting')}/${name}`, { ...held, metadata: { ...held.metadata, finalizers: [] } }));
  }
  assertOk(await api.del(`${ns('deleting')}/pods/graceful-200?gracePeriodSeconds=0`));
});

test('delete: a uid precondition that does not match → 409', async () => {
  assertOk(await api.post(cms('deleting'), configMap('guarded')), 201);
  const res = await api.del(`${cms('deleting')}/guarded`, {
    kind: 'DeleteOptions',
    apiVersion: 'v1',
    preconditions: { uid: 'not-the-uid' },
  });
  const status = assertStatus(res, 409, 'Conflict');
  assert.match(
    status.message,
    /^Operation cannot be fulfilled on configmaps "guarded": Precondition failed: UID in precondition: not-the-uid, UID in object meta: /,
  );
  assertOk(await api.get(`${cms('deleting')}/guarded`));
});

test('delete: deletecollection with a label selector deletes only matching objects', async () => {
  await createNamespace('sweep');
  assertOk(await api.post(cms('sweep'), configMap('s-1', { labels: { sweep: 'yes' } })), 201);
  assertOk(await api.post(cms('sweep'), configMap('s-2', { labels: { sweep: 'yes' } })), 201);
  assertOk(await api.post(cms('sweep'), configMap('s-3', { labels: { sweep: 'no' } })), 201);
  const res = await api.del(`${cms('sweep')}?labelSelector=${encodeURIComponent('sweep=yes')}`);
  assertOk(res);
  const left = await api.get(cms('sweep'));
  assert.deepEqual(
    left.body.items.map((i: { metadata: { name: string } }) => i.metadata.name),
    ['kube-root-ca.crt', 's-3'],
  );
});

// ---- scale ---------------------------------------------------------------------------------------

test('scale: GET is an autoscaling/v1 Scale; PATCH and PUT set spec.replicas; negative → 422', async () => {
  await createNamespace('scaling');
  assertOk(await api.post(deploys('scaling'), deployment('scaled', 2)), 201);
  const scalePath = `${deploys('scaling')}/scaled/scale`;
  const scale = await api.get(scalePath);
  assertOk(scale);
  assert.equal(scale.body.kind, 'Scale');
  assert.equal(scale.body.apiVersion, 'autoscaling/v1');
  assert.equal(scale.body.metadata.name, 'scaled');
  assert.equal(scale.body.metadata.namespace, 'scaling');
  assert.equal(scale.body.spec.replicas, 2);
  assert.equal(scale.body.status.selector, 'app=scaled');
  assert.equal(scale.body.status.replicas, 0);

  const patched = await api.patch(scalePath, { spec: { replicas: 3 } });
  assertOk(patched);
  assert.equal(patched.body.kind, 'Scale');
  assert.equal(patched.body.spec.replicas, 3);
  assert.equal((await api.get(`${deploys('scaling')}/scaled`)).body.spec.replicas, 3);

  const put = await api.put(scalePath, { ...patched.body, spec: { replicas: 4 } });
  assertOk(put);
  assert.equal(put.body.spec.replicas, 4);
  const dep = (await api.get(`${deploys('scaling')}/scaled`)).body;
  assert.equal(dep.spec.replicas, 4);
  assert.equal(dep.metadata.generation, 3);

  const stale = await api.put(scalePath, { ...patched.body, spec: { replicas: 5 } });
  assertStatus(stale, 409, 'Conflict');

  const negative = await api.patch(scalePath, { spec: { replicas: -1 } });
  const status = assertStatus(negative, 422, 'Invalid');
  assert.deepEqual(causeFields(status), ['spec.replicas']);
  assert.equal((await api.get(`${deploys('scaling')}/scaled`)).body.spec.replicas, 4);
});

// ---- discovery -----------------------------------------------------------------------------------

test('discovery: aggregated v2 and v2beta1 by Accept, legacy otherwise, resource lists with subresources', async () => {
  const v2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
  const v2beta1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';
  const contentTypes: Array<[string, string | undefined, string]> = [];
  for (const path of ['/api', '/apis']) {
    const modern = await api.get(path, `${v2},${v2beta1},application/json`);
    assertOk(modern);
    assert.equal(modern.body.kind, 'APIGroupDiscoveryList');
    assert.equal(modern.body.apiVersion, 'apidiscovery.k8s.io/v2');
    assert.match(String(modern.headers['content-type']), /v="?v2"?;/);
    contentTypes.push([path, modern.headers['content-type'], v2]);

    const older = await api.get(path, `${v2beta1},application/json`);
    assertOk(older);
    assert.equal(older.body.apiVersion, 'apidiscovery.k8s.io/v2beta1', 'v2 only to clients that list v2');
    assert.match(String(older.headers['content-type']), /v="?v2beta1"?;/);
    contentTypes.push([path, older.headers['content-type'], v2beta1]);
  }
  const apis = (await api.get('/apis', v2)).body;
  const apps = apis.items.find((g: { metadata: { name: string } }) => g.metadata.name === 'apps');
  const deployments = apps.versions[0].resources.find((r: { resource: string }) => r.resource === 'deployments');
  assert.deepEqual(deployments.subresources.map((s: { subresource: string }) => s.subresource).sort(), ['scale', 'status']);

  const legacyApi = await api.get('/api');
  assertOk(legacyApi);
  assert.match(String(legacyApi.headers['content-type']), /^application\/json/);
  assert.equal(legacyApi.body.kind, 'APIVersions');
  assert.deepEqual(legacyApi.body.versions, ['v1']);
  const legacyApis = await api.get('/apis');
  assert.equal(legacyApis.body.kind, 'APIGroupList');
  assert.ok(legacyApis.body.groups.some((g: { name: string }) => g.name === 'apps'));

  const appsV1 = await api.get('/apis/apps/v1');
  assertOk(appsV1);
  assert.equal(appsV1.body.kind, 'APIResourceList');
  assert.equal(appsV1.body.groupVersion, 'apps/v1');
  const names = appsV1.body.resources.map((r: { name: string }) => r.name);
  for (const name of ['deployments', 'deployments/scale', 'deployments/status'])
    assert.ok(names.includes(name), `${name} in ${names}`);
  const scaleEntry = appsV1.body.resources.find((r: { name: string }) => r.name === 'deployments/scale');
  assert.deepEqual([scaleEntry.group, scaleEntry.version, scaleEntry.kind], ['autoscaling', 'v1', 'Scale']);

  // Answered with exactly the media type of the version served, as kube-apiserver writes it.
  for (const [path, actual, expected] of contentTypes) assert.equal(actual, expected, `Content-Type of ${path}`);
});

// ---- errors --------------------------------------------------------------------------------------

test('errors: unknown paths and groups → 404 Status', async () => {
  for (const path of [
    '/api/v1/foos',
    '/api/v1/namespaces/default/foos',
    '/apis/nope.example.com',
    '/apis/nope.example.com/v1',
    '/apis/nope.example.com/v1/things',
    '/apis/apps/v9/deployments',
    '/nonsense',
  ]) {
    assertStatus(await api.get(path), 404, 'NotFound');
  }
  assertStatus(await api.get(`${cms('default')}/does-not-exist`), 404, 'NotFound');
});

test('errors: a body over 3 MiB → 413 Status', async () => {
  const big = configMap('big', {}, { blob: 'x'.repeat(3 * 1024 * 1024 + 1024) });
  const res = await api.call('POST', cms('default'), { body: big }, false);
  assertStatus(res, 413, 'RequestEntityTooLarge');
  assertStatus(await api.get(`${cms('default')}/big`), 404, 'NotFound');
});

test('errors: every error answer is a Status whose code is the HTTP status', async () => {
  const cases: Array<[string, Promise<Response>, number]> = [
    ['bad JSON', api.post(cms('default'), '{not json'), 400],
    ['unsupported content type', api.post(cms('default'), 'a=b', 'application/x-www-form-urlencoded'), 415],
    ['not acceptable', api.get(cms('default'), 'application/xml'), 406],
    ['method not allowed on collection', api.put(cms('default'), configMap('x')), 405],
    ['bad limit', api.get(`${cms('default')}?limit=abc`), 400],
    ['invalid resourceVersionMatch', api.get(`${cms('default')}?resourceVersion=1&resourceVersionMatch=Sometimes`), 422],
  ];
  const wrong: string[] = [];
  for (const [what, pending, code] of cases) {
    const res = await pending;
    try {
      assertStatus(res, code);
    } catch (err) {
      wrong.push(`${what}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('errors: no client certificate → 401, but /readyz and /livez answer without credentials', async () => {
  const anonymous = clientFor(server, false);
  try {
    assertStatus(await anonymous.get('/api/v1/namespaces'), 401, 'Unauthorized');
    for (const path of ['/readyz', '/livez']) {
      const res = await anonymous.get(path);
      assert.equal(res.status, 200);
      assert.equal(res.text, 'ok');
    }
  } finally {
    anonymous.close();
  }
});

// ---- compaction and restart (their own server: small history window) -----------------------------

test('compaction: a stale continue → 410 Expired; a watch from a compacted revision → ERROR 410 Expired', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-api-semantics-compact-'));
  dirs.push(dir);
  const small = await ApiServer.start({ dataDir: dir, port: 0, historyWindow: 5 });
  const client = clientFor(small);
  try {
    for (const name of ['c-1', 'c-2', 'c-3']) assertOk(await client.post(cms('default'), configMap(name)), 201);
    const first = await client.get(`${cms('default')}?limit=1`);
    assertOk(first);
    const token = first.body.metadata.continue;
    const oldRevision = first.body.metadata.resourceVersion;
    assert.ok(token);
    for (let i = 0; i < 8; i++) assertOk(await client.patch(`${cms('default')}/c-3`, { data: { key: `v${i}` } }));
    small.store.compact(5);
    assert.ok(small.store.compactedRevision() > Number(oldRevision), 'the list revision was compacted');

    const stale = await client.get(`${cms('default')}?limit=1&continue=${encodeURIComponent(token)}`);
    const status = assertStatus(stale, 410, 'Expired');
    assert.match(status.message, /^The provided continue parameter is too old to display a consistent list result/);

    const watch = await client.watch(`${cms('default')}?watch=true&resourceVersion=${oldRevision}`);
    try {
      assert.equal(watch.status, 200);
      const event = await watch.next();
      assert.equal(event?.type, 'ERROR');
      assert.equal(event.object.kind, 'Status');
      assert.equal(event.object.code, 410);
      assert.equal(event.object.reason, 'Expired');
      assert.match(event.object.message, /^too old resource version: /);
    } finally {
      watch.close();
    }
  } finally {
    client.close();
    await small.close();
  }
});

test('restart: objects and resourceVersions survive; new writes get higher resourceVersions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-api-semantics-restart-'));
  dirs.push(dir);
  let first: ApiServer | undefined = await ApiServer.start({ dataDir: dir, port: 0 });
  let client = clientFor(first);
  let second: ApiServer | undefined;
  try {
    assertOk(await client.post(cms('default'), configMap('kept', { labels: { keep: 'yes' } })), 201);
    const dep = (await client.post(deploys('default'), deployment('kept'))).body;
    const cm = (await client.patch(`${cms('default')}/kept`, { data: { key: 'second' } })).body;
    const listRevision = Number((await client.get(cms('default'))).body.metadata.resourceVersion);
    client.close();
    await first.close();
    first = undefined;

    second = await ApiServer.start({ dataDir: dir, port: 0 });
    client = clientFor(second);
    const cmAgain = await client.get(`${cms('default')}/kept`);
    assertOk(cmAgain);
    assert.deepEqual(cmAgain.body, cm);
    const depAgain = await client.get(`${deploys('default')}/kept`);
    assert.deepEqual(depAgain.body, dep);
    const list = await client.get(cms('default'));
    assert.ok(Number(list.body.metadata.resourceVersion) >= listRevision);

    const written = await client.post(cms('default'), configMap('after-restart'));
    assertOk(written, 201);
    assert.ok(Number(written.body.metadata.resourceVersion) > listRevision, 'revisions are never reused');
    const updated = await client.patch(`${cms('default')}/kept`, { data: { key: 'third' } });
    assert.ok(Number(updated.body.metadata.resourceVersion) > Number(written.body.metadata.resourceVersion));
  } finally {
    client.close();
    await first?.close();
    await second?.close();
  }
});

// ---- shared storage ------------------------------------------------------------------------------

test('events: events.k8s.io/v1 and core/v1 Events are the same objects, converted field by field', async () => {
  await createNamespace('events');
  const watch = await api.watch(`/apis/events.k8s.io/v1/namespaces/events/events?watch=true&resourceVersion=${await listVersion('/apis/events.k8s.io/v1/namespaces/events/events')}`);
  const created = await api.post('/apis/events.k8s.io/v1/namespaces/events/events', {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'pulled' },
    eventTime: '2026-11-24T10:00:00.000000Z',
    reportingController: 'kubelet',
    reportingInstance: 'node-1',
    action: 'Pulling',
    reason: 'Pulled',
    type: 'Normal',
    note: 'Successfully pulled image',
    regarding: { kind: 'Pod', namespace: 'events', name: 'web-0', apiVersion: 'v1' },
  });
  assertOk(created, 201);
  assert.equal(created.body.apiVersion, 'events.k8s.io/v1');
  assert.equal(created.body.note, 'Successfully pulled image');

  // The core API sees the same object under its own field names.
  const core = await api.get('/api/v1/namespaces/events/events/pulled');
  assertOk(core);
  assert.equal(core.body.apiVersion, 'v1');
  assert.equal(core.body.message, 'Successfully pulled image');
  assert.equal(core.body.reportingComponent, 'kubelet');
  assert.deepEqual(core.body.involvedObject, { kind: 'Pod', namespace: 'events', name: 'web-0', apiVersion: 'v1' });
  assert.equal(core.body.note, undefined);
  assert.equal(core.body.metadata.resourceVersion, created.body.metadata.resourceVersion);

  // A core write shows through events.k8s.io, also on its watch and field selectors.
  const patched = await api.patch('/api/v1/namespaces/events/events/pulled', { message: 'pulled again' });
  assertOk(patched);
  const { event } = await nextMatching(watch, (e) => e.type === 'MODIFIED');
  assert.equal(event.object.apiVersion, 'events.k8s.io/v1');
  assert.equal(event.object.note, 'pulled again');
  const selected = await api.get('/apis/events.k8s.io/v1/namespaces/events/events?fieldSelector=regarding.name%3Dweb-0');
  assertOk(selected);
  assert.deepEqual(
    selected.body.items.map((e: { metadata: { name: string } }) => e.metadata.name),
    ['pulled'],
  );
  watch.close();
});

// ---- admission -----------------------------------------------------------------------------------

test('admission: mutating plug-ins run before validation, validating plug-ins can refuse, both see the user', async () => {
  await createNamespace('admission');
  const seen: Array<{ operation: string; user: string; hasDefaults: boolean }> = [];
  server.admission.add({
    name: 'TestLabeler',
    admit(a) {
      if (a.namespace !== 'admission' || !a.object) return;
      a.object.metadata.labels = { ...a.object.metadata.labels, admitted: 'yes' };
    },
  });
  server.admission.add({
    name: 'TestGuard',
    validate(a) {
      if (a.namespace !== 'admission') return;
      const spec = (a.object?.spec ?? a.oldObject?.spec) as { strategy?: unknown } | undefined;
      seen.push({ operation: a.operation, user: a.user.name, hasDefaults: !!spec?.strategy });
      if (a.object?.metadata.labels?.forbidden === 'true') throw new StatusError(403, 'Forbidden', 'TestGuard refuses forbidden=true');
    },
  });
  const created = await api.post(deploys('admission'), deployment('adm'));
  assertOk(created, 201);
  assert.equal(created.body.metadata.labels.admitted, 'yes', 'the mutating plug-in changed the stored object');
  const refused = await api.patch(`${deploys('admission')}/adm`, { metadata: { labels: { forbidden: 'true' } } });
  const status = assertStatus(refused, 403, 'Forbidden');
  assert.match(status.message, /TestGuard refuses/);
  const stored = await api.get(`${deploys('admission')}/adm`);
  assert.equal(stored.body.metadata.labels.forbidden, undefined, 'a refused write stores nothing');
  assertOk(await api.call('DELETE', `${deploys('admission')}/adm`));
  assert.deepEqual(
    seen.map((s) => s.operation),
    ['CREATE', 'UPDATE', 'DELETE'],
  );
  assert.ok(seen.every((s) => s.user === 'admin' && s.hasDefaults), JSON.stringify(seen));
});
