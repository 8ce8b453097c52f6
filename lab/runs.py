"""What every entry point does around training: output folders, config and JSON files, the console,
elapsed time across resumes, snapshots to start from.

The training modules (supervised_, gan_, vae_ and lab/detection/detection_training.py) import it; no entry-point
script imports another script: the scripts are thin wrappers of those modules.
"""

import contextlib
import csv
import fcntl
import json
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

import keras

from lab import backends, train_steps
from lab.util import CliError


def output_dir(args, data_h5=None) -> Path:
    """--load FOLDER (resume), --output, resman's folder, or runs/<arch>_<data> (data: `data_h5` or --data_h5)."""
    if args.load and Path(args.load).is_dir():
        return Path(args.load)
    if args.output:
        return Path(args.output)
    if os.environ.get("GIT_RESULTS_MANAGER_DIR"):
        return Path(os.environ["GIT_RESULTS_MANAGER_DIR"])
    return Path("runs") / f"{args.arch}_{Path(data_h5 or args.data_h5).stem}"


NOT_TRAINING = ("time_budget", "quiet", "verbose", "steps_per_execution",  # how long, how loudly, how dispatched
                "output")  # and where: a run folder copied or moved resumes where it now is


def clear_if_stale(out: Path, wanted: dict, defaults: dict | None = None):
    """A run folder trained with other flags (its config.json differs from `wanted`), another TensorFlow
    or Keras, or other CPU kernels cannot resume or stand in a table beside fresh runs: start again.
    A flag its config.json lacks was added since; the run used its value from `defaults`. The flags of
    NOT_TRAINING change no epoch's figures, so a run resumes under other values of them."""
    config_path = out / "config.json"
    if not config_path.exists():
        return
    saved = {**(defaults or {}), **json.loads(config_path.read_text())}
    if any(saved.get(key) != value for key, value in {**wanted, **backends.software()}.items()
           if key not in NOT_TRAINING):
        shutil.rmtree(out)


LOCK = ".lock"  # in each run or results folder: the pid of the process writing there


@contextlib.contextmanager
def locked(folder: Path):
    """`folder`, made and held for this process alone while the block runs.

    A second writer stops with one line naming the holder's pid, before it
    writes anything. The lock is flock(2)'s: the kernel drops it when its
    process ends, even by SIGKILL, so a dead run's lock is taken over by the
    next start, and no pid has to be guessed alive or dead.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise CliError(f"cannot write in {folder} ({error.strerror}): choose another folder or fix its permissions")
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode().strip() or "unknown"
            raise CliError(f"{folder} is in use by process {holder} (its lock: {folder / LOCK}); wait for it to end "
                           "or write elsewhere")
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield folder
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def started_run(args, data_h5):
    """The run's folder, made and locked; the GPUs hidden under --cpu; every random seed set from --seed."""
    with locked(output_dir(args, data_h5)) as out:
        if args.cpu:
            backends.hide_gpus()
        keras.utils.set_random_seed(args.seed)
        yield out


def start_from_snapshot(model, path):
    """Copies a .keras snapshot's weights into `model`, which must have the same layers.
    """
    try:
        snapshot = keras.saving.load_model(path)
    except (OSError, ValueError) as error:
        raise CliError(f"--load {path}: not a run folder or a readable .keras model ({error})")
    try:
        model.set_weights(snapshot.get_weights())
    except ValueError as error:
        raise CliError(f"--load {path}: its weights do not fit --arch {model.name} with these flags ({error})")


def console(args):
    """print, or nothing under --quiet."""
    return (lambda *_: None) if args.quiet else print


def progress_verbosity(args) -> int:
    """Keras' progress bar on a terminal or with --verbose, one line per epoch in a log, nothing if --quiet."""
    return 0 if args.quiet else 1 if args.verbose or sys.stdout.isatty() else 2


def tensorboard(log_dir: Path, args) -> list:
    """[EpochTensorBoard] on TensorFlow; on another backend, none, and one line saying so (its writer is
    TensorFlow's)."""
    if backends.is_tensorflow():
        return [EpochTensorBoard(log_dir)]
    console(args)(f"no TensorBoard summaries on the {backends.NAME} backend: they are written by TensorFlow")
    return []


class TensorBoardWriter:
    """Summaries written outside Keras' callback (images; an RL run's scalars), by TensorFlow's writer: nothing on
    another backend (`tensorboard` says so once)."""

    def __init__(self, log_dir: Path):
        self.writer = None
        if backends.is_tensorflow():
            import tensorflow as tf

            self.summary, self.writer = tf.summary, tf.summary.create_file_writer(str(log_dir))

    def images(self, name: str, images, step: int):
        """`images`: a batch (N, H, W, C) of values in [0, 1]."""
        if self.writer is not None:
            with self.writer.as_default():
                self.summary.image(name, images, step=step, max_outputs=8)

    def scalars(self, values: dict, step: int):
        """{name: number}, each a curve against `step`."""
        if self.writer is not None:
            with self.writer.as_default():
                for name, value in values.items():
                    self.summary.scalar(name, value, step=step)
            self.writer.flush()


