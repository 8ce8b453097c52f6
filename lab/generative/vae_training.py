"""Trains one VAE of the paper (§5) by `--arch`: <simple|clevr>_<vae|coordconv_vae>.

    python train_vae.py --arch simple_coordconv_vae -mb 32 -E 20 -L 0.001 --opt adam --z_dim 8 --width 16

The paper shows VAEs beside its GANs but its code never had them; this is
ours. The encoder is the DCGAN discriminator's convs ending in the
posterior's mean and log-variance; the decoder is a GAN generator ending in
logits: the DCGAN deconv stack (*_vae) or the CoordConv generator (z tiled
over the image, coordinates, 1x1 convs; *_coordconv_vae), at the same
--width. The loss is the negative ELBO: a Bernoulli reconstruction term (pixels
scaled to [0, 1], summed per image) plus the KL divergence from the N(0, I)
prior, both logged per epoch on train and on the held-out last tenth of the
images. The output folder (--output, resman's folder, or runs/<arch>_<data>)
gets what train_gan.py writes (config.json, history.csv, TensorBoard logs,
PNGs before training and after every epoch: prior samples, latent walks between
the encodings of held-out pairs, the stretched mean; reconstructions of
held-out images; metrics.json with the mode-collapse and latent-walk figures)
and .keras snapshots of the encoder and the decoder. Objects in the samples
are found where the Bernoulli mean is above 0.25 (the GAN's figures: 0.5).
Rerunning into the same folder (or --load FOLDER) resumes from the last
finished epoch; --load FILE.keras starts the decoder from a snapshot (a
CoordConv GAN's generator of the same --width and --z_dim fits the CoordConv
decoder).
"""

from pathlib import Path

from lab import backends  # noqa: F401  Keras on its backend, quiet: before keras loads

import keras
from keras import ops
import numpy as np

import model_builders
from lab import archs, datasets
from lab.batches import EpochBatches, fit_in_order
from lab.generative import generative
from lab.generative.generative import (GRID_SIDE, WALKS, SaveNetworks, data_file, interpolate, scaled,
                            image_grid, save_networks)
from lab.runs import (Backup, ElapsedTime, TrackedSteps, after_epochs, console, optimizer_from_flags,
                      progress_verbosity, read_history, run_metrics, start_from_snapshot, started_run, tensorboard,
                      write_config, write_json)
from lab.util import CliError, positive, standard_parser

HELD_OUT = 10  # one image in HELD_OUT, the last ones, is the validation set
RECONSTRUCTED = 10  # held-out images shown beside their reconstructions
LOSSES = ("loss", "reconstruction", "kl")
# The images shown are Bernoulli means: blurred where the decoder is unsure, so the objects of the
# mode-collapse and latent-walk figures are found above 0.25 instead of the GAN's 0.5.
INK = 0.25


def parse_args(argv=None):
    parser = standard_parser(__doc__.splitlines()[0], archs.names("train_vae.py"))
    parser.add_argument("--data_h5", default=None,
                        help=f"default: {generative.DEFAULT_DATA['simple']} for simple_*, "
                             f"{generative.DEFAULT_DATA['clevr']} for clevr_*")
    parser.add_argument("--z_dim", type=positive(int), default=10, help="dimension of the latent code")
    parser.add_argument("--beta", type=float, default=1.0, help="weight of the KL term (1: the ELBO)")
    parser.add_argument("--metric-samples", type=positive(int), default=1000,
                        help="prior samples drawn each epoch for the mode-collapse figures and the averaged image")
    parser.add_argument("--width", type=positive(int), default=model_builders.DCGAN_WIDTH,
                        help="base width every layer of the encoder and the decoder scales with")
    # The paper's SGD default diverges on a loss summed over 4,096 pixels (-ELBO ~10^4): Adam is this script's
    parser.set_defaults(opt="adam")
    return parser.parse_args(argv)


def validate(args):
    """Rejects unknown archs and impossible flags."""
    archs.lookup(args.arch, "train_vae.py")
    if args.beta < 0:
        raise CliError(f"--beta must be >= 0, got {args.beta}")


