// The onnxruntime-web side of `.ci/bench`: loads the same ONNX file the page ships with
// ONNX Runtime's wasm backend on one thread, answers once (like the page's warm-up), marks
// the moment it is ready, and offers the same timing hook as the page's `bench` build.
import * as ort from "./ort.wasm.min.mjs";

ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = new URL("./", import.meta.url).href;

const session = await ort.InferenceSession.create("model/digitnet.onnx", { executionProviders: ["wasm"] });
const image = () => new ort.Tensor("float32", new Float32Array(28 * 28), [1, 1, 28, 28]);
await session.run({ image: image() });
window.__readyAt = performance.now();

/** Mean milliseconds per run of `batches` batches of `runs` sequential runs. */
window.benchInference = async (batches, runs) => {
  const input = image();
  input.data[14 * 28 + 14] = 1;
  const means = [];
  for (let b = 0; b < batches; b++) {
    const start = performance.now();
    for (let r = 0; r < runs; r++) await session.run({ image: input });
    means.push((performance.now() - start) / runs);
  }
  return means;
};
