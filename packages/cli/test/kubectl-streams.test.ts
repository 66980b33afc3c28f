/**
 * Acceptance (issue 4): the kubelet's streams end to end — real kubectl against `canopy server
 * --nodes 3`, whose scheduler places a Deployment of nginx on simulated nodes and whose simulated
 * kubelets answer logs, exec, port-forward and metrics:
 *  - `logs -f` follows (a request made through port-forward shows up in the followed access log);
 *    `logs --previous`, `--tail` and `--timestamps` after a simulated crash (the simulator's
 *    crash-after / crash-count / exit-code annotations);
 *  - `exec -- env` over SPDY (kubectl 1.27) and WebSocket v5 (1.33) with a ConfigMap-sourced
 *    variable; `exec -- cat` of a mounted ConfigMap file; an interactive `exec -it -- sh` in a
 *    pseudo-terminal whose `exit 3` becomes kubectl's exit code;
 *  - `port-forward` (1.27 SPDY, 1.33 SPDY-in-WebSocket) and HTTP through it to the simulated
 *    nginx responder; `top nodes` and `top pods` from metrics.k8s.io.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { kubectlPath, makeKubectl, ok, removeDir, startServer, type RunningServer } from './support/server.js';

const NS = 'streams';
const VERSIONS = ['1.27', '1.33'] as const;

let server: RunningServer;
let cacheRoot: string;
const kubectl: Record<string, ReturnType<typeof makeKubectl>> = {};
/** The two nginx pods of Deployment web, and the pod of Deployment crasher. */
let webPods: string[];
let crasherPod: string;

const MANIFESTS = `
apiVersion: v1
kind: ConfigMap
metadata: { name: web-config, namespace: ${NS} }
data:
  greeting: hello-from-configmap
  app.conf: |
    listen 80;
    server_name web.example;
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${NS} }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{ containerPort: 80, name: http }]
        env:
        - { name: GREETING, valueFrom: { configMapKeyRef: { name: web-config, key: greeting } } }
        - { name: MODE, value: demo }
        volumeMounts: [{ name: config, mountPath: /etc/web }]
      volumes: [{ name: config, configMap: { name: web-config } }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: crasher, namespace: ${NS} }
spec:
  replicas: 1
  selector: { matchLabels: { app: crasher } }
  template:
    metadata:
      labels: { app: crasher }
      annotations:
        simulator.canopy.io/crash-after: 1s
        simulator.canopy.io/crash-count: "1"
        simulator.canopy.io/exit-code: "3"
    spec:
      containers: [{ name: app, image: "nginx:1.27" }]
`;

