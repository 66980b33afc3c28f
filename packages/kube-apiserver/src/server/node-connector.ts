/**
 * What the API server needs from a node's kubelet: the streams behind `pods/log`, `pods/exec`,
 * `pods/attach`, `pods/portforward`, the kubelet endpoints behind `nodes/proxy`, and the usage
 * figures behind `metrics.k8s.io`.
 *
 * In kube the API server dials each kubelet over HTTPS and the wire protocols (SPDY, WebSocket
 * channels) run end to end. Canopy terminates the client protocols in the API server (one
 * implementation of SPDY/3.1, WebSocket v4/v5 channels and SPDY-in-WebSocket, shared by every
 * node) and hands the connector plain Node streams. In all-in-one mode the simulator registers
 * itself as the connector; the connector is the kubelet's API, not a way into the store.
 */
import type { Duplex, Readable, Writable } from 'node:stream';
import type { KubeObject } from '@canopy/apimachinery';

/** A container of a pod the API server has already read, authorized and checked. */
export interface ContainerTarget {
  pod: KubeObject;
  container: string;
}

/** Query parameters of `GET pods/NAME/log`, validated. */
export interface LogRequest {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  /** RFC 3339. */
  sinceTime?: string;
  limitBytes?: number;
}

/** Query parameters of `pods/exec` and `pods/attach`. */
export interface ExecRequest {
  /** Empty for attach. */
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface TerminalSize {
  width: number;
  height: number;
}

/**
 * The client's side of an exec or attach session. Streams are present when the request asked
 * for them; with a TTY stderr is merged into stdout (kube's behaviour) and is absent.
 */
export interface ContainerIO {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  /** Terminal size changes (TTY sessions): the listener is called for each resize message. */
  onResize(listener: (size: TerminalSize) => void): void;
}

/** How a process in a container ended: exit code 0 is success. */
export interface ExitStatus {
  exitCode: number;
  /** Set when the process could not start (e.g. command not found); exitCode is then 126 or 127. */
  message?: string;
}

export interface KubeletResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface NodeConnector {
  /**
   * Writes a container's log to `out` and resolves when done: at once unless `follow`; with
   * `follow`, when the container stops or `signal` aborts (client gone).
   */
  logs(target: ContainerTarget, request: LogRequest, out: Writable, signal: AbortSignal): Promise<void>;
  /** Runs a command in the container with the client's streams. */
  exec(target: ContainerTarget, request: ExecRequest, io: ContainerIO, signal: AbortSignal): Promise<ExitStatus>;
  /** Attaches to the container's main process. */
  attach(target: ContainerTarget, request: ExecRequest, io: ContainerIO, signal: AbortSignal): Promise<ExitStatus>;
  /**
   * Connects `stream` to TCP `port` of the pod. Rejects (with a message kubectl shows) when
   * nothing listens there; otherwise the connector owns the stream until either side ends it.
   */
  portForward(pod: KubeObject, port: number, stream: Duplex): Promise<void>;
  /**
   * A request to the node's kubelet endpoints (`/metrics/cadvisor`, `/metrics/resource`, `/healthz`, `/pods`, …),
   * as `nodes/NAME/proxy/<path>` forwards it; `body` is the request body of writes.
   */
  proxyNode(node: KubeObject, method: string, path: string, query: URLSearchParams, body?: Buffer): Promise<KubeletResponse>;
}

/** `metrics.k8s.io/v1beta1` objects, as metrics-server serves them. */
export interface NodeMetrics extends KubeObject {
  timestamp: string;
  window: string;
  usage: { cpu: string; memory: string };
}

export interface PodMetrics extends KubeObject {
  timestamp: string;
  window: string;
  containers: { name: string; usage: { cpu: string; memory: string } }[];
}

/** The source of `metrics.k8s.io` (metrics-server's role). */
export interface MetricsProvider {
  nodeMetrics(): NodeMetrics[];
  /** Every pod's metrics, or one namespace's. */
  podMetrics(namespace?: string): PodMetrics[];
}
