/**
 * Acceptance: a `@kubernetes/client-node` informer (list, then watch from the list's
 * resourceVersion, re-watch from the last event's resourceVersion) keeps an exact cache of
 * `canopy server` across a server restart, and relists when its resourceVersion has been
 * compacted away (watch ERROR 410 Expired).
 *
 * The server runs with a history window of 100 revisions, and more than 100 writes happen while
 * the informer is disconnected: resuming must then replay from SQLite, not just the in-memory
 * window, and still deliver every change once, in order.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CoreV1Api, KubeConfig, ListWatch, Watch, type V1ConfigMap } from '@kubernetes/client-node';
import { SqliteRevisionStore } from '@canopy/kube-apiserver';
import { apiClient, type ApiClient } from './support/http.js';
import { removeDir, startServer, type RunningServer } from './support/server.js';

const HISTORY_WINDOW = 100;
const SERVER_ARGS = ['--history-window', String(HISTORY_WINDOW)];
const NS = 'informer';
const COLLECTION = `/api/v1/namespaces/${NS}/configmaps`;

type Verb = 'add' | 'update' | 'delete';
interface Change {
  verb: Verb;
  name: string;
  /** The resourceVersion the write returned; deletes answer with a Status, so theirs is unknown. */
  rv?: string;
}
interface WireEvent {
  type: string;
  name?: string;
  rv?: string;
  code?: number;
  reason?: string;
}

/** A client-node Watch that also records every event exactly as it arrived on the wire. */
class RecordingWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly record: (event: WireEvent) => void,
  ) {
    super(config);
  }

  override watch(
    path: string,
    params: any,
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: any) => void,
  ) {
    return super.watch(
      path,
      params,
      (phase, obj, raw) => {
        this.record({
          type: phase,
          name: obj?.metadata?.name,
          rv: obj?.metadata?.resourceVersion,
          code: obj?.code,
          reason: obj?.reason,
        });
        callback(phase, obj, raw);
      },
      done,
    );
  }
}

/** A namespaced ConfigMap informer over a server, recording callbacks and wire events. */
function startInformer(kubeconfig: string) {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const seen: Change[] = [];
  const wire: WireEvent[] = [];
  const errors: unknown[] = [];
  const informer = new ListWatch<V1ConfigMap>(
    COLLECTION,
    new RecordingWatch(kc, (e) => wire.push(e)),
    () => core.listNamespacedConfigMap({ namespace: NS }),
    false,
  );
  for (const verb of ['add', 'update', 'delete'] as const) {
    informer.on(verb, (obj) => {
      // The root CA publisher's ConfigMap is in every namespace, as in kube; the test's writes are what it follows.
      if (obj.metadata!.name !== 'kube-root-ca.crt')
        seen.push({ verb, name: obj.metadata!.name!, rv: obj.metadata!.resourceVersion });
    });
  }
  informer.on('error', (err) => errors.push(err));
  return { informer, seen, wire, errors };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Writes through the raw API and remembers what each write should look like to an informer. */
function writer(api: () => ApiClient, log: Change[]) {
  const check = async (method: string, path: string, body: unknown, want: number) => {
    const res = await api().request(method, path, {
      body,
      ...(method === 'PATCH' ? { headers: { 'content-type': 'application/merge-patch+json' } } : {}),
    });
    assert.equal(res.status, want, `${method} ${path}: ${res.text}`);
    return res.json();
  };
  return {
    async create(name: string, data: Record<string, string> = { v: '0' }) {
      const obj = await check('POST', COLLECTION, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data }, 201);
      log.push({ verb: 'add', name, rv: obj.metadata.resourceVersion });
    },
    async update(name: string, value: string) {
      const obj = await check('PATCH', `${COLLECTION}/${name}`, { data: { v: value } }, 200);
      log.push({ verb: 'update', name, rv: obj.metadata.resourceVersion });
    },
    async remove(name: string) {
      await check('DELETE', `${COLLECTION}/${name}`, undefined, 200);
      log.push({ verb: 'delete', name });
    },
  };
}

async function serverState(api: ApiClient): Promise<Map<string, { rv: string; data: unknown }>> {
  const res = await api.request('GET', COLLECTION);
  assert.equal(res.status, 200, res.text);
  return new Map(
    res.json().items.map((o: V1ConfigMap) => [o.metadata!.name!, { rv: o.metadata!.resourceVersion!, data: o.data }]),
  );
}

