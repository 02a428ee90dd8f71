/**
 * A restricted Python unpickler: it rebuilds plain data (None, bools, ints, floats, str, bytes, tuples, lists,
 * dicts, sets) and only the few classes a PyTorch state dict or a NumPy array needs, each by a TypeScript
 * function in `ALLOWED` (see docs/ORIGINAL_CODE.md, "Pickles"). Any other global is refused with its name at the
 * GLOBAL / STACK_GLOBAL opcode, before anything is built: pickled code is never executed.
 *
 * Protocols 2 to 5 (in-band data only) are read; protocol 0/1 text opcodes that a binary pickler never emits are
 * refused. Large byte strings (the raw data of a NumPy array of features, up to gigabytes) are not read but kept
 * as a window of the source (`LazyBytes`) so that the array can be read straight into its destination.
 */
import type { ByteSource } from "./source.js";

/** A reference to a Python global (module.name) that the unpickler allowed. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}

/** dict and collections.OrderedDict (insertion order is kept either way); `attrs` holds BUILD state (e.g. `_metadata`). */
export class PyDict extends Map<unknown, unknown> {
  attrs: Record<string, unknown> = {};
  constructor(readonly pyClass: "dict" | "collections.OrderedDict" = "dict") {
    super();
  }
}

/** A byte string left in the source: `length` bytes at `offset`. */
export class LazyBytes {
  constructor(
    readonly src: ByteSource,
    readonly offset: number,
    readonly length: number,
  ) {}
  read(): Uint8Array {
    const b = new Uint8Array(this.length);
    this.src.readInto(this.offset, b);
    return b;
  }
}

/** An object that a BUILD opcode may give state to. */
export interface Buildable {
  setState(state: unknown, where: string): void;
}

/** What a REDUCE / NEWOBJ on an allowed global produces. */
export type Constructor = (args: unknown[], where: string) => unknown;

export interface UnpickleOptions {
  /** Constructors by "module.name"; globals not listed here (nor in `markers`) are refused. */
  constructors: Record<string, Constructor>;
  /** Globals that may appear only as values (e.g. torch.FloatStorage inside a persistent id). */
  markers?: ReadonlySet<string>;
  /** Called for BINPERSID; absent = persistent ids are refused. */
  persistentLoad?: (pid: unknown) => unknown;
  /** Byte strings at least this long are returned as LazyBytes (default 1 MiB). */
  lazyBytes?: number;
}

export class PickleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PickleError";
  }
}

const _MARK = Symbol("mark");
const WINDOW = 1 << 20;

/** Buffered sequential reader over a ByteSource, tracking the absolute position. */
class Reader {
  private buf = new Uint8Array(0);
  private bufStart = 0;
  constructor(
    readonly src: ByteSource,
    public pos: number,
  ) {}

  private fill(n: number): void {
    const start = this.pos;
    const len = Math.min(Math.max(n, WINDOW), this.src.size - start);
    if (len < n)
      throw new PickleError(
        `${this.src.name}: pickle data ends early at offset ${this.src.size} (needed ${n} bytes at ${start})`,
      );
    this.buf = new Uint8Array(len);
    this.src.readInto(start, this.buf);
    this.bufStart = start;
  }

  bytes(n: number): Uint8Array {
    const off = this.pos - this.bufStart;
    if (off < 0 || off + n > this.buf.length) this.fill(n);
    const o = this.pos - this.bufStart;
    this.pos += n;
    return this.buf.subarray(o, o + n);
  }

  byte(): number {
    return this.bytes(1)[0];
  }

  u16(): number {
    const b = this.bytes(2);
    return b[0] | (b[1] << 8);
  }

  u32(): number {
    const b = this.bytes(4);
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }

  i32(): number {
    const b = this.bytes(4);
    return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
  }

  u64(): number {
    const b = this.bytes(8);
    const v = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new PickleError(`${this.src.name}: length ${v} too large`);
    return Number(v);
  }

