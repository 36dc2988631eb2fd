"""Optimizers (옵티마이저).

Reproduces: the parameter-update rules of the notes -- SGD ``W <- W - eta dL/dW``,
Momentum ``v <- alpha v - eta dL/dW; W <- W + v``, AdaGrad ``h <- h + g*g;
W <- W - eta g / sqrt(h)``, RMSprop and Adam -- written out in NumPy and compared
with ``keras.optimizers`` step by step; the classic comparison of their paths on
``f(x, y) = x^2 / 20 + y^2`` from (-7, 2) (30 steps; learning rates SGD 0.95,
Momentum 0.1, AdaGrad 1.5, Adam 0.3 as in the book's figure); and training curves
of the same network on the digits data with each optimizer.
Source: notes 003 ("Optimization": SGD, Momentum, AdaGrad, Adam) and notes 002
(4-3 "옵티마이저": Momentum, Adagrad, RMSprop, Adam with their Keras calls); the
figure is Saito, *Deep Learning from Scratch* (밑바닥부터 시작하는 딥러닝) section 6.1.
"""

from __future__ import annotations

import math

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "Optimizers (옵티마이저)"
ORDER = 7
SOURCE = "notes 003 (Optimization: SGD, Momentum, AdaGrad, Adam), notes 002 (4-3 optimizers); Saito section 6.1"

# The book's figure: 30 steps from (-7, 2) with a learning rate per optimizer chosen
# so that each path is readable. RMSprop is not in the book's figure; 0.25 is ours.
START = (-7.0, 2.0)
STEPS = 30
PATH_RATES = {"SGD": 0.95, "Momentum": 0.1, "AdaGrad": 1.5, "RMSprop": 0.25, "Adam": 0.3}
# The notes' (and Keras's) usual constants.
MOMENTUM, RHO, BETA_1, BETA_2 = 0.9, 0.9, 0.9, 0.999
# Digits: the book trains a 5-layer, 100-unit ReLU network with every optimizer at
# the same learning rate 0.01 and watches which one's loss falls fastest.
DIGITS_HIDDEN = (100, 100, 100, 100)
DIGITS_RATE = 0.01
ZOO_NAMES = {"SGD": "sgd", "Momentum": "momentum", "AdaGrad": "adagrad", "RMSprop": "rmsprop", "Adam": "adam"}


# ---------------------------------------------------------------------------
# Step 1. The update rules in NumPy.
#
# Each rule is a small object with ``update(w, g)``, written exactly as the notes
# write it. Where Keras 3 makes a different (documented) choice, a keyword switches
# the rule to Keras's convention; the textbook form stays the default, so the table
# can show how far the two conventions drift apart on the same problem.
# ---------------------------------------------------------------------------
class SGD:
    """W <- W - eta * g  (notes 003)."""

    def __init__(self, lr):
        self.lr = lr

    def update(self, w, g):
        return w - self.lr * g


class Momentum:
    """v <- alpha * v - eta * g;  W <- W + v  (notes 003). Keras's SGD(momentum=...) is the same rule."""

    def __init__(self, lr, alpha=MOMENTUM):
        self.lr, self.alpha, self.v = lr, alpha, None

    def update(self, w, g):
        self.v = np.zeros_like(w) if self.v is None else self.v
        self.v = self.alpha * self.v - self.lr * g
        return w + self.v


class AdaGrad:
    """h <- h + g*g;  W <- W - eta * g / sqrt(h)  (notes 003).

    Textbook: ``h`` starts at 0 and epsilon sits outside the root, ``g / (sqrt(h) + eps)``
    (the notes leave it out; the book adds 1e-7 to avoid dividing by zero).
    Keras 3: ``h`` starts at ``initial_accumulator_value=0.1`` and epsilon sits inside,
    ``g / sqrt(h + eps)``.
    """

    def __init__(self, lr, eps=1e-7, h0=0.0, eps_inside=False):
        self.lr, self.eps, self.h0, self.eps_inside, self.h = lr, eps, h0, eps_inside, None

    def update(self, w, g):
        self.h = np.full_like(w, self.h0) if self.h is None else self.h
        self.h = self.h + g * g
        root = np.sqrt(self.h + self.eps) if self.eps_inside else np.sqrt(self.h) + self.eps
        return w - self.lr * g / root


