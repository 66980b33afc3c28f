/** `coordination.k8s.io` Lease validation (pkg/apis/coordination/validation). */
import type { KubeObject } from '@canopy/apimachinery';
import type { KindSemantics } from './types.js';
import { Causes, type Obj } from './util.js';

function validateLease(lease: KubeObject) {
  const c = new Causes();
  const spec = c.object(lease as Obj, 'spec', 'spec');
  const duration = c.integer(spec, 'leaseDurationSeconds', 'spec.leaseDurationSeconds');
  if (duration !== undefined && duration <= 0) c.invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0');
  c.nonNegative(c.integer(spec, 'leaseTransitions', 'spec.leaseTransitions'), 'spec.leaseTransitions');
  c.string(spec, 'holderIdentity', 'spec.holderIdentity');
  return c.list;
}

export const coordinationSemantics: Record<string, KindSemantics> = {
  'coordination.k8s.io/Lease': { nameValidation: 'subdomain', validate: validateLease },
};
