/**
 * Live updates: a Kubernetes watch on a collection (`?watch=1`, through the platform front, so
 * authorized by the user's roles), resumed from the last resourceVersion when the server ends
 * it, restarted from a fresh list's resourceVersion on 410 Gone, with bookmarks. Events are
 * delivered in batches (one cache write per batch, not per event: 5,000 pods changing stay cheap).
 */
import { api, isApiError, send } from './http';
import type { K8sObject } from '../models/types';

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: K8sObject;
}

export interface WatchHandlers {
  onEvents(events: WatchEvent[]): void;
  /** The watch could not resume (410 Gone): the list must be read again. */
  onReset(): void;
  /** The user may not watch this collection: live updates stop, the list still works. */
  onDenied?(err: unknown): void;
}

const BATCH_MS = 250;

async function currentResourceVersion(path: string, selector: URLSearchParams, signal: AbortSignal): Promise<string> {
  const q = new URLSearchParams(selector);
  q.set('limit', '1');
  const list = await api<{ metadata?: { resourceVersion?: string } }>(`${path}?${q}`, { signal });
  return list.metadata?.resourceVersion ?? '';
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Watches `path` (a Kubernetes collection path) until `signal` aborts; from `fromResourceVersion`
 * when the caller has just listed the collection (so nothing between its list and the watch is
 * missed), else from now.
 */
export async function watchCollection(
  path: string,
  selector: URLSearchParams,
  handlers: WatchHandlers,
  signal: AbortSignal,
  fromResourceVersion = '',
): Promise<void> {
  let resourceVersion = fromResourceVersion;
  let backoff = 1000;
  let pending: WatchEvent[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    flushTimer = undefined;
    if (!pending.length || signal.aborted) return;
    const batch = pending;
    pending = [];
    handlers.onEvents(batch);
  };
  signal.addEventListener('abort', () => clearTimeout(flushTimer), { once: true });

  while (!signal.aborted) {
    try {
      if (!resourceVersion) resourceVersion = await currentResourceVersion(path, selector, signal);
      const q = new URLSearchParams(selector);
      q.set('watch', '1');
      q.set('allowWatchBookmarks', 'true');
      q.set('timeoutSeconds', String(240 + Math.floor(Math.random() * 120)));
      if (resourceVersion) q.set('resourceVersion', resourceVersion);
      const response = await send(`${path}?${q}`, { signal });
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      backoff = 1000;
      let buffered = '';
      let gone = false;
      while (!gone) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += value;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (!line) continue;
          const event = JSON.parse(line) as { type: string; object: any };
          if (event.type === 'ERROR') {
            // 410 Gone: the resourceVersion is too old to resume from; anything else also restarts from a fresh list.
            gone = true;
            resourceVersion = '';
            pending = [];
            handlers.onReset();
            break;
          }
          const rv = event.object?.metadata?.resourceVersion;
          if (rv) resourceVersion = rv;
          if (event.type === 'BOOKMARK') continue;
          pending.push(event as WatchEvent);
          flushTimer ??= setTimeout(flush, BATCH_MS);
        }
      }
      if (gone) await reader.cancel().catch(() => undefined);
    } catch (err) {
      if (signal.aborted) return;
      if (isApiError(err) && (err.status === 403 || err.status === 404 || err.status === 401)) {
        handlers.onDenied?.(err);
        return;
      }
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, 30_000);
    }
  }
}
