import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { definitionsResolver, validateAgainstSchema, type SchemaNode } from '@canopy/apimachinery';
import { buildDefinitions, builtinKinds, definitionNameFor } from '../src/openapi/definitions.js';
import { openApiV2, openApiV3GroupVersion, openApiV3Index } from '../src/openapi/documents.js';
import type { ResourceDefinition, Verb } from '../src/registry/types.js';

const definitions = buildDefinitions();
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

/** The upstream Kubernetes OpenAPI spec, read for comparison only (CI keeps `shared/` beside the checkout). */
const referencePath = fileURLToPath(new URL('../../../../shared/reference/kubernetes-openapi-v2.json', import.meta.url));
// A missing reference fails here, loudly: the comparison tests must never be skipped.
const reference: Record<string, SchemaNode> = (JSON.parse(readFileSync(referencePath, 'utf8')) as { definitions: Record<string, SchemaNode> })
  .definitions;

/** Definitions this project writes itself (kube-apiserver serves them, but its v2 spec does not list them). */
const notInUpstreamV2 = new Set(
  ['Table', 'TableColumnDefinition', 'TableRow', 'PartialObjectMetadata', 'PartialObjectMetadataList'].map((k) => `${META}.${k}`),
);

/**
 * Required lists where client-node (Kubernetes 1.34) and the reference spec differ on purpose:
 * roleRef.apiGroup is required by 1.34 and always validated by kube-apiserver.
 */
const requiredKeptStricter: Record<string, string[]> = { 'io.k8s.api.rbac.v1.RoleRef': ['apiGroup'] };

/** What strategic merge patch and server-side apply read from a node. */
const patchExtensions = [
  'x-kubernetes-patch-strategy',
  'x-kubernetes-patch-merge-key',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
] as const;

function extensions(node: SchemaNode | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of patchExtensions) if (node?.[key] !== undefined) out[key] = node[key];
  return out;
}

/** The structural part of a node: what it is, not how it is described. */
function shape(node: SchemaNode | undefined): unknown {
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(node).sort()) {
    if (key === 'description' || key === 'default') continue;
    const value = (node as Record<string, unknown>)[key];
    out[key] = key === 'items' || key === 'additionalProperties' ? shape(value as SchemaNode) : value;
  }
  return out;
}

