"""Trains one supervised coordinate task of the paper (§4) by `--arch`.

    python train.py --arch coordconv_classification -mb 16 -E 100 -L 0.005 --opt adam --l2 0.001 -mul 1

The output folder (--output, resman's folder, or runs/<arch>_<data>) gets the
config, TensorBoard logs, a per-epoch history.csv, .keras snapshots, the
paper's evaluation_NNNN.h5 files (outputs on the whole train and val sets)
and the final metrics.json. Rerunning into the same folder (or --load FOLDER)
resumes from the last finished epoch.
"""

import argparse
import contextlib
import functools
import json
import os
from pathlib import Path

from lab import backends  # Keras on its backend, quiet: before keras loads

import keras
import numpy as np

import model_builders
from lab import archs, datasets
from lab.supervised import extra_epochs, redraw, tasks
from lab.batches import EpochBatches, fit_in_order
from lab.runs import (Backup, ElapsedTime, TensorBoardWriter, console, elapsed, locked, lr_policy_callbacks,
                      optimizer_from_flags, output_dir, previous_elapsed, progress_verbosity, read_history,
                      start_from_snapshot, tensorboard, write_config, write_json)
from lab.util import (CliError, add_coords_init_scale_flag, add_lr_policy_flags, atomic_h5, check_coords_init_scale,
                       positive, standard_parser)

LR_POLICIES = ("constant", "step", "valstep", "cosine")
EVALUATION_PARTS = {"all": ("train", "val"), "val": ("val",), "none": ()}
STRATEGIES = ("default", "mirrored", "multiworker")


