/**
 * Every tenant.kubesphere.io/v1beta1 and iam.kubesphere.io/v1beta1 route of KubeSphere 4.1's API
 * reference that this part of the platform serves answers on its path and method (read from the
 * shared reference, not copied): a 404 may say an object is missing, never that the path is
 * unknown, and no route answers 405. Writes name objects that do not exist or send bodies the
 * handlers refuse, so nothing changes.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readReference } from './auth-support.js';
import { eventually, startTenancy, TENANT, type Tenancy } from './tenant-support.js';

const spec = JSON.parse(readReference('kubesphere-v4.1-api.json')) as { paths: Record<string, Record<string, unknown>> };

/** Routes of other parts (users and their passwords: identity; metrics: monitoring). */
const ELSEWHERE = [/\/users(\/\{user\})?$/, /\/users\/\{user\}\/(password|loginrecords)$/, /\/metrics$/];

const PARAMS: Record<string, string> = {
  workspace: 'ws1',
  namespace: 'p1',
  member: 'nobody',
  workspacemember: 'nobody',
  namespacemember: 'nobody',
  clustermember: 'nobody',
  username: 'root',
  resourcequota: 'no-such-quota',
};

let t: Tenancy;
before(async () => {
  t = await startTenancy();
  await t.createUser('root', 'platform-admin');
  assert.equal(
    (
      await t
        .as('root')
        .post(`${TENANT}/workspacetemplates`, {
          metadata: { name: 'ws1' },
          spec: { template: { spec: { manager: 'root' } }, placement: {} },
        })
    ).status,
    200,
  );
  await eventually(
    'p1',
    async () => (await t.as('root').post(`${TENANT}/workspaces/ws1/namespaces`, { metadata: { name: 'p1' } })).status === 200,
  );
});
after(async () => t?.close());

test("KubeSphere's tenant and IAM routes are all served", async () => {
  const routes = Object.entries(spec.paths)
    .filter(
      ([path]) => path.startsWith('/kapis/tenant.kubesphere.io/v1beta1/') || path.startsWith('/kapis/iam.kubesphere.io/v1beta1/'),
    )
    .filter(([path]) => !ELSEWHERE.some((r) => r.test(path)));
  assert.ok(routes.length >= 20, `the reference lists the routes (${routes.length})`);
  let checked = 0;
  for (const [template, operations] of routes) {
    for (const method of Object.keys(operations).filter((m) => m !== 'parameters')) {
      let path = template.replace(/\{(\w+)\}/g, (_m, name: string) => PARAMS[name] ?? `unknown-${name}`);
      const upper = method.toUpperCase();
      // Writes to existing objects go to ones that do not exist, so the run changes nothing.
      if (['PUT', 'PATCH', 'DELETE'].includes(upper)) path = path.replace(/\/(ws1|p1)$/, '/does-not-exist');
      if (upper === 'POST' && !path.endsWith('subjectaccessreviews'))
        path = path.replace('/workspaces/ws1/', '/workspaces/does-not-exist/');
      const body =
        upper === 'GET' || upper === 'DELETE'
          ? undefined
          : upper === 'POST' && /members$/.test(path)
            ? [{ username: 'nobody', roleRef: 'no-such-role' }]
            : { metadata: { name: 'x' }, spec: {} };
      const answer = await t
        .as('root')
        .request(upper, path, body, upper === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
      assert.notEqual(answer.status, 405, `${upper} ${path}: ${answer.text}`);
      if (answer.status === 404)
        assert.notEqual(
          answer.body?.message,
          'the server could not find the requested resource',
          `${upper} ${path} is not routed`,
        );
      assert.ok(answer.status < 500, `${upper} ${path}: ${answer.status} ${answer.text}`);
      checked++;
    }
  }
  assert.ok(checked >= 30, `checked ${checked} operations`);
});
