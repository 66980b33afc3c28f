/**
 * The deletion machinery kube-controller-manager provides, running beside the embedded API
 * server: the garbage collector (ownerReferences with background, foreground and orphan
 * propagation) and the namespace controller (a deleted namespace empties, then goes). It reads
 * the store's event stream and writes through the object pipeline, so every write it makes has
 * the same semantics (finalizers, watches, resourceVersions) as a client's.
 */
import { StatusError, type KubeObject } from '@canopy/apimachinery';
import type { ResourceRegistry } from '../registry/registry.js';
import type { ResourceDefinition } from '../registry/types.js';
import { listPrefix } from '../storage/keys.js';
import type { RevisionStore, StoreEvent, WatchHandle } from '../storage/types.js';
import type { ObjectService } from './objects.js';
import { asRecord } from './object-utils.js';

interface Located {
  def: ResourceDefinition;
  namespace: string;
  name: string;
}

const RETRY_MS = 500;

export class LifecycleControllers {
  /** uid → storage key of every live object. */
  private readonly keyByUid = new Map<string, string>();
  /** owner uid → keys of objects that name it in ownerReferences. */
  private readonly dependents = new Map<string, Set<string>>();
  /** key → owner uids it references (to maintain `dependents`). */
  private readonly ownersOf = new Map<string, string[]>();
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

  start(): void {
    const all = this.store.list('/registry/');
    for (const item of all.items) {
      this.index(item.key, item.object);
      // Whatever was pending when the server stopped is picked up again.
      if (item.object.metadata.deletionTimestamp || item.object.metadata.ownerReferences?.length) this.enqueue(item.key);
    }
    this.watch = this.store.watch('/registry/', all.revision, (event) => this.onEvent(event));
  }

  stop(): void {
    this.stopped = true;
    this.watch?.cancel();
    clearTimeout(this.retry);
  }

  private onEvent(event: StoreEvent): void {
    const { key, object } = event;
    if (event.type === 'DELETED') {
      this.unindex(key, object);
      const uid = object.metadata.uid;
      // Dependents may now be orphans; owners waiting in foreground deletion may be done.
      if (uid) for (const dep of this.dependents.get(uid) ?? []) this.enqueue(dep);
      for (const ownerUid of (object.metadata.ownerReferences ?? []).map((r) => r.uid)) {
        const ownerKey = this.keyByUid.get(ownerUid);
        if (ownerKey) this.enqueue(ownerKey);
      }
      const ns = object.metadata.namespace;
      if (ns) this.enqueue(listPrefix('', 'namespaces', '') + ns);
      return;
    }
    this.index(key, object);
    if (object.metadata.deletionTimestamp) this.enqueue(key);
    else if (event.type === 'ADDED' && object.metadata.ownerReferences?.length) this.enqueue(key);
    else if (event.type === 'MODIFIED' && !sameOwners(event.prevObject, object)) this.enqueue(key);
  }

  private index(key: string, object: KubeObject): void {
    const uid = object.metadata.uid;
    if (uid) this.keyByUid.set(uid, key);
    const previous = this.ownersOf.get(key) ?? [];
    const owners = (object.metadata.ownerReferences ?? []).map((r) => r.uid).filter((u): u is string => typeof u === 'string');
    for (const u of previous) if (!owners.includes(u)) this.dependents.get(u)?.delete(key);
    for (const u of owners) {
      let set = this.dependents.get(u);
      if (!set) this.dependents.set(u, (set = new Set()));
      set.add(key);
    }
    if (owners.length) this.ownersOf.set(key, owners);
    else this.ownersOf.delete(key);
  }

  private unindex(key: string, object: KubeObject): void {
    const uid = object.metadata.uid;
    if (uid && this.keyByUid.get(uid) === key) this.keyByUid.delete(uid);
    for (const u of this.ownersOf.get(key) ?? []) {
      const set = this.dependents.get(u);
      set?.delete(key);
      if (set && set.size === 0 && !this.keyByUid.has(u)) this.dependents.delete(u);
    }
    this.ownersOf.delete(key);
  }

  private enqueue(key: string): void {
    this.queue.add(key);
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    // Never write from inside the store's event dispatch: process on the next turn.
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const batch = [...this.queue];
    this.queue.clear();
    const failed: string[] = [];
    for (const key of batch) {
      try {
        this.process(key);
      } catch (err) {
        if (err instanceof StatusError && (err.code === 404 || err.code === 409)) failed.push(key);
        else {
          this.log?.(`lifecycle: ${key}: ${(err as Error).message}`);
          failed.push(key);
        }
      }
    }
    if (failed.length && !this.stopped) {
      clearTimeout(this.retry);
      this.retry = setTimeout(() => failed.forEach((k) => this.enqueue(k)), RETRY_MS);
      this.retry.unref();
    }
  }

  private locate(object: KubeObject): Located | undefined {
    const def = this.registry.forApiVersionKind(object.apiVersion ?? '', object.kind ?? '');
    if (!def || !object.metadata.name) return undefined;
    return { def, namespace: object.metadata.namespace ?? '', name: object.metadata.name };
  }