def flag_parser():
    parser = standard_parser(__doc__.splitlines()[0], archs.names("train.py"))
    parser.add_argument("--data_h5", default="data/rectangle_4_uniform.h5")
    parser.add_argument("--x_dim", type=positive(int), default=64, help="image height (first spatial axis)")
    parser.add_argument("--y_dim", type=positive(int), default=64, help="image width (second spatial axis)")
    add_lr_policy_flags(parser, LR_POLICIES)
    parser.add_argument("--warmup", type=float, default=0,
                        help="epochs (a fraction allowed) of linear LR warm-up from 0 before the policy applies "
                             "(not in the paper)")
    parser.add_argument("--hold", type=float, default=0,
                        help="epochs (a fraction allowed) at --lr before --lrpolicy cosine starts its decay, in "
                             "place of a warm-up (not in the paper)")
    parser.add_argument("--extra_epochs", type=int, default=0, metavar="N",
                        help="after -E epochs, up to N more, one at a time while the training set's main figure "
                             "misses --fit_target; each replays the last epoch's LR (not in the paper; "
                             "docs/seed_study.md, Rendering)")
    parser.add_argument("--fit_target", type=float, default=None, metavar="T",
                        help="the training set's main figure (accuracy, IoU: at least T; px: at most T) that "
                             "ends --extra_epochs")
    parser.add_argument("--filter_size", "-fs", type=positive(int), default=3)
    parser.add_argument("--channel_mul", "-mul", type=positive(int), default=2, help="width multiplier")
    parser.add_argument("--use_mse_loss", "-mse", action="store_true")
    parser.add_argument("--use_sigm_loss", "-sig", action="store_true")
    parser.add_argument("--interm_loss", "-interm", default=None, choices=tuple(tasks.INTERM_LOSSES),
                        help="also train the center map of coordconv_rendering/deconv_bottleneck")
    parser.add_argument("--center_l2", type=float, default=None, metavar="L2",
                        help="L2 of the layers that compute the center map, in place of --l2 there; the 3x3 "
                             "convs that paint the square keep --l2 (coordconv_rendering/deconv_bottleneck; not in "
                             "the paper; docs/seed_study.md, Rendering)")
    parser.add_argument("--hard_center", action="store_true",
                        help="outside training, paint from the center map's argmax as an exact one-hot, not from "
                             "the soft map (coordconv_rendering/deconv_bottleneck; not in the paper; "
                             "docs/seed_study.md, Rendering)")
    parser.add_argument("--no_softmax", "-nosfmx", action="store_true",
                        help="drop the softmax sharpening of the center map")
    parser.add_argument("--with_r", action="store_true",
                        help="add the radius channel to the CoordConv models' coordinates (the paper's include_r)")
    parser.add_argument("--init_scale", type=positive(float), default=1.0,
                        help="multiply the he_normal initial weights' standard deviation, except in the 3x3 convs "
                             "that paint the square from a center map (not in the paper)")
    parser.add_argument("--coords_frame", default="unit", choices=("unit", "pixel"),
                        help="coordinate inputs scaled to [-1, 1] like the coordinate channels, or raw pixels "
                             "as the paper's code")
    add_coords_init_scale_flag(parser, "the regressor's recipe, docs/seed_study.md, Regressor")
    parser.add_argument("--redraw_dead", type=int, default=0, metavar="K",
                        help="up to K times, start again from a new initialisation when, after the first epoch "
                             "or any other of --warmup (not the last), an output of the global max pool peaks on "
                             "one pixel for 95%% of the training images (coordconv_regressor; not in the paper, "
                             "docs/seed_study.md, Regressor)")
    parser.add_argument("--regressor_stack", default="auto", choices=("auto", *model_builders.REGRESSOR_STACKS),
                        help="conv_regressor's network: pooled (3x3 convs, max pools, dense layers) or strided "
                             "(strided convs, global average pooling); auto: the paper's choice, pooled when the "
                             "--data_h5 file's name holds 'uniform', else strided")
    parser.add_argument("--skipval", action="store_true",
                        help="no validation during training (the final evaluation still scores val)")
    parser.add_argument("--shuffletrain", "--st", dest="shuffletrain", action="store_true",
                        help="shuffle the training set each epoch (the default)")
    parser.add_argument("--noshuffletrain", "--nst", dest="shuffletrain", action="store_false",
                        help="train in the file's order")
    parser.set_defaults(shuffletrain=True)  # the paper's default; a shared dest otherwise takes the first flag's
    parser.add_argument("--holdout", type=float, default=0.0, metavar="FRACTION",
                        help="carve this fraction of the training set (drawn from --seed) as a selection split: "
                             "trained on the rest, scored after every epoch as holdout_* in history.csv, so a sweep "
                             "can choose its cell without looking at val (the paper chose on its test split)")
    parser.add_argument("--evaluation_h5", default="all", choices=tuple(EVALUATION_PARTS),
                        help="which sets the evaluation_NNNN.h5 files hold (outputs on every example: "
                             "about 50 MB per 1,000 examples for the image archs); none: only their metrics")
    parser.add_argument("--strategy", default="default", choices=STRATEGIES,
                        help="mirrored: every local GPU (or CPU device); multiworker: the machines in $TF_CONFIG")
    parser.add_argument("--cpu-devices", type=positive(int), default=1,
                        help="split the CPU into N logical devices for --strategy mirrored (trying it without GPUs)")
    return parser


def parse_args(argv=None):
    return flag_parser().parse_args(argv)


def run_flags(argv) -> tuple:
    """train.py's flags for `argv`, and each one's default: a run folder written before a flag existed used it."""
    parser = flag_parser()
    wanted = vars(parser.parse_args(argv))
    return wanted, {key: parser.get_default(key) for key in wanted}


