"""Batch size, epochs and iterations (배치, 에포크, 이터레이션).

Reproduces: the notes' three kinds of gradient descent -- batch gradient descent
(the whole training set per update: one update per epoch), stochastic gradient
descent with batch size 1 (one random sample per update: fast but unstable) and
mini-batch gradient descent (a batch of, here, 32) -- and their vocabulary: an
epoch is one pass over all the data, an iteration (step) is one update, and an
epoch takes ceil(N / batch) iterations. We count the batches Keras actually runs
with a callback, check that one Keras step uses the *mean* gradient of its batch,
measure how the noise of that gradient falls as 1/batch (the sampling formula),
and draw the training loss against epochs, against updates and against wall time.
Source: notes 002 (4-2 "배치 크기에 따른 경사 하강법": batch GD, SGD, mini-batch;
4-5 "에포크와 배치 크기와 이터레이션"), notes 004 (Optimization: minibatches,
stochastic gradient descent), notes 001 (hyperparameters: batch size).
"""

from __future__ import annotations

import math
import time

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "Batch size, epochs and iterations (배치, 에포크, 이터레이션)"
ORDER = 13
SOURCE = "notes 002 (4-2 batch GD / SGD / mini-batch; 4-5 epoch, batch size, iteration), notes 004 (Optimization: minibatch SGD)"

# One small network for everything: the zoo's dense_classifier 64 -> 64 (ReLU) -> 10
# on the 1437 digits training images, plain SGD with the same learning rate for the
# three regimes, so that only the batch size differs.
HIDDEN = (64,)
LEARNING_RATE = 0.1
MINI_BATCH = 32
# Epochs per regime. They differ because one epoch costs so differently: SGD makes
# N updates per epoch, batch GD one. Roughly equal wall time in full mode.
QUICK_EPOCHS = {"SGD (batch 1)": 1, f"mini-batch ({MINI_BATCH})": 10, "batch GD (batch N)": 20}
FULL_EPOCHS = {"SGD (batch 1)": 3, f"mini-batch ({MINI_BATCH})": 30, "batch GD (batch N)": 100}
# Batch sizes whose iteration count we check against ceil(N / batch) (one epoch each;
# 1, 32 and N are checked on the training runs themselves). 2000 > N: one short batch.
COUNT_BATCHES = (50, 100, 500, 1000, 2000)
# Gradient noise: batch sizes and the number of random batches drawn for each.
NOISE_BATCHES = (1, 4, 16, 64, 256, 1024)
NOISE_DRAWS = {1: 2000, 4: 2000, 16: 2000, 64: 1000, 256: 300, 1024: 100}  # full mode; quick: a quarter (>= 50)
# The slope: mini-batch gradients computed by Keras (GradientTape on the zoo
# model), batch sizes well below N so that the finite-population factor stays near 1.
SLOPE_BATCHES = (1, 4, 16, 64, 256)
SLOPE_DRAWS = {True: 40, False: 120}  # quick, full
DENSE_UPDATES = 50  # the loss is recorded after each of the first 50 updates, then ~10 times per epoch


def batch_counter():
    """A Keras callback counting the batches (iterations) of every epoch in ``.per_epoch``."""
    import keras

    class _Counter(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.per_epoch = []

        def on_epoch_begin(self, epoch, logs=None):
            self.per_epoch.append(0)

        def on_train_batch_end(self, batch, logs=None):
            self.per_epoch[-1] += 1

    return _Counter()


def loss_recorder(x, y, *, every):
    """A callback recording the full training loss against updates, epochs and wall time.

    The loss is the mean cross-entropy over all of ``x`` in inference mode, measured
    after each of the first :data:`DENSE_UPDATES` updates, then every ``every``
    updates and at each epoch's end. The time spent measuring is excluded from the
    wall-clock column, so the clock shows training time only.
    """
    import keras

    class _Recorder(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.rows = []  # (updates, epochs, seconds, loss)
            self.updates, self.epoch, self.seconds = 0, 0, 0.0

        def _record(self, epochs):
            self.seconds += time.perf_counter() - self._clock
            p = np.asarray(self.model(x, training=False), np.float64)
            loss = float(np.mean(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))))
            self.rows.append((self.updates, epochs, self.seconds, loss))
            self._clock = time.perf_counter()

        def on_train_begin(self, logs=None):
            self._clock = time.perf_counter()
            self._record(0.0)

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            self.updates += 1
            if self.updates <= DENSE_UPDATES or self.updates % every == 0:
                self._record(self.epoch + (batch + 1) / self.params["steps"])

        def on_epoch_end(self, epoch, logs=None):
            if self.rows[-1][0] != self.updates:
                self._record(epoch + 1.0)

    return _Recorder()


