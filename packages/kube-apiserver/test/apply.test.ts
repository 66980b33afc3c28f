/**
 * Server-side apply and managedFields through the running API server, over HTTPS with the admin
 * certificate as kubectl speaks to it. Expectations are kube-apiserver's: status codes, reasons,
 * conflict wording, and which manager owns which field after each write.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiServer } from '../src/apiserver.js';

interface Response {
  status: number;
  body: any;
  text: string;
}

let server: ApiServer;
let agent: Agent;
let dir: string;

function call(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
  userAgent?: string,
): Promise<Response> {
  const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const url = new URL(path, server.url);
  const headers: Record<string, string> = {};
  if (payload) {
    headers['content-type'] = contentType;
    headers['content-length'] = String(payload.length);
  }
  if (userAgent) headers['user-agent'] = userAgent;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { method, hostname: url.hostname, port: url.port, path: url.pathname + url.search, headers, agent },
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
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const APPLY_YAML = 'application/apply-patch+yaml';
const apply = (path: string, body: unknown, query: string, contentType = APPLY_YAML) =>
  call('PATCH', `${path}?${query}`, body, contentType);

function deployment(ns: string, name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns }, spec };
}

function podTemplate(image: string, extra: Record<string, unknown> = {}) {
  return {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image, ...extra }] } },
  };
}

/** The managers that own a FieldsV1 path such as `f:spec` / `f:replicas`. */
function ownersOf(object: any, ...path: string[]): string[] {
  const owners: string[] = [];
  for (const entry of object.metadata.managedFields ?? []) {
    let node = entry.fieldsV1;
    for (const p of path) node = node?.[p];
    if (node !== undefined) owners.push(`${entry.manager}/${entry.operation}`);
  }
  return owners.sort();
}

async function namespace(name: string): Promise<void> {
  const res = await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  assert.equal(res.status, 201, res.text);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'canopy-apply-'));
  server = await ApiServer.start({ dataDir: dir, port: 0 });
  agent = new Agent({ keepAlive: true, ca: server.pki.ca.cert, cert: server.pki.admin.cert, key: server.pki.admin.key });
});

after(async () => {
  agent?.destroy();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('apply creates a missing object (201) with defaults and an Apply entry; re-applying stores nothing', async () => {
  await namespace('ssa-create');
  const path = '/apis/apps/v1/namespaces/ssa-create/deployments/web';
  const created = await apply(
    path,
    deployment('ssa-create', 'web', { replicas: 2, ...podTemplate('nginx:1') }),
    'fieldManager=alice',
  );
  assert.equal(created.status, 201, created.text);
  assert.ok(created.body.metadata.uid);
  assert.equal(created.body.spec.strategy?.type, 'RollingUpdate', 'create pipeline defaults ran');
  const entries = created.body.metadata.managedFields;
  assert.equal(entries.length, 1);
  assert.equal(entries[0].manager, 'alice');
  assert.equal(entries[0].operation, 'Apply');
  assert.equal(entries[0].apiVersion, 'apps/v1');
  assert.deepEqual(ownersOf(created.body, 'f:spec', 'f:replicas'), ['alice/Apply']);
  // Defaulted fields belong to nobody.
  assert.deepEqual(ownersOf(created.body, 'f:spec', 'f:strategy'), []);

  const again = await apply(
    path,
    deployment('ssa-create', 'web', { replicas: 2, ...podTemplate('nginx:1') }),
    'fieldManager=alice',
  );
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.metadata.resourceVersion, created.body.metadata.resourceVersion, 'no-op apply stores nothing');
  assert.deepEqual(again.body.metadata.managedFields, entries);

  // YAML body, JSON media type variant too.
  const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: "1"\n';
  const cm = await apply('/api/v1/namespaces/ssa-create/configmaps/cfg', yaml, 'fieldManager=alice');
  assert.equal(cm.status, 201, cm.text);
  assert.equal(cm.body.metadata.namespace, 'ssa-create');
  const cmJson = await apply(
    '/api/v1/namespaces/ssa-create/configmaps/cfg2',
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg2' }, data: { b: '2' } },
    'fieldManager=alice',
    'application/apply-patch+json',
  );
  assert.equal(cmJson.status, 201, cmJson.text);
});

test('apply: fieldManager required, force validated, dryRun, kind and name checks, strict unknown fields', async () => {
  await namespace('ssa-options');
  const path = '/api/v1/namespaces/ssa-options/configmaps/c';
  const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } };
  const noManager = await apply(path, body, '');
  assert.equal(noManager.status, 422, noManager.text);
  assert.equal(
    noManager.body.message,
    'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
  );

  const badForce = await apply(path, body, 'fieldManager=m&force=maybe');
  assert.equal(badForce.status, 400, badForce.text);
  const forceOnMerge = await call('PATCH', `${path}?force=true`, { data: {} }, 'application/merge-patch+json');
  assert.equal(forceOnMerge.status, 422, forceOnMerge.text);
  assert.match(forceOnMerge.body.message, /force: Forbidden: may not be specified for non-apply patch/);

  const dry = await apply(path, body, 'fieldManager=m&dryRun=All');
  assert.equal(dry.status, 201, dry.text);
  assert.equal(dry.body.metadata.managedFields[0].manager, 'm');
  assert.equal((await call('GET', path)).status, 404, 'dry run stored nothing');

  const wrongKind = await apply(path, { ...body, kind: 'Secret' }, 'fieldManager=m');
  assert.equal(wrongKind.status, 400, wrongKind.text);
  const wrongName = await apply(path, { ...body, metadata: { name: 'other' } }, 'fieldManager=m');
  assert.equal(wrongName.status, 400, wrongName.text);
  assert.match(wrongName.body.message, /does not match the name on the URL/);

  const unknownStrict = await apply(path, { ...body, bogus: 1 }, 'fieldManager=m&fieldValidation=Strict');
  assert.equal(unknownStrict.status, 400, unknownStrict.text);
  assert.match(unknownStrict.body.message, /unknown field "bogus"/);
  const withManagedFields = await apply(path, { ...body, metadata: { name: 'c', managedFields: [] } }, 'fieldManager=m');
  assert.equal(withManagedFields.status, 400, withManagedFields.text);
  assert.equal((await call('GET', path)).status, 404);
});

