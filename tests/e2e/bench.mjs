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
//   Chromium, cold cache, median of 15 loads (alternating with onnxruntime-web's); and for a
//   returning writer with 60 corrections saved in the browser, ready and examples in use;
// - the layers view open while drawing: sets of stages shown a second, and one set's time;
// - single-image inference in the page, p50 / p95, timed in batches of 10 (browsers round
//   performance.now() to 0.1 ms): the first 400 runs after start-up, and the next 2,000
//   (warm: the engine has optimized the hot code by then), timed in rounds that alternate
//   with onnxruntime-web's;
// - the same model under tract natively, p50 / p95 over 2000 runs;
// - training throughput on this machine's CPU (one short epoch), and the time the quick
//   recipe takes to reach 99% test accuracy, when MNIST is available
//   ($MNIST_DIR, or ../shared/mnist beside the repository); then the seed's Keras CNN on
//   TensorFlow for the same measure (.ci/keras_seed.py), when TensorFlow is installed.
// - Fashion-MNIST: `digitpad train --dataset fashion-mnist` (its recipe) and the seed's Keras
//   CNN on the same files in the same run, test accuracy labelled with the split, when
//   $FASHION_MNIST_DIR or ../shared/fashion-mnist exists (BENCH_FASHION=0 skips it: ~10 min).
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CHROME_ARGS } from "./drive.mjs";
import { startServer } from "./serve.mjs";
import { sizesOf } from "./sizes.mjs";
import { fashion, kerasSeed, timeTo99, trainingThroughput } from "./bench_training.mjs";

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

/** Start-up milestones of one load, in ms since navigation start (see the marks in
 * www/boot.js and src/app/page.rs). */
function milestones() {
  const nav = performance.getEntriesByType("navigation")[0];
  const mark = (name) => performance.getEntriesByName(name)[0]?.startTime ?? null;
  return {
    html: nav.responseEnd,
    wasm_ready: mark("digitpad:wasm-ready"),
    model_fetched: mark("digitpad:model-fetched"),
    model_optimized: mark("digitpad:model-optimized"),
    first_inference: mark("digitpad:first-inference"),
    ready: window.__readyAt,
  };
}

/** Durations of the start-up phases, from milestones. */
function phases(m) {
  return {
    "HTML": m.html,
    "wasm fetch + compile": m.wasm_ready - m.html,
    "model fetch (after wasm)": m.model_fetched - m.wasm_ready,
    "parse + optimize": m.model_optimized - m.model_fetched,
    "first inference": m.first_inference - m.model_optimized,
    "render ready": m.ready - m.first_inference,
  };
}

/** Cold loads per site. The page's and onnxruntime-web's loads alternate, so that whatever
 * else the machine is doing weighs on both alike. */
const COLD_LOADS = 15;
const PAGE_READY = '[data-testid="status"][data-state="ready"]';

/** One cold load of `base` (a fresh browser context: empty cache, no service worker) until
 * `window.__readyAt` is set; the ready time and, where `detail` is given, what it returns.
 *
 * The page reports the moment itself, on the console, and nothing of Playwright's runs in it
 * until then: waiting with `page.waitForFunction` evaluated Playwright's injected script in the
 * page during the load (42 ms of its main thread in a trace), which delayed both pages' ready
 * moments (in 12 alternating loads each: this page 404 -> 349 ms, onnxruntime-web's 843 -> 764
 * ms). */
async function coldLoad(browser, base, { readySelector, detail, detailArg, storageState }) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers: "block", storageState });
  try {
    const page = await context.newPage();
    await page.addInitScript((selector) => {
      let readyAt;
      Object.defineProperty(window, "__readyAt", {
        configurable: true,
        get: () => readyAt,
        set: (value) => {
          if (readyAt !== undefined) return;
          readyAt = value;
          console.debug(`digitpad-bench-ready ${value}`);
        },
      });
      if (selector) {
        new MutationObserver(() => {
          if (readyAt === undefined && document.querySelector(selector)) window.__readyAt = performance.now();
        }).observe(document, { subtree: true, childList: true, attributes: true });
      }
    }, readySelector ?? null);
    const reported = page.waitForEvent("console", {
      predicate: (message) => message.text().startsWith("digitpad-bench-ready "),
      timeout: 60000,
    });
    await page.goto(base, { waitUntil: "commit" });
    const ready = Number((await reported).text().split(" ")[1]);
    return { ready, detail: detail ? await page.evaluate(detail, detailArg) : null };
  } finally {
    await context.close();
  }
}

