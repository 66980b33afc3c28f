/**
 * The `apps` group: defaults from pkg/apis/apps/v1/defaults.go and validation from
 * pkg/apis/apps/validation plus the apps/v1 selector immutability the registry strategies add.
 */
import { isValidPercent, validateLabelSelectorField, type KubeObject } from '@canopy/apimachinery';
import type { ValidationContext } from '../types.js';
import { defaultPodTemplate, validatePodTemplate } from './pod.js';
import type { KindSemantics } from './types.js';
import {
  asObj,
  asStr,
  Causes,
  defaultPointer,
  defaultString,
  ensureObj,
  goLabelSelector,
  goStringMap,
  intOrPercentValue,
  isUnset,
  objectsOf,
  type Obj,
  selectorIsEmpty,
  selectorMatches,
  semanticEqual,
} from './util.js';

function specOf(object: KubeObject): Obj | undefined {
  return asObj(object.spec);
}

// ---------------------------------------------------------------------------------------------
// Shared rules

/** ValidatePositiveIntOrPercent: a non-negative integer or a percent string. */
export function validateIntOrPercent(c: Causes, value: unknown, path: string): void {
  if (typeof value === 'string') c.each(path, value, isValidPercent(value));
  else if (typeof value === 'number') c.nonNegative(value, path);
  else if (!isUnset(value)) c.invalid(path, value, "must be an integer or percentage (e.g '5%')");
}

export function validateNotMoreThan100Percent(c: Causes, value: unknown, path: string): void {
  if (typeof value === 'string' && isValidPercent(value).length === 0 && intOrPercentValue(value) > 100) {
    c.invalid(path, value, 'must not be greater than 100%');
  }
}

interface TemplateRules {
  /** How the "empty selector" message names the kind (kube's own wording per kind). */
  emptySelectorMessage: string;
  /** The kind named in "activeDeadlineSeconds in X is not Supported". */
  deadlineMessage: string;
  extraVolumes?: Iterable<string>;
}

/**
 * Selector present and non-empty, template labels matched by it, a valid pod template that
 * restarts Always and has no deadline: what every apps controller needs of its spec.
 */
function validateSelectorAndTemplate(c: Causes, spec: Obj, rules: TemplateRules): void {
  const selector = spec.selector;
  if (isUnset(selector)) c.required('spec.selector');
  else {
    c.push(...validateLabelSelectorField(selector, 'spec.selector'));
    const sel = asObj(selector);
    if (sel && selectorIsEmpty(sel)) c.invalidRendered('spec.selector', goLabelSelector(sel), rules.emptySelectorMessage);
  }
  const template = validatePodTemplate(c, spec.template, 'spec.template', rules.extraVolumes);
  if (!template) return;
  const labels = asObj(template.metadata)?.labels;
  const sel = asObj(selector);
  if (sel && !selectorIsEmpty(sel) && selectorMatches(sel, labels) === false) {
    c.invalidRendered('spec.template.metadata.labels', goStringMap(labels), '`selector` does not match template `labels`');
  }
  const podSpec = asObj(template.spec);
  const restartPolicy = asStr(podSpec?.restartPolicy);
  if (restartPolicy !== 'Always') c.notSupported('spec.template.spec.restartPolicy', restartPolicy, ['Always']);
  if (!isUnset(podSpec?.activeDeadlineSeconds))
    c.invalid('spec.template.spec.activeDeadlineSeconds', podSpec?.activeDeadlineSeconds, rules.deadlineMessage);
}

/** apps/v1 forbids changing the selector (the strategies' ValidateUpdate). */
function validateSelectorImmutable(c: Causes, spec: Obj, context: ValidationContext): void {
  const oldSelector = asObj(context.old?.spec)?.selector;
  if (!semanticEqual(spec.selector, oldSelector))
    c.invalidRendered('spec.selector', goLabelSelector(spec.selector), 'field is immutable');
}

function validateCommonCounts(c: Causes, spec: Obj): void {
  c.nonNegative(c.integer(spec, 'replicas', 'spec.replicas'), 'spec.replicas');
  c.nonNegative(c.integer(spec, 'minReadySeconds', 'spec.minReadySeconds'), 'spec.minReadySeconds');
  c.nonNegative(c.integer(spec, 'revisionHistoryLimit', 'spec.revisionHistoryLimit'), 'spec.revisionHistoryLimit');
}

/**
 * Validation shared by the four workload kinds: the scale subresource only carries replicas, the
 * status subresource keeps the spec, and updates keep the selector.
 */
