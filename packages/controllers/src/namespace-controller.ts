/**
 * The namespace controller (kube's pkg/controller/namespace): a namespace being deleted is
 * emptied of every namespaced kind (deletecollection where served, else list and delete each,
 * always with background propagation), its status conditions report progress as kube's do
 * (NamespaceDeletionDiscoveryFailure, …GroupVersionParsingFailure, …ContentFailure,
 * NamespaceContentRemaining, NamespaceFinalizersRemaining), and once nothing is left the
 * `kubernetes` finalizer is removed through `namespaces/<name>/finalize`, which lets the API
 * server delete it.
 *
 * Besides kube's requeue after the estimated grace period, the namespace is looked at again
 * whenever something in it goes away, so a namespace whose last object was just released does
 * not wait for the next estimate.
 */
import type { KubeObject } from '@canopy/apimachinery';
import { isConflict, isNotFound, rfc3339, types, WorkQueue, type Informer } from '@canopy/client';
import type { Controller, ControllerContext, ControllerFactory } from './context.js';
import { discoverResources, type DiscoveryResult, type ServedResource } from './discovery.js';
import { isEvents, ServedResourceInformers } from './served-resources.js';

const FINALIZER = 'kubernetes';
/** kube's finalizerEstimateSeconds: the wait assumed for objects held by finalizers. */
const FINALIZER_ESTIMATE_SECONDS = 15;

interface NamespaceCondition {
  type: string;
  status: 'True' | 'False';
  lastTransitionTime?: string;
  reason: string;
  message: string;
}

const CONDITION_TYPES = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
] as const;

