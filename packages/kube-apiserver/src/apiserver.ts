/**
 * The embedded API server: wires storage, the resource registry, the object pipeline, the
 * REST handler, discovery, OpenAPI, the CRD controller and the HTTPS front. `ApiServer.start` is
 * what `canopy server` runs; garbage collection, namespace deletion, quota status and the
 * per-namespace ServiceAccount and CA ConfigMap are kube-controller-manager's (packages/controllers).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { errors, StatusError, type KubeObject } from '@canopy/apimachinery';
import { ensurePki, type ClusterPki } from './auth/pki.js';
import { authenticationResources, bearerAuthenticator, objectLookup, selfSubjectReviewAction, tokenRequestAction, tokenReviewAction } from './auth/authentication-api.js';
import { ServiceAccountTokens, type ObjectLookup } from './auth/service-account-tokens.js';
import { writeKubeconfig } from './auth/kubeconfig.js';
import { buildDefinitions } from './openapi/definitions.js';
import { openApiV2, openApiV3GroupVersion, openApiV3Index } from './openapi/documents.js';
import {
  encodeOpenApiV2Protobuf,
  OPENAPI_V2_PROTOBUF_CONTENT_TYPE,
  OPENAPI_V2_PROTOBUF_DEPRECATED_TYPE,
} from './openapi/protobuf-v2.js';
import { builtinResources } from './registry/builtin.js';
import { builtinPrinters } from './registry/printers.js';
import { ResourceRegistry } from './registry/registry.js';
import type { ResourceDefinition } from './registry/types.js';
import { SqliteRevisionStore } from './storage/sqlite-store.js';
import type { RevisionStore } from './storage/types.js';
import { aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions, discoveryContentType } from './server/discovery.js';
import { chooseDiscovery, parseAccept } from './server/negotiation.js';
import { buildHttpFront, type UpgradeRequest } from './server/http.js';
import { metricsResources } from './server/metrics-api.js';
import type { MetricsProvider, NodeConnector } from './server/node-connector.js';
import { StreamingEndpoints, streamKind, streamVerb } from './server/streams.js';
import { AdmissionChain } from './server/admission.js';
import { forbidden, impersonatedUser, nonResourceAttributes, resourceAttributes, type Authorizer } from './server/authorization.js';
import { RbacAuthorizer } from './auth/rbac.js';
import {
  authorizationResources,
  rbacAuthorizer,
  rbacEscalationAdmission,
  reconcileDefaultPolicy,
  selfSubjectAccessReviewAction,
  selfSubjectRulesReviewAction,
  StoredRbacPolicy,
  subjectAccessReviewAction,
} from './auth/rbac-server.js';
import { defaultStorageClass, defaultTolerationSeconds, namespaceLifecycle } from './server/admission-plugins.js';
import { limitRanger } from './server/limit-ranger.js';
import { QuotaUsage, resourceQuotaAdmission } from './server/quota.js';
import { serviceAccountAdmission } from './server/service-accounts.js';
import { CustomResourceDefinitionController } from './crd/controller.js';
import { ObjectService } from './server/objects.js';
import { parseResourcePath } from './server/request-info.js';
import { RestHandler, type ActionHandler } from './server/rest.js';
import { SchemaSupport } from './server/schema-support.js';
import { KindStrategies, kindKey } from './server/strategies.js';
import { podBindingAction } from './server/pod-binding.js';
import { podEvictionAction } from './server/eviction.js';
import { KUBERNETES_SERVICE_IP } from './server/service-allocator.js';
import { header, jsonResponse, type ApiRequest, type ApiResponse } from './server/types.js';
import { SERVER_VERSION } from './version.js';

export interface ApiServerOptions {
  dataDir: string;
  port: number;
  host?: string;
  /** Revisions of history kept for watches and consistent paging (default 10,000). */
  historyWindow?: number;
  /** Interval between compactions (default 5 minutes). */
  compactionIntervalMs?: number;
  /** Extra names or IPs for the serving certificate. */
  serverNames?: string[];
  log?: (message: string) => void;
}

