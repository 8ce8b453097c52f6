#!/usr/bin/env python3
"""Times both data generators per 1,000 examples: rendering alone and the whole file write.

    python -m bench.data [--repeats 3]
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from data import not_so_clevr_generator, sort_of_clevr_generator

CLEVR_COUNT = 10_000


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def not_so_clevr_cases(folder: Path) -> dict:
    """(examples, function) pairs: both split files hold every one of the 3,136 squares."""
    centres = not_so_clevr_generator.square_centres()
    write_both = lambda: [not_so_clevr_generator.write_split(  # noqa: E731
        not_so_clevr_generator.dataset_path(folder, split), split, not_so_clevr_generator.SPLIT_SEED)
        for split in not_so_clevr_generator.SPLITS]
    return {"render": (len(centres), lambda: not_so_clevr_generator.render(centres)),
            "write both .h5": (2 * len(centres), write_both)}


def sort_of_clevr_cases(folder: Path) -> dict:
    objects = sort_of_clevr_generator.draw_objects(np.random.default_rng(0), CLEVR_COUNT)
    chunks = range(0, CLEVR_COUNT, sort_of_clevr_generator.CHUNK)  # as the generator renders
    render = lambda: [sort_of_clevr_generator.render(  # noqa: E731
        *(objects[key][start:start + sort_of_clevr_generator.CHUNK]
          for key in ("objects_centre", "objects_shape", "objects_colour"))) for start in chunks]
    write = lambda: sort_of_clevr_generator.write(  # noqa: E731
        sort_of_clevr_generator.dataset_path(folder, CLEVR_COUNT), CLEVR_COUNT, seed=0)
    return {"render": (CLEVR_COUNT, render), "write .h5": (CLEVR_COUNT, write)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'generator':<15} {'step':<15} {'examples':>8} {'ms / 1,000':>10}")
    with tempfile.TemporaryDirectory() as folder:
        for name, cases in (("not-so-clevr", not_so_clevr_cases(Path(folder))),
                            ("sort-of-clevr", sort_of_clevr_cases(Path(folder)))):
            for step, (examples, fn) in cases.items():
                seconds = median_seconds(fn, args.repeats)
                print(f"{name:<15} {step:<15} {examples:>8} {1e6 * seconds / examples:>10.1f}")


if __name__ == "__main__":
    main()
