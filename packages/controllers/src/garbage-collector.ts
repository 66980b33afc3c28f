/**
 * The garbage collector (kube's pkg/controller/garbagecollector): follows every deletable kind
 * through informers, keeps the ownership graph (owner uid → dependents) and
 *  - deletes an object whose owners are all gone (background propagation) and drops references
 *    to owners that are gone while others remain;
 *  - foreground deletion: an owner being deleted with the `foregroundDeletion` finalizer has its
 *    dependents deleted first, and loses the finalizer once no dependent with
 *    `blockOwnerDeletion` remains;
 *  - orphan deletion: an owner being deleted with the `orphan` finalizer has its reference
 *    removed from every dependent, then loses the finalizer.
 * Owners missing from the graph are looked up on the server before anything is deleted (the
 * graph may lag), and every write carries the object's uid and resourceVersion as preconditions.
 */
import type { KubeObject, OwnerReference } from '@canopy/apimachinery';
import { isConflict, isNotFound, WorkQueue } from '@canopy/client';
import type { Controller, ControllerContext, ControllerFactory } from './context.js';
import type { ServedResource } from './discovery.js';
import { isEvents, ServedResourceInformers } from './served-resources.js';

export const FOREGROUND_FINALIZER = 'foregroundDeletion';
export const ORPHAN_FINALIZER = 'orphan';

interface GraphNode {
  uid: string;
  type: ServedResource;
  namespace?: string;
  name: string;
  owners: OwnerReference[];
  finalizers: string[];
  beingDeleted: boolean;
}

type Item = `delete:${string}` | `orphan:${string}`;

/** Owners confirmed absent, remembered so a thousand dependents cost one lookup. */
const ABSENT_OWNER_CACHE_SIZE = 1000;

