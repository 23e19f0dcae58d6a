#!/usr/bin/env bash
# Builds stn-video with AddressSanitizer (LeakSanitizer included) and runs it on short
# generated inputs along every path that owns FFmpeg objects: audio copy, overlay, a model,
# MPEG-TS audio into a fragmented MP4 on a pipe, an early SIGINT, a closed output pipe, and
# an error. Any leak or memory error makes ASan print a report and exit non-zero.
# (valgrind 3.19 cannot read the DWARF 5 that Swift 6.3 emits, hence ASan.)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --sanitize=address --product stn-video --scratch-path .build-asan >&2
stn=.build-asan/debug/stn-video
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine -frames:v 50 -t 2 \
  -c:v libx264 -preset ultrafast -c:a aac "$work/clip.mp4"
ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=640x480:rate=30 -frames:v 600 -c:v libx264 -preset ultrafast "$work/long.mp4"
run() { echo "+ $*" >&2; "$@"; }
run "$stn" --quiet --theta 0.5,0,0 --size 64x64 --overlay "$work/ov.mp4" "$work/clip.mp4" "$work/a.mp4"
run "$stn" --quiet --model Tests/STNCoreTests/Fixtures/stn_model_reference.safetensors --lookahead 3 "$work/clip.mp4" "$work/b.mkv"
ffmpeg -nostdin -v error -i "$work/clip.mp4" -c copy -f mpegts - | "$stn" --quiet --theta 0.5,0,0 --format mp4 - - > "$work/c.mp4"
"$stn" --quiet --theta 0.5,0,0 --size 512x512 --preset veryslow "$work/long.mp4" "$work/d.mp4" & pid=$!
sleep 2; kill -INT $pid; status=0; wait $pid || status=$?
[ "$status" -eq 130 ] || { echo "SIGINT run: exit $status, expected 130" >&2; exit 1; }
"$stn" --theta 0.5,0,0 "$work/clip.mp4" - 2> "$work/pipe.err" | head -c 100 > /dev/null || true
if grep -q Sanitizer "$work/pipe.err"; then cat "$work/pipe.err" >&2; exit 1; fi
status=0; "$stn" --quiet --theta 1,0,0 "$work/missing.mp4" "$work/e.mp4" 2>/dev/null || status=$?
[ "$status" -eq 1 ] || { echo "error run: exit $status, expected 1" >&2; exit 1; }
# The less-trodden paths: a rotated input, an odd-sized overlay, audio a container refuses only at its
# header (a dry-run header in memory), MPEG-2 in MPEG-PS, a setup failure, a stalled pipe.
ffmpeg -nostdin -v error -i "$work/clip.mp4" -c copy -metadata:s:v rotate=90 "$work/rot.mp4"
run "$stn" --quiet --theta 0.5,0,0 --size 64x64 "$work/rot.mp4" "$work/f.mp4"
ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=161x121:rate=25 -f lavfi -i sine -frames:v 20 -t 0.8 -c:v ffv1 -c:a flac "$work/odd.mkv"
run "$stn" --quiet --theta 0.5,0,0 --size 64x64 --overlay "$work/odd-ov.mp4" "$work/odd.mkv" "$work/g.mp4"
run "$stn" --quiet --theta 0.5,0,0 --size 64x64 "$work/clip.mp4" "$work/h.mpg"
mkdir "$work/logdir"
status=0; "$stn" --quiet --theta 0.5,0,0 --log "$work/logdir" "$work/clip.mp4" "$work/i.mp4" 2>/dev/null || status=$?
[ "$status" -eq 1 ] || { echo "setup-failure run: exit $status, expected 1" >&2; exit 1; }
ffmpeg -nostdin -v error -i "$work/clip.mp4" -c:v copy -an -f nut "$work/clip.nut"
(cat "$work/clip.nut"; sleep 20) | "$stn" --quiet --theta 0.5,0,0 - "$work/j.mkv" 2> "$work/stall.err" & sleep 3
pkill -TERM -f -- "- $work/j.mkv" || true; wait $! 2>/dev/null || true
if grep -q Sanitizer "$work/stall.err"; then cat "$work/stall.err" >&2; exit 1; fi
echo "asan-check: no leaks or memory errors reported"
