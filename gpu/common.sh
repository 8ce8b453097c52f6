# Sourced by gpu/run.sh and gpu/gan_scale.sh: `step`, and Keras with ale-py installed from the carried wheels of
# gpu/wheels.txt (`make gpu-wheels`) where the interpreter lacks them (the GPU machine: JAX, no Keras).
# Reads INTERPRETER (the Python) and WHEELS (the folder of wheels).
step() { echo "=== $(date -u +%T) $*"; }

if ! $INTERPRETER -c "import keras, ale_py" 2>/dev/null; then
    step "installing the wheels of gpu/wheels.txt from $WHEELS/"
    ls "$WHEELS"/*.whl >/dev/null 2>&1 || {
        echo "error: Keras is missing and $WHEELS/ holds no wheels: run make gpu-wheels here and carry .whl" >&2; exit 2; }
    $INTERPRETER -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        "$WHEELS"/*.whl
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
$INTERPRETER -c "import jax, keras; print('keras', keras.__version__, 'on jax', jax.__version__, jax.devices())"