export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector';
  private readonly nodes = new Map<string, GraphNode>();
  /** owner uid → dependent uids (the owner may be absent from the graph). */
  private readonly dependents = new Map<string, Set<string>>();
  private readonly absentOwners = new Map<string, true>();
  private readonly queue: WorkQueue<Item>;
  private readonly resources: ServedResourceInformers;
  private stopped = false;

  constructor(private readonly context: ControllerContext) {
    this.queue = new WorkQueue({ log: context.log, name: 'garbage-collector', maxDelayMs: 60_000 });
    this.resources = new ServedResourceInformers(context, {
      // kube's GetDeletableResources: what can be listed, watched and deleted.
      select: (r) => !isEvents(r) && ['delete', 'list', 'watch'].every((v) => r.verbs.includes(v)),
      handlers: {
        onAdd: (type, o) => this.observe(type, o),
        onUpdate: (type, _old, o) => this.observe(type, o),
        onDelete: (_type, o) => this.forget(o),
      },
    });
  }

  async start(): Promise<void> {
    await this.resources.start();
    // Workers start once the graph is complete, or every dependent would look orphaned.
    void this.resources.waitForSync().then(() => {
      if (!this.stopped) void this.queue.run((item) => this.process(item), 4);
    });
  }

  stop(): void {
    this.stopped = true;
    this.resources.stop();
    this.queue.shutdown();
  }

  /** Resolves when nothing is queued or being processed (for tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  // ---- the graph ------------------------------------------------------------------------------

  private observe(type: ServedResource, object: KubeObject): void {
    const uid = object.metadata.uid;
    if (!uid) return;
    const previous = this.nodes.get(uid);
    const node: GraphNode = {
      uid,
      type,
      namespace: object.metadata.namespace,
      name: object.metadata.name ?? '',
      owners: object.metadata.ownerReferences ?? [],
      finalizers: object.metadata.finalizers ?? [],
      beingDeleted: !!object.metadata.deletionTimestamp,
    };
    this.nodes.set(uid, node);
    this.absentOwners.delete(uid);
    const before = new Set((previous?.owners ?? []).map((r) => r.uid));
    const after = new Set(node.owners.map((r) => r.uid));
    for (const ownerUid of before) {
      if (after.has(ownerUid)) continue;
      this.unlink(ownerUid, uid);
      // An owner waiting for its dependents may have just lost a blocking one.
      if (this.isDeletingDependents(this.nodes.get(ownerUid))) this.queue.add(`delete:${ownerUid}`);
    }
    let ownerMissing = false;
    for (const ownerUid of after) {
      let set = this.dependents.get(ownerUid);
      if (!set) this.dependents.set(ownerUid, (set = new Set()));
      set.add(uid);
      if (!this.nodes.has(ownerUid)) ownerMissing = true;
    }
    // A dependent whose owner the graph has not seen: verify the owner on the server.
    if (ownerMissing) this.queue.add(`delete:${uid}`);
    const wasDeletingDependents = this.isDeletingDependents(previous);
    if (this.isDeletingDependents(node) && !wasDeletingDependents) {
      for (const dep of this.dependents.get(uid) ?? []) this.queue.add(`delete:${dep}`);
      this.queue.add(`delete:${uid}`);
    }
    const orphaning = node.beingDeleted && node.finalizers.includes(ORPHAN_FINALIZER);
    const wasOrphaning = !!previous?.beingDeleted && previous.finalizers.includes(ORPHAN_FINALIZER);
    if (orphaning && !wasOrphaning) this.queue.add(`orphan:${uid}`);
  }

  private forget(object: KubeObject): void {
    const uid = object.metadata.uid;
    if (!uid) return;
    const node = this.nodes.get(uid);
    this.nodes.delete(uid);
    for (const ref of node?.owners ?? object.metadata.ownerReferences ?? []) {
      this.unlink(ref.uid, uid);
      if (this.isDeletingDependents(this.nodes.get(ref.uid))) this.queue.add(`delete:${ref.uid}`);
    }
    // Its dependents may now be orphans.
    const dependents = this.dependents.get(uid);
    if (dependents) {
      this.remember(uid);
      for (const dep of dependents) this.queue.add(`delete:${dep}`);
    }
  }

  private unlink(ownerUid: string, dependentUid: string): void {
    const set = this.dependents.get(ownerUid);
    if (!set) return;
    set.delete(dependentUid);
    if (!set.size) this.dependents.delete(ownerUid);
  }

  private remember(absentUid: string): void {
    this.absentOwners.set(absentUid, true);
    if (this.absentOwners.size > ABSENT_OWNER_CACHE_SIZE) this.absentOwners.delete(this.absentOwners.keys().next().value!);
  }

  private isDeletingDependents(node: GraphNode | undefined): boolean {
    return !!node && node.beingDeleted && node.finalizers.includes(FOREGROUND_FINALIZER);
  }

  // ---- workers --------------------------------------------------------------------------------

  private async process(item: Item): Promise<void> {
    const uid = item.slice(item.indexOf(':') + 1);
    const node = this.nodes.get(uid);
    if (!node) return;
    try {
      if (item.startsWith('orphan:')) await this.orphanDependents(node);
      else await this.attemptToDelete(node);
    } catch (err) {
      // Gone meanwhile: its deletion event brings whatever follows.
      if (isNotFound(err)) return;
      throw err;
    }
  }

  private async getLive(node: GraphNode): Promise<KubeObject | undefined> {
    const live = await this.context.client.tryGet(node.type, node.name, node.namespace);
    return live && live.metadata.uid === node.uid ? live : undefined;
  }

  /** kube's attemptToDeleteItem. */
  private async attemptToDelete(node: GraphNode): Promise<void> {
    if (node.beingDeleted && !this.isDeletingDependents(node)) return;
    const latest = await this.getLive(node);
    if (!latest) return;
    const finalizers = latest.metadata.finalizers ?? [];
    if (latest.metadata.deletionTimestamp) {
      if (finalizers.includes(FOREGROUND_FINALIZER)) await this.processDeletingDependents(node, latest);
      return;
    }
    const refs = latest.metadata.ownerReferences ?? [];
    if (!refs.length) return;
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const state = await this.ownerState(ref, latest);
      if (state === 'absent') dangling.push(ref);
      else if (state === 'deletingDependents') waiting.push(ref);
      else solid.push(ref);
    }
    if (solid.length) {
      if (!dangling.length && !waiting.length) return;
      // References to owners that are gone, or waiting for their dependents, go; the object stays.
      const drop = new Set([...dangling, ...waiting].map((r) => r.uid));
      await this.patchOwnerReferences(latest, refs.filter((r) => !drop.has(r.uid)));
      return;
    }
    const uid = latest.metadata.uid!;
    if (waiting.length && this.dependents.get(uid)?.size) {
      // Its owner waits for it and it has dependents of its own: it goes in the foreground too.
      // A dependent already deleting its dependents would wait for it in a cycle; unblock first.
      const cycle = [...(this.dependents.get(uid) ?? [])].some((d) => this.isDeletingDependents(this.nodes.get(d)));
      if (cycle) {
        const unblocked = refs.map((r) => (waiting.some((w) => w.uid === r.uid) ? { ...r, blockOwnerDeletion: false } : r));
        await this.patchOwnerReferences(latest, unblocked);
      }
      await this.deleteObject(node, latest, 'Foreground');
      return;
    }
    const policy = finalizers.includes(ORPHAN_FINALIZER) ? 'Orphan' : finalizers.includes(FOREGROUND_FINALIZER) ? 'Foreground' : 'Background';
    await this.deleteObject(node, latest, policy);
  }

  /** Whether an owner reference names a live object, one deleting its dependents, or nothing. */
  private async ownerState(ref: OwnerReference, dependent: KubeObject): Promise<'present' | 'deletingDependents' | 'absent'> {
    const known = this.nodes.get(ref.uid);
    if (known) return this.isDeletingDependents(known) ? 'deletingDependents' : 'present';
    if (this.absentOwners.has(ref.uid)) return 'absent';
    const type = this.resources.mapper.forKind(ref.apiVersion, ref.kind);
    if (!type) {
      // An owner kind nobody serves (yet): keep the dependent and look again later, as kube does.
      throw new Error(`owner ${ref.apiVersion} ${ref.kind} ${ref.name} of ${dependent.metadata.name}: kind not served`);
    }
    // A cluster-scoped dependent cannot have a namespaced owner: kube treats the reference as absent.
    if (type.namespaced && !dependent.metadata.namespace) return 'absent';
    const owner = await this.context.client.tryGet(type, ref.name, type.namespaced ? dependent.metadata.namespace : undefined);
    if (!owner || owner.metadata.uid !== ref.uid) {
      this.remember(ref.uid);
      return 'absent';
    }
    const deleting = !!owner.metadata.deletionTimestamp && (owner.metadata.finalizers ?? []).includes(FOREGROUND_FINALIZER);
    return deleting ? 'deletingDependents' : 'present';
  }

  /** kube's processDeletingDependentsItem: done when no dependent blocks the owner's deletion. */
  private async processDeletingDependents(node: GraphNode, owner: KubeObject): Promise<void> {
    const blocking: string[] = [];
    for (const depUid of this.dependents.get(node.uid) ?? []) {
      const dep = this.nodes.get(depUid);
      if (!dep) continue;
      const ref = dep.owners.find((r) => r.uid === node.uid);
      if (ref?.blockOwnerDeletion) blocking.push(depUid);
    }
    if (!blocking.length) {
      await this.removeFinalizer(node, owner, FOREGROUND_FINALIZER);
      return;
    }
    for (const dep of blocking) if (!this.isDeletingDependents(this.nodes.get(dep))) this.queue.add(`delete:${dep}`);
  }

  /** kube's orphanDependents, then the `orphan` finalizer goes. */
  private async orphanDependents(node: GraphNode): Promise<void> {
    const owner = await this.getLive(node);
    if (!owner || !owner.metadata.deletionTimestamp || !(owner.metadata.finalizers ?? []).includes(ORPHAN_FINALIZER)) return;
    const failures: unknown[] = [];
    for (const depUid of [...(this.dependents.get(node.uid) ?? [])]) {
      const dep = this.nodes.get(depUid);
      if (!dep) continue;
      try {
        await this.withLatest(dep, (latest) => {
          const refs = latest.metadata.ownerReferences ?? [];
          if (!refs.some((r) => r.uid === node.uid)) return undefined;
          return this.patchOwnerReferences(latest, refs.filter((r) => r.uid !== node.uid));
        });
      } catch (err) {
        if (!isNotFound(err)) failures.push(err);
      }
    }
    if (failures.length) throw failures[0];
    await this.removeFinalizer(node, owner, ORPHAN_FINALIZER);
  }

  /** Runs `write` on the current object, reading it again after a conflict. */
  private async withLatest(node: GraphNode, write: (latest: KubeObject) => Promise<unknown> | undefined): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const latest = await this.getLive(node);
      if (!latest) return;
      try {
        await write(latest);
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 5) throw err;
      }
    }
  }

  /** A merge patch of ownerReferences, guarded by the object's uid and resourceVersion. */
  private patchOwnerReferences(object: KubeObject, refs: OwnerReference[]): Promise<unknown> {
    const type = this.nodes.get(object.metadata.uid!)?.type;
    if (!type) return Promise.resolve();
    return this.context.client.patch(
      type,
      object.metadata.name!,
      { metadata: { uid: object.metadata.uid, resourceVersion: object.metadata.resourceVersion, ownerReferences: refs.length ? refs : null } },
      'merge',
      { namespace: object.metadata.namespace },
    );
  }

  private async removeFinalizer(node: GraphNode, object: KubeObject, finalizer: string): Promise<void> {
    let current: KubeObject | undefined = object;
    for (let attempt = 0; current; attempt++) {
      const finalizers = current.metadata.finalizers ?? [];
      if (!finalizers.includes(finalizer)) return;
      try {
        await this.context.client.patch(
          node.type,
          node.name,
          { metadata: { uid: node.uid, resourceVersion: current.metadata.resourceVersion, finalizers: finalizers.filter((f) => f !== finalizer) } },
          'merge',
          { namespace: node.namespace },
        );
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 5) throw err;
        current = await this.getLive(node);
      }
    }
  }

  private async deleteObject(node: GraphNode, object: KubeObject, propagationPolicy: 'Background' | 'Foreground' | 'Orphan'): Promise<void> {
    try {
      await this.context.client.delete(node.type, node.name, { namespace: node.namespace, propagationPolicy, preconditions: { uid: object.metadata.uid } });
    } catch (err) {
      // Replaced by a new object of the same name: not ours to delete.
      if (isConflict(err) || isNotFound(err)) return;
      throw err;
    }
  }
}

export const garbageCollectorController: ControllerFactory = {
  serviceAccount: 'generic-garbage-collector',
  create: (context) => new GarbageCollector(context),
};
