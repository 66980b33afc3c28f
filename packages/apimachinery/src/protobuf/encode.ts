/**
 * Encodes Kubernetes objects as `application/vnd.kubernetes.protobuf`, the inverse of ./decode.ts
 * over the same message tables (./schema.ts).
 *
 * The output is the `k8s\0` prefix and a `runtime.Unknown{ typeMeta{apiVersion, kind}, raw }`
 * whose `raw` is the object's message. Fields are written in field-number order, repeated fields
 * unpacked (proto2, as Go's generated marshallers write them), map entries sorted by key. Only
 * fields the JSON object carries are written: a proto2 reader treats an absent non-pointer field as
 * its zero value, which is what an omitted JSON field means too. Properties the tables do not know
 * are dropped, as Go drops JSON fields its structs do not declare.
 */
import { KUBERNETES_PROTOBUF_MAGIC } from './decode.js';
import {
  messageNameFor,
  messageSchema,
  type FieldSchema,
  type MessageSchema,
  type ScalarType,
  type SpecialType,
  type ValueType,
} from './schema.js';
import { WireType } from './wire.js';

/** The object cannot be written as protobuf: no message table for its kind, or a value of the wrong shape. */
export class ProtobufEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufEncodeError';
  }
}

/** Whether {@link encodeKubernetesProtobuf} has a message table for (apiVersion, kind), lists and v1 Status included. */
export function canEncodeKubernetesProtobuf(apiVersion: string, kind: string): boolean {
  const name = messageNameFor(apiVersion, kind);
  return name !== undefined && name !== 'meta.v1.DeleteOptions' && messageSchema(name) !== undefined;
}

/** Encodes an object (with `apiVersion` and `kind`) as a Kubernetes protobuf body. Throws {@link ProtobufEncodeError}. */
export function encodeKubernetesProtobuf(object: { apiVersion?: unknown; kind?: unknown; [key: string]: unknown }): Uint8Array {
  const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : '';
  const kind = typeof object.kind === 'string' ? object.kind : '';
  const name = messageNameFor(apiVersion, kind);
  const schema = name ? messageSchema(name) : undefined;
  if (!schema)
    throw new ProtobufEncodeError(
      `no protobuf message for kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)}`,
    );
  const typeMeta = new WireWriter();
  typeMeta.string(1, apiVersion);
  typeMeta.string(2, kind);
  const envelope = new WireWriter();
  envelope.raw(KUBERNETES_PROTOBUF_MAGIC);
  envelope.bytes(1, typeMeta.finish());
  envelope.bytes(2, encodeMessage(object, schema, 0));
  // contentEncoding and contentType: non-pointer proto2 strings, which Go writes even when empty.
  envelope.string(3, '');
  envelope.string(4, '');
  return envelope.finish();
}

/** Encodes one message (without envelope) by qualified name, e.g. `core.v1.PodSpec`. */
export function encodeProtobufMessage(messageName: string, object: Record<string, unknown>): Uint8Array {
  const schema = messageSchema(messageName);
  if (!schema) throw new ProtobufEncodeError(`unknown protobuf message ${messageName}`);
  return encodeMessage(object, schema, 0);
}

const MAX_DEPTH = 100;

