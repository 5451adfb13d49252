// The skeleton end to end: Chromium opens the SPA served by the real proxy,
// which reads the customers from the real emulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServers, launchBrowser, emulatorCustomers, signIn, assertNoSecret, secretForms } from './servers.mjs';

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
