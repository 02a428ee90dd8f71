#!/usr/bin/env python3
"""PyTorch peer of scripts/bench/run.ts for the kernel diagnostics (one training step / inference pass on a pool of
distinct random batches, as scripts/bench/step.ts) and the stage-2 workloads, timed the same way. The headline stage-1
figure comes from real epochs instead (scripts/bench/torch_epoch.py).

Prints one JSON object on the last stdout line. Run by `npm run bench` when `/usr/bin/python3 -c "import torch"`
works; standalone: /usr/bin/python3 scripts/bench/torch_peer.py --quick --threads 2.

Thread setup (found best on this machine kind, docs/PERFORMANCE.md): convnets use torch.set_num_threads(T);
GEMM-bound stage-2 workloads use torch.set_num_threads(1) because OpenBLAS runs its own T-thread pool and the two
pools oversubscribe the cores otherwise.
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, in_c, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or in_c != planes:
            self.downsample = nn.Sequential(nn.Conv2d(in_c, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


class CifarResNet(nn.Module):
    """CIFAR ResNet-(6n+2) as in src/models/resnet.ts: 3x3 stem (16), stages 16/32/64, GAP, linear head."""

    def __init__(self, n, in_c, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, c = [], 16
        for s, planes in enumerate([16, 32, 64]):
            for b in range(n):
                layers.append(BasicBlock(c, planes, 2 if (b == 0 and s > 0) else 1))
                c = planes
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        y = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(y.mean((2, 3)))


def median_time(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), min(ts), max(ts)


def convnet(name, shape, batch, warmup, reps):
    n = {"resnet8": 1, "resnet20": 3, "resnet32": 5}[name]
    h, w, c = shape
    torch.manual_seed(0)
    model = CifarResNet(n, c, 10)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    pool = 8
    xs = [torch.rand(batch, c, h, w) - 0.5 for _ in range(pool)]
    ys = [torch.tensor([(i * 7 + k) % 10 for i in range(batch)]) for k in range(pool)]
    state = {"k": 0}

    def take():
        k = state["k"] % pool
        state["k"] += 1
        return xs[k], ys[k]

    def train():
        x, y = take()
        model.train()
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    def infer():
        x, _ = take()
        model.eval()
        with torch.no_grad():
            return model(x).sum().item()

    tm, tlo, thi = median_time(train, warmup, reps)
    im, ilo, ihi = median_time(infer, warmup, reps)
    return {
        "train_img_s": batch / tm, "train_img_s_range": [batch / thi, batch / tlo],
        "infer_img_s": batch / im, "infer_img_s_range": [batch / ihi, batch / ilo],
    }


def features(n, d, k, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.clamp(torch.rand(n, d, generator=g) - 0.3, min=0)
    u = torch.rand(n, generator=g)
    y = torch.clamp((k * u * u).long(), max=k - 1)
    return x, y


CHUNK = 5000


def tau_sweep(xq, yq, W, taus):
    norms = W.norm(dim=1)
    scales = [norms.pow(-t / 10) for t in range(taus)]
    correct = [0] * taus
    for r0 in range(0, xq.shape[0], CHUNK):
        L = xq[r0:r0 + CHUNK] @ W.t()
        yb = yq[r0:r0 + CHUNK]
        for t, s in enumerate(scales):
            correct[t] += int(((L * s).argmax(1) == yb).sum())
    return [c / xq.shape[0] for c in correct]


def ncm(xt, yt, xq, yq, k):
    sums = torch.zeros(k, xt.shape[1]).index_add_(0, yt, xt)
    counts = torch.bincount(yt, minlength=k).clamp(min=1).unsqueeze(1).float()
    M = F.normalize(sums / counts, dim=1)
    correct = 0
    for r0 in range(0, xq.shape[0], CHUNK):
        p = (F.normalize(xq[r0:r0 + CHUNK], dim=1) @ M.t()).argmax(1)
        correct += int((p == yq[r0:r0 + CHUNK]).sum())
    return correct / xq.shape[0]


def crt_epoch(xt, yt, xv, yv, k, batch):
    """One cRT epoch as run.ts times it: floor(N/B) class-balanced batches (a uniform class, then 4 of its rows, drawn
    with tensor ops), forward, backward, SGD step (lr 0.2, momentum 0.9, wd 5e-4), then top-1 on the val features."""
    torch.manual_seed(0)
    clf = nn.Linear(xt.shape[1], k)
    opt = torch.optim.SGD(clf.parameters(), lr=0.2, momentum=0.9, weight_decay=5e-4)
    order = torch.argsort(yt)
    counts = torch.bincount(yt, minlength=k)
    starts = torch.cumsum(counts, 0) - counts
    present = torch.nonzero(counts).squeeze(1)
    per_visit = 4
    for _ in range(xt.shape[0] // batch):
        cls = present[torch.randint(len(present), (batch // per_visit,))].repeat_interleave(per_visit)
        idx = order[starts[cls] + (torch.rand(batch) * counts[cls]).long()]
        opt.zero_grad()
        loss = F.cross_entropy(clf(xt[idx]), yt[idx])
        loss.backward()
        opt.step()
    correct = 0
    with torch.no_grad():
        for r0 in range(0, xv.shape[0], CHUNK):
            correct += int((clf(xv[r0:r0 + CHUNK]).argmax(1) == yv[r0:r0 + CHUNK]).sum())
    return correct / xv.shape[0]


def timed(fn):
    t0 = time.perf_counter()
    r = fn()
    return time.perf_counter() - t0, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--configs", default="", help="comma list name:H:W:C (default: the run.ts set)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--ntrain", type=int, default=115846)
    ap.add_argument("--nquery", type=int, default=50000)
    ap.add_argument("--nval", type=int, default=20000)
    ap.add_argument("--stage2", type=int, default=1)
    a = ap.parse_args()
    out = {"torch": torch.__version__, "threads": a.threads, "convnets": {}, "stage2": {}}
    torch.set_num_threads(a.threads)
    for cfg in [c for c in a.configs.split(",") if c]:
        name, h, w, c = cfg.split(":")
        out["convnets"][cfg] = convnet(name, (int(h), int(w), int(c)), 128, a.warmup, a.reps)
    if a.stage2:
        torch.set_num_threads(1)
        d, k, taus = 2048, 1000, 21
        xt, yt = features(a.ntrain, d, k, 1)
        xq, yq = features(a.nquery, d, k, 2)
        xv, yv = features(a.nval, d, k, 4)
        W = torch.rand(k, d, generator=torch.Generator().manual_seed(3)) - 0.5
        tau_sweep(xq[:CHUNK], yq[:CHUNK], W, 2)  # warm-up
        t, _ = timed(lambda: tau_sweep(xq, yq, W, taus))
        out["stage2"]["tau_sweep_s"] = t
        t, _ = timed(lambda: ncm(xt, yt, xq, yq, k))
        out["stage2"]["ncm_s"] = t
        t, _ = timed(lambda: crt_epoch(xt, yt, xv, yv, k, 512))
        out["stage2"]["crt_epoch_s"] = t
        torch.set_num_threads(a.threads)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
