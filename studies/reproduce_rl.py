"""The paper's RL claim (§6): A2C agents on Atari, the Nature CNN against its CoordConv form, over seeds.

    python -m studies.reproduce_rl [--games ms_pacman | nine] [--seeds 0 1] [--frames 4000000] [--jobs 2]
    python -m studies.reproduce_rl --games nine --report-only      # the table of the runs finished so far
    python -m studies.reproduce_rl --games nine --print-commands   # one train_rl.py line per missing run
    python -m studies.reproduce_rl --report-only --compare OTHER   # these runs beside another study's, seed by seed

Per game, both archs (a2c_conv, a2c_coordconv) with every seed, one budget
of emulator frames for all (a tenth of the standard 40M by default),
baselines' A2C defaults (train_rl.py). Writes into --results: table.md (each
run's mean return over its last 100 training games, over the whole run, and
its evaluation return over 30 whole games with up to 30 no-ops; per game the
seeds' median and spread with the call of lab/rl/rl_statistics.call; over the
games, rliable's IQM, mean and probability of improvement on human-normalised
evaluation returns, with 95% stratified-bootstrap intervals), results.json,
returns.png (training return against frames, each seed thin, the median
thick, one panel per game) and aggregate.png (rliable's interval plot); a
study with --coords or --coords_init_scale names them after its CoordConv
runs (table-all.md, ...), beside the main study's in the same folder. Each
run is resumable: rerun to continue an interrupted study; a finished run is
read, not trained again. `--games nine` is our nine-game set (lab/rl/atari.py; the
paper does not name its nine). Seeds: 0, 1, 2 on Ms. Pac-Man, 0 and 1
elsewhere, unless --seeds says; runs go seed by seed, so a study stopped part
way holds whole seeds of many games rather than every seed of a few.
"""

import argparse
import concurrent.futures
import dataclasses
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
from lab import archs
from lab.rl import atari, rl_statistics, rl_training
from lab.provenance import command_line, stamped
from studies.tables import median_range
from lab.runs import clear_if_stale, locked, write_json
from lab.util import Parser, check_coords_init_scale, positive, run_cli

ARCHS = ("a2c_conv", "a2c_coordconv")
DEFAULT_FRAMES = 4_000_000  # a tenth of the standard budget: one run is about 20-25 minutes of a core
DEFAULT_SEEDS = {"ms_pacman": (0, 1, 2)}  # the paper's example game gets a third seed; every other game ...
OTHER_GAMES_SEEDS = (0, 1)  # ... two
FOLDER_TAGS = {"--coords": "", "--coords_init_scale": "coordsinit"}  # run folders: a2c_coordconv-all-coordsinit0


def parse_args(argv=None):
    parser = Parser(prog="python -m studies.reproduce_rl", description=__doc__.splitlines()[0],
                    formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--games", nargs="+", default=["ms_pacman"],
                        help=f"ale-py ROM names; 'nine' for our set: {', '.join(atari.STANDARD_GAMES)}")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="every game's seeds (default: 0 1 2 on ms_pacman, 0 1 elsewhere)")
    parser.add_argument("--coords", default=None, choices=model_builders.A2C_COORDS,
                        help="a2c_coordconv's CoordConv layers (train_rl.py's --coords); its runs' folders say so")
    parser.add_argument("--coords_init_scale", type=float, default=1.0,
                        help="a2c_coordconv's initial coordinate weights times this (train_rl.py's "
                             "--coords_init_scale; 0: blind to position at the start); its runs' folders say so")
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
    parser.add_argument("--report-only", action="store_true",
                        help="train nothing: the table, figures and aggregate of the runs finished in --results")
    parser.add_argument("--print-commands", action="store_true",
                        help="train nothing: print one train_rl.py command per missing run (for a job array), then "
                             "rerun with --report-only once they have written their folders")
    parser.add_argument("--reps", type=positive(int), default=50_000, help="bootstrap resamples of each interval")
    parser.add_argument("--compare", default=None, metavar="FOLDER",
                        help="another study's --results (the same runs under other settings): the table gains its "
                             "returns beside these, seed by seed, and the settings in which the runs differ")
    args = parser.parse_args(argv)
    args.command = command_line(parser.prog, argv)
    if args.report_only and args.print_commands:
        parser.error("--report-only and --print-commands are two ways of training nothing: give one")
    check_coords_init_scale(args.coords_init_scale, ARCHS[1], archs.ARCHS[ARCHS[1]].coords)
    if args.compare and not Path(args.compare, "runs").is_dir():
        parser.error(f"--compare {args.compare}: no runs/ folder there")
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


