"""Activation functions (활성화 함수).

Reproduces: the notes' activation functions -- step, sigmoid, tanh, ReLU, leaky ReLU
``max(ax, x)`` and softmax -- written out in NumPy with their derivatives by hand,
compared with ``keras.activations`` and with the derivatives ``tf.GradientTape``
computes (the figure of functions and derivatives); then the notes' two arguments:
why the activation must be non-linear ("with a linear activation, adding hidden
layers is the same as adding one": a stack of linear Dense layers from the zoo is
shown numerically to be one linear layer, and cannot learn a non-linear boundary),
and the dying ReLU ("if the input is negative the gradient is 0 and the neuron can
hardly come back"): the fraction of dead units after training with a too-large
learning rate, their exactly-zero gradients, and leaky ReLU, whose units never
have a zero gradient, keeping the network trainable.
Source: notes 002 section 2-3 ("활성화 함수": 비선형 함수, 죽은 렐루 dying ReLU,
Leaky ReLU = max(ax, x), softmax at the output); Saito, *Deep Learning from Scratch*
(밑바닥부터 시작하는 딥러닝) sections 3.2 (step, sigmoid, ReLU, non-linearity), 3.5
(softmax and its overflow) and 5.5 (the activation layers' backward passes); Géron,
*Hands-On Machine Learning*, chapter 11 ("Nonsaturating Activation Functions").
"""

from __future__ import annotations

import numpy as np

from recipes._recipe import Recipe, main_for
from recipes.dense_layers import dense_parameters

TITLE = "Activation functions (활성화 함수)"
ORDER = 4
SOURCE = "notes 002 section 2-3 (활성화 함수, dying ReLU, Leaky ReLU); Saito sections 3.2, 3.5 and 5.5; Géron ch. 11"

# Leaky ReLU's slope a for negative inputs. The notes say "a very small number such
# as 0.001" (NOTES_SLOPE); Maas et al. (2013) used 0.01 and Keras defaults to 0.2
# (ops) or 0.3 (layer). Both the notes' value and a larger one, 0.1, are run: the
# dying-ReLU experiment shows what the larger slope buys.
NOTES_SLOPE = 0.001
LEAKY_SLOPE = 0.1
# Keras keeps the slope in float32 (0.1 -> 0.10000000149...), so on [-5, 5] its
# leaky ReLU differs from ours by up to 5 * 1.5e-9; everything else agrees to 1e-12.
LEAKY_ATOL = 1e-8
# Where the functions are drawn and compared: an even number of points, so x = 0
# (the kink of step, ReLU and leaky ReLU, where no derivative exists) is not on it.
GRID = np.linspace(-5.0, 5.0, 1000)
# The stack of linear layers: the zoo's dense_classifier with activation "linear".
LINEAR_STACK = (16, 16, 16)
# Dying ReLU on digits: the zoo's dense_classifier with two hidden layers, trained
# one epoch with Adam at a too-large learning rate (100x the zoo's default 1e-3),
# then at the default rate to see which units come back.
DYING_HIDDEN = (100, 100)
TOO_LARGE_RATE, NORMAL_RATE = 0.1, 1e-3


# ---------------------------------------------------------------------------
# Step 1. The functions and their derivatives, by hand (NumPy), as in the notes.
# ---------------------------------------------------------------------------
def step(x):
    """1 for x > 0, else 0 (the perceptron's activation)."""
    return (x > 0).astype(np.float64)


def d_step(x):
    """0 wherever it exists (x != 0): gradient descent gets no signal through a step."""
    return np.zeros_like(x, dtype=np.float64)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def d_sigmoid(x):
    s = sigmoid(x)
    return s * (1.0 - s)                            # at most 1/4, at x = 0


def tanh(x):
    return np.tanh(x)


def d_tanh(x):
    return 1.0 - np.tanh(x) ** 2                    # at most 1, at x = 0


def relu(x):
    return np.maximum(0.0, x)


def d_relu(x):
    return (x > 0).astype(np.float64)               # 0 for every negative input: the dying ReLU


def leaky_relu(x, a=LEAKY_SLOPE):
    return np.maximum(a * x, x)                     # the notes' max(ax, x), for 0 < a < 1


def d_leaky_relu(x, a=LEAKY_SLOPE):
    return np.where(x > 0, 1.0, a)                  # never 0


