/**
 * Identity in the running platform: the auth core (auth/) over Kubernetes-backed stores, with its
 * state in the data directory, its routes on the front, the authentication the front calls, the
 * forced password change in the authorization path, the users controller, and the first-start
 * admin. The platform creates it before its front listens and activates it once the front's URL
 * (the token issuer, unless one is configured) is known.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { KubeObject } from '@canopy/apimachinery';
import { types, type Clock, type InformerFactory, type KubeClient, type TimerHandle } from '@canopy/client';
import { KUBESPHERE_NAMESPACE, type LoginRecordObject, type SecretObject, type UserObject } from '../auth/model.js';
import type { LoginSecurityOptions } from '../auth/login-security.js';
import { OAuthServer } from '../auth/oauth.js';
import type { SqliteTokenStore } from '../auth/token-store.js';
import { TokenManager, type IdTokenKeys } from '../auth/tokens.js';
import type { AuthorizationAttributes } from '../iam/authorizer.js';
import type { IamRoleBinding } from '../iam/types.js';
import { platformTypes } from '../resource-types.js';
import type { Decision, PlatformRequest, PlatformUser, RouteModule } from '../server/types.js';
import { identityDecision } from './access.js';
import { bootstrapIdentity, type ApplyOwned } from './admin-bootstrap.js';
import { ConfigurationSecrets, ensureDefaultOAuthClient } from './config-secrets.js';
import { KubeLoginRecordStore, KubeUserStore } from './kube-stores.js';
import { kubeconfigApi, type KubeconfigServer } from './kubeconfig-api.js';
import { oauthRoutes } from './oauth-routes.js';
import { loadIdTokenKeys, loadJwtSecret, openTokenStore } from './state-files.js';
import { UserController } from './user-controller.js';
import { usersApi } from './users-api.js';

/** Expired token registrations are deleted this often (KubeSphere's cache lets them expire by themselves). */
export const TOKEN_PRUNE_INTERVAL_MS = 10 * 60_000;

export interface IdentityOptions {
  dataDir: string;
  /** The platform's client (cluster-admin). */
  client: KubeClient;
  informers: InformerFactory;
  clock: Clock;
  log(message: string): void;
  /** Server-side apply of objects the platform owns. */
  apply: ApplyOwned;
  /** The platform's three-scope authorizer. */
  allowed(user: PlatformUser, attributes: Omit<AuthorizationAttributes, 'user'>): boolean;
  /** Token issuer (KubeSphere's authentication.issuer.url); default: the front's URL. */
  issuer?: string;
  /** KubeSphere's multipleLogin (default true). */
  multipleLogin?: boolean;
  loginSecurity?: Partial<LoginSecurityOptions>;
  /** Where per-user kubeconfigs point (the front's HTTPS URL and its CA); default: the front's URL. */
  kubeconfigServer?: () => KubeconfigServer;
}

export class PlatformIdentity {
  /** The first-start admin's generated password, set only by the start that created the admin. */
  initialAdminPassword?: string;
  readonly users: KubeUserStore;
  readonly loginRecords: KubeLoginRecordStore;
  readonly configuration: ConfigurationSecrets;
  private readonly controller: UserController;
  private tokenManager?: TokenManager;
  private oauthServer?: OAuthServer;
  private pruneTimer?: TimerHandle;
  private url = '';

  private constructor(
    private readonly options: IdentityOptions,
    readonly tokenStore: SqliteTokenStore,
    private readonly jwtSecret: string,
    private readonly idTokenKeys: IdTokenKeys,
  ) {
    const { client, informers } = options;
    this.users = new KubeUserStore(client, informers.for<UserObject>(platformTypes.users));
    this.loginRecords = new KubeLoginRecordStore(client, informers.for<LoginRecordObject>(platformTypes.loginRecords));
    this.configuration = new ConfigurationSecrets(informers.for<SecretObject>(types.secrets, { namespace: KUBESPHERE_NAMESPACE }), options.clock, options.log);
    const bindingTypes = [platformTypes.globalRoleBindings, platformTypes.clusterRoleBindings, platformTypes.workspaceRoleBindings, platformTypes.roleBindings];
    this.controller = new UserController({
      client,
      users: this.users,
      loginRecords: this.loginRecords,
      bindings: bindingTypes.map((type) => ({ type, informer: informers.for<KubeObject>(type) })),
      tokenStore: this.tokenStore,
      clock: options.clock,
      log: options.log,
      security: options.loginSecurity,
    });
  }

