import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '@canopy/apimachinery';
import { builtinPrinters, printerFor } from '../src/registry/printers.js';
import {
  defaultPrinter,
  evaluateJsonPath,
  formatLabelSelector,
  humanDuration,
  parseJsonPath,
  printerForCustomColumns,
} from '../src/registry/printing.js';
import type { Printer } from '../src/registry/types.js';

const NOW = new Date('2025-01-10T12:00:00Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** An RFC 3339 timestamp `ms` before NOW. */
function ago(ms: number): string {
  return new Date(NOW.getTime() - ms).toISOString().replace(/\.000Z$/, 'Z');
}

function object(fields: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name: 'x', creationTimestamp: ago(3 * DAY), ...metadata }, ...fields } as KubeObject;
}

function print(key: string, o: KubeObject): Record<string, unknown> {
  const p = builtinPrinters[key];
  assert.ok(p, `no printer for ${key}`);
  const cells = p.cells(o, NOW);
  assert.equal(cells.length, p.columns.length, `${key}: one cell per column`);
  return Object.fromEntries(p.columns.map((c, i) => [c.name, cells[i]]));
}

describe('humanDuration', () => {
  // Cases of k8s.io/apimachinery/pkg/util/duration.HumanDuration.
  const cases: Array<[number, string]> = [
    [-2 * SECOND, '<invalid>'],
    [-1.5 * SECOND, '0s'],
    [-SECOND, '0s'],
    [0, '0s'],
    [1.9 * SECOND, '1s'],
    [59 * SECOND, '59s'],
    [70 * SECOND, '70s'],
    [119 * SECOND, '119s'],
    [2 * MINUTE, '2m'],
    [190 * SECOND, '3m10s'],
    [9 * MINUTE + 59 * SECOND, '9m59s'],
    [10 * MINUTE + 30 * SECOND, '10m'],
    [70 * MINUTE, '70m'],
    [90 * MINUTE, '90m'],
    [179 * MINUTE, '179m'],
    [3 * HOUR, '3h'],
    [7 * HOUR + 59 * MINUTE, '7h59m'],
    [8 * HOUR + 30 * MINUTE, '8h'],
    [47 * HOUR, '47h'],
    [48 * HOUR, '2d'],
    [49 * HOUR, '2d1h'],
    [7 * DAY + 23 * HOUR, '7d23h'],
    [8 * DAY, '8d'],
    [8 * DAY + 2 * HOUR, '8d'],
    [367 * DAY, '367d'],
    [400 * DAY, '400d'],
    [2 * 365 * DAY, '2y'],
    [2 * 365 * DAY + 25 * HOUR, '2y1d'],
    [8 * 365 * DAY + 2 * HOUR, '8y'],
    [20 * 365 * DAY, '20y'],
  ];
  for (const [ms, expected] of cases) {
    it(`${ms}ms → ${expected}`, () => assert.equal(humanDuration(ms), expected));
  }
});

describe('every printer', () => {
  const printers: Array<[string, Printer]> = Object.entries(builtinPrinters);

  it('covers the built-in kinds kubectl users list', () => {
    for (const key of [
      '/Pod',
      '/Namespace',
      '/Service',
      '/Endpoints',
      '/ConfigMap',
      '/Secret',
      '/ServiceAccount',
      '/Event',
      'events.k8s.io/Event',
      '/Node',
      '/PersistentVolume',
      '/PersistentVolumeClaim',
      '/ResourceQuota',
      '/LimitRange',
      'apps/Deployment',
      'apps/ReplicaSet',
      'apps/StatefulSet',
      'apps/DaemonSet',
      'apps/ControllerRevision',
      'batch/Job',
      'batch/CronJob',
      'networking.k8s.io/Ingress',
      'networking.k8s.io/IngressClass',
      'networking.k8s.io/NetworkPolicy',
      'storage.k8s.io/StorageClass',
      'coordination.k8s.io/Lease',
      'rbac.authorization.k8s.io/Role',
      'rbac.authorization.k8s.io/ClusterRole',
      'rbac.authorization.k8s.io/RoleBinding',
      'rbac.authorization.k8s.io/ClusterRoleBinding',
      'autoscaling/HorizontalPodAutoscaler',
      'policy/PodDisruptionBudget',
      'discovery.k8s.io/EndpointSlice',
      'apiextensions.k8s.io/CustomResourceDefinition',
      'apiregistration.k8s.io/APIService',
    ]) {
      assert.ok(builtinPrinters[key], key);
    }
  });

  it('starts with the Name column (format name), except Events which end with it at priority 1', () => {
    for (const [key, p] of printers) {
      const nameIndex = key.endsWith('/Event') ? p.columns.length - 1 : 0;
      const name = p.columns[nameIndex];
      assert.equal(name.name, 'Name', key);
      assert.equal(name.format, 'name', key);
      assert.equal(name.priority, key.endsWith('/Event') ? 1 : 0, key);
      const names = p.columns.map((c) => c.name);
      assert.equal(new Set(names).size, names.length, `${key}: column names are unique`);
      for (const c of p.columns) {
        assert.ok(['string', 'integer', 'number', 'boolean', 'date'].includes(c.type), `${key} ${c.name}`);
        assert.ok(c.description.length > 0, `${key} ${c.name} has a description`);
      }
    }
  });

  it('prints one cell per column for empty and malformed objects without throwing', () => {
    const shapes: unknown[] = [
      {},
      { metadata: {} },
      { metadata: { name: 7, labels: 'x', annotations: [], ownerReferences: {}, deletionTimestamp: 'soon' } },
      { metadata: { name: 'n' }, spec: 'garbage', status: [1, 2, 3] },
      {
        metadata: { name: 'n', creationTimestamp: 'yesterday' },
        spec: {
          containers: { a: 1 },
          initContainers: [null, 3],
          selector: { matchExpressions: [{ operator: 'Bogus' }] },
          ports: [null, 'x'],
        },
        status: { conditions: 'Ready', containerStatuses: [null, { state: 'waiting' }], initContainerStatuses: [{}, null] },
      },
      {
        metadata: { name: 'n' },
        spec: { metrics: [{ type: 'Resource' }, { type: 'External' }, { type: 'Pods' }, { type: 'Object' }, null] },
      },
      {
        metadata: { name: 'n' },
        subsets: [{ addresses: [{}], ports: [{}] }, null],
        involvedObject: 'pod',
        series: {},
        data: null,
      },
    ];
    for (const [key, p] of printers) {
      for (const shape of shapes) {
        const cells = p.cells(shape as KubeObject, NOW);
        assert.equal(cells.length, p.columns.length, `${key} with ${JSON.stringify(shape)}`);
      }
    }
  });

  it('prints the age of the object in the Age column', () => {
    for (const [key, p] of printers) {
      const ageIndex = p.columns.findIndex((c) => c.name === 'Age');
      if (ageIndex < 0) continue;
      assert.equal(p.cells(object({}, { creationTimestamp: ago(90 * MINUTE) }), NOW)[ageIndex], '90m', key);
      assert.equal(p.cells({ metadata: { name: 'x' } } as KubeObject, NOW)[ageIndex], '<unknown>', key);
    }
  });
});

