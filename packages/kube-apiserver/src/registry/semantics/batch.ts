/**
 * The `batch` group: Job and CronJob defaults (pkg/apis/batch/v1/defaults.go), the Job
 * strategy's generated selector (pkg/registry/batch/job/strategy.go) and batch validation,
 * including the cron schedule syntax of robfig/cron's standard parser.
 */
import { isDNS1123Label, validateLabelSelectorField, type KubeObject } from '@canopy/apimachinery';
import type { ValidationContext } from '../types.js';
import { defaultPodTemplate, validatePodTemplate } from './pod.js';
import type { KindSemantics } from './types.js';
import {
  asObj,
  asStr,
  Causes,
  clone,
  defaultPointer,
  defaultString,
  ensureObj,
  goLabelSelector,
  goStringMap,
  isUnset,
  type Obj,
  selectorMatches,
  semanticEqual,
} from './util.js';

export const LEGACY_JOB_NAME_LABEL = 'job-name';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
const MAX_PARALLELISM_FOR_INDEXED_JOB = 100000;
const MAX_INT32 = 2147483647;

// ---------------------------------------------------------------------------------------------
// Job

function defaultJobSpec(spec: Obj): void {
  // A job with neither completions nor parallelism runs one pod to completion.
  if (isUnset(spec.completions) && isUnset(spec.parallelism)) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  defaultPointer(spec, 'parallelism', 1);
  defaultPointer(spec, 'backoffLimit', isUnset(spec.backoffLimitPerIndex) ? 6 : MAX_INT32);
  defaultPointer(spec, 'completionMode', 'NonIndexed');
  defaultPointer(spec, 'suspend', false);
  const failurePolicy = asObj(spec.podFailurePolicy);
  for (const rule of Array.isArray(failurePolicy?.rules) ? failurePolicy.rules : []) {
    const conditions = asObj(rule)?.onPodConditions;
    for (const pattern of Array.isArray(conditions) ? conditions : []) {
      const p = asObj(pattern);
      if (p) defaultString(p, 'status', 'True');
    }
  }
  defaultPointer(spec, 'podReplacementPolicy', failurePolicy ? 'Failed' : 'TerminatingOrFailed');
}

/** SetDefaults_Job: a Job without labels takes its template's. */
function defaultJobLabels(job: KubeObject): void {
  const templateLabels = asObj(asObj(asObj(asObj(job.spec)?.template)?.metadata)?.labels);
  const meta = asObj(job.metadata);
  if (!meta || !templateLabels) return;
  const labels = meta.labels;
  if (isUnset(labels) || (asObj(labels) && Object.keys(asObj(labels) ?? {}).length === 0)) meta.labels = { ...templateLabels };
}

function defaultJob(job: KubeObject): void {
  const spec = asObj(job.spec);
  if (!spec) return;
  defaultJobSpec(spec);
  defaultJobLabels(job);
  defaultPodTemplate(spec.template);
}

/**
 * generateSelector: unless the user manages the selector, pods get the job's name and uid as
 * labels and the selector picks the uid. Then the Job's own labels default again, as they do
 * when kube-apiserver decodes the stored object, so a Job created without labels carries these.
 */
