/**
 * The platform tried as a new user would, over HTTP in KubeSphere's API shapes, against a real
 * `canopy server` (three simulated nodes, every controller):
 *
 * admin signs in with the printed password and must change it; creates users through the users
 * API and workspace `ws1` managed by `alice`; alice creates project `p1` through the tenant API,
 * invites `bob` as operator and keeps a Secret there; bob deploys in p1 through `/apis` and sees
 * the pods run; bob can neither see nor touch project `p2` of workspace `ws2` (list, get, create,
 * delete, watch, through `/api(s)`, `/clusters/host`, `/kapis` and the resources API); `carol`,
 * viewer of ws1, lists but cannot create; removing bob from p1 revokes his access at once, his
 * token and his own kubeconfig (driven by kubectl 1.33) included.
 *
 * Every request the scenario makes that changes something, or that is refused, is written down
 * as it is made (who, method and path, the verb and object KubeSphere's audit names). At the end
 * the audit log (`logging.kubesphere.io/v1alpha2/auditing`) must hold a record for each, and no
 * password, token, client secret or Secret value the scenario used may appear in any record nor
 * in the server's output.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { apiClient } from './support/http.js';
import { makeKubectl, removeDir, startServer, type KubectlResult, type RunningServer } from './support/server.js';

const TENANT = '/kapis/tenant.kubesphere.io/v1beta1';
const IAM = '/kapis/iam.kubesphere.io/v1beta1';
const RESOURCES = '/kapis/resources.kubesphere.io/v1alpha3';
const AUDITING = '/kapis/logging.kubesphere.io/v1alpha2/auditing';

let server: RunningServer | undefined;
const work = mkdtempSync(join(tmpdir(), 'canopy-scenario-'));
after(async () => {
  await server?.stop();
  removeDir(work);
});

/** What KubeSphere's audit names for a request: the verb and the object it concerns. */
interface AuditExpectation {
  verb: string;
  resource: string;
  apiGroup?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** The workspace the record is filed under (a project's workspace, or the one in the path). */
  workspace?: string;
}

interface ExpectedRecord extends AuditExpectation {
  user: string;
  method: string;
  /** Path and query as sent. */
  uri: string;
  code: number;
}

/** Written down as the scenario goes: every mutating request and every refusal. */
const expectedRecords: ExpectedRecord[] = [];
/** Every secret value the scenario handles: none may reach the audit log or the server's output. */
const secretValues = new Map<string, string>();
const keepSecret = (what: string, value: string) => {
  assert.ok(value && value.length >= 8, `${what} is a real secret`);
  secretValues.set(what, value);
};

interface Answer {
  status: number;
  text: string;
  body: any;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A signed-in user's HTTP client for the platform front, writing down what the audit must hold. */
class Session {
  constructor(
    readonly user: string,
    readonly token: string,
  ) {}

  async request(
    method: string,
    uri: string,
    options: { body?: unknown; contentType?: string; audit?: AuditExpectation } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    let payload: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      payload = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    }
    const res = await fetch(`${server!.platformUrl}${uri}`, { method, headers, body: payload });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (MUTATING.has(method) || res.status === 401 || res.status === 403) {
      if (!options.audit)
        throw new Error(`test bug: ${method} ${uri} (answered ${res.status}) needs the audit record it should leave`);
      expectedRecords.push({ ...options.audit, user: this.user, method, uri, code: res.status });
    }
    return { status: res.status, text, body };
  }

  get(uri: string, audit?: AuditExpectation) {
    return this.request('GET', uri, { audit });
  }
  post(uri: string, body: unknown, audit: AuditExpectation) {
    return this.request('POST', uri, { body, audit });
  }
  put(uri: string, body: unknown, audit: AuditExpectation) {
    return this.request('PUT', uri, { body, audit });
  }
  patch(uri: string, body: unknown, audit: AuditExpectation) {
    return this.request('PATCH', uri, { body, audit, contentType: 'application/merge-patch+json' });
  }
  delete(uri: string, audit: AuditExpectation) {
    return this.request('DELETE', uri, { audit });
  }
}

/** The console's OAuth client, as an administrator of the cluster finds it (platform-signin.test.ts). */
let clientSecret = '';

async function signIn(username: string, password: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server!.platformUrl}/oauth/token`, {
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
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) };
}

async function session(username: string, password: string): Promise<Session> {
  const r = await signIn(username, password);
  assert.equal(r.status, 200, `${username} signs in: ${JSON.stringify(r.body)}`);
  keepSecret(`${username}'s access token`, r.body.access_token);
  keepSecret(`${username}'s refresh token`, r.body.refresh_token);
  return new Session(username, r.body.access_token);
}

