"""LSUN's own export, an LMDB of encoded images, as the project's GAN file: the data of the LSUN GANs (§5).

    python data/lsun_to_h5.py --lmdb bedroom_train_lmdb --size 64 [--count 100000]

LSUN (Yu et al. 2015) ships each category as an LMDB whose values are
encoded images (WebP for the scenes) keyed by image id; it cannot be
downloaded from here, so the tests write a small one themselves. Each image
is centre-cropped to a square, resized to --size (Lanczos) and stored, in the
LMDB's key order, as `train_x` float32 (N, size, size, 3) in [-1, 1], the
Sort-of-Clevr layout the GAN trainer reads (--arch lsun_*). The file,
data/lsun/<lmdb folder>_<size>x.h5 unless --out, is written whole or not at
all; 100,000 images at 64x64 take 4.9 GB.
"""

import io
from pathlib import Path

import numpy as np

from lab.util import DATA_DIR, CliError, Parser, atomic_h5, positive

CHUNK = 1_000  # images decoded and written at a time


def parse_args(argv=None):
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--lmdb", required=True, metavar="DIR", help="an LSUN category's LMDB folder, as exported")
    parser.add_argument("--size", type=positive(int), default=64, help="side of the square images written")
    parser.add_argument("--count", type=positive(int), default=None, help="the first N images (default: all)")
    parser.add_argument("--out", default=None, help="default: data/lsun/<lmdb folder>_<size>x.h5")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def output_path(args) -> Path:
    return Path(args.out) if args.out else DATA_DIR / "lsun" / f"{Path(args.lmdb).resolve().name}_{args.size}x.h5"


def open_lmdb(path: str):
    """The LMDB environment at `path`, read-only; CliError when it is missing or not an LMDB."""
    import lmdb

    if not Path(path).exists():
        raise CliError(f"--lmdb {path} not found: give the folder of an LSUN category's LMDB export "
                       "(e.g. bedroom_train_lmdb, from the LSUN site)")
    try:
        return lmdb.open(str(path), readonly=True, lock=False, readahead=False, subdir=Path(path).is_dir())
    except lmdb.Error as error:
        raise CliError(f"--lmdb {path} is not an LMDB environment ({error}): give the folder LSUN's export unpacks to")


def square_resized(encoded: bytes, size: int, key: bytes) -> np.ndarray:
    """One encoded image, centre-cropped to a square and resized: uint8 (size, size, 3); CliError if not an image."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(encoded)).convert("RGB")
    except (UnidentifiedImageError, OSError) as error:
        raise CliError(f"the entry {key[:40]!r} is not an encoded image ({error}): is this LMDB LSUN's export?")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    return np.asarray(image.crop((left, top, left + side, top + side)).resize((size, size), Image.LANCZOS))


def main(argv=None):
    args = parse_args(argv)
    environment = open_lmdb(args.lmdb)
    with environment, environment.begin() as transaction:
        entries = environment.stat()["entries"]
        if entries == 0:
            raise CliError(f"--lmdb {args.lmdb} holds no entries")
        count = min(args.count or entries, entries)
        out = output_path(args)
        progress = None
        if not args.quiet:
            from keras.utils import Progbar

            progress = Progbar(count, unit_name="image")
        with atomic_h5(out) as h5:
            images = h5.create_dataset("train_x", (count, args.size, args.size, 3), np.float32,
                                       chunks=(min(count, 64), args.size, args.size, 3))
            h5.attrs["source"], h5.attrs["size"] = str(Path(args.lmdb).resolve()), args.size
            write_images(transaction.cursor(), images, count, args.size, progress)
    print(f"wrote {out}: {count} images of {args.size}x{args.size} from {args.lmdb}")
    return out


def write_images(cursor, images, count: int, size: int, progress):
    """The first `count` entries of `cursor`, decoded and scaled to [-1, 1], written CHUNK at a time."""
    chunk = []
    for index, (key, value) in enumerate(cursor):
        if index == count:
            break
        chunk.append(square_resized(value, size, key))
        if len(chunk) == CHUNK or index + 1 == count:
            start = index + 1 - len(chunk)
            images[start:index + 1] = np.stack(chunk).astype(np.float32) / 127.5 - 1.0
            chunk = []
            if progress is not None:
                progress.update(index + 1)
