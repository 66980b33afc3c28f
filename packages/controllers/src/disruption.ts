/**
 * The disruption controller (kube's pkg/controller/disruption): keeps each
 * PodDisruptionBudget's status — expectedPods, currentHealthy, desiredHealthy,
 * disruptionsAllowed, disruptedPods and the DisruptionAllowed condition — from the pods its
 * selector matches. `minAvailable` as a number counts the pods themselves; a percentage, or
 * `maxUnavailable`, is taken of the replicas their controllers want (read through the scale
 * subresource; a ReplicaSet's Deployment answers for it). The eviction subresource consumes the
 * disruptions this status allows.
 */
import { jsonDeepEqual, labelSelectorFromObject, matchesLabels, type KubeObject, type LabelSelectorObject, type OwnerReference } from '@canopy/apimachinery';
import { isConflict, isNotFound, rfc3339, types, WorkQueue, type Informer } from '@canopy/client';
import type { Controller, ControllerContext, ControllerFactory } from './context.js';
import { isPodReady } from './controller-utils/pods.js';
import type { Pod } from './controller-utils/types.js';
import { discoverResources, ResourceMapper } from './discovery.js';

/** kube's DeletionTimeout: an eviction not followed by the pod's deletion within this is forgotten. */
const DELETION_TIMEOUT_MS = 2 * 60_000;

interface BudgetSpec {
  selector?: LabelSelectorObject | null;
  minAvailable?: number | string;
  maxUnavailable?: number | string;
}

interface BudgetStatus {
  observedGeneration?: number;
  disruptedPods?: Record<string, string>;
  disruptionsAllowed?: number;
  currentHealthy?: number;
  desiredHealthy?: number;
  expectedPods?: number;
  conditions?: Array<{ type: string; status: string; reason: string; message: string; observedGeneration?: number; lastTransitionTime?: string }>;
}

type Budget = KubeObject & { spec?: BudgetSpec; status?: BudgetStatus };

function selectorMatches(budget: Budget, pod: KubeObject): boolean {
  const selector = budget.spec?.selector;
  // policy/v1: a nil selector selects nothing, an empty one every pod of the namespace.
  if (selector === undefined || selector === null) return false;
  return matchesLabels(labelSelectorFromObject(selector), pod.metadata.labels ?? {});
}

/** kube's intstr.GetScaledValueFromIntOrPercent. */
function scaledValue(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)%$/.exec(value);
  if (!match) throw new Error(`invalid value for IntOrString: invalid value "${value}"`);
  const scaled = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

export class DisruptionController implements Controller {
  readonly name = 'disruption';
  private readonly queue: WorkQueue<string>;
  private readonly budgets: Informer<Budget>;
  private readonly pods: Informer;
  private mapper?: ResourceMapper;

  constructor(private readonly context: ControllerContext) {
    this.queue = new WorkQueue({ log: context.log, name: 'disruption', maxDelayMs: 30_000 });
    this.budgets = context.informers.for<Budget>(types.podDisruptionBudgets);
    this.pods = context.informers.for(types.pods);
    const key = (b: KubeObject) => `${b.metadata.namespace}/${b.metadata.name}`;
    this.budgets.addHandler({ onAdd: (b) => this.queue.add(key(b)), onUpdate: (_o, b) => this.queue.add(key(b)) });
    const podChanged = (old: KubeObject | undefined, pod: KubeObject) => {
      for (const b of this.budgets.list(pod.metadata.namespace)) if (selectorMatches(b, pod) || (old && selectorMatches(b, old))) this.queue.add(key(b));
    };
    this.pods.addHandler({ onAdd: (p) => podChanged(undefined, p), onUpdate: (o, p) => podChanged(o, p), onDelete: (p) => podChanged(undefined, p) });
  }

  start(): void {
    void Promise.all([this.budgets.waitForSync(), this.pods.waitForSync()]).then(() =>
      this.queue.run(async (k) => {
        const slash = k.indexOf('/');
        await this.sync(k.slice(0, slash), k.slice(slash + 1));
      }, 2),
    );
  }

  stop(): void {
    this.queue.shutdown();
  }

