/**
 * The OpenAPI documents kube-apiserver publishes, generated from the registry:
 * `/openapi/v2` (one swagger document) and `/openapi/v3` (an index, then one document per group
 * version). kubectl reads them to validate, to `explain`, to compute strategic merge patches,
 * and to decide whether the server validates fields itself: a PATCH operation declaring the
 * `fieldValidation` query parameter makes kubectl ≥1.27 skip client-side validation and send
 * `fieldValidation=Strict`.
 *
 * Paths and operations follow kube-apiserver's (operation ids, `x-kubernetes-action`,
 * `x-kubernetes-group-version-kind`, query parameters, media types); definitions are the
 * built-in ones plus one per CRD version (its schema with apiVersion, kind and ObjectMeta added).
 */
import { createHash } from 'node:crypto';
import type { SchemaNode } from '@canopy/apimachinery';
import type { ResourceDefinition } from '../registry/types.js';
import { buildDefinitions, definitionNameFor } from './definitions.js';

type GroupVersionKind = { group: string; version: string; kind: string };
type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const OBJECT_META = `${META}.ObjectMeta`;
const LIST_META = `${META}.ListMeta`;
const STATUS = `${META}.Status`;
const DELETE_OPTIONS = `${META}.DeleteOptions`;
const WATCH_EVENT = `${META}.WatchEvent`;
const PATCH = `${META}.Patch`;
const API_RESOURCE_LIST = `${META}.APIResourceList`;
const SCALE = 'io.k8s.api.autoscaling.v1.Scale';
const SCALE_GVK: GroupVersionKind = { group: 'autoscaling', version: 'v1', kind: 'Scale' };

const JSON_TYPES = ['application/json', 'application/yaml'];
const BUILTIN_TYPES = [...JSON_TYPES, 'application/vnd.kubernetes.protobuf'];
const WATCH_TYPES = ['application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'];
const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];
/** Custom resources have no Go struct to carry patch strategies: kube-apiserver refuses strategic merge patch for them. */
const CUSTOM_PATCH_TYPES = PATCH_TYPES.filter((t) => t !== 'application/strategic-merge-patch+json');

// ---------------------------------------------------------------------------------------------
// Parameters

interface Parameter {
  name: string;
  in: 'query' | 'path';
  type: 'string' | 'boolean' | 'integer';
  description: string;
  required?: boolean;
}

const query = (name: string, type: Parameter['type'], description: string): Parameter => ({
  name,
  in: 'query',
  type,
  description,
});

const params = {
  pretty: query('pretty', 'string', "If 'true', then the output is pretty printed."),
  dryRun: query(
    'dryRun',
    'string',
    'When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed',
  ),
  fieldManager: query(
    'fieldManager',
    'string',
    'fieldManager is a name associated with the actor or entity that is making these changes. Required for apply patches, optional otherwise.',
  ),
  fieldValidation: query(
    'fieldValidation',
    'string',
    'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: unknown fields are silently dropped. - Warn: each unknown field is dropped and reported in a Warning header. - Strict: the request fails with a BadRequest error listing the unknown fields.',
  ),
  force: query(
    'force',
    'boolean',
    'Force is going to "force" Apply requests: the caller takes over fields other managers own. Must be unset for non-apply patches.',
  ),
  gracePeriodSeconds: query(
    'gracePeriodSeconds',
    'integer',
    'The duration in seconds before the object should be deleted. Zero means delete immediately.',
  ),
  orphanDependents: query('orphanDependents', 'boolean', 'Deprecated: use propagationPolicy. Whether dependents are orphaned.'),
  propagationPolicy: query(
    'propagationPolicy',
    'string',
    "Whether and how garbage collection will be performed: 'Orphan', 'Background' or 'Foreground'.",
  ),
  allowWatchBookmarks: query('allowWatchBookmarks', 'boolean', 'allowWatchBookmarks requests watch events with type "BOOKMARK".'),
  continue: query(
    'continue',
    'string',
    'The continue token returned by a previous list call with the same parameters, to fetch the next page.',
  ),
  fieldSelector: query(
    'fieldSelector',
    'string',
    'A selector to restrict the list of returned objects by their fields. Defaults to everything.',
  ),
  labelSelector: query(
    'labelSelector',
    'string',
    'A selector to restrict the list of returned objects by their labels. Defaults to everything.',
  ),
  limit: query('limit', 'integer', 'The maximum number of items to return; a continue token is returned when more remain.'),
  resourceVersion: query(
    'resourceVersion',
    'string',
    'Which version of the state the request is served from: unset means the latest, "0" any.',
  ),
  resourceVersionMatch: query(
    'resourceVersionMatch',
    'string',
    'How resourceVersion applies to list calls: NotOlderThan or Exact.',
  ),
  sendInitialEvents: query(
    'sendInitialEvents',
    'boolean',
    'With watch=true, start the watch with synthetic ADDED events for the current state, then a bookmark.',
  ),
  timeoutSeconds: query('timeoutSeconds', 'integer', 'Timeout for the list/watch call, whatever the activity.'),
  watch: query(
    'watch',
    'boolean',
    'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.',
  ),
  container: query(
    'container',
    'string',
    'The container for which to stream logs. Defaults to the only container if there is one.',
  ),
  follow: query('follow', 'boolean', 'Follow the log stream of the pod.'),
  previous: query('previous', 'boolean', 'Return the logs of the previous instance of the container.'),
  sinceSeconds: query('sinceSeconds', 'integer', 'Only return logs newer than this many seconds.'),
  tailLines: query('tailLines', 'integer', 'The number of lines from the end of the logs to show.'),
  timestamps: query('timestamps', 'boolean', 'Prefix every line of log output with an RFC 3339 timestamp.'),
  limitBytes: query('limitBytes', 'integer', 'The number of bytes to read from the server before terminating the log output.'),
};

