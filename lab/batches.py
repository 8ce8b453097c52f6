"""Minibatches whose order is a function of (seed, epoch) alone, on every Keras backend.

A run killed in epoch k and resumed from its backup must see the batches an
unbroken run would: an input pipeline that carries its shuffle state from
epoch to epoch (tf.data's `reshuffle_each_iteration`) restarts that state on
resume. Here epoch e's order is the permutation drawn from (seed, e), set by
the `EpochOrder` callback before the epoch's first batch is read; `fit_in_order`
is model.fit with it. Batches are
NumPy arrays served by `keras.utils.PyDataset`, which feeds fit() on
TensorFlow, JAX and PyTorch alike.
"""

import math

import keras
import numpy as np


def epoch_permutation(size: int, seed: int, epoch: int) -> np.ndarray:
    """The order of epoch `epoch` of a run seeded `seed`: the same in a resumed run as in an unbroken one."""
    return np.random.default_rng([seed, epoch]).permutation(size)


class EpochBatches(keras.utils.PyDataset):
    """Batches of `arrays` (an array, or a tuple or dict of arrays of one length), in an epoch-seeded order.

    Args:
        arrays: what is batched; a tuple (inputs, targets) is fit()'s (x, y).
        batch_size: examples per batch.
        seed: None keeps the arrays' order; else epoch e is `epoch_permutation(n, seed, e)`.
        drop_remainder: drop the last partial batch (the paper's GAN does).
        transform: applied to each batch's structure (e.g. uint8 images to [-1, 1]).
    """

    def __init__(self, arrays, batch_size: int, seed=None, drop_remainder=False, transform=None):
        super().__init__()
        self.arrays, self.batch_size, self.seed = arrays, batch_size, seed
        self.transform = transform or (lambda batch: batch)
        self.size = len(keras.tree.flatten(arrays)[0])
        self.batches = self.size // batch_size if drop_remainder else math.ceil(self.size / batch_size)
        self.set_epoch(0)

    def set_epoch(self, epoch: int):
        self.order = np.arange(self.size) if self.seed is None else epoch_permutation(self.size, self.seed, epoch)

    def __len__(self) -> int:
        return self.batches

    def __getitem__(self, index: int):
        indices = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        return self.transform(keras.tree.map_structure(lambda array: array[indices], self.arrays))


class SeededNoise(keras.utils.PyDataset):
    """Uniform noise in [-1, 1] whose i-th batch is drawn from (seed, i): the same in every epoch
    (the GAN's --pairedz)."""

    def __init__(self, batches: int, shape: tuple, seed: int):
        super().__init__()
        self.batches, self.shape, self.seed = batches, shape, seed

    def set_epoch(self, epoch: int):
        """The noise does not depend on the epoch."""

    def __len__(self) -> int:
        return self.batches

    def __getitem__(self, index: int) -> np.ndarray:
        return np.random.default_rng([self.seed, index]).uniform(-1.0, 1.0, self.shape).astype(np.float32)


class ZippedBatches(keras.utils.PyDataset):
    """Several batch sources read step for step as one dict of batches (fit()'s x), as far as the shortest."""

    def __init__(self, parts: dict):
        super().__init__()
        self.parts = parts

    def set_epoch(self, epoch: int):
        for part in self.parts.values():
            part.set_epoch(epoch)

    def __len__(self) -> int:
        return min(len(part) for part in self.parts.values())

    def __getitem__(self, index: int) -> dict:
        return {name: part[index] for name, part in self.parts.items()}


def fit_in_order(model, batches, callbacks: list, **fit_kwargs):
    """model.fit over `batches` (EpochBatches or ZippedBatches) in their own epoch order.

    EpochOrder sets each epoch's order before it begins; shuffle=False, since
    Keras would otherwise shuffle a PyDataset's batch indices with its own state.
    """
    return model.fit(batches, callbacks=[EpochOrder(batches), *callbacks], shuffle=False, **fit_kwargs)


class EpochOrder(keras.callbacks.Callback):
    """Tells the training batches which epoch begins; fit() reads an epoch's first batch only after this."""

    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.set_epoch(epoch)
