/**
 * What the overviews read: metrics.k8s.io (NodeMetrics, PodMetrics), polled because metrics are
 * computed on each read and cannot be watched, and why usage may be unavailable. The arithmetic
 * over nodes, pods and metrics is in pod-resources.ts.
 */
import { useQuery } from '@tanstack/react-query';
import { api, isApiError } from './http';
import { clusterPrefix } from '../models/registry';
import type { K8sObject } from '../models/types';

export * from './pod-resources';

// --- metrics.k8s.io ---------------------------------------------------------------------------

const METRICS_API = '/apis/metrics.k8s.io/v1beta1';
/** metrics-server measures over a window and is not watchable: read again this often. */
export const METRICS_REFRESH_MS = 15_000;

export function nodeMetricsPath(cluster: string, name?: string): string {
  return `${clusterPrefix(cluster)}${METRICS_API}/nodes${name ? `/${encodeURIComponent(name)}` : ''}`;
}

export function podMetricsPath(cluster: string, namespace?: string): string {
  return `${clusterPrefix(cluster)}${METRICS_API}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/pods`;
}

/**
 * Why usage cannot be shown: the metrics API is not served here (no metrics-server), the user may
 * not read it, or it failed. Pages say so instead of failing.
 */
export type UsageProblem = 'notServed' | 'forbidden' | 'failed';

export function usageProblem(err: unknown): UsageProblem {
  if (isApiError(err) && err.forbidden) return 'forbidden';
  // 404: the group is not registered; 503: an aggregated metrics API whose backend is down.
  if (isApiError(err) && (err.notFound || err.status === 503)) return 'notServed';
  return 'failed';
}

/** A metrics list, polled; no retries (a refusal is an answer, and the next poll asks again). */
export function useMetricsList(path: string, enabled = true) {
  return useQuery({
    queryKey: ['metrics', path],
    queryFn: ({ signal }) => api<{ items: K8sObject[] }>(path, { signal }).then((l) => l.items ?? []),
    refetchInterval: METRICS_REFRESH_MS,
    retry: false,
    enabled,
  });
}
