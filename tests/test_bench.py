"""The benchmark scripts run and print their tables (no timing is asserted: machines are noisy)."""

import subprocess
import sys

import numpy as np
import pytest

import model_builders
from bench import data as bench_data
from bench.forms import concatenation_builders
from conftest import ROOT
from CoordConv import CoordConv2D


def test_bench_data_prints_a_row_per_generator_step(monkeypatch, capsys):
    monkeypatch.setattr(bench_data, "CLEVR_COUNT", 200)
    monkeypatch.setattr(sys, "argv", ["bench.data", "--repeats", "1"])
    bench_data.main()
    rows = capsys.readouterr().out.strip().splitlines()[1:]
    assert [row.split()[:2] for row in rows] == [["not-so-clevr", "render"], ["not-so-clevr", "write"],
                                                 ["sort-of-clevr", "render"], ["sort-of-clevr", "write"]]
    assert all(float(row.split()[-1]) > 0 for row in rows)


@pytest.mark.parametrize("arch", ["coordconv_classification", "coordconv_regressor", "upsample_coordconv_coords"])
def test_builders_in_the_concatenation_form_compute_the_same_function(arch):
    """bench/forms.py's baseline is the same network as shipped: same parameters, same outputs."""
    spec = model_builders.ModelSpec(mul=1)
    split = getattr(model_builders, arch)(spec)
    with concatenation_builders():
        concatenated = getattr(model_builders, arch)(spec)
    assert split.count_params() == concatenated.count_params()
    assert not any(isinstance(layer, CoordConv2D) for layer in concatenated._flatten_layers())
    concatenated.set_weights(split.get_weights())
    inputs = np.random.default_rng(0).uniform(0, 63, size=(4, *split.input_shape[1:])).astype("float32")
    np.testing.assert_allclose(concatenated(inputs), split(inputs), rtol=1e-4, atol=1e-4)


def test_gan_generator_in_the_concatenation_form_computes_the_same_function():
    spec = model_builders.ModelSpec()
    split = model_builders.coordconv_generator((32, 32, 3), 16, spec, bounded=False)
    with concatenation_builders():
        concatenated = model_builders.coordconv_generator((32, 32, 3), 16, spec, bounded=False)
    concatenated.set_weights(split.get_weights())
    z = np.random.default_rng(0).uniform(-1, 1, size=(3, 16)).astype("float32")
    np.testing.assert_allclose(concatenated(z), split(z), rtol=1e-4, atol=1e-4)


@pytest.mark.slow  # three processes load TensorFlow: about 30 s
def test_bench_kernels_prints_a_ratio_per_arch(tiny_data_dir):
    printed = subprocess.run([sys.executable, "-m", "bench.kernels", "--repeats", "1", "--rounds", "1",
                              "--archs", "coordconv_regressor", "--data-dir", str(tiny_data_dir)],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    header, row = printed.strip().splitlines()
    assert header.split() == ["arch", "eigen", "ms", "oneDNN", "ms", "speed-up"]
    assert row.split()[0] == "coordconv_regressor" and row.endswith("x")


@pytest.mark.slow  # compiles four models on each backend, about a minute
def test_bench_backends_prints_tensorflow_and_jax_side_by_side(tiny_data_dir):
    ran = subprocess.run([sys.executable, "-m", "bench.backends", "--repeats", "1", "--data-dir", str(tiny_data_dir)],
                         cwd=ROOT, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    rows = ran.stdout.strip().splitlines()[1:]
    assert [row.split()[0] for row in rows] == ["coordconv_classification", "deconv_classification",
                                                "coordconv_rendering", "coordconv_regressor"]
    assert all(float(row.split()[1]) > 0 and float(row.split()[2]) > 0 for row in rows)


@pytest.mark.slow  # a minute: a child process per backend, six small GANs each
def test_bench_steps_prints_the_gan_rows_on_both_backends():
    ran = subprocess.run([sys.executable, "-m", "bench.steps", "--gan-only", "--gan-width", "4", "--gan-steps", "2"],
                         cwd=ROOT, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    rows = ran.stdout.strip().splitlines()[2:]
    assert len(rows) == 6 and all(row.split()[-2].endswith("x") for row in rows)
    assert sum("mixed_bfloat16" in row for row in rows) == 2
