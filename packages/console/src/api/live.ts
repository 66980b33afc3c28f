/**
 * Watch events written into the react-query cache of a list page. Changes to objects on the page
 * replace them in place; new objects go on top when the page shows the newest first; deletions
 * leave. Whatever cannot be decided from the event alone (an object entering another page, a
 * server-side filter) marks the page stale, and it is read again at most every two seconds.
 */
import { useEffect, useRef, useState } from 'react';
import { useQueryClient, type QueryKey } from '@tanstack/react-query';
import { kubePath, namespaceOf, type ListParams } from './resources';
import { watchCollection, type WatchEvent } from './watch';
import type { K8sObject, ListResult, ResourceModel, Scope } from '../models/types';

const REFETCH_INTERVAL_MS = 2000;
const ALIAS_ANNOTATION = 'kubesphere.io/alias-name';

export interface EventContext {
  params: ListParams;
  namespace?: string;
  apiVersion: string;
  kind: string;
}

/** Whether the object belongs in the list: true, false, or undefined when a server-side filter decides. */
export function matchesList(object: K8sObject, ctx: EventContext): boolean | undefined {
  if (ctx.namespace && object.metadata.namespace !== ctx.namespace) return false;
  const needle = ctx.params.name?.toLowerCase();
  if (
    needle &&
    !object.metadata.name.toLowerCase().includes(needle) &&
    !(object.metadata.annotations?.[ALIAS_ANNOTATION] ?? '').toLowerCase().includes(needle)
  )
    return false;
  // labelSelector is applied by the watch itself; other filters only the server knows.
  const serverFilters = Object.keys(ctx.params.filters).filter((k) => k !== 'labelSelector');
  return serverFilters.length ? undefined : true;
}

export function applyEvents(
  data: ListResult | undefined,
  events: WatchEvent[],
  ctx: EventContext,
): { data: ListResult | undefined; stale: boolean } {
  if (!data) return { data, stale: false };
  let items = data.items;
  let total = data.totalItems;
  let stale = false;
  let copied = false;
  const writable = () => {
    if (!copied) {
      items = items.slice();
      copied = true;
    }
    return items;
  };
  let index = new Map<string, number>();
  const reindex = () => {
    index = new Map(items.map((o, i) => [o.metadata.uid ?? `${o.metadata.namespace}/${o.metadata.name}`, i]));
  };
  reindex();
  const newestFirstPageOne = ctx.params.page === 1 && ctx.params.sortBy === 'creationTimestamp' && !ctx.params.ascending;
  for (const event of events) {
    const object = { apiVersion: ctx.apiVersion, kind: ctx.kind, ...event.object };
    const key = object.metadata.uid ?? `${object.metadata.namespace}/${object.metadata.name}`;
    const at = index.get(key);
    const matches = matchesList(object, ctx);
    if (event.type === 'DELETED') {
      if (at !== undefined) {
        writable().splice(at, 1);
        reindex();
        total = Math.max(0, total - 1);
        // A later page's first item now belongs on this one.
        if (total > items.length) stale = true;
      } else if (matches !== false) stale = true;
      continue;
    }
    if (at !== undefined) {
      if (matches === false) {
        writable().splice(at, 1);
        reindex();
        total = Math.max(0, total - 1);
        stale = true;
      } else writable()[at] = object;
      continue;
    }
    if (matches === false) continue;
    if (event.type === 'ADDED' && matches === true && newestFirstPageOne) {
      writable().unshift(object);
      total += 1;
      if (ctx.params.limit > 0 && items.length > ctx.params.limit) items.pop();
      reindex();
      continue;
    }
    stale = true;
  }
  return { data: copied || total !== data.totalItems ? { items, totalItems: total } : data, stale };
}

export type LiveState = 'off' | 'live' | 'denied';

/** Keeps a list query current through a watch of its collection while the page is shown. */
export function useLiveList(model: ResourceModel | undefined, scope: Scope, params: ListParams, queryKey: QueryKey): LiveState {
  const client = useQueryClient();
  const [state, setState] = useState<LiveState>('off');
  const current = useRef({ params, queryKey });
  current.current = { params, queryKey };
  const namespace = model ? namespaceOf(model, scope) : undefined;
  const selector = params.filters.labelSelector ?? (model?.listQuery?.(scope).labelSelector || '');
  useEffect(() => {
    if (!model || model.watch === false) return;
    const abort = new AbortController();
    let lastRefetch = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refetchSoon = () => {
      if (timer) return;
      const wait = Math.max(0, lastRefetch + REFETCH_INTERVAL_MS - Date.now());
      timer = setTimeout(() => {
        timer = undefined;
        lastRefetch = Date.now();
        void client.invalidateQueries({ queryKey: current.current.queryKey, exact: true });
      }, wait);
    };
    const apiVersion = model.group ? `${model.group}/${model.version}` : model.version;
    const q = new URLSearchParams();
    if (selector) q.set('labelSelector', selector);
    setState('live');
    void watchCollection(
      kubePath(model, scope.cluster, namespace),
      q,
      {
        onEvents: (events) => {
          let stale = false;
          client.setQueryData<ListResult>(current.current.queryKey, (data) => {
            const result = applyEvents(data, events, { params: current.current.params, namespace, apiVersion, kind: model.kind });
            stale = result.stale;
            return result.data;
          });
          if (stale) refetchSoon();
        },
        onReset: refetchSoon,
        onDenied: () => setState('denied'),
      },
      abort.signal,
    );
    return () => {
      abort.abort();
      clearTimeout(timer);
      setState('off');
    };
  }, [client, model, scope.cluster, namespace, selector]);
  return state;
}
