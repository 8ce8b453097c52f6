#!/usr/bin/env python3
"""The paper's generative claims (§5) at a budget 2 CPU cores can run: GAN against CoordConv GAN over seeds.

    python reproduce_gan.py [--seeds 0 1 2] [--epochs 3] [--width 8] [--results results/gan]

Both GANs train on the Not-so-Clevr squares (all 3,136 images, 64x64 gray,
as the paper's simple_* runs) with the paper's README flags (-mb 16, Adam,
-L 0.0001, --lr2 .0005, --z_dim 256) and the paper's training step, at equal
steps, every layer of both networks at 1/8 of the paper's width (--width 8
against 64), which makes a CoordConv GAN step about 50x cheaper. Per arch
and seed: the mode-collapse figures (one object per sample, centre coverage
of the data's 8x8 cells) and the latent-walk figures (how far the square
moves per interpolation step against how much its area changes) before
training and after every epoch. Writes table.md, results.json, a plot of the
figures against steps, and each run's last sample grid and latent walks.
Runs resume: rerun to continue an interrupted study.
"""

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow loads: no I0000/E0000 lines

import keras  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import train_gan  # noqa: E402
from data import not_so_clevr_generator as generator  # noqa: E402
from train import write_json  # noqa: E402
from util import positive, run_cli  # noqa: E402

ARCHS = ("simple_gan", "simple_coordconv_in_g")
MINIBATCH = 16
FLAGS = f"-mb {MINIBATCH} -L 0.0001 --lr2 .0005 --opt adam --z_dim 256"  # the paper's README
COLUMNS = {"one_of_each": "one square", "centre_coverage": "centre coverage",
           "walk_centre_step": "walk: centre step (px)", "walk_area_change": "walk: area change",
           "walk_presence": "walk: square present"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=positive(int), default=3, help="epochs of 196 steps")
    parser.add_argument("--width", type=positive(int), default=8, help="the networks' base width (paper: 64)")
    parser.add_argument("--metric-samples", type=positive(int), default=500)
    parser.add_argument("--archs", nargs="+", choices=train_gan.model_builders.GAN_ARCHS, default=list(ARCHS))
    parser.add_argument("--results", default="results/gan")
    parser.add_argument("--data-dir", default="data")
    return parser.parse_args(argv)


def train_argv(arch: str, seed: int, args) -> list:
    return ["--arch", arch, "--data_h5", str(generator.dataset_path(args.data_dir, "uniform")), *FLAGS.split(),
            "-E", str(args.epochs), "--width", str(args.width), "--seed", str(seed),
            "--metric-samples", str(args.metric_samples), "--snapshot-every", "0", "--quiet",
            "--output", str(run_dir(args, arch, seed))]


def run_dir(args, arch: str, seed: int) -> Path:
    return Path(args.results) / "runs" / f"{arch}_seed{seed}"


def run_all(args) -> dict:
    """{arch: [metrics.json of each seed]}, training what is not trained yet."""
    if not generator.dataset_path(args.data_dir, "uniform").exists():
        generator.main(["--out-dir", args.data_dir, "--splits", "uniform"])
    jobs = [(arch, seed) for arch in args.archs for seed in args.seeds]
    progress = keras.utils.Progbar(len(jobs), unit_name="run")
    runs = {arch: [] for arch in args.archs}
    for done, (arch, seed) in enumerate(jobs):
        runs[arch].append(train_gan.main(train_argv(arch, seed, args)))
        progress.update(done + 1)
    return runs


def spread(values: list) -> str:
    """'median (min–max)' of the finite values."""
    finite = [v for v in values if np.isfinite(v)]
    if not finite:
        return "n/a"
    return f"{np.median(finite):.2f} ({min(finite):.2f}–{max(finite):.2f})"


def table(runs: dict, seeds: list, steps_per_epoch: int) -> str:
    header = "| arch | seed | steps | " + " | ".join(COLUMNS.values()) + " |"
    lines = [header, "|" + "---|" * (3 + len(COLUMNS))]
    for arch, seed_runs in runs.items():
        for seed, metrics in zip(seeds, seed_runs):
            steps = metrics["epochs"] * steps_per_epoch
            lines.append(f"| {arch} | {seed} | {steps} | "
                         + " | ".join(f"{metrics['final'][key]:.2f}" for key in COLUMNS) + " |")
        lines.append(f"| **{arch}** | median (min–max) | | "
                     + " | ".join(spread([m["final"][key] for m in seed_runs]) for key in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def steps_per_epoch(args) -> int:
    """Minibatches per epoch: the paper drops the last partial one."""
    images = train_gan.datasets.load_gan_images(str(generator.dataset_path(args.data_dir, "uniform")), "simple")
    return len(images) // MINIBATCH


def curve(metrics: dict, key: str) -> list:
    return [metrics["initial"][key]] + [float(row[key]) for row in metrics["history"]]


def plot_against_steps(runs: dict, steps_per_epoch: int, path: Path):
    figure, axes = plt.subplots(1, len(COLUMNS), figsize=(4 * len(COLUMNS), 3.2))
    for ax, (key, label) in zip(axes, COLUMNS.items()):
        for colour, (arch, seed_runs) in zip(("tab:blue", "tab:red", "tab:green"), runs.items()):
            for index, metrics in enumerate(seed_runs):
                values = curve(metrics, key)
                steps = np.arange(len(values)) * steps_per_epoch
                ax.plot(steps, values, color=colour, alpha=0.7, label=arch if index == 0 else None)
        ax.set(title=label, xlabel="steps")
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def collect_images(runs: dict, args, folder: Path):
    """Each run's last sample grid and latent walks, beside the table."""
    folder.mkdir(parents=True, exist_ok=True)
    for arch, seed_runs in runs.items():
        for seed, metrics in zip(args.seeds, seed_runs):
            for kind in ("samples_bn0", "interpolation"):
                source = run_dir(args, arch, seed) / "fake_images" / f"{kind}_epoch{metrics['epochs']:03d}.png"
                shutil.copy(source, folder / f"{arch}_seed{seed}_{kind}.png")


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    runs = run_all(args)
    out, steps = Path(args.results), steps_per_epoch(args)
    (out / "table.md").write_text(table(runs, args.seeds, steps))
    write_json(out / "results.json", {arch: [{"seed": seed, "final": m["final"], "initial": m["initial"],
                                              "wall_time_s": m["wall_time_s"]}
                                             for seed, m in zip(args.seeds, seed_runs)]
                                      for arch, seed_runs in runs.items()})
    plot_against_steps(runs, steps, out / "metrics_vs_steps.png")
    collect_images(runs, args, out / "images")
    print(f"\nwrote {out / 'table.md'}, results.json and figures in {time.perf_counter() - start:.0f} s\n")
    print((out / "table.md").read_text())


if __name__ == "__main__":
    sys.exit(run_cli(main))
