/**
 * PolicyRule matching and coverage, with KubeSphere's (= Kubernetes') semantics: `*` for any
 * verb, group, resource or URL, `*\/<subresource>`, an empty resourceNames list meaning any name,
 * and `prefix*` non-resource URLs.
 */
import { apiGroupMatches, nonResourceURLMatches, resourceMatches, resourceNameMatches, verbMatches } from '@canopy/apimachinery';
import type { PolicyRule } from './types.js';

export { apiGroupMatches, nonResourceURLMatches, resourceMatches, resourceNameMatches, verbMatches } from '@canopy/apimachinery';

const list = (v: readonly string[] | undefined): readonly string[] => v ?? [];

/** What a rule is matched against. */
export interface RuleRequest {
  resourceRequest: boolean;
  verb: string;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  path?: string;
}

/** rbac.RuleAllows. */
export function ruleAllows(request: RuleRequest, rule: PolicyRule): boolean {
  if (request.resourceRequest) {
    const subresource = request.subresource ?? '';
    const combined = subresource ? `${request.resource ?? ''}/${subresource}` : (request.resource ?? '');
    return (
      verbMatches(rule, request.verb) &&
      apiGroupMatches(rule, request.apiGroup ?? '') &&
      resourceMatches(rule, combined, subresource) &&
      resourceNameMatches(rule, request.name ?? '')
    );
  }
  return verbMatches(rule, request.verb) && nonResourceURLMatches(rule, request.path ?? '');
}

// --- coverage (rbac validation.Covers) ------------------------------------------------------

function coversValue(owned: readonly string[], value: string): boolean {
  return owned.includes('*') || owned.includes(value);
}

function coversResource(owned: readonly string[], resource: string): boolean {
  if (owned.includes('*') || owned.includes(resource)) return true;
  const slash = resource.indexOf('/');
  if (slash < 0) return false;
  return owned.includes(`${resource.slice(0, slash)}/*`) || owned.includes(`*/${resource.slice(slash + 1)}`);
}

function coversURL(owned: readonly string[], url: string): boolean {
  for (const o of owned) {
    if (o === '*' || o === url) return true;
    if (o.endsWith('*') && url.startsWith(o.replace(/\*+$/, ''))) return true;
  }
  return false;
}

/** Whether one owner rule grants the single permission (verb, group, resource, name) or (verb, url). */
function ownerCoversAtom(owner: PolicyRule, atom: { verb: string; group?: string; resource?: string; name?: string; url?: string }): boolean {
  if (!coversValue(list(owner.verbs), atom.verb)) return false;
  if (atom.url !== undefined) return coversURL(list(owner.nonResourceURLs), atom.url);
  if (!coversValue(list(owner.apiGroups), atom.group!) || !coversResource(list(owner.resources), atom.resource!)) return false;
  const names = list(owner.resourceNames);
  return names.length === 0 || (atom.name !== undefined && names.includes(atom.name));
}

/** Whether `owner` rules together grant everything `rule` grants. */
export function rulesCover(owner: readonly PolicyRule[], rule: PolicyRule): boolean {
  for (const verb of list(rule.verbs)) {
    for (const url of list(rule.nonResourceURLs)) {
      if (!owner.some((o) => ownerCoversAtom(o, { verb, url }))) return false;
    }
    const names = list(rule.resourceNames);
    for (const group of list(rule.apiGroups)) {
      for (const resource of list(rule.resources)) {
        if (names.length === 0) {
          if (!owner.some((o) => ownerCoversAtom(o, { verb, group, resource }))) return false;
        } else {
          for (const name of names) if (!owner.some((o) => ownerCoversAtom(o, { verb, group, resource, name }))) return false;
        }
      }
    }
  }
  return true;
}

/** validation.Covers: whether `owner` grants every rule in `servant`, and the rules it does not. */
export function covers(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): { covers: boolean; uncovered: PolicyRule[] } {
  const uncovered = servant.filter((rule) => !rulesCover(owner, rule));
  return { covers: uncovered.length === 0, uncovered };
}
