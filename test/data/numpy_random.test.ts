import { describe, expect, it } from "vitest";
import { NumpyRandomState } from "../../src/data/numpy_random.js";

const arange = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

// Golden values produced with numpy 2.4 (legacy RandomState), see docs/ARCHITECTURE.md, "Long-tailed subsets".
describe("NumpyRandomState (numpy legacy MT19937)", () => {
  it("raw 32-bit outputs match RandomState(0) / RandomState(2^32-1)", () => {
    const rs = new NumpyRandomState(0);
    expect(Array.from({ length: 5 }, () => rs.nextUint32())).toEqual([
      2357136044, 2546248239, 3071714933, 3626093760, 2588848963,
    ]);
    const hi = new NumpyRandomState(4294967295);
    expect(Array.from({ length: 3 }, () => hi.nextUint32())).toEqual([419326371, 479346978, 3918654476]);
  });

  it("shuffle matches np.random.shuffle for small arrays and another seed", () => {
    const rs = new NumpyRandomState(0);
    expect(Array.from(rs.shuffle(arange(17)))).toEqual([1, 6, 8, 9, 13, 4, 2, 14, 10, 7, 16, 11, 3, 0, 5, 15, 12]);
    // the stream continues after the shuffle exactly like numpy's
    expect(rs.nextUint32()).toBe(2051556033);
    const r2 = new NumpyRandomState(12345);
    expect(Array.from(r2.shuffle(arange(10)))).toEqual([0, 7, 3, 9, 6, 4, 1, 8, 5, 2]);
    expect(Array.from(r2.shuffle(arange(1000)).subarray(0, 6))).toEqual([144, 649, 960, 499, 285, 187]);
  });

  it("CIFAR-10 golden vectors: classes 0, 1 and 9 in one seed-0 stream of 5000-long shuffles", () => {
    const rs = new NumpyRandomState(0);
    const first8: Record<number, number[]> = {};
    for (let c = 0; c < 10; c++) first8[c] = Array.from(rs.shuffle(arange(5000)).subarray(0, 8));
    expect(first8[0]).toEqual([398, 3833, 4836, 4572, 636, 2545, 1161, 2230]);
    expect(first8[1]).toEqual([597, 332, 521, 3935, 4800, 1102, 4304, 1826]);
    expect(first8[9]).toEqual([2204, 3816, 2206, 2507, 1926, 4765, 368, 3808]);
  });

  it("Fashion-MNIST golden vector: class 0 (n = 6000), fresh seed 0", () => {
    const rs = new NumpyRandomState(0);
    expect(Array.from(rs.shuffle(arange(6000)).subarray(0, 8))).toEqual([
      4320, 2006, 5689, 472, 1370, 1457, 5783, 3484,
    ]);
  });

  it("interval stays in range and snapshot/restore resumes the stream", () => {
    const rs = new NumpyRandomState(7);
    for (let i = 0; i < 1000; i++) {
      const v = rs.interval(i % 37);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(i % 37);
    }
    const snap = JSON.parse(JSON.stringify(rs.snapshot()));
    const a = Array.from({ length: 700 }, () => rs.nextUint32());
    const r2 = new NumpyRandomState(0);
    r2.restore(snap);
    expect(Array.from({ length: 700 }, () => r2.nextUint32())).toEqual(a);
  });

  it("rejects seeds numpy rejects", () => {
    expect(() => new NumpyRandomState(-1)).toThrow(/seed must be an integer in \[0, 2\^32 - 1\]/);
    expect(() => new NumpyRandomState(2 ** 32)).toThrow(/seed/);
    expect(() => new NumpyRandomState(1.5)).toThrow(/seed/);
  });
});
