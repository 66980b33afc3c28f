/**
 * Acceptance: `kubectl create <generator>`. kubectl 1.32+ builds these objects with typed clients
 * that send `application/vnd.kubernetes.protobuf`; kubectl 1.27 sends JSON. Both run the same
 * generators against one server (a namespace and a name suffix each), and the objects they stored
 * must be the same. Raw requests check what kubectl does not send: protobuf DeleteOptions, and
 * the 400/415 answers to malformed or unknown protobuf bodies.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { makeKubectl, ok, removeDir, startServer, type RunningServer } from './support/server.js';

/** 1.27 sends JSON, 1.33 protobuf: the JSON-created objects are the reference. */
const VERSIONS = ['1.27', '1.33'] as const;

interface Generator {
  name: string;
  /** Resource to read back, and the object's name. */
  resource: string;
  object: string;
  clusterScoped?: boolean;
  args: string[];
}

/** `ns` and `sfx` are replaced per version. */
const GENERATORS: Generator[] = [
  {
    name: 'deployment',
    resource: 'deployments.apps',
    object: 'web',
    args: ['create', 'deployment', 'web', '--image=nginx', '--replicas=2', '--port=80'],
  },
  {
    name: 'deployment (several images)',
    resource: 'deployments.apps',
    object: 'multi',
    args: ['create', 'deployment', 'multi', '--image=nginx:1.25', '--image=busybox:1.36'],
  },
  {
    name: 'secret generic',
    resource: 'secrets',
    object: 'creds',
    args: ['create', 'secret', 'generic', 'creds', '--from-literal=user=admin', '--from-literal=pass=s3cr3t'],
  },
  {
    name: 'secret docker-registry',
    resource: 'secrets',
    object: 'reg',
    args: [
      'create',
      'secret',
      'docker-registry',
      'reg',
      '--docker-server=registry.example.com',
      '--docker-username=u',
      '--docker-password=p',
    ],
  },
  {
    name: 'configmap',
    resource: 'configmaps',
    object: 'settings',
    args: ['create', 'configmap', 'settings', '--from-literal=mode=prod', '--from-literal=level=3'],
  },
  { name: 'job', resource: 'jobs.batch', object: 'once', args: ['create', 'job', 'once', '--image=busybox', '--', 'echo', 'hi'] },
  {
    name: 'cronjob',
    resource: 'cronjobs.batch',
    object: 'tick',
    args: ['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/5 * * * *', '--restart=OnFailure', '--', 'date'],
  },
  {
    name: 'service clusterip',
    resource: 'services',
    object: 'web',
    args: ['create', 'service', 'clusterip', 'web', '--tcp=80:8080', '--tcp=443:8443'],
  },
  {
    name: 'service headless',
    resource: 'services',
    object: 'headless',
    args: ['create', 'service', 'clusterip', 'headless', '--clusterip=None'],
  },
  {
    name: 'service nodeport',
    resource: 'services',
    object: 'np',
    args: ['create', 'service', 'nodeport', 'np', '--tcp=80:8080'],
  },
  {
    name: 'service externalname',
    resource: 'services',
    object: 'ext',
    args: ['create', 'service', 'externalname', 'ext', '--external-name=db.example.com'],
  },
  { name: 'serviceaccount', resource: 'serviceaccounts', object: 'bot', args: ['create', 'serviceaccount', 'bot'] },
  {
    name: 'role',
    resource: 'roles.rbac.authorization.k8s.io',
    object: 'reader',
    args: ['create', 'role', 'reader', '--verb=get,list,watch', '--resource=pods,deployments.apps', '--resource-name=web'],
  },
  {
    name: 'rolebinding',
    resource: 'rolebindings.rbac.authorization.k8s.io',
    object: 'reader-binding',
    args: ['create', 'rolebinding', 'reader-binding', '--role=reader', '--user=alice', '--group=devs', '--serviceaccount=ns:bot'],
  },
  {
    name: 'clusterrole',
    resource: 'clusterroles.rbac.authorization.k8s.io',
    object: 'viewer-sfx',
    clusterScoped: true,
    args: ['create', 'clusterrole', 'viewer-sfx', '--verb=get,list,watch', '--resource=deployments.apps,pods,pods/log'],
  },
  {
    name: 'clusterrole (non-resource URLs)',
    resource: 'clusterroles.rbac.authorization.k8s.io',
    object: 'health-sfx',
    clusterScoped: true,
    args: ['create', 'clusterrole', 'health-sfx', '--verb=get', '--non-resource-url=/healthz', '--non-resource-url=/livez'],
  },
  {
    name: 'clusterrole (aggregation rule)',
    resource: 'clusterroles.rbac.authorization.k8s.io',
    object: 'aggregated-sfx',
    clusterScoped: true,
    args: ['create', 'clusterrole', 'aggregated-sfx', '--aggregation-rule=rbac.example.com/aggregate-to-view=true'],
  },
  {
    name: 'clusterrolebinding',
    resource: 'clusterrolebindings.rbac.authorization.k8s.io',
    object: 'viewer-binding-sfx',
    clusterScoped: true,
    args: ['create', 'clusterrolebinding', 'viewer-binding-sfx', '--clusterrole=viewer-sfx', '--group=devs', '--user=bob'],
  },
  {
    name: 'ingress',
    resource: 'ingresses.networking.k8s.io',
    object: 'web',
    args: [
      'create',
      'ingress',
      'web',
      '--class=nginx',
      '--rule=example.com/path*=web:80',
      '--rule=tls.example.com/=web:443,tls=tls-secret',
      '--annotation=team=web',
    ],
  },
  {
    name: 'ingress (default backend)',
    resource: 'ingresses.networking.k8s.io',
    object: 'fallback',
    args: ['create', 'ingress', 'fallback', '--default-backend=web:80'],
  },
  {
    name: 'poddisruptionbudget',
    resource: 'poddisruptionbudgets.policy',
    object: 'web-pdb',
    args: ['create', 'poddisruptionbudget', 'web-pdb', '--selector=app=web', '--min-available=1'],
  },
  {
    name: 'poddisruptionbudget (max unavailable)',
    resource: 'poddisruptionbudgets.policy',
    object: 'web-pdb2',
    args: ['create', 'poddisruptionbudget', 'web-pdb2', '--selector=app=web', '--max-unavailable=25%'],
  },
  {
    name: 'quota',
    resource: 'resourcequotas',
    object: 'compute',
    args: ['create', 'quota', 'compute', '--hard=cpu=2,memory=4Gi,pods=10,requests.storage=10Gi', '--scopes=NotTerminating'],
  },
];

