/**
 * Workspace quotas (quota.kubesphere.io/v1alpha2 ResourceQuota): a `spec.quota` (a Kubernetes
 * ResourceQuotaSpec) that applies to the sum over every namespace `spec.selector` selects —
 * for a workspace, its projects (`kubesphere.io/workspace=<ws>`).
 *
 * What each object is charged comes from Kubernetes' quota evaluators (@canopy/apimachinery's
 * quota.ts), read through a workspace quota "as if it were" a namespace quota. Usage is computed
 * from informers on the kinds the quotas name, started when a quota first names them.
 */
import {
  errors,
  evaluatorFor,
  formatResourceUsage,
  quotaHard,
  quotaUsed,
  sourceOfQuotaResource,
  zeroQuantity,
  type KubeObject,
  type QuotaSource,
  type ResourceUsage,
  type StatusError,
} from '@canopy/apimachinery';
import { types, type Informer, type InformerFactory } from '@canopy/client';
import type { ServedResources } from '../controllers/served-resources.js';
import { platformTypes } from '../resource-types.js';

export interface WorkspaceQuota extends KubeObject {
  spec?: {
    selector?: Record<string, string>;
    quota?: { hard?: Record<string, string>; scopes?: string[]; scopeSelector?: unknown };
  };
  status?: {
    total?: { hard?: Record<string, string>; used?: Record<string, string> };
    namespaces?: { namespace: string; hard?: Record<string, string>; used?: Record<string, string> }[];
  };
}

/** The quota in the shape Kubernetes' namespace quota functions read (`spec.hard`, `spec.scopes`). */
export function asNamespaceQuota(quota: WorkspaceQuota): KubeObject {
  return { metadata: quota.metadata, spec: quota.spec?.quota ?? {} };
}

/** labels.SelectorFromSet(spec.selector): every pair must match (an empty selector selects all). */
export function quotaSelects(quota: WorkspaceQuota, labels: Record<string, string> | undefined): boolean {
  for (const [k, v] of Object.entries(quota.spec?.selector ?? {})) if (labels?.[k] !== v) return false;
  return true;
}

/** A write the workspace quotas are asked about. */
export interface WorkspaceQuotaRequest {
  operation: 'CREATE' | 'UPDATE';
  group: string;
  resource: string;
  subresource?: string;
  namespace: string;
  name: string;
  /** The object as it would be stored (after defaults). */
  object: KubeObject;
  /** The stored object (UPDATE). */
  oldObject?: KubeObject;
}

/**
 * Whether a write fits the workspace quotas that select its namespace: the refusal (403 with
 * kube's `exceeded quota` wording) or undefined. `usage(quota, names)` is what the quota's
 * namespaces use now of those resource names, without the object being written (for an update,
 * with its old version: only growth is charged, as kube charges it).
 */
export function checkWorkspaceQuota(
  quotas: readonly WorkspaceQuota[],
  usage: (quota: WorkspaceQuota, names: Set<string>) => ResourceUsage,
  request: WorkspaceQuotaRequest,
  now: Date = new Date(),
): StatusError | undefined {
  if (request.subresource) return undefined;
  const evaluator = evaluatorFor(request.group, request.resource);
  if (request.operation === 'UPDATE' && !evaluator.handlesUpdate) return undefined;
  const applicable = quotas.filter((q) => {
    const view = asNamespaceQuota(q);
    return [...quotaHard(view).keys()].some((n) => evaluator.matches(n)) && evaluator.matchesScopes(view, request.object);
  });
  if (!applicable.length) return undefined;
  const ref = { group: request.group, resource: request.resource };
  for (const quota of applicable) {
    const required = [...quotaHard(asNamespaceQuota(quota)).keys()].filter((n) => evaluator.matches(n));
    const problem = evaluator.constraints?.(required, request.object);
    if (problem) return errors.forbidden(ref, request.name, `failed quota: ${quota.metadata.name ?? ''}: ${problem}`);
  }
  const delta = evaluator.usage(request.object, now);
  if (request.operation === 'UPDATE' && request.oldObject) {
    for (const [name, before] of evaluator.usage(request.oldObject, now)) {
      const after = delta.get(name);
      if (after) delta.set(name, after.cmp(before) > 0 ? after.sub(before) : zeroQuantity());
    }
  }
  for (const [name, amount] of delta) if (amount.sign() <= 0) delta.delete(name);
  if (!delta.size) return undefined;
  for (const quota of applicable) {
    const hard = quotaHard(asNamespaceQuota(quota));
    const requested = [...delta.keys()].filter((n) => hard.has(n));
    if (!requested.length) continue;
    const used = usage(quota, new Set(requested));
    const exceeded = requested.filter((n) => (used.get(n) ?? zeroQuantity()).add(delta.get(n)!).cmp(hard.get(n)!) > 0);
    if (exceeded.length) {
      return errors.forbidden(
        ref,
        request.name,
        `exceeded quota: ${quota.metadata.name ?? ''}, requested: ${formatResourceUsage(delta, exceeded)}, used: ${formatResourceUsage(used, exceeded)}, limited: ${formatResourceUsage(hard, exceeded)}`,
      );
    }
  }
  return undefined;
}

