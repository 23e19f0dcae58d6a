#!/usr/bin/env bash
# Rectify a folder (or a list file) of videos with stn-video, in parallel with GNU parallel.
#
#   pipelines/batch.sh [-j N] [--ext EXT] [--force] [--sshloginfile FILE [--transfer]] [--stn PATH]
#                      INPUT OUTPUT_DIR [-- stn-video options…]
#
# INPUT is a directory (searched recursively for .mp4 .mov .mkv .avi .webm .nut .y4m .ts .m4v
# files), a text file with one path per line (relative paths are relative to the list file's
# folder; blank lines are ignored and a path listed twice is processed once), or one video.
# For INPUT/a/b.mov the output is OUTPUT_DIR/a/b.mp4 (extension EXT, default mp4), its
# parameter log OUTPUT_DIR/a/b.params.csv, stn-video's messages OUTPUT_DIR/a/b.log and the
# stn-video options it was made with OUTPUT_DIR/a/b.options; a listed path outside the list
# file's folder goes to OUTPUT_DIR/<its file name>.
# Each output is written under a temporary name and renamed when complete, so a crash never
# leaves a half-written file under the final name; outputs that already exist (with their
# parameter log) and were made with the same stn-video options are skipped, so a rerun resumes.
# A rerun whose options differ from those an existing output was made with (--threads, --quiet
# and --verbose aside) is refused before anything runs, listing those outputs; --force remakes
# them with the new options. One failing input never stops the others.
# Inputs are never overwritten. With a directory INPUT, OUTPUT_DIR must not be INPUT or contain
# it (it may lie inside INPUT: nothing under OUTPUT_DIR is taken as an input). An input whose
# output, parameter log or message log would be an input file (same path, symlink or hard link:
# e.g. a list file's videos with OUTPUT_DIR their own folder) is refused and counts as failed.
# Two inputs that would get the same output name (a/x.mp4 and a/x.mkv both give a/x.mp4) are
# a usage error: every collision is listed and nothing is processed; rename one or run them
# in separate batches.
# A summary table ends the run (a failed input shows stn-video's error line). Exit status:
# 0 every input done or skipped, 1 if any input failed, 2 usage error.
#
# Other hosts: --sshloginfile FILE spreads the jobs over the hosts of FILE (GNU parallel's
# format, e.g. "2/ssh -p 2222 user@host" per line; ":" is this machine). By default the hosts
# share a file system with this one: they must see INPUT and OUTPUT_DIR at the same paths, and
# this script and stn-video (--stn) at the same paths too. With --transfer they need not:
# each input and this script are copied to the host with rsync (GNU parallel's --transferfile)
# into a fresh working folder under the host's ~/.parallel/tmp, the output folder is copied back
# (--return) and the working folder removed (--cleanup). The hosts need bash, rsync and
# stn-video (on their PATH, or at the path given with --stn).
#
# Internal forms, used by slurm-array.sh and slurm-submit.sh:
#   batch.sh --list-inputs INPUT OUTPUT_DIR [-- options…]
#                                                    check as a run would, then print the
#                                                    inputs, one per line, in task order
#   batch.sh --task N [--stn PATH] INPUT OUTPUT_DIR [-- options…]
#                                                    process input N only, without GNU parallel;
#                                                    print its result row (tab-separated)
#   batch.sh --summary ROWS                          the summary table of result rows
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

# The stn-video options that decide what an output holds, as one shell-quoted line: all of them
# but --threads, --quiet and --verbose, which change only the speed and the messages.
options_record() {
  local kept=() skip=0 a
  for a in "$@"; do
    if ((skip)); then skip=0; continue; fi
    case "$a" in
      --threads) skip=1 ;;
      --threads=*|--quiet|--verbose) ;;
      *) kept+=("$a") ;;
    esac
  done
  local line="" quoted
  for a in "${kept[@]}"; do
    # Shell quoting where needed (printf %q would also escape the commas of --theta 0.5,0,0).
    case "$a" in
      ''|*[!A-Za-z0-9_./:,=+@%-]*) quoted="'${a//\'/\'\\\'\'}'" ;;
      *) quoted=$a ;;
    esac
    line+="${line:+ }$quoted"
  done
  printf '%s\n' "$line"
}

# Why an existing output may not be skipped or replaced: it was made with other options than
# $options (or has no record of them). Arguments: the output, its options record.
options_mismatch() { # final record
  local old
  if [ -f "$2" ]; then
    old=$(cat -- "$2")
    printf '%s was made with other stn-video options (%s; this run: %s)' "$1" "${old:-none}" "${options:-none}"
  else
    printf '%s has no record of the stn-video options it was made with (this run: %s)' "$1" "${options:-none}"
  fi
}

