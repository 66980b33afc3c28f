/**
 * Members at workspace, project and cluster scope (KubeSphere's
 * `/kapis/iam.kubesphere.io/v1beta1/{workspaces/<ws>/workspacemembers | namespaces/<ns>/namespacemembers | clustermembers}`):
 * a member is a user with a binding of a role of that scope, written as KubeSphere's access
 * manager writes it — one binding per user and scope, named `<user>-<role>`, labelled with the
 * user and role (see iam/role-templates.ts memberRoleBinding). Adding a member with another role
 * replaces the binding; removing deletes every binding of the user there. The authorizer reads
 * bindings from informers, so a change applies to the next request.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors, StatusError, type KubeObject } from '@canopy/apimachinery';
import type { Informer, InformerFactory, KubeClient, ResourceType } from '@canopy/client';
import { BY_USER_REFERENCE, BY_WORKSPACE, indexByUserReference, indexByWorkspace } from '../controllers/indexes.js';
import { waitForInformer, waitForInformerDelete } from '../identity/cache-sync.js';
import type { InMemoryIamPolicy } from '../iam/memory-policy.js';
import { memberRoleBinding } from '../iam/role-templates.js';
import { IAM_API_GROUP, ROLE_REFERENCE_LABEL, USER_REFERENCE_LABEL, WORKSPACE_LABEL, type IamRoleBinding } from '../iam/types.js';
import { platformTypes } from '../resource-types.js';
import type { PlatformContext } from '../server/types.js';
import { jsonBody, listResult, publicUser, queryOf, SUCCESS } from './support.js';

const PREFIX = '/kapis/iam.kubesphere.io/v1beta1';

/** The annotation carrying a member's role in member listings. */
export const MEMBER_ROLE_ANNOTATIONS = {
  workspace: 'iam.kubesphere.io/workspacerole',
  namespace: 'iam.kubesphere.io/role',
  cluster: 'iam.kubesphere.io/clusterrole',
} as const;

export interface Member {
  username: string;
  roleRef: string;
}

type Scope = keyof typeof MEMBER_ROLE_ANNOTATIONS;

interface Target {
  scope: Scope;
  workspace?: string;
  namespace?: string;
}

const BINDING_TYPES: Record<Scope, ResourceType> = {
  workspace: platformTypes.workspaceRoleBindings,
  namespace: platformTypes.roleBindings,
  cluster: platformTypes.clusterRoleBindings,
};
const ROLE_TYPES: Record<Scope, ResourceType> = {
  workspace: platformTypes.workspaceRoles,
  namespace: platformTypes.roles,
  cluster: platformTypes.clusterRoles,
};
const BINDING_KINDS = { workspace: 'WorkspaceRoleBinding', namespace: 'RoleBinding', cluster: 'ClusterRoleBinding' } as const;

function isMember(value: unknown): value is Member {
  return (
    !!value &&
    typeof value === 'object' &&
    typeof (value as Member).username === 'string' &&
    typeof (value as Member).roleRef === 'string'
  );
}

function memberBody(req: FastifyRequest): Member {
  const body = jsonBody(req);
  if (!isMember(body) || !body.username || !body.roleRef)
    throw errors.badRequest('the body must be a member: {"username": "<user>", "roleRef": "<role>"}');
  return body;
}

function membersBody(req: FastifyRequest): Member[] {
  const body = jsonBody(req);
  if (!Array.isArray(body) || !body.every((m) => isMember(m) && m.username && m.roleRef)) {
    throw errors.badRequest('the body must be a list of members: [{"username": "<user>", "roleRef": "<role>"}]');
  }
  return body;
}

/**
 * KubeSphere's access manager (am.go), which lists bindings by label from its informer cache:
 * here the platform's informers, indexed by user and by workspace, so finding a member's bindings
 * does not scan every binding of the cluster (at 10,000 members a label-selector LIST per
 * change made adding members O(n) each). Every write waits until the informer has seen it
 * (cache-sync.ts), so the caller's next request reads its own change; with the platform's
 * policy, each change is also applied to it at once, so the member's next request is decided
 * under the new binding.
 */
export class MemberManager {
  constructor(
    private readonly client: KubeClient,
    private readonly informers: InformerFactory,
    private readonly policy?: InMemoryIamPolicy,
  ) {}

  private informer(scope: Scope): Informer<IamRoleBinding> {
    const informer = this.informers.for<IamRoleBinding>(BINDING_TYPES[scope]);
    indexByUserReference(informer);
    indexByWorkspace(informer);
    return informer;
  }

  /** Bindings of one user (or of everyone) with one role (or any) at the target. */
  async bindings(target: Target, username = '', role = ''): Promise<IamRoleBinding[]> {
    const informer = this.informer(target.scope);
    await informer.start();
    const candidates = username
      ? informer.byIndex(BY_USER_REFERENCE, username)
      : target.scope === 'workspace'
        ? informer.byIndex(BY_WORKSPACE, target.workspace ?? '')
        : informer.list(target.namespace);
    return candidates.filter((b) => {
      const labels = b.metadata.labels ?? {};
      if (target.scope === 'workspace' && labels[WORKSPACE_LABEL] !== target.workspace) return false;
      if (target.scope === 'namespace' && b.metadata.namespace !== target.namespace) return false;
      if (username && labels[USER_REFERENCE_LABEL] !== username) return false;
      if (role && labels[ROLE_REFERENCE_LABEL] !== role) return false;
      // Found by label; the subject is what grants, so it must name the user.
      return !username || (b.subjects ?? []).some((s) => s.kind === 'User' && s.name === username);
    });
  }

