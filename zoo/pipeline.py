"""The input pipeline of :func:`zoo.training.train`: each epoch's batches, gathered as they are needed."""

from __future__ import annotations

import numpy as np


class Batches:
    """Each epoch's batches, gathered from the training arrays as they are needed.

    ``model.fit`` on NumPy arrays copies the whole array into a new
    ``tf.data`` pipeline on every call (for Reuters, 320 MB). Here an epoch is a dataset of the
    shuffled row indices, batched, whose rows NumPy gathers on the fly (in
    ``tf.data``'s background thread, one batch ahead): the same batches in the
    same order as ``x[order]``, but only the batch in flight is ever copied.
    """

    def __init__(self, x, y, batch_size: int, rows=None):
        """``rows``: the row numbers of ``x`` and ``y`` that make up the data (None: all, in order); the
        batches are then those of ``x[rows]``, gathered without copying ``x[rows]`` first."""
        self.x, self.y = np.asarray(x), np.asarray(y)
        self.rows = None if rows is None else np.asarray(rows)
        self.batch_size = batch_size

    def __len__(self):
        return len(self.x) if self.rows is None else len(self.rows)

    def dataset(self, order=None):
        """Batches of ``(x[order], y[order])`` (all rows in their order when ``order`` is None)."""
        import tensorflow as tf

        if order is None:
            order = np.arange(len(self))
        return self._gathered(tf.data.Dataset.from_tensor_slices(order).batch(self.batch_size))

    def epochs(self, orders):
        """One epoch after another: the batches of ``x[orders[0]]``, then of ``x[orders[1]]``, ...

        Each epoch ends with its own (possibly smaller) last batch, exactly as
        separate ``fit`` calls on ``x[order]`` would batch it.
        """
        import tensorflow as tf

        size = self.batch_size
        if isinstance(orders, EpochOrders):  # made as the pipeline reaches each epoch, never all at once
            orders = tf.data.Dataset.from_generator(
                orders.__iter__, output_signature=tf.TensorSpec(shape=(orders.rows,), dtype=tf.int64))
        else:
            orders = tf.data.Dataset.from_tensor_slices(orders)
        indices = orders.flat_map(
            lambda order: tf.data.Dataset.from_tensor_slices(order).batch(size))
        return self._gathered(indices)

    def take(self, i):
        """The rows ``i`` of the data (a NumPy gather, run in ``tf.data``'s thread)."""
        if self.rows is not None:
            i = self.rows[i]
        return self.x[i], self.y[i]

    def _gathered(self, indices):
        import tensorflow as tf

        x, y = self.x, self.y
        dtypes = (tf.as_dtype(x.dtype), tf.as_dtype(y.dtype))

        def gather(i):
            bx, by = tf.numpy_function(self.take, [i], dtypes, stateful=False)
            bx.set_shape((None, *x.shape[1:]))
            by.set_shape((None, *y.shape[1:]))
            return bx, by

        return indices.map(gather).prefetch(2).with_options(pipeline_options())


def pipeline_options():
    """``tf.data`` options for the zoo's input pipelines: autotuning off, sharded by data under a strategy.

    The pipelines are fixed (one gather per batch, two batches prefetched), so
    autotuning has nothing to tune, and with it on, destroying the iterator at
    the end of ``fit`` can sit idle for seconds (bench/README.md).

    Under ``MultiWorkerMirroredStrategy`` every worker builds the same pipeline
    (the epoch orders depend only on the seed) and keeps its share of each
    global batch: ``DATA`` sharding. The default (``AUTO``) would first try to
    shard by file, which a pipeline fed from memory does not have, and warn.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return options


class EpochOrders:
    """The shuffle order of each epoch in ``epochs``, ``default_rng([seed, e]).permutation(rows)``, made lazily.

    Built up front, ``--epochs 3000000`` of iris would take gigabytes and minutes before the first epoch.
    """

    def __init__(self, seed: int, epochs: range, rows: int):
        self.seed, self.epochs, self.rows = seed, epochs, rows

    def __len__(self):
        return len(self.epochs)

    def __iter__(self):
        for e in self.epochs:
            yield np.random.default_rng([self.seed, e]).permutation(self.rows)
