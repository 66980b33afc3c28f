/**
 * Streaming subresources end to end with real clients: kubectl 1.27 (SPDY) and 1.33 (WebSocket,
 * SPDY-in-WebSocket) for logs, exec and port-forward, `kubectl top` over metrics.k8s.io,
 * nodes/proxy and pods/proxy, client-node's WebSocket exec, and a raw WebSocket for TTY resizes.
 * The node side is a small deterministic connector (test/support/test-connector.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { Writable } from 'node:stream';
import { WebSocket } from 'ws';
import * as k8s from '@kubernetes/client-node';
import { kubectlBinary, startStreamsCluster, type StreamsCluster } from './support/streams-cluster.js';
import { TestMetrics } from './support/test-connector.js';

let cluster: StreamsCluster;

before(async () => {
  cluster = await startStreamsCluster();
  // jane may read pods but not exec into them, attach or port-forward.
  await cluster.api('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'pod-reader' },
    rules: [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list'] }],
  });
  await cluster.api('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'jane-reads-pods' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'jane' }],
  });
});

after(async () => {
  await cluster?.close();
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request as the admin (client certificate). */
function https(method: string, path: string, options: { body?: string; onData?: (chunk: string, abort: () => void) => void } = {}): Promise<RawResponse> {
  const { pki } = cluster.server;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: cluster.server.port, method, path, ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key, headers: { accept: 'application/json' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
          options.onData?.(chunk, () => {
            req.destroy();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          });
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

function statusOf(response: RawResponse): { code: number; reason: string; message: string } {
  return JSON.parse(response.body);
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('pods/log', () => {
  it('prints the tail with timestamps and follows until the container stops (kubectl 1.27 and 1.33)', async () => {
    for (const version of ['1.27', '1.33']) {
      const tail = await cluster.kubectl(version, ['logs', 'web', '--tail=2', '--timestamps']);
      assert.equal(tail.code, 0, tail.stderr);
      assert.equal(tail.stdout, '2024-05-01T10:00:03.000000000Z app line 3\n2024-05-01T10:00:04.000000000Z app line 4\n');
      const follow = await cluster.kubectl(version, ['logs', '-f', 'web']);
      assert.equal(follow.code, 0, follow.stderr);
      assert.deepEqual(follow.stdout.trimEnd().split('\n'), [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `app line ${i}`));
      const since = await cluster.kubectl(version, ['logs', 'multi', '-c', 'b', '--since-time=2024-05-01T10:00:03Z']);
      assert.equal(since.stdout, 'b line 3\nb line 4\n');
    }
  });

  it('refuses a container that is not running yet, as the kubelet words it', async () => {
    const result = await cluster.kubectl('1.33', ['logs', 'creating']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Error from server \(BadRequest\): container "app" in pod "creating" is waiting to start: ContainerCreating/);
  });

  it('answers an unscheduled pod with an empty log, as kube-apiserver does', async () => {
    const response = await https('GET', '/api/v1/namespaces/default/pods/pending/log');
    assert.equal(response.status, 200);
    assert.equal(response.body, '');
  });

  it('needs a container name when a pod has several, and a valid one', async () => {
    const ambiguous = await https('GET', '/api/v1/namespaces/default/pods/multi/log');
    assert.equal(ambiguous.status, 400);
    assert.equal(statusOf(ambiguous).message, 'a container name must be specified for pod multi, choose one of: [init a b]');
    const unknown = await https('GET', '/api/v1/namespaces/default/pods/web/log?container=nope');
    assert.equal(unknown.status, 400);
    assert.equal(statusOf(unknown).message, 'container nope is not valid for pod web');
    const missing = await https('GET', '/api/v1/namespaces/default/pods/ghost/log');
    assert.equal(missing.status, 404);
    assert.equal(statusOf(missing).message, 'pods "ghost" not found');
  });

  it('validates the options with kube-apiserver wording and honours limitBytes', async () => {
    const negative = await https('GET', '/api/v1/namespaces/default/pods/web/log?tailLines=-1');
    assert.equal(negative.status, 422);
    assert.equal(statusOf(negative).message, 'PodLogOptions "web" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0');
    const both = await https('GET', '/api/v1/namespaces/default/pods/web/log?sinceSeconds=5&sinceTime=2024-05-01T10:00:00Z');
    assert.equal(both.status, 422);
    assert.match(statusOf(both).message, /at most one of `sinceTime` or `sinceSeconds` may be specified/);
    const garbage = await https('GET', '/api/v1/namespaces/default/pods/web/log?tailLines=ten');
    assert.equal(garbage.status, 400);
    const limited = await https('GET', '/api/v1/namespaces/default/pods/web/log?limitBytes=13');
    assert.equal(limited.status, 200);
    assert.equal(limited.headers['content-type'], 'text/plain');
    assert.equal(limited.body, 'app line 0\nap');
    const previous = await https('GET', '/api/v1/namespaces/default/pods/web/log?previous=true');
    assert.equal(previous.status, 400);
    assert.equal(statusOf(previous).message, 'previous terminated container "app" in pod "web" not found');
  });

  it('stops the connector when a following client disconnects', async () => {
    cluster.connector.followForever = true;
    try {
      const before = cluster.connector.followsAborted;
      let seen = 0;
      const response = await https('GET', '/api/v1/namespaces/default/pods/web/log?follow=true', {
        onData: (chunk, abort) => {
          seen += chunk.split('\n').length - 1;
          if (seen >= 8) abort();
        },
      });
      assert.equal(response.status, 200);
      await until(() => cluster.connector.followsAborted > before, 'the connector to see the client leave');
    } finally {
      cluster.connector.followForever = false;
    }
  });
});

describe('pods/exec', () => {
  for (const version of ['1.27', '1.33']) {
    it(`kubectl ${version}: stdout, stderr and the command's exit code`, async () => {
      const result = await cluster.kubectl(version, ['exec', 'web', '--', 'sh', '-c', 'echo hello; echo oops >&2; exit 3']);
      assert.equal(result.code, 3, result.stderr);
      assert.equal(result.stdout, 'hello\n');
      assert.match(result.stderr, /^oops\n/);
      assert.match(result.stderr, /command terminated with exit code 3/);
      const ok = await cluster.kubectl(version, ['exec', 'multi', '-c', 'b', '--', 'env']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, 'HOSTNAME=multi\nCONTAINER=b\n');
    });

    it(`kubectl ${version}: stdin is piped to the command until EOF`, async () => {
      const input = 'first line\nsecond line\n'.repeat(200);
      const result = await cluster.kubectl(version, ['exec', '-i', 'web', '--', 'sh', '-c', 'cat; echo done'], { input });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, input + 'done\n');
    });

    it(`kubectl ${version}: 403 for a user without create on pods/exec`, async () => {
      const result = await cluster.kubectl(version, ['exec', 'web', '--as=jane', '--', 'sh', '-c', 'echo no']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /pods "web" is forbidden: User "jane" cannot create resource "pods\/exec" in API group "" in the namespace "default"/);
    });

    it(`kubectl ${version}: errors for an unscheduled pod, a container not running and an unknown container`, async () => {
      const pending = await cluster.kubectl(version, ['exec', 'pending', '--', 'sh', '-c', 'true']);
      assert.equal(pending.code, 1);
      assert.match(pending.stderr, /Error from server \(BadRequest\): pod pending does not have a host assigned/);
      const creating = await cluster.kubectl(version, ['exec', 'creating', '--', 'sh', '-c', 'true']);
      assert.equal(creating.code, 1);
      assert.match(creating.stderr, /unable to upgrade connection: container not found \("app"\)/);
      const unknown = await cluster.kubectl(version, ['exec', 'web', '-c', 'nope', '--', 'sh', '-c', 'true']);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /container nope is not valid for pod web/);
    });
  }

  for (const version of ['1.27', '1.33']) {
    it(`kubectl ${version}: an interactive exec -it session in a pseudo-terminal sends the terminal size`, async () => {
      // util-linux `script` gives kubectl a terminal of a known size, so it asks for a TTY and sends resizes.
      if (!existsSync('/usr/bin/script')) throw new Error('/usr/bin/script (util-linux) is required for the TTY test');
      const before = cluster.connector.execs.length;
      const resizesBefore = cluster.connector.resizes.length;
      const command = `stty cols 101 rows 33; ${kubectlBinary(version)} --kubeconfig ${cluster.server.kubeconfigPath} --cache-dir ${cluster.dataDir}/tty-${version} exec -it web -- sh -c 'echo started; stty size; exit 4'`;
      const child = spawn('/usr/bin/script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      const timer = setTimeout(() => child.kill(), 20_000);
      const code = await new Promise((resolve) => child.once('exit', resolve));
      clearTimeout(timer);
      assert.equal(code, 4, output);
      assert.match(output, /started\r?\n33 101\r?\n/);
      assert.match(output, /command terminated with exit code 4/);
      assert.deepEqual(cluster.connector.execs.slice(before).map((e) => e.request), [{ command: ['sh', '-c', 'echo started; stty size; exit 4'], stdin: true, stdout: true, stderr: false, tty: true }]);
      assert.deepEqual(cluster.connector.resizes.slice(resizesBefore)[0], { width: 101, height: 33 });
    });
  }

  it('a command that cannot start is an internal error, as the runtime reports it', async () => {
    const result = await cluster.kubectl('1.33', ['exec', 'web', '--', 'nosuch']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Internal error occurred: exec: "nosuch": executable file not found in \$PATH/);
  });

  it('client-node Exec (WebSocket v5) gets output and the exit status', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.server.kubeconfigPath);
    let stdout = '';
    const out = new Writable({ write: (chunk, _e, cb) => ((stdout += chunk), cb()) });
    const status = await new Promise<k8s.V1Status>((resolve, reject) => {
      new k8s.Exec(kc).exec('default', 'web', 'app', ['sh', '-c', 'echo from client-node; exit 2'], out, null, null, false, resolve).catch(reject);
    });
    assert.equal(stdout, 'from client-node\n');
    assert.equal(status.status, 'Failure');
    assert.equal(status.reason, 'NonZeroExitCode');
    assert.deepEqual(status.details?.causes, [{ reason: 'ExitCode', message: '2' }]);
  });

  it('a TTY session over v5.channel.k8s.io: resize messages reach the connector, stdin closes with [255, 0]', async () => {
    const { pki } = cluster.server;
    const ws = new WebSocket(`wss://127.0.0.1:${cluster.server.port}/api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&command=cat&stdin=true&stdout=true&stderr=true&tty=true`, ['v5.channel.k8s.io'], {
      ca: pki.ca.cert,
      cert: pki.admin.cert,
      key: pki.admin.key,
    });
    const messages: Buffer[] = [];
    ws.on('message', (data: Buffer) => messages.push(data));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    assert.equal(ws.protocol, 'v5.channel.k8s.io');
    const resizesBefore = cluster.connector.resizes.length;
    ws.send(Buffer.concat([Buffer.from([4]), Buffer.from('{"Width":120,"Height":40}')]));
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('typed text')]));
    ws.send(Buffer.from([255, 0]));
    await new Promise((resolve) => ws.once('close', resolve));
    const stdout = Buffer.concat(messages.filter((m) => m[0] === 1).map((m) => m.subarray(1))).toString();
    const status = messages.filter((m) => m[0] === 3).map((m) => JSON.parse(m.subarray(1).toString()));
    assert.equal(stdout, 'typed text');
    assert.deepEqual(status, [{ metadata: {}, status: 'Success' }]);
    assert.ok(!messages.some((m) => m[0] === 2), 'a TTY has no stderr channel');
    assert.deepEqual(cluster.connector.resizes.slice(resizesBefore), [{ width: 120, height: 40 }]);
  });

  it('answers exec without an upgrade with 400, as the kubelet does', async () => {
    const response = await https('POST', '/api/v1/namespaces/default/pods/web/exec?command=true&stdout=true');
    assert.equal(response.status, 400);
    assert.equal(statusOf(response).message, 'Upgrade request required');
  });
});

