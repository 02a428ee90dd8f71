/**
 * Residual blocks shared by the CIFAR and ImageNet ResNets (the original code's and torchvision's parameter names:
 * conv1/bn1/conv2/bn2[/conv3/bn3], shortcut "downsample.0" (1×1 conv) + "downsample.1" (BN); docs/ORIGINAL_CODE.md).
 */
import * as tf from "@tensorflow/tfjs";
import { BatchNorm2d } from "./batchnorm.js";
import { Conv2d } from "./conv.js";
import { convBn } from "./conv_bn.js";
import type { ParamStore } from "./params.js";
import type { GroupedConvImpl } from "./types.js";

export interface BlockArgs {
  /** Input channels. */
  inC: number;
  /** Stage width ("planes"); the block outputs planes·expansion channels. */
  planes: number;
  /** Stride of the block (on the 3×3 conv: torchvision "v1.5" style). */
  stride: number;
  /** Bottleneck only: groups of the 3×3 conv (1 = ResNet, 32 = ResNeXt 32×4d). */
  groups?: number;
  /** Bottleneck only: channels per group at planes=64 (64 = ResNet, 4 = ResNeXt 32×4d). */
  widthPerGroup?: number;
  /** Grouped-conv strategy. */
  groupedConv?: GroupedConvImpl;
}

export interface Block {
  readonly outC: number;
  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D;
}

/** 1×1 conv + BN projection when the shape changes, else identity (null). */
function makeShortcut(store: ParamStore, key: string, inC: number, outC: number, stride: number) {
  if (stride === 1 && inC === outC) return null;
  const conv = new Conv2d(store, `${key}.downsample.0`, { inC, outC, kernel: 1, stride });
  const bn = new BatchNorm2d(store, `${key}.downsample.1`, outC);
  return (x: tf.Tensor4D, training: boolean) => convBn(conv, bn, x, training);
}

/** Two 3×3 convs (expansion 1). */
export class BasicBlock implements Block {
  static readonly expansion = 1;
  readonly outC: number;
  private readonly conv1: Conv2d;
  private readonly bn1: BatchNorm2d;
  private readonly conv2: Conv2d;
  private readonly bn2: BatchNorm2d;
  private readonly shortcut: ((x: tf.Tensor4D, training: boolean) => tf.Tensor4D) | null;

  constructor(store: ParamStore, key: string, a: BlockArgs) {
    this.outC = a.planes;
    this.conv1 = new Conv2d(store, `${key}.conv1`, { inC: a.inC, outC: a.planes, kernel: 3, stride: a.stride });
    this.bn1 = new BatchNorm2d(store, `${key}.bn1`, a.planes);
    this.conv2 = new Conv2d(store, `${key}.conv2`, { inC: a.planes, outC: a.planes, kernel: 3 });
    this.bn2 = new BatchNorm2d(store, `${key}.bn2`, a.planes);
    this.shortcut = makeShortcut(store, key, a.inC, this.outC, a.stride);
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return tf.tidy(() => {
      const h = convBn(this.conv1, this.bn1, x, training, { relu: true });
      const shortcut = this.shortcut ? this.shortcut(x, training) : x;
      // relu(bn2(conv2(h)) + shortcut): one fused op in training mode (src/models/batchnorm.ts), one with the
      // convolution in inference (src/models/conv_bn.ts).
      return convBn(this.conv2, this.bn2, h, training, { relu: true, residual: shortcut });
    });
  }
}

/** 1×1 reduce, 3×3 (stride, groups), 1×1 expand ×4. Inner width = ⌊planes·widthPerGroup/64⌋·groups. */
export class Bottleneck implements Block {
  static readonly expansion = 4;
  readonly outC: number;
  private readonly conv1: Conv2d;
  private readonly bn1: BatchNorm2d;
  private readonly conv2: Conv2d;
  private readonly bn2: BatchNorm2d;
  private readonly conv3: Conv2d;
  private readonly bn3: BatchNorm2d;
  private readonly shortcut: ((x: tf.Tensor4D, training: boolean) => tf.Tensor4D) | null;

  constructor(store: ParamStore, key: string, a: BlockArgs) {
    const groups = a.groups ?? 1;
    const width = Math.floor((a.planes * (a.widthPerGroup ?? 64)) / 64) * groups;
    if (width < 1)
      throw new Error(
        `${store.model}: bottleneck '${key}' has no inner channels (planes ${a.planes} × ${a.widthPerGroup}/64 per group); use a larger width`,
      );
    this.outC = a.planes * Bottleneck.expansion;
    this.conv1 = new Conv2d(store, `${key}.conv1`, { inC: a.inC, outC: width, kernel: 1 });
    this.bn1 = new BatchNorm2d(store, `${key}.bn1`, width);
    this.conv2 = new Conv2d(store, `${key}.conv2`, {
      inC: width,
      outC: width,
      kernel: 3,
      stride: a.stride,
      groups,
      groupedConv: a.groupedConv,
    });
    this.bn2 = new BatchNorm2d(store, `${key}.bn2`, width);
    this.conv3 = new Conv2d(store, `${key}.conv3`, { inC: width, outC: this.outC, kernel: 1 });
    this.bn3 = new BatchNorm2d(store, `${key}.bn3`, this.outC);
    this.shortcut = makeShortcut(store, key, a.inC, this.outC, a.stride);
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return tf.tidy(() => {
      const h1 = convBn(this.conv1, this.bn1, x, training, { relu: true });
      const h2 = convBn(this.conv2, this.bn2, h1, training, { relu: true });
      const shortcut = this.shortcut ? this.shortcut(x, training) : x;
      return convBn(this.conv3, this.bn3, h2, training, { relu: true, residual: shortcut });
    });
  }
}
