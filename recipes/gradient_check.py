"""Gradient check (수치 미분 vs 역전파).

Reproduces: the book's gradient check -- the gradients that backpropagation computes
analytically are compared with numerical gradients from central differences,
``(L(w + h) - L(w - h)) / 2h``, one parameter at a time. On a small MLP in float64
(iris features -> 10 sigmoid units -> 3-way softmax with cross-entropy, backward pass
written by hand in NumPy) and on the zoo's ``dense_classifier`` (4-8-8-3 ReLU, built
in float64, gradients from ``tf.GradientTape``) the relative error is far below 1e-6.
We also show what the check is for (a classic backprop bug is caught at once), why
the step ``h`` matters (truncation error against rounding error: the V-shaped curve,
central against forward differences, float64 against float32) and what the numerical
gradient costs (two loss evaluations per parameter).
Source: notes 003 ("Backpropagation: 수치미분 대신 손실함수의 기울기를 계산하는 방법 ->
해석적 방법"); Saito, *Deep Learning from Scratch* (밑바닥부터 시작하는 딥러닝) sections
4.3 (수치 미분, central difference) and 5.7.3 (기울기 확인, gradient check); the
relative-error criterion of the CS231n notes ("Gradient checks").
"""

from __future__ import annotations

import contextlib
import time

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "Gradient check (수치 미분 vs 역전파)"
ORDER = 3
SOURCE = "notes 003 (Backpropagation: 수치미분 대신 해석적 방법); Saito sections 4.3 and 5.7.3"

# The step of the central difference. Its error is O(h^2) (truncation) plus
# O(eps_machine / h) (rounding); the two balance near eps^(1/3) ~ 6e-6 in float64.
H = 1e-5
# The bar: relative error below 1e-6 (CS231n: < 1e-7 "you should be happy").
TOLERANCE = 1e-6
# The small MLP and its batch.
HIDDEN, BATCH = 10, 16
# Wider hidden layers for the cost table (quick mode times the first two).
COST_HIDDEN = (10, 100, 1000)


# ---------------------------------------------------------------------------
# Step 1. A small MLP in NumPy with its backward pass written by hand, layer by
# layer as in the book: Affine -> Sigmoid -> Affine -> Softmax-with-cross-entropy.
# ---------------------------------------------------------------------------
def init_mlp(n_in, n_hidden, n_out, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(0, 0.5, (n_in, n_hidden)).astype(dtype), "b1": rng.normal(0, 0.1, n_hidden).astype(dtype),
            "W2": rng.normal(0, 0.5, (n_hidden, n_out)).astype(dtype), "b2": rng.normal(0, 0.1, n_out).astype(dtype)}


def mlp_loss(p, x, y):
    """Mean cross-entropy ``-1/N sum log softmax(a)_y`` of the MLP on the batch (x, y)."""
    h = 1.0 / (1.0 + np.exp(-(x @ p["W1"] + p["b1"])))
    a = h @ p["W2"] + p["b2"]
    a = a - a.max(axis=1, keepdims=True)                      # for stability; softmax is unchanged
    log_softmax = a - np.log(np.exp(a).sum(axis=1, keepdims=True))
    return -log_softmax[np.arange(len(y)), y].mean()


def mlp_backprop(p, x, y, *, bug=None):
    """The analytic gradient, backwards through each layer (the chain rule).

    ``bug="sigmoid"`` plants the classic mistake of taking the sigmoid's derivative
    at its input instead of its output: ``z (1 - z)`` for ``s (1 - s)``.
    """
    z = x @ p["W1"] + p["b1"]
    h = 1.0 / (1.0 + np.exp(-z))
    a = h @ p["W2"] + p["b2"]
    e = np.exp(a - a.max(axis=1, keepdims=True))
    s = e / e.sum(axis=1, keepdims=True)
    da = s.copy()                                             # softmax + cross-entropy: (s - t) / N
    da[np.arange(len(y)), y] -= 1.0
    da /= len(y)
    g = {"W2": h.T @ da, "b2": da.sum(axis=0)}                # Affine 2
    dh = da @ p["W2"].T
    local = z * (1 - z) if bug == "sigmoid" else h * (1 - h)  # Sigmoid: dh/dz = h (1 - h)
    dz = dh * local
    g["W1"], g["b1"] = x.T @ dz, dz.sum(axis=0)               # Affine 1
    return g


