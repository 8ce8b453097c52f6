#!/usr/bin/env python3
"""Trains one A2C agent of the paper's §6 on an Atari game by `--arch`; the code is lab/rl/rl_training.py.

    python train_rl.py --arch a2c_coordconv --game ms_pacman --frames 40000000

Every flag: python train_rl.py --help. Other scripts import lab.rl.rl_training, never this file.
"""

import sys

from lab.rl.rl_training import main
from lab.util import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
