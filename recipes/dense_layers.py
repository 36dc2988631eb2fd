"""Dense layers and parameter counts (전결합층).

Reproduces: the notes' Keras model ``Dense(8, input_dim=4, relu) -> Dense(8, relu) ->
Dense(3, softmax)`` and its ``model.summary()`` -- 40 + 72 + 27 = 139 parameters,
556 bytes -- from the zoo's ``dense_classifier``; the parameter counts of the notes'
Reuters dropout model (10000 -> 256 -> Dropout(0.5) -> 128 -> Dropout(0.5) -> 46)
from the zoo's ``reuters_mlp``; and the notes' batch computation (배치 연산): four
samples go through a layer as one matrix product, and the network still has the same
parameters, whatever the batch size.
Source: notes 002, sections 2-2 (전결합층: every neuron is connected to every neuron
of the previous layer), 3-3 (행렬곱으로 병렬 연산 이해: 4 samples at once, still 8
parameters; the 4-8-8-3 model and its summary) and 6-4 (the Reuters dropout model).

A Dense layer with ``n_in`` inputs and ``n_out`` units computes ``y = activation(x W + b)``
with ``W`` of shape (n_in, n_out) and ``b`` of shape (n_out,): ``n_in * n_out + n_out``
parameters. For a batch ``X`` of shape (batch, n_in) the same formula is one matrix
product, ``X W + b`` (``b`` added to every row).
"""

from __future__ import annotations

import re

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "Dense layers and parameter counts (전결합층)"
ORDER = 1
SOURCE = "notes 002 sections 2-2 (전결합층), 3-3 (배치 연산, Keras 4-8-8-3 summary) and 6-4 (Reuters dropout model)"

# The notes' two models, layer by layer: (inputs, units) of each Dense layer.
NOTES_4_8_8_3 = [(4, 8), (8, 8), (8, 3)]
NOTES_REUTERS = [(10000, 256), (256, 128), (128, 46)]
# The notes' summary: "Total params: 139 (556.00 Byte)": float32 weights, 4 bytes each.
NOTES_TOTAL, NOTES_BYTES = 139, 556.0
# The notes' batch picture: 4 samples through a layer with 8 parameters, which we
# read as 3 inputs -> 2 units (3 x 2 weights + 2 biases = 8; the figure is not in the text).
BATCH = 4
SMALL_LAYER = (3, 2)


def dense_parameters(n_in: int, n_out: int) -> int:
    """Weights plus biases of a Dense layer: ``n_in * n_out + n_out``."""
    return n_in * n_out + n_out


def weighted_layers(model):
    """The layers that own weights, in order (Dense layers and whatever replaces them).

    Counting by weights rather than by class name keeps this right if a zoo model
    swaps a layer's implementation (the same parameters computed another way).
    """
    return [layer for layer in model.layers if layer.weights]


def summary_text(model) -> str:
    lines = []
    model.summary(print_fn=lambda line, line_break=True: lines.append(line), line_length=80)
    return "\n".join(lines)


def parse_summary_totals(text: str) -> dict:
    """{"Total": (params, bytes), "Trainable": ..., "Non-trainable": ...} from a Keras summary."""
    found = re.findall(r"(Total|Trainable|Non-trainable) params: ([\d,]+) \(([\d.]+) (B|KB|MB)\)", text)
    scale = {"B": 1, "KB": 1024, "MB": 1024**2}
    return {kind: (int(n.replace(",", "")), float(size) * scale[unit]) for kind, n, size, unit in found}


