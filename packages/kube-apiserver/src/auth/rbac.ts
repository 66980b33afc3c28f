/**
 * RBAC authorization as kube-apiserver evaluates it (plugin/pkg/auth/authorizer/rbac and
 * pkg/registry/rbac/validation), written as pure functions over plain stored objects plus one
 * caching authorizer.
 *
 * - `RbacAuthorizer.authorize` answers allow / no-opinion with kube's reasons: ClusterRoleBindings
 *   apply everywhere, RoleBindings in the request's namespace; subjects are Users, Groups and
 *   ServiceAccounts (matched on the `system:serviceaccount:<ns>:<name>` username).
 * - `rulesFor` is what SelfSubjectRulesReview reports.
 * - `confirmNoEscalation`, `checkRoleWrite` and `checkBindingWrite` are the escalation prevention of
 *   the roles/clusterroles/rolebindings/clusterrolebindings storage, including the `escalate` and
 *   `bind` verbs, with kube's Forbidden wording.
 * - `aggregateClusterRoles` computes what the clusterrole-aggregation controller writes into
 *   `rules` of ClusterRoles that carry an `aggregationRule`.
 *
 * ClusterRoles with an `aggregationRule` are evaluated with their aggregated rules (what the
 * aggregation controller converges to), so admin/edit/view work before that controller has run.
 *
 * RBAC never denies: like kube's RBAC authorizer, a request no rule allows gets `no-opinion`, so a
 * later authorizer in a chain may still allow it.
 */
import { apiGroupMatches, nonResourceURLMatches, resourceMatches, resourceNameMatches, verbMatches } from '@canopy/apimachinery';
import {
  errors,
  labelSelectorFromObject,
  matchesLabels,
  type LabelSelector,
  type LabelSelectorObject,
  type StatusError,
} from '@canopy/apimachinery';
import type { UserInfo } from '../server/types.js';

export type { UserInfo };

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
/** Members are treated as superusers by the escalation checks (kube's EscalationAllowed). */
export const SYSTEM_MASTERS_GROUP = 'system:masters';
export const SERVICE_ACCOUNT_USERNAME_PREFIX = 'system:serviceaccount:';
export const ALL_SERVICE_ACCOUNTS_GROUP = 'system:serviceaccounts';
export const ALL_AUTHENTICATED_GROUP = 'system:authenticated';
export const ALL_UNAUTHENTICATED_GROUP = 'system:unauthenticated';

// --- API shapes (rbac.authorization.k8s.io/v1, as stored) -------------------------------------

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[] | null;
  resources?: string[] | null;
  resourceNames?: string[] | null;
  nonResourceURLs?: string[] | null;
}

export interface Subject {
  kind: string;
  apiGroup?: string;
  name: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: string;
  name: string;
}

export interface RbacObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
  [field: string]: unknown;
}

export interface AggregationRule {
  clusterRoleSelectors?: LabelSelectorObject[] | null;
}

export interface Role {
  apiVersion?: string;
  kind?: string;
  metadata: RbacObjectMeta;
  rules?: PolicyRule[] | null;
}

export interface ClusterRole extends Role {
  aggregationRule?: AggregationRule | null;
}

export interface RoleBinding {
  apiVersion?: string;
  kind?: string;
  metadata: RbacObjectMeta;
  subjects?: Subject[] | null;
  roleRef: RoleRef;
}

export type ClusterRoleBinding = RoleBinding;

// --- authorizer shapes ---------------------------------------------------------------------------

/**
 * authorizer.Attributes. For resource requests set `resourceRequest` and the resource fields; for
 * others `path`. Absent strings mean "none", as kube's empty strings do.
 *
 * As kube's RequestInfo has it, a request for a Namespace object itself
 * (`/api/v1/namespaces/foo`) carries `namespace: 'foo'` as well as `name: 'foo'`, so that a
 * RoleBinding in `foo` can grant reading its own namespace (see `resourceRequestAttributes`).
 */
export interface RequestAttributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The URL path of a non-resource request. */
  path?: string;
}

/** RBAC itself only allows or has no opinion; `deny` is there for authorizer chains that do deny. */
export type RbacDecision = 'allow' | 'deny' | 'no-opinion';

export interface RbacAuthorizationResult {
  decision: RbacDecision;
  /** Why, in kube's words (`RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "u"`); may be empty. */
  reason: string;
}

/** Attributes with every field set, as the server's authorization filter builds them. */
export type CompleteRequestAttributes = Required<RequestAttributes> & { apiVersion: string };

/**
 * The authorizer asked about the `escalate` and `bind` verbs: the server's whole chain (answering
 * `{allowed}`) or an `RbacAuthorizer` (answering `{decision}`).
 */
export interface WriteAuthorizer {
  authorize(attrs: CompleteRequestAttributes): { decision: RbacDecision } | { allowed: boolean };
}

/** Current RBAC objects, typically read from the server's store (or watch cache). */
export interface RbacPolicySource {
  listClusterRoles(): readonly ClusterRole[];
  listClusterRoleBindings(): readonly ClusterRoleBinding[];
  listRoles(namespace: string): readonly Role[];
  listRoleBindings(namespace: string): readonly RoleBinding[];
  /**
   * A value that changes whenever any Role, ClusterRole, RoleBinding or ClusterRoleBinding changes
   * (e.g. the store revision of the last RBAC write). Checked on every call; when absent, the owner
   * calls `RbacAuthorizer.invalidate()` after RBAC writes.
   */
  version?(): number | string;
  /**
   * Finer versions, used instead of `version` when both are present: one that changes with
   * ClusterRoles and ClusterRoleBindings, and one per namespace that changes with its Roles and
   * RoleBindings. A namespaced write then re-reads only its namespace, not every ClusterRole (with
   * thousands of projects, each member added rebuilt the whole policy, ClusterRole aggregation
   * included, on the next request).
   */
  clusterVersion?(): number | string;
  namespaceVersion?(namespace: string): number | string;
}

