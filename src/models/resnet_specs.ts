/**
 * The backbone architectures as data (no tensors): what `networks.feat_model.type` may name. `backbones`
 * (backbones.ts) builds one ResNet per entry; the config check (`ltr config show`) reads the names from here
 * without loading tfjs.
 */
export interface ResNetSpec {
  /** Registry name, reported as `Backbone.name`. */
  name: string;
  /** "cifar": 3×3 stem (16 ch), 3 stages 16/32/64. "imagenet": 7×7/2 stem (64 ch) + 3×3/2 max-pool, 4 stages 64/128/256/512. */
  layout: "cifar" | "imagenet";
  /** Residual block type. */
  block: "basic" | "bottleneck";
  /** Blocks per stage. */
  layers: number[];
  /** Bottleneck groups (ResNeXt: 32). */
  groups?: number;
  /** Bottleneck width per group at planes 64 (ResNeXt 32×4d: 4). */
  widthPerGroup?: number;
}

/** Architectures by registry name. CIFAR ResNet-(6n+2): n blocks per stage. */
export const RESNET_SPECS: Record<string, ResNetSpec> = {
  resnet8: { name: "resnet8", layout: "cifar", block: "basic", layers: [1, 1, 1] },
  resnet20: { name: "resnet20", layout: "cifar", block: "basic", layers: [3, 3, 3] },
  resnet32: { name: "resnet32", layout: "cifar", block: "basic", layers: [5, 5, 5] },
  resnet10: { name: "resnet10", layout: "imagenet", block: "basic", layers: [1, 1, 1, 1] },
  resnet50: { name: "resnet50", layout: "imagenet", block: "bottleneck", layers: [3, 4, 6, 3] },
  resnet101: { name: "resnet101", layout: "imagenet", block: "bottleneck", layers: [3, 4, 23, 3] },
  resnet152: { name: "resnet152", layout: "imagenet", block: "bottleneck", layers: [3, 8, 36, 3] },
  resnext50: {
    name: "resnext50",
    layout: "imagenet",
    block: "bottleneck",
    layers: [3, 4, 6, 3],
    groups: 32,
    widthPerGroup: 4,
  },
  resnext101: {
    name: "resnext101",
    layout: "imagenet",
    block: "bottleneck",
    layers: [3, 4, 23, 3],
    groups: 32,
    widthPerGroup: 4,
  },
  resnext152: {
    name: "resnext152",
    layout: "imagenet",
    block: "bottleneck",
    layers: [3, 8, 36, 3],
    groups: 32,
    widthPerGroup: 4,
  },
};

/** The registered backbone names, sorted (the same as `backbones.names()`). */
export function backboneNames(): string[] {
  return Object.values(RESNET_SPECS)
    .map((s) => s.name)
    .sort();
}