/** Polls until `check` answers something truthy (controllers act asynchronously). */
async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

const deployment = (name: string, replicas: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } },
  },
});

const names = (answer: Answer): string[] => (answer.body?.items ?? []).map((o: any) => o.metadata.name).sort();

// Audit expectations, written the way KubeSphere's request info reads each path.
const deployments = (
  verb: string,
  namespace: string,
  name?: string,
  workspace?: string,
  subresource?: string,
): AuditExpectation => ({
  verb,
  resource: 'deployments',
  apiGroup: 'apps',
  namespace,
  ...(name ? { name } : {}),
  ...(subresource ? { subresource } : {}),
  ...(workspace ? { workspace } : {}),
});

const ADMIN_PASSWORD = 'Canopy-Admin-Scenario-1';
const PASSWORDS: Record<string, string> = { alice: 'Alice-Scenario-1', bob: 'Bob-Scenario-12', carol: 'Carol-Scenario-1' };
const SECRET_VALUE = 'db-pass-Xk29-scenario';
const SECRET_VALUE_ROTATED = 'db-pass-Qm41-rotated';

let admin: Session;
let alice: Session;
let bob: Session;
let carol: Session;
let bobKubectl: (args: string[]) => Promise<KubectlResult>;

test('admin signs in with the printed password and must change it first', async () => {
  server = await startServer({ dataDir: join(work, 'data') });
  const printed = /First sign-in: admin \/ (\S+) \(shown once; change it at first sign-in\)/.exec(server.output());
  assert.ok(printed, `the first start prints the admin password:\n${server.output()}`);
  const initialPassword = printed[1];
  keepSecret('the printed admin password', initialPassword);
  keepSecret('the new admin password', ADMIN_PASSWORD);

  const kube = apiClient(server.kubeconfig);
  const oauthClient = (await kube.request('GET', '/api/v1/namespaces/kubesphere-system/secrets/oauthclient-kubesphere')).json();
  kube.close();
  clientSecret = /secret: "?([^"\s]+)"?/.exec(Buffer.from(oauthClient.data['configuration.yaml'], 'base64').toString())![1];
  keepSecret("the console's OAuth client secret", clientSecret);

  const first = await session('admin', initialPassword);
  const refused = await first.get(`${IAM}/users`, { verb: 'list', resource: 'users', apiGroup: 'iam.kubesphere.io' });
  assert.equal(refused.status, 403, 'nothing but the password change until the password is changed');
  assert.match(refused.body.message, /must change its password/);
  assert.equal((await first.get('/api/v1/namespaces', { verb: 'list', resource: 'namespaces' })).status, 403);
  const weak = await first.put(
    `${IAM}/users/admin/password`,
    { currentPassword: initialPassword, password: 'short' },
    { verb: 'update', resource: 'users', apiGroup: 'iam.kubesphere.io', name: 'admin', subresource: 'password' },
  );
  assert.equal(weak.status, 422, 'the password policy holds for the first change too');
  const changed = await first.put(
    `${IAM}/users/admin/password`,
    { currentPassword: initialPassword, password: ADMIN_PASSWORD },
    { verb: 'update', resource: 'users', apiGroup: 'iam.kubesphere.io', name: 'admin', subresource: 'password' },
  );
  assert.equal(changed.status, 200, changed.text);
  assert.equal((await signIn('admin', initialPassword)).status, 400, 'the printed password no longer works');
  admin = await session('admin', ADMIN_PASSWORD);
  assert.equal((await admin.get(`${IAM}/users`)).status, 200);
});

