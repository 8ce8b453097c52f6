"""Trains one GAN of the paper (§5) by `--arch`: <simple|clevr>_<gan|coordconv_in_g|coordconv_in_gd>.

    python train_gan.py --arch clevr_coordconv_in_gd -mb 16 -E 50 -L 0.0001 --lr2 .0005 --opt adam \
        --z_dim 256 --snapshot-every 1

simple_* train on the Not-so-Clevr gray squares (train and val together, as
the paper), clevr_* on Sort-of-Clevr, lsun_* (the clevr networks) on an LSUN
category converted by data/lsun_to_h5.py, the original README's "LSUN GAN". As the paper's code, each batch gets one
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
and latent-walk figures before training and per epoch (see lab/generative/gan_metrics.py). Rerunning into
the same folder (or --load FOLDER) resumes from the last finished epoch.
"""

from pathlib import Path

from lab import backends  # noqa: F401  Keras on its backend, quiet: before keras loads

import keras
from keras import ops
import numpy as np

import model_builders
from lab import archs, datasets
from lab.batches import EpochBatches, SeededNoise, ZippedBatches, fit_in_order
from lab.generative import generative
from lab.runs import (Backup, ElapsedTime, TrackedSteps, after_epochs, console, elapsed, optimizer_from_flags,
                      progress_verbosity, read_history, run_metrics, start_from_snapshot, started_run, tensorboard,
                      write_config, write_json)
from lab.generative.generative import (GRID_SIDE, WALKS, SaveNetworks, data_file, interpolate, scaled,
                            save_networks, statistics_kept)
from lab.util import CliError, positive, standard_parser

GENERATOR_STEPS = 2  # per discriminator step, as the paper


def parse_args(argv=None):
    parser = standard_parser(__doc__.splitlines()[0], archs.names("train_gan.py"))
    parser.add_argument("--data_h5", default=None,
                        help=f"default: {generative.DEFAULT_DATA['simple']} for simple_*, "
                             f"{generative.DEFAULT_DATA['clevr']} for clevr_*, {generative.DEFAULT_DATA['lsun']} "
                             "for lsun_*")
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
    parser.add_argument("--dtype", default="float32", choices=("float32", "mixed_bfloat16"),
                        help="mixed_bfloat16: layers compute in bfloat16 (variables and the last layers stay float32); "
                             "2.2x faster on a CPU with AVX-512 BF16 or AMX, and the GPUs' tensor cores' format")
    parser.add_argument("--steps_per_execution", type=positive(int), default=1, metavar="N",
                        help="training steps per compiled call: the same figures, less per-step dispatch "
                             "(progress and batch-level callbacks every N steps)")
    parser.add_argument("--tanh_output", action="store_true",
                        help="end the CoordConv generator in tanh, so the discriminator sees [-1, 1] images "
                             "(the paper's is linear; tanh only for the images shown)")
    return parser.parse_args(argv)


def validate(args):
    """Rejects unknown archs and flags that cannot mean anything."""
    arch = archs.lookup(args.arch, "train_gan.py")
    if args.feature_match_loss_weight is not None and not args.feature_match:
        raise CliError("-fmalpha weights the feature matching loss: add -fm")
    if args.feature_match_loss_weight is not None and args.feature_match_loss_weight < 0:
        raise CliError(f"-fmalpha must be >= 0, got {args.feature_match_loss_weight}")
    if args.tanh_output and not arch.coords_in_generator:
        raise CliError(f"--tanh_output is for the CoordConv generator; {args.arch}'s DCGAN generator ends in tanh")


def load_images(args) -> np.ndarray:
    """The training images as uint8, checked against the batch size and the generator's upsampling."""
    data_h5 = data_file(args)
    images = datasets.load_gan_images(data_h5, archs.ARCHS[args.arch].data)
    height, width = images.shape[1:3]
    if height % 16 or width % 16:
        raise CliError(f"{data_h5}: images are {height}x{width}; the generators need sides divisible by 16")
    if len(images) < args.minibatch:
        raise CliError(f"{data_h5} has {len(images)} images, fewer than one minibatch (-mb {args.minibatch})")
    return images


def make_dataset(images: np.ndarray, args) -> ZippedBatches:
    """Batches of {"images"[, "images2"][, "z"]}, each epoch's order drawn from (seed, epoch); the paper drops the
    last partial batch."""

    def shuffled_images(seed):
        return EpochBatches(images, args.minibatch, seed=seed, drop_remainder=True, transform=scaled)

    parts = {"images": shuffled_images(args.seed)}
    if args.feature_match:  # a second real batch, as the paper's input_images2
        parts["images2"] = shuffled_images(args.seed + 1)
    if args.pairedz:
        parts["z"] = SeededNoise(len(parts["images"]), (args.minibatch, args.z_dim), args.seed)
    return ZippedBatches(parts)


