"""Trains the paper's region proposal network on Field-of-MNIST by `--arch`: rpn_sampler or coord_rpn_sampler.

    python train_detection.py --arch coord_rpn_sampler -E 3 -L 0.0005 --opt adam --clip

One image per step, as the paper's train_faster_rcnn.py (see lab/detection/detection.py for
the network, the box sampler and the metrics). Validation runs before
training and after every epoch; the headline is mean_argmax_nms_iou on val,
the mean over the 10 proposals kept by non-maximum suppression of each one's
best IoU with a digit. The output folder (--output, resman's folder, or
runs/<arch>_<data>) gets config.json, history.csv, TensorBoard logs,
figures/nms_val_boxes_epochNNN.png (9 val images, digits in magenta,
proposals in green, thicker for higher scores), .keras snapshots of the
network, initial_metrics.json (val before training) and metrics.json.
Rerunning into the same folder (or --load FOLDER) resumes from the last
finished epoch.
"""

from pathlib import Path

from lab import backends  # noqa: F401  Keras on its backend, quiet: before keras loads

import keras
import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

import model_builders
from lab import archs, datasets
from lab.batches import EpochBatches, fit_in_order
from lab.detection import detection, field_of_mnist
from lab.runs import (Backup, ElapsedTime, after_epochs, console, lr_policy_callbacks, optimizer_from_flags,
                      progress_verbosity, read_history, run_metrics, start_from_snapshot, started_run, tensorboard,
                      write_config, write_json)
from lab.util import CliError, add_lr_policy_flags, positive, standard_parser

SHOWN = 9  # val images drawn each epoch
STEPS_PER_CALL = 50


def parse_args(argv=None):
    parser = standard_parser(__doc__.splitlines()[0], archs.names("train_detection.py"))
    parser.set_defaults(minibatch=1)
    parser.add_argument("--data_h5", default=None,
                        help="default: data/field_of_mnist_64x64_<num>objs.h5 (made by "
                             f"{datasets.GENERATE_FIELD_COMMAND})")
    parser.add_argument("--num", "-N", type=positive(int), default=5, help="digits per image in the data")
    parser.add_argument("--clip", action="store_true", help="clip predicted and ground-truth boxes to the image")
    parser.add_argument("--same", action="store_true", help="'same' padding in the first two convs, not 'valid'")
    parser.add_argument("--paper_anchors", action="store_true",
                        help="the paper's anchor layout, whose reshape mixes different anchors' coordinates "
                             "(a defect, kept to compare; see detection.anchors)")
    add_lr_policy_flags(parser, ("constant", "step", "valstep"))
    return parser.parse_args(argv)


def validate(args):
    """Rejects unknown archs and what the paper's training cannot do."""
    archs.lookup(args.arch, "train_detection.py")
    if args.minibatch != 1:
        raise CliError(f"-mb {args.minibatch}: the region proposal network trains on one image per step, "
                       "as the paper's")


def data_path(args) -> str:
    return args.data_h5 or str(field_of_mnist.dataset_path("data", args.num))


def dataset(images, boxes, seed=None) -> EpochBatches:
    """(image, its digits' boxes) one at a time, in an order drawn from (seed, epoch) when a seed is given."""
    return EpochBatches((images, boxes), 1, seed=seed)


def build(args, image_shape) -> detection.RegionProposals:
    network = model_builders.rpn_network(args.arch, archs.ARCHS[args.arch].coords, image_shape, args.same, args.l2,
                                         len(detection.ANCHOR_SHAPES))
    if args.load and not Path(args.load).is_dir():
        start_from_snapshot(network, args.load)
    model = detection.RegionProposals(network, image_shape[0], args.same, args.clip, args.paper_anchors,
                                       seed=args.seed)
    # many one-image steps per call into TensorFlow: the per-step Python overhead dominated otherwise
    model.compile(optimizer=optimizer_from_flags(args), steps_per_execution=STEPS_PER_CALL)
    model.optimizer.build(network.trainable_variables)  # a resume restores its slots
    return model


