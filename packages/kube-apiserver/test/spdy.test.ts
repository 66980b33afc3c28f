/**
 * The SPDY/3.1 server session at the frame level, against a client written here with Node's
 * zlib (header blocks deflated with the SPDY/3 dictionary, sync-flushed per frame, as Go's
 * framer does): streams and their headers, replies, data both ways with FIN, PING, RST, and
 * hostile input closing the session without throwing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { duplexPair, type Duplex } from 'node:stream';
import zlib from 'node:zlib';
import { SpdySession, type SpdyStream } from '../src/server/spdy.js';

const dictionary = (createRequire(import.meta.url)('spdy-transport/lib/spdy-transport/protocol/spdy/dictionary.js') as Record<string, Buffer>)['3'];

interface Frame {
  control: boolean;
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** A SPDY client over one side of a duplex pair. */
class Client {
  private readonly deflate = zlib.createDeflate({ dictionary });
  private readonly inflate = zlib.createInflate({ dictionary });
  private buffered = Buffer.alloc(0);
  readonly frames: Frame[] = [];
  private waiters: Array<() => void> = [];
  ended = false;

  constructor(private readonly socket: Duplex) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 8) {
        const length = this.buffered.readUInt32BE(4) & 0xffffff;
        if (this.buffered.length < 8 + length) break;
        const control = (this.buffered[0] & 0x80) !== 0;
        const payload = this.buffered.subarray(8, 8 + length);
        this.frames.push({
          control,
          type: control ? this.buffered.readUInt16BE(2) : 0,
          flags: this.buffered[4],
          streamId: control ? (payload.length >= 4 ? payload.readUInt32BE(0) & 0x7fffffff : 0) : this.buffered.readUInt32BE(0) & 0x7fffffff,
          payload,
        });
        this.buffered = this.buffered.subarray(8 + length);
      }
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 3000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  private compress(block: Buffer): Promise<Buffer> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      const onData = (c: Buffer) => chunks.push(c);
      this.deflate.on('data', onData);
      this.deflate.write(block);
      this.deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        this.deflate.off('data', onData);
        resolve(Buffer.concat(chunks));
      });
    });
  }

  /** Inflates a server header block with the connection's inflater. */
  headers(block: Buffer): Promise<Record<string, string>> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const onData = (c: Buffer) => chunks.push(c);
      this.inflate.on('data', onData);
      this.inflate.once('error', reject);
      this.inflate.write(block);
      this.inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        this.inflate.off('data', onData);
        const raw = Buffer.concat(chunks);
        const out: Record<string, string> = {};
        let at = 4;
        for (let i = 0; i < raw.readUInt32BE(0); i++) {
          const nl = raw.readUInt32BE(at);
          const name = raw.toString('utf8', at + 4, at + 4 + nl);
          at += 4 + nl;
          const vl = raw.readUInt32BE(at);
          out[name] = raw.toString('utf8', at + 4, at + 4 + vl);
          at += 4 + vl;
        }
        resolve(out);
      });
    });
  }

  control(type: number, flags: number, payload: Buffer): void {
    const head = Buffer.alloc(8);
    head.writeUInt16BE(0x8003, 0);
    head.writeUInt16BE(type, 2);
    head.writeUInt32BE(payload.length, 4);
    head[4] = flags;
    this.socket.write(Buffer.concat([head, payload]));
  }

  async synStream(id: number, headers: Record<string, string>, fin = false): Promise<void> {
    const parts: Buffer[] = [Buffer.alloc(4)];
    parts[0].writeUInt32BE(Object.keys(headers).length);
    for (const [k, v] of Object.entries(headers)) {
      for (const text of [k, v]) {
        const len = Buffer.alloc(4);
        len.writeUInt32BE(Buffer.byteLength(text));
        parts.push(len, Buffer.from(text));
      }
    }
    const block = await this.compress(Buffer.concat(parts));
    const fixed = Buffer.alloc(10);
    fixed.writeUInt32BE(id, 0);
    this.control(1, fin ? 1 : 0, Buffer.concat([fixed, block]));
  }

  data(id: number, payload: Buffer, fin = false): void {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(id, 0);
    head.writeUInt32BE(payload.length, 4);
    head[4] = fin ? 1 : 0;
    this.socket.write(Buffer.concat([head, payload]));
  }

  dataFor(id: number): Buffer {
    return Buffer.concat(this.frames.filter((f) => !f.control && f.streamId === id).map((f) => f.payload));
  }

  finFor(id: number): boolean {
    return this.frames.some((f) => !f.control && f.streamId === id && (f.flags & 1) === 1);
  }
}

