/**
 * The HorizontalPodAutoscaler controller (kube's pkg/controller/podautoscaler), for Resource
 * and ContainerResource metrics (cpu, memory) from `metrics.k8s.io` PodMetrics:
 *  - every 15 s (on the controller's clock) each autoscaler reads its target's scale
 *    subresource, the pods its selector matches and their metrics;
 *  - kube's replica calculation: utilization of requests (or average value) against the target,
 *    a 10 % tolerance, pending/unready/missing pods treated as kube treats them, the highest
 *    proposal of all metrics;
 *  - normalization by `behavior` (stabilization windows — 300 s for scale-down by default —
 *    and rate policies) or, without one, kube's legacy rules; then min/max replicas;
 *  - the new size written through the scale subresource, with kube's conditions (AbleToScale,
 *    ScalingActive, ScalingLimited), currentMetrics, events and lastScaleTime.
 */
import { parseLabelSelector, parseQuantity, matchesLabels, type KubeObject } from '@canopy/apimachinery';
import { isConflict, isNotFound, rfc3339, types, WorkQueue, type Informer, type TimerHandle } from '@canopy/client';
import type { Controller, ControllerContext, ControllerFactory } from './context.js';
import { discoverResources, ResourceMapper } from './discovery.js';

const SYNC_PERIOD_MS = 15_000;
const TOLERANCE = 0.1;
/** --horizontal-pod-autoscaler-downscale-stabilization (without behavior, or a scaleDown window unset). */
const DOWNSCALE_STABILIZATION_SECONDS = 300;
const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
const INITIAL_READINESS_DELAY_MS = 30_000;

interface MetricTarget {
  type: 'Utilization' | 'AverageValue' | 'Value';
  averageUtilization?: number;
  averageValue?: string;
  value?: string;
}

interface MetricSpec {
  type: string;
  resource?: { name: string; target: MetricTarget };
  containerResource?: { name: string; container: string; target: MetricTarget };
}

interface ScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: 'Max' | 'Min' | 'Disabled';
  policies?: Array<{ type: 'Pods' | 'Percent'; value: number; periodSeconds: number }>;
}

interface HpaCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

interface HpaStatus {
  observedGeneration?: number;
  lastScaleTime?: string;
  currentReplicas?: number;
  desiredReplicas?: number;
  currentMetrics?: unknown[] | null;
  conditions?: HpaCondition[];
}

type Hpa = KubeObject & {
  spec?: {
    scaleTargetRef: { apiVersion?: string; kind: string; name: string };
    minReplicas?: number;
    maxReplicas: number;
    metrics?: MetricSpec[];
    behavior?: { scaleUp?: ScalingRules; scaleDown?: ScalingRules };
  };
  status?: HpaStatus;
};

interface Scale {
  metadata?: { resourceVersion?: string };
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

type Pod = KubeObject & {
  spec?: { containers?: Array<{ name: string; resources?: { requests?: Record<string, string> } }> };
  status?: { phase?: string; startTime?: string; conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }> };
};

type PodMetrics = KubeObject & { timestamp: string; window: string; containers: Array<{ name: string; usage: Record<string, string> }> };

interface PodMetric {
  value: number;
  timestamp: number;
  windowMs: number;
}

function milli(quantity: string | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  try {
    return parseQuantity(quantity).milliValue();
  } catch {
    return undefined;
  }
}

function parseDuration(window: string): number {
  // metrics-server writes windows as Go durations: "30s", "1m0s", "15.5s".
  let ms = 0;
  for (const [, n, unit] of window.matchAll(/([\d.]+)(ms|s|m|h)/g)) ms += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  return ms;
}

function formatMilli(value: number): string {
  return value % 1000 === 0 ? String(value / 1000) : `${Math.round(value)}m`;
}

class MetricError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

interface Proposal {
  replicas: number;
  metricName: string;
  status: Record<string, unknown>;
}

interface ReplicaEvent {
  change: number;
  at: number;
}

export class HorizontalPodAutoscalerController implements Controller {
  readonly name = 'horizontal-pod-autoscaling';
  private readonly queue: WorkQueue<string>;
  private readonly hpas: Informer<Hpa>;
  private readonly pods: Informer<Pod>;
  private readonly timers = new Map<string, TimerHandle>();
  private readonly recommendations = new Map<string, Array<{ replicas: number; at: number }>>();
  private readonly scaleUpEvents = new Map<string, ReplicaEvent[]>();
  private readonly scaleDownEvents = new Map<string, ReplicaEvent[]>();
  private mapper?: ResourceMapper;

