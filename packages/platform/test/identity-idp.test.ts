/**
 * Sign-in through external identity providers on the running platform, over its HTTP routes, with
 * the providers configured as KubeSphere does (Secrets in kubesphere-system, applied without a
 * restart): LDAP against a real slapd (mappingMethod auto, lookup with an administrator linking the
 * user, manual with the confirm step), and OIDC against a real oidc-provider through
 * /oauth/login/<idp> and /oauth/callback/<idp>. External users become platform users with tokens
 * that work on the platform's APIs.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { stringify as stringifyYaml } from 'yaml';
import { types } from '@canopy/client';
import { platformTypes } from '../src/index.js';
import { USERS_API, initializeAdmin, jwtClaims, signIn, startPlatform, type HttpResult, type TestPlatform } from './identity-support.js';
import { signInAtProvider, startOpenIdProvider, type TestOpenIdProvider } from './support-oidc.js';
import { READER_DN, READER_PASSWORD, startSlapd, type Slapd } from './support-slapd.js';

let p: TestPlatform;
let admin: string;
let slapd: Slapd;
let op: TestOpenIdProvider;

before(async () => {
  [p, slapd] = await Promise.all([
    startPlatform(),
    startSlapd([
      { uid: 'alice', password: 'Al1ce-in-LDAP', cn: 'Alice Liddell', mail: 'alice@ldap.canopy.test', displayName: 'Alice Liddell' },
      { uid: 'bob', password: 'B0b-in-LDAP', cn: 'Bob Builder', mail: 'bob@ldap.canopy.test' },
      { uid: 'dave', password: 'D4ve-in-LDAP', cn: 'Dave Smith', mail: 'dave@ldap.canopy.test' },
    ]),
  ]);
  admin = await initializeAdmin(p);
  // The provider redirects back to this platform's callback route.
  op = await startOpenIdProvider({
    redirectUri: `${p.platform.url}/oauth/callback/oidc`,
    accounts: { oscar: { email: 'oscar@idp.example.com', name: 'Oscar Wilde', preferred_username: 'oscar' } },
  });
});
after(async () => {
  await p?.close();
  await slapd?.stop();
  await op?.stop();
});

/** Creates or replaces the identity provider Secret, as an administrator would with kubectl. */
async function configureProvider(name: string, type: string, mappingMethod: string, provider: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const secret = {
    metadata: { name: `identityprovider-${name}`, namespace: 'kubesphere-system', labels: { 'config.kubesphere.io/type': 'identityprovider' } },
    type: 'config.kubesphere.io/identityprovider',
    stringData: { 'configuration.yaml': stringifyYaml({ name, type, mappingMethod, provider, ...extra }) },
  };
  const existing = await p.kube.tryGet(types.secrets, secret.metadata.name, 'kubesphere-system');
  if (existing) await p.kube.update(types.secrets, { ...secret, metadata: { ...secret.metadata, resourceVersion: existing.metadata.resourceVersion } } as never);
  else await p.kube.create(types.secrets, secret as never);
}

function ldapOptions(): Record<string, unknown> {
  return {
    host: `127.0.0.1:${slapd.ldapPort}`,
    managerDN: READER_DN,
    managerPassword: READER_PASSWORD,
    userSearchBase: 'dc=canopy,dc=test',
    userSearchFilter: '(objectClass=inetOrgPerson)',
    loginAttribute: 'uid',
    mailAttribute: 'mail',
  };
}

/** Repeats a request until the answer stops saying the provider is unknown (the Secret reaches the platform through its informer). */
async function untilProviderKnown(request: () => Promise<HttpResult>): Promise<HttpResult> {
  let r = await request();
  for (let i = 0; i < 200 && /does not exist|not exist|not found/.test(r.text) && !/Authenticated user does not exist/.test(r.text); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    r = await request();
  }
  return r;
}

