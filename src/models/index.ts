/** Models: importing this module populates the backbone registry. */
export * from "./types.js";
export { backbones, type BackboneFactory } from "./backbones.js";
export { ResNet, RESNET_SPECS, type ResNetSpec } from "./resnet.js";
export { BasicBlock, Bottleneck, type Block, type BlockArgs } from "./blocks.js";
export { Conv2d, groupedConv2d, resolveGroupedConv, torchPad, type ConvArgs } from "./conv.js";
export { BatchNorm2d, BN_EPS, BN_MOMENTUM } from "./batchnorm.js";
export { LinearClassifier, type LinearArgs } from "./linear.js";
export { modelWeights, countParams, type HasWeights } from "./weights.js";
export { ParamStore, paramRng, fillNormal, fillUniform } from "./params.js";