let server: RunningServer;
let work: string;
/** version → generator name → stored object, with the version's namespace and suffix replaced by placeholders. */
const stored = new Map<string, Map<string, any>>();

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'canopy-kubectl-create-'));
  // API-level semantics: no workloads run (kube-apiserver with only the lifecycle controllers).
  server = await startServer({ extraArgs: ['--controllers', 'lifecycle', '--nodes', '0'] });
});

after(async () => {
  await server?.stop();
  if (server) removeDir(server.dataDir);
  if (work) removeDir(work);
});

const namespaceFor = (version: string) => `create-${version.replace('.', '-')}`;
const suffixFor = (version: string) => `v${version.replace('.', '')}`;

/** What differs between two creations of the same object: identity, times, allocations, and the per-version names. */
function normalize(object: any, ns: string, sfx: string): any {
  // The uid also appears where the server copied it (a Job's controller-uid labels and selector).
  const copy = JSON.parse(
    JSON.stringify(object).replaceAll(object.metadata.uid, 'UID').replaceAll(ns, 'NS').replaceAll(sfx, 'SFX'),
  );
  for (const key of ['resourceVersion', 'creationTimestamp']) delete copy.metadata[key];
  for (const entry of copy.metadata.managedFields ?? []) delete entry.time;
  if (copy.spec) {
    delete copy.spec.clusterIP;
    delete copy.spec.clusterIPs;
    for (const port of copy.spec.ports ?? []) delete port.nodePort;
  }
  return copy;
}

