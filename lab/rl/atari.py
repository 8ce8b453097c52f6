"""The Atari games of §6 through ale-py's C++ vector environment, in the setting of 2018's A2C.

Frame skip 4 with the last two frames max-pooled, 84x84 grayscale, 4 frames
stacked, up to 30 no-ops at reset, fire on reset where the game has FIRE,
sticky actions off (`repeat_action_probability=0.0`: the v5 registration's
default is 0.25), whole games as episodes. Rewards come raw (ale-py clips them
by default): the learner clips them to their sign, the reports keep the game's
score. A lost life is read from the lives counter: it ends the learner's value
bootstrap, not the reported episode. The ROMs are inside ale-py's wheel.
"""

import dataclasses
import difflib

import ale_py
import numpy as np
from ale_py import roms

from lab.util import CliError

FRAME_SKIP = 4  # emulator frames per agent step: budgets and rates count emulator frames
STANDARD_FRAMES = 40_000_000  # the literature's A2C budget: baselines' "10M" runs are 10M agent steps, 40M frames
# Our nine (the paper does not name its own), fixed on 2026-12-07 before any run of the nine-game study: Mnih et
# al.'s seven less Enduro and Pong, Ms. Pac-Man, Asteroids, and Assault and Crazy Climber in their place. Enduro
# and Pong are games on which conv-only A2C is still at its starting score after the first tenth of the standard
# budget (docs/rl.md gives the sources); at the study's 4M frames both archs would tie at random play.
STANDARD_GAMES = ("asteroids", "assault", "beam_rider", "breakout", "crazy_climber", "ms_pacman", "qbert", "seaquest",
                  "space_invaders")


@dataclasses.dataclass(frozen=True)
class AtariSetting:
    """One game in the 2018 setting: what every environment of a run, training or evaluation, shares."""

    game: str = "ms_pacman"
    noop_max: int = 30  # up to this many no-ops at each reset
    max_episode_frames: int = 108_000  # 30 minutes of play: then the episode is truncated


def check_game(name: str) -> str:
    """`name` if ale-py has its ROM, else a CliError naming the closest names."""
    games = roms.get_all_rom_ids()
    if name in games:
        return name
    close = difflib.get_close_matches(name.lower().replace("-", "_").replace(" ", "_"), games, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}?" if close else f"one of ale-py's {len(games)} ROMs, e.g. ms_pacman"
    raise CliError(f"unknown --game {name!r}: {hint}")


def make_envs(setting: AtariSetting, count: int, seed: int, threads: int = 1) -> "ale_py.AtariVectorEnv":
    """`count` games on `threads` emulator threads, reset with seeds seed, seed + 1, ...; an episode's end
    resets its game in the same step (its last frames in info["final_obs"])."""
    envs = ale_py.AtariVectorEnv(
        setting.game, count, num_threads=threads, repeat_action_probability=0.0, autoreset_mode="SameStep",
        reward_clipping=False, episodic_life=False, use_fire_reset=True, noop_max=setting.noop_max,
        frameskip=FRAME_SKIP, maxpool=True, img_height=84, img_width=84, grayscale=True, stack_num=4,
        max_num_frames_per_episode=setting.max_episode_frames)
    envs.first_frames, _ = envs.reset(seed=seed)
    return envs


@dataclasses.dataclass
class Transition:
    """One step of a group of games, as the learner reads it."""

    frames: np.ndarray  # the states after the step (a new game's first frames where one ended)
    rewards: np.ndarray  # raw, the game's score
    terminals: np.ndarray  # the value's bootstrap ends: the game ended or a life was lost
    truncations: np.ndarray  # the game was cut by its time limit: bootstrap from final_frames
    final_frames: np.ndarray  # where truncated: the state it was cut in


class Games:
    """A group of games stepped together, asynchronously (send, then receive), counting whole-game returns."""

    def __init__(self, setting: AtariSetting, count: int, seed: int, threads: int = 1):
        self.envs = make_envs(setting, count, seed, threads)
        self.frames = self.envs.first_frames
        self.lives = None
        self.scores = np.zeros(count)
        self.lengths = np.zeros(count, dtype=np.int64)
        self.finished = []  # (return, frames) of each game that ended, in order
        self.ended = []  # (game index, return, frames) of the games the last step ended

    @property
    def actions(self) -> int:
        return int(self.envs.single_action_space.n)

    def send(self, actions: np.ndarray):
        self.envs.send(actions)

    def receive(self) -> Transition:
        frames, rewards, terminated, truncated, info = self.envs.recv()
        ended = terminated | truncated
        life_lost = np.zeros_like(ended) if self.lives is None else (info["lives"] < self.lives) & ~ended
        self.lives = info["lives"]
        self.scores += rewards
        self.lengths += FRAME_SKIP
        self.ended = [(index, float(self.scores[index]), int(self.lengths[index])) for index in np.flatnonzero(ended)]
        self.finished += [(score, length) for _, score, length in self.ended]
        self.scores[ended], self.lengths[ended] = 0.0, 0
        self.frames = frames
        return Transition(frames, rewards.astype(np.float32), terminated | life_lost, truncated & ~terminated,
                          info.get("final_obs", frames))

    def close(self):
        self.envs.close()
