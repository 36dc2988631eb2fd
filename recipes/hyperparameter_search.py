"""Hyperparameter search (하이퍼파라미터 탐색).

Reproduces: the book's hyperparameter-validation experiment -- the learning rate
and the weight decay (L2 strength) of a small network sampled at random on a log
scale, each configuration trained on the training data and scored on held-out
validation data, never on the test data -- and the notes' advice that random
sampling beats a regular grid for neural networks "because hyperparameters differ
in how much they affect the final accuracy": with the same budget of B trials a
grid tries only sqrt(B) distinct values of each hyperparameter, random search
tries B. Both searches use ``tuning`` (a ``CVRandomSearch`` on one stratified
validation split, and the same split for every grid point); the test set is used
once, at the end, on the chosen configuration retrained on all the training data.
Source: notes 003 ("하이퍼파라미터 찾기": training / validation / test data; random
sampling rather than grid search); Saito, *Deep Learning from Scratch*
(밑바닥부터 시작하는 딥러닝) section 6.5; Bergstra & Bengio (2012), "Random search
for hyper-parameter optimization", figure 1.
"""

from __future__ import annotations

import math

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "Hyperparameter search (하이퍼파라미터 탐색)"
ORDER = 13
SOURCE = ("notes 003 (하이퍼파라미터 찾기: validation data, random rather than grid); Saito section 6.5; "
          "Bergstra & Bengio 2012")

# The book's set-up, on digits: a 64-100-100-10 ReLU network trained by plain SGD
# on a small training subset (so that each trial is quick), the learning rate and
# the weight decay drawn log-uniformly: 10^U(-4, 0) and 10^U(-8, -2).
HIDDEN = (100, 100)
LEARNING_RATE_RANGE = (1e-4, 1.0)
WEIGHT_DECAY_RANGE = (1e-8, 1e-2)
VALIDATION_FRACTION = 0.2
BATCH_SIZE = 16
# Each trial is a new model (Keras traces it anew, about half a second), so the
# budget, not the epochs, sets the time: quick is a 2 x 2 grid against 4 random
# trials, full a 4 x 4 grid against 16.
QUICK = {"samples": 300, "grid": 2, "epochs": 6, "decades": 2, "test_bar": 0.75}
FULL = {"samples": 600, "grid": 4, "epochs": 10, "decades": 4, "test_bar": 0.85}


def build(hp):
    """The search space: two hyperparameters on a log scale, the model from the zoo."""
    import zoo

    learning_rate = hp.Float("learning_rate", *LEARNING_RATE_RANGE, sampling="log")
    weight_decay = hp.Float("weight_decay", *WEIGHT_DECAY_RANGE, sampling="log")
    return zoo.create_model("dense_classifier", input_dim=64, num_classes=10, hidden_units=HIDDEN,
                            optimizer="sgd", learning_rate=learning_rate, l2=weight_decay)