def per_sample_gradients(model, x, y):
    """dL_i/dtheta for every sample, by the chain rule in NumPy (float64).

    For the one-hidden-layer network ``h = relu(x W1 + b1)``, ``p = softmax(h W2 + b2)``
    and ``L_i = -log p_i[y_i]``: ``d2 = p - t``, ``d1 = (d2 W2^T) * [z1 > 0]``;
    ``dW2 = h^T d2``, ``dW1 = x^T d1`` per sample (outer products). Columns follow
    ``model.trainable_variables`` (W1, b1, W2, b2), flattened.
    """
    (w1, b1), (w2, b2) = [(np.asarray(model.get_layer(n).kernel, np.float64), np.asarray(model.get_layer(n).bias, np.float64))
                          for n in ("hidden1", "output")]
    x = np.asarray(x, np.float64)
    z1 = x @ w1 + b1
    h = np.maximum(z1, 0.0)
    s = h @ w2 + b2
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    d2 = p - np.eye(p.shape[1])[y]
    d1 = (d2 @ w2.T) * (z1 > 0)
    n = len(x)
    return np.concatenate([np.einsum("ni,nj->nij", x, d1).reshape(n, -1), d1,
                           np.einsum("ni,nj->nij", h, d2).reshape(n, -1), d2], axis=1)


