#!/usr/bin/env python3
"""Trains one GAN of the paper (§5) by `--arch`; the code is lab/generative/gan_training.py.

    python train_gan.py --arch clevr_coordconv_in_gd -mb 16 -E 50 -L 0.0001 --lr2 .0005 --opt adam --z_dim 256

Every flag: python train_gan.py --help. Other scripts import lab.generative.gan_training, never this file.
"""

import sys

from lab.generative.gan_training import main
from lab.util import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