function prepareJobForCreate(job: KubeObject): void {
  const spec = asObj(job.spec);
  const meta = asObj(job.metadata);
  if (!spec || !meta || spec.manualSelector === true) return;
  const template = ensureObj(spec, 'template');
  const templateMeta = template && ensureObj(template, 'metadata');
  const labels = templateMeta && ensureObj(templateMeta, 'labels');
  if (!labels) return;
  const name = asStr(meta.name);
  const uid = asStr(meta.uid);
  for (const key of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (!(key in labels)) labels[key] = name;
  for (const key of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) if (!(key in labels)) labels[key] = uid;
  const selector = ensureObj(spec, 'selector');
  const matchLabels = selector && ensureObj(selector, 'matchLabels');
  if (matchLabels && !(CONTROLLER_UID_LABEL in matchLabels)) matchLabels[CONTROLLER_UID_LABEL] = uid;
  defaultJobLabels(job);
}

/** validateJobSpec: everything but the selector, shared with CronJob job templates at `path`. */
function validateJobSpecBody(c: Causes, spec: Obj, path: string): void {
  for (const key of [
    'parallelism',
    'completions',
    'activeDeadlineSeconds',
    'backoffLimit',
    'ttlSecondsAfterFinished',
    'backoffLimitPerIndex',
    'maxFailedIndexes',
  ]) {
    c.nonNegative(c.integer(spec, key, `${path}.${key}`), `${path}.${key}`);
  }
  const mode = c.string(spec, 'completionMode', `${path}.completionMode`);
  if (mode !== undefined) {
    if (mode !== 'NonIndexed' && mode !== 'Indexed') c.notSupported(`${path}.completionMode`, mode, ['NonIndexed', 'Indexed']);
    if (mode === 'Indexed') {
      if (isUnset(spec.completions)) c.required(`${path}.completions`, 'when completion mode is Indexed');
      const parallelism = spec.parallelism;
      if (typeof parallelism === 'number' && parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB) {
        c.invalid(
          `${path}.parallelism`,
          parallelism,
          `must be less than or equal to ${MAX_PARALLELISM_FOR_INDEXED_JOB} when completion mode is Indexed`,
        );
      }
    } else if (!isUnset(spec.backoffLimitPerIndex)) {
      c.required(`${path}.completionMode`, 'when backoffLimitPerIndex is set, completionMode must be Indexed');
    }
  }
  const replacement = c.string(spec, 'podReplacementPolicy', `${path}.podReplacementPolicy`);
  if (replacement !== undefined) {
    if (replacement !== 'TerminatingOrFailed' && replacement !== 'Failed') {
      c.notSupported(`${path}.podReplacementPolicy`, replacement, ['TerminatingOrFailed', 'Failed']);
    } else if (replacement !== 'Failed' && !isUnset(spec.podFailurePolicy)) {
      c.notSupported(`${path}.podReplacementPolicy`, replacement, ['Failed']);
    }
  }
  c.boolean(spec, 'suspend', `${path}.suspend`);
  c.boolean(spec, 'manualSelector', `${path}.manualSelector`);
  const template = validatePodTemplate(c, spec.template, `${path}.template`);
  const restartPolicy = asStr(asObj(template?.spec)?.restartPolicy);
  if (template && restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    c.notSupported(`${path}.template.spec.restartPolicy`, restartPolicy, ['OnFailure', 'Never']);
  }
}

/** ValidateHasLabel: the generated selector only works if the template kept the generated labels. */
function validateHasLabel(c: Causes, labels: Obj | undefined, key: string, expected: string): void {
  const at = `spec.template.metadata.labels[${key}]`;
  if (!labels || !(key in labels)) c.required(at, expected);
  else if (labels[key] !== expected) c.invalidRendered(at, goStringMap(labels), `must be '${expected}'`);
}

function validateJob(job: KubeObject, context: ValidationContext) {
  const c = new Causes();
  if (context.subresource) return c.list;
  const spec = c.object(job as Obj, 'spec', 'spec') ?? {};
  const meta = asObj(job.metadata) ?? {};
  validateJobSpecBody(c, spec, 'spec');

  const selector = spec.selector;
  if (isUnset(selector)) c.required('spec.selector');
  else c.push(...validateLabelSelectorField(selector, 'spec.selector'));
  const templateLabels = asObj(asObj(asObj(spec.template)?.metadata)?.labels);
  if (selectorMatches(selector, templateLabels) === false) {
    c.invalidRendered(
      'spec.template.metadata.labels',
      goStringMap(templateLabels),
      '`selector` does not match template `labels`',
    );
  }

  const uid = asStr(meta.uid);
  if (!context.old && spec.manualSelector !== true && uid) {
    if (!templateLabels) c.required('spec.template.metadata.labels');
    validateHasLabel(c, templateLabels, LEGACY_CONTROLLER_UID_LABEL, uid);
    validateHasLabel(c, templateLabels, LEGACY_JOB_NAME_LABEL, asStr(meta.name));
    validateHasLabel(c, templateLabels, CONTROLLER_UID_LABEL, uid);
    validateHasLabel(c, templateLabels, JOB_NAME_LABEL, asStr(meta.name));
  }

  const completions = spec.completions;
  if (spec.completionMode === 'Indexed' && typeof completions === 'number' && completions > 0) {
    // Pods of an indexed Job are named (and get a hostname) `<job>-<index>`.
    const hostname = `${asStr(meta.name)}-${completions - 1}`;
    if (isDNS1123Label(hostname).length > 0) {
      c.invalid('metadata.name', asStr(meta.name), `will not able to create pod with invalid DNS label: ${hostname}`);
    }
  }

  if (context.old) {
    const old = asObj(context.old.spec) ?? {};
    if (spec.completionMode !== 'Indexed' && !semanticEqual(spec.completions, old.completions))
      c.invalid('spec.completions', spec.completions ?? null, 'field is immutable');
    else if (
      spec.completionMode === 'Indexed' &&
      !semanticEqual(spec.completions, old.completions) &&
      spec.completions !== spec.parallelism
    ) {
      c.invalid('spec.completions', spec.completions ?? null, 'can only be modified in tandem with spec.parallelism');
    }
    if (!semanticEqual(spec.selector, old.selector))
      c.invalidRendered('spec.selector', goLabelSelector(spec.selector), 'field is immutable');
    for (const key of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy']) {
      if (!semanticEqual(spec[key], old[key])) c.invalid(`spec.${key}`, spec[key] ?? null, 'field is immutable');
    }
    validateJobTemplateUpdate(c, spec, old, asObj(context.old.status));
  }
  return c.list;
}

/**
 * A Job's pod template is immutable, except that a suspended Job that never started may change
 * its scheduling directives (node affinity, node selector, tolerations, scheduling gates) and
 * the template's labels and annotations.
 */
function validateJobTemplateUpdate(c: Causes, spec: Obj, old: Obj, oldStatus: Obj | undefined): void {
  const template = asObj(spec.template) ?? {};
  const oldTemplate = clone(asObj(old.template) ?? {});
  if (old.suspend === true && isUnset(oldStatus?.startTime)) {
    const podSpec = asObj(template.spec) ?? {};
    const oldMeta = ensureObj(oldTemplate, 'metadata');
    const oldPodSpec = ensureObj(oldTemplate, 'spec');
    if (oldMeta && oldPodSpec) {
      const meta = asObj(template.metadata) ?? {};
      oldMeta.labels = meta.labels;
      oldMeta.annotations = meta.annotations;
      oldPodSpec.nodeSelector = podSpec.nodeSelector;
      oldPodSpec.tolerations = podSpec.tolerations;
      oldPodSpec.schedulingGates = podSpec.schedulingGates;
      const affinity = asObj(podSpec.affinity);
      const oldAffinity = asObj(oldPodSpec.affinity);
      if (!affinity && oldAffinity) {
        delete oldAffinity.nodeAffinity;
        if (Object.keys(oldAffinity).length === 0) delete oldPodSpec.affinity;
      } else if (affinity && !oldAffinity) oldPodSpec.affinity = { nodeAffinity: affinity.nodeAffinity };
      else if (affinity && oldAffinity) oldAffinity.nodeAffinity = affinity.nodeAffinity;
    }
  }
  if (!semanticEqual(template, oldTemplate)) c.invalid('spec.template', template, 'field is immutable');
}

// ---------------------------------------------------------------------------------------------
// Cron schedules (robfig/cron/v3 ParseStandard: five fields or a descriptor)

interface CronBounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTH_NAMES: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};
const DOW_NAMES: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const CRON_FIELDS: CronBounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTH_NAMES },
  { min: 0, max: 6, names: DOW_NAMES },
];
const CRON_DESCRIPTORS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** strconv.Atoi plus robfig's non-negative check, with their error texts. */
function parseCronInt(expr: string): number | string {
  if (!/^[+-]?[0-9]+$/.test(expr))
    return `failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: invalid syntax`;
  const n = Number(expr);
  if (n < 0) return `negative number (${n}) not allowed: ${expr}`;
  return n;
}

