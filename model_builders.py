"""The networks of every experiment but detection: one builder per `train.py --arch` (lab/archs.py maps the names),
each returning a `keras.Model` of logits, and the GANs' and VAEs' networks.

The layer stacks and widths are the paper's (uber-research/CoordConv,
model_builders.py), so parameter counts match; each builder's docstring gives
its `count_params()` at `-mul 1 -fs 3`
(BatchNorm moving statistics included). Coordinate inputs are pixel locations [x, y], as
in the paper's data; every model first maps them to [-1, 1] (no parameters),
the frame AddCoords uses, which the paper's code did not do: with raw pixel
values CoordConv classification needs tens of epochs instead of two.
"""

import dataclasses
from pathlib import Path

import keras
import numpy as np
from keras import layers

from CoordConv import CoordConv, CoordConv2D, coordinate_channel_count

IMAGE_SIZE = 64
# The generative and RL networks' last layers compute in float32 under a mixed policy (--dtype mixed_bfloat16):
# images, logits, values and the posterior keep float32's precision for the losses, as Keras' guide advises.
HEAD_DTYPE = "float32"


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """The hyper-parameters every builder reads, with the paper's defaults."""

    x_dim: int = IMAGE_SIZE  # image height
    y_dim: int = IMAGE_SIZE  # image width
    mul: int = 2  # width multiplier (-mul)
    fs: int = 3  # filter size of the 3x3-style convs (-fs)
    l2: float = 0.0  # the paper's l2 * sum(w²) on every conv kernel
    no_softmax: bool = False  # feed the raw center map to the painter (-nosfmx)
    regressor_stack: str = "pooled"  # conv_regressor's network, one of REGRESSOR_STACKS
    with_r: bool = False  # AddCoords' radius channel in the CoordConv models
    init_scale: float = 1.0  # multiplies the standard deviation of he_normal
    coords_frame: str = "unit"  # coordinate inputs scaled to [-1, 1] ("unit") or raw pixels ("pixel")
    coords_init_scale: float = 1.0  # multiplies a CoordConv layer's initial weights on its coordinate channels
    center_l2: float | None = None  # the L2 of the layers that compute a center map, when not l2 (--center_l2)
    hard_center: bool = False  # outside training, the painter gets the center map's argmax as a one-hot

    def coordconv_kwargs(self, with_r: bool) -> dict:
        """conv_kwargs for a CoordConv layer, its coordinate channels' initial weights times coords_init_scale."""
        kwargs = self.conv_kwargs()
        kwargs["kernel_initializer"] = coordinate_rows_scaled(kwargs["kernel_initializer"], self.coords_init_scale,
                                                              with_r)
        return kwargs

    def conv_kwargs(self) -> dict:
        # The paper's tf_plus l2reg(l2) is l2 * sum(w²), as Keras' L2: no /2.
        return {"kernel_initializer": keras.initializers.VarianceScaling(2.0 * self.init_scale ** 2, "fan_in",
                                                                         "truncated_normal"),
                "kernel_regularizer": keras.regularizers.L2(self.l2) if self.l2 else None}


@keras.saving.register_keras_serializable(package="coordconv_models")
class CoordinateRowsScaled(keras.initializers.Initializer):
    """`base`'s draw, with the kernel rows that read the last `channels` input channels (AddCoords') times `scale`.

    At scale 0 a CoordConv layer starts blind to position, so the data alone
    decides where its maps peak: the regressor's cure for dead outputs (docs/seed_study.md).
    """

    def __init__(self, base, scale: float, channels: int):
        self.base, self.scale, self.channels = keras.initializers.get(base), scale, channels

    def __call__(self, shape, dtype=None):
        factors = np.ones((shape[-2], 1), "float32")
        factors[-self.channels:] = self.scale
        kernel = self.base(shape, dtype=dtype)
        return kernel * keras.ops.cast(factors, kernel.dtype)

    def get_config(self):
        return {"base": keras.initializers.serialize(self.base), "scale": self.scale, "channels": self.channels}


def coordinate_rows_scaled(initializer, scale: float, with_r: bool = False):
    """`initializer` for a 2D CoordConv kernel with its coordinate rows times `scale`; itself, untouched, at 1."""
    if scale == 1.0:
        return initializer
    return CoordinateRowsScaled(initializer, scale, coordinate_channel_count(2, with_r))