const PUBLIC_PATHS = new Set(['/livez', '/readyz', '/healthz', '/version']);
/** Documents that answer only GET (and HEAD). */
const NON_RESOURCE_PATHS = new Set([...PUBLIC_PATHS, '/api', '/apis', '/openapi/v2', '/openapi/v3']);

export class ApiServer {
  readonly registry: ResourceRegistry;
  readonly objects: ObjectService;
  /** Admission plug-ins every write passes; the platform appends its own. */
  readonly admission: AdmissionChain;
  /** Decides every request: RBAC over the stored roles and bindings. */
  authorizer: Authorizer;
  readonly rbac: RbacAuthorizer;
  private readonly rbacPolicy: StoredRbacPolicy;
  readonly url: string;
  readonly kubeconfigPath: string;
  private readonly rest: RestHandler;
  /** Names, establishes, serves and finalizes CustomResourceDefinitions. */
  readonly crds: CustomResourceDefinitionController;
  private readonly lookup: ObjectLookup;
  private readonly documents = new Map<string, unknown>();
  /** pods/log, exec, attach, portforward, proxy and nodes/proxy, served against the node connector. */
  private readonly streams: StreamingEndpoints;
  private metricsDefinitions: ResourceDefinition[] = [];
  private compaction?: NodeJS.Timeout;
  private ready = false;
  private closed = false;

  private constructor(
    readonly options: ApiServerOptions,
    readonly store: RevisionStore,
    readonly pki: ClusterPki,
    private readonly schemas: SchemaSupport,
    readonly tokens: ServiceAccountTokens,
    private http?: FastifyInstance,
  ) {
    const host = options.host ?? '127.0.0.1';
    this.url = `https://${host.includes(':') ? `[${host}]` : host}:${options.port}`;
    this.kubeconfigPath = join(options.dataDir, 'kubeconfig.yaml');
    this.registry = new ResourceRegistry([...builtinResources().map(withPrinter), ...authenticationResources(), ...authorizationResources()]);
    this.registry.onChange(() => this.documents.clear());
    const strategies = new KindStrategies(store);
    this.rbacPolicy = new StoredRbacPolicy(store);
    this.rbac = new RbacAuthorizer(this.rbacPolicy);
    this.authorizer = rbacAuthorizer(this.rbac);
    // In kube's order: NamespaceLifecycle, LimitRanger, ServiceAccount, DefaultTolerationSeconds, DefaultStorageClass…
    this.admission = new AdmissionChain([
      namespaceLifecycle(store),
      limitRanger(store),
      serviceAccountAdmission(store),
      defaultTolerationSeconds(),
      defaultStorageClass(store),
      rbacEscalationAdmission(this.rbac),
    ]);
    this.objects = new ObjectService(store, schemas, strategies, this.admission);
    this.rest = new RestHandler(this.registry, this.objects, store, schemas);
    this.crds = new CustomResourceDefinitionController(store, this.registry, this.objects, options.log);
    this.admission.add(this.crds.admission());
    // ResourceQuota goes last, as in kube, so it charges the object every other plug-in has shaped.
    const quotaUsage = new QuotaUsage(store, this.registry, this.objects);
    this.admission.add(resourceQuotaAdmission(quotaUsage));
    this.lookup = objectLookup(this.objects, this.registry);
    this.streams = new StreamingEndpoints(this.objects, this.registry, options.log);
    this.rest.registerAction('', 'serviceaccounts', 'token', tokenRequestAction(tokens, this.objects, this.registry));
    this.rest.registerAction('authentication.k8s.io', 'tokenreviews', '', tokenReviewAction(tokens, this.lookup));
    this.rest.registerAction('authentication.k8s.io', 'selfsubjectreviews', '', selfSubjectReviewAction());
    const authorizer = () => this.authorizer;
    this.rest.registerAction('authorization.k8s.io', 'selfsubjectaccessreviews', '', selfSubjectAccessReviewAction(authorizer));
    this.rest.registerAction('authorization.k8s.io', 'subjectaccessreviews', '', subjectAccessReviewAction('SubjectAccessReview', authorizer));
    this.rest.registerAction('authorization.k8s.io', 'localsubjectaccessreviews', '', subjectAccessReviewAction('LocalSubjectAccessReview', authorizer));
    this.rest.registerAction('authorization.k8s.io', 'selfsubjectrulesreviews', '', selfSubjectRulesReviewAction(this.rbac));
    this.rest.registerAction('', 'pods', 'eviction', podEvictionAction(store, this.registry, this.objects));
    this.rest.registerAction('', 'pods', 'binding', podBindingAction(store, this.objects));
  }

