/**
 * The streaming subresources of pods and nodes, served against a NodeConnector (the kubelet's
 * side, see node-connector.ts):
 *
 * - `GET pods/NAME/log` — text/plain, streamed and flushed as the connector writes when following;
 * - `pods/NAME/exec` and `pods/NAME/attach` — WebSocket channel protocols (kubectl 1.30+,
 *   client-node) and SPDY/3.1 (kubectl 1.27–1.29 and the fallback of later ones);
 * - `pods/NAME/portforward` — SPDY/3.1, SPDY tunnelled in a WebSocket (kubectl 1.31+) and the
 *   legacy WebSocket channel protocol with `?ports=` (client-node);
 * - `nodes/NAME/proxy/<path>` — the kubelet's HTTP endpoints (Prometheus scrapes
 *   `/metrics/cadvisor` through it);
 * - `pods/NAME[:PORT]/proxy/<path>` — HTTP to a pod port, carried over the connector's port-forward.
 *
 * The checks kube-apiserver makes before dialing the kubelet (pod exists, container named or
 * implied, pod bound to a node) and those the kubelet makes before streaming (container
 * running, log state) are made here from the stored pod, with their wording; what happens after
 * is the connector's.
 */
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { Duplex, duplexPair, Writable, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws';
import { errors, fieldErrors, isStatusError, StatusError, type KubeObject } from '@canopy/apimachinery';
import type { ResourceRegistry } from '../registry/registry.js';
import type { ObjectService } from './objects.js';
import { asRecord } from './object-utils.js';
import type { ResourceRequestInfo } from './request-info.js';
import type { ApiRequest, ApiResponse, StreamSink } from './types.js';
import type { ContainerIO, ContainerTarget, ExecRequest, ExitStatus, LogRequest, NodeConnector, TerminalSize } from './node-connector.js';
import { SpdySession, type SpdyStream } from './spdy.js';
import {
  ChannelConnection,
  EXEC_CHANNEL_PROTOCOLS,
  negotiateChannelProtocol,
  PORT_FORWARD_CHANNEL_PROTOCOLS,
  type ChannelProtocol,
} from './websocket-channels.js';

/** Upgrade protocols of exec and attach over SPDY, newest first (k8s.io/apimachinery remotecommand). */
const SPDY_EXEC_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** kubectl 1.31+ asks for SPDY inside a WebSocket with this subprotocol prefix. */
const SPDY_TUNNEL_PREFIX = 'SPDY/3.1+';
/** How long the kubelet waits for a client to open the streams a request announced. */
const STREAM_CREATION_TIMEOUT_MS = 30_000;
/** After an exec ends, how long the connection may linger before the server closes it. */
const SESSION_CLOSE_GRACE_MS = 5_000;
/** Responses proxied from a pod are buffered; beyond this they are refused. */
const MAX_POD_PROXY_RESPONSE_BYTES = 16 * 1024 * 1024;

const CONNECT_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);

type StreamKind = 'log' | 'exec' | 'attach' | 'portforward' | 'pod-proxy' | 'node-proxy';

/** Which streaming endpoint a request names, if any. */
export function streamKind(info: ResourceRequestInfo): StreamKind | undefined {
  if (info.group !== '' || info.version !== 'v1' || !info.name) return undefined;
  if (info.resource === 'pods') {
    switch (info.subresource) {
      case 'log':
      case 'exec':
      case 'attach':
      case 'portforward':
        return info.subresource;
      case 'proxy':
        return 'pod-proxy';
    }
  }
  if (info.resource === 'nodes' && info.subresource === 'proxy') return 'node-proxy';
  return undefined;
}

/**
 * The verb an upgrade is authorized with: `create` for exec, attach and port-forward whatever
 * the method (a WebSocket handshake is a GET, and `get` must not open a shell — kube 1.35's
 * AuthorizePodWebsocketUpgradeCreatePermission), the method's verb otherwise.
 */
export function streamVerb(info: ResourceRequestInfo): string {
  if (info.resource === 'pods' && CONNECT_SUBRESOURCES.has(info.subresource)) return 'create';
  return info.verb;
}

