/**
 * `torch.load` for what a checkpoint holds, without PyTorch: the zip format (torch >= 1.6: `<archive>/data.pkl`
 * plus one stored entry per storage, `<archive>/data/<key>`) and the legacy format (torch < 1.6, or
 * `_use_new_zipfile_serialization=False`: magic-number, protocol-version and sys-info pickles, the object pickle,
 * the list of storage keys, then each storage as an int64 element count and its raw bytes). Layouts in
 * docs/ORIGINAL_CODE.md, "Checkpoint files". Tensors come back as `TorchTensor` views; `tensorValues` reads one.
 */

import { CODECS_CONSTRUCTORS, halfToFloat, NUMPY_CONSTRUCTORS, NUMPY_MARKERS } from "./numpy.js";
import { type Constructor, PickleError, PyDict, PyGlobal, unpickle } from "./pickle.js";
import { type ByteSource, FileSource, readBytes } from "./source.js";
import { isZip, ZipReader } from "./zip.js";

/** Storage classes torch pickles (as `torch.<Name>Storage`) and their element types. */
export const STORAGE_DTYPES = {
  FloatStorage: { dtype: "float32", bytes: 4 },
  HalfStorage: { dtype: "float16", bytes: 2 },
  BFloat16Storage: { dtype: "bfloat16", bytes: 2 },
  DoubleStorage: { dtype: "float64", bytes: 8 },
  LongStorage: { dtype: "int64", bytes: 8 },
  IntStorage: { dtype: "int32", bytes: 4 },
  ShortStorage: { dtype: "int16", bytes: 2 },
  CharStorage: { dtype: "int8", bytes: 1 },
  ByteStorage: { dtype: "uint8", bytes: 1 },
  BoolStorage: { dtype: "bool", bytes: 1 },
} as const;
export type StorageName = keyof typeof STORAGE_DTYPES;
export type TorchDType = (typeof STORAGE_DTYPES)[StorageName]["dtype"];

export class TorchStorage {
  /** Set once the storage's bytes are located (right away in a zip; after the object pickle in the legacy format). */
  data: ByteSource | null = null;
  constructor(
    readonly key: string,
    readonly dtype: TorchDType,
    readonly elementBytes: number,
    readonly numel: number,
    readonly location: string,
  ) {}
}

