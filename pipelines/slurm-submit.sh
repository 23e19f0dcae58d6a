#!/usr/bin/env bash
# Submit a batch of videos to Slurm as a job array: one task per input (pipelines/slurm-array.sh).
#
#   pipelines/slurm-submit.sh [--wait] [-j K] [--logs DIR] [--force] [--ext EXT] [--stn PATH]
#                             INPUT OUTPUT_DIR [-- stn-video options…]
#
# INPUT (a list file or a folder) and OUTPUT_DIR are as for batch.sh, whose rules apply: the
# input tree's layout under OUTPUT_DIR, collisions and outputs made with other options refused
# before anything is submitted (--force remakes those), finished outputs skipped, so
# submitting again resumes. The array is --array=1-N%K: N the number of inputs, at most K
# tasks running at once (-j K, default 32). Prints the job id and how to follow it; each
# task's messages go to DIR/slurm-<job>_<task>.out (--logs DIR, default the current folder).
# With --wait it waits until every task has ended and prints the summary table batch.sh prints
# (an input whose task left no result, being cancelled or timed out, counts as failed), with
# batch.sh's exit status: 0 every input done or skipped, 1 if any failed.
# Exit status 2: a usage error or a refused batch (nothing was submitted).
# Other sbatch settings go through sbatch's environment variables, e.g.
# SBATCH_PARTITION=gpu SBATCH_TIMELIMIT=4:00:00 pipelines/slurm-submit.sh …
# The compute nodes must see INPUT, OUTPUT_DIR, the log folder, this folder's scripts and
# stn-video at the same paths (a shared file system).
set -uo pipefail

usage_error() { echo "slurm-submit.sh: $1 (see 'pipelines/slurm-submit.sh --help')" >&2; exit 2; }
value() { [ $# -ge 2 ] && [ -n "$2" ] && [ "${2#-}" = "$2" ] || usage_error "$1 needs a value"; }

wait_for_end=0 max_running=32 logs=$PWD stn=${STN_VIDEO:-}
batch_options=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit 0 ;;
    --wait) wait_for_end=1; shift ;;
    -j|--max-running) value "$@"; max_running=$2; shift 2 ;;
    --logs) value "$@"; logs=$2; shift 2 ;;
    --force) batch_options+=("$1"); shift ;;
    --ext) value "$@"; batch_options+=("$1" "$2"); shift 2 ;;
    --stn) value "$@"; stn=$2; shift 2 ;;
    --) usage_error "needs INPUT and OUTPUT_DIR before --" ;;
    -*) usage_error "unknown option $1" ;;
    *) break ;;
  esac
done
[[ $max_running =~ ^[1-9][0-9]*$ ]] || usage_error "-j needs the number of tasks to run at once, not '$max_running'"
[ $# -ge 2 ] && [ -n "$1" ] && [ -n "$2" ] || usage_error "needs INPUT and OUTPUT_DIR"
input=$1 out_root=$2; shift 2
[ "${1:-}" = "--" ] && shift

here=$(cd "$(dirname -- "$0")" && pwd)
batch=$here/batch.sh array_script=$here/slurm-array.sh
# Absolute paths, valid in the tasks whatever their working folder.
if [ -d "$input" ]; then input=$(cd -- "$input" && pwd)
elif [ -f "$input" ]; then input=$(cd -- "$(dirname -- "$input")" && pwd)/$(basename -- "$input")
else echo "slurm-submit.sh: $input: no such directory or list file" >&2; exit 1; fi
out_root=$(realpath -m -- "$out_root")
if [ -n "$stn" ]; then
  case "$stn" in
    */*) [ -f "$stn" ] && [ -x "$stn" ] || usage_error "--stn $stn: not an executable file"; stn=$(realpath -s -- "$stn") ;;
    *) command -v -- "$stn" > /dev/null || usage_error "--stn $stn: no such command"; stn=$(command -v -- "$stn") ;;
  esac
else
  for candidate in "$here/../.build/release/stn-video" "$(command -v stn-video || true)" "$here/../.build/debug/stn-video"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && { stn=$(realpath -s -- "$candidate"); break; }
  done
  [ -n "$stn" ] || { echo "slurm-submit.sh: stn-video not found; build it (swift build -c release) or pass --stn" >&2; exit 1; }
fi

# batch.sh's checks (collisions, outputs made with other options) before anything is submitted.
inputs=$(bash "$batch" --list-inputs "${batch_options[@]}" "$input" "$out_root" -- "$@") || exit
count=$(printf '%s\n' "$inputs" | wc -l)
command -v sbatch > /dev/null || { echo "slurm-submit.sh: sbatch not found (Slurm's client commands; apt-get install slurm-client)" >&2; exit 1; }
mkdir -p -- "$logs" && logs=$(cd -- "$logs" && pwd) || exit 1

export STN_BATCH=$batch STN_VIDEO=$stn
(( max_running < count )) && limit=%$max_running || limit=""
submitted=$(sbatch --parsable --array="1-$count$limit" --output="$logs/slurm-%A_%a.out" \
  "$array_script" "${batch_options[@]}" "$input" "$out_root" -- "$@") || { echo "slurm-submit.sh: sbatch failed" >&2; exit 1; }
job=${submitted%%;*}
echo "slurm-submit.sh: submitted job $job: $count task(s) (--array=1-$count$limit), outputs in $out_root"
echo "  follow it:  squeue -j $job    messages: $logs/slurm-${job}_<task>.out    cancel: scancel $job"
((wait_for_end)) || exit 0

while [ -n "$(squeue -h -j "$job" -o %i 2> /dev/null)" ]; do sleep 1; done
rows=$(mktemp) || exit 1
trap 'rm -f -- "$rows"' EXIT
task=0
printf '%s\n' "$inputs" | while IFS= read -r p; do
  task=$((task + 1)) log="$logs/slurm-${job}_$task.out"
  row=$(grep -E $'^(ok|failed|skipped)\t' "$log" 2> /dev/null | tail -n 1)
  if [ -n "$row" ]; then printf '%s\n' "$row"
  else printf 'failed\t%s\t-\t-\ttask %s left no result (cancelled, timed out or never ran; see %s)\n' "$p" "$task" "$log"; fi
done > "$rows"
bash "$batch" --summary "$rows"