const listParams = [
  params.allowWatchBookmarks,
  params.continue,
  params.fieldSelector,
  params.labelSelector,
  params.limit,
  params.resourceVersion,
  params.resourceVersionMatch,
  params.sendInitialEvents,
  params.timeoutSeconds,
  params.watch,
];
const writeParams = [params.dryRun, params.fieldManager, params.fieldValidation];
const patchParams = [params.dryRun, params.fieldManager, params.fieldValidation, params.force];
const deleteParams = [params.dryRun, params.gracePeriodSeconds, params.orphanDependents, params.propagationPolicy];
const deleteCollectionParams = [
  ...deleteParams,
  ...listParams.filter((p) => p !== params.watch && p !== params.allowWatchBookmarks),
];

const namespaceParam: Parameter = {
  name: 'namespace',
  in: 'path',
  type: 'string',
  required: true,
  description: 'object name and auth scope, such as for teams and projects',
};
const nameParam = (kind: string): Parameter => ({
  name: 'name',
  in: 'path',
  type: 'string',
  required: true,
  description: `name of the ${kind}`,
});

// ---------------------------------------------------------------------------------------------
// An intermediate model of paths and operations, written out as v2 or v3

interface Operation {
  method: Method;
  action: string;
  operationId: string;
  description: string;
  parameters: Parameter[];
  /** Definition name of the request body. */
  body?: string;
  bodyRequired?: boolean;
  consumes: string[];
  produces: string[];
  responses: Array<{ code: string; description: string; schema?: string }>;
  gvk?: GroupVersionKind;
  tag: string;
}

interface PathItem {
  parameters: Parameter[];
  operations: Operation[];
}

