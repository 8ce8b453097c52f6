#!/usr/bin/env python3
"""Trains one supervised coordinate task of the paper (§4) by `--arch`.

    python train.py --arch coordconv_classification -mb 16 -E 100 -L 0.005 --opt adam --l2 0.001 -mul 1

The output folder (--output, resman's folder, or runs/<arch>_<data>) gets the
config, TensorBoard logs, a per-epoch history.csv, .keras snapshots, the
final metrics.json and predictions.h5. Rerunning into the same folder (or
--load FOLDER) resumes from the last finished epoch.
"""

import csv
import json
import os
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

import datasets
import model_builders
import tasks
from util import CliError, atomic_h5, optimizer_from_flags, positive, require_arch, run_cli, standard_parser

LR_POLICIES = ("constant", "step", "valstep")
STRATEGIES = ("default", "mirrored", "multiworker")


def parse_args(argv=None):
    parser = standard_parser(__doc__.splitlines()[0], model_builders.BUILDERS)
    parser.add_argument("--data_h5", default="data/rectangle_4_uniform.h5")
    parser.add_argument("--x_dim", type=positive(int), default=64, help="image height (first spatial axis)")
    parser.add_argument("--y_dim", type=positive(int), default=64, help="image width (second spatial axis)")
    parser.add_argument("--lrpolicy", default="constant", choices=LR_POLICIES,
                        help="step: multiply the LR by --lrstepratio every --lrstepevery epochs; "
                             "valstep: the same when the val loss has not improved for --lrstepevery epochs")
    parser.add_argument("--lrstepratio", type=float, default=0.1)
    parser.add_argument("--lrmaxsteps", type=int, default=5)
    parser.add_argument("--lrstepevery", type=int, default=50)
    parser.add_argument("--filter_size", "-fs", type=positive(int), default=3)
    parser.add_argument("--channel_mul", "-mul", type=positive(int), default=2, help="width multiplier")
    parser.add_argument("--use_mse_loss", "-mse", action="store_true")
    parser.add_argument("--use_sigm_loss", "-sig", action="store_true")
    parser.add_argument("--interm_loss", "-interm", default=None, choices=tuple(tasks.INTERM_LOSSES),
                        help="also train the centre map of coordconv_rendering/deconv_bottleneck")
    parser.add_argument("--no_softmax", "-nosfmx", action="store_true",
                        help="drop the softmax sharpening of the centre map")
    parser.add_argument("--strategy", default="default", choices=STRATEGIES,
                        help="mirrored: every local GPU (or CPU device); multiworker: the machines in $TF_CONFIG")
    parser.add_argument("--cpu-devices", type=positive(int), default=1,
                        help="split the CPU into N logical devices for --strategy mirrored (trying it without GPUs)")
    return parser.parse_args(argv)


def validate(args):
    """Rejects unknown archs and flag combinations that cannot mean anything."""
    require_arch(args.arch, model_builders.BUILDERS)
    centre_flags = [flag for flag, on in (("-interm", args.interm_loss), ("-nosfmx", args.no_softmax)) if on]
    if centre_flags and args.arch not in tasks.ARCHS_WITH_CENTRE_MAP:
        raise CliError(f"{' and '.join(centre_flags)} only apply to {' and '.join(tasks.ARCHS_WITH_CENTRE_MAP)}, "
                       f"not --arch {args.arch}")
    if args.cpu_devices != 1 and args.strategy != "mirrored":
        raise CliError(f"--cpu-devices {args.cpu_devices} only applies to --strategy mirrored")
    if args.strategy == "multiworker" and "TF_CONFIG" not in os.environ:
        raise CliError("--strategy multiworker reads the cluster from $TF_CONFIG, which is not set (see README)")
    task = tasks.TASK_OF_ARCH[args.arch]
    return task, tasks.loss_name(task, args.use_mse_loss, args.use_sigm_loss)


def distribution_strategy(args) -> tf.distribute.Strategy:
    """Chosen once, before TensorFlow touches a device; the model is built in its scope."""
    if args.strategy == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if args.strategy == "default":
        return tf.distribute.get_strategy()
    if args.cpu_devices > 1:
        split_cpu(args.cpu_devices)
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    strategy = tf.distribute.MirroredStrategy([device.name for device in devices])
    if args.minibatch % strategy.num_replicas_in_sync:
        raise CliError(f"-mb {args.minibatch} does not split evenly over {strategy.num_replicas_in_sync} replicas")
    return strategy


def split_cpu(count: int):
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError as error:
        raise CliError(f"--cpu-devices must be set before TensorFlow starts in this process ({error})")


