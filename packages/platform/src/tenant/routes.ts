/**
 * `tenant.kubesphere.io/v1beta1`, as ks-apiserver serves it: workspace templates (CRUD, patch),
 * workspaces (lists narrowed to the caller's memberships unless the caller may list them all),
 * a workspace's projects (namespaces labelled with it, created with the caller as creator),
 * clusters, and workspace quotas.
 *
 * The front has authorized every request before it gets here. Handlers narrow what they answer
 * the way KubeSphere's do — and also where KubeSphere does not: every authenticated user may read
 * the tenant API (its `authenticated` role's policy), so a single workspace, project or quota is
 * only shown to those who may see that workspace or project.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors, type KubeObject } from '@canopy/apimachinery';
import { types, type Informer, type ResourceType } from '@canopy/client';
import { BY_WORKSPACE, bindingsOfSubject, indexBySubject, indexByWorkspace } from '../controllers/indexes.js';
import { creatorRoleBinding, projectRoles } from '../controllers/namespace.js';
import type { ServedResources } from '../controllers/served-resources.js';
import { HOST_CLUSTER, ORPHAN_FINALIZER, type WorkspaceTemplate } from '../controllers/workspace-template.js';
import {
  CREATOR_ANNOTATION,
  MANAGED_LABEL,
  WORKSPACE_LABEL,
  type BuiltinRole,
  type IamRoleBinding,
  type RoleTemplate,
} from '../iam/types.js';
import { can, jsonBody, listResult, objectBody, queryOf, SUCCESS, type PlatformAccess } from '../iam-api/support.js';
import { platformTypes } from '../resource-types.js';
import type { PlatformContext, PlatformUser } from '../server/types.js';
import { checkProtectedDeletion } from './admission.js';

const PREFIX = '/kapis/tenant.kubesphere.io/v1beta1';
const TENANT = 'tenant.kubesphere.io';
const TEMPLATE_REF = { group: TENANT, resource: 'workspacetemplates' };
const WORKSPACE_REF = { group: TENANT, resource: 'workspaces' };
const NAMESPACE_REF = { group: '', resource: 'namespaces' };
const QUOTA_REF = { group: 'quota.kubesphere.io', resource: 'resourcequotas' };
const PATCH_TYPES: Record<string, 'json' | 'merge'> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  // KubeSphere reads a plain JSON body of these patch routes as a merge of the object.
  'application/json': 'merge',
};

export interface TenantApiOptions {
  access: PlatformAccess;
  served: ServedResources;
}

type Params = { workspace: string; namespace: string; name: string; member: string };

function forbidden(
  user: PlatformUser,
  verb: string,
  ref: { group: string; resource: string },
  name: string,
  where: string,
): never {
  throw errors.forbidden(
    ref,
    name,
    `User "${user.name}" cannot ${verb} resource "${ref.resource}" in API group "${ref.group}" ${where}`,
  );
}

function patchTypeOf(req: FastifyRequest): 'json' | 'merge' {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  const patchType = PATCH_TYPES[type];
  if (!patchType) throw errors.unsupportedMediaType(type);
  return patchType;
}

export function tenantApi(options: TenantApiOptions) {
  return async (app: FastifyInstance, context: PlatformContext): Promise<void> => {
    const { access } = options;
    const client = context.client;
    const templates = context.informers.for<WorkspaceTemplate>(platformTypes.workspaceTemplates);
    const workspaces = context.informers.for(platformTypes.workspaces);
    const namespaces = indexByWorkspace(context.informers.for(types.namespaces));
    const workspaceBindings = indexBySubject(
      indexByWorkspace(context.informers.for<IamRoleBinding>(platformTypes.workspaceRoleBindings)),
    );
    const roleBindings = indexBySubject(context.informers.for<IamRoleBinding>(platformTypes.roleBindings));
    const builtinRoles = context.informers.for<BuiltinRole>(platformTypes.builtinRoles);
    const roleTemplates = context.informers.for<RoleTemplate>(platformTypes.roleTemplates);
    const ready = (...informers: Informer<any>[]) => Promise.all(informers.map((i) => i.start()));

    // --- who sees what ---

    /** Members of the workspace (any role) and those who may read every workspace. */
    const canSeeWorkspace = (user: PlatformUser, workspace: string) =>
      // The API group '*' asks for rules over every group, as KubeSphere asks: the
      // `authenticated` role's tenant-read policy does not answer it.
      can(access, user, { verb: 'get', apiGroup: '*', resource: 'workspaces', name: workspace, workspace, scope: 'Workspace' });
    const requireWorkspaceVisible = (user: PlatformUser, workspace: string) => {
      if (!canSeeWorkspace(user, workspace)) forbidden(user, 'get', WORKSPACE_REF, workspace, `in the workspace "${workspace}"`);
    };
    const canSeeNamespace = (user: PlatformUser, namespace: string) =>
      can(access, user, { verb: 'get', apiGroup: '', resource: 'namespaces', name: namespace, namespace, scope: 'Namespace' });

    /** The workspaces (templates or placed workspaces) a user may see, as KubeSphere lists them. */
    const visibleWorkspaceObjects = (informer: Informer<KubeObject>, user: PlatformUser): KubeObject[] => {
      if (can(access, user, { verb: 'list', apiGroup: '*', resource: 'workspaces', scope: 'Global' })) return informer.list();
      const names = new Set(
        bindingsOfSubject(workspaceBindings, user.name, user.groups)
          .map((b) => b.metadata.labels?.[WORKSPACE_LABEL])
          .filter(Boolean) as string[],
      );
      return [...names].map((n) => informer.get(n)).filter((o): o is KubeObject => !!o);
    };

    /** KubeSphere's ListNamespaces: all of the scope when the user may list them, else those the user is bound in. */
    const visibleNamespaces = (user: PlatformUser, workspace: string): KubeObject[] => {
      const scope = workspace ? 'Workspace' : 'Cluster';
      if (can(access, user, { verb: 'list', apiGroup: '', resource: 'namespaces', workspace, scope })) {
        return workspace ? namespaces.byIndex(BY_WORKSPACE, workspace) : namespaces.list();
      }
      const names = new Set(bindingsOfSubject(roleBindings, user.name, user.groups).map((b) => b.metadata.namespace!));
      return [...names]
        .map((n) => namespaces.get(n))
        .filter((ns): ns is KubeObject => !!ns && (!workspace || ns.metadata.labels?.[WORKSPACE_LABEL] === workspace));
    };

    const withType = (object: KubeObject, apiVersion: string, kind: string) => ({ ...object, apiVersion, kind });

    // --- workspace templates ---

    const getTemplate = async (name: string) =>
      withType(await client.get(platformTypes.workspaceTemplates, name), `${TENANT}/v1beta1`, 'WorkspaceTemplate');

    const createTemplate = async (req: FastifyRequest) => {
      const template = objectBody(req) as WorkspaceTemplate;
      for (const cluster of template.spec?.placement?.clusters ?? []) {
        if (cluster?.name !== HOST_CLUSTER)
          throw errors.notFound({ group: 'cluster.kubesphere.io', resource: 'clusters' }, String(cluster?.name ?? ''));
      }
      return client.create(platformTypes.workspaceTemplates, template);
    };

    const updateTemplate = async (req: FastifyRequest<{ Params: Params }>) => {
      const template = objectBody(req);
      if (template.metadata.name !== req.params.workspace) {
        throw errors.badRequest(
          `the name of the object (${template.metadata.name ?? ''}) does not match the name on the URL (${req.params.workspace})`,
        );
      }
      return client.update(platformTypes.workspaceTemplates, template);
    };

    const patchTemplate = async (req: FastifyRequest<{ Params: Params }>) => {
      const user = context.userOf(req);
      const workspace = req.params.workspace;
      // Every signed-in user holds `patch workspacetemplates` (KubeSphere's authenticated role):
      // the change itself needs the right to update this workspace.
      if (
        !can(access, user, {
          verb: 'update',
          apiGroup: TENANT,
          resource: 'workspacetemplates',
          name: workspace,
          workspace,
          scope: 'Workspace',
        })
      ) {
        forbidden(user, 'update', TEMPLATE_REF, workspace, `in the workspace "${workspace}"`);
      }
      const patchType = patchTypeOf(req);
      return client.patch(platformTypes.workspaceTemplates, workspace, jsonBody(req), patchType);
    };

    const deleteTemplate = async (req: FastifyRequest<{ Params: Params }>) => {
      const name = req.params.workspace;
      let orphan = false;
      const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8').trim() : '';
      if (raw) {
        const opts = jsonBody<{ propagationPolicy?: string }>(req);
        orphan = opts?.propagationPolicy === 'Orphan';
      }
      const template = await client.get<WorkspaceTemplate>(platformTypes.workspaceTemplates, name);
      const refusal = checkProtectedDeletion(TEMPLATE_REF, template);
      if (refusal) throw refusal;
      if (orphan && !(template.metadata.finalizers ?? []).includes(ORPHAN_FINALIZER)) {
        await client.patch(
          platformTypes.workspaceTemplates,
          name,
          [
            { op: 'test', path: '/metadata/resourceVersion', value: template.metadata.resourceVersion },
            { op: 'add', path: '/metadata/finalizers', value: [...(template.metadata.finalizers ?? []), ORPHAN_FINALIZER] },
          ],
          'json',
        );
      }
      await client.delete(platformTypes.workspaceTemplates, name);
      return SUCCESS;
    };

    app.get(`${PREFIX}/workspacetemplates`, async (req) => {
      await ready(templates, workspaceBindings);
      return listResult(
        visibleWorkspaceObjects(templates, context.userOf(req)),
        queryOf(req),
        `${TENANT}/v1beta1`,
        'WorkspaceTemplate',
      );
    });
    app.post(`${PREFIX}/workspacetemplates`, createTemplate);
    app.post(`${PREFIX}/workspaces`, createTemplate);
    app.get<{ Params: Params }>(`${PREFIX}/workspacetemplates/:workspace`, async (req) => {
      requireWorkspaceVisible(context.userOf(req), req.params.workspace);
      return getTemplate(req.params.workspace);
    });
    for (const base of ['workspacetemplates', 'workspaces']) {
      app.put<{ Params: Params }>(`${PREFIX}/${base}/:workspace`, updateTemplate);
      app.patch<{ Params: Params }>(`${PREFIX}/${base}/:workspace`, patchTemplate);
      app.delete<{ Params: Params }>(`${PREFIX}/${base}/:workspace`, deleteTemplate);
    }

    // --- workspaces ---

    app.get(`${PREFIX}/workspaces`, async (req) => {
      await ready(workspaces, workspaceBindings);
      return listResult(visibleWorkspaceObjects(workspaces, context.userOf(req)), queryOf(req), `${TENANT}/v1beta1`, 'Workspace');
    });
    app.get<{ Params: Params }>(`${PREFIX}/workspaces/:workspace`, async (req) => {
      requireWorkspaceVisible(context.userOf(req), req.params.workspace);
      return withType(await client.get(platformTypes.workspaces, req.params.workspace), `${TENANT}/v1beta1`, 'Workspace');
    });

    // --- clusters ---

    const clusters = async (names?: string[]) => {
      const type = await options.served.resolve('cluster.kubesphere.io', 'clusters');
      let items: KubeObject[];
      if (type) items = (await client.listAll(type)).items.map((c) => withType(c, 'cluster.kubesphere.io/v1alpha1', 'Cluster'));
      else items = [hostCluster()];
      if (names) items = items.filter((c) => names.includes(c.metadata.name!));
      return { items, totalItems: items.length };
    };
    app.get(`${PREFIX}/clusters`, async () => clusters());
    app.get<{ Params: Params }>(`${PREFIX}/workspaces/:workspace/clusters`, async (req) => {
      const template = await client.get<WorkspaceTemplate>(platformTypes.workspaceTemplates, req.params.workspace);
      const placement = template.spec?.placement;
      if (placement?.clusters?.length) return clusters(placement.clusters.map((c) => c.name));
      if (placement?.clusterSelector) return clusters();
      // No placement: Canopy places the workspace on the host cluster (see placedOnHost).
      return clusters([HOST_CLUSTER]);
    });

    // --- projects ---

    app.get(`${PREFIX}/namespaces`, async (req) => {
      await ready(namespaces, roleBindings);
      return listResult(visibleNamespaces(context.userOf(req), ''), queryOf(req), 'v1', 'Namespace');
    });
    app.get<{ Params: Params }>(`${PREFIX}/workspaces/:workspace/namespaces`, async (req) => {
      await ready(namespaces, roleBindings);
      return listResult(visibleNamespaces(context.userOf(req), req.params.workspace), queryOf(req), 'v1', 'Namespace');
    });
    app.get<{ Params: Params }>(`${PREFIX}/workspaces/:workspace/workspacemembers/:member/namespaces`, async (req) => {
      await ready(namespaces, roleBindings);
      return listResult(
        visibleNamespaces({ name: req.params.member, groups: [] }, req.params.workspace),
        queryOf(req),
        'v1',
        'Namespace',
      );
    });

    app.post<{ Params: Params }>(`${PREFIX}/workspaces/:workspace/namespaces`, async (req) => {
      const workspace = req.params.workspace;
      const user = context.userOf(req);
      const namespace = objectBody(req);
      if (
        !(await client.tryGet(platformTypes.workspaceTemplates, workspace)) &&
        !(await client.tryGet(platformTypes.workspaces, workspace))
      ) {
        throw errors.notFound(WORKSPACE_REF, workspace);
      }
      namespace.metadata.labels = { ...namespace.metadata.labels, [WORKSPACE_LABEL]: workspace, [MANAGED_LABEL]: 'true' };
      // The caller is the creator, whatever the body claims: the creator becomes the project's admin.
      namespace.metadata.annotations = { ...namespace.metadata.annotations, [CREATOR_ANNOTATION]: user.name };
      const created = await client.create(types.namespaces, namespace);
      // The namespace controller makes the project roles and binds the creator too; doing it here
      // (and telling the policy now rather than when the informers catch up) makes the creator
      // the project's admin at once.
      const name = created.metadata.name!;
      access.policy.upsert(created, 'Namespace');
      await ready(builtinRoles, roleTemplates);
      const objects: Array<[ResourceType, KubeObject, 'Role' | 'RoleBinding']> = [
        ...projectRoles(name, created.metadata.labels, builtinRoles.list(), roleTemplates.list()).map(
          (r): [ResourceType, KubeObject, 'Role'] => [platformTypes.roles, r, 'Role'],
        ),
        [platformTypes.roleBindings, creatorRoleBinding(user.name, name), 'RoleBinding'],
      ];
      for (const [type, object, kind] of objects) {
        try {
          access.policy.upsert(await client.create(type, object), kind);
        } catch (err) {
          if ((err as { code?: number }).code !== 409)
            context.log(`tenant: project ${name}: creating ${kind} ${object.metadata.name}: ${(err as Error).message}`);
        }
      }
      return created;
    });

    /** A project of the workspace that the caller may see (404 when it belongs to another workspace). */
    const project = async (req: FastifyRequest<{ Params: Params }>) => {
      const { workspace, namespace } = req.params;
      const user = context.userOf(req);
      const ns = await client.get(types.namespaces, namespace);
      if (ns.metadata.labels?.[WORKSPACE_LABEL] !== workspace) throw errors.notFound(NAMESPACE_REF, namespace);
      if (!canSeeNamespace(user, namespace)) forbidden(user, 'get', NAMESPACE_REF, namespace, `in the namespace "${namespace}"`);
      return ns;
    };
    app.get<{ Params: Params }>(`${PREFIX}/workspaces/:workspace/namespaces/:namespace`, async (req) =>
      withType(await project(req), 'v1', 'Namespace'),
    );
    app.put<{ Params: Params }>(`${PREFIX}/workspaces/:workspace/namespaces/:namespace`, async (req) => {
      const body = objectBody(req);
      if (body.metadata.name !== req.params.namespace) {
        throw errors.badRequest(
          `the name of the object (${body.metadata.name ?? ''}) does not match the name on the URL (${req.params.namespace})`,
        );
      }
      await project(req);
      body.metadata.labels = { ...body.metadata.labels, [WORKSPACE_LABEL]: req.params.workspace };
      return client.update(types.namespaces, body);
    });
    app.patch<{ Params: Params }>(`${PREFIX}/workspaces/:workspace/namespaces/:namespace`, async (req) => {
      const body = objectBody(req);
      await project(req);
      // A project stays in its workspace: a patch may not move it out.
      const labels = body.metadata.labels;
      if (labels !== undefined)
        body.metadata.labels = {
          ...(labels && typeof labels === 'object' ? labels : {}),
          [WORKSPACE_LABEL]: req.params.workspace,
        };
      delete (body.metadata as Record<string, unknown>).name;
      return client.patch(types.namespaces, req.params.namespace, body, 'merge');
    });
    app.delete<{ Params: Params }>(`${PREFIX}/workspaces/:workspace/namespaces/:namespace`, async (req) => {
      const ns = await project(req);
      const refusal = checkProtectedDeletion(NAMESPACE_REF, ns);
      if (refusal) throw refusal;
      await client.delete(types.namespaces, req.params.namespace, { gracePeriodSeconds: 0 });
      return SUCCESS;
    });

    // --- workspace quotas ---

    const quotaOf = async (req: FastifyRequest<{ Params: Params }>) => {
      requireWorkspaceVisible(context.userOf(req), req.params.workspace);
      const quota = await client.get(platformTypes.workspaceQuotas, req.params.name);
      if (quota.metadata.labels?.[WORKSPACE_LABEL] !== req.params.workspace) throw errors.notFound(QUOTA_REF, req.params.name);
      return quota;
    };
    const scoped = (quota: KubeObject & { spec?: Record<string, unknown> }, workspace: string) => {
      quota.metadata.labels = { ...quota.metadata.labels, [WORKSPACE_LABEL]: workspace };
      quota.spec = { ...quota.spec, selector: { [WORKSPACE_LABEL]: workspace } };
      return quota;
    };
    app.post<{ Params: Params }>(`${PREFIX}/workspaces/:workspace/resourcequotas`, async (req) =>
      client.create(platformTypes.workspaceQuotas, scoped(objectBody(req), req.params.workspace)),
    );
    app.get<{ Params: Params }>(`${PREFIX}/workspaces/:workspace/resourcequotas`, async (req) => {
      requireWorkspaceVisible(context.userOf(req), req.params.workspace);
      const list = await client.listAll(platformTypes.workspaceQuotas, {
        labelSelector: `${WORKSPACE_LABEL}=${req.params.workspace}`,
      });
      return listResult(list.items, queryOf(req), 'quota.kubesphere.io/v1alpha2', 'ResourceQuota');
    });
    app.get<{ Params: Params }>(`${PREFIX}/workspaces/:workspace/resourcequotas/:name`, async (req) =>
      withType(await quotaOf(req), 'quota.kubesphere.io/v1alpha2', 'ResourceQuota'),
    );
    app.put<{ Params: Params }>(`${PREFIX}/workspaces/:workspace/resourcequotas/:name`, async (req) => {
      const body = objectBody(req);
      if (body.metadata.name !== req.params.name) {
        throw errors.badRequest(
          `the name of the object (${body.metadata.name ?? ''}) does not match the name on the URL (${req.params.name})`,
        );
      }
      await quotaOf(req);
      return client.update(platformTypes.workspaceQuotas, scoped(body, req.params.workspace));
    });
    app.delete<{ Params: Params }>(`${PREFIX}/workspaces/:workspace/resourcequotas/:name`, async (req) => {
      await quotaOf(req);
      await client.delete(platformTypes.workspaceQuotas, req.params.name);
      return SUCCESS;
    });
  };
}

/** The host cluster as KubeSphere lists it, for a Canopy without the multi-cluster API. */
function hostCluster(): KubeObject {
  return {
    apiVersion: 'cluster.kubesphere.io/v1alpha1',
    kind: 'Cluster',
    metadata: { name: HOST_CLUSTER, labels: { 'cluster-role.kubesphere.io/host': '', 'kubesphere.io/managed': 'true' } },
    spec: { provider: 'canopy', enable: true, joinFederation: false, connection: { type: 'direct' } },
    status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'Cluster is available now' }] },
  };
}
