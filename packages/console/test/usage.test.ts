/** The resource arithmetic of the overviews: quantities, figures, and what a pod requests of its node. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatCores, parseQuantity, unitOf } from '../src/api/quantity.js';
import { phaseCounts, podRequests, requestedBy, summarizeNode, summarizePod, usageOf } from '../src/api/pod-resources.js';
import type { K8sObject } from '../src/models/types.js';

test('quantities as cores and bytes; malformed ones are not numbers', () => {
  assert.equal(parseQuantity('250m'), 0.25);
  assert.equal(parseQuantity('1.5'), 1.5);
  assert.equal(parseQuantity('512Mi'), 512 * 2 ** 20);
  assert.equal(parseQuantity('2G'), 2e9);
  assert.equal(parseQuantity('1e3'), 1000);
  assert.ok(Math.abs(parseQuantity('123456789n')! - 0.123456789) < 1e-15);
  assert.equal(parseQuantity('33452032Ki'), 33452032 * 1024);
  for (const bad of ['', 'abc', '1.2.3', '5 Mi', '1Qi', undefined, null, {}])
    assert.equal(parseQuantity(bad), undefined, String(bad));
});

test('figures with three significant digits, binary units for bytes', () => {
  assert.equal(formatCores(12), '12');
  assert.equal(formatCores(1.2345), '1.23');
  assert.equal(formatCores(0.0352), '0.0352');
  assert.equal(formatCores(0), '0');
  assert.equal(formatBytes(3.42 * 2 ** 30), '3.42 GiB');
  assert.equal(formatBytes(128 * 2 ** 20), '128 MiB');
  assert.equal(formatBytes(33452032 * 1024 * 3), '95.7 GiB');
  assert.equal(formatBytes(900), '900 B');
  assert.deepEqual(
    ['cpu', 'limits.cpu', 'requests.memory', 'requests.storage', 'pods', 'count/deployments.apps', 'requests.hugepages-2Mi'].map(
      unitOf,
    ),
    ['cores', 'cores', 'bytes', 'bytes', 'count', 'count', 'bytes'],
  );
});

/** A pod of phase `phase`, scheduled to `nodeName` (null: not scheduled). */
const pod = (spec: any, phase = 'Running', nodeName: string | null = 'n1'): K8sObject => ({
  metadata: { name: 'p', namespace: 'ns' },
  spec: { ...(nodeName ? { nodeName } : {}), ...spec },
  status: { phase },
});
const requests = (cpu: string, memory: string) => ({ resources: { requests: { cpu, memory } } });

test('a pod requests what the scheduler counts: containers and sidecars, or its init peak, plus overhead', () => {
  assert.deepEqual(podRequests(pod({ containers: [requests('100m', '64Mi'), requests('200m', '64Mi')] })), {
    cpu: 0.30000000000000004,
    memory: 128 * 2 ** 20,
  });
  // An init container that asks for more than the containers sets the pod's request.
  assert.deepEqual(podRequests(pod({ initContainers: [requests('2', '1Gi')], containers: [requests('500m', '2Gi')] })), {
    cpu: 2,
    memory: 2 * 2 ** 30,
  });
  // A sidecar (restartPolicy Always) runs beside later init containers and beside the containers.
  const sidecar = { ...requests('1', '1Gi'), restartPolicy: 'Always' };
  assert.deepEqual(
    podRequests(pod({ initContainers: [sidecar, requests('1500m', '256Mi')], containers: [requests('250m', '256Mi')] })),
    { cpu: 2.5, memory: 1.25 * 2 ** 30 },
  );
  assert.deepEqual(podRequests(pod({ containers: [requests('1', '1Gi')], overhead: { cpu: '250m', memory: '120Mi' } })), {
    cpu: 1.25,
    memory: 2 ** 30 + 120 * 2 ** 20,
  });
  assert.deepEqual(podRequests(pod({ containers: [{ name: 'none' }] })), { cpu: 0, memory: 0 });
});

test('only scheduled, unfinished pods hold node resources; phases are counted', () => {
  const pods = [
    summarizePod(pod({ containers: [requests('1', '1Gi')] }, 'Running', 'n1')),
    summarizePod(pod({ containers: [requests('1', '1Gi')] }, 'Pending', 'n2')),
    summarizePod(pod({ containers: [requests('1', '1Gi')] }, 'Pending', null)),
    summarizePod(pod({ containers: [requests('1', '1Gi')] }, 'Succeeded', 'n1')),
    summarizePod(pod({ containers: [requests('1', '1Gi')] }, 'Failed', 'n1')),
  ];
  assert.deepEqual(requestedBy(pods), { cpu: 2, memory: 2 * 2 ** 30 });
  assert.deepEqual(requestedBy(pods, 'n1'), { cpu: 1, memory: 2 ** 30 });
  assert.deepEqual(phaseCounts(pods), { Running: 1, Pending: 2, Succeeded: 1, Failed: 1 });
});

test('node summaries and metrics usage', () => {
  const node = summarizeNode({
    metadata: { name: 'n1' },
    spec: { unschedulable: true },
    status: {
      conditions: [{ type: 'Ready', status: 'False' }],
      capacity: { cpu: '8', memory: '32Gi' },
      allocatable: { cpu: '7500m', memory: '31Gi' },
    },
  });
  assert.deepEqual(node, {
    name: 'n1',
    ready: false,
    unschedulable: true,
    capacity: { cpu: 8, memory: 32 * 2 ** 30 },
    allocatable: { cpu: 7.5, memory: 31 * 2 ** 30 },
  });
  assert.deepEqual(usageOf({ metadata: { name: 'n1' }, usage: { cpu: '250m', memory: '1Gi' } }), { cpu: 0.25, memory: 2 ** 30 });
  assert.deepEqual(
    usageOf({
      metadata: { name: 'p' },
      containers: [
        { name: 'a', usage: { cpu: '100m', memory: '10Mi' } },
        { name: 'b', usage: { cpu: '50m', memory: '6Mi' } },
      ],
    }),
    { cpu: 0.15000000000000002, memory: 16 * 2 ** 20 },
  );
  assert.equal(usageOf(undefined), undefined);
});
