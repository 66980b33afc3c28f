/**
 * Endpoints and EndpointSlices follow Services and pod readiness, against an in-process API
 * server with the test playing the kubelet (pod IPs and Ready conditions written as status).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '@canopy/apimachinery';
import { types } from '@canopy/client';
import { endpointSliceController, endpointsController } from '../src/index.js';
import { createNamespace, eventually, pod, setPodRunning, startClusterWith, type ClusterUnderTest } from './cluster-support.js';

let env: ClusterUnderTest;

before(async () => {
  env = await startClusterWith([endpointsController, endpointSliceController]);
});

after(async () => {
  await env?.close();
});

interface Subset {
  addresses?: Array<{ ip: string; nodeName?: string; targetRef?: { name: string; kind: string; uid: string } }>;
  notReadyAddresses?: Array<{ ip: string }>;
  ports?: Array<{ name?: string; port: number; protocol: string }>;
}

type Slice = KubeObject & {
  addressType: string;
  endpoints: Array<{ addresses: string[]; conditions: { ready: boolean; serving: boolean; terminating: boolean }; targetRef: { name: string }; nodeName?: string; zone?: string }> | null;
  ports: Array<{ name?: string; port: number; protocol: string }> | null;
};

const ips = (addresses: Array<{ ip: string }> | undefined) => (addresses ?? []).map((a) => a.ip).sort();

async function slicesOf(ns: string, service: string): Promise<Slice[]> {
  return (await env.client.list<Slice>(types.endpointSlices, { namespace: ns, labelSelector: `kubernetes.io/service-name=${service}` })).items;
}

function service(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name, labels: { tier: 'web' } },
    spec: {
      selector: { app: name },
      ports: [
        { name: 'http', port: 80, targetPort: 'http' },
        { name: 'metrics', port: 9090, targetPort: 9100 },
      ],
      ...extra,
    },
  } as KubeObject;
}

const webContainer = { ports: [{ name: 'http', containerPort: 8080 }] };

describe('endpoints and endpoint slices', () => {
  it('list ready pods as addresses, unready ones apart, and follow readiness', async () => {
    const ns = 'ep-readiness';
    await createNamespace(env.client, ns);
    await env.client.create(types.services, service('web'), { namespace: ns });
    const [placeholder] = await eventually('the placeholder slice', async () => {
      const s = await slicesOf(ns, 'web');
      return s.length === 1 ? s : undefined;
    });
    assert.deepEqual([placeholder.endpoints ?? [], placeholder.ports ?? []], [[], []]);
    for (const [i, name] of ['web-a', 'web-b', 'web-c'].entries()) {
      await env.client.create(types.pods, pod(name, { app: 'web' }, {}, webContainer), { namespace: ns });
      await setPodRunning(env.client, ns, name, `10.1.0.${i + 1}`, name !== 'web-c');
    }
    // A pod the selector does not match, and one without an IP yet, are never listed.
    await env.client.create(types.pods, pod('other', { app: 'other' }, {}, webContainer), { namespace: ns });
    await setPodRunning(env.client, ns, 'other', '10.1.0.9', true);
    await env.client.create(types.pods, pod('web-pending', { app: 'web' }, {}, webContainer), { namespace: ns });

    const ep = await eventually('Endpoints with two ready addresses and one not ready', async () => {
      const e = await env.client.tryGet<KubeObject & { subsets?: Subset[] }>(types.endpoints, 'web', ns);
      const s = e?.subsets?.[0];
      return s && ips(s.addresses).length === 2 && ips(s.notReadyAddresses).length === 1 ? e : undefined;
    });
    assert.equal(ep.subsets!.length, 1);
    const subset = ep.subsets![0];
    assert.deepEqual(ips(subset.addresses), ['10.1.0.1', '10.1.0.2']);
    assert.deepEqual(ips(subset.notReadyAddresses), ['10.1.0.3']);
    // The named target port resolves through the container's port; the numbered one is taken as is.
    assert.deepEqual(
      [...subset.ports!].sort((a, b) => a.port - b.port),
      [
        { name: 'http', port: 8080, protocol: 'TCP' },
        { name: 'metrics', port: 9100, protocol: 'TCP' },
      ],
    );
    assert.equal(subset.addresses![0].targetRef?.kind, 'Pod');
    assert.equal(ep.metadata.labels?.tier, 'web');

    const [slice] = await eventually('one slice with three endpoints', async () => {
      const s = await slicesOf(ns, 'web');
      return s.length === 1 && s[0].endpoints?.length === 3 ? s : undefined;
    });
    assert.equal(slice.metadata.name, placeholder.metadata.name, 'the placeholder is reused, not replaced');
    assert.equal(slice.addressType, 'IPv4');
    assert.equal(slice.metadata.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(slice.metadata.labels?.tier, 'web');
    assert.deepEqual(slice.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.controller]), [['Service', 'web', true]]);
    const byPod = new Map(slice.endpoints!.map((e) => [e.targetRef.name, e]));
    assert.deepEqual(byPod.get('web-a')?.conditions, { ready: true, serving: true, terminating: false });
    assert.deepEqual(byPod.get('web-c')?.conditions, { ready: false, serving: false, terminating: false });
    assert.deepEqual(byPod.get('web-c')?.addresses, ['10.1.0.3']);

    // web-c turns ready: it moves to the addresses.
    await setPodRunning(env.client, ns, 'web-c', '10.1.0.3', true);
    await eventually('all three ready', async () => {
      const e = await env.client.get<KubeObject & { subsets?: Subset[] }>(types.endpoints, 'web', ns);
      return ips(e.subsets?.[0]?.addresses).length === 3 && !e.subsets?.[0]?.notReadyAddresses;
    });
    await eventually('web-c ready in the slice', async () => (await slicesOf(ns, 'web'))[0]?.endpoints?.find((e) => e.targetRef.name === 'web-c')?.conditions.ready === true);

    // web-a turns unready: it moves to notReadyAddresses.
    await setPodRunning(env.client, ns, 'web-a', '10.1.0.1', false);
    await eventually('web-a not ready', async () => {
      const e = await env.client.get<KubeObject & { subsets?: Subset[] }>(types.endpoints, 'web', ns);
      return ips(e.subsets?.[0]?.notReadyAddresses).join() === '10.1.0.1';
    });
  });

  it('keep terminating pods out of Endpoints but in slices as terminating, and publish unready addresses on request', async () => {
    const ns = 'ep-terminating';
    await createNamespace(env.client, ns);
    await env.client.create(types.services, service('api'), { namespace: ns });
    await env.client.create(types.pods, pod('api-1', { app: 'api' }, { nodeName: 'node-a', terminationGracePeriodSeconds: 30 }, webContainer), { namespace: ns });
    await setPodRunning(env.client, ns, 'api-1', '10.2.0.1', true);
    await eventually('api-1 listed', async () => ips((await env.client.get<KubeObject & { subsets?: Subset[] }>(types.endpoints, 'api', ns)).subsets?.[0]?.addresses).length === 1);
    // Graceful deletion of a bound pod: it stays until its kubelet confirms, terminating.
    await env.client.delete(types.pods, 'api-1', { namespace: ns });
    await eventually('Endpoints without the terminating pod', async () => !(await env.client.get<KubeObject & { subsets?: Subset[] }>(types.endpoints, 'api', ns)).subsets?.length);
    const endpoint = await eventually('the slice marks it terminating', async () => {
      const e = (await slicesOf(ns, 'api'))[0]?.endpoints?.[0];
      return e?.conditions.terminating ? e : undefined;
    });
    assert.deepEqual(endpoint.conditions, { ready: false, serving: true, terminating: true });
    assert.equal(endpoint.nodeName, 'node-a');

    // publishNotReadyAddresses: unready and terminating pods count as ready.
    await env.client.patch(types.services, 'api', { spec: { publishNotReadyAddresses: true } }, 'merge', { namespace: ns });
    await eventually('published while terminating', async () => ips((await env.client.get<KubeObject & { subsets?: Subset[] }>(types.endpoints, 'api', ns)).subsets?.[0]?.addresses).join() === '10.2.0.1');
    await eventually('ready in the slice', async () => (await slicesOf(ns, 'api'))[0]?.endpoints?.[0]?.conditions.ready === true);
  });

  it('split 250 endpoints into slices of at most 100, and shrink back', async () => {
    const ns = 'ep-many';
    await createNamespace(env.client, ns);
    await env.client.create(types.services, service('big'), { namespace: ns });
    for (let i = 0; i < 250; i++) {
      const name = `big-${String(i).padStart(3, '0')}`;
      await env.client.create(types.pods, pod(name, { app: 'big' }, {}, webContainer), { namespace: ns });
      await setPodRunning(env.client, ns, name, `10.3.${Math.floor(i / 200)}.${(i % 200) + 1}`, true);
    }
    const slices = await eventually('three slices', async () => {
      const s = await slicesOf(ns, 'big');
      return s.reduce((n, x) => n + (x.endpoints?.length ?? 0), 0) === 250 ? s : undefined;
    });
    assert.deepEqual(slices.map((s) => s.endpoints!.length).sort((a, b) => a - b), [50, 100, 100]);
    const names = new Set(slices.flatMap((s) => s.endpoints!.map((e) => e.targetRef.name)));
    assert.equal(names.size, 250, 'each pod once');
    await env.client.deleteCollection(types.pods, { namespace: ns, labelSelector: 'app=big' });
    // No endpoints left: one placeholder slice remains, as kube keeps.
    const empty = await eventually('a single empty slice', async () => {
      const s = await slicesOf(ns, 'big');
      return s.length === 1 && !s[0].endpoints?.length ? s : undefined;
    });
    assert.equal(empty[0].ports?.length ?? 0, 0);
  });

  it('drop a deleted Service’s endpoints, and leave Services without a selector alone', async () => {
    const ns = 'ep-lifecycle';
    await createNamespace(env.client, ns);
    await env.client.create(types.services, service('gone'), { namespace: ns });
    await env.client.create(types.pods, pod('gone-1', { app: 'gone' }, {}, webContainer), { namespace: ns });
    await setPodRunning(env.client, ns, 'gone-1', '10.4.0.1', true);
    await eventually('endpoints', () => env.client.tryGet(types.endpoints, 'gone', ns));
    await eventually('slice', async () => (await slicesOf(ns, 'gone')).length === 1);
    await env.client.delete(types.services, 'gone', { namespace: ns });
    await eventually('Endpoints deleted', async () => !(await env.client.tryGet(types.endpoints, 'gone', ns)));
    await eventually('slices deleted', async () => (await slicesOf(ns, 'gone')).length === 0);

    // A Service without a selector: its Endpoints are the user's.
    await env.client.create(types.services, { metadata: { name: 'manual' }, spec: { ports: [{ port: 80 }] } } as KubeObject, { namespace: ns });
    await env.client.create(types.endpoints, { metadata: { name: 'manual' }, subsets: [{ addresses: [{ ip: '192.0.2.1' }], ports: [{ port: 80 }] }] } as KubeObject, { namespace: ns });
    await new Promise((r) => setTimeout(r, 300));
    const manual = await env.client.get<KubeObject & { subsets?: Subset[] }>(types.endpoints, 'manual', ns);
    assert.deepEqual(ips(manual.subsets?.[0]?.addresses), ['192.0.2.1']);
    assert.equal((await slicesOf(ns, 'manual')).length, 0);
  });
});
