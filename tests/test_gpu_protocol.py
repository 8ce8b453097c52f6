"""gpu/run.sh, the GPU machine's protocol, end to end at a tiny size on this CPU, where TensorFlow cannot be
imported (as there); and its bad input."""

import csv
import json
import re
import subprocess
import sys

import pytest

from conftest import ROOT

RUN = ROOT / "gpu" / "run.sh"


def run_protocol(*argv, **env) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT), **env}
    return subprocess.run(["bash", str(RUN), *map(str, argv)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=1200)


@pytest.mark.slow  # 3 minutes on a core: tiny A2C runs, a regression pair's first epochs, the layer benchmark
def test_the_smoke_run_writes_every_figure_on_jax_without_tensorflow(tmp_path):
    runner = f"{sys.executable} {ROOT / 'tests' / 'without_tensorflow.py'}"
    ran = run_protocol(tmp_path / "out", "--smoke", PYTHON=runner)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr
    out = tmp_path / "out"
    log = (out / "log.txt").read_text()
    assert "on jax" in log and log.rstrip().endswith(f"done: {out}")
    rl_table = (out / "rl" / "table.md").read_text()
    assert rl_table.count("| ms_pacman | a2c_") == 2 and (out / "rl" / "returns.png").exists()
    assert json.loads((out / "rl" / "runs" / "ms_pacman_a2c_coordconv_seed0" / "config.json").read_text())[
        "backend"] == "jax"
    table = (out / "baselines_full" / "table.md").read_text()  # each run cut to one epoch by its 1 s budget
    assert "| regression | quadrant | Conv (`conv_regressor`) | 12,978 | 1 of 100 |" in table
    assert "(so far: 1 of 100 epochs)" in table and (out / "baselines_full" / "curves.png").exists()
    assert json.loads((out / "baselines_full" / "runs" / "regression_quadrant_conv_regressor_seed0" /
                       "config.json").read_text())["backend"] == "jax"
    assert "forward+backward on jax (CPU)" in log and log.count("jax.jit ") == 4


@pytest.mark.parametrize("argv, message", [((), "usage: bash gpu/run.sh OUT_DIR [--smoke]"),
                                           (("out", "--fast"), "the second argument can only be --smoke, got --fast")])
def test_bad_arguments_are_one_line_and_a_failure(tmp_path, argv, message):
    ran = run_protocol(*argv)
    assert ran.returncode != 0 and message in ran.stderr and ran.stderr.count("\n") == 1, ran.stderr


def test_without_keras_or_its_wheels_it_says_how_to_get_them(tmp_path):
    """A Python without Keras (the system's) and no wheels: the one line names make gpu-wheels."""
    ran = run_protocol(tmp_path / "out", PYTHON="/usr/bin/python3", WHEELS=str(tmp_path / "none"))
    assert ran.returncode == 2 and "run make gpu-wheels here and carry .whl" in ran.stderr, ran.stderr
    assert ran.stderr.count("\n") == 1


def test_the_deconv_cells_probe_names_fourteen_cells_of_the_papers_sweep():
    """gpu/deconv_cells.sh picks its cells by name out of experiment_logs.sh's list: a name the sweep does not
    hold would silently drop a cell."""
    script = (ROOT / "gpu" / "deconv_cells.sh").read_text()
    cells = re.search(r'CELLS="([^"]+)"', script).group(1).split()
    listed = subprocess.run(["bash", str(ROOT / "experiment_logs.sh"), "--dry-run", "--sweep", "deconv_classification",
                             "--split", "uniform"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    names = set(re.findall(r"(?:-r |--output \S+/)(model\S+)", listed))
    assert len(cells) == len(set(cells)) == 14 and set(cells) <= names and len(names) == 324


SCALE = ROOT / "gpu" / "gan_scale.sh"


@pytest.mark.slow  # 3 minutes on a core: two calls of two tiny GANs
def test_the_gan_scale_protocol_carries_both_runs_into_a_second_call_on_jax(tmp_path):
    runner = f"{sys.executable} {ROOT / 'tests' / 'without_tensorflow.py'}"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT), "PYTHON": runner}
    first = subprocess.run(["bash", str(SCALE), str(tmp_path / "first"), "--smoke"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=1200)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr
    parts = tmp_path / "first" / "parts"
    assert sorted(path.name for path in parts.glob("*.manifest.json")) == [
        "clevr_coordconv_in_gd.manifest.json", "clevr_gan.manifest.json"]
    second = subprocess.run(["bash", str(SCALE), str(tmp_path / "second"), "--smoke", str(parts)], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=1200)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr
    for arch in ("clevr_gan", "clevr_coordconv_in_gd"):
        with open(tmp_path / "second" / "runs" / arch / "history.csv") as history:
            assert [row["epoch"] for row in csv.DictReader(history)] == ["0", "1"]
    assert "| clevr_coordconv_in_gd | 2 |" in (tmp_path / "second" / "runs" / "table.md").read_text()
    assert not (tmp_path / "second" / "parts").exists()  # both finished: nothing to carry
    listed = subprocess.run(["tar", "-tf", str(tmp_path / "second" / "results.tar")], capture_output=True,
                            text=True, check=True).stdout.split()
    assert "runs/side_by_side.png" in listed and "runs/clevr_gan/history.csv" in listed


def test_gan_scale_refuses_parts_that_are_not_a_folder(tmp_path):
    ran = subprocess.run(["bash", str(SCALE), str(tmp_path / "out"), str(tmp_path / "missing")], cwd=ROOT,
                         capture_output=True, text=True)
    assert ran.returncode == 2 and "is not a folder (a previous call's OUT/parts)" in ran.stderr
    assert ran.stderr.count("\n") == 1
