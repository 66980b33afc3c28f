/**
 * `iam.kubesphere.io/v1beta1` beyond the generic CRUD: members (members.ts), the role templates
 * a user holds at a scope (what permission-driven UIs show or hide), and subject access reviews
 * against the platform's three-scope authorizer. Roles, bindings, role templates and categories
 * themselves are served by the generic `/kapis` CRUD (generic.ts), as in KubeSphere 4.
 */
import type { FastifyInstance } from 'fastify';
import { errors, type KubeObject } from '@canopy/apimachinery';
import type { AuthorizationAttributes, ResourceScope } from '../iam/authorizer.js';
import { rolesOfUser } from '../iam/authorizer.js';
import { IAM_API_GROUP, IAM_SCOPES, type IamScope, type RoleTemplate } from '../iam/types.js';
import { platformTypes } from '../resource-types.js';
import type { PlatformContext } from '../server/types.js';
import { membersApi } from './members.js';
import { can, jsonBody, queryOf, type PlatformAccess } from './support.js';

const PREFIX = '/kapis/iam.kubesphere.io/v1beta1';

interface ReviewSpec {
  user?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  resourceAttributes?: {
    verb?: string;
    group?: string;
    version?: string;
    resource?: string;
    subresource?: string;
    name?: string;
    namespace?: string;
    workspace?: string;
    resourceScope?: string;
  };
  nonResourceAttributes?: { verb?: string; path?: string };
}

interface Review extends Partial<KubeObject> {
  spec?: ReviewSpec;
  status?: { allowed: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}

const SCOPES = new Set<string>(['Global', 'Cluster', 'Workspace', 'Namespace']);

/** KubeSphere's prepareAttribute: a namespace makes it namespace scope, a workspace workspace scope. */
export function reviewAttributes(spec: ReviewSpec): AuthorizationAttributes {
  const user = { name: spec.user ?? '', uid: spec.uid, groups: spec.groups ?? [], extra: spec.extra };
  const r = spec.resourceAttributes;
  if (r) {
    let scope: ResourceScope = r.namespace ? 'Namespace' : r.workspace ? 'Workspace' : ((r.resourceScope ?? '') as ResourceScope);
    if (scope && !SCOPES.has(scope)) scope = '';
    return {
      user,
      resourceRequest: true,
      verb: r.verb ?? '',
      apiGroup: r.group ?? '',
      apiVersion: r.version ?? '',
      resource: r.resource ?? '',
      subresource: r.subresource ?? '',
      name: r.name ?? '',
      namespace: r.namespace ?? '',
      workspace: r.workspace ?? '',
      resourceScope: scope,
    };
  }
  const n = spec.nonResourceAttributes ?? {};
  return { user, resourceRequest: false, verb: n.verb ?? '', path: n.path ?? '', resourceScope: '' };
}

export function iamApi(options: { access: PlatformAccess }) {
  return async (app: FastifyInstance, context: PlatformContext): Promise<void> => {
    const { access } = options;
    await membersApi(access.policy)(app, context);
    const templates = context.informers.for<RoleTemplate>(platformTypes.roleTemplates);

    app.get<{ Params: { user: string } }>(`${PREFIX}/users/:user/roletemplates`, async (req) => {
      const caller = context.userOf(req);
      const username = req.params.user;
      if (
        caller.name !== username &&
        !can(access, caller, { verb: 'get', apiGroup: IAM_API_GROUP, resource: 'users', scope: 'Global' })
      ) {
        throw errors.forbidden({ group: IAM_API_GROUP, resource: 'users' }, username, 'not allow to get users');
      }
      const query = queryOf(req);
      const scope = query.get('scope') ?? '';
      if (!(IAM_SCOPES as readonly string[]).includes(scope))
        throw errors.badRequest(`scope must be one of ${IAM_SCOPES.join(', ')}`);
      const target = { workspace: query.get('workspace') ?? undefined, namespace: query.get('namespace') ?? undefined };
      if (scope === 'workspace' && !target.workspace) throw errors.badRequest('scope workspace needs the workspace parameter');
      if (scope === 'namespace' && !target.namespace) throw errors.badRequest('scope namespace needs the namespace parameter');
      await templates.start();
      const items: KubeObject[] = [];
      const seen = new Set<string>();
      for (const role of rolesOfUser(access.policy, username, scope as IamScope, target)) {
        for (const name of role.aggregationRoleTemplates?.templateNames ?? []) {
          const template = templates.get(name);
          if (!template || seen.has(name)) continue;
          seen.add(name);
          items.push({ apiVersion: `${IAM_API_GROUP}/v1beta1`, kind: 'RoleTemplate', ...template });
        }
      }
      return { items, totalItems: items.length };
    });

    app.post(`${PREFIX}/subjectaccessreviews`, async (req) => {
      const body = jsonBody<Review & { items?: Review[] }>(req);
      if (!body || typeof body !== 'object' || Array.isArray(body))
        throw errors.badRequest('the body must be a SubjectAccessReview or a SubjectAccessReviewList');
      const review = (r: Review): Review => {
        if (!r || typeof r !== 'object' || !r.spec || typeof r.spec !== 'object')
          throw errors.badRequest('a SubjectAccessReview needs a spec');
        const decision = access.authorizer.authorize(reviewAttributes(r.spec));
        return { ...r, status: { allowed: decision.allowed, denied: false, reason: decision.reason } };
      };
      if (Array.isArray(body.items) || (typeof body.kind === 'string' && body.kind.endsWith('List'))) {
        return { ...body, items: (body.items ?? []).map(review) };
      }
      return review(body);
    });
  };
}