function encodeMessage(object: unknown, schema: MessageSchema, depth: number): Uint8Array {
  if (depth > MAX_DEPTH) throw new ProtobufEncodeError(`objects nested deeper than ${MAX_DEPTH} levels`);
  if (!isRecord(object)) throw new ProtobufEncodeError(`${schema.name}: expected an object, got ${describe(object)}`);
  const w = new WireWriter();
  const fields = [...schema.fields.values()].sort((a, b) => a.number - b.number);
  for (const field of fields) {
    if (field.json === undefined) {
      // An inlined embedded struct: its fields are the parent's JSON properties.
      w.bytes(field.number, encodeEmbedded(object, field.type, schema, field, depth));
      continue;
    }
    if (!Object.prototype.hasOwnProperty.call(object, field.json)) continue;
    const value = object[field.json];
    if (value === undefined || value === null) continue;
    const path = `${schema.name}.${field.json}`;
    switch (field.cardinality) {
      case 'single':
        if (field.type.kind === 'scalar') {
          if (!field.keepZero && (value === '' || value === 0 || value === false)) continue;
          writeScalar(w, field.number, field.type.scalar, value, path);
        } else {
          const bytes = encodeEmbedded(value, field.type, schema, field, depth);
          w.bytes(field.number, bytes);
        }
        break;
      case 'repeated': {
        if (!Array.isArray(value)) throw new ProtobufEncodeError(`${path}: expected an array, got ${describe(value)}`);
        for (const item of value) {
          if (field.type.kind === 'scalar') writeScalar(w, field.number, field.type.scalar, item, path);
          else w.bytes(field.number, item === null ? new Uint8Array(0) : encodeEmbedded(item, field.type, schema, field, depth));
        }
        break;
      }
      case 'map': {
        if (!isRecord(value)) throw new ProtobufEncodeError(`${path}: expected an object, got ${describe(value)}`);
        // Go's marshallers sort map keys, so equal objects encode to equal bytes.
        for (const key of Object.keys(value).sort()) {
          const entry = new WireWriter();
          entry.string(1, key);
          const v = value[key];
          if (v !== null && v !== undefined) {
            if (field.type.kind === 'scalar') writeScalar(entry, 2, field.type.scalar, v, `${path}[${key}]`);
            else entry.bytes(2, encodeEmbedded(v, field.type, schema, field, depth));
          }
          w.bytes(field.number, entry.finish());
        }
        break;
      }
    }
  }
  return w.finish();
}

function encodeEmbedded(
  value: unknown,
  type: Exclude<ValueType, { kind: 'scalar' }> | ValueType,
  schema: MessageSchema,
  field: FieldSchema,
  depth: number,
): Uint8Array {
  const path = `${schema.name}.${field.json ?? `(${field.number})`}`;
  if (type.kind === 'scalar') throw new Error('unreachable: scalar as message');
  if (type.kind === 'special') return encodeSpecial(value, type.special, path, depth + 1);
  const nested = messageSchema(type.message);
  if (!nested) throw new Error(`protobuf schema: unknown message ${type.message}`);
  return encodeMessage(value, nested, depth + 1);
}

function writeScalar(w: WireWriter, field: number, scalar: ScalarType, value: unknown, path: string): void {
  switch (scalar) {
    case 'string':
      if (typeof value !== 'string') throw new ProtobufEncodeError(`${path}: expected a string, got ${describe(value)}`);
      w.string(field, value);
      return;
    case 'bytes':
      if (typeof value !== 'string') throw new ProtobufEncodeError(`${path}: expected base64 bytes, got ${describe(value)}`);
      w.bytes(field, Buffer.from(value, 'base64'));
      return;
    case 'bool':
      if (typeof value !== 'boolean') throw new ProtobufEncodeError(`${path}: expected a boolean, got ${describe(value)}`);
      w.tag(field, WireType.Varint);
      w.varint(value ? 1n : 0n);
      return;
    case 'int32':
    case 'int64': {
      if (typeof value !== 'number' || !Number.isInteger(value))
        throw new ProtobufEncodeError(`${path}: expected an integer, got ${describe(value)}`);
      w.tag(field, WireType.Varint);
      // Negative numbers are sign-extended to 64 bits, as Go writes int32 and int64 alike.
      w.varint(BigInt.asUintN(64, BigInt(scalar === 'int32' ? value | 0 : value)));
      return;
    }
    case 'double':
      if (typeof value !== 'number') throw new ProtobufEncodeError(`${path}: expected a number, got ${describe(value)}`);
      w.tag(field, WireType.Fixed64);
      w.double(value);
      return;
  }
}

// ---- Types with their own JSON form ----

