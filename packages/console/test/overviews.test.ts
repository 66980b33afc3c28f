/**
 * Overviews and usage in the browser against `canopy server` (3 simulated nodes, metrics.k8s.io
 * served from their simulated usage): the cluster overview's node health, pods by phase, CPU and
 * memory — allocatable and requests checked against sums this test makes itself from /api/v1,
 * usage against the NodeMetrics the page was answered (they move, so the page's own answers are
 * the reference) — in English and 中文; the node list's usage columns and a node's usage tab; a
 * project's pod usage and requests against its ResourceQuota; a workspace's projects. Then
 * cluster-scope membership: admin invites a user as a cluster viewer on the cluster's members
 * page, and that user sees the cluster's nodes. A project member whose role reads pods but not
 * metrics.k8s.io sees "usage unavailable" on the project overview, not an error.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page, Response } from 'playwright-core';
import { parseQuantity } from '@canopy/apimachinery';
import en from '../src/i18n/en.js';
import zh from '../src/i18n/zh.js';
import { apiClient, type ApiClient } from '../../cli/test/support/http.js';
import {
  dependentSteps,
  firstSignIn,
  launchBrowser,
  newContext,
  platformRequest,
  screenshot,
  startConsoleServer,
  tokenFor,
  watchPage,
  type ConsoleServer,
} from './browser.js';

const ADMIN_PASSWORD = 'Canopy-Overview-1';
const USER_PASSWORD = 'Canopy-Member-12';
const WORKSPACE = 'ws-usage';
const PROJECT = 'shop';
const IAM = '/kapis/iam.kubesphere.io/v1beta1';

let env: ConsoleServer;
let kube: ApiClient;
let browser: Browser;

const number = (q: unknown): number => (typeof q === 'string' ? parseQuantity(q).asApproximateNumber() : 0);

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function kubeCreate(path: string, body: unknown): Promise<any> {
  const r = await kube.request('POST', path, { body });
  if (r.status !== 201 && r.status !== 200) throw new Error(`POST ${path} answered ${r.status}: ${r.text}`);
  return r.json();
}

async function kubeGet(path: string): Promise<any> {
  const r = await kube.request('GET', path);
  if (r.status !== 200) throw new Error(`GET ${path} answered ${r.status}: ${r.text}`);
  return r.json();
}

const BYTES: Record<string, number> = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

/** "1.2 / 12 cores (10%)", "1.2 / 12 核", "3.4 GiB / 48 GiB (7%)" → [used, total] in cores or bytes. */
function parseShare(text: string): [number, number] {
  const cores = /([\d.]+) \/ ([\d.]+) (?:cores?|核)/.exec(text);
  if (cores) return [Number(cores[1]), Number(cores[2])];
  const bytes = /([\d.]+) (B|KiB|MiB|GiB|TiB) \/ ([\d.]+) (B|KiB|MiB|GiB|TiB)/.exec(text);
  if (bytes) return [Number(bytes[1]) * BYTES[bytes[2]], Number(bytes[3]) * BYTES[bytes[4]]];
  throw new Error(`no share in "${text}"`);
}

/** "12 cores" or "47.8 GiB" → cores or bytes. */
function parseAmount(text: string): number {
  const cores = /([\d.]+) (?:cores?|核)/.exec(text);
  if (cores) return Number(cores[1]);
  const bytes = /([\d.]+) (B|KiB|MiB|GiB|TiB)/.exec(text);
  if (bytes) return Number(bytes[1]) * BYTES[bytes[2]];
  throw new Error(`no amount in "${text}"`);
}

/** Shown with three significant digits: equal within that rounding (and a tiny absolute slack for zero). */
const close = (shown: number, actual: number) => Math.abs(shown - actual) <= Math.max(Math.abs(actual) * 0.006, 0.0011);