/** A returning writer: this many corrections saved in the browser before the load. */
const SAVED_EXAMPLES = 60;
const RETURNING_LOADS = 7;

/** The page's localStorage as a writer who taught it SAVED_EXAMPLES corrections left it
 * (the format of src/personal.rs: a header, then a digit and 784 pixels in hex per line):
 * vertical bars at a few offsets, labelled 0-9 in turn. */
function savedExamples(origin) {
  const lines = ["digitpad personal examples 1"];
  for (let i = 0; i < SAVED_EXAMPLES; i++) {
    let pixels = "";
    for (let p = 0; p < 784; p++) {
      const x = p % 28;
      const y = Math.floor(p / 28);
      pixels += Math.abs(x - 12 - (i % 5)) < 2 && y > 4 && y < 24 ? "ff" : "00";
    }
    lines.push(`${i % 10} ${pixels}`);
  }
  const value = `${lines.join("\n")}\n`;
  return { cookies: [], origins: [{ origin, localStorage: [{ name: "digitpad-personal-examples", value }] }] };
}

/** Cold loads of the page for a returning writer (see savedExamples): when it is ready, and
 * when the saved examples are in use (the page loads them right after it is ready). */
async function returningWriter(browser, base) {
  const ready = [];
  const inUse = [];
  const selector = `[data-testid="personal-count"][data-count="${SAVED_EXAMPLES}"]`;
  for (let i = 0; i < RETURNING_LOADS; i++) {
    const load = await coldLoad(browser, base, {
      readySelector: PAGE_READY,
      storageState: savedExamples(new URL(base).origin),
      detail: async (selector) => {
        const start = performance.now();
        while (!document.querySelector(selector)) {
          if (performance.now() - start > 20000) return null;
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        return performance.now();
      },
      detailArg: selector,
    });
    ready.push(load.ready);
    if (load.detail === null) throw new Error(`the ${SAVED_EXAMPLES} saved examples were never counted`);
    inUse.push(load.detail);
  }
  return { examples: SAVED_EXAMPLES, ready, inUse };
}

/** The onnxruntime-web page (wasm backend, one thread) on the same ONNX file, in a folder of
 * its own; null when onnxruntime-web is not installed. */
async function onnxruntimeSite() {
  const ort = join(here, "ort");
  const dist = join(ort, "node_modules", "onnxruntime-web", "dist");
  if (!existsSync(dist)) return null;
  const site = join(out, "ort-site");
  await rm(site, { recursive: true, force: true });
  await mkdir(join(site, "model"), { recursive: true });
  const copies = [
    [join(ort, "index.html"), "index.html"],
    [join(ort, "page.mjs"), "page.mjs"],
    [join(dist, "ort.wasm.min.mjs"), "ort.wasm.min.mjs"],
    [join(dist, "ort-wasm-simd-threaded.mjs"), "ort-wasm-simd-threaded.mjs"],
    [join(dist, "ort-wasm-simd-threaded.wasm"), "ort-wasm-simd-threaded.wasm"],
    [join(repo, "model", "digitnet.onnx"), join("model", "digitnet.onnx")],
  ];
  for (const [from, to] of copies) await copyFile(from, join(site, to));
  const version = JSON.parse(await readFile(join(dist, "..", "package.json"), "utf8")).version;
  return { site, version, bytes: await sizesOf(site) };
}

/** Batches of 10 single-image runs in the page or in the onnxruntime-web page, kept open:
 * `run(n)` times n batches and returns their per-run means (ms). */
async function inferenceRunner(browser, base, which) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(base);
  if (which === "page") {
    await page.waitForSelector(PAGE_READY);
    await page.evaluate(async () => {
      if (typeof window.digitpad?.InferenceBench !== "function") {
        throw new Error("this site has no benchmark hooks: build it with `trunk build --release --features bench` (see .ci/bench)");
      }
      const model = new Uint8Array(await (await fetch("model/digitnet.onnx")).arrayBuffer());
      window.__bench = new window.digitpad.InferenceBench(model);
    });
  } else {
    await page.waitForFunction(() => window.__readyAt, null, { timeout: 60000 });
  }
  const run = (batches) =>
    which === "page"
      ? page.evaluate((n) => Array.from(window.__bench.time(n, 10)), batches)
      : page.evaluate((n) => window.benchInference(n, 10), batches);
  // The page's whole answer to a digit (inference, then the person's examples), with none
  // kept and with KEPT_EXAMPLES, in alternating rounds.
  const reading = async () => {
    const none = [];
    const kept = [];
    for (let round = 0; round < WARM_ROUNDS; round++) {
      none.push(...(await page.evaluate(() => Array.from(window.__bench.time_reading(5, 10, 0)))));
      kept.push(
        ...(await page.evaluate((k) => Array.from(window.__bench.time_reading(5, 10, k)), KEPT_EXAMPLES)),
      );
    }
    return { none, kept };
  };
  return { run, reading, close: () => context.close() };
}

