"""Helpers shared by the generators and the training scripts."""

import argparse
import contextlib
import os
import signal
import sys
from pathlib import Path

import h5py

DATA_DIR = Path(__file__).resolve().parent.parent / "data"  # the repository's data/, where generators write


class CliError(Exception):
    """A problem with the user's input: printed as one line, exit code 2."""


def run_cli(main, argv=None) -> int:
    """Runs `main(argv)`, turning CliError into one line on stderr and exit 2."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        main(argv)
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


@contextlib.contextmanager
def atomic_h5(path):
    """Opens a temporary HDF5 file beside `path`; renames it onto `path` on success.

    An exception, Ctrl-C or SIGTERM (see run_cli) leaves `path` as it was and
    no temporary file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with h5py.File(temporary, "w") as h5:
            yield h5
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


class Parser(argparse.ArgumentParser):
    """argparse whose errors are CliErrors: one line and exit 2, not the whole usage text."""

    def error(self, message):
        raise CliError(f"{message} (see {self.prog} --help)")


def positive(kind):
    """An argparse type for values > 0, so argparse names the flag as the user typed it."""
    def parse(text):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse's "invalid int value" message reads it
    return parse


def standard_parser(description: str, archs) -> argparse.ArgumentParser:
    """The flags every training script shares, with the paper's defaults."""
    parser = Parser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--arch", required=True, metavar="ARCH",
                        help=f"architecture, one of: {', '.join(archs)}")
    parser.add_argument("--opt", default="sgd", choices=("sgd", "rmsprop", "adam"))
    parser.add_argument("--lr", "-L", type=positive(float), default=0.001, help="learning rate")
    parser.add_argument("--mom", "-M", type=float, default=0.9, help="momentum for sgd and rmsprop")
    parser.add_argument("--beta1", type=float, default=0.9, help="adam beta1")
    parser.add_argument("--beta2", type=float, default=0.99, help="adam beta2")
    parser.add_argument("--adameps", type=float, default=1e-8, help="adam epsilon")
    parser.add_argument("--epochs", "-E", type=positive(int), default=5)
    parser.add_argument("--minibatch", "-mb", type=positive(int), default=256)
    parser.add_argument("--l2", type=float, default=0.0, help="L2 weight decay, tf.contrib scale")
    parser.add_argument("--seed", type=int, default=0, help="fixes initialisation and shuffling")
    parser.add_argument("--output", "-O", default=None,
                        help="output folder (default: $GIT_RESULTS_MANAGER_DIR when run "
                             "under resman, else runs/<arch>_<data>)")
    parser.add_argument("--snapshot-every", type=int, default=-1,
                        help="save a .keras model every N epochs; -1: at the end only; 0: never")
    parser.add_argument("--snapshot-to", default="net", help="file name stem of the snapshots")
    parser.add_argument("--load", default=None,
                        help="a run folder to resume, or a .keras model to start from")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch output")
    parser.add_argument("--verbose", "-V", action="store_true",
                        help="the model summary, and a progress bar for every batch even in a log file")
    parser.add_argument("--time-budget", type=positive(float), default=None, metavar="SECONDS",
                        help="end training after the epoch past which one more would overrun SECONDS of the run's "
                             "wall time (resumed epochs' included); -E stays the most epochs")
    parser.add_argument("--cpu", action="store_true",
                        help="run on the CPU even where a GPU is visible (the paper's code required a GPU "
                             "unless --cpu; this port never does)")
    return parser


def add_coords_init_scale_flag(parser, recipe: str):
    """--coords_init_scale (train.py and train_rl.py): where a CoordConv layer's coordinate weights start."""
    parser.add_argument("--coords_init_scale", type=float, default=1.0,
                        help="multiply the CoordConv layers' initial weights on their coordinate channels; 0 "
                             f"starts them blind to position (not in the paper; {recipe})")


def check_coords_init_scale(scale: float, arch: str, has_coords: bool):
    """CliError for a --coords_init_scale that cannot mean anything for --arch."""
    if scale != 1.0 and not has_coords:
        raise CliError(f"--coords_init_scale scales CoordConv layers' weights; --arch {arch} has none")
    if scale < 0:
        raise CliError(f"--coords_init_scale {scale} must be at least 0")


def add_lr_policy_flags(parser, policies):
    """The paper's --lrpolicy and its step flags (train.py and train_detection.py)."""
    parser.add_argument("--lrpolicy", default="constant", choices=policies,
                        help="step: multiply the LR by --lrstepratio every --lrstepevery epochs; "
                             "valstep: the same when the val loss has not improved for --lrstepevery epochs"
                             + ("; cosine: from --lr down to 0 over the run (not in the paper)"
                                if "cosine" in policies else ""))
    parser.add_argument("--lrstepratio", type=float, default=0.1)
    parser.add_argument("--lrmaxsteps", type=int, default=5)
    parser.add_argument("--lrstepevery", type=int, default=50)
