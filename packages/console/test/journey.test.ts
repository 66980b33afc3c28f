/**
 * The console's acceptance journey, entirely in the browser as a newcomer goes through it, once
 * in English and once in 中文 (each against its own fresh `canopy server`, so both start with the
 * forced first password change): admin signs in and changes the password, creates a workspace
 * and a user, and invites the user; the user signs in, creates a project, deploys nginx from the
 * form (reviewing the server's dry run as a diff), watches its pods become Running, reads the
 * logs, runs `env` in a web terminal (exec over the platform front's WebSocket), scales to 3,
 * changes the image, rolls back to the first revision, restarts, and deletes it. Then a viewer
 * of the project is offered no create or delete buttons. Every label the test looks for comes
 * from the console's own dictionaries, so the Chinese run proves the Chinese console.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import en from '../src/i18n/en.js';
import zh from '../src/i18n/zh.js';
import { apiClient, type ApiClient } from '../../cli/test/support/http.js';
import {
  dependentSteps,
  launchBrowser,
  newContext,
  platformRequest,
  screenshot,
  startConsoleServer,
  tokenFor,
  watchPage,
  type ConsoleServer,
} from './browser.js';

type Dictionary = typeof en;
const LANGUAGES: { code: 'en' | 'zh'; label: 'English' | '中文'; dict: Dictionary }[] = [
  { code: 'en', label: 'English', dict: en },
  { code: 'zh', label: '中文', dict: zh as unknown as Dictionary },
];
const ADMIN_PASSWORD = 'Canopy-Admin-1';
const DEV_PASSWORD = 'Canopy-Dev-12';

let browser: Browser;
const servers = new Map<string, ConsoleServer>();

before(async () => {
  const [b, ...started] = await Promise.all([launchBrowser(), ...LANGUAGES.map(() => startConsoleServer())]);
  browser = b;
  LANGUAGES.forEach((l, i) => servers.set(l.code, started[i]));
});

after(async () => {
  await browser?.close();
  await Promise.all([...servers.values()].map((s) => s.server.stop()));
});

/** `{{name}}` placeholders filled, as i18next does. */
function fill(text: string, values: Record<string, string | number> = {}): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_m, k) => String(values[k] ?? ''));
}

