// Static hosting: the built dist/ copied under a sub-path of a plain static
// server (no rewrite rules, a 404.html for unknown paths), the proxy on
// another origin with CORS for the site. Deep links, sign-in, navigation,
// reload and back all stay under the sub-path, and every /api call goes to
// the proxy named in config.json.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServers, launchBrowser, staticServer, emulatorCustomers } from './servers.mjs';

const SUB = '/tools/costs/';
let root;
let site;
let servers;
let browser;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'csp-costs-site-'));
  const folder = join(root, SUB);
  mkdirSync(folder, { recursive: true });
  cpSync(process.env.DIST_DIR, folder, { recursive: true });
  // Another page of the partner's site, to show the app's files stay in their folder.
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>Partner site</title><p>Home</p>');
  site = await staticServer(root);
  servers = await startServers({ customers: 12, proxyArgs: ['--cors-origins', site.url] });
  writeFileSync(join(folder, 'config.json'), JSON.stringify({ apiBase: `${servers.proxyUrl}/` }));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await servers?.stop();
  await site?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('the app works from a static host under a sub-path, with the proxy on another origin', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const apiCalls = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.includes('/api/')) apiCalls.push(r.url());
  });

  // A deep link, cold: the host answers 404.html, which reopens it in the app's folder.
  await page.goto(`${site.url}${SUB}customers?q=a`);
  await page.locator('a.button', { hasText: 'Sign in' }).first().waitFor();
  assert.equal(new URL(page.url()).pathname, `${SUB}customers`);
  assert.equal(new URL(page.url()).search, '?q=a');

  // Sign in on the proxy's origin; the proxy sends the browser back to the site.
  const user = servers.partner.users[0];
  await page.locator('a.button', { hasText: 'Sign in' }).first().click();
  await page.fill('#login', user.userName);
  await page.fill('#passwd', user.password);
  await page.click('button[type=submit]');
  // Back on the site: its 404.html reopens the link in the app, signed in.
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  assert.equal(new URL(page.url()).origin, site.url);
  assert.equal(new URL(page.url()).pathname, `${SUB}customers`);

  // Data through the proxy on the other origin (CORS with the session cookie).
  const started = await page.evaluate(async (proxy) => {
    const r = await fetch(`${proxy}/api/sync`, {
      method: 'POST',
      credentials: 'include',
      headers: { 'content-type': 'application/json' },
      body: '{"kind":"full"}',
    });
    return r.status;
  }, servers.proxyUrl);
  assert.equal(started, 202);
  await page.waitForFunction(async (proxy) => {
    const r = await fetch(`${proxy}/api/sync`, { credentials: 'include' });
    return (await r.json()).status === 'succeeded';
  }, servers.proxyUrl, { timeout: 60_000, polling: 300 });

  const expected = (await emulatorCustomers(servers)).map((c) => c.companyProfile.companyName);
  await page.goto(`${site.url}${SUB}customers?page=1`);
  await page.locator('table.data tbody tr').first().waitFor();
  const shown = await page.locator('table.data tbody tr td:first-child').allInnerTexts();
  assert.ok(shown.length > 0);
  for (const cell of shown) {
    const name = cell.split('\n')[0].trim();
    assert.ok(expected.includes(name), `${name} is one of the partner's customers`);
  }

  // Navigation stays under the sub-path; reload and back work.
  await page.getByRole('link', { name: 'Explorer', exact: true }).click();
  await page.waitForURL(`${site.url}${SUB}explorer`);
  await page.locator('h1', { hasText: 'Cost explorer' }).waitFor();
  await page.reload();
  await page.locator('h1', { hasText: 'Cost explorer' }).waitFor();
  assert.equal(new URL(page.url()).pathname, `${SUB}explorer`);
  await page.goBack();
  await page.waitForURL((url) => url.pathname === `${SUB}customers`);
  await page.locator('table.data tbody tr').first().waitFor();

  // Every API call went to the proxy, none to the static host.
  assert.ok(apiCalls.length > 3);
  for (const url of apiCalls) assert.equal(new URL(url).origin, servers.proxyUrl, url);
  assert.ok(!site.asked.some((p) => p.includes('/api/')), 'the static host was never asked for /api');
  await context.close();
});

