"""Shared test setup: quiet TensorFlow, the repo root importable, small datasets."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from lab import backends  # noqa: E402,F401  Keras on its backend, quiet: before keras loads

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lab.supervised import not_so_clevr  # noqa: E402
from lab.generative import sort_of_clevr  # noqa: E402


class InterruptAfter(keras.callbacks.Callback):
    """Stops training as Ctrl-C would, once `epochs` epochs have finished: the resume tests' interruption."""

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epochs:
            raise KeyboardInterrupt


def interrupted_then_resumed(module, argv: list, monkeypatch, after: int = 2) -> dict:
    """`module.main(argv)` stopped once `after` epochs have finished, then run again into the same folder:
    the resumed run's metrics."""
    make_callbacks = module.make_callbacks
    monkeypatch.setattr(module, "make_callbacks", lambda *a: make_callbacks(*a) + [InterruptAfter(after)])
    with pytest.raises(KeyboardInterrupt):
        module.main(argv)
    monkeypatch.setattr(module, "make_callbacks", make_callbacks)
    return module.main(argv)


def assert_same_figures(resumed: dict, unbroken: dict):
    """Every per-epoch figure of two runs' histories, all but the wall time, equal (to float32's last digits)."""
    assert len(resumed["history"]) == len(unbroken["history"])
    for ours, theirs in zip(resumed["history"], unbroken["history"]):
        assert ours.keys() == theirs.keys()
        for key in ours.keys() - {"time_s"}:
            assert figure(ours[key]) == pytest.approx(figure(theirs[key]), rel=1e-6, abs=1e-7, nan_ok=True), key


def figure(cell: str) -> float:
    """A history.csv cell as a number; "NA" (a figure undefined that epoch) as NaN, which approx(nan_ok) matches."""
    return float("nan") if cell == "NA" else float(cell)


@pytest.fixture(autouse=True)
def float32_policy():
    """Mixed-precision tests change a global policy; every test starts from float32."""
    keras.mixed_precision.set_global_policy("float32")
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory):
    """Both Not-so-Clevr splits, generated once per test session."""
    out_dir = tmp_path_factory.mktemp("data")
    not_so_clevr.main(["--out-dir", str(out_dir)])
    return out_dir


TINY = {"train": 32, "val": 16}


def documented_counts(builder):
    """The parameter counts a builder's docstring states, in order."""
    return [int(n.replace(",", "")) for n in re.findall(r"([\d,]+) params", builder.__doc__)]


@pytest.fixture(scope="session")
def tiny_data_dir(dataset_dir, tmp_path_factory):
    """32 train / 16 val examples of each split, for one-epoch runs."""
    out_dir = tmp_path_factory.mktemp("tiny")
    for split in not_so_clevr.SPLITS:
        with h5py.File(not_so_clevr.dataset_path(dataset_dir, split), "r") as full, \
                h5py.File(not_so_clevr.dataset_path(out_dir, split), "w") as tiny:
            for key in full:
                tiny.create_dataset(key, data=full[key][:TINY[key.split("_")[0]]])
    return out_dir


CLEVR_COUNT = 300


@pytest.fixture(scope="session")
def clevr_h5(tmp_path_factory):
    """A small Sort-of-Clevr file, generated once per test session."""
    out_dir = tmp_path_factory.mktemp("clevr")
    sort_of_clevr.main(["--out-dir", str(out_dir), "--count", str(CLEVR_COUNT), "--quiet"])
    return sort_of_clevr.dataset_path(out_dir, CLEVR_COUNT)


def check_layer(cls, init_kwargs: dict, input_shape: tuple, expected_output_shape: tuple, tmp_path: Path):
    """The contract every layer configuration keeps, as Keras' own run_layer_test checks it.

    Eager and symbolic calls and compute_output_shape give the expected shape;
    the config and a .keras file round-trip to the same outputs; a training
    step moves every weight; under mixed_float16 the output is float16 and the
    weights stay float32.
    """
    x = np.random.default_rng(0).uniform(-1, 1, input_shape).astype("float32")
    layer = cls(**init_kwargs)
    eager = layer(x)
    assert tuple(eager.shape) == expected_output_shape
    assert tuple(layer.compute_output_shape(input_shape)) == expected_output_shape
    symbolic = cls(**init_kwargs)(keras.Input(input_shape[1:], batch_size=input_shape[0]))
    assert tuple(symbolic.shape) == expected_output_shape

    config = layer.get_config()
    assert cls.from_config(config).get_config() == config
    model = keras.Sequential([keras.Input(input_shape[1:]), cls(**init_kwargs)])
    model.save(tmp_path / "layer.keras")
    np.testing.assert_array_equal(keras.saving.load_model(tmp_path / "layer.keras")(x), model(x))

    if model.trainable_weights:
        before = [w.copy() for w in model.get_weights()]
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, np.ones(expected_output_shape, "float32"), epochs=1, verbose=0)
        assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))

    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        mixed = cls(**init_kwargs)
        assert mixed(x).dtype == "float16" and all(w.dtype == "float32" for w in mixed.weights)
    finally:
        keras.mixed_precision.set_global_policy("float32")