/** A form field by its visible label (a required field's label ends with an asterisk). */
const labelled = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s*\\*)?$`);

const exact = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function signIn(page: Page, L: Dictionary, url: string, username: string, password: string): Promise<void> {
  await page.goto(`${url}/login`);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: L.signIn.submit, exact: true }).click();
}

async function signOut(page: Page, L: Dictionary): Promise<void> {
  await page.getByTestId('user-menu').click();
  await page.getByRole('menuitem', { name: L.shell.signOut }).click();
  await page.waitForURL(/\/login/);
}

function nav(page: Page, L: Dictionary) {
  return page.getByRole('navigation', { name: L.shell.navigation });
}

/** Create through the list's Create button: the form is filled by `fillForm`, then the review shows a diff, then it is created. */
async function createWithForm(page: Page, L: Dictionary, fillForm: () => Promise<void>, expectInDiff: string[]): Promise<void> {
  await page.getByTestId('create').click();
  const dialog = page.getByRole('dialog');
  await fillForm();
  await dialog.getByRole('button', { name: L.apply.review, exact: true }).click();
  const diff = dialog.getByTestId('diff');
  await diff.waitFor();
  for (const text of expectInDiff) await diff.getByText(text, { exact: false }).first().waitFor();
  await dialog.getByRole('button', { name: L.apply.create, exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
}

async function rowAction(page: Page, L: Dictionary, name: string, action: string): Promise<void> {
  await page.getByRole('button', { name: fill(L.actions.menu, { name }) }).click();
  await page.getByRole('menuitem', { name: action, exact: true }).click();
}

async function detailAction(page: Page, action: string): Promise<void> {
  await page.getByTestId('detail-actions').click();
  await page.getByRole('menuitem', { name: action, exact: true }).click();
}

for (const { code, label, dict: L } of LANGUAGES) {
  test(`the newcomer's journey in ${label}: tenants, a deployment from the form, pods, logs, terminal, scale, roll back, delete`, async (t) => {
    const env = servers.get(code)!;
    const url = env.url;
    const kube: ApiClient = apiClient(env.server.kubeconfig);
    t.after(() => kube.close());
    const ws = `ws-${code}`;
    const dev = `dev-${code}`;
    const project = `demo-${code}`;
    const shot = (page: Page, name: string) => screenshot(page, `journey-${code}-${name}`);
    const context = await newContext(browser);
    t.after(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const problems = watchPage(page);
    const step = dependentSteps(t, page, `failed-journey-${code}`);

    await step('admin signs in and must change the generated password', async () => {
      await page.goto(`${url}/login`);
      if (code !== 'en') {
        await page.getByTestId('language-toggle').first().click();
        await page.getByRole('menuitem', { name: label }).click();
      }
      await page.getByRole('heading', { name: L.signIn.title }).waitFor();
      await signIn(page, L, url, 'admin', env.adminPassword);
      await page.getByRole('heading', { name: L.password.forcedTitle }).waitFor();
      await page.locator('#new-password').fill(ADMIN_PASSWORD);
      await page.locator('#confirm-password').fill(ADMIN_PASSWORD);
      await page.getByRole('button', { name: L.password.submit }).click();
      await page
        .getByTestId('page-title')
        .filter({ hasText: fill(L.home.welcome, { name: 'admin' }) })
        .waitFor();
      await shot(page, '01-home');
    });

    await step('admin creates a workspace from the form, reviewing the change first', async () => {
      await page.getByRole('link', { name: L.nav.accessControl }).click();
      await page
        .getByTestId('page-title')
        .filter({ hasText: exact(L.kinds.workspaces) })
        .waitFor();
      await createWithForm(
        page,
        L,
        async () => {
          await page.getByLabel(labelled(L.columns.name)).fill(ws);
          await page.getByLabel(labelled(L.columns.description)).fill(`the ${label} workspace`);
        },
        [`name: ${ws}`, 'manager: admin'],
      );
      await page.getByRole('link', { name: ws, exact: true }).waitFor();
      await shot(page, '02-workspaces');
    });

    await step('admin creates a user', async () => {
      await nav(page, L).getByRole('link', { name: L.nav.users }).click();
      await page.getByRole('link', { name: 'admin', exact: true }).waitFor();
      await createWithForm(
        page,
        L,
        async () => {
          await page.getByLabel(labelled(L.columns.name)).fill(dev);
          await page.getByLabel(labelled(L.columns.email)).fill(`${dev}@example.com`);
          await page.getByLabel(labelled(L.signIn.password)).fill(DEV_PASSWORD);
        },
        [`name: ${dev}`, 'password: "********"'],
      );
      await page.getByRole('link', { name: dev, exact: true }).waitFor();
      await shot(page, '03-users');
    });

    await step('admin invites the user into the workspace as a self-provisioner', async () => {
      await page.goto(`${url}/workspaces/${ws}/members`);
      await page
        .getByTestId('page-title')
        .filter({ hasText: exact(L.kinds.members) })
        .waitFor();
      await page.getByTestId('create').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel(labelled(L.signIn.username)).fill(dev);
      await dialog.getByLabel(labelled(L.columns.role)).selectOption(`${ws}-self-provisioner`);
      await dialog.getByRole('button', { name: L.members.invite, exact: true }).click();
      await page.getByRole('row', { name: new RegExp(`${dev}.*${ws}-self-provisioner`) }).waitFor();
      await shot(page, '04-workspace-members');
      await signOut(page, L);
    });

    await step('the user signs in and creates a project in the workspace', async () => {
      await signIn(page, L, url, dev, DEV_PASSWORD);
      await page
        .getByTestId('page-title')
        .filter({ hasText: fill(L.home.welcome, { name: dev }) })
        .waitFor();
      await page.getByRole('link', { name: ws, exact: true }).click();
      await page
        .getByTestId('page-title')
        .filter({ hasText: `${L.overview.workspace}` })
        .waitFor();
      await nav(page, L).getByRole('link', { name: L.nav.projects }).click();
      await createWithForm(
        page,
        L,
        async () => {
          await page.getByLabel(labelled(L.columns.name)).fill(project);
          await page.getByLabel(labelled(L.form.alias)).fill(`Demo ${label}`);
        },
        [`name: ${project}`],
      );
      await page.getByRole('link', { name: project, exact: true }).click();
      await page.waitForURL(new RegExp(`/workspaces/${ws}/clusters/host/projects/${project}/overview$`));
      await shot(page, '05-project-overview');
    });

    await step('the user deploys nginx from the form; the server’s dry run is reviewed as a diff first', async () => {
      await nav(page, L).getByRole('link', { name: L.kinds.deployments }).click();
      await page
        .getByTestId('page-title')
        .filter({ hasText: exact(L.kinds.deployments) })
        .waitFor();
      await page.getByTestId('create').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel(labelled(L.columns.name)).fill('nginx');
      await dialog.getByLabel(labelled(L.form.image)).fill('nginx:1.27');
      await dialog.getByRole('button', { name: L.form.addPort }).click();
      await dialog.getByRole('button', { name: L.form.addEnv }).click();
      await dialog.getByLabel(labelled(L.form.envName)).fill('GREETING');
      await dialog.getByLabel(labelled(L.form.envValue)).fill(`hello-${code}`);
      await dialog.getByLabel(labelled(L.form.requestsCpu)).fill('100m');
      await dialog.getByLabel(labelled(L.form.limitsMemory)).fill('128Mi');
      await shot(page, '06-deployment-form');
      // The YAML tab shows the same object the form edits.
      await dialog.getByRole('tab', { name: L.detail.yaml }).click();
      await dialog.getByTestId('yaml-text').getByText('image: nginx:1.27').waitFor();
      await dialog.getByRole('tab', { name: L.apply.form }).click();
      await dialog.getByRole('button', { name: L.apply.review, exact: true }).click();
      const diff = dialog.getByTestId('diff');
      // Defaults the server filled in (strategy, restartPolicy) are part of what will be stored.
      await diff.getByText('image: nginx:1.27').waitFor();
      await diff.getByText('value: hello-').waitFor();
      await diff.getByText('type: RollingUpdate').waitFor();
      await dialog.getByText(L.apply.reviewChecked).waitFor();
      await shot(page, '07-deployment-review');
      // Nothing is stored by the review.
      assert.equal((await kube.request('GET', `/apis/apps/v1/namespaces/${project}/deployments/nginx`)).status, 404);
      await dialog.getByRole('button', { name: L.apply.create, exact: true }).click();
      await dialog.waitFor({ state: 'detached' });
      await page.getByRole('link', { name: 'nginx', exact: true }).waitFor();
      const stored = (await kube.request('GET', `/apis/apps/v1/namespaces/${project}/deployments/nginx`)).json();
      const container = stored.spec.template.spec.containers[0];
      assert.deepEqual(container.env, [{ name: 'GREETING', value: `hello-${code}` }]);
      assert.deepEqual(container.ports, [{ containerPort: 80, protocol: 'TCP' }]);
      assert.deepEqual(container.resources, { requests: { cpu: '100m' }, limits: { memory: '128Mi' } });
      assert.equal(stored.metadata.annotations?.['kubesphere.io/creator'] ?? dev, dev);
    });

    let podName = '';
    await step('the pods of the deployment become Running before the user’s eyes', async () => {
      await page.getByRole('link', { name: 'nginx', exact: true }).click();
      await page
        .getByTestId('page-title')
        .filter({ hasText: exact('nginx') })
        .waitFor();
      await page.getByRole('tab', { name: L.detail.related }).click();
      const pods = page.getByRole('region', { name: L.kinds.pods });
      const running = pods.getByRole('row').filter({ hasText: L.status.Running });
      await running.first().waitFor({ timeout: 30_000 });
      podName = (await running.first().getByRole('link').first().textContent())!.trim();
      assert.match(podName, /^nginx-[a-z0-9]+-[a-z0-9]+$/);
      await shot(page, '08-deployment-pods');
    });

    await step('the pod’s log streams, can be searched and downloaded', async () => {
      await page.getByRole('link', { name: podName, exact: true }).click();
      await page
        .getByTestId('page-title')
        .filter({ hasText: exact(podName) })
        .waitFor();
      await page.getByRole('tab', { name: L.detail.logs }).click();
      const log = page.getByRole('log');
      await log.getByText('start worker process', { exact: false }).first().waitFor();
      await page.getByTestId('logs-state').filter({ hasText: L.logs.streaming }).waitFor();
      await page.getByRole('textbox', { name: L.logs.search }).fill('worker process');
      const text = (await log.textContent()) ?? '';
      for (const line of text.split('\n').filter(Boolean)) assert.match(line, /worker process/);
      await shot(page, '09-pod-logs');
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: L.logs.download }).click(),
      ]);
      assert.equal(download.suggestedFilename(), `${podName}-nginx.log`);
    });

    await step('a web terminal runs `env` in the container', async () => {
      // The exec stream's frames, as the browser sends them: channel 4 carries the terminal's size.
      const sent: (string | Buffer)[] = [];
      let socketUrl = '';
      page.once('websocket', (ws) => {
        socketUrl = ws.url();
        ws.on('framesent', (f) => sent.push(f.payload));
      });
      await page.getByRole('tab', { name: L.detail.terminal }).click();
      await page.getByTestId('terminal-state').filter({ hasText: L.terminal.open }).waitFor();
      assert.match(socketUrl, new RegExp(`/api/v1/namespaces/${project}/pods/${podName}/exec\\?`));
      assert.doesNotMatch(socketUrl, /token|authorization/i, 'the token travels as a subprotocol, not in the URL');
      const resize = await until('a resize message', async () =>
        sent.map((p) => Buffer.from(p as Buffer)).find((b) => b[0] === 4),
      );
      const size = JSON.parse(resize.subarray(1).toString());
      assert.ok(size.Width > 20 && size.Height > 5, JSON.stringify(size));
      // Without a valid token in the subprotocol the front refuses the upgrade: the socket never opens.
      const refused = await page.evaluate(
        (path) =>
          new Promise<string>((resolve) => {
            const bogus = btoa('not-a-token').replace(/=+$/, '');
            const ws = new WebSocket(
              `${(globalThis as any).location.protocol === 'https:' ? 'wss' : 'ws'}://${(globalThis as any).location.host}${path}`,
              ['v5.channel.k8s.io', `base64url.bearer.authorization.k8s.io.${bogus}`],
            );
            ws.onopen = () => (ws.close(), resolve('opened'));
            ws.onerror = () => resolve('refused');
          }),
        new URL(socketUrl).pathname + new URL(socketUrl).search,
      );
      assert.equal(refused, 'refused');
      // Chromium reports that refusal on the console; it is the expected one, not a fault of the page.
      const expected = problems.errors.findIndex(
        (e) => e.includes('WebSocket connection') && e.includes('Authentication failed'),
      );
      assert.ok(expected >= 0, 'the refusal was an authentication failure');
      problems.errors.splice(expected, 1);
      const terminal = page.getByTestId('terminal');
      await terminal.click();
      await page.keyboard.type('env');
      await page.keyboard.press('Enter');
      await terminal.locator('.xterm-rows').getByText(`GREETING=hello-${code}`).waitFor();
      await terminal.locator('.xterm-rows').getByText(`HOSTNAME=${podName}`).waitFor();
      await shot(page, '10-pod-terminal');
    });

    await step('the user scales the deployment to 3', async () => {
      await page.goto(`${url}/workspaces/${ws}/clusters/host/projects/${project}/deployments/nginx`);
      await page
        .getByTestId('page-title')
        .filter({ hasText: exact('nginx') })
        .waitFor();
      await detailAction(page, L.actions.scale);
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('spinbutton', { name: L.actions.replicas }).fill('3');
      await dialog.getByRole('button', { name: L.actions.save }).click();
      await page.getByText('3/3', { exact: true }).waitFor({ timeout: 30_000 });
      await shot(page, '11-scaled');
    });

    await step('a new image through the edit form, then a roll back to revision 1 reviewed as a diff', async () => {
      await detailAction(page, L.actions.edit);
      let dialog = page.getByRole('dialog');
      await dialog.getByLabel(labelled(L.form.image)).fill('nginx:1.28');
      await dialog.getByRole('button', { name: L.apply.review, exact: true }).click();
      await dialog.getByRole('row', { name: L.apply.removed }).filter({ hasText: 'image: nginx:1.27' }).waitFor();
      await dialog.getByRole('row', { name: L.apply.added }).filter({ hasText: 'image: nginx:1.28' }).waitFor();
      await dialog.getByRole('button', { name: L.apply.apply, exact: true }).click();
      await dialog.waitFor({ state: 'detached' });
      await until('revision 2', async () => {
        const d = (await kube.request('GET', `/apis/apps/v1/namespaces/${project}/deployments/nginx`)).json();
        return d.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2';
      });
      await page.getByText('nginx:1.28', { exact: true }).first().waitFor();

      await detailAction(page, L.actions.rollback);
      dialog = page.getByRole('dialog');
      await dialog.getByText(fill(L.rollback.currentRevision, { revision: 2 })).waitFor();
      await dialog.getByLabel(labelled(fill(L.rollback.revision, { revision: 1 }))).check();
      await dialog.getByRole('button', { name: L.apply.review, exact: true }).click();
      await dialog.getByRole('row', { name: L.apply.added }).filter({ hasText: 'image: nginx:1.27' }).waitFor();
      await shot(page, '12-rollback-review');
      await dialog.getByRole('button', { name: fill(L.rollback.apply, { revision: 1 }) }).click();
      await dialog.waitFor({ state: 'detached' });
      const rolledBack = await until('the rollback to become revision 3', async () => {
        const d = (await kube.request('GET', `/apis/apps/v1/namespaces/${project}/deployments/nginx`)).json();
        return d.metadata.annotations?.['deployment.kubernetes.io/revision'] === '3' ? d : undefined;
      });
      assert.equal(rolledBack.spec.template.spec.containers[0].image, 'nginx:1.27');
      await page.getByText('nginx:1.27', { exact: true }).first().waitFor();
    });

    await step('a restart stamps the pod template, as kubectl rollout restart does', async () => {
      await detailAction(page, L.actions.restart);
      await page.getByRole('dialog').getByRole('button', { name: L.actions.restart, exact: true }).click();
      await until('restartedAt on the pod template', async () => {
        const d = (await kube.request('GET', `/apis/apps/v1/namespaces/${project}/deployments/nginx`)).json();
        return d.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'];
      });
    });

    await step('the user deletes the deployment after confirming', async () => {
      await detailAction(page, L.actions.delete);
      const dialog = page.getByRole('dialog');
      await dialog.getByText(fill(L.actions.deleteBody, { name: 'nginx' })).waitFor();
      await shot(page, '13-delete-confirmation');
      await dialog.getByRole('button', { name: L.actions.delete, exact: true }).click();
      await page
        .getByTestId('page-title')
        .filter({ hasText: exact(L.kinds.deployments) })
        .waitFor();
      await page.getByTestId('empty-list').waitFor();
      await until('the deployment to be gone', async () =>
        (await kube.request('GET', `/apis/apps/v1/namespaces/${project}/deployments/nginx`)).status === 404 ? true : undefined,
      );
      await shot(page, '14-deleted');
    });

    await step('a viewer of the project is offered no create and no delete', async () => {
      const admin = await tokenFor(url, 'admin', ADMIN_PASSWORD);
      const viewer = `viewer-${code}`;
      const created = await platformRequest(url, admin, 'POST', '/kapis/iam.kubesphere.io/v1beta1/users', {
        apiVersion: 'iam.kubesphere.io/v1beta1',
        kind: 'User',
        metadata: { name: viewer, annotations: { 'iam.kubesphere.io/globalrole': 'platform-regular' } },
        spec: { email: `${viewer}@example.com`, password: DEV_PASSWORD },
      });
      assert.ok(created.status < 300, JSON.stringify(created.json));
      const member = await platformRequest(
        url,
        admin,
        'POST',
        `/kapis/iam.kubesphere.io/v1beta1/namespaces/${project}/namespacemembers`,
        [{ username: viewer, roleRef: 'viewer' }],
      );
      assert.ok(member.status < 300, JSON.stringify(member.json));
      const workload = await kube.request('POST', `/apis/apps/v1/namespaces/${project}/deployments`, {
        body: {
          metadata: { name: 'web' },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'web' } },
            template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
          },
        },
      });
      assert.equal(workload.status, 201, workload.text);
      await signOut(page, L);
      await signIn(page, L, url, viewer, DEV_PASSWORD);
      await page
        .getByTestId('page-title')
        .filter({ hasText: fill(L.home.welcome, { name: viewer }) })
        .waitFor();
      const rules = page.waitForResponse((r) => r.url().includes('/roletemplates?scope=namespace') && r.status() === 200);
      await page.goto(`${url}/workspaces/${ws}/clusters/host/projects/${project}/deployments`);
      await page.getByRole('link', { name: 'web', exact: true }).waitFor();
      await rules;
      await page.getByTestId('total-items').waitFor();
      assert.equal(await page.getByTestId('create').count(), 0);
      const actionsOn = new RegExp(
        `^${L.actions.menu.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('\\{\\{name\\}\\}', '.+')}$`,
      );
      assert.equal(await page.getByRole('button', { name: actionsOn }).count(), 0);
      await shot(page, '15-viewer-deployments');
      await page.getByRole('link', { name: 'web', exact: true }).click();
      await page
        .getByTestId('page-title')
        .filter({ hasText: exact('web') })
        .waitFor();
      await page.getByRole('tab', { name: L.detail.related }).click();
      await page.getByRole('region', { name: L.kinds.pods }).getByRole('row').nth(1).waitFor();
      assert.equal(await page.getByTestId('detail-actions').count(), 0);
      await page.goto(`${url}/workspaces/${ws}/clusters/host/projects/${project}/configmaps`);
      await page.getByTestId('total-items').waitFor();
      assert.equal(await page.getByTestId('create').count(), 0);
    });

    assert.deepEqual(problems.errors, []);
  });
}