/** `rbac.authorization.k8s.io` → `RbacAuthorization`, `example.com` → `ExampleCom` (kube's operation id words). */
function groupWords(group: string): string {
  if (!group) return 'Core';
  return group
    .replace(/\.k8s\.io$/, '')
    .split(/[.-]/)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

function groupVersionPrefix(group: string, version: string): string {
  return `${groupWords(group)}${version.charAt(0).toUpperCase()}${version.slice(1)}`;
}

function tagOf(group: string, version: string): string {
  const words = groupWords(group);
  return `${words.charAt(0).toLowerCase()}${words.slice(1)}_${version}`;
}

function rootPath(group: string, version: string): string {
  return group ? `/apis/${group}/${version}` : `/api/${version}`;
}

/** The document key of a group version in the v3 index: `api/v1`, `apis/apps/v1`. */
function groupVersionKey(group: string, version: string): string {
  return rootPath(group, version).slice(1);
}

function isCustom(resource: ResourceDefinition): boolean {
  return resource.schema !== undefined;
}

function kindDefinitionName(resource: ResourceDefinition): string {
  if (isCustom(resource)) return definitionNameFor(resource.group, resource.version, resource.kind);
  return resource.schemaName ?? definitionNameFor(resource.group, resource.version, resource.kind);
}

function listDefinitionName(resource: ResourceDefinition): string {
  const kindName = kindDefinitionName(resource);
  return `${kindName.slice(0, kindName.lastIndexOf('.') + 1)}${resource.listKind}`;
}

function addOperation(paths: Map<string, PathItem>, path: string, parameters: Parameter[], operation: Operation): void {
  let item = paths.get(path);
  if (!item) {
    item = { parameters, operations: [] };
    paths.set(path, item);
  }
  item.operations.push(operation);
}

/** Every path and operation kube-apiserver serves for one resource (or subresource) definition. */
function resourcePaths(resource: ResourceDefinition, all: ResourceDefinition[], paths: Map<string, PathItem>): void {
  const { group, version, kind } = resource;
  const verbs = new Set(resource.verbs);
  const prefix = groupVersionPrefix(group, version);
  const tag = tagOf(group, version);
  const root = rootPath(group, version);
  const produces = isCustom(resource) ? JSON_TYPES : BUILTIN_TYPES;
  const gvk = { group, version, kind };
  const kindRef = kindDefinitionName(resource);
  const listRef = listDefinitionName(resource);
  const scope = resource.namespaced ? 'Namespaced' : '';
  const unauthorized = { code: '401', description: 'Unauthorized' };
  const ok = (schema: string) => ({ code: '200', description: 'OK', schema });
  const created = (schema: string) => ({ code: '201', description: 'Created', schema });
  const accepted = (schema: string) => ({ code: '202', description: 'Accepted', schema });
  const op = (
    o: Omit<Operation, 'tag' | 'produces' | 'consumes'> & Partial<Pick<Operation, 'produces' | 'consumes'>>,
  ): Operation => ({
    consumes: ['*/*'],
    produces,
    tag,
    ...o,
  });

  const [baseResource, subresource] = resource.resource.split('/', 2);
  const scopePath = resource.namespaced ? `${root}/namespaces/{namespace}` : root;
  const scopeParams = resource.namespaced ? [namespaceParam] : [];
  const collection = `${scopePath}/${baseResource}`;
  const item = `${collection}/{name}`;

  if (subresource) {
    // A subresource served as its own kind (pods/eviction, pods/binding): operations on it only.
    const parent = all.find((r) => r.group === group && r.version === version && r.resource === baseResource);
    const parentKind = parent?.kind ?? kind;
    const words = `${subresource.charAt(0).toUpperCase()}${subresource.slice(1)}`;
    const itemParams = [nameParam(words), ...scopeParams, params.pretty];
    const path = `${item}/${subresource}`;
    if (verbs.has('create')) {
      addOperation(
        paths,
        path,
        itemParams,
        op({
          method: 'post',
          action: 'post',
          operationId: `create${prefix}${scope}${parentKind}${words}`,
          description: `create ${words.toLowerCase()} of a ${parentKind}`,
          parameters: writeParams,
          body: kindRef,
          bodyRequired: true,
          responses: [ok(kindRef), created(kindRef), accepted(kindRef), unauthorized],
          gvk,
        }),
      );
    }
    if (verbs.has('get')) {
      addOperation(
        paths,
        path,
        itemParams,
        op({
          method: 'get',
          action: 'get',
          operationId: `read${prefix}${scope}${parentKind}${words}`,
          description: `read ${words.toLowerCase()} of the specified ${parentKind}`,
          parameters: [],
          responses: [ok(kindRef), unauthorized],
          gvk,
        }),
      );
    }
    return;
  }

  const collectionParams = [...scopeParams, params.pretty];
  const itemParams = [nameParam(kind), ...scopeParams, params.pretty];

  if (verbs.has('list')) {
    addOperation(
      paths,
      collection,
      collectionParams,
      op({
        method: 'get',
        action: 'list',
        operationId: `list${prefix}${scope}${kind}`,
        description: `list or watch objects of kind ${kind}`,
        parameters: listParams,
        produces: [...produces, ...WATCH_TYPES],
        responses: [ok(listRef), unauthorized],
        gvk,
      }),
    );
    if (resource.namespaced) {
      addOperation(
        paths,
        `${root}/${baseResource}`,
        [params.pretty],
        op({
          method: 'get',
          action: 'list',
          operationId: `list${prefix}${kind}ForAllNamespaces`,
          description: `list or watch objects of kind ${kind}`,
          parameters: listParams,
          produces: [...produces, ...WATCH_TYPES],
          responses: [ok(listRef), unauthorized],
          gvk,
        }),
      );
    }
  }
  if (verbs.has('create')) {
    addOperation(
      paths,
      collection,
      collectionParams,
      op({
        method: 'post',
        action: 'post',
        operationId: `create${prefix}${scope}${kind}`,
        description: `create a ${kind}`,
        parameters: writeParams,
        body: kindRef,
        bodyRequired: true,
        responses: [ok(kindRef), created(kindRef), accepted(kindRef), unauthorized],
        gvk,
      }),
    );
  }
  if (verbs.has('deletecollection')) {
    addOperation(
      paths,
      collection,
      collectionParams,
      op({
        method: 'delete',
        action: 'deletecollection',
        operationId: `delete${prefix}Collection${scope}${kind}`,
        description: `delete collection of ${kind}`,
        parameters: deleteCollectionParams,
        body: DELETE_OPTIONS,
        responses: [ok(STATUS), unauthorized],
        gvk,
      }),
    );
  }
  if (verbs.has('get')) {
    addOperation(
      paths,
      item,
      itemParams,
      op({
        method: 'get',
        action: 'get',
        operationId: `read${prefix}${scope}${kind}`,
        description: `read the specified ${kind}`,
        parameters: [],
        responses: [ok(kindRef), unauthorized],
        gvk,
      }),
    );
  }
  if (verbs.has('update')) {
    addOperation(
      paths,
      item,
      itemParams,
      op({
        method: 'put',
        action: 'put',
        operationId: `replace${prefix}${scope}${kind}`,
        description: `replace the specified ${kind}`,
        parameters: writeParams,
        body: kindRef,
        bodyRequired: true,
        responses: [ok(kindRef), created(kindRef), unauthorized],
        gvk,
      }),
    );
  }
  if (verbs.has('patch')) {
    addOperation(
      paths,
      item,
      itemParams,
      op({
        method: 'patch',
        action: 'patch',
        operationId: `patch${prefix}${scope}${kind}`,
        description: `partially update the specified ${kind}`,
        parameters: patchParams,
        body: PATCH,
        bodyRequired: true,
        consumes: isCustom(resource) ? CUSTOM_PATCH_TYPES : PATCH_TYPES,
        responses: [ok(kindRef), created(kindRef), unauthorized],
        gvk,
      }),
    );
  }
  if (verbs.has('delete')) {
    addOperation(
      paths,
      item,
      itemParams,
      op({
        method: 'delete',
        action: 'delete',
        operationId: `delete${prefix}${scope}${kind}`,
        description: `delete a ${kind}`,
        parameters: deleteParams,
        body: DELETE_OPTIONS,
        responses: [ok(STATUS), accepted(STATUS), unauthorized],
        gvk,
      }),
    );
  }
  if (verbs.has('watch')) {
    const watchProduces = [...produces, ...WATCH_TYPES];
    addOperation(
      paths,
      `${scopePath.replace(root, `${root}/watch`)}/${baseResource}`,
      collectionParams,
      op({
        method: 'get',
        action: 'watchlist',
        operationId: `watch${prefix}${scope}${kind}List`,
        description: `watch individual changes to a list of ${kind}. deprecated: use the 'watch' parameter with a list operation instead.`,
        parameters: listParams,
        produces: watchProduces,
        responses: [ok(WATCH_EVENT), unauthorized],
        gvk,
      }),
    );
    addOperation(
      paths,
      `${scopePath.replace(root, `${root}/watch`)}/${baseResource}/{name}`,
      itemParams,
      op({
        method: 'get',
        action: 'watch',
        operationId: `watch${prefix}${scope}${kind}`,
        description: `watch changes to an object of kind ${kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`,
        parameters: listParams,
        produces: watchProduces,
        responses: [ok(WATCH_EVENT), unauthorized],
        gvk,
      }),
    );
    if (resource.namespaced) {
      addOperation(
        paths,
        `${root}/watch/${baseResource}`,
        [params.pretty],
        op({
          method: 'get',
          action: 'watchlist',
          operationId: `watch${prefix}${kind}ListForAllNamespaces`,
          description: `watch individual changes to a list of ${kind}. deprecated: use the 'watch' parameter with a list operation instead.`,
          parameters: listParams,
          produces: watchProduces,
          responses: [ok(WATCH_EVENT), unauthorized],
          gvk,
        }),
      );
    }
  }

  const subresources: Array<{ name: string; schema: string; gvk: GroupVersionKind; words: string }> = [];
  if (resource.subresources?.status) subresources.push({ name: 'status', schema: kindRef, gvk, words: 'Status' });
  if (resource.subresources?.scale) subresources.push({ name: 'scale', schema: SCALE, gvk: SCALE_GVK, words: 'Scale' });
  for (const sub of subresources) {
    const path = `${item}/${sub.name}`;
    const subParams = [nameParam(sub.words), ...scopeParams, params.pretty];
    addOperation(
      paths,
      path,
      subParams,
      op({
        method: 'get',
        action: 'get',
        operationId: `read${prefix}${scope}${kind}${sub.words}`,
        description: `read ${sub.name} of the specified ${kind}`,
        parameters: [],
        responses: [ok(sub.schema), unauthorized],
        gvk: sub.gvk,
      }),
    );
    addOperation(
      paths,
      path,
      subParams,
      op({
        method: 'put',
        action: 'put',
        operationId: `replace${prefix}${scope}${kind}${sub.words}`,
        description: `replace ${sub.name} of the specified ${kind}`,
        parameters: writeParams,
        body: sub.schema,
        bodyRequired: true,
        responses: [ok(sub.schema), created(sub.schema), unauthorized],
        gvk: sub.gvk,
      }),
    );
    addOperation(
      paths,
      path,
      subParams,
      op({
        method: 'patch',
        action: 'patch',
        operationId: `patch${prefix}${scope}${kind}${sub.words}`,
        description: `partially update ${sub.name} of the specified ${kind}`,
        parameters: patchParams,
        body: PATCH,
        bodyRequired: true,
        consumes: isCustom(resource) ? CUSTOM_PATCH_TYPES : PATCH_TYPES,
        responses: [ok(sub.schema), created(sub.schema), unauthorized],
        gvk: sub.gvk,
      }),
    );
  }

  // Pod logs are served by the pod registry itself: kubectl logs needs no definition, but explain and clients list the path.
  if (!group && baseResource === 'pods' && verbs.has('get') && !all.some((r) => !r.group && r.resource === 'pods/log')) {
    addOperation(
      paths,
      `${item}/log`,
      [nameParam('Pod'), ...scopeParams, params.pretty],
      op({
        method: 'get',
        action: 'get',
        operationId: `read${prefix}${scope}PodLog`,
        description: 'read log of the specified Pod',
        parameters: [
          params.container,
          params.follow,
          params.limitBytes,
          params.previous,
          params.sinceSeconds,
          params.tailLines,
          params.timestamps,
        ],
        produces: ['text/plain', 'application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'],
        responses: [{ code: '200', description: 'OK', schema: undefined }, unauthorized],
        gvk,
      }),
    );
  }
}

function discoveryPath(group: string, version: string, paths: Map<string, PathItem>): void {
  addOperation(paths, `${rootPath(group, version)}/`, [], {
    method: 'get',
    action: 'get',
    operationId: `get${groupVersionPrefix(group, version)}APIResources`,
    description: 'get available resources',
    parameters: [],
    consumes: JSON_TYPES,
    produces: BUILTIN_TYPES,
    responses: [
      { code: '200', description: 'OK', schema: API_RESOURCE_LIST },
      { code: '401', description: 'Unauthorized' },
    ],
    tag: tagOf(group, version),
  });
}

function buildPaths(resources: ResourceDefinition[], all: ResourceDefinition[]): Map<string, PathItem> {
  const paths = new Map<string, PathItem>();
  const groupVersions = new Map<string, { group: string; version: string }>();
  for (const r of resources) groupVersions.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  for (const { group, version } of [...groupVersions.values()].sort(compareGroupVersion)) discoveryPath(group, version, paths);
  for (const r of [...resources].sort((a, b) =>
    compareStrings(`${a.group}/${a.version}/${a.resource}`, `${b.group}/${b.version}/${b.resource}`),
  )) {
    resourcePaths(r, all, paths);
  }
  return paths;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareGroupVersion(a: { group: string; version: string }, b: { group: string; version: string }): number {
  return compareStrings(`${a.group}/${a.version}`, `${b.group}/${b.version}`);
}

// ---------------------------------------------------------------------------------------------
// Definitions: built-ins, CRDs, and the closure a document needs

const TYPE_META_DESCRIPTIONS = {
  apiVersion:
    'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.',
  kind: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. In CamelCase.',
};

/** A CRD version's schema as a definition: apiVersion, kind and metadata are always part of a resource. */
function customResourceSchema(resource: ResourceDefinition): SchemaNode {
  const schema = resource.schema ?? {};
  return {
    ...schema,
    type: 'object',
    properties: {
      ...(schema.properties ?? {}),
      apiVersion: { type: 'string', description: TYPE_META_DESCRIPTIONS.apiVersion },
      kind: { type: 'string', description: TYPE_META_DESCRIPTIONS.kind },
      metadata: { $ref: `#/definitions/${OBJECT_META}`, description: "Standard object's metadata." },
    },
    'x-kubernetes-group-version-kind': [{ group: resource.group, version: resource.version, kind: resource.kind }],
  };
}

function listSchema(resource: ResourceDefinition, itemName: string): SchemaNode {
  return {
    type: 'object',
    description: `${resource.listKind} is a list of ${resource.kind}`,
    required: ['items'],
    properties: {
      apiVersion: { type: 'string', description: TYPE_META_DESCRIPTIONS.apiVersion },
      items: {
        type: 'array',
        description: `List of ${resource.resource.split('/')[0]}.`,
        items: { $ref: `#/definitions/${itemName}` },
      },
      kind: { type: 'string', description: TYPE_META_DESCRIPTIONS.kind },
      metadata: { $ref: `#/definitions/${LIST_META}`, description: 'Standard list metadata.' },
    },
    'x-kubernetes-group-version-kind': [{ group: resource.group, version: resource.version, kind: resource.listKind }],
  };
}

/** A kind the built-in definitions do not know: published as an open object so clients still find it by GVK. */
function openSchema(gvk: GroupVersionKind): SchemaNode {
  return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, 'x-kubernetes-group-version-kind': [gvk] };
}

/** Definitions the served resources add or replace (CRD kinds and lists, GVKs of shared meta kinds). */
function resourceDefinitions(resources: ResourceDefinition[], definitions: Record<string, SchemaNode>): Map<string, SchemaNode> {
  const extra = new Map<string, SchemaNode>();
  for (const r of resources) {
    if (r.resource.includes('/')) {
      const name = kindDefinitionName(r);
      if (!definitions[name]) extra.set(name, openSchema({ group: r.group, version: r.version, kind: r.kind }));
      continue;
    }
    const kindName = kindDefinitionName(r);
    const listName = listDefinitionName(r);
    if (isCustom(r)) {
      extra.set(kindName, customResourceSchema(r));
      extra.set(listName, listSchema(r, kindName));
      continue;
    }
    if (!definitions[kindName]) extra.set(kindName, openSchema({ group: r.group, version: r.version, kind: r.kind }));
    if (!definitions[listName]) extra.set(listName, listSchema(r, kindName));
  }
  // DeleteOptions, Status and WatchEvent are kinds of every served group version.
  const groupVersions = new Map<string, { group: string; version: string }>([['/v1', { group: '', version: 'v1' }]]);
  for (const r of resources) groupVersions.set(`${r.group}/${r.version}`, { group: r.group, version: r.version });
  const sorted = [...groupVersions.values()].sort(compareGroupVersion);
  for (const kind of ['DeleteOptions', 'Status', 'WatchEvent']) {
    const name = `${META}.${kind}`;
    const base = definitions[name];
    if (!base) continue;
    extra.set(name, {
      ...base,
      'x-kubernetes-group-version-kind': sorted.map(({ group, version }) => ({ group, version, kind })),
    });
  }
  return extra;
}

function definitionRef(ref: string | undefined): string | undefined {
  return typeof ref === 'string' && ref.startsWith('#/definitions/') ? ref.slice('#/definitions/'.length) : undefined;
}

/** Definition names a schema refers to directly (schema-aware: a property named `$ref` is a property). */
function directReferences(node: SchemaNode | undefined, out: Set<string>, depth = 0): void {
  if (!node || typeof node !== 'object' || depth > 256) return;
  const name = definitionRef(node.$ref);
  if (name) out.add(name);
  if (node.properties) for (const child of Object.values(node.properties)) directReferences(child, out, depth + 1);
  if (node.items && typeof node.items === 'object') directReferences(node.items, out, depth + 1);
  if (node.additionalProperties && typeof node.additionalProperties === 'object')
    directReferences(node.additionalProperties, out, depth + 1);
  for (const list of [node.allOf, node.anyOf, node.oneOf])
    if (Array.isArray(list)) for (const child of list) directReferences(child, out, depth + 1);
  if (node.not) directReferences(node.not, out, depth + 1);
}

const referenceCache = new WeakMap<SchemaNode, string[]>();

function referencesOf(node: SchemaNode): string[] {
  let refs = referenceCache.get(node);
  if (!refs) {
    const set = new Set<string>();
    directReferences(node, set);
    refs = [...set];
    referenceCache.set(node, refs);
  }
  return refs;
}

/** The definitions a set of paths needs, by name, sorted; shared meta kinds as the resources make them. */
function definitionClosure(
  paths: Map<string, PathItem>,
  resources: ResourceDefinition[],
  definitions: Record<string, SchemaNode>,
): Array<[string, SchemaNode]> {
  const extra = resourceDefinitions(resources, definitions);
  const lookup = (name: string): SchemaNode | undefined => extra.get(name) ?? definitions[name];
  const pending: string[] = [];
  for (const item of paths.values()) {
    for (const operation of item.operations) {
      if (operation.body) pending.push(operation.body);
      for (const response of operation.responses) if (response.schema) pending.push(response.schema);
    }
  }
  const seen = new Set<string>();
  while (pending.length) {
    const name = pending.pop()!;
    if (seen.has(name)) continue;
    const node = lookup(name);
    if (!node) continue;
    seen.add(name);
    pending.push(...referencesOf(node));
  }
  return [...seen].sort(compareStrings).map((name) => [name, lookup(name)!]);
}

// ---------------------------------------------------------------------------------------------
// Writers

function v2Parameter(parameter: Parameter): Record<string, unknown> {
  const out: Record<string, unknown> = {
    description: parameter.description,
    in: parameter.in,
    name: parameter.name,
    type: parameter.type,
  };
  if (parameter.required) out.required = true;
  out.uniqueItems = true;
  return out;
}

function v2Operation(operation: Operation): Record<string, unknown> {
  const parameters: Array<Record<string, unknown>> = [];
  if (operation.body) {
    const body: Record<string, unknown> = { in: 'body', name: 'body', schema: { $ref: `#/definitions/${operation.body}` } };
    if (operation.bodyRequired) body.required = true;
    parameters.push(body);
  }
  parameters.push(...operation.parameters.map(v2Parameter));
  const responses: Record<string, unknown> = {};
  for (const response of operation.responses) {
    responses[response.code] = response.schema
      ? { description: response.description, schema: { $ref: `#/definitions/${response.schema}` } }
      : { description: response.description, ...(response.code === '200' ? { schema: { type: 'string' } } : {}) };
  }
  const out: Record<string, unknown> = {
    consumes: operation.consumes,
    description: operation.description,
    operationId: operation.operationId,
  };
  if (parameters.length) out.parameters = parameters;
  out.produces = operation.produces;
  out.responses = responses;
  out.schemes = ['https'];
  out.tags = [operation.tag];
  out['x-kubernetes-action'] = operation.action;
  if (operation.gvk) out['x-kubernetes-group-version-kind'] = operation.gvk;
  return out;
}

/** OpenAPI v2 drops what swagger cannot say: `nullable` (with the type it qualifies) and the combinators CRDs use for value validation. */
function toV2Schema(node: SchemaNode, depth = 0): SchemaNode {
  if (depth > 256 || !node || typeof node !== 'object') return node;
  const out: SchemaNode = { ...node };
  if (out.nullable) delete out.type;
  delete out.nullable;
  delete out.anyOf;
  delete out.oneOf;
  delete out.not;
  if (out.allOf && !(out.allOf.length === 1 && out.allOf[0].$ref)) delete out.allOf;
  if (out.properties)
    out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, toV2Schema(v, depth + 1)]));
  if (out.items && typeof out.items === 'object') out.items = toV2Schema(out.items, depth + 1);
  if (out.additionalProperties && typeof out.additionalProperties === 'object') {
    out.additionalProperties = toV2Schema(out.additionalProperties, depth + 1);
  }
  return out;
}

