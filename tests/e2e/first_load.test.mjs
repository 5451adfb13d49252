// The partner's app is split (issue 23): its first load is the shell and the
// Overview, one wasm file; the other pages' code arrives when one of them is
// first opened, one more file from the build's split-<hash>/ folder, and is
// not fetched again. A deep link to such a page loads the two. Traditional
// Chinese is a file of its own too, fetched by a browser that reads it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServers, launchBrowser, signIn } from './servers.mjs';

let servers;
let browser;

before(async () => {
  servers = await startServers({ customers: 4, logLevel: 'warn' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await servers?.stop();
});

/** A page that keeps the wasm files it fetches (their paths) and its errors. */
async function watchedPage(context) {
  const page = await context.newPage();
  const wasm = [];
  const problems = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.endsWith('.wasm')) wasm.push(path);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${new URL(r.url()).pathname}`);
  });
  return { page, wasm, problems };
}

const MAIN = /^\/csp-costs-[0-9a-f]{16}_bg\.wasm$/;
const PAGES = /^\/split-[0-9a-f]{16}\/split_pages\.wasm$/;

test("the first load is the Overview's; the other pages' code comes when one opens, once", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const { page, wasm, problems } = await watchedPage(context);
  await signIn(page, servers, servers.partner.users[0].userName, '/');
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await page.locator('h1', { hasText: 'Overview' }).waitFor();
  // The emulator's sign-in page has no icon (its 404 is not the app's).
  problems.length = 0;
  // Only the main module, however often the sign-in's pages loaded it.
  assert.ok(wasm.length > 0 && wasm.every((p) => MAIN.test(p)), wasm.join());

  wasm.length = 0;
  await page.getByRole('link', { name: 'Explorer', exact: true }).click();
  await page.locator('h1', { hasText: 'Cost explorer' }).waitFor();
  assert.equal(wasm.length, 1, wasm.join());
  assert.match(wasm[0], PAGES);

  // Another page, and back: nothing is fetched again.
  wasm.length = 0;
  await page.getByRole('link', { name: 'Customers', exact: true }).click();
  await page.locator('h1', { hasText: 'Customers' }).waitFor();
  await page.getByRole('link', { name: 'Explorer', exact: true }).click();
  await page.locator('h1', { hasText: 'Cost explorer' }).waitFor();
  assert.deepEqual(wasm, []);
  assert.deepEqual(problems, []);

  // A deep link, cold: the main module, then the pages'.
  const cookies = await context.cookies();
  const fresh = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await fresh.addCookies(cookies);
  const cold = await watchedPage(fresh);
  await cold.page.goto(`${servers.proxyUrl}/budgets`);
  await cold.page.locator('h1', { hasText: 'Budgets' }).waitFor();
  assert.equal(cold.wasm.length, 2, cold.wasm.join());
  assert.match(cold.wasm[0], MAIN);
  assert.match(cold.wasm[1], PAGES);
  assert.deepEqual(cold.problems, []);
  await fresh.close();
  await context.close();
});

test("when the pages' file cannot be fetched, the page says so, and trying again loads it", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const { page, wasm } = await watchedPage(context);
  await signIn(page, servers, servers.partner.users[0].userName, '/');
  await page.locator('h1', { hasText: 'Overview' }).waitFor();
  // The connection drops before the Explorer is first opened.
  await page.route('**/split_pages.wasm', (route) => route.abort('internetdisconnected'));
  await page.getByRole('link', { name: 'Explorer', exact: true }).click();
  const alert = page.locator('[role=alert]', { hasText: 'This page could not be loaded' });
  await alert.waitFor();
  assert.equal(await page.locator('h1', { hasText: 'Cost explorer' }).count(), 0);
  // The shell still works: the Overview, in the main module, opens; and
  // opening the Explorer again tries the file again (and fails again).
  await page.getByRole('link', { name: 'Overview', exact: true }).click();
  await page.locator('h1', { hasText: 'Overview' }).waitFor();
  const tries = wasm.filter((p) => PAGES.test(p)).length;
  await page.getByRole('link', { name: 'Explorer', exact: true }).click();
  await alert.waitFor();
  assert.ok(wasm.filter((p) => PAGES.test(p)).length > tries, wasm.join());

  // Back online, "Try again" reloads the app at the Explorer, which opens.
  await page.unroute('**/split_pages.wasm');
  await page.getByRole('button', { name: 'Try again' }).click();
  await page.locator('h1', { hasText: 'Cost explorer' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/explorer');
  assert.ok(wasm.some((p) => PAGES.test(p)), wasm.join());
  await context.close();
});

const ZH_TW = /^\/split-[0-9a-f]{16}\/split_zh_tw\.wasm$/;

test('the Chinese words come with the app for a zh-TW browser, and when someone switches to them', async () => {
  // A browser set to Traditional Chinese: its words with the first load.
  const zh = await browser.newContext({ locale: 'zh-TW', viewport: { width: 1280, height: 900 } });
  const chinese = await watchedPage(zh);
  await signIn(chinese.page, servers, servers.partner.users[0].userName, '/');
  await chinese.page.locator('h1', { hasText: '總覽' }).waitFor();
  assert.ok(chinese.wasm.some((p) => ZH_TW.test(p)), chinese.wasm.join());
  assert.ok(chinese.wasm.every((p) => MAIN.test(p) || ZH_TW.test(p)), chinese.wasm.join());
  assert.equal(await chinese.page.locator('html').getAttribute('lang'), 'zh-TW');
  await zh.close();

  // An English one never fetches them, until the switcher asks.
  const en = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const english = await watchedPage(en);
  await signIn(english.page, servers, servers.partner.users[0].userName, '/');
  await english.page.locator('h1', { hasText: 'Overview' }).waitFor();
  assert.ok(!english.wasm.some((p) => ZH_TW.test(p)), english.wasm.join());
  await english.page.locator('label.language select').selectOption('zh-TW');
  await english.page.locator('h1', { hasText: '總覽' }).waitFor();
  assert.ok(english.wasm.some((p) => ZH_TW.test(p)), english.wasm.join());
  assert.equal(await english.page.locator('html').getAttribute('lang'), 'zh-TW');
  await en.close();

  // Words that cannot be fetched: the app starts, in English, rather than not at all.
  const offline = await browser.newContext({ locale: 'zh-TW', viewport: { width: 1280, height: 900 } });
  const cut = await watchedPage(offline);
  await cut.page.route('**/split_zh_tw.wasm', (route) => route.abort('internetdisconnected'));
  await signIn(cut.page, servers, servers.partner.users[0].userName, '/');
  await cut.page.locator('h1', { hasText: 'Overview' }).waitFor();
  assert.equal(await cut.page.locator('html').getAttribute('lang'), 'en');
  await offline.close();
});
