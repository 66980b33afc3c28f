/**
 * The platform process: installs its CRDs and built-in roles into the cluster, keeps the
 * authorization policy from informers, and serves the HTTP front. It reaches the cluster only
 * through the Kubernetes API, so it runs the same over the embedded plane or any cluster.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '@canopy/apimachinery';
import { InformerFactory, KubeClient, realClock, stripManagedFields, types, type Clock, type Transport } from '@canopy/client';
import { AuditLog } from './audit/audit-log.js';
import { consoleAssets } from './console-assets.js';
import { consoleSignIn } from './console-signin.js';
import { DEFAULT_OAUTH_CLIENT } from './auth/oauth-clients.js';
import { auditingApi } from './audit/routes.js';
import { platformCrds } from './crds/index.js';
import { IamAuthorizer, type AuthorizationAttributes } from './iam/authorizer.js';
import { PlatformIdentity } from './identity/identity.js';
import type { LoginSecurityOptions } from './auth/login-security.js';
import { InMemoryIamPolicy } from './iam/memory-policy.js';
import { authorizationAttributes, newRequestInfo, type RequestInfo } from './iam/request-info.js';
import { builtinClusterRoles, builtinGlobalRoles, builtinRoles, roleTemplateCategories, roleTemplates } from './iam/role-templates.js';
import { platformTypes } from './resource-types.js';
import { resourcesApi } from './resources/routes.js';
import { PlatformControllers, type PlatformControllersOptions } from './controllers/index.js';
import { ServedResources } from './controllers/served-resources.js';
import { genericKapis } from './iam-api/generic.js';
import { iamApi } from './iam-api/routes.js';
import { frontAdmission, platformAdmissionPlugins, WriteAdmission, type AdmissionPluginLike, type StoredObjects } from './tenant/admission.js';
import { tenantApi } from './tenant/routes.js';
import { WorkspaceQuotaTracker } from './tenant/workspace-quota.js';
import { PlatformFront, type AuditSink } from './server/front.js';
import type { Authenticate, Decision, PlatformContext, PlatformRequest, PlatformUser, RouteModule, UpgradeTarget } from './server/types.js';

export const PLATFORM_NAMESPACE = 'kubesphere-system';
export const FIELD_MANAGER = 'canopy-platform';

export interface PlatformOptions {
  port: number;
  host?: string;
  /** Where the platform keeps its own state (token registry, audit log, signing keys). */
  dataDir: string;
  /** Transport to the cluster API acting as the platform (cluster-admin). */
  transport: Transport;
  upgradeTarget: UpgradeTarget;
  clock?: Clock;
  log?: (message: string) => void;
  /** Authentication of requests (bearer tokens); the auth module provides it. */
  authenticate?: Authenticate;
  /** Extra route modules (OAuth, IAM, tenant APIs, console). */
  routes?: RouteModule[];
  /** Directory of the built web console (default: packages/console/dist). */
  consoleDir?: string;
  /** Token issuer (KubeSphere's authentication.issuer.url); default: the front's URL. */
  issuer?: string;
  /** KubeSphere's multipleLogin (default true): false ends a user's other sessions at each sign-in. */
  multipleLogin?: boolean;
  /** Lockout and login history settings (defaults: 10 failures in 10 min, 168 h, 100 records). */
  loginSecurity?: Partial<LoginSecurityOptions>;
  /**
   * Serving certificate (PEM) and the CA that signed it: the front then also answers HTTPS on its
   * port, and per-user kubeconfigs point there (kubectl sends tokens only over TLS).
   */
  tls?: { cert: string; key: string; ca?: string };
  /** Proxies whose X-Forwarded-For is believed (see FrontOptions.trustedProxies). */
  trustedProxies?: string[];
  /** The tenancy and IAM controllers: leader election timing, or false to run none in this process. */
  controllers?: PlatformControllersOptions | false;
}

const MUTATING_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
/** Discovery documents every signed-in user may read (kube's system:discovery role). */
const DISCOVERY_PATH = /^\/(api|apis)(\/[^/]+){0,2}$|^\/openapi\/|^\/version$/;

