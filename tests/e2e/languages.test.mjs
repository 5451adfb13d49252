// Every view in Traditional Chinese: a zh-TW browser walks each page (the
// partner's and a customer's own), and any English left in the visible text
// outside data (marked translate="no") fails the test, as do numbers and
// dates not written the zh-TW way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServers, launchBrowser, signIn, syncDone } from './servers.mjs';

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

// Names that stay as they are in every language (as the model's own unit
// test keeps them), and the examples of what to type.
const KEPT = [
  // Before 'Web': the alerts' formats and headers, kept as a receiver names them.
  'Webhook', 'Microsoft Teams', 'Slack', 'JSON', 'HMAC-SHA256', 'X-Csp-Costs-Signature', 'PROXY_SMTP_HOST', 'https://',
  'PartnerBilling.Read.All', 'Entra ID', 'MFA', 'Microsoft Graph', 'Microsoft', 'Partner Center', 'Azure', 'CSP', 'PEC', 'FOCUS', 'CSV', 'UTC', 'GUID', 'Web',
  'CSP Cost Tracker', 'English', 'name@customer.com', 'name@company.com', 'Ctrl+C', '⌘C', 'Mac', 'z 分數', '0f8fad5b-d9cb-469f-a165-70867728950e',
];

/**
 * The visible text of the page that should be in the page's language:
 * text nodes, labels for assistive technology and placeholders, outside
 * any element marked translate="no".
 */
function visibleWords(page) {
  return page.evaluate(() => {
    const out = [];
    const translated = (el) => !el.closest('[translate="no"]');
    const shown = (el) => el.checkVisibility ? el.checkVisibility() : true;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || ['SCRIPT', 'STYLE'].includes(el.tagName)) continue;
      // Text in a closed <details> is one click away: it counts too.
      if (!translated(el) || (!shown(el) && !el.closest('details'))) continue;
      const text = n.textContent.trim();
      if (text) out.push(text);
    }
    for (const el of document.body.querySelectorAll('[aria-label], [placeholder], [title]')) {
      if (!translated(el)) continue;
      for (const attr of ['aria-label', 'placeholder', 'title']) {
        const v = el.getAttribute(attr);
        if (v) out.push(v);
      }
    }
    return out;
  });
}

/** The customers' names and domains: data, even inside a sentence or a label. */
let data = [];

/** The pieces of text with English left once kept names, data, currency codes and numbers are removed. */
async function englishLeft(page) {
  const words = await visibleWords(page);
  return words.filter((w) => {
    let rest = w;
    for (const kept of [...KEPT, ...data]) rest = rest.split(kept).join('');
    // Currency codes and symbols (USD, US$, NT$, AU$), SVG tick money included.
    rest = rest.replace(/\b[A-Z]{2,3}\$?/g, '');
    return /[A-Za-z]/.test(rest);
  });
}

async function expectAllChinese(page, view) {
  const left = await englishLeft(page);
  assert.deepEqual(left, [], `English left on ${view}: ${JSON.stringify(left.slice(0, 10))}`);
}

async function api(page, path) {
  return page.evaluate(async (path) => (await fetch(path)).json(), path);
}

