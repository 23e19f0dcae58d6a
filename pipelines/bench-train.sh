#!/usr/bin/env bash
# Training and inference throughput of STNCore, against PyTorch on CPU in the same run.
#
#   pipelines/bench-train.sh [steps]        (default 30 timed steps after 3 warm-up steps)
#
# Builds a throwaway release package in $BENCH_DIR (default /tmp/stn-bench) whose STNCore
# and COpenBLAS are symlinks into this checkout, then reports:
#   - the localisation-net forward on one 64×64 input (PyTorch tutorial loc net, and the video
#     model's small, keypoint and keypoint-lite nets), ms/call;
#   - training throughput (images/s) of the PyTorch-tutorial ST-CNN on 60×60 inputs,
#     batch 64, SGD with momentum: forward, cross-entropy, backward, update;
#   - when `import torch` works, the same architecture in PyTorch (default threads and one
#     thread), and the ratio Swift / PyTorch.
# Not a test: numbers depend on the machine's load. Besides wall-clock images/s, each side
# reports images per CPU-second (process user+system time), which stays comparable when
# other jobs share the machine; the ratio is given for both.
set -euo pipefail
STEPS="${1:-30}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-/tmp/stn-bench}"
mkdir -p "$BENCH_DIR/Sources/stn-bench"
ln -sfn "$ROOT/Sources/STNCore" "$BENCH_DIR/Sources/STNCore"
ln -sfn "$ROOT/Sources/COpenBLAS" "$BENCH_DIR/Sources/COpenBLAS"
cat > "$BENCH_DIR/Package.swift" <<'EOF'
// swift-tools-version:6.0
import PackageDescription
let package = Package(
    name: "stn-bench",
    targets: [
        .target(name: "COpenBLAS", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "STNCore", dependencies: ["COpenBLAS"]),
        .executableTarget(name: "stn-bench", dependencies: ["STNCore"]),
    ]
)
EOF
cat > "$BENCH_DIR/Sources/stn-bench/main.swift" <<'EOF'
import Foundation
import STNCore

let steps = Int(CommandLine.arguments.dropFirst().first ?? "30") ?? 30
func now() -> Double { Date().timeIntervalSinceReferenceDate }
func cpuTime() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
}

// 1. Localisation net forward, one 64×64 luma image: the PyTorch tutorial's loc net, and the
//    video model's two (small: conv + fc regression; keypoints: spatial soft-argmax, bundled).
for (name, config) in [("tutorial", ModelConfig.tutorial(height: 64, width: 64, transform: .affine)),
                       ("video-small", ModelConfig.videoAttention(localisationNet: .small)),
                       ("video-keypoints", ModelConfig.videoAttention(localisationNet: .keypoints)),
                       ("video-keypoints-lite", ModelConfig.videoAttention(localisationNet: .keypointsLite))] {
    let net = try STCNN(config: config, seed: 1)
    let predictor = net.makeModel().makePredictor(maxBatch: 1)
    var pixels = [UInt8](repeating: 0, count: 64 * 64)
    for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 7) }
    var theta = [Float](repeating: 0, count: predictor.parameterCount)
    for _ in 0..<50 { predictor.predict(luma: pixels, batch: 1, theta: &theta) }
    var best = Double.infinity, total = 0.0
    let cpuStart = cpuTime()
    for _ in 0..<20 {
        let start = now()
        for _ in 0..<100 { predictor.predict(luma: pixels, batch: 1, theta: &theta) }
        let each = (now() - start) / 100
        best = min(best, each); total += each
    }
    print("swift loc-net forward 64x64 (\(name)): " + String(format: "%.3f ms (best of 20×100), %.3f ms mean, %.3f ms CPU", best * 1e3,
                 total / 20 * 1e3, (cpuTime() - cpuStart) / 2000 * 1e3))
}