function cronRangeError(expr: string, bounds: CronBounds): string | undefined {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0].split('-');
  const single = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = bounds.min;
    end = bounds.max;
  } else {
    const named = (text: string) => bounds.names?.[text.toLowerCase()] ?? parseCronInt(text);
    const low = named(lowAndHigh[0]);
    if (typeof low === 'string') return low;
    start = low;
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) {
      const high = named(lowAndHigh[1]);
      if (typeof high === 'string') return high;
      end = high;
    } else return `too many hyphens: ${expr}`;
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    const parsed = parseCronInt(rangeAndStep[1]);
    if (typeof parsed === 'string') return parsed;
    step = parsed;
    // "N/step" means "N-max/step".
    if (single) end = bounds.max;
  } else if (rangeAndStep.length > 2) return `too many slashes: ${expr}`;
  if (start < bounds.min) return `beginning of range (${start}) below minimum (${bounds.min}): ${expr}`;
  if (end > bounds.max) return `end of range (${end}) above maximum (${bounds.max}): ${expr}`;
  if (start > end) return `beginning of range (${start}) beyond end of range (${end}): ${expr}`;
  if (step === 0) return `step of range should be a positive number: ${expr}`;
  return undefined;
}

function isGoDuration(text: string): boolean {
  return /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$/.test(text) || text === '0';
}

