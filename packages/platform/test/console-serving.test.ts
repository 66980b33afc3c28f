/**
 * The platform front serving the web console: its built files (a stand-in dist/ here) with the
 * caching and security headers a browser relies on, the single-page fallback that never hides an
 * API 404, and the console's server-side sign-in as the console's OAuth client.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform, type TestPlatform } from './identity-support.js';

const dist = mkdtempSync(join(tmpdir(), 'canopy-console-dist-'));
const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;
let p: TestPlatform;

before(async () => {
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, 'assets', 'index-abc123.js'), SCRIPT);
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  // consoleAssets() reads the directory from here when the platform is given none.
  process.env.CANOPY_CONSOLE_DIR = dist;
  p = await startPlatform();
});

after(async () => {
  await p?.close();
  rmSync(dist, { recursive: true, force: true });
});

function assertSecurityHeaders(headers: Headers): void {
  const csp = headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-eval/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(headers.get('x-frame-options'), 'DENY');
  assert.equal(headers.get('x-content-type-options'), 'nosniff');
}

test('console pages are index.html for anyone, never cached, with the security headers', async () => {
  for (const path of [
    '/',
    '/login',
    '/clusters',
    '/clusters/host/overview',
    '/workspaces/ws1/clusters/host/projects/demo/pods/web-0',
    '/access/users',
  ]) {
    const r = await p.http.request('GET', path);
    assert.equal(r.status, 200, path);
    assert.equal(r.text, INDEX, path);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    assertSecurityHeaders(r.headers);
  }
});

test('hashed assets are immutable, gzipped for clients that accept it, and revalidate by ETag', async () => {
  const r = await fetch(`${p.http.url}/assets/index-abc123.js`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(r.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assertSecurityHeaders(r.headers);
  assert.equal(r.headers.get('content-encoding'), 'gzip');
  assert.equal(await r.text(), SCRIPT); // fetch decodes the gzip it asked for
  const raw = await p.http.request('GET', '/assets/index-abc123.js', { headers: { 'accept-encoding': 'identity' } });
  assert.equal(raw.headers.get('content-encoding'), null);
  assert.equal(raw.text, SCRIPT);
  const etag = r.headers.get('etag')!;
  const again = await p.http.request('GET', '/assets/index-abc123.js', { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
});

test('a missing asset is a 404 Status, not index.html; API paths keep their own answers', async () => {
  const missing = await p.http.request('GET', '/assets/index-gone.js');
  assert.equal(missing.status, 404);
  assert.equal(missing.json().kind, 'Status');
  assertSecurityHeaders(missing.headers);
  // Anonymous API calls are still refused, not answered with the console.
  assert.equal((await p.http.request('GET', '/api/v1/namespaces')).status, 401);
  assert.equal((await p.http.request('GET', '/kapis/resources.kubesphere.io/v1alpha3/pods')).status, 401);
  const token = (
    await p.http.request('POST', '/login/token', {
      form: { grant_type: 'password', username: 'admin', password: p.platform.initialAdminPassword! },
    })
  ).json().access_token;
  const unserved = await p.http.request('GET', '/kapis/nothing.example.com/v1/things', { token });
  assert.ok(unserved.status === 404 || unserved.status === 403, String(unserved.status));
  assert.equal(unserved.json().kind, 'Status');
});

test('paths cannot leave the console directory', async () => {
  for (const path of [
    '/..%2f..%2f..%2fetc%2fpasswd',
    '/assets/..%2f..%2f..%2f..%2fetc%2fpasswd',
    '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
  ]) {
    const r = await p.http.request('GET', path);
    assert.doesNotMatch(r.text, /root:/, path);
    assert.ok([200, 400, 401, 404].includes(r.status), `${path}: ${r.status}`);
  }
});

test('the console signs in as its OAuth client: password and refresh grants only, the server’s answers unchanged', async () => {
  const signIn = await p.http.request('POST', '/login/token', {
    form: { grant_type: 'password', username: 'admin', password: p.platform.initialAdminPassword! },
  });
  assert.equal(signIn.status, 200, signIn.text);
  const tokens = signIn.json();
  assert.equal(tokens.token_type, 'Bearer');
  assert.equal(signIn.headers.get('cache-control'), 'no-store');
  // A client named by the browser is ignored: the exchange is always the console's.
  const named = await p.http.request('POST', '/login/token', {
    form: {
      grant_type: 'password',
      username: 'admin',
      password: p.platform.initialAdminPassword!,
      client_id: 'other',
      client_secret: 'guess',
    },
  });
  assert.equal(named.status, 200);
  const refreshed = await p.http.request('POST', '/login/token', {
    form: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
  });
  assert.equal(refreshed.status, 200, refreshed.text);
  assert.ok(refreshed.json().access_token);

  const wrong = await p.http.request('POST', '/login/token', {
    form: { grant_type: 'password', username: 'admin', password: 'not-it' },
  });
  assert.equal(wrong.status, 400);
  assert.deepEqual(wrong.json(), { error: 'invalid_grant', error_description: 'Invalid username or password.' });
  const other = await p.http.request('POST', '/login/token', { form: { grant_type: 'client_credentials' } });
  assert.equal(other.status, 400);
  assert.equal(other.json().error, 'unsupported_grant_type');
  const json = await p.http.request('POST', '/login/token', { body: { grant_type: 'password' } });
  assert.equal(json.status, 400);
  assert.equal(json.json().error, 'invalid_request');
  // Without the console's client the password grant itself is closed to browsers.
  const direct = await p.http.request('POST', '/oauth/token', {
    form: {
      grant_type: 'password',
      username: 'admin',
      password: p.platform.initialAdminPassword!,
      client_id: 'kubesphere',
      client_secret: 'kubesphere',
    },
  });
  assert.notEqual(direct.status, 200);
});

test('without a built console, pages say how to build it (and assets stay 404)', async () => {
  unlinkSync(join(dist, 'index.html'));
  const r = await p.http.request('GET', '/clusters/host/overview');
  assert.equal(r.status, 503);
  assert.match(r.text, /npm run build/);
  assertSecurityHeaders(r.headers);
  writeFileSync(join(dist, 'index.html'), INDEX);
  assert.equal((await p.http.request('GET', '/')).status, 200);
});