test('admin creates the users and workspace ws1 managed by alice; alice creates p1 and invites bob as operator', async () => {
  for (const name of ['alice', 'bob', 'carol']) {
    keepSecret(`${name}'s password`, PASSWORDS[name]);
    const created = await admin.post(
      `${IAM}/users`,
      {
        apiVersion: 'iam.kubesphere.io/v1beta1',
        kind: 'User',
        metadata: { name, annotations: { 'iam.kubesphere.io/globalrole': 'platform-regular' } },
        spec: { email: `${name}@example.com`, password: PASSWORDS[name] },
      },
      { verb: 'create', resource: 'users', apiGroup: 'iam.kubesphere.io', name },
    );
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.spec.password, undefined, 'no password or hash in the answer');
  }

  const workspace = (name: string, manager: string) => ({
    apiVersion: 'tenant.kubesphere.io/v1beta1',
    kind: 'WorkspaceTemplate',
    metadata: { name },
    spec: { template: { spec: { manager } }, placement: { clusters: [{ name: 'host' }] } },
  });
  for (const [name, manager] of [
    ['ws1', 'alice'],
    ['ws2', 'admin'],
  ]) {
    const created = await admin.post(`${TENANT}/workspacetemplates`, workspace(name, manager), {
      verb: 'create',
      resource: 'workspacetemplates',
      apiGroup: 'tenant.kubesphere.io',
      name,
    });
    assert.equal(created.status, 200, created.text);
  }

  // Project p2 of ws2, with a Deployment bob must never see.
  const projectOf = (who: Session, ws: string, name: string) =>
    who.post(
      `${TENANT}/workspaces/${ws}/namespaces`,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
      {
        verb: 'create',
        resource: 'namespaces',
        apiGroup: 'tenant.kubesphere.io',
        name,
        workspace: ws,
      },
    );
  await eventually('p2 is created in ws2', async () => (await projectOf(admin, 'ws2', 'p2')).status === 200);
  const db = await admin.post(
    '/apis/apps/v1/namespaces/p2/deployments',
    deployment('db', 1),
    deployments('create', 'p2', 'db', 'ws2'),
  );
  assert.equal(db.status, 201, db.text);

  // alice manages ws1 as soon as the workspace controller has bound her (every attempt is audited).
  alice = await session('alice', PASSWORDS.alice);
  const p1 = await eventually('alice can create p1', async () => {
    const r = await projectOf(alice, 'ws1', 'p1');
    return r.status === 200 && r;
  });
  assert.equal(p1.body.metadata.labels['kubesphere.io/workspace'], 'ws1');
  assert.deepEqual(names(await alice.get(`${TENANT}/workspaces/ws1/namespaces`)), ['p1']);
  assert.deepEqual(
    (await alice.get(`${IAM}/namespaces/p1/namespacemembers`)).body.items.map((m: any) => [
      m.metadata.name,
      m.metadata.annotations['iam.kubesphere.io/role'],
    ]),
    [['alice', 'admin']],
    'the creator is the project admin',
  );

  const invited = await alice.post(`${IAM}/namespaces/p1/namespacemembers`, [{ username: 'bob', roleRef: 'operator' }], {
    verb: 'create',
    resource: 'namespacemembers',
    apiGroup: 'iam.kubesphere.io',
    namespace: 'p1',
    workspace: 'ws1',
  });
  assert.equal(invited.status, 200, invited.text);
  assert.deepEqual(invited.body, [{ username: 'bob', roleRef: 'operator' }]);

  // alice keeps database credentials in p1, then rotates them.
  keepSecret('the Secret value', SECRET_VALUE);
  keepSecret('the rotated Secret value', SECRET_VALUE_ROTATED);
  keepSecret('the Secret value, base64', Buffer.from(SECRET_VALUE).toString('base64'));
  keepSecret('the rotated Secret value, base64', Buffer.from(SECRET_VALUE_ROTATED).toString('base64'));
  const secretAudit = (verb: string, name?: string): AuditExpectation => ({
    verb,
    resource: 'secrets',
    namespace: 'p1',
    workspace: 'ws1',
    ...(name ? { name } : {}),
  });
  const stored = await alice.post(
    '/api/v1/namespaces/p1/secrets',
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-credentials' }, stringData: { password: SECRET_VALUE } },
    secretAudit('create', 'db-credentials'),
  );
  assert.equal(stored.status, 201, stored.text);
  const rotated = await alice.patch(
    '/api/v1/namespaces/p1/secrets/db-credentials',
    { data: { password: Buffer.from(SECRET_VALUE_ROTATED).toString('base64') } },
    secretAudit('patch', 'db-credentials'),
  );
  assert.equal(rotated.status, 200, rotated.text);
  assert.equal(Buffer.from(rotated.body.data.password, 'base64').toString(), SECRET_VALUE_ROTATED);
});