/** Examples a person may keep at most (src/personal.rs: 30 of each digit). */
const KEPT_EXAMPLES = 300;

/** Warm inference is timed in rounds that alternate between the two pages (5 batches of 10
 * runs each per round), like the cold loads, so that the machine's drift weighs on both.
 * 40 rounds: 200 batches a page, so that the p95 is not the third-slowest of 40 batches (a
 * hiccup of the machine in either page decided the p95 ratio with 8 rounds); a round takes
 * some 50 ms. */
const WARM_ROUNDS = 40;

/** Single-image inference in the page and in onnxruntime-web's (when given): the first 40
 * batches of 10 runs right after start-up in each, then 200 more (warm) in alternating
 * rounds. Browsers first run WebAssembly in baseline code and optimize the hot functions in
 * the background, so the first batches are slower. */
async function inferenceTimings(browser, pageBase, ortBase) {
  const runners = [await inferenceRunner(browser, pageBase, "page")];
  if (ortBase) runners.push(await inferenceRunner(browser, ortBase, "ort"));
  try {
    const timings = [];
    for (const runner of runners) timings.push({ first: await runner.run(40), batches: [] });
    for (let round = 0; round < WARM_ROUNDS; round++) {
      for (const [i, runner] of runners.entries()) timings[i].batches.push(...(await runner.run(5)));
    }
    timings[0].reading = await runners[0].reading();
    return timings;
  } finally {
    for (const runner of runners) await runner.close();
  }
}

/** The layers view open while a long stroke is drawn: a pointer move every animation frame,
 * dispatched in the page (the DevTools protocol's own mouse moves arrive at ~30 a second
 * here, slower than the page can follow), for LAYERS_SECONDS. Reports how many sets of stages
 * the page computed and showed a second (its `data-updates` count), the pointer moves a
 * second, and the time of one set (`data-ms`, sampled as it draws). */
const LAYERS_SECONDS = 4;
async function layersWhileDrawing(browser, base) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    await page.goto(base);
    await page.waitForSelector(PAGE_READY);
    await page.click('[data-testid="layers"]');
    return await page.evaluate(async (seconds) => {
      const pad = document.querySelector('[data-testid="pad"]');
      const view = () => document.querySelector('[data-testid="layers-view"]');
      const box = pad.getBoundingClientRect();
      // A slow spiral in the middle of the pad's left half: a digit-sized drawing that grows.
      const at = (t) => {
        const r = 0.1 + 0.25 * (t / seconds);
        return [box.left + box.height * (0.5 + r * Math.cos(6 * t)), box.top + box.height * (0.5 + r * Math.sin(6 * t))];
      };
      const send = (type, t) => {
        const [clientX, clientY] = at(t);
        const init = { bubbles: true, cancelable: true, pointerId: 1, pointerType: "mouse", isPrimary: true, clientX, clientY };
        pad.dispatchEvent(new PointerEvent(type, { ...init, button: type === "pointermove" ? -1 : 0, buttons: type === "pointerup" ? 0 : 1 }));
      };
      const frame = () => new Promise((r) => requestAnimationFrame(r));
      send("pointerdown", 0);
      while (!(Number(view()?.dataset.updates) > 0)) {
        send("pointermove", 0.01);
        await frame();
      }
      const before = Number(view().dataset.updates);
      const start = performance.now();
      const ms = [];
      let moves = 0;
      while (performance.now() - start < seconds * 1000) {
        send("pointermove", (performance.now() - start) / 1000);
        moves++;
        await frame();
        if (moves % 10 === 0) ms.push(Number(view().dataset.ms));
      }
      const elapsed = (performance.now() - start) / 1000;
      const shown = Number(view().dataset.updates) - before;
      send("pointerup", seconds);
      ms.sort((a, b) => a - b);
      return {
        updates_per_second: shown / elapsed,
        pointer_moves_per_second: moves / elapsed,
        set_ms_p50: ms[Math.floor(ms.length / 2)],
        seconds: elapsed,
      };
    }, LAYERS_SECONDS);
  } finally {
    await context.close();
  }
}

