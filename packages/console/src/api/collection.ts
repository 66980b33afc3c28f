/**
 * A collection kept current in the browser as an informer keeps it: listed in pages, then
 * watched from the list's resourceVersion, listed again when the watch cannot resume (410).
 * Each object is reduced to a summary as it arrives (an overview needs a node's health and
 * allocatable, a pod's phase and requests), so thousands of objects cost a few numbers each.
 */
import { useEffect, useState } from 'react';
import { api, isApiError } from './http';
import { watchCollection } from './watch';
import type { K8sObject } from '../models/types';

const PAGE_SIZE = 500;

export type CollectionState = 'loading' | 'ready' | 'error';

export interface WatchedCollection<T> {
  /** Summaries by uid (namespace/name when an object has none). */
  items: ReadonlyMap<string, T>;
  state: CollectionState;
  /** Why the collection could not be read (a 403 for a user without access). */
  error?: unknown;
  /** False once the watch was refused: the figures are those of the last list. */
  live: boolean;
}

const keyOf = (o: K8sObject) => o.metadata.uid ?? `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

async function listAll<T>(
  path: string,
  query: URLSearchParams,
  summarize: (o: K8sObject) => T,
  signal: AbortSignal,
): Promise<{ items: Map<string, T>; resourceVersion: string }> {
  const items = new Map<string, T>();
  let resourceVersion = '';
  let next = '';
  do {
    const q = new URLSearchParams(query);
    q.set('limit', String(PAGE_SIZE));
    if (next) q.set('continue', next);
    const page = await api<{ items?: K8sObject[]; metadata?: { resourceVersion?: string; continue?: string } }>(`${path}?${q}`, {
      signal,
    });
    for (const o of page.items ?? []) items.set(keyOf(o), summarize(o));
    resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    next = page.metadata?.continue ?? '';
  } while (next && !signal.aborted);
  return { items, resourceVersion };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Lists and watches `path` (a Kubernetes collection through the platform front) while mounted.
 * `summarize` must be stable (a module-level function): it is not a dependency of the effect.
 */
export function useWatchedCollection<T>(
  path: string | undefined,
  summarize: (o: K8sObject) => T,
  query = '',
): WatchedCollection<T> {
  const [result, setResult] = useState<WatchedCollection<T>>({ items: new Map(), state: 'loading', live: false });
  useEffect(() => {
    if (!path) return;
    const abort = new AbortController();
    setResult({ items: new Map(), state: 'loading', live: false });
    const selector = new URLSearchParams(query);
    void (async () => {
      let backoff = 1000;
      while (!abort.signal.aborted) {
        let listed: Awaited<ReturnType<typeof listAll<T>>>;
        try {
          listed = await listAll(path, selector, summarize, abort.signal);
        } catch (err) {
          if (abort.signal.aborted) return;
          // A refusal or an unserved collection is final; anything else is tried again.
          if (isApiError(err) && err.status >= 400 && err.status < 500) {
            setResult({ items: new Map(), state: 'error', error: err, live: false });
            return;
          }
          setResult((r) => ({ ...r, state: r.state === 'ready' ? 'ready' : 'error', error: err }));
          await sleep(backoff, abort.signal);
          backoff = Math.min(backoff * 2, 30_000);
          continue;
        }
        backoff = 1000;
        const items = listed.items;
        setResult({ items: new Map(items), state: 'ready', live: true });
        // The watch resumes by itself; only a 410 (onReset) needs a new list, which this loop makes.
        const watch = new AbortController();
        const stop = () => watch.abort();
        abort.signal.addEventListener('abort', stop, { once: true });
        let reset = false;
        await watchCollection(
          path,
          selector,
          {
            onEvents: (events) => {
              for (const e of events) {
                if (e.type === 'DELETED') items.delete(keyOf(e.object));
                else items.set(keyOf(e.object), summarize(e.object));
              }
              setResult({ items: new Map(items), state: 'ready', live: true });
            },
            onReset: () => {
              reset = true;
              watch.abort();
            },
            onDenied: () => setResult((r) => ({ ...r, live: false })),
          },
          watch.signal,
          listed.resourceVersion,
        );
        abort.signal.removeEventListener('abort', stop);
        if (!reset) return;
      }
    })();
    return () => abort.abort();
  }, [path, query]);
  return result;
}
