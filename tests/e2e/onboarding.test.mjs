// The onboarding in Chromium against the real proxy and emulator: a partner
// with no web app goes from sign-in to its first synced customers, with the
// failures on the way; the key value never lands in the browser's storage,
// the URL or the proxy's log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServers, launchBrowser, signIn, assertNoSecret } from './servers.mjs';

let servers;
let browser;

before(async () => {
  servers = await startServers({ customers: 9, connect: false });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await servers?.stop();
});

const contoso = () => servers.demo.partners[0];
const user = (partner, prefix) => partner.users.find((u) => u.userName.startsWith(prefix));

async function heading(page, text) {
  const h = page.locator('h2', { hasText: text });
  await h.waitFor();
  return h;
}

async function everywhere(page, context, secret) {
  const storage = await page.evaluate(async () => {
    const dbs = indexedDB.databases ? await indexedDB.databases() : [];
    return JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, dbs });
  });
  const cookies = JSON.stringify(await context.cookies());
  return { storage, cookies, url: page.url() };
}

// Runs first: once the partner is connected, the wizard shows it as done to everyone.
test('someone without the roles is told which are needed', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, servers, user(contoso(), 'billing').userName, '/onboarding');
  await heading(page, 'Before you begin');
  await page.locator('[role=alert]', { hasText: 'Global admin or Admin agent' }).waitFor();
  assert.ok(await page.locator('[role=alert]', { hasText: 'you have Billing admin' }).isVisible());
  await context.close();
});

