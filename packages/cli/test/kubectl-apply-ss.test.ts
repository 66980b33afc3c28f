/**
 * Acceptance: server-side apply with the real kubectl (1.27, 1.30, 1.33) on `canopy server`, as
 * on a real cluster: `kubectl apply --server-side` creates and re-applies; two field managers
 * conflict on a field, `--force-conflicts` takes it over; `--show-managed-fields` shows the
 * managers; a field a manager stops applying goes; an object created by client-side
 * `kubectl apply` migrates to server-side apply as kube's docs describe; `kubectl edit` and
 * `kubectl label` keep working and leave their own managedFields entries. Each kubectl version
 * works in a namespace of its own.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { makeKubectl, ok, removeDir, startServer, type RunningServer } from './support/server.js';

const VERSIONS = ['1.27', '1.30', '1.33'] as const;

let server: RunningServer;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'canopy-kubectl-ssa-'));
  server = await startServer();
});

after(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  if (work) removeDir(work);
});

function configMap(ns: string, name: string, data: Record<string, string>): string {
  const lines = Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`);
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${ns}\ndata:\n${lines.join('\n')}\n`;
}

interface Entry {
  manager: string;
  operation: string;
  fieldsV1: Record<string, any>;
}

/** Managers owning `data.<key>` of a ConfigMap, as `manager/Operation`. */
function ownersOfData(object: { metadata: { managedFields?: Entry[] } }, key: string): string[] {
  return (object.metadata.managedFields ?? [])
    .filter((e) => e.fieldsV1['f:data']?.[`f:${key}`] !== undefined)
    .map((e) => `${e.manager}/${e.operation}`)
    .sort();
}

