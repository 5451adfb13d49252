// The Explorer past the proxy's line-item limit (set low here): the page
// says the proxy summed the period, its figures still equal the line items
// summed by the test, and grouping by a dimension the summed cube did not
// keep asks the proxy again, with no console error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServers, launchBrowser, signIn, fullSync, money, lineItems } from './servers.mjs';

let servers;
let browser;
let page;
const problems = [];
const asked = [];

before(async () => {
  servers = await startServers({ customers: 8, proxyArgs: ['--cube-line-items', '300'] });
  browser = await launchBrowser();
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && r.url().startsWith(servers.proxyUrl)) problems.push(`${r.status()} ${r.url()}`);
  });
  page.on('request', (r) => {
    if (r.url().includes('/api/usage')) asked.push(new URL(r.url()).searchParams.get('keep'));
  });
  await signIn(page, servers, servers.partner.users[0].userName, '/');
  await fullSync(page, servers);
  // What the sign-in's pages (the emulator's) logged is not the Explorer's.
  problems.length = 0;
  asked.length = 0;
});

after(async () => {
  await browser?.close();
  await servers?.stop();
});

/** The pivot table's rows: first cell, currency, amount. */
const table = () =>
  page.locator('table.pivot tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [tr.children[0].textContent, tr.children[1].textContent, tr.children[2].textContent]));

function sums(items, key) {
  const out = {};
  for (const l of items) {
    const k = `${key(l)}|${l.billingCurrency}`;
    out[k] = (out[k] ?? 0) + l.billingTotal;
  }
  return out;
}

test('a period past the limit is summed by the proxy, exact, and regrouped by asking again', async () => {
  const overview = await (await page.request.get(`${servers.proxyUrl}/api/overview`)).json();
  const asOf = overview.asOf;
  // Thirty days to the last day with usage.
  const from = new Date(Date.parse(asOf) - 29 * 86_400_000).toISOString().slice(0, 10);
  const items = await lineItems(page, servers, `from=${from}&to=${asOf}`);
  assert.ok(items.length > 300, `the month has more lines than the limit: ${items.length}`);

  await page.goto(`${servers.proxyUrl}/explorer?from=${from}&to=${asOf}&g1=customer&bucket=none`);
  const notice = page.locator('p.notice.summed');
  await notice.waitFor();
  assert.match(await notice.innerText(), /summed them to [\d,]+ rows by Customer and day/);
  assert.match(await page.locator('p.summary').innerText(), new RegExp(`${items.length.toLocaleString('en-US')} line items`));
  const byCustomer = sums(items, (l) => l.customerName || l.customerId);
  let shown = await table();
  assert.equal(shown.length, Object.keys(byCustomer).length);
  for (const [customer, currency, amount] of shown) {
    assert.equal(amount, money(byCustomer[`${customer}|${currency}`], currency), customer);
  }
  assert.deepEqual(asked, ['customer']);

  // By meter category: not kept, so asked for again, and as exact.
  await page.selectOption('#g1', 'meterCategory');
  await page.waitForURL(/g1=meterCategory/);
  await page.locator('p.notice.summed', { hasText: 'by Service and day' }).waitFor();
  await page.waitForFunction(() => !document.querySelector('[aria-busy=true]'));
  const byCategory = sums(items, (l) => l.meterCategory);
  shown = await table();
  assert.equal(shown.length, Object.keys(byCategory).length);
  for (const [category, currency, amount] of shown) {
    assert.equal(amount, money(byCategory[`${category}|${currency}`], currency), category);
  }
  assert.deepEqual(asked, ['customer', 'meterCategory']);

  // Filtered by a customer the cube kept no longer: asked for both.
  const [customer] = Object.keys(byCustomer)[0].split('|');
  await page.locator('table.pivot tbody tr').first().waitFor();
  await page.goto(`${servers.proxyUrl}/explorer?from=${from}&to=${asOf}&g1=meterCategory&bucket=none&f.customer=${encodeURIComponent(customer)}`);
  await page.locator('table.pivot tbody tr').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('[aria-busy=true]'));
  const one = sums(items.filter((l) => (l.customerName || l.customerId) === customer), (l) => l.meterCategory);
  shown = await table();
  assert.equal(shown.length, Object.keys(one).length);
  for (const [category, currency, amount] of shown) {
    assert.equal(amount, money(one[`${category}|${currency}`], currency), category);
  }
  assert.ok(asked.at(-1).split(',').includes('customer') && asked.at(-1).split(',').includes('meterCategory'), asked.join(' '));

  // Nothing scrolls sideways at 1280 px, and nothing went to the console.
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(wide <= 0, `${wide} px sideways`);
  assert.deepEqual(problems, []);
});
