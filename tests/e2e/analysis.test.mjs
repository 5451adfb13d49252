// Cost analysis as partners know it from Azure Cost Management, and one
// reporting currency everywhere: the accumulated cost with its forecast and
// the customer's budget, a period beside the one before, saved views, budgets
// for several customers at once, and converted figures that name their rates
// and day. Each figure is checked against the proxy's API (another code path
// than the browser's) or worked out here from the API's raw figures.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServers, launchBrowser, signIn, fullSync, money } from './servers.mjs';

let servers;
let browser;

before(async () => {
  servers = await startServers({ customers: 14 });
  browser = await launchBrowser();
  const page = await browser.newPage();
  await signIn(page, servers, admin().userName, '/customers');
  await fullSync(page, servers);
  await page.close();
});

after(async () => {
  await browser?.close();
  await servers?.stop();
});

const admin = () => servers.partner.users[0];
const api = async (page, path) => {
  const res = await page.request.get(`${servers.proxyUrl}${path}`);
  assert.equal(res.status(), 200, `${path}: ${res.status()}`);
  return res.json();
};
const iso = (d) => d.toISOString().slice(0, 10);
const utc = (s) => new Date(`${s}T00:00:00Z`);
const monthEnd = (s) => { const d = utc(s); return iso(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0))); };
const dayText = (s) => utc(s).toLocaleDateString('en-US', { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });

async function session(path) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await signIn(page, servers, admin().userName, path.split('?')[0]);
  if (path.includes('?')) await page.goto(`${servers.proxyUrl}${path}`);
  return { context, page };
}

test("one customer's accumulated cost runs to the month's end with its forecast and budget, as the customer's own figures say", async () => {
  const { context, page } = await session('/customers');
  const { asOf } = await api(page, '/api/overview');
  const list = (await api(page, '/api/customers')).customers;
  const c = [...list].sort((a, b) => b.monthToDate.partnerCost - a.monthToDate.partnerCost)[0];
  assert.ok(c.monthToDate.partnerCost > 0, 'a customer with cost this month');
  assert.equal(list.filter((x) => x.name === c.name).length, 1, 'its name is its own');
  const budget = await page.request.put(`${servers.proxyUrl}/api/customers/${c.id}/budget`, {
    data: { amount: '12345.67' }, headers: { origin: servers.proxyUrl },
  });
  assert.equal(budget.status(), 200);

  await page.goto(`${servers.proxyUrl}/explorer?chart=running&f.customer=${encodeURIComponent(c.name)}`);
  const figure = page.locator('figure.accumulated');
  await figure.waitFor();
  await page.waitForFunction(() => document.querySelector('figure.accumulated')?.dataset.budget);
  const data = await figure.evaluate((f) => ({ ...f.dataset }));
  assert.equal(Number(data.actualEnd), c.monthToDate.partnerCost, 'the running total ends at the month to date');
  assert.equal(Number(data.budget), 12_345_670_000, "the customer's budget, as Partner Center holds it");
  const legend = await figure.locator('.legend').textContent();
  assert.ok(legend.includes(`Budget: ${money(12_345_670_000, c.currency)}`), legend);
  if (asOf < monthEnd(asOf)) {
    // Drawn to the month's end, ending where the customer's forecast does.
    assert.equal(data.end, monthEnd(asOf));
    await page.waitForFunction(() => document.querySelector('figure.accumulated')?.dataset.forecastEnd);
    const end = Number(await figure.getAttribute('data-forecast-end'));
    assert.equal(end, c.forecast.partnerCost, "the forecast's end is the customer's forecast");
    assert.ok((await figure.locator('.legend').textContent())
      .includes(`Forecast to ${dayText(monthEnd(asOf))}: ${money(end, c.currency)}`));
    assert.equal(await figure.locator('polyline.forecast').count(), 1);
  } else {
    // The last day with data is the month's last: nothing is left to forecast.
    assert.equal(data.forecastEnd, undefined);
    assert.equal(await figure.locator('polyline.forecast').count(), 0);
  }
  await page.request.put(`${servers.proxyUrl}/api/customers/${c.id}/budget`, {
    data: { amount: null }, headers: { origin: servers.proxyUrl },
  });
  await context.close();
});

