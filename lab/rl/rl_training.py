"""Trains one A2C agent of the paper's §6 on an Atari game by `--arch`: a2c_conv or a2c_coordconv.

    python train_rl.py --arch a2c_coordconv --game ms_pacman --frames 40000000

OpenAI baselines' A2C defaults as of 2018: 16 games, 5-step rollouts, RMSProp
(LR 7e-4 decayed linearly to 0 over --frames, rho 0.99, epsilon 1e-5), entropy
0.01, value loss 0.5 x half the mean squared error, gradients clipped to norm
0.5, gamma 0.99, the Nature CNN shared by the policy and the value; a2c_coordconv makes its first conv a
CoordConv2D (--coords all: every conv). The games are ale-py's in the 2018
setting (lab/rl/atari.py). --frames counts emulator frames, four per agent step;
its default is the literature's 40M frames (10M agent steps).
The output folder (--output, resman's folder, or runs/<arch>_<game>) gets
config.json, history.csv (one row per --log-every frames), TensorBoard
scalars, .keras snapshots of the network, and metrics.json with the final
evaluation: 30 whole games with up to 30 no-ops, the game's score. Rerunning
into the folder resumes from its last backup (network, optimizer, frame count,
LR schedule, the action sampler's state); the games in flight start again, as
the emulators' states are not saved. --evaluate RUN_FOLDER evaluates a run's
last snapshot alone.
"""

import contextlib
import dataclasses
import json
import os
import time
from pathlib import Path

from lab import backends  # noqa: F401  Keras on its backend, quiet: before keras loads

import keras
import numpy as np

import model_builders
from lab import archs
from lab.rl import atari
from lab.rl.a2c import (FIGURES, VALUE_FORMS, A2CAgent, BaselinesRMSprop, LossWeights, returns_and_advantages,
                     sample_actions)
from lab.runs import (TensorBoardWriter, console, optimizer_from_flags, progress_verbosity, read_history,
                      start_from_snapshot, started_run, write_config, write_json)
from lab.util import CliError, add_coords_init_scale_flag, check_coords_init_scale, positive, standard_parser

RECENT = 100  # the returns a history row summarises: the last 100 whole games, as baselines logs
HISTORY_FIELDS = ("frames", "time_s", "episodes", "return_mean", "return_median", "return_min", "return_max",
                  "policy_loss", "value_loss", "entropy", "lr", "frames_per_s")
EVALUATION_SEED = 1_000_003  # evaluation games' seeds start here, apart from every training seed's


def evaluation_seeds(seed: int, episodes: int) -> range:
    """The emulator seeds of a run's evaluation games: each training seed its own block, so two seeds' evaluations
    never replay the same games (a shared start would pair them and understate the seeds' spread)."""
    return range(EVALUATION_SEED + seed * episodes, EVALUATION_SEED + (seed + 1) * episodes)