// 2. ST-CNN training throughput, 60×60, batch 64.
let batch = 64
let net = try STCNN(config: .tutorial(height: 60, width: 60, transform: .affine), seed: 1)
var random = RandomSource(seed: 2)
let images = Tensor(shape: [batch, 1, 60, 60])
for i in 0..<images.count { images[i] = random.uniform() }
let labels = (0..<batch).map { _ in Int32(random.int(below: 10)) }
let optimiser = SGD(learningRate: 0.01, momentum: 0.9)
for _ in 0..<3 { net.trainStep(images: images.data, labels: labels, batch: batch, optimiser: optimiser) }
let start = now(), cpuStart = cpuTime()
for _ in 0..<steps { net.trainStep(images: images.data, labels: labels, batch: batch, optimiser: optimiser) }
let seconds = now() - start, cpuSeconds = cpuTime() - cpuStart
print(String(format: "swift train: %.1f images/s (%d steps of %d in %.2f s); %.1f images per CPU-second", Double(steps * batch) / seconds,
             steps, batch, seconds, Double(steps * batch) / cpuSeconds))
EOF
echo "building $BENCH_DIR (release)…" >&2
swift build -c release --package-path "$BENCH_DIR" --product stn-bench 2>&1 | grep -E "error:" >&2 && exit 1
SWIFT_OUT="$("$BENCH_DIR/.build/release/stn-bench" "$STEPS")"
echo "$SWIFT_OUT"

if ! python3 -c "import torch" 2>/dev/null; then
    echo "torch not importable: no PyTorch comparison"
    exit 0
fi
SWIFT_IPS="$(echo "$SWIFT_OUT" | sed -n 's/^swift train: \([0-9.]*\) images.*/\1/p')"
SWIFT_CPU="$(echo "$SWIFT_OUT" | sed -n 's/^swift train: .*; \([0-9.]*\) images per CPU.*/\1/p')"
python3 - "$STEPS" "$SWIFT_IPS" "$SWIFT_CPU" <<'EOF'
import sys, time
import torch, torch.nn as nn, torch.nn.functional as F

steps, swift_ips, swift_cpu = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])

class Net(nn.Module):  # PyTorch's spatial-transformer tutorial, sized for 60×60 inputs
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(20 * 12 * 12, 50)
        self.fc2 = nn.Linear(50, 10)
        self.localization = nn.Sequential(nn.Conv2d(1, 8, kernel_size=7), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
                                          nn.Conv2d(8, 10, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.ReLU(True))
        self.fc_loc = nn.Sequential(nn.Linear(10 * 11 * 11, 32), nn.ReLU(True), nn.Linear(32, 3 * 2))
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    def stn(self, x):
        theta = self.fc_loc(self.localization(x).flatten(1)).view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False)

    def forward(self, x):
        x = self.stn(x)
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = F.relu(self.fc1(x.flatten(1)))
        x = F.dropout(x, training=self.training)
        return F.log_softmax(self.fc2(x), dim=1)

def train_rate(threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Net().train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.rand(64, 1, 60, 60), torch.randint(0, 10, (64,))
    def step():
        opt.zero_grad()
        F.nll_loss(model(x), y).backward()
        opt.step()
    for _ in range(3):
        step()
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    return steps * 64 / (time.perf_counter() - start), steps * 64 / (time.process_time() - cpu_start)

def loc_ms(threads):
    torch.set_num_threads(threads)
    loc = Net().eval()
    x = torch.rand(1, 1, 64, 64)
    fc_in = nn.Linear(10 * 12 * 12, 32)  # the same loc net on 64×64 gives 10×12×12 features
    with torch.no_grad():
        for _ in range(50):
            loc.fc_loc[2](F.relu(fc_in(loc.localization(x).flatten(1))))
        best = float("inf")
        for _ in range(20):
            start = time.perf_counter()
            for _ in range(100):
                loc.fc_loc[2](F.relu(fc_in(loc.localization(x).flatten(1))))
            best = min(best, (time.perf_counter() - start) / 100)
    return best * 1e3

default_threads = torch.get_num_threads()
print(f"torch {torch.__version__} loc-net forward 64x64: {loc_ms(1):.3f} ms (1 thread)")
for threads in sorted({default_threads, 1}, reverse=True):
    ips, cpu = train_rate(threads)
    print(f"torch train ({threads} thread{'s' if threads > 1 else ''}): {ips:.1f} images/s, {cpu:.1f} images per CPU-second; "
          f"swift/torch = {swift_ips / ips:.2f}x wall-clock, {swift_cpu / cpu:.2f}x per CPU-second")
EOF
