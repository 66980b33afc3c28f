/**
 * Acceptance (issue 4): a Deployment's life with real kubectl 1.33 against `canopy server`, whose
 * Deployment and ReplicaSet controllers, scheduler and simulated nodes run it: create deployment,
 * rollout status, set image, rollout history with change-cause, rollout undo, rollout restart,
 * rollout pause/resume, scale up and down, wait --for=condition=Available.
 * The steps build on each other, in one namespace, in order.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeKubectl, ok, removeDir, startServer, type RunningServer } from './support/server.js';

const NS = 'rollout';

let server: RunningServer;
let cacheRoot: string;
let kubectl: ReturnType<typeof makeKubectl>;

before(async () => {
  server = await startServer();
  cacheRoot = mkdtempSync(join(tmpdir(), 'canopy-kubectl-rollout-'));
  kubectl = makeKubectl('1.33', server.kubeconfig, cacheRoot);
});
after(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  if (cacheRoot) removeDir(cacheRoot);
});

/** kubectl in the test namespace; throws with its output on failure. */
async function k(args: string[], what = `kubectl ${args.join(' ')}`): Promise<string> {
  return ok(await kubectl(['-n', NS, ...args], { timeoutMs: 120_000 }), what);
}

async function jsonpath(args: string[], path: string): Promise<string> {
  return k([...args, '-o', `jsonpath=${path}`]);
}

/** Polls a jsonpath until `accept` says yes (real time). */
async function until(what: string, args: string[], path: string, accept: (out: string) => boolean, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const r = await kubectl(['-n', NS, ...args, '-o', `jsonpath=${path}`]);
    last = r.code === 0 ? r.stdout : r.stderr;
    if (r.code === 0 && accept(r.stdout)) return r.stdout;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`timed out waiting for ${what}; last: ${last}\n${server.output().slice(-3000)}`);
}

async function rolloutStatus(): Promise<string> {
  const out = await k(['rollout', 'status', 'deployment/web', '--timeout=90s']);
  assert.match(out, /deployment "web" successfully rolled out/);
  return out;
}

/** The deployment's ReplicaSets as `revision image replicas`, by revision. */
async function replicaSets(): Promise<string[]> {
  const out = await jsonpath(
    ['get', 'replicasets', '-l', 'app=web'],
    '{range .items[*]}{.metadata.annotations.deployment\\.kubernetes\\.io/revision} {.spec.template.spec.containers[0].image} {.spec.replicas}{"\\n"}{end}',
  );
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .sort((a, b) => Number(a.split(' ')[0]) - Number(b.split(' ')[0]));
}

