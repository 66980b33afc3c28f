/**
 * The object pipeline shared by every resource: the semantics kube-apiserver's generic registry
 * gives each write (defaults, create/update strategies, validation, optimistic concurrency,
 * finalizers and graceful deletion) in one place, driven by the resource definition. The REST
 * layer decodes requests into calls here; in-process controllers call it too.
 */
import { randomUUID } from 'node:crypto';
import {
  apiVersionOf,
  applyConfiguration,
  applyConflictError,
  errors,
  fieldErrors,
  fieldPathOf,
  FieldSet,
  isPlainObject,
  StatusError,
  updateManagedFields,
  type KubeObject,
  type StatusCause,
} from '@canopy/apimachinery';
import { listPrefix, objectKey } from '../storage/keys.js';
import { StorageError, type RevisionStore } from '../storage/types.js';
import type { ResourceDefinition } from '../registry/types.js';
import { asRecord, clone, deepEqual, randomSuffix, rfc3339 } from './object-utils.js';
import type { SchemaSupport } from './schema-support.js';
import { AdmissionChain, SYSTEM_USER, type AdmissionAttributes } from './admission.js';
import type { UserInfo } from './types.js';
import type { KindStrategies } from './strategies.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  /** Who writes (admission sees it); the API server's own identity when absent. */
  user?: UserInfo;
  dryRun?: boolean;
  fieldValidation?: FieldValidation;
  fieldManager?: string;
  /** The pipeline may change `input` in place (a body decoded for this request only). */
  inputOwned?: boolean;
  /** Unknown fields found while decoding (duplicates or not in the schema), reported per fieldValidation. */
  decodeProblems?: string[];
  /** metadata.managedFields of the input were computed by server-side apply: store them as they are. */
  managedFieldsFromApply?: boolean;
}

export interface ApplyOptions extends WriteOptions {
  /** Take ownership of conflicting fields instead of failing with 409. */
  force?: boolean;
  subresource?: 'status';
}

export interface WriteResult {
  object: KubeObject;
  warnings: string[];
  /** An update that created the object (PUT/apply to a missing name). */
  created?: boolean;
}

