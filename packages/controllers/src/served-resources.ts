/**
 * Informers over every served resource a controller selects (kube's garbage collector and quota
 * controller monitor all deletable or quotable resources this way). The set follows discovery:
 * it is refreshed when a CustomResourceDefinition changes and periodically, starting informers
 * for resources that appear and stopping those of resources no longer served. Informers come
 * from the shared factory, so controllers following the same resource share one watch.
 */
import type { KubeObject } from '@canopy/apimachinery';
import { types, WorkQueue, type Informer, type TimerHandle } from '@canopy/client';
import type { ControllerContext } from './context.js';
import { discoverResources, ResourceMapper, typeKey, type DiscoveryResult, type ServedResource } from './discovery.js';

export interface ServedResourceHandlers {
  onAdd?(type: ServedResource, object: KubeObject): void;
  onUpdate?(type: ServedResource, old: KubeObject, object: KubeObject): void;
  onDelete?(type: ServedResource, object: KubeObject): void;
}

export interface ServedResourceInformersOptions {
  /** Which preferred-version resources to follow. */
  select(resource: ServedResource): boolean;
  handlers: ServedResourceHandlers;
  /** Rediscovery interval besides CRD changes (kube's GC resyncs discovery every 30 s). */
  refreshMs?: number;
  /**
   * Resources whose whole objects the handlers read; the others are followed through the
   * metadata-only informers when the context has them (kube's GC and quota monitors use metadata
   * informers likewise). Default: none.
   */
  wholeObjects?(resource: ServedResource): boolean;
}

/** Core and events.k8s.io Events: never owners or quota-charged, and far too many to follow. */
export function isEvents(resource: ServedResource): boolean {
  return resource.resource === 'events' && (resource.group === '' || resource.group === 'events.k8s.io');
}

export class ServedResourceInformers {
  private readonly followed = new Map<string, { type: ServedResource; informer: Informer }>();
  /** Informers this set has put its handlers on (an informer stopped and restarted keeps them). */
  private readonly handled = new Set<Informer>();
  private readonly refreshQueue: WorkQueue<'discovery'>;
  private timer?: TimerHandle;
  private stopped = false;
  private discovery?: DiscoveryResult;
  mapper = new ResourceMapper({ preferred: [], all: [], failedGroups: new Map() });

  constructor(
    private readonly context: ControllerContext,
    private readonly options: ServedResourceInformersOptions,
  ) {
    this.refreshQueue = new WorkQueue({ log: context.log, name: 'discovery', baseDelayMs: 500, maxDelayMs: 30_000 });
  }

  /** Discovers and registers the informers (the manager starts them); follows CRD changes. */
  async start(): Promise<void> {
    await this.refresh();
    const crds = this.context.informers.for(types.customResourceDefinitions);
    const changed = () => this.refreshQueue.add('discovery');
    crds.addHandler({ onAdd: changed, onUpdate: changed, onDelete: changed });
    void this.refreshQueue.run(() => this.refresh());
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.refreshQueue.shutdown();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.context.clock.setTimeout(() => {
      this.refreshQueue.add('discovery');
      this.schedule();
    }, this.options.refreshMs ?? 30_000);
  }

  /** The resources followed now. */
  get resources(): ServedResource[] {
    return [...this.followed.values()].map((f) => f.type);
  }

  get lastDiscovery(): DiscoveryResult | undefined {
    return this.discovery;
  }

  /** The informer of a followed resource, by group and resource name. */
  informerFor(group: string, resource: string): Informer | undefined {
    for (const f of this.followed.values()) if (f.type.group === group && f.type.resource === resource) return f.informer;
    return undefined;
  }

  /** Resolves once every followed informer has listed. */
  async waitForSync(): Promise<void> {
    await Promise.all([...this.followed.values()].map((f) => f.informer.waitForSync()));
  }

  /** Rediscovers; follows new resources and stops following ones no longer served. */
  async refresh(): Promise<void> {
    if (this.stopped) return;
    const discovery = await discoverResources(this.context.client);
    this.discovery = discovery;
    this.mapper = new ResourceMapper(discovery);
    const wanted = new Map<string, ServedResource>();
    for (const r of discovery.preferred) if (this.options.select(r)) wanted.set(typeKey(r), r);
    for (const [key, f] of [...this.followed]) {
      if (wanted.has(key)) continue;
      // A group whose discovery failed keeps its informers: it is probably still served.
      if (discovery.failedGroups.has(f.type.group ? `${f.type.group}/${f.type.version}` : f.type.version)) continue;
      this.followed.delete(key);
      await f.informer.stop();
    }
    for (const [key, type] of wanted) {
      if (this.followed.has(key)) continue;
      const factory = this.options.wholeObjects?.(type) ? this.context.informers : (this.context.metadataInformers ?? this.context.informers);
      const informer = factory.for(type);
      this.followed.set(key, { type, informer });
      if (!this.handled.has(informer)) {
        this.handled.add(informer);
        const { handlers } = this.options;
        const current = () => this.followed.get(key)?.type ?? type;
        informer.addHandler({
          onAdd: (o) => handlers.onAdd?.(current(), o),
          onUpdate: (old, o) => handlers.onUpdate?.(current(), old, o),
          onDelete: (o) => handlers.onDelete?.(current(), o),
        });
      }
      // Informers asked for before the manager starts the factory are started by it; later ones here.
      void informer.start();
    }
  }
}
