"""The seed study: which recipes make the CoordConv models hold the held-out quadrant for every seed.

    python -m studies.ablation                                   # every recipe over seeds 0-4
    python -m studies.ablation --recipes paper init_0.5 --seeds 0 1 2 --epochs 8
    python -m studies.ablation --arch coordconv_regressor --recipes paper cosine_warmup_2 --epochs 6
    python -m studies.ablation --table-only                      # the table again, from the recorded runs

Each recipe is `--arch` (CoordConv classification unless told) on
`rectangle_4_quadrant.h5` with the paper's flags plus its own; a seed
generalises when its final val figure passes reproduce.py's bar (accuracy
≥ 99.9%, IoU ≥ 0.99, error ≤ 0.5 px). For classification it also records how
far each val miss lies from its target, which is what docs/seed_study.md
reads. Writes results/ablation.md and .json (ablation_<arch>.* for the other
archs), adding to the runs a previous call recorded at the same --epochs (so a
recipe can get more seeds later); runs live in results/ablation[_<arch>]/<recipe>_seed<S>
and resume when rerun.
"""

import json
import statistics
import sys
from pathlib import Path

from lab import backends  # noqa: F401  Keras on its backend, quiet: before keras loads

import h5py
import keras
import numpy as np

from lab.supervised import not_so_clevr as generator, redraw, supervised_training, tasks
from studies.experiments import EXPERIMENTS, GENERALISES, as_argv, experiment, final_value, formatted
from lab.runs import clear_if_stale, locked, write_json
from lab.util import CliError, Parser, positive, run_cli
from lab.provenance import command_line, stamped

ARCH_CHOICES = tuple(e.arch for e in EXPERIMENTS if e.model == "CoordConv")
CLASSIFICATION, REGRESSOR = "coordconv_classification", "coordconv_regressor"
RECIPES = {  # name: (what it changes, its flags on top of the paper's)
    "paper": ("the paper's flags, constant LR", ()),
    "step_lr": ("LR ÷10 after 3 epochs (reproduce.py's earlier budget)", ("--lrpolicy", "step", "--lrstepevery", "3")),
    "lr_0.001": ("LR 0.001", ("-L", "0.001")),
    "cosine_warmup": ("1 warm-up epoch, then cosine to 0", ("--lrpolicy", "cosine", "--warmup", "1")),
    "adam_eps_1e-3": ("Adam epsilon 1e-3 (1e-8)", ("--adameps", "1e-3")),
    "batch_64": ("minibatch 64 (16)", ("-mb", "64")),
    "l2_0": ("no weight decay (0.001)", ("--l2", "0")),
    "l2_0.01": ("weight decay 0.01 (0.001)", ("--l2", "0.01")),
    "init_0.5": ("he_normal std ×0.5", ("--init_scale", "0.5")),
    "init_0.25": ("he_normal std ×0.25", ("--init_scale", "0.25")),
    "init_0.5_cosine": ("he_normal std ×0.5, 1 warm-up epoch, cosine to 0",
                        ("--init_scale", "0.5", "--lrpolicy", "cosine", "--warmup", "1")),
    "init_0.5_cosine_l2_0.01": ("he_normal std ×0.5, cosine, weight decay 0.01",
                                ("--init_scale", "0.5", "--lrpolicy", "cosine", "--warmup", "1", "--l2", "0.01")),
    "init_0.25_cosine": ("he_normal std ×0.25, 1 warm-up epoch, cosine to 0",
                         ("--init_scale", "0.25", "--lrpolicy", "cosine", "--warmup", "1")),
    "init_0.25_center_l2": ("he_normal std ×0.25, the paper's constant LR, weight decay 0.001 on the "
                            "centre-map layers only (rendering)", ("--init_scale", "0.25", "--center_l2", "0.001")),
    "init_0.5_cosine_lr_0.002": ("he_normal std ×0.5, cosine from LR 0.002",
                                 ("--init_scale", "0.5", "--lrpolicy", "cosine", "--warmup", "1", "-L", "0.002")),
    "cosine_warmup_2": ("2 warm-up epochs, then cosine to 0", ("--lrpolicy", "cosine", "--warmup", "2")),
    "cosine_warmup_2_redraw": ("2 warm-up epochs, cosine to 0, a dead first epoch redrawn (up to 5 times)",
                               ("--lrpolicy", "cosine", "--warmup", "2", "--redraw_dead", "5")),
    "coords_init_0.1_cosine_warmup_2": ("coordinate weights ×0.1 at the start, 2 warm-up epochs, cosine to 0",
                                        ("--coords_init_scale", "0.1", "--lrpolicy", "cosine", "--warmup", "2")),
    "coords_init_0": ("coordinate weights 0 at the start (blind to position)", ("--coords_init_scale", "0")),
    "coords_init_0_cosine_warmup_2": ("coordinate weights 0 at the start, 2 warm-up epochs, cosine to 0",
                                      ("--coords_init_scale", "0", "--lrpolicy", "cosine", "--warmup", "2")),
    "with_r": ("with the radius channel", ("--with_r",)),
    "pixel_frame": ("raw pixel coordinates as input, as the paper's code", ("--coords_frame", "pixel")),
}


