"""Reads the Not-so-Clevr HDF5 files, failing with one clear line on bad input."""

from pathlib import Path

import h5py
import numpy as np

from util import CliError

GENERATE = "python data/not_so_clevr_generator.py"
PER_EXAMPLE_SHAPE = {
    "image": lambda h, w: (h, w, 3),
    "imagegray": lambda h, w: (h, w, 1),
    "onehots": lambda h, w: (h, w, 1),
    "locations": lambda h, w: (2,),
    "normalized_locations": lambda h, w: (2,),
}
IMAGE_KEYS_SCALED_TO_ONE = ("image", "imagegray")  # stored 0..255, as the paper's train.py


def open_h5(path) -> h5py.File:
    path = Path(path)
    if not path.exists():
        raise CliError(f"{path} not found: run {GENERATE}")
    try:
        return h5py.File(path, "r")
    except OSError as error:
        raise CliError(f"{path} is not a readable HDF5 file ({error}); regenerate it: {GENERATE}")


def read_array(h5, key, x_dim, y_dim) -> np.ndarray:
    """One dataset, shape-checked against --x_dim/--y_dim, images scaled to [0, 1]."""
    if key not in h5:
        raise CliError(f"{h5.filename} has no dataset {key!r} (it has: {', '.join(sorted(h5)) or 'nothing'}); "
                       f"is it a Not-so-Clevr file? Generate one with: {GENERATE}")
    name = key.split("_", 1)[1]
    expected = PER_EXAMPLE_SHAPE[name](x_dim, y_dim)
    if h5[key].shape[1:] != expected:
        raise CliError(f"{h5.filename}: {key} has shape {h5[key].shape}, expected (N, "
                       f"{', '.join(map(str, expected))}) for --x_dim {x_dim} --y_dim {y_dim}")
    try:
        array = h5[key][()].astype(np.float32)
    except OSError as error:
        raise CliError(f"{h5.filename}: cannot read {key} ({error}); regenerate it: {GENERATE}")
    return array / 255.0 if name in IMAGE_KEYS_SCALED_TO_ONE else array


def load_split(path, part: str, keys, x_dim: int, y_dim: int) -> dict:
    """{key: array} for one part ('train' or 'val'); all arrays the same length."""
    with open_h5(path) as h5:
        arrays = {key: read_array(h5, f"{part}_{key}", x_dim, y_dim) for key in keys}
    lengths = {key: len(a) for key, a in arrays.items()}
    if len(set(lengths.values())) > 1 or 0 in lengths.values():
        raise CliError(f"{path}: {part} datasets have inconsistent or zero lengths {lengths}")
    return arrays