  private process(key: string): void {
    const stored = this.store.get(key);
    if (!stored) return;
    const object = stored.object;
    const at = this.locate(object);
    if (!at) return;
    if (object.metadata.deletionTimestamp) {
      if (at.def.kind === 'Namespace' && !at.def.group) this.terminateNamespace(at, object);
      const finalizers = object.metadata.finalizers ?? [];
      if (finalizers.includes('orphan')) this.orphanDependents(at, object);
      else if (finalizers.includes('foregroundDeletion')) this.deleteDependentsInForeground(at, object);
      return;
    }
    this.collectIfOrphaned(at, object);
  }

  /** Background GC: an object whose owners are all gone is deleted; dangling references are dropped. */
  private collectIfOrphaned(at: Located, object: KubeObject): void {
    const refs = object.metadata.ownerReferences ?? [];
    if (!refs.length) return;
    const live = refs.filter((r) => this.keyByUid.has(r.uid));
    if (live.length === refs.length) return;
    if (live.length === 0) {
      this.objects.delete(at.def, at.namespace, at.name, { propagationPolicy: 'Background', preconditions: { uid: object.metadata.uid ?? '' } });
      return;
    }
    const next = { ...object, metadata: { ...object.metadata, ownerReferences: live } };
    this.objects.update(at.def, at.namespace, at.name, next);
  }

  private dependentObjects(owner: KubeObject): Array<{ key: string; object: KubeObject }> {
    const uid = owner.metadata.uid;
    if (!uid) return [];
    const out: Array<{ key: string; object: KubeObject }> = [];
    for (const key of this.dependents.get(uid) ?? []) {
      const stored = this.store.get(key);
      if (stored && (stored.object.metadata.ownerReferences ?? []).some((r) => r.uid === uid)) out.push({ key, object: stored.object });
    }
    return out;
  }

  private orphanDependents(at: Located, owner: KubeObject): void {
    const uid = owner.metadata.uid;
    for (const dep of this.dependentObjects(owner)) {
      const where = this.locate(dep.object);
      if (!where) continue;
      const refs = (dep.object.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
      const next: KubeObject = { ...dep.object, metadata: { ...dep.object.metadata, ownerReferences: refs } };
      if (!refs.length) delete next.metadata.ownerReferences;
      this.objects.update(where.def, where.namespace, where.name, next);
    }
    this.removeFinalizer(at, 'orphan');
  }

  private deleteDependentsInForeground(at: Located, owner: KubeObject): void {
    const remaining = this.dependentObjects(owner);
    let blocking = 0;
    for (const dep of remaining) {
      const where = this.locate(dep.object);
      if (!where) continue;
      const ref = (dep.object.metadata.ownerReferences ?? []).find((r) => r.uid === owner.metadata.uid);
      if (ref?.blockOwnerDeletion) blocking++;
      if (!dep.object.metadata.deletionTimestamp) {
        try {
          this.objects.delete(where.def, where.namespace, where.name, { propagationPolicy: 'Foreground' });
        } catch (err) {
          if (!(err instanceof StatusError && err.code === 404)) throw err;
        }
      }
    }
    // Owners wait only for dependents that block their deletion (blockOwnerDeletion), as kube's GC.
    if (blocking === 0) this.removeFinalizer(at, 'foregroundDeletion');
  }

  private removeFinalizer(at: Located, finalizer: string): void {
    const current = this.objects.tryGet(at.def, at.namespace, at.name);
    if (!current || !(current.metadata.finalizers ?? []).includes(finalizer)) return;
    const finalizers = (current.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    const next = { ...current, metadata: { ...current.metadata, finalizers } };
    this.objects.update(at.def, at.namespace, at.name, next, { expectedRevision: Number(current.metadata.resourceVersion) });
  }

  /** Deletes everything in a terminating namespace; once empty, clears its `kubernetes` finalizer. */
  private terminateNamespace(at: Located, namespace: KubeObject): void {
    const name = at.name;
    let remaining = 0;
    for (const def of this.registry.all()) {
      // Resources stored under another resource (events.k8s.io Events) are deleted through it.
      if (!def.namespaced || def.storage) continue;
      const items = this.store.list(listPrefix(def.group, def.resource, name)).items;
      for (const item of items) {
        remaining++;
        if (item.object.metadata.deletionTimestamp) continue;
        try {
          this.objects.delete(def, name, item.object.metadata.name ?? '', { propagationPolicy: 'Background' });
        } catch (err) {
          if (!(err instanceof StatusError && err.code === 404)) throw err;
        }
      }
    }
    if (remaining > 0) {
      // Recount after the deletes: objects without finalizers are already gone.
      remaining = 0;
      for (const def of this.registry.all()) if (def.namespaced && !def.storage) remaining += this.store.count(listPrefix(def.group, def.resource, name));
    }
    if (remaining > 0) return;
    const spec = asRecord(namespace.spec);
    const finalizers = Array.isArray(spec?.finalizers) ? (spec.finalizers as string[]) : [];
    if (!finalizers.includes('kubernetes')) return;
    const next: KubeObject = { ...namespace, spec: { ...spec, finalizers: finalizers.filter((f) => f !== 'kubernetes') }, metadata: { ...namespace.metadata } };
    delete next.metadata.resourceVersion;
    this.objects.update(at.def, '', name, next, { expectedRevision: Number(namespace.metadata.resourceVersion) });
  }
}

function sameOwners(a: KubeObject | undefined, b: KubeObject): boolean {
  const ua = (a?.metadata.ownerReferences ?? []).map((r) => r.uid).join(',');
  const ub = (b.metadata.ownerReferences ?? []).map((r) => r.uid).join(',');
  return ua === ub;
}