def parse_args(argv=None):
    parser = Parser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=ARCH_CHOICES, default=CLASSIFICATION)
    parser.add_argument("--recipes", nargs="+", choices=tuple(RECIPES), default=tuple(RECIPES), metavar="RECIPE",
                        help=f"of: {', '.join(RECIPES)}")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4], metavar="S")
    parser.add_argument("--epochs", "-E", type=positive(int), default=8)
    parser.add_argument("--results", default="results", help="output folder")
    parser.add_argument("--data-dir", default="data", help="folder of the Not-so-Clevr .h5 files")
    parser.add_argument("--table-only", action="store_true",
                        help="train nothing: rewrite the table from the runs ablation.json records")
    args = parser.parse_args(argv)
    args.command = command_line(parser.prog, argv)
    return args


def train_argv(recipe: str, seed: int, args) -> list:
    return ["--arch", args.arch, *as_argv(experiment(args.arch).flags), "--data_h5", str(quadrant_h5(args)),
            "-E", str(args.epochs), "--seed", str(seed), "--quiet", "--snapshot-every", "0",
            "--evaluation_h5", "val", "--output", str(run_dir(recipe, seed, args)), *RECIPES[recipe][1]]


def quadrant_h5(args) -> Path:
    return generator.dataset_path(args.data_dir, "quadrant")


def stem(args) -> str:
    """ablation for CoordConv classification (the study's first arch), ablation_<arch> for the others."""
    return "ablation" if args.arch == CLASSIFICATION else f"ablation_{args.arch}"


def run_dir(recipe: str, seed: int, args) -> Path:
    return Path(args.results) / stem(args) / f"{recipe}_seed{seed}"


def run_one(recipe: str, seed: int, args) -> dict:
    argv = train_argv(recipe, seed, args)
    clear_if_stale(run_dir(recipe, seed, args), *supervised_training.run_flags(argv))
    keras.backend.clear_session()
    metrics = supervised_training.main(argv)
    row = experiment(args.arch)
    value = final_value(args.arch, metrics, "val")
    print(f"{args.arch}, {recipe}, seed {seed}: final val {formatted(row, value)}, {metrics['wall_time_s']:.0f} s")
    found = {"recipe": recipe, "seed": seed, "val": value, "train": final_value(args.arch, metrics, "train"),
             "generalises": bool(GENERALISES[row.task](value)), "wall_time_s": metrics["wall_time_s"],
             **first_generalising_epoch(metrics["history"], args.arch)}
    return found if args.arch != REGRESSOR else {**found, "onehot_wins_at_init": onehot_wins_at_init(argv)}


