/**
 * The simulator: N simulated nodes (like KWOK) that talk to the API server only through the
 * Kubernetes API, plus the kubelet-side interfaces the API server calls in all-in-one mode
 * (`NodeConnector` for logs, exec, attach, port-forward and node proxies; `MetricsProvider` for
 * metrics.k8s.io).
 *
 * One shared informer watches every pod (no per-node watches, no field selectors), so 1,000
 * nodes cost one watch; pods bound to a simulated node get a `PodRuntime`. Status writes go
 * through one work queue keyed by pod: changes made in the same moment coalesce into one
 * strategic-merge patch of `pods/status`, and a write whose content the server already has is
 * skipped. Every delay goes through the injected clock.
 *
 * Identity: with an in-process transport each node acts as `system:node:<name>` (group
 * `system:nodes`, bound to the `system:node` role by the all-in-one stand-in for the Node
 * authorizer); the shared pod watch acts as `system:node:canopy-simulator` in the same group.
 * Over another transport everything acts as the transport's own identity.
 */
import { Quantity, StatusError, errors, quantityFromValue, type KubeObject } from '@canopy/apimachinery';
import {
  Informer,
  KubeClient,
  WorkQueue,
  isNotFound,
  realClock,
  rfc3339,
  types,
  type Clock,
  type InProcessTransport,
  type InProcessUser,
  type TimerHandle,
  type Transport,
} from '@canopy/client';
import type {
  ContainerIO,
  ContainerTarget,
  ExecRequest,
  ExitStatus,
  KubeletResponse,
  LogRequest,
  MetricsProvider,
  NodeConnector,
  NodeMetrics,
  PodMetrics,
} from '@canopy/kube-apiserver';
import { Writable, type Duplex } from 'node:stream';
import { shellHost, type NodeFacts, type TokenSource } from './container-env.js';
import { cadvisorMetrics, kubeletMetrics, kubeletResponse, podList, resourceMetrics, type BuildInfo } from './kubelet-endpoints.js';
import { InstanceLog, serveLog } from './logs.js';
import { SimulatedNode, type NodeCapacity } from './node-runtime.js';
import { DEFAULT_TIMINGS, PodRuntime, type ContainerInstance, type ContainerRuntime, type KubeletTimings } from './pod-runtime.js';
import { connectionRefused, portOwner, serveHttp } from './port-forward.js';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus.js';
import { hexId } from './random.js';
import { Shell, type ShellHost } from './shell.js';
import { cpuRate, memoryAt } from './usage.js';

type Obj = Record<string, unknown>;

const GiB = 1024 * 1024 * 1024;
/** The window metrics-server reports (its default resolution). */
const METRICS_WINDOW_S = 15;
const WATCH_IDENTITY = 'canopy-simulator';
/** On a Node: `"true"` cuts the simulated node off (pauseNode); removing it reconnects the node. */
export const NODE_PAUSED_ANNOTATION = 'simulator.canopy.io/paused';

export interface SimulatorOptions {
  /** How to reach the API server (in-process transports let each node act as itself). */
  transport?: Transport;
  /** Alternatively, a client; its transport is used. */
  client?: KubeClient;
  /** Nodes created at start (default 3), named `<namePrefix>-1..N`. */
  nodes?: number;
  /** Node name prefix (default `canopy-node`). */
  namePrefix?: string;
  clock?: Clock;
  /** Seed of every invented figure (usage noise, log lines, IDs); default `canopy`. */
  seed?: string | number;
  /** Kubelet delays (pod sandbox, image pulls, container start, init and Job durations, shutdown). */
  timings?: Partial<KubeletTimings>;
  /** Per-node capacity (default 8 CPUs, 32 GiB, 110 pods, 100 GiB ephemeral storage). */
  capacity?: Partial<NodeCapacity>;
  /** Region of the nodes' zones (default `canopy-1`; zones `canopy-1a`, `-1b`, `-1c`). */
  region?: string;
  instanceType?: string;
  leaseDurationSeconds?: number;
  leaseRenewIntervalMs?: number;
  /**
   * How often a node posts its status when nothing changed (default 5 min: the kubelet's
   * nodeStatusReportFrequency, since Lease renewals are the heartbeat); a change (new image,
   * pressure) is posted at the next Lease renewal.
   */
  statusUpdateIntervalMs?: number;
  /** Write kubelet events (default true). */
  events?: boolean;
  /** Concurrent pod status writes (default 16). */
  statusWorkers?: number;
  log?: (message: string) => void;
}

function nodeUser(name: string): InProcessUser {
  return { name: `system:node:${name}`, groups: ['system:nodes', 'system:authenticated'] };
}

