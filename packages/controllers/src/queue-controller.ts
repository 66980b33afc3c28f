/**
 * The shape the StatefulSet, DaemonSet, Job and CronJob controllers share: informer handlers
 * enqueue object keys, workers sync one key at a time (never the same key twice concurrently),
 * failures retry with backoff. Workers start only after every informer the controller reads has
 * synced, so no sync acts on a partial cache (creating pods that already exist).
 *
 * Two kinds of delay: retry backoff after a failed sync is infrastructure time (real time, so a
 * test driving a fake clock never stalls a retry), while delays with meaning — a schedule, a
 * deadline, minReadySeconds, pod-failure backoff — go through the controller's clock
 * (`enqueueAfter`).
 */
import { WorkQueue, type Informer, type TimerHandle } from '@canopy/client';
import type { Controller, ControllerContext } from './context.js';

export abstract class QueueController implements Controller {
  abstract readonly name: string;
  protected readonly queue: WorkQueue<string>;
  private readonly waitFor: Informer<any>[] = [];
  private readonly delayed = new Map<string, { at: number; timer: TimerHandle }>();
  private stopped = false;

  constructor(
    protected readonly ctx: ControllerContext,
    private readonly workers = 2,
  ) {
    this.queue = new WorkQueue<string>({ log: ctx.log, baseDelayMs: 5, maxDelayMs: 60_000 });
  }

  /** An informer this controller reads; workers wait for it to sync. */
  protected informer<I extends Informer<any>>(informer: I): I {
    this.waitFor.push(informer);
    return informer;
  }

  /** Registers informer handlers; called once, before the informers start. */
  protected abstract register(): void;

  protected abstract sync(key: string): Promise<void>;

  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Enqueues `key` after `ms` of the controller's clock; an earlier pending wake-up for it wins. */
  enqueueAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.enqueue(key);
    const at = this.ctx.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at && pending.at > this.ctx.clock.now()) return;
    pending?.timer.cancel();
    const timer = this.ctx.clock.setTimeout(() => {
      if (this.delayed.get(key)?.timer === timer) this.delayed.delete(key);
      this.enqueue(key);
    }, ms);
    this.delayed.set(key, { at, timer });
  }

  start(): void {
    this.register();
    void Promise.all(this.waitFor.map((i) => i.waitForSync())).then(() => {
      if (this.stopped) return;
      void this.queue.run((key) => this.sync(key), this.workers);
    });
  }

  stop(): void {
    this.stopped = true;
    for (const d of this.delayed.values()) d.timer.cancel();
    this.delayed.clear();
    this.queue.shutdown();
  }

  /** Resolves when no key is queued or being synced (tests and benchmarks). */
  idle(): Promise<void> {
    return this.queue.idle();
  }
}
