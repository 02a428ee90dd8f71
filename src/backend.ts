/**
 * One place that chooses and initialises the tensor backend.
 *
 *  - `wasm`       default on CPU: @tensorflow/tfjs-backend-wasm (SIMD build) plus our own kernels.
 *  - `cpu`        pure-JS fallback (slow for convnets; useful for reference checks).
 *  - `tensorflow` libtensorflow through @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node, when the
 *                 user has installed one. They are never dependencies of this project (their install
 *                 step downloads a binary), so they are loaded dynamically and only when asked for or
 *                 found.
 *
 * Chosen by `--backend` / `LTR_BACKEND`; `auto` (the default) takes the fastest one available.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { installKernels, type KernelReport } from "./kernels/index.js";

export const BACKEND_NAMES = ["auto", "wasm", "cpu", "tensorflow"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  /** tfjs backend name actually in use ("wasm", "cpu" or "tensorflow"). */
  name: string;
  /** Which npm package provides it, and its version. */
  package: string;
  version: string;
  /** tfjs-core version. */
  tfjsVersion: string;
  /** Our kernels registered on top of the stock backend (recorded in every run manifest). */
  kernels: KernelReport;
}

// Packages resolve from this module first (the dependencies installed with decoupling-lt), then from the working
// directory (a @tensorflow/tfjs-node a user installed in their own project).
const here = createRequire(import.meta.url);
const req = createRequire(join(process.cwd(), "noop.js"));

function tryResolve(pkg: string): string | null {
  for (const r of [here, req]) {
    try {
      return r.resolve(pkg);
    } catch {
      /* not installed */
    }
  }
  return null;
}

function packageVersion(pkg: string): string {
  try {
    const r = createRequire(tryResolve(pkg) ?? join(process.cwd(), "noop.js"));
    return (r(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** The native TensorFlow packages, in order of preference. */
const TF_NATIVE = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const;

/** Which native TensorFlow package is installed, if any. */
export function findTensorflowPackage(): string | null {
  for (const p of TF_NATIVE) if (tryResolve(p)) return p;
  return null;
}

let current: BackendInfo | null = null;

/** The backend chosen by the last `initBackend` call, or null before the first one. */
export function backendInfo(): BackendInfo | null {
  return current;
}

/** Read the requested backend from an explicit value, else `LTR_BACKEND`, else `auto`. */
export function requestedBackend(explicit?: string): BackendName {
  const raw = explicit ?? process.env.LTR_BACKEND ?? "auto";
  if (!(BACKEND_NAMES as readonly string[]).includes(raw)) {
    throw new Error(
      `unknown backend '${raw}' (from ${explicit ? "--backend" : "LTR_BACKEND"}); valid backends: ${BACKEND_NAMES.join(", ")}`,
    );
  }
  return raw as BackendName;
}

/**
 * Initialise a backend and register our kernels on it. Idempotent for the same name.
 * An unavailable explicit choice fails with a message saying how to install it.
 */
export async function initBackend(choice?: string): Promise<BackendInfo> {
  const want = requestedBackend(choice);
  let name: "wasm" | "cpu" | "tensorflow";
  if (want === "auto") name = findTensorflowPackage() ? "tensorflow" : "wasm";
  else name = want;

  if (current && current.name === name && tf.getBackend() === name) return current;

  let pkg: string;
  if (name === "tensorflow") {
    const found = findTensorflowPackage();
    if (!found) {
      throw new Error(
        "backend 'tensorflow' is not available: neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed. " +
          "On a machine with CUDA run `npm install --no-save @tensorflow/tfjs-node-gpu@4.22.0` (or @tensorflow/tfjs-node@4.22.0 for CPU), " +
          "or choose --backend wasm.",
      );
    }
    here(tryResolve(found) ?? found); // registers the 'tensorflow' backend with the shared tfjs-core
    pkg = found;
  } else if (name === "wasm") {
    await import("@tensorflow/tfjs-backend-wasm");
    pkg = "@tensorflow/tfjs-backend-wasm";
  } else {
    pkg = "@tensorflow/tfjs-backend-cpu";
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend '${name}' failed to initialise (tf.setBackend returned false)`);
  await tf.ready();
  const kernels = installKernels(name);
  current = { name, package: pkg, version: packageVersion(pkg), tfjsVersion: tf.version_core, kernels };
  return current;
}