describe('Pod', () => {
  const twoContainers = {
    containers: [
      { name: 'web', image: 'nginx' },
      { name: 'log', image: 'busybox' },
    ],
    nodeName: 'node-1',
  };

  it('counts ready containers, sums restarts and says when the last restart happened', () => {
    const pod = object({
      spec: twoContainers,
      status: {
        phase: 'Running',
        podIP: '10.0.0.5',
        podIPs: [{ ip: '10.0.0.5' }, { ip: 'fd00::5' }],
        containerStatuses: [
          {
            name: 'web',
            ready: true,
            restartCount: 1,
            state: { running: {} },
            lastState: { terminated: { finishedAt: ago(2 * HOUR) } },
          },
          {
            name: 'log',
            ready: false,
            restartCount: 2,
            state: { running: {} },
            lastState: { terminated: { finishedAt: ago(5 * MINUTE) } },
          },
        ],
      },
    });
    assert.deepEqual(print('/Pod', pod), {
      Name: 'x',
      Ready: '1/2',
      Status: 'Running',
      Restarts: '3 (5m ago)',
      Age: '3d',
      IP: '10.0.0.5',
      Node: 'node-1',
      'Nominated Node': '<none>',
      'Readiness Gates': '<none>',
    });
  });

  it('shows the waiting reason of the first container that has one (CrashLoopBackOff)', () => {
    const pod = object({
      spec: twoContainers,
      status: {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'web',
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1 } },
          },
          { name: 'log', restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
        ],
      },
    });
    const row = print('/Pod', pod);
    assert.equal(row.Status, 'CrashLoopBackOff');
    assert.equal(row.Ready, '0/2');
    // No finishedAt: the count alone.
    assert.equal(row.Restarts, '4');
    assert.equal(row.IP, '<none>');
  });

  it('prints termination reasons, exit codes and signals', () => {
    const withTerminated = (terminated: Record<string, unknown>) =>
      print(
        '/Pod',
        object({
          spec: { containers: [{ name: 'a' }] },
          status: { phase: 'Failed', containerStatuses: [{ name: 'a', state: { terminated } }] },
        }),
      );
    assert.equal(withTerminated({ reason: 'OOMKilled', exitCode: 137 }).Status, 'OOMKilled');
    assert.equal(withTerminated({ exitCode: 2 }).Status, 'ExitCode:2');
    assert.equal(withTerminated({ exitCode: 137, signal: 9 }).Status, 'Signal:9');
  });

  it('is Completed when succeeded, and Running/NotReady while a container still runs', () => {
    const completed = object({
      spec: { containers: [{ name: 'a' }] },
      status: {
        phase: 'Succeeded',
        containerStatuses: [{ name: 'a', state: { terminated: { reason: 'Completed', exitCode: 0 } } }],
      },
    });
    assert.equal(print('/Pod', completed).Status, 'Completed');
    assert.equal(print('/Pod', completed).Ready, '0/1');

    const partlyDone = (conditions: unknown[]) =>
      object({
        spec: twoContainers,
        status: {
          phase: 'Running',
          conditions,
          containerStatuses: [
            { name: 'web', ready: true, state: { running: {} } },
            { name: 'log', state: { terminated: { reason: 'Completed', exitCode: 0 } } },
          ],
        },
      });
    assert.equal(print('/Pod', partlyDone([{ type: 'Ready', status: 'True' }])).Status, 'Running');
    assert.equal(print('/Pod', partlyDone([{ type: 'Ready', status: 'False' }])).Status, 'NotReady');
  });

  it('is Terminating while being deleted unless already terminal, Unknown when its node is lost', () => {
    const running = {
      spec: { containers: [{ name: 'a' }] },
      status: { phase: 'Running', containerStatuses: [{ name: 'a', ready: true, state: { running: {} } }] },
    };
    assert.equal(print('/Pod', object(running, { deletionTimestamp: ago(10 * SECOND) })).Status, 'Terminating');
    assert.equal(print('/Pod', object(running)).Status, 'Running');
    const succeeded = {
      spec: { containers: [{ name: 'a' }] },
      status: { phase: 'Succeeded', containerStatuses: [{ name: 'a', state: { terminated: { reason: 'Completed' } } }] },
    };
    assert.equal(print('/Pod', object(succeeded, { deletionTimestamp: ago(SECOND) })).Status, 'Completed');
    const lost = { spec: running.spec, status: { ...running.status, reason: 'NodeLost' } };
    assert.equal(print('/Pod', object(lost, { deletionTimestamp: ago(SECOND) })).Status, 'Unknown');
  });

  it('reports init container progress and failures', () => {
    const initPod = (initStatuses: unknown[]) =>
      object({
        spec: { initContainers: [{ name: 'migrate' }, { name: 'seed' }], containers: [{ name: 'app' }] },
        status: {
          phase: 'Pending',
          initContainerStatuses: initStatuses,
          containerStatuses: [{ name: 'app', state: { waiting: { reason: 'PodInitializing' } } }],
        },
      });
    const done = { name: 'migrate', restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } };
    assert.equal(print('/Pod', initPod([done, { name: 'seed', state: { running: {} } }])).Status, 'Init:1/2');
    assert.equal(
      print('/Pod', initPod([{ name: 'migrate', state: { waiting: { reason: 'PodInitializing' } } }])).Status,
      'Init:0/2',
    );
    assert.equal(
      print('/Pod', initPod([{ name: 'migrate', state: { waiting: { reason: 'ImagePullBackOff' } } }])).Status,
      'Init:ImagePullBackOff',
    );
    const failed = print(
      '/Pod',
      initPod([{ name: 'migrate', restartCount: 3, state: { terminated: { exitCode: 1, reason: 'Error' } } }]),
    );
    assert.equal(failed.Status, 'Init:Error');
    assert.equal(failed.Restarts, '3', 'init restarts count while initializing');
    assert.equal(print('/Pod', initPod([{ name: 'migrate', state: { terminated: { exitCode: 3 } } }])).Status, 'Init:ExitCode:3');
    assert.equal(
      print('/Pod', initPod([{ name: 'migrate', state: { terminated: { exitCode: 143, signal: 15 } } }])).Status,
      'Init:Signal:15',
    );
  });

  it('counts started restartable init containers (sidecars) as containers', () => {
    const pod = object({
      spec: { initContainers: [{ name: 'proxy', restartPolicy: 'Always' }], containers: [{ name: 'app' }] },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Initialized', status: 'True' }],
        initContainerStatuses: [
          {
            name: 'proxy',
            started: true,
            ready: true,
            restartCount: 2,
            state: { running: {} },
            lastState: { terminated: { finishedAt: ago(30 * MINUTE) } },
          },
        ],
        containerStatuses: [
          {
            name: 'app',
            ready: true,
            restartCount: 1,
            state: { running: {} },
            lastState: { terminated: { finishedAt: ago(HOUR) } },
          },
        ],
      },
    });
    const row = print('/Pod', pod);
    assert.equal(row.Ready, '2/2');
    assert.equal(row.Status, 'Running');
    assert.equal(row.Restarts, '3 (30m ago)');
  });

  it('reports scheduling gates, nominated nodes and readiness gates', () => {
    const gated = object({
      spec: { containers: [{ name: 'a' }] },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] },
    });
    assert.equal(print('/Pod', gated).Status, 'SchedulingGated');
    const gates = object({
      spec: {
        containers: [{ name: 'a' }],
        readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }],
      },
      status: {
        phase: 'Pending',
        nominatedNodeName: 'node-2',
        conditions: [
          { type: 'example.com/lb', status: 'True' },
          { type: 'example.com/dns', status: 'False' },
        ],
      },
    });
    const row = print('/Pod', gates);
    assert.equal(row['Readiness Gates'], '1/2');
    assert.equal(row['Nominated Node'], 'node-2');
    assert.equal(row.Node, '<none>');
  });
});

