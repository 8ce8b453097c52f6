"""train.py: every arch trains through main(); resume, seeds and bad input."""

import argparse
import json
import os
import re
import socket
import subprocess
import sys

import h5py
import keras
import numpy as np
import pytest

import CoordConv
import model_builders
from lab import archs, runs
from lab.supervised import redraw, supervised_training
from conftest import ROOT, TINY, InterruptAfter, assert_same_figures, documented_counts, interrupted_then_resumed
from lab.supervised import not_so_clevr as generator
from lab.util import run_cli

@pytest.fixture(scope="module")
def tiny_h5(tiny_data_dir):
    return generator.dataset_path(tiny_data_dir, "quadrant")


@pytest.mark.parametrize("arch", archs.names("train.py"))
def test_parameter_count_at_mul_1_matches_the_docstring(arch):
    stacks = model_builders.REGRESSOR_STACKS if arch == "conv_regressor" else ("pooled",)
    counts = [archs.ARCHS[arch].build(model_builders.ModelSpec(mul=1, regressor_stack=s)).count_params()
              for s in stacks]
    assert counts == documented_counts(archs.ARCHS[arch].build)


@pytest.mark.parametrize("stack, params", [("auto", 12_978), ("pooled", 72_850)])
def test_conv_regressor_takes_the_papers_stack_for_the_data_unless_told(tmp_path, tiny_h5, stack, params):
    metrics = run_train(tmp_path, tiny_h5, "--arch", "conv_regressor", "--regressor_stack", stack, "--skipval")
    assert metrics["params"] == params  # tiny_h5 is a quadrant file: the paper's strided stack


def test_coordconv_classifier_has_the_papers_7553_parameters():
    spec = model_builders.ModelSpec(mul=1)
    assert model_builders.coordconv_classification(spec).count_params() == 7553


def run_train(tmp_path, tiny_h5, *flags, name="run"):
    argv = ["--data_h5", str(tiny_h5), "-mb", "16", "-E", "1", "-mul", "1", "--opt", "adam",
            "--output", str(tmp_path / name), *flags]
    return supervised_training.main(argv)


@pytest.mark.parametrize("arch, flags", [(arch, ()) for arch in archs.names("train.py")] + [
    ("coordconv_rendering", ("-interm", "softmax")),
    ("deconv_bottleneck", ("-interm", "mse", "-nosfmx")),
    ("deconv_classification", ("-sig", "--lrpolicy", "valstep")),
    ("coordconv_regressor", ("--lrpolicy", "step", "--l2", "0.001")),
])
def test_every_arch_trains_one_epoch_through_main(tmp_path, tiny_h5, arch, flags):
    metrics = run_train(tmp_path, tiny_h5, "--arch", arch, *flags)
    out = tmp_path / "run"
    assert metrics["epochs"] == 1 and np.isfinite(metrics["final"]["val"]["loss"])
    assert json.loads((out / "metrics.json").read_text())["arch"] == arch
    assert json.loads((out / "config.json").read_text())["params"] == metrics["params"]
    assert (out / "net_final.keras").exists() and list((out / "tensorboard").rglob("events.out.*"))
    with h5py.File(out / "evaluation_0001.h5", "r") as h5:
        assert all(h5[key].shape[0] == TINY[key.rsplit("_", 1)[1]] for key in h5)
    assert "reg_loss" in metrics["history"][0] and metrics["initial"]["val"]["loss"] > 0
    loaded = keras.saving.load_model(out / "net_final.keras")
    assert loaded.count_params() == metrics["params"]


class CountingSummaries:
    """tf.summary, recording the name of every scalar asked for."""

    def __init__(self):
        import tensorflow as tf

        self.summary, self.scalars = tf.summary, []

    def __getattr__(self, name):
        return getattr(self.summary, name)

    def scalar(self, name, *args, **kwargs):
        self.scalars.append(name)
        return self.summary.scalar(name, *args, **kwargs)


