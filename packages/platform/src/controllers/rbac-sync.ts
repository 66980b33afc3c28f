/**
 * Platform roles as Kubernetes RBAC, so a user's own kubeconfig (talking to the cluster directly,
 * not through the platform) has the rights the platform grants — KubeSphere 4's way:
 *
 * | platform (iam.kubesphere.io)            | Kubernetes (rbac.authorization.k8s.io)                         |
 * |-----------------------------------------|----------------------------------------------------------------|
 * | ClusterRole X                           | ClusterRole `kubesphere:iam:X`                                  |
 * | ClusterRoleBinding X                    | ClusterRoleBinding `kubesphere:iam:X` → `kubesphere:iam:<role>` |
 * | Role X in ns                            | Role `kubesphere:iam:X` in ns                                   |
 * | RoleBinding X in ns                     | RoleBinding `kubesphere:iam:X` in ns → `kubesphere:iam:<role>`  |
 * | GlobalRoleBinding X of platform-admin   | ClusterRoleBinding `kubesphere:iam:X` → `cluster-admin`         |
 * | WorkspaceRole X                         | ClusterRole `kubesphere:iam:workspacerole:X`                    |
 * | WorkspaceRoleBindings to X in ws        | RoleBinding `kubesphere:iam:workspacerole:X` in every project of ws, |
 * |                                         | its subjects those of all of ws's bindings to X                 |
 *
 * Workspace members are folded into one RoleBinding per project and role rather than one per
 * project and member: a workspace's members outnumber its roles by far (4,000 projects of 10,000
 * members made 40,000 RoleBindings, now 8,000), and every RoleBinding is held by the store and by
 * each RBAC cache. Those RoleBindings are owned by the WorkspaceRole; the subjects follow the
 * bindings here. RoleBindings of the earlier one-per-member form
 * (`kubesphere:iam:workspacerolebinding:<binding>`) are removed when their workspace is synced.
 *
 * Each Kubernetes object is owned by its platform object (the garbage collector removes it with
 * it) and deleted here as well when the platform object goes, so revoking takes effect at once.
 * All carry `kubesphere.io/managed=true`, which is how this controller watches only its own.
 * Rego-override policies have no RBAC equivalent and are not synced.
 */
import type { KubeObject } from '@canopy/apimachinery';
import { objectKey, splitKey, types, type Informer, type ResourceType } from '@canopy/client';
import {
  MANAGED_LABEL,
  RBAC_API_GROUP,
  WORKSPACE_LABEL,
  type IamRole,
  type IamRoleBinding,
  type PolicyRule,
  type Subject,
} from '../iam/types.js';
import { platformTypes } from '../resource-types.js';
import { BY_WORKSPACE, indexByWorkspace } from './indexes.js';
import { deleteIfPresent, ensureObject, ownerReference, QueueController } from './runtime.js';

export const RBAC_PREFIX = 'kubesphere:iam:';
export const PLATFORM_ADMIN = 'platform-admin';
const REF_LABELS = {
  ClusterRole: 'iam.kubesphere.io/clusterrole-ref',
  ClusterRoleBinding: 'iam.kubesphere.io/clusterrolebinding-ref',
  Role: 'iam.kubesphere.io/role-ref',
  RoleBinding: 'iam.kubesphere.io/rolebinding-ref',
  GlobalRoleBinding: 'iam.kubesphere.io/globalrolebinding-ref',
  WorkspaceRole: 'iam.kubesphere.io/workspacerole-ref',
  WorkspaceRoleBinding: 'iam.kubesphere.io/workspacerolebinding-ref',
} as const;
type SyncedKind = keyof typeof REF_LABELS;
/** On a project's RoleBinding of workspace members: the workspace whose bindings it folds. */
const WORKSPACE_MEMBERS_LABEL = 'iam.kubesphere.io/workspace-members-ref';
/** Queue key of a workspace's member RoleBindings in its projects. */
const WORKSPACE_MEMBERS = 'WorkspaceMembers';

const SOURCE_TYPES: Record<SyncedKind, ResourceType> = {
  ClusterRole: platformTypes.clusterRoles,
  ClusterRoleBinding: platformTypes.clusterRoleBindings,
  Role: platformTypes.roles,
  RoleBinding: platformTypes.roleBindings,
  GlobalRoleBinding: platformTypes.globalRoleBindings,
  WorkspaceRole: platformTypes.workspaceRoles,
  WorkspaceRoleBinding: platformTypes.workspaceRoleBindings,
};