# Prints one input's result row: status, input (as LABEL), frames, fps[, reason], tab-separated.
# Arguments: stn-video, input, output base (path without extension), ext, force (0/1), label,
# stn-video options…
process_one() {
  local stn=$1 input=$2 base=$3 ext=$4 force=$5 label=$6; shift 6
  local final="$base.$ext" log="$base.params.csv" messages="$base.log" record="$base.options"
  local options path tmp tmplog tmprecord start end frames status reason error
  options=$(options_record "$@")
  fail() { printf 'failed\t%s\t-\t-\t%s\n' "$label" "$(printf '%s' "$1" | tr '\t\n' '  ')"; exit 0; }
  # Never write over the input, not even the message log (checked before anything is written).
  overwrites_input() { # path: true if writing it would replace the input
    [ "$1" -ef "$input" ] || [ "$(realpath -m -- "$1")" = "$(realpath -m -- "$input")" ]
  }
  for path in "$final" "$log" "$messages" "$record"; do
    overwrites_input "$path" && fail "refused: its output $path would overwrite the input; choose another OUTPUT_DIR"
  done
  if [ -s "$final" ] && [ -s "$log" ]; then
    if [ -f "$record" ] && [ "$(cat -- "$record")" = "$options" ]; then
      printf 'skipped\t%s\t%s\t-\n' "$label" "$(($(wc -l < "$log") - 1))"
      exit 0
    fi
    [ "$force" = 1 ] || fail "refused: $(options_mismatch "$final" "$record"); rerun with --force to remake it"
  fi
  mkdir -p -- "$(dirname -- "$base")" || fail "cannot create the folder of $final"
  # What an interrupted run left for this input.
  rm -f -- "$base".partial-*."$ext" "$base".partial-*.params.csv "$base".partial-*.options
  tmp="$base.partial-$$.$ext" tmplog="$base.partial-$$.params.csv" tmprecord="$base.partial-$$.options"
  start=$(date +%s.%N)
  if "$stn" --quiet --log "$tmplog" "$@" "$input" "$tmp" 2> "$messages"; then
    end=$(date +%s.%N)
    for path in "$final" "$log" "$record"; do
      overwrites_input "$path" && { rm -f -- "$tmp" "$tmplog"; fail "refused: its output $path would overwrite the input"; }
    done
    # The record first and the video last: a video with its log is complete, and is skipped
    # by a rerun only when its record matches.
    if ! error=$(printf '%s\n' "$options" > "$tmprecord" 2>&1 && mv -f -- "$tmprecord" "$record" 2>&1 &&
                 mv -f -- "$tmplog" "$log" 2>&1 && mv -f -- "$tmp" "$final" 2>&1); then
      rm -f -- "$tmp" "$tmplog" "$tmprecord"
      fail "cannot rename the output into place: $error"
    fi
    frames=$(($(wc -l < "$log") - 1))
    printf 'ok\t%s\t%s\t%s\n' "$label" "$frames" "$(awk -v a="$start" -v b="$end" -v n="$frames" 'BEGIN { printf "%.1f", n / (b - a) }')"
  else
    status=$?
    rm -f -- "$tmp" "$tmplog"
    # The line that says what is wrong, not the usage hint that may follow it.
    reason=$(grep -m 1 -E '^(stn-video: )?[Ee]rror:' "$messages")
    [ -n "$reason" ] || reason=$(grep -v '^[[:space:]]*$' "$messages" | tail -n 1)
    [ -n "$reason" ] || reason="stn-video exited with status $status"
    # On another host (--transfer) the input has another path there: name it as here.
    [ "$label" = "$input" ] || reason=${reason//"$input"/"$label"}
    fail "$reason"
  fi
  exit 0
}

# The summary table of a file of result rows; exit status 1 if any input failed.
summary() { # rows
  printf '\n%-8s %8s %8s  %s\n' status frames fps input
  sort -t $'\t' -k2,2 "$1" | awk -F'\t' '{ printf "%-8s %8s %8s  %s%s\n", $1, $3, $4, $2, ($5 != "" ? "  (" $5 ")" : "") }'
  local ok failed skipped
  ok=$(grep -c '^ok' "$1"); failed=$(grep -c '^failed' "$1"); skipped=$(grep -c '^skipped' "$1")
  printf '\n%d ok, %d failed, %d skipped\n' "$ok" "$failed" "$skipped"
  [ "$failed" -eq 0 ]
}

# Internal: one input (run by GNU parallel, here or on another host). Arguments as process_one's.
if [ "${1:-}" = "--one" ]; then
  shift
  (process_one "$@")
  exit 0
fi
if [ "${1:-}" = "--summary" ]; then
  [ $# -eq 2 ] && [ -f "$2" ] || usage_error "--summary needs a file of result rows"
  summary "$2"
  exit
fi

jobs=$(nproc 2>/dev/null || echo 2)
ext=mp4
sshloginfile=""
stn=""
force=0 transfer=0 task="" list_inputs=0
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
    --force) force=1; shift ;;
    --transfer) transfer=1; shift ;;
    --task) value "$@"; task=$2; shift 2 ;;
    --task=*) task=${1#*=}; shift ;;
    --list-inputs) list_inputs=1; shift ;;
    -h|--help) help ;;
    --) break ;;
    -*) usage_error "unknown option $1" ;;
    *) break ;;
  esac
