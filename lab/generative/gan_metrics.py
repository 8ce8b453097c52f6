"""A number for mode collapse: the paper shows GAN samples, we count their objects.

Objects are found by colour (red and blue on Sort-of-Clevr, white on the
Not-so-Clevr gray images), split into 4-connected blobs (scipy.ndimage.label
over the whole batch at once, never across images); blobs smaller than
MIN_AREA pixels are ignored as speckle, and a blob counts as an object only if
its area is one the data's objects have (within 50%). Four figures:
- `one_of_each`: the share of images with exactly one blob of each colour, and
  that blob object-sized;
- `center_coverage`: of the 8x8 grid cells that hold an object center in the
  data, the share that also hold one in the samples (1.0: no region missed);
- `count_distance`: the total variation distance between the samples' and the
  data's distributions of objects per image and colour (0: the same mix of
  counts and colours; 1: none in common);
- `position_distance`: the same between their distributions of object centres
  over the 8x8 cells (0: objects where the data has them, as often).
And one for the paper's latent-walk claim, `latent_walk`: along interpolations
between fixed z, how far objects move per step against how much their area
changes.
"""

import numpy as np
from scipy import ndimage

GRID = 8
COUNT_CAP = 3  # objects of a colour per image are counted up to "3 or more"
MIN_AREA = 20  # real objects have 81 (Not-so-Clevr) or over 250 (Sort-of-Clevr) pixels
INK = 0.5  # a channel is on above this share of its range; a VAE's blurrier Bernoulli means use less


def colour_masks(images: np.ndarray, ink: float = INK) -> dict:
    """{colour: (N, H, W) bool} for images in [-1, 1], gray (C=1) or RGB (C=3); a channel is on above `ink`."""
    unit = (np.asarray(images, np.float32) + 1.0) / 2.0
    if unit.shape[-1] == 1:
        return {"white": unit[..., 0] > ink}
    bright = unit > ink
    red, green, blue = bright[..., 0], bright[..., 1], bright[..., 2]
    return {"red": red & ~green & ~blue, "blue": blue & ~red & ~green}


def find_blobs(mask: np.ndarray) -> list:
    """Per image, (x, y, area) of its 4-connected blobs of at least MIN_AREA pixels."""
    within_image_only = np.zeros((3, 3, 3), bool)
    within_image_only[1] = ndimage.generate_binary_structure(2, 1)
    labels, count = ndimage.label(mask, structure=within_image_only)
    blobs = np.arange(1, count + 1)
    areas = ndimage.sum_labels(mask, labels, blobs)
    centers = ndimage.center_of_mass(mask, labels, blobs)  # (image, y, x): a blob lies in one image
    per_image = [[] for _ in range(len(mask))]
    for area, (image, y, x) in zip(areas, centers):
        if area >= MIN_AREA:
            per_image[round(image)].append((x, y, area))
    return per_image


