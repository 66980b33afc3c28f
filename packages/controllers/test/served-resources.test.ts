/**
 * Controllers that follow every served kind (garbage collector, namespace deletion, quota) keep
 * metadata-only caches, as kube's metadata informers do, except for the kinds whose contents they
 * read (quota charges pods by their spec): a ConfigMap's data or a Role's rules never sit in them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KubeObject } from '@canopy/apimachinery';
import { EventRecorder, InformerFactory, metadataOnly, realClock, stripManagedFields, types, type KubeClient } from '@canopy/client';
import { ServedResourceInformers, type ControllerContext } from '../src/index.js';
import { startCluster, type TestCluster } from '../../client/test/support.js';

let cluster: TestCluster;
let client: KubeClient;
before(async () => {
  cluster = await startCluster();
  client = cluster.inProcess();
});
after(async () => cluster?.close());

test('kinds read only for their metadata are cached without their contents; whole objects where asked', async () => {
  const ns = 'served';
  await client.create(types.namespaces, { metadata: { name: ns } });
  await client.create(types.serviceAccounts, { metadata: { name: 'default' } } as KubeObject, { namespace: ns });
  await client.create(types.configMaps, { metadata: { name: 'settings', labels: { app: 'x' } }, data: { password: 'not-cached' } } as KubeObject, { namespace: ns });
  await client.create(types.pods, { metadata: { name: 'web' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } as KubeObject, { namespace: ns });

  const informers = new InformerFactory(client, { transform: stripManagedFields });
  const metadataInformers = new InformerFactory(client, { transform: metadataOnly });
  const context: ControllerContext = {
    client,
    informers,
    metadataInformers,
    clock: realClock,
    events: new EventRecorder(client, { component: 'test' }),
    log: () => {},
  };
  const added: KubeObject[] = [];
  const followed = new ServedResourceInformers(context, {
    select: (r) => r.group === '' && (r.resource === 'configmaps' || r.resource === 'pods'),
    wholeObjects: (r) => r.resource === 'pods',
    handlers: { onAdd: (_t, o) => added.push(o) },
  });
  try {
    await followed.start();
    await followed.waitForSync();
    const configMap = followed.informerFor('', 'configmaps')!.get('settings', ns)!;
    assert.deepEqual(Object.keys(configMap).sort(), ['apiVersion', 'kind', 'metadata']);
    assert.equal(configMap.metadata.labels?.app, 'x', 'metadata is kept whole');
    assert.equal(configMap.metadata.managedFields, undefined);
    assert.ok(!JSON.stringify(added).includes('not-cached'), 'handlers never see the data either');
    const pod = followed.informerFor('', 'pods')!.get('web', ns)!;
    assert.equal((pod.spec as { containers: unknown[] }).containers.length, 1, 'a kind asked for whole keeps its spec');
  } finally {
    followed.stop();
    await informers.stop();
    await metadataInformers.stop();
  }
});
