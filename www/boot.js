// Starts the web app. It is a file of its own, not an inline script, so that the page's
// Content-Security-Policy can forbid inline scripts. Trunk writes the hashed file names into
// the data attributes of the <script> tag that loads this file.
const tag = document.querySelector("script[data-js][data-wasm]");
const url = (name) => new URL(name, document.baseURI).href;
const bindings = await import(url(tag.dataset.js));
await bindings.default({ module_or_path: url(tag.dataset.wasm) });
// The module's exports (the benchmark hook among them), for tests/e2e/bench.mjs.
window.digitpad = bindings;
