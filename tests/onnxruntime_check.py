"""Checks the shipped ONNX file under onnxruntime: it loads (onnx.checker passes), declares
the documented contract, and predicts exactly what tract predicts.

    python3 tests/onnxruntime_check.py MODEL.onnx IMAGES_IDX[.gz] TRACT_PREDICTIONS

TRACT_PREDICTIONS has one digit per line, as written by
`digitpad eval MODEL --predictions FILE` (or tests/fixtures/mnist-test-predictions.txt for
the committed fixture). Needs numpy, onnx and onnxruntime (pip).
"""
import gzip
import sys

import numpy as np
import onnx
import onnxruntime as ort


def read_images(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    count = int.from_bytes(raw[4:8], "big")
    pixels = np.frombuffer(raw[16:], dtype=np.uint8)
    return pixels.reshape(count, 1, 28, 28).astype(np.float32) / 255.0


def main():
    model_path, images_path, tract_path = sys.argv[1:4]
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    opset = {o.domain: o.version for o in model.opset_import}[""]
    assert model.ir_version <= 8 and opset >= 13, (model.ir_version, opset)
    assert [i.name for i in model.graph.input] == ["image"]
    assert [o.name for o in model.graph.output] == ["logits", "features"]
    metadata = {p.key: p.value for p in model.metadata_props}
    assert float(metadata["temperature"]) > 0, metadata.get("temperature")

    images = read_images(images_path)
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    logits, features = session.run(None, {"image": images})
    assert logits.shape == (len(images), 10), logits.shape
    assert features.ndim == 2 and len(features) == len(logits), features.shape
    ours = logits.argmax(axis=1)
    tract = np.loadtxt(tract_path, dtype=np.int64)
    assert len(tract) == len(ours), (len(tract), len(ours))
    differ = int((tract != ours).sum())
    print(
        f"onnxruntime {ort.__version__} vs tract on {len(ours)} images: "
        f"{differ} different predictions (IR {model.ir_version}, opset {opset})"
    )
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
