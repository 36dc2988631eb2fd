"""Autoencoder pretraining (오토인코더 사전학습).

Reproduces: the notes' recipe for initialising hidden layers -- "train one hidden
layer at a time, with the same data as input and output, so that it learns to
recognise itself, and put its weights in" -- i.e. greedy layer-wise pretraining with
autoencoders (Hinton & Salakhutdinov 2006, Bengio et al. 2007). On the digits data:
an autoencoder 64 -> 64 -> 64 learns to reproduce the images; its codes train the
second autoencoder 64 -> 32 -> 64, whose codes train the third, 32 -> 16 -> 32. The
three encoders are stacked into the zoo's ``dense_classifier`` (sigmoid units, as in
2006) and the whole network is fine-tuned with a softmax output on a small labelled
subset, against the same network from random initialisation trained the same way.
With few labels and plain SGD, the randomly initialised deep sigmoid network hardly
learns (its gradients vanish, notes 000), while the pretrained one starts from useful
features; the figures show reconstructions, first-layer filters and accuracy against
the number of labels.
Source: notes 000 ("Hidden Layer 생성방법": pretrain each hidden layer with
input = output; "Hidden Layer와 역전파": vanishing gradients with sigmoid); Bengio et
al., "Greedy Layer-Wise Training of Deep Networks" (NIPS 2007).
"""

from __future__ import annotations

import numpy as np

from recipes._recipe import Recipe, main_for

TITLE = "Autoencoder pretraining (오토인코더 사전학습)"
ORDER = 17
SOURCE = ("notes 000 (Hidden Layer 생성방법: one hidden layer at a time, input = output; "
          "vanishing gradients with sigmoid); Bengio et al. 2007, greedy layer-wise training")

# The network: three sigmoid hidden layers that shrink towards the output, as the
# notes describe hidden layers ("점점 줄여주는 방식").
HIDDEN = (64, 32, 16)
ACTIVATION = "sigmoid"
# Pretraining: every autoencoder sees all 1437 training images (labels unused),
# Adam 0.01 on the mean squared reconstruction error, batches of 128.
AE_EPOCHS, AE_BATCH, AE_RATE = 20, 128, 1e-2
# Fine-tuning: plain SGD (as in 2006), batches of 32, the same for both
# initialisations. Each network trains until it fits its labelled images (mean
# training loss over the last CHUNK updates below FIT_LOSS) or MAX_UPDATES, so both
# are compared once trained -- and the number of updates each needed is measured.
FT_BATCH, FT_RATE = 32, 0.5
FIT_LOSS, CHUNK, MAX_UPDATES = 0.05, 50, 5000
# Labelled images per class, and the random labelled subsets (seeds) per size.
QUICK_LABELS, QUICK_SEEDS = (5,), (0, 1)
FULL_LABELS, FULL_SEEDS = (2, 5, 10, 20, 50), (0, 1, 2)
# Keras runs this many training steps per call into TensorFlow: the same updates,
# about three times faster for networks this small. (It must divide the steps per
# epoch, or Keras rounds every epoch up to a multiple of it.)
STEPS_PER_EXECUTION = 10


def batches(x, y, batch_size, seed):
    """Shuffled mini-batches, reshuffled every epoch, repeated without end.

    ``fit(..., steps_per_epoch=ceil(N / batch_size))`` then runs whole epochs; one
    repeated dataset avoids Keras rebuilding its input pipeline at every epoch,
    which costs more than the training steps of these tiny models.
    """
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed).batch(batch_size).repeat()


