"""Forward and backward propagation by hand (순전파, 역전파).

Reproduces: the notes' worked example of backpropagation -- a 2-2-2 network with
sigmoid activations and no biases, inputs (x1, x2) = (0.1, 0.2), weights W1..W4 =
0.3, 0.25, 0.4, 0.35 (input to hidden) and W5..W8 = 0.45, 0.4, 0.7, 0.6 (hidden to
output), targets (0.4, 0.6), the error ``E_total = sum 1/2 (target - output)^2`` and a
learning rate of 0.5. We compute, and print, every intermediate value of the forward
pass; each weight's gradient by the chain rule in NumPy (step 1: W5..W8, step 2:
W1..W4); the same gradients from ``tf.GradientTape``; the weights after one gradient-
descent step (by hand and by ``keras.optimizers.SGD``); and the forward pass with
the new weights, whose error the book prints as 0.02323634 (from 0.02397190).
Source: notes 002, section 5 (역전파: 5-1 인공 신경망, 5-2 순전파, 5-3 역전파 1단계,
5-4 역전파 2단계, 5-5 결과 확인). The notes keep the numbers in images that are not
in the text; they follow, section for section, 유원준·안상준, 「딥 러닝을 이용한 자연어
처리 입문」 (WikiDocs), "역전파(BackPropagation) 이해하기", whose printed values
(8 decimals) are the ``BOOK`` numbers below.

Naming, as in the notes: ``z`` is a weighted sum, ``h`` a hidden output and ``o`` an
output after the sigmoid.

    z1 = W1 x1 + W2 x2    h1 = sigmoid(z1)        z3 = W5 h1 + W6 h2    o1 = sigmoid(z3)
    z2 = W3 x1 + W4 x2    h2 = sigmoid(z2)        z4 = W7 h1 + W8 h2    o2 = sigmoid(z4)
"""

from __future__ import annotations

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "Forward and backward propagation by hand (순전파, 역전파)"
ORDER = 2
SOURCE = ("notes 002 section 5 (역전파 5-1 ... 5-5), numbers as printed in WikiDocs "
          "「딥 러닝을 이용한 자연어 처리 입문」 '역전파(BackPropagation) 이해하기'")

# The example. The notes describe it (sigmoid, no biases, inputs in blue and weights in red)
# but its numbers are in their missing images; the numbers are the WikiDocs page's (above),
# whose figures 5-1 and 5-2 draw them and whose text uses the target and the learning rate.
X = np.array([0.1, 0.2])                       # x1, x2 (the blue numbers)
W = np.array([0.3, 0.25, 0.4, 0.35,            # W1..W4: input -> hidden (the red numbers)
              0.45, 0.4, 0.7, 0.6])            # W5..W8: hidden -> output
TARGET = np.array([0.4, 0.6])
LEARNING_RATE = 0.5
# More steps of the same update, for the error curve of the figure (not in the book).
CURVE_STEPS = 200

# The book's printed values, 8 decimals (the WikiDocs page above, sections 5-2 ... 5-4, in its text);
# we compare with atol 1e-8. The notes' own copies of these are missing images.
BOOK = {
    "z1": 0.08, "z2": 0.11, "h1": 0.51998934, "h2": 0.52747230,
    "z3": 0.44498412, "z4": 0.68047592, "o1": 0.60944600, "o2": 0.66384491,
    "E_o1": 0.02193381, "E_o2": 0.00203809, "E_total": 0.02397190,
    # step 1 (W5): dE/do1, do1/dz3, dz3/dW5 = h1 and their product
    "dE/do1": 0.20944600, "do1/dz3": 0.23802157, "do2/dz4": 0.22315485, "dE/dW5": 0.02592286,
    # step 2 (W1): dE_o1/dh1 + dE_o2/dh1, dh1/dz1, dz1/dW1 = x1 and their product
    "dE_o1/dh1": 0.02243370, "dE_o2/dh1": 0.00997311, "dE/dh1": 0.03240681,
    "dh1/dz1": 0.24960043, "dE/dW1": 0.00080888,
}
BOOK_UPDATED = np.array([0.29959556, 0.24919112, 0.39964496, 0.34928991,   # W1+ .. W4+
                         0.43703857, 0.38685205, 0.69629578, 0.59624247])  # W5+ .. W8+
