#!/usr/bin/env python3
"""Write the PyTorch-parity fixtures under test/fixtures/torch/ (the tests read them; they never need torch).

Needs python3-torch, python3-numpy and python3-pil (Debian packages: `apt-get install python3-torch
python3-numpy python3-pil`) and Debian's dataset-fashion-mnist for the pictures. Run from the repository root:

    /usr/bin/python3 scripts/torch_fixtures.py            # rewrites test/fixtures/torch/

What it does, following docs/ORIGINAL_CODE.md (the facts about the original classifier-balancing code):
  1. Builds the original's ImageNet-style feature models from their description (written here, not copied):
     ResNet-10 at full width, and ResNeXt-50 (32x4d) at a quarter of the width (16 stem channels) so that the
     fixture stays small; random weights on a coarse grid (exact in float16 too, and they compress well).
  2. Saves them exactly as the original's run_networks.py does: a dict {epoch, best_epoch, state_dict_best:
     {feat_model, classifier}, best_acc, centroids} of nn.DataParallel state dicts ("module." prefixes), with
     torch.save in the zip format and in the legacy format, float32 and float16. Stored gzip-compressed
     (*.pth.gz); the tests decompress them to a temporary folder. (Legacy files name their storages by memory
     address, so they differ from run to run in those keys only.)
  3. Makes a handful of JPEGs (Fashion-MNIST pictures upscaled and tinted, and synthetic ones) and runs them
     through the original's evaluation transform: Resize(256) (PIL bilinear), CenterCrop(224), ToTensor,
     Normalize(ImageNet mean/std). Writes the decoded+cropped uint8 pixels, the features, logits and predictions.
  4. Writes the feature pickles the original's `--save_feat` writes ({train,val,test}feat_all.pkl: a dict of
     feats float32 [N,d], labels int64 [N], idxs int64 [N], pickle protocol 4) next to the ResNet-10 checkpoint,
     and the split lists of a tiny ImageNet_LT-style dataset over the JPEGs.
  5. Lists the state-dict names and shapes of every original architecture at full width (archs.json).
"""
import collections
import gzip
import io
import json
import math
import os
import pickle
import shutil
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "test", "fixtures", "torch")
FMNIST = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
NUM_CLASSES = 5


# ---------------------------------------------------------------------------------------------------------------
# The original's feature models (docs/ORIGINAL_CODE.md, "Feature models"): 7x7/2 stem, BN, ReLU, 3x3/2 max-pool,
# four stages (stride 1, 2, 2, 2 on the first block, on the 3x3 conv of a bottleneck), 7x7 average pool, flatten.

class Basic(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride, groups=1, base_width=64):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class Bottle(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride, groups=1, base_width=64):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        out = planes * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != out:
            self.downsample = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class FeatureNet(nn.Module):
    def __init__(self, block, layers, groups=1, base_width=64, width=64):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = width
        for s, n in enumerate(layers):
            planes = width * 2 ** s
            blocks = []
            for b in range(n):
                blocks.append(block(cin, planes, 2 if (b == 0 and s > 0) else 1, groups, base_width))
                cin = planes * block.expansion
            setattr(self, "layer%d" % (s + 1), nn.Sequential(*blocks))
        self.avgpool = nn.AvgPool2d(7, stride=1)
        self.feat_dim = cin

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.avgpool(x).view(x.size(0), -1)


class DotProduct(nn.Module):
    def __init__(self, feat_dim, num_classes):
        super().__init__()
        self.fc = nn.Linear(feat_dim, num_classes)

    def forward(self, x):
        return self.fc(x)


class ScaledDotProduct(DotProduct):
    """The original's TauNormClassifier (LWS): fc frozen, logits times a learned per-class scale."""

    def __init__(self, feat_dim, num_classes):
        super().__init__(feat_dim, num_classes)
        self.scales = nn.Parameter(torch.ones(num_classes))

    def forward(self, x):
        return self.fc(x) * self.scales


