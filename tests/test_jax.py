"""The layer and train.py's models on Keras' JAX backend, in subprocesses where TensorFlow cannot be imported
(as on the GPU machine), against the same models on TensorFlow in this process."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import model_builders
from lab import archs
from conftest import ROOT
from lab.supervised import not_so_clevr

RUNNER = ROOT / "tests" / "without_tensorflow.py"
FAMILIES = ("coordconv_classification", "coordconv_rendering", "coordconv_regressor")
COMPARED = FAMILIES + ("deconv_classification", "deconv_rendering", "conv_regressor", "upsample_coordconv_coords")


def on_jax(*argv, cwd=ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    return subprocess.run([sys.executable, str(RUNNER), *map(str, argv)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.parametrize("arch", [FAMILIES[0]] + [pytest.param(arch, marks=pytest.mark.slow) for arch in FAMILIES[1:]])
def test_one_epoch_of_each_supervised_family_trains_on_jax(tmp_path, tiny_data_dir, arch):
    data_h5 = not_so_clevr.dataset_path(tiny_data_dir, "quadrant")
    ran = on_jax("train.py", "--arch", arch, "-E", "1", "-mb", "16", "-mul", "1", "--data_h5", data_h5,
                 "--output", tmp_path / "run")
    assert ran.returncode == 0, ran.stderr
    assert "no TensorBoard summaries on the jax backend" in ran.stdout and ran.stderr == ""
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and np.isfinite(metrics["final"]["val"]["loss"])
    assert json.loads((tmp_path / "run" / "config.json").read_text())["backend"] == "jax"


GENERATIVE_FLAGS = ("-E", "1", "-mb", "16", "--opt", "adam", "-L", "0.001", "--z_dim", "4", "--width", "8",
                    "--metric-samples", "8")


@pytest.mark.parametrize("script, arch", [
    pytest.param("train_gan.py", "simple_coordconv_in_g", marks=pytest.mark.slow),  # the next test runs its step
    pytest.param("train_vae.py", "simple_coordconv_vae", marks=pytest.mark.slow)])  # a minute: the same machinery
def test_one_epoch_of_the_gan_and_the_vae_trains_on_jax(tmp_path, tiny_data_dir, script, arch):
    data_h5 = not_so_clevr.dataset_path(tiny_data_dir, "uniform")
    ran = on_jax(script, "--arch", arch, *GENERATIVE_FLAGS, "--data_h5", data_h5, "--output", tmp_path / "run")
    assert ran.returncode == 0 and ran.stderr == "", ran.stderr
    history = json.loads((tmp_path / "run" / "metrics.json").read_text())["history"]
    assert len(history) == 1 and np.isfinite(float(history[0]["loss" if "vae" in arch else "g_loss"]))
    assert (tmp_path / "run" / "fake_images" / "samples_bn0_epoch001.png").exists()


GAN_STEP = """
import sys
sys.path.insert(0, {root!r})
from lab import backends
import numpy as np
from lab.generative import gan_training
from lab.batches import fit_in_order
args = gan_training.parse_args({argv!r})
images = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 3)).astype("uint8")
gan = gan_training.build_gan(args, images.shape[1:])
if backends.is_tensorflow():
    gan.save_weights({folder!r} + "/start.weights.h5")
else:
    gan.load_weights({folder!r} + "/start.weights.h5")
