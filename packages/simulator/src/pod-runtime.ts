/**
 * One pod as a kubelet runs it, in stages as KWOK simulates them: admitted (Pending, startTime),
 * sandbox ready (pod IP, PodReadyToStartContainers), init containers in order (sidecars stay
 * running), image pulls and container starts (ContainerCreating → Running), readiness after the
 * readiness delay, exits chosen by annotations (crash, completion, OOM kill) with restarts per
 * restartPolicy and CrashLoopBackOff back-off, and graceful termination on deletion.
 *
 * The runtime holds state only; every delay goes through the clock, every change calls
 * `host.changed` (the status writer coalesces them), and `status()` computes the pod status the
 * kubelet would report from that state at any moment.
 */
import type { KubeObject } from '@canopy/apimachinery';
import { rfc3339, type Clock, type TimerHandle } from '@canopy/client';
import {
  Annotations,
  containerDuration,
  containerFlag,
  containerInteger,
} from './annotations.js';
import { imageId, imageSize, normalizeImage } from './images.js';
import { between, hexId } from './random.js';
import { usageProfile, type UsageProfile } from './usage.js';

type Obj = Record<string, unknown>;

/** Delays of the simulated kubelet, in clock milliseconds. */
export interface KubeletTimings {
  /** Creating the pod sandbox and its network (pod IP) after admission. */
  sandboxMs: number;
  /** An image pull takes a time in this range (per image, deterministic); cached images take none. */
  pullMs: [number, number];
  /** Creating and starting a container once its image is present. */
  startMs: number;
  /** How long an init container runs, unless annotated. */
  initDurationMs: number;
  /** How long a Job's pod runs before completing, unless annotated. */
  jobDurationMs: number;
  /** How long containers take to exit after SIGTERM, bounded by the grace period. */
  terminationMs: number;
}

export const DEFAULT_TIMINGS: KubeletTimings = {
  sandboxMs: 200,
  pullMs: [300, 1500],
  startMs: 150,
  initDurationMs: 1000,
  jobDurationMs: 2000,
  terminationMs: 1000,
};

/** Crash-loop and image-pull back-off: 10 s doubling to 5 min (kubelet's defaults). */
const BACKOFF_INITIAL_MS = 10_000;
const BACKOFF_MAX_MS = 300_000;
/** A container that ran this long before exiting starts its back-off afresh (kubelet: 2 × max). */
const BACKOFF_RESET_MS = 2 * BACKOFF_MAX_MS;
/** How long ErrImagePull shows before ImagePullBackOff. */
const IMAGE_PULL_ERROR_SHOW_MS = 1000;

/** What a pod runtime needs from its node's kubelet. */
export interface KubeletHost {
  readonly clock: Clock;
  readonly seed: string;
  readonly nodeName: string;
  readonly hostIP: string;
  readonly timings: KubeletTimings;
  event(pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string): void;
  nodeEvent(type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** The pod's status may have changed: write it (coalesced). */
  changed(pod: PodRuntime): void;
  allocateIP(pod: PodRuntime): string;
  releaseIP(ip: string): void;
  imagePresent(image: string): boolean;
  imagePulled(image: string): void;
  /** A container instance ended: the node keeps its CPU time in its own counters. */
  instanceEnded(pod: PodRuntime, container: ContainerRuntime, instance: ContainerInstance): void;
  /** A container instance started (kubelet counters). */
  instanceStarted(pod: PodRuntime, container: ContainerRuntime): void;
  /** Every regular container of the pod runs for the first time (pod start latency). */
  podRunning(pod: PodRuntime): void;
}

/** One run of a container (a container ID); a restart starts a new instance. */
export interface ContainerInstance {
  /** 64 hex digits; `containerd://<id>` in statuses. */
  id: string;
  /** 0 for the first run, then the restart count at which it started. */
  number: number;
  startedAt: number;
  finishedAt?: number;
  exitCode?: number;
  reason?: string;
  /** Lines the process wrote because something happened to it (requests served, shutdown). */
  events: Array<{ at: number; line: string }>;
}

export class ContainerRuntime {
  readonly init: boolean;
  /** An init container with restartPolicy Always (native sidecar). */
  readonly sidecar: boolean;
  spec: Obj;
  state: 'waiting' | 'running' | 'terminated' = 'waiting';
  waiting: { reason: string; message?: string } = { reason: 'ContainerCreating' };
  current?: ContainerInstance;
  previous?: ContainerInstance;
  restartCount = 0;
  ready = false;
  started = false;
  /** A start (pull, create) is under way. */
  starting = false;
  /** Waiting out a back-off before the next start. */
  backingOff = false;
  backoffIndex = 0;
  pullBackoffIndex = 0;
  /** OOM kills over the container's life (cAdvisor's container_oom_events_total of the pod). */
  oomKills = 0;
  /** The image present in the runtime for the current instance (normalised), once pulled. */
  runtimeImage?: string;
  readonly profile: UsageProfile;
  readonly timers = new Set<TimerHandle>();

