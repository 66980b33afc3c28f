/**
 * Container logs. A container instance's log is a pure function of the seed, the instance (its
 * ID, start and end) and the image family: start-up banner lines, then lines in fixed time slots
 * (each slot holds 0–3 lines at offsets drawn from the slot's hash), then the lines of its exit.
 * Any time range can therefore be produced without storing or replaying anything, forwards
 * (since, follow) or backwards (tail). Lines caused by real interactions (HTTP requests served
 * through port-forward) are recorded on the instance and merged in.
 *
 * Like the kubelet's rotated log files, only the most recent part of a long log is kept
 * (`MAX_SLOTS` slots, a few days at typical rates).
 */
import type { Writable } from 'node:stream';
import { errors, type KubeObject } from '@canopy/apimachinery';
import type { Clock, TimerHandle } from '@canopy/client';
import type { LogRequest } from '@canopy/kube-apiserver';
import { imageFamily, imageVersion, type ImageFamily } from './images.js';
import type { ContainerInstance, ContainerRuntime, PodRuntime } from './pod-runtime.js';
import { between, hash32, intBetween, pick, SeededRandom, unit } from './random.js';

const MAX_SLOTS = 40_000;

export interface LogLine {
  /** Milliseconds since the epoch. */
  at: number;
  /** Sub-millisecond digits for RFC 3339 nano timestamps (0–999999). */
  nanos: number;
  text: string;
}

/** What a log source needs to know about the container beyond the instance. */
export interface LogContext {
  seed: string;
  pod: KubeObject;
  container: ContainerRuntime;
  podIP?: string;
  hostIP: string;
  /** Output of the container's command when it is a shell script (echo, printf, …), by time after start. */
  scriptOutput?: Array<{ offsetMs: number; text: string }>;
}

/** The log of one container instance. */
export class InstanceLog {
  private readonly family: ImageFamily;
  private readonly periodMs: number;
  private readonly startup: LogLine[];
  private readonly key: string;
  private readonly quiet: boolean;

  constructor(
    private readonly context: LogContext,
    readonly instance: ContainerInstance,
  ) {
    const { container } = context;
    this.family = imageFamily(container.image);
    this.key = `${context.seed}|${instance.id}`;
    const [minS, maxS] = periodRange(this.family);
    this.periodMs = Math.round(between(minS * 1000, maxS * 1000, this.key, 'period'));
    // A shell script's output stands for the process: a sleeping busybox prints nothing more.
    this.quiet = context.scriptOutput !== undefined || this.family === 'busybox' || this.family === 'alpine' || this.family === 'pause';
    const timed = context.scriptOutput ?? startupLines(this.family, context, instance, this.key).map((text, i) => ({ offsetMs: i * 3, text }));
    this.startup = timed.map(({ offsetMs, text }, i) => ({ at: instance.startedAt + offsetMs, nanos: hash32(this.key, 'startup', i) % 1_000_000, text }));
  }

  /** When the periodic slots start: after the start-up lines. */
  private get periodicStart(): number {
    return this.instance.startedAt + 1000;
  }

  private get end(): number | undefined {
    return this.instance.finishedAt;
  }

  /** Lines of slot `k` (ordered). */
  private slot(k: number): LogLine[] {
    if (this.quiet) return [];
    const base = this.periodicStart + k * this.periodMs;
    const r = unit(this.key, 'slot', k);
    const count = r < 0.25 ? 0 : r < 0.75 ? 1 : r < 0.93 ? 2 : 3;
    const offsets: number[] = [];
    for (let i = 0; i < count; i++) offsets.push(Math.floor(unit(this.key, 'offset', k, i) * this.periodMs));
    offsets.sort((a, b) => a - b);
    return offsets.map((offset, i) => {
      const at = base + offset;
      return { at, nanos: hash32(this.key, 'nanos', k, i) % 1_000_000, text: periodicLine(this.family, this.context, at, new SeededRandom(this.key, 'line', k, i), this.key) };
    });
  }

  private slotOf(time: number): number {
    return Math.floor((time - this.periodicStart) / this.periodMs);
  }

  /** The lines the process wrote as it exited. */
  private exitLines(): LogLine[] {
    const end = this.end;
    if (end === undefined || this.context.scriptOutput) return [];
    return exitLines(this.family, this.context, this.instance).map((text, i) => ({ at: end + i, nanos: hash32(this.key, 'exit', i) % 1_000_000, text }));
  }

  private firstKeptSlot(to: number): number {
    return Math.max(0, this.slotOf(to) - MAX_SLOTS);
  }