def test_tensorboard_writes_once_an_epoch_however_many_batches(tmp_path, tiny_h5, monkeypatch):
    summaries = CountingSummaries()
    monkeypatch.setattr(runs.EpochTensorBoard, "summary", property(lambda self: summaries))
    for minibatch in ("16", "4"):  # 2 and 8 batches an epoch
        run_train(tmp_path, tiny_h5, "--arch", "coordconv_classification", "-E", "2", "-mb", minibatch,
                  name=f"mb{minibatch}")
    names = summaries.scalars
    assert names[:len(names) // 2] == names[len(names) // 2:] and "epoch_loss" in names
    assert not any(name.startswith("batch_") for name in names)


@pytest.mark.parametrize("arch, arrays", [
    ("coordconv_classification", {"inputs", "labels", "logits", "prob", "pixelwise_prob"}),
    ("deconv_bottleneck", {"inputs", "labels", "logits", "pixelwise_prob", "center_logits", "center_prob"}),
    ("conv_regressor", {"inputs", "labels", "logits"}),
])
def test_evaluation_files_hold_the_papers_arrays_before_training_and_at_snapshots(tmp_path, tiny_h5, arch, arrays):
    metrics = run_train(tmp_path, tiny_h5, "--arch", arch, "-E", "2", "--snapshot-every", "1")
    out = tmp_path / "run"
    for epoch in (0, 1, 2):
        with h5py.File(out / f"evaluation_{epoch:04d}.h5", "r") as h5:
            assert set(h5) == {f"{name}_{part}" for name in arrays for part in ("train", "val")}
            assert h5.attrs["epoch"] == epoch
        saved = json.loads((out / f"evaluation_{epoch:04d}_metrics.json").read_text())
        assert set(saved) == {"train", "val", "time_elapsed"}
    assert saved["val"] == metrics["final"]["val"]
    with h5py.File(out / "evaluation_0002.h5", "r") as h5:
        for name, total in (("labels_val", 81 if "bottleneck" in arch else 1), ("prob_val", 1), ("center_prob_val", 1)):
            if name in h5 and h5[name].ndim == 4:
                np.testing.assert_allclose(h5[name][()].sum(axis=(1, 2, 3)), total, rtol=1e-4)


def test_holdout_carves_a_selection_split_from_train_and_scores_it_every_epoch(tmp_path, tiny_h5):
    """A quarter of the 32 training examples, drawn from the seed, never trained on, scored as holdout_*."""
    metrics = run_train(tmp_path, tiny_h5, "--arch", "coordconv_classification", "-E", "2", "--holdout", "0.25",
                        "--evaluation_h5", "none")
    assert all("holdout_accuracy" in row and "val_accuracy" in row for row in metrics["history"])
    assert metrics["best_holdout"]["metric"] == "holdout_accuracy" and "holdout" in metrics["final"]
    train, _ = supervised_training.load_data(*supervised_training.prepared(
        ["--arch", "coordconv_classification", "--data_h5", str(tiny_h5)])[:2])
    kept, holdout = supervised_training.carve_holdout(train, 0.25, seed=0)
    assert len(holdout[0]) == 8 and len(kept[0]) == 24
    together = np.concatenate([kept[0], holdout[0]])
    assert sorted(map(tuple, together)) == sorted(map(tuple, train[0]))  # a split: nothing lost, nothing twice
    again, _ = supervised_training.carve_holdout(train, 0.25, seed=0)
    np.testing.assert_array_equal(again[0], kept[0])


def test_evaluation_h5_none_keeps_only_the_metrics(tmp_path, tiny_h5):
    run_train(tmp_path, tiny_h5, "--arch", "conv_onehot_image", "--evaluation_h5", "none")
    out = tmp_path / "run"
    assert not list(out.glob("evaluation_*.h5"))
    assert (out / "evaluation_0000_metrics.json").exists() and (out / "evaluation_0001_metrics.json").exists()


def test_l2_penalty_is_the_papers_l2_times_the_sum_of_squared_kernels():
    spec = model_builders.ModelSpec(mul=1, l2=0.003)
    model = model_builders.deconv_classification(spec)
    kernels = [layer.kernel for layer in model.layers if getattr(layer, "kernel_regularizer", None)]
    assert len(kernels) == 6
    expected = 0.003 * sum(float(np.sum(np.square(keras.ops.convert_to_numpy(k)))) for k in kernels)
    np.testing.assert_allclose(supervised_training.regularisation_loss(model), expected, rtol=1e-5)


def test_center_l2_decays_the_center_map_layers_and_l2_the_square_painter():
    model = model_builders.coordconv_rendering(model_builders.ModelSpec(mul=1, l2=0.002, center_l2=0.01))
    kernels = [layer.kernel for layer in model.layers if getattr(layer, "kernel_regularizer", None)]
    squares = [float(np.sum(np.square(keras.ops.convert_to_numpy(k)))) for k in kernels]
    center = [size == 1 for size in (k.shape[0] for k in kernels)]  # the 1x1 CoordConv stack; 3x3 paints
    assert center == [True] * 5 + [False] * 5
    expected = sum((0.01 if c else 0.002) * sq for c, sq in zip(center, squares))
    np.testing.assert_allclose(supervised_training.regularisation_loss(model), expected, rtol=1e-5)


def test_hard_center_paints_from_the_argmax_outside_training_only():
    """Same weights: in training both models paint from the soft map; in inference the hard one paints from
    an exact one-hot, as the painter would from the data's own one-hot at the predicted center."""
    keras.utils.set_random_seed(0)
    soft = model_builders.coordconv_rendering(model_builders.ModelSpec(mul=1))
    hard = model_builders.coordconv_rendering(model_builders.ModelSpec(mul=1, hard_center=True))
    hard.set_weights(soft.get_weights())
    coords = np.array([[5.0, 9.0], [40.0, 31.0]], "float32")
    for training in (True, False):
        np.testing.assert_array_equal(soft(coords, training=training)["center"],
                                      hard(coords, training=training)["center"])
    np.testing.assert_allclose(hard(coords, training=True)["image"], soft(coords, training=True)["image"], atol=1e-5)
    peaks = keras.ops.convert_to_numpy(hard(coords)["center"]).reshape(2, -1).argmax(axis=1)
    one_hot = np.zeros((2, 64 * 64), "float32")
    one_hot[[0, 1], peaks] = 1.0
    painter = keras.Model(hard.get_layer("hard_center").output, hard.output["image"])
    np.testing.assert_allclose(hard(coords)["image"], painter(one_hot.reshape(2, 64, 64, 1)), atol=1e-5)
    reloaded = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(hard))
    assert any(isinstance(layer, model_builders.OneHotAtInference) for layer in reloaded.layers)


