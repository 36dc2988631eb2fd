"""Overfitting: more data, a smaller model, deeper or wider, data augmentation (과적합).

Reproduces: the notes' first two cures for overfitting and two of their open
questions, each measured on scikit-learn's handwritten digits (8 x 8 images, 10
classes) with the zoo's ``dense_classifier``:

1. More data (notes 002, 6-1): a learning curve -- the same network trained to
   memorisation on 50 ... 1437 training images; the train/test gap shrinks and the
   test accuracy rises as the training set grows.
2. A smaller model (notes 002, 6-2): a capacity sweep over the width of one hidden
   layer on a small training set whose labels are partly wrong (the "noise" the note
   says a network learns from too little data); the widest network memorises the
   wrong labels, and a smaller one chosen on a validation set does better on the test
   set. The same sweep with clean labels is the contrast: where nothing overfits,
   a smaller model buys nothing.
3. Deeper or wider at an equal parameter count (notes 004: "is stacking layers
   necessary, or could we add nodes to each layer instead?"; "if far fewer parameters
   give a similar result, no complex model is needed").
4. Data augmentation (notes 001 lists it among the hyperparameters): every training
   digit shifted by one pixel in four directions, with the same number of updates.

Source: notes 002 (6. 과적합을 막는 방법들: 6-1 data, 6-2 model complexity), notes 004
(얼마나 깊어야 하나: depth against width, fewer parameters), notes 001 (Data augmentation).
"""

from __future__ import annotations

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "Overfitting: more data, a smaller model, deeper or wider, augmentation (과적합)"
ORDER = 11
SOURCE = ("notes 002 section 6 (6-1 데이터의 양을 늘리기, 6-2 모델의 복잡도 줄이기), notes 004 (얼마나 깊어야 하나: "
          "depth vs width), notes 001 (Data augmentation)")

# One training recipe for every network here: Adam at 5e-3, full-batch updates
# (the whole training set in every step), a fixed number of steps -- enough for
# the wide networks to reach 100 % training accuracy, i.e. to memorise. Full-batch
# steps keep each model to a second or two and make the runs exactly repeatable.
LEARNING_RATE, STEPS = 5e-3, 200
WIDE = (256, 256)                                   # the "complex" network: 85,000 weights for a few hundred images
SIZES_QUICK, SIZES_FULL = (50, 200, 800), (50, 100, 200, 400, 800, 1437)
# The capacity sweep: one hidden layer of each width, on SMALL training images whose
# labels are NOISE-corrupted (each picked label replaced by a different, random class;
# validation labels come from the same noisy source, test labels stay clean).
SMALL, NOISE, VALIDATION = 300, 0.25, 300
WIDTHS_QUICK, WIDTHS_FULL = (4, 16, 512), (4, 8, 16, 32, 64, 512)
# Deeper against wider: about 19,400 parameters each (parameter counts within 2 %).
SHAPES = {"wide: 1 x 256": (256,), "deep: 3 x 81": (81, 81, 81), "deeper: 6 x 55": (55,) * 6}
SMALL_MODEL = (16,)                                 # about 1,200 parameters, 16 x fewer
AUGMENT_N = 300                                     # training images for the augmentation experiment
SHIFTS = ((0, 1), (0, -1), (1, 0), (-1, 0))         # one pixel right, left, down, up (zeros fill in)


# ---------------------------------------------------------------------------
# Shared by the overfitting, regularisation and batch-normalisation recipes.
# ---------------------------------------------------------------------------
def digits():
    """Digits as flat vectors: ``(x_train, y_train), (x_test, y_test)``, 1437 / 360 images, pixels in [0, 1]."""
    import zoo

    (x, y), (x_test, y_test) = zoo.datasets.load("digits")
    return (x.reshape(len(x), -1), y), (x_test.reshape(len(x_test), -1), y_test)


