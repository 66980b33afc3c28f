/**
 * Deployment arithmetic and bookkeeping as pure functions (kube's pkg/controller/deployment/util):
 * revisions and the annotations a Deployment keeps on its ReplicaSets, maxSurge/maxUnavailable
 * resolution, proportional scaling, finding the new and old ReplicaSets, and the progress tests.
 */
import { labelSelectorFromObject, type LabelSelectorObject } from '@canopy/apimachinery';
import { rfc3339 } from '@canopy/client';
import { getCondition, setCondition } from '../controller-utils/conditions.js';
import type { Condition, Deployment, DeploymentStatus, PodTemplateSpec, ReplicaSet } from '../controller-utils/types.js';
import { canonicalJson } from './hash.js';

export const DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY = 'pod-template-hash';

export const RevisionAnnotation = 'deployment.kubernetes.io/revision';
export const RevisionHistoryAnnotation = 'deployment.kubernetes.io/revision-history';
export const DesiredReplicasAnnotation = 'deployment.kubernetes.io/desired-replicas';
export const MaxReplicasAnnotation = 'deployment.kubernetes.io/max-replicas';
const LastAppliedConfigAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';
const DeprecatedRollbackTo = 'deprecated.deployment.rollback.to';

/** The deployment controller's cap on the revision-history annotation. */
export const MAX_REV_HISTORY_LENGTH_IN_CHARS = 2000;

/** Condition reasons, as kube words them. */
export const Reasons = {
  ReplicaSetUpdated: 'ReplicaSetUpdated',
  FailedRSCreate: 'ReplicaSetCreateError',
  NewReplicaSet: 'NewReplicaSetCreated',
  FoundNewRS: 'FoundNewReplicaSet',
  NewRSAvailable: 'NewReplicaSetAvailable',
  TimedOut: 'ProgressDeadlineExceeded',
  Paused: 'DeploymentPaused',
  Resumed: 'DeploymentResumed',
  MinimumReplicasAvailable: 'MinimumReplicasAvailable',
  MinimumReplicasUnavailable: 'MinimumReplicasUnavailable',
} as const;

const MAX_INT32 = 2147483647;

export function replicasOf(o: { spec: { replicas?: number } } | undefined | null): number {
  return o?.spec.replicas ?? 1;
}

/** Replicas a ReplicaSet wants; a missing ReplicaSet wants none. */
export function specReplicas(rs: ReplicaSet | undefined | null): number {
  return rs ? (rs.spec.replicas ?? 1) : 0;
}

