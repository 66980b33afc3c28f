/**
 * ResourceQuota admission, as kube-apiserver's plug-in enforces it: a write that would take a
 * namespace past a quota's `hard` is refused. What each object is charged comes from the
 * evaluators in `@canopy/apimachinery` (quota.ts), which the resource quota controller
 * (packages/controllers) shares to keep each quota's `status.used` true.
 *
 * Unlike kube's plug-in, which adds the request to the usage recorded in the quota's status (and
 * writes it back to serialise concurrent writers), admission here recomputes the usage from the
 * store: writes run synchronously, so the read and the write that follows are one atomic step and
 * concurrent creates can never both take the last unit.
 */
import {
  errors,
  evaluatorFor,
  formatResourceUsage,
  quotaHard,
  quotaUsed,
  zeroQuantity,
  type KubeObject,
  type QuotaSource,
  type ResourceUsage,
} from '@canopy/apimachinery';
import type { ResourceRegistry } from '../registry/registry.js';
import { listPrefix } from '../storage/keys.js';
import type { RevisionStore } from '../storage/types.js';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import type { ObjectService } from './objects.js';

/** Reads and sums what the objects of a namespace use, per quota. */
export class QuotaUsage {
  constructor(
    private readonly store: RevisionStore,
    private readonly registry: ResourceRegistry,
    private readonly objects: ObjectService,
  ) {}

  /** The stored objects of one resource in a namespace. */
  objectsOf(source: QuotaSource, namespace: string): KubeObject[] {
    const def = this.registry.all().find((d) => d.group === source.group && d.resource === source.resource);
    const prefix = def ? this.objects.listPrefix(def, namespace) : listPrefix(source.group, source.resource, namespace);
    return this.store.list(prefix).items.map((s) => s.object);
  }

  quotasOf(namespace: string): KubeObject[] {
    return this.store.list(listPrefix('', 'resourcequotas', namespace)).items.map((s) => s.object);
  }

  /**
   * What the namespace uses of each resource the quota limits (restricted to `only`, when given).
   * `listed` caches object lists between quotas of the same request.
   */
  used(quota: KubeObject, namespace: string, now: Date, only?: Set<string>, listed = new Map<string, KubeObject[]>()): ResourceUsage {
    return quotaUsed(
      quota,
      (source) => {
        const id = `${source.group}/${source.resource}`;
        if (!listed.has(id)) listed.set(id, this.objectsOf(source, namespace));
        return listed.get(id)!;
      },
      now,
      only,
    );
  }
}

// ---- admission ----------------------------------------------------------------------------------

/**
 * The ResourceQuota validating plug-in: a create (or an update that grows usage) in a namespace
 * with quotas is refused, 403 with kube's wording, when it would take any quota past `hard`.
 */
export function resourceQuotaAdmission(usage: QuotaUsage): AdmissionPlugin {
  return {
    name: 'ResourceQuota',
    validate(a: AdmissionAttributes) {
      if (a.subresource || !a.def.namespaced || !a.object || !a.namespace) return;
      if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return;
      const where = a.def.storage ?? a.def;
      const evaluator = evaluatorFor(where.group, where.resource);
      if (a.operation === 'UPDATE' && !evaluator.handlesUpdate) return;
      const quotas = usage
        .quotasOf(a.namespace)
        .filter((q) => [...quotaHard(q).keys()].some((n) => evaluator.matches(n)) && evaluator.matchesScopes(q, a.object!));
      if (!quotas.length) return;
      const ref = { group: a.def.group, resource: a.def.resource };
      for (const quota of quotas) {
        const required = [...quotaHard(quota).keys()].filter((n) => evaluator.matches(n));
        const problem = evaluator.constraints?.(required, a.object);
        if (problem) throw errors.forbidden(ref, a.name, `failed quota: ${quota.metadata.name ?? ''}: ${problem}`);
      }
      const now = new Date();
      const delta = evaluator.usage(a.object, now);
      if (a.operation === 'UPDATE' && a.oldObject) {
        // Charged the growth only; shrinking frees usage, which the controller reports later.
        for (const [name, before] of evaluator.usage(a.oldObject, now)) {
          const after = delta.get(name);
          if (after) delta.set(name, after.cmp(before) > 0 ? after.sub(before) : zeroQuantity());
        }
      }
      for (const [name, amount] of delta) if (amount.sign() <= 0) delta.delete(name);
      if (!delta.size) return;
      const listed = new Map<string, KubeObject[]>();
      for (const quota of quotas) {
        const hard = quotaHard(quota);
        const requested = [...delta.keys()].filter((n) => hard.has(n));
        if (!requested.length) continue;
        const used = usage.used(quota, a.namespace, now, new Set(requested), listed);
        const exceeded = requested.filter((n) => (used.get(n) ?? zeroQuantity()).add(delta.get(n)!).cmp(hard.get(n)!) > 0);
        if (exceeded.length) {
          throw errors.forbidden(
            ref,
            a.name,
            `exceeded quota: ${quota.metadata.name ?? ''}, requested: ${formatResourceUsage(delta, exceeded)}, used: ${formatResourceUsage(used, exceeded)}, limited: ${formatResourceUsage(hard, exceeded)}`,
          );
        }
      }
    },
  };
}
