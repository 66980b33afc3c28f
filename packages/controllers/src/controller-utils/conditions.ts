/** Status conditions as the workload controllers keep them (one condition per type). */
import type { Condition } from './types.js';

export function getCondition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * Sets `condition` in the list, replacing the one of the same type. A condition with the same
 * status and reason as the current one changes nothing (its times stay as first recorded);
 * with `keepTransitionTime`, a change of reason alone keeps the current lastTransitionTime
 * (deployments: the status did not transition).
 */
export function setCondition(conditions: Condition[] | undefined, condition: Condition, keepTransitionTime = false): Condition[] {
  const current = getCondition(conditions, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return conditions ?? [];
  if (keepTransitionTime && current && current.status === condition.status) condition = { ...condition, lastTransitionTime: current.lastTransitionTime };
  return [...(conditions ?? []).filter((c) => c.type !== condition.type), condition];
}

export function removeCondition(conditions: Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}