def validate(args):
    """Rejects unknown archs and flag combinations that cannot mean anything."""
    arch = archs.lookup(args.arch, "train.py")
    center_flags = [flag for flag, on in (("-interm", args.interm_loss), ("-nosfmx", args.no_softmax),
                                          ("--center_l2", args.center_l2 is not None),
                                          ("--hard_center", args.hard_center)) if on]
    if center_flags and not arch.center_map:
        with_map = [name for name in archs.names("train.py") if archs.ARCHS[name].center_map]
        raise CliError(f"{' and '.join(center_flags)} only apply to {' and '.join(with_map)}, "
                       f"not --arch {args.arch}")
    if args.center_l2 is not None and args.center_l2 < 0:
        raise CliError(f"--center_l2 {args.center_l2:g} must be at least 0")
    for flag, epochs in (("--warmup", args.warmup), ("--hold", args.hold)):
        if epochs < 0 or epochs >= args.epochs:
            raise CliError(f"{flag} {epochs:g} must be at least 0 and fewer than the {args.epochs} epochs (-E)")
    if args.warmup and args.lrpolicy not in ("constant", "cosine"):
        raise CliError(f"--warmup works with --lrpolicy constant or cosine, not {args.lrpolicy}")
    if args.hold and (args.lrpolicy != "cosine" or args.warmup):
        raise CliError("--hold delays the cosine decay: it needs --lrpolicy cosine and no --warmup")
    if args.extra_epochs < 0:
        raise CliError(f"--extra_epochs {args.extra_epochs} must be at least 0")
    if bool(args.extra_epochs) != (args.fit_target is not None):
        raise CliError("--extra_epochs and --fit_target go together: the target says when the extra epochs stop")
    if not 0 <= args.holdout < 1:
        raise CliError(f"--holdout {args.holdout:g} must be at least 0 and below 1: a fraction of the training set")
    if args.skipval and args.lrpolicy == "valstep":
        raise CliError("--lrpolicy valstep steps on the validation loss: drop --skipval or choose another policy")
    if args.redraw_dead and not arch.max_pooled:
        pooled = [name for name in archs.names("train.py") if archs.ARCHS[name].max_pooled]
        raise CliError(f"--redraw_dead only applies to {' and '.join(pooled)}, not --arch {args.arch}")
    if args.regressor_stack != "auto" and args.arch != "conv_regressor":
        raise CliError(f"--regressor_stack chooses conv_regressor's network, not --arch {args.arch}'s")
    check_coords_init_scale(args.coords_init_scale, args.arch, arch.coords)
    if args.redraw_dead < 0:
        raise CliError(f"--redraw_dead {args.redraw_dead} must be at least 0")
    if args.redraw_dead and args.load and not Path(args.load).is_dir():
        raise CliError("--redraw_dead draws new initialisations; --load FILE starts from saved weights")
    if args.strategy != "default":
        backends.require_tensorflow(f"--strategy {args.strategy}")
    if args.cpu_devices != 1 and args.strategy != "mirrored":
        raise CliError(f"--cpu-devices {args.cpu_devices} only applies to --strategy mirrored")
    if args.strategy == "multiworker" and "TF_CONFIG" not in os.environ:
        raise CliError("--strategy multiworker reads the cluster from $TF_CONFIG, which is not set "
                       "(docs/speed.md, Beyond one device)")
    task = tasks.TASK_OF[arch.name]
    return task, tasks.loss_name(task, args.use_mse_loss, args.use_sigm_loss)


class OneDevice:
    """No distribution: the model is built and trained where the backend puts it."""

    num_replicas_in_sync = 1

    @staticmethod
    def scope():
        return contextlib.nullcontext()


def distribution_strategy(args):
    """Chosen once, before the backend touches a device; the model is built in its scope."""
    if args.cpu:
        backends.hide_gpus()
    if args.strategy == "default":
        return OneDevice()
    import tensorflow as tf  # validate() has checked the backend: tf.distribute is TensorFlow's

    if args.strategy == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if args.cpu_devices > 1:
        split_cpu(args.cpu_devices)
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    strategy = tf.distribute.MirroredStrategy([device.name for device in devices])
    if args.minibatch % strategy.num_replicas_in_sync:
        raise CliError(f"-mb {args.minibatch} does not split evenly over {strategy.num_replicas_in_sync} replicas")
    return strategy


def split_cpu(count: int):
    import tensorflow as tf  # --cpu-devices goes with --strategy mirrored, TensorFlow's

    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError as error:
        raise CliError(f"--cpu-devices must be set before TensorFlow starts in this process ({error})")


def load_data(args, task):
    """(inputs, targets) for train and val; with a center map, targets are {"image", "center"}."""
    has_center_map = archs.ARCHS[args.arch].center_map
    keys = [task.input_key, task.target_key] + (["onehots"] if has_center_map else [])
    splits = {part: datasets.load_split(args.data_h5, part, dict.fromkeys(keys), args.x_dim, args.y_dim)
              for part in ("train", "val")}

    def pair(arrays):
        target = arrays[task.target_key]
        if has_center_map:  # the paper always fed the one-hot, to score the center map
            target = {"image": target, "center": arrays["onehots"]}
        return arrays[task.input_key], target

    return pair(splits["train"]), pair(splits["val"])


