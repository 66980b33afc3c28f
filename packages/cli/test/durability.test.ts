/**
 * Acceptance: an acknowledged write survives `kill -9` of `canopy server`, and nothing a client
 * was told failed is ever visible.
 *
 * Concurrent clients create, replace, patch and delete ConfigMaps (each client owns its objects,
 * so every object has at most one request in flight), mixing in writes that must fail (conflicts,
 * duplicates, missing objects, invalid data). Every response is recorded. The server is SIGKILLed
 * mid-stream and restarted on the same data directory; then, per object:
 *  - the current state is the last acknowledged write (same resourceVersion and content), or the
 *    request that was in flight when the server died;
 *  - the history (a watch from before the first write) is exactly the acknowledged writes, in
 *    order and with their resourceVersions, plus at most the in-flight one at the end;
 *  - no write that got an error response appears anywhere.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { apiClient, type ApiClient, type ApiResponse } from './support/http.js';
import { removeDir, startServer, type RunningServer } from './support/server.js';

const CLIENTS = 24;
const OBJECTS_PER_CLIENT = 4;
/** Kill after this many answered requests (a few seconds of traffic), or after KILL_AFTER_MS. */
const KILL_AFTER_RESPONSES = 2500;
const KILL_AFTER_MS = 6000;
const NS = 'durability';
const COLLECTION = `/api/v1/namespaces/${NS}/configmaps`;

type Op =
  | 'create'
  | 'replace'
  | 'patch'
  | 'delete'
  // Writes that must fail, with the status they must fail with.
  | 'create-existing' // 409 AlreadyExists
  | 'replace-stale' // 409 Conflict
  | 'replace-invalid' // 422 Invalid
  | 'replace-missing' // 404 NotFound
  | 'delete-missing' // 404 NotFound
  | 'delete-wrong-uid'; // 409 Conflict

const EXPECTED_STATUS: Record<Op, number> = {
  create: 201,
  replace: 200,
  patch: 200,
  delete: 200,
  'create-existing': 409,
  'replace-stale': 409,
  'replace-invalid': 422,
  'replace-missing': 404,
  'delete-missing': 404,
  'delete-wrong-uid': 409,
};

interface WriteRecord {
  object: string;
  op: Op;
  /** data.marker of the object this write would store (none for deletes). */
  marker?: string;
  outcome: 'acked' | 'failed' | 'unknown';
  status?: number;
  /** resourceVersion the server acknowledged (creates, replaces, patches). */
  rv?: string;
  body?: string;
  error?: string;
}

