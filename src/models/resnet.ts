/**
 * ResNet / ResNeXt feature extractors (no classifier head), CIFAR and ImageNet layouts. The ImageNet layout is the
 * original code's ResNet*Feature / ResNext*Feature models: same state-dict names, shapes and strides (stride 2 on
 * the first block of stages 2-4, on the 3×3 conv of a bottleneck), so its weights give the same features
 * (docs/ORIGINAL_CODE.md, "Feature models"; checked against PyTorch in test/original/parity.test.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { BatchNorm2d } from "./batchnorm.js";
import { BasicBlock, type Block, type BlockArgs, Bottleneck } from "./blocks.js";
import { Conv2d } from "./conv.js";
import { convBn } from "./conv_bn.js";
import { ParamStore } from "./params.js";
import type { ResNetSpec } from "./resnet_specs.js";
import type { Backbone, BackboneArgs, NamedVariables } from "./types.js";

export { RESNET_SPECS, type ResNetSpec } from "./resnet_specs.js";

type BlockCtor = new (store: ParamStore, key: string, a: BlockArgs) => Block;

function validateArgs(spec: ResNetSpec, args: BackboneArgs): void {
  const s = args.inputShape;
  if (!Array.isArray(s) || s.length !== 3 || !s.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(
      `backbone '${spec.name}': inputShape must be [H, W, C] positive integers, got ${JSON.stringify(s)}`,
    );
  }
  if (!Number.isFinite(args.seed))
    throw new Error(`backbone '${spec.name}': seed must be a finite number, got ${args.seed}`);
}

/** A ResNet built from a spec; see `backbones` for the registered instances. */
export class ResNet implements Backbone {
  readonly name: string;
  readonly featDim: number;
  private readonly store: ParamStore;
  private readonly stem: Conv2d;
  private readonly stemBn: BatchNorm2d;
  private readonly blocks: Block[] = [];
  private readonly maxPool: boolean;
  private readonly inputShape: [number, number, number];

  constructor(spec: ResNetSpec, args: BackboneArgs) {
    validateArgs(spec, args);
    this.name = spec.name;
    this.inputShape = args.inputShape;
    this.store = new ParamStore(spec.name, args.seed);
    const cifar = spec.layout === "cifar";
    // Stage widths w·(1, 2, 4[, 8]); w = 16 (CIFAR) or 64 (ImageNet, the original's models) unless args.width says
    // otherwise (narrow ImageNet-layout models are what the PyTorch-parity fixtures use).
    const w = args.width ?? (cifar ? 16 : 64);
    if (!Number.isInteger(w) || w < 1)
      throw new Error(`backbone '${spec.name}': width must be a positive integer, got ${args.width}`);
    const widths = (cifar ? [1, 2, 4] : [1, 2, 4, 8]).map((m) => m * w);
    if (spec.layers.length !== widths.length) {
      throw new Error(
        `backbone '${spec.name}': a ${spec.layout} ResNet has ${widths.length} stages, got layers=${JSON.stringify(spec.layers)}`,
      );
    }
    const stemC = widths[0];
    this.stem = new Conv2d(this.store, "conv1", {
      inC: args.inputShape[2],
      outC: stemC,
      kernel: cifar ? 3 : 7,
      stride: cifar ? 1 : 2,
    });
    this.stemBn = new BatchNorm2d(this.store, "bn1", stemC);
    this.maxPool = !cifar;
    const Ctor: BlockCtor = spec.block === "basic" ? BasicBlock : Bottleneck;
    let inC = stemC;
    widths.forEach((planes, s) => {
      for (let b = 0; b < spec.layers[s]; b++) {
        const stride = b === 0 && s > 0 ? 2 : 1;
        const block = new Ctor(this.store, `layer${s + 1}.${b}`, {
          inC,
          planes,
          stride,
          groups: spec.groups,
          widthPerGroup: spec.widthPerGroup,
          groupedConv: args.groupedConv,
        });
        this.blocks.push(block);
        inC = block.outC;
      }
    });
    this.featDim = inC;
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    const [, _h, _w, c] = x.shape;
    const [eh, ew, ec] = this.inputShape;
    if (c !== ec)
      throw new Error(
        `backbone '${this.name}': input has ${c} channels, built for ${ec} (inputShape ${eh}x${ew}x${ec})`,
      );
    return tf.tidy(() => {
      let y = convBn(this.stem, this.stemBn, x, training, { relu: true });
      // PyTorch MaxPool2d(3, 2, padding=1): explicit pad 1 (TF 'same' would pad (0,1) and shift windows).
      if (this.maxPool) y = tf.maxPool(y, 3, 2, 1);
      for (const b of this.blocks) y = b.apply(y, training);
      // Global average pool (the reference's AvgPool2d(7) at 224 px), then flatten.
      return tf.mean(y, [1, 2]) as tf.Tensor2D;
    });
  }

  trainable(): NamedVariables {
    return this.store.trainable();
  }

  buffers(): NamedVariables {
    return this.store.buffers();
  }

  dispose(): void {
    this.store.dispose();
  }
}
