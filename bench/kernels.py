#!/usr/bin/env python3
"""Times one training step on TensorFlow's Eigen CPU kernels against oneDNN's, and prints the ratios.

    python -m bench.kernels [--repeats 10] [--rounds 2] [--archs ARCH ...] [--data-dir data]

The steps are bench.steps': train.py's models on one minibatch of the
uniform split at the seed study's flags, and the GAN steps of the paper's
Sort-of-Clevr setting. TensorFlow reads TF_ENABLE_ONEDNN_OPTS once, when it
loads, so each kernel set runs in its own process; the two take turns
--rounds times, and each arch's figure is the median over the rounds of the
median step. lab/backends.py turns oneDNN on for every script; this is why.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from lab.util import positive

KERNELS = {"eigen": "0", "onednn": "1"}  # TF_ENABLE_ONEDNN_OPTS for each
DEFAULT_ARCHS = ("coordconv_classification", "coordconv_rendering", "coordconv_regressor")


def time_steps(archs: list, repeats: int, data_dir: Path) -> dict:
    """Median seconds of each arch's step, in this process (its kernels fixed when TensorFlow loaded)."""
    from bench import steps
    from bench.timing import median_seconds

    def make_step(arch):
        if arch in steps.GAN_ARCHS:
            return steps.gan_step(arch)
        return steps.supervised_step(arch, data_dir / steps.SUPERVISED_DATA)

    return {arch: median_seconds({arch: make_step(arch)}, repeats)[arch] for arch in archs}


def time_in_child(kernels: str, args) -> dict:
    """time_steps in a fresh Python with TF_ENABLE_ONEDNN_OPTS set for `kernels`."""
    command = [sys.executable, "-m", "bench.kernels", "--child", "--repeats", str(args.repeats),
               "--data-dir", str(args.data_dir), "--archs", *args.archs]
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": KERNELS[kernels]}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"bench.kernels: the {kernels} run failed: {done.stderr.strip().splitlines()[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def parse_args():
    from bench.steps import GAN_ARCHS, SUPERVISED
    parser = argparse.ArgumentParser(prog="python -m bench.kernels", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=positive(int), default=10)
    parser.add_argument("--rounds", type=positive(int), default=2)
    parser.add_argument("--archs", nargs="+", choices=SUPERVISED + GAN_ARCHS, default=list(DEFAULT_ARCHS))
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def main():
    args = parse_args()
    if args.child:
        print(json.dumps(time_steps(args.archs, args.repeats, args.data_dir)))
        return
    rounds = {kernels: [] for kernels in KERNELS}
    for _ in range(args.rounds):
        for kernels in KERNELS:
            rounds[kernels].append(time_in_child(kernels, args))
    print(f"{'arch':<26} {'eigen ms':>8} {'oneDNN ms':>9} {'speed-up':>8}")
    for arch in args.archs:
        eigen, onednn = (statistics.median(r[arch] for r in rounds[k]) for k in KERNELS)
        print(f"{arch:<26} {1e3 * eigen:>8.1f} {1e3 * onednn:>9.1f} {eigen / onednn:>8.2f}x", flush=True)


if __name__ == "__main__":
    main()
