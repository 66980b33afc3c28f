/**
 * The platform's controllers run inside the platform process over its shared informers (the
 * same caches that feed the authorizer), each with its own work queue, and only while this
 * replica holds the `canopy-platform-controllers` lease: two platform replicas never both write.
 *
 * Informer handlers are registered once; they enqueue only while the controller is active. On
 * gaining the lease every controller gets a fresh queue and a full resync of its keys; on losing
 * it the queues shut down (work in flight finishes).
 */
import { isDeepStrictEqual } from 'node:util';
import { StatusError, type KubeObject, type OwnerReference } from '@canopy/apimachinery';
import {
  realClock,
  WorkQueue,
  type Clock,
  type Informer,
  type InformerFactory,
  type KubeClient,
  type ResourceType,
} from '@canopy/client';

export interface ControllerContext {
  /** Acts as the platform (cluster-admin). */
  client: KubeClient;
  informers: InformerFactory;
  clock: Clock;
  log(message: string): void;
}

export abstract class QueueController {
  abstract readonly name: string;
  private queue?: WorkQueue<string>;
  private running?: Promise<void>;
  private active = false;
  private inflight = 0;

  constructor(protected readonly ctx: ControllerContext) {}

  /** Informers this controller reads; started (and synced) before its first reconcile. */
  abstract informers(): Informer<any>[];
  /** Registers informer handlers (called once). */
  abstract register(): void;
  /** Every key to reconcile on a full resync. */
  abstract keys(): Iterable<string>;
  abstract reconcile(key: string): Promise<void>;
  /** How many keys are reconciled at once. */
  protected concurrency = 2;

  enqueue(key: string): void {
    if (this.active) this.queue!.add(key);
  }

  start(): void {
    if (this.active) return;
    // Retries of failed reconciles are about real transient errors: real time, whatever the platform clock.
    this.queue = new WorkQueue<string>({
      clock: realClock,
      name: this.name,
      log: (m) => this.ctx.log(m),
      baseDelayMs: 20,
      maxDelayMs: 30_000,
    });
    this.active = true;
    for (const key of this.keys()) this.queue.add(key);
    this.running = this.queue.run(async (key) => {
      this.inflight++;
      try {
        await this.reconcile(key);
      } finally {
        this.inflight--;
      }
    }, this.concurrency);
  }

  async stop(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    this.queue!.shutdown();
    await this.running;
  }

  /** Keys queued or being reconciled now (retries waiting on backoff do not count). */
  get pending(): number {
    return this.active ? this.queue!.length + this.inflight : 0;
  }

  get isActive(): boolean {
    return this.active;
  }
}

// --- writing owned objects ---------------------------------------------------------------------

export const apiVersionOf = (type: ResourceType): string => (type.group ? `${type.group}/${type.version}` : type.version);

/** A controller reference to `owner` (GC deletes the dependent with it; foreground deletion waits for it). */
export function ownerReference(type: ResourceType, owner: KubeObject, controller = true): OwnerReference {
  return {
    apiVersion: apiVersionOf(type),
    kind: type.kind,
    name: owner.metadata.name!,
    uid: owner.metadata.uid!,
    ...(controller ? { controller: true } : {}),
    blockOwnerDeletion: true,
  };
}

export interface DesiredState {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** References that must be present (matched by uid; an existing controller reference to another owner of the same kind is replaced). */
  ownerReferences?: OwnerReference[];
  /** Top-level fields owned wholesale (rules, roleRef, subjects, spec, aggregationRoleTemplates). */
  fields?: Record<string, unknown>;
}

/**
 * The merge patch that brings `current` to the desired state, or undefined when it already is.
 * Labels and annotations are merged key by key (others' keys stay); owned fields are replaced.
 */
export function patchTowards(current: KubeObject, desired: DesiredState): Record<string, unknown> | undefined {
  const metadata: Record<string, unknown> = {};
  for (const part of ['labels', 'annotations'] as const) {
    const want = desired[part];
    if (!want) continue;
    const have = current.metadata[part] ?? {};
    const diff: Record<string, string> = {};
    for (const [k, v] of Object.entries(want)) if (have[k] !== v) diff[k] = v;
    if (Object.keys(diff).length) metadata[part] = diff;
  }
  if (desired.ownerReferences?.length) {
    const refs = mergeOwnerReferences(current.metadata.ownerReferences ?? [], desired.ownerReferences);
    if (!isDeepStrictEqual(refs, current.metadata.ownerReferences ?? [])) metadata.ownerReferences = refs;
  }
  const patch: Record<string, unknown> = {};
  if (Object.keys(metadata).length) patch.metadata = metadata;
  for (const [field, value] of Object.entries(desired.fields ?? {})) {
    if (!isDeepStrictEqual(normalize(value), normalize((current as Record<string, unknown>)[field])))
      patch[field] = value ?? null;
  }
  return Object.keys(patch).length ? patch : undefined;
}

/** JSON round trip, so `undefined` members compare like absent ones. */
function normalize(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

function mergeOwnerReferences(current: OwnerReference[], wanted: OwnerReference[]): OwnerReference[] {
  let out = [...current];
  for (const ref of wanted) {
    // One controller per kind of owner: a namespace moved to another workspace changes owner.
    if (ref.controller)
      out = out.filter(
        (r) =>
          !(
            r.controller &&
            r.kind === ref.kind &&
            r.apiVersion.split('/')[0] === ref.apiVersion.split('/')[0] &&
            r.uid !== ref.uid
          ),
      );
    const at = out.findIndex((r) => r.uid === ref.uid);
    if (at >= 0) out[at] = { ...out[at], ...ref };
    else out.push(ref);
  }
  return out;
}

/**
 * Creates the object when `current` (from a cache) is undefined, else patches it towards the
 * desired state.
 */
export async function ensureObject(
  client: KubeClient,
  type: ResourceType,
  current: KubeObject | undefined,
  object: KubeObject,
  desired: DesiredState,
): Promise<void> {
  if (!current) {
    try {
      await client.create(type, object);
      return;
    } catch (err) {
      // The cache had not seen it yet: patch what the server has.
      if (!(err instanceof StatusError && err.code === 409)) throw err;
      current = await client.get(type, object.metadata.name!, object.metadata.namespace);
    }
  }
  const patch = patchTowards(current, desired);
  if (!patch) return;
  await client.patch(type, current.metadata.name!, patch, 'merge', { namespace: current.metadata.namespace });
}

/** Deletes, treating "already gone" as done. */
export async function deleteIfPresent(
  client: KubeClient,
  type: ResourceType,
  name: string,
  namespace?: string,
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan',
): Promise<void> {
  try {
    await client.delete(type, name, { namespace, ...(propagationPolicy ? { propagationPolicy } : {}) });
  } catch (err) {
    if (err instanceof StatusError && err.code === 404) return;
    throw err;
  }
}

export function isTerminating(object: KubeObject | undefined): boolean {
  return !!object?.metadata.deletionTimestamp;
}
