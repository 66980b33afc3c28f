/**
 * The SQLite implementation of the revision-log store, in the spirit of k3s' kine: one table is
 * an append-only log where every write (create, update, delete) is a row whose INTEGER PRIMARY
 * KEY is the global revision. Reads at an older revision pick, per key, the newest row at or
 * below that revision; compaction removes rows that no read at or after the compacted revision
 * can see.
 *
 * The process is the only writer (enforced with SQLite's exclusive locking mode), so the latest
 * state lives in memory as well: `get`/`list`/`count` at the latest revision and watches over
 * recent history never touch SQLite. Only reads at older revisions and watches older than the
 * in-memory event window go to the database.
 *
 * Objects handed out (StoredObject.object, StoreEvent.object/prevObject) are shared with the
 * in-memory cache and with every watcher: callers must treat them as immutable and copy before
 * changing them, as kube-apiserver's watch cache requires too. Objects passed to `create`/`update`
 * are not mutated: the store stamps `metadata.resourceVersion` on a shallow copy (the object and
 * its metadata are copied, nested fields are shared), so the caller must not mutate them afterwards.
 *
 * Keys are compared as JavaScript strings (UTF-16 code units) in memory and as UTF-8 bytes in
 * SQLite; both orders agree for the ASCII keys Kubernetes names produce.
 */
import Database from 'better-sqlite3';
import type { KubeObject } from '@canopy/apimachinery';
import {
  StorageError,
  type ListOptions,
  type ListResult,
  type RevisionStore,
  type StoreEvent,
  type StoreEventType,
  type StoredObject,
  type WatchHandle,
} from './types.js';

export interface SqliteRevisionStoreOptions {
  /** How many recent events the in-memory watch window holds (default 10,000). Older watches read SQLite. */
  historyWindow?: number;
  /** Called when a watch listener throws; the default logs to stderr. Other listeners and the writer carry on. */
  onListenerError?: (error: unknown, event: StoreEvent) => void;
  /**
   * Key prefixes whose latest values are held only as JSON text and parsed on each read, as
   * kube-apiserver keeps no watch cache for Events (`--watch-cache-sizes` defaults events to 0):
   * they are the most numerous objects (five or so per pod) and are rarely read.
   */
  textOnlyPrefixes?: string[];
}

const DEFAULT_HISTORY_WINDOW = 10_000;
/** Revisions whose superseded rows one compaction transaction deletes (~10 ms of SQLite work). */
const COMPACTION_CHUNK = 2_000;
const SCHEMA_VERSION = 1;
/** Rows fetched per query when replaying history from SQLite (bounded memory, no open cursor). */
const REPLAY_PAGE_SIZE = 1_000;

interface LogRow {
  revision: number;
  key: string;
  value: string;
  create_revision: number;
  prev_revision: number;
  deleted: number;
}

interface LogRowWithPrev extends LogRow {
  prev_value: string | null;
}

/**
 * A store event. While it is dispatched it carries the objects themselves; afterwards, in the ring
 * of recent events that watches resume from, only their text (`cool`). The ring spans the last
 * `historyWindow` revisions, mostly superseded versions no one else holds: kept parsed they were
 * about a tenth of the heap's objects at 6,000 pods, and every full collection marks them. The
 * previous state's text is the string its own write made, so keeping it costs nothing more.
 */
class RevisionEvent implements StoreEvent {
  /** The states themselves, until the event is dispatched (`cool`); absent for one read back from history. */
  private hot: { object: KubeObject; prevObject: KubeObject | undefined } | undefined;

  constructor(
    readonly type: StoreEventType,
    readonly key: string,
    readonly revision: number,
    hot: { object: KubeObject; prevObject: KubeObject | undefined } | undefined,
    private serialized: string | undefined,
    private prevSerialized: string | undefined,
  ) {
    this.hot = hot;
  }

  get object(): KubeObject {
    return this.hot ? this.hot.object : (JSON.parse(this.serialized!) as KubeObject);
  }

  get prevObject(): KubeObject | undefined {
    if (this.hot) return this.hot.prevObject;
    return this.prevSerialized === undefined ? undefined : (JSON.parse(this.prevSerialized) as KubeObject);
  }

  json(): string {
    // Writes already hold the text they stored; events replayed or built without it serialise once.
    this.serialized ??= JSON.stringify(this.hot!.object);
    return this.serialized;
  }

