/**
 * The objects a model joins to its rows (ResourceModel.joins): one list per join for a list page,
 * one object for a detail page, read again every join's `refreshMs`. A join that cannot be read
 * (the metrics API absent, or forbidden to the user) leaves its columns empty; nothing fails.
 */
import { useMemo } from 'react';
import { useQueries } from '@tanstack/react-query';
import { api } from './http';
import { clusterPrefix } from '../models/registry';
import type { Join, Joined, K8sObject, ResourceModel, Scope } from '../models/types';

function joinPath(join: Join, scope: Scope, namespace?: string, name?: string): string {
  const base = join.group ? `/apis/${join.group}/${join.version}` : `/api/${join.version}`;
  const ns = join.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${clusterPrefix(scope.cluster)}${base}${ns}/${join.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

const keyOf = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

const NO_JOINS: Join[] = [];

/**
 * What each row joins to. `object`: a detail page's one object (read by name); otherwise the
 * list at the scope (a project's, or the cluster's).
 */
export function useJoins(model: ResourceModel | undefined, scope: Scope, object?: K8sObject): (o: K8sObject) => Joined {
  const joins = model?.joins ?? NO_JOINS;
  const namespace = object ? object.metadata.namespace : scope.namespace;
  const results = useQueries({
    queries: joins.map((join) => {
      const path = joinPath(join, scope, namespace, object?.metadata.name);
      return {
        queryKey: ['join', path],
        queryFn: async ({ signal }: { signal: AbortSignal }) =>
          object
            ? [await api<K8sObject>(path, { signal })]
            : ((await api<{ items?: K8sObject[] }>(path, { signal })).items ?? []),
        refetchInterval: join.refreshMs,
        retry: false,
      };
    }),
  });
  const stamp = results.map((r) => r.dataUpdatedAt).join(',');
  return useMemo(() => {
    const indexes = joins.map((join, i) => {
      const index = new Map<string, K8sObject>();
      for (const o of results[i]?.data ?? [])
        index.set(keyOf(join.namespaced ? o.metadata.namespace : undefined, o.metadata.name), o);
      return index;
    });
    return (o: K8sObject) => {
      const joined: Joined = {};
      joins.forEach((join, i) => {
        joined[join.id] = indexes[i].get(keyOf(join.namespaced ? o.metadata.namespace : undefined, o.metadata.name));
      });
      return joined;
    };
    // `stamp` changes whenever a join's data does.
  }, [joins, stamp]);
}
