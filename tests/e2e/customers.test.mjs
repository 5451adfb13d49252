// The skeleton end to end: Chromium opens the SPA served by the real proxy,
// which reads the customers from the real emulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServers, launchBrowser, emulatorCustomers, signIn, assertNoSecret, secretForms, syncDone } from './servers.mjs';

let servers;
let browser;

before(async () => {
  servers = await startServers({ customers: 23 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await servers?.stop();
});

test('the customers page lists every customer the emulator has', async () => {
  const expected = (await emulatorCustomers(servers)).map((c) => c.companyProfile.companyName).sort();
  assert.equal(expected.length, 23);

  const page = await browser.newPage();
  await signIn(page, servers, servers.partner.users[0].userName, '/customers');
  const rows = page.locator('table.customers tbody tr');
  await rows.first().waitFor();
  const names = (await page.locator('table.customers tbody tr td:first-child a').allTextContents()).sort();
  assert.deepEqual(names, expected);
  assert.equal(await page.locator('a[aria-current="page"]').textContent(), 'Customers');
  await page.close();
});

test('navigation moves between views without reloading the page', async () => {
  const page = await browser.newPage();
  await signIn(page, servers, servers.partner.users[0].userName, '/');
  await page.locator('h1', { hasText: 'Overview' }).waitFor();
  await page.evaluate(() => { window.__sameDocument = true; });
  await page.locator('nav a', { hasText: 'Customers' }).click();
  await page.locator('table.customers tbody tr').first().waitFor();
  assert.equal(new URL(page.url()).pathname, '/customers');
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'client-side navigation');
  await page.goBack();
  await page.locator('h1', { hasText: 'Overview' }).waitFor();
  await page.close();
});

test('the app secret never reaches the proxy log or the browser', async () => {
  const secret = servers.app.keys[0].secret;
  const page = await browser.newPage();
  await signIn(page, servers, servers.partner.users[0].userName, '/customers');
  await page.locator('table.customers tbody tr').first().waitFor();
  const html = await page.content();
  const storage = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
  // The check sees each form: a secret with a `~` is `%7E` in a form body.
  assert.ok(secretForms('a~b').includes('a%7Eb'));
  assertNoSecret(html, secret, 'the page');
  assertNoSecret(storage, secret, 'browser storage or cookies');
  assertNoSecret(page.url(), secret, 'the URL');
  const log = servers.proxyLog();
  assert.ok(log.length > 0, 'the proxy logged at trace level');
  assertNoSecret(log, secret, 'the proxy log');
  await page.close();
});

test('signed out, the app asks to sign in instead of showing data', async () => {
  const page = await browser.newPage();
  await page.goto(`${servers.proxyUrl}/customers`);
  await page.locator('.notice-box', { hasText: 'Sign in with your Partner Center account' }).waitFor();
  assert.equal(await page.locator('table.customers').count(), 0);
  await page.close();
});

test('a saved markup reads back as it was typed, and says it was saved', async () => {
  const page = await browser.newPage();
  // A panic stops the app with its last page still on screen, "Saved" and all.
  const panics = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && m.text().includes('panicked')) panics.push(m.text());
  });
  await signIn(page, servers, servers.partner.users[0].userName, '/customers');
  const first = page.locator('table.customers tbody tr td:first-child a').first();
  await first.waitFor();
  await first.click();
  await page.locator('#markup-percent').waitFor();
  const id = new URL(page.url()).pathname.split('/').pop();
  // The startup sync holds the store's writer while it imports; a save
  // waits its turn (seen taking over 30 s on a loaded CI machine), which
  // is not what this test is about.
  await syncDone(page, servers);
  await page.getByLabel('partner cost', { exact: true }).check();
  await page.fill('#markup-percent', '10');
  await page.click('button:has-text("Save markup")');
  await page.locator('p.ok[role=status]', { hasText: 'Saved' }).waitFor();
  // Read back after a reload: 10 % over partner cost, as typed.
  await page.reload();
  await page.locator('#markup-percent').waitFor();
  assert.equal(await page.inputValue('#markup-percent'), '10');
  assert.ok(await page.getByLabel('partner cost', { exact: true }).isChecked());
  const detail = await (await page.request.get(`${servers.proxyUrl}/api/customers/${id}`)).json();
  assert.deepEqual(detail.summary.markup, { basis: 'partnerCost', basisPoints: 1000 });
  // Saving the form again as shown changes nothing.
  await page.click('button:has-text("Save markup")');
  await page.locator('p.ok[role=status]', { hasText: 'Saved' }).waitFor();
  const again = await (await page.request.get(`${servers.proxyUrl}/api/customers/${id}`)).json();
  assert.deepEqual(again.summary.markup, { basis: 'partnerCost', basisPoints: 1000 });
  assert.equal(again.summary.monthToDate.customerPrice, detail.summary.monthToDate.customerPrice);
  // The page was drawn again with the saved figures, the word still in view.
  await page.locator('table.breakdown, figure.stacked').first().waitFor();
  assert.equal(await page.locator('p.ok[role=status]', { hasText: 'Saved' }).count(), 1);
  assert.deepEqual(panics, []);
  await page.close();
});

test('a Billing admin sees the forms that change things disabled, with the roles needed', async () => {
  const billing = servers.partner.users.find((u) => u.userName.startsWith('billing'));
  const page = await browser.newPage();
  await signIn(page, servers, billing.userName, '/customers');
  const first = page.locator('table.customers tbody tr td:first-child a').first();
  await first.waitFor();
  await first.click();
  await page.locator('#budget-amount').waitFor();
  for (const field of ['#budget-amount', '#markup-percent', '#invite-user']) {
    assert.ok(await page.locator(field).isDisabled(), `${field} is disabled`);
  }
  assert.ok(await page.locator('button:has-text("Save budget")').isDisabled());
  const note = page.locator('.managers-only').first();
  assert.match(await note.textContent(), /Global admin or Admin agent/);
  assert.match(await note.textContent(), /Billing admin/);
  await page.goto(`${servers.proxyUrl}/settings`);
  await page.locator('#reporting-currency').waitFor();
  assert.ok(await page.locator('#reporting-currency').isDisabled());
  assert.ok(await page.locator('#markup-percent').isDisabled());
  await page.close();
});