  /** Every line with `from <= at < to`, in order. */
  lines(from: number, to: number): LogLine[] {
    const end = this.end;
    const limit = end === undefined ? to : Math.min(to, end);
    const out: LogLine[] = [];
    const kept = this.firstKeptSlot(limit);
    if (kept === 0) for (const line of this.startup) if (line.at >= from && line.at < limit) out.push(line);
    const first = Math.max(kept, this.slotOf(Math.max(from, this.periodicStart)));
    const last = this.slotOf(limit);
    for (let k = Math.max(0, first); k <= last; k++) for (const line of this.slot(k)) if (line.at >= from && line.at < limit) out.push(line);
    if (end !== undefined) for (const line of this.exitLines()) if (line.at >= from && line.at < to) out.push(line);
    return mergeRecorded(out, this.instance.events, from, Math.min(to, end === undefined ? to : end + 1000), this.key);
  }

  /** The last `count` lines before `to` (at or after `from`). */
  tail(count: number, from: number, to: number): LogLine[] {
    if (count <= 0) return [];
    // Walk back slot by slot until enough lines are gathered; the slots are cheap to generate.
    const end = this.end;
    const limit = end === undefined ? to : Math.min(to, end);
    let lower = limit;
    let step = Math.max(this.periodMs * Math.ceil(count * 1.5), 10_000);
    let found: LogLine[] = [];
    const earliest = Math.max(from, this.instance.startedAt);
    while (true) {
      lower = Math.max(earliest, lower - step);
      found = this.lines(lower, to);
      if (found.length >= count || lower <= earliest) break;
      step *= 2;
    }
    return found.slice(-count);
  }

  /** The first time after `after` at which a new line may appear (follow), or undefined when none will. */
  nextTime(after: number): number | undefined {
    const end = this.end;
    if (end !== undefined) return after <= end ? end : undefined;
    for (const line of this.startup) if (line.at > after) return line.at;
    if (this.quiet) return undefined;
    for (let k = Math.max(0, this.slotOf(after)); k < this.slotOf(after) + 64; k++) {
      for (const line of this.slot(k)) if (line.at > after) return line.at;
    }
    return after + 64 * this.periodMs;
  }
}

function mergeRecorded(generated: LogLine[], recorded: ContainerInstance['events'], from: number, to: number, key: string): LogLine[] {
  const extra = recorded.filter((e) => e.at >= from && e.at < to);
  if (!extra.length) return generated;
  const lines = extra.map((e, i) => ({ at: e.at, nanos: hash32(key, 'event', e.at, i) % 1_000_000, text: e.line }));
  return [...generated, ...lines].sort((a, b) => a.at - b.at || a.nanos - b.nanos);
}

// ---- content -------------------------------------------------------------------------------------

function periodRange(family: ImageFamily): [number, number] {
  switch (family) {
    case 'nginx':
    case 'httpd':
      return [2, 8];
    case 'redis':
      return [40, 90];
    case 'postgres':
    case 'mysql':
      return [120, 300];
    default:
      return [3, 15];
  }
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `24/Nov/2026:18:46:00 +0000` (nginx and Apache access logs). */
function clfTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** `2026/11/24 18:46:00` (nginx error log). */
function nginxTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `24 Nov 2026 18:46:00.123` (redis). */
function redisTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}

/** `2026-11-24 18:46:00.123 UTC` (postgres). */
function pgTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

function appName(context: LogContext): string {
  const labels = context.pod.metadata.labels ?? {};
  return labels['app.kubernetes.io/name'] ?? labels.app ?? context.container.name;
}

