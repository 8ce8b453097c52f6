"""lab/backends.py: Keras loads TensorFlow with oneDNN's kernels and says nothing on stderr."""

import os
import subprocess
import sys

from conftest import ROOT

PROBE = ("from lab import backends; import logging; from tensorflow.python.util import _pywrap_util_port; "
         "print(_pywrap_util_port.IsMklEnabled(), logging.getLevelName(logging.getLogger('tensorflow').level))")


def test_tensorflow_loads_with_onednn_on_and_no_log_lines():
    env = {key: value for key, value in os.environ.items()
           if key not in ("TF_ENABLE_ONEDNN_OPTS", "TF_CPP_MIN_LOG_LEVEL")}
    loaded = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "True ERROR"  # oneDNN on; TensorFlow's Python warnings off
    assert loaded.stderr == ""  # oneDNN's I0000 announcement included
