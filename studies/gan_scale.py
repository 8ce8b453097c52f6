"""The original README's two GAN commands at the paper's scale (gpu/gan_scale.sh): their report, and their state
carried between GPU calls.

    python -m studies.gan_scale report RUNS_DIR [--out DIR]       # the side-by-side figure and table
    python -m studies.gan_scale pack RUN_DIR PARTS_DIR [--part-mib 16]
    python -m studies.gan_scale unpack PARTS_DIR RUN_DIR
    python -m studies.gan_scale carry RUNS_DIR PARTS_DIR --epochs 50 [--budget-mib 56] [--files 7]

`report` reads RUNS_DIR/clevr_gan and RUNS_DIR/clevr_coordconv_in_gd and writes
table.md (each GAN's figures at its last epoch: one of each colour, centre
coverage, the count and position distances to the data, the latent-walk
figures) and side_by_side.png (every figure against epochs, both GANs in each
panel, over their last sample grids and latent walks). `pack` writes what a
run needs to resume (backup/, history.csv, initial_metrics.json,
config.json) as one tar cut into parts of at most --part-mib MiB, with a
manifest holding its SHA-256: a GPU call returns at most 8 files of 16 MiB,
64 MiB in all. `unpack` checks the parts against the manifest and restores the
run folder, so a later call's train_gan.py resumes where the last one stopped.
`carry` packs each of the two runs with epochs left while its parts fit what
is left of --budget-mib and --files, the CoordConv GAN first; a run that does
not fit is named with its size (the DCGAN's state at full width, 123 MiB of
weights and Adam's two slots, is twice what a call returns).
"""

import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from lab.generative.generative import FIGURES
from lab.provenance import command_line, stamped
from lab.runs import read_history, write_json
from lab.util import CliError, Parser, positive, run_cli

GANS = ("clevr_gan", "clevr_coordconv_in_gd")  # the original README's two commands
RESUMABLE = ("backup", "history.csv", "initial_metrics.json", "config.json")
MANIFEST = "manifest.json"
MIB = 1 << 20


