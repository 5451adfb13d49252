// What a person sees on every route, whoever they are: no console error or
// warning and no refused request, signed in or out; at 1280, 1366, 1440 and
// 360 px no sideways scrolling, no word of a label broken across lines and
// no amount broken at all. Then the smaller things a partner tripped over:
// counts that agree with a search, plural words, periods named.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServers, launchBrowser, signIn, syncDone, fullSync, assertNoSecret, layoutProblems } from './servers.mjs';

let servers;
let browser;
let customerId;

before(async () => {
  servers = await startServers({ customers: 14 });
  browser = await launchBrowser();
  // The figures are final once the first sync has ended; a customer's user
  // is invited so that its view can be walked too.
  const page = await browser.newPage();
  await signIn(page, servers, admin().userName, '/customers');
  await fullSync(page, servers);
  const it = servers.partner.customerUsers[0];
  customerId = it.customerId;
  const invited = await page.request.post(`${servers.proxyUrl}/api/customers/${customerId}/users`, {
    data: { userName: it.userName },
    headers: { origin: servers.proxyUrl },
  });
  assert.ok(invited.ok(), `invite: ${invited.status()}`);
  await page.close();
});

after(async () => {
  await browser?.close();
  await servers?.stop();
});

const admin = () => servers.partner.users[0];
const routes = () => [
  '/', '/customers', `/customers/${customerId}`, '/customers?q=no-such-customer', '/explorer',
  '/explorer?chart=running&compare=1',
  '/budgets', '/margin', '/onboarding', '/connection', '/settings', '/my', '/nowhere',
];

/** Everything the browser would show a developer: console errors and warnings, page errors, refused requests. */
function watch(page) {
  const seen = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') seen.push(`${m.type()} on ${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => seen.push(`page error on ${page.url()}: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && r.url().startsWith(servers.proxyUrl)) seen.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  return seen;
}

/** Until the page has stopped loading what it shows. */
async function settle(page) {
  await page.waitForLoadState('load');
  await page.locator('main').waitFor();
  await page.waitForFunction(() => document.querySelector('main') && !document.querySelector('[aria-busy="true"]'), null, { timeout: 30_000 });
  await page.waitForTimeout(300);
}

async function walk(page, list = routes()) {
  for (const route of list) {
    await page.goto(`${servers.proxyUrl}${route}`);
    await settle(page);
  }
}

test('signed out, no route logs an error or asks the proxy for data it refuses; each offers the sign-in (the wizard its first step)', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const seen = watch(page);
  for (const route of routes()) {
    await page.goto(`${servers.proxyUrl}${route}`);
    await settle(page);
    if (route === '/onboarding') {
      // The wizard begins before signing in.
      await page.locator('main h2', { hasText: 'Before you begin' }).waitFor();
      continue;
    }
    const button = page.locator('main .notice-box a.button', { hasText: 'Sign in' });
    assert.equal(await button.count(), 1, `a sign-in on ${route}`);
    // The customer's own page signs in its own people.
    const href = await button.getAttribute('href');
    assert.equal(href.includes('as=customer'), route === '/my', `${route}: ${href}`);
  }
  assert.deepEqual(seen, []);
  await context.close();
});

test("the connected partner's admin walks every route with nothing in the console", async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await signIn(page, servers, admin().userName, '/');
  const seen = watch(page);
  await walk(page);
  // A partner on the customers' page is told what it is for, without asking for it.
  await page.goto(`${servers.proxyUrl}/my`);
  await page.locator('main p.notice', { hasText: "customer's invited people" }).waitFor();
  assert.deepEqual(seen, []);
  await context.close();
});

