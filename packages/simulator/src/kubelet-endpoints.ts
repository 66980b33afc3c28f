/**
 * The kubelet's HTTP endpoints a node proxy reaches (`nodes/NAME/proxy/<path>`):
 *
 * - `/metrics/cadvisor` — cAdvisor's container metrics with kube's labels (container, id, image,
 *   name, namespace, pod): a root cgroup row, a row per pod cgroup, a row per running container,
 *   network counters on each pod's sandbox, and machine metrics;
 * - `/metrics/resource` — the resource metrics metrics-server scrapes (node, pod and container
 *   CPU and working set, container start times);
 * - `/metrics` — kubelet metrics (build info, running pods and containers, started counters, pod
 *   start latency histogram);
 * - `/healthz`, `/pods` (the kubelet's PodList).
 *
 * Families and samples are sorted as client_golang's registry gathers them.
 */
import type { KubeletResponse } from '@canopy/kube-apiserver';
import type { SimulatedNode } from './node-runtime.js';
import { POD_START_BUCKETS } from './node-runtime.js';
import type { ContainerRuntime, PodRuntime } from './pod-runtime.js';
import { FamilyBuilder, goFloat, PROMETHEUS_CONTENT_TYPE, type MetricType } from './prometheus.js';
import { hexId } from './random.js';
import { cpuAt, cpuSeconds, memoryAt, memoryBreakdown } from './usage.js';

type Labels = Array<[string, string]>;

const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';
const CFS_PERIOD_US = 100_000;

export interface BuildInfo {
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
  major: string;
  minor: string;
}

function qosSlice(pod: PodRuntime): string {
  const qos = String((pod.status().qosClass as string | undefined) ?? 'BestEffort');
  const uid = pod.uid.replace(/-/g, '_');
  if (qos === 'Guaranteed') return `/kubepods.slice/kubepods-pod${uid}.slice`;
  const q = qos.toLowerCase();
  return `/kubepods.slice/kubepods-${q}.slice/kubepods-${q}-pod${uid}.slice`;
}

function sandboxId(pod: PodRuntime): string {
  return hexId(64, 'sandbox', pod.uid);
}

function running(pod: PodRuntime): ContainerRuntime[] {
  return pod.allContainers.filter((c) => c.state === 'running' && c.current);
}

function cadvisorLabels(container: string, id: string, image: string, name: string, namespace: string, pod: string): Labels {
  return [
    ['container', container],
    ['id', id],
    ['image', image],
    ['name', name],
    ['namespace', namespace],
    ['pod', pod],
  ];
}

/** Adds `cpu="total"` after `container` (cAdvisor's label order for the usage counter). */
function withCpu(labels: Labels): Labels {
  return [labels[0], ['cpu', 'total'], ...labels.slice(1)];
}

