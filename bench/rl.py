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
  --dtype mixed_bfloat16.
Keras chooses its backend once per process, so each backend runs in a child
process (`--child`), one after the other; every figure is the median of
--repeats timings interleaved with the others of its process (bench/timing.py).
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
    from lab import atari

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

    from lab import rl_training

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


def run_settings(arch: str, game: str, groups: int):
    from lab import rl_training

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
    env = {**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu"}
    ran = subprocess.run([sys.executable, "-m", "bench.rl", "--child", "--game", args.game, "--repeats",
                          str(args.repeats), "--updates", str(args.updates)], env=env, capture_output=True, text=True)
    if ran.returncode:
        sys.exit(f"error: the {backend} child failed: {(ran.stderr.strip().splitlines() or ['no output'])[-1]}")
    return json.loads(ran.stdout.strip().splitlines()[-1])


def table(environments: dict, by_backend: dict) -> str:
    lines = [f"{'frames per second':<58} {'TensorFlow':>10} {'JAX':>8}"]
    lines += [f"{name:<58} {rate:>10.0f} {'(same)':>8}" for name, rate in environments.items()]
    for name in by_backend[BACKENDS[0]]:
        lines.append(f"{name:<58} " + " ".join(f"{by_backend[b][name]:>{w}.0f}" for b, w in zip(BACKENDS, (10, 8))))
    for name, other in ((OVERLAPPED, "overlapped"), (f"{SERIAL}, bfloat16", "bfloat16")):
        lines.append(f"{other} / serial: " + ", ".join(
            f"{b} {by_backend[b][name] / by_backend[b][SERIAL]:.2f}x" for b in BACKENDS))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.rl", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--updates", type=int, default=30, help="updates per timing of whole training")
    parser.add_argument("--game", default="ms_pacman")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_rates(args.game, args.repeats, args.updates)))
        return
    environments = environment_rates(args.game, args.repeats)
    by_backend = {backend: measured(backend, args) for backend in BACKENDS}
    print(table(environments, by_backend))


if __name__ == "__main__":
    main()
