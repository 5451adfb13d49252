// A signed-in session on a proxy whose first full sync has finished: the
// state every benchmark of the running app starts from.
import { signIn } from '../e2e/servers.mjs';

/** Signs in as the connected partner's first user, syncs, and returns the session cookies. */
export async function syncedSession(browser, servers) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signIn(page, servers, servers.partner.users[0].userName, '/');
    const started = await page.request.post(`${servers.proxyUrl}/api/sync`, { data: { kind: 'full' } });
    if (started.status() !== 202) throw new Error(`sync: HTTP ${started.status()}`);
    for (;;) {
      const p = await (await page.request.get(`${servers.proxyUrl}/api/sync`)).json();
      if (p.status === 'succeeded') break;
      if (p.status === 'failed') throw new Error(`sync failed: ${p.error}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return await context.cookies();
  } finally {
    await context.close();
  }
}

export const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
