// The Explorer at a large partner's scale, in headless Chromium on localhost:
// an emulator of 5,000 customers, one full sync, then the Explorer opened
// on the thirty days to the last day with usage, by customer, in a fresh
// browser context each run (nothing cached).
// Measured: from navigation start to the frame after the first chart is
// drawn with data (the app's `explorer-chart` mark); the bytes transferred
// for it; the main thread's long tasks (over 50 ms), the longest of all and
// the longest from when the cube was asked for; and a regroup (by the
// currency, which the summed cube keeps) from the change to the next chart. `cargo xtask bench` runs it and reads the BENCH line.
import { startServers, launchBrowser } from '../e2e/servers.mjs';
import { syncedSession, median } from './session.mjs';

const RUNS = Number(process.env.BENCH_EXPLORER_RUNS ?? 3);
const CUSTOMERS = Number(process.env.BENCH_EXPLORER_CUSTOMERS ?? 5000);

const servers = await startServers({ customers: CUSTOMERS, logLevel: 'warn', emulatorArgs: ['--months', '2'] });
const browser = await launchBrowser();
try {
  const synced = Date.now();
  const cookies = await syncedSession(browser, servers);
  const syncSeconds = (Date.now() - synced) / 1000;

  // A whole month: the thirty days to the last day with usage.
  const asOf = await (async () => {
    const context = await browser.newContext();
    await context.addCookies(cookies);
    try {
      return (await (await context.request.get(`${servers.proxyUrl}/api/overview`)).json()).asOf;
    } finally {
      await context.close();
    }
  })();
  const from = new Date(Date.parse(asOf) - 29 * 86_400_000).toISOString().slice(0, 10);

  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addCookies(cookies);
    const p = await context.newPage();
    // Long tasks from the very start of the page, not from when we asked.
    await p.addInitScript(() => {
      window.__long = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__long.push([Math.round(e.startTime), Math.round(e.duration)]);
      }).observe({ type: 'longtask', buffered: true });
    });
    let usage = null;
    p.on('response', (r) => {
      if (r.url().includes('/api/usage') && !usage) usage = r;
    });
    await p.goto(`${servers.proxyUrl}/explorer?from=${from}&to=${asOf}`);
    await p.waitForFunction(() => performance.getEntriesByName('explorer-chart').length > 0, null, { timeout: 120_000 });
    const first = await p.evaluate(() => ({
      chartMs: performance.getEntriesByName('explorer-chart')[0].startTime,
      // When the cube was asked for and when it had arrived.
      usage: performance
        .getEntriesByType('resource')
        .filter((e) => e.name.includes('/api/usage'))
        .map((e) => [Math.round(e.startTime), Math.round(e.responseStart), Math.round(e.responseEnd)]),
      transferred:
        performance.getEntriesByType('navigation')[0].transferSize +
        performance.getEntriesByType('resource').reduce((n, e) => n + e.transferSize, 0),
    }));
    const sizes = usage ? await usage.request().sizes() : null;
    // A regroup the cube on screen covers: no request, the pivot again.
    const regroupMs = await p.evaluate(async () => {
      const before = performance.getEntriesByName('explorer-chart').length;
      const select = document.querySelector('#g1');
      const t = performance.now();
      select.value = 'currency';
      select.dispatchEvent(new Event('change', { bubbles: true }));
      for (;;) {
        await new Promise((r) => requestAnimationFrame(r));
        if (performance.getEntriesByName('explorer-chart').length > before) {
          return performance.getEntriesByName('explorer-chart').at(-1).startTime - t;
        }
        if (performance.now() - t > 30_000) return null;
      }
    });
    // A task that ends after the regroup's chart is still counted.
    await p.waitForTimeout(1000);
    const long = await p.evaluate(() => window.__long);
    // The app's own steps (decode, pivot, convert, chart, table), to say
    // which of them a long task was: [name, start, duration].
    const steps = await p.evaluate(() =>
      performance
        .getEntriesByType('measure')
        .filter((m) => m.name.startsWith('csp-costs:'))
        .map((m) => [m.name.slice(10), Math.round(m.startTime), Math.round(m.duration)]),
    );
    // Issue 24: no task over 50 ms while the cube loads or regroups, that
    // is from when it was asked for on (the start-up before is the app's).
    const asked = first.usage.length ? first.usage[0][0] : Infinity;
    const longest = (tasks) => tasks.reduce((n, [, d]) => Math.max(n, d), 0);
    runs.push({
      ...first,
      usageBodyBytes: sizes?.responseBodySize ?? null,
      regroupMs,
      longTasks: long,
      steps,
      longestTaskMs: longest(long),
      longestTaskFromCubeMs: longest(long.filter(([start]) => start >= asked)),
    });
    await context.close();
  }
  const m = (k) => median(runs.map((r) => r[k]));
  console.log(`BENCH ${JSON.stringify({
    customers: CUSTOMERS,
    runs: RUNS,
    syncSeconds,
    from,
    to: asOf,
    chartMedianMs: m('chartMs'),
    transferredMedianBytes: m('transferred'),
    longestTaskMedianMs: m('longestTaskMs'),
    longestTaskFromCubeMs: Math.max(...runs.map((r) => r.longestTaskFromCubeMs)),
    regroupMedianMs: m('regroupMs'),
    all: runs,
  })}`);
} finally {
  await browser.close();
  await servers.stop();
}
