#!/usr/bin/env bash
# The original README's two GAN commands at the paper's scale, both at once on the one GPU, on Keras' JAX backend:
# clevr_gan and clevr_coordconv_in_gd, full width, 50 epochs of 50,000 Sort-of-Clevr images, carried over calls.
#
#   bash gpu/gan_scale.sh OUT_DIR [PARTS_DIR]            # on the GPU machine, .whl/ carried (as gpu/run.sh)
#   bash gpu/gan_scale.sh OUT_DIR --smoke [PARTS_DIR]    # the same at a tiny size, on any machine
#
# In this order, into OUT_DIR:
#  1. installs the wheels of gpu/wheels.txt from .whl/ when Keras or ale-py is missing (gpu/common.sh, as gpu/run.sh);
#  2. generates Sort-of-Clevr, then restores each run whose parts PARTS_DIR holds (a previous call's OUT/parts);
#  3. trains both GANs at once with the README's flags, -E 50, --dtype mixed_bfloat16 (bf16 tensor cores) and
#     --steps_per_execution 100, each stopping within GAN_SECONDS: per epoch, history.csv's mode-collapse,
#     distribution and latent-walk figures and fake_images/ grids;
#  4. python -m studies.gan_scale report: table.md and side_by_side.png;
#  5. packs each run with epochs left whose state fits into OUT/parts (studies.gan_scale carry), and bundles the
#     histories, metrics, last grids, report and log into OUT/results.tar: a call returns at most 8 files.
# A later call given OUT/parts continues the runs; the resumed figures are those of an unbroken run (tests).
# PYTHON overrides the interpreter, WHEELS the folder of wheels.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: bash gpu/gan_scale.sh OUT_DIR [--smoke] [PARTS_DIR]}
shift
SMOKE=""
if [ "${1:-}" = --smoke ]; then SMOKE=1; shift; fi
PARTS=${1:-}
[ -z "$PARTS" ] || [ -d "$PARTS" ] || { echo "error: PARTS_DIR $PARTS is not a folder (a previous call's OUT/parts)" >&2; exit 2; }
PYTHON=${PYTHON:-python3}
INTERPRETER=${PYTHON%% *}
WHEELS=${WHEELS:-.whl}
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false TF_CPP_MIN_LOG_LEVEL=3
mkdir -p "$OUT/runs"
exec > >(tee "$OUT/log.txt") 2> >(tee -a "$OUT/log.txt" >&2)

GAN_FLAGS="-mb 16 -L 0.0001 --lr2 .0005 --opt adam --z_dim 256"  # the original README's
if [ -n "$SMOKE" ]; then
    GAN_SECONDS=1 EPOCHS=2 CLEVR_COUNT=64 STEPS=2
    GAN_FLAGS="$GAN_FLAGS --width 8 --metric-samples 8"
else
    GAN_SECONDS=${GAN_SECONDS:-480} EPOCHS=50 CLEVR_COUNT=50000 STEPS=100
fi
CLEVR="$OUT/data/sort_of_clevr_2objs_10rad_${CLEVR_COUNT}imgs_64x.h5"
# shellcheck source=gpu/common.sh
source gpu/common.sh

step "data: Sort-of-Clevr, $CLEVR_COUNT images"
$PYTHON data/sort_of_clevr_generator.py --out-dir "$OUT/data" --count "$CLEVR_COUNT" --quiet
for arch in clevr_gan clevr_coordconv_in_gd; do
    if [ -n "$PARTS" ] && [ -f "$PARTS/$arch.manifest.json" ]; then
        step "$arch: restored from $PARTS"
        $PYTHON -m studies.gan_scale unpack "$PARTS" "$OUT/runs/$arch"
    fi
done

PIDS=()
for arch in clevr_gan clevr_coordconv_in_gd; do
    step "$arch: up to $EPOCHS epochs within ${GAN_SECONDS} s, in the background"
    # shellcheck disable=SC2086
    $PYTHON train_gan.py --arch "$arch" $GAN_FLAGS -E "$EPOCHS" --dtype mixed_bfloat16 --steps_per_execution "$STEPS" \
        --time-budget "$GAN_SECONDS" --snapshot-every 0 --data_h5 "$CLEVR" --output "$OUT/runs/$arch" \
        >"$OUT/runs/$arch.log" 2>&1 &
    PIDS+=("$arch:$!")
done
FAILED=()
for run in "${PIDS[@]}"; do
    wait "${run##*:}" && step "${run%%:*} ended" || { FAILED+=("${run%%:*}"); echo "error: ${run%%:*} failed" >&2; }
done
tail -n 3 "$OUT"/runs/*.log

step "report"
$PYTHON -m studies.gan_scale report "$OUT/runs" || FAILED+=(report)
step "the state of the runs with epochs left, for the next call"
$PYTHON -m studies.gan_scale carry "$OUT/runs" "$OUT/parts" --epochs "$EPOCHS" || FAILED+=(carry)
last_images() {  # the first and the last epoch's sample grid and latent walks of each run
    for arch in clevr_gan clevr_coordconv_in_gd; do
        for kind in samples_bn0 interpolation; do
            ls "runs/$arch/fake_images/${kind}"_epoch*.png 2>/dev/null | sed -n '1p;$p'
        done
    done
}
(cd "$OUT" && tar -cf results.tar --ignore-failed-read log.txt runs/*.log runs/table.md runs/side_by_side.png \
    runs/*/history.csv runs/*/metrics.json runs/*/config.json $(last_images) 2>/dev/null) || true
[ ${#FAILED[@]} -eq 0 ] || { echo "error: failed: ${FAILED[*]}" >&2; exit 1; }
step "done: $OUT (results.tar, parts/)"