  private async sync(namespace: string, name: string): Promise<void> {
    const budget = this.budgets.get(name, namespace);
    if (!budget || budget.metadata.deletionTimestamp) return;
    const pods = this.pods.list(namespace).filter((p) => selectorMatches(budget, p));
    let status: BudgetStatus;
    try {
      status = await this.computeStatus(budget, pods);
    } catch (err) {
      // kube's failSafe: no disruption allowed while the budget cannot be evaluated.
      status = {
        ...(budget.status ?? {}),
        observedGeneration: budget.metadata.generation,
        disruptionsAllowed: 0,
        conditions: this.condition(budget, 'False', 'SyncFailed', (err as Error).message),
      };
      this.context.events.event(budget, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${(err as Error).message}`);
    }
    if (jsonDeepEqual(status, budget.status ?? {})) return;
    try {
      await this.context.client.updateStatus(types.podDisruptionBudgets, { ...budget, status });
    } catch (err) {
      // A stale copy (an eviction just updated it): the budget's own event brings it back.
      if (isConflict(err) || isNotFound(err)) return;
      throw err;
    }
  }

  private async computeStatus(budget: Budget, pods: KubeObject[]): Promise<BudgetStatus> {
    const spec = budget.spec ?? {};
    let expected: number;
    let desired: number;
    if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
      expected = await this.expectedScale(budget, pods);
      desired = Math.max(0, expected - scaledValue(spec.maxUnavailable, expected, true));
    } else if (typeof spec.minAvailable === 'number') {
      expected = pods.length;
      desired = spec.minAvailable;
    } else if (typeof spec.minAvailable === 'string') {
      expected = await this.expectedScale(budget, pods);
      desired = scaledValue(spec.minAvailable, expected, true);
    } else {
      expected = pods.length;
      desired = 0;
    }
    const now = this.context.clock.now();
    const disrupted = this.disruptedPods(budget, pods, now);
    const healthy = pods.filter((p) => !p.metadata.deletionTimestamp && !disrupted[p.metadata.name!] && isPodReady(p as Pod)).length;
    let allowed = healthy - desired;
    if (expected <= 0 || allowed <= 0) allowed = 0;
    return {
      ...(budget.status ?? {}),
      observedGeneration: budget.metadata.generation,
      disruptedPods: Object.keys(disrupted).length ? disrupted : undefined,
      disruptionsAllowed: allowed,
      currentHealthy: healthy,
      desiredHealthy: desired,
      expectedPods: expected,
      conditions: allowed > 0 ? this.condition(budget, 'True', 'SufficientPods', '') : this.condition(budget, 'False', 'InsufficientPods', ''),
    };
  }

  /** kube's buildDisruptedPodMap: evictions still pending, with a recheck when the oldest expires. */
  private disruptedPods(budget: Budget, pods: KubeObject[], now: number): Record<string, string> {
    const byName = new Map(pods.map((p) => [p.metadata.name!, p]));
    const out: Record<string, string> = {};
    let next: number | undefined;
    for (const [name, at] of Object.entries(budget.status?.disruptedPods ?? {})) {
      const pod = byName.get(name);
      if (!pod || pod.metadata.deletionTimestamp) continue;
      const expires = Date.parse(at) + DELETION_TIMEOUT_MS;
      if (expires < now) {
        this.context.events.event(budget, 'Warning', 'NotDeleted', `Pod ${pod.metadata.namespace}/${name} was expected to be deleted but it wasn't`);
        continue;
      }
      out[name] = at;
      next = next === undefined ? expires : Math.min(next, expires);
    }
    if (next !== undefined) {
      const k = `${budget.metadata.namespace}/${budget.metadata.name}`;
      this.context.clock.setTimeout(() => this.queue.add(k), next - now + 1);
    }
    return out;
  }

  private condition(budget: Budget, status: 'True' | 'False', reason: string, message: string): BudgetStatus['conditions'] {
    const others = (budget.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionAllowed');
    const previous = (budget.status?.conditions ?? []).find((c) => c.type === 'DisruptionAllowed');
    const unchanged = previous && previous.status === status && previous.reason === reason && previous.message === message;
    return [
      ...others,
      {
        type: 'DisruptionAllowed',
        status,
        reason,
        message,
        observedGeneration: budget.metadata.generation,
        lastTransitionTime: unchanged || previous?.status === status ? previous!.lastTransitionTime : rfc3339(this.context.clock.now()),
      },
    ];
  }

  /** kube's getExpectedScale: the replicas the pods' controllers want, each controller once. */
  private async expectedScale(budget: Budget, pods: KubeObject[]): Promise<number> {
    const counted = new Map<string, number>();
    const unmanaged: string[] = [];
    for (const pod of pods) {
      const ref = pod.metadata.ownerReferences?.find((r) => r.controller);
      if (!ref) {
        unmanaged.push(pod.metadata.name!);
        continue;
      }
      const owner = await this.scaleOwner(ref, pod.metadata.namespace!);
      if (counted.has(owner.uid)) continue;
      counted.set(owner.uid, owner.replicas);
    }
    if (unmanaged.length) {
      this.context.events.event(budget, 'Warning', 'UnmanagedPods', `Pods selected by this PodDisruptionBudget (selector: ${JSON.stringify(budget.spec?.selector)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`);
    }
    return [...counted.values()].reduce((a, b) => a + b, 0);
  }

  /** The controller that answers for a pod's replicas (a ReplicaSet's Deployment), with its scale. */
  private async scaleOwner(ref: OwnerReference, namespace: string): Promise<{ uid: string; replicas: number }> {
    let target = ref;
    if (ref.kind === 'ReplicaSet' && ref.apiVersion.startsWith('apps/')) {
      const rs = await this.context.client.tryGet(types.replicaSets, ref.name, namespace);
      const deployment = rs?.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'Deployment');
      if (deployment) target = deployment;
    }
    let type = this.mapper?.forKind(target.apiVersion, target.kind);
    if (!type) {
      this.mapper = new ResourceMapper(await discoverResources(this.context.client));
      type = this.mapper.forKind(target.apiVersion, target.kind);
    }
    if (!type) throw new Error(`no resource serves ${target.apiVersion} ${target.kind}`);
    const scale = await this.context.client.request<{ metadata?: { uid?: string }; spec?: { replicas?: number } }>({
      method: 'GET',
      path: this.context.client.path(type, namespace, target.name, 'scale'),
    });
    if (scale.metadata?.uid && scale.metadata.uid !== target.uid) throw new Error(`${target.kind} ${namespace}/${target.name} was replaced`);
    return { uid: target.uid, replicas: scale.spec?.replicas ?? 0 };
  }
}

export const disruptionController: ControllerFactory = {
  serviceAccount: 'disruption-controller',
  create: (context) => new DisruptionController(context),
};
