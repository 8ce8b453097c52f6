"""Deconv classification on uniform at the paper's budget, cells of its sweep chosen on a holdout, not on test.

    python -m studies.deconv_selection [--cells model1x_mb32_LR0.002_l2reg0.01_fs3 ...] [--jobs 1] [--report-only]

The paper's ~86% is the best test accuracy over its 324-cell sweep: the cell
and the epoch were chosen on the figure reported. Here each cell (named as
experiment_logs.sh names them: model<mul>x_mb<mb>_LR<lr>_l2reg<l2>_fs<fs>, a
cell outside the sweep's grid too) trains with the sweep's flags at the
paper's budget (1,000 epochs, the LR ÷10 every 200) on the training split
less a tenth carved from it (train.py --holdout 0.1). Writes into --results
table.md: per cell its train, holdout and val (the file's val split, the
paper's test) figures, final and best with their epochs; then the cell and
epoch the holdout chooses with its val figure, beside the best val over every
cell and epoch, the paper's way of choosing; and the time ratio of the §4
table's CoordConv classification row (trained here on the same split, at its
default budget) against the cell of the best val, the strongest baseline.
Runs resume, and a finished run is not trained again; --report-only reads
them as they stand while they train.
"""

import argparse
import concurrent.futures
import json
import multiprocessing
import re
import sys
from pathlib import Path

from lab import backends  # noqa: F401  Keras on its backend, quiet: before keras loads

from lab.supervised import not_so_clevr as generator, supervised_training
from lab.provenance import command_line, stamped
from lab.runs import clear_if_stale, locked, read_history
from lab.util import CliError, Parser, positive, run_cli
from studies import full_baselines
from studies.experiments import EXPERIMENTS, as_argv

CELL_NAME = re.compile(r"model(?P<mul>\d+)x_mb(?P<mb>\d+)_LR(?P<lr>[\d.]+)_l2reg(?P<l2>[\d.]+)_fs(?P<fs>\d+)")
DEFAULT_CELLS = ("model1x_mb32_LR0.002_l2reg0._fs3",  # the §4 table's cell
                 "model1x_mb32_LR0.002_l2reg0.01_fs3", "model3x_mb32_LR0.002_l2reg0.001_fs4",  # the H200 probe's best
                 "model1x_mb32_LR0.002_l2reg0.03_fs3",  # decays past the sweep's largest, 0.01
                 "model1x_mb32_LR0.002_l2reg0.1_fs3")
SCHEDULE = "-E {epochs} --opt adam --lrpolicy step --lrstepratio 0.1 --lrstepevery 200 --lrmaxsteps 4"  # the sweep's
COORDCONV, DECONV = EXPERIMENTS[0], EXPERIMENTS[1]  # the §4 table's classification rows


