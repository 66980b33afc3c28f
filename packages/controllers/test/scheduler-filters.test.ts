/**
 * The scheduler's filters, one table per plugin: which nodes a pod may run on and the reason
 * (kube's wording) when it may not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from '../src/scheduler/api.js';
import { PodInfo, type SchedulerCache } from '../src/scheduler/cache.js';
import { CycleState, type FilterPlugin, type StatusCode } from '../src/scheduler/framework.js';
import { InterPodAffinity } from '../src/scheduler/plugins/inter-pod-affinity.js';
import { NodeAffinity } from '../src/scheduler/plugins/node-affinity.js';
import { NodeName, NodePorts, NodeUnschedulable } from '../src/scheduler/plugins/node-basics.js';
import { NodeResourcesFit } from '../src/scheduler/plugins/node-resources.js';
import { PodTopologySpread } from '../src/scheduler/plugins/pod-topology-spread.js';
import { TaintToleration } from '../src/scheduler/plugins/taint-toleration.js';
import { podRequests } from '../src/scheduler/resources.js';
import { cacheOf, node, pod } from './scheduler-fixtures.js';

/** Runs one plugin's PreFilter and Filter: undefined when the node passes, else [code, ...reasons]. */
function check(plugin: FilterPlugin, incoming: Pod, target: string, cache: SchedulerCache): undefined | [StatusCode, ...string[]] {
  const state = new CycleState(incoming, new PodInfo(incoming), cache);
  const nodes = cache.nodeList();
  const pre = plugin.preFilter?.(state, nodes);
  if (pre?.status) return [pre.status.code, ...pre.status.reasons];
  if (pre?.nodeNames && !pre.nodeNames.has(target)) return ['UnschedulableAndUnresolvable', 'excluded by PreFilter'];
  if (pre?.skip) return undefined;
  const status = plugin.filter(state, cache.getNode(target)!);
  return status ? [status.code, ...status.reasons] : undefined;
}

interface Case {
  name: string;
  nodes: Node[];
  pods?: Pod[];
  incoming: Pod;
  target: string;
  want: undefined | [StatusCode, ...string[]];
  namespaces?: Record<string, Record<string, string>>;
}

function table(plugin: FilterPlugin, cases: Case[]): void {
  for (const c of cases) {
    test(`${plugin.name}: ${c.name}`, () => {
      assert.deepEqual(check(plugin, c.incoming, c.target, cacheOf(c.nodes, c.pods, c.namespaces)), c.want);
    });
  }
}

const UNSCHEDULABLE = "node(s) were unschedulable";

table(new NodeUnschedulable(), [
  { name: 'cordoned node rejects', nodes: [node('n1', { unschedulable: true })], incoming: pod('p'), target: 'n1', want: ['UnschedulableAndUnresolvable', UNSCHEDULABLE] },
  {
    name: 'toleration of the unschedulable taint admits',
    nodes: [node('n1', { unschedulable: true })],
    incoming: pod('p', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }),
    target: 'n1',
    want: undefined,
  },
  { name: 'schedulable node admits', nodes: [node('n1')], incoming: pod('p'), target: 'n1', want: undefined },
]);

table(new NodeName(), [
  { name: 'other node rejects', nodes: [node('n1'), node('n2')], incoming: pod('p', { nodeName: 'n2' }), target: 'n1', want: ['UnschedulableAndUnresolvable', "node(s) didn't match the requested node name"] },
  { name: 'named node admits', nodes: [node('n1'), node('n2')], incoming: pod('p', { nodeName: 'n2' }), target: 'n2', want: undefined },
]);

