/**
 * Test support: runs the built `canopy server` in a temporary data directory, as a user would,
 * and drives real kubectl binaries against it.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const canopyBin = join(repoRoot, 'packages', 'cli', 'bin', 'canopy.js');

export interface RunningServer {
  dataDir: string;
  url: string;
  /** The platform front (http://host:port). */
  platformUrl: string;
  port: number;
  kubeconfig: string;
  process: ChildProcess;
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  port?: number;
  extraArgs?: string[];
}

export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'canopy-test-'));
  const args = [canopyBin, 'server', '--data-dir', dataDir, '--port', String(options.port ?? 0), '--platform-port', '0', ...(options.extraArgs ?? [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const urls = await new Promise<{ api: string; platform: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 30s:\n${out}`)), 30_000);
    const check = () => {
      const m = /Kubernetes API: (https:\/\/\S+)/.exec(out);
      const p = /Platform API: (http:\/\/\S+)/.exec(out);
      if (m && p) {
        clearTimeout(timer);
        resolve({ api: m[1], platform: p[1] });
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  const url = urls.api;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    dataDir,
    url,
    platformUrl: urls.platform,
    port: Number(new URL(url).port),
    kubeconfig: join(dataDir, 'kubeconfig.yaml'),
    process: child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export const KUBECTL_DIR = '/usr/lib/google-cloud-sdk/bin';

export function kubectlPath(version: string): string {
  return join(KUBECTL_DIR, `kubectl.${version}`);
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl with its own discovery cache directory, so versions and runs do not share caches. */
export function makeKubectl(version: string, kubeconfig: string, cacheRoot: string) {
  const cacheDir = join(cacheRoot, `kubectl-${version}`);
  mkdirSync(cacheDir, { recursive: true });
  return (args: string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<KubectlResult> =>
    new Promise((resolve) => {
      const child = execFile(
        kubectlPath(version),
        ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args],
        { timeout: opts.timeoutMs ?? 60_000, env: { ...process.env, ...(opts.env ?? {}) }, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (opts.input !== undefined) {
        child.stdin!.end(opts.input);
      }
    });
}

/** Throws with kubectl's output when it failed. */
export function ok(result: KubectlResult, what = 'kubectl'): string {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result.stdout;
}