# 5-5 결과 확인: the forward pass again with the updated weights. Source: the WikiDocs
# textbook the notes follow (유원준·안상준, 「딥 러닝을 이용한 자연어 처리 입문」,
# "역전파(BackPropagation) 이해하기", 5-5), which prints these values in a figure, not in
# its text; the 8 decimals are that figure as transcribed, "순전파 오차: 0.02397190 >
# 역전파 오차: 0.02323634". The notes carry no number here (their copy of the figure is
# a missing image). A transcription error would show: the checks recompute every value
# from X, W and the learning rate above and compare to 1e-8.
BOOK_AFTER = {
    "z1": 0.07979778, "z2": 0.10982248, "h1": 0.51993887, "h2": 0.52742806,
    "z3": 0.43126996, "z4": 0.67650625, "o1": 0.60617688, "o2": 0.66295848,
    "E_o1": 0.02125445, "E_o2": 0.00198189, "E_total": 0.02323634,
}
BOOK_ATOL = 1e-8


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def forward(w, x=X, target=TARGET):
    """Every value of the forward pass, by name, for weights ``w`` = (W1, ..., W8)."""
    v = {}
    v["z1"] = w[0] * x[0] + w[1] * x[1]
    v["z2"] = w[2] * x[0] + w[3] * x[1]
    v["h1"], v["h2"] = sigmoid(v["z1"]), sigmoid(v["z2"])
    v["z3"] = w[4] * v["h1"] + w[5] * v["h2"]
    v["z4"] = w[6] * v["h1"] + w[7] * v["h2"]
    v["o1"], v["o2"] = sigmoid(v["z3"]), sigmoid(v["z4"])
    v["E_o1"] = 0.5 * (target[0] - v["o1"]) ** 2
    v["E_o2"] = 0.5 * (target[1] - v["o2"]) ** 2
    v["E_total"] = v["E_o1"] + v["E_o2"]
    return v


def backward(w, v, x=X, target=TARGET):
    """Each weight's gradient by the chain rule, with every factor, as the notes write it.

    Step 1 (hidden -> output), e.g. for W5:
        dE/dW5 = dE/do1 * do1/dz3 * dz3/dW5 = (o1 - t1) * o1 (1 - o1) * h1
    Step 2 (input -> hidden), e.g. for W1: h1 feeds both outputs, so two paths add up:
        dE/dh1 = dE_o1/dz3 * dz3/dh1 + dE_o2/dz4 * dz4/dh1 = delta1 W5 + delta2 W7
        dE/dW1 = dE/dh1 * dh1/dz1 * dz1/dW1 = dE/dh1 * h1 (1 - h1) * x1

    Returns:
        ``(grad, factors)``: the 8 gradients and a dict of every factor by name.
    """
    f = {}
    f["dE/do1"] = v["o1"] - target[0]          # d/do1 of 1/2 (t1 - o1)^2
    f["dE/do2"] = v["o2"] - target[1]
    f["do1/dz3"] = v["o1"] * (1 - v["o1"])     # sigmoid'(z) = sigmoid(z) (1 - sigmoid(z))
    f["do2/dz4"] = v["o2"] * (1 - v["o2"])
    delta1 = f["dE/do1"] * f["do1/dz3"]        # dE/dz3
    delta2 = f["dE/do2"] * f["do2/dz4"]        # dE/dz4
    f["dE/dz3"], f["dE/dz4"] = delta1, delta2
    # Step 1: dz3/dW5 = h1, dz3/dW6 = h2, dz4/dW7 = h1, dz4/dW8 = h2.
    g5, g6 = delta1 * v["h1"], delta1 * v["h2"]
    g7, g8 = delta2 * v["h1"], delta2 * v["h2"]
    # Step 2: back through the OLD output weights (all gradients first, then update).
    f["dE_o1/dh1"], f["dE_o2/dh1"] = delta1 * w[4], delta2 * w[6]
    f["dE_o1/dh2"], f["dE_o2/dh2"] = delta1 * w[5], delta2 * w[7]
    f["dE/dh1"] = f["dE_o1/dh1"] + f["dE_o2/dh1"]
    f["dE/dh2"] = f["dE_o1/dh2"] + f["dE_o2/dh2"]
    f["dh1/dz1"] = v["h1"] * (1 - v["h1"])
    f["dh2/dz2"] = v["h2"] * (1 - v["h2"])
    g1, g2 = f["dE/dh1"] * f["dh1/dz1"] * x[0], f["dE/dh1"] * f["dh1/dz1"] * x[1]
    g3, g4 = f["dE/dh2"] * f["dh2/dz2"] * x[0], f["dE/dh2"] * f["dh2/dz2"] * x[1]
    grad = np.array([g1, g2, g3, g4, g5, g6, g7, g8])
    for i, g in enumerate(grad, start=1):
        f[f"dE/dW{i}"] = g
    return grad, f