const SECURITY = [{ BearerToken: [] as string[] }];
const SECURITY_SCHEME = { type: 'apiKey', description: 'Bearer Token authentication', in: 'header', name: 'authorization' };
const INFO = { title: 'Kubernetes', version: 'unversioned' };

/** The `/openapi/v2` document: every served path and the definitions they need. */
export function openApiV2(resources: ResourceDefinition[], definitions: Record<string, SchemaNode>): object {
  const paths = buildPaths(resources, resources);
  const outPaths: Record<string, unknown> = {};
  for (const [path, item] of paths) {
    const out: Record<string, unknown> = {};
    for (const operation of item.operations) out[operation.method] = v2Operation(operation);
    if (item.parameters.length) out.parameters = item.parameters.map(v2Parameter);
    outPaths[path] = out;
  }
  const customNames = new Set(resources.filter(isCustom).flatMap((r) => [kindDefinitionName(r), listDefinitionName(r)]));
  const outDefinitions: Record<string, SchemaNode> = {};
  for (const [name, node] of definitionClosure(paths, resources, definitions))
    outDefinitions[name] = customNames.has(name) ? toV2Schema(node) : node;
  return {
    swagger: '2.0',
    info: INFO,
    paths: outPaths,
    definitions: outDefinitions,
    securityDefinitions: { BearerToken: SECURITY_SCHEME },
    security: SECURITY,
  };
}

