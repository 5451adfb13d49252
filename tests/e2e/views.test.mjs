// The cost views in Chromium against the real proxy and emulator: the
// numbers on screen equal sums the test computes itself from the line items
// the proxy returns; views keep their state in the URL; exports equal the
// tables; a budget set in the UI lands in Partner Center (the emulator).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServers, launchBrowser, signIn, syncDone, money, lineItems } from './servers.mjs';

let servers;
let browser;
let context;
let page;
// What the browser reports against the proxy's Content-Security-Policy.
const violations = [];

// A day the emulator reports no usage for (an outage): 5 days ago, inside
// the overview's 60-day trend.
const gapDay = new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 10);

before(async () => {
  servers = await startServers({ customers: 14, emulatorArgs: ['--gap-day', gapDay] });
  browser = await launchBrowser();
  context = await browser.newContext({ locale: 'en-US', acceptDownloads: true });
  page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  page.on('pageerror', (e) => violations.push(`page error: ${e.message}`));
  await signIn(page, servers, servers.partner.users[0].userName, '/');
  // A full sync first, as the proxy does at start outside tests.
  const started = await page.request.post(`${servers.proxyUrl}/api/sync`, { data: { kind: 'full' } });
  assert.equal(started.status(), 202);
  // Fails the file when the sync failed or did not end, rather than
  // testing whatever was there.
  await syncDone(page, servers);
});

after(async () => {
  await context?.close();
  await browser?.close();
  await servers?.stop();
});

test('the overview shows the sums of the line items, per currency and per day', async () => {
  await page.goto(`${servers.proxyUrl}/`);
  await page.locator('.totals').first().waitFor();
  const overview = await (await page.request.get(`${servers.proxyUrl}/api/overview`)).json();
  const asOf = overview.asOf;
  const monthStart = `${asOf.slice(0, 8)}01`;
  const items = await lineItems(page, servers, `from=${monthStart}&to=${asOf}`);
  const byCurrency = {};
  for (const l of items) byCurrency[l.billingCurrency] = (byCurrency[l.billingCurrency] ?? 0) + l.billingTotal;
  const currencies = Object.keys(byCurrency);
  assert.ok(currencies.length >= 1);
  for (const c of currencies) {
    const shown = await page.locator(`.totals[data-currency="${c}"] dd.mtd`).textContent();
    assert.equal(shown, money(Math.round(byCurrency[c]), c), `month to date in ${c}`);
  }
  // The trend's table: each day equals that day's line items.
  const main = currencies.includes(overview.reporting.currency) ? overview.reporting.currency : currencies.sort()[0];
  await page.click('summary:has-text("The same numbers as a table")');
  const days = await page.locator('table.daily tbody tr').evaluateAll((rows) =>
    rows.map((r) => [r.dataset.day, r.querySelector('td.num').textContent]));
  assert.ok(days.length >= 28);
  const perDay = {};
  const lastWeek = await lineItems(page, servers, `from=${days.at(-7)[0]}&to=${asOf}`);
  for (const l of lastWeek) if (l.billingCurrency === main) perDay[l.usageDate] = (perDay[l.usageDate] ?? 0) + l.billingTotal;
  for (const [day, text] of days.slice(-7)) assert.equal(text, money(Math.round(perDay[day] ?? 0), main), day);
  assert.equal(await page.locator('figure.chart').first().getAttribute('data-points'), String(days.length));
});

