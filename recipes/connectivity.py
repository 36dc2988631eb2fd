"""Connectivity patterns (연결 패턴).

Reproduces: the notes' list of connectivity patterns -- fully connected,
convolutional, dilated, recurrent, skip / residual and random -- as tiny Keras models:
their parameter counts against the formulas (Dense ``n u + u``, Conv1D ``k C f + f``
whatever the dilation, SimpleRNN ``n u + u^2 + u``, GRU ``3 (n u + u^2 + 2u)``, LSTM
``4 (n u + u^2 + u)``, a residual block no more than its layers), and their receptive
fields measured, not assumed: the input positions on which one output depends are
those where the gradient of that output with respect to the input is non-zero (a
dense layer sees everything, a stack of 3 convolutions 1 + 3 (k - 1) = 7 positions,
with dilations 1, 2, 4 it sees 15, a recurrent layer everything up to now, a random
layer the inputs its mask connects). Skip connections do not widen the receptive
field; they carry the gradient through depth (shown on a 20-layer sigmoid network).
Last, the notes' FFNN vs RNN contrast on a sequence task -- does the sequence contain
"0 then 1"? -- where the recurrent network, which reuses one cell at every step,
learns the rule from 1000 sequences, while the zoo's feed-forward network must learn
it separately at every position and cannot take a longer sequence at all.
Source: notes 001 ("Connectivity Pattern": Fully-Connected, Convolutional, Dilated,
Recurrent, Skip / Residual, Random; GRU, LSTM), notes 002 (2-1 FFNN vs RNN, 2-2 dense
layer); WaveNet (van den Oord et al. 2016) for dilations, He et al. 2016 for residuals.
"""

from __future__ import annotations

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "Connectivity patterns (연결 패턴)"
ORDER = 19
SOURCE = ("notes 001 (Connectivity Pattern: fully connected, convolutional, dilated, recurrent, "
          "skip/residual, random), notes 002 (2-1 FFNN vs RNN, 2-2 dense layer)")

# Parameter counts: n input features, u units (filters) per layer, kernel size k.
N_IN, UNITS, KERNEL = 4, 8, 3
# Receptive fields: a sequence of SEQ_LEN steps with one channel; we probe the
# output at step PROBE. Convolutions are causal (they look back only, as a recurrent
# layer does), three layers deep, kernel 3; the dilated stack uses dilations 1, 2, 4.
SEQ_LEN, PROBE, DEPTH, DILATIONS = 32, 20, 3, (1, 2, 4)
RANDOM_DENSITY = 0.25  # fraction of input -> output connections a random layer keeps
# Gradient through depth: 20 sigmoid layers of 16 units, with and without skips.
DEEP_LAYERS, DEEP_WIDTH = 20, 16
# The sequence task: symbols 0..3, sequences of 12; label 1 if "0 then 1" occurs.
VOCAB, TASK_LEN, N_TRAIN, N_TEST = 4, 12, 1000, 2000
RNN_UNITS, FF_HIDDEN, TASK_EPOCHS, TASK_RATE, TASK_BATCH = 16, (64,), 10, 1e-2, 32


# ---------------------------------------------------------------------------
# The formulas.
# ---------------------------------------------------------------------------
def dense_params(n, u):
    return n * u + u                      # one weight per input-output pair, one bias per output


def conv1d_params(k, c, f):
    return k * c * f + f                  # one k x c kernel per filter, shared by every position


def simple_rnn_params(n, u):
    return n * u + u * u + u              # input weights, recurrent weights (h_{t-1} -> h_t), bias


def gru_params(n, u, reset_after=True):
    return 3 * (n * u + u * u + (2 if reset_after else 1) * u)   # 3 gates; Keras's default keeps 2 biases


def lstm_params(n, u):
    return 4 * (n * u + u * u + u)        # input, forget and output gates and the cell candidate


