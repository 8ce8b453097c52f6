#!/usr/bin/env bash
# Fourteen cells of the paper's deconv_classification sweep on uniform, at once on one GPU: which of its
# dimensions (kernel size, width, weight decay, minibatch, LR) moves the held-out accuracy towards the paper's
# ~86%. Each cell runs the sweep's flags on a quarter of its schedule (-E 250, the LR ÷10 every 50 epochs, as
# the CPU probes in docs/results.md) until SECONDS of wall time.
#
#   bash gpu/deconv_cells.sh OUT_DIR [SECONDS]    # on the GPU machine (Keras from .whl, as gpu/run.sh)
# Only the histories and metrics are kept (--evaluation_h5 none): the outputs on every example would be 10s of MB.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: bash gpu/deconv_cells.sh OUT_DIR [SECONDS]}
SECONDS_EACH=${2:-180}
PYTHON=${PYTHON:-python3}
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false TF_CPP_MIN_LOG_LEVEL=3
CELLS="model1x_mb32_LR0.002_l2reg0._fs3 model1x_mb32_LR0.002_l2reg0._fs4 model1x_mb32_LR0.002_l2reg0._fs2
model2x_mb32_LR0.002_l2reg0._fs3 model3x_mb32_LR0.002_l2reg0._fs3 model1x_mb32_LR0.002_l2reg0.001_fs3
model1x_mb32_LR0.002_l2reg0.01_fs3 model1x_mb16_LR0.002_l2reg0._fs3 model1x_mb32_LR0.001_l2reg0._fs3
model1x_mb32_LR0.005_l2reg0._fs3 model3x_mb32_LR0.002_l2reg0._fs4 model3x_mb32_LR0.002_l2reg0.001_fs4
model2x_mb32_LR0.001_l2reg0.001_fs4 model3x_mb16_LR0.001_l2reg0.001_fs4"  # the first is the table's cell

$PYTHON data/not_so_clevr_generator.py --out-dir "$OUT/data" --splits uniform
PYTHON=$PYTHON bash experiment_logs.sh --write-list "$OUT/all.txt" --sweep deconv_classification --split uniform \
    --epochs 250 --data-dir "$OUT/data" --results "$OUT/sweep"
for cell in $CELLS; do
    pattern=${cell//./\\.}
    grep -E -- "(-r $pattern |/$pattern\$)" "$OUT/all.txt"  # resman's form or the plain --output one
done | sed "s/--lrstepevery 200/--lrstepevery 50/; s/\$/ --time-budget $SECONDS_EACH --evaluation_h5 none/" > "$OUT/cells.txt"
echo "$(wc -l < "$OUT/cells.txt") cells for ${SECONDS_EACH} s each"
tr '\n' '\0' < "$OUT/cells.txt" | xargs -0 -P 14 -n 1 bash -c