def coordconv_settings(args, arch: str) -> dict:
    """The train_rl.py flags, with their values, that the study's a2c_coordconv settings give a run of `arch`: none
    for a2c_conv, none left at train_rl.py's default (so the conv runs are shared by every such study)."""
    if not archs.ARCHS[arch].coords:
        return {}
    settings = {"--coords": args.coords,
                "--coords_init_scale": None if args.coords_init_scale == 1.0 else f"{args.coords_init_scale:g}"}
    return {flag: value for flag, value in settings.items() if value is not None}


def coordconv_flags(args, arch: str) -> list:
    """coordconv_settings as the words of a command line: ['--coords', 'all', ...]."""
    return [word for setting in coordconv_settings(args, arch).items() for word in setting]


def variant_of(args, arch: str) -> str:
    """What the study's settings add to the name of a run of `arch` ('' for a2c_conv and the default CoordConv)."""
    return "".join(f"-{FOLDER_TAGS[flag]}{value}" for flag, value in coordconv_settings(args, arch).items())


def run_dir(args, game: str, arch: str, seed: int) -> Path:
    return Path(args.results) / "runs" / f"{game}_{arch}{variant_of(args, arch)}_seed{seed}"


def report_path(args, name: str) -> Path:
    """--results/`name` for the default CoordConv, named after the variant otherwise (table-all.md): a variant
    study shares the folder and the conv runs, not the report of the main one."""
    stem, suffix = name.split(".")
    return Path(args.results) / f"{stem}{variant_of(args, 'a2c_coordconv')}.{suffix}"


def train_argv(args, game: str, arch: str, seed: int) -> list:
    return ["--arch", arch, "--game", game, "--seed", str(seed), "--frames", str(args.frames), "--log-every",
            str(args.log_every), "--envs", str(args.envs), "--eval-episodes", str(args.eval_episodes),
            "--output", str(run_dir(args, game, arch, seed)), "--quiet",
            *coordconv_flags(args, arch),
            *(["--time-budget", str(args.time_budget)] if args.time_budget else [])]


def finished_metrics(folder: Path, args) -> dict | None:
    """The metrics.json of a run that has trained its frames (or its --time-budget) and been evaluated, else None."""
    metrics_path = folder / "metrics.json"
    if not metrics_path.exists():
        return None
    metrics = json.loads(metrics_path.read_text())
    done = metrics["frames"] >= metrics["frames_planned"] or args.time_budget
    return metrics if metrics["evaluation"] and done else None


def clear_if_stale_run(folder: Path, argv: list):
    """clear_if_stale for train_rl.py's `argv` (which starts --arch ARCH): a flag the run's config.json predates
    stands at its default, so a run finished before the flag existed is kept."""
    clear_if_stale(folder, vars(rl_training.parse_args(argv)), vars(rl_training.parse_args(argv[:2])))


def train_one(args, game: str, arch: str, seed: int) -> dict:
    """The run's metrics: read when it has finished its frames, else trained (or resumed) to the end."""
    folder, argv = run_dir(args, game, arch, seed), train_argv(args, game, arch, seed)
    clear_if_stale_run(folder, argv)
    metrics = finished_metrics(folder, args)
    if metrics:
        return metrics
    keras.backend.clear_session()
    return rl_training.main(argv)


def missing_commands(args) -> list:
    """One train_rl.py command line per run not finished in --results: what a cluster's job array runs."""
    return [command_line("python train_rl.py", train_argv(args, *job)) for job in jobs_of(args)
            if not finished_metrics(run_dir(args, *job), args)]


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
    """Every finished run, then the seeds' median (min–max) of each game and arch."""
    lines = ["| game | arch | seed | frames | return, last 100 training games | mean over the run | "
             f"evaluation return, {args.eval_episodes} games | frames/s |", "|---|---|---|---:|---:|---:|---:|---:|"]
    for game in args.games:
        scale = max([abs(score(m)) for m in game_runs(runs, game) for score in RETURN_COLUMNS] + [0])
        for arch in ARCHS:
            seed_runs = arch_runs(runs, game, arch)
            for seed, metrics in seed_runs.items():
                returns = " | ".join(rl_statistics.score_text(score(metrics), scale) for score in RETURN_COLUMNS)
                lines.append(f"| {game} | {arch} | {seed} | {metrics['frames']:,} | {returns} | "
                             f"{metrics['frames_per_s']:.0f} |")
            if seed_runs:
                spreads = " | ".join(median_range([score(m) for m in seed_runs.values()],
                                                  rl_statistics.score_decimals(scale))
                                     for score in RETURN_COLUMNS)
                lines.append(f"| **{game}** | **{arch}** | median (min–max) | | {spreads} | "
                             f"{statistics.median(m['frames_per_s'] for m in seed_runs.values()):.0f} |")
    return "\n".join(lines) + "\n"