test('bob creates a Deployment in p1 through /apis and its pods run', async () => {
  bob = await session('bob', PASSWORDS.bob);
  const created = await bob.post(
    '/apis/apps/v1/namespaces/p1/deployments',
    deployment('web', 2),
    deployments('create', 'p1', 'web', 'ws1'),
  );
  assert.equal(created.status, 201, created.text);
  const running = await eventually('both pods of web are Running', async () => {
    const pods = await bob.get('/api/v1/namespaces/p1/pods?labelSelector=app%3Dweb');
    assert.equal(pods.status, 200, pods.text);
    const items = pods.body.items as any[];
    return items.length === 2 && items.every((p) => p.status.phase === 'Running' && p.spec.nodeName) && items;
  });
  const ready = await eventually('web reports 2 ready replicas', async () => {
    const d = await bob.get('/apis/apps/v1/namespaces/p1/deployments/web');
    return d.body.status?.readyReplicas === 2 && d.body;
  });
  assert.equal(ready.status.availableReplicas, 2);
  // The resources API shows bob the same pods, from its cache.
  const listed = await eventually('the resources API lists the running pods', async () => {
    const r = await bob.get(`${RESOURCES}/namespaces/p1/pods?labelSelector=app%3Dweb&sortBy=name&ascending=true`);
    return r.status === 200 && r.body.totalItems === 2 && r.body.items.every((p: any) => p.status.phase === 'Running') && r;
  });
  assert.deepEqual(
    listed.body.items.map((p: any) => p.metadata.name),
    running.map((p) => p.metadata.name).sort(),
  );

  // bob's own kubeconfig: kubectl with his rights, over the platform front.
  const kubeconfig = await bob.get('/kapis/resources.kubesphere.io/v1alpha2/users/bob/kubeconfig');
  assert.equal(kubeconfig.status, 200, kubeconfig.text);
  keepSecret("bob's kubeconfig token", /token: (\S+)/.exec(kubeconfig.text)![1]);
  const file = join(work, 'bob.kubeconfig');
  writeFileSync(file, kubeconfig.text, { mode: 0o600 });
  bobKubectl = makeKubectl('1.33', file, join(work, 'kubectl-cache'));
  const got = await bobKubectl(['get', 'deployments', '-n', 'p1', '-o', 'name']);
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.stdout.trim(), 'deployment.apps/web');
  const scaled = await bobKubectl(['scale', 'deployment', 'web', '-n', 'p1', '--replicas=1']);
  assert.equal(scaled.code, 0, scaled.stderr);
  expectedRecords.push({
    user: 'bob',
    method: 'PATCH',
    uri: '/apis/apps/v1/namespaces/p1/deployments/web/scale',
    code: 200,
    ...deployments('patch', 'p1', 'web', 'ws1', 'scale'),
  });
  const secrets = await bobKubectl(['get', 'secret', 'db-credentials', '-n', 'p1', '-o', 'jsonpath={.data.password}']);
  assert.equal(secrets.code, 0, `an operator reads the project's Secrets: ${secrets.stderr}`);
  assert.equal(Buffer.from(secrets.stdout, 'base64').toString(), SECRET_VALUE_ROTATED);
});

