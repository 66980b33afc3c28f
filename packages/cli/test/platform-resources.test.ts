/**
 * The resources API (`/kapis/resources.kubesphere.io/v1alpha3/...`) over 5,000 pods of a real
 * `canopy server` (no nodes, lifecycle controllers only, so the pods stay as written): every
 * answer — filters, sorting, paging, totals, cluster and namespace scope — is compared with an
 * independent computation in this test over the same pods listed from the Kubernetes API.
 *
 * The reference below is written from KubeSphere's semantics (pkg/apiserver/query and
 * pkg/models/resources/v1alpha3, 4.1): reserved keys `page` (1-based), `limit` (absent: no
 * paging), `sortBy` (`name`, else creation time with ties by name), `ascending` (default false),
 * `labelSelector`; every other key filters — `name` (substring of the name, or of the
 * `kubesphere.io/alias-name` annotation ignoring case), `names` (exact, comma list), `uid`,
 * `namespace`, `ownerReference` (owner uid), `ownerKind`, `label`/`annotation` (`key`, `key=value`,
 * `key!=value` on a present key), `fieldSelector` (JSON paths with `=`, `==`, `!=`; a value
 * prefixed `~` compares ignoring case), and the pods' own `nodeName` and `phase`. Names compare
 * byte-wise (Go's strings.Compare); paging answers nothing past the end.
 *
 * One reading is Kubernetes' rather than KubeSphere's: a field the object does not have reads as
 * the empty string (kube's field selectors read an unscheduled pod's spec.nodeName as ""), where
 * ks-apiserver's jsonpath lookup fails and drops the object even for `!=`.
 *
 * And the API answers only what the caller may see: a project member lists the project's pods,
 * but not the cluster's, nor another project's.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiClient, type ApiClient } from './support/http.js';
import { removeDir, startServer, type RunningServer } from './support/server.js';

const RESOURCES = '/kapis/resources.kubesphere.io/v1alpha3';
const IAM = '/kapis/iam.kubesphere.io/v1beta1';
const TENANT = '/kapis/tenant.kubesphere.io/v1beta1';

const POD_COUNT = 5000;
/** `proj` is a project of a workspace (for the member's view); the others are plain namespaces. */
const NAMESPACES = ['proj', 'res-a', 'res-b', 'res-c', 'res-d'];
/** Name prefixes with dashes and dots, so byte-wise order has something to decide. */
const PREFIXES = ['web', 'api', 'db', 'cache-web', 'job.batch', 'web-api'];
const TIERS = ['frontend', 'backend', 'data'];
const ALIAS = 'kubesphere.io/alias-name';

let server: RunningServer;
let kube: ApiClient;
let adminToken = '';
let memberToken = '';
/** The pods as the Kubernetes API lists them once everything is written: the reference's input. */
const pods: any[] = [];
const ownerUids = new Map<string, string>();

type Pod = any;

// ---------------------------------------------------------------------------------------------
// The reference: KubeSphere's list semantics, written here independently of the platform's code.

interface Requirement {
  key: string;
  op: 'exists' | '!exists' | '=' | '!=' | 'in' | 'notin';
  values: string[];
}

/** Kubernetes label selector syntax (the forms this test uses, and a little more). */
function parseSelector(text: string): Requirement[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) terms.push(current.trim());
  return terms.map((term) => {
    let m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m) return { key: m[1], op: m[2] as 'in' | 'notin', values: m[3].split(',').map((v) => v.trim()) };
    m = /^([^=!]+)(==|=|!=)(.*)$/.exec(term);
    if (m) return { key: m[1].trim(), op: m[2] === '!=' ? '!=' : '=', values: [m[3].trim()] };
    if (term.startsWith('!')) return { key: term.slice(1).trim(), op: '!exists', values: [] };
    return { key: term, op: 'exists', values: [] };
  });
}