def corrupt_labels(y, fraction, seed, num_classes=10):
    """Replace a ``fraction`` of the labels, chosen at random, by a different random class.

    Args:
        y: integer labels.
        fraction: share of the labels to corrupt, in [0, 1].
        seed: seed of the choice, so a run repeats.
        num_classes: number of classes.

    Returns:
        A corrupted copy of ``y``; every corrupted label is wrong.

    Raises:
        ValueError: ``fraction`` outside [0, 1].
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction!r}")
    rng = np.random.default_rng(seed)
    y = np.array(y, copy=True)
    picked = rng.choice(len(y), int(round(fraction * len(y))), replace=False)
    y[picked] = (y[picked] + rng.integers(1, num_classes, len(picked))) % num_classes
    return y


def small_split(x_all, y_all, n, seed, *, noise=0.0, n_val=0):
    """``n`` stratified training images (and ``n_val`` validation images from the rest), labels corrupted.

    Returns:
        ``(x, y), (x_val, y_val)``; the validation pair is empty when ``n_val`` is 0.
    """
    from sklearn.model_selection import train_test_split

    if n >= len(x_all):
        x, y, rest_x, rest_y = x_all, y_all, x_all[:0], y_all[:0]
    else:
        rest_x, x, rest_y, y = train_test_split(x_all, y_all, test_size=n, stratify=y_all, random_state=seed)
    x_val, y_val = rest_x[:n_val], rest_y[:n_val]
    return ((x, corrupt_labels(y, noise, seed)), (x_val, corrupt_labels(y_val, noise, seed + 1000)))


def train_full_batch(x, y, *, hidden_units=WIDE, seed=0, steps=STEPS, learning_rate=LEARNING_RATE, **kwargs):
    """A fresh ``dense_classifier`` trained by ``steps`` full-batch Adam updates; returns the model.

    The training set is repeated so that one Keras epoch holds many updates (the
    per-epoch overhead would otherwise dominate); with ``shuffle=False`` and the
    batch size equal to the training set, every update sees exactly the whole set.
    """
    import zoo

    model = zoo.create_model("dense_classifier", input_dim=x.shape[1], num_classes=10, hidden_units=hidden_units,
                             learning_rate=learning_rate, seed=seed, **kwargs)
    per_epoch = min(steps, 50)
    model.fit(np.tile(x, (per_epoch, 1)), np.tile(y, per_epoch), batch_size=len(x), epochs=steps // per_epoch,
              shuffle=False, verbose=0)
    return model


def accuracy_and_loss(model, x, y):
    """Accuracy and mean cross-entropy of ``model`` on ``(x, y)`` in inference mode (dropout off)."""
    if len(x) == 0:
        return float("nan"), float("nan")
    p = np.asarray(model(x, training=False), dtype=np.float64)
    return float(np.mean(p.argmax(axis=1) == y)), float(np.mean(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))))


def mean_spread(values):
    """``"mean (min ... max)"`` of a few seeds' values, for a check's measured text."""
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.3f}" if len(v) == 1 else f"{v.mean():.3f} (seeds {v.min():.3f} ... {v.max():.3f})"


def shift_images(images, dy, dx):
    """Shift 2-D images ``(n, h, w)`` by ``dy`` rows and ``dx`` columns; pixels shifted in are 0."""
    out = np.zeros_like(images)
    h, w = images.shape[1:3]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def run(out_dir, quick=True):
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = Recipe("overfitting", out_dir, title=TITLE, source=SOURCE, quick=quick)
    keras.utils.set_random_seed(0)
    (x_all, y_all), (x_test, y_test) = digits()
    seeds = (0,) if quick else (0, 1)   # the capacity sweep's; the learning curve needs one
    r.note(f"Every network here: the zoo's dense_classifier (ReLU, Glorot), Adam at {LEARNING_RATE:g}, {STEPS} "
           f"full-batch updates -- long enough for the wide networks to reach 100 % training accuracy. Digits: "
           f"scikit-learn's 8 x 8 handwritten digits, 1437 training / 360 test images. "
           f"{'Quick mode: one seed and fewer sizes/widths.' if quick else 'Each table names the seeds it averages.'}")

    # -----------------------------------------------------------------------
    # Step 1. More data (notes 002, 6-1): "with little data the model easily learns
    # its particular patterns and noise". The wide network, trained to memorisation
    # on growing subsets of the training images; the test set is fixed.
    # -----------------------------------------------------------------------
    sizes = SIZES_QUICK if quick else SIZES_FULL
    lc = {n: [] for n in sizes}
    for n in sizes:
        for seed in seeds[:1]:
            (x, y), _ = small_split(x_all, y_all, n, seed)
            model = train_full_batch(x, y, seed=seed)
            lc[n].append(accuracy_and_loss(model, x, y) + accuracy_and_loss(model, x_test, y_test))
    lc_mean = {n: np.mean(lc[n], axis=0) for n in sizes}   # train acc, train loss, test acc, test loss
    r.table(f"More data: 64-{WIDE[0]}-{WIDE[1]}-10 trained on n digits (seed {seeds[0]})",
            ["training images", "train accuracy", "test accuracy", "gap (train - test)", "train loss", "test loss"],
            [[n, m[0], m[2], m[0] - m[2], m[1], m[3]] for n, m in lc_mean.items()])
    first, last = lc_mean[sizes[0]], lc_mean[sizes[-1]]
    r.check_at_least("the wide network memorises every training set: lowest training accuracy over n",
                     min(m[0] for m in lc_mean.values()), 0.99)
    gaps = [m[0] - m[2] for m in lc_mean.values()]
    r.check("more data, smaller gap: train - test accuracy never grows with n, and shrinks >= 3 x from the "
            "smallest to the largest set", all(b <= a + 0.01 for a, b in zip(gaps, gaps[1:])) and gaps[-1] * 3 <= gaps[0],
            expected="non-increasing (0.01 slack), last <= first / 3",
            measured=", ".join(f"n={n}: {g:.3f}" for n, g in zip(sizes, gaps)))
    r.check_at_least(f"more data, better test accuracy: n={sizes[-1]} minus n={sizes[0]}", last[2] - first[2], 0.08)
    r.check_at_most(f"more data, lower test loss: n={sizes[-1]} / n={sizes[0]}", last[3] / first[3], 0.5)

    # -----------------------------------------------------------------------
    # Step 2. A smaller model (notes 002, 6-2): "if overfitting is detected, reduce
    # the network's complexity". Widths of one hidden layer on 300 images with 25 %
    # wrong labels (the noise a network should not learn), and the same with clean
    # labels (full mode). The width is picked on a validation set of 300 other
    # images whose labels are as noisy as the training labels; the test labels are
    # clean, so test accuracy says how well the true digits are recognised.
    # -----------------------------------------------------------------------
    widths = WIDTHS_QUICK if quick else WIDTHS_FULL
    label_settings = (NOISE,) if quick else (NOISE, 0.0)
    cap = {}   # (noise, width) -> list over seeds of (train acc, train loss, val acc, val loss, test acc, test loss)
    for noise in label_settings:
        for seed in (seeds if noise else seeds[:1]):   # the clean contrast: one seed
            (x, y), (x_val, y_val) = small_split(x_all, y_all, SMALL, seed, noise=noise, n_val=VALIDATION)
            for w in widths:
                model = train_full_batch(x, y, hidden_units=(w,), seed=seed)
                cap.setdefault((noise, w), []).append(accuracy_and_loss(model, x, y) + accuracy_and_loss(model, x_val, y_val)
                                                      + accuracy_and_loss(model, x_test, y_test))
                cap[(noise, w, "params")] = model.count_params()
    capm = {k: np.mean(v, axis=0) for k, v in cap.items() if len(k) == 2}
    rows = [[f"{noise:.0%}", w, cap[(noise, w, "params")], *capm[(noise, w)][[0, 4]], capm[(noise, w)][0] - capm[(noise, w)][4],
             *capm[(noise, w)][[2, 5]]] for noise in label_settings for w in widths]
    r.table(f"A smaller model: 64-w-10 on {SMALL} digits (wrong labels: mean over seeds {seeds}; clean: seed {seeds[0]}); "
            "train accuracy against the labels "
            "it was trained on (noisy where noise > 0), test labels clean",
            ["wrong training labels", "width w", "parameters", "train accuracy", "test accuracy", "gap",
             "validation accuracy", "test loss"], rows)
    noisy = {w: capm[(NOISE, w)] for w in widths}
    widest = widths[-1]
    # Chosen on validation ACCURACY: with wrong labels in the validation set, its
    # cross-entropy rewards a network for hedging on every image, its accuracy does not.
    chosen = max(widths, key=lambda w: noisy[w][2])
    r.note(f"With {NOISE:.0%} wrong labels the widest network (w = {widest}) fits {noisy[widest][0]:.1%} of its "
           f"training labels -- wrong ones included -- and reaches {noisy[widest][4]:.1%} on the clean test labels; "
           f"the width with the highest validation accuracy, w = {chosen}, fits only {noisy[chosen][0]:.1%} of the training "
           f"labels and reaches {noisy[chosen][4]:.1%} on the test set.")
    r.check_at_least(f"{NOISE:.0%} wrong labels: the widest network (w = {widest}) memorises them, training accuracy",
                     noisy[widest][0], 0.95)
    r.check("a smaller model against that overfitting: the width chosen on validation accuracy is smaller and beats "
            "the widest on test accuracy and test loss", chosen < widest and noisy[chosen][4] > noisy[widest][4] + 0.02
            and noisy[chosen][5] < noisy[widest][5],
            expected="w* < widest; test accuracy +0.02 or more; lower test loss",
            measured=f"w* = {chosen}: accuracy {mean_spread([c[4] for c in cap[(NOISE, chosen)]])} vs "
                     f"{mean_spread([c[4] for c in cap[(NOISE, widest)]])}; loss {noisy[chosen][5]:.3f} vs {noisy[widest][5]:.3f}")
    test_losses = [noisy[w][5] for w in widths]
    r.check("too small underfits: test loss over widths is U-shaped (an interior width beats both ends)",
            min(test_losses[1:-1]) < min(test_losses[0], test_losses[-1]), expected="interior minimum",
            measured=", ".join(f"w={w}: {v:.3f}" for w, v in zip(widths, test_losses)))
    if not quick:
        clean = {w: capm[(0.0, w)] for w in widths}
        best_clean = max(clean[w][4] for w in widths)
        r.check_at_most("contrast, clean labels (nothing to overfit): best test accuracy over widths minus the "
                        "widest network's", best_clean - clean[widest][4], 0.02)
        r.note(f"With clean labels the widest network also reaches 100 % training accuracy, but its test accuracy "
               f"({clean[widest][4]:.1%}) is within {best_clean - clean[widest][4]:.3f} of the best width: "
               "reducing the model helps when it has noise to memorise, which is the note's condition "
               "('if overfitting is detected').")

    # -----------------------------------------------------------------------
    # Step 3. Deeper or wider at an equal number of parameters (notes 004), on all
    # 1437 training images; and a 16 x smaller network for the note's "if far fewer
    # parameters give a similar result".
    # -----------------------------------------------------------------------
    dw_seeds = (0,) if quick else (0, 1)
    shapes = {**SHAPES, f"small: 1 x {SMALL_MODEL[0]}": SMALL_MODEL}
    dw, params = {}, {}
    for label, hidden in shapes.items():
        for seed in dw_seeds:
            model = train_full_batch(x_all, y_all, hidden_units=hidden, seed=seed)
            dw.setdefault(label, []).append(accuracy_and_loss(model, x_all, y_all) + accuracy_and_loss(model, x_test, y_test))
            params[label] = model.count_params()
    r.table(f"Deeper or wider: all 1437 training images, test accuracy over seeds {dw_seeds}",
            ["network", "hidden layers", "parameters", "train accuracy", "test accuracy (mean)", "test accuracy (seeds)",
             "test loss (mean)"],
            [[label, " x ".join(map(str, shapes[label])), params[label], np.mean([d[0] for d in dw[label]]),
              np.mean([d[2] for d in dw[label]]), ", ".join(f"{d[2]:.3f}" for d in dw[label]), np.mean([d[3] for d in dw[label]])]
             for label in shapes])
    equal = list(SHAPES)
    counts = [params[k] for k in equal]
    r.check_at_most("equal budgets: largest / smallest parameter count of the wide, deep and deeper networks",
                    max(counts) / min(counts), 1.02)
    acc = {k: np.mean([d[2] for d in dw[k]]) for k in shapes}
    spread = max(np.ptp([d[2] for d in dw[k]]) for k in equal)
    best_shape = max(equal, key=acc.get)
    deep_best = max(equal[1:], key=acc.get)
    r.check_at_most("deeper is not automatically better (notes 004's question): best deeper network's mean test "
                    f"accuracy minus the one wide layer's, same parameter count ({deep_best})",
                    acc[deep_best] - acc[equal[0]], 0.01)
    small_label = f"small: 1 x {SMALL_MODEL[0]}"
    r.check_at_most(f"far fewer parameters, similar result: {params[equal[0]] / params[small_label]:.0f} x fewer "
                    "parameters cost at most this much test accuracy (best equal-budget mean minus small)",
                    acc[best_shape] - acc[small_label], 0.04)
    verdict = ("the deeper networks are no better than one wide layer" if acc[deep_best] - acc[equal[0]] <= 0.01
               else f"the {deep_best} network is better")
    r.note(f"Deeper or wider at ~{params[equal[0]]:,} parameters: mean test accuracy "
           + ", ".join(f"{k} {acc[k]:.3f}" for k in equal) + f" (spread between seeds up to {spread:.3f}). "
           f"The notes leave the question open; on 8 x 8 digits {verdict}, and a {params[small_label]:,}-parameter "
           f"network comes within {acc[best_shape] - acc[small_label]:.3f} of the best -- the note's 'no need for a "
           "complex model if far fewer parameters give a similar result'. Depth pays on larger, structured inputs "
           "(the ImageNet networks the note cites), which a recipe of this size cannot show.")

    # -----------------------------------------------------------------------
    # Step 4. Data augmentation (notes 001): each of 300 training digits plus four
    # copies shifted by one pixel; the same number of full-batch updates (each
    # update sees all 1500 images).
    # -----------------------------------------------------------------------
    aug_seeds = (0, 1) if quick else (0, 1, 2)
    aug = {"original": [], "with shifted copies": []}
    for seed in aug_seeds:
        (x, y), _ = small_split(x_all, y_all, AUGMENT_N, seed)
        images = x.reshape(-1, 8, 8)
        x_aug = np.concatenate([images] + [shift_images(images, dy, dx) for dy, dx in SHIFTS]).reshape(-1, 64)
        y_aug = np.tile(y, len(SHIFTS) + 1)
        for label, (xx, yy) in (("original", (x, y)), ("with shifted copies", (x_aug, y_aug))):
            model = train_full_batch(xx, yy, seed=seed)
            aug[label].append(accuracy_and_loss(model, x, y) + accuracy_and_loss(model, x_test, y_test))
    r.table(f"Data augmentation: {AUGMENT_N} training digits, 64-{WIDE[0]}-{WIDE[1]}-10, seeds {aug_seeds}",
            ["training set", "images", "train accuracy (originals)", "test accuracy (mean)", "test accuracy (seeds)",
             "test loss (mean)"],
            [[label, AUGMENT_N * (1 if label == "original" else len(SHIFTS) + 1), np.mean([a[0] for a in v]),
              np.mean([a[2] for a in v]), ", ".join(f"{a[2]:.3f}" for a in v), np.mean([a[3] for a in v])]
             for label, v in aug.items()])
    gain = [b[2] - a[2] for a, b in zip(aug["original"], aug["with shifted copies"])]
    r.check("augmentation: shifted copies raise the test accuracy, mean over seeds",
            np.mean(gain) > 0, expected="mean gain > 0",
            measured=f"mean gain {np.mean(gain):+.4f}; per seed " + ", ".join(f"{g:+.3f}" for g in gain))
    r.check("augmentation: and lower the test loss in every seed",
            all(b[3] < a[3] for a, b in zip(aug["original"], aug["with shifted copies"])), expected="every seed",
            measured=", ".join(f"{a[3]:.3f} -> {b[3]:.3f}" for a, b in zip(aug["original"], aug["with shifted copies"])))

    # -----------------------------------------------------------------------
    # Figures: the learning curve, the capacity sweep, the shifted digits.
    # -----------------------------------------------------------------------
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.6))
    ax = axes[0]
    ax.semilogx(sizes, [lc_mean[n][0] for n in sizes], "o--", label="train")
    ax.semilogx(sizes, [lc_mean[n][2] for n in sizes], "s-", label="test")
    ax.set(xlabel="training images n (log scale)", ylabel="accuracy", title="more data: the gap closes", ylim=(0.75, 1.01))
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.legend(fontsize=8)
    ax = axes[1]
    for noise, style in zip(label_settings, ("-", ":")):
        tag = f"{noise:.0%} wrong labels"
        ax.semilogx(widths, [capm[(noise, w)][0] for w in widths], "o" + style, color="C0", label=f"train ({tag})")
        ax.semilogx(widths, [capm[(noise, w)][4] for w in widths], "s" + style, color="C1", label=f"test ({tag})")
        ax.semilogx(widths, [capm[(noise, w)][2] for w in widths], "^" + style, color="C2", label=f"validation ({tag})")
    ax.axvline(chosen, color="0.5", ls="--", lw=1, label=f"chosen on validation: w = {chosen}")
    ax.set_xticks(widths, [str(w) for w in widths])
    ax.set(xlabel="hidden units w (one layer, log scale)", ylabel="accuracy", title="model size on 300 digits")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)   # below: the curves fill the panel
    ax = axes[2]
    for noise, style in zip(label_settings, ("-", ":")):
        ax.semilogx(widths, [capm[(noise, w)][5] for w in widths], "s" + style, color="C1", label=f"test ({noise:.0%} wrong labels)")
    ax.set_xticks(widths, [str(w) for w in widths])
    ax.set(xlabel="hidden units w (one layer, log scale)", ylabel="cross-entropy", title="test loss over model size")
    ax.legend(fontsize=7)
    for ax in axes:
        ax.minorticks_off()   # the log axes' minor labels would overprint the chosen ticks
        ax.grid(alpha=0.3)
    fig.tight_layout()
    r.figure(fig, "data_and_capacity.png")
    plt.close(fig)

    fig, axes = plt.subplots(1, len(SHIFTS) + 1, figsize=(8, 2))
    first_image = small_split(x_all, y_all, AUGMENT_N, aug_seeds[0])[0][0][0].reshape(1, 8, 8)
    for ax, (dy, dx) in zip(axes, ((0, 0),) + SHIFTS):
        ax.imshow(shift_images(first_image, dy, dx)[0], cmap="gray_r", vmin=0, vmax=1)
        ax.set_title("original" if (dy, dx) == (0, 0) else f"shift ({dy:+d}, {dx:+d})", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("One training digit and its four shifted copies (rows, columns)", fontsize=10)
    fig.tight_layout()
    r.figure(fig, "augmentation.png")
    plt.close(fig)
    return r.result()


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
