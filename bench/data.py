#!/usr/bin/env python3
"""Times both data generators per 1,000 examples: rendering alone and the whole file write.

    python -m bench.data [--repeats 3]
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np

from bench.timing import median_seconds
from lab.supervised import not_so_clevr
from lab.generative import sort_of_clevr
from lab.util import positive

CLEVR_COUNT = 10_000


def not_so_clevr_cases(folder: Path) -> dict:
    """{(generator, step): (examples, function)}: both split files hold every one of the 3,136 squares."""
    centers = not_so_clevr.square_centers()
    write_both = lambda: [not_so_clevr.write_split(  # noqa: E731
        not_so_clevr.dataset_path(folder, split), split, not_so_clevr.SPLIT_SEED)
        for split in not_so_clevr.SPLITS]
    return {("not-so-clevr", "render"): (len(centers), lambda: not_so_clevr.render(centers)),
            ("not-so-clevr", "write both .h5"): (2 * len(centers), write_both)}


def sort_of_clevr_cases(folder: Path) -> dict:
    objects = sort_of_clevr.draw_objects(np.random.default_rng(0), CLEVR_COUNT)
    chunks = range(0, CLEVR_COUNT, sort_of_clevr.CHUNK)  # as the generator renders
    render = lambda: [sort_of_clevr.render(  # noqa: E731
        *(objects[key][start:start + sort_of_clevr.CHUNK]
          for key in ("objects_center", "objects_shape", "objects_colour"))) for start in chunks]
    write = lambda: sort_of_clevr.write(  # noqa: E731
        sort_of_clevr.dataset_path(folder, CLEVR_COUNT), CLEVR_COUNT, seed=0)
    return {("sort-of-clevr", "render"): (CLEVR_COUNT, render), ("sort-of-clevr", "write .h5"): (CLEVR_COUNT, write)}


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.data", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=positive(int), default=3)
    args = parser.parse_args()
    print(f"{'generator':<15} {'step':<15} {'examples':>8} {'ms / 1,000':>10}")
    with tempfile.TemporaryDirectory() as folder:
        cases = {**not_so_clevr_cases(Path(folder)), **sort_of_clevr_cases(Path(folder))}
        seconds = median_seconds({key: fn for key, (_, fn) in cases.items()}, args.repeats)
    for (name, step), (examples, _) in cases.items():
        print(f"{name:<15} {step:<15} {examples:>8} {1e6 * seconds[name, step] / examples:>10.1f}")


if __name__ == "__main__":
    main()