test('compared with the previous period, each row stands beside the same row of the month before', async () => {
  const { context, page } = await session('/explorer?period=last-month&compare=1');
  const table = page.locator('table.compared');
  await table.locator('tbody tr').first().waitFor();
  const { asOf } = await api(page, '/api/overview');
  // Last month, whole, with the whole month before it.
  const first = utc(asOf);
  const lastFrom = iso(new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() - 1, 1)));
  const lastTo = monthEnd(lastFrom);
  const prevFrom = iso(new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() - 2, 1)));
  const prevTo = monthEnd(prevFrom);
  assert.equal(await table.getAttribute('data-previous-from'), prevFrom);
  assert.equal(await table.getAttribute('data-previous-to'), prevTo);
  assert.ok((await table.locator('thead').textContent())
    .includes(`Previous period, ${dayText(prevFrom)} – ${dayText(prevTo)}`));
  const figures = async (from, to) => new Map((await api(page, `/api/margin?from=${from}&to=${to}`)).customers
    .map((m) => [`${m.customerName}|${m.currency}`, m.figures.partnerCost]));
  const now = await figures(lastFrom, lastTo);
  const before = await figures(prevFrom, prevTo);
  const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => ({
    cells: [...tr.querySelectorAll('td')].map((td) => td.textContent),
    now: Number(tr.dataset.now),
    before: Number(tr.dataset.before),
  })));
  assert.ok(rows.length >= now.size, `${rows.length} rows for ${now.size} customers`);
  for (const r of rows) {
    const key = `${r.cells[0]}|${r.cells[1]}`;
    assert.equal(r.now, now.get(key) ?? 0, `${key} now`);
    assert.equal(r.before, before.get(key) ?? 0, `${key} before`);
    const change = r.before === 0 ? '–'
      : new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1, signDisplay: 'negative' })
        .format(Math.trunc(((r.now - r.before) * 10_000) / Math.abs(r.before)) / 10_000);
    assert.equal(r.cells[4], change, `${key} change`);
  }
  // The month before cannot be read: this month's table stays, and says why.
  await page.route(`**/api/usage?*from=${prevFrom}*`, (route) => route.fulfill({
    status: 503, contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'upstream_unavailable', message: 'Partner Center could not be reached.' } }),
  }));
  await page.reload();
  await page.locator('main p.error[role=alert]').waitFor();
  assert.equal(await page.locator('table.compared').count(), 0);
  assert.ok(await page.locator('table.pivot tbody tr').count() > 0);
  await context.close();
});

test('a saved view is named, kept for the person, opened and shared as its link, and deleted', async () => {
  const { context, page } = await session('/explorer?g1=meterCategory&chart=line&period=last-month');
  await page.locator('table.pivot tbody tr').first().waitFor();
  await page.locator('details.saved-views > summary').click();
  await page.locator('details.saved-views p.notice', { hasText: 'No saved views yet' }).waitFor();
  // A name is needed; said at once, nothing sent.
  await page.click('details.saved-views button[type=submit]');
  await page.locator('details.saved-views p.error', { hasText: 'Give the view a name.' }).waitFor();
  await page.fill('#view-name', 'Services last month');
  await page.click('details.saved-views button[type=submit]');
  const item = page.locator('details.saved-views ul.views li');
  await item.waitFor();
  assert.equal(await item.locator('a').textContent(), 'Services last month');
  // Kept by the proxy: another browser of the same person has it.
  const other = await session('/explorer');
  await other.page.locator('details.saved-views > summary').click();
  const link = other.page.locator('details.saved-views ul.views li a', { hasText: 'Services last month' });
  await link.waitFor();
  await other.page.locator('details.saved-views details.share summary').click();
  const shared = new URL(await other.page.locator('details.saved-views details.share input').inputValue());
  assert.equal(shared.origin + shared.pathname, `${servers.proxyUrl}/explorer`);
  assert.deepEqual(Object.fromEntries(shared.searchParams), { g1: 'meterCategory', chart: 'line', period: 'last-month' });
  // Opening it shows that view.
  await link.click();
  await other.page.waitForURL((u) => u.searchParams.get('g1') === 'meterCategory' && u.searchParams.get('period') === 'last-month');
  assert.equal(await other.page.locator('#g1').inputValue(), 'meterCategory');
  assert.equal(await other.page.locator('#chart').inputValue(), 'line');
  await other.context.close();
  await item.locator('button', { hasText: 'Delete' }).click();
  await page.locator('details.saved-views p.notice', { hasText: 'No saved views yet' }).waitFor();
  assert.deepEqual(await api(page, '/api/views'), []);
  await context.close();
});

