#!/usr/bin/env python3
"""Trains one GAN of the paper (§5) by `--arch`: <simple|clevr>_<gan|coordconv_in_g|coordconv_in_gd>.

    python train_gan.py --arch clevr_coordconv_in_gd -mb 16 -E 50 -L 0.0001 --lr2 .0005 --opt adam --z_dim 256 --snapshot-every 1

simple_* train on the Not-so-Clevr gray squares (train and val together, as
the paper), clevr_* on Sort-of-Clevr. As the paper's code, each batch gets one
forward pass that moves the BatchNorm statistics and gives the logged losses,
then one discriminator step and two generator steps on the same z (the
non-saturating loss; BatchNorm normalises by the batch in all of them). The
CoordConv generator's output is linear and the discriminator sees it raw;
tanh is applied to the images shown (--tanh_output ends it in tanh instead).
The output folder (--output, resman's folder, or runs/<arch>_<data>) gets
config.json, history.csv, TensorBoard logs, PNGs in fake_images/ before
training (epoch 000) and after every epoch (a 10x10 grid from a fixed z with
BatchNorm in inference mode, bn0, and in training mode, bn1; 8 latent walks
between fixed z, a row each; the min-max-stretched mean of the metric's samples),
.keras snapshots of both networks, and metrics.json with the mode-collapse
and latent-walk figures before training and per epoch (see gan_metrics.py). Rerunning into
the same folder (or --load FOLDER) resumes from the last finished epoch.
"""

import contextlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow loads: no I0000/E0000 lines

import keras  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import datasets  # noqa: E402
import gan_metrics  # noqa: E402
import model_builders  # noqa: E402
from train import (ElapsedTime, console, elapsed, hide_gpus, output_dir, progress_verbosity, read_history,  # noqa: E402
                   start_from_snapshot, write_config, write_json)
from util import CliError, optimizer_from_flags, positive, require_arch, run_cli, standard_parser  # noqa: E402

DEFAULT_DATA = {"simple": "data/rectangle_4_uniform.h5",
                "clevr": "data/sort_of_clevr/sort_of_clevr_2objs_10rad_50000imgs_64x.h5"}
GRID_SIDE = 10  # the sample grid is GRID_SIDE x GRID_SIDE images; a latent walk has GRID_SIDE steps
WALKS = 8  # latent walks between fixed pairs of z, for the strips and the walk metric
FIGURES = ("one_of_each", "centre_coverage", "walk_centre_step", "walk_area_change", "walk_presence")
GENERATOR_STEPS = 2  # per discriminator step, as the paper


def parse_args(argv=None):
    parser = standard_parser(__doc__.splitlines()[0], model_builders.GAN_ARCHS)
    parser.add_argument("--data_h5", default=None,
                        help=f"default: {DEFAULT_DATA['simple']} for simple_*, {DEFAULT_DATA['clevr']} for clevr_*")
    parser.add_argument("--z_dim", type=positive(int), default=10, help="dimension of the noise vector")
    parser.add_argument("--lr2", type=positive(float), default=None,
                        help="the generator's learning rate (default: --lr)")
    parser.add_argument("--feature_match", "-fm", action="store_true",
                        help="add feature matching to the generator's loss")
    parser.add_argument("--feature_match_loss_weight", "-fmalpha", type=float, default=None,
                        help="weight of the feature matching loss (default 1.0; needs -fm)")
    parser.add_argument("--pairedz", action="store_true",
                        help="the i-th batch of every epoch gets the same z")
    parser.add_argument("--metric-samples", type=positive(int), default=1000,
                        help="samples drawn each epoch for the mode-collapse figures and the averaged image")
    parser.add_argument("--width", type=positive(int), default=model_builders.DCGAN_WIDTH,
                        help="base width every layer of both networks scales with (the paper's: 64)")
    parser.add_argument("--tanh_output", action="store_true",
                        help="end the CoordConv generator in tanh, so the discriminator sees [-1, 1] images "
                             "(the paper's is linear; tanh only for the images shown)")
    return parser.parse_args(argv)


