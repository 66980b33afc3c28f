/**
 * Projects: a namespace labelled `kubesphere.io/workspace=<ws>` is a project of that workspace.
 * As KubeSphere's namespace controller, this one
 * - marks it `kubesphere.io/managed=true` (what the project BuiltinRoles' targetSelector selects),
 * - makes the Workspace its controlling owner, so deleting the workspace deletes its projects,
 * - instantiates the project roles `admin`, `operator`, `viewer` (aggregated from templates) in
 *   every namespace the BuiltinRoles select,
 * - binds the creator (`kubesphere.io/creator` annotation) to `admin`.
 *
 * The creator is bound once, and the namespace remembers it (`CREATOR_BOUND_ANNOTATION`), so a
 * creator whose role is later changed or who is removed from the project stays that way;
 * KubeSphere re-creates the binding on every reconcile, which makes removing a creator
 * impossible.
 */
import type { KubeObject } from '@canopy/apimachinery';
import { StatusError } from '@canopy/apimachinery';
import { types, type Informer } from '@canopy/client';
import { aggregatedRole, roleTemplateSource } from '../iam/aggregation.js';
import { instantiateBuiltinRoles } from '../iam/role-templates.js';
import {
  CREATOR_ANNOTATION,
  IAM_API_GROUP,
  MANAGED_LABEL,
  ROLE_REFERENCE_LABEL,
  SCOPE_LABEL,
  USER_REFERENCE_LABEL,
  WORKSPACE_LABEL,
  type BuiltinRole,
  type IamRole,
  type RoleTemplate,
} from '../iam/types.js';
import { platformTypes } from '../resource-types.js';
import { BY_WORKSPACE, indexByWorkspace } from './indexes.js';
import { ensureObject, isTerminating, ownerReference, patchTowards, QueueController, type DesiredState } from './runtime.js';

/** The creator this namespace's `<creator>-admin` binding was made for. */
export const CREATOR_BOUND_ANNOTATION = 'platform.canopy.io/creator-bound';
/** The project role a creator gets. */
export const PROJECT_ADMIN_ROLE = 'admin';

/** The binding that makes a project's creator its admin (KubeSphere's name and labels). */
export function creatorRoleBinding(creator: string, namespace: string): KubeObject {
  return {
    apiVersion: `${IAM_API_GROUP}/v1beta1`,
    kind: 'RoleBinding',
    metadata: {
      name: `${creator}-${PROJECT_ADMIN_ROLE}`,
      namespace,
      labels: { [USER_REFERENCE_LABEL]: creator, [ROLE_REFERENCE_LABEL]: PROJECT_ADMIN_ROLE },
    },
    roleRef: { apiGroup: IAM_API_GROUP, kind: 'Role', name: PROJECT_ADMIN_ROLE },
    subjects: [{ apiGroup: IAM_API_GROUP, kind: 'User', name: creator }],
  } as KubeObject;
}

/** The project roles the BuiltinRoles give a namespace with these labels, aggregated from the templates. */
export function projectRoles(
  namespace: string,
  labels: Record<string, string> | undefined,
  builtins: readonly BuiltinRole[],
  templates: readonly RoleTemplate[],
): IamRole[] {
  const source = roleTemplateSource(templates);
  return instantiateBuiltinRoles('namespace', { name: namespace, labels }, builtins).map((role) =>
    aggregatedRole(role, source, 'namespace'),
  );
}

export class NamespaceController extends QueueController {
  readonly name = 'namespace';
  private readonly namespaces = indexByWorkspace(this.ctx.informers.for(types.namespaces));
  private readonly workspaces = this.ctx.informers.for(platformTypes.workspaces);
  private readonly roles = this.ctx.informers.for<IamRole>(platformTypes.roles);
  private readonly builtinRoles = this.ctx.informers.for<BuiltinRole>(platformTypes.builtinRoles);
  private readonly roleTemplates = this.ctx.informers.for<RoleTemplate>(platformTypes.roleTemplates);

  informers(): Informer<any>[] {
    return [this.namespaces, this.workspaces, this.roles, this.builtinRoles, this.roleTemplates];
  }

  keys(): Iterable<string> {
    return this.namespaces.list().map((n) => n.metadata.name!);
  }

  register(): void {
    const byName = (o: KubeObject) => this.enqueue(o.metadata.name!);
    this.namespaces.addHandler({ onAdd: byName, onUpdate: (_o, n) => byName(n) });
    const projectsOf = (ws: KubeObject) => {
      for (const ns of this.namespaces.byIndex(BY_WORKSPACE, ws.metadata.name!)) byName(ns);
    };
    // A workspace created after its projects (or re-created) becomes their owner.
    this.workspaces.addHandler({ onAdd: projectsOf, onUpdate: (_o, n) => projectsOf(n) });
    this.roles.addHandler({
      onUpdate: (_o, r) => this.enqueue(r.metadata.namespace!),
      onDelete: (r) => this.enqueue(r.metadata.namespace!),
    });
    const namespaceScope = (b: BuiltinRole) => b.metadata.labels?.[SCOPE_LABEL] === 'namespace';
    const all = (b: BuiltinRole) => {
      if (namespaceScope(b)) for (const key of this.keys()) this.enqueue(key);
    };
    this.builtinRoles.addHandler({ onAdd: all, onUpdate: (_o, b) => all(b), onDelete: all });
  }

  async reconcile(name: string): Promise<void> {
    const namespace = this.namespaces.get(name);
    if (!namespace || isTerminating(namespace)) return;
    const workspace = namespace.metadata.labels?.[WORKSPACE_LABEL];
    const desired: DesiredState = {};
    if (workspace && namespace.metadata.labels?.[MANAGED_LABEL] !== 'true') desired.labels = { [MANAGED_LABEL]: 'true' };
    const owner = workspace ? this.workspaces.get(workspace) : undefined;
    if (owner && !isTerminating(owner)) desired.ownerReferences = [ownerReference(platformTypes.workspaces, owner)];

    const creator = namespace.metadata.annotations?.[CREATOR_ANNOTATION];
    if (creator && namespace.metadata.annotations?.[CREATOR_BOUND_ANNOTATION] !== creator) {
      try {
        await this.ctx.client.create(platformTypes.roleBindings, creatorRoleBinding(creator, name));
      } catch (err) {
        if (!(err instanceof StatusError && err.code === 409)) throw err;
      }
      desired.annotations = { [CREATOR_BOUND_ANNOTATION]: creator };
    }

    const patch = patchTowards(namespace, desired);
    if (patch) await this.ctx.client.patch(types.namespaces, name, patch, 'merge');

    const labels = { ...namespace.metadata.labels, ...desired.labels };
    for (const want of projectRoles(name, labels, this.builtinRoles.list(), this.roleTemplates.list())) {
      await ensureObject(this.ctx.client, platformTypes.roles, this.roles.get(want.metadata.name!, name), want, {
        labels: want.metadata.labels,
        annotations: want.metadata.annotations,
        fields: { rules: want.rules ?? [], aggregationRoleTemplates: want.aggregationRoleTemplates },
      });
    }
  }
}
