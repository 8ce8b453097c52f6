"""The VAEs of train_vae.py: the ELBO's terms, every arch for one epoch, resume, bad input."""

import json

import h5py
import numpy as np
import pytest

import model_builders
from lab import archs
from lab.generative import generative, vae_training
from conftest import assert_same_figures, documented_counts, interrupted_then_resumed
from lab.supervised import not_so_clevr
from lab.util import run_cli


def vae_argv(tmp_path, data_h5, *flags, name="run"):
    """One epoch at 1/8 of the DCGAN's width: the plumbing is under test here, not the networks' size."""
    return ["--data_h5", str(data_h5), "-mb", "16", "-E", "1", "--opt", "adam", "-L", "0.001",
            "--z_dim", "4", "--width", "8", "--metric-samples", "8", "--output", str(tmp_path / name), "--quiet",
            *flags]


def squares_h5(tiny_data_dir):
    return not_so_clevr.dataset_path(tiny_data_dir, "uniform")


def tiny_clevr(clevr_h5, tmp_path):
    """40 Sort-of-Clevr images: 36 to train (two batches of 16 and one of 4), 4 held out."""
    with h5py.File(clevr_h5, "r") as full, h5py.File(tmp_path / "tiny.h5", "w") as tiny:
        tiny["train_x"] = full["train_x"][:40]
    return tmp_path / "tiny.h5"


def small_vae(arch="simple_vae", *flags):
    args = vae_training.parse_args(["--arch", arch, "--z_dim", "3", "--width", "4", *flags])
    vae_training.validate(args)
    vae_training.keras.utils.set_random_seed(0)
    return vae_training.build_vae(args, (32, 32, 1))


SLOW_VAE_ARCHS = ("clevr_coordconv_vae",)  # each decoder and each dataset stays in the fast run once


@pytest.mark.parametrize("arch", [pytest.param(arch, marks=[pytest.mark.slow] if arch in SLOW_VAE_ARCHS else [])
                                  for arch in archs.names("train_vae.py")])
def test_every_vae_arch_trains_and_writes_its_outputs(tmp_path, clevr_h5, tiny_data_dir, arch):
    data_h5 = tiny_clevr(clevr_h5, tmp_path) if arch.startswith("clevr") else squares_h5(tiny_data_dir)
    metrics = vae_training.main(vae_argv(tmp_path, data_h5, "--arch", arch))
    out = tmp_path / "run"
    assert metrics["epochs"] == 1 and metrics["data"]["one_of_each"] == 1.0
    history = metrics["history"][0]
    for name in ("loss", "reconstruction", "kl", "val_loss", "val_reconstruction", "val_kl"):
        assert np.isfinite(float(history[name])), name
    assert float(history["kl"]) >= 0.0 and metrics["val"]["loss"] > 0.0
    assert set(metrics["initial"]) == set(generative.FIGURES) == set(metrics["final"])
    assert json.loads((out / "metrics.json").read_text())["arch"] == arch
    for kind in ("samples_bn0", "samples_bn1", "interpolation", "averaged", "reconstructions"):
        for epoch in ("000", "001"):
            assert (out / "fake_images" / f"{kind}_epoch{epoch}.png").stat().st_size > 0
    assert (out / "net_encoder_final.keras").exists() and (out / "net_decoder_final.keras").exists()
    assert json.loads((out / "config.json").read_text())["arch"] == arch
    assert list((out / "tensorboard").rglob("events.out.*"))


def test_the_kl_term_is_the_closed_form_against_the_standard_normal():
    vae = small_vae()
    mean_bias, log_var_bias = 0.5, -1.0
    for name, bias in (("mean", mean_bias), ("log_var", log_var_bias)):
        layer = vae.encoder.get_layer(name)
        layer.set_weights([np.zeros_like(layer.kernel), np.full(layer.bias.shape, bias, np.float32)])
    images = np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, 1)).astype("float32")
    losses = vae.losses_on(images, training=False, noise=vae.noise)
    expected_kl = -0.5 * 3 * (1 + log_var_bias - mean_bias ** 2 - np.exp(log_var_bias))
    np.testing.assert_allclose(float(losses["kl"]), expected_kl, rtol=1e-5)
    assert float(losses["loss"]) == pytest.approx(float(losses["reconstruction"]) + expected_kl, rel=1e-5)


