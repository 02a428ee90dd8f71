/**
 * Reader for the IDX format of (Fashion-)MNIST, optionally gzip-compressed. Only unsigned-byte
 * payloads are needed (images and labels). Every failure names the file and how to fix it.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

export interface IdxArray {
  /** Dimension sizes from the header, e.g. [60000, 28, 28]. */
  dims: number[];
  /** Payload bytes, row-major. */
  data: Uint8Array;
}

/** Arguments of {@link parseIdx}. */
export interface ParseIdxArgs {
  /** Raw file bytes (gzip or plain; gzip is detected from its magic 1f 8b). */
  bytes: Uint8Array;
  /** Path, for messages. */
  file: string;
  /** Expected number of dimensions: 1 for labels (magic 0x00000801), 3 for images (0x00000803). */
  ndim: number;
  /** What to do about a bad file, appended to every error ("re-download it from …"). */
  fix: string;
}

export function parseIdx(args: ParseIdxArgs): IdxArray {
  const { file, ndim, fix } = args;
  let buf = args.bytes;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new Error(`${file}: gzip data is corrupt or truncated (${(e as Error).message}); ${fix}`);
    }
  }
  const want = 0x0800 | ndim;
  if (buf.length < 4 + 4 * ndim)
    throw new Error(`${file}: only ${buf.length} bytes, too short for an IDX header; ${fix}`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  if (magic !== want) {
    throw new Error(
      `${file}: wrong IDX magic number 0x${magic.toString(16).padStart(8, "0")}, expected 0x${want.toString(16).padStart(8, "0")} ` +
        `(unsigned-byte data with ${ndim} dimension${ndim > 1 ? "s" : ""}); is this the right file? ${fix}`,
    );
  }
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const header = 4 + 4 * ndim;
  const size = dims.reduce((a, b) => a * b, 1);
  if (buf.length < header + size) {
    throw new Error(
      `${file}: truncated: header announces ${dims.join("x")} = ${size} bytes but only ${buf.length - header} follow; ${fix}`,
    );
  }
  return { dims, data: buf.subarray(header, header + size) };
}

/** Read and parse an IDX file from disk. */
export function readIdx(file: string, ndim: number, fix: string): { idx: IdxArray; bytes: Uint8Array } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as Error).message}); ${fix}`);
  }
  return { idx: parseIdx({ bytes, file, ndim, fix }), bytes };
}