test("the customer's own view is a page of its own in the app's folder", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const fetched = [];
  page.on('request', (r) => fetched.push(r.url()));
  // The address a customer's user is sent, without and with the folder's slash.
  for (const address of [`${SUB}my`, `${SUB}my/`]) {
    fetched.length = 0;
    await page.goto(`${site.url}${address}`);
    const signIn = page.locator('.notice-box a.button', { hasText: 'Sign in' });
    await signIn.waitFor();
    // Its own small entry, from the app's folder, with the app's config.json.
    const paths = fetched.map((u) => new URL(u)).filter((u) => u.origin === site.url).map((u) => u.pathname);
    assert.ok(paths.some((p) => new RegExp(`^${SUB}own-[0-9a-f]+_bg\\.wasm$`).test(p)), paths.join());
    assert.ok(!paths.some((p) => p.includes('csp-costs-')), `the partner's app is not loaded: ${paths.join()}`);
    assert.ok(paths.includes(`${SUB}config.json`), paths.join());
    // A customer's sign-in, at the proxy named in config.json.
    const href = new URL(await signIn.getAttribute('href'));
    assert.equal(href.origin, servers.proxyUrl);
    assert.equal(href.searchParams.get('as'), 'customer');
  }
  await context.close();
});

test('a wrong config.json says what is wrong instead of a blank page', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.route('**/config.json', (route) =>
    route.fulfill({ contentType: 'application/json', body: '{"apiBase": "ftp://nowhere"}' }),
  );
  await page.goto(`${site.url}${SUB}`);
  const problem = page.locator('[role=alert]');
  await problem.waitFor();
  assert.match(await problem.innerText(), /apiBase must be an http\(s\) address/);
  await context.close();
});

test('the sign-in does not send the browser to a site that is not allowed', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${servers.proxyUrl}/api/auth/login?returnTo=${encodeURIComponent('https://evil.example.com/')}`);
  const user = servers.partner.users[0];
  await page.fill('#login', user.userName);
  await page.fill('#passwd', user.password);
  await page.click('button[type=submit]');
  // Back to the proxy's own app, not the other site.
  await page.waitForURL((url) => url.origin === servers.proxyUrl && url.pathname === '/');
  await context.close();
});

test("404.html reopens the app only in a folder of its own site, never another site's", async () => {
  // The app at a site's root, and an attacker's site that lets any page
  // read a config.json of its own.
  const appRoot = mkdtempSync(join(tmpdir(), 'csp-costs-root-'));
  const evilRoot = mkdtempSync(join(tmpdir(), 'csp-costs-evil-'));
  cpSync(process.env.DIST_DIR, appRoot, { recursive: true });
  writeFileSync(join(evilRoot, 'config.json'), '{}');
  writeFileSync(join(evilRoot, 'index.html'), '<!doctype html><title>evil</title><p>evil</p>');
  const app = await staticServer(appRoot);
  const evil = await staticServer(evilRoot, { cors: true });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const evilHost = new URL(evil.url).host;
    await page.goto(`${app.url}//${evilHost}/x`);
    // It settles on the app's own site (the app at its root), not there.
    await page.waitForLoadState('networkidle');
    assert.equal(new URL(page.url()).origin, app.url, page.url());
    assert.ok(!evil.asked.includes('/') && !evil.asked.includes('/index.html'), `evil was opened: ${evil.asked}`);
    await context.close();
  } finally {
    await app.stop();
    await evil.stop();
    rmSync(appRoot, { recursive: true, force: true });
    rmSync(evilRoot, { recursive: true, force: true });
  }
});
