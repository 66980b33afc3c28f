/**
 * Acceptance: the real helm 3.18 and helm 4.1 manage a release of the project's demo chart
 * (Deployment, Service, ConfigMap, Secret, a CRD from crds/ and a custom object) on
 * `canopy server`. helm 3 writes its release Secrets in protobuf and applies objects with POST and
 * strategic merge patches; helm 4 uses server-side apply (fieldManager=helm) and its `--wait`
 * watches the objects (watch-list) until kstatus calls them Current. Each helm works in a
 * namespace of its own; `scripts/test.mjs` extracts the binaries into `.cache/helm/`.
 */
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeKubectl, ok, removeDir, repoRoot, startServer, type KubectlResult, type RunningServer } from './support/server.js';

const CHART = join(repoRoot, 'packages', 'cli', 'test', 'fixtures', 'charts', 'demo');
const HELM_BINARIES = {
  3: join(repoRoot, '.cache', 'helm', 'v3', 'helm'),
  4: join(repoRoot, '.cache', 'helm', 'v4', 'helm'),
} as const;
const EXPECTED_VERSION = { 3: 'v3.18.0', 4: 'v4.1.4' } as const;
type HelmMajor = keyof typeof HELM_BINARIES;

let server: RunningServer;
let work: string;
let kubectl: ReturnType<typeof makeKubectl>;

before(async () => {
  const missing = Object.values(HELM_BINARIES).filter((p) => !existsSync(p));
  if (missing.length) throw new Error(`helm binaries missing (${missing.join(', ')}): run \`npm test\`, which extracts them`);
  work = mkdtempSync(join(tmpdir(), 'canopy-helm-'));
  // API-level semantics: no workloads run (kube-apiserver with only the lifecycle controllers).
  server = await startServer({ extraArgs: ['--controllers', 'lifecycle', '--nodes', '0'] });
  kubectl = makeKubectl('1.33', server.kubeconfig, work);
});

after(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  if (work) removeDir(work);
});

interface HelmRun {
  process: ChildProcess;
  done: Promise<KubectlResult>;
}

