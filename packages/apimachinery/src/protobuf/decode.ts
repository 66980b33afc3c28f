/**
 * Decodes Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) into the
 * JSON shape the JSON API carries for the same object.
 *
 * The envelope is the 4 bytes `k8s\0` followed by a `runtime.Unknown` message:
 * `{ typeMeta = 1 { apiVersion = 1, kind = 2 }, raw = 2, contentEncoding = 3, contentType = 4 }`,
 * where `raw` is the object's own message. Messages are proto2 as Go's generated marshallers write
 * them: pointer fields only when set, non-pointer fields always (zero values included), so the
 * field tables in ./schema.ts say which zero values JSON would carry.
 */
import { ProtobufDecodeError, WireReader, WireType, type FieldTag } from './wire.js';
import {
  messageNameFor,
  messageSchema,
  type FieldSchema,
  type MessageSchema,
  type ScalarType,
  type SpecialType,
  type ValueType,
} from './schema.js';

export { ProtobufDecodeError } from './wire.js';

export const KUBERNETES_PROTOBUF_MAGIC: Readonly<Uint8Array> = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

/** A well-formed envelope whose (apiVersion, kind) this decoder has no message table for: the server answers 415. */
export class UnsupportedProtobufKindError extends Error {
  constructor(
    readonly apiVersion: string,
    readonly kind: string,
  ) {
    super(
      `protobuf bodies of kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)} are not supported; send application/json`,
    );
    this.name = 'UnsupportedProtobufKindError';
  }
}

export interface DecodedKubernetesObject {
  apiVersion: string;
  kind: string;
  /** The object as JSON would carry it, with `apiVersion` and `kind` set. */
  object: Record<string, unknown>;
}

/**
 * Real objects nest about a dozen messages deep (Pod → spec → affinity → … → matchExpressions);
 * the bound keeps hostile input from exhausting the stack.
 */
const MAX_DEPTH = 100;

export function isKubernetesProtobuf(body: Uint8Array): boolean {
  return body.length >= 4 && body[0] === 0x6b && body[1] === 0x38 && body[2] === 0x73 && body[3] === 0x00;
}

/**
 * Decodes a protobuf request body. Throws {@link ProtobufDecodeError} for malformed input and
 * {@link UnsupportedProtobufKindError} when the kind has no message table.
 */
export function decodeKubernetesProtobuf(body: Uint8Array): DecodedKubernetesObject {
  return decodeEnvelope(body, 0);
}

/** Decodes one message (without envelope) by qualified name, e.g. `core.v1.PodSpec`. */
export function decodeProtobufMessage(messageName: string, bytes: Uint8Array): Record<string, unknown> {
  const schema = messageSchema(messageName);
  if (!schema) throw new Error(`unknown protobuf message ${messageName}`);
  return decodeMessage(bytes, schema, 0);
}

function decodeEnvelope(body: Uint8Array, depth: number): DecodedKubernetesObject {
  if (!isKubernetesProtobuf(body))
    throw new ProtobufDecodeError('the body does not start with the Kubernetes protobuf prefix "k8s\\0"');
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array | undefined;
  let contentEncoding = '';
  const reader = new WireReader(body, 4);
  while (!reader.done) {
    const tag = reader.readTag();
    switch (tag.field) {
      case 1: {
        expectWireType(tag, WireType.LengthDelimited, 'Unknown.typeMeta');
        const typeMeta = new WireReader(reader.readBytes());
        while (!typeMeta.done) {
          const t = typeMeta.readTag();
          if (t.field === 1 || t.field === 2) {
            expectWireType(t, WireType.LengthDelimited, t.field === 1 ? 'TypeMeta.apiVersion' : 'TypeMeta.kind');
            if (t.field === 1) apiVersion = typeMeta.readString();
            else kind = typeMeta.readString();
          } else {
            typeMeta.skip(t.wireType);
          }
        }
        break;
      }
      case 2:
        expectWireType(tag, WireType.LengthDelimited, 'Unknown.raw');
        raw = reader.readBytes();
        break;
      case 3:
        expectWireType(tag, WireType.LengthDelimited, 'Unknown.contentEncoding');
        contentEncoding = reader.readString();
        break;
      default:
        // contentType (4) only ever names protobuf itself; newer fields are skipped.
        reader.skip(tag.wireType);
    }
  }
  if (contentEncoding !== '')
    throw new ProtobufDecodeError(`unsupported protobuf content encoding ${JSON.stringify(contentEncoding)}`);
  const messageName = messageNameFor(apiVersion, kind);
  const schema = messageName ? messageSchema(messageName) : undefined;
  if (!schema) throw new UnsupportedProtobufKindError(apiVersion, kind);
  const decoded = decodeMessage(raw ?? new Uint8Array(0), schema, depth + 1);
  return { apiVersion, kind, object: { apiVersion, kind, ...decoded } };
}