/** authorization.k8s.io/v1 ResourceRule. */
export interface ResourceRuleInfo {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

/** authorization.k8s.io/v1 NonResourceRule. */
export interface NonResourceRuleInfo {
  verbs: string[];
  nonResourceURLs?: string[];
}

/** authorization.k8s.io/v1 SubjectRulesReviewStatus, as a SelfSubjectRulesReview returns it. */
export interface SubjectRulesReviewStatus {
  resourceRules: ResourceRuleInfo[];
  nonResourceRules: NonResourceRuleInfo[];
  incomplete: boolean;
  evaluationError?: string;
}

/** The rules that apply to a user, and the errors met resolving them (missing roles and the like). */
export interface ResolvedPolicyRules {
  rules: PolicyRule[];
  errors: string[];
}

// --- service accounts ----------------------------------------------------------------------------

export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_USERNAME_PREFIX}${namespace}:${name}`;
}

/** `{namespace, name}` of a `system:serviceaccount:<ns>:<name>` username, or undefined. */
export function parseServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_USERNAME_PREFIX)) return undefined;
  const parts = username.slice(SERVICE_ACCOUNT_USERNAME_PREFIX.length).split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { namespace: parts[0], name: parts[1] };
}

/** The user a service account token authenticates as (serviceaccount.UserInfo), with the groups its authenticator adds. */
export function serviceAccountUser(namespace: string, name: string, uid?: string): UserInfo {
  return {
    name: serviceAccountUsername(namespace, name),
    ...(uid ? { uid } : {}),
    groups: [ALL_SERVICE_ACCOUNTS_GROUP, `${ALL_SERVICE_ACCOUNTS_GROUP}:${namespace}`, ALL_AUTHENTICATED_GROUP],
  };
}

// --- request attributes from the server's request info -------------------------------------------

/** The parts of the server's parsed resource path that authorization needs (server/request-info.ts). */
export interface ResourcePathInfo {
  group: string;
  namespace: string;
  resource: string;
  name: string;
  subresource: string;
  verb: string;
}

/**
 * Attributes of a resource request. Puts back what kube's RequestInfo reports for the Namespace
 * object itself (`namespace` = its name), which the server's storage-oriented parse clears.
 */
export function resourceRequestAttributes(user: UserInfo, info: ResourcePathInfo): RequestAttributes {
  const namespace =
    info.resource === 'namespaces' && info.group === '' && info.name && !info.namespace ? info.name : info.namespace;
  return {
    user,
    verb: info.verb,
    resourceRequest: true,
    apiGroup: info.group,
    resource: info.resource,
    subresource: info.subresource,
    namespace,
    name: info.name,
  };
}

/** Attributes of a non-resource request: the verb is the lower-cased HTTP method, as in kube. */
export function nonResourceRequestAttributes(user: UserInfo, method: string, path: string): RequestAttributes {
  return { user, verb: method.toLowerCase(), resourceRequest: false, path };
}

// --- rule matching (rbac.RuleAllows and rbacv1helpers) -------------------------------------------

export { apiGroupMatches, nonResourceURLMatches, resourceMatches, resourceNameMatches, verbMatches } from '@canopy/apimachinery';

const list = (v: readonly string[] | null | undefined): readonly string[] => v ?? [];

function trimTrailingStars(s: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === '*') end--;
  return s.slice(0, end);
}

/** rbac.RuleAllows: whether one rule grants the request. */
export function ruleAllows(attrs: RequestAttributes, rule: PolicyRule): boolean {
  if (attrs.resourceRequest) {
    const subresource = attrs.subresource ?? '';
    const combined = subresource ? `${attrs.resource ?? ''}/${subresource}` : (attrs.resource ?? '');
    return (
      verbMatches(rule, attrs.verb) &&
      apiGroupMatches(rule, attrs.apiGroup ?? '') &&
      resourceMatches(rule, combined, subresource) &&
      resourceNameMatches(rule, attrs.name ?? '')
    );
  }
  return verbMatches(rule, attrs.verb) && nonResourceURLMatches(rule, attrs.path ?? '');
}

/**
 * A rule prepared for the hot path: sets instead of lists and the `*`, `*\/sub` and `prefix*`
 * forms split out. Matches exactly what `ruleAllows` matches.
 */
class CompiledRule {
  private readonly allVerbs: boolean;
  private readonly verbs: ReadonlySet<string>;
  private readonly allGroups: boolean;
  private readonly groups: ReadonlySet<string>;
  private readonly allResources: boolean;
  private readonly resources: ReadonlySet<string>;
  /** `sub` for every `*\/sub` entry. */
  private readonly anyResourceSubresources: ReadonlySet<string>;
  private readonly names: ReadonlySet<string> | undefined;
  private readonly urls: ReadonlySet<string>;
  private readonly urlPrefixes: readonly string[];

  constructor(readonly rule: PolicyRule) {
    const verbs = list(rule.verbs);
    const groups = list(rule.apiGroups);
    const resources = list(rule.resources);
    const names = list(rule.resourceNames);
    const urls = list(rule.nonResourceURLs);
    this.allVerbs = verbs.includes('*');
    this.verbs = new Set(verbs);
    this.allGroups = groups.includes('*');
    this.groups = new Set(groups);
    this.allResources = resources.includes('*');
    this.resources = new Set(resources);
    this.anyResourceSubresources = new Set(resources.filter((r) => r.startsWith('*/')).map((r) => r.slice(2)));
    this.names = names.length > 0 ? new Set(names) : undefined;
    this.urls = new Set(urls);
    this.urlPrefixes = urls.filter((u) => u.endsWith('*')).map(trimTrailingStars);
  }

  allows(attrs: RequestAttributes): boolean {
    if (!this.allVerbs && !this.verbs.has(attrs.verb)) return false;
    if (!attrs.resourceRequest) {
      const path = attrs.path ?? '';
      if (this.urls.has(path)) return true;
      for (const prefix of this.urlPrefixes) if (path.startsWith(prefix)) return true;
      return false;
    }
    if (!this.allGroups && !this.groups.has(attrs.apiGroup ?? '')) return false;
    if (!this.allResources) {
      const subresource = attrs.subresource ?? '';
      const combined = subresource ? `${attrs.resource ?? ''}/${subresource}` : (attrs.resource ?? '');
      if (!this.resources.has(combined) && !(subresource && this.anyResourceSubresources.has(subresource))) return false;
    }
    return this.names === undefined || this.names.has(attrs.name ?? '');
  }
}

// --- subjects and sources --------------------------------------------------------------------------

/** rbac's appliesToUser. `namespace` is the binding's namespace ('' for ClusterRoleBindings). */
export function subjectAppliesTo(user: UserInfo, subject: Subject, namespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      // A ServiceAccount subject without a namespace means one in the binding's namespace.
      const saNamespace = subject.namespace || namespace;
      if (!saNamespace) return false;
      return user.name === serviceAccountUsername(saNamespace, subject.name);
    }
    default:
      return false;
  }
}

function firstApplyingSubject(user: UserInfo, subjects: readonly Subject[], namespace: string): Subject | undefined {
  for (const s of subjects) if (subjectAppliesTo(user, s, namespace)) return s;
  return undefined;
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${goQuote(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${goQuote(s.name)}`;
}