const OK: Record<(typeof CONDITION_TYPES)[number], { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: { reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
  NamespaceDeletionGroupVersionParsingFailure: { reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
  NamespaceDeletionContentFailure: { reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
  NamespaceContentRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  NamespaceFinalizersRemaining: { reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
};

interface ResourceOutcome {
  estimateSeconds: number;
  remaining: number;
  finalizers: Map<string, number>;
}

/** Thrown when content remains; the namespace is looked at again after the estimate. */
class ContentRemaining extends Error {
  constructor(readonly estimateSeconds: number) {
    super(`some content remains in the namespace, estimate ${estimateSeconds} seconds before it is removed`);
  }
}

export class NamespaceController implements Controller {
  readonly name = 'namespace';
  private readonly queue: WorkQueue<string>;
  private readonly namespaces: Informer;
  private readonly content: ServedResourceInformers;

  constructor(private readonly context: ControllerContext) {
    // Retries run in real time; grace-period estimates on the controller's clock.
    this.queue = new WorkQueue({ log: context.log, name: 'namespace', maxDelayMs: 60_000 });
    this.namespaces = context.informers.for(types.namespaces);
    const terminating = (o: KubeObject) => !!o.metadata.deletionTimestamp;
    this.namespaces.addHandler({
      onAdd: (ns) => terminating(ns) && this.queue.add(ns.metadata.name!),
      onUpdate: (_old, ns) => terminating(ns) && this.queue.add(ns.metadata.name!),
    });
    // Content going away (or losing its finalizers) in a terminating namespace: look again.
    const contentChanged = (o: KubeObject) => {
      const ns = o.metadata.namespace;
      if (ns && this.namespaces.get(ns)?.metadata.deletionTimestamp) this.queue.add(ns);
    };
    this.content = new ServedResourceInformers(context, {
      // Events are deleted with the rest but not followed: they never hold a namespace back.
      select: (r) => r.namespaced && !isEvents(r) && r.verbs.includes('delete') && r.verbs.includes('watch'),
      handlers: { onDelete: (_t, o) => contentChanged(o), onUpdate: (_t, _old, o) => o.metadata.deletionTimestamp && contentChanged(o) },
    });
  }

  async start(): Promise<void> {
    await this.content.start();
    void this.queue.run((name) => this.sync(name), 2).catch(() => {});
  }

  stop(): void {
    this.content.stop();
    this.queue.shutdown();
  }

  private async sync(name: string): Promise<void> {
    try {
      await this.deleteNamespace(name);
    } catch (err) {
      if (err instanceof ContentRemaining) {
        // Grace periods run on the controller's clock; the queue's retries in real time.
        this.context.clock.setTimeout(() => this.queue.add(name), (err.estimateSeconds / 2 + 1) * 1000);
        return;
      }
      throw err;
    }
  }

  /** kube's namespacedResourcesDeleter.Delete. */
  private async deleteNamespace(name: string): Promise<void> {
    const client = this.context.client;
    let namespace = await client.tryGet(types.namespaces, name);
    if (!namespace?.metadata.deletionTimestamp) return;
    const status = (namespace.status ?? {}) as { phase?: string };
    if (status.phase !== 'Terminating') {
      namespace = await client.updateStatus(types.namespaces, { ...namespace, status: { ...status, phase: 'Terminating' } });
    }
    if (!finalizersOf(namespace).length) return;
    const estimate = await this.deleteAllContent(namespace);
    if (estimate > 0) throw new ContentRemaining(estimate);
    await this.finalize(namespace);
  }

  private async finalize(namespace: KubeObject): Promise<void> {
    const name = namespace.metadata.name!;
    let current: KubeObject | undefined = namespace;
    for (let attempt = 0; current; attempt++) {
      const finalizers = finalizersOf(current);
      if (!finalizers.includes(FINALIZER)) return;
      const body = { ...current, spec: { ...(current.spec as object), finalizers: [...new Set(finalizers.filter((f) => f !== FINALIZER))].sort() } };
      try {
        await this.context.client.update(types.namespaces, body, { subresource: 'finalize' });
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err) || attempt >= 5) throw err;
        current = await this.context.client.tryGet(types.namespaces, name);
      }
    }
  }

  /** Deletes everything in the namespace; answers the seconds to wait before looking again (0: empty). */
  private async deleteAllContent(namespace: KubeObject): Promise<number> {
    const name = namespace.metadata.name!;
    const deletedAt = Date.parse(namespace.metadata.deletionTimestamp!);
    const conditions: NamespaceCondition[] = [];
    const errors: string[] = [];
    let discovery: DiscoveryResult | undefined;
    try {
      discovery = await discoverResources(this.context.client);
      if (discovery.failedGroups.size) {
        const failed = [...discovery.failedGroups].map(([gv, e]) => `${gv}: ${e}`).join(', ');
        conditions.push(this.condition('NamespaceDeletionDiscoveryFailure', 'DiscoveryFailed', `Discovery failed for some groups, ${discovery.failedGroups.size} failing: unable to retrieve the complete list of server APIs: ${failed}`));
        errors.push(`discovery failed for ${failed}`);
      }
    } catch (err) {
      conditions.push(this.condition('NamespaceDeletionDiscoveryFailure', 'DiscoveryFailed', (err as Error).message));
      errors.push((err as Error).message);
    }
    const deletable = (discovery?.preferred ?? []).filter((r) => r.namespaced && r.verbs.includes('delete'));
    let estimate = 0;
    const remaining = new Map<string, number>();
    const finalizers = new Map<string, number>();
    const contentErrors: string[] = [];
    for (const resource of deletable) {
      try {
        const outcome = await this.deleteAllOf(resource, name, deletedAt);
        estimate = Math.max(estimate, outcome.estimateSeconds);
        if (outcome.remaining) {
          remaining.set(`${resource.resource}.${resource.group}`, outcome.remaining);
          for (const [f, n] of outcome.finalizers) finalizers.set(f, (finalizers.get(f) ?? 0) + n);
        }
      } catch (err) {
        if (err instanceof ResourceError) estimate = Math.max(estimate, err.estimateSeconds);
        contentErrors.push((err as Error).message);
      }
    }
    if (remaining.size) {
      const list = [...remaining].map(([gr, n]) => `${gr} has ${n} resource instances`).sort();
      conditions.push(this.condition('NamespaceContentRemaining', 'SomeResourcesRemain', `Some resources are remaining: ${list.join(', ')}`));
    }
    if (finalizers.size) {
      const list = [...finalizers].map(([f, n]) => `${f} in ${n} resource instances`).sort();
      conditions.push(this.condition('NamespaceFinalizersRemaining', 'SomeFinalizersRemain', `Some content in the namespace has finalizers remaining: ${list.join(', ')}`));
    }
    if (contentErrors.length) {
      contentErrors.sort();
      conditions.push(this.condition('NamespaceDeletionContentFailure', 'ContentDeletionFailed', `Failed to delete all resource types, ${contentErrors.length} remaining: ${contentErrors.join(', ')}`));
    }
    await this.updateConditions(namespace, conditions);
    const all = [...errors, ...contentErrors];
    if (all.length) throw new Error(all.join('; '));
    return estimate;
  }

  private condition(type: (typeof CONDITION_TYPES)[number], reason: string, message: string): NamespaceCondition {
    return { type, status: 'True', lastTransitionTime: rfc3339(this.context.clock.now()), reason, message };
  }

  /** kube's updateConditions: every maintained type present, the transition time kept unless the status flips. */
  private async updateConditions(namespace: KubeObject, failing: NamespaceCondition[]): Promise<void> {
    const status = { ...((namespace.status ?? {}) as { conditions?: NamespaceCondition[] }) };
    const conditions = [...(status.conditions ?? [])];
    let changed = false;
    for (const type of CONDITION_TYPES) {
      const next = failing.find((c) => c.type === type) ?? { type, status: 'False' as const, lastTransitionTime: rfc3339(this.context.clock.now()), ...OK[type] };
      const index = conditions.findIndex((c) => c.type === type);
      if (index < 0) {
        conditions.push(next);
        changed = true;
        continue;
      }
      const old = conditions[index];
      if (old.status === next.status && old.reason === next.reason && old.message === next.message) continue;
      conditions[index] = { ...next, lastTransitionTime: old.status === next.status ? old.lastTransitionTime : next.lastTransitionTime };
      changed = true;
    }
    if (!changed) return;
    try {
      await this.context.client.updateStatus(types.namespaces, { ...namespace, status: { ...status, conditions } });
    } catch (err) {
      // Conditions are advisory: a conflict means the next pass writes them.
      if (!isConflict(err) && !isNotFound(err)) this.context.log(`namespace ${namespace.metadata.name}: updating conditions: ${(err as Error).message}`);
    }
  }

  /** kube's deleteAllContentForGroupVersionResource. */
  private async deleteAllOf(resource: ServedResource, namespace: string, deletedAt: number): Promise<ResourceOutcome> {
    const client = this.context.client;
    const estimate = resource.group === '' && resource.resource === 'pods' ? await this.estimatePods(namespace, deletedAt) : 0;
    try {
      if (resource.verbs.includes('deletecollection')) {
        await client.deleteCollection(resource, { namespace, propagationPolicy: 'Background' });
      } else if (resource.verbs.includes('list')) {
        const list = await client.list(resource, { namespace });
        for (const item of list.items) {
          try {
            await client.delete(resource, item.metadata.name!, { namespace, propagationPolicy: 'Background' });
          } catch (err) {
            if (!isNotFound(err) && !isMethodNotSupported(err)) throw err;
          }
        }
      }
    } catch (err) {
      if (!isNotFound(err) && !isMethodNotSupported(err)) throw new ResourceError(`${resource.resource}.${resource.group}: ${(err as Error).message}`, estimate);
    }
    if (!resource.verbs.includes('list')) return { estimateSeconds: estimate, remaining: 0, finalizers: new Map() };
    const left = (await client.list(resource, { namespace })).items;
    if (!left.length) return { estimateSeconds: 0, remaining: 0, finalizers: new Map() };
    const finalizers = new Map<string, number>();
    for (const item of left) for (const f of item.metadata.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    if (estimate) return { estimateSeconds: estimate, remaining: left.length, finalizers };
    if (finalizers.size) return { estimateSeconds: FINALIZER_ESTIMATE_SECONDS, remaining: left.length, finalizers };
    throw new ResourceError(`unexpected items still remain in namespace: ${namespace} for gvr: ${resource.group}/${resource.version}, Resource=${resource.resource}`, 0);
  }

  /** The longest grace period of the namespace's live pods, unless it has already passed. */
  private async estimatePods(namespace: string, deletedAt: number): Promise<number> {
    const pods = await this.context.client.list(types.pods, { namespace });
    let estimate = 0;
    for (const pod of pods.items) {
      const phase = (pod.status as { phase?: string } | undefined)?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') continue;
      const grace = (pod.spec as { terminationGracePeriodSeconds?: number } | undefined)?.terminationGracePeriodSeconds;
      if (typeof grace === 'number' && grace > estimate) estimate = grace;
    }
    return this.context.clock.now() - deletedAt >= estimate * 1000 ? 0 : estimate;
  }
}

class ResourceError extends Error {
  constructor(
    message: string,
    readonly estimateSeconds: number,
  ) {
    super(message);
  }
}

function finalizersOf(namespace: KubeObject): string[] {
  const finalizers = (namespace.spec as { finalizers?: unknown } | undefined)?.finalizers;
  return Array.isArray(finalizers) ? finalizers.map(String) : [];
}

function isMethodNotSupported(err: unknown): boolean {
  return (err as { code?: number })?.code === 405;
}

export const namespaceController: ControllerFactory = {
  serviceAccount: 'namespace-controller',
  create: (context) => new NamespaceController(context),
};
