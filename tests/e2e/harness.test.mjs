// The harness's own checks, shown able to fail: the secret check finds a
// secret in each form it can leak in, and a sync that never finishes ends
// the wait with an error instead of hanging the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoSecret, secretForms, syncDone } from './servers.mjs';

// Characters that change under the encodings: `+`, a space, `/`, `=`, `?`
// and `&` (percent), `~` too in a form body (%7E), `"` and `\` (JSON).
const secret = 'Ab~c+d e"f\\g/h=i?j&k';

test('a secret is found in each form it can leak in', () => {
  const forms = secretForms(secret);
  assert.equal(new Set(forms).size, forms.length, 'every form differs');
  for (const form of forms) {
    const page = `<p>before ${form} after</p>`;
    assert.throws(() => assertNoSecret(page, secret, 'a page'), /the secret reached a page/);
  }
  // Text without it passes.
  assertNoSecret('nothing here', secret, 'a page');
  // Each form written out by hand, so a form dropped from the list fails here.
  for (const form of [
    'Ab~c%2Bd%20e%22f%5Cg%2Fh%3Di%3Fj%26k', // a URL's component
    'Ab%7Ec%2Bd+e%22f%5Cg%2Fh%3Di%3Fj%26k', // a form body
    'Ab~c+d e\\"f\\\\g/h=i?j&k', // inside a JSON string
    'QWJ+YytkIGUiZlxnL2g9aT9qJms', // base64 without padding
    'QWJ-YytkIGUiZlxnL2g9aT9qJms', // base64url
  ]) {
    assert.ok(forms.includes(form), `${form} not among ${forms.join(' | ')}`);
  }
});

test('a sync that never finishes ends the wait with an error', async () => {
  let asked = 0;
  const page = {
    request: {
      get: async () => {
        asked += 1;
        return { json: async () => ({ status: 'running' }) };
      },
    },
  };
  const started = Date.now();
  await assert.rejects(syncDone(page, { proxyUrl: 'http://127.0.0.1:9' }, 600), /did not finish in 600 ms/);
  assert.ok(Date.now() - started < 2_000);
  assert.ok(asked >= 2, `asked ${asked} times`);
  const failed = { request: { get: async () => ({ json: async () => ({ status: 'failed', error: 'HTTP 401' }) }) } };
  await assert.rejects(syncDone(failed, { proxyUrl: 'x' }, 600), /the sync failed: HTTP 401/);
});
