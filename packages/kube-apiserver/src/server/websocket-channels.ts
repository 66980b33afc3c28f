/**
 * Kubernetes' channel protocols over WebSocket (k8s.io/apimachinery wsstream): each message
 * carries one channel's bytes, prefixed by the channel number — a byte in the binary protocols
 * (`channel.k8s.io`, `v2`…`v5.channel.k8s.io`), an ASCII digit followed by base64 text in the
 * base64 ones. `v5.channel.k8s.io` adds a close signal, `[255, channel]`, with which a client ends
 * one channel (stdin) without closing the connection.
 *
 * Exec and attach use channels 0 stdin, 1 stdout, 2 stderr, 3 error/status, 4 resize; the legacy
 * WebSocket port-forward uses a data and an error channel per requested port.
 */
import { Readable, Writable } from 'node:stream';
import type { WebSocket } from 'ws';

export const CLOSE_CHANNEL = 255;

export interface ChannelProtocol {
  name: string;
  base64: boolean;
  /** Status on the error channel as a JSON Status (v4, v5) rather than plain text. */
  jsonStatus: boolean;
  /** The `[255, channel]` close signal is understood (v5). */
  closeSignal: boolean;
  /** The resize channel exists (v3+). */
  resize: boolean;
}

/** Exec/attach channel protocols, in the server's order of preference when a client offers several. */
export const EXEC_CHANNEL_PROTOCOLS: ChannelProtocol[] = [
  { name: 'v5.channel.k8s.io', base64: false, jsonStatus: true, closeSignal: true, resize: true },
  { name: 'v4.channel.k8s.io', base64: false, jsonStatus: true, closeSignal: false, resize: true },
  { name: 'v4.base64.channel.k8s.io', base64: true, jsonStatus: true, closeSignal: false, resize: true },
  { name: 'v3.channel.k8s.io', base64: false, jsonStatus: false, closeSignal: false, resize: true },
  { name: 'v2.channel.k8s.io', base64: false, jsonStatus: false, closeSignal: false, resize: false },
  { name: 'channel.k8s.io', base64: false, jsonStatus: false, closeSignal: false, resize: false },
  { name: 'base64.channel.k8s.io', base64: true, jsonStatus: false, closeSignal: false, resize: false },
];

/** Protocols of the legacy WebSocket port-forward (kubelet's `portforward` over wsstream). */
export const PORT_FORWARD_CHANNEL_PROTOCOLS: ChannelProtocol[] = [
  { name: 'v4.channel.k8s.io', base64: false, jsonStatus: false, closeSignal: false, resize: false },
  { name: 'v4.base64.channel.k8s.io', base64: true, jsonStatus: false, closeSignal: false, resize: false },
  { name: 'channel.k8s.io', base64: false, jsonStatus: false, closeSignal: false, resize: false },
  { name: 'base64.channel.k8s.io', base64: true, jsonStatus: false, closeSignal: false, resize: false },
];

/**
 * Picks the protocol for a handshake. kube's wsstream honours the client's order; a client that
 * offers none gets the plain `channel.k8s.io` protocol.
 */
export function negotiateChannelProtocol(offered: Iterable<string>, supported: ChannelProtocol[]): ChannelProtocol | undefined {
  const list = [...offered];
  if (!list.length) return supported.find((p) => p.name === 'channel.k8s.io');
  for (const name of list) {
    const found = supported.find((p) => p.name === name);
    if (found) return found;
  }
  return undefined;
}

/**
 * A WebSocket carrying numbered channels: readable channels for what the client sends, writable
 * ones for what the server sends. Writes complete when the WebSocket has handed the message to
 * the socket, which gives the writers back-pressure.
 */
export class ChannelConnection {
  private readonly inbound = new Map<number, Readable>();
  private closed = false;
  private readonly closeListeners: Array<() => void> = [];

  constructor(
    readonly ws: WebSocket,
    readonly protocol: ChannelProtocol,
  ) {
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => this.onMessage(toBuffer(data), isBinary));
    ws.on('close', () => this.onClose());
    ws.on('error', () => this.onClose());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Called once when the connection is gone (either side closed it). */
  onClosed(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** A channel the client writes to (stdin, resize, port-forward data). Ends on the close signal or when the connection closes. */
  readable(channel: number): Readable {
    let stream = this.inbound.get(channel);
    if (!stream) {
      const created = new Readable({ read: () => this.ws.readyState === this.ws.OPEN && this.resume() });
      this.inbound.set(channel, created);
      stream = created;
      if (this.closed) created.push(null);
    }
    return stream;
  }

  /** A channel the server writes to (stdout, stderr, port-forward data). */
  writable(channel: number): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => this.send(channel, chunk, callback),
    });
  }

  /** Sends one message on a channel; the callback runs once it is written to the socket. */
  send(channel: number, data: Buffer, callback?: (error?: Error | null) => void): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) {
      callback?.(new Error('the WebSocket connection is closed'));
      return;
    }
    const message = this.protocol.base64
      ? String.fromCharCode(48 + channel) + data.toString('base64')
      : Buffer.concat([Buffer.from([channel]), data]);
    this.ws.send(message, { binary: !this.protocol.base64 }, (err) => callback?.(err ?? null));
  }

  /** Closes the WebSocket normally once everything queued has been sent. */
  close(code = 1000, reason = ''): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
  }

  private paused = false;

  private pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.ws.pause();
    }
  }

  private resume(): void {
    if (this.paused) {
      this.paused = false;
      this.ws.resume();
    }
  }

  private onMessage(raw: Buffer, isBinary: boolean): void {
    let channel: number;
    let payload: Buffer;
    if (this.protocol.base64) {
      if (isBinary || raw.length === 0) return;
      channel = raw[0] - 48;
      payload = Buffer.from(raw.subarray(1).toString('latin1'), 'base64');
    } else {
      if (raw.length === 0) return;
      channel = raw[0];
      payload = raw.subarray(1);
    }
    if (channel === CLOSE_CHANNEL && this.protocol.closeSignal) {
      if (payload.length) this.inbound.get(payload[0])?.push(null);
      return;
    }
    const stream = this.inbound.get(channel);
    // Data for a channel nobody listens on (stdin of a command that did not ask for it) is dropped, as kube does.
    if (!stream || stream.readableEnded) return;
    if (payload.length && !stream.push(payload)) this.pause();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.inbound.values()) if (!stream.readableEnded) stream.push(null);
    for (const l of this.closeListeners.splice(0)) l();
  }
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