function session(onStream: (stream: SpdyStream) => void) {
  const [server, client] = duplexPair();
  let closed = false;
  new SpdySession(server, { onStream, onClose: () => (closed = true) });
  return { client: new Client(client), closed: () => closed };
}

describe('SPDY/3.1 session', () => {
  it('accepts streams with their headers, replies, and carries data both ways with FIN', async () => {
    const streams: SpdyStream[] = [];
    const { client } = session((stream) => {
      streams.push(stream);
      stream.reply();
      // Echo, upper-cased, then FIN when the client has finished.
      stream.on('data', (chunk: Buffer) => stream.write(chunk.toString().toUpperCase()));
      stream.on('end', () => stream.end());
    });
    await client.synStream(1, { streamtype: 'data', port: '8080', requestid: '0' });
    await client.synStream(3, { streamtype: 'error', port: '8080', requestid: '0' });
    await client.until(() => client.frames.filter((f) => f.control && f.type === 2).length === 2, 'two SYN_REPLY frames');
    assert.deepEqual(streams.map((s) => [s.id, s.headers]), [
      [1, { streamtype: 'data', port: '8080', requestid: '0' }],
      [3, { streamtype: 'error', port: '8080', requestid: '0' }],
    ]);
    // Every reply's header block continues one zlib stream that a standard inflater reads.
    for (const reply of client.frames.filter((f) => f.control && f.type === 2)) assert.deepEqual(await client.headers(reply.payload.subarray(4)), {});
    client.data(1, Buffer.from('hello '));
    client.data(1, Buffer.from('x'.repeat(100_000)), true);
    await client.until(() => client.finFor(1), 'FIN on stream 1');
    assert.equal(client.dataFor(1).toString(), 'HELLO ' + 'X'.repeat(100_000));
    assert.ok(client.frames.filter((f) => !f.control && f.streamId === 1).every((f) => f.payload.length <= 32 * 1024), 'data frames are cut to 32 KiB');
  });

  it('echoes the client pings and resets streams the server refuses', async () => {
    const { client } = session((stream) => stream.reset());
    const ping = Buffer.alloc(4);
    ping.writeUInt32BE(7);
    client.control(6, 0, ping);
    await client.synStream(1, { streamtype: 'bogus' });
    await client.until(() => client.frames.some((f) => f.control && f.type === 6) && client.frames.some((f) => f.control && f.type === 3), 'PING and RST_STREAM');
    assert.equal(client.frames.find((f) => f.control && f.type === 6)!.payload.readUInt32BE(0), 7);
    const rst = client.frames.find((f) => f.control && f.type === 3)!;
    assert.deepEqual([rst.payload.readUInt32BE(0), rst.payload.readUInt32BE(4)], [1, 5]);
  });

  it('a peer reset ends the server stream', async () => {
    let stream: SpdyStream | undefined;
    const { client } = session((s) => {
      stream = s;
      s.reply();
    });
    await client.synStream(1, { streamtype: 'data' });
    await client.until(() => !!stream, 'the stream');
    const rst = Buffer.alloc(8);
    rst.writeUInt32BE(1, 0);
    rst.writeUInt32BE(5, 4);
    client.control(3, 0, rst);
    await client.until(() => stream!.destroyed, 'the stream to be destroyed');
    assert.equal(stream!.wasReset, true);
  });

  it('hostile input (wrong version, undecodable headers, even stream ids) ends the session with GOAWAY, never an exception', async () => {
    const cases: Array<(c: Client) => Promise<void> | void> = [
      (c) => {
        const head = Buffer.from([0x80, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]);
        c['socket'].write(head);
      },
      (c) => {
        const fixed = Buffer.alloc(10);
        fixed.writeUInt32BE(1, 0);
        c.control(1, 0, Buffer.concat([fixed, Buffer.from('not a zlib stream at all')]));
      },
      (c) => c.synStream(2, { streamtype: 'data' }),
      (c) => {
        const head = Buffer.from([0x80, 0x03, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff]);
        c['socket'].write(head);
      },
    ];
    for (const send of cases) {
      const { client, closed } = session((s) => s.reply());
      await send(client);
      await client.until(() => client.ended && closed(), 'the session to close');
      assert.ok(client.frames.some((f) => f.control && f.type === 7), 'GOAWAY sent');
    }
  });
});