test('a Global admin goes from sign-in to the first synced customers', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${servers.proxyUrl}/onboarding`);
  await heading(page, 'Before you begin');
  await page.getByRole('link', { name: 'Begin', exact: true }).click();
  await heading(page, 'Sign in');
  await page.getByRole('link', { name: 'Sign in with Partner Center' }).click();
  const admin = user(contoso(), 'admin');
  await page.fill('#login', admin.userName);
  await page.fill('#passwd', admin.password);
  await page.keyboard.press('Enter');

  // Step 3: register the web app.
  const step3 = await heading(page, 'Register the web app');
  // Focus moves to the new step's heading.
  await page.waitForFunction(() => document.activeElement?.tagName === 'H2', null, { timeout: 5_000 });
  assert.equal(await step3.textContent(), 'Step 3 of 6: Register the web app');
  await page.getByRole('button', { name: 'Register a new web app' }).click();

  // Step 4: a reload resumes here; the key value is shown once.
  await heading(page, 'Add a secret key');
  await page.reload();
  await heading(page, 'Add a secret key');
  const appId = await page.inputValue('#app-id');
  assert.match(appId, /^[0-9a-f-]{36}$/);
  // No way on before a key exists.
  assert.ok(await page.getByRole('button', { name: 'Continue', exact: true }).isDisabled());
  await page.locator('text=Create a key first').waitFor();
  await page.check('input[name=years][value="1"]');
  await page.getByRole('button', { name: 'Create the key' }).click();
  await page.locator('.key-once').waitFor();
  const key = await page.inputValue('#key-value');
  assert.ok(key.length > 20);
  assert.ok(await page.locator('.key-once', { hasText: 'shown only this once' }).isVisible());
  // The App ID has a copy button; the Commerce ID is for the records, not asked.
  await page.getByRole('button', { name: 'Copy App ID' }).click();
  await page.locator('.copy-status', { hasText: /Copied|selected/ }).first().waitFor();
  assert.ok(await page.locator('text=No step here needs it').isVisible());
  // The key list shows the new key at once, beside its value shown once.
  await page.locator('table.keys tbody tr').first().waitFor();
  assert.equal(await page.locator('table.keys tbody tr').count(), 1);
  assert.equal(await page.inputValue('#key-value'), key);
  let seen = await everywhere(page, context, key);
  for (const [where, text] of Object.entries(seen)) assertNoSecret(text, key, where);
  // Revoking asks once more: "Keep it" keeps the key.
  const revoke = page.locator('table.keys tbody tr').first().locator('button.link', { hasText: 'Revoke' });
  await revoke.click();
  await page.locator('table.keys .confirm', { hasText: 'stops working at once' }).waitFor();
  await page.getByRole('button', { name: 'Keep it' }).click();
  await revoke.waitFor();
  assert.equal(await page.locator('table.keys tbody tr').count(), 1);
  assert.equal(await page.locator('table.keys .confirm').count(), 0);
  await page.getByRole('button', { name: 'Continue', exact: true }).click();

  // Step 5: the app made through Graph has no service principal yet, so it
  // gets no token; then the permission, the principal and the consent.
  await heading(page, 'Let the app read billing');
  await page.getByRole('button', { name: "Check with the app's key" }).click();
  await page.locator('#billing-error', { hasText: 'AADSTS7000229' }).waitFor();
  assert.equal(await page.locator('.checklist li.done').count(), 0);
  await page.getByRole('button', { name: 'Let the app read billing' }).click();
  await page.waitForFunction(() => document.querySelectorAll('.checklist li.done').length === 3);
  await page.getByRole('button', { name: "Check with the app's key" }).click();

  // Step 6: failures first, each with its own message.
  await heading(page, 'Start the 30-day free trial');
  await page.reload();
  await heading(page, 'Start the 30-day free trial');
  await page.fill('#trial-app', 'not-a-guid');
  await page.fill('#trial-key', key);
  await page.click('button[type=submit]');
  await page.locator('#trial-app-error', { hasText: 'must be a GUID' }).waitFor();
  assert.equal(await page.getAttribute('#trial-app', 'aria-invalid'), 'true');
  await page.fill('#trial-app', appId);
  await page.fill('#trial-key', 'this-is-not-the-key-value-0000');
  await page.click('button[type=submit]');
  await page.locator('#trial-error', { hasText: 'not right for this App ID' }).waitFor();
  await page.fill('#trial-key', key);
  await page.click('button[type=submit]');
  await page.locator('#trial-error', { hasText: 'App management' }).waitFor();

  // The one portal step, through the link the wizard gives.
  const portalUrl = await page.getAttribute('a[target=_blank]', 'href');
  const portal = await context.newPage();
  await portal.goto(portalUrl);
  await portal.click('text=Register existing app');
  await portal.locator('text=is registered in Partner Center').waitFor();
  await portal.close();

  await page.click('button[type=submit]');
  // Connected: the first sync starts and the app moves to the overview as data arrives.
  await page.waitForURL(`${servers.proxyUrl}/`, { timeout: 30_000 });
  await page.locator('.summary', { hasText: `${contoso().customers} customers in Partner Center` }).waitFor({ timeout: 30_000 });
  await page.locator('.trial-chip', { hasText: 'Trial: 30 days left' }).waitFor();

  seen = await everywhere(page, context, key);
  for (const [where, text] of Object.entries(seen)) assertNoSecret(text, key, where);
  // The usage summary is App+User only: no app token was ever sent there.
  const stats = await (await fetch(`${servers.emulatorUrl}/emulator/stats`)).json();
  assert.equal(stats.appOnlyRefusals, 0);
  const log = servers.proxyLog();
  assert.ok(log.includes('trial started'), 'the proxy logged the trial at trace level');
  assertNoSecret(log, key, 'the proxy log');
  await context.close();
});

test('a partner that registered a web app before reuses it and skips creating one', async () => {
  const fabrikam = servers.demo.partners[1];
  const app = fabrikam.apps[0];
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, servers, fabrikam.users[0].userName, '/onboarding');
  // Signed in for who they are only: step 2 asks for the directory access.
  await heading(page, 'Sign in');
  assert.ok(await page.locator("text=needs access to your organization's directory").isVisible());
  await page.getByRole('link', { name: 'Sign in with access to your directory' }).click();
  await page.fill('#login', fabrikam.users[0].userName);
  await page.fill('#passwd', fabrikam.users[0].password);
  await page.keyboard.press('Enter');
  await heading(page, 'Register the web app');
  await page.locator('text=You registered a web app before').waitFor();
  await page.getByRole('button', { name: `Reuse ${app.displayName}` }).click();
  await heading(page, 'Add a secret key');
  assert.equal(await page.inputValue('#app-id'), app.appId);
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  // Its permission and consent were given before; no key was made here, so
  // the check asks for the one the partner kept.
  await heading(page, 'Let the app read billing');
  await page.waitForFunction(() => document.querySelectorAll('.checklist li.done').length === 3);
  await page.getByRole('button', { name: "Check with the app's key" }).click();
  await page.locator('#billing-error', { hasText: "Paste the key's value" }).waitFor();
  await page.fill('#billing-key', app.keys[0].secret);
  await page.getByRole('button', { name: "Check with the app's key" }).click();
  await heading(page, 'Start the 30-day free trial');
  await page.fill('#trial-key', app.keys[0].secret);
  await page.click('button[type=submit]');
  await page.waitForURL(`${servers.proxyUrl}/`, { timeout: 30_000 });
  await page.locator('.summary', { hasText: 'customers in Partner Center' }).waitFor({ timeout: 30_000 });
  await context.close();
});

test('when the trial ends the cost views pause with a banner, and an operator extends it', async () => {
  const fabrikam = servers.demo.partners[1];
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, servers, fabrikam.users[0].userName, '/');
  await page.locator('.trial-chip', { hasText: /Trial: \d+ days left/ }).waitFor();
  // Run beside the live proxy, as an operator would.
  const ended = await servers.operator('partner', 'end-trial', '--tenant', fabrikam.tenantId);
  assert.match(ended, /ended/);
  await page.goto(`${servers.proxyUrl}/customers`);
  await reloadUntil(page, page.locator('.banner[role=alert]', { hasText: 'Your 30-day trial ended' }));
  assert.ok(await page.locator('.banner', { hasText: 'your data and settings are kept' }).isVisible());
  // The proxy rereads a trial another process changed within a second.
  let res;
  for (let tries = 0; tries < 30; tries++) {
    res = await page.evaluate(async () => {
      const r = await fetch('api/customers');
      return { status: r.status, body: await r.json() };
    });
    if (res.status !== 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(res.status, 402);
  assert.equal(res.body.error.code, 'trial_ended');
  // The pages know from the session and ask for nothing they would be refused.
  const seen = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') seen.push(`${page.url()}: ${m.text()}`); });
  page.on('response', (r) => { if (r.status() >= 400) seen.push(`HTTP ${r.status()} for ${r.url()}`); });
  for (const route of ['/', '/customers', '/explorer', '/budgets', '/margin', '/settings', '/connection']) {
    await page.goto(`${servers.proxyUrl}${route}`);
    await page.locator('main p.notice.paused').waitFor();
    await page.waitForLoadState('networkidle');
  }
  assert.deepEqual(seen, []);
  const extended = await servers.operator('partner', 'extend', '--tenant', fabrikam.tenantId);
  assert.match(extended, /30 days left/);
  await reloadUntil(page, page.locator('.trial-chip', { hasText: 'Trial: 30 days left' }));
  assert.equal(await page.locator('.banner', { hasText: 'trial ended' }).count(), 0);
  await context.close();
});

/**
 * Reloads until `locator` shows: the proxy rereads a trial that another
 * process (the operator command) changed within a second.
 */
async function reloadUntil(page, locator) {
  for (let tries = 0; ; tries++) {
    try {
      await locator.waitFor({ timeout: 1_000 });
      return;
    } catch (e) {
      if (tries === 4) throw e;
      await page.reload();
    }
  }
}

/** Presses Tab until the focused element's text (or label) matches; fails after 60 presses. */
async function tabTo(page, pattern) {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    const text = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el) return '';
      const label = el.id ? document.querySelector(`label[for="${el.id}"]`)?.textContent : '';
      return `${el.textContent ?? ''} ${label ?? ''} ${el.getAttribute('aria-label') ?? ''}`.trim();
    });
    if (pattern.test(text)) return;
  }
  throw new Error(`no focusable element matching ${pattern}`);
}

test('the whole onboarding can be done with the keyboard alone', async () => {
  const northwind = servers.demo.partners[2];
  const admin = user(northwind, 'admin');
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${servers.proxyUrl}/onboarding`);
  await heading(page, 'Before you begin');
  await tabTo(page, /^Begin$/);
  await page.keyboard.press('Enter');
  await heading(page, 'Sign in');
  await page.reload();
  await heading(page, 'Sign in');
  await tabTo(page, /Sign in with Partner Center/);
  await page.keyboard.press('Enter');
  await page.locator('#login').waitFor();
  await page.keyboard.type(admin.userName);
  await page.keyboard.press('Tab');
  await page.keyboard.type(admin.password);
  await page.keyboard.press('Enter');
  await heading(page, 'Register the web app');
  await page.reload();
  await heading(page, 'Register the web app');
  await tabTo(page, /Register a new web app/);
  await page.keyboard.press('Enter');
  await heading(page, 'Add a secret key');
  await tabTo(page, /Create the key/);
  await page.keyboard.press('Enter');
  await page.locator('.key-once').waitFor();
  const key = await page.inputValue('#key-value');
  const appId = await page.inputValue('#app-id');
  await tabTo(page, /^Continue$/);
  await page.keyboard.press('Enter');
  await heading(page, 'Let the app read billing');
  await tabTo(page, /^Let the app read billing$/);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('.checklist li.done').length === 3);
  await tabTo(page, /Check with the app's key/);
  await page.keyboard.press('Enter');
  await heading(page, 'Start the 30-day free trial');
  // Register the app in the portal (another site, outside this test's keyboard path).
  const portal = await context.newPage();
  await portal.goto(await page.getAttribute('a[target=_blank]', 'href'));
  await portal.click('text=Register existing app');
  await portal.locator('text=is registered in Partner Center').waitFor();
  await portal.close();
  await page.bringToFront();
  await tabTo(page, /Key value/);
  await page.keyboard.type(key);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${servers.proxyUrl}/`, { timeout: 30_000 });
  await page.locator('.summary', { hasText: 'customers in Partner Center' }).waitFor({ timeout: 30_000 });
  assert.match(appId, /^[0-9a-f-]{36}$/);

  await context.close();
});

test('an Admin agent found only on the second page of memberships onboards, and a Global admin consents', async () => {
  const tailspin = servers.demo.partners[3];
  const agent = user(tailspin, 'agent');
  const admin = user(tailspin, 'admin');
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, servers, agent.userName, '/onboarding', 'directory');
  await heading(page, 'Register the web app');
  // More than a page of web apps in the directory: every one is offered.
  await page.locator('ul.choices li').first().waitFor();
  assert.equal(await page.locator('ul.choices li').count(), tailspin.apps.length);
  await page.getByRole('button', { name: 'Register a new web app' }).click();
  await heading(page, 'Add a secret key');
  await page.getByRole('button', { name: 'Create the key' }).click();
  await page.locator('.key-once').waitFor();
  const key = await page.inputValue('#key-value');
  const appId = await page.inputValue('#app-id');
  await page.getByRole('button', { name: 'Continue', exact: true }).click();

  // An Admin agent may declare the permission and make the service
  // principal, not grant an application permission.
  await heading(page, 'Let the app read billing');
  await page.getByRole('button', { name: 'Let the app read billing' }).click();
  await page.locator('#billing-error', { hasText: 'may not grant an application permission' }).waitFor();
  // What it could do is shown done beside the refusal.
  await page.waitForFunction(() => document.querySelectorAll('.checklist li.done').length === 2);
  await page.getByRole('button', { name: "Check with the app's key" }).click();
  await page.locator('#billing-error', { hasText: 'nobody has consented' }).waitFor();

  // Entra's consent page refuses the agent, and the wizard says why.
  const consentUrl = await page.getAttribute('#consent-link', 'href');
  await page.goto(consentUrl);
  await page.fill('#login', agent.userName);
  await page.fill('#passwd', agent.password);
  await page.keyboard.press('Enter');
  await page.locator('#sign-in-error', { hasText: 'AADSTS90094' }).waitFor();
  assert.match(await page.locator('#sign-in-error').textContent(), /^The permission was not granted/);
  await heading(page, 'Let the app read billing');

  // A Global admin accepts it on the same page.
  await page.goto(consentUrl);
  await page.fill('#login', admin.userName);
  await page.fill('#passwd', admin.password);
  await page.keyboard.press('Enter');
  await heading(page, 'Let the app read billing');
  await page.waitForFunction(() => document.querySelectorAll('.checklist li.done').length === 3);
  assert.equal(await page.locator('#sign-in-error').count(), 0);
  await page.getByRole('button', { name: "Check with the app's key" }).click();

  await heading(page, 'Start the 30-day free trial');
  const portal = await context.newPage();
  await portal.goto(await page.getAttribute('a[target=_blank]', 'href'));
  // Among the directory's 120 other apps, the one made here.
  await portal.locator('tr', { hasText: appId }).getByRole('button', { name: 'Register existing app' }).click();
  await portal.locator('text=is registered in Partner Center').waitFor();
  await portal.close();
  await page.fill('#trial-key', key);
  await page.click('button[type=submit]');
  await Promise.race([
    page.waitForURL(`${servers.proxyUrl}/`, { timeout: 30_000 }),
    page.locator('#trial-error').waitFor({ timeout: 30_000 }).then(async () => {
      throw new Error(`the trial did not start: ${await page.locator('#trial-error').textContent()}`);
    }),
  ]);
  await page.locator('.summary', { hasText: `${tailspin.customers} customers in Partner Center` }).waitFor({ timeout: 30_000 });
  await context.close();
});

test('a user with no role, in groups named like roles, sees costs and is told which role is needed', async () => {
  const tailspin = servers.demo.partners[3];
  const eve = user(tailspin, 'eve');
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, servers, eve.userName, '/');
  await page.locator('.summary', { hasText: 'customers in Partner Center' }).waitFor({ timeout: 30_000 });
  // The budget form is there but disabled, with the roles needed beside it.
  await page.goto(`${servers.proxyUrl}/customers?sort=name&dir=asc`);
  const first = page.locator('table.customers tbody tr td:first-child a').first();
  await first.waitFor();
  await first.click();
  await page.locator('#budget-amount').waitFor();
  assert.ok(await page.locator('#budget-amount').isDisabled());
  const refusal = page.locator('.managers-only', { hasText: 'Global admin or Admin agent' }).first();
  await refusal.waitFor();
  assert.match(await refusal.textContent(), /no Partner Center role/);
  // Nothing reached Partner Center, and the markup route refuses too.
  const status = await page.evaluate(async () => {
    const r = await fetch('api/markup', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ basis: 'listPrice', percent: '1000' }),
    });
    return r.status;
  });
  assert.equal(status, 403);
  await context.close();
});