function encodeSpecial(value: unknown, special: SpecialType, path: string, depth: number): Uint8Array {
  const w = new WireWriter();
  switch (special) {
    case 'time':
    case 'microTime': {
      if (typeof value !== 'string') throw new ProtobufEncodeError(`${path}: expected an RFC 3339 time, got ${describe(value)}`);
      const { seconds, nanos } = parseRfc3339(value, path);
      if (seconds !== 0) {
        w.tag(1, WireType.Varint);
        w.varint(BigInt.asUintN(64, BigInt(seconds)));
      }
      if (nanos !== 0) {
        w.tag(2, WireType.Varint);
        w.varint(BigInt(nanos));
      }
      return w.finish();
    }
    case 'duration': {
      if (typeof value !== 'string') throw new ProtobufEncodeError(`${path}: expected a duration, got ${describe(value)}`);
      w.tag(1, WireType.Varint);
      w.varint(BigInt.asUintN(64, parseGoDuration(value, path)));
      return w.finish();
    }
    case 'intOrString': {
      // Go writes all three fields of intstr.IntOrString.
      const isString = typeof value === 'string';
      if (!isString && (typeof value !== 'number' || !Number.isInteger(value)))
        throw new ProtobufEncodeError(`${path}: expected an integer or a string, got ${describe(value)}`);
      w.tag(1, WireType.Varint);
      w.varint(isString ? 1n : 0n);
      w.tag(2, WireType.Varint);
      w.varint(BigInt.asUintN(64, BigInt(isString ? 0 : (value as number) | 0)));
      w.string(3, isString ? value : '');
      return w.finish();
    }
    case 'quantity': {
      if (typeof value !== 'string' && typeof value !== 'number')
        throw new ProtobufEncodeError(`${path}: expected a quantity, got ${describe(value)}`);
      w.string(1, String(value));
      return w.finish();
    }
    case 'rawExtension':
    case 'fieldsV1':
      w.bytes(1, new TextEncoder().encode(JSON.stringify(value)));
      return w.finish();
    case 'stringList': {
      if (!Array.isArray(value)) throw new ProtobufEncodeError(`${path}: expected an array, got ${describe(value)}`);
      for (const item of value) writeScalar(w, 1, 'string', item, path);
      return w.finish();
    }
  }
  void depth;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** RFC 3339 (as metav1.Time and MicroTime unmarshal it) to Unix seconds and nanoseconds. */
function parseRfc3339(text: string, path: string): { seconds: number; nanos: number } {
  const m = RFC3339.exec(text);
  if (!m) throw new ProtobufEncodeError(`${path}: ${JSON.stringify(text)} is not an RFC 3339 time`);
  const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = m;
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s), 0);
  let seconds = Math.floor(date.getTime() / 1000);
  if (sign) seconds -= (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om) * 60);
  const nanos = frac ? Number(frac.padEnd(9, '0')) : 0;
  return { seconds, nanos };
}

const DURATION_UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  µs: 1000n,
  μs: 1000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Go's time.ParseDuration: "1h0m0s", "2m30.5s", "-1.5ms", "0". */
export function parseGoDuration(text: string, path = 'duration'): bigint {
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') throw new ProtobufEncodeError(`${path}: invalid duration ${JSON.stringify(text)}`);
  let total = 0n;
  const part = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  while (rest !== '') {
    const m = part.exec(rest);
    if (!m || (m[1] === '' && !m[2])) throw new ProtobufEncodeError(`${path}: invalid duration ${JSON.stringify(text)}`);
    const unit = DURATION_UNITS[m[3]];
    total += BigInt(m[1] || '0') * unit;
    if (m[2]) total += (BigInt(m[2]) * unit) / 10n ** BigInt(m[2].length);
    rest = rest.slice(m[0].length);
  }
  return negative ? -total : total;
}

// ---- writer ----

/** Appends protobuf wire-format data to a growing buffer. */
class WireWriter {
  private buf = new Uint8Array(64);
  private length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  raw(bytes: Readonly<Uint8Array>): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  varint(value: bigint): void {
    this.reserve(10);
    let v = value;
    while (v >= 0x80n) {
      this.buf[this.length++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.length++] = Number(v);
  }

  tag(field: number, wireType: WireType): void {
    this.varint(BigInt(field) * 8n + BigInt(wireType));
  }

  bytes(field: number, bytes: Uint8Array): void {
    this.tag(field, WireType.LengthDelimited);
    this.varint(BigInt(bytes.length));
    this.raw(bytes);
  }

  string(field: number, text: string): void {
    this.bytes(field, new TextEncoder().encode(text));
  }

  double(value: number): void {
    this.reserve(8);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat64(this.length, value, true);
    this.length += 8;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
}