test("a partner that is not connected yet is sent to set it up, and nothing is refused on the way", async () => {
  const contoso = servers.demo.partners.find((p) => p.apps.length === 0);
  const contosoAdmin = contoso.users.find((u) => u.roles.includes('GlobalAdmin') || /admin@/.test(u.userName));
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await signIn(page, servers, contosoAdmin.userName, '/');
  const seen = watch(page);
  await page.reload();
  await settle(page);
  await page.locator('main .notice-box a.button', { hasText: 'Set up the connection' }).waitFor();
  await walk(page, ['/customers', '/explorer', '/settings', '/connection']);
  assert.equal(await page.locator('main .notice-box a.button', { hasText: 'Set up the connection' }).count(), 1);
  assert.deepEqual(seen, []);
  await context.close();
});

test("a customer's user is taken to its own page from every route, with nothing in the console", async () => {
  const it = servers.partner.customerUsers[0];
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(`${servers.proxyUrl}/api/auth/login?returnTo=%2Fmy&as=customer`);
  await page.fill('#login', it.userName);
  await page.fill('#passwd', it.password);
  await page.click('button[type=submit]');
  await page.waitForURL((url) => url.pathname === '/my');
  const seen = watch(page);
  for (const route of ['/', '/customers', '/explorer', '/settings', '/my']) {
    await page.goto(`${servers.proxyUrl}${route}`);
    await page.waitForURL((url) => url.pathname === '/my');
    await settle(page);
    await page.locator('h1', { hasText: it.companyName }).waitFor();
  }
  assert.deepEqual(seen, []);
  await context.close();
});

for (const [locale, widths] of [['en-US', [1280, 1366, 1440, 360]], ['zh-TW', [1280, 360]]]) {
  test(`${locale}: at ${widths.join(', ')} px nothing scrolls sideways, no label word or amount is broken`, async () => {
    const context = await browser.newContext({ locale });
    const page = await context.newPage();
    await signIn(page, servers, admin().userName, '/');
    const problems = [];
    for (const width of widths) {
      await page.setViewportSize({ width, height: 900 });
      for (const route of routes()) {
        await page.goto(`${servers.proxyUrl}${route}`);
        await settle(page);
        for (const p of await page.evaluate(layoutProblems, locale === 'en-US')) problems.push(`${width} px ${route}: ${p}`);
      }
    }
    assert.deepEqual(problems, []);
    await context.close();
  });
}

test('a search says how many customers match, and says so when none does', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await signIn(page, servers, admin().userName, '/customers');
  const total = (await (await page.request.get(`${servers.proxyUrl}/api/customers`)).json()).customers.length;
  await page.locator('.summary', { hasText: `${total} customers` }).waitFor();
  await page.fill('#customer-search', 'no-such-customer');
  await page.locator('.summary', { hasText: `0 of ${total} customers match` }).waitFor();
  await page.locator('p.no-match', { hasText: 'No customer matches this search.' }).waitFor();
  assert.equal(await page.locator('table.customers tbody tr').count(), 0);
  const first = (await (await page.request.get(`${servers.proxyUrl}/api/customers`)).json()).customers[0].name;
  await page.fill('#customer-search', first);
  await page.locator('table.customers tbody tr').first().waitFor();
  const rows = await page.locator('table.customers tbody tr').count();
  await page.locator('.summary', { hasText: `${rows} of ${total} customers match` }).waitFor();
  assert.equal(await page.locator('p.no-match').count(), 0);
  await context.close();
});