/** Go's strconv.Quote, which kube's `%q` messages use. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c === 0x07) out += '\\a';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0b) out += '\\v';
    else if (c < 0x80) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c < 0xa0 || c === 0xad || c === 0x2028 || c === 0x2029 || c === 0xfeff || (c >= 0xd800 && c < 0xe000))
      out += c > 0xffff ? `\\U${c.toString(16).padStart(8, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Go's `%q` of a []string: `["a" "b"]`. */
function goQuoteList(values: readonly string[]): string {
  return `[${values.map(goQuote).join(' ')}]`;
}

/** utilerrors.NewAggregate(...).Error(): one message as is, several de-duplicated in brackets. */
function aggregateMessage(messages: readonly string[]): string {
  if (messages.length === 0) return '';
  if (messages.length === 1) return messages[0];
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}

function roleNotFound(kind: 'Role' | 'ClusterRole', name: string): string {
  // The listers' NotFound uses the singular resource: `clusterrole.rbac.authorization.k8s.io "x" not found`.
  return `${kind.toLowerCase()}.${RBAC_GROUP} ${goQuote(name)} not found`;
}

// --- ClusterRole aggregation (clusterrole-aggregation controller) -----------------------------------

function normalizedRuleKey(rule: PolicyRule): string {
  // equality.Semantic.DeepEqual: nil and empty lists are equal, order within a list matters.
  return JSON.stringify([
    list(rule.verbs),
    list(rule.apiGroups),
    list(rule.resources),
    list(rule.resourceNames),
    list(rule.nonResourceURLs),
  ]);
}

