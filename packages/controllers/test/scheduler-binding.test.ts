/**
 * `POST pods/NAME/binding`, the scheduler's only write path to `spec.nodeName`, against the
 * in-process API server: kube's semantics, errors and authorization.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '@canopy/apimachinery';
import { isAlreadyExists, types, type KubeClient } from '@canopy/client';
import { startCluster, type TestCluster } from '../../client/test/support.js';

let cluster: TestCluster;
let admin: KubeClient;
let scheduler: KubeClient;

before(async () => {
  cluster = await startCluster();
  admin = cluster.inProcess();
  scheduler = cluster.inProcess({ name: 'system:kube-scheduler', groups: ['system:authenticated'] });
  // Pods need the namespace's default ServiceAccount; no serviceaccount controller runs here.
  await admin.create(types.serviceAccounts, { metadata: { name: 'default', namespace: 'default' } }).catch((err) => {
    if (!isAlreadyExists(err)) throw err;
  });
});

after(async () => {
  await cluster?.close();
});

async function newPod(name: string, extra: Record<string, unknown> = {}) {
  return admin.create(types.pods, { metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }], ...extra } });
}

function bind(client: KubeClient, name: string, body: Record<string, unknown>, dryRun = false) {
  return client.createSubresource(types.pods, name, 'binding', { apiVersion: 'v1', kind: 'Binding', ...body }, { namespace: 'default', dryRun });
}

async function rejection(work: Promise<unknown>): Promise<StatusError> {
  try {
    await work;
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    return err;
  }
  assert.fail('expected the request to fail');
}

test('binding assigns the node, marks PodScheduled and merges annotations', async () => {
  const created = await newPod('bound');
  const status = await bind(scheduler, 'bound', { metadata: { name: 'bound', uid: created.metadata.uid, annotations: { 'example.com/why': 'test' } }, target: { kind: 'Node', name: 'n1' } });
  assert.deepEqual(status, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
  const pod = await admin.get(types.pods, 'bound', 'default');
  assert.equal((pod.spec as { nodeName: string }).nodeName, 'n1');
  assert.equal(pod.metadata.annotations?.['example.com/why'], 'test');
  const condition = (pod.status as { conditions: Array<{ type: string; status: string; lastTransitionTime: string }> }).conditions.find((c) => c.type === 'PodScheduled');
  assert.equal(condition?.status, 'True');
  assert.match(condition?.lastTransitionTime ?? '', /^\d{4}-\d\d-\d\dT/);

  const again = await rejection(bind(scheduler, 'bound', { metadata: { name: 'bound' }, target: { name: 'n2' } }));
  assert.equal(again.code, 409);
  assert.equal(again.reason, 'Conflict');
  assert.equal(again.message, 'Operation cannot be fulfilled on pods/binding "bound": pod bound is already assigned to node "n1"');
});

test('dryRun binds nothing', async () => {
  await newPod('dry');
  await bind(scheduler, 'dry', { metadata: { name: 'dry' }, target: { name: 'n1' } }, true);
  const pod = await admin.get(types.pods, 'dry', 'default');
  assert.equal((pod.spec as { nodeName?: string }).nodeName, undefined);
});

test('bad bindings are refused with kube-shaped errors', async () => {
  const created = await newPod('target');
  const mismatch = await rejection(bind(scheduler, 'target', { metadata: { name: 'other' }, target: { name: 'n1' } }));
  assert.deepEqual([mismatch.code, mismatch.message], [400, 'name in URL does not match name in Binding object']);

  const noTarget = await rejection(bind(scheduler, 'target', { metadata: { name: 'target' }, target: {} }));
  assert.equal(noTarget.code, 422);
  assert.equal(noTarget.message, 'Binding "target" is invalid: target.name: Required value');

  const wrongKind = await rejection(bind(scheduler, 'target', { metadata: { name: 'target' }, target: { kind: 'Pod', name: 'x' } }));
  assert.equal(wrongKind.code, 422);
  assert.equal(wrongKind.status.details?.causes?.[0].field, 'target.kind');

  const staleUid = await rejection(bind(scheduler, 'target', { metadata: { name: 'target', uid: 'not-the-uid' }, target: { name: 'n1' } }));
  assert.equal(staleUid.code, 409);
  assert.match(staleUid.message, new RegExp(`Precondition failed: UID in precondition: not-the-uid, UID in object meta: ${created.metadata.uid}`));

  const missing = await rejection(bind(scheduler, 'nobody', { metadata: { name: 'nobody' }, target: { name: 'n1' } }));
  assert.deepEqual([missing.code, missing.message], [404, 'pods "nobody" not found']);

  await newPod('gated', { schedulingGates: [{ name: 'example.com/wait' }] });
  const gated = await rejection(bind(scheduler, 'gated', { metadata: { name: 'gated' }, target: { name: 'n1' } }));
  assert.deepEqual([gated.code, gated.message], [409, 'Operation cannot be fulfilled on pods/binding "gated": pod gated has non-empty .spec.schedulingGates']);
});

test('only identities granted pods/binding may bind', async () => {
  await newPod('guarded');
  const stranger = cluster.inProcess({ name: 'jane', groups: ['system:authenticated'] });
  const denied = await rejection(bind(stranger, 'guarded', { metadata: { name: 'guarded' }, target: { name: 'n1' } }));
  assert.equal(denied.code, 403);
  assert.match(denied.message, /cannot create resource "pods\/binding"/);
});

test('discovery lists pods/binding', async () => {
  const list = await admin.request<{ resources: Array<{ name: string; kind: string; verbs: string[] }> }>({ method: 'GET', path: '/api/v1' });
  const binding = list.resources.find((r) => r.name === 'pods/binding');
  assert.deepEqual([binding?.kind, binding?.verbs], ['Binding', ['create']]);
});
