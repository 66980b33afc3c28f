/**
 * One simulated node and its kubelet: registration (the Node object with capacity, labels,
 * addresses, nodeInfo and conditions), the Lease heartbeat in kube-node-lease (renewed every
 * 10 s), node status updates (every 60 s, or at the next heartbeat after a change), pod IPs from
 * the node's pod CIDR, the image cache, and the counters behind the kubelet's metrics. It acts as
 * `system:node:<name>` in group `system:nodes` when the transport can switch identity.
 */
import { StatusError, type KubeObject } from '@canopy/apimachinery';
import { EventRecorder, isConflict, isNotFound, rfc3339, types, type Clock, type KubeClient, type TimerHandle } from '@canopy/client';
import { imageSize } from './images.js';
import type { ContainerInstance, ContainerRuntime, KubeletHost, KubeletTimings, PodRuntime } from './pod-runtime.js';
import { hexId, uuidFrom } from './random.js';
import { cpuSeconds, memoryAt, nodeOverhead, type NodeOverhead } from './usage.js';

type Obj = Record<string, unknown>;

export const ZONES = ['a', 'b', 'c'];
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const KUBELET_PORT = 10250;
/** Nodes report at most this many images (kubelet's --node-status-max-images). */
const MAX_IMAGES = 50;
/** The kubelet's hard eviction threshold for memory.available. */
const EVICTION_MEMORY_BYTES = 100 * 1024 * 1024;
/** kubelet_pod_start_sli_duration_seconds buckets. */
export const POD_START_BUCKETS = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];

export interface NodeCapacity {
  cpu: number;
  /** Bytes. */
  memory: number;
  pods: number;
  /** Bytes. */
  ephemeralStorage: number;
}

export interface NodeSettings {
  name: string;
  index: number;
  client: KubeClient;
  clock: Clock;
  seed: string;
  timings: KubeletTimings;
  capacity: NodeCapacity;
  kubeletVersion: string;
  region: string;
  instanceType: string;
  leaseDurationSeconds: number;
  leaseRenewIntervalMs: number;
  statusUpdateIntervalMs: number;
  events: boolean;
  log: (message: string) => void;
  /** A pod's status may have changed. */
  changed(pod: PodRuntime): void;
  /** Wakes followers of an instance's log (new recorded lines, or its end). */
  activity(instance: ContainerInstance): void;
}

/**
 * `10.42.<n>.0/24` for node n (k3s' cluster CIDR). Beyond 255 nodes the CIDRs continue in
 * 10.44.x.0, 10.45.x.0, …: 10.43.0.0/16 is the service CIDR.
 */
export function podCidrFor(index: number): string {
  const block = Math.floor(index / 256);
  return `10.${42 + block + (block >= 1 ? 1 : 0)}.${index % 256}.0/24`;
}

function hostIPFor(index: number): string {
  return `10.0.${Math.floor(index / 250)}.${(index % 250) + 4}`;
}

export class SimulatedNode implements KubeletHost {
  readonly name: string;
  readonly index: number;
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly seed: string;
  readonly timings: KubeletTimings;
  readonly hostIP: string;
  readonly pods = new Map<string, PodRuntime>();
  readonly overhead: NodeOverhead;
  readonly bootTime: number;
  readonly zone: string;
  podCIDR: string;
  paused = false;
  node?: KubeObject;
  private lease?: KubeObject;
  private readonly recorder: EventRecorder;
  private readonly images = new Map<string, number>();
  private readonly ipsInUse = new Set<number>();
  private nextIp = 2;
  private leaseTimer?: TimerHandle;
  private statusTimer?: TimerHandle;
  private statusDirty = false;
  private stopped = false;
  private memoryPressure = false;
  /** CPU seconds of container instances that have ended (node counters keep counting them). */
  endedCpuSeconds = 0;
  startedPods = 0;
  readonly startedContainers = { container: 0, init_container: 0 };
  readonly podStartHistogram = { buckets: POD_START_BUCKETS.map(() => 0), sum: 0, count: 0 };

  constructor(private readonly settings: NodeSettings) {
    this.name = settings.name;
    this.index = settings.index;
    this.client = settings.client;
    this.clock = settings.clock;
    this.seed = settings.seed;
    this.timings = settings.timings;
    this.hostIP = hostIPFor(settings.index);
    this.podCIDR = podCidrFor(settings.index);
    this.overhead = nodeOverhead(settings.seed, settings.name);
    this.bootTime = settings.clock.now();
    this.zone = `${settings.region}${ZONES[(settings.index - 1 + ZONES.length) % ZONES.length]}`;
    this.recorder = new EventRecorder(settings.client, { component: 'kubelet', host: settings.name }, { clock: settings.clock, log: settings.log });
  }

