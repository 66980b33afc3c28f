/**
 * The generic REST handler: one code path for every served resource, built-in or custom. It
 * turns an HTTP request (verb, path, query, body) into an ObjectService call and the result
 * into the representation the client asked for (object, list, Table, watch stream).
 */
import { parseDocument } from 'yaml';
import {
  apiVersionOf,
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  errors,
  fieldErrors,
  isPlainObject,
  labelSelectorFromObject,
  labelSelectorToString,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseJsonStrict,
  JsonSyntaxError,
  parseLabelSelector,
  decodeKubernetesProtobuf,
  ProtobufDecodeError,
  UnsupportedProtobufKindError,
  fieldSelectorRequirements,
  StatusError,
  canEncodeKubernetesProtobuf,
  encodeKubernetesProtobuf,
  ProtobufEncodeError,
  type KubeObject,
} from '@canopy/apimachinery';
import { stringify as toYaml } from 'yaml';
import { customResourceScale, withCustomResourceReplicas } from '../crd/scale.js';
import type { ResourceRegistry } from '../registry/registry.js';
import type { ResourceDefinition } from '../registry/types.js';
import type { RevisionStore } from '../storage/types.js';
import { bodyFormatOf, chooseRepresentation, PROTOBUF_MEDIA_TYPE, type BodyFormat, type Representation } from './negotiation.js';
import type { DeleteOptions, FieldValidation, ListQuery, ObjectService, WriteOptions } from './objects.js';
import { asRecord } from './object-utils.js';
import type { ResourceRequestInfo } from './request-info.js';
import type { SchemaSupport } from './schema-support.js';
import { toTable } from './table.js';
import { header, type ApiRequest, type ApiResponse } from './types.js';
import { runWatch } from './watch.js';

const MAX_NAME_BYTES = 253 * 4;

export interface ActionContext {
  req: ApiRequest;
  info: ResourceRequestInfo;
  def: ResourceDefinition;
  /** The decoded body, for create and update. */
  body: unknown;
  writeOptions(): WriteOptions;
  respond(status: number, object: unknown): ApiResponse;
}

export interface ActionHandler {
  verbs: string[];
  handle(context: ActionContext): ApiResponse;
}

export class RestHandler {
  private readonly actions = new Map<string, ActionHandler>();

  constructor(
    private readonly registry: ResourceRegistry,
    private readonly objects: ObjectService,
    private readonly store: RevisionStore,
    private readonly schemas: SchemaSupport,
  ) {}

  /**
   * Serves a subresource (`serviceaccounts/token`, `pods/log`…) or a virtual resource (reviews,
   * with `subresource` ''), for the verbs the handler lists, in any version of the group.
   */
  registerAction(group: string, resource: string, subresource: string, handler: ActionHandler): void {
    this.actions.set(`${group}/${resource}/${subresource}`, handler);
  }