ARCHS = {
    "resnet10": (Basic, [1, 1, 1, 1], 1, 64),
    "resnet50": (Bottle, [3, 4, 6, 3], 1, 64),
    "resnet101": (Bottle, [3, 4, 23, 3], 1, 64),
    "resnet152": (Bottle, [3, 8, 36, 3], 1, 64),
    "resnext50": (Bottle, [3, 4, 6, 3], 32, 4),
    "resnext101": (Bottle, [3, 4, 23, 3], 32, 4),
    "resnext152": (Bottle, [3, 8, 36, 3], 32, 4),
}


def build(arch, width=64):
    block, layers, groups, base_width = ARCHS[arch]
    return FeatureNet(block, layers, groups, base_width, width)


# ---------------------------------------------------------------------------------------------------------------
# Sparse weights on a coarse grid: a fifth of the values are non-zero, each k * 2^-e with |k| <= 7 (variance kept
# at the He value by scaling up the non-zero ones). Exact in float16, so the float16 and float32 checkpoints hold
# the same numbers and one set of expected outputs serves both; and the files compress about tenfold.

DENSITY = 0.2


def grid(rng, shape, std, kmax=7):
    std = std / math.sqrt(DENSITY)
    q = 2.0 ** math.floor(math.log2(std / 2.0))
    k = np.clip(np.round(rng.normal(0.0, std, size=shape) / q), -kmax, kmax)
    k[rng.random(size=shape) >= DENSITY] = 0
    return torch.from_numpy((k * q).astype(np.float32))


def randomise(net, rng):
    for name, m in net.named_modules():
        if isinstance(m, nn.Conv2d):
            n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            m.weight.data.copy_(grid(rng, m.weight.shape, math.sqrt(2.0 / n)))
        elif isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.weight.data.copy_(torch.from_numpy(1 + rng.integers(-4, 5, c) / 16.0).float())
            m.bias.data.copy_(torch.from_numpy(rng.integers(-4, 5, c) / 32.0).float())
            m.running_mean.copy_(torch.from_numpy(rng.integers(-4, 5, c) / 32.0).float())
            m.running_var.copy_(torch.from_numpy(1 + rng.integers(-6, 7, c) / 16.0).float())
            m.num_batches_tracked.fill_(int(rng.integers(1, 1000)))
        elif isinstance(m, nn.Linear):
            m.weight.data.copy_(grid(rng, m.weight.shape, 1.0 / math.sqrt(m.in_features)))
            m.bias.data.copy_(grid(rng, m.bias.shape, 0.1))
    if isinstance(net, ScaledDotProduct):
        net.scales.data.copy_(torch.from_numpy(1 + rng.integers(-8, 9, net.scales.numel()) / 16.0).float())


# ---------------------------------------------------------------------------------------------------------------
# Pictures and the original's evaluation transform.

def fmnist_images(count):
    with gzip.open(FMNIST, "rb") as f:
        data = f.read()
    n, h, w = struct.unpack(">III", data[4:16])
    pix = np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, h, w)
    return [pix[i] for i in range(count)]


def tinted(gray, size, tint):
    """A 28x28 Fashion-MNIST picture upscaled (bicubic) and coloured: RGB = tint * gray + (1 - tint) * background."""
    img = Image.fromarray(gray).resize(size, Image.BICUBIC)
    g = np.asarray(img).astype(np.float32) / 255.0
    h, w = g.shape
    yy, xx = np.mgrid[0:h, 0:w]
    bg = np.stack([xx / w, yy / h, 0.5 + 0.5 * np.sin(xx / 17.0)], -1)
    rgb = g[..., None] * np.array(tint)[None, None, :] + (1 - g[..., None]) * bg * 0.6
    return Image.fromarray(np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8), "RGB")


