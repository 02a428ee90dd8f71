/** Stage-2 classifiers on cached features (Joint, NCM, τ-norm, cRT, LWS) and their shared pieces. */

export * from "./crt.js";
export * from "./gemm.js";
export * from "./linear.js";
export * from "./lws.js";
export * from "./method.js";
export * from "./ncm.js";
export * from "./registry.js";
export * from "./tau-norm.js";
export * from "./train-utils.js";
export * from "./weight-norms.js";
