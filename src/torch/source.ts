/**
 * Random-access byte sources for the PyTorch / pickle readers: a file read through positional reads (checkpoints
 * of 100-250 MB and feature pickles of several GB are never read whole), or bytes already in memory.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

export interface ByteSource {
  /** What the bytes are, for error messages (a path, or "<path>:<zip entry>"). */
  readonly name: string;
  readonly size: number;
  /** Copy `dest.byteLength` bytes starting at `pos` into `dest`; throws naming the source if it ends early. */
  readInto(pos: number, dest: Uint8Array): void;
  close(): void;
}

/** Largest single read (Node's per-call limit is 2 GiB). */
const CHUNK = 1 << 28;

export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number | null;

  constructor(readonly name: string) {
    try {
      this.fd = openSync(name, "r");
    } catch (e) {
      throw new Error(`${name}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    this.size = fstatSync(this.fd).size;
  }

  readInto(pos: number, dest: Uint8Array): void {
    if (this.fd === null) throw new Error(`${this.name}: read after close`);
    if (pos < 0 || pos + dest.byteLength > this.size)
      throw new Error(
        `${this.name}: truncated file: needs bytes ${pos}..${pos + dest.byteLength}, the file has ${this.size}`,
      );
    let done = 0;
    while (done < dest.byteLength) {
      const got = readSync(this.fd, dest, done, Math.min(CHUNK, dest.byteLength - done), pos + done);
      if (got === 0) throw new Error(`${this.name}: truncated file at offset ${pos + done}`);
      done += got;
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

export class MemorySource implements ByteSource {
  readonly size: number;
  constructor(
    readonly name: string,
    private readonly bytes: Uint8Array,
  ) {
    this.size = bytes.byteLength;
  }

  readInto(pos: number, dest: Uint8Array): void {
    if (pos < 0 || pos + dest.byteLength > this.size)
      throw new Error(
        `${this.name}: truncated data: needs bytes ${pos}..${pos + dest.byteLength}, there are ${this.size}`,
      );
    dest.set(this.bytes.subarray(pos, pos + dest.byteLength));
  }

  close(): void {}
}

/** A window [offset, offset+size) of another source (a stored zip entry). */
export class SliceSource implements ByteSource {
  constructor(
    readonly name: string,
    private readonly inner: ByteSource,
    private readonly offset: number,
    readonly size: number,
  ) {
    if (offset < 0 || offset + size > inner.size)
      throw new Error(`${name}: entry runs past the end of ${inner.name} (${offset}+${size} > ${inner.size})`);
  }

  readInto(pos: number, dest: Uint8Array): void {
    if (pos < 0 || pos + dest.byteLength > this.size)
      throw new Error(
        `${this.name}: truncated entry: needs bytes ${pos}..${pos + dest.byteLength}, it has ${this.size}`,
      );
    this.inner.readInto(this.offset + pos, dest);
  }

  close(): void {}
}

export function readBytes(src: ByteSource, pos: number, length: number): Uint8Array {
  const b = new Uint8Array(length);
  src.readInto(pos, b);
  return b;
}