/** The latest answers the page got from a URL (metrics are polled; the page shows the latest). */
function latestResponses(page: Page, matches: (url: string) => boolean) {
  const latest: { body?: any; count: number } = { count: 0 };
  page.on('response', (r: Response) => {
    if (!matches(r.url()) || r.status() !== 200) return;
    void r
      .json()
      .then((body) => {
        latest.body = body;
        latest.count++;
      })
      .catch(() => undefined);
  });
  return latest;
}

async function createUser(admin: string, name: string): Promise<void> {
  const created = await platformRequest(env.url, admin, 'POST', `${IAM}/users`, {
    apiVersion: 'iam.kubesphere.io/v1beta1',
    kind: 'User',
    metadata: { name, annotations: { 'iam.kubesphere.io/globalrole': 'platform-regular' } },
    spec: { email: `${name}@example.com`, password: USER_PASSWORD },
  });
  assert.ok(created.status < 300, JSON.stringify(created.json));
}

before(async () => {
  [env, browser] = await Promise.all([startConsoleServer(), launchBrowser()]);
  kube = apiClient(env.server.kubeconfig);
  await kubeCreate('/apis/tenant.kubesphere.io/v1beta1/workspacetemplates', {
    apiVersion: 'tenant.kubesphere.io/v1beta1',
    kind: 'WorkspaceTemplate',
    metadata: { name: WORKSPACE },
    spec: { template: { spec: { manager: 'admin' } }, placement: { clusters: [{ name: 'host' }] } },
  });
  await kubeCreate('/api/v1/namespaces', { metadata: { name: PROJECT, labels: { 'kubesphere.io/workspace': WORKSPACE } } });
  await kubeCreate(`/api/v1/namespaces/${PROJECT}/resourcequotas`, {
    metadata: { name: 'shop-quota' },
    spec: { hard: { 'limits.cpu': '2', 'limits.memory': '4Gi', 'requests.cpu': '1', pods: '10' } },
  });
  await until('the default service account of the project', async () =>
    (await kube.request('GET', `/api/v1/namespaces/${PROJECT}/serviceaccounts/default`)).status === 200 ? true : undefined,
  );
  await kubeCreate(`/apis/apps/v1/namespaces/${PROJECT}/deployments`, {
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx:1.27',
              resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
            },
          ],
        },
      },
    },
  });
  // A project role that reads pods, their quota and the project, and nothing of metrics.k8s.io.
  // (Every signed-in user may read nodes in any group — KubeSphere's `authenticated` role — so
  // NodeMetrics are open to all; PodMetrics follow the project's roles.)
  await kubeCreate(`/apis/iam.kubesphere.io/v1beta1/namespaces/${PROJECT}/roles`, {
    apiVersion: 'iam.kubesphere.io/v1beta1',
    kind: 'Role',
    metadata: { name: 'pod-reader', namespace: PROJECT },
    rules: [{ apiGroups: [''], resources: ['pods', 'resourcequotas', 'namespaces'], verbs: ['get', 'list', 'watch'] }],
  });
});

after(async () => {
  await browser?.close();
  kube?.close();
  await env?.server.stop();
});

