/**
 * The scheduler's scores (each plugin's normalised 0–100 scores, computed by hand from kube's
 * formulas) and the cycle around them: weights, random tie-breaking, sampling, failure messages
 * and preemption.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../src/scheduler/api.js';
import { PodInfo, type SchedulerCache } from '../src/scheduler/cache.js';
import { CycleState, type ScorePlugin, type WorkloadListers } from '../src/scheduler/framework.js';
import { SchedulingAlgorithm } from '../src/scheduler/algorithm.js';
import { InterPodAffinity } from '../src/scheduler/plugins/inter-pod-affinity.js';
import { NodeAffinity } from '../src/scheduler/plugins/node-affinity.js';
import { NodeResourcesBalancedAllocation, NodeResourcesFit } from '../src/scheduler/plugins/node-resources.js';
import { PodTopologySpread } from '../src/scheduler/plugins/pod-topology-spread.js';
import { TaintToleration } from '../src/scheduler/plugins/taint-toleration.js';
import { ImageLocality } from '../src/scheduler/plugins/image-locality.js';
import { cacheOf, node, pod, seededRandom } from './scheduler-fixtures.js';

/** One plugin's normalised scores for the listed nodes (undefined when the plugin skips the pod). */
function scores(plugin: ScorePlugin, incoming: Pod, cache: SchedulerCache, names: string[], workloads?: WorkloadListers): number[] | undefined {
  const state = new CycleState(incoming, new PodInfo(incoming), cache, workloads);
  const nodes = names.map((n) => cache.getNode(n)!);
  if (plugin.preScore && !plugin.preScore(state, nodes, cache.nodeList())) return undefined;
  const raw = nodes.map((n) => plugin.score(state, n));
  plugin.normalize?.(state, nodes, raw);
  return raw;
}

interface ScoreCase {
  name: string;
  plugin: ScorePlugin;
  nodes: Node[];
  pods?: Pod[];
  incoming: Pod;
  want: number[] | undefined;
  workloads?: WorkloadListers;
}

function table(cases: ScoreCase[]): void {
  for (const c of cases) {
    test(`${c.plugin.name} score: ${c.name}`, () => {
      const cache = cacheOf(c.nodes, c.pods);
      assert.deepEqual(scores(c.plugin, c.incoming, cache, c.nodes.map((n) => n.metadata.name!), c.workloads), c.want);
    });
  }
}

const zones = [node('a1', { zone: 'a' }), node('a2', { zone: 'a' }), node('b1', { zone: 'b' }), node('c1', { zone: 'c' })];

