/**
 * The controller manager: runs every controller (and the scheduler) while holding the
 * `kube-controller-manager` lease, so two Canopy processes sharing a cluster never both act.
 */
import { EventRecorder, InformerFactory, KubeClient, LeaderElector, metadataOnly, realClock, stripManagedFields, type Clock, type InProcessTransport, type Transport } from '@canopy/client';
import type { Controller, ControllerFactory } from './context.js';

export interface ControllerManagerOptions {
  /** The transport to the API server; in-process transports act as each controller's service account. */
  transport: Transport;
  factories: ControllerFactory[];
  clock?: Clock;
  identity?: string;
  log?: (message: string) => void;
  /** Skip leader election (tests that run one manager). */
  leaderElection?: boolean;
}

function serviceAccountUser(name: string) {
  return {
    name: `system:serviceaccount:kube-system:${name}`,
    groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
  };
}

export class ControllerManager {
  private controllers: Controller[] = [];
  private informers?: InformerFactory;
  private metadataInformers?: InformerFactory;
  private elector?: LeaderElector;
  private readonly clock: Clock;
  private readonly log: (message: string) => void;

  constructor(private readonly options: ControllerManagerOptions) {
    this.clock = options.clock ?? realClock;
    this.log = options.log ?? (() => {});
  }

  private clientFor(serviceAccount: string, component: string, user?: string): KubeClient {
    const transport = this.options.transport as Partial<InProcessTransport>;
    const identity = user ? { name: user, groups: ['system:authenticated'] } : serviceAccountUser(serviceAccount);
    const t = typeof transport.as === 'function' ? transport.as(identity) : this.options.transport;
    return new KubeClient(t, { userAgent: `kube-controller-manager/${component}` });
  }

  async start(): Promise<void> {
    if (this.options.leaderElection === false) return this.run();
    const client = this.clientFor('leader-election-controller', 'leader-election');
    const identity = this.options.identity ?? `canopy-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.elector = new LeaderElector({
      client,
      name: 'kube-controller-manager',
      identity,
      clock: this.clock,
      log: this.log,
      onStartedLeading: () => this.run(),
      onStoppedLeading: () => this.halt(),
    });
    this.elector.start();
  }

  get isLeader(): boolean {
    return this.options.leaderElection === false ? !!this.informers : !!this.elector?.isLeader;
  }

  private async run(): Promise<void> {
    // Informers read as the generic garbage collector's identity, which may read every kind.
    const reader = this.clientFor('generic-garbage-collector', 'informers');
    // No controller reads managedFields: the shared caches (the garbage collector follows every
    // kind) drop them, as client-go users do with TransformStripManagedFields.
    this.informers = new InformerFactory(reader, { clock: this.clock, log: this.log, transform: stripManagedFields });
    this.metadataInformers = new InformerFactory(reader, { clock: this.clock, log: this.log, transform: metadataOnly });
    for (const factory of this.options.factories) {
      // A factory acts as its service account, or as a plain user (system:kube-scheduler → kube-scheduler).
      const component = factory.serviceAccount ?? (factory.user ?? '').replace(/^system:/, '');
      const client = this.clientFor(component, component, factory.user);
      const controller = factory.create({
        client,
        informers: this.informers,
        metadataInformers: this.metadataInformers,
        clock: this.clock,
        events: new EventRecorder(client, { component: component.replace(/-controller$/, '-controller') }, { clock: this.clock, log: this.log }),
        log: (m) => this.log(`${component}: ${m}`),
      });
      this.controllers.push(controller);
      await controller.start();
    }
    await this.informers.start();
    await this.metadataInformers.start();
  }

  private async halt(): Promise<void> {
    for (const c of this.controllers.splice(0).reverse()) await c.stop();
    await this.informers?.stop();
    await this.metadataInformers?.stop();
    this.informers = undefined;
    this.metadataInformers = undefined;
  }

  async stop(): Promise<void> {
    if (this.elector) await this.elector.stop();
    await this.halt();
  }
}