class EpochTensorBoard(keras.callbacks.TensorBoard):
    """Keras' TensorBoard callback as every entry point uses it: summaries once an epoch, no graph.

    Writing once an epoch, Keras' batch hooks write nothing, yet they still
    call tf.summary.scalar on every log of every batch: about 0.4 s of each
    151-step rendering epoch on 2 cores, 1 to 2% of a run. So they are left out.
    """

    def __init__(self, log_dir: Path):
        super().__init__(str(log_dir), write_graph=False, update_freq="epoch", profile_batch=0)

    def on_train_batch_begin(self, batch, logs=None):
        """Nothing to do once an epoch without profiling."""

    def on_train_batch_end(self, batch, logs=None):
        """Nothing to write once an epoch."""


class ElapsedTime(keras.callbacks.Callback):
    """Adds `time_s`, wall seconds since the run began, to each epoch's logs, and ends training within a budget.

    On resume it continues from the last time in history.csv, so "time to the
    best epoch" stays true across interruptions; a fresh run starts from
    `spent_before`, the seconds already spent on it (train.py's rejected initialisations).
    With `budget` (--time-budget), training ends after the epoch past which
    one more epoch as long as the last would overrun it.
    """

    def __init__(self, history_csv: Path, spent_before: float = 0.0, budget: float = None):
        super().__init__()
        self.history_csv, self.spent_before, self.budget = history_csv, spent_before, budget

    def on_train_begin(self, logs=None):
        history = read_history(self.history_csv)
        self.start = time.perf_counter() - (elapsed(history) if history else self.spent_before)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs["time_s"] = self.seconds()
        if self.budget is not None and logs["time_s"] + time.perf_counter() - self.epoch_start > self.budget:
            self.model.stop_training = True

    def seconds(self) -> float:
        """Wall seconds of the run so far, `spent_before` or the resumed epochs' included."""
        return time.perf_counter() - self.start


def previous_elapsed(history_csv: Path) -> float:
    return elapsed(read_history(history_csv))


def elapsed(history: list) -> float:
    """Wall seconds of the run up to its last finished epoch."""
    return float(history[-1]["time_s"]) if history else 0.0


def read_history(history_csv: Path) -> list:
    if not history_csv.exists():
        return []
    with open(history_csv) as f:
        return list(csv.DictReader(f))


def write_config(out: Path, args, **extra):
    """config.json: the parsed flags, the software and the machine, so the folder alone tells how to rerun it."""
    write_json(out / "config.json", {**vars(args), "output": str(out), **extra, **backends.software(),
                                     "machine": backends.machine()})


def run_metrics(args, out: Path, history: list, data_h5: str, params, steps_per_epoch: int, **figures) -> dict:
    """metrics.json of a GAN, VAE or detection run: the fields they share, then the trainer's own figures."""
    return {"arch": args.arch, "data_h5": data_h5, "seed": args.seed, "output": str(out), "params": params,
            "epochs": len(history), "steps_per_epoch": steps_per_epoch, "wall_time_s": elapsed(history),
            "initial": json.loads((out / "initial_metrics.json").read_text()), **figures, "history": history}


def after_epochs(metrics: dict) -> str:
    """The start of a trainer's closing line: which arch, how long it trained."""
    return f"{metrics['arch']}: after {metrics['epochs']} epochs ({metrics['wall_time_s']:.0f} s)"


def write_json(path: Path, content: dict):
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(content, indent=2, default=str) + "\n")
    os.replace(temporary, path)


