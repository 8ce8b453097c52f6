#!/usr/bin/env python3
"""Trains one supervised coordinate task of the paper (§4) by `--arch`; the code is
lab/supervised/supervised_training.py.

    python train.py --arch coordconv_classification -mb 16 -E 100 -L 0.005 --opt adam --l2 0.001 -mul 1

Every flag: python train.py --help. Other scripts import lab.supervised.supervised_training, never this file.
"""

import sys

from lab.supervised.supervised_training import main
from lab.util import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