def arch_runs(runs: dict, game: str, arch: str) -> dict:
    """{seed: metrics} of the finished runs of one game and arch, by seed."""
    return {seed: runs[(g, a, seed)] for g, a, seed in sorted(runs) if (g, a) == (game, arch)}


def game_runs(runs: dict, game: str) -> list:
    return [metrics for (g, _, _), metrics in runs.items() if g == game]


def complete_games(runs: dict, args) -> list:
    """The games whose every seed has finished for both archs."""
    return [game for game in args.games if all(set(arch_runs(runs, game, arch)) == set(seeds_of(args, game))
                                               for arch in ARCHS)]


def evaluation_scores(runs: dict, game: str, arch: str, seeds) -> list:
    return [evaluation_return(arch_runs(runs, game, arch)[seed]) for seed in seeds]


def per_game_table(runs: dict, args) -> str:
    """Per game: each arch's evaluation return over seeds, human-normalised medians, and the call."""
    lines = ["| game | a2c_conv: evaluation return, median (min–max) | a2c_coordconv | human-normalised medians, "
             "conv / coordconv | seeds | call |", "|---|---:|---:|---:|---|---|"]
    complete = complete_games(runs, args)
    for game in args.games:
        done = {arch: arch_runs(runs, game, arch) for arch in ARCHS}
        if not any(done.values()):
            continue
        scale = max(abs(evaluation_return(m)) for m in game_runs(runs, game))
        decimals = rl_statistics.score_decimals(scale)
        scores = {arch: [evaluation_return(m) for m in done[arch].values()] for arch in ARCHS}
        normalised = " / ".join(f"{np.median(rl_statistics.human_normalised(game, scores[arch])):.3f}"
                                if scores[arch] else "n/a" for arch in ARCHS)
        verdict = rl_statistics.call(game, *scores.values()) if game in complete else (
            f"{sum(map(len, done.values()))} of {2 * len(seeds_of(args, game))} runs in")
        lines.append(f"| {game} | {median_range(scores[ARCHS[0]], decimals)} | "
                     f"{median_range(scores[ARCHS[1]], decimals)} | {normalised} | "
                     f"{', '.join(map(str, seeds_of(args, game)))} | {verdict} |")
    return "\n".join(lines) + "\n"


def aggregate_of(runs: dict, args) -> dict | None:
    """rliable's aggregate over the complete games, on the seeds they all share; None before any game is complete."""
    games = complete_games(runs, args)
    if not games:
        return None
    seeds = sorted(set.intersection(*(set(seeds_of(args, game)) for game in games)))
    conv, coordconv = (rl_statistics.score_matrix({game: evaluation_scores(runs, game, arch, seeds)
                                                   for game in games}, games) for arch in ARCHS)
    calls = [rl_statistics.call(game, *(evaluation_scores(runs, game, arch, seeds_of(args, game)) for arch in ARCHS))
             for game in games]
    return {"games": games, "seeds": seeds, "calls": dict(zip(games, calls)),
            **rl_statistics.aggregate(conv, coordconv, reps=args.reps)}


def aggregate_text(aggregate: dict | None, args) -> str:
    """The aggregate as a table and one line of calls."""
    if aggregate is None:
        return "No game has all its runs yet: no aggregate.\n"
    iqm, mean = aggregate["iqm"], aggregate["mean"]
    counts = ", ".join(f"{verdict} on {list(aggregate['calls'].values()).count(verdict)}"
                       for verdict in ("better", "similar", "worse", "uninformative"))
    return "\n".join([
        f"Over {len(aggregate['games'])} of {len(args.games)} games ({', '.join(aggregate['games'])}), seeds "
        f"{', '.join(map(str, aggregate['seeds']))}: human-normalised evaluation returns, point estimate "
        f"[{rl_statistics.CONFIDENCE:.0%} stratified-bootstrap interval, {args.reps:,} resamples].", "",
        "| figure | a2c_conv | a2c_coordconv |", "|---|---:|---:|",
        f"| IQM | {iqm['baseline'].text()} | {iqm['candidate'].text()} |",
        f"| mean | {mean['baseline'].text()} | {mean['candidate'].text()} |", "",
        f"IQM difference (coordconv − conv): {aggregate['iqm_difference'].text()}; "
        f"P(coordconv > conv): {aggregate['probability_of_improvement'].text()}.", "",
        f"Per-game calls: {counts}.", ""])