export class Simulator implements NodeConnector, MetricsProvider {
  private readonly transport: Transport;
  private readonly base: KubeClient;
  private readonly clock: Clock;
  private readonly seed: string;
  private readonly prefix: string;
  private readonly timings: KubeletTimings;
  private readonly capacity: NodeCapacity;
  private readonly log: (message: string) => void;
  private readonly nodes = new Map<string, SimulatedNode>();
  /** Pod runtimes by pod uid. */
  private readonly runtimes = new Map<string, PodRuntime>();
  private readonly runtimeNode = new Map<string, SimulatedNode>();
  private informer?: Informer;
  /** Watches the simulated Nodes for the `simulator.canopy.io/paused` annotation. */
  private nodeInformer?: Informer;
  /** Nodes paused by their annotation (resumed when it goes); nodes paused through pauseNode stay paused. */
  private readonly pausedByAnnotation = new Set<string>();
  private queue?: WorkQueue<string>;
  private workers?: Promise<void>;
  private build: BuildInfo = {
    gitVersion: 'v1.34.0',
    gitCommit: '',
    gitTreeState: 'clean',
    buildDate: '',
    goVersion: '',
    compiler: 'gc',
    platform: 'linux/amd64',
    major: '1',
    minor: '34',
  };
  private nextIndex = 1;
  private started = false;
  private readonly listeners = new Map<ContainerInstance, Set<() => void>>();
  private readonly logCache = new Map<string, InstanceLog>();
  private readonly scriptCache = new Map<string, Promise<Array<{ offsetMs: number; text: string }> | undefined>>();
  private readonly tokenCache = new Map<string, { token: string; refreshAt: number }>();

  constructor(private readonly options: SimulatorOptions = {}) {
    const transport = options.transport ?? options.client?.transport;
    if (!transport) throw new Error('Simulator needs a transport or a client');
    this.transport = transport;
    this.base = new KubeClient(transport, { userAgent: 'canopy-simulator' });
    this.clock = options.clock ?? realClock;
    this.seed = String(options.seed ?? 'canopy');
    this.prefix = options.namePrefix ?? 'canopy-node';
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
    this.capacity = { cpu: 8, memory: 32 * GiB, pods: 110, ephemeralStorage: 100 * GiB, ...options.capacity };
    this.log = options.log ?? (() => {});
  }

  /** A client acting as `user` when the transport can switch identity, else the transport's own. */
  private clientAs(user: InProcessUser, userAgent: string): KubeClient {
    const t = this.transport as Partial<InProcessTransport>;
    const transport = typeof t.as === 'function' ? t.as(user) : this.transport;
    return new KubeClient(transport, { userAgent });
  }