def lr_policy_callbacks(args, out: Path) -> list:
    """--lrpolicy step or valstep as Keras callbacks (constant and cosine need none)."""
    if args.lrpolicy == "step":
        return [keras.callbacks.LearningRateScheduler(
            lambda epoch: args.lr * args.lrstepratio ** min(epoch // args.lrstepevery, args.lrmaxsteps))]
    if args.lrpolicy == "valstep":
        return [ResumablePlateau(
            out / "valstep.json", monitor="val_loss", factor=args.lrstepratio, patience=args.lrstepevery,
            min_lr=args.lr * args.lrstepratio ** args.lrmaxsteps, verbose=1)]
    return []


class ResumablePlateau(keras.callbacks.ReduceLROnPlateau):
    """valstep: Keras' reduce-on-plateau, whose state survives a resume.

    Keras' backup keeps neither the LR it cut nor its count of epochs without
    improvement: a resumed run would start again at --lr and wait afresh.
    """

    def __init__(self, state: Path, **plateau_args):
        super().__init__(**plateau_args)
        self.state = state

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.state.exists():
            saved = json.loads(self.state.read_text())
            self.wait, self.cooldown_counter, self.best = saved["wait"], saved["cooldown_counter"], saved["best"]
            self.model.optimizer.learning_rate = saved["lr"]

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        write_json(self.state, {"epoch": epoch + 1, "wait": self.wait, "cooldown_counter": self.cooldown_counter,
                                "best": None if self.best is None else float(self.best),
                                "lr": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))})


def optimizer_from_flags(args, learning_rate=None):
    """The Keras optimizer the paper's --opt/--mom/--beta flags describe."""
    lr = args.lr if learning_rate is None else learning_rate
    if args.opt == "sgd":
        return keras.optimizers.SGD(lr, momentum=args.mom)
    if args.opt == "rmsprop":
        return keras.optimizers.RMSprop(lr, momentum=args.mom)
    return keras.optimizers.Adam(lr, beta_1=args.beta1, beta_2=args.beta2, epsilon=args.adameps)


class Backup(keras.callbacks.BackupAndRestore):
    """Keras' per-epoch backup in `out`/backup, kept across runs, and written so that a kill never leaves half a file.

    Keras writes the weights in place: a run killed while saving left a file that
    loads only some layers, and the resume stopped with a traceback. Here each
    file is written beside its place and moved in whole (os.replace).
    """

    def __init__(self, out: Path):
        super().__init__(str(out / "backup"), delete_checkpoint=False)

    def _save_model(self):
        folder = Path(self.backup_dir)
        folder.mkdir(parents=True, exist_ok=True)
        incoming = folder / "incoming.weights.h5"
        self.model.save_weights(str(incoming), overwrite=True)
        os.replace(incoming, self._weights_path)
        write_json(Path(self._training_metadata_path), {"epoch": self._current_epoch, "batch": self._last_batch_seen})

    def on_train_begin(self, logs=None):
        """Resumes from the backup; a damaged one (left by Keras' in-place writes) is one line, not a traceback."""
        with warnings.catch_warnings():  # Keras warns of each variable a damaged file lacks, then raises
            warnings.simplefilter("ignore")
            try:
                super().on_train_begin(logs)
            except (OSError, ValueError) as error:
                raise CliError(f"{self.backup_dir} is damaged, so the run cannot resume from it (a run killed while "
                               f"Keras saved it): delete that folder to start the run again") from error


NOISE_STATE = "noise_state"  # TrackedSteps' seed generator among its own saved variables


class TrackedSteps(keras.Model):
    """A model trained by its own train_step (GAN, VAE, region proposals) that logs named figures as epoch means.

    Its networks are built before fit, so BackupAndRestore can load their
    weights when a run resumes; `noise` is the seeded source of its sampling.
    """

    def __init__(self, figure_names, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.noise = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in figure_names}
        self.built = True

    @property
    def metrics(self):
        return list(self.trackers.values())

    def save_own_variables(self, store):
        """The noise's state too, which Keras' weight files leave out (a SeedGenerator is not a layer): a
        resumed run draws what the unbroken run would."""
        super().save_own_variables(store)
        store[NOISE_STATE] = self.noise.state

    def load_own_variables(self, store):
        if NOISE_STATE in store.keys():
            self.noise.state.assign(store[NOISE_STATE])
        super().load_own_variables({key: store[key] for key in store.keys() if key != NOISE_STATE})

    def step(self, data) -> dict:
        """One training step, written with keras.ops and `self.descend`: its figures so far (see `tracked`)."""
        raise NotImplementedError

    def evaluation_step(self, data) -> dict:
        raise NotImplementedError

    def descend(self, optimizer, variables: list, compute_losses, key="loss") -> dict:
        """One step of `optimizer` on `variables` against compute_losses()[key], on any backend; that pass's
        losses."""
        return train_steps.descend(self, optimizer, variables, compute_losses, key)

    if backends.NAME == "jax":  # JAX's fit passes the state in and takes it back
        def train_step(self, state, data):
            groups = (self.trainable_variables, self.non_trainable_variables, self.optimizer.variables,
                      self.metrics_variables)
            return train_steps.run_statelessly(self.step, groups, state, data)

        def test_step(self, state, data):
            groups = (self.trainable_variables, self.non_trainable_variables, self.metrics_variables)
            return train_steps.run_statelessly(self.evaluation_step, groups, state, data)
    else:
        def train_step(self, data):
            return self.step(data)

        def test_step(self, data):
            return self.evaluation_step(data)

    def tracked(self, figures: dict) -> dict:
        """Adds one step's figures to the epoch's means; returns the means so far, as Keras logs them."""
        for name, tracker in self.trackers.items():
            tracker.update_state(figures[name])
        return {name: tracker.result() for name, tracker in self.trackers.items()}
