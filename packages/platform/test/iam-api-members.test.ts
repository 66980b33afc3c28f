/**
 * The IAM API as KubeSphere serves it: members at workspace, project and cluster scope (bodies
 * and answers in KubeSphere's shapes; a change decides the member's very next request), the role
 * templates a user holds per scope, subject access reviews, the generic /kapis CRUD of roles and
 * bindings — and the platform's roles synced into Kubernetes RBAC, checked by asking
 * kube-apiserver itself (what a user's own kubeconfig would get).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { types } from '@canopy/client';
import { platformTypes } from '../src/index.js';
import { eventually, IAM, kubeCan, startTenancy, TENANT, type Tenancy } from './tenant-support.js';

const deployment = (name: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } },
  },
});

describe('members, role templates and RBAC', () => {
  let t: Tenancy;
  before(async () => {
    t = await startTenancy();
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin']) await t.createUser(u);
    await t.createUser('root', 'platform-admin');
    assert.equal(
      (
        await t.as('root').post(`${TENANT}/workspacetemplates`, {
          metadata: { name: 'ws1' },
          spec: { template: { spec: { manager: 'alice' } }, placement: {} },
        })
      ).status,
      200,
    );
    assert.equal(
      (
        await t.as('root').post(`${TENANT}/workspacetemplates`, {
          metadata: { name: 'ws2' },
          spec: { template: { spec: { manager: 'erin' } }, placement: {} },
        })
      ).status,
      200,
    );
    await eventually(
      'alice can create projects',
      async () => (await t.as('alice').post(`${TENANT}/workspaces/ws1/namespaces`, { metadata: { name: 'p1' } })).status === 200,
    );
    assert.equal((await t.as('alice').post(`${TENANT}/workspaces/ws1/namespaces`, { metadata: { name: 'p3' } })).status, 200);
    await eventually(
      'erin can create projects',
      async () => (await t.as('erin').post(`${TENANT}/workspaces/ws2/namespaces`, { metadata: { name: 'p2' } })).status === 200,
    );
  });
  after(async () => t?.close());

  test('project members: add, change role and remove apply to the next request', async () => {
    const alice = t.as('alice');
    const bob = t.as('bob');
    assert.equal((await bob.post('/apis/apps/v1/namespaces/p1/deployments', deployment('web'))).status, 403);

    const added = await alice.post(`${IAM}/namespaces/p1/namespacemembers`, [{ username: 'bob', roleRef: 'operator' }]);
    assert.equal(added.status, 200, added.text);
    assert.deepEqual(added.body, [{ username: 'bob', roleRef: 'operator' }]);
    const created = await bob.post('/apis/apps/v1/namespaces/p1/deployments', deployment('web'));
    assert.equal(created.status, 201, created.text);

    const members = await alice.get(`${IAM}/namespaces/p1/namespacemembers`);
    assert.equal(members.status, 200);
    assert.deepEqual(
      members.body.items.map((m: any) => [m.metadata.name, m.metadata.annotations['iam.kubesphere.io/role']]).sort(),
      [
        ['alice', 'admin'],
        ['bob', 'operator'],
      ],
    );
    assert.equal(members.body.totalItems, 2);
    const operators = await alice.get(`${IAM}/namespaces/p1/namespacemembers?role=operator`);
    assert.deepEqual(
      operators.body.items.map((m: any) => m.metadata.name),
      ['bob'],
    );
    const binding = await t.kube.get<any>(platformTypes.roleBindings, 'bob-operator', 'p1');
    assert.deepEqual(binding.metadata.labels, { 'iam.kubesphere.io/user-ref': 'bob', 'iam.kubesphere.io/role-ref': 'operator' });

    const changed = await alice.put(`${IAM}/namespaces/p1/namespacemembers/bob`, { username: 'bob', roleRef: 'viewer' });
    assert.equal(changed.status, 200, changed.text);
    assert.deepEqual(changed.body, { message: 'success' });
    assert.equal(
      (await bob.post('/apis/apps/v1/namespaces/p1/deployments', deployment('api'))).status,
      403,
      'a viewer cannot create',
    );
    assert.equal((await bob.get('/apis/apps/v1/namespaces/p1/deployments/web')).status, 200, 'a viewer reads');
    assert.equal(await t.kube.tryGet(platformTypes.roleBindings, 'bob-operator', 'p1'), undefined, 'the old binding is replaced');

    assert.equal(
      (await alice.put(`${IAM}/namespaces/p1/namespacemembers/bob`, { username: 'carol', roleRef: 'viewer' })).status,
      400,
    );
    assert.equal(
      (await alice.put(`${IAM}/namespaces/p1/namespacemembers/carol`, { username: 'carol', roleRef: 'viewer' })).body.message,
      'member carol not exist',
    );
    assert.equal(
      (await alice.post(`${IAM}/namespaces/p1/namespacemembers`, [{ username: 'carol', roleRef: 'no-such-role' }])).status,
      404,
    );
    assert.equal((await alice.post(`${IAM}/namespaces/p1/namespacemembers`, { username: 'carol' })).status, 400);

    const removed = await alice.delete(`${IAM}/namespaces/p1/namespacemembers/bob`);
    assert.deepEqual(removed.body, { message: 'success' });
    assert.equal((await bob.get('/apis/apps/v1/namespaces/p1/deployments/web')).status, 403, 'removal applies at once');
    // bob never was a member of ws2's project and cannot make himself one.
    assert.equal((await bob.post(`${IAM}/namespaces/p2/namespacemembers`, [{ username: 'bob', roleRef: 'admin' }])).status, 403);
  });

  test('workspace members: a viewer lists but cannot create; the role changes and the member goes', async () => {
    const alice = t.as('alice');
    const carol = t.as('carol');
    const added = await alice.post(`${IAM}/workspaces/ws1/workspacemembers`, [{ username: 'carol', roleRef: 'ws1-viewer' }]);
    assert.equal(added.status, 200, added.text);
    assert.equal(
      (await alice.post(`${IAM}/workspaces/ws1/workspacemembers`, [{ username: 'carol', roleRef: 'ws2-viewer' }])).status,
      404,
      'a role of another workspace',
    );

    const projects = await carol.get(`${TENANT}/workspaces/ws1/namespaces`);
    assert.deepEqual(projects.body.items.map((n: any) => n.metadata.name).sort(), ['p1', 'p3']);
    assert.equal((await carol.get('/apis/apps/v1/namespaces/p1/deployments')).status, 200);
    assert.equal((await carol.post(`${TENANT}/workspaces/ws1/namespaces`, { metadata: { name: 'carols' } })).status, 403);
    assert.equal((await carol.post('/apis/apps/v1/namespaces/p1/deployments', deployment('nope'))).status, 403);
    assert.equal(
      (await carol.post(`${IAM}/workspaces/ws1/workspacemembers`, [{ username: 'dave', roleRef: 'ws1-admin' }])).status,
      403,
    );
    assert.equal((await carol.get('/apis/apps/v1/namespaces/p2/deployments')).status, 403, 'not in ws2');

    const member = await alice.get(`${IAM}/workspaces/ws1/workspacemembers/carol`);
    assert.equal(member.status, 200, member.text);
    assert.equal(member.body.kind, 'User');
    assert.equal(member.body.spec.email, 'carol@example.com');
    assert.equal(member.body.metadata.annotations['iam.kubesphere.io/workspacerole'], 'ws1-viewer');
    const listed = await alice.get(`${IAM}/workspaces/ws1/workspacemembers?workspacerole=ws1-viewer`);
    assert.deepEqual(
      listed.body.items.map((m: any) => m.metadata.name),
      ['carol'],
    );

    assert.equal(
      (await alice.put(`${IAM}/workspaces/ws1/workspacemembers/carol`, { username: 'carol', roleRef: 'ws1-self-provisioner' }))
        .status,
      200,
    );
    const own = await carol.post(`${TENANT}/workspaces/ws1/namespaces`, { metadata: { name: 'carols' } });
    assert.equal(own.status, 200, `a self-provisioner creates projects: ${own.text}`);
    assert.deepEqual(
      (await carol.get(`${TENANT}/workspaces/ws1/namespaces`)).body.items.map((n: any) => n.metadata.name),
      ['carols'],
      'and sees only its own',
    );

    assert.equal((await alice.delete(`${IAM}/workspaces/ws1/workspacemembers/carol`)).status, 200);
    assert.equal((await carol.get(`${TENANT}/workspaces/ws1`)).status, 403, 'removal applies at once');
    assert.equal((await alice.get(`${IAM}/workspaces/ws1/workspacemembers/carol`)).status, 400);
  });

  test('cluster members', async () => {
    const dave = t.as('dave');
    assert.equal((await dave.get('/api/v1/namespaces/p2/configmaps')).status, 403);
    assert.equal((await dave.get('/api/v1/persistentvolumes')).status, 403);
    assert.equal(
      (await t.as('alice').post(`${IAM}/clustermembers`, [{ username: 'dave', roleRef: 'cluster-viewer' }])).status,
      403,
      'a workspace admin does not manage the cluster',
    );
    assert.equal(
      (await t.as('root').post(`${IAM}/clustermembers`, [{ username: 'dave', roleRef: 'cluster-viewer' }])).status,
      200,
    );
    assert.equal((await dave.get('/api/v1/persistentvolumes')).status, 200);
    assert.equal((await dave.get('/api/v1/namespaces/p2/configmaps')).status, 200, 'a cluster viewer reads every project');
    assert.equal((await dave.post('/api/v1/namespaces/p2/configmaps', { metadata: { name: 'x' } })).status, 403);
    const members = await t.as('root').get(`${IAM}/clustermembers?clusterrole=cluster-viewer`);
    assert.deepEqual(
      members.body.items.map((m: any) => [m.metadata.name, m.metadata.annotations['iam.kubesphere.io/clusterrole']]),
      [['dave', 'cluster-viewer']],
    );
    assert.equal(
      (await t.as('root').put(`${IAM}/clustermembers/dave`, { username: 'dave', roleRef: 'cluster-admin' })).status,
      200,
    );
    assert.equal((await dave.post('/api/v1/namespaces/p2/configmaps', { metadata: { name: 'x' } })).status, 201);
    assert.equal((await t.as('root').delete(`${IAM}/clustermembers/dave`)).status, 200);
    assert.equal((await dave.get('/api/v1/persistentvolumes')).status, 403);
  });

  test('role templates a user holds, per scope', async () => {
    const names = async (user: string, query: string, as = user) => {
      const r = await t.as(as).get(`${IAM}/users/${user}/roletemplates?${query}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.totalItems, r.body.items.length);
      return r.body.items.map((i: any) => i.metadata.name) as string[];
    };
    assert.ok((await names('root', 'scope=global')).includes('global-manage-users'));
    assert.deepEqual(await names('alice', 'scope=global'), []);
    const adminTemplates = await names('alice', 'scope=workspace&workspace=ws1');
    assert.ok(adminTemplates.includes('workspace-manage-members') && adminTemplates.includes('workspace-create-projects'));
    assert.deepEqual(await names('alice', 'scope=workspace&workspace=ws2'), []);

    assert.equal(
      (await t.as('alice').post(`${IAM}/workspaces/ws1/workspacemembers`, [{ username: 'carol', roleRef: 'ws1-viewer' }])).status,
      200,
    );
    const viewerTemplates = await names('carol', 'scope=workspace&workspace=ws1');
    assert.ok(viewerTemplates.includes('workspace-view-projects'));
    assert.ok(!viewerTemplates.includes('workspace-manage-members'));

    assert.equal(
      (await t.as('alice').post(`${IAM}/namespaces/p1/namespacemembers`, [{ username: 'bob', roleRef: 'operator' }])).status,
      200,
    );
    const operatorTemplates = await eventually('operator aggregated', async () => {
      const n = await names('bob', 'scope=namespace&namespace=p1');
      return n.length ? n : undefined;
    });
    assert.ok(operatorTemplates.includes('namespace-manage-app-workloads'));
    assert.ok(!operatorTemplates.includes('namespace-manage-members'));
    const template = (await t.as('bob').get(`${IAM}/users/bob/roletemplates?scope=namespace&namespace=p1`)).body.items[0];
    assert.equal(template.kind, 'RoleTemplate');
    assert.ok(template.metadata.annotations['iam.kubesphere.io/role-template-rules']);

    const other = await t.as('bob').get(`${IAM}/users/alice/roletemplates?scope=global`);
    assert.equal(other.status, 403, "another user's templates need the right to read users");
    assert.ok((await names('alice', 'scope=workspace&workspace=ws1', 'root')).length > 0, 'a platform admin may ask');
    assert.equal((await t.as('bob').get(`${IAM}/users/bob/roletemplates?scope=galaxy`)).status, 400);
  });

  test("subject access reviews in KubeSphere's shape", async () => {
    const review = async (spec: unknown) => {
      const r = await t
        .as('root')
        .post(`${IAM}/subjectaccessreviews`, { apiVersion: 'iam.kubesphere.io/v1beta1', kind: 'SubjectAccessReview', spec });
      assert.equal(r.status, 200, r.text);
      return r.body;
    };
    const allowed = await review({
      user: 'bob',
      groups: ['system:authenticated'],
      resourceAttributes: { verb: 'create', group: 'apps', resource: 'deployments', namespace: 'p1' },
    });
    assert.equal(allowed.status.allowed, true);
    assert.match(allowed.status.reason, /RoleBinding "bob-operator\/p1"/);
    assert.equal(allowed.spec.user, 'bob');
    const denied = await review({
      user: 'bob',
      groups: ['system:authenticated'],
      resourceAttributes: { verb: 'create', group: 'apps', resource: 'deployments', namespace: 'p2' },
    });
    assert.deepEqual({ allowed: denied.status.allowed, denied: denied.status.denied }, { allowed: false, denied: false });
    const ws = await review({
      user: 'alice',
      resourceAttributes: { verb: 'create', resource: 'workspacemembers', workspace: 'ws1' },
    });
    assert.equal(ws.status.allowed, true);
    const list = await t.as('root').post(`${IAM}/subjectaccessreviews`, {
      kind: 'SubjectAccessReviewList',
      items: [
        { spec: { user: 'alice', resourceAttributes: { verb: 'delete', resource: 'namespaces', name: 'p2', namespace: 'p2' } } },
      ],
    });
    assert.equal(list.body.items[0].status.allowed, false);
    assert.equal((await t.as('root').post(`${IAM}/subjectaccessreviews`, '[1,2')).status, 400);
  });

  test('roles and bindings through the generic /kapis CRUD, kept within their workspace', async () => {
    const alice = t.as('alice');
    const roles = await alice.get(`${IAM}/workspaces/ws1/workspaceroles?sortBy=name&ascending=true`);
    assert.equal(roles.status, 200, roles.text);
    assert.deepEqual(
      roles.body.items.map((r: any) => r.metadata.name),
      ['ws1-admin', 'ws1-regular', 'ws1-self-provisioner', 'ws1-viewer'],
    );
    assert.equal(roles.body.items[0].kind, 'WorkspaceRole');
    assert.equal(
      (await alice.get(`${IAM}/workspaces/ws1/workspaceroles/ws2-admin`)).status,
      404,
      'a role of another workspace is not found under ws1',
    );
    assert.equal((await alice.get(`${IAM}/workspaces/ws2/workspaceroles`)).status, 403);

    const custom = await alice.post(`${IAM}/workspaces/ws1/workspaceroles`, {
      apiVersion: 'iam.kubesphere.io/v1beta1',
      kind: 'WorkspaceRole',
      metadata: { name: 'ws1-auditor', annotations: { 'iam.kubesphere.io/auto-aggregate': 'false' } },
      aggregationRoleTemplates: { templateNames: ['workspace-view-members'] },
      rules: [],
    });
    assert.equal(custom.status, 201, custom.text);
    assert.equal(custom.body.metadata.labels['kubesphere.io/workspace'], 'ws1');
    await eventually('the custom role aggregated', async () => {
      const r = await t.kube.get<any>(platformTypes.workspaceRoles, 'ws1-auditor');
      return r.rules?.some((rule: any) => rule.resources?.includes('workspacemembers'));
    });
    const moved = await alice.patch(`${IAM}/workspaces/ws1/workspaceroles/ws1-auditor`, {
      metadata: { labels: { 'kubesphere.io/workspace': 'ws2' } },
    });
    assert.equal(moved.status, 403, 'an object may not be moved out of its workspace');
    assert.equal(
      (await t.kube.get(platformTypes.workspaceRoles, 'ws1-auditor')).metadata.labels?.['kubesphere.io/workspace'],
      'ws1',
    );
    const described = await alice.patch(`${IAM}/workspaces/ws1/workspaceroles/ws1-auditor`, {
      metadata: { annotations: { 'kubesphere.io/description': 'reads members' } },
    });
    assert.equal(described.status, 200, described.text);

    const globalRoles = await t.as('root').get(`${IAM}/globalroles?name=platform`);
    assert.deepEqual(globalRoles.body.items.map((r: any) => r.metadata.name).sort(), [
      'platform-admin',
      'platform-regular',
      'platform-self-provisioner',
    ]);
    assert.equal((await alice.get(`${IAM}/globalroles`)).status, 403);
    const templates = await alice.get(`${IAM}/roletemplates?label=iam.kubesphere.io/scope=workspace&limit=3&page=1`);
    assert.equal(templates.status, 200, templates.text);
    assert.equal(templates.body.items.length, 3);
    assert.ok(templates.body.totalItems > 3);
    const projectRoles = await alice.get(`${IAM}/namespaces/p1/roles`);
    assert.deepEqual(projectRoles.body.items.map((r: any) => r.metadata.name).sort(), ['admin', 'operator', 'viewer']);
    assert.equal((await t.as('root').get(`${IAM}/nosuchthings`)).status, 404);

    assert.equal((await alice.delete(`${IAM}/workspaces/ws1/workspaceroles/ws1-auditor`)).status, 200);
  });

  test('platform roles are synced into Kubernetes RBAC: kube-apiserver itself agrees', async () => {
    // bob is operator of p1 (previous test): a kube Role and RoleBinding carry it.
    const role = await eventually('the operator Role in p1', () =>
      t.kube.tryGet<any>(types.roles, 'kubesphere:iam:operator', 'p1'),
    );
    assert.equal(role.metadata.ownerReferences[0].kind, 'Role');
    const binding = await eventually('bob in RBAC', () =>
      t.kube.tryGet<any>(types.roleBindings, 'kubesphere:iam:bob-operator', 'p1'),
    );
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'kubesphere:iam:operator' });
    assert.deepEqual(binding.subjects, [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' }]);
    assert.equal(await kubeCan(t.kube, 'bob', { verb: 'create', group: 'apps', resource: 'deployments', namespace: 'p1' }), true);
    assert.equal(
      await kubeCan(t.kube, 'bob', { verb: 'create', group: 'apps', resource: 'deployments', namespace: 'p2' }),
      false,
    );

    // carol is a ws1 viewer: in every ws1 project, the RoleBinding of ws1's viewers to the workspace
    // role's ClusterRole names her (one RoleBinding per project and role, whatever the members).
    for (const ns of ['p1', 'p3']) {
      const viewers = await eventually(`carol in ${ns}`, async () => {
        const rb = await t.kube.tryGet<any>(types.roleBindings, 'kubesphere:iam:workspacerole:ws1-viewer', ns);
        return rb?.subjects?.some((s: any) => s.kind === 'User' && s.name === 'carol') ? rb : undefined;
      });
      assert.deepEqual(viewers.roleRef, {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'kubesphere:iam:workspacerole:ws1-viewer',
      });
      assert.equal(viewers.metadata.ownerReferences[0].kind, 'WorkspaceRole');
    }
    // A RoleBinding of the earlier one-per-member form (a database from before the folding) is removed.
    await t.kube.create(types.roleBindings, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: {
        name: 'kubesphere:iam:workspacerolebinding:carol-ws1-viewer',
        namespace: 'p3',
        labels: { 'kubesphere.io/managed': 'true', 'iam.kubesphere.io/workspacerolebinding-ref': 'carol-ws1-viewer' },
      },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kubesphere:iam:workspacerole:ws1-viewer' },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'carol' }],
    } as any);
    await eventually(
      'the per-member RoleBinding folded away',
      async () => !(await t.kube.tryGet(types.roleBindings, 'kubesphere:iam:workspacerolebinding:carol-ws1-viewer', 'p3')),
    );
    const admins = await t.kube.get<any>(types.roleBindings, 'kubesphere:iam:workspacerole:ws1-admin', 'p1');
    assert.ok(
      admins.subjects.some((s: any) => s.name === 'alice'),
      JSON.stringify(admins.subjects),
    );
    assert.ok(!admins.subjects.some((s: any) => s.name === 'carol'), JSON.stringify(admins.subjects));
    assert.equal(await kubeCan(t.kube, 'carol', { verb: 'list', resource: 'pods', namespace: 'p3' }), true);
    assert.equal(await kubeCan(t.kube, 'carol', { verb: 'create', resource: 'pods', namespace: 'p3' }), false);
    assert.equal(await kubeCan(t.kube, 'carol', { verb: 'list', resource: 'pods', namespace: 'p2' }), false);
    // A project added to the workspace later gets the binding too.
    assert.equal((await t.as('alice').post(`${TENANT}/workspaces/ws1/namespaces`, { metadata: { name: 'p4' } })).status, 200);
    await eventually('carol in the new project', () =>
      kubeCan(t.kube, 'carol', { verb: 'list', resource: 'pods', namespace: 'p4' }),
    );

    // A platform admin is a cluster admin.
    await eventually('root is cluster-admin', () => kubeCan(t.kube, 'root', { verb: 'delete', resource: 'nodes' }));
    const crb = await t.kube.get<any>(types.clusterRoleBindings, 'kubesphere:iam:root-platform-admin');
    assert.equal(crb.roleRef.name, 'cluster-admin');

    // Revoking on the platform revokes in Kubernetes.
    assert.equal((await t.as('alice').delete(`${IAM}/namespaces/p1/namespacemembers/bob`)).status, 200);
    assert.equal((await t.as('alice').delete(`${IAM}/workspaces/ws1/workspacemembers/carol`)).status, 200);
    await eventually(
      'bob revoked in RBAC',
      async () => !(await kubeCan(t.kube, 'bob', { verb: 'create', group: 'apps', resource: 'deployments', namespace: 'p1' })),
    );
    await eventually(
      'carol revoked in RBAC',
      async () => !(await kubeCan(t.kube, 'carol', { verb: 'list', resource: 'pods', namespace: 'p3' })),
    );
    // Her RoleBinding in p3 stays for ws1's other viewers, if any, without her; alice's is untouched.
    const viewersAfter = await t.kube.tryGet<any>(types.roleBindings, 'kubesphere:iam:workspacerole:ws1-viewer', 'p3');
    assert.ok(!viewersAfter?.subjects?.some((s: any) => s.name === 'carol'), JSON.stringify(viewersAfter));
    assert.equal(await kubeCan(t.kube, 'alice', { verb: 'list', resource: 'pods', namespace: 'p3' }), true);
    // The workspace admin can do everything in its projects, in Kubernetes as on the platform.
    await eventually('alice in RBAC', () => kubeCan(t.kube, 'alice', { verb: 'delete', resource: 'secrets', namespace: 'p4' }));
    assert.equal(await kubeCan(t.kube, 'alice', { verb: 'get', resource: 'secrets', namespace: 'p2' }), false);
  });
});
