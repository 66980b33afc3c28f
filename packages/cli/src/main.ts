/**
 * The `canopy` command. `canopy server` runs the all-in-one control plane; later layers
 * (platform, console) join the same process.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { parseDuration } from '@canopy/simulator';
import { startAllInOne } from './all-in-one.js';

const USAGE = `Usage: canopy <command> [flags]

Commands:
  server      Run Canopy: all-in-one (embedded Kubernetes, simulated nodes, platform), or the
              platform over an existing cluster with --kubeconfig
  version     Print the version

Flags of 'canopy server':
  --data-dir DIR        Where state, certificates and the admin kubeconfig live (default ./.canopy)
  --port P              HTTPS port of the Kubernetes API (default 6443; 0 picks a free port)
  --platform-port P     HTTP port of the platform and console (default 30880; 0 picks a free port)
  --nodes N             Simulated nodes in all-in-one mode (default 3; 0: none)
  --controllers SET     all (default), lifecycle (garbage collection, namespaces, quota status,
                        service accounts: no workloads run), or none
  --node-monitor-grace-period D  How long a node may be silent before it is NotReady
                        (default 40s; the simulated kubelets' Leases follow it)
  --kubeconfig FILE     Run the platform over this cluster instead of the embedded one
  --host ADDR           Address to listen on (default 127.0.0.1)
  --history-window N    Revisions of history kept for watches and paging (default 10000)
  --compaction-interval S  Seconds between compactions of older history (default 300)
  --heap-growth PERCENT How far the JavaScript heap may grow past what a full collection kept
                        before the next one (default 40; 0: V8's own choice, up to about 2x)
  -h, --help            Show this help
`;

/** See `--heap-growth`: the next full collection comes when the heap is 40 % over what the last one kept. */
const DEFAULT_HEAP_GROWTH_PERCENT = 40;

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server':
      return server(rest);
    case 'version':
      console.log('canopy 0.1.0');
      return;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`canopy: unknown command "${command}"\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

async function server(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string', default: '.canopy' },
        port: { type: 'string', default: '6443' },
        host: { type: 'string', default: '127.0.0.1' },
        'history-window': { type: 'string', default: '10000' },
        'compaction-interval': { type: 'string', default: '300' },
        'heap-growth': { type: 'string', default: String(DEFAULT_HEAP_GROWTH_PERCENT) },
        'platform-port': { type: 'string', default: '30880' },
        nodes: { type: 'string', default: '3' },
        controllers: { type: 'string', default: 'all' },
        'node-monitor-grace-period': { type: 'string', default: '40s' },
        kubeconfig: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`canopy server: ${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = Number(values.port);
  const historyWindow = Number(values['history-window']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`canopy server: --port must be 0-65535, got "${values.port}"\n`);
    process.exitCode = 2;
    return;
  }
  if (!Number.isInteger(historyWindow) || historyWindow < 100) {
    process.stderr.write(`canopy server: --history-window must be an integer ≥ 100\n`);
    process.exitCode = 2;
    return;
  }
  const compactionSeconds = Number(values['compaction-interval']);
  if (!Number.isFinite(compactionSeconds) || compactionSeconds < 1) {
    process.stderr.write(`canopy server: --compaction-interval must be at least 1 (seconds)\n`);
    process.exitCode = 2;
    return;
  }
  const platformPort = Number(values['platform-port']);
  if (!Number.isInteger(platformPort) || platformPort < 0 || platformPort > 65535) {
    process.stderr.write(`canopy server: --platform-port must be 0-65535, got "${values['platform-port']}"\n`);
    process.exitCode = 2;
    return;
  }
  const nodes = Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 0 || nodes > 5000) {
    process.stderr.write(`canopy server: --nodes must be an integer 0-5000, got "${values.nodes}"\n`);
    process.exitCode = 2;
    return;
  }
  const controllers = values.controllers;
  if (controllers !== 'all' && controllers !== 'lifecycle' && controllers !== 'none') {
    process.stderr.write(`canopy server: --controllers must be all, lifecycle or none, got "${controllers}"\n`);
    process.exitCode = 2;
    return;
  }
  // A Go duration, as kube-controller-manager's flag; at least 4 s so that the kubelets' Lease
  // renewals (every quarter of it) stay a second apart or more.
  const nodeMonitorGracePeriodMs = parseDuration(values['node-monitor-grace-period']);
  if (nodeMonitorGracePeriodMs === undefined || nodeMonitorGracePeriodMs < 4000) {
    process.stderr.write(`canopy server: --node-monitor-grace-period must be a duration of at least 4s (e.g. 40s, 1m), got "${values['node-monitor-grace-period']}"\n`);
    process.exitCode = 2;
    return;
  }
  const heapGrowth = Number(values['heap-growth']);
  if (!Number.isInteger(heapGrowth) || heapGrowth < 0 || heapGrowth > 400) {
    process.stderr.write(`canopy server: --heap-growth must be a percentage 0-400, got "${values['heap-growth']}"\n`);
    process.exitCode = 2;
    return;
  }
  // The server's memory is mostly its caches (the store's objects, the informers of the
  // controllers and the platform), which only grow with the cluster. Left to itself V8 lets a heap
  // of 900 MB reach 1.6 GB of garbage-holding pages before its next full collection; a bounded
  // growth keeps the resident size near what is live, for full collections that are incremental
  // and concurrent (pauses of 10-30 ms measured at 4,000 projects; docs/benchmarks.md).
  // V8 reads this flag each time it sets the next limit, so setting it now takes effect.
  if (heapGrowth > 0) setFlagsFromString(`--heap-growing-percent=${heapGrowth}`);
  const dataDir = resolve(values['data-dir']);
  const running = await startAllInOne({
    dataDir,
    host: values.host,
    apiPort: port,
    platformPort,
    historyWindow,
    compactionIntervalMs: compactionSeconds * 1000,
    nodes,
    controllers,
    nodeMonitorGracePeriodMs,
    kubeconfig: values.kubeconfig ? resolve(values.kubeconfig) : undefined,
    log: (message) => process.stderr.write(`${new Date().toISOString()} ${message}\n`),
  });
  const apiServer = running.apiServer;
  process.stdout.write(
    [
      `Canopy is running.`,
      ...(apiServer
        ? [`  Kubernetes API: ${apiServer.url}`, `  Admin kubeconfig: ${apiServer.kubeconfigPath}`, `  Try: kubectl --kubeconfig ${apiServer.kubeconfigPath} get namespaces`]
        : [`  Cluster: ${values.kubeconfig}`]),
      `  Platform API: ${running.platform.url}`,
      `  Console: ${running.platform.url}`,
      running.platform.initialAdminPassword
        ? `  First sign-in: admin / ${running.platform.initialAdminPassword} (shown once; change it at first sign-in)`
        : `  First sign-in: admin, with the password shown when this installation first started`,
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${new Date().toISOString()} ${signal}: shutting down\n`);
    running.close().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
