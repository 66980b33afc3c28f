/**
 * `canopy server` as a new user meets it: the first start prints the console URL and the admin's
 * one-time password; signing in with it works but everything except the password change is
 * refused until the password is changed; afterwards admin's own kubeconfig works with kubectl
 * over the platform front; a second start prints no password.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { apiClient } from './support/http.js';
import { makeKubectl, removeDir, startServer, type RunningServer } from './support/server.js';

let server: RunningServer | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'canopy-signin-'));
after(async () => {
  await server?.stop();
  removeDir(dataDir);
});

const USERS = '/kapis/iam.kubesphere.io/v1beta1/users';

async function call(method: string, url: string, options: { token?: string; form?: Record<string, string>; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

test('the printed first sign-in works, forces a password change, and is shown only once', async () => {
  server = await startServer({ dataDir, extraArgs: ['--nodes', '0'] });
  const out = server.output();
  assert.match(out, new RegExp(`Console: ${server.platformUrl.replace(/[.:/]/g, '\\$&')}`));
  const printed = /First sign-in: admin \/ (\S+) \(shown once; change it at first sign-in\)/.exec(out);
  assert.ok(printed, `the first start prints the admin password:\n${out}`);
  const password = printed[1];
  assert.equal(out.split(password).length - 1, 1, 'the password appears once, in the sign-in line, and in no log line');

  // The console's OAuth client secret is generated; an administrator of the cluster can read it.
  const kube = apiClient(server.kubeconfig);
  const secret = (await kube.request('GET', '/api/v1/namespaces/kubesphere-system/secrets/oauthclient-kubesphere')).json();
  kube.close();
  const clientSecret = /secret: (\S+)/.exec(Buffer.from(secret.data['configuration.yaml'], 'base64').toString())![1];
  const signIn = (pw: string) =>
    call('POST', `${server!.platformUrl}/oauth/token`, { form: { grant_type: 'password', client_id: 'kubesphere', client_secret: clientSecret, username: 'admin', password: pw } });

  const first = await signIn(password);
  assert.equal(first.status, 200, first.text);
  const token = first.json().access_token;
  const refused = await call('GET', `${server.platformUrl}${USERS}`, { token });
  assert.equal(refused.status, 403);
  assert.match(refused.json().message, /must change its password/);
  assert.equal((await call('GET', `${server.platformUrl}/api/v1/namespaces`, { token })).status, 403);

  const changed = await call('PUT', `${server.platformUrl}${USERS}/admin/password`, { token, body: { currentPassword: password, password: 'Canopy-Admin-OK1' } });
  assert.equal(changed.status, 200, changed.text);
  assert.equal((await call('GET', `${server.platformUrl}${USERS}`, { token })).status, 200);
  assert.equal((await signIn(password)).status, 400, 'the printed password no longer works');
  const again = await signIn('Canopy-Admin-OK1');
  assert.equal(again.status, 200);

  // admin's own kubeconfig points at the platform front over TLS: kubectl works with platform-admin's rights.
  const kubeconfig = await call('GET', `${server.platformUrl}/kapis/resources.kubesphere.io/v1alpha2/users/admin/kubeconfig`, { token: again.json().access_token });
  assert.equal(kubeconfig.status, 200, kubeconfig.text);
  const file = join(dataDir, 'admin-platform.kubeconfig');
  writeFileSync(file, kubeconfig.text, { mode: 0o600 });
  const kubectl = makeKubectl('1.33', file, mkdtempSync(join(tmpdir(), 'canopy-signin-kubectl-')));
  const namespaces = await kubectl(['get', 'namespaces', '-o', 'name']);
  assert.equal(namespaces.code, 0, namespaces.stderr);
  assert.match(namespaces.stdout, /namespace\/kubesphere-system/);

  // Later starts do not show a password.
  await server.stop();
  server = await startServer({ dataDir, extraArgs: ['--nodes', '0'] });
  assert.match(server.output(), /First sign-in: admin, with the password shown when this installation first started/);
  assert.ok(!server.output().includes(password));
  assert.ok(!server.output().includes('Canopy-Admin-OK1'));
});
