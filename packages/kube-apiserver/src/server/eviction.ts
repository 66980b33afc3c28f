/**
 * `POST pods/NAME/eviction` (policy/v1 and v1beta1 Eviction, kube's EvictionREST): a pod is
 * deleted unless that would break the PodDisruptionBudget selecting it. The budget's status, kept
 * by the disruption controller, decides: with no disruption allowed the answer is kube's 429;
 * otherwise `disruptionsAllowed` is decremented and the pod recorded under `disruptedPods` in the
 * same turn as the deletion, so concurrent evictions cannot both take the last disruption.
 * Pods already terminal, pending or terminating, and pods no budget selects, are deleted at once.
 */
import { errors, isPlainObject, labelSelectorFromObject, matchesLabels, type KubeObject, type LabelSelectorObject } from '@canopy/apimachinery';
import type { ResourceRegistry } from '../registry/registry.js';
import type { RevisionStore } from '../storage/types.js';
import type { DeleteOptions, ObjectService } from './objects.js';
import { rfc3339 } from './object-utils.js';
import type { ActionHandler } from './rest.js';

/** kube's MaxDisruptedPodSize: evictions the disruption controller has not confirmed yet. */
const MAX_DISRUPTED_PODS = 2000;
const DISRUPTION_BUDGET_CAUSE = 'DisruptionBudget';

interface Budget extends KubeObject {
  spec?: { selector?: LabelSelectorObject | null; unhealthyPodEvictionPolicy?: string };
  status?: {
    observedGeneration?: number;
    disruptionsAllowed?: number;
    currentHealthy?: number;
    desiredHealthy?: number;
    expectedPods?: number;
    disruptedPods?: Record<string, string>;
    conditions?: Array<Record<string, unknown>>;
  };
}