  /** Dispatched: from now on held as text only (read back by parsing, for a resuming watch). */
  cool(): void {
    if (!this.hot) return;
    this.serialized ??= JSON.stringify(this.hot.object);
    if (this.hot.prevObject) this.prevSerialized ??= JSON.stringify(this.hot.prevObject);
    this.hot = undefined;
  }
}

interface Watcher {
  prefix: string;
  listener: (event: StoreEvent) => void;
  /** Revision of the last event handed to the listener: guards against duplicates and reordering. */
  deliveredThrough: number;
  cancelled: boolean;
}

export class SqliteRevisionStore implements RevisionStore {
  /** The latest value of every key (`stored.json` is its text, which SQLite holds and watchers send). */
  private readonly live = new Map<string, StoredObject>();
  private readonly textOnlyPrefixes: string[];
  private readonly keyIndex = new SortedKeyIndex();
  private readonly ring: EventRing;
  private current = 0;
  private compacted = 0;
  /** Rows at or below this revision hold no superseded history (the last finished compaction's target). */
  private compactionFloor = 0;
  /** The compaction still deleting rows, if any; the next one waits for it. */
  private compacting?: Promise<void>;
  private closed = false;

  /** Watchers whose prefix pins a `/registry/<resource>/` group, by group; the rest are `broadWatchers`. */
  private readonly watchersByGroup = new Map<string, Set<Watcher>>();
  private readonly broadWatchers = new Set<Watcher>();
  /** Events written while listeners run are queued so every listener sees revisions in order. */
  private readonly pendingEvents: RevisionEvent[] = [];
  private dispatching = false;
  private readonly onListenerError: (error: unknown, event: StoreEvent) => void;

  private readonly insertRow: Database.Statement<[number, string, string, number, number, number]>;
  private readonly selectAtRevision: Database.Statement<[string, number], LogRow>;
  private readonly statementCache = new Map<string, Database.Statement>();

  private constructor(
    private readonly db: Database.Database,
    options: SqliteRevisionStoreOptions,
  ) {
    const window = options.historyWindow ?? DEFAULT_HISTORY_WINDOW;
    if (!Number.isInteger(window) || window < 0)
      throw new RangeError(`historyWindow must be a non-negative integer, got ${window}`);
    this.ring = new EventRing(window);
    this.textOnlyPrefixes = options.textOnlyPrefixes ?? [];
    this.onListenerError =
      options.onListenerError ??
      ((error, event) =>
        console.error(`storage: a watch listener threw on ${event.type} ${event.key}@${event.revision}:`, error));

    this.insertRow = db.prepare(
      'INSERT INTO kv (revision, key, value, create_revision, prev_revision, deleted) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.selectAtRevision = db.prepare(
      'SELECT revision, key, value, create_revision, prev_revision, deleted FROM kv WHERE key = ? AND revision <= ? ORDER BY revision DESC LIMIT 1',
    );
    this.load();
  }