/** A refusal worded by the kubelet in plain text, which kube's proxy passes to the client as it is. */
class KubeletRefusal extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export class StreamingEndpoints {
  connector: NodeConnector | undefined;
  /** Upgraded connections: the HTTP server no longer tracks them, so closing the server ends them here. */
  private readonly sockets = new Set<Duplex>();
  private readonly chosenProtocol = new WeakMap<IncomingMessage, string>();
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 16 * 1024 * 1024,
    handleProtocols: (_offered, req) => this.chosenProtocol.get(req) ?? false,
  });

  constructor(
    private readonly objects: ObjectService,
    private readonly registry: ResourceRegistry,
    private readonly log?: (message: string) => void,
  ) {}

  /** Ends every upgraded connection (server shutdown). */
  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.wss.close();
  }

  // ---- plain HTTP --------------------------------------------------------------------------------

  /** Serves a streaming subresource requested without an upgrade. */
  serve(req: ApiRequest, info: ResourceRequestInfo): Promise<ApiResponse> {
    switch (streamKind(info)) {
      case 'log':
        return this.logs(req, info);
      case 'node-proxy':
        return this.nodeProxy(req, info);
      case 'pod-proxy':
        return this.podProxy(req, info);
      default:
        // exec, attach and portforward only speak upgraded protocols (the kubelet's wording).
        throw errors.badRequest('Upgrade request required');
    }
  }

  private async logs(req: ApiRequest, info: ResourceRequestInfo): Promise<ApiResponse> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    const pod = this.pod(info.namespace, info.name);
    const request = parseLogOptions(req.query, info.name);
    const container = validateContainer(pod, req.query.get('container') ?? '');
    // An unscheduled pod has no kubelet to ask: kube answers an empty log.
    if (!nodeNameOf(pod)) return { type: 'body', status: 200, body: '', contentType: 'text/plain' };
    const problem = logStateProblem(pod, container, request.previous);
    if (problem) throw errors.badRequest(problem);
    return streamLog(this.requireConnector(), { pod, container }, request);
  }

  private async nodeProxy(req: ApiRequest, info: ResourceRequestInfo): Promise<ApiResponse> {
    // `nodes/NAME:PORT/proxy`: the port picks a kubelet port in kube; here every node has one.
    const nodeName = info.name.replace(/^https?:/, '').split(':')[0];
    const node = this.objects.get(this.definition('nodes'), '', nodeName);
    const path = '/' + info.rest.map(encodeURIComponent).join('/');
    const result = await this.requireConnector().proxyNode(node, req.method, path, req.query, req.body);
    const headers: Record<string, string> = {};
    let contentType = 'text/plain; charset=utf-8';
    for (const [name, value] of Object.entries(result.headers)) {
      const lower = name.toLowerCase();
      if (lower === 'content-type') contentType = value;
      else if (!HOP_BY_HOP.has(lower)) headers[lower] = value;
    }
    return { type: 'body', status: result.status, body: Buffer.isBuffer(result.body) ? result.body : Buffer.from(result.body), contentType, headers };
  }

  private async podProxy(req: ApiRequest, info: ResourceRequestInfo): Promise<ApiResponse> {
    // `pods/[scheme:]NAME[:PORT]/proxy/<path>`, as kube's PodREST ResourceLocation parses it.
    const parts = info.name.split(':');
    const [scheme, name, portText] = parts.length === 3 ? parts : parts.length === 2 ? ['', parts[0], parts[1]] : ['', parts[0], ''];
    if (scheme && scheme !== 'http') throw errors.badRequest(`scheme ${JSON.stringify(scheme)} is not supported: pods are proxied over plain HTTP`);
    const pod = this.pod(info.namespace, name);
    if (!nodeNameOf(pod)) throw errors.badRequest(`pod ${name} does not have a host assigned`);
    const port = resolvePodPort(pod, portText);
    const connector = this.requireConnector();
    const [ours, theirs] = duplexPair();
    await connector.portForward(pod, port, theirs).catch((err: unknown) => {
      ours.destroy();
      throw new StatusError(503, 'ServiceUnavailable', `error trying to reach service: ${messageOf(err)}`);
    });
    const path = '/' + info.rest.map(encodeURIComponent).join('/') + (req.query.size ? `?${req.query.toString()}` : '');
    const forwarded: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || HOP_BY_HOP.has(k) || k === 'authorization' || k === 'host' || k.startsWith('impersonate-')) continue;
      forwarded[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    return new Promise<ApiResponse>((resolve, reject) => {
      const request = http.request(
        { method: req.method, path, headers: { ...forwarded, host: `${name}:${port}`, connection: 'close' }, createConnection: () => ours as never },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_POD_PROXY_RESPONSE_BYTES) {
              res.destroy();
              reject(errors.tooLarge(`the response of the pod is larger than ${MAX_POD_PROXY_RESPONSE_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            const headers: Record<string, string | string[]> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP_BY_HOP.has(k) && k !== 'content-type') headers[k] = v;
            resolve({ type: 'body', status: res.statusCode ?? 502, body: Buffer.concat(chunks), contentType: res.headers['content-type'] ?? 'text/plain', headers });
          });
          res.on('error', (err) => reject(new StatusError(503, 'ServiceUnavailable', `error trying to reach service: ${err.message}`)));
        },
      );
      request.on('error', (err) => reject(new StatusError(503, 'ServiceUnavailable', `error trying to reach service: ${err.message}`)));
      request.end(req.body);
    });
  }

  // ---- upgrades ----------------------------------------------------------------------------------

  /**
   * Serves an upgrade request (authenticated and authorized). Refusals before the upgrade are
   * written as HTTP responses: a StatusError as a Status, the kubelet's refusals as its text.
   */
  upgrade(req: ApiRequest, info: ResourceRequestInfo, raw: IncomingMessage, socket: Duplex, head: Buffer): void {
    try {
      this.startUpgrade(req, info, raw, socket, head);
    } catch (err) {
      if (err instanceof KubeletRefusal) writeRawResponse(socket, err.statusCode, 'text/plain; charset=utf-8', err.message);
      else throw err;
    }
  }

  private startUpgrade(req: ApiRequest, info: ResourceRequestInfo, raw: IncomingMessage, socket: Duplex, head: Buffer): void {
    const kind = streamKind(info);
    if (kind !== 'exec' && kind !== 'attach' && kind !== 'portforward') {
      throw errors.badRequest('upgrade requests are served only for pods/exec, pods/attach and pods/portforward');
    }
    const upgrade = String(raw.headers.upgrade ?? '').toLowerCase();
    const pod = this.pod(info.namespace, info.name);
    if (kind === 'portforward') {
      if (!nodeNameOf(pod)) throw errors.badRequest(`pod ${info.name} does not have a host assigned`);
      const connector = this.requireConnector();
      if (upgrade === 'websocket') return this.portForwardWebSocket(req, raw, socket, head, pod, connector);
      if (upgrade === 'spdy/3.1') {
        const offered = headerList(raw.headers['x-stream-protocol-version']);
        if (offered.length && !offered.includes(PORT_FORWARD_PROTOCOL)) throw protocolMismatch(offered, [PORT_FORWARD_PROTOCOL]);
        this.acceptSpdy(socket, head, PORT_FORWARD_PROTOCOL);
        this.servePortForward(socket, pod, connector);
        return;
      }
      throw errors.badRequest(`unsupported upgrade protocol ${JSON.stringify(upgrade)}: use SPDY/3.1 or websocket`);
    }
    const request = parseExecOptions(req.query, kind);
    const container = validateContainer(pod, request.container);
    if (!nodeNameOf(pod)) throw errors.badRequest(`pod ${info.name} does not have a host assigned`);
    if (!containerRunning(pod, container)) throw new KubeletRefusal(404, `container not found (${JSON.stringify(container)})`);
    const connector = this.requireConnector();
    const target: ContainerTarget = { pod, container };
    if (upgrade === 'websocket') {
      const protocol = negotiateChannelProtocol(headerList(raw.headers['sec-websocket-protocol']), EXEC_CHANNEL_PROTOCOLS);
      if (!protocol) throw unsupportedSubprotocols(raw, EXEC_CHANNEL_PROTOCOLS.map((p) => p.name));
      this.acceptWebSocket(raw, socket, head, protocol.name, (ws) => void this.execOverWebSocket(ws, protocol, kind, connector, target, request.exec));
      return;
    }
    if (upgrade === 'spdy/3.1') {
      const offered = headerList(raw.headers['x-stream-protocol-version']);
      const chosen = offered.length ? offered.find((p) => SPDY_EXEC_PROTOCOLS.includes(p)) : 'channel.k8s.io';
      if (!chosen) throw protocolMismatch(offered, SPDY_EXEC_PROTOCOLS);
      this.acceptSpdy(socket, head, offered.length ? chosen : undefined);
      this.execOverSpdy(socket, chosen, kind, connector, target, request.exec);
      return;
    }
    throw errors.badRequest(`unsupported upgrade protocol ${JSON.stringify(upgrade)}: use websocket or SPDY/3.1`);
  }

  private acceptSpdy(socket: Duplex, head: Buffer, protocol: string | undefined): void {
    this.track(socket);
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
        (protocol ? `X-Stream-Protocol-Version: ${protocol}\r\n` : '') +
        '\r\n',
    );
    if (head.length) socket.unshift(head);
  }

  private acceptWebSocket(raw: IncomingMessage, socket: Duplex, head: Buffer, protocol: string, onOpen: (ws: WebSocket) => void): void {
    this.chosenProtocol.set(raw, protocol);
    // The subprotocol is negotiated above; ws would refuse `SPDY/3.1+portforward.k8s.io` as a
    // header token ('/' is not a token character), so it sees a placeholder and answers with the
    // protocol chosen here (handleProtocols).
    raw.headers['sec-websocket-protocol'] = 'negotiated';
    this.track(socket);
    this.wss.handleUpgrade(raw, socket, head, (ws) => onOpen(ws));
  }

  private track(socket: Duplex): void {
    if ('setTimeout' in socket && typeof socket.setTimeout === 'function') (socket as unknown as { setTimeout(ms: number): void }).setTimeout(0);
    if ('setNoDelay' in socket && typeof socket.setNoDelay === 'function') (socket as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  // ---- exec and attach ---------------------------------------------------------------------------

  private async execOverWebSocket(ws: WebSocket, protocol: ChannelProtocol, kind: 'exec' | 'attach', connector: NodeConnector, target: ContainerTarget, request: ExecRequest): Promise<void> {
    const channels = new ChannelConnection(ws, protocol);
    // Inbound channels exist before the first message can arrive.
    const stdin = request.stdin ? channels.readable(0) : undefined;
    const resize = request.tty && protocol.resize ? channels.readable(4) : undefined;
    const stdout = request.stdout ? channels.writable(1) : undefined;
    const stderr = request.stderr && !request.tty ? channels.writable(2) : undefined;
    const abort = new AbortController();
    channels.onClosed(() => abort.abort());
    const status = await this.runProcess(kind, connector, target, request, { stdin, stdout, stderr, resize }, abort.signal);
    await Promise.all([settle(stdout), settle(stderr)]);
    const message = statusMessage(status, protocol.jsonStatus);
    if (message !== undefined && !channels.isClosed) channels.send(3, Buffer.from(message));
    channels.close();
  }

  private execOverSpdy(socket: Duplex, protocol: string, kind: 'exec' | 'attach', connector: NodeConnector, target: ContainerTarget, request: ExecRequest): void {
    // The streams the client announced through the query; the session starts once all are open.
    const expected = new Set<string>(['error']);
    if (request.stdin) expected.add('stdin');
    if (request.stdout) expected.add('stdout');
    if (request.stderr && !request.tty) expected.add('stderr');
    if (request.tty && protocol !== 'v2.channel.k8s.io' && protocol !== 'channel.k8s.io') expected.add('resize');
    const streams = new Map<string, SpdyStream>();
    const abort = new AbortController();
    let started = false;
    const timer = setTimeout(() => {
      if (!started) session.close();
    }, STREAM_CREATION_TIMEOUT_MS);
    timer.unref();
    const session = new SpdySession(socket, {
      onStream: (stream) => {
        const type = stream.headers['streamtype'] ?? '';
        if (started || !expected.has(type) || streams.has(type)) {
          stream.reset();
          return;
        }
        stream.reply();
        streams.set(type, stream);
        if (streams.size === expected.size) {
          started = true;
          clearTimeout(timer);
          void run();
        }
      },
      onClose: () => {
        clearTimeout(timer);
        abort.abort();
      },
    });
    const run = async () => {
      const stdout = streams.get('stdout');
      const stderr = streams.get('stderr');
      const status = await this.runProcess(kind, connector, target, request, { stdin: streams.get('stdin'), stdout, stderr, resize: streams.get('resize') }, abort.signal);
      for (const s of [stdout, stderr]) if (s && !s.writableEnded && !s.destroyed) s.end();
      await Promise.all([settle(stdout), settle(stderr)]);
      const errorStream = streams.get('error')!;
      const message = statusMessage(status, protocol === 'v4.channel.k8s.io');
      if (!errorStream.destroyed) errorStream.end(message === undefined ? undefined : Buffer.from(message));
      // The client closes the connection once it has read the status; the server closes it if the client lingers.
      session.goAway();
      setTimeout(() => session.close(), SESSION_CLOSE_GRACE_MS).unref();
    };
  }

  /** Runs exec or attach through the connector and turns its outcome into the Status the error channel carries. */
  private async runProcess(
    kind: 'exec' | 'attach',
    connector: NodeConnector,
    target: ContainerTarget,
    request: ExecRequest,
    streams: { stdin?: Readable; stdout?: Writable; stderr?: Writable; resize?: Readable },
    signal: AbortSignal,
  ): Promise<ProcessStatus> {
    const resizeListeners: Array<(size: TerminalSize) => void> = [];
    if (streams.resize) readResizes(streams.resize, (size) => resizeListeners.forEach((l) => l(size)));
    const io: ContainerIO = {
      ...(streams.stdin ? { stdin: streams.stdin } : {}),
      ...(streams.stdout ? { stdout: streams.stdout } : {}),
      ...(streams.stderr ? { stderr: streams.stderr } : {}),
      onResize: (listener) => void resizeListeners.push(listener),
    };
    try {
      const exit = kind === 'exec' ? await connector.exec(target, request, io, signal) : await connector.attach(target, request, io, signal);
      return exitStatus(exit, request.command);
    } catch (err) {
      if (!signal.aborted) this.log?.(`${kind} in ${target.pod.metadata.namespace}/${target.pod.metadata.name}/${target.container} failed: ${messageOf(err)}`);
      return isStatusError(err) ? { ...err.status } : internalErrorStatus(messageOf(err));
    }
  }

  // ---- port-forward ------------------------------------------------------------------------------

  private portForwardWebSocket(req: ApiRequest, raw: IncomingMessage, socket: Duplex, head: Buffer, pod: KubeObject, connector: NodeConnector): void {
    const offered = headerList(raw.headers['sec-websocket-protocol']);
    const tunnel = offered.find((p) => p === SPDY_TUNNEL_PREFIX + PORT_FORWARD_PROTOCOL);
    if (tunnel) {
      // kubectl 1.31+: SPDY frames inside binary WebSocket messages, as one byte stream.
      this.acceptWebSocket(raw, socket, head, tunnel, (ws) => {
        const stream = createWebSocketStream(ws);
        stream.on('error', () => stream.destroy());
        this.servePortForward(stream, pod, connector);
      });
      return;
    }
    // client-node and older clients: one WebSocket per set of ports, two channels per port.
    const protocol = negotiateChannelProtocol(offered, PORT_FORWARD_CHANNEL_PROTOCOLS);
    if (!protocol) throw unsupportedSubprotocols(raw, [SPDY_TUNNEL_PREFIX + PORT_FORWARD_PROTOCOL, ...PORT_FORWARD_CHANNEL_PROTOCOLS.map((p) => p.name)]);
    const ports = parsePortsQuery(req.query);
    this.acceptWebSocket(raw, socket, head, protocol.name, (ws) => this.portForwardChannels(ws, protocol, pod, ports, connector));
  }

  /** A port-forward SPDY session over a transport (the upgraded socket, or the byte stream of a WebSocket). */
  private servePortForward(transport: Duplex, pod: KubeObject, connector: NodeConnector): void {
    const forward = this.portForwardStreams(pod, connector);
    new SpdySession(transport, { onStream: (s) => forward.stream(s), onClose: () => forward.closed() });
  }

  /**
   * Pairs each forwarded connection's `error` and `data` streams (by `requestid`, or by stream
   * ids for clients that send none, as the kubelet does) and hands the data stream to the
   * connector. The error stream carries the kubelet's message when forwarding fails and ends
   * when the connection does, which is what kubectl waits for.
   */
  private portForwardStreams(pod: KubeObject, connector: NodeConnector) {
    const pending = new Map<string, { error?: SpdyStream; data?: SpdyStream; timer?: NodeJS.Timeout }>();
    const podLabel = `${pod.metadata.name}_${pod.metadata.namespace}`;
    const uid = pod.metadata.uid ?? '';
    const start = (error: SpdyStream, data: SpdyStream) => {
      const portText = data.headers['port'] ?? '';
      const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN;
      const fail = (message: string) => {
        if (!error.destroyed && !error.writableEnded) error.end(Buffer.from(message));
        if (!data.destroyed && !data.writableEnded) data.end();
      };
      if (!(port >= 1 && port <= 65535)) {
        fail(`error forwarding port ${portText} to pod ${podLabel}, uid ${uid}: invalid port header ${JSON.stringify(portText)}`);
        return;
      }
      // The error stream ends with the data stream: kubectl reads it to the end before it finishes a connection.
      const endError = () => {
        if (!error.destroyed && !error.writableEnded) error.end();
      };
      data.once('finish', endError);
      data.once('close', endError);
      connector.portForward(pod, port, data).catch((err: unknown) => fail(`error forwarding port ${port} to pod ${podLabel}, uid ${uid}: ${messageOf(err)}`));
    };
    return {
      stream: (stream: SpdyStream) => {
        const type = stream.headers['streamtype'];
        if (type !== 'error' && type !== 'data') {
          stream.reset();
          return;
        }
        stream.reply();
        let requestId = stream.headers['requestid'];
        if (!requestId) requestId = String(type === 'error' ? stream.id : stream.id - 2);
        const entry = pending.get(requestId) ?? {};
        if (entry[type]) {
          stream.reset();
          return;
        }
        entry[type] = stream;
        if (type === 'error') {
          // Nothing is ever read from the error stream; the client only half-closes it.
          stream.resume();
        }
        if (entry.error && entry.data) {
          clearTimeout(entry.timer);
          pending.delete(requestId);
          start(entry.error, entry.data);
        } else {
          pending.set(requestId, entry);
          // The other stream of the pair must follow; the kubelet gives up on a lone one too.
          entry.timer = setTimeout(() => {
            pending.delete(requestId);
            entry.error?.reset();
            entry.data?.reset();
          }, STREAM_CREATION_TIMEOUT_MS);
          entry.timer.unref();
        }
      },
      closed: () => {
        for (const entry of pending.values()) clearTimeout(entry.timer);
        pending.clear();
      },
    };
  }

  /** The legacy WebSocket port-forward: per port, channel 2i carries data and 2i+1 errors, each opened with the port (uint16 LE). */
  private portForwardChannels(ws: WebSocket, protocol: ChannelProtocol, pod: KubeObject, ports: number[], connector: NodeConnector): void {
    const channels = new ChannelConnection(ws, protocol);
    const podLabel = `${pod.metadata.name}_${pod.metadata.namespace}`;
    ports.forEach((port, i) => {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16LE(port);
      const inbound = channels.readable(2 * i);
      channels.send(2 * i, prefix);
      channels.send(2 * i + 1, prefix);
      const outbound = channels.writable(2 * i);
      const data = Duplex.from({ readable: inbound, writable: outbound });
      data.on('error', () => data.destroy());
      connector.portForward(pod, port, data).catch((err: unknown) => {
        channels.send(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod ${podLabel}, uid ${pod.metadata.uid ?? ''}: ${messageOf(err)}`));
      });
    });
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private definition(resource: 'pods' | 'nodes') {
    const def = this.registry.get('', 'v1', resource);
    if (!def) throw errors.pathNotFound();
    return def;
  }

  private pod(namespace: string, name: string): KubeObject {
    return this.objects.get(this.definition('pods'), namespace, name);
  }

  private requireConnector(): NodeConnector {
    if (!this.connector) throw new StatusError(503, 'ServiceUnavailable', 'error dialing backend: no node connector is registered, so no kubelet can be reached');
    return this.connector;
  }
}

