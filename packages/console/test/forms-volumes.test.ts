/**
 * Volumes in the workload form, entirely in the browser against a fresh `canopy server`: admin
 * creates a ConfigMap and a persistent volume claim from their forms, then a Deployment from the form
 * with the ConfigMap mounted read-only at /etc/app, an emptyDir and the claim; a clashing volume
 * name is refused by the form before anything is sent; the dry-run review shows the volumes; the
 * stored Deployment has them, its pod runs, and `cat` in the pod's web terminal prints the
 * ConfigMap's value. A StatefulSet from the form gets a volume claim template on a StorageClass
 * picked from the cluster's, and its pod's claim is Bound. Editing a Deployment with volumes the
 * form does not model (hostPath, projected) shows them read-only and leaves them as they were.
 * The volume section once more in 中文. The pure rules of the form (rename and removal carry the
 * mounts along; what is refused) are checked first, without a browser.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import en from '../src/i18n/en.js';
import zh from '../src/i18n/zh.js';
import { dropMounts, renameMounts, volumeProblems } from '../src/components/forms/volumes.js';
import { apiClient, type ApiClient } from '../../cli/test/support/http.js';
import {
  dependentSteps,
  firstSignIn,
  labelled,
  launchBrowser,
  newContext,
  screenshot,
  startConsoleServer,
  watchPage,
  type ConsoleServer,
} from './browser.js';

type Dictionary = typeof en;
const L = en;
const Z = zh as unknown as Dictionary;
const NS = 'volumes-demo';
const GREETING = 'hello from a ConfigMap';

test('the form’s volume rules: renames and removals carry mounts along; clashes and dangling mounts are refused', () => {
  const spec = {
    volumes: [
      { name: 'config', configMap: { name: 'app' } },
      { name: 'cache', emptyDir: {} },
    ],
    containers: [{ name: 'web', volumeMounts: [{ name: 'config', mountPath: '/etc/app', readOnly: true }] }],
    initContainers: [{ name: 'init', volumeMounts: [{ name: 'config', mountPath: '/init' }] }],
  };
  const names = ['config', 'cache'];
  const renamed = renameMounts(spec, 'config', 'settings', names);
  assert.equal(renamed.containers[0].volumeMounts[0].name, 'settings');
  assert.equal(renamed.initContainers[0].volumeMounts[0].name, 'settings');
  // Renaming onto another volume's name would merge their mounts: they stay, and the clash is reported.
  assert.equal(renameMounts(spec, 'config', 'cache', names), spec);
  assert.deepEqual(volumeProblems({ ...spec, volumes: [spec.volumes[0], { name: 'config', emptyDir: {} }] }, undefined), [
    { key: 'duplicateName', values: { name: 'config' } },
  ]);
  const dropped = dropMounts(spec, 'config', ['cache']);
  assert.equal(dropped.containers[0].volumeMounts, undefined);
  assert.equal(dropped.initContainers[0].volumeMounts, undefined);
  assert.deepEqual(
    volumeProblems(
      {
        volumes: [
          { name: 'Bad_Name', emptyDir: {} },
          { name: 'cm', configMap: {} },
          { name: 'disk', hostPath: { path: '/x' } },
        ],
        containers: [
          {
            name: 'web',
            volumeMounts: [
              { name: 'gone', mountPath: 'relative' },
              { name: 'disk', mountPath: '/a' },
              { name: 'cm', mountPath: '/a' },
            ],
          },
        ],
      },
      [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: 'lots' } } } }],
    ).map((p) => p.key),
    ['invalidName', 'noReference', 'storageSize', 'unknownVolume', 'mountPath', 'duplicatePath'],
  );
  // A claim template is mountable like a volume.
  assert.deepEqual(
    volumeProblems({ containers: [{ name: 'db', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] }, [
      { metadata: { name: 'data' }, spec: { resources: { requests: { storage: '1Gi' } } } },
    ]),
    [],
  );
});

let browser: Browser;
let env: ConsoleServer;

before(async () => {
  [browser, env] = await Promise.all([launchBrowser(), startConsoleServer()]);
});

after(async () => {
  await browser?.close();
  await env?.server.stop();
});

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function review(page: Page, expectInDiff: string[]): Promise<void> {
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: L.apply.review, exact: true }).click();
  const diff = dialog.getByTestId('diff');
  await diff.waitFor();
  for (const text of expectInDiff) await diff.getByText(text, { exact: false }).first().waitFor();
}

async function create(page: Page): Promise<void> {
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: L.apply.create, exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
}

test('volumes from the workload form: ConfigMap, emptyDir and claim volumes mounted, claim templates bound, other kinds kept', async (t) => {
  const kube: ApiClient = apiClient(env.server.kubeconfig);
  t.after(() => kube.close());
  const created = await kube.request('POST', '/api/v1/namespaces', { body: { metadata: { name: NS } } });
  assert.equal(created.status, 201, created.text);
  const context = await newContext(browser);
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = watchPage(page);
  const base = `${env.url}/clusters/host/projects/${NS}`;
  const shot = (name: string) => screenshot(page, `forms-volumes-${name}`);
  const get = async (path: string) => (await kube.request('GET', path)).json();
  const step = dependentSteps(t, page, 'failed-forms-volumes');

  await step('admin creates a ConfigMap and a persistent volume claim from their forms', async () => {
    await firstSignIn(page, env, 'Canopy-Admin-1', L);
    await page.goto(`${base}/configmaps`);
    await page.getByTestId('create').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel(labelled(L.columns.name)).fill('app-config');
    await dialog.getByRole('button', { name: L.form.addData }).click();
    await dialog.getByLabel(labelled(L.form.dataKey)).fill('greeting');
    await dialog.getByLabel(labelled(L.form.dataValue)).fill(GREETING);
    await review(page, [`greeting: ${GREETING}`]);
    await create(page);
    await page.goto(`${base}/persistentvolumeclaims`);
    await page.getByTestId('create').click();
    await dialog.getByLabel(labelled(L.columns.name)).fill('shared');
    await dialog.getByLabel(labelled(L.volumes.storage)).fill('1Gi');
    await dialog.getByLabel(labelled(L.volumes.accessMode)).selectOption('ReadWriteOnce');
    await dialog.getByLabel(labelled(L.volumes.storageClass)).selectOption('local');
    await review(page, ['name: shared', 'storage: 1Gi', 'storageClassName: local']);
    await create(page);
    await page.getByRole('link', { name: 'shared', exact: true }).waitFor();
  });

  await step(
    'a Deployment from the form mounts the ConfigMap read-only, an emptyDir and the claim; a clash is refused first',
    async () => {
      await page.goto(`${base}/deployments`);
      await page.getByTestId('create').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel(labelled(L.columns.name)).fill('web');
      await dialog.getByLabel(labelled(L.form.image)).fill('nginx:1.27');
      const volumes = dialog.getByRole('group', { name: L.volumes.title });
      const rows = volumes.getByTestId('volume-row');
      // The ConfigMap is picked from the project's ConfigMaps.
      await volumes.getByRole('button', { name: L.volumes.add }).click();
      await rows.nth(0).getByLabel(L.volumes.type).selectOption('configMap');
      await rows.nth(0).getByLabel(L.volumes.configMapRef).selectOption('app-config');
      await rows.nth(0).getByLabel(L.volumes.name).fill('config');
      await volumes.getByRole('button', { name: L.volumes.add }).click();
      // Two volumes of one name: marked, explained, and not sent for review.
      await rows.nth(1).getByLabel(L.volumes.name).fill('config');
      assert.equal(await rows.nth(1).getByLabel(L.volumes.name).getAttribute('aria-invalid'), 'true');
      await dialog
        .getByTestId('volume-problems')
        .getByText(L.volumes.problems.duplicateName.replace('{{name}}', 'config'))
        .waitFor();
      let dryRuns = 0;
      page.on('request', (r) => void (r.url().includes('dryRun=All') && dryRuns++));
      await dialog.getByRole('button', { name: L.apply.review, exact: true }).click();
      await dialog.getByTestId('apply-error').getByText(L.volumes.problems.duplicateName.replace('{{name}}', 'config')).waitFor();
      assert.equal(dryRuns, 0, 'nothing was sent while the names clash');
      await shot('01-duplicate-refused');
      await rows.nth(1).getByLabel(L.volumes.name).fill('cache');
      await volumes.getByRole('button', { name: L.volumes.add }).click();
      await rows.nth(2).getByLabel(L.volumes.type).selectOption('persistentVolumeClaim');
      await rows.nth(2).getByLabel(L.volumes.claimRef).selectOption('shared');
      await rows.nth(2).getByLabel(L.volumes.name).fill('shared');
      assert.equal(await dialog.getByTestId('volume-problems').count(), 0);

      const mounts = dialog.getByRole('group', { name: L.volumes.mounts });
      const mountRows = mounts.getByTestId('container-0-mounts-row');
      for (const [i, [volume, path, readOnly]] of (
        [
          ['config', '/etc/app', true],
          ['cache', '/cache', false],
          ['shared', '/data', false],
        ] as const
      ).entries()) {
        await mounts.getByRole('button', { name: L.volumes.addMount }).click();
        await mountRows.nth(i).getByLabel(L.volumes.mountVolume).selectOption(volume);
        await mountRows.nth(i).getByLabel(L.volumes.mountPath).fill(path);
        if (readOnly) await mountRows.nth(i).getByLabel(L.volumes.readOnly).check();
      }
      await shot('02-deployment-volumes');
      await review(page, ['name: app-config', 'mountPath: /etc/app', 'readOnly: true', 'emptyDir: {}', 'claimName: shared']);
      assert.equal(dryRuns, 1);
      await shot('03-deployment-review');
      await create(page);
      const stored = await get(`/apis/apps/v1/namespaces/${NS}/deployments/web`);
      const pod = stored.spec.template.spec;
      assert.deepEqual(
        pod.volumes.map((v: any) => [v.name, v.configMap?.name ?? v.persistentVolumeClaim?.claimName ?? Object.keys(v)[1]]),
        [
          ['config', 'app-config'],
          ['cache', 'emptyDir'],
          ['shared', 'shared'],
        ],
      );
      assert.deepEqual(pod.containers[0].volumeMounts, [
        { name: 'config', mountPath: '/etc/app', readOnly: true },
        { name: 'cache', mountPath: '/cache' },
        { name: 'shared', mountPath: '/data' },
      ]);
    },
  );

  await step('the Deployment’s pod runs and `cat` in its terminal prints the mounted ConfigMap', async () => {
    const podName = await until('a Running pod of web', async () => {
      const pods = await get(`/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dweb`);
      return pods.items.find((p: any) => p.status?.phase === 'Running')?.metadata.name as string | undefined;
    });
    await page.goto(`${base}/pods/${podName}`);
    await page.getByRole('tab', { name: L.detail.terminal }).click();
    await page.getByTestId('terminal-state').filter({ hasText: L.terminal.open }).waitFor();
    const terminal = page.getByTestId('terminal');
    await terminal.click();
    await page.keyboard.type('cat /etc/app/greeting');
    await page.keyboard.press('Enter');
    await terminal.locator('.xterm-rows').getByText(GREETING).waitFor();
    await shot('04-terminal-cat');
  });

  await step(
    'a StatefulSet from the form gets a claim template on a StorageClass of the cluster; its pod’s claim is Bound',
    async () => {
      await page.goto(`${base}/statefulsets`);
      await page.getByTestId('create').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel(labelled(L.columns.name)).fill('db');
      await dialog.getByLabel(labelled(L.form.image)).fill('postgres:16');
      const templates = dialog.getByRole('group', { name: L.volumes.claimTemplates });
      await templates.getByRole('button', { name: L.volumes.addClaimTemplate }).click();
      const row = templates.getByTestId('claim-template-row');
      await row.getByLabel(L.volumes.templateName).fill('data');
      await row.getByLabel(L.volumes.storage).fill('2Gi');
      await row.getByLabel(L.volumes.accessMode).selectOption('ReadWriteOnce');
      // `local` is the cluster's default StorageClass, listed from the cluster.
      await row.getByLabel(L.volumes.storageClass).selectOption('local');
      const mounts = dialog.getByRole('group', { name: L.volumes.mounts });
      await mounts.getByRole('button', { name: L.volumes.addMount }).click();
      await mounts.getByLabel(L.volumes.mountVolume).selectOption('data');
      await mounts.getByLabel(L.volumes.mountPath).fill('/var/lib/postgresql/data');
      await shot('05-statefulset-claim-template');
      await review(page, [
        'volumeClaimTemplates:',
        'storage: 2Gi',
        'storageClassName: local',
        'mountPath: /var/lib/postgresql/data',
      ]);
      await create(page);
      const claim = await until('the claim data-db-0 Bound', async () => {
        const c = await get(`/api/v1/namespaces/${NS}/persistentvolumeclaims/data-db-0`);
        return c.status?.phase === 'Bound' ? c : undefined;
      });
      assert.equal(claim.spec.resources.requests.storage, '2Gi');
      assert.equal(claim.spec.storageClassName, 'local');
      const pod = await until('db-0 Running', async () => {
        const p = await get(`/api/v1/namespaces/${NS}/pods/db-0`);
        return p.status?.phase === 'Running' ? p : undefined;
      });
      assert.ok(pod.spec.volumes.some((v: any) => v.name === 'data' && v.persistentVolumeClaim?.claimName === 'data-db-0'));
      // Claim templates cannot change once the StatefulSet exists: the edit form shows them, locked.
      await page.goto(`${base}/statefulsets/db`);
      await page.getByTestId('detail-actions').click();
      await page.getByRole('menuitem', { name: L.actions.edit, exact: true }).click();
      const locked = page.getByRole('dialog').getByTestId('claim-template-row').getByLabel(L.volumes.templateName);
      assert.equal(await locked.inputValue(), 'data');
      assert.equal(await locked.isDisabled(), true);
      await page.getByRole('dialog').getByRole('button', { name: L.actions.cancel }).click();
    },
  );

  await step('editing a Deployment keeps volumes the form does not model, shown read-only', async () => {
    const legacyVolumes = [
      { name: 'host', hostPath: { path: '/var/log', type: 'Directory' } },
      {
        name: 'bundle',
        projected: {
          sources: [
            { configMap: { name: 'app-config' } },
            { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
          ],
        },
      },
    ];
    const made = await kube.request('POST', `/apis/apps/v1/namespaces/${NS}/deployments`, {
      body: {
        metadata: { name: 'legacy' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'legacy' } },
          template: {
            metadata: { labels: { app: 'legacy' } },
            spec: {
              volumes: legacyVolumes,
              containers: [{ name: 'app', image: 'nginx:1.27', volumeMounts: [{ name: 'host', mountPath: '/host-logs' }] }],
            },
          },
        },
      },
    });
    assert.equal(made.status, 201, made.text);
    // Opened once the controllers are done with it: an edit is a PUT of the object as read (as kubectl edit).
    const settled = await until('legacy available', async () => {
      const d = await get(`/apis/apps/v1/namespaces/${NS}/deployments/legacy`);
      return d.status?.availableReplicas === 1 && d.status.observedGeneration === d.metadata.generation ? d : undefined;
    });
    const before = settled.spec.template.spec.volumes;
    await page.goto(`${base}/deployments/legacy`);
    await page.getByTestId('detail-actions').click();
    await page.getByRole('menuitem', { name: L.actions.edit, exact: true }).click();
    const dialog = page.getByRole('dialog');
    const readOnly = dialog.getByTestId('volume-readonly');
    await readOnly.filter({ hasText: 'hostPath' }).waitFor();
    await readOnly.filter({ hasText: 'projected' }).waitFor();
    assert.equal(await readOnly.count(), 2);
    assert.equal(await readOnly.first().getByLabel(L.volumes.name).isDisabled(), true);
    // They can still be mounted.
    const mounts = dialog.getByRole('group', { name: L.volumes.mounts });
    await mounts.getByRole('button', { name: L.volumes.addMount }).click();
    await mounts.getByTestId('container-0-mounts-row').nth(1).getByLabel(L.volumes.mountVolume).selectOption('bundle');
    await mounts.getByTestId('container-0-mounts-row').nth(1).getByLabel(L.volumes.mountPath).fill('/bundle');
    await dialog.getByLabel(labelled(L.form.image)).fill('nginx:1.28');
    await readOnly.last().scrollIntoViewIfNeeded();
    await shot('06-read-only-volumes');
    await dialog.getByRole('button', { name: L.apply.review, exact: true }).click();
    await dialog.getByRole('row', { name: L.apply.added }).filter({ hasText: 'image: nginx:1.28' }).waitFor();
    // Nothing of the volumes themselves changes.
    assert.equal(await dialog.getByRole('row', { name: L.apply.removed }).filter({ hasText: 'hostPath' }).count(), 0);
    await dialog.getByRole('button', { name: L.apply.apply, exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    const after = (await get(`/apis/apps/v1/namespaces/${NS}/deployments/legacy`)).spec.template.spec;
    assert.deepEqual(after.volumes, before);
    assert.deepEqual(after.containers[0].volumeMounts, [
      { name: 'host', mountPath: '/host-logs' },
      { name: 'bundle', mountPath: '/bundle' },
    ]);
    assert.equal(after.containers[0].image, 'nginx:1.28');
  });

  await step('the volume section in 中文', async () => {
    await page.goto(`${base}/deployments`);
    await page.getByTestId('language-toggle').first().click();
    await page.getByRole('menuitem', { name: '中文' }).click();
    await page.getByTestId('create').click();
    const dialog = page.getByRole('dialog');
    const volumes = dialog.getByRole('group', { name: Z.volumes.title });
    await volumes.getByText(Z.volumes.hint).waitFor();
    await volumes.getByRole('button', { name: Z.volumes.add }).click();
    const row = volumes.getByTestId('volume-row');
    await row.getByLabel(Z.volumes.name).waitFor();
    await row.getByLabel(Z.volumes.type).selectOption('configMap');
    await row.getByLabel(Z.volumes.configMapRef).selectOption('app-config');
    assert.equal(await row.getByLabel(Z.volumes.type).locator('option:checked').textContent(), Z.volumes.configMap);
    const mounts = dialog.getByRole('group', { name: Z.volumes.mounts });
    await mounts.getByRole('button', { name: Z.volumes.addMount }).click();
    await mounts.getByLabel(Z.volumes.mountPath).waitFor();
    await mounts.getByText(Z.volumes.readOnly).waitFor();
    await shot('07-zh-volumes');
    await dialog.getByRole('button', { name: Z.actions.cancel }).click();
  });

  assert.deepEqual(problems.errors, []);
});