const PORTS = "node(s) didn't have free ports for the requested pod ports";
table(new NodePorts(), [
  { name: 'same TCP port conflicts', nodes: [node('n1')], pods: [pod('a', { nodeName: 'n1', hostPorts: [{ hostPort: 8080 }] })], incoming: pod('p', { hostPorts: [{ hostPort: 8080 }] }), target: 'n1', want: ['Unschedulable', PORTS] },
  { name: 'other protocol is free', nodes: [node('n1')], pods: [pod('a', { nodeName: 'n1', hostPorts: [{ hostPort: 8080 }] })], incoming: pod('p', { hostPorts: [{ hostPort: 8080, protocol: 'UDP' }] }), target: 'n1', want: undefined },
  {
    name: 'distinct host IPs do not conflict',
    nodes: [node('n1')],
    pods: [pod('a', { nodeName: 'n1', hostPorts: [{ hostPort: 80, hostIP: '10.0.0.1' }] })],
    incoming: pod('p', { hostPorts: [{ hostPort: 80, hostIP: '10.0.0.2' }] }),
    target: 'n1',
    want: undefined,
  },
  {
    name: '0.0.0.0 conflicts with a specific IP',
    nodes: [node('n1')],
    pods: [pod('a', { nodeName: 'n1', hostPorts: [{ hostPort: 80, hostIP: '10.0.0.1' }] })],
    incoming: pod('p', { hostPorts: [{ hostPort: 80 }] }),
    target: 'n1',
    want: ['Unschedulable', PORTS],
  },
  { name: 'a pod without host ports skips the check', nodes: [node('n1')], pods: [pod('a', { nodeName: 'n1', hostPorts: [{ hostPort: 80 }] })], incoming: pod('p'), target: 'n1', want: undefined },
]);

table(new NodeResourcesFit(), [
  { name: 'fits', nodes: [node('n1', { cpu: '2' })], pods: [pod('a', { nodeName: 'n1', cpu: '1' })], incoming: pod('p', { cpu: '1' }), target: 'n1', want: undefined },
  { name: 'cpu exhausted', nodes: [node('n1', { cpu: '2' })], pods: [pod('a', { nodeName: 'n1', cpu: '1500m' })], incoming: pod('p', { cpu: '600m' }), target: 'n1', want: ['Unschedulable', 'Insufficient cpu'] },
  { name: 'memory exhausted', nodes: [node('n1', { memory: '1Gi' })], pods: [pod('a', { nodeName: 'n1', memory: '900Mi' })], incoming: pod('p', { memory: '200Mi' }), target: 'n1', want: ['Unschedulable', 'Insufficient memory'] },
  {
    name: 'every insufficient resource is reported',
    nodes: [node('n1', { cpu: '1', memory: '1Gi' })],
    incoming: pod('p', { cpu: '2', memory: '2Gi' }),
    target: 'n1',
    want: ['Unschedulable', 'Insufficient cpu', 'Insufficient memory'],
  },
  {
    name: 'init container larger than the containers sets the request',
    nodes: [node('n1', { cpu: '900m' })],
    incoming: pod('p', { containers: [{ cpu: '200m' }, { cpu: '200m' }], initContainers: [{ requests: { cpu: '1' } }] }),
    target: 'n1',
    want: ['Unschedulable', 'Insufficient cpu'],
  },
  {
    name: 'init container smaller than the containers does not count',
    nodes: [node('n1', { cpu: '500m' })],
    incoming: pod('p', { containers: [{ cpu: '200m' }, { cpu: '200m' }], initContainers: [{ requests: { cpu: '300m' } }] }),
    target: 'n1',
    want: undefined,
  },
  {
    name: 'sidecar init containers add to the containers',
    nodes: [node('n1', { cpu: '500m' })],
    incoming: pod('p', { containers: [{ cpu: '400m' }], initContainers: [{ requests: { cpu: '200m' }, restartPolicy: 'Always' }] }),
    target: 'n1',
    want: ['Unschedulable', 'Insufficient cpu'],
  },
  { name: 'pod overhead counts', nodes: [node('n1', { cpu: '1' })], incoming: pod('p', { cpu: '900m', overhead: { cpu: '200m' } }), target: 'n1', want: ['Unschedulable', 'Insufficient cpu'] },
  { name: 'pod count limit', nodes: [node('n1', { pods: 1 })], pods: [pod('a', { nodeName: 'n1' })], incoming: pod('p'), target: 'n1', want: ['Unschedulable', 'Too many pods'] },
  { name: 'best-effort pod fits a full node', nodes: [node('n1', { cpu: '1' })], pods: [pod('a', { nodeName: 'n1', cpu: '1' })], incoming: pod('p'), target: 'n1', want: undefined },
  {
    name: 'extended resource the node lacks',
    nodes: [node('n1')],
    incoming: pod('p', { requests: { cpu: '100m', 'example.com/gpu': '1' } }),
    target: 'n1',
    want: ['Unschedulable', 'Insufficient example.com/gpu'],
  },
  {
    name: 'extended resource the node has',
    nodes: [node('n1', { extra: { 'example.com/gpu': '2' } })],
    pods: [pod('a', { nodeName: 'n1', requests: { 'example.com/gpu': '1' } })],
    incoming: pod('p', { requests: { 'example.com/gpu': '1' } }),
    target: 'n1',
    want: undefined,
  },
]);