def comparison_table(runs: dict, args) -> str:
    """The runs finished both here and in --compare, their returns side by side (here / there) seed by seed, then
    the settings of config.json in which they differ: how much a change of settings moves each figure."""
    other = argparse.Namespace(**{**vars(args), "results": args.compare})
    there = finished_runs(other)
    shared = sorted(set(runs) & set(there))
    if not shared:
        return f"No run has finished both here and in {args.compare}.\n"
    lines = [f"Here / in {args.compare}, the same game, arch and seed:", "",
             "| game | arch | seed | return, last 100 training games | mean over the run | "
             f"evaluation return, {args.eval_episodes} games |", "|---|---|---|---:|---:|---:|"]
    for game, arch in sorted({job[:2] for job in shared}, key=lambda pair: (args.games.index(pair[0]), pair[1])):
        seeds = [seed for g, a, seed in shared if (g, a) == (game, arch)]
        scale = max(abs(score(m)) for m in game_runs(runs, game) + game_runs(there, game) for score in RETURN_COLUMNS)
        decimals = rl_statistics.score_decimals(scale)
        for seed in seeds:
            pair = " | ".join(f"{rl_statistics.score_text(score(runs[(game, arch, seed)]), scale)} / "
                              f"{rl_statistics.score_text(score(there[(game, arch, seed)]), scale)}"
                              for score in RETURN_COLUMNS)
            lines.append(f"| {game} | {arch} | {seed} | {pair} |")
        spreads = " | ".join(" / ".join(median_range([score(side[(game, arch, seed)]) for seed in seeds], decimals)
                                        for side in (runs, there)) for score in RETURN_COLUMNS)
        lines.append(f"| **{game}** | **{arch}** | median (min–max) | {spreads} |")
    differences = settings_differences([(run_dir(args, *job), run_dir(other, *job)) for job in shared])
    return "\n".join(lines + ["", f"Settings that differ (config.json, here / there): {differences}.", ""])


def settings_differences(folder_pairs: list) -> str:
    """'key: here / there' for every config.json key (but the output folder) that differs in some pair of runs."""
    differing = {}
    for here, there in folder_pairs:
        configs = [json.loads((folder / "config.json").read_text()) for folder in (here, there)]
        for key in sorted((set(configs[0]) | set(configs[1])) - {"output"}):
            values = tuple(json.dumps(config[key]) if key in config else "not recorded" for config in configs)
            if values[0] != values[1]:
                differing.setdefault(key, set()).add(" / ".join(values))
    return "; ".join(f"{key}: {', '.join(sorted(values))}" for key, values in differing.items()) or "none"


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
    """Training return against frames, one panel per game (three a row): each seed thin, the median over seeds
    thick (over the rows every seed reached)."""
    columns = min(3, len(args.games))
    rows = -(-len(args.games) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(6 * columns, 4 * rows), squeeze=False)
    for axis, game in zip(axes.flat, args.games):
        for arch, colour in zip(ARCHS, ("tab:blue", "tab:orange")):
            curves = [curve(metrics) for metrics in arch_runs(runs, game, arch).values()]
            for frames, returns in curves:
                axis.plot(frames, returns, color=colour, linewidth=0.7, alpha=0.5)
            if curves:
                length = min(len(frames) for frames, _ in curves)
                axis.plot(curves[0][0][:length], np.median([returns[:length] for _, returns in curves], axis=0),
                          color=colour, linewidth=2.5, label=f"{arch} (median of {len(curves)} seeds)")
        axis.set(title=game, xlabel="emulator frames", ylabel="mean return, last 100 games")
        if axis.lines:
            axis.legend(fontsize="small")
    for axis in list(axes.flat)[len(args.games):]:
        axis.set_visible(False)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def plot_aggregate(aggregate: dict, path: Path):
    """rliable's interval plot: IQM and mean of each arch with their intervals."""
    from rliable import plot_utils  # seaborn comes with it: only where a figure is drawn

    def arrays(agent: str) -> tuple:
        estimates = [aggregate["iqm"][agent], aggregate["mean"][agent]]
        return (np.array([e.point for e in estimates]),
                np.array([[e.low for e in estimates], [e.high for e in estimates]]))

    names = {"baseline": ARCHS[0], "candidate": ARCHS[1]}
    points, intervals = ({names[agent]: arrays(agent)[i] for agent in names} for i in (0, 1))
    figure, _ = plot_utils.plot_interval_estimates(  # sized so that two rows' ticks and label do not overlap
        points, intervals, metric_names=["IQM", "Mean"], algorithms=list(ARCHS), xlabel="human-normalised score",
        max_ticks=3, subfigure_width=4.2, row_height=0.6, xlabel_y_coordinate=-0.35)
    figure.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(figure)


