// A customer's own view in Chromium: the partner's admin invites a user of
// the customer from the customer's page; that user signs in on the emulator
// from the customer's own tenant and sees that customer alone, at its price,
// with no partner cost, margin or other customer anywhere on the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServers, launchBrowser, emulatorCustomers, signIn, syncDone } from './servers.mjs';

let servers;
let browser;

before(async () => {
  servers = await startServers({ customers: 12 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await servers?.stop();
});

/** Same-origin JSON through the page, with its session cookie. */
async function api(page, method, path, body) {
  return page.evaluate(async ([method, path, body]) => {
    const res = await fetch(path, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: res.status === 204 ? null : await res.json() };
  }, [method, path, body]);
}

test('an invited customer user sees its own costs at its price and nothing of the partner', async () => {
  const it = servers.partner.customerUsers[0];
  const others = (await emulatorCustomers(servers))
    .map((c) => c.companyProfile.companyName)
    .filter((n) => n !== it.companyName);

  // The partner's admin prices the customer 20 % over cost and invites its user.
  const partnerPage = await browser.newPage();
  await signIn(partnerPage, servers, servers.partner.users[0].userName, '/customers');
  // The customer list waits for the first sync to read the customers.
  await partnerPage.locator('table.customers tbody tr').first().waitFor();
  // The figures compared below are final once the first sync has ended.
  await syncDone(partnerPage, servers);
  await partnerPage.goto(`${servers.proxyUrl}/customers/${it.customerId}`);
  await partnerPage.locator('h1', { hasText: it.companyName }).waitFor();
  const markup = await api(partnerPage, 'PUT', `/api/customers/${it.customerId}/markup`, { basis: 'partnerCost', percent: '20' });
  assert.equal(markup.status, 200);
  await partnerPage.reload();
  const access = partnerPage.locator('form.access');
  await access.waitFor();
  assert.match(await access.locator('code').textContent(), /\/my$/);
  await access.locator('#invite-user').fill('not an address');
  await access.locator('button[type=submit]').click();
  await access.locator('p.error', { hasText: 'name@company.com' }).waitFor();
  await access.locator('#invite-user').fill(it.userName);
  await access.locator('button[type=submit]').click();
  await access.locator('ul.invited li', { hasText: it.userName }).waitFor();
  const detail = (await api(partnerPage, 'GET', `/api/customers/${it.customerId}`)).body.summary;
  assert.ok(detail.monthToDate.customerPrice > detail.monthToDate.partnerCost, 'the markup applies');

  // The customer's user, in a browser of its own, opens the address it was sent.
  const context = await browser.newContext();
  const page = await context.newPage();
  const wasm = [];
  page.on('request', (r) => {
    if (r.url().endsWith('.wasm')) wasm.push(new URL(r.url()).pathname);
  });
  await page.goto(`${servers.proxyUrl}/my`);
  await page.locator('.notice-box a.button').click();
  await page.fill('#login', it.userName);
  await page.fill('#passwd', it.password);
  await page.click('button[type=submit]');
  await page.waitForURL((url) => url.origin === servers.proxyUrl && url.pathname === '/my');
  await page.locator('h1', { hasText: it.companyName }).waitFor();
  await page.locator('table.breakdown tbody tr').first().waitFor();

  const money = (micros) => page.evaluate(([m, c]) =>
    new Intl.NumberFormat('en', { style: 'currency', currency: c }).format(m / 1e6), [micros, detail.currency]);
  assert.equal(await page.locator('dd.mtd').textContent(), await money(detail.monthToDate.customerPrice));
  assert.equal(await page.locator('dd.forecast').textContent(), await money(detail.forecast.customerPrice));
  const text = await page.locator('body').innerText();
  for (const partnerOnly of [await money(detail.monthToDate.partnerCost), 'Partner cost', 'Margin', 'margin']) {
    assert.ok(!text.includes(partnerOnly), `${partnerOnly} is on the customer's page`);
  }
  for (const name of others) {
    assert.ok(!text.includes(name), `another customer (${name}) is on the page`);
  }
  // Only its own page in the navigation; the table's prices add up to the month's.
  assert.deepEqual(await page.locator('header nav a').allTextContents(), ['Your costs']);
  const cube = (await api(page, 'GET', '/api/my/usage')).body;
  assert.deepEqual(cube.partnerCost, []);
  const sum = cube.customerPrice.reduce((a, b) => a + b, 0);
  assert.equal(sum, detail.monthToDate.customerPrice);
  assert.equal(await page.locator('table.breakdown tbody tr').count() > 0, true);
  await page.locator('figure.stacked ul.legend li').first().waitFor();
  // The address it was sent loads the customer's own entry, not the partner's app.
  assert.ok(wasm.length > 0 && wasm.every((p) => /^\/own-[0-9a-f]+_bg\.wasm$/.test(p)), wasm.join());

  // The partner's pages are closed to it: the app takes it to its own page
  // without asking for theirs.
  await page.goto(`${servers.proxyUrl}/customers`);
  await page.waitForURL((url) => url.pathname === '/my');
  await page.locator('h1', { hasText: it.companyName }).waitFor();
  assert.equal((await api(page, 'GET', '/api/overview')).status, 403);

  // Access taken away on the partner's page: the customer's session ends.
  await access.locator('ul.invited li', { hasText: it.userName }).locator('button').click();
  await access.locator('p.muted').waitFor();
  await page.reload();
  await page.locator('.notice-box a.button').waitFor();
  assert.equal((await api(page, 'GET', '/api/my')).status, 401);
  await context.close();
  await partnerPage.close();
});