class RMSprop:
    """h <- rho * h + (1 - rho) * g*g;  W <- W - eta * g / sqrt(h): AdaGrad with a forgetting average.

    Textbook: epsilon outside the root. Keras 3: epsilon inside, ``sqrt(h + eps)``.
    """

    def __init__(self, lr, rho=RHO, eps=1e-7, eps_inside=False):
        self.lr, self.rho, self.eps, self.eps_inside, self.h = lr, rho, eps, eps_inside, None

    def update(self, w, g):
        self.h = np.zeros_like(w) if self.h is None else self.h
        self.h = self.rho * self.h + (1 - self.rho) * g * g
        root = np.sqrt(self.h + self.eps) if self.eps_inside else np.sqrt(self.h) + self.eps
        return w - self.lr * g / root


class Adam:
    """Momentum on g (m) plus RMSprop on g*g (v), both bias-corrected (Kingma & Ba, Algorithm 1).

    Paper: ``m_hat = m / (1 - b1^t)``, ``v_hat = v / (1 - b2^t)``,
    ``W <- W - eta * m_hat / (sqrt(v_hat) + eps)``.
    Keras 3 (and the book's code) fold the corrections into the step size,
    ``eta_t = eta * sqrt(1 - b2^t) / (1 - b1^t)``, ``W <- W - eta_t * m / (sqrt(v) + eps)``:
    the same rule with "epsilon hat" = eps * sqrt(1 - b2^t), so the two differ only near v = 0.
    """

    def __init__(self, lr, beta_1=BETA_1, beta_2=BETA_2, eps=1e-7, eps_hat=False, power_bases=None):
        self.lr, self.b1, self.b2, self.eps, self.eps_hat = lr, beta_1, beta_2, eps, eps_hat
        # The bases of the bias-correction powers b1^t, b2^t (Keras rounds them to float32).
        self.p1, self.p2 = power_bases or (beta_1, beta_2)
        self.m = self.v = None
        self.t = 0

    def update(self, w, g):
        if self.m is None:
            self.m, self.v = np.zeros_like(w), np.zeros_like(w)
        self.t += 1
        self.m = self.m + (1 - self.b1) * (g - self.m)
        self.v = self.v + (1 - self.b2) * (g * g - self.v)
        c1, c2 = 1 - self.p1**self.t, 1 - self.p2**self.t  # bias corrections
        if self.eps_hat:
            lr_t = self.lr * math.sqrt(c2) / c1
            return w - lr_t * self.m / (np.sqrt(self.v) + self.eps)
        m_hat = self.m / c1
        v_hat = self.v / c2
        return w - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def f32(value):
    """``value`` rounded to float32, as Keras's TensorFlow backend rounds a Python float
    when it turns it into a tensor (learning rate, momentum, AdaGrad's initial
    accumulator, Adam's beta powers) before casting it to the variable's dtype."""
    return float(np.float32(value))


def numpy_rule(name, lr, *, keras_convention):
    """The NumPy rule for ``name``, in the textbook's or in Keras's convention.

    Keras's convention also feeds in the constants that Keras rounds to float32, so
    that a float64 run agrees with Keras to round-off rather than to 1e-7.
    """
    k = keras_convention
    lr = f32(lr)  # Keras keeps the learning rate in a float32 variable in both cases
    return {
        "SGD": lambda: SGD(lr),
        "Momentum": lambda: Momentum(lr, alpha=f32(MOMENTUM) if k else MOMENTUM),
        "AdaGrad": lambda: AdaGrad(lr, h0=f32(0.1) if k else 0.0, eps_inside=k),
        "RMSprop": lambda: RMSprop(lr, eps_inside=k),
        "Adam": lambda: Adam(lr, eps_hat=k, power_bases=(f32(BETA_1), f32(BETA_2)) if k else None),
    }[name]()


def keras_optimizer(name, lr):
    """The ``keras.optimizers`` object for ``name`` with the notes' constants."""
    import keras

    return {
        "SGD": lambda: keras.optimizers.SGD(learning_rate=lr),
        "Momentum": lambda: keras.optimizers.SGD(learning_rate=lr, momentum=MOMENTUM),
        "AdaGrad": lambda: keras.optimizers.Adagrad(learning_rate=lr),
        "RMSprop": lambda: keras.optimizers.RMSprop(learning_rate=lr, rho=RHO),
        "Adam": lambda: keras.optimizers.Adam(learning_rate=lr, beta_1=BETA_1, beta_2=BETA_2),
    }[name]()