describe('Service', () => {
  it('prints a LoadBalancer with its ingress points, node ports and selector', () => {
    const service = object({
      spec: {
        type: 'LoadBalancer',
        clusterIP: '10.96.0.20',
        clusterIPs: ['10.96.0.20'],
        selector: { tier: 'frontend', app: 'web' },
        ports: [
          { name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' },
          { name: 'dns', port: 53, protocol: 'UDP' },
        ],
      },
      status: {
        loadBalancer: {
          ingress: [{ ip: '203.0.113.9' }, { hostname: 'lb.example.com' }, { ip: '203.0.113.10' }, { ip: '203.0.113.9' }],
        },
      },
    });
    assert.deepEqual(print('/Service', service), {
      Name: 'x',
      Type: 'LoadBalancer',
      'Cluster-IP': '10.96.0.20',
      'External-IP': '203.0.113.10,203.0.113.9,lb.example.com',
      'Port(s)': '80:30080/TCP,53/UDP',
      Age: '3d',
      Selector: 'app=web,tier=frontend',
    });
  });

  it('prints pending load balancers, external IPs, headless and ExternalName services', () => {
    assert.equal(
      print('/Service', object({ spec: { type: 'LoadBalancer', clusterIP: '10.96.0.1' } }))['External-IP'],
      '<pending>',
    );
    assert.equal(
      print(
        '/Service',
        object({
          spec: { type: 'LoadBalancer', externalIPs: ['198.51.100.1'] },
          status: { loadBalancer: { ingress: [{ ip: '203.0.113.1' }] } },
        }),
      )['External-IP'],
      '203.0.113.1,198.51.100.1',
    );
    const headless = print('/Service', object({ spec: { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'] } }));
    assert.equal(headless['Cluster-IP'], 'None');
    assert.equal(headless['External-IP'], '<none>');
    assert.equal(headless['Port(s)'], '<none>');
    assert.equal(headless.Selector, '<none>');
    const external = print('/Service', object({ spec: { type: 'ExternalName', externalName: 'db.example.com' } }));
    assert.deepEqual([external['Cluster-IP'], external['External-IP']], ['<none>', 'db.example.com']);
    assert.equal(print('/Service', object({ spec: {} }))['External-IP'], '<unknown>');
  });
});

describe('workloads', () => {
  const template = {
    metadata: { labels: { app: 'web' } },
    spec: {
      containers: [
        { name: 'web', image: 'nginx:1.27' },
        { name: 'sidecar', image: 'envoy:1.30' },
      ],
    },
  };

  it('Deployment: READY UP-TO-DATE AVAILABLE and wide CONTAINERS IMAGES SELECTOR', () => {
    const deployment = object({
      spec: {
        replicas: 3,
        selector: {
          matchLabels: { app: 'web' },
          matchExpressions: [
            { key: 'tier', operator: 'In', values: ['frontend', 'backend'] },
            { key: 'canary', operator: 'DoesNotExist' },
          ],
        },
        template,
      },
      status: { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2 },
    });
    assert.deepEqual(print('apps/Deployment', deployment), {
      Name: 'x',
      Ready: '2/3',
      'Up-to-date': 3,
      Available: 2,
      Age: '3d',
      Containers: 'web,sidecar',
      Images: 'nginx:1.27,envoy:1.30',
      Selector: 'app=web,!canary,tier in (backend,frontend)',
    });
    const invalid = object({ spec: { selector: { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] } } });
    assert.equal(print('apps/Deployment', invalid).Selector, '<invalid>');
    assert.equal(print('apps/Deployment', object({ spec: {} })).Selector, '');
  });

  it('ReplicaSet, StatefulSet and DaemonSet', () => {
    const rs = print(
      'apps/ReplicaSet',
      object({
        spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template },
        status: { replicas: 2, readyReplicas: 1 },
      }),
    );
    assert.deepEqual([rs.Desired, rs.Current, rs.Ready, rs.Selector], [2, 2, 1, 'app=web']);
    assert.equal(
      print('apps/ReplicaSet', object({ spec: { selector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } } })).Selector,
      '<error>',
    );

    const sts = print('apps/StatefulSet', object({ spec: { replicas: 3, template }, status: { readyReplicas: 3 } }));
    assert.deepEqual([sts.Ready, sts.Containers, sts.Images], ['3/3', 'web,sidecar', 'nginx:1.27,envoy:1.30']);

    const ds = print(
      'apps/DaemonSet',
      object({
        spec: {
          selector: { matchLabels: { app: 'agent' } },
          template: {
            spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'agent', image: 'agent:1' }] },
          },
        },
        status: {
          desiredNumberScheduled: 4,
          currentNumberScheduled: 4,
          numberReady: 3,
          updatedNumberScheduled: 4,
          numberAvailable: 3,
        },
      }),
    );
    assert.deepEqual(
      [ds.Desired, ds.Current, ds.Ready, ds['Up-to-date'], ds.Available, ds['Node Selector'], ds.Selector],
      [4, 4, 3, 4, 3, 'kubernetes.io/os=linux', 'app=agent'],
    );
  });

  it('ControllerRevision names its controller by kind.group/name', () => {
    const rev = object(
      { revision: 4 },
      {
        ownerReferences: [
          { apiVersion: 'v1', kind: 'Pod', name: 'other', uid: '1' },
          { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: '2', controller: true },
        ],
      },
    );
    assert.deepEqual(print('apps/ControllerRevision', rev), {
      Name: 'x',
      Controller: 'statefulset.apps/web',
      Revision: 4,
      Age: '3d',
    });
    assert.equal(print('apps/ControllerRevision', object({})).Controller, '<none>');
  });

  it('Job: running, complete, failed, suspended, parallel', () => {
    const job = (spec: Record<string, unknown>, status: Record<string, unknown>, metadata: Record<string, unknown> = {}) =>
      print(
        'batch/Job',
        object(
          { spec: { ...spec, template, selector: { matchLabels: { 'batch.kubernetes.io/job-name': 'x' } } }, status },
          metadata,
        ),
      );
    const running = job({ completions: 3, parallelism: 1 }, { startTime: ago(5 * MINUTE), active: 1, succeeded: 1 });
    assert.deepEqual([running.Status, running.Completions, running.Duration], ['Running', '1/3', '5m']);
    assert.equal(running.Selector, 'batch.kubernetes.io/job-name=x');

    const complete = job(
      { completions: 1 },
      {
        startTime: ago(10 * MINUTE),
        completionTime: ago(7 * MINUTE + 30 * SECOND),
        succeeded: 1,
        conditions: [
          { type: 'SuccessCriteriaMet', status: 'True' },
          { type: 'Complete', status: 'True' },
        ],
      },
    );
    assert.deepEqual([complete.Status, complete.Completions, complete.Duration], ['Complete', '1/1', '2m30s']);

    assert.equal(job({}, { conditions: [{ type: 'Failed', status: 'True' }] }).Status, 'Failed');
    assert.equal(job({}, { conditions: [{ type: 'Suspended', status: 'True' }] }).Status, 'Suspended');
    assert.equal(job({}, { conditions: [{ type: 'FailureTarget', status: 'True' }] }).Status, 'FailureTarget');
    assert.equal(job({}, { conditions: [{ type: 'Complete', status: 'False' }] }).Status, 'Running');
    assert.equal(job({}, {}, { deletionTimestamp: ago(SECOND) }).Status, 'Terminating');
    const parallel = job({ parallelism: 3 }, { succeeded: 0 });
    assert.deepEqual([parallel.Completions, parallel.Duration], ['0/1 of 3', '']);
    assert.equal(job({}, {}).Completions, '0/1');
  });

  it('CronJob: schedule, time zone, suspend, active jobs and last schedule', () => {
    const cronJob = object({
      spec: { schedule: '*/5 * * * *', suspend: false, jobTemplate: { spec: { template } } },
      status: { active: [{ name: 'x-1' }], lastScheduleTime: ago(90 * SECOND) },
    });
    assert.deepEqual(print('batch/CronJob', cronJob), {
      Name: 'x',
      Schedule: '*/5 * * * *',
      Timezone: '<none>',
      Suspend: 'False',
      Active: 1,
      'Last Schedule': '90s',
      Age: '3d',
      Containers: 'web,sidecar',
      Images: 'nginx:1.27,envoy:1.30',
      Selector: '<none>',
    });
    const never = print('batch/CronJob', object({ spec: { schedule: '@daily', timeZone: 'Europe/Paris' } }));
    assert.deepEqual(
      [never.Timezone, never.Suspend, never.Active, never['Last Schedule']],
      ['Europe/Paris', '<unset>', 0, '<none>'],
    );
  });

  it('HorizontalPodAutoscaler (autoscaling/v2, and v1-shaped objects)', () => {
    const hpa = object({
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 2,
        maxReplicas: 10,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
          { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
          { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '1k' } } },
        ],
      },
      status: {
        currentReplicas: 3,
        currentMetrics: [
          { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 45, averageValue: '90m' } } },
          { type: 'Resource', resource: { name: 'memory', current: { averageValue: '300Mi' } } },
        ],
      },
    });
    assert.deepEqual(print('autoscaling/HorizontalPodAutoscaler', hpa), {
      Name: 'x',
      Reference: 'Deployment/web',
      Targets: 'cpu: 45%/80%, memory: 300Mi/500Mi + 1 more...',
      MinPods: '2',
      MaxPods: 10,
      Replicas: 3,
      Age: '3d',
    });
    const v1 = object({
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'api' }, maxReplicas: 5, targetCPUUtilizationPercentage: 70 },
      status: {},
    });
    assert.deepEqual(
      [print('autoscaling/HorizontalPodAutoscaler', v1).Targets, print('autoscaling/HorizontalPodAutoscaler', v1).MinPods],
      ['cpu: <unknown>/70%', '<unset>'],
    );
    const external = object({
      spec: {
        metrics: [
          { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'AverageValue', averageValue: '30' } } },
          { type: 'Object', object: { metric: { name: 'rps' }, target: { type: 'Value', value: '2k' } } },
        ],
      },
      status: { currentMetrics: [{ type: 'External', external: { current: { averageValue: '12' } } }] },
    });
    assert.equal(print('autoscaling/HorizontalPodAutoscaler', external).Targets, '12/30 (avg), <unknown>/2k');
    assert.equal(print('autoscaling/HorizontalPodAutoscaler', object({ spec: {} })).Targets, '<none>');
  });

  it('PodDisruptionBudget', () => {
    const pdb = print('policy/PodDisruptionBudget', object({ spec: { minAvailable: '50%' }, status: { disruptionsAllowed: 1 } }));
    assert.deepEqual([pdb['Min Available'], pdb['Max Unavailable'], pdb['Allowed Disruptions']], ['50%', 'N/A', 1]);
    assert.equal(print('policy/PodDisruptionBudget', object({ spec: { maxUnavailable: 1 } }))['Max Unavailable'], '1');
  });
});

