/**
 * kube's scheduling queue: an active queue ordered by priority then arrival; a backoff area where
 * pods wait 1 s doubling to 10 s per failed attempt; and the unschedulable pods, which wait for a
 * cluster event that could make them schedulable (a node added or changed, a pod deleted…) —
 * only pods rejected by a plugin the event concerns are moved — or at most five minutes.
 */
import type { Clock, TimerHandle } from '@canopy/client';
import type { Pod } from './api.js';

export interface QueuedPod {
  uid: string;
  pod: Pod;
  /** Scheduling attempts so far. */
  attempts: number;
  /** When the pod last entered the queue or was last attempted (orders equal priorities; starts backoff). */
  timestamp: number;
  /** Plugins that rejected the pod in its last attempt (empty for errors). */
  unschedulablePlugins: Set<string>;
}

export interface QueueOptions {
  clock: Clock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Unschedulable pods are retried after this long even without an event (kube: 5 min). */
  maxUnschedulableMs?: number;
}

type Where = 'active' | 'backoff' | 'unschedulable' | 'inFlight';

interface Entry {
  qp: QueuedPod;
  where: Where;
  timer?: TimerHandle;
  since?: number;
}

const priorityOf = (p: Pod) => p.spec?.priority ?? 0;

export class SchedulingQueue {
  private readonly heap: QueuedPod[] = [];
  private readonly entries = new Map<string, Entry>();
  /** The uids of the unschedulable pods, so events scan only them. */
  private readonly unschedulable = new Set<string>();
  private readonly waiters: Array<() => void> = [];
  private closed = false;
  private flushTimer?: TimerHandle;
  private readonly clock: Clock;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxUnschedulableMs: number;

  constructor(options: QueueOptions) {
    this.clock = options.clock;
    this.initialBackoffMs = options.initialBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.maxUnschedulableMs = options.maxUnschedulableMs ?? 5 * 60_000;
    this.scheduleFlush();
  }

  get activeLength(): number {
    return this.heap.length;
  }

  /** Where a pod is (for tests and diagnostics). */
  locate(uid: string): Where | undefined {
    return this.entries.get(uid)?.where;
  }

  get size(): number {
    return this.entries.size;
  }

  /** A new pending pod, or a newer version of one already queued. */
  add(pod: Pod): void {
    if (this.closed) return;
    const uid = uidOf(pod);
    const entry = this.entries.get(uid);
    if (entry) {
      entry.qp.pod = pod;
      return;
    }
    const qp: QueuedPod = { uid, pod, attempts: 0, timestamp: this.clock.now(), unschedulablePlugins: new Set() };
    this.entries.set(uid, { qp, where: 'active' });
    this.push(qp);
  }

  /**
   * A pending pod changed. An unschedulable pod whose spec or labels changed gets another try
   * (after its backoff), as kube's queue does on an unscheduled pod update.
   */
  update(old: Pod, pod: Pod): void {
    const entry = this.entries.get(uidOf(pod));
    if (!entry) return this.add(pod);
    entry.qp.pod = pod;
    if (entry.where === 'unschedulable' && schedulingRelevantChange(old, pod)) this.requeue(entry.qp.uid);
  }

  delete(pod: Pod): void {
    const uid = uidOf(pod);
    const entry = this.entries.get(uid);
    if (!entry) return;
    entry.timer?.cancel();
    this.entries.delete(uid);
    this.unschedulable.delete(uid);
    if (entry.where === 'active') {
      const i = this.heap.indexOf(entry.qp);
      if (i >= 0) this.removeAt(i);
    }
  }

