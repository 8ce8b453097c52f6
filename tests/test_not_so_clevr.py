"""The Not-so-Clevr generator: contents, splits, determinism and atomic writes."""

import h5py
import numpy as np
import pytest

from lab.supervised import not_so_clevr as generator
from lab.util import run_cli

SIZES = {"uniform": (2368, 768), "quadrant": (2407, 729)}
SHAPES = {"image": (64, 64, 3), "imagegray": (64, 64, 1), "onehots": (64, 64, 1),
          "locations": (2,), "normalized_locations": (2,)}
DTYPES = {"image": np.uint8, "imagegray": np.uint8, "onehots": np.float32,
          "locations": np.int32, "normalized_locations": np.float32}


def read(path):
    with h5py.File(path, "r") as h5:
        return {key: h5[key][()] for key in h5}


@pytest.mark.parametrize("split", ["uniform", "quadrant"])
def test_keys_shapes_dtypes_and_sizes(dataset_dir, split):
    data = read(generator.dataset_path(dataset_dir, split))
    assert set(data) == {f"{part}_{key}" for part in ("train", "val") for key in SHAPES}
    for part, size in zip(("train", "val"), SIZES[split]):
        for key, shape in SHAPES.items():
            assert data[f"{part}_{key}"].shape == (size, *shape)
            assert data[f"{part}_{key}"].dtype == DTYPES[key]


@pytest.mark.parametrize("split", ["uniform", "quadrant"])
def test_every_center_once_and_pixels_agree_with_locations(dataset_dir, split):
    data = read(generator.dataset_path(dataset_dir, split))
    locations = np.concatenate([data["train_locations"], data["val_locations"]])
    assert len({tuple(xy) for xy in locations}) == 3136
    assert locations.min() == 4 and locations.max() == 59
    for part in ("train", "val"):
        x, y = data[f"{part}_locations"].T
        n = np.arange(len(x))
        assert (data[f"{part}_onehots"].sum(axis=(1, 2, 3)) == 1).all()
        assert (data[f"{part}_onehots"][n, y, x, 0] == 1).all()
        assert (data[f"{part}_imagegray"].sum(axis=(1, 2, 3)) == 81 * 255).all()
        assert (data[f"{part}_imagegray"][n, y - 4, x + 4, 0] == 255).all()
        assert (data[f"{part}_imagegray"][n, y, np.minimum(x + 5, 63), 0] == 255).sum() == (x + 5 > 63).sum()
        np.testing.assert_allclose(data[f"{part}_normalized_locations"], data[f"{part}_locations"] / 64)


def test_quadrant_split_holds_out_exactly_the_quadrant(dataset_dir):
    data = read(generator.dataset_path(dataset_dir, "quadrant"))
    assert ((data["val_locations"] >= 33).all(axis=1)).all()
    assert not ((data["train_locations"] >= 33).all(axis=1)).any()


def test_same_seed_gives_identical_arrays_and_another_seed_another_split(tmp_path, dataset_dir):
    generator.main(["--out-dir", str(tmp_path / "same"), "--splits", "uniform"])
    generator.main(["--out-dir", str(tmp_path / "other"), "--splits", "uniform", "--seed", "1"])
    reference = read(generator.dataset_path(dataset_dir, "uniform"))
    same = read(generator.dataset_path(tmp_path / "same", "uniform"))
    other = read(generator.dataset_path(tmp_path / "other", "uniform"))
    for key in reference:
        np.testing.assert_array_equal(reference[key], same[key])
    assert not np.array_equal(reference["val_locations"], other["val_locations"][:len(reference["val_locations"])])


def test_interrupted_write_leaves_no_file(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(generator, "render", interrupted)
    with pytest.raises(KeyboardInterrupt):
        generator.main(["--out-dir", str(tmp_path)])
    assert list(tmp_path.iterdir()) == []


def test_interrupted_rewrite_keeps_the_previous_file(tmp_path, monkeypatch):
    generator.main(["--out-dir", str(tmp_path), "--splits", "quadrant"])
    path = generator.dataset_path(tmp_path, "quadrant")
    before = path.read_bytes()

    def fails_midway(h5, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(h5py.Group, "create_dataset", fails_midway)
    assert run_cli(generator.main, ["--out-dir", str(tmp_path), "--splits", "quadrant"]) == 2
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
