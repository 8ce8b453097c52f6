"""The rows of the paper's §4 table as this project runs them: arch, the paper's flags, our budget.

reproduce.py trains them; studies/ablation.py and bench/ start from the CoordConv
classification row's flags, written here once.
"""

import dataclasses

from lab.supervised import tasks


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One row: the arch, its flags, its CPU budget and the paper's claim it is read against.

    Flags are {train.py's long flag name: value} (True for a switch); as_argv() writes them out.
    """

    task: str
    model: str
    arch: str
    flags: dict  # hyper-parameters shared by both budgets
    epochs: int  # the default CPU budget
    full_flags: dict  # the paper's epochs and LR schedule (experiment_logs.sh)
    paper: str  # the paper's figure or claim for this row
    seconds: int  # about one seed's default budget on 2 CPU cores, in s: reproduce.py --jobs starts the longest first
    seeds: int = 1  # seeds 0..N-1 unless --seeds names others
    budget_flags: dict = dataclasses.field(default_factory=dict)  # the default budget's own recipe

    def __hash__(self):
        """A row is keyed by its arch: its flag dicts cannot be hashed."""
        return hash(self.arch)


def as_argv(flags: dict) -> list:
    """train.py's command-line words for `flags`."""
    return [word for name, value in flags.items()
            for word in ([f"--{name}"] if value is True else [f"--{name}", f"{value:g}" if isinstance(value, float)
                                                              else str(value)])]


# A seed generalises when its final val figure reaches these: the paper's
# "perfect generalization", with room for one pixel's worth of rounding.
GENERALISES = {"classification": lambda v: v >= 0.999, "rendering": lambda v: v >= 0.99,
               "regression": lambda v: v <= 0.5}

DECONV_FULL = {"epochs": 1000, "lrpolicy": "step", "lrstepevery": 200, "lrmaxsteps": 4}  # experiment_logs.sh

EXPERIMENTS = (
    Experiment(
        task="classification", model="CoordConv", arch="coordconv_classification",
        flags={"minibatch": 16, "lr": 0.005, "opt": "adam", "l2": 0.001, "channel_mul": 1},
        epochs=3, full_flags={"epochs": 50}, paper="100% test accuracy on both splits (§4.1)", seconds=47, seeds=3,
        budget_flags={"init_scale": 0.25, "lrpolicy": "cosine", "warmup": 1}),
    Experiment(
        task="classification", model="Deconv", arch="deconv_classification",
        flags={"minibatch": 32, "lr": 0.002, "opt": "adam", "channel_mul": 1, "filter_size": 3},
        epochs=12, full_flags=DECONV_FULL, seconds=55,
        paper="best test accuracy ~86% on uniform, ~0% on quadrant, train accuracy far higher (§4.1)"),
    Experiment(
        task="rendering", model="CoordConv", arch="coordconv_rendering",
        flags={"minibatch": 16, "lr": 0.005, "opt": "adam", "channel_mul": 1, "filter_size": 3,
               "use_sigm_loss": True, "interm_loss": "softmax"},
        epochs=2, full_flags={"epochs": 50}, paper="high test IoU on both splits (§4.3)", seconds=40, seeds=3,
        budget_flags={"init_scale": 0.25, "center_l2": 0.001, "lrpolicy": "cosine", "hold": 1.75,
                      "hard_center": True, "extra_epochs": 1, "fit_target": 0.999}),
    Experiment(
        task="rendering", model="Deconv", arch="deconv_rendering",
        flags={"minibatch": 32, "lr": 0.002, "opt": "adam", "channel_mul": 1, "filter_size": 3,
               "use_sigm_loss": True},
        epochs=10, full_flags=DECONV_FULL, paper="fits train, generalises poorly on quadrant (§4.3)", seconds=46),
    Experiment(
        task="regression", model="CoordConv", arch="coordconv_regressor",
        flags={"minibatch": 32, "lr": 0.01, "opt": "adam", "l2": 0.00001},
        epochs=4, full_flags={"epochs": 100}, paper="near-perfect on both splits (§4.2)", seconds=13, seeds=3,
        budget_flags={"coords_init_scale": 0, "lrpolicy": "cosine", "warmup": 2, "redraw_dead": 3}),
    Experiment(
        task="regression", model="Conv", arch="conv_regressor",
        flags={"minibatch": 32, "lr": 0.001, "opt": "adam", "l2": 0.0001, "channel_mul": 1},
        epochs=10, full_flags={"epochs": 100}, paper="fails to generalise to the held-out quadrant (§4.2)", seconds=27),
)


def experiment(arch: str) -> Experiment:
    """The row of `arch`."""
    return next(row for row in EXPERIMENTS if row.arch == arch)


def final_value(arch: str, metrics: dict, part: str) -> float:
    """A run's last-epoch figure of its task's main metric on "train" or "val" (metrics.json's "final")."""
    values = metrics["final"][part]
    return values[tasks.TASK_OF[arch].metric_key(values)]


def formatted(row: Experiment, value: float) -> str:
    if row.task == "classification":
        return f"{100 * value:.1f}%"
    return f"{value:.3f}" if row.task == "rendering" else f"{value:.2f}"
