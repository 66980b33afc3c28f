/**
 * KubeSphere's three-scope authorization (pkg/apiserver/authorization/rbac), as a pure function of
 * request attributes and an IamPolicy:
 *
 * 1. GlobalRoleBindings of the user and its groups, always. A request in global scope stops here.
 * 2. In a workspace: the WorkspaceRoleBindings of that workspace. For a namespace, the workspace is
 *    the one the namespace's `kubesphere.io/workspace` label names.
 * 3. In a namespace: its RoleBindings.
 * 4. Outside global scope: ClusterRoleBindings.
 *
 * A binding grants when its role's `iam.kubesphere.io/rego-override` policy allows the request or
 * one of its rules matches; the first grant wins. Nothing granting is "no opinion" (a denial).
 */
import { compileRegoPolicy, type RegoPolicy } from './rego.js';
import { ruleAllows } from './rules.js';
import {
  type IamRole,
  type IamRoleBinding,
  KUBESPHERE_CORE_GROUP,
  KUBESPHERE_SERVICE_ACCOUNT_USERNAME_PREFIX,
  RBAC_API_GROUP,
  REGO_OVERRIDE_ANNOTATION,
  type RoleKind,
  SERVICE_ACCOUNT_USERNAME_PREFIX,
  type Subject,
  type UserInfo,
} from './types.js';

/**
 * KubeSphere's resource scopes (`input.ResourceScope` in rego policies). Non-resource requests
 * have none (''): like cluster scope they are evaluated against global and cluster bindings.
 */
export type ResourceScope = 'Global' | 'Cluster' | 'Workspace' | 'Namespace' | '';

/** What is being asked, as KubeSphere's authorizer.Attributes. */
export interface AuthorizationAttributes {
  user: UserInfo;
  /** Resource verbs (get, list, create, …) or, for non-resource requests, the HTTP method. */
  verb: string;
  resourceRequest: boolean;
  /** Whether the request goes to the Kubernetes API (/api, /apis) rather than the platform (/kapis). */
  kubernetesRequest?: boolean;
  path?: string;
  apiGroup?: string;
  apiVersion?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  resourceScope: ResourceScope;
  cluster?: string;
  workspace?: string;
  namespace?: string;
}

/**
 * The authorization data the authorizer reads. Binding queries return at least every binding
 * whose subjects apply to the user (User by name, Group by membership, ServiceAccount by its user
 * name); they may return more, the authorizer checks subjects itself.
 */
export interface IamPolicy {
  globalRoleBindings(user: UserInfo): Iterable<IamRoleBinding>;
  clusterRoleBindings(user: UserInfo): Iterable<IamRoleBinding>;
  /** WorkspaceRoleBindings labelled `kubesphere.io/workspace=<workspace>`. */
  workspaceRoleBindings(workspace: string, user: UserInfo): Iterable<IamRoleBinding>;
  /** RoleBindings in the namespace. */
  roleBindings(namespace: string, user: UserInfo): Iterable<IamRoleBinding>;
  /** A role by kind and name (Role: in the namespace). */
  role(kind: RoleKind, name: string, namespace?: string): IamRole | undefined;
  /** The `kubesphere.io/workspace` label of a namespace ('' or undefined when none or unknown). */
  namespaceWorkspace(namespace: string): string | undefined;
}

export interface AuthorizationDecision {
  allowed: boolean;
  /** KubeSphere's wording: `RBAC: allowed by <binding> …` or the resolution errors met. */
  reason: string;
}

export type BindingKind = 'GlobalRoleBinding' | 'WorkspaceRoleBinding' | 'RoleBinding' | 'ClusterRoleBinding';

/** One binding that applies to the request's user, with the role it grants. */
export interface ApplicableGrant {
  bindingKind: BindingKind;
  binding: IamRoleBinding;
  subject: Subject;
  role: IamRole | undefined;
}

// --- subjects -------------------------------------------------------------------------------

/** Whether a binding subject denotes the user (rbac appliesToUser, with KubeSphere's service accounts). */
export function subjectAppliesTo(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return (user.groups ?? []).includes(subject.name);
    case 'ServiceAccount': {
      const username = serviceAccountSubjectUsername(subject, bindingNamespace);
      return username !== undefined && username === user.name;
    }
    default:
      return false;
  }
}