  /** The next pod to schedule; waits while the active queue is empty. Undefined once closed. */
  async pop(): Promise<QueuedPod | undefined> {
    while (!this.heap.length) {
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    const qp = this.removeAt(0);
    qp.attempts++;
    const entry = this.entries.get(qp.uid);
    if (entry) this.move(entry, 'inFlight');
    return qp;
  }

  /** The attempt ended with the pod bound or gone: forget it. */
  done(uid: string): void {
    const entry = this.entries.get(uid);
    if (entry?.where === 'inFlight') this.entries.delete(uid);
  }

  /**
   * The attempt failed. Rejected by plugins: wait for an event concerning one of them. An error
   * (no plugin to blame): retry after the backoff.
   */
  failed(qp: QueuedPod, unschedulablePlugins: Iterable<string>): void {
    if (this.closed) return;
    let entry = this.entries.get(qp.uid);
    // A pod whose binding failed was already handed off (done): it comes back.
    if (!entry) this.entries.set(qp.uid, (entry = { qp, where: 'inFlight' }));
    if (entry.where !== 'inFlight') return;
    qp.timestamp = this.clock.now();
    qp.unschedulablePlugins = new Set(unschedulablePlugins);
    if (!qp.unschedulablePlugins.size) return this.toBackoff(qp.uid);
    this.move(entry, 'unschedulable');
    entry.since = this.clock.now();
  }

  /**
   * A cluster event happened: unschedulable pods rejected by one of `plugins` (all of them when
   * undefined) may fit now.
   */
  moveAllToActiveOrBackoff(plugins?: ReadonlySet<string>): number {
    let moved = 0;
    for (const uid of [...this.unschedulable]) {
      const entry = this.entries.get(uid);
      if (!entry) continue;
      if (plugins && !intersects(entry.qp.unschedulablePlugins, plugins)) continue;
      this.requeue(uid);
      moved++;
    }
    return moved;
  }

  close(): void {
    this.closed = true;
    this.flushTimer?.cancel();
    for (const e of this.entries.values()) e.timer?.cancel();
    for (const w of this.waiters.splice(0)) w();
  }

  backoffMs(qp: QueuedPod): number {
    const n = Math.max(1, qp.attempts);
    return Math.min(this.initialBackoffMs * 2 ** (n - 1), this.maxBackoffMs);
  }

  private requeue(uid: string): void {
    const entry = this.entries.get(uid);
    if (!entry) return;
    const remaining = entry.qp.timestamp + this.backoffMs(entry.qp) - this.clock.now();
    if (remaining > 0) this.toBackoff(uid, remaining);
    else this.toActive(uid);
  }

  private toBackoff(uid: string, delay?: number): void {
    const entry = this.entries.get(uid)!;
    this.move(entry, 'backoff');
    entry.timer?.cancel();
    const ms = delay ?? entry.qp.timestamp + this.backoffMs(entry.qp) - this.clock.now();
    entry.timer = this.clock.setTimeout(() => this.toActive(uid), Math.max(0, ms));
  }

  private toActive(uid: string): void {
    const entry = this.entries.get(uid);
    if (!entry || entry.where === 'active' || entry.where === 'inFlight') return;
    entry.timer?.cancel();
    entry.timer = undefined;
    this.move(entry, 'active');
    this.push(entry.qp);
  }

  /** Pods unschedulable for longer than maxUnschedulableMs get another try (flushUnschedulablePodsLeftover). */
  private scheduleFlush(): void {
    this.flushTimer = this.clock.setTimeout(() => {
      if (this.closed) return;
      const now = this.clock.now();
      for (const uid of [...this.unschedulable]) {
        const entry = this.entries.get(uid);
        if (entry && now - (entry.since ?? now) >= this.maxUnschedulableMs) this.requeue(uid);
      }
      this.scheduleFlush();
    }, 30_000);
  }

  private move(entry: Entry, where: Where): void {
    entry.where = where;
    if (where === 'unschedulable') this.unschedulable.add(entry.qp.uid);
    else this.unschedulable.delete(entry.qp.uid);
  }

  // ---- binary heap: higher priority first, then earlier timestamp ------------------------------

  private before(a: QueuedPod, b: QueuedPod): boolean {
    const pa = priorityOf(a.pod);
    const pb = priorityOf(b.pod);
    return pa > pb || (pa === pb && a.timestamp < b.timestamp);
  }

  private push(qp: QueuedPod): void {
    const h = this.heap;
    h.push(qp);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
    this.waiters.shift()?.();
  }

  private removeAt(index: number): QueuedPod {
    const h = this.heap;
    const out = h[index];
    const last = h.pop()!;
    if (index < h.length) {
      h[index] = last;
      this.siftDown(index);
      this.siftUp(index);
    }
    return out;
  }

  private siftUp(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < h.length && this.before(h[l], h[best])) best = l;
      if (r < h.length && this.before(h[r], h[best])) best = r;
      if (best === i) return;
      [h[i], h[best]] = [h[best], h[i]];
      i = best;
    }
  }
}

function intersects(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const x of a) if (b.has(x)) return true;
  return false;
}

export function uidOf(pod: Pod): string {
  return pod.metadata.uid || `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

/** isPodUpdated: anything but status, resourceVersion, generation and managedFields changed. */
function schedulingRelevantChange(old: Pod, pod: Pod): boolean {
  const strip = (p: Pod) => JSON.stringify({ ...p, status: undefined, metadata: { ...p.metadata, resourceVersion: undefined, generation: undefined, managedFields: undefined } });
  return strip(old) !== strip(pod);
}