/** Starts `kubectl port-forward` and returns the local ports it listens on, in the order asked. */
async function portForward(version: string, args: string[], count: number) {
  const child = cluster.spawnKubectl(version, ['port-forward', ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const ports = await new Promise<number[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kubectl port-forward did not start:\n${stdout}\n${stderr}`)), 15_000);
    const check = () => {
      const found = [...stdout.matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g)].map((m) => Number(m[1]));
      if (found.length >= count) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', () => reject(new Error(`kubectl port-forward exited:\n${stdout}\n${stderr}`)));
  });
  return {
    ports,
    stderr: () => stderr,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

describe('pods/portforward', () => {
  for (const version of ['1.27', '1.33']) {
    it(`kubectl ${version}: HTTP through the forwarded port reaches the pod, and a refused port is reported`, async () => {
      const forward = await portForward(version, ['pod/web', ':8080'], 1);
      try {
        for (let i = 0; i < 3; i++) {
          const response = await fetch(`http://127.0.0.1:${forward.ports[0]}/hello?i=${i}`);
          assert.equal(response.status, 200);
          assert.equal(await response.text(), `hello from web GET /hello?i=${i}\n`);
        }
        const big = await fetch(`http://127.0.0.1:${forward.ports[0]}/upload`, { method: 'POST', body: 'x'.repeat(1 << 20) });
        assert.equal(await big.text(), `hello from web POST /upload\nreceived ${1 << 20} bytes\n${'y'.repeat(1 << 20)}`);
      } finally {
        await forward.stop();
      }
      const refused = await portForward(version, ['pod/web', ':9999'], 1);
      try {
        await assert.rejects(fetch(`http://127.0.0.1:${refused.ports[0]}/`));
        await until(() => /connection refused/.test(refused.stderr()), 'kubectl to report the error');
        assert.match(refused.stderr(), /an error occurred forwarding \d+ -> 9999: error forwarding port 9999 to pod web_default, uid [0-9a-f-]+: failed to connect to localhost:9999 inside namespace \\?"default\\?": connection refused/);
      } finally {
        await refused.stop();
      }
    });
  }

  it('1.33 tunnels SPDY inside a WebSocket (SPDY/3.1+portforward.k8s.io)', async () => {
    const forward = await portForward('1.33', ['pod/web', ':8080', '-v=4'], 1);
    try {
      const response = await fetch(`http://127.0.0.1:${forward.ports[0]}/tunnel`);
      assert.equal(await response.text(), 'hello from web GET /tunnel\n');
      assert.match(forward.stderr(), /negotiated protocol: portforward\.k8s\.io/);
      assert.doesNotMatch(forward.stderr(), /fallback to secondary dialer/);
    } finally {
      await forward.stop();
    }
  });

  it('403 for a user without create on pods/portforward', async () => {
    const result = await cluster.kubectl('1.33', ['port-forward', 'pod/web', ':8080', '--as=jane'], { timeoutMs: 15_000 });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /cannot create resource "pods\/portforward" in API group "" in the namespace "default"/);
  });
});

