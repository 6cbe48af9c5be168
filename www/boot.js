// Starts the web app. It is a file of its own, not an inline script, so that the page's
// Content-Security-Policy can forbid inline scripts. Trunk writes the hashed file names into
// the data attributes of the <script> tag that loads this file.
const tag = document.querySelector("script[data-js][data-wasm]");
const url = (name) => new URL(name, document.baseURI).href;
// The wasm (preloaded) is compiled while the glue script is imported and evaluated, not
// after: both were on the start-up's critical path. Where compiling from the stream fails
// (a host that serves wasm with another MIME type), the glue loads it its own way.
const compiled =
  typeof WebAssembly.compileStreaming === "function"
    ? WebAssembly.compileStreaming(fetch(url(tag.dataset.wasm))).catch(() => null)
    : Promise.resolve(null);
// The model too is fetched now (from its preload), not when the app asks for it: the app's
// own fetch would resolve only some tasks after its first render (measured in the README's
// page section). The app takes `window.digitpadModel` (the model's URL as the page writes it,
// and a promise of its bytes) and checks the bytes as it checks those of its own fetch.
const modelLink = document.querySelector('link[rel="preload"][href$=".onnx"]');
if (modelLink) {
  window.digitpadModel = {
    url: modelLink.getAttribute("href"),
    bytes: fetch(modelLink.href)
      .then((response) => (response.ok ? response.arrayBuffer() : null))
      .catch(() => null),
  };
}
const bindings = await import(url(tag.dataset.js));
// This script is `async` (it may run before the page is parsed); the app mounts into it.
if (document.readyState === "loading") {
  await new Promise((parsed) => document.addEventListener("DOMContentLoaded", parsed, { once: true }));
}
await bindings.default({ module_or_path: (await compiled) ?? url(tag.dataset.wasm) });
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
