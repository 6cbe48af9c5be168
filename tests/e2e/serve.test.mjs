// The static server of the end-to-end test and the benchmark serves its folder and nothing
// outside it. Run with `node --test tests/e2e/` (no browser needed).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileFor, startServer } from "./serve.mjs";

/** GET `path` exactly as written (no client-side normalization); resolves to [status, body]. */
function get(port, path) {
  return new Promise((ok, fail) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      let body = "";
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => ok([res.statusCode, body]));
    });
    req.on("error", fail);
    req.end();
  });
}

test("serves the folder and refuses everything outside it", async (t) => {
  const base = await mkdtemp(join(tmpdir(), "digitpad-serve-"));
  t.after(() => rm(base, { recursive: true, force: true }));
  const site = join(base, "dist");
  await mkdir(join(site, "model"), { recursive: true });
  await writeFile(join(site, "index.html"), "home");
  await writeFile(join(site, "model", "m.onnx"), "model");
  // A sibling whose name starts with the served folder's, and a file beside both.
  await mkdir(join(base, "dist-secret"));
  await writeFile(join(base, "dist-secret", "key.txt"), "secret");
  await writeFile(join(base, "outside.txt"), "secret");

  const { server, port } = await startServer(site);
  t.after(() => server.close());

  assert.deepEqual(await get(port, "/"), [200, "home"]);
  assert.deepEqual(await get(port, "/digits/"), [200, "home"]);
  assert.deepEqual(await get(port, "/digits/model/m.onnx"), [200, "model"]);
  assert.equal((await get(port, "/missing.js"))[0], 404);
  for (const path of [
    "/..%2fdist-secret%2fkey.txt",
    "/%2e%2e%2fdist-secret/key.txt",
    "/digits/..%2f..%2foutside.txt",
    "/..%2foutside.txt",
    "/%2e%2e%2f",
    "/%E0%A4%A",
  ]) {
    const [status, body] = await get(port, path);
    assert.equal(status, 403, `${path} -> ${status} ${body}`);
    assert.notEqual(body, "secret");
  }
});

test("fileFor keeps sibling folders out", () => {
  assert.equal(fileFor("/srv/dist", "/..%2fdist-secret%2fkey.txt"), null);
  assert.equal(fileFor("/srv/dist", "/a/b.js"), "/srv/dist/a/b.js");
  assert.equal(fileFor("/srv/dist", "/digits/"), "/srv/dist/index.html");
});
