/**
 * Machine-free paths in what a run records (docs/run-folders.md, "Paths in manifests"): a manifest, results.json
 * and the exported copies of both name files and folders without the machine's own layout.
 *
 *  - A path under the project root becomes project-relative, with `/` separators
 *    (`/home/me/decoupling-lt/config/FashionMNIST_LT/feat_uniform.yaml` → `config/FashionMNIST_LT/feat_uniform.yaml`;
 *    the root itself is `.`).
 *  - Any other absolute path keeps only its last component behind a fixed marker
 *    (`/usr/share/datasets/fashion-mnist` → `<outside the project>/fashion-mnist`), so no home, temporary or mount
 *    folder of the machine is written down.
 *
 * `root` is the project root (run/manifest.ts `projectRoot`), passed in: manifest.ts imports this module, and tslab's
 * CommonJS loader, which the notebooks use, cannot follow an import cycle.
 *
 * The same rules apply to paths inside free text (the native layer's note "... (/x/native/build/Release/ltr_native.node)").
 * The resolved `config` of a manifest is left as it is: it is what `config_hash` is computed over, and a path the
 * user wrote into the config (dataset.root) is part of the run's definition.
 */
import { isAbsolute, relative, sep } from "node:path";
import { CHECKSUM_KEY, withChecksum } from "./checksum.js";

export const OUTSIDE_PROJECT = "<outside the project>";

const toPosix = (p: string) => (sep === "/" ? p : p.split(sep).join("/"));

/** One path, made machine-free (relative paths are returned as they are). */
export function portablePath(p: string, root: string): string {
  if (!isAbsolute(p)) return p;
  const rel = relative(root, p);
  if (rel === "") return ".";
  if (!rel.startsWith("..") && !isAbsolute(rel)) return toPosix(rel);
  const parts = p.split(/[\\/]+/).filter(Boolean);
  return parts.length ? `${OUTSIDE_PROJECT}/${parts[parts.length - 1]}` : OUTSIDE_PROJECT;
}

// An absolute path inside text: a "/" that starts the string or follows a space, bracket, quote, "=" or ":" (not
// "//", so URLs are left alone), then path characters.
const EMBEDDED = /(^|[\s(["'=:])(\/(?!\/)[^\s)"'\],;]*)/g;

/** Free text with every absolute path in it made machine-free. */
export function portableText(s: string, root: string): string {
  if (!s.includes("/") && !s.includes("\\")) return s;
  return s.replace(EMBEDDED, (_m, pre: string, path: string) => `${pre}${portablePath(path, root)}`);
}

/** A JSON value with every string made machine-free; keys in `keep` (top level only) are copied as they are. */
export function portableValue<T>(v: T, root: string, keep: readonly string[] = []): T {
  const walk = (x: unknown, top: boolean): unknown => {
    if (typeof x === "string") return portableText(x, root);
    if (Array.isArray(x)) return x.map((y) => walk(y, false));
    if (x && typeof x === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, y] of Object.entries(x)) out[k] = top && keep.includes(k) ? y : walk(y, false);
      return out;
    }
    return x;
  };
  return walk(v, true) as T;
}

/** A manifest (or any run record) made machine-free, its resolved `config` and its `checksum` left as they are. */
export function portableManifest<T>(m: T, root: string): T {
  return portableValue(m, root, ["config", "checksum"]);
}

/**
 * The exported copy of a run file (manifest.json, results.json) as results/ and the bundle hold it: machine-free,
 * so runs written before paths were made portable export the same as new ones. A copy that changed and carried a
 * checksum gets the checksum of its new content (checksum.ts), so it stays self-consistent.
 */
export function exportedRecord(v: Record<string, unknown>, root: string): Record<string, unknown> {
  const out = portableManifest(v, root);
  if (CHECKSUM_KEY in v && JSON.stringify(out) !== JSON.stringify(v)) return withChecksum(out);
  return out;
}