/** The page and onnxruntime-web (when installed) side by side in one browser: cold loads,
 * alternating, then inference in each. */
async function browserTimings(browser, pageBase, ortBase) {
  const page = { ready: [], details: [] };
  const ort = { ready: [] };
  for (let i = 0; i < COLD_LOADS; i++) {
    const load = await coldLoad(browser, pageBase, { readySelector: PAGE_READY, detail: milestones });
    page.ready.push(load.ready);
    page.details.push(load.detail);
    if (ortBase) ort.ready.push((await coldLoad(browser, ortBase, {})).ready);
  }
  page.returning = await returningWriter(browser, pageBase);
  page.layers = await layersWhileDrawing(browser, pageBase);
  const [pageRuns, ortRuns] = await inferenceTimings(browser, pageBase, ortBase);
  Object.assign(page, pageRuns);
  if (ortRuns) Object.assign(ort, ortRuns);
  const perLoad = page.details.map(phases);
  page.breakdown = Object.fromEntries(
    Object.keys(perLoad[0]).map((name) => [name, median(perLoad.map((p) => p[name]))]),
  );
  return { page, ort: ortBase ? ort : null };
}

function nativeInference() {
  if (!existsSync(cli)) return null;
  const number = join(repo, "tests", "fixtures", "numbers", "58-8716360669.strokes");
  const json = execFileSync(cli, ["bench", join(repo, "model", "digitnet.onnx"), "--runs", "2000", "--number", number], {
    encoding: "utf8",
  });
  return JSON.parse(json);
}

/** Cold-load times (ms) as the JSON reports them. */
const readySummary = (ready) => ({ median: median(ready), min: Math.min(...ready), runs: ready });

/** One page's in-page inference timings (per-image ms of batches of 10) as the JSON reports
 * them: warm runs, and the first runs after start-up. */
const inferenceSummary = ({ batches, first }) => ({
  p50: quantile(batches, 0.5),
  p95: quantile(batches, 0.95),
  first_runs: { p50: quantile(first, 0.5), p95: quantile(first, 0.95) },
  runs: batches.length * 10,
  batch: 10,
});