done
# GNU parallel's forms: N, 0 (as many as possible), N% of the cores, +N / -N cores.
[[ $jobs =~ ^[+-]?[0-9]{1,6}%?$ ]] || usage_error "-j takes a number of jobs as GNU parallel does (4, 0, 50%, +1, -1), not '$jobs'"
ext=${ext#.}
[[ $ext =~ ^[A-Za-z0-9]+$ ]] && [ "$ext" != log ] && [ "$ext" != options ] || usage_error "--ext needs a container extension such as mp4 or mkv, not '$ext'"
[ -z "$task" ] || [[ $task =~ ^[1-9][0-9]*$ ]] || usage_error "--task needs an input number (1, 2, …), not '$task'"
if [ -n "$sshloginfile" ]; then
  case "$sshloginfile" in .|..|-) ;; *) [ -f "$sshloginfile" ] && [ -r "$sshloginfile" ] || usage_error "--sshloginfile $sshloginfile: no such readable file" ;; esac
fi
((transfer)) && [ -z "$sshloginfile" ] && usage_error "--transfer needs --sshloginfile (it copies files to and from other hosts)"
if [ -n "$stn" ] && ! ((transfer)); then
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
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
if [ -z "$task" ] && ! ((list_inputs)); then
  command -v parallel >/dev/null || { echo "batch.sh: GNU parallel is not installed (apt-get install parallel)" >&2; exit 1; }
fi
if ((transfer)); then
  command -v rsync >/dev/null || { echo "batch.sh: --transfer copies files with rsync, which is not installed (apt-get install rsync)" >&2; exit 1; }
  # The path on the hosts; by default the stn-video on their PATH.
  [ -n "$stn" ] || stn=stn-video
elif [ -z "$stn" ] && ! ((list_inputs)); then
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
if [ -n "$task" ]; then
  [ "$task" -le "$count" ] || { echo "batch.sh: there is no input $task: $input has $count" >&2; exit 2; }
  sed -n "${task}p" "$work/plan" > "$work/plan-all" && mv -f -- "$work/plan-all" "$work/plan"
fi

error=$(mkdir -p -- "$out_root" 2>&1) || { echo "batch.sh: ${error#mkdir: }" >&2; exit 1; }

# An input whose output, parameter log or message log is an existing input file (any input: the
# same path, a symlink to it or a hard link) is refused before anything is written. Only files
# that exist can be inputs, so comparing device and inode numbers of the existing ones suffices.
while IFS=$'\t' read -r p b; do
  for path in "$b.$ext" "$b.params.csv" "$b.log" "$b.options"; do [ -e "$path" ] && printf '%s\t%s\n' "$p" "$path"; done
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

# Finished outputs: skipped when made with this run's options; otherwise the batch is refused
# (nothing runs) unless --force.
options=$(options_record "$@")
: > "$work/mismatched"
cut -f2 "$results" > "$work/done"
awk -F'\t' 'FILENAME == ARGV[1] { refused[$0] = 1; next } !($1 in refused)' "$work/done" "$work/plan" |
  while IFS=$'\t' read -r p b; do
    if [ -s "$b.$ext" ] && [ -s "$b.params.csv" ]; then
      if [ -f "$b.options" ] && [ "$(cat -- "$b.options")" = "$options" ]; then
        printf 'skipped\t%s\t%s\t-\n' "$p" "$(($(wc -l < "$b.params.csv") - 1))" >> "$results"
        continue
      fi
      ((force)) || { options_mismatch "$b.$ext" "$b.options" >> "$work/mismatched"; echo >> "$work/mismatched"; continue; }
    fi
    printf '%s\t%s\n' "$p" "$b"
  done > "$work/todo"
