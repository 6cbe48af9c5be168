// A small static file server for dist/: what any static host does, on 127.0.0.1.
// Serves the site both at / and at /digits/ (to prove it works from a sub-path).
//
//   node tests/e2e/serve.mjs [DIST_DIR] [--port N]     (default: dist, port 8080)
//
// Imported by the end-to-end test and the benchmark as startServer(dir, port).
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".onnx": "application/octet-stream",
  ".md": "text/markdown; charset=utf-8",
};

/**
 * The file under `root` that the request path `target` names, or null when the path is
 * malformed or leaves `root` (`..`, encoded slashes, or a sibling folder whose name merely
 * starts with root's, such as dist-old beside dist).
 */
export function fileFor(root, target) {
  let path;
  try {
    path = decodeURIComponent(new URL(target, "http://127.0.0.1").pathname);
  } catch {
    return null;
  }
  if (path.includes("\0")) return null;
  if (path.startsWith("/digits/") || path === "/digits") path = path.slice("/digits".length) || "/";
  if (path.endsWith("/")) path += "index.html";
  const file = normalize(join(root, path));
  return file.startsWith(root + sep) ? file : null;
}

/** Serves `dir` on 127.0.0.1:`port` (0 = any free port). Resolves to { server, port }. */
export function startServer(dir, port = 0, { quiet = true } = {}) {
  const root = resolve(dir);
  const server = createServer(async (req, res) => {
    const file = fileFor(root, req.url);
    if (file === null) {
      res.writeHead(403, { "content-type": "text/plain" }).end("forbidden");
      if (!quiet) console.log(`403 ${req.url}`);
      return;
    }
    try {
      if (!(await stat(file)).isFile()) throw new Error("not a file");
      const body = await readFile(file);
      res.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "content-length": body.length,
        "cache-control": "no-cache",
      });
      res.end(req.method === "HEAD" ? undefined : body);
      if (!quiet) console.log(`200 ${req.url}`);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      if (!quiet) console.log(`404 ${req.url}`);
    }
  });
  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", () => ok({ server, port: server.address().port }));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const portFlag = args.indexOf("--port");
  const port = portFlag >= 0 ? Number(args[portFlag + 1]) : 8080;
  const dir = args.find((a, i) => !a.startsWith("--") && i !== portFlag + 1) ?? "dist";
  const { port: bound } = await startServer(dir, port, { quiet: false });
  console.log(`Serving ${resolve(dir)} at http://127.0.0.1:${bound}/ (also at /digits/). Ctrl-C to stop.`);
}
