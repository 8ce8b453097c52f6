#!/usr/bin/env python3
"""Reproduces the paper's §4 table and figures in one command; the code is studies/reproduce.py.

    python reproduce.py                    # every supervised task, both splits, the CPU budget
    python reproduce.py --baselines-full   # the baselines at the paper's budget and the "150x" ratio (hours)

Every flag: python reproduce.py --help. Other scripts import studies.reproduce, never this file.
"""

import sys

from lab.util import run_cli
from studies.reproduce import main

if __name__ == "__main__":
    sys.exit(run_cli(main))
