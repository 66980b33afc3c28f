/**
 * PersistentVolumeClaims bound by the PV controller with the simulated provisioner: the default
 * `local` class, dynamic provisioning with the claim's capacity, binding both ways, static
 * binding to the smallest fitting volume, WaitForFirstConsumer and the selected node, and
 * reclaiming (Delete removes the volume, Retain leaves it Released).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '@canopy/apimachinery';
import { types } from '@canopy/client';
import { persistentVolumeController } from '../src/index.js';
import { createNamespace, eventually, startClusterWith, type ClusterUnderTest } from './cluster-support.js';

let env: ClusterUnderTest;

before(async () => {
  env = await startClusterWith([persistentVolumeController]);
});

after(async () => {
  await env?.close();
});

type Claim = KubeObject & { spec: { volumeName?: string; storageClassName?: string }; status?: { phase?: string; capacity?: Record<string, string>; accessModes?: string[] } };
type Volume = KubeObject & {
  spec: { capacity: { storage: string }; claimRef?: { name: string; namespace: string; uid: string }; persistentVolumeReclaimPolicy: string; storageClassName?: string; nodeAffinity?: unknown; csi?: { driver: string } };
  status?: { phase?: string };
};

function claim(name: string, size: string, extra: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, ...extra } } as KubeObject;
}

async function bound(ns: string, name: string): Promise<Claim> {
  return eventually(`claim ${ns}/${name} Bound`, async () => {
    const c = await env.client.get<Claim>(types.persistentVolumeClaims, name, ns);
    return c.status?.phase === 'Bound' ? c : undefined;
  });
}

describe('persistent volume binding', () => {
  it('creates the default `local` class and provisions a volume of the claim’s size, bound both ways', async () => {
    const local = await eventually('the default StorageClass', () => env.client.tryGet(types.storageClasses, 'local'));
    assert.equal((local as { provisioner?: string }).provisioner, 'canopy.io/simulated');
    assert.equal(local.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'], 'true');

    const ns = 'pv-dynamic';
    await createNamespace(env.client, ns);
    // No class named: admission gives it the default class.
    const created = await env.client.create<Claim>(types.persistentVolumeClaims, claim('data', '3Gi'), { namespace: ns });
    assert.equal(created.spec.storageClassName, 'local');
    const c = await bound(ns, 'data');
    assert.equal(c.spec.volumeName, `pvc-${c.metadata.uid}`);
    assert.deepEqual(c.status?.capacity, { storage: '3Gi' });
    assert.deepEqual(c.status?.accessModes, ['ReadWriteOnce']);
    assert.equal(c.metadata.annotations?.['pv.kubernetes.io/bind-completed'], 'yes');
    assert.equal(c.metadata.annotations?.['volume.kubernetes.io/storage-provisioner'], 'canopy.io/simulated');
    const v = await eventually('the volume Bound', async () => {
      const pv = await env.client.get<Volume>(types.persistentVolumes, c.spec.volumeName!);
      return pv.status?.phase === 'Bound' ? pv : undefined;
    });
    assert.equal(v.spec.capacity.storage, '3Gi');
    assert.equal(v.spec.claimRef?.name, 'data');
    assert.equal(v.spec.claimRef?.uid, c.metadata.uid);
    assert.equal(v.spec.persistentVolumeReclaimPolicy, 'Delete');
    assert.equal(v.spec.csi?.driver, 'canopy.io/simulated');
    assert.equal(v.metadata.annotations?.['pv.kubernetes.io/provisioned-by'], 'canopy.io/simulated');

    // The claim goes: its volume is released and, with reclaimPolicy Delete, deleted.
    await env.client.delete(types.persistentVolumeClaims, 'data', { namespace: ns });
    await eventually('the provisioned volume deleted', async () => !(await env.client.tryGet(types.persistentVolumes, v.metadata.name!)));
  });

  it('binds a claim to the smallest Available volume that fits, and keeps a retained volume Released', async () => {
    const ns = 'pv-static';
    await createNamespace(env.client, ns);
    const volume = (name: string, size: string) =>
      ({
        metadata: { name },
        spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], storageClassName: 'manual', persistentVolumeReclaimPolicy: 'Retain', hostPath: { path: `/data/${name}` } },
      }) as KubeObject;
    for (const [name, size] of [['big', '10Gi'], ['small', '1Gi'], ['fits', '5Gi']]) await env.client.create(types.persistentVolumes, volume(name, size));
    await eventually('volumes Available', async () => (await env.client.list<Volume>(types.persistentVolumes)).items.filter((v) => ['big', 'small', 'fits'].includes(v.metadata.name!)).every((v) => v.status?.phase === 'Available'));
    await env.client.create(types.persistentVolumeClaims, claim('want4', '4Gi', { storageClassName: 'manual' }), { namespace: ns });
    const c = await bound(ns, 'want4');
    assert.equal(c.spec.volumeName, 'fits');
    assert.deepEqual(c.status?.capacity, { storage: '5Gi' });
    const pv = await env.client.get<Volume>(types.persistentVolumes, 'fits');
    assert.equal(pv.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
    await env.client.delete(types.persistentVolumeClaims, 'want4', { namespace: ns });
    await eventually('fits Released', async () => (await env.client.get<Volume>(types.persistentVolumes, 'fits')).status?.phase === 'Released');
    // Retained: never reused for another claim while Released.
    await env.client.create(types.persistentVolumeClaims, claim('next', '4Gi', { storageClassName: 'manual' }), { namespace: ns });
    assert.equal((await bound(ns, 'next')).spec.volumeName, 'big');
  });

  it('waits for the first consumer, then provisions on the selected node', async () => {
    const ns = 'pv-wffc';
    await createNamespace(env.client, ns);
    await env.client.create(types.storageClasses, { metadata: { name: 'zonal' }, provisioner: 'canopy.io/simulated', volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Retain' } as KubeObject);
    await env.client.create(types.persistentVolumeClaims, claim('later', '2Gi', { storageClassName: 'zonal' }), { namespace: ns });
    await eventually('the WaitForFirstConsumer event', async () =>
      (await env.client.list(types.events, { namespace: ns })).items.some((e) => (e as { reason?: string }).reason === 'WaitForFirstConsumer'),
    );
    assert.equal((await env.client.get<Claim>(types.persistentVolumeClaims, 'later', ns)).status?.phase, 'Pending');
    // The scheduler's part: it picked node-7 for the pod using the claim.
    await env.client.patch(types.persistentVolumeClaims, 'later', { metadata: { annotations: { 'volume.kubernetes.io/selected-node': 'node-7' } } }, 'merge', { namespace: ns });
    const c = await bound(ns, 'later');
    const pv = await env.client.get<Volume>(types.persistentVolumes, c.spec.volumeName!);
    assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Retain');
    assert.deepEqual(pv.spec.nodeAffinity, { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-7'] }] }] } });
  });
});