table([
  {
    // n1: cpu (1+1)/4 → 50, memory (2+1)/8 Gi → 62 ⇒ 56; n2: cpu 1/4 → 75, memory 1/8 → 87 ⇒ 81.
    name: 'LeastAllocated favours the emptier node',
    plugin: new NodeResourcesFit(),
    nodes: [node('n1', { cpu: '4', memory: '8Gi' }), node('n2', { cpu: '4', memory: '8Gi' })],
    pods: [pod('a', { nodeName: 'n1', cpu: '1', memory: '2Gi' })],
    incoming: pod('p', { cpu: '1', memory: '1Gi' }),
    want: [56, 81],
  },
  {
    // Missing requests count as 100m / 200Mi: (4000−100)/4000 → 97; (8Gi−200Mi)/8Gi → 97.
    name: 'LeastAllocated counts a best-effort pod as 100m and 200Mi',
    plugin: new NodeResourcesFit(),
    nodes: [node('n1', { cpu: '4', memory: '8Gi' })],
    incoming: pod('p'),
    want: [97],
  },
  {
    // n1: cpu 3/4 = .75, memory 2/8 = .25 → std .25 → 75; n2: .25 vs .125 → std .0625 → 93.
    name: 'BalancedAllocation favours even cpu/memory fractions',
    plugin: new NodeResourcesBalancedAllocation(),
    nodes: [node('n1', { cpu: '4', memory: '8Gi' }), node('n2', { cpu: '4', memory: '8Gi' })],
    pods: [pod('a', { nodeName: 'n1', cpu: '2', memory: '1Gi' })],
    incoming: pod('p', { cpu: '1', memory: '1Gi' }),
    want: [75, 93],
  },
  { name: 'BalancedAllocation skips best-effort pods', plugin: new NodeResourcesBalancedAllocation(), nodes: [node('n1')], incoming: pod('p'), want: undefined },
  {
    // Untolerated PreferNoSchedule taints 2, 1, 0 → reversed 0, 50, 100.
    name: 'TaintToleration: fewer intolerable PreferNoSchedule taints is better',
    plugin: new TaintToleration(),
    nodes: [
      node('n1', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }, { key: 'y', effect: 'PreferNoSchedule' }, { key: 'ok', effect: 'PreferNoSchedule' }] }),
      node('n2', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }, { key: 'hard', effect: 'NoSchedule' }] }),
      node('n3'),
    ],
    incoming: pod('p', { tolerations: [{ key: 'ok', operator: 'Exists', effect: 'PreferNoSchedule' }, { key: 'hard', operator: 'Exists' }] }),
    want: [0, 50, 100],
  },
  {
    // 10 (ssd) + 5 (gen) = 15; 5; 0 → 100, 33, 0.
    name: 'NodeAffinity: preferred terms add their weights',
    plugin: new NodeAffinity(),
    nodes: [node('n1', { labels: { disk: 'ssd', gen: '5' } }), node('n2', { labels: { gen: '3' } }), node('n3')],
    incoming: pod('p', {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
            { weight: 5, preference: { matchExpressions: [{ key: 'gen', operator: 'Exists' }] } },
            { weight: 50, preference: {} },
          ],
        },
      },
    }),
    want: [100, 33, 0],
  },
  { name: 'NodeAffinity: no preferred terms, no score', plugin: new NodeAffinity(), nodes: [node('n1')], incoming: pod('p'), want: undefined },
  {
    // Zone a: +10 (db there); a2: −5 (web on it); b1: +1 (the existing pod requires affinity to app=p in zone b) → 10, 5, 1, 0 → 100, 50, 10, 0.
    name: 'InterPodAffinity: preferred affinity, anti-affinity and existing pods’ required affinity',
    plugin: new InterPodAffinity(),
    nodes: zones,
    pods: [
      pod('db', { labels: { app: 'db' }, nodeName: 'a1' }),
      pod('web', { labels: { app: 'web' }, nodeName: 'a2' }),
      pod('fan', { nodeName: 'b1', affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'p' } }, topologyKey: 'topology.kubernetes.io/zone' }] } } }),
    ],
    incoming: pod('p', {
      labels: { app: 'p' },
      affinity: {
        podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: { labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'topology.kubernetes.io/zone' } }] },
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' } }] },
      },
    }),
    want: [100, 50, 10, 0],
  },
  {
    // Existing preferred anti-affinity against the incoming pod: a1 −7 → a1 0, others 100.
    name: "InterPodAffinity: an existing pod's preferred anti-affinity repels",
    plugin: new InterPodAffinity(),
    nodes: zones,
    pods: [pod('shy', { nodeName: 'a1', affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 7, podAffinityTerm: { labelSelector: { matchLabels: { app: 'p' } }, topologyKey: 'kubernetes.io/hostname' } }] } } })],
    incoming: pod('p', { labels: { app: 'p' } }),
    want: [0, 100, 100, 100],
  },
  { name: 'InterPodAffinity: nothing to weigh, no score', plugin: new InterPodAffinity(), nodes: zones, pods: [pod('x', { nodeName: 'a1' })], incoming: pod('p'), want: undefined },
  {
    // Zone counts a 2, b 1, c 0; weight ln(3+2): a round(3.22)=3, b 2, c 0 → 100·(3+0−s)/3 → 0, 0, 33, 100.
    name: 'PodTopologySpread ScheduleAnyway: emptier zones score higher',
    plugin: new PodTopologySpread(),
    nodes: zones,
    pods: [pod('w1', { labels: { app: 'web' }, nodeName: 'a1' }), pod('w2', { labels: { app: 'web' }, nodeName: 'a2' }), pod('w3', { labels: { app: 'web' }, nodeName: 'b1' })],
    incoming: pod('p', {
      labels: { app: 'web' },
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'web' } } }],
    }),
    want: [0, 0, 33, 100],
  },
  {
    // Hostname constraint: counts 2, 0, 1, 0 on the nodes; weight ln(4+2)=1.79 → 4, 0, 2, 0 → 0, 100, 50, 100.
    name: 'PodTopologySpread ScheduleAnyway on hostname',
    plugin: new PodTopologySpread(),
    nodes: zones,
    pods: [pod('w1', { labels: { app: 'web' }, nodeName: 'a1' }), pod('w2', { labels: { app: 'web' }, nodeName: 'a1' }), pod('w3', { labels: { app: 'web' }, nodeName: 'b1' })],
    incoming: pod('p', {
      labels: { app: 'web' },
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'web' } } }],
    }),
    want: [0, 100, 50, 100],
  },
  {
    // System defaults over the ReplicaSet's selector: hostname (maxSkew 3) and zone (maxSkew 5).
    // Node counts a1 2, others 0; zone a 2. Raw: a1 2·ln6+2+2·ln5+4 = 12.80 → 13; a2 2+3.22+4 → 9; b1, c1 6.
    // 100·(13+6−s)/13 → 46, 76, 100, 100.
    name: 'PodTopologySpread system defaults spread a ReplicaSet’s pods',
    plugin: new PodTopologySpread(),
    nodes: zones,
    pods: [rsPod('r1', 'a1'), rsPod('r2', 'a1')],
    incoming: rsPod('p'),
    workloads: {
      serviceSelectors: () => [],
      controllerSelector: (_ns, kind, _v, name) => (kind === 'ReplicaSet' && name === 'web-abc' ? { matchLabels: { app: 'web', 'pod-template-hash': 'abc' } } : undefined),
    },
    want: [46, 76, 100, 100],
  },
  { name: 'PodTopologySpread: a pod without owner or service is not spread by default', plugin: new PodTopologySpread(), nodes: zones, incoming: pod('p'), want: undefined },
  {
    // 500 MB on one node of three: 500/3 = 166.7 MB → 100·(166.7−23)/(1000−23) = 14.
    name: 'ImageLocality: a node holding the image, scaled by its spread',
    plugin: new ImageLocality(),
    nodes: [node('n1', { images: { 'nginx:1.25': 500 } }), node('n2'), node('n3', { images: { 'other:1': 900 } })],
    incoming: pod('p', { image: 'nginx:1.25' }),
    want: [14, 0, 0],
  },
  {
    // Everywhere: 500 MB → 48 on every node. An untagged image is `:latest`.
    name: 'ImageLocality: an image on every node, untagged names',
    plugin: new ImageLocality(),
    nodes: [node('n1', { images: { 'redis:latest': 500 } }), node('n2', { images: { 'redis:latest': 500 } })],
    incoming: pod('p', { image: 'redis' }),
    want: [48, 48],
  },
]);