def carve_holdout(train, fraction: float, seed: int) -> tuple:
    """(the training set without its holdout, the holdout): `fraction` of the examples, drawn from `seed`, in the
    file's order; (train, None) when fraction is 0."""
    if not fraction:
        return train, None
    count = round(len(train[0]) * fraction)
    if not 0 < count < len(train[0]):
        raise CliError(f"--holdout {fraction:g} of {len(train[0])} training examples leaves no holdout or no training")
    chosen = np.zeros(len(train[0]), bool)
    chosen[np.random.default_rng([seed, len(train[0])]).permutation(len(train[0]))[:count]] = True
    return tuple(keras.tree.map_structure(lambda array: array[mask], train) for mask in (~chosen, chosen))


def learning_rate(args, steps_per_epoch: int):
    """--lr, or a per-step schedule: a linear warm-up from 0 over --warmup epochs (or --hold epochs at --lr),
    then constant or cosine to 0. A hold is Keras' warm-up from --lr to --lr."""
    if args.lrpolicy != "cosine" and not args.warmup:
        return args.lr
    flat_steps = round((args.warmup or args.hold) * steps_per_epoch)
    schedule = (functools.partial(extra_epochs.ReplayingCosineDecay, steps_per_epoch) if args.extra_epochs
                else keras.optimizers.schedules.CosineDecay)
    return schedule(
        initial_learning_rate=0.0 if args.warmup else args.lr,
        warmup_target=args.lr if args.warmup or args.hold else None,
        warmup_steps=flat_steps, decay_steps=args.epochs * steps_per_epoch - flat_steps,
        alpha=0.0 if args.lrpolicy == "cosine" else 1.0)


def build_network(args) -> keras.Model:
    """The arch's network as the flags shape it, uncompiled."""
    spec = model_builders.ModelSpec(x_dim=args.x_dim, y_dim=args.y_dim, mul=args.channel_mul, fs=args.filter_size,
                                    l2=args.l2, no_softmax=args.no_softmax, with_r=args.with_r,
                                    regressor_stack=regressor_stack(args),
                                    init_scale=args.init_scale, coords_frame=args.coords_frame,
                                    coords_init_scale=args.coords_init_scale, center_l2=args.center_l2,
                                    hard_center=args.hard_center)
    return archs.ARCHS[args.arch].build(spec)


def build_model(args, task, loss, steps_per_epoch):
    model = build_network(args)
    if args.load and not Path(args.load).is_dir():
        start_from_snapshot(model, args.load)
    image_loss = task.losses[loss]
    optimizer = optimizer_from_flags(args, learning_rate(args, steps_per_epoch))
    if archs.ARCHS[args.arch].center_map:
        model.compile(optimizer=optimizer,
                      loss={"image": image_loss, "center": tasks.INTERM_LOSSES.get(args.interm_loss)},
                      metrics={"image": task.make_metrics(args.x_dim), "center": tasks.make_center_map_metrics()})
    else:
        model.compile(optimizer=optimizer, loss=image_loss, metrics=task.make_metrics(args.x_dim))
    return model


def regressor_stack(args) -> str:
    """--regressor_stack, with auto resolved as the paper did, from the data file's name."""
    if args.regressor_stack == "auto":
        return model_builders.paper_regressor_stack(args.data_h5)
    return args.regressor_stack


def seeded_model(args, task, loss, steps_per_epoch, draw=0):
    """The model a run starts from, seeded just before it is built: the same flags give the same weights."""
    keras.utils.set_random_seed(redraw.initialisation_seed(args.seed, draw))
    return build_model(args, task, loss, steps_per_epoch)


def prepared(argv):
    """(args, task, loss, train, val) as main parses, checks and loads them, for studies that build the model."""
    args = parse_args(argv)
    task, loss = validate(args)
    return (args, task, loss, *load_data(args, task))


def training_batches(args, train) -> EpochBatches:
    """The training set in epoch e's order drawn from (--seed, e), or the file's order under --noshuffletrain."""
    return EpochBatches(train, args.minibatch, seed=args.seed if args.shuffletrain else None)


