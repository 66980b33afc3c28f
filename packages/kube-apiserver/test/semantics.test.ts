import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject, StatusCause } from '@canopy/apimachinery';
import { builtinSemantics, cronScheduleError, imageTag, podQOSClass, prepareForCreate } from '../src/registry/semantics.js';
import type { ValidationContext } from '../src/registry/types.js';

function semanticsOf(kindKey: string) {
  const semantics = builtinSemantics[kindKey];
  assert.ok(semantics, `no semantics for ${kindKey}`);
  return semantics;
}

/** What the API server does to a new object before storing it: defaults, then create-time state. */
function create(kindKey: string, object: unknown, uid = 'uid-1'): KubeObject {
  const copy = structuredClone(object) as KubeObject;
  semanticsOf(kindKey).defaults?.(copy);
  copy.metadata.uid = uid;
  prepareForCreate(kindKey, copy);
  return copy;
}

function validate(kindKey: string, object: KubeObject, context: ValidationContext = {}): string[] {
  return (semanticsOf(kindKey).validate?.(object, context) ?? []).map((c: StatusCause) =>
    c.field ? `${c.field}: ${c.message}` : String(c.message),
  );
}

/** An update: the new object is defaulted, then validated against the stored one. */
function update(
  kindKey: string,
  stored: KubeObject,
  change: (object: KubeObject) => void,
  subresource?: 'status' | 'scale',
): string[] {
  const next = structuredClone(stored);
  change(next);
  semanticsOf(kindKey).defaults?.(next);
  return validate(kindKey, next, { old: stored, ...(subresource ? { subresource } : {}) });
}

const defaultedContainer = (name: string, image: string, pullPolicy: string) => ({
  name,
  image,
  imagePullPolicy: pullPolicy,
  resources: {},
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
});

const defaultedPodSpec = {
  dnsPolicy: 'ClusterFirst',
  restartPolicy: 'Always',
  schedulerName: 'default-scheduler',
  securityContext: {},
  terminationGracePeriodSeconds: 30,
};

// What kubectl 1.3x sends for the usual imperative commands.
const kubectlCreateDeployment = {
  kind: 'Deployment',
  apiVersion: 'apps/v1',
  metadata: { name: 'nginx', creationTimestamp: null, labels: { app: 'nginx' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'nginx' } },
    template: {
      metadata: { creationTimestamp: null, labels: { app: 'nginx' } },
      spec: { containers: [{ name: 'nginx', image: 'nginx', resources: {} }] },
    },
    strategy: {},
  },
  status: {},
};

const kubectlRun = {
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { name: 'nginx', namespace: 'default', creationTimestamp: null, labels: { run: 'nginx' } },
  spec: { containers: [{ name: 'nginx', image: 'nginx', resources: {} }], restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' },
  status: {},
};

const kubectlCreateJob = {
  kind: 'Job',
  apiVersion: 'batch/v1',
  metadata: { name: 'pi', namespace: 'default', creationTimestamp: null },
  spec: {
    template: {
      metadata: { creationTimestamp: null },
      spec: { containers: [{ name: 'pi', image: 'perl:5.34', resources: {} }], restartPolicy: 'Never' },
    },
  },
  status: {},
};

const kubectlCreateService = {
  kind: 'Service',
  apiVersion: 'v1',
  metadata: { name: 'web', namespace: 'default', creationTimestamp: null, labels: { app: 'web' } },
  spec: {
    ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }],
    selector: { app: 'web' },
    type: 'ClusterIP',
  },
  status: { loadBalancer: {} },
};

