/**
 * The classifier heads `networks.classifier.type` may name, as data (no tensors): heads.ts registers one factory per
 * name (its `Record<HeadName, …>` makes the compiler hold the two together), and the config check (`ltr config show`)
 * reads the names from here without loading tfjs.
 */
export const HEAD_NAMES = ["linear", "lws"] as const;

export type HeadName = (typeof HEAD_NAMES)[number];
