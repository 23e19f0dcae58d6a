#!/usr/bin/env bash
# Installs what the project needs (Debian packages), builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
swift test --skip-build
