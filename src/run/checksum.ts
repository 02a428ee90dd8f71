/**
 * Content checksums of the files a run writes, so nothing damaged on disk is ever used silently.
 *
 *  - Binary files (checkpoints `.ckpt`, feature files `.ltf`) end with a 40-byte trailer: the 8 ASCII bytes
 *    `LTRSHA25` and the SHA-256 of every byte before the trailer (see checkpoint.ts and features/format.ts).
 *  - JSON result files (results.json, manifest.json, tau_norm.json, classify_results.json) carry a top-level key
 *    `"checksum": "sha256:<hex>"`: the SHA-256 of the canonical JSON (sorted keys, no spaces) of the object
 *    without that key, so re-indenting the file does not break it but changing any value does.
 *  - A run's config.yaml starts with the comment `# sha256 <hex>` over the canonical JSON of the mapping.
 *
 * Files written before checksums existed (checkpoint magic LTRCKPT1, feature format version 1, JSON without the
 * key, config.yaml without the comment) are still read, after one notice per kind on stderr saying that they
 * cannot be verified and how to re-write them; every other check (magic, sizes, shapes, finite values) still
 * applies to them.
 */
import { readFileSync } from "node:fs";
import { canonicalJson } from "../config/load.js";
import { sha256Hex } from "../hash.js";
import { writeFileAtomic } from "./atomic.js";

export const TRAILER_MAGIC = "LTRSHA25";
/** Bytes of the binary trailer: magic + SHA-256 digest. */
export const TRAILER_BYTES = 8 + 32;
export const CHECKSUM_KEY = "checksum";

/** A file whose content does not match its checksum or cannot be parsed: names the file and what to do. */
export class CorruptFileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    fix: string,
  ) {
    super(`${file} is corrupt: ${reason}. ${fix}`);
    this.name = "CorruptFileError";
  }
}

/** The 40-byte trailer for a digest. */
export function trailerBytes(digest: Buffer): Uint8Array {
  const t = Buffer.alloc(TRAILER_BYTES);
  t.write(TRAILER_MAGIC, 0, "latin1");
  digest.copy(t, 8);
  return t;
}

const noticed = new Set<string>();

/**
 * Say once per kind of file and process that a file without a checksum is being read unverified (files written by
 * versions before checksums). Goes to stderr, so results on stdout stay clean.
 */
export function legacyNotice(kind: string, file: string, rewrite: string): void {
  if (noticed.has(kind)) return;
  noticed.add(kind);
  process.stderr.write(
    `notice: ${file} was written without a checksum (an older decoupling-lt), so it is read unverified; ${rewrite}. Further such ${kind} files are not listed.\n`,
  );
}

/** The checksum string of a JSON-compatible object (without its own checksum key). */
export function jsonChecksum(value: Record<string, unknown>): string {
  const { [CHECKSUM_KEY]: _drop, ...rest } = value;
  return `sha256:${sha256Hex(canonicalJson(rest))}`;
}

/** The object as JSON will store it, with its checksum added as the last key. */
export function withChecksum<T extends object>(value: T): T & { checksum: string } {
  // Round-trip first: what is hashed is exactly what a reader will parse (undefined dropped, NaN -> null).
  const plain = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  delete plain[CHECKSUM_KEY];
  return { ...plain, [CHECKSUM_KEY]: jsonChecksum(plain) } as T & { checksum: string };
}

/** Write a JSON object atomically with its checksum. */
export function writeCheckedJson(path: string, value: object): void {
  writeFileAtomic(path, `${JSON.stringify(withChecksum(value), null, 2)}\n`);
}

export interface ReadCheckedOptions {
  /** What to tell the user to do when the file is damaged. */
  fix?: string;
  /** Kind of file for the legacy notice ("results"); default "JSON result". */
  kind?: string;
}

const DEFAULT_FIX =
  "Restore it from a copy, or re-create it by running the command that wrote it again in a new folder";

/** Parse a JSON file and verify its checksum (when it has one); errors name the file. */
export function readCheckedJson<T = Record<string, unknown>>(path: string, o: ReadCheckedOptions = {}): T {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseCheckedJson<T>(text, path, o);
}

/** {@link readCheckedJson} on text already read. */
export function parseCheckedJson<T = Record<string, unknown>>(
  text: string,
  path: string,
  o: ReadCheckedOptions = {},
): T {
  const fix = o.fix ?? DEFAULT_FIX;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CorruptFileError(path, `not valid JSON (${(e as Error).message})`, fix);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new CorruptFileError(path, "expected a JSON object", fix);
  const rec = value as Record<string, unknown>;
  const stored = rec[CHECKSUM_KEY];
  if (stored === undefined) {
    legacyNotice(o.kind ?? "JSON result", path, "it gets a checksum when it is written again");
    return value as T;
  }
  const actual = jsonChecksum(rec);
  if (stored !== actual)
    throw new CorruptFileError(
      path,
      `its content does not match its checksum (stored ${String(stored).slice(0, 19)}…, content ${actual.slice(0, 19)}…)`,
      fix,
    );
  return value as T;
}