def fine_tune(model, x, y, *, seed):
    """Mini-batch SGD on (x, y) until the mean training loss of CHUNK updates is below FIT_LOSS.

    Returns:
        The mean training loss of every CHUNK updates (its length times CHUNK is the
        number of updates made).
    """
    import keras

    class StopWhenFitted(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = logs["loss"] < FIT_LOSS

    hist = model.fit(batches(x, y, FT_BATCH, seed), epochs=MAX_UPDATES // CHUNK, steps_per_epoch=CHUNK,
                     callbacks=[StopWhenFitted()], shuffle=False, verbose=0).history  # the dataset shuffles
    return hist["loss"]


def steps(n, batch_size):
    return -(-n // batch_size)  # ceil(n / batch_size)


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def train_autoencoder(codes, units, *, seed):
    """One layer's autoencoder: ``codes -> Dense(units, sigmoid) -> Dense(len(codes[0]), sigmoid)``.

    Its target is its input (the notes' "input과 output을 동일하게"). The previous
    layer's codes lie in (0, 1), as the digits' pixels do, so a sigmoid decoder fits
    every layer.

    Returns:
        ``(autoencoder, codes of this layer, reconstruction MSE, per-epoch losses)``.
    """
    import keras

    keras.utils.set_random_seed(seed)
    n_in = codes.shape[1]
    ae = keras.Sequential([keras.Input((n_in,)),
                           keras.layers.Dense(units, activation=ACTIVATION, name="encoder"),
                           keras.layers.Dense(n_in, activation="sigmoid", name="decoder")],
                          name=f"autoencoder_{n_in}_{units}")
    per_epoch = steps(len(codes), AE_BATCH)
    ae.compile(optimizer=keras.optimizers.Adam(AE_RATE), loss="mse", steps_per_execution=per_epoch)
    hist = ae.fit(batches(codes, codes, AE_BATCH, seed), epochs=AE_EPOCHS, steps_per_epoch=per_epoch,
                  shuffle=False, verbose=0).history  # the dataset shuffles
    new_codes = np.asarray(ae.get_layer("encoder")(codes))
    mse = float(np.mean((np.asarray(ae(codes)) - codes) ** 2))
    return ae, new_codes, mse, hist["loss"]


def mosaic(images, *, cols, gap=1):
    """8x8 images (the rows of ``images``) tiled ``cols`` to a row, ``gap`` pixels of NaN apart."""
    rows = -(-len(images) // cols)
    out = np.full((rows * (8 + gap) - gap, cols * (8 + gap) - gap), np.nan)
    for i, image in enumerate(images):
        top, left = (i // cols) * (8 + gap), (i % cols) * (8 + gap)
        out[top:top + 8, left:left + 8] = image.reshape(8, 8)
    return out


def run(out_dir, quick=True):
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA
    from sklearn.model_selection import train_test_split

    import zoo

    r = Recipe("autoencoder_pretraining", out_dir, title=TITLE, source=SOURCE, quick=quick)
    keras.utils.set_random_seed(0)
    (x, y), (x_test, y_test) = zoo.datasets.load("digits")
    x, x_test = x.reshape(len(x), -1), x_test.reshape(len(x_test), -1)  # pixels in [0, 1]

    # -----------------------------------------------------------------------
    # Step 1. Greedy layer-wise pretraining. Layer l's autoencoder learns to
    # reproduce layer l-1's codes (for l = 1, the images); its encoder's outputs
    # are the codes the next autoencoder learns from. No labels are used.
    # -----------------------------------------------------------------------
    codes, autoencoders, rows = x, [], []
    for layer, units in enumerate(HIDDEN, start=1):
        ae, new_codes, mse, losses = train_autoencoder(codes, units, seed=layer)
        # What "learned something" means: the error of always answering the mean
        # input, and (for reference) the best linear code of the same size, PCA.
        mean_mse = float(np.mean((codes - codes.mean(axis=0)) ** 2))
        pca_mse = "- (no compression)"
        if units < codes.shape[1]:
            pca = PCA(n_components=units, random_state=0).fit(codes)
            pca_mse = float(np.mean((pca.inverse_transform(pca.transform(codes)) - codes) ** 2))
        rows.append([layer, f"{codes.shape[1]} -> {units} -> {codes.shape[1]}", losses[0], mse, mean_mse, pca_mse])
        r.check_at_most(f"autoencoder {layer} ({codes.shape[1]} -> {units}) reconstructs its input: MSE / MSE of the mean input",
                        mse / mean_mse, 0.25)
        autoencoders.append(ae)
        codes = new_codes
    r.table(f"Greedy pretraining on the {len(x)} training images (no labels), Adam {AE_RATE}, {AE_EPOCHS} epochs",
            ["layer", "autoencoder", "MSE after epoch 1", "final MSE", "MSE of the mean input", "MSE of PCA, same size"],
            rows)

    # -----------------------------------------------------------------------
    # Step 2. Stack the encoders into the zoo's classifier: hidden layer l gets
    # autoencoder l's encoder weights; the softmax output layer keeps its random
    # initialisation. The stacked network must compute exactly the composition of
    # the encoders, sigma(sigma(sigma(x W1 + b1) W2 + b2) W3 + b3), done here in NumPy.
    # -----------------------------------------------------------------------
    def classifier(seed):
        return zoo.create_model("dense_classifier", input_dim=64, num_classes=10, hidden_units=HIDDEN,
                                activation=ACTIVATION, optimizer="sgd", learning_rate=FT_RATE, seed=seed)

    encoder_weights = [ae.get_layer("encoder").get_weights() for ae in autoencoders]

    def pretrained(random_weights):
        """The random network's weights with every hidden layer replaced by its encoder."""
        weights = list(random_weights)
        for layer, (kernel, bias) in enumerate(encoder_weights):
            weights[2 * layer], weights[2 * layer + 1] = kernel, bias
        return weights

    # One compiled network trains every run (plain SGD keeps no state besides the
    # step count), so Keras traces its training step once; each run sets its own
    # initial weights: the random ones of its seed, or those with the encoders in.
    trainer = classifier(seed=0)
    trainer.compile(optimizer=trainer.optimizer, loss=trainer.loss, steps_per_execution=STEPS_PER_EXECUTION)
    trainer.set_weights(pretrained(trainer.get_weights()))
    top = keras.Model(trainer.input, trainer.get_layer(f"hidden{len(HIDDEN)}").output)
    by_hand = x_test.astype(np.float64)
    for kernel, bias in encoder_weights:
        by_hand = sigmoid(by_hand @ kernel + bias)
    r.check_close("stacked network's top hidden layer == composition of the three encoders in NumPy: max |difference|",
                  np.max(np.abs(np.asarray(top(x_test)) - by_hand)), 0.0, atol=1e-5)

    # -----------------------------------------------------------------------
    # Step 3. Fine-tune on a few labelled images per class, pretrained against random
    # initialisation: same architecture, same output layer, same batches, same SGD,
    # each until it fits its labelled images.
    # -----------------------------------------------------------------------
    labels = QUICK_LABELS if quick else FULL_LABELS
    seeds = QUICK_SEEDS if quick else FULL_SEEDS
    accuracy, updates, curves = {}, {}, {}
    for per_class in labels:
        for seed in seeds:
            x_lab, _, y_lab, _ = train_test_split(x, y, train_size=10 * per_class, stratify=y, random_state=seed)
            random_weights = classifier(seed=seed).get_weights()
            for init in ("pretrained", "random"):
                trainer.set_weights(pretrained(random_weights) if init == "pretrained" else random_weights)
                trainer.optimizer.iterations.assign(0)
                losses = fine_tune(trainer, x_lab, y_lab, seed=seed)
                acc = float(np.mean(np.argmax(np.asarray(trainer(x_test)), axis=1) == y_test))
                accuracy.setdefault((per_class, init), []).append(acc)
                updates.setdefault((per_class, init), []).append(int(trainer.optimizer.iterations.numpy()))
                curves.setdefault((per_class, init), []).append(losses)

    mean = {key: float(np.mean(v)) for key, v in accuracy.items()}
    mean_updates = {key: float(np.mean(v)) for key, v in updates.items()}
    r.table(f"Fine-tuning {ACTIVATION} 64-{'-'.join(map(str, HIDDEN))}-10 with SGD {FT_RATE}, batch {FT_BATCH}, until "
            f"the training loss is < {FIT_LOSS} (at most {MAX_UPDATES} updates); test accuracy on {len(x_test)} images, "
            f"mean over seeds {list(seeds)}",
            ["labelled images per class", "test accuracy, pretrained", "test accuracy, random init", "gain",
             "updates to fit, pretrained", "updates to fit, random init",
             "per seed: pretrained", "per seed: random init"],
            [[k, mean[(k, "pretrained")], mean[(k, "random")], mean[(k, "pretrained")] - mean[(k, "random")],
              mean_updates[(k, "pretrained")], mean_updates[(k, "random")],
              accuracy[(k, "pretrained")], accuracy[(k, "random")]] for k in labels])

    k = 5
    fitted = all(u < MAX_UPDATES for key, us in updates.items() for u in us)
    r.check("every run fits its labelled images (training loss < FIT_LOSS) within the budget", fitted,
            expected=f"< {MAX_UPDATES} updates each", measured=f"most updates: {max(max(u) for u in updates.values())}")
    r.check_at_least(f"{k} labels per class: pretrained network's mean test accuracy", mean[(k, "pretrained")], 0.8)
    gain = mean[(k, "pretrained")] - mean[(k, "random")]
    r.check_at_least(f"{k} labels per class: gain of pretraining over random init (mean test accuracy)", gain, 0.08)
    # Pretraining also makes the optimisation easy: the random deep sigmoid network
    # first sits on the plateau at log 10 (vanishing gradients), the pretrained one does not.
    ratio = mean_updates[(k, "random")] / mean_updates[(k, "pretrained")]
    r.check_at_least(f"{k} labels per class: updates to fit, random init / pretrained", ratio, 2.0)
    if not quick:
        # Pretraining matters most when labels are scarce: the gain shrinks as they grow.
        gains = [mean[(k_, "pretrained")] - mean[(k_, "random")] for k_ in labels]
        r.check("the gain shrinks as labels grow (fewest vs most labels per class)", gains[0] > gains[-1],
                expected=f"gain({labels[0]}) > gain({labels[-1]})",
                measured=", ".join(f"{k_}: {g:+.3f}" for k_, g in zip(labels, gains)))

    # -----------------------------------------------------------------------
    # Figures. (1) What the autoencoders learned: test digits, their reconstruction
    # by the first autoencoder, and through the whole stack (64 -> 16 -> 64, the
    # decoders applied in reverse); and the first layer's weights as 8x8 filters,
    # pretrained against random. (2) Accuracy against the number of labels, and the
    # fine-tuning curves.
    # -----------------------------------------------------------------------
    show = x_test[:10]
    first = np.asarray(autoencoders[0](show))
    deep = show
    for ae in autoencoders:
        deep = np.asarray(ae.get_layer("encoder")(deep))
    for ae in reversed(autoencoders):
        deep = np.asarray(ae.get_layer("decoder")(deep))
    filters = encoder_weights[0][0][:, :16]
    random_filters = classifier(seed=0).get_layer("hidden1").get_weights()[0][:, :16]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 3.6), width_ratios=[89, 71])
    # The NaN gaps between tiles in light grey.
    gray, signed = (plt.get_cmap(name).with_extremes(bad="0.75") for name in ("gray_r", "RdBu_r"))
    ax1.imshow(mosaic(np.concatenate([show, first, deep]), cols=10), cmap=gray, vmin=0, vmax=1)
    ax1.set_yticks([3.5, 12.5, 21.5], ["test digits", "autoencoder 1\n(64 → 64 → 64)", f"whole stack\n(64 → {HIDDEN[-1]} → 64)"])
    ax1.set_xticks([])
    ax1.set_title("ten test digits and their reconstructions", fontsize=10)
    scaled = [(w / np.abs(w).max(axis=0)).T for w in (filters, random_filters)]  # each filter on its own scale
    ax2.imshow(mosaic(np.concatenate(scaled), cols=8), cmap=signed, vmin=-1, vmax=1)
    ax2.set_yticks([8, 26], ["pretrained", "random init"])
    ax2.set_xticks([])
    ax2.set_title("16 of the 64 first-layer filters (red +, blue −)", fontsize=10)
    fig.tight_layout()
    r.figure(fig, "autoencoders.png")
    plt.close(fig)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for init, style in (("pretrained", "o-"), ("random", "s--")):
        m = [mean[(k_, init)] for k_ in labels]
        lo = [min(accuracy[(k_, init)]) for k_ in labels]
        hi = [max(accuracy[(k_, init)]) for k_ in labels]
        ax1.plot(labels, m, style, label=f"{init} (mean)")
        ax1.fill_between(labels, lo, hi, alpha=0.2)
    ax1.set(xscale="log", xlabel="labelled images per class", ylabel="test accuracy", ylim=(0, 1),
            title="fine-tuned test accuracy (band: min-max over seeds)")
    ax1.set_xticks(labels, [str(k_) for k_ in labels])
    ax1.minorticks_off()
    ax1.legend()
    ax1.grid(alpha=0.3)
    for init, color in (("pretrained", "C0"), ("random", "C1")):
        for i, curve in enumerate(curves[(k, init)]):
            ax2.plot(CHUNK * np.arange(1, len(curve) + 1), curve, color=color, alpha=0.8, label=init if i == 0 else None)
    ax2.axhline(np.log(10), color="0.5", lw=1, ls=":", label="log 10 (uniform guess)")
    ax2.axhline(FIT_LOSS, color="0.3", lw=1, ls="--", label=f"stop: loss < {FIT_LOSS}")
    ax2.set(xlabel="SGD updates", ylabel=f"training loss (mean of {CHUNK} updates)", yscale="log",
            title=f"fine-tuning on {k} labels per class (one line per seed)")
    ax2.legend()
    ax2.grid(alpha=0.3)
    fig.suptitle(f"Greedy autoencoder pretraining vs random init: {ACTIVATION} 64-{'-'.join(map(str, HIDDEN))}-10, SGD {FT_RATE}")
    fig.tight_layout()
    r.figure(fig, "pretrained_vs_random.png")
    plt.close(fig)

    r.note("The randomly initialised network is the zoo's default (Glorot uniform). With sigmoid units, "
           "three hidden layers and plain SGD its gradients are small at first, so it sits on the plateau "
           "at log 10 for hundreds of updates before it fits its labels, and then it generalises worse: "
           "pretraining both eases the optimisation and acts as a regulariser (Erhan et al. 2010), most "
           "when labels are few. Pretraining gives every hidden layer weights that already preserve the "
           "information in its input, so fine-tuning starts from useful features. Since 2010, ReLU, "
           "Xavier/He initialisation, batch normalisation and adaptive optimizers (recipes 4, 5, 7, 8, 9) "
           "make deep networks trainable from random initialisation; the notes' scheme survives as "
           "self-supervised pretraining.")
    return r.result()


def main(argv=None):
    return main_for(__name__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
