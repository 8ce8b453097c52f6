"""CoordConv layers (Liu et al., NeurIPS 2018) as Keras 3 layers.

`AddCoords` appends coordinate channels to a feature map; `CoordConv` is a
convolution that sees those channels. The coordinate grid is a constant, so a
CoordConv costs what a convolution with 2 (or 3) more input channels costs.

Conventions (fixing the paper's code, which divides by the wrong axis):
- channel `x` varies along the last spatial axis (width), `y` along the one
  before it (height), `z` along depth; each spans exactly [-1, 1] over its
  own axis, whatever the other axes' lengths;
- `r = sqrt(x² + y² [+ z²])`, the distance from the centre: [0, √rank].
"""

import keras
import numpy as np
from keras import ops

_PACKAGE = "CoordConv"
_DATA_FORMATS = ("channels_last", "channels_first")


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
        n = spatial_shape[axis]
        step = 2.0 / ops.cast(ops.maximum(n - 1, 1), dtype)
        line = ops.cast(ops.arange(n), dtype) * step - 1.0
        line_shape = [1] * rank
        line_shape[axis] = -1
        channels.append(ops.broadcast_to(ops.reshape(line, line_shape), spatial_shape))
    if with_r:
        channels.append(ops.sqrt(sum(ops.square(c) for c in channels)))
    return ops.stack(channels, axis=-1)


def _standardize_data_format(data_format):
    data_format = data_format or keras.config.image_data_format()
    if data_format not in _DATA_FORMATS:
        raise ValueError(
            f"Expected data_format in {_DATA_FORMATS}. Received data_format={data_format!r}"
        )
    return data_format