function workloadValidator(validateSpec: (c: Causes, spec: Obj, context: ValidationContext) => void) {
  return (object: KubeObject, context: ValidationContext) => {
    const c = new Causes();
    const spec = c.object(object as Obj, 'spec', 'spec') ?? {};
    if (context.subresource === 'scale') {
      c.nonNegative(c.integer(spec, 'replicas', 'spec.replicas'), 'spec.replicas');
      return c.list;
    }
    if (context.subresource === 'status') return c.list;
    validateSpec(c, spec, context);
    return c.list;
  };
}

// ---------------------------------------------------------------------------------------------
// Deployment

function defaultDeployment(deployment: KubeObject): void {
  const spec = specOf(deployment);
  if (!spec) return;
  defaultPointer(spec, 'replicas', 1);
  const strategy = ensureObj(spec, 'strategy');
  if (strategy) {
    defaultString(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const rollingUpdate = ensureObj(strategy, 'rollingUpdate');
      if (rollingUpdate) {
        defaultPointer(rollingUpdate, 'maxUnavailable', '25%');
        defaultPointer(rollingUpdate, 'maxSurge', '25%');
      }
    }
  }
  defaultPointer(spec, 'revisionHistoryLimit', 10);
  defaultPointer(spec, 'progressDeadlineSeconds', 600);
  defaultPodTemplate(spec.template);
}

