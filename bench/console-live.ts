/**
 * The console's pod list under load (issue 6, "Performance, measured in the browser"):
 *
 * 1. Time from navigation to a usable, virtualised list of 5,000 pods in one page
 *    (`/clusters/host/pods?limit=5000`; "usable" = the total shown and the first rows rendered),
 *    median of 5 navigations after signing in through the console (with the forced first
 *    password change).
 * 2. The page's memory under live updates: the list stays open (it watches pods) while a driver
 *    merge-patches labels and annotations of random pods at a steady rate. Every `--sample-seconds`
 *    the page's JS heap is read after a forced GC (CDP HeapProfiler.collectGarbage, then
 *    Runtime.getHeapUsage), with the DOM node count; the series and the slope over the second
 *    half (MB per minute, least squares) decide "grows" or "flat within noise".
 *
 * The server runs with `--nodes 0 --controllers lifecycle`: no scheduler and no kubelets, so the
 * bare pods stay Pending and the only writes are the driver's.
 *
 *   npm run build && npm run bench:console-live [-- --pods 5000 --minutes 10 --rate 50]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CDPSession, Page } from 'playwright-core';
import { KubeClient, types } from '@canopy/client';
import { ROOT } from './support.js';
import { launchBrowser, newContext, startConsoleServer, watchPage } from '../packages/console/test/browser.js';

const { values: flags } = parseArgs({
  options: {
    pods: { type: 'string', default: '5000' },
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '50' },
    'sample-seconds': { type: 'string', default: '30' },
    navigations: { type: 'string', default: '5' },
    /** Heap snapshots at the first and last sample: which classes grew (count and self size). */
    snapshots: { type: 'boolean', default: false },
  },
  strict: true,
});
const PODS = Number(flags.pods);
const MINUTES = Number(flags.minutes);
const RATE = Number(flags.rate);
const SAMPLE_MS = Number(flags['sample-seconds']) * 1000;
const NAVIGATIONS = Number(flags.navigations);
const NAMESPACE = 'bench';
const PASSWORD = 'Bench-Console-Live-1';
const LIST_PATH = `/clusters/host/pods?limit=${PODS}`;

