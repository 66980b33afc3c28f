/**
 * Cluster benchmark (issue 4): the whole all-in-one plane under a steady pod creation rate.
 *
 * Starts the built `canopy server --nodes N` (API server, controller manager with the scheduler,
 * simulated nodes, platform) as a child process, waits until every node is Ready, then creates
 * pods at a steady rate (default 50/s) until the target count (default 30,000), spread over
 * namespaces of ~100 pods: most as bare pods, a share through Deployments (so the Deployment and
 * ReplicaSet controllers, the scheduler and the simulated kubelets are all in the loop). It talks
 * to the server as kubectl and operators would: `KubeClient` over the HTTPS transport of the admin
 * kubeconfig. While the pods are being created it measures:
 *
 * - pod startup latency: created → `status.phase: Running`, observed by one watch on all pods.
 *   Bare pods count from the moment the bench sent the create; pods of Deployments from the
 *   moment the watch first saw them (the bench does not know when the ReplicaSet controller sent
 *   its create). A pod never seen Running counts as infinitely slow. Goal p99 < 5 s (kube's SLO).
 * - mutating API latency: every create (namespaces, pods, Deployments) and a steady trickle of
 *   label patches on pods already created. Goal p99 < 200 ms.
 * - namespace LIST latency: a loop listing one populated namespace's pods. Goal p99 < 1 s.
 * - the server's RSS (VmRSS of /proc/<pid>/status) sampled every 2 s. Goal < 3 GB.
 *
 * Baseline, in the same run: a bare `node:https` server in its own process (same key pair,
 * client certificate requested, like Canopy) receives the same traffic shape from the same
 * client at the same moments — a POST of the same pod JSON next to every 5th pod create, and a
 * GET answering a body of the size of a namespace's LIST after every LIST — so the ratio
 * Canopy/bare says how much of a latency is Canopy and how much is the machine (two cores
 * shared by the bench, the server and the baseline).
 *
 * Usage (after `npm run build`):
 *   node --conditions=source --import tsx bench/cluster.ts [--nodes 1000] [--pods 30000] [--rate 50]
 *        [--namespace-pods 100] [--deployment-share 0.3] [--replicas 10] [--patch-rate 5]
 *        [--drain 120] [--keep]
 * Quick run: `npm run bench:cluster -- --nodes 100 --pods 3000`.
 *
 * Profiling: CANOPY_BENCH_CPU_PROF=<dir> runs the server under `node --cpu-prof` (10 ms sampling
 * interval: a full run is 10+ minutes) and prints the top self-time functions for the whole run
 * and each phase; CANOPY_BENCH_HEAP_SNAPSHOT=<dir> has the server write a heap snapshot there
 * once every pod runs; CANOPY_BENCH_SERVER_NODE_ARGS adds node flags to the server
 * (`--trace-gc`, say) and CANOPY_BENCH_SERVER_LOG=<file> keeps its output.
 *
 * Every loop is bounded and the whole run is cut off at RUN_DEADLINE_MS; traffic goes to
 * 127.0.0.1 only.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { HttpTransport, KubeClient, loadKubeconfig, types, type Watch } from '@canopy/client';
import type { KubeObject } from '@canopy/apimachinery';
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
  phaseRecorder,
  positiveInt,
  requireBuild,
  spawnNode,
  stop,
  summariseProfile,
  type Child,
  type Phase,
} from './support.js';

/** The whole run is cut off after this, children killed, exit code 1. */
const RUN_DEADLINE_MS = 40 * 60_000;
/** Registering 1,000 nodes happens before `canopy server` prints its URL. */
const SERVER_START_TIMEOUT_MS = 5 * 60_000;
const NODES_READY_TIMEOUT_MS = 5 * 60_000;
/** Creates in flight beyond this make the bench wait (and count the schedule slip) instead of piling up. */
const MAX_IN_FLIGHT = 256;
const RSS_SAMPLE_MS = 2_000;
/** A pause between namespace LISTs, so the loop measures LIST latency rather than saturating the server. */
const LIST_PAUSE_MS = 250;
/** Every Nth pod create also sends the same POST to the bare server. */
const BASELINE_EVERY = 5;
const GOALS = { startupP99Ms: 5_000, mutatingP99Ms: 200, listP99Ms: 1_000, rssMB: 3_000 };

