/**
 * LDAP identity provider (type LDAPIdentityProvider) with KubeSphere's options:
 *
 * ```yaml
 * provider:
 *   host: ldap.example.com:389          # host:port, or an ldap:// / ldaps:// URL
 *   managerDN: cn=reader,dc=example,dc=com
 *   managerPassword: …
 *   userSearchBase: ou=people,dc=example,dc=com
 *   userSearchFilter: (objectClass=inetOrgPerson)
 *   loginAttribute: uid
 *   mailAttribute: mail
 *   displayNameAttribute: displayName
 *   startTLS: false                     # KubeSphere: connect with TLS (ldaps); see below
 *   insecureSkipVerify: false
 *   rootCA: /path/ca.pem                # or rootCAData: base64 of a PEM bundle
 *   readTimeout: 15000                  # ms
 * ```
 *
 * Sign-in as KubeSphere does it: bind as the manager, search the user under userSearchBase with
 * `(&(<loginAttribute>=<name>)<userSearchFilter>)`, exactly one entry must match, bind as that
 * entry with the password, and read the mail and display name attributes.
 *
 * TLS: KubeSphere's `startTLS: true` opens a TLS connection from the start (its code dials TLS,
 * port 636 by default), and so does an `ldaps://` host. With an explicit `ldap://` host, `startTLS:
 * true` upgrades the plain connection with the StartTLS operation instead.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError, SizeLimitExceededError, type Entry } from 'ldapts';
import { ConfigurationError, optionalBoolean, optionalInteger, optionalString } from '../secrets.js';
import type { ExternalIdentity, IdentityProviderConfig } from './config.js';

export const LDAP_PROVIDER_TYPE = 'LDAPIdentityProvider';

export interface LdapProviderOptions {
  host: string;
  /** ms; KubeSphere's default 15000. */
  readTimeout: number;
  startTLS: boolean;
  insecureSkipVerify: boolean;
  rootCA?: string;
  rootCAData?: string;
  managerDN?: string;
  managerPassword?: string;
  userSearchBase: string;
  userSearchFilter?: string;
  loginAttribute: string;
  mailAttribute: string;
  displayNameAttribute: string;
}

/** An identity provider that checks a user name and password itself (the password grant's `provider` parameter). */
export interface PasswordIdentityProvider {
  readonly name: string;
  /** Throws {@link IdentityProviderUnauthorizedError} when the credentials are wrong; other errors are failures of the provider. */
  authenticate(username: string, password: string): Promise<ExternalIdentity>;
}

/** Wrong credentials at an identity provider (KubeSphere answers them as an incorrect password). */
export class IdentityProviderUnauthorizedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityProviderUnauthorizedError';
  }
}

export function parseLdapOptions(provider: Record<string, unknown>): LdapProviderOptions {
  const where = 'provider';
  const host = optionalString(provider, 'host', where);
  if (!host) throw new ConfigurationError(`${where}.host: required`);
  const userSearchBase = optionalString(provider, 'userSearchBase', where);
  if (!userSearchBase) throw new ConfigurationError(`${where}.userSearchBase: required`);
  const userSearchFilter = optionalString(provider, 'userSearchFilter', where);
  if (userSearchFilter && !/^\(.*\)$/s.test(userSearchFilter.trim()))
    throw new ConfigurationError(
      `${where}.userSearchFilter: must be an LDAP filter in parentheses, such as (objectClass=person)`,
    );
  const readTimeout = optionalInteger(provider, 'readTimeout', where);
  const options: LdapProviderOptions = {
    host,
    readTimeout: readTimeout && readTimeout > 0 ? readTimeout : 15_000,
    startTLS: optionalBoolean(provider, 'startTLS', where) ?? false,
    insecureSkipVerify: optionalBoolean(provider, 'insecureSkipVerify', where) ?? false,
    userSearchBase,
    loginAttribute: optionalString(provider, 'loginAttribute', where) || 'uid',
    mailAttribute: optionalString(provider, 'mailAttribute', where) || 'mail',
    displayNameAttribute: optionalString(provider, 'displayNameAttribute', where) || 'displayName',
  };
  for (const key of ['rootCA', 'rootCAData', 'managerDN', 'managerPassword'] as const) {
    const v = optionalString(provider, key, where);
    if (v) options[key] = v;
  }
  if (userSearchFilter) options.userSearchFilter = userSearchFilter.trim();
  for (const key of ['loginAttribute', 'mailAttribute', 'displayNameAttribute'] as const)
    if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(options[key])) throw new ConfigurationError(`${where}.${key}: not an attribute name`);
  return options;
}

