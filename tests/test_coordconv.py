"""CoordConv layers against a NumPy reference, plus Keras integration checks."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import keras

from conftest import ROOT, check_layer
from CoordConv import (AddCoords, AddCoords1D, AddCoords2D, AddCoords3D, CoordConv,
                       CoordConv1D, CoordConv2D, CoordConv2DTranspose, CoordConv3D)

ADD_COORDS = {1: AddCoords1D, 2: AddCoords2D, 3: AddCoords3D}
CONVS = {1: CoordConv1D, 2: CoordConv2D, 3: CoordConv3D}
SHAPES = {1: [(7,), (2,)], 2: [(14, 6), (6, 14), (5, 5)], 3: [(3, 4, 5), (5, 2, 3)]}

# The reference (Keras' own Conv2DTranspose over the concatenated channels) leaves out output_padding before Keras
# 3.15 (19 rows where (9 - 1) * 2 + 3 + 1 = 20); the CoordConv layer follows the documented size on every version.
KERAS_DROPS_OUTPUT_PADDING = pytest.mark.skipif(
    tuple(int(part) for part in keras.__version__.split(".")[:2]) < (3, 15),
    reason="Keras' Conv2DTranspose drops output_padding before 3.15: no reference to compare with")


def reference_coords(spatial, with_r):
    """Coordinate channels, last axis: x along the last spatial axis, then y, then z."""
    index = np.indices(spatial).astype(np.float64)
    sizes = np.array(spatial, dtype=np.float64).reshape((-1,) + (1,) * len(spatial))
    normalised = 2 * index / (sizes - 1) - 1
    channels = [normalised[axis] for axis in reversed(range(len(spatial)))]
    if with_r:
        channels.append(np.sqrt(sum(c**2 for c in channels)))
    return np.stack(channels, axis=-1)


def reference_add_coords(x, with_r, data_format):
    """NumPy AddCoords on a batch, in either data format."""
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    coords = reference_coords(x.shape[1:-1], with_r)
    out = np.concatenate([x, np.broadcast_to(coords, x.shape[:-1] + coords.shape[-1:])], -1)
    return np.moveaxis(out, -1, 1) if data_format == "channels_first" else out


def random_batch(spatial, channels=3, batch=2, data_format="channels_last"):
    shape = (batch, *spatial, channels) if data_format == "channels_last" else (batch, channels, *spatial)
    return np.random.default_rng(0).normal(size=shape).astype("float32")


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("with_r", [False, True])
def test_add_coords_matches_numpy_reference(rank, data_format, with_r):
    for spatial in SHAPES[rank]:
        x = random_batch(spatial, data_format=data_format)
        out = ADD_COORDS[rank](with_r=with_r, data_format=data_format)(x)
        np.testing.assert_allclose(out, reference_add_coords(x, with_r, data_format), atol=1e-6)


def test_non_square_x_spans_width_and_y_spans_height():
    out = AddCoords()(np.zeros((1, 14, 6, 1), "float32")).numpy()
    x, y = out[0, ..., 1], out[0, ..., 2]
    np.testing.assert_allclose(x[0], np.linspace(-1, 1, 6), atol=1e-6)
    np.testing.assert_allclose(y[:, 0], np.linspace(-1, 1, 14), atol=1e-6)
    assert x.min() == -1 and x.max() == 1 and y.min() == -1 and y.max() == 1


def test_radius_is_centerd_and_spans_zero_to_root_two():
    r = AddCoords(with_r=True)(np.zeros((1, 9, 5, 1), "float32")).numpy()[0, ..., 3]
    assert r[4, 2] == pytest.approx(0.0, abs=1e-7)
    assert r.max() == pytest.approx(np.sqrt(2), abs=1e-6)
    np.testing.assert_allclose(r, r[::-1, ::-1], atol=1e-6)


def test_tiling_mode_repeats_a_one_by_one_input():
    x = np.array([[[[3.0, 7.0]]]], "float32").repeat(2, axis=0)
    out = AddCoords(5, 3, with_r=False, skiptile=False)(x).numpy()
    assert out.shape == (2, 5, 3, 4)
    np.testing.assert_array_equal(out[..., 0], 3.0)
    np.testing.assert_array_equal(out[..., 1], 7.0)
    np.testing.assert_allclose(out[0, ..., 2:], reference_coords((5, 3), False), atol=1e-6)


def test_tiling_mode_refuses_a_feature_map():
    with pytest.raises(ValueError, match="skiptile=True"):
        AddCoords(4, 4)(np.zeros((1, 4, 4, 2), "float32"))


def test_dynamic_spatial_sizes_in_one_model():
    inputs = keras.Input((None, None, 2))
    model = keras.Model(inputs, AddCoords(with_r=True)(inputs))
    for spatial in [(14, 6), (3, 11)]:
        x = random_batch(spatial, channels=2)
        np.testing.assert_allclose(model(x), reference_add_coords(x, True, "channels_last"), atol=1e-6)


def test_sizes_known_only_at_run_time_inside_tf_function():
    layer = AddCoords2D(with_r=True)
    traced = tf.function(layer, input_signature=[tf.TensorSpec([None, None, None, 3])])
    for spatial in [(14, 6), (6, 14)]:
        x = random_batch(spatial)
        np.testing.assert_allclose(traced(x), reference_add_coords(x, True, "channels_last"), atol=1e-6)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_coordconv_is_a_conv_over_the_reference_channels(rank):
    spatial = SHAPES[rank][0]
    x = random_batch(spatial)
    layer = CONVS[rank](4, 3, padding="same", with_r=True)
    plain = getattr(keras.layers, f"Conv{rank}D")(4, 3, padding="same")
    out = layer(x)
    plain.build((None, *spatial, x.shape[-1] + rank + 1))
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(out, plain(reference_add_coords(x, True, "channels_last")), atol=1e-5)


LAYER_CASES = [  # (class, arguments, input shape, output shape): every face and mode of the family
    (AddCoords1D, {"with_r": True}, (2, 7, 3), (2, 7, 5)),
    (AddCoords2D, {"x_dim": 4, "y_dim": 6, "skiptile": True}, (2, 4, 6, 3), (2, 4, 6, 5)),
    (AddCoords2D, {"x_dim": 4, "y_dim": 6, "skiptile": False}, (2, 1, 1, 3), (2, 4, 6, 5)),
    (AddCoords3D, {"data_format": "channels_first"}, (2, 3, 4, 5, 2), (2, 6, 4, 5, 2)),
    (CoordConv1D, {"filters": 3, "kernel_size": 2, "with_r": True}, (2, 7, 3), (2, 6, 3)),
    (CoordConv2D, {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 14, 6, 3), (2, 7, 3, 3)),
    (CoordConv3D, {"filters": 2, "kernel_size": 1}, (2, 3, 4, 5, 2), (2, 3, 4, 5, 2)),
    (CoordConv2DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2}, (2, 5, 5, 3), (2, 11, 11, 3)),
    (CoordConv, {"x_dim": 6, "y_dim": 6, "with_r": True, "filters": 8, "kernel_size": 1, "activation": "relu"},
     (2, 6, 6, 3), (2, 6, 6, 8)),
    (CoordConv2D, {"filters": 4, "kernel_size": 3, "coord_shape": (5, 5)}, (2, 5, 5, 3), (2, 3, 3, 4)),
    (CoordConv2D, {"filters": 4, "kernel_size": 1, "coord_shape": (8, 6), "skiptile": False, "with_r": True},
     (2, 1, 1, 3), (2, 8, 6, 4)),
]


@pytest.mark.parametrize("cls, kwargs, input_shape, output_shape", LAYER_CASES,
                         ids=[f"{case[0].__name__}-{index}" for index, case in enumerate(LAYER_CASES)])
def test_layer_contract(cls, kwargs, input_shape, output_shape, tmp_path):
    check_layer(cls, kwargs, input_shape, output_shape, tmp_path)


def test_saved_model_loads_without_custom_objects(tmp_path):
    inputs = keras.Input((16, 12, 3))
    x = CoordConv(16, 12, True, 4, 3, padding="same")(inputs)
    x = AddCoords(skiptile=True)(x)
    x = CoordConv2DTranspose(4, 3, strides=2, padding="same", with_r=True)(x)
    x = CoordConv2D(2, 3, padding="same")(x)
    model = keras.Model(inputs, x)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = random_batch((16, 12))
    np.testing.assert_array_equal(model(x), loaded(x))


def test_sequential_model_trains_with_every_layer():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((8, 8, 3)),
        AddCoords2D(with_r=True),
        CoordConv2D(4, 3, padding="same", activation="relu"),
        CoordConv2DTranspose(4, 3, strides=2, padding="same", activation="relu"),
        CoordConv(16, 16, False, 1, 1),
        keras.layers.Reshape((16, 16)),
        CoordConv1D(2, 3, padding="same"),
        AddCoords1D(),
        keras.layers.Reshape((4, 4, 3, 1)),
        AddCoords3D(with_r=True),
        CoordConv3D(1, 1),
        keras.layers.GlobalAveragePooling3D(),
    ])
    model.compile(optimizer="adam", loss="mse")
    x = random_batch((8, 8), batch=4)
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, np.ones((4, 1)), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(policy):
    keras.mixed_precision.set_global_policy(policy)
    x = random_batch((14, 6))
    coords = AddCoords(with_r=True)(x)
    assert coords.dtype == policy.split("_")[1]
    np.testing.assert_allclose(np.asarray(coords, "float32"), reference_add_coords(x, True, "channels_last"),
                               atol=1e-2)
    conv = CoordConv2D(4, 3, padding="same")
    assert conv(x).dtype == policy.split("_")[1]
    assert conv.kernel.dtype == "float32"


@pytest.mark.parametrize("make, message", [
    (lambda: CoordConv2D(-1, 3), "filters=-1"),
    (lambda: AddCoords(1, 5), "x_dim=1"),
    (lambda: AddCoords(5, None), "Give all of"),
    (lambda: AddCoords3D(4, 4, 0), "z_dim=0"),
    (lambda: AddCoords(data_format="nhwc"), "data_format='nhwc'"),
])
def test_bad_arguments_name_the_received_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("layer, shape", [
    (AddCoords2D(), (2, 5, 3)),
    (AddCoords2D(5, 5, skiptile=True), (2, 7, 7, 3)),
    (CoordConv1D(2, 3), (2, 5, 5, 3)),
    (CoordConv(8, 8, False, 2, 1), (2, 6, 8, 3)),
])
def test_rank_or_size_mismatch_is_a_value_error(layer, shape):
    with pytest.raises(ValueError, match=r"Received shape|declared for spatial shape|expected"):
        layer(np.zeros(shape, "float32"))


def outputs_and_gradients(forward, x, weights, cotangent_seed=1):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = forward(x)
        cotangent = tf.random.stateless_normal(tf.shape(out), [cotangent_seed, 0], dtype=out.dtype)
        loss = tf.reduce_sum(out * cotangent)
    return [out, *tape.gradient(loss, [x, *weights])]


SPLIT_CASES = [  # (layer, spatial input size, input channels)
    (CoordConv1D(4, 3, padding="same"), (9,), 3),
    (CoordConv1D(4, 3, padding="causal", dilation_rate=2, with_r=True), (9,), 3),
    (CoordConv1D(4, 2, strides=2, padding="valid"), (9,), 2),
    (CoordConv2D(5, 3, padding="same"), (14, 6), 3),
    (CoordConv2D(5, 3, strides=2, padding="same"), (7, 10), 3),
    (CoordConv2D(5, (3, 2), strides=(2, 3), padding="valid", with_r=True), (9, 11), 2),
    (CoordConv2D(5, 3, dilation_rate=2, padding="same"), (9, 8), 3),
    (CoordConv2D(5, 5, strides=2, padding="same", activation="relu"), (8, 8), 4),
    (CoordConv2D(6, 3, padding="same", groups=2), (6, 6), 4),  # 4 + 2 channels in 2 groups: the fallback
    (CoordConv2D(5, 1, coord_shape=(6, 7), skiptile=False), (1, 1), 4),
    (CoordConv2D(5, 3, coord_shape=(6, 7), skiptile=False, padding="same", with_r=True), (1, 1), 4),
    (CoordConv2D(5, 3, padding="same", use_bias=False), (5, 5), 2),
    (CoordConv3D(3, 3, padding="same"), (3, 4, 5), 2),
    (CoordConv3D(3, (2, 3, 1), strides=(1, 2, 1), padding="valid", with_r=True), (4, 5, 3), 2),
    (CoordConv2DTranspose(4, 3, strides=2, padding="same"), (5, 7), 3),
    pytest.param(CoordConv2DTranspose(4, 3, strides=2, padding="valid", output_padding=1), (4, 6), 3,
                 marks=KERAS_DROPS_OUTPUT_PADDING),
    (CoordConv2DTranspose(4, 4, strides=2, padding="same", with_r=True), (6, 5), 3),
    (CoordConv(6, 6, False, 4, 3, padding="same"), (6, 6), 3),
]


def assert_split_form_equals_concatenation(layer, x, tolerance=1e-5):
    """Outputs and gradients (input, kernel, bias) of `layer` against the concatenation with the same weights."""
    layer(x)
    layer.set_weights([np.random.default_rng(1).normal(size=w.shape).astype("float32") for w in layer.get_weights()])
    concatenation = layer.as_concatenation()
    ours = outputs_and_gradients(layer, x, layer.trainable_weights)
    concatenated = outputs_and_gradients(concatenation, x, concatenation.trainable_weights)
    for got, want in zip(ours, concatenated):
        np.testing.assert_allclose(np.asarray(got, "float32"), np.asarray(want, "float32"),
                                   rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("layer, spatial, channels", SPLIT_CASES,
                         ids=lambda v: str(v) if isinstance(v, tuple) else None)
def test_split_form_equals_the_concatenation_with_gradients(layer, spatial, channels):
    assert_split_form_equals_concatenation(layer, random_batch(spatial, channels, batch=3))


CHANNELS_FIRST_CASES = [
    (CoordConv1D, {"filters": 4, "kernel_size": 3, "padding": "same", "with_r": True}, (9,), 3),
    (CoordConv1D, {"filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, (9,), 3),
    (CoordConv2D, {"filters": 5, "kernel_size": 3, "strides": 2, "padding": "same"}, (7, 10), 3),
    (CoordConv2D, {"filters": 5, "kernel_size": 3, "padding": "valid", "with_r": True}, (7, 10), 3),
    (CoordConv2D, {"filters": 4, "kernel_size": 3, "padding": "same", "groups": 2}, (6, 5), 4),
    (CoordConv2D, {"filters": 5, "kernel_size": 3, "padding": "same", "coord_shape": (6, 7), "skiptile": False,
                   "with_r": True}, (1, 1), 3),
    (CoordConv3D, {"filters": 4, "kernel_size": 3, "padding": "same", "with_r": True}, (3, 4, 5), 2),
    (CoordConv2DTranspose, {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same", "with_r": True},
     (5, 6), 3),
    (CoordConv, {"x_dim": 7, "y_dim": 10, "filters": 4, "kernel_size": 1}, (7, 10), 3),
]


@pytest.mark.parametrize("cls, kwargs, spatial, channels", CHANNELS_FIRST_CASES,
                         ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_channels_first_equals_channels_last_on_any_device(cls, kwargs, spatial, channels):
    """TensorFlow's CPU convolutions take channels_last only; the layers run channels_first there all the same."""
    x = random_batch(spatial, channels, batch=3)
    last = cls(**kwargs, data_format="channels_last")
    first = cls(**kwargs, data_format="channels_first")
    last(x)
    first(np.moveaxis(x, -1, 1))
    first.set_weights([w + 0.1 for w in last.get_weights()])  # nonzero bias
    last.set_weights(first.get_weights())
    (output, input_gradient, *gradients) = squared_sum_gradients(first, np.moveaxis(x, -1, 1))
    (expected, expected_input_gradient, *expected_gradients) = squared_sum_gradients(last, x)
    np.testing.assert_allclose(np.moveaxis(output, 1, -1), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.moveaxis(input_gradient, 1, -1), expected_input_gradient, rtol=1e-5, atol=1e-4)
    for ours, theirs in zip(gradients, expected_gradients):  # kernels keep one layout in both formats
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-4)


