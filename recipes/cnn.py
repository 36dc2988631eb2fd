"""Convolution and CNNs (합성곱 신경망).

Reproduces: the notes' description of a convolutional network -- "take an image patch
of the kernel's size from the image, combine it with the convolution kernel; the sum
becomes one pixel of the feature map; the patch moves right and the next pixel is
computed ... Convolution, Pool, Convolution, Pool shrink the data" -- step by step:
the sliding-window convolution written as loops equals ``keras.layers.Conv2D`` (one
and several channels, stride 1 and 2, "valid" and "same" padding; it is a
cross-correlation, which scipy confirms), max pooling written as loops equals
``keras.layers.MaxPooling2D`` (and passes its gradient to the maximum only), the
output-size and parameter-count formulas hold for the zoo's ``small_cnn``, a shifted
input gives a shifted feature map (the spatial information is kept); then the zoo's
``small_cnn`` (conv-pool-conv-pool-dense) is trained on the digits, its test accuracy
measured, and its feature maps drawn -- and recomputed by hand from its trained weights.
Source: notes 000 ("CNN": image patch x convolution kernel -> one pixel of the feature
map; Convolution, Pool, Convolution, Pool; spatial information kept); Saito, *Deep
Learning from Scratch* (밑바닥부터 시작하는 딥러닝) chapter 7.
"""

from __future__ import annotations

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "Convolution and CNNs (합성곱 신경망)"
ORDER = 18
SOURCE = ("notes 000 (CNN: image patch x kernel -> one feature-map pixel, sliding right; "
          "Convolution, Pool, Convolution, Pool); Saito chapter 7")

# A vertical-edge detector (the Sobel kernel): the hand-made kernel of the examples.
SOBEL_X = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
# The pooling figure's 4x4 input (as in the book's max-pooling illustration).
POOL_EXAMPLE = np.array([[1, 2, 1, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 4, 0, 1]], dtype=float)
# Training the zoo's small_cnn (its registered settings: Adam 1e-3, batch 32).
QUICK_EPOCHS, FULL_EPOCHS, BATCH_SIZE = 10, 30, 32


