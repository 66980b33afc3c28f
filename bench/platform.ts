/**
 * Platform benchmark (issue 5): drives a real `canopy server --nodes 0 --controllers lifecycle`
 * child process (no workloads run; the platform's own controllers do) through its platform front
 * with OAuth bearer tokens, as the console and scripts would, and prints each figure next to its
 * goal and next to a baseline measured in the same run on the same machine:
 *
 * - the resources API (`/kapis/resources.kubesphere.io/v1alpha3/pods?name=<substring>&limit=10`,
 *   cluster-wide and in one namespace) over 10,000 pods, p50/p99, against a bare `node:http` server
 *   answering the same body to the same client;
 * - the gateway's overhead on a proxied GET (`/api/v1/namespaces/<ns>/pods/<name>` through the
 *   front, bearer token, over HTTP and over TLS on the same port) against the same GET sent directly
 *   to the API server (admin client certificate), in alternating rounds;
 * - tenancy at scale: 1,000 workspaces (WorkspaceTemplates through the tenant API), 4 projects each
 *   (tenant API), 10,000 users (users API) each a member of one workspace (members API), the time the
 *   platform's controllers take to converge, and the server's resident memory afterwards;
 * - an authorization-heavy request loop as a regular user (a workspace admin) at that scale, p99,
 *   against the same bare `node:http` server.
 *
 * The pods are bare and unscheduled: created with the admin kubeconfig through the client package.
 * The users carry a password already hashed by the bench (bcrypt, cost 10, which the users API keeps
 * as it is, as KubeSphere's does), so the figure is the platform's cost, not 10,000 bcrypt runs;
 * `--hashed-users N` times N creations with a plain password for the per-user hashing cost.
 *
 * Usage (after `npm run build`):
 *   node --conditions=source --import tsx bench/platform.ts [--pods 10000] [--requests 2000]
 *        [--workspaces 1000] [--projects 4] [--users 10000] [--hashed-users 20] [--skip-tenancy] [--keep]
 * `npm run bench:platform -- --pods 2000 --workspaces 100 --users 1000` for a quick run.
 *
 * Profiling: CANOPY_BENCH_CPU_PROF=<dir> starts the server under `node --cpu-prof` and summarises
 * the profile (top self time) for the whole run and for each phase, as bench/apiserver.ts does;
 * CANOPY_BENCH_SERVER_NODE_ARGS adds node flags to the server (its output is kept with --keep);
 * CANOPY_BENCH_HEAP_SNAPSHOT=<dir> has it write a heap snapshot there once the tenancy has settled
 * (after the RSS is sampled).
 *
 * Every loop is bounded in count and the whole run in time (RUN_DEADLINE_MS); traffic goes to
 * 127.0.0.1 only.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { KubeClient, types, type ResourceType } from '@canopy/client';
import { hashPassword, platformTypes } from '@canopy/platform';
import {
  CLI,
  fmt,
  fmtInt,
  heapSnapshot,
  kubeconfigTls,
  memoryOf,
  msSince,
  nowNs,
  percentile,
  runClosedLoop,
  spawnNode,
  stop,
  summariseProfile,
  type Child,
  type Phase,
  phaseRecorder,
  positiveInt,
  requireBuild,
} from './support.js';

/** The whole run is cut off after this, children killed, exit code 1. */
const RUN_DEADLINE_MS = 40 * 60_000;
const POD_NAMESPACES = 10;
/** Pod names rotate over these, so `name=<component>` matches a tenth of the pods. */
const COMPONENTS = ['web', 'api', 'worker', 'cache', 'db', 'queue', 'search', 'auth', 'billing', 'mailer'];
const CREATE_CONCURRENCY = 32;
/** Writes through the platform (each fans out into several objects and controller work). */
const TENANT_CONCURRENCY = 8;
const WARMUP_REQUESTS = 200;
/** Gateway rounds alternate front and direct, so drift and other load hit both alike. */
const GATEWAY_ROUNDS = 5;
const USERS_PER_WORKSPACE_MIN = 1;
const USER_PASSWORD = 'Bench-User-Pass1';
const ADMIN_PASSWORD = 'Bench-Admin-Pass1';
/** The controllers have converged when the derived objects' counts hold still this long. */
const CONVERGED_AFTER_MS = 6_000;
const CONVERGE_TIMEOUT_MS = 10 * 60_000;
const SETTLE_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Options

