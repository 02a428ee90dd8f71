/** The backbone registry: every backbone name a config may use, registered in one place. */
import { Registry } from "../registry.js";
import { RESNET_SPECS, ResNet } from "./resnet.js";
import type { Backbone, BackboneArgs } from "./types.js";

export type BackboneFactory = (args: BackboneArgs) => Backbone;

export const backbones = new Registry<BackboneFactory>("backbone");

for (const spec of Object.values(RESNET_SPECS)) backbones.register(spec.name, (args) => new ResNet(spec, args));
