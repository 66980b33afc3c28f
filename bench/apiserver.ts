/**
 * API server benchmark: drives a real `canopy server` child process over HTTPS with client
 * certificates, as kubectl and informers would, and prints each figure next to its goal and next
 * to a baseline measured in the same run on the same machine:
 *
 * - creates/s against raw better-sqlite3 inserts/s (WAL, synchronous=NORMAL, a kine-like table,
 *   one transaction per insert) of the same pod JSON;
 * - GET latency and throughput against a bare `node:https` server (same certificate, client
 *   certificate requested) answering with the same pod JSON, driven by the same client;
 * - LIST (JSON and Table), watch fan-out delivery latency, and the server's resident memory.
 *
 * Usage (after `npm run build`):
 *   node --conditions=source --import tsx bench/apiserver.ts [--pods 10000] [--watchers 500] [--updates 200]
 *        [--gets 5000] [--lists 30] [--keep]
 * `npm run bench -- --pods 2000` passes flags through.
 *
 * Diagnosis: CANOPY_BENCH_SERVER_NODE_ARGS='--trace-gc …' adds node flags to the server; with --keep its
 * output is left in <data dir>/server.log.
 * Profiling: CANOPY_BENCH_CPU_PROF=<dir> starts the server under `node --cpu-prof`; after the run the
 * profile is summarised (top self-time functions) for the whole run and for each phase. Phases are
 * cut by wall clock: V8's profile timestamps and `process.hrtime` both read CLOCK_MONOTONIC.
 *
 * Every loop is bounded in count and the whole run in time (RUN_DEADLINE_MS); traffic goes to
 * 127.0.0.1 only.
 */
import { setMaxListeners } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { Agent, request } from 'undici';
import {
  CLI,
  fmt,
  fmtInt,
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

const NAMESPACE = 'bench';
const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io';
/** The whole run is cut off after this, children killed, exit code 1. */
const RUN_DEADLINE_MS = 9 * 60_000;
const CONCURRENT_CREATORS = 32;
const GET_CONCURRENCIES = [1, 8];
const WARMUP_REQUESTS = 500;
/**
 * RSS right after the load depends on whether V8 has run a major GC since the last big LIST; after
 * this long without requests its memory reducer has usually collected and returned the garbage.
 */
const SETTLE_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Options

const { values: flags } = parseArgs({
  options: {
    pods: { type: 'string', default: '10000' },
    watchers: { type: 'string', default: '500' },
    updates: { type: 'string', default: '200' },
    gets: { type: 'string', default: '5000' },
    lists: { type: 'string', default: '30' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
});

const TOTAL_PODS = positiveInt('pods', flags.pods, 2);
const SEQUENTIAL_PODS = Math.floor(TOTAL_PODS / 2);
const CONCURRENT_PODS = TOTAL_PODS - SEQUENTIAL_PODS;
const WATCHERS = positiveInt('watchers', flags.watchers, 1);
const UPDATES = positiveInt('updates', flags.updates, 1);
const GETS = positiveInt('gets', flags.gets, 10);
const LISTS = positiveInt('lists', flags.lists, 1);
const CPU_PROFILE_DIR = process.env.CANOPY_BENCH_CPU_PROF ? resolve(process.env.CANOPY_BENCH_CPU_PROF) : undefined;
/** Extra node flags for the server process (e.g. `--trace-gc`); its output is kept in server.log with --keep. */
const EXTRA_SERVER_NODE_ARGS = (process.env.CANOPY_BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

// ---------------------------------------------------------------------------------------------
// The workload's object: a pod as a Deployment would create it (~1.8 KB of JSON)

function benchPod(name: string, batch: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: NAMESPACE,
      labels: {
        app: 'bench-web',
        tier: 'frontend',
        batch,
        'pod-template-hash': '7d9f8c6b5d',
        'app.kubernetes.io/name': 'bench-web',
        'app.kubernetes.io/version': '1.4.2',
      },
      annotations: { 'kubectl.kubernetes.io/default-container': 'web' },
    },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'registry.local/bench/web:1.4.2',
          imagePullPolicy: 'IfNotPresent',
          command: ['/usr/local/bin/web'],
          args: ['--listen=:8080', '--metrics=:9090', '--log-level=info'],
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
          ],
          env: [
            { name: 'APP_ENV', value: 'production' },
            { name: 'APP_REGION', value: 'eu-west-1' },
            { name: 'CACHE_URL', value: 'redis://cache.bench.svc.cluster.local:6379/0' },
            { name: 'DATABASE_URL', value: 'postgres://web@db.bench.svc.cluster.local:5432/web' },
            { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
            { name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
          ],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
          readinessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1 },
          livenessProbe: {
            httpGet: { path: '/livez', port: 'http', scheme: 'HTTP' },
            initialDelaySeconds: 15,
            periodSeconds: 20,
          },
          volumeMounts: [{ name: 'cache', mountPath: '/var/cache/web' }],
        },
      ],
      volumes: [{ name: 'cache', emptyDir: { sizeLimit: '1Gi' } }],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
    },
  };
}

