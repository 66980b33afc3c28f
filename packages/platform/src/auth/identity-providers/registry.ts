/**
 * The identity providers in force, built from their configurations (the platform server feeds it
 * the parsed Secrets whenever they change). LDAP providers answer the password grant's `provider`
 * parameter; OIDC providers answer `/oauth/callback/<name>` and are discovered on first use.
 * Disabled providers are not offered.
 */
import type { IdentityProviderConfig } from './config.js';
import { LDAP_PROVIDER_TYPE, LdapIdentityProvider, type PasswordIdentityProvider } from './ldap.js';
import { OIDC_PROVIDER_TYPE, OidcIdentityProvider } from './oidc.js';

export interface IdentityProviderRegistry {
  /** The configuration of an enabled provider. */
  config(name: string): IdentityProviderConfig | undefined;
  passwordProvider(name: string): Promise<PasswordIdentityProvider | undefined>;
  oauthProvider(name: string): Promise<OidcIdentityProvider | undefined>;
  /** Enabled providers, for the console's sign-in page. */
  list(): IdentityProviderConfig[];
}

export class IdentityProviders implements IdentityProviderRegistry {
  private configs = new Map<string, IdentityProviderConfig>();
  private readonly ldap = new Map<string, LdapIdentityProvider>();
  private readonly oidc = new Map<string, Promise<OidcIdentityProvider>>();

  constructor(
    configs: IdentityProviderConfig[] = [],
    private readonly deps: { now?: () => number } = {},
  ) {
    this.set(configs);
  }

  /** Replaces the configurations; providers whose configuration changed are rebuilt on next use. */
  set(configs: IdentityProviderConfig[]): void {
    const next = new Map(configs.map((c) => [c.name, c]));
    for (const [name, old] of this.configs) {
      if (JSON.stringify(next.get(name)) !== JSON.stringify(old)) {
        this.ldap.delete(name);
        this.oidc.delete(name);
      }
    }
    this.configs = next;
  }

  config(name: string): IdentityProviderConfig | undefined {
    const c = this.configs.get(name);
    return c && !c.disabled ? c : undefined;
  }

  list(): IdentityProviderConfig[] {
    return [...this.configs.values()].filter((c) => !c.disabled);
  }

  async passwordProvider(name: string): Promise<PasswordIdentityProvider | undefined> {
    const config = this.config(name);
    if (config?.type !== LDAP_PROVIDER_TYPE) return undefined;
    let provider = this.ldap.get(name);
    if (!provider) this.ldap.set(name, (provider = LdapIdentityProvider.fromConfig(config)));
    return provider;
  }

  async oauthProvider(name: string): Promise<OidcIdentityProvider | undefined> {
    const config = this.config(name);
    if (config?.type !== OIDC_PROVIDER_TYPE) return undefined;
    let provider = this.oidc.get(name);
    if (!provider) {
      provider = OidcIdentityProvider.fromConfig(config, this.deps);
      this.oidc.set(name, provider);
      // A failed discovery is retried on the next sign-in rather than remembered.
      provider.catch(() => {
        if (this.oidc.get(name) === provider) this.oidc.delete(name);
      });
    }
    return provider;
  }
}