test('every figure names its month; a count of one is singular; Partner Center’s estimate only for the month shown', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await signIn(page, servers, admin().userName, '/');
  const { asOf } = await (await page.request.get(`${servers.proxyUrl}/api/overview`)).json();
  const day = new Date(`${asOf}T00:00:00Z`);
  const month = (d) => d.toLocaleString('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });
  const thisMonth = month(day);
  const lastMonth = month(new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() - 1, 1)));
  const to = day.toLocaleString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
  await page.locator('.totals').first().waitFor();
  for (const card of await page.locator('.totals').all()) {
    assert.equal(await card.locator('.period').textContent(), `${thisMonth}, to ${to}`);
    assert.equal(await card.locator('dt.last-month').textContent(), `Partner cost, ${lastMonth}`);
  }
  await page.goto(`${servers.proxyUrl}/customers/${customerId}`);
  await page.locator('.totals h2.period').waitFor();
  assert.equal(await page.locator('.totals h2.period').textContent(), `${thisMonth}, to ${to}`);
  const detail = await (await page.request.get(`${servers.proxyUrl}/api/customers/${customerId}`)).json();
  const n = detail.azureSubscriptions.length;
  assert.match(await page.locator('p.summary').textContent(), new RegExp(`${n} Azure subscription${n === 1 ? '' : 's'} ·`));
  assert.ok(!(await page.locator('p.summary').textContent()).includes('(s)'));
  // Partner Center estimates its current month (the emulator's today is
  // today): shown when the last day with data is in it, not on the 1st.
  const estimate = page.locator('p.estimate');
  const current = asOf.slice(0, 7) === new Date().toISOString().slice(0, 7);
  if (current) {
    assert.match(await estimate.textContent(), new RegExp(`estimate of ${thisMonth}:`));
  } else {
    assert.equal(await estimate.count(), 0);
  }
  await context.close();
});

test('customers of different currencies are ranked apart without rates, and together in the reporting currency with them', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await signIn(page, servers, admin().userName, '/');
  const customers = (await (await page.request.get(`${servers.proxyUrl}/api/customers`)).json()).customers
    .filter((c) => c.monthToDate.partnerCost !== 0);
  const currencies = [...new Set(customers.map((c) => c.currency))].sort();
  assert.ok(currencies.length > 1, `customers in several currencies: ${currencies}`);
  const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const topNames = async () => {
    await page.goto(`${servers.proxyUrl}/`);
    await page.locator('table.ranked').first().waitFor();
    return page.locator('table.ranked').first().locator('tbody tr td:first-child').allTextContents();
  };
  const customersOrder = async () => {
    await page.goto(`${servers.proxyUrl}/customers`);
    await page.locator('table.customers tbody tr').first().waitFor();
    return page.locator('table.customers tbody tr td:first-child a').allTextContents();
  };

  // No rates: each currency on its own, its largest first, and the page says so.
  const each = Math.max(3, Math.ceil(10 / currencies.length));
  const apart = currencies.flatMap((c) => customers.filter((x) => x.currency === c)
    .sort((a, b) => b.monthToDate.partnerCost - a.monthToDate.partnerCost || byName(a, b)).slice(0, each).map((x) => x.name));
  assert.deepEqual(await topNames(), apart);
  await page.locator('p.ranked-within').first().waitFor();
  const grouped = currencies.flatMap((c) => customers.filter((x) => x.currency === c)
    .sort((a, b) => b.monthToDate.partnerCost - a.monthToDate.partnerCost || byName(a, b)).map((x) => x.name));
  assert.deepEqual((await customersOrder()).filter((n) => grouped.includes(n)), grouped);
  assert.equal(await page.locator('p.ranked-within').count(), 1);

  // Rates set on the Settings page, the reporting currency picked from those in use.
  const rate = { AUD: 0.65, EUR: 1.08, GBP: 1.27, JPY: 0.0067, TWD: 0.031, USD: 1, CAD: 0.73, NZD: 0.6, CHF: 1.13, DKK: 0.145, SEK: 0.095, NOK: 0.093, INR: 0.012, BRL: 0.18 };
  await page.goto(`${servers.proxyUrl}/settings`);
  const picker = page.locator('select#reporting-currency');
  await picker.waitFor();
  const offered = await picker.locator('option').allTextContents();
  assert.deepEqual(offered, [...new Set([...currencies, 'USD'])].sort());
  await picker.selectOption('USD');
  for (const c of currencies.filter((c) => c !== 'USD')) {
    assert.ok(rate[c], `a test rate for ${c}`);
    await page.fill(`#rate-${c}`, String(rate[c]));
  }
  await page.click('form.card button[type=submit]:has-text("Save rates")');
  await page.locator('form.card p.ok').waitFor();
  const usd = (c) => c.monthToDate.partnerCost * rate[c.currency];
  const together = [...customers].sort((a, b) => usd(b) - usd(a) || byName(a, b)).map((x) => x.name);
  assert.deepEqual(await topNames(), together.slice(0, 10));
  assert.equal(await page.locator('p.ranked-within').count(), 0);
  assert.deepEqual((await customersOrder()).filter((n) => together.includes(n)), together);
  assert.equal(await page.locator('p.ranked-within').count(), 0);
  await context.close();
});

