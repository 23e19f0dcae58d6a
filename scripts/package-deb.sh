#!/usr/bin/env bash
# Builds a Debian 12 package of stn-video: what scripts/install.sh installs, under /usr.
#
#   scripts/package-deb.sh [--output DIR] [--version VERSION] [--bin-dir DIR]
#
# Writes DIR/stn-video_<VERSION>_<arch>.deb (DIR default: the current folder) and prints its
# path. By default the tools are built first (`swift build -c release` in .build/deb) to find
# the Swift runtime in /usr/lib/stn-video, where the package puts the toolchain's runtime
# libraries they use, so the package needs no Swift toolchain. (A --static-swift-stdlib build
# would need none of them, but with Swift 6.3 its tools do not recognise --help.) The
# package's dependencies are the Debian packages holding the other libraries the tools link
# (FFmpeg's libavformat59, libavcodec59, libavutil57, libswscale6, libswresample4, …) and
# libopenblas0, which stn-video loads at run time. --bin-dir packages tools built elsewhere
# as they are (tools linked against a toolchain's runtime at its own path run only where that
# toolchain is: fine for a test).
# VERSION defaults to 0~git<date of HEAD>.<short hash>. Install with
#   apt-get install ./stn-video_<VERSION>_amd64.deb
set -euo pipefail

usage_error() { echo "package-deb.sh: $1 (see 'scripts/package-deb.sh --help')" >&2; exit 2; }
value() { [ $# -ge 2 ] && [ -n "$2" ] || usage_error "$1 needs a value"; }

output=$PWD version="" bin_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit 0 ;;
    --output) value "$@"; output=$2; shift 2 ;;
    --version) value "$@"; version=$2; shift 2 ;;
    --bin-dir) value "$@"; bin_dir=$2; shift 2 ;;
    *) usage_error "unknown argument $1" ;;
  esac
done
repository=$(cd "$(dirname "$0")/.." && pwd)
command -v dpkg-deb > /dev/null || { echo "package-deb.sh: dpkg-deb not found (a Debian system's dpkg)" >&2; exit 1; }
if [ -z "$version" ]; then
  version=0~git$(git -C "$repository" log -1 --date=format:%Y%m%d --format=%cd.%h 2> /dev/null || date -u +%Y%m%d)
fi
[[ $version =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || usage_error "--version needs a Debian version (starting with a digit), not '$version'"
runtime=/usr/lib/stn-video
if [ -z "$bin_dir" ]; then
  (cd "$repository" && swift build -c release --scratch-path .build/deb \
     -Xswiftc -no-toolchain-stdlib-rpath -Xlinker -rpath="$runtime" >&2)
  bin_dir=$repository/.build/deb/release
fi
bin_dir=$(cd "$bin_dir" && pwd)
mkdir -p -- "$output"
output=$(cd "$output" && pwd)

stage=$(mktemp -d)
trap 'rm -rf -- "$stage"' EXIT
# Tools built for $runtime run here on the toolchain's runtime (install.sh asks them for
# their help and completions).
toolchain=$(realpath -m "$(dirname "$(realpath "$(command -v swift 2> /dev/null || echo /usr/bin/swift)")")/../lib/swift/linux")
LD_LIBRARY_PATH=$toolchain${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$repository/scripts/install.sh" --prefix /usr --destdir "$stage" --bin-dir "$bin_dir" > /dev/null
install -d "$stage/DEBIAN" "$stage/usr/share/doc/stn-video"
# The Swift runtime libraries of tools that look for them in $runtime, from the toolchain.
if LC_ALL=C readelf -d "$stage/usr/bin/stn-video" | grep -E '\((RUN)?PATH\)' | grep -q -- "$runtime"; then
  install -d "$stage$runtime"
  for tool in "$stage"/usr/bin/*; do
    LD_LIBRARY_PATH=$toolchain ldd "$tool" | awk -v t="$toolchain/" 'index($3, t) == 1 { print $3 }'
  done | sort -u | while IFS= read -r library; do install -m 644 "$library" "$stage$runtime/"; done
fi
install -m 644 "$repository/README.md" "$stage/usr/share/doc/stn-video/README.md"

# Dependencies: the package of every library a tool needs directly (ELF NEEDED entries), and
# OpenBLAS, which stn-video opens itself (dlopen). A library no package holds (a toolchain's
# Swift runtime) is named in a warning.
needed=$(for tool in "$stage"/usr/bin/* "$stage$runtime"/*.so*; do
  if [ -f "$tool" ]; then LC_ALL=C readelf -d "$tool" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; fi
done | sort -u | while IFS= read -r library; do [ -e "$stage$runtime/$library" ] || echo "$library"; done)
packages=() foreign=()
# One dpkg -S for all of them (each call reads dpkg's whole file database): the library's
# path as ldconfig knows it, under /usr too (Debian 12 merges /lib into /usr/lib).
paths=()
for library in $needed; do
  path=$(ldconfig -p | awk -v l="$library" '$1 == l && !found++ { print $NF }')
  [ -n "$path" ] && paths+=("$path" "/usr${path#/usr}" "$(realpath -- "$path")")
done
# "libavformat59:amd64: /usr/lib/x86_64-linux-gnu/libavformat.so.59"
owners=$( ((${#paths[@]})) && dpkg -S "${paths[@]}" 2> /dev/null || true)
for library in $needed; do
  package=$(printf '%s\n' "$owners" | awk -v l="/$library" 'substr($0, length($0) - length(l) + 1) == l && !found++' | sed 's/: .*//; s/,.*//; s/:.*//')
  if [ -n "$package" ]; then packages+=("$package"); else foreign+=("$library"); fi
done
packages+=(libopenblas0)
depends=$(printf '%s\n' "${packages[@]}" | sort -u | paste -sd, | sed 's/,/, /g')
if ((${#foreign[@]})); then
  echo "package-deb.sh: warning: no Debian package holds ${foreign[*]}; the package runs only where they are (build it without --bin-dir for other machines)" >&2
fi

cat > "$stage/DEBIAN/control" <<EOF
Package: stn-video
Version: $version
Architecture: $(dpkg --print-architecture)
Maintainer: stn-video developers <stn-video@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: $depends
Recommends: parallel
Suggests: slurm-client, rsync
Section: video
Priority: optional
Description: rectify video with Spatial Transformer Networks
 stn-video picks a window of every frame with a trained Spatial Transformer
 Network (or a fixed or replayed transform), samples it bilinearly and encodes
 the result with FFmpeg, beside a per-frame parameter log. stn-train trains the
 models; stn-make-video makes synthetic test scenes. The bundled model is
 compiled into stn-video. Batch scripts for GNU parallel, ssh hosts and Slurm
 are in /usr/share/stn-video/pipelines.
EOF
deb=$output/stn-video_${version}_$(dpkg --print-architecture).deb
dpkg-deb --root-owner-group -Zgzip -z1 --build "$stage" "$deb" > /dev/null
echo "$deb"