def softmax(a):
    """``exp(a_k) / sum_i exp(a_i)`` over the last axis, after subtracting the max
    (Saito 3.5.2: the same value, without overflow)."""
    e = np.exp(a - np.max(a, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_jacobian(a):
    """``ds_i / da_j = s_i (delta_ij - s_j)``, i.e. ``diag(s) - s s^T`` for one vector ``a``."""
    s = softmax(a)
    return np.diag(s) - np.outer(s, s)


def keras_functions():
    """The same functions in Keras (``keras.activations``; the step from ``keras.ops.sign``)."""
    import keras

    return {
        "step": lambda x: (keras.ops.sign(x) + 1.0) / 2.0,  # 1 for x > 0, 0 for x < 0; sign's gradient is 0
        "sigmoid": keras.activations.sigmoid,
        "tanh": keras.activations.tanh,
        "ReLU": keras.activations.relu,
        f"leaky ReLU (a = {NOTES_SLOPE:g})": lambda x: keras.activations.leaky_relu(x, negative_slope=NOTES_SLOPE),
        f"leaky ReLU (a = {LEAKY_SLOPE:g})": lambda x: keras.activations.leaky_relu(x, negative_slope=LEAKY_SLOPE),
    }


BY_HAND = {
    "step": (step, d_step),
    "sigmoid": (sigmoid, d_sigmoid),
    "tanh": (tanh, d_tanh),
    "ReLU": (relu, d_relu),
    f"leaky ReLU (a = {NOTES_SLOPE:g})": (lambda x: leaky_relu(x, NOTES_SLOPE), lambda x: d_leaky_relu(x, NOTES_SLOPE)),
    f"leaky ReLU (a = {LEAKY_SLOPE:g})": (leaky_relu, d_leaky_relu),
}


def tape_derivative(fn, x):
    """Elementwise derivative of ``fn`` at every point of ``x`` (float64) by ``tf.GradientTape``."""
    import tensorflow as tf

    x = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return np.asarray(y), np.asarray(tape.gradient(y, x))


def collapse_linear_stack(model):
    """The single ``(W, b)`` equal to a stack of linear Dense layers.

    ``(x W1 + b1) W2 + b2 = x (W1 W2) + (b1 W2 + b2)``, and so on for every layer:
    the product of the kernels and the biases carried through the later kernels.
    """
    W, b = None, None
    for layer in model.layers:
        if not layer.weights:
            continue
        k, c = (np.asarray(t, dtype=np.float64) for t in layer.weights)
        W, b = (k, c) if W is None else (W @ k, b @ k + c)
    return W, b


def best_straight_line_accuracy(x, y, directions=720):
    """The highest accuracy of any straight-line boundary on 2-D points ``x`` with labels 0/1.

    For each direction ``u`` the points are sorted by ``x . u`` and every cut between
    them is tried, both ways round: an exhaustive search up to the angular step.
    """
    best = 0.0
    for angle in np.linspace(0.0, np.pi, directions, endpoint=False):
        order = np.argsort(x @ np.array([np.cos(angle), np.sin(angle)]))
        ones_left = np.concatenate([[0], np.cumsum(y[order])])        # label-1 points below each cut
        below = np.arange(len(y) + 1)
        correct = (below - ones_left) + (y.sum() - ones_left)          # 0 below the cut, 1 above
        best = max(best, float(np.max(np.maximum(correct, len(y) - correct))) / len(y))
    return best


def restart_adam(optimizer, learning_rate):
    """Make ``optimizer`` (Adam) a fresh one at ``learning_rate``: step count and moment estimates back to 0."""
    for variable in optimizer.variables:
        if variable is optimizer.learning_rate:
            variable.assign(learning_rate)
        else:
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))


def accuracy(model, x, y):
    """Share of ``x`` whose most probable class is ``y`` (one forward pass)."""
    return float(np.mean(np.argmax(np.asarray(model(x)), axis=1) == y))


def hidden_outputs(model, x, names):
    """Each named layer's output on ``x`` (one forward pass)."""
    import keras

    probe = keras.Model(model.input, [model.get_layer(n).output for n in names])
    return [np.asarray(o) for o in probe(x)]