def test_init_scale_shrinks_the_coordinate_layers_but_not_the_square_painter():
    """The painter's 3x3 convs keep he_normal: the seed study's smaller start is for the coordinate couplings."""
    def kernels(init_scale):
        keras.utils.set_random_seed(0)
        model = model_builders.coordconv_rendering(model_builders.ModelSpec(mul=1, init_scale=init_scale))
        return [(layer.kernel.shape[0], float(np.std(keras.ops.convert_to_numpy(layer.kernel))))
                for layer in model.layers if getattr(layer, "kernel", None) is not None]

    ratios = [(size, scaled / full) for (size, full), (_, scaled) in zip(kernels(1.0), kernels(0.25))]
    assert [size for size, _ in ratios] == [1] * 5 + [3] * 5
    assert all(ratio == pytest.approx(0.25, rel=1e-3) for size, ratio in ratios if size == 1)
    assert all(ratio == pytest.approx(1.0) for size, ratio in ratios if size == 3)


def test_coords_init_scale_scales_only_the_rows_that_read_coordinates(tmp_path):
    """The draw is the default one, the coordinate rows (the last two inputs) times the scale; it survives saving."""
    def regressor(scale):
        keras.utils.set_random_seed(3)
        return model_builders.coordconv_regressor(model_builders.ModelSpec(coords_init_scale=scale))

    def first_kernel(model):
        return keras.ops.convert_to_numpy(model.layers[1].kernel)[0, 0]  # (onehot + 2 coordinates, 8)

    default, blind, halved = (regressor(scale) for scale in (1.0, 0.0, 0.5))
    np.testing.assert_array_equal(first_kernel(blind)[0], first_kernel(default)[0])
    assert not first_kernel(blind)[1:].any() and first_kernel(default)[1:].all()
    np.testing.assert_allclose(first_kernel(halved)[1:], 0.5 * first_kernel(default)[1:])
    halved.save(tmp_path / "halved.keras")
    reloaded = keras.saving.load_model(tmp_path / "halved.keras")
    assert reloaded.layers[1].kernel_initializer.get_config()["scale"] == 0.5


def test_center_map_is_scored_against_the_onehot_without_interm(tmp_path, tiny_h5):
    metrics = run_train(tmp_path, tiny_h5, "--arch", "coordconv_rendering")
    val = metrics["final"]["val"]
    assert {"center_accuracy", "center_eucl_dist", "center_manh_dist", "center_interm_softmax_loss",
            "image_iou", "image_intersect_pixs", "image_sigm_loss"} <= set(val)
    assert "center_loss" not in val  # scored, not trained on
    assert json.loads((tmp_path / "run" / "config.json").read_text())["loss"] == "sigmoid"


@pytest.mark.parametrize("arch, loss", [("deconv_rendering", "softmax"), ("conv_onehot_image", "sigmoid"),
                                        ("deconv_classification", "softmax")])
def test_default_losses_are_the_papers_where_its_code_ran(arch, loss):
    task, chosen = supervised_training.validate(supervised_training.parse_args(["--arch", arch]))
    assert chosen == loss


def test_skipval_trains_without_validation_and_still_scores_val(tmp_path, tiny_h5):
    metrics = run_train(tmp_path, tiny_h5, "--arch", "coordconv_regressor", "--skipval", "--noshuffletrain")
    assert metrics["history"][0]["val_loss"] == "NA"  # Keras' CSVLogger fills the val columns it did not get
    assert metrics["best_val"] is None and metrics["initial"] is None and "eucl_dist" in metrics["final"]["val"]