def output_dir(args) -> Path:
    if args.load and Path(args.load).is_dir():
        return Path(args.load)
    if args.output:
        return Path(args.output)
    if os.environ.get("GIT_RESULTS_MANAGER_DIR"):
        return Path(os.environ["GIT_RESULTS_MANAGER_DIR"])
    return Path("runs") / f"{args.arch}_{Path(args.data_h5).stem}"


def load_data(args, task):
    """(inputs, targets) for train and val; targets a dict when -interm adds the centre map."""
    keys = [task.input_key, task.target_key] + (["onehots"] if args.interm_loss else [])
    splits = {part: datasets.load_split(args.data_h5, part, dict.fromkeys(keys), args.x_dim, args.y_dim)
              for part in ("train", "val")}

    def pair(arrays):
        target = arrays[task.target_key]
        if args.interm_loss:
            target = {"image": target, "center": arrays["onehots"]}
        return arrays[task.input_key], target

    return pair(splits["train"]), pair(splits["val"])


def regressor_variant(data_h5) -> str:
    """The paper picked its conv regressor by the data file's name."""
    return "uniform" if "uniform" in Path(data_h5).name else "quadrant"


def build_model(args, task, loss):
    spec = model_builders.Spec(x_dim=args.x_dim, y_dim=args.y_dim, mul=args.channel_mul, fs=args.filter_size,
                               l2=args.l2, interm_loss=args.interm_loss, no_softmax=args.no_softmax,
                               regressor_variant=regressor_variant(args.data_h5))
    model = model_builders.build(args.arch, spec)
    if args.load and not Path(args.load).is_dir():
        start_from_snapshot(model, args.load)
    image_loss = task.losses[loss]
    if args.interm_loss:
        model.compile(optimizer=optimizer_from_flags(args),
                      loss={"image": image_loss, "center": tasks.INTERM_LOSSES[args.interm_loss]},
                      metrics={"image": task.make_metrics()})
    else:
        model.compile(optimizer=optimizer_from_flags(args), loss=image_loss, metrics=task.make_metrics())
    return model


def start_from_snapshot(model, path):
    """Copies a .keras snapshot's weights into `model`, which must have the same layers.

    train_gan.py uses it for its generator.
    """
    try:
        snapshot = keras.saving.load_model(path)
    except (OSError, ValueError) as error:
        raise CliError(f"--load {path}: not a run folder or a readable .keras model ({error})")
    try:
        model.set_weights(snapshot.get_weights())
    except ValueError as error:
        raise CliError(f"--load {path}: its weights do not fit --arch {model.name} with these flags ({error})")


def as_dataset(inputs, targets, batch_size, seed=None):
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if seed is not None:
        dataset = dataset.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def console(args):
    """print, or nothing under --quiet."""
    return (lambda *_: None) if args.quiet else print


def progress_verbosity(args) -> int:
    """Keras' progress bar on a terminal, one line per epoch in a log, nothing if --quiet."""
    return 0 if args.quiet else 1 if sys.stdout.isatty() else 2


