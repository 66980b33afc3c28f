/**
 * Leader election on a coordination.k8s.io Lease (client-go's leaderelection with the Lease
 * lock): only the holder acts; it renews every `retryPeriodMs`; if it cannot renew within
 * `renewDeadlineMs` it stops acting before the lease can expire, so two processes never both
 * act. Others take over once `leaseDurationSeconds` pass without a renewal.
 */
import { StatusError, type KubeObject } from '@canopy/apimachinery';
import type { KubeClient } from './client.js';
import { realClock, type Clock } from './clock.js';
import { types } from './resource-types.js';

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace?: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: Clock;
  onStartedLeading(): void | Promise<void>;
  onStoppedLeading(): void | Promise<void>;
  log?: (message: string) => void;
}

interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** Lease times carry microseconds (MicroTime). */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private lastRenew = 0;
  private timer?: { cancel(): void };
  private readonly clock: Clock;
  private readonly namespace: string;
  private readonly duration: number;
  /** When we last saw another holder's lease change (our clock, as client-go observes it). */
  private observed?: { renewTime?: string; holder?: string; at: number };

  constructor(private readonly options: LeaderElectionOptions) {
    this.clock = options.clock ?? realClock;
    this.namespace = options.namespace ?? 'kube-system';
    this.duration = options.leaseDurationSeconds ?? 15;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /** Stops campaigning; a leader releases the lease so another can take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    if (this.leading) {
      this.leading = false;
      try {
        const lease = await this.options.client.get<Lease>(types.leases, this.options.name, this.namespace);
        if (lease.spec?.holderIdentity === this.options.identity) {
          lease.spec = { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: microTime(this.clock.now()) };
          await this.options.client.update(types.leases, lease);
        }
      } catch {
        // Best effort: the lease expires on its own.
      }
      await this.options.onStoppedLeading();
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const retry = this.options.retryPeriodMs ?? 2000;
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (err) {
      this.options.log?.(`leader election ${this.options.name}: ${(err as Error).message}`);
    }
    if (this.stopped) return;
    const now = this.clock.now();
    if (ok) {
      this.lastRenew = now;
      if (!this.leading) {
        this.leading = true;
        this.options.log?.(`leader election ${this.options.name}: ${this.options.identity} became leader`);
        await this.options.onStartedLeading();
      }
    } else if (this.leading && now - this.lastRenew > (this.options.renewDeadlineMs ?? 10_000)) {
      this.leading = false;
      this.options.log?.(`leader election ${this.options.name}: ${this.options.identity} lost the lease`);
      await this.options.onStoppedLeading();
    }
    this.schedule(retry);
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, name, identity } = this.options;
    const now = this.clock.now();
    const lease = await client.tryGet<Lease>(types.leases, name, this.namespace);
    if (!lease) {
      try {
        await client.create(types.leases, {
          metadata: { name, namespace: this.namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: this.duration, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      } catch (err) {
        if (err instanceof StatusError && err.code === 409) return false;
        throw err;
      }
    }
    const spec = lease.spec ?? {};
    if (spec.holderIdentity && spec.holderIdentity !== identity) {
      // Expiry is judged by when *we* saw the lease last change, not by the holder's clock.
      if (!this.observed || this.observed.renewTime !== spec.renewTime || this.observed.holder !== spec.holderIdentity) {
        this.observed = { renewTime: spec.renewTime, holder: spec.holderIdentity, at: now };
      }
      if (now - this.observed.at < (spec.leaseDurationSeconds ?? this.duration) * 1000) return false;
    }
    const transitions = (spec.leaseTransitions ?? 0) + (spec.holderIdentity === identity ? 0 : 1);
    lease.spec = {
      holderIdentity: identity,
      leaseDurationSeconds: this.duration,
      acquireTime: spec.holderIdentity === identity ? spec.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: transitions,
    };
    try {
      await client.update(types.leases, lease);
      return true;
    } catch (err) {
      if (err instanceof StatusError && err.code === 409) return false;
      throw err;
    }
  }
}
