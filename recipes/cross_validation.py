"""Cross-validation (교차 검증).

Reproduces: the notes' k-fold cross-validation -- with little data one validation
split gives a noisy choice, so the training data is cut into k folds, k models are
trained, each validated on the fold it did not see, and a hyperparameter value is
scored by the mean of the k validation scores (their standard deviation says how
far two values must differ before the difference means anything). Here it chooses
the L2 strength (weight decay) of a small network on a small digits training set:
``tuning.cross_validate`` on stratified, shuffled, seeded folds for each value;
the value with the best mean is retrained on all the training data and the test
data is used once, at the end.
Source: notes 004 (hyperparameters are set by people; "데이터가 그리 크지 않은 경우에는
Cross-validation": the data cut into k parts); Chollet, *Deep Learning with Python* section 4.3 (K-fold validation);
Saito, *Deep Learning from Scratch* (밑바닥부터 시작하는 딥러닝) section 6.5
(validation data, never the test data, for hyperparameters).
"""

from __future__ import annotations

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "Cross-validation (교차 검증)"
ORDER = 14
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
QUICK = {"samples": 240, "folds": 2, "l2": (0.0, 1e-3, 1e-1), "epochs": 15, "test_bar": 0.85}
FULL = {"samples": 400, "folds": 5, "l2": (0.0, 1e-4, 1e-3, 1e-2, 1e-1), "epochs": 20, "test_bar": 0.9}


def run(out_dir, quick=True):
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import zoo
    from tuning import cross_validate, make_splitter
    from tuning.cv import check_splits

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
    splits = check_splits(make_splitter(k, seed=0), x, y)
    validated = np.sort(np.concatenate([va for _, va in splits]))
    r.check("every training sample is validated exactly once over the k folds",
            np.array_equal(validated, np.arange(len(y))), expected=f"{len(y)} samples, each once",
            measured=f"{len(validated)} validations of {len(np.unique(validated))} distinct samples")
    per_class = np.array([np.bincount(y[va], minlength=10) for _, va in splits])
    r.check("each validation fold holds every class (stratified)", bool((per_class > 0).all()),
            expected="10 classes in each fold", measured=f"{(per_class > 0).sum(axis=1).tolist()} classes per fold")
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
    first = results[cfg["l2"][0]]
    scores = np.array(first.scores("val_accuracy"))
    r.check_close("the reported mean and std are those of the k fold scores (std with ddof=0)",
                  [first.mean["val_accuracy"], first.std["val_accuracy"]], [scores.mean(), scores.std()], atol=1e-9)

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
    return r.result()


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
