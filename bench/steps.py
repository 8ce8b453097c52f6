#!/usr/bin/env python3
"""Times one compiled training step of the paper's CoordConv models, split layers against the concatenation.

    python -m bench.steps [--repeats 10] [--data-dir data]

Rows: train.py's models on one minibatch of the Not-so-Clevr uniform split
(the seed study's flags: -mb 16, Adam, -mul 1, --l2 0.001), and one GAN
step (one D step, two G steps) at the paper's Sort-of-Clevr setting (64x64
RGB, z of 256, minibatch 16, random images). The concatenation form is the
same network built as before the split (bench/forms.py): every CoordConv
layer an AddCoords then a plain conv over C + 2 channels, the tiled first
layers a 1x1 conv over the tiled vector. Both forms are compiled and
interleaved; the median step is reported. Measuring one step, rather than
epochs as bench.train does, keeps the machine's noise out of the ratio.
"""

import argparse
from pathlib import Path

from lab import backends  # noqa: F401  Keras on its backend, quiet: before keras loads

import tensorflow as tf

from lab import gan_training, supervised_training
from lab.batches import EpochBatches
from bench.backends import GAN_FLAGS, GAN_IMAGE_SHAPE, SUPERVISED_FLAGS
from bench.forms import concatenation_builders
from bench.timing import median_seconds
from lab.util import positive

SUPERVISED = ("coordconv_classification", "coordconv_rendering", "coordconv_regressor", "upsample_coordconv_coords")
SUPERVISED_DATA = "rectangle_4_uniform.h5"
GAN_ARCHS = ("clevr_coordconv_in_g", "clevr_coordconv_in_gd", "clevr_gan")


def supervised_step(arch: str, data_h5: Path):
    """One compiled train_step of train.py's model for `arch` on its first minibatch."""
    args = supervised_training.parse_args(["--arch", arch, "--data_h5", str(data_h5), *SUPERVISED_FLAGS.split()])
    task, loss = supervised_training.validate(args)
    (train_x, train_y), _ = supervised_training.load_data(args, task)
    model = supervised_training.build_model(args, task, loss, steps_per_epoch=1)
    batch = EpochBatches((train_x, train_y), args.minibatch)[0]
    return compiled(model.train_step, batch)


def gan_step(arch: str):
    """One compiled GAN train_step of `arch` on a fixed batch of random images."""
    args = gan_training.parse_args(["--arch", arch, *GAN_FLAGS.split()])
    gan_training.validate(args)
    gan = gan_training.build_gan(args, GAN_IMAGE_SHAPE)
    batch = {"images": tf.random.stateless_uniform((args.minibatch, *GAN_IMAGE_SHAPE), [0, 0], -1.0, 1.0)}
    return compiled(gan.train_step, batch)


def compiled(train_step, batch):
    step = tf.function(train_step)
    return lambda: step(batch)


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.steps", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=positive(int), default=10)
    parser.add_argument("--data-dir", default="data")
    args = parser.parse_args()
    makers = {arch: (lambda a=arch: supervised_step(a, Path(args.data_dir) / SUPERVISED_DATA)) for arch in SUPERVISED}
    makers.update({arch: (lambda a=arch: gan_step(a)) for arch in GAN_ARCHS})
    print(f"{'arch':<26} {'concat ms':>9} {'split ms':>8} {'speed-up':>8}")
    for arch, make_step in makers.items():
        with concatenation_builders():
            concatenation = make_step()
        t = median_seconds({"concatenation": concatenation, "split": make_step()}, args.repeats)
        print(f"{arch:<26} {1e3 * t['concatenation']:>9.1f} {1e3 * t['split']:>8.1f} "
              f"{t['concatenation'] / t['split']:>8.2f}x", flush=True)


if __name__ == "__main__":
    main()
