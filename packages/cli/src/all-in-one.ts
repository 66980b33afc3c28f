/**
 * What `canopy server` runs. All-in-one: the embedded API server, the controller manager and the
 * scheduler, the simulated nodes, and the platform, in one process. With `--kubeconfig`: only
 * the platform, over the given cluster. Everything above the API server talks to it through the
 * Kubernetes API (in-process transport here, HTTPS otherwise), so both modes run the same code.
 */
import { join } from 'node:path';
import { ApiServer } from '@canopy/kube-apiserver';
import { HttpTransport, InProcessTransport, KubeClient, loadKubeconfig, types, type InProcessUser, type Transport } from '@canopy/client';
import { ControllerManager, controllerFactories, lifecycleControllerFactories } from '@canopy/controllers';
import { Platform, PLATFORM_NAMESPACE, type UpgradeTarget } from '@canopy/platform';
import { Simulator } from '@canopy/simulator';

export interface AllInOneOptions {
  dataDir: string;
  host: string;
  apiPort: number;
  platformPort: number;
  historyWindow: number;
  compactionIntervalMs: number;
  nodes: number;
  /**
   * Which controllers run: `all` (default); `lifecycle` — only what kube-apiserver users expect
   * of any cluster's objects (garbage collection, namespace deletion, quota status, default
   * ServiceAccounts), nothing that runs workloads; `none`.
   */
  controllers?: 'all' | 'lifecycle' | 'none';
  /**
   * kube-controller-manager's --node-monitor-grace-period (default 40 s): how long a node may be
   * silent before it is NotReady (Unknown). The simulated kubelets' Leases follow it as a
   * kubelet's follow nodeLeaseDurationSeconds (that duration, renewed every quarter of it), so a
   * shorter period never marks healthy nodes down.
   */
  nodeMonitorGracePeriodMs?: number;
  /** Run over this cluster instead of the embedded plane. */
  kubeconfig?: string;
  log: (message: string) => void;
}

export interface Running {
  apiServer?: ApiServer;
  simulator?: Simulator;
  platform: Platform;
  close(): Promise<void>;
}

const ADMIN: InProcessUser = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };
/** The platform's identity towards the cluster: a service account bound to cluster-admin, as ks-apiserver's. */
const PLATFORM_SERVICE_ACCOUNT = 'kubesphere';
const PLATFORM_USER: InProcessUser = {
  name: `system:serviceaccount:${PLATFORM_NAMESPACE}:${PLATFORM_SERVICE_ACCOUNT}`,
  groups: ['system:serviceaccounts', `system:serviceaccounts:${PLATFORM_NAMESPACE}`, 'system:authenticated'],
};

/** Creates the platform's service account and its cluster-admin binding (idempotent). */
async function ensurePlatformIdentity(admin: KubeClient): Promise<void> {
  const apply = (type: Parameters<KubeClient['patch']>[0], object: any) =>
    admin.patch(type, object.metadata.name, { apiVersion: type.group ? `${type.group}/${type.version}` : type.version, kind: type.kind, ...object }, 'apply', {
      namespace: object.metadata.namespace,
      fieldManager: 'canopy',
      force: true,
    });
  await apply(types.namespaces, { metadata: { name: PLATFORM_NAMESPACE } });
  await apply(types.serviceAccounts, { metadata: { name: PLATFORM_SERVICE_ACCOUNT, namespace: PLATFORM_NAMESPACE } });
  await apply(types.clusterRoleBindings, {
    metadata: { name: 'canopy-platform' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: PLATFORM_SERVICE_ACCOUNT, namespace: PLATFORM_NAMESPACE }],
  });
}