state = gan.trainable_variables + gan.non_trainable_variables + gan.optimizer.variables
np.savez({folder!r} + f"/{{backends.NAME}}_before.npz", *[np.asarray(variable.value) for variable in state])
fit_in_order(gan, gan_training.make_dataset(images, args), [], epochs=1, verbose=0)
np.savez({folder!r} + f"/{{backends.NAME}}.npz", *[np.asarray(variable.value) for variable in state])
"""


@pytest.mark.slow  # 32 s: a GAN built and stepped in two processes, one per backend
def test_one_gan_step_moves_every_weight_and_statistic_alike_on_jax_and_tensorflow(tmp_path):
    """The step's one code (runs.TrackedSteps): a discriminator step and two generator steps, feature matching,
    BatchNorm statistics moved once, both optimizers' slots; from the same weights and z, equal to 1e-4 (once in
    five runs a weight differed by more than 1e-5: the backends' kernels sum in other orders, and a 4-image
    BatchNorm divides by small variances)."""
    argv = ["--arch", "simple_coordconv_in_gd", "-mb", "4", "--width", "8", "--z_dim", "4", "--pairedz", "-fm",
            "--opt", "sgd", "-L", "0.01", "--lr2", "0.02"]
    (tmp_path / "step.py").write_text(GAN_STEP.format(root=str(ROOT), argv=argv, folder=str(tmp_path)))
    for ran in (subprocess.run([sys.executable, str(tmp_path / "step.py")], capture_output=True, text=True),
                on_jax(tmp_path / "step.py")):
        assert ran.returncode == 0, ran.stderr
    before, on_tensorflow, on_jax_ = (np.load(tmp_path / f"{name}.npz") for name in ("jax_before", "tensorflow", "jax"))
    moved = [name for name in before.files if not np.array_equal(before[name], on_tensorflow[name])]
    assert len(before.files) > 60 and len(moved) > 0.9 * len(before.files)
    for name in before.files:
        np.testing.assert_allclose(on_jax_[name], on_tensorflow[name], rtol=1e-4, atol=1e-4, err_msg=name)


JAX_SIDE = """
import sys
sys.path.insert(0, {root!r})
from lab import backends
import keras
import numpy as np
import model_builders  # noqa: F401  registers the builders' layers
folder = {folder!r}
for name in {archs!r}:
    model = keras.saving.load_model(f"{{folder}}/{{name}}_tf.keras")
    outputs = keras.tree.flatten(model.predict(np.load(f"{{folder}}/{{name}}_x.npy"), verbose=0))
    np.savez(f"{{folder}}/{{name}}_jax.npz", *outputs)
    model.save(f"{{folder}}/{{name}}_jax.keras")
print(backends.NAME)
"""


def test_the_same_weights_give_the_same_outputs_on_jax_and_tensorflow_and_keras_files_cross(tmp_path):
    """Saved here on TensorFlow, loaded and run on JAX, saved there and loaded back here: outputs equal to 1e-4."""
    expected = {}
    spec = model_builders.ModelSpec(x_dim=64, y_dim=64, mul=1)
    for name in COMPARED:
        keras.utils.set_random_seed(0)
        model = archs.ARCHS[name].build(spec)
        x = np.random.default_rng(0).uniform(0, 1, (2, *model.input_shape[1:])).astype("float32")
        np.save(tmp_path / f"{name}_x.npy", x)
        model.save(tmp_path / f"{name}_tf.keras")
        expected[name] = keras.tree.flatten(model.predict(x, verbose=0))
    (tmp_path / "jax_side.py").write_text(JAX_SIDE.format(root=str(ROOT), folder=str(tmp_path), archs=COMPARED))
    ran = on_jax(tmp_path / "jax_side.py")
    assert ran.returncode == 0 and ran.stdout.strip() == "jax", ran.stderr
    for name in COMPARED:
        on_jax_outputs = np.load(tmp_path / f"{name}_jax.npz")
        loaded_back = keras.saving.load_model(tmp_path / f"{name}_jax.keras")
        back_outputs = keras.tree.flatten(loaded_back.predict(np.load(tmp_path / f"{name}_x.npy"), verbose=0))
        for index, want in enumerate(expected[name]):
            np.testing.assert_allclose(on_jax_outputs[f"arr_{index}"], want, rtol=1e-4, atol=1e-4, err_msg=name)
            np.testing.assert_allclose(back_outputs[index], want, rtol=1e-4, atol=1e-4, err_msg=name)


def test_the_layers_doctests_run_on_jax():
    ran = on_jax("-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--doctest-modules", "CoordConv.py")
    assert ran.returncode == 0, ran.stdout + ran.stderr


@pytest.mark.parametrize("backend, argv, message", [
    ("torch", ["train.py", "--arch", "coordconv_classification"],
     "the Keras backend 'torch' is not installed (No module named 'torch'): pip install torch"),
    ("jax", ["train.py", "--arch", "coordconv_classification", "--strategy", "mirrored"],
     "--strategy mirrored needs the TensorFlow backend; KERAS_BACKEND is jax"),
    ("jax", ["train_detection.py", "--arch", "rpn_sampler"], "train_detection.py runs on the TensorFlow backend only"),
])
def test_a_backend_that_cannot_run_it_is_one_line_and_exit_2(backend, argv, message):
    env = {**os.environ, "KERAS_BACKEND": backend}
    ran = subprocess.run([sys.executable, str(RUNNER), *argv], cwd=ROOT, env=env, capture_output=True, text=True)
    assert ran.returncode == 2 and message in ran.stderr and ran.stderr.count("\n") == 1, ran.stderr
