#!/usr/bin/env python3
"""Times one compiled training step of the paper's CoordConv models, split layers against the concatenation.

    python -m bench.steps [--repeats 10] [--data-dir data] [--gan-only] [--gan-width 64] [--gan-steps 8]

Rows: train.py's models on one minibatch of the Not-so-Clevr uniform split
(the seed study's flags: -mb 16, Adam, -mul 1, --l2 0.001), and one GAN
step (one D step, two G steps) at the paper's Sort-of-Clevr setting (64x64
RGB, z of 256, minibatch 16, random images). The concatenation form is the
same network built as before the split (bench/forms.py): every CoordConv
layer an AddCoords then a plain conv over C + 2 channels, the tiled first
layers a 1x1 conv over the tiled vector. Both forms are compiled and
interleaved; the median step is reported. Measuring one step, rather than
epochs as bench.train does, keeps the machine's noise out of the ratio.

Then the GAN rows of train_gan.py's speed-ups, per step of the README's two
GANs on fit's path (--gan-width 64: the paper's networks): one compiled step
per call in float32 (before), --gan-steps steps per call (--steps_per_execution),
and those under --dtype mixed_bfloat16, on TensorFlow and on JAX, each in a
child process (Keras takes one backend a process); a timing is one epoch of
--gan-steps steps after a warm-up epoch.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from lab import backends  # noqa: F401  Keras on its backend, quiet: before keras loads

import keras
import numpy as np

from lab.generative import gan_training
from lab.supervised import supervised_training
from lab.batches import EpochBatches, fit_in_order
from bench.backends import GAN_FLAGS, GAN_IMAGE_SHAPE, SUPERVISED_FLAGS
from bench.forms import concatenation_builders
from bench.timing import median_seconds
from lab.util import positive

GAN_CONFIGS = {"1 step a call, float32 (before)": (1, "float32"),
               "{steps} steps a call, float32": (None, "float32"),
               "{steps} steps a call, mixed_bfloat16": (None, "mixed_bfloat16")}
README_GANS = ("clevr_coordconv_in_gd", "clevr_gan")
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
    import tensorflow as tf

    batch = {"images": tf.random.stateless_uniform((args.minibatch, *GAN_IMAGE_SHAPE), [0, 0], -1.0, 1.0)}
    return compiled(gan.train_step, batch)


def compiled(train_step, batch):
    import tensorflow as tf

    step = tf.function(train_step)
    return lambda: step(batch)


def gan_fit_seconds(arch: str, steps_per_call: int, dtype: str, width: int, steps: int) -> float:
    """Seconds per step of fit() on random images, `steps_per_call` steps a compiled call, after a warm-up epoch."""
    keras.mixed_precision.set_global_policy(dtype)
    args = gan_training.parse_args(["--arch", arch, *GAN_FLAGS.split(), "--width", str(width), "--dtype", dtype,
                                    "--steps_per_execution", str(steps_per_call)])
    gan = gan_training.build_gan(args, GAN_IMAGE_SHAPE)
    images = np.random.default_rng(0).integers(0, 256, (steps * args.minibatch, *GAN_IMAGE_SHAPE), np.uint8)
    batches = gan_training.make_dataset(images, args)
    fit_in_order(gan, batches, [], epochs=1, verbose=0)
    start = time.perf_counter()
    fit_in_order(gan, batches, [], epochs=2, initial_epoch=1, verbose=0)
    keras.mixed_precision.set_global_policy("float32")
    return (time.perf_counter() - start) / len(batches)


def gan_child(width: int, steps: int) -> dict:
    return {f"{arch}|{config}": gan_fit_seconds(arch, steps_per_call or steps, dtype, width, steps)
            for arch in README_GANS for config, (steps_per_call, dtype) in GAN_CONFIGS.items()}


def gan_rows(width: int, steps: int) -> str:
    """The GAN table: each backend's child, then ms per step side by side and each change's ratio to before."""
    seconds = {}
    for backend in ("tensorflow", "jax"):
        ran = subprocess.run([sys.executable, "-m", "bench.steps", "--gan-child", "--gan-width", str(width),
                              "--gan-steps", str(steps)], env={**os.environ, "KERAS_BACKEND": backend,
                                                               "JAX_PLATFORMS": "cpu"}, capture_output=True, text=True)
        if ran.returncode:
            sys.exit(f"error: the {backend} child failed: {(ran.stderr.strip().splitlines() or ['no output'])[-1]}")
        seconds[backend] = json.loads(ran.stdout.strip().splitlines()[-1])
    lines = [f"GAN step at width {width} ({backends.device()}), ms per step: one D and two G updates, minibatch 16",
             f"{'arch':<22} {'configuration':<36} {'TF ms':>9} {'JAX ms':>9} {'TF x':>6} {'JAX x':>6}"]
    for arch in README_GANS:
        before = {b: seconds[b][f"{arch}|{next(iter(GAN_CONFIGS))}"] for b in seconds}
        for config in GAN_CONFIGS:
            now = {b: seconds[b][f"{arch}|{config}"] for b in seconds}
            lines.append(f"{arch:<22} {config.format(steps=steps):<36} {1e3 * now['tensorflow']:>9.0f} "
                         f"{1e3 * now['jax']:>9.0f} {before['tensorflow'] / now['tensorflow']:>5.2f}x "
                         f"{before['jax'] / now['jax']:>5.2f}x")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.steps", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=positive(int), default=10)
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--gan-only", action="store_true", help="only the GAN rows")
    parser.add_argument("--gan-width", type=positive(int), default=64, help="the GANs' base width (paper: 64)")
    parser.add_argument("--gan-steps", type=positive(int), default=8, help="steps per call in the GAN rows")
    parser.add_argument("--gan-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.gan_child:
        print(json.dumps(gan_child(args.gan_width, args.gan_steps)))
        return
    if not args.gan_only:
        split_against_concatenation(args)
    print(gan_rows(args.gan_width, args.gan_steps))


def split_against_concatenation(args):
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
