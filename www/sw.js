// The service worker: after one visit, the page loads and reads digits with the network off.
//
// One cache per version of the site. The version is the hashed name of the wasm file (boot.js
// registers `sw.js?v=<that name>`), and the wasm embeds a fingerprint of the model it was
// built with, so any change to the code or the model makes a new version. A new version
// downloads every file the page uses (fresh, bypassing the HTTP cache) into a cache of its
// own before it takes over, then deletes the old caches: a visitor gets either the old set or
// the new set, never a new wasm with an old model or the reverse.
const VERSION = new URL(self.location.href).searchParams.get("v") || "unversioned";
const CACHE = `digitpad-${VERSION}`;
const SCOPE = self.registration.scope;
const MODEL = "model/digitnet.onnx";

/** Every same-origin file that index.html names (stylesheet, icons, scripts, wasm, model...). */
function filesNamedBy(html) {
  const names = new Set(["./", MODEL, "manifest.webmanifest"]);
  // Quoted or not: the release build's minified index.html drops the quotes it can.
  for (const match of html.matchAll(/\b(?:href|src|data-js|data-wasm)=(?:"([^"]+)"|([^\s>"]+))/g)) {
    const url = new URL(match[1] ?? match[2], SCOPE);
    if (url.origin === self.location.origin && url.href.startsWith(SCOPE)) names.add(url.href);
  }
  return [...names].map((name) => new URL(name, SCOPE).href);
}

async function precache() {
  const page = await fetch(SCOPE, { cache: "reload" });
  if (!page.ok) throw new Error(`index.html: HTTP ${page.status}`);
  const files = filesNamedBy(await page.clone().text());
  const cache = await caches.open(CACHE);
  await cache.put(SCOPE, page);
  await Promise.all(
    files
      .filter((url) => url !== SCOPE)
      .map(async (url) => {
        const response = await fetch(url, { cache: "reload" });
        if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
        await cache.put(url, response);
      }),
  );
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("digitpad-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || !request.url.startsWith(SCOPE)) return;
  if (request.mode === "navigate") {
    // The page itself: the network's copy when there is one (so updates are seen), else ours.
    event.respondWith(
      fetch(request).catch(async () => (await caches.match(SCOPE, { cacheName: CACHE })) ?? Response.error()),
    );
    return;
  }
  // Hashed files and the model: ours first (they belong to this version), else the network.
  // The page asks for `model/digitnet.onnx?v=...` only when the copy it got was not its own:
  // that URL is never cached here, so it always goes to the network.
  // Files the page fetches only on demand (the model card and its pictures) are kept once
  // fetched, so they open offline too after one visit.
  event.respondWith(
    caches.match(request.url, { cacheName: CACHE }).then(
      (hit) =>
        hit ??
        fetch(request).then(async (response) => {
          if (response.ok && response.type === "basic") {
            const cache = await caches.open(CACHE);
            await cache.put(request.url, response.clone());
          }
          return response;
        }),
    ),
  );
});
