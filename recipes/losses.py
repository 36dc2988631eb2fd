"""Loss functions (손실 함수).

Reproduces: the notes' two losses -- the sum of squared errors
``E = 1/2 sum_k (y_k - t_k)^2`` and the cross-entropy error ``E = -sum_k t_k log y_k`` --
on the book's ten-class example (the true class is "2"; one prediction gives it 0.6,
the other 0.1), by hand and with Keras's losses; the softmax loss
``L_i = -log(e^{s_k} / sum_j e^{s_j})`` as the negative log-likelihood (notes 000 and
004) with its simple gradient ``softmax(s) - t``; binary against categorical
cross-entropy; how ``-log p`` behaves as ``p -> 0`` and ``p -> 1`` (figure); why
cross-entropy keeps the gradient alive where squared error on a sigmoid dies; and
why accuracy cannot be the loss: as a function of a weight it is a step function
whose derivative is zero almost everywhere (figure).
Source: notes 003 ("Loss Function": SSE, CEE, accuracy's zero derivative), notes 004
("Loss function", "Softmax": -log and its two properties), notes 000 (negative
log-likelihood, cross-entropy, gradients that do not die), notes 002 (4-1: binary and
categorical cross-entropy); Saito, *Deep Learning from Scratch* (밑바닥부터 시작하는
딥러닝) section 4.2.
"""

from __future__ import annotations

import math

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "Loss functions (손실 함수)"
ORDER = 6
SOURCE = "notes 003 (Loss Function: SSE, CEE), notes 004 (Softmax loss, -log), notes 000 (NLL), notes 002 (4-1); Saito section 4.2"

# The book's example (Saito 4.2.1-4.2.2): ten classes, the answer is "2" (one-hot t);
# y1 puts 0.6 on it, y2 puts 0.6 on "7" and only 0.1 on "2". The book prints
# SSE 0.0975 / 0.5975 and CEE 0.510825457099338 / 2.302584092994546 (its CEE adds
# delta = 1e-7 inside the log so that log 0 never happens).
T = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=float)
Y1 = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
Y2 = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
BOOK = {"SSE y1": 0.0975, "SSE y2": 0.5975, "CEE y1": 0.510825457099338, "CEE y2": 2.302584092994546}
BOOK_DELTA = 1e-7
# Keras clips probabilities to [epsilon, 1 - epsilon] before the log.
KERAS_EPSILON = 1e-7
# The accuracy-versus-weight experiment: a linear softmax classifier (the zoo's
# dense_classifier with no hidden layer) trained briefly on iris, then one weight
# swept over +-3 around its trained value.
SWEEP_HALF_WIDTH = 3.0


# Step 7: the regression and the Gaussian NLL. Full-batch Adam steps for the linear model
# (enough to reach least squares within 2 %), and the Gaussian's fixed sigma.
REGRESSION_EPOCHS, GAUSS_SIGMA = 400, 0.8


def gaussian_log_pdf(y, mu, sigma):
    """log N(y; mu, sigma^2) written from the density (works on tensors and arrays)."""
    return -0.5 * math.log(2 * math.pi * sigma**2) - (y - mu) ** 2 / (2 * sigma**2)


def gaussian_nll(y, mu, sigma) -> float:
    """The mean Gaussian NLL from SciPy's density, independent of :func:`gaussian_log_pdf`."""
    from scipy.stats import norm

    return float(-np.mean(norm.logpdf(y, loc=mu, scale=sigma)))


def sse(y, t):
    """Sum of squared errors, E = 1/2 sum (y_k - t_k)^2 (notes 003)."""
    return 0.5 * np.sum((np.asarray(y) - np.asarray(t)) ** 2, axis=-1)


def cee(y, t, delta=0.0):
    """Cross-entropy error, E = -sum t_k log(y_k + delta) (notes 003; the book adds delta = 1e-7)."""
    return -np.sum(np.asarray(t) * np.log(np.asarray(y) + delta), axis=-1)


