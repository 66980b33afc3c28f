/**
 * controller.ControllerExpectations: a controller that has just created or deleted dependents
 * must not act again on its (lagging) informer cache until it has seen those writes, or it would
 * create the same pods twice. Expectations expire after five minutes so a lost watch event
 * cannot wedge a controller forever.
 */
import type { Clock } from '@canopy/client';

const EXPECTATIONS_TTL_MS = 5 * 60_000;

interface Expectation {
  add: number;
  del: number;
  at: number;
}

export class Expectations {
  private readonly entries = new Map<string, Expectation>();

  constructor(private readonly clock: Clock) {}

  /** True when nothing is pending for `key` (or what was pending has expired). */
  satisfied(key: string): boolean {
    const e = this.entries.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.clock.now() - e.at > EXPECTATIONS_TTL_MS;
  }

  set(key: string, add: number, del: number): void {
    this.entries.set(key, { add, del, at: this.clock.now() });
  }

  expectCreations(key: string, n: number): void {
    this.set(key, n, 0);
  }

  expectDeletions(key: string, n: number): void {
    this.set(key, 0, n);
  }

  /** Lowers what is expected (a write that failed, or one skipped, will never be observed). */
  lower(key: string, add: number, del: number): void {
    const e = this.entries.get(key);
    if (!e) return;
    e.add -= add;
    e.del -= del;
  }

  creationObserved(key: string): void {
    this.lower(key, 1, 0);
  }

  deletionObserved(key: string): void {
    this.lower(key, 0, 1);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/**
 * The Job controller's uidTrackingExpectations: the pod UIDs whose tracking finalizer removal it
 * has requested but not yet seen, so it does not count those pods twice.
 */
export class UidExpectations {
  private readonly entries = new Map<string, Set<string>>();

  expected(key: string): Set<string> {
    return this.entries.get(key) ?? new Set();
  }

  expect(key: string, uids: Iterable<string>): void {
    let set = this.entries.get(key);
    if (!set) this.entries.set(key, (set = new Set()));
    for (const uid of uids) set.add(uid);
  }

  observed(key: string, uid: string): void {
    const set = this.entries.get(key);
    if (!set) return;
    set.delete(uid);
    if (!set.size) this.entries.delete(key);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
