/**
 * NumPy arrays as pickled by `pickle.dump` (the original's `--save_feat` files, docs/ORIGINAL_CODE.md "Feature
 * pickles"): `numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')` makes an empty array and BUILD gives
 * it (version, shape, dtype, fortran, raw bytes); a dtype is `numpy.dtype('f4', False, True)` with BUILD state
 * (version, byte order, ...). Only plain numeric dtypes are accepted.
 */
import { type Buildable, type Constructor, LazyBytes, PickleError } from "./pickle.js";

/** Numeric dtype kinds we convert: float16/32/64, signed and unsigned ints, bool. */
const KINDS: Record<string, { bytes: number; kind: "f" | "i" | "u" | "b" }> = {
  f2: { bytes: 2, kind: "f" },
  f4: { bytes: 4, kind: "f" },
  f8: { bytes: 8, kind: "f" },
  i1: { bytes: 1, kind: "i" },
  i2: { bytes: 2, kind: "i" },
  i4: { bytes: 4, kind: "i" },
  i8: { bytes: 8, kind: "i" },
  u1: { bytes: 1, kind: "u" },
  u2: { bytes: 2, kind: "u" },
  u4: { bytes: 4, kind: "u" },
  u8: { bytes: 8, kind: "u" },
  b1: { bytes: 1, kind: "b" },
};

export class NpDtype implements Buildable {
  /** '<' little, '>' big, '|' not applicable, '=' native. */
  byteorder = "=";
  constructor(readonly code: string) {}

  get itemsize(): number {
    return KINDS[this.code].bytes;
  }

  /** e.g. "<f4". */
  get descr(): string {
    return `${this.byteorder === "=" ? "<" : this.byteorder}${this.code}`;
  }

  setState(state: unknown, where: string): void {
    if (!Array.isArray(state) || state.length < 2 || typeof state[1] !== "string")
      throw new PickleError(`${where}: unexpected numpy dtype state`);
    if (state.length >= 4 && state[3] !== null)
      throw new PickleError(`${where}: structured numpy dtypes (with field names) are not supported`);
    this.byteorder = state[1];
  }
}

export class NdArray implements Buildable {
  dtype: NpDtype | null = null;
  shape: number[] = [];
  fortran = false;
  data: Uint8Array | LazyBytes | null = null;

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  setState(state: unknown, where: string): void {
    if (!Array.isArray(state) || state.length !== 5)
      throw new PickleError(
        `${where}: unexpected numpy array state (a ${Array.isArray(state) ? state.length : typeof state}-tuple)`,
      );
    const [, shape, dtype, fortran, raw] = state as [unknown, unknown, unknown, unknown, unknown];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0))
      throw new PickleError(`${where}: bad numpy array shape ${JSON.stringify(shape)}`);
    if (!(dtype instanceof NpDtype)) throw new PickleError(`${where}: numpy array without a dtype`);
    if (!(raw instanceof Uint8Array) && !(raw instanceof LazyBytes))
      throw new PickleError(`${where}: numpy array of dtype ${dtype.code} holds Python objects, not raw numbers`);
    this.shape = shape as number[];
    this.dtype = dtype;
    this.fortran = fortran === true;
    this.data = raw;
    const need = this.size * dtype.itemsize;
    const have = raw instanceof LazyBytes ? raw.length : raw.byteLength;
    if (need !== have)
      throw new PickleError(
        `${where}: numpy array of shape ${JSON.stringify(shape)} ${dtype.descr} needs ${need} bytes, the pickle holds ${have}`,
      );
  }
}

function checkKnown(code: unknown, where: string): string {
  if (typeof code !== "string" || !(code in KINDS))
    throw new PickleError(
      `${where}: numpy dtype ${JSON.stringify(code)} is not supported (supported: ${Object.keys(KINDS).join(", ")})`,
    );
  return code;
}

