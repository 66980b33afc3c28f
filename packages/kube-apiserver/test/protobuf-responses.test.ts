/**
 * Responses in Kubernetes protobuf: a client whose Accept header picks
 * `application/vnd.kubernetes.protobuf` (before any JSON type) gets objects, lists and error
 * Statuses as `k8s\0`-prefixed protobuf that decode to what the JSON API returns.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodeKubernetesProtobuf, isKubernetesProtobuf } from '@canopy/apimachinery';
import { ApiServer } from '../src/apiserver.js';

const PROTOBUF = 'application/vnd.kubernetes.protobuf';

interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  bytes: Buffer;
}

let server: ApiServer;
let agent: Agent;
let dir: string;

function call(method: string, path: string, accept?: string, body?: unknown): Promise<Response> {
  const url = new URL(path, server.url);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = {};
  if (accept) headers.accept = accept;
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { method, hostname: url.hostname, port: url.port, path: url.pathname + url.search, headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function json(res: Response): any {
  assert.match(String(res.headers['content-type']), /^application\/json/);
  return JSON.parse(res.bytes.toString('utf8'));
}

function protobuf(res: Response): Record<string, unknown> {
  assert.equal(res.headers['content-type'], PROTOBUF);
  assert.ok(isKubernetesProtobuf(res.bytes), 'body starts with k8s\\0');
  return decodeKubernetesProtobuf(res.bytes).object;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'canopy-protobuf-responses-'));
  server = await ApiServer.start({ dataDir: dir, port: 0 });
  agent = new Agent({ keepAlive: true, ca: server.pki.ca.cert, cert: server.pki.admin.cert, key: server.pki.admin.key });
  const cm = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings', labels: { app: 'web' } },
    data: { a: '1', b: '' },
  };
  assert.equal((await call('POST', '/api/v1/namespaces/default/configmaps', undefined, cm)).status, 201);
  const other = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'other' },
    binaryData: { blob: Buffer.from([0, 255]).toString('base64') },
  };
  assert.equal((await call('POST', '/api/v1/namespaces/default/configmaps', undefined, other)).status, 201);
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx:1.27',
              ports: [{ containerPort: 80 }],
              resources: { limits: { cpu: '250m', memory: '64Mi' } },
              readinessProbe: { httpGet: { path: '/', port: 80 } },
            },
          ],
        },
      },
    },
  };
  assert.equal((await call('POST', '/apis/apps/v1/namespaces/default/deployments', undefined, deployment)).status, 201);
});

after(async () => {
  agent?.destroy();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('GET with a protobuf-only Accept answers protobuf that decodes to the JSON object', async () => {
  for (const path of [
    '/api/v1/namespaces/default/configmaps/settings',
    '/api/v1/namespaces/default/configmaps/other',
    '/apis/apps/v1/namespaces/default/deployments/web',
  ]) {
    const expected = json(await call('GET', path));
    const res = await call('GET', path, PROTOBUF);
    assert.equal(res.status, 200);
    assert.deepEqual(protobuf(res), expected, path);
  }
});

test('LIST with a protobuf-only Accept answers a protobuf list', async () => {
  for (const path of ['/api/v1/namespaces/default/configmaps', '/apis/apps/v1/namespaces/default/deployments']) {
    const expected = json(await call('GET', path));
    const decoded = protobuf(await call('GET', path, PROTOBUF));
    // Items of a typed list carry no apiVersion/kind on the protobuf wire.
    const items = (expected.items as Array<Record<string, unknown>>).map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
    assert.ok(items.length > 0);
    assert.deepEqual(decoded, { ...expected, items }, path);
  }
});

test('a write with a protobuf-only Accept answers the created object in protobuf', async () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'created' }, data: { x: 'y' } };
  const res = await call('POST', '/api/v1/namespaces/default/configmaps', PROTOBUF, cm);
  assert.equal(res.status, 201);
  const decoded = protobuf(res);
  assert.deepEqual(decoded, json(await call('GET', '/api/v1/namespaces/default/configmaps/created')));
});

test('errors with a protobuf-only Accept are protobuf Statuses; JSON otherwise', async () => {
  const res = await call('GET', '/api/v1/namespaces/default/configmaps/missing', PROTOBUF);
  assert.equal(res.status, 404);
  const status = protobuf(res);
  assert.equal(status.kind, 'Status');
  assert.equal(status.apiVersion, 'v1');
  assert.equal(status.code, 404);
  assert.equal(status.reason, 'NotFound');
  assert.equal(status.status, 'Failure');
  assert.deepEqual(status.details, { name: 'missing', kind: 'configmaps' });
  assert.equal(status.message, 'configmaps "missing" not found');

  const plain = await call('GET', '/api/v1/namespaces/default/configmaps/missing');
  assert.equal(json(plain).reason, 'NotFound');
  const unknownPath = await call('GET', '/no/such/path', PROTOBUF);
  assert.equal(unknownPath.status, 404);
  assert.equal(protobuf(unknownPath).kind, 'Status');
});

test('the first acceptable type in the client order wins', async () => {
  const path = '/api/v1/namespaces/default/configmaps/settings';
  const expected = json(await call('GET', path));
  assert.deepEqual(protobuf(await call('GET', path, `${PROTOBUF}, application/json`)), expected);
  assert.deepEqual(json(await call('GET', path, `application/json, ${PROTOBUF}`)), expected);
  assert.deepEqual(json(await call('GET', path, `*/*, ${PROTOBUF}`)), expected);
  // Tables stay JSON even for clients that would otherwise take protobuf.
  const table = await call('GET', path, `application/json;as=Table;v=v1;g=meta.k8s.io, ${PROTOBUF}`);
  assert.equal(json(table).kind, 'Table');
});

test('a protobuf-only watch is still served (as JSON events)', async () => {
  const res = await call('GET', '/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1', PROTOBUF);
  assert.equal(res.status, 200);
  const first = JSON.parse(res.bytes.toString('utf8').split('\n')[0]);
  assert.equal(first.type, 'ADDED');
});
