"""Reproduces the paper's §4 table and figures: every supervised task, both splits.

    python reproduce.py            # the CPU budget: about 11 minutes on 2 cores (docs/results.md)
    python reproduce.py --full     # the paper's epochs (hours on a CPU)
    python reproduce.py --paper-recipe   # the same budget with the paper's flags only
    python reproduce.py --only coordconv_classification --splits quadrant --seeds 21 22 23
    python reproduce.py --jobs 1   # one training at a time (the default trains two at once)
    python reproduce.py --baselines-full   # the baselines at the paper's budget and the "150x" ratio (hours)

For classification, rendering and regression it trains the CoordConv model
and its convolutional baseline on the uniform and the quadrant split, over
several seeds, then writes results/table.md (per row: how many seeds
generalise, and the median), results/results.json (every seed's figures) and
PNG figures under results/. Runs live in
results/runs/<task>_<split>_<arch>_seed<S>; rerunning resumes them where they stopped.
"""

import argparse
import concurrent.futures
import dataclasses
import multiprocessing
import statistics
import time
from pathlib import Path

from lab import backends  # noqa: F401  Keras on its backend, quiet: before keras loads

import h5py
import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from studies import full_baselines
from lab.supervised import not_so_clevr as generator, supervised_training, tasks
from studies.experiments import EXPERIMENTS, GENERALISES, Experiment, as_argv, final_value, formatted
from lab.runs import clear_if_stale, locked, write_json
from lab.util import Parser, positive
from lab.provenance import command_line, stamped

SPLITS = ("uniform", "quadrant")
ABSTRACT_CLAIM = ("CoordConv \"solves the coordinate transform problem with perfect generalization and 150 "
                  "times faster with 10--100 times fewer parameters than convolution\" (abstract)")