test('a day without usage is on the trend, at zero, in its place', async () => {
  await page.goto(`${servers.proxyUrl}/`);
  await page.locator('figure.chart circle').first().waitFor();
  const overview = await (await page.request.get(`${servers.proxyUrl}/api/overview`)).json();
  // The chart's currency: the reporting one when customers are billed in it.
  const billed = overview.byCurrency.map((t) => t.currency);
  const main = billed.includes(overview.reporting.currency) ? overview.reporting.currency : billed[0];
  const points = overview.daily.filter((p) => p.currency === main);
  assert.equal(points.length, 60, 'every day of the trend, gaps included');
  const gap = points.find((p) => p.day === gapDay);
  assert.ok(gap, `${gapDay} is in the trend`);
  assert.equal(gap.partnerCost, 0);
  await page.click('summary:has-text("The same numbers as a table")');
  assert.equal(
    await page.locator(`table.daily tbody tr[data-day="${gapDay}"] td.num`).textContent(),
    money(0, main),
  );
  // On the chart the gap day sits on the axis, evenly spaced between its neighbours.
  const at = async (day) => {
    const c = page.locator(`figure.chart circle[data-day="${day}"]`).first();
    return [Number(await c.getAttribute('cx')), Number(await c.getAttribute('cy'))];
  };
  const shift = (day, n) => new Date(Date.parse(day) + n * 86_400_000).toISOString().slice(0, 10);
  const [before, [x, y], after] = [await at(shift(gapDay, -1)), await at(gapDay), await at(shift(gapDay, 1))];
  assert.equal(y, 188, 'at zero');
  assert.ok(Math.abs((x - before[0]) - (after[0] - x)) < 0.2, `${before[0]} ${x} ${after[0]}`);
});

test('the customer list keeps sort and search in the URL, and its CSV equals the table', async () => {
  await page.goto(`${servers.proxyUrl}/customers`);
  await page.locator('table.customers tbody tr').first().waitFor();
  await page.click('button.sort:has-text("Customer")');
  await page.waitForURL(/sort=name&dir=asc/);
  const sorted = await page.locator('table.customers tbody tr td:first-child a').allTextContents();
  assert.deepEqual(sorted, [...sorted].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' })));
  // Part of one name (not of every domain, which all end in .onmicrosoft.com).
  const needle = sorted.at(-1).split(' ')[0].slice(0, 5).toLowerCase();
  await page.fill('#customer-search', needle);
  await page.waitForURL((u) => u.search.includes(`q=${needle}`));
  const found = await page.locator('table.customers tbody tr td:first-child a').allTextContents();
  assert.ok(found.length > 0 && found.length < sorted.length);
  await page.reload();
  await page.locator('table.customers tbody tr').first().waitFor();
  assert.deepEqual(await page.locator('table.customers tbody tr td:first-child a').allTextContents(), found, 'a reload restores the view');
  await page.goBack();
  await page.waitForURL((u) => !u.search.includes(`q=${needle}`));

  await page.goto(`${servers.proxyUrl}/customers?sort=mtd&dir=desc`);
  await page.locator('table.customers tbody tr').first().waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Export CSV')]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split('\r\n');
  const names = csv.slice(1).map((line) => line.split(',')[0].replace(/^"|"$/g, ''));
  assert.deepEqual(names, await page.locator('table.customers tbody tr td:first-child a').allTextContents());
});

test('a budget set on the customer page changes it in Partner Center', async () => {
  await page.goto(`${servers.proxyUrl}/customers?sort=name&dir=asc`);
  const first = page.locator('table.customers tbody tr td:first-child a').first();
  await first.waitFor();
  await first.click();
  await page.locator('#budget-amount').waitFor();
  const id = new URL(page.url()).pathname.split('/').pop();
  await page.fill('#budget-amount', '4321.50');
  await page.fill('#budget-alerts', '50, 90, 100');
  await page.click('button:has-text("Save budget")');
  await page.locator('p.ok', { hasText: 'Saved in Partner Center' }).waitFor();
  // Straight from the emulator, with the app's own token.
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: servers.app.appId,
    client_secret: servers.app.keys[0].secret,
    resource: 'https://api.partnercenter.microsoft.com',
  });
  const token = await (await fetch(`${servers.emulatorUrl}/${servers.partner.tenantId}/oauth2/token`, { method: 'POST', body: form })).json();
  const budget = await (await fetch(`${servers.emulatorUrl}/v1/customers/${id}/usagebudget`, {
    headers: { Authorization: `Bearer ${token.access_token}` },
  })).json();
  assert.equal(budget.amount, 4321.5);
  // The drill-down: subscription, then resource group, in the URL.
  await page.locator('table.breakdown tbody tr td button.link').first().click();
  await page.waitForURL(/by=resourceGroup/);
  await page.locator('table.breakdown tbody tr').first().waitFor();
});

