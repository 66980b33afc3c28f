/**
 * Node lifecycle (kube's pkg/controller/nodelifecycle and tainteviction):
 *  - Health: a node is heard from when its Lease in `kube-node-lease` is renewed or its Ready
 *    condition's heartbeat changes. Silent for the node-monitor grace period (40 s) — or, for a
 *    node that never reported, the startup grace period (60 s) — its Ready, MemoryPressure,
 *    DiskPressure and PIDPressure conditions become Unknown ("Kubelet stopped posting node
 *    status.") and its pods are marked Ready=False.
 *  - Taints: NoSchedule taints follow the conditions (not-ready, unreachable, memory-, disk-,
 *    pid-pressure, network-unavailable) and spec.unschedulable; NoExecute `not-ready` or
 *    `unreachable` taints follow Ready=False / Unknown, rate limited per zone (0.1 node/s), and
 *    withheld when every node of every zone is down (kube's full-disruption mode: the fault is
 *    more likely the control plane's).
 *  - Eviction: a pod on a node with NoExecute taints it does not tolerate is deleted at once; one
 *    that tolerates them for `tolerationSeconds` (300 s from DefaultTolerationSeconds admission)
 *    is deleted when that time has passed since the taint was seen, unless the taint goes first.
 * All timing runs on the controller's clock.
 */
import type { KubeObject } from '@canopy/apimachinery';
import { isConflict, isNotFound, rfc3339, types, WorkQueue, type Informer, type TimerHandle } from '@canopy/client';
import type { Controller, ControllerContext, ControllerFactory } from './context.js';
import { toleratesTaint } from './scheduler/matching.js';
import type { Condition, Taint, Toleration } from './workload-types.js';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
const ZONE_LABEL = 'topology.kubernetes.io/zone';
const REGION_LABEL = 'topology.kubernetes.io/region';
const LEASE_NAMESPACE = 'kube-node-lease';

export interface NodeLifecycleOptions {
  /** --node-monitor-period. */
  monitorPeriodMs?: number;
  /** --node-monitor-grace-period. */
  gracePeriodMs?: number;
  /** --node-startup-grace-period. */
  startupGracePeriodMs?: number;
  /** --node-eviction-rate (nodes per second tainted NoExecute in a healthy zone). */
  evictionRate?: number;
  /** --secondary-node-eviction-rate (in a partially disrupted large zone). */
  secondaryEvictionRate?: number;
  /** --unhealthy-zone-threshold. */
  unhealthyZoneThreshold?: number;
  /** --large-cluster-size-threshold. */
  largeClusterSizeThreshold?: number;
}

const DEFAULTS: Required<NodeLifecycleOptions> = {
  monitorPeriodMs: 5000,
  gracePeriodMs: 40_000,
  startupGracePeriodMs: 60_000,
  evictionRate: 0.1,
  secondaryEvictionRate: 0.01,
  unhealthyZoneThreshold: 0.55,
  largeClusterSizeThreshold: 50,
};

/** kube's nodeConditionToTaintKeyStatusMap: NoSchedule taints from conditions. */
const CONDITION_TAINTS: Array<{ condition: string; status: string; key: string }> = [
  { condition: 'Ready', status: 'False', key: TAINT_NOT_READY },
  { condition: 'Ready', status: 'Unknown', key: TAINT_UNREACHABLE },
  { condition: 'MemoryPressure', status: 'True', key: 'node.kubernetes.io/memory-pressure' },
  { condition: 'DiskPressure', status: 'True', key: 'node.kubernetes.io/disk-pressure' },
  { condition: 'NetworkUnavailable', status: 'True', key: 'node.kubernetes.io/network-unavailable' },
  { condition: 'PIDPressure', status: 'True', key: 'node.kubernetes.io/pid-pressure' },
];
const CONDITION_TAINT_KEYS = new Set([...CONDITION_TAINTS.map((t) => t.key), TAINT_UNSCHEDULABLE]);
const MONITORED_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

type Node = KubeObject & { spec?: { taints?: Taint[]; unschedulable?: boolean }; status?: { conditions?: Condition[] } };
type Pod = KubeObject & { spec?: { nodeName?: string; tolerations?: Toleration[] }; status?: { phase?: string; conditions?: Condition[] } };

