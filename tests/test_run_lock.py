"""One writer per run folder: a second start stops with one line before writing; a dead run's lock is taken over."""

import os
import subprocess
import sys

import pytest

from studies import ablation
from lab.generative import gan_training
from studies import reproduce, reproduce_detection, reproduce_gan
from lab.supervised import not_so_clevr, supervised_training
from lab.generative import vae_training
from lab.runs import LOCK, locked
from lab.util import run_cli


def training_argv(module, data_dir, out) -> list:
    """Each training script's shortest run into `out` on the tiny Not-so-Clevr files."""
    data_h5 = str(not_so_clevr.dataset_path(data_dir, "uniform"))
    common = ["--data_h5", data_h5, "-mb", "16", "-E", "1", "--output", str(out), "--quiet"]
    if module is supervised_training:
        return ["--arch", "coordconv_regressor", "--evaluation_h5", "none", *common]
    return ["--arch", "simple_gan" if module is gan_training else "simple_vae", "--width", "8", "--z_dim", "4",
            "--metric-samples", "8", *common]


@pytest.mark.parametrize("module", [supervised_training, gan_training, vae_training], ids=lambda m: m.__name__)
def test_a_second_writer_stops_with_one_line_and_writes_nothing(tmp_path, tiny_data_dir, capsys, module):
    out = tmp_path / "run"
    with locked(out):
        assert run_cli(module.main, training_argv(module, tiny_data_dir, out)) == 2
        assert sorted(path.name for path in out.iterdir()) == [LOCK]
    error = capsys.readouterr().err
    assert f"{out} is in use by process {os.getpid()}" in error and error.count("\n") == 1


@pytest.mark.parametrize("module", [reproduce, reproduce_gan, reproduce_detection, ablation],
                         ids=lambda m: m.__name__)
def test_the_studies_lock_their_results_folder(tmp_path, capsys, module):
    with locked(tmp_path):
        assert run_cli(module.main, ["--results", str(tmp_path)]) == 2
    assert f"{tmp_path} is in use by process {os.getpid()}" in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == [LOCK]


def test_a_dead_runs_lock_is_taken_over(tmp_path, tiny_data_dir):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    out = tmp_path / "run"
    out.mkdir()
    (out / LOCK).write_text(dead.stdout)  # what a run killed by SIGKILL leaves: its pid, no lock held
    metrics = supervised_training.main(training_argv(supervised_training, tiny_data_dir, out))
    assert metrics["epochs"] == 1


def test_the_lock_is_released_when_the_run_ends_so_a_rerun_resumes(tmp_path, tiny_data_dir):
    out = tmp_path / "run"
    supervised_training.main(training_argv(supervised_training, tiny_data_dir, out))
    with locked(out):
        assert (out / LOCK).read_text() == f"{os.getpid()}\n"


def test_an_output_that_cannot_be_a_folder_is_one_line(tmp_path, tiny_data_dir, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    argv = training_argv(supervised_training, tiny_data_dir, blocker / "run")
    assert run_cli(supervised_training.main, argv) == 2
    error = capsys.readouterr().err
    assert f"cannot write in {blocker / 'run'}" in error and error.count("\n") == 1
