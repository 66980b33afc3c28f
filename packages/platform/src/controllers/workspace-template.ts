/**
 * WorkspaceTemplate → Workspace on the host cluster, the workspace's built-in WorkspaceRoles
 * (`<ws>-admin|regular|self-provisioner|viewer`, from the workspace-scope BuiltinRoles whose
 * targetSelector matches the template's labels) and the manager's `<ws>-admin` binding, as
 * KubeSphere's workspacetemplate controller does. Everything it creates is owned by the template.
 *
 * Deleting a template deletes its projects: the controller's finalizer deletes the workspace's
 * namespaces itself (so it works without a garbage collector, and the namespaces' owner
 * references to the Workspace make the collector do the same). A template deleted with
 * `propagationPolicy: Orphan` through the tenant API carries KubeSphere's orphan finalizer: its
 * Workspace is deleted orphaning the namespaces, which stay.
 */
import type { KubeObject } from '@canopy/apimachinery';
import { StatusError } from '@canopy/apimachinery';
import { types, type Informer } from '@canopy/client';
import { aggregatedRole, roleTemplateSource } from '../iam/aggregation.js';
import { instantiateBuiltinRoles } from '../iam/role-templates.js';
import {
  IAM_API_GROUP,
  PROTECTED_RESOURCE_LABEL,
  ROLE_REFERENCE_LABEL,
  USER_REFERENCE_LABEL,
  WORKSPACE_LABEL,
  type BuiltinRole,
  type IamRole,
  type IamRoleBinding,
  type RoleTemplate,
} from '../iam/types.js';
import { platformTypes } from '../resource-types.js';
import { BY_WORKSPACE, indexByWorkspace } from './indexes.js';
import { deleteIfPresent, ensureObject, isTerminating, ownerReference, QueueController } from './runtime.js';

export const WORKSPACE_TEMPLATE_FINALIZER = 'finalizers.workspacetemplate.kubesphere.io';
export const ORPHAN_FINALIZER = 'orphan.finalizers.kubesphere.io';
export const HOST_CLUSTER = 'host';

export interface WorkspaceTemplate extends KubeObject {
  spec?: {
    template?: {
      metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec?: { manager?: string };
    };
    placement?: {
      clusters?: { name: string }[];
      clusterSelector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
    };
  };
}

/**
 * Whether a template places its workspace on the host cluster. Canopy serves one cluster: a
 * template naming clusters places it on `host` only when `host` is among them; a cluster
 * selector places it when it selects everything (`{}`); an empty placement places it too (a
 * workspace without a Workspace could hold no project).
 */
export function placedOnHost(template: WorkspaceTemplate): boolean {
  const placement = template.spec?.placement ?? {};
  if (placement.clusters?.length) return placement.clusters.some((c) => c.name === HOST_CLUSTER);
  const selector = placement.clusterSelector;
  if (selector) return !Object.keys(selector.matchLabels ?? {}).length && !(selector.matchExpressions ?? []).length;
  return true;
}

export class WorkspaceTemplateController extends QueueController {
  readonly name = 'workspacetemplate';
  private readonly templates = this.ctx.informers.for<WorkspaceTemplate>(platformTypes.workspaceTemplates);
  private readonly workspaces = this.ctx.informers.for(platformTypes.workspaces);
  private readonly workspaceRoles = indexByWorkspace(this.ctx.informers.for<IamRole>(platformTypes.workspaceRoles));
  private readonly workspaceRoleBindings = indexByWorkspace(
    this.ctx.informers.for<IamRoleBinding>(platformTypes.workspaceRoleBindings),
  );
  private readonly builtinRoles = this.ctx.informers.for<BuiltinRole>(platformTypes.builtinRoles);
  private readonly roleTemplates = this.ctx.informers.for<RoleTemplate>(platformTypes.roleTemplates);
  private readonly namespaces = indexByWorkspace(this.ctx.informers.for(types.namespaces));

  informers(): Informer<any>[] {
    return [
      this.templates,
      this.workspaces,
      this.workspaceRoles,
      this.workspaceRoleBindings,
      this.builtinRoles,
      this.roleTemplates,
      this.namespaces,
    ];
  }

  keys(): Iterable<string> {
    return this.templates.list().map((t) => t.metadata.name!);
  }

  register(): void {
    const byName = (o: KubeObject) => this.enqueue(o.metadata.name!);
    const byLabel = (o: KubeObject) => {
      const ws = o.metadata.labels?.[WORKSPACE_LABEL];
      if (ws) this.enqueue(ws);
    };
    const all = () => {
      for (const key of this.keys()) this.enqueue(key);
    };
    this.templates.addHandler({ onAdd: byName, onUpdate: (_o, n) => byName(n), onDelete: byName });
    this.workspaces.addHandler({ onUpdate: (_o, n) => byName(n), onDelete: byName });
    for (const informer of [this.workspaceRoles, this.workspaceRoleBindings])
      informer.addHandler({ onUpdate: (_o, n) => byLabel(n), onDelete: byLabel });
    this.builtinRoles.addHandler({ onAdd: all, onUpdate: all, onDelete: all });
    // A terminating template waits for its namespaces to go.
    this.namespaces.addHandler({
      onDelete: (ns) => {
        const ws = ns.metadata.labels?.[WORKSPACE_LABEL];
        if (ws && isTerminating(this.templates.get(ws))) this.enqueue(ws);
      },
    });
  }

