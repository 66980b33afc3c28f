/**
 * The audit trail keeps an update's object before and after, for writes proxied to the cluster,
 * with Secret values redacted on both sides.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { accessToken, ADMIN_PASSWORD, initializeAdmin, startPlatform, type TestPlatform } from './identity-support.js';

let p: TestPlatform;
let token: string;
before(async () => {
  p = await startPlatform();
  await initializeAdmin(p);
  token = await accessToken(p, 'admin', ADMIN_PASSWORD);
});
after(async () => p?.close());

const auditQuery = async (query: string) => {
  const r = await p.http.request('GET', `/kapis/logging.kubesphere.io/v1alpha2/auditing?${query}`, { token });
  assert.equal(r.status, 200, r.text);
  return r.json().query.records as any[];
};

it('records the object before and after a patch, and a delete, with Secret data redacted', async () => {
  const ns = '/api/v1/namespaces/default';
  let r = await p.http.request('POST', `${ns}/configmaps`, { token, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'audited' }, data: { colour: 'red' } } });
  assert.equal(r.status, 201, r.text);
  const patched = await fetch(`${p.http.url}${ns}/configmaps/audited`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ data: { colour: 'blue' } }),
  });
  assert.equal(patched.status, 200, await patched.text());
  const [patch] = await auditQuery('verb_filter=patch&objectref_name_filter=audited&size=5');
  assert.equal(patch.beforeObject?.data?.colour, 'red');
  assert.equal(patch.responseObject?.data?.colour, 'blue');

  const secretValue = Buffer.from('hunter2-never-audited').toString('base64');
  r = await p.http.request('POST', `${ns}/secrets`, { token, body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'audited-secret' }, data: { password: secretValue } } });
  assert.equal(r.status, 201, r.text);
  r = await p.http.request('PUT', `${ns}/secrets/audited-secret`, { token, body: { ...r.json(), data: { password: Buffer.from('changed-never-audited').toString('base64') } } });
  assert.equal(r.status, 200, r.text);
  r = await p.http.request('DELETE', `${ns}/secrets/audited-secret`, { token });
  assert.equal(r.status, 200, r.text);
  const records = await auditQuery('objectref_name_filter=audited-secret&size=10');
  assert.deepEqual(records.map((x) => x.verb).sort(), ['create', 'delete', 'update']);
  const update = records.find((x) => x.verb === 'update');
  assert.deepEqual(update.beforeObject?.data, { password: '[redacted]' });
  assert.deepEqual(update.responseObject?.data, { password: '[redacted]' });
  const text = JSON.stringify(records);
  for (const leaked of [secretValue, 'hunter2', Buffer.from('changed-never-audited').toString('base64')]) assert.ok(!text.includes(leaked), `audit holds ${leaked}`);
});