/**
 * The GET baseline: a bare node:https server with the same key pair, requesting client
 * certificates like the API server does, answering every request with one fixed body.
 */
const BARE_HTTPS_SERVER = `
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
const body = readFileSync(process.env.BENCH_BODY);
const server = createServer({
  key: readFileSync(process.env.BENCH_KEY), cert: readFileSync(process.env.BENCH_CERT), ca: readFileSync(process.env.BENCH_CA),
  requestCert: true, rejectUnauthorized: false, keepAliveTimeout: 65000,
}, (req, res) => {
  if (!req.socket.authorized) { res.writeHead(401); res.end(); return; }
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

async function main(): Promise<void> {
  requireBuild();
  // Other work on the machine shows in the tails: the load average is printed with the results.
  const loadAtStart = loadavg()[0];
  const dataDir = mkdtempSync(join(tmpdir(), 'canopy-bench-'));
  const rows: Row[] = [];
  const phases: Phase[] = [];
  const phase = phaseRecorder(phases);

  let server: Child | undefined;
  let bare: Child | undefined;
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
    const nodeArgs = [...(CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILE_DIR}`] : []), ...EXTRA_SERVER_NODE_ARGS];
    const started = await spawnNode(
      [...nodeArgs, CLI, 'server', '--data-dir', dataDir, '--port', '0', '--platform-port', '0', '--nodes', '0'],
      /Kubernetes API: (https:\/\/[^\s]+)/,
    );
    server = started.child;
    const base = started.match[1];
    const serverPid = server.proc.pid!;
    /** The server's RSS at each step: which workload leaves memory behind. */
    const memorySteps: string[] = [];
    const noteMemory = (label: string) => {
      const m = memoryOf(serverPid);
      memorySteps.push(`${label} ${fmt(m.rssMB, 0)}`);
      return m;
    };
    noteMemory('idle');

    const tls = kubeconfigTls(readFileSync(join(dataDir, 'kubeconfig.yaml'), 'utf8'));
    const agent = (connections: number) => {
      const a = new Agent({
        connect: tls,
        connections,
        pipelining: 1,
        keepAliveTimeout: 60_000,
        bodyTimeout: 0,
        headersTimeout: 60_000,
      });
      agents.push(a);
      return a;
    };

    const call = async (
      dispatcher: Agent,
      method: 'GET' | 'POST' | 'PATCH',
      url: string,
      options: { body?: string; contentType?: string; accept?: string; expect?: number } = {},
    ): Promise<string> => {
      const res = await request(url, {
        dispatcher,
        method,
        body: options.body,
        headers: {
          accept: options.accept ?? 'application/json',
          ...(options.contentType ? { 'content-type': options.contentType } : {}),
        },
      });
      const text = await res.body.text();
      const expect = options.expect ?? (method === 'POST' ? 201 : 200);
      if (res.statusCode !== expect) throw new Error(`${method} ${url}: ${res.statusCode} ${text.slice(0, 300)}`);
      return text;
    };

    const one = agent(1);
    await call(one, 'POST', `${base}/api/v1/namespaces`, {
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } }),
      contentType: 'application/json',
    });
    const podsUrl = `${base}/api/v1/namespaces/${NAMESPACE}/pods`;
    const sentPodBytes = Buffer.byteLength(JSON.stringify(benchPod('bench-seq-00000', 'seq')));

    // --- baseline: raw SQLite inserts ------------------------------------------------------
    const sqliteInsertsPerSec = await phase('baseline: raw SQLite inserts', async () => {
      const db = new Database(join(dataDir, 'baseline.db'));
      try {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.exec('CREATE TABLE kine (id INTEGER PRIMARY KEY, name TEXT, value BLOB); CREATE INDEX kine_name ON kine (name);');
        const insert = db.prepare('INSERT INTO kine (name, value) VALUES (?, ?)');
        const pods = Array.from({ length: SEQUENTIAL_PODS }, (_, i) =>
          benchPod(`bench-raw-${String(i).padStart(5, '0')}`, 'raw'),
        );
        const start = nowNs();
        for (const pod of pods) {
          const meta = pod.metadata as { name: string };
          // Autocommit: every statement is its own transaction, like one create per request.
          insert.run(`/registry/pods/${NAMESPACE}/${meta.name}`, JSON.stringify(pod));
        }
        return (SEQUENTIAL_PODS / msSince(start)) * 1000;
      } finally {
        db.close();
      }
    });

    // --- creates ---------------------------------------------------------------------------
    const createBatch = async (batch: string, count: number, concurrency: number) => {
      const dispatcher = agent(concurrency);
      const { latenciesMs, wallMs } = await runClosedLoop(count, concurrency, (i) =>
        call(dispatcher, 'POST', podsUrl, {
          body: JSON.stringify(benchPod(`bench-${batch}-${String(i).padStart(5, '0')}`, batch)),
          contentType: 'application/json',
        }).then(() => undefined),
      );
      return { perSec: (count / wallMs) * 1000, p50: percentile(latenciesMs, 50), p99: percentile(latenciesMs, 99) };
    };
    const seq = await phase('create sequential', () => createBatch('seq', SEQUENTIAL_PODS, 1));
    const conc = await phase(`create ${CONCURRENT_CREATORS} clients`, () =>
      createBatch('conc', CONCURRENT_PODS, CONCURRENT_CREATORS),
    );
    noteMemory('after creates');
    for (const [label, r, n] of [
      ['create, 1 client', seq, SEQUENTIAL_PODS],
      [`create, ${CONCURRENT_CREATORS} clients`, conc, CONCURRENT_PODS],
    ] as const) {
      const ratio = r.perSec / sqliteInsertsPerSec;
      rows.push({
        metric: `${label} (${fmtInt(n)} pods)`,
        value: `${fmtInt(r.perSec)}/s (p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms)`,
        goal: '≥ 0.3× SQLite',
        pass: ratio >= 0.3,
        baseline: `${fmt(ratio, 3)}× of ${fmtInt(sqliteInsertsPerSec)} inserts/s`,
      });
    }

    // --- GET: Canopy and the bare https server -----------------------------------------------
    const podUrl = `${podsUrl}/bench-seq-00000`;
    const storedPod = await call(one, 'GET', podUrl);
    const bodyFile = join(dataDir, 'baseline-pod.json');
    writeFileSync(bodyFile, storedPod);
    const startedBare = await spawnNode(['--input-type=module', '-e', BARE_HTTPS_SERVER], /listening on (\d+)/, {
      ...process.env,
      BENCH_BODY: bodyFile,
      BENCH_KEY: join(dataDir, 'pki/server.key'),
      BENCH_CERT: join(dataDir, 'pki/server.crt'),
      BENCH_CA: join(dataDir, 'pki/ca.crt'),
    });
    bare = startedBare.child;
    const bareUrl = `https://127.0.0.1:${startedBare.match[1]}/api/v1/namespaces/${NAMESPACE}/pods/bench-seq-00000`;

    const measureGets = async (url: string, concurrency: number) => {
      const dispatcher = agent(concurrency);
      await runClosedLoop(WARMUP_REQUESTS, concurrency, () => call(dispatcher, 'GET', url).then(() => undefined));
      const { latenciesMs, wallMs } = await runClosedLoop(GETS, concurrency, () =>
        call(dispatcher, 'GET', url).then(() => undefined),
      );
      return { p50: percentile(latenciesMs, 50), p99: percentile(latenciesMs, 99), perSec: (GETS / wallMs) * 1000 };
    };
    for (const concurrency of GET_CONCURRENCIES) {
      const canopy = await phase(`get ${concurrency} clients`, () => measureGets(podUrl, concurrency));
      const baseline = await phase(`baseline: bare https get ${concurrency} clients`, () => measureGets(bareUrl, concurrency));
      rows.push({
        metric: `GET pod, ${concurrency} client${concurrency > 1 ? 's' : ''} (${fmtInt(GETS)} req)`,
        value: `p50 ${fmt(canopy.p50)} ms, p99 ${fmt(canopy.p99)} ms, ${fmtInt(canopy.perSec)}/s`,
        goal: 'p99 < 10 ms',
        pass: canopy.p99 < 10,
        baseline: `${fmt(canopy.perSec / baseline.perSec, 3)}× throughput of bare https (p50 ${fmt(baseline.p50)} ms, p99 ${fmt(baseline.p99)} ms, ${fmtInt(baseline.perSec)}/s)`,
      });
    }
    await stop(bare);
    bare = undefined;
    noteMemory('after GETs');

    // --- LIST ------------------------------------------------------------------------------
    for (const [label, accept] of [
      ['JSON', 'application/json'],
      ['Table', TABLE_ACCEPT],
    ] as const) {
      const result = await phase(`list ${label}`, async () => {
        let bytes = 0;
        let items = 0;
        await call(one, 'GET', podsUrl, { accept }); // warm-up
        // Time to the last byte; the client's JSON.parse of the answer is left out (checked once, after).
        let text = '';
        const { latenciesMs } = await runClosedLoop(LISTS, 1, async () => {
          text = await call(one, 'GET', podsUrl, { accept });
        });
        bytes = Buffer.byteLength(text);
        const parsed = JSON.parse(text) as { items?: unknown[]; rows?: unknown[] };
        items = (parsed.items ?? parsed.rows ?? []).length;
        noteMemory(`after LIST ${label}`);
        return { p50: percentile(latenciesMs, 50), p99: percentile(latenciesMs, 99), bytes, items };
      });
      if (result.items !== TOTAL_PODS) throw new Error(`LIST ${label} returned ${result.items} pods, expected ${TOTAL_PODS}`);
      rows.push({
        metric: `LIST ${fmtInt(result.items)} pods as ${label} (${LISTS} req)`,
        value: `p50 ${fmt(result.p50, 0)} ms, p99 ${fmt(result.p99, 0)} ms, ${fmt(result.bytes / 1e6, 1)} MB`,
        goal: 'p99 < 500 ms',
        pass: result.p99 < 500,
      });
    }

    // --- watch fan-out ---------------------------------------------------------------------
    const watch = await phase(`watch ${WATCHERS} streams × ${UPDATES} updates`, async () => {
      const listed = JSON.parse(await call(one, 'GET', `${podsUrl}?limit=1`)) as { metadata: { resourceVersion: string } };
      const rv = listed.metadata.resourceVersion;
      const watchAgent = agent(WATCHERS);
      const abort = new AbortController();
      setMaxListeners(WATCHERS + 10, abort.signal); // one listener per watch stream
      const deliveriesMs: number[] = [];
      /** Deliveries seen per update sequence number; the updater waits for each to reach WATCHERS. */
      const delivered = new Map<number, number>();
      let waiter: { seq: number; resolve: () => void } | undefined;
      const marker = '"bench/sent":"';
      const seqMarker = '"bench/seq":"';
      const streams: Promise<void>[] = [];
      const opened: Promise<void>[] = [];
      for (let w = 0; w < WATCHERS; w++) {
        let signalOpen!: () => void;
        let failOpen!: (e: unknown) => void;
        opened.push(new Promise<void>((r, j) => ((signalOpen = r), (failOpen = j))));
        streams.push(
          (async () => {
            try {
              const res = await request(`${podsUrl}?watch=true&resourceVersion=${rv}`, {
                dispatcher: watchAgent,
                signal: abort.signal,
                headers: { accept: 'application/json' },
              });
              if (res.statusCode !== 200) throw new Error(`watch: ${res.statusCode} ${await res.body.text()}`);
              signalOpen();
              res.body.setEncoding('utf8');
              let partial = '';
              await new Promise<void>((done, fail) => {
                res.body.on('data', (chunk: string) => {
                  const at = nowNs();
                  partial += chunk;
                  let nl: number;
                  while ((nl = partial.indexOf('\n')) >= 0) {
                    const line = partial.slice(0, nl);
                    partial = partial.slice(nl + 1);
                    // Find the stamp without parsing the whole event: the client's cost stays out of the figure.
                    const s = line.indexOf(marker);
                    const q = line.indexOf(seqMarker);
                    if (s < 0 || q < 0) continue;
                    const sentNs = BigInt(line.slice(s + marker.length, line.indexOf('"', s + marker.length)));
                    const seqNo = Number(line.slice(q + seqMarker.length, line.indexOf('"', q + seqMarker.length)));
                    deliveriesMs.push(Number(at - sentNs) / 1e6);
                    const n = (delivered.get(seqNo) ?? 0) + 1;
                    delivered.set(seqNo, n);
                    if (waiter && waiter.seq === seqNo && n === WATCHERS) waiter.resolve();
                  }
                });
                res.body.once('end', done);
                res.body.once('error', fail);
              });
            } catch (err) {
              failOpen(err);
              if (!abort.signal.aborted) throw err;
            }
          })(),
        );
      }
      await Promise.all(opened);
      noteMemory(`${WATCHERS} watches open`);

      const patchAgent = agent(1);
      const patchMs: number[] = [];
      let timedOut = 0;
      for (let seqNo = 0; seqNo < UPDATES; seqNo++) {
        const target = `${podsUrl}/bench-seq-${String(seqNo % SEQUENTIAL_PODS).padStart(5, '0')}`;
        const allDelivered = new Promise<boolean>((r) => {
          const timer = setTimeout(() => r(false), 5_000);
          waiter = { seq: seqNo, resolve: () => (clearTimeout(timer), r(true)) };
        });
        const sent = nowNs();
        const patch = {
          metadata: {
            labels: { 'bench-rev': String(seqNo) },
            annotations: { 'bench/sent': String(sent), 'bench/seq': String(seqNo) },
          },
        };
        await call(patchAgent, 'PATCH', target, { body: JSON.stringify(patch), contentType: 'application/merge-patch+json' });
        patchMs.push(msSince(sent));
        // One update at a time: each figure is fan-out latency, not queueing behind earlier updates.
        if (!(await allDelivered)) timedOut++;
      }
      abort.abort();
      await Promise.allSettled(streams);
      const expected = WATCHERS * UPDATES;
      return {
        p50: percentile(deliveriesMs, 50),
        p99: percentile(deliveriesMs, 99),
        max: percentile(deliveriesMs, 100),
        patchP50: percentile(patchMs, 50),
        deliveries: deliveriesMs.length,
        expected,
        timedOut,
      };
    });
    rows.push({
      metric: `watch delivery, ${WATCHERS} watchers × ${UPDATES} updates`,
      value: `p50 ${fmt(watch.p50)} ms, p99 ${fmt(watch.p99)} ms, max ${fmt(watch.max)} ms; ${fmtInt(watch.deliveries)}/${fmtInt(watch.expected)} delivered`,
      goal: 'p99 < 50 ms, all delivered',
      pass: watch.p99 < 50 && watch.deliveries === watch.expected,
      baseline: `PATCH p50 ${fmt(watch.patchP50)} ms${watch.timedOut ? `; ${watch.timedOut} updates not fully delivered within 5 s` : ''}`,
    });

    // --- memory ----------------------------------------------------------------------------
    const finalMemory = noteMemory('after watches');
    rows.push({
      metric: `server RSS after all (${fmtInt(TOTAL_PODS)} pods)`,
      value: `${fmt(finalMemory.rssMB, 0)} MB (peak ${fmt(finalMemory.peakMB, 0)} MB)`,
      goal: '< 400 MB',
      pass: finalMemory.rssMB < 400,
      baseline: `MB by step: ${memorySteps.join(', ')}`,
    });
    await phase('idle (memory settles)', () => new Promise((r) => setTimeout(r, SETTLE_MS)));
    const settledMemory = noteMemory('settled');
    rows.push({
      metric: `server RSS ${SETTLE_MS / 1000} s after the load`,
      value: `${fmt(settledMemory.rssMB, 0)} MB`,
      baseline: 'no requests, no watches: the live set plus what V8 has not returned yet',
    });

    // --- report ----------------------------------------------------------------------------
    const header = ['metric', 'result', 'goal', 'pass', 'baseline / notes'];
    const table = rows.map((r) => [
      r.metric,
      r.value,
      r.goal ?? '',
      r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL',
      r.baseline ?? '',
    ]);
    console.log(
      `\nCanopy API server benchmark — ${new Date().toISOString()}, node ${process.version}, ` +
        `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30, 0)} GiB` +
        `\npod JSON sent ${fmtInt(sentPodBytes)} B, stored ${fmtInt(Buffer.byteLength(storedPod))} B; ` +
        `client and server share the machine${CPU_PROFILE_DIR ? '; server under --cpu-prof (slower)' : ''}; ` +
        `1-min load average ${fmt(loadAtStart)} at start, ${fmt(loadavg()[0])} at end\n`,
    );
    console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
    for (const r of table) console.log(`| ${r.join(' | ')} |`);
    const failed = rows.filter((r) => r.pass === false).length;
    console.log(`\n${rows.length - failed} goals met, ${failed} missed`);
  } finally {
    await Promise.all(agents.map((a) => a.destroy().catch(() => undefined)));
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

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
