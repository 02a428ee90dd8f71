import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importNpyFeatures, readNpy, writeNpy } from "../../src/features/npy.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ltr-npy-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Hand-build a .npy file: version byte, header dict text and raw little-endian data. */
function handNpy(path: string, dict: string, data: Uint8Array, version = 1): void {
  const pre = version === 1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const hlen = total - pre;
  const head = Buffer.alloc(total, 0x20);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(head);
  if (version === 1) head.writeUInt16LE(hlen, 8);
  else head.writeUInt32LE(hlen, 8);
  head.write(dict, pre, "latin1");
  head[total - 1] = 0x0a;
  writeFileSync(path, Buffer.concat([head, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

describe("npy", () => {
  it("writes the exact NumPy v1 header and round-trips float32", () => {
    const p = join(dir, "a.npy");
    const a = Float32Array.from([1, 2.5, -3, 4, 5, 6]);
    writeNpy(p, a, [2, 3]);
    const raw = readFileSync(p);
    expect(raw.subarray(0, 8)).toEqual(Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]));
    expect(raw.readUInt16LE(8)).toBe(118);
    expect(raw.subarray(10, 128).toString("latin1")).toBe(
      `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }${" ".repeat(58)}\n`,
    );
    const r = readNpy(p);
    expect(r.descr).toBe("<f4");
    expect(r.shape).toEqual([2, 3]);
    expect(Array.from(r.data)).toEqual([1, 2.5, -3, 4, 5, 6]);
  });

  it("round-trips int32 1-D arrays", () => {
    const p = join(dir, "l.npy");
    writeNpy(p, Int32Array.from([3, 1, 4, 1, 5]), [5]);
    const r = readNpy(p);
    expect(r.shape).toEqual([5]);
    expect(r.data).toBeInstanceOf(Int32Array);
    expect(Array.from(r.data)).toEqual([3, 1, 4, 1, 5]);
  });

  it("reads a hand-written v2 header with <f8 (converted to float32) and <i8 (to int32)", () => {
    const p8 = join(dir, "f8.npy");
    handNpy(
      p8,
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }",
      new Uint8Array(Float64Array.from([0.5, -1, 1e-3, 7]).buffer),
      2,
    );
    const f = readNpy(p8);
    expect(f.data).toBeInstanceOf(Float32Array);
    expect(f.shape).toEqual([2, 2]);
    expect(Array.from(f.data)).toEqual([0.5, -1, Math.fround(1e-3), 7]);
    const pi = join(dir, "i8.npy");
    handNpy(
      pi,
      "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
      new Uint8Array(BigInt64Array.from([0n, 999n, -2n]).buffer),
    );
    expect(Array.from(readNpy(pi).data)).toEqual([0, 999, -2]);
  });

  it("rejects Fortran order, big-endian, unsupported dtypes and out-of-range int64 with clear messages", () => {
    const pf = join(dir, "fortran.npy");
    handNpy(pf, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }", new Uint8Array(8));
    expect(() => readNpy(pf)).toThrow(
      /fortran\.npy: Fortran-ordered arrays are not supported; re-save with np\.save\(path, np\.ascontiguousarray\(a\)\)/,
    );
    const pb = join(dir, "big.npy");
    handNpy(pb, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(8));
    expect(() => readNpy(pb)).toThrow(/big\.npy: big-endian dtype '>f4'/);
    const pu = join(dir, "u1.npy");
    handNpy(pu, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(2));
    expect(() => readNpy(pu)).toThrow(/u1\.npy: unsupported dtype '\|u1'; supported: <f4, <f8, <i4, <i8/);
    const po = join(dir, "over.npy");
    handNpy(
      po,
      "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }",
      new Uint8Array(BigInt64Array.from([1n << 40n]).buffer),
    );
    expect(() => readNpy(po)).toThrow(/over\.npy: int64 value 1099511627776 at element 0 does not fit in int32/);
    const pt = join(dir, "short.npy");
    handNpy(pt, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", new Uint8Array(12));
    expect(() => readNpy(pt)).toThrow(/short\.npy: truncated \.npy file/);
    const pm = join(dir, "magic.npy");
    writeFileSync(pm, Buffer.from("PK\x03\x04 not numpy at all"));
    expect(() => readNpy(pm)).toThrow(/magic\.npy: bad magic/);
  });

  it("imports feats/labels/idxs exported from the original code", () => {
    const feats = join(dir, "feats.npy");
    const labels = join(dir, "labels.npy");
    const idxs = join(dir, "idxs.npy");
    handNpy(
      feats,
      "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }",
      new Uint8Array(Float32Array.from([1, 2, 3, 4, 5, 6]).buffer),
    );
    handNpy(
      labels,
      "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
      new Uint8Array(BigInt64Array.from([2n, 0n, 1n]).buffer),
    );
    handNpy(
      idxs,
      "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
      new Uint8Array(BigInt64Array.from([10n, 11n, 12n]).buffer),
    );
    const fs = importNpyFeatures({ feats, labels, idxs });
    expect([fs.n, fs.dim]).toEqual([3, 2]);
    expect(Array.from(fs.labels)).toEqual([2, 0, 1]);
    expect(Array.from(fs.indices)).toEqual([10, 11, 12]);
    expect(Array.from(importNpyFeatures({ feats, labels }).indices)).toEqual([0, 1, 2]);
    const short = join(dir, "labels2.npy");
    writeNpy(short, Int32Array.from([1, 2]), [2]);
    expect(() => importNpyFeatures({ feats, labels: short })).toThrow(
      /labels2\.npy: row-count mismatch: labels has 2 rows but .*feats\.npy has 3/,
    );
  });
});
