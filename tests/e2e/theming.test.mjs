// Theming and small screens: the palette follows the browser's colour scheme
// unless the person picks one in Settings (remembered in this browser), and
// every view fits a 360-pixel-wide screen with no sideways scrolling.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServers, launchBrowser, signIn, fullSync } from './servers.mjs';

let servers;
let browser;
let cookies;

before(async () => {
  servers = await startServers({ customers: 8 });
  browser = await launchBrowser();
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, servers, servers.partner.users[0].userName, '/');
  await fullSync(page, servers);
  cookies = await context.cookies();
  await context.close();
});

after(async () => {
  await browser?.close();
  await servers?.stop();
});

const background = (page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
const DARK = 'rgb(15, 20, 25)';
const LIGHT = 'rgb(247, 248, 250)';

test('the colours follow the system until the person picks a theme, which is remembered', async () => {
  const context = await browser.newContext({ colorScheme: 'dark' });
  await context.addCookies(cookies);
  const page = await context.newPage();
  await page.goto(`${servers.proxyUrl}/settings`);
  await page.locator('#theme').waitFor();
  assert.equal(await background(page), DARK);

  await page.selectOption('#theme', 'light');
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
  assert.equal(await background(page), LIGHT);
  await page.reload();
  await page.locator('#theme').waitFor();
  assert.equal(await page.inputValue('#theme'), 'light');
  assert.equal(await background(page), LIGHT);
  // Only the theme is kept in the browser's storage.
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), ['csp-costs.theme']);

  await page.selectOption('#theme', 'auto');
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'auto');
  assert.equal(await background(page), DARK);
  await page.emulateMedia({ colorScheme: 'light' });
  assert.equal(await background(page), LIGHT);
  await context.close();
});

test('every view fits a 360-pixel-wide screen', async () => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  await context.addCookies(cookies);
  const page = await context.newPage();
  const list = await (await page.request.get(`${servers.proxyUrl}/api/customers`)).json();
  const customer = list.customers[0].id;
  for (const path of ['/', '/customers', `/customers/${customer}`, '/explorer', '/budgets', '/margin', '/onboarding', '/settings']) {
    await page.goto(`${servers.proxyUrl}${path}`);
    await page.locator('main h1').first().waitFor();
    // Let the data arrive and the page settle.
    await page.waitForFunction(() => !document.querySelector('[aria-busy=true]'), null, { timeout: 15_000 });
    const wide = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      view: document.documentElement.clientWidth,
      culprits: [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .filter((e) => !e.closest('table.data'))
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className}`),
    }));
    assert.ok(wide.page <= wide.view, `${path}: the page is ${wide.page} px wide on a ${wide.view} px screen (${wide.culprits.join(', ')})`);
  }
  await context.close();
});

test("the browser's language is spoken by default, and a language picked is remembered", async () => {
  const nav = (page) => page.locator('nav[aria-label] a').allInnerTexts();
  // A browser set to Traditional Chinese gets it without asking.
  const taiwan = await browser.newContext({ locale: 'zh-TW' });
  await taiwan.addCookies(cookies);
  const page = await taiwan.newPage();
  await page.goto(`${servers.proxyUrl}/settings`);
  // The connection's link waits for the session; the rest are there at once.
  await page.locator('nav a', { hasText: '連線與金鑰' }).waitFor();
  assert.deepEqual(await nav(page), ['總覽', '客戶', '成本分析', '預算', '售價與毛利', '連線與金鑰', '設定']);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-TW');
  assert.match(await page.locator('footer').innerText(), /日期以 UTC 計/);
  await taiwan.close();

  // An English browser, switched by hand: at once, and after a reload.
  const english = await browser.newContext({ locale: 'en-US' });
  await english.addCookies(cookies);
  const other = await english.newPage();
  await other.goto(`${servers.proxyUrl}/settings`);
  await other.locator('nav a', { hasText: 'Overview' }).waitFor();
  await other.selectOption('label.language select', 'zh-TW');
  await other.locator('nav a', { hasText: '總覽' }).waitFor();
  await other.reload();
  await other.locator('nav a', { hasText: '總覽' }).waitFor();
  assert.equal(await other.inputValue('label.language select'), 'zh-TW');
  await other.selectOption('label.language select', 'en');
  await other.locator('nav a', { hasText: 'Overview' }).waitFor();
  await english.close();
});