describe('kubectl rollout with kubectl 1.33', () => {
  test('create deployment, rollout status, and the ReplicaSet it made', async () => {
    ok(await kubectl(['create', 'namespace', NS]), 'kubectl create namespace');
    assert.match(await k(['create', 'deployment', 'web', '--image=nginx:1.26', '--replicas=3']), /deployment.apps\/web created/);
    await rolloutStatus();
    assert.deepEqual(await replicaSets(), ['1 nginx:1.26 3']);
    const status = JSON.parse(await k(['get', 'deployment', 'web', '-o', 'json'])).status;
    assert.equal(status.readyReplicas, 3);
    assert.equal(status.availableReplicas, 3);
    assert.equal(status.updatedReplicas, 3);
    const rsName = await jsonpath(['get', 'replicasets', '-l', 'app=web'], '{.items[0].metadata.name}');
    const events = await k(['get', 'events', '--field-selector', 'involvedObject.name=web', '-o', 'custom-columns=REASON:.reason,MESSAGE:.message', '--no-headers']);
    assert.match(events, new RegExp(`ScalingReplicaSet\\s+Scaled up replica set ${rsName} from 0 to 3`));
    const running = await until('3 running pods', ['get', 'pods', '-l', 'app=web'], '{range .items[*]}{.status.phase}{" "}{end}', (o) => o.trim().split(' ').filter((p) => p === 'Running').length === 3);
    assert.ok(running);
    await k(['annotate', 'deployment', 'web', 'kubernetes.io/change-cause=create nginx:1.26']);
  });

  test('set image rolls out a second revision; rollout history shows both with change-cause', async () => {
    assert.match(await k(['set', 'image', 'deployment/web', 'nginx=nginx:1.27']), /deployment.apps\/web image updated/);
    await k(['annotate', 'deployment', 'web', '--overwrite', 'kubernetes.io/change-cause=set image nginx:1.27']);
    await rolloutStatus();
    await until('revision 2 complete', ['get', 'replicasets', '-l', 'app=web'], '{.items[*].spec.replicas}', (o) => o.split(' ').sort().join(' ') === '0 3');
    assert.deepEqual(await replicaSets(), ['1 nginx:1.26 0', '2 nginx:1.27 3']);
    const out = await k(['rollout', 'history', 'deployment/web']);
    assert.match(out, /REVISION\s+CHANGE-CAUSE/);
    assert.match(out, /^1\s+create nginx:1\.26$/m);
    assert.match(out, /^2\s+set image nginx:1\.27$/m);
    const revision2 = await k(['rollout', 'history', 'deployment/web', '--revision=2']);
    assert.match(revision2, /Image:\s+nginx:1\.27/);
  });

  test('rollout undo restores the previous image as a new revision', async () => {
    assert.match(await k(['rollout', 'undo', 'deployment/web']), /deployment.apps\/web rolled back/);
    await rolloutStatus();
    assert.equal(await jsonpath(['get', 'deployment', 'web'], '{.spec.template.spec.containers[0].image}'), 'nginx:1.26');
    await until('old ReplicaSet back at 3', ['get', 'replicasets', '-l', 'app=web'], '{.items[*].spec.replicas}', (o) => o.split(' ').sort().join(' ') === '0 3');
    // The first ReplicaSet is reused and renumbered; no third one is made.
    assert.deepEqual(await replicaSets(), ['2 nginx:1.27 0', '3 nginx:1.26 3']);
    const out = await k(['rollout', 'history', 'deployment/web']);
    assert.match(out, /^2\s+set image nginx:1\.27$/m);
    assert.match(out, /^3\s+create nginx:1\.26$/m);
    assert.doesNotMatch(out, /^1\s/m);
    assert.equal(await jsonpath(['get', 'deployment', 'web'], '{.metadata.annotations.deployment\\.kubernetes\\.io/revision}'), '3');
    const images = await until('only nginx:1.26 pods', ['get', 'pods', '-l', 'app=web'], '{range .items[*]}{.spec.containers[0].image}{" "}{end}', (o) => o.trim().split(' ').every((i) => i === 'nginx:1.26'), 90_000);
    assert.ok(images);
  });

  test('rollout restart replaces every pod with a new revision', async () => {
    const before = (await jsonpath(['get', 'pods', '-l', 'app=web'], '{.items[*].metadata.name}')).split(' ');
    assert.match(await k(['rollout', 'restart', 'deployment/web']), /deployment.apps\/web restarted/);
    await rolloutStatus();
    assert.notEqual(await jsonpath(['get', 'deployment', 'web'], '{.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}'), '');
    assert.deepEqual((await replicaSets()).map((r) => r.split(' ')[0]), ['2', '3', '4']);
    await until('no pod from before the restart', ['get', 'pods', '-l', 'app=web'], '{.items[*].metadata.name}', (o) => !o.split(' ').some((n) => before.includes(n)), 90_000);
  });

  test('rollout pause holds a template change until rollout resume', async () => {
    assert.match(await k(['rollout', 'pause', 'deployment/web']), /deployment.apps\/web paused/);
    await until('paused condition', ['get', 'deployment', 'web'], '{.status.conditions[?(@.type=="Progressing")].reason}', (o) => o === 'DeploymentPaused');
    await k(['set', 'image', 'deployment/web', 'nginx=nginx:1.28']);
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(!(await replicaSets()).some((r) => r.includes('nginx:1.28')), 'no ReplicaSet for the new template while paused');
    assert.match(await k(['rollout', 'resume', 'deployment/web']), /deployment.apps\/web resumed/);
    await rolloutStatus();
    assert.ok((await replicaSets()).includes('5 nginx:1.28 3'), (await replicaSets()).join('\n'));
  });

  test('scale up and down', async () => {
    assert.match(await k(['scale', 'deployment/web', '--replicas=5']), /deployment.apps\/web scaled/);
    await rolloutStatus();
    await until('5 ready', ['get', 'deployment', 'web'], '{.status.readyReplicas}', (o) => o === '5');
    await k(['scale', 'deployment/web', '--replicas=2']);
    await until('2 replicas', ['get', 'deployment', 'web'], '{.status.replicas} {.status.readyReplicas}', (o) => o === '2 2');
    await until('2 pods left', ['get', 'pods', '-l', 'app=web'], '{.items[*].metadata.name}', (o) => o.trim().split(' ').length === 2, 90_000);
  });

  test('wait --for=condition=Available', async () => {
    assert.match(await k(['wait', '--for=condition=Available', 'deployment/web', '--timeout=60s']), /deployment.apps\/web condition met/);
    assert.equal(await jsonpath(['get', 'deployment', 'web'], '{.status.conditions[?(@.type=="Available")].reason}'), 'MinimumReplicasAvailable');
  });
});