describe('defaults match what kube-apiserver stores', () => {
  it('kubectl create deployment nginx --image=nginx', () => {
    const stored = create('apps/Deployment', {
      ...kubectlCreateDeployment,
      metadata: { ...kubectlCreateDeployment.metadata, namespace: 'default' },
    });
    assert.deepEqual(stored.spec, {
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      selector: { matchLabels: { app: 'nginx' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { creationTimestamp: null, labels: { app: 'nginx' } },
        spec: { ...defaultedPodSpec, containers: [defaultedContainer('nginx', 'nginx', 'Always')] },
      },
    });
    assert.deepEqual(validate('apps/Deployment', stored), []);
  });

  it('kubectl run nginx --image=nginx (a Pod, with its initial status)', () => {
    const stored = create('/Pod', kubectlRun);
    assert.deepEqual(stored.spec, {
      ...defaultedPodSpec,
      enableServiceLinks: true,
      containers: [defaultedContainer('nginx', 'nginx', 'Always')],
    });
    assert.deepEqual(stored.status, { phase: 'Pending', qosClass: 'BestEffort' });
    assert.deepEqual(validate('/Pod', stored), []);
  });

  it('kubectl create service clusterip web --tcp=80:8080', () => {
    const stored = create('/Service', kubectlCreateService);
    assert.deepEqual(stored.spec, {
      ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }],
      selector: { app: 'web' },
      type: 'ClusterIP',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
    });
    assert.deepEqual(validate('/Service', stored), []);
  });

  it('a NodePort Service gets externalTrafficPolicy and a targetPort equal to its port', () => {
    const stored = create('/Service', {
      metadata: { name: 'np', namespace: 'default' },
      spec: { type: 'NodePort', ports: [{ port: 443 }] },
    });
    assert.deepEqual((stored.spec as { ports: unknown }).ports, [{ port: 443, protocol: 'TCP', targetPort: 443 }]);
    assert.equal((stored.spec as { externalTrafficPolicy?: string }).externalTrafficPolicy, 'Cluster');
  });

  it('kubectl create job pi --image=perl:5.34 (selector and labels generated from the uid)', () => {
    const stored = create('batch/Job', kubectlCreateJob, 'b6ad3c1e-0000-4000-8000-000000000001');
    const uid = 'b6ad3c1e-0000-4000-8000-000000000001';
    const labels = {
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': 'pi',
      'controller-uid': uid,
      'job-name': 'pi',
    };
    assert.deepEqual(stored.metadata.labels, labels);
    assert.deepEqual(stored.spec, {
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      completions: 1,
      parallelism: 1,
      podReplacementPolicy: 'TerminatingOrFailed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
      suspend: false,
      template: {
        metadata: { creationTimestamp: null, labels },
        spec: {
          ...defaultedPodSpec,
          restartPolicy: 'Never',
          containers: [defaultedContainer('pi', 'perl:5.34', 'IfNotPresent')],
        },
      },
    });
    assert.deepEqual(validate('batch/Job', stored), []);
  });

  it('Job parallelism defaults alone when completions is set, and both stay unset when parallelism is', () => {
    const withCompletions = create('batch/Job', { ...kubectlCreateJob, spec: { ...kubectlCreateJob.spec, completions: 5 } });
    assert.equal((withCompletions.spec as { parallelism: number }).parallelism, 1);
    assert.equal((withCompletions.spec as { completions: number }).completions, 5);
    const withParallelism = create('batch/Job', { ...kubectlCreateJob, spec: { ...kubectlCreateJob.spec, parallelism: 3 } });
    assert.equal((withParallelism.spec as { completions?: number }).completions, undefined);
  });

  it('CronJob defaults its own fields and the pod template, not the job spec', () => {
    const stored = create('batch/CronJob', {
      metadata: { name: 'tick', namespace: 'default' },
      spec: {
        schedule: '*/5 * * * *',
        jobTemplate: {
          spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:1.36' }], restartPolicy: 'OnFailure' } } },
        },
      },
    });
    const spec = stored.spec as Record<string, any>;
    assert.equal(spec.concurrencyPolicy, 'Allow');
    assert.equal(spec.suspend, false);
    assert.equal(spec.successfulJobsHistoryLimit, 3);
    assert.equal(spec.failedJobsHistoryLimit, 1);
    assert.equal(spec.jobTemplate.spec.backoffLimit, undefined);
    assert.equal(spec.jobTemplate.spec.template.spec.schedulerName, 'default-scheduler');
    assert.deepEqual(validate('batch/CronJob', stored), []);
  });

  it('StatefulSet, DaemonSet and ReplicaSet defaults', () => {
    const template = { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres:16' }] } };
    const sts = create('apps/StatefulSet', {
      metadata: { name: 'db', namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: 'db' } },
        serviceName: 'db',
        template,
        volumeClaimTemplates: [
          { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
        ],
      },
    });
    const spec = sts.spec as Record<string, any>;
    assert.equal(spec.replicas, 1);
    assert.equal(spec.podManagementPolicy, 'OrderedReady');
    assert.deepEqual(spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    assert.deepEqual(spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
    assert.equal(spec.revisionHistoryLimit, 10);
    assert.equal(spec.volumeClaimTemplates[0].spec.volumeMode, 'Filesystem');
    assert.deepEqual(spec.volumeClaimTemplates[0].status, { phase: 'Pending' });
    assert.deepEqual(validate('apps/StatefulSet', sts), []);

    const ds = create('apps/DaemonSet', {
      metadata: { name: 'agent', namespace: 'kube-system' },
      spec: { selector: { matchLabels: { app: 'db' } }, template },
    });
    assert.deepEqual((ds.spec as Record<string, unknown>).updateStrategy, {
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
    });
    assert.equal((ds.spec as Record<string, unknown>).revisionHistoryLimit, 10);
    assert.deepEqual(validate('apps/DaemonSet', ds), []);

    const rs = create('apps/ReplicaSet', {
      metadata: { name: 'rs', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'db' } }, template },
    });
    assert.equal((rs.spec as Record<string, unknown>).replicas, 1);
    assert.deepEqual(validate('apps/ReplicaSet', rs), []);
  });

  it('Pod-only defaults: requests from limits, host ports, QoS class', () => {
    const pod = create('/Pod', {
      metadata: { name: 'p', namespace: 'default' },
      spec: {
        hostNetwork: true,
        containers: [
          {
            name: 'c',
            image: 'app:1',
            ports: [{ containerPort: 8080 }],
            resources: { limits: { cpu: '500m', memory: '128Mi' } },
          },
        ],
      },
    });
    const container = (pod.spec as Record<string, any>).containers[0];
    assert.deepEqual(container.resources, {
      limits: { cpu: '500m', memory: '128Mi' },
      requests: { cpu: '500m', memory: '128Mi' },
    });
    assert.deepEqual(container.ports, [{ containerPort: 8080, hostPort: 8080, protocol: 'TCP' }]);
    assert.equal((pod.status as Record<string, unknown>).qosClass, 'Guaranteed');

    // Templates do not get Pod-only defaults.
    const deployment = create('apps/Deployment', {
      metadata: { name: 'd', namespace: 'default' },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: {
          metadata: { labels: { a: 'b' } },
          spec: { containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: '1' } } }] },
        },
      },
    });
    const templateSpec = (deployment.spec as Record<string, any>).template.spec;
    assert.equal(templateSpec.enableServiceLinks, undefined);
    assert.deepEqual(templateSpec.containers[0].resources, { limits: { cpu: '1' } });
  });

  it('probe, volume and env defaults', () => {
    const pod = create('/Pod', {
      metadata: { name: 'p', namespace: 'default' },
      spec: {
        containers: [
          {
            name: 'c',
            image: 'registry.local:5000/app@sha256:abc',
            livenessProbe: { httpGet: { port: 8080 } },
            readinessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 5 },
            env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
            volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg' }],
          },
        ],
        volumes: [
          { name: 'cfg', configMap: { name: 'cfg' } },
          { name: 'creds', secret: { secretName: 's' } },
          { name: 'scratch' },
          { name: 'host', hostPath: { path: '/var' } },
        ],
      },
    });
    const spec = pod.spec as Record<string, any>;
    const container = spec.containers[0];
    assert.equal(container.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(container.livenessProbe, {
      httpGet: { port: 8080, path: '/', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    assert.equal(container.readinessProbe.periodSeconds, 5);
    assert.deepEqual(container.env[0].valueFrom.fieldRef, { apiVersion: 'v1', fieldPath: 'spec.nodeName' });
    assert.deepEqual(spec.volumes, [
      { name: 'cfg', configMap: { name: 'cfg', defaultMode: 420 } },
      { name: 'creds', secret: { secretName: 's', defaultMode: 420 } },
      { name: 'scratch', emptyDir: {} },
      { name: 'host', hostPath: { path: '/var', type: '' } },
    ]);
    assert.deepEqual(validate('/Pod', pod), []);
  });

  it('other kinds', () => {
    const ns = create('/Namespace', { metadata: { name: 'team-a' } });
    assert.deepEqual(ns.metadata.labels, { 'kubernetes.io/metadata.name': 'team-a' });
    assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
    assert.deepEqual(ns.status, { phase: 'Active' });

    const secret = create('/Secret', { metadata: { name: 's', namespace: 'default' }, stringData: { password: 'hunter2' } });
    assert.equal((secret as Record<string, unknown>).type, 'Opaque');
    assert.deepEqual((secret as Record<string, unknown>).data, { password: Buffer.from('hunter2').toString('base64') });
    assert.equal((secret as Record<string, unknown>).stringData, undefined);

    const pvc = create('/PersistentVolumeClaim', {
      metadata: { name: 'data', namespace: 'default' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    assert.equal((pvc.spec as Record<string, unknown>).volumeMode, 'Filesystem');
    assert.deepEqual(pvc.status, { phase: 'Pending' });

    const pv = create('/PersistentVolume', {
      metadata: { name: 'pv1' },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' } },
    });
    assert.equal((pv.spec as Record<string, unknown>).persistentVolumeReclaimPolicy, 'Retain');
    assert.equal((pv.spec as Record<string, unknown>).volumeMode, 'Filesystem');

    const sc = create('storage.k8s.io/StorageClass', { metadata: { name: 'standard' }, provisioner: 'rancher.io/local-path' });
    assert.equal((sc as Record<string, unknown>).reclaimPolicy, 'Delete');
    assert.equal((sc as Record<string, unknown>).volumeBindingMode, 'Immediate');

    const np = create('networking.k8s.io/NetworkPolicy', {
      metadata: { name: 'n', namespace: 'default' },
      spec: { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] },
    });
    assert.deepEqual((np.spec as Record<string, any>).policyTypes, ['Ingress', 'Egress']);
    assert.equal((np.spec as Record<string, any>).egress[0].ports[0].protocol, 'TCP');

    const hpa = create('autoscaling/HorizontalPodAutoscaler', {
      metadata: { name: 'h', namespace: 'default' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        maxReplicas: 5,
        behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
      },
    });
    const hpaSpec = hpa.spec as Record<string, any>;
    assert.equal(hpaSpec.minReplicas, 1);
    assert.deepEqual(hpaSpec.metrics, [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
    ]);
    assert.deepEqual(hpaSpec.behavior.scaleDown, {
      stabilizationWindowSeconds: 60,
      selectPolicy: 'Max',
      policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    });
    assert.equal(hpaSpec.behavior.scaleUp.stabilizationWindowSeconds, 0);

    const binding = create('rbac.authorization.k8s.io/RoleBinding', {
      metadata: { name: 'b', namespace: 'default' },
      roleRef: { kind: 'ClusterRole', name: 'view' },
      subjects: [
        { kind: 'User', name: 'alice' },
        { kind: 'ServiceAccount', name: 'default', namespace: 'default' },
      ],
    });
    assert.deepEqual((binding as Record<string, any>).roleRef, {
      kind: 'ClusterRole',
      name: 'view',
      apiGroup: 'rbac.authorization.k8s.io',
    });
    assert.equal((binding as Record<string, any>).subjects[0].apiGroup, 'rbac.authorization.k8s.io');
    assert.equal((binding as Record<string, any>).subjects[1].apiGroup, '');

    const slice = create('discovery.k8s.io/EndpointSlice', {
      metadata: { name: 'e', namespace: 'default' },
      addressType: 'IPv4',
      endpoints: [],
      ports: [{ port: 80 }],
    });
    assert.deepEqual((slice as Record<string, any>).ports, [{ port: 80, name: '', protocol: 'TCP' }]);
  });

  it('resolves image tags like the kubelet parser', () => {
    assert.equal(imageTag('nginx'), 'latest');
    assert.equal(imageTag('nginx:1.27'), '1.27');
    assert.equal(imageTag('localhost:5000/nginx'), 'latest');
    assert.equal(imageTag('nginx@sha256:abcd'), '');
    assert.equal(imageTag('nginx:latest'), 'latest');
  });

  it('classifies QoS', () => {
    assert.equal(podQOSClass({ containers: [{ resources: { requests: { cpu: '100m' } } }] }), 'Burstable');
    assert.equal(
      podQOSClass({
        containers: [{ resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1000m', memory: '1024Mi' } } }],
      }),
      'Guaranteed',
    );
    assert.equal(
      podQOSClass({ containers: [{ resources: { limits: { cpu: '1', memory: '1Gi' } } }, { resources: {} }] }),
      'Burstable',
    );
    assert.equal(podQOSClass({ containers: [{ resources: { requests: { 'example.com/gpu': '1' } } }] }), 'BestEffort');
  });
});

function deployment(labels: Record<string, string> = { app: 'web' }, selector: Record<string, string> = { app: 'web' }) {
  return create('apps/Deployment', {
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      selector: { matchLabels: selector },
      template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
    },
  });
}

describe('validation errors for typical mistakes', () => {
  it('a selector that does not match the template labels', () => {
    assert.deepEqual(validate('apps/Deployment', deployment({ app: 'other', tier: 'x' })), [
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"other", "tier":"x"}: `selector` does not match template `labels`',
    ]);
  });

  it('missing selector and empty selector', () => {
    const noSelector = deployment();
    delete (noSelector.spec as Record<string, unknown>).selector;
    assert.deepEqual(validate('apps/Deployment', noSelector), ['spec.selector: Required value']);
    const empty = deployment();
    (empty.spec as Record<string, unknown>).selector = {};
    assert.deepEqual(validate('apps/Deployment', empty), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
    ]);
  });

  it('bad container names, duplicates, ports and images', () => {
    const d = deployment();
    const spec = (d.spec as Record<string, any>).template.spec;
    spec.containers.push({
      ...spec.containers[0],
      ports: [
        { containerPort: 70000, protocol: 'TCP' },
        { containerPort: 80, protocol: 'TCP', name: 'HTTP' },
      ],
    });
    spec.containers.push({ ...spec.containers[0], name: 'Bad_Name', image: '' });
    assert.deepEqual(validate('apps/Deployment', d), [
      'spec.template.spec.containers[1].name: Duplicate value: "web"',
      'spec.template.spec.containers[1].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.template.spec.containers[1].ports[1].name: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      'spec.template.spec.containers[1].ports[1].name: Invalid value: "HTTP": must contain at least one letter (a-z)',
      `spec.template.spec.containers[2].name: Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      'spec.template.spec.containers[2].image: Required value',
    ]);
  });

  it('replicas, strategy and restart policy', () => {
    const d = deployment();
    const spec = d.spec as Record<string, any>;
    spec.replicas = -1;
    spec.strategy = { type: 'BlueGreen' };
    spec.template.spec.restartPolicy = 'Never';
    assert.deepEqual(validate('apps/Deployment', d), [
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
      'spec.strategy.type: Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate"',
    ]);
    const zero = deployment();
    (zero.spec as Record<string, any>).strategy.rollingUpdate = { maxSurge: 0, maxUnavailable: '0%' };
    assert.deepEqual(validate('apps/Deployment', zero), [
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0',
    ]);
  });

  it('volume mounts must name a volume; volumes need exactly one source', () => {
    const pod = create('/Pod', {
      metadata: { name: 'p', namespace: 'default' },
      spec: {
        containers: [{ name: 'c', image: 'x', volumeMounts: [{ name: 'missing', mountPath: '/a' }] }],
        volumes: [{ name: 'two', emptyDir: {}, hostPath: { path: '/x' } }],
      },
    });
    assert.deepEqual(validate('/Pod', pod), [
      'spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type',
      'spec.containers[0].volumeMounts[0].name: Not found: "missing"',
    ]);
  });

  it('Service mistakes', () => {
    const svc = create('/Service', {
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        clusterIP: '10.0.0.300',
        ports: [
          { port: 80, nodePort: 30080 },
          { port: 0, name: 'b' },
        ],
      },
    });
    assert.deepEqual(validate('/Service', svc), [
      'spec.ports[0].name: Required value',
      "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
      'spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive',
      'spec.ports[1].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
      'spec.clusterIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
    const badType = create('/Service', {
      metadata: { name: 'x', namespace: 'default' },
      spec: { type: 'Magic', ports: [{ port: 80 }, { port: 80 }] },
    });
    assert.deepEqual(validate('/Service', badType), [
      'spec.ports[0].name: Required value',
      'spec.ports[1].name: Required value',
      'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
      'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    ]);
  });

  it('Secret and ConfigMap data', () => {
    const secret = create('/Secret', {
      metadata: { name: 's', namespace: 'default' },
      data: { 'bad key': 'aGk=', token: 'not base64!' },
    });
    assert.deepEqual(validate('/Secret', secret), [
      `data[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
      'data[token]: Invalid value: "<secret contents redacted>": illegal base64 data at input byte 3',
    ]);
    const tls = create('/Secret', {
      metadata: { name: 't', namespace: 'default' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': '' },
    });
    assert.deepEqual(validate('/Secret', tls), ['data[tls.key]: Required value']);
    const big = create('/Secret', {
      metadata: { name: 'b', namespace: 'default' },
      data: { blob: Buffer.alloc(1024 * 1024 + 1).toString('base64') },
    });
    assert.deepEqual(validate('/Secret', big), ['data: Too long: may not be more than 1048576 bytes']);

    const cm = create('/ConfigMap', {
      metadata: { name: 'c', namespace: 'default' },
      data: { a: '1', '..b': '2' },
      binaryData: { a: 'AA==' },
    });
    assert.deepEqual(validate('/ConfigMap', cm), [
      'data[a]: Invalid value: "a": duplicate of key present in binaryData',
      `data[..b]: Invalid value: "..b": must not start with '..'`,
    ]);
  });

  it('CronJob schedules and name length', () => {
    assert.equal(cronScheduleError('*/5 * * * *'), undefined);
    assert.equal(cronScheduleError('@hourly'), undefined);
    assert.equal(cronScheduleError('0 9 * * mon-fri'), undefined);
    assert.equal(cronScheduleError('hello'), 'expected exactly 5 fields, found 1: [hello]');
    assert.equal(cronScheduleError('61 * * * *'), 'end of range (61) above maximum (59): 61');
    assert.equal(cronScheduleError('* * 0 * *'), 'beginning of range (0) below minimum (1): 0');
    assert.equal(cronScheduleError('a * * * *'), 'failed to parse int from a: strconv.Atoi: parsing "a": invalid syntax');
    assert.equal(cronScheduleError('@fortnightly'), 'unrecognized descriptor: @fortnightly');
    const cron = create('batch/CronJob', {
      metadata: { name: 'x'.repeat(53), namespace: 'default' },
      spec: {
        schedule: 'TZ=UTC 0 * * * *',
        jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }], restartPolicy: 'Always' } } } },
      },
    });
    assert.deepEqual(validate('batch/CronJob', cron), [
      `metadata.name: Invalid value: "${'x'.repeat(53)}": must be no more than 52 characters`,
      'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
      'spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    ]);
  });

  it('Job restart policy and manual selectors', () => {
    const job = create('batch/Job', {
      ...kubectlCreateJob,
      spec: { ...kubectlCreateJob.spec, manualSelector: true, selector: { matchLabels: { app: 'pi' } } },
    });
    assert.deepEqual(validate('batch/Job', job), [
      'spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template `labels`',
    ]);
    const tampered = create('batch/Job', {
      ...kubectlCreateJob,
      spec: {
        ...kubectlCreateJob.spec,
        template: { ...kubectlCreateJob.spec.template, metadata: { labels: { 'controller-uid': 'forged' } } },
      },
    });
    assert.deepEqual(validate('batch/Job', tampered), [
      `spec.template.metadata.labels[controller-uid]: Invalid value: map[string]string{"batch.kubernetes.io/controller-uid":"uid-1", "batch.kubernetes.io/job-name":"pi", "controller-uid":"forged", "job-name":"pi"}: must be 'uid-1'`,
    ]);
  });

  it('RBAC rules and bindings', () => {
    const role = create('rbac.authorization.k8s.io/Role', {
      metadata: { name: 'r', namespace: 'default' },
      rules: [
        { apiGroups: [''], resources: ['pods'] },
        { verbs: ['get'], nonResourceURLs: ['/healthz'] },
      ],
    });
    assert.deepEqual(validate('rbac.authorization.k8s.io/Role', role), [
      'rules[0].verbs: Required value: verbs must contain at least one value',
      'rules[1].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs',
    ]);
    const crb = create('rbac.authorization.k8s.io/ClusterRoleBinding', {
      metadata: { name: 'b' },
      roleRef: { kind: 'Role', name: 'x' },
      subjects: [{ kind: 'ServiceAccount', name: 'sa' }],
    });
    assert.deepEqual(validate('rbac.authorization.k8s.io/ClusterRoleBinding', crb), [
      'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
      'subjects[0].namespace: Required value',
    ]);
  });

  it('Namespace finalizers must be standard or qualified', () => {
    const ns = create('/Namespace', { metadata: { name: 'n', finalizers: ['cleanup'] }, spec: { finalizers: ['mine'] } });
    assert.deepEqual(validate('/Namespace', ns), [
      'metadata.finalizers[0]: Invalid value: "cleanup": name is neither a standard finalizer name nor is it fully qualified',
      'spec.finalizers[0]: Invalid value: "mine": name is neither a standard finalizer name nor is it fully qualified',
    ]);
  });

  it('PodDisruptionBudget, HPA, Ingress, Lease, PVC', () => {
    const pdb = create('policy/PodDisruptionBudget', {
      metadata: { name: 'p', namespace: 'default' },
      spec: { minAvailable: 1, maxUnavailable: '150%' },
    });
    const pdbErrors = validate('policy/PodDisruptionBudget', pdb);
    assert.equal(pdbErrors.length, 2);
    assert.match(pdbErrors[0], /^spec: Invalid value: .*: minAvailable and maxUnavailable cannot be both set$/);
    assert.equal(pdbErrors[1], 'spec.maxUnavailable: Invalid value: "150%": must not be greater than 100%');

    const hpa = create('autoscaling/HorizontalPodAutoscaler', {
      metadata: { name: 'h', namespace: 'default' },
      spec: { scaleTargetRef: { kind: 'Deployment' }, minReplicas: 3, maxReplicas: 2 },
    });
    assert.deepEqual(validate('autoscaling/HorizontalPodAutoscaler', hpa), [
      'spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`',
      'spec.scaleTargetRef.name: Required value',
    ]);

    const ingress = create('networking.k8s.io/Ingress', {
      metadata: { name: 'i', namespace: 'default' },
      spec: {
        rules: [
          {
            host: '10.0.0.1',
            http: {
              paths: [
                { path: 'api', backend: { service: { name: 'web', port: { number: 80 } } } },
                { path: 'api', pathType: 'Prefix', backend: { service: { name: 'web' } } },
              ],
            },
          },
        ],
      },
    });
    assert.deepEqual(validate('networking.k8s.io/Ingress', ingress), [
      'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
      'spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
      'spec.rules[0].http.paths[1].path: Invalid value: "api": must be an absolute path',
      'spec.rules[0].http.paths[1].backend: Required value: port name or number is required',
    ]);

    const lease = create('coordination.k8s.io/Lease', {
      metadata: { name: 'l', namespace: 'default' },
      spec: { leaseDurationSeconds: 0 },
    });
    assert.deepEqual(validate('coordination.k8s.io/Lease', lease), [
      'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
    ]);

    const pvc = create('/PersistentVolumeClaim', {
      metadata: { name: 'c', namespace: 'default' },
      spec: { resources: { requests: { storage: '0' } } },
    });
    assert.deepEqual(validate('/PersistentVolumeClaim', pvc), [
      'spec.accessModes: Required value: at least 1 access mode is required',
      'spec.resources[storage]: Invalid value: "0": must be greater than zero',
    ]);
  });
});