@dataclasses.dataclass(frozen=True)
class Result:
    """One table row: an experiment on a split, with its run per seed."""
    experiment: Experiment
    split: str
    runs: tuple

    def values(self, part: str) -> list:
        return [final_value(self.experiment.arch, run, part) for run in self.runs]

    @property
    def median_run(self) -> dict:
        """The run whose final val figure is the median (the lower middle one for an even count)."""
        ranked = sorted(self.runs, key=lambda run: final_value(self.experiment.arch, run, "val"))
        return ranked[(len(ranked) - 1) // 2]

    @property
    def generalising(self) -> int:
        return sum(map(GENERALISES[self.experiment.task], self.values("val")))

    def as_json(self) -> dict:
        experiment = self.experiment
        return {"task": experiment.task, "split": self.split, "model": experiment.model, "arch": experiment.arch,
                "params": self.runs[0]["params"], "metric": self.runs[0]["best_val"]["metric"],
                "seeds_generalising": self.generalising,
                "median": {part: statistics.median(self.values(part)) for part in ("train", "val")},
                "seeds": [seed_json(experiment, run) for run in self.runs]}

def seed_json(experiment, run) -> dict:
    value = final_value(experiment.arch, run, "val")
    return {"seed": run["seed"], "train": final_value(experiment.arch, run, "train"), "val": value,
            "generalises": bool(GENERALISES[experiment.task](value)),
            "best_val": run["best_val"]["value"], "best_epoch": run["best_val"]["epoch"],
            "wall_time_s": run["wall_time_s"], "initialisations_redrawn": len(run["redrawn"]), "output": run["output"]}

METRIC_LABEL = {"classification": "accuracy", "rendering": "IoU", "regression": "error (px)"}

def parse_args(argv=None):
    parser = Parser(prog="python reproduce.py", description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the paper's epochs instead of the CPU budget")
    parser.add_argument("--baselines-full", action="store_true",
                        help="the three baselines at the paper's epochs and LR schedule beside the CoordConv rows "
                             "at the default budget, seed 0, one run at a time, in <results>/baselines_full; then "
                             "their table, the time ratio and curves against wall time (studies/full_baselines.py)")
    parser.add_argument("--report-only", action="store_true",
                        help="with --baselines-full: the table, ratio and curves of its runs as they stand, "
                             "training nothing (while a --baselines-full job still runs)")
    parser.add_argument("--paper-recipe", action="store_true",
                        help="the default budget's epochs with the paper's flags only: no seed-study recipe "
                             "(smaller initialisation, LR schedule, the centre map's weight decay) on the CoordConv "
                             "rows")
    parser.add_argument("--epochs-scale", type=positive(float), default=1.0,
                        help="multiply the default budget's epochs (e.g. 0.1 for a smoke test)")
    parser.add_argument("--results", default="results", help="output folder")
    parser.add_argument("--data-dir", default="data", help="folder of the Not-so-Clevr .h5 files")
    parser.add_argument("--only", nargs="+", metavar="TASK_OR_ARCH", type=task_or_arch,
                        help=f"run only these tasks or archs, of: {', '.join(ONLY_CHOICES)}")
    parser.add_argument("--splits", nargs="+", choices=SPLITS, default=SPLITS)
    parser.add_argument("--seeds", nargs="+", type=int, default=None, metavar="S",
                        help="train every chosen row with these seeds (default: seeds 0, 1, 2 for the "
                             "CoordConv rows, seed 0 for the baselines)")
    parser.add_argument("--jobs", "-j", type=positive(int), default=None,
                        help="trainings at once, each in a process of its own with TensorFlow's usual threads, "
                             "the longest first; the figures are the same for any number (default 2; 1 with "
                             "--baselines-full, whose wall times are compared)")
    parser.add_argument("--time-budget", type=positive(float), default=None, metavar="SECONDS",
                        help="each training's wall-time budget (train.py's --time-budget): it ends after the epoch "
                             "past which one more would overrun, and reads as so many epochs of its planned total")
    args = parser.parse_args(argv)
    args.command = command_line(parser.prog, argv)
    if args.jobs is None:
        args.jobs = 1 if args.baselines_full else 2
    if args.baselines_full and (args.full or args.paper_recipe or args.seeds or args.epochs_scale != 1.0):
        parser.error("--baselines-full sets the budgets and the seed itself: drop --full, --paper-recipe, --seeds "
                     "and --epochs-scale")
    if args.report_only and not args.baselines_full:
        parser.error("--report-only reports --baselines-full's runs: add --baselines-full")
    return args

ONLY_CHOICES = tuple(dict.fromkeys([e.task for e in EXPERIMENTS] + [e.arch for e in EXPERIMENTS]))

def task_or_arch(text: str) -> str:
    if text not in ONLY_CHOICES:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a task nor an arch of the table; "
                                         f"choose from {', '.join(ONLY_CHOICES)}")
    return text

def train_argv(experiment, split, seed, args) -> list:
    epochs = max(1, round(experiment.epochs * args.epochs_scale))
    recipe = {} if args.paper_recipe else within(epochs, experiment.budget_flags)
    full = args.full or (args.baselines_full and experiment.model != "CoordConv")
    budget = experiment.full_flags if full else {"epochs": epochs, **recipe}
    plotted = split == "quadrant" and experiment.task != "regression"  # the prediction figure reads these
    return ["--arch", experiment.arch, "--data_h5", str(data_path(args, split)), "--seed", str(seed),
            "--quiet", "--output", str(run_dir(args, experiment, split, seed)),
            "--evaluation_h5", "val" if plotted else "none", *as_argv({**experiment.flags, **budget}),
            *(["--time-budget", str(args.time_budget)] if args.time_budget else [])]

def within(epochs: int, flags: dict) -> dict:
    """The budget's flags; a warm-up or hold that would not end before the last epoch (--epochs-scale) shortened
    to leave one epoch after it."""
    return {name: epochs - 1 if name in ("warmup", "hold") and value >= epochs else value
            for name, value in flags.items()}

def data_path(args, split) -> Path:
    return generator.dataset_path(args.data_dir, split)

def run_dir(args, experiment, split, seed) -> Path:
    return Path(args.results) / "runs" / f"{experiment.task}_{split}_{experiment.arch}_seed{seed}"

def ensure_data(args):
    missing = [split for split in args.splits if not data_path(args, split).exists()]
    if missing:
        generator.main(["--out-dir", args.data_dir, "--splits", *missing])

def run_all(args) -> list:
    chosen = [e for e in EXPERIMENTS if not args.only or e.task in args.only or e.arch in args.only]
    jobs = [(e, split, seed) for split in args.splits for e in chosen for seed in seeds_of(e, args)]
    progress = keras.utils.Progbar(len(jobs), unit_name="run")
    finished = {}
    for index, metrics in trained(jobs, args):
        experiment, _, seed = jobs[index]
        print("\n" + supervised_training.summary_line(tasks.TASK_OF[experiment.arch], metrics) + f", seed {seed}")
        finished[index] = metrics
        progress.update(len(finished))
    runs = {}
    for index, (experiment, split, _) in enumerate(jobs):
        runs.setdefault((experiment, split), []).append(finished[index])
    return [Result(experiment, split, tuple(seed_runs)) for (experiment, split), seed_runs in runs.items()]

def trained(jobs, args):
    """(index, metrics) of each job as it ends: one after the other here, or --jobs at once in worker processes.

    Each worker keeps TensorFlow's thread count, which a run's float rounding
    depends on, so its figures are those of the same run trained alone.
    """
    workers = min(args.jobs, len(jobs))
    if workers == 1:  # a worker process would only add TensorFlow's start-up
        for index, job in enumerate(jobs):
            yield index, train_one(*job, args)
        return
    pool = concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        longest_first = sorted(range(len(jobs)), key=lambda index: -jobs[index][0].seconds)
        futures = {pool.submit(train_one, *jobs[index], args): index for index in longest_first}
        for future in concurrent.futures.as_completed(futures):
            yield futures[future], future.result()
    finally:
        pool.shutdown(cancel_futures=True)

def seeds_of(experiment, args) -> list:
    return args.seeds if args.seeds is not None else list(range(experiment.seeds))

def train_one(experiment, split, seed, args) -> dict:
    argv = train_argv(experiment, split, seed, args)
    clear_if_stale(run_dir(args, experiment, split, seed), *supervised_training.run_flags(argv))
    keras.backend.clear_session()
    return supervised_training.main(argv)

def table(results) -> str:
    header = ("| task | split | model | params | seeds generalising | train (median) | val (median) | "
              "val (min–max) | best val, median (epoch) | paper |\n"
              "|---|---|---|---:|---:|---:|---:|---:|---:|---|\n")
    rows = "\n".join(table_row(result) for result in results)
    return (header + rows + f"\n\n{GENERALISES_NOTE}\n\nThe paper's headline: {ABSTRACT_CLAIM}.\n"
            + seeds_note(results))

GENERALISES_NOTE = ("A seed generalises when its final val figure is at least 99.9% accuracy, at least 0.99 IoU, "
                    "or at most 0.5 px error; figures are each seed's last epoch, not its best.")

def table_row(result) -> str:
    experiment = result.experiment
    val, best = result.values("val"), [run["best_val"] for run in result.runs]
    best_median = statistics.median(b["value"] for b in best)
    epochs = statistics.median(b["epoch"] for b in best)
    cells = [f"{experiment.task} ({METRIC_LABEL[experiment.task]})", result.split,
             f"{experiment.model} (`{experiment.arch}`)", f"{result.runs[0]['params']:,}",
             f"{result.generalising} of {len(result.runs)}",
             formatted(experiment, statistics.median(result.values("train"))),
             formatted(experiment, statistics.median(val)),
             f"{formatted(experiment, min(val))}–{formatted(experiment, max(val))}",
             f"{formatted(experiment, best_median)} ({epochs:g})", experiment.paper]
    return "| " + " | ".join(cells) + " |"

def seeds_note(results) -> str:
    """Every seed's figures, so the spread is on record."""
    lines = [f"- {r.experiment.model} {r.experiment.task}, {r.split}: "
             + "; ".join(f"seed {run['seed']} val {formatted(r.experiment, r.values('val')[i])}"
                         f" (best {formatted(r.experiment, run['best_val']['value'])}, epoch "
                         f"{run['best_val']['epoch']}{redraws(run)})" for i, run in enumerate(r.runs))
             for r in results]
    return "\nEvery seed (final val; best val and its epoch):\n\n" + "\n".join(lines) + "\n"

def redraws(run) -> str:
    """`--redraw_dead`'s count for a seed's line, when it drew again."""
    return f", {plural(len(run['redrawn']), 'initialisation')} redrawn" if run["redrawn"] else ""

def plot_splits(args, path: Path):
    figure, axes = plt.subplots(1, len(args.splits), figsize=(4 * len(args.splits), 4), squeeze=False)
    for axis, split in zip(axes[0], args.splits):
        with h5py.File(data_path(args, split), "r") as h5:
            for part, colour in (("train", "tab:blue"), ("val", "tab:orange")):
                x, y = h5[f"{part}_locations"][()].T
                axis.scatter(x, y, s=2, c=colour, label=f"{part} ({len(x)})")
        axis.set(title=f"{split} split", xlim=(0, 63), ylim=(63, 0), aspect="equal", xlabel="x", ylabel="y")
        axis.legend(loc="lower left", fontsize=8)
    save(figure, path)

def plot_accuracy_vs_time(results, splits, path: Path):
    """Every seed's validation accuracy against wall time, from the pre-training evaluation on."""
    figure, axes = plt.subplots(1, len(splits), figsize=(4.5 * len(splits), 3.5), sharey=True, squeeze=False)
    for axis, split in zip(axes[0], splits):
        rows = [r for r in results if r.experiment.task == "classification" and r.split == split]
        for colour, result in zip(("tab:blue", "tab:orange", "tab:green"), rows):
            label = f"{result.experiment.model} ({plural(len(result.runs), 'seed')})"
            for index, run in enumerate(result.runs):
                times, accuracy = accuracy_curve(run)
                axis.plot(times, accuracy, marker="o", markersize=3, color=colour, alpha=0.8,
                          label=label if index == 0 else None)
        axis.set(title=f"classification, {split} split", xlabel="wall time (s)", ylim=(-3, 103))
        axis.legend()
    axes[0, 0].set_ylabel("validation accuracy (%)")
    save(figure, path)

def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")

def accuracy_curve(run) -> tuple:
    initial = [(0.0, 100 * run["initial"]["val"]["accuracy"])] if run.get("initial") else []
    points = initial + [(float(row["time_s"]), 100 * float(row["val_accuracy"])) for row in run["history"]]
    return tuple(zip(*points))

def plot_quadrant_predictions(args, results, path: Path, columns=6):
    """Targets and each model's output (its median seed) on held-out quadrant examples."""
    runs = [(r.experiment, r.median_run) for r in results
            if r.split == "quadrant" and r.experiment.task in ("classification", "rendering")]
    with h5py.File(data_path(args, "quadrant"), "r") as h5:
        picks = np.linspace(0, len(h5["val_locations"]) - 1, columns).astype(int)
        rows = [("target one-hot", h5["val_onehots"][()][picks]), ("target square", h5["val_imagegray"][()][picks])]
    for experiment, metrics in runs:
        with h5py.File(metrics["evaluation_h5"], "r") as h5:
            rows.append((f"{experiment.model} {experiment.task}, seed {metrics['seed']}",
                         as_picture(experiment, h5["logits_val"][()][picks])))
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
    return supervised_training.pixel_softmax(logits)

def save(figure, path: Path):
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)

