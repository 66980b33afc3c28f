/**
 * Keeps each workspace quota's status true: `status.total.hard` (the quota), `status.total.used`
 * (the sum over the selected namespaces) and `status.namespaces[]` (each namespace's own use),
 * as KubeSphere's resourcequota controller reports them. Recomputed when the quota, a selected
 * namespace, or an object of a counted kind changes, and every five minutes.
 */
import { isDeepStrictEqual } from 'node:util';
import { quotaHard, serialiseResourceList, type KubeObject, type ResourceUsage } from '@canopy/apimachinery';
import type { Informer, TimerHandle } from '@canopy/client';
import { platformTypes } from '../resource-types.js';
import { asNamespaceQuota, quotaSelects, type WorkspaceQuota, type WorkspaceQuotaTracker } from '../tenant/workspace-quota.js';
import { QueueController, type ControllerContext } from './runtime.js';

const RESYNC_MS = 5 * 60_000;

export class WorkspaceQuotaController extends QueueController {
  readonly name = 'workspace-quota';
  private resync?: TimerHandle;

  constructor(
    ctx: ControllerContext,
    private readonly tracker: WorkspaceQuotaTracker,
  ) {
    super(ctx);
  }

  informers(): Informer<any>[] {
    return [this.tracker.quotas, this.tracker.namespaces];
  }

  keys(): Iterable<string> {
    return this.tracker.quotas.list().map((q) => q.metadata.name!);
  }

  register(): void {
    const byName = (q: KubeObject) => this.enqueue(q.metadata.name!);
    this.tracker.quotas.addHandler({
      onAdd: byName,
      onUpdate: (o, n) =>
        isDeepStrictEqual(o.spec, n.spec) && o.metadata.generation === n.metadata.generation ? undefined : byName(n),
    });
    const selecting = (labels: Record<string, string> | undefined) => {
      for (const q of this.tracker.quotas.list()) if (quotaSelects(q, labels)) byName(q);
    };
    this.tracker.namespaces.addHandler({
      onAdd: (ns) => selecting(ns.metadata.labels),
      onUpdate: (old, ns) => {
        if (isDeepStrictEqual(old.metadata.labels, ns.metadata.labels)) return;
        selecting(old.metadata.labels);
        selecting(ns.metadata.labels);
      },
      onDelete: (ns) => selecting(ns.metadata.labels),
    });
    this.tracker.onUsageChange((namespace) => {
      for (const q of this.tracker.quotasOf(namespace)) byName(q);
    });
  }

  override start(): void {
    super.start();
    const tick = () => {
      for (const key of this.keys()) this.enqueue(key);
      this.resync = this.ctx.clock.setTimeout(tick, RESYNC_MS);
    };
    this.resync = this.ctx.clock.setTimeout(tick, RESYNC_MS);
  }

  override async stop(): Promise<void> {
    this.resync?.cancel();
    await super.stop();
  }

  async reconcile(name: string): Promise<void> {
    const quota = this.tracker.quotas.get(name);
    if (!quota || quota.metadata.deletionTimestamp) return;
    await this.tracker.track(quota);
    const hard = quotaHard(asNamespaceQuota(quota));
    const perNamespace: { namespace: string; used: ResourceUsage }[] = this.tracker
      .namespacesOf(quota)
      .map((namespace) => ({ namespace, used: this.tracker.used(quota, undefined, [namespace]) }));
    const total = this.tracker.used(quota, undefined, []); // zero of every resource the quota limits
    for (const { used } of perNamespace) for (const [k, v] of used) total.set(k, total.get(k)?.add(v) ?? v);
    const hardList = serialiseResourceList(hard);
    const status: WorkspaceQuota['status'] = {
      total: { hard: hardList, used: serialiseResourceList(total) },
      namespaces: perNamespace.map(({ namespace, used }) => ({ namespace, hard: hardList, used: serialiseResourceList(used) })),
    };
    if (isDeepStrictEqual(JSON.parse(JSON.stringify(status)), JSON.parse(JSON.stringify(quota.status ?? {})))) return;
    // Replaced whole: resources dropped from the quota leave the status too.
    await this.ctx.client.patch(platformTypes.workspaceQuotas, name, [{ op: 'add', path: '/status', value: status }], 'json', {
      subresource: 'status',
    });
  }
}