def receptive_field(pattern):
    """The input positions the output at PROBE depends on, by the pattern's rule."""
    steps = np.arange(SEQ_LEN)
    if pattern == "fully connected":
        return set(steps)                                     # every input, future included
    if pattern in ("convolutional", "skip / residual"):
        return set(range(PROBE - DEPTH * (KERNEL - 1), PROBE + 1))            # 1 + L (k - 1)
    if pattern == "dilated":
        return set(range(PROBE - (KERNEL - 1) * sum(DILATIONS), PROBE + 1))   # 1 + (k - 1) sum d
    if pattern.startswith("recurrent"):
        return set(range(PROBE + 1))                          # everything up to now, nothing after
    raise ValueError(f"no rule for {pattern!r}")


def masked_dense(mask, activation="tanh"):
    """A Dense layer whose kernel is multiplied by a fixed 0/1 ``mask`` (random connectivity)."""
    import keras

    class MaskedDense(keras.layers.Layer):
        def build(self, input_shape):
            self.kernel = self.add_weight(shape=mask.shape, initializer="glorot_uniform", name="kernel")
            self.bias = self.add_weight(shape=(mask.shape[1],), initializer="zeros", name="bias")

        def call(self, x):
            return keras.activations.get(activation)(x @ (self.kernel * mask.astype("float32")) + self.bias)

    return MaskedDense(name="masked_dense")


def pattern_models(random_mask):
    """One tiny model per pattern on (SEQ_LEN, 1) sequences, tanh units, random weights."""
    import keras
    from keras import layers

    def causal_stack(dilations, residual=False):
        x = inputs = keras.Input((SEQ_LEN, 1))
        for i, d in enumerate(dilations):
            h = layers.Conv1D(4, KERNEL, padding="causal", dilation_rate=d, activation="tanh")(x)
            x = layers.Add()([x, h]) if residual and i > 0 else h  # the first layer changes the width
        return keras.Model(inputs, x)

    def recurrent(cell):
        return keras.Sequential([keras.Input((SEQ_LEN, 1)), cell(4, return_sequences=True)])

    return {
        "fully connected": keras.Sequential([keras.Input((SEQ_LEN, 1)), layers.Flatten(),
                                             layers.Dense(SEQ_LEN, activation="tanh")]),
        "convolutional": causal_stack((1,) * DEPTH),
        "dilated": causal_stack(DILATIONS),
        "recurrent (SimpleRNN)": recurrent(layers.SimpleRNN),
        "recurrent (GRU)": recurrent(layers.GRU),
        "recurrent (LSTM)": recurrent(layers.LSTM),
        "skip / residual": causal_stack((1,) * DEPTH, residual=True),
        "random": keras.Sequential([keras.Input((SEQ_LEN, 1)), layers.Flatten(), masked_dense(random_mask)]),
    }


def output_gradient(model, x):
    """|d output[PROBE] / d input| for one input sequence x of shape (SEQ_LEN, 1)."""
    import tensorflow as tf

    inputs = tf.constant(x[None].astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        out = model(inputs)
        probe = out[0, PROBE] if len(out.shape) == 2 else out[0, PROBE, 0]  # (T,) or (T, channels)
    return np.abs(np.asarray(tape.gradient(probe, inputs))[0, :, 0])


def motif_data(n, length, seed):
    """Random sequences over VOCAB symbols; label 1 where "0 immediately followed by 1" occurs."""
    seqs = np.random.default_rng(seed).integers(0, VOCAB, size=(n, length))
    labels = ((seqs[:, :-1] == 0) & (seqs[:, 1:] == 1)).any(axis=1).astype("int64")
    return np.eye(VOCAB, dtype="float32")[seqs], labels  # one-hot: (n, length, VOCAB)


def batches(x, y, seed):
    """Shuffled batches of TASK_BATCH, reshuffled each epoch, repeated (one input pipeline for all epochs)."""
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed).batch(TASK_BATCH).repeat()