/** Bearer tokens of the platform's service account for tunnelled streams, renewed before they expire. */
function serviceAccountTokens(client: KubeClient): () => Promise<string> {
  let cached: { token: string; renewAt: number } | undefined;
  return async () => {
    if (cached && Date.now() < cached.renewAt) return cached.token;
    const review = await client.createSubresource<any>(types.serviceAccounts, PLATFORM_SERVICE_ACCOUNT, 'token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } }, { namespace: PLATFORM_NAMESPACE });
    cached = { token: review.status.token, renewAt: Date.now() + 45 * 60_000 };
    return cached.token;
  };
}

export async function startAllInOne(options: AllInOneOptions): Promise<Running> {
  const closers: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) {
      try {
        await c();
      } catch (err) {
        options.log(`shutdown: ${(err as Error).message}`);
      }
    }
  };
  try {
    let apiServer: ApiServer | undefined;
    let simulator: Simulator | undefined;
    let platformTransport: Transport;
    let upgradeTarget: UpgradeTarget;
    if (options.kubeconfig) {
      const config = loadKubeconfig(options.kubeconfig);
      platformTransport = new HttpTransport(config);
      closers.push(() => platformTransport.close());
      upgradeTarget = { server: config.server, ca: config.ca, cert: config.cert, key: config.key, insecureSkipTlsVerify: config.insecureSkipTlsVerify, ...(config.token ? { token: async () => config.token! } : {}) };
    } else {
      apiServer = await ApiServer.start({
        dataDir: options.dataDir,
        port: options.apiPort,
        host: options.host,
        historyWindow: options.historyWindow,
        compactionIntervalMs: options.compactionIntervalMs,
        log: options.log,
      });
      const server = apiServer;
      closers.push(() => server.close());
      const adminTransport = new InProcessTransport((req) => server.handle(req), ADMIN, server.url);
      const admin = new KubeClient(adminTransport, { userAgent: 'canopy' });
      await ensurePlatformIdentity(admin);

      const which = options.controllers ?? 'all';
      if (which !== 'none') {
        const grace = options.nodeMonitorGracePeriodMs;
        const factoryOptions = { rootCaCert: server.pki.ca.cert, nodeLifecycle: grace ? { gracePeriodMs: grace } : {} };
        const factories = which === 'all' ? controllerFactories(factoryOptions) : lifecycleControllerFactories(factoryOptions);
        const manager = new ControllerManager({ transport: adminTransport, factories, log: options.log });
        await manager.start();
        closers.push(() => manager.stop());
      }

      // The simulated kubelets: nodes with leases, pod lifecycle, and the kubelet API behind
      // logs/exec/port-forward and metrics.k8s.io.
      if (options.nodes > 0) {
        const grace = options.nodeMonitorGracePeriodMs;
        const leases = grace ? { leaseDurationSeconds: Math.ceil(grace / 1000), leaseRenewIntervalMs: Math.floor(grace / 4) } : {};
        const sim = new Simulator({ transport: adminTransport, nodes: options.nodes, log: options.log, ...leases });
        await sim.start();
        closers.push(() => sim.stop());
        server.setNodeConnector(sim);
        server.setMetricsProvider(sim);
        simulator = sim;
      }

      platformTransport = adminTransport.as(PLATFORM_USER);
      upgradeTarget = { server: server.url, ca: server.pki.ca.cert, token: serviceAccountTokens(new KubeClient(platformTransport)) };
    }
    const platform = await Platform.start({
      port: options.platformPort,
      host: options.host,
      dataDir: join(options.dataDir, 'platform'),
      transport: platformTransport,
      upgradeTarget,
      log: options.log,
      // The API server's serving certificate (127.0.0.1, localhost, this host) lets the platform
      // front answer HTTPS on its port too: per-user kubeconfigs point there. (Over another cluster
      // there is no certificate yet, and those kubeconfigs use plain HTTP, where kubectl sends no token.)
      ...(apiServer ? { tls: { cert: apiServer.pki.server.cert, key: apiServer.pki.server.key, ca: apiServer.pki.ca.cert } } : {}),
    });
    closers.push(() => platform.close());
    if (apiServer) {
      // Workspace quotas and protected resources, enforced in the API server itself (where no
      // concurrent writer can race them) — the all-in-one stand-in for KubeSphere's webhooks.
      const server = apiServer;
      const stored = {
        list: (group: string, resource: string, namespace = '') => {
          const def = server.registry.all().find((d) => d.group === group && d.resource === resource && !d.storage);
          return def ? server.store.list(server.objects.listPrefix(def, namespace)).items.map((s) => s.object) : [];
        },
      };
      for (const plugin of platform.admissionPlugins(stored)) server.admission.add(plugin as Parameters<typeof server.admission.add>[0]);
    }
    return { apiServer, simulator, platform, close };
  } catch (err) {
    await close();
    throw err;
  }
}
