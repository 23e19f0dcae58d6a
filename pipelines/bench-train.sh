#!/usr/bin/env bash
# Training and inference throughput of STNCore (`stn-bench train`: the localisation nets'
# forward on one 64×64 input, the PyTorch-tutorial ST-CNN's training step on 60×60, batch 64),
# then, when `import torch` works, the same architecture in PyTorch on CPU in the same run
# (pipelines/bench_train_torch.py) and the ratios Swift / PyTorch, wall-clock and per CPU-second.
#
#   pipelines/bench-train.sh [steps]        (default 30 timed steps after 3 warm-up steps)
#
# Not a test: numbers depend on the machine's load.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
STEPS="${1:-30}"
bench_build stn-bench
SWIFT_OUT="$("$BENCH_BIN/stn-bench" train --steps "$STEPS")"
echo "$SWIFT_OUT"

if ! python3 -c "import torch" 2>/dev/null; then
    echo "torch not importable: no PyTorch comparison"
    exit 0
fi
SWIFT_IPS="$(echo "$SWIFT_OUT" | sed -n 's/^swift train: \([0-9.]*\) images.*/\1/p')"
SWIFT_CPU="$(echo "$SWIFT_OUT" | sed -n 's/^swift train: .*; \([0-9.]*\) images per CPU.*/\1/p')"
python3 "$BENCH_PIPELINES/bench_train_torch.py" "$STEPS" "$SWIFT_IPS" "$SWIFT_CPU"
