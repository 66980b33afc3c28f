/**
 * `metrics.k8s.io/v1beta1` — NodeMetrics and PodMetrics, the resource metrics API that
 * `kubectl top` and the HorizontalPodAutoscaler read. In a cluster metrics-server serves it as an
 * aggregated API; here it is a pair of provided (read-only) resources backed by a
 * MetricsProvider, registered while one is set, so discovery lists the group only when it works.
 */
import { parseQuantity, type KubeObject } from '@canopy/apimachinery';
import { column, nameColumn, nameOf } from '../registry/printing.js';
import type { Printer, ResourceDefinition } from '../registry/types.js';
import type { MetricsProvider } from './node-connector.js';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';

type Usage = { cpu?: string; memory?: string };

function quantityText(value: unknown): string {
  return typeof value === 'string' ? value : '<unknown>';
}

/** Sums container usages of one resource; `<unknown>` when a value is missing or malformed. */
function sum(containers: unknown, resource: 'cpu' | 'memory'): string {
  if (!Array.isArray(containers) || !containers.length) return '0';
  try {
    let total = parseQuantity(0);
    for (const c of containers as Array<{ usage?: Usage }>) total = total.add(parseQuantity(c.usage?.[resource] ?? ''));
    return total.toString();
  } catch {
    return '<unknown>';
  }
}

/** Columns as metrics-server prints them (NAME, CPU, MEMORY, WINDOW). */
const nodeMetricsPrinter: Printer = {
  columns: [
    nameColumn(),
    column('CPU', 'string', 'CPU usage of the node, in cores.'),
    column('Memory', 'string', 'Memory (working set) usage of the node, in bytes.'),
    column('Window', 'string', 'The interval over which the usage was measured.'),
  ],
  cells: (o: KubeObject) => {
    const usage = (o as { usage?: Usage }).usage ?? {};
    return [nameOf(o), quantityText(usage.cpu), quantityText(usage.memory), String((o as { window?: unknown }).window ?? '')];
  },
};

const podMetricsPrinter: Printer = {
  columns: [
    nameColumn(),
    column('CPU', 'string', 'CPU usage of the pod (sum of its containers), in cores.'),
    column('Memory', 'string', 'Memory (working set) usage of the pod (sum of its containers), in bytes.'),
    column('Window', 'string', 'The interval over which the usage was measured.'),
  ],
  cells: (o: KubeObject) => {
    const containers = (o as { containers?: unknown }).containers;
    return [nameOf(o), sum(containers, 'cpu'), sum(containers, 'memory'), String((o as { window?: unknown }).window ?? '')];
  },
};

function metricsDefinition(kind: 'NodeMetrics' | 'PodMetrics', resource: string, namespaced: boolean, list: (namespace?: string) => KubeObject[], printer: Printer): ResourceDefinition {
  return {
    group: METRICS_GROUP,
    version: METRICS_VERSION,
    kind,
    listKind: `${kind}List`,
    resource,
    singular: kind.toLowerCase(),
    namespaced,
    verbs: ['get', 'list'],
    // metrics-server's definition names (k8s.io/metrics); published as open schemas.
    schemaName: `io.k8s.metrics.pkg.apis.metrics.${METRICS_VERSION}.${kind}`,
    selectableFields: {},
    printer,
    provided: { list },
  };
}

/** The metrics.k8s.io resources served from a provider. */
export function metricsResources(provider: MetricsProvider): ResourceDefinition[] {
  return [
    metricsDefinition('NodeMetrics', 'nodes', false, () => provider.nodeMetrics(), nodeMetricsPrinter),
    metricsDefinition('PodMetrics', 'pods', true, (namespace) => provider.podMetrics(namespace), podMetricsPrinter),
  ];
}
