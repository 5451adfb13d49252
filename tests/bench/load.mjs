// The proxy under load: wrk at 500 concurrent connections on the routes the
// Overview reads (session, overview, sync state), each connection signed in.
// Baseline, same run: the same wrk against a static file server serving the
// same JSON bodies from disk — the proxy binary's own static-file route
// (tower-http's ServeDir), so both sides share the HTTP stack, its
// middleware and the machine. Peak RSS of the loaded proxy from /proc.
// `cargo xtask bench` runs it and reads the BENCH line.
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, mkdirSync, writeFileSync, copyFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { startServers, launchBrowser } from '../e2e/servers.mjs';
import { syncedSession, median } from './session.mjs';

const CONNECTIONS = 500;
const SECONDS = 10;
const RUNS = 3;
const ROUTES = ['session', 'overview', 'sync'];

const work = mkdtempSync(join(tmpdir(), 'csp-costs-load-'));

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** wrk's script: the routes in turn, with the session cookie when there is one. */
function script(name, paths, cookie) {
  const file = join(work, `${name}.lua`);
  writeFileSync(
    file,
    [
      `local paths = { ${paths.map((p) => JSON.stringify(p)).join(', ')} }`,
      'local i = 0',
      cookie ? `wrk.headers["Cookie"] = ${JSON.stringify(cookie)}` : '',
      'request = function()',
      '  i = i % #paths + 1',
      '  return wrk.format("GET", paths[i])',
      'end',
    ].join('\n'),
  );
  return file;
}

const MS = { us: 0.001, ms: 1, s: 1000 };
const duration = (text) => {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!m) throw new Error(`wrk duration ${text}`);
  return Number(m[1]) * MS[m[2]];
};

/** One wrk run; p50/p99 in ms, requests per second, and every kind of error wrk counts. */
async function wrk(url, scriptFile) {
  const { stdout } = await promisify(execFile)('wrk', [
    '-t2', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', '--timeout', '5s', '-s', scriptFile, url,
  ]);
  const pct = (p) => duration(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(stdout)[1]);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  return {
    p50: pct(50),
    p99: pct(99),
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)[1]),
    errors: (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0),
  };
}

function peakRss(pid) {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(kb[1]) / 1024;
}

const servers = await startServers({ customers: 200, logLevel: 'warn' });
let baseline;
try {
  const browser = await launchBrowser();
  const cookies = await syncedSession(browser, servers).finally(() => browser.close());
  const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');

  // The same bodies, from disk.
  const bodies = join(work, 'bodies');
  mkdirSync(bodies);
  copyFileSync(join(process.env.DIST_DIR, 'index.html'), join(bodies, 'index.html'));
  for (const route of ROUTES) {
    const res = await fetch(`${servers.proxyUrl}/api/${route}`, { headers: { Cookie: cookie } });
    if (res.status !== 200) throw new Error(`/api/${route}: HTTP ${res.status}`);
    writeFileSync(join(bodies, `${route}.json`), await res.text());
  }
  const port = await freePort();
  baseline = spawn(
    process.env.PROXY_BIN,
    ['--port', String(port), '--data-dir', join(work, 'static-data'), '--dist', bodies],
    { env: { ...process.env, RUST_LOG: 'warn', PROXY_SYNC_MINUTES: '0' }, stdio: 'ignore' },
  );
  const staticUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${staticUrl}/overview.json`)).status === 200) break;
    } catch {}
    if (i > 100) throw new Error('the static server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }

  const proxyScript = script('proxy', ROUTES.map((r) => `/api/${r}`), cookie);
  const staticScript = script('static', ROUTES.map((r) => `/${r}.json`));
  const proxyRuns = [];
  const staticRuns = [];
  // Alternate, so that noise on the shared machine falls on both sides.
  for (let i = 0; i < RUNS; i++) {
    proxyRuns.push(await wrk(servers.proxyUrl, proxyScript));
    staticRuns.push(await wrk(staticUrl, staticScript));
  }
  const summary = (runs) => ({
    p50Ms: median(runs.map((r) => r.p50)),
    p99Ms: median(runs.map((r) => r.p99)),
    rps: median(runs.map((r) => r.rps)),
    errors: runs.reduce((a, r) => a + r.errors, 0),
  });
  console.log(
    `BENCH ${JSON.stringify({
      connections: CONNECTIONS,
      seconds: SECONDS,
      runs: RUNS,
      routes: ROUTES,
      proxy: summary(proxyRuns),
      static: summary(staticRuns),
      proxyPeakRssMb: peakRss(servers.proxyPid),
    })}`,
  );
} finally {
  if (baseline && baseline.exitCode === null) baseline.kill('SIGTERM');
  await servers.stop();
  rmSync(work, { recursive: true, force: true });
}
