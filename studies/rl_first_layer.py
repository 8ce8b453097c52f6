"""What A2C's first conv does with CoordConv's coordinates, measured on the RL study's finished runs.

    python -m studies.rl_first_layer [--results results/rl] [--games nine]

Why: the nine-game study asks whether the coordinates help; this asks what
the network did with them. For each game and seed whose two runs
(a2c_conv, a2c_coordconv) have kept their final network (net_final.keras),
on frames of random play in that game, it prints and writes into --results
(first_layer.md, first_layer.json):
- the coordinates' offset against the frames' signal in a2c_coordconv's
  first conv: the mean |coordinate term| over units and positions, divided
  by how far the frames move a unit (its std over the frames, the mean over
  units and positions), at initialisation and after training;
- how far training moved that conv's kernel from its initial value (rebuilt
  from the run's seed), relative to it: the frames' channels, the
  coordinates' channels;
- the dead unit-positions of each arch's trained first conv: the share of
  (unit, position) pairs at or below zero on every frame, which pass no
  gradient and no feature on.
The final networks are not committed (7 MB a run); the runs' own folders hold them.
"""

import argparse
import functools
import json
import statistics
import sys
from pathlib import Path

from lab import backends  # noqa: F401  Keras on its backend, quiet: before keras loads

import keras
import numpy as np

import model_builders
from CoordConv import coordinate_grid
from lab.provenance import command_line, stamped
from lab.rl import atari
from lab.runs import write_json
from lab.util import CliError, Parser, run_cli
from studies import reproduce_rl

FRAME_SOURCE = {"envs": 8, "steps": 100, "every": 4, "seed": 12_345}  # 200 frames of random play a game
FIGURES = ("offset_initial", "offset_final", "change_frames", "change_coordinates", "dead_conv", "dead_coordconv")


