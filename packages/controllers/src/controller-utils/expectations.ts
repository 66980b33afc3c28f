/**
 * Controller expectations (kube's UIDTrackingControllerExpectations): a controller that has just
 * created or deleted pods records how many creations and which deletions it expects its informer
 * to report, and does not act on the same owner again until it has seen them. Its cache lags
 * its own writes; without this, a resync between a create and the informer's ADDED event would
 * count too few pods and create them twice.
 *
 * Expectations expire after five minutes (a watch event can be lost to a relist that never
 * shows an object that came and went), after which the controller trusts its cache again.
 */
import type { Clock } from '@canopy/client';

/** kube's ExpectationsTimeout. */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Expectation {
  add: number;
  del: number;
  /** Keys (`namespace/name`) of the pods whose deletion is expected. */
  deleting: Set<string>;
  setAt: number;
}

export class ControllerExpectations {
  private readonly records = new Map<string, Expectation>();

  constructor(private readonly clock: Clock) {}

  /**
   * Whether the controller may act on `key`: nothing is pending, the pending expectations
   * expired, or nothing was ever recorded (a new owner, or one seen after a restart).
   */
  satisfied(key: string): boolean {
    const e = this.records.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.clock.now() - e.setAt > EXPECTATIONS_TIMEOUT_MS;
  }

  /** Records that `count` pods are about to be created for `key` (replacing what was pending). */
  expectCreations(key: string, count: number): void {
    this.records.set(key, { add: count, del: 0, deleting: new Set(), setAt: this.clock.now() });
  }

  /** Records that the pods with these keys are about to be deleted for `key`. */
  expectDeletions(key: string, podKeys: string[]): void {
    this.records.set(key, { add: 0, del: podKeys.length, deleting: new Set(podKeys), setAt: this.clock.now() });
  }

  /** Records creations and deletions about to happen together (kube's SetExpectations; DaemonSets do both in one sync). */
  expect(key: string, creations: number, deletions: string[]): void {
    this.records.set(key, { add: creations, del: deletions.length, deleting: new Set(deletions), setAt: this.clock.now() });
  }

  /** The informer saw a pod of `key` created (or a creation failed and will never be seen). */
  creationObserved(key: string): void {
    const e = this.records.get(key);
    if (e) e.add--;
  }

  /**
   * The informer saw the pod `podKey` of `key` deleted or marked for deletion. Only deletions
   * the controller asked for count, and each once (a graceful delete is seen twice).
   */
  deletionObserved(key: string, podKey: string): void {
    const e = this.records.get(key);
    if (e?.deleting.delete(podKey)) e.del--;
  }

  /** The owner is gone: forget what it expected. */
  delete(key: string): void {
    this.records.delete(key);
  }

  /** What is still pending for `key` (for logs and tests). */
  pending(key: string): { add: number; del: number } | undefined {
    const e = this.records.get(key);
    return e ? { add: e.add, del: e.del } : undefined;
  }
}
