#!/usr/bin/env python3
"""Converts LSUN's LMDB export to the HDF5 file of the LSUN GANs (§5); code: lab/generative/lsun.py.

Every flag: python data/lsun_to_h5.py --help. Other scripts import lab.generative.lsun, never this file.
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run by path: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lab.generative.lsun import main
from lab.util import run_cli

if __name__ == "__main__":
    sys.exit(run_cli(main))