describe('nodes/proxy and pods/proxy', () => {
  it('serves the kubelet endpoints through the API server (Prometheus scrapes cAdvisor this way)', async () => {
    const metrics = await https('GET', '/api/v1/nodes/node-a/proxy/metrics/cadvisor');
    assert.equal(metrics.status, 200);
    assert.equal(metrics.headers['content-type'], 'text/plain; version=0.0.4');
    assert.match(metrics.body, /container_cpu_usage_seconds_total\{node="node-a"\} 1.5/);
    const raw = await cluster.kubectl('1.33', ['get', '--raw', '/api/v1/nodes/node-b/proxy/metrics/cadvisor']);
    assert.match(raw.stdout, /node="node-b"/);
    const unknownPath = await https('GET', '/api/v1/nodes/node-a/proxy/nothing');
    assert.equal(unknownPath.status, 404);
    assert.equal(unknownPath.body, '404 page not found\n');
    const unknownNode = await https('GET', '/api/v1/nodes/ghost/proxy/metrics');
    assert.equal(unknownNode.status, 404);
    assert.equal(statusOf(unknownNode).message, 'nodes "ghost" not found');
  });

  it('proxies HTTP to a pod port over the connector', async () => {
    const raw = await cluster.kubectl('1.33', ['get', '--raw', '/api/v1/namespaces/default/pods/web:8080/proxy/status?x=1']);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(raw.stdout, 'hello from web GET /status?x=1\n');
    const named = await https('GET', '/api/v1/namespaces/default/pods/web:http/proxy/');
    assert.equal(named.body, 'hello from web GET /\n');
  });
});

