#!/usr/bin/env bash
# The paper's §4 hyper-parameter sweeps (its experiment_logs.sh), fixed and runnable.
#
#   bash experiment_logs.sh --dry-run                 list every command and the count per sweep
#   bash experiment_logs.sh --jobs 4                  run them all, 4 at a time on this machine
#   bash experiment_logs.sh --write-list jobs.txt     one command per line, for a cluster scheduler
#   bash experiment_logs.sh --summarize               all metrics.json -> one CSV + best run per sweep
#
# Fixes to the paper's script: loops that did not parse (`in{16,32}`), the
# misspelled data/rectangle_4_quarant.h5, CoordConv rendering without a loss
# flag and with 1x1 filters only (it cannot draw a 9x9 square: now -sig -fs 3),
# and the CoordConv regression runs that were bare commands (now a sweep: the
# paper's run and the same without L2).
set -euo pipefail
cd "$(dirname "$0")"

usage() {
    cat <<'EOF'
usage: experiment_logs.sh [--dry-run] [--jobs N] [--write-list FILE] [--summarize]
                          [--sweep NAME]... [--split uniform|quadrant]... [--epochs E]
                          [--results DIR] [--data-dir DIR]
sweeps: deconv_classification coordconv_classification conv_regression
        coordconv_regression deconv_rendering coordconv_rendering
EOF
}

ALL_SWEEPS=(deconv_classification coordconv_classification conv_regression
            coordconv_regression deconv_rendering coordconv_rendering)
if [ -z "${PYTHON:-}" ]; then
    PYTHON=python3
    [ -x .venv/bin/python ] && PYTHON=.venv/bin/python
fi
DRY_RUN=0 JOBS=1 LIST="" SUMMARIZE=0 EPOCHS="" RESULTS=results/sweeps DATA_DIR=data
SWEEPS=() SPLITS=()

fail() { echo "error: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY_RUN=1 ;;
        --jobs) JOBS=${2:?--jobs needs a number}; shift ;;
        --write-list) LIST=${2:?--write-list needs a file}; shift ;;
        --summarize) SUMMARIZE=1 ;;
        --sweep) SWEEPS+=("${2:?--sweep needs a name}"); shift ;;
        --split) SPLITS+=("${2:?--split needs uniform or quadrant}"); shift ;;
        --epochs) EPOCHS=${2:?--epochs needs a number}; shift ;;
        --results) RESULTS=${2:?--results needs a folder}; shift ;;
        --data-dir) DATA_DIR=${2:?--data-dir needs a folder}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) fail "unknown option $1 (see --help)" ;;
    esac
    shift
