/**
 * The in-memory form of a split's pooled backbone features. Large matrices (115,846 × 2,048 floats ≈ 0.9 GB for
 * ImageNet-LT train) live in plain JS typed arrays, never in one tensor: the wasm heap is 32-bit (≤ 4 GB), so
 * classifiers stream row chunks into tfjs instead.
 */
export interface FeatureSet {
  /** Features, row-major N × dim (row i = feature vector of sample i). */
  feats: Float32Array;
  /** Feature dimension d (2,048 for ResNet-50/ResNeXt-50, 512 for ResNet-10). */
  dim: number;
  /** Class label per row, length N. */
  labels: Int32Array;
  /** Dataset row index per row (position in the split's list file), length N. */
  indices: Int32Array;
  /** Number of rows N. */
  n: number;
}

/**
 * Check that the arrays of a FeatureSet agree with its `n` and `dim`; `where` names the source (a file, a split)
 * so the error says which input is inconsistent.
 */
export function checkFeatureSet(fs: FeatureSet, where: string): void {
  if (!Number.isInteger(fs.n) || fs.n < 0) throw new Error(`${where}: n must be a non-negative integer, got ${fs.n}`);
  if (!Number.isInteger(fs.dim) || fs.dim <= 0)
    throw new Error(`${where}: dim must be a positive integer, got ${fs.dim}`);
  if (!(fs.feats instanceof Float32Array)) throw new Error(`${where}: feats must be a Float32Array`);
  if (fs.feats.length !== fs.n * fs.dim) {
    throw new Error(
      `${where}: feats has ${fs.feats.length} values but n × dim = ${fs.n} × ${fs.dim} = ${fs.n * fs.dim}`,
    );
  }
  if (fs.labels.length !== fs.n) throw new Error(`${where}: labels has ${fs.labels.length} rows but feats has ${fs.n}`);
  if (fs.indices.length !== fs.n)
    throw new Error(`${where}: indices has ${fs.indices.length} rows but feats has ${fs.n}`);
}

/**
 * Check that every feature is finite; the error names the source (a file and split), the first bad row and column,
 * and the value. A NaN or Inf row would silently wreck class means (NCM) and trained classifiers.
 */
export function assertFiniteRows(feats: Float32Array, dim: number, where: string): void {
  for (let i = 0; i < feats.length; i++) {
    if (!Number.isFinite(feats[i])) {
      const row = Math.floor(i / dim);
      let bad = 0;
      for (let k = i; k < feats.length; k++) if (!Number.isFinite(feats[k])) bad++;
      throw new Error(
        `${where}: row ${row} holds ${feats[i]} at column ${i % dim} (${bad} non-finite value${bad > 1 ? "s" : ""} in all); features must be finite numbers — ` +
          `export them again from a model whose weights are finite, or drop the bad rows`,
      );
    }
  }
}

/** Check every label lies in [0, numClasses); the error names the first offending row. */
export function checkLabels(labels: Int32Array, numClasses: number, where: string): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y < 0 || y >= numClasses) {
      throw new Error(`${where}: label ${y} at row ${i} is outside [0, ${numClasses}); is numClasses right?`);
    }
  }
}

/** Per-class counts of a label vector (e.g. the training counts n_j that define Many/Medium/Few). */
export function classCounts(labels: Int32Array, numClasses: number): Int32Array {
  const c = new Int32Array(numClasses);
  for (let i = 0; i < labels.length; i++) c[labels[i]]++;
  return c;
}