function rsPod(name: string, nodeName?: string): Pod {
  return pod(name, {
    labels: { app: 'web', 'pod-template-hash': 'abc' },
    nodeName,
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs-1', controller: true }],
  });
}

// ---- the cycle ---------------------------------------------------------------------------------

test('the node with the best weighted total wins', () => {
  // n2 has room (LeastAllocated) but a PreferNoSchedule taint (weight 3); n1 is busier. 3×100 outweighs the resource scores.
  const cache = cacheOf([node('n1'), node('n2', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] })], [pod('a', { nodeName: 'n1', cpu: '2', memory: '4Gi' })]);
  const algorithm = new SchedulingAlgorithm(cache, { random: seededRandom(1) });
  const outcome = algorithm.schedule(pod('p', { cpu: '100m' }));
  assert.equal(outcome.kind, 'scheduled');
  assert.equal(outcome.kind === 'scheduled' && outcome.node.name, 'n1');
});

test('ties are broken at random among the best, reproducibly with a seed', () => {
  const pick = (seed: number) => {
    const cache = cacheOf([node('n1'), node('n2'), node('n3')]);
    const algorithm = new SchedulingAlgorithm(cache, { random: seededRandom(seed) });
    const counts: Record<string, number> = { n1: 0, n2: 0, n3: 0 };
    const order: string[] = [];
    for (let i = 0; i < 300; i++) {
      const outcome = algorithm.schedule(pod(`p${i}`, { cpu: '100m' }));
      assert.equal(outcome.kind, 'scheduled');
      if (outcome.kind === 'scheduled') {
        counts[outcome.node.name]++;
        order.push(outcome.node.name);
      }
    }
    return { counts, order };
  };
  const first = pick(42);
  for (const n of ['n1', 'n2', 'n3']) assert.ok(first.counts[n] > 60, `${n} chosen ${first.counts[n]} of 300 times`);
  assert.deepEqual(pick(42).order, first.order);
  assert.notDeepEqual(pick(7).order, first.order);
});

