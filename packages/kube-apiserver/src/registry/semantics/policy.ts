/** `policy` PodDisruptionBudget validation (pkg/apis/policy/validation). */
import { validateLabelSelectorField, type KubeObject } from '@canopy/apimachinery';
import type { ValidationContext } from '../types.js';
import { validateIntOrPercent, validateNotMoreThan100Percent } from './apps.js';
import type { KindSemantics } from './types.js';
import { asStr, Causes, isUnset, type Obj } from './util.js';

const EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];

function validatePodDisruptionBudget(pdb: KubeObject, context: ValidationContext) {
  const c = new Causes();
  if (context.subresource) return c.list;
  const spec = c.object(pdb as Obj, 'spec', 'spec') ?? {};
  if (!isUnset(spec.minAvailable) && !isUnset(spec.maxUnavailable))
    c.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set');
  for (const key of ['minAvailable', 'maxUnavailable']) {
    if (isUnset(spec[key])) continue;
    validateIntOrPercent(c, spec[key], `spec.${key}`);
    validateNotMoreThan100Percent(c, spec[key], `spec.${key}`);
  }
  c.push(...validateLabelSelectorField(spec.selector, 'spec.selector'));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (!isUnset(policy) && !EVICTION_POLICIES.includes(asStr(policy)))
    c.notSupported('spec.unhealthyPodEvictionPolicy', policy, EVICTION_POLICIES);
  return c.list;
}

export const policySemantics: Record<string, KindSemantics> = {
  'policy/PodDisruptionBudget': { nameValidation: 'subdomain', validate: validatePodDisruptionBudget },
};
