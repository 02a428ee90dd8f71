/**
 * The run log: one JSON object per line (`log.jsonl`), each tagged with its kind ("step", "epoch", "eval",
 * "test", "info"), so tables and curves can be rebuilt from it with any JSON-lines reader.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";

export type LogKind = "step" | "epoch" | "eval" | "test" | "info" | "stage2";

export class JsonlLogger {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  log(kind: LogKind, record: Record<string, unknown>): void {
    appendFileSync(this.path, JSON.stringify({ kind, time: new Date().toISOString(), ...record }) + "\n");
  }
}
