"""The GAN experiments: Sort-of-Clevr data, the mode-collapse metric, and train_gan.py."""

import json
import shutil

import h5py
import numpy as np
import pytest

import model_builders
from lab import archs
from lab.generative import gan_metrics, gan_training, generative, sort_of_clevr as clevr
from lab.supervised import not_so_clevr
from conftest import CLEVR_COUNT as COUNT, assert_same_figures, documented_counts, interrupted_then_resumed
from lab.provenance import STAMP_PREFIX
from lab.util import run_cli

@pytest.fixture(scope="module")
def clevr_data(clevr_h5):
    with h5py.File(clevr_h5, "r") as h5:
        return {key: h5[key][()] for key in h5}


def test_generator_keys_shapes_and_value_range(clevr_h5, clevr_data):
    assert clevr_h5.name == "sort_of_clevr_2objs_10rad_300imgs_64x.h5"
    assert set(clevr_data) == {"train_x", "objects_colour", "objects_center", "objects_shape"}
    images = clevr_data["train_x"]
    assert images.shape == (COUNT, 64, 64, 3) and images.dtype == np.float32
    assert images.min() == -1.0 and images.max() == 1.0
    assert np.all(images[:, 0, 0] == 1.0)  # a corner is always white: no center is closer than 10 px


def test_two_objects_one_red_one_blue_far_apart_with_both_shapes(clevr_data):
    centers = clevr_data["objects_center"]
    assert centers.shape == (COUNT, 2, 2) and centers.min() >= 10 and centers.max() <= 53
    assert np.all(np.hypot(*(centers[:, 0] - centers[:, 1]).T) >= 20)
    assert np.all(clevr_data["objects_colour"] == [0, 1])  # blue, then red
    assert 0.4 < clevr_data["objects_shape"].mean() < 0.6


def test_metadata_agrees_with_the_pixels(clevr_data):
    colours = np.array(list(clevr.COLOURS.values())) / 127.5 - 1.0
    images, centers = clevr_data["train_x"], clevr_data["objects_center"]
    every = np.arange(COUNT)
    for index in range(2):
        x, y = centers[:, index, 0], centers[:, index, 1]
        assert np.all(images[every, y, x] == colours[clevr_data["objects_colour"][:, index]])
    # the red object is drawn last, so nothing covers it: its corner shows a square from a circle
    x, y = centers[:, 1, 0], centers[:, 1, 1]
    corner_is_red = np.all(images[every, y - 10, x - 10] == colours[1], axis=-1)
    assert np.array_equal(corner_is_red, clevr_data["objects_shape"][:, 1] == clevr.SHAPES.index("square"))


def test_same_seed_same_bytes_and_blobs_match_metadata(tmp_path, clevr_data):
    clevr.main(["--out-dir", str(tmp_path), "--count", str(COUNT), "--quiet"])
    with h5py.File(clevr.dataset_path(tmp_path, COUNT), "r") as h5:
        assert all(np.array_equal(h5[key][()], clevr_data[key]) for key in clevr_data)
    masks = gan_metrics.colour_masks(clevr_data["train_x"][:50])
    found = [blobs[0][:2] for blobs in gan_metrics.find_blobs(masks["red"])]
    np.testing.assert_allclose(found, clevr_data["objects_center"][:50, 1], atol=0.6)


