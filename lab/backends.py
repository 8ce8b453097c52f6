"""Keras loaded quiet on its backend, and every difference between backends in one place: import this first.

TensorFlow is the default and CI's backend; `KERAS_BACKEND=jax` runs the
supervised archs (train.py) on JAX, the way onto the GPU machine, which has JAX
and no TensorFlow. What only TensorFlow can do is asked for through
`require_tensorflow`, which names the flag and the fix.

- TF_CPP_MIN_LOG_LEVEL=3: no I0000/E0000 lines on the console; TensorFlow's Python
  logger at ERROR too, so no "WARNING:tensorflow" notices (retracing hints when one
  process, such as a reproduce.py worker, trains several models in turn).
- TF_ENABLE_ONEDNN_OPTS=1: TensorFlow turns oneDNN on by default only on CPUs
  with AVX-512-class features. Without it, an AVX2 CPU runs the small 3x3 convs
  of the painters on Eigen at half the speed (`bench/kernels.py`), and the same
  seed gives slightly different figures on Intel and AMD machines.

Both are defaults: a value already in the environment wins (TF_ENABLE_ONEDNN_OPTS=0
runs the figures measured before oneDNN was turned on; docs/speed.md).
A backend that is not installed stops the script with one line and exit 2.
"""

import importlib
import os
import platform
import sys

from lab.util import CliError

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

INSTALL = {"tensorflow": "pip install tensorflow-cpu", "jax": 'pip install "jax[cpu]"', "torch": "pip install torch"}


def _import_keras_with_stderr_closed():
    """oneDNN announces itself with an I0000 line logged before TF_CPP_MIN_LOG_LEVEL applies, so stderr is
    pointed at /dev/null while Keras loads its backend (an ImportError still surfaces: it is raised, not printed)."""
    saved_stderr, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import keras  # noqa: F401
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)


def _stop(message: str):
    """Bad input found while modules load, before run_cli can catch a CliError: its one line and exit 2."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


try:
    _import_keras_with_stderr_closed()
except ImportError as error:
    wanted = os.environ.get("KERAS_BACKEND", "tensorflow")
    _stop(f"the Keras backend {wanted!r} is not installed ({error}): {INSTALL.get(wanted, 'install it')}, "
          "or choose another with KERAS_BACKEND")

import keras  # noqa: E402

NAME = keras.backend.backend()
if NAME == "tensorflow":
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")


def is_tensorflow() -> bool:
    return NAME == "tensorflow"


def require_tensorflow(what: str):
    """CliError unless the backend is TensorFlow: `what` (a flag, an arch) has no form on the others."""
    if not is_tensorflow():
        raise CliError(f"{what} needs the TensorFlow backend; KERAS_BACKEND is {NAME}: drop it, or install "
                       f"tensorflow-cpu and set KERAS_BACKEND=tensorflow")


def exit_unless_tensorflow(script: str, why: str):
    """For an entry point whose training module imports TensorFlow: one line and exit 2 on another backend,
    before that import would fail with a traceback."""
    if not is_tensorflow():
        _stop(f"{script} runs on the TensorFlow backend only for now ({why}); KERAS_BACKEND is {NAME}: "
              "set KERAS_BACKEND=tensorflow")


def software() -> dict:
    """What a run's float rounding depends on beyond its flags: the backend and its version, Keras, the CPU kernels."""
    return {"backend": NAME, NAME: importlib.import_module(NAME).__version__, "keras": keras.__version__,
            "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS") if is_tensorflow() else None}


def machine() -> dict:
    """The processor a run's times and rounding came from (config.json): a ratio compares runs on one machine."""
    try:
        cpuinfo = open("/proc/cpuinfo").read()
    except OSError:  # not Linux: what the platform module knows
        return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "avx512": None,
                "device": device()}
    names = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    return {"cpu": names[0] if names else platform.machine(), "cores": os.cpu_count(),
            "avx512": "avx512f" in cpuinfo, "device": device()}


def device() -> str:
    """What the backend computes on, as a benchmark names it: the first GPU's model, else "CPU"."""
    if NAME == "jax":
        import jax

        first = jax.devices()[0]
        return first.device_kind if first.platform == "gpu" else "CPU"
    if is_tensorflow():
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU") if gpus else "CPU"
    return NAME


def compiled_inference(model):
    """model(x, training=False) compiled once, returning NumPy: what predict_on_batch does, without its ~0.5 ms of
    bookkeeping a call (an A2C rollout calls the network a dozen times on a few frames)."""
    import numpy as np

    if NAME == "jax":
        import jax

        run = jax.jit(lambda trainable, non_trainable, x: model.stateless_call(trainable, non_trainable, x,
                                                                               training=False)[0])
        return lambda x: keras.tree.map_structure(np.asarray, run(
            [v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables], x))
    if is_tensorflow():
        import tensorflow as tf

        run = tf.function(lambda x: model(x, training=False))
        return lambda x: keras.tree.map_structure(lambda tensor: tensor.numpy(), run(x))
    return model.predict_on_batch


def make_deterministic():
    """The same seed gives the same numbers: TensorFlow needs op determinism; JAX's CPU kernels are deterministic."""
    if is_tensorflow():
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def hide_gpus():
    """--cpu: everything runs on the CPU."""
    try:
        if is_tensorflow():
            import tensorflow as tf

            tf.config.set_visible_devices([], "GPU")
        elif NAME == "jax":
            import jax

            jax.config.update("jax_platforms", "cpu")
    except RuntimeError as error:
        raise CliError(f"--cpu must be set before {NAME} starts in this process ({error})")
