// The platform's CRDs against KubeSphere 4.1's (../shared/reference/kubesphere-crds): every
// name, scope, version flag, printer column and subresource, and every schema node, minus the
// prose descriptions, must be the same.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { platformCrds } from '../src/crds/index.js';

const CRD_DIR = join(import.meta.dirname, '../../../../shared/reference/kubesphere-crds');
const EXPECTED = [
  'iam.kubesphere.io_users',
  'iam.kubesphere.io_globalroles',
  'iam.kubesphere.io_globalrolebindings',
  'iam.kubesphere.io_workspaceroles',
  'iam.kubesphere.io_workspacerolebindings',
  'iam.kubesphere.io_clusterroles',
  'iam.kubesphere.io_clusterrolebindings',
  'iam.kubesphere.io_roles',
  'iam.kubesphere.io_rolebindings',
  'iam.kubesphere.io_roletemplates',
  'iam.kubesphere.io_builtinroles',
  'iam.kubesphere.io_categories',
  'iam.kubesphere.io_groups',
  'iam.kubesphere.io_groupbindings',
  'iam.kubesphere.io_loginrecords',
  'tenant.kubesphere.io_workspacetemplates',
  'tenant.kubesphere.io_workspaces',
  'quota.kubesphere.io_resourcequotas',
];

type Node = Record<string, any>;

function readReference(file: string): Node {
  const path = join(CRD_DIR, `${file}.yaml`);
  if (!existsSync(path)) throw new Error(`reference CRD missing: ${path} (shared/ must sit beside the checkout)`);
  return YAML.parse(readFileSync(path, 'utf8'));
}

/** Removes the `description` keyword from every schema node (not properties named "description"). */
function withoutDescriptions(schema: Node): Node {
  const out: Node = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'description') continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as Node).map(([p, s]) => [p, withoutDescriptions(s)]));
    } else if (key === 'items' || key === 'additionalProperties' || key === 'not') {
      out[key] = typeof value === 'object' ? withoutDescriptions(value) : value;
    } else if (key === 'anyOf' || key === 'allOf' || key === 'oneOf') {
      out[key] = (value as Node[]).map(withoutDescriptions);
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Flattens a schema to `path → {type, required}` so a failure names the first differing field. */
function schemaPaths(schema: Node, path = '', into = new Map<string, string>()): Map<string, string> {
  const facts = { ...schema };
  delete facts.properties;
  delete facts.items;
  delete facts.additionalProperties;
  if (facts.required) facts.required = [...facts.required].sort();
  into.set(path || '.', JSON.stringify(facts, Object.keys(facts).sort()));
  for (const [name, child] of Object.entries((schema.properties ?? {}) as Node)) schemaPaths(child, `${path}.${name}`, into);
  if (schema.items) schemaPaths(schema.items, `${path}[]`, into);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    schemaPaths(schema.additionalProperties, `${path}{}`, into);
  }
  return into;
}

const ours = new Map(platformCrds().map((crd) => [crd.metadata.name!, crd as Node]));

test('platformCrds returns exactly the iam, tenant and quota CRDs KubeSphere installs', () => {
  const expectedNames = EXPECTED.map((file) => readReference(file).metadata.name).sort();
  assert.deepEqual([...ours.keys()].sort(), expectedNames);
  for (const crd of ours.values()) {
    assert.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
    assert.equal(crd.kind, 'CustomResourceDefinition');
  }
});

for (const file of EXPECTED) {
  test(`CRD ${file} matches KubeSphere's`, () => {
    const reference = readReference(file);
    const crd = ours.get(reference.metadata.name);
    assert.ok(crd, `no CRD named ${reference.metadata.name}`);
    const spec = crd.spec as Node;
    assert.equal(spec.group, reference.spec.group);
    assert.equal(spec.scope, reference.spec.scope);
    assert.deepEqual(spec.names, reference.spec.names);
    assert.deepEqual(
      spec.versions.map((v: Node) => v.name),
      reference.spec.versions.map((v: Node) => v.name),
    );
    for (const [i, refVersion] of (reference.spec.versions as Node[]).entries()) {
      const version = spec.versions[i];
      const where = `${file} ${refVersion.name}`;
      assert.equal(version.served, refVersion.served, `${where} served`);
      assert.equal(version.storage, refVersion.storage, `${where} storage`);
      assert.equal(version.deprecated ?? false, refVersion.deprecated ?? false, `${where} deprecated`);
      assert.deepEqual(version.additionalPrinterColumns, refVersion.additionalPrinterColumns, `${where} printer columns`);
      assert.deepEqual(version.subresources, refVersion.subresources, `${where} subresources`);
      const expected = withoutDescriptions(refVersion.schema.openAPIV3Schema);
      const actual = version.schema.openAPIV3Schema;
      // Path by path first, for a readable failure; then the whole tree, for anything left.
      const expectedPaths = schemaPaths(expected);
      const actualPaths = schemaPaths(actual);
      for (const [path, facts] of expectedPaths) {
        assert.equal(actualPaths.get(path), facts, `${where}: schema at ${path}`);
      }
      for (const path of actualPaths.keys()) assert.ok(expectedPaths.has(path), `${where}: extra schema path ${path}`);
      assert.deepEqual(actual, expected, `${where}: schema`);
    }
  });
}

test('platformCrds returns independent copies', () => {
  const [first] = platformCrds();
  (first.spec as Node).group = 'mutated';
  assert.notEqual((platformCrds()[0].spec as Node).group, 'mutated');
});
