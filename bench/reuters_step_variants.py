"""What each idea is worth: milliseconds per Reuters training step, variant by variant.

Builds the 10000 -> 256 -> .5 -> 128 -> .5 -> 46 model several ways (first layer
Dense, SparseInputDense, or two tried-and-dropped truly sparse forms; float32 or
mixed_bfloat16; Keras Adam or FusedAdam), then times ``train_on_batch`` on the same 8 real batches, the variants
interleaved over 5 rounds so that load on the shared machine hits all of them.
Prints the median and minimum per step (data pipeline and validation excluded:
bench/reuters_mlp.py measures the whole run).

Usage::

    ZOO_DATA_DIR=/work/shared/data python bench/reuters_step_variants.py --batch-size 256
    ONEDNN_MAX_CPU_ISA=AVX2 ZOO_DATA_DIR=/work/shared/data python bench/reuters_step_variants.py --batch-size 512
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    import keras
    import numpy as np
    import tensorflow as tf

    import zoo
    from zoo.layers import SparseInputDense
    from zoo.optimizers import FusedAdam

    class RowSparseDense(keras.layers.Dense):
        """Tried for CPUs without AMX, dropped: x @ W as tf.sparse.sparse_dense_matmul over the batch's non-zeros."""

        def call(self, inputs, training=None):
            idx = tf.where(tf.not_equal(inputs, 0))
            sparse = tf.SparseTensor(idx, tf.gather_nd(inputs, idx), tf.shape(inputs, out_type=tf.int64))
            return self.activation(tf.sparse.sparse_dense_matmul(sparse, tf.convert_to_tensor(self.kernel)) + self.bias)

    class BagDense(keras.layers.Dense):
        """Tried for CPUs without AMX, dropped: an embedding bag (each newswire's word rows gathered and summed)."""

        def call(self, inputs, training=None):
            idx = tf.where(tf.not_equal(inputs, 0))
            rows = tf.gather(tf.convert_to_tensor(self.kernel), idx[:, 1]) * tf.gather_nd(inputs, idx)[:, None]
            return self.activation(tf.math.unsorted_segment_sum(rows, idx[:, 0], tf.shape(inputs)[0]) + self.bias)

    (x, y), _ = zoo.datasets.load("reuters")
    bs = args.batch_size
    variants = {  # name: (first layer, first layer policy, other hidden layers' policy, optimizer)
        "textbook (Dense, float32, Adam)": (keras.layers.Dense, "float32", "float32", keras.optimizers.Adam),
        "Dense, mixed_bfloat16, Adam": (keras.layers.Dense, "mixed_bfloat16", "mixed_bfloat16", keras.optimizers.Adam),
        "Dense, mixed_bfloat16, FusedAdam (zoo, AMX)": (keras.layers.Dense, "mixed_bfloat16", "mixed_bfloat16", FusedAdam),
        "SparseInputDense f32, rest bf16, FusedAdam": (SparseInputDense, "float32", "mixed_bfloat16", FusedAdam),
        "SparseInputDense, mixed_bfloat16, FusedAdam": (SparseInputDense, "mixed_bfloat16", "mixed_bfloat16", FusedAdam),
        "SparseInputDense, float32, FusedAdam (zoo, no AMX)": (SparseInputDense, "float32", "float32", FusedAdam),
        "Dense, float32, FusedAdam": (keras.layers.Dense, "float32", "float32", FusedAdam),
        "RowSparseDense, float32, FusedAdam (dropped)": (RowSparseDense, "float32", "float32", FusedAdam),
        "BagDense, float32, FusedAdam (dropped)": (BagDense, "float32", "float32", FusedAdam),
    }
    models = {}
    for name, (first, first_dtype, dtype, opt) in variants.items():
        keras.utils.set_random_seed(0)
        m = keras.Sequential([
            keras.Input((x.shape[1],)), first(256, activation="relu", dtype=first_dtype),
            keras.layers.Dropout(0.5, dtype=dtype), keras.layers.Dense(128, activation="relu", dtype=dtype),
            keras.layers.Dropout(0.5, dtype=dtype), keras.layers.Dense(46, activation="softmax")])
        m.compile(optimizer=opt(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        models[name] = m
    xs = [tf.constant(x[i * bs:(i + 1) * bs]) for i in range(8)]
    ys = [tf.constant(y[i * bs:(i + 1) * bs]) for i in range(8)]
    for m in models.values():
        m.train_on_batch(xs[0], ys[0])  # trace once
    times = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, m in models.items():
            start = time.perf_counter()
            for xb, yb in zip(xs, ys):
                m.train_on_batch(xb, yb)
            times[name].append((time.perf_counter() - start) / len(xs) * 1000)
    for name, ts in times.items():
        print(f"batch {bs}  {name:52s} median {np.median(ts):6.2f} ms/step  min {min(ts):6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