def test_training_is_shuffled_unless_told_not_to_as_in_the_paper():
    def shuffled(*flags):
        return supervised_training.parse_args(["--arch", "coordconv_classification", *flags]).shuffletrain

    assert shuffled() and shuffled("--st") and not shuffled("--nst") and not shuffled("--noshuffletrain")


def test_warmup_and_cosine_schedule_per_step():
    args = supervised_training.parse_args(["--arch", "coordconv_classification", "-L", "0.01", "-E", "4",
                                           "--warmup", "1", "--lrpolicy", "cosine"])
    schedule = supervised_training.learning_rate(args, steps_per_epoch=10)
    rates = [float(schedule(step)) for step in (0, 5, 10, 25, 40)]
    np.testing.assert_allclose(rates, [0.0, 0.005, 0.01, 0.005, 0.0], atol=1e-7)
    half_epoch = supervised_training.parse_args(["--arch", "coordconv_rendering", "-L", "0.01", "-E", "2",
                                                 "--warmup", "0.5", "--lrpolicy", "cosine"])
    schedule = supervised_training.learning_rate(half_epoch, steps_per_epoch=10)
    rates = [float(schedule(step)) for step in (0, 5, 20)]
    np.testing.assert_allclose(rates, [0.0, 0.01, 0.0], atol=1e-7)
    held = supervised_training.parse_args(["--arch", "coordconv_rendering", "-L", "0.01", "-E", "3",
                                           "--hold", "1", "--lrpolicy", "cosine"])
    schedule = supervised_training.learning_rate(held, steps_per_epoch=10)
    rates = [float(schedule(step)) for step in (0, 5, 10, 20, 30)]
    np.testing.assert_allclose(rates, [0.01, 0.01, 0.01, 0.005, 0.0], atol=1e-7)
    constant_args = supervised_training.parse_args(["--arch", "coordconv_classification", "-L", "0.01"])
    constant = supervised_training.learning_rate(constant_args, 10)
    assert constant == 0.01


def test_an_extra_epoch_replays_the_last_epochs_rates():
    args = supervised_training.parse_args(["--arch", "coordconv_rendering", "-L", "0.01", "-E", "2", "--hold", "1.5",
                                           "--lrpolicy", "cosine", "--extra_epochs", "2", "--fit_target", "0.999"])
    schedule = supervised_training.learning_rate(args, steps_per_epoch=10)
    plain = supervised_training.learning_rate(argparse.Namespace(**{**vars(args), "extra_epochs": 0}), 10)
    scheduled = [float(schedule(step)) for step in range(20)]
    assert scheduled == [float(plain(step)) for step in range(20)]
    assert [float(schedule(step)) for step in range(20, 40)] == scheduled[10:] * 2
    assert scheduled[14] == pytest.approx(0.01) and scheduled[19] < 0.001  # the last epoch: at --lr, then at rest


def extra_epochs_run(tmp_path, tiny_h5, target, name="run"):
    return ["--arch", "coordconv_classification", "--data_h5", str(tiny_h5), "-mb", "8", "-E", "2", "-mul", "1",
            "--opt", "adam", "--lrpolicy", "cosine", "--hold", "1", "--extra_epochs", "2", "--fit_target", target,
            "--evaluation_h5", "none", "--output", str(tmp_path / name)]


@pytest.mark.parametrize("target, epochs", [("0", 2), ("1.01", 4)])
def test_extra_epochs_train_only_while_the_training_set_misses_the_target(tmp_path, tiny_h5, capsys, target, epochs):
    metrics = supervised_training.main(extra_epochs_run(tmp_path, tiny_h5, target))
    assert (metrics["epochs"], metrics["extra_epochs"]) == (epochs, epochs - 2)
    assert len(metrics["history"]) == epochs
    assert capsys.readouterr().out.count("misses --fit_target") == epochs - 2


# stopped at the scheduled end, before the check (slow, 10 s more); or inside the first extra epoch
@pytest.mark.parametrize("after", [pytest.param(2, marks=pytest.mark.slow), 3])
def test_a_run_stopped_around_its_extra_epochs_resumes_to_the_unbroken_runs_figures(tmp_path, tiny_h5,
                                                                                      monkeypatch, after):
    resumed = interrupted_then_resumed(supervised_training, extra_epochs_run(tmp_path, tiny_h5, "1.01"),
                                       monkeypatch, after=after)
    unbroken = supervised_training.main(extra_epochs_run(tmp_path, tiny_h5, "1.01", name="unbroken"))
    assert resumed["extra_epochs"] == unbroken["extra_epochs"] == 2
    assert_same_figures(resumed, unbroken)


