/**
 * Users of the running platform over HTTP: CRUD in KubeSphere's shapes with hashes never shown,
 * list queries, what a user may change of itself, global roles, enabling and disabling, deletion,
 * password resets, passwords written straight to the Kubernetes API (hashed by the users
 * controller), lockout after 10 failures lifted after the window (injected clock), LoginRecords
 * with source IP and user agent, and the audit log free of passwords.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { platformTypes } from '../src/index.js';
import { ADMIN_PASSWORD, USERS_API, accessToken, createUser, initializeAdmin, signIn, startPlatform, type TestPlatform } from './identity-support.js';

let p: TestPlatform;
let admin: string;

before(async () => {
  p = await startPlatform();
  admin = await initializeAdmin(p);
});
after(async () => {
  await p?.close();
});

const get = (path: string, token = admin) => p.http.request('GET', path, { token });
const put = (path: string, body: unknown, token = admin) => p.http.request('PUT', path, { token, body });

test('create, read, list and update users: passwords hashed before storage and never shown', async () => {
  const created = await createUser(p, admin, 'alice', 'Alice-Pass-1', { globalRole: 'platform-regular' });
  const body = created.json();
  assert.equal(body.kind, 'User');
  assert.equal(body.spec.password, undefined);
  assert.equal(body.metadata.annotations['iam.kubesphere.io/globalrole'], 'platform-regular');
  assert.equal(body.metadata.annotations['kubesphere.io/creator'], 'admin');
  assert.equal(body.status.state, 'Active');
  const stored = await p.kube.get<any>(platformTypes.users, 'alice');
  assert.match(stored.spec.password, /^\$2[aby]\$10\$/, 'stored as a bcrypt hash');
  assert.equal(stored.metadata.annotations['iam.kubesphere.io/globalrole'], undefined, 'the role lives in a binding');
  const binding = await p.kube.get<any>(platformTypes.globalRoleBindings, 'alice-platform-regular');
  assert.deepEqual([binding.roleRef.name, binding.metadata.labels['iam.kubesphere.io/user-ref']], ['platform-regular', 'alice']);

  await createUser(p, admin, 'bob', 'Bob-Pass-12');
  await createUser(p, admin, 'carol', 'Carol-Pass-1', { globalRole: 'platform-regular' });
  const one = await get(`${USERS_API}/alice`);
  assert.equal(one.json().spec.password, undefined);
  assert.equal(one.json().spec.email, 'alice@example.com');

  const list = (await get(`${USERS_API}?sortBy=name&ascending=true`)).json();
  assert.deepEqual(list.items.map((u: any) => u.metadata.name), ['admin', 'alice', 'bob', 'carol']);
  assert.equal(list.totalItems, 4);
  assert.ok(list.items.every((u: any) => u.spec.password === undefined), 'no hash in a list');
  assert.equal(list.items[0].metadata.annotations['iam.kubesphere.io/globalrole'], 'platform-admin');
  const regulars = (await get(`${USERS_API}?globalrole=platform-regular&sortBy=name&ascending=true`)).json();
  assert.deepEqual(regulars.items.map((u: any) => u.metadata.name), ['alice', 'carol']);
  const page = (await get(`${USERS_API}?sortBy=name&ascending=true&limit=2&page=2`)).json();
  assert.deepEqual([page.items.map((u: any) => u.metadata.name), page.totalItems], [['bob', 'carol'], 4]);
  assert.deepEqual((await get(`${USERS_API}?email=bob@example.com`)).json().items.map((u: any) => u.metadata.name), ['bob']);
  assert.deepEqual((await get(`${USERS_API}?name=aro`)).json().items.map((u: any) => u.metadata.name), ['carol']);

  // Refusals in Kubernetes' shapes, never quoting a password.
  const weak = await p.http.request('POST', USERS_API, { token: admin, body: { metadata: { name: 'dave' }, spec: { email: 'dave@example.com', password: 'alllowercase' } } });
  assert.equal(weak.status, 422);
  assert.match(weak.json().message, /^User.iam.kubesphere.io "dave" is invalid: spec.password: The password must contain/);
  assert.ok(!weak.text.includes('alllowercase'));
  const taken = await p.http.request('POST', USERS_API, { token: admin, body: { metadata: { name: 'alice' }, spec: { email: 'other@example.com' } } });
  assert.deepEqual([taken.status, taken.json().reason], [409, 'AlreadyExists']);
  const sameEmail = await p.http.request('POST', USERS_API, { token: admin, body: { metadata: { name: 'erin' }, spec: { email: 'alice@example.com' } } });
  assert.equal(sameEmail.status, 422);
  assert.equal(sameEmail.json().details.causes[0].field, 'spec.email');
  const badName = await p.http.request('POST', USERS_API, { token: admin, body: { metadata: { name: 'Not_A_Name' }, spec: { email: 'x@example.com' } } });
  assert.equal(badName.status, 422);
  assert.equal((await p.http.request('POST', USERS_API, { token: admin, body: '{not json' })).status, 400);
  assert.equal((await get(`${USERS_API}/nobody`)).status, 404);

  // An update keeps the stored hash, whatever the body says about the password.
  const update = { ...one.json(), spec: { ...one.json().spec, displayName: 'Alice A.', password: 'Replaced-Pass-1' } };
  const updated = await put(`${USERS_API}/alice`, update);
  assert.equal(updated.status, 200, updated.text);
  assert.equal(updated.json().spec.displayName, 'Alice A.');
  assert.equal(updated.json().spec.password, undefined);
  assert.equal((await p.kube.get<any>(platformTypes.users, 'alice')).spec.password, stored.spec.password);
  assert.equal((await signIn(p, 'alice', 'Alice-Pass-1')).status, 200);
  const mismatch = await put(`${USERS_API}/alice`, { ...update, metadata: { ...update.metadata, name: 'bob' } });
  assert.deepEqual([mismatch.status, mismatch.json().message], [400, 'the name of the object (bob) does not match the name on the URL (alice)']);
});

test('a user may edit itself but not its groups, status, identity links or global role, nor anyone else', async () => {
  const alice = await accessToken(p, 'alice', 'Alice-Pass-1');
  const self = (await get(`${USERS_API}/alice`, alice)).json();
  const attempt = {
    ...self,
    metadata: { ...self.metadata, annotations: { ...self.metadata.annotations, 'iam.kubesphere.io/identity-provider.ldap': 'bob', 'iam.kubesphere.io/globalrole': 'platform-regular' } },
    spec: { ...self.spec, description: 'mine', groups: ['admins'] },
    status: { state: 'Disabled' },
  };
  const r = await put(`${USERS_API}/alice`, attempt, alice);
  assert.equal(r.status, 200, r.text);
  const stored = await p.kube.get<any>(platformTypes.users, 'alice');
  assert.equal(stored.spec.description, 'mine');
  assert.equal(stored.spec.groups, undefined);
  assert.equal(stored.status.state, 'Active');
  assert.equal(stored.metadata.annotations['iam.kubesphere.io/identity-provider.ldap'], undefined);
  const escalate = await put(`${USERS_API}/alice`, { ...self, metadata: { ...self.metadata, annotations: { 'iam.kubesphere.io/globalrole': 'platform-admin' } } }, alice);
  assert.equal(escalate.status, 403);
  assert.equal((await p.http.request('DELETE', `${USERS_API}/bob`, { token: alice })).status, 403);
  assert.equal((await put(`${USERS_API}/bob/password`, { password: 'Bob-Hijack-1' }, alice)).status, 403);
  assert.equal((await get('/kapis/resources.kubesphere.io/v1alpha2/users/bob/kubeconfig', alice)).status, 403);
  // Every signed-in user may list users (KubeSphere's authenticated role), but sees no hash.
  assert.equal((await get(USERS_API, alice)).status, 200);
});

test('disabling a user ends its sessions and kubeconfig at once; enabling lets it sign in again', async () => {
  const session = await accessToken(p, 'bob', 'Bob-Pass-12');
  const kubeconfig = await get('/kapis/resources.kubesphere.io/v1alpha2/users/bob/kubeconfig', session);
  assert.equal(kubeconfig.status, 200);
  const staticToken = /token: (\S+)/.exec(kubeconfig.text)![1];
  assert.equal((await get(`${USERS_API}/bob`, staticToken)).status, 200);

  const bob = (await get(`${USERS_API}/bob`)).json();
  const disabled = await put(`${USERS_API}/bob`, { ...bob, status: { state: 'Disabled' } });
  assert.equal(disabled.json().status.state, 'Disabled');
  assert.equal((await get(`${USERS_API}/bob`, session)).status, 401);
  assert.equal((await get(`${USERS_API}/bob`, staticToken)).status, 401);
  const refused = await signIn(p, 'bob', 'Bob-Pass-12');
  assert.deepEqual([refused.status, refused.json()], [400, { error: 'invalid_grant', error_description: 'Account suspended.' }]);

  // The body's resourceVersion is checked, as Kubernetes does: a stale one conflicts.
  const stale = await put(`${USERS_API}/bob`, { ...bob, status: { state: 'Active' } });
  assert.deepEqual([stale.status, stale.json().reason], [409, 'Conflict']);
  const current = (await get(`${USERS_API}/bob`)).json();
  const enabled = await put(`${USERS_API}/bob`, { ...current, status: { state: 'Active' } });
  assert.equal(enabled.status, 200, enabled.text);
  assert.equal(enabled.json().status.state, 'Active');
  assert.equal((await signIn(p, 'bob', 'Bob-Pass-12')).status, 200);
  assert.equal((await get(`${USERS_API}/bob`, session)).status, 401, 'sessions ended by disabling stay ended');
});

test('password changes: the user with the current one, an administrator without; other sessions end', async () => {
  const first = await accessToken(p, 'carol', 'Carol-Pass-1');
  const second = await accessToken(p, 'carol', 'Carol-Pass-1');
  const noCurrent = await put(`${USERS_API}/carol/password`, { password: 'Carol-Pass-2' }, first);
  assert.deepEqual([noCurrent.status, noCurrent.json().message], [400, 'incorrect old password']);
  assert.equal((await put(`${USERS_API}/carol/password`, { currentPassword: 'Carol-Pass-1', password: 'Carol-Pass-2' }, first)).status, 200);
  assert.equal((await get(`${USERS_API}/carol`, first)).status, 200, 'the session that changed it goes on');
  assert.equal((await get(`${USERS_API}/carol`, second)).status, 401, 'the other session ended');

  const reset = await put(`${USERS_API}/carol/password`, { password: 'Carol-Reset-3' });
  assert.equal(reset.status, 200, reset.text);
  assert.equal((await get(`${USERS_API}/carol`, first)).status, 401, 'a reset by an administrator ends every session');
  assert.equal((await signIn(p, 'carol', 'Carol-Pass-2')).status, 400);
  assert.equal((await signIn(p, 'carol', 'Carol-Reset-3')).status, 200);
});

test('a password written in plain text straight to the Kubernetes API is hashed by the users controller', async () => {
  await p.kube.create(platformTypes.users, {
    metadata: { name: 'frank', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"spec":{"password":"Frank-Plain-1"}}' } },
    spec: { email: 'frank@example.com', password: 'Frank-Plain-1' },
  } as never);
  let stored: any;
  for (let i = 0; i < 300; i++) {
    stored = await p.kube.get<any>(platformTypes.users, 'frank');
    if (stored.spec.password.startsWith('$2')) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.match(stored.spec.password, /^\$2[aby]\$10\$/);
  assert.equal(stored.status.state, 'Active');
  assert.equal(stored.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], undefined);
  assert.ok(stored.metadata.annotations['iam.kubesphere.io/last-password-change-time']);
  assert.equal((await signIn(p, 'frank', 'Frank-Plain-1')).status, 200);
});

test('10 wrong passwords lock the user (429) until the window has passed; login records keep IP and user agent', async () => {
  await createUser(p, admin, 'gina', 'Gina-Pass-12');
  const from = { 'x-forwarded-for': '198.51.100.23', 'user-agent': 'lockout-test/2.0' };
  for (let i = 0; i < 10; i++) {
    const r = await p.http.request('POST', '/oauth/token', {
      headers: from,
      form: { grant_type: 'password', client_id: 'kubesphere', client_secret: p.consoleSecret, username: 'gina', password: `Wrong-Pass-${i}` },
    });
    assert.deepEqual([r.status, r.json().error_description], [400, 'Invalid username or password.'], `attempt ${i + 1}`);
  }
  const locked = await signIn(p, 'gina', 'Gina-Pass-12');
  assert.deepEqual([locked.status, locked.json()], [429, { error: 'invalid_grant', error_description: 'Rate limit exceeded.' }]);
  const user = await p.kube.get<any>(platformTypes.users, 'gina');
  assert.equal(user.status.state, 'AuthLimitExceeded');
  assert.equal(user.status.reason, 'Failed login attempts exceed 10 in last 10m0s');
  // Basic credentials are refused too while locked.
  const basic = await p.http.request('GET', `${USERS_API}/gina`, { headers: { authorization: `Basic ${Buffer.from('gina:Gina-Pass-12').toString('base64')}` } });
  assert.equal(basic.status, 401);

  const records = (await get(`${USERS_API}/gina/loginrecords?type=Token`)).json();
  assert.equal(records.totalItems, 10);
  for (const record of records.items) {
    assert.equal(record.kind, 'LoginRecord');
    assert.match(record.metadata.name, /^gina-[a-z0-9]{5}$/);
    assert.equal(record.metadata.labels['iam.kubesphere.io/user-ref'], 'gina');
    assert.deepEqual(
      [record.spec.type, record.spec.success, record.spec.reason, record.spec.sourceIP, record.spec.userAgent],
      ['Token', false, 'incorrect password', '198.51.100.23', 'lockout-test/2.0'],
    );
  }

  // Nine minutes later the lock holds; past ten the users controller lifts it by itself.
  p.clock.advance(9 * 60_000);
  assert.equal((await signIn(p, 'gina', 'Gina-Pass-12')).status, 429);
  p.clock.advance(61_000);
  await p.platform.identity.idle();
  let state = '';
  for (let i = 0; i < 300 && state !== 'Active'; i++) {
    state = (await p.kube.get<any>(platformTypes.users, 'gina')).status.state;
    if (state !== 'Active') await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(state, 'Active');
  const ok = await p.http.request('POST', '/oauth/token', {
    headers: from,
    form: { grant_type: 'password', client_id: 'kubesphere', client_secret: p.consoleSecret, username: 'gina', password: 'Gina-Pass-12' },
  });
  assert.equal(ok.status, 200, ok.text);
  // (Records made within one second sort by name: the success is found by its fields, not its place.)
  const all = (await get(`${USERS_API}/gina/loginrecords`)).json();
  assert.equal(all.totalItems, 11);
  const succeeded = all.items.filter((r: any) => r.spec.success);
  assert.deepEqual(succeeded.map((r: any) => [r.spec.reason, r.spec.sourceIP, r.spec.userAgent]), [['authenticated successfully', '198.51.100.23', 'lockout-test/2.0']]);
  assert.ok((await p.kube.get<any>(platformTypes.users, 'gina')).status.lastLoginTime);
});

test('deleting a user refuses its tokens at once and removes its login records and bindings', async () => {
  const carol = await accessToken(p, 'carol', 'Carol-Reset-3');
  assert.equal((await get(`${USERS_API}/carol`, carol)).status, 200);
  const del = await p.http.request('DELETE', `${USERS_API}/carol`, { token: admin });
  assert.deepEqual([del.status, del.json()], [200, { message: 'success' }]);
  assert.equal((await get(`${USERS_API}/carol`, carol)).status, 401);
  assert.equal((await get(`${USERS_API}/carol`)).status, 404);
  // A new carol does not inherit the old one's sessions.
  await createUser(p, admin, 'carol', 'Carol-Again-1');
  assert.equal((await get(`${USERS_API}/carol`, carol)).status, 401);
  await p.http.request('DELETE', `${USERS_API}/carol`, { token: admin });
  let left = -1;
  for (let i = 0; i < 300 && left !== 0; i++) {
    const records = await p.kube.list(platformTypes.loginRecords, { labelSelector: 'iam.kubesphere.io/user-ref=carol' });
    const bindings = await p.kube.list(platformTypes.globalRoleBindings, { labelSelector: 'iam.kubesphere.io/user-ref=carol' });
    left = records.items.length + bindings.items.length;
    if (left) await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(left, 0);
});

test('the audit log records user changes without any password', async () => {
  const { records } = p.platform.audit.query({ resources: ['users'], size: 1000 });
  assert.ok(records.some((r) => r.verb === 'create' && r.objectRef.name === 'alice'), 'user creations are audited, named from the body');
  const text = JSON.stringify(records);
  for (const secret of ['Alice-Pass-1', 'Bob-Pass-12', 'Carol-Pass-2', 'Carol-Reset-3', 'Gina-Pass-12', ADMIN_PASSWORD, p.platform.initialAdminPassword ?? 'never'])
    assert.ok(!text.includes(secret), `no ${secret} in the audit log`);
});

test('login records are kept at most 100 per user and 168 hours (users controller, injected clock)', async () => {
  await createUser(p, admin, 'hank', 'Hank-Pass-123');
  for (let i = 0; i < 103; i++)
    await p.kube.create(platformTypes.loginRecords, {
      metadata: { generateName: 'hank-', labels: { 'iam.kubesphere.io/user-ref': 'hank' } },
      spec: { type: 'Token', provider: '', sourceIP: '192.0.2.1', success: false, reason: 'incorrect password' },
    } as never);
  const count = async () => (await p.kube.list(platformTypes.loginRecords, { labelSelector: 'iam.kubesphere.io/user-ref=hank' })).items.length;
  let n = await count();
  for (let i = 0; i < 300 && n !== 100; i++) {
    await new Promise((r) => setTimeout(r, 10));
    n = await count();
  }
  assert.equal(n, 100);
  p.clock.advance(168 * 3_600_000 + 60_000);
  for (let i = 0; i < 300 && n !== 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
    n = await count();
  }
  assert.equal(n, 0, 'records older than 168 h are gone');
});
