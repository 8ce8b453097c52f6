"""Every `--arch` of the paper's experiments, one entry each: start here from an arch's name.

An entry says which script trains it, which builder of model_builders.py
makes its network and what the script needs to know about it: whether a
supervised arch also outputs the center map (train.py, §4; what it learns is
lab/supervised/tasks.TASK_OF); the data and where
coordinates go for the GANs and VAEs (train_gan.py, train_vae.py, §5); where
the region proposal network adds them (train_detection.py); whether the A2C
agent's convs are CoordConv (train_rl.py, §6).
"""

import dataclasses
from typing import Callable, Optional

import model_builders
from lab.util import CliError


@dataclasses.dataclass(frozen=True)
class Arch:
    """One --arch: its script and builder, and the facts about it the script reads."""

    name: str
    script: str  # the entry point that trains it
    build: Optional[Callable]  # the builder in model_builders.py or lab/detection/detection.py
    center_map: bool = False  # train.py: it also outputs the center map (-interm, -nosfmx)
    max_pooled: bool = False  # train.py: its output is a global max over the image (--redraw_dead)
    data: Optional[str] = None  # train_gan.py, train_vae.py: "simple" (Not-so-Clevr squares), "clevr" or "lsun"
    coords_in_generator: bool = False  # the GAN's generator, the VAE's decoder: the CoordConv one
    coords_in_discriminator: bool = False  # the GAN's discriminator sees coordinates
    coords: bool = False  # has CoordConv layers (train.py: --coords_init_scale; detection: where the paper adds them)
    missing: Optional[str] = None  # why a name the paper lists has no network


SUPERVISED = ("deconv_classification", "coordconv_classification", "upsample_conv_coords", "upsample_coordconv_coords",
              "deconv_rendering", "coordconv_rendering", "deconv_bottleneck", "conv_onehot_image", "conv_regressor",
              "coordconv_regressor")  # train.py's archs; what each learns: lab/supervised/tasks.TASK_OF


def _supervised() -> list:
    with_center_map = ("coordconv_rendering", "deconv_bottleneck")
    return [Arch(name, "train.py", getattr(model_builders, name), center_map=name in with_center_map,
                 max_pooled=name == "coordconv_regressor", coords=name.startswith(("coordconv", "upsample_coordconv")))
            for name in SUPERVISED]


def _generative() -> list:
    gan_variants = {"gan": (False, False), "coordconv_in_g": (True, False), "coordconv_in_gd": (True, True)}
    vae_variants = {"vae": False, "coordconv_vae": True}
    entries = []
    for data in ("simple", "clevr", "lsun"):  # lsun: the clevr networks on LSUN's scenes (data/lsun_to_h5.py)
        entries += [Arch(f"{data}_{variant}", "train_gan.py", model_builders.build_gan, data=data,
                         coords_in_generator=in_g, coords_in_discriminator=in_d)
                    for variant, (in_g, in_d) in gan_variants.items()]
        entries += [Arch(f"{data}_{variant}", "train_vae.py", model_builders.build_vae, data=data,
                         coords_in_generator=coordconv) for variant, coordconv in vae_variants.items()
                    if data != "lsun"]
    return entries


def _detection() -> list:
    return [Arch("rpn_sampler", "train_detection.py", model_builders.rpn_network),
            Arch("coord_rpn_sampler", "train_detection.py", model_builders.rpn_network, coords=True),
            Arch("rpn_sampler_stn", "train_detection.py", None,
                 missing="is listed by the paper's train_faster_rcnn.py but never built (it raises "
                         "'Architecture unknown'): there is no network to port")]


def _reinforcement() -> list:
    return [Arch("a2c_conv", "train_rl.py", model_builders.a2c_network),
            Arch("a2c_coordconv", "train_rl.py", model_builders.a2c_network, coords=True)]


ARCHS = {arch.name: arch for arch in _supervised() + _generative() + _detection() + _reinforcement()}


def names(script: str) -> tuple:
    """The --arch choices of one entry point, in the registry's order."""
    return tuple(name for name, arch in ARCHS.items() if arch.script == script)


def lookup(name: str, script: str) -> Arch:
    """The entry for `--arch name` of `script`; CliError naming the choices when it is not one."""
    choices = names(script)
    if name not in choices:
        raise CliError(f"unknown --arch {name!r}; choose one of: {', '.join(choices)}")
    arch = ARCHS[name]
    if arch.missing:
        raise CliError(f"--arch {name} {arch.missing}")
    return arch