/**
 * The user name a ServiceAccount subject stands for: Kubernetes service accounts
 * (`system:serviceaccount:<ns>:<name>`) or KubeSphere's (`kubesphere:serviceaccount:<ns>:<name>`,
 * subject apiGroup core.kubesphere.io). The namespace defaults to the binding's.
 */
export function serviceAccountSubjectUsername(subject: Subject, bindingNamespace: string): string | undefined {
  const namespace = subject.namespace || bindingNamespace;
  if (!namespace) return undefined;
  const group = subject.apiGroup ?? '';
  if (group === '' || group === RBAC_API_GROUP) return `${SERVICE_ACCOUNT_USERNAME_PREFIX}${namespace}:${subject.name}`;
  if (group === KUBESPHERE_CORE_GROUP) return `${KUBESPHERE_SERVICE_ACCOUNT_USERNAME_PREFIX}${namespace}:${subject.name}`;
  return undefined;
}

function firstApplyingSubject(user: UserInfo, binding: IamRoleBinding, namespace: string): Subject | undefined {
  for (const subject of binding.subjects ?? []) if (subjectAppliesTo(user, subject, namespace)) return subject;
  return undefined;
}

const ROLE_REF_KINDS = new Set<string>(['GlobalRole', 'ClusterRole', 'WorkspaceRole', 'Role']);

// --- the authorizer -------------------------------------------------------------------------

export interface IamAuthorizerOptions {
  /** How many distinct rego policies to keep compiled (they are few: one per role shape). */
  regoCacheSize?: number;
}

export class IamAuthorizer {
  private readonly rego = new Map<string, RegoPolicy | null>();
  private readonly regoCacheSize: number;

  constructor(
    private readonly policy: IamPolicy,
    options: IamAuthorizerOptions = {},
  ) {
    this.regoCacheSize = options.regoCacheSize ?? 512;
  }

  authorize(attributes: AuthorizationAttributes): AuthorizationDecision {
    const errors: string[] = [];
    let input: Record<string, unknown> | undefined;
    for (const grant of this.applicableGrants(attributes, errors)) {
      const role = grant.role;
      if (!role) continue;
      const regoSource = role.metadata.annotations?.[REGO_OVERRIDE_ANNOTATION];
      if (regoSource) {
        input ??= regoInput(attributes);
        if (this.compiled(regoSource)?.allows(input)) return { allowed: true, reason: `RBAC: allowed by ${describeGrant(grant)}` };
      }
      for (const rule of role.rules ?? []) {
        if (ruleAllows(attributes, rule)) return { allowed: true, reason: `RBAC: allowed by ${describeGrant(grant)}` };
      }
    }
    return { allowed: false, reason: errors.length ? `RBAC: ${errors.join(', ')}` : '' };
  }

  /**
   * Every binding that applies to the request, in evaluation order, with its role resolved
   * (undefined when the role does not exist: it grants nothing). Unresolvable references are
   * reported through `errors`.
   */
  *applicableGrants(attributes: AuthorizationAttributes, errors: string[] = []): Generator<ApplicableGrant> {
    const { user, resourceScope } = attributes;
    const policy = this.policy;
    yield* this.grants('GlobalRoleBinding', policy.globalRoleBindings(user), user, '', errors);
    if (resourceScope === 'Global') return;

    let workspace = '';
    if (resourceScope === 'Namespace') workspace = policy.namespaceWorkspace(attributes.namespace ?? '') ?? '';
    if (resourceScope === 'Workspace') workspace = attributes.workspace ?? '';
    if (workspace) yield* this.grants('WorkspaceRoleBinding', policy.workspaceRoleBindings(workspace, user), user, '', errors);

    const namespace = resourceScope === 'Namespace' ? (attributes.namespace ?? '') : '';
    if (namespace) yield* this.grants('RoleBinding', policy.roleBindings(namespace, user), user, namespace, errors);

    yield* this.grants('ClusterRoleBinding', policy.clusterRoleBindings(user), user, '', errors);
  }

  private *grants(
    bindingKind: BindingKind,
    bindings: Iterable<IamRoleBinding>,
    user: UserInfo,
    namespace: string,
    errors: string[],
  ): Generator<ApplicableGrant> {
    for (const binding of bindings) {
      const subject = firstApplyingSubject(user, binding, binding.metadata.namespace ?? namespace);
      if (!subject) continue;
      const ref = binding.roleRef;
      if (!ref || !ROLE_REF_KINDS.has(ref.kind)) {
        errors.push(`unsupported role reference kind: ${JSON.stringify(ref?.kind ?? '')}`);
        continue;
      }
      const role = this.policy.role(ref.kind as RoleKind, ref.name, ref.kind === 'Role' ? (binding.metadata.namespace ?? namespace) : undefined);
      yield { bindingKind, binding, subject, role };
    }
  }