  /** The role must exist at the target (a workspace role must belong to the workspace). */
  private async requireRole(target: Target, role: string): Promise<void> {
    const found = await this.client.tryGet(ROLE_TYPES[target.scope], role, target.namespace);
    if (!found || (target.scope === 'workspace' && found.metadata.labels?.[WORKSPACE_LABEL] !== target.workspace)) {
      throw errors.notFound({ group: IAM_API_GROUP, resource: ROLE_TYPES[target.scope].resource }, role);
    }
  }

  /** CreateOrUpdate<scope>RoleBinding: the user ends with exactly this role at the target. */
  async bind(target: Target, username: string, role: string): Promise<void> {
    await this.requireRole(target, role);
    const type = BINDING_TYPES[target.scope];
    for (const binding of await this.bindings(target, username)) {
      if (binding.roleRef?.name === role) return;
      await this.deleteBinding(target.scope, binding);
    }
    const binding = memberRoleBinding(BINDING_KINDS[target.scope], username, role, target);
    try {
      const created = await this.client.create(type, binding as KubeObject);
      this.policy?.upsert(created, BINDING_KINDS[target.scope]);
      await waitForInformer(this.informer(target.scope), created.metadata.resourceVersion);
    } catch (err) {
      if (!(err instanceof StatusError && err.code === 409)) throw err;
    }
  }

  /** RemoveUserFrom<scope>: every binding of the user at the target. */
  async unbind(target: Target, username: string): Promise<void> {
    for (const binding of await this.bindings(target, username)) await this.deleteBinding(target.scope, binding);
  }

  private async deleteBinding(scope: Scope, binding: IamRoleBinding): Promise<void> {
    try {
      await this.client.delete(BINDING_TYPES[scope], binding.metadata.name!, { namespace: binding.metadata.namespace });
    } catch (err) {
      if (!(err instanceof StatusError && err.code === 404)) throw err;
    }
    this.policy?.remove(binding, BINDING_KINDS[scope]);
    await waitForInformerDelete(this.informer(scope), binding.metadata.uid, binding.metadata.name!, binding.metadata.namespace);
  }

  /** The member list KubeSphere answers: one entry per user, annotated with the role. */
  async list(target: Target, role = ''): Promise<KubeObject[]> {
    const seen = new Set<string>();
    const out: KubeObject[] = [];
    for (const binding of await this.bindings(target, '', role)) {
      const user = (binding.subjects ?? []).find((s) => s.kind === 'User');
      if (!user || seen.has(user.name)) continue;
      seen.add(user.name);
      out.push({
        metadata: {
          name: user.name,
          creationTimestamp: binding.metadata.creationTimestamp,
          annotations: { [MEMBER_ROLE_ANNOTATIONS[target.scope]]: binding.roleRef.name },
        },
        spec: {},
        status: {},
      } as KubeObject);
    }
    return out;
  }
}

const memberNotExist = (username: string) => errors.badRequest(`member ${username} not exist`);
const incorrectUsername = (username: string) =>
  errors.badRequest(`incorrect username ${username}, the username must equal to the member`);

export function membersApi(policy?: InMemoryIamPolicy) {
  return (app: FastifyInstance, context: PlatformContext): void => {
    const members = new MemberManager(context.client, context.informers, policy);
    type P = { workspace: string; namespace: string; member: string };
    const targets: Array<{ path: string; filter: string; target: (p: P) => Target }> = [
      {
        path: `${PREFIX}/workspaces/:workspace/workspacemembers`,
        filter: 'workspacerole',
        target: (p) => ({ scope: 'workspace', workspace: p.workspace }),
      },
      {
        path: `${PREFIX}/namespaces/:namespace/namespacemembers`,
        filter: 'role',
        target: (p) => ({ scope: 'namespace', namespace: p.namespace }),
      },
      { path: `${PREFIX}/clustermembers`, filter: 'clusterrole', target: () => ({ scope: 'cluster' }) },
    ];
    for (const { path, filter, target } of targets) {
      app.get<{ Params: P }>(path, async (req) => {
        const query = queryOf(req);
        const role = query.get(filter) ?? '';
        query.delete(filter);
        return listResult(await members.list(target(req.params), role), query);
      });
      app.post<{ Params: P }>(path, async (req) => {
        const body = membersBody(req);
        for (const m of body) await members.bind(target(req.params), m.username, m.roleRef);
        return body;
      });
      app.put<{ Params: P }>(`${path}/:member`, async (req) => {
        const body = memberBody(req);
        if (body.username !== req.params.member) throw incorrectUsername(req.params.member);
        const t = target(req.params);
        if (!(await members.bindings(t, body.username)).length) throw memberNotExist(body.username);
        await members.bind(t, body.username, body.roleRef);
        return SUCCESS;
      });
      app.delete<{ Params: P }>(`${path}/:member`, async (req) => {
        await members.unbind(target(req.params), req.params.member);
        return SUCCESS;
      });
    }
    // DescribeWorkspaceMember: the user, annotated with its workspace role.
    app.get<{ Params: P }>(`${PREFIX}/workspaces/:workspace/workspacemembers/:member`, async (req) => {
      const bindings = await members.bindings({ scope: 'workspace', workspace: req.params.workspace }, req.params.member);
      if (!bindings.length) throw memberNotExist(req.params.member);
      const user = publicUser(await context.client.get(platformTypes.users, req.params.member));
      user.metadata.annotations = { ...user.metadata.annotations, [MEMBER_ROLE_ANNOTATIONS.workspace]: bindings[0].roleRef.name };
      return { apiVersion: `${IAM_API_GROUP}/v1beta1`, kind: 'User', ...user };
    });
  };
}
