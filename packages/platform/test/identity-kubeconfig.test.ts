/**
 * A user's own kubeconfig (`/kapis/resources.kubesphere.io/v1alpha2/users/<u>/kubeconfig`) driven
 * by real kubectl 1.33: it reaches the cluster through the platform front with exactly the user's
 * platform rights, and stops working when the user asks for a new one or is disabled.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { types } from '@canopy/client';
import { platformTypes } from '../src/index.js';
import { makeKubectl } from '../../cli/test/support/server.js';
import { USERS_API, accessToken, createUser, initializeAdmin, startPlatform, type TestPlatform } from './identity-support.js';

let p: TestPlatform;
let admin: string;
let work: string;
const KUBECONFIG_API = '/kapis/resources.kubesphere.io/v1alpha2/users';

before(async () => {
  p = await startPlatform();
  admin = await initializeAdmin(p);
  work = mkdtempSync(join(tmpdir(), 'canopy-kubeconfig-'));
  await createUser(p, admin, 'bob', 'Bob-Pass-12', { globalRole: 'platform-regular' });
  for (const ns of ['p1', 'p2']) {
    await p.kube.create(types.namespaces, { metadata: { name: ns } });
    await p.kube.create(types.pods, { metadata: { name: `web-${ns}`, namespace: ns }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } as never);
  }
  // bob may read pods in p1, through a platform Role and RoleBinding (iam.kubesphere.io).
  await p.kube.create(platformTypes.roles, {
    metadata: { name: 'pod-reader', namespace: 'p1' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
  } as never);
  await p.kube.create(platformTypes.roleBindings, {
    metadata: { name: 'bob-pod-reader', namespace: 'p1', labels: { 'iam.kubesphere.io/user-ref': 'bob' } },
    roleRef: { apiGroup: 'iam.kubesphere.io', kind: 'Role', name: 'pod-reader' },
    subjects: [{ apiGroup: 'iam.kubesphere.io', kind: 'User', name: 'bob' }],
  } as never);
});
after(async () => {
  await p?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function kubeconfigOf(user: string, token: string): Promise<string> {
  const r = await p.http.request('GET', `${KUBECONFIG_API}/${user}/kubeconfig`, { token });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
  const file = join(work, `${user}-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, r.text, { mode: 0o600 });
  return file;
}

test("the kubeconfig names the platform front and a static token of the user; kubectl has exactly the user's rights", async () => {
  const bob = await accessToken(p, 'bob', 'Bob-Pass-12');
  const file = await kubeconfigOf('bob', bob);
  const config = parseYaml((await p.http.request('GET', `${KUBECONFIG_API}/bob/kubeconfig`, { token: admin })).text);
  assert.equal(config['current-context'], 'bob@local');
  assert.equal(config.clusters[0].cluster.server, p.platform.url.replace('http:', 'https:'), 'the front, over TLS on the same port');
  assert.equal(Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), p.cluster.server.pki.ca.cert);
  assert.equal(config.users[0].name, 'bob');
  // (The administrator's fetch above issued bob a new kubeconfig: the file's token is revoked now.)
  const kubectlOld = makeKubectl('1.33', file, work);
  const revoked = await kubectlOld(['get', 'pods', '-n', 'p1']);
  assert.notEqual(revoked.code, 0);
  assert.match(revoked.stderr, /Unauthorized|must be logged in/);

  const current = await kubeconfigOf('bob', bob);
  const kubectl = makeKubectl('1.33', current, join(work, 'current'));
  // The policy cache takes the binding in shortly after it is created.
  let listed = await kubectl(['get', 'pods', '-n', 'p1', '-o', 'name']);
  for (let i = 0; listed.code !== 0 && i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    listed = await kubectl(['get', 'pods', '-n', 'p1', '-o', 'name']);
  }
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(listed.stdout.trim(), 'pod/web-p1');
  const one = await kubectl(['get', 'pod', 'web-p1', '-n', 'p1', '-o', 'jsonpath={.spec.containers[0].image}']);
  assert.equal(one.stdout, 'nginx:1.27');

  const otherProject = await kubectl(['get', 'pods', '-n', 'p2']);
  assert.notEqual(otherProject.code, 0);
  assert.match(otherProject.stderr, /Forbidden.*User "bob" cannot list resource "pods" in API group "" in the namespace "p2"/);
  const secrets = await kubectl(['get', 'secrets', '-n', 'p1']);
  assert.match(secrets.stderr, /Forbidden.*cannot list resource "secrets"/);
  const remove = await kubectl(['delete', 'pod', 'web-p1', '-n', 'p1']);
  assert.match(remove.stderr, /Forbidden.*cannot delete resource "pods"/);
  assert.ok(await p.kube.get(types.pods, 'web-p1', 'p1'), 'the pod is still there');

  // Disabling bob stops the kubeconfig at once.
  const user = (await p.http.request('GET', `${USERS_API}/bob`, { token: admin })).json();
  assert.equal((await p.http.request('PUT', `${USERS_API}/bob`, { token: admin, body: { ...user, status: { state: 'Disabled' } } })).status, 200);
  const afterDisable = await kubectl(['get', 'pods', '-n', 'p1']);
  assert.notEqual(afterDisable.code, 0);
  assert.match(afterDisable.stderr, /Unauthorized|must be logged in/);
});

test('only the user itself and user managers get a kubeconfig; unknown users are 404', async () => {
  await createUser(p, admin, 'eve', 'Eve-Pass-123');
  const eve = await accessToken(p, 'eve', 'Eve-Pass-123');
  const theirs = await p.http.request('GET', `${KUBECONFIG_API}/admin/kubeconfig`, { token: eve });
  assert.equal(theirs.status, 403);
  assert.equal((await p.http.request('GET', `${KUBECONFIG_API}/eve/kubeconfig`)).status, 401);
  assert.equal((await p.http.request('GET', `${KUBECONFIG_API}/nobody/kubeconfig`, { token: admin })).status, 404);
  // eve's own kubeconfig: signed in, but without any role in a project, kubectl lists nothing there.
  const kubectl = makeKubectl('1.33', await kubeconfigOf('eve', eve), join(work, 'eve'));
  const r = await kubectl(['get', 'pods', '-n', 'p1']);
  assert.match(r.stderr, /Forbidden.*User "eve" cannot list resource "pods"/);
});