export class TorchTensor {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
  get dtype(): TorchDType {
    return this.storage.dtype;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

const ints = (v: unknown): v is number[] =>
  Array.isArray(v) && v.every((x) => Number.isInteger(x) && (x as number) >= 0);

function rebuildTensor(args: unknown[], where: string): TorchTensor {
  const [storage, offset, size, stride] = args;
  if (
    !(storage instanceof TorchStorage) ||
    !Number.isInteger(offset) ||
    !ints(size) ||
    !ints(stride) ||
    size.length !== stride.length
  )
    throw new PickleError(`${where}: unexpected arguments to torch._utils._rebuild_tensor_v2`);
  // The largest element the view touches must lie inside its storage.
  let last = offset as number;
  for (let i = 0; i < size.length; i++) if (size[i] > 0) last += (size[i] - 1) * stride[i];
  if (size.every((d) => d > 0) && last >= storage.numel)
    throw new PickleError(
      `${where}: tensor [${size}] with stride [${stride}] at offset ${offset} runs past its storage of ${storage.numel} elements`,
    );
  return new TorchTensor(storage, offset as number, size, stride);
}

const TORCH_CONSTRUCTORS: Record<string, Constructor> = {
  "torch._utils._rebuild_tensor_v2": rebuildTensor,
  "torch._utils._rebuild_tensor": rebuildTensor,
  "torch._utils._rebuild_parameter": (args, where) => {
    if (!(args[0] instanceof TorchTensor)) throw new PickleError(`${where}: _rebuild_parameter without a tensor`);
    return args[0];
  },
  "collections.OrderedDict": (args, where) => {
    const d = new PyDict("collections.OrderedDict");
    if (args.length > 0) {
      if (!Array.isArray(args[0])) throw new PickleError(`${where}: OrderedDict from a ${typeof args[0]}`);
      for (const kv of args[0] as unknown[]) if (Array.isArray(kv) && kv.length === 2) d.set(kv[0], kv[1]);
    }
    return d;
  },
  ...NUMPY_CONSTRUCTORS,
  ...CODECS_CONSTRUCTORS,
};
const TORCH_MARKERS = new Set([...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`), ...NUMPY_MARKERS]);

/** Parse a persistent id ('storage', torch.<X>Storage, key, location, numel[, view_metadata]). */
function storageFromPid(pid: unknown, where: string, storages: Map<string, TorchStorage>): TorchStorage {
  if (!Array.isArray(pid) || pid[0] !== "storage" || !(pid[1] instanceof PyGlobal))
    throw new PickleError(
      `${where}: unexpected persistent id ${JSON.stringify(Array.isArray(pid) ? pid[0] : pid)} (only torch storages are supported)`,
    );
  const [, type, key, location, numel, view] = pid as [string, PyGlobal, unknown, unknown, unknown, unknown];
  const info = STORAGE_DTYPES[type.name as StorageName];
  if (!info || type.module !== "torch") throw new PickleError(`${where}: unsupported storage type ${type.qualname}`);
  if (typeof key !== "string" || !Number.isInteger(numel))
    throw new PickleError(`${where}: bad storage reference ${JSON.stringify(key)}`);
  if (view !== undefined && view !== null)
    throw new PickleError(`${where}: storage views (legacy view_metadata) are not supported`);
  let s = storages.get(key);
  if (!s) {
    s = new TorchStorage(key, info.dtype, info.bytes, numel as number, String(location));
    storages.set(key, s);
  } else if (s.dtype !== info.dtype) throw new PickleError(`${where}: storage ${key} is used with two dtypes`);
  return s;
}

export interface TorchFile {
  /** The unpickled object (dicts are PyDict, tensors TorchTensor). */
  value: unknown;
  format: "zip" | "legacy";
  /** Keep until done reading tensors; `close()` releases the file. */
  close(): void;
}

/** Legacy-format magic number and protocol version (torch/serialization.py). */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/** Open a `.pth` file written by `torch.save` (zip or legacy) and unpickle it with the restricted unpickler. */
export function loadTorchFile(path: string): TorchFile {
  const src = new FileSource(path);
  try {
    const storages = new Map<string, TorchStorage>();
    const opts = {
      constructors: TORCH_CONSTRUCTORS,
      markers: TORCH_MARKERS,
      persistentLoad: (pid: unknown) => storageFromPid(pid, path, storages),
    };
    if (isZip(src)) {
      const zip = new ZipReader(src);
      const pkl = zip.names().find((n) => n === "data.pkl" || /^[^/]+\/data\.pkl$/.test(n));
      if (!pkl)
        throw new Error(
          `${path}: a zip file without data.pkl; not a torch.save checkpoint (entries: ${zip.names().slice(0, 5).join(", ")})`,
        );
      const prefix = pkl.slice(0, pkl.length - "data.pkl".length);
      const { value } = unpickle(zip.open(pkl), opts);
      for (const s of storages.values()) {
        const entry = zip.open(`${prefix}data/${s.key}`);
        if (entry.size < s.numel * s.elementBytes)
          throw new Error(
            `${path}: storage ${s.key} has ${entry.size} bytes, ${s.numel} ${s.dtype} values need ${s.numel * s.elementBytes}`,
          );
        s.data = entry;
      }
      return { value, format: "zip", close: () => src.close() };
    }
    if (src.size < 2 || readBytes(src, 0, 1)[0] !== 0x80)
      throw new Error(
        `${path}: neither a zip nor a pickle; not a file written by torch.save (tar-format checkpoints of torch < 0.4 are not supported)`,
      );
    const plain = { constructors: {} as Record<string, Constructor> };
    let magic;
    try {
      magic = unpickle(src, plain, 0);
    } catch (e) {
      throw new Error(
        `${path}: a pickle but not a torch.save checkpoint (${(e as Error).message.replace(`${path}: `, "")})`,
      );
    }
    if (magic.value !== LEGACY_MAGIC)
      throw new Error(
        `${path}: a pickle but not a torch.save checkpoint (no torch magic number); pickled objects other than checkpoints are not loaded`,
      );
    const proto = unpickle(src, plain, magic.end);
    if (proto.value !== LEGACY_PROTOCOL)
      throw new Error(
        `${path}: legacy torch format version ${String(proto.value)} (only ${LEGACY_PROTOCOL} is supported)`,
      );
    const sys = unpickle(src, plain, proto.end);
    const info = sys.value instanceof PyDict ? sys.value : null;
    if (info && info.get("little_endian") === false)
      throw new Error(`${path}: written on a big-endian machine; not supported`);
    const main = unpickle(src, opts, sys.end);
    const keys = unpickle(src, plain, main.end);
    if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === "string"))
      throw new Error(`${path}: corrupt legacy checkpoint (storage key list)`);
    let pos = keys.end;
    for (const key of keys.value as string[]) {
      const count = new DataView(readBytes(src, pos, 8).buffer).getBigInt64(0, true);
      const s = storages.get(key);
      if (!s) throw new Error(`${path}: corrupt legacy checkpoint: storage ${key} is listed but not used`);
      if (count !== BigInt(s.numel))
        throw new Error(`${path}: storage ${key} holds ${count} elements, the pickle says ${s.numel}`);
      const nbytes = s.numel * s.elementBytes;
      const start = pos + 8;
      s.data = sliceOf(src, `${path}:storage ${key}`, start, nbytes);
      pos = start + nbytes;
    }
    for (const s of storages.values())
      if (!s.data) throw new Error(`${path}: corrupt legacy checkpoint: no data for storage ${s.key}`);
    return { value: main.value, format: "legacy", close: () => src.close() };
  } catch (e) {
    src.close();
    throw e;
  }
}

function sliceOf(src: ByteSource, name: string, start: number, size: number): ByteSource {
  if (start + size > src.size)
    throw new Error(`${name}: truncated checkpoint (needs ${start + size} bytes, the file has ${src.size})`);
  return { name, size, readInto: (p, d) => src.readInto(start + p, d), close: () => {} };
}

/** A floating-point tensor's values as float32 in C order (strides and storage offset applied; float16/bfloat16/float64 converted). */
export function tensorValues(t: TorchTensor, what: string): Float32Array {
  const { storage: s } = t;
  if (s.dtype !== "float32" && s.dtype !== "float16" && s.dtype !== "bfloat16" && s.dtype !== "float64")
    throw new Error(`${what}: a ${s.dtype} tensor where floating-point values are expected`);
  if (!s.data) throw new Error(`${what}: storage ${s.key} has no data`);
  const n = t.numel;
  // Read the span of the storage the view covers (one read), then gather.
  let last = t.offset;
  for (let i = 0; i < t.shape.length; i++) if (t.shape[i] > 0) last += (t.shape[i] - 1) * t.stride[i];
  const span = n === 0 ? 0 : last - t.offset + 1;
  const raw = new Uint8Array(span * s.elementBytes);
  s.data.readInto(t.offset * s.elementBytes, raw);
  const dv = new DataView(raw.buffer);
  const get =
    s.dtype === "float32"
      ? (i: number) => dv.getFloat32(i * 4, true)
      : s.dtype === "float64"
        ? (i: number) => dv.getFloat64(i * 8, true)
        : s.dtype === "float16"
          ? (i: number) => halfToFloat(dv.getUint16(i * 2, true))
          : (i: number) => {
              const b = new DataView(new ArrayBuffer(4));
              b.setUint32(0, dv.getUint16(i * 2, true) << 16, true);
              return b.getFloat32(0, true);
            };
  const out = new Float32Array(n);
  const contiguous = t.stride.every(
    (st, i) => st === t.shape.slice(i + 1).reduce((a, b) => a * b, 1) || t.shape[i] === 1,
  );
  if (contiguous) {
    if (s.dtype === "float32") out.set(new Float32Array(raw.buffer, 0, n));
    else for (let i = 0; i < n; i++) out[i] = get(i);
    return out;
  }
  const idx = new Array<number>(t.shape.length).fill(0);
  for (let k = 0; k < n; k++) {
    let o = 0;
    for (let d = 0; d < idx.length; d++) o += idx[d] * t.stride[d];
    out[k] = get(o);
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < t.shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}