export function newDeploymentCondition(type: string, status: Condition['status'], reason: string, message: string, now: number): Condition {
  const t = rfc3339(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/** SetDeploymentCondition: same status and reason changes nothing; same status keeps lastTransitionTime. */
export function setDeploymentCondition(status: DeploymentStatus, condition: Condition): void {
  status.conditions = setCondition(status.conditions, condition, true);
}

// --- revisions and annotations ----------------------------------------------------------------

/** The revision annotation as a number: 0 when absent, undefined when unparsable. */
export function revisionOf(rs: { metadata: { annotations?: Record<string, string> } }): number | undefined {
  const v = rs.metadata.annotations?.[RevisionAnnotation];
  if (v === undefined) return 0;
  return /^[+-]?\d+$/.test(v) ? Number(v) : undefined;
}

export function maxRevision(replicaSets: ReplicaSet[]): number {
  let max = 0;
  for (const rs of replicaSets) {
    const v = revisionOf(rs);
    if (v !== undefined && v > max) max = v;
  }
  return max;
}

/** SetDeploymentRevision: true when the deployment's revision annotation changed. */
export function setDeploymentRevision(d: Deployment, revision: string): boolean {
  d.metadata.annotations ??= {};
  if (d.metadata.annotations[RevisionAnnotation] === revision) return false;
  d.metadata.annotations[RevisionAnnotation] = revision;
  return true;
}

const ANNOTATIONS_TO_SKIP = new Set([
  LastAppliedConfigAnnotation,
  RevisionAnnotation,
  RevisionHistoryAnnotation,
  DesiredReplicasAnnotation,
  MaxReplicasAnnotation,
  DeprecatedRollbackTo,
]);

/** Whether an annotation stays on the Deployment rather than being copied to its ReplicaSets. */
export function skipCopyAnnotation(key: string): boolean {
  return ANNOTATIONS_TO_SKIP.has(key);
}

/**
 * copyDeploymentAnnotationsToReplicaSet: the deployment's own annotations (e.g.
 * kubernetes.io/change-cause) are copied to its new ReplicaSet, so each revision remembers them.
 */
function copyDeploymentAnnotationsToReplicaSet(d: Deployment, rs: ReplicaSet): boolean {
  let changed = false;
  rs.metadata.annotations ??= {};
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (skipCopyAnnotation(k) || rs.metadata.annotations[k] === v) continue;
    rs.metadata.annotations[k] = v;
    changed = true;
  }
  return changed;
}

/**
 * SetNewReplicaSetAnnotations: copies the deployment's annotations to the new ReplicaSet and
 * raises its revision to `newRevision` if lower. A ReplicaSet that gets a new revision (a
 * rollback to it) keeps its former ones in revision-history, within `historyLimitChars`.
 * A ReplicaSet about to be created also gets the desired- and max-replicas annotations.
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: string, exists: boolean, historyLimitChars = MAX_REV_HISTORY_LENGTH_IN_CHARS): boolean {
  let changed = copyDeploymentAnnotationsToReplicaSet(d, rs);
  const annotations = (rs.metadata.annotations ??= {});
  const oldRevision = annotations[RevisionAnnotation];
  const hadRevision = oldRevision !== undefined;
  let oldRevisionInt: number;
  if (oldRevision === undefined || oldRevision === '') oldRevisionInt = 0;
  else if (/^[+-]?\d+$/.test(oldRevision)) oldRevisionInt = Number(oldRevision);
  else return false;
  if (!/^[+-]?\d+$/.test(newRevision)) return false;
  const newRevisionInt = Number(newRevision);
  if (oldRevisionInt < newRevisionInt) {
    annotations[RevisionAnnotation] = newRevision;
    changed = true;
    if (hadRevision) {
      const history = annotations[RevisionHistoryAnnotation] ?? '';
      const old = history.split(',');
      if (old[0].length === 0) {
        annotations[RevisionHistoryAnnotation] = oldRevision;
      } else {
        let totalLen = history.length + oldRevision.length + 1;
        let start = 0;
        while (totalLen > historyLimitChars && start < old.length) {
          totalLen -= old[start].length + 1;
          start++;
        }
        if (totalLen <= historyLimitChars) annotations[RevisionHistoryAnnotation] = [...old.slice(start), oldRevision].join(',');
      }
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = (rs.metadata.annotations ??= {});
  let changed = false;
  if (a[DesiredReplicasAnnotation] !== String(desired)) {
    a[DesiredReplicasAnnotation] = String(desired);
    changed = true;
  }
  if (a[MaxReplicasAnnotation] !== String(max)) {
    a[MaxReplicasAnnotation] = String(max);
    changed = true;
  }
  return changed;
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = rs.metadata.annotations;
  if (!a) return true;
  return a[DesiredReplicasAnnotation] !== String(desired) || a[MaxReplicasAnnotation] !== String(max);
}

function intAnnotation(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata.annotations?.[key];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return undefined;
  return Number(v);
}

export function desiredReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return intAnnotation(rs, DesiredReplicasAnnotation);
}

// --- maxSurge / maxUnavailable -----------------------------------------------------------------

/**
 * intstr.GetScaledValueFromIntOrPercent: an integer as is; "N%" of `total`, rounded up or down.
 * Anything else (refused by validation) counts as 0.
 */
export function valueFromIntOrPercent(value: number | string | undefined | null, total: number, roundUp: boolean): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number') return value;
  const m = /^(-?\d+)%$/.exec(value);
  if (!m) return /^-?\d+$/.test(value) ? Number(value) : 0;
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

/**
 * ResolveFenceposts: surge rounds up, unavailability rounds down; if both come to zero,
 * unavailability becomes 1 so the rollout can proceed (surge may be blocked by quota).
 */
export function resolveFenceposts(surgeValue: number | string | undefined, unavailableValue: number | string | undefined, desired: number): { surge: number; unavailable: number } {
  const surge = valueFromIntOrPercent(surgeValue ?? 0, desired, true);
  let unavailable = valueFromIntOrPercent(unavailableValue ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = d.spec.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, replicasOf(d)).surge;
}

export function maxUnavailable(d: Deployment): number {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  const ru = d.spec.strategy?.rollingUpdate;
  const { unavailable } = resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, replicas);
  return Math.min(unavailable, replicas);
}

// --- finding ReplicaSets ------------------------------------------------------------------------

function creationTime(o: { metadata: { creationTimestamp?: string } }): number {
  return o.metadata.creationTimestamp ? Date.parse(o.metadata.creationTimestamp) : 0;
}