describe('metrics.k8s.io', () => {
  it('kubectl top nodes and pods (1.33)', async () => {
    const nodes = await cluster.kubectl('1.33', ['top', 'nodes']);
    assert.equal(nodes.code, 0, nodes.stderr);
    const nodeRows = nodes.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    assert.deepEqual(nodeRows.slice(1), [
      ['node-a', '250m', '6%', '512Mi', '6%'],
      ['node-b', '500m', '12%', '1024Mi', '12%'],
    ]);
    const pods = await cluster.kubectl('1.33', ['top', 'pods']);
    assert.equal(pods.code, 0, pods.stderr);
    assert.deepEqual(pods.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)), [
      ['multi', '12m', '16Mi'],
      ['web', '12m', '34Mi'],
    ]);
    const containers = await cluster.kubectl('1.33', ['top', 'pod', 'multi', '--containers']);
    assert.match(containers.stdout, /multi\s+a\s+5m\s+10Mi/);
    const selected = await cluster.kubectl('1.33', ['top', 'nodes', '-l', 'zone=west']);
    assert.deepEqual(selected.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[0]), ['node-b']);
    const all = await cluster.kubectl('1.33', ['top', 'pods', '-A']);
    assert.match(all.stdout, /team\s+other\s+1m\s+1Mi/);
  });

  it('get and list with selectors; writes and watches are refused', async () => {
    const one = await https('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web');
    assert.equal(one.status, 200);
    assert.deepEqual(JSON.parse(one.body).containers, [{ name: 'app', usage: { cpu: '12m', memory: '34Mi' } }]);
    assert.equal(JSON.parse(one.body).kind, 'PodMetrics');
    const byName = JSON.parse((await https('GET', '/apis/metrics.k8s.io/v1beta1/pods?fieldSelector=metadata.name%3Dother')).body);
    assert.equal(byName.kind, 'PodMetricsList');
    assert.deepEqual(byName.items.map((p: { metadata: { name: string } }) => p.metadata.name), ['other']);
    const missing = await https('GET', '/apis/metrics.k8s.io/v1beta1/nodes/ghost');
    assert.equal(missing.status, 404);
    for (const [method, path] of [
      ['POST', '/apis/metrics.k8s.io/v1beta1/nodes'],
      ['DELETE', '/apis/metrics.k8s.io/v1beta1/nodes/node-a'],
      ['GET', '/apis/metrics.k8s.io/v1beta1/nodes?watch=true'],
    ]) {
      const refused = await https(method, path, method === 'POST' ? { body: '{}' } : {});
      assert.equal(refused.status, 405, `${method} ${path}`);
    }
  });

  it('is discovered only while a provider is set', async () => {
    const hasGroup = async () => (JSON.parse((await https('GET', '/apis')).body).groups as Array<{ name: string }>).some((g) => g.name === 'metrics.k8s.io');
    assert.equal(await hasGroup(), true);
    const resources = JSON.parse((await https('GET', '/apis/metrics.k8s.io/v1beta1')).body).resources;
    assert.deepEqual(
      resources.map((r: { name: string; kind: string; namespaced: boolean; verbs: string[] }) => [r.name, r.kind, r.namespaced, r.verbs]),
      [
        ['nodes', 'NodeMetrics', false, ['get', 'list']],
        ['pods', 'PodMetrics', true, ['get', 'list']],
      ],
    );
    cluster.server.setMetricsProvider(undefined);
    try {
      assert.equal(await hasGroup(), false);
      assert.equal((await https('GET', '/apis/metrics.k8s.io/v1beta1/nodes')).status, 404);
      const top = await cluster.kubectl('1.33', ['top', 'nodes']);
      assert.equal(top.code, 1);
      assert.match(top.stderr, /Metrics API not available/);
    } finally {
      cluster.server.setMetricsProvider(new TestMetrics());
    }
  });
});

