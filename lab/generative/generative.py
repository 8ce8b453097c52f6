"""What the GAN and the VAE share: fixed latents, sample grids, latent walks and their figures per epoch.

lab/generative/gan_training.py and lab/generative/vae_training.py both show their images in [-1, 1] through a
model whose `__call__(z)` returns them, so one callback draws both.
"""

import contextlib
from pathlib import Path

import keras
import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import numpy as np

from lab import archs
from lab.generative import gan_metrics
from lab.runs import TensorBoardWriter, write_json

DEFAULT_DATA = {"simple": "data/rectangle_4_uniform.h5",
                "clevr": "data/sort_of_clevr/sort_of_clevr_2objs_10rad_50000imgs_64x.h5",
                "lsun": "data/lsun/bedroom_train_lmdb_64x.h5"}
IMAGE_SHAPES = {"simple": (64, 64, 1), "clevr": (64, 64, 3), "lsun": (64, 64, 3)}  # the default data's images
OBJECT_DATA = ("simple", "clevr")  # data of counted objects: the mode-collapse and walk figures apply (not LSUN)
GRID_SIDE = 10  # the sample grid is GRID_SIDE x GRID_SIDE images; a latent walk has GRID_SIDE steps
WALKS = 8  # latent walks between fixed pairs of latents, for the strips and the walk metric
FIGURES = ("one_of_each", "center_coverage", "count_distance", "position_distance", "walk_center_step",
           "walk_area_change", "walk_presence")


def data_file(args) -> str:
    """--data_h5, or the default file of the arch's data."""
    return args.data_h5 or DEFAULT_DATA[archs.ARCHS[args.arch].data]


def data_report(images: np.ndarray, count: int, seed: int, ink: float = gan_metrics.INK) -> dict:
    """gan_metrics' report of `count` of the uint8 images, drawn with `seed`: what samples are measured against."""
    chosen = np.random.default_rng(seed).permutation(len(images))[:count]
    return gan_metrics.objects_report(scaled(images[chosen]), ink=ink)


def scaled(images: np.ndarray) -> np.ndarray:
    """uint8 0..255 -> float32 in [-1, 1]: the range of the data, the GAN's tanh and the images shown."""
    return images.astype(np.float32) / 127.5 - 1.0


def figures_text(final: dict) -> str:
    """The epoch's mode-collapse and latent-walk figures, for a summary line (none for data without objects)."""
    if not final:
        return "no object figures (the data's images hold no objects to count)"
    return (f"samples: {final['one_of_each']:.1%} one object of each colour, center coverage "
            f"{final['center_coverage']:.1%}; walks: centers move {final['walk_center_step']:.1f} px per step, "
            f"areas change {final['walk_area_change']:.0%}")


