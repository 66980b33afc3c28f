/**
 * `autoscaling` HorizontalPodAutoscaler (v2): defaults (pkg/apis/autoscaling/v2/defaults.go) and
 * validation (pkg/apis/autoscaling/validation).
 */
import { isValidPathSegmentName, type KubeObject } from '@canopy/apimachinery';
import type { ValidationContext } from '../types.js';
import type { KindSemantics } from './types.js';
import { hpaV1ToV2 } from '../conversions.js';
import { asObj, asStr, Causes, clone, defaultPointer, isUnset, type Obj, quantityNanos } from './util.js';

/** The CPU target an HPA without metrics gets (autoscaling.DefaultCPUUtilization). */
const DEFAULT_CPU_UTILIZATION = 80;
const MAX_STABILIZATION_WINDOW = 3600;
const MAX_PERIOD_SECONDS = 1800;
const METRIC_SOURCES: Record<string, string> = {
  Object: 'object',
  Pods: 'pods',
  Resource: 'resource',
  External: 'external',
  ContainerResource: 'containerResource',
};

const SCALE_UP_DEFAULTS: Obj = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
};
/** scaleDown leaves the stabilization window unset: the controller's flag (5 minutes) applies. */
const SCALE_DOWN_DEFAULTS: Obj = { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };

function defaultScalingRules(behavior: Obj, key: 'scaleUp' | 'scaleDown', defaults: Obj): void {
  const given = behavior[key];
  if (isUnset(given)) {
    behavior[key] = clone(defaults);
    return;
  }
  const rules = asObj(given);
  if (!rules) return;
  for (const [field, value] of Object.entries(defaults)) defaultPointer(rules, field, clone(value));
}

function defaultHorizontalPodAutoscaler(hpa: KubeObject): void {
  const spec = asObj(hpa.spec);
  if (!spec) return;
  defaultPointer(spec, 'minReplicas', 1);
  if (isUnset(spec.metrics) || (Array.isArray(spec.metrics) && spec.metrics.length === 0)) {
    spec.metrics = [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } },
      },
    ];
  }
  // Behavior is only completed when given: an absent behavior means the controller's defaults.
  const behavior = asObj(spec.behavior);
  if (behavior) {
    defaultScalingRules(behavior, 'scaleUp', SCALE_UP_DEFAULTS);
    defaultScalingRules(behavior, 'scaleDown', SCALE_DOWN_DEFAULTS);
  }
}

function validateMetricTarget(c: Causes, target: Obj | undefined, path: string): void {
  const type = asStr(target?.type);
  if (!type) c.required(`${path}.type`, 'must specify a metric target type');
  if (type !== 'Utilization' && type !== 'Value' && type !== 'AverageValue')
    c.invalid(`${path}.type`, type, 'must be either Utilization, Value, or AverageValue');
  for (const key of ['value', 'averageValue']) {
    const value = target?.[key];
    if (isUnset(value)) continue;
    const nanos = quantityNanos(value);
    if (nanos === undefined || nanos <= 0n) c.invalid(`${path}.${key}`, value, 'must be positive');
  }
  const utilization = target?.averageUtilization;
  if (typeof utilization === 'number' && utilization < 1)
    c.invalid(`${path}.averageUtilization`, utilization, 'must be greater than 0');
}

function validateMetric(c: Causes, metric: Obj, at: string): void {
  const type = asStr(metric.type);
  if (!type) c.required(`${at}.type`, 'must specify a metric source type');
  if (!(type in METRIC_SOURCES)) c.notSupported(`${at}.type`, type, Object.keys(METRIC_SOURCES));
  const present = Object.entries(METRIC_SOURCES).filter(([, field]) => !isUnset(metric[field]));
  const expected = METRIC_SOURCES[type];
  if (expected && isUnset(metric[expected]))
    c.required(`${at}.${expected}`, 'must populate information for the given metric source');
  if (present.length > 1) {
    for (const [sourceType, field] of present)
      if (sourceType !== type) c.forbidden(`${at}.${field}`, 'must populate the given metric source only');
  }
  const source = asObj(metric[expected ?? '']);
  if (!source) return;
  if (type === 'Resource' || type === 'ContainerResource') {
    if (!asStr(source.name)) c.required(`${at}.${expected}.name`, 'must specify a resource name');
    if (type === 'ContainerResource' && !asStr(source.container))
      c.required(`${at}.${expected}.container`, 'must specify a container');
  } else if (!asStr(asObj(source.metric)?.name)) {
    c.required(`${at}.${expected}.metric.name`, 'must specify a metric name');
  }
  validateMetricTarget(c, asObj(source.target), `${at}.${expected}.target`);
}