function decodeMessage(bytes: Uint8Array, schema: MessageSchema, depth: number): Record<string, unknown> {
  if (depth > MAX_DEPTH) throw new ProtobufDecodeError(`messages nested deeper than ${MAX_DEPTH} levels`);
  const reader = new WireReader(bytes);
  const out: Record<string, unknown> = {};
  // Embedded structs (json ",inline") are their own messages on the wire; their fields join ours at the end.
  const inlined = new Map<number, Record<string, unknown>>();
  while (!reader.done) {
    const tag = reader.readTag();
    const field = schema.fields.get(tag.field);
    if (!field) {
      reader.skip(tag.wireType);
      continue;
    }
    const name = field.json;
    switch (field.cardinality) {
      case 'single': {
        const value = readSingle(reader, tag, field, schema, depth);
        if (name === undefined) {
          inlined.set(field.number, value as Record<string, unknown>);
        } else if (value === undefined || (!field.keepZero && field.type.kind === 'scalar' && isZeroScalar(value))) {
          // Last occurrence wins, as for any proto2 scalar.
          delete out[name];
        } else {
          setProperty(out, name, value);
        }
        break;
      }
      case 'repeated': {
        const list = (Object.prototype.hasOwnProperty.call(out, name!) ? out[name!] : undefined) as unknown[] | undefined;
        const items = list ?? [];
        readRepeated(reader, tag, field, schema, depth, items);
        if (items.length && !list) setProperty(out, name!, items);
        break;
      }
      case 'map': {
        expectWireType(tag, WireType.LengthDelimited, fieldPath(schema, field));
        const entry = reader.readBytes();
        let map = (Object.prototype.hasOwnProperty.call(out, name!) ? out[name!] : undefined) as
          Record<string, unknown> | undefined;
        if (!map) {
          map = {};
          setProperty(out, name!, map);
        }
        readMapEntry(entry, field, schema, depth, map);
        break;
      }
    }
  }
  for (const value of inlined.values()) {
    for (const [key, v] of Object.entries(value)) if (!Object.prototype.hasOwnProperty.call(out, key)) setProperty(out, key, v);
  }
  return out;
}

function readSingle(reader: WireReader, tag: FieldTag, field: FieldSchema, schema: MessageSchema, depth: number): unknown {
  const type = field.type;
  if (type.kind === 'scalar') return readScalar(reader, tag, type.scalar, fieldPath(schema, field));
  expectWireType(tag, WireType.LengthDelimited, fieldPath(schema, field));
  return readEmbedded(reader.readBytes(), type, depth);
}

/** Decodes a length-delimited message payload of a message or special type. */
function readEmbedded(bytes: Uint8Array, type: Exclude<ValueType, { kind: 'scalar' }>, depth: number): unknown {
  if (type.kind === 'special') return readSpecial(bytes, type.special, depth + 1);
  const schema = messageSchema(type.message);
  if (!schema) throw new Error(`protobuf schema: unknown message ${type.message}`);
  return decodeMessage(bytes, schema, depth + 1);
}

function readRepeated(
  reader: WireReader,
  tag: FieldTag,
  field: FieldSchema,
  schema: MessageSchema,
  depth: number,
  items: unknown[],
): void {
  const type = field.type;
  if (
    type.kind === 'scalar' &&
    tag.wireType === WireType.LengthDelimited &&
    type.scalar !== 'string' &&
    type.scalar !== 'bytes'
  ) {
    // Packed encoding: a run of numbers in one length-delimited payload.
    const packed = new WireReader(reader.readBytes());
    const elementTag: FieldTag = { field: tag.field, wireType: type.scalar === 'double' ? WireType.Fixed64 : WireType.Varint };
    while (!packed.done) items.push(readScalar(packed, elementTag, type.scalar, fieldPath(schema, field)));
    return;
  }
  if (type.kind === 'scalar') {
    items.push(readScalar(reader, tag, type.scalar, fieldPath(schema, field)));
    return;
  }
  expectWireType(tag, WireType.LengthDelimited, fieldPath(schema, field));
  // A special type that JSON writes as null (a zero Time) stays a list element.
  items.push(readEmbedded(reader.readBytes(), type, depth) ?? null);
}

