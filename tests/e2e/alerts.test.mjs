// Alerts in Chromium against the real proxy and emulator, with a real SMTP
// server (aiosmtpd, which `cargo xtask test` installs) and a webhook
// receiver on loopback: a manager sets rules, sends test messages that
// arrive, and sees them in the delivery log; a Billing admin can do none of it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import net from 'node:net';
import { startServers, launchBrowser, signIn } from './servers.mjs';

const SINK = fileURLToPath(new URL('../../crates/proxy/tests/alerts/smtp_sink.py', import.meta.url));

let servers;
let browser;
let smtp;
let mailDir;
let receiver;
const posted = [];
const problems = [];

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function until(what, check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function mails() {
  let names = [];
  try {
    names = readdirSync(mailDir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return names.map((n) => JSON.parse(readFileSync(join(mailDir, n), 'utf8')));
}

before(async () => {
  const work = mkdtempSync(join(tmpdir(), 'csp-costs-alerts-'));
  mailDir = join(work, 'mail');
  const smtpPort = await freePort();
  smtp = spawn('/usr/bin/python3', [SINK, String(smtpPort), mailDir], { stdio: 'ignore' });
  smtp.work = work;
  await until('the SMTP server', () =>
    new Promise((resolve) => {
      const socket = net.connect(smtpPort, '127.0.0.1', () => { socket.end(); resolve(true); });
      socket.on('error', () => resolve(false));
    }));
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      posted.push({ headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  servers = await startServers({
    customers: 6,
    logLevel: 'info',
    proxyArgs: [
      '--smtp-host', '127.0.0.1',
      '--smtp-port', String(smtpPort),
      '--smtp-security', 'none',
      '--smtp-from', 'CSP Costs <alerts@fabrikam.example>',
      // The receiver is on loopback.
      '--alert-local-webhooks',
    ],
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await servers?.stop();
  receiver?.close();
  if (smtp) {
    smtp.kill('SIGKILL');
    rmSync(smtp.work, { recursive: true, force: true });
  }
});

async function newPage(width = 1280) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width, height: 900 } });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    if (r.url().startsWith(`${servers.proxyUrl}/api/`) && r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`);
  });
  return page;
}

test('a manager sets rules, sends test messages that arrive, and sees the log', async () => {
  const admin = servers.partner.users.find((u) => u.roles.includes('Global admin'));
  const page = await newPage();
  await signIn(page, servers, admin.userName, '/settings');
  const card = page.locator('section.alerts');
  await card.getByText('No alert rules yet.').waitFor();

  // An e-mail rule for two events.
  await card.getByLabel('App key expiring').check();
  await card.getByLabel('Sync failing', { exact: true }).check();
  await card.locator('#rule-channel').selectOption('email');
  await card.locator('#rule-target').fill('ops@fabrikam.example');
  await card.getByRole('button', { name: 'Add rule' }).click();
  await card.getByText('Rule added.').waitFor();
  const row = card.locator('table.rules tbody tr');
  await row.first().waitFor();
  assert.equal(await row.count(), 1);
  assert.equal((await row.first().locator('td').first().innerText()).trim(), 'App key expiring, Sync failing');
  assert.equal((await row.first().locator('td.target').innerText()).trim(), 'E-mail: ops@fabrikam.example');

  // A bad address is refused with the proxy's reason, and nothing is added.
  await card.getByLabel('Trial ending').check();
  await card.locator('#rule-target').fill('ops at fabrikam');
  await card.getByRole('button', { name: 'Add rule' }).click();
  await card.getByText('“ops at fabrikam” is not an e-mail address.').waitFor();
  problems.splice(0); // that 400 was asked for
  assert.equal(await row.count(), 1);

  // The test message arrives, exactly.
  await row.first().getByRole('button', { name: 'Send a test message' }).click();
  await card.getByText('The test message is on its way: see the delivery log.').waitFor();
  const [mail] = await until('the test e-mail', () => mails().length === 1 && mails());
  assert.deepEqual(mail.rcptTos, ['ops@fabrikam.example']);
  assert.equal(mail.subject, 'A test message from CSP Costs');
  assert.match(mail.text.replace(/\r\n/g, '\n'), /^.+ sent this to try an alert rule\. Nothing needs doing\.\n\nOpen CSP Costs: http:\/\/127\.0\.0\.1:\d+\n$/);
  assert.match(mail.html, /<h1 style="font-size:18px">A test message from CSP Costs<\/h1>/);

  // A Slack webhook: its test message is posted in Slack's shape.
  await card.locator('#rule-channel').selectOption('webhook');
  await card.locator('#rule-shape').selectOption('slack');
  const hook = `http://127.0.0.1:${receiver.address().port}/slack`;
  await card.locator('#rule-target').fill(hook);
  await card.getByRole('button', { name: 'Add rule' }).click();
  await card.getByText('Rule added.').waitFor();
  assert.equal(await row.count(), 2);
  assert.equal(await card.locator('#signing-key').count(), 0, 'Slack bodies are not signed: no key shown');
  await row.nth(1).getByRole('button', { name: 'Send a test message' }).click();
  const [slack] = await until('the Slack message', () => posted.length === 1 && posted);
  assert.match(JSON.parse(slack.body).text, /^\*A test message from CSP Costs\*\n.+ sent this to try an alert rule\. Nothing needs doing\.\n<http:\/\/127\.0\.0\.1:\d+\|CSP Costs>$/);

  // The log shows both, sent at their first attempt.
  await until('both sent', async () => {
    await card.getByRole('button', { name: 'Refresh' }).click();
    return (await card.locator('tr.delivery.sent').count()) === 2;
  });
  const entries = await card.locator('table.deliveries tbody tr').allInnerTexts();
  assert.equal(entries.length, 2);
  // A webhook's address is its credential: once kept, the page shows it cut.
  const shown = `http://127.0.0.1:${receiver.address().port}/…lack`;
  assert.match(entries.find((e) => e.includes(shown)), /Test message\s+.*Sent · 1 attempt: HTTP 200/s);
  assert.ok(!(await card.innerText()).includes(hook), 'the whole webhook address is not shown');
  assert.match(entries.find((e) => e.includes('ops@fabrikam.example')), /A test message from CSP Costs\s+Sent · 1 attempt: 250/);

  // A generic webhook's signing key is shown once, beside the new rule.
  await card.locator('#rule-shape').selectOption('generic');
  await card.locator('#rule-target').fill(`http://127.0.0.1:${receiver.address().port}/generic`);
  await card.getByRole('button', { name: 'Add rule' }).click();
  await card.getByText('Rule added.').waitFor();
  const key = await card.locator('#signing-key').inputValue();
  assert.match(key, /^[A-Za-z0-9_-]{43}$/);
  const stored = JSON.stringify(await page.evaluate(() => ({ ...localStorage, ...sessionStorage })));
  assert.ok(!stored.includes(key), 'the signing key is in no browser storage');
  await page.reload();
  await card.locator('table.rules tbody tr').nth(2).waitFor();
  assert.equal(await card.locator('#signing-key').count(), 0, 'not shown again');

  // Removing a rule.
  await card.locator('table.rules tbody tr').nth(2).getByRole('button', { name: 'Remove' }).click();
  await until('the rule gone', async () => (await card.locator('table.rules tbody tr').count()) === 2);

  // A customer's own messages go to its invited users, each its own; the
  // rule's test message goes to the manager who asked, never to them.
  await card.locator('#rule-channel').selectOption('customer-users');
  assert.ok(!(await card.locator('#rule-target').isVisible()), 'no address: each user gets its own');
  assert.ok(!(await card.getByLabel('App key expiring').isVisible()), 'the partner\'s events are not offered');
  await card.getByLabel('Customer\'s monthly report, at its price (to its users)').check();
  await card.getByRole('button', { name: 'Add rule' }).click();
  await card.getByText('Rule added.').waitFor();
  const users = card.locator('table.rules tbody tr').nth(2);
  await users.waitFor();
  assert.equal((await users.locator('td').first().innerText()).trim(), 'Customer\'s monthly report, at its price (to its users)');
  assert.equal((await users.locator('td.target').innerText()).trim(), 'E-mail to the customer\'s invited users');
  await users.getByRole('button', { name: 'Send a test message' }).click();
  const mine = await until('the test to the manager', () => mails().length === 2 && mails()[1]);
  assert.deepEqual(mine.rcptTos.map((r) => r.toLowerCase()), [admin.userName.toLowerCase()]);
  assert.equal(mine.subject, 'A test message from CSP Costs');

  // What a person sees: no sideways scroll at 1280 px, no error anywhere.
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 1280, `the page is ${wide} px wide`);
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('a Billing admin sees why and can neither read nor set rules', async () => {
  const billing = servers.partner.users.find((u) => u.roles.length === 1 && u.roles[0] === 'Billing admin');
  assert.ok(billing, 'the demo partner has a Billing admin');
  const page = await newPage();
  await signIn(page, servers, billing.userName, '/settings');
  const card = page.locator('section.alerts');
  await card.locator('.managers-only').waitFor();
  assert.match(await card.innerText(), /Global admin|Admin agent/);
  assert.equal(await card.locator('#rule-target').count(), 0);
  assert.equal(await card.locator('table.deliveries').count(), 0);
  assert.deepEqual(problems, [], 'nothing refused was asked for');
  // Asked directly, the proxy refuses.
  const res = await page.request.post(`${servers.proxyUrl}/api/alerts/rules`, {
    data: { events: ['anomaly'], channel: 'webhook', target: 'https://hooks.example/x' },
  });
  assert.equal(res.status(), 403);
  assert.equal((await page.request.get(`${servers.proxyUrl}/api/alerts/deliveries`)).status(), 403);
  await page.context().close();
});