  constructor(private readonly context: ControllerContext) {
    this.queue = new WorkQueue({ log: context.log, name: 'horizontal-pod-autoscaler', maxDelayMs: 30_000 });
    this.hpas = context.informers.for<Hpa>(types.horizontalPodAutoscalers);
    this.pods = context.informers.for<Pod>(types.pods);
    const key = (h: KubeObject) => `${h.metadata.namespace}/${h.metadata.name}`;
    this.hpas.addHandler({
      onAdd: (h) => this.queue.add(key(h)),
      // Our own status writes change nothing the calculation reads.
      onUpdate: (old, h) => JSON.stringify(old.spec) !== JSON.stringify(h.spec) && this.queue.add(key(h)),
      onDelete: (h) => this.forget(key(h)),
    });
  }

  start(): void {
    void Promise.all([this.hpas.waitForSync(), this.pods.waitForSync()]).then(() => this.queue.run((k) => this.sync(k), 2));
  }

  stop(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.queue.shutdown();
  }

  private forget(key: string): void {
    this.timers.get(key)?.cancel();
    this.timers.delete(key);
    this.recommendations.delete(key);
    this.scaleUpEvents.delete(key);
    this.scaleDownEvents.delete(key);
  }

  private async sync(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const hpa = this.hpas.get(key.slice(slash + 1), key.slice(0, slash));
    if (!hpa) return this.forget(key);
    // kube's resync: every autoscaler is reconciled again after the sync period.
    this.timers.get(key)?.cancel();
    this.timers.set(key, this.context.clock.setTimeout(() => this.queue.add(key), SYNC_PERIOD_MS));
    await this.reconcile(key, hpa);
  }

  private async resolveTarget(ref: { apiVersion?: string; kind: string }) {
    let type = this.mapper?.forKind(ref.apiVersion ?? '', ref.kind);
    if (!type) {
      this.mapper = new ResourceMapper(await discoverResources(this.context.client));
      type = this.mapper.forKind(ref.apiVersion ?? '', ref.kind);
    }
    if (!type) throw new Error(`no matches for kind "${ref.kind}" in group "${(ref.apiVersion ?? '').split('/').slice(0, -1).join('/')}"`);
    return type;
  }