function readMapEntry(
  entry: Uint8Array,
  field: FieldSchema,
  schema: MessageSchema,
  depth: number,
  map: Record<string, unknown>,
): void {
  const reader = new WireReader(entry);
  let key = '';
  let value: unknown;
  let hasValue = false;
  while (!reader.done) {
    const tag = reader.readTag();
    if (tag.field === 1) {
      expectWireType(tag, WireType.LengthDelimited, `${fieldPath(schema, field)} key`);
      key = reader.readString();
    } else if (tag.field === 2) {
      value = readSingle(reader, tag, { ...field, cardinality: 'single', keepZero: true }, schema, depth);
      hasValue = true;
    } else {
      reader.skip(tag.wireType);
    }
  }
  // An entry without a value holds the value type's zero value.
  setProperty(map, key, hasValue ? (value ?? null) : zeroValueOf(field.type));
}

function zeroValueOf(type: ValueType): unknown {
  if (type.kind === 'message') return {};
  if (type.kind === 'special') {
    if (type.special === 'quantity') return '0';
    if (type.special === 'stringList') return [];
    if (type.special === 'intOrString') return 0;
    if (type.special === 'duration') return '0s';
    return null;
  }
  switch (type.scalar) {
    case 'string':
    case 'bytes':
      return '';
    case 'bool':
      return false;
    default:
      return 0;
  }
}

function readScalar(reader: WireReader, tag: FieldTag, scalar: ScalarType, path: string): unknown {
  switch (scalar) {
    case 'string':
      expectWireType(tag, WireType.LengthDelimited, path);
      return reader.readString();
    case 'bytes':
      expectWireType(tag, WireType.LengthDelimited, path);
      return Buffer.from(reader.readBytes()).toString('base64');
    case 'bool':
      expectWireType(tag, WireType.Varint, path);
      return reader.readBool();
    case 'int32':
      expectWireType(tag, WireType.Varint, path);
      return reader.readInt32();
    case 'int64':
      expectWireType(tag, WireType.Varint, path);
      return reader.readInt64();
    case 'double': {
      expectWireType(tag, WireType.Fixed64, path);
      const value = reader.readDouble();
      // JSON has no NaN or infinities; Go's encoder refuses them too.
      if (!Number.isFinite(value)) throw new ProtobufDecodeError(`${path}: ${value} cannot be represented in JSON`);
      return value;
    }
  }
}

function isZeroScalar(value: unknown): boolean {
  return value === '' || value === 0 || value === false;
}

// ---- Types with their own JSON form ----

/** Go's zero time.Time, as metav1.Time.ProtoTime writes it when a zero time is marshalled anyway. */
const GO_ZERO_TIME_SECONDS = -62135596800;
/** Seconds of 0001-01-01 and 9999-12-31T23:59:59, the range RFC 3339 (and Go's MarshalJSON) can write. */
const MAX_RFC3339_SECONDS = 253402300799;

function readSpecial(bytes: Uint8Array, special: SpecialType, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new ProtobufDecodeError(`messages nested deeper than ${MAX_DEPTH} levels`);
  const reader = new WireReader(bytes);
  switch (special) {
    case 'time':
    case 'microTime': {
      let seconds = 0;
      let nanos = 0;
      forEachField(reader, `meta.v1.${special === 'time' ? 'Time' : 'MicroTime'}`, (tag, path) => {
        if (tag.field === 1) seconds = readScalar(reader, tag, 'int64', `${path}.seconds`) as number;
        else if (tag.field === 2) nanos = readScalar(reader, tag, 'int32', `${path}.nanos`) as number;
        else return false;
        return true;
      });
      // An unset time: Go writes an empty message (or, marshalled explicitly, its zero time).
      if ((seconds === 0 || seconds === GO_ZERO_TIME_SECONDS) && nanos === 0) return undefined;
      return formatKubernetesTime(seconds, nanos, special === 'microTime');
    }
    case 'duration': {
      let nanoseconds = 0n;
      forEachField(reader, 'meta.v1.Duration', (tag, path) => {
        if (tag.field !== 1) return false;
        expectWireType(tag, WireType.Varint, `${path}.duration`);
        nanoseconds = reader.readInt64BigInt();
        return true;
      });
      return formatGoDuration(nanoseconds);
    }
    case 'intOrString': {
      let type = 0;
      let intVal = 0;
      let strVal = '';
      forEachField(reader, 'intstr.IntOrString', (tag, path) => {
        if (tag.field === 1) type = readScalar(reader, tag, 'int64', `${path}.type`) as number;
        else if (tag.field === 2) intVal = readScalar(reader, tag, 'int32', `${path}.intVal`) as number;
        else if (tag.field === 3) strVal = readScalar(reader, tag, 'string', `${path}.strVal`) as string;
        else return false;
        return true;
      });
      return type === 1 ? strVal : intVal;
    }
    case 'quantity': {
      let value = '';
      forEachField(reader, 'resource.Quantity', (tag, path) => {
        if (tag.field !== 1) return false;
        value = readScalar(reader, tag, 'string', `${path}.string`) as string;
        return true;
      });
      // A zero Quantity marshals as "0" in JSON.
      return value === '' ? '0' : value;
    }
    case 'rawExtension':
    case 'fieldsV1': {
      let raw: Uint8Array | undefined;
      const what = special === 'rawExtension' ? 'runtime.RawExtension' : 'meta.v1.FieldsV1';
      forEachField(reader, what, (tag, path) => {
        if (tag.field !== 1) return false;
        expectWireType(tag, WireType.LengthDelimited, `${path}.raw`);
        raw = reader.readBytes();
        return true;
      });
      if (!raw || raw.length === 0) return undefined;
      if (special === 'rawExtension' && isKubernetesProtobuf(raw)) return decodeEnvelope(raw, depth).object;
      try {
        return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
      } catch {
        throw new ProtobufDecodeError(`${what}: raw bytes are not JSON`);
      }
    }
    case 'stringList': {
      const items: string[] = [];
      forEachField(reader, 'StringList', (tag, path) => {
        if (tag.field !== 1) return false;
        items.push(readScalar(reader, tag, 'string', `${path}.items`) as string);
        return true;
      });
      return items;
    }
  }
}

