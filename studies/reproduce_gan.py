"""The paper's generative claims (§5) at a budget 2 CPU cores can run: GAN against CoordConv GAN, and
deconv VAE against CoordConv VAE, over seeds.

    python -m studies.reproduce_gan [--studies gan vae] [--seeds 0 1 2] [--epochs 3] [--vae-epochs 5] [--width 8]
                                    [--dtype mixed_bfloat16]

Every network trains on the Not-so-Clevr squares (64x64 gray, one white
square per image: "mode collapse" and "moving" are easy to measure), every
layer at 1/8 of the paper's width (--width 8 against 64), at equal steps
within a study. The GANs take all 3,136 images and the paper's README flags
(-mb 16, Adam, -L 0.0001, --lr2 .0005, --z_dim 256) and training step. The
VAEs hold out the last tenth and take -mb 32, Adam -L 0.001, --z_dim 8. Per
arch and seed: the mode-collapse figures (one square per sample, center
coverage of the data's 8x8 cells) and the latent-walk figures (how far the
square moves per interpolation step against how much its area changes) before
training and after every epoch, and for the VAEs the held-out ELBO's terms.
Writes a table per study (table.md), results.json, a plot of the figures
against steps per study, and each run's last sample grid and latent walks
(and the VAEs' reconstructions). Runs resume: rerun to continue an
interrupted study.
"""

import argparse
import dataclasses
import shutil
import sys
import time
from pathlib import Path

from lab import backends  # noqa: F401  Keras on its backend, quiet: before keras loads

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from lab.generative import gan_training, vae_training
from lab.supervised import not_so_clevr as generator
from lab.runs import locked, write_json
from lab.util import positive, run_cli
from lab.provenance import command_line, stamped
from studies.tables import median_range

FIGURE_COLUMNS = {"one_of_each": "one square", "center_coverage": "center coverage",
                  "walk_center_step": "walk: center step (px)", "walk_area_change": "walk: area change",
                  "walk_presence": "walk: square present"}
ELBO_COLUMNS = {"loss": "held-out -ELBO", "reconstruction": "reconstruction", "kl": "KL"}


@dataclasses.dataclass(frozen=True)
class Study:
    """One family of §5: its trainer's main, the archs compared, their common flags, what its table shows."""
    train: object
    archs: tuple
    flags: str
    images: tuple  # the PNG kinds copied beside the table
    val_columns: dict  # metrics.json "val" figures, for the VAE's held-out ELBO