  /**
   * Opens (creating if needed) the store at `path`; `':memory:'` gives a throwaway store.
   *
   * Durability: WAL journal with `synchronous=NORMAL`. A commit appends to the WAL file with a
   * write() before the call returns, without fsync; the bytes then sit in the OS page cache, which
   * survives the death of this process (kill -9, crash, OOM kill). Only an OS crash or power loss
   * can drop the newest commits, and even then the database stays consistent (WAL frames are
   * checksummed). That is the guarantee etcd users get from a single member without fsync, and it
   * keeps writes at tens of thousands per second.
   */
  static open(path: string, options: SqliteRevisionStoreOptions = {}): SqliteRevisionStore {
    // No busy wait: the only contention is another process holding the exclusive lock, which won't pass.
    const db = new Database(path, { timeout: 0 });
    try {
      // Exclusive locking: the in-memory state assumes this process is the only writer, so a second
      // server on the same file must fail at open (SQLITE_BUSY) instead of reusing revisions. It also
      // keeps the WAL index in process memory (no -shm file). Set before WAL mode so it applies to it.
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db);
      return new SqliteRevisionStore(db, options);
    } catch (error) {
      db.close();
      if ((error as { code?: unknown }).code === 'SQLITE_BUSY') {
        throw new Error(`storage: ${path} is in use by another process (one server per database file)`, { cause: error });
      }
      throw error;
    }
  }

  currentRevision(): number {
    return this.current;
  }

  compactedRevision(): number {
    return this.compacted;
  }

  get(key: string, atRevision?: number): StoredObject | undefined {
    if (atRevision === undefined || atRevision === this.current) return this.live.get(key);
    this.checkReadable(atRevision);
    const row = this.selectAtRevision.get(key, atRevision);
    if (!row || row.deleted) return undefined;
    return storedFromRow(row);
  }

  list(prefix: string, options: ListOptions = {}): ListResult {
    const { atRevision, startAfter, filter } = options;
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    if (atRevision !== undefined && atRevision !== this.current) {
      this.checkReadable(atRevision);
      return this.listAtRevision(prefix, atRevision, startAfter, limit, filter);
    }

    const items: StoredObject[] = [];
    const segments = this.keyIndex.segments(prefix, startAfter);
    for (let s = 0; s < segments.length; s++) {
      const { keys, from, to } = segments[s];
      for (let i = from; i < to; i++) {
        const stored = this.live.get(keys[i])!;
        if (filter && !filter(stored.object)) continue;
        items.push(stored);
        if (limit && items.length === limit) {
          let remaining = to - i - 1;
          for (let t = s + 1; t < segments.length; t++) remaining += segments[t].to - segments[t].from;
          const result: ListResult = { items, revision: this.current, more: remaining > 0 };
          // Like kube's remainingItemCount: only exact when no filter applies to what follows.
          if (!filter) result.remaining = remaining;
          return result;
        }
      }
    }
    return { items, revision: this.current, more: false, ...(filter ? {} : { remaining: 0 }) };
  }

  /** The in-memory form of a key's latest value: the object, or only its text for `textOnlyPrefixes`. */
  private liveValue(key: string, object: KubeObject | undefined, json: string, modRevision: number, createRevision: number): StoredObject {
    if (this.textOnlyPrefixes.some((prefix) => key.startsWith(prefix))) return new TextOnlyStoredObject(key, json, modRevision, createRevision);
    return { key, object: object ?? shareManagedFieldSets(JSON.parse(json) as KubeObject), modRevision, createRevision, json };
  }

  count(prefix: string): number {
    return this.keyIndex.count(prefix);
  }

  create(key: string, object: KubeObject): StoredObject {
    if (this.live.has(key)) throw new StorageError('KeyExists', `key exists: ${key}`);
    const revision = this.current + 1;
    const stamped = shareManagedFieldSets(stamp(object, revision));
    const json = JSON.stringify(stamped);
    this.insertRow.run(revision, key, json, revision, 0, 0);
    this.current = revision;

    const stored = this.liveValue(key, stamped, json, revision, revision);
    this.live.set(key, stored);
    this.keyIndex.add(key);
    this.emit(new RevisionEvent('ADDED', key, revision, { object: stamped, prevObject: undefined }, json, undefined));
    return stored;
  }

  update(key: string, object: KubeObject, expectedRevision?: number): StoredObject {
    const previous = this.liveForWrite(key, expectedRevision);
    const revision = this.current + 1;
    const stamped = shareManagedFieldSets(stamp(object, revision));
    const json = JSON.stringify(stamped);
    const createRevision = previous.createRevision;
    this.insertRow.run(revision, key, json, createRevision, previous.modRevision, 0);
    this.current = revision;

    const stored = this.liveValue(key, stamped, json, revision, createRevision);
    this.live.set(key, stored);
    this.emit(new RevisionEvent('MODIFIED', key, revision, { object: stamped, prevObject: previous.object }, json, previous.json));
    return stored;
  }

  delete(key: string, expectedRevision?: number): StoredObject {
    const previous = this.liveForWrite(key, expectedRevision);
    const revision = this.current + 1;
    // The tombstone row keeps the last value stamped with the deletion revision, so DELETED events
    // replayed from SQLite carry the same object as the live one did.
    const stamped = stamp(previous.object, revision);
    const json = JSON.stringify(stamped);
    const createRevision = previous.createRevision;
    this.insertRow.run(revision, key, json, createRevision, previous.modRevision, 1);
    this.current = revision;

    this.live.delete(key);
    this.keyIndex.remove(key);
    this.emit(new RevisionEvent('DELETED', key, revision, { object: stamped, prevObject: previous.object }, json, previous.json));
    return { key, object: stamped, modRevision: revision, createRevision };
  }

  watch(prefix: string, afterRevision: number, listener: (event: StoreEvent) => void): WatchHandle {
    if (afterRevision < this.compacted) throw compactedError(afterRevision, this.compacted);
    const watcher: Watcher = { prefix, listener, deliveredThrough: afterRevision, cancelled: false };

    // Replay runs as a dispatch: writes made by listeners meanwhile are queued and delivered after
    // the replay, so this watcher sees history then live events with no gap and no reordering.
    const outermost = !this.dispatching;
    this.dispatching = true;
    try {
      // Fix both sources up front: listeners may write (growing and evicting the ring) while we replay.
      const ringStart = this.ring.completeAfter;
      const buffered = this.ring.eventsAfter(Math.max(afterRevision, ringStart), prefix);
      if (afterRevision < ringStart) this.replayFromLog(watcher, afterRevision, ringStart);
      for (const event of buffered) this.deliver(watcher, event);
      this.addWatcher(watcher);
    } finally {
      if (outermost) this.drainPendingEvents();
    }
    return {
      cancel: () => {
        if (watcher.cancelled) return;
        watcher.cancelled = true;
        this.removeWatcher(watcher);
      },
    };
  }

  /**
   * Compacts history older than the newest `keepRevisions` revisions. The compacted revision
   * takes effect at once (older reads and watches get `Compacted`); the superseded rows are then
   * deleted in transactions of `COMPACTION_CHUNK` revisions, one per turn of the event loop, so a
   * compaction of a busy store (150,000 revisions in ten minutes at 50 pods a second) never holds
   * the single writer for long. The returned promise settles when every row is gone; rows left by
   * a crash or `close()` meanwhile go at the next compaction.
   */
  compact(keepRevisions: number): Promise<void> {
    if (!Number.isInteger(keepRevisions) || keepRevisions < 0) {
      throw new RangeError(`keepRevisions must be a non-negative integer, got ${keepRevisions}`);
    }
    const target = this.current - keepRevisions;
    if (target <= this.compacted) return this.compacting ?? Promise.resolve();
    // Keep, per key, the newest row at or below the target unless it is a tombstone (reads at the
    // target still need it); drop everything it supersedes. Rows above the target are untouched.
    // Reads at or above the target never need a dropped row, so any order of deletion is safe
    // once the target is declared.
    const deleteSuperseded = this.prepareCached(
      `DELETE FROM kv WHERE revision > @from AND revision <= @to AND (deleted = 1 OR EXISTS (
         SELECT 1 FROM kv AS newer WHERE newer.key = kv.key AND newer.revision > kv.revision AND newer.revision <= @target))`,
    );
    const setMeta = this.prepareCached(
      'INSERT INTO meta (name, value) VALUES (@name, @value) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
    );
    setMeta.run({ name: 'compactedRevision', value: target });
    this.compacted = target;
    this.ring.dropThrough(target);
    const previous = this.compacting ?? Promise.resolve();
    const run = (async () => {
      await previous;
      // From the floor the one before left (rows below it hold no superseded history).
      let from = this.compactionFloor;
      while (!this.closed && from < target) {
        const to = Math.min(from + COMPACTION_CHUNK, target);
        deleteSuperseded.run({ from, to, target });
        from = to;
        if (from < target) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (!this.closed) this.compactionFloor = target;
    })();
    this.compacting = run;
    void run.finally(() => {
      if (this.compacting === run) this.compacting = undefined;
    });
    return run;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const watchers of this.watchersByGroup.values()) for (const watcher of watchers) watcher.cancelled = true;
    for (const watcher of this.broadWatchers) watcher.cancelled = true;
    this.watchersByGroup.clear();
    this.broadWatchers.clear();
    // Fold the WAL into the main file so the database is a single self-contained file at rest.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }

  // ---- internals ----

  private load(): void {
    const maxRevision = (this.db.prepare('SELECT MAX(revision) FROM kv').pluck().get() as number | null) ?? 0;
    this.compacted =
      (this.db.prepare("SELECT value FROM meta WHERE name = 'compactedRevision'").pluck().get() as number | undefined) ?? 0;
    // Compaction may delete the newest rows (tombstones), so the high-water mark is the larger of the
    // newest row and the compacted revision: revisions are never reused.
    this.current = Math.max(maxRevision, this.compacted);

    const latestLive = this.db.prepare<[], LogRow>(
      `SELECT kv.revision, kv.key, kv.value, kv.create_revision, kv.prev_revision, kv.deleted
         FROM kv JOIN (SELECT MAX(revision) AS revision FROM kv GROUP BY key) AS latest ON latest.revision = kv.revision
        WHERE kv.deleted = 0`,
    );
    const keys: string[] = [];
    for (const row of latestLive.iterate()) {
      this.live.set(row.key, this.liveValue(row.key, undefined, row.value, row.revision, row.create_revision));
      keys.push(row.key);
    }
    this.keyIndex.addAll(keys);

    // Refill the watch window from the newest rows so watchers resume across a restart from memory.
    this.ring.completeAfter = this.compacted;
    if (this.ring.capacity > 0) {
      const newest = this.db
        .prepare<[number, number], LogRowWithPrev>(`${HISTORY_SELECT} WHERE kv.revision > ? ORDER BY kv.revision DESC LIMIT ?`)
        .all(this.compacted, this.ring.capacity);
      newest.reverse();
      if (newest.length === this.ring.capacity) this.ring.completeAfter = newest[0].revision - 1;
      for (const row of newest) this.ring.push(this.eventFromRow(row, true));
    } else {
      this.ring.completeAfter = this.current;
    }
  }

  private liveForWrite(key: string, expectedRevision: number | undefined): StoredObject {
    const previous = this.live.get(key);
    if (!previous) throw new StorageError('KeyNotFound', `key not found: ${key}`);
    if (expectedRevision !== undefined && expectedRevision !== previous.modRevision) {
      throw new StorageError(
        'Conflict',
        `revision conflict on ${key}: expected ${expectedRevision}, current ${previous.modRevision}`,
        previous,
      );
    }
    return previous;
  }

  private checkReadable(atRevision: number): void {
    if (atRevision < this.compacted) throw compactedError(atRevision, this.compacted);
    if (atRevision > this.current) {
      throw new StorageError(
        'FutureRevision',
        `Too large resource version: ${atRevision}, current: ${this.current}`,
        this.current,
      );
    }
  }

  private listAtRevision(
    prefix: string,
    atRevision: number,
    startAfter: string | undefined,
    limit: number,
    filter: ((object: KubeObject) => boolean) | undefined,
  ): ListResult {
    const upper = prefixUpperBound(prefix);
    const lower = startAfter !== undefined && startAfter > prefix ? startAfter : prefix;
    const statement = this.prepareCached<LogRow>(
      `SELECT kv.revision, kv.key, kv.value, kv.create_revision, kv.prev_revision, kv.deleted
         FROM kv JOIN (SELECT MAX(revision) AS revision FROM kv
                        WHERE key >= @lower ${upper === undefined ? '' : 'AND key < @upper'} AND revision <= @atRevision
                        GROUP BY key) AS latest ON latest.revision = kv.revision
        WHERE kv.deleted = 0 ORDER BY kv.key`,
    );
    const params = upper === undefined ? { lower, atRevision } : { lower, upper, atRevision };
    const items: StoredObject[] = [];
    let more = false;
    // Iterating keeps memory bounded; nothing runs on this connection until the loop ends.
    for (const row of statement.iterate(params)) {
      if (!row.key.startsWith(prefix) || (startAfter !== undefined && row.key <= startAfter)) continue;
      if (limit && items.length === limit) {
        more = true;
        break;
      }
      const stored = storedFromRow(row);
      if (filter && !filter(stored.object)) continue;
      items.push(stored);
    }
    return { items, revision: atRevision, more };
  }

  /** Delivers log rows in (afterRevision, throughRevision] under the watcher's prefix, page by page. */
  private replayFromLog(watcher: Watcher, afterRevision: number, throughRevision: number): void {
    const upper = prefixUpperBound(watcher.prefix);
    const statement = this.prepareCached<LogRowWithPrev>(
      `${HISTORY_SELECT} WHERE kv.revision > @after AND kv.revision <= @through
         AND kv.key >= @prefix ${upper === undefined ? '' : 'AND kv.key < @upper'}
       ORDER BY kv.revision LIMIT ${REPLAY_PAGE_SIZE}`,
    );
    let after = afterRevision;
    while (after < throughRevision && !watcher.cancelled) {
      const params = { after, through: throughRevision, prefix: watcher.prefix, ...(upper === undefined ? {} : { upper }) };
      // `.all()` rather than an open cursor: listeners may write to the database while we deliver.
      const rows = statement.all(params);
      for (const row of rows) {
        if (row.key.startsWith(watcher.prefix)) this.deliver(watcher, this.eventFromRow(row));
      }
      if (rows.length < REPLAY_PAGE_SIZE) break;
      after = rows[rows.length - 1].revision;
    }
  }

  /** An event of a history row: parsed for dispatch, or (`forRing`) as text only, already cooled. */
  private eventFromRow(row: LogRowWithPrev, forRing = false): RevisionEvent {
    const type: StoreEventType = row.deleted ? 'DELETED' : row.prev_revision === 0 ? 'ADDED' : 'MODIFIED';
    const prevText = row.prev_value ?? undefined;
    if (forRing) return new RevisionEvent(type, row.key, row.revision, undefined, row.value, prevText);
    // Share the parsed live object when this row is the key's current value.
    const live = this.live.get(row.key);
    const object = live && live.modRevision === row.revision ? live.object : (JSON.parse(row.value) as KubeObject);
    const prevObject = prevText === undefined ? undefined : (JSON.parse(prevText) as KubeObject);
    return new RevisionEvent(type, row.key, row.revision, { object, prevObject }, row.value, prevText);
  }

  private emit(event: RevisionEvent): void {
    this.ring.push(event);
    this.pendingEvents.push(event);
    if (this.dispatching) return;
    this.dispatching = true;
    this.drainPendingEvents();
  }

  /** Delivers queued events in order; called by the outermost dispatcher only. */
  private drainPendingEvents(): void {
    try {
      for (let i = 0; i < this.pendingEvents.length; i++) {
        const event = this.pendingEvents[i];
        const group = this.watchersByGroup.get(groupOf(event.key));
        if (group) for (const watcher of group) if (event.key.startsWith(watcher.prefix)) this.deliver(watcher, event);
        for (const watcher of this.broadWatchers) if (event.key.startsWith(watcher.prefix)) this.deliver(watcher, event);
      }
    } finally {
      for (const event of this.pendingEvents) event.cool();
      this.pendingEvents.length = 0;
      this.dispatching = false;
    }
  }

  private deliver(watcher: Watcher, event: StoreEvent): void {
    if (watcher.cancelled || event.revision <= watcher.deliveredThrough) return;
    watcher.deliveredThrough = event.revision;
    try {
      watcher.listener(event);
    } catch (error) {
      try {
        this.onListenerError(error, event);
      } catch {
        // A failing error reporter must not break delivery either.
      }
    }
  }

  private addWatcher(watcher: Watcher): void {
    if (!pinsGroup(watcher.prefix)) {
      this.broadWatchers.add(watcher);
      return;
    }
    const group = groupOf(watcher.prefix);
    let watchers = this.watchersByGroup.get(group);
    if (!watchers) this.watchersByGroup.set(group, (watchers = new Set()));
    watchers.add(watcher);
  }

  private removeWatcher(watcher: Watcher): void {
    if (this.broadWatchers.delete(watcher)) return;
    const group = groupOf(watcher.prefix);
    const watchers = this.watchersByGroup.get(group);
    if (watchers?.delete(watcher) && watchers.size === 0) this.watchersByGroup.delete(group);
  }

  private prepareCached<Row = unknown>(sql: string): Database.Statement<[Record<string, unknown>?], Row> {
    let statement = this.statementCache.get(sql);
    if (!statement) this.statementCache.set(sql, (statement = this.db.prepare(sql)));
    return statement as Database.Statement<[Record<string, unknown>?], Row>;
  }
}

