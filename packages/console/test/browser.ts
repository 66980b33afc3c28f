/**
 * Browser test support: Debian's chromium driven by playwright-core (`npx playwright install`
 * cannot work here), a `canopy server` with the built console, the first sign-in password read
 * from its output, and screenshots under test-output/screenshots/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot, startServer, type RunningServer } from '../../cli/test/support/server.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const SCREENSHOTS = join(repoRoot, 'test-output', 'screenshots');
const CONSOLE_INDEX = join(repoRoot, 'packages', 'console', 'dist', 'index.html');

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (npm test does: apt-get install -y chromium)`);
  if (!existsSync(CONSOLE_INDEX)) throw new Error(`${CONSOLE_INDEX} is missing: build the console first (npm run build)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export interface ConsoleServer {
  server: RunningServer;
  url: string;
  /** The first-start admin password `canopy server` printed. */
  adminPassword: string;
}

export async function startConsoleServer(extraArgs: string[] = []): Promise<ConsoleServer> {
  const server = await startServer({ extraArgs });
  // The line comes right after the URLs; give the process a moment to flush it.
  const deadline = Date.now() + 5000;
  let match: RegExpExecArray | null = null;
  while (!(match = /First sign-in: admin \/ (\S+)/.exec(server.output())) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  if (!match) {
    await server.stop();
    throw new Error(`canopy server printed no first sign-in password:\n${server.output()}`);
  }
  return { server, url: server.platformUrl, adminPassword: match[1] };
}

/**
 * Records what goes wrong in a page: uncaught errors, console errors, and server errors (5xx).
 * 4xx answers are states the console shows (a wrong password, a forbidden page), not faults, and
 * the browser's own "Failed to load resource" lines only repeat them.
 */
export function watchPage(page: Page): { errors: string[] } {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 500) errors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  return { errors };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

export async function newContext(browser: Browser): Promise<BrowserContext> {
  // The front may serve HTTPS with the cluster's own CA, which the browser does not know.
  return browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-US', ignoreHTTPSErrors: true });
}

/** Sign-in through the console's own endpoint (what the sign-in page does), for API set-up. */
export async function tokenFor(url: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${url}/login/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!response.ok || !body.access_token)
    throw new Error(`sign-in of ${username} answered ${response.status}: ${JSON.stringify(body)}`);
  return body.access_token;
}

export async function platformRequest(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

/** A form field by its visible label (a required field's label ends with an asterisk). */
export function labelled(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s*\\*)?$`);
}

/** The words of the console's dictionary the first sign-in goes through (en.ts or zh.ts). */
interface SignInWords {
  signIn: { submit: string };
  password: { forcedTitle: string; submit: string };
  home: { welcome: string };
}

/**
 * admin's first sign-in with the password `canopy server` printed, then the forced change to
 * `newPassword`, as a newcomer does it; resolves on the home page.
 */
export async function firstSignIn(page: Page, env: ConsoleServer, newPassword: string, L: SignInWords): Promise<void> {
  await page.goto(`${env.url}/login`);
  await page.locator('#username').fill('admin');
  await page.locator('#password').fill(env.adminPassword);
  await page.getByRole('button', { name: L.signIn.submit, exact: true }).click();
  await page.getByRole('heading', { name: L.password.forcedTitle }).waitFor();
  await page.locator('#new-password').fill(newPassword);
  await page.locator('#confirm-password').fill(newPassword);
  await page.getByRole('button', { name: L.password.submit }).click();
  await page
    .getByTestId('page-title')
    .filter({ hasText: L.home.welcome.replace('{{name}}', 'admin') })
    .waitFor();
}

/**
 * Sub-tests of `t` that depend on the ones before: after a failure the rest are skipped (the test
 * has failed already, so nothing passes silently), and the page is photographed as
 * `failureShot` where it went wrong.
 */
export function dependentSteps(
  t: TestContext,
  page: Page,
  failureShot: string,
): (name: string, fn: () => Promise<void>) => Promise<void> {
  let failed = '';
  return (name, fn) =>
    t.test(name, async (s) => {
      if (failed) return s.skip(`after the failure of "${failed}"`);
      try {
        await fn();
      } catch (err) {
        failed = name;
        await screenshot(page, failureShot).catch(() => undefined);
        throw err;
      }
    });
}
