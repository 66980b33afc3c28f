import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeKubernetesProtobuf, decodeProtobufMessage, formatGoDuration } from '../src/protobuf/decode.js';
import {
  canEncodeKubernetesProtobuf,
  encodeKubernetesProtobuf,
  encodeProtobufMessage,
  parseGoDuration,
  ProtobufEncodeError,
} from '../src/protobuf/encode.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'protobuf');
const binaries = readdirSync(fixtures).filter((f) => f.endsWith('.bin'));

function roundTrip(object: Record<string, unknown>): Record<string, unknown> {
  return decodeKubernetesProtobuf(encodeKubernetesProtobuf(object)).object;
}

describe('encodeKubernetesProtobuf', () => {
  it('round-trips every object kubectl 1.33 sent as protobuf', () => {
    assert.ok(binaries.length >= 10);
    for (const file of binaries) {
      const decoded = decodeKubernetesProtobuf(readFileSync(join(fixtures, file))).object;
      assert.deepEqual(roundTrip(decoded), decoded, file);
    }
  });

  it('writes the k8s\\0 envelope with the type meta', () => {
    const bytes = encodeKubernetesProtobuf({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } });
    assert.deepEqual([...bytes.subarray(0, 4)], [0x6b, 0x38, 0x73, 0]);
    const decoded = decodeKubernetesProtobuf(bytes);
    assert.equal(decoded.apiVersion, 'v1');
    assert.equal(decoded.kind, 'ConfigMap');
  });

  it('round-trips every special type, maps, bytes, repeated and negative numbers', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'p',
        namespace: 'ns',
        generation: 3,
        creationTimestamp: '2024-02-29T12:34:56Z',
        deletionGracePeriodSeconds: 0,
        labels: { b: '2', a: '1', '': 'empty-key' },
        managedFields: [
          {
            manager: 'kubectl',
            operation: 'Apply',
            apiVersion: 'v1',
            time: '2024-01-01T00:00:00Z',
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:metadata': { 'f:labels': {} } },
          },
        ],
      },
      spec: {
        containers: [
          {
            name: 'c',
            image: 'nginx',
            command: ['sh', '-c', 'échec ✓'],
            ports: [{ containerPort: 80, name: 'http' }],
            resources: { limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: '0' } },
            livenessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 10 },
            readinessProbe: { tcpSocket: { port: 8080 } },
          },
        ],
        volumes: [{ name: 'v', configMap: { name: 'cm', defaultMode: 420 } }],
        terminationGracePeriodSeconds: 0,
        priority: -5,
      },
      status: { startTime: '1999-12-31T23:59:59Z', phase: 'Running' },
    };
    assert.deepEqual(roundTrip(pod), pod);

    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'b' },
      data: { k: 'v' },
      binaryData: { bin: Buffer.from([0, 1, 255]).toString('base64') },
      immutable: false,
    };
    assert.deepEqual(roundTrip(cm), cm);

    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'l' },
      spec: {
        holderIdentity: 'me',
        leaseDurationSeconds: 15,
        acquireTime: '2024-05-06T07:08:09.123456Z',
        renewTime: '2024-05-06T07:08:10.000001Z',
      },
    };
    assert.deepEqual(roundTrip(lease), lease);

    const hpa = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'h' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'd', apiVersion: 'apps/v1' }, maxReplicas: 5, minReplicas: 1 },
    };
    assert.deepEqual(roundTrip(hpa), hpa);

    const revision = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: { name: 'r' },
      data: { spec: { x: [1, 'two', null] } },
      revision: 2,
    };
    assert.deepEqual(roundTrip(revision), revision);
  });

  it('encodes durations as Go nanoseconds', () => {
    for (const text of ['0s', '1h0m0s', '2m30.5s', '1.5ms', '-3µs', '999ns', '26h3m4.000000005s']) {
      assert.equal(formatGoDuration(parseGoDuration(text)), text);
    }
    assert.equal(parseGoDuration('1h30m'), 5_400_000_000_000n);
    assert.throws(() => parseGoDuration('5 minutes'), ProtobufEncodeError);
    const bytes = encodeProtobufMessage('meta.v1.Condition', {
      type: 'Ready',
      status: 'True',
      reason: '',
      message: '',
      lastTransitionTime: '2020-01-01T01:00:00+01:00',
    });
    assert.equal(decodeProtobufMessage('meta.v1.Condition', bytes).lastTransitionTime, '2020-01-01T00:00:00Z');
  });

  it('encodes lists as ListMeta plus repeated items, and v1 Status', () => {
    const list = {
      apiVersion: 'apps/v1',
      kind: 'DeploymentList',
      metadata: { resourceVersion: '42', continue: 'tok', remainingItemCount: 0 },
      items: [
        { metadata: { name: 'a' }, spec: { replicas: 0, selector: { matchLabels: { app: 'a' } }, template: {} } },
        { metadata: { name: 'b' } },
      ],
    };
    assert.deepEqual(roundTrip(list), list);
    const status = {
      apiVersion: 'v1',
      kind: 'Status',
      metadata: {},
      status: 'Failure',
      message: 'configmaps "x" not found',
      reason: 'NotFound',
      details: { name: 'x', kind: 'configmaps', causes: [{ reason: 'FieldValueInvalid', field: 'a' }] },
      code: 404,
    };
    assert.deepEqual(roundTrip(status), status);
    assert.ok(canEncodeKubernetesProtobuf('v1', 'ConfigMapList'));
    assert.ok(canEncodeKubernetesProtobuf('v1', 'Status'));
    assert.ok(!canEncodeKubernetesProtobuf('example.com/v1', 'Widget'));
    assert.ok(!canEncodeKubernetesProtobuf('v1', 'List'));
  });

  it('drops properties the tables do not know and refuses kinds without a table', () => {
    const decoded = roundTrip({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', bogus: 1 }, extra: { x: 1 } });
    assert.deepEqual(decoded, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } });
    assert.throws(() => encodeKubernetesProtobuf({ apiVersion: 'example.com/v1', kind: 'Widget' }), ProtobufEncodeError);
    assert.throws(() => encodeKubernetesProtobuf({ apiVersion: 'v1', kind: 'ConfigMap', data: 'nope' }), ProtobufEncodeError);
  });

  it('never throws on what the decoder produces from mutated fixtures (fuzz)', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    let decodedCount = 0;
    for (let round = 0; round < 1500; round++) {
      const original = readFileSync(join(fixtures, binaries[round % binaries.length]));
      const body = Uint8Array.from(original);
      const flips = 1 + Math.floor(random() * 3);
      for (let i = 0; i < flips; i++) body[4 + Math.floor(random() * (body.length - 4))] = Math.floor(random() * 256);
      let object: Record<string, unknown>;
      try {
        object = decodeKubernetesProtobuf(body).object;
      } catch {
        continue;
      }
      decodedCount++;
      const again = roundTrip(object);
      assert.deepEqual(roundTrip(again), again);
    }
    assert.ok(decodedCount > 100, `only ${decodedCount} mutated bodies decoded`);
  });
});
