"""The zoo's fast path computes the textbook function: same weights in, same outputs out.

Speed is measured by bench/ (never asserted here); these tests check that the
faster pieces are the same model: SparseInputDense equals Dense, FusedAdam
equals Adam step by step, the bfloat16 and float32 builds of a wide MLP equal
the plain Keras MLP on the same weights, saved models round-trip, and the
float32 fallback is taken where the CPU has no AMX-BF16.
"""

import numpy as np
import pytest

import keras
import zoo
from zoo import layers, optimizers, pipeline, platform, training

WIDE = {"input_dim": 1200, "hidden_units": (16, 8), "num_classes": 5}  # wide enough for the fast path


def _multi_hot(n, dim, words=30, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, dim), "float32")
    for row in x:
        row[rng.choice(dim // 2, size=words, replace=False)] = 1.0  # the upper half of the vocabulary is never used
    return x


def _textbook(model):
    """The notes' Sequential MLP (plain float32 Dense layers) carrying ``model``'s weights."""
    dims = [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    plain = keras.Sequential([keras.Input((model.input_shape[-1],))]
                             + [keras.layers.Dense(u, activation="relu") for u in dims[:-1]]
                             + [keras.layers.Dense(dims[-1], activation="softmax")])
    plain.set_weights(model.get_weights())
    return plain


@pytest.fixture
def no_amx(monkeypatch):
    monkeypatch.delenv(platform.BFLOAT16_ENV, raising=False)
    monkeypatch.setattr(platform, "cpu_flags", lambda: frozenset({"avx2", "avx512f"}))


def test_sparse_input_dense_equals_dense_and_its_gradient(no_amx):
    x = _multi_hot(16, 300) * np.random.default_rng(1).uniform(0.5, 2, (16, 300)).astype("float32")  # any values
    sparse = layers.SparseInputDense(7, activation="relu")
    dense = keras.layers.Dense(7, activation="relu")
    sparse.build((None, 300)), dense.build((None, 300))
    dense.set_weights(sparse.get_weights())
    import tensorflow as tf

    grads = []
    for layer in (sparse, dense):
        with tf.GradientTape() as tape:
            y = layer(x)
            loss = tf.reduce_sum(y * np.arange(7, dtype="float32"))
        grads.append(tf.convert_to_tensor(tape.gradient(loss, layer.kernel.value)).numpy())
        np.testing.assert_allclose(y, dense(x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-5)
    assert not grads[0][150:].any(), "words absent from the batch get no gradient"
    # All-zero batch, and a batch of one: still the Dense function.
    for xb in (np.zeros((3, 300), "float32"), x[:1]):
        np.testing.assert_allclose(sparse(xb), dense(xb), rtol=1e-5, atol=1e-6)


def test_fused_adam_takes_the_same_steps_as_keras_adam():
    rng = np.random.default_rng(0)
    start = rng.normal(size=(40, 6)).astype("float32")
    grads = [rng.normal(size=(40, 6)).astype("float32") for _ in range(5)]
    results = []
    for opt in (optimizers.FusedAdam(learning_rate=0.01), keras.optimizers.Adam(learning_rate=0.01)):
        var = keras.Variable(start)
        for g in grads:
            opt.apply_gradients([(g, var)])
        results.append(var.numpy())
    assert not np.allclose(results[0], start)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)
    assert isinstance(optimizers.make_optimizer("adam", 1e-3), keras.optimizers.Adam)
    config = optimizers.FusedAdam(learning_rate=0.01).get_config()
    assert keras.optimizers.Adam.from_config(config).get_config() == config


@pytest.mark.parametrize("bfloat16", ["1", "0"])
def test_wide_mlp_computes_the_textbook_mlp_on_the_same_weights(monkeypatch, bfloat16):
    monkeypatch.setenv(platform.BFLOAT16_ENV, bfloat16)
    model = zoo.create_model("reuters_mlp", seed=0, **WIDE)
    plain = _textbook(model)
    assert model.count_params() == plain.count_params() == 1200 * 16 + 16 + 16 * 8 + 8 + 8 * 5 + 5
    x = _multi_hot(32, 1200)
    ours, ref = model.predict(x, verbose=0), plain.predict(x, verbose=0)
    assert ours.dtype == np.float32
    # bfloat16 keeps 8 significant bits: probabilities agree to ~1e-2; float32 to rounding.
    np.testing.assert_allclose(ours, ref, atol=2e-2 if bfloat16 == "1" else 1e-5)
    np.testing.assert_array_equal(ours.sum(axis=1).round(3), 1.0)
    kinds = {layer.name: (type(layer).__name__, layer.dtype_policy.name) for layer in model.layers}
    if bfloat16 == "1":
        assert kinds["hidden1"] == ("Dense", "mixed_bfloat16")
    else:
        assert kinds["hidden1"] == ("SparseInputDense", "float32")
    assert kinds["output"][1] == "float32"  # the softmax stays float32 either way


def test_without_amx_the_fallback_is_float32_sparse_input(no_amx):
    assert not platform.use_bfloat16()
    model = zoo.create_model("reuters_mlp", **WIDE)
    assert isinstance(model.get_layer("hidden1"), layers.SparseInputDense)
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}


def test_amx_is_detected_from_the_cpu_flags_and_the_variable_is_checked(monkeypatch):
    monkeypatch.delenv(platform.BFLOAT16_ENV, raising=False)
    monkeypatch.setattr(platform, "cpu_flags", lambda: frozenset({"amx_bf16", "amx_tile"}))
    assert platform.use_bfloat16()
    monkeypatch.setenv(platform.BFLOAT16_ENV, "yes")
    with pytest.raises(ValueError, match=r"ZOO_BFLOAT16 must be 0 or 1 .* got 'yes'"):
        zoo.create_model("reuters_mlp", **WIDE)


AMX_XEON = {"avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_bf16", "amx_bf16", "amx_tile", "amx_int8"}
EPYC_ZEN4 = {"avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_bf16"}
SKYLAKE = {"avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq"}
LAPTOP = {"avx", "avx2", "fma"}


@pytest.mark.parametrize("flags, environ, kind", [
    (AMX_XEON, {}, "amx"),
    (EPYC_ZEN4, {}, "avx512_bf16"),
    (SKYLAKE, {}, "avx512"),
    (LAPTOP, {}, "avx2"),
    (set(), {}, "other"),  # no /proc/cpuinfo (macOS) or another architecture
    (AMX_XEON, {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"}, "avx512_bf16"),  # oneDNN's ceiling caps the kind
    (AMX_XEON, {"ONEDNN_MAX_CPU_ISA": "avx512_core"}, "avx512"),
    (AMX_XEON, {"DNNL_MAX_CPU_ISA": "AVX2"}, "avx2"),
    (AMX_XEON, {"ONEDNN_MAX_CPU_ISA": "ALL"}, "amx"),
    (LAPTOP, {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_AMX"}, "avx2"),  # a ceiling never raises the kind
    (AMX_XEON, {"ONEDNN_MAX_CPU_ISA": "NOT_AN_ISA"}, "amx"),  # oneDNN ignores what it does not know
])
def test_cpu_kind_from_flags_and_onednn_ceiling(flags, environ, kind):
    assert platform.isa_class(flags, environ) == kind


@pytest.mark.parametrize("flags, environ, path", [
    (AMX_XEON, {}, "bfloat16_dense"),
    (EPYC_ZEN4, {}, platform.WIDE_INPUT_PATHS["avx512_bf16"]),
    (SKYLAKE, {}, platform.WIDE_INPUT_PATHS["avx512"]),
    (LAPTOP, {}, platform.WIDE_INPUT_PATHS["avx2"]),
    (AMX_XEON, {"ONEDNN_MAX_CPU_ISA": "AVX2"}, platform.WIDE_INPUT_PATHS["avx2"]),
    (AMX_XEON, {"ZOO_BFLOAT16": "0"}, platform.FLOAT32_PATH),
    (LAPTOP, {"ZOO_BFLOAT16": "1"}, "bfloat16_dense"),
])
def test_wide_input_path_by_cpu_kind(flags, environ, path):
    if path == "probe":  # the kind does not decide: a measurement here does, either way
        for faster, expected in ((True, "bfloat16_dense"), (False, platform.FLOAT32_PATH)):
            assert platform.wide_input_path(flags, environ, backend="tensorflow", probe=lambda: faster) == expected
        return
    assert platform.wide_input_path(flags, environ, backend="tensorflow", probe=_no_probe) == path
    assert path in ("bfloat16_dense", "float32_dense", "sparse_input_dense")


def _no_probe():
    raise AssertionError("only the kinds whose path is 'probe' measure")


def test_the_probe_runs_and_answers():
    platform.bfloat16_is_faster.cache_clear()
    assert isinstance(platform.bfloat16_is_faster(), bool)
    assert platform.bfloat16_is_faster.cache_info().currsize == 1  # once per process


def test_wide_input_path_without_tensorflow_or_with_a_bad_override():
    assert platform.wide_input_path(EPYC_ZEN4, {}, backend="jax", probe=_no_probe) == platform.FLOAT32_PATH
    assert platform.wide_input_path(AMX_XEON, {}, backend="jax") == platform.FLOAT32_PATH  # bfloat16 measured on TF only
    with pytest.raises(ValueError, match=r"ZOO_BFLOAT16 must be 0 or 1 .* got 'on'"):
        platform.wide_input_path(AMX_XEON, {"ZOO_BFLOAT16": "on"}, backend="tensorflow")


@pytest.mark.parametrize("path", ["bfloat16_dense", "float32_dense", "sparse_input_dense"])
def test_each_path_builds_its_layers_and_is_recorded(monkeypatch, path):
    monkeypatch.setattr(platform, "wide_input_path", lambda: path)
    from zoo import mlp

    model = zoo.create_model("reuters_mlp", **WIDE)
    assert mlp.path_of(model) == path
    assert isinstance(model.get_layer("hidden1"), layers.SparseInputDense) == (path == "sparse_input_dense")
    assert (model.get_layer("hidden1").dtype_policy.name == "mixed_bfloat16") == (path == "bfloat16_dense")
    assert mlp.path_of(zoo.create_model("dense_classifier")) is None  # narrow input: no wide path


def test_small_models_keep_plain_float32_layers():
    for name in ("dense_classifier", "small_cnn"):
        model = zoo.create_model(name)
        assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
        assert not any(isinstance(layer, layers.SparseInputDense) for layer in model.layers)


@pytest.mark.parametrize("bfloat16", ["1", "0"])
def test_saved_fast_model_loads_and_predicts_on_multi_hot_input(tmp_path, monkeypatch, bfloat16):
    monkeypatch.setenv(platform.BFLOAT16_ENV, bfloat16)
    x = _multi_hot(64, 1200)
    y = np.arange(64) % 5
    model = zoo.create_model("reuters_mlp", seed=0, **WIDE)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(loaded.optimizer) is optimizers.FusedAdam
    assert loaded.optimizer.iterations.numpy() == model.optimizer.iterations.numpy() == 8
    loaded.fit(x, y, epochs=1, batch_size=16, verbose=0)  # and trains on


def test_epoch_batches_are_the_rows_in_each_epochs_order():
    x = np.arange(20, dtype="float32").reshape(10, 2)
    y = np.arange(10)
    orders = np.stack([np.random.default_rng([0, e]).permutation(10) for e in range(2)])
    got = [(bx.numpy(), by.numpy()) for bx, by in pipeline.Batches(x, y, 4).epochs(orders)]
    want = [(x[o[i:i + 4]], y[o[i:i + 4]]) for o in orders for i in range(0, 10, 4)]
    assert [len(b) for b, _ in got] == [4, 4, 2, 4, 4, 2]  # each epoch ends with its own short batch
    for (gx, gy), (wx, wy) in zip(got, want):
        np.testing.assert_array_equal(gx, wx)
        np.testing.assert_array_equal(gy, wy)


def test_input_pipelines_run_without_tf_data_autotuning():
    # With autotuning on, destroying the iterator at the end of `fit` sat idle 1.4-2.0 s in
    # about half the Reuters runs (zoo/pipeline.py `pipeline_options`).
    batches = pipeline.Batches(np.zeros((6, 2), "float32"), np.zeros(6, "int64"), 4)
    for dataset in (batches.dataset(), batches.epochs(np.stack([np.arange(6)]))):
        assert dataset.options().autotune.enabled is False


def test_reuters_batch_512_gets_the_square_root_rule_learning_rate_and_128_the_textbook():
    from zoo.registry import resolve

    assert zoo.registry.get_entry("reuters_mlp").train.batch_size == 512
    assert resolve("reuters_mlp").learning_rate == pytest.approx(2e-3)  # 1e-3 * sqrt(512 / 128)
    assert resolve("reuters_mlp").factory_kwargs["learning_rate"] == pytest.approx(2e-3)
    assert resolve("reuters_mlp", batch_size=256).learning_rate == pytest.approx(1e-3 * 2 ** 0.5)
    assert resolve("reuters_mlp", batch_size=128).learning_rate == 1e-3  # the textbook's own
    assert "learning_rate" not in resolve("reuters_mlp", batch_size=128).factory_kwargs
    # a learning rate or another optimizer the user gives is theirs; models with no reference batch keep theirs
    assert resolve("reuters_mlp", overrides={"learning_rate": 1e-4}).learning_rate == 1e-4
    assert resolve("reuters_mlp", overrides={"optimizer": "sgd"}).learning_rate == 1e-3
    assert resolve("reuters_mlp", overrides={"optimizer": "adam"}).learning_rate == pytest.approx(2e-3)
    assert resolve("small_cnn", batch_size=512).learning_rate == 1e-3


def test_train_builds_the_model_with_the_scaled_learning_rate(tmp_path, monkeypatch):
    monkeypatch.setattr(zoo.datasets, "load", lambda *a, **k: _tiny_multi_hot())
    metrics = training.train("reuters_mlp", out=tmp_path / "a", epochs=1, batch_size=32, verbose=0, hidden_units=(8,))
    assert metrics["learning_rate"] == pytest.approx(1e-3 * (32 / 128) ** 0.5)
    metrics = training.train("reuters_mlp", out=tmp_path / "b", epochs=1, batch_size=32, verbose=0, hidden_units=(8,),
                             learning_rate=0.01)
    assert metrics["learning_rate"] == pytest.approx(0.01)


def _tiny_multi_hot(n=120, words=60, classes=4):
    rng = np.random.default_rng(0)
    x = (rng.random((n, words)) < 0.1).astype("float32")
    y = np.arange(n) % classes
    return (x[:96], y[:96]), (x[96:], y[96:])