/** ReplicaSetsByCreationTimestamp: oldest first, then by name. */
export function byCreationTimestamp(a: ReplicaSet, b: ReplicaSet): number {
  const d = creationTime(a) - creationTime(b);
  if (d !== 0) return d;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0;
}

/** ReplicaSetsBySizeOlder: larger first, then older first. */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  if (specReplicas(a) === specReplicas(b)) return byCreationTimestamp(a, b);
  return specReplicas(b) - specReplicas(a);
}

/** ReplicaSetsBySizeNewer: larger first, then newer first. */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  if (specReplicas(a) === specReplicas(b)) return byCreationTimestamp(b, a);
  return specReplicas(b) - specReplicas(a);
}

/** ReplicaSetsByRevision: lowest revision first; unparsable or equal revisions by age. */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const ra = revisionOf(a);
  const rb = revisionOf(b);
  if (ra === undefined || rb === undefined || ra === rb) return byCreationTimestamp(a, b);
  return ra - rb;
}

/** Drops what Go's semantic equality cannot tell apart: nulls and empty lists and maps. */
function semanticNormalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? value.map(semanticNormalize) : undefined;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const n = semanticNormalize(v);
      if (n !== undefined && n !== null) out[k] = n;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return value ?? undefined;
}

/** EqualIgnoreHash: two pod templates are the same revision if equal but for pod-template-hash. */
export function equalIgnoreHash(t1: PodTemplateSpec | undefined, t2: PodTemplateSpec | undefined): boolean {
  const strip = (t: PodTemplateSpec | undefined) => {
    if (!t) return undefined;
    const labels = { ...(t.metadata?.labels ?? {}) };
    delete labels[DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY];
    return semanticNormalize({ ...t, metadata: { ...(t.metadata ?? {}), labels } });
  };
  return canonicalJson(strip(t1)) === canonicalJson(strip(t2));
}

/** FindNewReplicaSet: the oldest ReplicaSet whose template is the deployment's. */
export function findNewReplicaSet(d: Deployment, rsList: ReplicaSet[]): ReplicaSet | undefined {
  return [...rsList].sort(byCreationTimestamp).find((rs) => equalIgnoreHash(rs.spec.template, d.spec.template));
}

/** FindOldReplicaSets: every other ReplicaSet of the deployment (and those of them with replicas). */
export function findOldReplicaSets(d: Deployment, rsList: ReplicaSet[]): { active: ReplicaSet[]; all: ReplicaSet[] } {
  const newRS = findNewReplicaSet(d, rsList);
  const all = rsList.filter((rs) => !newRS || rs.metadata.uid !== newRS.metadata.uid);
  return { active: all.filter((rs) => specReplicas(rs) !== 0), all };
}

/** FilterActiveReplicaSets: those that want pods. */
export function activeReplicaSets(list: Array<ReplicaSet | undefined | null>): ReplicaSet[] {
  return list.filter((rs): rs is ReplicaSet => !!rs && specReplicas(rs) > 0);
}

/** The selector with one more `key=value` requirement (the pod-template-hash). */
export function cloneSelectorAndAddLabel(selector: LabelSelectorObject | undefined, key: string, value: string): LabelSelectorObject {
  const out: LabelSelectorObject = structuredClone(selector ?? {});
  out.matchLabels = { ...(out.matchLabels ?? {}), [key]: value };
  return out;
}

export function selectorIsEmpty(selector: LabelSelectorObject | undefined): boolean {
  return !selector || (!Object.keys(selector.matchLabels ?? {}).length && !(selector.matchExpressions ?? []).length);
}

export function deploymentSelector(d: Deployment) {
  return labelSelectorFromObject(d.spec.selector);
}

// --- counts ---------------------------------------------------------------------------------------

export function replicaCount(list: Array<ReplicaSet | undefined | null>): number {
  return list.reduce((n, rs) => n + specReplicas(rs), 0);
}

export function actualReplicaCount(list: Array<ReplicaSet | undefined | null>): number {
  return list.reduce((n, rs) => n + (rs?.status?.replicas ?? 0), 0);
}

export function readyReplicaCount(list: Array<ReplicaSet | undefined | null>): number {
  return list.reduce((n, rs) => n + (rs?.status?.readyReplicas ?? 0), 0);
}

export function availableReplicaCount(list: Array<ReplicaSet | undefined | null>): number {
  return list.reduce((n, rs) => n + (rs?.status?.availableReplicas ?? 0), 0);
}