test("kube's unschedulable message: histogram of reasons, then preemption's", () => {
  const cache = cacheOf([
    node('n1', { cpu: '1' }),
    node('n2', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
    node('n3', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
  ]);
  const outcome = new SchedulingAlgorithm(cache).schedule(pod('p', { cpu: '2' }));
  assert.equal(outcome.kind, 'unschedulable');
  assert.equal(
    outcome.kind === 'unschedulable' && outcome.error.message,
    '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling..',
  );
  assert.deepEqual(outcome.kind === 'unschedulable' && [...outcome.error.unschedulablePlugins].sort(), ['NodeResourcesFit', 'TaintToleration']);

  const never = new SchedulingAlgorithm(cache).schedule(pod('p', { cpu: '2', preemptionPolicy: 'Never' }));
  assert.equal(
    never.kind === 'unschedulable' && never.error.message,
    '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {dedicated: gpu}. preemption: not eligible due to preemptionPolicy=Never..',
  );
});

test('nodes a PreFilter excluded are reported as such', () => {
  const cache = cacheOf([node('n1', { cpu: '1' }), node('n2'), node('n3')]);
  const p = pod('p', { cpu: '2', affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] } } } });
  const outcome = new SchedulingAlgorithm(cache).schedule(p);
  assert.equal(
    outcome.kind === 'unschedulable' && outcome.error.message,
    "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling..",
  );
});

test('no nodes at all', () => {
  assert.equal(new SchedulingAlgorithm(cacheOf([])).schedule(pod('p')).kind, 'noNodes');
});

test('numFeasibleNodesToFind: adaptive percentage of big clusters', () => {
  const algorithm = new SchedulingAlgorithm(cacheOf([]));
  const table: Array<[number, number]> = [
    [3, 3],
    [99, 99],
    [100, 100],
    [200, 100],
    [1000, 420],
    [5000, 500],
    [10000, 500],
  ];
  for (const [nodes, want] of table) assert.equal(algorithm.numFeasibleNodesToFind(nodes), want, `${nodes} nodes`);
  assert.equal(new SchedulingAlgorithm(cacheOf([]), { percentageOfNodesToScore: 100 }).numFeasibleNodesToFind(1000), 1000);
});