const HISTORY_SELECT = `SELECT kv.revision, kv.key, kv.value, kv.create_revision, kv.prev_revision, kv.deleted, prev.value AS prev_value
  FROM kv LEFT JOIN kv AS prev ON prev.revision = kv.prev_revision`;

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION)
    throw new Error(`database schema version ${version} is newer than this server supports (${SCHEMA_VERSION})`);
  if (version === SCHEMA_VERSION) return;
  db.exec(`
    BEGIN;
    -- The revision log. revision is the rowid (no AUTOINCREMENT: the store assigns revisions and keeps
    -- the high-water mark in memory and, across compactions, in meta). value is the object's JSON as
    -- stamped; for a tombstone (deleted = 1) the last value stamped with the deletion revision.
    -- prev_revision is the revision of the value this write replaced (0 for a create).
    CREATE TABLE kv (
      revision INTEGER PRIMARY KEY,
      key TEXT NOT NULL,
      value TEXT NOT NULL,
      create_revision INTEGER NOT NULL,
      prev_revision INTEGER NOT NULL,
      deleted INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX kv_key_revision ON kv (key, revision);
    CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    PRAGMA user_version = ${SCHEMA_VERSION};
    COMMIT;
  `);
}

function stamp(object: KubeObject, revision: number): KubeObject {
  return { ...object, metadata: { ...object.metadata, resourceVersion: String(revision) } };
}

