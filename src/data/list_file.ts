/**
 * Parser for the "path label" split lists of ImageNet-LT, Places-LT and iNaturalist 2018
 * (classifier-balancing `data/<Set>/<Set>_{train,val,test}.txt`): one sample per line, the label is
 * the last whitespace-separated field, blank lines are skipped.
 */
import { readFileSync } from "node:fs";

export interface ListFile {
  /** Image paths as written in the list (relative to the image root). */
  paths: string[];
  /** One label per path. */
  labels: Int32Array;
  /** 1-based line number of every entry (for error messages about a given image). */
  lines: Int32Array;
}

/** Arguments of {@link parseListText}. */
export interface ParseListArgs {
  /** File contents. */
  text: string;
  /** Path, for messages. */
  file: string;
  /** Labels must lie in [0, numClasses). */
  numClasses: number;
}

export function parseListText(a: ParseListArgs): ListFile {
  const paths: string[] = [];
  const labels: number[] = [];
  const lines: number[] = [];
  const rows = a.text.split("\n");
  for (let i = 0; i < rows.length; i++) {
    const line = rows[i].replace(/\r$/, "");
    if (line.trim().length === 0) continue;
    const m = /^\s*(.*\S)\s+(\S+)\s*$/.exec(line);
    const where = `${a.file}:${i + 1}`;
    if (!m)
      throw new Error(
        `${where}: expected "<image path> <integer label>", got ${JSON.stringify(line)}; fix or remove the line`,
      );
    const [, path, lab] = m;
    if (!/^[+-]?\d+$/.test(lab)) {
      throw new Error(
        `${where}: label ${JSON.stringify(lab)} is not an integer (line ${JSON.stringify(line)}); the format is "<image path> <integer label>"`,
      );
    }
    const y = Number(lab);
    if (y < 0 || y >= a.numClasses) {
      throw new Error(
        `${where}: label ${y} is outside [0, ${a.numClasses}); fix the list or pass the right numClasses`,
      );
    }
    paths.push(path);
    labels.push(y);
    lines.push(i + 1);
  }
  if (paths.length === 0)
    throw new Error(`${a.file}: the list has no entries; expected lines of "<image path> <integer label>"`);
  return { paths, labels: Int32Array.from(labels), lines: Int32Array.from(lines) };
}

/** Read and parse a list file from disk; `flag` names the option that sets it (for the error). */
export function readListFile(file: string, numClasses: number, flag: string): { list: ListFile; bytes: Buffer } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new Error(
      `list file ${file} cannot be read (${(e as Error).message}); pass its location with ${flag} or put it there`,
    );
  }
  return { list: parseListText({ text: bytes.toString("utf8"), file, numClasses }), bytes };
}
