#!/usr/bin/env bash
# Installs what stn-video needs from Debian: FFmpeg 5.1's libraries and CLI,
# OpenBLAS, the Fashion-MNIST data set, GNU parallel and pkg-config; and the engines the
# batch scripts' tests start on this machine: Slurm with munge, an ssh server, rsync; and
# opencv-doc, whose real clips pipelines/real-clips.sh and a timestamp test read.
# Idempotent: packages already installed are skipped by apt.
set -euo pipefail
packages=(
  pkg-config
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev
  ffmpeg
  libopenblas-dev
  dataset-fashion-mnist
  parallel
  slurm-wlm munge openssh-server rsync
  opencv-doc
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