// ---------------------------------------------------------------------------------------------
// Options

const { values: flags } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    pods: { type: 'string', default: '30000' },
    rate: { type: 'string', default: '50' },
    'namespace-pods': { type: 'string', default: '100' },
    'deployment-share': { type: 'string', default: '0.3' },
    replicas: { type: 'string', default: '10' },
    'patch-rate': { type: 'string', default: '5' },
    drain: { type: 'string', default: '120' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
});

const NODES = positiveInt('nodes', flags.nodes, 1);
const TOTAL_PODS = positiveInt('pods', flags.pods, 1);
const RATE = positiveInt('rate', flags.rate, 1);
const NAMESPACE_PODS = positiveInt('namespace-pods', flags['namespace-pods'], 1);
const REPLICAS = positiveInt('replicas', flags.replicas, 1);
const PATCH_RATE = positiveInt('patch-rate', flags['patch-rate'], 0);
const DRAIN_MS = positiveInt('drain', flags.drain, 1) * 1000;
const DEPLOYMENT_SHARE = Number(flags['deployment-share']);
if (!(DEPLOYMENT_SHARE >= 0 && DEPLOYMENT_SHARE <= 1)) {
  console.error(`bench: --deployment-share must be between 0 and 1, got "${flags['deployment-share']}"`);
  process.exit(2);
}
const CPU_PROFILE_DIR = process.env.CANOPY_BENCH_CPU_PROF ? resolve(process.env.CANOPY_BENCH_CPU_PROF) : undefined;
const EXTRA_SERVER_NODE_ARGS = (process.env.CANOPY_BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
/** Where the server writes a heap snapshot once every pod runs (what holds the memory). */
const HEAP_SNAPSHOT_DIR = process.env.CANOPY_BENCH_HEAP_SNAPSHOT ? resolve(process.env.CANOPY_BENCH_HEAP_SNAPSHOT) : undefined;

// ---------------------------------------------------------------------------------------------
// The workload: namespaces of ~NAMESPACE_PODS pods, each a mix of bare pods and Deployments

const LABEL_RUN = 'bench.canopy.io/run';
const podTemplateSpec = () => ({
  automountServiceAccountToken: false,
  terminationGracePeriodSeconds: 5,
  containers: [
    {
      name: 'web',
      image: 'registry.local/bench/web:1.4.2',
      ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
      env: [
        { name: 'APP_ENV', value: 'production' },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      ],
      // Small requests: 30,000 pods must fit 1,000 nodes of 8 CPUs and 110 pods each.
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
    },
  ],
});

function barePod(namespace: string, name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: 'bench-bare', [LABEL_RUN]: 'bare' } },
    spec: podTemplateSpec(),
  } as KubeObject;
}

function deployment(namespace: string, name: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, [LABEL_RUN]: 'deployment' } }, spec: podTemplateSpec() },
    },
  } as KubeObject;
}

/** One step of the creation schedule: a bare pod (1 slot) or a Deployment (REPLICAS slots). */
type Action = { kind: 'pod' | 'deployment'; namespace: string; name: string; slots: number };

