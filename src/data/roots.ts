/**
 * Where a dataset's files are: `args.root`, else `$LTR_DATA_ROOT`, else a system location (Debian's
 * /usr/share/datasets/…), else a per-user cache folder. A root may hold the files directly or in
 * the dataset's usual sub-folder (e.g. `<root>/fashion-mnist/`).
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
}

export interface DataDirResult {
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
  const base = process.env.XDG_CACHE_HOME && process.env.XDG_CACHE_HOME.length > 0 ? process.env.XDG_CACHE_HOME : join(homedir(), ".cache");
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

export function findDataDir(args: FindDataDirArgs): DataDirResult {
  const cacheDir = cacheDirFor(args.cacheName);
  const candidates: string[] = [];
  const withSubdirs = (r: string) => [r, ...args.subdirs.map((s) => join(r, s))];
  if (args.root != null && args.root !== "") {
    candidates.push(...withSubdirs(resolve(args.root)));
  } else {
    const env = process.env.LTR_DATA_ROOT;
    if (env) candidates.push(...withSubdirs(resolve(env)));
    candidates.push(...args.systemDirs, cacheDir);
  }
  for (const dir of candidates) {
    const files = filesIn(dir, args.files);
    if (files) return { dir, files, tried: candidates, cacheDir };
  }
  return { dir: null, files: [], tried: candidates, cacheDir };
}