export class Platform {
  readonly client: KubeClient;
  readonly informers: InformerFactory;
  readonly policy = new InMemoryIamPolicy();
  readonly authorizer: IamAuthorizer;
  readonly audit: AuditLog;
  readonly clock: Clock;
  private front?: PlatformFront;
  url = '';
  /** The front's HTTPS URL (same port) when a serving certificate was given, else ''. */
  secureUrl = '';
  /** Users, sign-in, tokens (identity/); set once started. */
  identity!: PlatformIdentity;
  /** The first-start admin's password, set only by the start that created the admin (shown once, never stored). */
  initialAdminPassword?: string;
  /** Served resource types, from discovery (generic /kapis CRUD, workspace quotas). */
  readonly served: ServedResources;
  /** Workspace quotas and their usage, from informers. */
  readonly workspaceQuotas: WorkspaceQuotaTracker;
  /** The tenancy and IAM controllers (active only while this replica holds their lease). */
  controllers?: PlatformControllers;

  private constructor(private readonly options: PlatformOptions) {
    this.clock = options.clock ?? realClock;
    this.client = new KubeClient(options.transport, { userAgent: FIELD_MANAGER });
    // Every platform cache drops managedFields (nothing here reads them; at 10,000 users and 4,000
    // projects they were a third of the caches' memory).
    this.informers = new InformerFactory(this.client, { clock: this.clock, log: options.log, transform: stripManagedFields });
    this.authorizer = new IamAuthorizer(this.policy);
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    this.audit = new AuditLog(join(options.dataDir, 'audit.db'));
    this.served = new ServedResources(this.client);
    this.workspaceQuotas = new WorkspaceQuotaTracker(this.informers, this.served, (m) => this.log(m));
  }

  static async start(options: PlatformOptions): Promise<Platform> {
    const platform = new Platform(options);
    try {
      await platform.install();
      await platform.watchPolicy();
      await platform.startIdentity();
      await platform.startControllers();
      await platform.listen();
      platform.identity.activate(options.issuer ?? platform.url);
    } catch (err) {
      await platform.close();
      throw err;
    }
    return platform;
  }

  private log(message: string): void {
    this.options.log?.(message);
  }

  /** Applies an object the platform owns (server-side apply: idempotent, keeps others' fields). */
  async applyOwned(type: Parameters<KubeClient['patch']>[0], object: KubeObject): Promise<KubeObject> {
    return this.client.patch(type, object.metadata.name!, { apiVersion: type.group ? `${type.group}/${type.version}` : type.version, kind: type.kind, ...object }, 'apply', {
      namespace: object.metadata.namespace,
      fieldManager: FIELD_MANAGER,
      force: true,
    });
  }

  /** CRDs, the platform namespace, role templates and built-in roles. */
  private async install(): Promise<void> {
    for (const crd of platformCrds()) await this.applyOwned(types.customResourceDefinitions, crd);
    await this.waitEstablished(platformCrds().map((c) => c.metadata.name!));
    await this.applyOwned(types.namespaces, { metadata: { name: PLATFORM_NAMESPACE, labels: { 'kubesphere.io/workspace': 'system-workspace', 'kubesphere.io/managed': 'true' } } });
    for (const c of roleTemplateCategories()) await this.applyOwned(platformTypes.categories, c as KubeObject);
    for (const t of roleTemplates()) await this.applyOwned(platformTypes.roleTemplates, t as KubeObject);
    for (const r of builtinGlobalRoles()) await this.applyOwned(platformTypes.globalRoles, r as KubeObject);
    for (const r of builtinClusterRoles()) await this.applyOwned(platformTypes.clusterRoles, r as KubeObject);
    for (const r of builtinRoles()) await this.applyOwned(platformTypes.builtinRoles, r as KubeObject);
  }

