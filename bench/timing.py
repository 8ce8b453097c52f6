"""The one timing loop of the benchmark scripts."""

import time

import numpy as np


def median_seconds(steps: dict, repeats: int) -> dict:
    """Runs every step once to warm up, then all of them in turn `repeats` times; the median seconds of each.

    Interleaving lets a noisy, shared machine slow every step alike.
    """
    times = {name: [] for name in steps}
    for step in steps.values():
        step()
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}
