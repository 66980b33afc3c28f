/**
 * Authorization benchmark (issue 3): what 1,000 RoleBindings (and 1,000 ClusterRoleBindings) in
 * the cluster add to the latency of a GET, for two identities, each compared with itself without
 * those bindings (same server, same client, same run; rounds alternate the two states):
 *
 * - admin: client certificate in `system:masters`, allowed by the `cluster-admin` binding, which
 *   matches among the first rules whatever else is bound;
 * - ServiceAccount `bench/reader`: bearer token (ES256 signature checked and the account's uid
 *   looked up per request), allowed by a RoleBinding to `view` in `bench`, so the authorizer has to
 *   find its bindings among the others.
 *
 * The ratio "p99 with the bindings / p99 without" isolates what the bindings cost; the SA's absolute
 * figures next to the admin's show what token authentication costs.
 *
 * Usage (after `npm run build`):
 *   node --conditions=source --import tsx bench/authz.ts [--gets 5000] [--bindings 1000] [--keep]
 * or `npm run bench:authz -- --gets 2000`. CANOPY_BENCH_CPU_PROF=<dir> profiles the server as in
 * bench/apiserver.ts (top self time for the whole run and for each measured phase).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import {
  defaultClusterRoleBindings,
  defaultClusterRoles,
  defaultRoleBindings,
  defaultRoles,
  RbacAuthorizer,
  type ClusterRoleBinding,
  type RbacPolicySource,
  type RequestAttributes,
  type Role,
  type RoleBinding,
} from '@canopy/kube-apiserver';
import {
  CLI,
  fmt,
  fmtInt,
  kubeconfigTls,
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

const NAMESPACE = 'bench';
const OTHER_NAMESPACES = 100;
const CONFIGMAPS = 20;
const GET_CONCURRENCIES = [1, 8];
const WARMUP_REQUESTS = 500;
/** Rounds of (without bindings, with bindings); each cell reports its median round by p99. */
const ROUNDS = 3;
const CREATE_CONCURRENCY = 16;
/** The whole run is cut off after this, the server killed, exit code 1. */
const RUN_DEADLINE_MS = 8 * 60_000;
/** Issue 3: authorization adds less than this to GET p99 with the bindings in place. */
const MAX_P99_RATIO = 1.1;
/** Marks the bindings the benchmark adds, so that each round can delete them again. */
const BINDING_LABEL = 'bench.canopy.dev/authz';

const { values: flags } = parseArgs({
  options: {
    gets: { type: 'string', default: '5000' },
    bindings: { type: 'string', default: '1000' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
});

const GETS = positiveInt('gets', flags.gets, 10);
const BINDINGS = positiveInt('bindings', flags.bindings, OTHER_NAMESPACES + 1);
const CPU_PROFILE_DIR = process.env.CANOPY_BENCH_CPU_PROF ? resolve(process.env.CANOPY_BENCH_CPU_PROF) : undefined;

const otherNamespace = (i: number) => `bench-${String(i).padStart(3, '0')}`;

/**
 * The i-th of the cluster's RoleBindings: a tenth in `bench`, the rest spread over the other
 * namespaces; subjects rotate over users, groups and service accounts (one or two per binding),
 * roles over `view`, `edit` and the namespace's custom Role.
 */
function roleBinding(i: number): { namespace: string; body: Record<string, unknown> } {
  const inBench = i % 10 === 0;
  const namespace = inBench ? NAMESPACE : otherNamespace(i % OTHER_NAMESPACES);
  const subjects: Array<Record<string, string>> = [];
  switch (i % 3) {
    case 0:
      subjects.push({ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: `user-${i}` });
      break;
    case 1:
      subjects.push({ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `team-${i % 50}` });
      break;
    default:
      subjects.push({ kind: 'ServiceAccount', name: `sa-${i}`, namespace });
  }
  if (i % 4 === 0) subjects.push({ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: `owner-${i % 20}@example.com` });
  const roleRef =
    i % 3 === 2
      ? { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'bench-config-reader' }
      : { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: i % 3 === 0 ? 'view' : 'edit' };
  return {
    namespace,
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `bench-rb-${i}`, namespace, labels: { [BINDING_LABEL]: 'true' } },
      subjects,
      roleRef,
    },
  };
}

