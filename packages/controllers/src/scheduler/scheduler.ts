/**
 * kube-scheduler as a controller: informers feed the cache (assigned pods, nodes, namespace
 * labels) and the scheduling queue (pending pods of `default-scheduler`); one loop takes the
 * highest-priority pod, runs a scheduling cycle synchronously over the cache, assumes the pod on
 * the chosen node and binds it through `pods/NAME/binding` in the background, so the next cycle
 * starts at once. Failures write `PodScheduled=False` (status subresource) and a
 * `FailedScheduling` event, and park the pod until a cluster event may let it fit.
 *
 * Runs as the user `system:kube-scheduler`, which kube's bootstrap policy binds to the
 * `system:kube-scheduler` and `system:volume-scheduler` roles.
 */
import { isConflict, isNotFound, rfc3339, types, EventRecorder, type Informer, type KubeClient } from '@canopy/client';
import type { KubeObject } from '@canopy/apimachinery';
import type { Controller, ControllerContext, ControllerFactory } from '../context.js';
import { DEFAULT_SCHEDULER_NAME, type Node, type Pod, type PodCondition } from './api.js';
import { NO_NODES_AVAILABLE, SchedulingAlgorithm, truncateMessage, type PreemptionPlan } from './algorithm.js';
import { SchedulerCache, type PodInfo } from './cache.js';
import type { WorkloadListers } from './framework.js';
import { SchedulingQueue, uidOf, type QueuedPod } from './queue.js';