# ---------------------------------------------------------------------------
# Convolution and pooling written as the notes describe them: a window slides over
# the image, and each position gives one output pixel.
# ---------------------------------------------------------------------------
def same_padding(size, kernel, stride):
    """TensorFlow's "same" padding: (before, after) zeros so the output has ceil(size / stride) pixels."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv2d_by_hand(image, kernel, bias, *, stride=1, padding="valid"):
    """Slide ``kernel`` (K, K, C_in, C_out) over ``image`` (H, W, C_in).

    Output pixel (i, j, o) = sum over the K x K x C_in patch at (i * stride, j * stride)
    of patch * kernel[..., o], plus bias[o]. No kernel flip: Keras (like every deep
    learning library) computes this cross-correlation and calls it convolution.
    """
    k = kernel.shape[0]
    if padding == "same":
        (t, b), (l, r) = (same_padding(image.shape[0], k, stride), same_padding(image.shape[1], k, stride))
        image = np.pad(image, ((t, b), (l, r), (0, 0)))
    rows = (image.shape[0] - k) // stride + 1
    cols = (image.shape[1] - k) // stride + 1
    out = np.zeros((rows, cols, kernel.shape[3]))
    for i in range(rows):
        for j in range(cols):
            patch = image[i * stride:i * stride + k, j * stride:j * stride + k, :]
            out[i, j, :] = np.tensordot(patch, kernel, axes=3) + bias  # sum of patch * kernel, per filter
    return out


def max_pool_by_hand(maps, *, size=2, stride=2):
    """Max over each size x size window of every channel of ``maps`` (H, W, C) ("valid" padding)."""
    rows = (maps.shape[0] - size) // stride + 1
    cols = (maps.shape[1] - size) // stride + 1
    out = np.zeros((rows, cols, maps.shape[2]))
    for i in range(rows):
        for j in range(cols):
            out[i, j, :] = maps[i * stride:i * stride + size, j * stride:j * stride + size, :].max(axis=(0, 1))
    return out


def max_pool_gradient_by_hand(maps, *, size=2, stride=2):
    """d sum(max_pool(maps)) / d maps: 1 where a window's maximum sits, 0 elsewhere."""
    grad = np.zeros_like(maps)
    for i in range((maps.shape[0] - size) // stride + 1):
        for j in range((maps.shape[1] - size) // stride + 1):
            for c in range(maps.shape[2]):
                window = maps[i * stride:i * stride + size, j * stride:j * stride + size, c]
                di, dj = np.unravel_index(np.argmax(window), window.shape)
                grad[i * stride + di, j * stride + dj, c] += 1.0
    return grad


def output_size(size, kernel, stride, padding):
    """The output-size formula: floor((H - K) / S) + 1 for "valid", ceil(H / S) for "same"."""
    return (size - kernel) // stride + 1 if padding == "valid" else -(-size // stride)


def conv_params(kernel, c_in, c_out):
    """(K * K * C_in + 1) * C_out: one K x K x C_in kernel and one bias per filter, shared by all positions."""
    return (kernel * kernel * c_in + 1) * c_out


def small_cnn_params(input_shape, filters, kernel, pool, padding, num_classes):
    """small_cnn's parameter count from the formulas: its convolutions and the softmax Dense layer."""
    side, c_in, total = input_shape[0], input_shape[2], 0
    for f in filters:
        total += conv_params(kernel, c_in, f)
        side = output_size(side, kernel, 1, padding) // pool
        c_in = f
    return total + (side * side * c_in + 1) * num_classes


def tiles(images, cols, gap=1):
    """Equal-sized 2-D images side by side, ``cols`` to a row, NaN gaps between them."""
    h, w = images[0].shape
    rows = -(-len(images) // cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan)
    for n, image in enumerate(images):
        i, j = divmod(n, cols)
        out[i * (h + gap):i * (h + gap) + h, j * (w + gap):j * (w + gap) + w] = image
    return out


def run(out_dir, quick=True):
    import keras
    import matplotlib
    import tensorflow as tf

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from scipy import signal

    import zoo
    from zoo.small_cnn import MNIST_CONFIG
    from zoo.training import validation_split

    r = Recipe("cnn", out_dir, title=TITLE, source=SOURCE, quick=quick)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    (x, y), (x_test, y_test) = zoo.datasets.load("digits")  # (N, 8, 8, 1), pixels in [0, 1]
    digit = x_test[0].astype(np.float64)

    # -----------------------------------------------------------------------
    # Step 1. Convolution by hand against Conv2D. First the notes' picture: one
    # image, one 3x3 kernel (a vertical-edge detector), no padding, stride 1.
    # -----------------------------------------------------------------------
    def keras_conv(image, kernel, bias, stride=1, padding="valid"):
        layer = keras.layers.Conv2D(kernel.shape[3], kernel.shape[0], strides=stride, padding=padding)
        layer.build((None, *image.shape))
        layer.set_weights([kernel.astype("float32"), bias.astype("float32")])
        return np.asarray(layer(image[None].astype("float32")))[0]

    sobel = SOBEL_X[:, :, None, None]
    edges = conv2d_by_hand(digit, sobel, np.zeros(1))
    r.check_close("digit * 3x3 edge kernel: sliding window by hand == Conv2D (valid, stride 1): max |difference|",
                  np.max(np.abs(edges - keras_conv(digit, sobel, np.zeros(1)))), 0.0, atol=1e-5)
    # An independent library: scipy's correlate2d is the same sum; its convolve2d
    # flips the kernel first (the mathematical convolution), so it only matches
    # Conv2D when we flip the kernel ourselves.
    r.check_close("by hand == scipy.signal.correlate2d (cross-correlation): max |difference|",
                  np.max(np.abs(edges[:, :, 0] - signal.correlate2d(digit[:, :, 0], SOBEL_X, mode="valid"))), 0.0, atol=1e-12)
    flipped_gap = float(np.max(np.abs(edges[:, :, 0] - signal.convolve2d(digit[:, :, 0], SOBEL_X, mode="valid"))))
    unflipped = float(np.max(np.abs(edges[:, :, 0] - signal.convolve2d(digit[:, :, 0], SOBEL_X[::-1, ::-1], mode="valid"))))
    r.check("Conv2D is cross-correlation: scipy's convolve2d differs unless the kernel is flipped",
            flipped_gap > 0.5 and unflipped < 1e-12, expected="|by hand - convolve2d(k)| > 0.5, |by hand - convolve2d(flip k)| ~ 0",
            measured=f"{flipped_gap:.3f} and {unflipped:.1e}")

    # Then the general case: several input channels and filters, strides and padding.
    rows = []
    for stride, padding in ((1, "valid"), (1, "same"), (2, "valid"), (2, "same")):
        image = rng.normal(size=(7, 9, 3))
        kernel, bias = rng.normal(size=(3, 3, 3, 4)), rng.normal(size=4)
        hand = conv2d_by_hand(image, kernel, bias, stride=stride, padding=padding)
        kept = keras_conv(image, kernel, bias, stride=stride, padding=padding)
        formula = (output_size(7, 3, stride, padding), output_size(9, 3, stride, padding), 4)
        rows.append([f"7x9x3 * 3x3x3x4, stride {stride}, {padding}", str(formula), str(kept.shape),
                     float(np.max(np.abs(hand - kept)))])
        r.check(f"stride {stride}, {padding}: Conv2D output shape == formula and == by hand (max |difference| < 1e-5)",
                kept.shape == formula == hand.shape and np.max(np.abs(hand - kept)) < 1e-5,
                expected=f"shape {formula}", measured=f"shape {kept.shape}, max |difference| {np.max(np.abs(hand - kept)):.2e}")
    r.table("Convolution by hand against Conv2D (random image, kernels and biases)",
            ["case", "output shape by formula", "Conv2D output shape", "max |by hand - Conv2D|"], rows)

    # Convolution keeps the spatial layout: shift the input one pixel right and the
    # feature map shifts one pixel right (translation equivariance).
    canvas = np.zeros((12, 12, 1))
    canvas[2:10, 2:10] = digit
    shifted = np.roll(canvas, 1, axis=1)  # the zero border absorbs the roll
    a, b = keras_conv(canvas, sobel, np.zeros(1)), keras_conv(shifted, sobel, np.zeros(1))
    r.check_close("shift the input 1 pixel right -> the feature map shifts 1 pixel right: max |difference|",
                  np.max(np.abs(b[:, 1:] - a[:, :-1])), 0.0, atol=1e-5)

    # -----------------------------------------------------------------------
    # Step 2. Max pooling by hand against MaxPooling2D, and its gradient: only the
    # maximum of each window receives it (the rest get 0).
    # -----------------------------------------------------------------------
    maps = rng.normal(size=(7, 6, 5))  # odd height: "valid" pooling drops the last row
    pool = keras.layers.MaxPooling2D(2)
    pooled = np.asarray(pool(maps[None].astype("float32")))[0]
    r.check("2x2 max pooling of 7x6x5 maps: output shape == floor((H - 2) / 2) + 1", pooled.shape == (3, 3, 5),
            expected="(3, 3, 5)", measured=str(pooled.shape))
    r.check_close("max pooling by hand == MaxPooling2D: max |difference|",
                  np.max(np.abs(max_pool_by_hand(maps) - pooled)), 0.0, atol=1e-6)
    inputs = tf.constant(maps[None].astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        total = tf.reduce_sum(pool(inputs))
    grad_tape, grad_hand = np.asarray(tape.gradient(total, inputs))[0], max_pool_gradient_by_hand(maps)
    r.check("gradient of max pooling == 1 at each window's maximum, 0 elsewhere (by hand vs GradientTape)",
            np.array_equal(grad_tape, grad_hand), expected=f"equal; {int(grad_hand.sum())} ones (one per window) "
            f"among {grad_hand.size} inputs", measured=f"max |difference| {np.max(np.abs(grad_tape - grad_hand)):g}; "
            f"{int(grad_tape.sum())} ones")
    example = max_pool_by_hand(POOL_EXAMPLE[:, :, None])[:, :, 0]
    r.check_close("the pooling figure's 4x4 example -> [[2, 3], [4, 2]]", example, [[2, 3], [4, 2]], atol=0.0)

    # -----------------------------------------------------------------------
    # Step 3. The zoo's small_cnn: conv(3x3, 32) -> pool(2) -> conv(3x3, 64) -> pool(2)
    # -> dropout -> softmax. Its shapes and parameters from the formulas.
    # -----------------------------------------------------------------------
    model = zoo.create_model("small_cnn", seed=0)
    cfg = {"filters": (32, 64), "kernel": 3, "pool": 2, "num_classes": 10}
    shape_rows, side, ok = [], 8, True
    for layer in model.layers[1:]:
        shape = tuple(layer.output.shape[1:])
        if layer.name.startswith("conv"):
            side = output_size(side, 3, 1, "same")
            expected = (side, side, layer.filters)
            formula = f"({side}, {side}, {layer.filters}); (3*3*{layer.input.shape[-1]} + 1)*{layer.filters}"
        elif layer.name.startswith("pool"):
            side //= 2
            expected = (side, side, layer.input.shape[-1])
            formula = f"({side}, {side}, {expected[2]}); 0"
        elif layer.name == "output":
            expected, formula = shape, f"(10,); ({layer.input.shape[-1]} + 1)*10"
        else:
            expected, formula = shape, "-"
        ok &= shape == expected
        shape_rows.append([layer.name, type(layer).__name__, str(shape), formula, layer.count_params()])
    by_formula = small_cnn_params((8, 8, 1), padding="same", **cfg)
    r.check("small_cnn (8x8 digits): every conv/pool output shape and the parameter count follow the formulas",
            ok and model.count_params() == by_formula, expected=f"{by_formula} parameters",
            measured=f"{model.count_params()} parameters, shapes {'match' if ok else 'DIFFER'}")
    mnist = zoo.create_model("small_cnn", compile=False, **MNIST_CONFIG)
    mnist_formula = small_cnn_params(MNIST_CONFIG["input_shape"], padding="valid", **cfg)
    r.check("small_cnn with MNIST_CONFIG (28x28, valid): parameters by formula == count_params() == 34,826",
            mnist.count_params() == mnist_formula == 34826, expected="34826", measured=f"formula {mnist_formula}, Keras {mnist.count_params()}")
    dense_equivalent = (8 * 8 * 1 + 1) * (8 * 8 * 32)
    r.table("small_cnn on 8x8 digits: Convolution, Pool, Convolution, Pool shrink the data (notes 000)",
            ["layer", "type", "output shape", "by formula: shape; parameters", "parameters (Keras)"],
            shape_rows + [["(for comparison)", "Dense 8x8x1 -> 8x8x32", "(8, 8, 32)",
                           "(64 + 1) * 2048 without weight sharing", dense_equivalent]])

    # -----------------------------------------------------------------------
    # Step 4. Train it on digits (a stratified 10% of the training images for the
    # curves), then test once.
    # -----------------------------------------------------------------------
    epochs = QUICK_EPOCHS if quick else FULL_EPOCHS
    (x_tr, y_tr), (x_val, y_val) = validation_split(x, y, seed=0)
    hist = model.fit(x_tr, y_tr, epochs=epochs, batch_size=BATCH_SIZE, validation_data=(x_val, y_val), verbose=0).history
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    r.check_at_least(f"small_cnn test accuracy on digits after {epochs} epochs", test_acc, 0.93 if quick else 0.96)
    r.table("small_cnn trained on digits (Adam 1e-3, batch 32)",
            ["epochs", "training images", "final training loss", "final validation accuracy", "test loss", "test accuracy"],
            [[epochs, len(x_tr), hist["loss"][-1], hist["val_accuracy"][-1], test_loss, test_acc]])

    # -----------------------------------------------------------------------
    # Step 5. The feature maps of one test digit, from the trained model -- and again
    # by hand from its trained kernels (ReLU after each convolution, "same" padding).
    # -----------------------------------------------------------------------
    names = ("conv1", "pool1", "conv2", "pool2")
    probe = keras.Model(model.input, [model.get_layer(n).output for n in names])
    feats = dict(zip(names, (np.asarray(f)[0] for f in probe(digit[None].astype("float32")))))
    k1, b1 = model.get_layer("conv1").get_weights()
    k2, b2 = model.get_layer("conv2").get_weights()
    conv1 = np.maximum(conv2d_by_hand(digit, k1, b1, padding="same"), 0)
    pool1 = max_pool_by_hand(conv1)
    conv2 = np.maximum(conv2d_by_hand(pool1, k2, b2, padding="same"), 0)
    pool2 = max_pool_by_hand(conv2)
    worst = max(float(np.max(np.abs(h - feats[n]))) for n, h in zip(names, (conv1, pool1, conv2, pool2)))
    r.check_close("trained small_cnn: conv1 -> pool1 -> conv2 -> pool2 by hand == the model's feature maps: max |difference|",
                  worst, 0.0, atol=1e-4)

    # -----------------------------------------------------------------------
    # Figures. (1) The notes' sliding window: a patch of the image times the kernel
    # gives one pixel of the feature map, then the patch moves right. (2) Max
    # pooling of the 4x4 example. (3) The trained network's filters and feature maps.
    # (4) Its training curves.
    # -----------------------------------------------------------------------
    i, j = 2, 1
    patch = digit[i:i + 3, j:j + 3, 0]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.4), width_ratios=[8, 3, 6])
    ax = axes[0]
    ax.imshow(digit[:, :, 0], cmap="gray_r", vmin=0, vmax=1)
    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 3, 3, fill=False, ec="red", lw=2.5))
    ax.add_patch(Rectangle((j + 0.5, i - 0.5), 3, 3, fill=False, ec="orange", lw=1.5, ls="--"))
    for (a_, b_), v in np.ndenumerate(patch):
        ax.text(j + b_, i + a_, f"{v:.2f}", ha="center", va="center", fontsize=7, color="red")
    ax.set(title=f"input digit (8×8); 3×3 patch at ({i}, {j}),\nnext position dashed (the patch slides right)",
           xticks=range(8), yticks=range(8))
    ax = axes[1]
    ax.imshow(SOBEL_X, cmap="RdBu_r", vmin=-2, vmax=2)
    for (a_, b_), v in np.ndenumerate(SOBEL_X):
        ax.text(b_, a_, f"{v:g}", ha="center", va="center", fontsize=12)
    ax.set(title="kernel (vertical edges)", xticks=[], yticks=[])
    ax = axes[2]
    limit = np.abs(edges).max()
    ax.imshow(edges[:, :, 0], cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=2.5))
    ax.add_patch(Rectangle((j + 0.5, i - 0.5), 1, 1, fill=False, ec="orange", lw=1.5, ls="--"))
    ax.set(title=f"feature map (6×6, valid): pixel ({i}, {j}) =\nΣ patch ⊙ kernel = {np.sum(patch * SOBEL_X):.3f}",
           xticks=range(6), yticks=range(6))
    fig.suptitle("Convolution as a sliding window: one patch × kernel → one feature-map pixel")
    fig.tight_layout()
    r.figure(fig, "sliding_window.png")
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(7, 3.4), width_ratios=[4, 2])
    colors = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]])
    axes[0].imshow(colors, cmap="Pastel1", vmin=0, vmax=8)
    axes[1].imshow(np.arange(4).reshape(2, 2), cmap="Pastel1", vmin=0, vmax=8)
    winners = max_pool_gradient_by_hand(POOL_EXAMPLE[:, :, None])[:, :, 0]  # 1 at each window's maximum
    for ax, values, bold, title in ((axes[0], POOL_EXAMPLE, winners, "input (4×4); maxima in bold"),
                                    (axes[1], example, np.ones((2, 2)), "2×2 max pooling, stride 2")):
        for (a_, b_), v in np.ndenumerate(values):
            ax.text(b_, a_, f"{v:g}", ha="center", va="center", fontsize=14, fontweight="bold" if bold[a_, b_] else "normal")
        ax.set(title=title, xticks=[], yticks=[])
    fig.tight_layout()
    r.figure(fig, "max_pooling.png")
    plt.close(fig)

    # One row per stage, one column per channel (the first 8): conv1's kernel k makes
    # conv1's map k, which pool1 shrinks; conv2's maps mix all 32 pooled maps.
    signed = plt.get_cmap("RdBu_r").with_extremes(bad="1.0")
    viridis = plt.get_cmap("viridis").with_extremes(bad="1.0")
    shown = 8
    stages = [("conv1 kernels\n(3×3)", k1[:, :, 0, :shown], signed, True),
              ("conv1 maps\n(8×8, ReLU)", feats["conv1"][:, :, :shown], viridis, False),
              ("pool1\n(4×4)", feats["pool1"][:, :, :shown], viridis, False),
              ("conv2 maps\n(4×4, ReLU)", feats["conv2"][:, :, :shown], viridis, False),
              ("pool2\n(2×2)", feats["pool2"][:, :, :shown], viridis, False)]
    fig = plt.figure(figsize=(12, 8))
    grid = fig.add_gridspec(len(stages), 2, width_ratios=[1.3, 8])
    ax = fig.add_subplot(grid[1:4, 0])
    ax.imshow(digit[:, :, 0], cmap="gray_r", vmin=0, vmax=1)
    ax.set(title=f"input: a {y_test[0]}\n(8×8)", xticks=[], yticks=[])
    for row, (label, maps, cmap, centred) in enumerate(stages):
        ax = fig.add_subplot(grid[row, 1])
        limit = np.abs(maps).max()
        ax.imshow(tiles(list(np.moveaxis(maps, -1, 0)), shown), cmap=cmap, vmin=-limit if centred else 0, vmax=limit)
        ax.set_xticks([(maps.shape[1] + 1) * c + (maps.shape[1] - 1) / 2 for c in range(shown)] if row == 0 else [],
                      [f"channel {c + 1}" for c in range(shown)] if row == 0 else [])
        ax.xaxis.tick_top()
        ax.set_yticks([])
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
    fig.suptitle("Trained small_cnn on one test digit: Convolution, Pool, Convolution, Pool (first 8 channels; "
                 "kernels red + / blue −, maps brighter = larger)")
    fig.tight_layout()
    r.figure(fig, "feature_maps.png")
    plt.close(fig)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ep = range(1, epochs + 1)
    ax1.plot(ep, hist["loss"], "o-", ms=3, label="training")
    ax1.plot(ep, hist["val_loss"], "s--", ms=3, label="validation")
    ax2.plot(ep, hist["accuracy"], "o-", ms=3, label="training")
    ax2.plot(ep, hist["val_accuracy"], "s--", ms=3, label="validation")
    ax2.axhline(test_acc, color="0.4", lw=1, ls=":", label=f"test {test_acc:.3f} (once, at the end)")
    ax1.set(xlabel="epoch", ylabel="loss", title="loss")
    ax2.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax1, ax2):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle("small_cnn (conv-pool-conv-pool-dense) on digits")
    fig.tight_layout()
    r.figure(fig, "training.png")
    plt.close(fig)

    r.note(f"A 3x3 convolution from 1 to 32 channels has (3*3*1 + 1)*32 = 320 parameters, shared by every "
           f"position; a Dense layer with the same input and output sizes would need {dense_equivalent:,}. "
           "Keras's Conv2D, like every deep-learning library, does not flip the kernel: it computes a "
           "cross-correlation, which is what the notes' sliding window describes. The training curves lie "
           "below the validation curves because dropout (rate 0.5) is active while training only.")
    return r.result()


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