test('NodeResourcesFit: an assumed pod holds its requests until forgotten', () => {
  const cache = cacheOf([node('n1', { cpu: '1' })]);
  const first = pod('a', { cpu: '800m' });
  const info = new PodInfo(first);
  cache.assumePod(info, 'n1');
  assert.deepEqual(check(new NodeResourcesFit(), pod('b', { cpu: '300m' }), 'n1', cache), ['Unschedulable', 'Insufficient cpu']);
  cache.forgetPod(info);
  assert.equal(check(new NodeResourcesFit(), pod('b', { cpu: '300m' }), 'n1', cache), undefined);
  // Confirmed by the informer: the pod stays, no longer assumed.
  cache.assumePod(info, 'n1');
  cache.addPod({ ...first, spec: { ...first.spec, nodeName: 'n1' } });
  assert.equal(cache.isAssumed(info.uid), false);
  assert.deepEqual(check(new NodeResourcesFit(), pod('b', { cpu: '300m' }), 'n1', cache), ['Unschedulable', 'Insufficient cpu']);
});

test('pod requests: max(init) vs sum(containers), sidecars and overhead', () => {
  const table: Array<[string, Pod, number]> = [
    ['containers summed', pod('p', { containers: [{ cpu: '100m' }, { cpu: '250m' }] }), 350],
    ['init floor', pod('p', { containers: [{ cpu: '100m' }], initContainers: [{ requests: { cpu: '1' } }] }), 1000],
    ['sidecar then init', pod('p', { containers: [{ cpu: '100m' }], initContainers: [{ requests: { cpu: '200m' }, restartPolicy: 'Always' }, { requests: { cpu: '500m' } }] }), 700],
    ['overhead', pod('p', { cpu: '100m', overhead: { cpu: '50m' } }), 150],
  ];
  for (const [name, p, want] of table) assert.equal(podRequests(p).milliCPU, want, name);
  // Scoring counts missing requests as 100m / 200Mi.
  const nonZero = podRequests(pod('p', { containers: [{}, { memory: '1Gi' }] }), true);
  assert.deepEqual([nonZero.milliCPU, nonZero.memory], [200, 200 * 1024 * 1024 + 1024 ** 3]);
});

const NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
const labelled = [node('n1', { labels: { disk: 'ssd', gen: '5' } }), node('n2', { labels: { disk: 'hdd', gen: '3' } }), node('n3')];
const required = (...terms: Array<{ matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>; matchFields?: Array<{ key: string; operator: string; values?: string[] }> }>) => ({
  nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
});
const affinityCases: Array<[string, Pod, string[]]> = [
  ['nodeSelector', pod('p', { nodeSelector: { disk: 'ssd' } }), ['n1']],
  ['In', pod('p', { affinity: required({ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd', 'nvme'] }] }) }), ['n1']],
  ['NotIn (absent label matches)', pod('p', { affinity: required({ matchExpressions: [{ key: 'disk', operator: 'NotIn', values: ['ssd'] }] }) }), ['n2', 'n3']],
  ['Exists', pod('p', { affinity: required({ matchExpressions: [{ key: 'disk', operator: 'Exists' }] }) }), ['n1', 'n2']],
  ['DoesNotExist', pod('p', { affinity: required({ matchExpressions: [{ key: 'disk', operator: 'DoesNotExist' }] }) }), ['n3']],
  ['Gt', pod('p', { affinity: required({ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] }) }), ['n1']],
  ['Lt', pod('p', { affinity: required({ matchExpressions: [{ key: 'gen', operator: 'Lt', values: ['4'] }] }) }), ['n2']],
  ['terms are ORed', pod('p', { affinity: required({ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }, { matchExpressions: [{ key: 'disk', operator: 'DoesNotExist' }] }) }), ['n1', 'n3']],
  ['expressions within a term are ANDed', pod('p', { affinity: required({ matchExpressions: [{ key: 'disk', operator: 'Exists' }, { key: 'gen', operator: 'Lt', values: ['5'] }] }) }), ['n2']],
  ['matchFields metadata.name', pod('p', { affinity: required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n3'] }] }) }), ['n3']],
  ['nodeSelector AND affinity', pod('p', { nodeSelector: { disk: 'hdd' }, affinity: required({ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] }) }), []],
  ['an empty term matches nothing', pod('p', { affinity: required({}) }), []],
  ['no constraints', pod('p'), ['n1', 'n2', 'n3']],
];
for (const [name, p, want] of affinityCases) {
  test(`NodeAffinity: ${name}`, () => {
    const cache = cacheOf(labelled);
    const admitted = ['n1', 'n2', 'n3'].filter((n) => check(new NodeAffinity(), p, n, cache) === undefined);
    assert.deepEqual(admitted, want);
    for (const n of ['n1', 'n2', 'n3'].filter((x) => !want.includes(x))) {
      const result = check(new NodeAffinity(), p, n, cache)!;
      if (result[1] !== 'excluded by PreFilter') assert.deepEqual(result, ['UnschedulableAndUnresolvable', NODE_AFFINITY]);
    }
  });
}

test('NodeAffinity: matchFields terms that name no common node conflict at PreFilter', () => {
  const p = pod('p', { affinity: required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }, { key: 'metadata.name', operator: 'In', values: ['n2'] }] }) });
  assert.deepEqual(check(new NodeAffinity(), p, 'n1', cacheOf(labelled)), ['UnschedulableAndUnresolvable', 'pod affinity terms conflict']);
});

table(new TaintToleration(), [
  { name: 'NoSchedule taint rejects', nodes: [node('n1', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] })], incoming: pod('p'), target: 'n1', want: ['UnschedulableAndUnresolvable', 'node(s) had untolerated taint {dedicated: gpu}'] },
  { name: 'NoExecute taint rejects', nodes: [node('n1', { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] })], incoming: pod('p'), target: 'n1', want: ['UnschedulableAndUnresolvable', 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }'] },
  {
    name: 'network-unavailable taint rejects',
    nodes: [node('n1', { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }] })],
    incoming: pod('p'),
    target: 'n1',
    want: ['UnschedulableAndUnresolvable', 'node(s) had untolerated taint {node.kubernetes.io/network-unavailable: }'],
  },
  { name: 'PreferNoSchedule does not filter', nodes: [node('n1', { taints: [{ key: 'k', value: 'v', effect: 'PreferNoSchedule' }] })], incoming: pod('p'), target: 'n1', want: undefined },
  {
    name: 'Equal toleration with the value',
    nodes: [node('n1', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] })],
    incoming: pod('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }),
    target: 'n1',
    want: undefined,
  },
  {
    name: 'Equal toleration with another value',
    nodes: [node('n1', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] })],
    incoming: pod('p', { tolerations: [{ key: 'dedicated', value: 'db' }] }),
    target: 'n1',
    want: ['UnschedulableAndUnresolvable', 'node(s) had untolerated taint {dedicated: gpu}'],
  },
  {
    name: 'toleration for another effect',
    nodes: [node('n1', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }] })],
    incoming: pod('p', { tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }] }),
    target: 'n1',
    want: ['UnschedulableAndUnresolvable', 'node(s) had untolerated taint {dedicated: gpu}'],
  },
  {
    name: 'Exists without a key tolerates everything',
    nodes: [node('n1', { taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'b', value: 'x', effect: 'NoExecute' }] })],
    incoming: pod('p', { tolerations: [{ operator: 'Exists' }] }),
    target: 'n1',
    want: undefined,
  },
  {
    name: 'the first untolerated taint is named',
    nodes: [node('n1', { taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'b', value: 'x', effect: 'NoSchedule' }] })],
    incoming: pod('p', { tolerations: [{ key: 'a', operator: 'Exists' }] }),
    target: 'n1',
    want: ['UnschedulableAndUnresolvable', 'node(s) had untolerated taint {b: x}'],
  },
]);