  /** kube's reconcileAutoscaler. */
  private async reconcile(key: string, hpa: Hpa): Promise<void> {
    const spec = hpa.spec!;
    const namespace = hpa.metadata.namespace!;
    const conditions = [...(hpa.status?.conditions ?? [])];
    const setCondition = (type: string, status: 'True' | 'False', reason: string, message: string) => {
      const i = conditions.findIndex((c) => c.type === type);
      const previous = i >= 0 ? conditions[i] : undefined;
      const next = { type, status, reason, message, lastTransitionTime: previous && previous.status === status ? previous.lastTransitionTime : rfc3339(this.context.clock.now()) };
      if (i >= 0) conditions[i] = next;
      else conditions.push(next);
    };
    const client = this.context.client;
    let scalePath: string;
    let scale: Scale;
    try {
      const type = await this.resolveTarget(spec.scaleTargetRef);
      scalePath = client.path(type, namespace, spec.scaleTargetRef.name, 'scale');
      scale = await client.request<Scale>({ method: 'GET', path: scalePath });
    } catch (err) {
      setCondition('AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${(err as Error).message}`);
      this.context.events.event(hpa, 'Warning', 'FailedGetScale', (err as Error).message);
      await this.writeStatus(hpa, { currentReplicas: 0, desiredReplicas: 0, ...hpa.status, conditions });
      throw err;
    }
    setCondition('AbleToScale', 'True', 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale');
    const currentReplicas = scale.spec?.replicas ?? 0;
    const minReplicas = spec.minReplicas ?? 1;
    let desiredReplicas = 0;
    let rescale = true;
    let rescaleReason = '';
    let currentMetrics: unknown[] = (hpa.status?.currentMetrics as unknown[] | undefined) ?? [];
    if (currentReplicas === 0 && minReplicas !== 0) {
      desiredReplicas = 0;
      rescale = false;
      setCondition('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (currentReplicas > spec.maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desiredReplicas = spec.maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desiredReplicas = minReplicas;
    } else {
      const computed = await this.computeReplicasForMetrics(hpa, scale, currentReplicas);
      currentMetrics = computed.statuses;
      if (computed.replicas === -1) {
        const error = computed.error ?? new MetricError('InvalidMetricSourceType', 'no metrics to compute the replica count from');
        setCondition('ScalingActive', 'False', error.reason, `the HPA was unable to compute the replica count: ${error.message}`);
        this.context.events.event(hpa, 'Warning', error.reason, error.message);
        this.context.events.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', `invalid metrics (${computed.invalid} invalid out of ${spec.metrics?.length ?? 0}), first error is: ${error.message}`);
        await this.writeStatus(hpa, {
          ...hpa.status,
          observedGeneration: hpa.metadata.generation,
          currentReplicas,
          desiredReplicas: hpa.status?.desiredReplicas ?? 0,
          currentMetrics: currentMetrics.length ? currentMetrics : null,
          conditions,
        });
        return;
      }
      setCondition('ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${computed.metricName}`);
      desiredReplicas = computed.replicas;
      if (desiredReplicas > currentReplicas) rescaleReason = `${computed.metricName} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target';
      desiredReplicas = spec.behavior
        ? this.normalizeWithBehaviors(key, hpa, currentReplicas, desiredReplicas, minReplicas, setCondition)
        : this.normalize(key, hpa, currentReplicas, desiredReplicas, minReplicas, setCondition);
      rescale = desiredReplicas !== currentReplicas;
    }
    const now = this.context.clock.now();
    let lastScaleTime = hpa.status?.lastScaleTime;
    if (rescale) {
      try {
        await client.request({
          method: 'PUT',
          path: scalePath,
          body: JSON.stringify({ ...scale, apiVersion: 'autoscaling/v1', kind: 'Scale', spec: { ...scale.spec, replicas: desiredReplicas } }),
          headers: { 'content-type': 'application/json' },
        });
      } catch (err) {
        this.context.events.event(hpa, 'Warning', 'FailedRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}; error: ${(err as Error).message}`);
        setCondition('AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${(err as Error).message}`);
        await this.writeStatus(hpa, { desiredReplicas: 0, ...hpa.status, currentReplicas, conditions });
        throw err;
      }
      setCondition('AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desiredReplicas}`);
      this.context.events.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}`);
      this.storeScaleEvent(key, hpa, currentReplicas, desiredReplicas, now);
      lastScaleTime = rfc3339(now);
    } else {
      desiredReplicas = currentReplicas;
    }
    await this.writeStatus(hpa, {
      ...hpa.status,
      observedGeneration: hpa.metadata.generation,
      currentReplicas,
      desiredReplicas,
      currentMetrics: currentMetrics.length ? currentMetrics : null,
      conditions,
      ...(lastScaleTime ? { lastScaleTime } : {}),
    });
  }

  private async writeStatus(hpa: Hpa, status: HpaStatus): Promise<void> {
    if (JSON.stringify(status) === JSON.stringify(hpa.status ?? {})) return;
    try {
      await this.context.client.updateStatus(types.horizontalPodAutoscalers, { ...hpa, status });
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
  }

  /** kube's computeReplicasForMetrics: the largest proposal among the valid metrics. */
  private async computeReplicasForMetrics(hpa: Hpa, scale: Scale, currentReplicas: number) {
    const selectorText = scale.status?.selector;
    const metrics = hpa.spec?.metrics ?? [];
    const statuses: unknown[] = [];
    let replicas = 0;
    let metricName = '';
    let invalid = 0;
    let error: MetricError | undefined;
    if (!selectorText) {
      const e = new MetricError('InvalidSelector', 'selector is required');
      return { replicas: -1, statuses, metricName, invalid: metrics.length, error: e };
    }
    const selector = parseLabelSelector(selectorText);
    const pods = this.pods.list(hpa.metadata.namespace).filter((p) => matchesLabels(selector, p.metadata.labels ?? {}));
    for (const metric of metrics) {
      try {
        const proposal = await this.proposalFor(hpa, metric, pods, selectorText, currentReplicas);
        statuses.push(proposal.status);
        if (replicas === 0 || proposal.replicas > replicas) {
          replicas = proposal.replicas;
          metricName = proposal.metricName;
        }
      } catch (err) {
        invalid++;
        error ??= err instanceof MetricError ? err : new MetricError('FailedGetResourceMetric', (err as Error).message);
      }
    }
    // All metrics invalid, or some invalid while the valid ones would scale down: no decision.
    if (invalid >= metrics.length || (invalid > 0 && replicas < currentReplicas)) return { replicas: -1, statuses, metricName, invalid, error };
    return { replicas, statuses, metricName, invalid, error };
  }

  private async proposalFor(hpa: Hpa, metric: MetricSpec, pods: Pod[], selector: string, currentReplicas: number): Promise<Proposal> {
    const source = metric.type === 'Resource' ? metric.resource : metric.type === 'ContainerResource' ? metric.containerResource : undefined;
    if (!source) throw new MetricError('InvalidMetricSourceType', `the HPA cannot compute metrics of type ${metric.type} without a custom or external metrics API`);
    const resource = source.name;
    const container = metric.type === 'ContainerResource' ? metric.containerResource!.container : undefined;
    const reason = container ? 'FailedGetContainerResourceMetric' : 'FailedGetResourceMetric';
    const podMetrics = await this.podMetrics(hpa.metadata.namespace!, selector, resource, container, reason);
    const target = source.target;
    const kind = container ? 'ContainerResource' : 'Resource';
    const key = container ? 'containerResource' : 'resource';
    const ident = container ? { name: resource, container } : { name: resource };
    if (target.type === 'AverageValue' || (target.averageValue !== undefined && target.averageUtilization === undefined)) {
      const targetValue = milli(target.averageValue);
      if (targetValue === undefined) throw new MetricError(reason, 'invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
      const { replicas, usage } = this.plainReplicas(podMetrics, pods, resource, currentReplicas, targetValue, reason);
      return { replicas, metricName: `${resource} resource`, status: { type: kind, [key]: { ...ident, current: { averageValue: formatMilli(usage) } } } };
    }
    if (target.averageUtilization === undefined) throw new MetricError(reason, 'invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
    const { replicas, utilization, raw } = this.utilizationReplicas(podMetrics, pods, resource, container, currentReplicas, target.averageUtilization, reason);
    return {
      replicas,
      metricName: `${resource} resource utilization (percentage of request)`,
      status: { type: kind, [key]: { ...ident, current: { averageValue: formatMilli(raw), averageUtilization: utilization } } },
    };
  }

  /** Per pod, the usage of `resource` (milli-units) summed over its containers (or the one named). */
  private async podMetrics(namespace: string, selector: string, resource: string, container: string | undefined, reason: string): Promise<Map<string, PodMetric>> {
    let list: PodMetrics[];
    try {
      list = (await this.context.client.list<PodMetrics>(types.podMetrics, { namespace, labelSelector: selector })).items;
    } catch (err) {
      throw new MetricError(reason, `unable to get metrics for resource ${resource}: unable to fetch metrics from resource metrics API: ${(err as Error).message}`);
    }
    const out = new Map<string, PodMetric>();
    for (const m of list) {
      let value = 0;
      let found = false;
      for (const c of m.containers ?? []) {
        if (container && c.name !== container) continue;
        const v = milli(c.usage?.[resource]);
        if (v === undefined) continue;
        value += v;
        found = true;
      }
      if (found) out.set(m.metadata.name!, { value, timestamp: Date.parse(m.timestamp), windowMs: parseDuration(m.window ?? '') });
    }
    if (!out.size) throw new MetricError(reason, `unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
    return out;
  }

  /** kube's groupPods. */
  private groupPods(pods: Pod[], metrics: Map<string, PodMetric>, resource: string) {
    const now = this.context.clock.now();
    let ready = 0;
    const unready = new Set<string>();
    const missing = new Set<string>();
    const ignored = new Set<string>();
    for (const pod of pods) {
      const name = pod.metadata.name!;
      if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Failed') {
        ignored.add(name);
        continue;
      }
      if (pod.status?.phase === 'Pending') {
        unready.add(name);
        continue;
      }
      const metric = metrics.get(name);
      if (!metric) {
        missing.add(name);
        continue;
      }
      if (resource === 'cpu') {
        const condition = pod.status?.conditions?.find((c) => c.type === 'Ready');
        const start = pod.status?.startTime ? Date.parse(pod.status.startTime) : undefined;
        let isUnready: boolean;
        if (!condition || start === undefined) isUnready = true;
        else {
          const transition = Date.parse(condition.lastTransitionTime ?? '') || start;
          if (start + CPU_INITIALIZATION_PERIOD_MS > now) {
            // Still initializing: ignored while unready or until a metric window after becoming ready.
            isUnready = condition.status === 'False' || metric.timestamp < transition + metric.windowMs;
          } else {
            // Unready and never been ready.
            isUnready = condition.status === 'False' && start + INITIAL_READINESS_DELAY_MS > transition;
          }
        }
        if (isUnready) {
          unready.add(name);
          continue;
        }
      }
      ready++;
    }
    return { ready, unready, missing, ignored };
  }

  /** kube's GetResourceReplicas. */
  private utilizationReplicas(metricsIn: Map<string, PodMetric>, pods: Pod[], resource: string, container: string | undefined, currentReplicas: number, targetUtilization: number, reason: string) {
    if (!pods.length) throw new MetricError(reason, 'no pods returned by selector while calculating replica count');
    const metrics = new Map([...metricsIn].map(([k, v]) => [k, v.value]));
    const { ready, unready, missing, ignored } = this.groupPods(pods, metricsIn, resource);
    for (const n of [...ignored, ...unready]) metrics.delete(n);
    const requests = new Map<string, number>();
    for (const pod of pods) {
      let total = 0;
      for (const c of pod.spec?.containers ?? []) {
        if (container && c.name !== container) continue;
        const request = milli(c.resources?.requests?.[resource]);
        if (request === undefined) throw new MetricError(reason, `missing request for ${resource} in container ${c.name} of Pod ${pod.metadata.name}`);
        total += request;
      }
      requests.set(pod.metadata.name!, total);
    }
    if (!metrics.size) throw new MetricError(reason, 'did not receive metrics for targeted pods (pods might be unready)');
    const ratioOf = (m: Map<string, number>) => {
      let used = 0;
      let requested = 0;
      let entities = 0;
      for (const [name, value] of m) {
        const request = requests.get(name);
        if (request === undefined) continue;
        used += value;
        requested += request;
        entities++;
      }
      if (requested === 0) throw new MetricError(reason, 'no metrics returned matched known pods');
      const utilization = Math.trunc((used * 100) / requested);
      return { ratio: utilization / targetUtilization, utilization, raw: Math.trunc(used / entities) };
    };
    const { ratio, utilization, raw } = ratioOf(metrics);
    const scaleUpWithUnready = unready.size > 0 && ratio > 1;
    if (!scaleUpWithUnready && !missing.size) {
      if (Math.abs(1 - ratio) <= TOLERANCE) return { replicas: currentReplicas, utilization, raw };
      return { replicas: Math.ceil(ratio * ready), utilization, raw };
    }
    if (missing.size) {
      // Scale-down: missing pods use their full request (or the target above 100 %); scale-up: nothing.
      const fallback = Math.max(100, targetUtilization);
      for (const n of missing) metrics.set(n, ratio < 1 ? ((requests.get(n) ?? 0) * fallback) / 100 : 0);
    }
    if (scaleUpWithUnready) for (const n of unready) metrics.set(n, 0);
    const next = ratioOf(metrics).ratio;
    if (Math.abs(1 - next) <= TOLERANCE || (ratio < 1 && next > 1) || (ratio > 1 && next < 1)) return { replicas: currentReplicas, utilization, raw };
    const replicas = Math.ceil(next * metrics.size);
    if ((next < 1 && replicas > currentReplicas) || (next > 1 && replicas < currentReplicas)) return { replicas: currentReplicas, utilization, raw };
    return { replicas, utilization, raw };
  }

  /** kube's calcPlainMetricReplicas, for averageValue targets. */
  private plainReplicas(metricsIn: Map<string, PodMetric>, pods: Pod[], resource: string, currentReplicas: number, target: number, reason: string) {
    if (!pods.length) throw new MetricError(reason, 'no pods returned by selector while calculating replica count');
    const metrics = new Map([...metricsIn].map(([k, v]) => [k, v.value]));
    const { ready, unready, missing, ignored } = this.groupPods(pods, metricsIn, resource);
    for (const n of [...ignored, ...unready]) metrics.delete(n);
    // Metrics of pods the selector no longer matches do not count.
    const names = new Set(pods.map((p) => p.metadata.name!));
    for (const n of [...metrics.keys()]) if (!names.has(n)) metrics.delete(n);
    if (!metrics.size) throw new MetricError(reason, 'did not receive metrics for targeted pods (pods might be unready)');
    const ratioOf = (m: Map<string, number>) => {
      const usage = [...m.values()].reduce((a, b) => a + b, 0) / m.size;
      return { ratio: usage / target, usage };
    };
    const { ratio, usage } = ratioOf(metrics);
    const scaleUpWithUnready = unready.size > 0 && ratio > 1;
    if (!scaleUpWithUnready && !missing.size) {
      if (Math.abs(1 - ratio) <= TOLERANCE) return { replicas: currentReplicas, usage };
      return { replicas: Math.ceil(ratio * ready), usage };
    }
    for (const n of missing) metrics.set(n, ratio < 1 ? target : 0);
    if (scaleUpWithUnready) for (const n of unready) metrics.set(n, 0);
    const next = ratioOf(metrics).ratio;
    if (Math.abs(1 - next) <= TOLERANCE || (ratio < 1 && next > 1) || (ratio > 1 && next < 1)) return { replicas: currentReplicas, usage };
    const replicas = Math.ceil(next * metrics.size);
    if ((next < 1 && replicas > currentReplicas) || (next > 1 && replicas < currentReplicas)) return { replicas: currentReplicas, usage };
    return { replicas, usage };
  }

  // ---- normalization --------------------------------------------------------------------------

  /** kube's normalizeDesiredReplicas (no behavior): downscale stabilization, then legacy limits. */
  private normalize(key: string, hpa: Hpa, current: number, desired: number, min: number, setCondition: (t: string, s: 'True' | 'False', r: string, m: string) => void): number {
    const now = this.context.clock.now();
    const recs = (this.recommendations.get(key) ?? []).filter((r) => r.at > now - DOWNSCALE_STABILIZATION_SECONDS * 1000);
    const stabilized = Math.max(desired, ...recs.map((r) => r.replicas));
    recs.push({ replicas: desired, at: now });
    this.recommendations.set(key, recs);
    if (stabilized !== desired) setCondition('AbleToScale', 'True', 'ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation');
    else setCondition('AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    const max = hpa.spec!.maxReplicas;
    const scaleUpLimit = Math.max(2 * current, 4);
    let maximum = max;
    let limitReason = 'TooManyReplicas';
    let limitMessage = 'the desired replica count is more than the maximum replica count';
    if (max > scaleUpLimit) {
      maximum = scaleUpLimit;
      limitReason = 'ScaleUpLimit';
      limitMessage = 'the desired replica count is increasing faster than the maximum scale rate';
    }
    let result = stabilized;
    let reason = 'DesiredWithinRange';
    let message = 'the desired count is within the acceptable range';
    if (stabilized < min) {
      result = min;
      reason = 'TooFewReplicas';
      message = 'the desired replica count is less than the minimum replica count';
    } else if (stabilized > maximum) {
      result = maximum;
      reason = limitReason;
      message = limitMessage;
    }
    setCondition('ScalingLimited', result === stabilized ? 'False' : 'True', reason, message);
    return result;
  }

  /** kube's normalizeDesiredReplicasWithBehaviors. */
  private normalizeWithBehaviors(key: string, hpa: Hpa, current: number, desired: number, min: number, setCondition: (t: string, s: 'True' | 'False', r: string, m: string) => void): number {
    const behavior = hpa.spec!.behavior!;
    const up = behavior.scaleUp ?? {};
    const down = behavior.scaleDown ?? {};
    const now = this.context.clock.now();
    const upCutoff = now - (up.stabilizationWindowSeconds ?? 0) * 1000;
    const downCutoff = now - (down.stabilizationWindowSeconds ?? DOWNSCALE_STABILIZATION_SECONDS) * 1000;
    let upRecommendation = desired;
    let downRecommendation = desired;
    const recs = this.recommendations.get(key) ?? [];
    for (const r of recs) {
      if (r.at > upCutoff) upRecommendation = Math.min(r.replicas, upRecommendation);
      if (r.at > downCutoff) downRecommendation = Math.max(r.replicas, downRecommendation);
    }
    let stabilized = current;
    if (stabilized < upRecommendation) stabilized = upRecommendation;
    if (stabilized > downRecommendation) stabilized = downRecommendation;
    const kept = recs.filter((r) => r.at > upCutoff || r.at > downCutoff);
    kept.push({ replicas: desired, at: now });
    this.recommendations.set(key, kept);
    if (stabilized !== desired) {
      if (desired >= current) setCondition('AbleToScale', 'True', 'ScaleUpStabilized', 'recent recommendations were lower than current one, applying the lowest recent recommendation');
      else setCondition('AbleToScale', 'True', 'ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation');
    } else {
      setCondition('AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    }
    const ups = this.scaleUpEvents.get(key) ?? [];
    const downs = this.scaleDownEvents.get(key) ?? [];
    let result = stabilized;
    let reason = 'DesiredWithinRange';
    let message = 'the desired count is within the acceptable range';
    const max = hpa.spec!.maxReplicas;
    if (stabilized > current) {
      const limit = Math.max(current, this.scaleUpLimit(current, ups, downs, up, now));
      let maximum = max;
      reason = 'TooManyReplicas';
      message = 'the desired replica count is more than the maximum replica count';
      if (max > limit) {
        maximum = limit;
        reason = 'ScaleUpLimit';
        message = 'the desired replica count is increasing faster than the maximum scale rate';
      }
      if (stabilized > maximum) result = maximum;
    } else if (stabilized < current) {
      const limit = Math.min(current, this.scaleDownLimit(current, ups, downs, down, now));
      let minimum = min;
      reason = 'TooFewReplicas';
      message = 'the desired replica count is less than the minimum replica count';
      if (min < limit) {
        minimum = limit;
        reason = 'ScaleDownLimit';
        message = 'the desired replica count is decreasing faster than the maximum scale rate';
      }
      if (stabilized < minimum) result = minimum;
    }
    if (result === stabilized) {
      reason = 'DesiredWithinRange';
      message = 'the desired count is within the acceptable range';
    }
    setCondition('ScalingLimited', result === stabilized ? 'False' : 'True', reason, message);
    return result;
  }

  private changeInPeriod(events: ReplicaEvent[], periodSeconds: number, now: number): number {
    return events.filter((e) => e.at > now - periodSeconds * 1000).reduce((a, e) => a + e.change, 0);
  }

  /** kube's calculateScaleUpLimitWithScalingRules. */
  private scaleUpLimit(current: number, ups: ReplicaEvent[], downs: ReplicaEvent[], rules: ScalingRules, now: number): number {
    const select = rules.selectPolicy ?? 'Max';
    if (select === 'Disabled') return current;
    let result = select === 'Min' ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
    for (const p of rules.policies ?? []) {
      const start = current - this.changeInPeriod(ups, p.periodSeconds, now) + this.changeInPeriod(downs, p.periodSeconds, now);
      const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
      result = select === 'Min' ? Math.min(result, proposed) : Math.max(result, proposed);
    }
    return result;
  }

  /** kube's calculateScaleDownLimitWithBehaviors. */
  private scaleDownLimit(current: number, ups: ReplicaEvent[], downs: ReplicaEvent[], rules: ScalingRules, now: number): number {
    const select = rules.selectPolicy ?? 'Max';
    if (select === 'Disabled') return current;
    let result = select === 'Min' ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
    for (const p of rules.policies ?? []) {
      const start = current - this.changeInPeriod(ups, p.periodSeconds, now) + this.changeInPeriod(downs, p.periodSeconds, now);
      const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
      result = select === 'Min' ? Math.max(result, proposed) : Math.min(result, proposed);
    }
    return result;
  }

  /** kube's storeScaleEvent: changes kept for as long as the longest policy period. */
  private storeScaleEvent(key: string, hpa: Hpa, previous: number, next: number, now: number): void {
    const behavior = hpa.spec?.behavior;
    if (!behavior) return;
    const longest = (rules: ScalingRules | undefined) => Math.max(0, ...(rules?.policies ?? []).map((p) => p.periodSeconds));
    if (next > previous) {
      const keep = (this.scaleUpEvents.get(key) ?? []).filter((e) => e.at > now - longest(behavior.scaleUp) * 1000);
      keep.push({ change: next - previous, at: now });
      this.scaleUpEvents.set(key, keep);
    } else {
      const keep = (this.scaleDownEvents.get(key) ?? []).filter((e) => e.at > now - longest(behavior.scaleDown) * 1000);
      keep.push({ change: previous - next, at: now });
      this.scaleDownEvents.set(key, keep);
    }
  }
}

export const horizontalPodAutoscalerController: ControllerFactory = {
  serviceAccount: 'horizontal-pod-autoscaler',
  create: (context) => new HorizontalPodAutoscalerController(context),
};
