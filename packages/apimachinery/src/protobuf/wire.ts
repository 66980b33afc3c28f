/**
 * A strict reader for the protocol buffers wire format (proto2 as Kubernetes writes it).
 *
 * Every read is bounds-checked against the slice being read, so malformed input fails with a
 * {@link ProtobufDecodeError} instead of reading past the end, looping, or allocating without
 * limit. The reader never recurses: callers that descend into nested messages bound their own depth.
 */

/** Malformed protobuf input: truncated data, bad varints, wrong wire types, invalid lengths. */
export class ProtobufDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufDecodeError';
  }
}

export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  StartGroup: 3,
  EndGroup: 4,
  Fixed32: 5,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

export interface FieldTag {
  field: number;
  wireType: WireType;
}

/** A 64-bit varint split in two unsigned 32-bit halves, so that no precision is lost before the caller decides. */
export interface Varint64 {
  lo: number;
  hi: number;
}

const TWO_32 = 4294967296;
const MAX_FIELD_NUMBER = 0x1fffffff; // 2^29 - 1
const utf8 = new TextDecoder('utf-8'); // not fatal: invalid UTF-8 becomes U+FFFD, as Go's JSON encoder writes it

export class WireReader {
  private pos: number;

  /** Reads `buf[start, end)`. */
  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
  ) {
    if (start < 0 || end > buf.length || start > end) throw new ProtobufDecodeError('invalid slice bounds');
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a field key. Field number 0, numbers above 2^29-1 and wire types 6/7 are malformed. */
  readTag(): FieldTag {
    const at = this.pos;
    const key = this.readVarint64();
    if (key.hi > 0) throw new ProtobufDecodeError(`field key out of range at offset ${at}`);
    const wireType = key.lo & 7;
    const field = key.lo >>> 3;
    if (field === 0 || field > MAX_FIELD_NUMBER) throw new ProtobufDecodeError(`invalid field number ${field} at offset ${at}`);
    if (wireType > 5) throw new ProtobufDecodeError(`invalid wire type ${wireType} at offset ${at}`);
    return { field, wireType: wireType as WireType };
  }

  /** Reads a varint of at most 10 bytes whose value fits in 64 bits. */
  readVarint64(): Varint64 {
    let lo = 0;
    let hi = 0;
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufDecodeError(`truncated varint at offset ${start}`);
      const b = this.buf[this.pos++];
      if (i < 4) {
        lo |= (b & 0x7f) << (7 * i);
      } else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else if (i < 9) {
        hi |= (b & 0x7f) << (7 * i - 32);
      } else if (b > 1) {
        // The tenth byte carries only bit 63.
        throw new ProtobufDecodeError(`varint overflows 64 bits at offset ${start}`);
      } else {
        hi |= b << 31;
      }
      if (b < 0x80) return { lo: lo >>> 0, hi: hi >>> 0 };
    }
    throw new ProtobufDecodeError(`varint longer than 10 bytes at offset ${start}`);
  }

  /** int32 fields: Go writes negative values sign-extended to 64 bits; the low 32 bits are the value. */
  readInt32(): number {
    return this.readVarint64().lo | 0;
  }

  /** uint32 (lengths, enums): the low 32 bits. */
  readUint32(): number {
    return this.readVarint64().lo;
  }

  /**
   * int64 as a JavaScript number: exact within ±2^53, otherwise the nearest double
   * (what JSON.parse makes of the same digits).
   */
  readInt64(): number {
    const { lo, hi } = this.readVarint64();
    if (hi & 0x80000000) {
      const value = (hi | 0) * TWO_32 + lo;
      return Number.isSafeInteger(value) ? value : Number(BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)));
    }
    const value = hi * TWO_32 + lo;
    return Number.isSafeInteger(value) ? value : Number((BigInt(hi) << 32n) | BigInt(lo));
  }

  /** int64 exactly, as a BigInt. */
  readInt64BigInt(): bigint {
    const { lo, hi } = this.readVarint64();
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  }

  /** uint64 exactly, as a BigInt. */
  readUint64BigInt(): bigint {
    const { lo, hi } = this.readVarint64();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  readBool(): boolean {
    const { lo, hi } = this.readVarint64();
    return lo !== 0 || hi !== 0;
  }

  readFixed32(): number {
    this.need(4);
    const v =
      (this.buf[this.pos] | (this.buf[this.pos + 1] << 8) | (this.buf[this.pos + 2] << 16) | (this.buf[this.pos + 3] << 24)) >>>
      0;
    this.pos += 4;
    return v;
  }

  readDouble(): number {
    this.need(8);
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getFloat64(0, true);
  }

  readFloat(): number {
    this.need(4);
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4);
    this.pos += 4;
    return view.getFloat32(0, true);
  }

  /** A length-delimited field's payload, as a view into the input (no copy). */
  readBytes(): Uint8Array {
    const at = this.pos;
    const { lo, hi } = this.readVarint64();
    if (hi !== 0 || lo > this.end - this.pos)
      throw new ProtobufDecodeError(`length-delimited field at offset ${at} runs past the end of its message`);
    const bytes = this.buf.subarray(this.pos, this.pos + lo);
    this.pos += lo;
    return bytes;
  }

  readString(): string {
    return utf8.decode(this.readBytes());
  }

  /** Skips the value of a field of the given wire type. Groups (deprecated, never written by Kubernetes) are rejected. */
  skip(wireType: WireType): void {
    switch (wireType) {
      case WireType.Varint:
        this.readVarint64();
        return;
      case WireType.Fixed64:
        this.need(8);
        this.pos += 8;
        return;
      case WireType.LengthDelimited:
        this.readBytes();
        return;
      case WireType.Fixed32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new ProtobufDecodeError(`unsupported wire type ${wireType} (groups) at offset ${this.pos}`);
    }
  }

  private need(n: number): void {
    if (this.end - this.pos < n) throw new ProtobufDecodeError(`truncated fixed-width field at offset ${this.pos}`);
  }
}