describe('networking', () => {
  it('Endpoints: host:port pairs, the first three and a count of the rest', () => {
    const endpoints = object({
      subsets: [
        {
          addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }],
          ports: [
            { name: 'http', port: 8080 },
            { name: 'metrics', port: 9090 },
          ],
        },
        { addresses: [{ ip: 'fd00::1' }], ports: [{ port: 8080 }] },
      ],
    });
    assert.equal(print('/Endpoints', endpoints).Endpoints, '10.0.0.1:8080,10.0.0.2:8080,10.0.0.1:9090 + 2 more...');
    assert.equal(
      print('/Endpoints', object({ subsets: [{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 53 }] }] })).Endpoints,
      '[fd00::1]:53',
    );
    assert.equal(print('/Endpoints', object({ subsets: [{ addresses: [{ ip: '10.0.0.9' }] }] })).Endpoints, '10.0.0.9');
    assert.equal(print('/Endpoints', object({})).Endpoints, '<none>');
  });

  it('EndpointSlice', () => {
    const slice = object({
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 80 }, { name: 'named' }, {}],
      endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2', '10.0.0.3'] }, { addresses: ['10.0.0.4'] }],
    });
    const row = print('discovery.k8s.io/EndpointSlice', slice);
    assert.deepEqual(
      [row.AddressType, row.Ports, row.Endpoints],
      ['IPv4', '80,named,*', '10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...'],
    );
    const empty = print('discovery.k8s.io/EndpointSlice', object({ addressType: 'IPv6' }));
    assert.deepEqual([empty.Ports, empty.Endpoints], ['<unset>', '<unset>']);
  });

  it('Ingress, IngressClass and NetworkPolicy', () => {
    const ingress = object({
      spec: {
        ingressClassName: 'nginx',
        rules: [{ host: 'a.example.com' }, { host: 'b.example.com' }, {}, { host: 'c.example.com' }, { host: 'd.example.com' }],
        tls: [{ hosts: ['a.example.com'] }],
      },
      status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } },
    });
    assert.deepEqual(print('networking.k8s.io/Ingress', ingress), {
      Name: 'x',
      Class: 'nginx',
      Hosts: 'a.example.com,b.example.com,c.example.com + 2 more...',
      Address: '203.0.113.7',
      Ports: '80, 443',
      Age: '3d',
    });
    const bare = print('networking.k8s.io/Ingress', object({ spec: { rules: [{}] } }));
    assert.deepEqual([bare.Class, bare.Hosts, bare.Address, bare.Ports], ['<none>', '*', '', '80']);

    const ingressClass = object({
      spec: {
        controller: 'k8s.io/ingress-nginx',
        parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' },
      },
    });
    assert.equal(
      print('networking.k8s.io/IngressClass', ingressClass).Parameters,
      'IngressParameters.k8s.example.com/external-lb',
    );
    assert.equal(print('networking.k8s.io/IngressClass', object({ spec: { controller: 'c' } })).Parameters, '<none>');

    assert.equal(
      print('networking.k8s.io/NetworkPolicy', object({ spec: { podSelector: { matchLabels: { role: 'db' } } } }))[
        'Pod-Selector'
      ],
      'role=db',
    );
    assert.equal(print('networking.k8s.io/NetworkPolicy', object({ spec: { podSelector: {} } }))['Pod-Selector'], '<none>');
  });
});