def batch_norm():
    return layers.BatchNormalization(momentum=0.9, epsilon=1e-5)


def conv(x, width, kernel_size, spec, **conv_args):
    """A 'same'-padded Conv2D with the paper's initialiser and L2."""
    return layers.Conv2D(width, kernel_size, padding="same", **conv_args, **spec.conv_kwargs())(x)


def conv_stack(x, widths, kernel_size, spec, final_activation=None):
    """Conv2D layers with ReLU between them; the last one is linear unless told."""
    for i, width in enumerate(widths):
        last = i == len(widths) - 1
        x = conv(x, width, kernel_size, spec, activation=final_activation if last else "relu")
    return x


def coords_input(spec):
    """(batch, 2) pixel locations [x, y] -> (batch, 1, 1, 2), in [-1, 1] unless the frame is "pixel"."""
    inputs = keras.Input((2,), name="coords")
    width, height = spec.y_dim, spec.x_dim  # [x, y]: x runs along the width
    scaled = layers.Normalization(mean=[(width - 1) / 2, (height - 1) / 2],
                                  variance=[((width - 1) / 2) ** 2, ((height - 1) / 2) ** 2])(inputs)
    return inputs, layers.Reshape((1, 1, 2))(inputs if spec.coords_frame == "pixel" else scaled)


def image_input(spec, name="onehots"):
    return keras.Input((spec.x_dim, spec.y_dim, 1), name=name)


def deconv_painter(x, spec):
    """Six stride-2 transposed convs from 1x1 to 64x64, BN+ReLU between them."""
    widths = [64 * spec.mul] * 3 + [32 * spec.mul] * 2
    for width in widths:
        x = layers.Conv2DTranspose(width, spec.fs, 2, padding="same", **spec.conv_kwargs())(x)
        x = layers.ReLU()(batch_norm()(x))
    return layers.Conv2DTranspose(1, spec.fs, 2, padding="same", name="logits", **spec.conv_kwargs())(x)


def tiled_coordconv(x, width, image_shape, spec, with_r=False):
    """The paper's AddCoords(skiptile=False) then a 1x1 conv with ReLU, as one exact, cheaper layer.

    Same function and parameters: the (batch, 1, 1, C) vector's share of the
    1x1 conv is a dense layer, broadcast over the image, not a conv over C
    channels tiled to every pixel.
    """
    return CoordConv2D(width, 1, coord_shape=image_shape, skiptile=False, with_r=with_r, activation="relu",
                       **spec.coordconv_kwargs(with_r))(x)


def coordconv_painter(x, spec, mul):
    """Tile the coordinates, add the coordinate channels, then 1x1 convs."""
    x = tiled_coordconv(x, 32 * mul, (spec.x_dim, spec.y_dim), spec, spec.with_r)
    return conv_stack(x, [32 * mul, 64 * mul, 64 * mul, 1], 1, spec)


def onehot_to_image(x, spec):
    """The paper's 'working' convs that grow a center map into the square.

    They see no coordinates, so they keep he_normal whatever --init_scale: scaled
    down, they sometimes settle on a square a few pixels short (IoU 0.95 on train and val).
    """
    return conv_stack(x, [8 * spec.mul, 8 * spec.mul, 16 * spec.mul, 16 * spec.mul, 1], spec.fs,
                      dataclasses.replace(spec, init_scale=1.0))


def sharpen(center_logits, spec):
    """Softmax over all pixels: the center map becomes a near one-hot image."""
    flat = layers.Flatten()(center_logits)
    return layers.Reshape((spec.x_dim, spec.y_dim, 1))(layers.Softmax()(flat))


