/**
 * Watch streams: newline-delimited `{"type","object"}` events from the store's revision log,
 * filtered by selectors with kube's transition rules (an object that stops matching is
 * DELETED for this watcher), with bookmarks, watch-list initial events and 410 on compaction.
 */
import type { KubeObject } from '@canopy/apimachinery';
import { StorageError, type RevisionStore, type StoreEvent } from '../storage/types.js';
import type { ResourceDefinition } from '../registry/types.js';
import type { StreamSink } from './types.js';
import { tableRows, printerOf } from './table.js';
import type { Representation } from './negotiation.js';

export interface WatchRequest {
  def: ResourceDefinition;
  prefix: string;
  /** Only this object (GET .../name?watch or fieldSelector metadata.name=). */
  matches: (object: KubeObject) => boolean;
  /** Start after this revision; undefined → initial ADDED events for the current state first. */
  afterRevision?: number;
  sendInitialEvents: boolean;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
  representation: Representation;
  /** List the current state for initial events (already filtered). */
  listCurrent: () => { items: KubeObject[]; revision: number };
  bookmarkIntervalMs?: number;
  /** Converts stored objects to the served version (resources stored elsewhere); identity otherwise. */
  serve?: (object: KubeObject) => KubeObject;
}

/** Bounded back-pressure: a watcher that falls this far behind is closed and must re-watch, as kube does. */
const MAX_BUFFERED_EVENTS = 20000;

export function runWatch(store: RevisionStore, req: WatchRequest, sink: StreamSink): void {
  let closed = false;
  let handle: { cancel(): void } | undefined;
  let lastRevision = 0;
  let columnsSent = false;
  let behind = 0;
  const timers: NodeJS.Timeout[] = [];

  const release = () => {
    closed = true;
    handle?.cancel();
    for (const t of timers) clearTimeout(t);
  };
  // Events are written in batches after the write that caused them has returned: a PATCH does not
  // wait on hundreds of sockets, and a burst of events costs one TLS write per watcher.
  let pending: string[] = [];
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    if (closed || pending.length === 0) return;
    const chunk = pending.length === 1 ? pending[0] : pending.join('');
    const events = pending.length;
    pending = [];
    if (sink.write(chunk)) behind = 0;
    else if ((behind += events) > MAX_BUFFERED_EVENTS) close();
  };
  const close = () => {
    if (closed) return;
    flush();
    release();
    sink.end();
  };
  sink.onClose(release);

  const encodeObject = (object: KubeObject, cachedJson?: string): string => {
    const rep = req.representation;
    if (rep.kind === 'table') {
      const table = {
        kind: 'Table',
        apiVersion: `meta.k8s.io/${rep.version}`,
        metadata: { resourceVersion: object.metadata.resourceVersion },
        columnDefinitions: columnsSent ? [] : printerOf(req.def).columns,
        rows: tableRows(req.def, [object], rep.includeObject ?? 'Metadata', rep.version),
      };
      columnsSent = true;
      return JSON.stringify(table);
    }
    if (rep.kind === 'partial') {
      return JSON.stringify({ kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${rep.version}`, metadata: object.metadata });
    }
    return cachedJson ?? JSON.stringify(object);
  };

  const send = (type: string, objectJson: string) => {
    if (closed) return;
    pending.push(`{"type":"${type}","object":${objectJson}}\n`);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  const sendBookmark = (revision: number, initialEventsEnd = false) => {
    const kind = req.def.kind;
    const apiVersion = req.def.group ? `${req.def.group}/${req.def.version}` : req.def.version;
    const metadata: Record<string, unknown> = { resourceVersion: String(revision) };
    if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
    send('BOOKMARK', JSON.stringify({ kind, apiVersion, metadata }));
  };

  const serve = req.serve;
  const onEvent = (stored: StoreEvent) => {
    if (closed) return;
    lastRevision = stored.revision;
    // Converted events cannot share the serialisation cached on the store event.
    const event = serve
      ? { ...stored, object: serve(stored.object), prevObject: stored.prevObject && serve(stored.prevObject), json: () => JSON.stringify(serve(stored.object)) }
      : stored;
    const nowMatches = event.type !== 'DELETED' && req.matches(event.object);
    const wasMatching = event.prevObject ? req.matches(event.prevObject) : false;
    let type: string | undefined;
    if (event.type === 'ADDED') type = nowMatches ? 'ADDED' : undefined;
    else if (event.type === 'DELETED') type = wasMatching || req.matches(event.object) ? 'DELETED' : undefined;
    else if (nowMatches) type = wasMatching || !event.prevObject ? 'MODIFIED' : 'ADDED';
    else if (wasMatching && event.prevObject) {
      // Leaving the selection: kube sends the last state this watcher could see, at the new revision.
      const last = { ...event.prevObject, metadata: { ...event.prevObject.metadata, resourceVersion: String(event.revision) } };
      send('DELETED', encodeObject(last));
      return;
    }
    if (!type) return;
    send(type, encodeObject(event.object, req.representation.kind === 'object' ? event.json() : undefined));
  };

  let after = req.afterRevision;
  if (after === undefined) {
    const current = req.listCurrent();
    for (const object of current.items) send('ADDED', encodeObject(object));
    after = current.revision;
    if (req.sendInitialEvents && req.allowBookmarks) sendBookmark(after, true);
  }
  lastRevision = after;
  try {
    handle = store.watch(req.prefix, after, onEvent);
  } catch (err) {
    if (err instanceof StorageError && err.code === 'Compacted') {
      send(
        'ERROR',
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `too old resource version: ${after} (${typeof err.current === 'number' ? err.current : store.compactedRevision()})`,
          reason: 'Expired',
          code: 410,
        }),
      );
      close();
      return;
    }
    throw err;
  }
  if (closed) {
    handle.cancel();
    return;
  }
  const timeoutMs = (req.timeoutSeconds && req.timeoutSeconds > 0 ? req.timeoutSeconds : 1800) * 1000;
  if (req.allowBookmarks) {
    // A bookmark tells the client how far it is up to date even when nothing it watches changed:
    // every interval (a minute, as kube), and shortly before the watch ends so the client can
    // resume from the newest revision.
    const bookmark = () => sendBookmark(Math.max(lastRevision, store.currentRevision()));
    timers.push(setInterval(bookmark, req.bookmarkIntervalMs ?? 60_000));
    if (timeoutMs > 2000) timers.push(setTimeout(bookmark, timeoutMs - 2000));
  }
  timers.push(setTimeout(close, timeoutMs));
}