describe('discovery and availability', () => {
  it('lists the streaming subresources as kube does', async () => {
    const core = JSON.parse((await https('GET', '/api/v1')).body).resources as Array<{ name: string; kind: string; verbs: string[] }>;
    const find = (name: string) => core.find((r) => r.name === name);
    assert.deepEqual(find('pods/exec'), { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] });
    assert.deepEqual(find('pods/log')?.verbs, ['get']);
    assert.equal(find('pods/portforward')?.kind, 'PodPortForwardOptions');
    assert.equal(find('pods/attach')?.kind, 'PodAttachOptions');
    assert.equal(find('nodes/proxy')?.kind, 'NodeProxyOptions');
  });

  it('answers 503 while no node connector is registered', async () => {
    cluster.server.setNodeConnector(undefined);
    try {
      const response = await https('GET', '/api/v1/namespaces/default/pods/web/log');
      assert.equal(response.status, 503);
      assert.equal(statusOf(response).reason, 'ServiceUnavailable');
      const exec = await cluster.kubectl('1.33', ['exec', 'web', '--', 'sh', '-c', 'true']);
      assert.equal(exec.code, 1);
      assert.match(exec.stderr, /no node connector is registered/);
    } finally {
      cluster.server.setNodeConnector(cluster.connector);
    }
  });

  it('attach streams the main process output (kubectl 1.33)', async () => {
    const result = await cluster.kubectl('1.33', ['attach', 'web']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'attached to app\n');
  });
});
