/**
 * The OAuth2 / OpenID Connect protocol of KubeSphere's `/oauth/*`, as functions the platform's HTTP
 * server calls: each takes the request's parameters (already parsed from the form or query) and
 * returns an {@link OAuthResponse} (status, headers, body) to send as it is. Errors are RFC 6749
 * `{error, error_description}` bodies with KubeSphere's statuses and wording; token responses carry
 * `Cache-Control: no-store` and `Pragma: no-cache`.
 *
 * Routes and their functions:
 * - POST /oauth/token                       → token()   (grant_type password | refresh_token | authorization_code)
 * - GET|POST /oauth/authorize               → authorize()
 * - GET /oauth/login/<idp>                  → beginExternalLogin()   (Canopy: sends the browser to an OIDC provider)
 * - GET /oauth/callback/<idp>               → callback()
 * - POST /oauth/confirm                     → confirmRegistration()  (Canopy: the /login/confirm step of mappingMethod manual)
 * - GET /oauth/logout                       → logout()
 * - GET /oauth/userinfo                     → userinfo()
 * - GET /oauth/keys                         → keys()
 * - GET /.well-known/openid-configuration   → discovery()
 * - POST /oauth/authenticate                → tokenReview()          (deprecated in KubeSphere)
 * The gateway authenticates API requests with {@link OAuthServer.authenticateToken} (Bearer) and
 * {@link OAuthServer.authenticatePassword} (Basic).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { StatusError } from '@canopy/apimachinery';
import { ALL_AUTHENTICATED_GROUP, PRE_REGISTRATION_GROUP } from '../iam/types.js';
import {
  EXTRA_UNINITIALIZED,
  LOGIN_TYPES,
  PRE_REGISTRATION_USER,
  UNINITIALIZED_ANNOTATION,
  USER_AUTH_LIMIT_EXCEEDED,
  USER_ACTIVE,
  type LoginRecordStore,
  type LoginType,
  type UserObject,
  type UserStatus,
  type UserStore,
} from './model.js';
import {
  DEFAULT_LOGIN_SECURITY,
  buildLoginRecord,
  isLocked,
  loginRecordsToDelete,
  nextUserStatus,
  type LoginSecurityOptions,
} from './login-security.js';
import { clientLifetimes, isValidScope, resolveRedirectURI, type OAuthClient, type OAuthClientSource } from './oauth-clients.js';
import { verifyPassword } from './passwords.js';
import {
  AUTHORIZATION_CODE_LIFETIME,
  TokenError,
  type IdTokenKeys,
  type TokenClaims,
  type TokenManager,
  type TokenResponse,
  type TokenSubject,
  type VerifiedToken,
} from './tokens.js';
import {
  IdentityMappingError,
  createLinkedUser,
  identityFromPreRegistration,
  isValidUsername,
  mapExternalIdentity,
  type MappedIdentity,
} from './identity-providers/config.js';
import { IdentityProviderUnauthorizedError } from './identity-providers/ldap.js';
import { MemoryPendingLoginStore, type PendingLoginStore } from './identity-providers/oidc.js';
import type { IdentityProviderRegistry } from './identity-providers/registry.js';

/** What to send: status, headers and a JSON body (or none, for redirects). */
export interface OAuthResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  /** For the server, not the client: who signed in, and where the console wanted to go afterwards. */
  meta?: { username?: string; returnTo?: string };
}

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'login_required'
  | 'interaction_required'
  | 'server_error';

/** An RFC 6749 error response. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: OAuthErrorCode,
    readonly description?: string,
  ) {
    super(description ?? error);
    this.name = 'OAuthError';
  }

  get body(): { error: string; error_description?: string } {
    return this.description ? { error: this.error, error_description: this.description } : { error: this.error };
  }
}

/** KubeSphere's wording for each failure of the OAuth endpoints. */
export const OAUTH_MESSAGES = {
  clientNotFound: 'The provided client_id is invalid or does not exist.',
  invalidClientCredential: 'Invalid client credential.',
  unsupportedGrantType: 'The provided grant_type is not supported.',
  invalidCredentials: 'Invalid username or password.',
  accountSuspended: 'Account suspended.',
  rateLimitExceeded: 'Rate limit exceeded.',
  invalidRefreshToken: 'The refresh token is invalid or expired.',
  userDoesNotExist: 'Authenticated user does not exist.',
  codeMissing: 'The authorization code is empty or missing.',
  invalidCode: 'The authorization code is invalid or expired.',
  redirectNotAllowed: 'Redirect URI is not allowed.',
  invalidScope: 'The requested scope is invalid or not supported.',
  denied: 'The resource owner or authorization server denied the request.',
  notAuthenticated: 'Not authenticated.',
  consentRequired: 'Consent is required before proceeding with the request.',
  internal: 'An internal server error occurred while processing the request.',
  usernameExists: 'The username already exists. Please enter another username.',
} as const;

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
const JSON_TYPE = { 'content-type': 'application/json' };

function json(status: number, body: unknown, extraHeaders: Record<string, string> = {}): OAuthResponse {
  return { status, headers: { ...JSON_TYPE, ...extraHeaders }, body };
}

function redirect(location: string): OAuthResponse {
  return { status: 302, headers: { location, ...NO_STORE } };
}

function statusResponse(code: number, reason: string, message: string): OAuthResponse {
  return json(code, new StatusError(code, reason, message).status);
}

