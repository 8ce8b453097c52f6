#!/usr/bin/env bash
# The GPU protocol: what a 2-core CPU cannot reach, run on Keras' JAX backend in at most 9 minutes.
#
#   bash gpu/run.sh OUT_DIR            # on the GPU machine, from the repository's root, .whl/ carried
#   bash gpu/run.sh OUT_DIR --smoke    # the same steps at a tiny size, on any machine (tests/test_gpu_protocol.py)
#
# In this order, every figure into OUT_DIR (log.txt holds the console):
#  1. installs the wheels of gpu/wheels.txt from .whl/ (`make gpu-wheels`) when Keras is missing;
#  2. generates the Not-so-Clevr and Sort-of-Clevr data there;
#  3. the original README's two GAN commands (clevr_gan, clevr_coordconv_in_gd), GAN_SECONDS each (with their
#     start-ups, about half the 9 minutes): per epoch, history.csv's mode-collapse and latent-walk figures and
#     fake_images/ grids;
#  4. deconv_classification on both splits at the paper's flags (experiment_logs.sh) for DECONV_SECONDS each;
#  5. python -m bench.layer on the GPU.
# PYTHON overrides the interpreter (the smoke test runs it where TensorFlow cannot be imported), WHEELS the
# folder of wheels (.whl).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: bash gpu/run.sh OUT_DIR [--smoke]}
SMOKE=${2:-}
[ -z "$SMOKE" ] || [ "$SMOKE" = --smoke ] || { echo "error: the second argument can only be --smoke, got $SMOKE" >&2; exit 2; }
PYTHON=${PYTHON:-python3}
INTERPRETER=${PYTHON%% *}  # for -c: PYTHON may be a runner script after it
WHEELS=${WHEELS:-.whl}
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2> >(tee -a "$OUT/log.txt" >&2)

GAN_FLAGS="-mb 16 -L 0.0001 --lr2 .0005 --opt adam --z_dim 256"  # the original README's
DECONV_FLAGS="-mb 32 -L 0.002 --opt adam -mul 1 -fs 3 --lrpolicy step --lrstepevery 200 --lrmaxsteps 4"
if [ -n "$SMOKE" ]; then
    GAN_SECONDS=1 DECONV_SECONDS=1 EPOCHS=1 CLEVR_COUNT=64 BENCH="--repeats 2"
    GAN_FLAGS="$GAN_FLAGS --width 8 --metric-samples 8"
else
    GAN_SECONDS=100 DECONV_SECONDS=45 EPOCHS=1000 CLEVR_COUNT=50000 BENCH="--repeats 20"
fi
DATA="$OUT/data"
CLEVR="$DATA/sort_of_clevr/sort_of_clevr_2objs_10rad_${CLEVR_COUNT}imgs_64x.h5"

step() { echo "=== $(date -u +%T) $*"; }

if ! $INTERPRETER -c "import keras" 2>/dev/null; then
    step "installing the wheels of gpu/wheels.txt from $WHEELS/"
    ls "$WHEELS"/*.whl >/dev/null 2>&1 || {
        echo "error: Keras is missing and $WHEELS/ holds no wheels: run make gpu-wheels here and carry .whl" >&2; exit 2; }
    $INTERPRETER -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        "$WHEELS"/*.whl
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
$INTERPRETER -c "import jax, keras; print('keras', keras.__version__, 'on jax', jax.__version__, jax.devices())"

step "data"
$PYTHON data/not_so_clevr_generator.py --out-dir "$DATA"
$PYTHON data/sort_of_clevr_generator.py --out-dir "$DATA/sort_of_clevr" --count "$CLEVR_COUNT" --quiet

for arch in clevr_gan clevr_coordconv_in_gd; do
    step "$arch for ${GAN_SECONDS} s"
    # shellcheck disable=SC2086
    $PYTHON train_gan.py --arch "$arch" $GAN_FLAGS -E "$EPOCHS" --time-budget "$GAN_SECONDS" \
        --data_h5 "$CLEVR" --output "$OUT/$arch"
done

for split in uniform quadrant; do
    step "deconv_classification, $split, for ${DECONV_SECONDS} s"
    # shellcheck disable=SC2086
    $PYTHON train.py --arch deconv_classification $DECONV_FLAGS -E "$EPOCHS" --time-budget "$DECONV_SECONDS" \
        --data_h5 "$DATA/rectangle_4_$split.h5" --evaluation_h5 none --output "$OUT/deconv_classification_$split"
done

step "bench.layer"
# shellcheck disable=SC2086
$PYTHON -m bench.layer $BENCH
step "done: $OUT"
