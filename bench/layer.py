#!/usr/bin/env python3
"""Times CoordConv2D against plain Conv2D, forward and backward, and prints the ratios.

    python -m bench.layer [--repeats 30]
    KERAS_BACKEND=jax python -m bench.layer     # on JAX (the GPU machine's backend)

Three forms of the same function: the split CoordConv2D (the coordinates'
share computed once per call and added as a per-position bias), the
concatenation every other CoordConv uses (AddCoords, then a Conv2D over C+2
channels: `CoordConv2D.as_concatenation()`), and, as the floor, a Conv2D over
the bare C channels. Compiled means tf.function on TensorFlow, jax.jit on JAX.
Runs are interleaved and the median ratio reported, so a noisy, shared machine
biases every form alike.

Where PyTorch is installed (it is never a requirement), the last column times
the CoordConv formulation PyTorch users usually copy, coordinate channels
rebuilt on every call and then `nn.Conv2d`, against `nn.Conv2d` on the bare
C channels, the same way.
"""

import argparse
import importlib.util

from lab import backends  # Keras on its backend, quiet: before keras loads

import keras
import numpy as np

from CoordConv import CoordConv2D
from bench.timing import median_seconds
from lab.util import positive

COMPILED = {"tensorflow": "tf.function", "jax": "jax.jit"}
TORCH = importlib.util.find_spec("torch") is not None
CASES = [(16, 32, 8), (16, 64, 16), (8, 128, 16), (2, 256, 8)]  # batch, spatial size, channels
FILTERS = 32


def step_function(layer, inputs, compiled: bool):
    """Forward and backward through `layer`, gradients for its weights and its input, compiled or eager."""
    return (jax_step if backends.NAME == "jax" else tensorflow_step)(layer, inputs, compiled)


def tensorflow_step(layer, inputs, compiled):
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # one tf.function per form and shape is the point, not a retracing bug
    inputs = tf.constant(inputs)

    def step():
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = tf.reduce_sum(layer(inputs))
        return tape.gradient(loss, [inputs, *layer.trainable_weights])
    return tf.function(step, autograph=False) if compiled else step


def jax_step(layer, inputs, compiled):
    """jax.grad through the layer's stateless_call; each step waits for the device (JAX dispatches asynchronously)."""
    import jax

    def loss(x, weights):
        outputs, _ = layer.stateless_call(weights, [v.value for v in layer.non_trainable_variables], x)
        return keras.ops.sum(outputs)

    gradients = jax.grad(loss, argnums=(0, 1))
    gradients = jax.jit(gradients) if compiled else gradients
    inputs, weights = jax.numpy.asarray(inputs), [v.value for v in layer.trainable_variables]
    return lambda: jax.block_until_ready(gradients(inputs, weights))


def torch_steps(batch, size, channels) -> dict:
    """Forward+backward of the usual PyTorch CoordConv and of nn.Conv2d over the bare C channels."""
    import torch

    def add_coords(x):  # the per-call formulation of the common PyTorch ports
        b, _, h, w = x.shape
        ys = torch.arange(h, dtype=x.dtype).view(1, 1, h, 1).expand(b, 1, h, w) / (h - 1) * 2 - 1
        xs = torch.arange(w, dtype=x.dtype).view(1, 1, 1, w).expand(b, 1, h, w) / (w - 1) * 2 - 1
        return torch.cat([x, xs, ys], dim=1)

    x = torch.randn(batch, channels, size, size, requires_grad=True)
    coordconv = torch.nn.Conv2d(channels + 2, FILTERS, 3, padding=1)
    bare = torch.nn.Conv2d(channels, FILTERS, 3, padding=1)

    def step(conv, make_input):
        def run():
            conv.zero_grad()
            conv(make_input()).sum().backward()
        return run
    return {"torch_coordconv": step(coordconv, lambda: add_coords(x)), "torch_conv_c": step(bare, lambda: x)}


def compare(batch, size, channels, compiled, repeats):
    x = np.random.default_rng(0).standard_normal((batch, size, size, channels)).astype("float32")
    split, split_r = (CoordConv2D(FILTERS, 3, padding="same", with_r=r) for r in (False, True))
    conv_c = keras.layers.Conv2D(FILTERS, 3, padding="same")
    for layer in (split, split_r, conv_c):
        layer(x)  # built, so its weights exist before a stateless call
    concatenation = split.as_concatenation()
    concatenation(x)
    steps = {
        "split": step_function(split, x, compiled),
        "concatenation": step_function(concatenation, x, compiled),
        "split_r": step_function(split_r, x, compiled),
        "conv_c": step_function(conv_c, x, compiled),
    }
    if TORCH and not compiled:
        steps.update(torch_steps(batch, size, channels))
    return median_seconds(steps, repeats)


def main():
    parser = argparse.ArgumentParser(prog="python -m bench.layer", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=positive(int), default=30)
    args = parser.parse_args()
    print(f"forward+backward on {backends.NAME} ({backends.device()}), median ms; ratios against Conv2D over the "
          "bare C channels unless said")
    print(f"{'mode':<11} {'batch':>5} {'size':>5} {'C':>3}  {'concat ms':>9} {'split ms':>8} {'conv C ms':>9}  "
          f"{'concat':>6} {'split':>6} {'split r':>7} {'split/concat':>12}" + ("  torch" if TORCH else ""))
    for compiled in (True, False):
        for batch, size, channels in CASES:
            t = compare(batch, size, channels, compiled, args.repeats)
            floor = t["conv_c"]
            print(f"{COMPILED[backends.NAME] if compiled else 'eager':<11} {batch:>5} {size:>5} {channels:>3}  "
                  f"{1e3 * t['concatenation']:>9.2f} {1e3 * t['split']:>8.2f} {1e3 * floor:>9.2f}  "
                  f"{t['concatenation'] / floor:>6.3f} {t['split'] / floor:>6.3f} {t['split_r'] / floor:>7.3f} "
                  f"{t['split'] / t['concatenation']:>12.3f}" + torch_column(t))


def torch_column(times: dict) -> str:
    if "torch_coordconv" not in times:
        return ""
    return f"  {times['torch_coordconv'] / times['torch_conv_c']:>5.3f}"


if __name__ == "__main__":
    main()