describe('immutability on update', () => {
  it('apps selectors are immutable', () => {
    const stored = deployment();
    assert.deepEqual(
      update('apps/Deployment', stored, (d) => {
        const spec = d.spec as Record<string, any>;
        spec.selector = { matchLabels: { app: 'web2' } };
        spec.template.metadata.labels = { app: 'web2' };
      }),
      [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
      ],
    );
    assert.deepEqual(
      update('apps/Deployment', stored, (d) => {
        (d.spec as Record<string, any>).template.spec.containers[0].image = 'nginx:1.28';
        (d.spec as Record<string, any>).replicas = 3;
      }),
      [],
    );
    assert.deepEqual(
      update('apps/Deployment', stored, (d) => ((d.spec as Record<string, any>).replicas = -2), 'scale'),
      ['spec.replicas: Invalid value: -2: must be greater than or equal to 0'],
    );
  });

  it('pod spec is immutable except images, deadlines, tolerations and grace periods', () => {
    const stored = create('/Pod', {
      ...kubectlRun,
      spec: {
        ...kubectlRun.spec,
        tolerations: [{ key: 'a', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 }],
        activeDeadlineSeconds: 100,
      },
    });
    assert.deepEqual(
      update('/Pod', stored, (p) => {
        const spec = p.spec as Record<string, any>;
        spec.containers[0].image = 'nginx:1.28';
        spec.activeDeadlineSeconds = 50;
        spec.tolerations[0].tolerationSeconds = 20;
        spec.tolerations.push({ key: 'b', operator: 'Exists' });
      }),
      [],
    );
    const changedPort = update(
      '/Pod',
      stored,
      (p) => ((p.spec as Record<string, any>).containers[0].ports = [{ containerPort: 3000 }]),
    );
    assert.equal(changedPort.length, 1);
    assert.ok(
      changedPort[0].startsWith(
        'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n',
      ),
      changedPort[0],
    );
    assert.match(changedPort[0], /spec\.containers\[0\]\.ports: null -> \[\{"containerPort":3000,"protocol":"TCP"\}\]/);
    assert.deepEqual(
      update('/Pod', stored, (p) => ((p.spec as Record<string, any>).tolerations = [])),
      ['spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds'],
    );
    assert.deepEqual(
      update('/Pod', stored, (p) => ((p.spec as Record<string, any>).activeDeadlineSeconds = 200)),
      ['spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value'],
    );
    assert.deepEqual(
      update('/Pod', stored, (p) => (p.spec as Record<string, any>).containers.push({ name: 'b', image: 'b' })),
      ['spec.containers: Forbidden: pod updates may not add or remove containers'],
    );
    // Status writes do not re-validate the spec.
    assert.deepEqual(
      update('/Pod', stored, (p) => ((p.status as Record<string, any>).phase = 'Running'), 'status'),
      [],
    );
  });

  it('Service clusterIP may not change once set', () => {
    const stored = create('/Service', kubectlCreateService);
    (stored.spec as Record<string, any>).clusterIP = '10.43.0.20';
    (stored.spec as Record<string, any>).clusterIPs = ['10.43.0.20'];
    assert.deepEqual(
      update('/Service', stored, (s) => ((s.spec as Record<string, any>).ports[0].port = 81)),
      [],
    );
    assert.deepEqual(
      update('/Service', stored, (s) => {
        (s.spec as Record<string, any>).clusterIP = '10.43.0.21';
        (s.spec as Record<string, any>).clusterIPs = ['10.43.0.21'];
      }),
      ['spec.clusterIPs[0]: Invalid value: ["10.43.0.21"]: may not change once set'],
    );
  });

  it('Job templates and selectors are immutable; suspended jobs may change scheduling', () => {
    const stored = create('batch/Job', kubectlCreateJob);
    const changed = update(
      'batch/Job',
      stored,
      (j) => ((j.spec as Record<string, any>).template.spec.containers[0].image = 'perl:5.36'),
    );
    assert.equal(changed.length, 1);
    assert.match(changed[0], /^spec\.template: Invalid value: .*: field is immutable$/);
    assert.deepEqual(
      update('batch/Job', stored, (j) => ((j.spec as Record<string, any>).completions = 2)),
      ['spec.completions: Invalid value: 2: field is immutable'],
    );
    assert.deepEqual(
      update('batch/Job', stored, (j) => ((j.spec as Record<string, any>).suspend = true)),
      [],
    );

    const suspended = create('batch/Job', { ...kubectlCreateJob, spec: { ...kubectlCreateJob.spec, suspend: true } });
    assert.deepEqual(
      update('batch/Job', suspended, (j) => ((j.spec as Record<string, any>).template.spec.nodeSelector = { zone: 'a' })),
      [],
    );
  });

  it('Secrets and ConfigMaps marked immutable', () => {
    const secret = create('/Secret', { metadata: { name: 's', namespace: 'default' }, immutable: true, data: { a: 'YQ==' } });
    assert.deepEqual(
      update('/Secret', secret, (s) => {
        (s as Record<string, any>).data = { a: 'Yg==' };
        (s as Record<string, any>).type = 'kubernetes.io/basic-auth';
      }),
      [
        'type: Invalid value: "kubernetes.io/basic-auth": field is immutable',
        'data: Forbidden: field is immutable when `immutable` is set',
        'data[username]: Required value',
        'data[password]: Required value',
      ],
    );
    const cm = create('/ConfigMap', { metadata: { name: 'c', namespace: 'default' }, immutable: true, data: { a: '1' } });
    assert.deepEqual(
      update('/ConfigMap', cm, (c) => ((c as Record<string, any>).immutable = false)),
      ['immutable: Forbidden: field is immutable when `immutable` is set'],
    );
    assert.deepEqual(
      update('/ConfigMap', cm, (c) => (c.metadata.labels = { x: 'y' })),
      [],
    );
  });

  it('StatefulSet spec outside the updatable fields', () => {
    const stored = create('apps/StatefulSet', {
      metadata: { name: 'db', namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: 'db' } },
        serviceName: 'db',
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'pg' }] } },
      },
    });
    assert.deepEqual(
      update('apps/StatefulSet', stored, (s) => ((s.spec as Record<string, any>).replicas = 3)),
      [],
    );
    assert.deepEqual(
      update('apps/StatefulSet', stored, (s) => ((s.spec as Record<string, any>).serviceName = 'db2')),
      [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ],
    );
  });

  it('PVC spec is immutable except a bound claim growing', () => {
    const stored = create('/PersistentVolumeClaim', {
      metadata: { name: 'c', namespace: 'default' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    const grow = (p: KubeObject) => ((p.spec as Record<string, any>).resources.requests.storage = '2Gi');
    const unbound = update('/PersistentVolumeClaim', stored, grow);
    assert.equal(unbound.length, 1);
    assert.ok(
      unbound[0].startsWith(
        'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
      ),
    );
    const bound = structuredClone(stored);
    bound.status = { phase: 'Bound', capacity: { storage: '1Gi' } };
    assert.deepEqual(update('/PersistentVolumeClaim', bound, grow), []);
    assert.deepEqual(
      update('/PersistentVolumeClaim', bound, (p) => ((p.spec as Record<string, any>).resources.requests.storage = '512Mi')),
      ['spec.resources.requests.storage: Forbidden: field can not be less than status.capacity'],
    );
    // The binder may set volumeName once.
    assert.deepEqual(
      update('/PersistentVolumeClaim', stored, (p) => ((p.spec as Record<string, any>).volumeName = 'pv-1')),
      [],
    );
  });

  it('StorageClass, bindings, ControllerRevision, EndpointSlice', () => {
    const sc = create('storage.k8s.io/StorageClass', {
      metadata: { name: 's' },
      provisioner: 'a.io/x',
      parameters: { type: 'ssd' },
    });
    assert.deepEqual(
      update('storage.k8s.io/StorageClass', sc, (s) => {
        (s as Record<string, any>).provisioner = 'b.io/y';
        (s as Record<string, any>).parameters = { type: 'hdd' };
      }),
      [
        'parameters: Forbidden: updates to parameters are forbidden.',
        'provisioner: Forbidden: updates to provisioner are forbidden.',
      ],
    );
    const rb = create('rbac.authorization.k8s.io/RoleBinding', {
      metadata: { name: 'b', namespace: 'default' },
      roleRef: { kind: 'ClusterRole', name: 'view' },
      subjects: [],
    });
    assert.deepEqual(
      update('rbac.authorization.k8s.io/RoleBinding', rb, (b) => ((b as Record<string, any>).roleRef.name = 'edit')),
      [
        'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"edit"}: cannot change roleRef',
      ],
    );
    const cr = create('apps/ControllerRevision', {
      metadata: { name: 'r', namespace: 'default' },
      data: { spec: {} },
      revision: 1,
    });
    assert.deepEqual(
      update('apps/ControllerRevision', cr, (r) => ((r as Record<string, any>).data = { spec: { x: 1 } })),
      ['data: Invalid value: {"spec":{"x":1}}: field is immutable'],
    );
    const slice = create('discovery.k8s.io/EndpointSlice', {
      metadata: { name: 'e', namespace: 'default' },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.1'] }],
    });
    assert.deepEqual(
      update('discovery.k8s.io/EndpointSlice', slice, (s) => ((s as Record<string, any>).addressType = 'IPv6')),
      [
        'endpoints[0].addresses[0]: Invalid value: "10.0.0.1": must be a valid IPv6 address',
        'addressType: Invalid value: "IPv6": field is immutable',
      ],
    );
  });
});

/** One minimal valid object per kind: after defaults it must validate cleanly, and defaults must be idempotent. */
const minimalObjects: Record<string, Record<string, unknown>> = {
  '/Pod': { metadata: { name: 'p', namespace: 'd' }, spec: { containers: [{ name: 'c', image: 'i' }] } },
  '/PodTemplate': { metadata: { name: 'p', namespace: 'd' }, template: { spec: { containers: [{ name: 'c', image: 'i' }] } } },
  '/ReplicationController': {
    metadata: { name: 'r', namespace: 'd' },
    spec: { template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
  },
  '/Service': { metadata: { name: 's', namespace: 'd' }, spec: { ports: [{ port: 80 }] } },
  '/Secret': { metadata: { name: 's', namespace: 'd' }, stringData: { a: 'b' } },
  '/ConfigMap': { metadata: { name: 'c', namespace: 'd' }, data: { a: 'b' } },
  '/Namespace': { metadata: { name: 'n' } },
  '/ServiceAccount': { metadata: { name: 's', namespace: 'd' } },
  '/Node': {
    metadata: { name: 'n' },
    spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] },
    status: { capacity: { cpu: '4' } },
  },
  '/PersistentVolume': {
    metadata: { name: 'p' },
    spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/x' } },
  },
  '/PersistentVolumeClaim': {
    metadata: { name: 'p', namespace: 'd' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  },
  '/ResourceQuota': { metadata: { name: 'q', namespace: 'd' }, spec: { hard: { pods: '10', 'requests.cpu': '4' } } },
  '/LimitRange': {
    metadata: { name: 'l', namespace: 'd' },
    spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { cpu: '100m' } }] },
  },
  '/Endpoints': {
    metadata: { name: 'e', namespace: 'd' },
    subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }],
  },
  '/Event': {
    metadata: { name: 'e', namespace: 'd' },
    involvedObject: { kind: 'Pod', name: 'p', namespace: 'd' },
    type: 'Normal',
  },
  'apps/Deployment': {
    metadata: { name: 'd', namespace: 'd' },
    spec: {
      selector: { matchLabels: { a: 'b' } },
      template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
    },
  },
  'apps/ReplicaSet': {
    metadata: { name: 'r', namespace: 'd' },
    spec: {
      selector: { matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] },
      template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
    },
  },
  'apps/StatefulSet': {
    metadata: { name: 's', namespace: 'd' },
    spec: {
      selector: { matchLabels: { a: 'b' } },
      template: {
        metadata: { labels: { a: 'b' } },
        spec: { containers: [{ name: 'c', image: 'i', volumeMounts: [{ name: 'data', mountPath: '/d' }] }] },
      },
      volumeClaimTemplates: [
        { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
      ],
    },
  },
  'apps/DaemonSet': {
    metadata: { name: 'd', namespace: 'd' },
    spec: {
      selector: { matchLabels: { a: 'b' } },
      template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
    },
  },
  'apps/ControllerRevision': { metadata: { name: 'c', namespace: 'd' }, data: {}, revision: 1 },
  'batch/Job': {
    metadata: { name: 'j', namespace: 'd' },
    spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }], restartPolicy: 'Never' } } },
  },
  'batch/CronJob': {
    metadata: { name: 'c', namespace: 'd' },
    spec: {
      schedule: '@daily',
      timeZone: 'Europe/Paris',
      jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }], restartPolicy: 'OnFailure' } } } },
    },
  },
  'networking.k8s.io/Ingress': {
    metadata: { name: 'i', namespace: 'd' },
    spec: {
      ingressClassName: 'nginx',
      rules: [
        {
          host: '*.example.com',
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'http' } } } }] },
        },
      ],
    },
  },
  'networking.k8s.io/IngressClass': {
    metadata: { name: 'nginx' },
    spec: { controller: 'k8s.io/ingress-nginx', parameters: { kind: 'Config', name: 'c' } },
  },
  'networking.k8s.io/NetworkPolicy': {
    metadata: { name: 'n', namespace: 'd' },
    spec: {
      podSelector: { matchLabels: { a: 'b' } },
      ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ port: 80, endPort: 90 }] }],
    },
  },
  'storage.k8s.io/StorageClass': { metadata: { name: 's' }, provisioner: 'kubernetes.io/no-provisioner' },
  'coordination.k8s.io/Lease': {
    metadata: { name: 'l', namespace: 'd' },
    spec: { holderIdentity: 'me', leaseDurationSeconds: 15 },
  },
  'rbac.authorization.k8s.io/Role': {
    metadata: { name: 'r', namespace: 'd' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
  },
  'rbac.authorization.k8s.io/ClusterRole': {
    metadata: { name: 'system:r' },
    rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }],
  },
  'rbac.authorization.k8s.io/RoleBinding': {
    metadata: { name: 'b', namespace: 'd' },
    roleRef: { kind: 'Role', name: 'r' },
    subjects: [{ kind: 'Group', name: 'g' }],
  },
  'rbac.authorization.k8s.io/ClusterRoleBinding': {
    metadata: { name: 'b' },
    roleRef: { kind: 'ClusterRole', name: 'r' },
    subjects: [{ kind: 'ServiceAccount', name: 's', namespace: 'd' }],
  },
  'autoscaling/HorizontalPodAutoscaler': {
    metadata: { name: 'h', namespace: 'd' },
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'd' }, maxReplicas: 3 },
  },
  'autoscaling/v1/HorizontalPodAutoscaler': {
    metadata: { name: 'h', namespace: 'd' },
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'd' }, maxReplicas: 3, targetCPUUtilizationPercentage: 60 },
  },
  'policy/PodDisruptionBudget': {
    metadata: { name: 'p', namespace: 'd' },
    spec: { minAvailable: '50%', selector: { matchLabels: { a: 'b' } } },
  },
  'discovery.k8s.io/EndpointSlice': {
    metadata: { name: 'e', namespace: 'd' },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.0.0.1'] }],
    ports: [{ port: 80, name: 'http' }],
  },
};