function isKnownTimeZone(zone: string): boolean {
  if (zone === 'Local' || zone === 'UTC' || zone === '') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The error robfig/cron's standard parser gives for a schedule, or undefined when it parses. */
export function cronScheduleError(schedule: string): string | undefined {
  let spec = schedule;
  if (spec.length === 0) return 'empty spec string';
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const space = spec.indexOf(' ');
    const zone = spec.slice(spec.indexOf('=') + 1, space < 0 ? spec.length : space);
    if (!isKnownTimeZone(zone)) return `provided bad location ${zone}: unknown time zone ${zone}`;
    spec = space < 0 ? '' : spec.slice(space).trim();
  }
  if (spec.startsWith('@')) {
    if (CRON_DESCRIPTORS.includes(spec)) return undefined;
    if (spec.startsWith('@every ')) {
      const duration = spec.slice('@every '.length);
      return isGoDuration(duration)
        ? undefined
        : `failed to parse duration ${spec}: time: invalid duration ${JSON.stringify(duration)}`;
    }
    return `unrecognized descriptor: ${spec}`;
  }
  const fields = spec.split(/\s+/).filter((f) => f.length > 0);
  if (fields.length !== CRON_FIELDS.length) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  for (let i = 0; i < fields.length; i++) {
    for (const part of fields[i].split(',')) {
      const error = cronRangeError(part, CRON_FIELDS[i]);
      if (error) return error;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// CronJob

function defaultCronJob(cronJob: KubeObject): void {
  const spec = asObj(cronJob.spec);
  if (!spec) return;
  defaultString(spec, 'concurrencyPolicy', 'Allow');
  defaultPointer(spec, 'suspend', false);
  defaultPointer(spec, 'successfulJobsHistoryLimit', 3);
  defaultPointer(spec, 'failedJobsHistoryLimit', 1);
  // Only the pod template inside the job template is defaulted: SetDefaults_Job applies to Jobs.
  defaultPodTemplate(asObj(asObj(spec.jobTemplate)?.spec)?.template);
}

function validateCronJob(cronJob: KubeObject, context: ValidationContext) {
  const c = new Causes();
  if (context.subresource) return c.list;
  const name = asStr(asObj(cronJob.metadata)?.name);
  // Jobs are named `<cronjob>-<11-character timestamp>` and must stay within 63 characters.
  if (name.length > 52) c.invalid('metadata.name', name, 'must be no more than 52 characters');
  const spec = c.object(cronJob as Obj, 'spec', 'spec') ?? {};
  const oldSpec = asObj(context.old?.spec);
  const schedule = c.string(spec, 'schedule', 'spec.schedule');
  if (!schedule) c.required('spec.schedule');
  else {
    const error = cronScheduleError(schedule);
    if (error) c.invalid('spec.schedule', schedule, error);
    const allowTZ = asStr(oldSpec?.schedule).includes('TZ');
    if (allowTZ && schedule.includes('TZ') && !isUnset(spec.timeZone)) {
      c.invalid('spec.schedule', schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule');
    } else if (!allowTZ && schedule.includes('TZ')) {
      c.invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead');
    }
  }
  c.nonNegative(c.integer(spec, 'startingDeadlineSeconds', 'spec.startingDeadlineSeconds'), 'spec.startingDeadlineSeconds');
  const timeZone = c.string(spec, 'timeZone', 'spec.timeZone');
  if (timeZone !== undefined && (!oldSpec || oldSpec.timeZone !== timeZone)) {
    if (timeZone === '') c.invalid('spec.timeZone', timeZone, 'timeZone must be nil or non-empty string');
    else if (!isKnownTimeZone(timeZone) || timeZone === 'Local')
      c.invalid('spec.timeZone', timeZone, `unknown time zone ${timeZone}`);
  }
  const policy = c.string(spec, 'concurrencyPolicy', 'spec.concurrencyPolicy');
  if (!policy) c.required('spec.concurrencyPolicy');
  else if (!['Allow', 'Forbid', 'Replace'].includes(policy))
    c.notSupported('spec.concurrencyPolicy', policy, ['Allow', 'Forbid', 'Replace']);
  c.boolean(spec, 'suspend', 'spec.suspend');
  c.nonNegative(
    c.integer(spec, 'successfulJobsHistoryLimit', 'spec.successfulJobsHistoryLimit'),
    'spec.successfulJobsHistoryLimit',
  );
  c.nonNegative(c.integer(spec, 'failedJobsHistoryLimit', 'spec.failedJobsHistoryLimit'), 'spec.failedJobsHistoryLimit');

  const jobTemplate = c.object(spec, 'jobTemplate', 'spec.jobTemplate');
  const jobSpec = c.object(jobTemplate, 'spec', 'spec.jobTemplate.spec');
  if (!jobSpec) c.required('spec.jobTemplate.spec.template.spec.containers');
  else {
    validateJobSpecBody(c, jobSpec, 'spec.jobTemplate.spec');
    if (!isUnset(jobSpec.selector))
      c.invalidRendered('spec.jobTemplate.spec.selector', goLabelSelector(jobSpec.selector), '`selector` will be auto-generated');
    if (jobSpec.manualSelector === true) c.notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']);
  }
  return c.list;
}

export const batchSemantics: Record<string, KindSemantics> = {
  'batch/Job': {
    nameValidation: 'subdomain',
    defaults: defaultJob,
    prepareForCreate: prepareJobForCreate,
    validate: validateJob,
  },
  'batch/CronJob': { nameValidation: 'subdomain', defaults: defaultCronJob, validate: validateCronJob },
};
