"""Overfitting and regularisation (과적합, 규제).

Reproduces: the book's overfitting experiment -- a deep network (6 hidden layers of
100 ReLU units) trained on a small training subset (300 samples) until it memorises
it, so that training and test accuracy part -- and the cures the notes list, each
on the same network and data: L2 ``R(W) = sum W^2``, L1 ``R(W) = sum |W|``, elastic
net ``R(W) = sum beta W^2 + |W|``, max-norm and dropout (table of train/test gaps
and figures). The penalties are recomputed by hand from the trained weights and
compared with what Keras adds to the loss, ``L(W) = 1/N sum L_i + lambda R(W)``;
dropout is shown on at training (a random half of the units silenced, the rest
scaled up) and off at inference. In full mode, the notes' own dropout example --
the Reuters 10000-256-128-46 network with Dropout(0.5) -- against the same network
without dropout, on a small subset of the newswires.
Source: notes 002 (6. 과적합을 막는 방법들: data, model size, L1/L2, dropout; the
Reuters dropout model), notes 004 (Regularization: L2, L1, elastic net, max norm,
dropout; lambda and underfitting), notes 003 (Dropout: on in training, off at test);
Saito, *Deep Learning from Scratch* (밑바닥부터 시작하는 딥러닝) section 6.4.
"""

from __future__ import annotations

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "Overfitting and regularisation (과적합, 규제)"
ORDER = 10
SOURCE = "notes 002 section 6 (과적합, dropout, Reuters model), notes 004 (Regularization), notes 003 (Dropout); Saito section 6.4"

# The book's overfitting set-up (Saito 6.4.1): 300 training samples, 6 hidden
# layers of 100 ReLU units with He initialisation, plain SGD. The book uses
# learning rate 0.01 for 201 epochs; 0.03 with batch 50 overfits in fewer steps,
# which keeps the recipe inside its time budget.
SUBSET = 300
HIDDEN = (100,) * 6
LEARNING_RATE, BATCH = 0.03, 50
QUICK_STEPS, FULL_STEPS = 200, 400      # SGD updates per model (6 updates = one pass over the 300 samples)
CHECKPOINTS = 10                        # accuracy and loss recorded this many times during training
# One strength per regulariser: strong enough to change the weights visibly, not so
# strong that the network underfits. The book's weight decay lambda = 0.1 with its
# penalty 1/2 lambda sum W^2 would be l2 = 0.05 here; in a trial run on this data it
# left the training accuracy near 0.84, the underfitting the notes warn about.
VARIANTS = {
    "none": {},
    "L2": {"l2": 0.02},
    "L1": {"l1": 0.002},
    "elastic net": {"l1": 0.001, "l2": 0.005},   # notes: lambda = l1, beta = l2 / l1 = 5
    "max-norm": {"max_norm": 1.5},               # each unit's incoming weights: ||w||_2 <= 1.5
    "dropout": {"dropout": 0.2},                 # the book's dropout ratio for this experiment
}
# The notes' Reuters example (full mode, when the files are present): the zoo's
# reuters_mlp with and without its Dropout(0.5), Adam, batch 128, on a subset of
# the newswires, 10 epochs.
REUTERS_SUBSET, REUTERS_EPOCHS = 1000, 10
REUTERS_CURVE_TEST = 1000  # test documents measured after each epoch (the final numbers use all 2246)


def accuracy_and_loss(model, x, y, x_test=None, y_test=None):
    """Accuracy and mean cross-entropy in inference mode (dropout off), computed from the outputs.

    With ``x_test, y_test`` too, both sets go through the model in one call and
    ``((train accuracy, train loss), (test accuracy, test loss))`` is returned.
    """
    if x_test is None:
        return _accuracy_and_loss(np.asarray(model(x, training=False), dtype=np.float64), y)
    p = np.asarray(model(np.concatenate([x, x_test]), training=False), dtype=np.float64)
    return _accuracy_and_loss(p[: len(x)], y), _accuracy_and_loss(p[len(x):], y_test)


