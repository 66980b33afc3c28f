/**
 * The lifecycle controllers over the Kubernetes API: namespace deletion (a namespace holding 200
 * pods, some bound and terminating gracefully, is emptied and goes; kube's conditions while an
 * object holds it), the garbage collector's three propagation policies over built-in and custom
 * kinds, quota status, and the per-namespace ServiceAccount and root CA.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '@canopy/apimachinery';
import { resourceType, types, type KubeClient } from '@canopy/client';
import { createNamespace, eventually, pod, startClusterWith, type ClusterUnderTest } from './cluster-support.js';

let env: ClusterUnderTest;
let client: KubeClient;

before(async () => {
  // The lifecycle controllers run in every cluster started with cluster-support; nothing else is needed.
  env = await startClusterWith([]);
  client = env.client;
});

after(async () => {
  await env?.close();
});

const configMap = (name: string, metadata: Record<string, unknown> = {}) => ({ metadata: { name, ...metadata }, data: { k: 'v' } }) as KubeObject;
const ownerRef = (o: KubeObject, blockOwnerDeletion = true) => ({ apiVersion: o.apiVersion ?? 'v1', kind: o.kind ?? 'ConfigMap', name: o.metadata.name!, uid: o.metadata.uid!, blockOwnerDeletion });

interface NamespaceCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

describe('namespace deletion', () => {
  it('empties a namespace holding 200 pods and leaves nothing behind', async () => {
    const ns = 'crowded';
    await createNamespace(client, ns);
    // 150 pods never scheduled (deleted at once) and 50 bound to a node (graceful: their kubelet,
    // played below, confirms each termination).
    for (let i = 0; i < 200; i++) {
      await client.create(types.pods, pod(`p-${i}`, { app: 'crowd' }, i < 50 ? { nodeName: 'node-1' } : {}), { namespace: ns });
    }
    await client.create(types.configMaps, configMap('settings'), { namespace: ns });
    await client.create(types.deployments, {
      metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    } as KubeObject, { namespace: ns });
    const deleted = await client.delete<KubeObject>(types.namespaces, ns);
    assert.equal((deleted.status as { phase?: string }).phase, 'Terminating');

    // The kubelet of node-1: pods marked for deletion go once their containers stopped.
    const terminating = await eventually('the bound pods terminating', async () => {
      const pods = (await client.list(types.pods, { namespace: ns })).items;
      return pods.length === 50 && pods.every((p) => p.metadata.deletionTimestamp) ? pods : undefined;
    });
    const held = await eventually('the namespace reporting what remains', async () => {
      const conditions = ((await client.get(types.namespaces, ns)).status as { conditions?: NamespaceCondition[] }).conditions;
      return conditions?.find((c) => c.type === 'NamespaceContentRemaining' && c.status === 'True') ? conditions : undefined;
    });
    assert.equal(held.find((c) => c.type === 'NamespaceContentRemaining')!.message, 'Some resources are remaining: pods. has 50 resource instances');
    assert.equal(held.find((c) => c.type === 'NamespaceDeletionDiscoveryFailure')?.status, 'False');
    for (const p of terminating) await client.delete(types.pods, p.metadata.name!, { namespace: ns, gracePeriodSeconds: 0 });

    await eventually('the namespace gone', async () => !(await client.tryGet(types.namespaces, ns)), 15_000);
    for (const type of [types.pods, types.configMaps, types.deployments, types.serviceAccounts, types.events]) {
      assert.deepEqual((await client.list(type, { namespace: ns })).items.map((o) => o.metadata.name), [], `${type.resource} left behind`);
    }
  });

  it('reports a finalizer that holds content, and finishes once it is released', async () => {
    const ns = 'held';
    await createNamespace(client, ns);
    await client.create(types.configMaps, configMap('keep', { finalizers: ['example.com/hold'] }), { namespace: ns });
    await client.delete(types.namespaces, ns);
    const conditions = await eventually('finalizer conditions', async () => {
      const c = ((await client.get(types.namespaces, ns)).status as { conditions?: NamespaceCondition[] }).conditions;
      return c?.find((x) => x.type === 'NamespaceFinalizersRemaining' && x.status === 'True') ? c : undefined;
    });
    assert.deepEqual(
      conditions.map((c) => [c.type, c.status, c.reason]),
      [
        ['NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered'],
        ['NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions'],
        ['NamespaceDeletionContentFailure', 'False', 'ContentDeleted'],
        ['NamespaceContentRemaining', 'True', 'SomeResourcesRemain'],
        ['NamespaceFinalizersRemaining', 'True', 'SomeFinalizersRemain'],
      ],
    );
    assert.equal(conditions[3].message, 'Some resources are remaining: configmaps. has 1 resource instances');
    assert.equal(conditions[4].message, 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances');
    await client.patch(types.configMaps, 'keep', { metadata: { finalizers: null } }, 'merge', { namespace: ns });
    // Released content brings the namespace back at once, not after kube's 15-second estimate.
    await eventually('the namespace gone', async () => !(await client.tryGet(types.namespaces, ns)), 5000);
  });
});

describe('garbage collection', () => {
  it('background: dependents of a deleted owner go; a dependent with another live owner only loses the reference', async () => {
    const ns = 'gc-background';
    await createNamespace(client, ns);
    const owner = await client.create(types.configMaps, configMap('owner'), { namespace: ns });
    const other = await client.create(types.configMaps, configMap('other'), { namespace: ns });
    await client.create(types.configMaps, configMap('only-dep', { ownerReferences: [ownerRef(owner)] }), { namespace: ns });
    await client.create(types.configMaps, configMap('shared-dep', { ownerReferences: [ownerRef(owner), ownerRef(other)] }), { namespace: ns });
    await client.delete(types.configMaps, 'owner', { namespace: ns });
    await eventually('only-dep collected', async () => !(await client.tryGet(types.configMaps, 'only-dep', ns)));
    const shared = await eventually('shared-dep without the gone owner', async () => {
      const s = await client.get(types.configMaps, 'shared-dep', ns);
      return s.metadata.ownerReferences?.length === 1 ? s : undefined;
    });
    assert.equal(shared.metadata.ownerReferences![0].name, 'other');
    // A dependent created naming an owner that never existed is collected too.
    await client.create(types.configMaps, configMap('dangling', { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: '00000000-0000-0000-0000-000000000001' }] }), { namespace: ns });
    await eventually('dangling collected', async () => !(await client.tryGet(types.configMaps, 'dangling', ns)));
  });

  it('foreground: the owner waits for its blocking dependents, which go first, down a chain', async () => {
    const ns = 'gc-foreground';
    await createNamespace(client, ns);
    const top = await client.create(types.configMaps, configMap('top'), { namespace: ns });
    const middle = await client.create(types.configMaps, configMap('middle', { ownerReferences: [ownerRef(top)] }), { namespace: ns });
    await client.create(types.configMaps, configMap('leaf', { ownerReferences: [ownerRef(middle)], finalizers: ['example.com/slow'] }), { namespace: ns });
    const marked = await client.delete<KubeObject>(types.configMaps, 'top', { namespace: ns, propagationPolicy: 'Foreground' });
    assert.ok(marked.metadata.finalizers?.includes('foregroundDeletion'));
    // The leaf is held by its own finalizer: middle and top wait for it.
    const leaf = await eventually('leaf marked for deletion', async () => {
      const l = await client.get(types.configMaps, 'leaf', ns);
      return l.metadata.deletionTimestamp ? l : undefined;
    });
    assert.ok(leaf);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok((await client.get(types.configMaps, 'middle', ns)).metadata.deletionTimestamp, 'middle deleting in the foreground');
    assert.ok(await client.tryGet(types.configMaps, 'top', ns), 'top waits');
    await client.patch(types.configMaps, 'leaf', { metadata: { finalizers: null } }, 'merge', { namespace: ns });
    await eventually('the whole chain gone', async () => !(await client.tryGet(types.configMaps, 'top', ns)) && !(await client.tryGet(types.configMaps, 'middle', ns)));
  });

  it('foreground: a dependent without blockOwnerDeletion is deleted but not waited for', async () => {
    const ns = 'gc-nonblocking';
    await createNamespace(client, ns);
    const owner = await client.create(types.configMaps, configMap('owner'), { namespace: ns });
    await client.create(types.configMaps, configMap('free', { ownerReferences: [ownerRef(owner, false)], finalizers: ['example.com/slow'] }), { namespace: ns });
    await client.delete(types.configMaps, 'owner', { namespace: ns, propagationPolicy: 'Foreground' });
    await eventually('owner gone', async () => !(await client.tryGet(types.configMaps, 'owner', ns)));
    const free = await client.get(types.configMaps, 'free', ns);
    assert.ok(free.metadata.deletionTimestamp, 'the dependent is being deleted');
    await client.patch(types.configMaps, 'free', { metadata: { finalizers: null } }, 'merge', { namespace: ns });
  });

  it('orphan: dependents stay without the reference, and the owner goes', async () => {
    const ns = 'gc-orphan';
    await createNamespace(client, ns);
    const owner = await client.create(types.configMaps, configMap('owner'), { namespace: ns });
    for (let i = 0; i < 5; i++) await client.create(types.configMaps, configMap(`dep-${i}`, { ownerReferences: [ownerRef(owner)] }), { namespace: ns });
    const marked = await client.delete<KubeObject>(types.configMaps, 'owner', { namespace: ns, propagationPolicy: 'Orphan' });
    assert.ok(marked.metadata.finalizers?.includes('orphan'));
    await eventually('owner gone', async () => !(await client.tryGet(types.configMaps, 'owner', ns)));
    for (let i = 0; i < 5; i++) assert.equal((await client.get(types.configMaps, `dep-${i}`, ns)).metadata.ownerReferences, undefined);
  });

  it('follows custom resources: a CRD created later is discovered, and its objects own and are owned', async () => {
    const ns = 'gc-custom';
    await createNamespace(client, ns);
    await client.create(types.customResourceDefinitions, {
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    } as KubeObject);
    const widgets = resourceType('example.com', 'v1', 'widgets', 'Widget');
    const widget = await eventually('the Widget kind served', async () => {
      try {
        return await client.create(widgets, { metadata: { name: 'w' }, spec: {} } as KubeObject, { namespace: ns });
      } catch {
        return undefined;
      }
    });
    // A custom object owning a ConfigMap, and a custom object owned by a ConfigMap.
    await client.create(types.configMaps, configMap('of-widget', { ownerReferences: [ownerRef(widget)] }), { namespace: ns });
    const holder = await client.create(types.configMaps, configMap('holder'), { namespace: ns });
    await client.create(widgets, { metadata: { name: 'child', ownerReferences: [ownerRef(holder)] }, spec: {} } as KubeObject, { namespace: ns });
    await client.delete(widgets, 'w', { namespace: ns });
    await eventually('the ConfigMap of the widget collected', async () => !(await client.tryGet(types.configMaps, 'of-widget', ns)));
    await client.delete(types.configMaps, 'holder', { namespace: ns });
    await eventually('the child widget collected', async () => !(await client.tryGet(widgets, 'child', ns)));
  });
});

describe('quota and accounts', () => {
  it('keeps quota usage current and gives every namespace its account and CA', async () => {
    const ns = 'quota-status';
    await createNamespace(client, ns);
    await client.create(types.resourceQuotas, { metadata: { name: 'q' }, spec: { hard: { configmaps: '10', pods: '5', 'requests.cpu': '2' } } } as KubeObject, { namespace: ns });
    const usedOf = async () => ((await client.get(types.resourceQuotas, 'q', ns)).status as { used?: Record<string, string> } | undefined)?.used;
    await eventually('initial usage (the root CA ConfigMap)', async () => (await usedOf())?.configmaps === '1');
    await client.create(types.pods, pod('a', {}, {}, { resources: { requests: { cpu: '500m' } } }), { namespace: ns });
    await client.create(types.pods, pod('b', {}, {}, { resources: { requests: { cpu: '250m' } } }), { namespace: ns });
    const used = await eventually('pods charged', async () => {
      const u = await usedOf();
      return u?.pods === '2' ? u : undefined;
    });
    assert.deepEqual(used, { configmaps: '1', pods: '2', 'requests.cpu': '750m' });
    await client.delete(types.pods, 'a', { namespace: ns });
    await eventually('usage released', async () => (await usedOf())?.['requests.cpu'] === '250m');
    const ca = await client.get(types.configMaps, 'kube-root-ca.crt', ns);
    assert.equal((ca as { data?: Record<string, string> }).data?.['ca.crt'], env.cluster.server.pki.ca.cert);
  });
});
