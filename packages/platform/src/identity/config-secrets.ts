/**
 * OAuth clients and identity providers as KubeSphere keeps them: Secrets in kubesphere-system of
 * types `config.kubesphere.io/oauthclient` and `config.kubesphere.io/identityprovider`, read from an
 * informer, so that a Secret created, changed or deleted takes effect at once, without a restart.
 * A Secret that does not parse is left out (and logged by name, never by content).
 */
import { randomBytes } from 'node:crypto';
import { isStatusError } from '@canopy/apimachinery';
import { types, type Clock, type Informer, type KubeClient } from '@canopy/client';
import type { SecretObject } from '../auth/model.js';
import {
  DEFAULT_OAUTH_CLIENT,
  OAUTH_CLIENT_SECRET_TYPE,
  buildOAuthClientSecret,
  parseOAuthClientSecret,
  validateOAuthClient,
  type OAuthClient,
  type OAuthClientSource,
} from '../auth/oauth-clients.js';
import { IDENTITY_PROVIDER_SECRET_TYPE, parseIdentityProviderSecret, type IdentityProviderConfig } from '../auth/identity-providers/config.js';
import { IdentityProviders } from '../auth/identity-providers/registry.js';
import { waitForInformer } from './cache-sync.js';

const CONFIG_TYPES = new Set([OAUTH_CLIENT_SECRET_TYPE, IDENTITY_PROVIDER_SECRET_TYPE]);
export const DEFAULT_OAUTH_CLIENT_SECRET_NAME = 'oauthclient-kubesphere';

export class ConfigurationSecrets implements OAuthClientSource {
  private clients = new Map<string, OAuthClient>();
  readonly identityProviders: IdentityProviders;

  constructor(
    readonly informer: Informer<SecretObject>,
    clock: Clock,
    private readonly log: (message: string) => void,
  ) {
    this.identityProviders = new IdentityProviders([], { now: () => clock.now() });
    const changed = (...secrets: SecretObject[]) => {
      if (secrets.some((s) => CONFIG_TYPES.has(s.type ?? ''))) this.reload();
    };
    informer.addHandler({ onAdd: (s) => changed(s), onUpdate: (old, s) => changed(old, s), onDelete: (s) => changed(s) });
  }

  get(name: string): OAuthClient | undefined {
    return this.clients.get(name);
  }

  private reload(): void {
    const clients = new Map<string, OAuthClient>();
    const providers = new Map<string, IdentityProviderConfig>();
    // Oldest first, so a later Secret repeating a name does not take over an existing client or provider.
    const secrets = this.informer
      .list()
      .filter((s) => CONFIG_TYPES.has(s.type ?? ''))
      .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    for (const secret of secrets) {
      const where = `secret ${secret.metadata.namespace}/${secret.metadata.name}`;
      try {
        if (secret.type === OAUTH_CLIENT_SECRET_TYPE) {
          const client = parseOAuthClientSecret(secret);
          const problems = validateOAuthClient(client);
          if (problems.length) throw new Error(problems.join('; '));
          if (clients.has(client.name)) throw new Error(`oauth client ${client.name} is already defined by another secret`);
          clients.set(client.name, client);
        } else {
          const config = parseIdentityProviderSecret(secret);
          if (providers.has(config.name)) throw new Error(`identity provider ${config.name} is already defined by another secret`);
          providers.set(config.name, config);
        }
      } catch (err) {
        this.log(`identity: ignoring ${where}: ${(err as Error).message}`);
      }
    }
    this.clients = clients;
    this.identityProviders.set([...providers.values()]);
  }
}

/**
 * The console's OAuth client `kubesphere`, created at install unless a client of that name exists.
 * KubeSphere's chart gives it the fixed secret `kubesphere`; Canopy generates one, so that knowing
 * the product does not let anyone use the password grant as the console.
 */
export async function ensureDefaultOAuthClient(client: KubeClient, secrets: ConfigurationSecrets): Promise<void> {
  if (secrets.get(DEFAULT_OAUTH_CLIENT.name)) return;
  const secret = buildOAuthClientSecret({ ...DEFAULT_OAUTH_CLIENT, secret: randomBytes(24).toString('base64url') }, DEFAULT_OAUTH_CLIENT_SECRET_NAME);
  try {
    const created = await client.create<SecretObject>(types.secrets, secret);
    await waitForInformer(secrets.informer, created.metadata.resourceVersion, () => secrets.get(DEFAULT_OAUTH_CLIENT.name) !== undefined);
  } catch (err) {
    // A Secret of that name that does not define the client (or another replica won the race) is left as it is.
    if (!(isStatusError(err) && err.code === 409)) throw err;
  }
}