/** Form or query parameters as a framework hands them over: repeated keys as arrays. */
export type Params = URLSearchParams | Record<string, string | string[] | undefined>;

/** Single values of the named parameters; a repeated one is an invalid_request (RFC 6749 §3.1, §3.2). */
function singleParams(params: Params): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  const entries: [string, string | string[] | undefined][] =
    params instanceof URLSearchParams ? [...new Set(params.keys())].map((k) => [k, params.getAll(k)]) : Object.entries(params);
  for (const [key, value] of entries) {
    if (Array.isArray(value)) {
      if (value.length > 1) throw new OAuthError(400, 'invalid_request', `The request repeats the parameter ${key}.`);
      out[key] = value[0];
    } else if (typeof value === 'string') out[key] = value;
  }
  return out;
}

function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** RFC 7636 §4.1 verifier syntax; the S256 challenge has the length of a base64url SHA-256. */
const PKCE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** A bcrypt hash of a random string: compared against when the user does not exist, so that timing does not tell names apart. */
const DUMMY_HASH = '$2b$10$AtC9BM4.6nyUW0guvPteFeYwrH2mbDjCjqZCri4xeLEsKWJ5rH5i2';

/** An authenticated caller of the API, in the shape of the platform front's PlatformUser. */
export interface AuthenticatedUser {
  name: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

export interface RequestContext {
  /** Client address (X-Forwarded-For resolved by the server). */
  sourceIP: string;
  userAgent?: string;
}

export type PasswordAuthentication =
  | { ok: true; subject: TokenSubject; user?: UserObject; preRegistration: boolean }
  | {
      ok: false;
      reason: 'incorrect_password' | 'account_not_active' | 'rate_limit_exceeded' | 'unknown_provider' | 'mapping';
      message?: string;
    };

export interface OAuthServerOptions {
  /** The issuer URL: the console's origin (KubeSphere's authentication.issuer.url). */
  issuer: string;
  tokens: TokenManager;
  idTokens: IdTokenKeys;
  users: UserStore;
  loginRecords: LoginRecordStore;
  clients: OAuthClientSource;
  identityProviders?: IdentityProviderRegistry;
  /** Pending OIDC sign-ins by state (default: in memory, 10 minutes). */
  pendingLogins?: PendingLoginStore;
  loginSecurity?: Partial<LoginSecurityOptions>;
  /** The console's sign-in page, where /oauth/authorize sends browsers without a session (default `<issuer>/login`). */
  loginURL?: string;
  /** Failures the server should log (never with credentials). */
  onError?: (message: string, err: unknown) => void;
}

export class OAuthServer {
  readonly issuer: string;
  private readonly tokens: TokenManager;
  private readonly idTokens: IdTokenKeys;
  private readonly users: UserStore;
  private readonly loginRecords: LoginRecordStore;
  private readonly clients: OAuthClientSource;
  private readonly idps?: IdentityProviderRegistry;
  private readonly pendingLogins: PendingLoginStore;
  private readonly security: LoginSecurityOptions;
  private readonly loginURL: string;
  private readonly onError: (message: string, err: unknown) => void;

  constructor(options: OAuthServerOptions) {
    this.issuer = options.issuer.replace(/\/$/, '');
    this.tokens = options.tokens;
    this.idTokens = options.idTokens;
    this.users = options.users;
    this.loginRecords = options.loginRecords;
    this.clients = options.clients;
    this.idps = options.identityProviders;
    this.pendingLogins = options.pendingLogins ?? new MemoryPendingLoginStore(10 * 60_000, () => this.tokens.now());
    this.security = { ...DEFAULT_LOGIN_SECURITY, ...options.loginSecurity };
    this.loginURL = options.loginURL ?? `${this.issuer}/login`;
    this.onError = options.onError ?? (() => undefined);
  }

  private now(): number {
    return this.tokens.now();
  }

  private internalError(message: string, err: unknown, extraHeaders: Record<string, string> = {}): OAuthResponse {
    this.onError(message, err);
    return json(500, new OAuthError(500, 'server_error', OAUTH_MESSAGES.internal).body, extraHeaders);
  }

  // ---------------------------------------------------------------- token endpoint

  /** POST /oauth/token. `authorization` is the request's Authorization header (client_secret_basic). */
  async token(form: Params, ctx: RequestContext & { authorization?: string }): Promise<OAuthResponse> {
    try {
      const params = singleParams(form);
      const client = await this.authenticateClient(params, ctx.authorization);
      switch (params.grant_type) {
        case 'password':
          if (!client.trusted) throw new OAuthError(400, 'unsupported_grant_type', OAUTH_MESSAGES.unsupportedGrantType);
          return await this.passwordGrant(params, client, ctx);
        case 'refresh_token':
          return await this.refreshTokenGrant(params, client);
        case 'authorization_code':
        case 'code':
          return await this.codeGrant(params, client);
        default:
          throw new OAuthError(400, 'unsupported_grant_type', OAUTH_MESSAGES.unsupportedGrantType);
      }
    } catch (err) {
      if (err instanceof OAuthError) {
        const headers: Record<string, string> = { ...NO_STORE };
        if (err.status === 401) headers['www-authenticate'] = 'Basic realm="oauth"';
        return json(err.status, err.body, headers);
      }
      return this.internalError('oauth: token request failed', err, NO_STORE);
    }
  }

