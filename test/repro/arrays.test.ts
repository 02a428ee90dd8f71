/** The bundle's float16 / float32 / uint8 .npy files: exact IEEE binary16 rounding and a header numpy reads. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  decodeNpy,
  float16Bits,
  float16Value,
  fromFloat16,
  npyBytes,
  readBundleNpy,
  toFloat16,
  writeBundleNpy,
} from "../../src/repro/arrays.js";

const tmp = mkdtempSync(join(tmpdir(), "ltr-arrays-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("float16", () => {
  it("rounds to the nearest binary16, ties to even", () => {
    expect(float16Bits(1)).toBe(0x3c00);
    expect(float16Bits(-2)).toBe(0xc000);
    expect(float16Bits(65504)).toBe(0x7bff); // largest finite
    expect(float16Bits(65520)).toBe(0x7c00); // halfway to 65536: rounds to even, which overflows to Infinity
    expect(float16Bits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(float16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(float16Bits(2 ** -26)).toBe(0x0000); // below half of it
    expect(float16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie between 1 and 1 + 2^-10: even mantissa
    expect(float16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie between 0x3c01 and 0x3c02: even
    expect(float16Bits(-0)).toBe(0x8000);
    expect(Number.isNaN(float16Value(float16Bits(NaN)))).toBe(true);
    expect(float16Value(float16Bits(-Infinity))).toBe(-Infinity);
  });

  it("round-trips every finite binary16 value", () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = float16Value(h);
      if (!Number.isNaN(v)) expect(float16Bits(v), `0x${h.toString(16)}`).toBe(h);
    }
    const x = Float32Array.from([0.1, 3.14159, -7.5, 1e-5, 1234.5]);
    const back = fromFloat16(toFloat16(x));
    x.forEach((v, i) => expect(Math.abs(back[i] - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -25));
  });
});

describe(".npy", () => {
  it("writes a 64-byte aligned NPY 1.0 header and reads its own files back", () => {
    const f = Float32Array.from({ length: 6 }, (_, i) => i / 4);
    const b = npyBytes("<f2", [2, 3], f);
    const hlen = b[8] | (b[9] << 8);
    expect((10 + hlen) % 64).toBe(0);
    const a = decodeNpy(b, "x.npy");
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    writeBundleNpy(join(tmp, "w.npy"), "<f4", [3], Float32Array.from([1.5, -2, 3]));
    expect(Array.from(readBundleNpy(join(tmp, "w.npy")).data)).toEqual([1.5, -2, 3]);
    expect(() => npyBytes("|u1", [1], [300])).toThrow(/does not fit uint8/);
    expect(() => decodeNpy(b.subarray(0, b.length - 2), "cut.npy")).toThrow(
      /cut\.npy: shape \[2,3\] of <f2 needs 12 data bytes, the file has 10/,
    );
  });

  it("is what numpy reads (when /usr/bin/python3 has numpy)", (ctx) => {
    try {
      execFileSync("/usr/bin/python3", ["-c", "import numpy"], { stdio: "ignore" });
    } catch {
      ctx.skip();
    }
    writeBundleNpy(join(tmp, "h.npy"), "<f2", [2, 2], Float32Array.from([1, 0.5, -3, 65504]));
    writeBundleNpy(join(tmp, "u.npy"), "|u1", [3], [0, 7, 255]);
    const out = execFileSync(
      "/usr/bin/python3",
      [
        "-c",
        "import numpy as np,sys; a=np.load(sys.argv[1]); u=np.load(sys.argv[2]); print(a.dtype, a.shape, a.tolist(), u.dtype, u.tolist())",
        join(tmp, "h.npy"),
        join(tmp, "u.npy"),
      ],
      { encoding: "utf8" },
    ).trim();
    expect(out).toBe("float16 (2, 2) [[1.0, 0.5], [-3.0, 65504.0]] uint8 [0, 7, 255]");
  });
});
