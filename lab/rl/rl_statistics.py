"""The field's statistics for a claim over many Atari games (Agarwal et al. 2021, with their library, rliable).

Scores are human-normalised, (score - random) / (human - random), so that
games of different scales add up; the aggregate over games and seeds is the
interquartile mean (IQM) and the mean, each with a 95% stratified-bootstrap
interval (seeds resampled within each game); the comparison of two agents is
the probability of improvement P(X > Y) (the chance that a run of X beats a
run of Y on a game drawn at random) and the difference of their IQMs, each
with its interval. The per-game call follows a rule fixed before the nine-game
study's first run (`call`).
"""

import contextlib
import dataclasses
import warnings

import numpy as np
from rliable import library, metrics

# Random-play and average-human scores of the standard Atari protocol (30 no-op starts), the set of Wang et al.
# 2016 ("Dueling network architectures", Table 2 source) used by Hessel et al. 2018 (Rainbow) and Badia et al. 2020
# (Agent57, Table H.4), and so by rliable's Atari examples: (random, human) per ale-py ROM name.
REFERENCE_SCORES = {
    "assault": (222.4, 742.0),
    "asteroids": (719.1, 47388.7),
    "beam_rider": (363.9, 16926.5),
    "breakout": (1.7, 30.5),
    "crazy_climber": (10780.5, 35829.4),
    "enduro": (0.0, 860.5),
    "ms_pacman": (307.3, 6951.6),
    "pong": (-20.7, 14.6),
    "qbert": (163.9, 13455.0),
    "seaquest": (68.4, 42054.7),
    "space_invaders": (148.0, 1668.7),
}
# A game says something about an arch only if one arch's median return passes random play by a tenth of it: a share
# of the human gap would not do, as human scores dwarf early A2C on Asteroids or Seaquest (5% of Ms. Pac-Man's gap
# is 332 points, where leaving random play at 4M frames means 307 -> ~550).
LEFT_RANDOM_PLAY = 0.1
CONFIDENCE = 0.95


def human_normalised(game: str, scores) -> np.ndarray:
    """(score - random) / (human - random): 0 is random play, 1 the average human."""
    random, human = REFERENCE_SCORES[game]
    return (np.asarray(scores, dtype=float) - random) / (human - random)


def score_matrix(scores: dict, games: list) -> np.ndarray:
    """(runs, games) of human-normalised scores, rliable's layout: `scores[game]` lists one score per seed, and
    every game must have as many."""
    counts = {len(scores[game]) for game in games}
    if len(counts) != 1:
        raise ValueError(f"every game needs as many runs for the aggregate; received counts {sorted(counts)}")
    return np.stack([human_normalised(game, scores[game]) for game in games], axis=1)


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A point estimate with its bootstrap interval."""

    point: float
    low: float
    high: float

    def text(self, decimals: int = 3) -> str:
        return f"{self.point:.{decimals}f} [{self.low:.{decimals}f}, {self.high:.{decimals}f}]"


def iqm_difference(x: np.ndarray, y: np.ndarray) -> float:
    return metrics.aggregate_iqm(x) - metrics.aggregate_iqm(y)


@contextlib.contextmanager
def numpy_seeded(seed: int):
    """NumPy's global generator seeded, and restored after: rliable 1.2's stratified bootstraps draw their resamples
    with np.random.choice, not from the random_state they are given, so without it no two reports agree."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def aggregate(baseline: np.ndarray, candidate: np.ndarray, reps: int = 50_000, seed: int = 0) -> dict:
    """IQM and mean of each agent, the candidate's IQM less the baseline's, and P(candidate > baseline), each an
    Estimate with its stratified-bootstrap 95% interval; `baseline` and `candidate` are score_matrix's."""
    def estimates(score_dict, function) -> dict:
        with warnings.catch_warnings(), numpy_seeded(seed):
            warnings.simplefilter("ignore", FutureWarning)  # rliable seeds arch's bootstrap the way arch deprecates
            points, intervals = library.get_interval_estimates(
                score_dict, function, reps=reps, confidence_interval_size=CONFIDENCE,
                random_state=np.random.RandomState(seed))
        return {key: [Estimate(float(p), float(low), float(high)) for p, low, high in
                      zip(np.atleast_1d(points[key]), *np.reshape(intervals[key], (2, -1)))] for key in points}

    per_agent = estimates({"baseline": baseline, "candidate": candidate},
                          lambda scores: np.array([metrics.aggregate_iqm(scores), metrics.aggregate_mean(scores)]))
    pair = {"pair": (candidate, baseline)}
    return {"iqm": {agent: values[0] for agent, values in per_agent.items()},
            "mean": {agent: values[1] for agent, values in per_agent.items()},
            "iqm_difference": estimates(pair, iqm_difference)["pair"][0],
            "probability_of_improvement": estimates(pair, metrics.probability_of_improvement)["pair"][0]}


def call(game: str, baseline_scores, candidate_scores) -> str:
    """The per-game verdict, fixed before the nine-game study's results: 'uninformative' when neither agent's median
    return passes the random-play score by LEFT_RANDOM_PLAY of it, else 'better' when every candidate seed beats
    every baseline seed, 'worse' when every baseline seed beats every candidate seed, 'similar' otherwise. With two
    seeds each, an agent no better than the other is called 'better' on a game by chance one time in six."""
    random, _ = REFERENCE_SCORES[game]
    if max(np.median(baseline_scores), np.median(candidate_scores)) <= random + LEFT_RANDOM_PLAY * abs(random):
        return "uninformative"
    if min(candidate_scores) > max(baseline_scores):
        return "better"
    if max(candidate_scores) < min(baseline_scores):
        return "worse"
    return "similar"


def score_decimals(scale: float) -> int:
    """The decimals a game's returns need: one where its scores stay under 100 (Breakout's 1.2 must not print as
    1), none above."""
    return 1 if abs(scale) < 100 else 0


def score_text(value: float, scale: float) -> str:
    return f"{value:.{score_decimals(scale)}f}"