describe('every kind', () => {
  it('has semantics for each kind listed', () => {
    assert.deepEqual(Object.keys(builtinSemantics).sort(), Object.keys(minimalObjects).sort());
    for (const semantics of Object.values(builtinSemantics)) assert.ok(semantics.nameValidation);
    assert.equal(builtinSemantics['/Service'].nameValidation, 'dns1035-label');
    assert.equal(builtinSemantics['/Namespace'].nameValidation, 'label');
    assert.equal(builtinSemantics['rbac.authorization.k8s.io/Role'].nameValidation, 'path-segment');
  });

  for (const [kindKey, object] of Object.entries(minimalObjects)) {
    it(`${kindKey}: defaulted minimal object is valid, idempotent, and valid as an unchanged update`, () => {
      const stored = create(kindKey, object);
      assert.deepEqual(validate(kindKey, stored), []);
      const again = structuredClone(stored);
      semanticsOf(kindKey).defaults?.(again);
      assert.deepEqual(again, stored);
      assert.deepEqual(validate(kindKey, structuredClone(stored), { old: stored }), []);
    });
  }
});

/** JSON-ish garbage shaped loosely like Kubernetes objects, so the walk reaches deep code paths. */
function randomValue(random: () => number, depth: number): unknown {
  const keys = [
    'spec',
    'template',
    'metadata',
    'labels',
    'containers',
    'initContainers',
    'volumes',
    'ports',
    'name',
    'image',
    'selector',
    'matchLabels',
    'matchExpressions',
    'strategy',
    'rollingUpdate',
    'maxSurge',
    'replicas',
    'type',
    'data',
    'stringData',
    'binaryData',
    'rules',
    'http',
    'paths',
    'backend',
    'service',
    'port',
    'targetPort',
    'clusterIP',
    'clusterIPs',
    'subjects',
    'roleRef',
    'resources',
    'requests',
    'limits',
    'env',
    'valueFrom',
    'fieldRef',
    'livenessProbe',
    'httpGet',
    'jobTemplate',
    'schedule',
    'updateStrategy',
    'volumeClaimTemplates',
    'status',
    'phase',
    'finalizers',
    'tolerations',
    'behavior',
    'scaleUp',
    'metrics',
    'endpoints',
    'addresses',
    'subsets',
    'limits',
    'hard',
    'configMap',
    'secret',
    'emptyDir',
    'projected',
    'sources',
    'capacity',
    'accessModes',
    'parameters',
    'egress',
    'ingress',
    'from',
    'ipBlock',
    'completions',
    'uid',
  ];
  const leaves: unknown[] = [
    null,
    true,
    false,
    0,
    -1,
    1.5,
    70000,
    '',
    'a',
    'Always',
    'TCP',
    '25%',
    '1Gi',
    '-5',
    'x y',
    '..',
    '10.0.0.1',
    'None',
    '* * * * *',
    '@every 5m',
  ];
  if (depth > 4 || random() < 0.3) return leaves[Math.floor(random() * leaves.length)];
  if (random() < 0.3) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
  const out: Record<string, unknown> = {};
  for (let i = Math.floor(random() * 6); i > 0; i--)
    out[keys[Math.floor(random() * keys.length)]] = randomValue(random, depth + 1);
  return out;
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

describe('garbage input', () => {
  it('never throws, for every kind, in defaults, prepareForCreate and validate', () => {
    const random = seeded(7);
    for (const [kindKey, semantics] of Object.entries(builtinSemantics)) {
      for (let i = 0; i < 300; i++) {
        // Half of the inputs start from a valid object with random parts replaced, half are pure noise.
        const base = random() < 0.5 ? structuredClone(minimalObjects[kindKey]) : {};
        const object = { ...base, ...(randomValue(random, 0) as object) } as KubeObject;
        if (random() < 0.5 && base.spec !== undefined) (object as Record<string, unknown>).spec = randomValue(random, 1);
        const old = { ...structuredClone(minimalObjects[kindKey]), spec: randomValue(random, 1) } as unknown as KubeObject;
        try {
          semantics.defaults?.(object);
          semantics.defaults?.(object);
          semantics.prepareForCreate?.(object);
          for (const context of [{}, { old }, { old, subresource: 'status' as const }, { old, subresource: 'scale' as const }]) {
            const causes = semantics.validate?.(object, context) ?? [];
            assert.ok(Array.isArray(causes));
            for (const cause of causes) assert.equal(typeof cause.message, 'string');
          }
        } catch (err) {
          assert.fail(`${kindKey} threw on ${JSON.stringify(object)}: ${(err as Error).stack}`);
        }
      }
      for (const junk of [null, 5, 'x', [], [1]]) {
        semantics.defaults?.(junk as unknown as KubeObject);
        assert.deepEqual(semantics.validate?.(junk as unknown as KubeObject, {}) ?? [], []);
      }
    }
  });
});