for (const version of VERSIONS) {
  describe(`kubectl ${version} create generators`, () => {
    const ns = namespaceFor(version);
    const sfx = suffixFor(version);
    let k: ReturnType<typeof makeKubectl>;
    const objects = new Map<string, any>();
    stored.set(version, objects);

    before(async () => {
      k = makeKubectl(version, server.kubeconfig, work);
      ok(await k(['create', 'namespace', ns]), 'create namespace');
    });

    test('create namespace stored the namespace', async () => {
      const namespace = JSON.parse(ok(await k(['get', 'namespace', ns, '-o', 'json'])));
      assert.equal(namespace.metadata.name, ns);
      assert.equal(namespace.status.phase, 'Active');
    });

    for (const gen of GENERATORS) {
      test(gen.name, async () => {
        const args = gen.args.map((a) => a.replaceAll('sfx', sfx).replace(/^--serviceaccount=ns:/, `--serviceaccount=${ns}:`));
        // The namespace goes first: generators that take a command end with `-- command args`.
        ok(await k([...(gen.clusterScoped ? [] : ['-n', ns]), ...args]), gen.name);
        const name = gen.object.replaceAll('sfx', sfx);
        const object = JSON.parse(
          ok(await k(['get', gen.resource, name, '-o', 'json', ...(gen.clusterScoped ? [] : ['-n', ns])])),
        );
        objects.set(gen.name, normalize(object, ns, sfx));
      });
    }

    test('the stored objects carry what the generators were given', () => {
      const deployment = objects.get('deployment');
      assert.equal(deployment.spec.replicas, 2);
      assert.deepEqual(deployment.spec.selector, { matchLabels: { app: 'web' } });
      assert.equal(deployment.spec.template.spec.containers[0].image, 'nginx');
      assert.equal(deployment.spec.template.spec.containers[0].ports[0].containerPort, 80);
      assert.deepEqual(
        objects.get('deployment (several images)').spec.template.spec.containers.map((c: any) => c.image),
        ['nginx:1.25', 'busybox:1.36'],
      );
      const secret = objects.get('secret generic');
      assert.equal(Buffer.from(secret.data.user, 'base64').toString(), 'admin');
      assert.equal(Buffer.from(secret.data.pass, 'base64').toString(), 's3cr3t');
      assert.equal(secret.type, 'Opaque');
      const registry = objects.get('secret docker-registry');
      assert.equal(registry.type, 'kubernetes.io/dockerconfigjson');
      assert.match(Buffer.from(registry.data['.dockerconfigjson'], 'base64').toString(), /registry\.example\.com/);
      assert.deepEqual(objects.get('configmap').data, { mode: 'prod', level: '3' });
      assert.deepEqual(objects.get('job').spec.template.spec.containers[0].command, ['echo', 'hi']);
      assert.equal(objects.get('cronjob').spec.schedule, '*/5 * * * *');
      assert.deepEqual(
        objects.get('service clusterip').spec.ports.map((p: any) => [p.port, p.targetPort]),
        [
          [80, 8080],
          [443, 8443],
        ],
      );
      assert.equal(objects.get('service externalname').spec.externalName, 'db.example.com');
      assert.deepEqual(objects.get('role').rules[0].verbs, ['get', 'list', 'watch']);
      assert.deepEqual(
        objects.get('rolebinding').subjects.map((s: any) => `${s.kind}:${s.name}`),
        ['User:alice', 'Group:devs', 'ServiceAccount:bot'],
      );
      assert.deepEqual(objects.get('clusterrole (non-resource URLs)').rules[0].nonResourceURLs, ['/healthz', '/livez']);
      assert.deepEqual(objects.get('clusterrole (aggregation rule)').aggregationRule.clusterRoleSelectors, [
        { matchLabels: { 'rbac.example.com/aggregate-to-view': 'true' } },
      ]);
      assert.equal(objects.get('ingress').spec.ingressClassName, 'nginx');
      assert.deepEqual(objects.get('ingress').spec.tls, [{ hosts: ['tls.example.com'], secretName: 'tls-secret' }]);
      assert.equal(objects.get('poddisruptionbudget').spec.minAvailable, 1);
      assert.equal(objects.get('poddisruptionbudget (max unavailable)').spec.maxUnavailable, '25%');
      assert.deepEqual(objects.get('quota').spec.hard, { cpu: '2', memory: '4Gi', pods: '10', 'requests.storage': '10Gi' });
      assert.deepEqual(objects.get('quota').spec.scopes, ['NotTerminating']);
    });
  });
}