def onehot_wins_at_init(argv: list) -> list:
    """Per output of the regressor: the share of training images whose map, before the global max pool,
    peaks within 2 px of the one-hot at initialisation. Only there does the pool pass a gradient to the
    one-hot's weights; elsewhere the output is the coordinate channels' value at one fixed pixel.
    """
    model, images = initial_model(argv)
    peak = redraw.pooled_peaks(model, images)
    onehot = images.reshape(len(images), -1).argmax(axis=1)[:, None]
    width = images.shape[2]
    near = np.maximum(abs(peak // width - onehot // width), abs(peak % width - onehot % width)) <= 2
    return near.mean(axis=0).tolist()


def initial_model(argv: list):
    """The model train.py starts from with these flags (same seed, same order of draws), and its train inputs."""
    args, task, loss, (inputs, _), _ = supervised_training.prepared(argv)
    keras.backend.clear_session()
    return supervised_training.seeded_model(args, task, loss, steps_per_epoch=1), inputs


def first_generalising_epoch(history: list, arch: str) -> dict:
    """The first epoch whose val figure generalises, and its wall time; None if none did."""
    generalises, key = GENERALISES[experiment(arch).task], tasks.TASK_OF[arch].metric_key(history[0], "val_")
    for row in history:
        if generalises(float(row[key])):
            return {"first_generalising_epoch": int(row["epoch"]) + 1, "first_generalising_s": float(row["time_s"])}
    return {"first_generalising_epoch": None, "first_generalising_s": None}


def val_errors(recipe: str, seed: int, args) -> dict:
    """Where the final model's val peaks fall: the misses, those on a neighbouring pixel (diagonals
    included), how deep into the held-out quadrant their targets lie, and the sub-pixel
    offset of each peak from its target along x and y (a parabola through the argmax and its two
    neighbours, on the target's row and column); an offset beyond 0.5 px is a miss.
    """
    evaluation = max(run_dir(recipe, seed, args).glob("evaluation_*.h5"))
    with h5py.File(evaluation, "r") as h5:
        logits = h5["logits_val"][()][..., 0]
    with h5py.File(quadrant_h5(args), "r") as h5:
        x, y = h5["val_locations"][()].T
    examples = np.arange(len(logits))
    flat_index = logits.reshape(len(logits), -1).argmax(axis=1)
    dy, dx = flat_index // logits.shape[2] - y, flat_index % logits.shape[2] - x
    distance = np.hypot(dx, dy)
    missed = distance > 0
    depth = np.minimum(x, y) - generator.IMAGE_SIZE // 2  # pixels into the held-out quadrant (x, y > 32)
    offsets = np.abs(np.concatenate([peak_offset(logits[examples, y, :], x), peak_offset(logits[examples, :, x], y)]))
    return {"misses": int(missed.sum()), "misses_one_pixel": int((np.maximum(abs(dx), abs(dy)) == 1).sum()),
            "largest_miss_px": float(distance.max()),
            "missed_depth_px": depth[missed].tolist(), "mean_depth_px": float(depth.mean()),
            "mean_abs_offset_px": float(offsets.mean()), "max_abs_offset_px": float(offsets.max())}


def peak_offset(profiles: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Sub-pixel position of each 1D profile's peak, minus its target index."""
    examples = np.arange(len(profiles))
    peak = np.clip(profiles.argmax(axis=1), 1, profiles.shape[1] - 2)
    left, center, right = (profiles[examples, peak + step] for step in (-1, 0, 1))
    curvature = left - 2 * center + right
    vertex = np.where(curvature < 0, (left - right) / (2 * np.minimum(curvature, -1e-12)), 0.0)
    return peak + vertex - targets


def summary(recipe: str, runs: list, args) -> dict:
    reached = [run["first_generalising_s"] for run in runs if run["first_generalising_s"] is not None]
    worst = min if tasks.TASK_OF[args.arch].best_mode == "max" else max
    found = {"recipe": recipe, "change": RECIPES[recipe][0], "flags": " ".join(RECIPES[recipe][1]),
             "seeds": [run["seed"] for run in runs], "generalising": sum(run["generalises"] for run in runs),
             "median_val": statistics.median(run["val"] for run in runs),
             "worst_val": worst(run["val"] for run in runs),
             "ever_generalising": len(reached), "median_first_generalising_s": median_or_none(reached),
             "median_wall_time_s": statistics.median(run["wall_time_s"] for run in runs)}
    if args.arch == REGRESSOR:
        return {**found, "onehot_wins_at_init": [run.get("onehot_wins_at_init") for run in runs]}
    return found if args.arch != CLASSIFICATION else {**found, **misses(recipe, runs, args)}


def misses(recipe: str, runs: list, args) -> dict:
    """Where the classification runs' val misses lie, summed over the seeds."""
    errors = [val_errors(recipe, run["seed"], args) for run in runs]
    return {"misses": sum(e["misses"] for e in errors), "misses_one_pixel": sum(e["misses_one_pixel"] for e in errors),
            "largest_miss_px": max(e["largest_miss_px"] for e in errors),
            "missed_depth_px": median_or_none([d for e in errors for d in e["missed_depth_px"]]),
            "mean_depth_px": errors[0]["mean_depth_px"],
            "mean_abs_offset_px": [round(e["mean_abs_offset_px"], 3) for e in errors],
            "max_abs_offset_px": [round(e["max_abs_offset_px"], 2) for e in errors]}


def median_or_none(values: list):
    return statistics.median(values) if values else None


def table(summaries: list, args) -> str:
    row = experiment(args.arch)
    header = ["recipe", "flags", "seeds", f"seeds generalising at epoch {args.epochs}", "final val, median (worst)",
              "seeds ever generalising", "median time to first generalising epoch", "median run time"]
    rows = [[s["change"], f"`{s['flags'] or '—'}`", len(s["seeds"]), s["generalising"],
             f"{formatted(row, s['median_val'])} ({formatted(row, s['worst_val'])})", s["ever_generalising"],
             quantity(s["median_first_generalising_s"], "s"), quantity(s["median_wall_time_s"], "s")]
            for s in summaries]
    note = ""
    if args.arch == CLASSIFICATION:
        header += ["val misses: on a neighbouring pixel / all", "largest miss", "median depth of missed targets",
                   "mean peak offset per seed"]
        rows = [cells + [f"{s['misses_one_pixel']} / {s['misses']}", f"{s['largest_miss_px']:.1f} px",
                         quantity(s["missed_depth_px"], "px"),
                         ", ".join(f"{v:.2f}" for v in s["mean_abs_offset_px"]) + " px"]
                for cells, s in zip(rows, summaries)]
        note = "\n" + TABLE_NOTE.format(depth=summaries[0]["mean_depth_px"])
    elif args.arch == REGRESSOR:
        header.append("images peaking at the one-hot at init, x / y output, per seed")
        rows = [cells + [", ".join(shares(pair) for pair in s["onehot_wins_at_init"])]
                for cells, s in zip(rows, summaries)]
    alignment = "|---|---|" + "---:|" * (len(header) - 2)
    lines = [f"| {' | '.join(map(str, cells))} |" for cells in [header, *rows]]
    return "\n".join([lines[0], alignment, *lines[1:]]) + "\n" + note


def shares(pair) -> str:
    return "—" if pair is None else " / ".join(f"{100 * share:.0f}%" for share in pair)


TABLE_NOTE = ("Depth: pixels into the held-out quadrant (min(x, y) − 32; val targets average {depth:.1f}). Peak "
              "offset: how far the peak of the logits along the target's row and column lies from the target, "
              "in pixels (a parabola through the argmax and its neighbours); beyond 0.5 px the argmax misses.\n")


def quantity(value, unit: str) -> str:
    return "—" if value is None else f"{value:.0f} {unit}"


def recorded_runs(path: Path, epochs: int) -> list:
    """The runs an earlier call wrote to ablation.json, if it trained as many epochs."""
    if not path.exists():
        return []
    saved = json.loads(path.read_text())
    return saved["runs"] if saved.get("epochs") == epochs else []


def merged(old: list, new: list) -> dict:
    """{recipe: runs sorted by seed}, in RECIPES' order; a new run replaces an old one of the same seed."""
    by_key = {(run["recipe"], run["seed"]): run for run in old + new}
    return {recipe: [by_key[key] for key in sorted(k for k in by_key if k[0] == recipe)]
            for recipe in RECIPES if any(key[0] == recipe for key in by_key)}


def main(argv=None):
    args = parse_args(argv)
    with locked(Path(args.results)):
        if not quadrant_h5(args).exists():
            generator.main(["--out-dir", args.data_dir, "--splits", "quadrant"])
        saved = Path(args.results) / f"{stem(args)}.json"
        new = [] if args.table_only else [run_one(recipe, seed, args) for recipe in args.recipes for seed in args.seeds]
        runs = merged(recorded_runs(saved, args.epochs), new)
        if not runs:
            raise CliError(f"{saved} records no runs of {args.epochs} epochs: "
                           "run studies/ablation.py without --table-only first")
        summaries = [summary(recipe, recipe_runs, args) for recipe, recipe_runs in runs.items()]
        write_json(saved, {"arch": args.arch, "epochs": args.epochs, "recipes": summaries,
                           "runs": [run for recipe_runs in runs.values() for run in recipe_runs]})
        every_seed = SEED_LINE.format(lines=seed_lines(runs, args))
        saved.with_suffix(".md").write_text(stamped(table(summaries, args) + every_seed, args.command))
        print("\n" + saved.with_suffix(".md").read_text())


SEED_LINE = "\nEvery seed (final val, run time):\n\n{lines}\n"


def seed_lines(runs: dict, args) -> str:
    row = experiment(args.arch)
    return "\n".join(f"- {recipe}: " + "; ".join(f"seed {run['seed']} {formatted(row, run['val'])} "
                                                 f"({run['wall_time_s']:.0f} s)" for run in recipe_runs)
                     for recipe, recipe_runs in runs.items())


if __name__ == "__main__":
    sys.exit(run_cli(main))