  /** A policy that does not compile grants nothing, as in KubeSphere (which logs and denies). */
  private compiled(source: string): RegoPolicy | null {
    let policy = this.rego.get(source);
    if (policy === undefined) {
      try {
        policy = compileRegoPolicy(source);
      } catch {
        policy = null;
      }
      if (this.rego.size >= this.regoCacheSize) this.rego.delete(this.rego.keys().next().value!);
      this.rego.set(source, policy);
    }
    return policy;
  }
}

/** The request as rego policies see it: authorizer.AttributesRecord marshalled with Go field names. */
export function regoInput(a: AuthorizationAttributes): Record<string, unknown> {
  return {
    User: { Name: a.user.name, UID: a.user.uid ?? '', Groups: a.user.groups ?? null, Extra: a.user.extra ?? null },
    Verb: a.verb,
    Cluster: a.cluster ?? '',
    Workspace: a.workspace ?? '',
    Namespace: a.namespace ?? '',
    DevOps: '',
    APIGroup: a.apiGroup ?? '',
    APIVersion: a.apiVersion ?? '',
    Resource: a.resource ?? '',
    Subresource: a.subresource ?? '',
    Name: a.name ?? '',
    KubernetesRequest: a.kubernetesRequest ?? false,
    ResourceRequest: a.resourceRequest,
    Path: a.path ?? '',
    ResourceScope: a.resourceScope,
  };
}

function describeSubject(subject: Subject, namespace: string): string {
  if (subject.kind === 'ServiceAccount') return `ServiceAccount ${JSON.stringify(`${subject.name}/${subject.namespace || namespace}`)}`;
  return `${subject.kind} ${JSON.stringify(subject.name)}`;
}

function describeGrant(grant: ApplicableGrant): string {
  const { binding, bindingKind, subject } = grant;
  const namespace = binding.metadata.namespace ?? '';
  const name = bindingKind === 'RoleBinding' ? `${binding.metadata.name}/${namespace}` : binding.metadata.name;
  return `${bindingKind} ${JSON.stringify(name)} of ${binding.roleRef.kind} ${JSON.stringify(binding.roleRef.name)} to ${describeSubject(subject, namespace)}`;
}

// --- a user's roles per scope (for /users/<u>/roletemplates and member listings) -------------

export interface ScopeTarget {
  workspace?: string;
  namespace?: string;
}

/**
 * The roles bound to a user by name (groups are not consulted, as in KubeSphere's
 * GetXRoleOfUser): global and cluster scope give the first binding's role, workspace and
 * namespace scope every binding's role there.
 */
export function rolesOfUser(
  policy: IamPolicy,
  username: string,
  scope: 'global' | 'cluster' | 'workspace' | 'namespace',
  target: ScopeTarget = {},
): IamRole[] {
  const user: UserInfo = { name: username, groups: [] };
  const byUser = (b: IamRoleBinding, ns = '') =>
    (b.subjects ?? []).some((s) => s.kind === 'User' && s.name === username) || firstApplyingSubject(user, b, ns) !== undefined;
  const resolve = (b: IamRoleBinding, namespace?: string): IamRole | undefined =>
    ROLE_REF_KINDS.has(b.roleRef?.kind) ? policy.role(b.roleRef.kind as RoleKind, b.roleRef.name, b.roleRef.kind === 'Role' ? namespace : undefined) : undefined;
  const collect = (bindings: Iterable<IamRoleBinding>, first: boolean, namespace?: string): IamRole[] => {
    const roles: IamRole[] = [];
    for (const binding of bindings) {
      if (!byUser(binding, namespace)) continue;
      const role = resolve(binding, namespace);
      if (role) roles.push(role);
      if (first && roles.length) break;
    }
    return roles;
  };
  switch (scope) {
    case 'global':
      return collect(policy.globalRoleBindings(user), true);
    case 'cluster':
      return collect(policy.clusterRoleBindings(user), true);
    case 'workspace':
      return target.workspace ? collect(policy.workspaceRoleBindings(target.workspace, user), false) : [];
    case 'namespace':
      return target.namespace ? collect(policy.roleBindings(target.namespace, user), false, target.namespace) : [];
  }
}
