"""Hyperparameter search (하이퍼파라미터 탐색).

Reproduces: the notes' advice for neural networks -- "rather than a regular search
such as grid search, sample at random and narrow the range step by step, because
hyperparameters differ in how much they affect the final accuracy" -- as an
experiment on real data, repeated over many seeds. A small ReLU network on digits
has two hyperparameters on log scales: the learning rate, which decides almost
everything, and the weight decay (L2), which in its range barely matters. With the
same budget of B trials a grid tries only sqrt(B) distinct learning rates, random
search tries B (Bergstra & Bengio 2012, figure 1). For every seed (a new
training/validation split, new initial weights, a new grid offset and new random
draws) both searches spend the same budget and we compare the best validation
accuracy each found; then one round of narrowing: the range around the best
random trials is searched again with the same budget. Choices use the validation
data only; the test data measures each seed's final choice once.

Each search trains hundreds of networks, so the trials are trained side by side
by one vectorised NumPy SGD loop (:func:`train_many`), checked against Keras:
the zoo's ``dense_classifier`` fitted by Keras with the same start, batches,
learning rate and L2 ends with the same weights.
Source: notes 003 ("하이퍼파라미터 찾기": training / validation / test data; random
sampling, then narrowing the range, rather than grid search); Saito, *Deep
Learning from Scratch* (밑바닥부터 시작하는 딥러닝) section 6.5; Bergstra & Bengio
(2012), "Random search for hyper-parameter optimization", figure 1.
"""

from __future__ import annotations

import math

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "Hyperparameter search (하이퍼파라미터 탐색)"
ORDER = 15
SOURCE = ("notes 003 (하이퍼파라미터 찾기: validation data; random sampling and narrowing rather than grid); "
          "Saito section 6.5; Bergstra & Bengio 2012")

# A 64-32-10 ReLU network on digits, plain SGD, batch 32, 5 epochs on 500 training
# images, scored on 500 validation images (both drawn anew for each seed from the
# digits training split; the test split is never seen while choosing).
HIDDEN = 32
BATCH_SIZE = 32
EPOCHS = 5
TRAIN_SAMPLES, VALIDATION_SAMPLES = 500, 500
# The learning rate spans 1e-4 ... 10 (five decades: the scale is not known in
# advance); the weight decay 1e-8 ... 1e-3, a range in which it barely changes the
# score (step 1 measures that rather than assuming it).
LOG_LR = (-4.0, 1.0)
LOG_WD = (-8.0, -3.0)
# Narrowing: the best quarter of the random trials spans the new range. The "good
# region" of the reference scan: learning rates within 0.02 of the scan's best.
KEEP_FRACTION = 0.25
SCAN_POINTS = 26
GOOD_MARGIN = 0.02
# Budget 16 (a 4 x 4 grid against 16 random trials); quick: 12 seeds, full: 30.
QUICK = {"seeds": 12, "grid": 4, "test_bar": 0.85}
FULL = {"seeds": 30, "grid": 4, "test_bar": 0.85}