def keras_network(w):
    """The same network as a Keras model (float64, no biases), holding the weights ``w``.

    A Dense kernel has shape (inputs, units): row i holds the weights *from* input i.
    So the hidden kernel is [[W1, W3], [W2, W4]] (W1: x1 -> h1, W2: x2 -> h1, W3: x1 -> h2,
    W4: x2 -> h2) and the output kernel is [[W5, W7], [W6, W8]].
    """
    import keras

    model = keras.Sequential([
        keras.Input(shape=(2,), dtype="float64"),
        keras.layers.Dense(2, activation="sigmoid", use_bias=False, dtype="float64", name="hidden"),
        keras.layers.Dense(2, activation="sigmoid", use_bias=False, dtype="float64", name="output"),
    ], name="backprop_2_2_2")
    model.get_layer("hidden").kernel.assign(np.array([[w[0], w[2]], [w[1], w[3]]]))
    model.get_layer("output").kernel.assign(np.array([[w[4], w[6]], [w[5], w[7]]]))
    return model


def weights_of(model):
    """(W1, ..., W8) read back from the Keras kernels (the inverse of :func:`keras_network`)."""
    k1 = np.asarray(model.get_layer("hidden").kernel)
    k2 = np.asarray(model.get_layer("output").kernel)
    return np.array([k1[0, 0], k1[1, 0], k1[0, 1], k1[1, 1], k2[0, 0], k2[1, 0], k2[0, 1], k2[1, 1]])


def draw_network(ax, w, v, grad=None, title=""):
    """The notes' picture: inputs (blue), weights on the edges (red), node values in the boxes."""
    pos = {"x1": (0, 1), "x2": (0, 0), "h1": (1, 1), "h2": (1, 0), "o1": (2, 1), "o2": (2, 0)}
    edges = [("x1", "h1", 0), ("x2", "h1", 1), ("x1", "h2", 2), ("x2", "h2", 3),
             ("h1", "o1", 4), ("h2", "o1", 5), ("h1", "o2", 6), ("h2", "o2", 7)]
    for a, b, i in edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        ax.annotate("", xy=(xb - 0.17, yb + 0.12 * (ya - yb)), xytext=(xa + 0.17, ya - 0.12 * (ya - yb)),
                    arrowprops=dict(arrowstyle="->", color="0.55", lw=1), zorder=1)
        # Straight edges are labelled in the middle, crossing ones near their start,
        # so that no two labels meet where the edges cross.
        t = 0.5 if ya == yb else 0.3
        lx, ly = xa + t * (xb - xa), ya + t * (yb - ya) + (0.06 if ya == yb == 1 else -0.06 if ya == yb else 0)
        label = f"W{i + 1} = {w[i]:.8f}" + ("" if grad is None else f"\n∂E/∂W{i + 1} = {grad[i]:.8f}")
        ax.text(lx, ly, label, color="tab:red", fontsize=7.5, ha="center", va="bottom" if ya == yb == 1 else
                "top" if ya == yb else "center", bbox=dict(fc="white", ec="none", alpha=0.9, pad=0.3), zorder=3)
    values = {"x1": f"x1 = {X[0]:g}", "x2": f"x2 = {X[1]:g}",
              "h1": f"z1 = {v['z1']:.8f}\nh1 = {v['h1']:.8f}", "h2": f"z2 = {v['z2']:.8f}\nh2 = {v['h2']:.8f}",
              "o1": f"z3 = {v['z3']:.8f}\no1 = {v['o1']:.8f}\ntarget 0.4", "o2": f"z4 = {v['z4']:.8f}\no2 = "
              f"{v['o2']:.8f}\ntarget 0.6"}
    for name, (x, y) in pos.items():
        color = "tab:blue" if name.startswith("x") else "black"
        ax.text(x, y, values[name], color=color, fontsize=8, ha="center", va="center", zorder=4,
                bbox=dict(boxstyle="round,pad=0.4", fc="white", ec=color, lw=1.3))
    ax.set(xlim=(-0.3, 2.3), ylim=(-0.35, 1.35))
    ax.set_title(f"{title}\nE_total = {v['E_total']:.8f}", fontsize=10)
    ax.axis("off")