test('two appliers: conflicts are 409 with kube wording; force moves ownership; shared values are co-owned', async () => {
  await namespace('ssa-conflict');
  const path = '/apis/apps/v1/namespaces/ssa-conflict/deployments/web';
  assert.equal(
    (await apply(path, deployment('ssa-conflict', 'web', { replicas: 2, ...podTemplate('nginx:1') }), 'fieldManager=a')).status,
    201,
  );

  const conflict = await apply(path, deployment('ssa-conflict', 'web', { replicas: 5 }), 'fieldManager=b');
  assert.equal(conflict.status, 409, conflict.text);
  assert.equal(conflict.body.reason, 'Conflict');
  assert.equal(conflict.body.message, 'Apply failed with 1 conflict: conflict with "a": .spec.replicas');
  assert.deepEqual(conflict.body.details.causes, [
    { reason: 'FieldManagerConflict', message: 'conflict with "a"', field: '.spec.replicas' },
  ]);

  const same = await apply(path, deployment('ssa-conflict', 'web', { replicas: 2 }), 'fieldManager=b');
  assert.equal(same.status, 200, same.text);
  assert.deepEqual(ownersOf(same.body, 'f:spec', 'f:replicas'), ['a/Apply', 'b/Apply']);

  const forced = await apply(path, deployment('ssa-conflict', 'web', { replicas: 7 }), 'fieldManager=b&force=true');
  assert.equal(forced.status, 200, forced.text);
  assert.equal(forced.body.spec.replicas, 7);
  assert.deepEqual(ownersOf(forced.body, 'f:spec', 'f:replicas'), ['b/Apply']);

  // A field a manager alone owns and stops applying is removed from the object.
  const withArgs = await apply(
    path,
    deployment('ssa-conflict', 'web', podTemplate('nginx:1', { args: ['-x'] })),
    'fieldManager=a',
  );
  assert.equal(withArgs.status, 200, withArgs.text);
  assert.deepEqual(withArgs.body.spec.template.spec.containers[0].args, ['-x']);
  const dropped = await apply(path, deployment('ssa-conflict', 'web', podTemplate('nginx:1')), 'fieldManager=a');
  assert.equal(dropped.status, 200, dropped.text);
  assert.equal(dropped.body.spec.template.spec.containers[0].args, undefined, 'a field no longer applied is removed');
  assert.equal(dropped.body.spec.replicas, 7, 'fields of other managers stay');
});