export interface SchedulerOptions {
  schedulerName?: string;
  /** Tie-breaking randomness (seed it in tests). */
  random?: () => number;
  percentageOfNodesToScore?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/** Which plugins each cluster event may help (the plugins' EventsToRegister), to requeue only the pods they rejected. */
const ALL_PLUGINS = undefined;
const ASSIGNED_POD_DELETE = new Set(['NodeResourcesFit', 'NodePorts', 'InterPodAffinity', 'PodTopologySpread']);
const ASSIGNED_POD_ADD = new Set(['InterPodAffinity', 'PodTopologySpread']);
const ASSIGNED_POD_LABELS = new Set(['InterPodAffinity', 'PodTopologySpread']);

/** Plugins a node update may help, by what changed. */
function nodeUpdatePlugins(old: Node, node: Node): Set<string> {
  const plugins = new Set<string>();
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  if (!same(old.status?.allocatable, node.status?.allocatable)) plugins.add('NodeResourcesFit');
  if (!same(old.metadata.labels, node.metadata.labels)) for (const p of ['NodeAffinity', 'PodTopologySpread', 'InterPodAffinity']) plugins.add(p);
  if (!same(old.spec?.taints, node.spec?.taints)) for (const p of ['TaintToleration', 'PodTopologySpread']) plugins.add(p);
  if (!!old.spec?.unschedulable !== !!node.spec?.unschedulable) plugins.add('NodeUnschedulable');
  return plugins;
}

const isTerminal = (pod: Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
const isAssigned = (pod: Pod) => !!pod.spec?.nodeName;

export function schedulerFactory(options: SchedulerOptions = {}): ControllerFactory {
  return { user: 'system:kube-scheduler', create: (ctx) => new Scheduler(ctx, options) };
}

export class Scheduler implements Controller {
  readonly name = 'scheduler';
  readonly cache = new SchedulerCache();
  readonly queue: SchedulingQueue;
  readonly algorithm: SchedulingAlgorithm;
  private readonly client: KubeClient;
  private readonly events: EventRecorder;
  private readonly schedulerName: string;
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly informers: Informer[];
  /** Bindings, status writes and preemptions in flight (awaited on stop). */
  private readonly background = new Set<Promise<void>>();
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly ctx: ControllerContext,
    options: SchedulerOptions = {},
  ) {
    this.schedulerName = options.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    this.client = ctx.client.withUserAgent('kube-scheduler');
    this.events = new EventRecorder(this.client, { component: this.schedulerName }, { clock: ctx.clock, log: ctx.log });
    this.queue = new SchedulingQueue({ clock: ctx.clock, initialBackoffMs: options.initialBackoffMs, maxBackoffMs: options.maxBackoffMs });
    this.pods = ctx.informers.for<Pod>(types.pods);
    this.nodes = ctx.informers.for<Node>(types.nodes);
    const namespaces = ctx.informers.for(types.namespaces);
    const services = ctx.informers.for(types.services);
    const replicaSets = ctx.informers.for(types.replicaSets);
    const statefulSets = ctx.informers.for(types.statefulSets);
    // ReplicationControllers are not served by Canopy's API server, so the default spreading
    // selector comes from services, ReplicaSets and StatefulSets.
    this.informers = [this.pods, this.nodes, namespaces, services, replicaSets, statefulSets];
    const workloads: WorkloadListers = {
      serviceSelectors: (ns) => services.list(ns).map((s) => ((s.spec as { selector?: Record<string, string> } | undefined)?.selector ?? {})),
      controllerSelector: (ns, kind, apiVersion, name) => {
        const informer = apiVersion !== 'apps/v1' ? undefined : kind === 'ReplicaSet' ? replicaSets : kind === 'StatefulSet' ? statefulSets : undefined;
        const owner = informer?.get(name, ns);
        const selector = (owner?.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector;
        return selector ?? undefined;
      },
    };
    this.algorithm = new SchedulingAlgorithm(this.cache, { random: options.random, workloads, percentageOfNodesToScore: options.percentageOfNodesToScore });
    namespaces.addHandler({
      onAdd: (ns) => this.cache.namespaceLabels.set(ns.metadata.name ?? '', ns.metadata.labels ?? {}),
      onUpdate: (_old, ns) => this.cache.namespaceLabels.set(ns.metadata.name ?? '', ns.metadata.labels ?? {}),
      onDelete: (ns) => this.cache.namespaceLabels.delete(ns.metadata.name ?? ''),
    });
  }

  start(): void {
    this.nodes.addHandler({
      onAdd: (node) => {
        this.cache.setNode(node);
        this.queue.moveAllToActiveOrBackoff(ALL_PLUGINS);
      },
      onUpdate: (old, node) => {
        this.cache.setNode(node);
        const plugins = nodeUpdatePlugins(old, node);
        if (plugins.size) this.queue.moveAllToActiveOrBackoff(plugins);
      },
      onDelete: (node) => this.cache.removeNode(node.metadata.name ?? ''),
    });
    this.pods.addHandler({
      onAdd: (pod) => this.onPodAdd(pod),
      onUpdate: (old, pod) => this.onPodUpdate(old, pod),
      onDelete: (pod) => this.onPodDelete(pod),
    });
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.close();
    await this.running?.catch(() => {});
    await Promise.allSettled([...this.background]);
  }

  // ---- informer events -----------------------------------------------------------------------

  private responsibleFor(pod: Pod): boolean {
    return (pod.spec?.schedulerName ?? DEFAULT_SCHEDULER_NAME) === this.schedulerName;
  }

  /** A pending pod this scheduler should try now (not being deleted, not gated). */
  private wantsScheduling(pod: Pod): boolean {
    return this.responsibleFor(pod) && !pod.metadata.deletionTimestamp && !pod.spec?.schedulingGates?.length && !isTerminal(pod);
  }

  /** Tracks status.nominatedNodeName of pending pods (room reserved by preemption). */
  private trackNomination(pod: Pod): void {
    if (!isAssigned(pod) && !isTerminal(pod) && !pod.metadata.deletionTimestamp && pod.status?.nominatedNodeName) this.cache.setNominated(pod);
    else this.cache.clearNominated(uidOf(pod));
  }

  private onPodAdd(pod: Pod): void {
    this.trackNomination(pod);
    if (isTerminal(pod)) return;
    if (isAssigned(pod)) {
      this.cache.addPod(pod);
      this.queue.moveAllToActiveOrBackoff(ASSIGNED_POD_ADD);
    } else if (this.wantsScheduling(pod)) {
      this.queue.add(pod);
    }
  }

  private onPodUpdate(old: Pod, pod: Pod): void {
    this.trackNomination(pod);
    if (isAssigned(pod) || isAssigned(old)) {
      this.queue.delete(pod);
      if (isTerminal(pod)) {
        // Terminal pods release their resources (kube's informer filters them out: a delete).
        this.cache.removePod(pod);
        this.queue.moveAllToActiveOrBackoff(ASSIGNED_POD_DELETE);
        return;
      }
      this.cache.updatePod(pod);
      if (!isAssigned(old)) this.queue.moveAllToActiveOrBackoff(ASSIGNED_POD_ADD);
      else if (JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {})) this.queue.moveAllToActiveOrBackoff(ASSIGNED_POD_LABELS);
      return;
    }
    if (this.wantsScheduling(pod)) this.queue.update(old, pod);
    else this.queue.delete(pod);
  }

  private onPodDelete(pod: Pod): void {
    this.cache.clearNominated(uidOf(pod));
    this.queue.delete(pod);
    if (this.cache.hasPod(uidOf(pod))) {
      this.cache.removePod(pod);
      this.queue.moveAllToActiveOrBackoff(ASSIGNED_POD_DELETE);
    }
  }

  // ---- the scheduling loop -------------------------------------------------------------------

  private async run(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.waitForSync()));
    while (!this.stopped) {
      const qp = await this.queue.pop();
      if (!qp) return;
      try {
        this.scheduleOne(qp);
      } catch (err) {
        this.ctx.log(`scheduling ${qp.pod.metadata.namespace}/${qp.pod.metadata.name}: ${(err as Error).stack ?? err}`);
        this.queue.failed(qp, []);
      }
      // Let watch events and binding responses in between cycles.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** The latest version of a queued pod, or undefined when it is gone, bound, or no longer ours. */
  private current(qp: QueuedPod): Pod | undefined {
    const { namespace, name } = qp.pod.metadata;
    const pod = this.pods.get(name ?? '', namespace);
    if (!pod || uidOf(pod) !== qp.uid || isAssigned(pod) || !this.wantsScheduling(pod)) return undefined;
    return pod;
  }

  private scheduleOne(qp: QueuedPod): void {
    const pod = this.current(qp);
    // skipPodSchedule: deleted, bound meanwhile, or already assumed with a binding in flight.
    if (!pod || this.cache.hasPod(qp.uid)) return this.queue.done(qp.uid);
    qp.pod = pod;
    const outcome = this.algorithm.schedule(pod);
    switch (outcome.kind) {
      case 'scheduled': {
        this.cache.assumePod(outcome.podInfo, outcome.node.name);
        this.queue.done(qp.uid);
        this.track(this.bind(qp, outcome.podInfo, outcome.node.name));
        return;
      }
      case 'noNodes':
        // Rejected "by every plugin": any node event moves it.
        this.fail(qp, pod, 'Unschedulable', NO_NODES_AVAILABLE, ['NodeResourcesFit', 'NodeAffinity', 'TaintToleration', 'NodeUnschedulable']);
        return;
      case 'unschedulable': {
        const plan = outcome.preemption;
        // A nomination that preemption no longer backs is cleared (kube's clearNominatedNode).
        const nomination = plan ? plan.node.name : pod.status?.nominatedNodeName ? null : undefined;
        this.fail(qp, pod, 'Unschedulable', outcome.error.message, outcome.error.unschedulablePlugins, nomination);
        if (plan) this.track(this.preempt(pod, plan));
        return;
      }
    }
  }

  private track(work: Promise<void>): void {
    const p = work.catch((err) => this.ctx.log(`scheduler: ${(err as Error).stack ?? err}`)).finally(() => this.background.delete(p));
    this.background.add(p);
  }

  /** The binding cycle: POST pods/NAME/binding, then the Scheduled event. */
  private async bind(qp: QueuedPod, info: PodInfo, nodeName: string): Promise<void> {
    const { namespace, name, uid } = qp.pod.metadata;
    try {
      await this.client.createSubresource(
        types.pods,
        name ?? '',
        'binding',
        { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace, uid }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
        { namespace },
      );
      this.events.event(qp.pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${nodeName}`);
    } catch (err) {
      this.cache.forgetPod(info);
      this.queue.moveAllToActiveOrBackoff(ASSIGNED_POD_DELETE);
      // Gone, or bound by someone else meanwhile: nothing to retry.
      if (isNotFound(err) || (isConflict(err) && /already assigned|being deleted/.test((err as Error).message))) return;
      const pod = this.current(qp);
      if (!pod) return;
      this.fail(qp, pod, 'SchedulerError', `binding rejected: running Bind plugin "DefaultBinder": ${(err as Error).message}`, []);
    }
  }

  /**
   * handleSchedulingFailure: requeue (unschedulable or backoff), a FailedScheduling event, and
   * PodScheduled=False with the reason on the pod (written only when it changes).
   */
  private fail(qp: QueuedPod, pod: Pod, reason: 'Unschedulable' | 'SchedulerError', message: string, plugins: Iterable<string>, nominatedNodeName?: string | null): void {
    this.queue.failed(qp, plugins);
    const msg = truncateMessage(message);
    this.events.event(pod, 'Warning', 'FailedScheduling', msg);
    this.track(this.updateCondition(pod, { type: 'PodScheduled', status: 'False', reason, message: msg }, nominatedNodeName));
  }

  /** `nominatedNodeName`: a node to nominate, null to clear the nomination, undefined to leave it. */
  private async updateCondition(pod: Pod, condition: PodCondition, nominatedNodeName?: string | null): Promise<void> {
    const existing = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const lastTransitionTime = existing && existing.status === condition.status && existing.lastTransitionTime ? existing.lastTransitionTime : rfc3339(this.ctx.clock.now());
    const conditionChanged = !existing || existing.status !== condition.status || existing.reason !== condition.reason || existing.message !== condition.message;
    const nominationChanged = nominatedNodeName !== undefined && (pod.status?.nominatedNodeName ?? null) !== nominatedNodeName;
    if (!conditionChanged && !nominationChanged) return;
    const status: Record<string, unknown> = { conditions: [{ ...condition, lastTransitionTime }] };
    if (nominationChanged) status.nominatedNodeName = nominatedNodeName;
    try {
      await this.client.patch(types.pods, pod.metadata.name ?? '', { status }, 'strategic', { namespace: pod.metadata.namespace, subresource: 'status' });
    } catch (err) {
      if (!isNotFound(err)) this.ctx.log(`updating PodScheduled of ${pod.metadata.namespace}/${pod.metadata.name}: ${(err as Error).message}`);
    }
  }

  /**
   * DefaultPreemption's preparation: mark each victim DisruptionTarget, delete it, tell it why;
   * the preemptor is nominated to the node and retried when the victims are gone.
   */
  private async preempt(preemptor: Pod, plan: PreemptionPlan): Promise<void> {
    await Promise.all(
      plan.victims.map(async (victim) => {
        const { namespace, name } = victim.pod.metadata;
        try {
          await this.client.patch(
            types.pods,
            name ?? '',
            {
              status: {
                conditions: [
                  {
                    type: 'DisruptionTarget',
                    status: 'True',
                    reason: 'PreemptionByScheduler',
                    message: `${this.schedulerName}: preempting to accommodate a higher priority pod`,
                    lastTransitionTime: rfc3339(this.ctx.clock.now()),
                  },
                ],
              },
            },
            'strategic',
            { namespace, subresource: 'status' },
          );
          await this.client.delete(types.pods, name ?? '', { namespace, preconditions: { uid: victim.uid } });
          this.events.event(victim.pod as KubeObject, 'Normal', 'Preempted', `Preempted by pod ${preemptor.metadata.uid} on node ${plan.node.name}`);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }),
    );
  }
}