function cacheState(informer: ListWatch<V1ConfigMap>): Map<string, { rv: string; data: unknown }> {
  return new Map(informer.list(NS).map((o) => [o.metadata!.name!, { rv: o.metadata!.resourceVersion!, data: o.data }]));
}

const servers: RunningServer[] = [];
const informers: Array<ListWatch<V1ConfigMap>> = [];
const clients: ApiClient[] = [];

after(async () => {
  for (const informer of informers) await informer.stop();
  for (const client of clients) client.close();
  const dirs = new Set(servers.map((s) => s.dataDir));
  for (const server of servers) await server.stop();
  for (const dir of dirs) removeDir(dir);
});

async function start(options: { dataDir?: string; port?: number } = {}): Promise<{ server: RunningServer; api: ApiClient }> {
  const server = await startServer({ ...options, extraArgs: SERVER_ARGS });
  servers.push(server);
  const api = apiClient(server.kubeconfig);
  clients.push(api);
  return { server, api };
}

describe('client-node informer against canopy server', () => {
  test('resumes from its resourceVersion across a restart: every change once, in order', async () => {
    let { server, api } = await start();
    const { dataDir, port } = server;
    const expected: Change[] = [];
    const w = writer(() => api, expected);
    assert.equal((await api.request('POST', '/api/v1/namespaces', { body: { metadata: { name: NS } } })).status, 201);

    // Objects that exist before the informer: its initial list reports them as adds.
    await w.create('pre-0');
    await w.create('pre-1');
    const { informer, seen, wire, errors } = startInformer(server.kubeconfig);
    informers.push(informer);
    await informer.start();

    // Phase 1: live changes.
    await w.create('a');
    await w.create('b');
    await w.update('a', '1');
    await w.update('pre-0', '1');
    await w.remove('b');
    await w.update('a', '2');
    await waitFor('phase 1 events', () => seen.length >= expected.length);

    // Restart: the watch drops, the informer's re-watch fails and it reports an error and idles.
    const errorsBefore = errors.length;
    assert.equal(await server.stop(), 0, server.output());
    await waitFor('the informer to notice the server is gone', () => errors.length > errorsBefore);
    ({ server, api } = await start({ dataDir, port }));
    assert.equal(server.port, port);

    // Phase 2: more than a history window of changes while the informer is disconnected,
    // including a name deleted and created again.
    await w.create('c');
    for (let i = 1; i <= HISTORY_WINDOW + 20; i++) await w.update('c', String(i));
    await w.remove('a');
    await w.create('a', { v: 'again' });
    await w.remove('pre-1');
    await w.create('d');

    // Phase 3: the informer resumes from its resourceVersion; then live changes again.
    await informer.start();
    await w.update('d', '1');
    await w.remove('c');
    await w.create('e');
    await w.update('a', 'x');
    await waitFor('all events', () => seen.length >= expected.length);
    await new Promise((r) => setTimeout(r, 300)); // room for a duplicate to show up

    // Every change, in order, once: same verbs, names and (for adds/updates) resourceVersions.
    assert.deepEqual(
      seen.map((c) => ({ verb: c.verb, name: c.name, ...(c.verb === 'delete' ? {} : { rv: c.rv }) })),
      expected.map((c) => ({ verb: c.verb, name: c.name, ...(c.verb === 'delete' ? {} : { rv: c.rv }) })),
    );
    // Deletes carry the deletion revision: the whole sequence strictly increases.
    const rvs = seen.map((c) => Number(c.rv));
    for (let i = 1; i < rvs.length; i++)
      assert.ok(rvs[i] > rvs[i - 1], `event ${i} (${seen[i].verb} ${seen[i].name}@${rvs[i]}) after rv ${rvs[i - 1]}`);

    // On the wire too (the informer's cache hides a MODIFIED repeated with the same
    // resourceVersion): no ERROR, and object events strictly increasing across both connections.
    assert.deepEqual(
      wire.filter((e) => e.type === 'ERROR'),
      [],
    );
    const objectEvents = wire.filter((e) => e.type !== 'BOOKMARK');
    assert.equal(objectEvents.length, expected.length - 2, 'one wire event per change after the initial list');
    for (let i = 1; i < objectEvents.length; i++) {
      assert.ok(
        Number(objectEvents[i].rv) > Number(objectEvents[i - 1].rv),
        `wire event ${i}: ${JSON.stringify(objectEvents[i])} after ${objectEvents[i - 1].rv}`,
      );
    }

    // The cache is the server's state.
    assert.deepEqual(cacheState(informer), await serverState(api));
    await informer.stop();
  });

  test('a compacted resourceVersion: watch ERROR 410 Expired, list 410, and the informer relists', async () => {
    let { server, api } = await start();
    const { dataDir, port } = server;
    const changes: Change[] = [];
    const w = writer(() => api, changes);
    assert.equal((await api.request('POST', '/api/v1/namespaces', { body: { metadata: { name: NS } } })).status, 201);
    for (let i = 0; i < 3; i++) await w.create(`keep-${i}`);
    for (let i = 0; i < 3; i++) await w.create(`gone-${i}`);

    const { informer, seen, wire } = startInformer(server.kubeconfig);
    informers.push(informer);
    await informer.start();
    await waitFor('the initial list', () => seen.length === 6);
    const staleRv = informer.latestResourceVersion();
    await informer.stop();
    const page = await api.request('GET', `${COLLECTION}?limit=2`);
    const staleContinue = page.json().metadata.continue;
    assert.ok(staleContinue, page.text);
    seen.length = 0;
    wire.length = 0;

    // Well over a history window of writes while the informer is away.
    for (let i = 1; i <= 2 * HISTORY_WINDOW; i++) await w.update('keep-0', String(i));
    for (let i = 0; i < 3; i++) await w.remove(`gone-${i}`);
    await w.create('new-0');
    await w.update('keep-1', 'x');

    // Compaction runs on a 5-minute timer that `canopy server` does not expose, so compact the
    // stopped server's database with the store's own compaction (what the timer calls), keeping
    // one history window.
    assert.equal(await server.stop(), 0, server.output());
    const store = SqliteRevisionStore.open(join(dataDir, 'state.db'), { historyWindow: HISTORY_WINDOW });
    store.compact(HISTORY_WINDOW);
    const compacted = store.compactedRevision();
    store.close();
    assert.ok(compacted > Number(staleRv), `compacted through ${compacted}, stale rv ${staleRv}`);
    ({ server, api } = await start({ dataDir, port }));

    // A raw watch from the stale resourceVersion: one ERROR event, a 410 Expired Status, then the end.
    const watch = await api.watch(`${COLLECTION}?watch=true&resourceVersion=${staleRv}`);
    assert.equal(watch.status, 200);
    const first = await watch.next();
    assert.equal(first?.type, 'ERROR', JSON.stringify(first));
    assert.equal(first.object.kind, 'Status');
    assert.equal(first.object.status, 'Failure');
    assert.equal(first.object.code, 410);
    assert.equal(first.object.reason, 'Expired');
    assert.equal(await watch.next(), undefined, 'the stream ends after the ERROR event');

    // Lists at the stale revision and a stale continue token are 410 Expired as well.
    for (const path of [
      `${COLLECTION}?resourceVersion=${staleRv}&resourceVersionMatch=Exact`,
      `${COLLECTION}?limit=2&continue=${encodeURIComponent(staleContinue)}`,
    ]) {
      const res = await api.request('GET', path);
      assert.equal(res.status, 410, `${path}: ${res.text}`);
      assert.equal(res.json().kind, 'Status');
      assert.equal(res.json().code, 410);
      assert.equal(res.json().reason, 'Expired');
    }

    // The informer restarts from its stale resourceVersion, gets the 410, relists and converges.
    await informer.start();
    const want = await serverState(api);
    await waitFor(
      'the informer cache to converge',
      () => JSON.stringify([...cacheState(informer)].sort()) === JSON.stringify([...want].sort()),
    );
    assert.ok(
      wire.some((e) => e.type === 'ERROR' && e.code === 410 && e.reason === 'Expired'),
      `the informer saw the 410: ${JSON.stringify(wire)}`,
    );
    // The relist reports what happened meanwhile: the deleted objects, the new one, the changed ones.
    const byVerb = (verb: Verb) =>
      seen
        .filter((c) => c.verb === verb)
        .map((c) => c.name)
        .sort();
    assert.deepEqual(byVerb('delete'), ['gone-0', 'gone-1', 'gone-2']);
    assert.deepEqual(byVerb('add'), ['new-0']);
    assert.deepEqual(byVerb('update'), ['keep-0', 'keep-1']);
    assert.deepEqual(cacheState(informer), want);
    await informer.stop();
  });
});