def parse_args(argv=None):
    parser = Parser(prog="python -m studies.gan_scale", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    report = verbs.add_parser("report", help="the side-by-side figure and table of the two runs")
    report.add_argument("runs", help="the folder holding clevr_gan/ and clevr_coordconv_in_gd/")
    report.add_argument("--out", default=None, help="default: RUNS")
    pack = verbs.add_parser("pack", help="a run's resumable state as parts")
    pack.add_argument("run")
    pack.add_argument("parts")
    pack.add_argument("--part-mib", type=positive(float), default=16.0, help="largest part, in MiB")
    unpack = verbs.add_parser("unpack", help="a run folder from its parts")
    unpack.add_argument("parts")
    unpack.add_argument("run")
    carry = verbs.add_parser("carry", help="pack the unfinished runs whose parts fit a call's return")
    carry.add_argument("runs")
    carry.add_argument("parts")
    carry.add_argument("--epochs", type=positive(int), required=True, help="the runs' planned epochs (-E)")
    carry.add_argument("--budget-mib", type=positive(float), default=56.0,
                       help="MiB of parts a call may return beside its other files (64 in all)")
    carry.add_argument("--files", type=positive(int), default=7, help="parts a call may return (8 files in all)")
    carry.add_argument("--part-mib", type=positive(float), default=16.0)
    args = parser.parse_args(argv)
    args.command = command_line(parser.prog, argv)
    return args


def pack(run: Path, parts: Path, part_bytes: int) -> dict:
    """The run's resumable files as one uncompressed tar in parts of at most `part_bytes`; the manifest."""
    present = [name for name in RESUMABLE if (run / name).exists()]
    if "backup" not in present:
        raise CliError(f"{run} has no backup/ to pack: train_gan.py writes it after the first epoch")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for name in present:
            tar.add(run / name, arcname=name)
    data = archive.getvalue()
    parts.mkdir(parents=True, exist_ok=True)
    names = []
    for index, start in enumerate(range(0, len(data), part_bytes)):
        names.append(f"{run.name}.tar.part{index:02d}")
        (parts / names[-1]).write_bytes(data[start:start + part_bytes])
    manifest = {"run": run.name, "parts": names, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    write_json(parts / f"{run.name}.{MANIFEST}", manifest)
    return manifest


def unpack(parts: Path, run: Path) -> dict:
    """Restores `run`'s resumable files from the parts its manifest names, after checking their SHA-256."""
    manifest_path = parts / f"{run.name}.{MANIFEST}"
    if not manifest_path.exists():
        raise CliError(f"{manifest_path} not found: the parts of run {run.name} were not carried")
    manifest = json.loads(manifest_path.read_text())
    missing = [name for name in manifest["parts"] if not (parts / name).exists()]
    if missing:
        raise CliError(f"{parts} lacks {', '.join(missing)} of run {run.name}'s {len(manifest['parts'])} parts")
    data = b"".join((parts / name).read_bytes() for name in manifest["parts"])
    if hashlib.sha256(data).hexdigest() != manifest["sha256"]:
        raise CliError(f"the parts of run {run.name} in {parts} do not match their manifest: carry them again")
    run.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(run, filter="data")
    return manifest


def carry(runs: Path, parts: Path, epochs: int, budget_bytes: int, files: int, part_bytes: int) -> list:
    """Packs the runs with epochs left, CoordConv GAN first, while their parts fit; the names of those packed."""
    packed = []
    for arch in reversed(GANS):
        done = len(read_history(runs / arch / "history.csv"))
        if done >= epochs or not (runs / arch / "backup").exists():
            continue
        manifest = pack(runs / arch, parts, part_bytes)
        if manifest["bytes"] > budget_bytes or len(manifest["parts"]) > files:
            for name in manifest["parts"] + [f"{arch}.{MANIFEST}"]:
                (parts / name).unlink()
            print(f"{arch}: its state is {manifest['bytes'] / MIB:.0f} MiB in {len(manifest['parts'])} parts, over "
                  f"the {budget_bytes / MIB:.0f} MiB and {files} files left: it cannot continue in a later call")
            continue
        budget_bytes -= manifest["bytes"]
        files -= len(manifest["parts"]) + 1
        packed.append(arch)
        print(f"{arch}: {done} of {epochs} epochs; its state packed in {len(manifest['parts'])} parts "
              f"({manifest['bytes'] / MIB:.1f} MiB)")
    return packed


def last_figures(history: list) -> dict:
    return {key: float(history[-1][key]) for key in FIGURES} if history else {}


def table(histories: dict) -> str:
    lines = ["| arch | epochs | " + " | ".join(FIGURES) + " |", "|---|---:|" + "---:|" * len(FIGURES)]
    for arch, history in histories.items():
        figures = last_figures(history)
        lines.append(f"| {arch} | {len(history)} | " + " | ".join(f"{figures[key]:.3f}" for key in FIGURES) + " |")
    return "\n".join(lines) + "\n"


def side_by_side(runs: Path, histories: dict, path: Path):
    """Every figure against epochs (both GANs a panel), then each GAN's last samples and latent walks."""
    figure = plt.figure(figsize=(3.2 * len(FIGURES), 3.2 + 6.5))
    grid = figure.add_gridspec(2, len(FIGURES), height_ratios=(1, 2))
    for column, key in enumerate(FIGURES):
        axis = figure.add_subplot(grid[0, column])
        for arch, history in histories.items():
            axis.plot([int(row["epoch"]) + 1 for row in history], [float(row[key]) for row in history], label=arch)
        axis.set(title=key, xlabel="epoch")
    axis.legend(fontsize=7)
    half = len(FIGURES) // 2
    for index, (arch, history) in enumerate(histories.items()):
        axis = figure.add_subplot(grid[1, :half] if index == 0 else grid[1, half:])
        axis.imshow(plt.imread(runs / arch / "fake_images" / f"samples_bn0_epoch{len(history):03d}.png"))
        axis.set(title=f"{arch}, epoch {len(history)}")
        axis.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def report(runs: Path, out: Path, command: str):
    histories = {arch: read_history(runs / arch / "history.csv") for arch in GANS}
    empty = [arch for arch, history in histories.items() if not history]
    if empty:
        raise CliError(f"{runs} holds no finished epoch of {', '.join(empty)}: train them first (gpu/gan_scale.sh)")
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text(stamped(table(histories), command))
    side_by_side(runs, histories, out / "side_by_side.png")
    print((out / "table.md").read_text())


def main(argv=None):
    args = parse_args(argv)
    if args.verb == "report":
        return report(Path(args.runs), Path(args.out or args.runs), args.command)
    if args.verb == "pack":
        manifest = pack(Path(args.run), Path(args.parts), int(args.part_mib * MIB))
        print(f"packed {args.run}: {manifest['bytes'] / MIB:.1f} MiB in {len(manifest['parts'])} parts")
        return manifest
    if args.verb == "carry":
        return carry(Path(args.runs), Path(args.parts), args.epochs, int(args.budget_mib * MIB), args.files,
                     int(args.part_mib * MIB))
    manifest = unpack(Path(args.parts), Path(args.run))
    print(f"unpacked {args.run} from {len(manifest['parts'])} parts")
    return manifest


if __name__ == "__main__":
    sys.exit(run_cli(main))
