import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ServiceAccountTokens, type ObjectLookup } from '../src/auth/service-account-tokens.js';

const dir = mkdtempSync(join(tmpdir(), 'canopy-sa-tokens-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const tokens = ServiceAccountTokens.load(dir);

/** A lookup over a mutable set of live objects: `kind/namespace/name` → uid. */
function liveObjects(entries: Record<string, string>): { lookup: ObjectLookup; objects: Map<string, string> } {
  const objects = new Map(Object.entries(entries));
  return { objects, lookup: (kind, namespace, name) => objects.get(`${kind}/${namespace}/${name}`) };
}

const issue = (now = new Date(), expirationSeconds = 3600) =>
  tokens.issue({ namespace: 'bench', name: 'reader', uid: 'uid-1', audiences: ['api'], expirationSeconds, now }).token;

describe('ServiceAccountTokens.verify', () => {
  it('authenticates the account, and every later verification still checks the account uid (revocation)', () => {
    const { lookup, objects } = liveObjects({ 'ServiceAccount/bench/reader': 'uid-1' });
    const token = issue();
    for (let i = 0; i < 2; i++) {
      const check = tokens.verify(token, lookup, ['api']);
      assert.equal(check.ok, true);
      if (check.ok) assert.equal(check.user.name, 'system:serviceaccount:bench:reader');
    }
    objects.set('ServiceAccount/bench/reader', 'uid-2'); // deleted and re-created
    assert.deepEqual(tokens.verify(token, lookup, ['api']), {
      ok: false,
      error: 'service account bench/reader has been deleted',
    });
    objects.delete('ServiceAccount/bench/reader');
    assert.equal(tokens.verify(token, lookup, ['api']).ok, false);
  });

  it('rejects a tampered signature or payload of a token verified before', () => {
    const { lookup } = liveObjects({ 'ServiceAccount/bench/reader': 'uid-1' });
    const token = issue();
    assert.equal(tokens.verify(token, lookup).ok, true);
    const [header, payload, signature] = token.split('.');
    const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
    assert.deepEqual(tokens.verify(`${header}.${payload}.${flipped}`, lookup), { ok: false, error: 'invalid signature' });
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    claims['kubernetes.io'].namespace = 'kube-system';
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    assert.deepEqual(tokens.verify(forged, lookup), { ok: false, error: 'invalid signature' });
  });

  it('checks expiry and audiences on every verification of a cached token', () => {
    const { lookup } = liveObjects({ 'ServiceAccount/bench/reader': 'uid-1' });
    const issuedAt = new Date('2026-01-01T00:00:00Z');
    const token = issue(issuedAt, 600);
    assert.equal(tokens.verify(token, lookup, ['api'], new Date(issuedAt.getTime() + 1000)).ok, true);
    assert.deepEqual(tokens.verify(token, lookup, ['other'], new Date(issuedAt.getTime() + 1000)), {
      ok: false,
      error: 'token audiences do not match',
    });
    assert.deepEqual(tokens.verify(token, lookup, ['api'], new Date(issuedAt.getTime() + 600_000)), {
      ok: false,
      error: 'token has expired',
    });
  });

  it('does not accept a token signed by another key, even after verifying its own', () => {
    const otherDir = mkdtempSync(join(tmpdir(), 'canopy-sa-tokens-other-'));
    try {
      const other = ServiceAccountTokens.load(otherDir);
      const { lookup } = liveObjects({ 'ServiceAccount/bench/reader': 'uid-1' });
      const foreign = other.issue({
        namespace: 'bench',
        name: 'reader',
        uid: 'uid-1',
        audiences: ['api'],
        expirationSeconds: 600,
      }).token;
      assert.equal(other.verify(foreign, lookup).ok, true);
      assert.deepEqual(tokens.verify(foreign, lookup), { ok: false, error: 'invalid signature' });
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });
});