// --- scaling arithmetic -------------------------------------------------------------------------

/** FindActiveOrLatest: the one ReplicaSet with replicas (or the newest if none has); none if several have. */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && !oldRSs.length) return undefined;
  const sortedOld = [...oldRSs].sort((a, b) => byCreationTimestamp(b, a));
  const active = activeReplicaSets([...sortedOld, newRS]);
  if (active.length === 0) return newRS ?? sortedOld[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/**
 * getReplicaSetFraction: the replicas this ReplicaSet should gain (or lose) when the deployment is
 * resized, in proportion to its share of the size recorded in its max-replicas annotation.
 */
function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  if (replicasOf(d) === 0) return -specReplicas(rs);
  const deploymentReplicas = replicasOf(d) + maxSurge(d);
  const annotated = intAnnotation(rs, MaxReplicasAnnotation) ?? d.status?.replicas ?? 0;
  // Never proportionally scaled from zero, so annotated is not zero here (kube divides too).
  const newSize = (specReplicas(rs) * deploymentReplicas) / annotated;
  return roundToInt32(newSize) - specReplicas(rs);
}

/** integer.RoundToInt32: half away from zero. */
function roundToInt32(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** GetProportion: this ReplicaSet's share of `toAdd`, never more than what is left to add. */
export function getProportion(rs: ReplicaSet | undefined, d: Deployment, toAdd: number, added: number): number {
  if (!rs || specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/**
 * NewRSNewReplicas: the new ReplicaSet's size for this step. RollingUpdate grows it up to the
 * total allowed by maxSurge (never beyond the deployment's replicas); Recreate to full size.
 */
export function newRSNewReplicas(d: Deployment, allRSs: Array<ReplicaSet | undefined | null>, newRS: ReplicaSet): number {
  if (!isRollingUpdate(d)) return replicasOf(d);
  const surge = valueFromIntOrPercent(d.spec.strategy?.rollingUpdate?.maxSurge ?? 0, replicasOf(d), true);
  const current = replicaCount(allRSs);
  const maxTotal = replicasOf(d) + surge;
  if (current >= maxTotal) return specReplicas(newRS);
  const scaleUp = Math.min(maxTotal - current, replicasOf(d) - specReplicas(newRS));
  return specReplicas(newRS) + scaleUp;
}

/** IsSaturated: the new ReplicaSet has, wants and makes available all the deployment's replicas. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = desiredReplicasAnnotation(rs);
  if (desired === undefined) return false;
  return specReplicas(rs) === replicasOf(d) && desired === replicasOf(d) && (rs.status?.availableReplicas ?? 0) === replicasOf(d);
}

// --- progress --------------------------------------------------------------------------------

export function hasProgressDeadline(d: Deployment): boolean {
  return d.spec.progressDeadlineSeconds !== undefined && d.spec.progressDeadlineSeconds !== null && d.spec.progressDeadlineSeconds !== MAX_INT32;
}

export function hasRevisionHistoryLimit(d: Deployment): boolean {
  return d.spec.revisionHistoryLimit !== undefined && d.spec.revisionHistoryLimit !== null && d.spec.revisionHistoryLimit !== MAX_INT32;
}

/** DeploymentComplete: every desired replica updated and available, nothing old left, generation seen. */
export function deploymentComplete(d: Deployment, status: DeploymentStatus | undefined): boolean {
  const r = replicasOf(d);
  return (status?.updatedReplicas ?? 0) === r && (status?.replicas ?? 0) === r && (status?.availableReplicas ?? 0) === r && (status?.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** DeploymentProgressing: more updated, ready or available pods, or fewer old ones, than last seen. */
export function deploymentProgressing(d: Deployment, next: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (next.replicas ?? 0) - (next.updatedReplicas ?? 0);
  return (
    (next.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (next.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (next.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** DeploymentTimedOut: the last recorded progress is older than progressDeadlineSeconds at `now`. */
export function deploymentTimedOut(d: Deployment, next: DeploymentStatus, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const condition = getCondition(next.conditions, 'Progressing');
  if (!condition) return false;
  // After a completed rollout, a resync racing the new ReplicaSet's condition must not time out.
  if (condition.reason === Reasons.NewRSAvailable) return false;
  if (condition.reason === Reasons.TimedOut) return true;
  const from = condition.lastUpdateTime ? Date.parse(condition.lastUpdateTime) : NaN;
  if (Number.isNaN(from)) return false;
  return from + d.spec.progressDeadlineSeconds! * 1000 < now;
}