// ---- logs ------------------------------------------------------------------------------------------

/**
 * Streams a container log. The response starts (200, text/plain) at the connector's first write,
 * at its end, or one turn of the event loop after the call — whichever comes first — so a
 * connector that refuses at once (e.g. `previous` with no earlier container) still yields a
 * Status, while a quiet `follow` starts at once. Each write is passed on as it comes.
 */
function streamLog(connector: NodeConnector, target: ContainerTarget, request: LogRequest): Promise<ApiResponse> {
  return new Promise<ApiResponse>((resolve, reject) => {
    const abort = new AbortController();
    const decoder = new StringDecoder('utf8');
    let sink: StreamSink | undefined;
    let pending: string[] = [];
    let responded = false;
    let done = false;
    let written = 0;
    const respond = () => {
      if (responded) return;
      responded = true;
      resolve({
        type: 'stream',
        status: 200,
        contentType: 'text/plain',
        start: (s) => {
          sink = s;
          s.onClose(() => abort.abort());
          for (const text of pending) s.write(text);
          pending = [];
          if (done) s.end();
        },
      });
    };
    const finish = () => {
      if (done) return;
      done = true;
      const rest = decoder.end();
      if (rest) emit(rest);
      respond();
      sink?.end();
      abort.abort();
    };
    const emit = (text: string): boolean => {
      if (!sink) {
        pending.push(text);
        return true;
      }
      return sink.write(text);
    };
    const out = new Writable({
      write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void) {
        if (done) return callback();
        let bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
        let last = false;
        if (request.limitBytes !== undefined && written + bytes.length >= request.limitBytes) {
          bytes = bytes.subarray(0, request.limitBytes - written);
          last = true;
        }
        written += bytes.length;
        const text = decoder.write(bytes);
        respond();
        const flowing = text ? emit(text) : true;
        if (last) {
          finish();
          return callback();
        }
        if (flowing || !sink) callback();
        else sink.onDrain(() => callback());
      },
      final(callback: (error?: Error | null) => void) {
        finish();
        callback();
      },
    });
    setImmediate(respond);
    connector.logs(target, request, out, abort.signal).then(finish, (err: unknown) => {
      if (!responded) {
        responded = true;
        done = true;
        reject(isStatusError(err) ? err : errors.badRequest(messageOf(err)));
        return;
      }
      finish();
    });
  });
}

