/**
 * The resource quota controller (kube's pkg/controller/resourcequota): keeps each quota's
 * `status.hard` (the spec's) and `status.used` true. Usage comes from the quota evaluators shared
 * with the API server's admission plug-in (`@canopy/apimachinery` quota.ts) over informers of
 * every quotable kind, so a change anywhere in a namespace with quotas ("replenishment")
 * recomputes its quotas. A periodic full resync catches what no write signals (a pod stuck
 * terminating past its grace period stops being charged).
 */
import { hasUsageEvaluator, jsonDeepEqual, quotaHard, quotaUsed, serialiseResourceList, type KubeObject, type QuotaSource } from '@canopy/apimachinery';
import { isConflict, isNotFound, types, WorkQueue, type Informer, type TimerHandle } from '@canopy/client';
import type { Controller, ControllerContext, ControllerFactory } from './context.js';
import { isEvents, ServedResourceInformers } from './served-resources.js';

/** kube-controller-manager's --resource-quota-sync-period. */
const RESYNC_MS = 5 * 60_000;

export class ResourceQuotaController implements Controller {
  readonly name = 'resourcequota';
  private readonly queue: WorkQueue<string>;
  private readonly quotas: Informer;
  private readonly quotable: ServedResourceInformers;
  private timer?: TimerHandle;
  private stopped = false;

  constructor(private readonly context: ControllerContext) {
    this.queue = new WorkQueue({ log: context.log, name: 'resourcequota', maxDelayMs: 60_000 });
    this.quotas = context.informers.for(types.resourceQuotas);
    const enqueue = (o: KubeObject) => o.metadata.namespace && this.queue.add(o.metadata.namespace);
    this.quotas.addHandler({
      onAdd: enqueue,
      // Only spec changes (or a status someone else wrote) need a recomputation, not our own writes.
      onUpdate: (old, o) => (!jsonDeepEqual(old.spec, o.spec) || !this.statusIsCurrent(o)) && enqueue(o),
    });
    const replenish = (o: KubeObject) => {
      const ns = o.metadata.namespace;
      if (ns && this.quotas.list(ns).length) this.queue.add(ns);
    };
    this.quotable = new ServedResourceInformers(context, {
      // kube's GetQuotableResources: namespaced kinds that can be created, listed, watched and deleted.
      select: (r) => r.namespaced && !isEvents(r) && ['create', 'list', 'watch', 'delete'].every((v) => r.verbs.includes(v)),
      // Pods, services and claims are charged by their spec; every other kind is only counted.
      wholeObjects: (r) => hasUsageEvaluator(r.group, r.resource),
      handlers: { onAdd: (_t, o) => replenish(o), onUpdate: (_t, _old, o) => replenish(o), onDelete: (_t, o) => replenish(o) },
    });
  }

  async start(): Promise<void> {
    await this.quotable.start();
    void this.quotable.waitForSync().then(() => {
      if (this.stopped) return;
      void this.queue.run((ns) => this.sync(ns), 2);
      this.scheduleResync();
    });
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.quotable.stop();
    this.queue.shutdown();
  }

  private scheduleResync(): void {
    if (this.stopped) return;
    this.timer = this.context.clock.setTimeout(() => {
      for (const quota of this.quotas.list()) if (quota.metadata.namespace) this.queue.add(quota.metadata.namespace);
      this.scheduleResync();
    }, RESYNC_MS);
  }

  /** Whether the quota's status states its spec's hard limits (it never has before its first sync). */
  private statusIsCurrent(quota: KubeObject): boolean {
    const status = (quota.status ?? {}) as { hard?: unknown; used?: unknown };
    return status.used !== undefined && jsonDeepEqual(status.hard, serialiseResourceList(quotaHard(quota)));
  }

  private objectsOf(source: QuotaSource, namespace: string): KubeObject[] {
    return this.quotable.informerFor(source.group, source.resource)?.list(namespace) ?? [];
  }

  /** Brings every quota of a namespace up to date. */
  private async sync(namespace: string): Promise<void> {
    const now = new Date(this.context.clock.now());
    for (const quota of this.quotas.list(namespace)) {
      const status = {
        ...((quota.status ?? {}) as Record<string, unknown>),
        hard: serialiseResourceList(quotaHard(quota)),
        used: serialiseResourceList(quotaUsed(quota, (source) => this.objectsOf(source, namespace), now)),
      };
      if (jsonDeepEqual(status, quota.status)) continue;
      try {
        await this.context.client.updateStatus(types.resourceQuotas, { ...quota, status });
      } catch (err) {
        if (isNotFound(err)) continue;
        // The informer's copy was stale: try again once it has caught up.
        if (isConflict(err)) {
          this.queue.addAfter(namespace, 50);
          continue;
        }
        throw err;
      }
    }
  }
}

export const resourceQuotaController: ControllerFactory = {
  serviceAccount: 'resourcequota-controller',
  create: (context) => new ResourceQuotaController(context),
};
