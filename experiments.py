"""The rows of the paper's §4 table as this project runs them: arch, the paper's flags, our budget.

reproduce.py trains them; ablation.py and bench/ start from the CoordConv
classification row's flags, written here once.
"""

import dataclasses

import archs


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One row: the arch, its flags, its CPU budget and the paper's claim it is read against."""

    task: str
    model: str
    arch: str
    flags: tuple  # hyper-parameters shared by both budgets
    epochs: int  # the default CPU budget
    full_flags: tuple  # the paper's epochs and LR schedule (experiment_logs.sh)
    paper: str  # the paper's figure or claim for this row
    seconds: int  # about one seed's default budget on 2 CPU cores, in s: reproduce.py --jobs starts the longest first
    seeds: int = 1  # seeds 0..N-1 unless --seeds names others
    budget_flags: tuple = ()  # the default budget's own recipe (docs/seed_study.md)


# A seed generalises when its final val figure reaches these: the paper's
# "perfect generalization", with room for one pixel's worth of rounding.
GENERALISES = {"classification": lambda v: v >= 0.999, "rendering": lambda v: v >= 0.99,
               "regression": lambda v: v <= 0.5}


EXPERIMENTS = (
    Experiment("classification", "CoordConv", "coordconv_classification",
               ("-mb", "16", "-L", "0.005", "--opt", "adam", "--l2", "0.001", "-mul", "1"), 3,
               ("-E", "50"), "100% test accuracy on both splits (§4.1)", seeds=3, seconds=47,
               budget_flags=("--init_scale", "0.25", "--lrpolicy", "cosine", "--warmup", "1")),
    Experiment("classification", "Deconv", "deconv_classification",
               ("-mb", "32", "-L", "0.002", "--opt", "adam", "-mul", "1", "-fs", "3"), 12,
               ("-E", "1000", "--lrpolicy", "step", "--lrstepevery", "200", "--lrmaxsteps", "4"),
               "best test accuracy ~86% on uniform, ~0% on quadrant, train accuracy far higher (§4.1)", seconds=55),
    Experiment("rendering", "CoordConv", "coordconv_rendering",
               ("-mb", "16", "-L", "0.005", "--opt", "adam", "-mul", "1", "-fs", "3", "-sig", "-interm", "softmax"),
               2, ("-E", "50"), "high test IoU on both splits (§4.3)", seeds=3, seconds=40,
               budget_flags=("--init_scale", "0.25", "--center_l2", "0.001", "--lrpolicy", "cosine", "--hold", "1.75")),
    Experiment("rendering", "Deconv", "deconv_rendering",
               ("-mb", "32", "-L", "0.002", "--opt", "adam", "-mul", "1", "-fs", "3", "-sig"), 10,
               ("-E", "1000", "--lrpolicy", "step", "--lrstepevery", "200", "--lrmaxsteps", "4"),
               "fits train, generalises poorly on quadrant (§4.3)", seconds=46),
    Experiment("regression", "CoordConv", "coordconv_regressor",
               ("-mb", "32", "-L", "0.01", "--opt", "adam", "--l2", "0.00001"), 4,
               ("-E", "100"), "near-perfect on both splits (§4.2)", seeds=3, seconds=13,
               budget_flags=("--coords_init_scale", "0", "--lrpolicy", "cosine", "--warmup", "2",
                             "--redraw_dead", "3")),
    Experiment("regression", "Conv", "conv_regressor",
               ("-mb", "32", "-L", "0.001", "--opt", "adam", "--l2", "0.0001", "-mul", "1"), 10,
               ("-E", "100"), "fails to generalise to the held-out quadrant (§4.2)", seconds=27),
)


def experiment(arch: str) -> Experiment:
    """The row of `arch`."""
    return next(row for row in EXPERIMENTS if row.arch == arch)


def final_value(arch: str, metrics: dict, part: str) -> float:
    """A run's last-epoch figure of its task's main metric on "train" or "val" (metrics.json's "final")."""
    values = metrics["final"][part]
    return values[archs.ARCHS[arch].task.metric_key(values)]


def formatted(row: Experiment, value: float) -> str:
    if row.task == "classification":
        return f"{100 * value:.1f}%"
    return f"{value:.3f}" if row.task == "rendering" else f"{value:.2f}"