def _accuracy_and_loss(p, y):
    return float(np.mean(p.argmax(axis=1) == y)), float(np.mean(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))))


def kernels(model):
    import keras

    return [np.asarray(layer.kernel, np.float64) for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def penalty_by_hand(model, l1=0.0, l2=0.0):
    """lambda R(W) of the notes over every kernel: l1 sum |W| + l2 sum W^2 (biases are not penalised)."""
    return sum(l1 * np.abs(w).sum() + l2 * (w**2).sum() for w in kernels(model))


def train_recording(model, x, y, x_test, y_test, *, steps, batch, checkpoints, seed=0):
    """Train with ``model.fit`` for ``steps`` updates and record train/test accuracy and loss.

    The data is a shuffled, repeated ``tf.data`` pipeline cut into ``checkpoints``
    Keras "epochs" of ``steps // checkpoints`` updates (one pass over the data is
    ``len(x) / batch`` updates); after each, a callback measures the model in
    inference mode.

    Returns:
        A dict of lists: ``step``, ``train_acc``, ``test_acc``, ``train_loss``, ``test_loss``.
    """
    import keras
    import tensorflow as tf

    curves = {k: [] for k in ("step", "train_acc", "test_acc", "train_loss", "test_loss")}

    def record(step):
        (tr_acc, tr_loss), (te_acc, te_loss) = accuracy_and_loss(model, x, y, x_test, y_test)
        for key, value in zip(curves, (step, tr_acc, te_acc, tr_loss, te_loss)):
            curves[key].append(value)

    per = steps // checkpoints
    record(0)
    data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed).batch(batch).repeat()
    callback = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: record((epoch + 1) * per))
    model.fit(data, epochs=checkpoints, steps_per_epoch=per, shuffle=False, verbose=0, callbacks=[callback])
    return curves