function sameRules(a: readonly PolicyRule[], b: readonly PolicyRule[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (normalizedRuleKey(a[i]) !== normalizedRuleKey(b[i])) return false;
  return true;
}

/**
 * The `rules` the clusterrole-aggregation controller maintains on every ClusterRole with an
 * `aggregationRule`: for each selector in order, the rules of the matching ClusterRoles (sorted by
 * name, the role itself excluded), without duplicates. Aggregated roles selected by others (edit
 * inside admin) contribute their own aggregated rules, computed to a fixed point as the controller's
 * repeated syncs reach it. Roles whose selectors do not parse keep their stored rules and are left
 * out of the result, as the controller leaves them alone.
 */
export function aggregateClusterRoles(clusterRoles: readonly ClusterRole[]): Map<string, PolicyRule[]> {
  const byName = [...clusterRoles].sort((a, b) =>
    a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0,
  );
  const current = new Map<string, PolicyRule[]>(byName.map((r) => [r.metadata.name, [...(r.rules ?? [])]]));
  const aggregated: Array<{ name: string; selectors: LabelSelector[] }> = [];
  for (const role of byName) {
    if (!role.aggregationRule) continue;
    try {
      const selectors = (role.aggregationRule.clusterRoleSelectors ?? []).map((s) => labelSelectorFromObject(s));
      aggregated.push({ name: role.metadata.name, selectors });
    } catch {
      // An invalid selector stops the controller's sync of this role; its stored rules stay.
    }
  }
  const result = new Map<string, PolicyRule[]>();
  // Each pass resolves one more level of nesting; a chain of n aggregated roles settles within n passes.
  for (let pass = 0; pass <= aggregated.length; pass++) {
    let changed = false;
    for (const { name, selectors } of aggregated) {
      const rules: PolicyRule[] = [];
      const seen = new Set<string>();
      for (const selector of selectors) {
        for (const candidate of byName) {
          if (candidate.metadata.name === name || !matchesLabels(selector, candidate.metadata.labels ?? undefined)) continue;
          for (const rule of current.get(candidate.metadata.name) ?? []) {
            const key = normalizedRuleKey(rule);
            if (seen.has(key)) continue;
            seen.add(key);
            rules.push(rule);
          }
        }
      }
      if (!sameRules(rules, current.get(name) ?? [])) changed = true;
      current.set(name, rules);
      result.set(name, rules);
    }
    if (!changed) break;
  }
  return result;
}

// --- the authorizer ----------------------------------------------------------------------------------

interface BindingEntry {
  /** Position in the listing: bindings are visited in list order, so the first allowing one names the reason. */
  order: number;
  kind: 'ClusterRoleBinding' | 'RoleBinding';
  /** '' for ClusterRoleBindings. */
  namespace: string;
  /** `ClusterRoleBinding "x" of ClusterRole "y"`; the subject is appended per user. */
  describedAs: string;
  roleRef: RoleRef;
  subjects: readonly Subject[];
}

/** Bindings of one scope (cluster, or one namespace) by the subject they name. */
interface BindingIndex {
  /** User subjects by name and ServiceAccount subjects by their username. */
  byUser: Map<string, BindingEntry[]>;
  byGroup: Map<string, BindingEntry[]>;
}

interface SourcedRule {
  rule: CompiledRule;
  /** `ClusterRoleBinding "x" of ClusterRole "y" to User "u"`. */
  source: string;
}

interface ResolvedRules {
  rules: SourcedRule[];
  errors: string[];
}

type RoleRules = { rules: CompiledRule[] } | { error: string };

interface NamespacePolicy {
  /** The source's namespaceVersion when this was read. */
  version: number | string | undefined;
  bindings: BindingIndex;
  roles: Map<string, Role>;
  roleRules: Map<string, RoleRules>;
  /** Resolved RoleBinding rules per user key. */
  users: Map<string, ResolvedRules>;
}

/** Everything derived from one version of the RBAC objects. */
interface PolicySnapshot {
  version: number | string | undefined;
  clusterRoles: Map<string, ClusterRole>;
  /** Effective rules of ClusterRoles with an aggregationRule. */
  aggregatedRules: Map<string, PolicyRule[]>;
  clusterRoleRules: Map<string, RoleRules>;
  clusterBindings: BindingIndex;
  /** Failure listing ClusterRoles or ClusterRoleBindings; the snapshot is then rebuilt on the next call. */
  listError?: string;
  /** Resolved ClusterRoleBinding rules per user key. */
  clusterUsers: Map<string, ResolvedRules>;
  namespaces: Map<string, NamespacePolicy>;
}

export interface RbacAuthorizerOptions {
  /** Bound on cached cluster-wide rule lists, one per distinct user (name and groups). Default 10,000. */
  maxCachedUsers?: number;
  /** Bound on cached rule lists per namespace, one per user seen there. Default 1,000. */
  maxCachedUsersPerNamespace?: number;
  /** Bound on namespaces whose RoleBindings are indexed at once. Default 1,000. */
  maxCachedNamespaces?: number;
}

function indexBindings(bindings: readonly RoleBinding[], kind: BindingEntry['kind'], namespace: string): BindingIndex {
  const index: BindingIndex = { byUser: new Map(), byGroup: new Map() };
  const add = (map: Map<string, BindingEntry[]>, key: string, entry: BindingEntry) => {
    const entries = map.get(key);
    if (!entries) map.set(key, [entry]);
    else if (entries[entries.length - 1] !== entry) entries.push(entry);
  };
  bindings.forEach((binding, order) => {
    const subjects = binding.subjects ?? [];
    if (subjects.length === 0 || !binding.roleRef) return;
    const name = kind === 'RoleBinding' ? `${binding.metadata.name}/${namespace}` : binding.metadata.name;
    const entry: BindingEntry = {
      order,
      kind,
      namespace,
      describedAs: `${kind} ${goQuote(name)} of ${binding.roleRef.kind} ${goQuote(binding.roleRef.name)}`,
      roleRef: binding.roleRef,
      subjects,
    };
    for (const subject of subjects) {
      if (subject.kind === 'User') add(index.byUser, subject.name, entry);
      else if (subject.kind === 'Group') add(index.byGroup, subject.name, entry);
      else if (subject.kind === 'ServiceAccount') {
        const saNamespace = subject.namespace || namespace;
        if (saNamespace) add(index.byUser, serviceAccountUsername(saNamespace, subject.name), entry);
      }
    }
  });
  return index;
}

/** Map get that marks the entry most recently used, and a set that evicts the least recently used. */
function lruGet<V>(map: Map<string, V>, key: string): V | undefined {
  const value = map.get(key);
  if (value !== undefined) {
    map.delete(key);
    map.set(key, value);
  }
  return value;
}

function lruSet<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.set(key, value);
  while (map.size > max) {
    const oldest = map.keys().next().value as string;
    map.delete(oldest);
  }
}

function userKey(user: UserInfo): string {
  return user.groups.length === 0 ? user.name : `${user.name}\u0000${user.groups.join('\u0000')}`;
}

/**
 * kube's RBACAuthorizer over a policy source, with indexes rebuilt when the source's version changes
 * (or on `invalidate()`): bindings by subject, role rules compiled once, and the rules that apply to
 * each user (per namespace) cached, so that authorizing a request is a cache hit plus a scan of that
 * user's rules.
 */
export class RbacAuthorizer {
  private snapshot: PolicySnapshot | undefined;
  private readonly maxUsers: number;
  private readonly maxUsersPerNamespace: number;
  private readonly maxNamespaces: number;

  constructor(
    private readonly source: RbacPolicySource,
    options: RbacAuthorizerOptions = {},
  ) {
    this.maxUsers = options.maxCachedUsers ?? 10_000;
    this.maxUsersPerNamespace = options.maxCachedUsersPerNamespace ?? 1_000;
    this.maxNamespaces = options.maxCachedNamespaces ?? 1_000;
  }

  /** Drops every index and cache; the next call re-reads the source. */
  invalidate(): void {
    this.snapshot = undefined;
  }

  authorize(attrs: RequestAttributes): RbacAuthorizationResult {
    const snapshot = this.current();
    const key = userKey(attrs.user);
    const cluster = this.clusterRules(snapshot, attrs.user, key);
    for (const { rule, source } of cluster.rules) {
      if (rule.allows(attrs)) return { decision: 'allow', reason: `RBAC: allowed by ${source}` };
    }
    let failures = cluster.errors;
    if (attrs.namespace) {
      const namespaced = this.namespaceRules(snapshot, attrs.user, key, attrs.namespace);
      for (const { rule, source } of namespaced.rules) {
        if (rule.allows(attrs)) return { decision: 'allow', reason: `RBAC: allowed by ${source}` };
      }
      if (namespaced.errors.length) failures = [...failures, ...namespaced.errors];
    }
    return { decision: 'no-opinion', reason: failures.length ? `RBAC: ${aggregateMessage(failures)}` : '' };
  }