def curve(metrics: dict) -> tuple:
    """(frames, returns) of the history rows where some game had ended."""
    rows = [row for row in metrics["history"] if row["return_mean"] != ""]
    return np.array([int(row["frames"]) for row in rows]), np.array([float(row["return_mean"]) for row in rows])


def finished_runs(args) -> dict:
    """The runs of the study that have finished in --results, read and never trained or removed."""
    found = {job: finished_metrics(run_dir(args, *job), args) for job in jobs_of(args)}
    return {job: metrics for job, metrics in found.items() if metrics}


def train_all(args) -> dict:
    """Every run of the study, trained or read, with a progress bar and a line as each ends."""
    jobs = jobs_of(args)
    progress = keras.utils.Progbar(len(jobs), unit_name="run")
    runs = {}
    for job, metrics in trained(jobs, args):
        runs[job] = metrics
        print("\n" + rl_training.summary_line(metrics) + f", seed {job[2]}")
        progress.update(len(runs))
    return runs


def settings_sentence(args) -> str:
    """' a2c_coordconv here: --coords all.' for a variant study, whose rows name the arch alone; '' otherwise."""
    flags = coordconv_flags(args, "a2c_coordconv")
    return f" a2c_coordconv here: {command_line('', flags)}." if flags else ""


def write_report(runs: dict, args):
    """table.md (every run, per game, the aggregate), results.json, returns.png and aggregate.png, named by
    report_path."""
    aggregate = aggregate_of(runs, args)
    count = f"{len(runs)} of {len(jobs_of(args))} runs finished.{settings_sentence(args)}\n\n"
    text = (count + table(runs, args) + "\n" + per_game_table(runs, args) + "\n" + aggregate_text(aggregate, args)
            + (f"\n{comparison_table(runs, args)}" if args.compare else ""))
    report_path(args, "table.md").write_text(stamped(text, args.command))
    write_json(report_path(args, "results.json"), {
        "frames": args.frames, "games": args.games, "coords": args.coords,
        "coords_init_scale": args.coords_init_scale,
        "aggregate": jsonable(aggregate),
        "runs": [{"game": game, "arch": arch, "seed": seed, **{key: metrics[key] for key in (
            "frames", "final", "evaluation", "frames_per_s", "wall_time_s")}}
            for (game, arch, seed), metrics in sorted(runs.items())]})
    if runs:
        plot(runs, args, report_path(args, "returns.png"))
    if aggregate:
        plot_aggregate(aggregate, report_path(args, "aggregate.png"))


def jsonable(aggregate: dict | None):
    """The aggregate with each Estimate as {point, low, high}."""
    if isinstance(aggregate, dict):
        return {key: jsonable(value) for key, value in aggregate.items()}
    if isinstance(aggregate, rl_statistics.Estimate):
        return dataclasses.asdict(aggregate)
    return aggregate


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.results)
    if args.print_commands:
        print("\n".join(missing_commands(args)))
        return
    start = time.perf_counter()
    if args.report_only:
        runs = finished_runs(args)
        out.mkdir(parents=True, exist_ok=True)
        write_report(runs, args)
    else:
        with locked(out):
            runs = train_all(args)
            write_report(runs, args)
    table_path = report_path(args, "table.md")
    print(f"\nwrote {table_path}, its results.json and figures in {time.perf_counter() - start:.0f} s\n")
    print(table_path.read_text())


if __name__ == "__main__":
    sys.exit(run_cli(main))
