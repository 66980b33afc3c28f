/**
 * An IamPolicy held in memory with the indexes the authorizer needs on its hot path: bindings by
 * subject (per workspace and per namespace for the scoped kinds), roles by name, and the
 * workspace of each namespace. A request costs a few map lookups per subject key (the user name
 * and each group), whatever the number of users, workspaces and bindings; nothing scans.
 *
 * A controller feeds it from informers: `upsert` on add/update, `remove` on delete, `replaceAll`
 * after a relist. Objects are kept as given (not copied): callers must not mutate them afterwards.
 */
import type { KubeObject } from '@canopy/apimachinery';
import { serviceAccountSubjectUsername, type IamPolicy } from './authorizer.js';
import { IAM_API_GROUP, type IamRole, type IamRoleBinding, type RoleKind, type UserInfo, WORKSPACE_LABEL } from './types.js';

export type IamPolicyKind = RoleKind | 'GlobalRoleBinding' | 'ClusterRoleBinding' | 'WorkspaceRoleBinding' | 'RoleBinding' | 'Namespace';

const ROLE_KINDS = new Set<string>(['GlobalRole', 'ClusterRole', 'WorkspaceRole', 'Role']);
const BINDING_KINDS = new Set<string>(['GlobalRoleBinding', 'ClusterRoleBinding', 'WorkspaceRoleBinding', 'RoleBinding']);

/** The kind an object is for this policy, or undefined if it is none of them (e.g. rbac.authorization.k8s.io roles). */
export function iamPolicyKindOf(object: KubeObject): IamPolicyKind | undefined {
  const kind = object.kind ?? '';
  const group = (object.apiVersion ?? '').includes('/') ? object.apiVersion!.slice(0, object.apiVersion!.indexOf('/')) : '';
  if (kind === 'Namespace' && group === '') return 'Namespace';
  if (group !== IAM_API_GROUP) return undefined;
  if (ROLE_KINDS.has(kind) || BINDING_KINDS.has(kind)) return kind as IamPolicyKind;
  return undefined;
}

/** Bindings by subject key (`User:<name>` or `Group:<name>`), each set keyed by binding identity. */
class SubjectIndex {
  readonly bySubject = new Map<string, Map<string, IamRoleBinding>>();

  add(subjectKeys: readonly string[], id: string, binding: IamRoleBinding): void {
    for (const key of subjectKeys) {
      let bindings = this.bySubject.get(key);
      if (!bindings) this.bySubject.set(key, (bindings = new Map()));
      bindings.set(id, binding);
    }
  }

  delete(subjectKeys: readonly string[], id: string): void {
    for (const key of subjectKeys) {
      const bindings = this.bySubject.get(key);
      if (!bindings) continue;
      bindings.delete(id);
      if (bindings.size === 0) this.bySubject.delete(key);
    }
  }

  get empty(): boolean {
    return this.bySubject.size === 0;
  }

  *query(user: UserInfo): Generator<IamRoleBinding> {
    const groups = user.groups ?? [];
    const userBindings = this.bySubject.get(`User:${user.name}`);
    if (groups.length === 0) {
      if (userBindings) yield* userBindings.values();
      return;
    }
    // A binding naming both the user and one of its groups is yielded once.
    const seen = new Set<string>();
    if (userBindings) {
      for (const [id, binding] of userBindings) {
        seen.add(id);
        yield binding;
      }
    }
    for (const group of groups) {
      const bindings = this.bySubject.get(`Group:${group}`);
      if (!bindings) continue;
      for (const [id, binding] of bindings) {
        if (seen.has(id)) continue;
        seen.add(id);
        yield binding;
      }
    }
  }
}

interface IndexedBinding {
  kind: IamPolicyKind;
  /** Workspace (WorkspaceRoleBinding) or namespace (RoleBinding) it is filed under. */
  scopeKey: string;
  subjectKeys: string[];
}

const EMPTY: readonly IamRoleBinding[] = [];

export class InMemoryIamPolicy implements IamPolicy {
  private readonly global = new SubjectIndex();
  private readonly cluster = new SubjectIndex();
  private readonly workspaces = new Map<string, SubjectIndex>();
  private readonly namespaces = new Map<string, SubjectIndex>();
  private readonly bindings = new Map<string, IndexedBinding>();
  private readonly roles = new Map<string, IamRole>();
  private readonly namespaceWorkspaces = new Map<string, string>();
  private changes = 0;

  /** Increments on every change: a cheap key for caches derived from the policy. */
  get version(): number {
    return this.changes;
  }

  // --- IamPolicy ---

  globalRoleBindings(user: UserInfo): Iterable<IamRoleBinding> {
    return this.global.query(user);
  }

  clusterRoleBindings(user: UserInfo): Iterable<IamRoleBinding> {
    return this.cluster.query(user);
  }

  workspaceRoleBindings(workspace: string, user: UserInfo): Iterable<IamRoleBinding> {
    return this.workspaces.get(workspace)?.query(user) ?? EMPTY;
  }

  roleBindings(namespace: string, user: UserInfo): Iterable<IamRoleBinding> {
    return this.namespaces.get(namespace)?.query(user) ?? EMPTY;
  }

  role(kind: RoleKind, name: string, namespace?: string): IamRole | undefined {
    return this.roles.get(roleKey(kind, name, kind === 'Role' ? (namespace ?? '') : ''));
  }