/** PodLogOptions from the query, validated with kube's wording (ValidatePodLogOptions). */
export function parseLogOptions(query: URLSearchParams, podName: string): LogRequest {
  const integer = (name: string): number | undefined => {
    const raw = query.get(name);
    if (raw === null || raw === '') return undefined;
    if (!/^-?[0-9]{1,18}$/.test(raw)) throw errors.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(raw.slice(0, 64))}: invalid syntax`);
    return Number(raw);
  };
  const request: LogRequest = {
    follow: queryBool(query, 'follow'),
    previous: queryBool(query, 'previous'),
    timestamps: queryBool(query, 'timestamps'),
  };
  const tailLines = integer('tailLines');
  const limitBytes = integer('limitBytes');
  const sinceSeconds = integer('sinceSeconds');
  const sinceTime = query.get('sinceTime');
  if (tailLines !== undefined) request.tailLines = tailLines;
  if (limitBytes !== undefined) request.limitBytes = limitBytes;
  if (sinceSeconds !== undefined) request.sinceSeconds = sinceSeconds;
  if (sinceTime) {
    const parsed = Date.parse(sinceTime);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(sinceTime) || Number.isNaN(parsed)) {
      throw errors.badRequest(`parsing time ${JSON.stringify(sinceTime.slice(0, 64))} as "2006-01-02T15:04:05Z07:00": cannot parse as RFC 3339`);
    }
    request.sinceTime = new Date(parsed).toISOString().replace(/\.000Z$/, 'Z');
  }
  const causes = [];
  if (tailLines !== undefined && tailLines < 0) causes.push(fieldErrors.invalid('tailLines', tailLines, 'must be greater than or equal to 0'));
  if (limitBytes !== undefined && limitBytes < 1) causes.push(fieldErrors.invalid('limitBytes', limitBytes, 'must be greater than 0'));
  if (sinceSeconds !== undefined && sinceTime) causes.push(fieldErrors.forbidden('', 'at most one of `sinceTime` or `sinceSeconds` may be specified'));
  else if (sinceSeconds !== undefined && sinceSeconds < 1) causes.push(fieldErrors.invalid('sinceSeconds', sinceSeconds, 'must be greater than 0'));
  if (causes.length) throw errors.invalid({ group: '', resource: 'pods', kind: 'PodLogOptions' }, podName, causes);
  return request;
}

// ---- exec options ----------------------------------------------------------------------------------

/** kube converts query booleans as runtime.Convert_Slice_string_To_bool: anything but a false word is true. */
function queryBool(query: URLSearchParams, name: string): boolean {
  const values = query.getAll(name);
  if (!values.length) return false;
  return !/^(0|f|false|n|no)$/i.test(values[0]);
}

function parseExecOptions(query: URLSearchParams, kind: 'exec' | 'attach'): { container: string; exec: ExecRequest } {
  const exec: ExecRequest = {
    command: kind === 'exec' ? query.getAll('command') : [],
    stdin: queryBool(query, 'stdin'),
    stdout: queryBool(query, 'stdout'),
    stderr: queryBool(query, 'stderr'),
    tty: queryBool(query, 'tty'),
  };
  // With a TTY stderr is merged into stdout (the kubelet drops it the same way).
  if (exec.tty) exec.stderr = false;
  if (!exec.stdin && !exec.stdout && !exec.stderr) throw errors.badRequest('you must specify at least 1 of stdin, stdout, stderr');
  if (kind === 'exec' && !exec.command.length) throw errors.badRequest('you must specify at least one command for the container');
  return { container: query.get('container') ?? '', exec };
}

function parsePortsQuery(query: URLSearchParams): number[] {
  const texts = query.getAll('ports').flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  if (!texts.length) throw errors.badRequest('query parameter "ports" is required');
  return texts.map((text) => {
    const port = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
    if (!(port >= 1 && port <= 65535)) throw errors.badRequest(`unable to parse ${JSON.stringify(text)} as a port: must be between 1 and 65535`);
    return port;
  });
}

// ---- pod state -------------------------------------------------------------------------------------

interface ContainerStatusLite {
  name?: string;
  state?: { waiting?: { reason?: string }; running?: unknown; terminated?: { containerID?: string } };
  lastState?: { terminated?: { containerID?: string } };
  containerID?: string;
}

function list<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

function specOf(pod: KubeObject) {
  return asRecord(pod.spec) ?? {};
}

function nodeNameOf(pod: KubeObject): string {
  const name = specOf(pod).nodeName;
  return typeof name === 'string' ? name : '';
}

/** Every container name in kube's VisitContainers order: init containers, containers, ephemeral containers. */
function containerNames(pod: KubeObject): string[] {
  const spec = specOf(pod);
  return [...list<{ name?: string }>(spec.initContainers), ...list<{ name?: string }>(spec.containers), ...list<{ name?: string }>(spec.ephemeralContainers)]
    .map((c) => c.name ?? '')
    .filter(Boolean);
}

/** kube's validateContainer: the named container must exist; none named is fine only with one container. */
export function validateContainer(pod: KubeObject, container: string): string {
  const name = pod.metadata.name ?? '';
  if (container) {
    if (!containerNames(pod).includes(container)) throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
    return container;
  }
  const containers = list<{ name?: string }>(specOf(pod).containers);
  if (containers.length === 1) return containers[0].name ?? '';
  if (containers.length === 0) throw errors.badRequest(`a container name must be specified for pod ${name}`);
  throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${containerNames(pod).join(' ')}]`);
}

