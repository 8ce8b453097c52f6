"""A figure over seeds reads the same way in every study's table: median (min–max), a missing seed left out."""

import math

from studies.tables import median_range


def test_an_even_count_of_seeds_takes_the_middle_pair_s_mean():
    assert median_range([3.0, 1.0, 2.0, 10.0], 1) == "2.5 (1.0–10.0)"


def test_a_seed_without_the_figure_is_left_out_not_counted_as_zero():
    assert median_range([0.5, math.nan, 0.25, math.inf], 2) == "0.38 (0.25–0.50)"


def test_no_seed_with_the_figure_reads_not_applicable():
    assert median_range([math.nan, math.nan], 0) == "n/a"