const v3Cache = new WeakMap<SchemaNode, SchemaNode>();

/**
 * A v2-style node as OpenAPI v3 writes it: `#/components/schemas/` references, and a reference
 * with siblings (description, patch strategy) wrapped in `allOf` as kube-openapi does.
 */
function toV3Schema(node: SchemaNode, depth = 0): SchemaNode {
  if (!node || typeof node !== 'object' || depth > 256) return node;
  const cached = v3Cache.get(node);
  if (cached) return cached;
  const out: SchemaNode = {};
  for (const [key, value] of Object.entries(node) as Array<[keyof SchemaNode, unknown]>) {
    switch (key) {
      case '$ref':
        break;
      case 'properties':
        out.properties = Object.fromEntries(
          Object.entries(value as Record<string, SchemaNode>).map(([k, v]) => [k, toV3Schema(v, depth + 1)]),
        );
        break;
      case 'items':
      case 'not':
        (out as Record<string, unknown>)[key] = toV3Schema(value as SchemaNode, depth + 1);
        break;
      case 'additionalProperties':
        out.additionalProperties =
          typeof value === 'object' && value ? toV3Schema(value as SchemaNode, depth + 1) : (value as boolean);
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        (out as Record<string, unknown>)[key] = (value as SchemaNode[]).map((v) => toV3Schema(v, depth + 1));
        break;
      default:
        (out as Record<string, unknown>)[key] = value;
    }
  }
  const name = definitionRef(node.$ref);
  let result = out;
  if (name) {
    const ref = `#/components/schemas/${name}`;
    result = Object.keys(out).length ? { allOf: [{ $ref: ref }], ...out } : { $ref: ref };
  }
  v3Cache.set(node, result);
  return result;
}

