"""The layer as other projects get it: installed by pip, exported to TFLite and SavedModel."""

import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from CoordConv import CoordConv2D

ROOT = Path(__file__).resolve().parent.parent


def test_pip_installs_the_layer_module_with_keras_and_numpy_as_its_only_dependencies(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (source / "docs").mkdir()
    for name in ("pyproject.toml", "CoordConv.py", "docs/package.md"):
        shutil.copy(ROOT / name, source / name)
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(site), str(source)], check=True)
    assert (site / "CoordConv.py").read_text() == (ROOT / "CoordConv.py").read_text()
    metadata = next(site.glob("coordconv_keras-*.dist-info")).joinpath("METADATA").read_text()
    requirements = sorted(line.split(":", 1)[1].split(">")[0].split("<")[0].strip()
                          for line in metadata.splitlines() if line.startswith("Requires-Dist:"))
    assert requirements == ["keras", "numpy"]
    assert "License: Apache-2.0" in metadata.splitlines()
    imported = subprocess.run([sys.executable, "-c", "import CoordConv; print(CoordConv.__file__)"],
                              cwd=tmp_path, env={"PYTHONPATH": str(site), "TF_CPP_MIN_LOG_LEVEL": "3"},
                              capture_output=True, text=True, check=True)
    assert Path(imported.stdout.strip()).parent == site


def small_model(spatial):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((*spatial, 3))
    x = CoordConv2D(8, 3, padding="same", with_r=True, activation="relu")(inputs)
    x = CoordConv2D(4, 3, strides=2, padding="same")(x)
    return keras.Model(inputs, x)


def export_batches(spatial):
    sizes = [(12, 10), (7, 16)] if spatial == (None, None) else [spatial]
    return [np.random.default_rng(1).normal(size=(2, *size, 3)).astype("float32") for size in sizes]


@pytest.mark.parametrize("spatial", [(12, 10), (None, None)], ids=["static", "dynamic"])
def test_tflite_conversion_matches_keras(spatial):
    model = small_model(spatial)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    interpreter = tf.lite.Interpreter(model_content=converter.convert())
    for x in export_batches(spatial):
        input_index = interpreter.get_input_details()[0]["index"]
        interpreter.resize_tensor_input(input_index, x.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(input_index, x)
        interpreter.invoke()
        got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
        np.testing.assert_allclose(got, model(x), atol=1e-5)


@pytest.mark.parametrize("spatial", [(12, 10), (None, None)], ids=["static", "dynamic"])
def test_model_export_matches_keras(spatial, tmp_path):
    model = small_model(spatial)
    model.export(tmp_path / "exported", format="tf_saved_model")  # its printout is captured by pytest
    exported = tf.saved_model.load(str(tmp_path / "exported"))  # kept: .serve needs its variables alive
    for x in export_batches(spatial):
        np.testing.assert_allclose(exported.serve(x), model(x), atol=1e-5)
