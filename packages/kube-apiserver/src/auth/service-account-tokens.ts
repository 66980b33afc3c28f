/**
 * ServiceAccount tokens: signed JWTs in kube-apiserver's format (issuer, `system:serviceaccount:`
 * subject, audiences, expiry, and the `kubernetes.io` claim naming the namespace, the account and
 * any bound object). The signing key (ECDSA P-256, ES256) lives in `<data-dir>/pki/sa.key`.
 *
 * A token authenticates only while the ServiceAccount (and a bound Pod or Secret) still exists
 * with the uid it was issued for: deleting the account revokes its tokens, as in kube.
 * Signing and verification are synchronous (node:crypto), so they fit the synchronous request path.
 * An ES256 signature check costs about 0.1 ms of CPU, more than the rest of a GET, so the claims of
 * tokens whose signature has been checked are remembered by the whole token text (a bounded cache):
 * the signature of a given string under the server's key cannot change. Everything else (expiry,
 * audiences, the account's and bound objects' uids) is still checked on every request, so deleting
 * an account revokes its tokens at once.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UserInfo } from '../server/types.js';

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface BoundObject {
  kind: 'Pod' | 'Secret' | 'Node';
  name: string;
  uid: string;
}

export interface IssueRequest {
  namespace: string;
  name: string;
  uid: string;
  audiences: string[];
  expirationSeconds: number;
  boundObject?: BoundObject;
  /** For tests: the issuing time. */
  now?: Date;
}

export interface IssuedToken {
  token: string;
  expirationTimestamp: Date;
}

interface Claims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    secret?: { name: string; uid: string };
    node?: { name: string; uid: string };
  };
}

/** Answers whether an object still exists with a given uid (the server backs it with its store). */
export type ObjectLookup = (
  kind: 'ServiceAccount' | 'Pod' | 'Secret' | 'Node',
  namespace: string,
  name: string,
) => string | undefined;

export type TokenCheck = { ok: true; user: UserInfo; audiences: string[] } | { ok: false; error: string };

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** Bound on tokens whose checked signature is remembered (a token is ~1 KB). */
const VERIFIED_TOKENS_CACHE_SIZE = 4096;

export class ServiceAccountTokens {
  private readonly keyId: string;
  /**
   * Claims of tokens with a valid signature and this server's issuer, keyed by the exact token
   * text (any other string, e.g. a changed signature, misses and is verified), oldest first.
   */
  private readonly verifiedClaims = new Map<string, Claims>();

  private constructor(
    private readonly privateKey: KeyObject,
    private readonly publicKey: KeyObject,
    readonly issuer: string,
  ) {
    // The key id is the SHA-free short fingerprint kube uses only for lookup; any stable id works.
    this.keyId = b64url(publicKey.export({ format: 'der', type: 'spki' }).subarray(-16));
  }

  /** Loads `<dir>/sa.key`, creating it on first start. */
  static load(pkiDir: string, issuer = DEFAULT_ISSUER): ServiceAccountTokens {
    const path = join(pkiDir, 'sa.key');
    if (!existsSync(path)) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      writeFileSync(path, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    }
    const privateKey = createPrivateKey(readFileSync(path));
    return new ServiceAccountTokens(privateKey, createPublicKey(privateKey), issuer);
  }

  /** The public key as a JWK (for OIDC-style discovery of the issuer's keys). */
  publicJwk(): Record<string, unknown> {
    return {
      ...(this.publicKey.export({ format: 'jwk' }) as Record<string, unknown>),
      kid: this.keyId,
      use: 'sig',
      alg: 'ES256',
    };
  }

  issue(request: IssueRequest): IssuedToken {
    const now = Math.floor((request.now ?? new Date()).getTime() / 1000);
    const exp = now + request.expirationSeconds;
    const claims: Claims = {
      iss: this.issuer,
      sub: `system:serviceaccount:${request.namespace}:${request.name}`,
      aud: request.audiences,
      exp,
      iat: now,
      nbf: now,
      jti: randomUUID(),
      'kubernetes.io': { namespace: request.namespace, serviceaccount: { name: request.name, uid: request.uid } },
    };
    if (request.boundObject) {
      const key = request.boundObject.kind.toLowerCase() as 'pod' | 'secret' | 'node';
      claims['kubernetes.io'][key] = { name: request.boundObject.name, uid: request.boundObject.uid };
    }
    const header = b64url(JSON.stringify({ alg: 'ES256', kid: this.keyId }));
    const payload = b64url(JSON.stringify(claims));
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
    return { token: `${header}.${payload}.${b64url(signature)}`, expirationTimestamp: new Date(exp * 1000) };
  }