function startupLines(family: ImageFamily, context: LogContext, instance: ContainerInstance, key: string): string[] {
  const at = instance.startedAt;
  const image = context.container.image;
  const workers = intBetween(29, 40, key, 'pid');
  switch (family) {
    case 'nginx': {
      const version = imageVersion(image, '1.27.3');
      return [
        '/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration',
        '/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/',
        '/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh',
        '10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf',
        '10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf',
        '/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh',
        '/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh',
        '/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh',
        '/docker-entrypoint.sh: Configuration complete; ready for start up',
        `${nginxTime(at)} [notice] 1#1: using the "epoll" event method`,
        `${nginxTime(at)} [notice] 1#1: nginx/${version}`,
        `${nginxTime(at)} [notice] 1#1: OS: Linux 6.1.0-canopy`,
        `${nginxTime(at)} [notice] 1#1: getrlimit(RLIMIT_NOFILE): 1048576:1048576`,
        `${nginxTime(at)} [notice] 1#1: start worker processes`,
        `${nginxTime(at)} [notice] 1#1: start worker process ${workers}`,
        `${nginxTime(at)} [notice] 1#1: start worker process ${workers + 1}`,
      ];
    }
    case 'httpd':
      return [
        `AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using ${context.podIP ?? '127.0.0.1'}. Set the 'ServerName' directive globally to suppress this message`,
        `[${new Date(at).toUTCString().replace(' GMT', '')}] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/${imageVersion(image, '2.4.62')} (Unix) configured -- resuming normal operations`,
        `[${new Date(at).toUTCString().replace(' GMT', '')}] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'`,
      ];
    case 'redis': {
      const version = imageVersion(image, '7.4.1');
      return [
        `1:C ${redisTime(at)} * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo`,
        `1:C ${redisTime(at)} * Redis version=${version}, bits=64, commit=00000000, modified=0, pid=1, just started`,
        `1:C ${redisTime(at)} # Warning: no config file specified, using the default config. In order to specify a config file use redis-server /path/to/redis.conf`,
        `1:M ${redisTime(at)} * monotonic clock: POSIX clock_gettime`,
        `1:M ${redisTime(at)} * Running mode=standalone, port=6379.`,
        `1:M ${redisTime(at)} * Server initialized`,
        `1:M ${redisTime(at)} * Ready to accept connections tcp`,
      ];
    }
    case 'postgres':
      return [
        `${pgTime(at)} [1] LOG:  starting PostgreSQL ${imageVersion(image, '17.2')} on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit`,
        `${pgTime(at)} [1] LOG:  listening on IPv4 address "0.0.0.0", port 5432`,
        `${pgTime(at)} [1] LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"`,
        `${pgTime(at)} [29] LOG:  database system was shut down at ${pgTime(at - 60_000)}`,
        `${pgTime(at)} [1] LOG:  database system is ready to accept connections`,
      ];
    case 'mysql':
      return [
        `${isoTime(at).replace('Z', '000Z')} 0 [System] [MY-010116] [Server] /usr/sbin/mysqld (mysqld ${imageVersion(image, '8.4.3')}) starting as process 1`,
        `${isoTime(at).replace('Z', '000Z')} 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections. Version: '${imageVersion(image, '8.4.3')}'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.`,
      ];
    case 'busybox':
    case 'alpine':
    case 'pause':
      return [];
    default: {
      const name = appName(context);
      const port = firstPort(context.container) ?? 8080;
      if (jsonStyle(key)) {
        return [
          JSON.stringify({ level: 'info', ts: isoTime(at), logger: 'main', msg: `starting ${name}`, version: imageVersion(image, '1.0.0') }),
          JSON.stringify({ level: 'info', ts: isoTime(at), logger: 'config', msg: 'configuration loaded', source: 'environment' }),
          JSON.stringify({ level: 'info', ts: isoTime(at), logger: 'http', msg: 'listening', addr: `:${port}` }),
        ];
      }
      return [
        `${isoTime(at)} INFO  [main] Starting ${name} version ${imageVersion(image, '1.0.0')}`,
        `${isoTime(at)} INFO  [main] Loaded configuration from environment`,
        `${isoTime(at)} INFO  [http] Listening on 0.0.0.0:${port}`,
      ];
    }
  }
}

function jsonStyle(key: string): boolean {
  return unit(key, 'json') < 0.4;
}

function firstPort(c: ContainerRuntime): number | undefined {
  const ports = c.spec.ports;
  if (!Array.isArray(ports)) return undefined;
  const port = (ports[0] as { containerPort?: unknown } | undefined)?.containerPort;
  return typeof port === 'number' ? port : undefined;
}

const PATHS = ['/', '/', '/', '/index.html', '/favicon.ico', '/api/v1/items', '/api/v1/orders', '/static/app.js', '/static/style.css', '/healthz', '/login', '/robots.txt'];
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'curl/8.5.0',
  'kube-probe/1.34',
  'Go-http-client/1.1',
  'python-requests/2.32.3',
];

function clientIP(context: LogContext, r: SeededRandom): string {
  if (r.next() < 0.2) return context.hostIP;
  return `10.42.${r.int(0, 12)}.${r.int(2, 250)}`;
}

function httpStatus(r: SeededRandom, path: string): number {
  if (path === '/favicon.ico' || path === '/robots.txt') return r.next() < 0.7 ? 404 : 200;
  const x = r.next();
  return x < 0.9 ? 200 : x < 0.95 ? 304 : x < 0.985 ? 404 : 500;
}

const APP_MESSAGES: Array<[string, string]> = [
  ['INFO', 'request completed'],
  ['INFO', 'request completed'],
  ['INFO', 'request completed'],
  ['DEBUG', 'cache hit'],
  ['INFO', 'cache refreshed'],
  ['INFO', 'health check passed'],
  ['WARN', 'slow request'],
  ['INFO', 'scheduled job finished'],
  ['ERROR', 'upstream request failed: context deadline exceeded'],
];

