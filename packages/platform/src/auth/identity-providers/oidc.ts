/**
 * OIDC identity provider (type OIDCIdentityProvider): Canopy signs users in at an OpenID provider
 * with the authorization code flow, with KubeSphere's options:
 *
 * ```yaml
 * provider:
 *   issuer: https://accounts.example.com     # discovery: endpoints and keys from /.well-known/openid-configuration
 *   clientID: canopy
 *   clientSecret: …
 *   redirectURL: https://console.example.com/oauth/redirect/oidc
 *   scopes: [openid, email, profile]
 *   getUserInfo: false                       # also read claims from the userinfo endpoint
 *   insecureSkipVerify: false
 *   emailKey: email                          # claim holding the email
 *   preferredUsernameKey: preferred_username # claim holding the user name (falls back to name)
 *   endpoint: { authURL, tokenURL, userInfoURL, jwksURL, endSessionURL }   # without issuer
 * ```
 *
 * Beyond KubeSphere, every sign-in carries state, nonce and PKCE (S256): {@link OidcIdentityProvider.beginLogin}
 * returns the URL to send the browser to and a pending login to keep (by state) until the callback,
 * and {@link OidcIdentityProvider.completeLogin} exchanges the code, verifies the ID token against the
 * provider's JWKS (issuer, audience, expiry, nonce) and turns claims into an {@link ExternalIdentity}.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
} from 'jose';
import { ConfigurationError, optionalBoolean, optionalObject, optionalString, optionalStringArray } from '../secrets.js';
import type { ExternalIdentity, IdentityProviderConfig } from './config.js';
import { HttpError, httpFetch, jsonObject } from './http.js';

export const OIDC_PROVIDER_TYPE = 'OIDCIdentityProvider';

export interface OidcEndpoints {
  authURL: string;
  tokenURL: string;
  userInfoURL?: string;
  jwksURL?: string;
  endSessionURL?: string;
}

export interface OidcProviderOptions {
  issuer?: string;
  clientID: string;
  clientSecret?: string;
  redirectURL: string;
  scopes: string[];
  getUserInfo: boolean;
  insecureSkipVerify: boolean;
  emailKey: string;
  preferredUsernameKey: string;
  endpoint?: Partial<OidcEndpoints>;
}

export function parseOidcOptions(provider: Record<string, unknown>): OidcProviderOptions {
  const where = 'provider';
  const clientID = optionalString(provider, 'clientID', where);
  if (!clientID) throw new ConfigurationError(`${where}.clientID: required`);
  const redirectURL = optionalString(provider, 'redirectURL', where);
  if (!redirectURL) throw new ConfigurationError(`${where}.redirectURL: required`);
  const issuer = optionalString(provider, 'issuer', where);
  const endpointRaw = optionalObject(provider, 'endpoint', where);
  const endpoint: Partial<OidcEndpoints> = {};
  if (endpointRaw)
    for (const key of ['authURL', 'tokenURL', 'userInfoURL', 'jwksURL', 'endSessionURL'] as const) {
      const v = optionalString(endpointRaw, key, `${where}.endpoint`);
      if (v) endpoint[key] = v;
    }
  if (!issuer && (!endpoint.authURL || !endpoint.tokenURL))
    throw new ConfigurationError(`${where}: either issuer or endpoint.authURL and endpoint.tokenURL are required`);
  // KubeSphere always asks for openid and adds the configured scopes.
  const scopes = ['openid', ...(optionalStringArray(provider, 'scopes', where) ?? []).filter((s) => s !== 'openid')];
  const options: OidcProviderOptions = {
    clientID,
    redirectURL,
    scopes,
    getUserInfo: optionalBoolean(provider, 'getUserInfo', where) ?? false,
    insecureSkipVerify: optionalBoolean(provider, 'insecureSkipVerify', where) ?? false,
    emailKey: optionalString(provider, 'emailKey', where) || 'email',
    preferredUsernameKey: optionalString(provider, 'preferredUsernameKey', where) || 'preferred_username',
  };
  if (issuer) options.issuer = issuer;
  const clientSecret = optionalString(provider, 'clientSecret', where);
  if (clientSecret) options.clientSecret = clientSecret;
  if (Object.keys(endpoint).length) options.endpoint = endpoint;
  return options;
}

/** What must be kept between sending the browser to the provider and its callback. */
export interface PendingLogin {
  /** Identity provider name. */
  idp: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
  /** ms since the epoch. */
  createdAt: number;
  /** Where the console goes after signing in (not interpreted here). */
  returnTo?: string;
}

