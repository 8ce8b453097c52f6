"""A number for mode collapse: the paper shows GAN samples, we count their objects.

Objects are found by colour (red and blue on Sort-of-Clevr, white on the
Not-so-Clevr gray images), split into 4-connected blobs (scipy.ndimage.label
over the whole batch at once, never across images), and blobs smaller than
MIN_AREA pixels are ignored as speckle. Two figures per set of images:
- `one_of_each`: the share of images with exactly one object of each colour;
- `centre_coverage`: of the 8x8 grid cells that hold an object centre in the
  data, the share that also hold one in the samples (1.0: no region missed).
"""

import numpy as np
from scipy import ndimage

GRID = 8
MIN_AREA = 20  # the smallest real object, a disc of radius 10 partly covered, has > 200 px


def colour_masks(images: np.ndarray) -> dict:
    """{colour: (N, H, W) bool} for images in [-1, 1], gray (C=1) or RGB (C=3)."""
    unit = (np.asarray(images, np.float32) + 1.0) / 2.0
    if unit.shape[-1] == 1:
        return {"white": unit[..., 0] > 0.5}
    bright = unit > 0.5
    red, green, blue = bright[..., 0], bright[..., 1], bright[..., 2]
    return {"red": red & ~green & ~blue, "blue": blue & ~red & ~green}


def blob_centres(mask: np.ndarray) -> list:
    """Per image, the [x, y] centres of its 4-connected blobs of at least MIN_AREA pixels."""
    within_image_only = np.zeros((3, 3, 3), bool)
    within_image_only[1] = ndimage.generate_binary_structure(2, 1)
    labels, count = ndimage.label(mask, structure=within_image_only)
    blobs = np.arange(1, count + 1)
    areas = ndimage.sum_labels(mask, labels, blobs)
    centres = ndimage.center_of_mass(mask, labels, blobs)  # (image, y, x): a blob lies in one image
    per_image = [[] for _ in range(len(mask))]
    for area, (image, y, x) in zip(areas, centres):
        if area >= MIN_AREA:
            per_image[round(image)].append((x, y))
    return per_image


def occupied_cells(centres_per_image: list, size: tuple) -> set:
    """The 8x8 grid cells (col, row) holding at least one centre."""
    height, width = size
    return {(int(x * GRID // width), int(y * GRID // height))
            for centres in centres_per_image for x, y in centres}


def objects_report(images: np.ndarray) -> dict:
    """Detected objects of a batch of images: the one-of-each share and occupied cells."""
    per_colour = {colour: blob_centres(mask) for colour, mask in colour_masks(images).items()}
    counts = np.array([[len(c) for c in centres] for centres in per_colour.values()])
    cells = set().union(*(occupied_cells(c, images.shape[1:3]) for c in per_colour.values()))
    return {"one_of_each": float(np.mean(np.all(counts == 1, axis=0))), "cells": cells}


def mode_collapse(samples: np.ndarray, data_report: dict) -> dict:
    """The two figures for generated samples, against the data's report."""
    report = objects_report(samples)
    data_cells = data_report["cells"]
    return {"one_of_each": report["one_of_each"],
            "centre_coverage": len(report["cells"] & data_cells) / max(len(data_cells), 1),
            "sample_cells": len(report["cells"]), "data_cells": len(data_cells)}
