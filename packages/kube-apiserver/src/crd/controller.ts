/**
 * The CRD controllers of apiextensions-apiserver, in process: naming and establishing (status
 * `acceptedNames`, `NamesAccepted`, `Established`, `storedVersions`, written through the status
 * subresource), serving (the ResourceDefinitions of an established CRD's served versions in the
 * registry, so discovery, OpenAPI and the generic REST handler serve them), and finalizing (a
 * deleted CRD's custom objects are deleted, then its `customresourcecleanup` finalizer goes, then
 * its resources stop being served).
 *
 * Like the lifecycle controllers it follows the store's event stream and writes through the
 * object pipeline, never from inside the store's event dispatch. `start` serves the CRDs already
 * stored synchronously, before the server listens, so custom objects stay reachable across
 * restarts.
 *
 * All served versions share one storage key space: the storage version is stored as it is, the
 * other versions through a binding that rewrites `apiVersion` (conversion strategy None).
 */
import { apiVersionOf, errors, jsonDeepEqual, StatusError, type KubeObject } from '@canopy/apimachinery';
import type { ResourceRegistry } from '../registry/registry.js';
import type { ResourceDefinition, StorageBinding } from '../registry/types.js';
import type { AdmissionAttributes, AdmissionPlugin } from '../server/admission.js';
import type { ObjectService } from '../server/objects.js';
import { CRD_CLEANUP_FINALIZER } from '../server/strategies.js';
import { listPrefix, resourcePrefix } from '../storage/keys.js';
import { StorageError, type RevisionStore, type WatchHandle } from '../storage/types.js';
import {
  CRD_GROUP,
  crdStatusFor,
  crdToResourceDefinitions,
  isEstablished,
  storageVersionOf,
  type CustomResourceDefinition,
  type CustomResourceDefinitionCondition,
  type CustomResourceDefinitionNames,
} from './definitions.js';

const CRD_RESOURCE = 'customresourcedefinitions';
const RETRY_MS = 500;

interface Served {
  /** What the definitions were built from: a change re-registers them. */
  fingerprint: string;
  definitions: ResourceDefinition[];
  /** The storage version the stored objects were last brought to. */
  storageVersion: string | undefined;
}