/** The Kubernetes name of a synced object. */
export function rbacName(kind: SyncedKind, name: string): string {
  if (kind === 'WorkspaceRole') return `${RBAC_PREFIX}workspacerole:${name}`;
  if (kind === 'WorkspaceRoleBinding') return `${RBAC_PREFIX}workspacerolebinding:${name}`;
  return `${RBAC_PREFIX}${name}`;
}

/**
 * Platform subjects as RBAC subjects: users and groups in the RBAC group, Kubernetes service
 * accounts in the core group with their namespace, KubeSphere service accounts as the user name
 * their tokens carry.
 */
export function rbacSubjects(subjects: Subject[] | undefined, bindingNamespace = ''): Subject[] {
  const out: Subject[] = [];
  for (const s of subjects ?? []) {
    if (s.kind === 'User' || s.kind === 'Group') out.push({ kind: s.kind, apiGroup: RBAC_API_GROUP, name: s.name });
    else if (s.kind === 'ServiceAccount') {
      const namespace = s.namespace || bindingNamespace;
      if (!namespace) continue;
      if (s.apiGroup === 'core.kubesphere.io')
        out.push({ kind: 'User', apiGroup: RBAC_API_GROUP, name: `kubesphere:serviceaccount:${namespace}:${s.name}` });
      else out.push({ kind: 'ServiceAccount', name: s.name, namespace });
    }
  }
  return out;
}

/** Rules RBAC accepts: verbs, and resources with API groups or (cluster roles only) non-resource URLs. */
function rbacRules(rules: PolicyRule[] | undefined, namespaced: boolean): PolicyRule[] {
  return (rules ?? [])
    .filter(
      (r) => r.verbs?.length && ((r.resources?.length && r.apiGroups?.length) || (!namespaced && r.nonResourceURLs?.length)),
    )
    .map((r) => {
      if (r.resources?.length)
        return {
          apiGroups: r.apiGroups,
          resources: r.resources,
          verbs: r.verbs,
          ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
        };
      return { nonResourceURLs: r.nonResourceURLs, verbs: r.verbs };
    });
}

export class RbacSyncController extends QueueController {
  readonly name = 'rbac-sync';
  private readonly sources = new Map<SyncedKind, Informer<KubeObject>>(
    (Object.keys(SOURCE_TYPES) as SyncedKind[]).map((kind) => [kind, this.ctx.informers.for(SOURCE_TYPES[kind])]),
  );
  private readonly namespaces = indexByWorkspace(this.ctx.informers.for(types.namespaces));
  private readonly workspaceBindings = indexByWorkspace(this.sources.get('WorkspaceRoleBinding')!);
  private readonly managed = { labelSelector: `${MANAGED_LABEL}=true` };
  private readonly k8sClusterRoles = this.ctx.informers.for(types.clusterRoles, this.managed);
  private readonly k8sClusterRoleBindings = this.ctx.informers.for(types.clusterRoleBindings, this.managed);
  private readonly k8sRoles = this.ctx.informers.for(types.roles, this.managed);
  private readonly k8sRoleBindings = this.ctx.informers.for(types.roleBindings, this.managed);

  constructor(...args: ConstructorParameters<typeof QueueController>) {
    super(...args);
    this.k8sRoleBindings.addIndex(WORKSPACE_MEMBERS_LABEL, (o) => {
      const ref = o.metadata.labels?.[WORKSPACE_MEMBERS_LABEL];
      return ref ? [ref] : [];
    });
    // Earlier form: one RoleBinding per project and workspace role binding; the workspace is its project's.
    this.k8sRoleBindings.addIndex('workspacerolebinding-namespace', (o) =>
      o.metadata.labels?.[REF_LABELS.WorkspaceRoleBinding] ? [o.metadata.namespace!] : [],
    );
  }

  informers(): Informer<any>[] {
    return [
      ...this.sources.values(),
      this.namespaces,
      this.k8sClusterRoles,
      this.k8sClusterRoleBindings,
      this.k8sRoles,
      this.k8sRoleBindings,
    ];
  }