  private get userAgent(): string {
    return `kubelet/${this.build.gitVersion} (linux/amd64) kubernetes/${this.build.gitCommit.slice(0, 7) || 'canopy'}`;
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  /** Registers the nodes, starts their heartbeats and the shared pod watch. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    try {
      const version = await this.base.request<Partial<BuildInfo>>({ method: 'GET', path: '/version' });
      this.build = { ...this.build, ...version };
    } catch (err) {
      this.log(`simulator: could not read /version (${(err as Error).message}); reporting ${this.build.gitVersion}`);
    }
    this.queue = new WorkQueue<string>({ clock: this.clock, name: 'pod-status', log: this.log, baseDelayMs: 50, maxDelayMs: 10_000 });
    this.workers = this.queue.run((uid) => this.syncStatus(uid), this.options.statusWorkers ?? 16);
    const watcher = this.clientAs(nodeUser(WATCH_IDENTITY), this.userAgent);
    // The cache holds every pod of the cluster: managedFields (40 % of a pod) are dropped.
    this.informer = new Informer(watcher, types.pods, { clock: this.clock, log: this.log, transform: withoutManagedFields });
    this.informer.addIndex('nodeName', (p) => {
      const node = (p.spec as Obj | undefined)?.nodeName;
      return typeof node === 'string' && node ? [node] : [];
    });
    this.informer.addHandler({
      onAdd: (pod) => this.handlePod(pod),
      onUpdate: (_old, pod) => this.handlePod(pod),
      onDelete: (pod) => this.forgetPod(pod),
    });
    const count = this.options.nodes ?? 3;
    const names = Array.from({ length: count }, (_, i) => `${this.prefix}-${i + 1}`);
    await this.registerNodes(names);
    await this.informer.start();
    // A Node annotated `simulator.canopy.io/paused: "true"` is cut off as pauseNode does, so a
    // running `canopy server` can stop one node's heartbeats through the API (kubectl annotate).
    this.nodeInformer = new Informer(watcher, types.nodes, { clock: this.clock, log: this.log, transform: withoutManagedFields });
    this.nodeInformer.addHandler({
      onAdd: (node) => this.followPauseAnnotation(node),
      onUpdate: (_old, node) => this.followPauseAnnotation(node),
    });
    await this.nodeInformer.start();
  }

  private followPauseAnnotation(object: KubeObject): void {
    const name = object.metadata.name ?? '';
    const node = this.nodes.get(name);
    if (!node) return;
    const wanted = object.metadata.annotations?.[NODE_PAUSED_ANNOTATION] === 'true';
    if (wanted && !node.paused) {
      this.log(`simulator: node ${name} paused by its ${NODE_PAUSED_ANNOTATION} annotation`);
      this.pausedByAnnotation.add(name);
      this.pauseNode(name);
    } else if (!wanted && node.paused && this.pausedByAnnotation.delete(name)) {
      this.log(`simulator: node ${name} resumed (its ${NODE_PAUSED_ANNOTATION} annotation is gone)`);
      this.resumeNode(name).catch((err: unknown) => this.log(`simulator: resuming node ${name} failed: ${(err as Error).message}`));
    }
  }

  private async registerNodes(names: string[]): Promise<void> {
    // Register in small batches: 1,000 nodes should not open 1,000 requests at once.
    const batch = 16;
    const interval = this.options.leaseRenewIntervalMs ?? 10_000;
    for (let i = 0; i < names.length; i += batch) {
      await Promise.all(
        names.slice(i, i + batch).map(async (name) => {
          const node = this.createNode(name);
          await node.register();
          // Spread heartbeats over the renewal interval.
          node.startHeartbeats(Math.floor((node.index * 7919) % interval) || interval);
        }),
      );
    }
    if (this.informer?.hasSynced) for (const name of names) this.resyncNode(name);
  }

  private createNode(name: string): SimulatedNode {
    const match = new RegExp(`^${this.prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`).exec(name);
    const index = match ? Number(match[1]) : this.nextIndex;
    this.nextIndex = Math.max(this.nextIndex, index + 1);
    const node = new SimulatedNode({
      name,
      index,
      client: this.clientAs(nodeUser(name), this.userAgent),
      clock: this.clock,
      seed: this.seed,
      timings: this.timings,
      capacity: this.capacity,
      kubeletVersion: this.build.gitVersion,
      region: this.options.region ?? 'canopy-1',
      instanceType: this.options.instanceType ?? `canopy.standard-${this.capacity.cpu}`,
      leaseDurationSeconds: this.options.leaseDurationSeconds ?? 40,
      leaseRenewIntervalMs: this.options.leaseRenewIntervalMs ?? 10_000,
      statusUpdateIntervalMs: this.options.statusUpdateIntervalMs ?? 300_000,
      events: this.options.events ?? true,
      log: this.log,
      changed: (pod) => this.queue?.add(pod.uid),
      activity: (instance) => this.notify(instance),
    });
    this.nodes.set(name, node);
    return node;
  }

  /** Stops heartbeats, pods and the watch. Nodes and pods stay in the API (as KWOK leaves them). */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const node of this.nodes.values()) node.shutdown();
    this.runtimes.clear();
    this.runtimeNode.clear();
    this.queue?.shutdown();
    await this.nodeInformer?.stop();
    await this.informer?.stop();
    await this.workers;
    for (const set of this.listeners.values()) for (const l of set) l();
    this.listeners.clear();
  }

  /** Names of the simulated nodes. */
  nodeNames(): string[] {
    return [...this.nodes.keys()];
  }

  /** Adds a node (named `<prefix>-<next index>` unless named) and returns its name. */
  async addNode(name?: string): Promise<string> {
    const nodeName = name ?? `${this.prefix}-${this.nextIndex}`;
    if (this.nodes.has(nodeName)) throw new Error(`node ${nodeName} is already simulated`);
    await this.registerNodes([nodeName]);
    return nodeName;
  }

  /**
   * Removes a node: its kubelet stops, its Lease and Node are deleted (with the simulator's own
   * identity: a kubelet may not delete its Node). Its pods are left to the pod garbage collector.
   */
  async removeNode(name: string): Promise<void> {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`node ${name} is not simulated`);
    for (const runtime of node.pods.values()) {
      this.runtimes.delete(runtime.uid);
      this.runtimeNode.delete(runtime.uid);
    }
    node.shutdown();
    this.nodes.delete(name);
    this.pausedByAnnotation.delete(name);
    await this.base.tryDelete(types.leases, name, { namespace: 'kube-node-lease' });
    await this.base.tryDelete(types.nodes, name);
  }

  /**
   * Cuts a node off (a network partition): heartbeats and status writes stop, so the node
   * lifecycle controller marks it NotReady and evicts its pods. Its containers keep running.
   */
  pauseNode(name: string): void {
    const node = this.requireNode(name);
    node.paused = true;
    node.stopHeartbeats();
  }

  /** Reconnects a paused node: heartbeat and status at once, then every pending pod change. */
  async resumeNode(name: string): Promise<void> {
    const node = this.requireNode(name);
    this.pausedByAnnotation.delete(name);
    if (!node.paused) return;
    node.paused = false;
    await node.postStatus();
    await node.renewLease();
    node.startHeartbeats(this.options.leaseRenewIntervalMs ?? 10_000);
    this.resyncNode(name);
  }

  isPaused(name: string): boolean {
    return this.requireNode(name).paused;
  }

  private requireNode(name: string): SimulatedNode {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`node ${name} is not simulated`);
    return node;
  }

  /** Resolves when no pod status write is queued or in flight. */
  async idle(): Promise<void> {
    await this.queue?.idle();
  }

  // ---- pods --------------------------------------------------------------------------------------

  private resyncNode(name: string): void {
    const node = this.nodes.get(name);
    if (!node || !this.informer) return;
    for (const pod of this.informer.byIndex('nodeName', name)) this.handlePod(pod);
    for (const runtime of node.pods.values()) this.queue?.add(runtime.uid);
  }

  private handlePod(pod: KubeObject): void {
    const nodeName = (pod.spec as Obj | undefined)?.nodeName;
    const uid = pod.metadata.uid ?? '';
    if (typeof nodeName !== 'string' || !uid) return;
    const node = this.nodes.get(nodeName);
    if (!node) return;
    const existing = this.runtimes.get(uid);
    if (node.paused) {
      // Partitioned: the kubelet sees nothing until it reconnects (resyncNode).
      return;
    }
    if (existing) {
      existing.update(pod);
      return;
    }
    const runtime = new PodRuntime(pod, node);
    this.runtimes.set(uid, runtime);
    this.runtimeNode.set(uid, node);
    node.pods.set(uid, runtime);
    const status = (pod.status ?? {}) as Obj;
    const ranBefore = typeof status.podIP === 'string' || Array.isArray(status.containerStatuses) || status.phase === 'Succeeded' || status.phase === 'Failed';
    if (ranBefore) {
      if (typeof status.podIP === 'string') node.claimIP(status.podIP);
      runtime.adopt();
    } else if (!pod.metadata.deletionTimestamp) {
      runtime.start();
    }
    if (pod.metadata.deletionTimestamp) runtime.terminate();
  }

  private forgetPod(pod: KubeObject): void {
    const uid = pod.metadata.uid ?? '';
    const runtime = this.runtimes.get(uid);
    if (!runtime) return;
    runtime.stop();
    this.runtimes.delete(uid);
    this.runtimeNode.get(uid)?.pods.delete(uid);
    this.runtimeNode.delete(uid);
    for (const c of runtime.allContainers) {
      for (const instance of [c.current, c.previous]) if (instance) this.notify(instance);
    }
  }

  /** The status worker: writes the pod's status if the server's differs, then deletes finished pods. */
  private async syncStatus(uid: string): Promise<void> {
    const runtime = this.runtimes.get(uid);
    const node = this.runtimeNode.get(uid);
    if (!runtime || !node || runtime.isStopped || node.paused) return;
    const stored = this.informer?.get(runtime.name, runtime.namespace);
    if (stored && stored.metadata.uid !== uid) return;
    const base = newer(stored, runtime.lastWrittenVersion, runtime.lastWrittenStatus);
    // Once the watch has caught up with our last write, the copy of it is no longer needed.
    if (base !== runtime.lastWrittenStatus) runtime.lastWrittenStatus = undefined;
    const desired = runtime.status();
    if (!sameOwnedStatus(desired, base)) {
      try {
        const written = await node.client.patch(types.pods, runtime.name, { status: statusPatch(desired, base) }, 'strategic', { namespace: runtime.namespace, subresource: 'status' });
        runtime.lastWrittenVersion = written.metadata.resourceVersion;
        runtime.lastWrittenStatus = (written.status ?? {}) as Obj;
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
    }
    if (runtime.finished && !deleting.has(runtime)) {
      deleting.add(runtime);
      try {
        await node.client.delete(types.pods, runtime.name, { namespace: runtime.namespace, gracePeriodSeconds: 0, preconditions: { uid } });
      } catch (err) {
        if (!(err instanceof StatusError && (err.code === 404 || err.code === 409))) {
          deleting.delete(runtime);
          throw err;
        }
      }
    }
  }

  // ---- logs and activity -------------------------------------------------------------------------

  private notify(instance: ContainerInstance): void {
    const set = this.listeners.get(instance);
    if (!set) return;
    for (const l of [...set]) l();
  }

  private onActivity(instance: ContainerInstance, listener: () => void): () => void {
    let set = this.listeners.get(instance);
    if (!set) this.listeners.set(instance, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (!set.size) this.listeners.delete(instance);
    };
  }

  private logOf(runtime: PodRuntime, container: ContainerRuntime, instance: ContainerInstance, script: Array<{ offsetMs: number; text: string }> | undefined): InstanceLog {
    let log = this.logCache.get(instance.id);
    if (!log) {
      const node = this.runtimeNode.get(runtime.uid);
      log = new InstanceLog({ seed: this.seed, pod: runtime.pod, container, podIP: runtime.podIP, hostIP: node?.hostIP ?? '', scriptOutput: script }, instance);
      if (this.logCache.size > 2000) this.logCache.clear();
      this.logCache.set(instance.id, log);
    }
    return log;
  }

  /**
   * What a container whose command is a shell script (`sh -c "echo …; sleep 3600"`) prints: the
   * script run once by the simulated shell on a virtual clock, so each line carries its time.
   */
  private scriptOutput(runtime: PodRuntime, container: ContainerRuntime, instance: ContainerInstance): Promise<Array<{ offsetMs: number; text: string }> | undefined> {
    const argv = [...(Array.isArray(container.spec.command) ? container.spec.command : []), ...(Array.isArray(container.spec.args) ? container.spec.args : [])].map(String);
    const base = (argv[0] ?? '').split('/').pop() ?? '';
    const c = argv.indexOf('-c');
    if (!['sh', 'bash', 'ash', 'dash'].includes(base) || c < 0 || argv[c + 1] === undefined) return Promise.resolve(undefined);
    let cached = this.scriptCache.get(instance.id);
    if (!cached) {
      cached = this.runScript(runtime, container, instance, argv[c + 1]).catch((err: unknown) => {
        this.log(`simulator: script output of ${runtime.key}/${container.name}: ${(err as Error).message}`);
        return undefined;
      });
      if (this.scriptCache.size > 2000) this.scriptCache.clear();
      this.scriptCache.set(instance.id, cached);
    }
    return cached;
  }

  private async runScript(runtime: PodRuntime, container: ContainerRuntime, instance: ContainerInstance, script: string): Promise<Array<{ offsetMs: number; text: string }>> {
    const node = this.runtimeNode.get(runtime.uid)!;
    const virtual = new VirtualClock(instance.startedAt);
    const host: ShellHost = await shellHost(node.client, virtual, runtime, container, this.facts(node), this.tokens, false, 'sh');
    const shell = new Shell(host);
    const lines: Array<{ offsetMs: number; text: string }> = [];
    let partial = '';
    const write = (text: string) => {
      partial += text;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0 && lines.length < 5000) {
        lines.push({ offsetMs: virtual.offset, text: partial.slice(0, nl) });
        partial = partial.slice(nl + 1);
      }
    };
    await shell.exec(['sh', '-c', script], { out: write, err: write }, new AbortController().signal);
    if (partial) lines.push({ offsetMs: virtual.offset, text: partial });
    return lines;
  }

  // ---- NodeConnector -----------------------------------------------------------------------------

  private locate(pod: KubeObject): { runtime: PodRuntime; node: SimulatedNode } {
    const nodeName = String((pod.spec as Obj | undefined)?.nodeName ?? '');
    const node = this.nodes.get(nodeName);
    if (!node || node.paused) throw unreachable(nodeName, node?.hostIP);
    const runtime = this.runtimes.get(pod.metadata.uid ?? '');
    if (!runtime) throw errors.notFound({ group: '', resource: 'pods' }, pod.metadata.name ?? '');
    return { runtime, node };
  }

  private containerOf(runtime: PodRuntime, name: string): ContainerRuntime {
    const container = runtime.container(name);
    if (!container) throw errors.badRequest(`container ${name} is not valid for pod ${runtime.name}`);
    return container;
  }

  private facts(node: SimulatedNode): NodeFacts {
    return { hostIP: node.hostIP, allocatableCpu: node.capacity.cpu, allocatableMemory: node.allocatableMemory, kernel: '6.1.0-canopy-amd64', machine: 'x86_64' };
  }

  private readonly tokens: TokenSource = {
    token: async (runtime, audience, expirationSeconds) => {
      const key = `${runtime.uid}|${audience ?? ''}|${expirationSeconds}`;
      const cached = this.tokenCache.get(key);
      if (cached && cached.refreshAt > this.clock.now()) return cached.token;
      const node = this.runtimeNode.get(runtime.uid);
      if (!node) throw new Error('the pod is no longer running');
      const account = String((runtime.pod.spec as Obj | undefined)?.serviceAccountName ?? 'default');
      const review = await node.client.createSubresource<{ status?: { token?: string } }>(
        types.serviceAccounts,
        account,
        'token',
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { audiences: audience ? [audience] : [], expirationSeconds, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: runtime.name, uid: runtime.uid } },
        },
        { namespace: runtime.namespace },
      );
      const token = review.status?.token ?? '';
      // The kubelet refreshes a projected token at 80 % of its lifetime.
      this.tokenCache.set(key, { token, refreshAt: this.clock.now() + expirationSeconds * 800 });
      if (this.tokenCache.size > 10_000) this.tokenCache.clear();
      return token;
    },
  };

  async logs(target: ContainerTarget, request: LogRequest, out: Writable, signal: AbortSignal): Promise<void> {
    const { runtime } = this.locate(target.pod);
    const container = this.containerOf(runtime, target.container);
    const instance = request.previous ? container.previous : container.current;
    const script = instance ? await this.scriptOutput(runtime, container, instance) : undefined;
    await serveLog(
      {
        clock: this.clock,
        runtime,
        container,
        logOf: (i) => this.logOf(runtime, container, i, i === instance ? script : undefined),
        onActivity: (i, l) => this.onActivity(i, l),
      },
      request,
      out,
      signal,
    );
  }

  async exec(target: ContainerTarget, request: ExecRequest, io: ContainerIO, signal: AbortSignal): Promise<ExitStatus> {
    const { runtime, node } = this.locate(target.pod);
    const container = this.containerOf(runtime, target.container);
    if (container.state !== 'running') throw errors.badRequest(`container ${container.name} is not running`);
    const argv = request.command;
    const program = argv[0] ?? '';
    const host = await shellHost(node.client, this.clock, runtime, container, this.facts(node), this.tokens, request.tty, program);
    const shell = new Shell(host);
    if (!shell.hasProgram(program)) {
      const execId = hexId(64, 'exec', runtime.uid, container.name, this.clock.now());
      return {
        exitCode: 127,
        message: `failed to exec in container: failed to start exec "${execId}": OCI runtime exec failed: exec failed: unable to start container process: exec: "${program}": executable file not found in $PATH: unknown`,
      };
    }
    return { exitCode: await this.runProcess(shell, argv, request, io, signal) };
  }

  private async runProcess(shell: Shell, argv: string[], request: ExecRequest, io: ContainerIO, signal: AbortSignal): Promise<number> {
    const program = (argv[0] ?? '').split('/').pop() ?? '';
    const isShell = ['sh', 'bash', 'ash', 'dash'].includes(program);
    const interactive = isShell && !argv.slice(1).some((a) => a === '-c' || !a.startsWith('-'));
    if (interactive) {
      shell.setName(program);
      if (!io.stdin) return 0;
      return shell.interactive(io.stdin, io.stdout, io.stderr, request.tty, signal, program);
    }
    const tty = request.tty;
    const writer = (stream: Writable | undefined) => (text: string) => {
      if (!stream || stream.destroyed || stream.writableEnded) return;
      stream.write(tty ? text.replace(/\r?\n/g, '\r\n') : text);
    };
    const out = writer(io.stdout);
    const err = io.stderr ? writer(io.stderr) : out;
    const stdin = io.stdin && readsStdin(argv) ? await readAll(io.stdin, signal) : undefined;
    return shell.exec(argv, { out, err }, signal, stdin);
  }

  async attach(target: ContainerTarget, request: ExecRequest, io: ContainerIO, signal: AbortSignal): Promise<ExitStatus> {
    const { runtime, node } = this.locate(target.pod);
    const container = this.containerOf(runtime, target.container);
    const instance = container.current;
    if (container.state !== 'running' || !instance) throw errors.badRequest(`container ${container.name} is not running`);
    // A container started with stdin whose main process is a shell: attach reaches the shell.
    if (container.spec.stdin === true && io.stdin) {
      const host = await shellHost(node.client, this.clock, runtime, container, this.facts(node), this.tokens, request.tty, 'sh');
      if (host.shells.length) {
        const shell = new Shell(host);
        return { exitCode: await shell.interactive(io.stdin, io.stdout, io.stderr, request.tty, signal, 'sh') };
      }
    }
    // Otherwise: the main process's output from now on, until it exits or the client detaches.
    const stdout = io.stdout;
    if (!stdout) {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      return { exitCode: 0 };
    }
    io.stdin?.resume();
    const script = await this.scriptOutput(runtime, container, instance);
    const tty = request.tty;
    const out = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        const text = chunk.toString('utf8');
        if (!stdout.destroyed && !stdout.writableEnded) stdout.write(tty ? text.replace(/\r?\n/g, '\r\n') : text, () => callback());
        else callback();
      },
    });
    await serveLog(
      { clock: this.clock, runtime, container, logOf: (i) => this.logOf(runtime, container, i, script), onActivity: (i, l) => this.onActivity(i, l) },
      { follow: true, previous: false, timestamps: false, sinceSeconds: undefined, tailLines: 0 },
      out,
      signal,
    );
    return { exitCode: instance.exitCode ?? 0 };
  }

  async portForward(pod: KubeObject, port: number, stream: Duplex): Promise<void> {
    const { runtime } = this.locate(pod);
    if (!runtime.sandboxReady) throw new Error(`pod ${runtime.name} is not running`);
    const owner = portOwner(runtime, port);
    if (!owner || owner.container.state !== 'running') throw connectionRefused(runtime, port);
    serveHttp(runtime, owner, stream, {
      now: () => this.clock.now(),
      log: (o, line) => {
        const instance = o.container.current;
        if (!instance) return;
        instance.events.push({ at: this.clock.now(), line });
        if (instance.events.length > 1000) instance.events.splice(0, instance.events.length - 1000);
        this.notify(instance);
      },
    });
  }

  async proxyNode(nodeObject: KubeObject, method: string, path: string, _query: URLSearchParams): Promise<KubeletResponse> {
    const name = nodeObject.metadata.name ?? '';
    const node = this.nodes.get(name);
    if (!node || node.paused) throw unreachable(name, node?.hostIP);
    if (method !== 'GET' && method !== 'HEAD') return kubeletResponse(405, 'Method Not Allowed\n');
    const now = this.clock.now();
    switch (path.replace(/\/+$/, '') || '/') {
      case '/healthz':
        return kubeletResponse(200, 'ok');
      case '/metrics/cadvisor':
        return kubeletResponse(200, cadvisorMetrics(node, now), PROMETHEUS_CONTENT_TYPE);
      case '/metrics/resource':
        return kubeletResponse(200, resourceMetrics(node, now), PROMETHEUS_CONTENT_TYPE);
      case '/metrics':
        return kubeletResponse(200, kubeletMetrics(node, now, this.build), PROMETHEUS_CONTENT_TYPE);
      case '/pods':
        return kubeletResponse(200, podList(node), 'application/json');
      default:
        return kubeletResponse(404, '404 page not found\n');
    }
  }

  // ---- MetricsProvider ---------------------------------------------------------------------------

  nodeMetrics(): NodeMetrics[] {
    const now = this.clock.now();
    const out: NodeMetrics[] = [];
    for (const node of this.nodes.values()) {
      if (node.paused) continue;
      const cores = (node.cpuSecondsTotal(now) - node.cpuSecondsTotal(now - METRICS_WINDOW_S * 1000)) / METRICS_WINDOW_S;
      out.push({
        apiVersion: 'metrics.k8s.io/v1beta1',
        kind: 'NodeMetrics',
        metadata: { name: node.name, labels: { ...(node.node?.metadata.labels ?? {}) }, creationTimestamp: rfc3339(now) },
        timestamp: rfc3339(now),
        window: `${METRICS_WINDOW_S}s`,
        usage: { cpu: cpuQuantity(cores), memory: memoryQuantity(node.memoryWorkingSet(now)) },
      });
    }
    return out;
  }

  podMetrics(namespace?: string): PodMetrics[] {
    const now = this.clock.now();
    const out: PodMetrics[] = [];
    for (const runtime of this.runtimes.values()) {
      if (namespace !== undefined && runtime.namespace !== namespace) continue;
      if (this.runtimeNode.get(runtime.uid)?.paused) continue;
      const containers = runtime.allContainers.filter((c) => c.state === 'running' && c.current);
      if (!containers.length) continue;
      out.push({
        apiVersion: 'metrics.k8s.io/v1beta1',
        kind: 'PodMetrics',
        metadata: { name: runtime.name, namespace: runtime.namespace, labels: { ...(runtime.pod.metadata.labels ?? {}) }, creationTimestamp: rfc3339(now) },
        timestamp: rfc3339(now),
        window: `${METRICS_WINDOW_S}s`,
        containers: containers.map((c) => {
          const t = (now - c.current!.startedAt) / 1000;
          return { name: c.name, usage: { cpu: cpuQuantity(cpuRate(c.profile, t, METRICS_WINDOW_S)), memory: memoryQuantity(memoryAt(c.profile, t)) } };
        }),
      });
    }
    return out;
  }
}

