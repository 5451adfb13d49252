// Starts the real emulator and proxy binaries on free loopback ports for one
// test file, and Chromium through playwright-core. xtask passes the paths.
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, createWriteStream, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests with \`cargo xtask test\``);
  return value;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitFor(url, expectStatus = 200, timeoutMs = 60_000) {
  const started = Date.now();
  let last = 'no answer';
  while (Date.now() - started < timeoutMs) {
    try {
      const res = await fetch(url);
      if (res.status === expectStatus) return res;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer ${expectStatus} in ${timeoutMs} ms (last: ${last})`);
}

function start(bin, args, env, logFile) {
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  // Two sources into one file: neither may end it (the first to close would,
  // and the other's last lines would then be a write after its end); the
  // child's exit, once both are closed, does.
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  child.once('close', () => log.end());
  return child;
}

/**
 * The emulator and a proxy connected with the emulator's pre-registered app.
 * Returns URLs, the emulator's demo data, and `stop()`.
 */
export async function startServers({ customers = 40, connect = true, logLevel = 'trace', proxyArgs = [], emulatorArgs = [] } = {}) {
  const work = mkdtempSync(join(tmpdir(), 'csp-costs-e2e-'));
  const emulatorPort = await freePort();
  const emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  const emulator = start(
    required('EMULATOR_BIN'),
    ['--port', String(emulatorPort), '--customers', String(customers), ...emulatorArgs],
    {},
    join(work, 'emulator.log'),
  );
  // A server that does not come up takes the other down with it: nothing is
  // left running for the runner to wait on.
  const children = [emulator];
  const abandon = async (e) => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
    throw e;
  };
  const demo = await waitFor(`${emulatorUrl}/emulator/demo`).then((r) => r.json()).catch(abandon);
  const partner = demo.partners.find((p) => p.apps.length > 0);
  const app = partner.apps[0];

  const proxyPort = await freePort();
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const proxyLog = join(work, 'proxy.log');
  const proxy = start(
    required('PROXY_BIN'),
    [
      '--port', String(proxyPort),
      '--data-dir', join(work, 'data'),
      '--dist', required('DIST_DIR'),
      '--upstream-url', emulatorUrl,
      '--login-url', emulatorUrl,
      ...proxyArgs,
    ],
    {
      ...(connect
        ? { PROXY_PARTNER_TENANT: partner.tenantId, PROXY_APP_ID: app.appId, PROXY_APP_SECRET: app.keys[0].secret }
        : {}),
      PROXY_GRAPH_URL: emulatorUrl,
      PROXY_APP_MANAGEMENT_URL: `${emulatorUrl}/emulator/portal/app-management`,
      PROXY_SYNC_MINUTES: '0',
      // Trace by default: the tests read the log to prove no secret reaches it.
      RUST_LOG: logLevel,
    },
    proxyLog,
  );
  children.push(proxy);
  await waitFor(`${proxyUrl}/api/health`).catch((e) =>
    abandon(new Error(`${e.message}\nproxy log:\n${readFileSync(proxyLog, 'utf8').slice(-2000)}`)));
  return {
    emulatorUrl,
    proxyUrl,
    demo,
    partner,
    app,
    proxyPid: proxy.pid,
    proxyLog: () => readFileSync(proxyLog, 'utf8'),
    /**
     * Runs an operator command (`partner ...`) against the running proxy's store.
     * Asynchronous on purpose: a blocked event loop stops draining the proxy's
     * log pipe, and the proxy then blocks on a log write holding the store's lock.
     */
    operator: async (...args) =>
      (await promisify(execFile)(required('PROXY_BIN'), ['--data-dir', join(work, 'data'), ...args])).stdout,
    async stop() {
      for (const child of [proxy, emulator]) {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
        }
      }
      // The store and the trace-level logs run to hundreds of megabytes.
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with no background traffic off this machine. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: required('CHROMIUM'),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // Tests read English text unless they ask for another language.
      '--lang=en-US',
    ],
  });
}

/** Reads every customer straight from the emulator, as an independent check. */
export async function emulatorCustomers(servers) {
  const { emulatorUrl, partner, app } = servers;
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: app.appId,
    client_secret: app.keys[0].secret,
    resource: 'https://api.partnercenter.microsoft.com',
  });
  const token = await (await fetch(`${emulatorUrl}/${partner.tenantId}/oauth2/token`, { method: 'POST', body: form })).json();
  const headers = { Authorization: `Bearer ${token.access_token}` };
  const customers = [];
  let uri = '/customers?size=7';
  let extra = {};
  // Bounded: a continuation that never ends fails rather than hangs.
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await (await fetch(`${emulatorUrl}/v1${uri}`, { headers: { ...headers, ...extra } })).json();
    customers.push(...page.items);
    if (!page.links.next) return customers;
    uri = page.links.next.uri;
    extra = Object.fromEntries(page.links.next.headers.map((h) => [h.key, h.value]));
  }
  throw new Error('the customer list did not end after 10,000 pages');
}

/**
 * The forms a secret takes on its way out: as typed, percent-encoded (a form
 * body or a URL writes `~` as `%7E`), JSON-escaped, and in base64 and
 * base64url (a Basic header, a token).
 */
export function secretForms(secret) {
  return [
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ s: secret }).toString().slice(2),
    JSON.stringify(secret).slice(1, -1),
    Buffer.from(secret).toString('base64').replace(/=+$/, ''),
    Buffer.from(secret).toString('base64url'),
  ];
}

/** Fails when `text` holds `secret` in any of its forms, naming where and which form. */
export function assertNoSecret(text, secret, where) {
  secretForms(secret).forEach((form, i) => {
    assert.ok(!text.includes(form), `the secret reached ${where} (form ${i}: typed, percent, form, JSON, base64, base64url)`);
  });
}

/**
 * Waits until the latest sync has succeeded (through `page`'s session);
 * fails when it failed or is still running after `timeoutMs`.
 */
export async function syncDone(page, servers, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let p;
  while (Date.now() < deadline) {
    p = await (await page.request.get(`${servers.proxyUrl}/api/sync`)).json();
    if (p.status === 'succeeded') return p;
    if (p.status === 'failed') throw new Error(`the sync failed: ${p.error}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the sync did not finish in ${timeoutMs} ms: ${JSON.stringify(p)}`);
}

/** Starts a full sync through `page`'s session and waits until it has succeeded. */
export async function fullSync(page, servers) {
  const started = await page.request.post(`${servers.proxyUrl}/api/sync`, { data: { kind: 'full' } });
  if (started.status() !== 202) throw new Error(`the sync did not start: HTTP ${started.status()}`);
  return syncDone(page, servers);
}

/**
 * Signs in on the emulator's sign-in page, as a person would, and comes back
 * to `returnTo`; `as: 'directory'` asks the directory access an admin grants
 * in the wizard's step 2.
 */
export async function signIn(page, servers, userName, returnTo = '/', as = '') {
  const user = servers.demo.partners.flatMap((p) => p.users).find((u) => u.userName === userName);
  const kind = as ? `&as=${as}` : '';
  await page.goto(`${servers.proxyUrl}/api/auth/login?returnTo=${encodeURIComponent(returnTo)}${kind}`);
  await page.fill('#login', user.userName);
  await page.fill('#passwd', user.password);
  await page.click('button[type=submit]');
  await page.waitForURL((url) => url.origin === servers.proxyUrl && url.pathname === returnTo);
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

/**
 * A plain static file server over `root`, as GitHub Pages or S3 behave: a
 * file if there is one (a folder's index.html for a folder), otherwise the
 * nearest 404.html above the path, with status 404. No rewrite rules.
 * Returns its URL, every path asked for, and `stop()`.
 */
export async function staticServer(root, { cors = false } = {}) {
  const http = await import('node:http');
  const fs = await import('node:fs');
  const path = await import('node:path');
  const asked = [];
  const send = (res, status, file) => {
    res.writeHead(status, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      // A site that lets any page read its files (as an attacker's would).
      ...(cors ? { 'access-control-allow-origin': '*' } : {}),
    });
    fs.createReadStream(file).pipe(res);
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    asked.push(url.pathname);
    const file = path.join(root, decodeURIComponent(url.pathname));
    if (!file.startsWith(root)) {
      res.writeHead(400).end();
      return;
    }
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (stat?.isFile()) return send(res, 200, file);
    if (stat?.isDirectory() && fs.existsSync(path.join(file, 'index.html'))) {
      // As static hosts do (nginx, GitHub Pages, S3): a folder's address ends with a slash.
      if (!url.pathname.endsWith('/')) {
        res.writeHead(301, { location: `${url.pathname}/${url.search}` }).end();
        return;
      }
      return send(res, 200, path.join(file, 'index.html'));
    }
    for (let dir = path.dirname(file); dir.startsWith(root); dir = path.dirname(dir)) {
      const fallback = path.join(dir, '404.html');
      if (fs.existsSync(fallback)) return send(res, 404, fallback);
      if (dir === root) break;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    asked,
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** An amount of millionths as the app writes it in English. */
export const money = (micros, currency) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(micros / 1e6);

/** Every line item of a scope through the proxy's paged route, with the page's session. */
export async function lineItems(page, servers, query) {
  const out = [];
  let offset = 0;
  for (;;) {
    const res = await page.request.get(`${servers.proxyUrl}/api/line-items?${query}&offset=${offset}&limit=5000`);
    assert.equal(res.status(), 200);
    const body = await res.json();
    out.push(...body.items);
    if (body.nextOffset == null) return out;
    offset = body.nextOffset;
  }
}

/**
 * What does not fit, on the page as drawn: sideways scrolling, a word of a
 * label split over two lines (in English, where words have spaces), an
 * amount split at all.
 */
export function layoutProblems(checkWords) {
  const out = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) out.push(`the page scrolls sideways: ${root.scrollWidth} > ${root.clientWidth}`);
  const lines = (node, start, end) => {
    const range = document.createRange();
    range.setStart(node, start);
    range.setEnd(node, end);
    const rects = [...range.getClientRects()].filter((r) => r.width > 0);
    if (rects.length < 2) return 1;
    const tops = rects.map((r) => r.top);
    const height = Math.min(...rects.map((r) => r.height));
    return Math.max(...tops) - Math.min(...tops) > height / 2 ? 2 : 1;
  };
  const shown = (el) => el.getClientRects().length > 0 && !el.closest('details:not([open])');
  const texts = function* (el) {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n; (n = walker.nextNode());) if (n.data.trim()) yield n;
  };
  const where = (el) => `<${el.tagName.toLowerCase()}${el.className ? `.${el.className}` : ''}> "${el.textContent.trim().slice(0, 50)}"`;
  if (checkWords) {
    for (const el of document.querySelectorAll('dt, th, h1, h2, label, legend, button, header nav a, .brand, .account')) {
      if (!shown(el)) continue;
      for (const n of texts(el)) {
        // A word may break after its own hyphen ("partner-|earned"), as type does.
        for (const m of n.data.matchAll(/[^\s\-‐]+/g)) {
          if (lines(n, m.index, m.index + m[0].length) > 1) out.push(`"${m[0]}" broken in ${where(el)}`);
        }
      }
    }
  }
  for (const el of document.querySelectorAll('.totals dd, td.num')) {
    if (!shown(el)) continue;
    for (const n of texts(el)) {
      if (n.parentElement.closest('.note')) continue;
      if (lines(n, 0, n.data.length) > 1) out.push(`amount "${n.data}" broken in ${where(el)}`);
    }
  }
  return out;
}
