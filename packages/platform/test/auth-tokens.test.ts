/**
 * Tokens: KubeSphere's claims and lifetimes, verification (signature, expiry on an injected clock,
 * revocation, inactivity, the user behind the token), multipleLogin, tampering, the durable SQLite
 * registry across a reopen, and ID tokens checked against the published JWKS by an independent
 * verifier (jose's own jwtVerify over createLocalJWKSet).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import {
  IdTokenKeys,
  MemoryTokenStore,
  MemoryUserStore,
  SqliteTokenStore,
  TokenError,
  TokenManager,
  type TokenStore,
  type UserObject,
} from '../src/auth/index.js';

const ISSUER = 'http://console.canopy.test';
const SECRET = 'a-per-installation-secret-of-some-length';
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function clock(start = Date.parse('2025-01-01T00:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function user(name: string, state = 'Active'): UserObject {
  return {
    apiVersion: 'iam.kubesphere.io/v1beta1',
    kind: 'User',
    metadata: { name },
    spec: { email: `${name}@example.com` },
    status: { state },
  };
}

function setup(opts: { multipleLogin?: boolean; store?: TokenStore; accessTokenInactivityTimeout?: number } = {}) {
  const c = clock();
  const users = new MemoryUserStore([user('alice'), user('bob')], c.now);
  const tokens = new TokenManager({
    issuer: ISSUER,
    secret: SECRET,
    store: opts.store ?? new MemoryTokenStore(),
    now: c.now,
    multipleLogin: opts.multipleLogin,
    accessTokenInactivityTimeout: opts.accessTokenInactivityTimeout,
    userLookup: (name) => users.get(name),
  });
  return { c, users, tokens, subject: (name: string) => ({ name, uid: users.get(name)!.metadata.uid }) };
}

function decode(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

async function rejects(p: Promise<unknown>, reason: string) {
  await assert.rejects(p, (err: unknown) => err instanceof TokenError && err.reason === reason, `expected TokenError ${reason}`);
}

test('a sign-in issues an HS256 access token and refresh token with KubeSphere claims and lifetimes', async () => {
  const { c, tokens, subject } = setup();
  const { response } = tokens.issueTokenPair(subject('alice'));
  assert.equal(response.token_type, 'Bearer');
  assert.equal(response.expires_in, 7200);
  const header = JSON.parse(Buffer.from(response.access_token.split('.')[0], 'base64url').toString());
  assert.deepEqual(header, { alg: 'HS256', typ: 'JWT' });
  const access = decode(response.access_token);
  const iat = Math.floor(c.now() / 1000);
  assert.equal(access.iss, ISSUER);
  assert.equal(access.sub, 'alice');
  assert.equal(access.username, 'alice');
  assert.equal(access.token_type, 'access_token');
  assert.equal(access.iat, iat);
  assert.equal(access.exp, iat + 7200);
  assert.equal(typeof access.jti, 'string');
  const refresh = decode(response.refresh_token);
  assert.equal(refresh.token_type, 'refresh_token');
  // Refresh tokens live access max age + inactivity timeout: 2h + 30m.
  assert.equal(refresh.exp, iat + 7200 + 1800);
  assert.equal(refresh.sid, access.sid);
  // The signature is HMAC-SHA256 with the installation secret, as any JWT library computes it.
  const [h, p, s] = response.access_token.split('.');
  assert.equal(createHmac('sha256', SECRET).update(`${h}.${p}`).digest('base64url'), s);

  const verified = await tokens.verify(response.access_token);
  assert.equal(verified.username, 'alice');
  assert.equal(verified.tokenType, 'access_token');
  // A refresh token does not authenticate API requests, an access token is no refresh token.
  await rejects(tokens.verify(response.refresh_token), 'wrong_type');
  await rejects(tokens.verify(response.access_token, ['refresh_token']), 'wrong_type');
});

test('tokens expire with the clock: access after 2h, refresh after 2h30m', async () => {
  const { c, tokens, subject } = setup();
  const { response } = tokens.issueTokenPair(subject('alice'));
  // In use every 20 minutes (under the inactivity timeout) up to one second before the 2 hours.
  for (let i = 0; i < 5; i++) {
    c.advance(20 * 60_000);
    await tokens.verify(response.access_token);
  }
  c.advance(20 * 60_000 - 1000);
  await tokens.verify(response.access_token);
  c.advance(1000);
  await rejects(tokens.verify(response.access_token), 'expired');
  await tokens.verify(response.refresh_token, ['refresh_token']);
  c.advance(30 * 60_000);
  await rejects(tokens.verify(response.refresh_token, ['refresh_token']), 'expired');
});

test('an access token unused for longer than the inactivity timeout stops working', async () => {
  const { c, tokens, subject } = setup();
  const { response } = tokens.issueTokenPair(subject('alice'));
  // Used every 20 minutes it stays valid past the 30 minute inactivity timeout.
  for (let i = 0; i < 4; i++) {
    c.advance(20 * 60_000);
    await tokens.verify(response.access_token);
  }
  c.advance(31 * 60_000);
  await rejects(tokens.verify(response.access_token), 'inactive');
  // And it stays dead: the registration is gone.
  await rejects(tokens.verify(response.access_token), 'revoked');
});

test('signing out revokes the session; revokeAllOf ends every session of a user', async () => {
  const { tokens, subject } = setup();
  const first = tokens.issueTokenPair(subject('alice')).response;
  const second = tokens.issueTokenPair(subject('alice')).response;
  const bobs = tokens.issueTokenPair(subject('bob')).response;
  assert.equal(tokens.revokeSession(first.access_token), 2);
  await rejects(tokens.verify(first.access_token), 'revoked');
  await rejects(tokens.verify(first.refresh_token, ['refresh_token']), 'revoked');
  await tokens.verify(second.access_token);
  assert.equal(tokens.revokeAllOf('alice'), 2);
  await rejects(tokens.verify(second.access_token), 'revoked');
  await tokens.verify(bobs.access_token);
});

test('multipleLogin on keeps older sessions, off revokes them at the next sign-in', async () => {
  const on = setup({ multipleLogin: true });
  const a = on.tokens.issueTokenPair(on.subject('alice')).response;
  on.tokens.issueTokenPair(on.subject('alice'));
  await on.tokens.verify(a.access_token);

  const off = setup({ multipleLogin: false });
  const older = off.tokens.issueTokenPair(off.subject('alice')).response;
  const bobs = off.tokens.issueTokenPair(off.subject('bob')).response;
  const newer = off.tokens.issueTokenPair(off.subject('alice')).response;
  await rejects(off.tokens.verify(older.access_token), 'revoked');
  await rejects(off.tokens.verify(older.refresh_token, ['refresh_token']), 'revoked');
  await off.tokens.verify(newer.access_token);
  await off.tokens.verify(bobs.access_token);
});

test('the token of a deleted, disabled or re-created user is refused', async () => {
  const { users, tokens, subject } = setup();
  const alice = tokens.issueTokenPair(subject('alice')).response;
  const bob = tokens.issueTokenPair(subject('bob')).response;
  users.updateStatus('alice', { state: 'Disabled' });
  await rejects(tokens.verify(alice.access_token), 'user_disabled');
  users.updateStatus('alice', { state: 'Active' });
  await tokens.verify(alice.access_token);
  users.delete('bob');
  await rejects(tokens.verify(bob.access_token), 'user_not_found');
  // Same name, new object: the old token does not carry over.
  users.put(user('bob'));
  await rejects(tokens.verify(bob.access_token), 'user_replaced');
});

test('tampered, foreign and malformed tokens are refused', async () => {
  const { tokens, subject } = setup();
  const { token } = tokens.issue({ user: subject('alice'), tokenType: 'access_token', expiresIn: 3_600_000 });
  const [h, p, s] = token.split('.');
  const claims = decode(token);

  // Payload changed to another user, signature kept.
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'bob', username: 'bob' })).toString('base64url')}.${s}`;
  await rejects(tokens.verify(forged), 'signature');
  // Signed with another secret.
  const otherSig = createHmac('sha256', 'another-installation-secret!!').update(`${h}.${p}`).digest('base64url');
  await rejects(tokens.verify(`${h}.${p}.${otherSig}`), 'signature');
  // alg none, and an RS256 header (algorithm confusion).
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  await rejects(tokens.verify(`${none}.${p}.`), 'signature');
  const rs = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url');
  await rejects(tokens.verify(`${rs}.${p}.${s}`), 'signature');
  // Truncated signature, garbage, extra segment, and a validly signed token of another issuer.
  await rejects(tokens.verify(`${h}.${p}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`), 'signature');
  await rejects(tokens.verify(`${h}.${p}.${s.slice(0, -2)}`), 'malformed');
  await rejects(tokens.verify('not-a-token'), 'malformed');
  await rejects(tokens.verify(`${h}.${p}.${s}.x`), 'malformed');
  await rejects(tokens.verify(`${h}.${p}!.${s}`), 'signature');
  const foreign = new TokenManager({ issuer: 'https://elsewhere', secret: SECRET, store: new MemoryTokenStore() });
  await rejects(
    tokens.verify(foreign.issue({ user: { name: 'alice' }, tokenType: 'access_token', expiresIn: 60_000 }).token),
    'issuer',
  );
  // Unchanged it still verifies.
  await tokens.verify(token);
});

test('a token issued in the future (beyond the clock skew) is refused', async () => {
  const early = clock();
  const store = new MemoryTokenStore();
  const issuer = new TokenManager({ issuer: ISSUER, secret: SECRET, store, now: () => early.now() + 60_000 });
  const verifier = new TokenManager({ issuer: ISSUER, secret: SECRET, store, now: early.now });
  const { token } = issuer.issue({ user: { name: 'alice' }, tokenType: 'access_token', expiresIn: 3_600_000 });
  await rejects(verifier.verify(token), 'not_yet_valid');
  early.advance(55_000);
  await verifier.verify(token);
});

test('static tokens never expire but can be revoked', async () => {
  const { c, tokens, subject } = setup();
  const { token, claims } = tokens.issue({ user: subject('alice'), tokenType: 'static_token' });
  assert.equal(claims.exp, undefined);
  c.advance(400 * 24 * 3_600_000);
  await tokens.verify(token);
  tokens.revokeToken(claims);
  await rejects(tokens.verify(token), 'revoked');
});

test('the SQLite registry keeps sessions and revocations across a reopen, and prunes expired entries', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-tokens-'));
  dirs.push(dir);
  const file = join(dir, 'platform', 'tokens.db');
  const first = setup({ store: new SqliteTokenStore(file) });
  const kept = first.tokens.issueTokenPair(first.subject('alice')).response;
  const revoked = first.tokens.issueTokenPair(first.subject('alice')).response;
  first.tokens.revokeSession(revoked.access_token);
  first.tokens.store.close();

  const c = first.c;
  const reopened = new TokenManager({
    issuer: ISSUER,
    secret: SECRET,
    store: new SqliteTokenStore(file),
    now: c.now,
    userLookup: (name) => first.users.get(name),
  });
  assert.equal((await reopened.verify(kept.access_token)).username, 'alice');
  await rejects(reopened.verify(revoked.access_token), 'revoked');
  assert.equal(reopened.store.listUser('alice').length, 2);
  c.advance(3 * 3_600_000);
  assert.equal(reopened.prune(), 2);
  assert.equal(reopened.store.listUser('alice').length, 0);
  reopened.store.close();
});

test('inactivity is tracked in the SQLite registry too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-tokens-'));
  dirs.push(dir);
  const { c, tokens, subject } = setup({ store: new SqliteTokenStore(join(dir, 'tokens.db')) });
  const { response } = tokens.issueTokenPair(subject('alice'));
  c.advance(25 * 60_000);
  await tokens.verify(response.access_token);
  c.advance(25 * 60_000);
  await tokens.verify(response.access_token);
  c.advance(31 * 60_000);
  await rejects(tokens.verify(response.access_token), 'inactive');
  tokens.store.close();
});

for (const alg of ['RS256', 'ES256'] as const) {
  test(`ID tokens (${alg}) verify against the published JWKS, and the key survives a PEM round trip`, async () => {
    const keys = await IdTokenKeys.generate(alg);
    const jwks = keys.jwks();
    assert.equal(jwks.keys.length, 1);
    const [jwk] = jwks.keys;
    assert.equal(jwk.alg, alg);
    assert.equal(jwk.use, 'sig');
    assert.equal(jwk.kid, keys.kid);
    for (const secretMember of ['d', 'p', 'q', 'dp', 'dq', 'qi'])
      assert.equal(secretMember in jwk, false, `no ${secretMember} in the JWKS`);

    const now = Math.floor(Date.now() / 1000);
    const token = await keys.sign({ iss: ISSUER, sub: 'alice', aud: ['kubesphere'], iat: now, exp: now + 600, nonce: 'n-1' });
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: ISSUER,
      audience: 'kubesphere',
    });
    assert.equal(protectedHeader.alg, alg);
    assert.equal(protectedHeader.kid, keys.kid);
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.nonce, 'n-1');

    const reloaded = await IdTokenKeys.fromPem(await keys.toPem());
    assert.equal(reloaded.kid, keys.kid);
    assert.equal(reloaded.alg, alg);
    const again = await reloaded.sign({ iss: ISSUER, sub: 'bob', aud: ['kubesphere'], iat: now, exp: now + 600 });
    await jwtVerify(again, createLocalJWKSet(jwks), { issuer: ISSUER, audience: 'kubesphere' });

    // An ID token is not a credential for the API.
    const { tokens } = setup();
    await rejects(tokens.verify(token), 'signature');
  });
}
