#!/usr/bin/env python3
"""Times one GAN training step (one D step, two G steps) with the split CoordConv layers and with the concatenation.

    python -m bench.gan [--repeats 10] [--archs clevr_coordconv_in_g clevr_coordconv_in_gd clevr_gan]

The paper's Sort-of-Clevr setting: 64x64 RGB, z of 256, minibatch 16. The
concatenation form is the same networks built as before the split (every
CoordConv layer an AddCoords then a plain conv over C + 2 channels, the
generator's first layer a 1x1 conv over 256 + 2 channels tiled to 4,096
pixels). Both forms are compiled and interleaved; the median step is reported.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

import train_gan  # noqa: E402
from bench.forms import concatenation_builders  # noqa: E402
from bench.timing import median_seconds  # noqa: E402
from util import positive  # noqa: E402

IMAGE_SHAPE = (64, 64, 3)
FLAGS = "--z_dim 256 -mb 16 -L 0.0001 --lr2 .0005 --opt adam"  # the paper's README


def compiled_step(arch: str, seed: int = 0):
    """A tf.function running one train_step of `arch` on a fixed batch of random images."""
    args = train_gan.parse_args(["--arch", arch, *FLAGS.split(), "--seed", str(seed)])
    train_gan.validate(args)
    gan = train_gan.build_gan(args, IMAGE_SHAPE)
    batch = {"images": tf.random.stateless_uniform((args.minibatch, *IMAGE_SHAPE), [seed, 0], -1.0, 1.0)}
    step = tf.function(gan.train_step)
    return lambda: step(batch)


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.gan", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=positive(int), default=10)
    parser.add_argument("--archs", nargs="+", default=["clevr_coordconv_in_g", "clevr_coordconv_in_gd", "clevr_gan"])
    args = parser.parse_args()
    print(f"{'arch':<24} {'concat ms':>9} {'split ms':>8} {'speed-up':>8}")
    for arch in args.archs:
        with concatenation_builders():
            concatenation = compiled_step(arch)
        t = median_seconds({"concatenation": concatenation, "split": compiled_step(arch)}, args.repeats)
        print(f"{arch:<24} {1e3 * t['concatenation']:>9.1f} {1e3 * t['split']:>8.1f} "
              f"{t['concatenation'] / t['split']:>8.2f}x")


if __name__ == "__main__":
    main()