def numerical_gradient(loss, params, h=H, *, kind="central"):
    """Numerical gradient of ``loss()`` with respect to every entry of ``params``.

    ``params`` maps names to NumPy arrays that ``loss`` reads; each entry is moved
    by +-h in place and put back. ``kind="forward"`` uses ``(L(w + h) - L(w)) / h``.
    Two loss evaluations per parameter (one more for forward differences' L(w)).
    """
    grads = {}
    base = loss() if kind == "forward" else None
    for name, value in params.items():
        grad = np.zeros(value.shape, dtype=np.float64)
        for index in np.ndindex(value.shape):
            old = value[index]
            value[index] = old + h
            plus = loss()
            if kind == "central":
                value[index] = old - h
                grad[index] = (plus - loss()) / (2 * h)
            else:
                grad[index] = (plus - base) / h
            value[index] = old
        grads[name] = grad
    return grads


def relative_error(analytic, numeric):
    """max over parameter arrays of ||a - n|| / max(||a||, ||n||) (0 for two zero arrays)."""
    errors = []
    for name in analytic:
        a, n = np.asarray(analytic[name], np.float64), np.asarray(numeric[name], np.float64)
        scale = max(np.linalg.norm(a), np.linalg.norm(n))
        errors.append(0.0 if scale == 0 else float(np.linalg.norm(a - n) / scale))
    return max(errors)


def max_elementwise_relative_error(analytic, numeric, floor=1e-8):
    """max over all entries of |a - n| / max(|a|, |n|, floor) (the floor keeps 0/0 out)."""
    return max(float(np.max(np.abs(analytic[k] - numeric[k]) /
                            np.maximum(np.maximum(np.abs(analytic[k]), np.abs(numeric[k])), floor))) for k in analytic)


@contextlib.contextmanager
def keras_floatx(dtype):
    """Build Keras layers in ``dtype`` inside the block; the previous defaults come back after.

    Layers take their dtype from the global dtype policy, which Keras fixes from
    ``floatx`` the first time any layer is built; so both are set, and both restored.
    """
    import keras

    saved_floatx, saved_policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(saved_floatx)
        keras.config.set_dtype_policy(saved_policy)