test('non-apply writes get Update entries: fieldManager, else the User-Agent prefix; status writes by subresource', async () => {
  await namespace('ssa-update');
  const path = '/apis/apps/v1/namespaces/ssa-update/deployments/web';
  const created = await call(
    'POST',
    `/apis/apps/v1/namespaces/ssa-update/deployments?fieldManager=creator`,
    deployment('ssa-update', 'web', { replicas: 1, ...podTemplate('nginx:1') }),
  );
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(
    created.body.metadata.managedFields.map((e: any) => [e.manager, e.operation, e.apiVersion, e.fieldsType]),
    [['creator', 'Update', 'apps/v1', 'FieldsV1']],
  );
  assert.deepEqual(ownersOf(created.body, 'f:spec', 'f:replicas'), ['creator/Update']);

  const patched = await call(
    'PATCH',
    path,
    { spec: { replicas: 3 } },
    'application/merge-patch+json',
    'kubectl-edit/v1.30.0 (linux/amd64) kubernetes/abc',
  );
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual(ownersOf(patched.body, 'f:spec', 'f:replicas'), ['kubectl-edit/Update']);
  assert.deepEqual(ownersOf(patched.body, 'f:spec', 'f:selector'), ['creator/Update']);

  // A no-op patch stores nothing and keeps the entries' times.
  const noop = await call('PATCH', path, { spec: { replicas: 3 } }, 'application/merge-patch+json', 'other/1.0');
  assert.equal(noop.body.metadata.resourceVersion, patched.body.metadata.resourceVersion);
  assert.deepEqual(noop.body.metadata.managedFields, patched.body.metadata.managedFields);

  const status = await call(
    'PATCH',
    `${path}/status?fieldManager=controller`,
    { status: { replicas: 3 } },
    'application/merge-patch+json',
  );
  assert.equal(status.status, 200, status.text);
  const statusEntry = status.body.metadata.managedFields.find((e: any) => e.manager === 'controller');
  assert.equal(statusEntry.subresource, 'status');
  assert.ok(statusEntry.fieldsV1['f:status']);
  assert.equal(statusEntry.fieldsV1['f:spec'], undefined);

  // An applier conflicts with an updater and names it with its apiVersion.
  const conflict = await apply(path, deployment('ssa-update', 'web', { replicas: 9 }), 'fieldManager=applier');
  assert.equal(conflict.status, 409, conflict.text);
  assert.equal(conflict.body.message, 'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas');

  // Status applied on the main resource is not owned (the strategy resets it).
  const statusOnMain = await apply(
    path,
    { ...deployment('ssa-update', 'web', {}), status: { replicas: 1 } },
    'fieldManager=applier',
  );
  assert.equal(statusOnMain.status, 200, statusOnMain.text);
  assert.deepEqual(ownersOf(statusOnMain.body, 'f:status', 'f:replicas'), ['controller/Update']);

  const statusApply = await apply(
    `${path}/status`,
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, status: { availableReplicas: 2 } },
    'fieldManager=status-applier',
  );
  assert.equal(statusApply.status, 200, statusApply.text);
  assert.equal(statusApply.body.status.availableReplicas, 2);
  const applied = statusApply.body.metadata.managedFields.find((e: any) => e.manager === 'status-applier');
  assert.equal(applied.operation, 'Apply');
  assert.equal(applied.subresource, 'status');
});

test('custom resources are applied against their inline schema', async () => {
  await namespace('ssa-crd');
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.ssa.example.com' },
    spec: {
      group: 'ssa.example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  properties: {
                    size: { type: 'integer' },
                    ports: {
                      type: 'array',
                      'x-kubernetes-list-type': 'map',
                      'x-kubernetes-list-map-keys': ['name'],
                      items: {
                        type: 'object',
                        required: ['name'],
                        properties: { name: { type: 'string' }, port: { type: 'integer' } },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
  const created = await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  assert.equal(created.status, 201, created.text);
  const path = '/apis/ssa.example.com/v1/namespaces/ssa-crd/widgets/w';
  let first: Response | undefined;
  for (let i = 0; i < 50; i++) {
    first = await apply(
      path,
      {
        apiVersion: 'ssa.example.com/v1',
        kind: 'Widget',
        metadata: { name: 'w' },
        spec: { size: 1, ports: [{ name: 'http', port: 80 }] },
      },
      'fieldManager=a',
    );
    if (first.status !== 404) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(first!.status, 201, first!.text);
  // Another manager adds a list item by key: the associative list merges.
  const second = await apply(
    path,
    {
      apiVersion: 'ssa.example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w' },
      spec: { ports: [{ name: 'https', port: 443 }] },
    },
    'fieldManager=b',
  );
  assert.equal(second.status, 200, second.text);
  assert.deepEqual(
    second.body.spec.ports.map((p: any) => p.name),
    ['http', 'https'],
  );
  assert.deepEqual(ownersOf(second.body, 'f:spec', 'f:ports', 'k:{"name":"https"}'), ['b/Apply']);
});
