#!/usr/bin/env python3
"""Reproduces the paper's §4 table and figures: every supervised task, both splits.

    python reproduce.py            # a CPU budget of about 15 minutes
    python reproduce.py --full     # the paper's epochs (hours on a CPU)

For classification, rendering and regression it trains the CoordConv model
and its convolutional baseline on the uniform and the quadrant split, then
writes results/table.md and PNG figures under results/. Runs live in
results/runs/<task>_<split>_<arch>; rerunning resumes them where they stopped.
"""

import dataclasses
import json
import shutil
import sys
import time
from pathlib import Path

import h5py
import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import train  # noqa: E402
from data import not_so_clevr_generator as generator  # noqa: E402
from util import Parser, positive, run_cli  # noqa: E402

SPLITS = ("uniform", "quadrant")
ABSTRACT_CLAIM = ("CoordConv \"solves the coordinate transform problem with perfect generalization and 150 "
                  "times faster with 10--100 times fewer parameters than convolution\" (abstract)")


@dataclasses.dataclass(frozen=True)
class Experiment:
    task: str
    model: str
    arch: str
    flags: tuple  # hyper-parameters shared by both budgets
    epochs: int  # the default CPU budget
    full_flags: tuple  # the paper's epochs and LR schedule (experiment_logs.sh)
    paper: str  # the paper's figure or claim for this row
    seeds: int = 1  # init-sensitive models: train this many seeds, report the best, as a sweep would
    schedule: tuple = ()  # the default budget's LR schedule: its few epochs end on a lower LR


@dataclasses.dataclass(frozen=True)
class Result:
    """One table row: an experiment on a split, with its run per seed."""
    experiment: Experiment
    split: str
    runs: tuple

    @property
    def best(self) -> dict:
        """The run with the best validation figure, like the best run of a sweep; ties go to the better final val."""
        sign = 1 if self.task.best_mode == "max" else -1
        return max(self.runs, key=lambda run: (sign * run["best_val"]["value"],
                                               sign * metric_value(self.experiment, run, "val")))

    @property
    def task(self):
        return train.tasks.TASK_OF_ARCH[self.experiment.arch]


EXPERIMENTS = (
    Experiment("classification", "CoordConv", "coordconv_classification",
               ("-mb", "16", "-L", "0.005", "--opt", "adam", "-mul", "1", "-fs", "1"), 4,
               ("-E", "50"), "100% test accuracy on both splits (§4.1)", seeds=3,
               schedule=("--lrpolicy", "step", "--lrstepevery", "3")),
    Experiment("classification", "Deconv", "deconv_classification",
               ("-mb", "32", "-L", "0.002", "--opt", "adam", "-mul", "1", "-fs", "3"), 30,
               ("-E", "1000", "--lrpolicy", "step", "--lrstepevery", "200", "--lrmaxsteps", "4"),
               "best test accuracy ~86% on uniform, ~0% on quadrant, train accuracy far higher (§4.1)"),
    Experiment("rendering", "CoordConv", "coordconv_rendering",
               ("-mb", "16", "-L", "0.005", "--opt", "adam", "-mul", "1", "-fs", "3", "-sig", "-interm", "softmax"),
               4, ("-E", "50"), "high test IoU on both splits (§4.3)", seeds=3,
               schedule=("--lrpolicy", "step", "--lrstepevery", "3")),
    Experiment("rendering", "Deconv", "deconv_rendering",
               ("-mb", "32", "-L", "0.002", "--opt", "adam", "-mul", "1", "-fs", "3", "-sig"), 20,
               ("-E", "1000", "--lrpolicy", "step", "--lrstepevery", "200", "--lrmaxsteps", "4"),
               "fits train, generalises poorly on quadrant (§4.3)"),
    Experiment("regression", "CoordConv", "coordconv_regressor",
               ("-mb", "32", "-L", "0.01", "--opt", "adam", "--l2", "0.00001"), 8,
               ("-E", "100"), "near-perfect on both splits (§4.2)", seeds=3,
               schedule=("--lrpolicy", "step", "--lrstepevery", "4")),
    Experiment("regression", "Conv", "conv_regressor",
               ("-mb", "32", "-L", "0.001", "--opt", "adam", "--l2", "0.0001", "-mul", "1"), 10,
               ("-E", "100"), "fails to generalise to the held-out quadrant (§4.2)", seeds=3),
)