def occupied_cell(x: float, y: float, size: tuple) -> tuple:
    """The 8x8 grid cell (col, row) of a center."""
    height, width = size
    return int(x * GRID // width), int(y * GRID // height)


def objects_report(images: np.ndarray, area_range=None, ink: float = INK) -> dict:
    """The one-of-each share and the occupied cells of a batch of images.

    An object is a blob whose area lies in `area_range`; for the data itself,
    the range is set to half its smallest to 1.5 times its largest blob, so a
    smear of colour across the image does not pass for an object.
    """
    blobs = {colour: find_blobs(mask) for colour, mask in colour_masks(images, ink).items()}
    if area_range is None:
        areas = [area for per_image in blobs.values() for found in per_image for *_, area in found] or [0]
        area_range = (0.5 * min(areas), 1.5 * max(areas))
    low, high = area_range
    one_object = np.ones(len(images), bool)
    cells, counts, positions = set(), np.zeros((len(images), len(blobs)), int), np.zeros((GRID, GRID))
    for colour, per_image in enumerate(blobs.values()):
        for index, found in enumerate(per_image):
            objects = [(x, y) for x, y, area in found if low <= area <= high]
            one_object[index] &= len(found) == 1 and len(objects) == 1
            counts[index, colour] = min(len(objects), COUNT_CAP)
            for x, y in objects:
                column, row = occupied_cell(x, y, images.shape[1:3])
                cells.add((column, row))
                positions[row, column] += 1
    return {"one_of_each": float(one_object.mean()), "cells": cells, "area_range": area_range, "ink": ink,
            "counts": shares(map(tuple, counts)), "positions": positions / max(positions.sum(), 1)}


def shares(outcomes) -> dict:
    """{outcome: its share} of a sequence of outcomes."""
    values, frequency = np.unique(np.array(list(outcomes)), axis=0, return_counts=True)
    return {tuple(int(v) for v in np.atleast_1d(value)): count / frequency.sum() for value, count in
            zip(values, frequency)}


def total_variation(ours: dict, theirs: dict) -> float:
    """Half the L1 distance between two distributions given as {outcome: share}."""
    return 0.5 * sum(abs(ours.get(key, 0.0) - theirs.get(key, 0.0)) for key in set(ours) | set(theirs))


def mode_collapse(samples: np.ndarray, data_report: dict) -> dict:
    """The two figures for generated samples, against the data's report."""
    report = objects_report(samples, data_report["area_range"], data_report["ink"])
    data_cells = data_report["cells"]
    sample_positions, data_positions = report["positions"], data_report["positions"]
    return {"one_of_each": report["one_of_each"],
            "center_coverage": len(report["cells"] & data_cells) / max(len(data_cells), 1),
            "count_distance": total_variation(report["counts"], data_report["counts"]),
            "position_distance": 0.5 * float(np.abs(sample_positions - data_positions).sum())
            if sample_positions.any() else 1.0,
            "sample_cells": len(report["cells"]), "data_cells": len(data_cells)}


def largest_object(found: list, area_range: tuple):
    """(x, y, area) of the largest blob whose area is an object's, or None."""
    low, high = area_range
    objects = [blob for blob in found if low <= blob[2] <= high]
    return max(objects, key=lambda blob: blob[2]) if objects else None


def latent_walk(walks: np.ndarray, area_range: tuple, ink: float = INK) -> dict:
    """How objects change along latent interpolations: moving (the paper's CoordConv claim) or fading.

    `walks` is (walks, steps, H, W, C), images in [-1, 1] along straight lines
    between fixed z. Per colour, the largest blob of each image whose area is
    in `area_range` (the data's, as `objects_report` finds it) is the object.
    Between consecutive steps where it is present, `walk_center_step` is the
    median distance its center moves (pixels); `walk_area_change` is the mean
    of |area change| / larger area over consecutive steps where it is seen at
    least once, 1 where it appears or vanishes (fading in and out scores high,
    sliding low);
    `walk_presence` is the share of images holding every colour's object.
    """
    count, steps = walks.shape[:2]
    flat = walks.reshape(count * steps, *walks.shape[2:])
    moves, area_changes, present = [], [], np.ones(count * steps, bool)
    for mask in colour_masks(flat, ink).values():
        objects = [largest_object(found, area_range) for found in find_blobs(mask)]
        present &= np.array([o is not None for o in objects])
        for walk in range(count):
            path = objects[walk * steps:(walk + 1) * steps]
            for before, after in zip(path, path[1:]):
                if before is None and after is None:
                    continue
                if before is None or after is None:
                    area_changes.append(1.0)
                    continue
                moves.append(np.hypot(after[0] - before[0], after[1] - before[1]))
                area_changes.append(abs(after[2] - before[2]) / max(after[2], before[2]))
    return {"walk_center_step": float(np.median(moves)) if moves else float("nan"),
            "walk_area_change": float(np.mean(area_changes)) if area_changes else float("nan"),
            "walk_presence": float(present.mean())}
