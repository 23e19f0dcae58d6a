#!/usr/bin/env bash
# Rectify a folder (or a list file) of videos with stn-video, in parallel with GNU parallel.
#
#   pipelines/batch.sh [-j N] [--ext mp4] [--sshloginfile FILE] [--stn PATH] INPUT OUTPUT_DIR [-- stn-video options…]
#
# INPUT is a directory (searched recursively for video files) or a text file with one path per line.
# For INPUT/a/b.mov the output is OUTPUT_DIR/a/b.mp4, its parameter log OUTPUT_DIR/a/b.params.csv
# and stn-video's messages OUTPUT_DIR/a/b.log. Each output is written under a temporary name
# and renamed when complete, so a crash never leaves a half-written file under the final name;
# outputs that already exist are skipped, so a rerun resumes. One failing input never stops
# the others. A summary table is printed at the end; the exit status is 1 if any input failed.
# With --sshloginfile, GNU parallel spreads the jobs over those hosts (paths must be the same
# there: a shared file system, and stn-video installed at the same path).
set -uo pipefail

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

# Internal: process one input. Arguments: stn-video, input, output dir root, input root, ext, options…
if [ "${1:-}" = "--one" ]; then
  shift
  stn=$1 input=$2 out_root=$3 in_root=$4 ext=$5; shift 5
  rel=${input#"$in_root"/}
  [ "$rel" = "$input" ] && rel=$(basename "$input")
  base="$out_root/${rel%.*}"
  final="$base.$ext" log="$base.params.csv" messages="$base.log"
  mkdir -p "$(dirname "$base")"
  if [ -s "$final" ] && [ -s "$log" ]; then
    printf 'skipped\t%s\t%s\t-\n' "$input" "$(($(wc -l < "$log") - 1))"
    exit 0
  fi
  tmp="$base.partial-$$.$ext" tmplog="$base.partial-$$.params.csv"
  start=$(date +%s.%N)
  if "$stn" --quiet --log "$tmplog" "$@" "$input" "$tmp" 2> "$messages"; then
    end=$(date +%s.%N)
    mv -f "$tmplog" "$log" && mv -f "$tmp" "$final"
    frames=$(($(wc -l < "$log") - 1))
    printf 'ok\t%s\t%s\t%s\n' "$input" "$frames" "$(awk -v a="$start" -v b="$end" -v n="$frames" 'BEGIN { printf "%.1f", n / (b - a) }')"
  else
    rm -f "$tmp" "$tmplog"
    printf 'failed\t%s\t-\t-\t%s\n' "$input" "$(tail -n 1 "$messages")"
  fi
  exit 0
fi

jobs=$(nproc 2>/dev/null || echo 2)
ext=mp4
sshloginfile=""
stn=""
while [ $# -gt 0 ]; do
  case "$1" in
    -j) jobs=$2; shift 2 ;;
    --ext) ext=$2; shift 2 ;;
    --sshloginfile) sshloginfile=$2; shift 2 ;;
    --stn) stn=$2; shift 2 ;;
    -h|--help) usage ;;
    --) break ;;
    -*) echo "batch.sh: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || usage
input=$1 out_root=$2; shift 2
[ "${1:-}" = "--" ] && shift
command -v parallel >/dev/null || { echo "batch.sh: GNU parallel is not installed (apt-get install parallel)" >&2; exit 1; }
if [ -z "$stn" ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  for candidate in "$here/.build/release/stn-video" "$(command -v stn-video || true)" "$here/.build/debug/stn-video"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && { stn=$candidate; break; }
  done
  [ -n "$stn" ] || { echo "batch.sh: stn-video not found; build it (swift build -c release) or pass --stn" >&2; exit 1; }
fi
mkdir -p "$out_root" || exit 1
out_root=$(cd "$out_root" && pwd)

list=$(mktemp)
trap 'rm -f "$list" "$results"' EXIT
results=$(mktemp)
if [ -d "$input" ]; then
  in_root=$(cd "$input" && pwd)
  find "$in_root" -type f \( -iname '*.mp4' -o -iname '*.mov' -o -iname '*.mkv' -o -iname '*.avi' -o -iname '*.webm' \
    -o -iname '*.nut' -o -iname '*.y4m' -o -iname '*.ts' -o -iname '*.m4v' \) ! -path "$out_root/*" | sort > "$list"
elif [ -f "$input" ]; then
  in_root=$(cd "$(dirname "$input")" && pwd)
  grep -v '^[[:space:]]*$' "$input" | while IFS= read -r p; do
    case "$p" in /*) echo "$p" ;; *) echo "$in_root/$p" ;; esac
  done > "$list"
else
  echo "batch.sh: $input: no such directory or list file" >&2; exit 1
fi
count=$(wc -l < "$list")
[ "$count" -gt 0 ] || { echo "batch.sh: $input: no videos found" >&2; exit 1; }
echo "batch.sh: $count input(s), $jobs job(s) at a time, outputs in $out_root" >&2

parallel_args=(-q -j "$jobs" --line-buffer)
[ -n "$sshloginfile" ] && parallel_args+=(--sshloginfile "$sshloginfile")
parallel "${parallel_args[@]}" -a "$list" "$(cd "$(dirname "$0")" && pwd)/batch.sh" --one "$stn" {} "$out_root" "$in_root" "$ext" "$@" > "$results"

printf '\n%-8s %8s %8s  %s\n' status frames fps input
sort -k2 "$results" | awk -F'\t' '{ printf "%-8s %8s %8s  %s%s\n", $1, $3, $4, $2, ($5 != "" ? "  (" $5 ")" : "") }'
ok=$(grep -c '^ok' "$results"); failed=$(grep -c '^failed' "$results"); skipped=$(grep -c '^skipped' "$results")
printf '\n%d ok, %d failed, %d skipped\n' "$ok" "$failed" "$skipped"
[ "$failed" -eq 0 ]
