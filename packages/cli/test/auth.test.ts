/**
 * Authentication and authorization on `canopy server`: ServiceAccount tokens from
 * `kubectl create token`, `kubectl auth whoami`, TokenReview, revocation by deleting the account,
 * and that an authenticated identity without a policy gets a 403 worded as kube words it.
 */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apiClient, readCredentials, type ApiClient } from './support/http.js';
import { makeKubectl, ok, removeDir, startServer, type RunningServer } from './support/server.js';

let server: RunningServer;
let admin: ApiClient;
let cache: string;

before(async () => {
  server = await startServer();
  admin = apiClient(server.kubeconfig);
  cache = mkdtempSync(join(tmpdir(), 'canopy-auth-'));
});

after(async () => {
  admin?.close();
  await server?.stop();
  if (server) removeDir(server.dataDir);
  if (cache) removeDir(cache);
});

/** A request with a bearer token and no client certificate. */
function withToken(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const { ca } = readCredentials(server.kubeconfig);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      {
        method,
        ca,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text.startsWith('{') ? JSON.parse(text) : text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

for (const version of ['1.27', '1.33']) {
  test(`kubectl ${version}: create token and auth whoami`, async () => {
    const k = makeKubectl(version, server.kubeconfig, cache);
    const ns = `auth-${version.replace('.', '-')}`;
    ok(await k(['create', 'namespace', ns]));
    ok(await k(['create', 'serviceaccount', 'robot', '-n', ns]));
    const token = ok(await k(['create', 'token', 'robot', '-n', ns, '--duration=20m'])).trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT');
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    assert.equal(claims.sub, `system:serviceaccount:${ns}:robot`);
    assert.ok(claims.exp - claims.iat >= 1199 && claims.exp - claims.iat <= 1201, 'the requested duration');

    const whoami = ok(await k(['auth', 'whoami']));
    assert.match(whoami, /Username\s+admin/);
    assert.match(whoami, /Groups\s+\[system:masters system:authenticated\]/);

    // The token authenticates as the account; TokenReview says so to other components.
    const review = await admin.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    assert.equal(review.status, 201, review.text);
    const status = review.json().status;
    assert.equal(status.authenticated, true);
    assert.equal(status.user.username, `system:serviceaccount:${ns}:robot`);
    assert.deepEqual(status.user.groups, ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated']);
    assert.equal(review.json().spec.token, undefined, 'the token is not echoed back');
  });
}

test('an identity without a policy is refused with kube wording; a bad token is 401; deleting the account revokes its tokens', async () => {
  const k = makeKubectl('1.33', server.kubeconfig, cache);
  ok(await k(['create', 'namespace', 'revoke']));
  ok(await k(['create', 'serviceaccount', 'temp', '-n', 'revoke']));
  const token = ok(await k(['create', 'token', 'temp', '-n', 'revoke'])).trim();

  const list = await withToken(token, 'GET', '/api/v1/namespaces/revoke/pods');
  assert.equal(list.status, 403);
  assert.equal(list.json.kind, 'Status');
  assert.equal(
    list.json.message,
    'pods is forbidden: User "system:serviceaccount:revoke:temp" cannot list resource "pods" in API group "" in the namespace "revoke"',
  );
  const nodes = await withToken(token, 'GET', '/api/v1/nodes/n1');
  assert.match(nodes.json.message, /^nodes "n1" is forbidden: .* cannot get resource "nodes" in API group "" at the cluster scope/);
  // Health stays public.
  assert.equal((await withToken(token, 'GET', '/readyz')).status, 200);

  const tampered = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  assert.equal((await withToken(tampered, 'GET', '/api/v1/namespaces')).status, 401);
  assert.equal((await withToken('not-a-jwt', 'GET', '/readyz')).status, 401, 'bad credentials are refused even on public paths');

  ok(await k(['delete', 'serviceaccount', 'temp', '-n', 'revoke']));
  const after = await withToken(token, 'GET', '/api/v1/namespaces/revoke/pods');
  assert.equal(after.status, 401, 'the deleted account’s token no longer authenticates');
  const review = await admin.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: { spec: { token } } });
  assert.equal(review.json().status.authenticated, false);
  assert.match(review.json().status.error, /has been deleted/);
});

test('TokenRequest validation: too short a duration is 422; a missing account is 404', async () => {
  ok(await makeKubectl('1.33', server.kubeconfig, cache)(['create', 'serviceaccount', 'short', '-n', 'default']));
  const short = await admin.request('POST', '/api/v1/namespaces/default/serviceaccounts/short/token', {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 60 } },
  });
  assert.equal(short.status, 422, short.text);
  assert.match(short.json().message, /may not specify a duration less than 10 minutes/);
  const missing = await admin.request('POST', '/api/v1/namespaces/default/serviceaccounts/nobody/token', { body: { spec: {} } });
  assert.equal(missing.status, 404, missing.text);
});

