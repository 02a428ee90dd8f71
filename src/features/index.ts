/** Feature files: the project's binary format and NumPy import/export. */
export * from "./types.js";
export * from "./format.js";
export * from "./npy.js";