/** Pending logins by state. The in-memory store suits one server; several replicas need a shared one. */
export interface PendingLoginStore {
  put(login: PendingLogin): void;
  /** Removes and returns the login of `state` if it has not expired: a state is good for one callback. */
  take(state: string): PendingLogin | undefined;
}

export class MemoryPendingLoginStore implements PendingLoginStore {
  /** Logins by state, with the time they were stored by this store's clock. */
  private readonly logins = new Map<string, { login: PendingLogin; storedAt: number }>();

  constructor(
    private readonly ttl = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  put(login: PendingLogin): void {
    const now = this.now();
    for (const [state, l] of this.logins) if (l.storedAt + this.ttl < now) this.logins.delete(state);
    this.logins.set(login.state, { login, storedAt: now });
  }

  take(state: string): PendingLogin | undefined {
    const entry = this.logins.get(state);
    if (!entry) return undefined;
    this.logins.delete(state);
    return entry.storedAt + this.ttl < this.now() ? undefined : entry.login;
  }
}

export class OidcError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OidcError';
  }
}

function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** RFC 7636 S256 challenge of a verifier. */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

export class OidcIdentityProvider {
  private jwks?: ReturnType<typeof createLocalJWKSet>;
  private jwksFetchedAt = 0;

  private constructor(
    readonly name: string,
    readonly options: OidcProviderOptions,
    readonly endpoints: OidcEndpoints,
    /** The provider's discovery document, when discovered. */
    readonly metadata: Record<string, unknown> | undefined,
    private readonly now: () => number,
  ) {}