# ---------------------------------------------------------------------------
# Step 2. The test function of the book: an elongated bowl, 20 times steeper in y
# than in x, whose minimum is (0, 0). Its gradient is (x / 10, 2 y).
# ---------------------------------------------------------------------------
def f(x, y):
    return x**2 / 20.0 + y**2


def grad_f(w):
    return np.array([w[0] / 10.0, 2.0 * w[1]])


def numpy_path(rule, start=START, steps=STEPS):
    w = np.array(start, dtype=np.float64)
    path = [w.copy()]
    for _ in range(steps):
        w = rule.update(w, grad_f(w))
        path.append(w.copy())
    return np.array(path)


def keras_path(optimizer, start=START, steps=STEPS):
    """Run a Keras optimizer on f step by step: one ``apply_gradients`` per step, float64."""
    import keras

    w = keras.Variable(np.array(start, dtype=np.float64), dtype="float64", name="xy")
    path = [w.numpy().copy()]
    for _ in range(steps):
        optimizer.apply_gradients([(grad_f(w.numpy()), w)])
        path.append(w.numpy().copy())
    return np.array(path)


def run(out_dir, quick=True):
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import zoo
    from zoo.training import validation_split

    r = Recipe("optimizers", out_dir, title=TITLE, source=SOURCE, quick=quick)
    keras.utils.set_random_seed(0)

    # -----------------------------------------------------------------------
    # Step 3. Same problem, same steps: NumPy rule against keras.optimizers.
    # Everything runs in float64. Keras keeps the learning rate in a float32
    # variable and rounds some Python constants to float32 on their way in, so the
    # NumPy rules get the same rounded constants (see f32); then the two paths must
    # agree to round-off at every one of the 30 steps.
    # -----------------------------------------------------------------------
    paths_keras, paths_book, rows = {}, {}, []
    for name, lr in PATH_RATES.items():
        keras_p = keras_path(keras_optimizer(name, lr))
        mine_p = numpy_path(numpy_rule(name, lr, keras_convention=True))
        book_p = numpy_path(numpy_rule(name, lr, keras_convention=False))
        paths_keras[name], paths_book[name] = keras_p, book_p
        step_diff = float(np.max(np.abs(keras_p - mine_p)))
        r.check_close(f"{name}: NumPy rule == keras.optimizers, all {STEPS} steps (max |diff|)", step_diff, 0.0, atol=1e-12)
        rows.append([name, lr, step_diff, float(np.max(np.abs(keras_p - book_p))),
                     f(*book_p[-1]), f(*keras_p[-1])])
    r.table(
        f"Paths on f(x, y) = x^2/20 + y^2 from {START}, {STEPS} steps: NumPy vs Keras",
        ["optimizer", "learning rate", "max |NumPy (Keras convention) - Keras|",
         "max |textbook rule - Keras|", f"f after {STEPS} steps (textbook)", f"f after {STEPS} steps (Keras)"],
        rows,
    )

    # The documented differences, as a table the reader can keep beside the notes.
    r.table(
        "Where Keras 3 differs from the textbook rules (keras.optimizers source and docs)",
        ["optimizer", "textbook (notes 003 / the book)", "Keras 3", "effect"],
        [
            ["SGD", "W <- W - eta g", "same", "identical paths"],
            ["Momentum", "v <- alpha v - eta g; W <- W + v", "SGD(momentum=0.9): same rule (nesterov=False)",
             "same path up to float32 rounding of the constants"],
            ["AdaGrad", "h starts at 0; g / (sqrt(h) + 1e-7)",
             "initial_accumulator_value=0.1; g / sqrt(h + epsilon), epsilon=1e-7",
             "first steps much shorter in Keras (the textbook's first step is eta * sign(g))"],
            ["RMSprop", "g / (sqrt(h) + eps)", "g / sqrt(h + epsilon), rho=0.9, epsilon=1e-7", "differs only while h ~ epsilon"],
            ["Adam", "m_hat, v_hat; eta m_hat / (sqrt(v_hat) + eps) (paper, Algorithm 1)",
             "eta_t = eta sqrt(1-b2^t)/(1-b1^t); eta_t m / (sqrt(v) + epsilon) ('epsilon hat')",
             "same rule with epsilon scaled by sqrt(1-b2^t); tiny difference"],
            ["all", "constants as written (float64 here)",
             "the TensorFlow backend rounds learning rate, momentum, initial accumulator and beta powers to float32",
             "differences of order 1e-7 in float64 runs"],
            ["all", "notes 002: SGD(lr=0.01), Adam(..., epsilon=None, decay=0.0)",
             "learning_rate= (lr= is rejected); epsilon defaults to 1e-7; decay via a LearningRateSchedule", "API spelling"],
        ],
    )
    try:
        keras.optimizers.SGD(lr=0.01)
        rejected = "accepted"
    except ValueError as exc:
        rejected = f"ValueError: {exc}"
    r.check("Keras 3 rejects the notes' spelling SGD(lr=0.01)", rejected.startswith("ValueError"),
            expected="ValueError (use learning_rate=)", measured=rejected)

    # AdaGrad's first step shows the accumulator difference in one number: the
    # textbook's h = g*g makes the first move eta * g / |g| = eta in each coordinate.
    first_step_book = np.abs(paths_book["AdaGrad"][1] - paths_book["AdaGrad"][0])
    r.check_close("textbook AdaGrad's first step is eta in each coordinate (h0 = 0)",
                  first_step_book, [PATH_RATES["AdaGrad"]] * 2, atol=1e-5)
    g0 = grad_f(np.array(START))
    first_step_keras = np.abs(paths_keras["AdaGrad"][1] - paths_keras["AdaGrad"][0])
    r.check_close("Keras AdaGrad's first step is eta |g| / sqrt(0.1 + g^2) (h0 = 0.1)",
                  first_step_keras, PATH_RATES["AdaGrad"] * np.abs(g0) / np.sqrt(0.1 + g0**2 + 1e-7), atol=1e-6)

    # -----------------------------------------------------------------------
    # Step 4. What the figure shows, in numbers. On this quadratic SGD has a closed
    # form: x_t = x_0 (1 - eta/10)^t and y_t = y_0 (1 - 2 eta)^t. With eta = 0.95 the y
    # factor is -0.9: y changes sign at every step -- the zigzag the notes describe
    # ("지그재그 형태를 보이면서 비효율적으로") -- while x crawls towards 0.
    # -----------------------------------------------------------------------
    eta = f32(PATH_RATES["SGD"])
    closed = np.array([START[0] * (1 - eta / 10) ** STEPS, START[1] * (1 - 2 * eta) ** STEPS])
    r.check_close("Keras SGD end point == closed form (x0 (1-eta/10)^30, y0 (1-2 eta)^30)", paths_keras["SGD"][-1], closed, atol=1e-12)
    flips = int(np.sum(np.sign(paths_keras["SGD"][1:, 1]) != np.sign(paths_keras["SGD"][:-1, 1])))
    r.check("SGD zigzags: y changes sign at every step", flips == STEPS, expected=f"{STEPS} sign changes in {STEPS} steps",
            measured=f"{flips} sign changes")
    # Every optimizer ends far nearer the minimum than it started (f below 5% of f(-7, 2)),
    # each along its own road: the figure shows which roads are straight.
    for name in PATH_RATES:
        r.check_at_most(f"{name} (Keras) ends near the minimum: f after {STEPS} steps", f(*paths_keras[name][-1]), 0.05 * f(*START))

    # The classic figure: contours of f, one panel per optimizer, the textbook
    # rule's path in red and Keras's in a dashed line where it differs.
    xs, ys = np.meshgrid(np.linspace(-10, 10, 201), np.linspace(-5, 5, 101))
    fig, axes = plt.subplots(2, 3, figsize=(14, 8))
    for ax, name in zip(axes.flat, PATH_RATES):
        ax.contour(xs, ys, f(xs, ys), levels=np.geomspace(0.01, 30, 12), colors="0.7", linewidths=0.8)
        book = paths_book[name]
        ax.plot(book[:, 0], book[:, 1], "o-", color="red", ms=3, lw=1, label="textbook rule (NumPy)")
        kp = paths_keras[name]
        ax.plot(kp[:, 0], kp[:, 1], "s--", color="navy", ms=2, lw=1, alpha=0.8, label="keras.optimizers")
        ax.plot(0, 0, "+", color="black", ms=12)
        ax.set(xlim=(-10, 10), ylim=(-5, 5), xlabel="x", ylabel="y", title=f"{name} (lr {PATH_RATES[name]})")
        ax.legend(loc="lower right", fontsize=8)
    ax = axes.flat[-1]
    for name in PATH_RATES:
        ax.semilogy([f(*w) for w in paths_keras[name]], label=name)
    ax.set(xlabel="step", ylabel="f(x, y)", title="f along each path (Keras), log scale")
    ax.legend(fontsize=8)
    fig.suptitle(f"Optimizer paths on f(x, y) = x²/20 + y² from {START}, {STEPS} steps")
    fig.tight_layout()
    r.figure(fig, "paths.png")
    plt.close(fig)

    # -----------------------------------------------------------------------
    # Step 5. Training curves on digits. The same network (the zoo's
    # dense_classifier, 64 -> 100 x 4 -> 10, ReLU), the same initial weights (same
    # seed), the same learning rate 0.01 and batches; only the optimizer changes.
    # -----------------------------------------------------------------------
    epochs = 5 if quick else 20
    (x, y), (x_test, y_test) = zoo.datasets.load("digits")
    x, x_test = x.reshape(len(x), -1), x_test.reshape(len(x_test), -1)
    (x_tr, y_tr), (x_val, y_val) = validation_split(x, y, seed=0)
    curves, train_rows = {}, []
    for name, zoo_name in ZOO_NAMES.items():
        model = zoo.create_model("dense_classifier", input_dim=64, num_classes=10, hidden_units=DIGITS_HIDDEN,
                                 optimizer=zoo_name, learning_rate=DIGITS_RATE, seed=0)
        initial = model.evaluate(x_tr, y_tr, verbose=0)[0]
        hist = model.fit(x_tr, y_tr, epochs=epochs, batch_size=32, validation_data=(x_val, y_val), verbose=0).history
        curves[name] = ([initial] + hist["loss"], hist["val_accuracy"])
        test_acc = model.evaluate(x_test, y_test, verbose=0)[1]
        train_rows.append([name, initial, hist["loss"][-1], hist["val_accuracy"][-1], test_acc])
    r.table(f"Digits, 64-100x4-10 ReLU, learning rate {DIGITS_RATE}, batch 32, {epochs} epochs",
            ["optimizer", "loss before training", "final training loss", "final validation accuracy", "test accuracy"], train_rows)
    initial_loss = train_rows[0][1]
    r.check_close("every optimizer starts from the same weights (same seed): initial losses equal",
                  [row[1] for row in train_rows], [initial_loss] * len(train_rows), atol=1e-6)
    r.check_close("initial loss ~ ln 10 (ten classes, nearly uniform predictions)", initial_loss, math.log(10), atol=0.15)
    final = {row[0]: row[2] for row in train_rows}
    faster = [n for n in final if n != "SGD" and final[n] < final["SGD"]]
    r.check("plain SGD learns slowest at the same learning rate (the book's result)", len(faster) == len(final) - 1,
            expected="every other optimizer's final training loss < SGD's",
            measured=", ".join(f"{n} {v:.3f}" for n, v in final.items()))
    r.check_at_least("Adam test accuracy on digits", train_rows[-1][4], 0.90)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, (loss, val_acc) in curves.items():
        ax1.plot(range(len(loss)), loss, marker="o", ms=3, label=name)
        ax2.plot(range(1, len(val_acc) + 1), val_acc, marker="o", ms=3, label=name)
    ax1.set(xlabel="epoch", ylabel="training loss (cross-entropy)", title="training loss", yscale="log")
    ax2.set(xlabel="epoch", ylabel="validation accuracy", title="validation accuracy")
    for ax in (ax1, ax2):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(f"Optimizers on digits: same network, same start, learning rate {DIGITS_RATE}")
    fig.tight_layout()
    r.figure(fig, "digits_curves.png")
    plt.close(fig)

    r.note("SGD, Momentum and Adam as Keras implements them are the textbook rules; AdaGrad and RMSprop "
           "differ in where epsilon sits and (AdaGrad) in the accumulator's starting value 0.1, which "
           "changes the early steps (see the table). With the same learning rate, plain SGD is the "
           "slowest on digits, as in the book's MNIST comparison.")
    return r.result()


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
