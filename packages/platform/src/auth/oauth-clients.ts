/**
 * OAuth clients (KubeSphere's oauth.Client), stored as Secrets of type
 * `config.kubesphere.io/oauthclient` whose `configuration.yaml` reads:
 *
 * ```yaml
 * name: kubesphere                  # the client_id
 * secret: kubesphere                # the client_secret
 * trusted: true                     # may use the password grant
 * grantMethod: auto                 # auto | prompt | deny
 * scopeRestrictions: [openid, email, profile]
 * redirectURIs: [https://app.example.com/callback]
 * accessTokenMaxAgeSeconds: 7200                 # optional, ≥ 600; used with the next one
 * accessTokenInactivityTimeoutSeconds: 1800      # optional, ≥ 600
 * ```
 */
import type { Awaitable, SecretObject } from './model.js';
import {
  ConfigurationError,
  buildConfigurationSecret,
  optionalBoolean,
  optionalInteger,
  optionalString,
  optionalStringArray,
  readConfigurationSecret,
} from './secrets.js';
import type { TokenLifetimes } from './tokens.js';

export const OAUTH_CLIENT_SECRET_TYPE = 'config.kubesphere.io/oauthclient';
export const OAUTH_CLIENT_CONFIG_TYPE = 'oauthclient';

export type GrantMethod = 'auto' | 'prompt' | 'deny';
export const GRANT_METHODS: readonly GrantMethod[] = ['auto', 'prompt', 'deny'];

export interface OAuthClient {
  name: string;
  secret: string;
  trusted: boolean;
  grantMethod: GrantMethod | string;
  respondWithChallenges?: boolean;
  scopeRestrictions: string[];
  redirectURIs: string[];
  accessTokenMaxAgeSeconds?: number;
  accessTokenInactivityTimeoutSeconds?: number;
}

/** The console's client, as KubeSphere's chart installs it. */
export const DEFAULT_OAUTH_CLIENT: OAuthClient = {
  name: 'kubesphere',
  secret: 'kubesphere',
  trusted: true,
  grantMethod: 'auto',
  scopeRestrictions: ['openid', 'email', 'profile'],
  redirectURIs: [],
};

/** Where the server finds clients by client_id (an informer over the Secrets, in the platform server). */
export interface OAuthClientSource {
  get(name: string): Awaitable<OAuthClient | undefined>;
}

export function parseOAuthClientSecret(secret: SecretObject): OAuthClient {
  return parseOAuthClientConfiguration(readConfigurationSecret(secret, OAUTH_CLIENT_SECRET_TYPE));
}

export function parseOAuthClientConfiguration(raw: Record<string, unknown>): OAuthClient {
  const where = 'oauth client';
  const name = optionalString(raw, 'name', where);
  if (!name) throw new ConfigurationError(`${where}.name: required`);
  const client: OAuthClient = {
    name,
    secret: optionalString(raw, 'secret', where) ?? '',
    trusted: optionalBoolean(raw, 'trusted', where) ?? false,
    grantMethod: optionalString(raw, 'grantMethod', where) ?? '',
    scopeRestrictions: optionalStringArray(raw, 'scopeRestrictions', where) ?? [],
    redirectURIs: optionalStringArray(raw, 'redirectURIs', where) ?? [],
  };
  const challenges = optionalBoolean(raw, 'respondWithChallenges', where);
  if (challenges !== undefined) client.respondWithChallenges = challenges;
  const maxAge = optionalInteger(raw, 'accessTokenMaxAgeSeconds', where);
  if (maxAge) client.accessTokenMaxAgeSeconds = maxAge;
  const inactivity = optionalInteger(raw, 'accessTokenInactivityTimeoutSeconds', where);
  if (inactivity) client.accessTokenInactivityTimeoutSeconds = inactivity;
  return client;
}

/** KubeSphere's ValidateClient, with its wording: what an admission check refuses. */
export function validateOAuthClient(client: OAuthClient): string[] {
  const errors: string[] = [];
  if (!GRANT_METHODS.includes(client.grantMethod as GrantMethod)) errors.push(`invalid grant method: ${client.grantMethod}`);
  const inactivity = client.accessTokenInactivityTimeoutSeconds ?? 0;
  if (inactivity !== 0 && inactivity < 600)
    errors.push(`invalid access token inactivity timeout: ${inactivity}, the minimum value can only be 600`);
  const maxAge = client.accessTokenMaxAgeSeconds ?? 0;
  if (maxAge !== 0 && maxAge < 600) errors.push(`invalid access token max age: ${maxAge}, the minimum value can only be 600`);
  for (const uri of client.redirectURIs) if (!URL.canParse(uri)) errors.push(`invalid redirect URI: ${uri}`);
  return errors;
}

export function buildOAuthClientSecret(client: OAuthClient, secretName = `oauthclient-${client.name}`): SecretObject {
  return buildConfigurationSecret(secretName, OAUTH_CLIENT_SECRET_TYPE, OAUTH_CLIENT_CONFIG_TYPE, client);
}

/**
 * The redirect URI to use (KubeSphere's ResolveRedirectURL): the requested one if registered
 * (exact match), the first registered one if none was requested, undefined if not allowed.
 */
export function resolveRedirectURI(client: OAuthClient, requested: string | undefined): string | undefined {
  const registered = client.redirectURIs.filter((u) => URL.canParse(u));
  if (!requested) return registered[0];
  return registered.includes(requested) ? requested : undefined;
}

/** Every requested scope must be among the client's scopeRestrictions; no scope at all is fine. */
export function isValidScope(client: OAuthClient, scopes: readonly string[]): boolean {
  return scopes.every((s) => client.scopeRestrictions.includes(s));
}

/** The client's own token lifetimes, which KubeSphere applies only when it sets both. */
export function clientLifetimes(client: OAuthClient | undefined): Partial<TokenLifetimes> {
  if (!client?.accessTokenMaxAgeSeconds || !client.accessTokenInactivityTimeoutSeconds) return {};
  return {
    accessTokenMaxAge: client.accessTokenMaxAgeSeconds * 1000,
    accessTokenInactivityTimeout: client.accessTokenInactivityTimeoutSeconds * 1000,
  };
}