test('budgets for several customers: a percent of each one’s last month, one amount only within one currency', async () => {
  const { context, page } = await session('/budgets');
  const digits = { USD: 2, EUR: 2, GBP: 2, AUD: 2, JPY: 0 };
  const list = (await api(page, '/api/customers')).customers
    .filter((c) => c.lastMonth.partnerCost > 0 && digits[c.currency] !== undefined);
  const a = list[0];
  const b = list.find((c) => c.currency !== a.currency);
  assert.ok(a && b, 'customers of two currencies with cost last month');
  await page.locator('table.budgets tbody tr').first().waitFor();
  for (const c of [a, b]) await page.locator(`tr[data-customer-id="${c.id}"] input.choose`).check();
  await page.locator('p.chosen', { hasText: '2 customers chosen' }).waitFor();
  await page.fill('#several-value', '1500');
  await page.click('form.several-budgets button[type=submit]');
  await page.locator('form.several-budgets p.error', { hasText: 'One amount is for customers of one currency' }).waitFor();
  await page.check('#rule-percent');
  await page.fill('#several-value', '110');
  await page.click('form.several-budgets button[type=submit]');
  await page.locator('form.several-budgets p.ok', { hasText: 'Set 2 of 2 budgets.' }).waitFor();
  const after = new Map((await api(page, '/api/customers')).customers.map((c) => [c.id, c]));
  for (const c of [a, b]) {
    // 110 % of last month, rounded up to the currency's unit (in millionths).
    const step = 10n ** BigInt(6 - digits[c.currency]);
    const den = 10n * step;
    const expected = Number(((BigInt(c.lastMonth.partnerCost) * 11n + den - 1n) / den) * step);
    assert.equal(after.get(c.id).budget, expected, `${c.name} in ${c.currency}`);
    const cell = page.locator(`tr[data-customer-id="${c.id}"] td.budget`);
    await cell.filter({ hasText: money(expected, c.currency) }).waitFor();
  }
  for (const c of [a, b]) {
    await page.request.put(`${servers.proxyUrl}/api/customers/${c.id}/budget`, { data: { amount: null }, headers: { origin: servers.proxyUrl } });
  }
  await context.close();
});