test('bob can neither see nor touch project p2 of another workspace', async () => {
  const p2 = { namespace: 'p2', workspace: 'ws2' };
  const refusals: Array<[string, string, AuditExpectation, unknown?]> = [
    // Kubernetes paths: list, get, watch, create, update, delete.
    ['GET', '/api/v1/namespaces/p2/pods', { verb: 'list', resource: 'pods', ...p2 }],
    ['GET', '/api/v1/namespaces/p2/pods?watch=true', { verb: 'watch', resource: 'pods', ...p2 }],
    ['GET', '/apis/apps/v1/namespaces/p2/deployments/db', deployments('get', 'p2', 'db', 'ws2')],
    ['GET', '/api/v1/namespaces/p2', { verb: 'get', resource: 'namespaces', name: 'p2', ...p2 }],
    // A refused create is recorded before its body is read: the record cannot name the object.
    ['POST', '/apis/apps/v1/namespaces/p2/deployments', deployments('create', 'p2', undefined, 'ws2'), deployment('intruder', 1)],
    ['PUT', '/apis/apps/v1/namespaces/p2/deployments/db', deployments('update', 'p2', 'db', 'ws2'), deployment('db', 5)],
    ['PATCH', '/apis/apps/v1/namespaces/p2/deployments/db', deployments('patch', 'p2', 'db', 'ws2'), { spec: { replicas: 0 } }],
    ['DELETE', '/apis/apps/v1/namespaces/p2/deployments/db', deployments('delete', 'p2', 'db', 'ws2')],
    ['DELETE', '/api/v1/namespaces/p2', { verb: 'delete', resource: 'namespaces', name: 'p2', ...p2 }],
    ['GET', '/clusters/host/apis/apps/v1/namespaces/p2/deployments', deployments('list', 'p2', undefined, 'ws2')],
    // The platform's APIs.
    [
      'GET',
      `${RESOURCES}/namespaces/p2/deployments`,
      { verb: 'list', resource: 'deployments', apiGroup: 'resources.kubesphere.io', ...p2 },
    ],
    [
      'GET',
      `${RESOURCES}/namespaces/p2/deployments/db`,
      { verb: 'get', resource: 'deployments', apiGroup: 'resources.kubesphere.io', name: 'db', ...p2 },
    ],
    ['GET', `${RESOURCES}/namespaces/p2/pods`, { verb: 'list', resource: 'pods', apiGroup: 'resources.kubesphere.io', ...p2 }],
    ['GET', `${RESOURCES}/deployments`, { verb: 'list', resource: 'deployments', apiGroup: 'resources.kubesphere.io' }],
    [
      'GET',
      `${TENANT}/workspaces/ws2/namespaces/p2`,
      { verb: 'get', resource: 'namespaces', apiGroup: 'tenant.kubesphere.io', name: 'p2', ...p2 },
    ],
    [
      'POST',
      `${TENANT}/workspaces/ws2/namespaces`,
      { verb: 'create', resource: 'namespaces', apiGroup: 'tenant.kubesphere.io', workspace: 'ws2' },
      { metadata: { name: 'p3' } },
    ],
    [
      'DELETE',
      `${TENANT}/workspaces/ws2/namespaces/p2`,
      { verb: 'delete', resource: 'namespaces', apiGroup: 'tenant.kubesphere.io', name: 'p2', ...p2 },
    ],
    [
      'POST',
      `${IAM}/namespaces/p2/namespacemembers`,
      { verb: 'create', resource: 'namespacemembers', apiGroup: 'iam.kubesphere.io', ...p2 },
      [{ username: 'bob', roleRef: 'admin' }],
    ],
    [
      'POST',
      `${IAM}/workspaces/ws2/workspacemembers`,
      { verb: 'create', resource: 'workspacemembers', apiGroup: 'iam.kubesphere.io', workspace: 'ws2' },
      [{ username: 'bob', roleRef: 'ws2-admin' }],
    ],
  ];
  for (const [method, uri, audit, body] of refusals) {
    const r = await bob.request(method, uri, {
      body,
      audit,
      contentType: method === 'PATCH' ? 'application/merge-patch+json' : undefined,
    });
    assert.equal(r.status, 403, `${method} ${uri} is refused to bob: ${r.text}`);
    assert.equal(r.body.kind, 'Status');
    assert.equal(r.body.reason, 'Forbidden');
    assert.doesNotMatch(r.text, /"db"|nginx/, 'a refusal says nothing about what is there');
  }
  // Lists across projects show him only his own (every signed-in user may list them, narrowed to
  // what the user may see); the Kubernetes namespace list is cluster scope, which he does not have.
  const projects = await bob.get(`${RESOURCES}/namespaces`);
  assert.equal(projects.status, 200, projects.text);
  assert.deepEqual(names(projects), ['p1']);
  assert.equal(projects.body.totalItems, 1);
  assert.deepEqual(names(await bob.get(`${TENANT}/namespaces`)), ['p1']);
  const ws2Projects = await bob.get(`${TENANT}/workspaces/ws2/namespaces`);
  assert.equal(ws2Projects.status, 200, ws2Projects.text);
  assert.deepEqual([names(ws2Projects), ws2Projects.body.totalItems], [[], 0]);
  assert.equal((await bob.get('/api/v1/namespaces', { verb: 'list', resource: 'namespaces' })).status, 403);
  const workspaces = await bob.get(`${TENANT}/workspaces`);
  assert.equal(workspaces.status, 200);
  assert.ok(!names(workspaces).includes('ws2'), `ws2 is not among bob's workspaces: ${names(workspaces)}`);
  // Nothing in p2 changed.
  const db = await admin.get('/apis/apps/v1/namespaces/p2/deployments/db');
  assert.equal(db.body.spec.replicas, 1);
  assert.deepEqual(names(await admin.get('/apis/apps/v1/namespaces/p2/deployments')), ['db']);
  assert.equal((await admin.get(`${TENANT}/workspaces/ws2/namespaces/p2`)).status, 200);
  // His kubeconfig gets no further.
  const viaKubectl = await bobKubectl(['get', 'deployments', '-n', 'p2']);
  assert.notEqual(viaKubectl.code, 0);
  assert.match(
    viaKubectl.stderr,
    /Forbidden.*User "bob" cannot list resource "deployments" in API group "apps" in the namespace "p2"/,
  );
  expectedRecords.push({
    user: 'bob',
    method: 'GET',
    uri: '/apis/apps/v1/namespaces/p2/deployments',
    code: 403,
    ...deployments('list', 'p2', undefined, 'ws2'),
  });
});

