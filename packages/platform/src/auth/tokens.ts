/**
 * Tokens as KubeSphere issues them: access, refresh and static tokens and authorization codes are
 * JWTs signed HS256 with the installation's secret (claims `iss`, `sub`, `username`, `token_type`,
 * `iat`, `exp`, plus `jti`, which KubeSphere leaves out and Canopy uses to register the token); ID
 * tokens are signed RS256 (or ES256) with a key published at `/oauth/keys`.
 *
 * A token verifies when its signature is good, it has not expired, it is still registered in the
 * {@link TokenStore} (not signed out, not replaced by a newer sign-in with multipleLogin off), it
 * has been used within the inactivity timeout (access tokens), and its user still exists and is
 * not disabled.
 *
 * Lifetimes (KubeSphere's defaults): access tokens 2h (`accessTokenMaxAge`), inactivity timeout
 * 30m (`accessTokenInactivityTimeout`), refresh tokens maxAge + inactivity, codes 10m; an OAuth
 * client may set both of its own.
 */
import { createHmac, createPrivateKey, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  SignJWT,
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import { PRE_REGISTRATION_USER, USER_DISABLED, type Awaitable, type UserObject } from './model.js';
import type { TokenRecord, TokenStore } from './token-store.js';

export type TokenType = 'access_token' | 'refresh_token' | 'static_token' | 'code' | 'id_token';
/** Types the HS256 issuer signs and registers; ID tokens are signed by {@link IdTokenKeys} and never accepted as credentials. */
export type BearerTokenType = Exclude<TokenType, 'id_token'>;
const BEARER_TYPES: ReadonlySet<string> = new Set(['access_token', 'refresh_token', 'static_token', 'code']);

export const DEFAULT_ACCESS_TOKEN_MAX_AGE = 2 * 3_600_000;
export const DEFAULT_ACCESS_TOKEN_INACTIVITY_TIMEOUT = 30 * 60_000;
export const DEFAULT_MAXIMUM_CLOCK_SKEW = 10_000;
/** RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED." */
export const AUTHORIZATION_CODE_LIFETIME = 10 * 60_000;

/** The JWT payload of Canopy's tokens. */
export interface TokenClaims {
  iss: string;
  sub: string;
  /** Same as sub; KubeSphere reads this one (deprecated there, kept for its clients). */
  username: string;
  token_type: BearerTokenType;
  iat: number;
  exp?: number;
  jti: string;
  /** Session id shared by the tokens of one sign-in. */
  sid: string;
  aud?: string[];
  /** KubeSphere's user extra: `uninitialized` (password change required), or the external identity of a pre-registration token. */
  extra?: Record<string, string[]>;
  /** Scopes granted (authorization codes, and tokens issued from them). */
  scopes?: string[];
  nonce?: string;
  client_id?: string;
  /** Authorization codes: the redirect_uri of the authorization request, which the token request must repeat (RFC 6749 §4.1.3). */
  redirect_uri?: string;
  /** Authorization codes: PKCE (RFC 7636). */
  code_challenge?: string;
  code_challenge_method?: 'S256' | 'plain';
}

export interface TokenSubject {
  name: string;
  /** metadata.uid of the user; a token is refused once the user has been replaced by another of the same name. */
  uid?: string;
  extra?: Record<string, string[]>;
}

export interface IssueRequest {
  user: TokenSubject;
  tokenType: BearerTokenType;
  /** Lifetime in ms; 0 or absent only for static tokens, which never expire. */
  expiresIn?: number;
  /** Joins an existing session; a new one is started otherwise. */
  sessionId?: string;
  clientId?: string;
  audience?: string[];
  scopes?: string[];
  nonce?: string;
  redirectUri?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  /** Idle time after which the token stops working (access tokens), ms. */
  inactivityTimeout?: number;
}

export interface IssuedToken {
  token: string;
  claims: TokenClaims;
}

/** Lifetimes of the tokens of a sign-in (ms). An OAuth client may override both. */
export interface TokenLifetimes {
  accessTokenMaxAge: number;
  accessTokenInactivityTimeout: number;
}

/** RFC 6749 §5.1 token response; KubeSphere's oauth.Token. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  refresh_token: string;
  /** Seconds until the access token expires. */
  expires_in: number;
  id_token?: string;
}