/** Starts helm against the server with its cache, config and data homes inside the test's directory. */
function startHelm(major: HelmMajor, args: string[], timeoutMs = 60_000): HelmRun {
  let child!: ChildProcess;
  const done = new Promise<KubectlResult>((resolve) => {
    child = execFile(
      HELM_BINARIES[major],
      ['--kubeconfig', server.kubeconfig, ...args],
      {
        timeout: timeoutMs,
        env: {
          ...process.env,
          HELM_CACHE_HOME: join(work, `helm${major}`, 'cache'),
          HELM_CONFIG_HOME: join(work, `helm${major}`, 'config'),
          HELM_DATA_HOME: join(work, `helm${major}`, 'data'),
        },
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
  return { process: child, done };
}

function helm(major: HelmMajor, args: string[], timeoutMs?: number): Promise<KubectlResult> {
  return startHelm(major, args, timeoutMs).done;
}

async function getJson(args: string[]): Promise<any> {
  return JSON.parse(ok(await kubectl(['get', ...args, '-o', 'json', '--show-managed-fields'])));
}

/** What the chart rendered, read back from the server. */
async function renderedState(ns: string, release: string) {
  const [configMap, secret, service, deployment, gadget] = await Promise.all([
    getJson(['configmap', `${release}-config`, '-n', ns]),
    getJson(['secret', `${release}-credentials`, '-n', ns]),
    getJson(['service', release, '-n', ns]),
    getJson(['deployment', release, '-n', ns]),
    getJson(['gadgets.demo.canopy.test', release, '-n', ns]),
  ]);
  return {
    greeting: configMap.data.greeting,
    password: Buffer.from(secret.data.password, 'base64').toString(),
    port: service.spec.ports[0].port,
    image: deployment.spec.template.spec.containers[0].image,
    size: gadget.spec.size,
    configMap,
  };
}

/** helm's release records: Secrets sh.helm.release.v1.<release>.v<N>, by revision. */
async function releaseSecrets(ns: string, release: string): Promise<Map<number, any>> {
  const list = await getJson(['secrets', '-n', ns, '-l', `owner=helm,name=${release}`]);
  return new Map(list.items.map((s: any) => [Number(s.metadata.labels.version), s]));
}

for (const major of [3, 4] as const) {
  describe(`helm ${major}: release lifecycle`, () => {
    const ns = `helm${major}`;
    const release = 'demo';

    test('is the expected helm', async () => {
      const out = ok(await helm(major, ['version', '--short']), 'helm version');
      assert.match(out, new RegExp(`^${EXPECTED_VERSION[major].replace(/\./g, '\\.')}\\+`));
    });

    test('install creates the chart objects, the CRD and a protobuf-written release Secret', async () => {
      const out = ok(await helm(major, ['install', release, CHART, '-n', ns, '--create-namespace']), 'helm install');
      assert.match(out, /STATUS: deployed/);
      assert.match(out, /REVISION: 1/);

      const state = await renderedState(ns, release);
      assert.deepEqual(
        { greeting: state.greeting, password: state.password, port: state.port, image: state.image, size: state.size },
        { greeting: 'hello', password: 's3cret', port: 8080, image: 'registry.example/demo:1.0.0', size: 'small' },
      );
      assert.equal(state.configMap.metadata.annotations['meta.helm.sh/release-name'], release);
      assert.equal(state.configMap.metadata.labels['app.kubernetes.io/managed-by'], 'Helm');
      // helm 3 creates with POST ?fieldManager=helm; helm 4 with server-side apply as the same manager.
      assert.deepEqual(
        state.configMap.metadata.managedFields.map((m: any) => [m.manager, m.operation]),
        [['helm', major === 4 ? 'Apply' : 'Update']],
      );

      const crd = await getJson(['crd', 'gadgets.demo.canopy.test']);
      assert.ok(crd.status.conditions.some((c: any) => c.type === 'Established' && c.status === 'True'));

      const records = await releaseSecrets(ns, release);
      assert.deepEqual([...records.keys()], [1]);
      const record = records.get(1);
      assert.equal(record.metadata.name, `sh.helm.release.v1.${release}.v1`);
      assert.equal(record.type, 'helm.sh/release.v1');
      assert.deepEqual(
        { name: record.metadata.labels.name, owner: record.metadata.labels.owner, status: record.metadata.labels.status },
        { name: release, owner: 'helm', status: 'deployed' },
      );
      assert.ok(record.data.release.length > 100, 'the encoded release is stored');
    });

    test('list shows the release deployed', async () => {
      const releases = JSON.parse(ok(await helm(major, ['list', '-n', ns, '-o', 'json']), 'helm list'));
      assert.equal(releases.length, 1);
      assert.deepEqual(
        {
          name: releases[0].name,
          namespace: releases[0].namespace,
          revision: releases[0].revision,
          status: releases[0].status,
          chart: releases[0].chart,
        },
        { name: release, namespace: ns, revision: '1', status: 'deployed', chart: 'demo-0.1.0' },
      );
    });

    test('upgrade with new values changes the objects', async () => {
      const out = ok(
        await helm(major, [
          'upgrade',
          release,
          CHART,
          '-n',
          ns,
          '--set',
          'greeting=bonjour',
          '--set',
          'image=registry.example/demo:2.0.0',
          '--set',
          'password=n3w',
          '--set',
          'gadget.size=large',
        ]),
        'helm upgrade',
      );
      assert.match(out, /REVISION: 2/);
      const state = await renderedState(ns, release);
      assert.deepEqual(
        {
          greeting: state.greeting,
          password: state.password,
          image: state.image,
          size: state.size,
          revision: state.configMap.data.revision,
        },
        { greeting: 'bonjour', password: 'n3w', image: 'registry.example/demo:2.0.0', size: 'large', revision: '2' },
      );
      const records = await releaseSecrets(ns, release);
      assert.deepEqual([...records.entries()].map(([v, s]) => [v, s.metadata.labels.status]).sort(), [
        [1, 'superseded'],
        [2, 'deployed'],
      ]);
    });

    test('history shows two revisions', async () => {
      const history = JSON.parse(ok(await helm(major, ['history', release, '-n', ns, '-o', 'json']), 'helm history'));
      assert.deepEqual(
        history.map((h: any) => [h.revision, h.status, h.description]),
        [
          [1, 'superseded', 'Install complete'],
          [2, 'deployed', 'Upgrade complete'],
        ],
      );
    });

    test('rollback to revision 1 restores its values', async () => {
      assert.match(ok(await helm(major, ['rollback', release, '1', '-n', ns]), 'helm rollback'), /Rollback was a success/);
      const state = await renderedState(ns, release);
      assert.deepEqual(
        {
          greeting: state.greeting,
          password: state.password,
          image: state.image,
          size: state.size,
          revision: state.configMap.data.revision,
        },
        { greeting: 'hello', password: 's3cret', image: 'registry.example/demo:1.0.0', size: 'small', revision: '1' },
      );
      const history = JSON.parse(ok(await helm(major, ['history', release, '-n', ns, '-o', 'json']), 'helm history'));
      assert.deepEqual(history.at(-1).revision, 3);
      assert.deepEqual([history.at(-1).status, history.at(-1).description], ['deployed', 'Rollback to 1']);
    });

    test('uninstall leaves nothing of the release behind', async () => {
      assert.match(ok(await helm(major, ['uninstall', release, '-n', ns]), 'helm uninstall'), /release "demo" uninstalled/);
      const left = await getJson(['all,configmaps,secrets,gadgets.demo.canopy.test', '-n', ns]);
      assert.deepEqual(
        left.items.map((o: any) => `${o.kind}/${o.metadata.name}`),
        ['ConfigMap/kube-root-ca.crt'],
        'only what every namespace has',
      );
      assert.equal((await releaseSecrets(ns, release)).size, 0);
      assert.deepEqual(JSON.parse(ok(await helm(major, ['list', '-n', ns, '-o', 'json']), 'helm list')), []);
      // helm never deletes what crds/ installed.
      assert.ok((await getJson(['crd', 'gadgets.demo.canopy.test'])).metadata.uid);
    });
  });
}

describe('helm 4: install --wait (watcher)', () => {
  const ns = 'helm4-wait';

  test('objects without readiness conditions are Current at once', async () => {
    const started = Date.now();
    const out = ok(
      await helm(4, [
        'install',
        'calm',
        CHART,
        '-n',
        ns,
        '--create-namespace',
        '--wait',
        '--timeout',
        '30s',
        '--set',
        'deployment.enabled=false',
      ]),
      'helm install --wait',
    );
    assert.match(out, /STATUS: deployed/);
    assert.ok(Date.now() - started < 15_000, `helm --wait took ${Date.now() - started} ms`);
  });

  test('waits for a Deployment until its status says Available, then succeeds', async () => {
    const run = startHelm(4, ['install', 'app', CHART, '-n', ns, '--wait', '--timeout', '60s', '--set', 'gadget.enabled=false']);
    let exited = false;
    void run.done.then(() => (exited = true));
    // No controllers run here: play the deployment controller once helm has created the object.
    let deployment: any;
    for (let i = 0; i < 100 && !deployment; i++) {
      const r = await kubectl(['get', 'deployment', 'app', '-n', ns, '-o', 'json']);
      if (r.code === 0) deployment = JSON.parse(r.stdout);
      else await sleep(100);
    }
    assert.ok(deployment, 'helm created the Deployment');
    await sleep(1500);
    assert.equal(exited, false, `helm must still be waiting for the Deployment: ${exited ? JSON.stringify(await run.done) : ''}`);

    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const condition = (type: string, reason: string) => ({
      type,
      status: 'True',
      reason,
      lastUpdateTime: now,
      lastTransitionTime: now,
    });
    const status = {
      status: {
        observedGeneration: deployment.metadata.generation,
        replicas: 1,
        updatedReplicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
        conditions: [condition('Available', 'MinimumReplicasAvailable'), condition('Progressing', 'NewReplicaSetAvailable')],
      },
    };
    ok(
      await kubectl([
        'patch',
        'deployment',
        'app',
        '-n',
        ns,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify(status),
      ]),
    );

    const result = await run.done;
    assert.equal(result.code, 0, `helm install --wait: ${result.stderr}`);
    assert.match(result.stdout, /STATUS: deployed/);
  });

  test('a Deployment that never becomes Available fails the install at the timeout', async () => {
    const result = await helm(4, [
      'install',
      'stuck',
      CHART,
      '-n',
      ns,
      '--wait',
      '--timeout',
      '3s',
      '--set',
      'gadget.enabled=false',
    ]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /resource Deployment\/helm4-wait\/stuck not ready\. status: InProgress/);
    const records = await releaseSecrets(ns, 'stuck');
    assert.equal(records.get(1)?.metadata.labels.status, 'failed');
  });

  test('uninstall of every release empties the namespace', async () => {
    for (const release of ['calm', 'app', 'stuck'])
      ok(await helm(4, ['uninstall', release, '-n', ns, '--wait']), `helm uninstall ${release}`);
    const left = await getJson(['all,configmaps,secrets', '-n', ns]);
    assert.deepEqual(
      left.items.map((o: any) => `${o.kind}/${o.metadata.name}`),
      ['ConfigMap/kube-root-ca.crt'],
    );
  });
});