/**
 * Workspace quotas and what their namespaces use, from informers. Shared by the quota status
 * controller and the admission checks (front and API server plug-in).
 */
export class WorkspaceQuotaTracker {
  readonly quotas: Informer<WorkspaceQuota>;
  readonly namespaces: Informer<KubeObject>;
  private readonly sources = new Map<string, Promise<Informer<KubeObject> | undefined>>();
  private readonly ready = new Map<string, Informer<KubeObject>>();
  private readonly listeners: Array<(namespace: string) => void> = [];

  constructor(
    private readonly informers: InformerFactory,
    private readonly served: ServedResources,
    private readonly log: (message: string) => void = () => {},
  ) {
    this.quotas = informers.for<WorkspaceQuota>(platformTypes.workspaceQuotas);
    this.namespaces = informers.for(types.namespaces);
    const track = (q: WorkspaceQuota) => void this.track(q);
    this.quotas.addHandler({ onAdd: track, onUpdate: (_o, q) => track(q) });
  }

  async start(): Promise<void> {
    await Promise.all([this.quotas.start(), this.namespaces.start()]);
    await Promise.all(this.quotas.list().map((q) => this.track(q)));
  }

  /** Called with the namespace of every change to an object a quota counts. */
  onUsageChange(listener: (namespace: string) => void): void {
    this.listeners.push(listener);
  }

  /** Starts (and waits for) informers on every kind the quota counts. */
  async track(quota: WorkspaceQuota): Promise<void> {
    const wanted = new Map<string, QuotaSource>();
    for (const name of Object.keys(quota.spec?.quota?.hard ?? {})) {
      const source = sourceOfQuotaResource(name);
      if (source) wanted.set(`${source.group}/${source.resource}`, source);
    }
    await Promise.all([...wanted].map(([id, source]) => this.source(id, source)));
  }

  private source(id: string, source: QuotaSource): Promise<Informer<KubeObject> | undefined> {
    let pending = this.sources.get(id);
    if (!pending) {
      pending = (async () => {
        const type = await this.served.resolve(source.group, source.resource);
        if (!type?.namespaced) {
          this.sources.delete(id); // asked again later: a CRD may appear
          return undefined;
        }
        const informer = this.informers.for(type);
        const changed = (o: KubeObject) => {
          for (const l of this.listeners) l(o.metadata.namespace ?? '');
        };
        informer.addHandler({ onAdd: changed, onUpdate: (_o, n) => changed(n), onDelete: changed });
        await informer.start();
        this.ready.set(id, informer);
        return informer;
      })().catch((err) => {
        this.sources.delete(id);
        this.log(`workspace quota: cannot watch ${id}: ${(err as Error).message}`);
        return undefined;
      });
      this.sources.set(id, pending);
    }
    return pending;
  }

  /** The quotas that select a namespace. */
  quotasOf(namespace: string): WorkspaceQuota[] {
    const ns = this.namespaces.get(namespace);
    if (!ns) return [];
    return this.quotas.list().filter((q) => !q.metadata.deletionTimestamp && quotaSelects(q, ns.metadata.labels));
  }

  /** The namespaces a quota selects, by name. */
  namespacesOf(quota: WorkspaceQuota): string[] {
    return this.namespaces
      .list()
      .filter((ns) => quotaSelects(quota, ns.metadata.labels))
      .map((ns) => ns.metadata.name!)
      .sort();
  }

  /** What the given namespaces (default: all the quota selects) use of the quota's resources. */
  used(
    quota: WorkspaceQuota,
    only?: Set<string>,
    namespaces: string[] = this.namespacesOf(quota),
    now = new Date(),
  ): ResourceUsage {
    return quotaUsed(
      asNamespaceQuota(quota),
      (source) => {
        const informer = this.ready.get(`${source.group}/${source.resource}`);
        return informer ? namespaces.flatMap((ns) => informer.list(ns)) : [];
      },
      now,
      only,
    );
  }

  /** Synchronous: the stored object of a tracked kind, if its informer holds it. */
  cached(group: string, resource: string, name: string, namespace: string): KubeObject | undefined {
    return this.ready.get(`${group}/${resource}`)?.get(name, namespace);
  }
}