async function main() {
  await mkdir(out, { recursive: true });
  const sizes = await sizesOf(shipped);
  const ortSite = await onnxruntimeSite();
  const { server, port } = await startServer(dist);
  const ortServer = ortSite && (await startServer(ortSite.site));
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROME_ARGS });
  let page, ort;
  try {
    const timings = await browserTimings(
      browser,
      `http://127.0.0.1:${port}/`,
      ortServer && `http://127.0.0.1:${ortServer.port}/`,
    );
    page = timings.page;
    ort = timings.ort && { ...timings.ort, version: ortSite.version, bytes: ortSite.bytes };
  } finally {
    await browser.close();
    server.close();
    ortServer?.server.close();
  }
  const native = nativeInference();
  const training = await trainingThroughput();
  const to99 = await timeTo99();
  const keras = await kerasSeed();
  const clothes = await fashion();
  const result = {
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30) },
    browser: execFileSync("/usr/bin/chromium", ["--version"], { encoding: "utf8" }).trim(),
    dist: sizes,
    navigation_to_ready_ms: readySummary(page.ready),
    page_inference_ms: inferenceSummary(page),
    startup_breakdown_ms: page.breakdown,
    reading_with_examples_ms: {
      examples: KEPT_EXAMPLES,
      none_p50: quantile(page.reading.none, 0.5),
      kept_p50: quantile(page.reading.kept, 0.5),
      ratio_p50: quantile(page.reading.kept, 0.5) / quantile(page.reading.none, 0.5),
    },
    layers_view_while_drawing: page.layers,
    returning_writer: {
      saved_examples: page.returning.examples,
      navigation_to_ready_ms: readySummary(page.returning.ready),
      navigation_to_examples_in_use_ms: readySummary(page.returning.inUse),
    },
    native_inference_ms: native && { p50: native.p50_ms, p95: native.p95_ms, runs: native.runs },
    number_reading: native?.number ?? null,
    onnxruntime_web: ort && {
      version: ort.version,
      bytes: ort.bytes,
      navigation_to_ready_ms: readySummary(ort.ready),
      inference_ms: inferenceSummary(ort),
    },
    training,
    time_to_99: to99,
    keras_seed: keras,
    fashion_mnist: clothes,
  };
  if (result.onnxruntime_web) {
    const o = result.onnxruntime_web;
    result.ratios_page_over_onnxruntime_web = {
      bytes_gzip: sizes.firstLoad.gzip / o.bytes.total.gzip,
      navigation_to_ready: result.navigation_to_ready_ms.median / o.navigation_to_ready_ms.median,
      inference_p50: result.page_inference_ms.p50 / o.inference_ms.p50,
      inference_p95: result.page_inference_ms.p95 / o.inference_ms.p95,
      first_runs_p50: result.page_inference_ms.first_runs.p50 / o.inference_ms.first_runs.p50,
      first_runs_p95: result.page_inference_ms.first_runs.p95 / o.inference_ms.first_runs.p95,
    };
  }
  await writeFile(join(out, "bench.json"), JSON.stringify(result, null, 2));

  console.log("dist/ (gzip -9)");
  for (const f of sizes.files) console.log(`  ${f.file.padEnd(40)} ${kb(f.raw).padStart(10)} ${kb(f.gzip).padStart(10)}`);
  console.log(`  ${"total".padEnd(40)} ${kb(sizes.total.raw).padStart(10)} ${kb(sizes.total.gzip).padStart(10)}`);
  console.log(`  ${"first load".padEnd(40)} ${kb(sizes.firstLoad.raw).padStart(10)} ${kb(sizes.firstLoad.gzip).padStart(10)}`);
  console.log(`  ${"on opening How it was trained".padEnd(40)} ${kb(sizes.onOpen.raw).padStart(10)} ${kb(sizes.onOpen.gzip).padStart(10)}`);
  console.log(`navigation to ready      median ${result.navigation_to_ready_ms.median.toFixed(0)} ms (min ${result.navigation_to_ready_ms.min.toFixed(0)} ms, ${COLD_LOADS} cold loads)`);
  const back = result.returning_writer;
  console.log(`  with ${back.saved_examples} saved examples ready ${back.navigation_to_ready_ms.median.toFixed(0)} ms, examples in use by ${back.navigation_to_examples_in_use_ms.median.toFixed(0)} ms (medians of ${RETURNING_LOADS} cold loads)`);
  const firstRuns = (f) => `first 400 runs after start-up p50 ${f.p50.toFixed(3)} ms, p95 ${f.p95.toFixed(3)} ms`;
  console.log(`inference in the page    p50 ${result.page_inference_ms.p50.toFixed(3)} ms, p95 ${result.page_inference_ms.p95.toFixed(3)} ms (${result.page_inference_ms.runs} runs, warm)`);
  console.log(`                         ${firstRuns(result.page_inference_ms.first_runs)}`);
  const rw = result.reading_with_examples_ms;
  console.log(`reading a digit          p50 ${rw.none_p50.toFixed(3)} ms without examples, ${rw.kept_p50.toFixed(3)} ms with ${rw.examples} kept (${rw.ratio_p50.toFixed(2)}x)`);
  const lv = result.layers_view_while_drawing;
  console.log(`layers view, drawing     ${lv.updates_per_second.toFixed(1)} sets of stages shown a second (${lv.pointer_moves_per_second.toFixed(0)} pointer moves a second, ${lv.seconds.toFixed(1)} s); one set p50 ${lv.set_ms_p50.toFixed(2)} ms`);
  console.log("start-up, median of the same loads:");
  for (const [name, ms] of Object.entries(page.breakdown)) console.log(`  ${name.padEnd(28)} ${ms.toFixed(0).padStart(6)} ms`);
  if (result.onnxruntime_web) {
    const o = result.onnxruntime_web;
    const r = result.ratios_page_over_onnxruntime_web;
    console.log(`onnxruntime-web ${o.version} (wasm, 1 thread), same model, same browser:`);
    console.log(`  bytes (gzip -9)          ${kb(o.bytes.total.gzip)} (${o.bytes.files.map((f) => `${f.file} ${kb(f.gzip)}`).join(", ")})`);
    console.log(`  navigation to ready      median ${o.navigation_to_ready_ms.median.toFixed(0)} ms (min ${o.navigation_to_ready_ms.min.toFixed(0)} ms)`);
    console.log(`  inference                p50 ${o.inference_ms.p50.toFixed(3)} ms, p95 ${o.inference_ms.p95.toFixed(3)} ms (warm)`);
    console.log(`                           ${firstRuns(o.inference_ms.first_runs)}`);
    console.log(`page / onnxruntime-web     bytes ${r.bytes_gzip.toFixed(2)}, ready ${r.navigation_to_ready.toFixed(2)}, p50 ${r.inference_p50.toFixed(2)}, p95 ${r.inference_p95.toFixed(2)} (warm); first 400 runs p50 ${r.first_runs_p50.toFixed(2)}, p95 ${r.first_runs_p95.toFixed(2)}`);
  } else {
    console.log("onnxruntime-web          skipped (npm ci in tests/e2e/ort)");
  }
  if (native) console.log(`inference native tract   p50 ${native.p50_ms.toFixed(3)} ms, p95 ${native.p95_ms.toFixed(3)} ms (${native.runs} runs)`);
  else console.log("inference native tract   skipped (build with cargo build --release)");
  if (native?.number) {
    const n = native.number;
    console.log(
      `number reading (native)  ${n.read.length}-digit number, ${n.strokes} strokes, ${n.candidates} candidates: ` +
        `${n.ms_per_reading.toFixed(1)} ms per reading from scratch, ${n.digits_per_second.toFixed(0)} digits/s`,
    );
  }
  if (training) console.log(`training on CPU          ${training.images_per_second.toFixed(0)} images/s (${training.device})`);
  else console.log("training on CPU          skipped (no MNIST: set MNIST_DIR)");
  if (to99?.seconds != null) {
    console.log(
      `time to 99% on CPU       ${to99.seconds.toFixed(0)} s (epoch ${to99.epoch}, ${to99.recipe}; ` +
        `${(100 * to99.final_test_accuracy).toFixed(2)}% at the end)`,
    );
  } else if (to99) {
    console.log(`time to 99% on CPU       not reached: ${(100 * to99.final_test_accuracy).toFixed(2)}% at the end (${to99.recipe})`);
  }
  if (keras?.skipped) console.log(`Keras (seed CNN)         skipped: ${keras.skipped}`);
  else if (keras) {
    const reached = keras.seconds != null ? `${keras.seconds.toFixed(0)} s to 99% (epoch ${keras.epoch})` : "99% not reached";
    console.log(
      `Keras (seed CNN)         ${reached}; ${(100 * keras.final_test_accuracy).toFixed(2)}% after 5 epochs, ` +
        `${keras.total_seconds.toFixed(0)} s (TensorFlow ${keras.tensorflow}, same machine, same run)`,
    );
    if (to99?.seconds != null && keras.seconds != null) {
      console.log(`time to 99%, ours / Keras ${(to99.seconds / keras.seconds).toFixed(2)} (target 1/3)`);
    }
  }
  if (clothes.skipped) console.log(`Fashion-MNIST            skipped: ${clothes.skipped}`);
  else {
    const o = clothes.ours;
    console.log(
      `Fashion-MNIST            ours ${(100 * o.test_accuracy).toFixed(2)}% after ${o.training_seconds.toFixed(0)} s of training ` +
        `(${o.recipe}; ${o.bytes} B file) on ${o.test_set}`,
    );
    const k = clothes.keras_seed;
    if (k.skipped) console.log(`                         Keras (seed CNN) skipped: ${k.skipped}`);
    else console.log(`                         Keras (seed CNN) ${(100 * k.test_accuracy).toFixed(2)}% after 5 epochs, ${k.seconds.toFixed(0)} s (TensorFlow ${k.tensorflow}, same run)`);
  }
  console.log(`\nJSON: ${join(out, "bench.json")}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