/** A live value whose object is parsed from its text at each read (see `textOnlyPrefixes`). */
class TextOnlyStoredObject implements StoredObject {
  constructor(
    readonly key: string,
    readonly json: string,
    readonly modRevision: number,
    readonly createRevision: number,
  ) {}

  get object(): KubeObject {
    return JSON.parse(this.json) as KubeObject;
  }
}

/**
 * Objects written by the same manager to objects of the same shape (every pod of a Deployment,
 * every Event a kubelet records, a project's RoleBindings) carry identical `managedFields[].fieldsV1`
 * trees, which are about half of a pod's parsed size. The store holds one frozen instance of each
 * distinct tree, referenced weakly so trees no live object uses are collected. Stored objects are
 * never mutated in place (writes build new objects), so sharing is invisible to readers; the
 * freeze makes any attempt fail loudly.
 */
const fieldSets = new Map<string, WeakRef<Record<string, unknown>>>();
const fieldSetsCollected = new FinalizationRegistry<string>((text) => {
  if (!fieldSets.get(text)?.deref()) fieldSets.delete(text);
});

function shareManagedFieldSets(object: KubeObject): KubeObject {
  const entries = object.metadata?.managedFields;
  if (!Array.isArray(entries) || entries.length === 0) return object;
  // `object.metadata` is the store's own (stamped) copy; the entries may be the writer's: replace them.
  object.metadata.managedFields = entries.map((entry) => {
    const tree = entry?.fieldsV1;
    if (!tree || typeof tree !== 'object') return entry;
    const text = JSON.stringify(tree);
    let shared = fieldSets.get(text)?.deref();
    if (!shared) {
      shared = JSON.parse(text) as Record<string, unknown>;
      deepFreeze(shared);
      fieldSets.set(text, new WeakRef(shared));
      fieldSetsCollected.register(shared, text);
    }
    return { ...entry, fieldsV1: shared };
  });
  return object;
}