/** The i-th ClusterRoleBinding added: to other users and groups, never to the identities measured. */
const clusterRoleBinding = (i: number) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name: `bench-crb-${i}`, labels: { [BINDING_LABEL]: 'true' } },
  subjects: [
    i % 2 === 0
      ? { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: `cluster-user-${i}` }
      : { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `cluster-team-${i}` },
  ],
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: i % 2 === 0 ? 'view' : 'edit' },
});

const customRole = (namespace: string) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'Role',
  metadata: { name: 'bench-config-reader', namespace },
  rules: [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'], verbs: ['get', 'update'], resourceNames: ['web'] },
  ],
});

const READER_BINDING = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name: 'reader-view', namespace: NAMESPACE },
  subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: NAMESPACE }],
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
};

/**
 * The authorizer alone, in this process: mean time of `RbacAuthorizer.authorize` for the GET the
 * HTTP figures measure, over the same policy as the server holds (default policy, the custom Roles,
 * the reader's binding, and optionally the added bindings). Median of 5 batches, in µs.
 */
function authorizerMicros(withBindings: boolean, user: RequestAttributes['user']): number {
  const namespaces = [NAMESPACE, ...Array.from({ length: OTHER_NAMESPACES }, (_, i) => otherNamespace(i))];
  const roleBindings = new Map<string, RoleBinding[]>();
  for (const b of defaultRoleBindings())
    roleBindings.set(b.metadata.namespace ?? '', [...(roleBindings.get(b.metadata.namespace ?? '') ?? []), b]);
  roleBindings.set(NAMESPACE, [READER_BINDING as RoleBinding]);
  const clusterRoleBindings: ClusterRoleBinding[] = [...defaultClusterRoleBindings()];
  if (withBindings) {
    for (let i = 0; i < BINDINGS; i++) {
      const { namespace, body } = roleBinding(i);
      roleBindings.set(namespace, [...(roleBindings.get(namespace) ?? []), body as unknown as RoleBinding]);
      clusterRoleBindings.push(clusterRoleBinding(i) as ClusterRoleBinding);
    }
  }
  const clusterRoles = defaultClusterRoles();
  const roles = new Map<string, Role[]>(namespaces.map((ns) => [ns, [customRole(ns) as Role]]));
  for (const r of defaultRoles()) roles.set(r.metadata.namespace ?? '', [...(roles.get(r.metadata.namespace ?? '') ?? []), r]);
  const source: RbacPolicySource = {
    listClusterRoles: () => clusterRoles,
    listClusterRoleBindings: () => clusterRoleBindings,
    listRoles: (ns) => roles.get(ns) ?? [],
    listRoleBindings: (ns) => roleBindings.get(ns) ?? [],
  };
  const rbac = new RbacAuthorizer(source);
  const attrs: RequestAttributes = {
    user,
    verb: 'get',
    resourceRequest: true,
    apiGroup: '',
    resource: 'configmaps',
    subresource: '',
    namespace: NAMESPACE,
    name: 'settings-7',
  };
  if (rbac.authorize(attrs).decision !== 'allow') throw new Error(`in-process: ${user.name} is not allowed`);
  const calls = 100_000;
  const batches: number[] = [];
  for (let batch = 0; batch < 6; batch++) {
    const start = nowNs();
    for (let i = 0; i < calls; i++) rbac.authorize(attrs);
    batches.push(Number(nowNs() - start) / 1e3 / calls);
  }
  batches.shift(); // warm-up
  return batches.sort((x, y) => x - y)[2];
}

interface Measured {
  p50: number;
  p99: number;
  perSec: number;
}

