#!/usr/bin/env bash
# Benchmark: stn-video with a fixed θ against the equivalent ffmpeg crop+scale, same libx264 settings.
#
#   pipelines/bench-fixed.sh [runs=5] [seconds=10]
#
# Generates a 1080p30 H.264 clip, then times, alternating, several runs of
#   stn-video --theta 0.5,0.1,-0.1 --size 256x256 --preset veryfast
#   ffmpeg -vf crop=…,pad=…,scale=256:256 -c:v libx264 -preset veryfast
# and prints fps of each (median) and the ratio. Both decode the same input and encode
# 256×256 H.264 with the same preset and CRF; audio is left out of both.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
seconds=${2:-10}
work=${BENCH_DIR:-/tmp/stn-bench}
mkdir -p "$work"
clip="$work/clip-1080p30-${seconds}s.mp4"
if [ ! -f "$clip" ]; then
  echo "generating $clip" >&2
  ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1920x1080:rate=30,noise=alls=12:allf=t" \
    -t "$seconds" -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p "$clip"
fi
frames=$(ffprobe -v error -count_packets -select_streams v:0 -show_entries stream=nb_read_packets -of csv=p=0 "$clip")
swift build -c release --product stn-video >&2
stn=.build/release/stn-video

# θ = (0.5, 0.1, -0.1) on the square canvas of a 1920×1080 frame (side 1920):
# window side 960 px, centre (1056, 864) in the canvas = (1056, 444) in the frame,
# so rows -36…923: crop the 924 rows inside the frame and pad 36 black rows on top.
vf="crop=960:924:576:0,pad=960:960:0:36:black,scale=256:256:flags=bilinear"

time_run() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N); awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

ours=(); theirs=()
for i in $(seq "$runs"); do
  ours+=("$(time_run "$stn" --quiet --no-audio --theta 0.5,0.1,-0.1 --size 256x256 --preset veryfast --crf 23 "$clip" "$work/ours.mp4")")
  theirs+=("$(time_run ffmpeg -nostdin -y -i "$clip" -an -vf "$vf" -c:v libx264 -preset veryfast -crf 23 "$work/theirs.mp4")")
done
ours_s=$(printf '%s\n' "${ours[@]}" | median)
theirs_s=$(printf '%s\n' "${theirs[@]}" | median)
printf 'input: %s (%s frames, 1920x1080)\n' "$clip" "$frames"
div() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }
printf 'stn-video  : %6.1f fps  (median of %s runs, %.2f s)\n' "$(div "$frames" "$ours_s")" "$runs" "$ours_s"
printf 'ffmpeg crop: %6.1f fps  (median of %s runs, %.2f s)\n' "$(div "$frames" "$theirs_s")" "$runs" "$theirs_s"
printf 'ratio stn-video / ffmpeg: %.2f\n' "$(div "$theirs_s" "$ours_s")"
