/**
 * First start and first sign-in of the running platform, over HTTP: the generated admin password
 * (kept only as a hash), the state files (0600), the console's OAuth client with a random secret,
 * the forced password change enforced by the front for every path but the allowed ones, sessions
 * after the change, sign-out, an OAuth client added as a Secret (code flow, ID token against the
 * JWKS), and a restart that does not show a password again.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { types } from '@canopy/client';
import { platformTypes } from '../src/index.js';
import { USERS_API, accessToken, jwtClaims, signIn, startPlatform, type TestPlatform } from './identity-support.js';

let p: TestPlatform;
let initialPassword: string;
const NEW_PASSWORD = 'Canopy-Admin-2nd';

before(async () => {
  p = await startPlatform();
  initialPassword = p.platform.initialAdminPassword!;
});
after(async () => {
  await p?.close();
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

test('first start: admin with a generated password stored only as a bcrypt hash, bound to platform-admin; state files are 0600', async () => {
  assert.match(initialPassword, /^[A-Za-z0-9]{20}$/);
  const admin = await p.kube.get<any>(platformTypes.users, 'admin');
  assert.match(admin.spec.password, /^\$2[aby]\$10\$.{53}$/);
  assert.equal(admin.metadata.annotations['iam.kubesphere.io/uninitialized'], 'true');
  assert.equal(admin.status.state, 'Active');
  const binding = await p.kube.get<any>(platformTypes.globalRoleBindings, 'admin');
  assert.equal(binding.roleRef.name, 'platform-admin');
  assert.deepEqual(binding.subjects, [{ apiGroup: 'iam.kubesphere.io', kind: 'User', name: 'admin' }]);
  for (const internal of ['authenticated', 'anonymous', 'pre-registration']) await p.kube.get(platformTypes.globalRoleBindings, internal);

  for (const file of ['jwt-secret', 'id-token-key.pem', 'tokens.db', 'admin-bootstrapped'])
    assert.equal(statSync(join(p.dataDir, file)).mode & 0o777, 0o600, `${file} is readable by its owner only`);
  // The password is nowhere on disk or in the cluster's objects.
  for (const file of filesUnder(p.dataDir)) assert.ok(!readFileSync(file).includes(initialPassword), `${file} does not hold the password`);
  const everything = JSON.stringify([await p.kube.list(platformTypes.users), await p.kube.list(types.secrets)]);
  assert.ok(!everything.includes(initialPassword));
});

test("the console's OAuth client has a random secret: KubeSphere's fixed one is refused", async () => {
  assert.ok(p.consoleSecret.length >= 32 && p.consoleSecret !== 'kubesphere');
  const r = await p.http.request('POST', '/oauth/token', {
    form: { grant_type: 'password', client_id: 'kubesphere', client_secret: 'kubesphere', username: 'admin', password: initialPassword },
  });
  assert.equal(r.status, 401);
  assert.deepEqual(r.json(), { error: 'unauthorized_client', error_description: 'Invalid client credential.' });
});

test('admin signs in with the initial password and can do nothing but read itself, sign out and change the password', async () => {
  const r = await signIn(p, 'admin', initialPassword);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const { access_token: token, refresh_token: refresh, token_type, expires_in } = r.json();
  assert.equal(token_type, 'Bearer');
  assert.equal(expires_in, 7200);
  assert.deepEqual(jwtClaims(token).extra, { uninitialized: ['true'] }, 'the console learns from the token that a change is due');
  const other = await accessToken(p, 'admin', initialPassword);

  for (const [method, path] of [
    ['GET', USERS_API],
    ['GET', '/api/v1/namespaces'],
    ['GET', '/kapis/resources.kubesphere.io/v1alpha3/pods'],
    ['POST', USERS_API],
    ['GET', `${USERS_API}/admin/loginrecords`],
    ['GET', '/kapis/resources.kubesphere.io/v1alpha2/users/admin/kubeconfig'],
    ['DELETE', `${USERS_API}/admin`],
  ]) {
    const denied = await p.http.request(method, path, { token, ...(method === 'POST' ? { body: {} } : {}) });
    assert.equal(denied.status, 403, `${method} ${path}: ${denied.text}`);
    assert.match(denied.json().message, /user "admin" must change its password before doing anything else: PUT \/kapis\/iam.kubesphere.io\/v1beta1\/users\/admin\/password/);
  }
  const self = await p.http.request('GET', `${USERS_API}/admin`, { token });
  assert.equal(self.status, 200);
  assert.equal(self.json().spec.password, undefined, 'the hash is never shown');
  assert.equal((await p.http.request('GET', '/oauth/userinfo', { token })).json().preferred_username, 'admin');

  // The change itself: the current password is required, the policy holds, the answer is KubeSphere's.
  const change = (body: unknown, t = token) => p.http.request('PUT', `${USERS_API}/admin/password`, { token: t, body });
  const wrong = await change({ currentPassword: 'not-it-1A', password: NEW_PASSWORD });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.json().message, 'incorrect old password');
  assert.equal((await change({ password: NEW_PASSWORD })).status, 400, 'even a platform admin gives its own current password');
  const weak = await change({ currentPassword: initialPassword, password: 'weakling' });
  assert.equal(weak.status, 422);
  assert.equal(weak.json().reason, 'Invalid');
  assert.equal(
    weak.json().details.causes[0].message,
    'The password must contain at least one number, one lowercase letter, and one uppercase letter. The length must be 8 to 64 characters.',
  );
  assert.ok(!weak.text.includes('weakling'), 'the refused password is not echoed');
  const ok = await change({ currentPassword: initialPassword, password: NEW_PASSWORD });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.json(), { message: 'success' });

  // The same session goes on, now with every right of platform-admin; the other session has ended.
  assert.equal((await p.http.request('GET', USERS_API, { token })).status, 200);
  assert.equal((await p.http.request('GET', '/api/v1/namespaces', { token })).status, 200);
  assert.equal((await p.http.request('GET', USERS_API, { token: other })).status, 401);
  const admin = await p.kube.get<any>(platformTypes.users, 'admin');
  assert.equal(admin.metadata.annotations['iam.kubesphere.io/uninitialized'], undefined);
  assert.ok(admin.metadata.annotations['iam.kubesphere.io/last-password-change-time']);

  // A refreshed token no longer says uninitialized; the old password is refused, the new one works.
  const refreshed = await p.http.request('POST', '/oauth/token', {
    form: { grant_type: 'refresh_token', client_id: 'kubesphere', client_secret: p.consoleSecret, refresh_token: refresh },
  });
  assert.equal(refreshed.status, 200, refreshed.text);
  assert.equal(jwtClaims(refreshed.json().access_token).extra, undefined);
  const old = await signIn(p, 'admin', initialPassword);
  assert.equal(old.status, 400);
  assert.deepEqual(old.json(), { error: 'invalid_grant', error_description: 'Invalid username or password.' });
  assert.equal((await signIn(p, 'admin', NEW_PASSWORD)).status, 200);
});

test('sign-out revokes the session at once; a forged or foreign token is refused', async () => {
  const token = await accessToken(p, 'admin', NEW_PASSWORD);
  assert.equal((await p.http.request('GET', USERS_API, { token })).status, 200);
  const out = await p.http.request('GET', '/oauth/logout', { token });
  assert.equal(out.status, 200);
  const after = await p.http.request('GET', USERS_API, { token });
  assert.equal(after.status, 401);
  assert.equal(after.json().reason, 'Unauthorized');
  const [h, body] = token.split('.');
  assert.equal((await p.http.request('GET', USERS_API, { token: `${h}.${body}.${'A'.repeat(43)}` })).status, 401);
  assert.equal((await p.http.request('GET', '/oauth/userinfo')).status, 401);
});

test('an OAuth client registered as a Secret applies at once: authorization code with openid, ID token verified with the JWKS', async () => {
  const discovery = (await p.http.request('GET', '/.well-known/openid-configuration')).json();
  assert.equal(discovery.issuer, p.platform.url);
  assert.equal(discovery.token_endpoint, `${p.platform.url}/oauth/token`);
  const token = await accessToken(p, 'admin', NEW_PASSWORD);
  const redirect = 'https://grafana.example.com/login/generic_oauth';
  const query = `client_id=grafana&response_type=code&scope=openid%20email&nonce=n-1&state=s-1&redirect_uri=${encodeURIComponent(redirect)}`;
  assert.equal((await p.http.request('GET', `/oauth/authorize?${query}`, { token })).json().error, 'invalid_client');

  await p.kube.create(types.secrets, {
    metadata: { name: 'oauthclient-grafana', namespace: 'kubesphere-system', labels: { 'config.kubesphere.io/type': 'oauthclient' } },
    type: 'config.kubesphere.io/oauthclient',
    stringData: { 'configuration.yaml': `name: grafana\nsecret: grafana-secret-0123456789\ngrantMethod: auto\nscopeRestrictions: [openid, email, profile]\nredirectURIs: ['${redirect}']\n` },
  } as never);
  let authorize = await p.http.request('GET', `/oauth/authorize?${query}`, { token });
  for (let i = 0; authorize.status !== 302 && i < 200; i++) {
    await new Promise((r) => setTimeout(r, 10));
    authorize = await p.http.request('GET', `/oauth/authorize?${query}`, { token });
  }
  assert.equal(authorize.status, 302, authorize.text);
  const back = new URL(authorize.headers.get('location')!);
  assert.equal(`${back.origin}${back.pathname}`, redirect);
  assert.equal(back.searchParams.get('state'), 's-1');
  const exchanged = await p.http.request('POST', '/oauth/token', {
    form: { grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: redirect, client_id: 'grafana', client_secret: 'grafana-secret-0123456789' },
  });
  assert.equal(exchanged.status, 200, exchanged.text);
  const jwks = createLocalJWKSet((await p.http.request('GET', '/oauth/keys')).json());
  const { payload } = await jwtVerify(exchanged.json().id_token, jwks, { issuer: p.platform.url, audience: 'grafana', currentDate: new Date(p.clock.now()) });
  assert.deepEqual([payload.sub, payload.nonce, payload.email], ['admin', 'n-1', 'admin@kubesphere.io']);
  // The password grant stays with trusted clients.
  const password = await p.http.request('POST', '/oauth/token', {
    form: { grant_type: 'password', client_id: 'grafana', client_secret: 'grafana-secret-0123456789', username: 'admin', password: NEW_PASSWORD },
  });
  assert.equal(password.json().error, 'unsupported_grant_type');
});

test('a restart keeps users, keys and the console client, and shows no password again', async () => {
  const secretBefore = readFileSync(join(p.dataDir, 'jwt-secret'), 'utf8');
  await p.restart();
  assert.equal(p.platform.initialAdminPassword, undefined);
  assert.equal(readFileSync(join(p.dataDir, 'jwt-secret'), 'utf8'), secretBefore);
  assert.equal((await signIn(p, 'admin', NEW_PASSWORD)).status, 200);
  assert.equal((await signIn(p, 'admin', initialPassword)).status, 400);
});

test('expired token registrations are pruned on a schedule (injected clock)', async () => {
  const store = p.platform.identity.tokenStore;
  await accessToken(p, 'admin', NEW_PASSWORD);
  const before = store.listUser('admin').filter((r) => r.tokenType !== 'static_token').length;
  assert.ok(before >= 2, 'access and refresh tokens are registered');
  // Past the refresh tokens' lifetime (2 h + 30 min) and a pruning round.
  p.clock.advance(3 * 3_600_000);
  assert.equal(store.listUser('admin').filter((r) => r.tokenType !== 'static_token').length, 0);
});