function v3Parameter(parameter: Parameter): Record<string, unknown> {
  const out: Record<string, unknown> = { name: parameter.name, in: parameter.in, description: parameter.description };
  if (parameter.required) out.required = true;
  out.schema = { type: parameter.type, uniqueItems: true };
  return out;
}

function v3Operation(operation: Operation): Record<string, unknown> {
  const out: Record<string, unknown> = {
    tags: [operation.tag],
    description: operation.description,
    operationId: operation.operationId,
  };
  if (operation.parameters.length) out.parameters = operation.parameters.map(v3Parameter);
  if (operation.body) {
    const schema = { $ref: `#/components/schemas/${operation.body}` };
    const content: Record<string, unknown> = {};
    for (const type of operation.consumes) content[type] = { schema };
    out.requestBody = operation.bodyRequired ? { content, required: true } : { content };
  }
  const responses: Record<string, unknown> = {};
  for (const response of operation.responses) {
    if (!response.schema && response.code !== '200') {
      responses[response.code] = { description: response.description };
      continue;
    }
    const schema = response.schema ? { $ref: `#/components/schemas/${response.schema}` } : { type: 'string' };
    const content: Record<string, unknown> = {};
    for (const type of operation.produces) content[type] = { schema };
    responses[response.code] = { description: response.description, content };
  }
  out.responses = responses;
  out['x-kubernetes-action'] = operation.action;
  if (operation.gvk) out['x-kubernetes-group-version-kind'] = operation.gvk;
  return out;
}

