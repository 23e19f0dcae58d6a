#!/usr/bin/env bash
# Rectify a folder (or a list file) of videos with stn-video, in parallel with GNU parallel.
#
#   pipelines/batch.sh [-j N] [--ext EXT] [--sshloginfile FILE] [--stn PATH] INPUT OUTPUT_DIR [-- stn-video options…]
#
# INPUT is a directory (searched recursively for .mp4 .mov .mkv .avi .webm .nut .y4m .ts .m4v
# files), a text file with one path per line (relative paths are relative to the list file's
# folder; blank lines are ignored and a path listed twice is processed once), or one video.
# For INPUT/a/b.mov the output is OUTPUT_DIR/a/b.mp4 (extension EXT, default mp4), its
# parameter log OUTPUT_DIR/a/b.params.csv and stn-video's messages OUTPUT_DIR/a/b.log; a listed
# path outside the list file's folder goes to OUTPUT_DIR/<its file name>.
# Each output is written under a temporary name and renamed when complete, so a crash never
# leaves a half-written file under the final name; outputs that already exist (with their
# parameter log) are skipped, so a rerun resumes. One failing input never stops the others.
# Inputs are never overwritten. With a directory INPUT, OUTPUT_DIR must not be INPUT or contain
# it (it may lie inside INPUT: nothing under OUTPUT_DIR is taken as an input). An input whose
# output, parameter log or message log would be an input file (same path, symlink or hard link:
# e.g. a list file's videos with OUTPUT_DIR their own folder) is refused and counts as failed.
# Two inputs that would get the same output name (a/x.mp4 and a/x.mkv both give a/x.mp4) are
# a usage error: every collision is listed and nothing is processed; rename one or run them
# in separate batches.
# A summary table ends the run (a failed input shows stn-video's error line). Exit status:
# 0 every input done or skipped, 1 if any input failed, 2 usage error.
# With --sshloginfile, GNU parallel spreads the jobs over those hosts (paths must be the same
# there: a shared file system, and stn-video installed at the same path).
set -uo pipefail

video_exts="mp4 mov mkv avi webm nut y4m ts m4v"

help() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit 0; }
usage_error() { echo "batch.sh: $1 (see 'pipelines/batch.sh --help')" >&2; exit 2; }

# Sets $base, the output path without extension for an input: OUT_ROOT/<the input's path relative
# to IN_ROOT, or only its file name when it is not under IN_ROOT> without its extension.
output_base() { # input out_root in_root
  local input=$1 out_root=${2%/} in_root=${3%/} rel name
  rel=${input#"$in_root"/}
  case "/$rel/" in "/$input/"|*/../*|*/./*|//) rel=${input##*/} ;; esac
  name=${rel##*/}
  case "$name" in ?*.*) rel=${rel%.*} ;; esac
  base=$out_root/$rel
}

# Internal: process one input and print its summary row (status, input, frames, fps[, reason]).
# Arguments: stn-video, input, output dir root, input root, ext, stn-video options…
if [ "${1:-}" = "--one" ]; then
  shift
  stn=$1 input=$2 out_root=$3 in_root=$4 ext=$5; shift 5
  output_base "$input" "$out_root" "$in_root"
  final="$base.$ext" log="$base.params.csv" messages="$base.log"
  fail() { printf 'failed\t%s\t-\t-\t%s\n' "$input" "$(printf '%s' "$1" | tr '\t\n' '  ')"; exit 0; }
  # Never write over the input, not even the message log (checked before anything is written).
  overwrites_input() { # path: true if writing it would replace the input
    [ "$1" -ef "$input" ] || [ "$(realpath -m -- "$1")" = "$(realpath -m -- "$input")" ]
  }
  for path in "$final" "$log" "$messages"; do
    overwrites_input "$path" && fail "refused: its output $path would overwrite the input; choose another OUTPUT_DIR"
  done
  if [ -s "$final" ] && [ -s "$log" ]; then
    printf 'skipped\t%s\t%s\t-\n' "$input" "$(($(wc -l < "$log") - 1))"
    exit 0
  fi
  mkdir -p -- "$(dirname -- "$base")" || fail "cannot create the folder of $final"
  tmp="$base.partial-$$.$ext" tmplog="$base.partial-$$.params.csv"
  start=$(date +%s.%N)
  if "$stn" --quiet --log "$tmplog" "$@" "$input" "$tmp" 2> "$messages"; then
    end=$(date +%s.%N)
    for path in "$final" "$log"; do
      overwrites_input "$path" && { rm -f -- "$tmp" "$tmplog"; fail "refused: its output $path would overwrite the input"; }
    done
    if ! error=$(mv -f -- "$tmplog" "$log" 2>&1 && mv -f -- "$tmp" "$final" 2>&1); then
      rm -f -- "$tmp" "$tmplog"
      fail "cannot rename the output into place: $error"
    fi
    frames=$(($(wc -l < "$log") - 1))
    printf 'ok\t%s\t%s\t%s\n' "$input" "$frames" "$(awk -v a="$start" -v b="$end" -v n="$frames" 'BEGIN { printf "%.1f", n / (b - a) }')"
  else
    status=$?
    rm -f -- "$tmp" "$tmplog"
    # The line that says what is wrong, not the usage hint that may follow it.
    reason=$(grep -m 1 -E '^(stn-video: )?[Ee]rror:' "$messages")
    [ -n "$reason" ] || reason=$(grep -v '^[[:space:]]*$' "$messages" | tail -n 1)
    [ -n "$reason" ] || reason="stn-video exited with status $status"
    fail "$reason"
  fi
  exit 0