  *keys(): Iterable<string> {
    for (const [kind, informer] of this.sources) {
      if (kind === 'WorkspaceRoleBinding') continue;
      for (const o of informer.list()) yield `${kind}:${objectKey(o)}`;
    }
    const workspaces = new Set<string>();
    for (const ns of this.namespaces.list()) {
      const ws = ns.metadata.labels?.[WORKSPACE_LABEL];
      if (ws) workspaces.add(ws);
    }
    for (const o of this.sources.get('WorkspaceRoleBinding')!.list()) {
      const ws = o.metadata.labels?.[WORKSPACE_LABEL];
      if (ws) workspaces.add(ws);
    }
    for (const ws of workspaces) yield this.membersKey(ws);
  }

  private membersKey(workspace: string): string {
    return `${WORKSPACE_MEMBERS}:${workspace}`;
  }

  /** A workspace's member RoleBindings change with its bindings, its roles and its projects. */
  private enqueueWorkspace(workspace: string | undefined): void {
    if (workspace) this.enqueue(this.membersKey(workspace));
  }

  register(): void {
    for (const [kind, informer] of this.sources) {
      const key =
        kind === 'WorkspaceRoleBinding'
          ? (o: KubeObject) => this.enqueueWorkspace(o.metadata.labels?.[WORKSPACE_LABEL])
          : (o: KubeObject) => this.enqueue(`${kind}:${objectKey(o)}`);
      informer.addHandler({
        onAdd: key,
        onUpdate: (old, n) => {
          key(n);
          // A binding moved to another workspace leaves the first one too.
          if (kind === 'WorkspaceRoleBinding' && old.metadata.labels?.[WORKSPACE_LABEL] !== n.metadata.labels?.[WORKSPACE_LABEL])
            key(old);
        },
        onDelete: key,
      });
    }
    // A workspace role appearing (its bindings may have come first) or going.
    this.sources.get('WorkspaceRole')!.addHandler({
      onAdd: (o) => this.enqueueWorkspace(o.metadata.labels?.[WORKSPACE_LABEL]),
      onDelete: (o) => this.enqueueWorkspace(o.metadata.labels?.[WORKSPACE_LABEL]),
    });
    // Drift: a synced object edited or deleted by someone else is put back.
    const owner = (o: KubeObject) => {
      this.enqueueWorkspace(o.metadata.labels?.[WORKSPACE_MEMBERS_LABEL]);
      for (const [kind, label] of Object.entries(REF_LABELS) as [SyncedKind, string][]) {
        const ref = o.metadata.labels?.[label];
        if (!ref) continue;
        if (kind === 'WorkspaceRoleBinding') {
          this.enqueueWorkspace(this.namespaces.get(o.metadata.namespace!)?.metadata.labels?.[WORKSPACE_LABEL]);
          continue;
        }
        const namespaced = kind === 'Role' || kind === 'RoleBinding';
        this.enqueue(`${kind}:${namespaced ? `${o.metadata.namespace}/${ref}` : ref}`);
      }
    };
    for (const informer of [this.k8sClusterRoles, this.k8sClusterRoleBindings, this.k8sRoles, this.k8sRoleBindings])
      informer.addHandler({ onUpdate: (_o, n) => owner(n), onDelete: owner });
    // A RoleBinding of the earlier one-per-member form (restored from a backup, say) is folded away.
    this.k8sRoleBindings.addHandler({
      onAdd: (o) => {
        if (o.metadata.labels?.[REF_LABELS.WorkspaceRoleBinding]) owner(o);
      },
    });
    // Roles and bindings seen before their namespace (skipped then) are synced once it is.
    const namespaced = (ns: KubeObject) => {
      for (const kind of ['Role', 'RoleBinding'] as const)
        for (const o of this.sources.get(kind)!.list(ns.metadata.name)) this.enqueue(`${kind}:${objectKey(o)}`);
    };
    this.namespaces.addHandler({
      onAdd: (ns) => {
        namespaced(ns);
        this.enqueueWorkspace(ns.metadata.labels?.[WORKSPACE_LABEL]);
      },
      // A project joining or leaving a workspace changes where workspace bindings apply.
      onUpdate: (old, ns) => {
        if (old.metadata.labels?.[WORKSPACE_LABEL] === ns.metadata.labels?.[WORKSPACE_LABEL]) return;
        this.enqueueWorkspace(old.metadata.labels?.[WORKSPACE_LABEL]);
        this.enqueueWorkspace(ns.metadata.labels?.[WORKSPACE_LABEL]);
      },
    });
  }

