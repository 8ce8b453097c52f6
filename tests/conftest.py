"""Shared test setup: quiet TensorFlow, the repo root importable, small datasets."""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402
import pytest  # noqa: E402

from data import not_so_clevr_generator  # noqa: E402


@pytest.fixture(autouse=True)
def float32_policy():
    """Mixed-precision tests change a global policy; every test starts from float32."""
    keras.mixed_precision.set_global_policy("float32")
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory):
    """Both Not-so-Clevr splits, generated once per test session."""
    out_dir = tmp_path_factory.mktemp("data")
    not_so_clevr_generator.main(["--out-dir", str(out_dir)])
    return out_dir