@keras.saving.register_keras_serializable(package="coordconv_models")
class OneHotAtInference(layers.Layer):
    """Outside training, a map's argmax as an exact one-hot; in training, the map itself (--hard_center).

    The painter learns on the near one-hot maps of the training positions. Where
    a held-out map peaks on the right pixel but less sharply, a soft map hands
    the painter a dimmer peak, and it paints the square a few pixels short.
    """

    def call(self, maps, training=None):
        if training:
            return maps
        pixels = int(np.prod(maps.shape[1:]))
        flat = keras.ops.reshape(maps, (-1, pixels))
        one_hot = keras.ops.one_hot(keras.ops.argmax(flat, axis=-1), pixels, dtype=maps.dtype)
        return keras.ops.reshape(one_hot, keras.ops.shape(maps))

    def compute_output_shape(self, input_shape):
        return input_shape


def center_spec(spec):
    """The spec of the layers before the center map: their own L2 where --center_l2 gives one."""
    return spec if spec.center_l2 is None else dataclasses.replace(spec, l2=spec.center_l2)


def center_then_image(name, inputs, center_logits, spec):
    """Renders the square from a center map; also outputs the map, scored always and trained with -interm."""
    center_map = center_logits if spec.no_softmax else sharpen(center_logits, spec)
    if spec.hard_center:
        center_map = OneHotAtInference(name="hard_center")(center_map)
    image = layers.Identity(name="image")(onehot_to_image(center_map, spec))
    center = layers.Identity(name="center")(center_logits)
    return keras.Model(inputs, {"image": image, "center": center}, name=name)


def deconv_classification(spec):
    """Coordinates -> one-hot 64x64 image by transposed convs. 104,097 params."""
    inputs, x = coords_input(spec)
    return keras.Model(inputs, deconv_painter(x, spec), name="deconv_classification")


def coordconv_classification(spec):
    """Coordinates -> one-hot image: AddCoords then 1x1 convs. 7,553 params."""
    inputs, x = coords_input(spec)
    return keras.Model(inputs, coordconv_painter(x, spec, spec.mul), name="coordconv_classification")


def deconv_rendering(spec):
    """Coordinates -> the 9x9 square image by transposed convs. 104,097 params."""
    inputs, x = coords_input(spec)
    return keras.Model(inputs, deconv_painter(x, spec), name="deconv_rendering")


def coordconv_rendering(spec):
    """CoordConv painter, softmax sharpening, then 3x3 convs. 11,850 params."""
    inputs, x = coords_input(spec)
    return center_then_image("coordconv_rendering", inputs, coordconv_painter(x, center_spec(spec), 1), spec)


def deconv_bottleneck(spec):
    """Deconv painter squeezed to one center channel, then 3x3 convs. 108,394 params."""
    inputs, x = coords_input(spec)
    return center_then_image("deconv_bottleneck", inputs, deconv_painter(x, center_spec(spec)), spec)


def conv_onehot_image(spec):
    """One-hot center image -> square image with 3x3 convs. 4,297 params."""
    inputs = image_input(spec)
    return keras.Model(inputs, onehot_to_image(inputs, spec), name="conv_onehot_image")


def upsample_painter(x, spec, coordconv):
    """Six x2 upsamplings from 1x1, each followed by a conv (a CoordConv if asked)."""
    widths = [64 * spec.mul] * 3 + [32 * spec.mul] * 2 + [1]
    for i, width in enumerate(widths):
        x = layers.UpSampling2D(2)(x)
        if coordconv:
            x = CoordConv(2 ** (i + 1), 2 ** (i + 1), spec.with_r, width, spec.fs, padding="same",
                          **spec.coordconv_kwargs(spec.with_r))(x)
        else:
            x = conv(x, width, spec.fs, spec)
        if i < len(widths) - 1:
            x = layers.ReLU()(batch_norm()(x))
    return x


def upsample_conv_coords(spec):
    """Coordinates -> one-hot image by upsampling + conv. 104,097 params."""
    inputs, x = coords_input(spec)
    return keras.Model(inputs, upsample_painter(x, spec, False), name="upsample_conv_coords")


def upsample_coordconv_coords(spec):
    """As upsample_conv_coords, every conv a CoordConv. 108,723 params."""
    inputs, x = coords_input(spec)
    return keras.Model(inputs, upsample_painter(x, spec, True), name="upsample_coordconv_coords")