def run(out_dir, quick=True):
    import keras
    import matplotlib
    import tensorflow as tf

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import zoo

    r = Recipe("gradient_check", out_dir, title=TITLE, source=SOURCE, quick=quick)
    keras.utils.set_random_seed(0)
    (x_iris, y_iris), _ = zoo.datasets.load("iris")
    x, y = x_iris[:BATCH].astype(np.float64), y_iris[:BATCH]

    # -----------------------------------------------------------------------
    # Step 2. The check itself on the NumPy MLP, in float64.
    # -----------------------------------------------------------------------
    params = init_mlp(x.shape[1], HIDDEN, 3)
    loss = lambda: mlp_loss(params, x, y)  # noqa: E731 -- reads the arrays that numerical_gradient moves
    analytic = mlp_backprop(params, x, y)
    numeric = numerical_gradient(loss, params)
    rel = relative_error(analytic, numeric)
    r.check_at_most(f"NumPy MLP 4-{HIDDEN}-3 (sigmoid, softmax CE), float64: relative error backprop vs central "
                    f"differences (h = {H:g})", rel, TOLERANCE)
    r.check_at_most("the same, entry by entry: max |a - n| / max(|a|, |n|)",
                    max_elementwise_relative_error(analytic, numeric), TOLERANCE)
    r.table(f"NumPy MLP, batch of {BATCH} iris samples: backprop against central differences, per parameter array",
            ["array", "shape", "mean |∂L/∂w| (backprop)", "max |backprop - numerical|", "relative error"],
            [[k, str(params[k].shape), float(np.mean(np.abs(analytic[k]))),
              float(np.max(np.abs(analytic[k] - numeric[k]))), relative_error({k: analytic[k]}, {k: numeric[k]})]
             for k in params])

    # What the check is for: a planted bug (the sigmoid's derivative taken at z
    # instead of at sigmoid(z)) gives gradients that look plausible but are wrong.
    buggy = mlp_backprop(params, x, y, bug="sigmoid")
    rel_bug = relative_error(buggy, numeric)
    r.check_at_least("a planted bug (sigmoid derivative z(1-z) instead of s(1-s)) is caught: relative error",
                     rel_bug, 1e-2)
    r.check_at_most("... while the output layer, upstream of the bug, still agrees (W2, b2)",
                    relative_error({k: buggy[k] for k in ("W2", "b2")}, {k: numeric[k] for k in ("W2", "b2")}),
                    TOLERANCE)

    # -----------------------------------------------------------------------
    # Step 3. The zoo's dense_classifier (the notes' 4-8-8-3 ReLU network), built
    # in float64; its gradient from tf.GradientTape against central differences of
    # the Keras loss, moving each Keras weight in turn. ReLU has a kink at 0, so we
    # first make sure no pre-activation is close enough to 0 for a step of h to
    # cross it (a crossing would make the numerical gradient meaningless there).
    # -----------------------------------------------------------------------
    with keras_floatx("float64"):
        model = zoo.create_model("dense_classifier", seed=0, compile=False)
        loss_fn = keras.losses.SparseCategoricalCrossentropy()
    variables = model.trainable_variables
    # (Built in float64: a float32 model could not pass the 1e-6 bar below, as step 4 shows.)
    xt, yt = tf.constant(x), tf.constant(y)
    tape_grads = {v.path: np.asarray(g) for v, g in zip(variables, _tape_gradient(model, loss_fn, xt, yt))}

    values = {v.path: np.asarray(v).copy() for v in variables}
    by_path = {v.path: v for v in variables}

    writers = {p: _Writer(values[p], by_path[p]) for p in values}  # each move reaches the Keras variable
    keras_loss = tf.function(lambda: loss_fn(yt, model(xt)))  # traced once; reads the variables' current values
    keras_loss()                                              # trace it now, so the timing below is the evaluations
    t0 = time.perf_counter()
    keras_numeric = numerical_gradient(lambda: float(keras_loss()), writers)
    t_keras_numeric = time.perf_counter() - t0
    for p, v in by_path.items():  # the weights are back where they started
        v.assign(values[p])
    rel_keras = relative_error(tape_grads, keras_numeric)
    r.check_at_most("zoo dense_classifier 4-8-8-3 ReLU, float64: relative error tf.GradientTape vs central differences",
                    rel_keras, TOLERANCE)
    # The kink: pre-activations of both hidden layers, and how far one step of h on
    # any single weight can move them. A step on a weight or bias of this layer
    # moves z by at most h (max|input| + 1); a step upstream moves one input unit by
    # at most the previous layer's reach (ReLU is 1-Lipschitz), hence z by at most
    # max|W| times that.
    a, margins, upstream = x, [], 0.0
    dense_layers = [layer for layer in model.layers if layer.weights]
    for layer in dense_layers[:-1]:
        w, b = (np.asarray(t) for t in layer.weights)
        z = a @ w + b
        reach = max(H * (float(np.max(np.abs(a))) + 1.0), float(np.max(np.abs(w))) * upstream)
        margins.append((float(np.min(np.abs(z))), reach))
        a, upstream = np.maximum(z, 0.0), reach
    r.check("no ReLU pre-activation within reach of one step of h on any weight (min |z| > reach, both layers)",
            all(m > reach for m, reach in margins), expected="min |z| > reach",
            measured="; ".join(f"min |z| {m:.3g} vs reach {reach:.2g}" for m, reach in margins))

    # -----------------------------------------------------------------------
    # Step 4. The step h: truncation error falls as h^2 (central) or h (forward),
    # rounding error grows as eps/h. float32 (eps ~ 1e-7) never gets near 1e-6.
    # -----------------------------------------------------------------------
    steps = np.logspace(-1, -10, 10 if quick else 37)
    curves = {"central, float64": [], "forward, float64": [], "central, float32": []}
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    x32 = x.astype(np.float32)
    for h in steps:
        curves["central, float64"].append(relative_error(analytic, numerical_gradient(loss, params, h)))
        curves["forward, float64"].append(relative_error(analytic, numerical_gradient(loss, params, h, kind="forward")))
        curves["central, float32"].append(relative_error(
            analytic, numerical_gradient(lambda: mlp_loss(p32, x32, y), p32, np.float32(h))))
    big = steps >= 1e-3 - 1e-15  # truncation-dominated steps
    slope = {k: float(np.polyfit(np.log10(steps[big]), np.log10(np.asarray(c)[big]), 1)[0]) for k, c in curves.items()}
    r.check_close("central differences: error ~ h^2 for large h (log-log slope over h in [1e-3, 1e-1])",
                  slope["central, float64"], 2.0, atol=0.2)
    r.check_close("forward differences: error ~ h (log-log slope over h in [1e-3, 1e-1])",
                  slope["forward, float64"], 1.0, atol=0.2)
    best = {k: (float(np.min(c)), float(steps[int(np.argmin(c))])) for k, c in curves.items()}
    r.check_at_most("best central float64 error (over h)", best["central, float64"][0], 1e-8)
    r.check_at_least("float32 cannot pass the 1e-6 bar at any h (best central float32 error)",
                     best["central, float32"][0], TOLERANCE)
    r.table("Best step per method (relative error against backprop)", ["method", "best h", "relative error at best h",
                                                                       f"relative error at h = {H:g}"],
            [[k, f"{best[k][1]:.1e}", best[k][0], float(np.interp(np.log10(H), np.log10(steps[::-1]),
                                                                  np.asarray(c)[::-1]))] for k, c in curves.items()])

    # What the numerical gradient costs: two evaluations of the loss per parameter,
    # against one forward and one backward pass for backpropagation, whatever the
    # number of parameters. Timed on wider versions of the same MLP.
    cost_rows = []
    for hidden in COST_HIDDEN[: 2 if quick else None]:
        wide = init_mlp(x.shape[1], hidden, 3, seed=1)
        n = sum(v.size for v in wide.values())
        calls = []  # every loss evaluation the numerical gradient makes
        t_num = _seconds(lambda: numerical_gradient(lambda: calls.append(1) or mlp_loss(wide, x, y), wide), repeat=1)
        t_bp = _seconds(lambda: mlp_backprop(wide, x, y), repeat=20)
        cost_rows.append([f"NumPy MLP 4-{hidden}-3", n, len(calls), t_num, t_bp, t_num / t_bp])
    t_tape = _seconds(lambda: _tape_gradient(model, loss_fn, xt, yt), repeat=5)
    cost_rows.append(["zoo dense_classifier 4-8-8-3 (Keras: loss in a tf.function, eager GradientTape)",
                      model.count_params(), 2 * model.count_params(), t_keras_numeric, t_tape,
                      t_keras_numeric / t_tape])
    r.table("Cost: the numerical gradient against backpropagation (times on this machine; median of repeats "
            "for backprop)", ["network", "parameters", "loss evaluations (numerical)", "numerical (s)",
                               "backprop (s)", "ratio"], cost_rows)
    numpy_rows = cost_rows[:-1]
    r.check("the numerical gradient evaluates the loss twice per parameter (counted): evaluations == 2 x parameters, "
            "every network", all(row[2] == 2 * row[1] for row in numpy_rows), expected="2 n",
            measured="; ".join(f"{row[1]} parameters: {row[2]}" for row in numpy_rows))
    # Times, not counts, so the bar is loose: the smallest measured ratio has been over 100. The Keras row
    # is left out: at 4-8-8-3 an eager GradientTape call costs about as much as many tiny loss calls.
    r.check("... so it costs far more than backprop's one forward and one backward pass: time ratio >= 10 in every "
            "NumPy row, and larger for the larger network", all(row[5] >= 10 for row in numpy_rows)
            and numpy_rows[-1][5] > numpy_rows[0][5], expected=">= 10, growing with the parameters",
            measured=", ".join(f"{row[1]} parameters: {row[5]:.0f}x" for row in numpy_rows))
    r.note("Backpropagation gets every partial derivative from one forward and one backward pass; the numerical "
           "gradient needs two forward passes per parameter, so it is only a check, on small networks, of the "
           "backward pass that training uses. The relative error, not the absolute one, is the meaningful number: "
           "gradients of very different sizes are compared on one scale.")

    # The figure: error against h.
    fig, ax = plt.subplots(figsize=(8, 5))
    styles = {"central, float64": "o-", "forward, float64": "s--", "central, float32": "^:"}
    for k, c in curves.items():
        ax.loglog(steps, c, styles[k], ms=4, label=f"{k} (best {best[k][0]:.1e} at h = {best[k][1]:.0e})")
    ax.axhline(TOLERANCE, color="tab:red", lw=1, label="the bar: 1e-6")
    ax.axvline(H, color="0.5", lw=0.8, ls="--", label=f"h = {H:g} (used above)")
    ax.invert_xaxis()
    ax.set(xlabel="step h (smaller to the right)", ylabel="relative error vs backprop",
           title="Numerical gradient error: truncation (left) against rounding (right)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    r.figure(fig, "error_vs_step.png")
    plt.close(fig)
    return r.result()


def _seconds(fn, repeat):
    """Median wall time of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _tape_gradient(model, loss_fn, x, y):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x))
    return tape.gradient(loss, model.trainable_variables)


class _Writer:
    """A NumPy array view whose item writes also go into a Keras variable.

    :func:`numerical_gradient` moves one entry at a time with ``value[index] = ...``;
    for a Keras weight the move must reach the variable the model reads.
    """

    def __init__(self, array, variable):
        self.array, self.variable = array, variable
        self.shape = array.shape

    def __getitem__(self, index):
        return self.array[index]

    def __setitem__(self, index, value):
        self.array[index] = value
        self.variable.assign(self.array)


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