def spearman(a, b) -> float:
    """Rank correlation (ties are rare here: scores of distinct configurations)."""
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def run(out_dir, quick=True):
    import keras_tuner
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import zoo
    from tuning import CVRandomSearch, cross_validate, holdout

    r = Recipe("hyperparameter_search", out_dir, title=TITLE, source=SOURCE, quick=quick)
    cfg = QUICK if quick else FULL
    budget = cfg["grid"] ** 2

    # -----------------------------------------------------------------------
    # Step 1. Three kinds of data. The parameters (weights) learn from the training
    # data; the hyperparameters are chosen on validation data held out of it; the
    # test data measures the final model once. One stratified split, the same for
    # both searches, so they are compared on equal terms.
    # -----------------------------------------------------------------------
    (x_all, y_all), (x_test, y_test) = zoo.datasets.load("digits")
    rng = np.random.default_rng(0)
    keep = np.sort(rng.permutation(len(y_all))[:cfg["samples"]])
    x, y = x_all[keep].reshape(-1, 64), y_all[keep]
    x_test = x_test.reshape(-1, 64)
    split = holdout(VALIDATION_FRACTION, seed=0)
    (tr, va), = split.split(x, y)
    r.table("The three data sets", ["set", "samples", "used for"],
            [["training", len(tr), "the weights (fit)"], ["validation", len(va), "choosing the hyperparameters"],
             ["test", len(y_test), "one final measurement of the chosen model"]])

    # -----------------------------------------------------------------------
    # Step 2. Random search: B configurations, learning rate and weight decay each
    # drawn log-uniformly (KerasTuner's sampling="log"), scored on the validation split.
    # -----------------------------------------------------------------------
    tuner = CVRandomSearch(build, objective="val_accuracy", max_trials=budget, cv=split, seed=0,
                           directory=r.out_dir / "runs", project_name="random", overwrite=True, default_first=False)
    tuner.search(x, y, epochs=cfg["epochs"], batch_size=BATCH_SIZE, verbose=0)
    random_points = [(row["hyperparameters"]["learning_rate"], row["hyperparameters"]["weight_decay"],
                      row["score"]) for row in tuner.results()]

    # -----------------------------------------------------------------------
    # Step 3. Grid search with the same budget: sqrt(B) values of each, at the
    # centres of sqrt(B) equal cells of the same log scales (a fair grid: no point
    # wasted on the edges), each point trained and scored the same way.
    # -----------------------------------------------------------------------
    n = cfg["grid"]
    lr_grid, wd_grid = (np.logspace(math.log10(lo), math.log10(hi), 2 * n + 1)[1::2]
                        for lo, hi in (LEARNING_RATE_RANGE, WEIGHT_DECAY_RANGE))
    grid_points = []
    for lr in lr_grid:
        for wd in wd_grid:
            hp = keras_tuner.HyperParameters()
            hp.values.update({"learning_rate": float(lr), "weight_decay": float(wd)})
            cv = cross_validate(lambda hp=hp: build(hp), x, y, cv=split, epochs=cfg["epochs"], batch_size=BATCH_SIZE,
                                seed=0)
            grid_points.append((float(lr), float(wd), cv.mean["val_accuracy"]))

    # -----------------------------------------------------------------------
    # Step 4. What each search explored, and what it found.
    # -----------------------------------------------------------------------
    distinct = lambda pts, i: len({round(math.log10(p[i]), 6) for p in pts})  # noqa: E731
    r.check("grid: sqrt(B) distinct values of each hyperparameter",
            distinct(grid_points, 0) == n and distinct(grid_points, 1) == n,
            expected=f"{n} learning rates, {n} weight decays",
            measured=f"{distinct(grid_points, 0)}, {distinct(grid_points, 1)}")
    r.check("random: B distinct values of each hyperparameter",
            distinct(random_points, 0) == budget and distinct(random_points, 1) == budget,
            expected=f"{budget} learning rates, {budget} weight decays",
            measured=f"{distinct(random_points, 0)}, {distinct(random_points, 1)}")
    decades = set(np.floor(np.log10([p[0] for p in random_points])).astype(int))
    r.check("random learning rates are drawn on a log scale: they spread over the decades of 1e-4 ... 1",
            len(decades) >= cfg["decades"], expected=f"samples in >= {cfg['decades']} of the 4 decades",
            measured=", ".join(f"{v:.2g}" for v in sorted(p[0] for p in random_points)))
    every = grid_points + random_points
    rho_lr = spearman([p[0] for p in every], [p[2] for p in every])
    rho_wd = spearman([p[1] for p in every], [p[2] for p in every])
    r.check("the hyperparameters differ in importance: |rank correlation| of the score with the learning rate "
            "exceeds that with the weight decay", abs(rho_lr) > abs(rho_wd) + 0.2,
            expected="|rho(lr)| > |rho(wd)| + 0.2", measured=f"rho(lr) = {rho_lr:.2f}, rho(wd) = {rho_wd:.2f}")
    # Projected on the important axis the grid has sqrt(B) points and wide holes
    # between them; B random points fill that axis more finely (Bergstra & Bengio).
    def widest_gap(points):
        lo, hi = (math.log10(v) for v in LEARNING_RATE_RANGE)
        cuts = sorted([lo, hi, *(math.log10(p[0]) for p in points)])
        return max(b - a for a, b in zip(cuts, cuts[1:]))

    r.check("random search covers the important axis more finely: widest gap between tried learning rates "
            "(decades, range ends included)", widest_gap(random_points) < widest_gap(grid_points),
            expected=f"< {widest_gap(grid_points):.2f} (the grid's)", measured=f"{widest_gap(random_points):.2f}")
    best_random = max(random_points, key=lambda p: p[2])
    best_grid = max(grid_points, key=lambda p: p[2])
    r.table(f"Best of each search (budget {budget} trials, {cfg['epochs']} epochs, validation accuracy)",
            ["search", "learning rate", "weight decay", "validation accuracy"],
            [["grid", best_grid[0], best_grid[1], best_grid[2]], ["random", best_random[0], best_random[1], best_random[2]]])

    # -----------------------------------------------------------------------
    # Step 5. The test data, once: the chosen configuration (the best on
    # validation, over both searches) retrained on all the training data.
    # -----------------------------------------------------------------------
    chosen = max([*random_points, *grid_points], key=lambda p: p[2])
    hp = keras_tuner.HyperParameters()
    hp.values.update({"learning_rate": chosen[0], "weight_decay": chosen[1]})
    import keras

    keras.utils.set_random_seed(0)
    model = build(hp)
    model.fit(x, y, epochs=cfg["epochs"], batch_size=BATCH_SIZE, verbose=0)
    test_accuracy = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    r.check_at_least("test accuracy of the chosen configuration (measured once, after the choice)", test_accuracy,
                     cfg["test_bar"])
    r.note(f"Chosen on validation data: learning rate {chosen[0]:.3g}, weight decay {chosen[1]:.3g} "
           f"(validation accuracy {chosen[2]:.3f}); its one test measurement: {test_accuracy:.3f}. Choosing by the "
           "test score instead would make that score optimistic: it would no longer measure unseen data.")

    # The figure: where each search looked (colour = validation accuracy), and the
    # score against the important hyperparameter, as in Bergstra & Bengio's figure 1.
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), layout="constrained")
    for ax, points, name in ((axes[0], grid_points, "grid"), (axes[1], random_points, "random")):
        p = np.array(points)
        sc = ax.scatter(p[:, 0], p[:, 1], c=p[:, 2], cmap="viridis", vmin=0, vmax=1, s=60, edgecolor="k")
        ax.set(xscale="log", yscale="log", xlim=(LEARNING_RATE_RANGE[0] / 2, LEARNING_RATE_RANGE[1] * 2),
               ylim=(WEIGHT_DECAY_RANGE[0] / 3, WEIGHT_DECAY_RANGE[1] * 3),
               xlabel="learning rate", ylabel="weight decay (L2)", title=f"{name} search: {len(points)} trials")
        best = max(points, key=lambda q: q[2])
        ax.scatter([best[0]], [best[1]], marker="*", s=250, color="red", zorder=3, label=f"best {best[2]:.2f}")
        ax.legend(loc="lower left", fontsize=8)
    fig.colorbar(sc, ax=axes[1], label="validation accuracy")
    ax = axes[2]
    for points, name, marker in ((grid_points, "grid", "s"), (random_points, "random", "o")):
        p = np.array(sorted(points))
        ax.plot(p[:, 0], p[:, 2], marker, label=f"{name} ({distinct(points, 0)} distinct learning rates)", alpha=0.8)
    ax.set(xscale="log", xlabel="learning rate", ylabel="validation accuracy", ylim=(0, 1.02),
           title="score against the important hyperparameter")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    r.figure(fig, "grid_vs_random.png")
    plt.close(fig)
    r.note(f"The score depends mostly on the learning rate (rank correlation {rho_lr:.2f}) and hardly on the weight "
           f"decay ({rho_wd:.2f}). The grid spends its {budget} trials on {n} learning rates, repeating each for weight "
           f"decays that barely matter; random search tries {budget} learning rates with the same budget. Which one "
           "finds the better point in a single small search depends on where the grid's few values happen to fall "
           f"(here: grid {best_grid[2]:.3f}, random {best_random[2]:.3f}); random search's advantage is the finer "
           "coverage of the axes that matter, which grows with the budget and the number of unimportant hyperparameters.")
    return r.result()


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