  static async start(options: ApiServerOptions): Promise<ApiServer> {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const pki = await ensurePki(options.dataDir, options.serverNames ?? []);
    const store = SqliteRevisionStore.open(join(options.dataDir, 'state.db'), {
      historyWindow: options.historyWindow ?? 10_000,
      // Events (core and events.k8s.io share this storage) stay as text, as kube keeps no watch cache for them.
      textOnlyPrefixes: ['/registry/events/'],
    });
    const tokens = ServiceAccountTokens.load(join(options.dataDir, 'pki'));
    const server = new ApiServer(options, store, pki, new SchemaSupport(buildDefinitions()), tokens);
    try {
      await server.listen();
    } catch (err) {
      store.close();
      throw err;
    }
    return server;
  }

  private async listen(): Promise<void> {
    const log = this.options.log;
    this.http = buildHttpFront({
      tls: { key: this.pki.server.key, cert: this.pki.server.cert, ca: this.pki.ca.cert },
      handle: (req) => this.handle(req),
      publicPaths: PUBLIC_PATHS,
      authenticate: (req) => {
        const header = req.headers.authorization;
        return bearerAuthenticator(this.tokens, this.lookup)(Array.isArray(header) ? header[0] : header);
      },
      logErrors: (err, req) => log?.(`error serving ${req.method} ${req.url.split('?')[0]}: ${(err as Error)?.stack ?? String(err)}`),
      upgrade: (request) => this.upgrade(request),
    });
    this.bootstrap();
    // Stored CRDs are served before the server listens, so their objects are reachable at once.
    this.crds.start();
    await this.http.listen({ port: this.options.port, host: this.options.host ?? '127.0.0.1' });
    const address = this.http.server.address();
    const port = typeof address === 'object' && address ? address.port : this.options.port;
    (this as { url: string }).url = `https://${(this.options.host ?? '127.0.0.1').includes(':') ? `[${this.options.host}]` : this.options.host ?? '127.0.0.1'}:${port}`;
    writeKubeconfig(this.kubeconfigPath, { server: this.url, caPem: this.pki.ca.cert, userName: 'admin', client: this.pki.admin });
    const keep = this.options.historyWindow ?? 10_000;
    this.compaction = setInterval(() => void this.store.compact(keep), this.options.compactionIntervalMs ?? 300_000);
    this.compaction.unref();
    this.ready = true;
  }

