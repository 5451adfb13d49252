// Time to an interactive Overview, in headless Chromium on localhost with an
// emulator of 200 customers: from navigation start to the frame after the
// trend is drawn with data (the app's `overview-interactive` mark), each run
// in a fresh browser context (nothing cached). Baseline, same run: the load
// of the same page with JavaScript off (the HTML and CSS alone).
// `cargo xtask bench` runs it and reads the BENCH line.
import { startServers, launchBrowser, signIn } from '../e2e/servers.mjs';

const RUNS = 7;
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

const servers = await startServers({ customers: 200 });
const browser = await launchBrowser();
try {
  const first = await browser.newContext();
  const page = await first.newPage();
  await signIn(page, servers, servers.partner.users[0].userName, '/');
  const started = await page.request.post(`${servers.proxyUrl}/api/sync`, { data: { kind: 'full' } });
  if (started.status() !== 202) throw new Error(`sync: HTTP ${started.status()}`);
  for (;;) {
    const p = await (await page.request.get(`${servers.proxyUrl}/api/sync`)).json();
    if (p.status === 'succeeded') break;
    if (p.status === 'failed') throw new Error(`sync failed: ${p.error}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const cookies = await first.cookies();
  await first.close();

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