export interface DeleteOptions {
  user?: UserInfo;
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  orphanDependents?: boolean;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface DeleteResult {
  /** The object as it now stands: gone (last state) or marked for deletion. */
  object: KubeObject;
  /** True when the object left storage; false while finalizers or a grace period hold it. */
  deleted: boolean;
}

export interface ListQuery {
  labelSelector?: (labels: Record<string, string>) => boolean;
  fieldSelector?: (object: KubeObject) => boolean;
  limit?: number;
  continueToken?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListOutcome {
  items: KubeObject[];
  /** The items serialised, when storage had them so (a list is then written without JSON.stringify). */
  itemsJson?: string[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

const CONFLICT_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

export class ObjectService {
  constructor(
    private readonly store: RevisionStore,
    private readonly schemas: SchemaSupport,
    private readonly strategies: KindStrategies,
    readonly admission: AdmissionChain = new AdmissionChain(),
  ) {}

  ref(def: ResourceDefinition) {
    return { group: def.group, resource: def.resource, kind: def.kind };
  }

  key(def: ResourceDefinition, namespace: string, name: string): string {
    const where = def.storage ?? def;
    return objectKey(where.group, where.resource, def.namespaced ? namespace : '', name);
  }

  /** The prefix of a list in storage (shared by every resource stored in the same place). */
  listPrefix(def: ResourceDefinition, namespace: string): string {
    const where = def.storage ?? def;
    return listPrefix(where.group, where.resource, def.namespaced ? namespace : '');
  }

  /** A stored object as this resource serves it. */
  served(def: ResourceDefinition, object: KubeObject): KubeObject {
    return def.storage ? def.storage.fromStorage(object) : object;
  }

  private toStorage(def: ResourceDefinition, object: KubeObject): KubeObject {
    return def.storage ? def.storage.toStorage(object) : object;
  }

  private read(def: ResourceDefinition, key: string): { object: KubeObject; modRevision: number } | undefined {
    const stored = this.store.get(key);
    return stored && { object: this.served(def, stored.object), modRevision: stored.modRevision };
  }

  /**
   * Reads one object. A GET's resourceVersion means "not older than" (kube's semantics), so the
   * latest state always satisfies it; only a revision the server has not reached is refused.
   */
  get(def: ResourceDefinition, namespace: string, name: string, resourceVersion?: string): KubeObject {
    if (resourceVersion && resourceVersion !== '0') this.checkNotFuture(this.parseRevision(resourceVersion));
    const stored = this.read(def, this.key(def, namespace, name));
    if (!stored) throw errors.notFound(this.ref(def), name);
    return stored.object;
  }

  private checkNotFuture(rv: number): void {
    if (rv > this.store.currentRevision()) {
      throw new StatusError(504, 'Timeout', `Too large resource version: ${rv}, current: ${this.store.currentRevision()}`, {
        causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
        retryAfterSeconds: 1,
      });
    }
  }

  tryGet(def: ResourceDefinition, namespace: string, name: string): KubeObject | undefined {
    return this.read(def, this.key(def, namespace, name))?.object;
  }

  list(def: ResourceDefinition, namespace: string, query: ListQuery): ListOutcome {
    const prefix = this.listPrefix(def, namespace);
    // Without selectors no filter is passed, so the store can count the remaining items.
    const filter =
      query.labelSelector || query.fieldSelector
        ? (stored: KubeObject): boolean => {
            const object = this.served(def, stored);
            return (!query.labelSelector || query.labelSelector(object.metadata.labels ?? {})) && (!query.fieldSelector || query.fieldSelector(object));
          }
        : undefined;
    let atRevision: number | undefined;
    let startAfter: string | undefined;
    if (query.continueToken) {
      const token = decodeContinue(query.continueToken);
      if (!token.start.startsWith(prefix.slice(0, prefix.indexOf('/', '/registry/'.length) + 1))) {
        throw errors.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
      }
      atRevision = token.rv;
      startAfter = token.start;
    } else if (query.resourceVersion && query.resourceVersion !== '0') {
      const rv = this.parseRevision(query.resourceVersion);
      const exact = query.resourceVersionMatch === 'Exact' || (!query.resourceVersionMatch && query.limit && query.limit > 0);
      this.checkNotFuture(rv);
      if (exact && rv < this.store.currentRevision()) atRevision = rv;
    } else if (query.resourceVersionMatch && query.resourceVersionMatch !== 'NotOlderThan') {
      throw errors.badRequest(`resourceVersionMatch "${query.resourceVersionMatch}" is forbidden for resourceVersion ""`);
    }
    try {
      const result = this.store.list(prefix, {
        ...(atRevision !== undefined ? { atRevision } : {}),
        ...(startAfter !== undefined ? { startAfter } : {}),
        ...(query.limit ? { limit: query.limit } : {}),
        ...(filter ? { filter } : {}),
      });
      const items = result.items.map((s) => this.served(def, s.object));
      const outcome: ListOutcome = { items, resourceVersion: String(result.revision) };
      if (!def.storage && result.items.every((s) => s.json !== undefined)) outcome.itemsJson = result.items.map((s) => s.json as string);
      if (result.more && items.length) {
        outcome.continueToken = encodeContinue(result.revision, result.items[result.items.length - 1].key);
        if (result.remaining !== undefined) outcome.remainingItemCount = result.remaining;
      }
      return outcome;
    } catch (err) {
      if (err instanceof StorageError && err.code === 'Compacted' && query.continueToken) {
        throw errors.expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      throw this.storageError(err, def, '');
    }
  }

  create(def: ResourceDefinition, namespace: string, input: KubeObject, options: WriteOptions = {}): WriteResult {
    const warnings = this.checkDecodeProblems(def, input, options);
    const object = options.inputOwned ? input : clone(input);
    this.checkTypeMeta(def, object);
    if (def.namespaced) {
      const given = object.metadata.namespace;
      if (given && namespace && given !== namespace) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      object.metadata.namespace = namespace || given || '';
    } else {
      delete object.metadata.namespace;
    }
    if (!object.metadata.name && object.metadata.generateName) object.metadata.name = object.metadata.generateName + randomSuffix();
    // Validation may replace nested values (pruning), so metadata is read only afterwards.
    this.validateSchema(def, object, options.fieldValidation, warnings);
    this.strategies.defaults(def, object);
    const meta = object.metadata;
    // System-owned metadata: clients cannot choose these.
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.resourceVersion;
    delete meta.selfLink;
    if (def.tracksGeneration || !def.schemaName) meta.generation = 1;
    else delete meta.generation;
    if (def.statusSubresourceSemantics) delete object.status;
    this.strategies.prepareForCreate(def, object);
    const attributes: AdmissionAttributes = {
      operation: 'CREATE',
      def,
      namespace: meta.namespace ?? '',
      name: meta.name ?? '',
      object,
      user: options.user ?? SYSTEM_USER,
      dryRun: !!options.dryRun,
    };
    this.admission.admit(attributes);
    this.validateOrThrow(def, object, undefined);
    this.admission.validate(attributes);
    if (!options.managedFieldsFromApply) this.recordManagedFields(def, undefined, object, options.fieldManager);
    this.strategies.beforeCreate(def, object, !!options.dryRun);
    if (options.dryRun) return { object, warnings };
    try {
      const stored = this.store.create(this.key(def, meta.namespace ?? '', meta.name ?? ''), this.toStorage(def, object));
      return { object: this.served(def, stored.object), warnings };
    } catch (err) {
      throw this.storageError(err, def, meta.name ?? '');
    }
  }

  /**
   * Replaces an object (PUT, or the result of a patch). `subresource` status/scale writes only
   * that part. A write that changes nothing stores nothing and returns the current object.
   */
  update(
    def: ResourceDefinition,
    namespace: string,
    name: string,
    input: KubeObject,
    options: WriteOptions & { subresource?: 'status'; expectedRevision?: number } = {},
  ): WriteResult {
    const warnings = this.checkDecodeProblems(def, input, options);
    const key = this.key(def, namespace, name);
    const current = this.read(def, key);
    if (!current) throw errors.notFound(this.ref(def), name);
    const object = options.inputOwned ? input : clone(input);
    this.checkTypeMeta(def, object);
    const meta = object.metadata;
    if (meta.name !== name) {
      throw errors.badRequest(`the name of the object (${meta.name ?? ''}) does not match the name on the URL (${name})`);
    }
    if (def.namespaced && meta.namespace && meta.namespace !== namespace) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    meta.name = name;
    if (def.namespaced) meta.namespace = namespace;
    else delete meta.namespace;
    // A uid in the body is a precondition (kube's update preconditions), never silently replaced.
    if (meta.uid && meta.uid !== current.object.metadata.uid) {
      throw errors.conflict(
        this.ref(def),
        name,
        `Precondition failed: UID in precondition: ${String(meta.uid)}, UID in object meta: ${current.object.metadata.uid ?? ''}`,
      );
    }
    if (meta.resourceVersion) {
      const rv = this.parseRevision(meta.resourceVersion, 'metadata.resourceVersion');
      if (rv !== current.modRevision) throw errors.conflict(this.ref(def), name, CONFLICT_MESSAGE);
    }
    if (options.expectedRevision !== undefined && options.expectedRevision !== current.modRevision) {
      throw errors.conflict(this.ref(def), name, CONFLICT_MESSAGE);
    }
    this.validateSchema(def, object, options.fieldValidation, warnings);
    this.strategies.defaults(def, object);
    const old = current.object;
    const next = options.subresource === 'status' ? this.prepareStatusUpdate(old, object) : this.prepareUpdate(def, old, object);
    if (options.subresource === 'status' && options.managedFieldsFromApply) {
      if (object.metadata.managedFields) next.metadata.managedFields = object.metadata.managedFields;
      else delete next.metadata.managedFields;
    }
    const attributes: AdmissionAttributes = {
      operation: 'UPDATE',
      def,
      namespace,
      name,
      ...(options.subresource ? { subresource: options.subresource } : {}),
      object: next,
      oldObject: old,
      user: options.user ?? SYSTEM_USER,
      dryRun: !!options.dryRun,
    };
    this.admission.admit(attributes);
    this.validateOrThrow(def, next, old, options.subresource);
    this.admission.validate(attributes);
    if (!options.managedFieldsFromApply) this.recordManagedFields(def, old, next, options.fieldManager, options.subresource);
    if (sameIgnoringVersion(next, old)) return { object: old, warnings };
    if (options.dryRun) return { object: { ...next, metadata: { ...next.metadata, resourceVersion: old.metadata.resourceVersion } }, warnings };
    // kube's ShouldDeleteDuringUpdate: an update that leaves a deleting object without
    // finalizers removes it only when its deletion is not graceful. A pod still in its grace
    // period stays until its kubelet confirms termination (a DELETE with grace period 0), so the
    // kubelet's final status writes are kept and watchers see them.
    const graceful = (old.metadata.deletionGracePeriodSeconds ?? 0) > 0;
    if (next.metadata.deletionTimestamp && !graceful && this.strategies.pendingFinalizers(def, next).length === 0) {
      return { object: this.removeFromStore(def, key, name, current.modRevision), warnings };
    }
    try {
      return { object: this.served(def, this.store.update(key, this.toStorage(def, next), current.modRevision).object), warnings };
    } catch (err) {
      throw this.storageError(err, def, name);
    }
  }

  /**
   * Server-side apply (PATCH application/apply-patch+yaml): merges the configuration into the
   * stored object as `options.fieldManager`, or creates the object when it does not exist (main
   * resource only). Conflicts with other managers are kube's 409 unless `force`. The result goes
   * through the ordinary create/update pipeline (defaults, validation, admission).
   */
  apply(def: ResourceDefinition, namespace: string, name: string, config: unknown, options: ApplyOptions): WriteResult {
    const current = this.tryGet(def, namespace, name);
    if (!current && options.subresource) throw errors.notFound(this.ref(def), name);
    if (options.fieldValidation === 'Strict' && isPlainObject(config)) {
      // Refuse unknown fields the way other writes do, before the merge reports them as a typing error.
      this.schemas.validate(def, clone(config) as KubeObject, 'Strict', []);
    }
    const schema = this.schemas.schemaOf(def);
    const result = applyConfiguration({
      live: current,
      config,
      manager: options.fieldManager ?? '',
      force: !!options.force,
      schema,
      resolver: this.schemas.resolver,
      apiVersion: apiVersionOf(def.group, def.version),
      kind: def.kind,
      ...(options.subresource ? { subresource: options.subresource } : {}),
      ...ignoredFieldsOption(def, current ?? (config as KubeObject), options.subresource),
    });
    if (result.conflicts) throw applyConflictError(result.conflicts);
    const object = result.object;
    const given = object.metadata.name;
    if (given !== undefined && given !== name) {
      throw errors.badRequest(`the name of the object (${String(given)}) does not match the name on the URL (${name})`);
    }
    object.metadata.name = name;
    const writeOptions: WriteOptions = { ...options, inputOwned: true, managedFieldsFromApply: true };
    if (!current) return { ...this.create(def, namespace, object, writeOptions), created: true };
    return this.update(def, namespace, name, object, {
      ...writeOptions,
      expectedRevision: Number(current.metadata.resourceVersion),
      ...(options.subresource ? { subresource: options.subresource } : {}),
    });
  }

  /**
   * Keeps metadata.managedFields of a non-apply write (kube's FieldManager.UpdateNoErrors): the
   * writer gets an `Update` entry for what it changed. `next` is changed in place.
   */
  private recordManagedFields(def: ResourceDefinition, old: KubeObject | undefined, next: KubeObject, manager: string | undefined, subresource?: 'status'): void {
    // Compared before the server sets resourceVersion, so that a no-op write keeps the stored entries.
    const after = old ? { ...next, metadata: { ...next.metadata, resourceVersion: old.metadata.resourceVersion } } : next;
    const entries = updateManagedFields({
      old,
      next: after,
      manager: manager ?? '',
      ...(subresource ? { subresource } : {}),
      schema: this.schemas.schemaOf(def),
      resolver: this.schemas.resolver,
      apiVersion: apiVersionOf(def.group, def.version),
      ...ignoredFieldsOption(def, next, subresource),
    });
    if (entries.length > 0) next.metadata.managedFields = entries;
    else delete next.metadata.managedFields;
  }

  delete(def: ResourceDefinition, namespace: string, name: string, options: DeleteOptions = {}): DeleteResult {
    const key = this.key(def, namespace, name);
    const current = this.read(def, key);
    if (!current) throw errors.notFound(this.ref(def), name);
    const old = current.object;
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid) {
      throw errors.conflict(
        this.ref(def),
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid ?? ''}`,
      );
    }
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw errors.conflict(
        this.ref(def),
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion ?? ''}`,
      );
    }
    if (options.propagationPolicy && !['Foreground', 'Background', 'Orphan'].includes(options.propagationPolicy)) {
      throw errors.invalid({ group: 'meta.k8s.io', resource: 'deleteoptions', kind: 'DeleteOptions' }, '', [
        fieldErrors.notSupported('propagationPolicy', options.propagationPolicy, ['Foreground', 'Background', 'Orphan']),
      ]);
    }
    if (options.orphanDependents !== undefined && options.propagationPolicy) {
      throw errors.invalid({ group: 'meta.k8s.io', resource: 'deleteoptions', kind: 'DeleteOptions' }, '', [
        fieldErrors.invalid('propagationPolicy', options.propagationPolicy, 'orphanDependents and deletionPropagation cannot be both set'),
      ]);
    }
    this.admission.validate({ operation: 'DELETE', def, namespace, name, oldObject: old, user: options.user ?? SYSTEM_USER, dryRun: !!options.dryRun });
    const policy = options.propagationPolicy ?? (options.orphanDependents ? 'Orphan' : 'Background');
    const next = clone(old);
    const finalizers = new Set(next.metadata.finalizers ?? []);
    const alreadyDeleting = !!old.metadata.deletionTimestamp;
    // A repeated delete may change the propagation, as kube's deletion update does.
    if (policy === 'Foreground') {
      finalizers.add('foregroundDeletion');
      finalizers.delete('orphan');
    } else if (policy === 'Orphan') {
      finalizers.add('orphan');
      finalizers.delete('foregroundDeletion');
    } else if (!alreadyDeleting) {
      // Background: dependents go after the owner is gone.
    }
    if (finalizers.size) next.metadata.finalizers = [...finalizers];
    else delete next.metadata.finalizers;
    const grace = this.strategies.gracePeriod(def, next, options.gracePeriodSeconds);
    const pending = this.strategies.pendingFinalizers(def, next);
    if (pending.length === 0 && grace === 0) {
      if (options.dryRun) return { object: old, deleted: true };
      return { object: this.removeFromStore(def, key, name, current.modRevision), deleted: true };
    }
    // Graceful or finalized deletion: mark, and let the owner of the finalizer (or kubelet) finish.
    if (!alreadyDeleting) {
      next.metadata.deletionTimestamp = rfc3339(new Date(Date.now() + grace * 1000));
      next.metadata.deletionGracePeriodSeconds = grace;
      if (next.metadata.generation !== undefined) next.metadata.generation += 1;
    } else if (grace < (old.metadata.deletionGracePeriodSeconds ?? 0)) {
      // A shorter grace period may shorten a pending graceful deletion, never lengthen it.
      next.metadata.deletionTimestamp = rfc3339(new Date(Date.now() + grace * 1000));
      next.metadata.deletionGracePeriodSeconds = grace;
    }
    this.strategies.onDeletionMarked(def, next);
    if (options.dryRun || sameIgnoringVersion(next, old)) return { object: options.dryRun ? next : old, deleted: false };
    try {
      return { object: this.served(def, this.store.update(key, this.toStorage(def, next), current.modRevision).object), deleted: false };
    } catch (err) {
      throw this.storageError(err, def, name);
    }
  }

  /** Removes an object whose deletion has completed (no finalizers left, grace period over). */
  private removeFromStore(def: ResourceDefinition, key: string, name: string, expectedRevision: number): KubeObject {
    try {
      return this.served(def, this.store.delete(key, expectedRevision).object);
    } catch (err) {
      throw this.storageError(err, def, name);
    }
  }

  /** The update strategy of the main resource: system metadata and status stay as stored. */
  private prepareUpdate(def: ResourceDefinition, old: KubeObject, object: KubeObject): KubeObject {
    const meta = object.metadata;
    const oldMeta = old.metadata;
    meta.uid = oldMeta.uid;
    meta.creationTimestamp = oldMeta.creationTimestamp;
    if (oldMeta.deletionTimestamp) meta.deletionTimestamp = oldMeta.deletionTimestamp;
    else delete meta.deletionTimestamp;
    if (oldMeta.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
    else delete meta.deletionGracePeriodSeconds;
    if (meta.managedFields === undefined && oldMeta.managedFields) meta.managedFields = oldMeta.managedFields;
    delete meta.selfLink;
    delete meta.resourceVersion;
    if (def.statusSubresourceSemantics) {
      if (old.status === undefined) delete object.status;
      else object.status = old.status;
    }
    if (oldMeta.generation !== undefined) {
      meta.generation = oldMeta.generation;
      if (!deepEqual(specOf(object), specOf(old))) meta.generation += 1;
    } else {
      delete meta.generation;
    }
    this.strategies.prepareForUpdate(def, object, old);
    return object;
  }

  /** The status strategy: only status changes; metadata and spec stay as stored. */
  private prepareStatusUpdate(old: KubeObject, object: KubeObject): KubeObject {
    const next = clone(old);
    if (object.status === undefined) delete next.status;
    else next.status = object.status;
    delete next.metadata.resourceVersion;
    return next;
  }

  /** Types, required fields and unknown fields against the kind's schema (before defaults, as decoding is in kube). */
  private validateSchema(def: ResourceDefinition, object: KubeObject, mode: FieldValidation | undefined, warnings: string[]): void {
    const causes = this.schemas.validate(def, object, mode ?? 'Warn', warnings);
    if (causes.length) throw errors.invalid(this.ref(def), object.metadata?.name ?? '', causes);
  }

  private validateOrThrow(def: ResourceDefinition, object: KubeObject, old: KubeObject | undefined, subresource?: 'status'): void {
    const causes: StatusCause[] = this.strategies.validate(def, object, old, subresource);
    if (causes.length) throw errors.invalid(this.ref(def), object.metadata?.name ?? '', causes);
  }

  /** apiVersion/kind in a body must name this resource's kind (both may be omitted). */
  private checkTypeMeta(def: ResourceDefinition, object: KubeObject): void {
    if (!isPlainObject(object)) throw errors.badRequest('the body of the request must be a JSON object');
    const expected = apiVersionOf(def.group, def.version);
    if (object.apiVersion !== undefined && object.apiVersion !== expected) {
      throw errors.badRequest(`the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${expected})`);
    }
    if (object.kind !== undefined && object.kind !== def.kind) {
      throw errors.badRequest(`the kind in the data (${String(object.kind)}) does not match the expected kind (${def.kind})`);
    }
    object.apiVersion = expected;
    object.kind = def.kind;
    if (object.metadata === undefined) object.metadata = {};
    if (!isPlainObject(object.metadata)) {
      throw errors.invalid(this.ref(def), '', [fieldErrors.typeInvalid('metadata', object.metadata, 'must be an object')]);
    }
  }

  private checkDecodeProblems(def: ResourceDefinition, input: KubeObject, options: WriteOptions): string[] {
    const problems = options.decodeProblems ?? [];
    if (!problems.length) return [];
    if (options.fieldValidation === 'Strict') {
      throw errors.badRequest(`strict decoding error: ${problems.join(', ')}`);
    }
    if (options.fieldValidation === 'Ignore') return [];
    void def;
    void input;
    return [...problems];
  }

  parseRevision(value: string, field = 'resourceVersion'): number {
    if (!/^[0-9]{1,15}$/.test(value)) {
      throw errors.badRequest(`invalid ${field}: "${value.length > 64 ? value.slice(0, 64) + '…' : value}": must be a decimal revision`);
    }
    return Number(value);
  }

  storageError(err: unknown, def: ResourceDefinition, name: string): Error {
    if (!(err instanceof StorageError)) return err as Error;
    switch (err.code) {
      case 'KeyExists':
        return errors.alreadyExists(this.ref(def), name);
      case 'KeyNotFound':
        return errors.notFound(this.ref(def), name);
      case 'Conflict':
        return errors.conflict(this.ref(def), name, CONFLICT_MESSAGE);
      case 'Compacted':
        return errors.expired(`too old resource version: ${err.message}`);
      default:
        return errors.internal(err.message);
    }
  }
}

function specOf(object: KubeObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(object)) if (k !== 'metadata' && k !== 'status' && k !== 'apiVersion' && k !== 'kind') out[k] = v;
  return out;
}

/** Fields the endpoint resets and never gives owners: status on the main resource, everything but status on /status. */
const STATUS_FIELDS = FieldSet.of(fieldPathOf('status'));

function ignoredFieldsOption(def: ResourceDefinition, object: KubeObject | undefined, subresource: 'status' | undefined): { ignoredFields?: FieldSet } {
  if (subresource === 'status') {
    const others = Object.keys(isPlainObject(object) ? object : {}).filter((k) => k !== 'apiVersion' && k !== 'kind' && k !== 'metadata' && k !== 'status');
    return { ignoredFields: FieldSet.of(fieldPathOf('metadata', 'labels'), fieldPathOf('metadata', 'annotations'), ...others.map((k) => fieldPathOf(k))) };
  }
  return def.statusSubresourceSemantics ? { ignoredFields: STATUS_FIELDS } : {};
}

/** Same object but for resourceVersion; managedFields count, so an ownership-only change is stored. */
function sameIgnoringVersion(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
  return deepEqual(strip(a), strip(b));
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

/** The continue token kube-apiserver uses: base64 JSON of the list's revision and the last key. */
export function encodeContinue(revision: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: revision, start: lastKey })).toString('base64url');
}

export function decodeContinue(token: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw errors.badRequest('continue key is not valid: illegal base64 data');
  }
  const t = asRecord(parsed);
  if (!t || t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string' || !Number.isSafeInteger(t.rv) || t.rv < 0) {
    throw errors.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  return { v: t.v, rv: t.rv, start: t.start };
}
