/**
 * OIDC sign-in against a real OpenID provider (oidc-provider, started here): discovery, the
 * authorization code flow with state, nonce and PKCE S256 driven through the provider's login and
 * consent forms over HTTP, the code exchange with client_secret_basic, ID token verification
 * against the provider's JWKS, claims to identity (emailKey, preferredUsernameKey, getUserInfo),
 * and /oauth/callback with mappingMethod auto, lookup and manual.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  IdentityProviders,
  OidcError,
  OidcIdentityProvider,
  parseOidcOptions,
  type IdentityProviderConfig,
  type OAuthResponse,
} from '../src/auth/index.js';
import { CTX, ISSUER, harness, type Harness } from './auth-support.js';
import { signInAtProvider, startOpenIdProvider, type TestOpenIdProvider } from './support-oidc.js';

const REDIRECT = `${ISSUER}/oauth/redirect/oidc`;
let op: TestOpenIdProvider;

before(async () => {
  op = await startOpenIdProvider({
    redirectUri: REDIRECT,
    accounts: {
      oscar: { email: 'oscar@idp.example.com', name: 'Oscar Wilde', preferred_username: 'Oscar', login: 'owilde' },
      petra: { email: 'petra@idp.example.com', name: 'Petra Pan', preferred_username: 'petra' },
      quinn: { email: 'quinn@idp.example.com', name: 'Quinn Q', preferred_username: 'quinn@idp.example.com' },
    },
  });
});
after(async () => {
  await op?.stop();
});

function config(name: string, mappingMethod: string, provider: Record<string, unknown> = {}): IdentityProviderConfig {
  return {
    name,
    type: 'OIDCIdentityProvider',
    mappingMethod: mappingMethod as never,
    hidden: false,
    disabled: false,
    provider: {
      issuer: op.issuer,
      clientID: op.clientId,
      clientSecret: op.clientSecret,
      redirectURL: REDIRECT,
      scopes: ['openid', 'email', 'profile'],
      ...provider,
    },
  };
}

/** The console's part: start at /oauth/login/<idp>, go through the provider, come back to /oauth/callback/<idp>. */
async function signIn(h: Harness, idp: string, account: string): Promise<OAuthResponse> {
  const start = await h.oauth.beginExternalLogin(idp, { returnTo: '/workspaces' });
  assert.equal(start.status, 302, JSON.stringify(start.body));
  const authorize = new URL(start.headers.location);
  assert.equal(authorize.origin, op.issuer);
  for (const param of ['state', 'nonce', 'code_challenge']) assert.ok(authorize.searchParams.get(param), `${param} is sent`);
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  const back = await signInAtProvider(start.headers.location, account, REDIRECT);
  return h.oauth.callback(idp, Object.fromEntries(back.searchParams), CTX);
}

test('discovery reads the endpoints; a provider naming another issuer is refused', async () => {
  const provider = await OidcIdentityProvider.create('oidc', parseOidcOptions(config('oidc', 'auto').provider));
  assert.equal(provider.endpoints.tokenURL, `${op.issuer}/token`);
  assert.equal(provider.endpoints.jwksURL, `${op.issuer}/jwks`);
  assert.ok(provider.endpoints.authURL.startsWith(op.issuer));
  await assert.rejects(
    OidcIdentityProvider.create('oidc', parseOidcOptions(config('oidc', 'auto', { issuer: `${op.issuer}/` }).provider)),
    /issuer did not match/,
  );
  assert.throws(() => parseOidcOptions({ clientID: 'x', redirectURL: REDIRECT }), /either issuer or endpoint/);
});