class BaseAddCoords(keras.layers.Layer):
    """Appends coordinate channels; the rank-generic logic of AddCoords1D/2D/3D.

    Args:
        spatial_shape: the input's spatial size, one int per axis in the
            input's axis order, or all None to read it from the input.
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
        self.coord_channels = self.rank + int(self.with_r)

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
        if not self.tiles and self.spatial_shape is not None:
            for got, want in zip(spatial, self.spatial_shape):
                if got is not None and got != want:
                    raise ValueError(
                        f"Input spatial shape {tuple(spatial)} disagrees with "
                        f"{dict(zip(self.dim_names, self.spatial_shape))}"
                    )
        super().build(input_shape)

    def call(self, inputs):
        axes = self._spatial_axes()
        if self.tiles:
            multiples = [1] * len(inputs.shape)
            for axis, size in zip(axes, self.spatial_shape):
                multiples[axis] = size
            inputs = ops.tile(inputs, multiples)
        grid = self._grid_for(inputs, axes)
        target_shape = list(ops.shape(inputs))
        target_shape[self.channel_axis] = self.coord_channels
        grid = ops.broadcast_to(grid, target_shape)
        return ops.concatenate([inputs, grid], axis=self.channel_axis)

    def _grid_for(self, inputs, axes):
        """The grid with a leading batch axis of 1, in the layer's data format."""
        static = [inputs.shape[a] for a in axes]
        if self.spatial_shape is not None and None in static:
            static = list(self.spatial_shape)
        if None in static:
            dynamic = [ops.shape(inputs)[a] for a in axes]
            grid = _dynamic_coordinate_grid(dynamic, self.with_r, self.compute_dtype)
        else:
            grid = ops.convert_to_tensor(
                coordinate_grid(tuple(static), self.with_r), dtype=self.compute_dtype
            )
        if self.data_format == "channels_first":
            grid = ops.moveaxis(grid, -1, 0)
        return ops.expand_dims(grid, 0)

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
        >>> AddCoords1D()(np.zeros((2, 5, 3))).shape
        TensorShape([2, 5, 4])
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
        >>> AddCoords2D(with_r=True)(np.zeros((2, 14, 6, 3))).shape
        TensorShape([2, 14, 6, 6])
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
        >>> AddCoords3D()(np.zeros((1, 4, 5, 6, 2))).shape
        TensorShape([1, 4, 5, 6, 5])
    """

    dim_names = ("x_dim", "y_dim", "z_dim")

    def __init__(self, x_dim=None, y_dim=None, z_dim=None, with_r=False, skiptile=False,
                 data_format=None, **kwargs):
        super().__init__((x_dim, y_dim, z_dim), with_r, skiptile, data_format, **kwargs)


AddCoords = AddCoords2D

_ADD_COORDS_BY_RANK = {1: AddCoords1D, 2: AddCoords2D, 3: AddCoords3D}


class _CoordConvMixin:
    """Turns a Keras ConvND into a CoordConvND: coordinates in, then the conv.

    It takes every argument of the convolution it extends, plus `with_r`.
    """

    def __init__(self, *args, with_r=False, coord_shape=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.with_r = bool(with_r)
        add_coords = _ADD_COORDS_BY_RANK[self.rank]
        self.add_coords = add_coords(
            *(coord_shape or (None,) * self.rank),
            with_r=self.with_r,
            skiptile=True,
            data_format=self.data_format,
            dtype=self.dtype_policy,
            name="add_coords",
        )

    def build(self, input_shape):
        self.add_coords.build(input_shape)
        super().build(self.add_coords.compute_output_shape(input_shape))
        channel_axis = self.add_coords.channel_axis
        self.input_spec = keras.layers.InputSpec(
            min_ndim=self.rank + 2, axes={channel_axis: input_shape[channel_axis]}
        )

    def call(self, inputs):
        return super().call(self.add_coords(inputs))

    def compute_output_shape(self, input_shape):
        return super().compute_output_shape(self.add_coords.compute_output_shape(input_shape))

    def get_config(self):
        return {**super().get_config(), "with_r": self.with_r}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CoordConv1D(_CoordConvMixin, keras.layers.Conv1D):
    """`keras.layers.Conv1D` over the input plus its `x` (and `r`) channel.

    Example:
        >>> CoordConv1D(4, 3, padding="same")(np.zeros((2, 10, 3))).shape
        TensorShape([2, 10, 4])
    """


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CoordConv2D(_CoordConvMixin, keras.layers.Conv2D):
    """`keras.layers.Conv2D` over the input plus its `x`, `y` (and `r`) channels.

    Example:
        >>> CoordConv2D(8, 3, padding="same", with_r=True)(np.zeros((2, 14, 6, 3))).shape
        TensorShape([2, 14, 6, 8])
    """


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CoordConv3D(_CoordConvMixin, keras.layers.Conv3D):
    """`keras.layers.Conv3D` over the input plus its `x`, `y`, `z` (and `r`) channels.

    Example:
        >>> CoordConv3D(4, 3, padding="same")(np.zeros((1, 4, 5, 6, 2))).shape
        TensorShape([1, 4, 5, 6, 4])
    """


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CoordConv2DTranspose(_CoordConvMixin, keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` over the input plus its coordinate channels.

    Example:
        >>> CoordConv2DTranspose(4, 3, strides=2, padding="same")(np.zeros((2, 8, 8, 3))).shape
        TensorShape([2, 16, 16, 4])
    """


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CoordConv(CoordConv2D):
    """The paper's name and constructor: `CoordConv(x_dim, y_dim, with_r, *conv_args)`.

    `x_dim`, `y_dim` fix the spatial size the layer accepts (None: any size);
    the remaining arguments are those of `keras.layers.Conv2D`.

    Example:
        >>> CoordConv(64, 64, False, 32, 1)(np.zeros((2, 64, 64, 3))).shape
        TensorShape([2, 64, 64, 32])
    """

    def __init__(self, x_dim=None, y_dim=None, with_r=False, *args, **kwargs):
        super().__init__(*args, with_r=with_r, coord_shape=(x_dim, y_dim), **kwargs)
        self.x_dim, self.y_dim = x_dim, y_dim

    def get_config(self):
        return {**super().get_config(), "x_dim": self.x_dim, "y_dim": self.y_dim}
