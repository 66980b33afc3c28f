/**
 * Informers: a local cache of one resource type kept current by list + watch, with event
 * handlers and indexes (client-go's SharedIndexInformer). Watches resume from the last seen
 * resourceVersion (bookmarks keep it fresh); a 410 Expired relists and reports the difference
 * as add/update/delete events, so handlers never miss a change.
 */
import type { KubeObject } from '@canopy/apimachinery';
import { StatusError } from '@canopy/apimachinery';
import type { KubeClient, WatchEvent } from './client.js';
import { realClock, type Clock } from './clock.js';
import type { ResourceType } from './resource-types.js';

export interface InformerHandlers<T extends KubeObject> {
  onAdd?(object: T): void;
  onUpdate?(old: T, object: T): void;
  /** The last state known of the object. */
  onDelete?(object: T): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Redelivers every cached object as an update this often (0: never). */
  resyncMs?: number;
  /**
   * Applied to every object before it is cached (client-go's SetTransform): e.g. dropping
   * managedFields, which large caches (every pod of a cluster) need not keep.
   */
  transform?: (object: KubeObject) => KubeObject;
  clock?: Clock;
  log?: (message: string) => void;
}

export type IndexFunction<T> = (object: T) => string[];

/**
 * client-go's TransformStripManagedFields: the object without `metadata.managedFields` (30–45 %
 * of a typical object's JSON, more of its memory), which caches of controllers and of the
 * platform never read. A write of a cached object keeps the stored managedFields (the server
 * preserves them when an update carries none).
 */
export function stripManagedFields(object: KubeObject): KubeObject {
  if (!object.metadata?.managedFields) return object;
  const { managedFields: _dropped, ...metadata } = object.metadata;
  return { ...object, metadata };
}

/**
 * What kube's metadata informers hold (PartialObjectMetadata): apiVersion, kind and metadata
 * without managedFields — enough for the garbage collector's graph, a namespace's content or an
 * object count, at a fraction of the memory of whole objects (RBAC rules, pod specs).
 */
export function metadataOnly(object: KubeObject): KubeObject {
  const { managedFields: _dropped, ...metadata } = object.metadata ?? {};
  return {
    ...(object.apiVersion !== undefined ? { apiVersion: object.apiVersion } : {}),
    ...(object.kind !== undefined ? { kind: object.kind } : {}),
    metadata,
  } as KubeObject;
}

