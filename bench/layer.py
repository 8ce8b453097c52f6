#!/usr/bin/env python3
"""Times CoordConv2D against plain Conv2D, forward and backward, and prints the ratios.

    python -m bench.layer [--repeats 30]

The limit a CoordConv can reach is a Conv2D whose input already holds the two
constant coordinate channels (C+2); a Conv2D on the bare C channels is shown
too. Runs are interleaved and the median ratio reported, so a noisy, shared
machine biases both sides alike.

Where PyTorch is installed (it is never a requirement), the last column times
the CoordConv formulation PyTorch users usually copy, coordinate channels
rebuilt on every call and then `nn.Conv2d`, against `nn.Conv2d` on the
pre-concatenated C+2 input, the same way.
"""

import argparse
import importlib.util
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from CoordConv import AddCoords, CoordConv2D  # noqa: E402
from bench.timing import median_seconds  # noqa: E402
from util import positive  # noqa: E402

TORCH = importlib.util.find_spec("torch") is not None
CASES = [(16, 32, 8), (16, 64, 16), (8, 128, 16), (2, 256, 8)]  # batch, spatial size, channels


def step_function(layer, inputs, compiled: bool):
    """Forward and backward through `layer`; a tf.function when `compiled`."""
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(inputs))
        return tape.gradient(loss, layer.trainable_weights)
    return maybe_compiled(step, compiled)


def maybe_compiled(fn, compiled: bool):
    return tf.function(fn, autograph=False) if compiled else fn


def torch_steps(batch, size, channels) -> dict:
    """Forward+backward of the usual PyTorch CoordConv and of its limit, nn.Conv2d over C+2."""
    import torch

    def add_coords(x):  # the per-call formulation of the common PyTorch ports
        b, _, h, w = x.shape
        ys = torch.arange(h, dtype=x.dtype).view(1, 1, h, 1).expand(b, 1, h, w) / (h - 1) * 2 - 1
        xs = torch.arange(w, dtype=x.dtype).view(1, 1, 1, w).expand(b, 1, h, w) / (w - 1) * 2 - 1
        return torch.cat([x, xs, ys], dim=1)

    x = torch.randn(batch, channels, size, size)
    x_with_coords = add_coords(x)
    coordconv, limit = (torch.nn.Conv2d(channels + 2, 32, 3, padding=1) for _ in range(2))

    def step(conv, make_input):
        def run():
            conv.zero_grad()
            conv(make_input()).sum().backward()
        return run
    return {"torch_coordconv": step(coordconv, lambda: add_coords(x)),
            "torch_conv_c_plus_2": step(limit, lambda: x_with_coords)}


def compare(batch, size, channels, compiled, repeats):
    x = tf.random.normal((batch, size, size, channels))
    x_with_coords = AddCoords()(x)
    coordconv = CoordConv2D(32, 3, padding="same")
    limit, bare = keras.layers.Conv2D(32, 3, padding="same"), keras.layers.Conv2D(32, 3, padding="same")
    add_coords, constant = AddCoords(), tf.constant(x_with_coords[..., channels:])
    steps = {
        "coordconv": step_function(coordconv, x, compiled),
        "conv_c_plus_2": step_function(limit, x_with_coords, compiled),
        "conv_c": step_function(bare, x, compiled),
        "add_coords": maybe_compiled(lambda: add_coords(x), compiled),
        "concat_constant": maybe_compiled(lambda: tf.concat([x, constant], -1), compiled),
    }
    if TORCH and not compiled:
        steps.update(torch_steps(batch, size, channels))
    return median_seconds(steps, repeats)


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.layer", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=positive(int), default=30)
    args = parser.parse_args()
    print(f"{'mode':<11} {'batch':>5} {'size':>5} {'C':>3}  {'coordconv ms':>12} {'conv C+2 ms':>11} "
          f"{'ratio':>6} {'vs conv C':>9}  {'addcoords/concat':>16}" + ("  torch ratio" if TORCH else ""))
    for compiled in (True, False):
        for batch, size, channels in CASES:
            t = compare(batch, size, channels, compiled, args.repeats)
            print(f"{'tf.function' if compiled else 'eager':<11} {batch:>5} {size:>5} {channels:>3}  "
                  f"{1e3 * t['coordconv']:>12.2f} {1e3 * t['conv_c_plus_2']:>11.2f} "
                  f"{t['coordconv'] / t['conv_c_plus_2']:>6.3f} {t['coordconv'] / t['conv_c']:>9.3f}  "
                  f"{t['add_coords'] / t['concat_constant']:>16.3f}" + torch_column(t))


def torch_column(times: dict) -> str:
    if "torch_coordconv" not in times:
        return ""
    return f"  {times['torch_coordconv'] / times['torch_conv_c_plus_2']:>11.3f}"


if __name__ == "__main__":
    main()
