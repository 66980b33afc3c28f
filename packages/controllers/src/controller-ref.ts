/**
 * controller.BaseControllerRefManager: a controller claims the objects its selector matches.
 * Orphans that match are adopted (an owner reference added, checked against a fresh read of the
 * owner so a controller being deleted adopts nothing); objects it owns that no longer match are
 * released; objects owned by another controller are left alone.
 */
import { labelSelectorFromObject, matchesLabels, type KubeObject, type LabelSelectorObject, type OwnerReference } from '@canopy/apimachinery';
import { isNotFound, type KubeClient, type ResourceType } from '@canopy/client';
import { getControllerOf } from './pod-util.js';

export interface ClaimOptions {
  client: KubeClient;
  /** The dependents' type (pods, controllerrevisions, replicasets, jobs). */
  type: ResourceType;
  owner: KubeObject;
  ownerRef: OwnerReference;
  selector: LabelSelectorObject | undefined;
  /** The owner's type, for the fresh read before adopting. */
  ownerType: ResourceType;
  /** Finalizers added together with the owner reference on adoption (the Job tracking finalizer). */
  finalizers?: string[];
}

/**
 * Returns the objects the owner controls after adoption and release. Writes are strategic merge
 * patches carrying the dependent's uid, so a recreated namesake is never touched.
 */
export async function claimObjects<T extends KubeObject>(objects: T[], options: ClaimOptions): Promise<T[]> {
  const { client, owner } = options;
  const selector = labelSelectorFromObject(options.selector ?? null);
  const claimed: T[] = [];
  let canAdopt: boolean | undefined;
  const recheck = async (): Promise<boolean> => {
    if (canAdopt !== undefined) return canAdopt;
    const fresh = await client.tryGet(options.ownerType, owner.metadata.name!, owner.metadata.namespace);
    canAdopt = !!fresh && fresh.metadata.uid === owner.metadata.uid && !fresh.metadata.deletionTimestamp;
    return canAdopt;
  };
  for (const object of objects) {
    const ref = getControllerOf(object);
    const matches = matchesLabels(selector, object.metadata.labels);
    if (ref) {
      if (ref.uid !== owner.metadata.uid) continue;
      if (matches) {
        claimed.push(object);
        continue;
      }
      if (owner.metadata.deletionTimestamp) continue;
      try {
        await client.patch(options.type, object.metadata.name!, { metadata: { ownerReferences: [{ $patch: 'delete', uid: owner.metadata.uid }], uid: object.metadata.uid } }, 'strategic', {
          namespace: object.metadata.namespace,
        });
      } catch (err) {
        // Gone, replaced by a namesake (uid precondition) or already released: nothing to release.
        const code = (err as { code?: number }).code;
        if (!isNotFound(err) && code !== 409 && code !== 422) throw err;
      }
      continue;
    }
    if (owner.metadata.deletionTimestamp || !matches || object.metadata.deletionTimestamp) continue;
    if (owner.metadata.namespace && owner.metadata.namespace !== object.metadata.namespace) continue;
    if (!(await recheck())) continue;
    try {
      const metadata: Record<string, unknown> = { ownerReferences: [options.ownerRef], uid: object.metadata.uid };
      if (options.finalizers?.length) metadata.finalizers = options.finalizers;
      const adopted = await client.patch<T>(options.type, object.metadata.name!, { metadata }, 'strategic', { namespace: object.metadata.namespace });
      claimed.push(adopted);
    } catch (err) {
      if (isNotFound(err)) continue;
      throw err;
    }
  }
  return claimed;
}