  namespaceWorkspace(namespace: string): string | undefined {
    return this.namespaceWorkspaces.get(namespace);
  }

  // --- feeding ---

  /** Adds or replaces an object (kind taken from the object unless given). Other kinds are ignored. */
  upsert(object: KubeObject, kind: IamPolicyKind | undefined = iamPolicyKindOf(object)): void {
    if (!kind) return;
    const name = object.metadata?.name ?? '';
    const namespace = object.metadata?.namespace ?? '';
    this.changes++;
    if (kind === 'Namespace') {
      const workspace = object.metadata.labels?.[WORKSPACE_LABEL];
      if (workspace) this.namespaceWorkspaces.set(name, workspace);
      else this.namespaceWorkspaces.delete(name);
      return;
    }
    if (ROLE_KINDS.has(kind)) {
      this.roles.set(roleKey(kind as RoleKind, name, kind === 'Role' ? namespace : ''), object as IamRole);
      return;
    }
    const id = bindingId(kind, name, namespace);
    this.unindexBinding(id);
    const binding = object as IamRoleBinding;
    const scopeKey =
      kind === 'WorkspaceRoleBinding' ? (object.metadata.labels?.[WORKSPACE_LABEL] ?? '') : kind === 'RoleBinding' ? namespace : '';
    const subjectKeys = subjectKeysOf(binding, kind === 'RoleBinding' ? namespace : '');
    // A WorkspaceRoleBinding without a workspace label never applies (KubeSphere selects by label).
    if (kind === 'WorkspaceRoleBinding' && !scopeKey) return;
    this.indexFor(kind, scopeKey, true)!.add(subjectKeys, id, binding);
    this.bindings.set(id, { kind, scopeKey, subjectKeys });
  }

  /** Removes an object (only its kind, name and namespace are read). */
  remove(object: KubeObject, kind: IamPolicyKind | undefined = iamPolicyKindOf(object)): void {
    if (!kind) return;
    const name = object.metadata?.name ?? '';
    const namespace = object.metadata?.namespace ?? '';
    this.changes++;
    if (kind === 'Namespace') {
      this.namespaceWorkspaces.delete(name);
      return;
    }
    if (ROLE_KINDS.has(kind)) {
      this.roles.delete(roleKey(kind as RoleKind, name, kind === 'Role' ? namespace : ''));
      return;
    }
    this.unindexBinding(bindingId(kind, name, namespace));
  }

  /** Replaces every object of one kind (after an informer relist). */
  replaceAll(kind: IamPolicyKind, objects: Iterable<KubeObject>): void {
    if (kind === 'Namespace') this.namespaceWorkspaces.clear();
    else if (ROLE_KINDS.has(kind)) {
      const prefix = `${kind}/`;
      for (const key of [...this.roles.keys()]) if (key.startsWith(prefix)) this.roles.delete(key);
    } else {
      for (const [id, entry] of [...this.bindings]) if (entry.kind === kind) this.unindexBinding(id);
    }
    this.changes++;
    for (const object of objects) this.upsert(object, kind);
  }

  /** Counts, for diagnostics and tests. */
  stats(): { roles: number; bindings: number; namespaces: number; workspaces: number } {
    return {
      roles: this.roles.size,
      bindings: this.bindings.size,
      namespaces: this.namespaceWorkspaces.size,
      workspaces: this.workspaces.size,
    };
  }

  private indexFor(kind: IamPolicyKind, scopeKey: string, create: boolean): SubjectIndex | undefined {
    if (kind === 'GlobalRoleBinding') return this.global;
    if (kind === 'ClusterRoleBinding') return this.cluster;
    const map = kind === 'WorkspaceRoleBinding' ? this.workspaces : this.namespaces;
    let index = map.get(scopeKey);
    if (!index && create) map.set(scopeKey, (index = new SubjectIndex()));
    return index;
  }

  private unindexBinding(id: string): void {
    const entry = this.bindings.get(id);
    if (!entry) return;
    this.bindings.delete(id);
    const index = this.indexFor(entry.kind, entry.scopeKey, false);
    if (!index) return;
    index.delete(entry.subjectKeys, id);
    if (index.empty && (entry.kind === 'WorkspaceRoleBinding' || entry.kind === 'RoleBinding')) {
      (entry.kind === 'WorkspaceRoleBinding' ? this.workspaces : this.namespaces).delete(entry.scopeKey);
    }
  }
}

function roleKey(kind: RoleKind, name: string, namespace: string): string {
  return `${kind}/${namespace}/${name}`;
}

function bindingId(kind: string, name: string, namespace: string): string {
  return `${kind}/${namespace}/${name}`;
}

/** The keys a binding is found under: users and groups by name, service accounts by user name. */
function subjectKeysOf(binding: IamRoleBinding, namespace: string): string[] {
  const keys = new Set<string>();
  for (const subject of binding.subjects ?? []) {
    if (subject.kind === 'User') keys.add(`User:${subject.name}`);
    else if (subject.kind === 'Group') keys.add(`Group:${subject.name}`);
    else if (subject.kind === 'ServiceAccount') {
      const username = serviceAccountSubjectUsername(subject, namespace);
      if (username) keys.add(`User:${username}`);
    }
  }
  return [...keys];
}