describe('cluster and configuration', () => {
  it('Node: readiness, scheduling, roles, version and wide system info', () => {
    const node = object(
      {
        spec: { unschedulable: true },
        status: {
          conditions: [
            { type: 'MemoryPressure', status: 'False' },
            { type: 'Ready', status: 'True' },
          ],
          addresses: [
            { type: 'Hostname', address: 'node-1' },
            { type: 'InternalIP', address: '192.168.1.10' },
          ],
          nodeInfo: {
            kubeletVersion: 'v1.34.0',
            osImage: 'Ubuntu 24.04 LTS',
            kernelVersion: '6.8.0',
            containerRuntimeVersion: 'containerd://2.0.0',
          },
        },
      },
      { labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'worker', 'node-role.kubernetes.io/': '' } },
    );
    assert.deepEqual(print('/Node', node), {
      Name: 'x',
      Status: 'Ready,SchedulingDisabled',
      Roles: 'control-plane,worker',
      Age: '3d',
      Version: 'v1.34.0',
      'Internal-IP': '192.168.1.10',
      'External-IP': '<none>',
      'OS-Image': 'Ubuntu 24.04 LTS',
      'Kernel-Version': '6.8.0',
      'Container-Runtime': 'containerd://2.0.0',
    });
    const unknown = print('/Node', object({ status: {} }));
    assert.deepEqual([unknown.Status, unknown.Roles, unknown['OS-Image']], ['Unknown', '<none>', '<unknown>']);
    assert.equal(print('/Node', object({ status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } })).Status, 'NotReady');
  });

  it('Namespace, ConfigMap, Secret, ServiceAccount, Lease', () => {
    assert.equal(print('/Namespace', object({ status: { phase: 'Terminating' } })).Status, 'Terminating');
    assert.equal(print('/ConfigMap', object({ data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } })).Data, 3);
    const secret = print(
      '/Secret',
      object({
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': 'x', 'tls.key': 'y' },
        stringData: { 'tls.key': 'z', 'ca.crt': 'w' },
      }),
    );
    assert.deepEqual([secret.Type, secret.Data], ['kubernetes.io/tls', 3]);
    assert.equal(print('/ServiceAccount', object({ secrets: [{ name: 'token' }] })).Secrets, 1);
    assert.equal(print('coordination.k8s.io/Lease', object({ spec: { holderIdentity: 'controller-0' } })).Holder, 'controller-0');
  });

  it('ResourceQuota splits requests and limits', () => {
    const quota = object({
      status: {
        hard: { 'limits.memory': '2Gi', pods: '10', 'requests.cpu': '2', 'limits.cpu': '4' },
        used: { 'limits.memory': '512Mi', pods: '3', 'requests.cpu': '500m' },
      },
    });
    const row = print('/ResourceQuota', quota);
    assert.equal(row.Request, 'pods: 3/10, requests.cpu: 500m/2');
    assert.equal(row.Limit, 'limits.cpu: 0/4, limits.memory: 512Mi/2Gi');
  });

  it('RoleBinding and ClusterRoleBinding list subjects by kind', () => {
    const binding = object({
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [
        { kind: 'User', name: 'alice' },
        { kind: 'Group', name: 'devs' },
        { kind: 'ServiceAccount', name: 'ci', namespace: 'tools' },
        { kind: 'User', name: 'bob' },
      ],
    });
    assert.deepEqual(print('rbac.authorization.k8s.io/RoleBinding', binding), {
      Name: 'x',
      Role: 'ClusterRole/view',
      Age: '3d',
      Users: 'alice, bob',
      Groups: 'devs',
      ServiceAccounts: 'tools/ci',
    });
    assert.equal(print('rbac.authorization.k8s.io/ClusterRoleBinding', binding).Role, 'ClusterRole/view');
  });

  it('APIService shows its backing service and availability', () => {
    const local = print(
      'apiregistration.k8s.io/APIService',
      object({ spec: {}, status: { conditions: [{ type: 'Available', status: 'True', reason: 'Local' }] } }),
    );
    assert.deepEqual([local.Service, local.Available], ['Local', 'True']);
    const remote = print(
      'apiregistration.k8s.io/APIService',
      object({
        spec: { service: { namespace: 'kube-system', name: 'metrics-server' } },
        status: { conditions: [{ type: 'Available', status: 'False', reason: 'MissingEndpoints' }] },
      }),
    );
    assert.deepEqual([remote.Service, remote.Available], ['kube-system/metrics-server', 'False (MissingEndpoints)']);
    assert.equal(print('apiregistration.k8s.io/APIService', object({})).Available, 'Unknown');
  });
});