  private async waitEstablished(names: string[]): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (const name of names) {
      while (true) {
        const crd = await this.client.get<any>(types.customResourceDefinitions, name);
        if ((crd.status?.conditions ?? []).some((c: any) => c.type === 'Established' && c.status === 'True')) break;
        if (Date.now() > deadline) throw new Error(`CRD ${name} not established after 30 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Feeds the authorization policy from informers on roles, bindings and namespaces. */
  private async watchPolicy(): Promise<void> {
    const kinds = [
      platformTypes.globalRoles,
      platformTypes.globalRoleBindings,
      platformTypes.clusterRoles,
      platformTypes.clusterRoleBindings,
      platformTypes.workspaceRoles,
      platformTypes.workspaceRoleBindings,
      platformTypes.roles,
      platformTypes.roleBindings,
      types.namespaces,
    ];
    await Promise.all(
      kinds.map((type) => {
        const informer = this.informers.for(type);
        informer.addHandler({
          onAdd: (o) => this.policy.upsert({ apiVersion: type.group ? `${type.group}/${type.version}` : type.version, kind: type.kind, ...o }),
          onUpdate: (_old, o) => this.policy.upsert({ apiVersion: type.group ? `${type.group}/${type.version}` : type.version, kind: type.kind, ...o }),
          onDelete: (o) => this.policy.remove({ apiVersion: type.group ? `${type.group}/${type.version}` : type.version, kind: type.kind, ...o }),
        });
        return informer.start();
      }),
    );
  }

  private async startIdentity(): Promise<void> {
    this.identity = await PlatformIdentity.start({
      dataDir: this.options.dataDir,
      client: this.client,
      informers: this.informers,
      clock: this.clock,
      log: (m) => this.log(m),
      apply: (type, object) => this.applyOwned(type, object),
      allowed: (user: PlatformUser, attributes: Omit<AuthorizationAttributes, 'user'>) => this.authorizer.authorize({ ...attributes, user }).allowed,
      issuer: this.options.issuer,
      multipleLogin: this.options.multipleLogin,
      loginSecurity: this.options.loginSecurity,
      kubeconfigServer: () => ({ server: this.secureUrl || this.url, ...(this.options.tls?.ca ? { ca: this.options.tls.ca } : {}) }),
    });
    this.initialAdminPassword = this.identity.initialAdminPassword;
  }

  /** Workspace quotas tracked, then the controllers under their lease. */
  private async startControllers(): Promise<void> {
    await this.workspaceQuotas.start();
    if (this.options.controllers === false) return;
    const context = { client: this.client, informers: this.informers, clock: this.clock, log: (m: string) => this.log(m) };
    this.controllers = new PlatformControllers(context, this.workspaceQuotas, this.options.controllers ?? {});
    this.controllers.start();
  }

  /**
   * The platform's checks (workspace quotas, protected resources) as validating admission
   * plug-ins for an embedded API server (`apiServer.admission.add`), reading its storage.
   */
  admissionPlugins(stored: StoredObjects): AdmissionPluginLike[] {
    return platformAdmissionPlugins(stored);
  }

  requestInfo(request: Pick<PlatformRequest, 'method' | 'path' | 'query' | 'cluster'>): RequestInfo {
    const q = request.query.toString();
    return newRequestInfo(request.method, `${request.cluster === 'host' ? '' : `/clusters/${request.cluster}`}${request.path}${q ? `?${q}` : ''}`);
  }

  authorize(request: PlatformRequest): Decision {
    // OAuth endpoints and the forced password change are decided first (identity/access.ts).
    const identityDecision = this.identity?.decide(request);
    if (identityDecision) return identityDecision;
    const info = this.requestInfo(request);
    const authenticated = request.user.groups.includes('system:authenticated');
    if (authenticated && !info.isResourceRequest && (request.method === 'GET' || request.method === 'HEAD') && DISCOVERY_PATH.test(info.path)) return { allowed: true };
    const decision = this.authorizer.authorize(authorizationAttributes(request.user, info));
    if (decision.allowed) return decision;
    return { allowed: false, reason: forbiddenMessage(request.user, info) };
  }

  private auditSink(): AuditSink {
    return {
      record: ({ request, status, allowed, reason, requestBody, startedAt, before, after }) => {
        const info = this.requestInfo(request);
        // A route may refuse what the authorizer let through (the tenant API checks single objects
        // itself): that is a denial too, and is audited like one.
        const refused = status === 401 || status === 403;
        if (allowed && !refused && !MUTATING_VERBS.has(info.verb)) return;
        // Sign-in requests carry passwords: they are audited by their login records instead.
        if (request.path.startsWith('/oauth/')) return;
        let requestObject: unknown;
        // Objects, and the lists of members the IAM API takes.
        if (requestBody?.length && (requestBody[0] === 0x7b || requestBody[0] === 0x5b)) {
          try {
            requestObject = JSON.parse(requestBody.toString('utf8'));
          } catch {
            requestObject = undefined;
          }
        }
        // A create names its object only in the body: KubeSphere's audit takes the name from there.
        const bodyName = (requestObject as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
        const name = info.name || (info.verb === 'create' && typeof bodyName === 'string' ? bodyName : '');
        try {
          this.audit.record({
            time: startedAt,
            user: request.user.name,
            groups: request.user.groups,
            verb: info.verb,
            requestURI: `${request.path}${request.query.size ? `?${request.query}` : ''}`,
            sourceIp: request.sourceIp,
            cluster: request.cluster,
            workspace: info.workspace || (info.namespace ? this.policy.namespaceWorkspace(info.namespace) : undefined) || undefined,
            objectRef: {
              resource: info.resource || undefined,
              subresource: info.subresource || undefined,
              namespace: info.namespace || undefined,
              name: name || undefined,
              apiGroup: info.apiGroup || undefined,
              apiVersion: info.apiVersion || undefined,
            },
            code: status,
            allowed: allowed && !refused,
            reason,
            requestObject,
            // Updates keep the object before and after (secret material is redacted by the log).
            ...(before !== undefined && status < 400 ? { before } : {}),
            ...(after !== undefined && status < 400 ? { after } : {}),
          });
        } catch (err) {
          this.log(`audit: ${(err as Error).message}`);
        }
      },
    };
  }

  private async listen(): Promise<void> {
    this.front = new PlatformFront({
      kube: this.options.transport,
      upgradeTarget: this.options.upgradeTarget,
      authenticate: this.options.authenticate ?? this.identity.authenticate,
      authorize: (r) => this.authorize(r),
      audit: this.auditSink(),
      log: this.options.log,
      ...(this.options.tls ? { tls: this.options.tls } : {}),
      ...(this.options.trustedProxies ? { trustedProxies: this.options.trustedProxies } : {}),
    });
    const context: PlatformContext = {
      client: this.client,
      informers: this.informers,
      clock: this.clock,
      log: (m) => this.log(m),
      userOf: (req) => req.platform?.user ?? { name: 'system:anonymous', groups: ['system:unauthenticated'] },
    };
    const visible = (user: PlatformUser, type: { resource: string }, object: KubeObject) => {
      if (type.resource !== 'namespaces') return true;
      return this.authorizer.authorize(
        authorizationAttributes(user, this.requestInfo({ method: 'GET', path: `/api/v1/namespaces/${object.metadata.name}`, query: new URLSearchParams(), cluster: 'host' })),
      ).allowed;
    };
    const access = { policy: this.policy, authorizer: this.authorizer };
    const admission = new WriteAdmission(this.client, this.workspaceQuotas);
    const tenancy = [frontAdmission(admission), tenantApi({ access, served: this.served }), iamApi({ access }), genericKapis({ served: this.served, admission })];
    for (const module of [resourcesApi({ visible }), auditingApi(this.audit), ...this.identity.routes(), ...tenancy, ...(this.options.routes ?? [])]) await module(this.front.app, context);
    // The web console: its server-side sign-in (as the console's OAuth client) and its pages and files.
    await consoleSignIn({ client: () => this.identity.configuration.get(DEFAULT_OAUTH_CLIENT.name) })(this.front.app, context);
    await consoleAssets(this.options.consoleDir ? { dir: this.options.consoleDir } : {})(this.front.app, context);
    this.url = await this.front.listen(this.options.port, this.options.host ?? '127.0.0.1');
    if (this.options.tls) this.secureUrl = this.url.replace(/^http:/, 'https:');
  }

  async close(): Promise<void> {
    await this.front?.close();
    await this.controllers?.stop();
    await this.identity?.close();
    await this.informers.stop();
    this.audit.close();
  }
}

/** kube-apiserver's wording of a denial, which kubectl and the console show as is. */
function forbiddenMessage(user: PlatformUser, info: RequestInfo): string {
  if (!info.isResourceRequest) return `forbidden: User "${user.name}" cannot ${info.verb.toLowerCase()} path "${info.path}"`;
  const resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  const where = info.namespace ? ` in the namespace "${info.namespace}"` : info.workspace ? ` in the workspace "${info.workspace}"` : ' at the cluster scope';
  const name = info.name ? `${info.resource} "${info.name}" is forbidden: ` : `${info.resource}${info.apiGroup ? `.${info.apiGroup}` : ''} is forbidden: `;
  return `${name}User "${user.name}" cannot ${info.verb} resource "${resource}" in API group "${info.apiGroup}"${where}`;
}
