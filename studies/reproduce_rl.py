"""The paper's RL claim (§6): A2C agents on Atari, the Nature CNN against its CoordConv form, over seeds.

    python -m studies.reproduce_rl [--games ms_pacman | nine] [--seeds 0 1] [--frames 4000000] [--jobs 2]

Per game, both archs (a2c_conv, a2c_coordconv) with every seed, one budget
of emulator frames for all, baselines' A2C defaults (train_rl.py). Writes
into --results: table.md (per arch and game, each seed's mean return over its
last 100 training games and its evaluation return over 30 whole games with up
to 30 no-ops, the median and spread over seeds, frames per second),
results.json, and returns.png (training return against frames, each seed
thin, the median thick, both archs in one panel per game). Each run is
resumable: rerun to continue an interrupted study; a finished run is read,
not trained again. `--games nine` is our nine-game set (lab/atari.py; the
paper does not name its nine). Seeds: 0, 1, 2 on Ms. Pac-Man, 0 and 1
elsewhere, unless --seeds says; runs go seed by seed, so a study stopped part
way holds whole seeds of many games rather than every seed of a few.
"""

import argparse
import concurrent.futures
import json
import multiprocessing
import os
import queue
import statistics
import sys
import time
from pathlib import Path

from lab import backends  # noqa: F401  Keras on its backend, quiet: before keras loads

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import model_builders
from lab import archs, atari, rl_training
from lab.provenance import command_line, stamped
from studies.tables import median_range
from lab.runs import clear_if_stale, locked, write_json
from lab.util import Parser, positive, run_cli

ARCHS = ("a2c_conv", "a2c_coordconv")
DEFAULT_FRAMES = 4_000_000  # a tenth of the standard budget: one run is about 28 minutes of a core
DEFAULT_SEEDS = {"ms_pacman": (0, 1, 2)}  # the paper's example game gets a third seed; every other game ...
OTHER_GAMES_SEEDS = (0, 1)  # ... two


def parse_args(argv=None):
    parser = Parser(prog="python -m studies.reproduce_rl", description=__doc__.splitlines()[0],
                    formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--games", nargs="+", default=["ms_pacman"],
                        help=f"ale-py ROM names; 'nine' for our set: {', '.join(atari.STANDARD_GAMES)}")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="every game's seeds (default: 0 1 2 on ms_pacman, 0 1 elsewhere)")
    parser.add_argument("--coords", default=None, choices=model_builders.A2C_COORDS,
                        help="a2c_coordconv's CoordConv layers (train_rl.py's --coords); its runs' folders say so")
    parser.add_argument("--frames", type=positive(int), default=DEFAULT_FRAMES, help="each run's emulator frames")
    parser.add_argument("--log-every", type=positive(int), default=50_000, metavar="FRAMES")
    parser.add_argument("--envs", type=positive(int), default=16, help="games played at once in each run")
    parser.add_argument("--eval-episodes", type=positive(int), default=30, help="whole games of each evaluation")
    parser.add_argument("--time-budget", type=positive(float), default=None, metavar="SECONDS",
                        help="each run's wall-time budget: it stops at the history row past which one more would "
                             "overrun, and is evaluated there (train_rl.py's --time-budget)")
    parser.add_argument("--jobs", "-j", type=positive(int), default=len(os.sched_getaffinity(0)),
                        help="runs at once, each in a process of its own pinned to a core of its own when there are "
                             "enough (1: one after the other, on every core); default: one per core")
    parser.add_argument("--results", default="results/rl")
    args = parser.parse_args(argv)
    args.command = command_line(parser.prog, argv)
    if args.games == ["nine"]:
        args.games = list(atari.STANDARD_GAMES)
    args.games = [atari.check_game(game) for game in args.games]
    return args


def seeds_of(args, game: str) -> tuple:
    return tuple(args.seeds) if args.seeds else DEFAULT_SEEDS.get(game, OTHER_GAMES_SEEDS)


def jobs_of(args) -> list:
    """(game, arch, seed) of every run, seed by seed: the first seed of every game before any game's second."""
    seeds = sorted({seed for game in args.games for seed in seeds_of(args, game)})
    return [(game, arch, seed) for seed in seeds for game in args.games if seed in seeds_of(args, game)
            for arch in ARCHS]


def coords_of(args, arch: str) -> str | None:
    """The --coords a run of `arch` takes: the study's for a2c_coordconv, none for a2c_conv."""
    return args.coords if args.coords and archs.ARCHS[arch].coords else None


def run_dir(args, game: str, arch: str, seed: int) -> Path:
    coords = coords_of(args, arch)
    return Path(args.results) / "runs" / f"{game}_{arch}{f'-{coords}' if coords else ''}_seed{seed}"


def train_argv(args, game: str, arch: str, seed: int) -> list:
    coords = coords_of(args, arch)
    return ["--arch", arch, "--game", game, "--seed", str(seed), "--frames", str(args.frames), "--log-every",
            str(args.log_every), "--envs", str(args.envs), "--eval-episodes", str(args.eval_episodes),
            "--output", str(run_dir(args, game, arch, seed)), "--quiet",
            *(["--coords", coords] if coords else []),
            *(["--time-budget", str(args.time_budget)] if args.time_budget else [])]


def train_one(args, game: str, arch: str, seed: int) -> dict:
    """The run's metrics: read when it has finished its frames, else trained (or resumed) to the end."""
    folder, argv = run_dir(args, game, arch, seed), train_argv(args, game, arch, seed)
    clear_if_stale(folder, vars(rl_training.parse_args(argv)))
    metrics_path = folder / "metrics.json"
    if metrics_path.exists():
        metrics = json.loads(metrics_path.read_text())
        if metrics["evaluation"] and (metrics["frames"] >= metrics["frames_planned"] or args.time_budget):
            return metrics
    keras.backend.clear_session()
    return rl_training.main(argv)


