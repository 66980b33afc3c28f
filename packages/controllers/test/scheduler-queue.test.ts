/**
 * The scheduling queue on a fake clock: priority order, backoff 1 s doubling to 10 s, pods parked
 * as unschedulable until an event concerning the plugin that rejected them, the five-minute
 * flush, and updates of pending pods.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@canopy/client';
import { SchedulingQueue, type QueuedPod } from '../src/scheduler/queue.js';
import { pod } from './scheduler-fixtures.js';

/** Pops what is active right now (pop() would wait when empty). */
async function drain(queue: SchedulingQueue): Promise<QueuedPod[]> {
  const out: QueuedPod[] = [];
  while (queue.activeLength) out.push((await queue.pop())!);
  return out;
}

test('higher priority first, then first come first served', async () => {
  const clock = new FakeClock();
  const queue = new SchedulingQueue({ clock });
  queue.add(pod('low-1', { priority: 0 }));
  clock.advance(1);
  queue.add(pod('high', { priority: 100 }));
  clock.advance(1);
  queue.add(pod('low-2', { priority: 0 }));
  clock.advance(1);
  queue.add(pod('mid', { priority: 50 }));
  assert.deepEqual((await drain(queue)).map((q) => q.pod.metadata.name), ['high', 'mid', 'low-1', 'low-2']);
  queue.close();
});

test('errors back off 1 s, doubling per attempt up to 10 s', async () => {
  const clock = new FakeClock();
  const queue = new SchedulingQueue({ clock });
  queue.add(pod('p'));
  const waits: number[] = [];
  for (let attempt = 1; attempt <= 6; attempt++) {
    const qp = (await drain(queue))[0];
    assert.equal(qp.attempts, attempt);
    queue.failed(qp, []);
    assert.equal(queue.locate(qp.uid), 'backoff');
    let waited = 0;
    while (!queue.activeLength) {
      clock.advance(100);
      waited += 100;
    }
    waits.push(waited);
  }
  assert.deepEqual(waits, [1000, 2000, 4000, 8000, 10000, 10000]);
  queue.close();
});

test('an unschedulable pod waits for an event concerning the plugin that rejected it', async () => {
  const clock = new FakeClock();
  const queue = new SchedulingQueue({ clock });
  queue.add(pod('cpu'));
  queue.add(pod('taint'));
  const [cpu, taint] = await drain(queue);
  queue.failed(cpu, ['NodeResourcesFit']);
  queue.failed(taint, ['TaintToleration']);
  clock.advance(60_000);
  assert.equal(queue.activeLength, 0, 'no retry without an event');
  // A pod deleted elsewhere frees resources: only the pod rejected for resources moves.
  assert.equal(queue.moveAllToActiveOrBackoff(new Set(['NodeResourcesFit', 'NodePorts'])), 1);
  assert.deepEqual((await drain(queue)).map((q) => q.pod.metadata.name), ['cpu']);
  assert.equal(queue.locate(taint.uid), 'unschedulable');
  // A new node may help anyone.
  assert.equal(queue.moveAllToActiveOrBackoff(undefined), 1);
  assert.deepEqual((await drain(queue)).map((q) => q.pod.metadata.name), ['taint']);
  queue.close();
});

test('a pod moved by an event still serves the rest of its backoff', async () => {
  const clock = new FakeClock();
  const queue = new SchedulingQueue({ clock });
  queue.add(pod('p'));
  const [qp] = await drain(queue);
  queue.failed(qp, ['NodeResourcesFit']);
  clock.advance(400);
  queue.moveAllToActiveOrBackoff(undefined);
  assert.equal(queue.locate(qp.uid), 'backoff');
  clock.advance(599);
  assert.equal(queue.activeLength, 0);
  clock.advance(1);
  assert.equal(queue.activeLength, 1);
  queue.close();
});

test('unschedulable pods are retried after five minutes without any event', async () => {
  const clock = new FakeClock();
  const queue = new SchedulingQueue({ clock });
  queue.add(pod('p'));
  const [qp] = await drain(queue);
  queue.failed(qp, ['NodeAffinity']);
  clock.advance(4 * 60_000);
  assert.equal(queue.activeLength, 0);
  clock.advance(90_000);
  assert.equal(queue.activeLength, 1);
  queue.close();
});

test('changing a pending pod retries it; deleting it forgets it', async () => {
  const clock = new FakeClock();
  const queue = new SchedulingQueue({ clock });
  const original = pod('p');
  queue.add(original);
  const [qp] = await drain(queue);
  queue.failed(qp, ['NodeAffinity']);
  clock.advance(5_000);
  // A status-only change is no reason to retry.
  queue.update(original, { ...original, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] } });
  assert.equal(queue.locate(qp.uid), 'unschedulable');
  const relabelled = { ...original, metadata: { ...original.metadata, labels: { fixed: 'yes' } } };
  queue.update(original, relabelled);
  assert.equal(queue.activeLength, 1);
  const [again] = await drain(queue);
  assert.equal(again.pod, relabelled);
  queue.failed(again, ['NodeAffinity']);
  queue.delete(relabelled);
  assert.equal(queue.locate(qp.uid), undefined);
  assert.equal(queue.moveAllToActiveOrBackoff(undefined), 0);
  queue.close();
});

test('pop waits for a pod and ends on close', async () => {
  const clock = new FakeClock();
  const queue = new SchedulingQueue({ clock });
  const waiting = queue.pop();
  queue.add(pod('late'));
  assert.equal((await waiting)?.pod.metadata.name, 'late');
  const ended = queue.pop();
  queue.close();
  assert.equal(await ended, undefined);
});