def make_callbacks(args, out, steps_per_epoch, train, val, task, clock: ElapsedTime, check_dead=False, holdout=None):
    callbacks = redraw.checks(args, train[0]) if check_dead else []
    callbacks += [
        Backup(out),
        SnapshotEvaluation(args, out, task, train, val),
        RegularisationLoss(),
        *([HoldoutScore(holdout, args.minibatch)] if holdout is not None else []),
        clock,
        keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
    ]
    callbacks += tensorboard(out / "tensorboard", args)
    if backends.is_tensorflow():  # its writer is TensorFlow's, as TensorBoard's
        callbacks.append(ImageSummaries(out / "tensorboard" / "images", val[0][:8]))
    if args.snapshot_every > 0:
        callbacks.append(keras.callbacks.ModelCheckpoint(
            str(out / f"{args.snapshot_to}_epoch{{epoch:03d}}.keras"),
            save_freq=args.snapshot_every * steps_per_epoch))
    return callbacks + lr_policy_callbacks(args, out)


class RegularisationLoss(keras.callbacks.Callback):
    """Logs the L2 penalty beside the data losses, as the paper's reg_loss (at each epoch's end)."""

    def on_epoch_end(self, epoch, logs=None):
        logs["reg_loss"] = regularisation_loss(self.model)


def regularisation_loss(model) -> float:
    return float(sum(keras.ops.convert_to_numpy(loss) for loss in model.losses))


class HoldoutScore(keras.callbacks.Callback):
    """--holdout: the compiled metrics on the carved selection split, logged after every epoch as holdout_*."""

    def __init__(self, holdout, batch_size: int):
        super().__init__()
        self.holdout, self.batch_size = holdout, batch_size

    def on_epoch_end(self, epoch, logs=None):
        scores = self.model.evaluate(EpochBatches(self.holdout, self.batch_size), verbose=0, return_dict=True)
        logs.update({f"holdout_{name}": value for name, value in scores.items()})


class SnapshotEvaluation(keras.callbacks.Callback):
    """The paper's evaluation passes: validation before the first epoch, and
    evaluation_NNNN.h5 with its metrics before training and at every
    --snapshot-every epochs (the last epoch's comes from write_results).
    """

    def __init__(self, args, out: Path, task, train, val):
        super().__init__()
        self.args, self.out, self.task, self.train, self.val = args, out, task, train, val

    def on_train_begin(self, logs=None):
        if read_history(self.out / "history.csv"):
            return  # resumed: epoch 0 was evaluated by the first run
        if self.args.snapshot_every > 0:
            metrics = write_evaluation(self.out, 0, self.model, self.task, self.train, self.val, self.args)
        elif not self.args.skipval:
            metrics = {"val": evaluate(self.model, self.val, self.args.minibatch)}
            write_json(evaluation_path(self.out, 0, "_metrics.json"), metrics)
        else:
            return
        console(self.args)(f"epoch 0 (before training): val {self.task.best_metric} "
                           f"{metrics['val'][self.task.metric_key(metrics['val'])]:.4f}")

    def on_epoch_end(self, epoch, logs=None):
        finished = epoch + 1
        if self.args.snapshot_every > 0 and finished % self.args.snapshot_every == 0 and finished < self.args.epochs:
            write_evaluation(self.out, finished, self.model, self.task, self.train, self.val, self.args)


class ImageSummaries(keras.callbacks.Callback):
    """Writes the model's images for a few validation inputs to TensorBoard."""

    def __init__(self, log_dir: Path, inputs):
        super().__init__()
        self.log_dir, self.inputs = log_dir, inputs

    def on_train_begin(self, logs=None):
        self.summaries = TensorBoardWriter(self.log_dir)

    def on_epoch_end(self, epoch, logs=None):
        outputs = self.model.predict_on_batch(self.inputs)  # compiled once; an eager call costs ~4% of fit
        images = outputs["image"] if isinstance(outputs, dict) else outputs
        if len(images.shape) != 4:
            return
        self.summaries.images("val_predictions", keras.ops.sigmoid(images), epoch)


def best_epoch(history: list, task, prefix="val_") -> dict:
    """The epoch with the best value of the task's main metric on val (or on the split `prefix` names)."""
    key = task.metric_key(history[0], prefix=prefix)
    values = [float(row[key]) for row in history]
    index = int(np.argmax(values) if task.best_mode == "max" else np.argmin(values))
    return {"epoch": index + 1, "metric": key, "value": values[index], "time_s": float(history[index]["time_s"])}