/** Accepts `api/v1`, `apis/apps/v1`, `/openapi/v3/apis/apps/v1?hash=…`, `v1` and `apps/v1`. */
function parseGroupVersion(groupVersion: string): { group: string; version: string } | undefined {
  let path = groupVersion.split('?')[0].replace(/^\/+/, '').replace(/\/+$/, '');
  if (path.startsWith('openapi/v3/')) path = path.slice('openapi/v3/'.length);
  const parts = path.split('/');
  if (parts[0] === 'api' && parts.length === 2) return { group: '', version: parts[1] };
  if (parts[0] === 'apis' && parts.length === 3) return { group: parts[1], version: parts[2] };
  if (parts.length === 1 && parts[0]) return { group: '', version: parts[0] };
  if (parts.length === 2) return { group: parts[0], version: parts[1] };
  return undefined;
}

/** The document of one group version (`api/v1`, `apis/apps/v1`), or undefined when nothing is served there. */
export function openApiV3GroupVersion(
  groupVersion: string,
  resources: ResourceDefinition[],
  definitions: Record<string, SchemaNode>,
): object | undefined {
  const gv = parseGroupVersion(groupVersion);
  if (!gv) return undefined;
  const served = resources.filter((r) => r.group === gv.group && r.version === gv.version);
  if (!served.length) return undefined;
  const paths = buildPaths(served, resources);
  const outPaths: Record<string, unknown> = {};
  for (const [path, item] of paths) {
    const out: Record<string, unknown> = {};
    for (const operation of item.operations) out[operation.method] = v3Operation(operation);
    if (item.parameters.length) out.parameters = item.parameters.map(v3Parameter);
    outPaths[path] = out;
  }
  const schemas: Record<string, SchemaNode> = {};
  for (const [name, node] of definitionClosure(paths, served, definitions)) schemas[name] = toV3Schema(node);
  return {
    openapi: '3.0.0',
    info: INFO,
    paths: outPaths,
    components: { schemas, securitySchemes: { BearerToken: SECURITY_SCHEME } },
    security: SECURITY,
  };
}

/**
 * The `/openapi/v3` index: one entry per served group version. Each URL carries a hash of that
 * document's content; kubectl caches documents by URL, so a changed document gets a new URL.
 */
export function openApiV3Index(
  resources: ResourceDefinition[],
  definitions: Record<string, SchemaNode> = buildDefinitions(),
): { paths: Record<string, { serverRelativeURL: string }> } {
  const keys = new Set(resources.map((r) => groupVersionKey(r.group, r.version)));
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const key of [...keys].sort(compareStrings)) {
    const document = openApiV3GroupVersion(key, resources, definitions);
    // Documents are built in a fixed order (sorted paths and definitions), so equal content serialises equally.
    const hash = createHash('sha512').update(JSON.stringify(document)).digest('hex').toUpperCase();
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return { paths };
}