STUDIES = {
    "gan": Study(gan_training.main, ("simple_gan", "simple_coordconv_in_g"),
                 "-mb 16 -L 0.0001 --lr2 .0005 --opt adam --z_dim 256",  # the paper's README
                 ("samples_bn0", "interpolation"), {}),
    "vae": Study(vae_training.main, ("simple_vae", "simple_coordconv_vae"), "-mb 32 -L 0.001 --opt adam --z_dim 8",
                 ("samples_bn0", "interpolation", "reconstructions"), ELBO_COLUMNS),
}
ARCHS = tuple(arch for study in STUDIES.values() for arch in study.archs)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("--studies", nargs="+", choices=tuple(STUDIES), default=list(STUDIES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=positive(int), default=3, help="GAN epochs, of 196 steps")
    parser.add_argument("--vae-epochs", type=positive(int), default=5, help="VAE epochs, of 89 steps")
    parser.add_argument("--width", type=positive(int), default=8, help="the networks' base width (paper: 64)")
    parser.add_argument("--metric-samples", type=positive(int), default=500)
    parser.add_argument("--dtype", default="float32", choices=("float32", "mixed_bfloat16"),
                        help="the GAN study's train_gan.py --dtype (the VAEs train in float32)")
    parser.add_argument("--results", default="results", help="each study writes into its own folder in it")
    parser.add_argument("--data-dir", default="data")
    args = parser.parse_args(argv)
    args.command = command_line(parser.prog, argv)
    return args


def train_argv(study: str, arch: str, seed: int, args) -> list:
    epochs = args.epochs if study == "gan" else args.vae_epochs
    return ["--arch", arch, "--data_h5", str(generator.dataset_path(args.data_dir, "uniform")),
            *STUDIES[study].flags.split(), "-E", str(epochs), "--width", str(args.width), "--seed", str(seed),
            "--metric-samples", str(args.metric_samples), "--snapshot-every", "0", "--quiet",
            "--output", str(run_dir(args, study, arch, seed)), *(["--dtype", args.dtype] if study == "gan" else [])]


def study_dir(args, study: str) -> Path:
    return Path(args.results) / study


def run_dir(args, study: str, arch: str, seed: int) -> Path:
    return study_dir(args, study) / "runs" / f"{arch}_seed{seed}"


def run_all(args, study: str) -> dict:
    """{arch: [metrics.json of each seed]}, training what is not trained yet."""
    jobs = [(arch, seed) for arch in STUDIES[study].archs for seed in args.seeds]
    progress = keras.utils.Progbar(len(jobs), unit_name=f"{study} run")
    runs = {arch: [] for arch in STUDIES[study].archs}
    for done, (arch, seed) in enumerate(jobs):
        runs[arch].append(STUDIES[study].train(train_argv(study, arch, seed, args)))
        progress.update(done + 1)
    return runs


def figure(value: float) -> str:
    """Two decimals; n/a where the figure had nothing to measure (no square found)."""
    return f"{value:.2f}" if np.isfinite(value) else "n/a"


def row_figures(metrics: dict, study: Study) -> list:
    """The figures of one run, in the table's column order."""
    return [metrics["final"][key] for key in FIGURE_COLUMNS] + [metrics["val"][key] for key in study.val_columns]


def table(runs: dict, seeds: list, study: Study) -> str:
    columns = list(FIGURE_COLUMNS.values()) + list(study.val_columns.values())
    lines = ["| arch | seed | steps | " + " | ".join(columns) + " |", "|" + "---|" * (3 + len(columns))]
    for arch, seed_runs in runs.items():
        for seed, metrics in zip(seeds, seed_runs):
            steps = metrics["epochs"] * metrics["steps_per_epoch"]
            lines.append(f"| {arch} | {seed} | {steps} | "
                         + " | ".join(map(figure, row_figures(metrics, study))) + " |")
        per_column = zip(*(row_figures(metrics, study) for metrics in seed_runs))
        spreads = " | ".join(median_range(column, 2) for column in per_column)
        lines.append(f"| **{arch}** | median (min–max) | | {spreads} |")
    return "\n".join(lines) + "\n"


def curve(metrics: dict, key: str) -> list:
    return [metrics["initial"][key]] + [float(row[key]) for row in metrics["history"]]


def plot_against_steps(runs: dict, path: Path):
    figure, axes = plt.subplots(1, len(FIGURE_COLUMNS), figsize=(4 * len(FIGURE_COLUMNS), 3.2))
    for ax, (key, label) in zip(axes, FIGURE_COLUMNS.items()):
        for colour, (arch, seed_runs) in zip(("tab:blue", "tab:red", "tab:green"), runs.items()):
            for index, metrics in enumerate(seed_runs):
                values = curve(metrics, key)
                steps = np.arange(len(values)) * metrics["steps_per_epoch"]
                ax.plot(steps, values, color=colour, alpha=0.7, label=arch if index == 0 else None)
        ax.set(title=label, xlabel="steps")
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def collect_images(runs: dict, args, study: str):
    """Each run's last sample grid and latent walks (and reconstructions), beside the table."""
    folder = study_dir(args, study) / "images"
    folder.mkdir(parents=True, exist_ok=True)
    for arch, seed_runs in runs.items():
        for seed, metrics in zip(args.seeds, seed_runs):
            for kind in STUDIES[study].images:
                source = run_dir(args, study, arch, seed) / "fake_images" / f"{kind}_epoch{metrics['epochs']:03d}.png"
                shutil.copy(source, folder / f"{arch}_seed{seed}_{kind}.png")


def report(runs: dict, args, study: str):
    """table.md, results.json, the plot and the images of one study."""
    out = study_dir(args, study)
    (out / "table.md").write_text(stamped(table(runs, args.seeds, STUDIES[study]), args.command))
    write_json(out / "results.json", {arch: [{"seed": seed, "final": m["final"], "initial": m["initial"],
                                              "val": m.get("val"), "wall_time_s": m["wall_time_s"]}
                                             for seed, m in zip(args.seeds, seed_runs)]
                                      for arch, seed_runs in runs.items()})
    plot_against_steps(runs, out / "metrics_vs_steps.png")
    collect_images(runs, args, study)


def main(argv=None):
    args = parse_args(argv)
    with locked(Path(args.results)):
        if not generator.dataset_path(args.data_dir, "uniform").exists():
            generator.main(["--out-dir", args.data_dir, "--splits", "uniform"])
        for study in args.studies:
            start = time.perf_counter()
            runs = run_all(args, study)
            report(runs, args, study)
            table_path = study_dir(args, study) / "table.md"
            print(f"\n{study}: wrote {table_path}, results.json and figures in {time.perf_counter() - start:.0f} s\n")
            print(table_path.read_text())


if __name__ == "__main__":
    sys.exit(run_cli(main))
