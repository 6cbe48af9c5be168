#!/usr/bin/env python3
"""The seed's Keras CNN on TensorFlow, timed the way `digitpad train` times itself.

The trainer's speed yardstick (docs/performance.md, "Budgets"): `.ci/bench` runs it beside `digitpad train --arch quick` on the
same machine, in the same run, when TensorFlow is installed (it is not part of the tests and
never installed by them: `pip install tensorflow-cpu`). The model is the seed's: conv 32,
max pool, conv 64, max pool, conv 64, dense 64, dense 10 (93,322 parameters), Adam at
Keras' defaults, batch 32, the last 10% of the training set held out for validation, no
augmentation. After every epoch the test set is scored and the time since the first epoch
began is recorded, so "time to 99%" counts the same work as the trainer's history.

    python3 .ci/keras_seed.py DATA_DIR [--epochs 5] [--json OUT]

DATA_DIR holds the four standard files (`*-ubyte.gz`) of MNIST or Fashion-MNIST.
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np


def read_idx(path):
    """One IDX file (gzipped) as a numpy array, its shape taken from the header."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        sys.exit(f"{path}: not an IDX file of unsigned bytes")
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(data_dir, prefix):
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    return (images.astype("float32") / 255.0)[..., None], labels.astype("int64")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--json", help="write the per-epoch history here")
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf  # after the log level is set
    from tensorflow import keras

    tf.keras.utils.set_random_seed(1)
    x_train, y_train = load(args.data_dir, "train")
    x_test, y_test = load(args.data_dir, "t10k")

    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )

    history = []
    start = {}

    class Timing(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            start["t"] = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            _, test_accuracy = self.model.evaluate(x_test, y_test, verbose=0)
            history.append(
                {
                    "epoch": epoch + 1,
                    "val_accuracy": logs.get("val_accuracy"),
                    "test_accuracy": test_accuracy,
                    "elapsed_seconds": time.perf_counter() - start["t"],
                }
            )
            print(
                f"epoch {epoch + 1}: test {100 * test_accuracy:.2f}%, "
                f"{history[-1]['elapsed_seconds']:.1f} s since the start",
                flush=True,
            )

    model.fit(
        x_train,
        y_train,
        epochs=args.epochs,
        batch_size=32,
        validation_split=0.1,
        callbacks=[Timing()],
        verbose=0,
    )
    reached = next((e for e in history if e["test_accuracy"] >= 0.99), None)
    result = {
        "tensorflow": tf.__version__,
        "parameters": model.count_params(),
        "threads": os.cpu_count(),
        "epochs": history,
        "time_to_99": reached and {"epoch": reached["epoch"], "seconds": reached["elapsed_seconds"]},
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    if reached:
        print(f"99% test accuracy after epoch {reached['epoch']}, {reached['elapsed_seconds']:.1f} s")
    else:
        print(f"99% not reached in {args.epochs} epochs")


if __name__ == "__main__":
    main()