/** Runs `read` for each field; fields it does not take (returns false) are skipped. */
function forEachField(reader: WireReader, path: string, read: (tag: FieldTag, path: string) => boolean): void {
  while (!reader.done) {
    const tag = reader.readTag();
    if (!read(tag, path)) reader.skip(tag.wireType);
  }
}

/** RFC 3339 in UTC as metav1.Time (whole seconds) or metav1.MicroTime (microseconds) write it in JSON. */
export function formatKubernetesTime(seconds: number, nanos: number, micro: boolean): string {
  if (!Number.isSafeInteger(seconds) || seconds < GO_ZERO_TIME_SECONDS || seconds > MAX_RFC3339_SECONDS) {
    throw new ProtobufDecodeError(`timestamp ${seconds}s is outside the years 0001-9999`);
  }
  if (nanos < 0 || nanos > 999_999_999) throw new ProtobufDecodeError(`timestamp nanos ${nanos} out of range`);
  const iso = new Date(seconds * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z for years 0001-9999
  const whole = iso.slice(0, 19);
  return micro ? `${whole}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${whole}Z`;
}

/** Go's time.Duration.String(): "1h0m0s", "2m30.5s", "1.5ms", "0s". */
export function formatGoDuration(nanoseconds: bigint): string {
  const negative = nanoseconds < 0n;
  let u = negative ? -nanoseconds : nanoseconds;
  if (u === 0n) return '0s';
  let text: string;
  if (u < 1_000_000_000n) {
    // Sub-second: one unit with a decimal fraction.
    let unit: string;
    let precision: number;
    if (u < 1000n) {
      unit = 'ns';
      precision = 0;
    } else if (u < 1_000_000n) {
      unit = 'µs';
      precision = 3;
    } else {
      unit = 'ms';
      precision = 6;
    }
    text = fraction(u, precision) + unit;
  } else {
    let rest = '';
    const secondsPart = fraction(u % 60_000_000_000n, 9);
    rest = `${secondsPart}s`;
    u /= 60_000_000_000n; // whole minutes
    if (u > 0n) {
      rest = `${u % 60n}m${rest}`;
      u /= 60n;
      if (u > 0n) rest = `${u}h${rest}`;
    }
    text = rest;
  }
  return negative ? `-${text}` : text;
}

/** `value / 10^precision` in decimal without trailing zeros (Go's fmtFrac + fmtInt). */
function fraction(value: bigint, precision: number): string {
  if (precision === 0) return value.toString();
  const scale = 10n ** BigInt(precision);
  const whole = value / scale;
  const frac = (value % scale).toString().padStart(precision, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : whole.toString();
}

// ---- helpers ----

function expectWireType(tag: FieldTag, expected: WireType, path: string): void {
  if (tag.wireType !== expected)
    throw new ProtobufDecodeError(`${path}: wire type ${tag.wireType} where ${expected} was expected`);
}

function fieldPath(schema: MessageSchema, field: FieldSchema): string {
  return `${schema.name}.${field.json ?? `(${field.number})`}`;
}

/** Sets a property even when the key is `__proto__` (map keys come from the input). */
function setProperty(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