describe('built-in definitions', () => {
  it('are built once and shared', () => {
    assert.equal(buildDefinitions(), definitions);
    assert.ok(Object.keys(definitions).length > 300, 'Object.keys(definitions).length > 300');
  });

  it('name every definition as kube-apiserver does', () => {
    const unknown = Object.keys(definitions).filter((name) => !reference![name] && !notInUpstreamV2.has(name));
    assert.deepEqual(unknown, []);
  });

  it('have the field types of the reference spec', () => {
    const mismatches: string[] = [];
    for (const [name, ours] of Object.entries(definitions)) {
      const theirs = reference![name];
      if (!theirs) continue;
      for (const [field, node] of Object.entries(ours.properties ?? {})) {
        const upstream = theirs.properties?.[field];
        if (!upstream) mismatches.push(`${name}.${field}: not in the reference`);
        else if (JSON.stringify(shape(node)) !== JSON.stringify(shape(upstream))) mismatches.push(`${name}.${field}`);
      }
    }
    assert.deepEqual(mismatches, []);
  });

  it('carry the patch and list metadata of the reference spec on every shared field and type', () => {
    const mismatches: string[] = [];
    let compared = 0;
    for (const [name, ours] of Object.entries(definitions)) {
      const theirs = reference![name];
      if (!theirs) continue;
      if (JSON.stringify(extensions(ours)) !== JSON.stringify(extensions(theirs))) mismatches.push(`${name} (type)`);
      for (const [field, node] of Object.entries(ours.properties ?? {})) {
        const upstream = theirs.properties?.[field];
        if (!upstream) continue;
        const sorted = (o: Record<string, unknown>) => JSON.stringify(Object.fromEntries(Object.entries(o).sort()));
        if (sorted(extensions(node)) !== sorted(extensions(upstream))) mismatches.push(`${name}.${field}`);
        if (Object.keys(extensions(upstream)).length) compared++;
      }
    }
    assert.deepEqual(mismatches, []);
    assert.ok(compared > 150, `only ${compared} annotated fields compared`);
  });

  it('require the fields the reference spec requires', () => {
    const mismatches: string[] = [];
    for (const [name, ours] of Object.entries(definitions)) {
      const theirs = reference![name];
      if (!theirs) continue;
      const expected = [...(theirs.required ?? []), ...(requiredKeptStricter[name] ?? [])].sort();
      const actual = [...(ours.required ?? [])].sort();
      if (JSON.stringify(actual) !== JSON.stringify(expected)) mismatches.push(`${name}: ${actual} vs ${expected}`);
    }
    assert.deepEqual(mismatches, []);
  });

  it('mark the lists strategic merge patch and apply merge by key', () => {
    const field = (definition: string, name: string) => definitions[definition]?.properties?.[name];
    const mergedBy = (definition: string, name: string) => {
      const node = field(definition, name)!;
      return [
        node['x-kubernetes-patch-strategy'],
        node['x-kubernetes-patch-merge-key'],
        node['x-kubernetes-list-type'],
        node['x-kubernetes-list-map-keys'],
      ];
    };
    assert.deepEqual(mergedBy('io.k8s.api.core.v1.PodSpec', 'containers'), ['merge', 'name', 'map', ['name']]);
    assert.deepEqual(mergedBy('io.k8s.api.core.v1.PodSpec', 'initContainers'), ['merge', 'name', 'map', ['name']]);
    assert.deepEqual(mergedBy('io.k8s.api.core.v1.PodSpec', 'volumes'), ['merge,retainKeys', 'name', 'map', ['name']]);
    assert.deepEqual(mergedBy('io.k8s.api.core.v1.PodSpec', 'imagePullSecrets'), ['merge', 'name', 'map', ['name']]);
    assert.deepEqual(mergedBy('io.k8s.api.core.v1.Container', 'env'), ['merge', 'name', 'map', ['name']]);
    assert.deepEqual(mergedBy('io.k8s.api.core.v1.Container', 'ports'), [
      'merge',
      'containerPort',
      'map',
      ['containerPort', 'protocol'],
    ]);
    assert.deepEqual(mergedBy('io.k8s.api.core.v1.Container', 'volumeMounts'), ['merge', 'mountPath', 'map', ['mountPath']]);
    assert.deepEqual(mergedBy('io.k8s.api.core.v1.ServiceSpec', 'ports'), ['merge', 'port', 'map', ['port', 'protocol']]);
    assert.deepEqual(mergedBy(`${META}.ObjectMeta`, 'ownerReferences'), ['merge', 'uid', 'map', ['uid']]);
    assert.deepEqual(mergedBy(`${META}.ObjectMeta`, 'finalizers'), ['merge', undefined, 'set', undefined]);
    assert.deepEqual(mergedBy('io.k8s.api.apps.v1.DeploymentStatus', 'conditions'), ['merge', 'type', 'map', ['type']]);
    assert.equal(field('io.k8s.api.core.v1.PodSpec', 'tolerations')!['x-kubernetes-list-type'], 'atomic');
    assert.equal(field('io.k8s.api.apps.v1.DeploymentSpec', 'strategy')!['x-kubernetes-patch-strategy'], 'retainKeys');
    assert.equal(field('io.k8s.api.core.v1.ContainerPort', 'protocol')!.default, 'TCP');
    assert.equal(definitions[`${META}.LabelSelector`]['x-kubernetes-map-type'], 'atomic');
  });

  it('require the fields kube-apiserver requires on the important types', () => {
    const required = (name: string) => [...(definitions[name].required ?? [])].sort();
    assert.deepEqual(required('io.k8s.api.core.v1.Container'), ['name']);
    assert.deepEqual(required('io.k8s.api.core.v1.PodSpec'), ['containers']);
    assert.deepEqual(required('io.k8s.api.apps.v1.DeploymentSpec'), ['selector', 'template']);
    assert.deepEqual(required('io.k8s.api.apps.v1.StatefulSetSpec'), ['selector', 'template']);
    assert.deepEqual(required('io.k8s.api.apps.v1.DaemonSetSpec'), ['selector', 'template']);
    assert.deepEqual(required('io.k8s.api.apps.v1.ReplicaSetSpec'), ['selector']);
    assert.deepEqual(required('io.k8s.api.batch.v1.JobSpec'), ['template']);
    assert.deepEqual(required('io.k8s.api.batch.v1.CronJobSpec'), ['jobTemplate', 'schedule']);
    assert.deepEqual(required('io.k8s.api.core.v1.ServicePort'), ['port']);
    assert.deepEqual(required(`${META}.ObjectMeta`), []);
    assert.deepEqual(required(`${META}.OwnerReference`), ['apiVersion', 'kind', 'name', 'uid']);
    assert.deepEqual(required(`${META}.LabelSelectorRequirement`), ['key', 'operator']);
    assert.deepEqual(required('io.k8s.api.core.v1.Volume'), ['name']);
    assert.deepEqual(required('io.k8s.api.core.v1.EnvVar'), ['name']);
    assert.deepEqual(required('io.k8s.api.core.v1.ContainerPort'), ['containerPort']);
    assert.deepEqual(required('io.k8s.api.core.v1.KeyToPath'), ['key', 'path']);
    assert.deepEqual(required('io.k8s.api.rbac.v1.RoleRef'), ['apiGroup', 'kind', 'name']);
    assert.deepEqual(required('io.k8s.api.rbac.v1.Subject'), ['kind', 'name']);
    assert.deepEqual(required('io.k8s.api.rbac.v1.PolicyRule'), ['verbs']);
    assert.deepEqual(required('io.k8s.api.networking.v1.HTTPIngressPath'), ['backend', 'pathType']);
  });

  it('reference Quantity and IntOrString where kube uses them', () => {
    const resources = definitions['io.k8s.api.core.v1.ResourceRequirements'].properties!;
    assert.equal(
      resources.limits.additionalProperties && (resources.limits.additionalProperties as SchemaNode).$ref,
      '#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity',
    );
    assert.equal(
      definitions['io.k8s.api.core.v1.ServicePort'].properties!.targetPort.$ref,
      '#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString',
    );
    assert.equal(definitions[`${META}.ObjectMeta`].properties!.creationTimestamp.$ref, `#/definitions/${META}.Time`);
  });

  it('describe types and fields for kubectl explain', () => {
    const deployment = definitions['io.k8s.api.apps.v1.DeploymentSpec'];
    assert.match(deployment.description ?? '', /specification of the desired behavior of the Deployment/);
    assert.match(deployment.properties!.replicas.description ?? '', /Number of desired pods/);
    assert.doesNotMatch(JSON.stringify(definitions['io.k8s.api.core.v1.PodSpec']), /\\'/);
  });

  it('give every top-level kind and its list a group-version-kind', () => {
    const kinds = builtinKinds();
    assert.ok(kinds.length >= 37, 'kinds.length >= 37');
    for (const { group, version, kind } of kinds) {
      const definition = definitions[definitionNameFor(group, version, kind)];
      assert.ok(definition, `${group}/${version} ${kind}`);
      assert.deepEqual(definition['x-kubernetes-group-version-kind'], [{ group, version, kind }]);
      const list = definitions[definitionNameFor(group, version, `${kind}List`)];
      if (list) assert.deepEqual(list['x-kubernetes-group-version-kind'], [{ group, version, kind: `${kind}List` }]);
    }
    assert.ok(definitions['io.k8s.api.apps.v1.DeploymentList'], 'definitions["io.k8s.api.apps.v1.DeploymentList"]');
    const deleteOptions = definitions[`${META}.DeleteOptions`]['x-kubernetes-group-version-kind']!;
    assert.ok(
      deleteOptions.some((g) => g.group === '' && g.version === 'v1'),
      'deleteOptions.some((g) => g.group === "" && g.version === "v1")',
    );
    assert.ok(
      deleteOptions.some((g) => g.group === 'apps' && g.version === 'v1'),
      'deleteOptions.some((g) => g.group === "apps" && g.version === "v1")',
    );
    for (const kind of ['Status', 'WatchEvent', 'APIResourceList'])
      assert.ok(definitions[`${META}.${kind}`]['x-kubernetes-group-version-kind']);
  });

  it('name kinds by group, meta kinds under apimachinery and CRDs by reversed group', () => {
    assert.equal(definitionNameFor('', 'v1', 'Pod'), 'io.k8s.api.core.v1.Pod');
    assert.equal(definitionNameFor('apps', 'v1', 'DeploymentList'), 'io.k8s.api.apps.v1.DeploymentList');
    assert.equal(definitionNameFor('rbac.authorization.k8s.io', 'v1', 'Role'), 'io.k8s.api.rbac.v1.Role');
    assert.equal(definitionNameFor('events.k8s.io', 'v1', 'Event'), 'io.k8s.api.events.v1.Event');
    assert.equal(
      definitionNameFor('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition'),
      'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition',
    );
    assert.equal(definitionNameFor('', 'v1', 'Status'), `${META}.Status`);
    assert.equal(definitionNameFor('apps', 'v1', 'DeleteOptions'), `${META}.DeleteOptions`);
    assert.equal(definitionNameFor('meta.k8s.io', 'v1', 'Table'), `${META}.Table`);
    assert.equal(definitionNameFor('iam.kubesphere.io', 'v1beta1', 'User'), 'io.kubesphere.iam.v1beta1.User');
  });
});

// ---------------------------------------------------------------------------------------------

const allVerbs: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const builtin = (
  group: string,
  version: string,
  kind: string,
  resource: string,
  namespaced: boolean,
  extra: Partial<ResourceDefinition> = {},
): ResourceDefinition => ({
  group,
  version,
  kind,
  listKind: `${kind}List`,
  resource,
  singular: kind.toLowerCase(),
  namespaced,
  verbs: allVerbs,
  schemaName: definitionNameFor(group, version, kind),
  ...extra,
});
const widget: ResourceDefinition = {
  group: 'example.com',
  version: 'v1',
  kind: 'Widget',
  listKind: 'WidgetList',
  resource: 'widgets',
  singular: 'widget',
  namespaced: true,
  verbs: allVerbs,
  subresources: { status: true, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
  schema: {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        required: ['size'],
        properties: { size: { type: 'integer', minimum: 1 }, color: { type: 'string', nullable: true, enum: ['red', 'blue'] } },
      },
      status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
  },
};
const resources: ResourceDefinition[] = [
  builtin('', 'v1', 'Pod', 'pods', true, { subresources: { status: true } }),
  builtin('', 'v1', 'Namespace', 'namespaces', false, { subresources: { status: true } }),
  builtin('', 'v1', 'ConfigMap', 'configmaps', true),
  builtin('apps', 'v1', 'Deployment', 'deployments', true, {
    subresources: { status: true, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
  }),
  builtin('policy', 'v1', 'Eviction', 'pods/eviction', true, { verbs: ['create'] }),
  widget,
];

/** Every `$ref` in a document, schema positions only. */
function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out);
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

type V3Document = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, SchemaNode> };
};