def run(out_dir, quick=True):
    import keras
    import matplotlib
    import tensorflow as tf

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = Recipe("backprop", out_dir, title=TITLE, source=SOURCE, quick=quick)

    # -----------------------------------------------------------------------
    # Step 1. Forward propagation (순전파): every weighted sum, every sigmoid and
    # the error, against the book's printed values.
    # -----------------------------------------------------------------------
    v = forward(W)
    formulas = {
        "z1": "W1 x1 + W2 x2", "z2": "W3 x1 + W4 x2", "h1": "sigmoid(z1)", "h2": "sigmoid(z2)",
        "z3": "W5 h1 + W6 h2", "z4": "W7 h1 + W8 h2", "o1": "sigmoid(z3)", "o2": "sigmoid(z4)",
        "E_o1": "1/2 (t1 - o1)^2", "E_o2": "1/2 (t2 - o2)^2", "E_total": "E_o1 + E_o2",
    }
    r.table("Forward pass (순전파): every intermediate value", ["value", "formula", "ours (float64)", "book (8 decimals)"],
            [[k, formulas[k], f"{v[k]:.10f}", f"{BOOK[k]:.8f}"] for k in formulas])
    r.check_close("forward pass: z1, z2, h1, h2, z3, z4, o1, o2 == the book", [v[k] for k in list(formulas)[:8]],
                  [BOOK[k] for k in list(formulas)[:8]], atol=BOOK_ATOL)
    r.check_close("error before the update: E_o1, E_o2, E_total == the book", [v["E_o1"], v["E_o2"], v["E_total"]],
                  [BOOK["E_o1"], BOOK["E_o2"], BOOK["E_total"]], atol=BOOK_ATOL)

    # The notes call the loss MSE. With two outputs, Keras's mean squared error
    # mean((t - o)^2) = (e1^2 + e2^2) / 2 is exactly E_total = sum 1/2 e^2 -- a
    # coincidence of n = 2; in general they differ by the factor 2/n.
    mse = float(keras.losses.MeanSquaredError(dtype="float64")(TARGET[None], np.array([[v["o1"], v["o2"]]])))
    r.check_close("keras.losses.MeanSquaredError == E_total (true for 2 outputs only)", mse, v["E_total"], atol=1e-12)

    # -----------------------------------------------------------------------
    # Step 2. Backward propagation (역전파) by the chain rule. Step 1 of the notes
    # updates W5..W8; step 2 goes one layer further back for W1..W4. Every factor
    # is printed, so each product can be redone with a calculator.
    # -----------------------------------------------------------------------
    grad, f = backward(W, v)
    named = ["dE/do1", "do1/dz3", "do2/dz4", "dE/dW5", "dE_o1/dh1", "dE_o2/dh1", "dE/dh1", "dh1/dz1", "dE/dW1"]
    r.check_close("chain-rule factors for W5 and W1 (dE/do1, do1/dz3, do2/dz4, dE/dW5, dE_o1/dh1, dE_o2/dh1, "
                  "dE/dh1, dh1/dz1, dE/dW1) == the book", [f[k] for k in named], [BOOK[k] for k in named], atol=BOOK_ATOL)

    # The same gradients from automatic differentiation: the network as a Keras
    # model in float64, the error written as in the notes, tf.GradientTape.
    model = keras_network(W)
    x_batch, t_batch = tf.constant(X[None]), tf.constant(TARGET[None])
    with tf.GradientTape() as tape:
        out = model(x_batch)
        e_total = tf.reduce_sum(0.5 * tf.square(t_batch - out))
    kernel_grads = tape.gradient(e_total, [model.get_layer("hidden").kernel, model.get_layer("output").kernel])
    k1, k2 = (np.asarray(g) for g in kernel_grads)
    tape_grad = np.array([k1[0, 0], k1[1, 0], k1[0, 1], k1[1, 1], k2[0, 0], k2[1, 0], k2[0, 1], k2[1, 1]])
    r.check_close("Keras forward pass: (o1, o2) and E_total == NumPy", [*np.asarray(out)[0], float(e_total)],
                  [v["o1"], v["o2"], v["E_total"]], atol=1e-12)
    r.check_close("all 8 gradients: NumPy chain rule == tf.GradientTape (max |difference|)",
                  np.max(np.abs(grad - tape_grad)), 0.0, atol=1e-7)

    rows = []
    for i in range(4, 8):  # step 1: W5..W8, dE/dWi = (o - t) * o (1 - o) * h
        o = "o1" if i in (4, 5) else "o2"
        h = "h1" if i in (4, 6) else "h2"
        z = "z3" if o == "o1" else "z4"
        rows.append([f"W{i + 1}", "1", f"∂E/∂{o} · ∂{o}/∂{z} · ∂{z}/∂W{i + 1}",
                     f"{f['dE/d' + o]:.8f} × {f['d' + o + '/d' + z]:.8f} × {v[h]:.8f}",
                     f"{grad[i]:.10f}", f"{tape_grad[i]:.10f}"])
    for i in range(4):  # step 2: W1..W4, dE/dWi = dE/dh * h (1 - h) * x
        h = "h1" if i < 2 else "h2"
        z = "z1" if i < 2 else "z2"
        xi = X[i % 2]
        rows.append([f"W{i + 1}", "2", f"(∂E_o1/∂{h} + ∂E_o2/∂{h}) · ∂{h}/∂{z} · ∂{z}/∂W{i + 1}",
                     f"({f['dE_o1/d' + h]:.8f} + {f['dE_o2/d' + h]:.8f}) × {f['d' + h + '/d' + z]:.8f} × {xi:g}",
                     f"{grad[i]:.10f}", f"{tape_grad[i]:.10f}"])
    r.table("Backward pass (역전파): each weight's gradient by the chain rule",
            ["weight", "step", "chain rule", "factors", "∂E/∂W (NumPy)", "∂E/∂W (tf.GradientTape)"], rows)

    # -----------------------------------------------------------------------
    # Step 3. One step of gradient descent, W+ = W - lr * dE/dW, for all eight
    # weights at once (every gradient is taken at the old weights), by hand and
    # with keras.optimizers.SGD; then the forward pass again with the new weights.
    # -----------------------------------------------------------------------
    w_new = W - LEARNING_RATE * grad
    sgd = keras.optimizers.SGD(learning_rate=LEARNING_RATE)
    sgd.apply_gradients(zip(kernel_grads, [model.get_layer("hidden").kernel, model.get_layer("output").kernel]))
    w_keras = weights_of(model)
    r.check_close("weights after one update, W1+ .. W8+ == the book", w_new, BOOK_UPDATED, atol=BOOK_ATOL)
    # Keras keeps the learning rate in a float32 variable; 0.5 is exact in float32.
    r.check_close("weights after keras.optimizers.SGD(0.5).apply_gradients == by hand (max |difference|)",
                  np.max(np.abs(w_keras - w_new)), 0.0, atol=1e-12)
    r.table("One update with learning rate 0.5: W+ = W - 0.5 · ∂E/∂W",
            ["weight", "W", "∂E/∂W", "W+ (NumPy)", "W+ (Keras SGD)", "W+ (book)"],
            [[f"W{i + 1}", f"{W[i]:g}", f"{grad[i]:.8f}", f"{w_new[i]:.10f}", f"{w_keras[i]:.10f}",
              f"{BOOK_UPDATED[i]:.8f}"] for i in range(8)])

    # 5-5 결과 확인: the forward pass with the new weights gives a smaller error.
    v_new = forward(w_new)
    e_keras_new = float(tf.reduce_sum(0.5 * tf.square(t_batch - model(x_batch))))
    r.table("Forward pass again with the updated weights (5-5 결과 확인)",
            ["value", "before", "after one update (ours)", "after one update (book)"],
            [[k, f"{v[k]:.8f}", f"{v_new[k]:.10f}", f"{BOOK_AFTER[k]:.8f}"] for k in formulas])
    r.check_close("error after one update: E_total == the book's 0.02323634 (8 decimals)", v_new["E_total"],
                  BOOK_AFTER["E_total"], atol=BOOK_ATOL)
    r.check_close("forward pass after the update: z1, z2, h1, h2, z3, z4, o1, o2, E_o1, E_o2 == the book",
                  [v_new[k] for k in list(formulas)[:10]], [BOOK_AFTER[k] for k in list(formulas)[:10]], atol=BOOK_ATOL)
    r.check_close("E_total after the update: Keras model == NumPy", e_keras_new, v_new["E_total"], atol=1e-12)
    # The first-order prediction of the decrease: dE ~ -lr * |grad|^2.
    predicted = LEARNING_RATE * float(grad @ grad)
    actual = v["E_total"] - v_new["E_total"]
    r.check_close("the decrease matches its first-order prediction lr · |∇E|^2 (within 10%)", actual, predicted,
                  rtol=0.1, atol=0.0)
    r.note(f"One step lowers E_total from {v['E_total']:.8f} to {v_new['E_total']:.8f} "
           f"(by {actual:.3e}; the linear prediction lr·|∇E|² is {predicted:.3e}). "
           "The output-layer gradients (step 1) are about 30 times larger than the input-layer ones (step 2): "
           "going back through each sigmoid multiplies by at most 0.25, the start of the vanishing gradient.")

    # Repeating the same update (not in the book) shows where the steps lead.
    errors, w_t = [v["E_total"]], W.copy()
    for _ in range(CURVE_STEPS):
        g_t, _ = backward(w_t, forward(w_t))
        w_t = w_t - LEARNING_RATE * g_t
        errors.append(forward(w_t)["E_total"])
    r.check("the error keeps falling over 200 repeated steps (monotone)", bool(np.all(np.diff(errors) < 0)),
            expected="E_total decreasing at every step", measured=f"{errors[0]:.6f} -> {errors[-1]:.3e}")

    # -----------------------------------------------------------------------
    # The figure the notes draw: the network with its values, before and after
    # the update, and (ours) the error over repeated updates.
    # -----------------------------------------------------------------------
    fig = plt.figure(figsize=(17, 5.2))
    gs = fig.add_gridspec(1, 3, width_ratios=[1.25, 1.25, 0.8])
    draw_network(fig.add_subplot(gs[0]), W, v, grad, title="before: weights and their gradients ∂E/∂W")
    draw_network(fig.add_subplot(gs[1]), w_new, v_new, title="after one update (lr = 0.5)")
    ax = fig.add_subplot(gs[2])
    ax.semilogy(range(CURVE_STEPS + 1), errors, color="tab:purple")
    ax.scatter([0, 1], errors[:2], color="tab:red", zorder=3, label="the notes' single step")
    ax.set(xlabel="update step", ylabel="E_total", title="the same update repeated")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.suptitle("2-2-2 sigmoid network without biases: forward values, chain-rule gradients and one update")
    fig.tight_layout()
    r.figure(fig, "network_before_after.png")
    plt.close(fig)
    return r.result()


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