const { values: flags } = parseArgs({
  options: {
    pods: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '2000' },
    workspaces: { type: 'string', default: '1000' },
    projects: { type: 'string', default: '4' },
    users: { type: 'string', default: '10000' },
    'hashed-users': { type: 'string', default: '20' },
    'skip-tenancy': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
});

const PODS = positiveInt('pods', flags.pods, COMPONENTS.length * POD_NAMESPACES);
const REQUESTS = positiveInt('requests', flags.requests, 100);
const WORKSPACES = positiveInt('workspaces', flags.workspaces, 2);
const PROJECTS_PER_WORKSPACE = positiveInt('projects', flags.projects, 1);
const USERS = positiveInt('users', flags.users, WORKSPACES * USERS_PER_WORKSPACE_MIN);
const HASHED_USERS = positiveInt('hashed-users', flags['hashed-users'], 1);
const CPU_PROFILE_DIR = process.env.CANOPY_BENCH_CPU_PROF ? resolve(process.env.CANOPY_BENCH_CPU_PROF) : undefined;
const EXTRA_SERVER_NODE_ARGS = (process.env.CANOPY_BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
const HEAP_SNAPSHOT_DIR = process.env.CANOPY_BENCH_HEAP_SNAPSHOT ? resolve(process.env.CANOPY_BENCH_HEAP_SNAPSHOT) : undefined;

const RESOURCES = '/kapis/resources.kubesphere.io/v1alpha3';
const TENANT = '/kapis/tenant.kubesphere.io/v1beta1';
const IAM = '/kapis/iam.kubesphere.io/v1beta1';

// ---------------------------------------------------------------------------------------------
// The workload's names

const podNamespace = (i: number) => `bench-pods-${i % POD_NAMESPACES}`;
/** `<component>-<5 digits>`: the component changes every 10 pods, so it is independent of the namespace. */
const podName = (i: number) => `${COMPONENTS[Math.floor(i / POD_NAMESPACES) % COMPONENTS.length]}-${String(i).padStart(5, '0')}`;
const workspaceName = (w: number) => `ws-${String(w).padStart(4, '0')}`;
const projectName = (w: number, p: number) => `${workspaceName(w)}-p${p}`;
/** Users are spread evenly: user u belongs to workspace u mod W; the first of each is its admin. */
const userName = (u: number) => `u-${String(u % WORKSPACES).padStart(4, '0')}-${Math.floor(u / WORKSPACES)}`;

function benchPod(i: number): Record<string, unknown> {
  const component = COMPONENTS[Math.floor(i / POD_NAMESPACES) % COMPONENTS.length];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(i),
      namespace: podNamespace(i),
      labels: { app: component, tier: 'backend', 'app.kubernetes.io/name': component, 'pod-template-hash': '6f9c7d8b4' },
      annotations: { 'kubesphere.io/creator': 'admin' },
    },
    spec: {
      containers: [
        {
          name: component,
          image: `registry.local/bench/${component}:1.4.2`,
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          env: [
            { name: 'APP_ENV', value: 'production' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
          readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
    },
  };
}

/** The baseline: a bare node:http server answering every request with one fixed body. */
const BARE_HTTP_SERVER = `
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
const body = readFileSync(process.env.BENCH_BODY);
const server = createServer({ keepAliveTimeout: 65000 }, (req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'content-length': body.length });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => console.log('listening on ' + server.address().port));
process.on('SIGTERM', () => process.exit(0));
`;

// ---------------------------------------------------------------------------------------------
// The run

interface Row {
  metric: string;
  value: string;
  goal?: string;
  pass?: boolean;
  baseline?: string;
}

interface Latency {
  p50: number;
  p99: number;
  perSec: number;
}

async function main(): Promise<void> {
  requireBuild();
  const loadAtStart = loadavg()[0];
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-bench-platform-'));
  const rows: Row[] = [];
  const phases: Phase[] = [];
  const phase = phaseRecorder(phases);

  let server: Child | undefined;
  let bare: Child | undefined;
  let admin: KubeClient | undefined;
  const agents: Agent[] = [];
  const deadline = setTimeout(() => {
    console.error(`bench: still running after ${RUN_DEADLINE_MS / 60_000} minutes; giving up`);
    server?.proc.kill('SIGKILL');
    bare?.proc.kill('SIGKILL');
    process.exit(1);
  }, RUN_DEADLINE_MS);
  deadline.unref();

  try {
    // --- the server under test -------------------------------------------------------------
    const nodeArgs = [
      ...(CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILE_DIR}`] : []),
      ...(HEAP_SNAPSHOT_DIR ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${HEAP_SNAPSHOT_DIR}`] : []),
      ...EXTRA_SERVER_NODE_ARGS,
    ];
    const started = await spawnNode(
      [
        ...nodeArgs,
        CLI,
        'server',
        '--data-dir',
        dataDir,
        '--port',
        '0',
        '--platform-port',
        '0',
        '--nodes',
        '0',
        '--controllers',
        'lifecycle',
      ],
      /First sign-in: admin \/ (\S+) /,
      process.env,
      60_000,
    );
    server = started.child;
    const firstPassword = started.match[1];
    const apiBase = /Kubernetes API: (https:\/\/\S+)/.exec(server.output())?.[1];
    const front = /Platform API: (http:\/\/\S+)/.exec(server.output())?.[1];
    if (!apiBase || !front) throw new Error(`cannot find the server's URLs in its output:\n${server.output()}`);
    const frontTls = front.replace(/^http:/, 'https:');
    const serverPid = server.proc.pid!;
    const memorySteps: string[] = [];
    const noteMemory = (label: string) => {
      const m = memoryOf(serverPid);
      memorySteps.push(`${label} ${fmt(m.rssMB, 0)}`);
      return m;
    };
    const idleMemory = noteMemory('idle');

    const kubeconfigPath = join(dataDir, 'kubeconfig.yaml');
    const tls = kubeconfigTls(readFileSync(kubeconfigPath, 'utf8'));
    admin = KubeClient.fromKubeconfig(kubeconfigPath, { userAgent: 'canopy-bench' });
    const agent = (connections: number, connect: Record<string, unknown> = { ca: tls.ca }) => {
      const a = new Agent({
        connect,
        connections,
        pipelining: 1,
        keepAliveTimeout: 60_000,
        bodyTimeout: 0,
        headersTimeout: 120_000,
      });
      agents.push(a);
      return a;
    };

    /** One HTTP call; throws unless the status is the expected one. */
    const call = async (
      dispatcher: Agent,
      method: 'GET' | 'POST' | 'PUT',
      url: string,
      options: { token?: string; body?: unknown; form?: Record<string, string>; expect?: number } = {},
    ): Promise<string> => {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined;
      if (options.form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams(options.form).toString();
      } else if (options.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(options.body);
      }
      const res = await request(url, { dispatcher, method, headers, body });
      const text = await res.body.text();
      const expect = options.expect ?? 200;
      if (res.statusCode !== expect)
        throw new Error(`${method} ${url}: ${res.statusCode} (expected ${expect}) ${text.slice(0, 300)}`);
      return text;
    };
    const one = agent(1);

    // --- sign in as admin: the printed password, the forced change, a fresh token ------------
    const token = await phase('sign in as admin', async () => {
      const secret = await admin!.get(types.secrets, 'oauthclient-kubesphere', 'kubesphere-system');
      const data = (secret as unknown as { data: Record<string, string> }).data;
      const clientSecret = /secret: (\S+)/.exec(Buffer.from(data['configuration.yaml'], 'base64').toString())?.[1];
      if (!clientSecret) throw new Error('the console OAuth client has no secret');
      const signIn = async (username: string, password: string) =>
        (
          JSON.parse(
            await call(one, 'POST', `${front}/oauth/token`, {
              form: { grant_type: 'password', client_id: 'kubesphere', client_secret: clientSecret, username, password },
            }),
          ) as { access_token: string }
        ).access_token;
      const first = await signIn('admin', firstPassword);
      await call(one, 'PUT', `${front}${IAM}/users/admin/password`, {
        token: first,
        body: { currentPassword: firstPassword, password: ADMIN_PASSWORD },
      });
      return { admin: await signIn('admin', ADMIN_PASSWORD), signIn };
    });
    const adminToken = token.admin;

    // --- 10,000 bare pods through the client package ---------------------------------------
    const created = await phase(`create ${fmtInt(PODS)} pods`, async () => {
      for (let n = 0; n < POD_NAMESPACES; n++)
        await admin!.create(types.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `bench-pods-${n}` } });
      const { wallMs } = await runClosedLoop(PODS, CREATE_CONCURRENCY, async (i) => {
        await admin!.create(types.pods, benchPod(i) as never);
      });
      return { perSec: (PODS / wallMs) * 1000, wallMs };
    });
    const afterPods = noteMemory('after pods');
    rows.push({
      metric: `create ${fmtInt(PODS)} pods (admin kubeconfig, ${CREATE_CONCURRENCY} clients)`,
      value: `${fmtInt(created.perSec)}/s (${fmt(created.wallMs / 1000, 1)} s)`,
      baseline: 'setup, not a goal',
    });

    // --- resources API -----------------------------------------------------------------------
    const measure = async (
      url: string,
      count: number,
      options: { token?: string; expect?: number; dispatcher?: Agent } = {},
    ): Promise<Latency & { body: string }> => {
      const dispatcher = options.dispatcher ?? one;
      let body = '';
      await runClosedLoop(Math.min(WARMUP_REQUESTS, count), 1, async () => {
        body = await call(dispatcher, 'GET', url, options);
      });
      const { latenciesMs, wallMs } = await runClosedLoop(count, 1, async () => {
        await call(dispatcher, 'GET', url, options);
      });
      return { p50: percentile(latenciesMs, 50), p99: percentile(latenciesMs, 99), perSec: (count / wallMs) * 1000, body };
    };

    await phase('resources API: informer sync', async () => {
      const until = Date.now() + 60_000;
      for (;;) {
        const page = JSON.parse(await call(one, 'GET', `${front}${RESOURCES}/pods?limit=1`, { token: adminToken })) as {
          totalItems: number;
        };
        if (page.totalItems === PODS) return;
        if (Date.now() > until) throw new Error(`the resources API shows ${page.totalItems} pods, expected ${PODS}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    });
    const selective = String(Math.floor(PODS / 2)).padStart(5, '0');
    const broad = COMPONENTS[3];
    const resourceQueries: Array<{ label: string; path: string; expectTotal: number }> = [
      { label: `pods?name=${selective} (1 match)`, path: `${RESOURCES}/pods?name=${selective}&limit=10`, expectTotal: 1 },
      {
        label: `pods?name=${broad} (a tenth match)`,
        path: `${RESOURCES}/pods?name=${broad}&limit=10`,
        expectTotal: countPods((i) => podName(i).includes(broad)),
      },
      {
        label: `namespaces/bench-pods-3/pods?name=${broad}`,
        path: `${RESOURCES}/namespaces/bench-pods-3/pods?name=${broad}&limit=10`,
        expectTotal: countPods((i) => podNamespace(i) === 'bench-pods-3' && podName(i).includes(broad)),
      },
    ];
    const resourceResults: Array<{ label: string; result: Latency & { body: string }; expectTotal: number }> = [];
    for (const q of resourceQueries) {
      const result = await phase(`resources API ${q.label}`, () => measure(`${front}${q.path}`, REQUESTS, { token: adminToken }));
      const answer = JSON.parse(result.body) as { items: unknown[]; totalItems: number };
      if (answer.totalItems !== q.expectTotal || answer.items.length !== Math.min(10, q.expectTotal))
        throw new Error(`${q.path}: totalItems ${answer.totalItems} and ${answer.items.length} items, expected ${q.expectTotal}`);
      resourceResults.push({ label: q.label, result, expectTotal: q.expectTotal });
    }
    // The same client against a bare node:http server answering the broad query's page.
    const bodyFile = join(dataDir, 'baseline-body.json');
    writeFileSync(bodyFile, resourceResults[1].result.body);
    const startedBare = await spawnNode(['--input-type=module', '-e', BARE_HTTP_SERVER], /listening on (\d+)/, {
      ...process.env,
      BENCH_BODY: bodyFile,
    });
    bare = startedBare.child;
    const bareUrl = `http://127.0.0.1:${startedBare.match[1]}${RESOURCES}/pods?name=${broad}&limit=10`;
    const bareResult = await phase('baseline: bare node:http', () => measure(bareUrl, REQUESTS, { token: adminToken }));
    for (const { label, result, expectTotal } of resourceResults) {
      rows.push({
        metric: `resources API ${label}, ${fmtInt(PODS)} pods (${fmtInt(REQUESTS)} req, 1 client)`,
        value: `p50 ${fmt(result.p50)} ms, p99 ${fmt(result.p99)} ms (${fmtInt(expectTotal)} matched)`,
        goal: 'p99 < 50 ms',
        pass: result.p99 < 50,
        baseline: `${fmt(result.p99 / bareResult.p99, 1)}× the p99 of bare node:http (p50 ${fmt(bareResult.p50)} ms, p99 ${fmt(bareResult.p99)} ms, same ${fmtInt(Buffer.byteLength(bareResult.body))} B body)`,
      });
    }

    // --- gateway overhead: front vs direct, alternating rounds ---------------------------------
    const podPath = `/api/v1/namespaces/${podNamespace(0)}/pods/${podName(0)}`;
    const direct = agent(1, tls);
    const frontHttps = agent(1, { ca: tls.ca });
    const perRound = Math.max(100, Math.floor(REQUESTS / GATEWAY_ROUNDS));
    const gatewayTargets = [
      {
        label: 'direct to the API server (client certificate)',
        url: `${apiBase}${podPath}`,
        dispatcher: direct,
        token: undefined,
      },
      { label: 'through the front, HTTP (bearer token)', url: `${front}${podPath}`, dispatcher: one, token: adminToken },
      { label: 'through the front, TLS (bearer token)', url: `${frontTls}${podPath}`, dispatcher: frontHttps, token: adminToken },
    ];
    const gatewaySamples = gatewayTargets.map(() => [] as number[]);
    await phase(`gateway: ${GATEWAY_ROUNDS} rounds × ${gatewayTargets.length} targets × ${perRound} GETs`, async () => {
      for (const t of gatewayTargets)
        await runClosedLoop(WARMUP_REQUESTS, 1, () => call(t.dispatcher, 'GET', t.url, { token: t.token }).then(() => undefined));
      for (let round = 0; round < GATEWAY_ROUNDS; round++) {
        for (const [i, t] of gatewayTargets.entries()) {
          const { latenciesMs } = await runClosedLoop(perRound, 1, () =>
            call(t.dispatcher, 'GET', t.url, { token: t.token }).then(() => undefined),
          );
          gatewaySamples[i].push(...latenciesMs);
        }
      }
    });
    const directP50 = percentile(gatewaySamples[0], 50);
    for (const [i, t] of gatewayTargets.entries()) {
      const p50 = percentile(gatewaySamples[i], 50);
      const p99 = percentile(gatewaySamples[i], 99);
      rows.push({
        metric: `GET pod ${t.label} (${fmtInt(gatewaySamples[i].length)} req, 1 client)`,
        value: `p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms`,
        ...(i === 0
          ? { baseline: 'the baseline of the two rows below' }
          : {
              goal: 'p50 < direct + 2 ms',
              pass: p50 - directP50 < 2,
              baseline: `overhead: p50 +${fmt(p50 - directP50)} ms, p99 +${fmt(p99 - percentile(gatewaySamples[0], 99))} ms over direct`,
            }),
      });
    }

    // --- tenancy at scale ---------------------------------------------------------------------
    if (!flags['skip-tenancy']) {
      const writers = agent(TENANT_CONCURRENCY);
      const post = (path: string, body: unknown) => call(writers, 'POST', `${front}${path}`, { token: adminToken, body });
      const timed = async (label: string, count: number, task: (i: number) => Promise<unknown>) => {
        const { latenciesMs, wallMs } = await phase(label, () =>
          runClosedLoop(count, TENANT_CONCURRENCY, (i) => task(i).then(() => undefined)),
        );
        const r = { perSec: (count / wallMs) * 1000, wallMs, p50: percentile(latenciesMs, 50), p99: percentile(latenciesMs, 99) };
        rows.push({
          metric: `${label} (${TENANT_CONCURRENCY} clients)`,
          value: `${fmt(r.perSec, 0)}/s, ${fmt(r.wallMs / 1000, 1)} s (p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms)`,
          baseline: 'setup through the platform APIs',
        });
        return r;
      };
      const count = async (type: ResourceType) => {
        const list = await admin!.list(type, { limit: 1 });
        return list.items.length + ((list.metadata as { remainingItemCount?: number }).remainingItemCount ?? 0);
      };
      const waitFor = async (what: string, done: () => Promise<boolean>) => {
        const until = Date.now() + CONVERGE_TIMEOUT_MS;
        while (!(await done())) {
          if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 500));
        }
      };

      await timed(`create ${fmtInt(WORKSPACES)} workspaces (tenant API)`, WORKSPACES, (w) =>
        post(`${TENANT}/workspacetemplates`, {
          apiVersion: 'tenant.kubesphere.io/v1beta1',
          kind: 'WorkspaceTemplate',
          metadata: { name: workspaceName(w), annotations: { 'kubesphere.io/description': `bench workspace ${w}` } },
          spec: { template: { spec: { manager: 'admin' } }, placement: { clusters: [{ name: 'host' }] } },
        }),
      );
      // Members need the workspace roles, which the workspace controller makes.
      await phase('workspace roles made by the controller', () =>
        waitFor('the workspace roles', async () => (await count(platformTypes.workspaceRoles)) >= 4 * WORKSPACES),
      );
      await timed(
        `create ${fmtInt(WORKSPACES * PROJECTS_PER_WORKSPACE)} projects (tenant API)`,
        WORKSPACES * PROJECTS_PER_WORKSPACE,
        (i) => {
          const w = i % WORKSPACES;
          const p = Math.floor(i / WORKSPACES);
          return post(`${TENANT}/workspaces/${workspaceName(w)}/namespaces`, {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: projectName(w, p) },
          });
        },
      );
      const passwordHash = await hashPassword(USER_PASSWORD);
      const userBody = (u: number, password: string) => ({
        apiVersion: 'iam.kubesphere.io/v1beta1',
        kind: 'User',
        metadata: { name: userName(u), annotations: { 'kubesphere.io/description': 'bench user' } },
        spec: { email: `${userName(u)}@bench.example`, password, lang: 'en' },
      });
      const usersCreated = await timed(`create ${fmtInt(USERS)} users (users API, password pre-hashed)`, USERS, (u) =>
        post(`${IAM}/users`, userBody(u, passwordHash)),
      );
      const hashed = await timed(
        `create ${fmtInt(HASHED_USERS)} more users with a plain password (hashed by the server)`,
        HASHED_USERS,
        (u) =>
          post(`${IAM}/users`, {
            ...userBody(0, USER_PASSWORD),
            metadata: { name: `plain-${u}` },
            spec: { email: `plain-${u}@bench.example`, password: USER_PASSWORD },
          }),
      );
      await timed(`add ${fmtInt(USERS)} workspace members (members API)`, USERS, (u) => {
        const ws = workspaceName(u % WORKSPACES);
        const role = u < WORKSPACES ? `${ws}-admin` : `${ws}-regular`;
        return post(`${IAM}/workspaces/${ws}/workspacemembers`, [{ username: userName(u), roleRef: role }]);
      });
      const writesDone = nowNs();
      // The platform's controllers turn those into Kubernetes RBAC (and namespaces' owners, quotas…):
      // converged when nothing they make changes in number for a while.
      const derived = [
        types.roles,
        types.roleBindings,
        types.clusterRoles,
        types.clusterRoleBindings,
        platformTypes.roles,
        platformTypes.roleBindings,
        platformTypes.workspaceRoleBindings,
      ];
      const counts = await phase('controllers converge', async () => {
        let last = '';
        let stableSince = Date.now();
        const until = Date.now() + CONVERGE_TIMEOUT_MS;
        for (;;) {
          const now = (await Promise.all(derived.map(count))).join(',');
          if (now !== last) {
            last = now;
            stableSince = Date.now();
          } else if (Date.now() - stableSince >= CONVERGED_AFTER_MS) return now.split(',').map(Number);
          if (Date.now() > until) throw new Error('the controllers did not converge');
          await new Promise((r) => setTimeout(r, 1000));
        }
      });
      const convergedMs = msSince(writesDone) - CONVERGED_AFTER_MS;
      const namespaces = await count(types.namespaces);
      const afterTenancy = noteMemory('after tenancy');
      await phase('idle (memory settles)', () => new Promise((r) => setTimeout(r, SETTLE_MS)));
      const settled = noteMemory('settled');
      if (HEAP_SNAPSHOT_DIR) {
        // (RSS after it says nothing: writing the snapshot takes gigabytes of its own.)
        await phase('heap snapshot', () => heapSnapshot(server!, HEAP_SNAPSHOT_DIR));
      }
      rows.push({
        metric: `controllers converge after the last write`,
        value: `${fmt(Math.max(0, convergedMs) / 1000, 1)} s`,
        baseline: `objects: ${derived.map((t, i) => `${fmtInt(counts[i])} ${t.group ? `${t.resource}.${t.group.split('.')[0]}` : t.resource}`).join(', ')}`,
      });
      rows.push({
        metric: `server RSS with ${fmtInt(namespaces)} namespaces, ${fmtInt(WORKSPACES)} workspaces, ${fmtInt(USERS + HASHED_USERS + 1)} users, ${fmtInt(PODS)} pods`,
        value: `${fmt(settled.rssMB, 0)} MB ${SETTLE_MS / 1000} s after the load (${fmt(afterTenancy.rssMB, 0)} MB at once, peak ${fmt(settled.peakMB, 0)} MB)`,
        goal: '< 1,536 MB',
        pass: settled.rssMB < 1536 && afterTenancy.rssMB < 1536,
        baseline: `idle ${fmt(idleMemory.rssMB, 0)} MB, with the pods ${fmt(afterPods.rssMB, 0)} MB; by step: ${memorySteps.join(', ')}`,
      });
      rows.push({
        metric: `users created with a plain password (bcrypt cost 10 in the server)`,
        value: `${fmt(hashed.perSec, 1)}/s (p50 ${fmt(hashed.p50)} ms with ${TENANT_CONCURRENCY} clients)`,
        baseline: `at that rate ${fmtInt(USERS)} users would take ${fmt(USERS / hashed.perSec / 60, 0)} min instead of ${fmt(usersCreated.wallMs / 1000, 0)} s`,
      });

      // --- an authorization-heavy loop as a workspace admin --------------------------------
      const user = userName(0);
      const ws = workspaceName(0);
      const userToken = await phase(`sign in as ${user}`, () => token.signIn(user, USER_PASSWORD));
      const loop: Array<{ label: string; path: string; expect: number }> = [
        { label: 'tenant: workspaces (1 visible)', path: `${TENANT}/workspaces`, expect: 200 },
        { label: 'tenant: projects of the workspace', path: `${TENANT}/workspaces/${ws}/namespaces`, expect: 200 },
        { label: 'members of the workspace', path: `${IAM}/workspaces/${ws}/workspacemembers`, expect: 200 },
        {
          label: 'resources API: pods of a project',
          path: `${RESOURCES}/namespaces/${projectName(0, 1)}/pods?name=web&limit=10`,
          expect: 200,
        },
        { label: 'proxied: configmaps of a project', path: `/api/v1/namespaces/${projectName(0, 0)}/configmaps`, expect: 200 },
        {
          label: "proxied: another workspace's project (denied, audited)",
          path: `/api/v1/namespaces/${projectName(1, 0)}/configmaps`,
          expect: 403,
        },
        {
          label: 'roletemplates of the user in a project',
          path: `${IAM}/users/${user}/roletemplates?scope=namespace&namespace=${projectName(0, 2)}`,
          expect: 200,
        },
      ];
      const loopSamples = loop.map(() => [] as number[]);
      const loopWall = await phase(`authorization loop as ${user}`, async () => {
        for (const l of loop) await call(one, 'GET', `${front}${l.path}`, { token: userToken, expect: l.expect });
        const { wallMs } = await runClosedLoop(REQUESTS, 1, async (i) => {
          const l = loop[i % loop.length];
          const t0 = nowNs();
          await call(one, 'GET', `${front}${l.path}`, { token: userToken, expect: l.expect });
          loopSamples[i % loop.length].push(msSince(t0));
        });
        return wallMs;
      });
      const all = loopSamples.flat();
      rows.push({
        metric: `authorization-heavy loop as workspace admin ${user} (${fmtInt(all.length)} req over ${loop.length} kinds, 1 client)`,
        value: `p50 ${fmt(percentile(all, 50))} ms, p99 ${fmt(percentile(all, 99))} ms, ${fmtInt((all.length / loopWall) * 1000)}/s`,
        goal: 'p99 < 50 ms',
        pass: percentile(all, 99) < 50,
        baseline: `${fmt(percentile(all, 99) / bareResult.p99, 1)}× the p99 of bare node:http`,
      });
      for (const [i, l] of loop.entries()) {
        rows.push({
          metric: `↳ ${l.label}`,
          value: `p50 ${fmt(percentile(loopSamples[i], 50))} ms, p99 ${fmt(percentile(loopSamples[i], 99))} ms`,
          baseline: `GET ${l.path} → ${l.expect}`,
        });
      }
    }

    // --- report ----------------------------------------------------------------------------
    const header = ['metric', 'result', 'goal', 'pass', 'baseline / notes'];
    console.log(
      `\nCanopy platform benchmark — ${new Date().toISOString()}, node ${process.version}, ` +
        `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30, 0)} GiB; ` +
        `client and server share the machine${CPU_PROFILE_DIR ? '; server under --cpu-prof (slower)' : ''}; ` +
        `1-min load average ${fmt(loadAtStart)} at start, ${fmt(loadavg()[0])} at end\n`,
    );
    console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
    for (const r of rows)
      console.log(
        `| ${[r.metric, r.value, r.goal ?? '', r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL', r.baseline ?? ''].join(' | ')} |`,
      );
    const failed = rows.filter((r) => r.pass === false).length;
    console.log(`\n${rows.filter((r) => r.pass !== undefined).length - failed} goals met, ${failed} missed`);
    if (failed) process.exitCode = 1;
  } finally {
    await Promise.all(agents.map((a) => a.destroy().catch(() => undefined)));
    await admin?.transport.close().catch(() => undefined);
    await stop(bare);
    await stop(server);
    clearTimeout(deadline);
    if (CPU_PROFILE_DIR && existsSync(CPU_PROFILE_DIR)) {
      const files = readdirSync(CPU_PROFILE_DIR)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(CPU_PROFILE_DIR, f))
        .sort();
      const latest = files.at(-1);
      if (latest) console.log(`\nCPU profile of the server (${latest}), top self time:\n\n${summariseProfile(latest, phases)}`);
    }
    if (flags.keep) {
      if (server) writeFileSync(join(dataDir, 'server.log'), server.output());
      console.error(`[bench] data and server.log kept in ${dataDir}`);
    } else rmSync(dataDir, { recursive: true, force: true });
  }
}

function countPods(predicate: (i: number) => boolean): number {
  let n = 0;
  for (let i = 0; i < PODS; i++) if (predicate(i)) n++;
  return n;
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