function isReady(pod: KubeObject): boolean {
  const conditions = (pod.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** kube's canIgnorePDB: the pod causes no new disruption by going. */
function canIgnoreBudget(pod: KubeObject): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata.deletionTimestamp;
}

function deleteOptionsOf(body: Record<string, unknown>, dryRun: boolean): DeleteOptions {
  const raw = isPlainObject(body.deleteOptions) ? body.deleteOptions : {};
  const options: DeleteOptions = {};
  if (typeof raw.gracePeriodSeconds === 'number' && Number.isInteger(raw.gracePeriodSeconds)) options.gracePeriodSeconds = raw.gracePeriodSeconds;
  if (raw.propagationPolicy === 'Foreground' || raw.propagationPolicy === 'Background' || raw.propagationPolicy === 'Orphan') options.propagationPolicy = raw.propagationPolicy;
  if (isPlainObject(raw.preconditions)) {
    const pre = raw.preconditions;
    options.preconditions = {
      ...(typeof pre.uid === 'string' ? { uid: pre.uid } : {}),
      ...(typeof pre.resourceVersion === 'string' ? { resourceVersion: pre.resourceVersion } : {}),
    };
  }
  if (dryRun || (Array.isArray(raw.dryRun) && raw.dryRun.includes('All'))) options.dryRun = true;
  return options;
}

function tooManyRequests(cause: string, retryAfterSeconds: number) {
  const err = errors.tooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", retryAfterSeconds);
  err.status.details = { ...err.status.details, causes: [{ reason: DISRUPTION_BUDGET_CAUSE, message: cause }] };
  return err;
}

export function podEvictionAction(store: RevisionStore, registry: ResourceRegistry, objects: ObjectService): ActionHandler {
  return {
    verbs: ['create'],
    handle({ req, info, def, body, writeOptions, respond }) {
      if (!isPlainObject(body)) throw errors.badRequest('the body of the request must be a JSON object');
      if (body.kind !== undefined && body.kind !== 'Eviction') {
        throw errors.badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (Eviction)`);
      }
      const metadata = isPlainObject(body.metadata) ? body.metadata : {};
      if (metadata.name !== undefined && metadata.name !== '' && metadata.name !== info.name) {
        throw errors.badRequest('name in URL does not match name in Eviction object');
      }
      const options = { ...deleteOptionsOf(body, !!writeOptions().dryRun), user: req.user };
      const pod = objects.get(def, info.namespace, info.name);
      // The client's preconditions are checked here, against the pod the decision is made on;
      // the status write below changes its resourceVersion, and nothing can change it between
      // this check and the deletion (both happen in this synchronous turn).
      const pre = options.preconditions ?? {};
      if ((pre.uid && pre.uid !== pod.metadata.uid) || (pre.resourceVersion && pre.resourceVersion !== pod.metadata.resourceVersion)) {
        // Deleting with them raises kube's "Precondition failed" conflict.
        objects.delete(def, info.namespace, info.name, options);
      }
      const success = () => respond(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' });
      const evict = (reason: string) => {
        if (!options.dryRun) markDisruptionTarget(objects, def, pod, reason);
        objects.delete(def, info.namespace, info.name, { ...options, preconditions: { uid: pod.metadata.uid } });
        return success();
      };
      if (canIgnoreBudget(pod)) {
        objects.delete(def, info.namespace, info.name, { ...options, preconditions: { uid: pod.metadata.uid } });
        return success();
      }
      const pdbDef = registry.get('policy', 'v1', 'poddisruptionbudgets');
      const budgets = pdbDef
        ? (store.list(objects.listPrefix(pdbDef, info.namespace)).items.map((i) => i.object) as Budget[]).filter((b) => {
            const selector = b.spec?.selector;
            // A nil selector selects nothing; an empty one, every pod (policy/v1).
            return selector !== undefined && selector !== null && matchesLabels(labelSelectorFromObject(selector), pod.metadata.labels ?? {});
          })
        : [];
      if (budgets.length > 1) {
        return respond(500, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
          code: 500,
        });
      }
      if (!budgets.length) return evict('EvictionByEvictionAPI');
      const budget = budgets[0];
      const status = budget.status ?? {};
      const ready = isReady(pod);
      // An unready pod does not count as healthy: evicting it takes nothing from the budget.
      if (!ready && budget.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return evict('EvictionByEvictionAPI');
      if (!ready && (status.currentHealthy ?? 0) >= (status.desiredHealthy ?? 0) && (status.desiredHealthy ?? 0) > 0) {
        return evict('EvictionByEvictionAPI');
      }
      if ((status.observedGeneration ?? 0) < (budget.metadata.generation ?? 0)) {
        throw tooManyRequests(`The disruption budget ${budget.metadata.name} is still being processed by the server.`, 10);
      }
      const allowed = status.disruptionsAllowed ?? 0;
      if (allowed < 0) throw errors.forbidden({ group: '', resource: 'pods' }, info.name, 'pdb disruptions allowed is negative');
      if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) {
        throw errors.forbidden({ group: '', resource: 'pods' }, info.name, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
      }
      if (allowed === 0) {
        throw tooManyRequests(`The disruption budget ${budget.metadata.name} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently`, 0);
      }
      if (!options.dryRun && pdbDef) {
        const remaining = allowed - 1;
        const conditions = (status.conditions ?? []).filter((c) => c.type !== 'DisruptionAllowed');
        const previous = (status.conditions ?? []).find((c) => c.type === 'DisruptionAllowed');
        const condition = remaining > 0 ? { status: 'True', reason: 'SufficientPods' } : { status: 'False', reason: 'InsufficientPods' };
        const next: Budget = {
          ...budget,
          status: {
            ...status,
            disruptionsAllowed: remaining,
            disruptedPods: { ...(status.disruptedPods ?? {}), [info.name]: rfc3339() },
            conditions: [
              ...conditions,
              {
                type: 'DisruptionAllowed',
                ...condition,
                message: '',
                observedGeneration: budget.metadata.generation,
                lastTransitionTime: previous?.status === condition.status ? previous.lastTransitionTime : rfc3339(),
              },
            ],
          },
        };
        objects.update(pdbDef, info.namespace, budget.metadata.name!, next, { subresource: 'status', expectedRevision: Number(budget.metadata.resourceVersion) });
      }
      return evict('EvictionByEvictionAPI');
    },
  };
}

/** kube's DisruptionTarget condition, set on the pod before it is deleted by an eviction. */
function markDisruptionTarget(objects: ObjectService, def: Parameters<ObjectService['get']>[0], pod: KubeObject, reason: string): void {
  const status = (pod.status ?? {}) as { conditions?: Array<Record<string, unknown>> };
  const conditions = (status.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
  conditions.push({ type: 'DisruptionTarget', status: 'True', reason, message: 'Eviction API: evicting', lastTransitionTime: rfc3339() });
  objects.update(def, pod.metadata.namespace ?? '', pod.metadata.name!, { ...pod, status: { ...status, conditions } }, {
    subresource: 'status',
    expectedRevision: Number(pod.metadata.resourceVersion),
  });
}
