#!/usr/bin/env python3
"""Writes the Sort-of-Clevr images of the paper's GAN experiments (§5); code: lab/generative/sort_of_clevr.py.

Every flag: python data/sort_of_clevr_generator.py --help.
Other scripts import lab.generative.sort_of_clevr, never this file.
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run by path: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lab.generative.sort_of_clevr import main
from lab.util import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