function periodicLine(family: ImageFamily, context: LogContext, at: number, r: SeededRandom, key: string): string {
  switch (family) {
    case 'nginx': {
      const path = r.pick(PATHS);
      const status = httpStatus(r, path);
      const agent = r.pick(AGENTS);
      const ip = agent === 'kube-probe/1.34' ? context.hostIP : clientIP(context, r);
      const bytes = status === 200 ? (path === '/' || path === '/index.html' ? 615 : r.int(120, 48_000)) : status === 304 ? 0 : r.int(150, 560);
      const method = path.startsWith('/api') && r.next() < 0.3 ? 'POST' : 'GET';
      return `${ip} - - [${clfTime(at)}] "${method} ${path} HTTP/1.1" ${status} ${bytes} "-" "${agent}" "-"`;
    }
    case 'httpd': {
      const path = r.pick(PATHS);
      const status = httpStatus(r, path);
      return `${clientIP(context, r)} - - [${clfTime(at)}] "GET ${path} HTTP/1.1" ${status} ${status === 200 ? r.int(45, 9000) : 196}`;
    }
    case 'redis': {
      const kind = r.int(0, 3);
      if (kind === 0) return `1:M ${redisTime(at)} * ${r.int(1, 100)} changes in 60 seconds. Saving...`;
      if (kind === 1) return `1:M ${redisTime(at)} * Background saving started by pid ${r.int(20, 400)}`;
      if (kind === 2) return `${r.int(20, 400)}:C ${redisTime(at)} * DB saved on disk`;
      return `1:M ${redisTime(at)} * Background saving terminated with success`;
    }
    case 'postgres':
      return r.next() < 0.5
        ? `${pgTime(at)} [${r.int(26, 30)}] LOG:  checkpoint starting: time`
        : `${pgTime(at)} [${r.int(26, 30)}] LOG:  checkpoint complete: wrote ${r.int(1, 60)} buffers (0.${r.int(0, 9)}%); 0 WAL file(s) added, 0 removed, 0 recycled; write=${r.int(1, 9)}.${r.int(100, 999)} s, sync=0.0${r.int(1, 9)} s, total=${r.int(1, 9)}.${r.int(100, 999)} s`;
    case 'mysql':
      return `${isoTime(at).replace('Z', '000Z')} ${r.int(8, 40)} [Note] [MY-010914] [Server] Aborted connection ${r.int(8, 400)} to db: 'app' user: 'app' host: '10.42.${r.int(0, 12)}.${r.int(2, 250)}' (Got an error reading communication packets).`;
    default: {
      const [level, message] = r.pick(APP_MESSAGES);
      const path = r.pick(PATHS.filter((p) => p.startsWith('/api') || p === '/healthz' || p === '/login'));
      const method = r.next() < 0.75 ? 'GET' : 'POST';
      const status = level === 'ERROR' ? 502 : httpStatus(r, path);
      const duration = level === 'WARN' ? r.int(900, 4000) : r.int(1, 120);
      const requestId = r.int(0, 0xffffff).toString(16).padStart(6, '0');
      if (jsonStyle(key)) {
        return JSON.stringify({ level: level.toLowerCase(), ts: isoTime(at), logger: 'http', msg: message, method, path, status, duration_ms: duration, request_id: requestId });
      }
      return `${isoTime(at)} ${level.padEnd(5)} [http] ${message} method=${method} path=${path} status=${status} duration=${duration}ms request_id=${requestId}`;
    }
  }
}

function exitLines(family: ImageFamily, context: LogContext, instance: ContainerInstance): string[] {
  const at = instance.finishedAt ?? instance.startedAt;
  const reason = instance.reason ?? 'Completed';
  if (reason === 'OOMKilled') return [];
  const code = instance.exitCode ?? 0;
  if (code === 0) {
    switch (family) {
      case 'nginx':
        return [
          `${nginxTime(at)} [notice] 1#1: signal 3 (SIGQUIT) received, shutting down`,
          `${nginxTime(at)} [notice] 1#1: signal 17 (SIGCHLD) received from 30`,
          `${nginxTime(at)} [notice] 1#1: exit`,
        ];
      case 'redis':
        return [`1:signal-handler (${Math.floor(at / 1000)}) Received SIGTERM scheduling shutdown...`, `1:M ${redisTime(at)} # Redis is now ready to exit, bye bye...`];
      case 'busybox':
      case 'alpine':
      case 'pause':
        return [];
      default:
        return [`${isoTime(at)} INFO  [main] Shutdown complete`];
    }
  }
  const pick1 = pick(
    ['panic: runtime error: invalid memory address or nil pointer dereference', 'fatal: unable to connect to database: connection refused', 'Error: configuration value "DATABASE_URL" is required'],
    context.seed,
    instance.id,
  );
  return [`${isoTime(at)} ERROR [main] ${pick1}`, `${isoTime(at)} ERROR [main] exiting with status ${code}`];
}