  /** RulesFor: every rule that applies to the user in the namespace ('' = cluster-wide rules only). */
  policyRulesFor(user: UserInfo, namespace: string): ResolvedPolicyRules {
    const snapshot = this.current();
    const key = userKey(user);
    const cluster = this.clusterRules(snapshot, user, key);
    const namespaced = namespace ? this.namespaceRules(snapshot, user, key, namespace) : { rules: [], errors: [] };
    return {
      rules: [...cluster.rules, ...namespaced.rules].map((r) => r.rule.rule),
      errors: [...cluster.errors, ...namespaced.errors],
    };
  }

  /** What a SelfSubjectRulesReview (or SubjectRulesReview) reports for the user in the namespace. */
  rulesFor(user: UserInfo, namespace: string): SubjectRulesReviewStatus {
    const { rules, errors: failures } = this.policyRulesFor(user, namespace);
    const resourceRules: ResourceRuleInfo[] = [];
    const nonResourceRules: NonResourceRuleInfo[] = [];
    for (const rule of rules) {
      if (list(rule.resources).length > 0) {
        const info: ResourceRuleInfo = { verbs: [...list(rule.verbs)] };
        if (list(rule.apiGroups).length) info.apiGroups = [...list(rule.apiGroups)];
        info.resources = [...list(rule.resources)];
        if (list(rule.resourceNames).length) info.resourceNames = [...list(rule.resourceNames)];
        resourceRules.push(info);
      }
      if (list(rule.nonResourceURLs).length > 0) {
        nonResourceRules.push({ verbs: [...list(rule.verbs)], nonResourceURLs: [...list(rule.nonResourceURLs)] });
      }
    }
    const status: SubjectRulesReviewStatus = { resourceRules, nonResourceRules, incomplete: failures.length > 0 };
    if (failures.length) status.evaluationError = aggregateMessage(failures);
    return status;
  }

  /**
   * The verbs the user may use on a resource (sorted; `*` when some rule grants every verb), e.g. for
   * a UI to decide which actions to offer.
   */
  allowedVerbs(
    user: UserInfo,
    target: { namespace?: string; apiGroup?: string; resource: string; subresource?: string; name?: string },
  ): string[] {
    const verbs = new Set<string>();
    const subresource = target.subresource ?? '';
    const combined = subresource ? `${target.resource}/${subresource}` : target.resource;
    for (const rule of this.policyRulesFor(user, target.namespace ?? '').rules) {
      if (
        list(rule.resources).length > 0 &&
        apiGroupMatches(rule, target.apiGroup ?? '') &&
        resourceMatches(rule, combined, subresource) &&
        resourceNameMatches(rule, target.name ?? '')
      ) {
        for (const v of list(rule.verbs)) verbs.add(v);
      }
    }
    return verbs.has('*') ? ['*'] : [...verbs].sort();
  }

  /** GetRoleReferenceRules: the rules of the role a binding in `namespace` ('' for cluster) references. */
  roleReferenceRules(roleRef: RoleRef, namespace: string): { rules: PolicyRule[] } | { error: string } {
    const resolved = this.roleRules(this.current(), roleRef, namespace);
    return 'error' in resolved ? resolved : { rules: resolved.rules.map((r) => r.rule) };
  }

  // --- internals ---

  /** Whether the source versions cluster-scoped objects and each namespace apart. */
  private get scopedVersions(): boolean {
    return this.source.clusterVersion !== undefined && this.source.namespaceVersion !== undefined;
  }

  private current(): PolicySnapshot {
    const scoped = this.scopedVersions;
    const version = scoped ? this.source.clusterVersion!() : this.source.version?.();
    const snapshot = this.snapshot;
    if (snapshot && !snapshot.listError && ((!scoped && this.source.version === undefined) || snapshot.version === version))
      return snapshot;
    this.snapshot = this.build(version);
    return this.snapshot;
  }

  private build(version: number | string | undefined): PolicySnapshot {
    let clusterRoles: readonly ClusterRole[] = [];
    let clusterRoleBindings: readonly ClusterRoleBinding[] = [];
    const failures: string[] = [];
    try {
      clusterRoles = this.source.listClusterRoles();
    } catch (err) {
      failures.push(errorMessage(err));
    }
    try {
      clusterRoleBindings = this.source.listClusterRoleBindings();
    } catch (err) {
      failures.push(errorMessage(err));
    }
    return {
      version,
      clusterRoles: new Map(clusterRoles.map((r) => [r.metadata.name, r])),
      aggregatedRules: aggregateClusterRoles(clusterRoles),
      clusterRoleRules: new Map(),
      clusterBindings: indexBindings(clusterRoleBindings, 'ClusterRoleBinding', ''),
      ...(failures.length ? { listError: aggregateMessage(failures) } : {}),
      clusterUsers: new Map(),
      namespaces: new Map(),
    };
  }

  private namespacePolicy(snapshot: PolicySnapshot, namespace: string): NamespacePolicy | { error: string } {
    const version = this.scopedVersions ? this.source.namespaceVersion!(namespace) : undefined;
    const cached = lruGet(snapshot.namespaces, namespace);
    if (cached && cached.version === version) return cached;
    let roles: readonly Role[];
    let bindings: readonly RoleBinding[];
    try {
      bindings = this.source.listRoleBindings(namespace);
      roles = this.source.listRoles(namespace);
    } catch (err) {
      // Not cached: a failed read is retried on the next request.
      return { error: errorMessage(err) };
    }
    const policy: NamespacePolicy = {
      version,
      bindings: indexBindings(bindings, 'RoleBinding', namespace),
      roles: new Map(roles.map((r) => [r.metadata.name, r])),
      roleRules: new Map(),
      users: new Map(),
    };
    lruSet(snapshot.namespaces, namespace, policy, this.maxNamespaces);
    return policy;
  }

