"""The baselines at the paper's budget beside CoordConv, read from their runs: `reproduce.py --baselines-full`.

Three outputs in <results>/baselines_full: table.md (each run's final and best
train and val figures, when it reached them), the "150x" ratio (the wall time
CoordConv takes to reach the best val figure its baseline ever reaches,
against the baseline's time to reach it, and both models' parameters) and
curves.png (val and train against wall time, log scale). A run still training
is read as far as its history.csv goes.
"""

import dataclasses
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import ticker

from lab.supervised import tasks
from studies.experiments import formatted
from lab.runs import read_history


@dataclasses.dataclass(frozen=True)
class Curve:
    """One run's per-epoch figures of its task's main metric, and the wall time at each epoch's end."""

    experiment: object  # experiments.Experiment
    split: str
    params: int
    planned_epochs: int
    times: tuple
    train: tuple
    val: tuple

    @classmethod
    def of_run(cls, experiment, split, folder: Path, planned_epochs: int):
        """The run's curve so far; its parameter count is in the config.json a run writes as it starts."""
        config = folder / "config.json"
        params = json.loads(config.read_text())["params"] if config.exists() else 0
        history = read_history(folder / "history.csv")
        if not history:
            return cls(experiment, split, params, planned_epochs, (), (), ())
        val_key = tasks.TASK_OF[experiment.arch].metric_key(history[0], prefix="val_")
        train_key = val_key[len("val_"):]
        return cls(experiment, split, params, planned_epochs, *(tuple(float(row[key]) for row in history)
                                                                for key in ("time_s", train_key, val_key)))

    @property
    def better(self):
        """`better(a, b)`: a is at least as good as b (accuracy and IoU up, pixel error down)."""
        if tasks.TASK_OF[self.experiment.arch].best_mode == "max":
            return lambda a, b: a >= b
        return lambda a, b: a <= b

    def best(self, part: str) -> int:
        """The index of the first epoch with the best figure of `part` ("train" or "val")."""
        values = getattr(self, part)
        pick = max if tasks.TASK_OF[self.experiment.arch].best_mode == "max" else min
        return pick(range(len(values)), key=values.__getitem__)

    def first_reaching(self, value: float):
        """The index of the first epoch whose val figure is at least as good as `value`; None if none is."""
        return next((i for i, v in enumerate(self.val) if self.better(v, value)), None)


def table(curves: list) -> str:
    header = ("| task | split | model | params | epochs | final train | final val | best train (epoch) | "
              "best val (epoch, time) | paper |\n|---|---|---|---:|---:|---:|---:|---:|---:|---|\n")
    return header + "\n".join(table_row(curve) for curve in curves if curve.val) + "\n"


def table_row(curve: Curve) -> str:
    e = curve.experiment
    best_train, best_val = curve.best("train"), curve.best("val")
    cells = [e.task, curve.split, f"{e.model} (`{e.arch}`)", f"{curve.params:,}",
             f"{len(curve.val)} of {curve.planned_epochs}", formatted(e, curve.train[-1]), formatted(e, curve.val[-1]),
             f"{formatted(e, curve.train[best_train])} ({best_train + 1})",
             f"{formatted(e, curve.val[best_val])} ({best_val + 1}, {duration(curve.times[best_val])})", e.paper]
    return "| " + " | ".join(cells) + " |"


def ratio_table(pairs: list) -> str:
    """Per (CoordConv, baseline) pair of curves: time for each to reach the baseline's best val figure."""
    header = ("| task | split | baseline's best val | baseline reaches it (epoch, time) | CoordConv reaches it "
              "(epoch, time) | baseline time / CoordConv time | params: baseline / CoordConv |\n"
              "|---|---|---:|---:|---:|---:|---:|\n")
    return header + "\n".join(ratio_row(coordconv, baseline) for coordconv, baseline in pairs
                              if coordconv.val and baseline.val) + "\n"


def ratio_row(coordconv: Curve, baseline: Curve) -> str:
    e, target_epoch = baseline.experiment, baseline.best("val")
    target = baseline.val[target_epoch]
    reached = coordconv.first_reaching(target)
    coordconv_cell, ratio = "not reached", "–"
    if reached is not None:
        coordconv_cell = f"{reached + 1}, {duration(coordconv.times[reached])}"
        ratio = f"{baseline.times[target_epoch] / coordconv.times[reached]:.0f}×"
    baseline_cell = f"{target_epoch + 1}, {duration(baseline.times[target_epoch])}"
    if len(baseline.val) < baseline.planned_epochs:  # still training: its best so far
        baseline_cell += f" (so far: {len(baseline.val)} of {baseline.planned_epochs} epochs)"
    cells = [e.task, baseline.split, formatted(e, target), baseline_cell, coordconv_cell, ratio,
             f"{baseline.params:,} / {coordconv.params:,} ({baseline.params / coordconv.params:.1f}×)"]
    return "| " + " | ".join(cells) + " |"


def duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 600 else f"{seconds / 60:.0f} min"


def plot(pairs: list, splits: tuple, path: Path):
    """Val (solid) and train (dashed) against wall time, log scale: one panel per task and split."""
    task_names = list(dict.fromkeys(baseline.experiment.task for _, baseline in pairs))
    figure, axes = plt.subplots(len(task_names), len(splits), figsize=(4.5 * len(splits), 3.2 * len(task_names)),
                                squeeze=False)
    for coordconv, baseline in pairs:
        axis = axes[task_names.index(baseline.experiment.task), splits.index(baseline.split)]
        for curve, colour in ((coordconv, "tab:blue"), (baseline, "tab:orange")):
            if curve.val:
                label = f"{curve.experiment.model} ({len(curve.val)} epochs)"
                axis.plot(curve.times, curve.val, color=colour, label=f"{label}, val")
                axis.plot(curve.times, curve.train, color=colour, linestyle="--", alpha=0.6, label="train")
        axis.set(xscale="log", title=f"{baseline.experiment.task}, {baseline.split}", xlabel="wall time (s)",
                 ylabel=METRIC_AXIS[baseline.experiment.task])
        axis.xaxis.set_major_locator(ticker.LogLocator(subs=(1, 2, 5)))  # 10, 20, 50: a label in a short span
        axis.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))  # and no crowd of 2×10¹, 3×10¹...
        axis.xaxis.set_minor_formatter(ticker.NullFormatter())
        if baseline.experiment.task == "regression":
            axis.set_yscale("log")
        if axis.lines:
            axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


METRIC_AXIS = {"classification": "accuracy", "rendering": "IoU", "regression": "error (px)"}
