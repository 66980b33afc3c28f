/**
 * Acceptance: kubectl 1.27 and 1.28 read `/openapi/v2` only as gnostic protobuf. They validate
 * manifests for `create`/`apply`/`edit` (no `--validate=false`), compute strategic merge patches
 * and `explain` fields from it; a document they cannot parse fails all of these with "failed to
 * download openapi". One server; each version works in its own namespace.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeKubectl, ok, removeDir, startServer, type KubectlResult, type RunningServer } from './support/server.js';

const VERSIONS = ['1.27', '1.28'];

let server: RunningServer;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'canopy-kubectl-legacy-'));
  server = await startServer();
});

after(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  if (work) removeDir(work);
});

function deployment(
  ns: string,
  opts: { replicas: number; env: Array<{ name: string; value: string }>; extraField?: string },
): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  labels:
    app: web
spec:
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
${opts.extraField ? `        ${opts.extraField}: true\n` : ''}        env:
${opts.env.map((e) => `        - name: ${e.name}\n          value: "${e.value}"\n`).join('')}`;
}

/** kubectl's words when it could not fetch or parse the OpenAPI document. */
function assertOpenApiRead(result: KubectlResult): void {
  assert.doesNotMatch(result.stderr, /failed to download openapi|openapi|SchemaError/i, result.stderr);
}

for (const version of VERSIONS) {
  describe(`kubectl ${version} (OpenAPI v2 protobuf)`, () => {
    const ns = `legacy${version.replace('.', '-')}`;
    let k: ReturnType<typeof makeKubectl>;
    const file = (name: string, content: string) => {
      const p = join(work, `${ns}-${name}`);
      writeFileSync(p, content);
      return p;
    };

    before(async () => {
      k = makeKubectl(version, server.kubeconfig, work);
      ok(await k(['create', 'namespace', ns]));
    });

    test('explain reads field documentation', async () => {
      const spec = await k(['explain', 'deployment.spec', '--output=plaintext-openapiv2']);
      assertOpenApiRead(spec);
      const out = ok(spec);
      assert.match(out, /KIND:\s+Deployment/);
      assert.match(out, /VERSION:\s+apps\/v1/);
      assert.match(out, /replicas\s+<integer>/);
      assert.match(out, /selector\s+<Object> -required-/);
      assert.match(out, /template\s+<Object> -required-/);
      const containers = ok(await k(['explain', 'pods.spec.containers.ports']));
      assert.match(containers, /containerPort\s+<integer> -required-/);
      const missing = await k(['explain', 'deployment.spec.nothing']);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /field "nothing" does not exist/);
    });

    test('create -f validates and creates; an unknown field is refused', async () => {
      const bad = await k([
        'create',
        '-f',
        file('bad.yaml', deployment(ns, { replicas: 1, env: [], extraField: 'imaginaryField' })),
      ]);
      assertOpenApiRead(bad);
      assert.notEqual(bad.code, 0, 'a manifest with an unknown field is refused');
      assert.match(bad.stderr, /imaginaryField/);
      const created = await k([
        'create',
        '-f',
        file('v1.yaml', deployment(ns, { replicas: 1, env: [{ name: 'MODE', value: 'a' }] })),
      ]);
      assertOpenApiRead(created);
      assert.match(ok(created), /deployment.apps\/web created/);
    });

    test('apply merges lists by key (strategic merge patch from the schema)', async () => {
      const v2 = file(
        'v2.yaml',
        deployment(ns, {
          replicas: 2,
          env: [
            { name: 'MODE', value: 'b' },
            { name: 'EXTRA', value: 'x' },
          ],
        }),
      );
      const applied = await k(['apply', '-f', v2]);
      assertOpenApiRead(applied);
      assert.match(ok(applied), /deployment.apps\/web configured/);
      let d = JSON.parse(ok(await k(['get', 'deployment', 'web', '-n', ns, '-o', 'json'])));
      assert.equal(d.spec.replicas, 2);
      assert.deepEqual(d.spec.template.spec.containers[0].env, [
        { name: 'MODE', value: 'b' },
        { name: 'EXTRA', value: 'x' },
      ]);
      assert.match(ok(await k(['apply', '-f', v2])), /deployment.apps\/web unchanged/);
      // Dropping EXTRA from the manifest removes it: kubectl's patch deletes it by its merge key.
      const v3 = file('v3.yaml', deployment(ns, { replicas: 2, env: [{ name: 'MODE', value: 'b' }] }));
      assert.match(ok(await k(['apply', '-f', v3])), /deployment.apps\/web configured/);
      d = JSON.parse(ok(await k(['get', 'deployment', 'web', '-n', ns, '-o', 'json'])));
      assert.deepEqual(d.spec.template.spec.containers[0].env, [{ name: 'MODE', value: 'b' }]);
    });

    test('edit through KUBE_EDITOR', async () => {
      const editor = join(work, `${ns}-editor.sh`);
      writeFileSync(editor, '#!/bin/sh\nsed -i "s/replicas: 2/replicas: 4/" "$1"\n');
      chmodSync(editor, 0o755);
      const edited = await k(['edit', 'deployment', 'web', '-n', ns], { env: { KUBE_EDITOR: editor, EDITOR: editor } });
      assertOpenApiRead(edited);
      assert.match(ok(edited), /deployment.apps\/web edited/);
      assert.equal(ok(await k(['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}'])), '4');
    });
  });
}
