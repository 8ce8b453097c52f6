#!/usr/bin/env python3
"""Trains one VAE (§5) by `--arch`; the code is lab/generative/vae_training.py.

    python train_vae.py --arch simple_coordconv_vae -mb 32 -E 20 -L 0.001 --opt adam --z_dim 8 --width 16

Every flag: python train_vae.py --help. Other scripts import lab.generative.vae_training, never this file.
"""

import sys

from lab.generative.vae_training import main
from lab.util import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