  /** Opens the state files, starts the caches, creates the default OAuth client and the first-start admin, starts the users controller. */
  static async start(options: IdentityOptions): Promise<PlatformIdentity> {
    const tokenStore = openTokenStore(options.dataDir);
    let identity: PlatformIdentity | undefined;
    try {
      const [secret, keys] = await Promise.all([loadJwtSecret(options.dataDir), loadIdTokenKeys(options.dataDir)]);
      identity = new PlatformIdentity(options, tokenStore, secret, keys);
      await Promise.all([identity.users.informer.start(), identity.loginRecords.informer.start(), identity.configuration.informer.start()]);
      await ensureDefaultOAuthClient(options.client, identity.configuration);
      const { password } = await bootstrapIdentity({ dataDir: options.dataDir, users: identity.users, apply: options.apply });
      if (password) identity.initialAdminPassword = password;
      identity.controller.start();
      identity.schedulePrune();
      return identity;
    } catch (err) {
      if (identity) await identity.close();
      else tokenStore.close();
      throw err;
    }
  }

  /** Creates the token manager and OAuth server for the front's URL. */
  activate(url: string): void {
    this.url = url;
    const clock = this.options.clock;
    const issuer = this.options.issuer ?? url;
    this.tokenManager = new TokenManager({
      issuer,
      secret: this.jwtSecret,
      store: this.tokenStore,
      now: () => clock.now(),
      multipleLogin: this.options.multipleLogin,
      userLookup: (name) => this.users.get(name),
    });
    this.oauthServer = new OAuthServer({
      issuer,
      tokens: this.tokenManager,
      idTokens: this.idTokenKeys,
      users: this.users,
      loginRecords: this.loginRecords,
      clients: this.configuration,
      identityProviders: this.configuration.identityProviders,
      loginSecurity: this.options.loginSecurity,
      onError: (message, err) => this.options.log(`${message}: ${(err as Error)?.message ?? err}`),
    });
  }

  get tokens(): TokenManager {
    if (!this.tokenManager) throw new Error('identity is not active yet');
    return this.tokenManager;
  }

  get oauth(): OAuthServer {
    if (!this.oauthServer) throw new Error('identity is not active yet');
    return this.oauthServer;
  }

  /** The front's authentication: Bearer tokens and Basic credentials (auth/oauth.ts authenticateHeaders). */
  readonly authenticate = async (headers: IncomingHttpHeaders, connection?: { sourceIp: string }): Promise<PlatformUser | 'invalid' | undefined> => {
    if (!this.oauthServer) return headers.authorization ? 'invalid' : undefined;
    const userAgent = headers['user-agent'];
    return this.oauthServer.authenticateHeaders(headers, { sourceIP: connection?.sourceIp ?? '', ...(userAgent ? { userAgent } : {}) });
  };

  /** Decides before the three-scope authorizer (access.ts): OAuth endpoints open, forced password change. */
  decide(request: PlatformRequest): Decision | undefined {
    return identityDecision(request, (name) => this.users.get(name));
  }

  routes(): RouteModule[] {
    const common = { tokenStore: this.tokenStore, tokens: () => this.tokens, allowed: this.options.allowed };
    return [
      oauthRoutes(() => this.oauth),
      usersApi({
        ...common,
        users: this.users,
        loginRecords: this.loginRecords,
        globalRoleBindings: this.options.informers.for<IamRoleBinding>(platformTypes.globalRoleBindings),
        globalRoles: this.options.informers.for<KubeObject>(platformTypes.globalRoles),
        identityProviders: this.configuration.identityProviders,
      }),
      kubeconfigApi({ ...common, users: this.users, server: this.options.kubeconfigServer ?? (() => ({ server: this.url })) }),
    ];
  }

  /** Resolves when the users controller has nothing queued (tests). */
  idle(): Promise<void> {
    return this.controller.idle();
  }

  private schedulePrune(): void {
    this.pruneTimer = this.options.clock.setTimeout(() => {
      try {
        const pruned = this.tokenStore.pruneExpired(this.options.clock.now());
        if (pruned) this.options.log(`identity: pruned ${pruned} expired token registrations`);
      } catch (err) {
        this.options.log(`identity: token pruning failed: ${(err as Error).message}`);
      }
      this.schedulePrune();
    }, TOKEN_PRUNE_INTERVAL_MS);
  }

  async close(): Promise<void> {
    this.pruneTimer?.cancel();
    this.pruneTimer = undefined;
    await this.controller.stop();
    this.tokenStore.close();
  }
}
