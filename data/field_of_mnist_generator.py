#!/usr/bin/env python3
"""Writes the Field-of-MNIST data of the paper's region-proposal experiment; code: lab/detection/field_of_mnist.py.

Every flag: python data/field_of_mnist_generator.py --help.
Other scripts import lab.detection.field_of_mnist, never this file.
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run by path: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lab.detection.field_of_mnist import main
from lab.util import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
