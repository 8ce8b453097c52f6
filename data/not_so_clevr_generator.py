#!/usr/bin/env python3
"""Writes the Not-so-Clevr data of §4 (rectangle_4_uniform.h5, rectangle_4_quadrant.h5);
code: lab/supervised/not_so_clevr.py.

Every flag: python data/not_so_clevr_generator.py --help.
Other scripts import lab.supervised.not_so_clevr, never this file.
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run by path: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lab.supervised.not_so_clevr import main
from lab.util import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