def run(out_dir, quick=True):
    import keras
    import matplotlib
    import tensorflow as tf

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import zoo

    r = Recipe("connectivity", out_dir, title=TITLE, source=SOURCE, quick=quick)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    layers = keras.layers

    # -----------------------------------------------------------------------
    # Step 1. Parameter counts: one layer of each pattern on n = 4 input features
    # (channels), u = 8 units (filters), kernel 3; Keras's count against the formula.
    # -----------------------------------------------------------------------
    def count(layer, input_shape):
        model = keras.Sequential([keras.Input(input_shape), layer])
        return model.count_params()

    n, u, k = N_IN, UNITS, KERNEL
    res_in = keras.Input((u,))
    res_out = layers.Add()([res_in, layers.Dense(u)(layers.Dense(u, activation="relu")(res_in))])
    residual_block = keras.Model(res_in, res_out)
    param_rows = [
        ["fully connected", f"Dense({u}) on {n} features", "n u + u", dense_params(n, u), count(layers.Dense(u), (n,))],
        ["convolutional", f"Conv1D({u}, {k}) on {n} channels", "k C f + f", conv1d_params(k, n, u),
         count(layers.Conv1D(u, k), (SEQ_LEN, n))],
        ["dilated", f"Conv1D({u}, {k}, dilation_rate=4)", "k C f + f (dilation is free)", conv1d_params(k, n, u),
         count(layers.Conv1D(u, k, dilation_rate=4), (SEQ_LEN, n))],
        ["recurrent", f"SimpleRNN({u}) on {n} features", "n u + u^2 + u", simple_rnn_params(n, u),
         count(layers.SimpleRNN(u), (None, n))],
        ["recurrent", f"GRU({u}) (Keras default reset_after=True)", "3 (n u + u^2 + 2u)", gru_params(n, u),
         count(layers.GRU(u), (None, n))],
        ["recurrent", f"GRU({u}, reset_after=False) (Cho et al. 2014)", "3 (n u + u^2 + u)", gru_params(n, u, False),
         count(layers.GRU(u, reset_after=False), (None, n))],
        ["recurrent", f"LSTM({u}) on {n} features", "4 (n u + u^2 + u)", lstm_params(n, u), count(layers.LSTM(u), (None, n))],
        ["skip / residual", f"x + Dense({u})(relu(Dense({u})(x)))", "2 (u^2 + u); the skip adds 0",
         2 * dense_params(u, u), residual_block.count_params()],
    ]
    for row in param_rows:
        r.check(f"{row[1]}: parameters == {row[2]}", row[3] == row[4], expected=row[3], measured=row[4])
    # The same counts do not depend on the sequence length for conv and recurrent layers.
    longer = count(layers.SimpleRNN(u), (10 * SEQ_LEN, n)), count(layers.Conv1D(u, k), (10 * SEQ_LEN, n))
    r.check("SimpleRNN and Conv1D parameters do not grow with the sequence length (x10)",
            longer == (simple_rnn_params(n, u), conv1d_params(k, n, u)),
            expected=(simple_rnn_params(n, u), conv1d_params(k, n, u)), measured=longer)

    # A random pattern keeps a random subset of the connections: a fixed 0/1 mask on a
    # Dense kernel. Keras stores the whole kernel, but only the masked-in weights get a
    # gradient, so the free parameters are (connections kept) + biases.
    mask = (rng.random((SEQ_LEN, SEQ_LEN)) < RANDOM_DENSITY).astype("float32")
    mask[:, PROBE] = 0
    mask[rng.choice(SEQ_LEN, 6, replace=False), PROBE] = 1  # the probed output: exactly 6 random inputs
    random_model = keras.Sequential([keras.Input((SEQ_LEN,)), masked_dense(mask)])
    with tf.GradientTape() as tape:
        out = random_model(tf.constant(rng.normal(size=(8, SEQ_LEN)).astype("float32")))
        total = tf.reduce_sum(out)
    trained = int(np.count_nonzero(np.asarray(tape.gradient(total, random_model.layers[0].kernel))))
    r.check("random (masked) layer: kernel entries with a gradient == connections kept by the mask",
            trained == int(mask.sum()), expected=f"{int(mask.sum())} (+ {SEQ_LEN} biases = {int(mask.sum()) + SEQ_LEN} free parameters)",
            measured=f"{trained} (Keras stores all {random_model.count_params()})")
    param_rows.append(["random", f"Dense({SEQ_LEN}) on {SEQ_LEN} inputs, mask density {RANDOM_DENSITY}",
                       "kept connections + u", int(mask.sum()) + SEQ_LEN, f"{trained} + {SEQ_LEN} (stored {random_model.count_params()})"])
    r.table(f"Parameters of one layer of each pattern (n = {n} inputs, u = {u} units, k = {k})",
            ["pattern", "layer", "formula", "by formula", "Keras count_params()"], param_rows)

    # -----------------------------------------------------------------------
    # Step 2. Receptive fields, measured: the gradient of the output at step PROBE
    # with respect to every input step is non-zero exactly where that output looks.
    # -----------------------------------------------------------------------
    models = pattern_models(mask)
    x_probe = rng.normal(size=(SEQ_LEN, 1))
    grads, rf_rows = {}, []
    for pattern, model in models.items():
        g = output_gradient(model, x_probe)
        grads[pattern] = g
        seen = set(np.flatnonzero(g > 0).tolist())
        rule = set(np.flatnonzero(mask[:, PROBE]).tolist()) if pattern == "random" else receptive_field(pattern)
        span = f"{min(rule)}..{max(rule)}" if pattern != "random" else "the mask's inputs"
        r.check(f"{pattern}: inputs with non-zero gradient == receptive field by the rule ({len(rule)} steps)",
                seen == rule, expected=f"{len(rule)} steps ({span})",
                measured=f"{len(seen)} steps" + ("" if seen == rule else f", differ at {sorted(seen ^ rule)}"))
        rf_rows.append([pattern, len(rule), len(seen), min(seen), max(seen), model.count_params()])
    r.table(f"Receptive field of the output at step {PROBE} of a {SEQ_LEN}-step sequence (causal convolutions, "
            f"{DEPTH} layers, kernel {KERNEL}; dilations {DILATIONS})",
            ["pattern", "receptive field by rule", "measured (non-zero gradient)", "first step", "last step", "parameters"],
            rf_rows)

    # -----------------------------------------------------------------------
    # Step 3. What skip connections are for: y = x + F(x) gives dy/dx = I + dF/dx, so
    # the gradient reaches the first layers of a deep network. 20 sigmoid layers,
    # the same weights with and without the skips.
    # -----------------------------------------------------------------------
    deep = [layers.Dense(DEEP_WIDTH, activation="sigmoid") for _ in range(DEEP_LAYERS)]
    x_deep = tf.constant(rng.normal(size=(64, DEEP_WIDTH)).astype("float32"))
    deep_norms = {}
    for skip in (False, True):
        with tf.GradientTape() as tape:
            h = x_deep
            for layer in deep:
                h = h + layer(h) if skip else layer(h)
            loss = tf.reduce_mean(tf.reduce_sum(h**2, axis=1))
        deep_norms[skip] = np.array([float(tf.norm(g)) for g in tape.gradient(loss, [layer.kernel for layer in deep])])
    plain_ratio = deep_norms[False][0] / deep_norms[False][-1]
    skip_ratio = deep_norms[True][0] / deep_norms[True][-1]
    r.check_at_most(f"{DEEP_LAYERS} sigmoid layers, no skips: |grad W_1| / |grad W_{DEEP_LAYERS}| (vanishes)", plain_ratio, 1e-6)
    r.check_at_least(f"{DEEP_LAYERS} sigmoid layers with skips: |grad W_1| / |grad W_{DEEP_LAYERS}| (kept)", skip_ratio, 1e-2)

    # -----------------------------------------------------------------------
    # Step 4. FFNN vs RNN (notes 002). The FFNN is the zoo's dense_classifier on the
    # flattened one-hot sequence; the RNN reads one symbol per step and feeds its
    # hidden state back into itself. Same optimizer (Adam 0.01), batches and epochs.
    # -----------------------------------------------------------------------
    x_tr, y_tr = motif_data(N_TRAIN, TASK_LEN, seed=0)
    x_te, y_te = motif_data(N_TEST, TASK_LEN, seed=1)
    x_long, y_long = motif_data(N_TEST, 2 * TASK_LEN, seed=2)
    steps = -(-N_TRAIN // TASK_BATCH)
    task_rows, curves = [], {}
    ffnn = zoo.create_model("dense_classifier", input_dim=TASK_LEN * VOCAB, num_classes=2, hidden_units=FF_HIDDEN,
                            optimizer="adam", learning_rate=TASK_RATE, seed=0)
    # One call into TensorFlow per epoch (steps_per_execution): the same updates, faster
    # for models this small. The zoo compiled the model; we only add this setting.
    ffnn.compile(optimizer=ffnn.optimizer, loss=ffnn.loss, steps_per_execution=steps)
    flat = x_tr.reshape(N_TRAIN, -1)
    hist = ffnn.fit(batches(flat, y_tr, seed=0), epochs=TASK_EPOCHS, steps_per_epoch=steps, shuffle=False, verbose=0).history
    curves["FFNN (zoo dense_classifier)"] = hist["loss"]
    ff_train = float(np.mean(np.argmax(np.asarray(ffnn(flat)), 1) == y_tr))
    ff_test = float(np.mean(np.argmax(np.asarray(ffnn(x_te.reshape(N_TEST, -1))), 1) == y_te))
    try:
        ffnn(x_long.reshape(N_TEST, -1))
        ff_long = "accepted"
    except ValueError as exc:
        ff_long = "ValueError: ..." + str(exc).split("incompatible with the layer:")[-1]  # "expected shape=..."
    r.check(f"the FFNN has a fixed input size: a {2 * TASK_LEN}-step sequence is refused", ff_long.startswith("ValueError"),
            expected="ValueError", measured=ff_long)
    task_rows.append(["FFNN (zoo dense_classifier, hidden 64)", ffnn.count_params(),
                      f"(12*4 + 1)*64 + (64 + 1)*2 = {dense_params(TASK_LEN * VOCAB, 64) + dense_params(64, 2)}",
                      ff_train, ff_test, "cannot take it"])

    cells = {"SimpleRNN": layers.SimpleRNN} if quick else {"SimpleRNN": layers.SimpleRNN, "GRU": layers.GRU, "LSTM": layers.LSTM}
    formulas = {"SimpleRNN": simple_rnn_params, "GRU": gru_params, "LSTM": lstm_params}
    rnn_results = {}
    for name, cell in cells.items():
        keras.utils.set_random_seed(0)
        rnn = keras.Sequential([keras.Input((None, VOCAB)), cell(RNN_UNITS), layers.Dense(2, activation="softmax")],
                               name=name.lower())
        rnn.compile(optimizer=keras.optimizers.Adam(TASK_RATE), loss="sparse_categorical_crossentropy",
                    steps_per_execution=steps)
        hist = rnn.fit(batches(x_tr, y_tr, seed=0), epochs=TASK_EPOCHS, steps_per_epoch=steps, shuffle=False, verbose=0).history
        curves[f"RNN ({name})"] = hist["loss"]
        accs = [float(np.mean(np.argmax(np.asarray(rnn(xs)), 1) == ys)) for xs, ys in ((x_tr, y_tr), (x_te, y_te), (x_long, y_long))]
        rnn_results[name] = accs
        by_formula = formulas[name](VOCAB, RNN_UNITS) + dense_params(RNN_UNITS, 2)
        task_rows.append([f"RNN ({name}, {RNN_UNITS} units)", rnn.count_params(), f"{name} formula + (16 + 1)*2 = {by_formula}",
                          *accs])
        r.check(f"{name}: parameters == formula, for any sequence length", rnn.count_params() == by_formula,
                expected=by_formula, measured=rnn.count_params())
    if not quick:
        # The FFNN can represent the rule; it needs more examples because it learns it
        # at each of the 11 positions separately. With four times the data:
        n_more = 4 * N_TRAIN
        x_more, y_more = motif_data(n_more, TASK_LEN, seed=3)
        more = zoo.create_model("dense_classifier", input_dim=TASK_LEN * VOCAB, num_classes=2, hidden_units=FF_HIDDEN,
                                optimizer="adam", learning_rate=TASK_RATE, seed=0)
        more_steps = -(-n_more // TASK_BATCH)
        more.compile(optimizer=more.optimizer, loss=more.loss, steps_per_execution=more_steps)
        more.fit(batches(x_more.reshape(n_more, -1), y_more, seed=0), epochs=TASK_EPOCHS, steps_per_epoch=more_steps,
                 shuffle=False, verbose=0)
        more_acc = [float(np.mean(np.argmax(np.asarray(more(xs.reshape(len(xs), -1))), 1) == ys))
                    for xs, ys in ((x_more, y_more), (x_te, y_te))]
        task_rows.append([f"FFNN, trained on {n_more} sequences", more.count_params(), "as above", *more_acc, "cannot take it"])
        r.check_at_least(f"with {n_more} training sequences the FFNN learns the rule too: test accuracy", more_acc[1], 0.98)
    r.table(f"Does the sequence contain \"0 then 1\"? {N_TRAIN} training sequences of {TASK_LEN} symbols (0-3), "
            f"Adam {TASK_RATE}, {TASK_EPOCHS} epochs; test on {N_TEST} new sequences",
            ["network", "parameters", "by formula", "train accuracy", f"test accuracy ({TASK_LEN} steps)",
             f"test accuracy ({2 * TASK_LEN} steps, never seen)"], task_rows)
    simple = rnn_results["SimpleRNN"]
    r.check_at_least(f"RNN (SimpleRNN) test accuracy, {TASK_LEN} steps", simple[1], 0.98)
    r.check_at_least(f"RNN (SimpleRNN) test accuracy on {2 * TASK_LEN}-step sequences (trained on {TASK_LEN})", simple[2], 0.95)
    r.check("the FFNN fits its training data but generalises worse than the RNN (test accuracy at least 0.05 lower)",
            ff_train >= 0.95 and ff_test <= simple[1] - 0.05,
            expected="FFNN train >= 0.95 and FFNN test <= RNN test - 0.05",
            measured=f"FFNN train {ff_train:.3f}, test {ff_test:.3f}; RNN test {simple[1]:.3f}")

    # -----------------------------------------------------------------------
    # Figures. (1) The patterns as the textbook draws them. (2) The measured
    # receptive fields. (3) Gradient through depth with and without skips. (4) FFNN vs RNN.
    # -----------------------------------------------------------------------
    fig = draw_patterns(plt, rng)
    r.figure(fig, "patterns.png")
    plt.close(fig)

    names = list(grads)
    heat = np.array([grads[p] / grads[p].max() for p in names])
    fig, ax = plt.subplots(figsize=(12, 4.8))
    shown = np.where(heat > 0, np.log10(np.maximum(heat, 1e-12)), np.nan)
    im = ax.imshow(shown, aspect="auto", cmap=plt.get_cmap("viridis").with_extremes(bad="white"), vmin=-8, vmax=0)
    ax.axvline(PROBE, color="red", lw=1.5)
    ax.set_yticks(range(len(names)), [f"{p} ({int(np.count_nonzero(grads[p]))} steps)" for p in names])
    ax.set_xticks(range(0, SEQ_LEN, 2))
    ax.set(xlabel="input step", title=f"Receptive field of the output at step {PROBE} (red line): "
           "|∂ output / ∂ input|, white = exactly 0")
    fig.colorbar(im, ax=ax, label="log10 of |gradient| / its max")
    fig.tight_layout()
    r.figure(fig, "receptive_fields.png")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4.3))
    layers_axis = np.arange(1, DEEP_LAYERS + 1)
    ax.semilogy(layers_axis, deep_norms[False], "o-", ms=3, label="plain: h = σ(W h + b)")
    ax.semilogy(layers_axis, deep_norms[True], "s--", ms=3, label="residual: h = h + σ(W h + b)")
    ax.set(xlabel="layer (1 = next to the input)", ylabel="|∂ loss / ∂ W| (log scale)",
           title=f"{DEEP_LAYERS} sigmoid layers, same weights: the skips carry the gradient down")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    r.figure(fig, "skip_gradients.png")
    plt.close(fig)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.3))
    for label, loss in curves.items():
        ax1.plot(range(1, len(loss) + 1), loss, "o-" if "FFNN" in label else "s--", ms=3, label=label)
    ax1.set(xlabel="epoch", ylabel="training loss", yscale="log", title="training loss")
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3)
    groups = ["train", f"test, {TASK_LEN} steps", f"test, {2 * TASK_LEN} steps\n(never seen)"]
    bars = {"FFNN": [ff_train, ff_test, np.nan], **{f"RNN ({k})": v for k, v in rnn_results.items()}}
    width = 0.8 / len(bars)
    for i, (label, values) in enumerate(bars.items()):
        pos = np.arange(3) + (i - (len(bars) - 1) / 2) * width
        ax2.bar(pos, np.nan_to_num(values), width, label=label)
        for p_, v in zip(pos, values):
            ax2.text(p_, (0 if np.isnan(v) else v) + 0.01, "n/a" if np.isnan(v) else f"{v:.3f}",
                     ha="center", va="bottom", fontsize=7, rotation=90 if len(bars) > 2 else 0)
    ax2.set_xticks(range(3), groups)
    ax2.set(ylim=(0, 1.15), ylabel="accuracy", title="accuracy (the FFNN cannot take 24 steps)")
    ax2.legend(fontsize=8, loc="lower left")
    fig.suptitle(f"FFNN vs RNN: does the sequence contain \"0 then 1\"? ({N_TRAIN} training sequences of {TASK_LEN})")
    fig.tight_layout()
    r.figure(fig, "ffnn_vs_rnn.png")
    plt.close(fig)

    r.note(f"The FFNN sees the whole sequence at once but has separate weights for each position, "
           f"{ffnn.count_params()} parameters; it fits its {N_TRAIN} training sequences yet misses the rule on new ones "
           f"({ff_test:.3f}). The SimpleRNN has {simple_rnn_params(VOCAB, RNN_UNITS) + dense_params(RNN_UNITS, 2)} "
           f"parameters, applies the same cell at every step and so learns one rule that also holds for "
           f"sequences twice as long ({simple[2]:.3f}). In full mode the FFNN gets four times the data and "
           "learns the rule as well: weight sharing across time is what saves the RNN that data.")
    return r.result()