def draw_proposals(model, images, boxes, path: Path):
    """A 3x3 grid of val images: digits' boxes in magenta, proposals in green, line width by score."""
    figure, axes = plt.subplots(3, 3, figsize=(9, 9))
    for ax, image, digits in zip(axes.flat, images, boxes):
        kept, probability = (array.numpy() for array in model(image[None]))
        ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
        for box, colour, width in [(box, "m", 2.5) for box in digits] + \
                [(box, "lime", 0.5 + 3 * p) for box, p in zip(kept, probability)]:
            i, j, height, width_ = box
            ax.add_patch(plt.Rectangle((j - width_ / 2 - 0.5, i - height / 2 - 0.5), width_, height,
                                       edgecolor=colour, linewidth=width, facecolor="none"))
        ax.set_axis_off()
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


class EpochEvaluation(keras.callbacks.Callback):
    """Validation before training (initial_metrics.json), as the paper's extra pass, and the proposals' figure."""

    def __init__(self, out: Path, val, verbose: bool):
        super().__init__()
        self.out, self.val, self.verbose = out, val, verbose
        self.folder = out / "figures"

    def on_train_begin(self, logs=None):
        self.folder.mkdir(parents=True, exist_ok=True)
        if not (self.out / "initial_metrics.json").exists():  # a resumed run did this before
            figures = self.model.evaluate(dataset(*self.val), verbose=0, return_dict=True)
            write_json(self.out / "initial_metrics.json", {f"val_{k}": float(v) for k, v in figures.items()})
            self.draw(0)
            if self.verbose:
                print(f"epoch 0 (before training): val mean_argmax_nms_iou {figures['mean_argmax_nms_iou']:.3f}")

    def on_epoch_end(self, epoch, logs=None):
        self.draw(epoch + 1)

    def draw(self, epoch: int):
        draw_proposals(self.model, self.val[0][:SHOWN], self.val[1][:SHOWN],
                       self.folder / f"nms_val_boxes_epoch{epoch:03d}.png")


class SaveNetwork(keras.callbacks.Callback):
    """The network as a .keras file every `every` epochs."""

    def __init__(self, out: Path, stem: str, every: int):
        super().__init__()
        self.out, self.stem, self.every = out, stem, every

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self.model.network.save(self.out / f"{self.stem}_epoch{epoch + 1:03d}.keras")


def make_callbacks(args, out: Path, val) -> list:
    callbacks = [
        Backup(out),
        EpochEvaluation(out, val, not args.quiet),
        ElapsedTime(out / "history.csv", budget=args.time_budget),
        keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
        *tensorboard(out / "tensorboard", args),
    ]
    if args.snapshot_every > 0:
        callbacks.append(SaveNetwork(out, args.snapshot_to, args.snapshot_every))
    return callbacks + lr_policy_callbacks(args, out)


def write_results(args, model, out: Path, steps: int) -> dict:
    history = read_history(out / "history.csv")
    if args.snapshot_every != 0:
        model.network.save(out / f"{args.snapshot_to}_final.keras")
    last = history[-1] if history else {}
    metrics = run_metrics(args, out, history, data_path(args), model.network.count_params(), steps,
                          final={key: float(value) for key, value in last.items() if key.startswith("val_")})
    write_json(out / "metrics.json", metrics)
    return metrics


def summary_line(metrics: dict) -> str:
    final = metrics["final"]
    return (f"{after_epochs(metrics)}, val "
            f"mean_argmax_nms_iou {final['val_mean_argmax_nms_iou']:.3f} (before training "
            f"{metrics['initial']['val_mean_argmax_nms_iou']:.3f}), pos_box_iou_train "
            f"{final['val_pos_box_iou_train']:.3f}")


def main(argv=None):
    args = parse_args(argv)
    validate(args)
    data = datasets.load_detection(data_path(args), args.num)
    with started_run(args, data_path(args)) as out:
        train, val = data["train"], data["valid"]
        model = build(args, train[0].shape[1:])
        write_config(out, args, data_h5_used=data_path(args), params=model.network.count_params())
        log = console(args)
        log(f"{args.arch}: {model.network.count_params():,} params; {len(train[0])} train / {len(val[0])} val images "
            f"of {args.num} digits from {data_path(args)}; output in {out}")

        fit_in_order(model, dataset(*train, seed=args.seed), make_callbacks(args, out, val), epochs=args.epochs,
                     validation_data=dataset(*val), verbose=progress_verbosity(args))
        metrics = write_results(args, model, out, len(train[0]))
        log(summary_line(metrics))
        return metrics

