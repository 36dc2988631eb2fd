"""Vanishing and exploding gradients (기울기 소실과 폭주).

Reproduces: the notes' explanation of why deep sigmoid networks stop learning --
backpropagation multiplies the error by the activation's derivative once per
layer, and the sigmoid's derivative is at most 1/4, so "the nearer a layer is to
the input, the smaller its gradient" (notes 000) -- and why ReLU fixes it. We
measure the gradient norm of every layer of a 10-hidden-layer network on digits
for sigmoid, tanh and ReLU (figure); then when tanh's gradient vanishes too (notes 002
names sigmoid and tanh): small initial weights over depth and saturated units, but not
with Xavier's weights, measured at 10 and 30 layers; check the gradients of ``tf.GradientTape``
against the chain rule written out in NumPy, show that the early sigmoid layers
barely move during training, then build an exploding case (ReLU with too large
initial weights: the loss turns NaN at the first epoch) and keep it finite with
gradient clipping (``clipnorm``), whose rule we check by hand.
Source: notes 000 ("Hidden Layer와 역전파": vanishing gradient, ReLU instead of
sigmoid), notes 002 (2-3 activations; section 7 "기울기 소실과 폭주"), notes 001
(hyperparameters: Gradient Clipping), notes 003 (std-1 weights and vanishing
gradients); Géron, *Hands-On Machine Learning*, chapter 11 ("The Vanishing/Exploding
Gradients Problems", "Gradient Clipping").
"""

from __future__ import annotations

import math

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "Vanishing and exploding gradients (기울기 소실과 폭주)"
ORDER = 5
SOURCE = "notes 000 (Hidden Layer와 역전파), notes 002 section 7 (기울기 소실과 폭주), notes 001 (Gradient Clipping); Géron ch. 11"

# A deep, narrow network makes the effect plain without costing time: 10 hidden
# layers of 32 units on digits (64 inputs, 10 classes). One batch of 256 images is
# enough to measure gradients.
HIDDEN = (32,) * 10
BATCH = 256
# The four networks. Xavier (Glorot) for sigmoid and tanh and He for ReLU are the
# notes' recommended pairs; "ReLU, N(0, 0.5^2)" has weights ~2.8x larger than He's
# (sqrt(2/32) = 0.25), so every layer amplifies its input: the exploding case.
EXPLODING_STD = 0.5
NETWORKS = {
    "sigmoid (Xavier)": ("sigmoid", "glorot_uniform"),
    "tanh (Xavier)": ("tanh", "glorot_uniform"),
    "ReLU (He)": ("relu", "he_normal"),
    f"ReLU, N(0, {EXPLODING_STD}²) (exploding)": ("relu", "large"),
}
# tanh's cases (step 2b): depths, and (initializer, input scale) per case. The weight
# scale g multiplies the fan-in standard deviation 1/sqrt(n_in) (LeCun's, = Xavier's for
# the square 32 x 32 layers); the saturated case starts every hidden bias at 2, where
# tanh'(2) = 0.07, so every unit sits on tanh's flat part.
TANH_DEPTHS = (10, 30)
TANH_XAVIER = "Xavier"
TANH_SMALL = "small weights, g = 0.5"
TANH_SATURATED = "Xavier, hidden biases 2 (saturated)"
TANH_LARGE = "large weights, g = 4"
TANH_CASES = {
    TANH_XAVIER: ("glorot_uniform", 0.0),
    TANH_SMALL: (("fan_in", 0.5), 0.0),
    TANH_SATURATED: ("glorot_uniform", 2.0),
    TANH_LARGE: (("fan_in", 4.0), 0.0),
}
# Training: plain SGD (adaptive optimizers such as Adam rescale each gradient and
# so hide the vanishing), learning rate 0.1, batch 32.
TRAIN_RATE = 0.1
# The exploding case trains with a smaller rate; without clipping it still
# diverges, with clipnorm = 1 every variable's step is at most 0.01 long.
EXPLODE_RATE, CLIPNORM = 0.01, 1.0


