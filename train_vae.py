#!/usr/bin/env python3
"""Trains one VAE (§5) by `--arch`; the code is vae_training.py.

    python train_vae.py --arch simple_coordconv_vae -mb 32 -E 20 -L 0.001 --opt adam --z_dim 8 --width 16

Every flag: python train_vae.py --help. Other scripts import vae_training, never this file.
"""

import sys

import backends

backends.exit_unless_tensorflow("train_vae.py", "its train step is written with tf.GradientTape")

from vae_training import main  # noqa: E402  after the backend check: it imports TensorFlow
from util import run_cli  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_cli(main))