def test_channels_first_equals_channels_last_on_eigens_cpu_kernels():
    """TensorFlow's default on CPUs without AVX-512 (our scripts turn oneDNN on; a model importing the layer may
    not): its Eigen convolutions take channels_last only, and raised UnimplementedError for channels_first."""
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0"}
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                          "tests/test_coordconv.py", "-k", "test_channels_first_equals_channels_last_on_any_device"],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert ran.returncode == 0 and f"{len(CHANNELS_FIRST_CASES)} passed" in ran.stdout, ran.stdout[-2000:]


def squared_sum_gradients(layer, x) -> list:
    """The layer's output, then the gradients of its sum of squares (a loss blind to the layout) with respect to
    the input and each weight."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        outputs = layer(x)
        loss = tf.reduce_sum(tf.square(outputs))
    return [outputs.numpy()] + [g.numpy() for g in tape.gradient(loss, [x, *layer.trainable_weights])]


@pytest.mark.parametrize("layer", [CoordConv2D(5, 3, strides=2, padding="same"),
                                   CoordConv2D(5, 1, coord_shape=(6, 7), skiptile=False, with_r=True)])
def test_split_form_in_mixed_precision(layer):
    keras.mixed_precision.set_global_policy("mixed_float16")  # conftest restores float32
    layer = type(layer).from_config({**layer.get_config(), "dtype": "mixed_float16"})
    assert layer.compute_dtype == "float16"
    assert_split_form_equals_concatenation(layer, random_batch((7, 10) if layer.skiptile else (1, 1), 3),
                                           tolerance=2e-2)


@pytest.mark.parametrize("layer", [
    CoordConv2D(4, 3, strides=2, padding="same"), CoordConv2D(4, 3, strides=2, padding="same", with_r=True),
    CoordConv2D(4, (3, 2), strides=(1, 2), dilation_rate=1, padding="valid"),
    CoordConv2DTranspose(4, 3, strides=2, padding="same"),
    pytest.param(CoordConv2DTranspose(4, 3, strides=2, padding="valid", output_padding=1),
                 marks=KERAS_DROPS_OUTPUT_PADDING),
], ids=lambda layer: type(layer).__name__)
def test_split_form_with_sizes_known_only_at_run_time(layer):
    """Sizes unknown while tracing: the coordinates' term is made at run time, in and out of a graph."""
    layer.build((None, None, None, 3))
    concatenation = layer.as_concatenation()
    traced = tf.function(layer, input_signature=[tf.TensorSpec([None, None, None, 3])])
    for spatial in [(9, 6), (4, 13)]:
        x = random_batch(spatial)
        np.testing.assert_allclose(traced(x), concatenation(x), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(layer(x), concatenation(x), rtol=1e-5, atol=1e-5)


def test_tiled_painter_layer_equals_addcoords_then_conv():
    vector = random_batch((1, 1), channels=4)
    layer = CoordConv2D(8, 1, coord_shape=(16, 12), skiptile=False, activation="relu")
    plain = keras.layers.Conv2D(8, 1, activation="relu")
    tiled = AddCoords(16, 12, skiptile=False)(vector)
    plain(tiled)
    layer(vector)
    layer.set_weights(plain.get_weights())
    assert layer.count_params() == plain.count_params() == (4 + 2) * 8 + 8
    np.testing.assert_allclose(layer(vector), plain(tiled), rtol=1e-5, atol=1e-5)


def declared_five_by_five_models():
    inputs = keras.Input((None, None, 2))
    yield keras.Model(inputs, AddCoords2D(5, 5, skiptile=True)(inputs))
    yield keras.Model(inputs, CoordConv(5, 5, False, 3, 3, padding="same")(inputs))


@pytest.mark.parametrize("model", declared_five_by_five_models(), ids=["AddCoords2D", "CoordConv"])
def test_a_declared_size_refuses_other_sizes_eager_and_traced(model):
    seven, five = random_batch((7, 7), 2), random_batch((5, 5), 2)
    message = r"declared for spatial shape \(5, 5\).*received spatial shape \(7, 7\)"
    with pytest.raises(ValueError, match=message):
        model(seven)
    with pytest.raises(ValueError, match=message):
        model.predict(seven, verbose=0)  # traced first at 7x7: the sizes are static
    assert model.predict(five, verbose=0).shape[1:3] == (5, 5)


@pytest.mark.parametrize("model", declared_five_by_five_models(), ids=["AddCoords2D", "CoordConv"])
def test_a_declared_size_is_checked_when_a_graph_with_unknown_sizes_runs(model):
    """predict retraces with unknown sizes after a second shape: the check then runs inside the graph."""
    assert model.predict(random_batch((5, 5), 2), verbose=0).shape[1:3] == (5, 5)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"declared for spatial shape \(5, 5\)"):
        model.predict(random_batch((7, 7), 2), verbose=0)


def test_add_coords_passes_masks_through(recwarn):
    tokens = np.array([[3, 1, 0, 0], [2, 0, 0, 0]])
    inputs = keras.Input((4,), dtype="int32")
    embedded = keras.layers.Embedding(5, 3, mask_zero=True)(inputs)
    with_coords = AddCoords1D(with_r=True)(embedded)
    assert with_coords.shape == (None, 4, 5)
    pooled = keras.layers.GlobalAveragePooling1D()(with_coords)
    model = keras.Model(inputs, pooled)
    coords = reference_coords((4,), True)
    embeddings = model.layers[1].embeddings.numpy()
    expected = [np.concatenate([embeddings[row[row > 0]], coords[row > 0]], -1).mean(0) for row in tokens]
    np.testing.assert_allclose(model(tokens), expected, atol=1e-6)
    assert not [w for w in recwarn if "mask" in str(w.message)]