function selectorMatches(requirements: Requirement[], labels: Record<string, string> = {}): boolean {
  return requirements.every(({ key, op, values }) => {
    const has = Object.hasOwn(labels, key);
    switch (op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case '=':
      case 'in':
        return has && values.includes(labels[key]);
      case '!=':
      case 'notin':
        return !has || !values.includes(labels[key]);
    }
  });
}

/** ks labelMatch: `key` (present), `key=value`, `key!=value` (present with another value). */
function labelMatch(map: Record<string, string> = {}, filter: string): boolean {
  const at = filter.indexOf('=');
  if (at < 0) return Object.hasOwn(map, filter);
  let key = filter.slice(0, at);
  const value = filter.slice(at + 1);
  const negated = key.endsWith('!');
  if (negated) key = key.slice(0, -1);
  if (!Object.hasOwn(map, key)) return false;
  return negated ? map[key] !== value : map[key] === value;
}

/** ks fieldSelector over the object's JSON: dot paths, `=`/`==`/`!=`, `~value` ignoring case. */
function fieldSelectorMatches(pod: Pod, selector: string): boolean {
  return selector.split(',').every((term) => {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(term);
    if (!m) throw new Error(`test bug: field selector term ${term}`);
    let value: unknown = pod;
    for (const part of m[1].split('.'))
      value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
    const actual = value === undefined || value === null ? '' : String(value);
    let wanted = m[3];
    let equal: boolean;
    if (wanted.startsWith('~')) {
      wanted = wanted.slice(1);
      equal = actual.toLowerCase() === wanted.toLowerCase();
    } else equal = actual === wanted;
    return m[2] === '!=' ? !equal : equal;
  });
}

function filterMatches(pod: Pod, key: string, value: string): boolean {
  const meta = pod.metadata;
  switch (key) {
    case 'name': {
      const alias: string | undefined = meta.annotations?.[ALIAS];
      return (!!alias && alias.toLowerCase().includes(value.toLowerCase())) || meta.name.includes(value);
    }
    case 'names':
      return value.split(',').includes(meta.name);
    case 'uid':
      return meta.uid === value;
    case 'namespace':
      return meta.namespace === value;
    case 'ownerReference':
      return (meta.ownerReferences ?? []).some((o: any) => o.uid === value);
    case 'ownerKind':
      return (meta.ownerReferences ?? []).some((o: any) => o.kind === value);
    case 'label':
      return labelMatch(meta.labels, value);
    case 'annotation':
      return labelMatch(meta.annotations, value);
    case 'fieldSelector':
      return fieldSelectorMatches(pod, value);
    case 'nodeName':
      return (pod.spec.nodeName ?? '') === value;
    case 'phase':
      return pod.status?.phase === value;
    default:
      return true; // an unknown key does not filter
  }
}

const byteCompare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** ks DefaultObjectMetaCompare as an ordering: negative when `a` comes first in descending order. */
function descending(a: Pod, b: Pod, sortBy: string): number {
  if (sortBy === 'name') return -byteCompare(a.metadata.name, b.metadata.name);
  const t = Date.parse(b.metadata.creationTimestamp) - Date.parse(a.metadata.creationTimestamp);
  return t !== 0 ? t : -byteCompare(a.metadata.name, b.metadata.name);
}

function reference(all: Pod[], query: URLSearchParams, namespace?: string): { items: Pod[]; totalItems: number } {
  const reserved = new Set(['page', 'limit', 'sortBy', 'ascending', 'labelSelector']);
  const selector = query.get('labelSelector') ? parseSelector(query.get('labelSelector')!) : [];
  const filters = [...query].filter(([k]) => !reserved.has(k));
  const matched = all.filter(
    (p) =>
      (namespace === undefined || p.metadata.namespace === namespace) &&
      selectorMatches(selector, p.metadata.labels) &&
      filters.every(([k, v]) => filterMatches(p, k, v)),
  );
  const sortBy = query.get('sortBy') || 'creationTimestamp';
  // Go's strconv.ParseBool; anything else is the default, descending.
  const ascending = ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(query.get('ascending') ?? '');
  matched.sort((a, b) => (ascending ? -1 : 1) * descending(a, b, sortBy));
  const total = matched.length;
  const limit = query.has('limit') ? Number(query.get('limit')) : -1;
  if (limit === -1) return { items: matched, totalItems: total };
  const offset = ((query.has('page') ? Number(query.get('page')) : 1) - 1) * limit;
  if (limit < 0 || offset < 0 || offset > total) return { items: [], totalItems: total };
  return { items: matched.slice(offset, offset + limit), totalItems: total };
}