test('carol, viewer of ws1, lists but cannot create', async () => {
  const added = await alice.post(`${IAM}/workspaces/ws1/workspacemembers`, [{ username: 'carol', roleRef: 'ws1-viewer' }], {
    verb: 'create',
    resource: 'workspacemembers',
    apiGroup: 'iam.kubesphere.io',
    workspace: 'ws1',
  });
  assert.equal(added.status, 200, added.text);
  carol = await session('carol', PASSWORDS.carol);

  assert.deepEqual(names(await carol.get(`${TENANT}/workspaces/ws1/namespaces`)), ['p1']);
  assert.deepEqual(names(await carol.get('/apis/apps/v1/namespaces/p1/deployments')), ['web']);
  const pods = await carol.get(`${RESOURCES}/namespaces/p1/pods?labelSelector=app%3Dweb`);
  assert.equal(pods.status, 200, pods.text);
  assert.ok(pods.body.totalItems >= 1);
  assert.deepEqual(
    (await carol.get(`${IAM}/workspaces/ws1/workspacemembers`)).body.items.map((m: any) => m.metadata.name).sort(),
    ['alice', 'carol'],
  );

  const refused: Array<[string, string, AuditExpectation, unknown?]> = [
    ['POST', '/apis/apps/v1/namespaces/p1/deployments', deployments('create', 'p1', undefined, 'ws1'), deployment('carols', 1)],
    [
      'POST',
      '/api/v1/namespaces/p1/configmaps',
      { verb: 'create', resource: 'configmaps', namespace: 'p1', workspace: 'ws1' },
      { metadata: { name: 'notes' } },
    ],
    ['PATCH', '/apis/apps/v1/namespaces/p1/deployments/web', deployments('patch', 'p1', 'web', 'ws1'), { spec: { replicas: 3 } }],
    ['DELETE', '/apis/apps/v1/namespaces/p1/deployments/web', deployments('delete', 'p1', 'web', 'ws1')],
    [
      'POST',
      `${TENANT}/workspaces/ws1/namespaces`,
      { verb: 'create', resource: 'namespaces', apiGroup: 'tenant.kubesphere.io', workspace: 'ws1' },
      { metadata: { name: 'carols' } },
    ],
    [
      'POST',
      `${IAM}/namespaces/p1/namespacemembers`,
      { verb: 'create', resource: 'namespacemembers', apiGroup: 'iam.kubesphere.io', namespace: 'p1', workspace: 'ws1' },
      [{ username: 'carol', roleRef: 'admin' }],
    ],
  ];
  for (const [method, uri, audit, body] of refused) {
    const r = await carol.request(method, uri, {
      body,
      audit,
      contentType: method === 'PATCH' ? 'application/merge-patch+json' : undefined,
    });
    assert.equal(r.status, 403, `${method} ${uri} is refused to a viewer: ${r.text}`);
  }
  // KubeSphere's workspace-view-projects template reads every project resource, Secrets included.
  assert.deepEqual(names(await carol.get('/api/v1/namespaces/p1/secrets')), ['db-credentials']);
  assert.deepEqual(names(await bob.get('/apis/apps/v1/namespaces/p1/deployments')), ['web'], 'nothing was created');
});