const podName = (i: number) => `pod-${String(i).padStart(5, '0')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function createPods(kube: KubeClient): Promise<void> {
  await kube.create(types.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  // Pods need their service account; with only the lifecycle controllers nothing else may make it in time.
  for (let tries = 0; !(await kube.tryGet(types.serviceAccounts, 'default', NAMESPACE)); tries++) {
    if (tries === 20)
      await kube.create(types.serviceAccounts, {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'default', namespace: NAMESPACE },
      });
    await sleep(100);
  }
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < PODS) {
        const i = next++;
        await kube.create(
          types.pods,
          {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name: podName(i), namespace: NAMESPACE, labels: { app: 'bench' } },
            spec: { automountServiceAccountToken: false, containers: [{ name: 'app', image: 'nginx:1.27' }] },
          },
          { namespace: NAMESPACE },
        );
      }
    }),
  );
  console.log(`${PODS} pods created in ${((performance.now() - start) / 1000).toFixed(1)} s`);
}

/** Resolves when the list shows the whole total and its first pod row. */
async function waitUsable(page: Page): Promise<void> {
  // A function, not a string: the console's CSP forbids eval, and playwright honours it for strings.
  await page.waitForFunction(
    (n) =>
      Number(
        /(\d+)/.exec((globalThis as any).document.querySelector('[data-testid=total-items]')?.textContent ?? '')?.[1] ?? 0,
      ) >= n,
    PODS,
    { timeout: 30_000 },
  );
  await page
    .getByRole('link', { name: /^pod-\d+$/ })
    .first()
    .waitFor({ timeout: 30_000 });
}

async function heapSample(cdp: CDPSession): Promise<{ usedMB: number; totalMB: number; nodes: number; listeners: number }> {
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const metric = (name: string) => metrics.find((m) => m.name === name)?.value ?? NaN;
  return {
    usedMB: heap.usedSize / 2 ** 20,
    totalMB: heap.totalSize / 2 ** 20,
    nodes: metric('Nodes'),
    listeners: metric('JSEventListeners'),
  };
}

type ClassCounts = Map<string, { count: number; bytes: number }>;

/** A heap snapshot (after a forced GC) reduced to object counts and self sizes per type and constructor name. */
async function classCounts(cdp: CDPSession): Promise<ClassCounts> {
  await cdp.send('HeapProfiler.collectGarbage');
  const chunks: string[] = [];
  const onChunk = (e: { chunk: string }) => void chunks.push(e.chunk);
  cdp.on('HeapProfiler.addHeapSnapshotChunk', onChunk);
  await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  cdp.off('HeapProfiler.addHeapSnapshotChunk', onChunk);
  const snapshot = JSON.parse(chunks.join('')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const typeNames = snapshot.snapshot.meta.node_types[0];
  const counts: ClassCounts = new Map();
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const type = typeNames[snapshot.nodes[i + typeAt]];
    // Strings, numbers and code are named by their content; group them by type alone.
    const key =
      type === 'object' || type === 'closure' || type === 'native'
        ? `${type} ${snapshot.strings[snapshot.nodes[i + nameAt]]}`
        : type;
    const entry = counts.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snapshot.nodes[i + sizeAt];
    counts.set(key, entry);
  }
  return counts;
}

function printGrowth(before: ClassCounts, after: ClassCounts): void {
  const rows = [...after].map(([key, a]) => {
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    return { key, count: a.count - b.count, bytes: a.bytes - b.bytes };
  });
  rows.sort((x, y) => y.bytes - x.bytes);
  console.log('\nheap snapshot, last minus first (top 15 by self size):');
  for (const r of rows.slice(0, 15))
    console.log(`  ${(r.bytes / 1024).toFixed(1).padStart(9)} kB  ${String(r.count).padStart(8)} objects  ${r.key}`);
}

/** Least-squares slope and the standard deviation of the residuals. */
function fit(xs: number[], ys: number[]): { slope: number; residualSd: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const slope = sxx ? sxy / sxx : 0;
  const residuals = xs.map((x, i) => ys[i] - (my + slope * (x - mx)));
  const residualSd = Math.sqrt(residuals.reduce((a, r) => a + r * r, 0) / Math.max(1, n - 2));
  return { slope, residualSd };
}

async function main(): Promise<void> {
  const [env, browser] = await Promise.all([startConsoleServer(['--nodes', '0', '--controllers', 'lifecycle']), launchBrowser()]);
  const kube = KubeClient.fromKubeconfig(env.server.kubeconfig, { userAgent: 'bench-console-live' });
  try {
    await createPods(kube);

    const context = await newContext(browser);
    const page = await context.newPage();
    const problems = watchPage(page);
    const url = env.url;

    // Sign in as a user does: the first sign-in of admin forces a new password, then goes to the list.
    let start = performance.now();
    await page.goto(`${url}/login?from=${encodeURIComponent(LIST_PATH)}`);
    await page.locator('#username').fill('admin');
    await page.locator('#password').fill(env.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Set a new password' }).waitFor();
    await page.locator('#new-password').fill(PASSWORD);
    await page.locator('#confirm-password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await waitUsable(page);
    console.log(`sign-in → usable list (first visit, cold caches): ${(performance.now() - start).toFixed(0)} ms`);

    const times: number[] = [];
    for (let round = 0; round < NAVIGATIONS; round++) {
      start = performance.now();
      await page.goto(`${url}${LIST_PATH}`);
      await waitUsable(page);
      times.push(performance.now() - start);
    }
    const sorted = times.slice().sort((a, b) => a - b);
    const rows = await page.locator('tr.canopy-row').count();
    console.log(
      `navigation → usable list of ${PODS} pods: p50 ${sorted[Math.floor((sorted.length - 1) / 2)].toFixed(0)} ms ` +
        `(runs: ${times.map((t) => t.toFixed(0)).join(', ')}); rows in the DOM: ${rows}`,
    );
    await page.getByTestId('live').waitFor({ timeout: 10_000 });

    // Live updates: a steady rate of merge patches over random pods, in ticks of 100 ms.
    let patches = 0;
    let patchErrors = 0;
    let driving = true;
    const driver = (async () => {
      const perTick = RATE / 10;
      let owed = 0;
      let tick = 0;
      const begin = performance.now();
      while (driving) {
        owed += perTick;
        const batch: Promise<unknown>[] = [];
        for (; owed >= 1; owed--) {
          const i = Math.floor(Math.random() * PODS);
          batch.push(
            kube
              .patch(
                types.pods,
                podName(i),
                {
                  metadata: {
                    labels: { tick: String(tick % 1000) },
                    annotations: { 'bench.canopy.dev/at': new Date().toISOString() },
                  },
                },
                'merge',
                { namespace: NAMESPACE },
              )
              .then(
                () => void patches++,
                () => void patchErrors++,
              ),
          );
        }
        await Promise.all(batch);
        tick++;
        const wait = begin + tick * 100 - performance.now();
        if (wait > 0) await sleep(wait);
      }
    })();

    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const durationMs = MINUTES * 60_000;
    const samples: { minute: number; usedMB: number; totalMB: number; nodes: number; listeners: number; patches: number }[] = [];
    const liveStart = performance.now();
    console.log(`\nlive updates at ${RATE} patches/s for ${MINUTES} min; heap after a forced GC every ${SAMPLE_MS / 1000} s:`);
    console.log('   min   used MB  total MB  DOM nodes  listeners  patches');
    const firstSnapshot = flags.snapshots ? await classCounts(cdp) : undefined;
    for (let at = 0; at <= durationMs; at += SAMPLE_MS) {
      const wait = liveStart + at - performance.now();
      if (wait > 0) await sleep(wait);
      const s = { minute: (performance.now() - liveStart) / 60_000, ...(await heapSample(cdp)), patches };
      samples.push(s);
      console.log(
        `  ${s.minute.toFixed(2).padStart(5)}  ${s.usedMB.toFixed(2).padStart(8)}  ${s.totalMB.toFixed(2).padStart(8)}  ` +
          `${String(s.nodes).padStart(9)}  ${String(s.listeners).padStart(9)}  ${String(s.patches).padStart(7)}`,
      );
    }
    const lastSnapshot = firstSnapshot ? await classCounts(cdp) : undefined;
    driving = false;
    await driver;
    if (firstSnapshot && lastSnapshot) printGrowth(firstSnapshot, lastSnapshot);
    const liveMinutes = (performance.now() - liveStart) / 60_000;

    const half = samples.slice(Math.floor(samples.length / 2));
    const { slope, residualSd } = fit(
      half.map((s) => s.minute),
      half.map((s) => s.usedMB),
    );
    const spanMinutes = half.at(-1)!.minute - half[0].minute;
    const growth = slope * spanMinutes;
    // Growth counts when the fitted rise over the second half exceeds both the sampling noise (2 σ
    // of the residuals) and 1 MB (allocator granularity: V8 keeps a few pages of slack).
    const grows = growth > Math.max(2 * residualSd, 1);
    console.log(
      `\n${patches} patches in ${liveMinutes.toFixed(1)} min (${(patches / (liveMinutes * 60)).toFixed(1)}/s), ${patchErrors} failed`,
    );
    console.log(
      `heap slope over the second half (${half.length} samples): ${slope.toFixed(3)} MB/min ` +
        `(${growth.toFixed(2)} MB over ${spanMinutes.toFixed(1)} min; residual σ ${residualSd.toFixed(2)} MB) → ` +
        (grows ? 'GROWS' : 'flat within noise'),
    );
    if (await page.getByTestId('total-items').isVisible())
      console.log(`list still shows: ${await page.getByTestId('total-items').textContent()}`);
    if (problems.errors.length) console.log(`page problems:\n  ${problems.errors.slice(0, 10).join('\n  ')}`);
    if (grows) {
      await page.screenshot({ path: join(ROOT, 'test-output', 'bench-console-live.png') });
      process.exitCode = 1;
    }
    await context.close();
  } finally {
    await browser.close();
    await env.server.stop();
  }
}

await main();