// ---- topology spread ----------------------------------------------------------------------------

const SPREAD = "node(s) didn't match pod topology spread constraints";
const zones = [node('a1', { zone: 'a' }), node('a2', { zone: 'a' }), node('b1', { zone: 'b' }), node('c1', { zone: 'c' })];
const web = (name: string, nodeName?: string, extra: Parameters<typeof pod>[1] = {}) => pod(name, { labels: { app: 'web' }, nodeName, ...extra });
const zoneSpread = (extra: Record<string, unknown> = {}) => ({
  topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } }, ...extra }],
});
const existing = [web('w1', 'a1'), web('w2', 'a2'), web('w3', 'b1')];
table(new PodTopologySpread(), [
  { name: 'crowded zone a rejects', nodes: zones, pods: existing, incoming: web('p', undefined, zoneSpread()), target: 'a1', want: ['Unschedulable', SPREAD] },
  { name: 'zone b rejects (skew 2)', nodes: zones, pods: existing, incoming: web('p', undefined, zoneSpread()), target: 'b1', want: ['Unschedulable', SPREAD] },
  { name: 'empty zone c admits', nodes: zones, pods: existing, incoming: web('p', undefined, zoneSpread()), target: 'c1', want: undefined },
  {
    name: 'maxSkew 2 admits zone b',
    nodes: zones,
    pods: existing,
    incoming: web('p', undefined, { topologySpreadConstraints: [{ maxSkew: 2, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }] }),
    target: 'b1',
    want: undefined,
  },
  {
    name: 'a node without the topology label',
    nodes: [...zones, node('nolabel')],
    pods: existing,
    incoming: web('p', undefined, zoneSpread()),
    target: 'nolabel',
    want: ['UnschedulableAndUnresolvable', "node(s) didn't match pod topology spread constraints (missing required label)"],
  },
  {
    name: 'minDomains above the domain count treats the minimum as 0',
    nodes: zones.slice(0, 3),
    pods: [web('w1', 'a1')],
    incoming: web('p', undefined, zoneSpread({ minDomains: 3 })),
    target: 'b1',
    want: undefined,
  },
  {
    name: 'minDomains above the domain count rejects a domain already at maxSkew',
    nodes: zones.slice(0, 3),
    pods: [web('w1', 'a1'), web('w3', 'b1')],
    incoming: web('p', undefined, zoneSpread({ minDomains: 3 })),
    target: 'b1',
    want: ['Unschedulable', SPREAD],
  },
  {
    name: 'nodeAffinityPolicy Honor: zone c is not a domain for a pod pinned to a and b',
    nodes: zones,
    pods: [web('w1', 'a1'), web('w3', 'b1')],
    incoming: web('p', undefined, { ...zoneSpread(), affinity: required({ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['a', 'b'] }] }) }),
    target: 'a2',
    want: undefined,
  },
  {
    name: 'nodeAffinityPolicy Ignore: zone c counts (at 0)',
    nodes: zones,
    pods: [web('w1', 'a1'), web('w3', 'b1')],
    incoming: web('p', undefined, { ...zoneSpread({ nodeAffinityPolicy: 'Ignore' }), affinity: required({ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['a', 'b'] }] }) }),
    target: 'b1',
    want: ['Unschedulable', SPREAD],
  },
  {
    name: 'nodeTaintsPolicy Honor: a tainted zone is not a domain',
    nodes: [node('a1', { zone: 'a' }), node('b1', { zone: 'b' }), node('c1', { zone: 'c', taints: [{ key: 'k', effect: 'NoSchedule' }] })],
    pods: [web('w1', 'a1')],
    incoming: web('p', undefined, zoneSpread({ nodeTaintsPolicy: 'Honor' })),
    target: 'b1',
    want: undefined,
  },
  {
    name: 'nodeTaintsPolicy Ignore (default): a tainted empty zone holds the minimum at 0',
    nodes: [node('a1', { zone: 'a' }), node('b1', { zone: 'b' }), node('c1', { zone: 'c', taints: [{ key: 'k', effect: 'NoSchedule' }] })],
    pods: [web('w1', 'a1'), web('w3', 'b1')],
    incoming: web('p', undefined, zoneSpread()),
    target: 'b1',
    want: ['Unschedulable', SPREAD],
  },
  {
    name: 'pods of other namespaces and terminating pods do not count',
    nodes: zones,
    pods: [web('w1', 'a1', { namespace: 'other' }), { ...web('w2', 'a1'), metadata: { ...web('w2', 'a1').metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }],
    incoming: web('p', undefined, zoneSpread()),
    target: 'a1',
    want: undefined,
  },
  {
    name: 'ScheduleAnyway never filters',
    nodes: zones,
    pods: existing,
    incoming: web('p', undefined, zoneSpread({ whenUnsatisfiable: 'ScheduleAnyway' })),
    target: 'a1',
    want: undefined,
  },
]);

