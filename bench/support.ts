/**
 * Helpers shared by the benchmarks: timing and percentiles, closed-loop drivers, child node
 * processes (the built `canopy server`), the admin client credentials from its kubeconfig, and a
 * summary of a V8 CPU profile cut into phases.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'packages/cli/bin/canopy.js');
export const CLI_BUILD = join(ROOT, 'packages/cli/dist/main.js');

// ---------------------------------------------------------------------------------------------
// Small helpers

export const nowNs = (): bigint => process.hrtime.bigint();
export const msSince = (startNs: bigint): number => Number(nowNs() - startNs) / 1e6;

/** Nearest-rank percentile of an unsorted sample (p in 0..100). */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : String(n));
export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Resident set size (current and peak) of a process, from /proc (Linux only). */
export function memoryOf(pid: number): { rssMB: number; peakMB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kB = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMB: kB('VmRSS') / 1024, peakMB: kB('VmHWM') / 1024 };
}

/** Runs `count` calls of `task` with `concurrency` workers; returns each call's latency in ms and the wall time. */
export async function runClosedLoop(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<{ latenciesMs: number[]; wallMs: number }> {
  const latenciesMs: number[] = [];
  let next = 0;
  const start = nowNs();
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const t0 = nowNs();
      await task(index);
      latenciesMs.push(msSince(t0));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { latenciesMs, wallMs: msSince(start) };
}
// ---------------------------------------------------------------------------------------------
// Child processes

export interface Child {
  proc: ChildProcess;
  output: () => string;
}

/** Spawns a node process and resolves with the first stdout match of `ready` (or rejects on exit/timeout). */
export function spawnNode(
  args: string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = process.env,
  readyTimeoutMs = 30_000,
): Promise<{ child: Child; match: RegExpExecArray }> {
  const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  // CANOPY_BENCH_SERVER_LOG=<file> keeps what the child prints (with --trace-gc, say) in a file too.
  const log = process.env.CANOPY_BENCH_SERVER_LOG;
  const collect = (s: string) => {
    out += s;
    if (log) appendFileSync(log, s);
  };
  proc.stdout!.setEncoding('utf8').on('data', collect);
  proc.stderr!.setEncoding('utf8').on('data', collect);
  const child: Child = { proc, output: () => out };
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => fail(new Error(`timed out waiting for ${ready}`)), readyTimeoutMs);
    const onData = () => {
      const match = ready.exec(out);
      if (!match) return;
      cleanup();
      resolvePromise({ child, match });
    };
    const onExit = (code: number | null) => fail(new Error(`exited (${code}) before ready`));
    const fail = (err: Error) => {
      cleanup();
      proc.kill('SIGKILL');
      reject(new Error(`${err.message}\n--- output of node ${args.join(' ')} ---\n${out}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      proc.off('exit', onExit);
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', onExit);
  });
}

/** Stops a child with SIGTERM (so a CPU profile is written), SIGKILL after 10 s. */
export async function stop(child: Child | undefined): Promise<void> {
  if (!child || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.proc.once('exit', () => r()));
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** The admin client's TLS material (CA, certificate, key) from the kubeconfig `canopy server` writes. */
export function kubeconfigTls(kubeconfig: string): { ca: Buffer; cert: Buffer; key: Buffer } {
  const field = (name: string) => {
    const m = new RegExp(`${name}:\\s*(\\S+)`).exec(kubeconfig);
    if (!m) throw new Error(`kubeconfig has no ${name}`);
    return Buffer.from(m[1], 'base64');
  };
  return {
    ca: field('certificate-authority-data'),
    cert: field('client-certificate-data'),
    key: field('client-key-data'),
  };
}

// ---------------------------------------------------------------------------------------------
// CPU profile summary

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Phase {
  name: string;
  startNs: bigint;
  endNs: bigint;
}

/** A command-line integer of at least `min`; anything else ends the bench with a usage error. */
export function positiveInt(name: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    console.error(`bench: --${name} must be an integer ≥ ${min}, got "${value}"`);
    process.exit(2);
  }
  return n;
}

/** Fails the bench early when the CLI it starts has not been built. */
export function requireBuild(): void {
  if (!existsSync(CLI_BUILD)) {
    console.error('bench: the CLI is not built; run `npm run build` first');
    process.exit(2);
  }
}

/** Runs named phases, recording their time spans (for per-phase profiles) and printing progress. */
export function phaseRecorder(phases: Phase[]): <T>(name: string, body: () => Promise<T>) => Promise<T> {
  return async (name, body) => {
    const startNs = nowNs();
    process.stderr.write(`[bench] ${name}…\n`);
    try {
      return await body();
    } finally {
      phases.push({ name, startNs, endNs: nowNs() });
      process.stderr.write(`[bench] ${name}: ${fmt(msSince(startNs) / 1000, 1)} s\n`);
    }
  };
}

export function summariseProfile(file: string, phases: Phase[], top = 15): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const frameName = (n: ProfileNode) => {
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(ROOT + '/', '');
    const fn = n.callFrame.functionName || '(anonymous)';
    return url ? `${fn}  ${url}:${n.callFrame.lineNumber + 1}` : fn;
  };
  // Sample i lasts until the next one: its time is timeDeltas[i + 1].
  const sampleTimes: number[] = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) sampleTimes.push((t += d));
  const section = (title: string, fromUs: number, toUs: number) => {
    const self = new Map<string, number>();
    let total = 0;
    for (let i = 0; i < profile.samples.length; i++) {
      const at = sampleTimes[i];
      if (at < fromUs || at >= toUs) continue;
      const dur = (i + 1 < profile.timeDeltas.length ? profile.timeDeltas[i + 1] : 0) / 1000;
      const node = byId.get(profile.samples[i]);
      if (!node) continue;
      const name = frameName(node);
      self.set(name, (self.get(name) ?? 0) + dur);
      total += dur;
    }
    const idle = self.get('(idle)') ?? 0;
    const lines = [`${title}: ${fmt(total, 0)} ms sampled, ${fmt(total - idle, 0)} ms busy`];
    const ranked = [...self.entries()].filter(([n]) => n !== '(idle)').sort((a, b) => b[1] - a[1]);
    for (const [name, ms] of ranked.slice(0, top)) {
      lines.push(`  ${fmt(ms, 0).padStart(7)} ms ${fmt((100 * ms) / Math.max(1, total - idle), 1).padStart(5)}%  ${name}`);
    }
    return lines.join('\n');
  };
  const out = [section('whole run', -Infinity, Infinity)];
  for (const p of phases.filter((ph) => !ph.name.startsWith('baseline')))
    out.push(section(`phase ${p.name}`, Number(p.startNs / 1000n), Number(p.endNs / 1000n)));
  return out.join('\n\n');
}

/**
 * Has a child started with `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=<dir>` write a heap
 * snapshot (V8 collects garbage first) and waits until the file is complete.
 */
export async function heapSnapshot(child: Child, dir: string): Promise<void> {
  const before = new Set(existsSync(dir) ? readdirSync(dir) : []);
  child.proc.kill('SIGUSR2');
  const until = Date.now() + 10 * 60_000;
  let lastSize = -1;
  while (Date.now() < until) {
    await new Promise<void>((r) => setTimeout(r, 2000));
    if (child.proc.exitCode !== null || child.proc.signalCode !== null)
      throw new Error(`the server exited (${child.proc.exitCode ?? child.proc.signalCode}) instead of writing a heap snapshot`);
    const file = (existsSync(dir) ? readdirSync(dir) : []).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!file) continue;
    const size = statSync(join(dir, file)).size;
    // V8 writes the snapshot synchronously: the server answers nothing until it is done.
    if (size === lastSize && size > 0) {
      process.stderr.write(`[bench] heap snapshot ${join(dir, file)} (${fmt(size / 2 ** 20, 0)} MB)\n`);
      return;
    }
    lastSize = size;
  }
  throw new Error('no heap snapshot after 10 minutes');
}