def load_images(args) -> tuple:
    """(train, held-out) uint8 images, checked against the batch size and the decoders' upsampling."""
    data_h5 = data_file(args)
    images = datasets.load_gan_images(data_h5, archs.ARCHS[args.arch].data)
    height, width = images.shape[1:3]
    if height % 16 or width % 16:
        raise CliError(f"{data_h5}: images are {height}x{width}; the decoders need sides divisible by 16")
    held_out = len(images) // HELD_OUT
    if len(images) - held_out < args.minibatch or held_out < 2:
        raise CliError(f"{data_h5} has {len(images)} images: too few for -mb {args.minibatch} "
                       f"and a held-out tenth of at least 2")
    return images[:-held_out], images[-held_out:]


def make_dataset(images: np.ndarray, batch_size: int, seed=None) -> EpochBatches:
    """Batches of images in [-1, 1], in an order drawn from (seed, epoch) when a seed is given."""
    return EpochBatches(images, batch_size, seed=seed, transform=scaled)


class VAE(TrackedSteps):
    """Encoder and decoder trained on the negative ELBO; calling it on z gives the images shown, in [-1, 1]."""

    def __init__(self, encoder, decoder, beta=1.0, seed=0, **kwargs):
        super().__init__(LOSSES, seed, **kwargs)
        self.encoder, self.decoder, self.beta = encoder, decoder, beta
        self.evaluation_noise = keras.random.SeedGenerator(seed)
        self.evaluation_noise_start = keras.ops.convert_to_numpy(self.evaluation_noise.state.value).copy()

    @property
    def networks(self) -> dict:
        """The networks saved as snapshots, by name."""
        return {"encoder": self.encoder, "decoder": self.decoder}

    def call(self, z, training=False):
        return self.shown(self.decoder(z, training=training))

    @staticmethod
    def shown(logits):
        """The decoder's Bernoulli means, in [-1, 1] as the data."""
        return 2.0 * ops.sigmoid(logits) - 1.0

    def encode(self, images, training=False):
        """The posterior's mean: the latent a walk between two images goes through."""
        return self.encoder(images, training=training)["mean"]

    def reconstruct(self, images):
        return self(self.encode(images))

    def losses_on(self, images, training, noise) -> dict:
        """Negative ELBO and its terms, per image (summed over pixels and latent dimensions), batch mean."""
        posterior = self.encoder(images, training=training)
        mean, log_var = posterior["mean"], posterior["log_var"]
        z = mean + ops.exp(0.5 * log_var) * keras.random.normal(ops.shape(mean), seed=noise)
        logits = self.decoder(z, training=training)
        pixels = ops.binary_crossentropy((images + 1.0) / 2.0, logits, from_logits=True)
        reconstruction = ops.mean(ops.sum(pixels, axis=[1, 2, 3]))
        kl = ops.mean(-0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=1))
        penalty = sum(self.encoder.losses + self.decoder.losses, 0.0)
        return {"loss": reconstruction + self.beta * kl + penalty, "reconstruction": reconstruction, "kl": kl}

    def step(self, data):
        images, _, _ = keras.utils.unpack_x_y_sample_weight(data)  # batches of images alone come as (images,)
        variables = self.encoder.trainable_variables + self.decoder.trainable_variables
        return self.tracked(self.descend(self.optimizer, variables,
                                         lambda: self.losses_on(images, training=True, noise=self.noise)))

    def evaluation_step(self, data):
        images, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self.tracked(self.losses_on(images, training=False, noise=self.evaluation_noise))

    def evaluate(self, *args, **kwargs):
        """The held-out figures with the same posterior draws at every evaluation (fit's validation included), so
        the same weights give the same -ELBO."""
        self.evaluation_noise.state.assign(self.evaluation_noise_start)
        return super().evaluate(*args, **kwargs)


def build_vae(args, image_shape) -> VAE:
    spec = model_builders.ModelSpec(x_dim=image_shape[0], y_dim=image_shape[1], l2=args.l2)
    coordconv_decoder = archs.ARCHS[args.arch].coords_in_generator
    encoder, decoder = model_builders.build_vae(image_shape, args.z_dim, spec, coordconv_decoder, width=args.width)
    vae = VAE(encoder, decoder, args.beta, seed=args.seed)
    vae.compile(optimizer=optimizer_from_flags(args))
    vae.optimizer.build(encoder.trainable_variables + decoder.trainable_variables)  # a resume restores its slots
    return vae