def test_the_reconstruction_term_is_the_bernoulli_log_likelihood_of_the_unit_pixels():
    vae = small_vae()
    images = -np.ones((2, 32, 32, 1), np.float32)
    images[:, 8:17, 8:17] = 1.0  # a white square on black: pixels 0 or 1
    z = vae.encode(images).numpy()
    log_var = vae.encoder.get_layer("log_var")
    log_var.set_weights([np.zeros_like(log_var.kernel), np.full(log_var.bias.shape, -30.0, np.float32)])
    probabilities = (vae(z).numpy() + 1.0) / 2.0  # z is the mean: the posterior has (almost) no spread
    targets = (images + 1.0) / 2.0
    expected = -np.mean(np.sum(targets * np.log(probabilities) + (1 - targets) * np.log(1 - probabilities),
                               axis=(1, 2, 3)))
    reconstruction = vae.losses_on(images, training=False, noise=vae.noise)["reconstruction"]
    np.testing.assert_allclose(float(reconstruction), expected, rtol=1e-4)


def test_both_decoders_end_linear_and_the_same_encoder_feeds_them():
    plain, coordconv = small_vae("simple_vae"), small_vae("simple_coordconv_vae")
    assert plain.decoder.name == "deconv_generator" and coordconv.decoder.name == "coordconv_generator"
    assert all(vae.decoder.layers[-1].activation.__name__ == "linear" for vae in (plain, coordconv))
    assert plain.encoder.count_params() == coordconv.encoder.count_params()
    spec = model_builders.ModelSpec()
    assert model_builders.encoder((64, 64, 1), 16, width=16).count_params() == \
        documented_counts(model_builders.encoder)[0]
    bounded = model_builders.deconv_generator((64, 64, 1), 8, spec, bounded=True, width=8)
    assert bounded.layers[-1].activation.__name__ == "tanh"


def test_interrupted_vae_resumes_to_the_unbroken_runs_figures(tmp_path, tiny_data_dir, monkeypatch, capsys):
    argv = vae_argv(tmp_path, squares_h5(tiny_data_dir), "--arch", "simple_vae", "-E", "3", "-mb", "8")
    argv.remove("--quiet")
    resumed = interrupted_then_resumed(vae_training, argv, monkeypatch)
    printed = capsys.readouterr().out
    assert "Epoch 3/3" in printed and printed.count("Epoch 1/3") == 1
    unbroken = vae_training.main(vae_argv(tmp_path, squares_h5(tiny_data_dir), "--arch", "simple_vae", "-E", "3",
                                          "-mb", "8", name="unbroken"))
    assert [int(row["epoch"]) for row in resumed["history"]] == [0, 1, 2]
    assert_same_figures(resumed, unbroken)
    assert resumed["val"] == pytest.approx(unbroken["val"], rel=1e-6)


def test_the_held_out_elbo_of_the_same_weights_is_the_same_figure(tmp_path, tiny_data_dir):
    args = vae_training.parse_args(vae_argv(tmp_path, squares_h5(tiny_data_dir), "--arch", "simple_vae", "-mb", "2"))
    train_images, held_out = vae_training.load_images(args)
    vae = vae_training.build_vae(args, train_images.shape[1:])
    batches = vae_training.make_dataset(held_out, args.minibatch)
    first, second = (vae.evaluate(batches, verbose=0, return_dict=True) for _ in range(2))
    # the noise-drawn figures are equal; their float32 total (~3,000) may round in another order across threads
    assert (first["reconstruction"], first["kl"]) == (second["reconstruction"], second["kl"])
    assert first["loss"] == pytest.approx(second["loss"], rel=1e-6)


@pytest.mark.slow  # 18 s; as the GAN's seed test. train.py's same-seed test stays in the fast run
def test_same_seed_same_losses(tmp_path, tiny_data_dir):
    runs = [vae_training.main(vae_argv(tmp_path, squares_h5(tiny_data_dir), "--arch", "simple_coordconv_vae",
                                       name=f"run{i}")) for i in range(2)]
    assert runs[0]["history"][0]["loss"] == runs[1]["history"][0]["loss"]


@pytest.mark.parametrize("flags, message", [
    (["--arch", "simple_gan"], "unknown --arch 'simple_gan'; choose one of: simple_vae"),
    (["--arch", "simple_vae", "--beta", "-1"], "--beta must be >= 0, got -1.0"),
    (["--arch", "simple_vae", "--z_dim", "0"], "argument --z_dim: must be > 0, got 0"),
    (["--arch", "clevr_vae", "--data_h5", "missing.h5"], "run python data/sort_of_clevr_generator.py"),
    (["--arch", "simple_vae", "-mb", "100"], "too few for -mb 100"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, tiny_data_dir, capsys, flags, message):
    argv = ["--output", str(tmp_path / "run"), "--data_h5", str(squares_h5(tiny_data_dir)), *flags]
    assert run_cli(vae_training.main, argv) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert not (tmp_path / "run").exists()