if [ -s "$work/mismatched" ]; then
  n=$(wc -l < "$work/mismatched")
  {
    sed 's/^/batch.sh: refused: /' "$work/mismatched" | head -n 20
    [ "$n" -le 20 ] || echo "batch.sh: … and $((n - 20)) more"
    echo "batch.sh: $n finished output(s) were made with other stn-video options; nothing was processed. Rerun with --force to remake them with this run's options, or choose another OUTPUT_DIR"
  } >&2
  exit 2
fi
if ((list_inputs)); then cat -- "$list"; exit 0; fi

if [ -n "$task" ]; then
  # One input, here, without GNU parallel: print its row; exit status 1 if it failed.
  if [ -s "$work/todo" ]; then
    IFS=$'\t' read -r p b < "$work/todo"
    (process_one "$stn" "$p" "$b" "$ext" "$force" "$p" "$@") >> "$results"
  fi
  cat -- "$results"
  ! grep -q '^failed' "$results"
  exit
fi

echo "batch.sh: $count input(s), $jobs job(s) at a time, outputs in $out_root" >&2
if [ -s "$work/todo" ]; then
  parallel_args=(-q -j "$jobs" --line-buffer --colsep '\t')
  [ -n "$sshloginfile" ] && parallel_args+=(--sshloginfile "$sshloginfile")
  if ((transfer)); then
    # Each job's files, as GNU parallel copies them: the input (a link to it here, copied as a
    # file: rsync -L) and this script to .stn-input/K/ in the job's fresh working folder; the
    # outputs are written under OUTPUT_DIR's name there and that folder is copied back into
    # OUTPUT_DIR's parent, so each lands at its place (rsync writes each file under a
    # temporary name and renames it).
    stage=$work/stage out_name=$(basename -- "$out_root") out_parent=$(dirname -- "$out_root")
    [ "$out_name" != .stn-input ] && [ "$out_root" != / ] || usage_error "--transfer cannot write to $out_root"
    k=0
    while IFS=$'\t' read -r p b; do
      k=$((k + 1)) name=$(basename -- "$p")
      mkdir -p -- "$stage/.stn-input/$k" && ln -s -- "$p" "$stage/.stn-input/$k/$name" && ln -s -- "$self" "$stage/.stn-input/$k/batch.sh" || exit 1
      printf '%s\t%s\t%s\t%s\n' "$p" "$k" "$name" "$out_name/${b#"$out_root"/}"
    done < "$work/todo" > "$work/jobs"
    PARALLEL_RSYNC_OPTS=-rRL parallel "${parallel_args[@]}" -a "$work/jobs" --workdir ... \
      --transferfile "$stage/./.stn-input/{2}/{3}" --transferfile "$stage/./.stn-input/{2}/batch.sh" \
      --return "$out_parent/./$out_name" --cleanup \
      bash .stn-input/{2}/batch.sh --one "$stn" .stn-input/{2}/{3} {4} "$ext" "$force" {1} "$@" >> "$results"
    # A job reported as done whose output did not arrive here failed after all.
    declare -A base_of
    while IFS=$'\t' read -r p b; do base_of[$p]=$b; done < "$work/todo"
    while IFS= read -r row; do
      IFS=$'\t' read -r status p _ <<< "$row"
      b=${base_of[$p]:-}
      if [ "$status" = ok ] && [ -n "$b" ] && ! { [ -s "$b.$ext" ] && [ -s "$b.params.csv" ]; }; then
        printf 'failed\t%s\t-\t-\tthe output did not come back from the host (see the messages above)\n' "$p"
      else
        printf '%s\n' "$row"
      fi
    done < "$results" > "$work/checked"
    mv -f -- "$work/checked" "$results"
  else
    parallel "${parallel_args[@]}" -a "$work/todo" "$self" --one "$stn" {1} {2} "$ext" "$force" {1} "$@" >> "$results"
  fi
  # An input without a row never ran (GNU parallel itself failed, or was interrupted): count it as failed.
  cut -f2 "$results" > "$work/done"
  awk -F'\t' 'FILENAME == ARGV[1] { seen[$0] = 1; next } !($1 in seen) { printf "failed\t%s\t-\t-\tnot processed (see GNU parallel'"'"'s messages)\n", $1 }' "$work/done" "$work/todo" >> "$results"
fi

summary "$results"
