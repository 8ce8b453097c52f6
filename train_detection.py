#!/usr/bin/env python3
"""Trains the paper's region proposal network by `--arch`; the code is detection_training.py.

    python train_detection.py --arch coord_rpn_sampler -E 1 -L 0.0005 --opt adam

Every flag: python train_detection.py --help. Other scripts import detection_training, never this file.
"""

import sys

from detection_training import main
from util import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