test('every view in zh-TW has no English outside data, and its figures are written the zh-TW way', async () => {
  const context = await browser.newContext({ locale: 'zh-TW' });
  const page = await context.newPage();
  const admin = servers.partner.users[0].userName;
  await signIn(page, servers, admin, '/customers');
  await page.locator('table.customers tbody tr').first().waitFor();
  await syncDone(page, servers);
  await page.reload();
  await page.locator('table.customers tbody tr').first().waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-TW');
  // Longest first, so that a name containing another is removed whole.
  data = (await api(page, '/api/customers')).customers.flatMap((c) => [c.name, c.domain])
    .sort((a, b) => b.length - a.length);
  await expectAllChinese(page, '/customers');

  // The customer page: amounts and the date as Intl writes them in zh-TW.
  const it = servers.partner.customerUsers[0];
  await page.goto(`${servers.proxyUrl}/customers/${it.customerId}`);
  await page.locator('table.breakdown tbody tr').first().waitFor();
  await page.locator('form.access ul.invited, form.access p.muted').first().waitFor();
  await expectAllChinese(page, '/customers/:id');
  const detail = await api(page, `/api/customers/${it.customerId}`);
  const expected = await page.evaluate(([micros, currency, day]) => ({
    money: new Intl.NumberFormat('zh-TW', { style: 'currency', currency }).format(micros / 1e6),
    day: new Intl.DateTimeFormat('zh-TW', { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric' })
      .format(new Date(`${day}T00:00:00Z`)),
  }), [detail.summary.monthToDate.partnerCost, detail.summary.currency, detail.asOf]);
  assert.equal(await page.locator('dd.mtd').textContent(), expected.money);
  assert.match(expected.day, /年.*月.*日/, 'zh-TW writes dates with 年 月 日');
  assert.ok((await page.locator('p.summary').textContent()).includes(expected.day), 'the figures-up-to date in zh-TW');

  // Every other view of the partner's, each once its data is drawn.
  const views = [
    ['/', 'section.card.trend figure'],
    ['/explorer', 'table.pivot tbody tr'],
    ['/explorer?g1=meterCategory&chart=line&bucket=week', 'table.pivot tbody tr'],
    ['/explorer?chart=running&compare=1', 'table.compared tbody tr'],
    ['/budgets', 'table.budgets tbody tr'],
    ['/margin', 'table.margin-customers tbody tr'],
    ['/settings', '#reporting-currency'],
    ['/onboarding', 'h2'],
    ['/connection', '.key-in-use h2'],
    ['/customers?q=no-such-customer', 'p.no-match'],
    ['/no-such-page', 'h1'],
  ];
  for (const [path, ready] of views) {
    await page.goto(`${servers.proxyUrl}${path}`);
    await page.locator(ready).first().waitFor();
    await page.waitForLoadState('networkidle');
    await expectAllChinese(page, path);
  }

  // The partner invites the customer's user; the customer's own view in zh-TW.
  const invited = await page.evaluate(async ([id, user]) => (await fetch(`/api/customers/${id}/users`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userName: user }),
  })).status, [it.customerId, it.userName]);
  assert.equal(invited, 201);
  const customer = await browser.newContext({ locale: 'zh-TW' });
  const own = await customer.newPage();
  await own.goto(`${servers.proxyUrl}/my`);
  await own.locator('.notice-box a.button').waitFor();
  await expectAllChinese(own, '/my signed out');
  await own.locator('.notice-box a.button').click();
  await own.fill('#login', it.userName);
  await own.fill('#passwd', it.password);
  await own.click('button[type=submit]');
  await own.waitForURL((url) => url.pathname === '/my');
  await own.locator('table.breakdown tbody tr').first().waitFor();
  await expectAllChinese(own, '/my');
  const mine = await api(own, '/api/my');
  const price = await own.evaluate(([m, c]) =>
    new Intl.NumberFormat('zh-TW', { style: 'currency', currency: c }).format(m / 1e6), [mine.monthToDate, mine.currency]);
  assert.equal(await own.locator('dd.mtd').textContent(), price);
  // A partner page reached by a customer leads to its own page, in zh-TW.
  await own.goto(`${servers.proxyUrl}/customers`);
  await own.waitForURL((url) => url.pathname === '/my');
  await own.locator('table.breakdown tbody tr').first().waitFor();
  await expectAllChinese(own, '/customers as a customer');
  await customer.close();
  await context.close();
});

test('the check itself catches English: the same walk in English fails it', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await signIn(page, servers, servers.partner.users[0].userName, '/budgets');
  await page.locator('table.budgets tbody tr').first().waitFor();
  const left = await englishLeft(page);
  assert.ok(left.includes('Budgets'), `the English page's words are found: ${JSON.stringify(left.slice(0, 5))}`);
  // And data marked translate="no" is not: no customer name is reported.
  const names = await page.locator('table.budgets tbody td[translate="no"]').allTextContents();
  assert.ok(names.length > 0);
  for (const name of names) assert.ok(!left.includes(name), `${name} is data`);
  await context.close();
});

