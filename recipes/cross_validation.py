"""Cross-validation (교차 검증).

Reproduces: the notes' k-fold cross-validation -- with little data one validation
split gives a noisy choice, so the training data is cut into k folds, k models are
trained, each validated on the fold it did not see, and a hyperparameter value is
scored by the mean of the k validation scores (their standard deviation says how
far two values must differ before the difference means anything). Here it chooses
the L2 strength (weight decay) of a small network on a small digits training set:
``tuning.cross_validate`` on stratified, shuffled, seeded folds for each value;
the value with the best mean is retrained on all the training data and the test
data is used once, at the end. Then the notes' reason itself, measured: over many
random partitions of 200 images, how much one hold-out split's estimate scatters
against the k-fold mean, how far each lies from the true accuracy, and how often
each picks the truly better of two learning rates.
Source: notes 004 (hyperparameters are set by people; "데이터가 그리 크지 않은 경우에는
Cross-validation": the data cut into k parts); Chollet, *Deep Learning with Python* section 4.3 (K-fold validation);
Saito, *Deep Learning from Scratch* (밑바닥부터 시작하는 딥러닝) section 6.5
(validation data, never the test data, for hyperparameters).
"""

from __future__ import annotations

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "Cross-validation (교차 검증)"
ORDER = 16
SOURCE = "notes 004 (Cross-validation with little data, k parts); Chollet section 4.3 (K-fold validation); Saito 6.5"

# A zoo dense_classifier (64-64-64-10, ReLU, Adam) on a small stratified subset of
# the digits training split: small enough that the L2 strength matters and that
# one validation split would be noisy. The L2 values span "none" to "far too much"
# (1e-1 dominates the loss and underfits).
HIDDEN = (64, 64)
LEARNING_RATE = 1e-2
BATCH_SIZE = 32
# Every fit costs about 1.4 s of CPU (mostly Keras tracing the new model's
# training step), whatever the epochs, so the number of fits sets the time:
# quick mode is 2 folds x 3 values (+ the final fit), full mode 5 folds x 5 values.
QUICK = {"samples": 240, "folds": 2, "l2": (0.0, 1e-3, 1e-1), "epochs": 15, "test_bar": 0.85, "repeats": 30}
FULL = {"samples": 400, "folds": 5, "l2": (0.0, 1e-4, 1e-3, 1e-2, 1e-1), "epochs": 20, "test_bar": 0.9,
        "repeats": 60}

# The notes' claim, measured: with little data (200 digits images) one hold-out
# split (20%: 40 images) against 5-fold cross-validation, repeated over many random
# partitions of the same 200 images. Two SGD learning rates of the 64-32-10 ReLU
# network of the hyperparameter-search recipe, 40 epochs; the "true" accuracy of
# each is that of the network trained on all 200 images, measured on the other
# 1237 digits training images (never the test split). Hundreds of trainings, so
# they run side by side in that recipe's vectorised trainer (checked there
# against Keras's fit).
SMALL_DATA = 200
SMALL_FOLDS = 5
SMALL_HOLDOUT = 0.2
SMALL_EPOCHS = 40
SMALL_RATES = (0.1, 0.3)
TRUTH_SEEDS = 5


def holdout_against_kfold(x, y, x_truth, y_truth, repeats):
    """Estimates of two configurations' accuracy from one hold-out split and from k-fold CV, per partition.

    Returns:
        ``(holdout, kfold, truth)``: arrays of shape (repeats, 2) of estimated
        validation accuracy for each learning rate in :data:`SMALL_RATES`, and
        their true accuracies (2,) (trained on all of ``x``, measured on ``x_truth``,
        averaged over :data:`TRUTH_SEEDS` initial weights).
    """
    from recipes.hyperparameter_search import accuracy_many, train_many
    from tuning import holdout, make_splitter

    rates, decays = list(SMALL_RATES), [0.0] * len(SMALL_RATES)

    def score(train, val, seed):
        params = train_many(x[train], y[train], rates, decays, epochs=SMALL_EPOCHS, seed=seed)
        return accuracy_many(params, x[val], y[val])

    held, folded = [], []
    for rep in range(repeats):
        (tr, va), = holdout(SMALL_HOLDOUT, seed=rep).split(x, y)
        held.append(score(tr, va, rep))
        folds = list(make_splitter(SMALL_FOLDS, seed=rep).split(x, y))
        folded.append(np.mean([score(tr, va, 100 * rep + i) for i, (tr, va) in enumerate(folds)], axis=0))
    truth = np.mean([accuracy_many(train_many(x, y, rates, decays, epochs=SMALL_EPOCHS, seed=10_000 + s), x_truth,
                                   y_truth) for s in range(TRUTH_SEEDS)], axis=0)
    return np.array(held), np.array(folded), truth