test('the Explorer keeps naming the period its figures are of while the next one loads, and adds no quantities of different units', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await signIn(page, servers, admin().userName, '/explorer');
  const summary = page.locator('main p.summary');
  await summary.waitFor();
  const before = await summary.textContent();
  // A slow answer, as from a large partner: the page says it is loading and
  // the old figures keep their own period meanwhile.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/api/usage?*', async (route) => { await held; await route.continue(); });
  await page.selectOption('#period', '90d');
  await page.locator('.reloading[aria-busy="true"]').waitFor();
  assert.equal(await summary.textContent(), before);
  assert.ok(await page.locator('.loaded.stale').count() > 0);
  release();
  await page.locator('.reloading').waitFor({ state: 'detached' });
  const { asOf } = await (await page.request.get(`${servers.proxyUrl}/api/overview`)).json();
  const to = new Date(`${asOf}T00:00:00Z`);
  const from = new Date(to.getTime() - 89 * 86_400_000);
  const day = (d) => d.toLocaleDateString('en-US', { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });
  const after = await summary.textContent();
  assert.match(after, new RegExp(`^[\\d,]+ line items from ${day(from)} to ${day(to)}`));
  const lines = Number(after.split(' ')[0].replaceAll(',', ''));
  assert.ok(lines >= 1000, `${lines} line items, written with separators: ${after}`);
  assert.ok(after.startsWith(lines.toLocaleString('en-US')));
  await page.unroute('**/api/usage?*');
  // A filter picked in the table: the FOCUS link exports the lines shown.
  const whole = await page.locator('a.focus-export').getAttribute('href');
  const first = page.locator('table.pivot tbody tr').first().locator('button.link');
  await first.click();
  await page.locator('a.focus-export', { hasText: 'FOCUS export of the lines shown' }).waitFor();
  const shown = await page.locator('a.focus-export').getAttribute('href');
  assert.ok(shown.includes('f.customer='), shown);
  const rows = async (href) => (await (await page.request.get(new URL(href, page.url()).href)).text()).trim().split('\n').length;
  const [all, some] = [await rows(whole), await rows(shown)];
  assert.ok(some > 1 && some < all, `${some} of ${all} rows`);
  await page.goto(`${servers.proxyUrl}/explorer?period=90d`);
  await page.locator('table.pivot tbody tr').first().waitFor();
  // Quantities by meter: one row per unit and no total across units.
  await page.selectOption('#g1', 'meter');
  await page.selectOption('#measure', 'quantity');
  await page.locator('table.pivot thead th', { hasText: 'Unit' }).waitFor();
  assert.equal(await page.locator('table.pivot tfoot tr').count(), 0);
  await page.selectOption('#measure', 'partnerCost');
  await page.locator('table.pivot tfoot tr').first().waitFor();
  await context.close();
});