def synthetic(size, seed):
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot(xx - w * 0.4, yy - h * 0.55)
    rgb = np.stack([
        0.5 + 0.5 * np.cos(r / (9.0 + seed)),
        np.clip(xx / w + 0.2 * np.sin(yy / 11.0), 0, 1),
        (((xx // 23) + (yy // 29)) % 2) * 0.7 + 0.1,
    ], -1)
    return Image.fromarray(np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8), "RGB")


def eval_transform(img):
    """torchvision Resize(256) + CenterCrop(224) on a PIL image, as the original's 'val'/'test' transform."""
    w, h = img.size
    if w <= h:
        nw, nh = 256, int(256 * h / w)
    else:
        nh, nw = 256, int(256 * w / h)
    if (nw, nh) != (w, h):
        img = img.resize((nw, nh), Image.BILINEAR)
    top = int(round((nh - 224) / 2.0))
    left = int(round((nw - 224) / 2.0))
    return np.asarray(img.crop((left, top, left + 224, top + 224)).convert("RGB"))


def to_input(pixels):
    """ToTensor + Normalize: uint8 [N,224,224,3] -> float32 [N,3,224,224]."""
    x = torch.from_numpy(pixels.astype(np.float32) / 255.0).permute(0, 3, 1, 2)
    m = torch.tensor(MEAN).view(1, 3, 1, 1)
    s = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - m) / s


# ---------------------------------------------------------------------------------------------------------------
# Saving in the original's checkpoint layout.

def checkpoint(feat, clf, half, parallel):
    """final_model_checkpoint.pth content: state dicts of nn.DataParallel wrappers (keys 'module.*'), as
    run_networks.save_model writes them, or of the bare modules (as a single-GPU variant of the code would)."""
    if half:
        feat, clf = feat.half(), clf.half()
    wrap = nn.DataParallel if parallel else (lambda m: m)
    best = {"feat_model": wrap(feat).state_dict(), "classifier": wrap(clf).state_dict()}
    if half:
        feat.float(), clf.float()
    return {"epoch": 90, "best_epoch": 87, "state_dict_best": best, "best_acc": 0.4375, "centroids": None}


def save_gz(obj, path, legacy):
    """torch.save into a file named like the original's, then gzip it (mtime 0, so reruns give the same bytes)."""
    tmp_dir = os.path.join(OUT, ".tmp")
    os.makedirs(tmp_dir, exist_ok=True)
    tmp = os.path.join(tmp_dir, "final_model_checkpoint.pth")
    if legacy:
        torch.save(obj, tmp, _use_new_zipfile_serialization=False)
    else:
        torch.save(obj, tmp)
    with open(tmp, "rb") as f:
        raw = f.read()
    write_gz(path, raw)
    shutil.rmtree(tmp_dir)
    return len(raw)


def write_gz(path, raw):
    with open(path, "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as g:
            g.write(raw)


def save_npy(path, arr):
    np.save(path, np.ascontiguousarray(arr))


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(os.path.join(OUT, "images"))
    torch.set_num_threads(2)
    rng = np.random.default_rng(20200426)

    # Pictures: four whose shorter side is already 256 (the transform is a pure crop, so any two decoders of the
    # same JPEG give the same input), two that need a resize (PIL's bilinear vs sharp's differs there).
    fm = fmnist_images(6)
    specs = [
        ("fm0_256x256", tinted(fm[0], (256, 256), (1.0, 0.6, 0.2))),
        ("fm1_320x256", tinted(fm[1], (320, 256), (0.2, 0.8, 1.0))),
        ("syn0_256x288", synthetic((256, 288), 0)),
        ("fm2_256x300", tinted(fm[2], (256, 300), (0.9, 0.9, 0.3))),
        ("fm3_300x400", tinted(fm[3], (300, 400), (0.6, 0.3, 0.9))),
        ("syn1_240x200", synthetic((240, 200), 3)),
    ]
    names, pixels = [], []
    for name, img in specs:
        path = os.path.join(OUT, "images", name + ".jpg")
        img.save(path, quality=92, subsampling=0)  # 4:4:4: no chroma upsampling choices in the decoder
        with Image.open(path) as im:
            pixels.append(eval_transform(im.convert("RGB")))
        names.append(name)
    pixels = np.stack(pixels)
    labels = np.array([0, 1, 2, 3, 4, 1], dtype=np.int64)
    crop_only = [n for n in names if "_256x" in n or n.endswith("x256")]

    expected = {"images": names, "labels": labels.tolist(), "crop_only": crop_only, "mean": MEAN, "std": STD,
                "transform": "Resize(256) PIL bilinear, CenterCrop(224), ToTensor, Normalize", "models": {}}
    buf = io.BytesIO()
    np.save(buf, pixels)
    write_gz(os.path.join(OUT, "pixels.npy.gz"), buf.getvalue())
    x = to_input(pixels)

    models = [
        # name, arch, width, classifier, files: (file name, legacy format, float16, DataParallel keys)
        ("resnet10", "resnet10", 64, DotProduct, [("resnet10/final_model_checkpoint.pth.gz", False, False, True)]),
        ("resnext50_w16", "resnext50", 16, ScaledDotProduct, [("resnext50_w16_legacy.pth.gz", True, False, True),
                                                              ("resnext50_w16_fp16.pth.gz", False, True, False)]),
    ]
    for name, arch, width, clf_cls, files in models:
        torch.manual_seed(0)
        feat = build(arch, width)
        clf = clf_cls(feat.feat_dim, NUM_CLASSES)
        randomise(feat, rng)
        randomise(clf, rng)
        feat.eval(), clf.eval()
        with torch.no_grad():
            f = feat(x)
            z = clf(f)
        os.makedirs(os.path.dirname(os.path.join(OUT, files[0][0])), exist_ok=True)
        entry = {"arch": arch, "width": width, "feat_dim": feat.feat_dim, "num_classes": NUM_CLASSES,
                 "classifier": clf_cls.__name__, "files": {}}
        for fname, legacy, half, parallel in files:
            raw = save_gz(checkpoint(feat, clf, half, parallel), os.path.join(OUT, fname), legacy)
            entry["files"][fname] = {"legacy": legacy, "float16": half, "data_parallel": parallel, "pth_bytes": raw}
        save_npy(os.path.join(OUT, name + "_feats.npy"), f.numpy())
        save_npy(os.path.join(OUT, name + "_logits.npy"), z.numpy())
        entry["preds"] = z.argmax(1).tolist()
        entry["feat_abs_max"] = float(f.abs().max())
        entry["logit_abs_max"] = float(z.abs().max())
        expected["models"][name] = entry

        if name == "resnet10":
            # The original's --save_feat pickles next to the checkpoint (its log_dir), for train_plain / val /
            # test of the tiny dataset below: train = all six pictures, val = two crop-only and two resized ones,
            # test = the four crop-only ones (so `ltr test --save-feat test` must give PyTorch's features exactly).
            splits = {"train": list(range(6)), "val": [0, 4, 5, 2], "test": [0, 1, 2, 3]}
            for split, rows in splits.items():
                d = {"feats": f.numpy()[rows].astype(np.float32), "labels": labels[rows],
                     "idxs": np.arange(len(rows), dtype=np.int64)}
                with open(os.path.join(OUT, "resnet10", split + "feat_all.pkl"), "wb") as fh:
                    pickle.dump(d, fh, protocol=4)
                if split == "val":
                    # The same dict at pickle protocol 2 (bytes as _codecs.encode), as an older script would write it.
                    with open(os.path.join(OUT, "valfeat_all_protocol2.pkl"), "wb") as fh:
                        pickle.dump(d, fh, protocol=2)
                with open(os.path.join(OUT, "ImageNet_LT_%s.txt" % split), "w") as fh:
                    for r in rows:
                        fh.write("images/%s.jpg %d\n" % (names[r], labels[r]))
            expected["splits"] = splits

    # Full-width state-dict names and shapes of every original architecture (PyTorch layout [out, in/g, kh, kw]).
    archs = {}
    for arch in ARCHS:
        net = build(arch)
        archs[arch] = [[k, list(v.shape)] for k, v in net.state_dict().items()]
    with open(os.path.join(OUT, "archs.json"), "w") as fh:
        json.dump(archs, fh, separators=(",", ":"))
    expected["versions"] = {"torch": torch.__version__, "numpy": np.__version__, "python": sys.version.split()[0]}
    with open(os.path.join(OUT, "expected.json"), "w") as fh:
        json.dump(expected, fh, indent=1)
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(OUT) for fn in fns)
    print("wrote %s (%.2f MB)" % (OUT, total / 1e6))


if __name__ == "__main__":
    main()