// ---------------------------------------------------------------------------------------------
// The cluster.

async function platform(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; text: string; body: any }> {
  const res = await fetch(`${server.platformUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, text, body: parsed };
}

async function signIn(username: string, password: string, clientSecret: string): Promise<string> {
  const res = await fetch(`${server.platformUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'kubesphere',
      client_secret: clientSecret,
      username,
      password,
    }).toString(),
  });
  const body = (await res.json()) as { access_token: string };
  assert.equal(res.status, 200, `${username} signs in: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** Runs `work` over `items` with `concurrency` requests in flight. */
async function inParallel<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

async function must(answer: Promise<{ status: number; text: string }>, what: string, ok = [200, 201]) {
  const r = await answer;
  if (!ok.includes(r.status)) throw new Error(`${what}: ${r.status} ${r.text.slice(0, 500)}`);
  return r;
}

function podFor(i: number) {
  const namespace = NAMESPACES[i % NAMESPACES.length];
  const prefix = PREFIXES[i % PREFIXES.length];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${prefix}-${i}`,
      namespace,
      labels: {
        app: prefix.replace('.', '-'),
        tier: TIERS[i % 3],
        ...(i % 7 === 0 ? { canary: 'true' } : {}),
        ...(i % 11 === 0 ? { release: i % 2 ? 'stable' : 'beta' } : {}),
      },
      annotations: {
        owner: i % 2 ? 'team-a' : 'team-b',
        ...(i % 13 === 0 ? { [ALIAS]: `Frontend Cache ${i}` } : {}),
        // Not an annotation the name filter reads (KubeSphere's display name is the alias-name).
        ...(i % 19 === 0 ? { 'kubesphere.io/display-name': `Display ${i}` } : {}),
        ...(i % 17 === 0 ? { 'example.com/audited': '' } : {}),
      },
      // By i / 5, so that every namespace (i % 5) has owned pods.
      ...(Math.floor(i / 5) % 10 === 0
        ? {
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'owner', uid: ownerUids.get(namespace)!, controller: true },
            ],
          }
        : {}),
    },
    spec: {
      // No node runs them: a nodeName names a node that does not exist, and nothing schedules the rest.
      ...(i % 4 === 0 ? { nodeName: `node-${i % 3}` } : {}),
      ...(i % 9 === 0 ? { restartPolicy: 'Never' } : {}),
      containers: [{ name: 'main', image: 'busybox:1.36' }],
    },
  };
}

/** Phases written through the status subresource (playing the kubelet) for the pods on a node. */
function phaseFor(i: number): string | undefined {
  if (i % 4 !== 0) return undefined;
  // By i / 20, so that phases vary within each namespace (i % 5) and node (i % 3).
  return [undefined, 'Running', 'Running', 'Succeeded', 'Failed'][Math.floor(i / 20) % 5];
}