/** Where and how to connect: the URL ldapts dials and whether to upgrade with StartTLS after connecting. */
export function ldapEndpoint(options: Pick<LdapProviderOptions, 'host' | 'startTLS'>): {
  url: string;
  upgradeWithStartTLS: boolean;
} {
  const explicit = /^(ldaps?):\/\//i.exec(options.host);
  if (explicit) {
    const scheme = explicit[1].toLowerCase();
    const rest = options.host.slice(explicit[0].length).replace(/\/.*$/, '');
    const hasPort = /:\d+$/.test(rest) && !/^\[[^\]]*\]$/.test(rest);
    const url = `${scheme}://${hasPort ? rest : `${rest}:${scheme === 'ldaps' ? 636 : 389}`}`;
    return { url, upgradeWithStartTLS: scheme === 'ldap' && options.startTLS };
  }
  const hasPort = /:\d+$/.test(options.host) && !/^\[[^\]]*\]$/.test(options.host);
  const scheme = options.startTLS ? 'ldaps' : 'ldap';
  return {
    url: `${scheme}://${hasPort ? options.host : `${options.host}:${options.startTLS ? 636 : 389}`}`,
    upgradeWithStartTLS: false,
  };
}

function attributeValue(entry: Entry, attribute: string): string | undefined {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  if (!key) return undefined;
  const value = entry[key];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
}

/** RFC 4515 escaping of a value inside a filter. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export class LdapIdentityProvider implements PasswordIdentityProvider {
  constructor(
    readonly name: string,
    readonly options: LdapProviderOptions,
  ) {}

  /** The provider an identity provider configuration of type LDAPIdentityProvider describes. */
  static fromConfig(config: IdentityProviderConfig): LdapIdentityProvider {
    if (config.type !== LDAP_PROVIDER_TYPE)
      throw new ConfigurationError(`identity provider ${config.name} is of type ${config.type}, not ${LDAP_PROVIDER_TYPE}`);
    return new LdapIdentityProvider(config.name, parseLdapOptions(config.provider));
  }

  private tlsOptions(): ConnectionOptions {
    const tls: ConnectionOptions = { rejectUnauthorized: !this.options.insecureSkipVerify };
    const cas: string[] = [];
    if (this.options.rootCA) cas.push(readFileSync(this.options.rootCA, 'utf8'));
    if (this.options.rootCAData) cas.push(Buffer.from(this.options.rootCAData, 'base64').toString('utf8'));
    if (cas.length) tls.ca = cas;
    return tls;
  }

  /** A connected client, TLS as configured; the caller unbinds it. */
  private async connect(): Promise<Client> {
    const { url, upgradeWithStartTLS } = ldapEndpoint(this.options);
    const tlsOptions = this.tlsOptions();
    const client = new Client({
      url,
      timeout: this.options.readTimeout,
      connectTimeout: this.options.readTimeout,
      ...(url.startsWith('ldaps:') ? { tlsOptions } : {}),
    });
    if (upgradeWithStartTLS) {
      // The server name for certificate checks: StartTLS upgrades a socket ldapts opened by host.
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      await client.startTLS({ ...tlsOptions, servername: /^[\d.:]+$/.test(host) ? undefined : host });
    }
    return client;
  }

  async authenticate(username: string, password: string): Promise<ExternalIdentity> {
    // An empty password would make the second bind an unauthenticated bind, which LDAP servers accept (RFC 4513 §5.1.2).
    if (!username || !password) throw new IdentityProviderUnauthorizedError('ldap: incorrect password');
    const o = this.options;
    const client = await this.connect();
    try {
      if (o.managerDN) await client.bind(o.managerDN, o.managerPassword ?? '');
      const byLogin = `(${o.loginAttribute}=${escapeFilterValue(username)})`;
      const filter = o.userSearchFilter ? `(&${byLogin}${o.userSearchFilter})` : byLogin;
      let entries: Entry[];
      try {
        ({ searchEntries: entries } = await client.search(o.userSearchBase, {
          scope: 'sub',
          derefAliases: 'never',
          filter,
          // Two, to tell "exactly one" from "several": the server stops there.
          sizeLimit: 2,
          attributes: [o.loginAttribute, o.mailAttribute, o.displayNameAttribute],
        }));
      } catch (err) {
        if (err instanceof SizeLimitExceededError)
          throw new IdentityProviderUnauthorizedError(`ldap: filter returned multiple results: ${filter}`);
        throw err;
      }
      if (entries.length === 0) throw new IdentityProviderUnauthorizedError(`ldap: no results returned for filter: ${filter}`);
      if (entries.length > 1) throw new IdentityProviderUnauthorizedError(`ldap: filter returned multiple results: ${filter}`);
      const entry = entries[0];
      try {
        await client.bind(entry.dn, password);
      } catch (err) {
        if (err instanceof InvalidCredentialsError) throw new IdentityProviderUnauthorizedError('ldap: incorrect password');
        throw err;
      }
      const uid = attributeValue(entry, o.loginAttribute) ?? username;
      const identity: ExternalIdentity = { uid, username: uid };
      const email = attributeValue(entry, o.mailAttribute);
      if (email) identity.email = email;
      const displayName = attributeValue(entry, o.displayNameAttribute);
      if (displayName) identity.displayName = displayName;
      return identity;
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }
}
