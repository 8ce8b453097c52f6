"""CoordConv layers (Liu et al., NeurIPS 2018) as Keras 3 layers.

`AddCoords` appends coordinate channels to a feature map; `CoordConv` is a
convolution that sees those channels.

Conventions (fixing the paper's code, which divides by the wrong axis):
- channel `x` varies along the last spatial axis (width), `y` along the one
  before it (height), `z` along depth; each spans exactly [-1, 1] over its
  own axis, whatever the other axes' lengths;
- `r = sqrt(x² + y² [+ z²])`, the distance from the center: [0, √rank].

Cost: a convolution is linear in its input channels, so
`conv([x, coords], W) = conv(x, W_x) + conv(coords, W_c)`, and the second
term does not depend on the batch. `CoordConv` computes it once per call for
a single example and adds it, broadcast, as a per-position bias: the batch
is convolved over its own channels only, as by a plain convolution. The
kernel keeps the layout (k, ..., C + coordinate channels, F) of the
concatenation, so models saved before load and compute the same.
"""

import keras
import numpy as np
from keras import ops

_PACKAGE = "CoordConv"
_DATA_FORMATS = ("channels_last", "channels_first")


def coordinate_channel_count(rank: int, with_r: bool) -> int:
    """The channels AddCoords appends: one per spatial axis, and the radius when asked."""
    return rank + int(with_r)


def coordinate_grid(spatial_shape: tuple, with_r: bool) -> np.ndarray:
    """The constant grid, shape (*spatial_shape, rank [+1]), float32."""
    axes = [np.linspace(-1.0, 1.0, n, dtype=np.float32) for n in spatial_shape]
    channels = list(np.meshgrid(*axes, indexing="ij"))[::-1]
    if with_r:
        channels.append(np.sqrt(sum(c**2 for c in channels)))
    return np.stack(channels, axis=-1)


def _dynamic_coordinate_grid(spatial_shape, with_r, dtype):
    """The same grid as `coordinate_grid`, for sizes known only at run time."""
    rank = len(spatial_shape)
    channels = []
    for axis in reversed(range(rank)):
        line_shape = [1] * rank
        line_shape[axis] = -1
        n = spatial_shape[axis]
        step = 2.0 / ops.cast(ops.maximum(n - 1, 1), dtype)
        line = ops.cast(ops.arange(n), dtype) * step - 1.0
        channels.append(ops.broadcast_to(ops.reshape(line, line_shape), spatial_shape))
    if with_r:
        channels.append(ops.sqrt(sum(ops.square(c) for c in channels)))
    return ops.stack(channels, axis=-1)


def channels_first_runs_here() -> bool:
    """Whether the backend surely convolves channels_first tensors as they are on this machine.

    Not TensorFlow on a CPU: its Eigen kernels (its default on CPUs without
    AVX-512, and under TF_ENABLE_ONEDNN_OPTS=0) take channels_last only; its
    oneDNN and GPU kernels, JAX and PyTorch take both.
    """
    if keras.backend.backend() != "tensorflow":
        return True
    import tensorflow as tf

    return bool(tf.config.list_logical_devices("GPU"))


def _standardize_data_format(data_format):
    data_format = data_format or keras.config.image_data_format()
    if data_format not in _DATA_FORMATS:
        raise ValueError(
            f"Expected data_format in {_DATA_FORMATS}. Received data_format={data_format!r}"
        )
    return data_format