before(async () => {
  const started = Date.now();
  server = await startServer({ extraArgs: ['--nodes', '0', '--controllers', 'lifecycle'] });
  kube = apiClient(server.kubeconfig, { maxSockets: 48 });

  // admin's first sign-in and forced password change; a project `proj` of workspace `wsr` with
  // `mia` as its viewer.
  const oauthClient = (await kube.request('GET', '/api/v1/namespaces/kubesphere-system/secrets/oauthclient-kubesphere')).json();
  const clientSecret = /secret: "?([^"\s]+)"?/.exec(Buffer.from(oauthClient.data['configuration.yaml'], 'base64').toString())![1];
  const printed = /First sign-in: admin \/ (\S+) /.exec(server.output())![1];
  const first = await signIn('admin', printed, clientSecret);
  await must(
    platform('PUT', `${IAM}/users/admin/password`, first, { currentPassword: printed, password: 'Resources-Admin-1' }),
    'password change',
  );
  adminToken = await signIn('admin', 'Resources-Admin-1', clientSecret);
  await must(
    platform('POST', `${IAM}/users`, adminToken, {
      apiVersion: 'iam.kubesphere.io/v1beta1',
      kind: 'User',
      metadata: { name: 'mia' },
      spec: { email: 'mia@example.com', password: 'Mia-Resources-1' },
    }),
    'creating mia',
  );
  await must(
    platform('POST', `${TENANT}/workspacetemplates`, adminToken, {
      metadata: { name: 'wsr' },
      spec: { template: { spec: { manager: 'admin' } }, placement: {} },
    }),
    'creating wsr',
  );
  for (let attempt = 0; ; attempt++) {
    const r = await platform('POST', `${TENANT}/workspaces/wsr/namespaces`, adminToken, { metadata: { name: 'proj' } });
    if (r.status === 200) break;
    if (attempt > 100) throw new Error(`creating proj: ${r.status} ${r.text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await must(
    platform('POST', `${IAM}/namespaces/proj/namespacemembers`, adminToken, [{ username: 'mia', roleRef: 'viewer' }]),
    'adding mia',
  );
  memberToken = await signIn('mia', 'Mia-Resources-1', clientSecret);

  for (const ns of NAMESPACES.slice(1))
    await must(kube.request('POST', '/api/v1/namespaces', { body: { metadata: { name: ns } } }), `namespace ${ns}`);
  // The owners: a ReplicaSet per namespace that nothing runs (no workload controllers).
  for (const ns of NAMESPACES) {
    const rs = await must(
      kube.request('POST', `/apis/apps/v1/namespaces/${ns}/replicasets`, {
        body: {
          metadata: { name: 'owner' },
          spec: {
            replicas: 0,
            selector: { matchLabels: { owner: ns } },
            template: { metadata: { labels: { owner: ns } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
          },
        },
      }),
      `owner in ${ns}`,
    );
    ownerUids.set(ns, JSON.parse(rs.text).metadata.uid);
  }

  const indexes = Array.from({ length: POD_COUNT }, (_, i) => i);
  await inParallel(indexes, 48, async (i) => {
    const pod = podFor(i);
    await must(kube.request('POST', `/api/v1/namespaces/${pod.metadata.namespace}/pods`, { body: pod }), `pod ${i}`);
  });
  await inParallel(
    indexes.filter((i) => phaseFor(i)),
    48,
    async (i) => {
      const pod = podFor(i);
      await must(
        kube.request('PATCH', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`, {
          body: { status: { phase: phaseFor(i) } },
          headers: { 'content-type': 'application/merge-patch+json' },
        }),
        `status of pod ${i}`,
      );
    },
  );

  // The reference's input: every pod, as the Kubernetes API lists it.
  let continueToken = '';
  do {
    const page = (
      await kube.request('GET', `/api/v1/pods?limit=1000${continueToken ? `&continue=${encodeURIComponent(continueToken)}` : ''}`)
    ).json();
    pods.push(...page.items);
    continueToken = page.metadata.continue ?? '';
  } while (continueToken);
  assert.equal(pods.length, POD_COUNT);

  // The resources API serves from a cache: wait until it holds exactly these objects.
  const want = new Map(pods.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p.metadata.resourceVersion]));
  for (let attempt = 0; ; attempt++) {
    const r = await platform('GET', `${RESOURCES}/pods`, adminToken);
    assert.equal(r.status, 200, r.text);
    const have = new Map<string, string>(
      r.body.items.map((p: Pod) => [`${p.metadata.namespace}/${p.metadata.name}`, p.metadata.resourceVersion]),
    );
    if (have.size === want.size && [...want].every(([k, v]) => have.get(k) === v)) break;
    if (attempt > 100) throw new Error(`the resources API's cache did not catch up: ${have.size} pods`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log(`# set-up: ${POD_COUNT} pods in ${Date.now() - started} ms`);
});

