"""Writes the Not-so-Clevr datasets: data/rectangle_4_uniform.h5 and data/rectangle_4_quadrant.h5.

One 9x9 square on a black 64x64 canvas, centerd at every (x, y) in 4..59:
3,136 examples, split two ways as in the paper:
- uniform: each example goes to val with probability 0.25 (seed 20202 gives
  the paper's 2,368 train / 768 val);
- quadrant: every center with x > 32 and y > 32 is held out (2,407 / 729).

The square is white (255), not the paper's grey 128: train.py divides images
by 255, so rendering targets are exactly 0/1 and a perfect render has IoU 1.
"""

from pathlib import Path

import numpy as np

from lab.util import DATA_DIR, CliError, Parser, atomic_h5

IMAGE_SIZE = 64
HALF_SIDE = 4  # the paper's "size 4": a 9x9 square
SPLIT_SEED = 20202  # the paper's MAGIC_SEED_OF_WONDER
SHUFFLE_SEED = 10101  # the paper's MAGIC_SEED_OF_GREATNESS
VAL_FRACTION = 0.25
SPLITS = ("uniform", "quadrant")


def square_centers() -> np.ndarray:
    """(3136, 2) int32 [x, y], x the outer loop as in the paper's sweep."""
    centers = np.arange(HALF_SIDE, IMAGE_SIZE - HALF_SIDE)
    xs, ys = np.meshgrid(centers, centers, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.int32)


def render(locations: np.ndarray) -> dict:
    """All arrays of the dataset for the given centers, in their order."""
    n = len(locations)
    x, y = locations[:, 0], locations[:, 1]
    pixels = np.arange(IMAGE_SIZE)
    rows = np.abs(pixels[None, :] - y[:, None]) <= HALF_SIDE
    cols = np.abs(pixels[None, :] - x[:, None]) <= HALF_SIDE
    gray = (rows[:, :, None] & cols[:, None, :]).astype(np.uint8) * 255
    onehots = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE, 1), np.float32)
    onehots[np.arange(n), y, x, 0] = 1.0
    return {
        "image": np.repeat(gray[..., None], 3, axis=-1),
        "imagegray": gray[..., None],
        "onehots": onehots,
        "locations": locations,
        "normalized_locations": (locations / IMAGE_SIZE).astype(np.float32),
    }


def val_mask(locations: np.ndarray, split: str, seed: int) -> np.ndarray:
    """True for the examples held out for validation."""
    if split == "uniform":
        return np.random.RandomState(seed).random_sample(len(locations)) < VAL_FRACTION
    half = IMAGE_SIZE // 2
    return (locations[:, 0] > half) & (locations[:, 1] > half)


def shuffled(locations: np.ndarray) -> np.ndarray:
    return locations[np.random.RandomState(SHUFFLE_SEED).permutation(len(locations))]


def write_split(path: Path, split: str, seed: int) -> dict:
    """Writes one split atomically; returns its sizes."""
    locations = square_centers()
    held_out = val_mask(locations, split, seed)
    parts = {"train": shuffled(locations[~held_out]), "val": shuffled(locations[held_out])}
    with atomic_h5(path) as h5:
        for part, part_locations in parts.items():
            for key, array in render(part_locations).items():
                h5.create_dataset(f"{part}_{key}", data=array, compression="lzf")
        h5.attrs.update(split=split, seed=seed, square_value=255)
    return {part: len(v) for part, v in parts.items()}


def dataset_path(out_dir, split: str) -> Path:
    return Path(out_dir) / f"rectangle_{HALF_SIDE}_{split}.h5"


def parse_args(argv):
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=str(DATA_DIR),
                        help="folder for the .h5 files (default: this data/ folder)")
    parser.add_argument("--seed", type=int, default=SPLIT_SEED,
                        help="seed of the uniform split (default: the paper's)")
    parser.add_argument("--splits", nargs="+", choices=SPLITS, default=list(SPLITS))
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    for split in args.splits:
        path = dataset_path(args.out_dir, split)
        try:
            sizes = write_split(path, split, args.seed)
        except OSError as error:
            raise CliError(f"cannot write {path}: {error}") from error
        print(f"wrote {path}: {sizes['train']} train, {sizes['val']} val")

