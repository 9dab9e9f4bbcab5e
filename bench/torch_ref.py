#!/usr/bin/python3
"""PyTorch timings of the workloads in nadir's internal/perf package.

Stand-in for the shared peer script when ../shared/bench/torch_ref.py is
absent; bench/compare.sh picks whichever exists. Same workloads, same
timing rules (one warm-up call, then REPS timed runs, median reported),
same JSON keys.

Usage: OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/torch_ref.py [REPS] [--json]
Needs Debian's python3-torch (apt-get install -y python3-torch).
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

STEPS = 5  # train steps averaged in one timed run, as nadir bench's --steps default


def timed_runs(reps, per_run, fn):
    """Run fn once to warm up, then reps times per_run calls; ms per call of each run."""
    fn()
    runs = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(per_run):
            fn()
        runs.append((time.perf_counter() - t0) * 1e3 / per_run)
    return runs


def report(name, unit, runs):
    m = statistics.median(runs)
    print(f"torch {name}: median {m:.2f} {unit} (runs [{' '.join(f'{v:.2f}' for v in runs)}])")
    return m


def gemm(n, reps):
    a, b = torch.rand(n, n), torch.rand(n, n)
    c = torch.empty(n, n)
    iters = max(1, (1 << 30) // n ** 3)  # about 2^30 multiply-adds per run
    ms = timed_runs(reps, iters, lambda: torch.mm(a, b, out=c))
    return report(f"gemm float32 {n}^3 NN", "GFLOP/s", [2 * n ** 3 / (t / 1e3) / 1e9 for t in ms])


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def lenet():
    return nn.Sequential(nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(1024, 128), nn.ReLU(), nn.Linear(128, 10))


def vgg(width):
    """The growth benchmark's network, nadir's cnn:cW,p,cW,p,cW,cW,p,cW,cW,p,cW,cW,g: 8 x (3x3 conv, BatchNorm,
    ReLU), max pools after convs 1, 2, 4 and 6 (28 -> 14 -> 7 -> 3 -> 1), global average pool, linear classifier."""
    layers, cin = [], 1
    for i in range(8):
        layers += [nn.Conv2d(cin, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
        cin = width
        if i in (0, 1, 3, 5):
            layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 10))


def train_step(name, model, reps, momentum=False):
    x = torch.rand(128, 1, 28, 28)
    y = torch.randint(0, 10, (128,))
    if momentum:  # the reference growth code's optimiser
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return report(f"{name} train step B=128 SGD", "ms", timed_runs(reps, STEPS, step))


def depthwise(reps):
    conv = nn.Conv2d(64, 64, 3, padding=1, groups=64)
    x = torch.randn(32, 64, 16, 16)

    def step():
        conv.zero_grad(set_to_none=True)
        conv(x).pow(2).sum().backward()

    return report("depthwise conv 3x3 groups=64 (32x64x16x16) fwd+bwd", "ms", timed_runs(reps, 1, step))


def main():
    args = [a for a in sys.argv[1:] if a != "--json"]
    reps = int(args[0]) if args else 5
    torch.set_num_threads(2)
    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}, reps={reps}, steps per run={STEPS}")
    fig = {
        "gemm512_gflops": gemm(512, reps),
        "gemm1024_gflops": gemm(1024, reps),
        "mlp_step_ms": train_step("MLP 784-256-256-10", mlp(), reps),
        "lenet_step_ms": train_step("LeNet 32c5-p2-64c5-p2-128-10", lenet(), reps),
        "vgg16_step_ms": train_step("VGG11-like width 16 (BN)", vgg(16), reps, momentum=True),
        "vgg48_step_ms": train_step("VGG11-like width 48 (BN)", vgg(48), reps, momentum=True),
        "depthwise_ms": depthwise(reps),
    }
    if "--json" in sys.argv[1:]:
        print(json.dumps(fig))


if __name__ == "__main__":
    main()