  get capacity(): NodeCapacity {
    return this.settings.capacity;
  }

  /** Allocatable memory: capacity less the hard eviction threshold (kube's default reservation). */
  get allocatableMemory(): number {
    return this.capacity.memory - EVICTION_MEMORY_BYTES;
  }

  get nodeName(): string {
    return this.name;
  }

  get kubeletVersion(): string {
    return this.settings.kubeletVersion;
  }

  // ---- KubeletHost ---------------------------------------------------------------------------------

  event(pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string): void {
    if (this.settings.events && !this.paused) this.recorder.event(pod, type, reason, message, fieldPath);
  }

  nodeEvent(type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (!this.settings.events || this.paused) return;
    // The kubelet refers to its node by name, with the name as uid, in the default namespace.
    this.recorder.event({ apiVersion: 'v1', kind: 'Node', metadata: { name: this.name, uid: this.name, namespace: '' } }, type, reason, message);
  }

  changed(pod: PodRuntime): void {
    this.settings.changed(pod);
  }

  allocateIP(): string {
    const base = this.podCIDR.replace(/\.0\/24$/, '');
    for (let i = 0; i < 253; i++) {
      const candidate = ((this.nextIp - 2 + i) % 253) + 2;
      if (!this.ipsInUse.has(candidate)) {
        this.ipsInUse.add(candidate);
        this.nextIp = candidate + 1;
        return `${base}.${candidate}`;
      }
    }
    // More pods than addresses: kube would fail the sandbox; the simulator reuses the gateway's neighbour.
    return `${base}.254`;
  }

  releaseIP(ip: string): void {
    const last = Number(ip.split('.').pop());
    this.ipsInUse.delete(last);
  }

  /** An adopted pod keeps its IP. */
  claimIP(ip: string): void {
    if (ip.startsWith(this.podCIDR.replace(/0\/24$/, ''))) this.ipsInUse.add(Number(ip.split('.').pop()));
  }

  imagePresent(image: string): boolean {
    return this.images.has(image);
  }

  imagePulled(image: string): void {
    if (!this.images.has(image)) this.statusDirty = true;
    this.images.set(image, imageSize(image));
  }

  instanceEnded(pod: PodRuntime, container: ContainerRuntime, instance: ContainerInstance): void {
    const seconds = ((instance.finishedAt ?? this.clock.now()) - instance.startedAt) / 1000;
    this.endedCpuSeconds += cpuSeconds(container.profile, seconds);
    this.settings.activity(instance);
  }

  instanceStarted(_pod: PodRuntime, container: ContainerRuntime): void {
    this.startedContainers[container.init ? 'init_container' : 'container']++;
  }

  podRunning(pod: PodRuntime): void {
    this.startedPods++;
    const created = Date.parse(pod.pod.metadata.creationTimestamp ?? '');
    const seconds = Number.isNaN(created) ? 0 : Math.max(0, (this.clock.now() - created) / 1000);
    const h = this.podStartHistogram;
    POD_START_BUCKETS.forEach((le, i) => {
      if (seconds <= le) h.buckets[i]++;
    });
    h.sum += seconds;
    h.count++;
  }

  // ---- usage -------------------------------------------------------------------------------------

  /** Cumulative CPU seconds of the node (overhead, ended and running containers). */
  cpuSecondsTotal(now: number): number {
    let total = this.endedCpuSeconds + (this.overhead.cpuCores * (now - this.bootTime)) / 1000;
    for (const pod of this.pods.values()) {
      for (const c of pod.allContainers) {
        if (c.state === 'running' && c.current) total += cpuSeconds(c.profile, (now - c.current.startedAt) / 1000);
      }
    }
    return total;
  }

  memoryWorkingSet(now: number): number {
    let total = this.overhead.memoryBytes;
    for (const pod of this.pods.values()) {
      for (const c of pod.allContainers) if (c.state === 'running' && c.current) total += memoryAt(c.profile, (now - c.current.startedAt) / 1000);
    }
    return total;
  }

  // ---- registration and heartbeats -----------------------------------------------------------------

  private labels(): Record<string, string> {
    return {
      'beta.kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/hostname': this.name,
      'kubernetes.io/os': 'linux',
      'node.kubernetes.io/instance-type': this.settings.instanceType,
      'topology.kubernetes.io/region': this.settings.region,
      'topology.kubernetes.io/zone': this.zone,
    };
  }

