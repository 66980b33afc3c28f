import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '@canopy/apimachinery';
import { SqliteRevisionStore } from '../src/storage/sqlite-store.js';
import { StorageError, type StoreEvent } from '../src/storage/types.js';

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-sqlite-store-'));
  tempDirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function pod(namespace: string, name: string, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { nodeName: 'node-1' }, ...extra };
}

function podKey(namespace: string, name: string): string {
  return `/registry/pods/${namespace}/${name}`;
}

function storageError(code: StorageError['code']) {
  return (error: unknown) => error instanceof StorageError && error.code === code;
}

/** Deterministic PRNG (mulberry32) so randomised tests are reproducible. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function collect(
  store: SqliteRevisionStore,
  prefix: string,
  afterRevision: number,
): { events: StoreEvent[]; cancel: () => void } {
  const events: StoreEvent[] = [];
  const handle = store.watch(prefix, afterRevision, (event) => events.push(event));
  return { events, cancel: () => handle.cancel() };
}

describe('SqliteRevisionStore writes', () => {
  it('creates, reads, updates and deletes with stamped resourceVersions', () => {
    const store = SqliteRevisionStore.open(':memory:');
    assert.equal(store.currentRevision(), 0);

    const input = pod('default', 'web-0');
    const created = store.create(podKey('default', 'web-0'), input);
    assert.equal(created.modRevision, 1);
    assert.equal(created.createRevision, 1);
    assert.equal(created.object.metadata.resourceVersion, '1');
    assert.equal(input.metadata.resourceVersion, undefined, 'the caller object is not mutated');
    assert.deepEqual(store.get(podKey('default', 'web-0')), created);

    const updated = store.update(podKey('default', 'web-0'), { ...created.object, spec: { nodeName: 'node-2' } });
    assert.equal(updated.modRevision, 2);
    assert.equal(updated.createRevision, 1);
    assert.equal(updated.object.metadata.resourceVersion, '2');
    assert.deepEqual(store.get(podKey('default', 'web-0'))!.object.spec, { nodeName: 'node-2' });

    const deleted = store.delete(podKey('default', 'web-0'));
    assert.equal(deleted.modRevision, 3);
    assert.equal(deleted.object.metadata.resourceVersion, '3', 'the last value is stamped with the deletion revision');
    assert.deepEqual(deleted.object.spec, { nodeName: 'node-2' });
    assert.equal(store.get(podKey('default', 'web-0')), undefined);

    const recreated = store.create(podKey('default', 'web-0'), pod('default', 'web-0'));
    assert.equal(recreated.createRevision, 4, 'a new incarnation gets a new createRevision');
    store.close();
  });

  it('rejects writes that do not match the live state, without consuming revisions', () => {
    const store = SqliteRevisionStore.open(':memory:');
    const key = podKey('default', 'a');
    const first = store.create(key, pod('default', 'a'));
    assert.throws(() => store.create(key, pod('default', 'a')), storageError('KeyExists'));
    assert.throws(() => store.update(podKey('default', 'missing'), pod('default', 'missing')), storageError('KeyNotFound'));
    assert.throws(() => store.delete(podKey('default', 'missing')), storageError('KeyNotFound'));

    const second = store.update(key, pod('default', 'a'), first.modRevision);
    assert.throws(
      () => store.update(key, pod('default', 'a'), first.modRevision),
      (error: unknown) =>
        error instanceof StorageError &&
        error.code === 'Conflict' &&
        (error.current as { modRevision: number }).modRevision === second.modRevision,
    );
    assert.throws(() => store.delete(key, first.modRevision), storageError('Conflict'));
    assert.equal(store.currentRevision(), 2, 'failed writes did not advance the revision');
    assert.equal(store.get(key)!.modRevision, 2);
    store.delete(key, second.modRevision);
    assert.throws(() => store.update(key, pod('default', 'a')), storageError('KeyNotFound'));
    assert.equal(store.currentRevision(), 3);
    store.close();
  });

  it('assigns strictly increasing revisions across keys and kinds of write', () => {
    const store = SqliteRevisionStore.open(':memory:');
    const next = random(7);
    const live: string[] = [];
    let last = 0;
    for (let i = 0; i < 300; i++) {
      const roll = next();
      let revision: number;
      if (live.length === 0 || roll < 0.5) {
        const key = podKey('ns', `p${i}`);
        revision = store.create(key, pod('ns', `p${i}`)).modRevision;
        live.push(key);
      } else if (roll < 0.8) {
        revision = store.update(live[Math.floor(next() * live.length)], pod('ns', 'x')).modRevision;
      } else {
        revision = store.delete(live.splice(Math.floor(next() * live.length), 1)[0]).modRevision;
      }
      assert.equal(revision, last + 1);
      last = revision;
    }
    assert.equal(store.currentRevision(), last);
    assert.equal(store.count('/registry/pods/'), live.length);
    store.close();
  });
});

describe('SqliteRevisionStore list', () => {
  // Group names chosen so a naive per-group concatenation would break global order:
  // '-' and '.' sort before '/', so `/registry/a-b/…` < `/registry/a.b/…` < `/registry/a/…`.
  const resources = ['a', 'a-b', 'a.b', 'pods'];
  const namespaces = ['default', 'kube-system', 'zz'];

  function populate(store: SqliteRevisionStore, seed: number): Map<string, number> {
    const next = random(seed);
    const model = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const resource = resources[Math.floor(next() * resources.length)];
      const namespace = namespaces[Math.floor(next() * namespaces.length)];
      const name = `n${Math.floor(next() * 400)}`;
      const key = `/registry/${resource}/${namespace}/${name}`;
      if (model.has(key)) {
        if (next() < 0.5) {
          store.delete(key);
          model.delete(key);
        } else model.set(key, store.update(key, pod(namespace, name, { index: i })).modRevision);
      } else model.set(key, store.create(key, pod(namespace, name, { index: i })).modRevision);
    }
    // Cluster-scoped keys and a key with fewer than three slashes.
    for (const name of ['node-b', 'node-a'])
      model.set(`/registry/nodes/${name}`, store.create(`/registry/nodes/${name}`, { metadata: { name } }).modRevision);
    model.set('/registry/odd', store.create('/registry/odd', { metadata: { name: 'odd' } }).modRevision);
    return model;
  }

  function expectedKeys(model: Map<string, number>, prefix: string): string[] {
    return [...model.keys()].filter((key) => key.startsWith(prefix)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  it('returns keys in lexical order for resource, namespace and broad prefixes', () => {
    const store = SqliteRevisionStore.open(':memory:');
    const model = populate(store, 11);
    const prefixes = [
      '',
      '/registry/',
      '/registry/a',
      '/registry/a/',
      '/registry/a-b/kube-system/',
      '/registry/pods/zz/',
      '/registry/nodes/',
      '/registry/none/',
    ];
    for (const prefix of prefixes) {
      const result = store.list(prefix);
      const keys = result.items.map((item) => item.key);
      assert.deepEqual(keys, expectedKeys(model, prefix), `list(${JSON.stringify(prefix)})`);
      assert.equal(store.count(prefix), keys.length, `count(${JSON.stringify(prefix)})`);
      assert.equal(result.more, false);
      assert.equal(result.revision, store.currentRevision());
      for (const item of result.items) assert.equal(item.modRevision, model.get(item.key));
    }
    store.close();
  });

  it('pages with startAfter and limit, reporting more and remaining', () => {
    const store = SqliteRevisionStore.open(':memory:');
    const model = populate(store, 12);
    for (const prefix of ['/registry/', '/registry/pods/', '/registry/a/default/']) {
      const expected = expectedKeys(model, prefix);
      const seen: string[] = [];
      let startAfter: string | undefined;
      while (true) {
        const page = store.list(prefix, { limit: 7, startAfter });
        seen.push(...page.items.map((item) => item.key));
        assert.ok(page.items.length <= 7);
        assert.equal(page.remaining, expected.length - seen.length);
        if (!page.more) break;
        assert.equal(page.items.length, 7);
        startAfter = page.items[page.items.length - 1].key;
      }
      assert.deepEqual(seen, expected, `paging ${prefix}`);
    }
    store.close();
  });

  it('applies the filter before counting the limit', () => {
    const store = SqliteRevisionStore.open(':memory:');
    const model = populate(store, 13);
    const even = (object: KubeObject) => typeof object.index === 'number' && object.index % 2 === 0;
    const expected = expectedKeys(model, '/registry/pods/').filter((key) => even(store.get(key)!.object));
    assert.ok(expected.length > 10);
    const first = store.list('/registry/pods/', { limit: 5, filter: even });
    assert.deepEqual(
      first.items.map((item) => item.key),
      expected.slice(0, 5),
    );
    assert.equal(first.more, true);
    assert.equal(first.remaining, undefined, 'remaining is unknown under a filter');
    const rest = store.list('/registry/pods/', { startAfter: first.items[4].key, filter: even });
    assert.deepEqual(
      rest.items.map((item) => item.key),
      expected.slice(5),
    );
    store.close();
  });
});

describe('SqliteRevisionStore reads at older revisions', () => {
  it('answers get and list as of a past revision and refuses future ones', () => {
    const store = SqliteRevisionStore.open(':memory:');
    const snapshots: Map<string, string>[] = [new Map()];
    const next = random(21);
    const state = new Map<string, string>();
    for (let i = 0; i < 200; i++) {
      const key = podKey(next() < 0.5 ? 'default' : 'other', `p${Math.floor(next() * 40)}`);
      if (state.has(key)) {
        if (next() < 0.3) {
          store.delete(key);
          state.delete(key);
        } else state.set(key, store.update(key, pod('x', 'y', { i })).object.metadata.resourceVersion!);
      } else state.set(key, store.create(key, pod('x', 'y', { i })).object.metadata.resourceVersion!);
      snapshots.push(new Map(state));
    }
    for (const revision of [1, 17, 90, 150, 199]) {
      const snapshot = snapshots[revision];
      const expected = [...snapshot.keys()].filter((key) => key.startsWith('/registry/pods/default/')).sort();
      const listed = store.list('/registry/pods/default/', { atRevision: revision });
      assert.equal(listed.revision, revision);
      assert.deepEqual(
        listed.items.map((item) => [item.key, item.object.metadata.resourceVersion]),
        expected.map((key) => [key, snapshot.get(key)]),
        `list at ${revision}`,
      );
      const paged = store.list('/registry/pods/', { atRevision: revision, limit: 3, startAfter: '/registry/pods/default/p2' });
      const all = [...snapshot.keys()].filter((key) => key > '/registry/pods/default/p2').sort();
      assert.deepEqual(
        paged.items.map((item) => item.key),
        all.slice(0, 3),
      );
      assert.equal(paged.more, all.length > 3);
      for (const key of ['/registry/pods/default/p1', '/registry/pods/other/p5', '/registry/pods/default/p33']) {
        assert.equal(store.get(key, revision)?.object.metadata.resourceVersion, snapshot.get(key), `get ${key} at ${revision}`);
      }
    }
    assert.throws(() => store.get(podKey('default', 'p1'), store.currentRevision() + 1), storageError('FutureRevision'));
    assert.throws(
      () => store.list('/registry/pods/', { atRevision: store.currentRevision() + 5 }),
      storageError('FutureRevision'),
    );
    store.close();
  });
});

describe('SqliteRevisionStore compaction', () => {
  it('drops superseded history, keeps live values and reads at the compacted revision', () => {
    const store = SqliteRevisionStore.open(':memory:');
    for (let i = 0; i < 10; i++) store.create(podKey('default', `p${i}`), pod('default', `p${i}`));
    for (let i = 0; i < 10; i += 2) store.update(podKey('default', `p${i}`), pod('default', `p${i}`, { v: 2 }));
    store.delete(podKey('default', 'p1'));
    store.delete(podKey('default', 'p2')); // revision 17
    store.update(podKey('default', 'p3'), pod('default', 'p3', { v: 3 })); // revision 18
    const beforeAtTwelve = store.list('/registry/pods/', { atRevision: 12 }).items.map((item) => [item.key, item.modRevision]);
    const liveBefore = store.list('/registry/pods/').items;

    store.compact(store.currentRevision() - 12); // compacted to revision 12
    assert.equal(store.compactedRevision(), 12);
    assert.deepEqual(
      store.list('/registry/pods/', { atRevision: 12 }).items.map((item) => [item.key, item.modRevision]),
      beforeAtTwelve,
      'the state at the compacted revision is still readable',
    );
    assert.deepEqual(store.list('/registry/pods/').items, liveBefore);
    assert.equal(
      store.get(podKey('default', 'p3'), 15)?.modRevision,
      4,
      'a value superseded after the compacted revision stays readable',
    );
    assert.throws(
      () => store.get(podKey('default', 'p3'), 11),
      (error: unknown) => error instanceof StorageError && error.code === 'Compacted' && error.current === 12,
    );
    assert.throws(() => store.list('/registry/pods/', { atRevision: 3 }), storageError('Compacted'));
    assert.throws(() => store.watch('/registry/pods/', 11, () => {}), storageError('Compacted'));

    const { events } = collect(store, '/registry/pods/', 12);
    assert.deepEqual(
      events.map((event) => event.revision),
      [13, 14, 15, 16, 17, 18],
    );
    store.compact(0);
    assert.equal(store.compactedRevision(), 18);
    assert.equal(store.create(podKey('default', 'new'), pod('default', 'new')).modRevision, 19);
    assert.deepEqual(
      events.map((event) => event.revision),
      [13, 14, 15, 16, 17, 18, 19],
    );
    store.close();
  });

  it('deletes a long history in short transactions, with writes and reads in between, and leaves it as one would', async () => {
    const path = join(tempDir(), 'state.db');
    const store = SqliteRevisionStore.open(path);
    for (let i = 0; i < 100; i++) store.create(podKey('default', `p${i}`), pod('default', `p${i}`));
    for (let round = 0; round < 120; round++)
      for (let i = 0; i < 100; i++) store.update(podKey('default', `p${i}`), pod('default', `p${i}`, { round }));
    const target = store.currentRevision() - 50;
    const done = store.compact(50);
    assert.equal(store.compactedRevision(), target, 'declared at once');
    assert.throws(() => store.get(podKey('default', 'p0'), target - 1), storageError('Compacted'));
    // The writer is not held: writes and reads land while rows are still being deleted.
    let turns = 0;
    let finished = false;
    void done.then(() => (finished = true));
    while (!finished) {
      store.update(podKey('default', 'p0'), pod('default', 'p0', { during: turns }));
      assert.equal(store.get(podKey('default', 'p0'))?.object.during, turns);
      turns++;
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(turns >= 3, `compaction yielded ${turns} times`);
    store.close();
    const db = new (await import('better-sqlite3')).default(path, { readonly: true });
    const rows = db.prepare('SELECT COUNT(*) AS n FROM kv WHERE revision <= ?').get(target) as { n: number };
    db.close();
    assert.equal(rows.n, 100, 'one row per key at or below the compacted revision');
  });

  it('never reuses revisions after compacting away the newest rows', () => {
    const path = join(tempDir(), 'state.db');
    let store = SqliteRevisionStore.open(path);
    store.create(podKey('default', 'a'), pod('default', 'a'));
    store.create(podKey('default', 'b'), pod('default', 'b'));
    store.delete(podKey('default', 'b')); // the newest row is a tombstone, removed by compact(0)
    store.compact(0);
    store.close();

    store = SqliteRevisionStore.open(path);
    assert.equal(store.currentRevision(), 3);
    assert.equal(store.compactedRevision(), 3);
    assert.equal(store.create(podKey('default', 'c'), pod('default', 'c')).modRevision, 4);
    assert.equal(store.get(podKey('default', 'a'))?.modRevision, 1);
    store.close();
  });
});

describe('SqliteRevisionStore watch', () => {
  it('replays history after a revision, then delivers live events in order under the prefix', () => {
    const store = SqliteRevisionStore.open(':memory:');
    store.create(podKey('default', 'a'), pod('default', 'a')); // 1
    store.create(podKey('other', 'b'), pod('other', 'b')); // 2
    store.create('/registry/services/default/a', { metadata: { name: 'a' } }); // 3
    store.update(podKey('default', 'a'), pod('default', 'a', { v: 2 })); // 4

    const pods = collect(store, '/registry/pods/', 1);
    const defaultPods = collect(store, '/registry/pods/default/', 0);
    const everything = collect(store, '/registry/', 2);
    assert.deepEqual(
      pods.events.map((event) => [event.type, event.revision]),
      [
        ['ADDED', 2],
        ['MODIFIED', 4],
      ],
    );
    assert.deepEqual(
      defaultPods.events.map((event) => [event.type, event.revision]),
      [
        ['ADDED', 1],
        ['MODIFIED', 4],
      ],
    );

    store.delete(podKey('default', 'a')); // 5
    store.create(podKey('other', 'c'), pod('other', 'c')); // 6
    store.update('/registry/services/default/a', { metadata: { name: 'a' } }); // 7
    assert.deepEqual(
      pods.events.map((event) => [event.type, event.key, event.revision]),
      [
        ['ADDED', podKey('other', 'b'), 2],
        ['MODIFIED', podKey('default', 'a'), 4],
        ['DELETED', podKey('default', 'a'), 5],
        ['ADDED', podKey('other', 'c'), 6],
      ],
    );
    assert.deepEqual(
      defaultPods.events.map((event) => event.revision),
      [1, 4, 5],
    );
    assert.deepEqual(
      everything.events.map((event) => event.revision),
      [3, 4, 5, 6, 7],
    );

    const deleted = pods.events[2];
    assert.equal(deleted.object.metadata.resourceVersion, '5');
    assert.equal(deleted.prevObject?.metadata.resourceVersion, '4');
    assert.equal(pods.events[1].prevObject?.metadata.resourceVersion, '1');
    assert.equal(pods.events[0].prevObject, undefined);
    assert.equal(deleted.json(), deleted.json());
    assert.deepEqual(JSON.parse(deleted.json()), deleted.object);

    pods.cancel();
    store.create(podKey('default', 'z'), pod('default', 'z')); // 8
    assert.equal(pods.events.length, 4, 'a cancelled watch gets nothing more');
    assert.deepEqual(defaultPods.events.at(-1)?.revision, 8);
    store.close();
  });

  it('replays from SQLite when the revision is older than the in-memory window', () => {
    const store = SqliteRevisionStore.open(':memory:', { historyWindow: 5 });
    for (let i = 0; i < 30; i++) store.create(podKey(i % 2 ? 'odd' : 'even', `p${i}`), pod('x', `p${i}`));
    store.update(podKey('even', 'p0'), pod('even', 'p0', { v: 2 })); // 31
    const { events } = collect(store, '/registry/pods/even/', 3);
    const expected = [...Array.from({ length: 13 }, (_, i) => 5 + 2 * i), 31];
    assert.deepEqual(
      events.map((event) => event.revision),
      expected,
    );
    assert.equal(events.at(-1)!.type, 'MODIFIED');
    assert.equal(events.at(-1)!.prevObject?.metadata.resourceVersion, '1');
    store.create(podKey('even', 'late'), pod('even', 'late'));
    assert.equal(events.at(-1)!.revision, 32);
    store.close();
  });

  it('isolates throwing listeners and keeps order when listeners write', () => {
    const errors: unknown[] = [];
    const store = SqliteRevisionStore.open(':memory:', { onListenerError: (error) => errors.push(error) });
    store.watch('/registry/', 0, () => {
      throw new Error('listener bug');
    });
    // A listener that reacts to pod creations by writing an event object, synchronously.
    store.watch('/registry/pods/', 0, (event) => {
      if (event.type === 'ADDED')
        store.create(`/registry/events/default/${event.object.metadata.name}`, { metadata: { name: 'e' } });
    });
    const seen: number[] = [];
    store.watch('/registry/', 0, (event) => seen.push(event.revision));

    const created = store.create(podKey('default', 'a'), pod('default', 'a'));
    assert.equal(created.modRevision, 1, 'the writer is unaffected by listener failures');
    store.create(podKey('default', 'b'), pod('default', 'b'));
    assert.deepEqual(seen, [1, 2, 3, 4], 'every listener sees every revision once, in order');
    assert.equal(errors.length, 4);

    // A watch started from inside a listener neither misses nor repeats events.
    const nested: number[] = [];
    const once = store.watch('/registry/pods/', store.currentRevision(), (event) => {
      if (nested.length === 0) store.watch('/registry/', event.revision - 1, (inner) => nested.push(inner.revision));
    });
    store.create(podKey('default', 'c'), pod('default', 'c')); // 5, and the reacting listener writes 6
    once.cancel();
    store.create(podKey('default', 'd'), pod('default', 'd')); // 7, 8
    assert.deepEqual(nested, [5, 6, 7, 8]);
    store.close();
  });
});

describe('SqliteRevisionStore persistence', () => {
  it('reloads state, revision and watch history after reopening', () => {
    const path = join(tempDir(), 'state.db');
    let store = SqliteRevisionStore.open(path, { historyWindow: 4 });
    for (let i = 0; i < 12; i++) store.create(podKey('default', `p${i}`), pod('default', `p${i}`));
    store.update(podKey('default', 'p3'), pod('default', 'p3', { v: 2 })); // 13
    store.delete(podKey('default', 'p4')); // 14
    const liveBefore = store.list('/registry/').items;
    store.close();

    // A file DB is exclusively locked while open: a second server cannot share it.
    store = SqliteRevisionStore.open(path, { historyWindow: 4 });
    assert.throws(() => SqliteRevisionStore.open(path), /in use by another process/);
    assert.equal(store.currentRevision(), 14);
    assert.deepEqual(store.list('/registry/').items, liveBefore);
    assert.equal(store.count('/registry/pods/'), 11);
    // From inside the reloaded window, and from older revisions read back from SQLite.
    for (const afterRevision of [11, 6]) {
      const { events } = collect(store, '/registry/pods/', afterRevision);
      assert.deepEqual(
        events.map((event) => event.revision),
        Array.from({ length: 14 - afterRevision }, (_, i) => afterRevision + 1 + i),
      );
      const modified = events.find((event) => event.revision === 13)!;
      assert.equal(modified.type, 'MODIFIED');
      assert.equal(modified.prevObject?.metadata.resourceVersion, '4');
      const deleted = events.find((event) => event.revision === 14)!;
      assert.equal(deleted.type, 'DELETED');
      assert.equal(deleted.object.metadata.resourceVersion, '14');
      assert.equal(events[0].type, 'ADDED');
    }
    assert.equal(store.create(podKey('default', 'new'), pod('default', 'new')).modRevision, 15);
    store.close();
  });

  it('keeps every acknowledged write of a process killed with SIGKILL mid-stream', async () => {
    const path = join(tempDir(), 'crash.db');
    const script = fileURLToPath(new URL('./fixtures/sqlite-store-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acknowledged = new Map<string, { revision: number; write: number }>();
    let buffered = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', () => resolve());
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          const [word, key, revision, write] = line.split(' ');
          if (word === 'ack') acknowledged.set(`${key}@${revision}`, { revision: Number(revision), write: Number(write) });
        }
        if (acknowledged.size >= 2000 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
    });
    assert.equal(child.signalCode, 'SIGKILL', 'the writer was killed, not finished');
    assert.ok(acknowledged.size >= 2000);

    const store = SqliteRevisionStore.open(path);
    const highest = Math.max(...[...acknowledged.values()].map((ack) => ack.revision));
    assert.ok(store.currentRevision() >= highest);
    for (const [keyAtRevision, ack] of acknowledged) {
      const key = keyAtRevision.slice(0, keyAtRevision.lastIndexOf('@'));
      const stored = store.get(key, ack.revision);
      assert.equal(stored?.modRevision, ack.revision, `${key} at ${ack.revision}`);
      assert.equal(stored.object.metadata.resourceVersion, String(ack.revision));
      assert.equal((stored.object.data as { write: string }).write, String(ack.write));
    }
    store.close();
  });
});

describe('SqliteRevisionStore memory', () => {
  const withManagedFields = (name: string, image: string): KubeObject =>
    pod('default', name, {
      metadata: {
        name,
        namespace: 'default',
        managedFields: [
          { manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '2026-11-24T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {} } } } } },
        ],
      },
      spec: { containers: [{ name: 'web', image }] },
    });

  it('holds one frozen copy of identical managedFields trees, and leaves the writer’s objects alone', () => {
    const store = SqliteRevisionStore.open(':memory:');
    const first = withManagedFields('a', 'nginx:1');
    const writerTree = first.metadata.managedFields![0].fieldsV1!;
    const a = store.create(podKey('default', 'a'), first);
    const b = store.create(podKey('default', 'b'), withManagedFields('b', 'nginx:2'));
    const treeA = a.object.metadata.managedFields![0].fieldsV1!;
    assert.equal(treeA, b.object.metadata.managedFields![0].fieldsV1, 'the same instance');
    assert.notEqual(treeA, writerTree, 'the writer’s tree is not taken over');
    assert.ok(!Object.isFrozen(writerTree));
    assert.throws(() => ((treeA['f:spec'] as Record<string, unknown>)['f:x'] = {}), TypeError);
    // Reads and the stored text are unchanged by the sharing.
    assert.deepEqual(JSON.parse(store.get(podKey('default', 'a'))!.json!).metadata.managedFields, first.metadata.managedFields);
    store.close();
  });

  it('keeps dispatched events of the watch window as text: superseded versions are not held, replays equal them', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const store = SqliteRevisionStore.open(':memory:');
    const live = collect(store, '/registry/pods/', 0);
    let first: KubeObject | undefined = store.create(podKey('default', 'a'), pod('default', 'a', { v: 1 })).object;
    const written = JSON.parse(JSON.stringify(first));
    const firstRef = new WeakRef(first);
    store.update(podKey('default', 'a'), pod('default', 'a', { v: 2 }));
    // The live watcher got the objects themselves while they were dispatched.
    assert.equal(live.events[0].object.metadata.resourceVersion, '1');
    live.cancel();
    live.events.length = 0;
    first = undefined;
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(firstRef.deref(), undefined, 'the superseded version is no longer held');
    const replay = collect(store, '/registry/pods/', 0);
    assert.deepEqual(
      replay.events.map((e) => [e.type, e.revision]),
      [
        ['ADDED', 1],
        ['MODIFIED', 2],
      ],
    );
    assert.deepEqual(replay.events[0].object, written);
    assert.deepEqual(replay.events[1].prevObject, written);
    assert.equal(replay.events[1].object.v, 2);
    assert.deepEqual(JSON.parse(replay.events[1].json()), replay.events[1].object);
    store.close();
  });

  it('keeps text-only prefixes as text: reads, lists, watches and history behave the same', () => {
    const dir = tempDir();
    const path = join(dir, 'state.db');
    const store = SqliteRevisionStore.open(path, { textOnlyPrefixes: ['/registry/events/'] });
    const event = (name: string, count: number): KubeObject => ({ apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default' }, reason: 'Pulled', count });
    const watched = collect(store, '/registry/events/', 0);
    store.create('/registry/events/default/e1', event('e1', 1));
    const updated = store.update('/registry/events/default/e1', event('e1', 2));
    store.create('/registry/events/default/e2', event('e2', 1));
    const read = store.get('/registry/events/default/e1')!;
    assert.equal(read.object.count, 2);
    assert.equal(read.object.metadata.resourceVersion, String(updated.modRevision));
    assert.notEqual(read.object, store.get('/registry/events/default/e1')!.object, 'parsed per read, not held');
    read.object.count = 99;
    assert.equal(store.get('/registry/events/default/e1')!.object.count, 2, 'a reader’s change is its own');
    assert.deepEqual(
      store.list('/registry/events/default/').items.map((i) => [i.object.metadata.name, i.object.count]),
      [['e1', 2], ['e2', 1]],
    );
    assert.deepEqual(watched.events.map((e) => [e.type, e.object.count, e.prevObject?.count]), [['ADDED', 1, undefined], ['MODIFIED', 2, 1], ['ADDED', 1, undefined]]);
    store.delete('/registry/events/default/e2');
    assert.equal(store.get('/registry/events/default/e1', updated.modRevision - 1)?.object.count, 1, 'history from SQLite');
    store.close();
    // Reopened, the text-only values load as text and read the same.
    const reopened = SqliteRevisionStore.open(path, { textOnlyPrefixes: ['/registry/events/'] });
    assert.equal(reopened.get('/registry/events/default/e1')?.object.count, 2);
    assert.equal(reopened.get('/registry/events/default/e2'), undefined);
    reopened.close();
  });
});
