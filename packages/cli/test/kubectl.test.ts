/**
 * Acceptance: the real kubectl (1.29, 1.30, 1.32, 1.33) manages resources on `canopy server`
 * as it would on a real cluster. One server; each kubectl version works in its own namespace.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { kubectlPath, makeKubectl, ok, removeDir, startServer, type RunningServer } from './support/server.js';

// CANOPY_KUBECTL_VERSIONS=1.33 narrows the run while developing; CI runs them all.
const VERSIONS = process.env.CANOPY_KUBECTL_VERSIONS?.split(',') ?? ['1.29', '1.30', '1.32', '1.33'];

let server: RunningServer;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'canopy-kubectl-'));
  // API-level semantics: no workloads run (kube-apiserver with only the lifecycle controllers).
  server = await startServer({ extraArgs: ['--controllers', 'lifecycle', '--nodes', '0'] });
});

after(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  if (work) removeDir(work);
});

function manifest(ns: string, opts: { replicas: number; withExtras: boolean }): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  labels:
    app: web
${opts.withExtras ? '    tier: frontend\n' : ''}spec:
  replicas: ${opts.replicas}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
        env:
        - name: MODE
          value: production
${opts.withExtras ? '        - name: DEBUG\n          value: "true"\n' : ''}---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${ns}
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: ${ns}
data:
  greeting: hello
${opts.withExtras ? '  extra: remove-me\n' : ''}---
apiVersion: v1
kind: Secret
metadata:
  name: web-secret
  namespace: ${ns}
type: Opaque
data:
  password: czNjcmV0
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: ${ns}
spec:
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
`;
}

for (const version of VERSIONS) {
  describe(`kubectl ${version}`, () => {
    const ns = `kv${version.replace('.', '-')}`;
    let k: ReturnType<typeof makeKubectl>;
    const file = (name: string, content: string) => {
      const p = join(work, `${ns}-${name}`);
      writeFileSync(p, content);
      return p;
    };

    before(() => {
      k = makeKubectl(version, server.kubeconfig, work);
    });

    test('version, api-resources, api-versions, explain', async () => {
      const v = JSON.parse(ok(await k(['version', '-o', 'json'])));
      assert.match(v.serverVersion.gitVersion, /canopy/);
      assert.equal(v.clientVersion.minor.replace('+', ''), version.split('.')[1]);
      const resources = ok(await k(['api-resources']));
      assert.match(resources, /deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
      assert.match(resources, /namespaces\s+ns\s+v1\s+false\s+Namespace/);
      assert.match(resources, /horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler/);
      const versions = ok(await k(['api-versions'])).split('\n');
      for (const gv of ['v1', 'apps/v1', 'batch/v1', 'networking.k8s.io/v1', 'rbac.authorization.k8s.io/v1', 'discovery.k8s.io/v1']) {
        assert.ok(versions.includes(gv), `api-versions lists ${gv}`);
      }
      const explain = ok(await k(['explain', 'deployment.spec.replicas']));
      assert.match(explain, /replicas/);
      assert.match(explain, /<integer>/);
      const explainPod = ok(await k(['explain', 'pods.spec.containers']));
      assert.match(explainPod, /image\s+<string>/);
    });

    test('create namespace, configmap, secret', async () => {
      assert.match(ok(await k(['create', 'namespace', ns])), new RegExp(`namespace/${ns} created`));
      assert.match(ok(await k(['create', 'configmap', 'plain', '-n', ns, '--from-literal=a=b'])), /configmap\/plain created/);
      assert.match(ok(await k(['create', 'secret', 'generic', 'creds', '-n', ns, '--from-literal=user=admin'])), /secret\/creds created/);
      // stringData is write-only: the server folds it into data, as kube-apiserver does.
      ok(await k(['apply', '-f', file('string-data.yaml', `apiVersion: v1\nkind: Secret\nmetadata: {name: sd, namespace: ${ns}}\nstringData: {token: abc}\n`)]));
      const sd = JSON.parse(ok(await k(['get', 'secret', 'sd', '-n', ns, '-o', 'json'])));
      assert.equal(sd.data.token, Buffer.from('abc').toString('base64'));
      assert.equal(sd.stringData, undefined);
      const secret = JSON.parse(ok(await k(['get', 'secret', 'creds', '-n', ns, '-o', 'json'])));
      assert.equal(Buffer.from(secret.data.user, 'base64').toString(), 'admin');
      const again = await k(['create', 'configmap', 'plain', '-n', ns, '--from-literal=a=b']);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /AlreadyExists|already exists/);
    });

    test('apply a multi-document manifest: created, unchanged, configured with removed fields gone', async () => {
      const v1 = file('app-v1.yaml', manifest(ns, { replicas: 2, withExtras: true }));
      const first = ok(await k(['apply', '-f', v1]));
      for (const what of ['deployment.apps/web created', 'service/web created', 'configmap/web-config created', 'secret/web-secret created', 'ingress.networking.k8s.io/web created']) {
        assert.ok(first.includes(what), `first apply: ${what}\n${first}`);
      }
      const second = ok(await k(['apply', '-f', v1]));
      assert.equal((second.match(/unchanged/g) ?? []).length, 5, second);
      const v2 = file('app-v2.yaml', manifest(ns, { replicas: 3, withExtras: false }));
      const diff = await k(['diff', '-f', v2]);
      assert.equal(diff.code, 1, `diff exits 1 when there are differences: ${diff.stderr}`);
      assert.match(diff.stdout, /-\s+replicas: 2/);
      assert.match(diff.stdout, /\+\s+replicas: 3/);
      const third = ok(await k(['apply', '-f', v2]));
      assert.ok(third.includes('deployment.apps/web configured'), third);
      assert.ok(third.includes('configmap/web-config configured'), third);
      assert.ok(third.includes('service/web unchanged'), third);
      const deploy = JSON.parse(ok(await k(['get', 'deployment', 'web', '-n', ns, '-o', 'json'])));
      assert.equal(deploy.spec.replicas, 3);
      assert.equal(deploy.metadata.labels.tier, undefined, 'removed label is gone');
      assert.deepEqual(deploy.spec.template.spec.containers[0].env, [{ name: 'MODE', value: 'production' }]);
      const cm = JSON.parse(ok(await k(['get', 'configmap', 'web-config', '-n', ns, '-o', 'json'])));
      assert.deepEqual(cm.data, { greeting: 'hello' });
      const noDiff = await k(['diff', '-f', v2]);
      assert.equal(noDiff.code, 0, noDiff.stdout + noDiff.stderr);
      // Defaults the API server applies, as kube-apiserver does.
      assert.equal(deploy.spec.strategy.type, 'RollingUpdate');
      assert.equal(deploy.spec.revisionHistoryLimit, 10);
      const svc = JSON.parse(ok(await k(['get', 'service', 'web', '-n', ns, '-o', 'json'])));
      assert.match(svc.spec.clusterIP, /^10\.43\.\d+\.\d+$/);
      assert.equal(svc.spec.type, 'ClusterIP');
    });

    test('get with output formats, selectors, -A, chunking and sorting', async () => {
      const wide = ok(await k(['get', 'deployments', '-n', ns, '-o', 'wide']));
      assert.match(wide.split('\n')[0], /NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR/);
      assert.match(wide, /web\s+0\/3\s+0\s+0\s+\S+\s+nginx\s+nginx:1\.27\s+app=web/);
      const svc = ok(await k(['get', 'svc', 'web', '-n', ns]));
      assert.match(svc, /web\s+ClusterIP\s+10\.43\.\d+\.\d+\s+<none>\s+80\/TCP/);
      const yaml = ok(await k(['get', 'configmap', 'web-config', '-n', ns, '-o', 'yaml']));
      assert.match(yaml, /greeting: hello/);
      assert.equal(ok(await k(['get', 'deploy', 'web', '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])), 'nginx:1.27');
      const cc = ok(await k(['get', 'cm', '-n', ns, '-o', 'custom-columns=NAME:.metadata.name,KEYS:.data']));
      assert.match(cc, /web-config\s+map\[greeting:hello\]/);
      const names = ok(await k(['get', 'cm', '-n', ns, '-o', 'name'])).trim().split('\n');
      assert.ok(names.includes('configmap/web-config') && names.includes('configmap/plain'), names.join(','));
      ok(await k(['label', 'cm', 'plain', '-n', ns, 'team=blue']));
      assert.equal(ok(await k(['get', 'cm', '-n', ns, '-l', 'team=blue', '-o', 'name'])).trim(), 'configmap/plain');
      assert.equal(ok(await k(['get', 'cm', '-n', ns, '-l', 'team!=blue', '-o', 'name'])).includes('configmap/plain'), false);
      assert.equal(ok(await k(['get', 'cm', '-n', ns, '--field-selector', 'metadata.name=web-config', '-o', 'name'])).trim(), 'configmap/web-config');
      assert.equal(ok(await k(['get', 'secrets', '-n', ns, '--field-selector', 'type=Opaque', '-o', 'name'])).trim().split('\n').length, 3);
      const bad = await k(['get', 'cm', '-n', ns, '--field-selector', 'spec.nothing=1']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /field label not supported: spec\.nothing/);
      const all = ok(await k(['get', 'cm', '-A']));
      assert.match(all.split('\n')[0], /NAMESPACE\s+NAME\s+DATA\s+AGE/);
      assert.match(all, new RegExp(`${ns}\\s+web-config\\s+1`));
      const chunked = ok(await k(['get', 'cm', '-n', ns, '--chunk-size=1', '-o', 'name'])).trim().split('\n');
      assert.deepEqual([...chunked].sort(), [...names].sort());
      const sorted = ok(await k(['get', 'cm', '-n', ns, '--sort-by=.metadata.name', '-o', 'name'])).trim().split('\n');
      assert.deepEqual(sorted, [...sorted].sort());
    });

    test('get -w receives added, modified and deleted events', async () => {
      const child = spawn(
        kubectlPath(version),
        ['--kubeconfig', server.kubeconfig, '--cache-dir', join(work, `kubectl-${version}`), 'get', 'cm', '-n', ns, '-w', '--output-watch-events'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const waitFor = async (re: RegExp) => {
        for (let i = 0; i < 100 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 100));
        assert.match(out, re);
      };
      try {
        await waitFor(/ADDED\s+web-config\s+1/);
        ok(await k(['create', 'configmap', 'watched', '-n', ns, '--from-literal=x=1']));
        await waitFor(/ADDED\s+watched\s+1/);
        ok(await k(['label', 'cm', 'watched', '-n', ns, 'seen=yes']));
        await waitFor(/MODIFIED\s+watched\s+1/);
        ok(await k(['delete', 'cm', 'watched', '-n', ns]));
        await waitFor(/DELETED\s+watched\s+1/);
      } finally {
        child.kill();
      }
    });

    test('describe', async () => {
      const out = ok(await k(['describe', 'deployment', 'web', '-n', ns]));
      assert.match(out, /Name:\s+web/);
      assert.match(out, /Replicas:\s+3 desired/);
      assert.match(out, /StrategyType:\s+RollingUpdate/);
      assert.match(out, /Image:\s+nginx:1\.27/);
      const svc = ok(await k(['describe', 'svc', 'web', '-n', ns]));
      assert.match(svc, /Selector:\s+app=web/);
    });

    test('edit through KUBE_EDITOR', async () => {
      const editor = join(work, `${ns}-editor.sh`);
      writeFileSync(editor, '#!/bin/sh\nsed -i "s/greeting: hello/greeting: edited/" "$1"\n');
      chmodSync(editor, 0o755);
      assert.match(ok(await k(['edit', 'configmap', 'web-config', '-n', ns], { env: { KUBE_EDITOR: editor, EDITOR: editor } })), /configmap\/web-config edited/);
      assert.equal(ok(await k(['get', 'cm', 'web-config', '-n', ns, '-o', 'jsonpath={.data.greeting}'])), 'edited');
    });

    test('patch (strategic, merge, json), label, annotate', async () => {
      ok(await k(['patch', 'deployment', 'web', '-n', ns, '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}']));
      let d = JSON.parse(ok(await k(['get', 'deploy', 'web', '-n', ns, '-o', 'json'])));
      assert.deepEqual(
        d.spec.template.spec.containers.map((c: { name: string }) => c.name),
        ['sidecar', 'nginx'].filter((n) => d.spec.template.spec.containers.some((c: { name: string }) => c.name === n)),
      );
      assert.equal(d.spec.template.spec.containers.length, 2, 'strategic merge adds a container by name');
      ok(await k(['patch', 'deployment', 'web', '-n', ns, '--type=merge', '-p', '{"spec":{"paused":true}}']));
      ok(await k(['patch', 'deployment', 'web', '-n', ns, '--type=json', '-p', '[{"op":"remove","path":"/spec/template/spec/containers/1"}]']));
      d = JSON.parse(ok(await k(['get', 'deploy', 'web', '-n', ns, '-o', 'json'])));
      assert.equal(d.spec.paused, true);
      assert.equal(d.spec.template.spec.containers.length, 1);
      const badJson = await k(['patch', 'deployment', 'web', '-n', ns, '--type=json', '-p', '[{"op":"test","path":"/spec/replicas","value":99}]']);
      assert.notEqual(badJson.code, 0);
      ok(await k(['annotate', 'deployment', 'web', '-n', ns, 'owner=team-a']));
      ok(await k(['label', 'deployment', 'web', '-n', ns, 'env=prod']));
      d = JSON.parse(ok(await k(['get', 'deploy', 'web', '-n', ns, '-o', 'json'])));
      assert.equal(d.metadata.annotations.owner, 'team-a');
      assert.equal(d.metadata.labels.env, 'prod');
      ok(await k(['label', 'deployment', 'web', '-n', ns, 'env-']));
      d = JSON.parse(ok(await k(['get', 'deploy', 'web', '-n', ns, '-o', 'json'])));
      assert.equal(d.metadata.labels.env, undefined);
    });

    test('replace with a stale object conflicts; scale', async () => {
      const stale = ok(await k(['get', 'cm', 'plain', '-n', ns, '-o', 'json']));
      ok(await k(['label', 'cm', 'plain', '-n', ns, 'bump=1']));
      const path = file('stale.json', stale);
      const res = await k(['replace', '-f', path]);
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /the object has been modified; please apply your changes to the latest version and try again/);
      assert.match(ok(await k(['scale', 'deployment', 'web', '-n', ns, '--replicas=5'])), /deployment.apps\/web scaled/);
      assert.equal(ok(await k(['get', 'deploy', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}'])), '5');
    });

    test('delete with background, foreground and orphan propagation', async () => {
      for (const cascade of ['background', 'foreground', 'orphan']) {
        const owner = `owner-${cascade}`;
        ok(await k(['create', 'configmap', owner, '-n', ns, '--from-literal=a=1']));
        const uid = ok(await k(['get', 'cm', owner, '-n', ns, '-o', 'jsonpath={.metadata.uid}']));
        const dependents = [0, 1].map((i) => ({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            name: `${owner}-dep${i}`,
            namespace: ns,
            ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner, uid, blockOwnerDeletion: true }],
          },
          data: { i: String(i) },
        }));
        ok(await k(['apply', '-f', file(`${owner}.json`, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: dependents }))]));
        ok(await k(['delete', 'cm', owner, '-n', ns, `--cascade=${cascade}`], { timeoutMs: 30_000 }));
        const gone = await k(['get', 'cm', owner, '-n', ns]);
        assert.match(gone.stderr, /NotFound|not found/, `${cascade}: owner is gone when kubectl returns`);
        const waitDeps = async (expectPresent: boolean) => {
          for (let i = 0; i < 50; i++) {
            const out = ok(await k(['get', 'cm', '-n', ns, '-o', 'name']));
            const present = out.includes(`${owner}-dep0`) || out.includes(`${owner}-dep1`);
            if (present === expectPresent) return;
            await new Promise((r) => setTimeout(r, 100));
          }
          assert.fail(`${cascade}: dependents ${expectPresent ? 'should remain' : 'should be deleted'}`);
        };
        if (cascade === 'orphan') {
          await waitDeps(true);
          const dep = JSON.parse(ok(await k(['get', 'cm', `${owner}-dep0`, '-n', ns, '-o', 'json'])));
          assert.equal(dep.metadata.ownerReferences, undefined, 'orphaned dependents lose the owner reference');
        } else if (cascade === 'foreground') {
          // Foreground: the owner went only after its blocking dependents.
          await waitDeps(false);
        } else {
          await waitDeps(false);
        }
      }
    });

    test('delete namespace removes it and its contents', async () => {
      assert.match(ok(await k(['delete', 'namespace', ns], { timeoutMs: 60_000 })), new RegExp(`namespace "${ns}" deleted`));
      const res = await k(['get', 'namespace', ns]);
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /NotFound|not found/);
      const leftovers = ok(await k(['get', 'cm,secrets,deploy,svc,ing', '-n', ns, '-o', 'name']));
      assert.equal(leftovers.trim(), '');
    });
  });
}
