import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '@canopy/apimachinery';
import { FakeClock, Informer, InformerFactory, isNotFound, KubeClient, LeaderElector, stripManagedFields, types, WorkQueue } from '../src/index.js';
import { startCluster, type TestCluster } from './support.js';

let cluster: TestCluster;
before(async () => {
  cluster = await startCluster({ historyWindow: 200 });
});
after(async () => cluster?.close());

for (const transport of ['http', 'in-process'] as const) {
  describe(`KubeClient over ${transport}`, () => {
    const client = (): KubeClient => (transport === 'http' ? cluster.http : cluster.inProcess());
    const ns = `client-${transport}`;

    it('creates, reads, patches, lists and deletes with Kubernetes semantics', async () => {
      const c = client();
      await c.create(types.namespaces, { metadata: { name: ns } });
      const cm = await c.create(types.configMaps, { metadata: { name: 'a', namespace: ns, labels: { app: 'x' } }, data: { k: 'v' } });
      assert.equal(cm.kind, 'ConfigMap');
      assert.ok(cm.metadata.uid);
      const patched = await c.patch(types.configMaps, 'a', { data: { k: 'w' } }, 'merge', { namespace: ns });
      assert.equal((patched as any).data.k, 'w');
      const list = await c.list(types.configMaps, { namespace: ns, labelSelector: 'app=x' });
      assert.deepEqual(list.items.map((i) => i.metadata.name), ['a']);
      await assert.rejects(c.create(types.configMaps, { metadata: { name: 'a', namespace: ns } }), (err: StatusError) => err.code === 409 && err.reason === 'AlreadyExists');
      const stale = { ...cm, data: { k: 'stale' } };
      await assert.rejects(c.update(types.configMaps, stale), (err: StatusError) => err.code === 409 && err.reason === 'Conflict');
      await c.delete(types.configMaps, 'a', { namespace: ns });
      await assert.rejects(c.get(types.configMaps, 'a', ns), (err) => isNotFound(err));
    });

    it('watches from a resourceVersion and ends when closed', async () => {
      const c = client();
      const start = await c.list(types.configMaps, { namespace: ns });
      const watch = await c.watch(types.configMaps, { namespace: ns, resourceVersion: start.metadata.resourceVersion });
      await c.create(types.configMaps, { metadata: { name: 'w1', namespace: ns } });
      await c.delete(types.configMaps, 'w1', { namespace: ns });
      const seen: string[] = [];
      for await (const event of watch) {
        seen.push(`${event.type} ${event.object.metadata.name}`);
        if (seen.length === 2) watch.close();
      }
      assert.deepEqual(seen, ['ADDED w1', 'DELETED w1']);
    });
  });
}

describe('Informer', () => {
  it('keeps a cache, indexes it, and relists after 410 without losing a change', async () => {
    const c = cluster.inProcess();
    const ns = 'informer';
    await c.create(types.namespaces, { metadata: { name: ns } });
    await c.create(types.configMaps, { metadata: { name: 'before', namespace: ns, labels: { test: 'informer' } } });
    const informer = new Informer(c, types.configMaps, { namespace: ns, labelSelector: 'test=informer' });
    informer.addIndex('byLabel', (o) => (o.metadata.labels?.tier ? [o.metadata.labels.tier] : []));
    const events: string[] = [];
    informer.addHandler({
      onAdd: (o) => events.push(`add ${o.metadata.name}`),
      onUpdate: (_o, n) => events.push(`update ${n.metadata.name}`),
      onDelete: (o) => events.push(`delete ${o.metadata.name}`),
    });
    await informer.start();
    assert.ok(informer.get('before', ns));
    await c.create(types.configMaps, { metadata: { name: 'later', namespace: ns, labels: { tier: 'web', test: 'informer' } } });
    await waitFor(() => informer.byIndex('byLabel', 'web').length === 1);
    await c.delete(types.configMaps, 'before', { namespace: ns });
    await waitFor(() => !informer.get('before', ns));
    assert.deepEqual(events, ['add before', 'add later', 'delete before']);

    // Force a resume from a compacted revision: the watch answers 410 and the informer relists,
    // reporting what changed in between as events.
    (informer as any).resourceVersion = '1';
    for (let i = 0; i < 250; i++) await c.create(types.configMaps, { metadata: { name: `filler-${i}`, namespace: ns } });
    cluster.server.store.compact(200);
    (informer as any).watchHandle.close();
    await c.delete(types.configMaps, 'later', { namespace: ns });
    await waitFor(() => !informer.get('later', ns));
    await c.create(types.configMaps, { metadata: { name: 'after', namespace: ns, labels: { test: 'informer' } } });
    await waitFor(() => !!informer.get('after', ns));
    assert.deepEqual(events.slice(3), ['delete later', 'add after']);
    assert.equal(informer.size, 1);
    await informer.stop();
  });
});