def make_initializer(kind, seed):
    """A Keras initializer. ``"large"`` draws from N(0, EXPLODING_STD^2), ``("fan_in", g)`` from N(0, g^2 / n_in).

    An initializer *instance* with an integer seed (or none) returns the same
    matrix at every call, so every 32 x 32 layer would get identical weights; a
    ``SeedGenerator`` advances at each call: different layers, repeatable run.
    """
    import keras

    if kind == "large":
        return keras.initializers.RandomNormal(stddev=EXPLODING_STD, seed=keras.random.SeedGenerator(seed))
    if isinstance(kind, tuple):  # ("fan_in", g): N(0, g^2 / n_in)
        return keras.initializers.VarianceScaling(scale=kind[1] ** 2, mode=kind[0], distribution="untruncated_normal",
                                                  seed=keras.random.SeedGenerator(seed))
    return kind


def dense_layers(model):
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def tape_gradients(model, x, y):
    """dL/dW for every Dense kernel from ``tf.GradientTape`` (L = mean cross-entropy)."""
    import keras
    import tensorflow as tf

    kernels = [layer.kernel for layer in dense_layers(model)]
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, model(x, training=False)))
    return [np.asarray(g, dtype=np.float64) for g in tape.gradient(loss, kernels)]


# The activations and their derivatives, written from their definitions.
def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


