/**
 * Shared set-up of the tenancy and IAM API tests: an in-process API server with kube's lifecycle
 * controllers (garbage collector, namespace deletion), the platform started over it as a user
 * runs it (Platform.start, controllers under their lease), and HTTP clients for the front that
 * sign requests as a named user.
 *
 * Authentication: a test-only `authenticate` maps the `x-test-user` header to that user (in the
 * system:authenticated group). Users are iam.kubesphere.io User objects created through the API;
 * `root` is a platform admin (GlobalRoleBinding to platform-admin).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessTransport, type KubeClient } from '@canopy/client';
import { Platform, platformTypes, type PlatformOptions, type PlatformUser } from '../src/index.js';
import { ADMIN, startCluster, type TestCluster } from '../../client/test/support.js';

export const TENANT = '/kapis/tenant.kubesphere.io/v1beta1';
export const IAM = '/kapis/iam.kubesphere.io/v1beta1';

export interface Answer {
  status: number;
  text: string;
  body: any;
}

export interface UserHttp {
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<Answer>;
  get(path: string): Promise<Answer>;
  post(path: string, body: unknown): Promise<Answer>;
  put(path: string, body: unknown): Promise<Answer>;
  patch(path: string, body: unknown, contentType?: string): Promise<Answer>;
  delete(path: string, body?: unknown): Promise<Answer>;
}

export interface Tenancy {
  cluster: TestCluster;
  platform: Platform;
  /** The cluster as its administrator (not through the platform). */
  kube: KubeClient;
  dataDir: string;
  as(user: string): UserHttp;
  createUser(name: string, globalRole?: string): Promise<void>;
  /** Starts another platform replica over the same cluster (own data directory and port). */
  replica(options?: Partial<PlatformOptions>): Promise<Platform>;
  close(): Promise<void>;
}

const testAuthenticate: PlatformOptions['authenticate'] = async (headers) => {
  const name = headers['x-test-user'];
  if (typeof name !== 'string' || !name) return undefined;
  return { name, groups: ['system:authenticated'] } satisfies PlatformUser;
};

export async function startTenancy(options: Partial<PlatformOptions> & { garbageCollector?: boolean } = {}): Promise<Tenancy> {
  const { garbageCollector = true, ...platformOptions } = options;
  // kube's lifecycle controllers: the garbage collector and namespace deletion.
  const cluster = await startCluster({ lifecycleControllers: garbageCollector });
  const dirs: string[] = [];
  const replicas: Platform[] = [];
  const start = (extra: Partial<PlatformOptions>) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'canopy-tenancy-'));
    dirs.push(dataDir);
    return Platform.start({
      port: 0,
      dataDir,
      transport: new InProcessTransport((req) => cluster.server.handle(req), ADMIN),
      upgradeTarget: { server: cluster.server.url, ca: cluster.server.pki.ca.cert },
      authenticate: testAuthenticate,
      log: process.env.CANOPY_TEST_LOG ? (m) => console.error(m) : undefined,
      ...extra,
    });
  };
  let platform: Platform;
  try {
    platform = await start(platformOptions);
  } catch (err) {
    await cluster.close();
    throw err;
  }
  const kube = cluster.inProcess();
  const as = (user: string): UserHttp => {
    const request = async (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Answer> => {
      const headers: Record<string, string> = { 'x-test-user': user };
      let payload: string | undefined;
      if (body !== undefined) {
        headers['content-type'] = contentType;
        payload = typeof body === 'string' ? body : JSON.stringify(body);
      }
      const res = await fetch(`${platform.url}${path}`, { method, headers, body: payload });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, text, body: parsed };
    };
    return {
      request,
      get: (p) => request('GET', p),
      post: (p, b) => request('POST', p, b),
      put: (p, b) => request('PUT', p, b),
      patch: (p, b, t = 'application/merge-patch+json') => request('PATCH', p, b, t),
      delete: (p, b) => request('DELETE', p, b),
    };
  };
  return {
    cluster,
    platform,
    kube,
    dataDir: dirs[0],
    as,
    async createUser(name, globalRole) {
      await kube.create(platformTypes.users, { metadata: { name }, spec: { email: `${name}@example.com` } });
      if (globalRole) {
        await kube.create(platformTypes.globalRoleBindings, {
          metadata: {
            name: `${name}-${globalRole}`,
            labels: { 'iam.kubesphere.io/user-ref': name, 'iam.kubesphere.io/role-ref': globalRole },
          },
          roleRef: { apiGroup: 'iam.kubesphere.io', kind: 'GlobalRole', name: globalRole },
          subjects: [{ apiGroup: 'iam.kubesphere.io', kind: 'User', name }],
        } as never);
      }
    },
    async replica(extra = {}) {
      const p = await start(extra);
      replicas.push(p);
      return p;
    },
    async close() {
      for (const r of replicas) await r.close();
      await platform.close();
      await cluster.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` answers something truthy (controllers and informers act asynchronously). */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

/** Asks kube-apiserver (not the platform) whether a user may do something: what the user's own kubeconfig gets. */
export async function kubeCan(
  kube: KubeClient,
  user: string,
  attributes: { verb: string; resource: string; group?: string; namespace?: string; name?: string },
): Promise<boolean> {
  const review = await kube.request<any>({
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user, groups: ['system:authenticated'], resourceAttributes: { group: '', ...attributes } },
    }),
  });
  return review.status?.allowed === true;
}
