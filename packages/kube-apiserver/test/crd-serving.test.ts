/**
 * CustomResourceDefinitions served end to end by a real API server over HTTPS: a CRD is named,
 * established and served; its custom objects are pruned, defaulted and validated against the
 * version's schema, served in every version from one storage, with status and scale
 * subresources, printer columns, discovery, OpenAPI and watch; deleting the CRD deletes its
 * objects; a restart serves stored CRDs before the first request. Expectations are what
 * kube-apiserver (apiextensions-apiserver) answers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiServer } from '../src/apiserver.js';

// ---- HTTP client ---------------------------------------------------------------------------------

interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: any;
}

interface WatchStream {
  next(timeoutMs?: number): Promise<{ type: string; object: any } | undefined>;
  close(): void;
}

class Client {
  private readonly agent: Agent;
  private readonly credentials: { ca: string; cert: string; key: string };

  constructor(
    readonly baseUrl: string,
    server: ApiServer,
  ) {
    this.credentials = { ca: server.pki.ca.cert, cert: server.pki.admin.cert, key: server.pki.admin.key };
    this.agent = new Agent({ keepAlive: true, maxSockets: 8, ...this.credentials });
  }

  call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const url = new URL(path, this.baseUrl);
    const all: Record<string, string> = { ...headers };
    if (payload) {
      all['content-type'] ??= 'application/json';
      all['content-length'] = String(payload.length);
    }
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        { method, hostname: url.hostname, port: url.port, path: url.pathname + url.search, headers: all, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
          });
        },
      );
      req.on('error', reject);
      req.setTimeout(20_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.end(payload);
    });
  }

  get = (path: string, accept?: string) => this.call('GET', path, undefined, accept ? { accept } : {});
  post = (path: string, body: unknown) => this.call('POST', path, body);
  put = (path: string, body: unknown) => this.call('PUT', path, body);
  patch = (path: string, body: unknown, contentType = 'application/merge-patch+json') =>
    this.call('PATCH', path, body, { 'content-type': contentType });
  del = (path: string) => this.call('DELETE', path);

  watch(path: string): Promise<WatchStream> {
    const url = new URL(path, this.baseUrl);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          method: 'GET',
          hostname: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          ...this.credentials,
          agent: false,
        },
        (res) => {
          const queue: Array<{ type: string; object: any }> = [];
          let buffered = '';
          let wake: (() => void) | undefined;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffered += chunk;
            let nl: number;
            while ((nl = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, nl).trim();
              buffered = buffered.slice(nl + 1);
              if (line) queue.push(JSON.parse(line));
            }
            wake?.();
          });
          resolve({
            async next(timeoutMs = 5000) {
              const deadline = Date.now() + timeoutMs;
              while (!queue.length && Date.now() < deadline) {
                await new Promise<void>((r) => {
                  const t = setTimeout(r, Math.max(0, deadline - Date.now()));
                  wake = () => {
                    clearTimeout(t);
                    r();
                  };
                });
              }
              return queue.shift();
            },
            close: () => req.destroy(),
          });
        },
      );
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

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

function assertOk(res: Response, code = 200): void {
  assert.equal(res.status, code, `expected HTTP ${code}, got ${res.status}: ${res.text.slice(0, 800)}`);
}

function assertStatus(res: Response, code: number, reason: string): any {
  assert.equal(res.status, code, `expected HTTP ${code}, got ${res.status}: ${res.text.slice(0, 800)}`);
  assert.equal(res.body?.kind, 'Status');
  assert.equal(res.body.reason, reason, res.body.message);
  return res.body;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function condition(crd: any, type: string): any {
  return (crd?.status?.conditions ?? []).find((c: any) => c.type === type);
}

async function established(api: Client, name: string): Promise<any> {
  return eventually(`${name} established`, async () => {
    const res = await api.get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
    return condition(res.body, 'Established')?.status === 'True' ? res.body : undefined;
  });
}

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

function widgetSchema(): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        required: ['size'],
        properties: {
          size: { type: 'string', enum: ['small', 'large'] },
          replicas: { type: 'integer', minimum: 0, maximum: 10, default: 1 },
          color: { type: 'string', pattern: '^[a-z]+$', default: 'blue' },
          free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        },
      },
      status: {
        type: 'object',
        properties: { replicas: { type: 'integer' }, phase: { type: 'string' }, selector: { type: 'string' } },
      },
    },
  };
}

function widgetCrd(group = 'example.com'): Record<string, unknown> {
  const version = (name: string, storage: boolean) => ({
    name,
    served: true,
    storage,
    schema: { openAPIV3Schema: widgetSchema() },
    subresources: {
      status: {},
      scale: {
        specReplicasPath: '.spec.replicas',
        statusReplicasPath: '.status.replicas',
        labelSelectorPath: '.status.selector',
      },
    },
    additionalPrinterColumns: [
      { name: 'Size', type: 'string', jsonPath: '.spec.size' },
      { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  });
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'], categories: ['gadgets'] },
      versions: [version('v1beta1', false), version('v1', true)],
    },
  };
}

const widgets = (version: string, ns = 'default') => `/apis/example.com/${version}/namespaces/${ns}/widgets`;

// ---- server --------------------------------------------------------------------------------------

const dirs: string[] = [];
let server: ApiServer;
let api: Client;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-crd-serving-'));
  dirs.push(dir);
  server = await ApiServer.start({ dataDir: dir, port: 0 });
  api = new Client(server.url, server);
  assertOk(await api.post(CRDS, widgetCrd()), 201);
  await established(api, 'widgets.example.com');
});

after(async () => {
  api?.close();
  await server?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// ---- the CRD -------------------------------------------------------------------------------------

test('CustomResourceDefinition is a built-in kind: discovery entry, v1 defaults, create status', async () => {
  const list = await api.get('/apis/apiextensions.k8s.io/v1');
  assertOk(list);
  const entry = list.body.resources.find((r: any) => r.name === 'customresourcedefinitions');
  assert.equal(entry.kind, 'CustomResourceDefinition');
  assert.equal(entry.namespaced, false);
  assert.deepEqual(entry.shortNames, ['crd', 'crds']);
  assert.deepEqual(entry.categories, ['api-extensions']);
  assert.ok(list.body.resources.some((r: any) => r.name === 'customresourcedefinitions/status'));

  const crd = await established(api, 'widgets.example.com');
  assert.equal(crd.spec.conversion.strategy, 'None');
  assert.equal(crd.spec.names.listKind, 'WidgetList');
  assert.equal(crd.metadata.generation, 1);
  assert.equal(crd.metadata.finalizers, undefined, 'kube adds the cleanup finalizer only when the CRD is deleted');
  assert.deepEqual(crd.status.storedVersions, ['v1']);
  assert.deepEqual(crd.status.acceptedNames, {
    plural: 'widgets',
    singular: 'widget',
    shortNames: ['wd'],
    kind: 'Widget',
    listKind: 'WidgetList',
    categories: ['gadgets'],
  });
  const names = condition(crd, 'NamesAccepted');
  assert.equal(names.status, 'True');
  assert.equal(names.reason, 'NoConflicts');
  assert.equal(condition(crd, 'Established').reason, 'InitialNamesAccepted');
});

test('an invalid CRD is refused with kube field causes', async () => {
  const bad = widgetCrd();
  (bad.metadata as any).name = 'wrong.example.com';
  (bad.spec as any).versions[0].schema.openAPIV3Schema.properties.spec.properties.size.type = 'text';
  const res = await api.post(CRDS, bad);
  const status = assertStatus(res, 422, 'Invalid');
  const fields = status.details.causes.map((c: any) => c.field);
  assert.ok(fields.includes('metadata.name'), JSON.stringify(status.details.causes));
  assert.ok(
    status.details.causes.some((c: any) => c.field === 'metadata.name' && /spec.names.plural\+"."\+spec.group/.test(c.message)),
    JSON.stringify(status.details.causes),
  );
  assert.ok(
    fields.some((f: string) => f.endsWith('properties[size].type')),
    JSON.stringify(fields),
  );
  // Each problem once, although ObjectMeta is validated by both the kind and the pipeline.
  assert.equal(new Set(status.details.causes.map((c: any) => `${c.field}|${c.message}`)).size, status.details.causes.length);
});

test('names taken by another CRD of the group or by a built-in resource are not accepted', async () => {
  const gadget = widgetCrd();
  (gadget.metadata as any).name = 'gadgets.example.com';
  (gadget.spec as any).names = { plural: 'gadgets', kind: 'Gadget', shortNames: ['wd'] };
  assertOk(await api.post(CRDS, gadget), 201);
  const conflicted = await eventually('gadgets named', async () => {
    const res = await api.get(`${CRDS}/gadgets.example.com`);
    return condition(res.body, 'NamesAccepted') ? res.body : undefined;
  });
  assert.equal(condition(conflicted, 'NamesAccepted').status, 'False');
  assert.equal(condition(conflicted, 'NamesAccepted').reason, 'ShortNamesConflict');
  assert.equal(condition(conflicted, 'NamesAccepted').message, '"wd" is already in use');
  assert.equal(condition(conflicted, 'Established').status, 'False');
  assert.equal((await api.get('/apis/example.com/v1/gadgets')).status, 404);

  const ingress = widgetCrd('networking.k8s.io');
  (ingress.metadata as any) = {
    name: 'ingresses.networking.k8s.io',
    annotations: { 'api-approved.kubernetes.io': 'unapproved, test only' },
  };
  (ingress.spec as any).names = { plural: 'ingresses', kind: 'Ingress' };
  (ingress.spec as any).versions = [{ ...(ingress.spec as any).versions[1], name: 'v1' }];
  assertOk(await api.post(CRDS, ingress), 201);
  const shadow = await eventually('ingresses named', async () => {
    const res = await api.get(`${CRDS}/ingresses.networking.k8s.io`);
    return condition(res.body, 'NamesAccepted') ? res.body : undefined;
  });
  assert.equal(condition(shadow, 'NamesAccepted').status, 'False');
  assert.equal(condition(shadow, 'NamesAccepted').reason, 'NamesConflict');
  // The built-in Ingress is still what is served.
  const builtin = await api.get('/apis/networking.k8s.io/v1');
  assert.equal(builtin.body.resources.find((r: any) => r.name === 'ingresses').shortNames?.[0], 'ing');

  assertOk(await api.del(`${CRDS}/gadgets.example.com`));
  assertOk(await api.del(`${CRDS}/ingresses.networking.k8s.io`));
  await eventually('conflicting CRDs gone', async () => (await api.get(`${CRDS}/gadgets.example.com`)).status === 404);
});

// ---- discovery and OpenAPI -----------------------------------------------------------------------

test('discovery: both versions, v1 preferred, short names, categories and subresources', async () => {
  const group = await api.get('/apis/example.com');
  assertOk(group);
  assert.deepEqual(
    group.body.versions.map((v: any) => v.version),
    ['v1', 'v1beta1'],
  );
  assert.equal(group.body.preferredVersion.version, 'v1');
  for (const version of ['v1', 'v1beta1']) {
    const list = await api.get(`/apis/example.com/${version}`);
    assertOk(list);
    const main = list.body.resources.find((r: any) => r.name === 'widgets');
    assert.equal(main.kind, 'Widget');
    assert.equal(main.singularName, 'widget');
    assert.equal(main.namespaced, true);
    assert.deepEqual(main.shortNames, ['wd']);
    assert.deepEqual(main.categories, ['gadgets']);
    assert.deepEqual([...main.verbs].sort(), ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
    assert.ok(list.body.resources.some((r: any) => r.name === 'widgets/status'));
    const scale = list.body.resources.find((r: any) => r.name === 'widgets/scale');
    assert.equal(scale.kind, 'Scale');
  }
});

test('OpenAPI v2 and v3 publish the version schemas', async () => {
  const v3 = await api.get('/openapi/v3/apis/example.com/v1');
  assertOk(v3);
  const schemas = v3.body.components.schemas;
  const widget = schemas['com.example.v1.Widget'];
  assert.ok(widget, `no com.example.v1.Widget in ${Object.keys(schemas).join(', ')}`);
  assert.deepEqual(widget['x-kubernetes-group-version-kind'], [{ group: 'example.com', version: 'v1', kind: 'Widget' }]);
  assert.deepEqual(widget.properties.spec.properties.size.enum, ['small', 'large']);
  const index = await api.get('/openapi/v3');
  assert.ok(index.body.paths['apis/example.com/v1beta1']);
  const v2 = await api.get('/openapi/v2');
  assertOk(v2);
  assert.ok(v2.body.definitions['com.example.v1beta1.Widget']);
  assert.ok(v2.body.paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/scale']);
});

// ---- custom objects ------------------------------------------------------------------------------

test('create prunes unknown fields, applies schema defaults; every version reads the same object', async () => {
  const res = await api.post(widgets('v1beta1'), {
    apiVersion: 'example.com/v1beta1',
    kind: 'Widget',
    metadata: { name: 'first' },
    spec: { size: 'small', bogus: true, free: { anything: { goes: 1 } } },
  });
  assertOk(res, 201);
  assert.equal(res.body.apiVersion, 'example.com/v1beta1');
  assert.deepEqual(res.body.spec, { size: 'small', free: { anything: { goes: 1 } }, replicas: 1, color: 'blue' });
  assert.equal(res.body.metadata.generation, 1);
  assert.match(String(res.headers.warning), /unknown field \\"spec.bogus\\"/);

  const v1 = await api.get(`${widgets('v1')}/first`);
  assertOk(v1);
  assert.equal(v1.body.apiVersion, 'example.com/v1');
  assert.equal(v1.body.metadata.uid, res.body.metadata.uid);
  assert.deepEqual(v1.body.spec, res.body.spec);
  const list = await api.get(widgets('v1beta1'));
  assert.equal(list.body.kind, 'WidgetList');
  assert.deepEqual(
    list.body.items.filter((i: any) => i.metadata.name === 'first').map((i: any) => i.apiVersion),
    ['example.com/v1beta1'],
  );
});

test('schema validation: types, enum, pattern, minimum/maximum and required fields as 422 causes', async () => {
  const res = await api.post(widgets('v1'), {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'bad' },
    spec: { size: 'huge', replicas: 11, color: 'Red1' },
  });
  const status = assertStatus(res, 422, 'Invalid');
  assert.equal(status.details.kind, 'Widget');
  assert.equal(status.details.group, 'example.com');
  const byField = new Map(status.details.causes.map((c: any) => [c.field, c]));
  assert.equal((byField.get('spec.size') as any)?.reason, 'FieldValueNotSupported');
  assert.match((byField.get('spec.size') as any).message, /supported values: "small", "large"/);
  assert.match((byField.get('spec.replicas') as any)?.message ?? '', /less than or equal to 10/);
  assert.match((byField.get('spec.color') as any)?.message ?? '', /should match '\^\[a-z\]\+\$'/);

  const missing = await api.post(widgets('v1'), {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'bad' },
    spec: {},
  });
  const required = assertStatus(missing, 422, 'Invalid');
  assert.deepEqual(
    required.details.causes.map((c: any) => [c.field, c.reason]),
    [['spec.size', 'FieldValueRequired']],
  );
  const wrongType = await api.post(widgets('v1'), {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'bad' },
    spec: { size: 'small', replicas: 'three' },
  });
  assert.equal(assertStatus(wrongType, 422, 'Invalid').details.causes[0].field, 'spec.replicas');

  const strict = await api.post(`${widgets('v1')}?fieldValidation=Strict`, {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'bad' },
    spec: { size: 'small', bogus: 1 },
  });
  assert.match(assertStatus(strict, 400, 'BadRequest').message, /strict decoding error: unknown field "spec.bogus"/);
  assert.equal((await api.get(`${widgets('v1')}/bad`)).status, 404);
});

test('status subresource: the main resource ignores status, /status ignores spec; generation follows spec', async () => {
  const created = await api.post(widgets('v1'), {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'stat' },
    spec: { size: 'small' },
    status: { phase: 'Ignored' },
  });
  assertOk(created, 201);
  assert.equal(created.body.status, undefined);

  const withStatus = await api.patch(`${widgets('v1')}/stat/status`, {
    status: { phase: 'Ready', replicas: 2 },
    spec: { size: 'large' },
  });
  assertOk(withStatus);
  assert.deepEqual(withStatus.body.status, { phase: 'Ready', replicas: 2 });
  assert.equal(withStatus.body.spec.size, 'small');
  assert.equal(withStatus.body.metadata.generation, 1);

  const specChange = await api.patch(`${widgets('v1')}/stat`, { spec: { size: 'large' }, status: { phase: 'Overwritten' } });
  assertOk(specChange);
  assert.equal(specChange.body.spec.size, 'large');
  assert.equal(specChange.body.status.phase, 'Ready');
  assert.equal(specChange.body.metadata.generation, 2);

  const badStatus = await api.patch(`${widgets('v1')}/stat/status`, { status: { replicas: 'many' } });
  assert.equal(assertStatus(badStatus, 422, 'Invalid').details.causes[0].field, 'status.replicas');
});

test('scale subresource reads and writes the CRD paths', async () => {
  assertOk(
    await api.post(widgets('v1'), {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'scaled' },
      spec: { size: 'small', replicas: 2 },
    }),
    201,
  );
  assertOk(await api.patch(`${widgets('v1')}/scaled/status`, { status: { replicas: 2, selector: 'app=scaled' } }));
  const scale = await api.get(`${widgets('v1beta1')}/scaled/scale`);
  assertOk(scale);
  assert.equal(scale.body.kind, 'Scale');
  assert.equal(scale.body.apiVersion, 'autoscaling/v1');
  assert.deepEqual(scale.body.spec, { replicas: 2 });
  assert.deepEqual(scale.body.status, { replicas: 2, selector: 'app=scaled' });

  const scaled = await api.patch(`${widgets('v1')}/scaled/scale`, { spec: { replicas: 5 } });
  assertOk(scaled);
  assert.equal(scaled.body.spec.replicas, 5);
  const object = await api.get(`${widgets('v1')}/scaled`);
  assert.equal(object.body.spec.replicas, 5);
  assert.equal(object.body.metadata.generation, 2);
  // The schema still applies: 11 is above the maximum.
  const tooMany = await api.patch(`${widgets('v1')}/scaled/scale`, { spec: { replicas: 11 } });
  assert.equal(assertStatus(tooMany, 422, 'Invalid').details.causes[0].field, 'spec.replicas');
});

test('Table from additionalPrinterColumns', async () => {
  assertOk(
    await api.post(widgets('v1'), {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'printed' },
      spec: { size: 'large', replicas: 3 },
    }),
    201,
  );
  const table = await api.get(`${widgets('v1')}/printed`, TABLE_ACCEPT);
  assertOk(table);
  assert.equal(table.body.kind, 'Table');
  assert.deepEqual(
    table.body.columnDefinitions.map((c: any) => [c.name, c.type]),
    [
      ['Name', 'string'],
      ['Size', 'string'],
      ['Replicas', 'integer'],
      ['Age', 'date'],
    ],
  );
  assert.deepEqual(table.body.rows[0].cells.slice(0, 3), ['printed', 'large', 3]);
});

test('strategic merge patch is refused for custom resources', async () => {
  const res = await api.patch(`${widgets('v1')}/first`, { spec: { size: 'large' } }, 'application/strategic-merge-patch+json');
  assertStatus(res, 415, 'UnsupportedMediaType');
});

test('watch in one version sees writes made in another', async () => {
  const list = await api.get(widgets('v1'));
  const watch = await api.watch(`${widgets('v1')}?watch=true&resourceVersion=${list.body.metadata.resourceVersion}`);
  try {
    assertOk(
      await api.post(widgets('v1beta1'), {
        apiVersion: 'example.com/v1beta1',
        kind: 'Widget',
        metadata: { name: 'watched' },
        spec: { size: 'small' },
      }),
      201,
    );
    const event = await watch.next();
    assert.equal(event?.type, 'ADDED');
    assert.equal(event?.object.apiVersion, 'example.com/v1');
    assert.equal(event?.object.metadata.name, 'watched');
  } finally {
    watch.close();
  }
});

test('a new storage version: stored objects read right in every version; storedVersions records both', async () => {
  const name = 'widgets.migrate.example.com';
  assertOk(await api.post(CRDS, widgetCrd('migrate.example.com')), 201);
  await established(api, name);
  const path = (version: string) => `/apis/migrate.example.com/${version}/namespaces/default/widgets`;
  assertOk(
    await api.post(path('v1'), {
      apiVersion: 'migrate.example.com/v1',
      kind: 'Widget',
      metadata: { name: 'old' },
      spec: { size: 'small' },
    }),
    201,
  );
  assert.equal(
    server.store.get('/registry/widgets.migrate.example.com/default/old')?.object.apiVersion,
    'migrate.example.com/v1',
  );

  const crd = (await api.get(`${CRDS}/${name}`)).body;
  crd.spec.versions[0].storage = true;
  crd.spec.versions[1].storage = false;
  const updated = await api.put(`${CRDS}/${name}`, crd);
  assertOk(updated);
  assert.deepEqual(updated.body.status.storedVersions, ['v1', 'v1beta1']);
  assert.equal(updated.body.metadata.generation, 2);
  await eventually('v1beta1 stored as itself', async () =>
    server.crds.definitionsOf(name).some((d) => d.version === 'v1beta1' && d.storageVersion && !d.storage),
  );

  const beta = await api.get(`${path('v1beta1')}/old`);
  assert.equal(beta.body.apiVersion, 'migrate.example.com/v1beta1');
  assert.equal((await api.get(`${path('v1')}/old`)).body.apiVersion, 'migrate.example.com/v1');
  assert.deepEqual(
    (await api.get(path('v1beta1'))).body.items.map((i: any) => i.apiVersion),
    ['migrate.example.com/v1beta1'],
  );
  assertOk(
    await api.post(path('v1'), {
      apiVersion: 'migrate.example.com/v1',
      kind: 'Widget',
      metadata: { name: 'new' },
      spec: { size: 'small' },
    }),
    201,
  );
  assert.equal(
    server.store.get('/registry/widgets.migrate.example.com/default/new')?.object.apiVersion,
    'migrate.example.com/v1beta1',
  );
  assertOk(await api.del(`${CRDS}/${name}`));
});

// ---- deletion and restart ------------------------------------------------------------------------

test('deleting a CRD deletes its objects, then the CRD, then stops serving it', async () => {
  const crd = widgetCrd('delete.example.com');
  assertOk(await api.post(CRDS, crd), 201);
  await established(api, 'widgets.delete.example.com');
  const path = '/apis/delete.example.com/v1/namespaces/default/widgets';
  for (const name of ['a', 'b']) {
    assertOk(
      await api.post(path, { apiVersion: 'delete.example.com/v1', kind: 'Widget', metadata: { name }, spec: { size: 'small' } }),
      201,
    );
  }
  // One object with a finalizer of its own holds the CRD until it is released.
  assertOk(
    await api.post(path, {
      apiVersion: 'delete.example.com/v1',
      kind: 'Widget',
      metadata: { name: 'held', finalizers: ['example.com/hold'] },
      spec: { size: 'small' },
    }),
    201,
  );
  const watch = await api.watch(`${path}?watch=true&resourceVersion=${(await api.get(path)).body.metadata.resourceVersion}`);
  try {
    const deleting = await api.del(`${CRDS}/widgets.delete.example.com`);
    assertOk(deleting);
    assert.deepEqual(deleting.body.metadata.finalizers, ['customresourcecleanup.apiextensions.k8s.io']);

    const held = await eventually('objects deleted', async () => {
      const res = await api.get(`${path}/held`);
      return res.body?.metadata?.deletionTimestamp && (await api.get(`${path}/a`)).status === 404 ? res.body : undefined;
    });
    const terminating = (await api.get(`${CRDS}/widgets.delete.example.com`)).body;
    assert.equal(condition(terminating, 'Terminating')?.status, 'True');
    assert.equal(condition(terminating, 'Terminating')?.reason, 'InstanceDeletionInProgress');
    const refused = await api.post(path, {
      apiVersion: 'delete.example.com/v1',
      kind: 'Widget',
      metadata: { name: 'late' },
      spec: { size: 'small' },
    });
    assertStatus(refused, 405, 'MethodNotAllowed');

    assertOk(await api.patch(`${path}/held`, { metadata: { finalizers: null, resourceVersion: held.metadata.resourceVersion } }));
    await eventually('CRD gone', async () => (await api.get(`${CRDS}/widgets.delete.example.com`)).status === 404);
    assert.equal((await api.get(path)).status, 404);
    assert.equal((await api.get('/apis/delete.example.com')).status, 404);
    const deleted = new Set<string>();
    for (let event = await watch.next(1000); event; event = await watch.next(200)) {
      if (event.type === 'DELETED') deleted.add(event.object.metadata.name);
    }
    assert.deepEqual([...deleted].sort(), ['a', 'b', 'held']);
  } finally {
    watch.close();
  }
});

test('a restarted server serves stored CRDs and their objects at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-crd-restart-'));
  dirs.push(dir);
  let first: ApiServer | undefined = await ApiServer.start({ dataDir: dir, port: 0 });
  let client = new Client(first.url, first);
  try {
    assertOk(await client.post(CRDS, widgetCrd()), 201);
    await established(client, 'widgets.example.com');
    assertOk(
      await client.post(widgets('v1beta1'), {
        apiVersion: 'example.com/v1beta1',
        kind: 'Widget',
        metadata: { name: 'kept' },
        spec: { size: 'large' },
      }),
      201,
    );
  } finally {
    client.close();
    await first.close();
    first = undefined;
  }
  const second = await ApiServer.start({ dataDir: dir, port: 0 });
  client = new Client(second.url, second);
  try {
    // No waiting: the first request after start finds the resource.
    const kept = await client.get(`${widgets('v1')}/kept`);
    assertOk(kept);
    assert.equal(kept.body.apiVersion, 'example.com/v1');
    assert.deepEqual(kept.body.spec, { size: 'large', replicas: 1, color: 'blue' });
    const discovery = await client.get('/apis/example.com/v1beta1');
    assertOk(discovery);
  } finally {
    client.close();
    await second.close();
  }
});