for (const version of ['1.27', '1.33']) {
  test(`kubectl ${version}: auth can-i as admin, as a ServiceAccount with a narrow Role, and through --as`, async () => {
    const k = makeKubectl(version, server.kubeconfig, cache);
    const ns = `cani-${version.replace('.', '-')}`;
    ok(await k(['create', 'namespace', ns]));
    ok(await k(['create', 'serviceaccount', 'reader', '-n', ns]));
    ok(await k(['create', 'role', 'pod-reader', '-n', ns, '--verb=get,list,watch', '--resource=pods']));
    ok(await k(['create', 'rolebinding', 'reader-pods', '-n', ns, '--role=pod-reader', `--serviceaccount=${ns}:reader`]));
    const token = ok(await k(['create', 'token', 'reader', '-n', ns])).trim();
    const canI = async (args: string[], extra: string[] = []) => (await k(['auth', 'can-i', ...args, ...extra])).stdout.trim();

    assert.equal(await canI(['create', 'deployments', '-n', ns]), 'yes');
    assert.equal(await canI(['delete', 'nodes']), 'yes');

    const asToken = ['--token', token];
    // --token with the admin kubeconfig: the client certificate would win, so drop it.
    const kt = (args: string[]) => k(['--kubeconfig', '/dev/null', '--server', server.url, '--insecure-skip-tls-verify', ...args]);
    assert.equal((await kt(['auth', 'can-i', 'get', 'pods', '-n', ns, ...asToken])).stdout.trim(), 'yes');
    assert.equal((await kt(['auth', 'can-i', 'list', 'pods', '-n', ns, ...asToken])).stdout.trim(), 'yes');
    assert.equal((await kt(['auth', 'can-i', 'delete', 'pods', '-n', ns, ...asToken])).stdout.trim(), 'no');
    assert.equal((await kt(['auth', 'can-i', 'get', 'pods', '-n', 'default', ...asToken])).stdout.trim(), 'no');
    assert.equal((await kt(['auth', 'can-i', 'get', 'secrets', '-n', ns, ...asToken])).stdout.trim(), 'no');
    const list = await kt(['auth', 'can-i', '--list', '-n', ns, ...asToken]);
    assert.match(list.stdout, /pods\s+\[\]\s+\[\]\s+\[get list watch\]/);
    const whoami = await kt(['auth', 'whoami', ...asToken]);
    assert.match(whoami.stdout, new RegExp(`system:serviceaccount:${ns}:reader`));
    const denied = await kt(['get', 'secrets', '-n', ns, ...asToken]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, new RegExp(`secrets is forbidden: User "system:serviceaccount:${ns}:reader" cannot list resource "secrets" in API group "" in the namespace "${ns}"`));

    // Impersonation: the admin may act as the account and gets exactly its rights.
    const as = ['--as', `system:serviceaccount:${ns}:reader`];
    assert.equal(await canI(['get', 'pods', '-n', ns], as), 'yes');
    assert.equal(await canI(['create', 'pods', '-n', ns], as), 'no');
    const asWhoami = ok(await k(['auth', 'whoami', ...as]));
    assert.match(asWhoami, new RegExp(`system:serviceaccount:${ns}:reader`));
    // …but the account may not impersonate anyone.
    const escalate = await kt(['get', 'pods', '-n', ns, '--as', 'admin', ...asToken]);
    assert.notEqual(escalate.code, 0);
    assert.match(escalate.stderr, /cannot impersonate resource "users"/);
  });
}

test('escalation prevention: a namespace admin cannot grant what it does not hold, but can grant what it holds', async () => {
  const k = makeKubectl('1.33', server.kubeconfig, cache);
  ok(await k(['create', 'namespace', 'esc']));
  ok(await k(['create', 'serviceaccount', 'lead', '-n', 'esc']));
  ok(await k(['create', 'rolebinding', 'lead-admin', '-n', 'esc', '--clusterrole=admin', '--serviceaccount=esc:lead']));
  const token = ok(await k(['create', 'token', 'lead', '-n', 'esc'])).trim();
  const kt = (args: string[]) => k(['--kubeconfig', '/dev/null', '--server', server.url, '--insecure-skip-tls-verify', '--token', token, ...args]);
  ok(await kt(['create', 'role', 'cm-editor', '-n', 'esc', '--verb=get,update', '--resource=configmaps']), 'admin grants what it holds');
  const nodes = await kt(['create', 'role', 'node-reader', '-n', 'esc', '--verb=get', '--resource=nodes']);
  assert.notEqual(nodes.code, 0);
  assert.match(nodes.stderr, /is attempting to grant RBAC permissions not currently held/);
  const bindClusterAdmin = await kt(['create', 'rolebinding', 'sneaky', '-n', 'esc', '--clusterrole=cluster-admin', '--serviceaccount=esc:lead']);
  assert.notEqual(bindClusterAdmin.code, 0);
  assert.match(bindClusterAdmin.stderr, /forbidden/);
});
