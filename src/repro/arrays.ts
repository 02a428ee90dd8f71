/**
 * The small `.npy` arrays of the committed results bundle (bundle.ts): float16 feature copies, float32 classifier
 * weights, uint8 labels. `.npy` keeps them readable by numpy (`np.load`) and by any other tool; float16 halves the
 * size of the features, which is what keeps the bundle at a few MB.
 *
 * The project's general reader (src/features/npy.ts) covers the dtypes of exported features (<f4, <f8, <i4, <i8);
 * this module covers the three the bundle writes, and nothing else, with the same header format (NPY 1.0).
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../run/atomic.js";

/** The dtypes the bundle stores. */
export type BundleDtype = "<f2" | "<f4" | "|u1";

/** An array read back from a bundle file (float16 is widened to float32). */
export interface BundleArray {
  dtype: BundleDtype;
  shape: number[];
  data: Float32Array | Uint8Array;
}

const ELEM: Record<BundleDtype, number> = { "<f2": 2, "<f4": 4, "|u1": 1 };

// ---- float16 <-> float32 (IEEE 754 binary16, round to nearest even) ----------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bits nearest to `x` (ties to even; overflow to ±Infinity; NaN stays NaN). */
export function float16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // too large: Infinity
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa, with its implicit 1, into place and round.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let h = m >>> shift;
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // may carry into the exponent: still correct
  return sign | h;
}

/** The value of binary16 bits `h`. */
export function float16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** float32 values -> float16 bits. */
export function toFloat16(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = float16Bits(x[i]);
  return out;
}

/** float16 bits -> float32 values (exact: every binary16 value is a float32). */
export function fromFloat16(h: Uint16Array): Float32Array {
  // 65,536 possible bit patterns: a lookup table beats per-element arithmetic for the 1.2 M train values.
  const table = float16Table();
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = table[h[i]];
  return out;
}

let table16: Float32Array | null = null;
function float16Table(): Float32Array {
  if (!table16) {
    table16 = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) table16[i] = float16Value(i);
  }
  return table16;
}

// ---- .npy files -------------------------------------------------------------------------------------------------

/** The bytes of an NPY 1.0 file (C order, little-endian). */
export function encodeNpy(dtype: BundleDtype, shape: number[], body: Uint8Array): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (body.byteLength !== count * ELEM[dtype])
    throw new Error(
      `encodeNpy: shape [${shape}] of ${dtype} needs ${count * ELEM[dtype]} bytes, got ${body.byteLength}`,
    );
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Header padded with spaces and a newline so the data starts on a 64-byte boundary (10 = magic + version + length).
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  dict = `${dict.padEnd(total - 10 - 1, " ")}\n`;
  const head = new Uint8Array(10 + dict.length);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY v1.0
  head[8] = dict.length & 0xff;
  head[9] = dict.length >> 8;
  for (let i = 0; i < dict.length; i++) head[10 + i] = dict.charCodeAt(i);
  const out = new Uint8Array(head.length + body.byteLength);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

/** Bytes of a float32 array as float16 / float32 / uint8 .npy. */
export function npyBytes(dtype: BundleDtype, shape: number[], values: ArrayLike<number>): Uint8Array {
  let body: Uint8Array;
  if (dtype === "<f2") {
    const h = toFloat16(values instanceof Float32Array ? values : Float32Array.from(values));
    body = new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
  } else if (dtype === "<f4") {
    const f = values instanceof Float32Array ? values : Float32Array.from(values);
    body = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  } else {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isInteger(v) || v < 0 || v > 255) throw new Error(`npyBytes: value ${v} at ${i} does not fit uint8`);
    }
    body = Uint8Array.from(values);
  }
  return encodeNpy(dtype, shape, body);
}

/** Write an array atomically; returns the bytes written (for the bundle's sha256 list). */
export function writeBundleNpy(
  path: string,
  dtype: BundleDtype,
  shape: number[],
  values: ArrayLike<number>,
): Uint8Array {
  const bytes = npyBytes(dtype, shape, values);
  writeFileAtomic(path, bytes);
  return bytes;
}

/** Parse NPY bytes written by {@link encodeNpy} (any of the three dtypes); `where` names the file in errors. */
export function decodeNpy(buf: Uint8Array, where: string): BundleArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (buf.length < 10 || magic.some((b, i) => buf[i] !== b)) throw new Error(`${where}: not a .npy file (bad magic)`);
  if (buf[6] !== 1) throw new Error(`${where}: .npy version ${buf[6]}.${buf[7]}; the bundle writes version 1.0`);
  const hlen = buf[8] | (buf[9] << 8);
  const text = Buffer.from(buf.subarray(10, 10 + hlen)).toString("latin1");
  const descr = /'descr':\s*'([^']*)'/.exec(text)?.[1] as BundleDtype | undefined;
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1];
  if (!descr || !(descr in ELEM))
    throw new Error(`${where}: dtype '${descr}' is not one the bundle uses (${Object.keys(ELEM).join(", ")})`);
  if (!/'fortran_order':\s*False/.test(text))
    throw new Error(`${where}: Fortran-order arrays are not used by the bundle`);
  const shape = (shapeText ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = 10 + hlen;
  const need = count * ELEM[descr];
  if (buf.length - start !== need)
    throw new Error(
      `${where}: shape [${shape}] of ${descr} needs ${need} data bytes, the file has ${buf.length - start}`,
    );
  const body = buf.slice(start); // a copy: aligned for the typed-array views below
  let data: Float32Array | Uint8Array;
  if (descr === "<f2") data = fromFloat16(new Uint16Array(body.buffer, body.byteOffset, count));
  else if (descr === "<f4") data = new Float32Array(body.buffer, body.byteOffset, count);
  else data = body;
  return { dtype: descr, shape, data };
}

/** Read a bundle .npy file. */
export function readBundleNpy(path: string): BundleArray {
  return decodeNpy(readFileSync(path), path);
}