  /** Client authentication: client_secret_post (KubeSphere) or client_secret_basic (RFC 6749 §2.3.1). */
  private async authenticateClient(params: Record<string, string | undefined>, authorization?: string): Promise<OAuthClient> {
    let clientId = params.client_id;
    let clientSecret = params.client_secret;
    const basic = authorization && /^Basic\s+(.+)$/i.exec(authorization.trim());
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new OAuthError(400, 'invalid_request', 'Malformed client credentials.');
      const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      const basicId = dec(decoded.slice(0, colon));
      if (clientSecret !== undefined || (clientId !== undefined && clientId !== basicId))
        throw new OAuthError(400, 'invalid_request', 'The request uses more than one client authentication method.');
      clientId = basicId;
      clientSecret = dec(decoded.slice(colon + 1));
    }
    const client = clientId ? await this.clients.get(clientId) : undefined;
    if (!client) throw new OAuthError(400, 'invalid_client', OAUTH_MESSAGES.clientNotFound);
    if (!safeEqual(client.secret, clientSecret ?? ''))
      throw new OAuthError(401, 'unauthorized_client', OAUTH_MESSAGES.invalidClientCredential);
    return client;
  }

  private tokenResponse(response: TokenResponse, username: string): OAuthResponse {
    return { ...json(200, response, NO_STORE), meta: { username } };
  }

  private async passwordGrant(
    params: Record<string, string | undefined>,
    client: OAuthClient,
    ctx: RequestContext,
  ): Promise<OAuthResponse> {
    const result = await this.authenticatePassword(params.username ?? '', params.password ?? '', {
      ...ctx,
      provider: params.provider,
      loginType: LOGIN_TYPES.Token,
    });
    if (!result.ok) {
      switch (result.reason) {
        case 'account_not_active':
          throw new OAuthError(400, 'invalid_grant', OAUTH_MESSAGES.accountSuspended);
        case 'rate_limit_exceeded':
          throw new OAuthError(429, 'invalid_grant', OAUTH_MESSAGES.rateLimitExceeded);
        case 'unknown_provider':
          throw new OAuthError(
            400,
            'invalid_request',
            `The identity provider ${JSON.stringify(params.provider)} does not exist.`,
          );
        case 'mapping':
          throw new OAuthError(400, 'invalid_grant', result.message ?? OAUTH_MESSAGES.userDoesNotExist);
        default:
          throw new OAuthError(400, 'invalid_grant', OAUTH_MESSAGES.invalidCredentials);
      }
    }
    const pair = this.tokens.issueTokenPair(result.subject, { lifetimes: clientLifetimes(client), clientId: client.name });
    return this.tokenResponse(pair.response, result.subject.name);
  }

  private async refreshTokenGrant(params: Record<string, string | undefined>, client: OAuthClient): Promise<OAuthResponse> {
    const invalid = new OAuthError(400, 'invalid_grant', OAUTH_MESSAGES.invalidRefreshToken);
    let verified: VerifiedToken;
    try {
      verified = await this.tokens.verify(params.refresh_token ?? '', ['refresh_token']);
    } catch (err) {
      if (err instanceof TokenError) throw invalid;
      throw err;
    }
    // RFC 6749 §6: a refresh token is bound to the client it was issued to.
    if (verified.claims.client_id && verified.claims.client_id !== client.name) throw invalid;

    let subject: TokenSubject;
    let sessionId: string | undefined = verified.claims.sid;
    if (verified.username === PRE_REGISTRATION_USER) {
      // The confirm step happened elsewhere (or an administrator linked a user): continue as that user, in a new session.
      const pending = identityFromPreRegistration(verified.extra);
      const user = pending && (await this.users.findByIdentity(pending.idp, pending.identity.uid));
      if (!user) throw new OAuthError(400, 'invalid_grant', OAUTH_MESSAGES.userDoesNotExist);
      subject = this.subjectOf(user);
      sessionId = undefined;
    } else {
      const user = await this.users.get(verified.username);
      if (!user) throw invalid;
      // Re-read: the password may have been changed since (the uninitialized flag goes away).
      subject = this.subjectOf(user);
    }
    // A refresh token is good once; a second use finds it gone.
    if (!this.tokens.revokeToken(verified.claims)) throw invalid;
    if (sessionId === undefined) this.tokens.store.revokeSession(verified.claims.sid);
    const pair = this.tokens.issueTokenPair(subject, {
      lifetimes: clientLifetimes(client),
      clientId: client.name,
      sessionId,
      scopes: verified.claims.scopes,
    });
    return this.tokenResponse(pair.response, subject.name);
  }