def draw_network(ax, sizes, counts):
    """Every neuron connected to every neuron of the previous layer, with each layer's count."""
    xs = np.arange(len(sizes))
    ys = [np.linspace(-(n - 1) / 2, (n - 1) / 2, n) for n in sizes]
    for i in range(len(sizes) - 1):
        for ya in ys[i]:
            for yb in ys[i + 1]:
                ax.plot([xs[i], xs[i + 1]], [ya, yb], color="0.75", lw=0.6, zorder=1)
        ax.text((xs[i] + xs[i + 1]) / 2, max(sizes) / 2 + 0.6,
                f"{sizes[i]}×{sizes[i + 1]} + {sizes[i + 1]}\n= {counts[i]}", ha="center", va="bottom", fontsize=9,
                color="tab:red")
    names = ["input"] + [f"Dense({n}, relu)" for n in sizes[1:-1]] + [f"Dense({sizes[-1]}, softmax)"]
    for x, y, name in zip(xs, ys, names):
        ax.scatter(np.full_like(y, x), y, s=160, color="tab:blue" if x == 0 else "white", edgecolor="black", zorder=2)
        ax.text(x, -max(sizes) / 2 - 0.7, name, ha="center", va="top", fontsize=9)
    ax.set(xlim=(-0.5, len(sizes) - 0.5), ylim=(-max(sizes) / 2 - 1.8, max(sizes) / 2 + 2.2))
    ax.set_title(f"the notes' 4-8-8-3 network: {sum(counts)} parameters")
    ax.axis("off")


def draw_batch(ax, batch, n_in, n_out):
    """X (batch x n_in) · W (n_in x n_out) + b (n_out) = Y (batch x n_out), drawn to scale."""
    from matplotlib.patches import Rectangle

    def box(x0, rows, cols, label, color):
        ax.add_patch(Rectangle((x0, -rows / 2), cols, rows, fc=color, ec="black", alpha=0.6))
        for r_ in range(1, rows):
            ax.plot([x0, x0 + cols], [-rows / 2 + r_] * 2, color="black", lw=0.3)
        for c_ in range(1, cols):
            ax.plot([x0 + c_] * 2, [-rows / 2, rows / 2], color="black", lw=0.3)
        ax.text(x0 + cols / 2, rows / 2 + 0.4, label, ha="center", va="bottom", fontsize=9)
        return x0 + cols

    x = box(0, batch, n_in, f"X: {batch} samples × {n_in}", "tab:blue")
    ax.text(x + 0.6, 0, "·", fontsize=20, ha="center", va="center")
    x = box(x + 1.2, n_in, n_out, f"W: {n_in} × {n_out}", "tab:red")
    ax.text(x + 0.6, 0, "+", fontsize=16, ha="center", va="center")
    x = box(x + 1.2, 1, n_out, f"b: {n_out}", "tab:orange")
    ax.text(x + 0.6, 0, "=", fontsize=16, ha="center", va="center")
    x = box(x + 1.2, batch, n_out, f"{batch} × {n_out}", "tab:green")
    ax.set(xlim=(-0.5, x + 0.5), ylim=(-max(batch, n_in) / 2 - 1.5, max(batch, n_in) / 2 + 1.8), aspect="equal")
    ax.set_title(f"batch computation, first layer: {batch} samples in one product,\n"
                 f"still {n_in * n_out} + {n_out} = {dense_parameters(n_in, n_out)} parameters")
    ax.axis("off")


