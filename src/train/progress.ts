/**
 * Training progress: a one-line bar (epoch, step, loss, images/s, ETA) redrawn in place on a terminal; plain
 * log lines every `every` steps when stdout is not a TTY (CI logs, notebooks), so logs stay readable. Classifiers
 * trained on features (cRT, LWS: a few fast epochs) print one line per epoch instead ({@link featureEpochLine}).
 */
import type { HeadEpochLog, HeadEpochProgress } from "../classifiers/train-utils.js";

export interface ProgressArgs {
  /** Total steps of the whole run (for the ETA). */
  totalSteps: number;
  /** Steps already done (resume). */
  doneSteps: number;
  /** Print a plain line every this many steps when not on a TTY. */
  every: number;
  /** Output stream (default process.stderr so stdout stays for results). */
  stream?: NodeJS.WriteStream;
  /** Silence everything (tests). */
  quiet?: boolean;
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return "--:--";
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h > 0
    ? `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`
    : `${m}:${String(sec).padStart(2, "0")}`;
}

export class Progress {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly t0 = Date.now();
  private stepsThisProcess = 0;
  private images = 0;
  private done: number;

  constructor(private readonly a: ProgressArgs) {
    this.stream = a.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
    this.done = a.doneSteps;
  }

  step(epoch: number, numEpochs: number, step: number, stepsPerEpoch: number, loss: number, batch: number): void {
    this.done++;
    this.stepsThisProcess++;
    this.images += batch;
    if (this.a.quiet) return;
    const el = (Date.now() - this.t0) / 1000;
    const ips = this.images / Math.max(el, 1e-9);
    const eta = ((this.a.totalSteps - this.done) * el) / this.stepsThisProcess;
    const line = `epoch ${epoch + 1}/${numEpochs} step ${step + 1}/${stepsPerEpoch} loss ${loss.toFixed(4)} ${ips.toFixed(0)} img/s ETA ${fmtTime(eta)}`;
    if (this.tty) {
      const frac = this.done / this.a.totalSteps;
      const width = 20;
      const bar = "#".repeat(Math.round(frac * width)).padEnd(width, ".");
      this.stream.write(`\r[${bar}] ${line}\x1b[K`);
    } else if ((step + 1) % this.a.every === 0 || step + 1 === stepsPerEpoch) {
      this.stream.write(`${line}\n`);
    }
  }

  /** A message on its own line (epoch summaries), without breaking the bar. */
  message(text: string): void {
    if (this.a.quiet) return;
    this.stream.write(`${(this.tty ? "\r\x1b[K" : "") + text}\n`);
  }

  imagesPerSecond(): number {
    return this.images / Math.max((Date.now() - this.t0) / 1000, 1e-9);
  }
}

/** "crt epoch 3/10  loss 1.2345  val top-1 45.67%  0.8 s/epoch  ETA 0:06" */
export function featureEpochLine(label: string, e: HeadEpochLog, p: HeadEpochProgress): string {
  const perEpoch = p.elapsedS / e.epoch;
  return (
    `${label} epoch ${e.epoch}/${p.epochs}  loss ${e.loss.toFixed(4)}  val top-1 ${(100 * e.valTop1).toFixed(2)}%  ` +
    `${perEpoch.toFixed(1)} s/epoch  ETA ${fmtTime(perEpoch * (p.epochs - e.epoch))}`
  );
}

/** An `onEpoch` callback that writes {@link featureEpochLine} to `write` (default: stderr, so stdout keeps the results). */
export function featureEpochPrinter(
  label: string,
  write: (line: string) => void = (l) => void process.stderr.write(`${l}\n`),
): (e: HeadEpochLog, p: HeadEpochProgress) => void {
  return (e, p) => write(featureEpochLine(label, e, p));
}
