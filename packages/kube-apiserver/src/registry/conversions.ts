/**
 * Conversions between served representations that share storage. events.k8s.io/v1 Events are
 * stored as core/v1 Events, as kube-apiserver does, so `kubectl get events` and
 * `kubectl events` see the same objects whichever API wrote them; autoscaling/v1
 * HorizontalPodAutoscalers (what kubectl ≤ 1.29 `autoscale` writes) are stored as autoscaling/v2.
 */
import type { KubeObject } from '@canopy/apimachinery';
import type { StorageBinding } from './types.js';

/** events.k8s.io/v1 field ↔ core/v1 field, for the fields whose names differ. */
const RENAMED: Array<[string, string]> = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function rename(object: KubeObject, apiVersion: string, pairs: Array<[string, string]>): KubeObject {
  const out: KubeObject = { ...object, apiVersion, kind: 'Event' };
  for (const [from, to] of pairs) {
    delete out[from];
    if (object[from] !== undefined) out[to] = object[from];
  }
  return out;
}

export const eventsV1Storage: StorageBinding = {
  group: '',
  resource: 'events',
  toStorage: (object) => rename(object, 'v1', RENAMED),
  fromStorage: (object) => rename(object, 'events.k8s.io/v1', RENAMED.map(([a, b]) => [b, a])),
};

// ---- autoscaling/v1 HorizontalPodAutoscaler ⇄ autoscaling/v2 (kube's autoscaling/v1 conversion) ----

/** What autoscaling/v1 cannot express travels in these annotations, as kube keeps it. */
const HPA_METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
const HPA_CURRENT_METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
const HPA_CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
const HPA_BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
/** The CPU target of an autoscaler that states none (autoscaling.DefaultCPUUtilization). */
const DEFAULT_CPU_UTILIZATION = 80;

type Json = Record<string, unknown>;

function asJson(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function parseAnnotation(annotations: Record<string, string>, key: string): unknown {
  const text = annotations[key];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isCpuUtilization(metric: Json, field: 'target' | 'current'): boolean {
  const resource = asJson(metric.resource);
  return metric.type === 'Resource' && resource?.name === 'cpu' && typeof asJson(resource[field])?.averageUtilization === 'number';
}

/** autoscaling/v1 → v2: the CPU target becomes a Resource metric; annotations give back the rest. */
export function hpaV1ToV2(object: KubeObject): KubeObject {
  const annotations = { ...(asJson(asJson(object.metadata)?.annotations) ?? {}) } as Record<string, string>;
  const spec = asJson(object.spec) ?? {};
  const status = asJson(object.status);
  const { targetCPUUtilizationPercentage, ...specRest } = spec;
  const extra = parseAnnotation(annotations, HPA_METRICS_ANNOTATION);
  const metrics: Json[] = [];
  if (typeof targetCPUUtilizationPercentage === 'number') {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: targetCPUUtilizationPercentage } } });
  }
  if (Array.isArray(extra)) metrics.push(...(extra as Json[]));
  if (!metrics.length) metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } });
  const behavior = parseAnnotation(annotations, HPA_BEHAVIOR_ANNOTATION);
  const out: KubeObject = { ...object, apiVersion: 'autoscaling/v2', spec: { ...specRest, metrics, ...(asJson(behavior) ? { behavior } : {}) } };
  if (status) {
    const { currentCPUUtilizationPercentage, ...statusRest } = status;
    const currentMetrics: Json[] = [];
    if (typeof currentCPUUtilizationPercentage === 'number') {
      currentMetrics.push({ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: currentCPUUtilizationPercentage } } });
    }
    const extraCurrent = parseAnnotation(annotations, HPA_CURRENT_METRICS_ANNOTATION);
    if (Array.isArray(extraCurrent)) currentMetrics.push(...(extraCurrent as Json[]));
    const conditions = parseAnnotation(annotations, HPA_CONDITIONS_ANNOTATION);
    out.status = {
      ...statusRest,
      desiredReplicas: statusRest.desiredReplicas ?? 0,
      ...(currentMetrics.length ? { currentMetrics } : {}),
      ...(Array.isArray(conditions) ? { conditions } : {}),
    };
  }
  for (const key of [HPA_METRICS_ANNOTATION, HPA_CURRENT_METRICS_ANNOTATION, HPA_CONDITIONS_ANNOTATION, HPA_BEHAVIOR_ANNOTATION]) delete annotations[key];
  out.metadata = { ...(asJson(object.metadata) ?? {}), annotations };
  if (!Object.keys(annotations).length) delete out.metadata.annotations;
  return out;
}

/** autoscaling/v2 → v1: the CPU utilization metric is the target; everything else goes into annotations. */
export function hpaV2ToV1(object: KubeObject): KubeObject {
  const annotations = { ...(asJson(asJson(object.metadata)?.annotations) ?? {}) } as Record<string, string>;
  const spec = asJson(object.spec) ?? {};
  const status = asJson(object.status);
  const { metrics, behavior, ...specRest } = spec;
  const list = Array.isArray(metrics) ? (metrics as Json[]) : [];
  const cpu = list.find((m) => isCpuUtilization(m, 'target'));
  const others = list.filter((m) => m !== cpu);
  if (others.length) annotations[HPA_METRICS_ANNOTATION] = JSON.stringify(others);
  if (asJson(behavior)) annotations[HPA_BEHAVIOR_ANNOTATION] = JSON.stringify(behavior);
  const out: KubeObject = { ...object, apiVersion: 'autoscaling/v1', spec: { ...specRest, ...(cpu ? { targetCPUUtilizationPercentage: asJson(asJson(cpu.resource)?.target)?.averageUtilization } : {}) } };
  if (status) {
    const { currentMetrics, conditions, ...statusRest } = status;
    const current = Array.isArray(currentMetrics) ? (currentMetrics as Json[]) : [];
    const cpuCurrent = current.find((m) => isCpuUtilization(m, 'current'));
    const otherCurrent = current.filter((m) => m !== cpuCurrent);
    if (otherCurrent.length) annotations[HPA_CURRENT_METRICS_ANNOTATION] = JSON.stringify(otherCurrent);
    if (Array.isArray(conditions) && conditions.length) annotations[HPA_CONDITIONS_ANNOTATION] = JSON.stringify(conditions);
    out.status = {
      ...statusRest,
      ...(cpuCurrent ? { currentCPUUtilizationPercentage: asJson(asJson(cpuCurrent.resource)?.current)?.averageUtilization } : {}),
    };
  }
  out.metadata = { ...(asJson(object.metadata) ?? {}), ...(Object.keys(annotations).length ? { annotations } : {}) };
  if (!Object.keys(annotations).length) delete out.metadata.annotations;
  return out;
}

/** autoscaling/v1 HorizontalPodAutoscalers are stored as autoscaling/v2 ones. */
export const horizontalPodAutoscalerV1Storage: StorageBinding = {
  group: 'autoscaling',
  resource: 'horizontalpodautoscalers',
  toStorage: hpaV1ToV2,
  fromStorage: hpaV2ToV1,
};
