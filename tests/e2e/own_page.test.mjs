// The customer's own page (`/my`), its own entry drawn without Leptos:
// the choices it keeps in the address, back and forward, signing out, its
// layout in both languages, the same page as the partner's app draws for a
// customer, a portal that frames it, and a wrong config.json. What it shows
// is checked in customer_view.test.mjs, its words in languages.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServers, launchBrowser, signIn, syncDone, staticServer, layoutProblems } from './servers.mjs';

const HOST_PAGE = join(import.meta.dirname, '../../examples/iframe-host');
let portal;
let servers;
let browser;

before(async () => {
  portal = await staticServer(HOST_PAGE);
  servers = await startServers({ customers: 8, proxyArgs: ['--frame-ancestors', portal.url] });
  browser = await launchBrowser();
  // The partner's admin lets the customer's user in, once the first sync has its figures.
  const it = servers.partner.customerUsers[0];
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, servers, servers.partner.users[0].userName, '/customers');
  await syncDone(page, servers);
  const status = await page.evaluate(async ([id, user]) => (await fetch(`/api/customers/${id}/users`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userName: user }),
  })).status, [it.customerId, it.userName]);
  assert.equal(status, 201);
  await context.close();
});

after(async () => {
  await browser?.close();
  await servers?.stop();
  await portal?.stop();
});

/** A browser of the customer's user, signed in on its own page. */
async function customerPage(locale = 'en-US') {
  const it = servers.partner.customerUsers[0];
  const context = await browser.newContext({ locale });
  const page = await context.newPage();
  const seen = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') seen.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => seen.push(`page error: ${e.message}`));
  await page.goto(`${servers.proxyUrl}/api/auth/login?returnTo=%2Fmy&as=customer`);
  await page.fill('#login', it.userName);
  await page.fill('#passwd', it.password);
  await page.click('button[type=submit]');
  await page.waitForURL((url) => url.origin === servers.proxyUrl && url.pathname === '/my');
  await page.locator('table.breakdown tbody tr').first().waitFor();
  return { context, page, seen, it };
}

const heading = (page) => page.locator('table.breakdown thead th').first().innerText();
const names = (page) => page.locator('table.breakdown tbody td:first-child').allInnerTexts();

test('the split and the period are kept in the address; back and forward walk them; signing out ends it', async () => {
  const { context, page, seen } = await customerPage();
  assert.equal(await heading(page), 'Azure subscription');
  const bySubscription = await names(page);

  // Another split: the address says it, the table and the chart follow, the choice keeps the focus.
  // (A person's click focuses the select; Playwright's choosing does not.)
  await page.focus('#own-by');
  await page.selectOption('#own-by', 'meterCategory');
  await page.waitForURL((url) => url.searchParams.get('by') === 'meterCategory');
  await page.locator('table.breakdown thead th', { hasText: 'Service' }).waitFor();
  const byService = await names(page);
  assert.ok(byService.length > 0);
  assert.equal(new Set(byService).size, byService.length, `a service twice: ${byService}`);
  assert.notDeepEqual(byService, bySubscription);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'own-by');
  assert.equal(await page.locator('#own-by').inputValue(), 'meterCategory');
  assert.equal(await page.locator('figure.stacked figcaption').innerText(), 'Daily price by service');

  // Back to the subscriptions, forward to the services.
  await page.goBack();
  await page.locator('table.breakdown thead th', { hasText: 'Azure subscription' }).waitFor();
  assert.deepEqual(await names(page), bySubscription);
  await page.goForward();
  await page.locator('table.breakdown thead th', { hasText: 'Service' }).waitFor();

  // Another period: its usage is asked for, the dates and the export follow it.
  const asked = page.waitForRequest((r) => r.url().includes('/api/my/usage?from='));
  await page.selectOption('#period', 'last-month');
  const usage = new URL((await asked).url());
  await page.waitForURL((url) => url.searchParams.get('period') === 'last-month');
  const from = usage.searchParams.get('from');
  const to = usage.searchParams.get('to');
  assert.match(from, /^\d{4}-\d{2}-01$/);
  assert.ok(to > from);
  await page.locator('p.reloading').waitFor({ state: 'detached' });
  assert.equal(await page.locator('#from').inputValue(), from);
  assert.equal(await page.locator('#to').inputValue(), to);
  const csv = await page.locator('a[download]').getAttribute('href');
  assert.ok(csv.endsWith(`/api/my/line-items.csv?from=${from}&to=${to}`), csv);
  // The split is kept across the change of period.
  assert.equal(await heading(page), 'Service');

  // A day typed in: its own request, and the address keeps it.
  await page.fill('#from', `${from.slice(0, 8)}05`);
  await page.waitForURL((url) => url.searchParams.get('from') === `${from.slice(0, 8)}05`);
  await page.locator('p.reloading').waitFor({ state: 'detached' });
  assert.equal(await page.locator('#from').inputValue(), `${from.slice(0, 8)}05`);

  // Signing out: the page asks to sign in again, and the session is gone.
  await page.getByRole('button', { name: 'Sign out' }).click();
  const button = page.locator('main .notice-box a.button', { hasText: 'Sign in' });
  await button.waitFor();
  assert.ok((await button.getAttribute('href')).includes('as=customer'));
  assert.deepEqual(seen, []);
  assert.equal(await page.evaluate(async () => (await fetch('/api/my')).status), 401);
  await context.close();
});