def validate(args):
    """Rejects unknown archs and flags that cannot mean anything; fills in defaults."""
    require_arch(args.arch, model_builders.GAN_ARCHS)
    if args.feature_match_loss_weight is not None and not args.feature_match:
        raise CliError("-fmalpha weights the feature matching loss: add -fm")
    if args.feature_match_loss_weight is not None and args.feature_match_loss_weight < 0:
        raise CliError(f"-fmalpha must be >= 0, got {args.feature_match_loss_weight}")
    if args.tanh_output and not model_builders.has_linear_output(args.arch, bounded=False):
        raise CliError(f"--tanh_output is for the CoordConv generator; {args.arch}'s DCGAN generator ends in tanh")
    args.data = args.arch.split("_", 1)[0]
    args.data_h5 = args.data_h5 or DEFAULT_DATA[args.data]


def load_images(args) -> np.ndarray:
    """The training images as uint8, checked against the batch size and the generator's upsampling."""
    images = datasets.load_gan_images(args.data_h5, args.data)
    height, width = images.shape[1:3]
    if height % 16 or width % 16:
        raise CliError(f"{args.data_h5}: images are {height}x{width}; the generators need sides divisible by 16")
    if len(images) < args.minibatch:
        raise CliError(f"{args.data_h5} has {len(images)} images, fewer than one minibatch (-mb {args.minibatch})")
    return images


