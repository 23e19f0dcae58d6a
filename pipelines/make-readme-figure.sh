#!/usr/bin/env bash
# Makes docs/overlay-and-crop.png for the README: one frame of the sample video with the
# model's raw (red) and smoothed (green) windows drawn on it, beside the rectified crop.
#   pipelines/make-readme-figure.sh [input=samples/fashion-640x360.mp4] [frame=120]
set -euo pipefail
cd "$(dirname "$0")/.."
input=${1:-samples/fashion-640x360.mp4}
frame=${2:-120}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stn=.build/release/stn-video
[ -x "$stn" ] || swift build -c release --product stn-video >&2
"$stn" --quiet --size 256x256 --overlay "$work/overlay.mp4" "$input" "$work/crop.mp4"
ffmpeg -nostdin -v error -y -i "$work/overlay.mp4" -i "$work/crop.mp4" -filter_complex \
  "[0:v]select=eq(n\,$frame),scale=-2:360[a];[1:v]select=eq(n\,$frame),scale=360:360[b];[a][b]hstack=inputs=2" \
  -frames:v 1 docs/overlay-and-crop.png
echo "wrote docs/overlay-and-crop.png (frame $frame of $input)"
