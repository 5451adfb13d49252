// Scratch (not committed): where the Explorer's first chart spends its main thread.
import { writeFileSync } from 'node:fs';
import { startServers, launchBrowser } from '../e2e/servers.mjs';
import { syncedSession } from './session.mjs';

const CUSTOMERS = Number(process.env.BENCH_EXPLORER_CUSTOMERS ?? 5000);
const servers = await startServers({ customers: CUSTOMERS, logLevel: 'warn', emulatorArgs: ['--months', '2'] });
const browser = await launchBrowser();
try {
  const cookies = await syncedSession(browser, servers);
  const ctx0 = await browser.newContext();
  await ctx0.addCookies(cookies);
  const asOf = (await (await ctx0.request.get(`${servers.proxyUrl}/api/overview`)).json()).asOf;
  await ctx0.close();
  const from = new Date(Date.parse(asOf) - 29 * 86_400_000).toISOString().slice(0, 10);
  for (let run = 0; run < Number(process.env.RUNS ?? 2); run++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addCookies(cookies);
    const p = await context.newPage();
    const cdp = await context.newCDPSession(p);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await browser.startTracing(p, { path: `/tmp/trace${run}.json`, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute'] });
    await cdp.send('Profiler.start');
    await p.goto(`${servers.proxyUrl}/explorer?from=${from}&to=${asOf}`);
    await p.waitForFunction(() => performance.getEntriesByName('explorer-chart').length > 0, null, { timeout: 120_000 });
    const { profile } = await cdp.send('Profiler.stop');
    await browser.stopTracing();
    writeFileSync(`/tmp/profile${run}.cpuprofile`, JSON.stringify(profile));
    const chart = await p.evaluate(() => performance.getEntriesByName('explorer-chart')[0].startTime);
    console.log('run', run, 'chart', chart);
    await context.close();
  }
} finally {
  await browser.close();
  await servers.stop?.();
}