fi

jobs=$(nproc 2>/dev/null || echo 2)
ext=mp4
sshloginfile=""
stn=""
# An option's value: the next argument, which must be there and not look like an option.
value() { [ $# -ge 2 ] && [ -n "$2" ] && [ "${2#-}" = "$2" ] || usage_error "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    -j|--jobs) [ $# -ge 2 ] || usage_error "$1 needs a value"; jobs=$2; shift 2 ;;
    -j?*) jobs=${1#-j}; shift ;;
    --jobs=*) jobs=${1#*=}; shift ;;
    --ext) value "$@"; ext=$2; shift 2 ;;
    --ext=*) ext=${1#*=}; shift ;;
    --sshloginfile) value "$@"; sshloginfile=$2; shift 2 ;;
    --sshloginfile=*) sshloginfile=${1#*=}; shift ;;
    --stn) value "$@"; stn=$2; shift 2 ;;
    --stn=*) stn=${1#*=}; shift ;;
    -h|--help) help ;;
    --) break ;;
    -*) usage_error "unknown option $1" ;;
    *) break ;;
  esac
done
# GNU parallel's forms: N, 0 (as many as possible), N% of the cores, +N / -N cores.
[[ $jobs =~ ^[+-]?[0-9]{1,6}%?$ ]] || usage_error "-j takes a number of jobs as GNU parallel does (4, 0, 50%, +1, -1), not '$jobs'"
ext=${ext#.}
[[ $ext =~ ^[A-Za-z0-9]+$ ]] && [ "$ext" != log ] || usage_error "--ext needs a container extension such as mp4 or mkv, not '$ext'"
if [ -n "$sshloginfile" ]; then
  case "$sshloginfile" in .|..|-) ;; *) [ -f "$sshloginfile" ] && [ -r "$sshloginfile" ] || usage_error "--sshloginfile $sshloginfile: no such readable file" ;; esac
