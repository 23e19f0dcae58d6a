#!/usr/bin/env bash
# Slurm job-array form of batch.sh: array task N processes input N of INPUT.
#
#   pipelines/slurm-submit.sh inputs.txt /data/rectified -- --size 256x256     (submits this script)
#   sbatch --array=1-N%32 pipelines/slurm-array.sh [--force] [--ext EXT] [--stn PATH] INPUT OUTPUT_DIR [-- stn-video options…]
#
# INPUT is a list file or a folder, as for batch.sh, and N the number of its inputs
# (pipelines/batch.sh --list-inputs INPUT OUTPUT_DIR | wc -l: a path listed twice counts once);
# slurm-submit.sh counts them for you. Everything else is batch.sh's: the input tree's layout is
# kept under OUTPUT_DIR (INPUT/a/b.mov gives OUTPUT_DIR/a/b.mp4 with b.params.csv, b.log and
# b.options), inputs that would share an output name are refused (every task fails, listing
# them, and nothing is processed), outputs are written under a temporary name and renamed when
# complete, finished outputs made with the same options are skipped (a resubmitted array
# resumes) and other options are refused unless --force. Each task uses its
# --cpus-per-task as stn-video's --threads.
# A task prints its result row (status, input, frames, fps and the reason of a failure,
# tab-separated) to its Slurm output file and exits with status 0 when its input is done or
# skipped, 1 when it failed, 2 on a usage error.
#
# sbatch runs a copy of this script from slurmd's spool folder, so it looks for batch.sh in:
# $STN_BATCH (slurm-submit.sh sets it); $SLURM_SUBMIT_DIR/pipelines/ or $SLURM_SUBMIT_DIR/
# (submitted from the repository or its pipelines folder); beside this script (when run
# without sbatch); and the installed share/stn-video/pipelines/ beside the stn-video on PATH,
# /usr/local/share/stn-video/pipelines/ or /usr/share/stn-video/pipelines/. stn-video is
# --stn, $STN_VIDEO, $SLURM_SUBMIT_DIR/.build/release/stn-video, or what batch.sh finds
# (.build/release beside it, then the PATH). All of these paths must be the same on the
# compute nodes (a shared file system), as INPUT and OUTPUT_DIR must.
#SBATCH --job-name=stn-video
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%A_%a.out
set -uo pipefail

usage_error() { echo "slurm-array.sh: $1 (see 'pipelines/slurm-array.sh --help')" >&2; exit 2; }

batch_options=()
stn=${STN_VIDEO:-}
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) awk 'NR == 1 { next } /^#SBATCH/ { exit } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit 0 ;;
    --force) batch_options+=("$1"); shift ;;
    --ext) [ $# -ge 2 ] || usage_error "--ext needs a value"; batch_options+=("$1" "$2"); shift 2 ;;
    --ext=*) batch_options+=("$1"); shift ;;
    --stn) [ $# -ge 2 ] || usage_error "--stn needs a value"; stn=$2; shift 2 ;;
    --stn=*) stn=${1#*=}; shift ;;
    --) usage_error "needs INPUT and OUTPUT_DIR before --" ;;
    -*) usage_error "unknown option $1" ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || usage_error "needs INPUT and OUTPUT_DIR"
input=$1 out_root=$2; shift 2
[ "${1:-}" = "--" ] && shift
task=${SLURM_ARRAY_TASK_ID:-}
[ -n "$task" ] || usage_error "SLURM_ARRAY_TASK_ID is not set: submit me with sbatch --array=1-N, or use pipelines/slurm-submit.sh"

here=$(dirname -- "$0")
installed=""
if command -v stn-video > /dev/null; then installed=$(dirname -- "$(command -v stn-video)")/../share/stn-video/pipelines/batch.sh; fi
batch=""
for candidate in "${STN_BATCH:-}" "${SLURM_SUBMIT_DIR:+$SLURM_SUBMIT_DIR/pipelines/batch.sh}" "${SLURM_SUBMIT_DIR:+$SLURM_SUBMIT_DIR/batch.sh}" \
                 "$here/batch.sh" "$installed" /usr/local/share/stn-video/pipelines/batch.sh /usr/share/stn-video/pipelines/batch.sh; do
  [ -n "$candidate" ] && [ -f "$candidate" ] && { batch=$candidate; break; }
done
if [ -z "$batch" ]; then
  echo "slurm-array.sh: batch.sh not found (looked in \$STN_BATCH, \$SLURM_SUBMIT_DIR${SLURM_SUBMIT_DIR:+ = $SLURM_SUBMIT_DIR}/pipelines, beside this script and the installed share/stn-video/pipelines); submit from the repository, set STN_BATCH, or use pipelines/slurm-submit.sh" >&2
  exit 2
fi
if [ -z "$stn" ] && [ -n "${SLURM_SUBMIT_DIR:-}" ] && [ -x "$SLURM_SUBMIT_DIR/.build/release/stn-video" ]; then
  stn=$SLURM_SUBMIT_DIR/.build/release/stn-video
fi
[ -n "$stn" ] && batch_options+=(--stn "$stn")
threads=()
[ -n "${SLURM_CPUS_PER_TASK:-}" ] && threads=(--threads "$SLURM_CPUS_PER_TASK")
exec bash "$batch" --task "$task" "${batch_options[@]}" "$input" "$out_root" -- "${threads[@]}" "$@"
