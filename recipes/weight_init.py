"""Weight initialisation (가중치 초기값).

Reproduces: the book's activation-histogram experiment -- 1000 random inputs of 100
features through 5 layers of 100 units, with weights drawn from N(0, 1), N(0, 0.01^2),
Xavier (std 1/sqrt(n)) and He (std sqrt(2/n)), for sigmoid, tanh and ReLU -- and what
the notes say it shows: std 1 pushes sigmoid outputs to 0 and 1 (vanishing
gradients), std 0.01 makes every unit output the same value (limited expressiveness),
Xavier suits sigmoid/tanh, He suits ReLU. Then training curves on digits per
initialisation, and why weights must not all be equal: hidden units then stay
identical through training.
Source: notes 003 ("가중치 초기값 설정": uniform weights, gradient vanishing, 표현력
제한, Xavier, He); Saito, *Deep Learning from Scratch* (밑바닥부터 시작하는 딥러닝)
section 6.2.
"""

from __future__ import annotations

import math

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "Weight initialisation (가중치 초기값)"
ORDER = 9
SOURCE = "notes 003 (가중치 초기값: Xavier, He, uniform weights); Saito section 6.2"

# The book's experiment: 1000 samples, 100 features, 5 layers of 100 units.
SAMPLES, WIDTH, LAYERS = 1000, 100, 5
INITS = ("std 1", "std 0.01", "Xavier", "He")
# Digits training, as in the book's MNIST comparison: 4 hidden ReLU layers of 100
# units, plain SGD at learning rate 0.01, the same seed for every initialisation.
DIGITS_HIDDEN = (100, 100, 100, 100)
# A layer whose fan-in and fan-out differ, where Glorot's formula and the notes'
# short form 1/sqrt(n) part ways.
UNEQUAL = (300, 100)
# The deep stack: 20 layers alternating 200 and 100 units (fan-in != fan-out).
DEEP_WIDTHS = (200, 100) * 10 + (200,)
DEEP_STACKS = 6
DEEP_SAMPLES = 500  # in float32: the mean squares stay precise (6 x 500 x 100+ values) and cheap
DIGITS_RATE = 0.01


def initializer(name, seed):
    """The Keras initializer for one of :data:`INITS`.

    Keras's ``GlorotNormal`` draws with std sqrt(2 / (fan_in + fan_out)), which for a
    100 -> 100 layer is the notes' 1/sqrt(n); ``HeNormal`` uses sqrt(2 / fan_in). Both
    draw from a truncated normal rescaled so that the std is the stated one.
    """
    import keras

    return {
        "std 1": lambda: keras.initializers.RandomNormal(stddev=1.0, seed=seed),
        "std 0.01": lambda: keras.initializers.RandomNormal(stddev=0.01, seed=seed),
        "Xavier": lambda: keras.initializers.GlorotNormal(seed=seed),
        "He": lambda: keras.initializers.HeNormal(seed=seed),
    }[name]()


ACTIVATIONS = {
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "tanh": np.tanh,
    "ReLU": lambda a: np.maximum(a, 0.0),
}


def forward_activations(x, weights, activation):
    """The activations of every layer: ``z_k = activation(z_{k-1} @ W_k)`` (no biases, as in the book)."""
    outputs, z = [], x
    for w in weights:
        z = ACTIVATIONS[activation](z @ w)
        outputs.append(z)
    return outputs


def saturated(z, activation):
    """Fraction of outputs in the flat tails: sigmoid < 0.01 or > 0.99, tanh |y| > 0.98."""
    if activation == "sigmoid":
        return float(np.mean((z < 0.01) | (z > 0.99)))
    return float(np.mean(np.abs(z) > 0.98))