test('access control in the browser: users disabled and enabled, a password reset, sign-in history, members re-roled and removed, a role composed of role templates; other kinds from forms and from YAML', async (t) => {
  const L = en;
  const env = servers.get('en')!;
  const url = env.url;
  const kube: ApiClient = apiClient(env.server.kubeconfig);
  t.after(() => kube.close());
  const context = await newContext(browser);
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = watchPage(page);
  const user = 'dev-en';
  const project = 'demo-en';
  const projectBase = `${url}/workspaces/ws-en/clusters/host/projects/${project}`;
  const step = dependentSteps(t, page, 'failed-access');
  const signInAs = async () => {
    await signIn(page, L, url, 'admin', ADMIN_PASSWORD);
    await page
      .getByTestId('page-title')
      .filter({ hasText: fill(L.home.welcome, { name: 'admin' }) })
      .waitFor();
  };

  await step('a disabled user cannot sign in until enabled again', async () => {
    await signInAs();
    await page.goto(`${url}/access/users`);
    await rowAction(page, L, user, L.users.disable);
    await page.getByRole('dialog').getByRole('button', { name: L.users.disable, exact: true }).click();
    await page.getByRole('row', { name: new RegExp(`${user}.*${L.status.Disabled}`) }).waitFor();
    await assert.rejects(tokenFor(url, user, DEV_PASSWORD));
    await rowAction(page, L, user, L.users.enable);
    await page.getByRole('dialog').getByRole('button', { name: L.users.enable, exact: true }).click();
    await page.getByRole('row', { name: new RegExp(`${user}.*${L.status.Active}`) }).waitFor();
    await tokenFor(url, user, DEV_PASSWORD);
  });

  await step('an administrator resets a password; the user’s sign-ins are listed', async () => {
    await rowAction(page, L, user, L.actions.resetPassword);
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(labelled(L.password.new)).fill('Canopy-Reset-3');
    await dialog.getByLabel(labelled(L.password.confirm)).fill('Canopy-Reset-3');
    await dialog.getByRole('button', { name: L.actions.save }).click();
    await dialog.waitFor({ state: 'detached' });
    await assert.rejects(tokenFor(url, user, DEV_PASSWORD));
    await tokenFor(url, user, 'Canopy-Reset-3');
    await page.getByRole('link', { name: user, exact: true }).click();
    await page.getByRole('tab', { name: L.detail.loginRecords }).click();
    const records = page.getByTestId('login-records');
    await records.getByRole('row').filter({ hasText: L.status.Succeeded }).first().waitFor();
    await records.getByRole('row').filter({ hasText: L.status.Failed }).first().waitFor();
    await screenshot(page, 'access-01-login-history');
  });

  await step('a workspace member gets another role, then is removed', async () => {
    await page.goto(`${url}/workspaces/ws-en/members`);
    await rowAction(page, L, user, L.actions.changeRole);
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(labelled(L.columns.role)).selectOption('ws-en-viewer');
    await dialog.getByRole('button', { name: L.actions.save }).click();
    await page.getByRole('row', { name: new RegExp(`${user}.*ws-en-viewer`) }).waitFor();
    await rowAction(page, L, user, L.actions.removeMember);
    await page.getByRole('dialog').getByRole('button', { name: L.actions.removeMember, exact: true }).click();
    await page.getByRole('row', { name: new RegExp(user) }).waitFor({ state: 'detached' });
    const members = await platformRequest(
      url,
      await tokenFor(url, 'admin', ADMIN_PASSWORD),
      'GET',
      '/kapis/iam.kubesphere.io/v1beta1/workspaces/ws-en/workspacemembers',
    );
    assert.deepEqual(
      members.json.items.map((m: any) => m.metadata.name),
      ['admin'],
    );
  });

  await step('a project role is composed by ticking role templates, with what they depend on', async () => {
    await page.goto(`${projectBase}/roles`);
    await page
      .getByTestId('page-title')
      .filter({ hasText: exact(L.kinds.projectRoles) })
      .waitFor();
    await page.getByTestId('create').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(labelled(L.columns.name)).fill('deployer');
    await dialog.getByLabel(labelled(L.columns.description)).fill('deploys applications');
    await dialog.getByRole('checkbox', { name: 'Application Workload Management' }).check();
    // Its dependency is ticked with it.
    assert.equal(await dialog.getByRole('checkbox', { name: 'Application Workload Viewing' }).isChecked(), true);
    await screenshot(page, 'access-02-role-form');
    await dialog.getByRole('button', { name: L.apply.review, exact: true }).click();
    await dialog.getByTestId('diff').getByText('namespace-manage-app-workloads').waitFor();
    await dialog.getByRole('button', { name: L.apply.create, exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'deployer', exact: true }).click();
    await page.getByRole('tab', { name: L.detail.roleTemplates }).click();
    await page.getByTestId('role-templates').getByText('Application Workload Management').waitFor();
    const role = (await kube.request('GET', `/apis/iam.kubesphere.io/v1beta1/namespaces/${project}/roles/deployer`)).json();
    assert.ok(role.aggregationRoleTemplates.templateNames.includes('namespace-view-app-workloads'));
    assert.ok(role.aggregationRoleTemplates.templateNames.includes('namespace-view-configmaps'));
    // The role's rules are aggregated from its templates.
    const rolePath = `/apis/iam.kubesphere.io/v1beta1/namespaces/${project}/roles/deployer`;
    const grantsCreate = (r: any) =>
      (r.rules ?? []).some(
        (rule: any) =>
          (rule.resources ?? []).some((x: string) => x === 'deployments' || x === '*') &&
          (rule.verbs ?? []).some((v: string) => v === 'create' || v === '*'),
      );
    await until('aggregated rules', async () => grantsCreate((await kube.request('GET', rolePath)).json()));

    // Unticking a template in the edit form takes its permissions away.
    await detailAction(page, L.actions.edit);
    const edit = page.getByRole('dialog');
    await edit.getByRole('checkbox', { name: 'Application Workload Management' }).uncheck();
    await edit.getByRole('button', { name: L.apply.review, exact: true }).click();
    await edit.getByRole('row', { name: L.apply.removed }).filter({ hasText: 'namespace-manage-app-workloads' }).waitFor();
    await edit.getByRole('button', { name: L.apply.apply, exact: true }).click();
    await edit.waitFor({ state: 'detached' });
    await until('the role without the workload management rules', async () => {
      const r = (await kube.request('GET', rolePath)).json();
      return !r.aggregationRoleTemplates.templateNames.includes('namespace-manage-app-workloads') &&
        (r.rules ?? []).length > 0 &&
        !grantsCreate(r)
        ? r
        : undefined;
    });
  });

  await step('the other workloads and an Ingress from their forms are accepted by the server', async () => {
    const cases: [string, string, () => Promise<void>][] = [
      ['statefulsets', 'db', async () => page.getByLabel(labelled(L.form.image)).fill('postgres:16')],
      ['daemonsets', 'agent', async () => page.getByLabel(labelled(L.form.image)).fill('busybox:1.36')],
      ['jobs', 'once', async () => page.getByLabel(labelled(L.form.image)).fill('busybox:1.36')],
      ['cronjobs', 'hourly', async () => page.getByLabel(labelled(L.form.image)).fill('busybox:1.36')],
      [
        'ingresses',
        'site',
        async () => {
          await page.getByRole('button', { name: L.form.addRoute }).click();
          await page.getByLabel(labelled(L.form.host)).fill('site.example.com');
          await page.getByLabel(labelled(L.form.serviceName)).fill('web');
        },
      ],
    ];
    for (const [plural, name, more] of cases) {
      await page.goto(`${projectBase}/${plural}`);
      await createWithForm(
        page,
        L,
        async () => {
          await page.getByLabel(labelled(L.columns.name)).fill(name);
          await more();
        },
        [`name: ${name}`],
      );
      await page.getByRole('link', { name, exact: true }).waitFor();
    }
    const cron = (await kube.request('GET', `/apis/batch/v1/namespaces/${project}/cronjobs/hourly`)).json();
    assert.equal(cron.spec.schedule, '0 * * * *');
    assert.equal(cron.spec.jobTemplate.spec.template.spec.containers[0].image, 'busybox:1.36');
    const ingress = (await kube.request('GET', `/apis/networking.k8s.io/v1/namespaces/${project}/ingresses/site`)).json();
    assert.equal(ingress.spec.rules[0].host, 'site.example.com');
    assert.equal(ingress.spec.rules[0].http.paths[0].backend.service.name, 'web');
  });

  await step('a Service and a Secret from their forms, a ConfigMap from YAML', async () => {
    await page.goto(`${projectBase}/services`);
    await createWithForm(
      page,
      L,
      async () => {
        await page.getByLabel(labelled(L.columns.name)).fill('web');
        await page.getByRole('button', { name: L.form.addLabel }).click();
        await page.getByLabel(labelled(L.form.labelKey)).fill('app');
        await page.getByLabel(labelled(L.form.labelValue)).fill('web');
      },
      ['app: web', 'port: 80'],
    );
    const service = (await kube.request('GET', `/api/v1/namespaces/${project}/services/web`)).json();
    assert.deepEqual(service.spec.selector, { app: 'web' });
    assert.match(service.spec.clusterIP, /^\d+\.\d+\.\d+\.\d+$/);

    await page.goto(`${projectBase}/secrets`);
    await createWithForm(
      page,
      L,
      async () => {
        await page.getByLabel(labelled(L.columns.name)).fill('db');
        await page.getByRole('button', { name: L.form.addData }).click();
        await page.getByLabel(labelled(L.form.dataKey)).fill('password');
        await page.getByLabel(labelled(L.form.dataValue)).fill('s3cret');
      },
      ['name: db'],
    );
    const secret = (await kube.request('GET', `/api/v1/namespaces/${project}/secrets/db`)).json();
    assert.equal(Buffer.from(secret.data.password, 'base64').toString(), 's3cret');

    await page.goto(`${projectBase}/configmaps`);
    await page.getByTestId('create').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('tab', { name: L.detail.yaml }).click();
    const editor = dialog.getByRole('textbox', { name: fill(L.apply.yamlLabel, { kind: L.kindOne.configmaps }) });
    await editor.click();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\n  namespace: ${project}\ndata:\n  greeting: hello\n`,
    );
    await dialog.getByRole('button', { name: L.apply.review, exact: true }).click();
    await dialog.getByTestId('diff').getByText('greeting: hello').waitFor();
    await dialog.getByRole('button', { name: L.apply.create, exact: true }).click();
    await page.getByRole('link', { name: 'from-yaml', exact: true }).waitFor();
    // A mistake is refused by the dry run, in the server's words, and nothing is stored.
    await page.getByTestId('create').click();
    await dialog.getByRole('tab', { name: L.detail.yaml }).click();
    await editor.click();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_Valid\ndata:\n  a: b\n`);
    await dialog.getByRole('button', { name: L.apply.review, exact: true }).click();
    await dialog
      .getByTestId('apply-error')
      .getByText(/Not_Valid/)
      .waitFor();
    await screenshot(page, 'access-03-dry-run-refusal');
    await dialog.getByRole('button', { name: L.actions.cancel }).click();

    // Editing YAML on the detail page is reviewed the same way before it is stored.
    await page.getByRole('link', { name: 'from-yaml', exact: true }).click();
    await page.getByRole('tab', { name: L.detail.yaml }).click();
    await page.getByRole('button', { name: L.yaml.edit }).click();
    await page.getByTestId('yaml-editor').getByText('greeting: hello').click();
    await page.keyboard.press('End');
    await page.keyboard.insertText(' again');
    await page.getByRole('button', { name: L.apply.review, exact: true }).click();
    await page.getByRole('row', { name: L.apply.removed }).filter({ hasText: 'greeting: hello' }).waitFor();
    await page.getByRole('row', { name: L.apply.added }).filter({ hasText: 'greeting: hello again' }).waitFor();
    const before = (await kube.request('GET', `/api/v1/namespaces/${project}/configmaps/from-yaml`)).json();
    assert.equal(before.data.greeting, 'hello');
    await page.getByRole('button', { name: L.apply.apply, exact: true }).click();
    await page.getByText(L.yaml.saved).waitFor();
    const after = (await kube.request('GET', `/api/v1/namespaces/${project}/configmaps/from-yaml`)).json();
    assert.equal(after.data.greeting, 'hello again');
  });

  assert.deepEqual(problems.errors, []);
});