test('mappingMethod auto: the first sign-in creates the user from the ID token claims', async () => {
  const h = await harness({ identityProviders: new IdentityProviders([config('oidc', 'auto')]) });
  const r = await signIn(h, 'oidc', 'oscar');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.deepEqual(Object.keys(r.body as object).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type']);
  assert.equal(r.meta?.returnTo, '/workspaces');
  const verified = await h.oauth.authenticateToken((r.body as { access_token: string }).access_token);
  assert.equal(verified.username, 'oscar');
  const user = h.users.get('oscar')!;
  assert.equal(user.metadata.annotations?.['iam.kubesphere.io/identity-provider.oidc'], 'oscar');
  assert.equal(user.spec.email, 'oscar@idp.example.com');
  assert.equal(user.spec.displayName, 'Oscar Wilde');
  const [record] = h.records.listForUser('oscar');
  assert.deepEqual([record.spec.type, record.spec.provider, record.spec.success], ['OAuth', 'oidc', true]);

  // The second time the linked user signs in; no second user appears.
  const again = await signIn(h, 'oidc', 'oscar');
  assert.equal(again.meta?.username, 'oscar');
  // An email is no user name: auto refuses it (manual lets the user choose).
  const quinn = await signIn(h, 'oidc', 'quinn');
  assert.equal(quinn.status, 401);
  assert.equal((quinn.body as { kind: string }).kind, 'Status');
  assert.match((quinn.body as { message: string }).message, /^Unauthorized: .*not a valid user name/);
});

test('a state is good once, and only for the provider that started it', async () => {
  const h = await harness({ identityProviders: new IdentityProviders([config('oidc', 'auto'), config('other', 'auto')]) });
  const start = await h.oauth.beginExternalLogin('oidc');
  const back = await signInAtProvider(start.headers.location, 'petra', REDIRECT);
  const params = Object.fromEntries(back.searchParams);
  const wrongIdp = await h.oauth.callback('other', params, CTX);
  assert.equal(wrongIdp.status, 401);
  // The state was spent by that attempt: the right provider cannot use it any more either.
  const replay = await h.oauth.callback('oidc', params, CTX);
  assert.equal(replay.status, 401);
  assert.deepEqual(
    { code: (replay.body as { code: number }).code, reason: (replay.body as { reason: string }).reason },
    { code: 401, reason: 'Unauthorized' },
  );
  const forged = await h.oauth.callback('oidc', { ...params, state: 'made-up' }, CTX);
  assert.equal(forged.status, 401);
  // A sign-in left at the provider for more than 10 minutes has expired.
  const slow = await h.oauth.beginExternalLogin('oidc');
  const slowBack = await signInAtProvider(slow.headers.location, 'petra', REDIRECT);
  h.clock.advance(10 * 60_000 + 1);
  assert.equal((await h.oauth.callback('oidc', Object.fromEntries(slowBack.searchParams), CTX)).status, 401);
  assert.equal(h.users.get('petra'), undefined);
});

test('ID tokens are checked: a wrong nonce, a changed token or another audience are refused', async () => {
  const provider = await OidcIdentityProvider.create('oidc', parseOidcOptions(config('oidc', 'auto').provider));
  const { url, pending } = provider.beginLogin();
  const back = await signInAtProvider(url, 'petra', REDIRECT);
  await assert.rejects(
    provider.completeLogin(Object.fromEntries(back.searchParams), { ...pending, nonce: 'another-nonce' }),
    /nonce does not match/,
  );

  // A real ID token of this provider, then altered.
  const { url: url2, pending: pending2 } = provider.beginLogin();
  const back2 = await signInAtProvider(url2, 'petra', REDIRECT);
  const identity = await provider.completeLogin(Object.fromEntries(back2.searchParams), pending2);
  assert.deepEqual(identity, { uid: 'petra', username: 'petra', email: 'petra@idp.example.com', displayName: 'Petra Pan' });

  const { url: url3, pending: pending3 } = provider.beginLogin();
  const back3 = await signInAtProvider(url3, 'petra', REDIRECT);
  // Exchange by hand to get at the raw ID token.
  const tokenRes = await fetch(provider.endpoints.tokenURL, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${op.clientId}:${op.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: back3.searchParams.get('code')!,
      redirect_uri: REDIRECT,
      code_verifier: pending3.codeVerifier,
    }),
  });
  const idToken = ((await tokenRes.json()) as { id_token: string }).id_token;
  assert.equal((await provider.verifyIdToken(idToken, pending3.nonce)).sub, 'petra');
  const [h64, p64, s64] = idToken.split('.');
  const payload = JSON.parse(Buffer.from(p64, 'base64url').toString());
  const altered = `${h64}.${Buffer.from(JSON.stringify({ ...payload, sub: 'oscar' })).toString('base64url')}.${s64}`;
  await assert.rejects(provider.verifyIdToken(altered, pending3.nonce), OidcError);
  const otherClient = await OidcIdentityProvider.create(
    'oidc',
    parseOidcOptions(config('oidc', 'auto', { clientID: 'someone-else' }).provider),
  );
  await assert.rejects(otherClient.verifyIdToken(idToken, pending3.nonce), /aud/);
  // A code is exchanged once: the provider refuses the second exchange.
  await assert.rejects(
    provider.completeLogin(Object.fromEntries(back2.searchParams), pending2),
    /failed to get token: invalid_grant/,
  );
});