/** The whole schedule, namespace by namespace, Deployments spread evenly among the bare pods. */
function plan(): { actions: Action[]; namespaces: string[] } {
  const actions: Action[] = [];
  const namespaces: string[] = [];
  let remaining = TOTAL_PODS;
  for (let n = 0; remaining > 0; n++) {
    const namespace = `bench-${String(n).padStart(4, '0')}`;
    namespaces.push(namespace);
    const size = Math.min(NAMESPACE_PODS, remaining);
    remaining -= size;
    const deployments = Math.floor((size * DEPLOYMENT_SHARE) / REPLICAS);
    const bare = size - deployments * REPLICAS;
    const every = deployments ? Math.max(1, Math.floor(bare / deployments)) : Infinity;
    let d = 0;
    for (let b = 0; b < bare; b++) {
      if (d < deployments && b % every === 0)
        actions.push({ kind: 'deployment', namespace, name: `web-${d++}`, slots: REPLICAS });
      actions.push({ kind: 'pod', namespace, name: `pod-${String(b).padStart(3, '0')}`, slots: 1 });
    }
    while (d < deployments) actions.push({ kind: 'deployment', namespace, name: `web-${d++}`, slots: REPLICAS });
  }
  return { actions, namespaces };
}

/**
 * The baseline: a bare node:https server with Canopy's key pair, requesting client certificates
 * like the API server. POST answers 201 with the body it got (a create returns the object); GET
 * answers with the body last PUT (the bench PUTs a namespace LIST's body once).
 */
const BARE_HTTPS_SERVER = `
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
let listBody = Buffer.from('{}');
const server = createServer({
  key: readFileSync(process.env.BENCH_KEY), cert: readFileSync(process.env.BENCH_CERT), ca: readFileSync(process.env.BENCH_CA),
  requestCert: true, rejectUnauthorized: false, keepAliveTimeout: 65000,
}, (req, res) => {
  if (!req.socket.authorized) { res.writeHead(401); res.end(); return; }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.method === 'PUT') { listBody = body; res.writeHead(204); res.end(); return; }
    const out = req.method === 'POST' ? body : listBody;
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'content-length': out.length });
    res.end(out);
  });
});
server.listen(0, '127.0.0.1', () => console.log('listening on ' + server.address().port));
process.on('SIGTERM', () => process.exit(0));
`;

// ---------------------------------------------------------------------------------------------
// Measurements

/** Per-pod startup: when it counts as created, and when the watch first saw it Running. */
interface PodTiming {
  createdNs: bigint;
  runningNs?: bigint;
  kind: 'bare' | 'deployment';
}

interface Row {
  metric: string;
  value: string;
  goal?: string;
  pass?: boolean;
  baseline?: string;
}

const quantiles = (ms: number[]) => ({
  p50: percentile(ms, 50),
  p90: percentile(ms, 90),
  p99: percentile(ms, 99),
  max: percentile(ms, 100),
  n: ms.length,
});
const describe = (q: ReturnType<typeof quantiles>, digits = 0) =>
  `p50 ${fmt(q.p50, digits)}, p90 ${fmt(q.p90, digits)}, p99 ${fmt(q.p99, digits)}, max ${fmt(q.max, digits)} ms (n ${fmtInt(q.n)})`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

