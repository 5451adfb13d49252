// Embedding in a partner's portal: the sample host page (examples/) frames
// the app served by the proxy, which allows that origin with
// --frame-ancestors. Messages both ways, origin-checked; a portal on an
// origin not allowed cannot frame the app at all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServers, launchBrowser, signIn, staticServer } from './servers.mjs';

const HOST_PAGE = join(import.meta.dirname, '../../examples/iframe-host');
let portal;
let stranger;
let servers;
let browser;

before(async () => {
  portal = await staticServer(HOST_PAGE);
  stranger = await staticServer(HOST_PAGE);
  servers = await startServers({ customers: 6, proxyArgs: ['--frame-ancestors', portal.url] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await servers?.stop();
  await portal?.stop();
  await stranger?.stop();
});

const messages = (page, type) =>
  page.locator(`#log li[data-type=${type}]`).allInnerTexts().then((t) => t.map((m) => JSON.parse(m)));

test('a portal frames the app and they talk by postMessage', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, servers, servers.partner.users[0].userName, '/');

  await page.goto(`${portal.url}/index.html?app=${encodeURIComponent(`${servers.proxyUrl}/`)}`);
  await page.locator('#log li[data-type=ready]').waitFor();
  const [ready] = await messages(page, 'ready');
  assert.equal(ready.source, 'csp-costs');
  assert.match(ready.version, /^\d+\.\d+\.\d+$/);

  // The height, so the portal sizes the frame to the page.
  await page.locator('#log li[data-type=height]').first().waitFor();
  await page.waitForTimeout(1000);
  const heights = await messages(page, 'height');
  const last = heights.at(-1).height;
  assert.ok(last > 200, `height ${last}`);
  // It settles: fitting the frame does not make the page taller again.
  assert.ok(heights.length < 6, `the height kept changing: ${heights.map((h) => h.height)}`);
  assert.equal(await page.locator('#costs').evaluate((f) => f.style.height), `${last}px`);

  // The app says where it goes.
  const app = page.frameLocator('#costs');
  await app.getByRole('link', { name: 'Customers', exact: true }).click();
  await page.locator('#log li[data-type=navigate]', { hasText: '"/customers"' }).waitFor();

  // The portal sets the theme and accent, and opens a page of the app.
  await page.click('#dark');
  const frame = page.frames().find((f) => f.url().startsWith(servers.proxyUrl));
  await frame.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
  const look = await frame.evaluate(() => ({
    accent: getComputedStyle(document.documentElement).getPropertyValue('--color-accent').trim(),
    scheme: getComputedStyle(document.documentElement).colorScheme,
    background: getComputedStyle(document.body).backgroundColor,
  }));
  assert.equal(look.accent, '#c2255c');
  assert.equal(look.scheme, 'dark');
  assert.equal(look.background, 'rgb(15, 20, 25)');
  await page.click('#explorer');
  await frame.waitForURL(`${servers.proxyUrl}/explorer`);
  await app.locator('h1', { hasText: 'Cost explorer' }).waitFor();

  // The portal sets the language.
  await page.evaluate(() =>
    document.getElementById('costs').contentWindow.postMessage(
      { type: 'language', language: 'zh-TW' },
      new URL(document.getElementById('costs').src).origin,
    ),
  );
  await app.locator('nav a', { hasText: '總覽' }).waitFor();

  // A failure the app shows is reported too.
  await page.evaluate(() =>
    document.getElementById('costs').contentWindow.postMessage(
      { type: 'navigate', path: '/customers/00000000-0000-0000-0000-000000000000' },
      new URL(document.getElementById('costs').src).origin,
    ),
  );
  await app.locator('.error[role=alert]').waitFor();
  await page.locator('#log li[data-type=error]').waitFor();
  const [failure] = await messages(page, 'error');
  assert.equal(failure.message, await app.locator('.error[role=alert]').innerText());

  // The framed app fits its frame: no sideways scroll inside it. (The
  // portal's styles cannot reach a cross-origin frame, so that is not
  // asked; the mounted app below is where they could.)
  const fit = await frame.evaluate(() => ({
    scroll: document.scrollingElement.scrollWidth,
    width: document.scrollingElement.clientWidth,
  }));
  assert.ok(fit.scroll <= fit.width, `the framed app scrolls sideways: ${fit.scroll} > ${fit.width}`);
  await context.close();
});

test('a portal on an origin not allowed cannot frame the app', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const refused = page.waitForEvent('console', (m) => /frame-ancestors/.test(m.text()));
  await page.goto(`${stranger.url}/index.html?app=${encodeURIComponent(`${servers.proxyUrl}/`)}`);
  await refused;
  await page.waitForTimeout(1000);
  assert.equal(await page.locator('#log li').count(), 0);
  await context.close();
});

test('a portal mounts the app into its own element, and neither page styles the other', async () => {
  const mountHost = await staticServer(join(import.meta.dirname, '../../examples/mount-host'));
  const mounted = await startServers({ customers: 5, proxyArgs: ['--cors-origins', mountHost.url] });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, mounted, mounted.partner.users[0].userName, '/');
    // The portal's look before the app arrives.
    await page.goto(`${mountHost.url}/index.html?app=${encodeURIComponent(`${mounted.proxyUrl}/`)}`);
    const portalLook = () =>
      page.evaluate(() => {
        const css = (sel, prop) => getComputedStyle(document.querySelector(sel))[prop];
        return {
          button: css('#portal-button', 'backgroundColor'),
          table: css('#portal-table', 'borderTopStyle'),
          h1: css('h1', 'color'),
          font: css('body', 'fontFamily'),
        };
      });
    const before = await portalLook();
    await page.waitForFunction(() => document.body.dataset.mounted);
    assert.equal(await page.evaluate(() => document.body.dataset.mounted), 'yes');

    // The app renders in the shadow root, signed in, with its own look.
    const app = page.locator('#costs');
    await app.getByRole('button', { name: 'Sign out' }).waitFor();
    await app.locator('main h1').first().waitFor();
    const appLook = await page.evaluate(() => {
      const shadow = document.getElementById('costs').shadowRoot;
      const h1 = shadow.querySelector('main h1');
      const button = shadow.querySelector('button');
      return {
        h1: getComputedStyle(h1).color,
        font: getComputedStyle(h1).fontFamily,
        spacing: getComputedStyle(h1).letterSpacing,
        button: getComputedStyle(button).backgroundColor,
      };
    });
    assert.notEqual(appLook.h1, before.h1, 'the portal h1 colour stays out');
    assert.ok(!/Georgia/.test(appLook.font), `the portal font stays out: ${appLook.font}`);
    assert.equal(appLook.spacing, 'normal');
    assert.notEqual(appLook.button, 'rgb(255, 215, 0)');
    assert.deepEqual(await portalLook(), before, "the app's styles stay out of the portal");

    // Its routes live under the portal's basePath.
    await app.getByRole('link', { name: 'Customers', exact: true }).click();
    await page.waitForURL(`${mountHost.url}/portal/customers`);
    await app.locator('h1', { hasText: 'Customers' }).waitFor();
    await context.close();
  } finally {
    await mounted.stop();
    await mountHost.stop();
  }
});
