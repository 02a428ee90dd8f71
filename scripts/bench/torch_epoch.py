#!/usr/bin/env python3
"""PyTorch peer of `ltr train` for the stage-1 bench: a plain PyTorch 1.13 epoch loop of the paper's stage-1 recipe on
the same training images, timed the way src/train/loop.ts times ours (sampler, augmentation, forward, backward, SGD;
validation excluded).

Recipe (Kang et al. 2020, instance-balanced stage 1 as config/FashionMNIST_LT/feat_uniform.yaml runs it): a CIFAR-style
ResNet (scripts/bench/torch_peer.py), batch 128, floor(N/128) batches of a fresh uniform permutation per epoch, random
crop with 4 pixels of zero padding and a horizontal flip with p = 0.5, per-channel normalisation, softmax
cross-entropy, SGD lr 0.05 (cosine over the epochs), momentum 0.9, weight decay 5e-4.

Input: --data DIR holding meta.json ({"n", "h", "w", "c", "mean": [...], "std": [...]}), images.u8 (n*h*w*c bytes, NHWC)
and labels.i32 (n int32), as scripts/bench/run.ts writes them. Prints one JSON object on the last stdout line:
{"epochs": [{"train_s", "cpu_s", "images", "images_per_s", "loss"}], "torch", "threads"} (cpu_s: process CPU seconds,
all threads).
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from torch_peer import CifarResNet

DEPTH = {"resnet8": 1, "resnet20": 3, "resnet32": 5}


def load(data_dir):
    meta = json.load(open(os.path.join(data_dir, "meta.json")))
    n, h, w, c = meta["n"], meta["h"], meta["w"], meta["c"]
    images = np.fromfile(os.path.join(data_dir, "images.u8"), dtype=np.uint8).reshape(n, h, w, c)
    labels = np.fromfile(os.path.join(data_dir, "labels.i32"), dtype=np.int32)
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64)), meta


def augment(batch_u8, mean, std, pad, gen):
    """Random crop from a zero-padded image and a horizontal flip, per image, vectorised over the batch;
    uint8 NHWC in, normalised float NCHW out (the padding is a zero pixel before normalisation, as torchvision's)."""
    b, h, w, c = batch_u8.shape
    x = (batch_u8.float() / 255.0 - mean) / std
    zero = (0.0 - mean) / std
    xp = zero.expand(b, h + 2 * pad, w + 2 * pad, c).clone()
    xp[:, pad:pad + h, pad:pad + w] = x
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    flip = torch.rand(b, generator=gen) < 0.5
    ar_h, ar_w = torch.arange(h), torch.arange(w)
    rows = dy[:, None] + ar_h[None, :]
    cols = torch.where(flip[:, None], w - 1 - ar_w[None, :], ar_w[None, :]) + dx[:, None]
    out = xp[torch.arange(b)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", default="resnet8", choices=sorted(DEPTH))
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    images, labels, meta = load(a.data)
    mean = torch.tensor(meta["mean"], dtype=torch.float32)
    std = torch.tensor(meta["std"], dtype=torch.float32)
    classes = int(labels.max()) + 1
    model = CifarResNet(DEPTH[a.model], meta["c"], classes)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9, weight_decay=5e-4)
    gen = torch.Generator().manual_seed(a.seed)
    n = images.shape[0]
    steps = n // a.batch
    epochs = []
    for epoch in range(a.epochs):
        for g in opt.param_groups:
            g["lr"] = 0.5 * a.lr * (1 + math.cos(math.pi * epoch / a.epochs))
        model.train()
        t0 = time.perf_counter()
        c0 = time.process_time()
        perm = torch.randperm(n, generator=gen)
        loss_sum = 0.0
        for s in range(steps):
            idx = perm[s * a.batch:(s + 1) * a.batch]
            x = augment(images[idx], mean, std, 4, gen)
            y = labels[idx]
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            loss_sum += loss.item()
        dt = time.perf_counter() - t0
        cpu = time.process_time() - c0
        epochs.append({"train_s": dt, "cpu_s": cpu, "images": steps * a.batch, "images_per_s": steps * a.batch / dt, "loss": loss_sum / steps})
    print(json.dumps({"torch": torch.__version__, "threads": a.threads, "model": a.model, "epochs": epochs}))


if __name__ == "__main__":
    main()
