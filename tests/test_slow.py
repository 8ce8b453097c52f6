"""Paper results that take minutes: opt in with `make test-slow`."""

import pytest

import train
from data import not_so_clevr_generator as generator


@pytest.mark.slow
def test_coordconv_classification_holds_100_percent_on_the_quadrant_split(dataset_dir, tmp_path):
    """reproduce.py's budget and its best seed: 100% on the held-out quadrant at the end, not just at a peak."""
    metrics = train.main(["--arch", "coordconv_classification", "--data_h5",
                          str(generator.dataset_path(dataset_dir, "quadrant")), "-mb", "16", "-E", "4",
                          "-L", "0.005", "--opt", "adam", "-mul", "1", "-fs", "1", "--lrpolicy", "step",
                          "--lrstepevery", "3", "--seed", "1", "--quiet", "--output", str(tmp_path)])
    assert metrics["final"]["val"]["accuracy"] == 1.0
    assert metrics["final"]["train"]["accuracy"] == 1.0
