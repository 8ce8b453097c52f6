"""--redraw_dead: a coordconv_regressor initialisation whose max-pooled output is dead is replaced by a new draw.

An output whose map peaks on one pixel for nearly every image passes no
gradient to the one-hot (docs/seed_study.md, Regressor). After each checked
epoch DeadOutputCheck looks; on a dead output the trainer records the draw in
redrawn.json, clears what it wrote and starts the next draw, seeded apart.
"""

import json
import shutil
from pathlib import Path

import keras
import numpy as np

from lab.runs import write_json


def initialisation_seed(seed: int, draw: int) -> int:
    """--redraw_dead's k-th new draw for --seed S is seeded S + 1,000,000 k (draw 0 is S itself)."""
    return seed + 1_000_000 * draw


DEAD_CHECK_IMAGES = 512  # the first train images, enough to tell one pixel from many
DEAD_SHARE = 0.95  # an output whose peak sits on one pixel for this share of train images passes no one-hot gradient


def pooled_peaks(model, images) -> np.ndarray:
    """(images, outputs): the flat pixel index where each output's map peaks before the global max pool."""
    before_pool = keras.Model(model.input, model.layers[-2].output)
    # called eagerly: a predict() per check would trace a new function each time, and TensorFlow warns of it
    maps = np.concatenate([keras.ops.convert_to_numpy(before_pool(images[start:start + 256], training=False))
                           for start in range(0, len(images), 256)])
    return maps.reshape(len(images), -1, maps.shape[-1]).argmax(axis=1)


def dead_outputs(model, images) -> list:
    """The outputs whose map peaks on the same pixel for DEAD_SHARE of `images`.

    The max pool passes gradient only to the peak, so such an output learns a
    constant (the mean target) and stays there: the regressor's stuck seeds.
    """
    peaks = pooled_peaks(model, images)
    return [output for output in range(peaks.shape[1])
            if np.unique(peaks[:, output], return_counts=True)[1].max() >= DEAD_SHARE * len(images)]


class DeadOutputError(Exception):
    """Raised after a checked epoch (epochs_checked) when an output is dead (--redraw_dead): the draw is replaced."""

    def __init__(self, outputs: list, epoch: int):
        super().__init__(f"dead outputs {outputs} after epoch {epoch}")
        self.outputs, self.epoch = outputs, epoch


class DeadOutputCheck(keras.callbacks.Callback):
    """--redraw_dead: raises DeadOutputError at the end of the checked epochs, before the backup saves them."""

    def __init__(self, images, epochs_checked: int):
        super().__init__()
        self.images, self.epochs_checked = images, epochs_checked

    def on_epoch_end(self, epoch, logs=None):
        if epoch < self.epochs_checked and (dead := dead_outputs(self.model, self.images)):
            raise DeadOutputError(dead, epoch + 1)


def epochs_checked(args) -> int:
    """The first epoch and the rest of the warm-up, while the rising LR can still kill an output.

    Never the last: a check there would leave no epoch to save (a one-epoch run is not checked).
    """
    return min(max(1, args.warmup), args.epochs - 1)

def checks(args, train_images) -> list:
    """The callback that looks for a dead output after each checked epoch."""
    return [DeadOutputCheck(train_images[:DEAD_CHECK_IMAGES], epochs_checked(args))]


def record(out: Path, args, redrawn: list, dead: DeadOutputError, seconds: float):
    """Adds the rejected draw to `redrawn` and redrawn.json, then clears what it wrote."""
    redrawn.append({"initialisation_seed": initialisation_seed(args.seed, len(redrawn)),
                    "dead_outputs": dead.outputs, "epoch": dead.epoch, "seconds": seconds})
    write_json(out / REDRAWN, {"redrawn": redrawn})  # first, so a resume builds the next draw
    clear_draw(out, args)


def clear_draw(out: Path, args):
    """Removes what a rejected draw wrote, its backup first, so the next draw starts afresh."""
    written = [out / "backup", out / "history.csv", out / "valstep.json", out / "tensorboard",
               *out.glob("evaluation_*"), *out.glob(f"{args.snapshot_to}_epoch*.keras")]
    for path in written:
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)


REDRAWN = "redrawn.json"  # --redraw_dead: the initialisations given up on, so a resume builds the next one


def read_redrawn(out: Path) -> list:
    path = out / REDRAWN
    return json.loads(path.read_text())["redrawn"] if path.exists() else []