// ---- inter-pod affinity --------------------------------------------------------------------------

const AFF = "node(s) didn't match pod affinity rules";
const ANTI = "node(s) didn't match pod anti-affinity rules";
const EXISTING = "node(s) didn't satisfy existing pods anti-affinity rules";
const term = (labels: Record<string, string>, topologyKey: string, extra: Record<string, unknown> = {}) => ({ labelSelector: { matchLabels: labels }, topologyKey, ...extra });
const podAffinity = (...terms: ReturnType<typeof term>[]) => ({ podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } });
const podAnti = (...terms: ReturnType<typeof term>[]) => ({ podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: terms } });
const db = pod('db', { labels: { app: 'db' }, nodeName: 'a1' });
table(new InterPodAffinity(), [
  { name: 'affinity on hostname: the node with the pod admits', nodes: zones, pods: [db], incoming: pod('p', { affinity: podAffinity(term({ app: 'db' }, 'kubernetes.io/hostname')) }), target: 'a1', want: undefined },
  { name: 'affinity on hostname: another node rejects', nodes: zones, pods: [db], incoming: pod('p', { affinity: podAffinity(term({ app: 'db' }, 'kubernetes.io/hostname')) }), target: 'a2', want: ['UnschedulableAndUnresolvable', AFF] },
  { name: 'affinity on zone: another node of the zone admits', nodes: zones, pods: [db], incoming: pod('p', { affinity: podAffinity(term({ app: 'db' }, 'topology.kubernetes.io/zone')) }), target: 'a2', want: undefined },
  { name: 'affinity on zone: another zone rejects', nodes: zones, pods: [db], incoming: pod('p', { affinity: podAffinity(term({ app: 'db' }, 'topology.kubernetes.io/zone')) }), target: 'b1', want: ['UnschedulableAndUnresolvable', AFF] },
  {
    name: 'affinity on any label: rack',
    nodes: [node('r1', { labels: { rack: 'x' } }), node('r2', { labels: { rack: 'x' } }), node('r3', { labels: { rack: 'y' } })],
    pods: [pod('db', { labels: { app: 'db' }, nodeName: 'r1' })],
    incoming: pod('p', { affinity: podAffinity(term({ app: 'db' }, 'rack')) }),
    target: 'r2',
    want: undefined,
  },
  {
    name: 'the first pod of a self-affine group may go anywhere',
    nodes: zones,
    incoming: pod('p', { labels: { app: 'cache' }, affinity: podAffinity(term({ app: 'cache' }, 'topology.kubernetes.io/zone')) }),
    target: 'b1',
    want: undefined,
  },
  {
    name: 'a node without the topology key rejects affinity',
    nodes: [...zones, node('bare', { labels: {} })],
    pods: [db],
    incoming: pod('p', { affinity: podAffinity(term({ app: 'db' }, 'topology.kubernetes.io/zone')) }),
    target: 'bare',
    want: ['UnschedulableAndUnresolvable', AFF],
  },
  { name: 'anti-affinity on hostname rejects the node', nodes: zones, pods: [db], incoming: pod('p', { affinity: podAnti(term({ app: 'db' }, 'kubernetes.io/hostname')) }), target: 'a1', want: ['Unschedulable', ANTI] },
  { name: 'anti-affinity on hostname admits another node', nodes: zones, pods: [db], incoming: pod('p', { affinity: podAnti(term({ app: 'db' }, 'kubernetes.io/hostname')) }), target: 'a2', want: undefined },
  { name: 'anti-affinity on zone rejects the whole zone', nodes: zones, pods: [db], incoming: pod('p', { affinity: podAnti(term({ app: 'db' }, 'topology.kubernetes.io/zone')) }), target: 'a2', want: ['Unschedulable', ANTI] },
  {
    name: "an existing pod's anti-affinity rejects the incoming pod",
    nodes: zones,
    pods: [pod('lonely', { labels: { app: 'lonely' }, nodeName: 'a1', affinity: podAnti(term({ app: 'web' }, 'topology.kubernetes.io/zone')) })],
    incoming: pod('p', { labels: { app: 'web' } }),
    target: 'a2',
    want: ['Unschedulable', EXISTING],
  },
  {
    name: "an existing pod's anti-affinity leaves other zones",
    nodes: zones,
    pods: [pod('lonely', { labels: { app: 'lonely' }, nodeName: 'a1', affinity: podAnti(term({ app: 'web' }, 'topology.kubernetes.io/zone')) })],
    incoming: pod('p', { labels: { app: 'web' } }),
    target: 'b1',
    want: undefined,
  },
  {
    name: 'terms look in the pod namespace by default',
    nodes: zones,
    pods: [pod('db', { labels: { app: 'db' }, nodeName: 'a1', namespace: 'other' })],
    incoming: pod('p', { affinity: podAnti(term({ app: 'db' }, 'kubernetes.io/hostname')) }),
    target: 'a1',
    want: undefined,
  },
  {
    name: 'namespaces lists other namespaces',
    nodes: zones,
    pods: [pod('db', { labels: { app: 'db' }, nodeName: 'a1', namespace: 'other' })],
    incoming: pod('p', { affinity: podAnti(term({ app: 'db' }, 'kubernetes.io/hostname', { namespaces: ['other'] })) }),
    target: 'a1',
    want: ['Unschedulable', ANTI],
  },
  {
    name: 'namespaceSelector selects namespaces by label',
    nodes: zones,
    namespaces: { other: { team: 'data' } },
    pods: [pod('db', { labels: { app: 'db' }, nodeName: 'a1', namespace: 'other' })],
    incoming: pod('p', { affinity: podAffinity(term({ app: 'db' }, 'kubernetes.io/hostname', { namespaceSelector: { matchLabels: { team: 'data' } } })) }),
    target: 'a1',
    want: undefined,
  },
  {
    name: "an existing pod's anti-affinity with a namespaceSelector matching the incoming namespace",
    nodes: zones,
    namespaces: { other: {}, default: { team: 'web' } },
    pods: [pod('lonely', { nodeName: 'a1', namespace: 'other', affinity: podAnti(term({ app: 'web' }, 'kubernetes.io/hostname', { namespaceSelector: { matchLabels: { team: 'web' } } })) })],
    incoming: pod('p', { labels: { app: 'web' } }),
    target: 'a1',
    want: ['Unschedulable', EXISTING],
  },
]);