test('with dated rates, every view shows converted figures beside the billing currency and names the rates and their day', async () => {
  const { context, page } = await session('/settings');
  const rate = { AUD: 0.65, EUR: 1.08, GBP: 1.27, JPY: 0.0067, TWD: 0.031, USD: 1, CAD: 0.73, NZD: 0.6, CHF: 1.13, DKK: 0.145, SEK: 0.095, NOK: 0.093, INR: 0.012, BRL: 0.18 };
  const customers = (await api(page, '/api/customers')).customers;
  const currencies = [...new Set(customers.map((c) => c.currency))].sort();
  assert.ok(currencies.some((c) => c !== 'USD'), `several currencies: ${currencies}`);
  // Without rates the Explorer's chart says which one currency it draws.
  await page.goto(`${servers.proxyUrl}/explorer`);
  await page.locator('p.chart-currency').waitFor();
  assert.equal(await page.locator('th.converted').count(), 0);
  // ...and Price and margin ranks each currency on its own, saying so.
  await page.goto(`${servers.proxyUrl}/margin`);
  await page.locator('table.margin-customers tbody tr').first().waitFor();
  await page.locator('p.ranked-within').waitFor();
  const grouped = await page.locator('table.margin-customers tbody tr:not(.fell)').evaluateAll((trs) => trs.map((tr) => tr.dataset.currency));
  assert.deepEqual(grouped, [...grouped].sort(), 'grouped by currency');

  await page.goto(`${servers.proxyUrl}/settings`);
  await page.locator('select#reporting-currency').selectOption('USD');
  for (const c of currencies.filter((c) => c !== 'USD')) await page.fill(`#rate-${c}`, String(rate[c]));
  await page.fill('#rates-of', '2026-11-30');
  await page.click('form.card button[type=submit]:has-text("Save rates")');
  await page.locator('form.card p.ok').waitFor();
  assert.equal((await api(page, '/api/settings/reporting')).ratesOf, '2026-11-30');
  const named = async (where) => {
    const note = page.locator('p.rates-used').first();
    await note.waitFor({ timeout: 10_000 }).catch(() => assert.fail(`${where}: no sentence names the rates`));
    const text = await note.textContent();
    assert.ok(text.includes('exchange rates of Nov 30, 2026'), `${where}: ${text}`);
    const other = currencies.find((c) => c !== 'USD');
    assert.ok(text.includes(`1 ${other} = ${rate[other]} USD`), `${where}: ${text}`);
  };
  const near = (shown, expected, where) => {
    const value = Number(shown.replace(/[^0-9.-]/g, ''));
    assert.ok(Math.abs(value - expected) <= 0.011, `${where}: ${shown} for ${expected}`);
  };

  // Customers: each other currency's month to date, converted, under its own.
  await page.goto(`${servers.proxyUrl}/customers`);
  await page.locator('table.customers tbody tr').first().waitFor();
  await named('/customers');
  for (const c of customers.filter((c) => c.currency !== 'USD').slice(0, 5)) {
    const shown = await page.locator(`tr[data-customer-id="${c.id}"] .converted`).textContent();
    near(shown, (c.monthToDate.partnerCost / 1e6) * rate[c.currency], c.name);
  }
  // Explorer: a column in USD, rows ranked by it, one chart of all currencies.
  await page.goto(`${servers.proxyUrl}/explorer`);
  await page.locator('th.converted').waitFor();
  await named('/explorer');
  assert.equal(await page.locator('p.chart-currency').count(), 0);
  assert.ok((await page.locator('figure.chart figcaption').textContent()).includes('USD'));
  const inUsd = (await page.locator('table.pivot tbody td.converted').allTextContents())
    .map((t) => Number(t.replace(/[^0-9.-]/g, '')));
  assert.deepEqual(inUsd, [...inUsd].sort((x, y) => y - x), 'ranked by the converted cost');
  const totals = (await api(page, '/api/overview')).byCurrency;
  const all = totals.reduce((s, t) => s + (t.monthToDate.partnerCost / 1e6) * rate[t.currency], 0);
  near(await page.locator('tr.converted-total td.converted').textContent(), all, 'Explorer total in USD');
  // Price and margin ranks by the converted price.
  await page.goto(`${servers.proxyUrl}/margin`);
  await page.locator('th.converted').first().waitFor();
  assert.equal(await page.locator('p.ranked-within').count(), 0);
  const prices = (await page.locator('table.margin-customers tbody tr:not(.fell)').evaluateAll((trs) =>
    trs.map((tr) => tr.querySelector('td.converted').textContent))).map((t) => Number(t.replace(/[^0-9.-]/g, '')));
  assert.deepEqual(prices, [...prices].sort((x, y) => y - x), 'ranked by the converted price');
  // Budgets, Price and margin, and the Overview say the same.
  for (const [path, ready] of [['/budgets', 'th.converted'], ['/margin', 'th.converted'], ['/', 'section.card.trend']]) {
    await page.goto(`${servers.proxyUrl}${path}`);
    await page.locator(ready).first().waitFor();
    await named(path);
  }
  await context.close();
});

test('a save that waits (behind a running sync’s writes) says so until it is done', async () => {
  const { context, page } = await session('/settings');
  const form = page.locator('form.card', { has: page.locator('#markup-percent') });
  await form.locator('#markup-percent').waitFor();
  const percent = await form.locator('#markup-percent').inputValue();
  // The proxy's answer held back as a sync's batch holds the store's one writer.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/api/markup', async (route) => {
    if (route.request().method() === 'PUT') await held;
    await route.continue();
  });
  await form.locator('button[type=submit]').click();
  await form.locator('p.saving', { hasText: 'If a sync is running, the save waits its turn' }).waitFor();
  release();
  await form.locator('p.ok').waitFor();
  assert.equal(await form.locator('p.saving').count(), 0);
  assert.equal(await form.locator('#markup-percent').inputValue(), percent);
  await context.close();
});
