#!/usr/bin/env python3
"""Trains the paper's region proposal network by `--arch`; the code is lab/detection/detection_training.py.

    python train_detection.py --arch coord_rpn_sampler -E 1 -L 0.0005 --opt adam

Every flag: python train_detection.py --help. Other scripts import lab.detection.detection_training, never this file.
"""

import sys

from lab import backends

backends.exit_unless_tensorflow("train_detection.py", "tf.image.non_max_suppression")

from lab.detection.detection_training import main  # noqa: E402  after the backend check: it imports TensorFlow
from lab.util import run_cli  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_cli(main))