  private roleRules(snapshot: PolicySnapshot, roleRef: RoleRef, namespace: string): RoleRules {
    if (roleRef.kind === 'ClusterRole') {
      const cached = snapshot.clusterRoleRules.get(roleRef.name);
      if (cached) return cached;
      const role = snapshot.clusterRoles.get(roleRef.name);
      const resolved: RoleRules = role
        ? { rules: (snapshot.aggregatedRules.get(roleRef.name) ?? role.rules ?? []).map((r) => new CompiledRule(r)) }
        : { error: roleNotFound('ClusterRole', roleRef.name) };
      snapshot.clusterRoleRules.set(roleRef.name, resolved);
      return resolved;
    }
    if (roleRef.kind === 'Role') {
      if (!namespace) return { error: roleNotFound('Role', roleRef.name) };
      const policy = this.namespacePolicy(snapshot, namespace);
      if ('error' in policy) return policy;
      const cached = policy.roleRules.get(roleRef.name);
      if (cached) return cached;
      const role = policy.roles.get(roleRef.name);
      const resolved: RoleRules = role
        ? { rules: (role.rules ?? []).map((r) => new CompiledRule(r)) }
        : { error: roleNotFound('Role', roleRef.name) };
      policy.roleRules.set(roleRef.name, resolved);
      return resolved;
    }
    return { error: `unsupported role reference kind: ${goQuote(roleRef.kind)}` };
  }

  private clusterRules(snapshot: PolicySnapshot, user: UserInfo, key: string): ResolvedRules {
    const cached = lruGet(snapshot.clusterUsers, key);
    if (cached) return cached;
    const resolved = this.resolve(snapshot, snapshot.clusterBindings, user, '');
    if (snapshot.listError) resolved.errors.unshift(snapshot.listError);
    else lruSet(snapshot.clusterUsers, key, resolved, this.maxUsers);
    return resolved;
  }

  private namespaceRules(snapshot: PolicySnapshot, user: UserInfo, key: string, namespace: string): ResolvedRules {
    const policy = this.namespacePolicy(snapshot, namespace);
    if ('error' in policy) return { rules: [], errors: [policy.error] };
    const cached = lruGet(policy.users, key);
    if (cached) return cached;
    const resolved = this.resolve(snapshot, policy.bindings, user, namespace);
    lruSet(policy.users, key, resolved, this.maxUsersPerNamespace);
    return resolved;
  }

  /** VisitRulesFor over one scope: the applicable bindings in list order, each role's rules in order. */
  private resolve(snapshot: PolicySnapshot, index: BindingIndex, user: UserInfo, namespace: string): ResolvedRules {
    const candidates: BindingEntry[] = [];
    const seen = new Set<BindingEntry>();
    const collect = (entries: BindingEntry[] | undefined) => {
      if (!entries) return;
      for (const e of entries) {
        if (!seen.has(e)) {
          seen.add(e);
          candidates.push(e);
        }
      }
    };
    collect(index.byUser.get(user.name));
    for (const group of user.groups) collect(index.byGroup.get(group));
    candidates.sort((a, b) => a.order - b.order);
    const resolved: ResolvedRules = { rules: [], errors: [] };
    for (const binding of candidates) {
      const subject = firstApplyingSubject(user, binding.subjects, namespace);
      if (!subject) continue;
      const roleRules = this.roleRules(snapshot, binding.roleRef, namespace);
      if ('error' in roleRules) {
        resolved.errors.push(roleRules.error);
        continue;
      }
      const source = `${binding.describedAs} to ${describeSubject(subject, namespace)}`;
      for (const rule of roleRules.rules) resolved.rules.push({ rule, source });
    }
    return resolved;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// --- escalation prevention (pkg/registry/rbac/validation) --------------------------------------------

function hasAll(set: readonly string[], contains: readonly string[]): boolean {
  for (const c of contains) if (!set.includes(c)) return false;
  return true;
}

function resourceCoversAll(owned: readonly string[], requested: readonly string[]): boolean {
  if (owned.includes('*') || hasAll(owned, requested)) return true;
  for (const path of requested) {
    if (owned.includes(path)) continue;
    const slash = path.indexOf('/');
    if (slash < 0) return false;
    if (!owned.includes(`*/${path.slice(slash + 1)}`)) return false;
  }
  return true;
}

function nonResourceURLCovers(owner: string, path: string): boolean {
  return owner === path || (owner.endsWith('*') && path.startsWith(trimTrailingStars(owner)));
}

/**
 * validation.ruleCovers: whether one owner rule covers an atomic rule (at most one verb, group,
 * resource and resource name, or one verb and one URL), as `breakdownRule` produces them.
 */
function ownerRuleCoversAtomic(owner: PolicyRule, sub: PolicyRule): boolean {
  const ownerVerbs = list(owner.verbs);
  const ownerGroups = list(owner.apiGroups);
  const ownerNames = list(owner.resourceNames);
  const subNames = list(sub.resourceNames);
  const verbMatches = ownerVerbs.includes('*') || hasAll(ownerVerbs, list(sub.verbs));
  const groupMatches = ownerGroups.includes('*') || hasAll(ownerGroups, list(sub.apiGroups));
  const resourceMatch = resourceCoversAll(list(owner.resources), list(sub.resources));
  const urlMatch = list(sub.nonResourceURLs).every((path) =>
    list(owner.nonResourceURLs).some((o) => nonResourceURLCovers(o, path)),
  );
  const nameMatch = subNames.length === 0 ? ownerNames.length === 0 : ownerNames.length === 0 || hasAll(ownerNames, subNames);
  return verbMatches && groupMatches && resourceMatch && nameMatch && urlMatch;
}

/** validation.BreakdownRule: one rule per (group, resource, verb[, name]) and per (URL, verb). */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  const names = list(rule.resourceNames);
  for (const group of list(rule.apiGroups)) {
    for (const resource of list(rule.resources)) {
      for (const verb of list(rule.verbs)) {
        if (names.length > 0) {
          for (const name of names) out.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name] });
        } else {
          out.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
        }
      }
    }
  }
  for (const url of list(rule.nonResourceURLs)) {
    for (const verb of list(rule.verbs)) out.push({ verbs: [verb], nonResourceURLs: [url] });
  }
  return out;
}