def run(out_dir, quick=True):
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import tensorflow as tf

    import zoo

    r = Recipe("activations", out_dir, title=TITLE, source=SOURCE, quick=quick)
    keras.utils.set_random_seed(0)

    # Values and derivatives, by hand against Keras and GradientTape, in float64.
    keras_fns = keras_functions()
    rows, tape_d = [], {}
    for name, (f, df) in BY_HAND.items():
        y_keras, tape_d[name] = tape_derivative(keras_fns[name], GRID)
        value_err = float(np.max(np.abs(f(GRID) - y_keras)))
        deriv_err = float(np.max(np.abs(df(GRID) - tape_d[name])))
        rows.append([name, value_err, deriv_err, float(df(GRID).min()), float(df(GRID).max())])
        tol = LEAKY_ATOL if name.startswith("leaky") else 1e-12
        r.check_close(f"{name}: value by hand == Keras, max |difference| on [-5, 5]", value_err, 0.0, atol=tol)
        r.check_close(f"{name}: derivative by hand == tf.GradientTape, max |difference| on [-5, 5]", deriv_err, 0.0,
                      atol=tol)
    r.table(f"The functions on {len(GRID)} points in [-5, 5] (float64): by hand against Keras",
            ["function", "max |f - keras|", "max |f' - GradientTape|", "min f'", "max f'"], rows)
    # The numbers that matter for training: the step passes no gradient, the
    # sigmoid at most 1/4 per layer (the vanishing gradient of recipe 5), tanh at
    # most 1, ReLU exactly 1 or 0, leaky ReLU 1 or a (never 0).
    r.check("step: GradientTape's derivative is 0 at every point (no learning signal)",
            not np.any(tape_d["step"]), expected="all 0", measured=f"max |f'| = {np.max(np.abs(tape_d['step'])):g}")
    r.check_close("sigmoid: max of s(1 - s) is 1/4 (at x = 0)", float(d_sigmoid(0.0)), 0.25, atol=1e-15)
    r.check_close("tanh: max of 1 - tanh^2 is 1 (at x = 0)", float(d_tanh(0.0)), 1.0, atol=1e-15)
    leaky = f"leaky ReLU (a = {LEAKY_SLOPE:g})"
    notes_leaky = f"leaky ReLU (a = {NOTES_SLOPE:g})"
    neg = GRID < 0
    r.check(f"ReLU's derivative is 0 for every x < 0; leaky ReLU's is a, never 0 (the notes' a = {NOTES_SLOPE:g} "
            f"and a = {LEAKY_SLOPE:g}; GradientTape)",
            not np.any(tape_d["ReLU"][neg]) and np.allclose(tape_d[leaky][neg], LEAKY_SLOPE, rtol=1e-6, atol=0)
            and np.allclose(tape_d[notes_leaky][neg], NOTES_SLOPE, rtol=1e-6, atol=0),
            expected=f"ReLU' = 0, leaky' = {NOTES_SLOPE:g} or {LEAKY_SLOPE:g} on x < 0",
            measured=f"ReLU' max {np.max(tape_d['ReLU'][neg]):g}; leaky' in "
                     f"[{np.min(tape_d[notes_leaky][neg]):g}, {np.max(tape_d[notes_leaky][neg]):g}] and "
                     f"[{np.min(tape_d[leaky][neg]):g}, {np.max(tape_d[leaky][neg]):g}]")
    r.check_close("tanh(x) == 2 sigmoid(2x) - 1 (tanh is a rescaled sigmoid)",
                  np.max(np.abs(tanh(GRID) - (2 * sigmoid(2 * GRID) - 1))), 0.0, atol=1e-15)

    # Softmax turns a score vector into probabilities: it is vector-valued, so its
    # derivative is a Jacobian, diag(s) - s s^T, checked against tape.jacobian.
    rng = np.random.default_rng(0)
    scores = rng.normal(0, 3, size=(5, 4))
    jac_err = 0.0
    for a in scores:
        at = tf.constant(a)
        with tf.GradientTape(persistent=True) as tape:  # persistent: one gradient per output, no tracing
            tape.watch(at)
            s = keras.activations.softmax(at[None, :])[0]
        jacobian = np.asarray(tape.jacobian(s, at, experimental_use_pfor=False))
        jac_err = max(jac_err, float(np.max(np.abs(jacobian - softmax_jacobian(a)))))
    r.check_close("softmax == keras.activations.softmax (5 random score vectors)",
                  np.max(np.abs(softmax(scores) - np.asarray(keras.activations.softmax(tf.constant(scores))))), 0.0,
                  atol=1e-12)
    r.check_close("softmax Jacobian diag(s) - s s^T by hand == tape.jacobian, max |difference|", jac_err, 0.0,
                  atol=1e-12)
    r.check_close("softmax outputs sum to 1", softmax(scores).sum(axis=1), np.ones(len(scores)), atol=1e-12)
    r.check_close("softmax of two scores (x, 0) is sigmoid(x): max |difference| on [-5, 5]",
                  np.max(np.abs(softmax(np.stack([GRID, 0 * GRID], axis=1))[:, 0] - sigmoid(GRID))), 0.0, atol=1e-12)
    # Saito 3.5.2: exp(1010) overflows; subtracting the max changes nothing else.
    big = np.array([1010.0, 1000.0, 990.0])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(big) / np.exp(big).sum()
    r.check("softmax([1010, 1000, 990]): the naive formula overflows (nan); "
            "minus the max it equals softmax([20, 10, 0])",
            bool(np.all(np.isnan(naive))) and np.allclose(softmax(big), softmax(big - 990)),
            expected="naive nan; stable == shifted", measured=f"naive {naive}, stable {softmax(big)}")

    # The figure the book draws: each function (solid) and its derivative from
    # GradientTape (dashed); leaky ReLU with both slopes; softmax as its first
    # output against one score.
    panels = ["step", "sigmoid", "tanh", "ReLU", "leaky"]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for ax, name in zip(axes.flat, panels):
        if name == "leaky":
            for label, color in ((notes_leaky, "tab:blue"), (leaky, "tab:red")):
                a = label.split("= ")[1].rstrip(")")
                ax.plot(GRID, BY_HAND[label][0](GRID), lw=2, color=color, label=f"f(x), a = {a}")
                ax.plot(GRID, tape_d[label], "--", lw=1.5, color=color, label=f"f'(x), a = {a}")
            ax.set(title=f"leaky ReLU max(ax, x), a = {NOTES_SLOPE:g} (notes), {LEAKY_SLOPE:g}", xlabel="x", ylabel="f(x) and f'(x)")
            continue
        f, _ = BY_HAND[name]
        ax.plot(GRID, f(GRID), lw=2, label="f(x)")
        ax.plot(GRID, tape_d[name], "--", lw=1.5, label="f'(x) (GradientTape)")
        ax.set(title=name, xlabel="x", ylabel="f(x) and f'(x)")
    ax = axes.flat[5]
    three = np.stack([GRID, np.ones_like(GRID), -np.ones_like(GRID)], axis=1)
    ax.plot(GRID, softmax(three)[:, 0], lw=2, label="s_1 of (x, 1, -1)")
    ax.plot(GRID, softmax(three)[:, 1], lw=1, color="0.5", label="s_2, s_3")
    ax.plot(GRID, softmax(three)[:, 2], lw=1, color="0.5")
    ax.plot(GRID, softmax(three)[:, 0] * (1 - softmax(three)[:, 0]), "--", lw=1.5, label="∂s_1/∂x = s_1 (1 - s_1)")
    ax.set(title="softmax", xlabel="x (first score)", ylabel="probability and ∂s_1/∂x")
    for ax in axes.flat:
        ax.axhline(0, color="0.8", lw=0.8)
        ax.axvline(0, color="0.8", lw=0.8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("Activation functions (solid) and their derivatives (dashed)")
    fig.tight_layout()
    r.figure(fig, "activations.png")
    plt.close(fig)

    # -----------------------------------------------------------------------
    # Step 2. Why non-linear: a stack of linear layers is one linear layer. The
    # zoo's dense_classifier with activation "linear" and three hidden layers has
    # the same outputs as softmax(x W + b) with W the product of its kernels --
    # before training and after, whatever the weights. So it cannot learn more than
    # a single layer can: on two concentric circles (no straight line separates
    # them) it is no better than a one-layer softmax classifier, while the same
    # stack with ReLU learns the circle.
    # -----------------------------------------------------------------------
    from sklearn.datasets import make_circles

    n_points, epochs = (600, 20) if quick else (2000, 40)
    xc, yc = make_circles(n_samples=n_points, noise=0.08, factor=0.5, random_state=0)
    xc = xc.astype("float32")
    split = n_points // 2
    (xc_tr, yc_tr), (xc_te, yc_te) = (xc[:split], yc[:split]), (xc[split:], yc[split:])
    nets = {"linear stack 2-16-16-16-2": dict(hidden_units=LINEAR_STACK, activation="linear"),
            "ReLU stack 2-16-16-16-2": dict(hidden_units=LINEAR_STACK, activation="relu")}
    models, accs = {}, {}
    for name, kwargs in nets.items():
        model = zoo.create_model("dense_classifier", input_dim=2, num_classes=2, learning_rate=0.01, seed=0, **kwargs)
        if name.startswith("linear"):
            W0, b0 = collapse_linear_stack(model)
            before = float(np.max(np.abs(np.asarray(model(xc_te)) - softmax(xc_te.astype(np.float64) @ W0 + b0))))
            kernels_before = [np.array(w) for w in model.trainable_weights]
        # All epochs in one fit call (the data repeated, shuffled): the same steps, less per-epoch overhead.
        model.fit(np.tile(xc_tr, (epochs, 1)), np.tile(yc_tr, epochs), epochs=1, batch_size=32, verbose=0)
        if name.startswith("linear"):
            moved_linear = [float(np.linalg.norm(np.asarray(w) - w0) / max(np.linalg.norm(w0), 1e-12))
                            for w, w0 in zip(model.trainable_weights, kernels_before) if w0.ndim == 2]
        models[name] = model
        accs[name] = accuracy(model, xc_te, yc_te)
    stack = models["linear stack 2-16-16-16-2"]
    W, b = collapse_linear_stack(stack)
    after = float(np.max(np.abs(np.asarray(stack(xc_te)) - softmax(xc_te.astype(np.float64) @ W + b))))
    r.check_close("linear stack == softmax(x W + b) with W = W1 W2 W3 W4 (max |difference| of probabilities), "
                  "before training", before, 0.0, atol=1e-5)
    r.check_close("... and after training", after, 0.0, atol=1e-5)
    relu_stack = models["ReLU stack 2-16-16-16-2"]
    Wr, br = collapse_linear_stack(relu_stack)
    relu_gap = float(np.max(np.abs(np.asarray(relu_stack(xc_te)) - softmax(xc_te.astype(np.float64) @ Wr + br))))
    r.check_at_least("with ReLU between the layers the product of kernels is NOT the network (max |difference|)",
                     relu_gap, 0.1)
    # The best any straight line can do on these test points (every direction, every threshold):
    # a linear stack can at most match it, whatever its depth; the ReLU stack goes far beyond.
    line = best_straight_line_accuracy(xc_te, yc_te)
    r.check_at_most(f"circles: the linear stack's test accuracy is at most the best straight line's ({line:.3f})",
                    accs["linear stack 2-16-16-16-2"], line)
    r.check_at_least("circles: the same stack with ReLU beats every straight line by >= 0.25 (test accuracy)",
                     accs["ReLU stack 2-16-16-16-2"], line + 0.25)
    r.table(f"Two circles ({split} training, {n_points - split} test points), Adam 0.01, {epochs} epochs",
            ["network", "parameters", "test accuracy"],
            [[name, models[name].count_params(), accs[name]] for name in nets]
            + [["the linear stack collapsed: W (2x2) and b (2)", W.size + b.size, accs["linear stack 2-16-16-16-2"]],
               ["the best straight line on the test points (exhaustive)", "-", line]])
    # notes 002: "선형 층을 추가하면 학습 가능한 가중치가 새로 생긴다" -- a linear layer adds trainable weights.
    sizes = (2, *LINEAR_STACK, 2)
    by_formula = sum(dense_parameters(a, b_) for a, b_ in zip(sizes[:-1], sizes[1:]))
    n_trainable = int(sum(np.prod(w.shape) for w in stack.trainable_weights))
    r.check(f"linear layers still add trainable weights: the linear stack trains {by_formula} numbers "
            f"(sum of n_in x n_out + n_out), against {W.size + b.size} of its collapsed layer",
            n_trainable == by_formula > W.size + b.size, expected=f"{by_formula} > {W.size + b.size}",
            measured=f"{n_trainable} trainable")
    r.check_at_least("... and training moves every one of its kernels: smallest relative change over the "
                     f"{len(moved_linear)} kernels", min(moved_linear), 1e-3)
    r.note("A linear stack still has more parameters to learn (the notes: linear layers do add trainable "
           "weights, as an embedding layer does), but it computes no more functions than its collapsed "
           "single layer: the non-linearity between the layers is what depth buys.")

    grid = np.stack(np.meshgrid(np.linspace(-1.5, 1.5, 150), np.linspace(-1.5, 1.5, 150)), axis=-1).reshape(-1, 2)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.4))
    for ax, name in zip(axes, nets):
        p = np.asarray(models[name](grid.astype("float32")))[:, 1].reshape(150, 150)
        gx, gy = grid[:, 0].reshape(150, 150), grid[:, 1].reshape(150, 150)
        ax.contourf(gx, gy, p, levels=20, cmap="RdBu_r", alpha=0.6)
        ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1.5)  # the decision boundary
        ax.scatter(xc_te[:, 0], xc_te[:, 1], c=yc_te, cmap="RdBu_r", s=6, edgecolors="k", linewidths=0.2)
        ax.set(title=f"{name}\ntest accuracy {accs[name]:.2f}", aspect="equal", xticks=[], yticks=[])
    fig.suptitle("Linear layers stacked still draw a straight boundary; ReLU between them bends it")
    fig.tight_layout()
    r.figure(fig, "linear_stack.png")
    plt.close(fig)

    # -----------------------------------------------------------------------
    # Step 3. Dying ReLU. A unit is dead when its pre-activation is negative for
    # every training input: its output is 0 everywhere, so is its gradient, and
    # no later step can change its incoming weights. One epoch of Adam at a
    # learning rate 100x too large kills most units of a ReLU network on digits;
    # the same network with leaky ReLU also has units negative everywhere, but
    # their gradient is a * (...), not 0, and they keep carrying signal.
    # -----------------------------------------------------------------------
    recovery_epochs = 2 if quick else 10
    (xd, yd), (xd_te, yd_te) = zoo.datasets.load("digits")
    xd, xd_te = xd.reshape(len(xd), -1), xd_te.reshape(len(xd_te), -1)
    layer_names = [f"hidden{i}" for i in range(1, len(DYING_HIDDEN) + 1)]
    lk_name, notes_name = f"leaky ReLU a={LEAKY_SLOPE:g}, too-large rate", f"leaky ReLU a={NOTES_SLOPE:g}, too-large rate"
    runs = {"ReLU, normal rate": ("relu", NORMAL_RATE), "ReLU, too-large rate": ("relu", TOO_LARGE_RATE),
            notes_name: (keras_fns[notes_leaky], TOO_LARGE_RATE), lk_name: (keras_fns[leaky], TOO_LARGE_RATE)}
    dying, rows, activity = {}, [], {}
    for name, (activation, rate) in runs.items():
        model = zoo.create_model("dense_classifier", input_dim=64, num_classes=10, hidden_units=DYING_HIDDEN,
                                 activation=activation, optimizer="adam", learning_rate=rate, seed=0)
        model.fit(xd, yd, epochs=1, batch_size=32, verbose=0)
        outs = hidden_outputs(model, xd, layer_names)
        negative = [np.all(o <= 0, axis=0) for o in outs]             # per unit: <= 0 on every training input
        activity[name] = np.mean(outs[0] > 0, axis=0)                 # share of inputs on which each unit fires
        # The gradient of the loss on the whole training set for each unit's incoming weights and bias.
        with tf.GradientTape() as tape:
            loss = keras.losses.sparse_categorical_crossentropy(yd, model(xd))
            loss = tf.reduce_mean(loss)
        kernels = [model.get_layer(n).kernel for n in layer_names]
        biases = [model.get_layer(n).bias for n in layer_names]
        grads = tape.gradient(loss, kernels + biases)
        unit_grad = [np.abs(np.asarray(gk)).max(axis=0) + np.abs(np.asarray(gb)) for gk, gb in
                     zip(grads[: len(kernels)], grads[len(kernels):])]
        w_before = np.asarray(kernels[0]).copy()
        acc_after_lr = accuracy(model, xd_te, yd_te)
        # Then train at the normal rate, with Adam restarted (its moving averages of
        # earlier gradients would otherwise keep nudging every weight for a while):
        # do the negative units come back?
        restart_adam(model.optimizer, NORMAL_RATE)
        model.fit(xd, yd, epochs=recovery_epochs, batch_size=32, verbose=0)
        negative_after = [np.all(o <= 0, axis=0) for o in hidden_outputs(model, xd, layer_names)]
        moved = np.any(np.asarray(kernels[0]) != w_before, axis=0)    # per unit of hidden1: weights changed
        shift = np.linalg.norm(np.asarray(kernels[0]) - w_before, axis=0)  # per unit of hidden1: how far
        dying[name] = dict(negative=negative, negative_after=negative_after, unit_grad=unit_grad, moved=moved,
                           shift=shift, acc=accuracy(model, xd_te, yd_te), acc_epoch1=acc_after_lr)
        d = dying[name]
        rows.append([name, f"{rate:g}", *[float(n.mean()) for n in negative],
                     float(np.mean(np.concatenate([g == 0 for g in unit_grad]))), acc_after_lr,
                     *[float(n.mean()) for n in negative_after], d["acc"]])
    units = sum(DYING_HIDDEN)
    r.table(f"Digits, 64-{'-'.join(map(str, DYING_HIDDEN))}-10, Adam: 1 epoch at the rate shown, then "
            f"{recovery_epochs} epochs at {NORMAL_RATE:g}. 'Negative' = output <= 0 on every training image",
            ["network", "rate of epoch 1", "negative units, hidden1", "negative units, hidden2",
             "units with zero gradient (both layers)", "test accuracy after epoch 1",
             "negative after recovery, hidden1",
             "negative after recovery, hidden2", "test accuracy after recovery"], rows)

    relu_ok, relu_big = dying["ReLU, normal rate"], dying["ReLU, too-large rate"]
    lk, lk_notes = dying[lk_name], dying[notes_name]
    dead_frac = lambda d: float(np.mean(np.concatenate(d["negative"])))  # noqa: E731
    r.check_at_most("ReLU at the normal rate 1e-3: fraction of dead units (both layers)", dead_frac(relu_ok), 0.1)
    r.check_at_least(f"ReLU after one epoch at the too-large rate {TOO_LARGE_RATE:g}: fraction of dead units",
                     dead_frac(relu_big), 0.5)
    dead_mask = np.concatenate(relu_big["negative"])
    grad_all = np.concatenate(relu_big["unit_grad"])
    living = float(grad_all[~dead_mask].min()) if (~dead_mask).any() else float("nan")
    r.check("every dead ReLU unit has a gradient of exactly 0 (all its incoming weights and its bias)",
            bool(np.all(grad_all[dead_mask] == 0)), expected="0 for all dead units",
            measured=f"max over {int(dead_mask.sum())} dead units: {float(grad_all[dead_mask].max()):g}; "
                     f"living units: min {living:.3g}")
    r.check("dead ReLU units of hidden1 stay dead: their weights are bit-identical after "
            f"{recovery_epochs} more epochs at the normal rate",
            not np.any(relu_big["moved"][relu_big["negative"][0]])
            and np.array_equal(relu_big["negative"][0], relu_big["negative"][0] & relu_big["negative_after"][0]),
            expected="0 moved, 0 revived",
            measured=f"{int(np.sum(relu_big['moved'][relu_big['negative'][0]]))} of "
                     f"{int(relu_big['negative'][0].sum())} moved, "
                     f"{int(np.sum(relu_big['negative'][0] & ~relu_big['negative_after'][0]))} revived")
    lk_neg = np.concatenate(lk["negative"])
    lk_grad = np.concatenate(lk["unit_grad"])
    r.check("leaky ReLU at the same rate: no unit has a zero gradient, not even those negative on every input",
            bool(np.all(lk_grad > 0)), expected=f"0 of {units} units with zero gradient",
            measured=f"{int(np.sum(lk_grad == 0))} of {units} (negative everywhere: {int(lk_neg.sum())}; their "
                     f"smallest gradient {float(lk_grad[lk_neg].min()) if lk_neg.any() else float('nan'):.3g})")
    r.check("... and its units negative everywhere in hidden1 keep learning (weights moved during recovery)",
            bool(np.all(lk["moved"][lk["negative"][0]])), expected="all moved",
            measured=f"{int(np.sum(lk['moved'][lk['negative'][0]]))} of {int(lk['negative'][0].sum())} moved")
    r.check_at_least(f"leaky ReLU (a = {LEAKY_SLOPE:g})'s test accuracy after recovery minus ReLU's "
                     "(same too-large rate)", lk["acc"] - relu_big["acc"], 0.1)
    # The notes' a = 0.001: the claim holds (no unit's gradient is 0), but the
    # gradient through a negative unit is a times what it would be, so units
    # driven negative move 100 times less per step than with a = 0.1.
    nt_neg = np.concatenate(lk_notes["negative"])
    nt_grad = np.concatenate(lk_notes["unit_grad"])
    r.check(f"the notes' a = {NOTES_SLOPE:g} at the same rate: no unit has a zero gradient either (the notes' claim)",
            bool(np.all(nt_grad > 0)), expected=f"0 of {units} units with zero gradient",
            measured=f"{int(np.sum(nt_grad == 0))} of {units} (negative everywhere: {int(nt_neg.sum())}; their "
                     f"smallest gradient {float(nt_grad[nt_neg].min()) if nt_neg.any() else float('nan'):.3g})")
    neg_after = {n: float(np.mean(np.concatenate(d["negative_after"]))) for n, d in dying.items()}
    r.check_at_least(f"why a larger a: share of units still negative on every input after recovery, a = "
                     f"{NOTES_SLOPE:g} minus a = {LEAKY_SLOPE:g} (both layers)",
                     neg_after[notes_name] - neg_after[lk_name], 0.15)
    r.note(f"The too-large rate pushes most pre-activations below 0 for every input. ReLU then outputs 0 and "
           f"passes back a gradient of 0, so those units never change again and the network is left with a "
           f"handful of units (its accuracy shows it). Leaky ReLU also drives many units negative, but with "
           f"slope a = {LEAKY_SLOPE:g} they still pass a·z forward and a·(...) backward: the network keeps "
           f"learning. A unit of hidden2 can come back when hidden1 changes below it; a dead unit of hidden1 "
           f"cannot, because its input, the image, never changes.")
    r.note(f"The notes' slope a = {NOTES_SLOPE:g} keeps every gradient above 0, as the notes say, but only just: a "
           f"unit negative on every input passes back {NOTES_SLOPE:g} of the signal and forward {NOTES_SLOPE:g} z, "
           f"next to nothing. The too-large epoch leaves {neg_after[notes_name]:.0%} of its units negative on every "
           f"input after recovery against {neg_after[lk_name]:.0%} with a = {LEAKY_SLOPE:g}, and the network ends at "
           f"test accuracy {lk_notes['acc']:.3f} against {lk['acc']:.3f}. That is why larger "
           "slopes are common in practice (0.01 in Maas et al., 0.2-0.3 as Keras's defaults); this recipe's "
           f"figures use a = {LEAKY_SLOPE:g} beside the notes' {NOTES_SLOPE:g}.")

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for name, share in activity.items():
        axes[0].plot(np.sort(share)[::-1], label=name)
    axes[0].set(xlabel="hidden1 unit (sorted)", ylabel="share of training images with output > 0",
                title="How often each unit fires after epoch 1", ylim=(-0.02, 1.02))
    axes[0].legend(fontsize=8)
    axes[0].grid(alpha=0.3)
    x_pos = np.arange(len(dying))
    axes[1].bar(x_pos - 0.2, [dead_frac(d) for d in dying.values()], 0.4,
                label="negative on every input after epoch 1 (dead for ReLU)")
    axes[1].bar(x_pos + 0.2, [d["acc"] for d in dying.values()], 0.4, label="test accuracy after recovery")
    axes[1].set(xticks=x_pos, ylim=(0, 1.25), yticks=np.linspace(0, 1, 6), title="Dying ReLU and leaky ReLU",
                ylabel="fraction of units / test accuracy")
    axes[1].set_xticklabels([n.replace(", ", "\n") for n in dying], fontsize=8)
    axes[1].legend(fontsize=8, loc="upper center", ncol=2)
    axes[1].grid(alpha=0.3, axis="y")
    fig.tight_layout()
    r.figure(fig, "dying_relu.png")
    plt.close(fig)
    return r.result()


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
