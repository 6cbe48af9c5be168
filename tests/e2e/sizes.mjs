// What a site weighs: every file under a folder, raw and gzipped (-9, node's zlib). Shared by
// the end-to-end test (which holds dist/ to its budget) and the benchmark (which prints it).
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

/** The page's weight budget: dist/ gzipped, all files (docs/performance.md, "Budgets"). */
export const PAGE_BUDGET_GZIP = 1_000_000;

async function files(dir) {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)])),
  );
  return nested.flat();
}

/** { files: [{ file, raw, gzip }], total: { raw, gzip } } for every file under `dir`. */
export async function sizesOf(dir) {
  const rows = [];
  for (const file of (await files(dir)).sort()) {
    const body = await readFile(file);
    rows.push({ file: relative(dir, file), raw: body.length, gzip: gzipSync(body, { level: 9 }).length });
  }
  const total = rows.reduce((t, r) => ({ raw: t.raw + r.raw, gzip: t.gzip + r.gzip }), { raw: 0, gzip: 0 });
  return { files: rows, total };
}
