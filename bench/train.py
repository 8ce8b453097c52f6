#!/usr/bin/env python3
"""Measures training speed: train.py against a bare model.fit, the input pipeline alone, time to 100%.

    python -m bench.train [--epochs 3] [--repeats 2] [--data-dir data]

The XLA column is the bare fit with jit_compile=True; the concatenation
column is the bare fit of the same model built as before the split CoordConv
layers (see bench/forms.py), and the speed-up is the split form's against it.
Throughput is steady state: the first epoch (tracing) is left out, so each
figure is the mean of epochs 2..E, validation included. All forms run
interleaved and the median is reported.
"""

import argparse
import tempfile
import time
from pathlib import Path

from lab import backends  # noqa: F401  Keras on its backend, quiet: before keras loads

import keras
import numpy as np

from lab.supervised import supervised_training
from lab.batches import EpochBatches, fit_in_order
from bench.forms import concatenation_builders
from studies.experiments import as_argv, experiment
from lab.util import positive

ARCHS = ("coordconv_classification", "deconv_classification")
# the paper's flags and the seed-robust initialisation, at a constant LR
FLAGS = " ".join(as_argv({**experiment("coordconv_classification").flags, "init_scale": 0.5}))


class EpochClock(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.ends = []

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter())


def steady_seconds_per_epoch(epoch_ends) -> float:
    return (epoch_ends[-1] - epoch_ends[0]) / (len(epoch_ends) - 1)


def argv_for(arch, data_h5, epochs, out):
    return ["--arch", arch, "--data_h5", str(data_h5), "-E", str(epochs), "--quiet", "--output", str(out),
            *FLAGS.split()]


def through_train_py(arch, data_h5, epochs, folder) -> float:
    """Seconds per steady-state epoch of supervised_training.main, every callback and output included."""
    out = Path(tempfile.mkdtemp(dir=folder))
    metrics = supervised_training.main(argv_for(arch, data_h5, epochs, out))
    return steady_seconds_per_epoch([float(row["time_s"]) for row in metrics["history"]])


def parsed_with_data(arch, data_h5, epochs):
    """What supervised_training.main parses and loads, for the runs that bypass it."""
    return supervised_training.prepared(argv_for(arch, data_h5, epochs, "unused"))


def through_bare_fit(arch, data_h5, epochs, jit_compile=False) -> float:
    """The same model, data and batches through a plain model.fit with no callbacks."""
    args, task, loss, (train_x, train_y), val = parsed_with_data(arch, data_h5, epochs)
    batches = supervised_training.training_batches(args, (train_x, train_y))
    model = supervised_training.seeded_model(args, task, loss, steps_per_epoch=len(batches))
    model.jit_compile = jit_compile  # Keras' "auto" is off on a CPU, on with a GPU
    clock = EpochClock()
    fit_in_order(model, batches, [clock], epochs=epochs, validation_data=EpochBatches(val, args.minibatch), verbose=0)
    return steady_seconds_per_epoch(clock.ends)


def pipeline_examples_per_second(arch, data_h5) -> float:
    """One pass over the training batches with no model at all."""
    args, _, _, (train_x, train_y), _ = parsed_with_data(arch, data_h5, 1)
    batches = EpochBatches((train_x, train_y), args.minibatch, seed=args.seed)
    start = time.perf_counter()
    for index in range(len(batches)):
        batches[index]
    return len(train_x) / (time.perf_counter() - start)


def time_to_perfect(data_h5, max_epochs, folder):
    """Epochs and seconds until CoordConv classification first reaches 100% val accuracy."""
    out = Path(tempfile.mkdtemp(dir=folder))
    metrics = supervised_training.main(argv_for("coordconv_classification", data_h5, max_epochs, out))
    for row in metrics["history"]:
        if float(row["val_accuracy"]) == 1.0:
            return int(row["epoch"]) + 1, float(row["time_s"])
    return None, None


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.train", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=positive(int), default=3, help="at least 2: the first is left out")
    parser.add_argument("--repeats", type=positive(int), default=2)
    parser.add_argument("--max-epochs", type=positive(int), default=10, help="budget for reaching 100%% val accuracy")
    parser.add_argument("--data-dir", default="data")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error(f"--epochs must be >= 2 (the first epoch, tracing, is left out), got {args.epochs}")
    uniform, quadrant = (Path(args.data_dir) / f"rectangle_4_{split}.h5" for split in ("uniform", "quadrant"))
    examples = 2368  # training examples of the uniform split
    print(f"{'arch':<26} {'train.py ex/s':>13} {'model.fit ex/s':>14} {'overhead':>8} {'concat ex/s':>11} "
          f"{'speed-up':>8} {'XLA ex/s':>8} {'batches ex/s':>12}")
    with tempfile.TemporaryDirectory() as folder:
        for arch in ARCHS:
            ours, bare, concatenated, xla = [], [], [], []
            for _ in range(args.repeats):
                ours.append(through_train_py(arch, uniform, args.epochs, folder))
                bare.append(through_bare_fit(arch, uniform, args.epochs))
                with concatenation_builders():
                    concatenated.append(through_bare_fit(arch, uniform, args.epochs))
                xla.append(through_bare_fit(arch, uniform, args.epochs, jit_compile=True))
            ours_rate, bare_rate, concat_rate, xla_rate = (examples / np.median(t)
                                                           for t in (ours, bare, concatenated, xla))
            print(f"{arch:<26} {ours_rate:>13.0f} {bare_rate:>14.0f} {bare_rate / ours_rate - 1:>8.1%} "
                  f"{concat_rate:>11.0f} {bare_rate / concat_rate - 1:>8.1%} {xla_rate:>8.0f} "
                  f"{pipeline_examples_per_second(arch, uniform):>12.0f}")
        epochs, seconds = time_to_perfect(quadrant, args.max_epochs, folder)
    reached = f"epoch {epochs}, {seconds:.1f} s" if epochs else f"not within {args.max_epochs} epochs"
    print(f"CoordConv classification, quadrant split, 100% val accuracy: {reached}")


if __name__ == "__main__":
    main()
