#!/usr/bin/env bash
# Training and inference throughput of STNCore (`stn-bench train`: the localisation nets'
# forward on one 64×64 input, the PyTorch-tutorial ST-CNN's training step on 60×60, batch 64,
# on 1 and 2 threads), then, when `import torch` works, the same architecture in PyTorch on CPU
# in the same run at the same thread counts (pipelines/bench_train_torch.py) and the ratios
# Swift / PyTorch, wall-clock and per CPU-second. The load average is printed with the figures:
# two-thread figures mean little when another job holds a core.
#
#   pipelines/bench-train.sh [steps]        (default 30 timed steps after 3 warm-up steps)
#
# Not a test: numbers depend on the machine's load.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
STEPS="${1:-30}"
bench_build stn-bench
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
SWIFT_OUT="$("$BENCH_BIN/stn-bench" train --steps "$STEPS" --threads 1,2)"
echo "$SWIFT_OUT"

if ! python3 -c "import torch" 2>/dev/null; then
    echo "torch not importable: no PyTorch comparison"
    exit 0
fi
# One argument per thread count: THREADS:IMAGES_PER_S:IMAGES_PER_CPU_S.
SWIFT_RATES="$(echo "$SWIFT_OUT" |
    sed -n 's/^swift train (\([0-9]*\) threads*): \([0-9.]*\) images.*; \([0-9.]*\) images per CPU.*/\1:\2:\3/p')"
# shellcheck disable=SC2086 # one word per thread count
python3 "$BENCH_PIPELINES/bench_train_torch.py" "$STEPS" $SWIFT_RATES
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
