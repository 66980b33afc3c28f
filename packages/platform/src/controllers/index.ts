/**
 * The platform's controllers (ks-controller-manager's tenancy and IAM part), run under the lease
 * `canopy-platform-controllers` in kubesphere-system: only the replica holding it reconciles.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { LeaderElector } from '@canopy/client';
import type { WorkspaceQuotaTracker } from '../tenant/workspace-quota.js';
import { NamespaceController } from './namespace.js';
import { RbacSyncController } from './rbac-sync.js';
import { RoleAggregationController } from './role-aggregation.js';
import type { ControllerContext, QueueController } from './runtime.js';
import { WorkspaceQuotaController } from './workspace-quota.js';
import { WorkspaceTemplateController } from './workspace-template.js';

export const CONTROLLERS_LEASE = 'canopy-platform-controllers';
export const CONTROLLERS_LEASE_NAMESPACE = 'kubesphere-system';

export interface LeaderElectionTiming {
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface PlatformControllersOptions {
  /** false: act at once without a lease (a single replica, tests). Default: elect. */
  leaderElection?: boolean | LeaderElectionTiming;
  identity?: string;
}

export class PlatformControllers {
  readonly controllers: QueueController[];
  private elector?: LeaderElector;
  private leading = false;
  /** Serialises start/stop transitions of the leadership callbacks. */
  private transition: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: ControllerContext,
    tracker: WorkspaceQuotaTracker,
    private readonly options: PlatformControllersOptions = {},
  ) {
    this.controllers = [
      new WorkspaceTemplateController(ctx),
      new NamespaceController(ctx),
      new RoleAggregationController(ctx),
      new RbacSyncController(ctx),
      new WorkspaceQuotaController(ctx, tracker),
    ];
    for (const c of this.controllers) c.register();
  }

  /** Whether this replica is reconciling now. */
  get active(): boolean {
    return this.leading;
  }

  start(): void {
    if (this.options.leaderElection === false) {
      this.transition = this.transition.then(() => this.run());
      return;
    }
    const timing = typeof this.options.leaderElection === 'object' ? this.options.leaderElection : {};
    this.elector = new LeaderElector({
      client: this.ctx.client,
      namespace: CONTROLLERS_LEASE_NAMESPACE,
      name: CONTROLLERS_LEASE,
      identity: this.options.identity ?? `${hostname()}_${process.pid}_${randomBytes(4).toString('hex')}`,
      clock: this.ctx.clock,
      log: (m) => this.ctx.log(m),
      ...timing,
      onStartedLeading: () => {
        this.transition = this.transition.then(() => this.run());
      },
      onStoppedLeading: () => {
        this.transition = this.transition.then(() => this.halt());
        return this.transition;
      },
    });
    this.elector.start();
  }

  private async run(): Promise<void> {
    const informers = new Set(this.controllers.flatMap((c) => c.informers()));
    await Promise.all([...informers].map((i) => i.start()));
    for (const c of this.controllers) c.start();
    this.leading = true;
  }

  private async halt(): Promise<void> {
    this.leading = false;
    await Promise.all(this.controllers.map((c) => c.stop()));
  }

  async stop(): Promise<void> {
    if (this.elector) await this.elector.stop();
    await this.transition;
    await this.halt();
  }

  /** Resolves once no controller has work queued or in flight, twice in a row (for tests and tools). */
  async idle(): Promise<void> {
    await this.transition;
    for (let quiet = 0; quiet < 2;) {
      await new Promise((r) => setTimeout(r, 25));
      quiet = this.controllers.every((c) => c.pending === 0) ? quiet + 1 : 0;
    }
  }
}

export { QueueController, type ControllerContext } from './runtime.js';
export { WORKSPACE_TEMPLATE_FINALIZER, ORPHAN_FINALIZER, placedOnHost } from './workspace-template.js';
export { CREATOR_BOUND_ANNOTATION, creatorRoleBinding } from './namespace.js';
export { rbacName, rbacSubjects, RBAC_PREFIX } from './rbac-sync.js';
export { ServedResources } from './served-resources.js';