for (const version of VERSIONS) {
  describe(`kubectl ${version}: server-side apply`, () => {
    const ns = `ssa-${version.replace('.', '-')}`;
    let kubectl: ReturnType<typeof makeKubectl>;
    const getYaml = async (name: string) =>
      parseYaml(ok(await kubectl(['get', 'configmap', name, '-n', ns, '-o', 'yaml', '--show-managed-fields']), 'get'));

    before(async () => {
      kubectl = makeKubectl(version, server.kubeconfig, work);
      ok(await kubectl(['create', 'namespace', ns]), 'create namespace');
    });

    test('creates, re-applies unchanged, and removes fields a manager stops applying', async () => {
      const created = ok(
        await kubectl(['apply', '--server-side', '-f', '-'], { input: configMap(ns, 'one', { a: '1', b: '2' }) }),
        'apply',
      );
      assert.match(created, /configmap\/one serverside-applied/);
      const first = await getYaml('one');
      assert.deepEqual(first.data, { a: '1', b: '2' });
      assert.deepEqual(ownersOfData(first, 'a'), ['kubectl/Apply']);

      ok(await kubectl(['apply', '--server-side', '-f', '-'], { input: configMap(ns, 'one', { a: '1', b: '2' }) }), 're-apply');
      const again = await getYaml('one');
      assert.equal(again.metadata.resourceVersion, first.metadata.resourceVersion, 'an unchanged apply stores nothing');

      ok(await kubectl(['apply', '--server-side', '-f', '-'], { input: configMap(ns, 'one', { a: '1' }) }), 'apply without b');
      const pruned = await getYaml('one');
      assert.deepEqual(pruned.data, { a: '1' });
    });

    test('two field managers conflict; --force-conflicts transfers ownership; both show in managedFields', async () => {
      ok(
        await kubectl(['apply', '--server-side', '--field-manager=a', '-f', '-'], {
          input: configMap(ns, 'two', { shared: 'x', onlyA: '1' }),
        }),
        'apply a',
      );
      const conflict = await kubectl(['apply', '--server-side', '--field-manager=b', '-f', '-'], {
        input: configMap(ns, 'two', { shared: 'y', onlyB: '2' }),
      });
      assert.notEqual(conflict.code, 0, 'conflicting apply must fail');
      assert.match(conflict.stderr, /Apply failed with 1 conflict: conflict with "a": \.data\.shared/);
      assert.match(conflict.stderr, /--force-conflicts/);
      assert.deepEqual((await getYaml('two')).data, { shared: 'x', onlyA: '1' }, 'a failed apply changes nothing');

      ok(
        await kubectl(['apply', '--server-side', '--field-manager=b', '--force-conflicts', '-f', '-'], {
          input: configMap(ns, 'two', { shared: 'y', onlyB: '2' }),
        }),
        'forced apply b',
      );
      const after = await getYaml('two');
      assert.deepEqual(after.data, { shared: 'y', onlyA: '1', onlyB: '2' });
      assert.deepEqual(ownersOfData(after, 'shared'), ['b/Apply']);
      assert.deepEqual(ownersOfData(after, 'onlyA'), ['a/Apply']);
      const managers = (after.metadata.managedFields as Entry[]).map((e) => e.manager).sort();
      assert.deepEqual(managers, ['a', 'b']);

      // Without --show-managed-fields kubectl hides them.
      const plain = parseYaml(ok(await kubectl(['get', 'configmap', 'two', '-n', ns, '-o', 'yaml']), 'get'));
      assert.equal(plain.metadata.managedFields, undefined);
    });

    test('client-side apply migrates to server-side apply; changed values conflict with kubectl-client-side-apply', async () => {
      ok(await kubectl(['apply', '-f', '-'], { input: configMap(ns, 'csa', { a: '1', b: '2' }) }), 'client-side apply');
      const csa = await getYaml('csa');
      assert.deepEqual(ownersOfData(csa, 'a'), ['kubectl-client-side-apply/Update']);
      assert.ok(csa.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);

      // Another manager changing a client-side applied value conflicts with its Update entry.
      const other = await kubectl(['apply', '--server-side', '--field-manager=other', '-f', '-'], {
        input: configMap(ns, 'csa', { a: 'changed' }),
      });
      assert.notEqual(other.code, 0);
      assert.match(other.stderr, /conflict with "kubectl-client-side-apply" using v1: \.data\.a/);

      // kubectl's own manager takes over the fields whose values are still the last applied ones.
      ok(await kubectl(['apply', '--server-side', '-f', '-'], { input: configMap(ns, 'csa', { a: '1', b: '3' }) }), 'migrate');
      const migrated = await getYaml('csa');
      assert.deepEqual(migrated.data, { a: '1', b: '3' });
      assert.deepEqual(ownersOfData(migrated, 'a'), ['kubectl/Apply']);
      assert.deepEqual(ownersOfData(migrated, 'b'), ['kubectl/Apply']);
      const lastApplied = JSON.parse(migrated.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
      assert.deepEqual(lastApplied.data, { a: '1', b: '3' }, 'the annotation follows the server-side applied configuration');
    });

    test('kubectl edit and kubectl label work and get their own entries', async () => {
      ok(await kubectl(['apply', '--server-side', '-f', '-'], { input: configMap(ns, 'edited', { a: 'before' }) }), 'apply');
      ok(
        await kubectl(['edit', 'configmap', 'edited', '-n', ns], {
          env: { KUBE_EDITOR: 'sed -i s/before/after/', EDITOR: 'sed -i s/before/after/' },
        }),
        'edit',
      );
      ok(await kubectl(['label', 'configmap', 'edited', '-n', ns, 'tier=web']), 'label');
      const object = await getYaml('edited');
      assert.equal(object.data.a, 'after');
      assert.equal(object.metadata.labels.tier, 'web');
      assert.deepEqual(ownersOfData(object, 'a'), ['kubectl-edit/Update']);
      const labelOwners = (object.metadata.managedFields as Entry[])
        .filter((e) => e.fieldsV1['f:metadata']?.['f:labels']?.['f:tier'] !== undefined)
        .map((e) => `${e.manager}/${e.operation}`);
      assert.deepEqual(labelOwners, ['kubectl-label/Update']);

      // The applier's next apply of a value edited since conflicts with kubectl-edit.
      const reapply = await kubectl(['apply', '--server-side', '-f', '-'], { input: configMap(ns, 'edited', { a: 'before' }) });
      assert.notEqual(reapply.code, 0);
      assert.match(reapply.stderr, /conflict with "kubectl-edit" using v1: \.data\.a/);
    });
  });
}