  private quantities(): { capacity: Obj; allocatable: Obj } {
    const c = this.capacity;
    const ki = (bytes: number) => `${Math.floor(bytes / 1024)}Ki`;
    return {
      capacity: { cpu: String(c.cpu), 'ephemeral-storage': ki(c.ephemeralStorage), 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: ki(c.memory), pods: String(c.pods) },
      allocatable: {
        cpu: String(c.cpu),
        // The kubelet keeps 10 % of the node's file system for itself (nodefs.available eviction).
        'ephemeral-storage': String(Math.floor(c.ephemeralStorage * 0.9)),
        'hugepages-1Gi': '0',
        'hugepages-2Mi': '0',
        memory: ki(this.allocatableMemory),
        pods: String(c.pods),
      },
    };
  }

  private nodeInfo(): Obj {
    return {
      machineID: hexId(32, this.seed, this.name, 'machine'),
      systemUUID: uuidFrom(this.seed, this.name, 'system'),
      bootID: uuidFrom(this.seed, this.name, 'boot', this.bootTime),
      kernelVersion: '6.1.0-canopy-amd64',
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      containerRuntimeVersion: 'containerd://1.7.24',
      kubeletVersion: this.kubeletVersion,
      kubeProxyVersion: this.kubeletVersion,
      operatingSystem: 'linux',
      architecture: 'amd64',
    };
  }