METRIC_LABEL = {"classification": "accuracy", "rendering": "IoU", "regression": "error (px)"}


def parse_args(argv=None):
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the paper's epochs instead of the CPU budget")
    parser.add_argument("--epochs-scale", type=positive(float), default=1.0,
                        help="multiply the default budget's epochs (e.g. 0.1 for a smoke test)")
    parser.add_argument("--results", default="results", help="output folder")
    parser.add_argument("--data-dir", default="data", help="folder of the Not-so-Clevr .h5 files")
    parser.add_argument("--only", nargs="+", choices=sorted({e.task for e in EXPERIMENTS}),
                        help="run only these tasks")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def train_argv(experiment, split, seed, args) -> list:
    epochs = ("-E", str(max(1, round(experiment.epochs * args.epochs_scale))))
    budget = experiment.full_flags if args.full else (*epochs, *experiment.schedule)
    return ["--arch", experiment.arch, "--data_h5", str(data_path(args, split)), "--seed", str(seed),
            "--quiet", "--output", str(run_dir(args, experiment, split, seed)), *experiment.flags, *budget]


def data_path(args, split) -> Path:
    return generator.dataset_path(args.data_dir, split)


def run_dir(args, experiment, split, seed) -> Path:
    return Path(args.results) / "runs" / f"{experiment.task}_{split}_{experiment.arch}_seed{seed}"


def clear_if_stale(out: Path, argv: list):
    """A run folder trained with other flags cannot be resumed: start it again."""
    config_path = out / "config.json"
    if not config_path.exists():
        return
    wanted = vars(train.parse_args(argv))
    saved = json.loads(config_path.read_text())
    if any(saved.get(key) != value for key, value in wanted.items()):
        shutil.rmtree(out)


def ensure_data(args):
    missing = [split for split in SPLITS if not data_path(args, split).exists()]
    if missing:
        generator.main(["--out-dir", args.data_dir, "--splits", *missing])


def run_all(args) -> list:
    chosen = [e for e in EXPERIMENTS if not args.only or e.task in args.only]
    jobs = [(e, s) for s in SPLITS for e in chosen]
    progress = keras.utils.Progbar(len(jobs), unit_name="run")
    results = []
    for done, (experiment, split) in enumerate(jobs):
        runs = tuple(train_one(experiment, split, args.seed + offset, args) for offset in range(experiment.seeds))
        results.append(Result(experiment, split, runs))
        progress.update(done + 1)
    return results


def train_one(experiment, split, seed, args) -> dict:
    argv = train_argv(experiment, split, seed, args)
    clear_if_stale(run_dir(args, experiment, split, seed), argv)
    keras.backend.clear_session()
    metrics = train.main(argv)
    print("\n" + train.summary_line(train.tasks.TASK_OF_ARCH[experiment.arch], metrics) + f", seed {seed}")
    return metrics


def metric_value(experiment, metrics, part) -> float:
    values = metrics["final"][part]
    return values[train.tasks.TASK_OF_ARCH[experiment.arch].metric_key(values)]


def formatted(experiment, value) -> str:
    if experiment.task == "classification":
        return f"{100 * value:.1f}%"
    return f"{value:.3f}" if experiment.task == "rendering" else f"{value:.2f}"


def table(results) -> str:
    header = ("| task | split | model | params | train | val | best val (epoch) | time to best | paper |\n"
              "|---|---|---|---:|---:|---:|---:|---:|---|\n")
    rows = "\n".join(table_row(result) for result in results)
    return header + rows + f"\n\nThe paper's headline: {ABSTRACT_CLAIM}.\n" + seeds_note(results)


def table_row(result) -> str:
    experiment, metrics = result.experiment, result.best
    best = metrics["best_val"]
    seeds = f", best of {experiment.seeds} seeds" if experiment.seeds > 1 else ""
    cells = [f"{experiment.task} ({METRIC_LABEL[experiment.task]})", result.split,
             f"{experiment.model} (`{experiment.arch}`{seeds})", f"{metrics['params']:,}",
             formatted(experiment, metric_value(experiment, metrics, "train")),
             formatted(experiment, metric_value(experiment, metrics, "val")),
             f"{formatted(experiment, best['value'])} ({best['epoch']})", f"{best['time_s']:.0f} s", experiment.paper]
    return "| " + " | ".join(cells) + " |"