test('the explorer regroups and filters in the browser, and a deep link restores the view', async () => {
  const overview = await (await page.request.get(`${servers.proxyUrl}/api/overview`)).json();
  const asOf = overview.asOf;
  const from = `${asOf.slice(0, 8)}01`;
  const items = await lineItems(page, servers, `from=${from}&to=${asOf}`);
  const usd = items.filter((l) => l.billingCurrency === 'USD');
  assert.ok(usd.length > 0, 'some USD usage');
  const region = usd[0].region;
  const expected = {};
  for (const l of usd.filter((l) => l.region === region)) {
    expected[l.meterCategory] = (expected[l.meterCategory] ?? 0) + l.billingTotal;
  }
  const link = `${servers.proxyUrl}/explorer?g1=meterCategory&f.region=${region}&f.currency=USD&bucket=week`;
  await page.goto(link);
  await page.locator('table.pivot tbody tr').first().waitFor();
  const rows = await page.locator('table.pivot tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [tr.children[0].textContent, tr.children[2].textContent]));
  assert.equal(rows.length, Object.keys(expected).length);
  for (const [category, shown] of rows) assert.equal(shown, money(expected[category], 'USD'), category);
  // Regroup: by region then meter category; the URL follows.
  await page.selectOption('#g1', 'region');
  await page.waitForURL(/g1=region/);
  await page.goBack();
  await page.waitForURL(/g1=meterCategory/);
  await page.locator('table.pivot tbody tr').first().waitFor();
  assert.equal(await page.locator('table.pivot tbody tr').count(), rows.length);
  await page.reload();
  await page.locator('table.pivot tbody tr').first().waitFor();
  assert.equal(await page.locator('table.pivot tbody tr').count(), rows.length, 'a reload restores the view');

  // Stacked bars by month: one bar, a segment per category (the smallest
  // gathered as "Other"), its legend, and its table with the same sums.
  await page.goto(link.replace('bucket=week', 'bucket=month'));
  await page.locator('figure.stacked').waitFor();
  const labels = await page.locator('figure.stacked .legend li').allTextContents();
  // The table (in a closed <details>) is drawn in the task after the bars.
  await page.locator('table.stacked-table tbody tr').first().waitFor({ state: 'attached' });
  const cells = await page.locator('table.stacked-table tbody tr td').allTextContents();
  assert.equal(await page.locator('table.stacked-table tbody tr').count(), 1);
  const ranked = Object.entries(expected).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]) || a[0].localeCompare(b[0]));
  const shown = ranked.length > 8 ? [...ranked.slice(0, 7), ['Other', ranked.slice(7).reduce((t, [, v]) => t + v, 0)]] : ranked;
  assert.deepEqual(labels, shown.map(([c]) => c));
  assert.deepEqual(cells, shown.map(([, v]) => money(v, 'USD')));
  assert.equal(await page.locator('figure.stacked rect').count(), shown.filter(([, v]) => v !== 0).length);
  await page.selectOption('#chart', 'line');
  await page.waitForURL(/chart=line/);
  await page.locator('figure.chart:not(.stacked)').waitFor();

  // More groups than the table draws at first: the costliest hundred, a
  // line that says so, and a hundred more on asking; the CSV has them all.
  // The grouping is the pair of dimensions with the most groups.
  const fields = { customer: (l) => l.customerName || l.customerId, meter: (l) => l.meterName, region: (l) => l.region, resourceGroup: (l) => l.resourceGroup };
  const groupsBy = ([a, b]) => {
    const out = {};
    for (const l of items) {
      const k = [fields[a](l), fields[b](l), l.billingCurrency].join('|');
      out[k] = (out[k] ?? 0) + l.billingTotal;
    }
    return out;
  };
  const pairs = [['customer', 'meter'], ['meter', 'region'], ['customer', 'resourceGroup'], ['meter', 'resourceGroup']];
  const [g1, g2] = pairs.reduce((best, p) => (Object.keys(groupsBy(p)).length > Object.keys(groupsBy(best)).length ? p : best));
  const groups = groupsBy([g1, g2]);
  const count = Object.keys(groups).length;
  assert.ok(count > 100, `more than a hundred groups by ${g1} and ${g2}: ${count}`);
  await page.goto(`${servers.proxyUrl}/explorer?g1=${g1}&g2=${g2}&bucket=none`);
  const body = page.locator('table.pivot tbody tr');
  await body.first().waitFor();
  assert.equal(await body.count(), 100);
  const more = page.locator('p.more-rows');
  assert.equal(await more.innerText(), `The first 100 of ${count.toLocaleString('en-US')} rows; the CSV export has them all. Show more rows`);
  const shownRows = await body.evaluateAll((trs) => trs.map((tr) => [...tr.children].slice(0, 4).map((td) => td.textContent)));
  for (const [a, b, currency, amount] of shownRows) {
    assert.equal(amount, money(groups[[a, b, currency].join('|')], currency), `${a}, ${b}`);
  }
  await more.locator('button').click();
  await page.waitForFunction((n) => document.querySelectorAll('table.pivot tbody tr').length === n, Math.min(200, count));
  assert.equal(await more.count(), count > 200 ? 1 : 0);
});