def numpy_step_peak_bytes(x, y, hidden, seed=0):
    """Peak bytes allocated (tracemalloc) by one forward and backward pass of a 64-hidden-10 ReLU/softmax network
    in NumPy on the batch ``(x, y)``: the weights, the batch, the activations kept for backprop and the gradients."""
    import tracemalloc

    rng = np.random.default_rng(seed)
    tracemalloc.start()
    try:
        xb = np.array(x, dtype=np.float64)
        w1, b1 = rng.normal(0, math.sqrt(2 / xb.shape[1]), (xb.shape[1], hidden)), np.zeros(hidden)
        w2, b2 = rng.normal(0, math.sqrt(2 / hidden), (hidden, 10)), np.zeros(10)
        z1 = xb @ w1 + b1
        h1 = np.maximum(z1, 0)
        logits = h1 @ w2 + b2
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        delta2 = p.copy()
        delta2[np.arange(len(y)), y] -= 1
        delta2 /= len(y)
        grads = [h1.T @ delta2, delta2.sum(axis=0)]
        delta1 = (delta2 @ w2.T) * (z1 > 0)
        grads += [xb.T @ delta1, delta1.sum(axis=0)]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run(out_dir, quick=True):
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import zoo

    r = Recipe("batch_size", out_dir, title=TITLE, source=SOURCE, quick=quick)
    keras.utils.set_random_seed(0)
    (x, y), _ = zoo.datasets.load("digits")
    x = x.reshape(len(x), -1)
    n = len(x)

    def new_model():
        return zoo.create_model("dense_classifier", input_dim=64, num_classes=10, hidden_units=HIDDEN,
                                optimizer="sgd", learning_rate=LEARNING_RATE, seed=0)

    # -----------------------------------------------------------------------
    # Step 1. Iterations per epoch. Keras cuts the N training samples into
    # batches of the given size; the last batch holds what is left. So an epoch
    # takes ceil(N / batch) iterations, and after E epochs the optimizer has made
    # E * ceil(N / batch) updates. We count the batches Keras runs.
    # -----------------------------------------------------------------------
    # One model serves every batch size (its train step is traced once); we count
    # the optimizer's updates as the difference of optimizer.iterations per fit.
    count_rows, model = [], new_model()
    for b in COUNT_BATCHES:
        counter, before = batch_counter(), int(model.optimizer.iterations)
        model.fit(x, y, batch_size=b, epochs=1, verbose=0, callbacks=[counter])
        count_rows.append([b, counter.per_epoch[0], math.ceil(n / b), int(model.optimizer.iterations) - before,
                           n - (math.ceil(n / b) - 1) * b])

    # -----------------------------------------------------------------------
    # Step 2. One update uses the batch's mean gradient. Take the first 32
    # samples, compute every sample's gradient by the chain rule in NumPy, and
    # compare one Keras step (shuffle off) with W - eta * mean_i(dL_i/dW).
    # -----------------------------------------------------------------------
    model = new_model()
    theta0 = np.concatenate([np.asarray(v, np.float64).ravel() for v in model.trainable_variables])
    grads = per_sample_gradients(model, x, y)
    model.fit(x[:MINI_BATCH], y[:MINI_BATCH], batch_size=MINI_BATCH, epochs=1, shuffle=False, verbose=0)
    theta1 = np.concatenate([np.asarray(v, np.float64).ravel() for v in model.trainable_variables])
    r.check_close(f"one Keras step on a batch of {MINI_BATCH} == theta - eta * mean of the {MINI_BATCH} per-sample gradients (max abs difference)",
                  np.max(np.abs(theta1 - (theta0 - LEARNING_RATE * grads[:MINI_BATCH].mean(axis=0)))), 0.0, atol=1e-6)

    # -----------------------------------------------------------------------
    # Step 3. How noisy is a mini-batch gradient? Drawing b of the N samples at
    # random (without replacement, as an epoch's shuffle does), the batch gradient
    # g_B scatters around the full gradient g with
    #     E ||g_B - g||^2 = sigma^2 / b * (N - b) / (N - 1),
    #     sigma^2 = 1/N sum_i ||g_i - g||^2
    # (the variance of a sample mean, with the finite-population correction):
    # batch 1 is the noisiest, batch N has no noise at all. We measure it by drawing
    # batches, using the Gram matrix K = D D^T of the centred gradients so that
    # ||g_B - g||^2 = sum_{i,j in B} K_ij / b^2.
    # -----------------------------------------------------------------------
    centred = grads - grads.mean(axis=0)
    gram = centred @ centred.T
    sigma2 = float(np.trace(gram) / n)
    rng = np.random.default_rng(0)
    noise_rows = []
    for b in NOISE_BATCHES:
        draws = NOISE_DRAWS[b] if not quick else max(50, NOISE_DRAWS[b] // 4)
        measured = np.mean([gram[np.ix_(idx, idx)].sum() / b**2
                            for idx in (rng.choice(n, b, replace=False) for _ in range(draws))])
        noise_rows.append([b, draws, float(measured), sigma2 / b * (n - b) / (n - 1)])
    noise_rows.append([n, 1, float(np.sum(centred.sum(axis=0) ** 2) / n**2), 0.0])
    r.table(f"Mini-batch gradient noise E norm(g_B - g)^2 at the initial weights (sigma^2 = {sigma2:.4g}, N = {n})",
            ["batch size b", "random batches drawn", "measured", "sigma^2 / b * (N - b) / (N - 1)"], noise_rows)
    for b, draws, measured, formula in noise_rows[:-1]:
        r.check_close(f"gradient noise, batch {b}: measured ({draws} batches) == sigma^2/b (N-b)/(N-1)", measured, formula,
                      atol=0.0, rtol=0.1)
    r.check_close("gradient noise, batch N: the full-batch gradient is exact", noise_rows[-1][2], 0.0, atol=1e-12)

    # The same law measured on the gradients Keras itself computes: for each
    # batch size, the distance ||g_B - g|| of random mini-batch gradients from the
    # full-batch gradient. Its RMS should fall like 1/sqrt(b): slope -0.5 on log-log.
    import tensorflow as tf

    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    noise_model = new_model()

    def keras_gradient(idx):
        with tf.GradientTape() as tape:
            loss = loss_fn(y[idx], noise_model(x[idx], training=True))
        return np.concatenate([np.ravel(g) for g in tape.gradient(loss, noise_model.trainable_variables)])

    full_gradient = keras_gradient(np.arange(n))
    draws = SLOPE_DRAWS[bool(quick)]
    rms = np.array([np.sqrt(np.mean([np.sum((keras_gradient(rng.choice(n, b, replace=False)) - full_gradient) ** 2)
                                     for _ in range(draws)])) for b in SLOPE_BATCHES])
    slope, intercept = np.polyfit(np.log(SLOPE_BATCHES), np.log(rms), 1)
    r.table(f"Keras mini-batch gradients: RMS of norm(g_B - g) over {draws} random batches per size",
            ["batch size b", "RMS norm(g_B - g)", "sigma / sqrt(b) * sqrt((N - b) / (N - 1))"],
            [[b, v, math.sqrt(sigma2 / b * (n - b) / (n - 1))] for b, v in zip(SLOPE_BATCHES, rms)])
    r.check(f"gradient noise falls like 1/sqrt(batch): log-log slope of the RMS noise of Keras's mini-batch "
            f"gradients over b = {', '.join(map(str, SLOPE_BATCHES))}", -0.6 <= slope <= -0.4,
            expected="in [-0.6, -0.4] (theory -0.5)", measured=f"{slope:.3f}")

    # -----------------------------------------------------------------------
    # Step 4. The three regimes trained from the same initial weights with the
    # same learning rate: loss against epochs, against updates and against the
    # wall clock.
    # -----------------------------------------------------------------------
    epochs = QUICK_EPOCHS if quick else FULL_EPOCHS
    batch_of = {"SGD (batch 1)": 1, f"mini-batch ({MINI_BATCH})": MINI_BATCH, "batch GD (batch N)": n}
    runs, train_rows = {}, []
    for label, b in batch_of.items():
        model, counter = new_model(), batch_counter()
        steps = math.ceil(n / b)
        recorder = loss_recorder(x, y, every=max(1, steps // 10))
        model.fit(x, y, batch_size=b, epochs=epochs[label], verbose=0, callbacks=[counter, recorder])
        rows = np.array(recorder.rows)
        runs[label] = rows
        count_rows.append([b, counter.per_epoch[0], steps, int(model.optimizer.iterations), n - (steps - 1) * b])
        r.check(f"{label}: every epoch ran ceil({n}/{b}) = {steps} iterations; optimizer.iterations == {epochs[label]} x {steps}",
                set(counter.per_epoch) == {steps} and int(model.optimizer.iterations) == epochs[label] * steps,
                expected=f"{steps} per epoch, {epochs[label] * steps} in all",
                measured=f"{sorted(set(counter.per_epoch))} per epoch, {int(model.optimizer.iterations)} in all")
        after_one = rows[rows[:, 0] == steps][0]
        train_rows.append([label, b, steps, epochs[label], int(rows[-1, 0]), after_one[3], rows[-1, 3], rows[-1, 2],
                           rows[-1, 2] / rows[-1, 0] * 1000])
    count_rows.sort(key=lambda row: row[0])
    r.table(f"Iterations per epoch on N = {n} digits: counted by a callback during model.fit",
            ["batch size", "iterations counted (epoch 1)", "ceil(N / batch)", "optimizer.iterations after 1 epoch",
             "size of the last batch, N - (ceil(N / batch) - 1) * batch"],
            [row[:3] + [row[3] if row[0] in COUNT_BATCHES else "-", row[4]] for row in count_rows])
    for b, counted, expected, iterations, _ in count_rows:
        if b in COUNT_BATCHES:
            r.check(f"batch {b}: iterations in one epoch == ceil({n}/{b}) (callback and optimizer.iterations)",
                    counted == expected == iterations, expected=str(expected), measured=f"{counted} counted, {iterations} updates")
    r.table(f"Training the 64-{HIDDEN[0]}-10 ReLU network on digits, SGD {LEARNING_RATE}: the three regimes",
            ["regime", "batch", "iterations / epoch", "epochs", "updates", "loss after 1 epoch", "final loss",
             "training seconds (excl. measuring)", "ms per update"], train_rows)

    # Per epoch, more updates win: after one epoch SGD (1437 updates) is ahead of
    # mini-batch (45 updates), which is ahead of batch GD (1 update).
    after = {row[0]: row[5] for row in train_rows}
    labels = list(batch_of)
    r.check("per epoch: loss after 1 epoch is lowest for SGD, then mini-batch, then batch GD",
            after[labels[0]] < after[labels[1]] < after[labels[2]],
            expected="SGD < mini-batch < batch GD", measured=", ".join(f"{k} {v:.3f}" for k, v in after.items()))
    # Per update, the exact gradient wins: compare after the same number of updates.
    u = int(min(DENSE_UPDATES, *(rows[-1, 0] for rows in runs.values())))  # recorded for every regime
    at_u = {k: float(rows[rows[:, 0] == u][0, 3]) for k, rows in runs.items()}
    r.check(f"per update: after {u} updates batch GD's loss < SGD's (exact vs one-sample gradient)",
            at_u[labels[2]] < at_u[labels[0]], expected="batch GD < SGD",
            measured=", ".join(f"{k} {v:.3f}" for k, v in at_u.items()))
    # Stability: over the first updates, batch GD's loss falls at every step, SGD's
    # often rises (the notes: its changes are unstable).
    rises = {}
    for k, rows in runs.items():
        first = rows[rows[:, 0] <= DENSE_UPDATES, 3]
        rises[k] = float(np.mean(np.diff(first) > 0))
    r.check(f"stability: fraction of the first {DENSE_UPDATES} updates that raise the loss, batch GD == 0 and SGD >= 0.2",
            rises[labels[2]] == 0.0 and rises[labels[0]] >= 0.2, expected="GD 0, SGD >= 0.2",
            measured=", ".join(f"{k} {v:.2f}" for k, v in rises.items()))

    # Memory (notes 002: batch GD "메모리를 크게 요구한다"). One update keeps, for the
    # backward pass, every layer's values for every sample of the batch. We measure the
    # peak memory of one forward-and-backward step of the same 64-64-10 network written
    # in NumPy (tracemalloc counts NumPy's buffers) at batch 1, 32 and N.
    peaks = {b: numpy_step_peak_bytes(x[:b], y[:b], HIDDEN[0]) for b in (1, MINI_BATCH, n)}
    per_sample = {b: (peaks[b] - peaks[1]) / (b - 1) for b in (MINI_BATCH, n)}
    r.table("Peak memory of one update (forward and backward, NumPy float64, tracemalloc)",
            ["batch", "peak bytes", "bytes per sample above batch 1"],
            [[b, peaks[b], per_sample.get(b, "-")] for b in peaks])
    r.check_at_least(f"batch GD needs more memory: peak of one update at batch N = {n} over batch 1", peaks[n] / peaks[1], 10)
    r.check_close("... in proportion to the batch: bytes per sample at batch N == at batch 32 (relative)", per_sample[n],
                  per_sample[MINI_BATCH], atol=0.0, rtol=0.2)

    # -----------------------------------------------------------------------
    # Figures: loss against epochs, updates and wall time; gradient noise.
    # -----------------------------------------------------------------------
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
    for label, rows in runs.items():
        for ax, col in zip(axes, (1, 0, 2)):
            keep = rows[:, col] > 0 if col < 2 else slice(None)  # log axes start after the first update
            ax.plot(rows[keep, col], rows[keep, 3], lw=1.2, label=label)
    axes[0].set(xlabel="epochs (passes over the data), log scale", xscale="log", title="loss against epochs")
    axes[1].set(xlabel="updates (iterations), log scale", xscale="log", title="loss against updates")
    axes[2].set(xlabel="training time (s): measuring excluded, first step includes compiling", title="loss against wall time")
    for ax in axes:
        ax.set(ylabel="training loss (cross-entropy, all N samples)", yscale="log")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle(f"Batch GD vs SGD (batch 1) vs mini-batch ({MINI_BATCH}) on {n} digits, same network, SGD {LEARNING_RATE}")
    fig.tight_layout()
    r.figure(fig, "loss_curves.png")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 4.6))
    bs = np.array([row[0] for row in noise_rows[:-1]], float)
    ax.loglog(bs, [row[2] for row in noise_rows[:-1]], "o", ms=7, label="measured (random batches, NumPy gradients)")
    ax.loglog(SLOPE_BATCHES, rms**2, "x", ms=9, mew=2, color="black",
              label=f"measured (Keras gradients): std slope {slope:.2f}")
    grid = np.unique(np.concatenate([np.geomspace(1, n - 1, 200), bs]))
    ax.loglog(grid, sigma2 / grid * (n - grid) / (n - 1), "-", label="sigma^2 / b * (N - b) / (N - 1)")
    ax.loglog(grid, sigma2 / grid, ":", color="gray", label="sigma^2 / b (sampling with replacement)")
    ax.set(xlabel="batch size b", ylabel="E ||g_B - g||^2", title="mini-batch gradient noise falls as 1/b (0 at b = N)",
           ylim=(noise_rows[-2][3] / 5, sigma2 * 2))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    r.figure(fig, "gradient_noise.png")
    plt.close(fig)

    gd = train_rows[-1]
    r.note(f"An epoch is one pass over the N = {n} samples and takes ceil(N / batch) iterations, the last batch "
           "holding the remainder. Per epoch, SGD with batch 1 makes the most progress because it makes N "
           "updates; per update, batch GD is the most accurate because its gradient is exact; a mini-batch is "
           "the compromise -- its gradient noise falls as 1/b while each update stays cheap, which is why "
           "it is the usual choice. The wall-time panel depends on the machine and on Keras's fixed costs: "
           f"batch GD's {gd[8]:.0f} ms per update here is mostly Keras's per-epoch overhead (each update is a "
           "new pass over the data), not arithmetic, and batch 1 pays a per-step overhead N times per epoch.")
    return r.result()


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
