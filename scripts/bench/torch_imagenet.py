#!/usr/bin/env python3
"""PyTorch peer of scripts/bench/imagenet.ts: ImageNet ResNet-50 / ResNeXt-50 32x4d / ResNet-152 feature extractors
(the same layout as src/models/resnet.ts: 7x7/2 stem, 3x3/2 max-pool, bottleneck stages, global average pool, no
classifier head), timed in inference on pixels the TypeScript side decoded, so both sides see the same images.

A persistent worker, so that the bench can alternate ours and PyTorch without paying start-up each time: one JSON
command per stdin line, one JSON answer per stdout line.
  {"cmd": "time", "model": "resnext50", "pixels": "/tmp/x.f32", "n": 256, "batch": 8, "warmup": 1, "reps": 3,
   "memory_format": "contiguous" | "channels_last"}
      -> {"times": [seconds per rep], "n": 256}   one rep = forward passes over all n images in batches of `batch`
  {"cmd": "quit"}
`pixels` is raw little-endian float32 NHWC [n, 224, 224, 3] (already normalised). Start-up prints
{"torch": version, "threads": T} first.
"""
import argparse
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_c, planes, stride, groups, width_per_group):
        super().__init__()
        width = (planes * width_per_group // 64) * groups
        out_c = planes * self.expansion
        self.conv1 = nn.Conv2d(in_c, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_c, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_c)
        self.downsample = None
        if stride != 1 or in_c != out_c:
            self.downsample = nn.Sequential(nn.Conv2d(in_c, out_c, 1, stride, bias=False), nn.BatchNorm2d(out_c))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


class ImageNetResNet(nn.Module):
    def __init__(self, layers, groups=1, width_per_group=64):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        blocks, c = [], 64
        for s, (planes, n) in enumerate(zip([64, 128, 256, 512], layers)):
            for b in range(n):
                blocks.append(Bottleneck(c, planes, 2 if (b == 0 and s > 0) else 1, groups, width_per_group))
                c = planes * Bottleneck.expansion
        self.blocks = nn.Sequential(*blocks)
        self.feat_dim = c

    def forward(self, x):
        y = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        return self.blocks(y).mean((2, 3))


SPECS = {
    "resnet50": dict(layers=[3, 4, 6, 3]),
    "resnext50": dict(layers=[3, 4, 6, 3], groups=32, width_per_group=4),
    "resnet152": dict(layers=[3, 8, 36, 3]),
}

_models = {}


def model(name, memory_format):
    key = (name, memory_format)
    if key not in _models:
        torch.manual_seed(0)
        m = ImageNetResNet(**SPECS[name]).eval()
        if memory_format == "channels_last":
            m = m.to(memory_format=torch.channels_last)
        _models[key] = m
    return _models[key]


_pixels = {}


def pixels(path, n, memory_format):
    key = (path, n, memory_format)
    if key not in _pixels:
        _pixels.clear()
        a = np.fromfile(path, dtype="<f4", count=n * 224 * 224 * 3).reshape(n, 224, 224, 3)
        x = torch.from_numpy(a).permute(0, 3, 1, 2)
        x = x.contiguous(memory_format=torch.channels_last) if memory_format == "channels_last" else x.contiguous()
        _pixels[key] = x
    return _pixels[key]


def time_cmd(c):
    mf = c.get("memory_format", "contiguous")
    m = model(c["model"], mf)
    x = pixels(c["pixels"], c["n"], mf)
    b = c["batch"]

    def once():
        s = 0.0
        with torch.no_grad():
            for i in range(0, x.shape[0], b):
                s += float(m(x[i:i + b]).sum())
        return s

    for _ in range(c.get("warmup", 1)):
        once()
    times = []
    for _ in range(c["reps"]):
        t0 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t0)
    return {"times": times, "n": int(x.shape[0])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(json.dumps({"torch": torch.__version__, "threads": a.threads}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        c = json.loads(line)
        if c["cmd"] == "quit":
            break
        try:
            if c["cmd"] != "time":
                raise ValueError(f"unknown command {c['cmd']!r}; expected 'time' or 'quit'")
            out = time_cmd(c)
        except Exception as e:  # reported to the caller, which names the command
            out = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
