import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '@canopy/apimachinery';
import { parseQuantity } from '@canopy/apimachinery';
import { types } from '@canopy/client';
import { parsePrometheusText, sampleOf } from './prometheus-parser.js';
import { pod, startSimulated, type SimulatedCluster } from './support.js';
import { cpuAt, cpuSeconds, memoryAt, usageProfile } from '../src/usage.js';
import { goFloat } from '../src/prometheus.js';

type Obj = Record<string, any>;
const MiB = 1024 * 1024;

describe('usage model', () => {
  const container = (resources: Obj) => ({ name: 'app', image: 'nginx', resources });
  const podOf = (uid: string, annotations: Record<string, string> = {}): KubeObject => ({ metadata: { name: 'p', namespace: 'n', uid, annotations } });

  it('is deterministic per seed and differs between seeds', () => {
    const a = usageProfile('seed-1', podOf('u1'), container({ requests: { cpu: '200m', memory: '256Mi' } }), false);
    const b = usageProfile('seed-1', podOf('u1'), container({ requests: { cpu: '200m', memory: '256Mi' } }), false);
    const c = usageProfile('seed-2', podOf('u1'), container({ requests: { cpu: '200m', memory: '256Mi' } }), false);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('follows requests, never exceeds limits, and integrates CPU consistently', () => {
    for (let i = 0; i < 300; i++) {
      const cpuRequest = 0.05 + (i % 17) * 0.1;
      const memoryRequest = (32 + (i % 13) * 64) * MiB;
      const limits = i % 3 === 0 ? {} : { cpu: `${Math.round(cpuRequest * 1000 * (1 + (i % 4) * 0.5))}m`, memory: `${Math.round((memoryRequest / MiB) * (1 + (i % 5) * 0.25))}Mi` };
      const profile = usageProfile('s', podOf(`uid-${i}`), container({ requests: { cpu: `${Math.round(cpuRequest * 1000)}m`, memory: `${memoryRequest / MiB}Mi` }, limits }), false);
      const cpuLimit = limits.cpu ? parseQuantity(limits.cpu).asApproximateNumber() : Infinity;
      const memoryLimit = limits.memory ? parseQuantity(limits.memory).asApproximateNumber() : Infinity;
      for (let t = 0; t < 3600; t += 37) {
        assert.ok(cpuAt(profile, t) >= 0 && cpuAt(profile, t) <= cpuLimit + 1e-9, `cpu within the limit (${i}, ${t})`);
        assert.ok(memoryAt(profile, t) <= memoryLimit, `memory within the limit (${i}, ${t})`);
      }
      // Settled memory follows the request (40–90 %, ±3 % wobble), capped under the limit.
      const settled = memoryAt(profile, 600);
      assert.ok(settled >= Math.min(memoryRequest * 0.4 * 0.96, memoryLimit * 0.85) && settled <= memoryRequest * 0.9 * 1.04, `memory ${settled} vs request ${memoryRequest}`);
      // The counter is the integral of the rate: a numeric integration agrees.
      let integral = 0;
      for (let t = 0; t < 120; t += 0.5) integral += ((cpuAt(profile, t) + cpuAt(profile, t + 0.5)) / 2) * 0.5;
      assert.ok(Math.abs(integral - cpuSeconds(profile, 120)) < 1e-3 * Math.max(1, integral), 'cpuSeconds is the integral of cpuAt');
      const mean = cpuSeconds(profile, 3600) / 3600;
      assert.ok(mean >= Math.min(cpuRequest * 0.2, cpuLimit / 1.35) * 0.9 && mean <= cpuRequest * 0.8 * 1.1, `mean cpu ${mean} vs request ${cpuRequest}`);
    }
  });

  it("formats values as Go's FormatFloat(v, 'g', -1, 64)", () => {
    assert.equal(goFloat(1234567), '1.234567e+06');
    assert.equal(goFloat(100000), '100000');
    assert.equal(goFloat(0.00001), '1e-05');
    assert.equal(goFloat(12.5), '12.5');
    assert.equal(goFloat(Infinity), '+Inf');
  });
});

describe('simulated metrics', () => {
  let c: SimulatedCluster;
  const ns = 'metered';
  before(async () => {
    c = await startSimulated({ nodes: 2 });
    await c.namespace(ns);
    await c.client.create(
      types.pods,
      pod('meter', ns, {
        nodeName: 'canopy-node-1',
        containers: [
          { name: 'app', image: 'nginx:1.27', resources: { requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } } },
          { name: 'sidecar', image: 'example.com/agent:0.3', resources: { requests: { cpu: '50m', memory: '32Mi' } } },
        ],
      }),
    );
    await c.advance(3000);
    await c.advance(60_000, 5000);
  });
  after(() => c.close());

  const proxy = (node: string, path: string) => c.client.text(`/api/v1/nodes/${node}/proxy${path}`);

  it('serves /metrics/cadvisor as valid Prometheus text with kube labels and figures that follow the spec', async () => {
    const text = await proxy('canopy-node-1', '/metrics/cadvisor');
    const families = parsePrometheusText(text);
    for (const name of ['container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', 'container_memory_usage_bytes', 'container_spec_memory_limit_bytes', 'container_network_receive_bytes_total', 'machine_memory_bytes']) {
      assert.ok(families.has(name), name);
    }
    assert.equal(families.get('container_cpu_usage_seconds_total')!.type, 'counter');
    assert.equal(families.get('container_memory_working_set_bytes')!.type, 'gauge');
    const cpu = sampleOf(families, 'container_cpu_usage_seconds_total', { container: 'app', pod: 'meter', namespace: ns });
    assert.deepEqual(Object.keys(cpu.labels), ['container', 'cpu', 'id', 'image', 'name', 'namespace', 'pod']);
    assert.equal(cpu.labels.image, 'docker.io/library/nginx:1.27');
    assert.match(cpu.labels.name, /^[0-9a-f]{64}$/);
    assert.match(cpu.labels.id, new RegExp(`^/kubepods\\.slice/kubepods-burstable\\.slice/kubepods-burstable-pod[0-9a-f_]+\\.slice/cri-containerd-${cpu.labels.name}\\.scope$`));
    assert.equal(cpu.timestamp, c.clock.now());
    // About a minute at 20–80 % of 200m, with ±35 % noise.
    assert.ok(cpu.value > 0.2 * 0.2 * 60 * 0.6 && cpu.value < 0.8 * 0.2 * 63 * 1.4, `cpu seconds ${cpu.value}`);
    assert.equal(sampleOf(families, 'container_spec_memory_limit_bytes', { container: 'app', pod: 'meter' }).value, 512 * MiB);
    assert.equal(sampleOf(families, 'container_spec_memory_limit_bytes', { container: 'sidecar', pod: 'meter' }).value, 0);
    assert.equal(sampleOf(families, 'container_spec_cpu_quota', { container: 'app', pod: 'meter' }).value, 100_000);
    const ws = sampleOf(families, 'container_memory_working_set_bytes', { container: 'app', pod: 'meter' }).value;
    assert.ok(ws >= 256 * MiB * 0.4 * 0.96 && ws <= 256 * MiB * 0.9 * 1.04, `working set ${ws}`);
    assert.ok(sampleOf(families, 'container_memory_usage_bytes', { container: 'app', pod: 'meter' }).value >= ws);
    // The pod cgroup sums its containers; the root cgroup covers the node.
    const podRow = sampleOf(families, 'container_memory_working_set_bytes', { container: '', pod: 'meter', image: '' }).value;
    const sidecar = sampleOf(families, 'container_memory_working_set_bytes', { container: 'sidecar', pod: 'meter' }).value;
    assert.equal(podRow, ws + sidecar);
    assert.ok(sampleOf(families, 'container_memory_working_set_bytes', { id: '/' }).value > podRow);
    assert.equal(sampleOf(families, 'machine_memory_bytes', {}).value, 32 * 1024 * MiB);
    const rx = sampleOf(families, 'container_network_receive_bytes_total', { pod: 'meter', interface: 'eth0' });
    assert.equal(rx.labels.image, 'registry.k8s.io/pause:3.10');

    // Counters only grow.
    await c.advance(30_000, 5000);
    const later = parsePrometheusText(await proxy('canopy-node-1', '/metrics/cadvisor'));
    assert.ok(sampleOf(later, 'container_cpu_usage_seconds_total', { container: 'app', pod: 'meter' }).value > cpu.value);
    assert.ok(sampleOf(later, 'container_network_receive_bytes_total', { pod: 'meter', interface: 'eth0' }).value > rx.value);
  });

  it('agrees across /metrics/resource, cAdvisor and metrics.k8s.io at the same instant', async () => {
    const resource = parsePrometheusText(await proxy('canopy-node-1', '/metrics/resource'));
    const cadvisor = parsePrometheusText(await proxy('canopy-node-1', '/metrics/cadvisor'));
    const labels = { container: 'app', namespace: ns, pod: 'meter' };
    assert.equal(sampleOf(resource, 'container_cpu_usage_seconds_total', labels).value, sampleOf(cadvisor, 'container_cpu_usage_seconds_total', labels).value);
    const ws = sampleOf(resource, 'container_memory_working_set_bytes', labels).value;
    assert.equal(ws, sampleOf(cadvisor, 'container_memory_working_set_bytes', labels).value);
    assert.ok(sampleOf(resource, 'node_memory_working_set_bytes', {}).value > sampleOf(resource, 'pod_memory_working_set_bytes', { pod: 'meter' }).value);
    assert.equal(sampleOf(resource, 'resource_scrape_error', {}).value, 0);

    const metrics = (await c.client.get({ group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods', kind: 'PodMetrics', namespaced: true }, 'meter', ns)) as Obj;
    assert.equal(metrics.window, '15s');
    const app = metrics.containers.find((x: Obj) => x.name === 'app');
    assert.match(app.usage.cpu, /^\d+(n|u|m)?$/);
    assert.match(app.usage.memory, /^\d+(Ki|Mi|Gi)$/);
    assert.equal(parseQuantity(app.usage.memory).value(), Math.floor(ws / 1024) * 1024);
    const cores = parseQuantity(app.usage.cpu).asApproximateNumber();
    assert.ok(cores > 0.2 * 0.2 * 0.6 && cores < 0.2 * 0.8 * 1.4, `cpu ${app.usage.cpu}`);
    assert.ok(cores <= 1, 'under the limit');

    const nodes = (await c.client.list({ group: 'metrics.k8s.io', version: 'v1beta1', resource: 'nodes', kind: 'NodeMetrics', namespaced: false })).items as Obj[];
    assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), ['canopy-node-1', 'canopy-node-2']);
    const node1 = nodes.find((n) => n.metadata.name === 'canopy-node-1')!;
    const node2 = nodes.find((n) => n.metadata.name === 'canopy-node-2')!;
    assert.ok(parseQuantity(node1.usage.memory).value() > parseQuantity(app.usage.memory).value());
    assert.ok(parseQuantity(node1.usage.cpu).asApproximateNumber() > cores);
    assert.ok(parseQuantity(node1.usage.memory).value() > parseQuantity(node2.usage.memory).value(), 'the node with the pod uses more');
    assert.equal(node1.metadata.labels['kubernetes.io/hostname'], 'canopy-node-1');
  });

  it('serves the kubelet /metrics, /healthz and /pods, and 404 elsewhere', async () => {
    const kubelet = parsePrometheusText(await proxy('canopy-node-1', '/metrics'));
    assert.equal(sampleOf(kubelet, 'kubelet_node_name', { node: 'canopy-node-1' }).value, 1);
    assert.equal(sampleOf(kubelet, 'kubelet_running_pods', {}).value, 1);
    assert.equal(sampleOf(kubelet, 'kubelet_running_containers', { container_state: 'running' }).value, 2);
    assert.equal(kubelet.get('kubelet_pod_start_sli_duration_seconds')?.type, 'histogram');
    assert.equal(sampleOf(kubelet, 'kubelet_pod_start_sli_duration_seconds_count', {}).value, 1);
    assert.equal(await proxy('canopy-node-1', '/healthz'), 'ok');
    const pods = JSON.parse(await proxy('canopy-node-1', '/pods'));
    assert.equal(pods.kind, 'PodList');
    assert.deepEqual(pods.items.map((p: Obj) => p.metadata.name), ['meter']);
    assert.equal(pods.items[0].status.phase, 'Running');
    await assert.rejects(proxy('canopy-node-1', '/nope'), (err: Error & { code?: number }) => err.code === 404);
  });

  it('stops answering for a paused node, as an unreachable kubelet', async () => {
    c.sim.pauseNode('canopy-node-2');
    await assert.rejects(proxy('canopy-node-2', '/healthz'), /no route to host/);
    const nodes = c.sim.nodeMetrics().map((n) => n.metadata.name);
    assert.deepEqual(nodes, ['canopy-node-1']);
    await c.sim.resumeNode('canopy-node-2');
    assert.equal(await proxy('canopy-node-2', '/healthz'), 'ok');
  });
});