class BaseAddCoords(keras.layers.Layer):
    """Appends coordinate channels; the rank-generic logic of AddCoords1D/2D/3D.

    Masks pass through unchanged: the coordinates add channels, not steps.

    Args:
        spatial_shape: the input's spatial size, one int per axis in the
            input's axis order, or all None to read it from the input. A
            declared size is checked against every input: a different size
            is a `ValueError` (in a graph traced with unknown sizes, the
            same message comes as `tf.errors.InvalidArgumentError`, the only
            error a running graph can raise).
        with_r: also append the radius channel.
        skiptile: as in the paper. When False and `spatial_shape` is given,
            a (batch, 1, ..., 1, channels) input is first tiled to
            (batch, *spatial_shape, channels).
        data_format: "channels_last" (default) or "channels_first".
    """

    dim_names: tuple = ()

    def __init__(self, spatial_shape, with_r=False, skiptile=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.rank = len(self.dim_names)
        self.spatial_shape = self._validated_spatial_shape(spatial_shape)
        self.with_r = bool(with_r)
        self.skiptile = bool(skiptile)
        self.data_format = _standardize_data_format(data_format)
        self.coord_channels = coordinate_channel_count(self.rank, self.with_r)
        self.supports_masking = True

    def _validated_spatial_shape(self, spatial_shape):
        given = [d for d in spatial_shape if d is not None]
        if not given:
            return None
        if len(given) != len(spatial_shape):
            raise ValueError(
                f"Give all of {self.dim_names} or none of them. "
                f"Received {dict(zip(self.dim_names, spatial_shape))}"
            )
        for name, size in zip(self.dim_names, spatial_shape):
            if int(size) != size or size < 2:
                raise ValueError(f"Expected {name} >= 2. Received {name}={size}")
        return tuple(int(d) for d in spatial_shape)

    @property
    def tiles(self) -> bool:
        return not self.skiptile and self.spatial_shape is not None

    @property
    def channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def _spatial_axes(self):
        first = 1 if self.data_format == "channels_last" else 2
        return list(range(first, first + self.rank))

    def build(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"{type(self).__name__} expects a {self.rank + 2}D input "
                f"(batch, {self.rank} spatial axes, channels). Received shape {tuple(input_shape)}"
            )
        spatial = [input_shape[a] for a in self._spatial_axes()]
        if self.tiles and any(d not in (None, 1) for d in spatial):
            raise ValueError(
                f"skiptile=False tiles a size-1 spatial input to {self.spatial_shape}; "
                f"received shape {tuple(input_shape)}. Pass skiptile=True for feature maps."
            )
        if not self.tiles and None not in spatial:
            self._check_declared_size(spatial)
        super().build(input_shape)

    def _size_message(self, received: str) -> str:
        declared = dict(zip(self.dim_names, self.spatial_shape))
        return f"{self.name} was declared for spatial shape {self.spatial_shape} ({declared}); received {received}"

    def _check_declared_size(self, spatial):
        if self.spatial_shape is not None and tuple(spatial) != self.spatial_shape:
            raise ValueError(self._size_message(f"spatial shape {tuple(spatial)}"))

    def guarded(self, coordinates, inputs):
        """`coordinates`, made from the declared size, once `inputs` is known to have that size.

        A static size is checked now. A size known only when a TensorFlow
        graph runs is checked through a factor of 1 (NaN on a mismatch, which
        `check_numerics` reports with the message): a data dependency, which
        graph optimisation cannot move after the ops that use the coordinates,
        as it can a bare assertion.
        """
        if self.tiles or self.spatial_shape is None:
            return coordinates
        static = [inputs.shape[a] for a in self._spatial_axes()]
        if None not in static:
            self._check_declared_size(static)
            return coordinates
        import tensorflow as tf  # sizes unknown while tracing happen only in TensorFlow graphs

        received = tf.gather(tf.shape(inputs), self._spatial_axes())
        matches = tf.reduce_all(tf.equal(received, tf.constant(self.spatial_shape, received.dtype)))
        factor = tf.where(matches, 1.0, float("nan"))
        message = self._size_message("another spatial shape while the graph ran")
        return coordinates * tf.cast(tf.debugging.check_numerics(factor, message), coordinates.dtype)

    def spatial_size(self, inputs) -> list:
        """The output's spatial size: ints where known while tracing, scalar tensors otherwise."""
        if self.tiles:
            return list(self.spatial_shape)
        static = [inputs.shape[a] for a in self._spatial_axes()]
        if None not in static:
            return static
        # Never the declared size here: graph optimisation would infer from it that the input has that size
        # and fold away the check in `guarded`.
        dynamic = ops.shape(inputs)
        return [dynamic[a] for a in self._spatial_axes()]

    def grid(self, spatial) -> "keras.KerasTensor":
        """The coordinate channels for one example: (1, *spatial, channels) in the layer's data format."""
        if all(isinstance(d, int) for d in spatial):
            grid = ops.convert_to_tensor(coordinate_grid(tuple(spatial), self.with_r), dtype=self.compute_dtype)
        else:
            grid = _dynamic_coordinate_grid(spatial, self.with_r, self.compute_dtype)
        if self.data_format == "channels_first":
            grid = ops.moveaxis(grid, -1, 0)
        return ops.expand_dims(grid, 0)

    def tile(self, inputs):
        """A (batch, 1, ..., 1, C) input repeated over the declared spatial shape."""
        multiples = [1] * len(inputs.shape)
        for axis, size in zip(self._spatial_axes(), self.spatial_shape):
            multiples[axis] = size
        return ops.tile(inputs, multiples)

    def call(self, inputs):
        if self.tiles:
            inputs = self.tile(inputs)
        grid = self.guarded(self.grid(self.spatial_size(inputs)), inputs)
        target_shape = list(ops.shape(inputs))
        target_shape[self.channel_axis] = self.coord_channels
        grid = ops.broadcast_to(grid, target_shape)
        return ops.concatenate([inputs, grid], axis=self.channel_axis)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        if self.tiles:
            for axis, size in zip(self._spatial_axes(), self.spatial_shape):
                shape[axis] = size
        channels = shape[self.channel_axis]
        shape[self.channel_axis] = None if channels is None else channels + self.coord_channels
        return tuple(shape)

    def get_config(self):
        dims = self.spatial_shape or (None,) * self.rank
        return {
            **super().get_config(),
            **dict(zip(self.dim_names, dims)),
            "with_r": self.with_r,
            "skiptile": self.skiptile,
            "data_format": self.data_format,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class AddCoords1D(BaseAddCoords):
    """Appends an `x` channel spanning [-1, 1] (and `r = |x|`) to a 1D signal.

    Args:
        x_dim: signal length, or None to read it from the input.
        with_r, skiptile, data_format: see `BaseAddCoords`.

    Input shape: (batch, steps, channels) for channels_last.
    Output shape: (batch, steps, channels + 1 [+1]).

    Example:
        >>> tuple(AddCoords1D()(np.zeros((2, 5, 3))).shape)
        (2, 5, 4)
    """

    dim_names = ("x_dim",)

    def __init__(self, x_dim=None, with_r=False, skiptile=False, data_format=None, **kwargs):
        super().__init__((x_dim,), with_r, skiptile, data_format, **kwargs)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class AddCoords2D(BaseAddCoords):
    """Appends `x` (along width) and `y` (along height) channels in [-1, 1].

    The paper's constructor: `AddCoords(x_dim, y_dim, with_r, skiptile)`, where
    x_dim, y_dim are the input's two spatial sizes in axis order, so a
    (batch, 1, 1, C) input tiles to (batch, x_dim, y_dim, C).

    Args:
        x_dim, y_dim: spatial size, or None to read it from the input.
        with_r, skiptile, data_format: see `BaseAddCoords`.

    Input shape: (batch, height, width, channels) for channels_last.
    Output shape: (batch, height, width, channels + 2 [+1]).

    Example:
        >>> tuple(AddCoords2D(with_r=True)(np.zeros((2, 14, 6, 3))).shape)
        (2, 14, 6, 6)
    """

    dim_names = ("x_dim", "y_dim")

    def __init__(self, x_dim=None, y_dim=None, with_r=False, skiptile=False, data_format=None, **kwargs):
        super().__init__((x_dim, y_dim), with_r, skiptile, data_format, **kwargs)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class AddCoords3D(BaseAddCoords):
    """Appends `x` (width), `y` (height) and `z` (depth) channels in [-1, 1].

    Args:
        x_dim, y_dim, z_dim: spatial size in axis order, or None.
        with_r, skiptile, data_format: see `BaseAddCoords`.

    Input shape: (batch, depth, height, width, channels) for channels_last.
    Output shape: (batch, depth, height, width, channels + 3 [+1]).

    Example:
        >>> tuple(AddCoords3D()(np.zeros((1, 4, 5, 6, 2))).shape)
        (1, 4, 5, 6, 5)
    """

    dim_names = ("x_dim", "y_dim", "z_dim")

    def __init__(self, x_dim=None, y_dim=None, z_dim=None, with_r=False, skiptile=False,
                 data_format=None, **kwargs):
        super().__init__((x_dim, y_dim, z_dim), with_r, skiptile, data_format, **kwargs)


AddCoords = AddCoords2D

_ADD_COORDS_BY_RANK = {1: AddCoords1D, 2: AddCoords2D, 3: AddCoords3D}


class _CoordConvMixin:
    """Turns a Keras ConvND into a CoordConvND: the convolution of the input plus its coordinates.

    It takes every argument of the convolution it extends, plus `with_r`,
    `coord_shape` and `skiptile` (see the faces' docstrings). The result is
    the convolution of the concatenation, computed as the module docstring
    says, or by the concatenation itself where a group would mix data and
    coordinate channels (`groups > 1`).
    """

    transposed = False

    def __init__(self, *args, with_r=False, coord_shape=None, skiptile=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.with_r = bool(with_r)
        self.skiptile = bool(skiptile)
        self.add_coords = _ADD_COORDS_BY_RANK[self.rank](
            *(coord_shape or (None,) * self.rank),
            with_r=self.with_r,
            skiptile=self.skiptile,
            data_format=self.data_format,
            dtype=self.dtype_policy,
            name=f"{self.name}_add_coords",
        )
        self.coord_shape = self.add_coords.spatial_shape

    def build(self, input_shape):
        self.add_coords.build(input_shape)
        super().build(self.add_coords.compute_output_shape(input_shape))
        channel_axis = self.add_coords.channel_axis
        self.input_spec = keras.layers.InputSpec(
            min_ndim=self.rank + 2, axes={channel_axis: input_shape[channel_axis]}
        )

    def call(self, inputs):
        if getattr(self, "groups", 1) != 1:  # a group would mix data and coordinate channels
            outputs = self._biased(self._convolve(self.add_coords(inputs), self.kernel))
        else:
            data_kernel, coord_kernel = self._split_kernel(self.kernel)
            outputs = ops.add(self._data_term(inputs, data_kernel), self._coordinate_term(inputs, coord_kernel))
        return outputs if self.activation is None else self.activation(outputs)

    def _split_kernel(self, kernel):
        """(data part, coordinate part) along the kernel's input-channel axis."""
        channels = self.add_coords.coord_channels
        if self.transposed:  # Keras keeps (*taps, filters, input channels)
            return kernel[..., :-channels], kernel[..., -channels:]
        return kernel[..., :-channels, :], kernel[..., -channels:, :]

    def _data_term(self, inputs, kernel):
        if not self.add_coords.tiles:
            return self._convolve(inputs, kernel)
        if self.transposed or any(k != 1 for k in self.kernel_size):
            return self._convolve(self.add_coords.tile(inputs), kernel)
        # Every output of a 1x1 convolution over a tiled vector sees that vector: a dense layer.
        vectors = ops.reshape(inputs, (-1, kernel.shape[-2]))
        dense = ops.matmul(vectors, ops.reshape(kernel, (kernel.shape[-2], self.filters)))
        return ops.reshape(dense, self._broadcastable_shape(-1))

    def _broadcastable_shape(self, batch):
        if self.data_format == "channels_last":
            return (batch,) + (1,) * self.rank + (self.filters,)
        return (batch, self.filters) + (1,) * self.rank

    def _coordinate_term(self, inputs, kernel):
        """The coordinates' share of the output, bias included, for one example: (1, *outputs, filters)."""
        term = self._convolve(self.add_coords.grid(self.add_coords.spatial_size(inputs)), kernel)
        return self.add_coords.guarded(self._biased(term), inputs)

    def _biased(self, outputs):
        """`outputs` plus the bias along the channel axis.

        channels_first broadcasts the bias to the outputs' shape first: given a
        (1, filters, 1, 1) operand, Keras' TensorFlow `add` calls `bias_add` with
        NHWC whenever the last axis also has `filters` entries, and adds the
        bias along the width.
        """
        if not self.use_bias:
            return outputs
        bias = ops.reshape(self.bias, self._broadcastable_shape(1))
        if self.data_format == "channels_first":
            bias = ops.broadcast_to(bias, ops.shape(outputs))
        return ops.add(outputs, bias)

    def _convolve(self, inputs, kernel):
        """The layer's convolution without bias or activation.

        channels_first where the backend may not run it on this device
        (TensorFlow on a CPU, whose Eigen convolutions take channels_last only) is
        computed in channels_last, transposed in and out: the same numbers. The
        kernel's layout does not depend on the data format.
        """
        if self.data_format == "channels_first" and not channels_first_runs_here():
            return ops.moveaxis(self._convolve_as(ops.moveaxis(inputs, 1, -1), kernel, "channels_last"), -1, 1)
        return self._convolve_as(inputs, kernel, self.data_format)

    def _convolve_as(self, inputs, kernel, data_format):
        """The convolution of `inputs` laid out in `data_format`."""
        common = {"strides": list(self.strides), "dilation_rate": self.dilation_rate, "data_format": data_format}
        if self.transposed:
            return ops.conv_transpose(inputs, kernel, padding=self.padding, output_padding=self.output_padding,
                                      **common)
        if self.padding == "causal":
            return ops.conv(ops.pad(inputs, self._causal_padding(data_format)), kernel, padding="valid", **common)
        return ops.conv(inputs, kernel, padding=self.padding, **common)

    def _causal_padding(self, data_format):
        """Keras' Conv1D causal padding (dilation x (kernel - 1) steps before the first), for `data_format`."""
        before = self.dilation_rate[0] * (self.kernel_size[0] - 1)
        return [[0, 0], [before, 0], [0, 0]] if data_format == "channels_last" else [[0, 0], [0, 0], [before, 0]]

    def compute_output_shape(self, input_shape):
        return super().compute_output_shape(self.add_coords.compute_output_shape(input_shape))

    def get_config(self):
        return {**super().get_config(), "with_r": self.with_r, "coord_shape": self.coord_shape,
                "skiptile": self.skiptile}

    def as_concatenation(self) -> keras.Sequential:
        """This layer in the form other CoordConvs take: AddCoords, then the plain convolution of C + coordinates.

        The same function, with a copy of this layer's weights if it is
        built: the reference the split form is checked and timed against.
        """
        own_arguments = ("with_r", "coord_shape", "skiptile", "x_dim", "y_dim", "name")
        config = {k: v for k, v in self.get_config().items() if k not in own_arguments}
        plain_class = next(c for c in type(self).__mro__ if c.__module__.startswith("keras."))
        add_coords = type(self.add_coords).from_config({**self.add_coords.get_config(), "name": None})
        plain = plain_class.from_config(config)
        if self.built:
            in_channels = self.kernel.shape[-1] if self.transposed else self.kernel.shape[-2] * self.groups
            spatial = (None,) * self.rank
            plain.build((None, *spatial, in_channels) if self.data_format == "channels_last"
                        else (None, in_channels, *spatial))
            plain.set_weights(self.get_weights())
        return keras.Sequential([add_coords, plain], name=f"{self.name}_as_concatenation")


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CoordConv1D(_CoordConvMixin, keras.layers.Conv1D):
    """`keras.layers.Conv1D` over the input plus its `x` (and `r`) channel.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 1 int, the window length.
        strides, padding, data_format, dilation_rate, groups, activation,
            use_bias, and the initializers, regularizers and constraints:
            as `keras.layers.Conv1D` ("causal" padding included).
        with_r: also convolve the radius channel `r = |x|`.
        coord_shape: (steps,) the layer accepts, or None for any length.
        skiptile: False tiles a (batch, 1, channels) input to `coord_shape`
            first, as `AddCoords1D(skiptile=False)`.

    Input shape: (batch, steps, channels) for channels_last.
    Output shape: (batch, new_steps, filters).

    Example:
        >>> tuple(CoordConv1D(4, 3, padding="same")(np.zeros((2, 10, 3))).shape)
        (2, 10, 4)
    """


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CoordConv2D(_CoordConvMixin, keras.layers.Conv2D):
    """`keras.layers.Conv2D` over the input plus its `x`, `y` (and `r`) channels.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 2 ints, the window's height and width.
        strides, padding, data_format, dilation_rate, groups, activation,
            use_bias, and the initializers, regularizers and constraints:
            as `keras.layers.Conv2D`.
        with_r: also convolve the radius channel `r = sqrt(x² + y²)`.
        coord_shape: (height, width) the layer accepts, or None for any.
        skiptile: False tiles a (batch, 1, 1, channels) input to
            `coord_shape` first, as `AddCoords2D(skiptile=False)`: the
            paper's CoordConv painter in one layer, where a 1x1 kernel is
            computed as a dense layer on the vector.

    Input shape: (batch, height, width, channels) for channels_last.
    Output shape: (batch, new_height, new_width, filters).

    Example:
        >>> tuple(CoordConv2D(8, 3, padding="same", with_r=True)(np.zeros((2, 14, 6, 3))).shape)
        (2, 14, 6, 8)
        >>> tuple(CoordConv2D(8, 1, coord_shape=(64, 64), skiptile=False)(np.zeros((2, 1, 1, 5))).shape)
        (2, 64, 64, 8)
    """


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CoordConv3D(_CoordConvMixin, keras.layers.Conv3D):
    """`keras.layers.Conv3D` over the input plus its `x`, `y`, `z` (and `r`) channels.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 3 ints, the window's depth, height, width.
        strides, padding, data_format, dilation_rate, groups, activation,
            use_bias, and the initializers, regularizers and constraints:
            as `keras.layers.Conv3D`.
        with_r: also convolve the radius channel `r = sqrt(x² + y² + z²)`.
        coord_shape: (depth, height, width) the layer accepts, or None.
        skiptile: False tiles a (batch, 1, 1, 1, channels) input to
            `coord_shape` first, as `AddCoords3D(skiptile=False)`.

    Input shape: (batch, depth, height, width, channels) for channels_last.
    Output shape: (batch, new_depth, new_height, new_width, filters).

    Example:
        >>> tuple(CoordConv3D(4, 3, padding="same")(np.zeros((1, 4, 5, 6, 2))).shape)
        (1, 4, 5, 6, 4)
    """


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CoordConv2DTranspose(_CoordConvMixin, keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` over the input plus its coordinate channels.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 2 ints, the window's height and width.
        strides, padding, output_padding, data_format, dilation_rate,
            activation, use_bias, and the initializers, regularizers and
            constraints: as `keras.layers.Conv2DTranspose`.
        with_r: also convolve the radius channel `r = sqrt(x² + y²)`.
        coord_shape: (height, width) of the input, or None for any.
        skiptile: False tiles a (batch, 1, 1, channels) input to
            `coord_shape` first.

    Input shape: (batch, height, width, channels) for channels_last.
    Output shape: (batch, new_height, new_width, filters).

    Example:
        >>> tuple(CoordConv2DTranspose(4, 3, strides=2, padding="same")(np.zeros((2, 8, 8, 3))).shape)
        (2, 16, 16, 4)
    """

    transposed = True


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CoordConv(CoordConv2D):
    """The paper's name and constructor: `CoordConv(x_dim, y_dim, with_r, *conv_args)`.

    `x_dim`, `y_dim` fix the spatial size the layer accepts (None: any size);
    the remaining arguments are those of `CoordConv2D` (`keras.layers.Conv2D`
    plus `skiptile`).

    Example:
        >>> tuple(CoordConv(64, 64, False, 32, 1)(np.zeros((2, 64, 64, 3))).shape)
        (2, 64, 64, 32)
    """

    def __init__(self, x_dim=None, y_dim=None, with_r=False, *args, **kwargs):
        super().__init__(*args, with_r=with_r, coord_shape=(x_dim, y_dim), **kwargs)
        self.x_dim, self.y_dim = x_dim, y_dim

    def get_config(self):
        config = {**super().get_config(), "x_dim": self.x_dim, "y_dim": self.y_dim}
        del config["coord_shape"]  # x_dim and y_dim say it in the paper's words
        return config
