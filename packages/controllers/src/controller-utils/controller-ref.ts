/**
 * ControllerRef semantics (kube's pkg/controller/controller_ref_manager.go): an object has at most
 * one owner reference with `controller: true`; a controller adopts orphans its selector matches,
 * keeps what it owns and still matches, and releases what it owns but no longer matches. It never
 * touches objects another controller owns.
 *
 * Controllers look up what an owner controls through an informer index on the controller's uid
 * (orphans are indexed per namespace), never by scanning every object: with 30,000 pods a scan
 * per sync would dominate.
 */
import { StatusError, matchesLabels, type KubeObject, type LabelSelector, type OwnerReference } from '@canopy/apimachinery';
import { isNotFound, type Informer, type KubeClient, type ResourceType } from '@canopy/client';

export const CONTROLLER_UID_INDEX = 'controllerUID';

/** The index value under which objects without a controller are kept, per namespace. */
export function orphanIndexKey(namespace: string | undefined): string {
  // UIDs never contain spaces, so this cannot collide with one.
  return `orphan ${namespace ?? ''}`;
}

export function getControllerOf(object: KubeObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((r) => r.controller === true);
}

export function isControlledBy(object: KubeObject, owner: KubeObject): boolean {
  const ref = getControllerOf(object);
  return !!ref && ref.uid === owner.metadata.uid;
}

/** metav1.NewControllerRef: the reference a controller puts on what it creates or adopts. */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** Indexes an informer's objects by their controller's uid (orphans by namespace). Idempotent. */
export function addControllerIndex<T extends KubeObject>(informer: Informer<T>): void {
  informer.addIndex(CONTROLLER_UID_INDEX, (o) => {
    const ref = getControllerOf(o);
    return [ref ? ref.uid : orphanIndexKey(o.metadata.namespace)];
  });
}

/** The objects whose controller is the object with `uid` (needs `addControllerIndex`). */
export function controlledBy<T extends KubeObject>(informer: Informer<T>, uid: string): T[] {
  return informer.byIndex(CONTROLLER_UID_INDEX, uid);
}

/** The objects of `namespace` that have no controller (needs `addControllerIndex`). */
export function orphansIn<T extends KubeObject>(informer: Informer<T>, namespace: string | undefined): T[] {
  return informer.byIndex(CONTROLLER_UID_INDEX, orphanIndexKey(namespace));
}

/**
 * kube's RecheckDeletionTimestamp: before the first adoption, read the owner from the server
 * (not the cache) and refuse if it is gone, replaced, or being deleted; an owner that is being
 * deleted must not adopt, or the garbage collector would race it.
 */
export function recheckOwner(client: KubeClient, ownerType: ResourceType, owner: KubeObject): () => Promise<void> {
  return async () => {
    const { name, namespace, uid } = owner.metadata;
    const fresh = await client.get(ownerType, name!, namespace);
    if (fresh.metadata.uid !== uid)
      throw new Error(`original ${ownerType.kind} ${namespace}/${name} is gone: got uid ${fresh.metadata.uid}, wanted ${uid}`);
    if (fresh.metadata.deletionTimestamp)
      throw new Error(`${namespace}/${name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  };
}

export interface ControllerRefManagerOptions {
  client: KubeClient;
  /** The type of the objects claimed (pods, replicasets). */
  type: ResourceType;
  owner: KubeObject;
  ownerApiVersion: string;
  ownerKind: string;
  selector: LabelSelector;
  /** Called once before the first adoption; throws if the owner may not adopt. */
  canAdopt: () => Promise<void>;
}

export class ControllerRefManager<T extends KubeObject> {
  private adoptable?: Promise<void>;

  constructor(private readonly options: ControllerRefManagerOptions) {}

  /**
   * Returns the objects the owner controls after adopting matching orphans and releasing
   * non-matching objects it controlled. Adopted objects are returned as the server answered
   * them. Errors other than NotFound are collected and thrown after every object was tried.
   */
  async claim(objects: T[], extraMatch: (object: T) => boolean = () => true): Promise<T[]> {
    const claimed: T[] = [];
    const failures: unknown[] = [];
    const match = (o: T) => matchesLabels(this.options.selector, o.metadata.labels) && extraMatch(o);
    for (const object of objects) {
      try {
        const result = await this.claimOne(object, match);
        if (result) claimed.push(result);
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length) throw failures[0];
    return claimed;
  }

  private async claimOne(object: T, match: (o: T) => boolean): Promise<T | undefined> {
    const owner = this.options.owner;
    const ref = getControllerOf(object);
    if (ref) {
      if (ref.uid !== owner.metadata.uid) return undefined; // another controller's
      if (match(object)) return object;
      // Ours, but the selector no longer matches: release it, unless we are being deleted
      // (then the garbage collector deletes it with us).
      if (owner.metadata.deletionTimestamp) return undefined;
      await this.ignoreNotFound(this.release(object));
      return undefined;
    }
    // An orphan: adopt it if it matches, neither side is being deleted, and it is in our namespace.
    if (owner.metadata.deletionTimestamp || !match(object)) return undefined;
    if (object.metadata.deletionTimestamp) return undefined;
    if (owner.metadata.namespace && owner.metadata.namespace !== object.metadata.namespace) return undefined;
    return this.ignoreNotFound(this.adopt(object));
  }

  private async ignoreNotFound<R>(p: Promise<R>): Promise<R | undefined> {
    try {
      return await p;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async adopt(object: T): Promise<T> {
    this.adoptable ??= this.options.canAdopt();
    try {
      await this.adoptable;
    } catch (err) {
      throw new StatusError(409, 'Conflict', `can't adopt ${this.options.type.kind} ${object.metadata.namespace}/${object.metadata.name}: ${(err as Error).message}`);
    }
    const { owner, ownerApiVersion, ownerKind } = this.options;
    // The uid in the patch makes it fail if the object was replaced by another of the same name.
    const patch = { metadata: { ownerReferences: [newControllerRef(owner, ownerApiVersion, ownerKind)], uid: object.metadata.uid } };
    return this.options.client.patch<T>(this.options.type, object.metadata.name!, patch, 'strategic', { namespace: object.metadata.namespace });
  }

  private async release(object: T): Promise<T> {
    const patch = { metadata: { ownerReferences: [{ $patch: 'delete', uid: this.options.owner.metadata.uid }], uid: object.metadata.uid } };
    return this.options.client.patch<T>(this.options.type, object.metadata.name!, patch, 'strategic', { namespace: object.metadata.namespace });
  }
}
