/**
 * The run log: one JSON object per line (`log.jsonl`), each tagged with its kind ("step", "epoch", "eval",
 * "test", "info"), so tables and curves can be rebuilt from it with any JSON-lines reader. A failed append (disk
 * full, read-only folder) is explained like every other write (fserror.ts).
 */
import { appendFileSync } from "node:fs";
import { dirname } from "node:path";
import { ensureDir } from "./atomic.js";
import { fsFailure } from "./fserror.js";

export type LogKind = "step" | "epoch" | "eval" | "test" | "info" | "stage2";

export class JsonlLogger {
  constructor(readonly path: string) {
    ensureDir(dirname(path));
  }

  log(kind: LogKind, record: Record<string, unknown>): void {
    try {
      appendFileSync(this.path, `${JSON.stringify({ kind, time: new Date().toISOString(), ...record })}\n`);
    } catch (e) {
      throw fsFailure(e, this.path, "append to");
    }
  }
}