export class CustomResourceDefinitionController {
  /** CRD name → the definitions registered for it. */
  private readonly served = new Map<string, Served>();
  /** Every definition this controller registered (to tell custom resources from built-in ones). */
  private readonly custom = new Set<ResourceDefinition>();
  /** Definitions of CRDs being deleted: no new objects (kube's handler answers 405). */
  private readonly terminating = new Set<ResourceDefinition>();
  private readonly queue = new Set<string>();
  private watch?: WatchHandle;
  private scheduled = false;
  private stopped = false;
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly store: RevisionStore,
    private readonly registry: ResourceRegistry,
    private readonly objects: ObjectService,
    private readonly log?: (message: string) => void,
  ) {}

  /** Serves the stored CRDs now, then follows changes. */
  start(): void {
    const prefix = listPrefix(CRD_GROUP, CRD_RESOURCE, '');
    const all = this.store.list(prefix);
    const failed: string[] = [];
    for (const item of all.items) {
      const name = item.object.metadata.name ?? '';
      if (!this.syncSafely(name)) failed.push(name);
    }
    this.watch = this.store.watch(prefix, all.revision, (event) => this.enqueue(event.object.metadata.name ?? ''));
    for (const name of failed) this.enqueue(name);
  }

  stop(): void {
    this.stopped = true;
    this.watch?.cancel();
    clearTimeout(this.retry);
  }

  /** Refuses new custom objects of a CRD that is being deleted, as kube's custom resource handler does. */
  admission(): AdmissionPlugin {
    return {
      name: 'CustomResourceDefinitionTerminating',
      admit: (attributes: AdmissionAttributes) => {
        if (attributes.operation === 'CREATE' && this.terminating.has(attributes.def)) {
          throw errors.methodNotAllowed('create not allowed while custom resource definition is terminating');
        }
      },
    };
  }

  /** The definitions currently served for a CRD (empty when it is not served). */
  definitionsOf(crdName: string): ResourceDefinition[] {
    return [...(this.served.get(crdName)?.definitions ?? [])];
  }

  private enqueue(name: string): void {
    if (!name) return;
    this.queue.add(name);
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const batch = [...this.queue];
    this.queue.clear();
    const failed = batch.filter((name) => !this.syncSafely(name));
    if (failed.length && !this.stopped) {
      clearTimeout(this.retry);
      this.retry = setTimeout(() => failed.forEach((name) => this.enqueue(name)), RETRY_MS);
      this.retry.unref();
    }
  }

  /** Returns false when the CRD needs another pass (a conflict, objects still being deleted). */
  private syncSafely(name: string): boolean {
    try {
      return this.sync(name);
    } catch (err) {
      if (!(err instanceof StatusError && (err.code === 404 || err.code === 409)))
        this.log?.(`crd controller: ${name}: ${(err as Error).message}`);
      return false;
    }
  }

  private crdDefinition(): ResourceDefinition {
    const def = this.registry.get(CRD_GROUP, 'v1', CRD_RESOURCE);
    if (!def) throw new Error('customresourcedefinitions are not served');
    return def;
  }

  private sync(name: string): boolean {
    const crdDef = this.crdDefinition();
    let crd = this.objects.tryGet(crdDef, '', name) as CustomResourceDefinition | undefined;
    if (!crd) {
      this.unserve(name);
      return true;
    }
    if (crd.metadata.deletionTimestamp) return this.finalize(crdDef, crd);

    const others = this.store
      .list(listPrefix(CRD_GROUP, CRD_RESOURCE, ''))
      .items.map((item) => item.object as CustomResourceDefinition)
      .filter((other) => other.metadata.name !== name);
    const conflict = this.builtinConflict(crd);
    const status = crdStatusFor(crd, { others, ...(conflict ? { namesConflict: conflict } : {}) });
    if (!jsonDeepEqual(status, crd.status)) {
      const next = { ...crd, metadata: { ...crd.metadata }, status } as KubeObject;
      delete next.metadata.resourceVersion;
      crd = this.objects.update(crdDef, '', name, next, {
        subresource: 'status',
        expectedRevision: Number(crd.metadata.resourceVersion),
      }).object as CustomResourceDefinition;
    }
    if (isEstablished(crd)) this.serve(crd);
    return true;
  }

  /**
   * A requested name that a resource of the group not defined by a CRD (a built-in kind) already
   * uses. kube's naming controller looks at other CRDs only; a CRD shadowing a built-in resource
   * would make that resource unreachable here, so it is refused the same way.
   */
  private builtinConflict(crd: CustomResourceDefinition): string | undefined {
    const group = crd.spec?.group;
    const names: Partial<CustomResourceDefinitionNames> = crd.spec?.names ?? {};
    const resources = [names.plural, names.singular, ...(names.shortNames ?? [])].filter((n): n is string => !!n);
    const kinds = [names.kind, names.listKind].filter((n): n is string => !!n);
    for (const def of this.registry.all()) {
      if (def.group !== group || this.custom.has(def)) continue;
      const taken = resources.find((r) => r === def.resource || r === def.singular || (def.shortNames ?? []).includes(r));
      if (taken) return `${JSON.stringify(taken)} is already in use`;
      const kind = kinds.find((k) => k === def.kind || k === def.listKind);
      if (kind) return `${JSON.stringify(kind)} is already in use`;
    }
    return undefined;
  }

  /** Registers (or re-registers, after a change) the CRD's served versions. */
  private serve(crd: CustomResourceDefinition): void {
    const name = crd.metadata.name ?? '';
    const fingerprint = JSON.stringify([crd.spec, crd.status?.acceptedNames]);
    const existing = this.served.get(name);
    if (existing?.fingerprint === fingerprint) return;
    const definitions = withSharedStorage(crd, crdToResourceDefinitions(crd));
    const path = (d: ResourceDefinition) => `${d.group}/${d.version}/${d.resource}`;
    const next = new Set(definitions.map(path));
    for (const old of existing?.definitions ?? []) {
      this.custom.delete(old);
      if (!next.has(path(old))) this.registry.remove(old.group, old.version, old.resource);
    }
    for (const def of definitions) {
      this.custom.add(def);
      this.registry.add(def);
    }
    const storageVersion = storageVersionOf(crd);
    this.served.set(name, { fingerprint, definitions, storageVersion });
    this.orderVersions(crd.spec.group);
    const plural = definitions[0]?.resource;
    if (storageVersion && plural && storageVersion !== existing?.storageVersion)
      this.migrateStorage(crd.spec.group, plural, storageVersion);
  }

  /**
   * Brings objects stored under an earlier storage version to the current one. kube serves them
   * converted and leaves the rewrite to the storage version migrator; with conversion strategy
   * None the conversion is the apiVersion, and once rewritten every version's binding reads them
   * right. Runs when the storage version changes and when the server starts.
   */
  private migrateStorage(group: string, plural: string, storageVersion: string): void {
    const storedAs = apiVersionOf(group, storageVersion);
    for (const item of this.store.list(resourcePrefix(group, plural)).items) {
      if (item.object.apiVersion === storedAs) continue;
      try {
        this.store.update(item.key, { ...item.object, apiVersion: storedAs }, item.modRevision);
      } catch (err) {
        // Written meanwhile: that write stored it in the current version.
        if (!(err instanceof StorageError)) throw err;
      }
    }
  }

  private unserve(name: string): void {
    const existing = this.served.get(name);
    if (!existing) return;
    this.served.delete(name);
    for (const def of existing.definitions) {
      this.custom.delete(def);
      this.terminating.delete(def);
      this.registry.remove(def.group, def.version, def.resource);
    }
    if (existing.definitions.length) this.orderVersions(existing.definitions[0].group);
  }

  /** A group served by CRDs only lists its versions by kube's version priority (the preferred one first). */
  private orderVersions(group: string): void {
    const versions = this.registry.groups().find((g) => g.name === group)?.versions;
    if (!versions) return;
    if (this.registry.all().some((d) => d.group === group && !this.custom.has(d))) return;
    const sorted = [...versions].sort(compareKubeAwareVersions);
    if (sorted.join() !== versions.join()) this.registry.setVersionOrder(group, sorted);
  }

  /**
   * The deletion of a CRD (kube's CRDFinalizer): marks it Terminating, deletes every custom
   * object, and once none is left removes the cleanup finalizer and stops serving.
   */
  private finalize(crdDef: ResourceDefinition, crd: CustomResourceDefinition): boolean {
    const name = crd.metadata.name ?? '';
    if (!(crd.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) {
      // Other finalizers hold it: kube keeps serving until the object is gone.
      return true;
    }
    const definitions = this.served.get(name)?.definitions ?? withSharedStorage(crd, crdToResourceDefinitions(crd));
    for (const def of definitions) this.terminating.add(def);
    if (!hasCondition(crd, 'Terminating', 'True')) {
      const conditions = [...(crd.status?.conditions ?? [])].filter((c) => c.type !== 'Terminating');
      const terminating: CustomResourceDefinitionCondition = {
        type: 'Terminating',
        status: 'True',
        lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        reason: 'InstanceDeletionInProgress',
        message: 'CustomResource deletion is in progress',
      };
      const next = {
        ...crd,
        metadata: { ...crd.metadata },
        status: { ...crd.status, conditions: [...conditions, terminating] },
      } as KubeObject;
      delete next.metadata.resourceVersion;
      crd = this.objects.update(crdDef, '', name, next, {
        subresource: 'status',
        expectedRevision: Number(crd.metadata.resourceVersion),
      }).object as CustomResourceDefinition;
    }

    // Every version is stored under the same key space; deleting through one definition reaches all objects.
    const storageDef = definitions.find((d) => !d.storage) ?? definitions[0];
    const plural = crd.status?.acceptedNames?.plural || crd.spec?.names?.plural;
    if (storageDef) {
      for (const item of this.store.list(listPrefix(storageDef.group, storageDef.resource, '')).items) {
        if (item.object.metadata.deletionTimestamp) continue;
        try {
          this.objects.delete(storageDef, item.object.metadata.namespace ?? '', item.object.metadata.name ?? '', {
            propagationPolicy: 'Background',
          });
        } catch (err) {
          if (!(err instanceof StatusError && err.code === 404)) throw err;
        }
      }
    }
    // Objects with finalizers of their own are waited for.
    if (plural && this.store.count(resourcePrefix(crd.spec.group, plural)) > 0) return false;

    const finalizers = (crd.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    const next = { ...crd, metadata: { ...crd.metadata, finalizers } } as KubeObject;
    if (!finalizers.length) delete next.metadata.finalizers;
    delete next.metadata.resourceVersion;
    this.objects.update(crdDef, '', name, next, { expectedRevision: Number(crd.metadata.resourceVersion) });
    this.unserve(name);
    return true;
  }
}

function hasCondition(crd: CustomResourceDefinition, type: string, status: string): boolean {
  return (crd.status?.conditions ?? []).some((c) => c.type === type && c.status === status);
}

/** Bindings for the versions other than the storage version: stored as the storage version, served as their own. */
function withSharedStorage(crd: CustomResourceDefinition, definitions: ResourceDefinition[]): ResourceDefinition[] {
  const storage = storageVersionOf(crd);
  if (!storage) return definitions;
  return definitions.map((def) => {
    if (def.version === storage) return def;
    const storedAs = apiVersionOf(def.group, storage);
    const servedAs = apiVersionOf(def.group, def.version);
    const binding: StorageBinding = {
      group: def.group,
      resource: def.resource,
      toStorage: (object) => ({ ...object, apiVersion: storedAs }),
      fromStorage: (object) => ({ ...object, apiVersion: servedAs }),
    };
    return { ...def, storage: binding };
  });
}

const KUBE_VERSION = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/**
 * kube's version priority (CompareKubeAwareVersionStrings), highest first: GA versions by major,
 * then betas, then alphas (each by major, then minor); versions of another form come last,
 * alphabetically.
 */
export function compareKubeAwareVersions(a: string, b: string): number {
  const ma = KUBE_VERSION.exec(a);
  const mb = KUBE_VERSION.exec(b);
  if (!ma && !mb) return a < b ? -1 : a > b ? 1 : 0;
  if (!ma) return 1;
  if (!mb) return -1;
  const stability = (m: RegExpExecArray) => (m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0);
  if (stability(ma) !== stability(mb)) return stability(mb) - stability(ma);
  if (Number(ma[1]) !== Number(mb[1])) return Number(mb[1]) - Number(ma[1]);
  return Number(mb[3] ?? 0) - Number(ma[3] ?? 0);
}