/** Little-endian scalar from raw bytes (numpy.core.multiarray.scalar). */
function decodeScalar(dtype: NpDtype, raw: Uint8Array, where: string): number | boolean | bigint {
  const { kind, bytes } = KINDS[dtype.code];
  if (raw.byteLength !== bytes)
    throw new PickleError(`${where}: numpy scalar of ${dtype.descr} with ${raw.byteLength} bytes`);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = dtype.byteorder !== ">";
  if (kind === "b") return raw[0] !== 0;
  if (kind === "f")
    return bytes === 8 ? dv.getFloat64(0, le) : bytes === 4 ? dv.getFloat32(0, le) : halfToFloat(dv.getUint16(0, le));
  if (bytes === 8) {
    const v = kind === "i" ? dv.getBigInt64(0, le) : dv.getBigUint64(0, le);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  if (bytes === 4) return kind === "i" ? dv.getInt32(0, le) : dv.getUint32(0, le);
  if (bytes === 2) return kind === "i" ? dv.getInt16(0, le) : dv.getUint16(0, le);
  return kind === "i" ? dv.getInt8(0) : dv.getUint8(0);
}

/** IEEE half -> float (exact). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const reconstruct: Constructor = (args, where) => {
  const [cls] = args as [{ qualname?: string }];
  if (!cls || !/^numpy\.ndarray$/.test(cls.qualname ?? ""))
    throw new PickleError(`${where}: numpy _reconstruct of ${cls?.qualname ?? "?"} (only numpy.ndarray is supported)`);
  return new NdArray();
};

/** The NumPy globals the unpickler allows (numpy 1.x "numpy.core", numpy 2.x "numpy._core"). */
export const NUMPY_CONSTRUCTORS: Record<string, Constructor> = {};
for (const core of ["numpy.core", "numpy._core"]) {
  NUMPY_CONSTRUCTORS[`${core}.multiarray._reconstruct`] = reconstruct;
  NUMPY_CONSTRUCTORS[`${core}.multiarray.scalar`] = (args, where) => {
    const [dtype, raw] = args;
    if (!(dtype instanceof NpDtype) || !(raw instanceof Uint8Array))
      throw new PickleError(`${where}: unexpected numpy scalar arguments`);
    return decodeScalar(dtype, raw, where);
  };
}
NUMPY_CONSTRUCTORS["numpy.dtype"] = (args, where) => new NpDtype(checkKnown(args[0], where));
export const NUMPY_MARKERS = new Set(["numpy.ndarray"]);

/** Python 3 bytes pickled at protocol 2: `_codecs.encode(latin1 text, 'latin1')`. */
export const CODECS_CONSTRUCTORS: Record<string, Constructor> = {
  "_codecs.encode": (args, where) => {
    const [text, enc] = args;
    if (typeof text !== "string" || (enc !== "latin1" && enc !== "latin-1"))
      throw new PickleError(`${where}: _codecs.encode is allowed only for latin1 bytes`);
    return Uint8Array.from(text, (c) => c.charCodeAt(0));
  },
};

/**
 * The values of a numeric array as float32 (floats) or int32 (ints, range-checked), read straight from the
 * source for large arrays; C order, any byte order. `what` names the array in errors.
 */
export function ndarrayValues(a: NdArray, what: string, want: "float32" | "int32"): Float32Array | Int32Array {
  if (!a.dtype || !a.data) throw new Error(`${what}: empty numpy array object`);
  if (a.fortran && a.shape.filter((d) => d > 1).length > 1)
    throw new Error(`${what}: Fortran-ordered arrays are not supported; save np.ascontiguousarray(a)`);
  const { kind, bytes } = KINDS[a.dtype.code];
  const n = a.size;
  const le = a.dtype.byteorder !== ">";
  if (want === "float32" && kind !== "f") throw new Error(`${what}: expected a float array, got ${a.dtype.descr}`);
  if (want === "int32" && kind !== "i" && kind !== "u")
    throw new Error(`${what}: expected an integer array, got ${a.dtype.descr}`);
  if (want === "float32" && bytes === 4 && le) {
    const out = new Float32Array(n);
    const dest = new Uint8Array(out.buffer);
    if (a.data instanceof LazyBytes) a.data.src.readInto(a.data.offset, dest);
    else dest.set(a.data);
    return out;
  }
  const out = want === "float32" ? new Float32Array(n) : new Int32Array(n);
  const chunk = 1 << 22;
  for (let done = 0; done < n; done += chunk) {
    const m = Math.min(chunk, n - done);
    const raw =
      a.data instanceof LazyBytes
        ? new LazyBytes(a.data.src, a.data.offset + done * bytes, m * bytes).read()
        : a.data.subarray(done * bytes, (done + m) * bytes);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < m; i++) {
      const o = i * bytes;
      let v: number;
      if (kind === "f")
        v = bytes === 8 ? dv.getFloat64(o, le) : bytes === 4 ? dv.getFloat32(o, le) : halfToFloat(dv.getUint16(o, le));
      else if (bytes === 8) {
        const b = kind === "i" ? dv.getBigInt64(o, le) : dv.getBigUint64(o, le);
        if (b < -2147483648n || b > 2147483647n)
          throw new Error(`${what}: value ${b} at element ${done + i} does not fit in int32`);
        v = Number(b);
      } else if (bytes === 4) v = kind === "i" ? dv.getInt32(o, le) : dv.getUint32(o, le);
      else if (bytes === 2) v = kind === "i" ? dv.getInt16(o, le) : dv.getUint16(o, le);
      else v = kind === "i" ? dv.getInt8(o) : dv.getUint8(o);
      if (want === "int32" && v > 2147483647)
        throw new Error(`${what}: value ${v} at element ${done + i} does not fit in int32`);
      out[done + i] = v;
    }
  }
  return out;
}
