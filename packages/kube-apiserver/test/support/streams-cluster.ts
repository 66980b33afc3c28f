/**
 * An in-process ApiServer with the test connector and metrics provider, pods in known states,
 * and kubectl binaries pointed at it (each with its own discovery cache).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '@canopy/apimachinery';
import { ApiServer } from '../../src/index.js';
import { TestConnector, TestMetrics } from './test-connector.js';

export const ADMIN = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };
const KUBECTL_DIR = '/usr/lib/google-cloud-sdk/bin';

export interface StreamsCluster {
  server: ApiServer;
  connector: TestConnector;
  dataDir: string;
  /** Calls the API in-process as the admin; throws on a non-2xx answer. */
  api(method: string, path: string, body?: unknown): Promise<KubeObject>;
  kubectl(version: string, args: string[], options?: { input?: string; timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Starts kubectl and leaves it running (port-forward). */
  spawnKubectl(version: string, args: string[]): ChildProcess;
  close(): Promise<void>;
}

export function kubectlBinary(version: string): string {
  const path = join(KUBECTL_DIR, `kubectl.${version}`);
  // These tests are about kubectl's wire protocols: without the binary they must fail, not pass.
  if (!existsSync(path)) throw new Error(`kubectl ${version} is required at ${path}`);
  return path;
}

const running = (status: Record<string, unknown> = {}) => ({ state: { running: { startedAt: '2024-05-01T10:00:00Z' } }, ready: true, restartCount: 0, ...status });

/** Pods: `web` (one running container, port 8080), `multi` (two containers), `pending` (unscheduled), `creating` (bound, ContainerCreating). */
export async function startStreamsCluster(): Promise<StreamsCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-streams-'));
  const server = await ApiServer.start({ dataDir, port: 0 });
  const connector = new TestConnector();
  server.setNodeConnector(connector);
  server.setMetricsProvider(new TestMetrics());
  const api = async (method: string, path: string, body?: unknown): Promise<KubeObject> => {
    const queryAt = path.indexOf('?');
    const response = await server.handle({
      method,
      path: queryAt < 0 ? path : path.slice(0, queryAt),
      query: new URLSearchParams(queryAt < 0 ? '' : path.slice(queryAt + 1)),
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      ...(body === undefined ? {} : { body: Buffer.from(JSON.stringify(body)) }),
      user: ADMIN,
    });
    if (response.type !== 'body') throw new Error(`${method} ${path}: unexpected stream`);
    const value = typeof response.body === 'string' || Buffer.isBuffer(response.body) ? JSON.parse(String(response.body)) : response.body;
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(value)}`);
    return value as KubeObject;
  };
  const pod = async (name: string, spec: Record<string, unknown>, status?: Record<string, unknown>) => {
    await api('POST', '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: name } }, spec });
    if (status) {
      const current = await api('GET', `/api/v1/namespaces/default/pods/${name}`);
      await api('PUT', `/api/v1/namespaces/default/pods/${name}/status`, { ...current, status });
    }
  };
  // The ServiceAccount controller is kube-controller-manager's, not running here; pods need the account.
  if (!(await api('GET', '/api/v1/namespaces/default/serviceaccounts').then((l) => (l as unknown as { items: KubeObject[] }).items.some((sa) => sa.metadata.name === 'default')))) {
    await api('POST', '/api/v1/namespaces/default/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
  }
  for (const name of ['node-a', 'node-b']) {
    await api('POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    });
    const node = await api('GET', `/api/v1/nodes/${name}`);
    await api('PUT', `/api/v1/nodes/${name}/status`, {
      ...node,
      status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
    });
  }
  await pod(
    'web',
    { nodeName: 'node-a', containers: [{ name: 'app', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] },
    { phase: 'Running', podIP: '10.0.0.5', containerStatuses: [{ name: 'app', image: 'nginx', imageID: '', containerID: 'containerd://app1', ...running() }] },
  );
  await pod(
    'multi',
    { nodeName: 'node-b', initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'a', image: 'busybox' }, { name: 'b', image: 'busybox' }] },
    {
      phase: 'Running',
      containerStatuses: [
        { name: 'a', image: 'busybox', imageID: '', containerID: 'containerd://a1', ...running() },
        { name: 'b', image: 'busybox', imageID: '', containerID: 'containerd://b1', ...running() },
      ],
    },
  );
  await pod('pending', { containers: [{ name: 'app', image: 'nginx' }] });
  await pod(
    'creating',
    { nodeName: 'node-a', containers: [{ name: 'app', image: 'nginx' }] },
    { phase: 'Pending', containerStatuses: [{ name: 'app', image: 'nginx', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] },
  );
  const cacheRoot = join(dataDir, 'kubectl-cache');
  let runs = 0;
  const argsFor = (version: string, args: string[]) => {
    const cacheDir = join(cacheRoot, `${version}-${runs++}`);
    mkdirSync(cacheDir, { recursive: true });
    return ['--kubeconfig', server.kubeconfigPath, '--cache-dir', cacheDir, ...args];
  };
  return {
    server,
    connector,
    dataDir,
    api,
    kubectl: (version, args, options = {}) =>
      new Promise((resolve) => {
        const child = execFile(kubectlBinary(version), argsFor(version, args), { timeout: options.timeoutMs ?? 30_000 }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
          resolve({ code, stdout, stderr });
        });
        if (options.input !== undefined) child.stdin!.end(options.input);
        else child.stdin!.end();
      }),
    spawnKubectl: (version, args) => spawn(kubectlBinary(version), argsFor(version, args), { stdio: ['ignore', 'pipe', 'pipe'] }),
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
