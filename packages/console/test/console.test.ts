/**
 * The console in a real browser against `canopy server`, as a new user finds it: the first
 * sign-in with the forced password change, the language switch to 中文 and back, the four levels
 * of navigation, the generic list, detail and YAML pages of a built-in kind and of a CRD, live
 * updates through watches, and what a user without rights sees. A screenshot of each main page
 * goes to test-output/screenshots/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { apiClient, type ApiClient } from '../../cli/test/support/http.js';
import {
  launchBrowser,
  newContext,
  platformRequest,
  screenshot,
  startConsoleServer,
  tokenFor,
  watchPage,
  type ConsoleServer,
} from './browser.js';

const NEW_PASSWORD = 'Canopy-Console-1';
let env: ConsoleServer;
let kube: ApiClient;
let browser: Browser;

async function kubeCreate(path: string, body: unknown): Promise<any> {
  const r = await kube.request('POST', path, { body });
  if (r.status !== 201 && r.status !== 200) throw new Error(`POST ${path} answered ${r.status}: ${r.text}`);
  return r.json();
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

before(async () => {
  [env, browser] = await Promise.all([startConsoleServer(), launchBrowser()]);
  kube = apiClient(env.server.kubeconfig);
  await kubeCreate('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
            },
          },
          additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
        },
      ],
    },
  });
  await kubeCreate('/apis/tenant.kubesphere.io/v1beta1/workspacetemplates', {
    apiVersion: 'tenant.kubesphere.io/v1beta1',
    kind: 'WorkspaceTemplate',
    metadata: { name: 'ws1', annotations: { 'kubesphere.io/description': 'the first workspace' } },
    spec: { template: { spec: { manager: 'admin' } }, placement: { clusters: [{ name: 'host' }] } },
  });
  await kubeCreate('/api/v1/namespaces', { metadata: { name: 'demo', labels: { 'kubesphere.io/workspace': 'ws1' } } });
  await kubeCreate('/api/v1/namespaces/demo/configmaps', {
    metadata: { name: 'app-config', labels: { app: 'demo' } },
    data: { greeting: 'hello' },
  });
  await until(
    'the Widget CRD to be served',
    async () => (await kube.request('GET', '/apis/example.com/v1/widgets')).status === 200,
  );
  await kubeCreate('/apis/example.com/v1/namespaces/demo/widgets', {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w1' },
    spec: { size: 3 },
  });
});

after(async () => {
  await browser?.close();
  kube?.close();
  await env?.server.stop();
});

/** Waits until the page's heading says `expected` (pages change after a click, not at once). */
async function expectTitle(page: Page, expected: string): Promise<void> {
  const heading = page.getByTestId('page-title');
  try {
    await heading
      .filter({ hasText: new RegExp(`^${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) })
      .waitFor({ timeout: 10_000 });
  } catch {
    assert.equal(
      await heading
        .first()
        .textContent()
        .catch(() => '(no heading)'),
      expected,
    );
  }
}

async function chooseLanguage(page: Page, label: 'English' | '中文'): Promise<void> {
  await page.getByTestId('language-toggle').first().click();
  await page.getByRole('menuitem', { name: label }).click();
}

test('the console in the browser: first sign-in, languages, four levels, generic pages of built-in kinds and CRDs', async (t) => {
  const context = await newContext(browser);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems = watchPage(page);
  const url = env.url;

  await t.test('an anonymous visit lands on sign-in; the language switches before signing in', async () => {
    await page.goto(`${url}/clusters/host/overview`);
    await page.waitForURL(/\/login\?from=/);
    await page.getByRole('heading', { name: 'Sign in to Canopy' }).waitFor();
    await chooseLanguage(page, '中文');
    await page.getByRole('heading', { name: '登录 Canopy' }).waitFor();
    assert.equal(await page.evaluate('document.documentElement.lang'), 'zh-CN');
    await chooseLanguage(page, 'English');
    await page.getByRole('heading', { name: 'Sign in to Canopy' }).waitFor();
    await screenshot(page, '01-sign-in');
  });

  await t.test('a wrong password is refused with the server’s words', async () => {
    await page.locator('#username').fill('admin');
    await page.locator('#password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('sign-in-error').getByText('Invalid username or password.').waitFor();
  });

  await t.test('the first sign-in of admin must change the generated password, then goes where the visit wanted', async () => {
    await page.locator('#password').fill(env.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Set a new password' }).waitFor();
    await screenshot(page, '02-forced-password-change');
    await page.locator('#new-password').fill(NEW_PASSWORD);
    await page.locator('#confirm-password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL(`${url}/clusters/host/overview`);
    await expectTitle(page, 'Cluster: host');
    // The old password no longer signs in; the new one does.
    await assert.rejects(tokenFor(url, 'admin', env.adminPassword), /400/);
    await tokenFor(url, 'admin', NEW_PASSWORD);
  });

  await t.test('cluster level: overview counts, nodes, a generic list of a built-in kind', async () => {
    const nodes = page.getByRole('link', { name: 'Nodes', exact: true }).first();
    await page.getByLabel(/^Nodes: [1-9]/).waitFor();
    await screenshot(page, '03-cluster-overview');
    await nodes.click();
    await expectTitle(page, 'Nodes');
    await page
      .getByRole('grid', { name: 'Nodes' })
      .or(page.getByRole('table', { name: 'Nodes' }))
      .waitFor();
    await page.getByTestId('live').waitFor();
    await screenshot(page, '04-cluster-nodes');
    await page.getByRole('navigation', { name: 'Navigation' }).getByRole('link', { name: 'ConfigMaps' }).click();
    await page.getByRole('link', { name: 'app-config' }).waitFor();
    // The name filter goes to the resources API: a name that matches nothing empties the list.
    await page.getByRole('textbox', { name: /Filter ConfigMaps by name/ }).fill('no-such-name');
    await page.getByTestId('empty-list').waitFor();
    await page.getByRole('textbox', { name: /Filter ConfigMaps by name/ }).fill('app-');
    await page.getByRole('link', { name: 'app-config' }).waitFor();
    assert.match(page.url(), /name=app-/);
  });

  await t.test('platform level: clusters, workspaces, users and platform roles', async () => {
    await page.getByRole('link', { name: 'Access control' }).click();
    await expectTitle(page, 'Workspaces');
    await page.getByRole('link', { name: 'ws1' }).waitFor();
    await screenshot(page, '05-platform-workspaces');
    await page.getByRole('navigation', { name: 'Navigation' }).getByRole('link', { name: 'Users' }).click();
    await page.getByRole('link', { name: 'admin' }).waitFor();
    await screenshot(page, '06-platform-users');
    await page.getByRole('navigation', { name: 'Navigation' }).getByRole('link', { name: 'Platform roles' }).click();
    await page.getByRole('link', { name: 'platform-admin' }).waitFor();
    await page.getByRole('navigation', { name: 'Navigation' }).getByRole('link', { name: 'Clusters' }).click();
    await page.getByRole('link', { name: 'host' }).waitFor();
    await screenshot(page, '07-platform-clusters');
  });

  await t.test('workspace level: overview and its projects', async () => {
    await page.goto(`${url}/access/workspaces`);
    await page.getByRole('link', { name: 'ws1' }).click();
    await expectTitle(page, 'Workspace: ws1');
    await page.getByText('the first workspace').waitFor();
    await screenshot(page, '08-workspace-overview');
    await page.getByRole('navigation', { name: 'Navigation' }).getByRole('link', { name: 'Projects' }).click();
    await page.getByRole('link', { name: 'demo' }).click();
    await expectTitle(page, 'Project: demo');
    assert.match(page.url(), /\/workspaces\/ws1\/clusters\/host\/projects\/demo\/overview$/);
    await screenshot(page, '09-project-overview');
  });

  await t.test('project level: a built-in kind’s list follows changes live, its detail and YAML', async () => {
    await page.getByRole('navigation', { name: 'Navigation' }).getByRole('link', { name: 'ConfigMaps' }).click();
    await page.getByRole('link', { name: 'app-config' }).waitFor();
    await page.getByTestId('live').waitFor();
    // Created behind the page's back: the watch brings it in without a reload.
    await kubeCreate('/api/v1/namespaces/demo/configmaps', { metadata: { name: 'created-later' }, data: { a: '1' } });
    await page.getByRole('link', { name: 'created-later' }).waitFor({ timeout: 10_000 });
    await screenshot(page, '10-project-configmaps');
    // An administrator has the row actions; deleting asks first, and the row leaves.
    await page.getByRole('button', { name: 'Actions on created-later' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByText('created-later will be deleted').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('link', { name: 'created-later' }).waitFor({ state: 'detached' });
    assert.equal((await kube.request('GET', '/api/v1/namespaces/demo/configmaps/created-later')).status, 404);
    await page.getByRole('link', { name: 'app-config' }).click();
    await expectTitle(page, 'app-config');
    await page.getByText('app=demo').waitFor();
    await screenshot(page, '11-configmap-detail');
    await page.getByRole('tab', { name: 'YAML' }).click();
    const editor = page.getByTestId('yaml-editor');
    await editor.getByText('kind: ConfigMap').waitFor();
    await editor.getByText('greeting: hello').waitFor();
    await screenshot(page, '12-configmap-yaml');
  });

  await t.test(
    'a CRD: its definition, then its objects with its printer columns, detail and YAML, with no code of its own',
    async () => {
      await page.goto(`${url}/clusters/host/customresourcedefinitions`);
      await page.getByRole('link', { name: 'widgets.example.com' }).click();
      await expectTitle(page, 'widgets.example.com');
      await page.getByRole('link', { name: 'Instances' }).click();
      await expectTitle(page, 'Widget');
      const table = page.getByRole('grid', { name: 'Widget' }).or(page.getByRole('table', { name: 'Widget' }));
      await table.getByRole('columnheader', { name: 'Size' }).waitFor();
      await table.getByRole('row', { name: /w1.*demo.*3/ }).waitFor();
      await screenshot(page, '13-crd-objects');
      await page.getByRole('link', { name: 'w1' }).click();
      await expectTitle(page, 'w1');
      await page.getByRole('tab', { name: 'YAML' }).click();
      await page.getByTestId('yaml-editor').getByText('kind: Widget').waitFor();
      await screenshot(page, '14-crd-object-yaml');
    },
  );

  await t.test('中文 throughout, kept across a reload, and back to English', async () => {
    await page.goto(`${url}/clusters/host/overview`);
    await chooseLanguage(page, '中文');
    await expectTitle(page, '集群: host');
    await page.getByRole('navigation', { name: '导航' }).getByRole('link', { name: '概览' }).waitFor();
    await page.reload();
    await expectTitle(page, '集群: host');
    await page.getByRole('navigation', { name: '导航' }).getByRole('link', { name: '容器组' }).click();
    await expectTitle(page, '容器组');
    await screenshot(page, '15-zh-pods');
    await chooseLanguage(page, 'English');
    await expectTitle(page, 'Pods');
  });

  await t.test('the dark theme is PatternFly’s, and stays chosen', async () => {
    await page.getByText('Dark theme').click();
    assert.equal(await page.evaluate("document.documentElement.classList.contains('pf-v6-theme-dark')"), true);
    await page.reload();
    await page.getByTestId('page-title').waitFor();
    assert.equal(await page.evaluate("document.documentElement.classList.contains('pf-v6-theme-dark')"), true);
    await screenshot(page, '16-dark-theme');
    await page.getByText('Dark theme').click();
  });

  await t.test('keyboard: the first Tab reaches "Skip to content", which moves focus past the navigation', async () => {
    await page.goto(`${url}/clusters/host/overview`);
    await page.getByTestId('page-title').waitFor();
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to content' });
    assert.equal(await skip.evaluate((el) => el === el.ownerDocument.activeElement), true);
    await page.keyboard.press('Enter');
    assert.match(page.url(), /#main$/);
  });

  await t.test(
    'an unknown resource is a plain page, not a crash; the user menu hands out a working kubeconfig and signs out',
    async () => {
      await page.goto(`${url}/clusters/host/nosuchthings`);
      await page.getByTestId('not-found').waitFor();
      // The user menu hands out a kubeconfig whose server is this front and whose credential works.
      await page.getByTestId('user-menu').click();
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('menuitem', { name: /Download kubeconfig/ }).click(),
      ]);
      assert.equal(download.suggestedFilename(), 'kubeconfig-admin.yaml');
      const kubeconfig = readFileSync((await download.path())!, 'utf8');
      assert.match(kubeconfig, /kind: Config/);
      const staticToken = /token: (\S+)/.exec(kubeconfig)![1];
      assert.equal((await platformRequest(url, staticToken, 'GET', '/api/v1/namespaces/demo')).status, 200);
      await page.getByTestId('user-menu').click();
      await page.getByRole('menuitem', { name: 'Sign out' }).click();
      await page.waitForURL(/\/login/);
      await page.goto(`${url}/clusters/host/overview`);
      await page.waitForURL(/\/login\?from=/);
    },
  );

  assert.deepEqual(problems.errors, []);
  await context.close();
});

test('a project viewer sees no actions, and a page beyond its rights says so plainly', async () => {
  const admin = await tokenFor(env.url, 'admin', NEW_PASSWORD);
  const created = await platformRequest(env.url, admin, 'POST', '/kapis/iam.kubesphere.io/v1beta1/users', {
    apiVersion: 'iam.kubesphere.io/v1beta1',
    kind: 'User',
    metadata: { name: 'viewer1', annotations: { 'iam.kubesphere.io/globalrole': 'platform-regular' } },
    spec: { email: 'viewer1@example.com', password: 'Viewer-Pass-1' },
  });
  assert.ok(created.status === 200 || created.status === 201, JSON.stringify(created.json));
  const context = await newContext(browser);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  await page.goto(`${env.url}/login`);
  await page.locator('#username').fill('viewer1');
  await page.locator('#password').fill('Viewer-Pass-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${env.url}/`);
  // A viewer of project demo: reads its ConfigMaps, and is offered no action on them.
  const member = await platformRequest(
    env.url,
    admin,
    'POST',
    '/kapis/iam.kubesphere.io/v1beta1/namespaces/demo/namespacemembers',
    [{ username: 'viewer1', roleRef: 'viewer' }],
  );
  assert.ok(member.status < 300, JSON.stringify(member.json));
  const rulesLoaded = page.waitForResponse((r) => r.url().includes('/roletemplates?scope=namespace') && r.status() === 200);
  await page.goto(`${env.url}/workspaces/ws1/clusters/host/projects/demo/configmaps`);
  await page.getByRole('link', { name: 'app-config' }).waitFor();
  const templates = await (await rulesLoaded).json();
  assert.ok(templates.items.length > 0, 'the project viewer role has role templates');
  await page.getByTestId('total-items').waitFor();
  assert.equal(await page.getByRole('button', { name: /^Actions on / }).count(), 0);
  await screenshot(page, '17-viewer-configmaps');
  await page.getByRole('link', { name: 'app-config' }).click();
  await page.getByText('app=demo').waitFor();
  assert.equal(await page.getByTestId('detail-actions').count(), 0);
  // Cluster-wide Secrets are not for this user: the page says so.
  await page.goto(`${env.url}/clusters/host/secrets`);
  await page
    .getByTestId('forbidden')
    .waitFor()
    .catch(async (err) => {
      await screenshot(page, 'failed-forbidden');
      throw err;
    });
  await page.getByText('You may not see this').waitFor();
  await screenshot(page, '18-forbidden');
  await page.goto(`${env.url}/profile`);
  await page.getByText('viewer1@example.com').waitFor();
  await screenshot(page, '19-profile');
  await context.close();
});