test('usage at cluster, node and project level; cluster members; usage unavailable without metrics access', async (t) => {
  const context = await newContext(browser);
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = watchPage(page);
  const url = env.url;
  const nodeMetrics = latestResponses(page, (u) => new URL(u).pathname === '/apis/metrics.k8s.io/v1beta1/nodes');
  const podMetrics = latestResponses(
    page,
    (u) => new URL(u).pathname === `/apis/metrics.k8s.io/v1beta1/namespaces/${PROJECT}/pods`,
  );
  const step = dependentSteps(t, page, 'failed-overviews');
  const shownShare = async (testId: string) => parseShare((await page.getByTestId(testId).textContent()) ?? '');

  await step('admin signs in (changing the generated password)', async () => {
    await firstSignIn(page, env, ADMIN_PASSWORD, en);
  });

  await step('the cluster overview: node health, pods by phase, allocatable and requests as the API sums them', async () => {
    await page.goto(`${url}/clusters/host/overview`);
    const nodes = (await kubeGet('/api/v1/nodes')).items as any[];
    assert.equal(nodes.length, 3, 'canopy server starts 3 simulated nodes');
    const ready = nodes.filter((n) => n.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True')).length;
    await page
      .getByTestId('nodes-ready')
      .filter({ hasText: new RegExp(`^${ready}$`) })
      .waitFor();
    await page
      .getByTestId('nodes-not-ready')
      .filter({ hasText: new RegExp(`^${nodes.length - ready}$`) })
      .waitFor();
    const allocatable = {
      cpu: nodes.reduce((s, n) => s + number(n.status.allocatable.cpu), 0),
      memory: nodes.reduce((s, n) => s + number(n.status.allocatable.memory), 0),
    };
    const capacity = nodes.reduce((s, n) => s + number(n.status.capacity.cpu), 0);
    assert.ok(close(parseAmount((await page.getByTestId('cluster-cpu-allocatable').textContent())!), allocatable.cpu));
    assert.ok(close(parseAmount((await page.getByTestId('cluster-memory-allocatable').textContent())!), allocatable.memory));
    assert.ok(close(parseAmount((await page.getByTestId('cluster-cpu-capacity').textContent())!), capacity));
    // Requests of scheduled pods that have not finished, summed here from the pods themselves.
    await until('requests and pod phases as the API has them', async () => {
      const pods = ((await kubeGet('/api/v1/pods')).items as any[]) ?? [];
      const holding = pods.filter((p) => p.spec.nodeName && !['Succeeded', 'Failed'].includes(p.status?.phase));
      const sum = (r: 'cpu' | 'memory') =>
        holding.reduce(
          (s, p) => s + p.spec.containers.reduce((c: number, x: any) => c + number(x.resources?.requests?.[r]), 0),
          0,
        );
      const [cpuRequested, cpuWhole] = await shownShare('cluster-cpu-requests');
      const [memoryRequested, memoryWhole] = await shownShare('cluster-memory-requests');
      const running = pods.filter((p) => p.status?.phase === 'Running').length;
      return (
        sum('cpu') >= 0.2 &&
        close(cpuRequested, sum('cpu')) &&
        close(cpuWhole, allocatable.cpu) &&
        close(memoryRequested, sum('memory')) &&
        close(memoryWhole, allocatable.memory) &&
        (await page.getByTestId('pods-running').textContent()) === String(running) &&
        running >= 2
      );
    });
  });

  await step('usage is what NodeMetrics answered, read again as it moves', async () => {
    const usageMatches = async () => {
      const items = (nodeMetrics.body?.items ?? []) as any[];
      if (items.length !== 3) return false;
      const [cpu] = await shownShare('cluster-cpu-usage');
      const [memory] = await shownShare('cluster-memory-usage');
      const sum = (r: 'cpu' | 'memory') => items.reduce((s, m) => s + number(m.usage[r]), 0);
      return close(cpu, sum('cpu')) && close(memory, sum('memory')) && memory > 0;
    };
    await until('usage as NodeMetrics answered', usageMatches);
    await page.getByTestId('usage-source').waitFor();
    assert.equal(await page.getByTestId('usage-unavailable').count(), 0);
    await screenshot(page, 'overview-cluster-en');
    // Metrics are not watchable: the page reads them again (every 15 s) and shows the new answer.
    const seen = nodeMetrics.count;
    await until('the next NodeMetrics read', async () => nodeMetrics.count > seen, 20_000);
    await until('usage as the new answer has it', usageMatches);
  });

  await step('the cluster overview in 中文', async () => {
    await page.getByTestId('language-toggle').first().click();
    await page.getByRole('menuitem', { name: '中文' }).click();
    await page.getByRole('heading', { name: zh.usage.resources }).waitFor();
    await page.getByTestId('cluster-cpu-usage').filter({ hasText: '核' }).waitFor();
    await page.getByText(zh.usage.nodesReady, { exact: true }).waitFor();
    await screenshot(page, 'overview-cluster-zh');
    await page.getByTestId('language-toggle').first().click();
    await page.getByRole('menuitem', { name: 'English' }).click();
    await page.getByRole('heading', { name: en.usage.resources }).waitFor();
  });

  await step('the node list shows CPU and memory usage as a share of allocatable', async () => {
    await page.goto(`${url}/clusters/host/nodes`);
    const table = page.getByRole('grid', { name: /Nodes/ }).or(page.getByRole('table', { name: /Nodes/ }));
    await table.waitFor();
    const headers = (await table.getByRole('columnheader').allTextContents()).map((h) => h.trim());
    const cpuColumn = headers.indexOf(en.usage.cpuColumn);
    const memoryColumn = headers.indexOf(en.usage.memoryColumn);
    assert.ok(cpuColumn > 0 && memoryColumn > 0, `usage columns in ${JSON.stringify(headers)}`);
    const nodes = (await kubeGet('/api/v1/nodes')).items as any[];
    await until('usage cells as NodeMetrics and allocatable have them', async () => {
      const metrics = new Map(((nodeMetrics.body?.items ?? []) as any[]).map((m) => [m.metadata.name, m]));
      for (const node of nodes) {
        const m = metrics.get(node.metadata.name);
        if (!m) return false;
        const row = table.getByRole('row').filter({ has: page.getByRole('link', { name: node.metadata.name, exact: true }) });
        const cells = await row.locator('td').allTextContents();
        for (const [column, resource] of [
          [cpuColumn, 'cpu'],
          [memoryColumn, 'memory'],
        ] as const) {
          const expected = Math.round((number(m.usage[resource]) / number(node.status.allocatable[resource])) * 100);
          if (cells[column]?.trim() !== `${expected}%`) return false;
        }
      }
      return true;
    });
    await screenshot(page, 'overview-nodes');
  });

  await step('a node’s usage tab: allocatable, requests, usage and its pods', async () => {
    const pods = ((await kubeGet(`/api/v1/namespaces/${PROJECT}/pods`)).items as any[]).filter((p) => p.spec.nodeName);
    const node = (await kubeGet(`/api/v1/nodes/${pods[0].spec.nodeName}`)) as any;
    await page.goto(`${url}/clusters/host/nodes/${node.metadata.name}?tab=usage`);
    const tab = page.getByTestId('node-usage');
    assert.ok(
      close(parseAmount((await tab.getByTestId('node-cpu-allocatable').textContent())!), number(node.status.allocatable.cpu)),
    );
    await tab.getByTestId('node-cpu-usage').waitFor();
    const onNode = (await kubeGet(`/api/v1/pods?fieldSelector=spec.nodeName=${node.metadata.name}`)).items as any[];
    for (const p of onNode)
      await tab.getByTestId('node-pods').getByRole('link', { name: p.metadata.name, exact: true }).waitFor();
    const [requested] = await shownShare('node-cpu-requests');
    const expected = onNode
      .filter((p) => !['Succeeded', 'Failed'].includes(p.status?.phase))
      .reduce((s, p) => s + p.spec.containers.reduce((c: number, x: any) => c + number(x.resources?.requests?.cpu), 0), 0);
    assert.ok(close(requested, expected), `${requested} cores requested on the node, the API says ${expected}`);
    await screenshot(page, 'overview-node-usage');
  });

  await step('a project overview: its pods’ usage and requests against its ResourceQuota', async () => {
    await page.goto(`${url}/workspaces/${WORKSPACE}/clusters/host/projects/${PROJECT}/overview`);
    await until('the project’s usage as its PodMetrics answered', async () => {
      const items = (podMetrics.body?.items ?? []) as any[];
      if (items.length !== 2) return false;
      const used = items.reduce((s, m) => s + m.containers.reduce((c: number, x: any) => c + number(x.usage.cpu), 0), 0);
      const [cpu, quota] = await shownShare('project-cpu-usage');
      return close(cpu, used) && quota === 2;
    });
    const [requested, requestQuota] = await shownShare('project-cpu-requests');
    assert.deepEqual([requested, requestQuota], [0.2, 1]);
    // Memory usage against limits.memory; no quota on memory requests, so they are a figure.
    assert.equal((await shownShare('project-memory-usage'))[1], 4 * 2 ** 30);
    assert.equal((await page.getByTestId('project-memory-requests').textContent())?.trim(), '128 MiB');
    await page.getByTestId('pods-running').filter({ hasText: /^2$/ }).waitFor();
    const quota = page.getByTestId('project-quota');
    await quota.getByText('requests.cpu').waitFor();
    await quota.getByText(/^0\.2 \/ 1 core \(20%\)$/).waitFor();
    await quota.getByText('2 / 10').waitFor();
    await screenshot(page, 'overview-project');
  });

  const admin = await tokenFor(url, 'admin', ADMIN_PASSWORD);
  await Promise.all([createUser(admin, 'ops'), createUser(admin, 'nometrics')]);

  await step('a workspace overview: its quota and its projects with their pods', async () => {
    const quota = await platformRequest(
      url,
      admin,
      'POST',
      `/kapis/tenant.kubesphere.io/v1beta1/workspaces/${WORKSPACE}/resourcequotas`,
      {
        metadata: { name: WORKSPACE },
        spec: { quota: { hard: { pods: '20', 'limits.cpu': '4' } } },
      },
    );
    assert.ok(quota.status < 300, JSON.stringify(quota.json));
    // Its use is the sum over the workspace's projects, which the platform's controller writes.
    await until('the workspace quota’s use', async () => {
      const r = await platformRequest(
        url,
        admin,
        'GET',
        `/kapis/tenant.kubesphere.io/v1beta1/workspaces/${WORKSPACE}/resourcequotas/${WORKSPACE}`,
      );
      return r.json?.status?.total?.used?.pods === '2';
    });
    await page.goto(`${url}/workspaces/${WORKSPACE}/overview`);
    const row = page.getByTestId('workspace-projects').getByRole('row').filter({ hasText: PROJECT });
    await until('the project row with its running and total pods', async () => {
      const cells = (await row.locator('td').allTextContents()).map((c) => c.trim());
      return JSON.stringify(cells) === JSON.stringify([PROJECT, en.status.Active, '2', '2']);
    });
    const bars = page.getByTestId('workspace-quota');
    await bars.getByText('limits.cpu').waitFor();
    await bars.getByText(/^2 \/ 20 \(10%\)$/).waitFor();
    await bars.getByText(/^0\.4 \/ 4 cores \(10%\)$/).waitFor();
    await screenshot(page, 'overview-workspace');
  });

  await step('admin invites a user as a cluster viewer on the cluster’s members page', async () => {
    await page.goto(`${url}/clusters/host/overview`);
    const navigation = page.getByRole('navigation', { name: en.shell.navigation });
    await navigation.getByRole('link', { name: en.nav.members }).click();
    await page.getByTestId('page-title').filter({ hasText: en.kinds.members }).waitFor();
    await page.getByTestId('create').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(new RegExp(`^${en.signIn.username}`)).fill('ops');
    await dialog.getByLabel(new RegExp(`^${en.columns.role}`)).selectOption('cluster-viewer');
    await dialog.getByRole('button', { name: en.members.invite, exact: true }).click();
    await page.getByRole('row', { name: /ops.*cluster-viewer/ }).waitFor();
    await screenshot(page, 'overview-cluster-members');
    const members = await platformRequest(url, admin, 'GET', `${IAM}/clustermembers`);
    assert.ok(
      members.json.items.some(
        (m: any) => m.metadata.name === 'ops' && m.metadata.annotations?.['iam.kubesphere.io/clusterrole'] === 'cluster-viewer',
      ),
      JSON.stringify(members.json.items.map((m: any) => m.metadata.name)),
    );
  });

  await step('the cluster member sees the cluster’s nodes', async () => {
    const member = await newContext(browser);
    t.after(() => member.close());
    const memberPage = await member.newPage();
    memberPage.setDefaultTimeout(15_000);
    const memberProblems = watchPage(memberPage);
    await memberPage.goto(`${url}/login`);
    await memberPage.locator('#username').fill('ops');
    await memberPage.locator('#password').fill(USER_PASSWORD);
    await memberPage.getByRole('button', { name: en.signIn.submit, exact: true }).click();
    await memberPage.getByTestId('page-title').filter({ hasText: 'ops' }).waitFor();
    await memberPage.goto(`${url}/clusters/host/nodes`);
    for (const node of (await kubeGet('/api/v1/nodes')).items as any[])
      await memberPage.getByRole('link', { name: node.metadata.name, exact: true }).waitFor();
    assert.equal(await memberPage.getByTestId('forbidden').count(), 0);
    await screenshot(memberPage, 'overview-cluster-member-nodes');
    assert.deepEqual(memberProblems.errors, []);
  });

  await step('without access to metrics.k8s.io a project overview says usage is unavailable', async () => {
    const invited = await platformRequest(url, admin, 'POST', `${IAM}/namespaces/${PROJECT}/namespacemembers`, [
      { username: 'nometrics', roleRef: 'pod-reader' },
    ]);
    assert.ok(invited.status < 300, JSON.stringify(invited.json));
    const token = await tokenFor(url, 'nometrics', USER_PASSWORD);
    assert.equal(
      (await platformRequest(url, token, 'GET', `/apis/metrics.k8s.io/v1beta1/namespaces/${PROJECT}/pods`)).status,
      403,
    );
    assert.equal((await platformRequest(url, token, 'GET', `/api/v1/namespaces/${PROJECT}/pods`)).status, 200);
    const other = await newContext(browser);
    t.after(() => other.close());
    const otherPage = await other.newPage();
    otherPage.setDefaultTimeout(15_000);
    const otherProblems = watchPage(otherPage);
    await otherPage.goto(`${url}/login`);
    await otherPage.locator('#username').fill('nometrics');
    await otherPage.locator('#password').fill(USER_PASSWORD);
    await otherPage.getByRole('button', { name: en.signIn.submit, exact: true }).click();
    await otherPage.getByTestId('page-title').filter({ hasText: 'nometrics' }).waitFor();
    await otherPage.goto(`${url}/clusters/host/projects/${PROJECT}/overview`);
    const unavailable = otherPage.getByTestId('usage-unavailable');
    await unavailable.getByText(en.usage.unavailable).waitFor();
    await unavailable.getByText(en.usage.forbidden).waitFor();
    // The rest still works: pods by phase and their requests against the quota, from what this user may read.
    await otherPage.getByTestId('pods-running').filter({ hasText: /^2$/ }).waitFor();
    await otherPage
      .getByTestId('project-cpu-requests')
      .filter({ hasText: /0\.2 \/ 1 core \(20%\)/ })
      .waitFor();
    await otherPage.getByTestId('project-quota').getByText('requests.cpu').waitFor();
    assert.equal(await otherPage.getByTestId('project-cpu-usage').count(), 0);
    assert.equal(await otherPage.getByTestId('error-state').count(), 0);
    assert.equal(await otherPage.getByRole('progressbar', { name: en.states.loading }).count(), 0);
    await screenshot(otherPage, 'overview-usage-unavailable');
    assert.deepEqual(otherProblems.errors, []);
  });

  assert.deepEqual(problems.errors, []);
});
