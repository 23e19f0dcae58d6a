#!/usr/bin/env bash
# What a model does on real footage: the opencv-doc clips (vtest.avi, Megamind.avi, tree.avi).
#
#   pipelines/real-clips.sh [model.safetensors] [out-dir]
#
# Runs stn-video with default flags and --overlay on each clip, prints per clip the frames,
# the share the model calls present (presence ≥ 0.5), the most frequent labels and the mean
# presence, and writes <out-dir>/<clip>-overlay.png: four overlay frames (at 20, 40, 60 and
# 80 % of the clip) side by side. Needs Debian's opencv-doc (apt-get install opencv-doc).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-}
out=${2:-/tmp/stn-real-clips}
data=/usr/share/doc/opencv-doc/examples/data
[ -d "$data" ] || { echo "real-clips.sh: $data is missing (apt-get install opencv-doc)" >&2; exit 1; }
stn=${STN_VIDEO:-.build/release/stn-video}
[ -x "$stn" ] || swift build -c release --product stn-video >&2
mkdir -p "$out"
printf '| clip | frames | called present | mean presence | most frequent labels |\n|---|---|---|---|---|\n'
for clip in vtest.avi Megamind.avi tree.avi; do
  name=${clip%.avi}
  "$stn" --quiet ${model:+--model "$model"} --overlay "$out/$name-overlay.mp4" --log "$out/$name.csv" \
    "$data/$clip" "$out/$name.mp4"
  python3 - "$out/$name.csv" "$clip" <<'PY'
import csv, sys, collections
rows = list(csv.DictReader(open(sys.argv[1])))
if not rows or "presence" not in rows[0]:
    print(f"| {sys.argv[2]} | {len(rows)} | (no classifier) | | |"); sys.exit()
present = sum(float(r["presence"]) >= 0.5 for r in rows)
mean = sum(float(r["presence"]) for r in rows) / len(rows)
labels = collections.Counter(r["label"] for r in rows).most_common(3)
top = ", ".join(f"{l} {100 * n / len(rows):.0f} %" for l, n in labels)
print(f"| {sys.argv[2]} | {len(rows)} | {100 * present / len(rows):.1f} % | {mean:.3f} | {top} |")
PY
  frames=$(( $(wc -l < "$out/$name.csv") - 1 ))
  select=$(printf 'eq(n\\,%d)+eq(n\\,%d)+eq(n\\,%d)+eq(n\\,%d)' $((frames / 5)) $((2 * frames / 5)) $((3 * frames / 5)) $((4 * frames / 5)))
  ffmpeg -nostdin -v error -y -i "$out/$name-overlay.mp4" \
    -vf "select=$select,scale=480:-2,tile=4x1" -frames:v 1 -vsync vfr "$out/$name-overlay.png"
done
echo "overlay pictures: $out/*-overlay.png" >&2