fi
if [ -n "$stn" ]; then
  case "$stn" in
    */*) [ -f "$stn" ] && [ -x "$stn" ] || usage_error "--stn $stn: not an executable file"
         stn=$(realpath -s -- "$stn") ;;
    *) command -v -- "$stn" > /dev/null || usage_error "--stn $stn: no such command"
       stn=$(command -v -- "$stn") ;;
  esac
fi
[ $# -ge 2 ] && [ "$1" != -- ] && [ "$2" != -- ] || usage_error "needs INPUT and OUTPUT_DIR"
input=$1 out_arg=$2; shift 2
[ -n "$input" ] && [ -n "$out_arg" ] || usage_error "INPUT and OUTPUT_DIR must not be empty"
[ "${1:-}" = "--" ] && shift
command -v parallel >/dev/null || { echo "batch.sh: GNU parallel is not installed (apt-get install parallel)" >&2; exit 1; }
if [ -z "$stn" ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  for candidate in "$here/.build/release/stn-video" "$(command -v stn-video || true)" "$here/.build/debug/stn-video"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] && { stn=$candidate; break; }
  done
  [ -n "$stn" ] || { echo "batch.sh: stn-video not found; build it (swift build -c release) or pass --stn" >&2; exit 1; }
fi
out_root=$(realpath -m -- "$out_arg")

work=$(mktemp -d) || exit 1
trap 'rm -rf -- "$work"' EXIT
list=$work/inputs results=$work/results
is_video() { local e=${1##*.} x; [ "$e" != "$1" ] || return 1; for x in $video_exts; do [ "${e,,}" = "$x" ] && return 0; done; return 1; }
if [ -d "$input" ]; then
  in_root=$(realpath -e -- "$input") || exit 1
  case "${in_root%/}/" in
    "${out_root%/}/"*) usage_error "the output folder $out_arg must not be the input folder $input or contain it" ;;
  esac
  names=()
  for x in $video_exts; do names+=(${names[0]+-o} -iname "*.$x"); done
  # Nothing under the output folder is an input (it may lie inside the input folder).
  find "$in_root" -type f \( "${names[@]}" \) | root="${out_root%/}/" awk 'index($0, ENVIRON["root"]) != 1' | LC_ALL=C sort > "$list"
elif [ -f "$input" ]; then
  # The logical path (symbolic links kept), as the list's entries are normalised below.
  in_root=$(cd "$(dirname -- "$input")" && pwd) || exit 1
  if is_video "$input"; then
    printf '%s\n' "$in_root/$(basename -- "$input")" > "$list"
  else
    # Absolute, normalised paths (no . or ..), each once, in the list's order.
    sed 's/\r$//' "$input" | grep -v '^[[:space:]]*$' | while IFS= read -r p; do
      case "$p" in /*) printf '%s\n' "$p" ;; *) printf '%s\n' "$in_root/$p" ;; esac
    done | xargs -r -d '\n' realpath -m -s -- | awk '!seen[$0]++' > "$list"
  fi
else
  echo "batch.sh: $input: no such directory or list file" >&2; exit 1
fi
count=$(wc -l < "$list")
[ "$count" -gt 0 ] || { echo "batch.sh: $input: no videos found" >&2; exit 1; }

# Each input's output base name; two inputs with the same one would overwrite each other's output
# and logs, so refuse the batch and list them all.
while IFS= read -r p; do output_base "$p" "$out_root" "$in_root"; printf '%s\t%s\n' "$p" "$base"; done < "$list" > "$work/plan"
collisions=$(awk -F'\t' -v ext="$ext" '
  { n[$2]++; who[$2] = who[$2] (n[$2] > 1 ? " and " : "") $1 }
  END { for (b in n) if (n[b] > 1) printf "batch.sh: %s would %s be written to %s.%s; rename one or run them in separate batches\n", who[b], (n[b] > 2 ? "all" : "both"), b, ext }' "$work/plan" | LC_ALL=C sort)
if [ -n "$collisions" ]; then
  printf '%s\n' "$collisions" >&2
  echo "batch.sh: $(printf '%s\n' "$collisions" | wc -l) output name collision(s); nothing was processed" >&2
  exit 2
fi

error=$(mkdir -p -- "$out_root" 2>&1) || { echo "batch.sh: ${error#mkdir: }" >&2; exit 1; }

# An input whose output, parameter log or message log is an existing input file (any input: the
# same path, a symlink to it or a hard link) is refused before anything is written. Only files
# that exist can be inputs, so comparing device and inode numbers of the existing ones suffices.
while IFS=$'\t' read -r p b; do
  for path in "$b.$ext" "$b.params.csv" "$b.log"; do [ -e "$path" ] && printf '%s\t%s\n' "$p" "$path"; done
done < "$work/plan" > "$work/existing"
: > "$results"
if [ -s "$work/existing" ]; then
  identity() { xargs -r -d '\n' sh -c 'find -L "$@" -maxdepth 0 -printf "%D:%i\t%p\n" 2> /dev/null' sh; }
  identity < "$list" > "$work/input-ids"
  cut -f2 "$work/existing" | identity > "$work/output-ids"
  awk -F'\t' '
    FILENAME == ARGV[1] { input_at[$1] = $2; next }
    FILENAME == ARGV[2] { id[$2] = $1; next }
    ($2 in id) && (id[$2] in input_at) && !done[$1]++ {
      other = input_at[id[$2]]
      printf "failed\t%s\t-\t-\trefused: its output %s would overwrite %s\n", $1, $2,
        (other == $1 ? "the input; choose another OUTPUT_DIR" : "the input " other)
    }' "$work/input-ids" "$work/output-ids" "$work/existing" > "$results"
fi
cut -f2 "$results" > "$work/done"
awk 'FILENAME == ARGV[1] { refused[$0] = 1; next } !($0 in refused)' "$work/done" "$list" > "$work/todo"

echo "batch.sh: $count input(s), $jobs job(s) at a time, outputs in $out_root" >&2
if [ -s "$work/todo" ]; then
  parallel_args=(-q -j "$jobs" --line-buffer)
  [ -n "$sshloginfile" ] && parallel_args+=(--sshloginfile "$sshloginfile")
  parallel "${parallel_args[@]}" -a "$work/todo" "$(cd "$(dirname "$0")" && pwd)/batch.sh" --one "$stn" {} "$out_root" "$in_root" "$ext" "$@" >> "$results"
  # An input without a row never ran (GNU parallel itself failed, or was interrupted): count it as failed.
  cut -f2 "$results" > "$work/done"
  awk 'FILENAME == ARGV[1] { seen[$0] = 1; next } !($0 in seen) { printf "failed\t%s\t-\t-\tnot processed (see GNU parallel'"'"'s messages)\n", $0 }' "$work/done" "$work/todo" >> "$results"
fi

printf '\n%-8s %8s %8s  %s\n' status frames fps input
sort -t $'\t' -k2,2 "$results" | awk -F'\t' '{ printf "%-8s %8s %8s  %s%s\n", $1, $3, $4, $2, ($5 != "" ? "  (" $5 ")" : "") }'
ok=$(grep -c '^ok' "$results"); failed=$(grep -c '^failed' "$results"); skipped=$(grep -c '^skipped' "$results")
printf '\n%d ok, %d failed, %d skipped\n' "$ok" "$failed" "$skipped"
[ "$failed" -eq 0 ]