  private async codeGrant(params: Record<string, string | undefined>, client: OAuthClient): Promise<OAuthResponse> {
    const code = params.code;
    if (!code) throw new OAuthError(400, 'invalid_request', OAUTH_MESSAGES.codeMissing);
    if (!resolveRedirectURI(client, params.redirect_uri))
      throw new OAuthError(400, 'invalid_request', OAUTH_MESSAGES.redirectNotAllowed);
    const invalid = new OAuthError(400, 'invalid_grant', OAUTH_MESSAGES.invalidCode);

    let verified: VerifiedToken;
    try {
      verified = await this.tokens.verify(code, ['code']);
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      if (err.reason === 'revoked') {
        // RFC 6749 §4.1.2: a code used twice revokes what was issued from it.
        try {
          const claims = this.tokens.parse(code);
          if (claims.token_type === 'code') this.tokens.store.revokeSession(claims.sid);
        } catch {
          // not our code at all
        }
      }
      throw invalid;
    }
    const claims = verified.claims;
    if (!claims.aud?.includes(client.name)) throw invalid;
    if (claims.redirect_uri !== undefined && claims.redirect_uri !== params.redirect_uri)
      throw new OAuthError(400, 'invalid_grant', 'The redirect_uri does not match the one of the authorization request.');
    checkPkce(claims, params.code_verifier);
    if (!this.tokens.revokeToken(claims)) throw invalid;

    const user = await this.users.get(verified.username);
    if (!user) throw new OAuthError(400, 'invalid_grant', OAUTH_MESSAGES.userDoesNotExist);
    const subject = this.subjectOf(user);
    const lifetimes = { ...this.tokens.defaults, ...clientLifetimes(client) };
    const pair = this.tokens.issueTokenPair(subject, {
      lifetimes,
      clientId: client.name,
      sessionId: claims.sid,
      scopes: claims.scopes,
    });
    const response: TokenResponse = { ...pair.response };
    if (claims.scopes?.includes('openid')) {
      response.id_token = await this.issueIdToken(
        user,
        client,
        claims.scopes,
        claims.nonce,
        claims.sid,
        lifetimes.accessTokenMaxAge + lifetimes.accessTokenInactivityTimeout,
      );
    }
    return this.tokenResponse(response, subject.name);
  }

  /** The token subject of a user: name, uid, and the uninitialized flag that makes the console ask for a new password. */
  private subjectOf(user: UserObject): TokenSubject {
    const subject: TokenSubject = { name: user.metadata.name };
    if (user.metadata.uid) subject.uid = user.metadata.uid;
    const uninitialized = user.metadata.annotations?.[UNINITIALIZED_ANNOTATION];
    if (uninitialized) subject.extra = { [EXTRA_UNINITIALIZED]: [uninitialized] };
    return subject;
  }

  private async issueIdToken(
    user: UserObject,
    client: OAuthClient,
    scopes: readonly string[],
    nonce: string | undefined,
    sessionId: string,
    lifetime: number,
  ): Promise<string> {
    const iat = Math.floor(this.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: this.tokens.issuer,
      sub: user.metadata.name,
      aud: [client.name],
      iat,
      exp: iat + Math.floor(lifetime / 1000),
      token_type: 'id_token',
      username: user.metadata.name,
      name: user.spec.displayName || user.metadata.name,
      sid: sessionId,
    };
    if (nonce) claims.nonce = nonce;
    if (scopes.includes('profile')) {
      claims.preferred_username = user.metadata.name;
      if (user.spec.lang) claims.locale = user.spec.lang;
    }
    if (scopes.includes('email') && user.spec.email) claims.email = user.spec.email;
    return this.idTokens.sign(claims);
  }

  // ---------------------------------------------------------------- password authentication

  /**
   * Checks a user name (or email) and password: the platform's own users by default, or an identity
   * provider's (`provider`). Records the attempt as a LoginRecord, locks the user after too many
   * failures, lifts an expired lock, and updates lastLoginTime. Used by the password grant and by
   * the gateway for Basic authentication (loginType Basic).
   */
  async authenticatePassword(
    username: string,
    password: string,
    ctx: RequestContext & {
      provider?: string;
      loginType?: LoginType;
      /** False for credentials sent with every request (Basic): only failures are recorded then. */
      recordSuccess?: boolean;
    },
  ): Promise<PasswordAuthentication> {
    const loginType = ctx.loginType ?? LOGIN_TYPES.Token;
    if (ctx.provider) return this.authenticateWithProvider(ctx.provider, username, password, { ...ctx, loginType });
    if (!username || !password) return { ok: false, reason: 'incorrect_password' };

    let user = /^[^@\s]+@[^@\s]+$/.test(username) ? await this.users.findByEmail(username) : await this.users.get(username);
    if (!user) {
      await verifyPassword(password, DUMMY_HASH);
      return { ok: false, reason: 'incorrect_password' };
    }
    user = await this.liftExpiredLock(user);
    const state = user.status?.state;
    if (state === USER_AUTH_LIMIT_EXCEEDED) return { ok: false, reason: 'rate_limit_exceeded' };
    if (state && state !== USER_ACTIVE) return { ok: false, reason: 'account_not_active' };

    const hash = user.spec.password ?? '';
    if (!hash || !(await verifyPassword(password, hash))) {
      await this.recordAttempt(user, {
        type: loginType,
        sourceIP: ctx.sourceIP,
        userAgent: ctx.userAgent,
        failure: 'incorrect password',
      });
      return { ok: false, reason: 'incorrect_password' };
    }
    if (ctx.recordSuccess !== false)
      await this.recordAttempt(user, { type: loginType, sourceIP: ctx.sourceIP, userAgent: ctx.userAgent });
    return { ok: true, subject: this.subjectOf(user), user, preRegistration: false };
  }