  handle(req: ApiRequest, info: ResourceRequestInfo): ApiResponse {
    const def = this.registry.get(info.group, info.version, info.resource);
    if (!def) throw errors.pathNotFound();
    if (!def.namespaced && info.namespace) throw errors.pathNotFound();
    if (info.name.length > MAX_NAME_BYTES) throw errors.badRequest('name is too long');
    if (info.rest.length) throw errors.pathNotFound();
    const sub = info.subresource;
    const action = this.actions.get(`${def.group}/${def.resource}/${sub}`);
    if (action && (sub || def.virtual)) {
      if (!action.verbs.includes(info.verb)) throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
      if (sub && !info.name) throw errors.pathNotFound();
      const body = info.verb === 'create' || info.verb === 'update' ? this.decodeBody(req, ['json', 'yaml']).value : undefined;
      return action.handle({ req, info, def, body, writeOptions: () => this.writeOptions(req), respond: (status, object) => this.respond(req, status, object) });
    }
    if (def.virtual) throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    if (def.provided) return this.provided(req, def, info);
    if (sub && !(sub === 'status' && def.subresources?.status) && !(sub === 'scale' && def.subresources?.scale) && !(sub === 'finalize' && def.kind === 'Namespace' && !def.group)) {
      throw errors.pathNotFound();
    }
    if (sub && !info.name) throw errors.pathNotFound();
    switch (info.verb) {
      case 'get':
        return sub === 'scale' ? this.respond(req, 200, this.scaleOf(def, this.objects.get(def, info.namespace, info.name))) : this.get(req, def, info);
      case 'list':
        if (sub) throw errors.pathNotFound();
        return this.list(req, def, info);
      case 'watch':
        return this.watch(req, def, info);
      case 'create':
        if (info.name) throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
        return this.create(req, def, info);
      case 'update':
        if (!info.name) throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
        return this.update(req, def, info);
      case 'patch':
        if (!info.name) throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
        return this.patch(req, def, info);
      case 'delete':
        if (sub) throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
        return this.delete(req, def, info);
      case 'deletecollection':
        return this.deleteCollection(req, def, info);
      default:
        throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
  }

  // ---- reads ---------------------------------------------------------------------------------

  private get(req: ApiRequest, def: ResourceDefinition, info: ResourceRequestInfo): ApiResponse {
    const rep = chooseRepresentation(header(req, 'accept'), false);
    const object = this.objects.get(def, info.namespace, info.name, req.query.get('resourceVersion') ?? undefined);
    if (rep.kind === 'table') {
      return this.body(200, toTable(def, [object], { resourceVersion: object.metadata.resourceVersion ?? '' }, req.query.get('includeObject') ?? 'Metadata', rep.version), rep);
    }
    if (rep.kind === 'partial') {
      return this.body(200, { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${rep.version}`, metadata: object.metadata }, rep);
    }
    return this.body(200, object, rep);
  }

  private list(req: ApiRequest, def: ResourceDefinition, info: ResourceRequestInfo): ApiResponse {
    const rep = chooseRepresentation(header(req, 'accept'), true);
    const query = this.listQuery(req, def);
    const outcome = this.objects.list(def, info.namespace, query);
    const meta: Record<string, unknown> = { resourceVersion: outcome.resourceVersion };
    if (outcome.continueToken) meta.continue = outcome.continueToken;
    if (outcome.remainingItemCount !== undefined) meta.remainingItemCount = outcome.remainingItemCount;
    if (rep.kind === 'table') {
      const table = toTable(
        def,
        outcome.items,
        { resourceVersion: outcome.resourceVersion, ...(outcome.continueToken ? { continue: outcome.continueToken } : {}), ...(outcome.remainingItemCount !== undefined ? { remainingItemCount: outcome.remainingItemCount } : {}) },
        req.query.get('includeObject') ?? 'Metadata',
        rep.version,
      );
      return this.body(200, table, rep);
    }
    if (rep.kind === 'partial') {
      return this.body(
        200,
        {
          kind: 'PartialObjectMetadataList',
          apiVersion: `meta.k8s.io/${rep.version}`,
          metadata: meta,
          items: outcome.items.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${rep.version}`, metadata: o.metadata })),
        },
        rep,
      );
    }
    if (outcome.itemsJson && rep.kind === 'object' && rep.format === 'json') {
      // Assembled from the stored JSON text: no re-serialisation of every item.
      const head = `{"kind":${JSON.stringify(def.listKind)},"apiVersion":${JSON.stringify(apiVersionOf(def.group, def.version))},"metadata":${JSON.stringify(meta)},"items":[`;
      return streamJsonList(head, outcome.itemsJson);
    }
    const list = { kind: def.listKind, apiVersion: apiVersionOf(def.group, def.version), metadata: meta, items: outcome.items };
    return this.body(200, list, rep);
  }

  private listQuery(req: ApiRequest, def: ResourceDefinition, forWatch = false): ListQuery {
    const q = req.query;
    const query: ListQuery = {};
    const labelSelector = q.get('labelSelector');
    if (labelSelector) {
      const selector = parseLabelSelector(labelSelector);
      query.labelSelector = (labels) => matchesLabels(selector, labels);
    }
    const fieldSelector = q.get('fieldSelector');
    if (fieldSelector) query.fieldSelector = this.fieldMatcher(def, fieldSelector);
    if (!forWatch) {
      const limit = q.get('limit');
      if (limit) {
        if (!/^-?[0-9]{1,12}$/.test(limit)) throw errors.badRequest(`invalid limit: "${limit.slice(0, 32)}"`);
        const n = Number(limit);
        if (n > 0) query.limit = n;
      }
      const token = q.get('continue');
      if (token) {
        if (q.get('resourceVersion') && q.get('resourceVersion') !== '0') {
          throw errors.badRequest('specifying resource version is not allowed when using continue');
        }
        query.continueToken = token;
      }
    }
    const rv = q.get('resourceVersion');
    if (rv) query.resourceVersion = rv;
    const match = q.get('resourceVersionMatch');
    if (match) {
      if (!['Exact', 'NotOlderThan'].includes(match)) {
        throw errors.invalid({ group: 'meta.k8s.io', resource: 'listoptions', kind: 'ListOptions' }, '', [
          fieldErrors.notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan']),
        ]);
      }
      if (!rv && !forWatch) {
        throw errors.invalid({ group: 'meta.k8s.io', resource: 'listoptions', kind: 'ListOptions' }, '', [
          fieldErrors.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'),
        ]);
      }
      query.resourceVersionMatch = match;
    }
    return query;
  }

  /** Field selectors: metadata.name and metadata.namespace everywhere, plus the kind's selectable fields. */
  private fieldMatcher(def: ResourceDefinition, text: string): (object: KubeObject) => boolean {
    const selector = parseFieldSelector(text);
    const getters: Record<string, (o: KubeObject) => string | undefined> = {
      'metadata.name': (o) => o.metadata.name ?? '',
      'metadata.namespace': (o) => o.metadata.namespace ?? '',
      ...(def.selectableFields ?? {}),
    };
    for (const field of fieldSelectorRequirements(selector).map((r) => r.field)) {
      if (!getters[field]) throw errors.badRequest(`field label not supported: ${field}`);
    }
    return (object) => matchesFields(selector, (field) => getters[field]?.(object));
  }

  private watch(req: ApiRequest, def: ResourceDefinition, info: ResourceRequestInfo): ApiResponse {
    const rep = chooseRepresentation(header(req, 'accept'), true);
    const query = this.listQuery(req, def, true);
    const q = req.query;
    const byName = info.name;
    const matches = (object: KubeObject) =>
      (!byName || object.metadata.name === byName) &&
      (!query.labelSelector || query.labelSelector(object.metadata.labels ?? {})) &&
      (!query.fieldSelector || query.fieldSelector(object));
    const sendInitialEvents = q.get('sendInitialEvents');
    const allowBookmarks = q.get('allowWatchBookmarks') === 'true';
    if (sendInitialEvents !== null) {
      if (!['true', 'false'].includes(sendInitialEvents)) throw errors.badRequest(`invalid sendInitialEvents: "${sendInitialEvents.slice(0, 16)}"`);
      if (query.resourceVersionMatch !== 'NotOlderThan') {
        throw errors.invalid({ group: 'meta.k8s.io', resource: 'listoptions', kind: 'ListOptions' }, '', [
          fieldErrors.forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'),
        ]);
      }
    } else if (query.resourceVersionMatch) {
      throw errors.invalid({ group: 'meta.k8s.io', resource: 'listoptions', kind: 'ListOptions' }, '', [
        fieldErrors.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'),
      ]);
    }
    const rv = query.resourceVersion;
    const initial = sendInitialEvents === 'true' || ((!rv || rv === '0') && sendInitialEvents !== 'false');
    const afterRevision = initial ? undefined : rv ? this.objects.parseRevision(rv) : this.store.currentRevision();
    const timeoutRaw = q.get('timeoutSeconds');
    if (timeoutRaw !== null && timeoutRaw !== '' && !/^[0-9]{1,9}$/.test(timeoutRaw)) {
      throw errors.badRequest(`invalid timeoutSeconds: "${timeoutRaw.slice(0, 32)}": must be a non-negative integer`);
    }
    const timeoutSeconds = timeoutRaw ? Number(timeoutRaw) : undefined;
    const prefix = this.objects.listPrefix(def, info.namespace);
    const serve = def.storage ? (object: KubeObject) => this.objects.served(def, object) : undefined;
    return {
      type: 'stream',
      status: 200,
      contentType: rep.kind === 'object' && rep.format === 'yaml' ? 'application/json' : 'application/json',
      start: (sink) =>
        runWatch(
          this.store,
          {
            def,
            prefix,
            matches,
            ...(afterRevision !== undefined ? { afterRevision } : {}),
            sendInitialEvents: sendInitialEvents === 'true',
            allowBookmarks,
            ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
            // Watches are JSON even for protobuf clients (kube's length-prefixed WatchEvent framing is not served).
            representation: rep.kind === 'object' || rep.kind === 'protobuf' ? { kind: 'object', format: 'json' } : rep,
            ...(serve ? { serve } : {}),
            listCurrent: () => {
              const result = this.store.list(prefix, { filter: serve ? (o) => matches(serve(o)) : matches });
              return { items: result.items.map((s) => (serve ? serve(s.object) : s.object)), revision: result.revision };
            },
          },
          sink,
        ),
    };
  }

  /**
   * A provided resource (see ResourceDefinition.provided): get and list from its provider, with
   * label and field selectors and the same representations as stored kinds; nothing else.
   */
  private provided(req: ApiRequest, def: ResourceDefinition, info: ResourceRequestInfo): ApiResponse {
    if (info.subresource) throw errors.pathNotFound();
    if (info.verb !== 'get' && info.verb !== 'list') throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    const items = def.provided!.list(def.namespaced && info.namespace ? info.namespace : undefined);
    const apiVersion = apiVersionOf(def.group, def.version);
    const typed = (o: KubeObject): KubeObject => ({ ...o, kind: def.kind, apiVersion });
    if (info.verb === 'get') {
      const object = items.find((o) => o.metadata.name === info.name && (!def.namespaced || o.metadata.namespace === info.namespace));
      if (!object) throw errors.notFound(this.objects.ref(def), info.name);
      const rep = chooseRepresentation(header(req, 'accept'), false);
      if (rep.kind === 'table') return this.body(200, toTable(def, [typed(object)], { resourceVersion: '' }, req.query.get('includeObject') ?? 'Metadata', rep.version), rep);
      if (rep.kind === 'partial') return this.body(200, { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${rep.version}`, metadata: object.metadata }, rep);
      return this.body(200, typed(object), rep);
    }
    const rep = chooseRepresentation(header(req, 'accept'), true);
    const labelSelector = req.query.get('labelSelector');
    const labels = labelSelector ? parseLabelSelector(labelSelector) : undefined;
    const fieldSelector = req.query.get('fieldSelector');
    const fields = fieldSelector ? this.fieldMatcher(def, fieldSelector) : undefined;
    const selected = items
      .filter((o) => (!labels || matchesLabels(labels, o.metadata.labels ?? {})) && (!fields || fields(o)))
      .map(typed)
      .sort((a, b) => `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace ?? ''}/${b.metadata.name}`));
    if (rep.kind === 'table') return this.body(200, toTable(def, selected, { resourceVersion: '' }, req.query.get('includeObject') ?? 'Metadata', rep.version), rep);
    if (rep.kind === 'partial') {
      const partial = selected.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${rep.version}`, metadata: o.metadata }));
      return this.body(200, { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${rep.version}`, metadata: {}, items: partial }, rep);
    }
    return this.body(200, { kind: def.listKind, apiVersion, metadata: {}, items: selected }, rep);
  }

  // ---- writes --------------------------------------------------------------------------------

  private writeOptions(req: ApiRequest): WriteOptions {
    const q = req.query;
    const options: WriteOptions = { user: req.user };
    const dryRun = q.getAll('dryRun');
    for (const d of dryRun) {
      if (d !== 'All') {
        throw errors.badRequest(`Invalid dryRun value: ${JSON.stringify(d.slice(0, 32))}: supported values: "All"`);
      }
      options.dryRun = true;
    }
    const fv = q.get('fieldValidation');
    if (fv !== null && fv !== '') {
      if (fv !== 'Strict' && fv !== 'Warn' && fv !== 'Ignore') {
        throw errors.badRequest(`fieldValidation parameter unsupported: "${fv.slice(0, 32)}": supported values: "Ignore", "Warn", "Strict"`);
      }
      options.fieldValidation = fv as FieldValidation;
    }
    const manager = q.get('fieldManager');
    if (manager !== null) {
      if (manager.length > 128) throw errors.invalid({ group: 'meta.k8s.io', resource: 'options', kind: 'Options' }, '', [fieldErrors.tooLong('fieldManager', manager, 128)]);
      options.fieldManager = manager;
    } else {
      // kube's default manager: the client's User-Agent up to the first '/' (`kubectl`, `helm`…).
      const agent = header(req, 'user-agent');
      if (agent) options.fieldManager = agent.split('/')[0].slice(0, 128);
    }
    return options;
  }

  private create(req: ApiRequest, def: ResourceDefinition, info: ResourceRequestInfo): ApiResponse {
    const options = this.writeOptions(req);
    const { value, problems } = this.decodeBody(req, ['json', 'yaml']);
    const result = this.objects.create(def, info.namespace, this.asObject(value), { ...options, decodeProblems: problems, inputOwned: true });
    return this.respond(req, 201, result.object, result.warnings);
  }

  private update(req: ApiRequest, def: ResourceDefinition, info: ResourceRequestInfo): ApiResponse {
    const options = this.writeOptions(req);
    const { value, problems } = this.decodeBody(req, ['json', 'yaml']);
    const body = this.asObject(value);
    if (info.subresource === 'scale') return this.writeScale(req, def, info, body, options);
    if (info.subresource === 'finalize') return this.finalizeNamespace(req, def, info, body, options);
    const result = this.objects.update(def, info.namespace, info.name, body, {
      ...options,
      decodeProblems: problems,
      ...(info.subresource === 'status' ? { subresource: 'status' as const } : {}),
    });
    return this.respond(req, result.created ? 201 : 200, result.object, result.warnings);
  }

  private patch(req: ApiRequest, def: ResourceDefinition, info: ResourceRequestInfo): ApiResponse {
    const options = this.writeOptions(req);
    const format = bodyFormatOf(header(req, 'content-type'));
    const force = req.query.get('force');
    if (force !== null && !['true', 'false', '1', '0'].includes(force)) {
      throw errors.badRequest(`invalid force: "${force.slice(0, 32)}": must be true or false`);
    }
    const patchOptionsRef = { group: 'meta.k8s.io', resource: 'patchoptions', kind: 'PatchOptions' };
    if (format === 'apply-patch') {
      if (!req.query.get('fieldManager')) {
        throw errors.invalid(patchOptionsRef, '', [fieldErrors.required('fieldManager', 'is required for apply patch')]);
      }
      if (info.subresource && info.subresource !== 'status') {
        throw new StatusError(415, 'UnsupportedMediaType', `server-side apply is not supported for ${info.resource}/${info.subresource}`);
      }
      // Apply configurations are YAML (JSON is YAML too); duplicate keys are judged by fieldValidation.
      const { value: config, problems } = this.decodeBody(req, ['yaml'], 'yaml');
      if (problems.length && options.fieldValidation === 'Strict') throw errors.badRequest(`error strict decoding YAML: ${problems.join(', ')}`);
      const result = this.objects.apply(def, info.namespace, info.name, config, {
        ...options,
        force: force === 'true' || force === '1',
        ...(info.subresource === 'status' ? { subresource: 'status' as const } : {}),
      });
      return this.respond(req, result.created ? 201 : 200, result.object, [...(options.fieldValidation === 'Ignore' ? [] : problems), ...result.warnings]);
    }
    if (force !== null) throw errors.invalid(patchOptionsRef, '', [fieldErrors.forbidden('force', 'may not be specified for non-apply patch')]);
    if (format !== 'json-patch' && format !== 'merge-patch' && format !== 'strategic-merge-patch') {
      throw new StatusError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
      );
    }
    if (format === 'strategic-merge-patch' && !def.schemaName) {
      throw new StatusError(415, 'UnsupportedMediaType', `strategic merge patch is not supported for ${def.resource}.${def.group}: use a JSON merge patch or JSON patch`);
    }
    const { value: patch, problems } = this.decodeBody(req, ['json'], format, true);
    if (format !== 'json-patch' && !isPlainObject(patch)) throw errors.badRequest('the patch must be a JSON object');
    if (info.subresource === 'scale') {
      const current = this.scaleOf(def, this.objects.get(def, info.namespace, info.name));
      const patched = format === 'json-patch' ? applyJsonPatch(current, patch) : applyMergePatch(current, patch);
      return this.writeScale(req, def, info, this.asObject(patched), options);
    }
    const current = this.objects.get(def, info.namespace, info.name);
    let patched: unknown;
    switch (format) {
      case 'json-patch':
        patched = applyJsonPatch(current, patch);
        break;
      case 'merge-patch':
        patched = applyMergePatch(current, patch);
        break;
      default:
        patched = applyStrategicMergePatch(current, patch, this.schemas.schemaOf(def), this.schemas.resolver);
    }
    const object = this.asObject(patched);
    // A patch that does not set resourceVersion applies to what it was computed on.
    const expectedRevision = Number(current.metadata.resourceVersion);
    if (object.metadata && isPlainObject(object.metadata) && object.metadata.resourceVersion === current.metadata.resourceVersion) {
      delete object.metadata.resourceVersion;
    }
    const result = this.objects.update(def, info.namespace, info.name, object, {
      ...options,
      decodeProblems: problems,
      expectedRevision,
      ...(info.subresource === 'status' ? { subresource: 'status' as const } : {}),
    });
    return this.respond(req, 200, result.object, result.warnings);
  }

  private delete(req: ApiRequest, def: ResourceDefinition, info: ResourceRequestInfo): ApiResponse {
    const options = this.deleteOptions(req);
    const result = this.objects.delete(def, info.namespace, info.name, options);
    // kube answers 200 for a deletion that is still pending, 202 only for orphanDependents=false.
    const pendingStatus = options.orphanDependents === false ? 202 : 200;
    if (result.deleted) {
      return this.respond(req, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name: info.name, group: def.group, kind: def.resource, uid: result.object.metadata.uid },
      });
    }
    return this.respond(req, pendingStatus, result.object);
  }

  private deleteCollection(req: ApiRequest, def: ResourceDefinition, info: ResourceRequestInfo): ApiResponse {
    const options = this.deleteOptions(req);
    const query = this.listQuery(req, def);
    delete query.limit;
    delete query.continueToken;
    const outcome = this.objects.list(def, info.namespace, query);
    for (const object of outcome.items) {
      try {
        this.objects.delete(def, object.metadata.namespace ?? '', object.metadata.name ?? '', { ...options, preconditions: {} });
      } catch (err) {
        // Objects that went away meanwhile are what we wanted anyway.
        if (!(err instanceof StatusError && err.code === 404)) throw err;
      }
    }
    return this.respond(req, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { group: def.group, kind: def.resource } });
  }

  private deleteOptions(req: ApiRequest): DeleteOptions {
    const options: DeleteOptions = { user: req.user };
    if (req.body && req.body.length) {
      const { value } = this.decodeBody(req, ['json', 'yaml']);
      const body = asRecord(value);
      if (!body) throw errors.badRequest('DeleteOptions must be a JSON object');
      if (body.kind !== undefined && body.kind !== 'DeleteOptions') throw errors.badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (DeleteOptions)`);
      // DeleteOptions exists in meta.k8s.io/v1 and, for old clients, in every served group's v1.
      if (body.apiVersion !== undefined && !(typeof body.apiVersion === 'string' && /^([a-z0-9.-]+\/)?v1$/.test(body.apiVersion))) {
        throw errors.badRequest(`no kind "DeleteOptions" is registered for version "${String(body.apiVersion).slice(0, 64)}"`);
      }
      // Decoding into DeleteOptions refuses wrongly typed fields, as Go's decoder does.
      const wrongType = (field: string, expected: string) =>
        errors.badRequest(`json: cannot unmarshal ${goTypeName(body[field])} into Go struct field DeleteOptions.${field} of type ${expected}`);
      if (body.propagationPolicy !== undefined && body.propagationPolicy !== null) {
        if (typeof body.propagationPolicy !== 'string') throw wrongType('propagationPolicy', 'v1.DeletionPropagation');
        options.propagationPolicy = body.propagationPolicy as DeleteOptions['propagationPolicy'];
      }
      if (body.gracePeriodSeconds !== undefined && body.gracePeriodSeconds !== null) {
        if (!Number.isInteger(body.gracePeriodSeconds)) throw wrongType('gracePeriodSeconds', 'int64');
        options.gracePeriodSeconds = body.gracePeriodSeconds as number;
      }
      if (body.orphanDependents !== undefined && body.orphanDependents !== null) {
        if (typeof body.orphanDependents !== 'boolean') throw wrongType('orphanDependents', 'bool');
        options.orphanDependents = body.orphanDependents;
      }
      if (body.preconditions !== undefined && body.preconditions !== null) {
        const pre = asRecord(body.preconditions);
        if (!pre) throw wrongType('preconditions', 'v1.Preconditions');
        options.preconditions = {};
        for (const key of ['uid', 'resourceVersion'] as const) {
          const v = pre[key];
          if (v === undefined || v === null) continue;
          if (typeof v !== 'string') throw errors.badRequest(`json: cannot unmarshal ${goTypeName(v)} into Go struct field Preconditions.preconditions.${key} of type string`);
          options.preconditions[key] = v;
        }
      }
      if (body.dryRun !== undefined && body.dryRun !== null && !Array.isArray(body.dryRun)) throw wrongType('dryRun', '[]string');
      if (Array.isArray(body.dryRun)) {
        for (const d of body.dryRun) if (d !== 'All') throw errors.badRequest(`Invalid dryRun value: ${JSON.stringify(d)}: supported values: "All"`);
        if (body.dryRun.length) options.dryRun = true;
      }
    }
    const q = req.query;
    const policy = q.get('propagationPolicy');
    if (policy) options.propagationPolicy = policy as DeleteOptions['propagationPolicy'];
    const grace = q.get('gracePeriodSeconds');
    if (grace !== null) {
      if (!/^-?[0-9]{1,9}$/.test(grace)) throw errors.badRequest(`invalid gracePeriodSeconds: "${grace.slice(0, 16)}"`);
      options.gracePeriodSeconds = Number(grace);
    }
    const orphan = q.get('orphanDependents');
    if (orphan === 'true' || orphan === 'false') options.orphanDependents = orphan === 'true';
    if (this.writeOptions(req).dryRun) options.dryRun = true;
    return options;
  }

  // ---- subresources --------------------------------------------------------------------------

  /** autoscaling/v1 Scale view of a scalable object. */
  private scaleOf(def: ResourceDefinition, object: KubeObject): Record<string, unknown> {
    // Custom resources name their replicas and selector paths in the CRD.
    if (!def.schemaName && def.subresources?.scale) return customResourceScale(def.subresources.scale, object);
    const spec = asRecord(object.spec) ?? {};
    const status = asRecord(object.status) ?? {};
    let selector = '';
    const sel = asRecord(spec.selector);
    if (sel) {
      try {
        selector = labelSelectorToString(labelSelectorFromObject(sel));
      } catch {
        selector = '';
      }
    }
    void def;
    const m = object.metadata;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
      spec: { replicas: typeof spec.replicas === 'number' ? spec.replicas : 0 },
      status: { replicas: typeof status.replicas === 'number' ? status.replicas : 0, ...(selector ? { selector } : {}) },
    };
  }

  private writeScale(req: ApiRequest, def: ResourceDefinition, info: ResourceRequestInfo, scale: KubeObject, options: WriteOptions): ApiResponse {
    const replicas = asRecord(scale.spec)?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0 || replicas > 2147483647) {
      throw errors.invalid({ group: 'autoscaling', resource: 'scale', kind: 'Scale' }, info.name, [
        fieldErrors.invalid('spec.replicas', replicas ?? null, 'must be greater than or equal to 0'),
      ]);
    }
    const current = this.objects.get(def, info.namespace, info.name);
    const rv = scale.metadata?.resourceVersion;
    if (rv && rv !== current.metadata.resourceVersion) {
      throw errors.conflict(this.objects.ref(def), info.name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    const next =
      !def.schemaName && def.subresources?.scale
        ? withCustomResourceReplicas(def.subresources.scale, current, replicas)
        : { ...current, spec: { ...(asRecord(current.spec) ?? {}), replicas }, metadata: { ...current.metadata } };
    delete next.metadata.resourceVersion;
    const result = this.objects.update(def, info.namespace, info.name, next, { ...options, expectedRevision: Number(current.metadata.resourceVersion) });
    return this.respond(req, 200, this.scaleOf(def, result.object), result.warnings);
  }

  /** PUT /api/v1/namespaces/<name>/finalize: only spec.finalizers changes (the namespace controller's call). */
  private finalizeNamespace(req: ApiRequest, def: ResourceDefinition, info: ResourceRequestInfo, body: KubeObject, options: WriteOptions): ApiResponse {
    const current = this.objects.get(def, '', info.name);
    const finalizers = asRecord(body.spec)?.finalizers;
    const next = { ...current, spec: { ...(asRecord(current.spec) ?? {}), finalizers: Array.isArray(finalizers) ? finalizers : [] }, metadata: { ...current.metadata } };
    delete next.metadata.resourceVersion;
    const result = this.objects.update(def, '', info.name, next, { ...options, expectedRevision: Number(current.metadata.resourceVersion) });
    return this.respond(req, 200, result.object, result.warnings);
  }

  // ---- encoding ------------------------------------------------------------------------------

  /** Decodes a request body; duplicate fields become decode problems judged by fieldValidation. */
  private decodeBody(
    req: ApiRequest,
    allowed: BodyFormat[],
    format = bodyFormatOf(header(req, 'content-type')),
    patchAllowed = false,
  ): { value: unknown; problems: string[] } {
    if (!format) throw errors.unsupportedMediaType(header(req, 'content-type') ?? '');
    // Patch media types are JSON, but only for PATCH: a create or update sent as a patch is refused.
    const isPatch = format === 'json-patch' || format === 'merge-patch' || format === 'strategic-merge-patch';
    if (isPatch && !patchAllowed) throw errors.unsupportedMediaType(header(req, 'content-type') ?? '');
    const treatAs: BodyFormat = isPatch ? 'json' : format;
    // Protobuf bodies (kubectl 1.32+ typed clients, helm) are accepted wherever JSON is.
    if (!allowed.includes(treatAs) && !(treatAs === 'protobuf' && allowed.includes('json')))
      throw errors.unsupportedMediaType(header(req, 'content-type') ?? '');
    const raw = req.body ?? Buffer.alloc(0);
    if (raw.length === 0) throw errors.badRequest('the request body is empty');
    if (treatAs === 'protobuf') {
      try {
        return { value: decodeKubernetesProtobuf(raw).object, problems: [] };
      } catch (err) {
        if (err instanceof UnsupportedProtobufKindError) throw new StatusError(415, 'UnsupportedMediaType', err.message);
        if (err instanceof ProtobufDecodeError) throw errors.badRequest(`failed to decode the protobuf body: ${err.message}`);
        throw err;
      }
    }
    const text = raw.toString('utf8');
    if (treatAs === 'yaml') {
      const doc = parseDocument(text, { uniqueKeys: true });
      const dupes = doc.errors.filter((e) => e.code === 'DUPLICATE_KEY');
      // Warnings (unknown directives, an unsupported %YAML version) are errors for the API, as
      // for kube's stricter YAML decoder.
      const fatal = [...doc.errors.filter((e) => e.code !== 'DUPLICATE_KEY'), ...doc.warnings];
      if (fatal.length) throw errors.badRequest(`error converting YAML to JSON: ${fatal[0].message.split('\n')[0]}`);
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: 100 });
      } catch (err) {
        throw errors.badRequest(`error converting YAML to JSON: ${(err as Error).message.split('\n')[0]}`);
      }
      return { value, problems: dupes.map((e) => e.message.split('\n')[0]) };
    }
    let parsed: ReturnType<typeof parseJsonStrict>;
    try {
      parsed = parseJsonStrict(text);
    } catch (err) {
      if (err instanceof JsonSyntaxError) throw errors.badRequest(`couldn't get version/kind; json parse error: ${err.message}`);
      throw err;
    }
    return { value: parsed.value, problems: parsed.duplicateFields.map((f) => `json: duplicate field "${f}"`) };
  }

  private asObject(value: unknown): KubeObject {
    if (!isPlainObject(value)) throw errors.badRequest('the body of the request must be a JSON object');
    if (value.metadata === undefined || value.metadata === null) value.metadata = {};
    return value as KubeObject;
  }

  private respond(req: ApiRequest, status: number, object: unknown, warnings: string[] = []): ApiResponse {
    let rep: Representation;
    try {
      rep = chooseRepresentation(header(req, 'accept'), false);
    } catch {
      rep = { kind: 'object', format: 'json' };
    }
    // Writes answer with the object itself; Table/partial are for reads.
    if (rep.kind !== 'object' && rep.kind !== 'protobuf') rep = { kind: 'object', format: 'json' };
    const response = this.body(status, object, rep);
    if (warnings.length && response.type === 'body') {
      response.headers = { warning: warnings.slice(0, 50).map((w) => `299 - ${JSON.stringify(w)}`) };
    }
    return response;
  }

  private body(status: number, value: unknown, rep: Representation): ApiResponse {
    if (rep.kind === 'table') return { type: 'body', status, body: value, contentType: `application/json;as=Table;v=${rep.version};g=meta.k8s.io` };
    if (rep.kind === 'partial') {
      return { type: 'body', status, body: value, contentType: `application/json;as=PartialObjectMetadata${rep.list ? 'List' : ''};v=${rep.version};g=meta.k8s.io` };
    }
    if (rep.kind === 'protobuf') {
      const object = value as { apiVersion?: unknown; kind?: unknown };
      // Kinds without a protobuf message (custom resources, discovery types) are answered in JSON,
      // as is a stored object whose values do not fit its message (JSON can still carry it).
      if (typeof object?.apiVersion === 'string' && typeof object.kind === 'string' && canEncodeKubernetesProtobuf(object.apiVersion, object.kind)) {
        try {
          return { type: 'body', status, body: Buffer.from(encodeKubernetesProtobuf(object as Record<string, unknown>)), contentType: PROTOBUF_MEDIA_TYPE };
        } catch (err) {
          if (!(err instanceof ProtobufEncodeError)) throw err;
        }
      }
      return { type: 'body', status, body: value, contentType: 'application/json' };
    }
    if (rep.format === 'yaml') return { type: 'body', status, body: toYaml(value), contentType: 'application/yaml' };
    return { type: 'body', status, body: value, contentType: 'application/json' };
  }
}

