/**
 * Lists and objects of any model. Lists go through the resources API (`{items, totalItems}` with
 * KubeSphere's filters, sorting and paging) or a model's own endpoints; objects are read from the
 * Kubernetes API through the platform front, which authorizes both with the user's roles.
 */
import { api, isApiError } from './http';
import { clusterPrefix, RESOURCES_API } from '../models/registry';
import type { K8sObject, ListResult, ResourceModel, Scope } from '../models/types';

export interface ListParams {
  name?: string;
  sortBy: 'creationTimestamp' | 'name';
  ascending: boolean;
  page: number;
  limit: number;
  /** Other resources API query keys (choice filters, relations: ownerReference, nodeName…). */
  filters: Record<string, string>;
}

export const DEFAULT_LIST_PARAMS: ListParams = { sortBy: 'creationTimestamp', ascending: false, page: 1, limit: 20, filters: {} };

/** The namespace a list or object lives in at this scope: a project's, or all (cluster-wide). */
export function namespaceOf(model: ResourceModel, scope: Scope): string | undefined {
  return model.namespaced && scope.namespace ? scope.namespace : undefined;
}

/** The Kubernetes API path of a collection or an object. */
export function kubePath(model: ResourceModel, cluster: string, namespace?: string, name?: string): string {
  const base = model.group ? `/apis/${model.group}/${model.version}` : `/api/${model.version}`;
  const ns = model.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${clusterPrefix(cluster)}${base}${ns}/${model.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

export function resourcesApiPath(model: ResourceModel, scope: Scope): string {
  const ns = namespaceOf(model, scope);
  return `${clusterPrefix(scope.cluster)}${RESOURCES_API}${ns ? `/namespaces/${encodeURIComponent(ns)}` : ''}/${model.plural}`;
}

export function listQueryKey(model: ResourceModel, scope: Scope, params: ListParams): unknown[] {
  return ['list', model.key, scope.cluster, scope.workspace ?? '', namespaceOf(model, scope) ?? '', params];
}

export function objectQueryKey(model: ResourceModel, scope: Scope, namespace: string | undefined, name: string): unknown[] {
  return ['object', model.key, scope.cluster, namespace ?? '', name];
}

function groupOf(apiVersion: string | undefined): string {
  return apiVersion && apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
}

/** Which of a model's list endpoints answered last time (the others are not served yet). */
const workingPath = new Map<string, string>();
/** Models whose plural the resources API resolves to another group: listed from Kubernetes instead. */
const listFromKube = new Set<string>();

function toQuery(params: ListParams, extra: Record<string, string>): URLSearchParams {
  const q = new URLSearchParams({ ...extra, ...params.filters });
  if (params.name) q.set('name', params.name);
  q.set('sortBy', params.sortBy);
  q.set('ascending', String(params.ascending));
  q.set('page', String(params.page));
  q.set('limit', String(params.limit));
  return q;
}

/** Name filter, sorting and paging done here, as the resources API would, for lists read from Kubernetes. */
function pageLocally(items: K8sObject[], params: ListParams): ListResult {
  const needle = params.name?.toLowerCase();
  let out = needle ? items.filter((o) => o.metadata.name.toLowerCase().includes(needle)) : items;
  const byName = (a: K8sObject, b: K8sObject) => a.metadata.name.localeCompare(b.metadata.name);
  out = [...out].sort((a, b) =>
    params.sortBy === 'name'
      ? byName(a, b)
      : (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || byName(a, b),
  );
  if (!params.ascending) out.reverse();
  const start = (params.page - 1) * params.limit;
  return { items: params.limit > 0 ? out.slice(start, start + params.limit) : out, totalItems: out.length };
}

async function listFromKubernetes(
  model: ResourceModel,
  scope: Scope,
  params: ListParams,
  extra: Record<string, string>,
  signal?: AbortSignal,
): Promise<ListResult> {
  const q = new URLSearchParams();
  const selector = params.filters.labelSelector ?? extra.labelSelector;
  if (selector) q.set('labelSelector', selector);
  const list = await api<{ items: K8sObject[] }>(
    `${kubePath(model, scope.cluster, namespaceOf(model, scope))}${q.size ? `?${q}` : ''}`,
    { signal },
  );
  const apiVersion = model.group ? `${model.group}/${model.version}` : model.version;
  return pageLocally(
    list.items.map((o) => ({ apiVersion, kind: model.kind, ...o })),
    params,
  );
}

export async function fetchList(
  model: ResourceModel,
  scope: Scope,
  params: ListParams,
  signal?: AbortSignal,
): Promise<ListResult> {
  const extra = model.listQuery?.(scope) ?? {};
  if (listFromKube.has(model.key)) return listFromKubernetes(model, scope, params, extra, signal);
  const candidates = model.listPaths?.(scope) ?? [resourcesApiPath(model, scope)];
  const remembered = workingPath.get(model.key);
  const ordered =
    remembered && candidates.includes(remembered) ? [remembered, ...candidates.filter((c) => c !== remembered)] : candidates;
  let lastError: unknown;
  for (const path of ordered) {
    try {
      const result = await api<ListResult>(`${path}?${toQuery(params, extra)}`, { signal });
      workingPath.set(model.key, path);
      const items = result.items ?? [];
      // The resources API resolves a plural to one group; a CRD sharing a built-in plural is listed from Kubernetes.
      if (!model.listPaths && items.length && groupOf(items[0].apiVersion) !== model.group) {
        listFromKube.add(model.key);
        return listFromKubernetes(model, scope, params, extra, signal);
      }
      return { items, totalItems: result.totalItems ?? items.length };
    } catch (err) {
      lastError = err;
      // 404: this endpoint is not served (yet); try the next one.
      if (!(isApiError(err) && err.notFound)) throw err;
    }
  }
  throw lastError;
}

export function fetchObject(
  model: ResourceModel,
  scope: Scope,
  namespace: string | undefined,
  name: string,
  signal?: AbortSignal,
): Promise<K8sObject> {
  const path = model.getPath?.(name, scope) ?? kubePath(model, scope.cluster, namespace, name);
  const apiVersion = model.group ? `${model.group}/${model.version}` : model.version;
  return api<K8sObject>(path, { signal }).then((o) => ({ apiVersion, kind: model.kind, ...o }));
}

/** Total count of a kind at a scope (overview cards): one item asked for, totalItems read. */
export async function countOf(model: ResourceModel, scope: Scope, filters: Record<string, string> = {}): Promise<number> {
  const result = await fetchList(model, scope, { ...DEFAULT_LIST_PARAMS, limit: 1, filters });
  return result.totalItems;
}
