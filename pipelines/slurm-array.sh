#!/usr/bin/env bash
# Slurm job-array form of a batch run: one array task per input video.
#
#   find /data/videos -name '*.mp4' | sort > inputs.txt
#   sbatch --array=1-$(wc -l < inputs.txt)%32 pipelines/slurm-array.sh inputs.txt /data/rectified [stn-video options…]
#
# Task N processes line N of the list. As in batch.sh, the output is written under a temporary
# name and renamed when complete, existing outputs are skipped (so a resubmitted array resumes),
# and each input gets its own message log beside its output.
#SBATCH --job-name=stn-video
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%A_%a.out
set -uo pipefail
list=${1:?list file}
out_root=${2:?output directory}
shift 2
task=${SLURM_ARRAY_TASK_ID:?run me with sbatch --array}
input=$(sed -n "${task}p" "$list")
[ -n "$input" ] || { echo "slurm-array.sh: no line $task in $list" >&2; exit 1; }
stn=${STN_VIDEO:-$(command -v stn-video)}
here=$(cd "$(dirname "$0")" && pwd)
# Reuse batch.sh's single-input worker: same naming, temporary files, skip and log rules.
result=$("$here/batch.sh" --one "$stn" "$input" "$out_root" "$(dirname "$input")" mp4 --threads "${SLURM_CPUS_PER_TASK:-0}" "$@")
echo "$result"
case "$result" in ok*|skipped*) exit 0 ;; *) exit 1 ;; esac