test('removing bob from p1 revokes his access at once, his token and his kubeconfig included', async () => {
  // Before: his token and his kubeconfig work.
  assert.equal((await bob.get('/apis/apps/v1/namespaces/p1/deployments/web')).status, 200);
  assert.equal((await bobKubectl(['get', 'deployment', 'web', '-n', 'p1', '-o', 'name'])).code, 0);

  const removed = await alice.delete(`${IAM}/namespaces/p1/namespacemembers/bob`, {
    verb: 'delete',
    resource: 'namespacemembers',
    apiGroup: 'iam.kubesphere.io',
    namespace: 'p1',
    name: 'bob',
    workspace: 'ws1',
  });
  assert.equal(removed.status, 200, removed.text);
  assert.deepEqual(removed.body, { message: 'success' });

  // The very next requests are refused, without waiting for anything.
  const refusedGet = await bob.get('/apis/apps/v1/namespaces/p1/deployments/web', deployments('get', 'p1', 'web', 'ws1'));
  assert.equal(refusedGet.status, 403, refusedGet.text);
  const refusedDelete = await bob.delete(
    '/apis/apps/v1/namespaces/p1/deployments/web',
    deployments('delete', 'p1', 'web', 'ws1'),
  );
  assert.equal(refusedDelete.status, 403);
  const refusedResources = await bob.get(`${RESOURCES}/namespaces/p1/pods`, {
    verb: 'list',
    resource: 'pods',
    apiGroup: 'resources.kubesphere.io',
    namespace: 'p1',
    workspace: 'ws1',
  });
  assert.equal(refusedResources.status, 403);
  const refusedSecret = await bob.get('/api/v1/namespaces/p1/secrets/db-credentials', {
    verb: 'get',
    resource: 'secrets',
    namespace: 'p1',
    name: 'db-credentials',
    workspace: 'ws1',
  });
  assert.equal(refusedSecret.status, 403);
  assert.deepEqual(names(await bob.get(`${TENANT}/namespaces`)), [], 'p1 is no longer among his projects');

  const listed = await bobKubectl(['get', 'deployments', '-n', 'p1']);
  assert.notEqual(listed.code, 0);
  assert.match(
    listed.stderr,
    /Forbidden.*User "bob" cannot list resource "deployments" in API group "apps" in the namespace "p1"/,
  );
  expectedRecords.push({
    user: 'bob',
    method: 'GET',
    uri: '/apis/apps/v1/namespaces/p1/deployments',
    code: 403,
    ...deployments('list', 'p1', undefined, 'ws1'),
  });
  const deleted = await bobKubectl(['delete', 'deployment', 'web', '-n', 'p1']);
  assert.notEqual(deleted.code, 0);
  assert.match(deleted.stderr, /Forbidden.*cannot delete resource "deployments"/);
  expectedRecords.push({
    user: 'bob',
    method: 'DELETE',
    uri: '/apis/apps/v1/namespaces/p1/deployments/web',
    code: 403,
    ...deployments('delete', 'p1', 'web', 'ws1'),
  });
  const secret = await bobKubectl(['get', 'secret', 'db-credentials', '-n', 'p1']);
  assert.match(secret.stderr, /Forbidden/);
  expectedRecords.push({
    user: 'bob',
    method: 'GET',
    uri: '/api/v1/namespaces/p1/secrets/db-credentials',
    code: 403,
    verb: 'get',
    resource: 'secrets',
    namespace: 'p1',
    name: 'db-credentials',
    workspace: 'ws1',
  });

  // The Deployment is untouched and alice still manages it.
  const web = await alice.get('/apis/apps/v1/namespaces/p1/deployments/web');
  assert.equal(web.status, 200);
  assert.equal(web.body.spec.replicas, 1, "bob's own scale-down stands");
});