function withoutManagedFields(object: KubeObject): KubeObject {
  if (!object.metadata?.managedFields) return object;
  const { managedFields: _dropped, ...metadata } = object.metadata;
  return { ...object, metadata };
}

/** Pods whose deletion has been requested (one delete per pod). */
const deleting = new WeakSet<PodRuntime>();

/** metrics-server's CPU: nanocores, canonical (`12345678n`, `5m`). */
function cpuQuantity(cores: number): string {
  return new Quantity(BigInt(Math.max(0, Math.round(cores * 1e9))), 'DecimalSI').toString();
}

/** metrics-server's memory: whole KiB (`34052Ki`). */
function memoryQuantity(bytes: number): string {
  return quantityFromValue(Math.max(0, Math.floor(bytes / 1024)) * 1024, 'BinarySI').toString();
}

function unreachable(nodeName: string, hostIP?: string): StatusError {
  const address = hostIP ?? nodeName;
  return new StatusError(500, 'InternalError', `error dialing backend: dial tcp ${address}:10250: connect: no route to host`);
}

/** Commands that read their standard input when given no file. */
function readsStdin(argv: string[]): boolean {
  const program = (argv[0] ?? '').split('/').pop() ?? '';
  const files = argv.slice(1).filter((a) => !a.startsWith('-'));
  if (program === 'cat') return !files.length || files.includes('-');
  if (program === 'grep') return files.length <= 1;
  if (['head', 'tail', 'wc'].includes(program)) return !files.length;
  if (['sh', 'bash', 'ash', 'dash'].includes(program)) return !argv.includes('-c');
  return false;
}

