"""reproduce.py and the sweep scripts, on tiny data and one-epoch budgets."""

import csv
import dataclasses
import json
import re
import shutil
import subprocess

import h5py
import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

from studies import ablation, full_baselines, reproduce
from studies.experiments import as_argv
from lab import backends, runs
from lab.supervised import supervised_training
from conftest import ROOT
from lab.provenance import STAMP_PREFIX
from lab.util import run_cli

PAPER_SWEEP_SIZES = {"deconv_classification": 324, "coordconv_classification": 6, "conv_regression": 9,
                     "coordconv_regression": 2, "deconv_rendering": 648, "coordconv_rendering": 8}


def sweep(*flags):
    return subprocess.run(["bash", "experiment_logs.sh", *flags], cwd=ROOT, capture_output=True, text=True)


def test_dry_run_lists_the_papers_sweep_sizes_per_split():
    result = sweep("--dry-run")
    assert result.returncode == 0, result.stderr
    counts = {(m[0], m[1]): int(m[2]) for m in re.findall(r"^(\w+)\s+(uniform|quadrant)\s+(\d+) runs$",
                                                          result.stdout, re.M)}
    assert counts == {(name, split): size for name, size in PAPER_SWEEP_SIZES.items()
                      for split in ("uniform", "quadrant")}
    commands = [line for line in result.stdout.splitlines() if "train.py" in line]
    assert len(commands) == 2 * sum(PAPER_SWEEP_SIZES.values())
    assert not any("quarant" in line for line in commands)
    assert all(" -sig" in line and "-fs 3" in line for line in commands if "coordconv_rendering" in line)


def test_job_list_has_one_command_per_line(tmp_path):
    result = sweep("--write-list", str(tmp_path / "jobs.txt"), "--sweep", "coordconv_classification")
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "jobs.txt").read_text().splitlines()
    assert len(lines) == 12 and all("train.py" in line for line in lines)


@pytest.mark.parametrize("flags, message", [
    (["--sweep", "resnet"], "unknown sweep resnet"),
    (["--jobs", "0"], "--jobs must be a positive whole number"),
    (["--split", "diagonal"], "unknown split diagonal"),
])
def test_bad_sweep_options_are_one_line_errors(flags, message):
    result = sweep(*flags, "--dry-run")
    assert result.returncode == 2
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("error: ") and message in last_line