def glorot_uniform(rng, fan_in: int, fan_out: int) -> np.ndarray:
    """Keras's default kernel initializer: U(-l, l) with l = sqrt(6 / (fan_in + fan_out))."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out))


def train_many(x, y, learning_rates, weight_decays, *, hidden=HIDDEN, epochs=EPOCHS, batch_size=BATCH_SIZE,
               seed=0, init=None, shuffle=True):
    """Train one ``d -> hidden (ReLU) -> classes (softmax)`` network per (learning rate, weight decay), at once.

    Every network starts from the same weights and sees the same batches, so trials
    differ only in their hyperparameters. Each step is plain SGD on the batch's
    mean cross-entropy plus ``weight_decay * sum(W**2)`` over both kernels, as
    Keras's ``SGD`` with ``kernel_regularizer=L2(weight_decay)`` computes it.
    A learning rate that diverges leaves NaN weights (scored as wrong answers).

    Args:
        x, y: training features (n, d) and integer labels (n,).
        learning_rates, weight_decays: one value per network (same length).
        hidden, epochs, batch_size: network width and the training schedule.
        seed: seeds the initial weights and the batch order.
        init: optional starting weights ``[W1, b1, W2, b2]`` (e.g. from a Keras model).
        shuffle: reshuffle the samples every epoch (``False``: in order, as Keras's ``shuffle=False``).

    Returns:
        ``[W1, b1, W2, b2]`` with a leading axis of one entry per network.

    Raises:
        ValueError: the two hyperparameter lists differ in length or are empty.
    """
    # float32, as Keras computes: half the memory traffic of float64 for the same answers.
    lr = np.asarray(learning_rates, np.float32).reshape(-1, 1, 1)
    wd = np.asarray(weight_decays, np.float32).reshape(-1, 1, 1)
    if len(lr) != len(wd) or not len(lr):
        raise ValueError(f"learning_rates and weight_decays must be non-empty and of one length; "
                         f"got {len(lr)} and {len(wd)}")
    x = np.asarray(x, np.float32)
    n, d = x.shape
    classes = int(y.max()) + 1
    rng = np.random.default_rng(seed)
    if init is None:
        init = [glorot_uniform(rng, d, hidden), np.zeros(hidden), glorot_uniform(rng, hidden, classes),
                np.zeros(classes)]
    w1, b1, w2, b2 = (np.repeat(np.asarray(v, np.float32)[None], len(lr), axis=0) for v in init)
    b1, b2 = b1[:, None, :], b2[:, None, :]
    onehot = np.eye(classes, dtype=np.float32)[y]
    with np.errstate(all="ignore"):  # diverging learning rates overflow; their NaNs are the result
        for _ in range(epochs):
            order = rng.permutation(n) if shuffle else np.arange(n)
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                xb = x[idx]
                z1 = np.matmul(xb, w1) + b1
                h = np.maximum(z1, 0.0)
                s = np.matmul(h, w2) + b2
                p = np.exp(s - s.max(axis=2, keepdims=True))
                p /= p.sum(axis=2, keepdims=True)
                d2 = (p - onehot[idx]) / len(idx)                  # d(mean cross-entropy)/d(logits)
                d1 = np.matmul(d2, w2.transpose(0, 2, 1)) * (z1 > 0)
                grad_w2 = np.matmul(h.transpose(0, 2, 1), d2) + (2 * wd) * w2
                grad_w1 = np.matmul(xb.T, d1) + (2 * wd) * w1
                w2 -= lr * grad_w2
                b2 -= lr * d2.sum(axis=1, keepdims=True)
                w1 -= lr * grad_w1
                b1 -= lr * d1.sum(axis=1, keepdims=True)
    return [w1, b1[:, 0], w2, b2[:, 0]]


def accuracy_many(params, x, y) -> np.ndarray:
    """Accuracy of every network trained by :func:`train_many` on ``(x, y)``; NaN outputs count as wrong."""
    w1, b1, w2, b2 = params
    with np.errstate(all="ignore"):
        s = np.matmul(np.maximum(np.matmul(np.asarray(x, np.float32), w1) + b1[:, None], 0.0), w2) + b2[:, None]
    ok = np.isfinite(s).all(axis=2)
    return np.mean((s.argmax(axis=2) == y) & ok, axis=1)


def grid_points(n: int, offset: tuple[float, float]):
    """An n x n grid over the two log ranges: cell centres shifted together by ``offset`` (in cells, in [-0.5, 0.5))."""
    axes = [lo + (np.arange(n) + 0.5 + o) * (hi - lo) / n for (lo, hi), o in zip((LOG_LR, LOG_WD), offset)]
    log_lr, log_wd = np.meshgrid(*axes, indexing="ij")
    return log_lr.ravel(), log_wd.ravel()


def narrowed_range(log_values, scores, keep: int):
    """The [min, max] of the ``keep`` best trials' values: the next round's range."""
    best = np.argsort(-np.asarray(scores), kind="stable")[:keep]
    return float(np.min(log_values[best])), float(np.max(log_values[best]))


def search_one_seed(seed, data, budget, grid_n):
    """Grid, random, one narrowed random round and a fine learning-rate scan on one seed's split.

    Every score is a validation accuracy; the test data is touched once, for the
    network finally chosen (the best of the narrowed round).
    """
    from sklearn.model_selection import train_test_split

    x, y, x_test, y_test = data
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, train_size=TRAIN_SAMPLES, test_size=VALIDATION_SAMPLES,
                                              stratify=y, random_state=seed)
    rng = np.random.default_rng(1000 + seed)
    # A grid's position relative to the best region is luck; a random offset per
    # seed (the same spacing) keeps one lucky or unlucky alignment from deciding.
    g_lr, g_wd = grid_points(grid_n, tuple(rng.uniform(-0.5, 0.5, 2)))
    r_lr, r_wd = rng.uniform(*LOG_LR, budget), rng.uniform(*LOG_WD, budget)
    # The scan is the reference, not a search: the learning rate every 0.2 decade
    # at the smallest weight decay, to locate the good region.
    s_lr = np.linspace(*LOG_LR, SCAN_POINTS)
    log_lr = np.concatenate([g_lr, r_lr, s_lr])
    log_wd = np.concatenate([g_wd, r_wd, np.full(SCAN_POINTS, LOG_WD[0])])
    scores = accuracy_many(train_many(x_tr, y_tr, 10**log_lr, 10**log_wd, seed=seed), x_va, y_va)
    grid, rand, scan = scores[:budget], scores[budget:2 * budget], scores[2 * budget:]

    keep = max(2, round(KEEP_FRACTION * budget))
    lr_range, wd_range = narrowed_range(r_lr, rand, keep), narrowed_range(r_wd, rand, keep)
    n_lr, n_wd = rng.uniform(*lr_range, budget), rng.uniform(*wd_range, budget)
    params = train_many(x_tr, y_tr, 10**n_lr, 10**n_wd, seed=seed)
    narrow = accuracy_many(params, x_va, y_va)
    chosen = int(np.argmax(narrow))
    test = accuracy_many([p[chosen:chosen + 1] for p in params], x_test, y_test)[0]
    good = s_lr[scan >= scan.max() - GOOD_MARGIN]
    return {"grid": (g_lr, g_wd, grid), "random": (r_lr, r_wd, rand), "narrowed": (n_lr, n_wd, narrow),
            "scan": (s_lr, scan), "good": (float(good.min()), float(good.max())), "lr_range": lr_range,
            "wd_range": wd_range, "test": float(test), "split": (x_tr, y_tr, x_va, y_va)}


def run(out_dir, quick=True):
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import zoo

    r = Recipe("hyperparameter_search", out_dir, title=TITLE, source=SOURCE, quick=quick)
    cfg = QUICK if quick else FULL
    grid_n = cfg["grid"]
    budget = grid_n**2
    (x_all, y_all), (x_test, y_test) = zoo.datasets.load("digits")
    x_all, x_test = x_all.reshape(len(x_all), -1), x_test.reshape(len(x_test), -1)
    r.note(f"Set-up: a 64-{HIDDEN}-10 ReLU network, plain SGD, batch {BATCH_SIZE}, {EPOCHS} epochs on "
           f"{TRAIN_SAMPLES} digits training images, scored on {VALIDATION_SAMPLES} validation images, both drawn "
           f"anew for every seed from the {len(y_all)}-image digits training split; the {len(y_test)} test images "
           "are used only to measure each seed's final choice. Learning rate 10^U(-4, 1), weight decay "
           "10^U(-8, -3); the grid is shifted by a random offset (same spacing) per seed. This differs from "
           "the notes' source (Saito 6.5: MNIST, a deeper network, learning rate "
           "10^U(-6, -2), weight decay 10^U(-8, -4)) to keep hundreds of trainings cheap.")

    # -----------------------------------------------------------------------
    # Step 0. The vectorised trainer is Keras's SGD: the zoo's dense_classifier,
    # fitted by Keras for 2 epochs without shuffling, and train_many started from
    # the same weights with the same learning rate and L2 end with the same weights.
    # -----------------------------------------------------------------------
    x_chk, y_chk = x_all[:TRAIN_SAMPLES], y_all[:TRAIN_SAMPLES]
    lr_chk, wd_chk = 0.3, 1e-4
    model = zoo.create_model("dense_classifier", input_dim=64, num_classes=10, hidden_units=(HIDDEN,),
                             optimizer="sgd", learning_rate=lr_chk, l2=wd_chk, seed=0)
    start = [np.asarray(w, float) for w in model.get_weights()]
    model.fit(x_chk, y_chk, epochs=2, batch_size=BATCH_SIZE, shuffle=False, verbose=0)
    ours = train_many(x_chk, y_chk, [lr_chk], [wd_chk], epochs=2, init=start, shuffle=False)
    diff = max(float(np.max(np.abs(np.asarray(k, float) - o[0]))) for k, o in zip(model.get_weights(), ours))
    r.check_close(f"the vectorised trainer == Keras fit of zoo dense_classifier (SGD {lr_chk}, L2 {wd_chk:g}, "
                  f"2 epochs, {len(y_chk) // BATCH_SIZE + 1} batches each): max abs weight difference", diff, 0.0,
                  atol=1e-4)
    keras.backend.clear_session(free_memory=False)

    # -----------------------------------------------------------------------
    # Step 1. The premise: the hyperparameters differ in importance. On seed 0's
    # split: the fine learning-rate scan (weight decay at its smallest), and a
    # fine weight-decay scan at the scan's best learning rate.
    # -----------------------------------------------------------------------
    data = (x_all, y_all, x_test, y_test)
    runs = [search_one_seed(s, data, budget, grid_n) for s in range(cfg["seeds"])]
    x_tr, y_tr, x_va, y_va = runs[0]["split"]
    scan_lr, scan = runs[0]["scan"]
    best_log_lr = float(scan_lr[np.argmax(scan)])
    scan_wd = np.linspace(*LOG_WD, 11)
    by_wd = accuracy_many(train_many(x_tr, y_tr, np.full(scan_wd.size, 10**best_log_lr), 10**scan_wd, seed=0),
                          x_va, y_va)
    lr_effect = float(np.ptp(scan))
    wd_effect = float(np.ptp(by_wd))
    r.check("premise: the learning rate matters, the weight decay barely (range of validation accuracy over each "
            "axis, the other fixed)", lr_effect >= 0.5 and wd_effect <= 0.05,
            expected="learning rate >= 0.5, weight decay <= 0.05",
            measured=f"learning rate {lr_effect:.3f}, weight decay {wd_effect:.3f}")

    # -----------------------------------------------------------------------
    # Step 2. Grid against random, the same budget, over every seed: which finds
    # the better validation accuracy, by how much, and how often.
    # -----------------------------------------------------------------------
    best_grid = np.array([run_["grid"][2].max() for run_ in runs])
    best_random = np.array([run_["random"][2].max() for run_ in runs])
    gain = best_random - best_grid
    wins, losses = int(np.sum(gain > 0)), int(np.sum(gain < 0))
    r.table(f"Best validation accuracy found with a budget of {budget} trials, over {len(runs)} seeds",
            ["search", "distinct learning rates tried", "mean", "std", "min", "max"],
            [["grid", grid_n, best_grid.mean(), best_grid.std(), best_grid.min(), best_grid.max()],
             ["random", budget, best_random.mean(), best_random.std(), best_random.min(), best_random.max()]])
    # Paired per seed (same split, same start): the win count and the median gain.
    # The mean is reported too; it is pulled down by random search's tail (a seed
    # whose random draws all miss the narrow good region, which an evenly spaced
    # grid cannot do).
    r.check(f"random search beats the grid with the same budget ({budget} trials), paired over {len(runs)} seeds: "
            "random finds the better best validation accuracy in more seeds, and the median gain > 0",
            wins > losses and float(np.median(gain)) > 0, expected="wins > losses, median gain > 0",
            measured=f"random wins {wins}, grid wins {losses}, ties {len(runs) - wins - losses}; gain median "
                     f"{np.median(gain):+.3f}, mean {gain.mean():+.3f} +- {gain.std():.3f} (std over seeds), "
                     f"worst {gain.min():+.3f}")

    # -----------------------------------------------------------------------
    # Step 3. Narrowing: the best quarter of the random trials spans a new,
    # smaller range, searched again with the same budget.
    # -----------------------------------------------------------------------
    best_narrow = np.array([run_["narrowed"][2].max() for run_ in runs])
    narrow_gain = best_narrow - best_random
    width = np.array([run_["lr_range"][1] - run_["lr_range"][0] for run_ in runs])
    good = lambda scores, ref: float(np.mean(scores >= ref - 0.02))  # noqa: E731
    frac_random = np.mean([good(run_["random"][2], b) for run_, b in zip(runs, best_narrow)])
    frac_narrow = np.mean([good(run_["narrowed"][2], b) for run_, b in zip(runs, best_narrow)])
    overlaps = [run_["lr_range"][0] <= run_["good"][1] and run_["good"][0] <= run_["lr_range"][1] for run_ in runs]
    r.table(f"One round of narrowing (range of the best {max(2, round(KEEP_FRACTION * budget))} random trials, "
            f"{budget} new random trials), over {len(runs)} seeds",
            ["round", "learning-rate range (decades, mean)", "best validation accuracy (mean +- std)",
             "trials within 0.02 of the seed's best"],
            [["1: whole range", LOG_LR[1] - LOG_LR[0], f"{best_random.mean():.3f} +- {best_random.std():.3f}",
              f"{frac_random:.0%}"],
             ["2: narrowed", width.mean(), f"{best_narrow.mean():.3f} +- {best_narrow.std():.3f}",
              f"{frac_narrow:.0%}"]])
    r.check("narrowing finds a score at least as good: mean over seeds of best(round 2) - best(round 1) >= 0",
            narrow_gain.mean() >= 0, expected=">= 0",
            measured=f"{narrow_gain.mean():+.4f} +- {narrow_gain.std():.4f} (round 2 better in "
                     f"{int(np.sum(narrow_gain > 0))}, worse in {int(np.sum(narrow_gain < 0))} of {len(runs)})")
    r.check("narrowing spends the budget where the good region is: share of trials within 0.02 of the best, "
            "round 2 >= 2 x round 1", frac_narrow >= 2 * frac_random, expected=f">= {2 * frac_random:.0%}",
            measured=f"{frac_narrow:.0%} (round 1: {frac_random:.0%})")
    r.check(f"the narrowed learning-rate range overlaps the good region of the fine scan (within {GOOD_MARGIN} of "
            "its best) in at least 75% of seeds (narrowing fails where round 1 missed it)",
            np.mean(overlaps) >= 0.75, expected=">= 75%",
            measured=f"{np.mean(overlaps):.0%} ({sum(overlaps)} of {len(runs)})")

    # -----------------------------------------------------------------------
    # Step 4. The test data, once per seed: the chosen network (the best of the
    # narrowed round on validation) measured on the 360 test images.
    # -----------------------------------------------------------------------
    tests = np.array([run_["test"] for run_ in runs])
    r.check(f"test accuracy of each seed's final choice (median over {len(runs)} seeds; measured once, after "
            "choosing)", float(np.median(tests)) >= cfg["test_bar"], expected=f">= {cfg['test_bar']}",
            measured=f"median {np.median(tests):.3f}, mean {tests.mean():.3f} +- {tests.std():.3f}, "
                     f"worst {tests.min():.3f}")
    tail = ("; independent draws can leave a hole exactly where the good learning rates are, which an evenly "
            "spaced grid cannot" if best_random.min() < best_grid.min() else "")
    r.note(f"Over {len(runs)} seeds with {budget} trials each, the best validation accuracy was {best_grid.mean():.3f} "
           f"+- {best_grid.std():.3f} for the grid and {best_random.mean():.3f} +- {best_random.std():.3f} for random "
           f"search (random better in {wins} seeds, the grid in {losses}; worst seed: grid {best_grid.min():.3f}, "
           f"random {best_random.min():.3f}{tail}). The score depends on the learning rate "
           f"(range {lr_effect:.2f} across it) and hardly on the weight decay ({wd_effect:.3f}), so the grid's "
           f"{budget} trials test only {grid_n} learning rates, each repeated for weight decays that do not matter, "
           f"while random search tests {budget}. One round of narrowing to the best quarter's range "
           f"({width.mean():.1f} decades of learning rate on average instead of {LOG_LR[1] - LOG_LR[0]:.0f}) "
           f"raised the best to {best_narrow.mean():.3f}; the final choices scored {tests.mean():.3f} +- "
           f"{tests.std():.3f} on the test data.")

    # The figures: seed 0's trials over the score-against-learning-rate curve;
    # the best of each search per seed; narrowing in the (lr, wd) plane.
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.4), layout="constrained")
    ax = axes[0]
    ax.plot(10**scan_lr, scan, "-", color="0.5", label=f"fine scan, weight decay 1e{LOG_WD[0]:.0f}")
    ax.axvspan(10**runs[0]["good"][0], 10**runs[0]["good"][1], color="tab:green", alpha=0.15,
               label=f"good region (within {GOOD_MARGIN} of the scan's best)")
    for key, marker, colour in (("grid", "s", "tab:blue"), ("random", "o", "tab:orange")):
        lr_, _, sc = runs[0][key]
        ax.plot(10**lr_, sc, marker, color=colour, ms=7, alpha=0.8, ls="none",
                label=f"{key}: {len(np.unique(np.round(lr_, 9)))} distinct learning rates")
    ax.set(xscale="log", xlabel="learning rate", ylabel="validation accuracy", ylim=(0, 1.02),
           title=f"seed 0: {budget} trials each")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    ax = axes[1]
    seeds = np.arange(len(runs))
    ax.plot(seeds, best_grid, "s", color="tab:blue", label=f"grid: {best_grid.mean():.3f} +- {best_grid.std():.3f}")
    ax.plot(seeds, best_random, "o", color="tab:orange",
            label=f"random: {best_random.mean():.3f} +- {best_random.std():.3f}")
    ax.plot(seeds, best_narrow, "^", color="tab:green",
            label=f"random, narrowed: {best_narrow.mean():.3f} +- {best_narrow.std():.3f}")
    ax.set(xlabel="seed (split, initial weights, draws)", ylabel="best validation accuracy found",
           title=f"best of {budget} trials, per seed")
    # Below the axes: inside, any corner can hide a seed's point.
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    ax.grid(alpha=0.3)
    ax = axes[2]
    for key, marker in (("random", "o"), ("narrowed", "^")):
        lr_, wd_, sc = runs[0][key]
        sc_ = ax.scatter(10**lr_, 10**wd_, c=sc, cmap="viridis", vmin=0, vmax=1, marker=marker, s=60,
                         edgecolor="k", label="round 1 (whole range)" if key == "random" else "round 2 (narrowed)")
    (lo, hi), (wlo, whi) = runs[0]["lr_range"], runs[0]["wd_range"]
    ax.add_patch(plt.Rectangle((10**lo, 10**wlo), 10**hi - 10**lo, 10**whi - 10**wlo, fill=False, ec="red", lw=1.5))
    ax.set(xscale="log", yscale="log", xlim=(10**LOG_LR[0], 10**LOG_LR[1]), ylim=(10**LOG_WD[0], 10**LOG_WD[1]),
           xlabel="learning rate", ylabel="weight decay (L2)", title="seed 0: narrowing (red box: round 2's range)")
    ax.legend(fontsize=8, loc="lower left")
    fig.colorbar(sc_, ax=ax, label="validation accuracy")
    r.figure(fig, "grid_vs_random.png")
    plt.close(fig)
    return r.result()


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
