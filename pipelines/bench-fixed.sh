#!/usr/bin/env bash
# Benchmark: stn-video with a fixed θ against the equivalent ffmpeg crop+pad+scale, same
# libx264 settings, on a generated 1080p30 H.264 clip; fps of each (median) and the ratio.
#
#   pipelines/bench-fixed.sh [runs=5] [seconds=10]
#
# bench_pipeline.py's --theta mode: θ = (0.5, 0.1, -0.1) on the square canvas of a 1920×1080
# frame is the window of side 960 px centred at (1056, 444) in the frame, rows -36…923: ffmpeg
# crops the 924 rows inside the frame and pads 36 black rows on top. Audio is left out of both.
set -euo pipefail
exec python3 "$(dirname "${BASH_SOURCE[0]}")/bench_pipeline.py" --theta 0.5,0.1,-0.1 --sizes 1920x1080 \
    --runs "${1:-5}" --seconds "${2:-10}" --skip-rss