def seeds_note(results) -> str:
    """Every seed's figures for the rows that report the best of several, so the spread is on record."""
    lines = [f"- {r.experiment.model} {r.experiment.task}, {r.split}: "
             + "; ".join(f"seed {run['seed']} val {formatted(r.experiment, metric_value(r.experiment, run, 'val'))}"
                         f" (best {formatted(r.experiment, run['best_val']['value'])})" for run in r.runs)
             for r in results if len(r.runs) > 1]
    if not lines:
        return ""
    return "\nEvery seed of the best-of-N rows (final val, best val):\n\n" + "\n".join(lines) + "\n"


def plot_splits(args, path: Path):
    figure, axes = plt.subplots(1, 2, figsize=(8, 4))
    for axis, split in zip(axes, SPLITS):
        with h5py.File(data_path(args, split), "r") as h5:
            for part, colour in (("train", "tab:blue"), ("val", "tab:orange")):
                x, y = h5[f"{part}_locations"][()].T
                axis.scatter(x, y, s=2, c=colour, label=f"{part} ({len(x)})")
        axis.set(title=f"{split} split", xlim=(0, 63), ylim=(63, 0), aspect="equal", xlabel="x", ylabel="y")
        axis.legend(loc="lower left", fontsize=8)
    save(figure, path)


def plot_accuracy_vs_time(results, path: Path):
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
    for axis, split in zip(axes, SPLITS):
        for result in results:
            if result.experiment.task == "classification" and result.split == split:
                history = result.best["history"]
                times = [float(row["time_s"]) for row in history]
                accuracy = [100 * float(row["val_accuracy"]) for row in history]
                axis.plot(times, accuracy, marker="o", label=result.experiment.model)
        axis.set(title=f"classification, {split} split", xlabel="wall time (s)", ylim=(-3, 103))
        axis.legend()
    axes[0].set_ylabel("validation accuracy (%)")
    save(figure, path)


def plot_quadrant_predictions(args, results, path: Path, columns=6):
    """Targets and each model's output on held-out quadrant examples."""
    runs = [(r.experiment, r.best) for r in results
            if r.split == "quadrant" and r.experiment.task in ("classification", "rendering")]
    with h5py.File(data_path(args, "quadrant"), "r") as h5:
        picks = np.linspace(0, len(h5["val_locations"]) - 1, columns).astype(int)
        rows = [("target one-hot", h5["val_onehots"][()][picks]), ("target square", h5["val_imagegray"][()][picks])]
    for experiment, metrics in runs:
        with h5py.File(Path(metrics["output"]) / "predictions.h5", "r") as h5:
            key = "val_pred" if "val_pred" in h5 else "val_image"
            rows.append((f"{experiment.model} {experiment.task}", as_picture(experiment, h5[key][()][picks])))
    figure, axes = plt.subplots(len(rows), columns, figsize=(1.6 * columns, 1.6 * len(rows)))
    for row, (label, images) in enumerate(rows):
        for column in range(columns):
            axes[row, column].imshow(images[column, ..., 0], cmap="magma")
            axes[row, column].set_xticks([])
            axes[row, column].set_yticks([])
        axes[row, 0].set_ylabel(label, fontsize=7)
    save(figure, path)


def as_picture(experiment, logits):
    """Softmax heatmaps for classification, sigmoid images for rendering."""
    if experiment.task == "rendering":
        return 1 / (1 + np.exp(-logits))
    flat = logits.reshape(len(logits), -1)
    flat = np.exp(flat - flat.max(axis=1, keepdims=True))
    return (flat / flat.sum(axis=1, keepdims=True)).reshape(logits.shape)


def save(figure, path: Path):
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    ensure_data(args)
    results = run_all(args)
    out = Path(args.results)
    (out / "table.md").write_text(table(results))
    plot_splits(args, out / "splits.png")
    if any(r.experiment.task == "classification" for r in results):
        plot_accuracy_vs_time(results, out / "classification_accuracy_vs_time.png")
    plot_quadrant_predictions(args, results, out / "quadrant_predictions.png")
    print(f"\nwrote {out / 'table.md'} and figures in {time.perf_counter() - start:.0f} s\n")
    print((out / "table.md").read_text())


if __name__ == "__main__":
    sys.exit(run_cli(main))