test('LDAP, mappingMethod auto: the directory user signs in through /oauth/token and becomes a platform user', async () => {
  await configureProvider('ldap', 'LDAPIdentityProvider', 'auto', ldapOptions());
  const r = await untilProviderKnown(() => signIn(p, 'alice', 'Al1ce-in-LDAP', { provider: 'ldap' }));
  assert.equal(r.status, 200, r.text);
  const token = r.json().access_token;
  assert.equal(jwtClaims(token).sub, 'alice');
  const me = await p.http.request('GET', `${USERS_API}/alice`, { token });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json().metadata.annotations['iam.kubesphere.io/identity-provider.ldap'], 'alice');
  assert.equal(me.json().spec.email, 'alice@ldap.canopy.test');
  assert.equal(me.json().spec.displayName, 'Alice Liddell');
  const [record] = (await p.http.request('GET', `${USERS_API}/alice/loginrecords`, { token: admin })).json().items;
  assert.deepEqual([record.spec.provider, record.spec.type, record.spec.success, record.spec.userAgent], ['ldap', 'Token', true, 'identity-test/1.0']);
  const wrong = await signIn(p, 'alice', 'not-her-password', { provider: 'ldap' });
  assert.deepEqual([wrong.status, wrong.json().error_description], [400, 'Invalid username or password.']);
  // The directory account gives no local password: the platform's own sign-in refuses it.
  assert.equal((await signIn(p, 'alice', 'Al1ce-in-LDAP')).status, 400);
});

test('LDAP, mappingMethod lookup: refused until an administrator links a user to the identity', async () => {
  await configureProvider('corp', 'LDAPIdentityProvider', 'lookup', ldapOptions());
  const refused = await untilProviderKnown(() => signIn(p, 'bob', 'B0b-in-LDAP', { provider: 'corp' }));
  assert.deepEqual([refused.status, refused.json()], [400, { error: 'invalid_grant', error_description: 'Authenticated user does not exist.' }]);
  const linked = await p.http.request('POST', USERS_API, {
    token: admin,
    body: { metadata: { name: 'robert', annotations: { 'iam.kubesphere.io/identity-provider.corp': 'bob' } }, spec: { email: 'robert@example.com' } },
  });
  assert.equal(linked.status, 200, linked.text);
  const r = await signIn(p, 'bob', 'B0b-in-LDAP', { provider: 'corp' });
  assert.equal(r.status, 200, r.text);
  assert.equal(jwtClaims(r.json().access_token).sub, 'robert');
});

test('LDAP, mappingMethod manual: the new identity confirms a user name at /oauth/confirm, then signs in as that user', async () => {
  await configureProvider('manual', 'LDAPIdentityProvider', 'manual', ldapOptions());
  const r = await untilProviderKnown(() => signIn(p, 'dave', 'D4ve-in-LDAP', { provider: 'manual' }));
  assert.equal(r.status, 200, r.text);
  const pending = r.json().access_token;
  assert.equal(jwtClaims(pending).sub, 'system:pre-registration');
  // Waiting to confirm is no access to anything else.
  assert.equal((await p.http.request('GET', '/api/v1/namespaces', { token: pending })).status, 403);
  const taken = await p.http.request('POST', '/oauth/confirm', { token: pending, body: { username: 'alice' } });
  assert.equal(taken.status, 409);
  const confirmed = await p.http.request('POST', '/oauth/confirm', { token: pending, body: { username: 'dave-smith' } });
  assert.equal(confirmed.status, 200, confirmed.text);
  const token = confirmed.json().access_token;
  assert.equal(jwtClaims(token).sub, 'dave-smith');
  assert.equal((await p.http.request('GET', `${USERS_API}/dave-smith`, { token })).json().metadata.annotations['iam.kubesphere.io/identity-provider.manual'], 'dave');
  // Next time the linked user signs in directly.
  const again = await signIn(p, 'dave', 'D4ve-in-LDAP', { provider: 'manual' });
  assert.equal(jwtClaims(again.json().access_token).sub, 'dave-smith');
  // KubeSphere's console confirms differently: POST /users as the pre-registration user, then the refresh grant continues as the new user.
  const bob = await signIn(p, 'bob', 'B0b-in-LDAP', { provider: 'manual' });
  assert.equal(jwtClaims(bob.json().access_token).sub, 'system:pre-registration');
  const created = await p.http.request('POST', USERS_API, {
    token: bob.json().access_token,
    body: { metadata: { name: 'bobby', annotations: { 'iam.kubesphere.io/globalrole': 'platform-admin' } }, spec: { email: 'bobby@example.com', password: 'Sneaky-Pass-1' } },
  });
  assert.equal(created.status, 200, created.text);
  const bobby = await p.kube.get<any>(platformTypes.users, 'bobby');
  assert.deepEqual([bobby.metadata.annotations['iam.kubesphere.io/identity-provider.manual'], bobby.spec.password], ['bob', undefined], 'linked, without the password or role it asked for');
  const refreshed = await p.http.request('POST', '/oauth/token', {
    form: { grant_type: 'refresh_token', client_id: 'kubesphere', client_secret: p.consoleSecret, refresh_token: bob.json().refresh_token },
  });
  assert.equal(refreshed.status, 200, refreshed.text);
  assert.equal(jwtClaims(refreshed.json().access_token).sub, 'bobby');
  assert.equal((await p.http.request('GET', `${USERS_API}?globalrole=platform-admin`, { token: admin })).json().items.some((u: any) => u.metadata.name === 'bobby'), false);
});

