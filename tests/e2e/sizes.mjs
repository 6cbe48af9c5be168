// What a site weighs: every file under a folder, raw and gzipped (-9, node's zlib). Shared by
// the end-to-end test (which holds dist/ to its budget) and the benchmark (which prints it).
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

/** The page's weight budget: dist/ gzipped, all files (docs/performance.md, "Budgets"). */
export const PAGE_BUDGET_GZIP = 1_000_000;

/** Files the page fetches only when the person opens "How it was trained": the model card's
 * page form and its pictures. Everything else is the first load. */
export const ON_OPEN = /^model\/(?:card\.html|[^/]+\.svg)$/;

async function files(dir) {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)])),
  );
  return nested.flat();
}

/** { files: [{ file, raw, gzip }], total, firstLoad, onOpen } for every file under `dir`: the
 * sums ({ raw, gzip }) of all files, of those the first visit loads, and of those fetched only
 * when opened ([ON_OPEN]). */
export async function sizesOf(dir) {
  const rows = [];
  for (const file of (await files(dir)).sort()) {
    const body = await readFile(file);
    rows.push({ file: relative(dir, file), raw: body.length, gzip: gzipSync(body, { level: 9 }).length });
  }
  const sum = (list) => list.reduce((t, r) => ({ raw: t.raw + r.raw, gzip: t.gzip + r.gzip }), { raw: 0, gzip: 0 });
  return {
    files: rows,
    total: sum(rows),
    firstLoad: sum(rows.filter((r) => !ON_OPEN.test(r.file))),
    onOpen: sum(rows.filter((r) => ON_OPEN.test(r.file))),
  };
}
