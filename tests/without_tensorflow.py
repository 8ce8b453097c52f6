"""Runs a Python script as on a machine without TensorFlow (the GPU machine's): `import tensorflow` fails.

    KERAS_BACKEND=jax python tests/without_tensorflow.py train.py --arch coordconv_regressor -E 1
    KERAS_BACKEND=jax python tests/without_tensorflow.py -m pytest --doctest-modules CoordConv.py
"""

import importlib.abc
import runpy
import sys
from pathlib import Path


class NoTensorFlow(importlib.abc.MetaPathFinder):
    """Finds tensorflow and its submodules as missing, whatever is installed."""

    def find_spec(self, name, path, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None


if __name__ == "__main__":  # pytest's doctest collection imports this file too
    sys.meta_path.insert(0, NoTensorFlow())
    if sys.argv[1] == "-m":  # python tests/without_tensorflow.py -m pytest ...
        sys.argv = sys.argv[2:]
        sys.path.insert(0, "")
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    else:
        script, sys.argv = sys.argv[1], sys.argv[1:]
        sys.path.insert(0, str(Path(script).resolve().parent))
        runpy.run_path(script, run_name="__main__")