  /** Namespaces and the `kubernetes` Service every cluster has. */
  private bootstrap(): void {
    const ns = this.registry.get('', 'v1', 'namespaces')!;
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      if (!this.objects.tryGet(ns, '', name)) this.objects.create(ns, '', { metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });
    }
    reconcileDefaultPolicy(this.objects, this.registry);
    const svc = this.registry.get('', 'v1', 'services')!;
    if (!this.objects.tryGet(svc, 'default', 'kubernetes')) {
      this.objects.create(svc, 'default', {
        metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: { clusterIP: KUBERNETES_SERVICE_IP, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: this.options.port }], sessionAffinity: 'None', type: 'ClusterIP' },
      });
    }
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ready = false;
    clearInterval(this.compaction);
    this.crds.stop();
    this.rbacPolicy.close();
    this.streams.close();
    await this.http?.close();
    this.store.close();
  }

  /**
   * The kubelets' side of the streaming subresources (logs, exec, attach, port-forward, node
   * proxy); in all-in-one mode the simulator. Without one those requests answer 503.
   */
  setNodeConnector(connector: NodeConnector | undefined): void {
    this.streams.connector = connector;
  }

  /** Serves `metrics.k8s.io` from a provider while one is set (discovery lists the group only then). */
  setMetricsProvider(provider: MetricsProvider | undefined): void {
    for (const def of this.metricsDefinitions) this.registry.remove(def.group, def.version, def.resource);
    this.metricsDefinitions = provider ? metricsResources(provider) : [];
    for (const def of this.metricsDefinitions) this.registry.add(def);
  }

  /** An upgrade request (exec, attach, port-forward), authenticated by the HTTP front. */
  private upgrade(request: UpgradeRequest): void {
    const path = request.path.length > 1 && request.path.endsWith('/') ? request.path.slice(0, -1) : request.path;
    let req: ApiRequest = { method: request.method, path, query: request.query, headers: request.raw.headers, user: request.user };
    const impersonated = impersonatedUser(req.user, req.headers, this.authorizer);
    if (impersonated) req = { ...req, user: impersonated };
    const info = parseResourcePath(req.method, path, false);
    if (!info || !streamKind(info)) throw errors.badRequest('upgrade requests are served only for pods/exec, pods/attach and pods/portforward');
    const attributes = { ...resourceAttributes(req.user, info), verb: streamVerb(info) };
    const decision = this.authorizer.authorize(attributes);
    if (!decision.allowed) throw forbidden(attributes, decision.reason);
    this.streams.upgrade(req, info, request.raw, request.socket, request.head);
  }

  /**
   * Routes one authenticated request. Answers synchronously except for the streaming
   * subresources (logs, proxies), which wait on the node connector.
   */
  handle(req: ApiRequest): ApiResponse | Promise<ApiResponse> {
    const path = req.path.length > 1 && req.path.endsWith('/') ? req.path.slice(0, -1) : req.path;
    const impersonated = impersonatedUser(req.user, req.headers, this.authorizer);
    if (impersonated) req = { ...req, user: impersonated };
    const info = parseResourcePath(req.method, path, req.query.get('watch') === 'true' || req.query.get('watch') === '1');
    // Every request is authorized, the public health and version documents included (kube's
    // system:public-info-viewer role is what lets anyone read those).
    const attributes = info ? resourceAttributes(req.user, info) : nonResourceAttributes(req.user, req.method, path);
    const publicRead = !info && PUBLIC_PATHS.has(path) && (req.method === 'GET' || req.method === 'HEAD');
    if (!publicRead) {
      const decision = this.authorizer.authorize(attributes);
      if (!decision.allowed) throw forbidden(attributes, decision.reason);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD' && (NON_RESOURCE_PATHS.has(path) || path.startsWith('/openapi/'))) {
      throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
    switch (path) {
      case '/livez':
      case '/healthz':
        return { type: 'body', status: 200, body: 'ok', contentType: 'text/plain; charset=utf-8' };
      case '/readyz':
        return this.ready ? { type: 'body', status: 200, body: 'ok', contentType: 'text/plain; charset=utf-8' } : { type: 'body', status: 503, body: 'not ready', contentType: 'text/plain; charset=utf-8' };
      case '/version':
        return jsonResponse(200, SERVER_VERSION);
      case '/api':
      case '/apis': {
        const aggregated = chooseDiscovery(header(req, 'accept'));
        if (aggregated) {
          return { type: 'body', status: 200, body: this.cached(`discovery:${path}:${aggregated}`, () => aggregatedDiscovery(this.registry, path === '/api', aggregated)), contentType: discoveryContentType(aggregated) };
        }
        return jsonResponse(200, path === '/api' ? apiVersions(new URL(this.url).host) : apiGroupList(this.registry));
      }
      case '/openapi/v2':
        return this.openApiV2(req);
      case '/openapi/v3':
        return jsonResponse(200, this.cached('openapi:v3', () => openApiV3Index(this.registry.all())));
    }
    if (path.startsWith('/openapi/v3/')) {
      const gv = path.slice('/openapi/v3/'.length);
      const doc = this.cached(`openapi:v3:${gv}`, () => openApiV3GroupVersion(gv, this.registry.all(), this.schemas.definitions) ?? null);
      if (!doc) throw errors.pathNotFound();
      return { type: 'body', status: 200, body: doc, contentType: 'application/json', headers: { etag: `"${this.registry.revision}"` } };
    }
    const segments = path.split('/').filter(Boolean);
    if (req.method === 'GET' && segments[0] === 'apis' && segments.length === 2) {
      const group = apiGroup(this.registry, segments[1]);
      if (!group) throw errors.pathNotFound();
      return jsonResponse(200, group);
    }
    if (req.method === 'GET' && ((segments[0] === 'api' && segments.length === 2) || (segments[0] === 'apis' && segments.length === 3))) {
      const group = segments[0] === 'api' ? '' : segments[1];
      const version = segments[segments.length - 1];
      if (!this.registry.hasGroupVersion(group, version)) throw errors.pathNotFound();
      return jsonResponse(200, apiResourceList(this.registry, group, version));
    }
    if (!info) throw errors.pathNotFound();
    if (streamKind(info)) return this.streams.serve(req, info);
    // Admission plug-ins that wait for a controller (the ServiceAccount plug-in, for a new
    // namespace's default account) delay the request before its synchronous pipeline.
    if (info.verb === 'create') {
      const waiting = this.admission.prepare({ operation: 'CREATE', group: info.group, resource: info.resource, subresource: info.subresource, namespace: info.namespace, name: info.name });
      if (waiting) return waiting.then(() => this.rest.handle(req, info));
    }
    return this.rest.handle(req, info);
  }

  /**
   * `/openapi/v2` as JSON or, for kubectl ≤1.28 and other client-go discovery clients, as gnostic
   * protobuf. Like kube-openapi's handler: the first acceptable media range in the Accept header
   * wins, JSON when there is none; protobuf is accepted under both spellings and answered with
   * the one Go's mime parser reads.
   */
  private openApiV2(req: ApiRequest): ApiResponse {
    const json = () => this.cached('openapi:v2', () => openApiV2(this.registry.all(), this.schemas.definitions));
    const accept = header(req, 'accept') ?? '';
    for (const range of parseAccept(accept)) {
      const mime = `${range.type}/${range.subtype}`;
      if (mime === 'application/json' || mime === 'application/*' || mime === '*/*') return jsonResponse(200, json());
      if (mime === OPENAPI_V2_PROTOBUF_CONTENT_TYPE || mime === OPENAPI_V2_PROTOBUF_DEPRECATED_TYPE) {
        const body = this.cached('openapi:v2:protobuf', () => encodeOpenApiV2Protobuf(json()));
        return { type: 'body', status: 200, body, contentType: OPENAPI_V2_PROTOBUF_CONTENT_TYPE };
      }
    }
    if (accept) throw new StatusError(406, 'NotAcceptable', 'only application/json and gnostic protobuf are served for /openapi/v2');
    return jsonResponse(200, json());
  }

  private cached<T>(key: string, build: () => T): T {
    if (!this.documents.has(key)) this.documents.set(key, build());
    return this.documents.get(key) as T;
  }

  /** Serves a subresource or a virtual resource with an action handler (see RestHandler.registerAction). */
  registerAction(group: string, resource: string, subresource: string, handler: ActionHandler): void {
    this.rest.registerAction(group, resource, subresource, handler);
  }

  /** For in-process callers (controllers): the definition serving a kind. */
  definitionFor(object: KubeObject): ResourceDefinition | undefined {
    return this.registry.forApiVersionKind(object.apiVersion ?? '', object.kind ?? '');
  }
}

function withPrinter(def: ResourceDefinition): ResourceDefinition {
  const printer = builtinPrinters[kindKey(def)];
  return printer ? { ...def, printer } : def;
}
