#!/usr/bin/env bash
# Installs stn-video, stn-train and stn-make-video with their man pages and shell completions,
# and the batch scripts.
#
#   scripts/install.sh [--prefix /usr/local] [--destdir DIR] [--bin-dir DIR]
#
# PREFIX/bin/                                   the three tools
# PREFIX/share/man/man1/<tool>.1.gz             man pages, written from each tool's --help
# PREFIX/share/bash-completion/completions/<tool>, PREFIX/share/zsh/vendor-completions/_<tool>,
# PREFIX/share/fish/vendor_completions.d/<tool>.fish
#                                               completions (--generate-completion-script)
# PREFIX/share/stn-video/pipelines/             batch.sh, slurm-array.sh, slurm-submit.sh
# The bundled model is compiled into stn-video: nothing else is needed beside it.
# --bin-dir takes the tools from DIR (default .build/release, built with
# `swift build -c release` when missing); --destdir installs under DIR as if it were the root
# (for packaging: scripts/package-deb.sh). Binaries built without --static-swift-stdlib need
# the Swift runtime of the toolchain that built them.
set -euo pipefail

usage_error() { echo "install.sh: $1 (see 'scripts/install.sh --help')" >&2; exit 2; }
value() { [ $# -ge 2 ] && [ -n "$2" ] || usage_error "$1 needs a value"; }

prefix=/usr/local destdir="" bin_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit 0 ;;
    --prefix) value "$@"; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --destdir) value "$@"; destdir=$2; shift 2 ;;
    --destdir=*) destdir=${1#*=}; shift ;;
    --bin-dir) value "$@"; bin_dir=$2; shift 2 ;;
    --bin-dir=*) bin_dir=${1#*=}; shift ;;
    *) usage_error "unknown argument $1" ;;
  esac
done
case "$prefix" in /*) ;; *) usage_error "--prefix needs an absolute path, not '$prefix'" ;; esac
repository=$(cd "$(dirname "$0")/.." && pwd)
tools=(stn-video stn-train stn-make-video)
if [ -z "$bin_dir" ]; then
  bin_dir=$repository/.build/release
  for tool in "${tools[@]}"; do
    [ -x "$bin_dir/$tool" ] || { (cd "$repository" && swift build -c release); break; }
  done
fi
for tool in "${tools[@]}"; do
  [ -x "$bin_dir/$tool" ] || { echo "install.sh: $bin_dir/$tool: not built" >&2; exit 1; }
done

root=${destdir%/}$prefix
install -d "$root/bin" "$root/share/man/man1" "$root/share/bash-completion/completions" \
  "$root/share/zsh/vendor-completions" "$root/share/fish/vendor_completions.d" "$root/share/stn-video/pipelines"

# A man page from a tool's --help (and its subcommands' for stn-train): the text as it is,
# unfilled, under NAME, SYNOPSIS and DESCRIPTION.
man_page() { # tool
  local tool=$1 help summary subcommands sub
  help=$("$bin_dir/$tool" --help)
  summary=$(printf '%s\n' "$help" | awk '/^OVERVIEW: / && !done { sub(/^OVERVIEW: /, ""); on = 1 } on && /^$/ { on = 0; done = 1 } on { printf "%s%s", (n++ ? " " : ""), $0 }')
  subcommands=$(printf '%s\n' "$help" | awk '/^SUBCOMMANDS:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
  roff() { sed -e 's/\\/\\e/g' -e 's/^\([.'"'"']\)/\\\&\1/'; }
  printf '.TH %s 1 "%s" "%s" "User Commands"\n' "${tool^^}" "$(date -u +%Y-%m-%d)" "$tool"
  printf '.SH NAME\n%s \\- %s\n' "$tool" "$(printf '%s' "$summary" | roff)"
  printf '.SH SYNOPSIS\n.nf\n%s\n.fi\n' "$(printf '%s\n' "$help" | sed -n 's/^USAGE: //p' | roff)"
  printf '.SH DESCRIPTION\n.nf\n%s\n.fi\n' "$(printf '%s\n' "$help" | roff)"
  for sub in $subcommands; do
    printf '.SH "%s %s"\n.nf\n%s\n.fi\n' "${tool^^}" "${sub^^}" "$("$bin_dir/$tool" "$sub" --help | roff)"
  done
  printf '.SH SEE ALSO\n%s\n' "stn-video(1), stn-train(1), stn-make-video(1); the README of the stn-video sources."
}

for tool in "${tools[@]}"; do
  install -m 755 "$bin_dir/$tool" "$root/bin/$tool"
  man_page "$tool" | gzip -9n > "$root/share/man/man1/$tool.1.gz"
  "$bin_dir/$tool" --generate-completion-script bash > "$root/share/bash-completion/completions/$tool"
  "$bin_dir/$tool" --generate-completion-script zsh > "$root/share/zsh/vendor-completions/_$tool"
  "$bin_dir/$tool" --generate-completion-script fish > "$root/share/fish/vendor_completions.d/$tool.fish"
done
chmod 644 "$root"/share/bash-completion/completions/* "$root"/share/zsh/vendor-completions/* "$root"/share/fish/vendor_completions.d/*
for script in batch.sh slurm-array.sh slurm-submit.sh; do
  install -m 755 "$repository/pipelines/$script" "$root/share/stn-video/pipelines/$script"
done
echo "install.sh: installed ${tools[*]} into $root/bin, their man pages and completions, and the batch scripts into $root/share/stn-video/pipelines"