def coordconv_regressor(spec):
    """One-hot image -> coordinates: AddCoords, linear convs, global max. 906 params."""
    inputs = image_input(spec)
    x = CoordConv(spec.x_dim, spec.y_dim, spec.with_r, 8, 1, padding="same",
                  **spec.coordconv_kwargs(spec.with_r))(inputs)
    for kernel_size, width in [(1, 8), (1, 8), (3, 8), (3, 2)]:
        x = conv(x, width, kernel_size, spec)
    return keras.Model(inputs, layers.GlobalMaxPooling2D()(x), name="coordconv_regressor")


def conv_regressor(spec):
    """One-hot image -> coordinates with plain convs.

    Two stacks, as the paper's code had: 'pooled' has 3x3 convs, max pools and
    dense layers (72,850 params); 'strided' strided convs and global average
    pooling (12,978 params). The paper picked one per split (paper_regressor_stack).
    """
    inputs = image_input(spec)
    m = spec.mul
    if spec.regressor_stack == "pooled":
        x = inputs
        for _ in range(3):
            x = layers.MaxPooling2D(2)(conv(x, 16 * m, 3, spec, activation="relu"))
        x = conv(x, 16 * m, 3, spec, activation="relu")
        x = layers.Dense(64, activation="relu")(layers.Flatten()(x))
        outputs = layers.Dense(2)(x)
    else:
        x = conv(inputs, 16 * m, 5, spec, strides=2, activation="relu")
        x = batch_norm()(conv(x, 16 * m, 1, spec, activation="relu"))
        x = conv(x, 16 * m, 3, spec, activation="relu")
        x = conv(x, 16 * m, 3, spec, strides=2, activation="relu")
        x = layers.ReLU()(batch_norm()(conv(x, 16 * m, 3, spec, strides=2)))
        x = conv(x, 16 * m, 3, spec, strides=2, activation="relu")
        x = conv(x, 16 * m, 1, spec, activation="relu")
        x = conv(x, 16 * m, 3, spec, strides=2, activation="relu")
        x = conv(x, 2, 3, spec, activation="relu")
        outputs = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, outputs, name="conv_regressor")


REGRESSOR_STACKS = ("pooled", "strided")


def paper_regressor_stack(data_h5) -> str:
    """conv_regressor's stack as the paper's code chose it: pooled when the data file's name says uniform."""
    return "pooled" if "uniform" in Path(data_h5).name else "strided"


# §5: the GAN and VAE networks (lab/archs.py names them <data>_<variant>).
DCGAN_WIDTH = 64


def coordconv_generator(image_shape, z_dim, spec, *, bounded: bool, width=DCGAN_WIDTH):
    """z tiled over the image, coordinates added, then per-pixel 1x1 convs and two 3x3 convs.

    The paper's is linear (bounded=False): its discriminator sees it raw, and
    tanh is applied only to the images shown; `bounded` ends it in tanh.
    444,931 params for z_dim 256 and RGB, 14x fewer than the DCGAN generator.
    """
    height, image_width, channels = image_shape
    z = keras.Input((z_dim,), name="z")
    x = tiled_coordconv(layers.Reshape((1, 1, z_dim))(z), 8 * width, (height, image_width), spec)
    x = conv_stack(x, [4 * width, 4 * width, 2 * width, width], 1, spec, final_activation="relu")
    x = conv_stack(x, [width, width], 3, spec, final_activation="relu")
    images = conv(x, channels, 1, spec, activation="tanh" if bounded else None, dtype=HEAD_DTYPE)
    return keras.Model(z, images, name="coordconv_generator")