def baselines_full(args):
    """--baselines-full: each task's baseline at the paper's budget and its CoordConv row at the default budget,
    seed 0, one run at a time unless --jobs (their wall times are compared); then studies/full_baselines.py's
    outputs."""
    args.results = str(Path(args.results) / "baselines_full")
    out = Path(args.results)
    pairs = [(coordconv, baseline) for coordconv, baseline in zip(EXPERIMENTS[::2], EXPERIMENTS[1::2])
             if not args.only or coordconv.task in args.only or {coordconv.arch, baseline.arch} & set(args.only)]
    if not args.report_only:
        with locked(out):
            ensure_data(args)
            jobs = [(experiment, split, 0) for split in args.splits for pair in pairs for experiment in pair]
            for _, metrics in trained(jobs, args):
                print(supervised_training.summary_line(tasks.TASK_OF[metrics["arch"]], metrics))
    curves = [(curve(coordconv, split, args), curve(baseline, split, args))
              for split in args.splits for coordconv, baseline in pairs]
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text(stamped(full_baselines.table([c for pair in curves for c in pair]) + "\n"
                                          + full_baselines.ratio_table(curves), args.command))
    full_baselines.plot(curves, tuple(args.splits), out / "curves.png")
    print(f"\nwrote {out / 'table.md'} and {out / 'curves.png'}\n")
    print((out / "table.md").read_text())

def curve(experiment, split, args) -> full_baselines.Curve:
    epochs = supervised_training.parse_args(train_argv(experiment, split, 0, args)).epochs
    return full_baselines.Curve.of_run(experiment, split, run_dir(args, experiment, split, 0), epochs)

def main(argv=None):
    args = parse_args(argv)
    if args.baselines_full:
        return baselines_full(args)
    with locked(Path(args.results)):
        start = time.perf_counter()
        ensure_data(args)
        results = run_all(args)
        out = Path(args.results)
        (out / "table.md").write_text(stamped(table(results), args.command))
        write_json(out / "results.json", {"jobs": args.jobs, "rows": [result.as_json() for result in results]})
        plot_splits(args, out / "splits.png")
        if any(r.experiment.task == "classification" for r in results):
            plot_accuracy_vs_time(results, args.splits, out / "classification_accuracy_vs_time.png")
        if "quadrant" in args.splits and any(r.experiment.task != "regression" for r in results):
            plot_quadrant_predictions(args, results, out / "quadrant_predictions.png")
        print(f"\nwrote {out / 'table.md'}, {out / 'results.json'} and figures in "
              f"{time.perf_counter() - start:.0f} s\n")
        print((out / "table.md").read_text())