test('preferredUsernameKey, emailKey and getUserInfo shape the identity', async () => {
  const provider = await OidcIdentityProvider.create(
    'oidc',
    parseOidcOptions(config('oidc', 'auto', { preferredUsernameKey: 'login', emailKey: 'email', getUserInfo: true }).provider),
  );
  const { url, pending } = provider.beginLogin();
  const back = await signInAtProvider(url, 'oscar', REDIRECT);
  assert.deepEqual(await provider.completeLogin(Object.fromEntries(back.searchParams), pending), {
    uid: 'oscar',
    username: 'owilde',
    email: 'oscar@idp.example.com',
    displayName: 'Oscar Wilde',
  });
});

test('mappingMethod lookup: an identity nobody linked is refused', async () => {
  const h = await harness({ identityProviders: new IdentityProviders([config('oidc', 'lookup')]) });
  const r = await signIn(h, 'oidc', 'petra');
  assert.equal(r.status, 401);
  assert.equal((r.body as { message: string }).message, 'Unauthorized: failed to find mapped user: petra');
  h.users.put({
    metadata: { name: 'petra-p', annotations: { 'iam.kubesphere.io/identity-provider.oidc': 'petra' } },
    spec: { email: 'p@example.com' },
    status: { state: 'Active' },
  });
  assert.equal((await signIn(h, 'oidc', 'petra')).meta?.username, 'petra-p');
});

test('mappingMethod manual: pre-registration, then the confirm step; the refresh grant follows the new user', async () => {
  const h = await harness({ identityProviders: new IdentityProviders([config('oidc', 'manual')]) });
  const r = await signIn(h, 'oidc', 'quinn');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const pre = r.body as { access_token: string; refresh_token: string };
  const verified = await h.oauth.authenticateToken(pre.access_token);
  assert.equal(verified.username, 'system:pre-registration');
  assert.deepEqual(verified.extra.uid, ['quinn']);
  assert.deepEqual(verified.extra.idp, ['oidc']);

  const confirmed = await h.oauth.confirmRegistration(
    pre.access_token,
    { username: 'quinn', email: 'quinn@corp.example.com' },
    CTX,
  );
  assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
  assert.equal(h.users.get('quinn')!.spec.email, 'quinn@corp.example.com');
  assert.equal((await h.oauth.authenticateToken((confirmed.body as { access_token: string }).access_token)).username, 'quinn');

  // A pre-registration refresh token is exchanged for the now linked user (KubeSphere's refresh path).
  const second = await signIn(h, 'oidc', 'petra');
  const petraPre = second.body as { refresh_token: string };
  h.users.put({
    metadata: { name: 'petra', annotations: { 'iam.kubesphere.io/identity-provider.oidc': 'petra' } },
    spec: { email: 'petra@idp.example.com' },
    status: { state: 'Active' },
  });
  const refreshed = await h.oauth.token(
    { grant_type: 'refresh_token', client_id: 'kubesphere', client_secret: 'kubesphere', refresh_token: petraPre.refresh_token },
    CTX,
  );
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
  assert.equal(refreshed.meta?.username, 'petra');
  assert.deepEqual(h.errors, []);
});
