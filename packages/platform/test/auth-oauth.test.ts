/**
 * The OAuth2 / OIDC protocol of /oauth/* as the platform server calls it: KubeSphere's token
 * responses and error bodies (statuses and wording), the password, refresh_token and
 * authorization_code (with PKCE) grants, lockout over real bcrypt with an injected clock, OAuth
 * clients from KubeSphere's chart Secret, discovery checked against the KubeSphere 4.1 API reference,
 * userinfo, logout and ID tokens verified by jose against the published JWKS.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import {
  DEFAULT_OAUTH_CLIENT,
  TokenError,
  buildFirstStartAdmin,
  buildOAuthClientSecret,
  checkPasswordPolicy,
  hashPassword,
  parseOAuthClientSecret,
  withChangedPassword,
  validateOAuthClient,
  type OAuthResponse,
} from '../src/auth/index.js';
import {
  CTX,
  DENIED,
  ISSUER,
  PASSWORDS,
  THIRD_PARTY,
  chartOAuthClientSecret,
  harness,
  passwordForm,
  readReference,
} from './auth-support.js';

const spec = JSON.parse(readReference('kubesphere-v4.1-api.json')) as {
  definitions: Record<string, { required?: string[]; properties: Record<string, unknown> }>;
};

function assertNoStore(r: OAuthResponse) {
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.equal(r.headers.pragma, 'no-cache');
}

function location(r: OAuthResponse): URL {
  assert.equal(r.status, 302, JSON.stringify(r.body));
  return new URL(r.headers.location);
}

test("KubeSphere's chart OAuth client Secret parses to the default client, and clients round-trip through Secrets", () => {
  const client = parseOAuthClientSecret(chartOAuthClientSecret());
  assert.deepEqual(client, DEFAULT_OAUTH_CLIENT);
  assert.deepEqual(validateOAuthClient(client), []);
  const secret = buildOAuthClientSecret(THIRD_PARTY);
  assert.equal(secret.type, 'config.kubesphere.io/oauthclient');
  assert.equal(secret.metadata.namespace, 'kubesphere-system');
  assert.equal(secret.metadata.labels?.['config.kubesphere.io/type'], 'oauthclient');
  assert.deepEqual(parseOAuthClientSecret(secret), THIRD_PARTY);
  assert.deepEqual(validateOAuthClient({ ...THIRD_PARTY, grantMethod: 'sometimes', accessTokenMaxAgeSeconds: 60 }), [
    'invalid grant method: sometimes',
    'invalid access token max age: 60, the minimum value can only be 600',
  ]);
  assert.throws(() => parseOAuthClientSecret({ ...secret, type: 'Opaque' }), /not config.kubesphere.io\/oauthclient/);
});

test('password grant: oauth.Token body, no-store headers, a LoginRecord and lastLoginTime', async () => {
  const h = await harness();
  const r = await h.oauth.token(passwordForm('alice', PASSWORDS.alice), CTX);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assertNoStore(r);
  const body = r.body as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type']);
  const tokenDef = spec.definitions['oauth.Token'];
  for (const field of tokenDef.required ?? []) assert.ok(field in body, `oauth.Token requires ${field}`);
  for (const field of Object.keys(body)) assert.ok(field in tokenDef.properties, `${field} is an oauth.Token field`);
  assert.equal(body.token_type, 'Bearer');
  assert.equal(body.expires_in, 7200);

  const verified = await h.oauth.authenticateToken(body.access_token as string);
  assert.equal(verified.username, 'alice');
  assert.deepEqual(verified.extra, {});

  const [record] = h.records.listForUser('alice');
  assert.deepEqual(record.spec, {
    type: 'Token',
    provider: '',
    sourceIP: CTX.sourceIP,
    userAgent: CTX.userAgent,
    success: true,
    reason: 'authenticated successfully',
  });
  assert.equal(h.users.get('alice')!.status?.lastLoginTime, new Date(h.clock.now()).toISOString());
});

test('the first-start admin gets the uninitialized flag in its token, and users may sign in with their email', async () => {
  const h = await harness();
  const admin = await h.oauth.token(passwordForm('admin', PASSWORDS.admin), CTX);
  assert.equal(admin.status, 200);
  const verified = await h.oauth.authenticateToken((admin.body as { access_token: string }).access_token);
  assert.deepEqual(verified.extra, { uninitialized: ['true'] });
  const byEmail = await h.oauth.token(passwordForm('alice@example.com', PASSWORDS.alice), CTX);
  assert.equal(byEmail.status, 200);
  assert.equal(byEmail.meta?.username, 'alice');
});

test('wrong password, unknown user and missing fields: 400 invalid_grant "Invalid username or password."', async () => {
  const h = await harness();
  const expected = { error: 'invalid_grant', error_description: 'Invalid username or password.' };
  for (const form of [
    passwordForm('alice', 'Wr0ngPassword'),
    passwordForm('nobody', 'Wr0ngPassword'),
    passwordForm('alice', ''),
    passwordForm('', PASSWORDS.alice),
  ]) {
    const r = await h.oauth.token(form, CTX);
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, expected);
    assertNoStore(r);
  }
  const records = h.records.listForUser('alice');
  assert.equal(records.length, 1, 'only the attempt with a password against an existing user is recorded');
  assert.equal(records[0].spec.success, false);
  assert.equal(records[0].spec.reason, 'incorrect password');
});

test('a disabled user: 400 invalid_grant "Account suspended."', async () => {
  const h = await harness();
  const r = await h.oauth.token(passwordForm('carol', PASSWORDS.carol), CTX);
  assert.equal(r.status, 400);
  assert.deepEqual(r.body, { error: 'invalid_grant', error_description: 'Account suspended.' });
});

test('10 wrong passwords lock the user (429 "Rate limit exceeded."), lifted after 10 minutes', async () => {
  const h = await harness();
  for (let i = 0; i < 10; i++) {
    h.clock.advance(20_000);
    const r = await h.oauth.token(passwordForm('alice', `Wr0ngPassword${i}`), CTX);
    assert.equal(r.status, 400, `attempt ${i + 1}`);
  }
  const user = h.users.get('alice')!;
  assert.equal(user.status?.state, 'AuthLimitExceeded');
  assert.equal(user.status?.reason, 'Failed login attempts exceed 10 in last 10m0s');

  // Locked: even the right password is refused, and nothing is recorded for it.
  h.clock.advance(60_000);
  const locked = await h.oauth.token(passwordForm('alice', PASSWORDS.alice), CTX);
  assert.equal(locked.status, 429);
  assert.deepEqual(locked.body, { error: 'invalid_grant', error_description: 'Rate limit exceeded.' });
  assertNoStore(locked);
  assert.equal(h.records.listForUser('alice').length, 10);

  h.clock.advance(9 * 60_000);
  assert.equal((await h.oauth.token(passwordForm('alice', PASSWORDS.alice), CTX)).status, 429, 'still inside the window');
  h.clock.advance(60_001);
  const after = await h.oauth.token(passwordForm('alice', PASSWORDS.alice), CTX);
  assert.equal(after.status, 200, JSON.stringify(after.body));
  assert.equal(h.users.get('alice')!.status?.state, 'Active');
  // The failures before the unlock do not count again: one more failure does not re-lock.
  assert.equal((await h.oauth.token(passwordForm('alice', 'Wr0ngAgain1'), CTX)).status, 400);
  assert.equal(h.users.get('alice')!.status?.state, 'Active');
});

test('client errors: unknown client, wrong secret, untrusted client, unsupported grant, repeated parameter', async () => {
  const h = await harness();
  const cases: [Record<string, string | string[]>, number, object][] = [
    [
      { ...passwordForm('alice', PASSWORDS.alice), client_id: 'nope' },
      400,
      { error: 'invalid_client', error_description: 'The provided client_id is invalid or does not exist.' },
    ],
    [
      { ...passwordForm('alice', PASSWORDS.alice), client_secret: 'wrong' },
      401,
      { error: 'unauthorized_client', error_description: 'Invalid client credential.' },
    ],
    [
      { ...passwordForm('alice', PASSWORDS.alice), client_id: THIRD_PARTY.name, client_secret: THIRD_PARTY.secret },
      400,
      { error: 'unsupported_grant_type', error_description: 'The provided grant_type is not supported.' },
    ],
    [
      { ...passwordForm('alice', PASSWORDS.alice), grant_type: 'client_credentials' },
      400,
      { error: 'unsupported_grant_type', error_description: 'The provided grant_type is not supported.' },
    ],
    [
      { ...passwordForm('alice', PASSWORDS.alice), username: ['alice', 'admin'] },
      400,
      { error: 'invalid_request', error_description: 'The request repeats the parameter username.' },
    ],
  ];
  for (const [form, status, body] of cases) {
    const r = await h.oauth.token(form, CTX);
    assert.equal(r.status, status, JSON.stringify(form));
    assert.deepEqual(r.body, body);
    assertNoStore(r);
  }
  // client_secret_basic works as well as client_secret_post.
  const basic = `Basic ${Buffer.from('kubesphere:kubesphere').toString('base64')}`;
  const r = await h.oauth.token(new URLSearchParams({ grant_type: 'password', username: 'alice', password: PASSWORDS.alice }), {
    ...CTX,
    authorization: basic,
  });
  assert.equal(r.status, 200);
});

test('refresh_token grant: new tokens, the used refresh token is spent, bound to its client', async () => {
  const h = await harness();
  const first = (await h.oauth.token(passwordForm('alice', PASSWORDS.alice), CTX)).body as Record<string, string>;
  h.clock.advance(60_000);
  const refreshed = await h.oauth.token(
    { grant_type: 'refresh_token', client_id: 'kubesphere', client_secret: 'kubesphere', refresh_token: first.refresh_token },
    CTX,
  );
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
  assertNoStore(refreshed);
  const second = refreshed.body as Record<string, string>;
  assert.notEqual(second.access_token, first.access_token);
  assert.equal((await h.oauth.authenticateToken(second.access_token)).username, 'alice');

  const invalid = { error: 'invalid_grant', error_description: 'The refresh token is invalid or expired.' };
  const again = await h.oauth.token(
    { grant_type: 'refresh_token', client_id: 'kubesphere', client_secret: 'kubesphere', refresh_token: first.refresh_token },
    CTX,
  );
  assert.equal(again.status, 400);
  assert.deepEqual(again.body, invalid);
  const withAccess = await h.oauth.token(
    { grant_type: 'refresh_token', client_id: 'kubesphere', client_secret: 'kubesphere', refresh_token: second.access_token },
    CTX,
  );
  assert.deepEqual(withAccess.body, invalid);
  const otherClient = await h.oauth.token(
    {
      grant_type: 'refresh_token',
      client_id: THIRD_PARTY.name,
      client_secret: THIRD_PARTY.secret,
      refresh_token: second.refresh_token,
    },
    CTX,
  );
  assert.deepEqual(otherClient.body, invalid);
  // After 2h30m the refresh token has expired.
  h.clock.advance(2.5 * 3_600_000 + 1000);
  const expired = await h.oauth.token(
    { grant_type: 'refresh_token', client_id: 'kubesphere', client_secret: 'kubesphere', refresh_token: second.refresh_token },
    CTX,
  );
  assert.deepEqual(expired.body, invalid);
});

test('multipleLogin off: signing in again revokes the older session', async () => {
  const h = await harness({ multipleLogin: false });
  const first = (await h.oauth.token(passwordForm('alice', PASSWORDS.alice), CTX)).body as Record<string, string>;
  await h.oauth.authenticateToken(first.access_token);
  const second = (await h.oauth.token(passwordForm('alice', PASSWORDS.alice), CTX)).body as Record<string, string>;
  await assert.rejects(
    h.oauth.authenticateToken(first.access_token),
    (e: unknown) => e instanceof TokenError && e.reason === 'revoked',
  );
  assert.equal((await h.oauth.authenticateToken(second.access_token)).username, 'alice');
});

function pkce() {
  const verifier = 'v'.repeat(20) + Math.random().toString(36).slice(2).padEnd(30, 'x');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

test('authorization code flow with PKCE S256 and an ID token verified against /oauth/keys', async () => {
  const h = await harness();
  const redirectUri = THIRD_PARTY.redirectURIs[0];
  const { verifier, challenge } = pkce();
  const authorizeParams = {
    response_type: 'code',
    client_id: THIRD_PARTY.name,
    redirect_uri: redirectUri,
    scope: 'openid email profile',
    state: 'st-123',
    nonce: 'nonce-456',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  };

  // Without a session the browser goes to the console's sign-in page, to come back afterwards.
  const requestURL = `${ISSUER}/oauth/authorize?${new URLSearchParams(authorizeParams)}`;
  const toLogin = location(await h.oauth.authorize(authorizeParams, { requestURL }));
  assert.equal(`${toLogin.origin}${toLogin.pathname}`, `${ISSUER}/login`);
  assert.equal(toLogin.searchParams.get('referer'), requestURL);
  const none = location(await h.oauth.authorize({ ...authorizeParams, prompt: 'none' }, {}));
  assert.equal(none.searchParams.get('error'), 'login_required');
  assert.equal(none.searchParams.get('state'), 'st-123');

  const back = location(await h.oauth.authorize(authorizeParams, { username: 'alice' }));
  assert.equal(`${back.origin}${back.pathname}`, redirectUri);
  assert.equal(back.searchParams.get('state'), 'st-123');
  const code = back.searchParams.get('code')!;
  assert.ok(code);

  const exchange = (extra: Record<string, string>) =>
    h.oauth.token(
      {
        grant_type: 'authorization_code',
        client_id: THIRD_PARTY.name,
        client_secret: THIRD_PARTY.secret,
        code,
        redirect_uri: redirectUri,
        ...extra,
      },
      CTX,
    );
  const wrongVerifier = await exchange({ code_verifier: pkce().verifier });
  assert.equal(wrongVerifier.status, 400);
  assert.deepEqual(wrongVerifier.body, {
    error: 'invalid_grant',
    error_description: 'The code_verifier does not match the code_challenge.',
  });
  const noVerifier = await exchange({});
  assert.equal(noVerifier.status, 400);
  assert.equal((noVerifier.body as { error: string }).error, 'invalid_grant');

  const r = await exchange({ code_verifier: verifier });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assertNoStore(r);
  const body = r.body as Record<string, string>;
  assert.equal((await h.oauth.authenticateToken(body.access_token)).username, 'alice');

  const jwks = h.oauth.keys().body as { keys: object[] };
  const { payload } = await jwtVerify(body.id_token, createLocalJWKSet(jwks as never), {
    issuer: ISSUER,
    audience: THIRD_PARTY.name,
    currentDate: new Date(h.clock.now()),
  });
  assert.equal(payload.sub, 'alice');
  assert.equal(payload.nonce, 'nonce-456');
  assert.equal(payload.email, 'alice@example.com');
  assert.equal(payload.preferred_username, 'alice');
  assert.equal(payload.exp! - payload.iat!, 7200 + 1800);

  // A code is good once; using it again also revokes what it produced.
  const reused = await exchange({ code_verifier: verifier });
  assert.equal(reused.status, 400);
  assert.deepEqual(reused.body, { error: 'invalid_grant', error_description: 'The authorization code is invalid or expired.' });
  await assert.rejects(
    h.oauth.authenticateToken(body.access_token),
    (e: unknown) => e instanceof TokenError && e.reason === 'revoked',
  );
});

test('authorization code: expiry after 10 minutes, other clients, redirect URI checks', async () => {
  const h = await harness();
  const redirectUri = THIRD_PARTY.redirectURIs[0];
  const codeFor = async () =>
    location(
      await h.oauth.authorize(
        { response_type: 'code', client_id: THIRD_PARTY.name, redirect_uri: redirectUri, scope: 'openid' },
        { username: 'alice' },
      ),
    ).searchParams.get('code')!;
  const form = (code: string, extra: Record<string, string> = {}) => ({
    grant_type: 'authorization_code',
    client_id: THIRD_PARTY.name,
    client_secret: THIRD_PARTY.secret,
    code,
    redirect_uri: redirectUri,
    ...extra,
  });
  const invalidCode = { error: 'invalid_grant', error_description: 'The authorization code is invalid or expired.' };

  const stale = await codeFor();
  h.clock.advance(10 * 60_000);
  assert.deepEqual((await h.oauth.token(form(stale), CTX)).body, invalidCode);

  const code = await codeFor();
  assert.deepEqual((await h.oauth.token(form(code, { redirect_uri: 'https://evil.example.com/cb' }), CTX)).body, {
    error: 'invalid_request',
    error_description: 'Redirect URI is not allowed.',
  });
  assert.deepEqual((await h.oauth.token(form(''), CTX)).body, {
    error: 'invalid_request',
    error_description: 'The authorization code is empty or missing.',
  });
  // The default client has no redirect URIs, so it cannot redeem any code (let alone another client's).
  const other = await h.oauth.token(
    { grant_type: 'authorization_code', client_id: 'kubesphere', client_secret: 'kubesphere', code },
    CTX,
  );
  assert.equal(other.status, 400);
  assert.equal((await h.oauth.token(form(code), CTX)).status, 200);
});

test('authorize errors go back to the client with state; unknown clients and redirect URIs get a JSON 400', async () => {
  const h = await harness();
  const base = { response_type: 'code', client_id: THIRD_PARTY.name, redirect_uri: THIRD_PARTY.redirectURIs[0], state: 'xyz' };
  const err = async (params: Record<string, string>, client = base) => {
    const url = location(await h.oauth.authorize({ ...client, ...params }, { username: 'alice' }));
    assert.equal(url.searchParams.get('state'), 'xyz');
    return [url.searchParams.get('error'), url.searchParams.get('error_description')];
  };
  assert.deepEqual(await err({ scope: 'openid admin' }), ['invalid_scope', 'The requested scope is invalid or not supported.']);
  assert.deepEqual(await err({ response_type: 'token' }), [
    'unsupported_response_type',
    'The provided response_type token is not supported by the authorization server.',
  ]);
  assert.deepEqual(await err({ code_challenge: 'short', code_challenge_method: 'S256' }), [
    'invalid_request',
    'The code_challenge is malformed.',
  ]);
  assert.deepEqual(await err({}, { ...base, client_id: DENIED.name }), [
    'invalid_grant',
    'The resource owner or authorization server denied the request.',
  ]);

  const unknown = await h.oauth.authorize({ ...base, client_id: 'nope' }, { username: 'alice' });
  assert.equal(unknown.status, 400);
  assert.deepEqual(unknown.body, {
    error: 'invalid_client',
    error_description: 'The provided client_id is invalid or does not exist.',
  });
  const badRedirect = await h.oauth.authorize({ ...base, redirect_uri: 'https://evil.example.com/' }, { username: 'alice' });
  assert.equal(badRedirect.status, 400);
  assert.deepEqual(badRedirect.body, { error: 'invalid_request', error_description: 'Redirect URI is not allowed.' });

  // response_type=id_token returns the ID token in the fragment.
  const implicit = location(
    await h.oauth.authorize({ ...base, response_type: 'id_token', scope: 'openid', nonce: 'n1' }, { username: 'alice' }),
  );
  const fragment = new URLSearchParams(implicit.hash.slice(1));
  const { payload } = await jwtVerify(fragment.get('id_token')!, createLocalJWKSet(h.keys.jwks() as never), {
    issuer: ISSUER,
    audience: THIRD_PARTY.name,
    currentDate: new Date(h.clock.now()),
  });
  assert.equal(payload.nonce, 'n1');
  assert.equal(fragment.get('state'), 'xyz');
});

test('discovery has every field of the reference ProviderMetadata; the JWKS serves the signing key', async () => {
  const h = await harness();
  const r = h.oauth.discovery();
  assert.equal(r.status, 200);
  const doc = r.body as Record<string, unknown>;
  for (const field of spec.definitions['oauth.ProviderMetadata'].required ?? [])
    assert.ok(field in doc, `discovery lacks ${field}`);
  assert.equal(doc.issuer, ISSUER);
  assert.equal(doc.token_endpoint, `${ISSUER}/oauth/token`);
  assert.equal(doc.authorization_endpoint, `${ISSUER}/oauth/authorize`);
  assert.equal(doc.jwks_uri, `${ISSUER}/oauth/keys`);
  assert.equal(doc.userinfo_endpoint, `${ISSUER}/oauth/userinfo`);
  assert.deepEqual(doc.id_token_signing_alg_values_supported, ['RS256']);
  const jwks = h.oauth.keys().body as { keys: { kid: string; kty: string }[] };
  assert.equal(jwks.keys[0].kid, h.keys.kid);
  assert.equal(jwks.keys[0].kty, 'RSA');
});

test('userinfo describes the signed-in user; anonymous callers get 401 login_required', async () => {
  const h = await harness();
  const r = await h.oauth.userinfo({ username: 'alice' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, {
    sub: 'alice',
    name: 'alice',
    preferred_username: 'alice',
    email: 'alice@example.com',
    locale: 'en',
  });
  const anonymous = await h.oauth.userinfo({});
  assert.equal(anonymous.status, 401);
  assert.deepEqual(anonymous.body, { error: 'login_required', error_description: 'Not authenticated.' });
});

test('logout ends the session (access and refresh token) and redirects only where allowed', async () => {
  const h = await harness();
  const tokens = (await h.oauth.token(passwordForm('alice', PASSWORDS.alice), CTX)).body as Record<string, string>;
  const out = await h.oauth.logout({}, { authorization: `Bearer ${tokens.access_token}` });
  assert.equal(out.status, 200);
  assert.deepEqual(out.body, { message: 'success' });
  await assert.rejects(
    h.oauth.authenticateToken(tokens.access_token),
    (e: unknown) => e instanceof TokenError && e.reason === 'revoked',
  );
  const refresh = await h.oauth.token(
    { grant_type: 'refresh_token', client_id: 'kubesphere', client_secret: 'kubesphere', refresh_token: tokens.refresh_token },
    CTX,
  );
  assert.equal(refresh.status, 400);

  const home = location(await h.oauth.logout({ post_logout_redirect_uri: `${ISSUER}/login`, state: 's1' }, {}));
  assert.equal(home.searchParams.get('state'), 's1');
  const evil = await h.oauth.logout({ post_logout_redirect_uri: 'https://evil.example.com/' }, {});
  assert.equal(evil.status, 400);
});

test('token review (deprecated /oauth/authenticate) answers for valid tokens only', async () => {
  const h = await harness();
  const tokens = (await h.oauth.token(passwordForm('alice', PASSWORDS.alice), CTX)).body as Record<string, string>;
  const ok = await h.oauth.tokenReview({
    apiVersion: 'authentication.k8s.io/v1beta1',
    kind: 'TokenReview',
    spec: { token: tokens.access_token },
  });
  assert.equal(ok.status, 200);
  assert.deepEqual((ok.body as { status: unknown }).status, {
    authenticated: true,
    user: { username: 'alice', uid: h.users.get('alice')!.metadata.uid },
  });
  const bad = await h.oauth.tokenReview({ spec: { token: 'garbage' } });
  assert.equal(bad.status, 400);
  assert.equal((bad.body as { kind: string; reason: string }).reason, 'BadRequest');
  assert.deepEqual(h.errors, []);
});

test('the gateway authenticates Authorization headers: Bearer tokens and Basic credentials', async () => {
  const h = await harness();
  const tokens = (await h.oauth.token(passwordForm('alice', PASSWORDS.alice), CTX)).body as Record<string, string>;
  const uid = h.users.get('alice')!.metadata.uid;
  assert.deepEqual(await h.oauth.authenticateHeaders({ authorization: `Bearer ${tokens.access_token}` }, CTX), {
    name: 'alice',
    uid,
    groups: ['system:authenticated'],
    extra: {},
  });
  assert.equal(await h.oauth.authenticateHeaders({}, CTX), undefined);
  assert.equal(await h.oauth.authenticateHeaders({ authorization: `Bearer ${tokens.refresh_token}` }, CTX), 'invalid');
  assert.equal(await h.oauth.authenticateHeaders({ authorization: 'Bearer not-a-token' }, CTX), 'invalid');
  assert.equal(await h.oauth.authenticateHeaders({ authorization: 'Negotiate abc' }, CTX), 'invalid');

  const basic = (user: string, password: string) => ({
    authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
  });
  const recordsBefore = h.records.listForUser('alice').length;
  assert.deepEqual(await h.oauth.authenticateHeaders(basic('alice', PASSWORDS.alice), CTX), {
    name: 'alice',
    uid,
    groups: ['system:authenticated'],
    extra: {},
  });
  assert.equal(h.records.listForUser('alice').length, recordsBefore, 'a Basic success on every request leaves no record');
  assert.equal(await h.oauth.authenticateHeaders(basic('alice', 'Wr0ngPassword'), CTX), 'invalid');
  const failures = h.records.listForUser('alice').filter((r) => !r.spec.success);
  assert.equal(failures.length, 1);
  assert.equal(failures[0].spec.type, 'Basic');
  assert.equal(await h.oauth.authenticateHeaders(basic('carol', PASSWORDS.carol), CTX), 'invalid');
  // The first-start admin's token says a password change is due.
  const admin = (await h.oauth.token(passwordForm('admin', PASSWORDS.admin), CTX)).body as Record<string, string>;
  const adminUser = await h.oauth.authenticateHeaders({ authorization: `Bearer ${admin.access_token}` }, CTX);
  assert.deepEqual(adminUser !== 'invalid' && adminUser?.extra, { uninitialized: ['true'] });
});

test('first start: a generated admin password signs in once with the password change flag, which a change clears', async () => {
  const h = await harness();
  const { user, password } = await buildFirstStartAdmin();
  assert.deepEqual(checkPasswordPolicy(password), { valid: true });
  assert.ok(!JSON.stringify(user).includes(password), 'only the hash is stored');
  h.users.put(user);
  const first = await h.oauth.token(passwordForm('admin', password), CTX);
  assert.equal(first.status, 200);
  const firstUser = await h.oauth.authenticateToken((first.body as { access_token: string }).access_token);
  assert.deepEqual(firstUser.extra, { uninitialized: ['true'] });

  const changed = withChangedPassword(h.users.get('admin')!, await hashPassword('N3w-admin-pass'), h.clock.now());
  assert.equal(changed.metadata.annotations?.['iam.kubesphere.io/uninitialized'], undefined);
  assert.equal(changed.metadata.annotations?.['iam.kubesphere.io/globalrole'], 'platform-admin');
  h.users.put(changed);
  h.tokens.revokeAllOf('admin');
  assert.equal((await h.oauth.token(passwordForm('admin', password), CTX)).status, 400);
  const after = await h.oauth.token(passwordForm('admin', 'N3w-admin-pass'), CTX);
  assert.deepEqual((await h.oauth.authenticateToken((after.body as { access_token: string }).access_token)).extra, {});
});