def scaled(images):
    """uint8 0..255 -> float32 in [-1, 1], the range of the generator's tanh."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def make_dataset(images: np.ndarray, args) -> tf.data.Dataset:
    """Batches of {"images"[, "images2"][, "z"]}; shuffles indices, not the images themselves."""
    table = tf.constant(images)
    batches = len(images) // args.minibatch  # the paper drops the last partial batch

    def shuffled_images(seed):
        order = tf.data.Dataset.range(len(images)).shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
        return order.batch(args.minibatch, drop_remainder=True).map(lambda i: scaled(tf.gather(table, i)))

    parts = {"images": shuffled_images(args.seed)}
    if args.feature_match:  # a second real batch, as the paper's input_images2
        parts["images2"] = shuffled_images(args.seed + 1)
    if args.pairedz:
        parts["z"] = tf.data.Dataset.range(batches).map(
            lambda i: tf.random.stateless_uniform((args.minibatch, args.z_dim), seed=[args.seed, i], minval=-1.0))
    return tf.data.Dataset.zip(parts).prefetch(tf.data.AUTOTUNE)


def sigmoid_xe(logits, label: float):
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.fill(tf.shape(logits), label),
                                                                  logits=logits))


@contextlib.contextmanager
def statistics_kept(*networks):
    """Moving BatchNorm statistics as they were on entry: the paper moves them once per batch, not per step."""
    variables = [v for network in networks for v in network.non_trainable_variables]
    saved = [tf.identity(v.value) for v in variables]
    yield
    for variable, value in zip(variables, saved):
        variable.assign(value)


class GAN(keras.Model):
    """Generator and discriminator trained together as the paper's train_gan.py does."""

    def __init__(self, generator, discriminator, z_dim, linear_output=False, feature_match_weight=None, seed=0,
                 **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.z_dim, self.linear_output, self.feature_match_weight = z_dim, linear_output, feature_match_weight
        self.noise = keras.random.SeedGenerator(seed)
        names = ["d_loss", "d_loss_real", "d_loss_fake", "correct_real", "correct_fake", "g_loss", "g_loss_basic"]
        names += ["g_loss_feature_match"] if feature_match_weight is not None else []
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
        self.built = True  # both networks are built; BackupAndRestore can load weights before fit

    def compile(self, d_optimizer, g_optimizer):
        super().compile(optimizer=None)  # the two below do the work; Keras' default would be saved unused
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        # built now, so a resumed run restores their slots instead of skipping them
        d_optimizer.build(self.discriminator.trainable_variables)
        g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, z, training=False):
        return self.shown(self.generator(z, training=training))

    def shown(self, generated):
        """The images a person sees: tanh of a linear generator's output, else the output itself."""
        return tf.tanh(generated) if self.linear_output else generated

    def sample_z(self, count):
        return keras.random.uniform((count, self.z_dim), minval=-1.0, maxval=1.0, seed=self.noise)

    def losses_on(self, real, z, real2=None) -> dict:
        """Every loss of one forward pass, the discriminator seeing the generator's raw output."""
        fake = self.discriminator(self.generator(z, training=True), training=True)
        real_logits = self.discriminator(real, training=True)["logits"]
        losses = {"d_loss_real": sigmoid_xe(real_logits, 1.0), "d_loss_fake": sigmoid_xe(fake["logits"], 0.0),
                  "correct_real": tf.reduce_mean(tf.cast(real_logits > 0, tf.float32)),
                  "correct_fake": tf.reduce_mean(tf.cast(fake["logits"] < 0, tf.float32)),
                  "g_loss_basic": sigmoid_xe(fake["logits"], 1.0)}
        losses["d_loss"] = losses["d_loss_real"] + losses["d_loss_fake"]
        losses["g_loss"] = losses["g_loss_basic"] + tf.add_n([0.0] + self.generator.losses)
        if real2 is not None:
            real_features = tf.stop_gradient(self.discriminator(real2, training=True)["features"])
            losses["g_loss_feature_match"] = tf.reduce_mean(tf.abs(real_features - fake["features"]))
            losses["g_loss"] += self.feature_match_weight * losses["g_loss_feature_match"]
        return losses

    def train_step(self, batch):
        real, real2 = batch["images"], batch.get("images2")
        z = batch["z"] if "z" in batch else self.sample_z(tf.shape(real)[0])
        losses = self.losses_on(real, z, real2)
        with statistics_kept(self.generator, self.discriminator):
            self.descend(self.d_optimizer, self.discriminator, lambda: self.losses_on(real, z, real2)["d_loss"])
            for _ in range(GENERATOR_STEPS):
                self.descend(self.g_optimizer, self.generator, lambda: self.losses_on(real, z, real2)["g_loss"])
        for name, tracker in self.trackers.items():
            tracker.update_state(losses[name])
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    @staticmethod
    def descend(optimizer, network, compute_loss):
        """One optimizer step on `network` against `compute_loss()`."""
        with tf.GradientTape() as tape:
            loss = compute_loss()
        gradients = tape.gradient(loss, network.trainable_variables)
        optimizer.apply_gradients(zip(gradients, network.trainable_variables))


def build_gan(args, image_shape) -> GAN:
    spec = model_builders.Spec(x_dim=image_shape[0], y_dim=image_shape[1], l2=args.l2)
    generator, discriminator = model_builders.build_gan(args.arch, image_shape, args.z_dim, spec, args.tanh_output,
                                                        args.width)
    weight = (1.0 if args.feature_match_loss_weight is None else args.feature_match_loss_weight) \
        if args.feature_match else None
    gan = GAN(generator, discriminator, args.z_dim, linear_output=model_builders.has_linear_output(
        args.arch, args.tanh_output), feature_match_weight=weight, seed=args.seed)
    gan.compile(d_optimizer=optimizer_from_flags(args),
                g_optimizer=optimizer_from_flags(args, learning_rate=args.lr2 or args.lr))
    return gan