  async reconcile(key: string): Promise<void> {
    const colon = key.indexOf(':');
    if (key.slice(0, colon) === WORKSPACE_MEMBERS) return this.syncWorkspaceMembers(key.slice(colon + 1));
    const kind = key.slice(0, colon) as SyncedKind;
    const { namespace, name } = splitKey(key.slice(colon + 1));
    const source = this.sources.get(kind)!.get(name, namespace);
    const live = source && !source.metadata.deletionTimestamp ? source : undefined;
    // A namespace going away takes its roles and bindings with it; nothing is created into it.
    if (namespace) {
      const ns = this.namespaces.get(namespace);
      if (!ns || ns.metadata.deletionTimestamp) return;
    }
    switch (kind) {
      case 'ClusterRole':
      case 'WorkspaceRole':
        return this.syncRole(kind, types.clusterRoles, this.k8sClusterRoles, name, undefined, live as IamRole | undefined);
      case 'Role':
        return this.syncRole(kind, types.roles, this.k8sRoles, name, namespace, live as IamRole | undefined);
      case 'ClusterRoleBinding':
      case 'GlobalRoleBinding':
        return this.syncClusterBinding(kind, name, live as IamRoleBinding | undefined);
      case 'RoleBinding':
        return this.syncRoleBinding(name, namespace!, live as IamRoleBinding | undefined);
      case 'WorkspaceRoleBinding':
        // Keyed by workspace (above); a key of this kind is never queued.
        return;
    }
  }

  private labels(kind: SyncedKind, name: string): Record<string, string> {
    return { [MANAGED_LABEL]: 'true', [REF_LABELS[kind]]: name };
  }

  private async syncRole(
    kind: SyncedKind,
    type: ResourceType,
    cache: Informer<KubeObject>,
    name: string,
    namespace: string | undefined,
    role: IamRole | undefined,
  ): Promise<void> {
    const target = rbacName(kind, name);
    if (!role) return deleteIfPresent(this.ctx.client, type, target, namespace);
    const labels = this.labels(kind, name);
    const owner = ownerReference(SOURCE_TYPES[kind], role);
    const rules = rbacRules(role.rules, kind === 'Role');
    await ensureObject(
      this.ctx.client,
      type,
      cache.get(target, namespace),
      { metadata: { name: target, namespace, labels, ownerReferences: [owner] }, rules } as KubeObject,
      {
        labels,
        ownerReferences: [owner],
        fields: { rules },
      },
    );
  }

  /** A binding's roleRef cannot change in RBAC: a different one means delete and create. */
  private async ensureBinding(
    type: ResourceType,
    cache: Informer<KubeObject>,
    object: KubeObject & { roleRef: unknown; subjects: Subject[] },
  ): Promise<void> {
    const { name, namespace } = object.metadata;
    let current = cache.get(name!, namespace) as (KubeObject & { roleRef?: unknown }) | undefined;
    if (current && JSON.stringify(current.roleRef) !== JSON.stringify(object.roleRef)) {
      await deleteIfPresent(this.ctx.client, type, name!, namespace);
      current = undefined;
    }
    await ensureObject(this.ctx.client, type, current, object, {
      labels: object.metadata.labels,
      ownerReferences: object.metadata.ownerReferences,
      fields: { subjects: object.subjects },
    });
  }

  private async syncClusterBinding(
    kind: 'ClusterRoleBinding' | 'GlobalRoleBinding',
    name: string,
    binding: IamRoleBinding | undefined,
  ): Promise<void> {
    const target = rbacName(kind, name);
    // Only platform-admin of the global roles has a Kubernetes meaning: the whole cluster.
    if (!binding || (kind === 'GlobalRoleBinding' && binding.roleRef?.name !== PLATFORM_ADMIN)) {
      if (kind === 'ClusterRoleBinding' || this.k8sClusterRoleBindings.get(target))
        await deleteIfPresent(this.ctx.client, types.clusterRoleBindings, target);
      return;
    }
    const role = kind === 'GlobalRoleBinding' ? 'cluster-admin' : rbacName('ClusterRole', binding.roleRef.name);
    await this.ensureBinding(types.clusterRoleBindings, this.k8sClusterRoleBindings, {
      metadata: { name: target, labels: this.labels(kind, name), ownerReferences: [ownerReference(SOURCE_TYPES[kind], binding)] },
      roleRef: { apiGroup: RBAC_API_GROUP, kind: 'ClusterRole', name: role },
      subjects: rbacSubjects(binding.subjects),
    });
  }

