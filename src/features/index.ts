/** Feature files: the project's binary format and NumPy import/export. */

export * from "./format.js";
export * from "./npy.js";
export * from "./types.js";
