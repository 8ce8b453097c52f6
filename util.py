"""Helpers shared by the generators and the training scripts."""

import contextlib
import os
import signal
import sys
from pathlib import Path

import h5py


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

