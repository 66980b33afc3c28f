/**
 * client-go's rate-limited work queue: a key is queued at most once; a key added while it is
 * being processed is processed again afterwards (never concurrently with itself); failures are
 * retried with per-key exponential backoff until `forget`.
 */
import { realClock, type Clock, type TimerHandle } from './clock.js';

export interface WorkQueueOptions {
  clock?: Clock;
  /** First retry delay (default 5 ms), doubled per failure up to `maxDelayMs` (default 60 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  log?: (message: string) => void;
  name?: string;
}

export class WorkQueue<K = string> {
  private readonly queue: K[] = [];
  private readonly queued = new Set<K>();
  private readonly processing = new Set<K>();
  /** Added again while processing: requeued when done. */
  private readonly dirty = new Set<K>();
  private readonly failures = new Map<K, number>();
  private readonly delayed = new Map<K, { at: number; timer: TimerHandle }>();
  private readonly waiters: Array<() => void> = [];
  private shuttingDown = false;
  private readonly clock: Clock;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? realClock;
  }

  get length(): number {
    return this.queue.length;
  }

  add(key: K): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.waiters.shift()?.();
  }

  /** Adds the key after `ms`; an earlier pending delay for the same key wins. */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    existing?.timer.cancel();
    const timer = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, timer });
  }

  addRateLimited(key: K): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.min((this.options.baseDelayMs ?? 5) * 2 ** n, this.options.maxDelayMs ?? 60_000);
    this.addAfter(key, delay);
  }

  forget(key: K): void {
    this.failures.delete(key);
  }

  retries(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** Next key to process, or undefined once shut down. Call `done(key)` after processing. */
  async get(): Promise<K | undefined> {
    while (!this.queue.length) {
      if (this.shuttingDown) return undefined;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    const key = this.queue.shift()!;
    this.queued.delete(key);
    this.processing.add(key);
    return key;
  }

  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
    if (!this.processing.size && !this.queue.length) for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * Runs `worker` over keys with `concurrency` workers until shutdown. A worker that throws has
   * its key retried with backoff; one that returns is forgotten (its failures reset).
   */
  run(worker: (key: K) => Promise<void> | void, concurrency = 1): Promise<void> {
    const loop = async () => {
      while (true) {
        const key = await this.get();
        if (key === undefined) return;
        try {
          await worker(key);
          this.forget(key);
        } catch (err) {
          this.options.log?.(`${this.options.name ?? 'queue'}: ${String(key)}: ${(err as Error)?.message ?? err} (retry ${this.retries(key) + 1})`);
          this.addRateLimited(key);
        } finally {
          this.done(key);
        }
      }
    };
    return Promise.all(Array.from({ length: concurrency }, loop)).then(() => undefined);
  }

  /** Resolves when nothing is queued or processing (delayed keys do not count). */
  idle(): Promise<void> {
    if (!this.processing.size && !this.queue.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  shutdown(): void {
    this.shuttingDown = true;
    for (const d of this.delayed.values()) d.timer.cancel();
    this.delayed.clear();
    for (const w of this.waiters.splice(0)) w();
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
