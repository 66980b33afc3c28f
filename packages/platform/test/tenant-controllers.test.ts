/**
 * The platform's controllers beyond the happy path: two replicas never both act (the lease), a
 * new role template reaches existing roles and their Kubernetes RBAC, projects go with their
 * workspace without a garbage collector and stay when orphaned, and the platform's admission
 * checks registered as plug-ins of the embedded API server hold for writes that bypass the
 * platform. Also the workspace quota check as the pure function the integrator registers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { types } from '@canopy/client';
import { checkWorkspaceQuota, CONTROLLERS_LEASE, platformTypes, type WorkspaceQuota } from '../src/index.js';
import { parseQuantity, quotaUsed, type KubeObject } from '@canopy/apimachinery';
import { eventually, kubeCan, startTenancy, TENANT, type Tenancy } from './tenant-support.js';

const FAST_LEASE = { leaseDurationSeconds: 1, renewDeadlineMs: 700, retryPeriodMs: 100 };

const template = (name: string, manager: string) => ({
  metadata: { name },
  spec: { template: { spec: { manager } }, placement: {} },
});

describe('two platform replicas', () => {
  let t: Tenancy;
  before(async () => {
    // The first platform serves the front only; two replicas compete for the controllers' lease.
    t = await startTenancy({ controllers: false });
    await t.createUser('root', 'platform-admin');
  });
  after(async () => t?.close());

  test('only the lease holder reconciles, and the other takes over when it stops', async () => {
    const a = await t.replica({ controllers: { leaderElection: FAST_LEASE } });
    const b = await t.replica({ controllers: { leaderElection: FAST_LEASE } });
    await eventually('one leader', () => a.controllers!.active || b.controllers!.active);
    // Long enough for a second, wrong leader to appear (several retry periods).
    for (let i = 0; i < 10; i++) {
      assert.notEqual(a.controllers!.active, b.controllers!.active, 'exactly one replica is active');
      await new Promise((r) => setTimeout(r, 50));
    }
    const [leader, follower] = a.controllers!.active ? [a, b] : [b, a];
    const lease = await t.kube.get<any>(types.leases, CONTROLLERS_LEASE, 'kubesphere-system');
    assert.ok(lease.spec.holderIdentity);

    assert.equal((await t.as('root').post(`${TENANT}/workspacetemplates`, template('first', 'root'))).status, 200);
    await eventually('the leader made the workspace', () => t.kube.tryGet(platformTypes.workspaces, 'first'));

    await leader.close();
    await eventually('the follower leads', () => follower.controllers!.active, 10_000);
    assert.equal((await t.as('root').post(`${TENANT}/workspacetemplates`, template('second', 'root'))).status, 200);
    await eventually('the new leader made the workspace', () => t.kube.tryGet(platformTypes.workspaces, 'second'));
    const after = await t.kube.get<any>(types.leases, CONTROLLERS_LEASE, 'kubesphere-system');
    assert.notEqual(after.spec.holderIdentity, lease.spec.holderIdentity);
  });
});

describe('controllers and admission', () => {
  let t: Tenancy;
  before(async () => {
    t = await startTenancy();
    await t.createUser('root', 'platform-admin');
    for (const u of ['alice', 'vic']) await t.createUser(u);
    assert.equal((await t.as('root').post(`${TENANT}/workspacetemplates`, template('ws1', 'alice'))).status, 200);
    await eventually(
      'alice creates p1',
      async () => (await t.as('alice').post(`${TENANT}/workspaces/ws1/namespaces`, { metadata: { name: 'p1' } })).status === 200,
    );
  });
  after(async () => t?.close());

  test('a new role template reaches the roles that select it, and their Kubernetes RBAC', async () => {
    assert.equal(
      (
        await t
          .as('alice')
          .post('/kapis/iam.kubesphere.io/v1beta1/namespaces/p1/namespacemembers', [{ username: 'vic', roleRef: 'viewer' }])
      ).status,
      200,
    );
    await eventually('vic reads pods in RBAC', () => kubeCan(t.kube, 'vic', { verb: 'list', resource: 'pods', namespace: 'p1' }));
    assert.equal(await kubeCan(t.kube, 'vic', { verb: 'create', resource: 'configmaps', namespace: 'p1' }), false);

    await t.kube.create(platformTypes.roleTemplates, {
      metadata: {
        name: 'namespace-edit-configmaps-for-viewers',
        labels: {
          'iam.kubesphere.io/scope': 'namespace',
          'kubesphere.io/managed': 'true',
          'iam.kubesphere.io/aggregate-to-viewer': '',
        },
        annotations: { 'iam.kubesphere.io/role-template-rules': '{"configmaps":"manage"}' },
      },
      spec: { rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create'] }] },
    } as KubeObject);
    const viewer = await eventually('the viewer role aggregated the new template', async () => {
      const r = await t.kube.get<any>(platformTypes.roles, 'viewer', 'p1');
      return r.aggregationRoleTemplates.templateNames.includes('namespace-edit-configmaps-for-viewers') ? r : undefined;
    });
    assert.ok(viewer.rules.some((rule: any) => rule.resources.includes('configmaps') && rule.verbs.includes('create')));
    assert.equal((await t.as('vic').post('/api/v1/namespaces/p1/configmaps', { metadata: { name: 'by-vic' } })).status, 201);
    await eventually('and in RBAC', () => kubeCan(t.kube, 'vic', { verb: 'create', resource: 'configmaps', namespace: 'p1' }));
  });

  test("the platform's checks as API-server admission plug-ins hold for writes that bypass the platform", async () => {
    // As all-in-one registers them: reading the embedded server's storage.
    const server = t.cluster.server;
    const stored = {
      list(group: string, resource: string, namespace = '') {
        const def = server.registry.all().find((d) => d.group === group && d.resource === resource && !d.storage);
        if (!def) return [];
        return server.store.list(server.objects.listPrefix(def, namespace)).items.map((s) => s.object);
      },
    };
    for (const plugin of t.platform.admissionPlugins(stored)) server.admission.add(plugin as never);
    assert.equal(
      (
        await t.as('root').post(`${TENANT}/workspaces/ws1/resourcequotas`, {
          metadata: { name: 'q' },
          spec: { quota: { hard: { 'count/secrets': '1' } } },
        })
      ).status,
      200,
    );
    await t.kube.create(types.secrets, { metadata: { name: 'one', namespace: 'p1' }, stringData: { a: 'b' } } as KubeObject);
    await assert.rejects(
      t.kube.create(types.secrets, { metadata: { name: 'two', namespace: 'p1' }, stringData: { a: 'b' } } as KubeObject),
      (err: any) =>
        err.code === 403 &&
        /exceeded quota: q, requested: count\/secrets=1, used: count\/secrets=1, limited: count\/secrets=1/.test(err.message),
    );
    await t.kube.create(types.configMaps, {
      metadata: { name: 'guarded', namespace: 'p1', labels: { 'kubesphere.io/protected-resource': 'true' } },
    } as KubeObject);
    await assert.rejects(
      t.kube.delete(types.configMaps, 'guarded', { namespace: 'p1' }),
      (err: any) => err.code === 403 && /may not be deleted/.test(err.message),
    );
  });

  test('a workspace deleted with propagationPolicy Orphan leaves its projects', async () => {
    assert.equal((await t.as('root').post(`${TENANT}/workspacetemplates`, template('ws3', 'alice'))).status, 200);
    await eventually(
      'alice creates p3',
      async () => (await t.as('alice').post(`${TENANT}/workspaces/ws3/namespaces`, { metadata: { name: 'p3' } })).status === 200,
    );
    await eventually('p3 owned', async () => !!(await t.kube.get(types.namespaces, 'p3')).metadata.ownerReferences?.length);
    assert.equal(
      (
        await t
          .as('root')
          .delete(`${TENANT}/workspacetemplates/ws3`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' })
      ).status,
      200,
    );
    await eventually(
      'ws3 gone',
      async () =>
        !(await t.kube.tryGet(platformTypes.workspaces, 'ws3')) &&
        !(await t.kube.tryGet(platformTypes.workspaceTemplates, 'ws3')),
    );
    await new Promise((r) => setTimeout(r, 300));
    const p3 = await t.kube.get(types.namespaces, 'p3');
    assert.equal(p3.metadata.deletionTimestamp, undefined, 'the orphaned project stays');
  });
});

describe('without a garbage collector', () => {
  let t: Tenancy;
  before(async () => {
    t = await startTenancy({ garbageCollector: false });
    await t.createUser('root', 'platform-admin');
    await t.createUser('alice');
  });
  after(async () => t?.close());

  test('deleting a workspace still deletes its projects', async () => {
    assert.equal((await t.as('root').post(`${TENANT}/workspacetemplates`, template('ws1', 'alice'))).status, 200);
    await eventually(
      'alice creates p1',
      async () => (await t.as('alice').post(`${TENANT}/workspaces/ws1/namespaces`, { metadata: { name: 'p1' } })).status === 200,
    );
    assert.equal((await t.as('root').delete(`${TENANT}/workspacetemplates/ws1`)).status, 200);
    await eventually('p1 deleted', async () => !!(await t.kube.get(types.namespaces, 'p1')).metadata.deletionTimestamp);
    await eventually('the template released', async () => !(await t.kube.tryGet(platformTypes.workspaceTemplates, 'ws1')));
  });
});

describe('checkWorkspaceQuota', () => {
  const quota = (
    hard: Record<string, string>,
    extra: Partial<NonNullable<WorkspaceQuota['spec']>['quota']> = {},
  ): WorkspaceQuota => ({
    metadata: { name: 'team' },
    spec: { selector: { 'kubesphere.io/workspace': 'ws' }, quota: { hard, ...extra } },
  });
  const pod = (name: string, cpu?: string, extra: Record<string, unknown> = {}): KubeObject => ({
    metadata: { name, namespace: 'a' },
    spec: {
      containers: [{ name: 'c', image: 'i', ...(cpu ? { resources: { requests: { cpu }, limits: { cpu } } } : {}) }],
      ...extra,
    },
  });
  /** Usage as the tracker computes it: kube's evaluators over these objects. */
  const usage = (objects: KubeObject[]) => (q: WorkspaceQuota, names: Set<string>) =>
    quotaUsed(
      { metadata: q.metadata, spec: q.spec!.quota },
      (source) => (source.resource === 'pods' ? objects : []),
      new Date(),
      names,
    );
  const create = (object: KubeObject) => ({
    operation: 'CREATE' as const,
    group: '',
    resource: 'pods',
    namespace: 'a',
    name: object.metadata.name!,
    object,
  });

  test('charges the new object against what the workspace uses', () => {
    const used = [pod('x', '500m'), pod('y', '1')];
    assert.equal(checkWorkspaceQuota([quota({ 'requests.cpu': '2' })], usage(used), create(pod('z', '500m'))), undefined);
    const refusal = checkWorkspaceQuota([quota({ 'requests.cpu': '2' })], usage(used), create(pod('z', '600m')));
    assert.equal(refusal?.code, 403);
    assert.equal(
      refusal?.message,
      'pods "z" is forbidden: exceeded quota: team, requested: requests.cpu=600m, used: requests.cpu=1500m, limited: requests.cpu=2',
    );
  });

  test("kube's constraints, scopes and update growth", () => {
    const noRequests = checkWorkspaceQuota([quota({ 'requests.cpu': '2' })], usage([]), create(pod('bare')));
    assert.equal(noRequests?.message, 'pods "bare" is forbidden: failed quota: team: must specify requests.cpu for: c');
    // A BestEffort-scoped quota does not count pods with requests.
    assert.equal(
      checkWorkspaceQuota([quota({ pods: '0' }, { scopes: ['BestEffort'] })], usage([]), create(pod('burst', '1'))),
      undefined,
    );
    assert.equal(
      checkWorkspaceQuota([quota({ pods: '0' }, { scopes: ['BestEffort'] })], usage([]), create(pod('free')))?.code,
      403,
    );
    // An update is charged its growth only; one that does not grow passes a full quota.
    const old = pod('x', '1');
    const full = usage([old, pod('y', '1')]);
    const update = (cpu: string) => ({ ...create(pod('x', cpu)), operation: 'UPDATE' as const, oldObject: old });
    assert.equal(checkWorkspaceQuota([quota({ 'limits.cpu': '2' })], full, update('1')), undefined);
    assert.match(
      checkWorkspaceQuota([quota({ 'limits.cpu': '2' })], full, update('1500m'))!.message,
      /requested: limits.cpu=500m, used: limits.cpu=2, limited: limits.cpu=2/,
    );
    // Quotas on other kinds and subresources are not consulted.
    assert.equal(checkWorkspaceQuota([quota({ 'count/secrets': '0' })], usage([]), create(pod('p'))), undefined);
    assert.equal(
      checkWorkspaceQuota([quota({ pods: '0' })], usage([]), { ...create(pod('p')), subresource: 'status' }),
      undefined,
    );
    assert.equal(parseQuantity('1500m').cmp(parseQuantity('1.5')), 0);
  });
});