  private async authenticateWithProvider(
    providerName: string,
    username: string,
    password: string,
    ctx: RequestContext & { loginType: LoginType },
  ): Promise<PasswordAuthentication> {
    const config = this.idps?.config(providerName);
    const provider = config && (await this.idps!.passwordProvider(providerName));
    if (!config || !provider) return { ok: false, reason: 'unknown_provider' };
    if (!username || !password) return { ok: false, reason: 'incorrect_password' };

    // A platform user of that name may be locked by earlier failures: refuse before asking the provider.
    let sameName = await this.users.get(username.toLowerCase());
    if (sameName) {
      sameName = await this.liftExpiredLock(sameName);
      if (sameName.status?.state === USER_AUTH_LIMIT_EXCEEDED) return { ok: false, reason: 'rate_limit_exceeded' };
    }
    const attempt = { type: ctx.loginType, provider: providerName, sourceIP: ctx.sourceIP, userAgent: ctx.userAgent };
    let mapped: MappedIdentity;
    try {
      const identity = await provider.authenticate(username, password);
      mapped = await mapExternalIdentity(this.users, config, identity);
    } catch (err) {
      if (err instanceof IdentityProviderUnauthorizedError) {
        if (sameName) await this.recordAttempt(sameName, { ...attempt, failure: 'incorrect password' });
        return { ok: false, reason: 'incorrect_password' };
      }
      if (err instanceof IdentityMappingError) {
        if (err.reason === 'disabled') return { ok: false, reason: 'account_not_active' };
        return {
          ok: false,
          reason: 'mapping',
          message: err.reason === 'not_found' ? OAUTH_MESSAGES.userDoesNotExist : err.message,
        };
      }
      throw err;
    }
    if (mapped.kind === 'preRegistration')
      return { ok: true, subject: { name: PRE_REGISTRATION_USER, extra: mapped.extra }, preRegistration: true };
    const user = await this.liftExpiredLock(mapped.user);
    if (user.status?.state === USER_AUTH_LIMIT_EXCEEDED) return { ok: false, reason: 'rate_limit_exceeded' };
    await this.recordAttempt(user, attempt);
    return { ok: true, subject: this.subjectOf(user), user, preRegistration: false };
  }

  /** A lock whose duration has passed is lifted at sign-in, without waiting for the users controller. */
  private async liftExpiredLock(user: UserObject): Promise<UserObject> {
    if (user.status?.state !== USER_AUTH_LIMIT_EXCEEDED || isLocked(user, this.now(), this.security)) return user;
    const status = nextUserStatus(user, [], this.now(), this.security);
    if (!status) return user;
    await this.users.updateStatus(user.metadata.name, status);
    return { ...user, status: { ...user.status, ...status } };
  }

  /**
   * Leaves a LoginRecord for the attempt, trims the user's records to the retention rules, locks the
   * user when the failures reach the limit, and sets lastLoginTime (KubeSphere: the last attempt).
   */
  private async recordAttempt(
    user: UserObject,
    attempt: { type: LoginType; provider?: string; sourceIP: string; userAgent?: string; failure?: string },
  ): Promise<void> {
    const now = this.now();
    const username = user.metadata.name;
    try {
      await this.loginRecords.create(buildLoginRecord({ username, ...attempt }));
      const records = await this.loginRecords.listForUser(username);
      for (const name of loginRecordsToDelete(records, now, this.security)) await this.loginRecords.delete(name);
      const status: UserStatus = { lastLoginTime: new Date(now).toISOString() };
      if (attempt.failure !== undefined) Object.assign(status, nextUserStatus(user, records, now, this.security));
      await this.users.updateStatus(username, status);
    } catch (err) {
      // KubeSphere logs a failed record and answers the sign-in anyway; so does Canopy.
      this.onError(`oauth: failed to record the sign-in attempt of user ${username}`, err);
    }
  }

  // ---------------------------------------------------------------- authorization endpoint

