/**
 * The server side of SPDY/3.1, as kubectl's streaming clients speak it (client-go over
 * moby/spdystream): `kubectl exec`/`attach` of kubectl 1.27–1.29, `kubectl port-forward` of
 * every version, and port-forward tunnelled through a WebSocket (kubectl 1.31+).
 *
 * Only what those peers use is implemented: client-initiated streams (SYN_STREAM → SYN_REPLY),
 * DATA with FIN half-close, RST_STREAM, PING echo, SETTINGS, HEADERS, GOAWAY. Flow control
 * (WINDOW_UPDATE) is accepted and ignored, as spdystream does on both sides: it neither sends nor
 * waits for window updates, so enforcing windows here would stall after 64 KiB. Back-pressure is
 * the transport's (TCP or the WebSocket).
 *
 * Header blocks are zlib streams shared by a whole connection (one per direction) with the
 * SPDY/3 dictionary. Incoming blocks are inflated with Node's zlib; outgoing blocks are written
 * as stored (uncompressed) deflate blocks on a byte boundary, which every inflater reads as the
 * continuation of one stream — the same bytes a Z_SYNC_FLUSH at level 0 produces, without an
 * asynchronous compressor in the write path.
 */
import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';

const require = createRequire(import.meta.url);
/** The SPDY/3 header compression dictionary (a protocol constant, taken from spdy-transport). */
const SPDY3_DICTIONARY = (require('spdy-transport/lib/spdy-transport/protocol/spdy/dictionary.js') as Record<string, Buffer>)['3'];

const SPDY_VERSION = 3;
const FRAME_HEADER_BYTES = 8;
/** Control frames carry headers and settings only; anything larger is an attack, not a request. */
const MAX_CONTROL_FRAME_BYTES = 1 << 20;
/** Outgoing DATA frames are cut to this size so one busy stream does not monopolise the connection. */
const MAX_DATA_FRAME_BYTES = 32 * 1024;

const FrameType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

const FLAG_FIN = 0x01;

/** RST_STREAM status codes (SPDY/3.1 §2.6.3). */
export const RstStatus = {
  ProtocolError: 1,
  InvalidStream: 2,
  RefusedStream: 3,
  UnsupportedVersion: 4,
  Cancel: 5,
  InternalError: 6,
  FlowControlError: 7,
  StreamInUse: 8,
  StreamAlreadyClosed: 9,
  FrameTooLarge: 11,
} as const;

const GoAwayStatus = { Ok: 0, ProtocolError: 1, InternalError: 2 } as const;

export type SpdyHeaders = Record<string, string>;

interface ControlFrame {
  control: true;
  type: number;
  flags: number;
  payload: Buffer;
}

interface DataFrame {
  control: false;
  streamId: number;
  flags: number;
  payload: Buffer;
}

type Frame = ControlFrame | DataFrame;

/** Serialises a name/value header block (before compression): counts and lengths are 32-bit big-endian. */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  const entries = Object.entries(headers);
  count.writeUInt32BE(entries.length);
  parts.push(count);
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(value, 'utf8');
    const nl = Buffer.alloc(4);
    nl.writeUInt32BE(n.length);
    const vl = Buffer.alloc(4);
    vl.writeUInt32BE(v.length);
    parts.push(nl, n, vl, v);
  }
  return Buffer.concat(parts);
}

/** Parses an inflated header block; several values of one name (NUL-separated) are joined with ", " as HTTP does. */
export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  const headers: SpdyHeaders = {};
  if (block.length < 4) throw new Error('header block too short');
  const count = block.readUInt32BE(0);
  let at = 4;
  const take = (): string => {
    if (at + 4 > block.length) throw new Error('truncated header block');
    const len = block.readUInt32BE(at);
    at += 4;
    if (at + len > block.length) throw new Error('truncated header block');
    const text = block.toString('utf8', at, at + len);
    at += len;
    return text;
  };
  for (let i = 0; i < count; i++) {
    const name = take().toLowerCase();
    const value = take().split('\0').join(', ');
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}

const SYNC_FLUSH_MARKER = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);

/**
 * Compresses header blocks for one direction of a connection as stored deflate blocks (see the
 * module comment): the first block starts the zlib stream, each block is byte-aligned.
 */
class StoredHeaderCompressor {
  private started = false;