def tile(images: np.ndarray, columns: int) -> np.ndarray:
    """Images in [-1, 1] -> one RGB grid in [0, 1] with 1-pixel black dividers."""
    images = np.clip((images + 1.0) / 2.0, 0.0, 1.0)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    rows = -(-len(images) // columns)
    count, height, width, _ = images.shape
    grid = np.zeros((rows * (height + 1) - 1, columns * (width + 1) - 1, 3), np.float32)
    for index in range(count):
        row, column = divmod(index, columns)
        grid[row * (height + 1):row * (height + 1) + height, column * (width + 1):column * (width + 1) + width] = \
            images[index]
    return grid


def interpolate(z_from: np.ndarray, z_to: np.ndarray, steps: int = GRID_SIDE) -> np.ndarray:
    return np.stack([z_from + (z_to - z_from) * t for t in np.linspace(0.0, 1.0, steps)]).astype(np.float32)


def stretched(image: np.ndarray) -> np.ndarray:
    """Min-max stretched to [-1, 1], as the paper shows the mean of its samples."""
    low, high = image.min(), image.max()
    return (image - low) / (high - low) * 2.0 - 1.0 if high > low else np.zeros_like(image)


class EpochSamples(keras.callbacks.Callback):
    """Before training and after every epoch: PNGs and TensorBoard images of samples, and the mode-collapse figures.

    The fixed z (grid, interpolation ends, metric samples) come from --seed, so
    epochs and runs compare image by image. The figures before training go to
    initial_metrics.json.
    """

    def __init__(self, out: Path, z_dim: int, metric_samples: int, data_report: dict, seed: int):
        super().__init__()
        self.out, self.folder = out, out / "fake_images"
        self.log_dir = out / "tensorboard" / "images"
        rng = np.random.default_rng(seed)
        self.grid_z = rng.uniform(-1, 1, (GRID_SIDE * GRID_SIDE, z_dim)).astype(np.float32)
        self.walk_z = np.concatenate([interpolate(*rng.uniform(-1, 1, (2, z_dim))) for _ in range(WALKS)])
        self.metric_z = rng.uniform(-1, 1, (metric_samples, z_dim)).astype(np.float32)
        self.data_report = data_report

    def on_train_begin(self, logs=None):
        self.folder.mkdir(parents=True, exist_ok=True)
        self.writer = tf.summary.create_file_writer(str(self.log_dir))
        if not (self.out / "initial_metrics.json").exists():  # a resumed run did this before
            write_json(self.out / "initial_metrics.json", self.record(0))

    def on_epoch_end(self, epoch, logs=None):
        logs.update(self.record(epoch + 1))

    def record(self, epoch: int) -> dict:
        """Writes the epoch's images; returns its mode-collapse figures."""
        samples, walks = self.generate(self.metric_z), self.generate(self.walk_z)
        images = {"samples_bn0": tile(self.generate(self.grid_z), GRID_SIDE),
                  "samples_bn1": tile(self.generate(self.grid_z, batch_statistics=True), GRID_SIDE),
                  "interpolation": tile(walks, GRID_SIDE),
                  "averaged": tile(stretched(samples.mean(axis=0, keepdims=True)), 1)}
        for kind, image in images.items():
            plt.imsave(self.folder / f"{kind}_epoch{epoch:03d}.png", image)
        with self.writer.as_default():
            for kind in ("samples_bn0", "interpolation"):
                tf.summary.image(kind, images[kind][None], step=epoch)
        figures = {**gan_metrics.mode_collapse(samples, self.data_report),
                   **gan_metrics.latent_walk(walks.reshape(WALKS, GRID_SIDE, *walks.shape[1:]),
                                             self.data_report["area_range"])}
        return {key: figures[key] for key in FIGURES}

    def generate(self, z, batch_statistics=False):
        """Images shown for `z`; BatchNorm in inference mode, or normalising by the batch (statistics kept)."""
        if not batch_statistics:
            return self.model.predict(z, batch_size=100, verbose=0)
        with statistics_kept(self.model.generator):
            return self.model(z, training=True).numpy()


class SaveNetworks(keras.callbacks.Callback):
    """Saves the generator and the discriminator as .keras files every `every` epochs."""

    def __init__(self, out: Path, stem: str, every: int):
        super().__init__()
        self.out, self.stem, self.every = out, stem, every

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            save_networks(self.model, self.out, f"{self.stem}_{{}}_epoch{epoch + 1:03d}.keras")


def save_networks(gan: GAN, out: Path, pattern: str):
    for network in ("generator", "discriminator"):
        getattr(gan, network).save(out / pattern.format(network))


def make_callbacks(args, out: Path, data_report: dict) -> list:
    # EpochSamples and ElapsedTime add to the logs, so they come before the loggers
    callbacks = [
        keras.callbacks.BackupAndRestore(str(out / "backup"), delete_checkpoint=False),
        EpochSamples(out, args.z_dim, args.metric_samples, data_report, args.seed),
        ElapsedTime(out / "history.csv"),
        keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
        keras.callbacks.TensorBoard(str(out / "tensorboard"), write_graph=False),
    ]
    if args.snapshot_every > 0:
        callbacks.append(SaveNetworks(out, args.snapshot_to, args.snapshot_every))
    return callbacks


def write_results(args, gan: GAN, out: Path, data_report: dict) -> dict:
    history = read_history(out / "history.csv")
    if args.snapshot_every != 0:
        save_networks(gan, out, f"{args.snapshot_to}_{{}}_final.keras")
    wall = elapsed(history)
    metrics = {
        "arch": args.arch, "data_h5": args.data_h5, "output": str(out),
        "params": {"generator": gan.generator.count_params(), "discriminator": gan.discriminator.count_params()},
        "epochs": len(history), "wall_time_s": wall,
        "epochs_per_minute": 60.0 * len(history) / wall if wall else None,
        "data": {"one_of_each": data_report["one_of_each"], "cells": len(data_report["cells"])},
        "initial": json.loads((out / "initial_metrics.json").read_text()),
        "final": {key: float(history[-1][key]) for key in FIGURES} if history else None,
        "history": history,
    }
    write_json(out / "metrics.json", metrics)
    return metrics


def summary_line(metrics: dict) -> str:
    final = metrics["final"]
    return (f"{metrics['arch']}: after {metrics['epochs']} epochs ({metrics['wall_time_s']:.0f} s), "
            f"{final['one_of_each']:.1%} of samples have exactly one object of each colour "
            f"(data {metrics['data']['one_of_each']:.1%}); centre coverage {final['centre_coverage']:.1%} "
            f"of the data's {metrics['data']['cells']} cells; latent walks: centres move "
            f"{final['walk_centre_step']:.1f} px per step, areas change {final['walk_area_change']:.0%}")


def main(argv=None):
    args = parse_args(argv)
    validate(args)
    images = load_images(args)
    out = output_dir(args)
    out.mkdir(parents=True, exist_ok=True)

    if args.cpu:
        hide_gpus()
    keras.utils.set_random_seed(args.seed)
    gan = build_gan(args, images.shape[1:])
    if args.load and not Path(args.load).is_dir():
        start_from_snapshot(gan.generator, args.load)
    write_config(out, args)
    data_report = gan_metrics.objects_report(
        scaled(images[np.random.default_rng(args.seed).permutation(len(images))[:args.metric_samples]]).numpy())
    log = console(args)
    log(f"{args.arch}: generator {gan.generator.count_params():,} params, discriminator "
        f"{gan.discriminator.count_params():,}; {len(images)} images from {args.data_h5}; output in {out}")

    gan.fit(make_dataset(images, args), epochs=args.epochs, callbacks=make_callbacks(args, out, data_report),
            shuffle=False, verbose=progress_verbosity(args))
    metrics = write_results(args, gan, out, data_report)
    log(summary_line(metrics))
    return metrics


if __name__ == "__main__":
    sys.exit(run_cli(main))
