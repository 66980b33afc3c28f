/**
 * Test support: an embedded API server in this process, and clients to it over both transports.
 * With `lifecycleControllers`, it also runs kube-controller-manager's lifecycle controllers
 * (garbage collector, namespace deletion, quota status, the `default` ServiceAccount and root CA
 * of every namespace), as `canopy server` does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from '@canopy/kube-apiserver';
import { ControllerManager, lifecycleControllerFactories } from '@canopy/controllers';
import { InProcessTransport, KubeClient, type InProcessUser } from '../src/index.js';

export const ADMIN: InProcessUser = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };

export interface TestCluster {
  server: ApiServer;
  /** Over HTTPS with the admin kubeconfig. */
  http: KubeClient;
  /** Through the in-process transport as `user` (default admin). */
  inProcess(user?: InProcessUser): KubeClient;
  close(): Promise<void>;
}

export async function startCluster(options: { historyWindow?: number; lifecycleControllers?: boolean } = {}): Promise<TestCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-client-'));
  const server = await ApiServer.start({ dataDir, port: 0, historyWindow: options.historyWindow ?? 10_000 });
  const http = KubeClient.fromKubeconfig(server.kubeconfigPath);
  let controllers: ControllerManager | undefined;
  if (options.lifecycleControllers) {
    controllers = new ControllerManager({
      transport: new InProcessTransport((req) => server.handle(req), ADMIN),
      factories: lifecycleControllerFactories({ rootCaCert: server.pki.ca.cert }),
      leaderElection: false,
      log: process.env.CANOPY_TEST_LOG ? (m) => console.error(m) : undefined,
    });
    await controllers.start();
  }
  return {
    server,
    http,
    inProcess: (user = ADMIN) => new KubeClient(new InProcessTransport((req) => server.handle(req), user)),
    async close() {
      await controllers?.stop();
      await http.transport.close();
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