function containerStatusOf(pod: KubeObject, container: string): ContainerStatusLite | undefined {
  const status = asRecord(pod.status) ?? {};
  for (const field of ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses']) {
    const found = list<ContainerStatusLite>(status[field]).find((s) => s?.name === container);
    if (found) return found;
  }
  return undefined;
}

function containerRunning(pod: KubeObject, container: string): boolean {
  return !!containerStatusOf(pod, container)?.state?.running;
}

/**
 * The kubelet's validateContainerLogStatus, from the stored status. A bound pod whose status
 * does not list the container yet is one the kubelet is still creating (its own status would
 * say ContainerCreating), so it is worded that way rather than "not available".
 */
export function logStateProblem(pod: KubeObject, container: string, previous: boolean): string | undefined {
  const where = `container ${JSON.stringify(container)} in pod ${JSON.stringify(pod.metadata.name ?? '')}`;
  const status = containerStatusOf(pod, container);
  if (!status) return `${where} is waiting to start: ContainerCreating`;
  const last = status.lastState?.terminated;
  const state = status.state ?? {};
  if (previous) return last?.containerID ? undefined : `previous terminated ${where} not found`;
  if (state.running) return undefined;
  if (state.terminated) return state.terminated.containerID || last?.containerID ? undefined : `${where} is terminated`;
  if (last) return last.containerID ? undefined : `${where} is terminated`;
  if (state.waiting) {
    const reason = state.waiting.reason ?? '';
    if (reason === 'ErrImagePull') return `${where} is waiting to start: image can't be pulled`;
    if (reason === 'ImagePullBackOff') return `${where} is waiting to start: trying and failing to pull image`;
    return `${where} is waiting to start: ${reason}`;
  }
  return `${where} is waiting to start - no logs yet`;
}