  /**
   * GET|POST /oauth/authorize. `username` is the caller the server authenticated (console session
   * or bearer token), undefined when anonymous; `requestURL` is the full authorize URL, to come back
   * to after signing in.
   */
  async authorize(input: Params, ctx: { username?: string; requestURL?: string }): Promise<OAuthResponse> {
    let params: Record<string, string | undefined>;
    try {
      params = singleParams(input);
    } catch (err) {
      return json(400, (err as OAuthError).body);
    }
    const client = params.client_id ? await this.clients.get(params.client_id) : undefined;
    if (!client) return json(400, new OAuthError(400, 'invalid_client', OAUTH_MESSAGES.clientNotFound).body);
    const redirectURI = resolveRedirectURI(client, params.redirect_uri);
    if (!redirectURI) return json(400, new OAuthError(400, 'invalid_request', OAUTH_MESSAGES.redirectNotAllowed).body);

    const state = params.state;
    // Past this point errors go back to the client's redirect URI (RFC 6749 §4.1.2.1).
    const informError = (error: OAuthErrorCode, description: string): OAuthResponse => {
      const url = new URL(redirectURI);
      url.searchParams.set('error', error);
      url.searchParams.set('error_description', description);
      if (state) url.searchParams.set('state', state);
      return redirect(url.toString());
    };

    const scopes = params.scope ? params.scope.split(' ').filter(Boolean) : [];
    if (!isValidScope(client, scopes)) return informError('invalid_scope', OAUTH_MESSAGES.invalidScope);
    const responseTypes = params.response_type ? params.response_type.split(' ').filter(Boolean) : [];
    if (responseTypes.length !== 1 || !['code', 'id_token'].includes(responseTypes[0]))
      return informError(
        'unsupported_response_type',
        `The provided response_type ${params.response_type ?? ''} is not supported by the authorization server.`,
      );
    const responseType = responseTypes[0];
    if (client.grantMethod === 'deny') return informError('invalid_grant', OAUTH_MESSAGES.denied);

    const challenge = params.code_challenge;
    const challengeMethod = params.code_challenge_method ?? (challenge ? 'plain' : undefined);
    if (challengeMethod !== undefined) {
      if (!challenge) return informError('invalid_request', 'code_challenge_method was sent without a code_challenge.');
      if (challengeMethod !== 'S256' && challengeMethod !== 'plain')
        return informError('invalid_request', 'The code_challenge_method is not supported.');
      if (!PKCE_VERIFIER.test(challenge)) return informError('invalid_request', 'The code_challenge is malformed.');
    }

    const user = ctx.username && ctx.username !== PRE_REGISTRATION_USER ? await this.users.get(ctx.username) : undefined;
    if (!user) {
      if (params.prompt === 'none') return informError('login_required', OAUTH_MESSAGES.notAuthenticated);
      const login = new URL(this.loginURL);
      if (ctx.requestURL) login.searchParams.set('referer', ctx.requestURL);
      return redirect(login.toString());
    }
    // Canopy has no consent page: "prompt" clients are approved like "auto" ones, unless the client asked for no interaction.
    if (params.prompt === 'none' && client.grantMethod !== 'auto')
      return informError('interaction_required', OAUTH_MESSAGES.consentRequired);

    if (responseType === 'code') {
      const { token: code } = this.tokens.issue({
        user: this.subjectOf(user),
        tokenType: 'code',
        expiresIn: AUTHORIZATION_CODE_LIFETIME,
        audience: [client.name],
        clientId: client.name,
        scopes,
        nonce: params.nonce,
        redirectUri: params.redirect_uri,
        codeChallenge: challenge,
        codeChallengeMethod: challengeMethod as 'S256' | 'plain' | undefined,
      });
      const url = new URL(redirectURI);
      url.searchParams.set('code', code);
      if (state) url.searchParams.set('state', state);
      return redirect(url.toString());
    }

    // Implicit ID token (response_type=id_token): OpenID Connect Core §3.2.2.1 requires a nonce.
    if (!params.nonce) return informError('invalid_request', 'The nonce parameter is required.');
    const lifetimes = { ...this.tokens.defaults, ...clientLifetimes(client) };
    const idToken = await this.issueIdToken(
      user,
      client,
      scopes,
      params.nonce,
      'implicit',
      lifetimes.accessTokenMaxAge + lifetimes.accessTokenInactivityTimeout,
    );
    const url = new URL(redirectURI);
    const fragment = new URLSearchParams({ id_token: idToken });
    if (state) fragment.set('state', state);
    url.hash = fragment.toString();
    return redirect(url.toString());
  }

  // ---------------------------------------------------------------- external identity providers

  /** GET /oauth/login/<idp>: sends the browser to the OIDC provider, remembering the sign-in by its state. */
  async beginExternalLogin(idp: string, options: { returnTo?: string; redirectUri?: string } = {}): Promise<OAuthResponse> {
    const provider = await this.oauthProvider(idp);
    if (!provider) return statusResponse(404, 'NotFound', `identity provider ${idp} not found`);
    const { url, pending } = provider.beginLogin(options);
    this.pendingLogins.put(pending);
    return redirect(url);
  }

  private async oauthProvider(idp: string) {
    try {
      return await this.idps?.oauthProvider(idp);
    } catch (err) {
      this.onError(`oauth: identity provider ${idp} is unavailable`, err);
      return undefined;
    }
  }

  /**
   * GET /oauth/callback/<idp>: finishes an OIDC sign-in and answers the token (KubeSphere's
   * oauthCallback). Failures are a Kubernetes 401 Status "Unauthorized: …", as KubeSphere answers.
   */
  async callback(idp: string, query: Params, ctx: RequestContext): Promise<OAuthResponse> {
    const unauthorized = (message: string) => ({
      ...statusResponse(401, 'Unauthorized', `Unauthorized: ${message}`),
      headers: { ...JSON_TYPE, ...NO_STORE },
    });
    let params: Record<string, string | undefined>;
    try {
      params = singleParams(query);
    } catch (err) {
      return unauthorized((err as OAuthError).description ?? 'invalid request');
    }
    const config = this.idps?.config(idp);
    const provider = config && (await this.oauthProvider(idp));
    if (!config || !provider) return unauthorized(`identity provider ${idp} not exist`);
    const pending = params.state ? this.pendingLogins.take(params.state) : undefined;
    if (!pending || pending.idp !== idp)
      return unauthorized('the sign-in has expired or was not started here, please sign in again');

    let mapped: MappedIdentity;
    try {
      const identity = await provider.completeLogin(params, pending);
      mapped = await mapExternalIdentity(this.users, config, identity);
    } catch (err) {
      if (err instanceof IdentityMappingError) return unauthorized(err.message);
      this.onError(`oauth: sign-in through ${idp} failed`, err);
      return unauthorized(`failed to exchange identity for ${idp}, error: ${(err as Error).message}`);
    }
    try {
      let subject: TokenSubject;
      if (mapped.kind === 'preRegistration') {
        subject = { name: PRE_REGISTRATION_USER, extra: mapped.extra };
      } else {
        subject = this.subjectOf(mapped.user);
        await this.recordAttempt(mapped.user, {
          type: LOGIN_TYPES.OAuth,
          provider: idp,
          sourceIP: ctx.sourceIP,
          userAgent: ctx.userAgent,
        });
      }
      const pair = this.tokens.issueTokenPair(subject);
      return {
        ...this.tokenResponse(pair.response, subject.name),
        meta: { username: subject.name, ...(pending.returnTo ? { returnTo: pending.returnTo } : {}) },
      };
    } catch (err) {
      return this.internalError('oauth: failed to issue token', err, NO_STORE);
    }
  }