def draw_patterns(plt, rng):
    """The six connectivity patterns as node-and-edge diagrams (inputs at the bottom)."""
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    node = {"s": 40, "color": "white", "edgecolors": "black", "zorder": 3}

    def nodes(ax, xs, y):
        ax.scatter(xs, [y] * len(xs), **node)

    def edge(ax, a, b, **kw):
        ax.plot([a[0], b[0]], [a[1], b[1]], color=kw.pop("color", "0.5"), lw=kw.pop("lw", 0.8), zorder=1, **kw)

    xs = np.arange(8)
    # Fully connected: every input to every output.
    ax = axes[0, 0]
    for i in xs:
        for j in xs:
            edge(ax, (i, 0), (j, 1), lw=0.5)
    nodes(ax, xs, 0), nodes(ax, xs, 1)
    ax.set_title("fully connected (Dense): all 8 × 8")
    # Convolutional: each output sees 3 neighbours, with the same 3 weights everywhere.
    ax = axes[0, 1]
    for j in xs:
        for d, color in zip((-1, 0, 1), ("C0", "C1", "C2")):
            if 0 <= j + d < 8:
                edge(ax, (j + d, 0), (j, 1), color=color, lw=1.2)
    nodes(ax, xs, 0), nodes(ax, xs, 1)
    ax.set_title("convolutional: local, shared weights (colour)")
    # Dilated: three causal layers, kernel 3, dilations 1, 2, 4; the last output's tree in red.
    ax = axes[0, 2]
    xs16 = np.arange(16)
    needed = {15}
    for level, d in reversed(list(enumerate(DILATIONS))):
        below = set()
        for j in xs16:
            for t in range(KERNEL):
                i = j - t * d
                if i >= 0:
                    on = j in needed
                    edge(ax, (i, level), (j, level + 1), color="red" if on else "0.85", lw=1.2 if on else 0.5)
                    if on:
                        below.add(i)
        needed = below
    for level in range(len(DILATIONS) + 1):
        nodes(ax, xs16, level)
    ax.set_title(f"dilated (1, 2, 4): output sees {len(needed)} inputs")
    # Recurrent: x_t -> h_t -> y_t, and h_{t-1} -> h_t.
    ax = axes[1, 0]
    ts = np.arange(6)
    for t in ts:
        ax.annotate("", (t, 1), (t, 0), arrowprops={"arrowstyle": "->", "color": "0.4"})
        ax.annotate("", (t, 2), (t, 1), arrowprops={"arrowstyle": "->", "color": "0.4"})
        if t:
            ax.annotate("", (t, 1), (t - 1, 1), arrowprops={"arrowstyle": "->", "color": "red", "lw": 1.5})
    nodes(ax, ts, 0), nodes(ax, ts, 1), nodes(ax, ts, 2)
    for t in ts:
        ax.text(t, -0.35, f"x{t + 1}", ha="center", fontsize=8)
        ax.text(t + 0.12, 1.12, f"h{t + 1}", fontsize=8)
    ax.set_title("recurrent: h_t = f(x_t, h_t−1) (red), one cell")
    # Skip / residual: a chain of layers with bypass arcs that add the input back.
    ax = axes[1, 1]
    ys = np.arange(5)
    for level in ys[:-1]:
        edge(ax, (0, level), (0, level + 1), color="0.3", lw=1.5)
        if level % 2 == 0 and level + 2 <= ys[-1]:
            ax.annotate("", (0.05, level + 2), (0.05, level), arrowprops={"arrowstyle": "->", "color": "red",
                                                                          "connectionstyle": "arc3,rad=-0.6", "lw": 1.5})
    ax.scatter([0] * len(ys), ys, s=600, marker="s", color="white", edgecolors="black", zorder=3)
    for level in ys:
        ax.text(0, level, "x" if level == 0 else ("+" if level % 2 == 0 else "F"), ha="center", va="center")
    ax.set(xlim=(-1.5, 1.5), ylim=(-0.6, 4.6))
    ax.set_title("skip / residual: y = x + F(x) (red: the skip)")
    # Random: a random subset of the dense connections.
    ax = axes[1, 2]
    keep = rng.random((8, 8)) < RANDOM_DENSITY
    for i, j in zip(*np.nonzero(keep)):
        edge(ax, (i, 0), (j, 1), lw=1.0)
    nodes(ax, xs, 0), nodes(ax, xs, 1)
    ax.set_title(f"random: {int(keep.sum())} of 64 connections kept")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ax.spines.values():
            side.set_visible(False)
    fig.suptitle("Connectivity patterns (notes 001): inputs at the bottom, outputs at the top")
    fig.tight_layout()
    return fig


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
