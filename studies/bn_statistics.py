"""Why a deconv cell's val accuracy swings from epoch to epoch when its LR is all but zero: BatchNorm's moving
statistics, which follow the last training batches, not the weights.

    python -m studies.bn_statistics RUN_FOLDER [--batches 400] [--every 20]

RUN_FOLDER is a finished train.py run of a classification arch with BatchNorm
(a studies.deconv_selection cell). Its final network, weights held fixed,
sees its own training batches (train less its holdout, in the order of the
epoch after its last) in training mode, which moves BatchNorm's moving mean and
variance (momentum 0.9, the paper's) and nothing else; val accuracy, in
inference mode, every --every batches. Then the moving statistics are set to
the whole training split's, and val once more. Prints both beside the val of
the run's last 400 epochs (its history.csv), median (min–max): if the weights
held fixed swing as the logged epochs did, the swing is the statistics'.
"""

import argparse
import json
import sys
from pathlib import Path

from lab import backends  # noqa: F401  Keras on its backend, quiet: before keras loads

import keras
import numpy as np

from lab.supervised import supervised_training, tasks
from lab.runs import read_history
from lab.util import CliError, Parser, positive, run_cli
from studies.tables import median_range

LOGGED_EPOCHS = 400  # the schedule's last two LR steps (÷1,000 and ÷10,000 of -L)


def parse_args(argv=None):
    parser = Parser(prog="python -m studies.bn_statistics", description=__doc__.splitlines()[0],
                    formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("run", type=Path, metavar="RUN_FOLDER")
    parser.add_argument("--batches", type=positive(int), default=400, help="training batches through the network")
    parser.add_argument("--every", type=positive(int), default=20, help="batches between two val figures")
    return parser.parse_args(argv)


def finished_run(folder: Path):
    """The run's train.py flags, from its config.json; the network of its last epoch."""
    paths = [folder / "config.json", folder / "net_final.keras"]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise CliError(f"{folder} is not a finished train.py run: no {' or '.join(missing)}")
    config = json.loads(paths[0].read_text())
    if config["arch"] not in ("deconv_classification", "coordconv_classification"):
        raise CliError(f"{folder} trained --arch {config['arch']}, not a classification arch")
    argv = ["--arch", config["arch"], "--data_h5", config["data_h5"], "-mb", str(config["minibatch"]),
            "--seed", str(config["seed"]), "--holdout", str(config["holdout"]), "-E", str(config["epochs"])]
    return supervised_training.parse_args(argv), keras.saving.load_model(paths[1], compile=False)


def val_accuracy(network, val, minibatch: int) -> float:
    inputs, targets = val
    outputs = network.predict(inputs, batch_size=minibatch, verbose=0)
    return float(np.mean(keras.ops.convert_to_numpy(tasks.pixel_accuracy(targets, outputs))))


def batch_norms(network) -> list:
    return [layer for layer in network.layers if isinstance(layer, keras.layers.BatchNormalization)]


def drifting(network, args, train, val, options) -> list:
    """Val after every `options.every` training batches run through the fixed network in training mode."""
    batches = supervised_training.training_batches(args, train)
    batches.set_epoch(args.epochs)
    figures = []
    for index in range(options.batches):
        network(batches[index % len(batches)][0], training=True)
        if (index + 1) % options.every == 0:
            figures.append(val_accuracy(network, val, args.minibatch))
    return figures


def whole_split(network, args, train, val) -> float:
    """Val with each BatchNorm's moving statistics set to the whole training split's (one batch, momentum 0)."""
    norms = batch_norms(network)
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.momentum = 0.0
    network(train[0], training=True)
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
    return val_accuracy(network, val, args.minibatch)


def main(argv=None):
    options = parse_args(argv)
    args, network = finished_run(options.run)
    if not batch_norms(network):
        raise CliError(f"{options.run}'s network has no BatchNormalization layer")
    task, _ = supervised_training.validate(args)
    train, val = supervised_training.load_data(args, task)
    train, _ = supervised_training.carve_holdout(train, args.holdout, args.seed)
    logged = [float(row["val_accuracy"]) for row in read_history(options.run / "history.csv")[-LOGGED_EPOCHS:]]
    print(f"{options.run}: val accuracy, median (min–max)")
    print(f"  logged, its last {len(logged)} epochs: {median_range([100 * v for v in logged], 1)}%")
    figures = drifting(network, args, train, val, options)
    print(f"  weights of its last epoch fixed, every {options.every} of {options.batches} training batches: "
          f"{median_range([100 * v for v in figures], 1)}%")
    print(f"  the same weights, BatchNorm's statistics of the whole training split: "
          f"{100 * whole_split(network, args, train, val):.1f}%")


if __name__ == "__main__":
    sys.exit(run_cli(main))
