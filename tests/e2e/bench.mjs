// Benchmark (run on purpose; not a test): prints a table and writes target/bench/bench.json.
//
//   node tests/e2e/bench.mjs BENCH_DIST [SHIPPED_DIST]
//
// BENCH_DIST is a site built with the benchmark hooks (`trunk build --release --features
// bench --dist target/bench/dist`); SHIPPED_DIST (default: dist) the site as shipped
// (`trunk build --release`), whose bytes are reported. `.ci/bench` builds both.
//
// - the shipped dist/ bytes per file and in total, raw and gzipped;
// - navigation to ready (wasm and model fetched, model optimized and warmed) in headless
//   Chromium, cold cache, median of 7 loads;
// - single-image inference in the page, p50 / p95 over 400 runs, timed in batches of 10
//   (browsers round performance.now() to 0.1 ms);
// - the same model under tract natively, p50 / p95 over 2000 runs;
// - training throughput on this machine's CPU (one short epoch), when MNIST is available
//   ($MNIST_DIR, or ../shared/mnist beside the repository).
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { CHROME_ARGS } from "./e2e.mjs";
import { startServer } from "./serve.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..", "..");
const dist = resolve(process.argv[2] ?? join(repo, "target", "bench", "dist"));
const shipped = resolve(process.argv[3] ?? join(repo, "dist"));
const targetDir = resolve(process.env.CARGO_TARGET_DIR ?? join(repo, "target"));
const cli = join(targetDir, "release", "digitpad");
const out = join(repo, "target", "bench");

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.round((xs.length - 1) * q)];
const kb = (n) => `${(n / 1024).toFixed(1)} kB`;

async function files(dir) {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)])),
  );
  return nested.flat();
}

async function distSizes() {
  const rows = [];
  for (const file of (await files(shipped)).sort()) {
    const body = await readFile(file);
    rows.push({ file: relative(shipped, file), raw: body.length, gzip: gzipSync(body, { level: 9 }).length });
  }
  const total = rows.reduce((t, r) => ({ raw: t.raw + r.raw, gzip: t.gzip + r.gzip }), { raw: 0, gzip: 0 });
  return { files: rows, total };
}

async function pageTimings(browser, base) {
  const ready = [];
  for (let i = 0; i < 7; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.addInitScript(() => {
      new MutationObserver(() => {
        if (!window.__readyAt && document.querySelector('[data-testid="status"][data-state="ready"]')) {
          window.__readyAt = performance.now();
        }
      }).observe(document, { subtree: true, childList: true, attributes: true });
    });
    await page.goto(base);
    await page.waitForFunction(() => window.__readyAt, null, { timeout: 30000 });
    ready.push(await page.evaluate(() => window.__readyAt));
    await context.close();
  }
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(base);
  await page.waitForSelector('[data-testid="status"][data-state="ready"]');
  const batches = await page.evaluate(async () => {
    if (typeof window.digitpad?.bench_inference !== "function") {
      throw new Error("this site has no benchmark hooks: build it with `trunk build --release --features bench` (see .ci/bench)");
    }
    const bytes = new Uint8Array(await (await fetch("model/digitnet.onnx")).arrayBuffer());
    return Array.from(window.digitpad.bench_inference(bytes, 40, 10));
  });
  await context.close();
  return { ready, batches };
}

function nativeInference() {
  if (!existsSync(cli)) return null;
  const json = execFileSync(cli, ["bench", join(repo, "model", "digitnet.onnx"), "--runs", "2000"], { encoding: "utf8" });
  return JSON.parse(json);
}

async function trainingThroughput() {
  const dataDir = process.env.MNIST_DIR ?? resolve(repo, "..", "shared", "mnist");
  if (!existsSync(cli) || !existsSync(dataDir)) return null;
  const runDir = join(out, "train");
  execFileSync(
    cli,
    ["train", "--epochs", "1", "--limit", "12800", "--val-split", "0", "--data-dir", dataDir,
      "--out", runDir, "--checkpoint-dir", join(runDir, "checkpoints")],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const history = JSON.parse(await readFile(join(runDir, "history.json"), "utf8"));
  return { images_per_second: history.epochs[0].images_per_second, images: 12800, device: "cpu (burn flex)" };
}

async function main() {
  await mkdir(out, { recursive: true });
  const sizes = await distSizes();
  const { server, port } = await startServer(dist);
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROME_ARGS });
  let page;
  try {
    page = await pageTimings(browser, `http://127.0.0.1:${port}/`);
  } finally {
    await browser.close();
    server.close();
  }
  const native = nativeInference();
  const training = await trainingThroughput();
  const result = {
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30) },
    browser: execFileSync("/usr/bin/chromium", ["--version"], { encoding: "utf8" }).trim(),
    dist: sizes,
    navigation_to_ready_ms: { median: median(page.ready), min: Math.min(...page.ready), runs: page.ready },
    page_inference_ms: {
      p50: quantile(page.batches, 0.5),
      p95: quantile(page.batches, 0.95),
      runs: page.batches.length * 10,
      batch: 10,
    },
    native_inference_ms: native && { p50: native.p50_ms, p95: native.p95_ms, runs: native.runs },
    training,
  };
  await writeFile(join(out, "bench.json"), JSON.stringify(result, null, 2));

  console.log("dist/ (gzip -9)");
  for (const f of sizes.files) console.log(`  ${f.file.padEnd(40)} ${kb(f.raw).padStart(10)} ${kb(f.gzip).padStart(10)}`);
  console.log(`  ${"total".padEnd(40)} ${kb(sizes.total.raw).padStart(10)} ${kb(sizes.total.gzip).padStart(10)}`);
  console.log(`navigation to ready      median ${result.navigation_to_ready_ms.median.toFixed(0)} ms (min ${result.navigation_to_ready_ms.min.toFixed(0)} ms, 7 cold loads)`);
  console.log(`inference in the page    p50 ${result.page_inference_ms.p50.toFixed(3)} ms, p95 ${result.page_inference_ms.p95.toFixed(3)} ms (${result.page_inference_ms.runs} runs)`);
  if (native) console.log(`inference native tract   p50 ${native.p50_ms.toFixed(3)} ms, p95 ${native.p95_ms.toFixed(3)} ms (${native.runs} runs)`);
  else console.log("inference native tract   skipped (build with cargo build --release)");
  if (training) console.log(`training on CPU          ${training.images_per_second.toFixed(0)} images/s (${training.device})`);
  else console.log("training on CPU          skipped (no MNIST: set MNIST_DIR)");
  console.log(`\nJSON: ${join(out, "bench.json")}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