const isReady = (node: KubeObject) =>
  ((node.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).some(
    (c) => c.type === 'Ready' && c.status === 'True',
  );
const phaseOf = (pod: KubeObject) => (pod.status as { phase?: string } | undefined)?.phase;

/** Signals the server to write a heap snapshot (it was started with --heapsnapshot-signal) and waits until the file is complete. */
// ---------------------------------------------------------------------------------------------
// The run

async function main(): Promise<void> {
  requireBuild();
  const loadAtStart = loadavg()[0];
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-bench-cluster-'));
  const rows: Row[] = [];
  const phases: Phase[] = [];
  const phase = phaseRecorder(phases);
  const { actions, namespaces } = plan();
  const deploymentPods = actions.filter((a) => a.kind === 'deployment').length * REPLICAS;
  const barePods = actions.filter((a) => a.kind === 'pod').length;

  let server: Child | undefined;
  let bare: Child | undefined;
  const closers: Array<() => Promise<unknown>> = [];
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
      ...(CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILE_DIR}`, '--cpu-prof-interval=10000'] : []),
      ...(HEAP_SNAPSHOT_DIR ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${HEAP_SNAPSHOT_DIR}`] : []),
      ...EXTRA_SERVER_NODE_ARGS,
    ];
    const started = await phase(`start canopy server --nodes ${NODES}`, () =>
      spawnNode(
        [...nodeArgs, CLI, 'server', '--data-dir', dataDir, '--port', '0', '--platform-port', '0', '--nodes', String(NODES)],
        /Kubernetes API: (https:\/\/[^\s]+)/,
        process.env,
        SERVER_START_TIMEOUT_MS,
      ),
    );
    server = started.child;
    const serverPid = server.proc.pid!;
    const kubeconfigPath = join(dataDir, 'kubeconfig.yaml');
    const config = loadKubeconfig(kubeconfigPath);
    /** One transport (connection pool) per role, so a slow LIST never queues a create behind it at the client. */
    const clientFor = (userAgent: string, connections = 32) => {
      const transport = new HttpTransport({ ...config, connections });
      closers.push(() => transport.close());
      return new KubeClient(transport, { userAgent });
    };
    const admin = clientFor('bench-cluster/setup', 8);
    const creator = clientFor('bench-cluster/create', 64);
    const patcher = clientFor('bench-cluster/patch', 8);
    const lister = clientFor('bench-cluster/list', 1);
    const watcher = clientFor('bench-cluster/watch', 2);

    await phase('nodes Ready', async () => {
      const until = Date.now() + NODES_READY_TIMEOUT_MS;
      for (;;) {
        const nodes = await admin.listAll(types.nodes);
        const ready = nodes.items.filter(isReady).length;
        if (ready >= NODES) return;
        if (Date.now() > until) throw new Error(`only ${ready}/${NODES} nodes Ready after ${NODES_READY_TIMEOUT_MS / 1000} s`);
        await sleep(1000);
      }
    });
    const idleMemory = memoryOf(serverPid);

    // Namespaces first (setup, not timed): a pod is only admitted once its namespace's `default`
    // ServiceAccount exists, and the bench must not race the service account controller.
    await phase(`create ${namespaces.length} namespaces`, async () => {
      for (let i = 0; i < namespaces.length; i += 16) {
        await Promise.all(
          namespaces.slice(i, i + 16).map((name) => admin.create(types.namespaces, { metadata: { name } } as KubeObject)),
        );
      }
      const until = Date.now() + 120_000;
      for (const namespace of namespaces) {
        while (!(await admin.tryGet(types.serviceAccounts, 'default', namespace))) {
          if (Date.now() > until) throw new Error(`no default ServiceAccount in ${namespace} after 120 s`);
          await sleep(200);
        }
      }
    });

    // A probe pod proves the chain (scheduler, kubelet) works before the load starts.
    await phase('probe pod Running', async () => {
      const probe = barePod(namespaces[0], 'probe');
      await admin.create(types.pods, probe);
      const until = Date.now() + 60_000;
      for (;;) {
        const pod = await admin.get(types.pods, 'probe', namespaces[0]);
        if (phaseOf(pod) === 'Running') break;
        if (Date.now() > until) {
          throw new Error(
            `the probe pod is not Running after 60 s (phase ${phaseOf(pod)}, nodeName ${(pod.spec as { nodeName?: string }).nodeName ?? 'none'}): are the scheduler and the simulator running in canopy server?`,
          );
        }
        await sleep(250);
      }
      await admin.delete(types.pods, 'probe', { namespace: namespaces[0], gracePeriodSeconds: 0 });
    });

    // --- the baseline server -----------------------------------------------------------------
    const startedBare = await spawnNode(['--input-type=module', '-e', BARE_HTTPS_SERVER], /listening on (\d+)/, {
      ...process.env,
      BENCH_KEY: join(dataDir, 'pki/server.key'),
      BENCH_CERT: join(dataDir, 'pki/server.crt'),
      BENCH_CA: join(dataDir, 'pki/ca.crt'),
    });
    bare = startedBare.child;
    const bareUrl = `https://127.0.0.1:${startedBare.match[1]}`;
    const bareAgent = new Agent({
      connect: kubeconfigTls(readFileSync(kubeconfigPath, 'utf8')),
      connections: 64,
      pipelining: 1,
      keepAliveTimeout: 60_000,
    });
    closers.push(() => bareAgent.close());
    const bareCall = async (method: 'GET' | 'POST' | 'PUT', body?: string): Promise<number> => {
      const t0 = nowNs();
      const res = await request(`${bareUrl}/api/v1/namespaces/x/pods`, {
        dispatcher: bareAgent,
        method,
        body,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
      });
      await res.body.text();
      return msSince(t0);
    };

    // --- measurement loops ----------------------------------------------------------------
    const timings = new Map<string, PodTiming>();
    const createMs: number[] = [];
    const deploymentCreateMs: number[] = [];
    const patchMs: number[] = [];
    const listMs: number[] = [];
    const bareCreateMs: number[] = [];
    const bareListMs: number[] = [];
    const rss: Array<{ atS: number; rssMB: number; created: number; running: number }> = [];
    const errors: string[] = [];
    const noteError = (what: string, err: unknown) => {
      if (errors.length < 20) errors.push(`${what}: ${(err as Error).message?.slice(0, 200)}`);
      else if (errors.length === 20) errors.push('… further errors not shown');
    };
    let createdPods = 0;
    let runningPods = 0;
    let stopping = false;
    /** Namespaces whose actions have all been sent: the LIST loop and the patches pick from these. */
    const populated: string[] = [];
    const createdBare: Array<[string, string]> = [];

    // The watch: one stream on all pods, from the current resourceVersion, reopened when it ends.
    let watchRv = (await admin.list(types.pods, { limit: 1 })).metadata.resourceVersion!;
    let currentWatch: Watch | undefined;
    let watchEvents = 0;
    const observe = (pod: KubeObject, at: bigint) => {
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      let timing = timings.get(key);
      if (!timing) {
        if (pod.metadata.labels?.[LABEL_RUN] !== 'deployment') return; // bare pods are registered at send
        timings.set(key, (timing = { createdNs: at, kind: 'deployment' }));
      }
      if (timing.runningNs === undefined && phaseOf(pod) === 'Running') {
        timing.runningNs = at;
        runningPods++;
      }
    };
    const watching = (async () => {
      while (!stopping) {
        try {
          currentWatch = await watcher.watch(types.pods, { resourceVersion: watchRv, allowWatchBookmarks: true });
          for await (const event of currentWatch) {
            const at = nowNs();
            if (event.type === 'ERROR') {
              // 410 Gone: the history moved past us. Relist, count what is Running now, watch on.
              const list = await watcher.listAll(types.pods);
              for (const pod of list.items) observe(pod, nowNs());
              watchRv = list.metadata.resourceVersion!;
              break;
            }
            watchRv = event.object.metadata.resourceVersion ?? watchRv;
            if (event.type === 'BOOKMARK') continue;
            watchEvents++;
            if (event.type !== 'DELETED') observe(event.object, at);
          }
        } catch (err) {
          if (!stopping) noteError('watch', err);
          await sleep(200);
        }
      }
    })();

    const rssTimer = setInterval(() => {
      try {
        rss.push({
          atS: Number(process.hrtime.bigint() / 1_000_000n) / 1000,
          rssMB: memoryOf(serverPid).rssMB,
          created: createdPods,
          running: runningPods,
        });
      } catch {
        /* the server is gone; the run reports it */
      }
    }, RSS_SAMPLE_MS);

    const listing = (async () => {
      let bareBodySet = false;
      while (!stopping) {
        const namespace = populated.length ? populated[Math.floor(Math.random() * populated.length)] : undefined;
        if (!namespace) {
          await sleep(LIST_PAUSE_MS);
          continue;
        }
        try {
          const t0 = nowNs();
          const list = await lister.list(types.pods, { namespace });
          listMs.push(msSince(t0));
          if (!bareBodySet && list.items.length >= NAMESPACE_PODS) {
            await bareCall('PUT', JSON.stringify(list));
            bareBodySet = true;
          }
          if (bareBodySet) bareListMs.push(await bareCall('GET'));
        } catch (err) {
          noteError(`LIST ${namespace}`, err);
        }
        await sleep(LIST_PAUSE_MS);
      }
    })();

    const patching = (async () => {
      if (!PATCH_RATE) return;
      let n = 0;
      while (!stopping) {
        await sleep(1000 / PATCH_RATE);
        if (!createdBare.length) continue;
        const [namespace, name] = createdBare[Math.floor(Math.random() * createdBare.length)];
        const t0 = nowNs();
        patcher
          .patch(types.pods, name, { metadata: { labels: { 'bench.canopy.io/touched': String(n++) } } }, 'merge', { namespace })
          .then(
            () => patchMs.push(msSince(t0)),
            (err) => noteError(`PATCH ${namespace}/${name}`, err),
          );
      }
    })();

    // --- the load: actions at RATE pod slots per second -----------------------------------
    let maxSlipMs = 0;
    let inFlight = 0;
    const cpuBefore = cpuSecondsOf(serverPid);
    const benchCpuBefore = cpuSecondsOf(process.pid);
    const loadStart = nowNs();
    await phase(`create ${fmtInt(TOTAL_PODS)} pods at ${RATE}/s`, async () => {
      let slot = 0;
      const pending = new Set<Promise<void>>();
      let lastNamespace = '';
      let sinceBaseline = 0;
      for (const action of actions) {
        if (action.namespace !== lastNamespace) {
          if (lastNamespace) populated.push(lastNamespace);
          lastNamespace = action.namespace;
        }
        const dueMs = (slot * 1000) / RATE;
        slot += action.slots;
        const waitMs = dueMs - msSince(loadStart);
        if (waitMs > 0) await sleep(waitMs);
        while (inFlight >= MAX_IN_FLIGHT) await Promise.race(pending);
        maxSlipMs = Math.max(maxSlipMs, msSince(loadStart) - dueMs);
        const t0 = nowNs();
        inFlight++;
        let sent: Promise<void>;
        if (action.kind === 'pod') {
          const body = barePod(action.namespace, action.name);
          timings.set(`${action.namespace}/${action.name}`, { createdNs: t0, kind: 'bare' });
          createdPods++;
          sent = creator.create(types.pods, body).then(() => {
            createMs.push(msSince(t0));
            createdBare.push([action.namespace, action.name]);
          });
          if (++sinceBaseline >= BASELINE_EVERY) {
            sinceBaseline = 0;
            bareCall('POST', JSON.stringify(body)).then(
              (ms) => bareCreateMs.push(ms),
              (err) => noteError('bare POST', err),
            );
          }
        } else {
          createdPods += action.slots;
          sent = creator.create(types.deployments, deployment(action.namespace, action.name)).then(() => {
            deploymentCreateMs.push(msSince(t0));
          });
        }
        const tracked: Promise<void> = sent
          .catch((err) => noteError(`create ${action.kind} ${action.namespace}/${action.name}`, err))
          .finally(() => {
            inFlight--;
            pending.delete(tracked);
          });
        pending.add(tracked);
        if (slot % (RATE * 30) < action.slots) {
          process.stderr.write(
            `[bench] ${fmtInt(createdPods)} pods asked for, ${fmtInt(runningPods)} Running, server RSS ${fmt(memoryOf(serverPid).rssMB, 0)} MB, schedule slip ${fmt(msSince(loadStart) - dueMs, 0)} ms\n`,
          );
        }
      }
      populated.push(lastNamespace);
      await Promise.all(pending);
    });
    const loadSeconds = msSince(loadStart) / 1000;
    const cpuDuringLoad = cpuSecondsOf(serverPid) - cpuBefore;
    // The bench shares the two cores with the server: its own CPU (mostly decoding the pod watch) is context.
    const benchCpuDuringLoad = cpuSecondsOf(process.pid) - benchCpuBefore;

    await phase('drain (every pod Running)', async () => {
      const until = Date.now() + DRAIN_MS;
      while (runningPods < TOTAL_PODS && Date.now() < until) await sleep(250);
    });
    stopping = true;
    currentWatch?.close();
    await Promise.all([watching, listing, patching]);
    clearInterval(rssTimer);
    const finalMemory = memoryOf(serverPid);
    if (HEAP_SNAPSHOT_DIR) await phase('heap snapshot', () => heapSnapshot(server!, HEAP_SNAPSHOT_DIR));

    // --- figures ----------------------------------------------------------------------------
    const startupOf = (kind?: PodTiming['kind']) => {
      const ms: number[] = [];
      let missing = 0;
      for (const t of timings.values()) {
        if (kind && t.kind !== kind) continue;
        if (t.runningNs === undefined) {
          missing++;
          ms.push(Infinity);
        } else ms.push(Number(t.runningNs - t.createdNs) / 1e6);
      }
      // Deployment pods never seen at all (the ReplicaSet controller did not create them) are slow too.
      const expected = kind === 'bare' ? barePods : kind === 'deployment' ? deploymentPods : TOTAL_PODS;
      for (let i = ms.length; i < expected; i++, missing++) ms.push(Infinity);
      return { q: quantiles(ms), missing };
    };
    const all = startupOf();
    const bareStartup = startupOf('bare');
    const deploymentStartup = startupOf('deployment');
    rows.push({
      metric: `pod startup, created → Running (all ${fmtInt(TOTAL_PODS)})`,
      value: describe(all.q),
      goal: `p99 < ${GOALS.startupP99Ms / 1000} s`,
      pass: all.q.p99 < GOALS.startupP99Ms,
      baseline: `${fmtInt(all.missing)} never seen Running within the ${DRAIN_MS / 1000} s drain; simulated kubelet floor ≈ 0.65–1.85 s (sandbox 200 ms + image pull 300–1,500 ms + start 150 ms)`,
    });
    rows.push({
      metric: `↳ bare pods (${fmtInt(barePods)}), from the create request`,
      value: describe(bareStartup.q),
      baseline: `${fmtInt(bareStartup.missing)} missing`,
    });
    rows.push({
      metric: `↳ Deployment pods (${fmtInt(deploymentPods)}), from the watch's first sight`,
      value: describe(deploymentStartup.q),
      baseline: `${fmtInt(deploymentStartup.missing)} missing`,
    });

    const mutating = quantiles([...createMs, ...deploymentCreateMs, ...patchMs]);
    const bareCreate = quantiles(bareCreateMs);
    rows.push({
      metric: 'mutating API calls (creates + label patches)',
      value: describe(mutating, 1),
      goal: `p99 < ${GOALS.mutatingP99Ms} ms`,
      pass: mutating.p99 < GOALS.mutatingP99Ms,
      baseline: `${fmt(mutating.p50 / bareCreate.p50, 1)}× p50, ${fmt(mutating.p99 / bareCreate.p99, 1)}× p99 of bare https POST (${describe(bareCreate, 1)})`,
    });
    rows.push({ metric: '↳ pod creates', value: describe(quantiles(createMs), 1) });
    rows.push({ metric: '↳ Deployment creates', value: describe(quantiles(deploymentCreateMs), 1) });
    rows.push({ metric: '↳ label patches (merge)', value: describe(quantiles(patchMs), 1) });

    const list = quantiles(listMs);
    const bareList = quantiles(bareListMs);
    rows.push({
      metric: `namespace LIST (~${NAMESPACE_PODS} pods)`,
      value: describe(list, 1),
      goal: `p99 < ${GOALS.listP99Ms / 1000} s`,
      pass: list.p99 < GOALS.listP99Ms,
      baseline: `${fmt(list.p50 / bareList.p50, 1)}× p50, ${fmt(list.p99 / bareList.p99, 1)}× p99 of bare https GET of the same body (${describe(bareList, 1)})`,
    });

    const peakRss = Math.max(finalMemory.rssMB, ...rss.map((s) => s.rssMB));
    rows.push({
      metric: 'server RSS, peak during the run',
      value: `${fmt(peakRss, 0)} MB (VmHWM ${fmt(finalMemory.peakMB, 0)} MB), at the end ${fmt(finalMemory.rssMB, 0)} MB`,
      goal: `< ${GOALS.rssMB / 1000} GB`,
      pass: finalMemory.peakMB < GOALS.rssMB,
      baseline: `${fmt(idleMemory.rssMB, 0)} MB with ${fmtInt(NODES)} nodes and no pods; ${fmt(((finalMemory.rssMB - idleMemory.rssMB) * 1024) / TOTAL_PODS, 1)} kB per pod`,
    });
    const quarter = (f: number) => rss[Math.min(rss.length - 1, Math.floor(f * (rss.length - 1)))];
    const rssSteps = [0.25, 0.5, 0.75, 1].map((f) => quarter(f)).filter(Boolean);
    rows.push({
      metric: 'server CPU during the load',
      value: `${fmt(cpuDuringLoad, 0)} s over ${fmt(loadSeconds, 0)} s = ${fmt((100 * cpuDuringLoad) / loadSeconds, 0)} % of one core, ${fmt((1000 * cpuDuringLoad) / TOTAL_PODS, 1)} ms per pod (the bench itself: ${fmt((100 * benchCpuDuringLoad) / loadSeconds, 0)} %)`,
      baseline: `creation schedule slipped at most ${fmt(maxSlipMs, 0)} ms; ${fmtInt(watchEvents)} watch events; RSS by progress: ${rssSteps.map((s) => `${fmtInt(s.created)} pods ${fmt(s.rssMB, 0)} MB`).join(', ')}`,
    });

    // --- report ----------------------------------------------------------------------------
    const header = ['metric', 'result', 'goal', 'pass', 'baseline / notes'];
    console.log(
      `\nCanopy cluster benchmark — ${new Date().toISOString()}, node ${process.version}, ` +
        `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30, 0)} GiB\n` +
        `${fmtInt(NODES)} nodes, ${fmtInt(TOTAL_PODS)} pods (${fmtInt(barePods)} bare, ${fmtInt(deploymentPods)} from ${fmtInt(deploymentPods / REPLICAS)} Deployments of ${REPLICAS}) ` +
        `in ${namespaces.length} namespaces at ${RATE}/s, ${PATCH_RATE} label patches/s; ` +
        `bench, server and baseline share the machine${CPU_PROFILE_DIR ? '; server under --cpu-prof (slower)' : ''}; ` +
        `1-min load average ${fmt(loadAtStart)} at start, ${fmt(loadavg()[0])} at end\n`,
    );
    console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
    for (const r of rows)
      console.log(
        `| ${[r.metric, r.value, r.goal ?? '', r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL', r.baseline ?? ''].join(' | ')} |`,
      );
    const failed = rows.filter((r) => r.pass === false).length;
    const goals = rows.filter((r) => r.pass !== undefined).length;
    console.log(`\n${goals - failed} goals met, ${failed} missed`);
    if (errors.length) console.log(`\nErrors during the run:\n  ${errors.join('\n  ')}`);
    if (failed) process.exitCode = 1;
  } finally {
    await Promise.all(closers.map((c) => c().catch(() => undefined)));
    await stop(bare);
    await stop(server);
    clearTimeout(deadline);
    if (CPU_PROFILE_DIR && existsSync(CPU_PROFILE_DIR)) {
      const latest = readdirSync(CPU_PROFILE_DIR)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(CPU_PROFILE_DIR, f))
        .sort()
        .at(-1);
      if (latest)
        console.log(`\nCPU profile of the server (${latest}), top self time:\n\n${summariseProfile(latest, phases, 25)}`);
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