def run(out_dir, quick=True):
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import zoo

    r = Recipe("dense_layers", out_dir, title=TITLE, source=SOURCE, quick=quick)
    keras.utils.set_random_seed(0)

    # -----------------------------------------------------------------------
    # Step 1. The notes' 4-8-8-3 model is the zoo's dense_classifier with its
    # defaults. Its summary should read 40 / 72 / 27 and 139 parameters in all,
    # each count being n_in * n_out + n_out.
    # -----------------------------------------------------------------------
    model = zoo.create_model("dense_classifier", seed=0)
    text = summary_text(model)
    r.note("model.summary() of zoo.create_model(\"dense_classifier\") (the notes print the same rows as "
           "dense_7/8/9 of a Sequential model, and 'Byte' where Keras 3 prints 'B'):\n\n```\n" + text + "\n```")
    expected_counts = [dense_parameters(n_in, n_out) for n_in, n_out in NOTES_4_8_8_3]
    layers = weighted_layers(model)
    counts = [layer.count_params() for layer in layers]
    r.check("per-layer parameters == n_in·n_out + n_out for 4->8, 8->8, 8->3 (the notes: 40 / 72 / 27)",
            counts == expected_counts == [40, 72, 27], expected="[40, 72, 27]", measured=str(counts))
    shapes = [[tuple(w.shape) for w in layer.weights] for layer in layers]
    expected_shapes = [[(n_in, n_out), (n_out,)] for n_in, n_out in NOTES_4_8_8_3]
    r.check("each Dense layer holds W of shape (n_in, n_out) and b of shape (n_out,)", shapes == expected_shapes,
            expected=str(expected_shapes), measured=str(shapes))
    totals = parse_summary_totals(text)
    r.check("summary: Total / Trainable / Non-trainable params == 139 / 139 / 0, total 556 bytes (the notes)",
            totals.get("Total") == (NOTES_TOTAL, NOTES_BYTES) and totals.get("Trainable", (None,))[0] == NOTES_TOTAL
            and totals.get("Non-trainable", (None,))[0] == 0,
            expected="Total 139 (556 B), Trainable 139, Non-trainable 0", measured=str(totals))
    r.check("model.count_params() == 40 + 72 + 27", model.count_params() == sum(expected_counts) == NOTES_TOTAL,
            expected=str(NOTES_TOTAL), measured=str(model.count_params()))

    # -----------------------------------------------------------------------
    # Step 2. Batch computation (배치 연산). Four real iris samples go through the
    # network three ways: one sample at a time, as one batch through Keras, and
    # as one batch by hand, each layer a single matrix product X W + b. The
    # answers agree and the parameter count does not change with the batch.
    # -----------------------------------------------------------------------
    (x_iris, _), _ = zoo.datasets.load("iris")
    x4 = x_iris[:BATCH].astype("float32")
    one_at_a_time = np.concatenate([np.asarray(model(x4[i:i + 1])) for i in range(BATCH)])
    as_batch = np.asarray(model(x4))
    h, shapes_seen = x4.astype(np.float64), []
    for i, layer in enumerate(layers):
        w, b = (np.asarray(v, dtype=np.float64) for v in layer.weights)
        shapes_seen.append(f"{h.shape} · {w.shape} + {b.shape}")
        h = h @ w + b                                      # the whole batch in one product
        if i < len(layers) - 1:
            h = np.maximum(h, 0.0)                         # ReLU
        else:
            h = np.exp(h - h.max(axis=1, keepdims=True))
            h /= h.sum(axis=1, keepdims=True)              # softmax
    r.check_close("4 samples as one batch == one sample at a time (max abs difference)",
                  np.max(np.abs(as_batch - one_at_a_time)), 0.0, atol=1e-6)
    r.check_close("by hand, each layer one matrix product X W + b == Keras (max abs difference)",
                  np.max(np.abs(as_batch - h)), 0.0, atol=1e-6)
    # The parameters have no batch axis (W is (n_in, n_out), b is (n_out,): the
    # shapes checked above), so the 4 samples share the same 139 parameters; what
    # the batch changes is the shape of X and of every layer's output (the table).
    r.table(f"Batch of {BATCH} iris samples through 4-8-8-3: shapes of each product and the outputs",
            ["layer", "X · W + b", "parameters"],
            [[layer.name, s, c] for layer, s, c in zip(layers, shapes_seen, counts)])
    r.table("Class probabilities of the 4 samples (untrained network): batch vs one at a time",
            ["sample", "as one batch", "one at a time"],
            [[i + 1, np.round(as_batch[i], 6), np.round(one_at_a_time[i], 6)] for i in range(BATCH)])

    # The notes' own picture: 4 samples through a layer with 8 parameters.
    n_in, n_out = SMALL_LAYER
    layer = keras.layers.Dense(n_out)
    x_small = np.random.default_rng(0).normal(size=(BATCH, n_in)).astype("float32")
    y_small = np.asarray(layer(x_small))
    w, b = (np.asarray(v) for v in layer.weights)
    rows_one_by_one = np.stack([x_small[i] @ w + b for i in range(BATCH)])
    r.check(f"notes 3-3: a {n_in} -> {n_out} layer applied to {BATCH} samples at once has still 8 parameters",
            layer.count_params() == 8 and y_small.shape == (BATCH, n_out),
            expected=f"8 parameters, output ({BATCH}, {n_out})",
            measured=f"{layer.count_params()} parameters, output {y_small.shape}")
    r.note(f"Notes 3-3 draw 4 samples through a layer with 8 parameters in a figure that is not in the text; "
           f"this recipe reads it as {n_in} inputs -> {n_out} units ({n_in}·{n_out} + {n_out} = 8).")
    r.check_close(f"notes 3-3: ({BATCH}×{n_in}) · ({n_in}×{n_out}) + b == the {BATCH} rows one by one",
                  np.max(np.abs(y_small - rows_one_by_one)), 0.0, atol=1e-6)

    # -----------------------------------------------------------------------
    # Step 3. The notes' Reuters dropout model, from the zoo: Dense layers of
    # 10000 -> 256 -> 128 -> 46 with Dropout(0.5) between them. Dropout has no
    # weights, so it adds nothing; the first layer holds almost everything.
    # -----------------------------------------------------------------------
    reuters = zoo.create_model("reuters_mlp", seed=0)
    r_layers = weighted_layers(reuters)
    r_counts = [layer.count_params() for layer in r_layers]
    r_expected = [dense_parameters(n_in, n_out) for n_in, n_out in NOTES_REUTERS]
    r.check("Reuters per-layer parameters == 10000·256+256, 256·128+128, 128·46+46",
            r_counts == r_expected == [2_560_256, 32_896, 5_934], expected=str(r_expected), measured=str(r_counts))
    r.check("Reuters total == 2,599,086", reuters.count_params() == sum(r_expected) == 2_599_086,
            expected="2599086", measured=str(reuters.count_params()))
    # The total above is the Dense layers' formula alone and equals Keras's count
    # of the whole model, so the two Dropout(0.5) layers hold no parameters.
    r.note(f"Keras counts {reuters.count_params():,} parameters in the whole Reuters model, the sum of the three "
           "Dense layers' n_in·n_out + n_out: the two Dropout(0.5) layers the notes insert hold none (dropout "
           "switches units off while training; it learns nothing).")
    share = r_counts[0] / sum(r_counts)
    r.check_at_least("share of the parameters in the first (10000 -> 256) layer", share, 0.98)
    r.table("The notes' Reuters dropout model (zoo reuters_mlp): parameters per layer",
            ["layer (has weights)", "inputs -> units", "n_in·n_out + n_out", "count_params()", "share"],
            [[layer.name, f"{a} -> {bb}", e, c, f"{c / sum(r_counts):.2%}"]
             for layer, (a, bb), e, c in zip(r_layers, NOTES_REUTERS, r_expected, r_counts)]
            + [["total", "", sum(r_expected), reuters.count_params(), "100%"]])
    r.note("model.summary() of zoo.create_model(\"reuters_mlp\"):\n\n```\n" + summary_text(reuters) + "\n```")

    # -----------------------------------------------------------------------
    # Figures: the fully connected 4-8-8-3 network with its counts and the batch
    # product of its first layer; the Reuters counts per layer.
    # -----------------------------------------------------------------------
    fig, axes = plt.subplots(1, 2, figsize=(15, 5.4), gridspec_kw={"width_ratios": [1.1, 1]})
    draw_network(axes[0], [n for n, _ in NOTES_4_8_8_3] + [NOTES_4_8_8_3[-1][1]], counts)
    draw_batch(axes[1], BATCH, *NOTES_4_8_8_3[0])
    fig.tight_layout()
    r.figure(fig, "dense_4_8_8_3.png")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4))
    labels = [f"{layer.name}\n{a} → {bb}" for layer, (a, bb) in zip(r_layers, NOTES_REUTERS)]
    bars = ax.bar(labels, r_counts, color=["tab:red", "tab:orange", "tab:green"])
    ax.set_yscale("log")
    ax.set_ylim(1e3, 1e7)
    for bar, c in zip(bars, r_counts):
        ax.text(bar.get_x() + bar.get_width() / 2, c * 1.15, f"{c:,}\n({c / sum(r_counts):.1%})", ha="center",
                va="bottom", fontsize=9)
    ax.set(ylabel="parameters (log scale)",
           title=f"Reuters dropout model: {sum(r_counts):,} parameters; Dropout layers have none")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    r.figure(fig, "reuters_parameters.png")
    plt.close(fig)
    return r.result()


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