  compress(block: Buffer): Buffer {
    const parts: Buffer[] = [];
    if (!this.started) {
      // CMF 0x78 (deflate, 32K window), FLG 0x01: no preset dictionary needed to read stored blocks.
      parts.push(Buffer.from([0x78, 0x01]));
      this.started = true;
    }
    for (let at = 0; at < block.length || at === 0; at += 0xffff) {
      const piece = block.subarray(at, Math.min(block.length, at + 0xffff));
      const head = Buffer.alloc(5);
      head[0] = 0x00; // BFINAL=0, BTYPE=00 (stored); the remaining bits pad to the byte boundary
      head.writeUInt16LE(piece.length, 1);
      head.writeUInt16LE(~piece.length & 0xffff, 3);
      parts.push(head, piece);
      if (block.length === 0) break;
    }
    // An empty stored block ends each header block, as Z_SYNC_FLUSH does: Go's inflater hands out
    // a stored block's bytes only when it reaches the next block, and reaching past the frame
    // would poison the connection's decompressor.
    parts.push(SYNC_FLUSH_MARKER);
    return Buffer.concat(parts);
  }
}

/** Inflates the peer's header blocks: one zlib stream per connection, flushed per frame. */
class HeaderInflater {
  private readonly inflate = zlib.createInflate({ dictionary: SPDY3_DICTIONARY });
  private failed: Error | undefined;

  constructor() {
    this.inflate.on('error', (err) => (this.failed = err));
  }

  block(compressed: Buffer): Promise<Buffer> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.inflate.once('error', onError);
      this.inflate.write(compressed);
      this.inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        this.inflate.off('error', onError);
        if (this.failed) return reject(this.failed);
        const chunks: Buffer[] = [];
        for (let chunk = this.inflate.read() as Buffer | null; chunk; chunk = this.inflate.read() as Buffer | null) chunks.push(chunk);
        resolve(Buffer.concat(chunks));
      });
    });
  }

  close(): void {
    this.inflate.destroy();
  }
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(FRAME_HEADER_BYTES);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(payload.length, 4);
  head[4] = flags;
  return Buffer.concat([head, payload]);
}

function dataFrame(streamId: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(FRAME_HEADER_BYTES);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(payload.length, 4);
  head[4] = flags;
  return payload.length ? Buffer.concat([head, payload]) : head;
}

function uint32Pair(a: number, b: number): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(a >>> 0, 0);
  payload.writeUInt32BE(b >>> 0, 4);
  return payload;
}

/**
 * One stream of a session: the readable side is what the peer sends (ending at its FIN), the
 * writable side goes out as DATA frames (ending with a FIN). Destroying a stream that is not
 * closed both ways resets it (RST_STREAM CANCEL).
 */
export class SpdyStream extends Duplex {
  private replied = false;
  /** The peer sent FIN (or reset the stream). */
  remoteClosed = false;
  /** We sent FIN (or reset the stream). */
  localClosed = false;
  /** The peer reset the stream. */
  wasReset = false;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: SpdyHeaders,
  ) {
    super({ allowHalfOpen: true });
  }

  /** Accepts the stream (SYN_REPLY); spdystream peers wait for it before using a stream. */
  reply(headers: SpdyHeaders = {}): void {
    if (this.replied || this.localClosed) return;
    this.replied = true;
    this.session.sendReply(this.id, headers);
  }

  /** Refuses or abandons the stream. */
  reset(status: number = RstStatus.Cancel): void {
    if (!this.localClosed || !this.remoteClosed) this.session.sendReset(this.id, status);
    this.localClosed = true;
    this.remoteClosed = true;
    this.destroy();
  }

  override _read(): void {
    this.session.resumeTransport();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.localClosed) return callback(new Error(`SPDY stream ${this.id} is closed`));
    this.reply();
    this.session.sendData(this.id, chunk, false, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.localClosed) return callback();
    this.reply();
    this.localClosed = true;
    this.session.sendData(this.id, Buffer.alloc(0), true, callback);
    this.session.maybeForget(this);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.localClosed || !this.remoteClosed) {
      this.session.sendReset(this.id, RstStatus.Cancel);
      this.localClosed = true;
      this.remoteClosed = true;
    }
    this.session.forget(this);
    callback(error);
  }

  /** Called by the session for the peer's DATA. */
  receive(data: Buffer, fin: boolean): void {
    if (this.remoteClosed) return;
    if (data.length && !this.push(data)) this.session.pauseTransport();
    if (fin) {
      this.remoteClosed = true;
      this.push(null);
      this.session.maybeForget(this);
    }
  }

  /** Called by the session when the peer resets the stream or the connection ends. */
  abort(): void {
    this.wasReset = true;
    this.remoteClosed = true;
    this.localClosed = true;
    this.destroy();
  }
}