test("a customer's drill-down goes back up from any step, and a meter's quantity has its unit", async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await signIn(page, servers, admin().userName, `/customers/${customerId}`);
  const rows = page.locator('table.breakdown tbody tr');
  const heading = page.locator('table.breakdown thead th').first();
  await rows.first().waitFor();
  const path = [];
  for (const level of ['Resource group', 'Resource', 'Meter']) {
    const first = rows.first().locator('button.link');
    path.push(await first.textContent());
    await first.click();
    await page.locator('table.breakdown thead th', { hasText: level }).first().waitFor();
    assert.equal(await heading.textContent(), level);
  }
  assert.equal(await page.locator('nav.crumbs button.crumb').count(), 3);
  // Each meter's quantity is written with its unit ("12.5 1 Hour", "3 1 GB/Month").
  for (const cell of await rows.locator('td:nth-child(5)').allTextContents()) {
    assert.match(cell, /^[\d,.]+ \S.*$/, `a quantity with its unit: ${cell}`);
  }
  // Back to the subscription chosen first: its resource groups again.
  await page.locator('nav.crumbs button.crumb').first().click();
  await page.locator('table.breakdown thead th', { hasText: 'Resource group' }).first().waitFor();
  assert.equal(await heading.textContent(), 'Resource group');
  assert.ok((await rows.locator('button.link').allTextContents()).includes(path[1]));
  assert.deepEqual(await page.locator('nav.crumbs button.crumb').allTextContents(), [`Azure subscription: ${path[0]}`]);
  await context.close();
});

// Last: it changes the key the proxy signs in with.
test("the Connection page: the key in use and its expiry, a new key switched to, the old one revoked, a sync now", async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const seen = watch(page);
  await signIn(page, servers, admin().userName, '/connection', 'directory');
  // Once connected, the wizard's place in the navigation is the connection's.
  await page.locator('header nav a', { hasText: 'Connection' }).waitFor();
  assert.equal(await page.locator('header nav a', { hasText: 'Onboarding' }).count(), 0);
  await page.locator('.key-in-use .expiry').waitFor();
  assert.equal(await page.inputValue('#app-id'), servers.app.appId);
  // The key given to the proxy, with the expiry Entra (the emulator) has for it.
  const given = servers.app.keys[0];
  const days = Math.floor((Date.parse(given.endDateTime) - Date.now()) / 86_400_000);
  assert.equal(await page.locator('.key-in-use .expiry').textContent(),
    `Expires on ${given.endDateTime.slice(0, 10)}, in ${days} days.`);
  assert.equal(await page.locator('.expiry-warning').count(), days <= 60 ? 1 : 0);
  const row = (name) => page.locator('table.keys tbody tr', { hasText: name });
  await row(given.displayName).locator('.in-use').waitFor();
  assert.equal(await row(given.displayName).locator('button').count(), 0, 'the key in use cannot be revoked here');

  // A new key: shown once, checked, switched to.
  await page.check('.new-key input[name=years][value="1"]');
  await page.getByRole('button', { name: 'Create a key and switch to it' }).click();
  await page.locator('.new-key p.ok', { hasText: 'the sync now signs in with' }).waitFor();
  const value = await page.inputValue('#key-value');
  assert.ok(value.length > 20);
  await page.locator('.key-in-use .expiry', { hasText: /in 36[45] days/ }).waitFor();
  // The old key, no longer in use, is revoked after a second click.
  await row(given.displayName).locator('button.link', { hasText: 'Revoke' }).click();
  await row(given.displayName).locator('button.danger', { hasText: 'Revoke' }).click();
  await row(given.displayName).waitFor({ state: 'detached' });

  // The sync reads with the new key.
  await page.getByRole('button', { name: 'Sync now' }).click();
  const done = await syncDone(page, servers);
  assert.ok(done.lineItems > 0, JSON.stringify(done));
  await page.reload();
  const today = new Date().toLocaleDateString('en-US', { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });
  await page.locator('.last-sync', { hasText: `Last successful sync: ${today}.` }).waitFor();
  assert.deepEqual(seen, []);
  // The key's value went nowhere but this page.
  assertNoSecret(servers.proxyLog(), value, 'the proxy log');
  await context.close();
});