test("step 5's refusals in zh-TW: an Admin agent may not grant the permission, and Entra's consent page refuses it", async () => {
  const tailspin = servers.demo.partners[3];
  const agent = tailspin.users.find((u) => u.userName.startsWith('agent'));
  const context = await browser.newContext({ locale: 'zh-TW' });
  const page = await context.newPage();
  await signIn(page, servers, agent.userName, '/onboarding', 'directory');
  await page.locator('h2', { hasText: '步驟 3／6' }).waitFor();
  await page.locator('section.step button.primary').click();
  await page.locator('h2', { hasText: '步驟 4／6' }).waitFor();
  await page.locator('section.step button.primary').click();
  await page.locator('.key-once').waitFor();
  await page.locator('section.step > button').last().click();
  await page.locator('h2', { hasText: '步驟 5／6' }).waitFor();
  // The agent declares the permission and makes the principal, and is told
  // it may not grant the permission.
  await page.locator('section.step button.primary').click();
  await page.locator('#billing-error', { hasText: '無法授與應用程式權限' }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('.checklist li.done').length === 2);
  await expectAllChinese(page, 'step 5, consent not grantable');
  // The key's check: nobody has consented yet.
  await page.locator('section.step > button').last().click();
  await page.locator('#billing-error', { hasText: '尚未有系統管理員同意' }).waitFor();
  await expectAllChinese(page, 'step 5, consent needed');
  // Entra's consent page refuses the agent: back in the wizard, in zh-TW.
  const consentUrl = await page.getAttribute('#consent-link', 'href');
  await page.goto(consentUrl);
  await page.fill('#login', agent.userName);
  await page.fill('#passwd', agent.password);
  await page.keyboard.press('Enter');
  await page.locator('#sign-in-error', { hasText: '同意頁面拒絕' }).waitFor();
  assert.match(await page.locator('#sign-in-error').textContent(), /AADSTS90094/);
  await page.locator('h2', { hasText: '步驟 5／6' }).waitFor();
  await expectAllChinese(page, 'step 5, consent refused');
  await context.close();
});

test('Partner Center asking for MFA is said on the overview, in zh-TW and in English', async () => {
  const faults = (body) => fetch(`${servers.emulatorUrl}/emulator/faults`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal((await faults({ mfaMissing: true })).status, 200);
  try {
    const zh = await browser.newContext({ locale: 'zh-TW' });
    const page = await zh.newPage();
    // A signed-in person's delegated token is what the usage summary is read with.
    await signIn(page, servers, servers.partner.users[0].userName, '/');
    assert.equal((await page.request.post(`${servers.proxyUrl}/api/sync`, { data: { kind: 'full' } })).status(), 202);
    await syncDone(page, servers);
    await page.reload();
    const problem = page.locator('section.incomplete li', { hasText: '多重要素驗證' });
    await problem.waitFor();
    await expectAllChinese(page, 'the overview with the MFA problem');
    const en = await browser.newContext({ locale: 'en-US' });
    const english = await en.newPage();
    await signIn(english, servers, servers.partner.users[0].userName, '/');
    await english.locator('section.incomplete li', { hasText: 'multi-factor authentication' }).waitFor();
    await zh.close();
    await en.close();
  } finally {
    await faults({});
  }
});

test('the onboarding wizard in zh-TW, step by step, with its field errors', async () => {
  const fresh = await startServers({ customers: 3, connect: false, logLevel: 'info' });
  try {
    const context = await browser.newContext({ locale: 'zh-TW' });
    const page = await context.newPage();
    const step = async (n) => {
      await page.locator('h2', { hasText: `步驟 ${n}／6` }).waitFor();
      await expectAllChinese(page, `onboarding step ${n}`);
    };
    await page.goto(`${fresh.proxyUrl}/onboarding`);
    await step(1);
    await page.locator('section.step a.button').click();
    await step(2);
    await page.locator('section.step a.button').click();
    const admin = fresh.demo.partners[0].users.find((u) => u.userName.startsWith('admin'));
    await page.fill('#login', admin.userName);
    await page.fill('#passwd', admin.password);
    await page.keyboard.press('Enter');
    await step(3);
    await page.locator('section.step button.primary').click();
    await step(4);
    await page.locator('section.step button.primary').click();
    await page.locator('.key-once').waitFor();
    await expectAllChinese(page, 'onboarding step 4 with a new key');
    await page.locator('section.step > button').last().click();
    await step(5);
    // Its failures in zh-TW: no service principal before the permission step.
    await page.locator('section.step > button').last().click();
    await page.locator('#billing-error', { hasText: '沒有服務主體' }).waitFor();
    await expectAllChinese(page, 'onboarding step 5 with its error');
    await page.locator('section.step button.primary').click();
    await page.waitForFunction(() => document.querySelectorAll('.checklist li.done').length === 3);
    await page.locator('section.step > button').last().click();
    await step(6);
    await page.fill('#trial-app', 'not a guid');
    await page.locator('section.step button[type=submit]').click();
    await page.locator('#trial-app-error').waitFor();
    await expectAllChinese(page, 'onboarding step 6 with field errors');
    assert.match(await page.locator('#trial-app-error').textContent(), /^應用程式識別碼必須是 GUID/);
    await context.close();
  } finally {
    await fresh.stop();
  }
});