describe('storage', () => {
  it('PersistentVolume', () => {
    const pv = object(
      {
        spec: {
          capacity: { storage: '10Gi' },
          accessModes: ['ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: 'fast',
          volumeMode: 'Filesystem',
          claimRef: { namespace: 'default', name: 'data' },
        },
        status: { phase: 'Bound' },
      },
      { annotations: { 'volume.beta.kubernetes.io/storage-class': 'legacy' } },
    );
    assert.deepEqual(print('/PersistentVolume', pv), {
      Name: 'x',
      Capacity: '10Gi',
      'Access Modes': 'RWO,RWX',
      'Reclaim Policy': 'Retain',
      Status: 'Bound',
      Claim: 'default/data',
      StorageClass: 'legacy',
      VolumeAttributesClass: '<unset>',
      Reason: '',
      Age: '3d',
      VolumeMode: 'Filesystem',
    });
    const deleting = print(
      '/PersistentVolume',
      object({ spec: {}, status: { phase: 'Released' } }, { deletionTimestamp: ago(SECOND) }),
    );
    assert.deepEqual(
      [deleting.Status, deleting.Capacity, deleting.Claim, deleting.VolumeMode],
      ['Terminating', '0', '', '<unset>'],
    );
  });

  it('PersistentVolumeClaim shows capacity and modes only once bound', () => {
    const bound = object({
      spec: { volumeName: 'pv-1', storageClassName: 'fast', resources: { requests: { storage: '5Gi' } }, volumeMode: 'Block' },
      status: { phase: 'Bound', capacity: { storage: '8Gi' }, accessModes: ['ReadWriteOncePod'] },
    });
    const row = print('/PersistentVolumeClaim', bound);
    assert.deepEqual(
      [row.Status, row.Volume, row.Capacity, row['Access Modes'], row.StorageClass, row.VolumeMode],
      ['Bound', 'pv-1', '8Gi', 'RWOP', 'fast', 'Block'],
    );
    const pending = print(
      '/PersistentVolumeClaim',
      object({ spec: { resources: { requests: { storage: '5Gi' } } }, status: { phase: 'Pending' } }),
    );
    assert.deepEqual(
      [pending.Status, pending.Volume, pending.Capacity, pending['Access Modes'], pending.StorageClass],
      ['Pending', '', '', '', ''],
    );
  });

  it('StorageClass marks the default class and defaults its policies', () => {
    const sc = object(
      { provisioner: 'rancher.io/local-path' },
      { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    );
    assert.deepEqual(print('storage.k8s.io/StorageClass', sc), {
      Name: 'local-path (default)',
      Provisioner: 'rancher.io/local-path',
      ReclaimPolicy: 'Delete',
      VolumeBindingMode: 'Immediate',
      AllowVolumeExpansion: false,
      Age: '3d',
    });
    const explicit = print(
      'storage.k8s.io/StorageClass',
      object({
        provisioner: 'p',
        reclaimPolicy: 'Retain',
        volumeBindingMode: 'WaitForFirstConsumer',
        allowVolumeExpansion: true,
      }),
    );
    assert.deepEqual(
      [explicit.Name, explicit.ReclaimPolicy, explicit.VolumeBindingMode, explicit.AllowVolumeExpansion],
      ['x', 'Retain', 'WaitForFirstConsumer', true],
    );
  });
});

describe('Event', () => {
  it('core/v1: LAST SEEN TYPE REASON OBJECT MESSAGE, wide SUBOBJECT SOURCE FIRST SEEN COUNT NAME', () => {
    const event = object(
      {
        involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', fieldPath: 'spec.containers{web}' },
        reason: 'BackOff',
        message: '  Back-off restarting failed container\n',
        type: 'Warning',
        source: { component: 'kubelet', host: 'node-1' },
        firstTimestamp: ago(10 * MINUTE),
        lastTimestamp: ago(2 * MINUTE),
        count: 7,
      },
      { name: 'web-1.17a' },
    );
    assert.deepEqual(print('/Event', event), {
      'Last Seen': '2m',
      Type: 'Warning',
      Reason: 'BackOff',
      Object: 'pod/web-1',
      Subobject: 'spec.containers{web}',
      Source: 'kubelet, node-1',
      Message: 'Back-off restarting failed container',
      'First Seen': '10m',
      Count: 7,
      Name: 'web-1.17a',
    });
  });

  it('core/v1 events written through the new API: eventTime, series, reporting component', () => {
    const event = object({
      involvedObject: { kind: 'Node' },
      reason: 'Starting',
      type: 'Normal',
      eventTime: ago(20 * MINUTE),
      reportingComponent: 'kube-proxy',
      reportingInstance: 'node-2',
      series: { count: 4, lastObservedTime: ago(45 * SECOND) },
    });
    const row = print('/Event', event);
    assert.deepEqual(
      [row['Last Seen'], row['First Seen'], row.Count, row.Object, row.Source],
      ['45s', '20m', 4, 'node', 'kube-proxy, node-2'],
    );
    const singleton = print('/Event', object({ involvedObject: { kind: 'Pod', name: 'p' }, eventTime: ago(5 * SECOND) }));
    assert.deepEqual([singleton['Last Seen'], singleton.Count, singleton.Source], ['5s', 1, '']);
  });

  it('events.k8s.io/v1 prints through the same columns', () => {
    assert.deepEqual(builtinPrinters['events.k8s.io/Event'].columns, builtinPrinters['/Event'].columns);
    const event = object(
      {
        regarding: { kind: 'Deployment', name: 'web', namespace: 'default' },
        note: 'Scaled up replica set web-5d9 to 3',
        reason: 'ScalingReplicaSet',
        type: 'Normal',
        eventTime: ago(3 * MINUTE),
        reportingController: 'deployment-controller',
        deprecatedCount: 2,
        deprecatedFirstTimestamp: ago(9 * MINUTE),
        deprecatedLastTimestamp: ago(MINUTE),
      },
      { name: 'web.1' },
    );
    assert.deepEqual(print('events.k8s.io/Event', event), {
      'Last Seen': '60s',
      Type: 'Normal',
      Reason: 'ScalingReplicaSet',
      Object: 'deployment/web',
      Subobject: '',
      Source: 'deployment-controller',
      Message: 'Scaled up replica set web-5d9 to 3',
      'First Seen': '9m',
      Count: 2,
      Name: 'web.1',
    });
  });
});

describe('default table convertor', () => {
  it('prints NAME and CREATED AT (RFC 3339, whole seconds, UTC) for kinds without printers', () => {
    assert.deepEqual(
      defaultPrinter.columns.map((c) => [c.name, c.type, c.format, c.priority]),
      [
        ['Name', 'string', 'name', 0],
        ['Created At', 'date', undefined, 0],
      ],
    );
    const role = object({ rules: [] }, { name: 'pod-reader', creationTimestamp: '2025-01-02T03:04:05.678+02:00' });
    assert.deepEqual(builtinPrinters['rbac.authorization.k8s.io/Role'].cells(role, NOW), ['pod-reader', '2025-01-02T01:04:05Z']);
    assert.deepEqual(defaultPrinter.cells({ metadata: { name: 'limits' } }, NOW), ['limits', '0001-01-01T00:00:00Z']);
    assert.equal(printerFor('example.com', 'Widget'), defaultPrinter);
    assert.equal(printerFor('', 'Pod'), builtinPrinters['/Pod']);
  });
});

describe('CustomResourceDefinition printer columns', () => {
  const certificate = object(
    {
      spec: {
        secretName: 'web-tls',
        dnsNames: ['a.example.com', 'b.example.com'],
        replicas: 2.9,
        ratio: 0.25,
        enabled: true,
        config: { b: [1, 'x'], a: null },
      },
      status: {
        conditions: [
          { type: 'Issuing', status: 'False' },
          { type: 'Ready', status: 'True', message: 'Certificate is up to date' },
        ],
        notAfter: ago(-30 * DAY),
        renewed: 'not a time',
      },
    },
    { name: 'web', creationTimestamp: ago(45 * DAY), annotations: { 'cert-manager.io/issuer': 'letsencrypt' } },
  );

  it('defaults to an Age column when none are declared', () => {
    const p = printerForCustomColumns(undefined);
    assert.deepEqual(
      p.columns.map((c) => [c.name, c.type, c.priority]),
      [
        ['Name', 'string', 0],
        ['Age', 'date', 0],
      ],
    );
    assert.deepEqual(p.cells(certificate, NOW), ['web', '45d']);
    assert.deepEqual(printerForCustomColumns([]).cells(certificate, NOW), ['web', '45d']);
  });

  it('evaluates each column path and formats cells by column type', () => {
    const p = printerForCustomColumns([
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: 'Secret', type: 'string', jsonPath: '.spec.secretName', description: 'Secret holding the key pair', priority: 0 },
      { name: 'Issuer', type: 'string', jsonPath: '.metadata.annotations.cert-manager\\.io/issuer', priority: 1 },
      { name: 'First DNS', type: 'string', jsonPath: '.spec.dnsNames[0]' },
      { name: 'Last DNS', type: 'string', jsonPath: ".spec['dnsNames'][-1]" },
      { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
      { name: 'Ratio', type: 'number', jsonPath: '.spec.ratio' },
      { name: 'Enabled', type: 'boolean', jsonPath: '.spec.enabled' },
      { name: 'Config', type: 'string', jsonPath: '.spec.config' },
      { name: 'Expires', type: 'date', jsonPath: '.status.notAfter' },
      { name: 'Renewed', type: 'date', jsonPath: '.status.renewed' },
      { name: 'Missing', type: 'string', jsonPath: '.status.nothing.here' },
      { name: 'Mistyped', type: 'integer', jsonPath: '.spec.secretName' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ]);
    assert.deepEqual(p.columns[1], {
      name: 'Ready',
      type: 'string',
      description: 'Custom resource definition column (in JSONPath format): .status.conditions[?(@.type=="Ready")].status',
      priority: 0,
    });
    assert.equal(p.columns[2].description, 'Secret holding the key pair');
    assert.equal(p.columns[3].priority, 1);
    assert.deepEqual(p.cells(certificate, NOW), [
      'web',
      'True',
      'web-tls',
      'letsencrypt',
      'a.example.com',
      'b.example.com',
      2,
      0.25,
      true,
      'map[a:<nil> b:[1 x]]',
      // A future time is a negative age, which HumanDuration prints as <invalid>, as upstream.
      '<invalid>',
      '<invalid>',
      null,
      null,
      '45d',
    ]);
  });

  it('leaves the cell empty for a path outside the supported subset', () => {
    const p = printerForCustomColumns([
      { name: 'Created', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      { name: 'Broken', type: 'string', jsonPath: '.spec..secretName' },
    ]);
    assert.deepEqual(p.cells(certificate, NOW), ['web', '45d', null]);
  });
});

describe('JSONPath and selectors', () => {
  it('supports wildcards, slices and filters with comparison operators', () => {
    const doc = {
      items: [
        { n: 1, k: 'a' },
        { n: 5, k: 'b' },
        { n: 9, k: 'c' },
      ],
      m: { x: 1, y: 2 },
    };
    const run = (path: string) => {
      const parsed = parseJsonPath(path);
      assert.ok(parsed, path);
      return evaluateJsonPath(parsed, doc);
    };
    assert.deepEqual(run('{.items[*].k}'), ['a', 'b', 'c']);
    assert.deepEqual(run('.items[1:].k'), ['b', 'c']);
    assert.deepEqual(run('.items[?(@.n > 3)].k'), ['b', 'c']);
    assert.deepEqual(run(".items[?(@.k != 'b')].n"), [1, 9]);
    assert.deepEqual(run('.items[?(@.missing)]'), []);
    assert.deepEqual(run('.m.*'), [1, 2]);
    assert.equal(parseJsonPath('.a..b'), undefined);
    assert.equal(parseJsonPath('.a[?(@.x ~ 1)]'), undefined);
  });

  it('formats label selectors like metav1.FormatLabelSelector', () => {
    assert.equal(formatLabelSelector(undefined), '<none>');
    assert.equal(formatLabelSelector({}), '<none>');
    assert.equal(
      formatLabelSelector({
        matchLabels: { b: '2', a: '1' },
        matchExpressions: [
          { key: 'env', operator: 'NotIn', values: ['qa', 'dev'] },
          { key: 'ab', operator: 'Exists' },
        ],
      }),
      'a=1,ab,b=2,env notin (dev,qa)',
    );
    assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }), '<error>');
  });
});