// ---- serving a log request -----------------------------------------------------------------------

/** RFC 3339 with nanoseconds, as the kubelet prefixes lines with `timestamps=true`. */
export function nanoTimestamp(line: LogLine): string {
  const iso = new Date(line.at).toISOString();
  return `${iso.slice(0, 23)}${String(line.nanos).padStart(6, '0')}Z`;
}

function render(lines: LogLine[], timestamps: boolean): string {
  let text = '';
  for (const line of lines) text += timestamps ? `${nanoTimestamp(line)} ${line.text}\n` : `${line.text}\n`;
  return text;
}

async function write(out: Writable, text: string, signal: AbortSignal): Promise<void> {
  if (!text || signal.aborted || out.destroyed) return;
  if (out.write(text)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

export interface LogServeContext {
  clock: Clock;
  runtime: PodRuntime;
  container: ContainerRuntime;
  logOf(instance: ContainerInstance): InstanceLog;
  /** Resolves when the instance gains recorded lines or ends; used by follow. */
  onActivity(instance: ContainerInstance, listener: () => void): () => void;
}

/** Serves `GET pods/NAME/log` for one container: history per the options, then follow. */
export async function serveLog(ctx: LogServeContext, request: LogRequest, out: Writable, signal: AbortSignal): Promise<void> {
  const { runtime, container, clock } = ctx;
  const where = `container "${container.name}" in pod "${runtime.name}"`;
  let instance: ContainerInstance | undefined;
  if (request.previous) {
    instance = container.previous;
    if (!instance) throw errors.badRequest(`previous terminated ${where} not found`);
  } else {
    instance = container.current;
    if (!instance) throw errors.badRequest(`${where} is waiting to start: ${container.waiting.reason}`);
  }
  const log = ctx.logOf(instance);
  const now = clock.now();
  let from = instance.startedAt;
  if (request.sinceSeconds !== undefined) from = Math.max(from, now - request.sinceSeconds * 1000);
  if (request.sinceTime !== undefined) from = Math.max(from, Date.parse(request.sinceTime));
  const history = request.tailLines !== undefined ? log.tail(request.tailLines, from, now + 1) : log.lines(from, now + 1);
  let written = 0;
  const limit = request.limitBytes;
  const emit = async (lines: LogLine[]): Promise<boolean> => {
    let text = render(lines, request.timestamps);
    if (limit !== undefined) {
      const room = limit - written;
      if (room <= 0) return false;
      const bytes = Buffer.from(text);
      if (bytes.length > room) text = bytes.subarray(0, room).toString('utf8');
      written += Math.min(bytes.length, room);
    }
    // History may be large: write it in pieces so back-pressure applies.
    for (let i = 0; i < text.length; i += 65536) await write(out, text.slice(i, i + 65536), signal);
    return limit === undefined || written < limit;
  };
  if (!(await emit(history))) return;
  if (!request.follow || request.previous) return;

  let cursor = now + 1;
  while (!signal.aborted && !out.destroyed) {
    if (instance.finishedAt !== undefined || runtime.isStopped) {
      // The process is gone: what it wrote as it exited, then the end of the stream.
      await emit(log.lines(cursor, (instance.finishedAt ?? clock.now()) + 1000));
      return;
    }
    const next = log.nextTime(cursor - 1);
    const at = next === undefined ? undefined : Math.max(next, cursor);
    // Simulated time may have moved on while the last write drained (a slow reader, a loaded
    // machine): lines already due go out now rather than at the clock's next tick.
    if (at === undefined || at > clock.now()) await new Promise<void>((resolve) => {
      let timer: TimerHandle | undefined;
      const wake = () => {
        timer?.cancel();
        unsubscribe();
        signal.removeEventListener('abort', wake);
        resolve();
      };
      const unsubscribe = ctx.onActivity(instance, wake);
      signal.addEventListener('abort', wake, { once: true });
      if (at !== undefined) timer = clock.setTimeout(wake, at - clock.now() + 1);
    });
    const upTo = clock.now() + 1;
    if (!(await emit(log.lines(cursor, upTo)))) return;
    cursor = Math.max(cursor, upTo);
  }
}