def trained(jobs: list, args):
    """(job, metrics) as each run ends: one after the other, or --jobs at once in worker processes.

    A worker keeps one core to itself when there are as many: on the 2-core
    CPU one run uses its second core for little (TensorFlow's second thread
    gains less on this small network than it costs in the acting calls), so
    two runs, a core each, train each about as fast as one alone.
    """
    if args.jobs == 1:
        for job in jobs:
            yield job, train_one(args, *job)
        return
    context = multiprocessing.get_context("spawn")
    cores = context.Queue()
    for core in sorted(os.sched_getaffinity(0)) if args.jobs <= len(os.sched_getaffinity(0)) else []:
        cores.put(core)
    with concurrent.futures.ProcessPoolExecutor(args.jobs, mp_context=context, initializer=pin_to_a_core,
                                                initargs=(cores,)) as pool:
        futures = {pool.submit(train_one, args, *job): job for job in jobs}
        for future in concurrent.futures.as_completed(futures):
            yield futures[future], future.result()


def pin_to_a_core(cores):
    """A worker's start: the next free core of the queue, if any, is this process's alone (TensorFlow's and the
    emulators' threads, started later, inherit it)."""
    try:
        os.sched_setaffinity(0, {cores.get_nowait()})
    except queue.Empty:
        pass


def table(runs: dict, args) -> str:
    lines = ["| game | arch | seed | frames | return, last 100 training games | mean over the run | "
             f"evaluation return, {args.eval_episodes} games | frames/s |", "|---|---|---|---:|---:|---:|---:|---:|"]
    for game in args.games:
        for arch in ARCHS:
            seed_runs = [runs[(game, arch, seed)] for seed in seeds_of(args, game)]
            for seed, metrics in zip(seeds_of(args, game), seed_runs):
                returns = " | ".join(f"{score(metrics):.0f}" for score in RETURN_COLUMNS)
                lines.append(f"| {game} | {arch} | {seed} | {metrics['frames']:,} | {returns} | "
                             f"{metrics['frames_per_s']:.0f} |")
            spreads = " | ".join(median_range([score(m) for m in seed_runs], 0) for score in RETURN_COLUMNS)
            lines.append(f"| **{game}** | **{arch}** | median (min–max) | | {spreads} | "
                         f"{statistics.median(m['frames_per_s'] for m in seed_runs):.0f} |")
    return "\n".join(lines) + "\n"


def training_return(metrics: dict) -> float:
    """The mean return of the last 100 training games at the run's end; NaN when no game had ended."""
    return float(metrics["final"]["return_mean"] or "nan")


def evaluation_return(metrics: dict) -> float:
    """The mean score of the evaluation games after training (actions sampled from the policy)."""
    return float(metrics["evaluation"]["mean"])


def run_average(metrics: dict) -> float:
    """The training return averaged over the run's history rows (the area under its learning curve per row): less
    at the mercy of where the last 100 games fell than the final figure, and it credits learning early."""
    _, returns = curve(metrics)
    return float(np.mean(returns)) if len(returns) else float("nan")


RETURN_COLUMNS = (training_return, run_average, evaluation_return)  # the table's return columns, in order


def plot(runs: dict, args, path: Path):
    """Training return against frames per game: each seed thin, the median over seeds thick."""
    figure, axes = plt.subplots(1, len(args.games), figsize=(6 * len(args.games), 4), squeeze=False)
    for axis, game in zip(axes[0], args.games):
        for arch, colour in zip(ARCHS, ("tab:blue", "tab:orange")):
            curves = [curve(runs[(game, arch, seed)]) for seed in seeds_of(args, game)]
            for frames, returns in curves:
                axis.plot(frames, returns, color=colour, linewidth=0.7, alpha=0.5)
            length = min(len(frames) for frames, _ in curves)
            axis.plot(curves[0][0][:length], np.median([returns[:length] for _, returns in curves], axis=0),
                      color=colour, linewidth=2.5, label=f"{arch} (median of {len(curves)} seeds)")
        axis.set(title=game, xlabel="emulator frames", ylabel="mean return, last 100 games")
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def curve(metrics: dict) -> tuple:
    """(frames, returns) of the history rows where some game had ended."""
    rows = [row for row in metrics["history"] if row["return_mean"] != ""]
    return np.array([int(row["frames"]) for row in rows]), np.array([float(row["return_mean"]) for row in rows])


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.results)
    with locked(out):
        start = time.perf_counter()
        jobs = jobs_of(args)
        progress = keras.utils.Progbar(len(jobs), unit_name="run")
        runs = {}
        for job, metrics in trained(jobs, args):
            runs[job] = metrics
            print("\n" + rl_training.summary_line(metrics) + f", seed {job[2]}")
            progress.update(len(runs))
        (out / "table.md").write_text(stamped(table(runs, args), args.command))
        write_json(out / "results.json", {"frames": args.frames, "games": args.games, "coords": args.coords,
                                          "runs": [{"game": game, "arch": arch, "seed": seed,
                                                    **{key: runs[(game, arch, seed)][key] for key in
                                                       ("frames", "final", "evaluation", "frames_per_s",
                                                        "wall_time_s")}}
                                                   for game, arch, seed in jobs]})
        plot(runs, args, out / "returns.png")
        print(f"\nwrote {out / 'table.md'}, results.json and returns.png in {time.perf_counter() - start:.0f} s\n")
        print((out / "table.md").read_text())


if __name__ == "__main__":
    sys.exit(run_cli(main))
