/**
 * Roles built from RoleTemplates, as KubeSphere 4.1's role controllers do it:
 *
 * - A role's `aggregationRoleTemplates.roleSelector`, when present, selects the templates by label,
 *   always restricted to the role's own scope (`iam.kubesphere.io/scope` is forced to the scope of
 *   the role kind); the role's templateNames then become the selected names. Without a selector,
 *   the named templates are taken (names that do not exist are skipped).
 * - Aggregation only adds: the role keeps its rules and gains the template rules it does not
 *   already grant. The templates' rego-override policies are united with the role's own.
 *
 * Also the console's view of permissions: the `iam.kubesphere.io/role-template-rules` annotations
 * of a user's templates merged into `{module: [actions]}`.
 */
import { labelSelectorFromObject, matchesLabels } from '@canopy/apimachinery';
import { mergeRegoPolicies } from './rego.js';
import { covers } from './rules.js';
import {
  type IamRole,
  type IamScope,
  type PolicyRule,
  REGO_OVERRIDE_ANNOTATION,
  ROLE_TEMPLATE_RULES_ANNOTATION,
  type RoleKind,
  type RoleTemplate,
  SCOPE_LABEL,
} from './types.js';

export const SCOPE_OF_ROLE_KIND: Record<RoleKind, IamScope> = {
  GlobalRole: 'global',
  ClusterRole: 'cluster',
  WorkspaceRole: 'workspace',
  Role: 'namespace',
};

/** Where templates come from: a list, or an index able to answer by name. */
export interface RoleTemplateSource {
  get(name: string): RoleTemplate | undefined;
  list(): Iterable<RoleTemplate>;
}

export function roleTemplateSource(templates: Iterable<RoleTemplate>): RoleTemplateSource {
  const byName = new Map<string, RoleTemplate>();
  for (const t of templates) byName.set(t.metadata.name!, t);
  return { get: (name) => byName.get(name), list: () => byName.values() };
}

function scopeOfRole(role: IamRole, scope?: IamScope): IamScope {
  if (scope) return scope;
  const fromKind = SCOPE_OF_ROLE_KIND[role.kind as RoleKind];
  if (!fromKind) throw new Error(`cannot tell the scope of a ${role.kind ?? 'role without kind'}`);
  return fromKind;
}

/** The templates a role aggregates (sorted by name when chosen by selector). */
export function selectRoleTemplates(role: IamRole, source: RoleTemplateSource, scope?: IamScope): RoleTemplate[] {
  const aggregation = role.aggregationRoleTemplates;
  if (!aggregation) return [];
  if (!aggregation.roleSelector) {
    const found: RoleTemplate[] = [];
    for (const name of aggregation.templateNames ?? []) {
      const template = source.get(name);
      if (template) found.push(template);
    }
    return found;
  }
  const selector = labelSelectorFromObject({
    ...aggregation.roleSelector,
    matchLabels: { ...aggregation.roleSelector.matchLabels, [SCOPE_LABEL]: scopeOfRole(role, scope) },
  });
  const selected: RoleTemplate[] = [];
  for (const template of source.list()) if (matchesLabels(selector, template.metadata.labels)) selected.push(template);
  return selected.sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
}

export interface AggregationResult {
  rules: PolicyRule[];
  templateNames: string[];
  /** The united rego-override policy ('' when none). */
  regoPolicy: string;
  /** Whether anything differs from the role as given. */
  changed: boolean;
}

/** The rules, template names and policy a role has once its templates are aggregated. */
export function aggregateRole(role: IamRole, source: RoleTemplateSource, scope?: IamScope): AggregationResult {
  const own = role.rules ?? [];
  const ownRego = role.metadata.annotations?.[REGO_OVERRIDE_ANNOTATION] ?? '';
  const ownNames = role.aggregationRoleTemplates?.templateNames ?? [];
  if (!role.aggregationRoleTemplates) {
    return { rules: structuredClone(own), templateNames: [...ownNames], regoPolicy: ownRego, changed: false };
  }
  const templates = selectRoleTemplates(role, source, scope);
  const rules = structuredClone(own) as PolicyRule[];
  for (const template of templates) {
    // Rule by rule, so a template rule another template already brought is not repeated.
    const { uncovered } = covers(rules, template.spec.rules ?? []);
    rules.push(...structuredClone(uncovered));
  }
  const templateNames = templates.map((t) => t.metadata.name!);
  const templateRego = templates.map((t) => t.metadata.annotations?.[REGO_OVERRIDE_ANNOTATION] ?? '').filter(Boolean);
  const regoPolicy = templateRego.length ? mergeRegoPolicies([ownRego, ...templateRego]) : ownRego;
  const changed =
    rules.length !== own.length ||
    regoPolicy !== ownRego ||
    templateNames.length !== ownNames.length ||
    templateNames.some((n, i) => n !== ownNames[i]);
  return { rules, templateNames, regoPolicy, changed };
}

/** A copy of the role with its aggregation applied (what the role controller writes back). */
export function aggregatedRole(role: IamRole, source: RoleTemplateSource, scope?: IamScope): IamRole {
  const result = aggregateRole(role, source, scope);
  const copy = structuredClone(role);
  copy.rules = result.rules;
  if (copy.aggregationRoleTemplates) copy.aggregationRoleTemplates.templateNames = result.templateNames;
  if (result.regoPolicy) {
    copy.metadata.annotations = { ...copy.metadata.annotations, [REGO_OVERRIDE_ANNOTATION]: result.regoPolicy };
  }
  return copy;
}

/** The templates a set of roles was built from, by their recorded template names, without repeats. */
export function templatesOfRoles(roles: Iterable<IamRole>, source: RoleTemplateSource): RoleTemplate[] {
  const seen = new Set<string>();
  const out: RoleTemplate[] = [];
  for (const role of roles) {
    for (const name of role.aggregationRoleTemplates?.templateNames ?? []) {
      if (seen.has(name)) continue;
      seen.add(name);
      const template = source.get(name);
      if (template) out.push(template);
    }
  }
  return out;
}

/**
 * Merges the `iam.kubesphere.io/role-template-rules` annotations into module → actions, the form
 * the console checks (`projects: ['view', 'create']`). Unparseable annotations are skipped.
 */
export function mergeRoleTemplateRules(templates: Iterable<RoleTemplate>): Record<string, string[]> {
  const merged: Record<string, string[]> = {};
  for (const template of templates) {
    const raw = template.metadata.annotations?.[ROLE_TEMPLATE_RULES_ANNOTATION];
    if (!raw) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) continue;
    for (const [module, action] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof action !== 'string') continue;
      const actions = (merged[module] ??= []);
      if (!actions.includes(action)) actions.push(action);
    }
  }
  return merged;
}