describe('protobuf and JSON creations agree', () => {
  test('kubectl 1.33 sends protobuf for create', async () => {
    const k = makeKubectl('1.33', server.kubeconfig, work);
    const ns = namespaceFor('1.33');
    const result = await k(['create', 'configmap', 'wire-check', '--from-literal=a=b', '-n', ns, '-v=8']);
    ok(result);
    assert.match(result.stderr, /Content-Type: application\/vnd\.kubernetes\.protobuf/);
  });

  test('every generator stored the same object from kubectl 1.33 (protobuf) as from kubectl 1.27 (JSON)', () => {
    const [reference, candidate] = VERSIONS.map((v) => stored.get(v)!);
    for (const gen of GENERATORS) {
      assert.ok(reference.has(gen.name) && candidate.has(gen.name), `${gen.name} was created by both versions`);
      assert.deepEqual(candidate.get(gen.name), reference.get(gen.name), gen.name);
    }
  });
});

// ---- raw protobuf requests ----

function protobufBody(apiVersion: string, kind: string, raw: Buffer): Buffer {
  const field = (n: number, value: Buffer) => Buffer.concat([Buffer.from([(n << 3) | 2]), varint(value.length), value]);
  const typeMeta = Buffer.concat([field(1, Buffer.from(apiVersion)), field(2, Buffer.from(kind))]);
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), field(1, typeMeta), field(2, raw)]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

async function rawRequest(method: string, path: string, body: Buffer): Promise<{ status: number; json: any }> {
  const config = parseYaml(readFileSync(server.kubeconfig, 'utf8'));
  const cluster = config.clusters[0].cluster;
  const user = config.users[0].user;
  const agent = new Agent({
    ca: Buffer.from(cluster['certificate-authority-data'], 'base64'),
    cert: Buffer.from(user['client-certificate-data'], 'base64'),
    key: Buffer.from(user['client-key-data'], 'base64'),
  });
  const url = new URL(path, cluster.server);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method,
        agent,
        headers: {
          'content-type': 'application/vnd.kubernetes.protobuf',
          'content-length': String(body.length),
          accept: 'application/json',
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          agent.destroy();
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('raw protobuf requests', () => {
  const ns = namespaceFor('1.33');
  const configMap = (name: string) => {
    const meta = Buffer.concat([Buffer.from([0x0a]), varint(name.length), Buffer.from(name)]);
    return protobufBody('v1', 'ConfigMap', Buffer.concat([Buffer.from([0x0a]), varint(meta.length), meta]));
  };

  test('DeleteOptions in protobuf: dryRun deletes nothing, then the delete happens', async () => {
    const created = await rawRequest('POST', `/api/v1/namespaces/${ns}/configmaps`, configMap('to-delete'));
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.json.metadata.name, 'to-delete');
    // DeleteOptions { dryRun: ["All"] (5), propagationPolicy: "Background" (4) }
    const dryRun = protobufBody(
      'meta.k8s.io/v1',
      'DeleteOptions',
      Buffer.concat([Buffer.from([0x2a, 3]), Buffer.from('All'), Buffer.from([0x22, 10]), Buffer.from('Background')]),
    );
    const dry = await rawRequest('DELETE', `/api/v1/namespaces/${ns}/configmaps/to-delete`, dryRun);
    assert.equal(dry.status, 200, JSON.stringify(dry.json));
    const k = makeKubectl('1.33', server.kubeconfig, work);
    ok(await k(['get', 'configmap', 'to-delete', '-n', ns]), 'still there after a dry run');
    // DeleteOptions { gracePeriodSeconds: 0 (1) } under the core group version
    const now = protobufBody('v1', 'DeleteOptions', Buffer.from([0x08, 0x00]));
    const deleted = await rawRequest('DELETE', `/api/v1/namespaces/${ns}/configmaps/to-delete`, now);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.json));
    const gone = await k(['get', 'configmap', 'to-delete', '-n', ns]);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /NotFound/);
  });

  test('a kind without a protobuf table is 415, malformed protobuf is 400', async () => {
    const unknown = await rawRequest(
      'POST',
      `/api/v1/namespaces/${ns}/configmaps`,
      protobufBody('example.com/v1', 'Widget', Buffer.alloc(0)),
    );
    assert.equal(unknown.status, 415, JSON.stringify(unknown.json));
    assert.equal(unknown.json.reason, 'UnsupportedMediaType');
    const truncated = configMap('broken').subarray(0, 20);
    const bad = await rawRequest('POST', `/api/v1/namespaces/${ns}/configmaps`, truncated);
    assert.equal(bad.status, 400, JSON.stringify(bad.json));
    assert.equal(bad.json.reason, 'BadRequest');
  });
});