  /** The conditions the kubelet posts, keeping transition times of unchanged conditions. */
  private conditions(previous: Obj[] | undefined): Obj[] {
    const now = rfc3339(this.clock.now());
    const memoryPressure = this.memoryPressure;
    const wanted: Array<[string, boolean, string, string]> = [
      ['MemoryPressure', memoryPressure, memoryPressure ? 'KubeletHasInsufficientMemory' : 'KubeletHasSufficientMemory', memoryPressure ? 'kubelet has insufficient memory available' : 'kubelet has sufficient memory available'],
      ['DiskPressure', false, 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
      ['PIDPressure', false, 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
      ['Ready', true, 'KubeletReady', 'kubelet is posting ready status'],
    ];
    return wanted.map(([type, on, reason, message]) => {
      const status = on ? 'True' : 'False';
      const old = previous?.find((c) => c.type === type);
      const lastTransitionTime = old && old.status === status && typeof old.lastTransitionTime === 'string' ? old.lastTransitionTime : now;
      return { type, status, lastHeartbeatTime: now, lastTransitionTime, reason, message };
    });
  }

  private imagesList(): Obj[] {
    return [...this.images.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, MAX_IMAGES)
      .map(([name, size]) => ({ names: [`${name.replace(/:[^:/@]+$/, '')}@sha256:${hexId(64, 'image', name)}`, name], sizeBytes: size }));
  }

  private statusBody(previous: Obj[] | undefined): Obj {
    return {
      ...this.quantities(),
      conditions: this.conditions(previous),
      addresses: [
        { type: 'InternalIP', address: this.hostIP },
        { type: 'Hostname', address: this.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_PORT } },
      nodeInfo: this.nodeInfo(),
      images: this.imagesList(),
    };
  }

  /** Creates the Node if absent (an existing one keeps its labels, taints and pod CIDR), then posts status. */
  async register(): Promise<void> {
    let node = await this.client.tryGet(types.nodes, this.name);
    const created = !node;
    if (!node) {
      try {
        node = await this.client.create(types.nodes, {
          metadata: {
            name: this.name,
            labels: this.labels(),
            annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
          },
          spec: { podCIDR: this.podCIDR, podCIDRs: [this.podCIDR], providerID: `canopy://${this.name}` },
        });
      } catch (err) {
        if (!(err instanceof StatusError && err.code === 409)) throw err;
        node = await this.client.get(types.nodes, this.name);
      }
    }
    const cidr = (node.spec as Obj | undefined)?.podCIDR;
    if (typeof cidr === 'string' && /^\d+\.\d+\.\d+\.0\/24$/.test(cidr)) this.podCIDR = cidr;
    this.node = node;
    await this.postStatus();
    await this.renewLease();
    if (created) {
      this.nodeEvent('Normal', 'Starting', 'Starting kubelet.');
      this.nodeEvent('Normal', 'NodeHasSufficientMemory', `Node ${this.name} status is now: NodeHasSufficientMemory`);
      this.nodeEvent('Normal', 'NodeHasNoDiskPressure', `Node ${this.name} status is now: NodeHasNoDiskPressure`);
      this.nodeEvent('Normal', 'NodeHasSufficientPID', `Node ${this.name} status is now: NodeHasSufficientPID`);
      this.nodeEvent('Normal', 'NodeAllocatableEnforced', 'Updated Node Allocatable limit across pods');
      this.nodeEvent('Normal', 'NodeReady', `Node ${this.name} status is now: NodeReady`);
    } else {
      this.nodeEvent('Normal', 'Starting', 'Starting kubelet.');
    }
  }

  /** Posts the node status (conditions with a fresh heartbeat). */
  async postStatus(): Promise<void> {
    const current = await this.client.tryGet(types.nodes, this.name);
    if (!current) {
      this.settings.log(`node ${this.name}: the Node object is gone; not posting status`);
      return;
    }
    const previous = ((current.status as Obj | undefined)?.conditions ?? []) as Obj[];
    const wasReady = previous.find((c) => c.type === 'Ready')?.status === 'True';
    this.node = await this.client.patch(types.nodes, this.name, { status: this.statusBody(previous) }, 'strategic', { subresource: 'status' });
    this.statusDirty = false;
    if (previous.length && !wasReady) this.nodeEvent('Normal', 'NodeReady', `Node ${this.name} status is now: NodeReady`);
  }

  /** Renews (or creates) the node's Lease. */
  async renewLease(): Promise<void> {
    const renewTime = microTime(this.clock.now());
    const spec = { holderIdentity: this.name, leaseDurationSeconds: this.settings.leaseDurationSeconds, renewTime };
    try {
      if (this.lease) {
        this.lease = await this.client.update(types.leases, { ...this.lease, spec: { ...(this.lease.spec as Obj), ...spec } });
        return;
      }
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
    const existing = await this.client.tryGet(types.leases, this.name, NODE_LEASE_NAMESPACE);
    if (existing) {
      this.lease = await this.client.update(types.leases, { ...existing, spec: { ...(existing.spec as Obj), ...spec } });
      return;
    }
    const owner = this.node?.metadata.uid ? [{ apiVersion: 'v1', kind: 'Node', name: this.name, uid: this.node.metadata.uid }] : undefined;
    this.lease = await this.client.create(types.leases, { metadata: { name: this.name, namespace: NODE_LEASE_NAMESPACE, ...(owner ? { ownerReferences: owner } : {}) }, spec });
  }

  /** Starts the heartbeat loops; the first renewal comes after `offsetMs` (spreads many nodes). */
  startHeartbeats(offsetMs: number): void {
    this.stopped = false;
    const leaseTick = () => {
      if (this.stopped || this.paused) return;
      this.updatePressure();
      const work = this.statusDirty ? this.postStatus().then(() => this.renewLease()) : this.renewLease();
      work.catch((err: unknown) => this.settings.log(`node ${this.name}: heartbeat failed: ${(err as Error).message}`));
      this.leaseTimer = this.clock.setTimeout(leaseTick, this.settings.leaseRenewIntervalMs);
    };
    const statusTick = () => {
      if (this.stopped || this.paused) return;
      this.postStatus().catch((err: unknown) => this.settings.log(`node ${this.name}: status update failed: ${(err as Error).message}`));
      this.statusTimer = this.clock.setTimeout(statusTick, this.settings.statusUpdateIntervalMs);
    };
    this.leaseTimer = this.clock.setTimeout(leaseTick, offsetMs);
    this.statusTimer = this.clock.setTimeout(statusTick, this.settings.statusUpdateIntervalMs + offsetMs);
  }

  private updatePressure(): void {
    const available = this.capacity.memory - this.memoryWorkingSet(this.clock.now());
    const pressure = available < EVICTION_MEMORY_BYTES;
    if (pressure !== this.memoryPressure) {
      this.memoryPressure = pressure;
      this.statusDirty = true;
      this.nodeEvent('Normal', pressure ? 'NodeHasInsufficientMemory' : 'NodeHasSufficientMemory', `Node ${this.name} status is now: ${pressure ? 'NodeHasInsufficientMemory' : 'NodeHasSufficientMemory'}`);
    }
  }

  stopHeartbeats(): void {
    this.stopped = true;
    this.leaseTimer?.cancel();
    this.statusTimer?.cancel();
  }

  /** Stops everything this node runs (simulator stop, node removal). */
  shutdown(): void {
    this.stopHeartbeats();
    for (const pod of this.pods.values()) pod.stop();
    this.pods.clear();
  }
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