done
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || fail "--jobs must be a positive whole number, got $JOBS"
[ -z "$EPOCHS" ] || [[ "$EPOCHS" =~ ^[1-9][0-9]*$ ]] || fail "--epochs must be a positive whole number, got $EPOCHS"
[ ${#SWEEPS[@]} -gt 0 ] || SWEEPS=("${ALL_SWEEPS[@]}")
[ ${#SPLITS[@]} -gt 0 ] || SPLITS=(uniform quadrant)
for sweep in "${SWEEPS[@]}"; do
    [[ " ${ALL_SWEEPS[*]} " == *" $sweep "* ]] || fail "unknown sweep $sweep; choose from ${ALL_SWEEPS[*]}"
done
for split in "${SPLITS[@]}"; do
    [[ "$split" == uniform || "$split" == quadrant ]] || fail "unknown split $split; choose uniform or quadrant"
done

if [ "$SUMMARIZE" = 1 ]; then
    exec "$PYTHON" -m studies.summarize_sweeps "$RESULTS"
fi

# emit SWEEP SPLIT RUN_NAME TRAIN_ARGS...: one line per run
deconv_classification() {
    local split=$1 lr l2 fs mul mb
    for lr in 0.001 0.002 0.005 0.01 0.02 0.05; do for l2 in 0. 0.001 0.01; do
    for fs in 2 3 4; do for mul in 1 2 3; do for mb in 16 32; do
        echo "model${mul}x_mb${mb}_LR${lr}_l2reg${l2}_fs${fs} --arch deconv_classification -mb $mb -E 1000" \
             "-L $lr --opt adam --l2 $l2 -mul $mul -fs $fs --lrpolicy step --lrstepratio 0.1" \
             "--lrstepevery 200 --lrmaxsteps 4"
    done; done; done; done; done
}

coordconv_classification() {
    local split=$1 lr l2
    for lr in 0.001 0.005 0.01; do for l2 in 0. 0.001; do
        echo "model1x_mb16_LR${lr}_l2reg${l2} --arch coordconv_classification -mb 16 -E 50 -L $lr --opt adam" \
             "--l2 $l2 -mul 1 -fs 1"
    done; done
}

conv_regression() {
    local split=$1 lr l2
    for lr in 0.0005 0.001 0.01; do for l2 in 1e-5 1e-4 5e-4; do
        echo "model_LR${lr}_l2reg${l2} --arch conv_regressor -E 100 -L $lr --opt adam --l2 $l2 -mul 1"
    done; done
}

coordconv_regression() {
    local split=$1 l2
    for l2 in 0.00001 0.; do
        echo "model_LR0.01_l2reg${l2} --arch coordconv_regressor -E 100 -L 0.01 --opt adam --l2 $l2"
    done
}

deconv_rendering() {
    local split=$1 lr l2 fs mul mb loss
    for lr in 0.001 0.002 0.005 0.01 0.02 0.05; do for l2 in 0. 0.001 0.01; do
    for fs in 2 3 4; do for mul in 1 2 3; do for mb in 16 32; do for loss in sig mse; do
        echo "model${mul}x_mb${mb}_LR${lr}_l2reg${l2}_fs${fs}_${loss} --arch deconv_rendering -mb $mb -E 1000" \
             "-L $lr --opt adam --l2 $l2 -mul $mul -fs $fs --lrpolicy step --lrstepratio 0.1" \
             "--lrstepevery 200 --lrmaxsteps 4 -$loss"
    done; done; done; done; done; done
}

coordconv_rendering() {
    local split=$1 lr l2 mul
    for lr in 0.001 0.005; do for l2 in 0. 0.001; do for mul in 1 2; do
        echo "model${mul}x_mb16_LR${lr}_l2reg${l2} --arch coordconv_rendering -mb 16 -E 50 -L $lr --opt adam" \
             "--l2 $l2 -mul $mul -fs 3 -sig"
    done; done; done
}

# one shell command per run: through resman when it is installed, else straight to --output
command_for() {
    local sweep=$1 split=$2 name=$3; shift 3
    local args="$* --data_h5 $DATA_DIR/rectangle_4_${split}.h5"
    [ -z "$EPOCHS" ] || args=$(echo "$args" | sed -E "s/-E [0-9]+/-E $EPOCHS/")
    local folder="$RESULTS/${sweep}_${split}"
    if command -v resman >/dev/null 2>&1 || [ -x .venv/bin/resman ]; then
        local resman; resman=$(command -v resman || echo .venv/bin/resman)
        # mkdir first: resman's own mkdir races when runs start in parallel
        echo "mkdir -p $folder && $resman -d $folder -r $name -- $PYTHON train.py --quiet $args"
    else
        echo "$PYTHON train.py --quiet $args --output $folder/$name"
    fi
}

all_commands() {
    local sweep split line
    for sweep in "${SWEEPS[@]}"; do for split in "${SPLITS[@]}"; do
        "$sweep" "$split" | while read -r line; do
            # shellcheck disable=SC2086
            command_for "$sweep" "$split" $line
        done
    done; done
}

count_per_sweep() {
    local sweep split
    for sweep in "${SWEEPS[@]}"; do for split in "${SPLITS[@]}"; do
        printf '%-26s %-9s %4d runs\n' "$sweep" "$split" "$("$sweep" "$split" | wc -l)"
    done; done
}

if [ "$DRY_RUN" = 1 ]; then
    all_commands
    echo
    count_per_sweep
    exit 0
fi
if [ -n "$LIST" ]; then
    all_commands > "$LIST"
    echo "wrote $(wc -l < "$LIST") commands to $LIST"
    exit 0
fi
for split in "${SPLITS[@]}"; do
    [ -f "$DATA_DIR/rectangle_4_${split}.h5" ] || "$PYTHON" data/not_so_clevr_generator.py --out-dir "$DATA_DIR"
done
all_commands | tr '\n' '\0' | xargs -0 -P "$JOBS" -n 1 bash -c
"$PYTHON" -m studies.summarize_sweeps "$RESULTS"
