"""The field's statistics (lab/rl/rl_statistics.py, rliable) on made-up scores whose answer is known."""

import numpy as np
import pytest

from lab.rl import rl_statistics


def test_human_normalised_scores_put_random_at_0_and_human_at_1():
    random, human = rl_statistics.REFERENCE_SCORES["breakout"]
    np.testing.assert_allclose(rl_statistics.human_normalised("breakout", [random, human]), [0.0, 1.0])


def test_identical_agents_are_level_on_every_figure():
    """Two draws of one distribution: P(improvement) near 0.5 and the IQM difference's interval holding 0."""
    rng = np.random.default_rng(0)
    baseline, candidate = rng.normal(0.5, 0.2, (10, 9)), rng.normal(0.5, 0.2, (10, 9))
    result = rl_statistics.aggregate(baseline, candidate, reps=2000)
    improvement, difference = result["probability_of_improvement"], result["iqm_difference"]
    assert 0.4 < improvement.point < 0.6 and improvement.low < 0.5 < improvement.high
    assert difference.low < 0.0 < difference.high
    for figure in ("iqm", "mean"):
        assert result[figure]["baseline"].low < 0.5 < result[figure]["baseline"].high


def test_a_better_agent_is_found_better():
    rng = np.random.default_rng(1)
    baseline = rng.normal(0.5, 0.1, (5, 9))
    result = rl_statistics.aggregate(baseline, baseline + 0.5, reps=2000)
    assert result["probability_of_improvement"].point == 1.0
    assert result["iqm_difference"].point == pytest.approx(0.5) and result["iqm_difference"].low > 0.4


def test_the_aggregate_is_the_same_each_time_and_leaves_numpys_generator_alone():
    rng = np.random.default_rng(2)
    baseline, candidate = rng.normal(0.5, 0.2, (2, 9)), rng.normal(0.5, 0.2, (2, 9))
    np.random.seed(7)
    expected_next = np.random.random()
    np.random.seed(7)
    assert rl_statistics.aggregate(baseline, candidate, reps=500) == rl_statistics.aggregate(baseline, candidate,
                                                                                             reps=500)
    assert np.random.random() == expected_next


def test_the_aggregate_needs_as_many_runs_on_every_game():
    with pytest.raises(ValueError, match="every game needs as many runs"):
        rl_statistics.score_matrix({"breakout": [1.0, 2.0], "qbert": [500.0]}, ["breakout", "qbert"])


@pytest.mark.parametrize("baseline, candidate, verdict", [
    ([1.2, 1.5], [1.4, 1.8], "uninformative"),  # Breakout's random play is 1.7: neither median passes 1.87
    ([1.2, 1.5], [4.0, 6.0], "better"),
    ([4.0, 6.0], [1.2, 1.5], "worse"),
    ([4.0, 6.0], [5.0, 7.0], "similar"),
])
def test_the_per_game_call_follows_its_rule(baseline, candidate, verdict):
    assert rl_statistics.call("breakout", baseline, candidate) == verdict


def test_a_low_scoring_game_keeps_its_decimal():
    assert rl_statistics.score_text(1.23, 30.0) == "1.2" and rl_statistics.score_text(612.4, 700.0) == "612"
