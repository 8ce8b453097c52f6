"""Collects every run's metrics.json under a sweep folder into one CSV; prints the best run per sweep and split.

    python -m studies.summarize_sweeps results/sweeps      # writes results/sweeps/summary.csv

A sweep is the folder experiment_logs.sh gave it: <results>/<sweep>_<split>/<run>/.
"""

import csv
import json
import sys
from pathlib import Path

from lab import backends  # noqa: F401  Keras on its backend, quiet: before keras loads

from lab.supervised.tasks import TASK_OF
from lab.util import CliError, Parser, run_cli

CONFIG_COLUMNS = ("arch", "lr", "l2", "channel_mul", "filter_size", "minibatch", "loss", "epochs")


def run_row(metrics_path: Path) -> dict:
    """One CSV row: where the run lives, its flags, and its final and best figures."""
    metrics = json.loads(metrics_path.read_text())
    config = json.loads((metrics_path.parent / "config.json").read_text())
    task = TASK_OF[metrics["arch"]]
    sweep_folder = metrics_path.parent.parent.name
    sweep, _, split = sweep_folder.rpartition("_")
    return {
        "sweep": sweep, "split": split, "run": metrics_path.parent.name,
        **{column: config.get(column) for column in CONFIG_COLUMNS},
        "metric": task.best_metric, "mode": task.best_mode,
        "train": metrics["final"]["train"][task.metric_key(metrics["final"]["train"])],
        "val": metrics["final"]["val"][task.metric_key(metrics["final"]["val"])],
        "best_val": metrics["best_val"]["value"], "best_epoch": metrics["best_val"]["epoch"],
        "time_to_best_s": metrics["best_val"]["time_s"], "params": metrics["params"],
    }


def is_better(row: dict, than: dict) -> bool:
    return row["val"] > than["val"] if row["mode"] == "max" else row["val"] < than["val"]


def best_runs(rows: list) -> list:
    """The row with the best final validation figure of each (sweep, split)."""
    best = {}
    for row in rows:
        key = (row["sweep"], row["split"])
        if key not in best or is_better(row, best[key]):
            best[key] = row
    return [best[key] for key in sorted(best)]


def main(argv=None):
    parser = Parser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", default="results/sweeps")
    args = parser.parse_args(argv)
    root = Path(args.results)
    paths = sorted(root.glob("*/*/metrics.json"))
    if not paths:
        raise CliError(f"no finished runs (*/*/metrics.json) under {root}: run bash experiment_logs.sh first")
    rows = [run_row(path) for path in paths]
    with open(root / "summary.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {root / 'summary.csv'}: {len(rows)} runs")
    for row in best_runs(rows):
        print(f"best {row['sweep']:<26} {row['split']:<9} {row['run']}: val {row['metric']} {row['val']:.4f} "
              f"(train {row['train']:.4f}, best {row['best_val']:.4f} at epoch {row['best_epoch']})")
    return rows


if __name__ == "__main__":
    sys.exit(run_cli(main))