/** mulberry32: a small seeded PRNG so every run makes the same choices. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let server: RunningServer | undefined;
let api: ApiClient | undefined;

after(async () => {
  api?.close();
  if (server) {
    await server.stop();
    removeDir(server.dataDir);
  }
});

test('kill -9 mid-stream loses no acknowledged write and shows no failed one', async () => {
  server = await startServer();
  const dataDir = server.dataDir;
  api = apiClient(server.kubeconfig, { maxSockets: CLIENTS + 4 });
  const nsRes = await api.request('POST', '/api/v1/namespaces', { body: { metadata: { name: NS } } });
  assert.equal(nsRes.status, 201, nsRes.text);
  const historyStart = nsRes.json().metadata.resourceVersion as string;

  const records: WriteRecord[] = [];
  let answered = 0;
  let killing: Promise<void> | undefined;
  const killServer = () => (killing ??= server!.kill());
  const timer = setTimeout(killServer, KILL_AFTER_MS);

  const runClient = async (clientId: number) => {
    const random = prng(1000 + clientId);
    const state = new Map<string, { rv: string; uid: string } | undefined>();
    const names = Array.from({ length: OBJECTS_PER_CLIENT }, (_, i) => `c${clientId}-o${i}`);
    let seq = 0;
    // Keep writing through the kill: each client stops at its first request that gets no answer.
    for (;;) {
      const name = names[Math.floor(random() * names.length)];
      const current = state.get(name);
      const r = random();
      let op: Op;
      if (!current) op = r < 0.85 ? 'create' : r < 0.93 ? 'replace-missing' : 'delete-missing';
      else if (r < 0.35) op = 'replace';
      else if (r < 0.55) op = 'patch';
      else if (r < 0.75) op = 'delete';
      else if (r < 0.8) op = 'create-existing';
      else if (r < 0.9) op = 'replace-stale';
      else if (r < 0.95) op = 'replace-invalid';
      else op = 'delete-wrong-uid';
      const marker = op.startsWith('delete') ? undefined : `c${clientId}-w${seq++}`;
      const record: WriteRecord = { object: name, op, outcome: 'unknown', ...(marker ? { marker } : {}) };
      records.push(record);
      const item = `${COLLECTION}/${name}`;
      const cm = (metadata: Record<string, unknown>, data: Record<string, unknown>) => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, ...metadata },
        data,
      });
      let res: ApiResponse;
      try {
        switch (op) {
          case 'create':
          case 'create-existing':
            res = await api!.request('POST', COLLECTION, { body: cm({}, { marker }) });
            break;
          case 'replace':
            res = await api!.request('PUT', item, { body: cm({ resourceVersion: current!.rv }, { marker }) });
            break;
          case 'replace-missing':
            res = await api!.request('PUT', item, { body: cm({}, { marker }) });
            break;
          case 'replace-stale':
            res = await api!.request('PUT', item, { body: cm({ resourceVersion: String(Number(current!.rv) - 1) }, { marker }) });
            break;
          case 'replace-invalid':
            res = await api!.request('PUT', item, { body: cm({ resourceVersion: current!.rv }, { marker, count: 7 }) });
            break;
          case 'patch':
            res = await api!.request('PATCH', item, {
              body: { data: { marker } },
              headers: { 'content-type': 'application/merge-patch+json' },
            });
            break;
          case 'delete':
            res = await api!.request('DELETE', item, { body: { preconditions: { uid: current!.uid } } });
            break;
          case 'delete-missing':
            res = await api!.request('DELETE', item);
            break;
          case 'delete-wrong-uid':
            res = await api!.request('DELETE', item, {
              body: { preconditions: { uid: '00000000-0000-0000-0000-000000000000' } },
            });
            break;
        }
      } catch (err) {
        // No answer: the server died with this request in flight (or refused it afterwards).
        record.error = (err as Error).message;
        return;
      }
      answered++;
      record.status = res.status;
      if (res.status >= 200 && res.status < 300) {
        record.outcome = 'acked';
        if (op === 'delete') state.set(name, undefined);
        else {
          const obj = res.json();
          record.rv = obj.metadata.resourceVersion;
          state.set(name, { rv: obj.metadata.resourceVersion, uid: obj.metadata.uid });
        }
      } else {
        record.outcome = 'failed';
        record.body = res.text.slice(0, 500);
      }
      if (answered >= KILL_AFTER_RESPONSES) void killServer();
    }
  };

  const started = Date.now();
  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => runClient(i)));
  await killServer();
  clearTimeout(timer);
  const trafficMs = Date.now() - started;
  api.close();

  // Every answered request got exactly the status its kind of write must get: no 5xx, no
  // invalid write accepted, no valid write refused.
  const wrongStatus = records.filter((r) => r.status !== undefined && r.status !== EXPECTED_STATUS[r.op]);
  assert.deepEqual(wrongStatus, [], 'unexpected statuses');
  const acked = records.filter((r) => r.outcome === 'acked');
  const failed = records.filter((r) => r.outcome === 'failed');
  const inFlight = records.filter((r) => r.outcome === 'unknown');
  assert.ok(acked.length > 1000, `enough acknowledged writes before the kill: ${acked.length}`);
  assert.ok(failed.length > 100, `enough failed writes before the kill: ${failed.length}`);

  // Restart on the same data directory.
  server = await startServer({ dataDir });
  api = apiClient(server.kubeconfig);
  const ready = await api.request('GET', '/readyz');
  assert.equal(ready.status, 200, ready.text);

  // History since the namespace was created, up to a sentinel written after the restart.
  const watch = await api.watch(`${COLLECTION}?watch=true&resourceVersion=${historyStart}`);
  assert.equal(watch.status, 200);
  const sentinel = await api.request('POST', COLLECTION, {
    body: { metadata: { name: 'sentinel' }, data: { marker: 'sentinel' } },
  });
  assert.equal(sentinel.status, 201, sentinel.text);
  const history = new Map<string, Array<{ type: string; rv: string; marker?: string }>>();
  let lastRv = Number(historyStart);
  for (;;) {
    const event = await watch.next(20_000);
    assert.ok(event, 'the history watch ended before the sentinel');
    assert.notEqual(event.type, 'ERROR', JSON.stringify(event));
    if (event.type === 'BOOKMARK') continue;
    const name = event.object.metadata.name as string;
    const rv = Number(event.object.metadata.resourceVersion);
    assert.ok(rv > lastRv, `history in revision order: ${rv} after ${lastRv}`);
    lastRv = rv;
    if (name === 'sentinel') break;
    if (!history.has(name)) history.set(name, []);
    history
      .get(name)!
      .push({ type: event.type, rv: String(rv), ...(event.type === 'DELETED' ? {} : { marker: event.object.data?.marker }) });
  }
  watch.close();
  assert.ok(
    Number(sentinel.json().metadata.resourceVersion) > Math.max(...acked.filter((r) => r.rv).map((r) => Number(r.rv))),
    'revisions are not reused after the restart',
  );

  const list = await api.request('GET', COLLECTION);
  assert.equal(list.status, 200, list.text);
  const current = new Map<string, { rv: string; marker: string }>(
    list.json().items.map((o: any) => [o.metadata.name, { rv: o.metadata.resourceVersion, marker: o.data?.marker }]),
  );
  current.delete('sentinel');
  // Published in every namespace by the root CA controller, as in kube.
  current.delete('kube-root-ca.crt');

  // Nothing that failed is visible, now or in history.
  const failedMarkers = new Set(failed.map((r) => r.marker).filter(Boolean));
  for (const [name, events] of history) {
    for (const e of events)
      assert.ok(!failedMarkers.has(e.marker), `${name}@${e.rv} carries the marker of a failed write ${e.marker}`);
  }

  const objects = new Set(records.map((r) => r.object));
  for (const name of current.keys()) assert.ok(objects.has(name), `unexpected object ${name}`);
  const problems: string[] = [];
  let appliedInFlight = 0;
  for (const name of objects) {
    const writes = records.filter((r) => r.object === name && r.outcome !== 'failed');
    const ackedWrites = writes.filter((r) => r.outcome === 'acked');
    const pending = writes.filter((r) => r.outcome === 'unknown');
    assert.ok(
      pending.length <= 1 && (pending.length === 0 || writes[writes.length - 1] === pending[0]),
      `${name}: at most one request in flight, the last`,
    );

    // History: exactly the acknowledged writes, then possibly the in-flight one.
    const events = history.get(name) ?? [];
    const describe = (r: WriteRecord) =>
      r.op === 'delete' ? { type: 'DELETED' } : { type: r.op === 'create' ? 'ADDED' : 'MODIFIED', rv: r.rv, marker: r.marker };
    const seen = events.map((e) => (e.type === 'DELETED' ? { type: 'DELETED' } : e));
    const wantAcked = ackedWrites.map(describe);
    const inFlightApplied = pending.length === 1 && seen.length === wantAcked.length + 1;
    const inFlightEvent = inFlightApplied
      ? { ...describe(pending[0]), ...(pending[0].op === 'delete' ? {} : { rv: events[events.length - 1].rv }) }
      : undefined;
    const wantHistory = inFlightEvent ? [...wantAcked, inFlightEvent] : wantAcked;
    if (inFlightApplied) appliedInFlight++;
    if (JSON.stringify(seen) !== JSON.stringify(wantHistory)) {
      problems.push(
        `${name}: history ${JSON.stringify(seen)}\n  acknowledged ${JSON.stringify(wantHistory)}${pending.length ? `\n  in flight ${JSON.stringify(pending[0])}` : ''}`,
      );
      continue;
    }

    // Current state: what the last acknowledged write left, or the in-flight write's result.
    const last = inFlightApplied ? pending[0] : ackedWrites[ackedWrites.length - 1];
    const state = current.get(name);
    if (!last || last.op === 'delete') {
      if (state)
        problems.push(
          `${name}: exists (${JSON.stringify(state)}) but its last write was ${last ? 'a delete' : 'never acknowledged'}`,
        );
    } else if (!state) {
      problems.push(`${name}: missing; last write ${JSON.stringify(last)}`);
    } else {
      const wantRv = inFlightApplied ? events[events.length - 1].rv : last.rv;
      if (state.rv !== wantRv || state.marker !== last.marker)
        problems.push(`${name}: is ${JSON.stringify(state)}, last write ${JSON.stringify(last)}`);
    }
  }
  assert.deepEqual(problems, []);

  // Still a healthy server that takes writes and shuts down cleanly.
  const rewrite = await api.request('PUT', `${COLLECTION}/sentinel`, {
    body: {
      metadata: { name: 'sentinel', resourceVersion: sentinel.json().metadata.resourceVersion },
      data: { marker: 'after' },
    },
  });
  assert.equal(rewrite.status, 200, rewrite.text);
  api.close();
  api = undefined;
  const code = await server.stop();
  assert.equal(code, 0, server.output());
  removeDir(server.dataDir);
  server = undefined;
  console.log(
    `durability: ${records.length} writes in ${trafficMs} ms before the kill: ${acked.length} acknowledged, ${failed.length} failed as expected, ${inFlight.length} in flight when killed (${appliedInFlight} of them applied)`,
  );
});