export interface SpdySessionOptions {
  /** A new stream from the peer, with its headers. Reply to accept it, reset to refuse it. */
  onStream(stream: SpdyStream): void;
  /** The connection ended (peer closed, GOAWAY handled, transport error). */
  onClose?(): void;
}

/** A SPDY/3.1 server session over a byte transport (a TCP/TLS socket or a WebSocket stream). */
export class SpdySession {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly streams = new Map<number, SpdyStream>();
  private readonly compressor = new StoredHeaderCompressor();
  private readonly inflater = new HeaderInflater();
  /** Frames are handled in order; header blocks make that asynchronous (zlib). */
  private work: Promise<void> = Promise.resolve();
  private lastPeerStreamId = 0;
  private goingAway = false;
  private closed = false;
  private paused = false;

  constructor(
    private readonly transport: Duplex,
    private readonly options: SpdySessionOptions,
  ) {
    transport.on('data', (chunk: Buffer) => this.onBytes(chunk));
    transport.on('end', () => this.shutdown());
    transport.on('close', () => this.shutdown());
    transport.on('error', () => this.shutdown());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private onBytes(chunk: Buffer): void {
    if (this.closed) return;
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    while (this.buffered.length >= FRAME_HEADER_BYTES) {
      const length = this.buffered.readUInt32BE(4) & 0xffffff;
      const control = (this.buffered[0] & 0x80) !== 0;
      if (control && length > MAX_CONTROL_FRAME_BYTES) return this.fail(GoAwayStatus.ProtocolError);
      if (this.buffered.length < FRAME_HEADER_BYTES + length) break;
      const flags = this.buffered[4];
      const payload = this.buffered.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length);
      let frame: Frame;
      if (control) {
        const version = this.buffered.readUInt16BE(0) & 0x7fff;
        if (version !== SPDY_VERSION) return this.fail(GoAwayStatus.ProtocolError);
        frame = { control: true, type: this.buffered.readUInt16BE(2), flags, payload };
      } else {
        frame = { control: false, streamId: this.buffered.readUInt32BE(0) & 0x7fffffff, flags, payload };
      }
      this.buffered = this.buffered.subarray(FRAME_HEADER_BYTES + length);
      this.work = this.work.then(() => this.handle(frame)).catch(() => this.fail(GoAwayStatus.ProtocolError));
    }
  }

  private async handle(frame: Frame): Promise<void> {
    if (this.closed) return;
    if (!frame.control) {
      const stream = this.streams.get(frame.streamId);
      if (!stream) {
        if (frame.streamId > this.lastPeerStreamId || frame.streamId === 0) this.sendReset(frame.streamId, RstStatus.InvalidStream);
        return;
      }
      stream.receive(frame.payload, (frame.flags & FLAG_FIN) !== 0);
      return;
    }
    const p = frame.payload;
    switch (frame.type) {
      case FrameType.SynStream: {
        if (p.length < 10) return this.fail(GoAwayStatus.ProtocolError);
        const id = p.readUInt32BE(0) & 0x7fffffff;
        const headers = decodeHeaderBlock(await this.inflater.block(p.subarray(10)));
        // Client streams are odd and increasing (SPDY/3.1 §2.3.2).
        if (id % 2 === 0 || id <= this.lastPeerStreamId) return this.fail(GoAwayStatus.ProtocolError);
        this.lastPeerStreamId = id;
        if (this.goingAway) {
          this.sendReset(id, RstStatus.RefusedStream);
          return;
        }
        const stream = new SpdyStream(this, id, headers);
        this.streams.set(id, stream);
        if (frame.flags & FLAG_FIN) stream.receive(Buffer.alloc(0), true);
        this.options.onStream(stream);
        return;
      }
      case FrameType.Headers: {
        if (p.length < 4) return this.fail(GoAwayStatus.ProtocolError);
        // Keep the shared zlib stream in step even though extra headers change nothing here.
        await this.inflater.block(p.subarray(4));
        const stream = this.streams.get(p.readUInt32BE(0) & 0x7fffffff);
        if (stream && frame.flags & FLAG_FIN) stream.receive(Buffer.alloc(0), true);
        return;
      }
      case FrameType.SynReply:
        // Servers do not open streams, so no reply is expected; keep the zlib stream in step.
        if (p.length > 4) await this.inflater.block(p.subarray(4));
        return;
      case FrameType.RstStream: {
        if (p.length < 8) return this.fail(GoAwayStatus.ProtocolError);
        this.streams.get(p.readUInt32BE(0) & 0x7fffffff)?.abort();
        return;
      }
      case FrameType.Ping:
        // Echo the peer's pings (odd ids); ours would be even, and we send none.
        if (p.length >= 4 && p.readUInt32BE(0) % 2 === 1) this.writeFrame(controlFrame(FrameType.Ping, 0, p.subarray(0, 4)));
        return;
      case FrameType.GoAway:
        this.goingAway = true;
        if (this.streams.size === 0) this.close();
        return;
      case FrameType.Settings:
      case FrameType.WindowUpdate:
      default:
        // Unknown control frames are ignored (SPDY/3.1 §2.2.1).
        return;
    }
  }