def image_grid(images: np.ndarray, columns: int) -> np.ndarray:
    """Images in [-1, 1] -> one RGB grid in [0, 1] with 1-pixel black dividers."""
    images = np.clip((images + 1.0) / 2.0, 0.0, 1.0)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    rows = -(-len(images) // columns)
    count, height, width, _ = images.shape
    grid = np.zeros((rows * (height + 1) - 1, columns * (width + 1) - 1, 3), np.float32)
    for index in range(count):
        row, column = divmod(index, columns)
        grid[row * (height + 1):row * (height + 1) + height, column * (width + 1):column * (width + 1) + width] = \
            images[index]
    return grid


def interpolate(z_from: np.ndarray, z_to: np.ndarray, steps: int = GRID_SIDE) -> np.ndarray:
    """`steps` latents evenly spaced from `z_from` to `z_to`, both ends included."""
    return np.stack([z_from + (z_to - z_from) * t for t in np.linspace(0.0, 1.0, steps)]).astype(np.float32)


def stretched(image: np.ndarray) -> np.ndarray:
    """Min-max stretched to [-1, 1], as the paper shows the mean of its samples."""
    low, high = image.min(), image.max()
    return (image - low) / (high - low) * 2.0 - 1.0 if high > low else np.zeros_like(image)


@contextlib.contextmanager
def statistics_kept(*networks):
    """Moving BatchNorm statistics as they were on entry, for passes that must not move them."""
    variables = [v for network in networks for v in network.non_trainable_variables]
    saved = [keras.ops.copy(v.value) for v in variables]
    yield
    for variable, value in zip(variables, saved):
        variable.assign(value)


class EpochSamples(keras.callbacks.Callback):
    """Before training and after every epoch: PNGs and TensorBoard images of samples, and the mode-collapse figures.

    The latents of the grid and of the metric's samples are fixed (from the
    caller's seed), so epochs and runs compare image by image; `walk_latents`
    gives the WALKS x GRID_SIDE latents of the interpolation strips. The
    figures before training go to initial_metrics.json; with no `data_report`
    (LSUN: no objects to count) only the images are written.
    """

    def __init__(self, out: Path, grid_z: np.ndarray, metric_z: np.ndarray, data_report: dict):
        super().__init__()
        self.out, self.folder = out, out / "fake_images"
        self.log_dir = out / "tensorboard" / "images"
        self.grid_z, self.metric_z, self.data_report = grid_z, metric_z, data_report

    def walk_latents(self) -> np.ndarray:
        raise NotImplementedError

    def extra_images(self) -> dict:
        """{kind: image grid} a subclass adds to the epoch's PNGs."""
        return {}

    def on_train_begin(self, logs=None):
        self.folder.mkdir(parents=True, exist_ok=True)
        self.summaries = TensorBoardWriter(self.log_dir)
        if not (self.out / "initial_metrics.json").exists():  # a resumed run did this before
            write_json(self.out / "initial_metrics.json", self.record(0))

    def on_epoch_end(self, epoch, logs=None):
        logs.update(self.record(epoch + 1))

    def record(self, epoch: int) -> dict:
        """Writes the epoch's images; returns its mode-collapse and latent-walk figures."""
        samples, walks = self.generate(self.metric_z), self.generate(self.walk_latents())
        images = {"samples_bn0": image_grid(self.generate(self.grid_z), GRID_SIDE),
                  "samples_bn1": image_grid(self.generate(self.grid_z, batch_statistics=True), GRID_SIDE),
                  "interpolation": image_grid(walks, GRID_SIDE),
                  "averaged": image_grid(stretched(samples.mean(axis=0, keepdims=True)), 1),
                  **self.extra_images()}
        for kind, image in images.items():
            plt.imsave(self.folder / f"{kind}_epoch{epoch:03d}.png", image)
        for kind in ("samples_bn0", "interpolation"):
            self.summaries.images(kind, images[kind][None], epoch)
        if self.data_report is None:
            return {}
        figures = {**gan_metrics.mode_collapse(samples, self.data_report),
                   **gan_metrics.latent_walk(walks.reshape(WALKS, GRID_SIDE, *walks.shape[1:]),
                                             self.data_report["area_range"], self.data_report["ink"])}
        return {key: figures[key] for key in FIGURES}

    def generate(self, z, batch_statistics=False):
        """Images shown for `z`; BatchNorm in inference mode, or normalising by the batch (statistics kept)."""
        if not batch_statistics:
            return self.model.predict(z, batch_size=100, verbose=0)
        with statistics_kept(*self.model.networks.values()):
            return keras.ops.convert_to_numpy(self.model(z, training=True))


class SaveNetworks(keras.callbacks.Callback):
    """Saves each of the model's `networks` as a .keras file every `every` epochs."""

    def __init__(self, out: Path, stem: str, every: int):
        super().__init__()
        self.out, self.stem, self.every = out, stem, every

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            save_networks(self.model, self.out, f"{self.stem}_{{}}_epoch{epoch + 1:03d}.keras")


def save_networks(model, out: Path, pattern: str):
    """`pattern` with {} the network's name, e.g. net_{}_final.keras."""
    for name, network in model.networks.items():
        network.save(out / pattern.format(name))


def final_figures(history: list) -> dict:
    return {key: float(history[-1][key]) for key in FIGURES if key in history[-1]} if history else None