def make_callbacks(args, out, steps_per_epoch, val_inputs):
    callbacks = [
        keras.callbacks.BackupAndRestore(str(out / "backup"), delete_checkpoint=False),
        ElapsedTime(out / "history.csv"),
        keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
        keras.callbacks.TensorBoard(str(out / "tensorboard"), write_graph=False),
        ImageSummaries(out / "tensorboard" / "images", val_inputs[:8]),
    ]
    if args.snapshot_every > 0:
        callbacks.append(keras.callbacks.ModelCheckpoint(
            str(out / f"{args.snapshot_to}_epoch{{epoch:03d}}.keras"),
            save_freq=args.snapshot_every * steps_per_epoch))
    if args.lrpolicy == "step":
        callbacks.append(keras.callbacks.LearningRateScheduler(
            lambda epoch: args.lr * args.lrstepratio ** min(epoch // args.lrstepevery, args.lrmaxsteps)))
    elif args.lrpolicy == "valstep":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=args.lrstepratio, patience=args.lrstepevery,
            min_lr=args.lr * args.lrstepratio ** args.lrmaxsteps, verbose=1))
    return callbacks


class ElapsedTime(keras.callbacks.Callback):
    """Adds `time_s`, wall seconds since the run began, to each epoch's logs.

    On resume it continues from the last time in history.csv, so "time to the
    best epoch" stays true across interruptions.
    """

    def __init__(self, history_csv: Path):
        super().__init__()
        self.history_csv = history_csv

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter() - previous_elapsed(self.history_csv)

    def on_epoch_end(self, epoch, logs=None):
        logs["time_s"] = time.perf_counter() - self.start


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


class ImageSummaries(keras.callbacks.Callback):
    """Writes the model's images for a few validation inputs to TensorBoard."""

    def __init__(self, log_dir: Path, inputs):
        super().__init__()
        self.log_dir, self.inputs = log_dir, inputs

    def on_train_begin(self, logs=None):
        self.writer = tf.summary.create_file_writer(str(self.log_dir))

    def on_epoch_end(self, epoch, logs=None):
        outputs = self.model.predict_on_batch(self.inputs)  # compiled once; an eager call costs ~4% of fit
        images = outputs["image"] if isinstance(outputs, dict) else outputs
        if len(images.shape) != 4:
            return
        with self.writer.as_default():
            tf.summary.image("val_predictions", tf.sigmoid(images), step=epoch, max_outputs=8)


def best_epoch(history: list, task) -> dict:
    """The epoch with the best validation value of the task's main metric."""
    key = task.metric_key(history[0], prefix="val_")
    values = [float(row[key]) for row in history]
    index = int(np.argmax(values) if task.best_mode == "max" else np.argmin(values))
    return {"epoch": index + 1, "metric": key, "value": values[index], "time_s": float(history[index]["time_s"])}


def evaluate(model, data, batch_size) -> dict:
    inputs, targets = data
    return model.evaluate(as_dataset(inputs, targets, batch_size), verbose=0, return_dict=True)


def write_predictions(path: Path, model, train, val, batch_size, data_h5):
    with atomic_h5(path) as h5:
        h5.attrs["data_h5"] = str(data_h5)
        for part, (inputs, _) in (("train", train), ("val", val)):
            outputs = model.predict(inputs, batch_size=batch_size, verbose=0)
            for name, array in (outputs.items() if isinstance(outputs, dict) else [("pred", outputs)]):
                h5.create_dataset(f"{part}_{name}", data=array, compression="lzf")


def write_config(out: Path, args, **extra):
    """config.json: the parsed flags and the library versions, so the folder alone tells how to rerun it."""
    write_json(out / "config.json", {**vars(args), "output": str(out), **extra,
                                     "tensorflow": tf.__version__, "keras": keras.__version__})


def write_json(path: Path, content: dict):
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(content, indent=2, default=str) + "\n")
    os.replace(temporary, path)


def summary_line(task, metrics: dict) -> str:
    """The headline: the task's main metric on train and val."""
    train = metrics["final"]["train"]
    val = metrics["final"]["val"]
    key = task.metric_key(val)
    scale, unit = (100.0, "%") if task.best_mode == "max" else (1.0, " px")
    return (f"{metrics['arch']} on {Path(metrics['data_h5']).name}: val {task.best_metric} "
            f"{val[key] * scale:.2f}{unit} (train {train[key] * scale:.2f}{unit}) after "
            f"{metrics['epochs']} epochs, {metrics['wall_time_s']:.1f} s")


def write_results(args, task, model, train, val, out: Path) -> dict:
    """The final snapshot, metrics.json and predictions.h5 of a finished run."""
    history = read_history(out / "history.csv")
    if args.snapshot_every != 0:
        model.save(out / f"{args.snapshot_to}_final.keras")
    metrics = {
        "arch": args.arch, "task": task.name, "data_h5": args.data_h5, "seed": args.seed, "output": str(out),
        "params": model.count_params(),
        "epochs": len(history), "wall_time_s": elapsed(history),
        "final": {"train": evaluate(model, train, args.minibatch), "val": evaluate(model, val, args.minibatch)},
        "best_val": best_epoch(history, task) if history else None,
        "history": history,
    }
    write_json(out / "metrics.json", metrics)
    write_predictions(out / "predictions.h5", model, train, val, args.minibatch, args.data_h5)
    return metrics


def main(argv=None):
    args = parse_args(argv)
    task, loss = validate(args)
    strategy = distribution_strategy(args)
    train, val = load_data(args, task)
    out = output_dir(args)
    out.mkdir(parents=True, exist_ok=True)

    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()
    with strategy.scope():
        model = build_model(args, task, loss)
    write_config(out, args, loss=loss, task=task.name, params=model.count_params(),
                 replicas=strategy.num_replicas_in_sync)
    log = console(args)
    log(f"{args.arch}: {model.count_params():,} params, {task.name} with {loss} loss, "
          f"{len(train[0])} train / {len(val[0])} val from {args.data_h5}; output in {out}")

    steps_per_epoch = int(np.ceil(len(train[0]) / args.minibatch))
    model.fit(as_dataset(*train, args.minibatch, seed=args.seed), epochs=args.epochs,
              validation_data=as_dataset(*val, args.minibatch),
              callbacks=make_callbacks(args, out, steps_per_epoch, val[0]),
              shuffle=False, verbose=progress_verbosity(args))

    metrics = write_results(args, task, model, train, val, out)
    log(summary_line(task, metrics))
    return metrics


if __name__ == "__main__":
    sys.exit(run_cli(main))