/** Go's name for a JSON value's type, as its decoder words type errors. */
function goTypeName(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'object' : typeof value;
}

/** Past this many bytes a list is streamed in chunks rather than built as one string. */
const STREAM_LIST_BYTES = 1 << 20;
const LIST_CHUNK_BYTES = 256 * 1024;

/**
 * A JSON list written from its items' stored text: small lists as one body, large ones as a
 * chunked stream that honours back-pressure, so a 10,000-item list never exists as one 40 MB
 * string (and its Buffer copy) in memory.
 */
function streamJsonList(head: string, items: string[]): ApiResponse {
  let size = head.length;
  for (const item of items) size += item.length + 1;
  if (size < STREAM_LIST_BYTES) return { type: 'body', status: 200, body: head + items.join(',') + ']}', contentType: 'application/json' };
  return {
    type: 'stream',
    status: 200,
    contentType: 'application/json',
    start(sink) {
      let next = 0;
      let closed = false;
      sink.onClose(() => (closed = true));
      const pump = () => {
        while (!closed) {
          let chunk = next === 0 ? head : '';
          while (next < items.length && chunk.length < LIST_CHUNK_BYTES) chunk += (next > 0 ? ',' : '') + items[next++];
          const done = next >= items.length;
          if (done) chunk += ']}';
          const flushed = sink.write(chunk);
          if (done) {
            sink.end();
            return;
          }
          if (!flushed) {
            sink.onDrain(pump);
            return;
          }
        }
      };
      pump();
    },
  };
}
