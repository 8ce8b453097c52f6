"""Reads the Not-so-Clevr and Sort-of-Clevr HDF5 files, failing with one clear line on bad input."""

from pathlib import Path

import h5py
import numpy as np

from lab.util import CliError

GENERATE_COMMAND = "python data/not_so_clevr_generator.py"
GENERATE_CLEVR_COMMAND = "python data/sort_of_clevr_generator.py"
GAN_IMAGE_KEYS = {"simple": ("train_imagegray", "val_imagegray"), "clevr": ("train_x",), "lsun": ("train_x",)}
GENERATE_LSUN_COMMAND = "python data/lsun_to_h5.py --lmdb DIR (LSUN's export of a category)"
CHUNK = 4096
PER_EXAMPLE_SHAPE = {
    "image": lambda h, w: (h, w, 3),
    "imagegray": lambda h, w: (h, w, 1),
    "onehots": lambda h, w: (h, w, 1),
    "locations": lambda h, w: (2,),
    "normalized_locations": lambda h, w: (2,),
}
IMAGE_KEYS_SCALED_TO_ONE = ("image", "imagegray")  # stored 0..255, as the paper's train.py


def open_h5(path, generate=GENERATE_COMMAND) -> h5py.File:
    path = Path(path)
    if not path.exists():
        raise CliError(f"{path} not found: run {generate}")
    try:
        return h5py.File(path, "r")
    except OSError as error:
        raise CliError(f"{path} is not a readable HDF5 file ({error}); regenerate it: {generate}")


def read_array(h5, key, x_dim, y_dim) -> np.ndarray:
    """One dataset, shape-checked against --x_dim/--y_dim, images scaled to [0, 1]."""
    if key not in h5:
        raise CliError(f"{h5.filename} has no dataset {key!r} (it has: {', '.join(sorted(h5)) or 'nothing'}); "
                       f"is it a Not-so-Clevr file? Generate one with: {GENERATE_COMMAND}")
    name = key.split("_", 1)[1]
    expected = PER_EXAMPLE_SHAPE[name](x_dim, y_dim)
    if h5[key].shape[1:] != expected:
        raise CliError(f"{h5.filename}: {key} has shape {h5[key].shape}, expected (N, "
                       f"{', '.join(map(str, expected))}) for --x_dim {x_dim} --y_dim {y_dim}")
    try:
        array = h5[key][()].astype(np.float32)
    except OSError as error:
        raise CliError(f"{h5.filename}: cannot read {key} ({error}); regenerate it: {GENERATE_COMMAND}")
    return array / 255.0 if name in IMAGE_KEYS_SCALED_TO_ONE else array


def load_split(path, part: str, keys, x_dim: int, y_dim: int) -> dict:
    """{key: array} for one part ('train' or 'val'); all arrays the same length."""
    with open_h5(path) as h5:
        arrays = {key: read_array(h5, f"{part}_{key}", x_dim, y_dim) for key in keys}
    lengths = {key: len(a) for key, a in arrays.items()}
    if len(set(lengths.values())) > 1 or 0 in lengths.values():
        raise CliError(f"{path}: {part} datasets have inconsistent or zero lengths {lengths}")
    return arrays


def as_uint8(h5, key, generate) -> np.ndarray:
    """An image dataset as uint8 0..255, read in chunks: 50,000 RGB images fit in 600 MB, not 2.4 GB.

    Not-so-Clevr stores 0..255 already; Sort-of-Clevr stores float32 in [-1, 1].
    """
    dataset = h5[key]
    if dataset.dtype == np.uint8:
        return dataset[()]
    images = np.empty(dataset.shape, np.uint8)
    for start in range(0, len(dataset), CHUNK):
        chunk = dataset[start:start + CHUNK]
        if chunk.min() < -1.0 or chunk.max() > 1.0:
            raise CliError(f"{h5.filename}: {key} has values outside [-1, 1]; regenerate it: {generate}")
        images[start:start + CHUNK] = np.rint((chunk + 1.0) * 127.5)
    return images


def load_gan_images(path, data: str) -> np.ndarray:
    """All images of a GAN dataset ('simple', 'clevr' or 'lsun'), uint8 (N, H, W, C)."""
    generate = {"simple": GENERATE_COMMAND, "clevr": GENERATE_CLEVR_COMMAND, "lsun": GENERATE_LSUN_COMMAND}[data]
    with open_h5(path, generate) as h5:
        missing = [key for key in GAN_IMAGE_KEYS[data] if key not in h5]
        if missing:
            raise CliError(f"{path} has no dataset {missing[0]!r} (it has: {', '.join(sorted(h5)) or 'nothing'}); "
                           f"--arch {data}_* reads {' and '.join(GAN_IMAGE_KEYS[data])}, made by: {generate}")
        try:
            parts = [as_uint8(h5, key, generate) for key in GAN_IMAGE_KEYS[data]]
        except OSError as error:
            raise CliError(f"{path}: cannot read it ({error}); regenerate it: {generate}")
    images = np.concatenate(parts)
    channels = 1 if data == "simple" else 3
    if images.ndim != 4 or images.shape[-1] != channels or len(images) == 0:
        raise CliError(f"{path}: images have shape {images.shape}, expected (N, H, W, {channels})")
    return images


GENERATE_FIELD_COMMAND = "python data/field_of_mnist_generator.py"
DETECTION_KEYS = ("ims", "pos")


def load_detection(path, num: int) -> dict:
    """{"train": (images, boxes), "valid": ...} of a Field-of-MNIST file, checked against --num."""
    with open_h5(path, GENERATE_FIELD_COMMAND) as h5:
        wanted = [f"{part}_{key}" for part in ("train", "valid") for key in DETECTION_KEYS]
        missing = [key for key in wanted if key not in h5]
        if missing:
            raise CliError(f"{path} has no dataset {missing[0]!r} (it has: {', '.join(sorted(h5)) or 'nothing'}); "
                           f"is it a Field-of-MNIST file? Generate one with: {GENERATE_FIELD_COMMAND}")
        try:
            parts = {part: (h5[f"{part}_ims"][()].astype(np.float32), h5[f"{part}_pos"][()].astype(np.float32))
                     for part in ("train", "valid")}
        except OSError as error:
            raise CliError(f"{path}: cannot read it ({error}); regenerate it: {GENERATE_FIELD_COMMAND}")
    for part, (images, boxes) in parts.items():
        if images.ndim != 4 or images.shape[-1] != 1 or images.shape[1] != images.shape[2] or len(images) == 0:
            raise CliError(f"{path}: {part}_ims has shape {images.shape}, expected (N, side, side, 1)")
        if boxes.shape != (len(images), num, 4):
            raise CliError(f"{path}: {part}_pos has shape {boxes.shape}, expected ({len(images)}, {num}, 4) "
                           f"for --num {num}")
    return parts
