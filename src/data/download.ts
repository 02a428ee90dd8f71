/**
 * Fetch a few files into a folder with a checksum check. Used only as a last resort when a dataset
 * is neither given, in $LTR_DATA_ROOT, nor installed system-wide; offline machines get a clear error.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { md5Hex } from "../hash.js";

/** Arguments of {@link downloadFiles}. */
export interface DownloadFilesArgs {
  /** Destination folder (created). */
  dir: string;
  /** URL prefix; each file is fetched from base + name. */
  baseUrl: string;
  /** File name -> expected md5 (hex). */
  md5: Record<string, string>;
  /** Per-file timeout in milliseconds (default 120 s). */
  timeoutMs?: number;
}

/** Download every file, verify its md5, and move it into place atomically. Throws on any failure. */
export async function downloadFiles(args: DownloadFilesArgs): Promise<void> {
  mkdirSync(args.dir, { recursive: true });
  for (const [name, md5] of Object.entries(args.md5)) {
    const url = args.baseUrl + name;
    const res = await fetch(url, { signal: AbortSignal.timeout(args.timeoutMs ?? 120_000) });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const got = md5Hex(bytes);
    if (got !== md5) throw new Error(`GET ${url}: md5 ${got} does not match the published ${md5}`);
    const tmp = join(args.dir, `.${name}.part`);
    writeFileSync(tmp, bytes);
    renameSync(tmp, join(args.dir, name));
  }
}