test('price and margin equal the line items, flag lost credit and margin falls, and keep the view in the URL', async () => {
  await page.goto(`${servers.proxyUrl}/margin?period=30d`);
  const summary = page.locator('p.summary', { hasText: 'compared with' });
  await summary.waitFor();
  // The days as the report has them (the text writes them for people).
  const [from, to, pfrom, pto] = await summary.evaluate((p) =>
    [p.dataset.from, p.dataset.to, p.dataset.previousFrom, p.dataset.previousTo]);
  const current = await lineItems(page, servers, `from=${from}&to=${to}`);
  const previous = await lineItems(page, servers, `from=${pfrom}&to=${pto}`);

  // Partner cost, customer price and margin per customer, summed here.
  const sums = {};
  for (const l of current) {
    const k = `${l.customerId}|${l.billingCurrency}`;
    const s = (sums[k] ??= { cost: 0, price: 0 });
    s.cost += l.billingTotal;
    s.price += l.customerPrice;
  }
  const rows = await page.locator('table.margin-customers tbody tr').evaluateAll((trs) =>
    trs.map((r) => ({ key: `${r.dataset.customer}|${r.dataset.currency}`, cells: [...r.querySelectorAll('td.num')].map((td) => td.textContent) })));
  assert.equal(rows.length, Object.keys(sums).length);
  for (const { key, cells } of rows) {
    const currency = key.split('|')[1];
    assert.equal(cells[0], money(sums[key].cost, currency), `partner cost of ${key}`);
    assert.equal(cells[2], money(sums[key].price, currency), `customer price of ${key}`);
    assert.equal(cells[3], money(sums[key].price - sums[key].cost, currency), `margin of ${key}`);
  }

  // Lost credit: no PEC on a line whose resource and meter earned it on another day.
  const key = (l) => [l.customerId, l.entitlementId, l.resourceUri, l.meterId].join('|');
  const earning = new Set([...current, ...previous].filter((l) => l.pecBasisPoints > 0).map(key));
  const lost = current.filter((l) => l.pecBasisPoints === 0 && earning.has(key(l)));
  if (lost.length === 0) {
    await page.locator('text=No line lost its credit in this period.').waitFor();
  } else {
    const shown = await page.locator('table.lost-lines tbody tr').count();
    assert.equal(shown, Math.min(lost.length, 500));
  }

  // Margin fell: a point or more of price below the previous period's.
  const bp = (cost, price) => (price === 0 ? null : Math.trunc(((price - cost) * 10000) / price));
  const before = {};
  for (const l of previous) {
    const s = (before[l.customerId] ??= { cost: 0, price: 0 });
    s.cost += l.billingTotal;
    s.price += l.customerPrice;
  }
  const fell = Object.entries(sums)
    .filter(([k, s]) => {
      const b = before[k.split('|')[0]];
      const now = bp(s.cost, s.price);
      const then = b ? bp(b.cost, b.price) : null;
      return now !== null && then !== null && now <= then - 100;
    })
    .map(([k]) => k.split('|')[0])
    .sort();
  const flagged = (await page.locator('table.margin-customers tbody tr.fell').evaluateAll((trs) => trs.map((r) => r.dataset.customer))).sort();
  assert.deepEqual(flagged, fell);
  assert.equal(await page.locator('ul.fell li').count(), fell.length);

  // The customers' CSV carries the table.
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('section', { hasText: 'By customer' }).locator('text=Export CSV').click()]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split('\r\n');
  assert.equal(csv.length - 1, rows.length);

  // One customer's meters: in the URL, restored by a reload, undone by back.
  const first = rows[0].key.split('|')[0];
  await page.locator(`tr[data-customer="${first}"] button`, { hasText: 'Meters' }).click();
  await page.waitForURL((u) => u.search.includes(`customer=${first}`));
  await page.reload();
  await page.locator('table.margin-customers tbody tr').first().waitFor();
  assert.equal(await page.locator('table.margin-customers tbody tr').count(), 1);
  const meterCost = {};
  for (const l of current.filter((l) => l.customerId === first)) {
    meterCost[l.meterId] = (meterCost[l.meterId] ?? 0) + l.billingTotal;
  }
  const meterRows = await page.locator('table.margin-meters tbody tr').evaluateAll((trs) =>
    trs.map((r) => [r.dataset.meter, r.querySelectorAll('td.num')[1].textContent]));
  assert.equal(meterRows.length, Object.keys(meterCost).length);
  const currency = rows[0].key.split('|')[1];
  for (const [meter, text] of meterRows) assert.equal(text, money(meterCost[meter], currency), meter);
  await page.goBack();
  await page.waitForURL((u) => !u.search.includes('customer='));
  await page.locator('table.margin-customers tbody tr').nth(1).waitFor();
});

