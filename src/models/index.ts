/** Models: importing this module populates the backbone registry. */

export { type BackboneFactory, backbones } from "./backbones.js";
export { BatchNorm2d, BN_EPS, BN_MOMENTUM } from "./batchnorm.js";
export { BasicBlock, type Block, type BlockArgs, Bottleneck } from "./blocks.js";
export { Conv2d, type ConvArgs, groupedConv2d, resolveGroupedConv, torchPad } from "./conv.js";
export { type LinearArgs, LinearClassifier } from "./linear.js";
export { fillNormal, fillUniform, ParamStore, paramRng } from "./params.js";
export { RESNET_SPECS, ResNet, type ResNetSpec } from "./resnet.js";
export * from "./types.js";
export { countParams, type HasWeights, modelWeights } from "./weights.js";
