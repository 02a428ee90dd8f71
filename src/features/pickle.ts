/**
 * The feature pickles of the original code's `--save_feat` (docs/ORIGINAL_CODE.md, "Feature pickles"):
 * `<log_dir>/{train,val,test}feat_all.pkl`, a pickled dict {feats: float32 [N, d], labels: int64 [N], idxs: int64 [N]}
 * of NumPy arrays. Read with the restricted unpickler (src/torch/pickle.ts); the feature matrix is read straight
 * from the file into its Float32Array, so multi-GB files need no second copy.
 */
import { CODECS_CONSTRUCTORS, NdArray, NUMPY_CONSTRUCTORS, NUMPY_MARKERS, ndarrayValues } from "../torch/numpy.js";
import { PyDict, unpickle } from "../torch/pickle.js";
import { FileSource } from "../torch/source.js";
import { assertFiniteRows, checkFeatureSet, type FeatureSet } from "./types.js";

/** File name the original writes for a split (`train` is its `train_plain` pass). */
export function featurePickleName(split: "train" | "val" | "test"): string {
  return `${split}feat_all.pkl`;
}

export function readFeaturePickle(path: string): FeatureSet {
  const src = new FileSource(path);
  try {
    const { value } = unpickle(src, {
      constructors: { ...NUMPY_CONSTRUCTORS, ...CODECS_CONSTRUCTORS },
      markers: NUMPY_MARKERS,
    });
    if (!(value instanceof PyDict))
      throw new Error(
        `${path}: expected a pickled dict of feats, labels, idxs (the original's --save_feat), got ${typeof value}`,
      );
    const get = (k: string, required: boolean): NdArray | null => {
      const v = value.get(k);
      if (v === undefined && !required) return null;
      if (!(v instanceof NdArray))
        throw new Error(
          `${path}: '${k}' is ${v === undefined ? "missing" : "not a NumPy array"} (keys: ${[...value.keys()].join(", ")})`,
        );
      return v;
    };
    const f = get("feats", true)!;
    if (f.shape.length !== 2)
      throw new Error(`${path}: feats must be 2-D [N, d], got shape ${JSON.stringify(f.shape)}`);
    const [n, dim] = f.shape;
    const feats = ndarrayValues(f, `${path}: feats`, "float32") as Float32Array;
    const ints = (a: NdArray, k: string) => {
      if (a.shape.length !== 1 || a.shape[0] !== n)
        throw new Error(`${path}: ${k} must be 1-D with ${n} rows (as feats), got shape ${JSON.stringify(a.shape)}`);
      return ndarrayValues(a, `${path}: ${k}`, "int32") as Int32Array;
    };
    const labels = ints(get("labels", true)!, "labels");
    const ia = get("idxs", false);
    const indices = ia ? ints(ia, "idxs") : Int32Array.from({ length: n }, (_, i) => i);
    const fs: FeatureSet = { feats, dim, labels, indices, n };
    checkFeatureSet(fs, path);
    assertFiniteRows(feats, dim, path);
    return fs;
  } finally {
    src.close();
  }
}