test('a sync that fails upstream is reported on the overview, and the data read before stays', async () => {
  const faults = (body) =>
    fetch(`${servers.emulatorUrl}/emulator/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal((await faults({ errorRate: 1.0 })).status, 200);
  try {
    const started = await page.request.post(`${servers.proxyUrl}/api/sync`, { data: { kind: 'full' } });
    assert.equal(started.status(), 202);
    let p;
    for (let i = 0; i < 1200; i++) {
      p = await (await page.request.get(`${servers.proxyUrl}/api/sync`)).json();
      if (p.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(p.status, 'failed', JSON.stringify(p));
    await page.goto(`${servers.proxyUrl}/`);
    const alert = page.locator('.sync.failed[role=alert]');
    await alert.waitFor();
    assert.match(await alert.textContent(), /The last sync from Partner Center failed: .+\. The data read before is kept/);
    // The figures synced before are still shown.
    await page.locator('.totals').first().waitFor();
  } finally {
    await faults({});
  }
});

test('a customer whose details cannot be read is named on the overview, and the rest is synced', async () => {
  const faults = (body) =>
    fetch(`${servers.emulatorUrl}/emulator/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const list = await (await page.request.get(`${servers.proxyUrl}/api/customers`)).json();
  const victim = list.customers[1];
  assert.equal((await faults({ refusePaths: [`/v1/customers/${victim.id}/subscriptions`] })).status, 200);
  try {
    const started = await page.request.post(`${servers.proxyUrl}/api/sync`, { data: { kind: 'incremental' } });
    assert.equal(started.status(), 202);
    let p;
    for (let i = 0; i < 1200; i++) {
      p = await (await page.request.get(`${servers.proxyUrl}/api/sync`)).json();
      if (p.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(p.status, 'succeeded', JSON.stringify(p));
    assert.deepEqual(p.problems.map((x) => [x.kind, x.subject]), [['customer', victim.id]]);
    await page.goto(`${servers.proxyUrl}/`);
    const item = page.locator('.incomplete li');
    await item.first().waitFor();
    assert.equal(await item.count(), 1);
    const text = await item.textContent();
    assert.ok(text.includes(victim.name), text);
    assert.ok(text.includes(`/v1/customers/${victim.id}/subscriptions`) || text.includes('800002'), text);
    assert.match(await page.locator('.sync.failed[role=alert]').textContent(), /finished with problems: Could not read details of 1 of \d+ customers/);
  } finally {
    await faults({});
  }
});

// Last: every view above ran under the proxy's CSP (no inline script allowed
// but the page's own, hashed) without the browser refusing anything.
test('no view broke the Content-Security-Policy', async () => {
  const res = await page.request.get(`${servers.proxyUrl}/`);
  const csp = res.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.deepEqual(violations, []);
});