def parse_args(argv=None):
    parser = standard_parser(__doc__.splitlines()[0], archs.names("train_rl.py"))
    parser.set_defaults(opt="rmsprop", lr=7e-4, mom=0.0, epochs=None, minibatch=None)
    parser.add_argument("--game", default="ms_pacman", help="an ale-py ROM name, snake_case")
    parser.add_argument("--frames", type=positive(int), default=atari.STANDARD_FRAMES,
                        help="training budget in emulator frames (4 per agent step, as the literature counts); the "
                             "default is the literature's standard, 40M frames = 10M agent steps")
    parser.add_argument("--envs", type=positive(int), default=16, help="games played at once")
    parser.add_argument("--nsteps", type=positive(int), default=5, help="rollout length: agent steps per update")
    parser.add_argument("--gamma", type=float, default=0.99, help="discount")
    parser.add_argument("--ent_coef", type=float, default=0.01, help="weight of the policy's entropy bonus")
    parser.add_argument("--vf_coef", type=float, default=0.5, help="weight of the value's error (--value_loss)")
    parser.add_argument("--value_loss", default="half_mse", choices=tuple(VALUE_FORMS),
                        help="the value's error: half_mse, mean((V - R)^2) / 2 as baselines' A2C until mid-2018 "
                             "(so --vf_coef 0.5 weighs a quarter of the squared error); mse, without the /2 "
                             "(baselines' later form)")
    parser.add_argument("--max_grad_norm", type=positive(float), default=0.5, help="global gradient norm clip")
    parser.add_argument("--rho", type=float, default=0.99, help="RMSProp's decay")
    parser.add_argument("--rms_eps", type=positive(float), default=1e-5, help="RMSProp's epsilon")
    parser.add_argument("--lrpolicy", default="linear", choices=("linear", "constant"),
                        help="linear: from --lr to 0 over --frames (baselines'); constant: --lr throughout")
    parser.add_argument("--coords", default=None, choices=model_builders.A2C_COORDS,
                        help="a2c_coordconv's CoordConv layers: the first conv (default) or all three")
    add_coords_init_scale_flag(parser, "a test of docs/rl.md's reading of the first layer")
    parser.add_argument("--env-groups", type=positive(int), default=1,
                        help="the games split in groups, each stepped while the network acts for another (1: act, "
                             "step, act, step on all the cores; python -m bench.rl says which is faster on a machine)")
    parser.add_argument("--dtype", default="float32", choices=("float32", "mixed_bfloat16"),
                        help="mixed_bfloat16: the network computes in bfloat16 (variables, logits and values stay "
                             "float32); baselines' A2C is float32")
    parser.add_argument("--log-every", type=positive(int), default=50_000, metavar="FRAMES",
                        help="a history row, TensorBoard point and backup every FRAMES frames")
    parser.add_argument("--eval-episodes", type=positive(int), default=30,
                        help="whole games of the final evaluation (0 no-op to --noop-max at their start)")
    parser.add_argument("--noop-max", type=int, default=30, help="most no-ops at each game's start")
    parser.add_argument("--evaluate", default=None, metavar="RUN_FOLDER",
                        help="evaluate this run's last .keras snapshot and write its evaluation.json; no training")
    return parser.parse_args(argv)