test('the audit log holds every mutating request and every refusal of the scenario, and no secret', async () => {
  const query = await admin.get(`${AUDITING}?size=10000&sort=asc`);
  assert.equal(query.status, 200, query.text);
  const records: any[] = query.body.query.records;
  assert.equal(query.body.query.total, records.length, 'one page holds them all');

  const pathOf = (uri: string) => uri.split('?')[0].replace(/^\/clusters\/host(?=\/)/, '');
  const unused = new Set(records);
  const missing: string[] = [];
  for (const e of expectedRecords) {
    const found = [...unused].find(
      (r) =>
        r.user?.username === e.user &&
        r.verb === e.verb &&
        pathOf(r.requestURI) === pathOf(e.uri) &&
        r.responseStatus?.code === e.code &&
        (r.objectRef?.resource ?? '') === e.resource &&
        (r.objectRef?.namespace ?? '') === (e.namespace ?? '') &&
        (r.objectRef?.name ?? '') === (e.name ?? '') &&
        (r.objectRef?.subresource ?? '') === (e.subresource ?? '') &&
        (r.objectRef?.apiGroup ?? '') === (e.apiGroup ?? '') &&
        (e.workspace === undefined || r.Workspace === e.workspace),
    );
    if (!found) {
      const near = [...unused].filter((r) => r.user?.username === e.user && pathOf(r.requestURI) === pathOf(e.uri));
      missing.push(
        `${e.user} ${e.method} ${e.uri} → ${e.code} ${JSON.stringify({ verb: e.verb, resource: e.resource, apiGroup: e.apiGroup, namespace: e.namespace, name: e.name, subresource: e.subresource, workspace: e.workspace })}\n    records of that request: ${JSON.stringify(near.map((r) => ({ verb: r.verb, code: r.responseStatus?.code, objectRef: r.objectRef, Workspace: r.Workspace })))}`,
      );
      continue;
    }
    unused.delete(found);
    // The record says what happened in KubeSphere's shape.
    assert.equal(found.Cluster, 'host');
    assert.equal(found.stage, 'ResponseComplete');
    assert.ok(found.sourceIPs?.[0], 'the source address is recorded');
    if (e.code >= 400) assert.equal(found.responseStatus.status, 'Failure');
  }
  assert.deepEqual(missing, [], `${missing.length} of ${expectedRecords.length} requests have no audit record`);
  assert.ok(expectedRecords.length > 40, `the scenario wrote down ${expectedRecords.length} requests`);
  // And nothing else: each request is recorded once, and nobody did what the scenario did not.
  assert.deepEqual(
    [...unused].map((r) => `${r.user.username} ${r.verb} ${r.requestURI} → ${r.responseStatus.code}`),
    [],
    'records of requests the scenario did not make',
  );

  // A query narrowed the way the console narrows it: bob's refusals in ws2.
  const bobs = await admin.get(`${AUDITING}?size=1000&user_filter=bob&workspace_filter=ws2&response_status_filter=Failure`);
  const wantBobs = expectedRecords.filter((e) => e.user === 'bob' && e.workspace === 'ws2' && e.code >= 400).length;
  assert.equal(bobs.body.query.total, wantBobs);

  // No secret the scenario used appears in any record, nor in anything the server printed.
  const dump = JSON.stringify(records);
  const output = server!.output();
  for (const [what, value] of secretValues) {
    assert.ok(!dump.includes(value), `${what} appears in the audit log`);
    const printedTimes = output.split(value).length - 1;
    assert.equal(
      printedTimes,
      what === 'the printed admin password' ? 1 : 0,
      `${what} appears in the server's output ${printedTimes} time(s)`,
    );
  }
  // The password-carrying requests are there, without their passwords.
  const passwordChange = records.find((r) => r.requestURI === `${IAM}/users/admin/password` && r.responseStatus.code === 200);
  assert.ok(passwordChange, 'the password change is audited');
  if (passwordChange.requestObject) assert.equal(passwordChange.requestObject.password, '[redacted]');
  const secretCreate = records.find(
    (r) => r.verb === 'create' && r.objectRef?.resource === 'secrets' && r.objectRef?.name === 'db-credentials',
  );
  assert.ok(secretCreate?.requestObject?.stringData, 'the Secret creation is recorded with its keys');
  assert.equal(secretCreate.requestObject.stringData.password, '[redacted]');

  // Sign-ins are not in the audit log (their bodies carry passwords): they are LoginRecords.
  for (const user of ['admin', 'alice', 'bob', 'carol']) {
    const logins = await admin.get(`${IAM}/users/${user}/loginrecords`);
    assert.equal(logins.status, 200, logins.text);
    assert.ok(
      logins.body.items.some((l: any) => l.spec.success === true && l.spec.type === 'Token'),
      `${user}'s sign-in is recorded: ${JSON.stringify(logins.body.items.map((l: any) => l.spec))}`,
    );
  }
});