def parse_args(argv=None):
    parser = Parser(prog="python -m studies.rl_first_layer", description=__doc__.splitlines()[0],
                    formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--results", default="results/rl", help="the RL study's --results")
    parser.add_argument("--games", nargs="+", default=["nine"],
                        help=f"ale-py ROM names; 'nine' for {', '.join(atari.STANDARD_GAMES)}")
    args = parser.parse_args(argv)
    args.command = command_line(parser.prog, argv)
    games = list(atari.STANDARD_GAMES) if args.games == ["nine"] else args.games
    args.games = [atari.check_game(game) for game in games]
    args.seeds, args.coords, args.coords_init_scale = None, None, 1.0  # the study's seeds and its a2c_coordconv
    return args


def run_pairs(args) -> list:
    """(game, seed, conv folder, coordconv folder) of every pair of runs that kept its final network."""
    pairs = []
    for game in args.games:
        for seed in reproduce_rl.seeds_of(args, game):
            folders = [reproduce_rl.run_dir(args, game, arch, seed) for arch in reproduce_rl.ARCHS]
            if all((folder / "net_final.keras").exists() for folder in folders):
                pairs.append((game, seed, *folders))
    return pairs


@functools.lru_cache(maxsize=1)  # the pairs come game by game: each game's seeds share its frames
def random_play_frames(game: str) -> np.ndarray:
    """Stacked frames, uint8 (n, 4, 84, 84), from games played with uniformly random actions."""
    games = atari.Games(atari.AtariSetting(game), FRAME_SOURCE["envs"], FRAME_SOURCE["seed"])
    rng = np.random.default_rng(FRAME_SOURCE["seed"])
    frames = []
    try:
        for _ in range(FRAME_SOURCE["steps"]):
            games.send(rng.integers(0, games.actions, FRAME_SOURCE["envs"]))
            frames.append(games.receive().frames)
    finally:
        games.close()
    return np.concatenate(frames[::FRAME_SOURCE["every"]])


def first_conv(network: keras.Model) -> keras.layers.Conv2D:
    return next(layer for layer in network.layers if isinstance(layer, keras.layers.Conv2D))


def initial_network(folder: Path, actions: int) -> keras.Model:
    """The run's network as training built it: the same seed set, then the same builder."""
    config = json.loads((folder / "config.json").read_text())
    keras.utils.set_random_seed(config["seed"])
    return model_builders.a2c_network((4, 84, 84), actions, config.get("coordconv_layers"),
                                      coords_init_scale=config.get("coords_init_scale", 1.0))


def final_network(folder: Path) -> keras.Model:
    try:
        return keras.saving.load_model(folder / "net_final.keras", compile=False)
    except (OSError, ValueError) as error:
        raise CliError(f"{folder / 'net_final.keras'}: not a readable network ({error})") from None


def first_conv_terms(network: keras.Model, frames: np.ndarray) -> tuple:
    """(frames' term (n, h, w, units), coordinates' term (1, h, w, units) or 0, bias) of the first conv."""
    conv = first_conv(network)
    inputs = keras.Model(network.input, conv.input)(frames)
    kernel, bias = (np.asarray(weight) for weight in (conv.kernel, conv.bias))
    channels = inputs.shape[-1]

    def convolve(x, part):
        return np.asarray(keras.ops.conv(x, part, strides=conv.strides, padding=conv.padding))

    frames_term = convolve(inputs, kernel[:, :, :channels])
    if kernel.shape[2] == channels:
        return frames_term, 0.0, bias
    grid = coordinate_grid(tuple(inputs.shape[1:3]), with_r=False)[None]
    return frames_term, convolve(grid, kernel[:, :, channels:]), bias


def first_conv_figures(network: keras.Model, frames: np.ndarray) -> dict:
    """offset: mean |coordinate term| over units and positions, in units of the frames' std at a unit-position
    (their mean); dead: share of (unit, position) pairs at or below zero on every frame."""
    frames_term, coordinates_term, bias = first_conv_terms(network, frames)
    return {"offset": float(np.abs(coordinates_term).mean() / frames_term.std(axis=0).mean()),
            "dead": float(((frames_term + coordinates_term + bias) <= 0).all(axis=0).mean())}


def kernel_changes(initial: keras.Model, final: keras.Model) -> tuple:
    """||final - initial|| / ||initial|| of the first conv's kernel: (frames' channels, coordinates' channels)."""
    start, end = (np.asarray(first_conv(network).kernel) for network in (initial, final))
    frames_channels = first_conv(final).input.shape[-1]
    split = [(start[:, :, part], end[:, :, part]) for part in (slice(None, frames_channels),
                                                              slice(frames_channels, None))]
    return tuple(float(np.linalg.norm(b - a) / np.linalg.norm(a)) for a, b in split)


def measure_pair(game: str, conv_folder: Path, coordconv_folder: Path) -> dict:
    frames = random_play_frames(game)
    conv, coordconv = final_network(conv_folder), final_network(coordconv_folder)
    initial = initial_network(coordconv_folder, coordconv.get_layer("logits").units)
    change_frames, change_coordinates = kernel_changes(initial, coordconv)
    trained = first_conv_figures(coordconv, frames)
    return {"offset_initial": first_conv_figures(initial, frames)["offset"], "offset_final": trained["offset"],
            "change_frames": change_frames, "change_coordinates": change_coordinates,
            "dead_conv": first_conv_figures(conv, frames)["dead"], "dead_coordconv": trained["dead"]}


def table(rows: list) -> str:
    head = ("| game | seed | coordinates' offset ÷ frames' signal, initial → trained | kernel change in training, "
            "frames / coordinates | dead unit-positions, conv / coordconv |\n|---|---|---:|---:|---:|\n")
    lines = [f"| {row['game']} | {row['seed']} | {cells(row)} |" for row in rows]
    if rows:
        medians = {name: statistics.median(row[name] for row in rows) for name in FIGURES}
        lines.append(f"| **median** | {len(rows)} pairs | {cells(medians)} |")
    return head + "\n".join(lines) + "\n"


def cells(figures: dict) -> str:
    return (f"{figures['offset_initial']:.1f} → {figures['offset_final']:.1f} | "
            f"{figures['change_frames']:.2f} / {figures['change_coordinates']:.2f} | "
            f"{figures['dead_conv']:.2f} / {figures['dead_coordconv']:.2f}")


def main(argv=None):
    args = parse_args(argv)
    if not Path(args.results, "runs").is_dir():
        raise CliError(f"--results {args.results}: no runs/ folder there")
    pairs = run_pairs(args)
    if not pairs:
        raise CliError(f"--results {args.results}: no game and seed with both archs' net_final.keras")
    rows = []
    for game, seed, conv_folder, coordconv_folder in pairs:
        rows.append({"game": game, "seed": seed, **measure_pair(game, conv_folder, coordconv_folder)})
        print(f"{game}, seed {seed}: {cells(rows[-1])}", flush=True)
    out = Path(args.results)
    (out / "first_layer.md").write_text(stamped(table(rows), args.command))
    write_json(out / "first_layer.json", {"frames": FRAME_SOURCE, "pairs": rows})
    print(f"\n{(out / 'first_layer.md').read_text()}")


if __name__ == "__main__":
    sys.exit(run_cli(main))
