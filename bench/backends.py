#!/usr/bin/env python3
"""Times one compiled training step of train.py's and train_gan.py's models on TensorFlow and on JAX, side by
side in one run.

    python -m bench.backends [--repeats 10] [--data-dir data]    # needs both tensorflow and jax

Keras chooses its backend once per process, so each backend's steps run in a
child process (`--child`): the arch's model with the seed study's flags and its
first minibatch of the uniform split, or the GAN at the paper's Sort-of-Clevr
setting (64x64 RGB, z of 256, minibatch 16, random images; one D step, two G
steps); `train_on_batch` compiled by the backend (tf.function; jax.jit), warmed
up, then the median of --repeats steps. The children run one after the other;
the table prints both and the ratio. TensorFlow stays the CPU default unless
JAX is faster.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

SUPERVISED = ("coordconv_classification", "deconv_classification", "coordconv_rendering", "coordconv_regressor")
GAN = "clevr_coordconv_in_gd"
ARCHS = SUPERVISED + (GAN,)
SUPERVISED_FLAGS = "-mb 16 -L 0.005 --opt adam --l2 0.001 -mul 1"  # the seed study's
GAN_FLAGS = "--z_dim 256 -mb 16 -L 0.0001 --lr2 .0005 --opt adam"  # the paper's README
GAN_IMAGE_SHAPE = (64, 64, 3)
BACKENDS = ("tensorflow", "jax")


def child_seconds(data_h5: str, repeats: int) -> dict:
    """{arch: median seconds of one train step} on this process's backend."""
    from lab import backends  # noqa: F401  Keras on the backend the parent chose, quiet

    from lab.generative import gan_training
    from lab.supervised import supervised_training
    from lab.batches import EpochBatches
    from bench.timing import median_seconds

    steps = {}
    for arch in SUPERVISED:
        args = supervised_training.parse_args(["--arch", arch, "--data_h5", data_h5, *SUPERVISED_FLAGS.split()])
        task, loss = supervised_training.validate(args)
        train, _ = supervised_training.load_data(args, task)
        model = supervised_training.build_model(args, task, loss, steps_per_epoch=1)
        inputs, targets = EpochBatches(train, args.minibatch)[0]
        steps[arch] = lambda model=model, inputs=inputs, targets=targets: model.train_on_batch(inputs, targets)
    args = gan_training.parse_args(["--arch", GAN, *GAN_FLAGS.split()])
    gan = gan_training.build_gan(args, GAN_IMAGE_SHAPE)
    images = np.random.default_rng(0).uniform(-1, 1, (args.minibatch, *GAN_IMAGE_SHAPE)).astype("float32")
    steps[GAN] = lambda: gan.train_on_batch({"images": images})
    return median_seconds(steps, repeats)


def measured(backend: str, data_h5: str, repeats: int) -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu"}
    ran = subprocess.run([sys.executable, "-m", "bench.backends", "--child", "--data-h5", data_h5,
                          "--repeats", str(repeats)], env=env, capture_output=True, text=True)
    if ran.returncode:
        sys.exit(f"error: the {backend} child failed: {ran.stderr.strip().splitlines()[-1]}")
    return json.loads(ran.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.backends", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--data-h5", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_seconds(args.data_h5, args.repeats)))
        return
    data_h5 = str(Path(args.data_dir) / "rectangle_4_uniform.h5")
    seconds = {backend: measured(backend, data_h5, args.repeats) for backend in BACKENDS}
    print(f"{'arch':<26} {'TF ms/step':>10} {'JAX ms/step':>11} {'JAX / TF':>8}")
    for arch in ARCHS:
        tf_ms, jax_ms = (1000 * seconds[backend][arch] for backend in BACKENDS)
        print(f"{arch:<26} {tf_ms:>10.1f} {jax_ms:>11.1f} {jax_ms / tf_ms:>7.2f}x")


if __name__ == "__main__":
    main()
