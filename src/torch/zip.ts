/**
 * A minimal zip reader for PyTorch's checkpoint format (torch.save since 1.6): it lists the central directory and
 * opens *stored* (uncompressed) entries as byte windows of the file, which is how torch writes every entry
 * (docs/ORIGINAL_CODE.md, "Checkpoint files"). Zip64 records are understood; compressed entries are refused by name.
 */
import { type ByteSource, readBytes, SliceSource } from "./source.js";

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

/** True when the source starts with a zip local-file header ("PK\x03\x04"). */
export function isZip(src: ByteSource): boolean {
  if (src.size < 4) return false;
  return new DataView(readBytes(src, 0, 4).buffer).getUint32(0, true) === SIG_LOCAL;
}

function u64(dv: DataView, off: number, what: string): number {
  const v = dv.getBigUint64(off, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`zip: ${what} ${v} is too large`);
  return Number(v);
}

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();

  constructor(readonly src: ByteSource) {
    const tailLen = Math.min(src.size, 22 + 0xffff);
    const tailStart = src.size - tailLen;
    const tail = readBytes(src, tailStart, tailLen);
    const dv = new DataView(tail.buffer);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (dv.getUint32(i, true) === SIG_EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${src.name}: not a zip file (no end-of-central-directory record)`);
    let count = dv.getUint16(eocd + 10, true);
    let cdSize = dv.getUint32(eocd + 12, true);
    let cdOffset = dv.getUint32(eocd + 16, true);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || dv.getUint32(loc, true) !== SIG_EOCD64_LOCATOR)
        throw new Error(`${src.name}: zip64 fields without a zip64 locator`);
      const recOff = u64(dv, loc + 8, "zip64 record offset");
      const rec = new DataView(readBytes(src, recOff, 56).buffer);
      if (rec.getUint32(0, true) !== SIG_EOCD64)
        throw new Error(`${src.name}: bad zip64 end-of-central-directory record`);
      count = u64(rec, 32, "entry count");
      cdSize = u64(rec, 40, "central directory size");
      cdOffset = u64(rec, 48, "central directory offset");
    }
    const cd = readBytes(src, cdOffset, cdSize);
    const c = new DataView(cd.buffer);
    let p = 0;
    const dec = new TextDecoder("utf-8");
    for (let k = 0; k < count; k++) {
      if (p + 46 > cd.length || c.getUint32(p, true) !== SIG_CENTRAL)
        throw new Error(`${src.name}: corrupt zip central directory at entry ${k}`);
      const method = c.getUint16(p + 10, true);
      let compressedSize = c.getUint32(p + 20, true);
      let size = c.getUint32(p + 24, true);
      const nameLen = c.getUint16(p + 28, true);
      const extraLen = c.getUint16(p + 30, true);
      const commentLen = c.getUint16(p + 32, true);
      let localHeaderOffset = c.getUint32(p + 42, true);
      const name = dec.decode(cd.subarray(p + 46, p + 46 + nameLen));
      // Zip64 extended information (header id 1): the 64-bit values of the fields saturated above, in order.
      let e = p + 46 + nameLen;
      const end = e + extraLen;
      while (e + 4 <= end) {
        const id = c.getUint16(e, true);
        const len = c.getUint16(e + 2, true);
        if (id === 1) {
          let q = e + 4;
          if (size === 0xffffffff) (size = u64(c, q, "entry size")), (q += 8);
          if (compressedSize === 0xffffffff) (compressedSize = u64(c, q, "entry size")), (q += 8);
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = u64(c, q, "entry offset");
        }
        e += 4 + len;
      }
      this.entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
      p = end + commentLen;
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** A stored entry as a byte window of the file (no copy). */
  open(name: string): ByteSource {
    const e = this.entries.get(name);
    if (!e) throw new Error(`${this.src.name}: no entry '${name}' in the zip archive`);
    if (e.method !== 0)
      throw new Error(
        `${this.src.name}: entry '${name}' is compressed (method ${e.method}); PyTorch writes stored entries only — was the file re-zipped? Save it again with torch.save`,
      );
    const lh = new DataView(readBytes(this.src, e.localHeaderOffset, 30).buffer);
    if (lh.getUint32(0, true) !== SIG_LOCAL) throw new Error(`${this.src.name}: bad local header for '${name}'`);
    const dataStart = e.localHeaderOffset + 30 + lh.getUint16(26, true) + lh.getUint16(28, true);
    return new SliceSource(`${this.src.name}:${name}`, this.src, dataStart, e.size);
  }
}
