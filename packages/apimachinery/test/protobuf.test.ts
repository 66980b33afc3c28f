import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeKubernetesProtobuf,
  decodeProtobufMessage,
  formatGoDuration,
  formatKubernetesTime,
  ProtobufDecodeError,
  UnsupportedProtobufKindError,
} from '../src/protobuf/decode.js';
import { KIND_MESSAGES, messageNames, messageSchema } from '../src/protobuf/schema.js';
import { WireReader, WireType } from '../src/protobuf/wire.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'protobuf');

// ---- a minimal protobuf writer, to build the bodies kubectl cannot be made to send ----

type Part = Uint8Array;

function varint(value: number | bigint): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? byte | 0x80 : byte);
  } while (v);
  return Uint8Array.from(out);
}
function concat(...parts: Part[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
const key = (field: number, wireType: number) => varint(BigInt(field) * 8n + BigInt(wireType));
const int = (field: number, value: number | bigint) => concat(key(field, 0), varint(value));
const bool = (field: number, value: boolean) => int(field, value ? 1 : 0);
const bytes = (field: number, value: Uint8Array) => concat(key(field, 2), varint(value.length), value);
const str = (field: number, value: string) => bytes(field, new TextEncoder().encode(value));
const msg = (field: number, ...parts: Part[]) => bytes(field, concat(...parts));
const envelope = (apiVersion: string, kind: string, ...raw: Part[]) =>
  concat(
    Uint8Array.of(0x6b, 0x38, 0x73, 0),
    msg(1, str(1, apiVersion), str(2, kind)),
    msg(2, ...raw),
    str(4, 'application/vnd.kubernetes.protobuf'),
  );
/** Go's generated marshallers write a map entry as { key = 1, value = 2 }. */
const entry = (field: number, k: string, value: Part) => msg(field, str(1, k), value);
const time = (field: number, seconds: number, nanos = 0) =>
  msg(field, ...(seconds ? [int(1, seconds)] : []), ...(nanos ? [int(2, nanos)] : []));

/** Go's JSON writes nil slices, nil maps and zero times as null; the decoder omits them, and so does the server for null. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, withoutNulls(v)]),
    );
  }
  return value;
}

describe('protobuf: bodies captured from kubectl 1.33 create generators', () => {
  const cases = readdirSync(fixtures)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length));

  it('has the fixtures', () => {
    assert.ok(cases.length >= 20, `only ${cases.length} fixtures`);
  });

  for (const name of cases) {
    it(`${name}: decodes to the JSON kubectl writes for the same command`, () => {
      const body = readFileSync(join(fixtures, `${name}.kubectl-1.33.bin`));
      const expected = withoutNulls(JSON.parse(readFileSync(join(fixtures, `${name}.json`), 'utf8'))) as Record<string, unknown>;
      const decoded = decodeKubernetesProtobuf(body);
      assert.equal(decoded.apiVersion, expected.apiVersion);
      assert.equal(decoded.kind, expected.kind);
      assert.deepEqual(decoded.object, expected);
    });
  }

  it('secret data arrives as base64 of the literal values', () => {
    const { object } = decodeKubernetesProtobuf(readFileSync(join(fixtures, 'secret-generic.kubectl-1.33.bin')));
    const data = object.data as Record<string, string>;
    assert.equal(Buffer.from(data.user, 'base64').toString(), 'admin');
    assert.equal(Buffer.from(data.pass, 'base64').toString(), 's3cr3t');
  });

  it('a negative int32 (sign-extended to a 10-byte varint by Go) decodes negative', () => {
    const { object } = decodeKubernetesProtobuf(readFileSync(join(fixtures, 'priorityclass-default.kubectl-1.33.bin')));
    assert.equal(object.value, -10);
    assert.equal(object.globalDefault, true);
  });

  it('TokenRequest: audiences and a pointer int64 survive, unset fields stay absent', () => {
    const { object } = decodeKubernetesProtobuf(readFileSync(join(fixtures, 'token.kubectl-1.33.bin')));
    assert.deepEqual(object, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: {},
      spec: { audiences: ['api', 'vault'], expirationSeconds: 3600 },
      status: { token: '' },
    });
    const bound = decodeKubernetesProtobuf(readFileSync(join(fixtures, 'token-bound.kubectl-1.33.bin'))).object;
    assert.deepEqual(bound.spec, { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p1', uid: '123' } });
  });

  it('authorization and authentication reviews (kubectl auth can-i / whoami)', () => {
    const ssar = decodeKubernetesProtobuf(readFileSync(join(fixtures, 'selfsubjectaccessreview.kubectl-1.33.bin'))).object;
    assert.deepEqual(ssar.spec, { resourceAttributes: { namespace: 'demo', verb: 'list', resource: 'pods' } });
    // status.allowed has no omitempty in Go: JSON carries false.
    assert.deepEqual(ssar.status, { allowed: false });
    const ssrr = decodeKubernetesProtobuf(readFileSync(join(fixtures, 'selfsubjectrulesreview.kubectl-1.33.bin'))).object;
    assert.deepEqual(ssrr.spec, { namespace: 'demo' });
    const ssr = decodeKubernetesProtobuf(readFileSync(join(fixtures, 'selfsubjectreview.kubectl-1.33.bin'))).object;
    assert.deepEqual(ssr, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
      metadata: {},
      status: { userInfo: {} },
    });
  });
});

describe('protobuf: field presence and zero values', () => {
  it('DeleteOptions: an absent gracePeriodSeconds stays absent, an explicit 0 is kept', () => {
    const absent = decodeKubernetesProtobuf(envelope('v1', 'DeleteOptions', str(4, 'Background')));
    assert.deepEqual(absent.object, { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' });
    const zero = decodeKubernetesProtobuf(
      envelope('meta.k8s.io/v1', 'DeleteOptions', int(1, 0), str(4, 'Foreground'), bool(3, false)),
    );
    assert.deepEqual(zero.object, {
      apiVersion: 'meta.k8s.io/v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: 0,
      orphanDependents: false,
      propagationPolicy: 'Foreground',
    });
  });

  it('DeleteOptions is accepted under any group version, with preconditions and dryRun', () => {
    const body = envelope('apps/v1', 'DeleteOptions', msg(2, str(1, 'uid-1'), str(2, '42')), str(5, 'All'), int(1, 30));
    const { object, apiVersion, kind } = decodeKubernetesProtobuf(body);
    assert.equal(apiVersion, 'apps/v1');
    assert.equal(kind, 'DeleteOptions');
    assert.deepEqual(object, {
      apiVersion: 'apps/v1',
      kind: 'DeleteOptions',
      preconditions: { uid: 'uid-1', resourceVersion: '42' },
      dryRun: ['All'],
      gracePeriodSeconds: 30,
    });
  });

  it('Eviction carries its DeleteOptions', () => {
    const body = envelope('policy/v1', 'Eviction', msg(1, str(1, 'web-1'), str(3, 'demo')), msg(2, int(1, 0)));
    assert.deepEqual(decodeKubernetesProtobuf(body).object, {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'web-1', namespace: 'demo' },
      deleteOptions: { gracePeriodSeconds: 0 },
    });
  });

  it('a Deployment with replicas 0 keeps it; Go zero values of omitempty fields are dropped', () => {
    const container = concat(
      str(1, 'app'),
      str(2, 'nginx'),
      msg(6, int(2, 0), int(3, 0), str(4, 'TCP')),
      bool(16, false),
      msg(8),
    );
    const podSpec = concat(msg(2, container), bool(11, false), str(10, ''), msg(14));
    const body = envelope(
      'apps/v1',
      'Deployment',
      msg(1, str(1, 'web'), int(7, 0), time(8, 0), msg(11, ...[]), entry(11, 'app', str(2, 'web'))),
      msg(2, int(1, 0), msg(3, msg(1, time(8, 0)), msg(2, podSpec)), bool(7, false), int(5, 0)),
    );
    assert.deepEqual(decodeKubernetesProtobuf(body).object, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      // generation 0 and the zero creationTimestamp are what Go writes for "unset"
      metadata: { name: 'web', labels: { '': '', app: 'web' } },
      spec: {
        replicas: 0,
        template: {
          metadata: {},
          spec: {
            // hostNetwork (bool, omitempty) and nodeName '' are omitted; securityContext is a struct, kept as {}
            securityContext: {},
            containers: [{ name: 'app', image: 'nginx', resources: {}, ports: [{ containerPort: 0, protocol: 'TCP' }] }],
          },
        },
      },
    });
  });

  it('pointer booleans keep false; maps of bytes become base64; empty repeated fields are absent', () => {
    const body = envelope(
      'v1',
      'Secret',
      msg(1, str(1, 's')),
      entry(2, 'bin', bytes(2, Uint8Array.of(0, 255, 10))),
      entry(2, 'empty', bytes(2, new Uint8Array(0))),
      str(3, 'Opaque'),
      bool(5, false),
    );
    assert.deepEqual(decodeKubernetesProtobuf(body).object, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { bin: 'AP8K', empty: '' },
      type: 'Opaque',
      immutable: false,
    });
  });

  it('times: creationTimestamp seconds=0 is unset, other times are RFC 3339; MicroTime has microseconds', () => {
    const body = envelope(
      'events.k8s.io/v1',
      'Event',
      msg(1, str(1, 'e1'), time(8, 0), time(9, 1704164645, 500_000_000)),
      time(2, 1704164645, 123_456_789),
      msg(3, int(1, 2), time(2, 1704164700, 1000)),
      str(4, 'kubelet'),
      str(11, 'Normal'),
      int(15, 1),
    );
    assert.deepEqual(decodeKubernetesProtobuf(body).object, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'e1', deletionTimestamp: '2024-01-02T03:04:05Z' },
      eventTime: '2024-01-02T03:04:05.123456Z',
      series: { count: 2, lastObservedTime: '2024-01-02T03:05:00.000001Z' },
      reportingController: 'kubelet',
      type: 'Normal',
      deprecatedCount: 1,
    });
  });

  it('IntOrString, Quantity, inlined structs (Volume.volumeSource, Probe.handler) and packed int64 lists', () => {
    const probe = concat(msg(1, msg(2, str(1, '/healthz'), msg(2, int(1, 1), str(3, 'http')))), int(2, 5));
    const resources = concat(
      entry(1, 'cpu', msg(2, str(1, '500m'))),
      entry(2, 'memory', msg(2, str(1, '64Mi'))),
      entry(2, 'zero', msg(2)),
    );
    const container = concat(str(1, 'c'), msg(8, resources), msg(10, probe));
    const volume = concat(str(1, 'data'), msg(2, msg(2, str(1, 'Memory'), msg(2, str(1, '1Gi')))));
    // supplementalGroups (PodSecurityContext field 4), once packed and once not, as proto2 readers must accept both
    const securityContext = concat(bytes(4, concat(varint(1000), varint(2000))), int(4, 3000));
    const body = envelope('v1', 'Pod', msg(1, str(1, 'p')), msg(2, msg(1, volume), msg(2, container), msg(14, securityContext)));
    assert.deepEqual(decodeKubernetesProtobuf(body).object, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        volumes: [{ name: 'data', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } }],
        containers: [
          {
            name: 'c',
            resources: { limits: { cpu: '500m' }, requests: { memory: '64Mi', zero: '0' } },
            livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 5 },
          },
        ],
        securityContext: { supplementalGroups: [1000, 2000, 3000] },
      },
    });
  });

  it('a Service targetPort of type Int is a number, a missing type means Int', () => {
    const port = (n: number, ...target: Part[]) => msg(1, str(1, `p${n}`), int(3, n), msg(4, ...target));
    const body = envelope(
      'v1',
      'Service',
      msg(1, str(1, 's')),
      msg(2, port(80, int(1, 0), int(2, 8080)), port(81, int(2, 9090)), port(82, int(1, 1), str(3, 'web'))),
    );
    const spec = decodeKubernetesProtobuf(body).object.spec as { ports: { targetPort: unknown }[] };
    assert.deepEqual(
      spec.ports.map((p) => p.targetPort),
      [8080, 9090, 'web'],
    );
  });

  it('RawExtension: JSON raw bytes parse; a nested protobuf envelope decodes; managedFields FieldsV1 is JSON', () => {
    const inner = envelope('v1', 'ConfigMap', msg(1, str(1, 'inner')), entry(2, 'k', str(2, 'v')));
    const fields = new TextEncoder().encode('{"f:metadata":{"f:labels":{}}}');
    const managed = msg(
      17,
      str(1, 'kubectl'),
      str(2, 'Update'),
      str(3, 'apps/v1'),
      time(4, 1704164645),
      str(6, 'FieldsV1'),
      msg(7, bytes(1, fields)),
    );
    const json = envelope(
      'apps/v1',
      'ControllerRevision',
      msg(1, str(1, 'r1'), managed),
      msg(2, bytes(1, new TextEncoder().encode('{"spec":{"x":1}}'))),
      int(3, 4),
    );
    assert.deepEqual(decodeKubernetesProtobuf(json).object, {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name: 'r1',
        managedFields: [
          {
            manager: 'kubectl',
            operation: 'Update',
            apiVersion: 'apps/v1',
            time: '2024-01-02T03:04:05Z',
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:metadata': { 'f:labels': {} } },
          },
        ],
      },
      data: { spec: { x: 1 } },
      revision: 4,
    });
    const nested = envelope('apps/v1', 'ControllerRevision', msg(1, str(1, 'r2')), msg(2, bytes(1, inner)), int(3, 1));
    assert.deepEqual(decodeKubernetesProtobuf(nested).object.data, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'inner' },
      data: { k: 'v' },
    });
  });

  it('unknown fields of every wire type are skipped', () => {
    const unknown = concat(
      int(900, 7),
      concat(key(901, 1), new Uint8Array(8)),
      str(902, 'x'),
      concat(key(903, 5), new Uint8Array(4)),
    );
    const body = envelope('v1', 'ConfigMap', unknown, msg(1, str(1, 'cm'), unknown), entry(2, 'a', concat(unknown, str(2, 'b'))));
    assert.deepEqual(decodeKubernetesProtobuf(body).object, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm' },
      data: { a: 'b' },
    });
  });

  it('map keys that are JavaScript prototype names stay plain data', () => {
    const body = envelope(
      'v1',
      'ConfigMap',
      msg(1, str(1, 'cm')),
      entry(2, '__proto__', str(2, 'x')),
      entry(2, 'constructor', str(2, 'y')),
    );
    const data = decodeKubernetesProtobuf(body).object.data as Record<string, unknown>;
    assert.deepEqual(Object.keys(data), ['__proto__', 'constructor']);
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
    assert.equal(JSON.stringify(data), '{"__proto__":"x","constructor":"y"}');
  });

  it('int64 values beyond 2^53 become the nearest number; int64 minimum decodes', () => {
    const body = envelope('v1', 'Pod', msg(1, str(1, 'p')), msg(2, int(4, -9223372036854775808n), int(5, 2n ** 60n)));
    const spec = decodeKubernetesProtobuf(body).object.spec as Record<string, unknown>;
    assert.equal(spec.terminationGracePeriodSeconds, -9223372036854775808);
    assert.equal(spec.activeDeadlineSeconds, 2 ** 60);
  });
});

describe('protobuf: errors', () => {
  const decodeError = (body: Uint8Array, pattern?: RegExp) =>
    assert.throws(
      () => decodeKubernetesProtobuf(body),
      (err: unknown) => err instanceof ProtobufDecodeError && (!pattern || pattern.test(err.message)),
    );

  it('requires the k8s\\0 prefix', () => {
    decodeError(new TextEncoder().encode('{"kind":"Pod"}'), /prefix/);
    decodeError(Uint8Array.of(0x6b, 0x38, 0x73));
  });

  it('an unknown (apiVersion, kind) is UnsupportedProtobufKindError, naming them', () => {
    assert.throws(
      () => decodeKubernetesProtobuf(envelope('example.com/v1', 'Widget', msg(1, str(1, 'w')))),
      (err: unknown) =>
        err instanceof UnsupportedProtobufKindError && err.apiVersion === 'example.com/v1' && err.kind === 'Widget',
    );
    assert.throws(() => decodeKubernetesProtobuf(Uint8Array.of(0x6b, 0x38, 0x73, 0)), UnsupportedProtobufKindError);
  });

  it('truncated input, overlong varints, bad lengths, wrong wire types and groups are decode errors', () => {
    const magic = Uint8Array.of(0x6b, 0x38, 0x73, 0);
    const fields = [msg(1, str(1, 'v1'), str(2, 'ConfigMap')), msg(2, msg(1, str(1, 'cm')), entry(2, 'k', str(2, 'v')))];
    const good = concat(magic, ...fields);
    // Cutting between the envelope's own fields leaves a valid (shorter) body; every other cut is malformed.
    const boundary = magic.length + fields[0].length;
    for (let cut = magic.length + 1; cut < good.length; cut++) if (cut !== boundary) decodeError(good.subarray(0, cut));
    decodeError(
      concat(magic, Uint8Array.of(0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x01)),
      /overflows/,
    );
    decodeError(concat(magic, Uint8Array.of(0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02)), /overflows/);
    decodeError(concat(magic, Uint8Array.of(0x12, 0xff, 0xff, 0xff, 0xff, 0x0f)), /past the end/);
    decodeError(concat(magic, Uint8Array.of(0x00)), /field number 0/);
    decodeError(concat(magic, Uint8Array.of(0x0e)), /wire type 6/);
    decodeError(envelope('v1', 'ConfigMap', int(1, 5)), /wire type 0/);
    decodeError(envelope('v1', 'ConfigMap', msg(1, int(1, 3))), /ObjectMeta\.name/);
    decodeError(envelope('v1', 'ConfigMap', concat(key(7, 3), key(7, 4))), /groups/);
    decodeError(concat(magic, msg(1, str(1, 'v1'), str(2, 'ConfigMap')), str(3, 'gzip'), msg(2)), /content encoding/);
    decodeError(envelope('apps/v1', 'ControllerRevision', msg(2, bytes(1, new TextEncoder().encode('{not json')))), /not JSON/);
    decodeError(envelope('v1', 'Namespace', msg(1, time(8, 253402300800))), /years/);
  });

  it('deeply nested envelopes fail with a decode error, not a stack overflow', () => {
    let body = envelope('v1', 'ConfigMap', msg(1, str(1, 'leaf')));
    for (let i = 0; i < 200; i++) body = envelope('apps/v1', 'ControllerRevision', msg(2, bytes(1, body)));
    decodeError(body, /nested deeper/);
  });

  it('fuzz: random and mutated bodies only ever throw the typed errors, quickly', () => {
    let seed = 0x5eed1234;
    const random = () => {
      // mulberry32: deterministic, so a failure reproduces
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const samples = readdirSync(fixtures)
      .filter((f) => f.endsWith('.bin'))
      .map((f) => new Uint8Array(readFileSync(join(fixtures, f))));
    const started = Date.now();
    let decoded = 0;
    for (let i = 0; i < 6000; i++) {
      let body: Uint8Array;
      const mode = i % 4;
      if (mode === 0) {
        body = concat(
          Uint8Array.of(0x6b, 0x38, 0x73, 0),
          Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)),
        );
      } else {
        body = Uint8Array.from(samples[Math.floor(random() * samples.length)]);
        const edits = 1 + Math.floor(random() * 4);
        for (let e = 0; e < edits; e++) {
          const at = 4 + Math.floor(random() * (body.length - 4));
          if (mode === 1) body[at] = Math.floor(random() * 256);
          else if (mode === 2) body = body.subarray(0, at);
          else body = concat(body.subarray(0, at), Uint8Array.of(Math.floor(random() * 256)), body.subarray(at));
        }
      }
      try {
        decodeKubernetesProtobuf(body);
        decoded++;
      } catch (err) {
        if (!(err instanceof ProtobufDecodeError) && !(err instanceof UnsupportedProtobufKindError)) {
          assert.fail(`input ${Buffer.from(body).toString('hex')} threw ${String(err)}`);
        }
      }
    }
    assert.ok(decoded > 0, 'some mutations still decode');
    assert.ok(Date.now() - started < 5000, `fuzzing took ${Date.now() - started} ms`);
  });
});

describe('protobuf: wire reader, formats and tables', () => {
  it('reads 64-bit varints exactly', () => {
    const max = new WireReader(varint(2n ** 64n - 1n));
    assert.equal(max.readUint64BigInt(), 2n ** 64n - 1n);
    assert.equal(new WireReader(varint(-1)).readInt64BigInt(), -1n);
    assert.equal(new WireReader(varint(-1)).readInt32(), -1);
    assert.equal(new WireReader(varint(2 ** 31 + 5)).readUint32(), 2 ** 31 + 5);
    assert.equal(new WireReader(varint(123456789012)).readInt64(), 123456789012);
    const tag = new WireReader(key(536870911, WireType.Fixed32)).readTag();
    assert.deepEqual(tag, { field: 536870911, wireType: WireType.Fixed32 });
  });

  it('formats Go durations as time.Duration.String does', () => {
    const cases: [bigint, string][] = [
      [0n, '0s'],
      [1n, '1ns'],
      [1500n, '1.5µs'],
      [1_000_000n, '1ms'],
      [1_500_000_000n, '1.5s'],
      [90_000_000_000n, '1m30s'],
      [3_600_000_000_000n, '1h0m0s'],
      [3_723_000_000_000n, '1h2m3s'],
      [-2_000_000_000n, '-2s'],
      [2n ** 63n - 1n, '2562047h47m16.854775807s'],
    ];
    for (const [ns, text] of cases) assert.equal(formatGoDuration(ns), text, `${ns}`);
  });

  it('formats times as metav1.Time and MicroTime do', () => {
    assert.equal(formatKubernetesTime(0, 1, false), '1970-01-01T00:00:00Z');
    assert.equal(formatKubernetesTime(1704164645, 999_999_999, true), '2024-01-02T03:04:05.999999Z');
    assert.equal(formatKubernetesTime(-62135596800 + 1, 0, false), '0001-01-01T00:00:01Z');
    assert.throws(() => formatKubernetesTime(1, 1_000_000_000, false), ProtobufDecodeError);
  });

  it('every registered kind has a table, and decodes an empty message to just its type', () => {
    for (const [key, message] of Object.entries(KIND_MESSAGES)) {
      assert.ok(messageSchema(message), `${key} -> ${message}`);
      const slash = key.lastIndexOf('/');
      const [apiVersion, kind] = [key.slice(0, slash), key.slice(slash + 1)];
      assert.deepEqual(decodeKubernetesProtobuf(envelope(apiVersion, kind)).object, { apiVersion, kind });
    }
    assert.ok(messageNames().length > 300);
    assert.deepEqual(decodeProtobufMessage('meta.v1.LabelSelector', msg(2, str(1, 'tier'), str(2, 'In'), str(3, 'web'))), {
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }],
    });
  });
});