def run(out_dir, quick=True):
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import zoo
    from tuning import cross_validate, make_splitter

    r = Recipe("cross_validation", out_dir, title=TITLE, source=SOURCE, quick=quick)
    cfg = QUICK if quick else FULL
    k = cfg["folds"]

    # -----------------------------------------------------------------------
    # Step 1. The folds. ``cv=k`` is scikit-learn's StratifiedKFold(k, shuffle=True)
    # with our seed: every sample is validated exactly once, and every validation
    # fold holds every class in about the training set's proportions (a split in
    # the order of the data would not: digits and iris come sorted by class in
    # places, and Keras's validation_split takes the last rows).
    # -----------------------------------------------------------------------
    (x_all, y_all), (x_test, y_test) = zoo.datasets.load("digits")
    rng = np.random.default_rng(0)
    keep = np.sort(rng.permutation(len(y_all))[:cfg["samples"]])
    x, y = x_all[keep].reshape(len(keep), -1), y_all[keep]
    x_test = x_test.reshape(len(x_test), -1)
    splits = list(make_splitter(k, seed=0).split(x, y))
    per_class = np.array([np.bincount(y[va], minlength=10) for _, va in splits])
    r.table(f"Samples of each class in each of the {k} validation folds",
            ["fold", *(str(c) for c in range(10)), "total"],
            [[i + 1, *row.tolist(), int(row.sum())] for i, row in enumerate(per_class)])

    # -----------------------------------------------------------------------
    # Step 2. Cross-validate each L2 strength: k fresh models per value (no
    # weights shared between folds), each scored on its held-out fold.
    # -----------------------------------------------------------------------
    results = {}
    for l2 in cfg["l2"]:
        results[l2] = cross_validate("dense_classifier", x, y, cv=k, epochs=cfg["epochs"], batch_size=BATCH_SIZE,
                                     seed=0, hidden_units=HIDDEN, learning_rate=LEARNING_RATE, l2=l2)
    rows = []
    for l2, cv in results.items():
        scores = cv.scores("val_accuracy")
        rows.append([l2, *scores, cv.mean["val_accuracy"], cv.std["val_accuracy"], cv.mean["accuracy"]])
    r.table(f"{k}-fold validation accuracy for each L2 strength ({cfg['epochs']} epochs, {len(y)} training samples)",
            ["L2", *(f"fold {i + 1}" for i in range(k)), "mean", "std", "training accuracy (mean)"], rows)
    # -----------------------------------------------------------------------
    # Step 3. The choice: the best mean. Too much weight decay underfits -- the
    # training accuracy itself falls -- and the k-fold mean shows it clearly.
    # -----------------------------------------------------------------------
    means = {l2: cv.mean["val_accuracy"] for l2, cv in results.items()}
    chosen = max(means, key=lambda v: (means[v], -v))  # ties: the smaller penalty
    strongest = max(cfg["l2"])
    r.check("the strongest L2 underfits: its mean training accuracy is the lowest of all values",
            results[strongest].mean["accuracy"] == min(cv.mean["accuracy"] for cv in results.values()),
            expected=f"L2 = {strongest:g} lowest",
            measured=", ".join(f"{v:g}: {cv.mean['accuracy']:.3f}" for v, cv in results.items()))
    margin = means[chosen] - means[strongest]
    r.check("the chosen L2 beats the strongest by more than its fold-to-fold standard deviation",
            margin > results[chosen].std["val_accuracy"], expected=f"> {results[chosen].std['val_accuracy']:.3f}",
            measured=f"{margin:.3f} (chosen L2 = {chosen:g})")

    # -----------------------------------------------------------------------
    # Step 4. The test data, once: the chosen value retrained on all the training
    # data (the folds were only for choosing), then a single evaluation.
    # -----------------------------------------------------------------------
    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(0)
    model = zoo.create_model("dense_classifier", input_dim=x.shape[1], num_classes=10, hidden_units=HIDDEN,
                             learning_rate=LEARNING_RATE, l2=chosen, seed=0)
    model.fit(x, y, epochs=cfg["epochs"], batch_size=BATCH_SIZE, verbose=0)
    test_accuracy = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    r.check_at_least(f"test accuracy of the chosen L2 = {chosen:g}, retrained on all {len(y)} samples "
                     "(measured once, after the choice)", test_accuracy, cfg["test_bar"])
    gap = abs(test_accuracy - means[chosen])
    r.check("the k-fold mean predicts the test accuracy: they differ by less than 0.08",
            gap < 0.08, expected="< 0.08",
            measured=f"{gap:.3f} (CV {means[chosen]:.3f} +- {results[chosen].std['val_accuracy']:.3f}, "
                     f"test {test_accuracy:.3f})")

    # The figure: each fold's score (dots), the mean +- std (the line and band).
    values = list(cfg["l2"])
    xs = np.arange(len(values))
    fig, ax = plt.subplots(figsize=(7.5, 4.4), layout="constrained")
    mean = np.array([means[v] for v in values])
    std = np.array([results[v].std["val_accuracy"] for v in values])
    train = np.array([results[v].mean["accuracy"] for v in values])
    for i, v in enumerate(values):
        ax.scatter(np.full(k, xs[i]) + np.linspace(-0.08, 0.08, k), results[v].scores("val_accuracy"), s=18,
                   color="gray", alpha=0.7, label="one fold's validation accuracy" if i == 0 else None)
    ax.errorbar(xs, mean, yerr=std, marker="o", capsize=4, label=f"{k}-fold mean +- std (validation)")
    ax.plot(xs, train, "s--", alpha=0.7, label="training accuracy (mean over folds)")
    ax.axhline(test_accuracy, color="red", lw=1, ls=":", label=f"test accuracy of the chosen L2 ({test_accuracy:.3f})")
    ax.annotate("chosen", (xs[values.index(chosen)], means[chosen]), xytext=(0, -40), textcoords="offset points",
                ha="center", color="red", arrowprops={"arrowstyle": "->", "color": "red"})
    ax.set(xticks=xs, xticklabels=[f"{v:g}" for v in values], xlabel="L2 strength (weight decay)", ylabel="accuracy",
           title=f"Choosing the L2 strength by {k}-fold cross-validation")
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    r.figure(fig, "l2_by_kfold.png")
    plt.close(fig)
    r.note(f"Chosen by the {k}-fold mean: L2 = {chosen:g} (validation accuracy {means[chosen]:.3f} +- "
           f"{results[chosen].std['val_accuracy']:.3f}); one test measurement afterwards: {test_accuracy:.3f}. The "
           "fold-to-fold spread is what a single validation split would have left to chance: values whose means "
           "differ by less than about one standard deviation are not told apart by this data.")
    # -----------------------------------------------------------------------
    # Step 5. Why k folds with little data (the notes' reason): over many random
    # partitions of the same 200 images, how far does each estimate wander, how
    # far is it from the true accuracy, and how often does it pick the truly
    # better of two learning rates?
    # -----------------------------------------------------------------------
    rng = np.random.default_rng(1)
    order = rng.permutation(len(y_all))
    small, rest = order[:SMALL_DATA], order[SMALL_DATA:]
    x_flat = x_all.reshape(len(x_all), -1)
    held, folded, truth = holdout_against_kfold(x_flat[small], y_all[small], x_flat[rest], y_all[rest],
                                                cfg["repeats"])
    better = int(np.argmax(truth))
    spread = {"hold-out": held.std(axis=0), "k-fold": folded.std(axis=0)}
    rmse = {"hold-out": np.sqrt(np.mean((held - truth) ** 2, axis=0)),
            "k-fold": np.sqrt(np.mean((folded - truth) ** 2, axis=0))}
    # A tie (equal estimates: 40 validation images give steps of 0.025) is settled
    # by a coin flip, so it counts as half a right pick.
    picks = {name: float(np.mean(est[:, better] > est[:, 1 - better]) + 0.5 * np.mean(est[:, 0] == est[:, 1]))
             for name, est in (("hold-out", held), ("k-fold", folded))}
    rows = []
    for name, est in (("hold-out", held), ("k-fold", folded)):
        for j, rate in enumerate(SMALL_RATES):
            rows.append([name, rate, truth[j], est[:, j].mean(), spread[name][j], rmse[name][j],
                         picks[name] if j == better else ""])
    r.table(f"One hold-out split ({SMALL_HOLDOUT:.0%} of {SMALL_DATA} images) against {SMALL_FOLDS}-fold CV, over "
            f"{cfg['repeats']} random partitions (SGD learning rates {SMALL_RATES}, {SMALL_EPOCHS} epochs; "
            "true accuracy "
            f"on the other {len(rest)} training images)",
            ["estimate", "learning rate", "true accuracy", "mean estimate", "std over partitions",
             "RMS error against the truth", "picks the better rate"], rows)
    ratio = float(np.mean(spread["k-fold"] / spread["hold-out"]))
    r.check(f"with {SMALL_DATA} images, {SMALL_FOLDS}-fold CV's estimate wanders less than one hold-out split's: "
            "std over partitions, k-fold / hold-out (mean over the two learning rates)", ratio <= 0.7,
            expected="<= 0.7", measured=f"{ratio:.2f} (k-fold {spread['k-fold'].round(4).tolist()}, hold-out "
                                      f"{spread['hold-out'].round(4).tolist()})")
    r.check("k-fold CV's estimate is closer to the true accuracy: RMS error k-fold < hold-out, for both rates",
            bool(np.all(rmse["k-fold"] < rmse["hold-out"])), expected="k-fold < hold-out",
            measured=f"k-fold {rmse['k-fold'].round(4).tolist()}, hold-out {rmse['hold-out'].round(4).tolist()}")
    r.check(f"k-fold CV picks the truly better learning rate ({SMALL_RATES[better]}) more often than one split "
            f"(true accuracies {truth[0]:.3f} and {truth[1]:.3f})", picks["k-fold"] > picks["hold-out"],
            expected="k-fold > hold-out", measured=f"k-fold {picks['k-fold']:.0%}, hold-out {picks['hold-out']:.0%} "
                                                   f"of {cfg['repeats']} partitions")

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    for j, ax in enumerate(axes):
        bins = np.linspace(min(held[:, j].min(), folded[:, j].min()) - 0.01,
                           max(held[:, j].max(), folded[:, j].max()) + 0.01, 25)
        ax.hist(held[:, j], bins=bins, alpha=0.6, label=f"one hold-out split: std {spread['hold-out'][j]:.3f}")
        ax.hist(folded[:, j], bins=bins, alpha=0.6, label=f"{SMALL_FOLDS}-fold mean: std {spread['k-fold'][j]:.3f}")
        ax.axvline(truth[j], color="red", ls="--", label=f"true accuracy {truth[j]:.3f}")
        ax.set(xlabel="estimated validation accuracy", ylabel=f"partitions (of {cfg['repeats']})",
               title=f"learning rate {SMALL_RATES[j]}: {SMALL_DATA} images, {cfg['repeats']} random partitions")
        ax.set_ylim(top=ax.get_ylim()[1] * 1.4)  # room for the legend above the bars
        ax.legend(fontsize=8, loc="upper left")
        ax.grid(alpha=0.3)
    r.figure(fig, "holdout_vs_kfold.png")
    plt.close(fig)
    r.note(f"The notes' reason for cross-validation with little data, measured: on {SMALL_DATA} images the "
           f"estimate from one {SMALL_HOLDOUT:.0%} hold-out split ({int(SMALL_DATA * SMALL_HOLDOUT)} images) "
           f"scattered with std {spread['hold-out'].mean():.3f} over random partitions, the {SMALL_FOLDS}-fold mean "
           f"with {spread['k-fold'].mean():.3f}; k-fold picked the truly better learning rate in "
           f"{picks['k-fold']:.0%} of the partitions, one split in {picks['hold-out']:.0%}. This part uses plain SGD "
           "and a 64-32-10 network trained by the hyperparameter-search recipe's vectorised trainer, not the "
           "Adam network above, so that hundreds of trainings stay cheap.")
    return r.result()


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