def parse_args(argv=None):
    parser = Parser(prog="python -m studies.deconv_selection", description=__doc__.splitlines()[0],
                    formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--cells", nargs="+", default=list(DEFAULT_CELLS), metavar="CELL")
    parser.add_argument("--holdout", type=float, default=0.1, help="fraction of train carved as the selection split")
    parser.add_argument("--epochs", "-E", type=positive(int), default=1000)
    parser.add_argument("--jobs", "-j", type=positive(int), default=1, help="cells at once, a process each")
    parser.add_argument("--report-only", action="store_true", help="the table of the runs as they stand")
    parser.add_argument("--results", default="results/deconv_selection")
    parser.add_argument("--data-dir", default="data")
    args = parser.parse_args(argv)
    args.command = command_line(parser.prog, argv)
    for cell in args.cells:
        if not CELL_NAME.fullmatch(cell):
            parser.error(f"cell {cell!r} is not named model<mul>x_mb<mb>_LR<lr>_l2reg<l2>_fs<fs>")
    return args


def cell_argv(cell: str, args) -> list:
    """train.py's flags for a cell: the sweep's (experiment_logs.sh), the holdout, no evaluation arrays."""
    flags = CELL_NAME.fullmatch(cell).groupdict()
    return ["--arch", DECONV.arch, "-mb", flags["mb"], *SCHEDULE.format(epochs=args.epochs).split(),
            "-L", flags["lr"], "--l2", flags["l2"], "-mul", flags["mul"], "-fs", flags["fs"], *shared_flags(cell, args)]


def coordconv_argv(args) -> list:
    """The §4 table's CoordConv classification row at its default budget, on the cells' split and holdout."""
    budget = {"epochs": COORDCONV.epochs, **COORDCONV.budget_flags}
    return ["--arch", COORDCONV.arch, *as_argv({**COORDCONV.flags, **budget}), *shared_flags(COORDCONV.arch, args)]


def shared_flags(run: str, args) -> list:
    """What every run of the study shares: the holdout, the uniform split, no evaluation arrays, its folder."""
    return ["--holdout", str(args.holdout), "--evaluation_h5", "none", "--quiet",
            "--data_h5", str(generator.dataset_path(args.data_dir, "uniform")), "--output", str(run_dir(run, args))]


def run_dir(run: str, args) -> Path:
    return Path(args.results) / "runs" / run


def train_run(run: str, argv: list, args) -> None:
    """Trains or resumes the run; a finished one (its metrics.json written, same flags and software) is read, not
    trained again, so the committed folders, which keep no backup to resume from, can be copied back beside a run
    still training."""
    clear_if_stale(run_dir(run, args), *supervised_training.run_flags(argv))
    if not (run_dir(run, args) / "metrics.json").exists():
        supervised_training.main(argv)


def train_cell(cell: str, args) -> str:
    train_run(cell, cell_argv(cell, args), args)
    return cell


def train_all(args):
    train_run(COORDCONV.arch, coordconv_argv(args), args)  # seconds: first, so the ratio reads from the start
    if args.jobs == 1:
        for cell in args.cells:
            print(f"{train_cell(cell, args)} done", flush=True)
        return
    with concurrent.futures.ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        longest_first = sorted(args.cells, key=step_cost, reverse=True)
        for future in concurrent.futures.as_completed([pool.submit(train_cell, cell, args) for cell in longest_first]):
            print(f"{future.result()} done", flush=True)


def step_cost(cell: str) -> float:
    """A cell's relative cost per step: its deconvs' widths squared and kernel areas, over its minibatch's steps."""
    flags = CELL_NAME.fullmatch(cell).groupdict()
    return int(flags["mul"]) ** 2 * int(flags["fs"]) ** 2 / int(flags["mb"])


def cell_figures(cell: str, args) -> dict | None:
    """A cell's figures from its history.csv so far: final and best of train, holdout and val accuracy."""
    history = read_history(run_dir(cell, args) / "history.csv")
    if not history:
        return None
    figures = {"cell": cell, "epochs": len(history), "time_s": float(history[-1]["time_s"])}
    for part, key in (("train", "accuracy"), ("holdout", "holdout_accuracy"), ("val", "val_accuracy")):
        values = [float(row[key]) for row in history]
        best = max(range(len(values)), key=values.__getitem__)
        figures[part] = {"final": values[-1], "best": values[best], "best_epoch": best + 1}
    figures["val_at_best_holdout"] = float(history[figures["holdout"]["best_epoch"] - 1]["val_accuracy"])
    return figures


def table(cells: list, args) -> str:
    lines = ["| cell | in the sweep | epochs | train, final | holdout: final (best, epoch) | "
             "val: final (best, epoch) | hours |", "|---|---|---:|---:|---:|---:|---:|"]
    for figures in cells:
        lines.append(f"| `{figures['cell']}` | {'yes' if in_sweep(figures['cell']) else 'no'} | "
                     f"{figures['epochs']} of {args.epochs} | {figures['train']['final']:.1%} | "
                     f"{part_text(figures['holdout'])} | {part_text(figures['val'])} | "
                     f"{figures['time_s'] / 3600:.1f} |")
    chosen, best_val = best_on(cells, "holdout"), best_on(cells, "val")
    lines += ["", f"Chosen on the holdout (cell and epoch): `{chosen['cell']}` at epoch "
                  f"{chosen['holdout']['best_epoch']} (holdout {chosen['holdout']['best']:.1%}): "
                  f"val {chosen['val_at_best_holdout']:.1%}.",
              f"Chosen on val, the paper's way (the best val over every cell and epoch): `{best_val['cell']}` at "
              f"epoch {best_val['val']['best_epoch']}: val {best_val['val']['best']:.1%}. The paper: ~86%."]
    return "\n".join(lines) + "\n"


def best_on(cells: list, part: str) -> dict:
    """The cell whose best figure on `part` ("holdout" or "val") is highest."""
    return max(cells, key=lambda figures: figures[part]["best"])


def ratio_text(cells: list, args) -> str:
    """The time ratio of CoordConv against the cell of the best val (studies/full_baselines.py's table)."""
    strongest = best_on(cells, "val")["cell"]
    coordconv = full_baselines.Curve.of_run(COORDCONV, "uniform", run_dir(COORDCONV.arch, args), COORDCONV.epochs)
    baseline = full_baselines.Curve.of_run(DECONV, "uniform", run_dir(strongest, args), args.epochs)
    if not coordconv.val:
        return "\nCoordConv's run has no epoch yet (run without --report-only): no time ratio.\n"
    return (f"\nCoordConv (`{COORDCONV.arch}`, the §4 table's recipe, on the same split) against the cell of the best "
            f"val, `{strongest}`:\n\n" + full_baselines.ratio_table([(coordconv, baseline)]))


def part_text(part: dict) -> str:
    return f"{part['final']:.1%} ({part['best']:.1%}, {part['best_epoch']})"


def in_sweep(cell: str) -> bool:
    """The cell is one of experiment_logs.sh's 162 deconv classification cells on a split."""
    flags = CELL_NAME.fullmatch(cell).groupdict()
    return (flags["lr"] in ("0.001", "0.002", "0.005", "0.01", "0.02", "0.05") and flags["l2"] in ("0.", "0.001",
            "0.01") and flags["fs"] in "234" and flags["mul"] in "123" and flags["mb"] in ("16", "32"))


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.results)
    if not args.report_only:
        with locked(out):
            if not generator.dataset_path(args.data_dir, "uniform").exists():
                generator.main(["--out-dir", args.data_dir, "--splits", "uniform"])
            train_all(args)
    cells = [figures for figures in (cell_figures(cell, args) for cell in args.cells) if figures]
    if not cells:
        raise CliError(f"no cell of {out} has finished an epoch: run without --report-only first")
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text(stamped(table(cells, args) + ratio_text(cells, args), args.command))
    (out / "results.json").write_text(json.dumps({"holdout": args.holdout, "cells": cells}, indent=2) + "\n")
    print((out / "table.md").read_text())


if __name__ == "__main__":
    sys.exit(run_cli(main))
