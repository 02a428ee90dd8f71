#!/usr/bin/env python3
"""PyTorch peer of the main job for one sampler: the paper's instance-balanced stage 1 on Fashion-MNIST-LT followed by
the five classifiers of its classifier table, each as config/FashionMNIST_LT/*.yaml describes it, timed end to end.

  stage 1   ResNet-8 + linear, 30 epochs, batch 128, SGD lr 0.05 cosine, momentum 0.9, wd 5e-4, crop+flip, a fresh
            permutation per epoch; top-1 on val after every epoch, the best-on-val weights kept, then test
  features  train / val / test through the frozen backbone (eval-mode BN, no augmentation)
  Joint     the stage-1 classifier on test
  NCM       features minus the training mean, L2-normalised; nearest class mean (squared L2)
  cRT       a fresh linear layer, 10 epochs on the training features, class-balanced batches (a uniform class, 4 of
            its rows per visit), lr 0.05 cosine, best on val
  tau-norm  w_j / |w_j|^tau (bias dropped) for tau = 0, 0.1, ..., 2.0, tau chosen on val
  LWS       per-class scales of the frozen stage-1 logits, 5 epochs class-balanced, lr 0.05 cosine, best on val

Input: --data DIR with train/, val/, test/ as scripts/bench/data.ts writes them. Prints one JSON object on the last
stdout line: wall seconds per part and the test top-1 of each classifier.
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_epoch import DEPTH, augment, load
from torch_peer import CifarResNet


def cosine(lr, epoch, epochs):
    return 0.5 * lr * (1 + math.cos(math.pi * epoch / epochs))


def normalise(images_u8, mean, std):
    return ((images_u8.float() / 255.0 - mean) / std).permute(0, 3, 1, 2).contiguous()


def top1(logits, y):
    return float((logits.argmax(1) == y).float().mean())


def balanced_batches(labels, classes, batch, per_visit, gen):
    """floor(N / batch) batches: each visit draws a uniform class, then `per_visit` of its rows (with replacement)."""
    by_class = [torch.nonzero(labels == c).squeeze(1) for c in range(classes)]
    present = [c for c in range(classes) if len(by_class[c])]
    out = []
    for _ in range(len(labels) // batch):
        cls = torch.tensor(present)[torch.randint(len(present), (batch // per_visit,), generator=gen)]
        rows = [by_class[c][torch.randint(len(by_class[c]), (per_visit,), generator=gen)] for c in cls.tolist()]
        out.append(torch.cat(rows))
    return out


def train_head(head_params, forward, xt, yt, xv, yv, classes, epochs, lr, gen):
    opt = torch.optim.SGD(head_params, lr=lr, momentum=0.9, weight_decay=5e-4)
    best, best_state = -1.0, None
    for epoch in range(epochs):
        for g in opt.param_groups:
            g["lr"] = cosine(lr, epoch, epochs)
        for idx in balanced_batches(yt, classes, 128, 4, gen):
            opt.zero_grad()
            F.cross_entropy(forward(xt[idx]), yt[idx]).backward()
            opt.step()
        with torch.no_grad():
            acc = top1(forward(xv), yv)
        if acc > best:
            best, best_state = acc, [p.detach().clone() for p in head_params]
    with torch.no_grad():
        for p, s in zip(head_params, best_state):
            p.copy_(s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    t_all = time.perf_counter()
    tr_x, tr_y, meta = load(os.path.join(a.data, "train"))
    va_x, va_y, _ = load(os.path.join(a.data, "val"))
    te_x, te_y, _ = load(os.path.join(a.data, "test"))
    mean = torch.tensor(meta["mean"], dtype=torch.float32)
    std = torch.tensor(meta["std"], dtype=torch.float32)
    classes = meta["classes"]
    va_n, te_n, tr_n = normalise(va_x, mean, std), normalise(te_x, mean, std), normalise(tr_x, mean, std)
    times = {}

    # ---- stage 1 -----------------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    model = CifarResNet(DEPTH["resnet8"], meta["c"], classes)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    n = tr_x.shape[0]
    best, best_state = -1.0, None
    for epoch in range(a.epochs):
        for g in opt.param_groups:
            g["lr"] = cosine(0.05, epoch, a.epochs)
        model.train()
        perm = torch.randperm(n, generator=gen)
        for s in range(n // 128):
            idx = perm[s * 128:(s + 1) * 128]
            opt.zero_grad()
            F.cross_entropy(model(augment(tr_x[idx], mean, std, 4, gen)), tr_y[idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = top1(torch.cat([model(va_n[i:i + 512]) for i in range(0, len(va_n), 512)]), va_y)
        if acc > best:
            best, best_state = acc, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    times["stage1_s"] = time.perf_counter() - t0

    # ---- features + the five classifiers --------------------------------------------------------------------------
    t0 = time.perf_counter()
    model.eval()

    def feats(x):
        with torch.no_grad():
            out = []
            for i in range(0, len(x), 512):
                out.append(model.layers(F.relu(model.bn1(model.conv1(x[i:i + 512])))).mean((2, 3)))
            return torch.cat(out)

    ft, fv, fe = feats(tr_n), feats(va_n), feats(te_n)
    times["features_s"] = time.perf_counter() - t0
    results = {}
    t0 = time.perf_counter()
    with torch.no_grad():
        results["joint"] = top1(model.fc(fe), te_y)
    times["joint_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    mu = ft.mean(0)
    nt, ne = F.normalize(ft - mu, dim=1), F.normalize(fe - mu, dim=1)
    centroids = torch.stack([nt[tr_y == c].mean(0) for c in range(classes)])
    results["ncm"] = top1(-torch.cdist(ne, centroids) ** 2, te_y)
    times["ncm_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    crt = nn.Linear(ft.shape[1], classes)
    train_head(list(crt.parameters()), crt, ft, tr_y, fv, va_y, classes, 10, 0.05, gen)
    with torch.no_grad():
        results["crt"] = top1(crt(fe), te_y)
    times["crt_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    W = model.fc.weight.detach()
    norms = W.norm(dim=1)
    best_tau, best_acc = 0.0, -1.0
    with torch.no_grad():
        lv = fv @ W.t()
        for t in range(21):
            acc = top1(lv / norms.pow(t / 10), va_y)
            if acc > best_acc:
                best_tau, best_acc = t / 10, acc
        results["tau_norm"] = top1((fe @ W.t()) / norms.pow(best_tau), te_y)
    times["tau_norm_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    scales = nn.Parameter(torch.ones(classes))
    b = model.fc.bias.detach()
    train_head([scales], lambda x: (x @ W.t() + b) * scales, ft, tr_y, fv, va_y, classes, 5, 0.05, gen)
    with torch.no_grad():
        results["lws"] = top1((fe @ W.t() + b) * scales, te_y)
    times["lws_s"] = time.perf_counter() - t0
    times["total_s"] = time.perf_counter() - t_all
    print(json.dumps({"torch": torch.__version__, "threads": a.threads, "times": times, "test_top1": results}))


if __name__ == "__main__":
    main()
