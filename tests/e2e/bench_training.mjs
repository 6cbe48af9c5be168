// The benchmark's training measures (run by bench.mjs; not a test): CPU throughput, the time
// the quick recipe takes to 99% on MNIST, the seed's Keras CNN on TensorFlow for the same
// measure, and the Fashion-MNIST row. Each needs the CLI built and the data at hand.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { repo } from "./drive.mjs";

const targetDir = resolve(process.env.CARGO_TARGET_DIR ?? join(repo, "target"));
const cli = join(targetDir, "release", "digitpad");
const out = join(repo, "target", "bench");

/** MNIST for the training measures: $MNIST_DIR, or ../shared/mnist beside the repository. */
const mnistDir = () => process.env.MNIST_DIR ?? resolve(repo, "..", "shared", "mnist");

/** Runs `digitpad train ARGS` on MNIST into target/bench/NAME, its output hidden, and returns
 * the run's history; null when the CLI or MNIST is missing. */
async function trainHistory(name, args) {
  const dataDir = mnistDir();
  if (!existsSync(cli) || !existsSync(dataDir)) return null;
  const runDir = join(out, name);
  execFileSync(
    cli,
    ["train", ...args, "--data-dir", dataDir, "--out", runDir, "--checkpoint-dir", join(runDir, "checkpoints")],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  return JSON.parse(await readFile(join(runDir, "history.json"), "utf8"));
}

export async function trainingThroughput() {
  const history = await trainHistory("train", ["--epochs", "1", "--limit", "12800", "--val-split", "0", "--no-pen-data"]);
  if (!history) return null;
  return { images_per_second: history.epochs[0].images_per_second, images: 12800, device: "cpu (burn flex, this crate's training operators)" };
}

/** The fast CPU recipe: the quick network for one epoch of un-augmented MNIST images (no pen
 * data), batch 64, a one-cycle schedule peaking at 0.012 (docs/performance.md). */
const QUICK_RECIPE = ["--arch", "quick", "--epochs", "1", "--no-augment", "--batch-size", "64", "--lr", "0.012", "--no-pen-data"];

/** Time to 99.0% MNIST test accuracy with the fast CPU recipe (the shipped recipe takes
 * minutes to get there, docs/performance.md): seconds from the start of the first
 * epoch, test passes included, from the run's history. */
export async function timeTo99() {
  const history = await trainHistory("train-quick", QUICK_RECIPE);
  if (!history) return null;
  const reached = history.epochs.find((e) => (e.test_accuracy ?? 0) >= 0.99);
  const last = history.epochs[history.epochs.length - 1];
  return {
    recipe: `train ${QUICK_RECIPE.join(" ")}`,
    epoch: reached?.epoch ?? null,
    seconds: reached?.elapsed_seconds ?? null,
    final_test_accuracy: last.test_accuracy,
    images_per_second: last.images_per_second,
  };
}

/** The seed's Keras CNN on TensorFlow (`.ci/keras_seed.py`), the yardstick of the time to
 * 99%, run right after ours on the same machine; skipped when TensorFlow is not installed
 * ($KERAS_PYTHON, default python3, must import it: `pip install tensorflow-cpu`). */
export async function kerasSeed() {
  const dataDir = mnistDir();
  const python = process.env.KERAS_PYTHON ?? "python3";
  if (!existsSync(dataDir)) return null;
  try {
    execFileSync(python, ["-c", "import tensorflow"], { stdio: "ignore", env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "3" } });
  } catch {
    return { skipped: `${python} cannot import tensorflow (pip install tensorflow-cpu, or set KERAS_PYTHON)` };
  }
  const json = join(out, "keras-seed.json");
  execFileSync(python, [join(repo, ".ci", "keras_seed.py"), dataDir, "--json", json], { stdio: ["ignore", "ignore", "inherit"] });
  const result = JSON.parse(await readFile(json, "utf8"));
  const last = result.epochs[result.epochs.length - 1];
  return {
    recipe: "the seed's Keras CNN, 5 epochs (.ci/keras_seed.py)",
    tensorflow: result.tensorflow,
    epoch: result.time_to_99?.epoch ?? null,
    seconds: result.time_to_99?.seconds ?? null,
    final_test_accuracy: last.test_accuracy,
    total_seconds: last.elapsed_seconds,
  };
}

/** Fashion-MNIST for its row: $FASHION_MNIST_DIR, or ../shared/fashion-mnist. */
const fashionDir = () => process.env.FASHION_MNIST_DIR ?? resolve(repo, "..", "shared", "fashion-mnist");

/** The Fashion-MNIST row: `digitpad train --dataset fashion-mnist` with its recipe (nothing
 * else but the folders), then the seed's Keras CNN for its 5 epochs on the same files, same
 * machine, same run (when TensorFlow is installed). Test accuracy labelled with the split;
 * skipped without the data or with BENCH_FASHION=0 (it takes about ten minutes). */
export async function fashion() {
  const dataDir = fashionDir();
  if (process.env.BENCH_FASHION === "0") return { skipped: "BENCH_FASHION=0" };
  if (!existsSync(cli) || !existsSync(dataDir)) return { skipped: `no ${dataDir} (set FASHION_MNIST_DIR)` };
  const runDir = join(out, "train-fashion");
  const start = Date.now();
  execFileSync(
    cli,
    ["train", "--dataset", "fashion-mnist", "--data-dir", dataDir, "--out", runDir, "--checkpoint-dir", join(runDir, "checkpoints")],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const commandSeconds = (Date.now() - start) / 1000;
  const metrics = JSON.parse(await readFile(join(runDir, "metrics.json"), "utf8"));
  const history = JSON.parse(await readFile(join(runDir, "history.json"), "utf8"));
  const last = history.epochs[history.epochs.length - 1];
  const ours = {
    recipe: "train --dataset fashion-mnist",
    test_set: metrics.test_set ?? "Fashion-MNIST",
    test_accuracy: metrics.report.accuracy,
    training_seconds: last.elapsed_seconds,
    command_seconds: commandSeconds,
    bytes: metrics.bytes,
  };
  const python = process.env.KERAS_PYTHON ?? "python3";
  let keras = null;
  try {
    execFileSync(python, ["-c", "import tensorflow"], { stdio: "ignore", env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "3" } });
    const json = join(out, "keras-seed-fashion.json");
    execFileSync(python, [join(repo, ".ci", "keras_seed.py"), dataDir, "--json", json], { stdio: ["ignore", "ignore", "inherit"] });
    const result = JSON.parse(await readFile(json, "utf8"));
    const k = result.epochs[result.epochs.length - 1];
    keras = { tensorflow: result.tensorflow, test_accuracy: k.test_accuracy, seconds: k.elapsed_seconds };
  } catch {
    keras = { skipped: `${python} cannot import tensorflow (pip install tensorflow-cpu, or set KERAS_PYTHON)` };
  }
  return { ours, keras_seed: keras };
}
