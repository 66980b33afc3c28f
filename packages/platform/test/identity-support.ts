/**
 * Shared set-up of the identity tests: an in-process API server (packages/client/test/support.ts)
 * with the platform started over it as a user would run it (Platform.start, its own data
 * directory, an injected clock that starts at the real time, since the API server stamps objects
 * with real time), and an HTTP client for the platform front.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock, InProcessTransport, KubeClient, types, type Clock } from '@canopy/client';
import { Platform, type PlatformOptions } from '../src/index.js';
import { ADMIN, startCluster, type TestCluster } from '../../client/test/support.js';

export interface TestPlatform {
  cluster: TestCluster;
  platform: Platform;
  /** The cluster as its administrator (not through the platform). */
  kube: KubeClient;
  clock: FakeClock;
  dataDir: string;
  http: PlatformHttp;
  /** The generated client secret of the console's OAuth client `kubesphere` (read from its Secret). */
  consoleSecret: string;
  /** Stops the platform and starts it again over the same cluster, data directory and clock. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  json(): any;
}

export interface PlatformHttp {
  url: string;
  request(method: string, path: string, options?: { token?: string; body?: unknown; form?: Record<string, string>; headers?: Record<string, string> }): Promise<HttpResult>;
}

export function platformHttp(url: string): PlatformHttp {
  return {
    url,
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { 'user-agent': 'identity-test/1.0', ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined;
      if (options.form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams(options.form).toString();
      } else if (options.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      }
      const res = await fetch(`${url}${path}`, { method, headers, body, redirect: 'manual' });
      const text = await res.text();
      return {
        status: res.status,
        headers: res.headers,
        text,
        json: () => {
          try {
            return JSON.parse(text);
          } catch {
            throw new Error(`${method} ${path} answered ${res.status} with non-JSON: ${text.slice(0, 500)}`);
          }
        },
      };
    },
  };
}

export async function startPlatform(options: Partial<Pick<PlatformOptions, 'loginSecurity' | 'multipleLogin'>> & { clock?: FakeClock } = {}): Promise<TestPlatform> {
  const cluster = await startCluster({ lifecycleControllers: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-identity-'));
  const clock = options.clock ?? new FakeClock(Date.now());
  const start = () =>
    Platform.start({
      port: 0,
      dataDir,
      transport: new InProcessTransport((req) => cluster.server.handle(req), ADMIN),
      upgradeTarget: { server: cluster.server.url, ca: cluster.server.pki.ca.cert, insecureSkipTlsVerify: false },
      // The API server's serving certificate covers this host too: the front answers HTTPS with it.
      tls: { cert: cluster.server.pki.server.cert, key: cluster.server.pki.server.key, ca: cluster.server.pki.ca.cert },
      clock: clock as Clock,
      // The tests play a proxy reporting client addresses.
      trustedProxies: ['127.0.0.1'],
      log: process.env.CANOPY_TEST_LOG ? (m) => console.error(m) : undefined,
      ...(options.loginSecurity ? { loginSecurity: options.loginSecurity } : {}),
      ...(options.multipleLogin !== undefined ? { multipleLogin: options.multipleLogin } : {}),
    });
  let platform: Platform;
  try {
    platform = await start();
  } catch (err) {
    await cluster.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const kube = cluster.inProcess();
  const secret = await kube.get<any>(types.secrets, 'oauthclient-kubesphere', 'kubesphere-system');
  const consoleSecret = /secret: (\S+)/.exec(Buffer.from(secret.data['configuration.yaml'], 'base64').toString('utf8'))![1].replace(/^"|"$/g, '');
  const running: TestPlatform = {
    cluster,
    platform,
    kube,
    clock,
    dataDir,
    http: platformHttp(platform.url),
    consoleSecret,
    async restart() {
      await running.platform.close();
      running.platform = await start();
      running.http = platformHttp(running.platform.url);
    },
    async close() {
      await running.platform.close();
      await cluster.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return running;
}

/** The claims of a JWT (not verified: the test reads what the server put in). */
export function jwtClaims(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** The console's sign-in: the password grant with the `kubesphere` client. */
export async function signIn(p: TestPlatform, username: string, password: string, extra: Record<string, string> = {}): Promise<HttpResult> {
  return p.http.request('POST', '/oauth/token', {
    form: { grant_type: 'password', client_id: 'kubesphere', client_secret: p.consoleSecret, username, password, ...extra },
  });
}

/** Signs in and answers the access token; fails the test with the server's answer otherwise. */
export async function accessToken(p: TestPlatform, username: string, password: string): Promise<string> {
  const r = await signIn(p, username, password);
  if (r.status !== 200) throw new Error(`sign-in of ${username} answered ${r.status}: ${r.text}`);
  return r.json().access_token;
}

export const USERS_API = '/kapis/iam.kubesphere.io/v1beta1/users';

export const ADMIN_PASSWORD = 'Canopy-Admin-1st';

/** Admin's first sign-in and forced change to ADMIN_PASSWORD; answers an access token with every right. */
export async function initializeAdmin(p: TestPlatform): Promise<string> {
  const token = await accessToken(p, 'admin', p.platform.initialAdminPassword!);
  const r = await p.http.request('PUT', `${USERS_API}/admin/password`, { token, body: { currentPassword: p.platform.initialAdminPassword, password: ADMIN_PASSWORD } });
  if (r.status !== 200) throw new Error(`password change answered ${r.status}: ${r.text}`);
  return token;
}

/** Creates a user through the users API as `token`'s user. */
export async function createUser(p: TestPlatform, token: string, name: string, password: string, extra: { globalRole?: string; email?: string } = {}): Promise<HttpResult> {
  const r = await p.http.request('POST', USERS_API, {
    token,
    body: {
      apiVersion: 'iam.kubesphere.io/v1beta1',
      kind: 'User',
      metadata: { name, ...(extra.globalRole ? { annotations: { 'iam.kubesphere.io/globalrole': extra.globalRole } } : {}) },
      spec: { email: extra.email ?? `${name}@example.com`, password },
    },
  });
  if (r.status !== 200) throw new Error(`creating user ${name} answered ${r.status}: ${r.text}`);
  return r;
}