function validateDeploymentSpec(c: Causes, spec: Obj, context: ValidationContext): void {
  validateCommonCounts(c, spec);
  validateSelectorAndTemplate(c, spec, {
    emptySelectorMessage: 'empty selector is invalid for deployment',
    deadlineMessage: 'activeDeadlineSeconds in ReplicaSet is not Supported',
  });
  const strategy = c.object(spec, 'strategy', 'spec.strategy') ?? {};
  const type = asStr(strategy.type);
  if (type === 'Recreate') {
    if (!isUnset(strategy.rollingUpdate))
      c.forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'");
  } else if (type === 'RollingUpdate') {
    const rollingUpdate = asObj(strategy.rollingUpdate);
    if (!rollingUpdate) c.required('spec.strategy.rollingUpdate', 'this should be defaulted and never be nil');
    else {
      const at = 'spec.strategy.rollingUpdate';
      validateIntOrPercent(c, rollingUpdate.maxUnavailable, `${at}.maxUnavailable`);
      validateIntOrPercent(c, rollingUpdate.maxSurge, `${at}.maxSurge`);
      if (intOrPercentValue(rollingUpdate.maxUnavailable) === 0 && intOrPercentValue(rollingUpdate.maxSurge) === 0) {
        c.invalid(`${at}.maxUnavailable`, rollingUpdate.maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0');
      }
      validateNotMoreThan100Percent(c, rollingUpdate.maxUnavailable, `${at}.maxUnavailable`);
    }
  } else {
    c.notSupported('spec.strategy.type', type, ['Recreate', 'RollingUpdate']);
  }
  const progressDeadline = c.integer(spec, 'progressDeadlineSeconds', 'spec.progressDeadlineSeconds');
  if (progressDeadline !== undefined) {
    c.nonNegative(progressDeadline, 'spec.progressDeadlineSeconds');
    const minReady = typeof spec.minReadySeconds === 'number' ? spec.minReadySeconds : 0;
    if (progressDeadline <= minReady)
      c.invalid('spec.progressDeadlineSeconds', progressDeadline, 'must be greater than minReadySeconds');
  }
  c.boolean(spec, 'paused', 'spec.paused');
  if (context.old) validateSelectorImmutable(c, spec, context);
}

// ---------------------------------------------------------------------------------------------
// ReplicaSet

function defaultReplicaSet(replicaSet: KubeObject): void {
  const spec = specOf(replicaSet);
  if (!spec) return;
  defaultPointer(spec, 'replicas', 1);
  defaultPodTemplate(spec.template);
}

function validateReplicaSetSpec(c: Causes, spec: Obj, context: ValidationContext): void {
  validateCommonCounts(c, spec);
  validateSelectorAndTemplate(c, spec, {
    emptySelectorMessage: 'empty selector is invalid for deployment',
    deadlineMessage: 'activeDeadlineSeconds in ReplicaSet is not Supported',
  });
  if (context.old) validateSelectorImmutable(c, spec, context);
}

// ---------------------------------------------------------------------------------------------
// StatefulSet

function defaultStatefulSet(statefulSet: KubeObject): void {
  const spec = specOf(statefulSet);
  if (!spec) return;
  defaultString(spec, 'podManagementPolicy', 'OrderedReady');
  const strategy = ensureObj(spec, 'updateStrategy');
  if (strategy) {
    if (isUnset(strategy.type) || strategy.type === '') {
      strategy.type = 'RollingUpdate';
      defaultPointer(strategy, 'rollingUpdate', {});
    }
    const rollingUpdate = asObj(strategy.rollingUpdate);
    if (strategy.type === 'RollingUpdate' && rollingUpdate) defaultPointer(rollingUpdate, 'partition', 0);
  }
  const retention = ensureObj(spec, 'persistentVolumeClaimRetentionPolicy');
  if (retention) {
    defaultString(retention, 'whenDeleted', 'Retain');
    defaultString(retention, 'whenScaled', 'Retain');
  }
  defaultPointer(spec, 'replicas', 1);
  defaultPointer(spec, 'revisionHistoryLimit', 10);
  // Claim templates get PersistentVolumeClaim defaults, status included.
  for (const claim of objectsOf(spec.volumeClaimTemplates)) {
    const claimSpec = asObj(claim.spec);
    if (claimSpec) defaultPointer(claimSpec, 'volumeMode', 'Filesystem');
    const status = ensureObj(claim, 'status');
    if (status) defaultString(status, 'phase', 'Pending');
  }
  defaultPodTemplate(spec.template);
}

const STATEFULSET_UPDATABLE =
  "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

function validateStatefulSetSpec(c: Causes, spec: Obj, context: ValidationContext): void {
  const policy = asStr(spec.podManagementPolicy);
  if (!policy) c.required('spec.podManagementPolicy');
  else if (policy !== 'OrderedReady' && policy !== 'Parallel')
    c.invalid('spec.podManagementPolicy', policy, "must be 'OrderedReady' or 'Parallel'");

  const strategy = c.object(spec, 'updateStrategy', 'spec.updateStrategy') ?? {};
  const strategyType = asStr(strategy.type);
  if (!strategyType) c.required('spec.updateStrategy');
  else if (strategyType === 'OnDelete') {
    if (!isUnset(strategy.rollingUpdate))
      c.invalid('spec.updateStrategy.rollingUpdate', strategy.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'");
  } else if (strategyType === 'RollingUpdate') {
    const rollingUpdate = asObj(strategy.rollingUpdate);
    c.nonNegative(
      c.integer(rollingUpdate, 'partition', 'spec.updateStrategy.rollingUpdate.partition'),
      'spec.updateStrategy.rollingUpdate.partition',
    );
  } else {
    c.invalid('spec.updateStrategy', strategy, "must be 'RollingUpdate' or 'OnDelete'");
  }

  const retention = c.object(spec, 'persistentVolumeClaimRetentionPolicy', 'spec.persistentVolumeClaimRetentionPolicy');
  for (const key of ['whenDeleted', 'whenScaled']) {
    const value = asStr(retention?.[key]);
    if (retention && value !== 'Retain' && value !== 'Delete')
      c.notSupported(`spec.persistentVolumeClaimRetentionPolicy.${key}`, value, ['Retain', 'Delete']);
  }
  const ordinals = c.object(spec, 'ordinals', 'spec.ordinals');
  c.nonNegative(c.integer(ordinals, 'start', 'spec.ordinals.start'), 'spec.ordinals.start');

  validateCommonCounts(c, spec);
  const claimNames: string[] = [];
  for (const [claim, at] of c.objects(spec, 'volumeClaimTemplates', 'spec.volumeClaimTemplates')) {
    const name = asStr(asObj(claim.metadata)?.name);
    if (name) claimNames.push(name);
    const volumeMode = asObj(claim.spec)?.volumeMode;
    if (!isUnset(volumeMode) && volumeMode !== 'Block' && volumeMode !== 'Filesystem')
      c.notSupported(`${at}.spec.volumeMode`, volumeMode, ['Block', 'Filesystem']);
  }
  validateSelectorAndTemplate(c, spec, {
    emptySelectorMessage: 'empty selector is invalid for statefulset',
    deadlineMessage: 'must not be specified',
    extraVolumes: claimNames,
  });

  if (context.old) {
    const old = asObj(context.old.spec) ?? {};
    const mutable = [
      'replicas',
      'ordinals',
      'template',
      'updateStrategy',
      'revisionHistoryLimit',
      'persistentVolumeClaimRetentionPolicy',
      'minReadySeconds',
    ];
    const strip = (value: Obj) => Object.fromEntries(Object.entries(value).filter(([key]) => !mutable.includes(key)));
    if (!semanticEqual(strip(spec), strip(old))) c.forbidden('spec', STATEFULSET_UPDATABLE);
  }
}

// ---------------------------------------------------------------------------------------------
// DaemonSet

function defaultDaemonSet(daemonSet: KubeObject): void {
  const spec = specOf(daemonSet);
  if (!spec) return;
  const strategy = ensureObj(spec, 'updateStrategy');
  if (strategy) {
    defaultString(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const rollingUpdate = ensureObj(strategy, 'rollingUpdate');
      if (rollingUpdate) {
        defaultPointer(rollingUpdate, 'maxUnavailable', 1);
        defaultPointer(rollingUpdate, 'maxSurge', 0);
      }
    }
  }
  defaultPointer(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplate(spec.template);
}

function validateDaemonSetSpec(c: Causes, spec: Obj, context: ValidationContext): void {
  validateSelectorAndTemplate(c, spec, {
    emptySelectorMessage: 'empty selector is invalid for daemonset',
    deadlineMessage: 'activeDeadlineSeconds in DaemonSet is not Supported',
  });
  c.nonNegative(c.integer(spec, 'minReadySeconds', 'spec.minReadySeconds'), 'spec.minReadySeconds');
  c.nonNegative(c.integer(spec, 'templateGeneration', 'spec.templateGeneration'), 'spec.templateGeneration');
  c.nonNegative(c.integer(spec, 'revisionHistoryLimit', 'spec.revisionHistoryLimit'), 'spec.revisionHistoryLimit');
  const strategy = c.object(spec, 'updateStrategy', 'spec.updateStrategy') ?? {};
  const type = asStr(strategy.type);
  if (type === 'RollingUpdate') {
    const rollingUpdate = asObj(strategy.rollingUpdate);
    if (!rollingUpdate) c.required('spec.updateStrategy.rollingUpdate');
    else {
      const at = 'spec.updateStrategy.rollingUpdate';
      validateIntOrPercent(c, rollingUpdate.maxUnavailable, `${at}.maxUnavailable`);
      validateIntOrPercent(c, rollingUpdate.maxSurge, `${at}.maxSurge`);
      validateNotMoreThan100Percent(c, rollingUpdate.maxUnavailable, `${at}.maxUnavailable`);
      validateNotMoreThan100Percent(c, rollingUpdate.maxSurge, `${at}.maxSurge`);
      const hasUnavailable = intOrPercentValue(rollingUpdate.maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(rollingUpdate.maxSurge) !== 0;
      if (hasUnavailable && hasSurge)
        c.invalid(`${at}.maxSurge`, rollingUpdate.maxSurge, 'may not be set when maxUnavailable is non-zero');
      else if (!hasUnavailable && !hasSurge) c.required(`${at}.maxUnavailable`, 'cannot be 0 when maxSurge is 0');
    }
  } else if (type !== 'OnDelete') {
    c.notSupported('spec.updateStrategy', type, ['RollingUpdate', 'OnDelete']);
  }
  if (context.old) validateSelectorImmutable(c, spec, context);
}

// ---------------------------------------------------------------------------------------------
// ControllerRevision

function validateControllerRevision(revision: KubeObject, context: ValidationContext) {
  const c = new Causes();
  const root = revision as Obj;
  if (isUnset(root.data)) c.required('data', 'data is mandatory');
  c.nonNegative(c.integer(root, 'revision', 'revision'), 'revision');
  if (context.old && !semanticEqual(root.data, (context.old as Obj).data))
    c.invalid('data', root.data ?? null, 'field is immutable');
  return c.list;
}

export const appsSemantics: Record<string, KindSemantics> = {
  'apps/Deployment': {
    nameValidation: 'subdomain',
    defaults: defaultDeployment,
    validate: workloadValidator(validateDeploymentSpec),
  },
  'apps/ReplicaSet': {
    nameValidation: 'subdomain',
    defaults: defaultReplicaSet,
    validate: workloadValidator(validateReplicaSetSpec),
  },
  'apps/StatefulSet': {
    nameValidation: 'subdomain',
    defaults: defaultStatefulSet,
    validate: workloadValidator(validateStatefulSetSpec),
  },
  'apps/DaemonSet': {
    nameValidation: 'subdomain',
    defaults: defaultDaemonSet,
    validate: workloadValidator(validateDaemonSetSpec),
  },
  'apps/ControllerRevision': { nameValidation: 'subdomain', validate: validateControllerRevision },
};
