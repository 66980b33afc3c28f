/** Test support: an embedded API server in this process, and clients to it over both transports. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from '@canopy/kube-apiserver';
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

export async function startCluster(options: { historyWindow?: number } = {}): Promise<TestCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-client-'));
  const server = await ApiServer.start({ dataDir, port: 0, historyWindow: options.historyWindow ?? 10_000 });
  const http = KubeClient.fromKubeconfig(server.kubeconfigPath);
  return {
    server,
    http,
    inProcess: (user = ADMIN) => new KubeClient(new InProcessTransport((req) => server.handle(req), user)),
    async close() {
      await http.transport.close();
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
