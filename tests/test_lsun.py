"""The LSUN GAN (the original README's TODO): LSUN's LMDB export converted to HDF5, and one epoch of each arch.

LSUN cannot be downloaded here, so the tests write an LMDB of WebP images the way LSUN's export holds them.
"""

import io

import h5py
import lmdb
import numpy as np
import pytest
from PIL import Image

from lab import archs
from lab.generative import gan_training, lsun
from lab.util import run_cli

COUNT = 20


def write_lmdb(folder, values: list):
    environment = lmdb.open(str(folder), map_size=1 << 24)
    with environment.begin(write=True) as transaction:
        for index, value in enumerate(values):
            transaction.put(f"{index:040x}".encode(), value)  # LSUN's keys are 40-hex-digit ids
    environment.close()


def webp(image: np.ndarray) -> bytes:
    encoded = io.BytesIO()
    Image.fromarray(image).save(encoded, format="WEBP", lossless=True)
    return encoded.getvalue()


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    """(LMDB folder, its images): wide and tall scenes, each a left half red, right half blue, a white centre."""
    folder = tmp_path_factory.mktemp("lsun") / "bedroom_train_lmdb"
    images = []
    for index in range(COUNT):
        height, width = (96, 128) if index % 2 else (150, 100)
        image = np.zeros((height, width, 3), np.uint8)
        image[:, :width // 2, 0] = 255
        image[:, width // 2:, 2] = 255
        image[height // 2 - 4:height // 2 + 4, width // 2 - 4:width // 2 + 4] = 255
        images.append(image)
    write_lmdb(folder, [webp(image) for image in images])
    return folder, images


@pytest.fixture(scope="module")
def converted(scenes, tmp_path_factory):
    out = tmp_path_factory.mktemp("h5") / "bedroom_32x.h5"
    lsun.main(["--lmdb", str(scenes[0]), "--size", "32", "--out", str(out), "--quiet"])
    return out


def test_the_converter_crops_the_centre_square_resizes_and_scales_to_minus_one_one(converted):
    with h5py.File(converted, "r") as h5:
        images = h5["train_x"][()]
    assert images.shape == (COUNT, 32, 32, 3) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    centre = images[:, 15:17, 15:17]
    assert np.all(centre > 0.9)  # the white square stays in the middle of the crop
    assert np.all(images[:, 16, 2, 0] > 0.9) and np.all(images[:, 16, 29, 2] > 0.9)  # red left, blue right


def test_count_keeps_the_first_images_and_the_default_path_names_the_category(scenes, tmp_path, monkeypatch):
    monkeypatch.setattr(lsun, "DATA_DIR", tmp_path)
    out = lsun.main(["--lmdb", str(scenes[0]), "--size", "16", "--count", "3", "--quiet"])
    assert out == tmp_path / "lsun" / "bedroom_train_lmdb_16x.h5"
    with h5py.File(out, "r") as h5:
        assert h5["train_x"].shape == (3, 16, 16, 3)


@pytest.mark.parametrize("arch", [name for name in archs.names("train_gan.py") if name.startswith("lsun")])
def test_one_epoch_of_each_lsun_gan(tmp_path, converted, arch):
    metrics = gan_training.main(["--arch", arch, "--data_h5", str(converted), "-mb", "8", "-E", "1", "--z_dim", "8",
                                 "--width", "4", "--metric-samples", "8", "--opt", "adam", "--quiet",
                                 "--output", str(tmp_path / "run")])
    assert metrics["steps_per_epoch"] == COUNT // 8 and np.isfinite(float(metrics["history"][0]["g_loss"]))
    assert metrics["final"] == {} and metrics["data"] is None  # no objects to count in a scene
    assert (tmp_path / "run" / "fake_images" / "samples_bn0_epoch001.png").exists()


def test_a_missing_lmdb_is_one_line(tmp_path, capsys):
    assert run_cli(lsun.main, ["--lmdb", str(tmp_path / "nowhere")]) == 2
    error = capsys.readouterr().err
    assert "not found: give the folder of an LSUN category's LMDB export" in error and error.count("\n") == 1


def test_a_folder_that_is_not_an_lmdb_is_one_line(tmp_path, capsys):
    (tmp_path / "data.mdb").write_text("not an lmdb")
    assert run_cli(lsun.main, ["--lmdb", str(tmp_path), "--out", str(tmp_path / "out.h5")]) == 2
    error = capsys.readouterr().err
    assert "is not an LMDB environment" in error and error.count("\n") == 1
    assert not (tmp_path / "out.h5").exists()


def test_a_foreign_lmdb_is_one_line_and_leaves_no_file(tmp_path, capsys):
    write_lmdb(tmp_path / "foreign", [b"some text", b"more text"])
    assert run_cli(lsun.main, ["--lmdb", str(tmp_path / "foreign"), "--out", str(tmp_path / "out.h5")]) == 2
    error = capsys.readouterr().err
    assert "is not an encoded image" in error and "LSUN's export" in error and error.count("\n") == 1
    assert not list(tmp_path.glob("*.h5")) and not list(tmp_path.glob(".*.tmp"))


def test_a_missing_lsun_file_says_how_to_make_it(tmp_path, capsys):
    assert run_cli(gan_training.main, ["--arch", "lsun_gan", "--data_h5", str(tmp_path / "none.h5")]) == 2
    assert "run python data/lsun_to_h5.py --lmdb DIR" in capsys.readouterr().err