def deconv_generator(image_shape, z_dim, spec, *, bounded: bool, width=DCGAN_WIDTH):
    """DCGAN: dense to 4x4x512, then 5x5 stride-2 transposed convs 256, 128, 64, out.

    The paper's ends in tanh (bounded=True); the VAE's decoder is linear, as it
    gives logits. 6,415,235 params for z_dim 256 and RGB.
    """
    height, image_width, channels = image_shape
    z = keras.Input((z_dim,), name="z")
    x = layers.Dense(height // 16 * image_width // 16 * 8 * width)(z)
    x = layers.ReLU()(batch_norm()(layers.Reshape((height // 16, image_width // 16, 8 * width))(x)))
    for filters in (4 * width, 2 * width, width):
        x = layers.ReLU()(batch_norm()(layers.Conv2DTranspose(filters, 5, 2, padding="same")(x)))
    images = layers.Conv2DTranspose(channels, 5, 2, padding="same", activation="tanh" if bounded else None,
                                    dtype=HEAD_DTYPE)(x)
    return keras.Model(z, images, name="deconv_generator")


def discriminator(image_shape, add_coords: bool, *, width=DCGAN_WIDTH):
    """5x5 stride-2 convs 64, 128, 256, 512 (BN and leaky ReLU 0.2 after all but the first), dense 1.

    Outputs the logit and the flattened features feature matching compares.
    4,318,337 params for RGB without coordinates.
    """
    images = keras.Input(image_shape, name="images")
    features = downsampler(images, add_coords, width)
    logits = layers.Dense(1, name="logits", dtype=HEAD_DTYPE)(features)
    return keras.Model(images, {"logits": logits, "features": features}, name="discriminator")


def downsampler(images, add_coords, width):
    """The DCGAN discriminator's convs, flattened: the GAN's discriminator and the VAE's encoder."""
    first_conv = CoordConv2D if add_coords else layers.Conv2D
    x = layers.LeakyReLU(0.2)(first_conv(width, 5, 2, padding="same")(images))
    for filters in (2 * width, 4 * width, 8 * width):
        x = layers.LeakyReLU(0.2)(batch_norm()(layers.Conv2D(filters, 5, 2, padding="same")(x)))
    return layers.Flatten(name="features")(x)


def build_gan(image_shape, z_dim: int, spec: ModelSpec, coords_in_generator: bool, coords_in_discriminator: bool,
              *, bounded=False, width=DCGAN_WIDTH):
    """(generator, discriminator): the CoordConv generator or DCGAN's, coordinates into D or not.

    `bounded` ends a CoordConv generator in tanh; `width` is the DCGAN base
    width every layer of both networks scales with (the paper's: 64).
    """
    generator = coordconv_generator(image_shape, z_dim, spec, bounded=bounded, width=width) if coords_in_generator \
        else deconv_generator(image_shape, z_dim, spec, bounded=True, width=width)
    return generator, discriminator(image_shape, coords_in_discriminator, width=width)


def encoder(image_shape, z_dim: int, *, width=DCGAN_WIDTH):
    """The DCGAN discriminator's convs, then the posterior's mean and log-variance (dense, z_dim each).

    335,904 params for z_dim 16, gray 64x64, width 16.
    """
    images = keras.Input(image_shape, name="images")
    features = downsampler(images, False, width)
    return keras.Model(images, {"mean": layers.Dense(z_dim, name="mean", dtype=HEAD_DTYPE)(features),
                                "log_var": layers.Dense(z_dim, name="log_var", dtype=HEAD_DTYPE)(features)},
                       name="encoder")


def build_vae(image_shape, z_dim: int, spec: ModelSpec, coordconv_decoder: bool, *, width=DCGAN_WIDTH):
    """(encoder, decoder); the decoder is the CoordConv generator or DCGAN's, both ending linear (logits)."""
    generator = coordconv_generator if coordconv_decoder else deconv_generator
    return encoder(image_shape, z_dim, width=width), generator(image_shape, z_dim, spec, bounded=False, width=width)


# §6: the A2C agents' network (lab/archs.py: a2c_conv, a2c_coordconv; trained by train_rl.py).
NATURE_CONVS = ((32, 8, 4), (64, 4, 2), (64, 3, 1))  # (filters, kernel, stride) of Mnih et al. 2015
A2C_COORDS = ("first", "all")  # which convs of a2c_coordconv are CoordConv2D (--coords)


def a2c_network(frames_shape, actions: int, coords: str | None = None, l2: float = 0.0,
                coords_init_scale: float = 1.0) -> keras.Model:
    """The Nature CNN shared by the policy and the value, as OpenAI baselines' A2C builds it.

    Takes the emulator's stacked frames as ale-py gives them, uint8
    (frames, height, width); scales them to [0, 1] and moves the frames last.
    Three valid-padded ReLU convs, dense 512, then the policy's logits and the
    value, every kernel orthogonal (gain sqrt(2); the policy's 0.01, the
    value's 1) and every bias zero. `coords` "first" makes the first conv a
    CoordConv2D, the coordinates added to the stacked frames (our reading of
    §6, which does not name the layer); "all" makes every conv one. `l2` adds
    l2 * sum(w²) of every kernel to the loss (baselines' A2C has none).
    `coords_init_scale` multiplies the CoordConv kernels' coordinate rows as
    drawn (0: they start blind to position; not in the paper).
    1,689,258 params for 4 frames of 84x84 and 9 actions (Ms. Pac-Man); coords "first" adds 4,096 params, "all"
    7,296 params.
    """
    def kernel(gain, with_coords=False):
        initializer = keras.initializers.Orthogonal(gain)
        if with_coords:
            initializer = coordinate_rows_scaled(initializer, coords_init_scale)
        return {"kernel_initializer": initializer, "kernel_regularizer": keras.regularizers.L2(l2) if l2 else None}

    frames = keras.Input(frames_shape, dtype="uint8", name="frames")
    x = layers.Rescaling(1.0 / 255.0)(layers.Permute((2, 3, 1))(frames))  # moved as bytes: a quarter of the data
    for index, (filters, size, stride) in enumerate(NATURE_CONVS):
        with_coords = coords == "all" or (coords == "first" and index == 0)
        x = (CoordConv2D if with_coords else layers.Conv2D)(filters, size, stride, activation="relu",
                                                             **kernel(np.sqrt(2), with_coords))(x)
    x = layers.Dense(512, activation="relu", **kernel(np.sqrt(2)))(layers.Flatten()(x))
    logits = layers.Dense(actions, name="logits", dtype=HEAD_DTYPE, **kernel(0.01))(x)
    value = layers.Dense(1, dtype=HEAD_DTYPE, **kernel(1.0))(x)
    return keras.Model(frames, {"logits": logits, "value": layers.Reshape((), name="value", dtype=HEAD_DTYPE)(value)},
                       name=f"a2c_{'coordconv_' + coords if coords else 'conv'}")


# The region-proposal experiment (lab/archs.py: rpn_sampler, coord_rpn_sampler; trained by train_detection.py).
RPN_HIDDEN = 32  # the paper's rpn_hidden_dim


def rpn_network(name: str, coords: bool, image_shape, same: bool, l2: float, anchors_per_cell: int = 9) -> keras.Model:
    """The region proposal network: image -> {"offsets": (cells * 9, 4), "scores": (cells * 9, 2)} for one image.

    The paper's layers: 5x5 convs 32 and 64 each with ReLU and a 2x2 max pool,
    a 3x3 conv 32, then two heads: the box mover (3x3 conv 32, 1x1 conv to 4
    offsets per anchor, initialised at zero) and the box scorer (1x1 conv, 2
    logits per anchor). With `coords` (coord_rpn_sampler), coordinates go in
    before the first conv, the 3x3 conv and the mover's 1x1 conv, as the
    paper's. `anchors_per_cell` is lab/detection/detection.py's anchor count, which reads the outputs.
    """
    padding = "same" if same else "valid"
    kernel = {"kernel_initializer": "he_normal", "kernel_regularizer": keras.regularizers.L2(l2) if l2 else None}
    maybe_coords = CoordConv2D if coords else layers.Conv2D
    images = keras.Input(image_shape, name="images")
    x = layers.MaxPooling2D(2)(maybe_coords(32, 5, padding=padding, activation="relu", **kernel)(images))
    x = layers.MaxPooling2D(2)(layers.Conv2D(64, 5, padding=padding, activation="relu", **kernel)(x))
    features = maybe_coords(RPN_HIDDEN, 3, padding="same", activation="relu", **kernel)(x)
    moved = layers.Conv2D(RPN_HIDDEN, 3, padding="same", activation="relu", **kernel)(features)
    offsets = maybe_coords(4 * anchors_per_cell, 1, kernel_initializer="zeros",
                           kernel_regularizer=kernel["kernel_regularizer"])(moved)
    scores = layers.Conv2D(2 * anchors_per_cell, 1, **kernel)(features)
    return keras.Model(images, {"offsets": layers.Reshape((-1, 4), name="offsets")(offsets),
                                "scores": layers.Reshape((-1, 2), name="scores")(scores)}, name=name)
