/**
 * Test support: kube-controller-manager's lifecycle controllers (garbage collector, namespace,
 * resource quota, service account, root CA publisher) from @canopy/controllers, run in-process
 * against a test's ApiServer, as `canopy server` runs them. Tests that delete namespaces, rely on
 * ownerReferences, read quota status or create pods (which need the `default` ServiceAccount)
 * start them next to the server.
 */
import { InProcessTransport, type Clock } from '@canopy/client';
import { ControllerManager, lifecycleControllerFactories } from '@canopy/controllers';
import type { ApiServer } from '../../src/apiserver.js';

const ADMIN = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };

export async function startLifecycleControllers(server: ApiServer, options: { clock?: Clock } = {}): Promise<ControllerManager> {
  const manager = new ControllerManager({
    transport: new InProcessTransport((req) => server.handle(req), ADMIN, server.url),
    factories: lifecycleControllerFactories({ rootCaCert: server.pki.ca.cert }),
    leaderElection: false,
    clock: options.clock,
    log: (m) => process.env.CANOPY_TEST_LOG && process.stderr.write(`${m}\n`),
  });
  await manager.start();
  return manager;
}