export function objectKey(object: KubeObject): string {
  const { namespace, name } = object.metadata;
  return namespace ? `${namespace}/${name}` : (name ?? '');
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly indexers = new Map<string, IndexFunction<T>>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private resourceVersion = '';
  private synced = false;
  private readonly syncWaiters: Array<() => void> = [];
  private stopped = true;
  private watchHandle?: { close(): void };
  private running?: Promise<void>;
  private readonly clock: Clock;

  constructor(
    private readonly client: KubeClient,
    readonly type: ResourceType,
    private readonly options: InformerOptions = {},
  ) {
    this.clock = options.clock ?? realClock;
    this.addIndex('namespace', (o) => (o.metadata.namespace ? [o.metadata.namespace] : []));
  }

  addHandler(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
    // A handler added after the first sync sees the current state, as client-go delivers it.
    if (this.synced) for (const o of this.items.values()) handlers.onAdd?.(o);
  }

  addIndex(name: string, fn: IndexFunction<T>): void {
    if (this.indexers.has(name)) return;
    this.indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.indexes.set(name, index);
    for (const [key, o] of this.items) for (const v of fn(o)) addToIndex(index, v, key);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** The latest resourceVersion the cache reflects. */
  get lastResourceVersion(): string {
    return this.resourceVersion;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(name: string, namespace?: string): T | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.items.values()];
    return this.byIndex('namespace', namespace);
  }

  byIndex(index: string, value: string): T[] {
    const keys = this.indexes.get(index)?.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const o = this.items.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  get size(): number {
    return this.items.size;
  }

  start(): Promise<void> {
    if (!this.stopped) return this.waitForSync();
    this.stopped = false;
    this.running = this.run();
    if (this.options.resyncMs) this.scheduleResync(this.options.resyncMs);
    return this.waitForSync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watchHandle?.close();
    for (const w of this.syncWaiters.splice(0)) w();
    await this.running?.catch(() => {});
  }

  private scheduleResync(ms: number): void {
    this.clock.setTimeout(() => {
      if (this.stopped) return;
      for (const o of this.items.values()) for (const h of this.handlers) h.onUpdate?.(o, o);
      this.scheduleResync(ms);
    }, ms);
  }

  private async run(): Promise<void> {
    let backoff = 200;
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        const outcome = await this.watchOnce();
        if (outcome === 'expired') needList = true;
        backoff = 200;
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof StatusError && err.code === 410) needList = true;
        else this.options.log?.(`informer ${this.type.resource}: ${(err as Error).message}; retrying in ${backoff} ms`);
        await new Promise<void>((resolve) => setTimeout(resolve, backoff).unref?.());
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.client.listAll<T>(this.type, {
      namespace: this.options.namespace,
      labelSelector: this.options.labelSelector,
      fieldSelector: this.options.fieldSelector,
    });
    if (this.stopped) return;
    const seen = new Set<string>();
    for (const listed of list.items) {
      listed.apiVersion ??= list.apiVersion;
      listed.kind ??= this.type.kind;
      const item = (this.options.transform ? this.options.transform(listed) : listed) as T;
      const key = objectKey(item);
      seen.add(key);
      this.upsert(key, item);
    }
    for (const [key, old] of [...this.items]) if (!seen.has(key)) this.remove(key, old);
    this.resourceVersion = list.metadata.resourceVersion ?? '';
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private async watchOnce(): Promise<'closed' | 'expired'> {
    const watch = await this.client.watch<T>(this.type, {
      namespace: this.options.namespace,
      labelSelector: this.options.labelSelector,
      fieldSelector: this.options.fieldSelector,
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: true,
      // Servers end watches now and then so clients re-establish them; kube picks 5–10 minutes.
      timeoutSeconds: 300 + Math.floor(Math.random() * 300),
    });
    this.watchHandle = watch;
    if (this.stopped) watch.close();
    for await (const event of watch) {
      if (this.stopped) break;
      if (event.type === 'ERROR') {
        const status = event.object as unknown as { code?: number; message?: string };
        if (status.code === 410) return 'expired';
        throw new StatusError(status.code ?? 500, 'WatchError', status.message ?? 'watch error');
      }
      this.apply(event);
    }
    return 'closed';
  }

  private apply(event: WatchEvent<T>): void {
    if (event.object.metadata?.resourceVersion) this.resourceVersion = event.object.metadata.resourceVersion;
    if (event.type === 'BOOKMARK') return;
    const object = (this.options.transform ? this.options.transform(event.object) : event.object) as T;
    const key = objectKey(object);
    if (event.type === 'DELETED') {
      const old = this.items.get(key);
      if (old) this.remove(key, object);
      return;
    }
    this.upsert(key, object);
  }

  private upsert(key: string, object: T): void {
    const old = this.items.get(key);
    if (old && old.metadata.resourceVersion === object.metadata.resourceVersion) return;
    if (old) this.unindex(key, old);
    this.items.set(key, object);
    this.index(key, object);
    for (const h of this.handlers) {
      try {
        if (old) h.onUpdate?.(old, object);
        else h.onAdd?.(object);
      } catch (err) {
        this.options.log?.(`informer ${this.type.resource}: handler failed: ${(err as Error).stack ?? err}`);
      }
    }
  }

  private remove(key: string, last: T): void {
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    this.items.delete(key);
    for (const h of this.handlers) {
      try {
        h.onDelete?.(last);
      } catch (err) {
        this.options.log?.(`informer ${this.type.resource}: handler failed: ${(err as Error).stack ?? err}`);
      }
    }
  }

  private index(key: string, object: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indexes.get(name)!;
      for (const v of fn(object)) addToIndex(index, v, key);
    }
  }

  private unindex(key: string, object: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indexes.get(name)!;
      for (const v of fn(object)) {
        const set = index.get(v);
        set?.delete(key);
        if (set && !set.size) index.delete(v);
      }
    }
  }
}

function addToIndex(index: Map<string, Set<string>>, value: string, key: string): void {
  let set = index.get(value);
  if (!set) index.set(value, (set = new Set()));
  set.add(key);
}

/** One informer per type (and selector), shared by every controller that asks. */
export class InformerFactory {
  private readonly informers = new Map<string, Informer<any>>();

  constructor(
    readonly client: KubeClient,
    /** Options of every informer it makes; `transform` applies unless an informer is asked for with its own. */
    private readonly defaults: Pick<InformerOptions, 'clock' | 'log' | 'resyncMs' | 'transform'> = {},
  ) {}

  for<T extends KubeObject = KubeObject>(type: ResourceType, options: Omit<InformerOptions, 'clock' | 'log'> = {}): Informer<T> {
    const key = `${type.group}/${type.version}/${type.resource}?${options.namespace ?? ''}&${options.labelSelector ?? ''}&${options.fieldSelector ?? ''}`;
    let informer = this.informers.get(key);
    if (!informer) {
      informer = new Informer<T>(this.client, type, { ...this.defaults, ...options });
      this.informers.set(key, informer);
    }
    return informer as Informer<T>;
  }

  /** Starts every informer asked for so far and waits until all have synced. */
  async start(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