def constant_label_xe(logits, label: float):
    """Sigmoid cross-entropy of every logit against one label (1: real, 0: fake), averaged."""
    return ops.mean(ops.binary_crossentropy(ops.full_like(logits, label), logits, from_logits=True))


class OptimizerPair:
    """The discriminator's and the generator's optimizers as the one `model.optimizer` whose variables Keras' JAX
    trainer carries through a step (a step's state has one optimizer's place)."""

    built = True

    def __init__(self, *optimizers):
        self.optimizers = optimizers

    @property
    def variables(self) -> list:
        return [variable for optimizer in self.optimizers for variable in optimizer.variables]


class GAN(TrackedSteps):
    """Generator and discriminator trained together as the paper's train_gan.py does."""

    def __init__(self, generator, discriminator, z_dim, linear_output=False, feature_match_weight=None, seed=0,
                 **kwargs):
        names = ["d_loss", "d_loss_real", "d_loss_fake", "correct_real", "correct_fake", "g_loss", "g_loss_basic"]
        names += ["g_loss_feature_match"] if feature_match_weight is not None else []
        super().__init__(names, seed, **kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.z_dim, self.linear_output, self.feature_match_weight = z_dim, linear_output, feature_match_weight

    def compile(self, d_optimizer, g_optimizer, steps_per_execution=1):
        # the two optimizers below do the work; Keras' default would be saved unused
        super().compile(optimizer=None, steps_per_execution=steps_per_execution)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        # built now, so a resumed run restores their slots instead of skipping them
        d_optimizer.build(self.discriminator.trainable_variables)
        g_optimizer.build(self.generator.trainable_variables)
        self.optimizer = OptimizerPair(d_optimizer, g_optimizer)

    @property
    def networks(self) -> dict:
        """The networks saved as snapshots, by name."""
        return {"generator": self.generator, "discriminator": self.discriminator}

    def call(self, z, training=False):
        return self.shown(self.generator(z, training=training))

    def shown(self, generated):
        """The images a person sees: tanh of a linear generator's output, else the output itself."""
        return ops.tanh(generated) if self.linear_output else generated

    def sample_z(self, count):
        return keras.random.uniform((count, self.z_dim), minval=-1.0, maxval=1.0, seed=self.noise)

    def losses_on(self, real, z, real2=None) -> dict:
        """Every loss of one forward pass, the discriminator seeing the generator's raw output."""
        fake = self.discriminator(self.generator(z, training=True), training=True)
        real_logits = self.discriminator(real, training=True)["logits"]
        losses = {"d_loss_real": constant_label_xe(real_logits, 1.0),
                  "d_loss_fake": constant_label_xe(fake["logits"], 0.0),
                  "correct_real": ops.mean(ops.cast(real_logits > 0, "float32")),
                  "correct_fake": ops.mean(ops.cast(fake["logits"] < 0, "float32")),
                  "g_loss_basic": constant_label_xe(fake["logits"], 1.0)}
        losses["d_loss"] = losses["d_loss_real"] + losses["d_loss_fake"]
        losses["g_loss"] = losses["g_loss_basic"] + sum(self.generator.losses, 0.0)
        if real2 is not None:
            real_features = ops.stop_gradient(self.discriminator(real2, training=True)["features"])
            losses["g_loss_feature_match"] = ops.mean(ops.abs(ops.cast(real_features - fake["features"], "float32")))
            losses["g_loss"] += self.feature_match_weight * losses["g_loss_feature_match"]
        return losses

    def step(self, data):
        batch, _, _ = keras.utils.unpack_x_y_sample_weight(data)  # fit's dict, or train_on_batch's (dict, None, None)
        real, real2 = batch["images"], batch.get("images2")
        z = batch["z"] if "z" in batch else self.sample_z(ops.shape(real)[0])
        losses = self.losses_on(real, z, real2)
        with statistics_kept(self.generator, self.discriminator):
            self.descend(self.d_optimizer, self.discriminator.trainable_variables,
                         lambda: self.losses_on(real, z, real2), "d_loss")
            for _ in range(GENERATOR_STEPS):
                self.descend(self.g_optimizer, self.generator.trainable_variables,
                             lambda: self.losses_on(real, z, real2), "g_loss")
        return self.tracked(losses)


def build_gan(args, image_shape) -> GAN:
    spec = model_builders.ModelSpec(x_dim=image_shape[0], y_dim=image_shape[1], l2=args.l2)
    arch = archs.ARCHS[args.arch]
    generator, discriminator = model_builders.build_gan(image_shape, args.z_dim, spec, arch.coords_in_generator,
                                                        arch.coords_in_discriminator, bounded=args.tanh_output,
                                                        width=args.width)
    weight = (1.0 if args.feature_match_loss_weight is None else args.feature_match_loss_weight) \
        if args.feature_match else None
    gan = GAN(generator, discriminator, args.z_dim, linear_output=arch.coords_in_generator and not args.tanh_output,
              feature_match_weight=weight, seed=args.seed)
    gan.compile(d_optimizer=optimizer_from_flags(args),
                g_optimizer=optimizer_from_flags(args, learning_rate=args.lr2 or args.lr),
                steps_per_execution=args.steps_per_execution)
    return gan


class GANSamples(generative.EpochSamples):
    """The paper's fixed-z images and figures: z uniform in [-1, 1] from --seed, walks between fixed pairs."""

    def __init__(self, out: Path, z_dim: int, metric_samples: int, data_report: dict, seed: int):
        rng = np.random.default_rng(seed)
        grid_z = rng.uniform(-1, 1, (GRID_SIDE * GRID_SIDE, z_dim)).astype(np.float32)
        self.walk_z = np.concatenate([interpolate(*rng.uniform(-1, 1, (2, z_dim))) for _ in range(WALKS)])
        metric_z = rng.uniform(-1, 1, (metric_samples, z_dim)).astype(np.float32)
        super().__init__(out, grid_z, metric_z, data_report)

    def walk_latents(self) -> np.ndarray:
        return self.walk_z


def make_callbacks(args, out: Path, data_report: dict) -> list:
    # GANSamples and ElapsedTime add to the logs, so they come before the loggers
    callbacks = [
        Backup(out),
        GANSamples(out, args.z_dim, args.metric_samples, data_report, args.seed),
        ElapsedTime(out / "history.csv", budget=args.time_budget),
        keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
        *tensorboard(out / "tensorboard", args),
    ]
    if args.snapshot_every > 0:
        callbacks.append(SaveNetworks(out, args.snapshot_to, args.snapshot_every))
    return callbacks


def write_results(args, gan: GAN, out: Path, data_report: dict, steps: int) -> dict:
    history = read_history(out / "history.csv")
    if args.snapshot_every != 0:
        save_networks(gan, out, f"{args.snapshot_to}_{{}}_final.keras")
    wall = elapsed(history)
    metrics = run_metrics(
        args, out, history, data_file(args),
        {"generator": gan.generator.count_params(), "discriminator": gan.discriminator.count_params()}, steps,
        epochs_per_minute=60.0 * len(history) / wall if wall else None,
        data={"one_of_each": data_report["one_of_each"], "cells": len(data_report["cells"])} if data_report else None,
        final=generative.final_figures(history))
    write_json(out / "metrics.json", metrics)
    return metrics


def summary_line(metrics: dict) -> str:
    data = metrics["data"]
    return (f"{after_epochs(metrics)}, {generative.figures_text(metrics['final'])}"
            + (f" (data: {data['one_of_each']:.1%} one of each, {data['cells']} cells)" if data else ""))


def main(argv=None):
    args = parse_args(argv)
    validate(args)
    images = load_images(args)
    with started_run(args, data_file(args)) as out:
        keras.mixed_precision.set_global_policy(args.dtype)
        gan = build_gan(args, images.shape[1:])
        if args.load and not Path(args.load).is_dir():
            start_from_snapshot(gan.generator, args.load)
        write_config(out, args, data_h5=data_file(args))
        data_report = generative.data_report(images, args.metric_samples, args.seed) \
            if archs.ARCHS[args.arch].data in generative.OBJECT_DATA else None
        log = console(args)
        log(f"{args.arch}: generator {gan.generator.count_params():,} params, discriminator "
            f"{gan.discriminator.count_params():,}; {len(images)} images from {data_file(args)}; output in {out}")

        batches = make_dataset(images, args)
        fit_in_order(gan, batches, make_callbacks(args, out, data_report), epochs=args.epochs,
                     verbose=progress_verbosity(args))
        metrics = write_results(args, gan, out, data_report, len(batches))
        log(summary_line(metrics))
        return metrics

