#!/usr/bin/env bash
# The GPU protocol: what a 2-core CPU cannot reach, run on Keras' JAX backend in about 8 minutes.
#
#   bash gpu/run.sh OUT_DIR            # on the GPU machine, from the repository's root, .whl/ carried
#   bash gpu/run.sh OUT_DIR --smoke    # the same steps at a tiny size, on any machine (tests/test_gpu_protocol.py)
#
# In this order, every figure into OUT_DIR (log.txt holds the console):
#  1. installs the wheels of gpu/wheels.txt from .whl/ (`make gpu-wheels`) when Keras is missing;
#  2. generates the Not-so-Clevr data there, then starts in the background `reproduce.py --baselines-full`: the
#     three baselines at the paper's budget and their CoordConv rows, all twelve runs at once, each ending within
#     BASELINE_SECONDS (OUT_DIR/baselines_full: table.md, curves.png, each run's history; baselines.log);
#  3. generates Sort-of-Clevr and trains the original README's two GAN commands (clevr_gan,
#     clevr_coordconv_in_gd) at once beside them, GAN_SECONDS each: per epoch, history.csv's mode-collapse and
#     latent-walk figures and fake_images/ grids (ARCH.log);
#  4. once every training has ended, python -m bench.layer on the GPU, which then has nothing else to run.
# A step that fails is reported and the others go on; the script then exits non-zero.
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
# Many JAX processes share the GPU: each takes the memory it uses, not three quarters of the card.
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false TF_CPP_MIN_LOG_LEVEL=3
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2> >(tee -a "$OUT/log.txt" >&2)

GAN_FLAGS="-mb 16 -L 0.0001 --lr2 .0005 --opt adam --z_dim 256"  # the original README's
if [ -n "$SMOKE" ]; then
    GAN_SECONDS=1 EPOCHS=1 CLEVR_COUNT=64 BENCH="--repeats 2"
    GAN_FLAGS="$GAN_FLAGS --width 8 --metric-samples 8"
    BASELINE_SECONDS=1 BASELINES="--only regression --splits quadrant --jobs 2"
else
    GAN_SECONDS=300 EPOCHS=1000 CLEVR_COUNT=50000 BENCH="--repeats 20"
    BASELINE_SECONDS=390 BASELINES="--jobs 12"
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

FAILED=()
finish() {  # finish NAME PID: waits for a background step; a failure is reported and the others go on
    wait "$2" && step "$1 ended" || { FAILED+=("$1"); echo "error: $1 failed, see its log" >&2; }
}

step "data: Not-so-Clevr"
$PYTHON data/not_so_clevr_generator.py --out-dir "$DATA"

step "baselines at the paper's budget beside CoordConv, ${BASELINE_SECONDS} s each, in the background"
# shellcheck disable=SC2086
$PYTHON reproduce.py --baselines-full $BASELINES --time-budget "$BASELINE_SECONDS" --data-dir "$DATA" \
    --results "$OUT" >"$OUT/baselines.log" 2>&1 &
BASELINES_PID=$!

step "data: Sort-of-Clevr"
$PYTHON data/sort_of_clevr_generator.py --out-dir "$DATA/sort_of_clevr" --count "$CLEVR_COUNT" --quiet

GANS=()
for arch in clevr_gan clevr_coordconv_in_gd; do
    step "$arch for ${GAN_SECONDS} s, in the background"
    # shellcheck disable=SC2086
    $PYTHON train_gan.py --arch "$arch" $GAN_FLAGS -E "$EPOCHS" --time-budget "$GAN_SECONDS" \
        --data_h5 "$CLEVR" --output "$OUT/$arch" >"$OUT/$arch.log" 2>&1 &
    GANS+=("$arch:$!")
done
for gan in "${GANS[@]}"; do
    finish "${gan%%:*}" "${gan##*:}"
done
finish baselines "$BASELINES_PID"
tail -n 40 "$OUT/baselines.log"

step "bench.layer"
# shellcheck disable=SC2086
$PYTHON -m bench.layer $BENCH || FAILED+=(bench.layer)
[ ${#FAILED[@]} -eq 0 ] || { echo "error: failed: ${FAILED[*]}" >&2; exit 1; }
step "done: $OUT"
