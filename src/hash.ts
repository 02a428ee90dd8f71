/** The project's hash helpers: hex SHA-256 of bytes, strings and files (and MD5, only for published download sums). */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

/** Hex SHA-256 of a byte buffer or a string (UTF-8). */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Hex SHA-256 of a file's bytes. */
export function sha256File(path: string): string {
  return sha256Hex(readFileSync(path));
}

/** Hex MD5 (only for checking downloads against the checksums their publishers give). */
export function md5Hex(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}