def softmax(s):
    e = np.exp(s - np.max(s, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _same(a, b, tol=1e-6):
    return "yes" if abs(a - b) <= tol else "no"


def run(out_dir, quick=True):
    import keras
    import matplotlib
    import tensorflow as tf
    from scipy.special import logsumexp
    from sklearn.metrics import log_loss

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import zoo

    r = Recipe("losses", out_dir, title=TITLE, source=SOURCE, quick=quick)
    keras.utils.set_random_seed(0)

    def keras_loss(loss, t, y):
        return float(loss(np.asarray(t, np.float32)[None], np.asarray(y, np.float32)[None]))

    # -----------------------------------------------------------------------
    # Step 1. The book's example by hand and with Keras. Keras has no "sum of
    # squared errors": MeanSquaredError averages over the K = 10 outputs, so
    # SSE = K/2 * MSE. CategoricalCrossentropy is -sum t log y (Keras first
    # rescales y to sum 1, which the book's y already does, and clips it).
    # -----------------------------------------------------------------------
    k = len(T)
    mse, cce = keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()
    rows = []
    for name, y in (("y1", Y1), ("y2", Y2)):
        by_hand_sse, by_hand_cee = float(sse(y, T)), float(cee(y, T, BOOK_DELTA))
        keras_sse = k / 2 * keras_loss(mse, T, y)
        keras_cee = keras_loss(cce, T, y)
        r.check_close(f"SSE(t, {name}) by hand == the book's {BOOK['SSE ' + name]}", by_hand_sse, BOOK["SSE " + name], atol=1e-12)
        r.check_close(f"CEE(t, {name}) by hand (delta 1e-7) == the book's {BOOK['CEE ' + name]:.6f}", by_hand_cee,
                      BOOK["CEE " + name], atol=1e-12)
        r.check_close(f"Keras: K/2 * MeanSquaredError(t, {name}) == SSE", keras_sse, by_hand_sse, atol=1e-6)
        r.check_close(f"Keras: CategoricalCrossentropy(t, {name}) == -log y[2] (true class)", keras_cee, -math.log(y[2]), atol=1e-6)
        rows.append([name, y[2], by_hand_sse, keras_sse, by_hand_cee, keras_cee])
    r.table("The book's example: t = one-hot '2'; y1 gives '2' 0.6, y2 gives it 0.1",
            ["prediction", "y[2] (true class)", "SSE by hand", "SSE = K/2 * Keras MSE", "CEE by hand (delta 1e-7)",
             "Keras CategoricalCrossentropy"], rows)
    r.note("Both losses rank y1 (right) below y2 (wrong); only the true class's probability enters the "
           "cross-entropy, because t_k = 0 for every other class.")

    # Where the book adds delta = 1e-7, Keras clips y to [1e-7, 1 - 1e-7]: a zero
    # probability on the true class costs -log(1e-7) = 16.118, not infinity.
    y_zero = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0])
    r.check_close("Keras clips: CategoricalCrossentropy with y[true] = 0 == -log(1e-7)",
                  keras_loss(cce, T, y_zero), -math.log(KERAS_EPSILON), atol=1e-4)

    # -----------------------------------------------------------------------
    # Step 2. Softmax cross-entropy is the negative log-likelihood. Take raw scores
    # s for a batch; softmax turns them into P(Y = k | x); the loss of a sample is
    # -log P(true class), and the batch loss is their mean (L = 1/N sum L_i, notes
    # 004). By hand, with scipy's log-sum-exp, with Keras (from logits) and with
    # scikit-learn's log_loss, which is defined as the mean negative log-likelihood.
    # -----------------------------------------------------------------------
    rng = np.random.default_rng(0)
    scores = rng.normal(scale=2.0, size=(8, 5))
    labels = rng.integers(0, 5, size=8)
    p = softmax(scores)
    nll_by_hand = float(np.mean(-np.log(p[np.arange(len(labels)), labels])))
    nll_logsumexp = float(np.mean(logsumexp(scores, axis=1) - scores[np.arange(len(labels)), labels]))
    keras_sparse = float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, scores))
    sk = float(log_loss(labels, p, labels=np.arange(5)))
    r.check_close("softmax loss: mean -log softmax(s)[k] == mean (logsumexp(s) - s_k)", nll_by_hand, nll_logsumexp, atol=1e-12)
    r.check_close("softmax loss by hand == Keras SparseCategoricalCrossentropy(from_logits=True)", keras_sparse, nll_by_hand, atol=1e-6)
    r.check_close("softmax loss by hand == scikit-learn log_loss (the mean negative log-likelihood)", sk, nll_by_hand, atol=1e-9)
    # The reason the notes prefer it: its gradient with respect to the scores is
    # simply softmax(s) - t (divided by N for the mean), never a vanishing product.
    s_var = tf.Variable(scores)
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, s_var)
    grad_s = np.asarray(tape.gradient(loss, s_var))
    r.check_close("d(mean softmax loss)/ds (GradientTape) == (softmax(s) - t) / N, max |difference|",
                  np.max(np.abs(grad_s - (p - np.eye(5)[labels]) / len(labels))), 0.0, atol=1e-7)

    # -----------------------------------------------------------------------
    # Step 3. Binary against categorical cross-entropy. A sigmoid output p is the
    # probability of class 1; binary cross-entropy -[t log p + (1 - t) log(1 - p)]
    # is the categorical one over the two classes (1 - p, p), and also the softmax
    # loss of the scores (0, z) where p = sigmoid(z).
    # -----------------------------------------------------------------------
    z = rng.normal(scale=2.0, size=6)
    t_bin = rng.integers(0, 2, size=6)
    p_bin = sigmoid(z)
    bce_by_hand = float(np.mean(-(t_bin * np.log(p_bin) + (1 - t_bin) * np.log(1 - p_bin))))
    bce_keras = float(keras.losses.BinaryCrossentropy()(t_bin[:, None].astype("float32"), p_bin[:, None].astype("float32")))
    cce_two = float(cce(np.eye(2)[t_bin], np.stack([1 - p_bin, p_bin], axis=1)))
    softmax_two = float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(t_bin, np.stack([np.zeros_like(z), z], axis=1)))
    r.check_close("Keras BinaryCrossentropy == -[t log p + (1-t) log(1-p)] by hand", bce_keras, bce_by_hand, atol=1e-6)
    r.check_close("binary cross-entropy == categorical cross-entropy over the two classes (1-p, p)", cce_two, bce_by_hand, atol=1e-6)
    r.check_close("binary cross-entropy == softmax loss of the scores (0, z), as softmax(0, z)[1] = sigmoid(z)",
                  softmax_two, bce_by_hand, atol=1e-6)
    # The classic slip: binary_crossentropy on a softmax over K > 2 classes. Keras
    # then treats each of the K outputs as its own yes/no question and averages K
    # binary losses, which is not the categorical loss of the notes.
    probs3 = softmax(rng.normal(size=(4, 3)))
    onehot3 = np.eye(3)[rng.integers(0, 3, size=4)]
    bce_on_softmax = float(keras.losses.BinaryCrossentropy()(onehot3.astype("float32"), probs3.astype("float32")))
    per_output = np.mean(-(onehot3 * np.log(probs3) + (1 - onehot3) * np.log(1 - probs3)), axis=1).mean()
    cce_three = float(np.mean(cee(probs3, onehot3)))
    r.check_close("BinaryCrossentropy on a 3-class softmax == mean of 3 per-output binary losses (by hand)",
                  bce_on_softmax, per_output, atol=1e-6)
    r.check("BinaryCrossentropy on a 3-class softmax is not the categorical cross-entropy -sum t log y",
            abs(bce_on_softmax - cce_three) > 0.05,
            expected="|difference| > 0.05", measured=f"{bce_on_softmax:.4f} vs {cce_three:.4f}")
    r.table("Binary and categorical cross-entropy on the same predictions",
            ["case", "binary cross-entropy", "categorical cross-entropy", "equal?"],
            [["2 classes: sigmoid p vs (1-p, p)", bce_keras, cce_two, _same(bce_keras, cce_two)],
             ["3 classes: softmax (binary_crossentropy misused)", bce_on_softmax, cce_three, _same(bce_on_softmax, cce_three)]])

    # -----------------------------------------------------------------------
    # Step 4. -log p near its two ends (notes 004): p -> 1 gives loss -> 0 and
    # p -> 0 gives loss -> infinity, ln 10 = 2.303 more for every factor of 10.
    # -----------------------------------------------------------------------
    ps = np.array([1 - 1e-6, 0.9, 0.5, 0.1, 1e-3, 1e-6])
    keras_at = np.array([keras_loss(cce, [0.0, 1.0], [1 - q, q]) for q in ps])
    r.check_close("Keras cross-entropy at p = 1-1e-6, 0.9, 0.5, 0.1, 1e-3, 1e-6 == -log p", keras_at, -np.log(ps), atol=2e-5, rtol=1e-4)
    r.check_at_most("p -> 1: loss at p = 1 - 1e-6", keras_at[0], 2e-6)
    r.check_close("p -> 0: each factor 10 smaller p adds ln 10 (loss(1e-6) - loss(1e-3))", keras_at[5] - keras_at[4],
                  3 * math.log(10), atol=1e-3)

    # -----------------------------------------------------------------------
    # Step 5. Why cross-entropy rather than squared error on a sigmoid output: the
    # gradient with respect to the score z. Squared error gives (p - t) p (1 - p),
    # which dies when the sigmoid saturates -- even when the answer is badly wrong;
    # cross-entropy gives p - t (notes 000: "gradient가 죽는 문제를 해결").
    # -----------------------------------------------------------------------
    zs = np.linspace(-10, 10, 401)
    z_var = tf.Variable(zs)
    with tf.GradientTape(persistent=True) as tape:
        p_var = tf.sigmoid(z_var)
        sq = 0.5 * (p_var - 1.0) ** 2                    # target t = 1
        ce = -tf.math.log(p_var)
    g_sq, g_ce = np.asarray(tape.gradient(sq, z_var)), np.asarray(tape.gradient(ce, z_var))
    r.check_close("d/dz of 1/2 (sigmoid(z) - 1)^2 (GradientTape) == (p - t) p (1 - p)",
                  np.max(np.abs(g_sq - (sigmoid(zs) - 1) * sigmoid(zs) * (1 - sigmoid(zs)))), 0.0, atol=1e-12)
    r.check_close("d/dz of -log sigmoid(z) (GradientTape) == p - t", np.max(np.abs(g_ce - (sigmoid(zs) - 1))), 0.0, atol=1e-12)
    r.check("confidently wrong (z = -10, t = 1): squared error's gradient has died, cross-entropy's has not",
            abs(g_sq[0]) < 1e-4 and abs(g_ce[0]) > 0.99, expected="|SSE grad| < 1e-4, |CE grad| > 0.99",
            measured=f"SSE {g_sq[0]:.3g}, CE {g_ce[0]:.6f}")

    # -----------------------------------------------------------------------
    # Step 6. Accuracy cannot be the loss. Train a linear softmax classifier on
    # iris, then sweep one of its weights. Accuracy only changes when a sample
    # crosses the decision boundary: a step function, flat (zero derivative)
    # almost everywhere, jumping by multiples of 1/N. The cross-entropy changes
    # smoothly, so its derivative tells the optimizer which way to go.
    # -----------------------------------------------------------------------
    (x, y), _ = zoo.datasets.load("iris")
    model = zoo.create_model("dense_classifier", input_dim=4, num_classes=3, hidden_units=(),
                             optimizer="adam", learning_rate=0.05, seed=0)
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    kernel = model.get_layer("output").kernel
    w0 = np.asarray(kernel).copy()
    i, j = 2, 1  # petal length -> versicolor
    sweep = np.linspace(w0[i, j] - SWEEP_HALF_WIDTH, w0[i, j] + SWEEP_HALF_WIDTH, 601 if quick else 2401)
    acc, xent = [], []
    for value in sweep:
        w = w0.copy()
        w[i, j] = value
        kernel.assign(w)
        probs = np.asarray(model(x), dtype=np.float64)
        acc.append(np.mean(probs.argmax(axis=1) == y))
        xent.append(np.mean(-np.log(probs[np.arange(len(y)), y])))
    kernel.assign(w0)
    acc, xent = np.array(acc), np.array(xent)
    d_acc, d_xent = np.diff(acc), np.diff(xent)
    n = len(y)
    r.check_at_least("accuracy: fraction of sweep steps where it does not change at all (zero derivative)",
                     float(np.mean(d_acc == 0)), 0.9)
    # (Accuracy is a count over N, so every change is a multiple of 1/N by
    # construction; what matters is how rarely it changes at all, checked above.)
    jumps = np.round(d_acc[d_acc != 0] * n).astype(int)
    r.note(f"Over the sweep of one weight, accuracy changes at {len(jumps)} of {len(d_acc)} steps, each time by "
           f"{', '.join(f'{j:+d}' for j in sorted(set(jumps.tolist())))} sample(s) of {n}; the cross-entropy changes at "
           "every step.")
    r.check("cross-entropy changes at every sweep step (non-zero derivative)", bool(np.all(d_xent != 0)),
            expected="all steps", measured=f"{int(np.sum(d_xent != 0))} of {len(d_xent)}")
    # Automatic differentiation agrees: argmax has no gradient, so the tape gives none.
    with tf.GradientTape(persistent=True) as tape:
        out = model(x)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(out, axis=1), y), tf.float32))
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, out))
    g_acc, g_loss = tape.gradient(accuracy, kernel), tape.gradient(loss, kernel)
    r.check("GradientTape: d(accuracy)/dW is None (argmax is not differentiable), d(loss)/dW exists",
            g_acc is None and g_loss is not None and float(tf.norm(g_loss)) > 0,
            expected="None and a non-zero gradient", measured=f"{g_acc} and norm {float(tf.norm(g_loss)):.4g}")

    # -----------------------------------------------------------------------
    # Step 7. Regression (notes 002, 4-1: "회귀에서는 MSE"): a linear model on
    # scikit-learn's diabetes data (442 patients, 10 features, a disease-progression
    # score), trained by Keras on MSE, against the least-squares solution. Then the
    # negative log-likelihood for a Gaussian instead of a Bernoulli / categorical
    # output: with y ~ N(mu(x), sigma^2),
    #     -log p(y | x) = 1/2 log(2 pi sigma^2) + (y - mu)^2 / (2 sigma^2),
    # so the mean NLL is MSE / (2 sigma^2) plus a constant: the same minimiser, and
    # gradients 1/(2 sigma^2) times MSE's (notes 000: NLL lets the model assume
    # other distributions).
    # -----------------------------------------------------------------------
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import train_test_split

    xd, yd = load_diabetes(return_X_y=True)
    yd = (yd - yd.mean()) / yd.std()  # a score of about unit scale, so one learning rate fits
    xd_tr, xd_te, yd_tr, yd_te = train_test_split(xd.astype("float32"), yd.astype("float32"), test_size=0.25, random_state=0)
    reg = keras.Sequential([keras.Input((xd.shape[1],)), keras.layers.Dense(1)])
    reg.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    reg.fit(xd_tr, yd_tr, epochs=REGRESSION_EPOCHS, batch_size=len(xd_tr), verbose=0)
    pred = np.asarray(reg(xd_te), np.float64)[:, 0]
    mse_keras = float(reg.evaluate(xd_te, yd_te, verbose=0, batch_size=len(xd_te)))
    mse_hand = float(np.mean((yd_te - pred) ** 2))
    mse_ls = float(np.mean((yd_te - LinearRegression().fit(xd_tr, yd_tr).predict(xd_te)) ** 2))
    mse_mean = float(np.mean((yd_te - yd_tr.mean()) ** 2))
    r.table("Regression on MSE: scikit-learn's diabetes data (331 training, 111 test patients), a linear model",
            ["model", "test MSE (target scaled to unit variance)"],
            [["predict the training mean", mse_mean], [f"Keras Dense(1), loss='mse', Adam, {REGRESSION_EPOCHS} full-batch steps",
                                                       mse_keras],
             ["least squares (scikit-learn LinearRegression)", mse_ls]])
    r.check_close("Keras's loss='mse' == mean (y - y_hat)^2 by hand (test set)", mse_keras, mse_hand, atol=1e-5, rtol=1e-5)
    r.check_close("regression trained on MSE reaches the least-squares test MSE (relative)", mse_keras, mse_ls, atol=0.0,
                  rtol=0.02)
    r.check_at_most("... well below predicting the mean: test MSE / the mean's", mse_keras / mse_mean, 0.7)

    sigma = GAUSS_SIGMA
    with tf.GradientTape(persistent=True) as tape:
        mu = reg(xd_tr)[:, 0]
        t = tf.constant(yd_tr)
        mse_t = tf.reduce_mean(tf.square(t - mu))
        nll_t = -tf.reduce_mean(gaussian_log_pdf(t, mu, sigma))
    g_mse, g_nll = tape.gradient(mse_t, reg.trainable_weights), tape.gradient(nll_t, reg.trainable_weights)
    const = 0.5 * math.log(2 * math.pi * sigma**2)
    mu_np = np.asarray(mu, np.float64)
    r.check_close(f"Gaussian NLL (sigma = {sigma:g}, SciPy's density) == 1/2 log(2 pi sigma^2) + MSE / (2 sigma^2)",
                  gaussian_nll(yd_tr, mu_np, sigma), const + float(mse_t) / (2 * sigma**2), atol=1e-5)
    r.check_close("... so its gradient is MSE's gradient / (2 sigma^2): the same minimiser, max |difference|",
                  max(float(tf.reduce_max(tf.abs(a - b / (2 * sigma**2)))) for a, b in zip(g_nll, g_mse)), 0.0, atol=1e-6)
    best, h = math.sqrt(float(np.mean((yd_tr - mu_np) ** 2))), 1e-4  # central difference of SciPy's NLL in sigma
    r.check_close("... and the sigma that maximises the likelihood is sqrt(MSE): d NLL / d sigma == 0 there",
                  (gaussian_nll(yd_tr, mu_np, best + h) - gaussian_nll(yd_tr, mu_np, best - h)) / (2 * h), 0.0,
                  atol=1e-5)
    del tape

    # -----------------------------------------------------------------------
    # Figures. First the losses themselves.
    # -----------------------------------------------------------------------
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.6))
    q = np.linspace(1e-4, 1, 2000)
    ax = axes[0]
    ax.plot(q, -np.log(q), lw=2, label="-log p")
    ax.plot(ps[1:], -np.log(ps[1:]), "o", color="C3", ms=5, label="Keras CategoricalCrossentropy")
    ax.set(xlabel="p = predicted probability of the true class", ylabel="loss", ylim=(0, 8),
           title="-log p: to infinity as p -> 0, to 0 as p -> 1")
    ax.annotate("p -> 0: loss -> infinity", (0.02, 6.5), fontsize=9)
    ax.annotate("p -> 1: loss -> 0", (0.65, 0.6), fontsize=9)
    ax.legend(fontsize=8)
    ax = axes[1]
    # SSE and CEE for the book's ten-class setting as a function of y[true], the
    # remaining probability spread evenly over the nine other classes.
    others = (1 - q) / (k - 1)
    ax.plot(q, 0.5 * ((q - 1) ** 2 + (k - 1) * others**2), lw=2, label="SSE 1/2 sum (y - t)^2")
    ax.plot(q, -np.log(q), lw=2, label="CEE -sum t log y")
    # CEE depends on y[true] only, so the book's two predictions lie on its curve.
    ax.plot([Y1[2], Y2[2]], [BOOK["CEE y1"], BOOK["CEE y2"]], "o", color="C1", ms=6, label="book's y1, y2 (CEE)")
    ax.set(xlabel="y[true class] (others share the rest evenly)", ylabel="loss", ylim=(0, 5),
           title="10 classes: SSE is at most 1, CEE is unbounded")
    ax.legend(fontsize=8)
    ax = axes[2]
    ax.plot(zs, g_sq, lw=2, label="squared error: (p - t) p (1 - p)")
    ax.plot(zs, g_ce, lw=2, label="cross-entropy: p - t")
    ax.set(xlabel="score z (p = sigmoid(z)), true class t = 1", ylabel="dLoss/dz",
           title="sigmoid output: squared error's gradient dies")
    ax.annotate("confidently wrong:\nSSE gradient ~ 0", (-9.8, -0.25), fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.suptitle("Loss functions: squared error, cross-entropy and the negative log-likelihood")
    fig.tight_layout()
    r.figure(fig, "losses.png")
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    ax = axes[0]
    ax.step(sweep, acc, where="mid", lw=2, color="C2", label="training accuracy")
    ax.set(xlabel=f"weight W[{i}, {j}] (petal length -> versicolor)", ylabel="accuracy")
    ax2 = ax.twinx()
    ax2.plot(sweep, xent, lw=2, color="C1", label="cross-entropy loss")
    ax2.set_ylabel("cross-entropy")
    ax.axvline(w0[i, j], color="gray", ls=":", lw=1)
    ax.set_title("sweeping one weight of a trained linear classifier (iris)")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="lower left")
    ax = axes[1]
    step = sweep[1] - sweep[0]
    ax.plot(sweep[:-1] + step / 2, d_acc / step, lw=1.5, color="C2", label="d accuracy / dw (0 or a spike)")
    ax.plot(sweep[:-1] + step / 2, d_xent / step, lw=2, color="C1", label="d cross-entropy / dw")
    ax.set(xlabel=f"weight W[{i}, {j}]", ylabel="finite-difference derivative", title="their derivatives",
           ylim=(-1.5, 1.5))
    ax.legend(fontsize=8)
    for a in axes:
        a.grid(alpha=0.3)
    fig.suptitle(f"Accuracy cannot be the loss: its derivative is zero on {np.mean(d_acc == 0):.0%} of the sweep")
    fig.tight_layout()
    r.figure(fig, "accuracy_vs_loss.png")
    plt.close(fig)
    return r.result()


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
