/**
 * Acceptance: CustomResourceDefinitions with the real kubectl (1.27 and 1.33) on `canopy server`,
 * as on a real cluster: apply a CRD with two versions (v1beta1 served, v1 stored), printer
 * columns, short names and status/scale subresources; wait until it is established; manage
 * custom objects in both versions; explain the kind; write status through the subresource; delete
 * the CRD and with it its objects. Each kubectl version works on a CRD of its own group.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeKubectl, ok, removeDir, startServer, type RunningServer } from './support/server.js';

const VERSIONS = ['1.27', '1.33'] as const;

let server: RunningServer;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'canopy-kubectl-crd-'));
  server = await startServer();
});

after(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  if (work) removeDir(work);
});

function crdManifest(group: string, shortName: string): string {
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.${group}
spec:
  group: ${group}
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [${shortName}]
  versions:
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema: &schema
        type: object
        description: A Widget is a test resource.
        properties:
          spec:
            type: object
            description: What the widget should be.
            required: [size]
            properties:
              size:
                type: string
                description: How big the widget is.
                enum: [small, large]
              replicas:
                type: integer
                minimum: 0
                default: 1
          status:
            type: object
            properties:
              phase:
                type: string
              replicas:
                type: integer
    subresources: &subresources
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
    additionalPrinterColumns: &columns
    - name: Size
      type: string
      jsonPath: .spec.size
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: *schema
    subresources: *subresources
    additionalPrinterColumns: *columns
`;
}

function widgetManifest(group: string, name: string, size: string): string {
  return `apiVersion: ${group}/v1beta1
kind: Widget
metadata:
  name: ${name}
  namespace: default
spec:
  size: ${size}
`;
}

for (const version of VERSIONS) {
  describe(`kubectl ${version}: custom resources`, () => {
    const group = `k${version.replace('.', '')}.example.com`;
    const shortName = `wd${version.replace('.', '')}`;
    const crd = `widgets.${group}`;
    let kubectl: ReturnType<typeof makeKubectl>;

    before(() => {
      kubectl = makeKubectl(version, server.kubeconfig, work);
    });

    test('apply a CRD and wait until it is established', async () => {
      assert.match(
        ok(await kubectl(['apply', '-f', '-'], { input: crdManifest(group, shortName) })),
        new RegExp(`customresourcedefinition.apiextensions.k8s.io/${crd} created`),
      );
      assert.match(ok(await kubectl(['wait', '--for', 'condition=established', '--timeout=20s', `crd/${crd}`])), /condition met/);
      const names = ok(
        await kubectl(['get', 'crd', crd, '-o', 'jsonpath={.status.acceptedNames.shortNames[0]} {.status.storedVersions[0]}']),
      );
      assert.equal(names, `${shortName} v1`);
    });

    test('apply a custom resource; get shows the printer columns, by short name and in both versions', async () => {
      assert.match(
        ok(await kubectl(['apply', '-f', '-'], { input: widgetManifest(group, 'w1', 'small') })),
        new RegExp(`widget.${group}/w1 created`),
      );
      const table = ok(await kubectl(['get', `widgets.${group}`]));
      const [header, row] = table.trim().split('\n');
      assert.deepEqual(header.split(/\s+/), ['NAME', 'SIZE', 'REPLICAS', 'AGE']);
      assert.deepEqual(row.split(/\s+/).slice(0, 3), ['w1', 'small', '1'], 'the schema default fills replicas');
      assert.match(ok(await kubectl(['get', shortName])), /^w1\s+small\s+1\s/m);
      assert.equal(
        ok(await kubectl(['get', `widgets.v1beta1.${group}`, 'w1', '-o', 'jsonpath={.apiVersion}'])),
        `${group}/v1beta1`,
      );
      assert.equal(ok(await kubectl(['get', `widgets.v1.${group}`, 'w1', '-o', 'jsonpath={.apiVersion}'])), `${group}/v1`);
      // A second apply of a changed manifest patches the object.
      assert.match(ok(await kubectl(['apply', '-f', '-'], { input: widgetManifest(group, 'w1', 'large') })), /configured/);
      assert.equal(ok(await kubectl(['get', shortName, 'w1', '-o', 'jsonpath={.spec.size} {.metadata.generation}'])), 'large 2');
    });

    test('an invalid custom resource is refused, naming the field', async () => {
      const result = await kubectl(['apply', '-f', '-'], { input: widgetManifest(group, 'w2', 'huge') });
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /spec\.size: Unsupported value: "huge": supported values: "small", "large"/);
      assert.notEqual((await kubectl(['get', shortName, 'w2'])).code, 0);
    });

    test('explain the kind and its fields from the CRD schema', async () => {
      const kind = ok(await kubectl(['explain', `widgets.${group}`]));
      assert.match(kind, /KIND:\s+Widget/);
      assert.match(kind, /A Widget is a test resource\./);
      const spec = ok(await kubectl(['explain', `widgets.${group}.spec`]));
      assert.match(spec, /size\s+<string> -required-/);
      assert.match(spec, /How big the widget is\./);
    });

    test('a status write changes only status; scale writes the replicas path', async () => {
      ok(
        await kubectl([
          'patch',
          shortName,
          'w1',
          '--subresource=status',
          '--type=merge',
          '-p',
          '{"status":{"phase":"Ready","replicas":1},"spec":{"size":"small"}}',
        ]),
      );
      assert.equal(
        ok(await kubectl(['get', shortName, 'w1', '-o', 'jsonpath={.spec.size} {.status.phase} {.metadata.generation}'])),
        'large Ready 2',
      );
      assert.match(ok(await kubectl(['scale', shortName, 'w1', '--replicas=3'])), /scaled/);
      assert.equal(ok(await kubectl(['get', shortName, 'w1', '-o', 'jsonpath={.spec.replicas} {.status.replicas}'])), '3 1');
    });

    test('delete crd removes its objects', async () => {
      assert.match(ok(await kubectl(['delete', 'crd', crd])), /deleted/);
      const gone = await kubectl(['get', '--raw', `/apis/${group}/v1/namespaces/default/widgets`]);
      assert.notEqual(gone.code, 0);
      assert.match(gone.stderr, /NotFound|could not find/);
      // Defined again, the resource starts empty: the old objects went with the CRD.
      ok(await kubectl(['apply', '-f', '-'], { input: crdManifest(group, shortName) }));
      ok(await kubectl(['wait', '--for', 'condition=established', '--timeout=20s', `crd/${crd}`]));
      const empty = await kubectl(['get', `widgets.${group}`]);
      assert.equal(empty.code, 0, empty.stderr);
      assert.match(empty.stderr, /No resources found/);
      ok(await kubectl(['delete', 'crd', crd]));
    });
  });
}
