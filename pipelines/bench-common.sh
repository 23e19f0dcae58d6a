# Sourced by the benchmark scripts: the release build they time. Clips and timings of whole
# runs against ffmpeg are pipelines/bench_pipeline.py's (bench-fixed.sh is one of its modes).
BENCH_PIPELINES="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_ROOT="$(dirname "$BENCH_PIPELINES")"
BENCH_BIN="$BENCH_ROOT/.build/release"

# bench_build PRODUCT: a release build of one of the package's products, quietly unless it fails.
bench_build() {
    local log
    log="$(mktemp)"
    if ! swift build -c release --package-path "$BENCH_ROOT" --product "$1" >"$log" 2>&1; then
        grep -E "error" "$log" >&2 || cat "$log" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
}