after(async () => {
  kube?.close();
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

const key = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;

/** Asks the resources API and compares the answer with the reference, item by item in order. */
async function agree(query: string, options: { namespace?: string; token?: string; expect?: 'some' | 'none' | 'all' } = {}) {
  const { namespace, token = adminToken, expect = 'some' } = options;
  const path = `${RESOURCES}/${namespace ? `namespaces/${namespace}/` : ''}pods${query ? `?${query}` : ''}`;
  const got = await platform('GET', path, token);
  assert.equal(got.status, 200, `${path}: ${got.text.slice(0, 300)}`);
  const want = reference(pods, new URLSearchParams(query), namespace);
  const scope = namespace ? pods.filter((p) => p.metadata.namespace === namespace).length : pods.length;
  assert.equal(got.body.totalItems, want.totalItems, `totalItems of ${path}`);
  assert.deepEqual(got.body.items.map(key), want.items.map(key), `items of ${path}`);
  // The query must be worth asking: it selects some pods, none, or all, as the test says.
  if (expect === 'some')
    assert.ok(
      want.totalItems > 0 && want.totalItems < scope && want.items.length > 0,
      `${path} selects some: ${want.totalItems}`,
    );
  if (expect === 'none') assert.equal(want.items.length, 0, `${path} answers nothing`);
  if (expect === 'all') assert.equal(want.totalItems, scope);
  return got.body;
}

test('without a query: every pod, newest first, ties by name descending; items are the objects themselves', async () => {
  const body = await agree('', { expect: 'all' });
  const byKey = new Map(pods.map((p) => [key(p), p]));
  for (const item of body.items.slice(0, 50)) {
    assert.equal(item.apiVersion, 'v1');
    assert.equal(item.kind, 'Pod');
    const stored = byKey.get(key(item));
    assert.deepEqual(
      [item.metadata.uid, item.metadata.resourceVersion, item.status.phase],
      [stored.metadata.uid, stored.metadata.resourceVersion, stored.status.phase],
    );
  }
  // Creation timestamps have second precision: 5,000 pods share few of them, so ties by name decide most of the order.
  const seconds = new Set(pods.map((p) => p.metadata.creationTimestamp));
  assert.ok(seconds.size < POD_COUNT / 10, `${seconds.size} distinct creation times`);
});

test('sorting by name and by creation time, both directions', async () => {
  for (const query of [
    'sortBy=name',
    'sortBy=name&ascending=true',
    'sortBy=creationTimestamp&ascending=true',
    'sortBy=creationTimestamp&ascending=false',
    'sortBy=createTime',
    'ascending=true',
    'sortBy=name&ascending=True', // what a Python script sends for a boolean
    'sortBy=name&ascending=1',
    'sortBy=name&ascending=yes', // not a boolean: the default order
  ]) {
    await agree(query, { expect: 'all' });
  }
  // Byte-wise, as Go compares strings: "web-1002" before "web-12" before "web-6".
  const body = await agree('sortBy=name&ascending=true&limit=3&names=web-6,web-12,web-1002', { expect: 'some' });
  assert.deepEqual(
    body.items.map((p: Pod) => p.metadata.name),
    ['web-1002', 'web-12', 'web-6'],
  );
});

test('paging: 1-based pages of `limit`, the last one partial, nothing past the end, totalItems always the whole match', async () => {
  for (const query of [
    'limit=10',
    'limit=10&page=1',
    'limit=10&page=2&sortBy=name&ascending=true',
    'limit=37&page=136&sortBy=name',
    'limit=100&page=50&sortBy=creationTimestamp&ascending=true',
    'limit=1&page=5000',
    'page=3',
  ]) {
    const body = await agree(query, { expect: 'all' });
    assert.equal(body.totalItems, POD_COUNT);
  }
  assert.equal((await agree('limit=37&page=136&sortBy=name', { expect: 'all' })).items.length, POD_COUNT - 135 * 37);
  for (const query of [
    'limit=37&page=137',
    'limit=100&page=51',
    'limit=0',
    'limit=5&page=1001',
    'limit=10&page=0',
    'limit=10&page=-1',
    'limit=-5',
  ]) {
    const body = await agree(query, { expect: 'all' });
    assert.deepEqual([body.items.length, body.totalItems], [0, POD_COUNT], query);
  }
  // Walking every page in order gives every pod once, in the unpaged order.
  const whole = reference(pods, new URLSearchParams('sortBy=name'), undefined).items.map(key);
  const walked: string[] = [];
  for (let page = 1; ; page++) {
    const r = await platform('GET', `${RESOURCES}/pods?sortBy=name&limit=700&page=${page}`, adminToken);
    if (!r.body.items.length) break;
    walked.push(...r.body.items.map(key));
  }
  assert.deepEqual(walked, whole);
});

test('metadata filters: name, names, uid, namespace, owner, label, annotation', async () => {
  const some = pods[1234];
  for (const query of [
    'name=cache',
    'name=Cache', // only the alias-name annotations match, ignoring case
    'name=-12',
    'name=job.b&sortBy=name&ascending=true',
    'names=web-6,api-1,db-2,no-such-pod',
    `uid=${some.metadata.uid}`,
    'namespace=res-c&sortBy=name',
    `ownerReference=${ownerUids.get('res-b')}`,
    'ownerKind=ReplicaSet&limit=20&page=2',
    'label=canary',
    'label=tier=backend',
    'label=tier!=backend',
    'label=release=stable&sortBy=name',
    'label=release!=beta', // only pods that have the label
    'annotation=owner=team-a&limit=50',
    'annotation=example.com/audited',
    `annotation=${ALIAS}`,
  ]) {
    await agree(query);
  }
  await agree('names=no-such-pod', { expect: 'none' });
  await agree('name=isplay', { expect: 'none' }); // the name or the alias-name, not kubesphere.io/display-name
  await agree('label=no-such-label', { expect: 'none' });
  await agree('ownerKind=Deployment', { expect: 'none' });
});

test('labelSelector and fieldSelector, with `~` comparing ignoring case', async () => {
  for (const query of [
    'labelSelector=tier in (frontend,data),canary',
    'labelSelector=!canary,app=web',
    'labelSelector=release notin (beta)',
    'labelSelector=tier!=data&sortBy=name&limit=30&page=4',
    'fieldSelector=status.phase=Running',
    'fieldSelector=status.phase=~running',
    'fieldSelector=status.phase!=~PENDING',
    'fieldSelector=spec.nodeName=node-1',
    'fieldSelector=spec.nodeName!=node-1',
    'fieldSelector=spec.restartPolicy==Never,status.phase=Pending',
    'fieldSelector=metadata.namespace=res-b',
    'fieldSelector=metadata.labels.tier=~BACKEND',
    'fieldSelector=metadata.name!=web-6',
  ]) {
    await agree(query);
  }
  const ci = await agree('fieldSelector=status.phase=~sUcCeEdEd');
  assert.deepEqual(ci.totalItems, (await agree('fieldSelector=status.phase=Succeeded')).totalItems);
  await agree('fieldSelector=status.phase=running', { expect: 'none' }); // without `~` the case counts
});

test("the pods' own filters: nodeName and phase; several filters at once", async () => {
  for (const query of [
    'nodeName=node-2',
    'nodeName=node-0&sortBy=name&ascending=true',
    'phase=Succeeded',
    'phase=Failed&limit=7&page=3',
    'phase=Pending&sortBy=name',
    'label=tier=frontend&nodeName=node-0&sortBy=name&ascending=true&limit=5&page=2',
    'name=web&phase=Running&sortBy=creationTimestamp&ascending=true&limit=20&page=3',
    'labelSelector=canary&annotation=owner=team-b&fieldSelector=spec.restartPolicy=Always&namespace=res-a',
  ]) {
    await agree(query);
  }
  await agree('nodeName=node-9', { expect: 'none' });
});

test('namespace scope: the namespaced list is the cluster list narrowed to the namespace', async () => {
  for (const namespace of ['res-b', 'proj']) {
    const listed = await agree('', { namespace, expect: 'all' });
    assert.equal(listed.totalItems, POD_COUNT / NAMESPACES.length);
    assert.deepEqual((await agree(`namespace=${namespace}`)).items.map(key), listed.items.map(key));
    await agree('sortBy=name&ascending=true&limit=25&page=3', { namespace, expect: 'all' });
    for (const query of [
      'label=canary',
      'fieldSelector=status.phase=~RUNNING',
      'nodeName=node-1&sortBy=name',
      `ownerReference=${ownerUids.get(namespace)}`,
    ]) {
      await agree(query, { namespace });
    }
  }
  // A filter on another namespace inside a namespaced list matches nothing.
  await agree('namespace=res-a', { namespace: 'res-b', expect: 'none' });
  const one = await platform(
    'GET',
    `${RESOURCES}/namespaces/res-b/pods/${pods.find((p) => p.metadata.namespace === 'res-b').metadata.name}`,
    adminToken,
  );
  assert.equal(one.status, 200);
  assert.equal(one.body.kind, 'Pod');
  assert.equal(
    (await platform('GET', `${RESOURCES}/namespaces/res-a/pods/web-0`, adminToken)).status,
    404,
    'web-0 lives in proj',
  );
});

test('a project member sees its project and nothing else', async () => {
  const cluster = await platform('GET', `${RESOURCES}/pods`, memberToken);
  assert.equal(cluster.status, 403, cluster.text);
  assert.equal(cluster.body.reason, 'Forbidden');
  assert.doesNotMatch(cluster.text, /web-|api-|"items"/);
  assert.equal(
    (await platform('GET', `${RESOURCES}/pods?namespace=proj`, memberToken)).status,
    403,
    'a namespace filter is no way round it',
  );
  assert.equal((await platform('GET', `${RESOURCES}/namespaces/res-a/pods`, memberToken)).status, 403);
  assert.equal((await platform('GET', `${RESOURCES}/namespaces/res-a/pods/api-1`, memberToken)).status, 403);
  // In the project, the same answers as the administrator gets.
  await agree('', { namespace: 'proj', token: memberToken, expect: 'all' });
  await agree('sortBy=name&ascending=true&limit=40&page=2', { namespace: 'proj', token: memberToken, expect: 'all' });
  for (const query of ['label=tier=data&fieldSelector=status.phase=~failed', 'name=cache']) {
    await agree(query, { namespace: 'proj', token: memberToken });
  }
  const namespaces = await platform('GET', `${RESOURCES}/namespaces`, memberToken);
  assert.equal(namespaces.status, 200, namespaces.text);
  assert.deepEqual(
    namespaces.body.items.map((n: any) => n.metadata.name),
    ['proj'],
  );
});

test('bad queries are refused with a Status, never a server error', async () => {
  for (const query of ['labelSelector=tier in (frontend', 'fieldSelector=status.phase', 'limit=ten', 'page=two&limit=5']) {
    const r = await platform('GET', `${RESOURCES}/pods?${query}`, adminToken);
    assert.equal(r.status, 400, `${query}: ${r.text}`);
    assert.equal(r.body.kind, 'Status');
  }
  assert.equal((await platform('GET', `${RESOURCES}/nosuchthings`, adminToken)).status, 404);
});
