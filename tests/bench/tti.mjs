// Time to an interactive Overview, in headless Chromium on localhost with an
// emulator of 200 customers: from navigation start to the frame after the
// trend is drawn with data (the app's `overview-interactive` mark), each run
// in a fresh browser context (nothing cached). Baseline, same run: the load
// of the same page with JavaScript off (the HTML and CSS alone).
// `cargo xtask bench` runs it and reads the BENCH line.
import { startServers, launchBrowser } from '../e2e/servers.mjs';
import { syncedSession, median } from './session.mjs';

const RUNS = 7;

const servers = await startServers({ customers: 200, logLevel: 'warn' });
const browser = await launchBrowser();
try {
  const cookies = await syncedSession(browser, servers);

  const interactive = [];
  const shell = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext();
    await context.addCookies(cookies);
    const p = await context.newPage();
    await p.goto(`${servers.proxyUrl}/`);
    await p.waitForFunction(() => performance.getEntriesByName('overview-interactive').length > 0, null, { timeout: 30_000 });
    interactive.push(await p.evaluate(() => performance.getEntriesByName('overview-interactive')[0].startTime));
    await context.close();

    const still = await browser.newContext({ javaScriptEnabled: false });
    const s = await still.newPage();
    await s.goto(`${servers.proxyUrl}/`, { waitUntil: 'load' });
    shell.push(await s.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventEnd));
    await still.close();
  }
  console.log(`BENCH ${JSON.stringify({ runs: RUNS, customers: 200, medianMs: median(interactive), allMs: interactive.map(Math.round), shellMedianMs: median(shell) })}`);
} finally {
  await browser.close();
  await servers.stop();
}