def evaluate(model, data, batch_size) -> dict:
    """The compiled metrics over a whole set, with the L2 penalty as reg_loss."""
    inputs, targets = data
    results = model.evaluate(EpochBatches((inputs, targets), batch_size), verbose=0, return_dict=True)
    return {**results, "reg_loss": regularisation_loss(model)}


def evaluation_path(out: Path, epoch: int, suffix: str) -> Path:
    return out / f"evaluation_{epoch:04d}{suffix}"


def write_evaluation(out: Path, epoch: int, model, task, train, val, args) -> dict:
    """evaluation_NNNN.h5 (the paper's arrays, for the sets --evaluation_h5 names) and its metrics file."""
    data = {"train": train, "val": val}
    parts = EVALUATION_PARTS[args.evaluation_h5]
    if parts:
        with atomic_h5(evaluation_path(out, epoch, ".h5")) as h5:
            h5.attrs["data_h5"], h5.attrs["epoch"] = str(args.data_h5), epoch
            for part in parts:
                inputs, targets = data[part]
                outputs = model.predict(inputs, batch_size=args.minibatch, verbose=0)
                arrays = {"inputs": inputs, "labels": image_target(targets), **paper_outputs(task, outputs)}
                for name, array in arrays.items():
                    h5.create_dataset(f"{name}_{part}", data=array, compression="lzf")
    metrics = {part: evaluate(model, data[part], args.minibatch) for part in data}
    write_json(evaluation_path(out, epoch, "_metrics.json"),
               {**metrics, "time_elapsed": previous_elapsed(out / "history.csv")})
    return metrics


def image_target(targets):
    return targets["image"] if isinstance(targets, dict) else targets


def paper_outputs(task, outputs) -> dict:
    """The arrays the paper's evaluate_net saved: logits, the softmax over
    pixels where the model can train on it, the per-pixel sigmoid of image
    outputs, and the center map with its softmax.
    """
    logits = image_target(outputs)
    arrays = {"logits": logits}
    if logits.ndim == 4:
        if "softmax" in task.losses:
            arrays["prob"] = pixel_softmax(logits)
        arrays["pixelwise_prob"] = np.exp(-np.logaddexp(0.0, -logits))  # the sigmoid, without overflow
    if isinstance(outputs, dict):
        arrays["center_logits"] = outputs["center"]
        arrays["center_prob"] = pixel_softmax(outputs["center"])
    return arrays


def pixel_softmax(logits):
    """Softmax over all pixels of each image, as the paper's `prob`."""
    flat = logits.reshape(len(logits), -1)
    flat = np.exp(flat - flat.max(axis=1, keepdims=True))
    return (flat / flat.sum(axis=1, keepdims=True)).reshape(logits.shape)


def summary_line(task, metrics: dict) -> str:
    """The headline: the task's main metric on train and val."""
    train = metrics["final"]["train"]
    val = metrics["final"]["val"]
    key = task.metric_key(val)
    scale, unit = (100.0, "%") if task.best_mode == "max" else (1.0, " px")
    return (f"{metrics['arch']} on {Path(metrics['data_h5']).name}: val {task.best_metric} "
            f"{val[key] * scale:.2f}{unit} (train {train[key] * scale:.2f}{unit}) after "
            f"{metrics['epochs']} epochs, {metrics['wall_time_s']:.1f} s")


def write_results(args, task, model, train, val, out: Path, redrawn: list, holdout=None) -> dict:
    """The final snapshot, evaluation_NNNN.h5 and metrics.json of a finished run."""
    history = read_history(out / "history.csv")
    if args.snapshot_every != 0:
        model.save(out / f"{args.snapshot_to}_final.keras")
    final = write_evaluation(out, len(history), model, task, train, val, args)
    initial = evaluation_path(out, 0, "_metrics.json")
    metrics = {
        "arch": args.arch, "task": task.name, "data_h5": args.data_h5, "seed": args.seed, "output": str(out),
        "params": model.count_params(),
        "initialisation_seed": redraw.initialisation_seed(args.seed, len(redrawn)), "redrawn": redrawn,
        "epochs": len(history), "extra_epochs": extra_epochs.used(history, args), "wall_time_s": elapsed(history),
        "initial": json.loads(initial.read_text()) if initial.exists() else None,
        "final": {"train": final["train"], "val": final["val"],
                  **({"holdout": evaluate(model, holdout, args.minibatch)} if holdout is not None else {})},
        "evaluation_h5": str(evaluation_path(out, len(history), ".h5")) if args.evaluation_h5 != "none" else None,
        "best_val": best_epoch(history, task) if history and not args.skipval else None,
        "best_holdout": best_epoch(history, task, "holdout_") if history and holdout is not None else None,
        "history": history,
    }
    write_json(out / "metrics.json", metrics)
    return metrics