def test_cpu_flag_trains_on_the_cpu(tmp_path, tiny_h5):
    metrics, config = train_in_subprocess(tmp_path, tiny_h5, "cpu", "--cpu", "--with_r", "--init_scale", "0.5",
                                          "--coords_frame", "pixel", "--warmup", "1")
    assert config["cpu"] and metrics["epochs"] == 2
    assert config["machine"]["cpu"] and config["machine"]["device"] == "CPU"  # the ratios compare runs on one machine


def test_same_seed_repeats_the_run(tmp_path, tiny_h5):
    first = run_train(tmp_path, tiny_h5, "--arch", "deconv_classification", "--seed", "3", name="a")
    second = run_train(tmp_path, tiny_h5, "--arch", "deconv_classification", "--seed", "3", name="b")
    assert first["final"] == second["final"]


def test_interrupted_run_resumes_to_the_unbroken_runs_figures(tmp_path, tiny_h5, monkeypatch, capsys):
    """Shuffled training: epoch e's order depends on (seed, e) alone, so the resumed run is the unbroken one."""
    argv = ["--arch", "coordconv_classification", "--data_h5", str(tiny_h5), "-mb", "8", "-E", "4", "-mul", "1",
            "--opt", "adam", "--seed", "3", "--evaluation_h5", "none"]
    resumed = interrupted_then_resumed(supervised_training, argv + ["--output", str(tmp_path / "run")], monkeypatch)
    printed = capsys.readouterr().out
    assert "Epoch 3/4" in printed and printed.count("Epoch 1/4") == 1
    unbroken = supervised_training.main(argv + ["--output", str(tmp_path / "unbroken")])
    assert [int(row["epoch"]) for row in resumed["history"]] == [0, 1, 2, 3]
    assert_same_figures(resumed, unbroken)
    for part in ("train", "val"):
        assert resumed["final"][part] == pytest.approx(unbroken["final"][part], rel=1e-6)


def test_a_run_killed_while_its_backup_is_written_resumes_from_the_one_before(tmp_path, tiny_h5, monkeypatch):
    """Keras wrote the backup in place, so a kill mid-write left a file that no longer loaded."""
    argv = ["--arch", "coordconv_classification", "--data_h5", str(tiny_h5), "-mb", "8", "-E", "4", "-mul", "1",
            "--opt", "adam", "--seed", "3", "--evaluation_h5", "none", "--quiet"]
    save_weights, saves = keras.Model.save_weights, []

    def killed_during_the_third(model, filepath, **kwargs):
        saves.append(filepath)
        if len(saves) == 3:
            open(filepath, "wb").write(b"\x89HDF\r\n half a file")
            raise KeyboardInterrupt
        return save_weights(model, filepath, **kwargs)

    monkeypatch.setattr(keras.Model, "save_weights", killed_during_the_third)
    with pytest.raises(KeyboardInterrupt):
        supervised_training.main(argv + ["--output", str(tmp_path / "run")])
    monkeypatch.setattr(keras.Model, "save_weights", save_weights)
    resumed = supervised_training.main(argv + ["--output", str(tmp_path / "run")])
    unbroken = supervised_training.main(argv + ["--output", str(tmp_path / "unbroken")])
    assert_same_figures(resumed, unbroken)