/**
 * validation.Covers + ConfirmNoEscalation's core: whether `userRules` grant everything
 * `requestedRules` grant. `missing` lists the uncovered atomic rules (see `breakdownRule`).
 */
export function confirmNoEscalation(
  userRules: readonly PolicyRule[],
  requestedRules: readonly PolicyRule[],
): { ok: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const requested of requestedRules) {
    for (const atom of breakdownRule(requested)) {
      if (!userRules.some((owner) => ownerRuleCoversAtomic(owner, atom))) missing.push(atom);
    }
  }
  return { ok: missing.length === 0, missing };
}

/** Whether `ownerRules` together grant everything `requestedRule` grants. */
export function ruleCovers(ownerRules: readonly PolicyRule[], requestedRule: PolicyRule): boolean {
  return confirmNoEscalation(ownerRules, [requestedRule]).ok;
}

/**
 * validation.CompactRules: merges rules that name one group and one resource (and at most one
 * resource name) and differ only in verbs, keeping first-seen verb order.
 */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const compacted: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const rule of rules) {
    const groups = list(rule.apiGroups);
    const resources = list(rule.resources);
    const names = list(rule.resourceNames);
    const isSimple =
      names.length <= 1 && list(rule.nonResourceURLs).length === 0 && groups.length === 1 && resources.length === 1;
    if (!isSimple) {
      compacted.push(rule);
      continue;
    }
    const key = JSON.stringify([groups[0], resources[0], names.length > 0, names[0] ?? '']);
    const existing = simple.get(key);
    if (existing) {
      for (const verb of list(rule.verbs)) if (!existing.verbs.includes(verb)) existing.verbs.push(verb);
    } else {
      simple.set(key, {
        verbs: [...list(rule.verbs)],
        apiGroups: [...groups],
        resources: [...resources],
        ...(names.length ? { resourceNames: [...names] } : {}),
      });
    }
  }
  return [...compacted, ...simple.values()];
}

/** rbacv1helpers.CompactString: `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`. */
export function compactString(rule: PolicyRule): string {
  const parts: string[] = [];
  if (list(rule.apiGroups).length) parts.push(`APIGroups:${goQuoteList(list(rule.apiGroups))}`);
  if (list(rule.resources).length) parts.push(`Resources:${goQuoteList(list(rule.resources))}`);
  if (list(rule.nonResourceURLs).length) parts.push(`NonResourceURLs:${goQuoteList(list(rule.nonResourceURLs))}`);
  if (list(rule.resourceNames).length) parts.push(`ResourceNames:${goQuoteList(list(rule.resourceNames))}`);
  if (list(rule.verbs).length) parts.push(`Verbs:${goQuoteList(list(rule.verbs))}`);
  return `{${parts.join(', ')}}`;
}

/**
 * ConfirmNoEscalation's message: `user "u" (groups=["a" "b"]) is attempting to grant RBAC
 * permissions not currently held:` then the compacted missing rules, sorted, one per line.
 */
export function escalationMessage(
  user: UserInfo,
  missing: readonly PolicyRule[],
  resolutionErrors: readonly string[] = [],
): string {
  const descriptions = [...new Set(compactRules(missing).map(compactString))].sort();
  let msg = `user ${goQuote(user.name)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${descriptions.join('\n')}`;
  if (resolutionErrors.length) msg += `; resolution errors: [${aggregateMessage(resolutionErrors)}]`;
  return msg;
}

// --- role and binding writes (pkg/registry/rbac/*/policybased) ---------------------------------------

/** What resolves the writing user's own rules and the rules a binding refers to. */
export interface RbacRuleResolver {
  policyRulesFor(user: UserInfo, namespace: string): ResolvedPolicyRules;
  roleReferenceRules(roleRef: RoleRef, namespace: string): { rules: PolicyRule[] } | { error: string };
}

export interface RbacWriteContext {
  /** The user making the request. */
  user: UserInfo;
  /** The request's namespace: the Role's or RoleBinding's; '' for ClusterRoles and ClusterRoleBindings. */
  namespace: string;
  /** Usually the `RbacAuthorizer`. */
  ruleResolver: RbacRuleResolver;
  /**
   * Asked whether the user may `escalate` roles or `bind` the referenced role: the server's whole
   * authorizer chain, as kube asks it. Defaults to `ruleResolver` when that can authorize (an RbacAuthorizer).
   */
  authorizer?: WriteAuthorizer;
}

export type RbacWriteCheck = { allowed: true } | { allowed: false; message: string; error: StatusError };

/** rbacregistry.EscalationAllowed: system:masters may grant anything (the server's loopback identity is one). */
export function escalationAllowed(user: UserInfo): boolean {
  return user.groups.includes(SYSTEM_MASTERS_GROUP);
}

/**
 * Whether the write authorizer allows `verb` on an RBAC role resource (the attributes kube's
 * RoleEscalationAuthorized and BindingAuthorized build, API version `*`).
 */