class VAESamples(generative.EpochSamples):
    """Prior samples from fixed z ~ N(0, I), walks between the encodings of fixed held-out pairs, reconstructions."""

    def __init__(self, out: Path, z_dim: int, metric_samples: int, data_report: dict, held_out: np.ndarray,
                 seed: int):
        rng = np.random.default_rng(seed)
        grid_z = rng.standard_normal((GRID_SIDE * GRID_SIDE, z_dim)).astype(np.float32)
        metric_z = rng.standard_normal((metric_samples, z_dim)).astype(np.float32)
        super().__init__(out, grid_z, metric_z, data_report)
        self.pairs = scaled(held_out[rng.choice(len(held_out), (WALKS, 2))])
        self.originals = scaled(held_out[:RECONSTRUCTED])

    def walk_latents(self) -> np.ndarray:
        """The encoder moves every epoch, so the walks' ends are encoded anew."""
        ends = ops.convert_to_numpy(self.model.encode(self.pairs.reshape(-1, *self.pairs.shape[2:])))
        ends = ends.reshape(WALKS, 2, -1)
        return np.concatenate([interpolate(start, end) for start, end in ends])

    def extra_images(self) -> dict:
        """Held-out images (top row) over their reconstructions."""
        reconstructions = ops.convert_to_numpy(self.model.reconstruct(self.originals))
        return {"reconstructions": image_grid(np.concatenate([self.originals, reconstructions]), RECONSTRUCTED)}


def make_callbacks(args, out: Path, data_report: dict, held_out: np.ndarray) -> list:
    # VAESamples and ElapsedTime add to the logs, so they come before the loggers
    callbacks = [
        Backup(out),
        VAESamples(out, args.z_dim, args.metric_samples, data_report, held_out, args.seed),
        ElapsedTime(out / "history.csv", budget=args.time_budget),
        keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
        *tensorboard(out / "tensorboard", args),
    ]
    if args.snapshot_every > 0:
        callbacks.append(SaveNetworks(out, args.snapshot_to, args.snapshot_every))
    return callbacks


def write_results(args, vae: VAE, out: Path, data_report: dict, held_out: np.ndarray, steps: int) -> dict:
    history = read_history(out / "history.csv")
    if args.snapshot_every != 0:
        save_networks(vae, out, f"{args.snapshot_to}_{{}}_final.keras")
    held_out_losses = vae.evaluate(make_dataset(held_out, args.minibatch), verbose=0, return_dict=True)
    metrics = run_metrics(
        args, out, history, data_file(args), {name: network.count_params() for name, network in vae.networks.items()},
        steps, data={"one_of_each": data_report["one_of_each"], "cells": len(data_report["cells"])},
        final=generative.final_figures(history), val={name: float(value) for name, value in held_out_losses.items()})
    write_json(out / "metrics.json", metrics)
    return metrics


def summary_line(metrics: dict) -> str:
    val = metrics["val"]
    return (f"{after_epochs(metrics)}, held-out "
            f"-ELBO {val['loss']:.1f} nats/image (reconstruction {val['reconstruction']:.1f}, KL {val['kl']:.1f}); "
            f"{generative.figures_text(metrics['final'])}")


def main(argv=None):
    args = parse_args(argv)
    validate(args)
    train_images, held_out = load_images(args)
    with started_run(args, data_file(args)) as out:
        vae = build_vae(args, train_images.shape[1:])
        if args.load and not Path(args.load).is_dir():
            start_from_snapshot(vae.decoder, args.load)
        write_config(out, args, data_h5=data_file(args))
        data_report = generative.data_report(train_images, args.metric_samples, args.seed, INK)
        log = console(args)
        log(f"{args.arch}: encoder {vae.encoder.count_params():,} params, decoder {vae.decoder.count_params():,}; "
            f"{len(train_images)} train / {len(held_out)} held-out images from {data_file(args)}; output in {out}")

        batches = make_dataset(train_images, args.minibatch, seed=args.seed)
        fit_in_order(vae, batches, make_callbacks(args, out, data_report, held_out), epochs=args.epochs,
                     validation_data=make_dataset(held_out, args.minibatch), verbose=progress_verbosity(args))
        metrics = write_results(args, vae, out, data_report, held_out, len(batches))
        log(summary_line(metrics))
        return metrics