  /** Builds the provider, discovering endpoints from the issuer when one is configured. */
  static async create(
    name: string,
    options: OidcProviderOptions,
    deps: { now?: () => number } = {},
  ): Promise<OidcIdentityProvider> {
    let metadata: Record<string, unknown> | undefined;
    const endpoints: Partial<OidcEndpoints> = { ...options.endpoint };
    if (options.issuer) {
      const url = `${options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const res = await httpFetch(url, { insecureSkipVerify: options.insecureSkipVerify });
      if (res.status !== 200) throw new OidcError(`oidc: discovery at ${url} answered ${res.status}`);
      metadata = jsonObject(res, url);
      // OpenID Connect Discovery §4.3: the document's issuer must be the one asked for.
      if (metadata.issuer !== options.issuer)
        throw new OidcError(
          `oidc: issuer did not match the issuer returned by provider, expected ${JSON.stringify(options.issuer)} got ${JSON.stringify(metadata.issuer)}`,
        );
      const pick = (key: string): string | undefined =>
        typeof metadata![key] === 'string' ? (metadata![key] as string) : undefined;
      endpoints.authURL = pick('authorization_endpoint') ?? endpoints.authURL;
      endpoints.tokenURL = pick('token_endpoint') ?? endpoints.tokenURL;
      endpoints.userInfoURL = pick('userinfo_endpoint') ?? endpoints.userInfoURL;
      endpoints.jwksURL = pick('jwks_uri') ?? endpoints.jwksURL;
      endpoints.endSessionURL = pick('end_session_endpoint') ?? endpoints.endSessionURL;
    }
    if (!endpoints.authURL || !endpoints.tokenURL)
      throw new OidcError('oidc: the provider has no authorization or token endpoint');
    return new OidcIdentityProvider(name, options, endpoints as OidcEndpoints, metadata, deps.now ?? Date.now);
  }

  static async fromConfig(config: IdentityProviderConfig, deps: { now?: () => number } = {}): Promise<OidcIdentityProvider> {
    if (config.type !== OIDC_PROVIDER_TYPE)
      throw new ConfigurationError(`identity provider ${config.name} is of type ${config.type}, not ${OIDC_PROVIDER_TYPE}`);
    return OidcIdentityProvider.create(config.name, parseOidcOptions(config.provider), deps);
  }

  /** Starts a sign-in: the provider URL to redirect the browser to, and the pending login to keep by its state. */
  beginLogin(options: { redirectUri?: string; returnTo?: string } = {}): { url: string; pending: PendingLogin } {
    const pending: PendingLogin = {
      idp: this.name,
      state: randomToken(),
      nonce: randomToken(),
      codeVerifier: randomToken(48),
      redirectUri: options.redirectUri ?? this.options.redirectURL,
      createdAt: this.now(),
    };
    if (options.returnTo) pending.returnTo = options.returnTo;
    const url = new URL(this.endpoints.authURL);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.options.clientID);
    url.searchParams.set('redirect_uri', pending.redirectUri);
    url.searchParams.set('scope', this.options.scopes.join(' '));
    url.searchParams.set('state', pending.state);
    url.searchParams.set('nonce', pending.nonce);
    url.searchParams.set('code_challenge', pkceChallenge(pending.codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return { url: url.toString(), pending };
  }

  /**
   * Finishes a sign-in from the callback's query parameters and the pending login its state named:
   * exchanges the code, verifies the ID token and maps its claims (and the userinfo claims when
   * getUserInfo is set) to an identity.
   */
  async completeLogin(params: Record<string, string | undefined>, pending: PendingLogin): Promise<ExternalIdentity> {
    if (params.error)
      throw new OidcError(
        `oidc: the provider refused the sign-in: ${params.error}${params.error_description ? `: ${params.error_description}` : ''}`,
      );
    if (params.state !== pending.state) throw new OidcError('oidc: state does not match');
    // RFC 9207: when the provider names itself in the response it must be the expected issuer (mix-up attacks).
    if (params.iss !== undefined && this.options.issuer && params.iss !== this.options.issuer)
      throw new OidcError('oidc: the authorization response comes from another issuer');
    if (!params.code) throw new OidcError('oidc: the callback carries no code');

    const tokenResponse = await this.exchangeCode(params.code, pending);
    const idToken = tokenResponse.id_token;
    if (typeof idToken !== 'string') throw new OidcError('oidc: no id_token in token response');
    const claims: Record<string, unknown> = { ...(await this.verifyIdToken(idToken, pending.nonce)) };

    if (this.options.getUserInfo) {
      if (!this.endpoints.userInfoURL) throw new OidcError('oidc: getUserInfo is set but the provider has no userinfo endpoint');
      const accessToken = tokenResponse.access_token;
      if (typeof accessToken !== 'string') throw new OidcError('oidc: no access_token in token response');
      const res = await httpFetch(this.endpoints.userInfoURL, {
        headers: { authorization: `Bearer ${accessToken}` },
        insecureSkipVerify: this.options.insecureSkipVerify,
      });
      if (res.status !== 200) throw new OidcError(`oidc: failed to fetch userinfo: ${res.status}`);
      const userinfo = jsonObject(res, this.endpoints.userInfoURL);
      // OpenID Connect Core §5.3.2: the userinfo sub must be the ID token's.
      if (userinfo.sub !== claims.sub) throw new OidcError('oidc: userinfo is about another subject');
      Object.assign(claims, userinfo);
    }
    return this.identityFromClaims(claims);
  }

  /** KubeSphere's claims → identity: sub is the id; email from emailKey; user name from preferredUsernameKey, else name. */
  identityFromClaims(claims: Record<string, unknown>): ExternalIdentity {
    if (typeof claims.sub !== 'string' || !claims.sub) throw new OidcError('missing required claim "sub"');
    const str = (key: string): string | undefined =>
      typeof claims[key] === 'string' && claims[key] ? (claims[key] as string) : undefined;
    const identity: ExternalIdentity = { uid: claims.sub, username: str(this.options.preferredUsernameKey) ?? str('name') ?? '' };
    const email = str(this.options.emailKey);
    if (email) identity.email = email;
    const name = str('name');
    if (name) identity.displayName = name;
    return identity;
  }

  private tokenEndpointAuthMethod(): 'client_secret_basic' | 'client_secret_post' | 'none' {
    if (!this.options.clientSecret) return 'none';
    const supported = this.metadata?.token_endpoint_auth_methods_supported;
    // OpenID Connect Discovery: when omitted, client_secret_basic is the default.
    if (!Array.isArray(supported) || supported.includes('client_secret_basic')) return 'client_secret_basic';
    if (supported.includes('client_secret_post')) return 'client_secret_post';
    return 'client_secret_basic';
  }

  private async exchangeCode(code: string, pending: PendingLogin): Promise<Record<string, unknown>> {
    const form: Record<string, string> = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: pending.redirectUri,
      code_verifier: pending.codeVerifier,
    };
    const headers: Record<string, string> = {};
    const method = this.tokenEndpointAuthMethod();
    if (method === 'client_secret_basic') {
      // RFC 6749 §2.3.1: id and secret are form-encoded before the Basic encoding.
      const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
      headers.authorization = `Basic ${Buffer.from(`${enc(this.options.clientID)}:${enc(this.options.clientSecret!)}`).toString('base64')}`;
    } else {
      form.client_id = this.options.clientID;
      if (method === 'client_secret_post') form.client_secret = this.options.clientSecret!;
    }
    const res = await httpFetch(this.endpoints.tokenURL, { form, headers, insecureSkipVerify: this.options.insecureSkipVerify });
    const body = jsonObject(res, this.endpoints.tokenURL);
    if (res.status !== 200) {
      const detail =
        typeof body.error === 'string'
          ? `${body.error}${typeof body.error_description === 'string' ? `: ${body.error_description}` : ''}`
          : String(res.status);
      throw new OidcError(`oidc: failed to get token: ${detail}`);
    }
    return body;
  }

  private async fetchJwks(): Promise<void> {
    const url = this.endpoints.jwksURL!;
    const res = await httpFetch(url, { insecureSkipVerify: this.options.insecureSkipVerify });
    if (res.status !== 200) throw new OidcError(`oidc: fetching keys from ${url} answered ${res.status}`);
    this.jwks = createLocalJWKSet(jsonObject(res, url) as unknown as JSONWebKeySet);
    this.jwksFetchedAt = this.now();
  }

  /** Verifies an ID token: signature (JWKS, or the client secret for HS256), issuer, audience, azp, expiry and nonce. */
  async verifyIdToken(idToken: string, nonce: string): Promise<JWTPayload> {
    let payload: JWTPayload;
    const header = decodeProtectedHeader(idToken);
    const common = {
      ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
      audience: this.options.clientID,
      currentDate: new Date(this.now()),
      clockTolerance: 60,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
    };
    try {
      if (typeof header.alg === 'string' && header.alg.startsWith('HS')) {
        if (!this.options.clientSecret) throw new OidcError('oidc: an HMAC-signed ID token needs the client secret');
        ({ payload } = await jwtVerify(idToken, new TextEncoder().encode(this.options.clientSecret), {
          ...common,
          algorithms: ['HS256', 'HS384', 'HS512'],
        }));
      } else if (this.endpoints.jwksURL) {
        const supported = this.metadata?.id_token_signing_alg_values_supported;
        const algorithms = Array.isArray(supported)
          ? supported.filter((a): a is string => typeof a === 'string' && ASYMMETRIC_ALGS.includes(a))
          : ['RS256'];
        if (!this.jwks) await this.fetchJwks();
        try {
          ({ payload } = await jwtVerify(idToken, this.jwks!, { ...common, algorithms }));
        } catch (err) {
          // A key rotated in since the keys were fetched: fetch again, at most every 30 seconds.
          if (!(err instanceof joseErrors.JWKSNoMatchingKey) || this.now() - this.jwksFetchedAt < 30_000) throw err;
          await this.fetchJwks();
          ({ payload } = await jwtVerify(idToken, this.jwks!, { ...common, algorithms }));
        }
      } else {
        // No keys to check against: the token came straight from the token endpoint over TLS, which
        // OpenID Connect Core §3.1.3.7 accepts in place of a signature check; the claims are still checked.
        payload = decodeJwt(idToken);
        const now = this.now() / 1000;
        if (typeof payload.exp !== 'number' || payload.exp + 60 < now) throw new OidcError('oidc: the ID token has expired');
        if (this.options.issuer && payload.iss !== this.options.issuer)
          throw new OidcError('oidc: the ID token comes from another issuer');
        const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
        if (!aud.includes(this.options.clientID)) throw new OidcError('oidc: the ID token is for another client');
      }
    } catch (err) {
      if (err instanceof OidcError || err instanceof HttpError) throw err;
      throw new OidcError(`failed to verify id token: ${(err as Error).message}`);
    }
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (aud.length > 1 && payload.azp !== this.options.clientID)
      throw new OidcError('failed to verify id token: azp is not this client');
    if (payload.nonce !== nonce) throw new OidcError('failed to verify id token: nonce does not match');
    return payload;
  }
}