def run(out_dir, quick=True):
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.model_selection import train_test_split

    import zoo

    r = Recipe("regularization", out_dir, title=TITLE, source=SOURCE, quick=quick)
    keras.utils.set_random_seed(0)

    # -----------------------------------------------------------------------
    # Step 1. A small training subset: 300 of the 1437 digits training images
    # (stratified), and the full 360-image test split.
    # -----------------------------------------------------------------------
    (x_all, y_all), (x_test, y_test) = zoo.datasets.load("digits")
    x_all, x_test = x_all.reshape(len(x_all), -1), x_test.reshape(len(x_test), -1)
    x, _, y, _ = train_test_split(x_all, y_all, train_size=SUBSET, stratify=y_all, random_state=0)
    steps = QUICK_STEPS if quick else FULL_STEPS

    # -----------------------------------------------------------------------
    # Step 2. The same network, the same initial weights (seed), the same batches;
    # only the regulariser changes.
    # -----------------------------------------------------------------------
    models, curves, rows = {}, {}, []
    for name, kwargs in VARIANTS.items():
        model = zoo.create_model("dense_classifier", input_dim=64, num_classes=10, hidden_units=HIDDEN,
                                 kernel_initializer="he_normal", optimizer="sgd", learning_rate=LEARNING_RATE,
                                 seed=0, **kwargs)
        curves[name] = train_recording(model, x, y, x_test, y_test, steps=steps, batch=BATCH, checkpoints=CHECKPOINTS)
        models[name] = model
        c = curves[name]
        ws = np.concatenate([w.ravel() for w in kernels(model)])
        rows.append([name, ", ".join(f"{k}={v:g}" for k, v in kwargs.items()) or "-", c["train_acc"][-1], c["test_acc"][-1],
                     c["train_acc"][-1] - c["test_acc"][-1], c["train_loss"][-1], c["test_loss"][-1],
                     float(np.sum(ws**2)), float(np.mean(np.abs(ws) < 1e-3)),
                     max(float(np.linalg.norm(w, axis=0).max()) for w in kernels(model))])
    r.table(f"Digits, {SUBSET} training samples, 64-{HIDDEN[0]}x{len(HIDDEN)}-10 ReLU (He), SGD {LEARNING_RATE}, "
            f"batch {BATCH}, {steps} updates ({steps * BATCH // SUBSET} passes); accuracy and loss in inference mode",
            ["regulariser", "setting", "train accuracy", "test accuracy", "gap (train - test)", "train loss (CE)",
             "test loss (CE)", "sum W^2", "fraction |w| < 1e-3", "largest unit norm ||W[:, j]||"], rows)
    by = {row[0]: row for row in rows}

    # Overfitting: without any regulariser the network memorises the 300 samples
    # and its test accuracy stays well below; the test loss is many times the
    # training loss.
    none = by["none"]
    r.check_at_least("no regulariser: training accuracy on the 300 samples (memorised)", none[2], 0.98)
    r.check_at_least("no regulariser: overfitting gap, train - test accuracy", none[4], 0.03)
    r.check_at_least("no regulariser: test loss / training loss", none[6] / none[5], 2.0)
    # Every regulariser holds the network back from fitting the training set as tightly.
    looser = [n for n in VARIANTS if n != "none" and by[n][5] > none[5]]
    r.check("every regulariser leaves a higher training loss than none (it fits the training set less tightly)",
            len(looser) == len(VARIANTS) - 1, expected=f"{len(VARIANTS) - 1} of {len(VARIANTS) - 1}",
            measured=", ".join(f"{n} {by[n][5]:.3f}" for n in VARIANTS))

    # -----------------------------------------------------------------------
    # Step 3. What Keras adds to the loss is the notes' lambda R(W). For each
    # penalty we recompute it from the trained kernels, and check that the loss
    # Keras reports is the mean cross-entropy plus that term:
    #     L(W) = 1/N sum_i L_i + lambda R(W)
    # Elastic net: the notes' lambda sum (beta W^2 + |W|) is Keras's L1L2 with
    # l1 = lambda and l2 = lambda beta.
    # -----------------------------------------------------------------------
    for name in ("L2", "L1", "elastic net"):
        model, kwargs = models[name], VARIANTS[name]
        keras_penalty = float(sum(np.asarray(v) for v in model.losses))
        by_hand = penalty_by_hand(model, **kwargs)
        formula = " + ".join(f"{v:g} sum " + ("|W|" if k == "l1" else "W^2") for k, v in kwargs.items())
        r.check_close(f"{name}: Keras's regularisation loss == {formula}", keras_penalty, by_hand, atol=0.0, rtol=1e-5)
        reported = model.evaluate(x, y, batch_size=len(x), verbose=0)[0]
        ce = accuracy_and_loss(model, x, y)[1]
        r.check_close(f"{name}: loss reported by evaluate() == mean cross-entropy + lambda R(W)", reported, ce + by_hand,
                      atol=1e-4, rtol=1e-4)
    # What each penalty does to the weights.
    r.check_at_most("L2 shrinks the weights: sum W^2 with L2 / without", by["L2"][7] / none[7], 0.8)
    r.check_at_least("L1 zeroes weights: fraction |w| < 1e-3 with L1 / without", by["L1"][8] / max(none[8], 1e-12), 5.0)
    r.check("elastic net does both: smaller sum W^2 and more near-zero weights than none",
            by["elastic net"][7] < none[7] and by["elastic net"][8] > 2 * none[8], expected="both",
            measured=f"sum W^2 {by['elastic net'][7]:.1f} vs {none[7]:.1f}; near-zero {by['elastic net'][8]:.3f} vs {none[8]:.3f}")
    c_max = VARIANTS["max-norm"]["max_norm"]
    r.check_at_most(f"max-norm: largest ||W[:, j]||_2 of any unit in any layer (bound {c_max:g})", by["max-norm"][9], c_max * (1 + 1e-5))
    r.check_at_least("... while without the constraint some unit's weight norm exceeds it", none[9], c_max)

    # -----------------------------------------------------------------------
    # Step 4. Dropout: on at training, off at inference. We look inside the
    # trained dropout network at its first hidden layer, before and after its
    # Dropout layer. Keras uses "inverted" dropout: during training each unit is
    # silenced with probability p and the survivors are multiplied by 1/(1 - p), so
    # the expected output equals the input and inference needs no change at all
    # (the book's version instead multiplies by 1 - p at test time; same expectation).
    # -----------------------------------------------------------------------
    model = models["dropout"]
    rate = VARIANTS["dropout"]["dropout"]
    probe = keras.Model(model.input, [model.get_layer("hidden1").output, model.get_layer("hidden1_dropout").output])
    before, after = (np.asarray(t, np.float64) for t in probe(x_test, training=True))
    active = before > 0
    dropped = float(np.mean(after[active] == 0))
    n_active = int(active.sum())
    tol = 4 * np.sqrt(rate * (1 - rate) / n_active)  # 4 binomial standard deviations
    r.check_close(f"training mode: fraction of active units silenced == rate {rate:g} ({n_active} units)", dropped, rate, atol=tol)
    kept = active & (after != 0)
    r.check_close("training mode: survivors are scaled by 1/(1 - rate), max |after - before/(1 - rate)|",
                  np.max(np.abs(after[kept] - before[kept] / (1 - rate))), 0.0, atol=1e-5)
    before_inf, after_inf = (np.asarray(t, np.float64) for t in probe(x_test, training=False))
    r.check_close("inference mode: the Dropout layer passes everything through, max |after - before|",
                  np.max(np.abs(after_inf - before_inf)), 0.0, atol=0.0)
    # 1000 copies of one image in one batch: each row gets its own random mask.
    copies = np.asarray(probe(np.repeat(x_test[:1], 1000, axis=0), training=True)[1], np.float64)
    first = before_inf[0]
    r.check_close("inverted dropout keeps the expectation: mean of 1000 training-mode outputs ~ the input (relative)",
                  np.linalg.norm(copies.mean(axis=0) - first) / np.linalg.norm(first), 0.0, atol=0.1)
    p_train = [np.asarray(model(x_test[:50], training=True)) for _ in range(2)]
    p_infer = [np.asarray(model(x_test[:50], training=False)) for _ in range(2)]
    p_predict = model.predict(x_test[:50], verbose=0)
    r.check("training-mode predictions differ between two calls (new random units dropped)",
            float(np.max(np.abs(p_train[0] - p_train[1]))) > 1e-3, expected="max difference > 1e-3",
            measured=f"{np.max(np.abs(p_train[0] - p_train[1])):.3g}")
    r.check_close("inference: two calls and predict() give identical outputs, max difference",
                  max(np.max(np.abs(p_infer[0] - p_infer[1])), np.max(np.abs(p_infer[0] - p_predict))), 0.0, atol=1e-6)

    # -----------------------------------------------------------------------
    # Step 5 (full mode). The notes' own example: the Reuters newswire network
    # 10000 -> 256 -> Dropout(0.5) -> 128 -> Dropout(0.5) -> 46, against the same
    # network with dropout 0, on 1000 training newswires (the full 2246-document
    # test split). Without the files (ZOO_DATA_DIR) the digits comparison above
    # stands in for it.
    # -----------------------------------------------------------------------
    reuters = None
    if not quick:
        try:
            reuters = zoo.datasets.load("reuters", download=False)
        except (zoo.datasets.DatasetNotFoundError, zoo.datasets.ChecksumError) as exc:
            r.note(f"Reuters part skipped (digits stands in for it): {exc}")
    reuters_curves = {}
    if reuters is not None:
        (xr, yr), (xr_test, yr_test) = reuters
        xr, _, yr, _ = train_test_split(xr, yr, train_size=REUTERS_SUBSET, random_state=0)
        sample = np.random.default_rng(0).choice(len(xr_test), REUTERS_CURVE_TEST, replace=False)
        rr = []
        for label, rate_r in (("no dropout", 0.0), ("Dropout(0.5), the notes' model", 0.5)):
            model = zoo.create_model("reuters_mlp", dropout=rate_r, seed=0)
            per_pass = int(np.ceil(len(xr) / 128))
            c = train_recording(model, xr, yr, xr_test[sample], yr_test[sample], steps=per_pass * REUTERS_EPOCHS,
                                batch=128, checkpoints=REUTERS_EPOCHS)
            reuters_curves[label] = c
            (tr_acc, tr_loss), (te_acc, te_loss) = accuracy_and_loss(model, xr, yr, xr_test, yr_test)
            rr.append([label, tr_acc, te_acc, tr_acc - te_acc, tr_loss, te_loss])
        r.table(f"Reuters, {REUTERS_SUBSET} training newswires, reuters_mlp (Adam, batch 128), {REUTERS_EPOCHS} epochs; "
                f"test = all {len(yr_test)} test newswires",
                ["model", "train accuracy", "test accuracy", "gap", "train loss", "test loss"], rr)
        r.check_at_least("Reuters without dropout: overfitting gap, train - test accuracy", rr[0][3], 0.15)
        r.check("Reuters: Dropout(0.5) narrows the train/test accuracy gap", rr[1][3] < rr[0][3] - 0.03,
                expected="gap(dropout) < gap(none) - 0.03", measured=f"{rr[1][3]:.3f} vs {rr[0][3]:.3f}")
        r.note(f"Reuters (the notes' example) overfits far more than digits: on {REUTERS_SUBSET} newswires the plain "
               f"network reaches {rr[0][1]:.1%} training accuracy against {rr[0][2]:.1%} test. Dropout(0.5) narrows "
               f"the gap to {rr[1][3]:.3f} (test accuracy {rr[1][2]:.1%}); it also slows learning, and after "
               f"{REUTERS_EPOCHS} epochs its curves are still rising (see the figure).")

    # -----------------------------------------------------------------------
    # Figures.
    # -----------------------------------------------------------------------
    # The book's figure: train and test accuracy during training, one panel per
    # regulariser, then the end point of each side by side.
    names = list(VARIANTS)
    fig, axes = plt.subplots(2, 3, figsize=(15, 7.5), sharex=True, sharey=True)
    for ax, n in zip(axes.flat, names):
        c = curves[n]
        ax.plot(c["step"], c["train_acc"], "o--", ms=3, label="train")
        ax.plot(c["step"], c["test_acc"], "s-", ms=3, label="test")
        ax.set(title=f"{n}: gap {by[n][4]:.3f}", ylim=(0, 1.02))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    for ax in axes[-1]:
        ax.set_xlabel("SGD updates")
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy (inference mode)")
    fig.suptitle(f"{SUBSET} digits, {len(HIDDEN)} hidden layers of {HIDDEN[0]}: train and test accuracy during training")
    fig.tight_layout()
    r.figure(fig, "accuracy_curves.png")
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    pos = np.arange(len(names))
    for ax, (i_train, i_test), what in ((axes[0], (2, 3), "accuracy"), (axes[1], (5, 6), "loss (cross-entropy)")):
        ax.bar(pos - 0.2, [by[n][i_train] for n in names], 0.4, label="train")
        ax.bar(pos + 0.2, [by[n][i_test] for n in names], 0.4, label="test")
        ax.set_xticks(pos, names, rotation=15)
        ax.set(ylabel=what, title=f"train vs test {what} after training")
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    for i, n in enumerate(names):
        axes[0].annotate(f"gap\n{by[n][4]:.3f}", (i, max(by[n][2], by[n][3]) + 0.005), ha="center", fontsize=8)
    lo = min(min(by[n][2], by[n][3]) for n in names)
    axes[0].set_ylim(max(0.0, lo - 0.1), 1.06)
    fig.suptitle("The train/test gap per regulariser")
    fig.tight_layout()
    r.figure(fig, "gap.png")
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    bins = np.logspace(-7, 0.5, 60)
    for n in ("none", "L2", "L1", "elastic net"):
        ws = np.abs(np.concatenate([w.ravel() for w in kernels(models[n])]))
        axes[0].hist(np.clip(ws, 1e-7, None), bins=bins, histtype="step", lw=2, label=n)
    axes[0].set(xscale="log", xlabel="|w| (every kernel weight; values below 1e-7 in the first bin)", ylabel="count",
                title="L1 pushes a share of the weights to ~0, L2 shrinks them all")
    axes[0].legend(fontsize=8)
    norms_none = np.concatenate([np.linalg.norm(w, axis=0) for w in kernels(models["none"])])
    norms_max = np.concatenate([np.linalg.norm(w, axis=0) for w in kernels(models["max-norm"])])
    hb = np.linspace(min(norms_none.min(), norms_max.min()) * 0.95, max(norms_none.max(), c_max) * 1.05, 40)
    axes[1].hist(norms_none, bins=hb, alpha=0.6, label="none")
    axes[1].hist(norms_max, bins=hb, alpha=0.6, label=f"max-norm {c_max:g}")
    axes[1].axvline(c_max, color="red", ls="--", lw=1)
    axes[1].set(xlabel="||W[:, j]||_2, one per unit (incoming weights)", ylabel="units", title="max-norm caps every unit's weight vector")
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    r.figure(fig, "weights.png")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(12, 3.6))
    units = np.arange(before_inf.shape[1])
    draws = copies[:2]
    ax.bar(units - 0.3, after_inf[0], 0.3, label="inference (training=False): dropout off", color="0.4")
    for k, (d, color) in enumerate(zip(draws, ("C1", "C2"))):
        ax.bar(units + 0.3 * k, d, 0.3, label=f"training=True, draw {k + 1}: ~{rate:.0%} silenced, rest x 1/(1-{rate:g})", color=color)
    ax.set(xlabel="unit of the first hidden layer", ylabel="activation",
           title="Dropout on one test image: on at training, off at inference")
    ax.legend(fontsize=8)
    fig.tight_layout()
    r.figure(fig, "dropout.png")
    plt.close(fig)

    if reuters_curves:
        fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
        for (label, c), color in zip(reuters_curves.items(), ("C0", "C3")):
            epochs = np.arange(len(c["train_acc"]))
            axes[0].plot(epochs, c["train_acc"], "--", color=color, label=f"{label}: train")
            axes[0].plot(epochs, c["test_acc"], "o-", ms=3, color=color, label=f"{label}: test ({REUTERS_CURVE_TEST} docs)")
            axes[1].plot(epochs, c["train_loss"], "--", color=color, label=f"{label}: train")
            axes[1].plot(epochs, c["test_loss"], "o-", ms=3, color=color, label=f"{label}: test ({REUTERS_CURVE_TEST} docs)")
        axes[0].set(xlabel="epoch", ylabel="accuracy (inference mode)", title="accuracy")
        axes[1].set(xlabel="epoch", ylabel="cross-entropy", title="loss")
        for ax in axes:
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        fig.suptitle(f"The notes' Reuters model with and without dropout, {REUTERS_SUBSET} training newswires")
        fig.tight_layout()
        r.figure(fig, "reuters_dropout.png")
        plt.close(fig)

    gaps = ", ".join(f"{n} {by[n][4]:.3f}" for n in names)
    r.note("Without a regulariser the deep network memorises the 300 training images (training loss near 0) "
           "while its test loss stays many times higher. Each regulariser keeps it from fitting the training "
           "set as tightly: L2 shrinks every weight, L1 pushes a share of them to ~0, elastic net does both, "
           "max-norm caps each unit's weight vector, dropout trains a random sub-network at every step. "
           f"Measured accuracy gaps (train - test): {gaps}. On digits much of the gap is the price of having "
           "only 300 examples, which no penalty removes; a stronger penalty closes it by lowering the training "
           "accuracy (underfitting) rather than by raising the test accuracy.")
    return r.result()


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