before(async () => {
  if (!existsSync('/usr/bin/script')) throw new Error('/usr/bin/script (util-linux) is required for the interactive exec test');
  server = await startServer({ extraArgs: ['--nodes', '3'] });
  cacheRoot = mkdtempSync(join(tmpdir(), 'canopy-kubectl-streams-'));
  for (const version of VERSIONS) kubectl[version] = makeKubectl(version, server.kubeconfig, cacheRoot);
  ok(await kubectl['1.33'](['create', 'namespace', NS]), 'create namespace');
  ok(await kubectl['1.33'](['apply', '-f', '-'], { input: MANIFESTS }), 'apply');
  for (const name of ['web', 'crasher']) await k(['rollout', 'status', `deployment/${name}`, '--timeout=60s']);
  webPods = (await k(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').filter(Boolean).sort();
  assert.equal(webPods.length, 2, `two web pods, got ${webPods.join(' ')}`);
  crasherPod = await k(['get', 'pods', '-l', 'app=crasher', '-o', 'jsonpath={.items[0].metadata.name}']);
});

after(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  if (cacheRoot) removeDir(cacheRoot);
});

/** kubectl (1.33 unless told) in the test namespace; throws with its output on failure. */
async function k(args: string[], version: (typeof VERSIONS)[number] = '1.33'): Promise<string> {
  return ok(await kubectl[version](['-n', NS, ...args], { timeoutMs: 90_000 }), `kubectl ${version} ${args.join(' ')}`);
}

/** A long-running kubectl (logs -f, port-forward, exec -it) with its own cache directory. */
interface Background {
  child: ChildProcess;
  output(): string;
  /** Resolves once the output matches, rejects when kubectl exits first or after the timeout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

function background(command: string, args: string[]): Background {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const append = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      for (const w of [...waiters]) w();
      resolve(code);
    }),
  );
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`timed out waiting for ${pattern} in:\n${out}`)), timeoutMs);
        const done = (err?: Error, match?: RegExpExecArray) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (err) reject(err);
          else resolve(match!);
        };
        const check = () => {
          const match = pattern.exec(out);
          if (match) done(undefined, match);
          else if (child.exitCode !== null || child.signalCode !== null) done(new Error(`exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${out}`));
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      await exited;
    },
  };
}

function spawnKubectl(version: (typeof VERSIONS)[number], args: string[]): Background {
  const cacheDir = join(cacheRoot, `bg-${version}`);
  mkdirSync(cacheDir, { recursive: true });
  return background(kubectlPath(version), ['--kubeconfig', server.kubeconfig, '--cache-dir', cacheDir, '-n', NS, ...args]);
}

/** `kubectl port-forward` on a free local port; resolves with the port once kubectl listens. */
async function portForward(version: (typeof VERSIONS)[number], target: string, remotePort: number, extra: string[] = []): Promise<{ port: number; forward: Background }> {
  const forward = spawnKubectl(version, ['port-forward', ...extra, target, `:${remotePort}`]);
  const match = await forward.waitFor(new RegExp(`Forwarding from 127\\.0\\.0\\.1:(\\d+) -> ${remotePort}`));
  return { port: Number(match[1]), forward };
}

const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /;

describe('kubectl streams against simulated nodes', () => {
  test('logs -f prints the container log, then follows it: a request made through port-forward arrives as an access-log line', async () => {
    const pod = webPods[0];
    const follow = spawnKubectl('1.33', ['logs', '-f', pod]);
    try {
      // The nginx image's entrypoint banner, as the first lines of a real nginx container.
      await follow.waitFor(/^\/docker-entrypoint\.sh: Configuration complete; ready for start up$/m);
      assert.match(follow.output(), /^\/docker-entrypoint\.sh: \/docker-entrypoint\.d\/ is not empty, will attempt to perform configuration$/m);
      assert.match(follow.output(), /\[notice\] 1#1: nginx\/1\.27/);
      const { port, forward } = await portForward('1.33', `pod/${pod}`, 80);
      try {
        const response = await fetch(`http://127.0.0.1:${port}/followed-by-logs`, { headers: { 'user-agent': 'canopy-test/1.0' } });
        assert.equal(response.status, 404);
        await response.arrayBuffer();
      } finally {
        await forward.stop();
      }
      // Still following: the line comes after the request, on the same stream.
      await follow.waitFor(/"GET \/followed-by-logs HTTP\/1\.1" 404 \d+ "-" "canopy-test\/1\.0"/);
      assert.equal(follow.child.exitCode, null, 'logs -f keeps following while the container runs');
    } finally {
      await follow.stop();
    }
  });

  test('after a simulated crash: logs --previous shows the crashed instance, --tail and --timestamps shape the output', async () => {
    // crash-after 1s with crash-count 1: the first run exits 3, the second keeps running.
    const deadline = Date.now() + 30_000;
    let status: any;
    while (Date.now() < deadline) {
      status = JSON.parse(await k(['get', 'pod', crasherPod, '-o', 'json'])).status;
      if (status.containerStatuses?.[0]?.restartCount >= 1 && status.containerStatuses[0].state?.running) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    const container = status.containerStatuses[0];
    assert.equal(container.restartCount, 1, JSON.stringify(status));
    assert.equal(container.lastState.terminated.exitCode, 3);
    assert.equal(container.lastState.terminated.reason, 'Error');

    const previous = await k(['logs', crasherPod, '--previous']);
    assert.match(previous, /^\/docker-entrypoint\.sh: Configuration complete; ready for start up$/m);
    assert.match(previous.trimEnd().split('\n').at(-1)!, /exiting with status 3$/);
    const current = await k(['logs', crasherPod]);
    assert.doesNotMatch(current, /exiting with status/, 'the running instance has not crashed');

    const tail = (await k(['logs', crasherPod, '--previous', '--tail=2', '--timestamps'])).trimEnd().split('\n');
    assert.equal(tail.length, 2, tail.join('\n'));
    for (const line of tail) assert.match(line, RFC3339_NANO);
    assert.match(tail[1], /exiting with status 3$/);
    // The timestamps are those of the crash, before the second instance started.
    const startedAt = Date.parse(container.state.running.startedAt);
    assert.ok(Date.parse(tail[1].split(' ')[0]) <= startedAt + 1000, `${tail[1]} vs started ${container.state.running.startedAt}`);

    // A container that never restarted has no previous instance: kube's message.
    const none = await kubectl['1.33'](['-n', NS, 'logs', webPods[0], '--previous']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, new RegExp(`previous terminated container "nginx" in pod "${webPods[0]}" not found`));
  });

  for (const version of VERSIONS) {
    test(`exec -- env with kubectl ${version} (${version === '1.27' ? 'SPDY' : 'WebSocket v5'}) shows the container's environment, ConfigMap key included`, async () => {
      const pod = webPods[1];
      const result = await kubectl[version](['-n', NS, 'exec', '-v=7', pod, '--', 'env']);
      assert.equal(result.code, 0, result.stderr);
      const env = new Map(result.stdout.trimEnd().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
      assert.equal(env.get('GREETING'), 'hello-from-configmap');
      assert.equal(env.get('MODE'), 'demo');
      assert.equal(env.get('HOSTNAME'), pod);
      assert.equal(env.get('NGINX_VERSION'), '1.27');
      assert.equal(env.get('KUBERNETES_SERVICE_HOST'), '10.43.0.1');
      assert.equal(env.get('KUBERNETES_SERVICE_PORT'), '443');
      assert.equal(env.get('HOME'), '/root');
      // The protocol each kubectl negotiated, from its own verbose log.
      if (version === '1.27') {
        assert.match(result.stderr, /X-Stream-Protocol-Version: v4\.channel\.k8s\.io/);
        assert.match(result.stderr, /Response Status: 101 Switching Protocols/);
      } else {
        assert.match(result.stderr, /The subprotocol is v5\.channel\.k8s\.io/);
      }
    });
  }

  test('exec -- cat of a mounted ConfigMap file; ls shows the keys', async () => {
    assert.equal(await k(['exec', webPods[0], '--', 'cat', '/etc/web/app.conf']), 'listen 80;\nserver_name web.example;\n');
    assert.deepEqual((await k(['exec', webPods[0], '--', 'ls', '/etc/web'])).trim().split(/\s+/), ['app.conf', 'greeting']);
    const missing = await kubectl['1.33'](['-n', NS, 'exec', webPods[0], '--', 'cat', '/etc/web/nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cat: (can't open )?'?\/etc\/web\/nope'?: No such file or directory/);
    assert.match(missing.stderr, /command terminated with exit code 1/);
  });

  for (const version of VERSIONS) {
    test(`interactive exec -it -- sh in a pseudo-terminal (kubectl ${version}): hostname, then exit 3 is kubectl's exit code`, async () => {
      const pod = webPods[0];
      const cacheDir = join(cacheRoot, `tty-${version}`);
      // util-linux script gives kubectl a terminal (-e: its exit code; -f: flush as it goes).
      const command = `${kubectlPath(version)} --kubeconfig ${server.kubeconfig} --cache-dir ${cacheDir} -n ${NS} exec -it ${pod} -- sh`;
      const session = background('/usr/bin/script', ['-qefc', command, '/dev/null']);
      try {
        // nginx images are Debian: dash's root prompt.
        await session.waitFor(/# $/);
        session.child.stdin!.write('hostname\r');
        await session.waitFor(new RegExp(`hostname\\r\\n${pod}\\r\\n# `));
        session.child.stdin!.write('exit 3\r');
        await session.waitFor(/command terminated with exit code 3/);
        assert.equal(await session.exited, 3, session.output());
      } finally {
        await session.stop();
      }
    });
  }

  for (const version of VERSIONS) {
    test(`port-forward with kubectl ${version}, then HTTP through it reaches the simulated nginx`, async () => {
      const { port, forward } = await portForward(version, 'deployment/web', 80, ['-v=4']);
      try {
        const home = await fetch(`http://127.0.0.1:${port}/`);
        assert.equal(home.status, 200);
        assert.match(home.headers.get('server') ?? '', /^nginx\/1\.27/);
        assert.match(await home.text(), /<title>Welcome to nginx!<\/title>/);
        const missing = await fetch(`http://127.0.0.1:${port}/no/such/page`);
        assert.equal(missing.status, 404);
        assert.match(await missing.text(), /404 Not Found/);
        // 1.33 tunnels SPDY inside a WebSocket; 1.27 speaks SPDY.
        if (version === '1.33') assert.match(forward.output(), /negotiated protocol: portforward\.k8s\.io/);
        assert.doesNotMatch(forward.output(), /error|fallback to secondary dialer/i);
      } finally {
        await forward.stop();
      }
    });
  }

  test('top nodes and top pods from metrics.k8s.io', async () => {
    const nodes = (await k(['top', 'nodes', '--no-headers'])).trim().split('\n').map((l) => l.split(/\s+/));
    assert.deepEqual(nodes.map((n) => n[0]).sort(), ['canopy-node-1', 'canopy-node-2', 'canopy-node-3']);
    for (const [, cpu, cpuPercent, memory, memoryPercent] of nodes) {
      assert.match(cpu, /^\d+m$/);
      assert.match(cpuPercent, /^\d+%$/);
      assert.match(memory, /^\d+Mi$/);
      assert.match(memoryPercent, /^\d+%$/);
      // A node's figure includes its system overhead (at least 0.08 cores and 0.9 GiB).
      assert.ok(Number(cpu.slice(0, -1)) >= 80, cpu);
      assert.ok(Number(memory.slice(0, -2)) >= 900, memory);
    }
    const pods = (await k(['top', 'pods', '--no-headers'])).trim().split('\n').map((l) => l.split(/\s+/));
    assert.deepEqual(pods.map((p) => p[0]).sort(), [crasherPod, ...webPods].sort());
    for (const [, cpu, memory] of pods) {
      assert.match(cpu, /^\d+m$/);
      assert.match(memory, /^\d+Mi$/);
      assert.ok(Number(memory.slice(0, -2)) > 0, memory);
    }
    const containers = await k(['top', 'pod', webPods[0], '--containers', '--no-headers']);
    assert.match(containers, new RegExp(`^${webPods[0]}\\s+nginx\\s+\\d+m\\s+\\d+Mi\\s*$`, 'm'));
  });
});