test('a big cluster is sampled from a rotating start, zones interleaved', () => {
  const nodes = Array.from({ length: 1000 }, (_, i) => node(`n${i}`, { zone: `z${i % 3}` }));
  const cache = cacheOf(nodes);
  const list = cache.nodeList();
  assert.deepEqual(
    list.slice(0, 4).map((n) => n.labels['topology.kubernetes.io/zone']),
    ['z0', 'z1', 'z2', 'z0'],
  );
  const algorithm = new SchedulingAlgorithm(cache, { random: seededRandom(3) });
  const first = algorithm.schedule(pod('p1', { cpu: '100m' }));
  const second = algorithm.schedule(pod('p2', { cpu: '100m' }));
  assert.equal(first.kind === 'scheduled' && first.evaluated, 420);
  assert.equal(first.kind === 'scheduled' && first.feasible, 420);
  // The second pod looks at the next 420 nodes.
  assert.ok(second.kind === 'scheduled' && list.indexOf(second.node) >= 420 && list.indexOf(second.node) < 840);
});

test('preemption picks the node whose victims matter least, and the fewest of them', () => {
  const cache = cacheOf(
    [node('n1', { cpu: '2' }), node('n2', { cpu: '2' }), node('n3', { cpu: '2' })],
    [
      pod('n1-high', { nodeName: 'n1', cpu: '2', priority: 500 }),
      pod('n2-low-a', { nodeName: 'n2', cpu: '1', priority: 10 }),
      pod('n2-low-b', { nodeName: 'n2', cpu: '1', priority: 10 }),
      pod('n3-low', { nodeName: 'n3', cpu: '1500m', priority: 10 }),
      pod('n3-mid', { nodeName: 'n3', cpu: '500m', priority: 100 }),
    ],
  );
  const outcome = new SchedulingAlgorithm(cache).schedule(pod('p', { cpu: '1', priority: 1000 }));
  assert.equal(outcome.kind, 'unschedulable');
  if (outcome.kind !== 'unschedulable') return;
  // n1's victim has priority 500; n2 needs one priority-10 victim; n3 needs n3-low (10) — n2 and n3 tie on
  // priority, so the sums decide (one victim of 10 each), then the count, then the later start: n2 keeps the first.
  assert.equal(outcome.preemption?.node.name, 'n2');
  assert.equal(outcome.preemption?.victims.length, 1);
  assert.equal(outcome.error.postFilterMsg, '');
  assert.equal(outcome.error.message, '0/3 nodes are available: 3 Insufficient cpu.');
  // The what-if left the cache as it was.
  assert.equal(cache.getNode('n2')!.pods.size, 2);
  assert.equal(cache.getNode('n3')!.requested.milliCPU, 2000);
});

test('preemption does not evict pods of equal priority', () => {
  const cache = cacheOf([node('n1', { cpu: '1' })], [pod('a', { nodeName: 'n1', cpu: '1', priority: 5 })]);
  const outcome = new SchedulingAlgorithm(cache).schedule(pod('p', { cpu: '1', priority: 5 }));
  assert.equal(outcome.kind === 'unschedulable' && outcome.preemption, undefined);
  assert.equal(
    outcome.kind === 'unschedulable' && outcome.error.message,
    '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..',
  );
});

test('room made by preemption is kept for the nominated pod against pods of lower or equal priority', () => {
  const cache = cacheOf([node('n1', { cpu: '1' })]);
  const nominee = pod('nominee', { cpu: '800m', priority: 100 });
  cache.setNominated({ ...nominee, status: { phase: 'Pending', nominatedNodeName: 'n1' } });
  const algorithm = new SchedulingAlgorithm(cache);
  const lower = algorithm.schedule(pod('lower', { cpu: '500m', priority: 100 }));
  assert.equal(lower.kind === 'unschedulable' && lower.error.message.split('.')[0], '0/1 nodes are available: 1 Insufficient cpu');
  // A more important pod does not wait for it.
  assert.equal(algorithm.schedule(pod('higher', { cpu: '500m', priority: 200 })).kind, 'scheduled');
  // The nominee itself fits, on its node first.
  const own = algorithm.schedule({ ...nominee, status: { phase: 'Pending', nominatedNodeName: 'n1' } });
  assert.equal(own.kind === 'scheduled' && own.node.name, 'n1');
  cache.clearNominated(new PodInfo(nominee).uid);
  assert.equal(algorithm.schedule(pod('lower', { cpu: '500m', priority: 100 })).kind, 'scheduled');
});
