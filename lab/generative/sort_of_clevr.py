"""Writes the Sort-of-Clevr images of the paper's GAN experiments (§5).

    python data/sort_of_clevr_generator.py          # 50,000 images, as the paper

Each 64x64 RGB image is white with two objects, one blue and one red (drawn in
that order, as the paper's generator does), each a square (21x21, half-side 10)
or a disc (radius 10) with equal chance. Centers are drawn from 10..53, the
paper's randint(10, 54), so every object lies inside the canvas, and the two
centers are at least 20 px apart (the paper's rejection test).

The file data/sort_of_clevr/sort_of_clevr_2objs_10rad_50000imgs_64x.h5 holds
`train_x`, float32 (N, 64, 64, 3) in [-1, 1] as the paper's, and per-object
metadata in the same file instead of the paper's pickle:
`objects_colour` (N, 2) uint8 (0 blue, 1 red; names in the attribute
`colours`), `objects_center` (N, 2, 2) int32 [x, y], `objects_shape` (N, 2)
uint8 (0 square, 1 circle; names in `shapes`).
"""

from pathlib import Path

import numpy as np

from lab.util import DATA_DIR, CliError, Parser, atomic_h5, positive

IMAGE_SIZE = 64
SIZE = 10  # half-side of a square, radius of a circle
MIN_DISTANCE = 2 * SIZE
COUNT = 50_000
COLOURS = {"blue": (0, 0, 255), "red": (255, 0, 0)}
SHAPES = ("square", "circle")
CHUNK = 2_000  # images rendered and written at a time: bounds memory at any --count


def draw_centers(rng: np.random.Generator, count: int) -> np.ndarray:
    """(count, 2, 2) int32 [x, y] per object, the pair at least MIN_DISTANCE apart.

    Vectorised rejection: redraw only the second center of the pairs too close.
    """
    low, high = SIZE, IMAGE_SIZE - SIZE
    centers = rng.integers(low, high, size=(count, 2, 2), dtype=np.int32)
    too_close = np.ones(count, bool)
    while too_close.any():
        centers[too_close, 1] = rng.integers(low, high, size=(too_close.sum(), 2), dtype=np.int32)
        gap = centers[:, 0] - centers[:, 1]
        too_close = (gap ** 2).sum(axis=1) < MIN_DISTANCE ** 2
    return centers


def object_masks(centers: np.ndarray, shapes: np.ndarray) -> np.ndarray:
    """(N, 2, H, W) bool: the pixels each object covers."""
    pixels = np.arange(IMAGE_SIZE)
    dx = pixels[None, None, None, :] - centers[:, :, 0, None, None]
    dy = pixels[None, None, :, None] - centers[:, :, 1, None, None]
    square = (np.abs(dx) <= SIZE) & (np.abs(dy) <= SIZE)
    circle = dx ** 2 + dy ** 2 <= SIZE ** 2
    return np.where(shapes[:, :, None, None] == SHAPES.index("circle"), circle, square)


def render(centers: np.ndarray, shapes: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) float32 in [-1, 1]; later objects paint over earlier ones."""
    masks = object_masks(centers, shapes)
    # which object each pixel shows: 0 for the white background, k + 1 for object k
    owner = np.zeros(masks.shape[:1] + masks.shape[2:], np.intp)
    for index in range(masks.shape[1]):
        owner[masks[:, index]] = index + 1
    palette = np.array(list(COLOURS.values()), np.float32) / 127.5 - 1.0
    white = np.ones((len(centers), 1, 3), np.float32)
    table = np.concatenate([white, palette[colours]], axis=1)  # (N, 1 + objects, 3)
    return table[np.arange(len(centers))[:, None, None], owner]


def draw_objects(rng: np.random.Generator, count: int) -> dict:
    """The metadata of `count` images: colours, centers and shapes per object."""
    return {
        "objects_colour": np.tile(np.arange(len(COLOURS), dtype=np.uint8), (count, 1)),
        "objects_center": draw_centers(rng, count),
        "objects_shape": (rng.random((count, 2)) < 0.5).astype(np.uint8),
    }


def dataset_path(out_dir, count: int = COUNT) -> Path:
    name = f"sort_of_clevr_{len(COLOURS)}objs_{SIZE}rad_{count}imgs_{IMAGE_SIZE}x.h5"
    return Path(out_dir) / name


def write(path: Path, count: int, seed: int, progress=None):
    """Renders and writes `count` images chunk by chunk, atomically."""
    objects = draw_objects(np.random.default_rng(seed), count)
    with atomic_h5(path) as h5:
        images = h5.create_dataset("train_x", (count, IMAGE_SIZE, IMAGE_SIZE, 3), np.float32,
                                   chunks=(min(count, 64), IMAGE_SIZE, IMAGE_SIZE, 3), compression="lzf")
        for start in range(0, count, CHUNK):
            part = slice(start, min(start + CHUNK, count))
            images[part] = render(objects["objects_center"][part], objects["objects_shape"][part],
                                  objects["objects_colour"][part])
            if progress:
                progress.update(part.stop)
        for key, array in objects.items():
            h5.create_dataset(key, data=array)
        h5.attrs.update(seed=seed, size=SIZE, colours=list(COLOURS), shapes=list(SHAPES),
                        min_distance=MIN_DISTANCE)


def parse_args(argv):
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=str(DATA_DIR / "sort_of_clevr"))
    parser.add_argument("--count", type=positive(int), default=COUNT, help="number of images")
    parser.add_argument("--seed", type=int, default=0, help="the same seed gives byte-identical arrays")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    path = dataset_path(args.out_dir, args.count)
    progress = None
    if not args.quiet:
        from keras.utils import Progbar
        progress = Progbar(args.count, unit_name="image")
    try:
        write(path, args.count, args.seed, progress)
    except OSError as error:
        raise CliError(f"cannot write {path}: {error}") from error
    print(f"wrote {path}: {args.count} images")

