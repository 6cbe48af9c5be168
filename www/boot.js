// Starts the web app. It is a file of its own, not an inline script, so that the page's
// Content-Security-Policy can forbid inline scripts. Trunk writes the hashed file names into
// the data attributes of the <script> tag that loads this file.
const tag = document.querySelector("script[data-js][data-wasm]");
const url = (name) => new URL(name, document.baseURI).href;
const bindings = await import(url(tag.dataset.js));
await bindings.default({ module_or_path: url(tag.dataset.wasm) });
performance.mark("digitpad:wasm-ready");
// The module's exports, for tests/e2e/bench.mjs (builds with the `bench` feature export a
// benchmark hook; the shipped site does not).
window.digitpad = bindings;

// Offline use: once the model is ready (so that it never competes with the first load), a
// service worker keeps this version of the site. Its version is the hashed wasm name, which
// changes with the code and with the model the code was built for (see sw.js).
function whenReady(callback) {
  const ready = () => document.querySelector('[data-testid="status"][data-state="ready"]');
  if (ready()) return callback();
  const observer = new MutationObserver(() => {
    if (ready()) {
      observer.disconnect();
      callback();
    }
  });
  observer.observe(document.body, { subtree: true, childList: true, attributes: true });
}
if ("serviceWorker" in navigator) {
  const version = encodeURIComponent(tag.dataset.wasm.split("/").pop());
  whenReady(() =>
    navigator.serviceWorker
      .register(url(`sw.js?v=${version}`))
      .catch((e) => console.warn(`offline use unavailable: ${e.message}`)),
  );
}