  /**
   * Verifies signature, issuer, time, audience (when `audiences` is given, one must match) and
   * that the account and bound object still exist with the uids the token names.
   */
  verify(token: string, lookup: ObjectLookup, audiences?: string[], now = new Date()): TokenCheck {
    const signed = this.signedClaims(token);
    if (!signed.ok) return signed;
    const claims = signed.claims;
    const seconds = Math.floor(now.getTime() / 1000);
    if (typeof claims.exp !== 'number' || seconds >= claims.exp) {
      this.verifiedClaims.delete(token);
      return { ok: false, error: 'token has expired' };
    }
    if (typeof claims.nbf === 'number' && seconds < claims.nbf - 60) return { ok: false, error: 'token is not valid yet' };
    const tokenAudiences = Array.isArray(claims.aud) ? claims.aud : [];
    const accepted = audiences?.length ? tokenAudiences.filter((a) => audiences.includes(a)) : tokenAudiences;
    if (audiences?.length && accepted.length === 0) return { ok: false, error: 'token audiences do not match' };
    const k8s = claims['kubernetes.io'];
    if (!k8s?.namespace || !k8s.serviceaccount?.name) return { ok: false, error: 'token has no service account claims' };
    const saUid = lookup('ServiceAccount', k8s.namespace, k8s.serviceaccount.name);
    if (!saUid || saUid !== k8s.serviceaccount.uid)
      return { ok: false, error: `service account ${k8s.namespace}/${k8s.serviceaccount.name} has been deleted` };
    const extra: Record<string, string[]> = { 'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`] };
    for (const [kind, claim] of [
      ['Pod', k8s.pod],
      ['Secret', k8s.secret],
      ['Node', k8s.node],
    ] as const) {
      if (!claim) continue;
      const uid = lookup(kind, kind === 'Node' ? '' : k8s.namespace, claim.name);
      if (!uid || uid !== claim.uid)
        return { ok: false, error: `the bound ${kind.toLowerCase()} ${claim.name} no longer exists` };
      if (kind === 'Pod') {
        extra['authentication.kubernetes.io/pod-name'] = [claim.name];
        extra['authentication.kubernetes.io/pod-uid'] = [claim.uid];
      }
    }
    return {
      ok: true,
      audiences: accepted,
      user: {
        name: claims.sub,
        uid: k8s.serviceaccount.uid,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${k8s.namespace}`, 'system:authenticated'],
        extra,
      },
    };
  }

  /** The claims of a token signed with this server's key for this issuer (cached, see the module comment). */
  private signedClaims(token: string): { ok: true; claims: Claims } | { ok: false; error: string } {
    const cached = this.verifiedClaims.get(token);
    if (cached) return { ok: true, claims: cached };
    const parts = token.split('.');
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return { ok: false, error: 'token is not a JWT' };
    let header: { alg?: string };
    let claims: Claims;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return { ok: false, error: 'token is not a JWT' };
    }
    if (header.alg !== 'ES256') return { ok: false, error: 'unexpected signing algorithm' };
    const valid = verify(
      'sha256',
      Buffer.from(`${parts[0]}.${parts[1]}`),
      { key: this.publicKey, dsaEncoding: 'ieee-p1363' },
      Buffer.from(parts[2], 'base64url'),
    );
    if (!valid) return { ok: false, error: 'invalid signature' };
    if (claims.iss !== this.issuer) return { ok: false, error: 'token issued by another issuer' };
    // Only well-signed tokens enter, so garbage cannot evict them; the oldest entry makes room.
    if (this.verifiedClaims.size >= VERIFIED_TOKENS_CACHE_SIZE)
      this.verifiedClaims.delete(this.verifiedClaims.keys().next().value as string);
    this.verifiedClaims.set(token, claims);
    return { ok: true, claims };
  }
}
