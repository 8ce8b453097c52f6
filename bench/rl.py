#!/usr/bin/env python3
"""Frames per second of A2C's parts and of its training, on TensorFlow and on JAX, side by side in one run.

    python -m bench.rl [--repeats 3] [--updates 30] [--game ms_pacman]

Rows, all in emulator frames per second (4 per agent step) at baselines'
setting (16 games, 5-step rollouts, the Nature CNN):
- the environments alone, random actions: one vector environment of 16 games
  on all cores' threads, and two groups of 8 on a thread each, sent together;
- the network alone (a2c_conv and a2c_coordconv): a rollout's acting (6 calls
  on 16 observations: 5 steps and the bootstrap value) and one update on 80,
  a cycle worth 320 frames;
- training as a whole (a2c_coordconv): rollouts and updates as train_rl.py
  runs them, serial (one group: act, step, act, step), overlapped (two
  groups: one steps while the network acts for the other), and serial under
  --dtype mixed_bfloat16;
- the layouts a study can use (TensorFlow, a2c_coordconv, whole training):
  one run on every core, against the study's way, one run pinned to each core
  at once (their rates added), and the machine's limit from the parts: per
  core, the environments on one thread and the network on one core take
  turns, 1 / (1 / environments + 1 / network), times the cores.
Keras chooses its backend once per process, so each backend runs in a child
process (`--child`), one after the other; every figure is the median of
--repeats timings interleaved with the others of its process (bench/timing.py).
The layouts' children run at once where the layout says so, each timing
--updates updates after as many to warm up.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

from bench.timing import median_seconds

BACKENDS = ("tensorflow", "jax")
ENVS, NSTEPS = 16, 5
CYCLE_FRAMES = ENVS * NSTEPS * 4  # frames of one rollout and update
SERIAL, OVERLAPPED = "training, serial: 1 group", "training, overlapped: 2 groups"
TRAININGS = ((1, "float32", SERIAL), (2, "float32", OVERLAPPED), (1, "mixed_bfloat16", f"{SERIAL}, bfloat16"))


def environment_rates(game: str, repeats: int, steps: int = 300) -> dict:
    """Frames/s of 16 games stepped with random actions: one group on every core, or two groups of 8 at once."""
    from lab.rl import atari

    setting = atari.AtariSetting(game)
    cores = os.cpu_count() or 1
    layouts = {f"environments alone, 1 group of 16 on {cores} threads": [atari.Games(setting, ENVS, 0, cores)],
               "environments alone, 2 groups of 8 on a thread each": [atari.Games(setting, ENVS // 2, 0, 1),
                                                                       atari.Games(setting, ENVS // 2, 8, 1)]}
    rng = np.random.default_rng(0)

    def run(groups):
        for _ in range(steps):
            for group in groups:
                group.send(rng.integers(0, group.actions, len(group.frames)).astype(np.int32))
            for group in groups:
                group.receive()

    return {name: steps * ENVS * 4 / seconds for name, seconds in median_seconds(
        {name: lambda groups=groups: run(groups) for name, groups in layouts.items()}, repeats).items()}


def child_rates(game: str, repeats: int, updates: int) -> dict:
    """{row: frames/s} of the network alone and of whole training, on this process's backend."""
    from lab import backends  # noqa: F401  Keras on the backend the parent chose, quiet

    import keras

    from lab.rl import rl_training

    jobs = {}
    for arch in ("a2c_conv", "a2c_coordconv"):
        agent = rl_training.build_agent(run_settings(arch, game, 1), 9, rl_training.parse_args(["--arch", arch]))
        jobs[f"network alone: act 6 x 16 + update 80, {arch}"] = network_cycle(agent)
    rates = {name: CYCLE_FRAMES / seconds for name, seconds in median_seconds(jobs, repeats).items()}
    rng = np.random.default_rng(0)
    trainings = {}
    for groups, dtype, name in TRAININGS:
        keras.mixed_precision.set_global_policy(dtype)
        run = run_settings("a2c_coordconv", game, groups)
        agent = rl_training.build_agent(run, 9, rl_training.parse_args(["--arch", "a2c_coordconv"]))
        rollouts = rl_training.Rollouts.of_atari(run)
        trainings[name] = lambda agent=agent, rollouts=rollouts: [
            rl_training.update_once(agent, rollouts, rng, run.gamma) for _ in range(updates)]
    keras.mixed_precision.set_global_policy("float32")
    seconds = median_seconds(trainings, repeats)
    rates.update({name: updates * CYCLE_FRAMES / spent for name, spent in seconds.items()})
    return rates


def pin(core: int | None):
    """This process (and the threads it starts later) on `core` alone; None leaves it on every core."""
    if core is not None:
        os.sched_setaffinity(0, {core})


def child_training(game: str, updates: int, core: int | None) -> dict:
    """One run's training rate, serial, a2c_coordconv, float32, on `core` or on every core."""
    pin(core)
    from lab import backends  # noqa: F401  Keras on the backend the parent chose, quiet

    from lab.rl import rl_training

    run = run_settings("a2c_coordconv", game, 1)
    agent = rl_training.build_agent(run, 9, rl_training.parse_args(["--arch", "a2c_coordconv"]))
    rollouts = rl_training.Rollouts.of_atari(run)
    rng = np.random.default_rng(core or 0)
    seconds = median_seconds({"train": lambda: [rl_training.update_once(agent, rollouts, rng, run.gamma)
                                                for _ in range(updates)]}, 1)["train"]
    return {"frames_per_s": updates * CYCLE_FRAMES / seconds}


