/** The project's hash helpers: hex SHA-256 of bytes, strings and files (and MD5, only for published download sums). */
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";

/** Hex SHA-256 of a byte buffer or a string (UTF-8). */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Hex SHA-256 of a file, read in pieces of 16 MB (checkpoints are 20-250 MB; memory stays bounded). */
export function sha256File(path: string): string {
  const h = createHash("sha256");
  const fd = openSync(path, "r");
  try {
    const buf = new Uint8Array(1 << 24);
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

/** Hex MD5 (only for checking downloads against the checksums their publishers give). */
export function md5Hex(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}