def main(argv=None):
    args = parse_args(argv)
    task, loss = validate(args)
    strategy = distribution_strategy(args)
    train, val = load_data(args, task)
    train, holdout = carve_holdout(train, args.holdout, args.seed)
    with locked(output_dir(args)) as out:
        return train_into(out, args, task, loss, strategy, train, val, holdout)


def train_into(out: Path, args, task, loss, strategy, train, val, holdout=None) -> dict:
    """Trains (or resumes) the run in `out`, which this process holds, and writes its results."""
    backends.make_deterministic()
    steps_per_epoch = len(training_batches(args, train))
    redrawn = redraw.read_redrawn(out)

    def next_draw():
        """The model of the draw after those `redrawn` records (the seed's own when none)."""
        with strategy.scope():
            return seeded_model(args, task, loss, steps_per_epoch, len(redrawn))

    model = next_draw()
    write_config(out, args, loss=loss, task=task.name, params=model.count_params(),
                 replicas=strategy.num_replicas_in_sync)
    log = console(args)
    log(f"{args.arch}: {model.count_params():,} params, {task.name} with {loss} loss, "
        f"{len(train[0])} train / {len(val[0])} val from {args.data_h5}; output in {out}")

    if args.verbose:
        model.summary()
    while not fit(model, args, out, steps_per_epoch, train, val, task, redrawn, holdout):
        log(f"initialisation {redrawn[-1]['initialisation_seed']}: outputs {redrawn[-1]['dead_outputs']} peak "
            f"on one pixel after epoch {redrawn[-1]['epoch']}; starting again from initialisation "
            f"{redraw.initialisation_seed(args.seed, len(redrawn))} (--redraw_dead)")
        keras.backend.clear_session()
        model = next_draw()
    train_while_short(model, args, out, steps_per_epoch, train, val, task, redrawn, log, holdout)

    metrics = write_results(args, task, model, train, val, out, redrawn, holdout)
    log(summary_line(task, metrics))
    return metrics


def train_while_short(model, args, out: Path, steps_per_epoch: int, train, val, task, redrawn: list, log,
                      holdout=None):
    """--extra_epochs: one more epoch at a time while the training set misses --fit_target
    (lab/supervised/extra_epochs.py)."""
    while extra_epochs.used(read_history(out / "history.csv"), args) < args.extra_epochs:
        figure, short = extra_epochs.short_of_target(evaluate(model, train, args.minibatch), task, args.fit_target)
        if not short:
            return
        epochs = len(read_history(out / "history.csv")) + 1
        log(f"train {task.best_metric} {figure:.4f} misses --fit_target {args.fit_target:g}: "
            f"epoch {epochs} (extra {epochs - args.epochs} of {args.extra_epochs})")
        fit(model, argparse.Namespace(**{**vars(args), "epochs": epochs}), out, steps_per_epoch, train, val, task,
            redrawn, holdout)


def fit(model, args, out: Path, steps_per_epoch: int, train, val, task, redrawn: list, holdout=None) -> bool:
    """Trains to the last epoch and returns True, or, when --redraw_dead finds a dead output
    (lab/supervised/redraw.py), records the draw in `redrawn` and redrawn.json, clears its files and returns False.
    """
    spent_before = sum(draw["seconds"] for draw in redrawn)
    clock = ElapsedTime(out / "history.csv", spent_before, args.time_budget)
    callbacks = make_callbacks(args, out, steps_per_epoch, train, val, task, clock, len(redrawn) < args.redraw_dead,
                               holdout)
    try:
        fit_in_order(model, training_batches(args, train), callbacks, epochs=args.epochs,
                     validation_data=None if args.skipval else EpochBatches(val, args.minibatch),
                     verbose=progress_verbosity(args))
        return True
    except redraw.DeadOutputError as dead:
        redraw.record(out, args, redrawn, dead, clock.seconds() - spent_before)
        return False