  async reconcile(name: string): Promise<void> {
    const template = this.templates.get(name);
    if (!template) return;
    if (isTerminating(template)) return this.finalize(template);
    if (!(template.metadata.finalizers ?? []).includes(WORKSPACE_TEMPLATE_FINALIZER)) {
      await this.setFinalizers(template, [...(template.metadata.finalizers ?? []), WORKSPACE_TEMPLATE_FINALIZER]);
      return; // the update brings the template back through the queue
    }
    await this.syncWorkspace(template);
    await this.syncWorkspaceRoles(template);
    await this.syncManagerBinding(template);
  }

  private async syncWorkspace(template: WorkspaceTemplate): Promise<void> {
    const name = template.metadata.name!;
    const current = this.workspaces.get(name);
    if (!placedOnHost(template)) {
      if (current) await deleteIfPresent(this.ctx.client, platformTypes.workspaces, name);
      return;
    }
    const meta = template.spec?.template?.metadata ?? {};
    const spec = template.spec?.template?.spec ?? {};
    const owner = ownerReference(platformTypes.workspaceTemplates, template);
    const labels = { ...meta.labels };
    // A protected template protects its workspace.
    if (template.metadata.labels?.[PROTECTED_RESOURCE_LABEL])
      labels[PROTECTED_RESOURCE_LABEL] = template.metadata.labels[PROTECTED_RESOURCE_LABEL];
    await ensureObject(
      this.ctx.client,
      platformTypes.workspaces,
      current,
      { metadata: { name, labels, annotations: { ...meta.annotations }, ownerReferences: [owner] }, spec },
      { labels, annotations: meta.annotations, ownerReferences: [owner], fields: { spec } },
    );
  }

  private async syncWorkspaceRoles(template: WorkspaceTemplate): Promise<void> {
    const name = template.metadata.name!;
    const owner = ownerReference(platformTypes.workspaceTemplates, template);
    const source = roleTemplateSource(this.roleTemplates.list());
    for (const role of instantiateBuiltinRoles(
      'workspace',
      { name, labels: template.metadata.labels },
      this.builtinRoles.list(),
    )) {
      const desired = aggregatedRole(role, source, 'workspace');
      desired.metadata.ownerReferences = [owner];
      const current = this.workspaceRoles.get(desired.metadata.name!);
      await ensureObject(this.ctx.client, platformTypes.workspaceRoles, current, desired, {
        labels: desired.metadata.labels,
        annotations: desired.metadata.annotations,
        ownerReferences: [owner],
        fields: { rules: desired.rules ?? [], aggregationRoleTemplates: desired.aggregationRoleTemplates },
      });
    }
  }

  private async syncManagerBinding(template: WorkspaceTemplate): Promise<void> {
    const manager = template.spec?.template?.spec?.manager;
    if (!manager) return;
    const name = template.metadata.name!;
    const role = `${name}-admin`;
    const owner = ownerReference(platformTypes.workspaceTemplates, template);
    const labels = { [WORKSPACE_LABEL]: name, [USER_REFERENCE_LABEL]: manager, [ROLE_REFERENCE_LABEL]: role };
    const roleRef = { apiGroup: IAM_API_GROUP, kind: 'WorkspaceRole', name: role };
    const subjects = [{ apiGroup: IAM_API_GROUP, kind: 'User', name: manager }];
    await ensureObject(
      this.ctx.client,
      platformTypes.workspaceRoleBindings,
      this.workspaceRoleBindings.get(role),
      { metadata: { name: role, labels, ownerReferences: [owner] }, roleRef, subjects } as KubeObject,
      { labels, ownerReferences: [owner], fields: { roleRef, subjects } },
    );
  }

  /** The template is being deleted: its projects go first (unless orphaned), then the Workspace. */
  private async finalize(template: WorkspaceTemplate): Promise<void> {
    const finalizers = template.metadata.finalizers ?? [];
    if (!finalizers.includes(WORKSPACE_TEMPLATE_FINALIZER) && !finalizers.includes(ORPHAN_FINALIZER)) return;
    const name = template.metadata.name!;
    const orphan = finalizers.includes(ORPHAN_FINALIZER);
    if (!orphan) {
      for (const ns of this.namespaces.byIndex(BY_WORKSPACE, name)) {
        if (isTerminating(ns)) continue;
        if (ns.metadata.labels?.[PROTECTED_RESOURCE_LABEL] === 'true') {
          this.ctx.log(`workspacetemplate ${name}: project ${ns.metadata.name} is protected and stays`);
          continue;
        }
        await deleteIfPresent(this.ctx.client, types.namespaces, ns.metadata.name!);
      }
    }
    await deleteIfPresent(this.ctx.client, platformTypes.workspaces, name, undefined, orphan ? 'Orphan' : 'Background');
    await this.setFinalizers(
      template,
      finalizers.filter((f) => f !== WORKSPACE_TEMPLATE_FINALIZER && f !== ORPHAN_FINALIZER),
    );
  }

  /** Replaces the finalizer list under the object's resourceVersion (others may add theirs concurrently). */
  private async setFinalizers(template: WorkspaceTemplate, finalizers: string[]): Promise<void> {
    try {
      await this.ctx.client.patch(
        platformTypes.workspaceTemplates,
        template.metadata.name!,
        [
          { op: 'test', path: '/metadata/resourceVersion', value: template.metadata.resourceVersion },
          { op: 'add', path: '/metadata/finalizers', value: finalizers },
        ],
        'json',
      );
    } catch (err) {
      if (err instanceof StatusError && err.code === 404) return;
      throw err;
    }
  }
}
