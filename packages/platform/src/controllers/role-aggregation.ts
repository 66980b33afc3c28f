/**
 * Role aggregation for every role kind (GlobalRole, ClusterRole, WorkspaceRole, Role): a role
 * with `aggregationRoleTemplates` gets the rules, template names and rego policies of its
 * templates (see iam/aggregation.ts), and is aggregated again whenever a RoleTemplate of its
 * scope changes — KubeSphere's globalrole/clusterrole/workspacerole/role controllers' helper.
 */
import type { KubeObject } from '@canopy/apimachinery';
import { objectKey, type Informer, type ResourceType } from '@canopy/client';
import { aggregateRole, roleTemplateSource, SCOPE_OF_ROLE_KIND } from '../iam/aggregation.js';
import { REGO_OVERRIDE_ANNOTATION, SCOPE_LABEL, type IamRole, type RoleKind, type RoleTemplate } from '../iam/types.js';
import { platformTypes } from '../resource-types.js';
import { QueueController } from './runtime.js';

const ROLE_TYPES: Record<RoleKind, ResourceType> = {
  GlobalRole: platformTypes.globalRoles,
  ClusterRole: platformTypes.clusterRoles,
  WorkspaceRole: platformTypes.workspaceRoles,
  Role: platformTypes.roles,
};

export class RoleAggregationController extends QueueController {
  readonly name = 'role-aggregation';
  private readonly roles = new Map<RoleKind, Informer<IamRole>>(
    (Object.keys(ROLE_TYPES) as RoleKind[]).map((kind) => [kind, this.ctx.informers.for<IamRole>(ROLE_TYPES[kind])]),
  );
  private readonly templates = this.ctx.informers.for<RoleTemplate>(platformTypes.roleTemplates);

  informers(): Informer<any>[] {
    return [...this.roles.values(), this.templates];
  }

  *keys(): Iterable<string> {
    for (const [kind, informer] of this.roles)
      for (const role of informer.list()) if (role.aggregationRoleTemplates) yield `${kind}:${objectKey(role)}`;
  }

  register(): void {
    for (const [kind, informer] of this.roles) {
      const add = (role: KubeObject) => {
        if ((role as IamRole).aggregationRoleTemplates) this.enqueue(`${kind}:${objectKey(role)}`);
      };
      informer.addHandler({ onAdd: add, onUpdate: (_o, n) => add(n) });
    }
    // A template changes the roles of its scope that aggregate by selector or name it.
    const changed = (template: RoleTemplate) => {
      const scope = template.metadata.labels?.[SCOPE_LABEL];
      for (const [kind, informer] of this.roles) {
        if (scope && SCOPE_OF_ROLE_KIND[kind] !== scope) continue;
        for (const role of informer.list()) {
          const aggregation = role.aggregationRoleTemplates;
          if (aggregation && (aggregation.roleSelector || (aggregation.templateNames ?? []).includes(template.metadata.name!))) {
            this.enqueue(`${kind}:${objectKey(role)}`);
          }
        }
      }
    };
    this.templates.addHandler({ onAdd: changed, onUpdate: (_o, n) => changed(n), onDelete: changed });
  }

  async reconcile(key: string): Promise<void> {
    const colon = key.indexOf(':');
    const kind = key.slice(0, colon) as RoleKind;
    const role = this.roles.get(kind)!.getByKey(key.slice(colon + 1));
    if (!role?.aggregationRoleTemplates || role.metadata.deletionTimestamp) return;
    const result = aggregateRole(role, roleTemplateSource(this.templates.list()));
    if (!result.changed) return;
    const patch: Record<string, unknown> = {
      rules: result.rules,
      aggregationRoleTemplates: { ...role.aggregationRoleTemplates, templateNames: result.templateNames },
    };
    if (result.regoPolicy !== (role.metadata.annotations?.[REGO_OVERRIDE_ANNOTATION] ?? '')) {
      patch.metadata = { annotations: { [REGO_OVERRIDE_ANNOTATION]: result.regoPolicy || null } };
    }
    await this.ctx.client.patch(ROLE_TYPES[kind], role.metadata.name!, patch, 'merge', { namespace: role.metadata.namespace });
  }
}