def run(out_dir, quick=True):
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import zoo
    from zoo.training import validation_split

    r = Recipe("weight_init", out_dir, title=TITLE, source=SOURCE, quick=quick)
    keras.utils.set_random_seed(0)

    # -----------------------------------------------------------------------
    # Step 1. The initializers against the notes' formulas. Draw the five 100 x 100
    # weight matrices of each scheme from Keras and measure their std.
    # -----------------------------------------------------------------------
    weights = {name: [np.asarray(initializer(name, seed=10 * i + 1)(shape=(WIDTH, WIDTH)), dtype=np.float64)
                      for i in range(LAYERS)] for name in INITS}
    # Where fan-in and fan-out differ the formulas part: Keras's GlorotNormal
    # follows Glorot & Bengio, std sqrt(2 / (fan_in + fan_out)); the notes' short
    # form 1/sqrt(n) (n = the previous layer's nodes) is that only when the two
    # are equal. HeNormal is sqrt(2 / fan_in), the notes' formula.
    fan_in, fan_out = UNEQUAL
    glorot = float(np.std(np.asarray(keras.initializers.GlorotNormal(seed=3)(shape=UNEQUAL), np.float64)))
    he = float(np.std(np.asarray(keras.initializers.HeNormal(seed=4)(shape=UNEQUAL), np.float64)))
    r.check_close(f"Keras GlorotNormal std for a {fan_in} -> {fan_out} layer == sqrt(2 / (fan_in + fan_out))",
                  glorot, math.sqrt(2 / (fan_in + fan_out)), rtol=0.02)
    r.check(f"... which is not the notes' short form 1/sqrt(fan_in) = {1 / math.sqrt(fan_in):.4f} (differs by > 10%)",
            abs(glorot / (1 / math.sqrt(fan_in)) - 1) > 0.1, expected="> 10% apart",
            measured=f"{glorot:.4f} ({glorot * math.sqrt(fan_in) - 1:+.0%})")
    r.check_close(f"Keras HeNormal std for a {fan_in} -> {fan_out} layer == the notes' He sqrt(2 / fan_in)", he,
                  math.sqrt(2 / fan_in), rtol=0.02)
    r.note(f"The notes give Xavier as std 1/sqrt(n), n the previous layer's nodes, a short form; Keras's "
           f"GlorotNormal uses sqrt(2 / (fan_in + fan_out)). For the 100 -> 100 layers of the histogram experiment "
           f"they coincide (0.1); for a {fan_in} -> {fan_out} layer Keras draws std {glorot:.4f} where the short "
           f"form gives {1 / math.sqrt(fan_in):.4f}.")

    # -----------------------------------------------------------------------
    # Step 2. Push 1000 standard-normal inputs through 5 layers and look at the
    # distribution of each layer's outputs, for every activation and scheme.
    # -----------------------------------------------------------------------
    x = np.random.default_rng(0).standard_normal((SAMPLES, WIDTH))
    acts = {(a, i): forward_activations(x, weights[i], a) for a in ACTIVATIONS for i in INITS}
    rows = []
    for (a, i), layers in acts.items():
        stds = [float(z.std()) for z in layers]
        rows.append([a, i] + stds + [saturated(layers[-1], a) if a != "ReLU" else float(np.mean(layers[-1] == 0))])
    r.table("Std of each layer's activations (1000 inputs, 5 layers of 100 units); last column: "
            "sigmoid/tanh saturated fraction, ReLU zero fraction, in layer 5",
            ["activation", "init"] + [f"layer {k} std" for k in range(1, LAYERS + 1)] + ["layer 5 saturated / zero"], rows)

    # The notes' story, in numbers.
    sig = {i: acts[("sigmoid", i)] for i in INITS}
    r.check_at_least("sigmoid, std 1: outputs pile up at 0 and 1 (layer 5 fraction < 0.01 or > 0.99)",
                     saturated(sig["std 1"][-1], "sigmoid"), 0.4)
    grad_std1 = float(np.mean(sig["std 1"][-1] * (1 - sig["std 1"][-1])))
    grad_xavier = float(np.mean(sig["Xavier"][-1] * (1 - sig["Xavier"][-1])))
    r.check("sigmoid, std 1: the local gradient y(1 - y) is smaller than with Xavier (vanishing gradients)",
            grad_std1 < 0.75 * grad_xavier, expected=f"mean y(1-y) < 0.75 x Xavier's {grad_xavier:.4f}",
            measured=f"{grad_std1:.4f}")
    r.check_at_most("sigmoid, std 0.01: every unit outputs ~0.5 (layer 5 std; limited expressiveness)",
                    sig["std 0.01"][-1].std(), 0.02)
    r.check_at_most("sigmoid, Xavier: no saturation in layer 5", saturated(sig["Xavier"][-1], "sigmoid"), 0.01)
    r.check_at_least("sigmoid, Xavier: outputs stay spread (layer 5 std)", sig["Xavier"][-1].std(), 0.06)
    r.check_at_least("tanh, std 1: outputs pile up at -1 and 1 (layer 5 fraction with abs(y) > 0.98)",
                     saturated(acts[("tanh", "std 1")][-1], "tanh"), 0.5)
    r.check_at_least("tanh, Xavier: outputs stay spread (layer 5 std)", acts[("tanh", "Xavier")][-1].std(), 0.2)
    relu = {i: [z.std() for z in acts[("ReLU", i)]] for i in INITS}
    r.check_at_most("ReLU, std 0.01: activations vanish with depth (layer 5 std)", relu["std 0.01"][-1], 1e-4)
    r.check_at_least("ReLU, std 1: activations explode with depth (layer 5 / layer 1 std)", relu["std 1"][-1] / relu["std 1"][0], 100)
    r.check_at_most("ReLU, Xavier: activations shrink with depth (layer 5 / layer 1 std)", relu["Xavier"][-1] / relu["Xavier"][0], 0.5)
    ratio_he = relu["He"][-1] / relu["He"][0]
    r.check("ReLU, He: activations keep their scale through the layers (layer 5 / layer 1 std)",
            0.7 <= ratio_he <= 1.5, expected="in [0.7, 1.5]", measured=f"{ratio_he:.3f}")

    # The book's figures: one per activation, a row per scheme, a column per layer.
    for a in ACTIVATIONS:
        fig, axes = plt.subplots(len(INITS), LAYERS, figsize=(15, 10), sharey="row")
        for row, i in enumerate(INITS):
            layers = acts[(a, i)]
            if a == "sigmoid":
                rng = (0.0, 1.0)
            elif a == "tanh":
                rng = (-1.0, 1.0)
            else:  # ReLU: zeros are half the mass; show the positive part on the row's own scale
                top = max(float(np.percentile(z[z > 0], 99)) if np.any(z > 0) else 1e-12 for z in layers)
                rng = (0.0, top)
            for col, z in enumerate(layers):
                ax = axes[row, col]
                values = z[z > 0] if a == "ReLU" else z
                ax.hist(values.ravel(), bins=30, range=rng, color="C0")
                ax.set_title(f"{i}, layer {col + 1}\nstd {z.std():.3g}", fontsize=9)
                ax.tick_params(labelsize=7)
                if row == len(INITS) - 1:
                    ax.set_xlabel("activation" + (" (> 0 only)" if a == "ReLU" else ""), fontsize=8)
                if col == 0:
                    ax.set_ylabel("count", fontsize=8)
        fig.suptitle(f"{a}: activation histograms through {LAYERS} layers of {WIDTH} units "
                     f"(rows: weights std 1, std 0.01, Xavier, He)")
        fig.tight_layout()
        r.figure(fig, f"histograms_{a.lower()}.png")
        plt.close(fig)

    # -----------------------------------------------------------------------
    # Step 2b. The notes' claim through a deep stack: 20 layers alternating 200
    # and 100 units, Keras's GlorotNormal and HeNormal, tanh and ReLU. Does each
    # scheme keep the activations' scale from layer 1 to layer 20?
    # -----------------------------------------------------------------------
    # One stack's scale wanders from layer to layer (each layer's gain is a random
    # draw); He's derivation keeps E[z^2] on average over the weights, so the mean
    # square is averaged over DEEP_STACKS independent stacks.
    x_deep = np.random.default_rng(1).standard_normal((DEEP_SAMPLES, DEEP_WIDTHS[0])).astype(np.float32)
    deep_init = {"Xavier": keras.initializers.GlorotNormal, "He": keras.initializers.HeNormal}
    deep, last_tanh = {}, []
    for name, init in deep_init.items():
        squares = {a: [] for a in ("tanh", "ReLU")}
        for stack in range(DEEP_STACKS):
            ws = [np.asarray(init(seed=1000 * stack + k)(shape=(DEEP_WIDTHS[k], DEEP_WIDTHS[k + 1])), np.float32)
                  for k in range(len(DEEP_WIDTHS) - 1)]
            for a in squares:
                zs = forward_activations(x_deep, ws, a)
                squares[a].append([float(np.mean(np.square(z, dtype=np.float64))) for z in zs])
                if a == "tanh" and name == "Xavier":
                    last_tanh.append(zs[-1])
        for a, sq in squares.items():
            deep[(a, name)] = list(np.sqrt(np.mean(sq, axis=0)))
    depth = len(DEEP_WIDTHS) - 1
    ratio = {key: v[-1] / v[0] for key, v in deep.items()}
    r.table(f"Deep stack ({depth} layers alternating {DEEP_WIDTHS[0]} and {DEEP_WIDTHS[1]} units, mean over "
            f"{DEEP_STACKS} stacks): root mean square of the activations",
            ["activation", "init", "layer 1", "layer 5", "layer 10", "layer 15", f"layer {depth}",
             f"layer {depth} / layer 1"],
            [[a, i, v[0], v[4], v[9], v[14], v[-1], ratio[(a, i)]] for (a, i), v in deep.items()])
    r.check(f"ReLU, He: the activations keep their scale through {depth} layers (layer {depth} / layer 1 RMS)",
            0.5 <= ratio[("ReLU", "He")] <= 2.0, expected="in [0.5, 2]", measured=f"{ratio[('ReLU', 'He')]:.3f}")
    r.check_at_most(f"ReLU, Xavier: the activations vanish through {depth} layers (layer {depth} / layer 1 RMS; "
                    "the notes: Xavier is unsuitable for ReLU)", ratio[("ReLU", "Xavier")], 0.01)
    tanh_deep = np.concatenate(last_tanh)
    r.check(f"tanh, Xavier: through {depth} layers the activations neither saturate (abs(y) > 0.98 for < 1%) nor "
            f"vanish (layer {depth} / layer 1 RMS >= 0.1)",
            saturated(tanh_deep, "tanh") < 0.01 and ratio[("tanh", "Xavier")] >= 0.1,
            expected="saturated < 1%, ratio >= 0.1",
            measured=f"saturated {saturated(tanh_deep, 'tanh'):.2%}, ratio {ratio[('tanh', 'Xavier')]:.3f}")
    r.note(f"Through {depth} layers with fan-in != fan-out: He keeps ReLU activations at their scale (layer {depth} / "
           f"layer 1 RMS {ratio[('ReLU', 'He')]:.2f}) while Xavier lets them vanish ({ratio[('ReLU', 'Xavier')]:.1e}): "
           "ReLU zeroes half of its inputs, which He's factor 2 makes up. With tanh, Xavier keeps the activations "
           f"unsaturated but they still shrink slowly ({ratio[('tanh', 'Xavier')]:.2f} over {depth} layers: tanh is "
           "linear only near 0, and Glorot's 2 / (fan_in + fan_out) trades the forward scale against the backward "
           "one)" + (f"; He's larger weights hold tanh's scale better here ({ratio[('tanh', 'He')]:.2f}), a "
                     "nuance the notes' rule of thumb leaves out."
                     if ratio[("tanh", "He")] > ratio[("tanh", "Xavier")] else "."))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    for ax, a in zip(axes, ("tanh", "ReLU")):
        for i in deep_init:
            ax.plot(range(1, depth + 1), deep[(a, i)], marker="o", ms=3, label=f"{i} (Keras {deep_init[i].__name__})")
        ax.set(yscale="log", xlabel="layer", ylabel="RMS of the activations", title=f"{a}: {depth} layers, "
               f"widths alternating {DEEP_WIDTHS[0]} / {DEEP_WIDTHS[1]}")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which="both")
    r.figure(fig, "deep_stack.png")
    plt.close(fig)

    # -----------------------------------------------------------------------
    # Step 3. Training curves on digits: the zoo's dense_classifier (64 -> 100 x 4
    # -> 10, ReLU) with each initialisation, plain SGD at 0.01, same seed. (std 1
    # is left out: with ReLU its outputs explode by ~7x per layer, as step 2 shows.)
    # -----------------------------------------------------------------------
    epochs = 5 if quick else 15
    (xd, yd), (xd_test, yd_test) = zoo.datasets.load("digits")
    xd, xd_test = xd.reshape(len(xd), -1), xd_test.reshape(len(xd_test), -1)
    (x_tr, y_tr), (x_val, y_val) = validation_split(xd, yd, seed=0)
    train_inits = {"std 0.01": keras.initializers.RandomNormal(stddev=0.01), "Xavier": "glorot_normal", "He": "he_normal"}
    curves, train_rows = {}, []
    for name, init in train_inits.items():
        model = zoo.create_model("dense_classifier", input_dim=64, num_classes=10, hidden_units=DIGITS_HIDDEN,
                                 kernel_initializer=init, optimizer="sgd", learning_rate=DIGITS_RATE, seed=0)
        hist = model.fit(x_tr, y_tr, epochs=epochs, batch_size=32, validation_data=(x_val, y_val), verbose=0).history
        curves[name] = hist
        train_rows.append([name, hist["loss"][0], hist["loss"][-1], hist["val_accuracy"][-1],
                           model.evaluate(xd_test, yd_test, verbose=0)[1]])
    r.table(f"Digits, 64-100x4-10 ReLU, SGD {DIGITS_RATE}, batch 32, {epochs} epochs",
            ["init", "loss after epoch 1", "final training loss", "final validation accuracy", "test accuracy"], train_rows)
    final = {row[0]: row[2] for row in train_rows}
    r.check_at_least("std 0.01 does not learn: training loss stays at ~ln 10", final["std 0.01"], 2.25)
    r.check("He learns fastest, then Xavier, then std 0.01 (the book's ReLU result)",
            final["He"] < final["Xavier"] < final["std 0.01"], expected="loss He < Xavier < std 0.01",
            measured=", ".join(f"{k} {v:.3f}" for k, v in final.items()))

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, hist in curves.items():
        epochs_axis = range(1, len(hist["loss"]) + 1)
        ax1.plot(epochs_axis, hist["loss"], marker="o", ms=3, label=name)
        ax2.plot(epochs_axis, hist["val_accuracy"], marker="o", ms=3, label=name)
    ax1.set(xlabel="epoch", ylabel="training loss", title="training loss")
    ax2.set(xlabel="epoch", ylabel="validation accuracy", title="validation accuracy")
    for ax in (ax1, ax2):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(f"Initialisation on digits: ReLU network, SGD {DIGITS_RATE}")
    fig.tight_layout()
    r.figure(fig, "digits_curves.png")
    plt.close(fig)

    # -----------------------------------------------------------------------
    # Step 4. All-equal weights. If every weight starts equal, every hidden unit
    # computes the same value, receives the same gradient and gets the same update:
    # after training they are still copies of each other, and a layer of 16 units
    # works like a layer of one. Random weights break the symmetry.
    # -----------------------------------------------------------------------
    steps_epochs = 2 if quick else 5
    equal = zoo.create_model("dense_classifier", input_dim=64, num_classes=10, hidden_units=(16, 16),
                             kernel_initializer=keras.initializers.Constant(0.05), optimizer="sgd", learning_rate=0.1, seed=0)
    rand = zoo.create_model("dense_classifier", input_dim=64, num_classes=10, hidden_units=(16, 16),
                            kernel_initializer="he_normal", optimizer="sgd", learning_rate=0.1, seed=0)
    h_equal = equal.fit(x_tr, y_tr, epochs=steps_epochs, batch_size=32, verbose=0).history
    h_rand = rand.fit(x_tr, y_tr, epochs=steps_epochs, batch_size=32, verbose=0).history
    sym_rows = []
    for model, label in ((equal, "all weights 0.05"), (rand, "He (random)")):
        for layer_name in ("hidden1", "hidden2"):
            kernel, bias = model.get_layer(layer_name).get_weights()
            distinct = len({tuple(np.round(col, 6)) for col in kernel.T})
            spread = float(np.max(np.abs(kernel - kernel[:, :1])))
            sym_rows.append([label, layer_name, kernel.shape[1], distinct, spread, float(np.ptp(bias))])
    r.table(f"After {steps_epochs} epochs of SGD on digits: are the hidden units still copies?",
            ["init", "layer", "units", "distinct units (incoming weights)", "max abs(W[:, j] - W[:, 0])", "bias range"], sym_rows)
    for row in sym_rows[:2]:
        r.check(f"all-equal start: the {row[2]} units of {row[1]} are still identical after training",
                row[3] == 1 and row[4] == 0.0 and row[5] == 0.0, expected="1 distinct unit, spread 0",
                measured=f"{row[3]} distinct, spread {row[4]:.3g}")
    r.check("random start: every unit differs", all(row[3] == row[2] for row in sym_rows[2:]),
            expected="16 distinct units per layer", measured=", ".join(str(row[3]) for row in sym_rows[2:]))
    r.check("all-equal start barely learns (loss after training vs random start)", h_equal["loss"][-1] > h_rand["loss"][-1] + 0.5,
            expected="loss(all equal) > loss(random) + 0.5",
            measured=f"{h_equal['loss'][-1]:.3f} vs {h_rand['loss'][-1]:.3f}")

    r.note("Too large weights (std 1) saturate sigmoid and tanh, too small ones (std 0.01) make every unit "
           "say the same; Xavier keeps sigmoid/tanh activations spread, and He keeps ReLU activations at "
           "the same scale through every layer, which is why He learns fastest in the ReLU network.")
    return r.result()


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
