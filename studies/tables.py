"""The one form every study's table gives a figure over seeds in, so the spread reads alike across tables."""

import math
import statistics


def median_range(values, decimals: int) -> str:
    """'median (min–max)' of the finite values (a seed without the figure is left out), or 'n/a'."""
    finite = [value for value in values if math.isfinite(value)]
    if not finite:
        return "n/a"
    return f"{statistics.median(finite):.{decimals}f} ({min(finite):.{decimals}f}–{max(finite):.{decimals}f})"