function deepFreeze(value: unknown): void {
  if (!value || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

function storedFromRow(row: LogRow): StoredObject {
  return {
    key: row.key,
    object: JSON.parse(row.value) as KubeObject,
    modRevision: row.revision,
    createRevision: row.create_revision,
    json: row.value,
  };
}

function compactedError(revision: number, compacted: number): StorageError {
  return new StorageError('Compacted', `too old resource version: ${revision} (${compacted})`, compacted);
}

/** The smallest string greater than every string that starts with `prefix`; undefined for no bound. */
function prefixUpperBound(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const code = prefix.charCodeAt(i);
    if (code < 0xffff) return prefix.slice(0, i) + String.fromCharCode(code + 1);
  }
  return undefined;
}

/**
 * The index group of a key or prefix: up to its third slash (`/registry/pods/`), or the whole
 * string when it has fewer. Every key starting with a prefix that has three slashes shares the
 * prefix's group, so such a list or watch touches one group only.
 */
function groupOf(key: string): string {
  const third = thirdSlash(key);
  return third < 0 ? key : key.slice(0, third + 1);
}

function pinsGroup(prefix: string): boolean {
  return thirdSlash(prefix) >= 0;
}

function thirdSlash(key: string): number {
  const first = key.indexOf('/');
  if (first < 0) return -1;
  const second = key.indexOf('/', first + 1);
  if (second < 0) return -1;
  return key.indexOf('/', second + 1);
}

/** First index in sorted `keys` whose key is >= `value` (or > `value` when `strict`). */
function lowerBound(keys: readonly string[], value: string, strict = false, from = 0): number {
  let low = from;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (keys[mid] < value || (strict && keys[mid] === value)) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** First index at or after `from` whose key does not start with `prefix` (keys from `from` on are >= prefix). */
function prefixEnd(keys: readonly string[], prefix: string, from: number): number {
  let low = from;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (keys[mid].startsWith(prefix)) low = mid + 1;
    else high = mid;
  }
  return low;
}

interface KeySegment {
  keys: readonly string[];
  from: number;
  to: number;
}

/**
 * Live keys in lexical order, as one sorted array per group (`/registry/<resource>/`). Inserting
 * shifts the group's array (a memmove, fine at 100k keys); lookups are binary searches. Groups
 * never nest (no group name is a prefix of another's keys unless it is that single key itself),
 * so walking groups in name order walks keys in global order.
 */
class SortedKeyIndex {
  private readonly groups = new Map<string, string[]>();
  private groupNames: string[] = [];

  add(key: string): void {
    const keys = this.groupFor(groupOf(key));
    // Appending in order is the common case (generated names, bulk loads): skip the search.
    if (keys.length === 0 || keys[keys.length - 1] < key) keys.push(key);
    else keys.splice(lowerBound(keys, key), 0, key);
  }

  /** Adds many keys at once, sorting each group once. */
  addAll(keys: Iterable<string>): void {
    const touched = new Set<string[]>();
    for (const key of keys) {
      const group = this.groupFor(groupOf(key));
      group.push(key);
      touched.add(group);
    }
    for (const group of touched) group.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  remove(key: string): void {
    const name = groupOf(key);
    const keys = this.groups.get(name);
    if (!keys) return;
    const index = lowerBound(keys, key);
    if (keys[index] !== key) return;
    keys.splice(index, 1);
    if (keys.length === 0) {
      this.groups.delete(name);
      this.groupNames.splice(lowerBound(this.groupNames, name), 1);
    }
  }

  /** The index ranges holding keys that start with `prefix` and sort after `startAfter`, in key order. */
  segments(prefix: string, startAfter?: string): KeySegment[] {
    const start = (keys: readonly string[], from: number): number =>
      startAfter !== undefined && startAfter >= prefix ? lowerBound(keys, startAfter, true, from) : from;
    if (pinsGroup(prefix)) {
      const keys = this.groups.get(groupOf(prefix));
      if (!keys) return [];
      const first = lowerBound(keys, prefix);
      const to = prefixEnd(keys, prefix, first);
      const from = start(keys, first);
      return from < to ? [{ keys, from, to }] : [];
    }
    // A prefix short of a group (e.g. `/registry/`) covers whole groups: those whose name starts with it.
    const segments: KeySegment[] = [];
    for (let g = lowerBound(this.groupNames, prefix); g < this.groupNames.length && this.groupNames[g].startsWith(prefix); g++) {
      const keys = this.groups.get(this.groupNames[g])!;
      const from = start(keys, 0);
      if (from < keys.length) segments.push({ keys, from, to: keys.length });
    }
    return segments;
  }

  count(prefix: string): number {
    let total = 0;
    for (const { from, to } of this.segments(prefix)) total += to - from;
    return total;
  }

  private groupFor(name: string): string[] {
    let keys = this.groups.get(name);
    if (!keys) {
      this.groups.set(name, (keys = []));
      this.groupNames.splice(lowerBound(this.groupNames, name), 0, name);
    }
    return keys;
  }
}

/**
 * The in-memory watch window: the newest `capacity` events in revision order. `completeAfter`
 * is the revision after which every event is held (older ones must come from SQLite).
 */
class EventRing {
  private readonly slots: (RevisionEvent | undefined)[];
  private head = 0;
  private size = 0;
  completeAfter = 0;

  constructor(readonly capacity: number) {
    this.slots = new Array<RevisionEvent | undefined>(capacity);
  }

  push(event: RevisionEvent): void {
    if (this.capacity === 0) {
      this.completeAfter = event.revision;
      return;
    }
    if (this.size === this.capacity) {
      this.completeAfter = this.slots[this.head]!.revision;
      this.slots[this.head] = event;
      this.head = (this.head + 1) % this.capacity;
    } else {
      this.slots[(this.head + this.size) % this.capacity] = event;
      this.size++;
    }
  }

  /** Held events with revision > `revision` whose key starts with `prefix`, oldest first. */
  eventsAfter(revision: number, prefix: string): RevisionEvent[] {
    let low = 0;
    let high = this.size;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.at(mid).revision <= revision) low = mid + 1;
      else high = mid;
    }
    const events: RevisionEvent[] = [];
    for (let i = low; i < this.size; i++) {
      const event = this.at(i);
      if (event.key.startsWith(prefix)) events.push(event);
    }
    return events;
  }

  /** Forgets events at or below `revision` (compacted history nobody may watch from). */
  dropThrough(revision: number): void {
    while (this.size > 0 && this.at(0).revision <= revision) {
      this.slots[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.size--;
    }
    this.completeAfter = Math.max(this.completeAfter, revision);
  }

  private at(index: number): RevisionEvent {
    return this.slots[(this.head + index) % this.capacity]!;
  }
}
