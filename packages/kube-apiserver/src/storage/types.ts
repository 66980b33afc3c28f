/**
 * The storage contract of the embedded API server: a revision log in the style of etcd (and of
 * k3s' kine). Every write gets the next global revision; an object's resourceVersion is the
 * revision of its last write. SQLite implements it today; an etcd backend implements the same.
 *
 * Keys are strings such as `/registry/pods/default/web-0`; values are Kubernetes objects. The
 * store stamps `metadata.resourceVersion` with the write's revision, so what it returns is what
 * clients see.
 */
import type { KubeObject } from '@canopy/apimachinery';

export interface StoredObject {
  key: string;
  object: KubeObject;
  /** Revision of the write that produced this value (= metadata.resourceVersion). */
  modRevision: number;
  /** Revision at which the key was created (latest incarnation). */
  createRevision: number;
  /** The object serialised, when the store has it at hand: lists are answered without re-serialising. */
  json?: string;
}

export interface ListOptions {
  /** Read the state as of this revision (must not be compacted); default: latest. */
  atRevision?: number;
  /** Only keys strictly greater than this one (for paging). */
  startAfter?: string;
  /** At most this many items; 0 or undefined = all. */
  limit?: number;
  /** Filter applied before `limit` is counted (so a page holds `limit` matching items). */
  filter?: (object: KubeObject) => boolean;
}

export interface ListResult {
  items: StoredObject[];
  /** The revision the list reflects. */
  revision: number;
  /** Keys remain after the last returned item (when `limit` cut the list). */
  more: boolean;
  /** How many matching items remain after this page, when cheaply known. */
  remaining?: number;
}

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: StoreEventType;
  key: string;
  /** The new state; for DELETED, the last state stamped with the deletion revision. */
  object: KubeObject;
  /** The previous state, if any (lets watchers with filters turn MODIFIED into ADDED/DELETED). */
  prevObject?: KubeObject;
  revision: number;
  /** Serialised `object`, computed at most once and shared by every watcher. */
  json(): string;
}

export interface WatchHandle {
  cancel(): void;
}

export class StorageError extends Error {
  constructor(
    /** FutureRevision: a read asked for a revision newer than the store's current one (kube's "Too large resource version"). */
    readonly code: 'KeyExists' | 'KeyNotFound' | 'Conflict' | 'Compacted' | 'FutureRevision' | 'TooLarge',
    message: string,
    /**
     * For Conflict: the current stored value. For Compacted: the oldest revision still available.
     * For FutureRevision: the current revision.
     */
    readonly current?: StoredObject | number,
  ) {
    super(message);
    this.name = 'StorageError';
  }
}

export interface RevisionStore {
  /** The newest revision written (0 when empty). */
  currentRevision(): number;
  /** The oldest revision that reads and watches can still start from. */
  compactedRevision(): number;

  get(key: string, atRevision?: number): StoredObject | undefined;
  /** Objects whose key starts with `prefix`, in key order. */
  list(prefix: string, options?: ListOptions): ListResult;
  count(prefix: string): number;

  /** Fails with KeyExists if the key is live. Returns the stored value (object stamped with its revision). */
  create(key: string, object: KubeObject): StoredObject;
  /**
   * Replaces the value. With `expectedRevision`, fails with Conflict unless it equals the key's
   * modRevision. Fails with KeyNotFound if the key is not live.
   */
  update(key: string, object: KubeObject, expectedRevision?: number): StoredObject;
  /** Removes the key; returns the last value stamped with the deletion revision. */
  delete(key: string, expectedRevision?: number): StoredObject;

  /**
   * Delivers every event on keys under `prefix` with revision > `afterRevision`, in revision
   * order, first the retained history then live ones. Throws Compacted if `afterRevision` is
   * older than the retained window.
   */
  watch(prefix: string, afterRevision: number, listener: (event: StoreEvent) => void): WatchHandle;

  /**
   * Drops history older than the newest `keepRevisions` revisions (live values always stay). The
   * compacted revision takes effect at once; the promise settles when the old rows are gone.
   */
  compact(keepRevisions: number): Promise<void>;
  close(): void;
}