  /**
   * POST /oauth/confirm with the pre-registration access token: the new external user picks a user
   * name (and may correct the email); the user is created, linked to the identity, and signed in.
   */
  async confirmRegistration(
    accessToken: string,
    body: { username?: unknown; email?: unknown },
    ctx: RequestContext,
  ): Promise<OAuthResponse> {
    let verified: VerifiedToken;
    try {
      verified = await this.tokens.verify(accessToken, ['access_token']);
    } catch {
      return json(401, new OAuthError(401, 'login_required', OAUTH_MESSAGES.notAuthenticated).body, {
        ...NO_STORE,
        'www-authenticate': 'Bearer',
      });
    }
    const pending = verified.username === PRE_REGISTRATION_USER ? identityFromPreRegistration(verified.extra) : undefined;
    if (!pending)
      return json(400, new OAuthError(400, 'invalid_request', 'There is no pending registration to confirm.').body, NO_STORE);
    const username = typeof body.username === 'string' ? body.username : '';
    if (!isValidUsername(username))
      return json(
        400,
        new OAuthError(
          400,
          'invalid_request',
          'Invalid username. The username can contain only lowercase letters, numbers, hyphens (-), and dots (.), and must start and end with a lowercase letter or number. The maximum length is 32 characters.',
        ).body,
        NO_STORE,
      );
    if (body.email !== undefined && typeof body.email !== 'string')
      return json(400, new OAuthError(400, 'invalid_request', 'The email must be a string.').body, NO_STORE);
    if (!this.idps?.config(pending.idp))
      return json(400, new OAuthError(400, 'invalid_request', `identity provider ${pending.idp} not exist`).body, NO_STORE);

    try {
      let user = await this.users.findByIdentity(pending.idp, pending.identity.uid);
      if (!user) {
        const identity = { ...pending.identity, ...(typeof body.email === 'string' && body.email ? { email: body.email } : {}) };
        try {
          user = await createLinkedUser(this.users, pending.idp, identity, username);
        } catch (err) {
          if (err instanceof IdentityMappingError && err.reason === 'conflict')
            return json(409, new OAuthError(409, 'invalid_request', OAUTH_MESSAGES.usernameExists).body, NO_STORE);
          throw err;
        }
      }
      this.tokens.store.revokeSession(verified.claims.sid);
      await this.recordAttempt(user, {
        type: LOGIN_TYPES.OAuth,
        provider: pending.idp,
        sourceIP: ctx.sourceIP,
        userAgent: ctx.userAgent,
      });
      const subject = this.subjectOf(user);
      return this.tokenResponse(this.tokens.issueTokenPair(subject).response, subject.name);
    } catch (err) {
      return this.internalError('oauth: failed to confirm a registration', err, NO_STORE);
    }
  }

  // ---------------------------------------------------------------- session, userinfo, discovery

  /**
   * GET /oauth/logout: ends the session of the bearer token (its access and refresh tokens). With
   * post_logout_redirect_uri, redirects there (with state) if it is on the console's origin or
   * registered for the client of a valid id_token_hint; KubeSphere redirects anywhere.
   */
  async logout(query: Params, ctx: { authorization?: string }): Promise<OAuthResponse> {
    let params: Record<string, string | undefined>;
    try {
      params = singleParams(query);
    } catch (err) {
      return json(400, (err as OAuthError).body);
    }
    const bearer = ctx.authorization && /^Bearer\s+(\S+)$/i.exec(ctx.authorization.trim());
    if (bearer) {
      try {
        this.tokens.revokeSession(bearer[1]);
      } catch {
        // Not one of ours, or tampered with: nothing to end.
      }
    }
    const target = params.post_logout_redirect_uri;
    if (!target) return json(200, { message: 'success' }, NO_STORE);
    if (!URL.canParse(target)) return statusResponse(400, 'BadRequest', `invalid logout redirect URI: ${target}`);
    if (!(await this.logoutRedirectAllowed(target, params.id_token_hint)))
      return json(400, new OAuthError(400, 'invalid_request', 'The post_logout_redirect_uri is not allowed.').body, NO_STORE);
    const url = new URL(target);
    if (params.state) url.searchParams.set('state', params.state);
    return redirect(url.toString());
  }

  private async logoutRedirectAllowed(target: string, idTokenHint: string | undefined): Promise<boolean> {
    if (new URL(target).origin === new URL(this.issuer).origin) return true;
    if (!idTokenHint) return false;
    try {
      const claims = await this.idTokens.verify(idTokenHint, { issuer: this.tokens.issuer, now: this.now() });
      const audiences = Array.isArray(claims.aud) ? claims.aud : claims.aud ? [claims.aud] : [];
      for (const aud of audiences) {
        const client = await this.clients.get(aud);
        if (client?.redirectURIs.includes(target)) return true;
      }
    } catch {
      // An invalid hint allows nothing.
    }
    return false;
  }