/** What kubectl's QueryParamVerifierV3 does: find a PATCH operation of the GVK and look for the query parameter. */
function patchSupportsQueryParam(
  document: V3Document,
  gvk: { group: string; version: string; kind: string },
  parameter: string,
): boolean | undefined {
  for (const item of Object.values(document.paths)) {
    const op = item.patch;
    const ext = op?.['x-kubernetes-group-version-kind'];
    if (!ext || ext.group !== gvk.group || ext.version !== gvk.version || ext.kind !== gvk.kind) continue;
    return (op.parameters ?? []).some((p: { name: string; in: string }) => p.name === parameter && p.in === 'query');
  }
  return undefined;
}

describe('OpenAPI v3 documents', () => {
  it('index every served group version with a content hash', () => {
    const index = openApiV3Index(resources, definitions);
    assert.deepEqual(Object.keys(index.paths), ['api/v1', 'apis/apps/v1', 'apis/example.com/v1', 'apis/policy/v1']);
    assert.match(index.paths['apis/apps/v1'].serverRelativeURL, /^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
    assert.deepEqual(openApiV3Index(resources, definitions), index, 'stable');
    const changed = resources.map((r) => (r === widget ? { ...widget, schema: { type: 'object' as const, properties: {} } } : r));
    const after = openApiV3Index(changed, definitions);
    assert.notEqual(after.paths['apis/example.com/v1'].serverRelativeURL, index.paths['apis/example.com/v1'].serverRelativeURL);
    assert.equal(after.paths['apis/apps/v1'].serverRelativeURL, index.paths['apis/apps/v1'].serverRelativeURL);
  });

  it('serve a group-version document in the OpenAPI 3.0 shape kubectl reads', () => {
    const document = openApiV3GroupVersion('apis/apps/v1', resources, definitions) as V3Document;
    assert.equal(document.openapi, '3.0.0');
    assert.equal(document.info.title, 'Kubernetes');
    assert.deepEqual(
      Object.keys(document.paths)
        .filter((p) => p.includes('deployments'))
        .sort(),
      [
        '/apis/apps/v1/deployments',
        '/apis/apps/v1/namespaces/{namespace}/deployments',
        '/apis/apps/v1/namespaces/{namespace}/deployments/{name}',
        '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale',
        '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status',
        '/apis/apps/v1/watch/deployments',
        '/apis/apps/v1/watch/namespaces/{namespace}/deployments',
        '/apis/apps/v1/watch/namespaces/{namespace}/deployments/{name}',
      ],
    );
    const item = document.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
    assert.deepEqual(Object.keys(item).sort(), ['delete', 'get', 'parameters', 'patch', 'put']);
    assert.deepEqual(Object.keys(item.patch.requestBody.content), [
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
      'application/apply-patch+yaml',
    ]);
    assert.deepEqual(item.patch['x-kubernetes-group-version-kind'], { group: 'apps', version: 'v1', kind: 'Deployment' });
    for (const [path, method] of [
      ['/apis/apps/v1/namespaces/{namespace}/deployments', 'post'],
      ['/apis/apps/v1/namespaces/{namespace}/deployments/{name}', 'put'],
      ['/apis/apps/v1/namespaces/{namespace}/deployments/{name}', 'patch'],
      ['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status', 'patch'],
    ]) {
      const names = document.paths[path][method].parameters.map((p: { name: string }) => p.name);
      for (const name of ['dryRun', 'fieldManager', 'fieldValidation'])
        assert.ok(names.includes(name), `${method} ${path} ${name}`);
    }
    const scale = document.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'];
    assert.deepEqual(scale.patch['x-kubernetes-group-version-kind'], { group: 'autoscaling', version: 'v1', kind: 'Scale' });
    const list = document.paths['/apis/apps/v1/namespaces/{namespace}/deployments'].get;
    for (const name of [
      'labelSelector',
      'fieldSelector',
      'limit',
      'continue',
      'watch',
      'resourceVersion',
      'allowWatchBookmarks',
      'sendInitialEvents',
    ]) {
      assert.ok(
        list.parameters.some((p: { name: string }) => p.name === name),
        name,
      );
    }
    assert.equal(
      list.responses['200'].content['application/json'].schema.$ref,
      '#/components/schemas/io.k8s.api.apps.v1.DeploymentList',
    );
  });

  it('declare fieldValidation on PATCH for every served kind, as kubectl checks it', () => {
    for (const r of resources.filter((r) => !r.resource.includes('/'))) {
      const key = r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
      const document = openApiV3GroupVersion(key, resources, definitions) as V3Document;
      assert.equal(patchSupportsQueryParam(document, r, 'fieldValidation'), true, r.kind);
      assert.equal(patchSupportsQueryParam(document, r, 'dryRun'), true, r.kind);
    }
  });

  it('carry every schema the paths reference, with v3 references and kinds marked by GVK', () => {
    const document = openApiV3GroupVersion('/openapi/v3/apis/apps/v1?hash=X', resources, definitions) as V3Document;
    const schemas = document.components.schemas;
    for (const ref of refsIn(document)) {
      assert.match(ref, /^#\/components\/schemas\//);
      assert.ok(schemas[ref.slice('#/components/schemas/'.length)], ref);
    }
    assert.deepEqual(schemas['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'], [
      { group: 'apps', version: 'v1', kind: 'Deployment' },
    ]);
    assert.ok(schemas['io.k8s.api.autoscaling.v1.Scale'], 'schemas["io.k8s.api.autoscaling.v1.Scale"]');
    assert.ok(schemas['io.k8s.api.core.v1.PodSpec'], 'schemas["io.k8s.api.core.v1.PodSpec"]');
    assert.equal(schemas['io.k8s.api.core.v1.Pod'], undefined, 'only what apps/v1 needs');
    // A reference with siblings is wrapped in allOf, the patch metadata staying on the field.
    const strategy = schemas['io.k8s.api.apps.v1.DeploymentSpec'].properties!.strategy;
    assert.deepEqual(strategy.allOf, [{ $ref: '#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy' }]);
    assert.equal(strategy['x-kubernetes-patch-strategy'], 'retainKeys');
    const containers = schemas['io.k8s.api.core.v1.PodSpec'].properties!.containers;
    assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
    assert.equal((containers.items as SchemaNode).$ref, '#/components/schemas/io.k8s.api.core.v1.Container');
    const deleteOptions = schemas[`${META}.DeleteOptions`]['x-kubernetes-group-version-kind']!;
    // Shared meta kinds belong to the group versions the document serves (and core).
    assert.deepEqual(deleteOptions, [
      { group: '', version: 'v1', kind: 'DeleteOptions' },
      { group: 'apps', version: 'v1', kind: 'DeleteOptions' },
    ]);
  });

  it('serve the core group under api/v1 with the pod log and eviction subresources', () => {
    const document = openApiV3GroupVersion('api/v1', resources, definitions) as V3Document;
    assert.ok(
      document.paths['/api/v1/namespaces/{namespace}/pods/{name}/log'].get,
      'document.paths["/api/v1/namespaces/{namespace}/pods/{name}/log"].get',
    );
    assert.ok(document.paths['/api/v1/namespaces'].post, 'cluster-scoped kinds have no namespace segment');
    assert.equal(document.paths['/api/v1/namespaces/{namespace}/namespaces'], undefined);
    assert.equal(
      document.paths['/api/v1/'].get.responses['200'].content['application/json'].schema.$ref,
      `#/components/schemas/${META}.APIResourceList`,
    );
    const policy = openApiV3GroupVersion('apis/policy/v1', resources, definitions) as V3Document;
    const eviction = policy.paths['/apis/policy/v1/namespaces/{namespace}/pods/{name}/eviction'];
    assert.ok(eviction?.post, 'eviction?.post');
    assert.equal(eviction.post.requestBody.content['*/*'].schema.$ref, '#/components/schemas/io.k8s.api.policy.v1.Eviction');
  });

  it('publish custom resources with their schema, metadata, list, GVK and no strategic merge patch', () => {
    const document = openApiV3GroupVersion('apis/example.com/v1', resources, definitions) as V3Document;
    const schemas = document.components.schemas;
    const kind = schemas['com.example.v1.Widget'];
    assert.deepEqual(kind['x-kubernetes-group-version-kind'], [{ group: 'example.com', version: 'v1', kind: 'Widget' }]);
    assert.deepEqual(kind.properties!.metadata.allOf, [{ $ref: `#/components/schemas/${META}.ObjectMeta` }]);
    assert.equal(kind.properties!.spec.properties!.size.minimum, 1);
    assert.equal(kind.properties!.spec.properties!.color.nullable, true);
    assert.deepEqual(schemas['com.example.v1.WidgetList']['x-kubernetes-group-version-kind'], [
      { group: 'example.com', version: 'v1', kind: 'WidgetList' },
    ]);
    const patch = document.paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}'].patch;
    assert.deepEqual(Object.keys(patch.requestBody.content), [
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/apply-patch+yaml',
    ]);
    assert.ok(
      document.paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/scale'].put,
      'document.paths["/apis/example.com/v1/namespaces/{namespace}/widgets...',
    );
    assert.equal(openApiV3GroupVersion('apis/example.com/v2', resources, definitions), undefined);
  });
});

describe('OpenAPI v2 document', () => {
  const document = openApiV2(resources, definitions) as {
    swagger: string;
    paths: Record<string, Record<string, any>>;
    definitions: Record<string, SchemaNode>;
  };

  it('is a swagger 2.0 document whose references all resolve', () => {
    assert.equal(document.swagger, '2.0');
    for (const ref of refsIn(document.paths).concat(refsIn(document.definitions))) {
      assert.match(ref, /^#\/definitions\//);
      assert.ok(document.definitions[ref.slice('#/definitions/'.length)], ref);
    }
  });

  it('declares inline query parameters and patch media types on operations', () => {
    const patch = document.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    assert.deepEqual(patch.consumes, [
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
      'application/apply-patch+yaml',
    ]);
    const names = patch.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`);
    assert.deepEqual(names, ['body:body', 'query:dryRun', 'query:fieldManager', 'query:fieldValidation', 'query:force']);
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: 'apps', version: 'v1', kind: 'Deployment' });
  });

  it('lists every served group version on the shared meta kinds', () => {
    const gvks = document.definitions[`${META}.DeleteOptions`]['x-kubernetes-group-version-kind']!;
    assert.deepEqual(
      gvks.map((g) => `${g.group}/${g.version}`),
      ['/v1', 'apps/v1', 'example.com/v1', 'policy/v1'],
    );
  });

  it('writes custom resource schemas in what swagger can say', () => {
    const color = document.definitions['com.example.v1.Widget'].properties!.spec.properties!.color;
    assert.equal(color.nullable, undefined);
    assert.equal(color.type, undefined, 'a nullable field loses its type so null validates client-side');
    assert.deepEqual(color.enum, ['red', 'blue']);
  });
});

describe('validating objects against the generated definitions', () => {
  const resolver = definitionsResolver(definitions);
  const schema: SchemaNode = { $ref: '#/definitions/io.k8s.api.apps.v1.Deployment' };

  /** A realistic Deployment of about 10 KB, as kubectl sends it. */
  function bigDeployment(): Record<string, unknown> {
    const container = (i: number) => ({
      name: `app-${i}`,
      image: `registry.example.com/team/app-${i}:1.2.${i}`,
      imagePullPolicy: 'IfNotPresent',
      command: ['/bin/app', '--serve'],
      args: ['--port=8080', '--log-level=info', `--id=${i}`],
      ports: [
        { name: 'http', containerPort: 8080, protocol: 'TCP' },
        { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
      ],
      env: Array.from({ length: 8 }, (_, j) => ({ name: `VAR_${j}`, value: `value-${j}` })).concat([
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } } as never,
      ]),
      resources: { limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: 0.25, memory: '256Mi' } },
      volumeMounts: [{ name: 'config', mountPath: '/etc/app', readOnly: true }],
      livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 10, periodSeconds: 10 },
      readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 },
      securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    });
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        namespace: 'default',
        creationTimestamp: null,
        labels: { app: 'web', tier: 'frontend' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(3000) },
      },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend'] }] },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
        template: {
          metadata: { creationTimestamp: null, labels: { app: 'web', tier: 'frontend' } },
          spec: {
            containers: [container(1), container(2), container(3), container(4), container(5)],
            initContainers: [{ name: 'init', image: 'busybox', command: ['sh', '-c', 'true'] }],
            volumes: [{ name: 'config', configMap: { name: 'web-config', items: [{ key: 'a', path: 'a.conf' }] } }],
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 100,
                    podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'web' } } },
                  },
                ],
              },
            },
            tolerations: [{ key: 'node-role', operator: 'Exists', effect: 'NoSchedule' }],
            nodeSelector: { 'kubernetes.io/os': 'linux' },
          },
        },
      },
      status: {},
    };
  }

  it('accepts a realistic Deployment, dropping only the nulls', () => {
    const object = bigDeployment();
    const size = JSON.stringify(object).length;
    assert.ok(size > 9_000 && size < 12_000, `${size} bytes`);
    const result = validateAgainstSchema(object, schema, resolver, { unknownFields: 'Strict' });
    assert.deepEqual(result.causes, []);
    assert.equal((result.value as { metadata: Record<string, unknown> }).metadata.creationTimestamp, undefined);
  });

  it('finds type errors, missing fields and unknown fields deep inside', () => {
    const object = bigDeployment();
    const spec = (object.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }).template.spec;
    spec.containers[1].ports = [{ containerPort: '80' }];
    spec.containers[2].imagePolicy = 'Always';
    delete spec.containers[0].name;
    const result = validateAgainstSchema(object, schema, resolver, { unknownFields: 'Strict' });
    assert.deepEqual(
      result.causes.map((c) => `${c.field}: ${c.message}`),
      [
        'spec.template.spec.containers[0].name: Required value',
        'spec.template.spec.containers[1].ports[0].containerPort: Invalid value: "string": spec.template.spec.containers[1].ports[0].containerPort in body must be of type integer: "string"',
        'spec.template.spec.containers[2].imagePolicy: unknown field "spec.template.spec.containers[2].imagePolicy"',
      ],
    );
  });

  it('validates a 10 KB Deployment in well under a millisecond once warm', () => {
    const object = bigDeployment();
    for (let i = 0; i < 50; i++) validateAgainstSchema(object, schema, resolver, { unknownFields: 'Strict' });
    const runs = 300;
    const start = performance.now();
    for (let i = 0; i < runs; i++) validateAgainstSchema(object, schema, resolver, { unknownFields: 'Strict' });
    const average = (performance.now() - start) / runs;
    assert.ok(average < 1, `average ${average.toFixed(3)} ms`);
  });
});
