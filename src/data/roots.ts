/**
 * Where a dataset's files are: `args.root`, else `$LTR_DATA_ROOT`, else a system location (Debian's
 * /usr/share/datasets/…), else a per-user cache folder. A root may hold the files directly or in
 * the dataset's usual sub-folder (e.g. `<root>/fashion-mnist/`).
 *
 * Nothing is substituted silently: an explicit root (dataset.root / --data-root) or `$LTR_DATA_ROOT` that does
 * not exist is an error, and so is a folder holding only some of the files (the error names the missing ones).
 * A `$LTR_DATA_ROOT` that exists but holds none of this dataset's files falls through to the system location
 * with a notice on stderr (one variable can serve several datasets).
 */
import { existsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Arguments of {@link findDataDir}. */
export interface FindDataDirArgs {
  /** Explicit data directory (DatasetArgs.root). When given, only it is searched. */
  root?: string | null;
  /** Sub-folders tried inside a root, e.g. ["fashion-mnist", "FashionMNIST/raw"]. */
  subdirs: string[];
  /** Required files; each entry lists acceptable alternative names (first match wins). */
  files: string[][];
  /** System folders tried after $LTR_DATA_ROOT. */
  systemDirs: string[];
  /** Cache folder name under ~/.cache/decoupling-lt/. */
  cacheName: string;
  /** Where to get missing files (appended to the error about a folder holding only some of them). */
  hint?: string;
}

export interface DataDirResult {
  /** Folders that hold some but not all of the files, with the missing names (for messages). */
  partial?: { dir: string; missing: string[] }[];
  /** Folder holding the files, or null when none qualified. */
  dir: string | null;
  /** Resolved path of every required file (same order as `files`), when found. */
  files: string[];
  /** Every folder looked at, in order, for error messages. */
  tried: string[];
  /** The cache folder (where a download would go). */
  cacheDir: string;
}

/** ~/.cache/decoupling-lt/<name> (honours $XDG_CACHE_HOME). */
export function cacheDirFor(name: string): string {
  const base =
    process.env.XDG_CACHE_HOME && process.env.XDG_CACHE_HOME.length > 0
      ? process.env.XDG_CACHE_HOME
      : join(homedir(), ".cache");
  return join(base, "decoupling-lt", name);
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The resolved files if `dir` has all of them, else null. */
export function filesIn(dir: string, files: string[][]): string[] | null {
  if (!isDir(dir)) return null;
  const out: string[] = [];
  for (const alts of files) {
    const hit = alts.map((f) => join(dir, f)).find((p) => existsSync(p));
    if (!hit) return null;
    out.push(hit);
  }
  return out;
}

/** The required files missing from `dir` when it holds some of them (else null: all there, or none). */
export function missingIn(dir: string, files: string[][]): string[] | null {
  if (!isDir(dir)) return null;
  const missing = files.filter((alts) => !alts.some((f) => existsSync(join(dir, f)))).map((alts) => alts[0]);
  return missing.length > 0 && missing.length < files.length ? missing : null;
}

/**
 * The data root given explicitly (`root`, else `$LTR_DATA_ROOT`), checked to exist, or null when neither is set.
 * `which` says where it came from, for messages.
 */
export function explicitRoot(root: string | null | undefined): { dir: string; which: string } | null {
  if (root != null && root !== "") {
    const dir = resolve(root);
    if (!isDir(dir))
      throw new Error(
        `the data folder ${dir} (dataset.root / --data-root) ${existsSync(dir) ? "is a file, not a folder" : "does not exist"}; fix the path, or leave dataset.root unset to use LTR_DATA_ROOT or the installed copy`,
      );
    return { dir, which: "dataset.root / --data-root" };
  }
  const env = process.env.LTR_DATA_ROOT;
  if (env) {
    const dir = resolve(env);
    if (!isDir(dir))
      throw new Error(
        `LTR_DATA_ROOT=${env} ${existsSync(dir) ? "is a file, not a folder" : "does not exist"}; fix it, or unset it to use the installed copy / the cache folder`,
      );
    return { dir, which: "LTR_DATA_ROOT" };
  }
  return null;
}

export function findDataDir(args: FindDataDirArgs): DataDirResult {
  const cacheDir = cacheDirFor(args.cacheName);
  const withSubdirs = (r: string) => [r, ...args.subdirs.map((s) => join(r, s))];
  const given = explicitRoot(args.root);
  const fromArg = args.root != null && args.root !== "";
  const first = given ? withSubdirs(given.dir) : [];
  const rest = fromArg ? [] : [...args.systemDirs, cacheDir];
  const candidates = [...first, ...rest];
  const partial: { dir: string; missing: string[] }[] = [];
  for (const dir of candidates) {
    const files = filesIn(dir, args.files);
    if (files) {
      if (given && !fromArg && !first.includes(dir))
        process.stderr.write(
          `notice: LTR_DATA_ROOT=${given.dir} holds none of the files needed (looked in ${first.join(", ")}); using ${dir}\n`,
        );
      return { dir, files, tried: candidates, cacheDir, partial };
    }
    const missing = missingIn(dir, args.files);
    if (missing) {
      partial.push({ dir, missing });
      // An explicitly named folder with some files missing is an error, never a reason to look elsewhere.
      if (first.includes(dir))
        throw new Error(
          `${dir} holds only some of the data files: missing ${missing.join(", ")} (set by ${given!.which}); put the missing file${missing.length > 1 ? "s" : ""} there${args.hint ? ` (${args.hint})` : ""}`,
        );
    }
  }
  return { dir: null, files: [], tried: candidates, cacheDir, partial };
}
