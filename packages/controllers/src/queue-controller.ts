/**
 * The shape most controllers share: informer handlers enqueue object keys, workers sync one key
 * at a time (never the same key twice concurrently), failures retry with backoff. Workers start
 * only after every informer the controller reads has synced, so no sync acts on a partial cache
 * (creating pods that already exist).
 */
import { WorkQueue, type Informer } from '@canopy/client';
import type { Controller, ControllerContext } from './context.js';

export abstract class QueueController implements Controller {
  abstract readonly name: string;
  protected readonly queue: WorkQueue<string>;
  private readonly waitFor: Informer<any>[] = [];
  private stopped = false;

  constructor(
    protected readonly ctx: ControllerContext,
    private readonly workers = 2,
  ) {
    this.queue = new WorkQueue<string>({ clock: ctx.clock, log: ctx.log, baseDelayMs: 5, maxDelayMs: 60_000, name: this.constructor.name });
  }

  /** An informer this controller reads; workers wait for it to sync. */
  protected informer<I extends Informer<any>>(informer: I): I {
    this.waitFor.push(informer);
    return informer;
  }

  /** Registers handlers (informers are created in the subclass constructor). */
  protected abstract register(): void;

  protected abstract sync(key: string): Promise<void>;

  start(): void {
    this.register();
    void Promise.all(this.waitFor.map((i) => i.waitForSync())).then(() => {
      if (this.stopped) return;
      void this.queue.run((key) => this.sync(key), this.workers);
    });
  }

  stop(): void {
    this.stopped = true;
    this.queue.shutdown();
  }

  /** Resolves when no key is queued or being synced (tests and benchmarks). */
  idle(): Promise<void> {
    return this.queue.idle();
  }
}