async function main(): Promise<void> {
  requireBuild();
  const loadAtStart = loadavg()[0];
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-bench-authz-'));
  const phases: Phase[] = [];
  const phase = phaseRecorder(phases);

  let server: Child | undefined;
  const agents: Agent[] = [];
  const deadline = setTimeout(() => {
    console.error(`bench: still running after ${RUN_DEADLINE_MS / 60_000} minutes; giving up`);
    server?.proc.kill('SIGKILL');
    process.exit(1);
  }, RUN_DEADLINE_MS);
  deadline.unref();

  try {
    const nodeArgs = CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILE_DIR}`] : [];
    const started = await spawnNode(
      [...nodeArgs, CLI, 'server', '--data-dir', dataDir, '--port', '0', '--platform-port', '0', '--nodes', '0'],
      /Kubernetes API: (https:\/\/[^\s]+)/,
    );
    server = started.child;
    const base = started.match[1];
    const tls = kubeconfigTls(readFileSync(join(dataDir, 'kubeconfig.yaml'), 'utf8'));
    /** A client of `connections` connections; with `withCert: false` it presents no client certificate. */
    const agent = (connections: number, withCert = true) => {
      const a = new Agent({
        connect: withCert ? tls : { ca: tls.ca },
        connections,
        pipelining: 1,
        keepAliveTimeout: 60_000,
        headersTimeout: 60_000,
      });
      agents.push(a);
      return a;
    };
    const call = async (
      dispatcher: Agent,
      method: 'GET' | 'POST' | 'DELETE',
      path: string,
      options: { body?: unknown; token?: string; expect?: number } = {},
    ): Promise<string> => {
      const res = await request(`${base}${path}`, {
        dispatcher,
        method,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        headers: {
          accept: 'application/json',
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
      });
      const text = await res.body.text();
      const expect = options.expect ?? (method === 'POST' ? 201 : 200);
      if (res.statusCode !== expect) throw new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 300)}`);
      return text;
    };

    // --- the objects read, and the reader ---------------------------------------------------
    const admin = agent(CREATE_CONCURRENCY);
    await phase('setup', async () => {
      await call(admin, 'POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
      });
      for (let i = 0; i < CONFIGMAPS; i++) {
        await call(admin, 'POST', `/api/v1/namespaces/${NAMESPACE}/configmaps`, {
          body: {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: `settings-${i}` },
            data: { 'app.properties': `replicas=${i}\nlog=info\n` },
          },
        });
      }
      await call(admin, 'POST', `/api/v1/namespaces/${NAMESPACE}/serviceaccounts`, {
        body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader' } },
      });
      await call(admin, 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NAMESPACE}/rolebindings`, {
        body: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'reader-view' },
          subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: NAMESPACE }],
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        },
      });
    });
    const tokenRequest = JSON.parse(
      await call(admin, 'POST', `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/reader/token`, { body: { spec: {} } }),
    ) as { status: { token: string } };
    const token = tokenRequest.status.token;
    const target = `/api/v1/namespaces/${NAMESPACE}/configmaps/settings-7`;
    const whoami = JSON.parse(
      await call(agent(1, false), 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
        token,
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      }),
    ) as { status: { userInfo: { username: string } } };
    if (whoami.status.userInfo.username !== `system:serviceaccount:${NAMESPACE}:reader`) {
      throw new Error(`the token authenticates as ${whoami.status.userInfo.username}`);
    }

    const identities = [
      { label: 'admin (client cert, system:masters)', key: 'admin', withCert: true, token: undefined },
      { label: `ServiceAccount ${NAMESPACE}/reader (bearer token, view)`, key: 'sa', withCert: false, token },
    ] as const;
    const measureCell = (when: string, who: (typeof identities)[number], concurrency: number): Promise<Measured> =>
      phase(`${when}: ${who.key} GET ${concurrency} clients`, async () => {
        const dispatcher = agent(concurrency, who.withCert);
        const get = () => call(dispatcher, 'GET', target, { token: who.token }).then(() => undefined);
        await runClosedLoop(WARMUP_REQUESTS, concurrency, get);
        const { latenciesMs, wallMs } = await runClosedLoop(GETS, concurrency, get);
        return { p50: percentile(latenciesMs, 50), p99: percentile(latenciesMs, 99), perSec: (GETS / wallMs) * 1000 };
      });
    const namespaces = [NAMESPACE, ...Array.from({ length: OTHER_NAMESPACES }, (_, i) => otherNamespace(i))];
    const measureAll = async (when: string, into: Map<string, Measured[]>) => {
      for (const who of identities) {
        for (const concurrency of GET_CONCURRENCIES) {
          const key = `${who.key}/${concurrency}`;
          into.set(key, [...(into.get(key) ?? []), await measureCell(when, who, concurrency)]);
        }
      }
    };

    // The namespaces and their custom Roles exist in both states: only the bindings differ.
    await phase(`create ${OTHER_NAMESPACES} namespaces with a Role each`, async () => {
      await runClosedLoop(OTHER_NAMESPACES, CREATE_CONCURRENCY, (i) =>
        call(admin, 'POST', '/api/v1/namespaces', {
          body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: otherNamespace(i) } },
        }).then(() => undefined),
      );
      await runClosedLoop(namespaces.length, CREATE_CONCURRENCY, (i) =>
        call(admin, 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespaces[i]}/roles`, {
          body: customRole(namespaces[i]),
        }).then(() => undefined),
      );
    });
    const createBindings = () =>
      phase(`create ${fmtInt(BINDINGS)} RoleBindings and ${fmtInt(BINDINGS)} ClusterRoleBindings`, async () => {
        await runClosedLoop(BINDINGS, CREATE_CONCURRENCY, (i) => {
          const { namespace, body } = roleBinding(i);
          return call(admin, 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, { body }).then(
            () => undefined,
          );
        });
        await runClosedLoop(BINDINGS, CREATE_CONCURRENCY, (i) =>
          call(admin, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', { body: clusterRoleBinding(i) }).then(
            () => undefined,
          ),
        );
      });
    const countRoleBindings = async () =>
      (JSON.parse(await call(admin, 'GET', '/apis/rbac.authorization.k8s.io/v1/rolebindings')) as { items: unknown[] }).items
        .length;
    const deleteBindings = () =>
      phase('delete the added bindings', async () => {
        const selector = `labelSelector=${encodeURIComponent(BINDING_LABEL)}`;
        await runClosedLoop(namespaces.length, CREATE_CONCURRENCY, (i) =>
          call(admin, 'DELETE', `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespaces[i]}/rolebindings?${selector}`).then(
            () => undefined,
          ),
        );
        await call(admin, 'DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings?${selector}`);
      });

    // The first requests of each kind run cold (JIT, caches): one throwaway pass so the first state measured is not penalised.
    for (const who of identities) for (const concurrency of GET_CONCURRENCIES) await measureCell('warm-up', who, concurrency);

    // Rounds alternate the two states (without, with, without, with…), so that drift and bursts of
    // other load on the machine hit both alike; each cell reports its round with the median p99.
    const withoutRounds = new Map<string, Measured[]>();
    const withRounds = new Map<string, Measured[]>();
    const roleBindingsWithout = await countRoleBindings();
    let roleBindingsInCluster = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      if ((await countRoleBindings()) !== roleBindingsWithout) throw new Error('the added RoleBindings were not all deleted');
      await measureAll(`round ${round} without bindings`, withoutRounds);
      await createBindings();
      roleBindingsInCluster = await countRoleBindings();
      if (roleBindingsInCluster < BINDINGS) throw new Error(`only ${roleBindingsInCluster} RoleBindings in the cluster`);
      await measureAll(`round ${round} with bindings`, withRounds);
      if (round < ROUNDS) await deleteBindings();
    }
    const median = (rounds: Measured[]) => [...rounds].sort((x, y) => x.p99 - y.p99)[Math.floor(rounds.length / 2)];
    const without = new Map([...withoutRounds].map(([key, rounds]) => [key, median(rounds)]));
    const withBindings = new Map([...withRounds].map(([key, rounds]) => [key, median(rounds)]));

    // --- report --------------------------------------------------------------------------------
    const header = [
      'identity',
      'clients',
      `without: p50 / p99 (req/s)`,
      `with ${fmtInt(roleBindingsInCluster)} RoleBindings: p50 / p99 (req/s)`,
      'p99 ratio',
      'goal',
      'pass',
    ];
    const lines: string[][] = [];
    let failed = 0;
    for (const who of identities) {
      for (const concurrency of GET_CONCURRENCIES) {
        const b = without.get(`${who.key}/${concurrency}`)!;
        const a = withBindings.get(`${who.key}/${concurrency}`)!;
        const ratio = a.p99 / b.p99;
        const pass = ratio < MAX_P99_RATIO;
        if (!pass) failed++;
        lines.push([
          who.label,
          String(concurrency),
          `${fmt(b.p50)} / ${fmt(b.p99)} ms (${fmtInt(b.perSec)}/s)`,
          `${fmt(a.p50)} / ${fmt(a.p99)} ms (${fmtInt(a.perSec)}/s)`,
          `${fmt(ratio, 3)}×`,
          `< ${MAX_P99_RATIO}×`,
          pass ? 'PASS' : 'FAIL',
        ]);
      }
    }
    console.log(
      `\nCanopy authorization benchmark — ${new Date().toISOString()}, node ${process.version}, ` +
        `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30, 0)} GiB` +
        `\nGET ${target}, ${fmtInt(GETS)} requests per cell after ${WARMUP_REQUESTS} warm-up, median of ${ROUNDS} rounds by p99, rounds alternating without/with the bindings; ` +
        `bindings added: ${fmtInt(BINDINGS)} RoleBindings over ${OTHER_NAMESPACES + 1} namespaces and ${fmtInt(BINDINGS)} ClusterRoleBindings; ` +
        `client and server share the machine${CPU_PROFILE_DIR ? '; server under --cpu-prof (slower)' : ''}; ` +
        `1-min load average ${fmt(loadAtStart)} at start, ${fmt(loadavg()[0])} at end\n`,
    );
    console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
    for (const l of lines) console.log(`| ${l.join(' | ')} |`);
    console.log(`\n${lines.length - failed} goals met, ${failed} missed`);

    // The same decision without HTTP, TLS or the other process: what the bindings cost the authorizer itself.
    const inProcessUsers = [
      ['admin', { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] }],
      [
        'sa',
        {
          name: `system:serviceaccount:${NAMESPACE}:reader`,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${NAMESPACE}`, 'system:authenticated'],
        },
      ],
    ] as const;
    console.log(`\nRbacAuthorizer.authorize in-process (same policy, same request), mean per call:\n`);
    console.log('| identity | without | with the bindings | share of the GET p50 (1 client, with) |\n|---|---|---|---|');
    for (const [key, user] of inProcessUsers) {
      const label = identities.find((who) => who.key === key)!.label;
      const bare = authorizerMicros(false, { ...user, groups: [...user.groups] });
      const loaded = authorizerMicros(true, { ...user, groups: [...user.groups] });
      const getP50 = withBindings.get(`${key}/1`)!.p50;
      console.log(`| ${label} | ${fmt(bare, 2)} µs | ${fmt(loaded, 2)} µs | ${fmt((100 * loaded) / (getP50 * 1000), 1)}% |`);
    }
  } finally {
    await Promise.all(agents.map((a) => a.destroy().catch(() => undefined)));
    await stop(server);
    clearTimeout(deadline);
    if (CPU_PROFILE_DIR && existsSync(CPU_PROFILE_DIR)) {
      const latest = readdirSync(CPU_PROFILE_DIR)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(CPU_PROFILE_DIR, f))
        .sort()
        .at(-1);
      if (latest) console.log(`\nCPU profile of the server (${latest}), top self time:\n\n${summariseProfile(latest, phases)}`);
    }
    if (flags.keep) {
      if (server) writeFileSync(join(dataDir, 'server.log'), server.output());
      console.error(`[bench] data and server.log kept in ${dataDir}`);
    } else rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