function withLabel(labels: Labels, name: string, value: string): Labels {
  return [...labels, [name, value] as [string, string]].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

interface CgroupFigures {
  labels: Labels;
  cpuSeconds: number;
  cpuCores: number;
  workingSet: number;
  startedAt: number;
  memoryLimit?: number;
  cpuLimit?: number;
  cpuRequest?: number;
  memoryRequest?: number;
  oomEvents: number;
  threads: number;
  throttled: boolean;
}

/** `/metrics/cadvisor`. */
export function cadvisorMetrics(node: SimulatedNode, now: number): string {
  const b = new FamilyBuilder();
  const rows: CgroupFigures[] = [];
  const networkRows: Array<{ labels: Labels; cpuSeconds: number; uptime: number }> = [];
  for (const pod of node.pods.values()) {
    const containers = running(pod);
    if (!containers.length) continue;
    const slice = qosSlice(pod);
    const podLabels = cadvisorLabels('', slice, '', '', pod.namespace, pod.name);
    let podCpu = 0;
    let podCores = 0;
    let podMemory = 0;
    let podThreads = 0;
    let oom = 0;
    for (const c of containers) {
      const t = (now - c.current!.startedAt) / 1000;
      const figures: CgroupFigures = {
        labels: cadvisorLabels(c.name, `${slice}/cri-containerd-${c.current!.id}.scope`, c.runtimeImage ?? c.image, c.current!.id, pod.namespace, pod.name),
        cpuSeconds: cpuSeconds(c.profile, t),
        cpuCores: cpuAt(c.profile, t),
        workingSet: memoryAt(c.profile, t),
        startedAt: c.current!.startedAt,
        memoryLimit: c.profile.memoryLimit,
        cpuLimit: c.profile.cpuLimit,
        oomEvents: 0,
        threads: 4 + (parseInt(c.current!.id.slice(0, 2), 16) % 40),
        throttled: c.profile.throttled,
      };
      rows.push(figures);
      podCpu += figures.cpuSeconds;
      podCores += figures.cpuCores;
      podMemory += figures.workingSet;
      podThreads += figures.threads;
      oom += c.oomKills;
    }
    const start = Math.min(...containers.map((c) => c.current!.startedAt), pod.startTime);
    rows.push({ labels: podLabels, cpuSeconds: podCpu, cpuCores: podCores, workingSet: podMemory, startedAt: start, oomEvents: oom, threads: podThreads, throttled: false });
    networkRows.push({ labels: cadvisorLabels('', `${slice}/cri-containerd-${sandboxId(pod)}.scope`, PAUSE_IMAGE, sandboxId(pod), pod.namespace, pod.name), cpuSeconds: podCpu, uptime: (now - pod.startTime) / 1000 });
  }
  const nodeCpu = node.cpuSecondsTotal(now);
  const nodeMemory = node.memoryWorkingSet(now);
  const root: CgroupFigures = {
    labels: cadvisorLabels('', '/', '', '', '', ''),
    cpuSeconds: nodeCpu,
    cpuCores: node.overhead.cpuCores,
    workingSet: nodeMemory,
    startedAt: node.bootTime,
    oomEvents: 0,
    threads: 300,
    throttled: false,
  };
  rows.unshift(root);
  const ts = now;
  const add = (name: string, type: MetricType, help: string, labels: Labels, value: number, stamp = true) => b.add(name, type, help, labels, value, stamp ? ts : undefined);

  add(
    'cadvisor_version_info',
    'gauge',
    "A metric with a constant '1' value labeled by kernel version, OS version, docker version, cadvisor version & cadvisor revision.",
    [
      ['cadvisorRevision', ''],
      ['cadvisorVersion', ''],
      ['dockerVersion', ''],
      ['kernelVersion', '6.1.0-canopy-amd64'],
      ['osVersion', 'Debian GNU/Linux 12 (bookworm)'],
    ],
    1,
    false,
  );
  for (const r of rows) {
    const uptime = Math.max(0, (now - r.startedAt) / 1000);
    const memory = memoryBreakdown(r.workingSet);
    add('container_cpu_load_average_10s', 'gauge', 'Value of container cpu load average over the last 10 seconds.', r.labels, 0);
    add('container_cpu_system_seconds_total', 'counter', 'Cumulative system cpu time consumed in seconds.', r.labels, round(r.cpuSeconds * 0.3));
    add('container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed in seconds.', withCpu(r.labels), round(r.cpuSeconds));
    add('container_cpu_user_seconds_total', 'counter', 'Cumulative user cpu time consumed in seconds.', r.labels, round(r.cpuSeconds * 0.7));
    if (r.cpuLimit !== undefined) {
      const periods = Math.floor((uptime * 1_000_000) / CFS_PERIOD_US);
      const throttledPeriods = r.throttled ? Math.floor(periods * 0.4) : Math.floor(periods * 0.002);
      add('container_cpu_cfs_periods_total', 'counter', 'Number of elapsed enforcement period intervals.', r.labels, periods);
      add('container_cpu_cfs_throttled_periods_total', 'counter', 'Number of throttled period intervals.', r.labels, throttledPeriods);
      add('container_cpu_cfs_throttled_seconds_total', 'counter', 'Total time duration the container has been throttled.', r.labels, round(throttledPeriods * 0.02));
    }
    add('container_file_descriptors', 'gauge', 'Number of open file descriptors for the container.', r.labels, r.labels[0][1] ? 10 + (r.threads % 30) : 0);
    add('container_fs_reads_bytes_total', 'counter', 'Cumulative count of bytes read', withLabel(r.labels, 'device', '/dev/vda'), Math.floor(4096 * (40 + uptime * 0.5)));
    add('container_fs_writes_bytes_total', 'counter', 'Cumulative count of bytes written', withLabel(r.labels, 'device', '/dev/vda'), Math.floor(4096 * (10 + uptime * 2)));
    add('container_last_seen', 'gauge', 'Last time a container was seen by the exporter', r.labels, Math.floor(now / 1000));
    add('container_memory_cache', 'gauge', 'Number of bytes of page cache memory.', r.labels, memory.cache);
    add('container_memory_failcnt', 'counter', 'Number of memory usage hits limits', r.labels, 0);
    add('container_memory_mapped_file', 'gauge', 'Size of memory mapped files in bytes.', r.labels, memory.mappedFile);
    add('container_memory_max_usage_bytes', 'gauge', 'Maximum memory usage recorded in bytes', r.labels, Math.floor((memory.usage * 1.1) / 4096) * 4096);
    add('container_memory_rss', 'gauge', 'Size of RSS in bytes.', r.labels, memory.rss);
    add('container_memory_swap', 'gauge', 'Container swap usage in bytes.', r.labels, 0);
    add('container_memory_usage_bytes', 'gauge', 'Current memory usage in bytes, including all memory regardless of when it was accessed', r.labels, memory.usage);
    add('container_memory_working_set_bytes', 'gauge', 'Current working set in bytes.', r.labels, r.workingSet);
    add('container_oom_events_total', 'counter', 'Count of out of memory events observed for the container', r.labels, r.oomEvents);
    add('container_processes', 'gauge', 'Number of processes running inside the container.', r.labels, r.labels[0][1] ? 1 + (r.threads % 3) : 0);
    add('container_sockets', 'gauge', 'Number of open sockets for the container.', r.labels, r.labels[0][1] ? r.threads % 7 : 0);
    add('container_spec_cpu_period', 'gauge', 'CPU period of the container.', r.labels, CFS_PERIOD_US);
    if (r.cpuLimit !== undefined) add('container_spec_cpu_quota', 'gauge', 'CPU quota of the container.', r.labels, Math.round(r.cpuLimit * CFS_PERIOD_US));
    add('container_spec_cpu_shares', 'gauge', 'CPU share of the container.', r.labels, r.labels[0][1] ? 2 : 1024);
    add('container_spec_memory_limit_bytes', 'gauge', 'Memory limit for the container.', r.labels, r.memoryLimit ?? 0);
    add('container_spec_memory_reservation_limit_bytes', 'gauge', 'Memory reservation limit for the container.', r.labels, 0);
    add('container_spec_memory_swap_limit_bytes', 'gauge', 'Memory swap limit for the container.', r.labels, r.memoryLimit ?? 0);
    add('container_start_time_seconds', 'gauge', 'Start time of the container since unix epoch in seconds.', r.labels, Math.floor(r.startedAt / 1000));
    add('container_threads', 'gauge', 'Number of threads running inside the container', r.labels, r.threads);
    add('container_threads_max', 'gauge', 'Maximum number of threads allowed inside the container, infinity if value is zero', r.labels, r.labels[0][1] ? 0 : 4_194_304);
  }
  const network = [...networkRows, { labels: root.labels, cpuSeconds: nodeCpu, uptime: (now - node.bootTime) / 1000 }];
  for (const n of network) {
    const labels = withLabel(n.labels, 'interface', 'eth0');
    // Traffic follows work: a few hundred KiB per CPU-second on top of a trickle.
    const rx = Math.floor(n.cpuSeconds * 350_000 + n.uptime * 300);
    const tx = Math.floor(n.cpuSeconds * 500_000 + n.uptime * 200);
    add('container_network_receive_bytes_total', 'counter', 'Cumulative count of bytes received', labels, rx);
    add('container_network_receive_errors_total', 'counter', 'Cumulative count of errors encountered while receiving', labels, 0);
    add('container_network_receive_packets_dropped_total', 'counter', 'Cumulative count of packets dropped while receiving', labels, 0);
    add('container_network_receive_packets_total', 'counter', 'Cumulative count of packets received', labels, Math.floor(rx / 700));
    add('container_network_transmit_bytes_total', 'counter', 'Cumulative count of bytes transmitted', labels, tx);
    add('container_network_transmit_errors_total', 'counter', 'Cumulative count of errors encountered while transmitting', labels, 0);
    add('container_network_transmit_packets_dropped_total', 'counter', 'Cumulative count of packets dropped while transmitting', labels, 0);
    add('container_network_transmit_packets_total', 'counter', 'Cumulative count of packets transmitted', labels, Math.floor(tx / 900));
  }
  add('container_scrape_error', 'gauge', '1 if there was an error while getting container metrics, 0 otherwise', [], 0, false);
  add('machine_cpu_cores', 'gauge', 'Number of logical CPU cores.', [], node.capacity.cpu, false);
  add('machine_cpu_physical_cores', 'gauge', 'Number of physical CPU cores.', [], Math.max(1, node.capacity.cpu / 2), false);
  add('machine_cpu_sockets', 'gauge', 'Number of CPU sockets.', [], 1, false);
  add('machine_memory_bytes', 'gauge', 'Amount of memory installed on the machine.', [], node.capacity.memory, false);
  add('machine_scrape_error', 'gauge', '1 if there was an error while getting machine metrics, 0 otherwise.', [], 0, false);
  return sorted(b).render();
}

/** `/metrics/resource` (what metrics-server scrapes). */
export function resourceMetrics(node: SimulatedNode, now: number): string {
  const b = new FamilyBuilder();
  const ts = now;
  for (const pod of node.pods.values()) {
    const containers = running(pod);
    if (!containers.length) continue;
    let podCpu = 0;
    let podMemory = 0;
    for (const c of containers) {
      const t = (now - c.current!.startedAt) / 1000;
      const labels: Labels = [
        ['container', c.name],
        ['namespace', pod.namespace],
        ['pod', pod.name],
      ];
      const cpu = cpuSeconds(c.profile, t);
      const memory = memoryAt(c.profile, t);
      podCpu += cpu;
      podMemory += memory;
      b.add('container_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the container in core-seconds', labels, round(cpu), ts);
      b.add('container_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the container in bytes', labels, memory, ts);
      b.add('container_start_time_seconds', 'gauge', '[STABLE] Start time of the container since unix epoch in seconds', labels, c.current!.startedAt / 1000, ts);
      b.add('container_swap_usage_bytes', 'gauge', '[ALPHA] Current amount of the container swap usage in bytes. Reported only on non-windows systems', labels, 0, ts);
    }
    const labels: Labels = [
      ['namespace', pod.namespace],
      ['pod', pod.name],
    ];
    b.add('pod_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the pod in core-seconds', labels, round(podCpu), ts);
    b.add('pod_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the pod in bytes', labels, podMemory, ts);
    b.add('pod_swap_usage_bytes', 'gauge', '[ALPHA] Current amount of the pod swap usage in bytes. Reported only on non-windows systems', labels, 0, ts);
  }
  b.add('node_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the node in core-seconds', [], round(node.cpuSecondsTotal(now)), ts);
  b.add('node_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the node in bytes', [], node.memoryWorkingSet(now), ts);
  b.add('node_swap_usage_bytes', 'gauge', '[ALPHA] Current swap usage of the node in bytes. Reported only on non-windows systems', [], 0, ts);
  b.add('resource_scrape_error', 'gauge', '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise', [], 0);
  return sorted(b).render();
}

/** `/metrics` (the kubelet's own metrics, a plausible subset). */
export function kubeletMetrics(node: SimulatedNode, now: number, build: BuildInfo): string {
  const b = new FamilyBuilder();
  b.add(
    'kubernetes_build_info',
    'gauge',
    '[ALPHA] A metric with a constant \'1\' value labeled by major, minor, git version, git commit, git tree state, build date, Go version, and compiler from which Kubernetes was built, and platform on which it is running.',
    [
      ['build_date', build.buildDate],
      ['compiler', build.compiler],
      ['git_commit', build.gitCommit],
      ['git_tree_state', build.gitTreeState],
      ['git_version', build.gitVersion],
      ['go_version', build.goVersion],
      ['major', build.major],
      ['minor', build.minor],
      ['platform', build.platform],
    ],
    1,
  );
  b.add('kubelet_node_name', 'gauge', "[ALPHA] The node's name. The count is always 1.", [['node', node.name]], 1);
  let pods = 0;
  const states = { created: 0, exited: 0, running: 0, unknown: 0 };
  for (const pod of node.pods.values()) {
    if (pod.sandboxReady) pods++;
    for (const c of pod.allContainers) {
      if (c.state === 'running') states.running++;
      else if (c.current) states.exited++;
      else if (c.starting) states.created++;
    }
  }
  b.add('kubelet_running_pods', 'gauge', '[ALPHA] Number of pods that have a running pod sandbox', [], pods);
  for (const [state, count] of Object.entries(states)) b.add('kubelet_running_containers', 'gauge', '[ALPHA] Number of containers currently running', [['container_state', state]], count);
  b.add('kubelet_started_pods_total', 'counter', '[ALPHA] Cumulative number of pods started', [], node.startedPods);
  for (const [type, count] of Object.entries(node.startedContainers)) b.add('kubelet_started_containers_total', 'counter', '[ALPHA] Cumulative number of containers started', [['container_type', type]], count);
  const h = node.podStartHistogram;
  const family = b.family('kubelet_pod_start_sli_duration_seconds', 'histogram', '[BETA] Duration in seconds to start a pod, excluding time to pull images and run init containers, measured from pod creation timestamp to when all its containers are reported as started and observed via watch');
  POD_START_BUCKETS.forEach((le, i) => family.samples.push({ suffix: '_bucket', labels: [['le', goFloat(le)]], value: h.buckets[i] }));
  family.samples.push({ suffix: '_bucket', labels: [['le', '+Inf']], value: h.count });
  family.samples.push({ suffix: '_sum', labels: [], value: h.sum });
  family.samples.push({ suffix: '_count', labels: [], value: h.count });
  b.add('kubelet_node_startup_duration_seconds', 'gauge', '[ALPHA] Duration in seconds of node startup in total.', [], 1.2);
  b.add('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.', [], node.bootTime / 1000);
  b.add('kubelet_http_requests_total', 'counter', '[ALPHA] Number of the http requests received since the server started', [['long_running', 'false'], ['method', 'GET'], ['path', 'metrics'], ['server_type', 'readwrite']], Math.floor((now - node.bootTime) / 15_000));
  return sorted(b, ['kubelet_pod_start_sli_duration_seconds']).render();
}

function sorted(builder: FamilyBuilder, keepOrder: string[] = []): FamilyBuilder {
  builder.sort(keepOrder);
  return builder;
}

function round(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

/** `/pods`: the kubelet's view of its pods (with the status it would report now). */
export function podList(node: SimulatedNode): string {
  const items = [...node.pods.values()].map((p) => ({ ...p.pod, apiVersion: 'v1', kind: 'Pod', status: { ...((p.pod.status as object | undefined) ?? {}), ...p.status() } }));
  return JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items });
}

export function kubeletResponse(status: number, body: string, contentType = 'text/plain; charset=utf-8'): KubeletResponse {
  return { status, headers: { 'content-type': contentType }, body };
}

export { PROMETHEUS_CONTENT_TYPE };
