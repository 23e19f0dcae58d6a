#!/usr/bin/env python3
"""The PyTorch side of pipelines/bench-train.sh: the tutorial ST-CNN on CPU, timed as stn-bench train times ours,
at each thread count stn-bench was timed at.

    python3 pipelines/bench_train_torch.py STEPS THREADS:SWIFT_IMAGES_PER_S:SWIFT_IMAGES_PER_CPU_S ...
"""
import sys, time
import torch, torch.nn as nn, torch.nn.functional as F

steps = int(sys.argv[1])
swift = {int(t): (float(ips), float(cpu)) for t, ips, cpu in (arg.split(":") for arg in sys.argv[2:])}

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

print(f"torch {torch.__version__} loc-net forward 64x64: {loc_ms(1):.3f} ms (1 thread)")
for threads in sorted(swift):
    ips, cpu = train_rate(threads)
    swift_ips, swift_cpu = swift[threads]
    print(f"torch train ({threads} thread{'s' if threads > 1 else ''}): {ips:.1f} images/s, {cpu:.1f} images per CPU-second; "
          f"swift/torch = {swift_ips / ips:.2f}x wall-clock, {swift_cpu / cpu:.2f}x per CPU-second")
