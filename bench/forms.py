"""The CoordConv forms the benchmarks compare: the split layer as shipped, and the concatenation it replaced."""

import contextlib
from unittest import mock

import CoordConv
import model_builders


def concatenating(layer_class):
    """Builds `layer_class` layers in their concatenation form (AddCoords, then the plain convolution)."""
    return lambda *args, **kwargs: layer_class(*args, **kwargs).as_concatenation()


@contextlib.contextmanager
def concatenation_builders():
    """model_builders as before the split: every CoordConv layer concatenates its coordinates to the batch."""
    with mock.patch.multiple(model_builders, CoordConv=concatenating(CoordConv.CoordConv),
                             CoordConv2D=concatenating(CoordConv.CoordConv2D)):
        yield
