/**
 * Tenancy through the platform's front, as KubeSphere's users meet it: workspace templates make
 * workspaces with their roles and manager; projects created through the tenant API belong to
 * their creator; a user of one workspace neither sees nor touches another's projects (through
 * /kapis nor through /api); workspace quotas refuse the excess across projects; protected objects
 * cannot be deleted; deleting a workspace deletes its projects.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { types } from '@canopy/client';
import { platformTypes } from '../src/index.js';
import { eventually, startTenancy, TENANT, type Tenancy } from './tenant-support.js';

const pod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'app', image: 'nginx' }] },
});
const configMap = (name: string, labels?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(labels ? { labels } : {}) },
  data: { a: '1' },
});

describe('workspaces and projects', () => {
  let t: Tenancy;
  before(async () => {
    t = await startTenancy();
    for (const u of ['alice', 'bob', 'carol', 'eve']) await t.createUser(u);
    await t.createUser('root', 'platform-admin');
  });
  after(async () => t?.close());

  test('a workspace template makes the workspace, its four roles and the manager an admin', async () => {
    const created = await t.as('root').post(`${TENANT}/workspacetemplates`, {
      apiVersion: 'tenant.kubesphere.io/v1beta1',
      kind: 'WorkspaceTemplate',
      metadata: { name: 'ws1', annotations: { 'kubesphere.io/description': 'team one' } },
      spec: { template: { spec: { manager: 'alice' } }, placement: { clusters: [{ name: 'host' }] } },
    });
    assert.equal(created.status, 200, created.text);
    const template = await t.kube.get(platformTypes.workspaceTemplates, 'ws1');

    const workspace = await eventually('workspace ws1', () => t.kube.tryGet<any>(platformTypes.workspaces, 'ws1'));
    assert.equal(workspace.spec.manager, 'alice');
    assert.deepEqual(
      workspace.metadata.ownerReferences.map((r: any) => [r.kind, r.name, r.uid]),
      [['WorkspaceTemplate', 'ws1', template.metadata.uid]],
    );

    const roles = await eventually('the four workspace roles', async () => {
      const list = await t.kube.list<any>(platformTypes.workspaceRoles, { labelSelector: 'kubesphere.io/workspace=ws1' });
      return list.items.length === 4 ? list.items : undefined;
    });
    assert.deepEqual(roles.map((r) => r.metadata.name).sort(), [
      'ws1-admin',
      'ws1-regular',
      'ws1-self-provisioner',
      'ws1-viewer',
    ]);
    const viewer = roles.find((r) => r.metadata.name === 'ws1-viewer');
    assert.ok(
      viewer.aggregationRoleTemplates.templateNames.includes('workspace-view-projects'),
      'viewer aggregated from its templates',
    );

    const binding = await eventually('the manager binding', () =>
      t.kube.tryGet<any>(platformTypes.workspaceRoleBindings, 'ws1-admin'),
    );
    assert.deepEqual(binding.subjects, [{ apiGroup: 'iam.kubesphere.io', kind: 'User', name: 'alice' }]);
    assert.equal(binding.roleRef.name, 'ws1-admin');
    assert.equal(binding.metadata.labels['iam.kubesphere.io/user-ref'], 'alice');

    // The manager sees the workspace; someone else does not; a platform admin sees all.
    const listed = (user: string) =>
      eventually(`${user}'s workspace list`, async () => (await t.as(user).get(`${TENANT}/workspaces`)).body);
    await eventually('alice sees ws1', async () => (await listed('alice')).items.some((w: any) => w.metadata.name === 'ws1'));
    const forCarol = await listed('carol');
    assert.deepEqual(forCarol, { items: [], totalItems: 0 });
    const forRoot = await t.as('root').get(`${TENANT}/workspacetemplates`);
    assert.ok(forRoot.body.items.some((w: any) => w.kind === 'WorkspaceTemplate' && w.metadata.name === 'ws1'));
    const one = await t.as('alice').get(`${TENANT}/workspaces/ws1`);
    assert.equal(one.status, 200, one.text);
    assert.equal(one.body.kind, 'Workspace');
    assert.equal((await t.as('carol').get(`${TENANT}/workspaces/ws1`)).status, 403);
    const clusters = await t.as('alice').get(`${TENANT}/workspaces/ws1/clusters`);
    assert.deepEqual(
      clusters.body.items.map((c: any) => [c.kind, c.metadata.name]),
      [['Cluster', 'host']],
    );
  });

  test('a project created through the tenant API is labelled, owned by its workspace, and its creator is its admin at once', async () => {
    const created = await t.as('alice').post(`${TENANT}/workspaces/ws1/namespaces`, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'p1', annotations: { 'kubesphere.io/creator': 'mallory' } },
    });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.metadata.labels['kubesphere.io/workspace'], 'ws1');
    assert.equal(
      created.body.metadata.annotations['kubesphere.io/creator'],
      'alice',
      'the caller is the creator, whatever the body says',
    );

    // Immediately: the creator works in the project through the Kubernetes API.
    const cm = await t.as('alice').post('/api/v1/namespaces/p1/configmaps', configMap('settings'));
    assert.equal(cm.status, 201, cm.text);

    const binding = await t.kube.get<any>(platformTypes.roleBindings, 'alice-admin', 'p1');
    assert.equal(binding.roleRef.name, 'admin');
    const roles = await t.kube.list(platformTypes.roles, { namespace: 'p1' });
    assert.deepEqual(roles.items.map((r) => r.metadata.name).sort(), ['admin', 'operator', 'viewer']);
    const workspace = await t.kube.get(platformTypes.workspaces, 'ws1');
    const ns = await eventually('p1 owned by ws1', async () => {
      const n = await t.kube.get(types.namespaces, 'p1');
      return n.metadata.ownerReferences?.some((r) => r.kind === 'Workspace' && r.uid === workspace.metadata.uid) ? n : undefined;
    });
    assert.equal(ns.metadata.labels?.['kubesphere.io/managed'], 'true');

    const projects = await t.as('alice').get(`${TENANT}/workspaces/ws1/namespaces`);
    assert.deepEqual(
      projects.body.items.map((n: any) => n.metadata.name),
      ['p1'],
    );
    assert.equal(projects.body.totalItems, 1);
    // Creating into a workspace that does not exist is refused.
    assert.equal((await t.as('root').post(`${TENANT}/workspaces/nope/namespaces`, { metadata: { name: 'px' } })).status, 404);
  });

  test("a user of one workspace neither sees nor touches another workspace's project", async () => {
    assert.equal(
      (
        await t.as('root').post(`${TENANT}/workspaces`, {
          metadata: { name: 'ws2' },
          spec: { template: { spec: { manager: 'eve' } }, placement: {} },
        })
      ).status,
      200,
    );
    await eventually(
      'eve is ws2 admin',
      async () => (await t.as('eve').post(`${TENANT}/workspaces/ws2/namespaces`, { metadata: { name: 'p2' } })).status === 200,
    );
    assert.equal((await t.as('eve').post('/api/v1/namespaces/p2/configmaps', configMap('secret-plans'))).status, 201);

    const alice = t.as('alice');
    // Through the platform API.
    assert.equal((await alice.get(`${TENANT}/workspaces/ws2/namespaces/p2`)).status, 403);
    assert.equal((await alice.get(`${TENANT}/workspaces/ws1/namespaces/p2`)).status, 404, 'p2 is not a project of ws1');
    assert.equal((await alice.delete(`${TENANT}/workspaces/ws2/namespaces/p2`)).status, 403);
    assert.equal((await alice.get(`${TENANT}/workspaces/ws2`)).status, 403);
    assert.deepEqual((await alice.get(`${TENANT}/workspaces/ws2/namespaces`)).body.items, []);
    assert.ok(!(await alice.get(`${TENANT}/namespaces`)).body.items.some((n: any) => n.metadata.name === 'p2'));
    assert.ok(!(await alice.get(`${TENANT}/workspaces`)).body.items.some((w: any) => w.metadata.name === 'ws2'));
    assert.equal((await alice.post(`${TENANT}/workspaces/ws2/namespaces`, { metadata: { name: 'intruder' } })).status, 403);
    // Through the Kubernetes API.
    const denied = await alice.get('/api/v1/namespaces/p2/configmaps');
    assert.equal(denied.status, 403);
    assert.match(denied.body.message, /User "alice" cannot list resource "configmaps"/);
    assert.equal((await alice.get('/api/v1/namespaces/p2/configmaps/secret-plans')).status, 403);
    assert.equal((await alice.post('/api/v1/namespaces/p2/configmaps', configMap('planted'))).status, 403);
    assert.equal((await alice.delete('/api/v1/namespaces/p2')).status, 403);
    assert.equal((await alice.get('/clusters/host/api/v1/namespaces/p2/configmaps')).status, 403);
    // Nothing happened to p2.
    assert.ok(await t.kube.tryGet(types.configMaps, 'secret-plans', 'p2'));
    assert.equal(await t.kube.tryGet(types.configMaps, 'planted', 'p2'), undefined);
  });

  test('workspace quota: the sum over its projects may not exceed it', async () => {
    assert.equal((await t.as('alice').post(`${TENANT}/workspaces/ws1/namespaces`, { metadata: { name: 'p3' } })).status, 200);
    const quota = await t.as('root').post(`${TENANT}/workspaces/ws1/resourcequotas`, {
      apiVersion: 'quota.kubesphere.io/v1alpha2',
      kind: 'ResourceQuota',
      metadata: { name: 'ws1-quota' },
      spec: { quota: { hard: { pods: '2', 'count/configmaps': '20' } } },
    });
    assert.equal(quota.status, 200, quota.text);
    assert.deepEqual(quota.body.spec.selector, { 'kubesphere.io/workspace': 'ws1' });
    assert.equal(quota.body.metadata.labels['kubesphere.io/workspace'], 'ws1');

    const alice = t.as('alice');
    assert.equal((await alice.post('/api/v1/namespaces/p1/pods', pod('one'))).status, 201);
    await eventually(
      'the first pod counted',
      async () => (await t.kube.get<any>(platformTypes.workspaceQuotas, 'ws1-quota')).status?.total?.used?.pods === '1',
    );
    assert.equal((await alice.post('/api/v1/namespaces/p3/pods', pod('two'))).status, 201);
    const status = await eventually('both projects counted', async () => {
      const q = await t.kube.get<any>(platformTypes.workspaceQuotas, 'ws1-quota');
      return q.status?.total?.used?.pods === '2' ? q.status : undefined;
    });
    assert.deepEqual(status.total.hard, { 'count/configmaps': '20', pods: '2' });
    const byNamespace = Object.fromEntries(status.namespaces.map((n: any) => [n.namespace, n.used.pods]));
    assert.deepEqual(byNamespace, { p1: '1', p3: '1' });

    const refused = await alice.post('/api/v1/namespaces/p1/pods', pod('three'));
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.body.reason, 'Forbidden');
    assert.equal(
      refused.body.message,
      'pods "three" is forbidden: exceeded quota: ws1-quota, requested: pods=1, used: pods=2, limited: pods=2',
    );
    assert.equal(await t.kube.tryGet(types.pods, 'three', 'p1'), undefined);
    // Another workspace's projects are not charged.
    assert.equal((await t.as('eve').post('/api/v1/namespaces/p2/pods', pod('elsewhere'))).status, 201);
    // Kinds the quota does not limit still go through; freeing a pod makes room.
    assert.equal((await alice.post('/api/v1/namespaces/p1/configmaps', configMap('more'))).status, 201);
    assert.equal((await alice.delete('/api/v1/namespaces/p3/pods/two')).status, 200);
    await eventually(
      'the freed pod lets the next one in',
      async () => (await alice.post('/api/v1/namespaces/p3/pods', pod('three'))).status === 201,
    );

    // The quota through the tenant API: members see it, others do not.
    assert.equal((await alice.get(`${TENANT}/workspaces/ws1/resourcequotas/ws1-quota`)).body.spec.quota.hard.pods, '2');
    assert.equal((await t.as('eve').get(`${TENANT}/workspaces/ws1/resourcequotas/ws1-quota`)).status, 403);
    assert.equal((await t.as('eve').get(`${TENANT}/workspaces/ws2/resourcequotas/ws1-quota`)).status, 404);
  });

  test('protected resources cannot be deleted', async () => {
    const alice = t.as('alice');
    assert.equal(
      (await alice.post('/api/v1/namespaces/p1/configmaps', configMap('keep', { 'kubesphere.io/protected-resource': 'true' })))
        .status,
      201,
    );
    const refused = await alice.delete('/api/v1/namespaces/p1/configmaps/keep');
    assert.equal(refused.status, 403);
    assert.match(
      refused.body.message,
      /^configmaps "keep" is forbidden: this resource may not be deleted: it is labelled kubesphere.io\/protected-resource=true/,
    );
    assert.equal(
      (await alice.delete('/api/v1/namespaces/p1/configmaps')).status,
      403,
      'a collection delete containing it is refused',
    );
    assert.ok(await t.kube.tryGet(types.configMaps, 'keep', 'p1'));

    await t.kube.patch(types.namespaces, 'p3', { metadata: { labels: { 'kubesphere.io/protected-resource': 'true' } } }, 'merge');
    assert.equal((await alice.delete(`${TENANT}/workspaces/ws1/namespaces/p3`)).status, 403);
    assert.equal((await alice.delete('/api/v1/namespaces/p3')).status, 403);
    await t.kube.patch(types.namespaces, 'p3', { metadata: { labels: { 'kubesphere.io/protected-resource': null } } }, 'merge');
    const deleted = await alice.delete(`${TENANT}/workspaces/ws1/namespaces/p3`);
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(deleted.body, { message: 'success' });

    // Unlabelled, it goes.
    await t.kube.patch(
      types.configMaps,
      'keep',
      { metadata: { labels: { 'kubesphere.io/protected-resource': null } } },
      'merge',
      { namespace: 'p1' },
    );
    assert.equal((await alice.delete('/api/v1/namespaces/p1/configmaps/keep')).status, 200);
  });

  test('deleting a workspace deletes its projects', async () => {
    const p2 = await t.kube.get(types.namespaces, 'p2');
    assert.ok(p2);
    const deleted = await t.as('root').delete(`${TENANT}/workspacetemplates/ws2`);
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(deleted.body, { message: 'success' });
    await eventually('p2 deleted', async () => {
      const ns = await t.kube.tryGet(types.namespaces, 'p2');
      return !ns || !!ns.metadata.deletionTimestamp;
    });
    await eventually('the template gone', async () => !(await t.kube.tryGet(platformTypes.workspaceTemplates, 'ws2')));
    await eventually('the workspace gone', async () => !(await t.kube.tryGet(platformTypes.workspaces, 'ws2')));
    await eventually(
      'its roles gone',
      async () =>
        (await t.kube.list(platformTypes.workspaceRoles, { labelSelector: 'kubesphere.io/workspace=ws2' })).items.length === 0,
    );
    // ws1's projects are untouched.
    assert.ok(!(await t.kube.get(types.namespaces, 'p1')).metadata.deletionTimestamp);
  });
});