export interface VerifiedToken {
  username: string;
  /** metadata.uid of the user, when the user lookup gave one. */
  uid?: string;
  /** spec.groups of the user, when the user lookup gave them. */
  groups: string[];
  extra: Record<string, string[]>;
  tokenType: BearerTokenType;
  claims: TokenClaims;
  /** The token's registration (session, client, last use). */
  record: TokenRecord;
}

export type TokenErrorReason =
  | 'malformed'
  | 'signature'
  | 'issuer'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_type'
  | 'revoked'
  | 'inactive'
  | 'user_not_found'
  | 'user_disabled'
  | 'user_replaced';

export class TokenError extends Error {
  constructor(
    readonly reason: TokenErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

export interface TokenManagerOptions {
  /** Issuer URL (`iss`): the console's origin, as KubeSphere's authentication.issuer.url. */
  issuer: string;
  /** The per-installation HS256 secret (KubeSphere's jwtSecret), at least 16 bytes. */
  secret: string | Uint8Array;
  store: TokenStore;
  accessTokenMaxAge?: number;
  accessTokenInactivityTimeout?: number;
  /** Allowed clock difference when checking `iat` (KubeSphere: maximumClockSkew, 10s). */
  maximumClockSkew?: number;
  /** When false, a new sign-in ends the user's other sessions (KubeSphere's multipleLogin; its chart defaults to true). */
  multipleLogin?: boolean;
  /** The user behind a token, for the existence/disabled/uid check on every verification (an informer cache read). */
  userLookup?: (username: string) => Awaitable<UserObject | undefined>;
  /** Clock in ms since the epoch (tests inject one). */
  now?: () => number;
  /**
   * Use of a token is written to the store at most once per this interval (ms, default 60s), so a
   * busy client does not write on every request; the inactivity timeout is that much coarser.
   */
  touchInterval?: number;
}

/** A new random HS256 secret for an installation (base64url of 32 random bytes). */
export function generateJwtSecret(): string {
  return randomBytes(32).toString('base64url');
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function decodeSegment(segment: string): Buffer {
  if (!BASE64URL.test(segment)) throw new TokenError('malformed', 'token is malformed: invalid base64url');
  const bytes = Buffer.from(segment, 'base64url');
  // Non-canonical encodings (stray trailing bits) would let one token be written several ways.
  if (bytes.toString('base64url') !== segment) throw new TokenError('malformed', 'token is malformed: non-canonical base64url');
  return bytes;
}

function parseJsonObject(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new TokenError('malformed', `token is malformed: ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TokenError('malformed', `token is malformed: ${what} is not an object`);
  return value as Record<string, unknown>;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

function checkClaims(payload: Record<string, unknown>): TokenClaims {
  const bad = (claim: string): never => {
    throw new TokenError('malformed', `token is malformed: claim ${claim} is missing or invalid`);
  };
  if (typeof payload.iss !== 'string') bad('iss');
  if (typeof payload.sub !== 'string' || payload.sub === '') bad('sub');
  if (payload.username !== undefined && payload.username !== payload.sub) bad('username');
  if (typeof payload.token_type !== 'string' || !BEARER_TYPES.has(payload.token_type)) bad('token_type');
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) bad('iat');
  if (payload.exp !== undefined && (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp))) bad('exp');
  if (typeof payload.jti !== 'string' || payload.jti === '') bad('jti');
  if (typeof payload.sid !== 'string' || payload.sid === '') bad('sid');
  if (payload.aud !== undefined && !isStringArray(payload.aud)) bad('aud');
  if (payload.scopes !== undefined && !isStringArray(payload.scopes)) bad('scopes');
  if (payload.extra !== undefined) {
    const extra = payload.extra;
    if (typeof extra !== 'object' || extra === null || Array.isArray(extra) || !Object.values(extra).every(isStringArray))
      bad('extra');
  }
  for (const claim of ['nonce', 'client_id', 'redirect_uri', 'code_challenge'] as const)
    if (payload[claim] !== undefined && typeof payload[claim] !== 'string') bad(claim);
  if (
    payload.code_challenge_method !== undefined &&
    payload.code_challenge_method !== 'S256' &&
    payload.code_challenge_method !== 'plain'
  )
    bad('code_challenge_method');
  return { ...payload, username: payload.sub } as unknown as TokenClaims;
}

export class TokenManager {
  readonly issuer: string;
  readonly store: TokenStore;
  readonly multipleLogin: boolean;
  readonly defaults: TokenLifetimes;
  private readonly secret: Buffer;
  private readonly clockSkew: number;
  private readonly userLookup?: (username: string) => Awaitable<UserObject | undefined>;
  private readonly clock: () => number;
  private readonly touchInterval: number;
  private readonly encodedHeader = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

  constructor(options: TokenManagerOptions) {
    this.issuer = options.issuer;
    this.store = options.store;
    this.secret = Buffer.from(typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : options.secret);
    if (this.secret.length < 16) throw new Error('the JWT secret must be at least 16 bytes');
    this.defaults = {
      accessTokenMaxAge: options.accessTokenMaxAge ?? DEFAULT_ACCESS_TOKEN_MAX_AGE,
      accessTokenInactivityTimeout: options.accessTokenInactivityTimeout ?? DEFAULT_ACCESS_TOKEN_INACTIVITY_TIMEOUT,
    };
    if (!(this.defaults.accessTokenMaxAge > 0)) throw new Error('accessTokenMaxAge must be positive');
    if (!(this.defaults.accessTokenInactivityTimeout >= 0)) throw new Error('accessTokenInactivityTimeout must not be negative');
    this.clockSkew = options.maximumClockSkew ?? DEFAULT_MAXIMUM_CLOCK_SKEW;
    this.multipleLogin = options.multipleLogin ?? true;
    this.userLookup = options.userLookup;
    this.clock = options.now ?? Date.now;
    this.touchInterval = options.touchInterval ?? 60_000;
  }

  now(): number {
    return this.clock();
  }

  private sign(signingInput: string): Buffer {
    return createHmac('sha256', this.secret).update(signingInput).digest();
  }

  /** Signs and registers one token. */
  issue(request: IssueRequest): IssuedToken {
    const now = this.clock();
    const iat = Math.floor(now / 1000);
    const expiresIn = request.expiresIn ?? 0;
    if (expiresIn <= 0 && request.tokenType !== 'static_token') throw new Error(`a ${request.tokenType} must expire`);
    const claims: TokenClaims = {
      iss: this.issuer,
      sub: request.user.name,
      username: request.user.name,
      token_type: request.tokenType,
      iat,
      ...(expiresIn > 0 ? { exp: Math.floor((now + expiresIn) / 1000) } : {}),
      jti: randomUUID(),
      sid: request.sessionId ?? randomUUID(),
      ...(request.audience?.length ? { aud: request.audience } : {}),
      ...(request.user.extra && Object.keys(request.user.extra).length ? { extra: request.user.extra } : {}),
      ...(request.scopes?.length ? { scopes: request.scopes } : {}),
      ...(request.nonce ? { nonce: request.nonce } : {}),
      ...(request.clientId ? { client_id: request.clientId } : {}),
      ...(request.redirectUri ? { redirect_uri: request.redirectUri } : {}),
      ...(request.codeChallenge
        ? { code_challenge: request.codeChallenge, code_challenge_method: request.codeChallengeMethod ?? 'plain' }
        : {}),
    };
    const signingInput = `${this.encodedHeader}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const token = `${signingInput}.${this.sign(signingInput).toString('base64url')}`;
    const record: TokenRecord = {
      jti: claims.jti,
      username: claims.sub,
      tokenType: claims.token_type,
      sessionId: claims.sid,
      issuedAt: now,
      lastUsedAt: now,
    };
    // The registry keeps the exact expiry the JWT carries (whole seconds), so both agree on when a token ends.
    if (claims.exp !== undefined) record.expiresAt = claims.exp * 1000;
    if (request.clientId) record.clientId = request.clientId;
    if (request.user.uid) record.userUid = request.user.uid;
    if (request.inactivityTimeout) record.inactivityTimeout = request.inactivityTimeout;
    this.store.add(record);
    return { token, claims };
  }

  /**
   * The access and refresh token of a sign-in (KubeSphere's issueTokenTo): with multipleLogin off the
   * user's other sessions end first. Refreshing passes the session to continue.
   */
  issueTokenPair(
    user: TokenSubject,
    options: { lifetimes?: Partial<TokenLifetimes>; clientId?: string; sessionId?: string; scopes?: string[] } = {},
  ): { response: TokenResponse; access: IssuedToken; refresh: IssuedToken } {
    const lifetimes = { ...this.defaults, ...options.lifetimes };
    if (!this.multipleLogin) this.store.revokeUser(user.name, options.sessionId);
    const sessionId = options.sessionId ?? randomUUID();
    const common = { user, sessionId, clientId: options.clientId, scopes: options.scopes };
    const access = this.issue({
      ...common,
      tokenType: 'access_token',
      expiresIn: lifetimes.accessTokenMaxAge,
      inactivityTimeout: lifetimes.accessTokenInactivityTimeout,
    });
    const refresh = this.issue({
      ...common,
      tokenType: 'refresh_token',
      expiresIn: lifetimes.accessTokenMaxAge + lifetimes.accessTokenInactivityTimeout,
    });
    return {
      access,
      refresh,
      response: {
        access_token: access.token,
        token_type: 'Bearer',
        refresh_token: refresh.token,
        expires_in: Math.round(lifetimes.accessTokenMaxAge / 1000),
      },
    };
  }

  /**
   * Checks signature, issuer and time claims only, not the registry or the user: what a token says
   * about itself. Throws {@link TokenError}.
   */
  parse(token: string): TokenClaims {
    if (typeof token !== 'string' || token.length > 16384) throw new TokenError('malformed', 'token is malformed');
    const parts = token.split('.');
    if (parts.length !== 3) throw new TokenError('malformed', 'token is malformed: expected three segments');
    const header = parseJsonObject(decodeSegment(parts[0]), 'header');
    if (header.alg !== 'HS256') throw new TokenError('signature', `unexpected signature algorithm ${JSON.stringify(header.alg)}`);
    if (header.crit !== undefined) throw new TokenError('malformed', 'token is malformed: unsupported critical header');
    const signature = decodeSegment(parts[2]);
    const expected = this.sign(`${parts[0]}.${parts[1]}`);
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected))
      throw new TokenError('signature', 'token signature is invalid');
    const claims = checkClaims(parseJsonObject(decodeSegment(parts[1]), 'payload'));
    if (claims.iss !== this.issuer)
      throw new TokenError('issuer', `token issuer ${JSON.stringify(claims.iss)} is not ${JSON.stringify(this.issuer)}`);
    return claims;
  }

  /**
   * Full verification (see the module comment). `types` restricts the accepted token types; the
   * default accepts what authenticates API requests: access and static tokens.
   */
  async verify(token: string, types: readonly BearerTokenType[] = ['access_token', 'static_token']): Promise<VerifiedToken> {
    const claims = this.parse(token);
    const now = this.clock();
    if (claims.exp !== undefined && now >= claims.exp * 1000)
      throw new TokenError('expired', `token is expired by ${Math.round((now - claims.exp * 1000) / 1000)}s`);
    if (claims.iat * 1000 > now + this.clockSkew) throw new TokenError('not_yet_valid', 'token used before issued');
    if (!types.includes(claims.token_type)) throw new TokenError('wrong_type', `a ${claims.token_type} is not accepted here`);

    const record = this.store.get(claims.jti);
    if (!record || record.username !== claims.sub) throw new TokenError('revoked', 'token has been revoked');
    if (record.inactivityTimeout && now - record.lastUsedAt > record.inactivityTimeout) {
      this.store.revoke(claims.jti);
      throw new TokenError('inactive', 'token has been inactive for too long');
    }

    const verified: VerifiedToken = {
      username: claims.sub,
      groups: [],
      extra: claims.extra ?? {},
      tokenType: claims.token_type,
      claims,
      record,
    };
    if (this.userLookup && claims.sub !== PRE_REGISTRATION_USER) {
      const user = await this.userLookup(claims.sub);
      if (!user) throw new TokenError('user_not_found', `user ${claims.sub} does not exist`);
      if (record.userUid && user.metadata.uid && record.userUid !== user.metadata.uid)
        throw new TokenError('user_replaced', `user ${claims.sub} has been deleted and created again`);
      if (user.status?.state === USER_DISABLED) throw new TokenError('user_disabled', `user ${claims.sub} is disabled`);
      if (user.metadata.uid) verified.uid = user.metadata.uid;
      if (user.spec.groups) verified.groups = [...user.spec.groups];
    }
    if (now - record.lastUsedAt >= this.touchInterval) this.store.touch(claims.jti, now);
    return verified;
  }

  /** Removes one token from the registry (a used authorization code or refresh token); true the first time. */
  revokeToken(claims: Pick<TokenClaims, 'jti'>): boolean {
    return this.store.revoke(claims.jti);
  }

  /**
   * Signs out: ends the session the token belongs to (its access and refresh tokens). The signature
   * must be good, expiry does not matter. Returns the number of tokens removed.
   */
  revokeSession(token: string): number {
    return this.store.revokeSession(this.parse(token).sid);
  }

  /** Ends every session of a user (password changed, user deleted or disabled). */
  revokeAllOf(username: string): number {
    return this.store.revokeUser(username);
  }

  /** Deletes expired registrations; the server calls this periodically. */
  prune(): number {
    return this.store.pruneExpired(this.clock());
  }
}

export type IdTokenAlgorithm = 'RS256' | 'ES256';

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * The key that signs ID tokens and the JWKS published at `/oauth/keys`. KubeSphere generates an
 * RSA key (RS256) when none is configured; the server stores the PEM (PKCS#8) so ID tokens stay
 * verifiable across restarts. The key id is the RFC 7638 thumbprint.
 */
export class IdTokenKeys {
  private constructor(
    readonly alg: IdTokenAlgorithm,
    readonly kid: string,
    private readonly privateKey: CryptoKey,
    private readonly publicJwk: JWK,
    private readonly previousKeys: JWK[],
  ) {}

  static async generate(alg: IdTokenAlgorithm = 'RS256'): Promise<IdTokenKeys> {
    const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
    return IdTokenKeys.fromPrivateKey(alg, privateKey, []);
  }

  /** Loads a PKCS#8 (or PKCS#1/SEC1) PEM private key; RSA keys sign RS256, P-256 keys ES256. `previous` are public JWKs still published for verification after a rotation. */
  static async fromPem(pem: string, previous: JWK[] = []): Promise<IdTokenKeys> {
    const key = createPrivateKey(pem);
    let alg: IdTokenAlgorithm;
    if (key.asymmetricKeyType === 'rsa') alg = 'RS256';
    else if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') alg = 'ES256';
    else throw new Error(`ID token signing key must be RSA or EC P-256, not ${key.asymmetricKeyType}`);
    const pkcs8 = key.export({ format: 'pem', type: 'pkcs8' }).toString();
    const privateKey = await importPKCS8(pkcs8, alg, { extractable: true });
    return IdTokenKeys.fromPrivateKey(alg, privateKey, previous);
  }

  private static async fromPrivateKey(alg: IdTokenAlgorithm, privateKey: CryptoKey, previous: JWK[]): Promise<IdTokenKeys> {
    const jwk = await exportJWK(privateKey);
    for (const member of PRIVATE_JWK_MEMBERS) delete jwk[member as keyof JWK];
    const kid = await calculateJwkThumbprint(jwk);
    const publicJwk: JWK = { ...jwk, kid, alg, use: 'sig' };
    return new IdTokenKeys(alg, kid, privateKey, publicJwk, previous);
  }

  async toPem(): Promise<string> {
    return exportPKCS8(this.privateKey);
  }

  /** The JWK Set served at /oauth/keys (public keys only). */
  jwks(): { keys: JWK[] } {
    return { keys: [{ ...this.publicJwk }, ...this.previousKeys.map((k) => ({ ...k }))] };
  }

  /** Signs an ID token; `claims` must carry iss, sub, aud, iat and exp. */
  async sign(claims: JWTPayload): Promise<string> {
    return new SignJWT(claims).setProtectedHeader({ alg: this.alg, kid: this.kid, typ: 'JWT' }).sign(this.privateKey);
  }

  /** Verifies an ID token this installation issued (e.g. the id_token_hint of a logout). */
  async verify(
    token: string,
    options: { issuer: string; audience?: string; now?: number; requireExp?: boolean },
  ): Promise<JWTPayload> {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        const jwk = this.jwks().keys.find((k) => k.kid === header.kid);
        if (!jwk) throw new Error(`unknown key id ${header.kid}`);
        return importJWK(jwk, header.alg);
      },
      {
        issuer: options.issuer,
        ...(options.audience ? { audience: options.audience } : {}),
        algorithms: ['RS256', 'ES256'],
        ...(options.now !== undefined ? { currentDate: new Date(options.now) } : {}),
        ...(options.requireExp === false ? {} : { requiredClaims: ['exp'] }),
      },
    );
    return payload;
  }
}
