import assert from 'node:assert/strict';
import http from 'node:http';
import { duplexPair, PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '@canopy/apimachinery';
import { StatusError } from '@canopy/apimachinery';
import { resourceType, types } from '@canopy/client';
import type { ContainerIO, ExecRequest } from '@canopy/kube-apiserver';
import { containerStatus, eventually, pod, startSimulated, type SimulatedCluster } from './support.js';

type Obj = Record<string, any>;

/** Collects a writable's output as text. */
function sink(): PassThrough & { text(): string } {
  const stream = new PassThrough() as PassThrough & { text(): string };
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  stream.text = () => text;
  return stream;
}

describe('simulated container streams', () => {
  let c: SimulatedCluster;
  const ns = 'streams';
  let shellPod: KubeObject;
  let boxPod: KubeObject;

  before(async () => {
    c = await startSimulated({ nodes: 2 });
    await c.namespace(ns);
    await c.client.create(types.configMaps, { metadata: { name: 'app-config', namespace: ns }, data: { greeting: 'hello', 'app.properties': 'a=1\nb=2\n' } });
    await c.client.create(types.secrets, { metadata: { name: 'app-secret', namespace: ns }, data: { password: Buffer.from('s3cret').toString('base64') } });
    await c.client.create(
      types.pods,
      pod('shell', ns, {
        nodeName: 'canopy-node-1',
        containers: [
          {
            name: 'app',
            image: 'nginx:1.27',
            ports: [{ containerPort: 80, name: 'http' }],
            resources: { limits: { memory: '256Mi', cpu: '500m' } },
            env: [
              { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'greeting' } } },
              { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'app-secret', key: 'password' } } },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'MEMORY_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
              { name: 'COMPOSED', value: '$(GREETING)-world' },
            ],
            volumeMounts: [
              { name: 'config', mountPath: '/etc/config' },
              { name: 'secret', mountPath: '/etc/secret', readOnly: true },
              { name: 'podinfo', mountPath: '/etc/podinfo' },
            ],
          },
        ],
        volumes: [
          { name: 'config', configMap: { name: 'app-config' } },
          { name: 'secret', secret: { secretName: 'app-secret' } },
          { name: 'podinfo', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
        ],
      }, { labels: { app: 'shell', tier: 'web' } }),
    );
    await c.client.create(
      types.pods,
      pod('box', ns, { nodeName: 'canopy-node-2', containers: [{ name: 'box', image: 'busybox:1.36', command: ['sh', '-c', 'echo starting up; echo "hello from $HOSTNAME"; sleep 30; echo still here; sleep 3600'] }] }),
    );
    await c.advance(3000);
    shellPod = await c.client.get(types.pods, 'shell', ns);
    boxPod = await c.client.get(types.pods, 'box', ns);
    assert.ok(containerStatus(shellPod, 'app')?.state.running, 'shell runs');
    assert.ok(containerStatus(boxPod, 'box')?.state.running, 'box runs');
  });
  after(() => c.close());

  const logPath = (name: string) => `/api/v1/namespaces/${ns}/pods/${name}/log`;

  describe('logs', () => {
    it('serves nginx-like lines, deterministic, with tailLines, timestamps, sinceSeconds and limitBytes', async () => {
      await c.advance(60_000, 5000);
      const full = await c.client.text(logPath('shell'));
      assert.ok(full.startsWith('/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration\n'), full.slice(0, 200));
      assert.match(full, /\[notice\] 1#1: nginx\/1\.27/);
      const access = full.split('\n').filter((l) => / - - \[/.test(l));
      assert.ok(access.length >= 3, `access lines in a minute: ${access.length}`);
      for (const line of access) assert.match(line, /^\d+\.\d+\.\d+\.\d+ - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "(GET|POST) \S+ HTTP\/1\.1" \d{3} \d+ "-" "[^"]+" "-"$/);
      assert.equal(await c.client.text(logPath('shell')), full, 'the same log on every read');

      const lines = full.trimEnd().split('\n');
      const tail = await c.client.text(logPath('shell'), new URLSearchParams({ tailLines: '3' }));
      assert.deepEqual(tail.trimEnd().split('\n'), lines.slice(-3));

      const stamped = (await c.client.text(logPath('shell'), new URLSearchParams({ timestamps: 'true' }))).trimEnd().split('\n');
      assert.equal(stamped.length, lines.length);
      stamped.forEach((line, i) => assert.equal(line.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /, ''), lines[i]));

      const since = (await c.client.text(logPath('shell'), new URLSearchParams({ sinceSeconds: '10', timestamps: 'true' }))).trimEnd().split('\n').filter(Boolean);
      assert.ok(since.length < lines.length);
      for (const line of since) assert.ok(Date.parse(line.slice(0, 30)) >= c.clock.now() - 10_000, line);

      const limited = await c.client.text(logPath('shell'), new URLSearchParams({ limitBytes: '100' }));
      assert.equal(Buffer.byteLength(limited), 100);
      assert.equal(limited, full.slice(0, 100));
    });

    it("prints a shell command's output at its times", async () => {
      const log = await c.client.text(logPath('box'), new URLSearchParams({ timestamps: 'true' }));
      const lines = log.trimEnd().split('\n');
      assert.deepEqual(lines.map((l) => l.slice(31)), ['starting up', 'hello from box', 'still here']);
      assert.equal(Date.parse(lines[2].slice(0, 30)) - Date.parse(lines[0].slice(0, 30)), 30_000);
    });

    it("refuses previous without a restart in kube's words, and serves the previous instance after one", async () => {
      await assert.rejects(c.client.text(logPath('shell'), new URLSearchParams({ previous: 'true' })), (err: StatusError) => {
        assert.equal(err.code, 400);
        assert.equal(err.message, 'previous terminated container "app" in pod "shell" not found');
        return true;
      });
      await c.client.create(types.pods, pod('crashy', ns, { nodeName: 'canopy-node-2', containers: [{ name: 'api', image: 'example.com/api:1.4' }] }, { annotations: { 'simulator.canopy.io/crash-after': '20s' } }));
      await c.advance(25_000, 1000);
      assert.equal(containerStatus(await c.client.get(types.pods, 'crashy', ns), 'api')?.restartCount, 1);
      const previous = await c.client.text(logPath('crashy'), new URLSearchParams({ previous: 'true' }));
      assert.match(previous.trimEnd().split('\n').pop()!, /ERROR \[main\] exiting with status 1$/);
      assert.match(previous, /Starting crashy|starting crashy|"msg":"starting api"|Starting api/);
      const current = await c.client.text(logPath('crashy'));
      assert.notEqual(current, previous);
      assert.doesNotMatch(current, /exiting with status/);
    });

    it('follows: new lines arrive as simulated time passes; the stream ends when the container stops', async () => {
      const out = sink();
      const abort = new AbortController();
      const target = { pod: await c.client.get(types.pods, 'crashy', ns), container: 'api' };
      let ended = false;
      const following = c.sim.logs(target, { follow: true, previous: false, timestamps: false, tailLines: 0 }, out, abort.signal).then(() => (ended = true));
      await c.flush();
      assert.equal(out.text(), '', 'tailLines=0 starts empty');
      await c.advance(15_000, 1000);
      // The follower writes from timers the advance fired; on a loaded machine the writes may
      // land a moment after the advance returns.
      await eventually('lines while following', () => out.text().split('\n').filter(Boolean).length >= 1);
      assert.equal(ended, false);
      // The instance crashes (crash-after 20s): the stream ends with its last words.
      await c.advance(10_000, 1000);
      await eventually('the follow to end', () => ended);
      await following;
      assert.match(out.text(), /exiting with status 1\n$/);

      const out2 = sink();
      const target2 = { pod: shellPod, container: 'app' };
      const following2 = c.sim.logs(target2, { follow: true, previous: false, timestamps: false, tailLines: 1 }, out2, abort.signal);
      await c.flush();
      assert.equal(out2.text().split('\n').filter(Boolean).length, 1);
      abort.abort();
      await following2;
    });
  });

  describe('exec', () => {
    const exec = async (target: KubeObject, container: string, command: string[], options: Partial<Omit<ExecRequest, 'stdin'>> & { stdin?: PassThrough } = {}) => {
      const stdout = sink();
      const stderr = sink();
      const tty = options.tty ?? false;
      const io: ContainerIO = { stdout, ...(tty ? {} : { stderr }), ...(options.stdin ? { stdin: options.stdin } : {}), onResize: () => {} };
      const abort = new AbortController();
      const done = c.sim.exec({ pod: target, container }, { command, stdin: !!options.stdin, stdout: true, stderr: !tty, tty }, io, abort.signal);
      return { done, stdout, stderr, abort };
    };

    it("`env` shows the container's environment: ConfigMap and Secret keys, downward API, resources, references, service links", async () => {
      const { done, stdout } = await exec(shellPod, 'app', ['env']);
      assert.deepEqual(await done, { exitCode: 0 });
      const env = new Map(stdout.text().trimEnd().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      const kubernetes = (await c.client.get(types.services, 'kubernetes', 'default')) as Obj;
      assert.equal(env.get('HOSTNAME'), 'shell');
      assert.equal(env.get('GREETING'), 'hello');
      assert.equal(env.get('PASSWORD'), 's3cret');
      assert.equal(env.get('POD_NAME'), 'shell');
      assert.equal(env.get('MEMORY_MI'), '256');
      assert.equal(env.get('COMPOSED'), 'hello-world');
      assert.equal(env.get('KUBERNETES_SERVICE_HOST'), kubernetes.spec.clusterIP);
      assert.equal(env.get('KUBERNETES_SERVICE_PORT'), '443');
      assert.equal(env.get('KUBERNETES_PORT'), `tcp://${kubernetes.spec.clusterIP}:443`);
      assert.match(env.get('PATH') ?? '', /\/usr\/bin/);
      assert.equal(env.get('HOME'), '/root');
      assert.equal(stdout.text().split('\n')[0].split('=')[0], 'PATH', 'PATH first, as the runtime sets it');
      // Only a shell exports PWD; `env` exec'd directly does not see one.
      assert.equal(env.get('PWD'), undefined);
      const viaShell = await exec(shellPod, 'app', ['sh', '-c', 'env']);
      assert.deepEqual(await viaShell.done, { exitCode: 0 });
      assert.match(viaShell.stdout.text(), /^PWD=\/$/m);
    });

    it('runs sh -c scripts: ls and cat of mounted volumes, hostname, pwd, cd, whoami, echo, variables, exit codes', async () => {
      const script = 'ls /etc/config; cat /etc/config/greeting; echo; cat /etc/secret/password && echo; cat /etc/podinfo/name; echo; hostname; pwd; cd /etc && pwd; whoami; echo "$GREETING, $POD_NAME" \'$HOME\'; false || echo recovered; exit 3';
      const { done, stdout, stderr } = await exec(shellPod, 'app', ['sh', '-c', script]);
      assert.deepEqual(await done, { exitCode: 3 });
      assert.equal(stderr.text(), '');
      assert.equal(stdout.text(), 'app.properties\ngreeting\nhello\ns3cret\nshell\nshell\n/\n/etc\nroot\nhello, shell $HOME\nrecovered\n');
    });

    it('projects the ServiceAccount token (a real, bound token), CA and namespace', async () => {
      const { done, stdout } = await exec(shellPod, 'app', ['sh', '-c', 'ls /var/run/secrets/kubernetes.io/serviceaccount; cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; cat /var/run/secrets/kubernetes.io/serviceaccount/token']);
      assert.equal((await done).exitCode, 0);
      const [ls1, ls2, ls3, namespace, token] = stdout.text().split('\n');
      assert.deepEqual([ls1, ls2, ls3], ['ca.crt', 'namespace', 'token']);
      assert.equal(namespace, ns);
      assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
      const review = await c.client.create<KubeObject & Obj>(resourceType('authentication.k8s.io', 'v1', 'tokenreviews', 'TokenReview', false), { metadata: {}, spec: { token } } as KubeObject);
      assert.equal(review.status.authenticated, true);
      assert.equal(review.status.user.username, `system:serviceaccount:${ns}:default`);
      assert.equal(review.status.user.extra?.['authentication.kubernetes.io/pod-name']?.[0], 'shell');
    });

    it('answers unknown commands as sh does (127), and refuses to start missing programs as the runtime does', async () => {
      const unknown = await exec(shellPod, 'app', ['sh', '-c', 'frobnicate --now']);
      assert.deepEqual(await unknown.done, { exitCode: 127 });
      assert.equal(unknown.stderr.text(), 'sh: frobnicate: not found\n');
      const missing = await exec(boxPod, 'box', ['bash']);
      const status = await missing.done;
      assert.equal(status.exitCode, 127);
      assert.match(status.message ?? '', /OCI runtime exec failed: exec failed: unable to start container process: exec: "bash": executable file not found in \$PATH: unknown$/);
      const unsupported = await exec(shellPod, 'app', ['sh', '-c', 'for i in 1 2; do echo $i; done']);
      assert.equal((await unsupported.done).exitCode, 2);
      assert.match(unsupported.stderr.text(), /not supported by this simulated shell/);
    });

    it('sleeps on the simulated clock', async () => {
      const { done, stdout } = await exec(shellPod, 'app', ['sh', '-c', 'echo before; sleep 2; echo after']);
      let finished = false;
      void done.then(() => (finished = true));
      await c.flush();
      assert.equal(stdout.text(), 'before\n');
      assert.equal(finished, false);
      await c.advance(2000, 500);
      assert.equal((await done).exitCode, 0);
      assert.equal(stdout.text(), 'before\nafter\n');
    });

    it('runs an interactive TTY session: prompt, echo, backspace, Ctrl-C, exit status', async () => {
      const stdin = new PassThrough();
      const { done, stdout } = await exec(boxPod, 'box', ['sh'], { tty: true, stdin });
      await c.flush();
      assert.equal(stdout.text(), '/ # ');
      stdin.write('echo hi\r');
      await c.flush();
      assert.equal(stdout.text(), '/ # echo hi\r\nhi\r\n/ # ');
      stdin.write('cd /etc\rech\x7fho $PWD\r');
      await c.flush();
      assert.ok(stdout.text().endsWith('/ # cd /etc\r\n/etc # ech\b \bho $PWD\r\n/etc\r\n/etc # '), JSON.stringify(stdout.text()));
      stdin.write('garbage\x03');
      await c.flush();
      assert.ok(stdout.text().endsWith('garbage^C\r\n/etc # '));
      stdin.write('exit 4\r');
      assert.deepEqual(await done, { exitCode: 4 });
    });

    it('reads piped stdin without a TTY', async () => {
      const stdin = new PassThrough();
      const { done, stdout } = await exec(boxPod, 'box', ['sh'], { stdin });
      stdin.end('echo one\nhostname\nexit 7\n');
      assert.deepEqual(await done, { exitCode: 7 });
      assert.equal(stdout.text(), 'one\nbox\n');
    });
  });

  describe('attach', () => {
    it("streams the main process's output from now on", async () => {
      const stdout = sink();
      const abort = new AbortController();
      const attached = c.sim.attach({ pod: shellPod, container: 'app' }, { command: [], stdin: false, stdout: true, stderr: false, tty: false }, { stdout, onResize: () => {} }, abort.signal);
      await c.flush();
      assert.equal(stdout.text(), '');
      await c.advance(30_000, 1000);
      assert.match(stdout.text(), / - - \[/);
      abort.abort();
      assert.equal((await attached).exitCode, 0);
    });
  });

  describe('port-forward', () => {
    const request = (stream: import('node:stream').Duplex, path: string) =>
      new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const req = http.request({ path, headers: { connection: 'close', 'user-agent': 'curl/8.5.0' }, createConnection: () => stream as never }, (res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
        req.on('error', reject);
        req.end();
      });

    it('answers HTTP on declared ports (and logs the request), refuses undeclared ones', async () => {
      const [ours, theirs] = duplexPair();
      await c.sim.portForward(shellPod, 80, theirs);
      const res = await request(ours, '/');
      assert.equal(res.status, 200);
      assert.match(res.body, /<title>Welcome to nginx!<\/title>/);
      assert.match(String(res.headers.server), /^nginx\//);
      const log = await c.client.text(logPath('shell'), new URLSearchParams({ tailLines: '5' }));
      assert.match(log, /^127\.0\.0\.1 - - \[.+\] "GET \/ HTTP\/1\.1" 200 \d+ "-" "curl\/8\.5\.0" "-"$/m);

      const [, closed] = duplexPair();
      await assert.rejects(c.sim.portForward(shellPod, 8081, closed), /connect: connection refused/);
    });

    it('names the pod and port on other images, and serves the pod proxy through the API server', async () => {
      await c.client.create(types.pods, pod('api', ns, { nodeName: 'canopy-node-1', containers: [{ name: 'api', image: 'example.com/api:1.4', ports: [{ containerPort: 8080, name: 'web' }] }] }));
      await c.advance(3000);
      const [ours, theirs] = duplexPair();
      await c.sim.portForward(await c.client.get(types.pods, 'api', ns), 8080, theirs);
      const res = await request(ours, '/hello');
      assert.equal(res.status, 200);
      assert.match(res.body, /Pod <b>streams\/api<\/b>, container <b>api<\/b>, port <b>8080<\/b> \(web\)/);
      const proxied = await c.client.text(`/api/v1/namespaces/${ns}/pods/api:8080/proxy/status`);
      assert.match(proxied, /Path: \/status/);
    });
  });
});
