/**
 * RBAC PolicyRule matching (rbac.RuleAllows and rbacv1helpers), shared by the API server's RBAC
 * authorizer and the platform's three-scope authorizer, whose rules have the same semantics:
 * `*` for any verb, group, resource or URL, `*\/<subresource>`, an empty resourceNames list
 * meaning any name, and `prefix*` non-resource URLs.
 */

/** rbacv1.PolicyRule (nulls as Go's JSON may write them). */
export interface PolicyRuleFields {
  verbs: readonly string[];
  apiGroups?: readonly string[] | null;
  resources?: readonly string[] | null;
  resourceNames?: readonly string[] | null;
  nonResourceURLs?: readonly string[] | null;
}

const list = (v: readonly string[] | null | undefined): readonly string[] => v ?? [];

export function verbMatches(rule: PolicyRuleFields, verb: string): boolean {
  for (const v of list(rule.verbs)) if (v === '*' || v === verb) return true;
  return false;
}

export function apiGroupMatches(rule: PolicyRuleFields, group: string): boolean {
  for (const g of list(rule.apiGroups)) if (g === '*' || g === group) return true;
  return false;
}

/** `combinedResource` is `resource` or `resource/subresource`. */
export function resourceMatches(rule: PolicyRuleFields, combinedResource: string, subresource: string): boolean {
  for (const r of list(rule.resources)) {
    if (r === '*' || r === combinedResource) return true;
    if (subresource && r === `*/${subresource}`) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRuleFields, name: string): boolean {
  const names = list(rule.resourceNames);
  return names.length === 0 || names.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRuleFields, path: string): boolean {
  for (const u of list(rule.nonResourceURLs)) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(trimTrailingStars(u))) return true;
  }
  return false;
}

function trimTrailingStars(s: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === '*') end--;
  return s.slice(0, end);
}