ACTIVATION = {"sigmoid": _sigmoid, "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}
DERIVATIVE = {
    "sigmoid": lambda z: _sigmoid(z) * (1.0 - _sigmoid(z)),  # sigma' = sigma (1 - sigma) <= 1/4
    "tanh": lambda z: 1.0 - np.tanh(z) ** 2,                  # tanh' = 1 - tanh^2 <= 1
    "relu": lambda z: (z > 0).astype(np.float64),             # 1 where the unit is on, else 0
}


def chain_rule_gradients(model, x, y, activation):
    """The same gradients by backpropagation in NumPy (float64), layer by layer.

    Forward: ``z_l = a_{l-1} W_l + b_l``, ``a_l = f(z_l)``, softmax output ``p``.
    Backward: ``delta_L = (p - t) / m`` at the softmax cross-entropy output, then
    ``delta_l = (delta_{l+1} W_{l+1}^T) * f'(z_l)`` -- one factor ``f'`` per layer,
    which is the whole story of vanishing gradients -- and ``dL/dW_l = a_{l-1}^T delta_l``.

    Returns:
        ``(kernel gradients, deltas, pre-activations)`` from the first layer to the output.
    """
    params = [(np.asarray(layer.kernel, np.float64), np.asarray(layer.bias, np.float64)) for layer in dense_layers(model)]
    a, inputs, zs = np.asarray(x, np.float64), [], []
    for i, (w, b) in enumerate(params):
        inputs.append(a)
        z = a @ w + b
        zs.append(z)
        a = ACTIVATION[activation](z) if i < len(params) - 1 else None
    logits = zs[-1] - zs[-1].max(axis=1, keepdims=True)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    t = np.eye(p.shape[1])[np.asarray(y)]
    delta = (p - t) / len(p)
    deltas = [delta]
    for i in range(len(params) - 2, -1, -1):
        delta = (delta @ params[i + 1][0].T) * DERIVATIVE[activation](zs[i])
        deltas.insert(0, delta)
    grads = [inp.T @ d for inp, d in zip(inputs, deltas)]
    return grads, deltas, zs


def run(out_dir, quick=True):
    import keras
    import matplotlib
    import tensorflow as tf

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    import zoo

    r = Recipe("vanishing_gradients", out_dir, title=TITLE, source=SOURCE, quick=quick)
    keras.utils.set_random_seed(0)

    # -----------------------------------------------------------------------
    # Step 1. The derivative of each activation, from Keras by automatic
    # differentiation. The sigmoid's slope is sigma(1 - sigma), largest at z = 0
    # where it is 1/4: every sigmoid layer multiplies the backpropagated error by
    # at most a quarter. tanh's slope peaks at 1, ReLU's is exactly 1 when on.
    # -----------------------------------------------------------------------
    grid = np.linspace(-6, 6, 1201)
    z_var = tf.constant(grid)
    slopes = {}
    for name, fn in (("sigmoid", keras.activations.sigmoid), ("tanh", keras.activations.tanh), ("relu", keras.activations.relu)):
        with tf.GradientTape() as tape:
            tape.watch(z_var)
            out = fn(z_var)
        slopes[name] = np.asarray(tape.gradient(out, z_var))
    r.check_close("max of sigmoid'(z) over [-6, 6] (GradientTape) == 1/4, at z = 0",
                  [slopes["sigmoid"].max(), grid[np.argmax(slopes["sigmoid"])]], [0.25, 0.0], atol=1e-9)
    r.check_close("sigmoid'(z) from GradientTape == sigma(z)(1 - sigma(z))", np.max(np.abs(slopes["sigmoid"] - DERIVATIVE["sigmoid"](grid))),
                  0.0, atol=1e-12)
    r.check_close("max of tanh'(z) == 1 and ReLU'(z) == 1 for every z > 0",
                  [slopes["tanh"].max(), slopes["relu"][grid > 0].min()], [1.0, 1.0], atol=1e-12)

    # -----------------------------------------------------------------------
    # Step 2. Per-layer gradient norms. Same data, same depth; only the activation
    # and its matching initialisation change. Gradients come from GradientTape and,
    # independently, from the chain rule in NumPy.
    # -----------------------------------------------------------------------
    (x, y), (x_test, y_test) = zoo.datasets.load("digits")
    x, x_test = x.reshape(len(x), -1), x_test.reshape(len(x_test), -1)
    xb, yb = x[:BATCH], y[:BATCH]
    norms, rows, deltas_sigmoid = {}, [], None
    for label, (activation, init) in NETWORKS.items():
        model = zoo.create_model("dense_classifier", input_dim=64, num_classes=10, hidden_units=HIDDEN,
                                 activation=activation, kernel_initializer=make_initializer(init, seed=0),
                                 optimizer="sgd", learning_rate=TRAIN_RATE, seed=0)
        g_tape = tape_gradients(model, xb, yb)
        g_hand, deltas, zs = chain_rule_gradients(model, xb, yb, activation)
        n_tape = np.array([np.linalg.norm(g) for g in g_tape])
        rel = max(float(np.linalg.norm(a - b) / np.linalg.norm(b)) for a, b in zip(g_tape, g_hand))
        r.check_at_most(f"{label}: GradientTape == NumPy chain rule (max relative difference over the 11 layers)", rel, 1e-3)
        norms[label] = n_tape
        rows.append([label, n_tape[0], n_tape[len(n_tape) // 2], n_tape[-2], n_tape[-1], n_tape[0] / n_tape[-2]])
        if activation == "sigmoid":
            deltas_sigmoid = (model, deltas, zs)
    r.table(f"||dL/dW|| per layer, {len(HIDDEN)} hidden layers of {HIDDEN[0]} units, one batch of {BATCH} digits",
            ["network", "layer 1 (input side)", f"layer {len(HIDDEN) // 2 + 1}", f"layer {len(HIDDEN)} (last hidden)",
             "output layer", "layer 1 / last hidden"], rows)

    sig, relu, big = (norms[k] for k in ("sigmoid (Xavier)", "ReLU (He)", f"ReLU, N(0, {EXPLODING_STD}²) (exploding)"))
    r.check_at_most("vanishing: sigmoid, ||dL/dW_1|| / ||dL/dW_10|| (first over last hidden layer)", sig[0] / sig[-2], 1e-3)
    r.check("ReLU (He) keeps the gradient's scale: ||dL/dW_1|| / ||dL/dW_10|| in [0.1, 10]", 0.1 <= relu[0] / relu[-2] <= 10,
            expected="in [0.1, 10]", measured=f"{relu[0] / relu[-2]:.3g}")
    r.check_at_least("exploding: large-weight ReLU's gradient / He's, smallest over the 11 layers", float(np.min(big / relu)), 100)

    # Why the sigmoid network loses a factor at every layer: going back one layer
    # multiplies delta by W^T and then by sigma'(z) <= 1/4, so
    # ||delta_l|| <= 1/4 ||W_{l+1}||_2 ||delta_{l+1}||. We measure each factor.
    model, deltas, zs = deltas_sigmoid
    layers = dense_layers(model)
    factor_rows, within = [], True
    for i in range(len(HIDDEN)):
        w_next = np.asarray(layers[i + 1].kernel, np.float64)
        spectral = float(np.linalg.norm(w_next, 2))
        factor = float(np.linalg.norm(deltas[i]) / np.linalg.norm(deltas[i + 1]))
        within &= factor <= 0.25 * spectral * (1 + 1e-9)
        factor_rows.append([i + 1, float(DERIVATIVE["sigmoid"](zs[i]).mean()), spectral, factor, 0.25 * spectral])
    r.table("Sigmoid network: the factor by which backpropagation shrinks the error at each layer",
            ["layer l", "mean sigma'(z_l)", "||W_{l+1}||_2", "||delta_l|| / ||delta_{l+1}||", "bound 1/4 ||W_{l+1}||_2"], factor_rows)
    r.check("sigmoid: every backward step shrinks delta by at most 1/4 ||W||_2 (sigma' <= 1/4)", within,
            expected="factor <= bound at all 10 layers",
            measured="factors " + ", ".join(f"{row[3]:.3f}" for row in factor_rows))
    mean_factor = math.exp(np.mean([math.log(row[3]) for row in factor_rows]))
    r.check_at_most("sigmoid: geometric-mean shrink factor per layer", mean_factor, 0.5)

    # -----------------------------------------------------------------------
    # Step 2b. tanh (notes 002: sigmoid AND tanh make gradients vanish). tanh's slope
    # is 1 at z = 0, so with Xavier's weights the 10-layer network above keeps its
    # gradient. Going back one layer multiplies the error delta by W^T and by tanh'(z):
    # per layer, roughly (weight scale g) x (typical tanh'(z)). It vanishes when that
    # product is below 1 over many layers: (a) small initial weights, g < 1, where
    # tanh is nearly linear and the factor is ~g, so depth D costs ~g^D; (b) saturation,
    # |z| large, where tanh'(z) ~ 0 -- here every hidden bias starts at 2. Xavier (g ~ 1 for square layers) keeps the product near
    # 1. Large weights everywhere (g = 4) saturate most units too, but W's size more
    # than makes up for tanh' and the gradient grows towards the input instead.
    # We measure delta_l = dL/dz_l (the error each layer passes back) and the
    # first layer's weight gradient, at depths 10 and 30.
    # -----------------------------------------------------------------------
    tanh_rows, tanh_ratio, tanh_w1, tanh_slope1 = [], {}, {}, {}
    for depth in TANH_DEPTHS:
        for label, (init, bias) in TANH_CASES.items():
            model = zoo.create_model("dense_classifier", input_dim=64, num_classes=10, hidden_units=(HIDDEN[0],) * depth,
                                     activation="tanh", kernel_initializer=make_initializer(init, seed=0),
                                     optimizer="sgd", learning_rate=TRAIN_RATE, seed=0)
            for layer in dense_layers(model)[:-1]:
                layer.bias.assign(np.full(layer.bias.shape, bias, dtype="float32"))
            grads, deltas, zs = chain_rule_gradients(model, xb, yb, "tanh")
            slope = [float(DERIVATIVE["tanh"](z).mean()) for z in zs[:-1]]
            saturated = float(np.mean([np.mean(np.abs(np.tanh(z)) > 0.99) for z in zs[:-1]]))
            ratio = float(np.linalg.norm(deltas[0]) / np.linalg.norm(deltas[-2]))
            tanh_ratio[label, depth], tanh_w1[label, depth] = ratio, float(np.linalg.norm(grads[0]))
            tanh_slope1[label, depth] = slope[0]  # mean tanh' in layer 1
            tanh_rows.append([label, depth, slope[0], slope[-1], saturated, ratio, tanh_w1[label, depth]])
    for row in tanh_rows:
        row.append(row[-1] / tanh_w1[TANH_XAVIER, row[1]])
    r.table(f"tanh: when its gradient vanishes. Hidden layers of {HIDDEN[0]} units, one batch of {BATCH} digits; "
            "delta_l = dL/dz_l, the error layer l passes back",
            ["tanh network", "hidden layers", "mean tanh'(z), layer 1", "mean tanh'(z), last hidden",
             "share of units saturated (|tanh| > 0.99)", "||delta_1|| / ||delta_last hidden||", "||dL/dW_1||",
             "||dL/dW_1|| / Xavier's at that depth"], tanh_rows)
    deep, shallow = max(TANH_DEPTHS), min(TANH_DEPTHS)
    r.check_at_most(f"tanh vanishes with small initial weights ({TANH_SMALL}): ||delta_1|| / ||delta_last|| at "
                    f"{deep} layers", tanh_ratio[TANH_SMALL, deep], 1e-6)
    r.check_at_most(f"... and the loss grows with depth: the same ratio at {shallow} layers is larger but already small",
                    tanh_ratio[TANH_SMALL, shallow], 1e-2)
    r.check_at_most(f"... so the first layer learns ~nothing: its ||dL/dW_1|| over Xavier's at {deep} layers",
                    tanh_w1[TANH_SMALL, deep] / tanh_w1[TANH_XAVIER, deep], 1e-3)
    r.check_at_most(f"tanh vanishes by saturation ({TANH_SATURATED}): mean tanh'(z) of layer 1",
                    tanh_slope1[TANH_SATURATED, shallow], 0.2)
    r.check_at_most(f"... and the saturated layers cut the error they pass back: ||delta_1|| / ||delta_last|| at "
                    f"{shallow} layers", tanh_ratio[TANH_SATURATED, shallow], 1e-4)
    r.check_at_least(f"a good initialisation prevents it: tanh with Xavier keeps ||delta_1|| / ||delta_last|| "
                     f"above 0.05 even at {deep} layers (small weights: below 1e-6)", tanh_ratio[TANH_XAVIER, deep], 0.05)
    r.check(f"... and within [0.1, 10] at {shallow} layers", 0.1 <= tanh_ratio[TANH_XAVIER, shallow] <= 10,
            expected="in [0.1, 10]", measured=f"{tanh_ratio[TANH_XAVIER, shallow]:.3g}")
    r.check_at_least(f"large weights ({TANH_LARGE}) saturate tanh's units but do not make the gradient vanish: "
                     f"||delta_1|| / ||delta_last|| at {shallow} layers (it grows: exploding)",
                     tanh_ratio[TANH_LARGE, shallow], 10)
    r.note("tanh, notes 002's second vanishing activation: with Xavier's weights its gradient keeps its scale (the "
           f"10-layer table above, and {tanh_ratio[TANH_XAVIER, deep]:.2f} of it left after {deep} layers), because tanh'(0) "
           f"= 1 where sigmoid'(0) = 1/4. It vanishes when each layer's factor g x tanh'(z) stays below 1: with small "
           f"weights ({TANH_SMALL}) the error left at layer 1 is {tanh_ratio[TANH_SMALL, shallow]:.1e} after {shallow} "
           f"layers and {tanh_ratio[TANH_SMALL, deep]:.1e} after {deep}; with Xavier's weights but every unit saturated "
           f"(mean tanh' {tanh_slope1[TANH_SATURATED, shallow]:.2f} in layer 1) "
           f"it is {tanh_ratio[TANH_SATURATED, shallow]:.1e} after {shallow} layers. "
           "Saturation is not vanishing by itself: with weights 4x Xavier's most units are saturated, yet the large W "
           "multiplies the error by more than tanh' takes away, and the gradient explodes instead.")

    # -----------------------------------------------------------------------
    # Step 3. What it does to training. Both deep networks train with plain SGD;
    # we watch the accuracy and how far each layer's weights move.
    # -----------------------------------------------------------------------
    epochs = 5 if quick else 20
    train_curves, moved = {}, {}
    for label in ("sigmoid (Xavier)", "ReLU (He)"):
        activation, init = NETWORKS[label]
        model = zoo.create_model("dense_classifier", input_dim=64, num_classes=10, hidden_units=HIDDEN,
                                 activation=activation, kernel_initializer=init, optimizer="sgd",
                                 learning_rate=TRAIN_RATE, seed=0)
        before = [np.asarray(layer.kernel).copy() for layer in dense_layers(model)]
        hist = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0).history
        after = [np.asarray(layer.kernel) for layer in dense_layers(model)]
        moved[label] = np.array([np.linalg.norm(b - a) / np.linalg.norm(a) for a, b in zip(before, after)])
        train_curves[label] = (hist["accuracy"], model.evaluate(x_test, y_test, verbose=0)[1])
    r.table(f"Training the deep networks: SGD {TRAIN_RATE}, batch 32, {epochs} epochs",
            ["network", "final training accuracy", "test accuracy", "layer 1 weights moved (relative)",
             "output weights moved (relative)"],
            [[k, acc[-1], test, moved[k][0], moved[k][-1]] for k, (acc, test) in train_curves.items()])
    r.check_at_most("sigmoid: first layer's weights barely move (||W1 after - W1 before|| / ||W1 before||)",
                    moved["sigmoid (Xavier)"][0], 1e-4)
    r.check_at_least("sigmoid: ... while the output layer's move (relative change)", moved["sigmoid (Xavier)"][-1], 1e-2)
    r.check_at_most("sigmoid: the deep network stays near chance (final training accuracy)", train_curves["sigmoid (Xavier)"][0][-1], 0.2)
    r.check_at_least("ReLU: the same deep network learns (final training accuracy)", train_curves["ReLU (He)"][0][-1], 0.5)

    # -----------------------------------------------------------------------
    # Step 4. Gradient clipping, by hand. Keras's clipnorm=c rescales *each
    # variable's* gradient g to g * min(1, c / ||g||); global_clipnorm=c rescales
    # all gradients together by min(1, c / ||(g_1, g_2, ...)||). One SGD step on two
    # variables with known gradients shows both rules.
    # -----------------------------------------------------------------------
    c, lr = CLIPNORM, 0.1
    g1, g2 = np.array([3.0, 4.0]), np.array([0.3, 0.4, 0.0])  # norms 5 and 0.5
    expected_each = [-lr * g * min(1.0, c / np.linalg.norm(g)) + 0.0 for g in (g1, g2)]  # + 0.0: no -0.0
    total = math.sqrt(np.sum(g1**2) + np.sum(g2**2))
    expected_global = [-lr * g * min(1.0, c / total) + 0.0 for g in (g1, g2)]
    for kwargs, expected, what in (({"clipnorm": c}, expected_each, "g * min(1, c/||g||) per variable"),
                                   ({"global_clipnorm": c}, expected_global, "g * min(1, c/||all g||) together")):
        w = [keras.Variable(np.zeros(2), dtype="float64"), keras.Variable(np.zeros(3), dtype="float64")]
        keras.optimizers.SGD(learning_rate=lr, **kwargs).apply_gradients(zip([g1, g2], w))
        r.check_close(f"SGD({next(iter(kwargs))}={c:g}) step == -lr * {what}",
                      np.concatenate([np.asarray(v) for v in w]), np.concatenate(expected), atol=1e-7)

    # -----------------------------------------------------------------------
    # Step 5. The exploding case trained, without and with clipnorm. The network's
    # logits are in the thousands (initial loss ~2000 instead of ln 10 = 2.3) and
    # its gradients ~1000 times He's; within the first epoch SGD moves the weights
    # so far that the loss overflows to NaN. Clipping bounds every step and the
    # same network trains.
    # -----------------------------------------------------------------------
    explode_epochs = 5 if quick else 15
    explode = {}
    for label, optimizer in (("SGD, no clipping", keras.optimizers.SGD(EXPLODE_RATE)),
                             (f"SGD, clipnorm={CLIPNORM:g}", keras.optimizers.SGD(EXPLODE_RATE, clipnorm=CLIPNORM))):
        model = zoo.create_model("dense_classifier", input_dim=64, num_classes=10, hidden_units=HIDDEN, activation="relu",
                                 kernel_initializer=make_initializer("large", seed=0), optimizer=optimizer, seed=0)
        initial = model.evaluate(x, y, verbose=0)[0]
        hist = model.fit(x, y, epochs=explode_epochs, batch_size=32, verbose=0).history
        explode[label] = ([initial] + hist["loss"], hist["accuracy"][-1], model.evaluate(x_test, y_test, verbose=0)[1])
    r.table(f"Exploding case: ReLU, weights ~ N(0, {EXPLODING_STD}²), SGD {EXPLODE_RATE}, batch 32, {explode_epochs} epochs",
            ["optimizer", "loss before training", "epoch 1 loss (mean over its batches)", "final epoch loss (nan = diverged)",
             "final training accuracy", "test accuracy"],
            [[k, v[0][0], v[0][1], v[0][-1], v[1], v[2]] for k, v in explode.items()])
    plain_loss, clipped_loss = explode["SGD, no clipping"][0], explode[f"SGD, clipnorm={CLIPNORM:g}"][0]
    r.check("without clipping the loss is NaN or infinite after the first epoch", not np.isfinite(plain_loss[1]),
            expected="non-finite", measured=f"{plain_loss[1]}")
    r.check("with clipnorm every epoch's loss is finite", bool(np.all(np.isfinite(clipped_loss))),
            expected="all finite", measured=", ".join(f"{v:.4g}" for v in clipped_loss))
    r.check_at_most("with clipnorm the loss falls: final / initial loss", clipped_loss[-1] / clipped_loss[0], 0.1)

    # -----------------------------------------------------------------------
    # Figures. First the textbook picture: gradient norm per layer (log scale),
    # next to the activation slopes that cause it.
    # -----------------------------------------------------------------------
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1, 1.6]})
    for name, style in (("sigmoid", "-"), ("tanh", "--"), ("relu", ":")):
        ax1.plot(grid, slopes[name], style, lw=2, label=f"{name}'(z)")
    ax1.axhline(0.25, color="gray", lw=0.8)
    ax1.annotate("1/4: the sigmoid's largest slope", (-5.8, 0.27), fontsize=8, color="gray")
    ax1.set(xlabel="z", ylabel="derivative", title="activation slopes (GradientTape)", ylim=(-0.05, 1.1))
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3)
    layer_axis = np.arange(1, len(HIDDEN) + 2)
    for (label, n), marker in zip(norms.items(), "osd^"):
        ax2.semilogy(layer_axis, n, marker=marker, ms=4, label=label)
    ax2.set_xticks(layer_axis, [str(i) for i in layer_axis[:-1]] + ["out"])
    ax2.set(xlabel="layer (1 = nearest the input)", ylabel="||dL/dW|| (log scale)",
            title=f"gradient norm per layer, {len(HIDDEN)} hidden layers of {HIDDEN[0]} units")
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3, which="both")
    fig.suptitle("Vanishing and exploding gradients: backpropagation multiplies by f'(z) and W at every layer")
    fig.tight_layout()
    r.figure(fig, "gradient_norms.png")
    plt.close(fig)

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    for label, (acc, _) in train_curves.items():
        axes[0].plot(range(1, epochs + 1), acc, "o-", ms=3, label=label)
    axes[0].axhline(0.1, color="gray", lw=0.8, ls=":")
    axes[0].set(xlabel="epoch", ylabel="training accuracy", ylim=(0, 1.02), title=f"deep networks, SGD {TRAIN_RATE}")
    for label, m in moved.items():
        axes[1].semilogy(layer_axis, m, "o-", ms=4, label=label)
    axes[1].set_xticks(layer_axis, [str(i) for i in layer_axis[:-1]] + ["out"])
    axes[1].set(xlabel="layer", ylabel="||W after - W before|| / ||W before||", title=f"how far each layer moved in {epochs} epochs")
    for (label, (loss, _, _)), style in zip(explode.items(), ("s-", "o-")):
        finite = np.isfinite(loss)
        axes[2].semilogy(np.arange(len(loss))[finite], np.asarray(loss)[finite], style, ms=8 if style[0] == "s" else 4,
                         mfc="none" if style[0] == "s" else None, label=label)
        if not finite.all():
            first = int(np.argmin(finite))
            axes[2].axvline(first, color="red", ls="--", lw=1)
            axes[2].annotate(f"loss = {loss[first]} from epoch {first}", (first, np.nanmax(np.asarray(loss)[finite])),
                             color="red", fontsize=8, xytext=(5, -10), textcoords="offset points")
    axes[2].set(xlabel="epoch (0 = before training)", ylabel="training loss (log scale)",
                title=f"exploding case: ReLU, N(0, {EXPLODING_STD}²), SGD {EXPLODE_RATE}")
    for ax in axes:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    for ax in (axes[0], axes[2]):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle("Training: the sigmoid network's early layers do not learn; clipping keeps the exploding network finite")
    fig.tight_layout()
    r.figure(fig, "training.png")
    plt.close(fig)

    r.note("Each layer back, the error is multiplied by W^T and by the activation's slope. For sigmoid the "
           "slope is at most 1/4, so ten layers shrink the gradient by about six orders of magnitude and the "
           "first layers do not learn; ReLU's slope is 1 where the unit is on, and with He initialisation the "
           "gradient keeps its scale. Weights that are too large make every layer amplify instead: the "
           "gradients are ~1000 times too big and within the first epoch SGD sends the loss to NaN. clipnorm rescales each "
           "variable's gradient to norm at most 1 (global_clipnorm would rescale all of them together), which "
           "bounds every step and lets the same network train.")
    return r.result()


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