  f64be(): number {
    const b = this.bytes(8);
    return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, false);
  }

  line(): string {
    const parts: number[] = [];
    for (;;) {
      const c = this.byte();
      if (c === 0x0a) break;
      parts.push(c);
      if (parts.length > 4096) throw new PickleError(`${this.src.name}: text line too long at offset ${this.pos}`);
    }
    return String.fromCharCode(...parts);
  }

  skip(n: number): void {
    if (this.pos + n > this.src.size)
      throw new PickleError(`${this.src.name}: pickle data ends early (a ${n}-byte string at offset ${this.pos})`);
    this.pos += n;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Two's-complement little-endian integer of LONG1 / LONG4: a number when it is safe, else a bigint. */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export interface UnpickleResult {
  value: unknown;
  /** Offset just past the STOP opcode (where a following pickle starts). */
  end: number;
}

/** Unpickle one pickle starting at `start` of `src`. */
export function unpickle(src: ByteSource, opts: UnpickleOptions, start = 0): UnpickleResult {
  const r = new Reader(src, start);
  const where = src.name;
  const lazyAt = opts.lazyBytes ?? 1 << 20;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const fail = (msg: string): never => {
    throw new PickleError(`${where}: ${msg}`);
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1]))
      fail(`corrupt pickle: stack underflow at offset ${r.pos}`);
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail(`corrupt pickle: empty stack at offset ${r.pos}`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail(`corrupt pickle: no MARK at offset ${r.pos}`);
    return stack.splice(m!);
  };
  const bytesOf = (n: number): Uint8Array | LazyBytes => {
    if (n >= lazyAt) {
      const lb = new LazyBytes(src, r.pos, n);
      r.skip(n);
      return lb;
    }
    return Uint8Array.from(r.bytes(n));
  };
  const str = (n: number): string => {
    const b = r.bytes(n);
    try {
      return utf8.decode(b);
    } catch {
      return fail(`invalid UTF-8 string at offset ${r.pos - n}`);
    }
  };
  const global = (module: string, name: string): PyGlobal => {
    const q = `${module}.${name}`;
    if (!(q in opts.constructors) && !opts.markers?.has(q)) {
      const allowed = [...Object.keys(opts.constructors), ...(opts.markers ?? [])].sort().join(", ");
      fail(
        `refusing to load the Python global '${q}': only what a PyTorch state dict or a NumPy array needs is allowed (${allowed}); nothing in the file was executed`,
      );
    }
    return new PyGlobal(module, name);
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof PyGlobal)) return fail(`corrupt pickle: REDUCE on a ${typeof fn} at offset ${r.pos}`);
    const ctor = opts.constructors[fn.qualname];
    if (!ctor) return fail(`'${fn.qualname}' may only appear as a value, not be called (offset ${r.pos})`);
    if (!Array.isArray(args)) return fail(`corrupt pickle: arguments of ${fn.qualname} are not a tuple`);
    return ctor(args, where);
  };
  const setItems = (d: unknown, items: unknown[]): void => {
    if (!(d instanceof Map)) fail(`corrupt pickle: SETITEM on a non-dict at offset ${r.pos}`);
    if (items.length % 2) fail(`corrupt pickle: odd SETITEMS at offset ${r.pos}`);
    for (let i = 0; i < items.length; i += 2) (d as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };

  for (;;) {
    const op = r.byte();
    switch (op) {
      case 0x80: {
        // PROTO
        const v = r.byte();
        if (v < 2 || v > 5) fail(`pickle protocol ${v} is not supported (2 to 5 are)`);
        break;
      }
      case 0x95: // FRAME: a length prefix only
        r.bytes(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) fail(`corrupt pickle: ${stack.length} values on the stack at STOP`);
        return { value: stack[0], end: r.pos };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length && marks[marks.length - 1] === stack.length) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x4a:
        stack.push(r.i32());
        break; // BININT
      case 0x4b:
        stack.push(r.byte());
        break; // BININT1
      case 0x4d:
        stack.push(r.u16());
        break; // BININT2
      case 0x8a:
        stack.push(decodeLong(Uint8Array.from(r.bytes(r.byte()))));
        break; // LONG1
      case 0x8b:
        stack.push(decodeLong(Uint8Array.from(r.bytes(r.u32()))));
        break; // LONG4
      case 0x47:
        stack.push(r.f64be());
        break; // BINFLOAT
      case 0x49: {
        // INT (text; also True/False as 01/00)
        const t = r.line();
        stack.push(t === "01" ? true : t === "00" ? false : Number.parseInt(t, 10));
        break;
      }
      case 0x58:
        stack.push(str(r.u32()));
        break; // BINUNICODE
      case 0x8c:
        stack.push(str(r.byte()));
        break; // SHORT_BINUNICODE
      case 0x8d:
        stack.push(str(r.u64()));
        break; // BINUNICODE8
      case 0x55:
        stack.push(String.fromCharCode(...r.bytes(r.byte())));
        break; // SHORT_BINSTRING (Python 2 str)
      case 0x54:
        stack.push(String.fromCharCode(...r.bytes(r.u32())));
        break; // BINSTRING
      case 0x43:
        stack.push(bytesOf(r.byte()));
        break; // SHORT_BINBYTES
      case 0x42:
        stack.push(bytesOf(r.u32()));
        break; // BINBYTES
      case 0x8e:
        stack.push(bytesOf(r.u64()));
        break; // BINBYTES8
      case 0x96:
        stack.push(bytesOf(r.u64()));
        break; // BYTEARRAY8
      case 0x29:
        stack.push([]);
        break; // EMPTY_TUPLE
      case 0x74:
        stack.push(popMark());
        break; // TUPLE
      case 0x85:
        stack.push([pop()]);
        break; // TUPLE1
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x6c:
        stack.push(popMark());
        break; // LIST
      case 0x61: {
        // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) fail(`corrupt pickle: APPEND to a non-list at offset ${r.pos}`);
        (l as unknown[]).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) fail(`corrupt pickle: APPENDS to a non-list at offset ${r.pos}`);
        (l as unknown[]).push(...items);
        break;
      }
      case 0x7d:
        stack.push(new PyDict());
        break; // EMPTY_DICT
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f:
        stack.push(new Set());
        break; // EMPTY_SET
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail(`corrupt pickle: ADDITEMS to a non-set at offset ${r.pos}`);
        for (const it of items) (s as Set<unknown>).add(it);
        break;
      }
      case 0x91:
        stack.push(new Set(popMark()));
        break; // FROZENSET
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = r.line();
        stack.push(global(module, r.line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string")
          fail(`corrupt pickle: STACK_GLOBAL needs two strings at offset ${r.pos}`);
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (kwargs instanceof Map && kwargs.size > 0)
          fail(`keyword arguments to ${(cls as PyGlobal)?.qualname} are not supported`);
        stack.push(call(cls, args));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) {
          // OrderedDict with instance attributes (a state dict's `_metadata`): a dict of attributes, or (dict, slots).
          const d = Array.isArray(state) ? state[0] : state;
          if (d instanceof Map) for (const [k, v] of d) obj.attrs[String(k)] = v;
        } else if (obj && typeof (obj as Buildable).setState === "function") {
          (obj as Buildable).setState(state, where);
        } else fail(`corrupt pickle: BUILD on a value that takes no state at offset ${r.pos}`);
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail(`the pickle refers to external data (a persistent id) where none is expected`);
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      case 0x71:
        memo.set(r.byte(), top());
        break; // BINPUT
      case 0x72:
        memo.set(r.u32(), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x70:
        memo.set(Number.parseInt(r.line(), 10), top());
        break; // PUT
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: {
        // GET
        const i = op === 0x68 ? r.byte() : op === 0x6a ? r.u32() : Number.parseInt(r.line(), 10);
        if (!memo.has(i)) fail(`corrupt pickle: memo entry ${i} is missing at offset ${r.pos}`);
        stack.push(memo.get(i));
        break;
      }
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        fail(`out-of-band buffers (pickle protocol 5 with buffer_callback) are not supported; pickle with protocol 4`);
        break;
      case 0x69: // INST
      case 0x6f: // OBJ
      case 0x82: // EXT1
      case 0x83:
      case 0x84:
        fail(`pickle opcode 0x${op.toString(16)} (class instantiation by name / extension registry) is not supported`);
        break;
      default:
        fail(
          `unsupported or corrupt pickle opcode 0x${op.toString(16)} at offset ${r.pos - 1}; is this a pickle (protocol 2 or higher)?`,
        );
    }
  }
}