describe('InformerFactory', () => {
  it('applies its transform to every cache: stripped managedFields stay on the server, also after an update from the cache', async () => {
    const c = cluster.inProcess();
    const ns = 'informer-factory';
    await c.create(types.namespaces, { metadata: { name: ns } });
    await c.create(types.configMaps, { metadata: { name: 'settings', namespace: ns }, data: { a: '1' } });
    const factory = new InformerFactory(c, { transform: stripManagedFields });
    const informer = factory.for(types.configMaps, { namespace: ns });
    await informer.start();
    const cached = informer.get('settings', ns)!;
    assert.equal(cached.metadata.managedFields, undefined, 'the cache holds no managedFields');
    assert.equal((cached as any).data.a, '1');
    // A controller writing back what it cached does not erase the field owners (kube keeps them).
    const updated = await c.update(types.configMaps, { ...cached, data: { a: '2' } } as any);
    assert.ok(updated.metadata.managedFields?.length, 'the server kept managedFields');
    await waitFor(() => (informer.get('settings', ns) as any)?.data.a === '2');
    assert.equal(informer.get('settings', ns)!.metadata.managedFields, undefined);
    await factory.stop();
  });
});

describe('WorkQueue', () => {
  it('dedupes, never runs a key concurrently with itself, and retries failures with backoff', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue<string>({ clock });
    const runs: string[] = [];
    let fail = 2;
    const done = q.run(async (key) => {
      runs.push(key);
      if (key === 'flaky' && fail-- > 0) throw new Error('boom');
    }, 2);
    q.add('a');
    q.add('a');
    q.add('flaky');
    await q.idle();
    assert.deepEqual(runs.sort(), ['a', 'flaky']);
    assert.equal(q.retries('flaky'), 1);
    clock.advance(5);
    await q.idle();
    clock.advance(10);
    await q.idle();
    assert.equal(runs.filter((r) => r === 'flaky').length, 3);
    assert.equal(q.retries('flaky'), 0);
    q.shutdown();
    await done;
  });
});

describe('LeaderElector', () => {
  it('lets exactly one of two candidates lead, and hands over when the leader stops renewing', async () => {
    const clock = new FakeClock(Date.now());
    const c = cluster.inProcess();
    const leaders = new Set<string>();
    const electors = ['one', 'two'].map(
      (identity) =>
        new LeaderElector({
          client: c,
          name: 'test-lock',
          identity,
          clock,
          leaseDurationSeconds: 15,
          retryPeriodMs: 2000,
          onStartedLeading: () => void leaders.add(identity),
          onStoppedLeading: () => void leaders.delete(identity),
        }),
    );
    electors[0].start();
    await waitFor(() => leaders.has('one'));
    electors[1].start();
    for (let i = 0; i < 5; i++) {
      clock.advance(2000);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual([...leaders], ['one']);
    // The leader freezes (stops without releasing): its lease expires and the other takes over.
    (electors[0] as any).stopped = true;
    for (let i = 0; i < 12 && !leaders.has('two'); i++) {
      clock.advance(2000);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(leaders.has('two'));
    await electors[1].stop();
    const lease = await c.get(types.leases, 'test-lock', 'kube-system');
    assert.equal((lease as any).spec.holderIdentity, undefined);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
