import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '@canopy/apimachinery';
import { FakeClock, Informer, isNotFound, KubeClient, LeaderElector, types, WorkQueue } from '../src/index.js';
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
