// Lighthouse 12.2.3 (pinned in tests/bench/package.json) on the Overview and
// the Explorer, signed in, in Debian's Chromium, with the desktop preset:
// partners use the app at a desk, in the browser or inside their portal.
// Each page three times (LIGHTHOUSE_RUNS), the median score per category;
// LIGHTHOUSE_DETAILS=1 prints the audits that explain a score (what was used
// to find the uncompressed wasm and the layout shift).
// `cargo xtask bench` runs it and reads the BENCH line.
import lighthouse from 'lighthouse';
import desktop from 'lighthouse/core/config/desktop-config.js';
import * as chromeLauncher from 'chrome-launcher';
import { startServers, launchBrowser } from '../e2e/servers.mjs';
import { syncedSession, median } from './session.mjs';

const RUNS = Number(process.env.LIGHTHOUSE_RUNS ?? 3);
const PAGES = { Overview: '/', Explorer: '/explorer' };
const CATEGORIES = ['performance', 'accessibility', 'best-practices'];

const servers = await startServers({ customers: 200, logLevel: 'warn' });
let chrome;
try {
  const browser = await launchBrowser();
  const cookies = await syncedSession(browser, servers).finally(() => browser.close());
  const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  chrome = await chromeLauncher.launch({
    chromePath: process.env.CHROMIUM,
    chromeFlags: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
    ],
  });
  const scores = {};
  const failures = {};
  for (const [name, path] of Object.entries(PAGES)) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const result = await lighthouse(
        `${servers.proxyUrl}${path}`,
        { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: CATEGORIES, extraHeaders: { Cookie: cookie } },
        desktop,
      );
      const { categories, audits } = result.lhr;
      runs.push(Object.fromEntries(CATEGORIES.map((c) => [c, categories[c].score])));
      if (process.env.LIGHTHOUSE_DETAILS) {
        for (const id of ['layout-shifts', 'largest-contentful-paint-element', 'bootup-time', 'network-requests']) {
          console.error(id, JSON.stringify(audits[id]?.details?.items?.slice(0, 12), null, 1));
        }
      }
      // What cost points, so that the note can say why.
      for (const c of CATEGORIES) {
        for (const ref of categories[c].auditRefs) {
          const audit = audits[ref.id];
          if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
            failures[`${name}/${c}/${ref.id}`] = audit.displayValue ?? audit.score;
          }
        }
      }
    }
    scores[name] = Object.fromEntries(CATEGORIES.map((c) => [c, median(runs.map((r) => r[c]))]));
  }
  console.log(`BENCH ${JSON.stringify({ runs: RUNS, preset: 'desktop', scores, failures })}`);
} finally {
  if (chrome) await chrome.kill();
  await servers.stop();
}
