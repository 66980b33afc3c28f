/**
 * API defaults and semantic validation of the built-in kinds, keyed `<group>/<Kind>` (the core
 * group is empty: `/Pod`). The per-group modules under ./semantics/ follow kube-apiserver's
 * pkg/apis/<group>/v1/defaults.go, pkg/registry/<group>/*\/strategy.go and
 * pkg/apis/<group>/validation, with kube's wording.
 *
 * Order of use for a write (as kube-apiserver does it):
 *   create: defaults → (name generation, uid) → prepareForCreate → validateObjectMeta + validate
 *   update: defaults → validateObjectMetaUpdate + validate(object, { old })
 * `validate` leaves generic ObjectMeta checks to the caller (`nameValidation` says how names are
 * checked) but adds the rule kube adds for built-in kinds: an unqualified finalizer must be one of
 * kube's own (`kubernetes`, `orphan`, `foregroundDeletion`).
 */
import { isPlainObject, type KubeObject, type StatusCause } from '@canopy/apimachinery';
import { appsSemantics } from './semantics/apps.js';
import { autoscalingSemantics } from './semantics/autoscaling.js';
import { batchSemantics } from './semantics/batch.js';
import { coordinationSemantics } from './semantics/coordination.js';
import { coreSemantics, validateKubeFinalizerName } from './semantics/core.js';
import { discoverySemantics } from './semantics/discovery.js';
import { networkingSemantics } from './semantics/networking.js';
import { policySemantics } from './semantics/policy.js';
import { rbacSemantics } from './semantics/rbac.js';
import { storageSemantics } from './semantics/storage.js';
import type { KindSemantics } from './semantics/types.js';
import { asArr, asObj, Causes } from './semantics/util.js';
import type { ValidationContext } from './types.js';

export type { KindSemantics } from './semantics/types.js';
export { cronScheduleError } from './semantics/batch.js';
export { imageTag, podQOSClass } from './semantics/pod.js';

function validateKubeFinalizers(object: KubeObject): StatusCause[] {
  const c = new Causes();
  asArr(asObj(object.metadata)?.finalizers).forEach((finalizer, i) => {
    if (typeof finalizer === 'string') validateKubeFinalizerName(c, finalizer, `metadata.finalizers[${i}]`);
  });
  return c.list;
}

/** Every entry accepts any value as the object: what is not a JSON object is left alone. */
function guarded(semantics: KindSemantics): KindSemantics {
  const out: KindSemantics = { ...semantics };
  const { defaults, prepareForCreate, validate } = semantics;
  if (defaults) out.defaults = (object) => (isPlainObject(object) ? defaults(object) : undefined);
  if (prepareForCreate) out.prepareForCreate = (object) => (isPlainObject(object) ? prepareForCreate(object) : undefined);
  out.validate = (object: KubeObject, context: ValidationContext) => {
    if (!isPlainObject(object)) return [];
    const causes = context.subresource ? [] : validateKubeFinalizers(object);
    if (validate) causes.push(...validate(object, context));
    return causes;
  };
  return out;
}

const tables: Array<Record<string, KindSemantics>> = [
  coreSemantics,
  appsSemantics,
  batchSemantics,
  networkingSemantics,
  storageSemantics,
  coordinationSemantics,
  rbacSemantics,
  autoscalingSemantics,
  policySemantics,
  discoverySemantics,
];

export const builtinSemantics: Record<string, KindSemantics> = Object.fromEntries(
  tables.flatMap((table) => Object.entries(table)).map(([kindKey, semantics]) => [kindKey, guarded(semantics)]),
);

/**
 * Create-time state that the registry strategies set and that needs the assigned name and uid:
 * initial statuses (Pod Pending with its QoS class, Namespace Active, volumes and claims Pending),
 * the `kubernetes` namespace finalizer, and a Job's generated selector and labels.
 */
export function prepareForCreate(kindKey: string, object: KubeObject): void {
  builtinSemantics[kindKey]?.prepareForCreate?.(object);
}