  /** GET /oauth/userinfo for the user the server authenticated (KubeSphere's token.Claims of the user). */
  async userinfo(ctx: { username?: string }): Promise<OAuthResponse> {
    const unauthenticated = json(401, new OAuthError(401, 'login_required', OAUTH_MESSAGES.notAuthenticated).body, {
      'www-authenticate': 'Bearer',
    });
    if (!ctx.username || ctx.username === PRE_REGISTRATION_USER) return unauthenticated;
    const user = await this.users.get(ctx.username);
    if (!user) return unauthenticated;
    const body: Record<string, string> = {
      sub: user.metadata.name,
      name: user.spec.displayName || user.metadata.name,
      preferred_username: user.metadata.name,
    };
    if (user.spec.email) body.email = user.spec.email;
    if (user.spec.lang) body.locale = user.spec.lang;
    return json(200, body, NO_STORE);
  }

  /** The OpenID provider metadata (KubeSphere's ProviderMetadata, plus what Canopy also supports). */
  discoveryDocument(): Record<string, unknown> {
    const base = this.tokens.issuer.replace(/\/$/, '');
    return {
      issuer: this.tokens.issuer,
      authorization_endpoint: `${base}/oauth/authorize`,
      token_endpoint: `${base}/oauth/token`,
      userinfo_endpoint: `${base}/oauth/userinfo`,
      jwks_uri: `${base}/oauth/keys`,
      end_session_endpoint: `${base}/oauth/logout`,
      grant_types_supported: ['authorization_code', 'refresh_token', 'password'],
      response_types_supported: ['code', 'id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [this.idTokens.alg],
      code_challenge_methods_supported: ['plain', 'S256'],
      scopes_supported: ['openid', 'email', 'profile'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      claims_supported: ['iss', 'sub', 'aud', 'iat', 'exp', 'email', 'locale', 'preferred_username', 'name', 'nonce'],
    };
  }

  discovery(): OAuthResponse {
    return json(200, this.discoveryDocument());
  }

  /** GET /oauth/keys: the JWK Set that verifies ID tokens. */
  keys(): OAuthResponse {
    return json(200, this.idTokens.jwks());
  }

  /** Authenticates a bearer token for the gateway (access and static tokens). Throws {@link TokenError}. */
  authenticateToken(token: string): Promise<VerifiedToken> {
    return this.tokens.verify(token);
  }

  /**
   * The gateway's authentication of an API request from its Authorization header: a Bearer token
   * (access or static), or Basic credentials of a platform user (KubeSphere's basic authenticator;
   * only failures leave LoginRecords, so that they still count towards a lock). Returns the user,
   * `'invalid'` for credentials that do not authenticate (401), or undefined without credentials.
   */
  async authenticateHeaders(
    headers: IncomingHttpHeaders,
    ctx: RequestContext,
  ): Promise<AuthenticatedUser | 'invalid' | undefined> {
    const header = headers.authorization?.trim();
    if (!header) return undefined;
    const bearer = /^Bearer\s+(\S+)$/i.exec(header);
    if (bearer) {
      try {
        const verified = await this.tokens.verify(bearer[1]);
        const groups =
          verified.username === PRE_REGISTRATION_USER ? [PRE_REGISTRATION_GROUP] : [...verified.groups, ALL_AUTHENTICATED_GROUP];
        return { name: verified.username, ...(verified.uid ? { uid: verified.uid } : {}), groups, extra: verified.extra };
      } catch (err) {
        if (err instanceof TokenError) return 'invalid';
        throw err;
      }
    }
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return 'invalid';
      const result = await this.authenticatePassword(decoded.slice(0, colon), decoded.slice(colon + 1), {
        ...ctx,
        loginType: LOGIN_TYPES.BasicAuth,
        recordSuccess: false,
      });
      if (!result.ok || result.preRegistration) return 'invalid';
      const user = result.user!;
      return {
        name: result.subject.name,
        ...(result.subject.uid ? { uid: result.subject.uid } : {}),
        groups: [...(user.spec.groups ?? []), ALL_AUTHENTICATED_GROUP],
        extra: result.subject.extra ?? {},
      };
    }
    return 'invalid';
  }

  /** POST /oauth/authenticate: KubeSphere's (deprecated) webhook TokenReview. */
  async tokenReview(body: unknown): Promise<OAuthResponse> {
    const review = body as { apiVersion?: unknown; spec?: { token?: unknown } } | undefined;
    const token = review?.spec?.token;
    if (typeof token !== 'string' || !token) return statusResponse(400, 'BadRequest', 'token must not be null');
    try {
      const verified = await this.tokens.verify(token);
      return json(200, {
        apiVersion: review?.apiVersion,
        kind: 'TokenReview',
        status: { authenticated: true, user: { username: verified.username, uid: verified.uid ?? '' } },
      });
    } catch (err) {
      if (err instanceof TokenError) return statusResponse(400, 'BadRequest', err.message);
      return this.internalError('oauth: token review failed', err);
    }
  }
}

/** RFC 7636 §4.6: the verifier must match the challenge the code was issued with. */
function checkPkce(claims: TokenClaims, verifier: string | undefined): void {
  if (!claims.code_challenge) {
    // A verifier without a challenge means the challenge was stripped on the way (RFC 9700 §2.1.1): refuse.
    if (verifier !== undefined)
      throw new OAuthError(400, 'invalid_grant', 'A code_verifier was sent but the authorization request had no code_challenge.');
    return;
  }
  if (!verifier || !PKCE_VERIFIER.test(verifier))
    throw new OAuthError(400, 'invalid_grant', 'The code_verifier is missing or malformed.');
  const computed = claims.code_challenge_method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  if (!safeEqual(computed, claims.code_challenge))
    throw new OAuthError(400, 'invalid_grant', 'The code_verifier does not match the code_challenge.');
}
