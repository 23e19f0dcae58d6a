#!/usr/bin/env bash
# The frame sampler (FrameSampling, DESIGN.md §2) against libswscale on the same job, in one
# process, one thread each: `stn-bench sampler` (Sources/stn-bench/SamplerBench.swift says
# what is timed). Median CPU time per frame; the ratio is swscale's time over the sampler's.
#
#   pipelines/bench-sampler.sh [frames] [runs]      (default 1000 frames, 5 runs)
#
# Not a test: numbers depend on the machine.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
bench_build stn-bench
"$BENCH_BIN/stn-bench" sampler --frames "${1:-1000}" --runs "${2:-5}"
