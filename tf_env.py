"""TensorFlow loaded quiet and with oneDNN's CPU kernels: import this before tensorflow or keras.

- TF_CPP_MIN_LOG_LEVEL=3: no I0000/E0000 lines on the console.
- TF_ENABLE_ONEDNN_OPTS=1: TensorFlow turns oneDNN on by default only on CPUs
  with AVX-512-class features. Without it, an AVX2 CPU runs the small 3x3 convs
  of the painters on Eigen at half the speed (`bench/kernels.py`), and the same
  seed gives slightly different figures on Intel and AMD machines.

Both are defaults: a value already in the environment wins (TF_ENABLE_ONEDNN_OPTS=0
runs the figures measured before oneDNN was turned on; see the README).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def _import_tensorflow_with_stderr_closed():
    """oneDNN announces itself with an I0000 line logged before TF_CPP_MIN_LOG_LEVEL applies, so stderr is
    pointed at /dev/null while TensorFlow loads (an ImportError still surfaces: it is raised, not printed)."""
    saved_stderr, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)


_import_tensorflow_with_stderr_closed()