  constructor(
    readonly name: string,
    spec: Obj,
    init: boolean,
    seed: string,
    pod: KubeObject,
  ) {
    this.spec = spec;
    this.init = init;
    this.sidecar = init && spec.restartPolicy === 'Always';
    this.profile = usageProfile(seed, pod, spec, init);
  }

  get image(): string {
    return String(this.spec.image ?? '');
  }

  get fieldPath(): string {
    return `spec.${this.init ? 'initContainers' : 'containers'}{${this.name}}`;
  }

  /** Ran to completion with exit 0 (init containers). */
  get succeeded(): boolean {
    return this.state === 'terminated' && this.current?.exitCode === 0;
  }

  cancelTimers(): void {
    for (const t of this.timers) t.cancel();
    this.timers.clear();
  }
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export class PodRuntime {
  pod: KubeObject;
  readonly uid: string;
  readonly key: string;
  readonly containers: ContainerRuntime[];
  readonly initContainers: ContainerRuntime[];
  startTime: number;
  podIP?: string;
  sandboxReady = false;
  /** Deletion seen: containers are being stopped. */
  terminating = false;
  /** Stopped after deletion: the status is final and the pod may be removed. */
  finished = false;
  /** The pod ended for good (terminal phase outside deletion). */
  private terminalPhase?: PodPhase;
  private terminalReason?: { reason: string; message: string };
  private stopped = false;
  private reportedRunning = false;
  private readonly timers = new Set<TimerHandle>();
  private readonly transitions = new Map<string, { status: string; at: string }>();
  /** resourceVersion of the last status this runtime wrote (the writer's bookkeeping). */
  lastWrittenVersion?: string;
  lastWrittenStatus?: Obj;

  constructor(
    pod: KubeObject,
    private readonly host: KubeletHost,
  ) {
    this.pod = pod;
    this.uid = pod.metadata.uid ?? '';
    this.key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const spec = (pod.spec ?? {}) as Obj;
    this.initContainers = list(spec.initContainers).map((c) => new ContainerRuntime(String(c.name), c, true, host.seed, pod));
    this.containers = list(spec.containers).map((c) => new ContainerRuntime(String(c.name), c, false, host.seed, pod));
    this.startTime = host.clock.now();
    for (const c of this.initContainers) c.waiting = { reason: 'PodInitializing' };
    if (this.initContainers.length) for (const c of this.containers) c.waiting = { reason: 'PodInitializing' };
    for (const cond of list((pod.status as Obj | undefined)?.conditions)) {
      if (typeof cond.type === 'string' && typeof cond.lastTransitionTime === 'string') this.transitions.set(cond.type, { status: String(cond.status), at: cond.lastTransitionTime });
    }
  }

  get namespace(): string {
    return this.pod.metadata.namespace ?? '';
  }

  get name(): string {
    return this.pod.metadata.name ?? '';
  }

  get allContainers(): ContainerRuntime[] {
    return [...this.initContainers, ...this.containers];
  }

  container(name: string): ContainerRuntime | undefined {
    return this.allContainers.find((c) => c.name === name);
  }

  private get spec(): Obj {
    return (this.pod.spec ?? {}) as Obj;
  }

  private get restartPolicy(): string {
    return String(this.spec.restartPolicy ?? 'Always');
  }

  private get now(): number {
    return this.host.clock.now();
  }

  private after(ms: number, fn: () => void, container?: ContainerRuntime): void {
    const set = container?.timers ?? this.timers;
    const handle = this.host.clock.setTimeout(() => {
      set.delete(handle);
      if (!this.stopped) fn();
    }, ms);
    set.add(handle);
  }

  private changed(): void {
    if (!this.stopped) this.host.changed(this);
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string, c?: ContainerRuntime): void {
    this.host.event(this.pod, type, reason, message, c?.fieldPath);
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  /** A newly admitted pod: Pending now, the sandbox next. */
  start(): void {
    this.startTime = this.now;
    this.changed();
    const deadline = this.spec.activeDeadlineSeconds;
    if (typeof deadline === 'number') this.after(deadline * 1000, () => this.deadlineExceeded());
    this.after(this.host.timings.sandboxMs, () => {
      this.podIP = this.spec.hostNetwork === true ? this.host.hostIP : this.host.allocateIP(this);
      this.sandboxReady = true;
      this.changed();
      this.advance();
    });
  }

  /**
   * Takes over a pod another kubelet process ran (Canopy restarted): its reported state is kept,
   * containers that were running keep running (from their reported start), the others start.
   */
  adopt(): void {
    const status = (this.pod.status ?? {}) as Obj;
    if (typeof status.startTime === 'string') this.startTime = Date.parse(status.startTime);
    const phase = status.phase as PodPhase | undefined;
    if (typeof status.podIP === 'string' && status.podIP) {
      this.podIP = status.podIP;
      this.sandboxReady = phase !== 'Succeeded' && phase !== 'Failed';
    }
    const reported = new Map<string, Obj>();
    for (const s of [...list(status.initContainerStatuses), ...list(status.containerStatuses)]) reported.set(String(s.name), s);
    for (const c of this.allContainers) {
      const s = reported.get(c.name);
      if (!s) continue;
      c.restartCount = typeof s.restartCount === 'number' ? s.restartCount : 0;
      const state = (s.state ?? {}) as Obj;
      const last = ((s.lastState ?? {}) as Obj).terminated as Obj | undefined;
      if (last) c.previous = instanceFrom(last, Math.max(0, c.restartCount - 1));
      if (state.running) {
        const running = state.running as Obj;
        c.current = { id: containerIdOf(s.containerID), number: c.restartCount, startedAt: parseTime(running.startedAt, this.now), events: [] };
        c.state = 'running';
        c.started = true;
        c.runtimeImage = normalizeImage(c.image);
        this.scheduleExit(c);
        this.scheduleReadiness(c);
      } else if (state.terminated) {
        c.current = instanceFrom(state.terminated as Obj, c.restartCount);
        c.state = 'terminated';
        c.ready = s.ready === true;
      } else if (c.previous) {
        // Waiting after a crash: the next start continues the restart count.
        c.current = c.previous;
        c.state = 'waiting';
        c.waiting = { reason: 'ContainerCreating' };
      }
    }
    if (phase === 'Succeeded' || phase === 'Failed') {
      this.terminalPhase = phase;
      if (typeof status.reason === 'string') this.terminalReason = { reason: status.reason, message: String(status.message ?? '') };
      return;
    }
    const deadline = this.spec.activeDeadlineSeconds;
    if (typeof deadline === 'number') this.after(Math.max(0, this.startTime + deadline * 1000 - this.now), () => this.deadlineExceeded());
    if (!this.sandboxReady) {
      this.start();
      return;
    }
    // Containers that had exited are handled as exits seen now (restart per policy).
    for (const c of this.allContainers) if (c.state === 'terminated' && !(c.init && !c.sidecar && c.succeeded)) this.afterExit(c);
    this.changed();
    this.advance();
  }

  /** Starts whatever should run next: the next init container, then every regular container. */
  private advance(): void {
    if (this.terminating || this.terminalPhase || !this.sandboxReady) return;
    for (const c of this.initContainers) {
      if (c.sidecar) {
        if (c.state === 'waiting' && !c.starting && !c.backingOff) this.startContainer(c);
        // The next init container starts once the sidecar has started.
        if (!c.started) return;
        continue;
      }
      if (c.succeeded) continue;
      if (c.state === 'waiting' && !c.starting && !c.backingOff) this.startContainer(c);
      return;
    }
    for (const c of this.containers) {
      if (c.state === 'waiting' && !c.starting && !c.backingOff) {
        c.waiting = { reason: 'ContainerCreating' };
        this.startContainer(c);
      }
    }
    this.changed();
  }

  private get initialized(): boolean {
    return this.initContainers.every((c) => (c.sidecar ? c.started || c.current !== undefined : c.succeeded));
  }

  /** Pulls the image if needed, then creates and starts the container. */
  private startContainer(c: ContainerRuntime): void {
    c.starting = true;
    const image = c.image;
    const policy = String(c.spec.imagePullPolicy ?? 'IfNotPresent');
    const present = this.host.imagePresent(normalizeImage(image));
    if (containerFlag(this.pod, Annotations.imagePullError, c.name, c.init)) return this.failPull(c);
    if (policy === 'Never' && !present) {
      c.starting = false;
      c.waiting = { reason: 'ErrImageNeverPull', message: `Container image "${image}" is not present with pull policy of Never` };
      this.event('Warning', 'ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`, c);
      this.changed();
      return;
    }
    const create = () => {
      const delay = containerDuration(this.pod, Annotations.startupDelay, c.name, c.init) ?? this.host.timings.startMs;
      this.after(delay, () => this.run(c), c);
    };
    if (policy === 'Always' || !present) {
      this.event('Normal', 'Pulling', `Pulling image "${image}"`, c);
      const [min, max] = this.host.timings.pullMs;
      // A cached image with pull policy Always only checks the manifest.
      const ms = Math.round(present ? min / 3 : between(min, max, this.host.seed, this.host.nodeName, normalizeImage(image)));
      this.after(
        ms,
        () => {
          this.host.imagePulled(normalizeImage(image));
          const took = formatGoDuration(ms);
          this.event('Normal', 'Pulled', `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${imageSize(image)} bytes.`, c);
          create();
        },
        c,
      );
    } else {
      this.event('Normal', 'Pulled', `Container image "${image}" already present on machine`, c);
      create();
    }
  }

  /** The image-pull-error annotation: ErrImagePull, then ImagePullBackOff, retried with back-off. */
  private failPull(c: ContainerRuntime): void {
    const image = c.image;
    const normalized = normalizeImage(image);
    this.event('Normal', 'Pulling', `Pulling image "${image}"`, c);
    this.after(
      this.host.timings.pullMs[0],
      () => {
        const detail = `rpc error: code = NotFound desc = failed to pull and unpack image "${normalized}": failed to resolve reference "${normalized}": ${normalized}: not found`;
        this.event('Warning', 'Failed', `Failed to pull image "${image}": ${detail}`, c);
        this.event('Warning', 'Failed', 'Error: ErrImagePull', c);
        c.waiting = { reason: 'ErrImagePull', message: `failed to pull and unpack image "${normalized}": failed to resolve reference "${normalized}": ${normalized}: not found` };
        this.changed();
        const backoff = Math.min(BACKOFF_INITIAL_MS * 2 ** c.pullBackoffIndex, BACKOFF_MAX_MS);
        c.pullBackoffIndex++;
        this.after(
          IMAGE_PULL_ERROR_SHOW_MS,
          () => {
            c.waiting = { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ErrImagePull: ${detail}` };
            this.event('Normal', 'BackOff', `Back-off pulling image "${image}"`, c);
            this.event('Warning', 'Failed', 'Error: ImagePullBackOff', c);
            this.changed();
          },
          c,
        );
        this.after(backoff, () => this.startContainer(c), c);
      },
      c,
    );
  }

  /** Creates and starts a new instance of the container. */
  private run(c: ContainerRuntime): void {
    c.starting = false;
    c.backingOff = false;
    if (c.current) {
      c.previous = c.current;
      c.restartCount++;
    }
    const number = c.restartCount;
    c.current = { id: hexId(64, this.host.seed, this.uid, c.name, number, this.now), number, startedAt: this.now, events: [] };
    c.runtimeImage = normalizeImage(c.image);
    c.state = 'running';
    c.ready = false;
    c.started = false;
    this.event('Normal', 'Created', `Created container: ${c.name}`, c);
    this.event('Normal', 'Started', `Started container ${c.name}`, c);
    this.host.instanceStarted(this, c);
    this.scheduleExit(c);
    this.scheduleReadiness(c);
    this.changed();
    if (!this.reportedRunning && this.containers.every((x) => x.state === 'running')) {
      this.reportedRunning = true;
      this.host.podRunning(this);
    }
    // A sidecar's start releases the next init container; a regular start may complete the pod's start.
    this.advance();
  }

  /** When (if ever) this instance exits, and how. */
  private scheduleExit(c: ContainerRuntime): void {
    const instance = c.current!;
    const ran = this.now - instance.startedAt;
    const candidates: Array<{ at: number; code: number; reason: string }> = [];
    const crashAfter = containerDuration(this.pod, Annotations.crashAfter, c.name, c.init);
    const crashCount = containerInteger(this.pod, Annotations.crashCount, c.name, c.init);
    if (crashAfter !== undefined && (crashCount === undefined || instance.number < crashCount)) {
      const code = containerInteger(this.pod, Annotations.exitCode, c.name, c.init) ?? 1;
      candidates.push({ at: crashAfter, code: code >= 1 && code <= 255 ? code : 1, reason: 'Error' });
    }
    let completeAfter = containerDuration(this.pod, Annotations.completeAfter, c.name, c.init);
    if (completeAfter === undefined && c.init && !c.sidecar) completeAfter = containerDuration(this.pod, Annotations.initDuration, c.name, true) ?? this.host.timings.initDurationMs;
    if (completeAfter === undefined && !c.init && this.restartPolicy !== 'Always' && ownedByJob(this.pod)) completeAfter = this.host.timings.jobDurationMs;
    if (completeAfter !== undefined) candidates.push({ at: completeAfter, code: 0, reason: 'Completed' });
    if (c.profile.oomAfterS !== undefined) candidates.push({ at: c.profile.oomAfterS * 1000, code: 137, reason: 'OOMKilled' });
    if (!candidates.length) return;
    const first = candidates.reduce((a, b) => (b.at < a.at ? b : a));
    this.after(Math.max(0, first.at - ran), () => this.exit(c, first.code, first.reason), c);
  }

  /** Started (startup probe) and ready (readiness delay), then maybe flapping. */
  private scheduleReadiness(c: ContainerRuntime): void {
    const instance = c.current!;
    const ran = this.now - instance.startedAt;
    const startup = c.spec.startupProbe as Obj | undefined;
    const startedAfter = startup ? seconds(startup.initialDelaySeconds) * 1000 : 0;
    const markStarted = () => {
      c.started = true;
      this.changed();
      // A running regular init container is never ready; it only has to complete.
      if (c.init && !c.sidecar) return;
      const probe = c.spec.readinessProbe as Obj | undefined;
      const annotated = containerDuration(this.pod, Annotations.readyAfter, c.name, c.init);
      const readyAfter = annotated ?? (probe ? seconds(probe.initialDelaySeconds) * 1000 : 0);
      const markReady = () => {
        c.ready = true;
        this.changed();
        const flap = containerDuration(this.pod, Annotations.readinessFlap, c.name, c.init);
        if (flap) this.after(flap, () => this.flap(c, flap), c);
        if (c.sidecar) this.advance();
      };
      const wait = Math.max(0, Math.max(readyAfter, startedAfter) - (this.now - instance.startedAt));
      if (wait === 0) markReady();
      else this.after(wait, markReady, c);
    };
    if (startedAfter <= ran) markStarted();
    else this.after(startedAfter - ran, markStarted, c);
  }

  private flap(c: ContainerRuntime, period: number): void {
    if (c.state !== 'running') return;
    c.ready = !c.ready;
    if (!c.ready) this.event('Warning', 'Unhealthy', `Readiness probe failed: ${probeFailure(c, this.podIP)}`, c);
    this.changed();
    this.after(period, () => this.flap(c, period), c);
  }

  /** The container's process ended. */
  private exit(c: ContainerRuntime, code: number, reason: string): void {
    const instance = c.current;
    if (!instance || c.state !== 'running') return;
    c.cancelTimers();
    instance.finishedAt = this.now;
    instance.exitCode = code;
    instance.reason = reason;
    c.state = 'terminated';
    c.ready = false;
    c.started = false;
    this.host.instanceEnded(this, c, instance);
    if (reason === 'OOMKilled') {
      c.oomKills++;
      const pid = 1000 + (parseInt(instance.id.slice(0, 6), 16) % 60000);
      this.host.nodeEvent('Warning', 'SystemOOM', `System OOM encountered, victim process: ${processName(c)}, pid: ${pid}`);
    }
    this.afterExit(c);
    this.changed();
  }

  /** Restart per restartPolicy (with back-off), move on to the next init container, or end the pod. */
  private afterExit(c: ContainerRuntime): void {
    if (this.terminating) return;
    const instance = c.current!;
    const code = instance.exitCode ?? 0;
    if (c.init && !c.sidecar && code === 0) {
      this.advance();
      return;
    }
    const policy = this.restartPolicy;
    const restart = c.sidecar || policy === 'Always' || (policy === 'OnFailure' && code !== 0) || (c.init && policy !== 'Never' && code !== 0);
    if (!restart) {
      this.settleIfDone();
      return;
    }
    if (instance.finishedAt !== undefined && instance.finishedAt - instance.startedAt >= BACKOFF_RESET_MS) c.backoffIndex = 0;
    const delay = c.backoffIndex === 0 ? 0 : Math.min(BACKOFF_INITIAL_MS * 2 ** (c.backoffIndex - 1), BACKOFF_MAX_MS);
    c.backoffIndex++;
    if (delay === 0) {
      c.starting = false;
      this.startContainer(c);
      return;
    }
    c.backingOff = true;
    c.state = 'waiting';
    c.waiting = {
      reason: 'CrashLoopBackOff',
      message: `back-off ${formatGoDuration(delay)} restarting failed container=${c.name} pod=${this.name}_${this.namespace}(${this.uid})`,
    };
    this.event('Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${this.name}_${this.namespace}(${this.uid})`, c);
    this.after(
      delay,
      () => {
        c.backingOff = false;
        this.startContainer(c);
      },
      c,
    );
  }

  /** With every container stopped for good, the pod's sandbox goes away (terminal phase). */
  private settleIfDone(): void {
    const phase = this.phase();
    if (phase === 'Succeeded' || phase === 'Failed') {
      this.terminalPhase = phase;
      for (const c of this.allContainers) {
        if (c.state === 'running') this.stopInstance(c, 0, 'Completed');
        c.cancelTimers();
        if (c.state === 'waiting' && c.current) c.state = 'terminated';
      }
      this.releaseSandbox();
    }
  }

  private releaseSandbox(): void {
    this.sandboxReady = false;
    if (this.podIP && this.podIP !== this.host.hostIP) this.host.releaseIP(this.podIP);
  }

  private stopInstance(c: ContainerRuntime, code: number, reason: string): void {
    const instance = c.current;
    c.cancelTimers();
    if (instance && c.state === 'running') {
      instance.finishedAt = this.now;
      instance.exitCode = code;
      instance.reason = reason;
      this.host.instanceEnded(this, c, instance);
    }
    if (instance) c.state = 'terminated';
    c.ready = false;
    c.started = false;
    c.starting = false;
    c.backingOff = false;
  }

  /** spec.activeDeadlineSeconds passed: the kubelet kills the pod and fails it. */
  private deadlineExceeded(): void {
    if (this.terminating || this.terminalPhase) return;
    for (const c of this.allContainers) if (c.state === 'running') this.event('Normal', 'Killing', `Stopping container ${c.name}`, c);
    for (const c of this.allContainers) this.stopInstance(c, 137, 'Error');
    this.terminalPhase = 'Failed';
    this.terminalReason = { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' };
    this.event('Normal', 'DeadlineExceeded', 'Pod was active on the node longer than the specified deadline');
    this.releaseSandbox();
    this.changed();
  }

  /** A newer copy of the pod from the API: deletion, or changed container images. */
  update(pod: KubeObject): void {
    const previous = this.pod;
    this.pod = pod;
    if (pod.metadata.deletionTimestamp && !this.terminating) {
      this.terminate();
      return;
    }
    if (this.terminating || this.terminalPhase) return;
    // Container images may change in place; the kubelet restarts the container with the new one.
    const specs = new Map<string, Obj>();
    for (const c of [...list((pod.spec as Obj | undefined)?.initContainers), ...list((pod.spec as Obj | undefined)?.containers)]) specs.set(String(c.name), c);
    for (const c of this.allContainers) {
      const spec = specs.get(c.name);
      if (!spec) continue;
      const oldImage = c.image;
      c.spec = spec;
      if (spec.image !== oldImage && c.state === 'running' && (!c.init || c.sidecar)) {
        this.event('Normal', 'Killing', `Container ${c.name} definition changed, will be restarted`, c);
        this.stopInstance(c, 0, 'Completed');
        c.backoffIndex = 0;
        this.startContainer(c);
      }
    }
    if (previous.metadata.resourceVersion !== pod.metadata.resourceVersion) this.changed();
  }

  /** deletionTimestamp set: stop containers (preStop is a no-op), then let the pod be removed. */
  terminate(): void {
    if (this.terminating) return;
    this.terminating = true;
    this.cancelTimers();
    for (const c of this.allContainers) {
      c.cancelTimers();
      c.starting = false;
      c.backingOff = false;
    }
    const running = this.allContainers.filter((c) => c.state === 'running');
    if (!running.length) {
      for (const c of this.allContainers) if (c.state === 'waiting' && c.current) c.state = 'terminated';
      this.finish();
      return;
    }
    for (const c of running) this.event('Normal', 'Killing', `Stopping container ${c.name}`, c);
    const grace = this.pod.metadata.deletionGracePeriodSeconds ?? (typeof this.spec.terminationGracePeriodSeconds === 'number' ? this.spec.terminationGracePeriodSeconds : 30);
    let shutdown = this.host.timings.terminationMs;
    for (const c of running) shutdown = Math.max(shutdown, containerDuration(this.pod, Annotations.terminationDelay, c.name, c.init) ?? 0);
    const delay = Math.min(grace * 1000, shutdown);
    const stop = () => {
      for (const c of running) this.stopInstance(c, 0, 'Completed');
      for (const c of this.allContainers) if (c.state === 'waiting' && c.current) c.state = 'terminated';
      this.finish();
    };
    if (delay <= 0) stop();
    else this.after(delay, stop);
  }

  private finish(): void {
    this.finished = true;
    this.releaseSandbox();
    this.changed();
  }

  /** The pod is gone from the API (or from this node): cancel everything. */
  stop(): void {
    if (this.stopped) return;
    this.cancelTimers();
    for (const c of this.allContainers) {
      if (c.state === 'running' && c.current && c.current.finishedAt === undefined) {
        c.current.finishedAt = this.now;
        this.host.instanceEnded(this, c, c.current);
      }
      c.cancelTimers();
    }
    if (this.sandboxReady) this.releaseSandbox();
    this.stopped = true;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private cancelTimers(): void {
    for (const t of this.timers) t.cancel();
    this.timers.clear();
  }

  // ---- status ------------------------------------------------------------------------------------

  /** kube's getPhase over the simulated container states. */
  phase(): PodPhase {
    if (this.terminalPhase) return this.terminalPhase;
    const policy = this.restartPolicy;
    for (const c of this.initContainers) {
      if (c.sidecar || c.succeeded) continue;
      if (c.state === 'terminated' && (c.current?.exitCode ?? 0) !== 0 && policy === 'Never') return 'Failed';
      return 'Pending';
    }
    let waiting = 0;
    let running = 0;
    let stopped = 0;
    let succeeded = 0;
    for (const c of this.containers) {
      if (c.state === 'running') running++;
      else if (c.state === 'terminated') {
        stopped++;
        if (c.current?.exitCode === 0) succeeded++;
      } else if (c.previous || c.current) stopped++;
      else waiting++;
    }
    if (waiting > 0) return 'Pending';
    if (running > 0) return 'Running';
    if (stopped === this.containers.length && stopped > 0) {
      if (this.finished) return succeeded === stopped ? 'Succeeded' : 'Failed';
      if (policy === 'Always') return 'Running';
      if (policy === 'OnFailure') return succeeded === stopped ? 'Succeeded' : 'Running';
      return succeeded === stopped ? 'Succeeded' : 'Failed';
    }
    return 'Pending';
  }

  private transition(type: string, status: string): string {
    const known = this.transitions.get(type);
    if (known && known.status === status) return known.at;
    const at = rfc3339(this.now);
    this.transitions.set(type, { status, at });
    return at;
  }

  private condition(type: string, status: boolean, reason?: string, message?: string): Obj {
    const value = status ? 'True' : 'False';
    const condition: Obj = { type, status: value, lastTransitionTime: this.transition(type, value) };
    if (reason) condition.reason = reason;
    if (message) condition.message = message;
    return condition;
  }

  /** The pod status the kubelet reports now (the fields it owns). */
  status(): Obj {
    const phase = this.phase();
    const terminal = phase === 'Succeeded' || phase === 'Failed';
    const completedReason = phase === 'Succeeded' ? 'PodCompleted' : phase === 'Failed' ? 'PodFailed' : undefined;
    const initialized = this.initialized;
    const pendingInit = this.initContainers.filter((c) => !(c.sidecar ? c.started : c.succeeded)).map((c) => c.name);
    const unready = [...this.initContainers.filter((c) => c.sidecar), ...this.containers].filter((c) => !c.ready).map((c) => c.name);
    const containersReady = unready.length === 0;
    const gates = list(this.spec.readinessGates).map((g) => String(g.conditionType));
    const conditions = list((this.pod.status as Obj | undefined)?.conditions);
    const gateProblems = gates.filter((g) => conditions.find((c) => c.type === g)?.status !== 'True');
    const status: Obj = { phase };
    const out: Obj[] = [
      this.condition('PodReadyToStartContainers', this.sandboxReady),
      initialized || terminal
        ? this.condition('Initialized', true, terminal && initialized && completedReason === 'PodCompleted' ? 'PodCompleted' : undefined)
        : this.condition('Initialized', false, 'ContainersNotInitialized', `containers with incomplete status: [${pendingInit.join(' ')}]`),
    ];
    if (terminal && completedReason) {
      out.push(this.condition('Ready', false, completedReason), this.condition('ContainersReady', false, completedReason));
    } else {
      const message = `containers with unready status: [${unready.join(' ')}]`;
      if (!containersReady) out.push(this.condition('Ready', false, 'ContainersNotReady', message));
      else if (gateProblems.length)
        out.push(this.condition('Ready', false, 'ReadinessGatesNotReady', `corresponding condition of pod readiness gate "${gateProblems[0]}" does not exist.`));
      else out.push(this.condition('Ready', true));
      out.push(containersReady ? this.condition('ContainersReady', true) : this.condition('ContainersReady', false, 'ContainersNotReady', message));
    }
    out.push(this.condition('PodScheduled', true));
    status.conditions = out;
    if (this.terminalReason) {
      status.reason = this.terminalReason.reason;
      status.message = this.terminalReason.message;
    }
    status.hostIP = this.host.hostIP;
    status.hostIPs = [{ ip: this.host.hostIP }];
    if (this.podIP) {
      status.podIP = this.podIP;
      status.podIPs = [{ ip: this.podIP }];
    }
    status.startTime = rfc3339(this.startTime);
    if (this.initContainers.length) status.initContainerStatuses = this.initContainers.map((c) => this.containerStatus(c));
    status.containerStatuses = this.containers.map((c) => this.containerStatus(c));
    const qos = (this.pod.status as Obj | undefined)?.qosClass;
    status.qosClass = typeof qos === 'string' ? qos : qosClass(this.spec);
    if (typeof this.pod.metadata.generation === 'number') status.observedGeneration = this.pod.metadata.generation;
    return status;
  }

  private containerStatus(c: ContainerRuntime): Obj {
    const s: Obj = { name: c.name };
    if (c.state === 'running' && c.current) s.state = { running: { startedAt: rfc3339(c.current.startedAt) } };
    else if (c.state === 'terminated' && c.current) s.state = { terminated: terminatedState(c.current) };
    else s.state = { waiting: c.waiting.message ? { reason: c.waiting.reason, message: c.waiting.message } : { reason: c.waiting.reason } };
    s.lastState = c.previous && c.previous.finishedAt !== undefined ? { terminated: terminatedState(c.previous) } : {};
    s.ready = c.init && !c.sidecar ? c.succeeded : c.ready;
    s.restartCount = c.restartCount;
    s.image = c.runtimeImage ?? c.image;
    s.imageID = c.runtimeImage ? imageId(c.runtimeImage) : '';
    if (c.current) s.containerID = `containerd://${c.current.id}`;
    s.started = c.state === 'running' && c.started;
    const resources = (c.spec.resources ?? {}) as Obj;
    const compute: Obj = {};
    if (resources.requests && Object.keys(resources.requests).length) compute.requests = resources.requests;
    if (resources.limits && Object.keys(resources.limits).length) compute.limits = resources.limits;
    if (Object.keys(compute).length) s.resources = compute;
    const mounts = list(c.spec.volumeMounts).map((m) => {
      const mount: Obj = { name: m.name, mountPath: m.mountPath };
      if (m.readOnly === true) mount.readOnly = true;
      mount.recursiveReadOnly = 'Disabled';
      return mount;
    });
    if (mounts.length) s.volumeMounts = mounts;
    return s;
  }
}

// ---- helpers -------------------------------------------------------------------------------------

function list(value: unknown): Obj[] {
  return Array.isArray(value) ? (value.filter((v) => v && typeof v === 'object') as Obj[]) : [];
}

function seconds(value: unknown): number {
  return typeof value === 'number' && value > 0 ? value : 0;
}

function parseTime(value: unknown, fallback: number): number {
  const t = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isNaN(t) ? fallback : t;
}

function containerIdOf(value: unknown): string {
  const text = typeof value === 'string' ? value : '';
  const id = text.replace(/^[a-z]+:\/\//, '');
  return /^[0-9a-f]{64}$/.test(id) ? id : hexId(64, text);
}

function instanceFrom(state: Obj, number: number): ContainerInstance {
  const finished = parseTime(state.finishedAt, 0);
  return {
    id: containerIdOf(state.containerID),
    number,
    startedAt: parseTime(state.startedAt, finished),
    finishedAt: finished,
    exitCode: typeof state.exitCode === 'number' ? state.exitCode : 0,
    reason: typeof state.reason === 'string' ? state.reason : undefined,
    events: [],
  };
}

function terminatedState(i: ContainerInstance): Obj {
  const t: Obj = { exitCode: i.exitCode ?? 0 };
  if (i.reason) t.reason = i.reason;
  t.startedAt = rfc3339(i.startedAt);
  t.finishedAt = rfc3339(i.finishedAt ?? i.startedAt);
  t.containerID = `containerd://${i.id}`;
  return t;
}

export function ownedByJob(pod: KubeObject): boolean {
  return (pod.metadata.ownerReferences ?? []).some((o) => o.kind === 'Job' && o.apiVersion?.startsWith('batch/') && o.controller === true);
}

/** kube's QoS class (used only when the API server did not record one). */
export function qosClass(spec: Obj): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const containers = [...list(spec.initContainers), ...list(spec.containers)];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const r = (c.resources ?? {}) as { requests?: Obj; limits?: Obj };
    const requests = r.requests ?? {};
    const limits = r.limits ?? {};
    for (const resource of ['cpu', 'memory']) {
      if (requests[resource] !== undefined || limits[resource] !== undefined) any = true;
      const request = requests[resource] ?? limits[resource];
      if (limits[resource] === undefined || String(request) !== String(limits[resource])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** Go's time.Duration String for the short durations events mention (`812ms`, `1.5s`, `10s`, `5m0s`). */
export function formatGoDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const totalSeconds = ms / 1000;
  if (totalSeconds < 60) return `${trimFloat(totalSeconds)}s`;
  const minutes = Math.floor(totalSeconds / 60);
  const rest = totalSeconds - minutes * 60;
  if (minutes < 60) return `${minutes}m${trimFloat(rest)}s`;
  return `${Math.floor(minutes / 60)}h${minutes % 60}m${trimFloat(rest)}s`;
}

function trimFloat(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

function processName(c: ContainerRuntime): string {
  const command = Array.isArray(c.spec.command) && typeof c.spec.command[0] === 'string' ? c.spec.command[0] : '';
  if (command) return command.split('/').pop() ?? command;
  const image = normalizeImage(c.image);
  return (image.split('/').pop() ?? 'app').split(/[:@]/)[0];
}

/** What a failing readiness probe reports, by probe type. */
function probeFailure(c: ContainerRuntime, podIP: string | undefined): string {
  const probe = (c.spec.readinessProbe ?? {}) as Obj;
  if (probe.tcpSocket) {
    const port = (probe.tcpSocket as Obj).port;
    return `dial tcp ${podIP ?? '0.0.0.0'}:${String(port)}: connect: connection refused`;
  }
  if (probe.exec) return 'command failed with exit code 1';
  if (probe.grpc) return `timeout: failed to connect service "${podIP ?? ''}:${String((probe.grpc as Obj).port)}" within 1s: context deadline exceeded`;
  return 'HTTP probe failed with statuscode: 503';
}

export { parseTime };