  writeFrame(bytes: Buffer, callback?: (error?: Error | null) => void): void {
    if (this.closed || this.transport.destroyed || this.transport.writableEnded) {
      callback?.(new Error('SPDY connection closed'));
      return;
    }
    if (this.transport.write(bytes) || !callback) {
      callback?.();
      return;
    }
    // Back-pressure: the writer continues once the transport drains (or errors out).
    const done = () => {
      this.transport.off('drain', done);
      this.transport.off('close', done);
      callback();
    };
    this.transport.on('drain', done);
    this.transport.on('close', done);
  }

  sendReply(id: number, headers: SpdyHeaders): void {
    const block = this.compressor.compress(encodeHeaderBlock(headers));
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(id);
    this.writeFrame(controlFrame(FrameType.SynReply, 0, Buffer.concat([payload, block])));
  }

  sendData(id: number, data: Buffer, fin: boolean, callback: (error?: Error | null) => void): void {
    if (data.length <= MAX_DATA_FRAME_BYTES) {
      this.writeFrame(dataFrame(id, fin ? FLAG_FIN : 0, data), callback);
      return;
    }
    for (let at = 0; at < data.length; at += MAX_DATA_FRAME_BYTES) {
      const last = at + MAX_DATA_FRAME_BYTES >= data.length;
      const piece = data.subarray(at, at + MAX_DATA_FRAME_BYTES);
      this.writeFrame(dataFrame(id, last && fin ? FLAG_FIN : 0, piece), last ? callback : undefined);
    }
  }

  sendReset(id: number, status: number): void {
    this.writeFrame(controlFrame(FrameType.RstStream, 0, uint32Pair(id, status)));
  }

  pauseTransport(): void {
    if (!this.paused) {
      this.paused = true;
      this.transport.pause();
    }
  }

  resumeTransport(): void {
    if (this.paused) {
      this.paused = false;
      this.transport.resume();
    }
  }

  /** Drops a stream that is closed both ways. */
  maybeForget(stream: SpdyStream): void {
    if (stream.localClosed && stream.remoteClosed) this.forget(stream);
  }

  forget(stream: SpdyStream): void {
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    if (this.goingAway && this.streams.size === 0) this.close();
  }

  /**
   * Ends the session gracefully: GOAWAY, then the transport closes once every stream is done
   * (the peer usually closes first, as spdystream does after reading its results).
   */
  goAway(): void {
    if (this.closed || this.goingAway) return;
    this.goingAway = true;
    this.writeFrame(controlFrame(FrameType.GoAway, 0, uint32Pair(this.lastPeerStreamId, GoAwayStatus.Ok)));
    if (this.streams.size === 0) this.close();
  }

  /** Closes the transport after what was written has been flushed. */
  close(): void {
    if (this.closed) return;
    this.transport.end();
    this.shutdown();
  }

  private fail(status: number): void {
    if (this.closed) return;
    this.writeFrame(controlFrame(FrameType.GoAway, 0, uint32Pair(this.lastPeerStreamId, status)));
    this.transport.end();
    this.shutdown();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.inflater.close();
    for (const stream of [...this.streams.values()]) stream.abort();
    this.streams.clear();
    this.options.onClose?.();
  }
}