def test_a_damaged_backup_is_one_line_and_exit_2(tmp_path, tiny_h5, monkeypatch, capsys):
    argv = ["--arch", "coordconv_classification", "--data_h5", str(tiny_h5), "-mb", "8", "-E", "3", "-mul", "1",
            "--opt", "adam", "--evaluation_h5", "none", "--quiet", "--output", str(tmp_path / "run")]
    make_callbacks = supervised_training.make_callbacks
    monkeypatch.setattr(supervised_training, "make_callbacks", lambda *a: make_callbacks(*a) + [InterruptAfter(1)])
    with pytest.raises(KeyboardInterrupt):
        supervised_training.main(argv)
    monkeypatch.setattr(supervised_training, "make_callbacks", make_callbacks)
    weights = tmp_path / "run" / "backup" / "latest.weights.h5"
    weights.write_bytes(weights.read_bytes()[:len(weights.read_bytes()) // 2])
    assert run_cli(supervised_training.main, argv) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and "\n" not in error and "backup is damaged" in error, error


def test_a_valstep_run_resumes_with_its_plateau_count(tmp_path, tiny_h5, monkeypatch):
    """At this LR the val loss is worst at epoch 5: the unbroken run cuts the LR there, and so must the
    resumed one, whose plateau rule would otherwise start afresh and take epoch 5 for an improvement."""
    argv = ["--arch", "coordconv_classification", "--data_h5", str(tiny_h5), "-mb", "8", "-E", "6", "-mul", "1",
            "--opt", "adam", "-L", "0.5", "--lrpolicy", "valstep", "--lrstepevery", "1", "--lrstepratio", "0.5",
            "--seed", "3", "--evaluation_h5", "none", "--quiet"]
    resumed = interrupted_then_resumed(supervised_training, argv + ["--output", str(tmp_path / "run")], monkeypatch,
                                       after=4)
    unbroken = supervised_training.main(argv + ["--output", str(tmp_path / "unbroken")])
    assert_same_figures(resumed, unbroken)


def regressor_map_model(onehot_weight: float, field_weights: tuple):
    """AddCoords then a 1x1 conv to 2 outputs and the global max pool; output c = onehot_weight[c] * one-hot
    + field_weights[c] * (x + y): a large field weight peaks at a corner whatever the image."""
    inputs = keras.Input((8, 8, 1))
    maps = CoordConv.AddCoords2D(8, 8, skiptile=True)(inputs)
    kernel = np.zeros((1, 1, 3, 2), "float32")
    kernel[0, 0, 0] = onehot_weight
    kernel[0, 0, 1] = kernel[0, 0, 2] = field_weights
    conv = keras.layers.Conv2D(2, 1, use_bias=False)
    pooled = keras.layers.GlobalMaxPooling2D()(conv(maps))
    conv.set_weights([kernel])
    return keras.Model(inputs, pooled)


def test_an_output_peaking_at_one_corner_for_every_image_is_dead():
    images = np.zeros((20, 8, 8, 1), "float32")
    images[np.arange(20), np.arange(20) % 8, np.arange(20) // 8 + 2] = 1
    model = regressor_map_model(onehot_weight=5.0, field_weights=(0.1, 10.0))
    assert redraw.dead_outputs(model, images) == [1]
    assert redraw.dead_outputs(regressor_map_model(5.0, (0.1, 0.1)), images) == []


def test_a_dead_first_epoch_is_redrawn_and_the_run_goes_on_from_the_new_draw(tmp_path, tiny_h5, monkeypatch):
    verdicts = iter([[1], []])  # the first draw is dead on y, the second lives
    monkeypatch.setattr(redraw, "dead_outputs", lambda model, images: next(verdicts))
    metrics = run_train(tmp_path, tiny_h5, "--arch", "coordconv_regressor", "-E", "2", "--seed", "4",
                        "--redraw_dead", "3")
    assert metrics["initialisation_seed"] == 1_000_004 and metrics["epochs"] == 2
    assert [draw["initialisation_seed"] for draw in metrics["redrawn"]] == [4]
    assert metrics["redrawn"][0]["dead_outputs"] == [1] and metrics["redrawn"][0]["epoch"] == 1
    assert float(metrics["history"][0]["time_s"]) > metrics["redrawn"][0]["seconds"]  # the redraw's time counts
    monkeypatch.undo()
    keras.backend.clear_session()
    from_the_new_seed = supervised_training.seeded_model(
        *supervised_training.prepared(["--arch", "coordconv_regressor", "--data_h5", str(tiny_h5),
                                       "--seed", "1000004", "-mb", "16"])[:3], steps_per_epoch=1)
    keras.backend.clear_session()
    redrawn_start = supervised_training.seeded_model(
        *supervised_training.prepared(["--arch", "coordconv_regressor", "--data_h5", str(tiny_h5),
                                       "--seed", "4", "-mb", "16"])[:3], steps_per_epoch=1, draw=1)
    for a, b in zip(from_the_new_seed.get_weights(), redrawn_start.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_an_output_dying_in_the_warm_up_is_redrawn_and_its_epochs_are_not_resumed(tmp_path, tiny_h5, monkeypatch):
    verdicts = [[], [0], [], []]  # draw 0 lives after epoch 1, dies after epoch 2; draw 1 lives; epoch 3 unchecked
    monkeypatch.setattr(redraw, "dead_outputs", lambda model, images: verdicts.pop(0))
    metrics = run_train(tmp_path, tiny_h5, "--arch", "coordconv_regressor", "-E", "3", "--warmup", "2",
                        "--redraw_dead", "2")
    assert verdicts == [] and metrics["initialisation_seed"] == 1_000_000 and metrics["redrawn"][0]["epoch"] == 2
    assert [int(row["epoch"]) for row in metrics["history"]] == [0, 1, 2]  # draw 1's three epochs, none of draw 0's
    assert float(metrics["history"][0]["time_s"]) > metrics["redrawn"][0]["seconds"] > 0


def test_a_one_epoch_run_is_not_checked(tmp_path, tiny_h5, monkeypatch):
    monkeypatch.setattr(redraw, "dead_outputs", lambda model, images: [0])
    metrics = run_train(tmp_path, tiny_h5, "--arch", "coordconv_regressor", "--redraw_dead", "3")
    assert metrics["redrawn"] == [] and metrics["initialisation_seed"] == 0


def test_the_last_allowed_draw_trains_on_even_when_dead(tmp_path, tiny_h5, monkeypatch):
    monkeypatch.setattr(redraw, "dead_outputs", lambda model, images: [0])
    metrics = run_train(tmp_path, tiny_h5, "--arch", "coordconv_regressor", "-E", "2", "--redraw_dead", "1")
    assert metrics["initialisation_seed"] == 1_000_000 and len(metrics["redrawn"]) == 1 and metrics["epochs"] == 2


@pytest.fixture
def bad_files(tmp_path, tiny_h5):
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(b"not an hdf5 file at all")
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as h5:
        h5["weights"] = np.zeros(3)
    return {"corrupt": corrupt, "foreign": foreign, "tiny": tiny_h5, "missing": tmp_path / "nope.h5"}


@pytest.mark.parametrize("flags, message", [
    (["--data_h5", "{missing}"], r"nope\.h5 not found: run python data/not_so_clevr_generator\.py"),
    (["--data_h5", "{corrupt}"], r"corrupt\.h5 is not a readable HDF5 file"),
    (["--data_h5", "{foreign}"], r"has no dataset 'train_locations' \(it has: weights\)"),
    (["--data_h5", "{tiny}", "--arch", "resnet50"], r"unknown --arch 'resnet50'"),
    (["--data_h5", "{tiny}", "-mse", "-sig"], r"-mse and -sig .* at most one"),
    (["--data_h5", "{tiny}", "-interm", "mse"], r"-interm only apply to coordconv_rendering"),
    (["--data_h5", "{tiny}", "--center_l2", "0.001"], r"--center_l2 only apply to coordconv_rendering"),
    (["--data_h5", "{tiny}", "--hard_center"], r"--hard_center only apply to coordconv_rendering"),
    (["--data_h5", "{tiny}", "--regressor_stack", "pooled"], r"--regressor_stack chooses conv_regressor.s network"),
    (["--data_h5", "{tiny}", "--arch", "coordconv_rendering", "--center_l2", "-1"], r"--center_l2 -1 must be at"),
    (["--data_h5", "{tiny}", "-E", "0"], r"argument --epochs/-E: must be > 0, got 0"),
    (["--data_h5", "{tiny}", "-mul", "0"], r"argument --channel_mul/-mul: must be > 0, got 0"),
    (["--data_h5", "{tiny}", "-mb", "x"], r"argument --minibatch/-mb: invalid int value: 'x'"),
    (["--data_h5", "{tiny}", "--opt", "adamw"], r"argument --opt: invalid choice: 'adamw'"),
    (["--data_h5", "{tiny}", "--no-such-flag"], r"unrecognized arguments: --no-such-flag \(see .* --help\)"),
    (["--data_h5", "{tiny}", "--load", "{corrupt}"], r"--load .*corrupt\.h5: not a run folder or a readable"),
    (["--data_h5", "{tiny}", "--cpu-devices", "2"], r"--cpu-devices 2 only applies to --strategy mirrored"),
    (["--data_h5", "{tiny}", "--strategy", "multiworker"], r"reads the cluster from \$TF_CONFIG, which is not set"),
    (["--data_h5", "{tiny}", "--skipval", "--lrpolicy", "valstep"], r"valstep steps on the validation loss"),
    (["--data_h5", "{tiny}", "--warmup", "5", "-E", "5"], r"--warmup 5 must be at least 0 and fewer than the 5"),
    (["--data_h5", "{tiny}", "--warmup", "1", "--lrpolicy", "step"], r"--warmup works with --lrpolicy constant"),
    (["--data_h5", "{tiny}", "--hold", "1", "-E", "3"], r"--hold delays the cosine decay: it needs --lrpolicy"),
    (["--data_h5", "{tiny}", "--hold", "1", "--warmup", "1", "--lrpolicy", "cosine", "-E", "3"], r"and no --warmup"),
    (["--data_h5", "{tiny}", "--hold", "3", "--lrpolicy", "cosine", "-E", "3"], r"--hold 3 must be at least 0 and"),
    (["--data_h5", "{tiny}", "--extra_epochs", "1"], r"--extra_epochs and --fit_target go together"),
    (["--data_h5", "{tiny}", "--fit_target", "0.99"], r"--extra_epochs and --fit_target go together"),
    (["--data_h5", "{tiny}", "--extra_epochs", "-1", "--fit_target", "0.99"], r"--extra_epochs -1 must be at least"),
    (["--data_h5", "{tiny}", "--coords_frame", "cm"], r"argument --coords_frame: invalid choice: 'cm'"),
    (["--data_h5", "{tiny}", "--holdout", "1"], r"--holdout 1 must be at least 0 and below 1"),
    (["--data_h5", "{tiny}", "--holdout", "0.001"], r"--holdout 0.001 of 32 training examples leaves no holdout"),
    (["--data_h5", "{tiny}", "--arch", "conv_regressor", "--coords_init_scale", "0"],
     r"--coords_init_scale scales CoordConv layers' weights; --arch conv_regressor has none"),
    (["--data_h5", "{tiny}", "--coords_init_scale", "-1"], r"--coords_init_scale -1.0 must be at least 0"),
    (["--data_h5", "{tiny}", "--redraw_dead", "2"], r"--redraw_dead only applies to coordconv_regressor, not"),
    (["--data_h5", "{tiny}", "--arch", "coordconv_regressor", "--redraw_dead", "-1"], r"--redraw_dead -1 must be"),
    (["--data_h5", "{tiny}", "--arch", "coordconv_regressor", "--redraw_dead", "1", "--load", "{tiny}"],
     r"--load FILE starts from saved weights"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, bad_files, capsys, flags, message):
    flags = [flag.format(**bad_files) for flag in flags]
    if "--arch" not in flags:
        flags += ["--arch", "coordconv_classification"]
    code = run_cli(supervised_training.main, flags + ["--output", str(tmp_path / "out")])
    error = capsys.readouterr().err.strip()
    assert code == 2
    assert error.startswith("error: ") and "\n" not in error
    assert re.search(message, error), error


def test_x_dim_disagreeing_with_the_data_is_named(tmp_path, tiny_h5, capsys):
    code = run_cli(supervised_training.main, ["--arch", "conv_regressor", "--data_h5", str(tiny_h5), "--x_dim", "32",
                                "--output", str(tmp_path / "out")])
    assert code == 2
    assert "train_onehots has shape (32, 64, 64, 1), expected (N, 32, 64, 1) for --x_dim 32" in capsys.readouterr().err


def test_command_line_error_has_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "train.py", "--arch", "coordconv_classification",
                             "--data_h5", str(tmp_path / "missing.h5")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")


def test_papers_readme_command_parses():
    args = supervised_training.parse_args("--arch coordconv_classification -mb 16 -E 100 -L 0.005 --opt adam "
                                          "--l2 0.001 -mul 1".split())
    assert (args.minibatch, args.epochs, args.lr, args.opt, args.l2, args.channel_mul) == (16, 100, 0.005,
                                                                                            "adam", 0.001, 1)


def train_in_subprocess(tmp_path, tiny_h5, name, *flags, env=None):
    """A fresh process: logical CPU devices must be set before TensorFlow starts."""
    out = tmp_path / name
    subprocess.run([sys.executable, "train.py", "--arch", "coordconv_classification", "--data_h5", str(tiny_h5),
                    "-mb", "16", "-E", "2", "-mul", "1", "--opt", "sgd", "-L", "0.05", "--quiet",
                    "--output", str(out), *flags], check=True, cwd=ROOT,
                   env={**os.environ, **(env or {})})
    return json.loads((out / "metrics.json").read_text()), json.loads((out / "config.json").read_text())


@pytest.mark.slow  # 30 s; the multiworker test keeps the strategy path in the fast run
def test_mirrored_over_two_cpu_devices_matches_one_device(tmp_path, tiny_h5):
    single, _ = train_in_subprocess(tmp_path, tiny_h5, "single")
    mirrored, config = train_in_subprocess(tmp_path, tiny_h5, "mirrored", "--strategy", "mirrored",
                                           "--cpu-devices", "2")
    assert config["replicas"] == 2
    losses = [[float(row["loss"]) for row in run["history"]] for run in (single, mirrored)]
    assert losses[1][-1] < losses[1][0]  # it trains
    np.testing.assert_allclose(losses[1], losses[0], rtol=0.02)
    np.testing.assert_allclose(mirrored["final"]["val"]["loss"], single["final"]["val"]["loss"], rtol=0.02)


@pytest.mark.slow  # as the mirrored-strategy test
def test_multiworker_runs_a_one_worker_cluster_from_tf_config(tmp_path, tiny_h5):
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        port = probe.getsockname()[1]
    tf_config = {"cluster": {"worker": [f"localhost:{port}"]}, "task": {"type": "worker", "index": 0}}
    metrics, config = train_in_subprocess(tmp_path, tiny_h5, "multiworker", "--strategy", "multiworker",
                                          env={"TF_CONFIG": json.dumps(tf_config)})
    assert config["strategy"] == "multiworker" and metrics["epochs"] == 2


def test_the_regression_error_is_in_pixels_of_the_image_side():
    from lab.supervised import tasks

    truth, guess = np.array([[0.5, 0.5]], "float32"), np.array([[0.5 + 3 / 32, 0.5 + 4 / 32]], "float32")
    metric = tasks.REGRESSION.make_metrics(32)[0]
    metric.update_state(truth, guess)
    assert float(metric.result()) == pytest.approx(5.0)
