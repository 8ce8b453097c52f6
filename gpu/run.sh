#!/usr/bin/env bash
# The GPU protocol: what a 2-core CPU cannot reach, run on Keras' JAX backend in about 8 minutes. The README's
# two GANs at the paper's scale have a protocol of their own: gpu/gan_scale.sh.
#
#   bash gpu/run.sh OUT_DIR            # on the GPU machine, from the repository's root, .whl/ carried
#   bash gpu/run.sh OUT_DIR --smoke    # the same steps at a tiny size, on any machine (tests/test_gpu_protocol.py)
#
# In this order, every figure into OUT_DIR (log.txt holds the console):
#  1. installs the wheels of gpu/wheels.txt from .whl/ (`make gpu-wheels`) when Keras or ale-py is missing
#     (gpu/common.sh);
#  2. generates the Not-so-Clevr data there, then starts in the background `reproduce.py --baselines-full`: the
#     three baselines at the paper's budget and their CoordConv rows, all twelve runs at once, each ending within
#     BASELINE_SECONDS (OUT_DIR/baselines_full: table.md, curves.png, each run's history; baselines.log);
#  3. the A2C study (studies.reproduce_rl: Ms. Pac-Man, both archs, seeds 0-2) beside them, its six runs at once,
#     each on a core of its own with the network on the GPU, RL_FRAMES frames or RL_SECONDS of training each,
#     then its 30-game evaluation (OUT_DIR/rl: table.md, returns.png, each run's history; rl.log);
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

if [ -n "$SMOKE" ]; then
    BENCH="--repeats 2" BASELINE_SECONDS=1 BASELINES="--only regression --splits quadrant --jobs 2"
    RL="--frames 640 --envs 4 --log-every 320 --eval-episodes 2 --seeds 0 --jobs 2"
else
    BENCH="--repeats 20" BASELINE_SECONDS=390 BASELINES="--jobs 12"
    # six runs at once, each on a core: about 2 million frames each in its 330 s, if the emulators run there as
    # here (about 12,000 frames/s a thread); the evaluation's 30 games follow
    RL="--frames 2000000 --time-budget 330 --jobs 6"
fi
DATA="$OUT/data"

# shellcheck source=gpu/common.sh
source gpu/common.sh

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

step "the A2C study, in the background"
# shellcheck disable=SC2086
$PYTHON -m studies.reproduce_rl $RL --results "$OUT/rl" >"$OUT/rl.log" 2>&1 &
RL_PID=$!

finish rl "$RL_PID"
tail -n 12 "$OUT/rl.log"
finish baselines "$BASELINES_PID"
tail -n 40 "$OUT/baselines.log"

step "bench.layer"
# shellcheck disable=SC2086
$PYTHON -m bench.layer $BENCH || FAILED+=(bench.layer)
[ ${#FAILED[@]} -eq 0 ] || { echo "error: failed: ${FAILED[*]}" >&2; exit 1; }
step "done: $OUT"