function authorizedFor(
  ctx: RbacWriteContext,
  verb: 'escalate' | 'bind',
  target: { apiGroup: string; resource: string; namespace: string; name: string },
): boolean {
  const resolver = ctx.ruleResolver as Partial<WriteAuthorizer>;
  const authorizer = ctx.authorizer ?? (typeof resolver.authorize === 'function' ? (resolver as WriteAuthorizer) : undefined);
  if (!authorizer) return false;
  const answer = authorizer.authorize({
    user: ctx.user,
    verb,
    resourceRequest: true,
    apiGroup: target.apiGroup,
    apiVersion: '*',
    resource: target.resource,
    subresource: '',
    namespace: target.namespace,
    name: target.name,
    path: '',
  });
  return 'decision' in answer ? answer.decision === 'allow' : answer.allowed;
}

function forbidden(resource: string, name: string, message: string): RbacWriteCheck {
  const error = errors.forbidden({ group: RBAC_GROUP, resource }, name, message);
  return { allowed: false, message: error.message, error };
}

const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

/**
 * IsOnlyMutatingGCFields: an update that changes nothing but owner references, finalizers and the
 * deletion fields (what the garbage collector writes) needs no escalation check. Server-maintained
 * resourceVersion and managedFields are not compared either.
 */
export function isOnlyMutatingGCFields(obj: unknown, old: unknown): boolean {
  if (!old || !obj || typeof obj !== 'object' || typeof old !== 'object') return false;
  const strip = (o: Record<string, unknown>) => {
    const meta = { ...((o.metadata as Record<string, unknown>) ?? {}) };
    for (const f of [
      'ownerReferences',
      'finalizers',
      'selfLink',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'resourceVersion',
      'managedFields',
    ]) {
      delete meta[f];
    }
    return { ...o, metadata: meta };
  };
  return semanticEqual(strip(obj as Record<string, unknown>), strip(old as Record<string, unknown>));
}

/** equality.Semantic.DeepEqual on JSON: absent, null, empty list and empty map are alike. */
function semanticEqual(a: unknown, b: unknown): boolean {
  const empty = (v: unknown) =>
    v === undefined ||
    v === null ||
    (Array.isArray(v) && v.length === 0) ||
    (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
  if (empty(a) && empty(b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => semanticEqual(x, b[i]));
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) if (!semanticEqual(ao[k], bo[k])) return false;
    return true;
  }
  return a === b;
}

function hasAggregationRule(role: ClusterRole | undefined): boolean {
  return (role?.aggregationRule?.clusterRoleSelectors ?? []).length > 0;
}

/**
 * The escalation check of a Role or ClusterRole create (no `oldRole`) or update: allowed for
 * system:masters, for users allowed to `escalate` the resource, and otherwise only when the user
 * already holds every rule the role grants (in the request namespace). Setting or changing an
 * `aggregationRule` needs full authority, since the rule can gather anything.
 */
export function checkRoleWrite(
  ctx: RbacWriteContext,
  resource: 'roles' | 'clusterroles',
  role: Role | ClusterRole,
  oldRole?: Role | ClusterRole,
): RbacWriteCheck {
  if (escalationAllowed(ctx.user)) return { allowed: true };
  // RoleEscalationAuthorized: `escalate` with the request's own name (none for a create) and namespace.
  const requestName = oldRole ? role.metadata.name : '';
  if (authorizedFor(ctx, 'escalate', { apiGroup: RBAC_GROUP, resource, namespace: ctx.namespace, name: requestName })) {
    return { allowed: true };
  }
  if (oldRole && isOnlyMutatingGCFields(role, oldRole)) return { allowed: true };
  const name = role.metadata.name;
  const owner = ctx.ruleResolver.policyRulesFor(ctx.user, ctx.namespace);
  const { ok, missing } = confirmNoEscalation(owner.rules, role.rules ?? []);
  if (!ok) return forbidden(resource, name, escalationMessage(ctx.user, missing, owner.errors));
  if (
    resource === 'clusterroles' &&
    (hasAggregationRule(role as ClusterRole) || hasAggregationRule(oldRole as ClusterRole | undefined))
  ) {
    if (!confirmNoEscalation(owner.rules, FULL_AUTHORITY).ok) {
      return forbidden(resource, name, 'must have cluster-admin privileges to use the aggregationRule');
    }
  }
  return { allowed: true };
}

/**
 * The escalation check of a RoleBinding or ClusterRoleBinding create (no `oldBinding`) or update:
 * allowed for system:masters, for users allowed to `bind` the referenced role (in the binding's
 * namespace), and otherwise only when the user already holds every rule of the referenced role.
 */
export function checkBindingWrite(
  ctx: RbacWriteContext,
  resource: 'rolebindings' | 'clusterrolebindings',
  binding: RoleBinding | ClusterRoleBinding,
  oldBinding?: RoleBinding | ClusterRoleBinding,
): RbacWriteCheck {
  if (escalationAllowed(ctx.user)) return { allowed: true };
  if (oldBinding && isOnlyMutatingGCFields(binding, oldBinding)) return { allowed: true };
  const name = binding.metadata.name;
  const roleRef = binding.roleRef;
  const bindingNamespace = resource === 'clusterrolebindings' ? '' : ctx.namespace;
  // BindingAuthorized: `bind` on the referenced role, in the namespace the binding is written to.
  if (
    (roleRef?.kind === 'ClusterRole' || roleRef?.kind === 'Role') &&
    authorizedFor(ctx, 'bind', {
      apiGroup: roleRef.apiGroup,
      resource: roleRef.kind === 'ClusterRole' ? 'clusterroles' : 'roles',
      namespace: bindingNamespace,
      name: roleRef.name,
    })
  ) {
    return { allowed: true };
  }
  const referenced = ctx.ruleResolver.roleReferenceRules(roleRef, bindingNamespace);
  if ('error' in referenced) return forbidden(resource, name, referenced.error);
  const owner = ctx.ruleResolver.policyRulesFor(ctx.user, ctx.namespace);
  const { ok, missing } = confirmNoEscalation(owner.rules, referenced.rules);
  if (!ok) return forbidden(resource, name, escalationMessage(ctx.user, missing, owner.errors));
  return { allowed: true };
}
