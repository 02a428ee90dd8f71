/** sha256 helpers for data manifests. */
import { createHash } from "node:crypto";

/** Hex sha256 of a byte buffer. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Hex md5 (only for checking downloads against the published checksums). */
export function md5Hex(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}