function readAll(stream: NodeJS.ReadableStream, signal: AbortSignal): Promise<string> {
  return new Promise<string>((resolve) => {
    let text = '';
    const done = () => resolve(text);
    stream.on('data', (chunk: Buffer | string) => (text += chunk.toString()));
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

// ---- status comparison -----------------------------------------------------------------------------

/** The status fields the kubelet owns (the others belong to the scheduler, controllers, …). */
const OWNED_FIELDS = ['phase', 'reason', 'message', 'hostIP', 'hostIPs', 'podIP', 'podIPs', 'startTime', 'qosClass', 'containerStatuses', 'initContainerStatuses', 'observedGeneration'];

/** The status to compare with: the informer's copy, unless our own last write is newer. */
function newer(stored: KubeObject | undefined, writtenVersion: string | undefined, written: Obj | undefined): Obj {
  const storedStatus = (stored?.status ?? {}) as Obj;
  if (!written || !writtenVersion) return storedStatus;
  const rv = stored?.metadata.resourceVersion;
  if (!rv) return written;
  // resourceVersions are opaque; this server's are integers, which lets the writer skip echoes.
  if (/^\d+$/.test(rv) && /^\d+$/.test(writtenVersion)) return BigInt(rv) >= BigInt(writtenVersion) ? storedStatus : written;
  return storedStatus;
}

function sameOwnedStatus(desired: Obj, actual: Obj): boolean {
  for (const field of OWNED_FIELDS) if (!deepEqual(desired[field], actual[field])) return false;
  const conditions = Array.isArray(actual.conditions) ? (actual.conditions as Obj[]) : [];
  for (const c of desired.conditions as Obj[]) {
    const a = conditions.find((x) => x.type === c.type);
    if (!a) return false;
    for (const key of ['status', 'reason', 'message', 'lastTransitionTime']) if ((a[key] ?? undefined) !== (c[key] ?? undefined)) return false;
  }
  return true;
}

/** A strategic merge patch body: owned fields set (or removed with null), conditions merged by type. */
function statusPatch(desired: Obj, actual: Obj): Obj {
  const patch: Obj = {};
  for (const field of OWNED_FIELDS) {
    if (desired[field] !== undefined) patch[field] = desired[field];
    else if (actual[field] !== undefined) patch[field] = null;
  }
  patch.conditions = (desired.conditions as Obj[]).map((c) => ({ ...c, reason: c.reason ?? null, message: c.message ?? null }));
  return patch;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return (a ?? undefined) === (b ?? undefined);
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ao = a as Obj;
  const bo = b as Obj;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!deepEqual(ao[k], bo[k])) return false;
  return true;
}

/** A clock for running a container's script once: `sleep` advances it instead of waiting. */
class VirtualClock implements Clock {
  offset = 0;

  constructor(private readonly start: number) {}

  now(): number {
    return this.start + this.offset;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    this.offset += Math.max(0, ms);
    let cancelled = false;
    queueMicrotask(() => {
      if (!cancelled) fn();
    });
    return { cancel: () => (cancelled = true) };
  }
}