function validateScalingRules(c: Causes, rules: Obj | undefined, path: string): void {
  if (!rules) return;
  const policy = asStr(rules.selectPolicy);
  if (rules.selectPolicy !== undefined && !['Disabled', 'Max', 'Min'].includes(policy))
    c.notSupported(`${path}.selectPolicy`, policy, ['Disabled', 'Max', 'Min']);
  const window = c.integer(rules, 'stabilizationWindowSeconds', `${path}.stabilizationWindowSeconds`);
  if (window !== undefined && window < 0)
    c.invalid(`${path}.stabilizationWindowSeconds`, window, 'must be greater than or equal to zero');
  if (window !== undefined && window > MAX_STABILIZATION_WINDOW) {
    c.invalid(`${path}.stabilizationWindowSeconds`, window, `must be less than or equal to ${MAX_STABILIZATION_WINDOW}`);
  }
  const policies = c.objects(rules, 'policies', `${path}.policies`);
  if (policies.length === 0 && policy !== 'Disabled') c.required(`${path}.policies`, 'must specify at least one Policy');
  for (const [item, at] of policies) {
    const type = asStr(item.type);
    if (type !== 'Percent' && type !== 'Pods') c.notSupported(`${at}.type`, type, ['Percent', 'Pods']);
    const value = typeof item.value === 'number' ? item.value : 0;
    if (value <= 0) c.invalid(`${at}.value`, value, 'must be greater than zero');
    const period = typeof item.periodSeconds === 'number' ? item.periodSeconds : 0;
    if (period <= 0) c.invalid(`${at}.periodSeconds`, period, 'must be greater than zero');
    else if (period > MAX_PERIOD_SECONDS)
      c.invalid(`${at}.periodSeconds`, period, `must be less than or equal to ${MAX_PERIOD_SECONDS}`);
  }
}

function validateHorizontalPodAutoscaler(hpa: KubeObject, context: ValidationContext) {
  const c = new Causes();
  if (context.subresource) return c.list;
  const spec = c.object(hpa as Obj, 'spec', 'spec') ?? {};
  const minReplicas = c.integer(spec, 'minReplicas', 'spec.minReplicas');
  const maxReplicas = c.integer(spec, 'maxReplicas', 'spec.maxReplicas') ?? 0;
  if (minReplicas !== undefined && minReplicas < 1)
    c.invalid('spec.minReplicas', minReplicas, 'must be greater than or equal to 1');
  if (maxReplicas < 1) c.invalid('spec.maxReplicas', maxReplicas, 'must be greater than 0');
  if (minReplicas !== undefined && maxReplicas < minReplicas)
    c.invalid('spec.maxReplicas', maxReplicas, 'must be greater than or equal to `minReplicas`');
  const ref = c.object(spec, 'scaleTargetRef', 'spec.scaleTargetRef') ?? {};
  for (const key of ['kind', 'name']) {
    const value = asStr(ref[key]);
    if (!value) c.required(`spec.scaleTargetRef.${key}`);
    else c.each(`spec.scaleTargetRef.${key}`, value, isValidPathSegmentName(value));
  }
  for (const [metric, at] of c.objects(spec, 'metrics', 'spec.metrics')) validateMetric(c, metric, at);
  const behavior = c.object(spec, 'behavior', 'spec.behavior');
  validateScalingRules(c, asObj(behavior?.scaleUp), 'spec.behavior.scaleUp');
  validateScalingRules(c, asObj(behavior?.scaleDown), 'spec.behavior.scaleDown');
  return c.list;
}

/** autoscaling/v1 defaults (pkg/apis/autoscaling/v1/defaults.go): the CPU default comes with conversion. */
function defaultHorizontalPodAutoscalerV1(hpa: KubeObject): void {
  const spec = asObj(hpa.spec);
  if (spec) defaultPointer(spec, 'minReplicas', 1);
}

/**
 * autoscaling/v1 is validated as kube validates every version, on the internal form: here the
 * autoscaling/v2 object it is stored as, so errors name the same fields kube's do.
 */
function validateHorizontalPodAutoscalerV1(hpa: KubeObject, context: ValidationContext) {
  const old = context.old ? hpaV1ToV2(context.old) : undefined;
  return validateHorizontalPodAutoscaler(hpaV1ToV2(hpa), { ...context, ...(old ? { old } : {}) });
}

export const autoscalingSemantics: Record<string, KindSemantics> = {
  'autoscaling/HorizontalPodAutoscaler': {
    nameValidation: 'subdomain',
    defaults: defaultHorizontalPodAutoscaler,
    validate: validateHorizontalPodAutoscaler,
  },
  'autoscaling/v1/HorizontalPodAutoscaler': {
    nameValidation: 'subdomain',
    defaults: defaultHorizontalPodAutoscalerV1,
    validate: validateHorizontalPodAutoscalerV1,
  },
};