for (const locale of ['en-US', 'zh-TW']) {
  test(`${locale}: the own page at 1280 and 360 px: nothing scrolls sideways, no label word or amount is broken`, async () => {
    const { context, page, seen } = await customerPage(locale);
    const problems = [];
    for (const width of [1280, 360]) {
      await page.setViewportSize({ width, height: 900 });
      for (const by of ['subscription', 'resource']) {
        await page.goto(`${servers.proxyUrl}/my?by=${by}`);
        await page.locator('figure.stacked ul.legend li').first().waitFor();
        for (const p of await page.evaluate(layoutProblems, locale === 'en-US')) problems.push(`${width} px by ${by}: ${p}`);
      }
    }
    assert.deepEqual(problems, []);
    assert.deepEqual(seen, []);
    await context.close();
  });
}

test("the own entry draws the same page as the partner's app shows a customer at /my", async () => {
  const { context, page, seen } = await customerPage();
  const drawn = () => page.evaluate(() => ({
    text: document.querySelector('main').innerText,
    bars: [...document.querySelectorAll('figure.stacked svg rect')].map((r) =>
      ['x', 'y', 'width', 'height', 'class'].map((a) => r.getAttribute(a)).join(' ') + ` ${r.textContent}`),
    header: document.querySelector('header').innerText,
  }));
  await page.goto(`${servers.proxyUrl}/my?by=meterCategory`);
  await page.locator('figure.stacked ul.legend li').first().waitFor();
  const own = await drawn();
  assert.ok(own.bars.length > 0);
  // A partner's route loads the partner's app, which takes a customer's
  // user to /my inside it (a load of /my itself would be the own entry).
  await page.goto(`${servers.proxyUrl}/customers`);
  await page.waitForURL((url) => url.pathname === '/my');
  await page.selectOption('#own-by', 'meterCategory');
  await page.locator('table.breakdown thead th', { hasText: 'Service' }).waitFor();
  await page.locator('figure.stacked ul.legend li').first().waitFor();
  const wasm = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => new URL(r.name).pathname).filter((p) => p.endsWith('.wasm')));
  assert.ok(wasm.some((p) => /^\/csp-costs-/.test(p)), `the partner's app: ${wasm}`);
  assert.deepEqual(await drawn(), own);
  assert.deepEqual(seen, []);
  await context.close();
});

test('a portal frames the own page: ready and height, theme and language from the portal', async () => {
  const { context, page } = await customerPage();
  await page.goto(`${portal.url}/index.html?app=${encodeURIComponent(`${servers.proxyUrl}/my`)}`);
  const log = (type) => page.locator(`#log li[data-type=${type}]`);
  await log('ready').waitFor();
  const ready = JSON.parse(await log('ready').first().innerText());
  assert.equal(ready.source, 'csp-costs');
  const navigate = JSON.parse(await log('navigate').first().innerText());
  assert.equal(navigate.path, '/my');
  await log('height').first().waitFor();

  const frame = page.frames().find((f) => f.url().startsWith(servers.proxyUrl));
  await frame.locator('table.breakdown tbody tr').first().waitFor();
  await page.click('#dark');
  await frame.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
  assert.equal(
    await frame.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--color-accent').trim()),
    '#c2255c',
  );
  await page.evaluate(() =>
    document.getElementById('costs').contentWindow.postMessage(
      { type: 'language', language: 'zh-TW' },
      new URL(document.getElementById('costs').src).origin,
    ),
  );
  await frame.waitForFunction(() => document.documentElement.lang === 'zh-TW');
  await frame.locator('header nav a', { hasText: '您的成本' }).waitFor();
  // A message it does not understand changes nothing.
  await page.evaluate(() =>
    document.getElementById('costs').contentWindow.postMessage(
      { type: 'theme', theme: 'light', accent: 'red;x:y' },
      new URL(document.getElementById('costs').src).origin,
    ),
  );
  await page.waitForTimeout(300);
  assert.equal(await frame.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await context.close();
});

test('a wrong config.json on the own page says what is wrong', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  for (const [body, said] of [
    ['{"apiBase": "ftp://nowhere"}', /apiBase must be an http\(s\) address/],
    ['{"theme": "sepia"}', /theme.*sepia/],
    ['{"apiBase": ', /config\.json is not valid/],
  ]) {
    await page.route('**/config.json', (route) => route.fulfill({ contentType: 'application/json', body }));
    await page.goto(`${servers.proxyUrl}/my`);
    const problem = page.locator('[role=alert]');
    await problem.waitFor();
    assert.match(await problem.innerText(), said);
    await page.unroute('**/config.json');
  }
  await context.close();
});
