"""What each `--arch` learns: its input, target, loss and metrics.

The three task families of the paper's §4:
- classification: coordinates -> one-hot image, metrics on the argmax pixel;
- rendering: coordinates (or a one-hot image) -> the square, IoU at 0.5;
- regression: one-hot image -> normalised coordinates, error in pixels.
"""

import dataclasses

import keras
from keras import ops

from lab.util import CliError

_PACKAGE = "coordconv_tasks"


def _flat(x):
    return ops.reshape(x, (ops.shape(x)[0], -1))


def _argmax_rows_cols(images):
    """(row, col) of each image's largest pixel, as floats."""
    flat_index = ops.argmax(_flat(images), axis=-1)
    width = ops.shape(images)[2]
    return ops.cast(flat_index // width, "float32"), ops.cast(flat_index % width, "float32")


@keras.saving.register_keras_serializable(package=_PACKAGE)
def softmax_xe(y_true, y_pred):
    """Cross-entropy of a softmax over all pixels: the paper's classification loss."""
    return keras.losses.categorical_crossentropy(_flat(y_true), _flat(y_pred), from_logits=True)


@keras.saving.register_keras_serializable(package=_PACKAGE)
def sigmoid_xe(y_true, y_pred):
    """Per-pixel sigmoid cross-entropy, averaged over pixels."""
    return keras.losses.binary_crossentropy(_flat(y_true), _flat(y_pred), from_logits=True)


@keras.saving.register_keras_serializable(package=_PACKAGE)
def logits_mse(y_true, y_pred):
    """Mean squared error on the raw logits, as the paper's -mse."""
    return ops.mean(ops.square(_flat(y_pred) - _flat(y_true)), axis=-1)


@keras.saving.register_keras_serializable(package=_PACKAGE)
def pixel_accuracy(y_true, y_pred):
    return ops.cast(ops.argmax(_flat(y_true), -1) == ops.argmax(_flat(y_pred), -1), "float32")


@keras.saving.register_keras_serializable(package=_PACKAGE)
def argmax_euclidean_distance(y_true, y_pred):
    """Pixels between the predicted and the true argmax."""
    (true_r, true_c), (pred_r, pred_c) = _argmax_rows_cols(y_true), _argmax_rows_cols(y_pred)
    return ops.sqrt(ops.square(true_r - pred_r) + ops.square(true_c - pred_c))


@keras.saving.register_keras_serializable(package=_PACKAGE)
def argmax_manhattan_distance(y_true, y_pred):
    (true_r, true_c), (pred_r, pred_c) = _argmax_rows_cols(y_true), _argmax_rows_cols(y_pred)
    return ops.abs(true_r - pred_r) + ops.abs(true_c - pred_c)


def _painted(y_pred):
    return ops.cast(ops.sigmoid(_flat(y_pred)) > 0.5, "float32")


def _intersection(y_true, y_pred):
    return ops.sum(_painted(y_pred) * ops.cast(_flat(y_true) > 0.5, "float32"), axis=-1)


@keras.saving.register_keras_serializable(package=_PACKAGE)
def iou(y_true, y_pred):
    """Intersection over union of the pixels painted (sigmoid > 0.5) and the target."""
    union = ops.sum(ops.maximum(_painted(y_pred), ops.cast(_flat(y_true) > 0.5, "float32")), axis=-1)
    return _intersection(y_true, y_pred) / ops.maximum(union, 1.0)


@keras.saving.register_keras_serializable(package=_PACKAGE)
def painted_pixels(y_true, y_pred):
    return ops.sum(_painted(y_pred), axis=-1)


@keras.saving.register_keras_serializable(package=_PACKAGE)
def intersection_pixels(y_true, y_pred):
    """Painted pixels that are also target pixels."""
    return _intersection(y_true, y_pred)


@keras.saving.register_keras_serializable(package=_PACKAGE)
def coordinate_distance_px(y_true, y_pred, image_size=64):
    """Euclidean error in pixels of coordinates normalised by the image's side (the generator's ÷64)."""
    return ops.sqrt(ops.sum(ops.square(float(image_size) * (y_pred - y_true)), axis=-1))


def _metric(fn, name, **fn_kwargs):
    return keras.metrics.MeanMetricWrapper(fn, name=name, **fn_kwargs)


@dataclasses.dataclass(frozen=True)
class Task:
    """One task family: data keys, losses and the metric that ranks runs."""

    name: str
    input_key: str
    target_key: str
    losses: dict  # -mse / -sig / default -> loss
    default_loss: str
    metrics: tuple  # (function, name)
    best_metric: str  # in Keras' history, without the val_ prefix
    best_mode: str  # "max" or "min"

    def metric_key(self, logs: dict, prefix: str = "") -> str:
        """The main metric's key in Keras logs: `iou`, or `image_iou` for two-output models."""
        for key in (f"{prefix}{self.best_metric}", f"{prefix}image_{self.best_metric}"):
            if key in logs:
                return key
        raise KeyError(f"no {prefix}{self.best_metric} in {sorted(logs)}")

    def make_metrics(self, image_size: int):
        """The task's Keras metrics; those that turn normalised coordinates into pixels get the image's side."""
        return [_metric(fn, name, **({"image_size": image_size} if fn is coordinate_distance_px else {}))
                for fn, name in self.metrics]


# The paper's models log every loss term beside the one they train on, and
# IoU and pixel counts on every image they paint; so do we, under its names.
ARGMAX_METRICS = ((pixel_accuracy, "accuracy"), (argmax_euclidean_distance, "eucl_dist"),
                  (argmax_manhattan_distance, "manh_dist"))
PAINT_METRICS = ((iou, "iou"), (painted_pixels, "painted_pixs"), (intersection_pixels, "intersect_pixs"))
ALL_LOSSES = {"softmax": softmax_xe, "mse": logits_mse, "sigmoid": sigmoid_xe}
LOSS_METRICS = ((softmax_xe, "xe_loss"), (logits_mse, "mse_loss"), (sigmoid_xe, "sigm_loss"))

CLASSIFICATION = Task(
    "classification", "locations", "onehots", ALL_LOSSES, "softmax",
    ARGMAX_METRICS + LOSS_METRICS + PAINT_METRICS, "accuracy", "max")
RENDERING = Task(
    "rendering", "locations", "imagegray",
    {"mse": logits_mse, "sigmoid": sigmoid_xe}, "sigmoid",
    PAINT_METRICS + LOSS_METRICS[1:], "iou", "max")
# deconv_rendering is the paper's DeconvPainter fed the square: all its
# losses, softmax by default, and its argmax metrics.
DECONV_RENDERING = dataclasses.replace(RENDERING, losses=ALL_LOSSES, default_loss="softmax",
                                       metrics=CLASSIFICATION.metrics)
IMAGE_RENDERING = dataclasses.replace(RENDERING, name="image_rendering", input_key="onehots")
# The center map of coordconv_rendering and deconv_bottleneck, always scored
# against the one-hot, trained on only with -interm.
CENTER_MAP_METRICS = ARGMAX_METRICS + ((softmax_xe, "interm_softmax_loss"), (logits_mse, "interm_mse_loss"))
REGRESSION = Task(
    "regression", "onehots", "normalized_locations",
    {"mse": keras.losses.mean_squared_error}, "mse",
    ((coordinate_distance_px, "eucl_dist"),),
    "eucl_dist", "min")

INTERM_LOSSES = {"softmax": softmax_xe, "mse": logits_mse}


def make_center_map_metrics():
    return [_metric(fn, name) for fn, name in CENTER_MAP_METRICS]


def loss_name(task: Task, use_mse: bool, use_sigmoid: bool) -> str:
    """The loss the flags ask for.

    Without a flag the paper's code crashed for the rendering models other
    than deconv_rendering (its issue #7); they get sigmoid.
    """
    if use_mse and use_sigmoid:
        raise CliError("-mse and -sig ask for two different losses: pass at most one")
    wanted = "mse" if use_mse else "sigmoid" if use_sigmoid else task.default_loss
    if wanted not in task.losses:
        raise CliError(f"the {task.name} task has no {wanted} loss; choose from {sorted(task.losses)}")
    return wanted


TASK_OF = {  # what each of train.py's archs (lab/archs.SUPERVISED) learns
    "deconv_classification": CLASSIFICATION, "coordconv_classification": CLASSIFICATION,
    "upsample_conv_coords": CLASSIFICATION, "upsample_coordconv_coords": CLASSIFICATION,
    "deconv_rendering": DECONV_RENDERING, "coordconv_rendering": RENDERING,
    "deconv_bottleneck": RENDERING, "conv_onehot_image": IMAGE_RENDERING,
    "conv_regressor": REGRESSION, "coordconv_regressor": REGRESSION,
}