test('OIDC: /oauth/login/<idp> → the provider → /oauth/callback/<idp> answers a token of a new platform user', async () => {
  await configureProvider('oidc', 'OIDCIdentityProvider', 'auto', {
    issuer: op.issuer,
    clientID: op.clientId,
    clientSecret: op.clientSecret,
    redirectURL: op.redirectUri,
    scopes: ['openid', 'email', 'profile'],
  });
  const start = await untilProviderKnown(() => p.http.request('GET', '/oauth/login/oidc?referer=/workspaces'));
  assert.equal(start.status, 302, start.text);
  const location = start.headers.get('location')!;
  assert.ok(location.startsWith(op.issuer), location);
  const back = await signInAtProvider(location, 'oscar', op.redirectUri);
  const callback = await p.http.request('GET', `${back.pathname}${back.search}`);
  assert.equal(callback.status, 200, callback.text);
  assert.equal(callback.headers.get('cache-control'), 'no-store');
  const token = callback.json().access_token;
  const me = await p.http.request('GET', `${USERS_API}/oscar`, { token });
  assert.equal(me.status, 200, me.text);
  assert.deepEqual([me.json().spec.email, me.json().spec.displayName], ['oscar@idp.example.com', 'Oscar Wilde']);
  const records = (await p.http.request('GET', `${USERS_API}/oscar/loginrecords`, { token: admin })).json().items;
  assert.deepEqual(records.map((r: any) => [r.spec.type, r.spec.provider, r.spec.success]), [['OAuth', 'oidc', true]]);
  // A replayed callback is refused in KubeSphere's shape.
  const replay = await p.http.request('GET', `${back.pathname}${back.search}`);
  assert.deepEqual([replay.status, replay.json().kind, replay.json().reason], [401, 'Status', 'Unauthorized']);
});

test('a provider disabled in its Secret is refused at once, without a restart', async () => {
  await configureProvider('ldap', 'LDAPIdentityProvider', 'auto', ldapOptions(), { disabled: true });
  let r = await signIn(p, 'alice', 'Al1ce-in-LDAP', { provider: 'ldap' });
  for (let i = 0; i < 200 && r.status === 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    r = await signIn(p, 'alice', 'Al1ce-in-LDAP', { provider: 'ldap' });
  }
  assert.deepEqual([r.status, r.json()], [400, { error: 'invalid_request', error_description: 'The identity provider "ldap" does not exist.' }]);
  assert.ok(await p.kube.get(platformTypes.users, 'alice'), 'its users stay');
});