def test_an_interrupted_generation_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(clevr, "render", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        clevr.main(["--out-dir", str(tmp_path), "--count", "10", "--quiet"])
    assert list(tmp_path.iterdir()) == []


def test_metric_scores_real_data_near_perfect(clevr_data):
    images = clevr_data["train_x"]
    data_report = gan_metrics.objects_report(images[:150])
    figures = gan_metrics.mode_collapse(images[150:], data_report)
    assert figures["one_of_each"] == 1.0 and figures["center_coverage"] >= 0.9
    assert figures["count_distance"] == 0.0 and figures["position_distance"] < 0.3  # 150 images: sampling noise


@pytest.mark.parametrize("fake", ["white", "black", "gray", "noise"])
def test_metric_scores_a_constant_or_noise_image_near_zero(clevr_data, fake):
    values = {"white": 1.0, "black": -1.0, "gray": 0.0}
    shape = (100, 64, 64, 3)
    samples = (np.random.default_rng(0).uniform(-1, 1, shape) if fake == "noise"
               else np.full(shape, values[fake], np.float32))
    figures = gan_metrics.mode_collapse(samples, gan_metrics.objects_report(clevr_data["train_x"]))
    assert figures["one_of_each"] == 0.0 and figures["center_coverage"] == 0.0
    assert figures["count_distance"] == 1.0 and figures["position_distance"] == 1.0


def test_metric_rejects_a_smear_of_colour(clevr_data):
    smear = np.ones((10, 64, 64, 3), np.float32)
    smear[:, :40, :, 1:] = -1.0  # a red band over the top
    smear[:, 50:, :, :2] = -1.0  # a blue band at the bottom
    figures = gan_metrics.mode_collapse(smear, gan_metrics.objects_report(clevr_data["train_x"]))
    assert figures["one_of_each"] == 0.0 and figures["center_coverage"] == 0.0


def test_metric_sees_collapse_to_one_image(clevr_data):
    images = clevr_data["train_x"]
    figures = gan_metrics.mode_collapse(np.repeat(images[:1], 100, axis=0), gan_metrics.objects_report(images))
    assert figures["one_of_each"] == 1.0 and figures["center_coverage"] < 0.1
    assert figures["count_distance"] == 0.0 and figures["position_distance"] > 0.9  # right counts, two places


def test_count_distance_sees_a_colour_dropped(clevr_data):
    """Samples with the red object painted white: one blue each, no red; against one of each, all different."""
    images = clevr_data["train_x"][:50].copy()
    red = np.all(images == sort_of_clevr_colour("red"), axis=-1)
    images[red] = 1.0
    figures = gan_metrics.mode_collapse(images, gan_metrics.objects_report(clevr_data["train_x"]))
    assert figures["count_distance"] == 1.0 and figures["position_distance"] < 0.5  # the blue ones are where they were


def sort_of_clevr_colour(name: str) -> np.ndarray:
    return np.array(clevr.COLOURS[name], np.float32) / 127.5 - 1.0


def square_walk(centers_x, sides):
    """One latent walk on 32x32 gray images: a white square per step (side 0: none)."""
    images = -np.ones((len(centers_x), 32, 32, 1), np.float32)
    for image, x, side in zip(images, centers_x, sides):
        image[10:10 + side, x:x + side] = 1.0
    return images


def test_latent_walk_tells_a_sliding_object_from_a_fading_one():
    sliding = square_walk(range(2, 22, 2), [8] * 10)
    fading = square_walk([12] * 10, [8, 8, 6, 0, 0, 0, 6, 8, 8, 8])
    slide = gan_metrics.latent_walk(sliding[None], (20, 100))
    fade = gan_metrics.latent_walk(fading[None], (20, 100))
    assert gan_metrics.latent_walk(-sliding[None], (20, 100))["walk_presence"] == 0.0  # a white field is no object
    assert slide == {"walk_center_step": 2.0, "walk_area_change": 0.0, "walk_presence": 1.0}
    assert fade["walk_center_step"] < 1.5 and fade["walk_presence"] == 0.7
    assert fade["walk_area_change"] == pytest.approx((2 * (1 - 36 / 64) + 2 * 1.0) / 7)  # 2 of 9 steps see none


def test_a_lower_ink_threshold_finds_the_dim_objects_of_a_vaes_bernoulli_means():
    dim = np.where(square_walk(range(2, 22, 2), [8] * 10) > 0, -0.2, -1.0)[None]  # squares at 0.4 of the range
    assert gan_metrics.latent_walk(dim, (20, 100))["walk_presence"] == 0.0
    assert gan_metrics.latent_walk(dim, (20, 100), ink=0.25)["walk_center_step"] == 2.0


def test_parameter_counts_match_the_docstrings():
    spec = model_builders.ModelSpec()
    rgb = (64, 64, 3)
    assert model_builders.coordconv_generator(rgb, 256, spec, bounded=False).count_params() == \
        documented_counts(model_builders.coordconv_generator)[0]
    assert model_builders.deconv_generator(rgb, 256, spec, bounded=True).count_params() == \
        documented_counts(model_builders.deconv_generator)[0]
    assert model_builders.discriminator(rgb, add_coords=False).count_params() == \
        documented_counts(model_builders.discriminator)[0]


def gan_argv(tmp_path, data_h5, *flags, name="run"):
    """One epoch at 1/8 of the paper's width: the plumbing is under test here, not the networks' size."""
    return ["--data_h5", str(data_h5), "-mb", "16", "-E", "1", "--opt", "adam", "-L", "0.0001",
            "--lr2", "0.0005", "--z_dim", "8", "--width", "8", "--metric-samples", "8",
            "--output", str(tmp_path / name), "--quiet", *flags]


def data_for(arch, clevr_h5, tiny_data_dir):
    return clevr_h5 if arch.startswith("clevr") else not_so_clevr.dataset_path(tiny_data_dir, "uniform")


# each variant stays in the fast run once, on one of the two datasets
SLOW_GAN_ARCHS = ("simple_coordconv_in_gd", "clevr_coordconv_in_g", "clevr_gan")


@pytest.mark.parametrize("arch, flags", [
    pytest.param(arch, (), marks=[pytest.mark.slow] if arch in SLOW_GAN_ARCHS else [])
    for arch in archs.names("train_gan.py") if not arch.startswith("lsun")] + [  # LSUN's: tests/test_lsun.py
    pytest.param("simple_gan", ("-fm", "-fmalpha", "0.5", "--pairedz"), marks=pytest.mark.slow)])  # 15 s
def test_every_gan_arch_trains_and_writes_its_outputs(tmp_path, clevr_h5, tiny_data_dir, arch, flags):
    data_h5 = data_for(arch, clevr_h5, tiny_data_dir)
    if arch.startswith("clevr"):  # one iteration: the first 16 images are enough
        with h5py.File(clevr_h5, "r") as full, h5py.File(tmp_path / "tiny.h5", "w") as tiny:
            tiny["train_x"] = full["train_x"][:16]
        data_h5 = tmp_path / "tiny.h5"
    metrics = gan_training.main(gan_argv(tmp_path, data_h5, "--arch", arch, *flags))
    out = tmp_path / "run"
    assert metrics["epochs"] == 1 and 0.0 <= metrics["final"]["center_coverage"] <= 1.0
    assert metrics["data"]["one_of_each"] == 1.0
    history = metrics["history"][0]
    assert np.isfinite(float(history["d_loss"])) and np.isfinite(float(history["g_loss"]))
    assert ("g_loss_feature_match" in history) == ("-fm" in flags)
    assert json.loads((out / "metrics.json").read_text())["arch"] == arch
    assert set(metrics["initial"]) == set(generative.FIGURES)
    for kind in ("samples_bn0", "samples_bn1", "interpolation", "averaged"):
        for epoch in ("000", "001"):
            assert (out / "fake_images" / f"{kind}_epoch{epoch}.png").stat().st_size > 0
    assert (out / "net_generator_final.keras").exists() and (out / "net_discriminator_final.keras").exists()
    assert list((out / "tensorboard").rglob("events.out.*"))


@pytest.mark.slow  # the VAE's seed test is in the fast run
def test_same_seed_same_losses(tmp_path, tiny_data_dir):
    data_h5 = data_for("simple_gan", None, tiny_data_dir)
    runs = [gan_training.main(gan_argv(tmp_path, data_h5, "--arch", "simple_gan", name=f"run{i}")) for i in range(2)]
    assert runs[0]["history"][0]["g_loss"] == runs[1]["history"][0]["g_loss"]


@pytest.mark.slow  # 60 s; the fast suite resumes a GAN to the unbroken run's figures from packed parts
def test_interrupted_gan_resumes_to_the_unbroken_runs_figures(tmp_path, tiny_data_dir, monkeypatch, capsys):
    """Shuffled real images, a second real batch (-fm) and seeded noise: all of it the same after a resume."""
    data_h5 = data_for("simple_gan", None, tiny_data_dir)
    argv = gan_argv(tmp_path, data_h5, "--arch", "simple_coordconv_in_g", "-E", "3", "-mb", "8", "-fm")
    argv.remove("--quiet")
    resumed = interrupted_then_resumed(gan_training, argv, monkeypatch)
    printed = capsys.readouterr().out
    assert "Epoch 3/3" in printed and printed.count("Epoch 1/3") == 1
    unbroken = gan_training.main(gan_argv(tmp_path, data_h5, "--arch", "simple_coordconv_in_g", "-E", "3", "-mb", "8",
                                          "-fm", name="unbroken"))
    assert [int(row["epoch"]) for row in resumed["history"]] == [0, 1, 2]
    assert_same_figures(resumed, unbroken)


@pytest.mark.parametrize("flags, message", [
    (["--arch", "clevr_gann"], "unknown --arch 'clevr_gann'"),
    (["--arch", "simple_gan", "-fmalpha", "2"], "-fmalpha weights the feature matching loss: add -fm"),
    (["--arch", "simple_gan", "--z_dim", "0"], "argument --z_dim: must be > 0, got 0"),
    (["--arch", "clevr_gan", "--tanh_output"], "--tanh_output is for the CoordConv generator"),
    (["--arch", "clevr_gan", "--data_h5", "missing.h5"], "run python data/sort_of_clevr_generator.py"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, flags, message):
    assert run_cli(gan_training.main, ["--output", str(tmp_path / "run"), *flags]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_a_not_so_clevr_file_for_a_clevr_arch_names_the_missing_key(tmp_path, tiny_data_dir, capsys):
    data_h5 = not_so_clevr.dataset_path(tiny_data_dir, "uniform")
    assert run_cli(gan_training.main, ["--arch", "clevr_gan", "--data_h5", str(data_h5),
                                    "--output", str(tmp_path / "run")]) == 2
    assert "has no dataset 'train_x'" in capsys.readouterr().err


def test_the_papers_readme_flags_run_as_written(tmp_path, tiny_data_dir):
    data_h5 = data_for("simple_gan", None, tiny_data_dir)
    argv = ["--arch", "simple_gan", "--data_h5", str(data_h5), "-E", "1", "--metric-samples", "8", "--quiet",
            "--width", "8",
            "--output", str(tmp_path / "run"), *"--z_dim 256 -mb 16 -L 0.0001 --lr2 .0005 --opt adam".split()]
    assert np.isfinite(float(gan_training.main(argv)["history"][0]["g_loss"]))


def small_gan(arch, *flags):
    args = gan_training.parse_args(["--arch", arch, "--z_dim", "8", *flags])
    gan_training.validate(args)
    gan_training.keras.utils.set_random_seed(0)
    return gan_training.build_gan(args, (32, 32, 1))


def test_the_coordconv_generator_is_linear_and_the_discriminator_sees_its_raw_output():
    gan = small_gan("simple_coordconv_in_g")
    assert gan.linear_output and gan.generator.layers[-1].activation.__name__ == "linear"
    z = np.random.default_rng(0).uniform(-1, 1, (4, 8)).astype("float32")
    raw = gan.generator(z).numpy()
    np.testing.assert_allclose(gan(z), np.tanh(raw), atol=1e-6)  # tanh only for the images shown
    bounded = small_gan("simple_coordconv_in_g", "--tanh_output")
    assert not bounded.linear_output and bounded.generator.layers[-1].activation.__name__ == "tanh"
    assert not small_gan("simple_gan").linear_output  # the DCGAN generator ends in tanh, as the paper's


def test_batchnorm_statistics_move_in_one_forward_pass_per_batch_not_in_the_steps():
    gan = small_gan("simple_gan")
    networks = (gan.generator, gan.discriminator)
    statistics = lambda: [v.numpy() for network in networks for v in network.non_trainable_variables]  # noqa: E731
    rng = np.random.default_rng(0)
    batch = {"images": rng.uniform(-1, 1, (16, 32, 32, 1)).astype("float32"),
             "z": rng.uniform(-1, 1, (16, 8)).astype("float32")}
    start, before = [network.get_weights() for network in networks], statistics()
    gan.losses_on(batch["images"], batch["z"])
    after_one_pass = statistics()
    for network, weights in zip(networks, start):
        network.set_weights(weights)
    gan.train_step(batch)
    assert any(not np.allclose(a, b) for a, b in zip(after_one_pass, before))
    for moved_once, moved_by_step in zip(after_one_pass, statistics()):
        np.testing.assert_allclose(moved_by_step, moved_once, rtol=1e-6)


@pytest.mark.parametrize("study, images_per_run", [pytest.param("gan", 2, marks=pytest.mark.slow), ("vae", 3)])
def test_reproduce_gan_writes_a_table_plot_and_images_per_study(tmp_path, tiny_data_dir, study, images_per_run):
    from studies import reproduce_gan

    reproduce_gan.main(["--studies", study, "--seeds", "3", "--epochs", "1", "--vae-epochs", "1", "--width", "4",
                        "--metric-samples", "8", "--results", str(tmp_path), "--data-dir", str(tiny_data_dir)])
    out = tmp_path / study
    table, stamp = (out / "table.md").read_text().split(STAMP_PREFIX)
    rows = table.strip().splitlines()
    assert len(rows) == 2 + 2 * (1 + 1)  # header, rule; per arch its seed and the median
    assert stamp.startswith(f"python -m studies.reproduce_gan --studies {study} --seeds 3")
    assert rows[-1].startswith(f"| **{reproduce_gan.STUDIES[study].archs[1]}** | median (min–max) |")
    assert rows[0].endswith("| KL |") == (study == "vae")
    results = json.loads((out / "results.json").read_text())
    assert set(results) == set(reproduce_gan.STUDIES[study].archs)
    assert all([r["seed"] for r in seed_runs] == [3] for seed_runs in results.values())
    assert (out / "metrics_vs_steps.png").stat().st_size > 0
    assert len(list((out / "images").glob("*.png"))) == 2 * images_per_run


def test_steps_per_execution_changes_no_figure(tmp_path, tiny_data_dir):
    """Six steps an epoch, four per compiled call (a remainder of two): the figures of one step per call."""
    data_h5 = data_for("simple_gan", None, tiny_data_dir)
    runs = [gan_training.main(gan_argv(tmp_path, data_h5, "--arch", "simple_coordconv_in_g", "-E", "2", "-mb", "8",
                                       "--steps_per_execution", steps, name=f"run{steps}")) for steps in ("1", "4")]
    assert runs[0]["steps_per_epoch"] == 6
    assert_same_figures(runs[1], runs[0])


def test_mixed_bfloat16_trains_with_float32_heads_and_snapshots_that_load(tmp_path, tiny_data_dir):
    data_h5 = data_for("simple_gan", None, tiny_data_dir)
    metrics = gan_training.main(gan_argv(tmp_path, data_h5, "--arch", "simple_coordconv_in_g", "--dtype",
                                         "mixed_bfloat16"))
    assert np.isfinite(float(metrics["history"][0]["g_loss"]))
    generator = gan_training.keras.saving.load_model(tmp_path / "run" / "net_generator_final.keras")
    assert generator.layers[1].compute_dtype == "bfloat16" and generator.layers[-1].compute_dtype == "float32"
    assert json.loads((tmp_path / "run" / "config.json").read_text())["dtype"] == "mixed_bfloat16"


def test_a_run_resumed_from_packed_parts_equals_an_unbroken_one(tmp_path, tiny_data_dir):
    """gpu/gan_scale.sh carries a run between GPU calls as parts: one epoch, packed in parts of 40 KiB, the run
    folder deleted, unpacked, a second epoch; against two epochs unbroken."""
    from studies import gan_scale

    data_h5 = data_for("simple_gan", None, tiny_data_dir)
    flags = ("--arch", "simple_coordconv_in_g", "-mb", "8", "--steps_per_execution", "2")
    gan_training.main(gan_argv(tmp_path, data_h5, *flags, name="carried"))
    manifest = gan_scale.main(["pack", str(tmp_path / "carried"), str(tmp_path / "parts"), "--part-mib", "0.04"])
    assert len(manifest["parts"]) > 2 and all((tmp_path / "parts" / name).stat().st_size <= 0.04 * 2 ** 20
                                              for name in manifest["parts"])
    shutil.rmtree(tmp_path / "carried")
    gan_scale.main(["unpack", str(tmp_path / "parts"), str(tmp_path / "carried")])
    resumed = gan_training.main(gan_argv(tmp_path, data_h5, *flags, "-E", "2", name="carried"))
    unbroken = gan_training.main(gan_argv(tmp_path, data_h5, *flags, "-E", "2", name="unbroken"))
    assert [int(row["epoch"]) for row in resumed["history"]] == [0, 1]
    assert_same_figures(resumed, unbroken)


def test_damaged_or_missing_parts_are_one_line(tmp_path, capsys):
    from studies import gan_scale

    (tmp_path / "run" / "backup").mkdir(parents=True)
    (tmp_path / "run" / "backup" / "weights").write_bytes(b"x" * 100)
    gan_scale.main(["pack", str(tmp_path / "run"), str(tmp_path / "parts"), "--part-mib", "0.001"])
    (tmp_path / "parts" / "run.tar.part01").write_bytes(b"changed")
    elsewhere = str(tmp_path / "elsewhere" / "run")  # parts belong to the run folder of the same name
    assert run_cli(gan_scale.main, ["unpack", str(tmp_path / "parts"), elsewhere]) == 2
    assert "do not match their manifest" in capsys.readouterr().err
    (tmp_path / "parts" / "run.tar.part00").unlink()
    assert run_cli(gan_scale.main, ["unpack", str(tmp_path / "parts"), elsewhere]) == 2
    assert "lacks run.tar.part00" in capsys.readouterr().err
    assert run_cli(gan_scale.main, ["pack", str(tmp_path / "nothing"), str(tmp_path / "parts")]) == 2
    assert "has no backup/ to pack" in capsys.readouterr().err
