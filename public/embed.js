// Mounts the CSP Cost Tracker into an element of a host page:
//
//   import { mount } from 'https://costs.example.com/embed.js';
//   await mount(document.getElementById('costs'), {
//     apiBase: 'https://costs.example.com/',  // the proxy
//     basePath: '/portal/costs',              // where the app's routes live in the host's URLs
//   });
//
// The app renders inside the element's shadow root with its own stylesheet:
// the host's CSS does not reach it and its CSS does not reach the host. The
// proxy must list the host's origin in --cors-origins. `cargo xtask build`
// writes this file into dist/ with the build's file names.
import init, { mountApp } from './APP.js';

const here = new URL('.', import.meta.url);
let started;

export async function mount(element, config = {}) {
  // The app's own start-up (for its own page) stays out of the way.
  window.cspCostsEmbedded = true;
  started ??= init({ module_or_path: new URL('APP_bg.wasm', here) });
  await started;
  const shadow = element.shadowRoot ?? element.attachShadow({ mode: 'open' });
  const style = document.createElement('link');
  style.rel = 'stylesheet';
  style.href = new URL('APP.css', here).href;
  const root = document.createElement('div');
  root.className = 'csp-costs-root';
  shadow.replaceChildren(style, root);
  mountApp(root, JSON.stringify(config));
}