  private async syncRoleBinding(name: string, namespace: string, binding: IamRoleBinding | undefined): Promise<void> {
    const target = rbacName('RoleBinding', name);
    if (!binding) return deleteIfPresent(this.ctx.client, types.roleBindings, target, namespace);
    const refKind = binding.roleRef?.kind === 'ClusterRole' ? 'ClusterRole' : 'Role';
    await this.ensureBinding(types.roleBindings, this.k8sRoleBindings, {
      metadata: {
        name: target,
        namespace,
        labels: this.labels('RoleBinding', name),
        ownerReferences: [ownerReference(platformTypes.roleBindings, binding)],
      },
      roleRef: { apiGroup: RBAC_API_GROUP, kind: refKind, name: rbacName(refKind, binding.roleRef.name) },
      subjects: rbacSubjects(binding.subjects, namespace),
    });
  }

  /**
   * In every project of the workspace, one RoleBinding per workspace role bound in it, to the
   * role's ClusterRole, with the subjects of all the workspace's bindings to that role (in binding
   * name order, without repeats); every other member RoleBinding of the workspace goes.
   */
  private async syncWorkspaceMembers(workspace: string): Promise<void> {
    const roles = this.sources.get('WorkspaceRole')!;
    // Subjects by role, keyed by kind/namespace/name so a workspace of thousands of members folds in linear time.
    const subjectsByRole = new Map<string, Map<string, Subject>>();
    const bindings = (this.workspaceBindings.byIndex(BY_WORKSPACE, workspace) as IamRoleBinding[])
      .filter((b) => !b.metadata.deletionTimestamp && b.roleRef?.name)
      .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
    for (const binding of bindings) {
      let subjects = subjectsByRole.get(binding.roleRef.name);
      if (!subjects) subjectsByRole.set(binding.roleRef.name, (subjects = new Map()));
      for (const s of rbacSubjects(binding.subjects)) {
        const id = `${s.kind}/${s.namespace ?? ''}/${s.name}`;
        if (!subjects.has(id)) subjects.set(id, s);
      }
    }
    const folded = [...subjectsByRole].map(([role, byId]): [string, Subject[]] => [role, [...byId.values()]]);
    const wanted = new Set<string>();
    for (const ns of this.namespaces.byIndex(BY_WORKSPACE, workspace)) {
      if (ns.metadata.deletionTimestamp) continue;
      const namespace = ns.metadata.name!;
      for (const [roleName, subjects] of folded) {
        const role = roles.get(roleName);
        // Bound before the role exists (or after it went): nothing to own it; its arrival requeues.
        if (!role || role.metadata.deletionTimestamp || !subjects.length) continue;
        const target = rbacName('WorkspaceRole', roleName);
        wanted.add(`${namespace}/${target}`);
        await this.ensureBinding(types.roleBindings, this.k8sRoleBindings, {
          metadata: {
            name: target,
            namespace,
            labels: { [MANAGED_LABEL]: 'true', [WORKSPACE_MEMBERS_LABEL]: workspace },
            ownerReferences: [ownerReference(platformTypes.workspaceRoles, role)],
          },
          roleRef: { apiGroup: RBAC_API_GROUP, kind: 'ClusterRole', name: target },
          subjects,
        });
      }
    }
    for (const stale of this.k8sRoleBindings.byIndex(WORKSPACE_MEMBERS_LABEL, workspace))
      if (!wanted.has(objectKey(stale)))
        await deleteIfPresent(this.ctx.client, types.roleBindings, stale.metadata.name!, stale.metadata.namespace);
    // The earlier one-per-member form, in this workspace's projects.
    for (const ns of this.namespaces.byIndex(BY_WORKSPACE, workspace))
      for (const legacy of this.k8sRoleBindings.byIndex('workspacerolebinding-namespace', ns.metadata.name!))
        await deleteIfPresent(this.ctx.client, types.roleBindings, legacy.metadata.name!, legacy.metadata.namespace);
  }
}