/** `pods/NAME:PORT/proxy`: a number, or a container port's name; no port means 80 as kube's proxy dials the pod IP. */
function resolvePodPort(pod: KubeObject, text: string): number {
  if (!text) return 80;
  if (/^[0-9]{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535) return Number(text);
  for (const c of list<{ ports?: Array<{ name?: string; containerPort?: number }> }>(specOf(pod).containers)) {
    for (const p of c.ports ?? []) if (p.name === text && typeof p.containerPort === 'number') return p.containerPort;
  }
  throw errors.badRequest(`no such port ${JSON.stringify(text)} on pod ${pod.metadata.name}`);
}

// ---- status of a finished process -------------------------------------------------------------------

/** A Status as the kubelet writes it on the error channel (metav1.Status without type meta). */
type ProcessStatus = Record<string, unknown> & { status?: string; message?: string };

function exitStatus(exit: ExitStatus, command: string[]): ProcessStatus {
  if (exit.message) return internalErrorStatus(exit.message);
  if (exit.exitCode === 0) return { metadata: {}, status: 'Success' };
  const what = command.length ? `error executing command [${command.join(' ')}], exit code ${exit.exitCode}` : `exit code ${exit.exitCode}`;
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: ${what}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exit.exitCode) }] },
  };
}

function internalErrorStatus(message: string): ProcessStatus {
  return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${message}`, reason: 'InternalError', details: { causes: [{ message }] }, code: 500 };
}

/** v4/v5 send the Status as JSON; the older protocols send the message of a failure and nothing on success. */
function statusMessage(status: ProcessStatus, json: boolean): string | undefined {
  if (json) {
    const { kind: _kind, apiVersion: _apiVersion, ...rest } = status;
    return JSON.stringify({ metadata: {}, ...rest });
  }
  return status.status === 'Success' ? undefined : String(status.message ?? 'error');
}

/** Terminal sizes arrive as a stream of JSON objects (`{"Width":80,"Height":24}`), one per resize. */
function readResizes(stream: Readable, emit: (size: TerminalSize) => void): void {
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    if (text.length > 65536) text = text.slice(-4096);
    for (let end = text.indexOf('}'); end >= 0; end = text.indexOf('}')) {
      const start = text.indexOf('{');
      const piece = start >= 0 && start < end ? text.slice(start, end + 1) : '';
      text = text.slice(end + 1);
      try {
        const size = JSON.parse(piece) as { Width?: unknown; Height?: unknown };
        if (typeof size.Width === 'number' && typeof size.Height === 'number') emit({ width: size.Width, height: size.Height });
      } catch {
        // A malformed resize message is ignored, as the kubelet logs and skips it.
      }
    }
  });
  stream.on('error', () => {});
}

// ---- small helpers ---------------------------------------------------------------------------------

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length']);

function headerList(value: string | string[] | undefined): string[] {
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

function protocolMismatch(offered: string[], supported: string[]): KubeletRefusal {
  return new KubeletRefusal(403, `unable to upgrade: unable to negotiate protocol: client supports ${goList(offered)}, server supports ${goList(supported)}`);
}

function unsupportedSubprotocols(raw: IncomingMessage, supported: string[]): StatusError {
  return errors.badRequest(`requested protocol(s) are not supported: ${goList(headerList(raw.headers['sec-websocket-protocol']))}; supports ${goList(supported)}`);
}

function goList(values: string[]): string {
  return `[${values.join(' ')}]`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Waits for a writer to flush what it was given (or to fail); never rejects. */
async function settle(stream: Writable | undefined): Promise<void> {
  if (!stream) return;
  if (!stream.writableEnded && !stream.destroyed) stream.end();
  try {
    // Only the writing side: a SPDY stream's readable side ends when the client closes it, which it may never do.
    await finished(stream, { readable: false });
  } catch {
    // The client went away; nothing more to flush.
  }
}

/** Writes a complete HTTP response on a socket that has not been upgraded, then closes it. */
export function writeRawResponse(socket: Duplex, statusCode: number, contentType: string, body: string | Buffer): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  socket.end(
    Buffer.concat([
      Buffer.from(
        `HTTP/1.1 ${statusCode} ${http.STATUS_CODES[statusCode] ?? 'Error'}\r\nContent-Type: ${contentType}\r\nCache-Control: no-cache, private\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`,
      ),
      bytes,
    ]),
  );
}