function conditionOf(node: Node, type: string): Condition | undefined {
  return node.status?.conditions?.find((c) => c.type === type);
}

function readyStatus(node: Node): 'True' | 'False' | 'Unknown' {
  return (conditionOf(node, 'Ready')?.status as 'True' | 'False' | 'Unknown' | undefined) ?? 'Unknown';
}

function zoneOf(node: Node): string {
  const labels = node.metadata.labels ?? {};
  return `${labels[REGION_LABEL] ?? ''}:\x00:${labels[ZONE_LABEL] ?? ''}`;
}

function sameTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

interface Health {
  /** When the controller last heard from the node (its clock). */
  probe: number;
  heartbeat?: string;
  leaseRenew?: string;
}

export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle';
  private readonly options: Required<NodeLifecycleOptions>;
  private readonly nodes: Informer<Node>;
  private readonly leases: Informer;
  private readonly pods: Informer<Pod>;
  private readonly health = new Map<string, Health>();
  /** Nodes whose Ready was True when last seen, to mark their pods not ready once, on the transition. */
  private readonly wasReady = new Map<string, boolean>();
  /** Per zone, when the next NoExecute taint may be added. */
  private readonly nextTaintAt = new Map<string, number>();
  private readonly queue: WorkQueue<string>;
  private timer?: TimerHandle;
  private stopped = false;
  private monitoring = false;

  constructor(
    private readonly context: ControllerContext,
    options: NodeLifecycleOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.queue = new WorkQueue({ log: context.log, name: 'node-lifecycle', maxDelayMs: 30_000 });
    this.nodes = context.informers.for<Node>(types.nodes);
    this.leases = context.informers.for(types.leases, { namespace: LEASE_NAMESPACE });
    this.pods = context.informers.for<Pod>(types.pods);
    this.pods.addIndex('nodeName', (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
    this.nodes.addHandler({
      onAdd: (n) => this.observeNode(n),
      onUpdate: (o, n) => {
        // A Ready change gets its NoExecute taint (or loses it) now, not at the next monitor
        // pass: kube taints in the same pass that marks the node Unknown.
        if (readyStatus(o) !== readyStatus(n)) this.queue.add('*');
        this.observeNode(n);
      },
      onDelete: (n) => {
        this.health.delete(n.metadata.name!);
        this.wasReady.delete(n.metadata.name!);
      },
    });
    const leaseSeen = (lease: KubeObject) => {
      const renew = (lease.spec as { renewTime?: string } | undefined)?.renewTime;
      const h = this.health.get(lease.metadata.name!);
      if (h && renew && renew !== h.leaseRenew) {
        h.leaseRenew = renew;
        h.probe = this.context.clock.now();
      }
    };
    this.leases.addHandler({ onAdd: leaseSeen, onUpdate: (_o, l) => leaseSeen(l) });
  }

  private observeNode(node: Node): void {
    const name = node.metadata.name!;
    const now = this.context.clock.now();
    let h = this.health.get(name);
    if (!h) {
      h = { probe: now };
      this.health.set(name, h);
      const lease = this.leases.get(name, LEASE_NAMESPACE);
      h.leaseRenew = (lease?.spec as { renewTime?: string } | undefined)?.renewTime;
    }
    const heartbeat = conditionOf(node, 'Ready')?.lastHeartbeatTime;
    if (heartbeat && heartbeat !== h.heartbeat) {
      h.heartbeat = heartbeat;
      h.probe = now;
    }
    this.queue.add(name);
  }

  start(): void {
    void Promise.all([this.nodes.waitForSync(), this.leases.waitForSync(), this.pods.waitForSync()]).then(() => {
      if (this.stopped) return;
      void this.queue.run((name) => this.reconcileTaints(name), 2);
      this.schedule();
    });
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.queue.shutdown();
  }

  /** Ticks every monitor period of the clock; a pass still running when the next is due is not doubled. */
  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.context.clock.setTimeout(() => {
      this.schedule();
      if (this.monitoring) return;
      this.monitoring = true;
      void this.monitor()
        .catch((err) => this.context.log(`monitoring node health: ${(err as Error).message}`))
        .finally(() => (this.monitoring = false));
    }, this.options.monitorPeriodMs);
  }

  /** kube's monitorNodeHealth: one pass over every node. */
  async monitor(): Promise<void> {
    const now = this.context.clock.now();
    for (const node of this.nodes.list()) {
      const name = node.metadata.name!;
      const h = this.health.get(name) ?? { probe: now };
      this.health.set(name, h);
      const neverReported = !conditionOf(node, 'Ready');
      const grace = neverReported ? this.options.startupGracePeriodMs : this.options.gracePeriodMs;
      if (now > h.probe + grace && !MONITORED_CONDITIONS.every((t) => conditionOf(node, t)?.status === 'Unknown')) {
        await this.markUnknown(node, now);
      }
    }
    this.queue.add('*'); // the NoExecute pass over all nodes, which needs the zone states
    for (const node of this.nodes.list()) this.queue.add(node.metadata.name!);
  }

  private async markUnknown(node: Node, now: number): Promise<void> {
    const at = rfc3339(now);
    const conditions = [...(node.status?.conditions ?? [])];
    for (const type of MONITORED_CONDITIONS) {
      const index = conditions.findIndex((c) => c.type === type);
      if (index < 0) {
        conditions.push({ type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: rfc3339(Date.parse(node.metadata.creationTimestamp ?? at)), lastTransitionTime: at });
      } else if (conditions[index].status !== 'Unknown') {
        conditions[index] = { ...conditions[index], status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: at };
      }
    }
    try {
      await this.context.client.updateStatus(types.nodes, { ...node, status: { ...node.status, conditions } });
    } catch (err) {
      // The kubelet wrote meanwhile (so it is alive) or the node went: the next pass decides again.
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
  }

  /** The zone states of kube's handleDisruption, from the nodes' Ready conditions. */
  private zoneStates(): Map<string, 'Normal' | 'PartialDisruption' | 'FullDisruption'> {
    const counts = new Map<string, { ready: number; notReady: number }>();
    for (const node of this.nodes.list()) {
      const zone = zoneOf(node);
      const c = counts.get(zone) ?? { ready: 0, notReady: 0 };
      if (readyStatus(node) === 'True') c.ready++;
      else c.notReady++;
      counts.set(zone, c);
    }
    const states = new Map<string, 'Normal' | 'PartialDisruption' | 'FullDisruption'>();
    for (const [zone, c] of counts) {
      if (c.ready === 0 && c.notReady > 0) states.set(zone, 'FullDisruption');
      else if (c.notReady > 2 && c.notReady / (c.ready + c.notReady) >= this.options.unhealthyZoneThreshold) states.set(zone, 'PartialDisruption');
      else states.set(zone, 'Normal');
    }
    return states;
  }

  /** The NoSchedule taints (and, through `noExecute`, the NoExecute ones) a node should carry. */
  private async reconcileTaints(name: string): Promise<void> {
    if (name === '*') return this.noExecutePass();
    const node = this.nodes.get(name);
    if (!node || node.metadata.deletionTimestamp) return;
    await this.markPodsNotReadyOnTransition(node);
    const wanted: Taint[] = [];
    for (const t of CONDITION_TAINTS) if (conditionOf(node, t.condition)?.status === t.status) wanted.push({ key: t.key, effect: 'NoSchedule' });
    if (node.spec?.unschedulable) wanted.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
    const current = node.spec?.taints ?? [];
    const managed = (t: Taint) => t.effect === 'NoSchedule' && CONDITION_TAINT_KEYS.has(t.key);
    const keep = current.filter((t) => !managed(t) || wanted.some((w) => sameTaint(w, t)));
    const add = wanted.filter((w) => !current.some((t) => sameTaint(t, w)));
    if (keep.length === current.length && !add.length) return;
    await this.writeTaints(node, [...keep, ...add]);
  }

  /** kube's processTaintBaseEviction over every node, with the zone states and rate limits. */
  private async noExecutePass(): Promise<void> {
    const states = this.zoneStates();
    const allDisrupted = states.size > 0 && [...states.values()].every((s) => s === 'FullDisruption');
    const now = this.context.clock.now();
    const zoneSizes = new Map<string, number>();
    for (const node of this.nodes.list()) zoneSizes.set(zoneOf(node), (zoneSizes.get(zoneOf(node)) ?? 0) + 1);
    for (const node of this.nodes.list()) {
      if (node.metadata.deletionTimestamp) continue;
      const ready = readyStatus(node);
      const wantedKey = ready === 'False' ? TAINT_NOT_READY : ready === 'Unknown' ? TAINT_UNREACHABLE : undefined;
      const current = node.spec?.taints ?? [];
      const isManaged = (t: Taint) => t.effect === 'NoExecute' && (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE);
      const has = current.filter(isManaged);
      if (!wantedKey || allDisrupted) {
        // Ready again, or the whole cluster is down (kube's master disruption mode): no eviction.
        if (has.length) await this.writeTaints(node, current.filter((t) => !isManaged(t)));
        continue;
      }
      if (has.length === 1 && has[0].key === wantedKey) continue;
      if (has.length) {
        // Swapping not-ready for unreachable (or back) keeps the eviction clock running, as kube's swap.
        const swapped = current.map((t) => (isManaged(t) ? { ...t, key: wantedKey } : t)).filter((t, i, all) => all.findIndex((o) => sameTaint(o, t)) === i);
        await this.writeTaints(node, swapped);
        continue;
      }
      const zone = zoneOf(node);
      const state = states.get(zone) ?? 'Normal';
      const zoneSize = zoneSizes.get(zone) ?? 0;
      const rate = state === 'PartialDisruption' ? (zoneSize > this.options.largeClusterSizeThreshold ? this.options.secondaryEvictionRate : 0) : this.options.evictionRate;
      if (rate <= 0) continue;
      if (now < (this.nextTaintAt.get(zone) ?? 0)) continue;
      this.nextTaintAt.set(zone, now + 1000 / rate);
      await this.writeTaints(node, [...current, { key: wantedKey, effect: 'NoExecute', timeAdded: rfc3339(now) }]);
    }
  }

  private async writeTaints(node: Node, taints: Taint[]): Promise<void> {
    try {
      await this.context.client.update(types.nodes, { ...node, spec: { ...node.spec, taints: taints.length ? taints : undefined } });
    } catch (err) {
      // A stale copy: the node's update event brings it back to the queue.
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
  }

  /** kube's MarkPodsNotReady, when a node stops being Ready. */
  private async markPodsNotReadyOnTransition(node: Node): Promise<void> {
    const name = node.metadata.name!;
    if (!conditionOf(node, 'Ready')) {
      // Registered, status not posted yet: never Ready, so nothing to report (kube records
      // NodeNotReady only on a transition from Ready).
      this.wasReady.set(name, false);
      return;
    }
    const ready = readyStatus(node) === 'True';
    const was = this.wasReady.get(name);
    this.wasReady.set(name, ready);
    if (ready || was === false) return;
    // Only a node that stopped reporting: a kubelet reporting NotReady updates its pods itself.
    if (readyStatus(node) !== 'Unknown') return;
    this.context.events.event(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    const at = rfc3339(this.context.clock.now());
    for (const pod of this.pods.byIndex('nodeName', name)) {
      const conditions = pod.status?.conditions ?? [];
      const readyCondition = conditions.find((c) => c.type === 'Ready');
      if (!readyCondition || readyCondition.status === 'False') continue;
      const next = conditions.map((c) => (c.type === 'Ready' ? { ...c, status: 'False' as const, lastTransitionTime: at } : c));
      try {
        await this.context.client.updateStatus(types.pods, { ...pod, status: { ...pod.status, conditions: next } });
        this.context.events.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    }
  }
}

/** kube's taint eviction controller: NoExecute taints delete the pods that do not tolerate them. */
export class TaintEvictionController implements Controller {
  readonly name = 'taint-eviction';
  private readonly nodes: Informer<Node>;
  private readonly pods: Informer<Pod>;
  private readonly queue: WorkQueue<string>;
  /** Pod key → its scheduled eviction (when it was first due to be scheduled, and the timer). */
  private readonly scheduled = new Map<string, { startedAt: number; at: number; timer: TimerHandle }>();

  constructor(private readonly context: ControllerContext) {
    this.queue = new WorkQueue({ log: context.log, name: 'taint-eviction', maxDelayMs: 30_000 });
    this.nodes = context.informers.for<Node>(types.nodes);
    this.pods = context.informers.for<Pod>(types.pods);
    this.pods.addIndex('nodeName', (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
    const noExecute = (n: Node | undefined) => JSON.stringify((n?.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute'));
    this.nodes.addHandler({
      onAdd: (n) => this.nodeChanged(n),
      onUpdate: (old, n) => noExecute(old) !== noExecute(n) && this.nodeChanged(n),
    });
    const key = (p: KubeObject) => `${p.metadata.namespace}/${p.metadata.name}`;
    this.pods.addHandler({
      onAdd: (p) => p.spec?.nodeName && this.queue.add(key(p)),
      onUpdate: (old, p) => {
        if (old.spec?.nodeName !== p.spec?.nodeName || JSON.stringify(old.spec?.tolerations) !== JSON.stringify(p.spec?.tolerations)) this.queue.add(key(p));
      },
      onDelete: (p) => this.cancel(key(p)),
    });
  }

  private nodeChanged(node: Node): void {
    for (const pod of this.pods.byIndex('nodeName', node.metadata.name!)) this.queue.add(`${pod.metadata.namespace}/${pod.metadata.name}`);
  }

  start(): void {
    void Promise.all([this.nodes.waitForSync(), this.pods.waitForSync()]).then(() => this.queue.run((k) => this.process(k), 2));
  }

  stop(): void {
    for (const s of this.scheduled.values()) s.timer.cancel();
    this.scheduled.clear();
    this.queue.shutdown();
  }

  private cancel(key: string): void {
    this.scheduled.get(key)?.timer.cancel();
    this.scheduled.delete(key);
  }

  /** kube's processPodOnNode. */
  private async process(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const pod = this.pods.get(key.slice(slash + 1), key.slice(0, slash));
    if (!pod || pod.metadata.deletionTimestamp || !pod.spec?.nodeName) return this.cancel(key);
    const node = this.nodes.get(pod.spec.nodeName);
    const taints = (node?.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
    if (!taints.length) return this.cancel(key);
    const tolerations = pod.spec.tolerations ?? [];
    const used: Toleration[] = [];
    for (const taint of taints) {
      const t = tolerations.find((tol) => toleratesTaint(tol, taint));
      if (!t) {
        // A NoExecute taint the pod does not tolerate: evicted at once.
        this.cancel(key);
        return this.evict(pod);
      }
      used.push(t);
    }
    // The shortest tolerationSeconds applies; without any the pod tolerates the taints forever.
    const seconds = used.map((t) => t.tolerationSeconds).filter((s): s is number => typeof s === 'number');
    if (!seconds.length) return this.cancel(key);
    const min = Math.max(0, Math.min(...seconds));
    const now = this.context.clock.now();
    const existing = this.scheduled.get(key);
    const startedAt = existing?.startedAt ?? now;
    const at = startedAt + min * 1000;
    if (existing && existing.at <= at) return;
    existing?.timer.cancel();
    const timer = this.context.clock.setTimeout(() => {
      this.scheduled.delete(key);
      const current = this.pods.get(pod.metadata.name!, pod.metadata.namespace);
      if (current) void this.evict(current).catch((err) => this.context.log(`evicting ${key}: ${(err as Error).message}`));
    }, at - now);
    this.scheduled.set(key, { startedAt, at, timer });
  }

  private async evict(pod: Pod): Promise<void> {
    const client = this.context.client;
    this.context.events.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${pod.metadata.namespace}/${pod.metadata.name}`);
    const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
    conditions.push({ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: rfc3339(this.context.clock.now()) });
    try {
      await client.updateStatus(types.pods, { ...pod, status: { ...pod.status, conditions } });
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isConflict(err)) throw err;
    }
    await client.tryDelete(types.pods, pod.metadata.name!, { namespace: pod.metadata.namespace, preconditions: { uid: pod.metadata.uid } });
  }
}

export function nodeLifecycleController(options: NodeLifecycleOptions = {}): ControllerFactory {
  return { serviceAccount: 'node-controller', create: (context) => new NodeLifecycleController(context, options) };
}

export const taintEvictionController: ControllerFactory = {
  serviceAccount: 'node-controller',
  create: (context) => new TaintEvictionController(context),
};
