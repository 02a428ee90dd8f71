/**
 * NumPy `.npy` read/write, so features exported from the original PyTorch code (`feats.npy`, `labels.npy`,
 * `idxs.npy`, e.g. `np.save('feats.npy', d['feats'])` on a `*feat_all.pkl`) can be imported.
 *
 * Supported: format versions 1.0, 2.0 and 3.0 (3.0 only differs by a UTF-8 header), C order, little-endian
 * `<f4` (kept), `<f8` (converted to float32), `<i4` and `<i8` (converted to int32, range-checked). Any other dtype
 * is rejected with the list of supported ones; Fortran-ordered and big-endian arrays are rejected with a hint on
 * how to re-save them. Typed arrays are assumed little-endian in memory (true on every platform Node ships for).
 */

import { fileSize, readBytes, readInto, withReadFd, writeAll, writeAtomically } from "./io.js";
import { assertFiniteRows, type FeatureSet } from "./types.js";

/** What {@link readNpy} returns: floats as Float32Array, integers as Int32Array. */
export interface NpyArray {
  /** The descr string found in the file, e.g. "<f4". */
  descr: string;
  /** Array shape, e.g. [N, d]. */
  shape: number[];
  /** The values in C order; `<f4`/`<f8` become Float32Array, `<i4`/`<i8` become Int32Array. */
  data: Float32Array | Int32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ELEM_BYTES: Record<string, number> = { "<f4": 4, "<f8": 8, "<i4": 4, "<i8": 8 };
/** Elements converted per chunk for 8-byte inputs, so a 2 GB `<f8` file never needs a second full-size buffer. */
const CONVERT_CHUNK = 1 << 22;

interface ParsedHeader {
  descr: string;
  fortran: boolean;
  shape: number[];
  dataOffset: number;
}

function parseHeader(fd: number, path: string): ParsedHeader {
  const size = fileSize(fd);
  if (size < 10) throw new Error(`${path}: truncated .npy file (${size} bytes)`);
  const pre = readBytes(fd, 0, 12 <= size ? 12 : 10, path);
  for (let i = 0; i < 6; i++) {
    if (pre[i] !== MAGIC[i]) throw new Error(`${path}: bad magic; not a NumPy .npy file (expected \\x93NUMPY)`);
  }
  const major = pre[6];
  let hlen: number;
  let start: number;
  if (major === 1) {
    hlen = pre[8] | (pre[9] << 8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (size < 12) throw new Error(`${path}: truncated .npy file (${size} bytes)`);
    hlen = new DataView(pre.buffer).getUint32(8, true);
    start = 12;
  } else {
    throw new Error(`${path}: unsupported .npy format version ${major}.${pre[7]} (supported: 1.0, 2.0, 3.0)`);
  }
  if (start + hlen > size)
    throw new Error(`${path}: truncated .npy file: header needs ${start + hlen} bytes, file has ${size}`);
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(readBytes(fd, start, hlen, path));
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(`${path}: cannot parse .npy header ${JSON.stringify(text.trim())}`);
  }
  const shape = shapeText
    .split(",")
    .map((s) => s.trim().replace(/L$/, ""))
    .filter((s) => s.length > 0)
    .map((s) => {
      const v = Number(s);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${path}: bad shape entry '${s}' in .npy header`);
      return v;
    });
  return { descr, fortran: fortran === "True", shape, dataOffset: start + hlen };
}

/** Read a `.npy` file (see the module comment for the accepted dtypes). */
export function readNpy(path: string): NpyArray {
  return withReadFd(path, (fd) => {
    const h = parseHeader(fd, path);
    if (h.fortran) {
      throw new Error(
        `${path}: Fortran-ordered arrays are not supported; re-save with np.save(path, np.ascontiguousarray(a))`,
      );
    }
    if (h.descr.startsWith(">")) {
      throw new Error(
        `${path}: big-endian dtype '${h.descr}' is not supported; re-save with a.astype(a.dtype.newbyteorder('<'))`,
      );
    }
    const esize = ELEM_BYTES[h.descr];
    if (esize === undefined) {
      throw new Error(
        `${path}: unsupported dtype '${h.descr}'; supported: ${Object.keys(ELEM_BYTES).join(", ")} (C order, little-endian)`,
      );
    }
    const count = h.shape.reduce((a, x) => a * x, 1);
    const need = h.dataOffset + count * esize;
    const size = fileSize(fd);
    if (size < need) {
      throw new Error(
        `${path}: truncated .npy file: shape ${JSON.stringify(h.shape)} of ${h.descr} needs ${need} bytes, file has ${size}`,
      );
    }
    const isFloat = h.descr[1] === "f";
    const data = isFloat ? new Float32Array(count) : new Int32Array(count);
    if (esize === 4) {
      readInto(fd, data, h.dataOffset, path);
    } else {
      const buf = isFloat
        ? new Float64Array(Math.min(CONVERT_CHUNK, count))
        : new BigInt64Array(Math.min(CONVERT_CHUNK, count));
      for (let done = 0; done < count; done += buf.length) {
        const m = Math.min(buf.length, count - done);
        const view = isFloat ? (buf as Float64Array).subarray(0, m) : (buf as BigInt64Array).subarray(0, m);
        readInto(fd, view, h.dataOffset + done * 8, path);
        if (isFloat) {
          const f = view as Float64Array;
          for (let i = 0; i < m; i++) data[done + i] = f[i];
        } else {
          const b = view as BigInt64Array;
          for (let i = 0; i < m; i++) {
            const v = b[i];
            if (v < -2147483648n || v > 2147483647n) {
              throw new Error(`${path}: int64 value ${v} at element ${done + i} does not fit in int32`);
            }
            data[done + i] = Number(v);
          }
        }
      }
    }
    return { descr: h.descr, shape: h.shape, data };
  });
}

/** Write a C-order little-endian `.npy` (version 1.0, or 2.0 if the header is too long), atomically. */
export function writeNpy(path: string, arr: Float32Array | Float64Array | Int32Array, shape: number[]): void {
  const count = shape.reduce((a, x) => a * x, 1);
  if (count !== arr.length)
    throw new Error(
      `writeNpy(${path}): shape ${JSON.stringify(shape)} has ${count} elements but the array has ${arr.length}`,
    );
  const descr = arr instanceof Float32Array ? "<f4" : arr instanceof Float64Array ? "<f8" : "<i4";
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let pre = 10;
  let total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  if (total - pre > 0xffff) {
    pre = 12;
    total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  }
  const hlen = total - pre;
  const head = new Uint8Array(total);
  head.set(MAGIC);
  head[6] = pre === 10 ? 1 : 2;
  head[7] = 0;
  const dv = new DataView(head.buffer);
  if (pre === 10) dv.setUint16(8, hlen, true);
  else dv.setUint32(8, hlen, true);
  const text = `${dict + " ".repeat(hlen - dict.length - 1)}\n`.split("").map((c) => c.charCodeAt(0));
  head.set(text, pre);
  writeAtomically(path, (fd) => {
    writeAll(fd, head);
    writeAll(fd, arr);
  });
}

/** Paths of a NumPy feature export. */
export interface NpyFeaturePaths {
  /** float32/float64 array [N, d]. */
  feats: string;
  /** int32/int64 array [N]. */
  labels: string;
  /** Optional int32/int64 array [N] of dataset indices; 0..N−1 when absent. */
  idxs?: string;
}

/**
 * Import features saved as `.npy` (e.g. from the original code's `*feat_all.pkl`) into a FeatureSet. Every feature
 * must be finite (the error names the file and the first bad row).
 */
export function importNpyFeatures(paths: NpyFeaturePaths): FeatureSet {
  const f = readNpy(paths.feats);
  if (f.shape.length !== 2 || !(f.data instanceof Float32Array)) {
    throw new Error(
      `${paths.feats}: features must be a 2-D float array [N, d], got ${f.descr} with shape ${JSON.stringify(f.shape)}`,
    );
  }
  const [n, dim] = f.shape;
  assertFiniteRows(f.data, dim, paths.feats);
  const ints = (p: string, what: string): Int32Array => {
    const a = readNpy(p);
    if (!(a.data instanceof Int32Array))
      throw new Error(`${p}: ${what} must be an integer array (<i4 or <i8), got ${a.descr}`);
    if (a.shape.length !== 1 && !(a.shape.length === 2 && a.shape[1] === 1)) {
      throw new Error(`${p}: ${what} must be 1-D, got shape ${JSON.stringify(a.shape)}`);
    }
    if (a.shape[0] !== n) {
      throw new Error(`${p}: row-count mismatch: ${what} has ${a.shape[0]} rows but ${paths.feats} has ${n}`);
    }
    return a.data;
  };
  const labels = ints(paths.labels, "labels");
  let indices: Int32Array;
  if (paths.idxs !== undefined) indices = ints(paths.idxs, "idxs");
  else {
    indices = new Int32Array(n);
    for (let i = 0; i < n; i++) indices[i] = i;
  }
  return { feats: f.data, dim, labels, indices, n };
}