@pytest.mark.slow  # the sweep's dry run, in the fast run, parses every command
def test_a_two_run_sweep_runs_and_is_summarised(tmp_path, tiny_data_dir):
    result = sweep("--sweep", "coordconv_regression", "--split", "quadrant", "--epochs", "1",
                   "--results", str(tmp_path), "--data-dir", str(tiny_data_dir), "--jobs", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    with open(tmp_path / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    assert {row["sweep"] for row in rows} == {"coordconv_regression"}
    assert {row["split"] for row in rows} == {"quadrant"}
    assert re.search(r"best coordconv_regression\s+quadrant .*val eucl_dist", result.stdout)


@pytest.mark.slow  # the seeds/splits/only test runs reproduce.py in the fast run
def test_reproduce_with_a_tiny_budget_writes_every_row_and_figure(tmp_path, tiny_data_dir, capsys):
    """Every row and figure, one seed each (the default seeds' bookkeeping is tested below with two)."""
    reproduce.main(["--epochs-scale", "0.01", "--results", str(tmp_path), "--data-dir", str(tiny_data_dir),
                    "--seeds", "0"])
    rows = [line for line in (tmp_path / "table.md").read_text().splitlines() if line.startswith("| ") and
            "---" not in line][1:]
    assert len(rows) == len(reproduce.EXPERIMENTS) * 2
    for experiment in reproduce.EXPERIMENTS:
        for split in reproduce.SPLITS:
            row = next(row for row in rows if f"`{experiment.arch}`" in row and f"| {split} |" in row)
            assert re.search(r"\| \d of 1 \|", row)
    seed_lines = [line for line in (tmp_path / "table.md").read_text().splitlines() if line.startswith("- ")]
    assert [line.count("seed ") for line in seed_lines] == [1] * len(reproduce.EXPERIMENTS) * 2
    for name in ("splits.png", "classification_accuracy_vs_time.png", "quadrant_predictions.png"):
        image = plt.imread(tmp_path / name)
        assert image.ndim == 3 and min(image.shape[:2]) > 100 and image.std() > 0


CHOSEN_RUNS = ["--epochs-scale", "0.01", "--splits", "quadrant", "--seeds", "21", "22"]


@pytest.fixture(scope="module")
def chosen_runs(tiny_data_dir, tmp_path_factory):
    """Three rows of CHOSEN_RUNS, trained with the default --jobs (2: in worker processes)."""
    out = tmp_path_factory.mktemp("chosen")
    reproduce.main([*CHOSEN_RUNS, "--only", "coordconv_classification", "regression",
                    "--results", str(out), "--data-dir", str(tiny_data_dir)])
    return out


def test_seeds_splits_and_only_choose_the_runs_and_results_json_has_every_seed(chosen_runs):
    rows = json.loads((chosen_runs / "results.json").read_text())["rows"]
    assert [(row["arch"], row["split"]) for row in rows] == [
        ("coordconv_classification", "quadrant"), ("coordconv_regressor", "quadrant"), ("conv_regressor", "quadrant")]
    for row in rows:
        assert [seed["seed"] for seed in row["seeds"]] == [21, 22]
        assert row["seeds_generalising"] == sum(seed["generalises"] for seed in row["seeds"])
        assert {"train", "val", "best_val", "best_epoch", "wall_time_s"} <= set(row["seeds"][0])
        assert row["median"]["val"] == pytest.approx(sorted(s["val"] for s in row["seeds"])[0] / 2
                                                     + sorted(s["val"] for s in row["seeds"])[1] / 2)


def test_worker_processes_give_the_figures_of_one_training_at_a_time(chosen_runs, tiny_data_dir, tmp_path):
    reproduce.main([*CHOSEN_RUNS, "--only", "coordconv_regressor", "--results", str(tmp_path),
                    "--data-dir", str(tiny_data_dir), "--jobs", "1"])
    at_once, one_by_one = (json.loads((out / "results.json").read_text()) for out in (chosen_runs, tmp_path))
    assert (at_once["jobs"], one_by_one["jobs"]) == (2, 1)
    assert seed_figures(one_by_one["rows"][0]) == seed_figures(at_once["rows"][1]) != []


def seed_figures(row) -> list:
    """A row's per-seed figures, without what differs between two runs of the same seed (time, folder)."""
    return [{key: value for key, value in seed.items() if key not in ("wall_time_s", "output")}
            for seed in row["seeds"]]


@pytest.mark.parametrize("flags, message", [
    (["--only", "segmentation"], r"'segmentation' is neither a task nor an arch of the table; choose from "
                                 r"classification, .*coordconv_classification"),
    (["--seeds", "1", "two"], r"argument --seeds: invalid int value: 'two'"),
    (["--splits", "diagonal"],
     r"argument --splits: invalid choice: 'diagonal' \(choose from '?uniform'?, '?quadrant'?\)"),
    (["--jobs", "0"], r"argument --jobs/-j: must be > 0, got 0"),
    (["--baselines-full", "--full"], r"--baselines-full sets the budgets and the seed itself: drop --full"),
    (["--baselines-full", "--seeds", "3"], r"--baselines-full sets the budgets and the seed itself"),
    (["--report-only"], r"--report-only reports --baselines-full's runs: add --baselines-full"),
])
def test_bad_reproduce_flags_are_one_line_and_write_nothing(tmp_path, capsys, flags, message):
    assert run_cli(reproduce.main, [*flags, "--results", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and re.search(message, error), error
    assert not (tmp_path / "out").exists()


def test_ablation_runs_its_recipes_adds_to_earlier_calls_and_counts_the_misses(tmp_path, tiny_data_dir):
    for recipe in ("with_r", "paper"):
        ablation.main(["--recipes", recipe, "--seeds", "3", "--epochs", "1", "--results", str(tmp_path),
                       "--data-dir", str(tiny_data_dir)])
    saved = json.loads((tmp_path / "ablation.json").read_text())
    assert [recipe["recipe"] for recipe in saved["recipes"]] == ["paper", "with_r"]
    for run, recipe in zip(saved["runs"], saved["recipes"]):
        assert run["seed"] == 3 and run["generalises"] == (run["val"] >= 0.999)
        assert recipe["misses"] == round((1 - run["val"]) * 16) >= recipe["misses_one_pixel"]
        assert len(recipe["max_abs_offset_px"]) == 1
    assert sum(line.startswith("| ") for line in (tmp_path / "ablation.md").read_text().splitlines()) == 3
    table = (tmp_path / "ablation.md").read_text()
    ablation.main(["--table-only", "--epochs", "1", "--results", str(tmp_path), "--data-dir", str(tiny_data_dir)])
    rewritten = (tmp_path / "ablation.md").read_text()
    assert rewritten.split(STAMP_PREFIX)[0] == table.split(STAMP_PREFIX)[0]  # the same table, another command
    assert f"{STAMP_PREFIX}python -m studies.ablation --table-only --epochs 1 --results {tmp_path}" in rewritten
    assert run_cli(ablation.main, ["--table-only", "--epochs", "2", "--results", str(tmp_path)]) == 2
    config = json.loads((tmp_path / "ablation" / "with_r_seed3" / "config.json").read_text())
    assert config["with_r"] and config["lr"] == 0.005 and config["l2"] == 0.001


def test_ablation_of_another_arch_keeps_its_own_table_and_bar(tmp_path, tiny_data_dir):
    ablation.main(["--arch", "coordconv_regressor", "--recipes", "cosine_warmup_2", "--seeds", "4", "--epochs", "3",
                   "--results", str(tmp_path), "--data-dir", str(tiny_data_dir)])
    saved = json.loads((tmp_path / "ablation_coordconv_regressor.json").read_text())
    (run,) = saved["runs"]
    assert saved["arch"] == "coordconv_regressor" and run["generalises"] == (run["val"] <= 0.5)
    assert "misses" not in saved["recipes"][0] and not (tmp_path / "ablation.json").exists()
    table = (tmp_path / "ablation_coordconv_regressor.md").read_text()
    assert f"seed 4 {run['val']:.2f} (" in table
    run_folder = tmp_path / "ablation_coordconv_regressor" / "cosine_warmup_2_seed4"
    config = json.loads((run_folder / "config.json").read_text())
    assert config["arch"] == "coordconv_regressor" and config["warmup"] == 2 and config["lr"] == 0.01
    assert len(run["onehot_wins_at_init"]) == 2 and all(0 <= share <= 1 for share in run["onehot_wins_at_init"])


def test_the_regressor_diagnosis_starts_from_train_py_s_initial_weights(tmp_path, tiny_data_dir):
    argv = ["--arch", "coordconv_regressor", "--data_h5", str(tiny_data_dir / "rectangle_4_quadrant.h5"),
            "--seed", "5", "-E", "1", "--snapshot-every", "1", "--quiet", "--output", str(tmp_path / "run")]
    supervised_training.main(argv)
    model, inputs = ablation.initial_model(argv)
    with h5py.File(tmp_path / "run" / "evaluation_0000.h5", "r") as h5:
        np.testing.assert_allclose(model.predict(inputs, verbose=0), h5["logits_train"][()], rtol=1e-5, atol=1e-6)


def test_peak_offset_finds_the_sub_pixel_vertex_of_a_parabola():
    columns = np.arange(64)
    profiles = np.stack([-(columns - 10.3) ** 2, -(columns - 40.0) ** 2, -(columns - 62.6) ** 2])
    offsets = ablation.peak_offset(profiles, np.array([10, 41, 62]))
    np.testing.assert_allclose(offsets, [0.3, -1.0, 0.6], atol=1e-9)


@pytest.mark.parametrize("arch", ["coordconv_classification", "coordconv_rendering", "coordconv_regressor"])
def test_the_recipe_is_the_default_and_the_paper_s_flags_are_one_flag_away(arch):
    experiment = next(e for e in reproduce.EXPERIMENTS if e.arch == arch)
    default = reproduce.train_argv(experiment, "quadrant", 0, reproduce.parse_args([]))
    paper = reproduce.train_argv(experiment, "quadrant", 0, reproduce.parse_args(["--paper-recipe"]))
    assert experiment.budget_flags and default == paper + as_argv(experiment.budget_flags)
    assert "--init_scale" not in paper and "--coords_init_scale" not in paper and "--center_l2" not in paper
    assert paper[-2:] == ["--epochs", str(experiment.epochs)]


@pytest.mark.parametrize("change", ["none", "flags", "kernels", "time budget", "moved"])
def test_a_run_folder_is_kept_only_for_the_same_flags_and_software(tmp_path, monkeypatch, change):
    """reproduce.py and the ablation resume a folder or reuse its figures only if they would come out the same;
    a time budget changes how long a run goes on, not its epochs, and a folder trained elsewhere (its config's
    output another path: a committed run copied back) is the same run."""
    out = tmp_path / "run"
    args = supervised_training.parse_args(["--arch", "coordconv_classification", "--output", str(out)])
    out.mkdir()
    runs.write_config(out, args)
    wanted = {**vars(args), "lr": args.lr * (2 if change == "flags" else 1),
              "time_budget": 390.0 if change == "time budget" else args.time_budget,
              "output": "results/elsewhere/run" if change == "moved" else args.output}
    if change == "kernels":
        monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    runs.clear_if_stale(out, wanted)
    assert out.exists() == (change in ("none", "time budget", "moved"))


@pytest.mark.parametrize("argv, jobs", [([], 2), (["--baselines-full"], 1), (["--baselines-full", "--jobs", "12"], 12),
                                        (["--jobs", "1"], 1)])
def test_baselines_full_trains_one_run_at_a_time_unless_jobs_says_otherwise(argv, jobs):
    assert reproduce.parse_args(argv).jobs == jobs


def test_time_budget_reaches_every_training_and_leaves_its_planned_epochs():
    """The GPU protocol's --time-budget: each run stops within it and its table still counts the paper's epochs."""
    args = reproduce.parse_args(["--baselines-full", "--time-budget", "390"])
    for experiment in reproduce.EXPERIMENTS:
        run = supervised_training.parse_args(reproduce.train_argv(experiment, "quadrant", 0, args))
        planned = experiment.epochs if experiment.model == "CoordConv" else experiment.full_flags["epochs"]
        assert run.time_budget == 390 and run.epochs == planned
    unlimited = reproduce.train_argv(reproduce.EXPERIMENTS[0], "quadrant", 0, reproduce.parse_args([]))
    assert supervised_training.parse_args(unlimited).time_budget is None


@pytest.mark.parametrize("value, kept", [("default", True), ("other", False)])
def test_a_flag_added_since_a_run_started_keeps_it_while_the_flag_keeps_its_default(tmp_path, value, kept):
    out = tmp_path / "run"
    argv = ["--arch", "coordconv_classification", "--output", str(out)]
    wanted, defaults = supervised_training.run_flags(argv + (["--init_scale", "0.5"] if value == "other" else []))
    out.mkdir()
    older = {key: saved for key, saved in wanted.items() if key != "init_scale"}  # a config from before the flag
    (out / "config.json").write_text(json.dumps({**older, **backends.software()}))
    runs.clear_if_stale(out, wanted, defaults)
    assert out.exists() == kept


def test_a_shorter_budget_shortens_the_warm_up_and_the_hold_to_leave_an_epoch():
    recipe = {"init_scale": 0.25, "warmup": 2, "hold": 1, "l2": 1}
    assert reproduce.within(4, recipe) == recipe
    assert reproduce.within(2, recipe) == {"init_scale": 0.25, "warmup": 1, "hold": 1, "l2": 1}
    assert reproduce.within(1, recipe) == {"init_scale": 0.25, "warmup": 0, "hold": 0, "l2": 1}
    assert reproduce.within(2, {"hold": 1.75}) == {"hold": 1.75}  # rendering's: a quarter epoch of decay


def test_baselines_full_gives_the_baselines_the_papers_budget_and_coordconv_the_default():
    args = reproduce.parse_args(["--baselines-full"])
    for experiment in reproduce.EXPERIMENTS:
        argv = reproduce.train_argv(experiment, "uniform", 0, args)
        run = supervised_training.parse_args(argv)
        if experiment.model == "CoordConv":
            assert run.epochs == experiment.epochs and "--init_scale" in argv + ["--init_scale"]
        else:
            assert run.epochs == experiment.full_flags["epochs"] and run.epochs in (100, 1000)
            assert run.lrpolicy == ("step" if run.epochs == 1000 else "constant")


def test_baselines_full_trains_each_pair_and_reports_table_ratio_and_curves(tmp_path, tiny_data_dir, monkeypatch,
                                                                            capsys):
    """The regression pair on tiny data, the baseline's paper budget cut to 3 epochs; then --report-only again."""
    shortened = tuple(dataclasses.replace(e, full_flags={"epochs": 3}) for e in reproduce.EXPERIMENTS)
    monkeypatch.setattr(reproduce, "EXPERIMENTS", shortened)
    argv = ["--baselines-full", "--only", "regression", "--splits", "quadrant", "--results", str(tmp_path),
            "--data-dir", str(tiny_data_dir)]
    reproduce.main(argv)
    out = tmp_path / "baselines_full"
    table = (out / "table.md").read_text()
    assert "| regression | quadrant | Conv (`conv_regressor`) | 12,978 | 3 of 3 |" in table
    assert "| regression | quadrant | CoordConv (`coordconv_regressor`) |" in table
    ratio_row = next(line for line in table.splitlines() if line.startswith("| regression | quadrant | ")
                     and line.count("|") == 8)
    assert re.search(r"\| 12,978 / [\d,]+ \([\d.]+×\) \|$", ratio_row)
    image = plt.imread(out / "curves.png")
    assert image.ndim == 3 and image.std() > 0
    capsys.readouterr()
    reproduce.main(argv + ["--report-only"])
    report = (out / "table.md").read_text()
    assert "Epoch 1/" not in capsys.readouterr().out and report.split(STAMP_PREFIX)[0] == table.split(STAMP_PREFIX)[0]


def curve(val, times, task="classification", planned=None):
    experiment = next(e for e in reproduce.EXPERIMENTS if e.task == task)
    return full_baselines.Curve(experiment, "uniform", 1000, planned or len(val), tuple(times), tuple(val), tuple(val))


@pytest.mark.parametrize("coordconv, baseline, ratio", [
    (curve([0.2, 0.9, 1.0], [1, 2, 3]), curve([0.1, 0.5, 0.4], [100, 200, 300]),
     "| 50.0% | 2, 200 s | 2, 2 s | 100× |"),
    (curve([0.2, 0.3], [1, 2]), curve([0.1, 0.5], [100, 200]), "| 50.0% | 2, 200 s | not reached | – |"),
    (curve([9.0, 0.4], [1, 2], "regression"), curve([5.0, 2.0, 3.0], [50, 100, 150], "regression"),
     "| 2.00 | 2, 100 s | 2, 2 s | 50× |"),
    (curve([0.2, 0.9, 1.0], [1, 2, 3]), curve([0.1, 0.5], [100, 200], planned=1000),
     "| 50.0% | 2, 200 s (so far: 2 of 1000 epochs) | 2, 2 s | 100× |"),
])
def test_the_ratio_is_the_baselines_time_to_its_best_val_over_coordconvs_time_to_reach_it(coordconv, baseline, ratio):
    assert ratio in full_baselines.ratio_row(coordconv, baseline)


def test_deconv_selection_trains_cells_on_train_less_the_holdout_and_chooses_on_the_holdout(tmp_path, tiny_data_dir):
    from studies import deconv_selection

    cells = ["model1x_mb16_LR0.002_l2reg0.01_fs3", "model1x_mb16_LR0.002_l2reg0.03_fs3"]
    deconv_selection.main(["--cells", *cells, "-E", "2", "--holdout", "0.25", "--results", str(tmp_path),
                           "--data-dir", str(tiny_data_dir)])
    table = (tmp_path / "table.md").read_text()
    assert f"| `{cells[0]}` | yes | 2 of 2 |" in table and f"| `{cells[1]}` | no | 2 of 2 |" in table
    results = json.loads((tmp_path / "results.json").read_text())
    chosen = max(results["cells"], key=lambda cell: cell["holdout"]["best"])
    assert f"Chosen on the holdout (cell and epoch): `{chosen['cell']}`" in table
    config = json.loads((tmp_path / "runs" / cells[0] / "config.json").read_text())
    assert (config["holdout"], config["l2"], config["lrstepevery"], config["minibatch"]) == (0.25, 0.01, 200, 16)
    coordconv = json.loads((tmp_path / "runs" / "coordconv_classification" / "config.json").read_text())
    assert (coordconv["holdout"], coordconv["epochs"]) == (0.25, 3)
    strongest = max(results["cells"], key=lambda cell: cell["val"]["best"])["cell"]
    assert f"against the cell of the best val, `{strongest}`" in table
    assert "| baseline time / CoordConv time |" in table and "| 104,097 / 7,553 (13.8×) |" in table


def test_deconv_selection_reads_a_finished_cell_without_training_it_again(tmp_path, tiny_data_dir, monkeypatch):
    """A committed cell keeps no backup: training it again would start it from its first epoch."""
    from studies import deconv_selection

    flags = ["-E", "1", "--results", str(tmp_path), "--data-dir", str(tiny_data_dir)]
    cell = "model1x_mb16_LR0.002_l2reg0.01_fs3"
    deconv_selection.main(["--cells", cell, *flags])
    shutil.rmtree(tmp_path / "runs" / cell / "backup")
    monkeypatch.setattr(supervised_training, "main", lambda argv: pytest.fail(f"trained again: {argv}"))
    deconv_selection.main(["--cells", cell, *flags])
    assert f"| `{cell}` | yes | 1 of 1 |" in (tmp_path / "table.md").read_text()


def test_bn_statistics_moves_only_batchnorms_statistics_and_reads_the_runs_val(tmp_path, tiny_data_dir, capsys):
    """The probe of the deconv cells' val swing: the network's weights stay as trained, its moving statistics move."""
    from studies import bn_statistics, deconv_selection

    cell = "model1x_mb16_LR0.002_l2reg0.01_fs3"
    deconv_selection.main(["--cells", cell, "-E", "1", "--results", str(tmp_path), "--data-dir", str(tiny_data_dir)])
    run = tmp_path / "runs" / cell
    network = keras.saving.load_model(run / "net_final.keras", compile=False)
    options = bn_statistics.parse_args([str(run), "--batches", "3", "--every", "1"])
    args, _ = bn_statistics.finished_run(run)
    task, _ = supervised_training.validate(args)
    train, val = supervised_training.load_data(args, task)
    before = [variable.numpy().copy() for variable in network.weights]
    assert len(bn_statistics.drifting(network, args, train, val, options)) == 3
    moved = [(variable.trainable, not np.array_equal(value, variable.numpy()))
             for variable, value in zip(network.weights, before)]
    assert not any(changed for trainable, changed in moved if trainable)  # no weight
    assert any(changed for trainable, changed in moved if not trainable)  # the moving statistics
    capsys.readouterr()
    bn_statistics.main([str(run), "--batches", "2", "--every", "1"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("  logged, its last 1 epochs: ") and "every 1 of 2 training batches" in lines[2]


def test_bn_statistics_of_a_folder_that_is_not_a_finished_run_is_one_line(tmp_path, capsys):
    from studies import bn_statistics

    assert run_cli(bn_statistics.main, [str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "is not a finished train.py run: no" in error, error


def test_a_deconv_selection_cell_has_the_sweeps_flags():
    """The cell's train.py flags are experiment_logs.sh's for the same name, plus the holdout and budget ones."""
    from studies import deconv_selection

    cell = "model3x_mb32_LR0.002_l2reg0.001_fs4"
    listed = subprocess.run(["bash", str(ROOT / "experiment_logs.sh"), "--dry-run", "--sweep", "deconv_classification",
                             "--split", "uniform"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    line = next(line for line in listed.splitlines() if f"-r {cell} " in line or line.endswith(f"/{cell}"))
    sweep = supervised_training.parse_args(line.split(" train.py ", 1)[1].split())
    ours = supervised_training.parse_args(deconv_selection.cell_argv(cell, deconv_selection.parse_args([])))
    for flag in ("arch", "minibatch", "epochs", "lr", "opt", "l2", "channel_mul", "filter_size", "lrpolicy",
                 "lrstepratio", "lrstepevery", "lrmaxsteps"):
        assert getattr(ours, flag) == getattr(sweep, flag), flag
    assert ours.holdout == 0.1