@dataclasses.dataclass(frozen=True)
class RLRun:
    """A run's settings, built once from the flags: what each part of the trainer reads."""

    arch: str
    coords: str | None
    setting: atari.AtariSetting
    envs: int
    env_groups: int
    nsteps: int
    gamma: float
    loss_weights: LossWeights
    frames: int
    log_every: int
    eval_episodes: int
    seed: int

    @property
    def frames_per_update(self) -> int:
        return self.envs * self.nsteps * atari.FRAME_SKIP

    @property
    def updates(self) -> int:
        """Updates in the whole run: --frames rounded up to whole rollouts."""
        return -(-self.frames // self.frames_per_update)


def validate(args) -> RLRun:
    """The run's settings; CliError for flags that cannot mean anything."""
    archs.lookup(args.arch, "train_rl.py")
    for flag, value in (("-E/--epochs", args.epochs), ("-mb/--minibatch", args.minibatch)):
        if value is not None:
            raise CliError(f"{flag} has no meaning for train_rl.py: the budget is --frames, "
                           "the batch --envs x --nsteps")
    if args.coords and not archs.ARCHS[args.arch].coords:
        raise CliError(f"--coords chooses a2c_coordconv's CoordConv layers; --arch {args.arch} has none")
    check_coords_init_scale(args.coords_init_scale, args.arch, archs.ARCHS[args.arch].coords)
    if args.envs % args.env_groups:
        raise CliError(f"--envs {args.envs} does not split evenly into --env-groups {args.env_groups}")
    if not 0 <= args.gamma <= 1:
        raise CliError(f"--gamma {args.gamma} must be between 0 and 1")
    if args.noop_max < 0:
        raise CliError(f"--noop-max {args.noop_max} must be at least 0")
    if args.l2 < 0:
        raise CliError(f"--l2 {args.l2} must be at least 0")
    coords = (args.coords or model_builders.A2C_COORDS[0]) if archs.ARCHS[args.arch].coords else None
    return RLRun(args.arch, coords, atari.AtariSetting(atari.check_game(args.game), args.noop_max), args.envs,
                 args.env_groups, args.nsteps, args.gamma, LossWeights(args.ent_coef, args.vf_coef, args.value_loss),
                 args.frames, args.log_every, args.eval_episodes, args.seed)


def build_agent(run: RLRun, actions: int, args) -> A2CAgent:
    network = model_builders.a2c_network((4, 84, 84), actions, run.coords, l2=args.l2,
                                         coords_init_scale=args.coords_init_scale)
    agent = A2CAgent(network, run.loss_weights, seed=run.seed)
    agent.compile(optimizer=a2c_optimizer(args, run.updates))
    agent.optimizer.build(network.trainable_variables)  # now, so a resumed run restores its slots
    return agent


def a2c_optimizer(args, updates: int):
    """RMSProp as baselines' (TF1's: lab/rl/a2c.py) or the optimizer --opt names, the LR decaying to 0 over the
    run's updates (--lrpolicy linear), gradients clipped to --max_grad_norm."""
    lr = args.lr if args.lrpolicy == "constant" else keras.optimizers.schedules.PolynomialDecay(args.lr, updates, 0.0)
    if args.opt == "rmsprop":
        return BaselinesRMSprop(lr, rho=args.rho, momentum=args.mom, epsilon=args.rms_eps,
                                global_clipnorm=args.max_grad_norm)
    optimizer = optimizer_from_flags(args, lr)
    optimizer.global_clipnorm = args.max_grad_norm  # read at each update, as if given to the constructor
    return optimizer


class Rollouts:
    """The run's games in groups, each stepped on its own emulator thread while the network acts for the next.

    With two groups the emulators of one step while the network chooses the
    other's actions; the update still waits for the whole rollout, so this is
    A2C exactly: every action comes from the parameters of the update before.
    A group is an atari.Games, or anything with its frames, actions, send,
    receive, finished and close (the tests' small pixel game).
    """

    def __init__(self, groups: list, nsteps: int):
        sizes = [len(group.frames) for group in groups]
        edges = np.cumsum([0] + sizes)
        self.groups, self.nsteps, self.envs = groups, nsteps, int(edges[-1])
        self.slices = [slice(start, end) for start, end in zip(edges[:-1], edges[1:])]

    @classmethod
    def of_atari(cls, run: RLRun) -> "Rollouts":
        """--envs games of --game in --env-groups groups sharing the cores this process may use as emulator threads;
        game i is seeded seed * envs + i, so the games do not depend on the grouping."""
        per_group, threads = run.envs // run.env_groups, max(1, len(os.sched_getaffinity(0)) // run.env_groups)
        return cls([atari.Games(run.setting, per_group, run.seed * run.envs + i * per_group, threads)
                    for i in range(run.env_groups)], run.nsteps)

    @property
    def actions(self) -> int:
        return self.groups[0].actions

    def finished(self) -> list:
        """(return, frames) of the games ended since the last call."""
        games = [game for group in self.groups for game in group.finished]
        for group in self.groups:
            group.finished.clear()
        return games

    def collect(self, act, rng: np.random.Generator) -> dict:
        """One rollout of `nsteps` steps of every game: the arrays returns_and_advantages reads, and the frames and
        actions of the update's batch. `act(frames)` gives the network's {"logits", "value"}."""
        shape = (self.nsteps, self.envs)
        rollout = {"frames": np.empty(shape + self.groups[0].frames.shape[1:], np.uint8),
                   "actions": np.empty(shape, np.int32), "values": np.empty(shape, np.float32),
                   "rewards": np.empty(shape, np.float32), "terminals": np.empty(shape, bool),
                   "truncations": np.empty(shape, bool), "bootstrap_values": np.zeros(shape, np.float32),
                   "last_values": np.empty(self.envs, np.float32)}
        for group, part in zip(self.groups, self.slices):
            self.act_and_send(group, part, 0, act, rng, rollout)
        for t in range(self.nsteps):
            for group, part in zip(self.groups, self.slices):
                step = group.receive()
                rollout["rewards"][t, part], rollout["terminals"][t, part] = step.rewards, step.terminals
                rollout["truncations"][t, part] = step.truncations
                if step.truncations.any():
                    cut = np.flatnonzero(step.truncations)
                    rollout["bootstrap_values"][t, part][cut] = act(step.final_frames[cut])["value"]
                if t + 1 < self.nsteps:
                    self.act_and_send(group, part, t + 1, act, rng, rollout)
                else:
                    rollout["last_values"][part] = act(group.frames)["value"]
        return rollout

    @staticmethod
    def act_and_send(group, part, t, act, rng, rollout):
        frames = group.frames
        outputs = act(frames)
        actions = sample_actions(outputs["logits"], rng)
        group.send(actions)
        rollout["frames"][t, part], rollout["actions"][t, part] = frames, actions
        rollout["values"][t, part] = outputs["value"]

    def close(self):
        for group in self.groups:
            group.close()


def update_batch(rollout: dict, gamma: float) -> dict:
    """The update's batch, one row per (step, game): rewards clipped to their sign for learning."""
    returns, advantages = returns_and_advantages(
        np.sign(rollout["rewards"]), rollout["terminals"], rollout["truncations"], rollout["bootstrap_values"],
        rollout["values"], rollout["last_values"], gamma)
    rows = rollout["actions"].size
    return {"frames": rollout["frames"].reshape((rows,) + rollout["frames"].shape[2:]),
            "actions": rollout["actions"].reshape(rows), "returns": returns.reshape(rows),
            "advantages": advantages.reshape(rows)}


def update_once(agent: A2CAgent, rollouts: Rollouts, rng: np.random.Generator, gamma: float) -> dict:
    """One rollout of every game, then one A2C update on it: the update's figures."""
    batch = update_batch(rollouts.collect(agent.act, rng), gamma)
    return agent.train_on_batch(batch, return_dict=True)


@dataclasses.dataclass
class Progress:
    """Where a run stands: saved in the backup beside the weights, so a resumed run continues it."""

    frames: int = 0
    seconds: float = 0.0
    episodes: int = 0
    recent_returns: list = dataclasses.field(default_factory=list)
    sampler: dict | None = None  # the action sampler's bit generator state

    def add_games(self, games: list):
        self.episodes += len(games)
        self.recent_returns = (self.recent_returns + [score for score, _ in games])[-RECENT:]


BACKUP = "backup"


def save_backup(out: Path, agent: A2CAgent, progress: Progress, rng: np.random.Generator):
    """The weights with the optimizer's state, then the progress: each written whole (os.replace)."""
    folder = out / BACKUP
    folder.mkdir(exist_ok=True)
    incoming = folder / "incoming.weights.h5"
    agent.save_weights(str(incoming))
    os.replace(incoming, folder / "agent.weights.h5")
    progress.sampler = rng.bit_generator.state
    write_json(folder / "progress.json", dataclasses.asdict(progress))


def restore_backup(out: Path, agent: A2CAgent, rng: np.random.Generator) -> Progress:
    """The backup's progress, its weights and optimizer state loaded into `agent`; a fresh Progress if none."""
    folder = out / BACKUP
    if not (folder / "progress.json").exists():
        return Progress()
    try:
        agent.load_weights(str(folder / "agent.weights.h5"))
        progress = Progress(**json.loads((folder / "progress.json").read_text()))
    except (OSError, ValueError, TypeError) as error:
        raise CliError(f"{folder} is damaged, so the run cannot resume from it ({error}): delete that folder to "
                       "start the run again")
    rng.bit_generator.state = progress.sampler
    return progress


class History:
    """history.csv: one row per --log-every frames; rows past the backup (a run killed between them) are dropped."""

    def __init__(self, path: Path, frames_saved: int):
        self.path = path
        rows = [row for row in read_history(path) if int(row["frames"]) <= frames_saved]
        self.write_all(rows)

    def write_all(self, rows: list):
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(",".join(HISTORY_FIELDS) + "\n" + "".join(self.line(row) for row in rows))
        os.replace(temporary, self.path)

    @staticmethod
    def line(row: dict) -> str:
        return ",".join(str(row[field]) for field in HISTORY_FIELDS) + "\n"

    def append(self, row: dict):
        with open(self.path, "a") as f:
            f.write(self.line(row))


def history_row(progress: Progress, interval_logs: list, lr: float, frames_per_s: float) -> dict:
    """The row of one interval: the recent games' returns, the mean of its updates' figures."""
    returns = np.asarray(progress.recent_returns, dtype=float)
    summary = {"return_mean": returns.mean(), "return_median": np.median(returns), "return_min": returns.min(),
               "return_max": returns.max()} if len(returns) else dict.fromkeys(
        ("return_mean", "return_median", "return_min", "return_max"), "")
    return {"frames": progress.frames, "time_s": round(progress.seconds, 2), "episodes": progress.episodes,
            **summary, **{name: float(np.mean([logs[name] for logs in interval_logs])) for name in FIGURES},
            "lr": lr, "frames_per_s": round(frames_per_s, 1)}


def current_lr(agent: A2CAgent) -> float:
    return float(keras.ops.convert_to_numpy(agent.optimizer.learning_rate))


class Report:
    """What a run shows and writes as it trains: a progress bar (or a line per row in a log), and every
    --log-every frames a history.csv row, a TensorBoard point and a backup."""

    def __init__(self, run: RLRun, out: Path, progress: Progress, args):
        self.run, self.out, self.total = run, out, run.updates * run.frames_per_update
        self.history = History(out / "history.csv", progress.frames)
        self.summaries = TensorBoardWriter(out / "tensorboard") if backends.is_tensorflow() else None
        self.bar = keras.utils.Progbar(self.total, verbose=1, unit_name="frame", stateful_metrics=(
            "return", "frames/s")) if progress_verbosity(args) == 1 else None
        self.log = console(args)
        self.session = (time.perf_counter(), progress.frames)
        self.start_row(progress)

    def start_row(self, progress: Progress):
        self.interval_logs, self.row_start, self.row_frames = [], time.perf_counter(), progress.frames

    def after_update(self, progress: Progress, logs: dict):
        self.interval_logs.append(logs)
        if self.bar is not None:
            rate = (progress.frames - self.session[1]) / (time.perf_counter() - self.session[0])
            self.bar.update(progress.frames, [("return", running_return(progress)), ("frames/s", rate)])

    def row_due(self, progress: Progress) -> bool:
        return progress.frames - self.row_frames >= self.run.log_every or progress.frames >= self.total

    def write_row(self, agent: A2CAgent, progress: Progress, rng: np.random.Generator) -> float:
        """The backup, then the row (a row past the backup would be dropped on resume); the row's seconds."""
        interval = time.perf_counter() - self.row_start
        rate = (progress.frames - self.row_frames) / interval
        row = history_row(progress, self.interval_logs, current_lr(agent), rate)
        save_backup(self.out, agent, progress, rng)
        self.history.append(row)
        if self.summaries:
            self.summaries.scalars(tensorboard_scalars(row), progress.frames)
        if self.bar is None:
            self.log(row_text(row, self.total))
        self.start_row(progress)
        return interval


def train(agent: A2CAgent, rollouts: Rollouts, run: RLRun, progress: Progress, rng: np.random.Generator,
          report: Report, budget: float | None) -> Progress:
    """Updates until the run's frames, or until one more row would overrun `budget` seconds (--time-budget)."""
    start = time.perf_counter() - progress.seconds
    while progress.frames < report.total:
        logs = update_once(agent, rollouts, rng, run.gamma)
        progress.frames += run.frames_per_update
        progress.add_games(rollouts.finished())
        progress.seconds = time.perf_counter() - start
        report.after_update(progress, logs)
        if report.row_due(progress):
            interval = report.write_row(agent, progress, rng)
            if budget and progress.seconds + interval > budget:
                report.log(f"--time-budget {budget:g} s: stopping at {progress.frames:,} frames")
                break
    return progress


def running_return(progress: Progress) -> float:
    return float(np.mean(progress.recent_returns)) if progress.recent_returns else float("nan")


def tensorboard_scalars(row: dict) -> dict:
    """The history row under CleanRL's names, against frames."""
    names = {"return_mean": "charts/episodic_return", "frames_per_s": "charts/frames_per_s", "lr": "charts/lr",
             "policy_loss": "losses/policy_loss", "value_loss": "losses/value_loss", "entropy": "losses/entropy"}
    return {name: float(row[key]) for key, name in names.items() if row[key] != ""}


def row_text(row: dict, total: int) -> str:
    returns = f"return {row['return_mean']:.1f} (last {RECENT})" if row["return_mean"] != "" else "no game ended yet"
    return (f"{row['frames']:,}/{total:,} frames, {row['time_s']:.0f} s, {row['episodes']} games, {returns}, "
            f"entropy {row['entropy']:.3f}, {row['frames_per_s']:.0f} frames/s")


def evaluate(network, setting: atari.AtariSetting, episodes: int, seed: int) -> dict:
    """`episodes` whole games, one per environment so that short games are not favoured, each starting with up to
    setting.noop_max no-ops; actions sampled from the policy; the game's score."""
    games = atari.Games(setting, episodes, evaluation_seeds(seed, episodes).start)
    rng = np.random.default_rng([EVALUATION_SEED, seed])
    scores, frames = np.full(episodes, np.nan), np.zeros(episodes, dtype=np.int64)
    act = backends.compiled_inference(network)
    try:
        while np.isnan(scores).any():
            games.send(sample_actions(act(games.frames)["logits"], rng))
            games.receive()
            for index, score, length in games.ended:
                if np.isnan(scores[index]):
                    scores[index], frames[index] = score, length
    finally:
        games.close()
    return {"game": setting.game, "episodes": episodes, "noop_max": setting.noop_max, "returns": scores.tolist(),
            "frames": frames.tolist(),
            "mean": float(scores.mean()), "median": float(np.median(scores)), "min": float(scores.min()),
            "max": float(scores.max())}


def snapshot_path(out: Path, args) -> Path:
    return out / f"{args.snapshot_to}_final.keras"


def latest_snapshot(folder: Path) -> Path:
    """The run's newest .keras snapshot of its network; CliError when it has none."""
    snapshots = sorted(folder.glob("*.keras"), key=lambda path: path.stat().st_mtime)
    if not folder.is_dir() or not snapshots:
        raise CliError(f"--evaluate {folder}: no .keras snapshot there; train a run into it first "
                       "(train_rl.py writes <snapshot-to>_final.keras at its end)")
    return snapshots[-1]


def evaluate_run(args) -> dict:
    """--evaluate RUN_FOLDER: its newest snapshot, on the game of its config.json, into evaluation.json."""
    folder = Path(args.evaluate)
    snapshot = latest_snapshot(folder)
    config = json.loads((folder / "config.json").read_text()) if (folder / "config.json").exists() else {}
    setting = atari.AtariSetting(atari.check_game(config.get("game", args.game)), args.noop_max)
    try:
        network = keras.saving.load_model(snapshot)
    except (OSError, ValueError) as error:
        raise CliError(f"--evaluate {folder}: {snapshot.name} is not a readable .keras model ({error})")
    result = {"snapshot": snapshot.name, **evaluate(network, setting, args.eval_episodes, args.seed)}
    write_json(folder / "evaluation.json", result)
    console(args)(evaluation_text(result))
    return result


def evaluation_text(result: dict) -> str:
    return (f"evaluation on {result['game']}: {result['episodes']} games, return mean {result['mean']:.1f}, "
            f"median {result['median']:.1f} ({result['min']:.0f}-{result['max']:.0f})")


def write_results(args, run: RLRun, agent: A2CAgent, out: Path, progress: Progress) -> dict:
    """The final snapshot, the evaluation and metrics.json."""
    if args.snapshot_every != 0:
        agent.network.save(snapshot_path(out, args))
    history = read_history(out / "history.csv")
    evaluation = evaluate(agent.network, run.setting, run.eval_episodes, run.seed) if run.eval_episodes else None
    metrics = {"arch": args.arch, "game": run.setting.game, "seed": run.seed, "output": str(out),
               "params": agent.network.count_params(), "coords": run.coords, "frames": progress.frames,
               "frames_planned": run.frames, "updates": progress.frames // run.frames_per_update,
               "episodes": progress.episodes, "wall_time_s": progress.seconds,
               "frames_per_s": float(np.mean([float(row["frames_per_s"]) for row in history])) if history else None,
               "final": history[-1] if history else None, "evaluation": evaluation, "history": history}
    write_json(out / "metrics.json", metrics)
    return metrics


def summary_line(metrics: dict) -> str:
    final = metrics["final"] or {}
    recent = f"return {float(final['return_mean']):.1f} over the last {RECENT} games" if final.get("return_mean") \
        else "no game ended"
    evaluation = f"; {evaluation_text(metrics['evaluation'])}" if metrics["evaluation"] else ""
    return (f"{metrics['arch']} on {metrics['game']}: {metrics['frames']:,} frames in {metrics['wall_time_s']:.0f} s "
            f"({metrics['frames_per_s'] or 0:.0f} frames/s), {recent}{evaluation}")


def main(argv=None):
    args = parse_args(argv)
    if args.evaluate:
        return evaluate_run(args)
    run = validate(args)
    with started_run(args, run.setting.game) as out, contextlib.closing(Rollouts.of_atari(run)) as rollouts:
        keras.mixed_precision.set_global_policy(args.dtype)
        agent = build_agent(run, rollouts.actions, args)
        if args.load and not Path(args.load).is_dir():
            start_from_snapshot(agent.network, args.load)
        rng = np.random.default_rng([run.seed, 1])
        progress = restore_backup(out, agent, rng)
        write_config(out, args, params=agent.network.count_params(), coordconv_layers=run.coords)
        log = console(args)
        log(f"{args.arch} on {run.setting.game}: {agent.network.count_params():,} params, {run.envs} games in "
            f"{run.env_groups} groups, {run.frames:,} frames ({run.updates:,} updates)"
            + (f", resuming at {progress.frames:,}" if progress.frames else "") + f"; output in {out}")
        progress = train(agent, rollouts, run, progress, rng, Report(run, out, progress, args), args.time_budget)
        metrics = write_results(args, run, agent, out, progress)
        log(summary_line(metrics))
        return metrics