def child_parts(game: str, repeats: int, core: int) -> dict:
    """On one core: 16 games stepped on one emulator thread, and the network's cycle (a2c_coordconv)."""
    pin(core)
    from lab import backends  # noqa: F401  Keras on the backend the parent chose, quiet

    from lab.rl import atari, rl_training

    agent = rl_training.build_agent(run_settings("a2c_coordconv", game, 1), 9,
                                    rl_training.parse_args(["--arch", "a2c_coordconv"]))
    games, rng, steps = atari.Games(atari.AtariSetting(game), ENVS, 0, 1), np.random.default_rng(0), 100

    def step_games():
        for _ in range(steps):
            games.send(rng.integers(0, games.actions, ENVS).astype(np.int32))
            games.receive()

    seconds = median_seconds({"environments": step_games, "network": network_cycle(agent)}, repeats)
    return {"environments": steps * ENVS * 4 / seconds["environments"], "network": CYCLE_FRAMES / seconds["network"]}


def layout_rates(args) -> dict:
    """The study's layouts on TensorFlow: {row: frames/s}, with the limit the parts set."""
    cores = sorted(os.sched_getaffinity(0))
    one = children("tensorflow", args, [["training", "--updates", str(args.updates)]])
    pinned = children("tensorflow", args, [["training", "--updates", str(args.updates), "--core", str(core)]
                                           for core in cores])
    parts = children("tensorflow", args, [["parts", "--repeats", str(args.repeats), "--core", str(cores[0])]])[0]
    per_core = 1 / (1 / parts["environments"] + 1 / parts["network"])
    return {f"one run on all {len(cores)} cores": one[0]["frames_per_s"],
            f"{len(cores)} runs, one pinned to each core (the study's way), together":
                sum(child["frames_per_s"] for child in pinned),
            "  of which the slowest run": min(child["frames_per_s"] for child in pinned),
            "parts on one core: 16 games on one thread": parts["environments"],
            "parts on one core: the network's cycle": parts["network"],
            f"limit from the parts: {len(cores)} x 1 / (1 / games + 1 / network)": len(cores) * per_core}


def children(backend: str, args, modes: list) -> list:
    """Child processes of `backend` started together, one per mode (its --child arguments): their JSON results."""
    env = {**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu"}
    started = [subprocess.Popen([sys.executable, "-m", "bench.rl", "--game", args.game, "--child", *mode], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for mode in modes]
    results = []
    for child in started:
        out, err = child.communicate()
        if child.returncode:
            sys.exit(f"error: a {backend} child failed: {(err.strip().splitlines() or ['no output'])[-1]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def run_settings(arch: str, game: str, groups: int):
    from lab.rl import rl_training

    return rl_training.validate(rl_training.parse_args(["--arch", arch, "--game", game, "--env-groups", str(groups)]))


def network_cycle(agent):
    """One rollout's acting and one update on random frames: the network's share of 320 frames."""
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (ENVS * NSTEPS, 4, 84, 84)).astype(np.uint8)
    batch = {"frames": frames, "actions": rng.integers(0, 9, ENVS * NSTEPS).astype(np.int32),
             "returns": rng.normal(size=ENVS * NSTEPS).astype(np.float32),
             "advantages": rng.normal(size=ENVS * NSTEPS).astype(np.float32)}

    def cycle():
        for step in range(NSTEPS + 1):
            agent.act(frames[(step % NSTEPS) * ENVS:(step % NSTEPS + 1) * ENVS])
        agent.train_on_batch(batch)

    return cycle


def measured(backend: str, args) -> dict:
    return children(backend, args, [["rates", "--repeats", str(args.repeats), "--updates", str(args.updates)]])[0]


def table(environments: dict, by_backend: dict, layouts: dict) -> str:
    lines = [f"{'frames per second':<58} {'TensorFlow':>10} {'JAX':>8}"]
    lines += [f"{name:<58} {rate:>10.0f} {'(same)':>8}" for name, rate in environments.items()]
    for name in by_backend[BACKENDS[0]]:
        lines.append(f"{name:<58} " + " ".join(f"{by_backend[b][name]:>{w}.0f}" for b, w in zip(BACKENDS, (10, 8))))
    for name, other in ((OVERLAPPED, "overlapped"), (f"{SERIAL}, bfloat16", "bfloat16")):
        lines.append(f"{other} / serial: " + ", ".join(
            f"{b} {by_backend[b][name] / by_backend[b][SERIAL]:.2f}x" for b in BACKENDS))
    lines += ["", f"{'layouts, TensorFlow, a2c_coordconv, frames per second':<72} {'':>6}"]
    lines += [f"{name:<72} {rate:>6.0f}" for name, rate in layouts.items()]
    names = list(layouts)
    lines.append(f"the study's way / one run on every core: {layouts[names[1]] / layouts[names[0]]:.2f}x; "
                 f"of the parts' limit: {layouts[names[1]] / layouts[names[-1]]:.0%}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.rl", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--updates", type=int, default=30, help="updates per timing of whole training")
    parser.add_argument("--game", default="ms_pacman")
    parser.add_argument("--child", choices=("rates", "training", "parts"), help=argparse.SUPPRESS)
    parser.add_argument("--core", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child = {"rates": lambda: child_rates(args.game, args.repeats, args.updates),
                 "training": lambda: child_training(args.game, args.updates, args.core),
                 "parts": lambda: child_parts(args.game, args.repeats, args.core)}[args.child]
        print(json.dumps(child()))
        return
    environments = environment_rates(args.game, args.repeats)
    by_backend = {backend: measured(backend, args) for backend in BACKENDS}
    print(table(environments, by_backend, layout_rates(args)))


if __name__ == "__main__":
    main()
