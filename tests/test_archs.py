"""The registry of every --arch: one entry per name, each script's choices, one-line errors."""

import pytest

from lab import archs
from lab.supervised import tasks
from lab.util import CliError

SCRIPTS = ("train.py", "train_gan.py", "train_vae.py", "train_detection.py", "train_rl.py")


def test_every_arch_has_one_entry_and_a_builder_or_a_reason():
    assert sum(len(archs.names(script)) for script in SCRIPTS) == len(archs.ARCHS)
    for arch in archs.ARCHS.values():
        assert (arch.build is None) == (arch.missing is not None), arch.name
        assert (arch.name in tasks.TASK_OF) == (arch.script == "train.py"), arch.name
        assert (arch.data is not None) == (arch.script in ("train_gan.py", "train_vae.py")), arch.name


def test_the_papers_names_map_to_what_their_scripts_read():
    assert archs.lookup("coordconv_rendering", "train.py").center_map
    gan = archs.lookup("clevr_coordconv_in_gd", "train_gan.py")
    assert (gan.data, gan.coords_in_generator, gan.coords_in_discriminator) == ("clevr", True, True)
    assert not archs.lookup("simple_vae", "train_vae.py").coords_in_generator
    assert archs.lookup("coord_rpn_sampler", "train_detection.py").coords


@pytest.mark.parametrize("name, script, message", [
    ("simple_gan", "train.py", "unknown --arch 'simple_gan'; choose one of: deconv_classification, "),
    ("coordconv_classification", "train_gan.py", "choose one of: simple_gan, simple_coordconv_in_g"),
    ("rpn_sampler_stn", "train_detection.py", "--arch rpn_sampler_stn is listed by the paper's"),
])
def test_lookup_errors_name_the_choices_or_the_reason(name, script, message):
    with pytest.raises(CliError) as error:
        archs.lookup(name, script)
    assert message in str(error.value)
