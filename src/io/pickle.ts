/**
 * Owns reading the pickle inside a torch.save file (`<folder>/data.pkl`) as DATA: a restricted
 * unpickler in the spirit of torch.load(weights_only=True) (torch/_weights_only_unpickler.py), but
 * stricter, and one that can never run anything because it has nothing to run with.
 *
 * What it accepts is exactly what a state_dict of tensors (or a checkpoint dict holding one) is
 * pickled with:
 *   - opcodes for None/bool/int/float/str, tuples, lists, dicts, the mark stack, the memo, FRAME,
 *     BINPERSID (torch's storage references), REDUCE, GLOBAL/STACK_GLOBAL, BUILD and STOP;
 *   - globals: collections.OrderedDict, torch._utils._rebuild_tensor(_v2),
 *     torch._utils._rebuild_parameter(_with_state), and torch.<Type>Storage as a storage's dtype.
 * A GLOBAL naming anything else is refused on the spot, naming it (`os.system`, `builtins.eval`,
 * `torch.nn.modules.rnn.GRU` from a torch.save(model), ...), as is any other opcode. REDUCE only
 * "applies" the whitelisted functions above, each implemented here as a pure builder of a plain
 * object (a TensorRef is a description of a view into a storage, nothing more).
 *
 * Bounds, so a hostile or corrupt pickle costs no more than its size: every length is checked
 * against the bytes present before anything is read; LONG1 past 64 bits is refused; the value stack,
 * the mark stack and the memo are capped; and the only walk over the result (flattenTensors) has a
 * depth limit and a visit budget, so deep nesting, cycles made through the memo, and DAGs that
 * would explode into exponentially many paths all end in one clear error.
 */
import { constants as bufferConstants } from 'node:buffer';
import { GruCheckError, type ErrorCode } from '../errors.js';
import { showName } from './text.js';

/** A storage's element type, from the torch.<Type>Storage global in its persistent id. */
export type StorageDType = 'float16' | 'bfloat16' | 'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'bool';

/** What BINPERSID produces: a reference to `<folder>/data/<key>` holding `numel` elements. */
export interface StorageRef {
  kind: 'storage';
  dtype: StorageDType;
  key: string;
  location: string;
  numel: number;
}

/** What _rebuild_tensor_v2 produces: a strided view into a storage (nothing is read yet). */
export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  offset: number;
  size: number[];
  stride: number[];
}

export interface PyList {
  kind: 'list';
  items: PickleValue[];
}
export interface PyTuple {
  kind: 'tuple';
  items: PickleValue[];
}
export interface PyDict {
  kind: 'dict';
  /** True for collections.OrderedDict (a state_dict), false for a plain dict. */
  ordered: boolean;
  map: Map<PickleValue, PickleValue>;
}
/** A whitelisted global, as a name: only REDUCE (or a persistent id) gives it meaning. */
export interface PyGlobal {
  kind: 'global';
  qualname: string;
}

export type PickleValue = null | boolean | number | bigint | string | PyList | PyTuple | PyDict | PyGlobal | StorageRef | TensorRef;

export interface UnpickleOptions {
  /** How messages name the pickle, e.g. `member 'gru/data.pkl'`. Default: `pickle`. */
  label?: string;
}

/** torch.<Type>Storage -> element type. Complex and quantized storages are not listed: refused. */
export const STORAGE_TYPES: Readonly<Record<string, StorageDType>> = {
  'torch.HalfStorage': 'float16',
  'torch.BFloat16Storage': 'bfloat16',
  'torch.FloatStorage': 'float32',
  'torch.DoubleStorage': 'float64',
  'torch.CharStorage': 'int8',
  'torch.ShortStorage': 'int16',
  'torch.IntStorage': 'int32',
  'torch.LongStorage': 'int64',
  'torch.ByteStorage': 'uint8',
  'torch.BoolStorage': 'bool',
};

const REBUILDERS = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
]);

/** Caps. A real state_dict's pickle keeps a few dozen values on the stack (SETITEMS batches 1000). */
const MAX_STACK = 100_000;
const MAX_MARKS = 1_000;
const MAX_MEMO = 1_000_000;
const MAX_DIMS = 64;

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

const MARK = Symbol('mark');
type Slot = PickleValue | typeof MARK;

const utf8 = new TextDecoder('utf-8', { fatal: true });

const MAX_STRING_LENGTH = bufferConstants.MAX_STRING_LENGTH;

/**
 * Why decoding `n` bytes of a pickle string failed, in words: bytes that are not UTF-8 (the
 * decoder's TypeError), or a valid string longer than a JavaScript string can hold (V8's
 * "Cannot create a string longer than ..."), which must not be reported as "not valid UTF-8".
 */
export function utf8Failure(e: unknown, n: number, what: string, maxChars = MAX_STRING_LENGTH): string {
  if ((e as NodeJS.ErrnoException)?.code === 'ERR_ENCODING_INVALID_ENCODED_DATA') return `${what} is not valid UTF-8`;
  if (n > maxChars || /string longer than|Invalid string length/i.test((e as Error)?.message ?? '')) {
    return `${what} is a string of ${n.toLocaleString('en-US')} bytes, longer than a JavaScript string can hold (${maxChars.toLocaleString('en-US')} characters); no state_dict name is that long`;
  }
  return `${what} cannot be decoded as UTF-8 (${(e as Error)?.name ?? 'error'})`;
}

/**
 * Read one pickle into plain values. Throws only GruCheckError: PICKLE_REFUSED for a global or
 * opcode outside the whitelist, BAD_PICKLE for anything malformed.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions = {}): PickleValue {
  return new Unpickler(bytes, options.label ?? 'pickle').run();
}

class Unpickler {
  private pos = 0;
  private readonly dv: DataView;
  private stack: Slot[] = [];
  private marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();

  constructor(
    private readonly b: Uint8Array,
    private readonly label: string,
  ) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  private fail(code: ErrorCode, what: string, at = this.pos): never {
    throw new GruCheckError(code, `${this.label}: ${what} (at byte ${at})`);
  }

  /** Reserve n bytes, checking they are there before anything reads or allocates for them. */
  private take(n: number, what: string): number {
    if (n > this.b.length - this.pos) {
      this.fail('BAD_PICKLE', `pickle ends inside ${what} (needs ${n} bytes, ${this.b.length - this.pos} left)`);
    }
    const p = this.pos;
    this.pos += n;
    return p;
  }

  private push(v: PickleValue): void {
    if (this.stack.length >= MAX_STACK) this.fail('BAD_PICKLE', `pickle stack grows past ${MAX_STACK} values`);
    this.stack.push(v);
  }

  private pop(what: string): PickleValue {
    const v = this.stack.pop();
    if (v === undefined) this.fail('BAD_PICKLE', `${what} on an empty stack`);
    if (v === MARK) this.fail('BAD_PICKLE', `${what} found a MARK where a value was expected`);
    return v;
  }

  private top(what: string): PickleValue {
    const v = this.stack[this.stack.length - 1];
    if (v === undefined || v === MARK) this.fail('BAD_PICKLE', `${what} needs a value on the stack`);
    return v;
  }

  /** Values since the last MARK, which is removed. */
  private popMark(what: string): PickleValue[] {
    const m = this.marks.pop();
    if (m === undefined) this.fail('BAD_PICKLE', `${what} without a MARK`);
    const items = this.stack.splice(m);
    if (items[0] !== MARK) this.fail('BAD_PICKLE', `${what}: the mark stack and value stack disagree`);
    items.shift();
    if (items.some((v) => v === MARK)) this.fail('BAD_PICKLE', `${what}: stray MARK among its values`);
    return items as PickleValue[];
  }

  private str(n: number, what: string): string {
    const p = this.take(n, what);
    try {
      return utf8.decode(this.b.subarray(p, p + n));
    } catch (e) {
      this.fail('BAD_PICKLE', utf8Failure(e, n, what), p);
    }
  }

  /** A GLOBAL's "module\nname\n" line: ASCII-ish, bounded, read without allocating past the data. */
  private line(what: string): string {
    const end = this.b.indexOf(0x0a, this.pos);
    if (end < 0 || end - this.pos > 256) this.fail('BAD_PICKLE', `${what} is not a line of at most 256 bytes`);
    const s = this.str(end - this.pos, what);
    this.pos++; // the newline
    return s;
  }

  private memoPut(index: number, at: number): void {
    if (this.memo.size >= MAX_MEMO && !this.memo.has(index)) this.fail('BAD_PICKLE', `pickle memo grows past ${MAX_MEMO} entries`, at);
    this.memo.set(index, this.top('memo put'));
  }

  private memoGet(index: number, at: number): void {
    const v = this.memo.get(index);
    if (v === undefined) this.fail('BAD_PICKLE', `memo index ${index} was never stored`, at);
    this.push(v);
  }

  run(): PickleValue {
    const b = this.b;
    const dv = this.dv;
    if (b.length === 0) this.fail('BAD_PICKLE', 'pickle is empty', 0);
    for (;;) {
      if (this.pos >= b.length) this.fail('BAD_PICKLE', 'pickle ends before its STOP opcode');
      const at = this.pos;
      const op = b[this.pos++]!;
      switch (op) {
        case 0x80: {
          // PROTO
          const v = b[this.take(1, 'PROTO')]!;
          if (v < 2 || v > 5) this.fail('BAD_PICKLE', `pickle protocol ${v}: expected 2 to 5`, at);
          break;
        }
        case 0x95: {
          // FRAME: a length hint only; the frame must lie within the bytes present.
          const p = this.take(8, 'FRAME');
          const n = dv.getBigUint64(p, true);
          if (n > BigInt(b.length - this.pos)) this.fail('BAD_PICKLE', `FRAME of ${n} bytes runs past the end of the pickle`, at);
          break;
        }
        case 0x2e: {
          // STOP
          const v = this.pop('STOP');
          if (this.stack.length !== 0 || this.marks.length !== 0) {
            this.fail('BAD_PICKLE', `STOP leaves ${this.stack.length} values on the stack`, at);
          }
          return v;
        }
        case 0x28: // MARK
          if (this.marks.length >= MAX_MARKS) this.fail('BAD_PICKLE', `MARKs nested deeper than ${MAX_MARKS}`, at);
          if (this.stack.length >= MAX_STACK) this.fail('BAD_PICKLE', `pickle stack grows past ${MAX_STACK} values`, at);
          this.marks.push(this.stack.length);
          this.stack.push(MARK);
          break;
        case 0x7d: // EMPTY_DICT
          this.push({ kind: 'dict', ordered: false, map: new Map() });
          break;
        case 0x5d: // EMPTY_LIST
          this.push({ kind: 'list', items: [] });
          break;
        case 0x29: // EMPTY_TUPLE
          this.push({ kind: 'tuple', items: [] });
          break;
        case 0x74: // TUPLE
          this.push({ kind: 'tuple', items: this.popMark('TUPLE') });
          break;
        case 0x85:
        case 0x86:
        case 0x87: {
          // TUPLE1..3
          const n = op - 0x84;
          const items: PickleValue[] = [];
          for (let i = 0; i < n; i++) items.unshift(this.pop(`TUPLE${n}`));
          this.push({ kind: 'tuple', items });
          break;
        }
        case 0x58: {
          // BINUNICODE
          const n = dv.getUint32(this.take(4, 'BINUNICODE length'), true);
          this.push(this.str(n, 'BINUNICODE string'));
          break;
        }
        case 0x8d: {
          // BINUNICODE8
          const n = dv.getBigUint64(this.take(8, 'BINUNICODE8 length'), true);
          if (n > BigInt(b.length - this.pos)) this.fail('BAD_PICKLE', `BINUNICODE8 string of ${n} bytes runs past the end of the pickle`, at);
          this.push(this.str(Number(n), 'BINUNICODE8 string'));
          break;
        }
        case 0x8c: {
          // SHORT_BINUNICODE
          const n = b[this.take(1, 'SHORT_BINUNICODE length')]!;
          this.push(this.str(n, 'SHORT_BINUNICODE string'));
          break;
        }
        case 0x4a: // BININT
          this.push(dv.getInt32(this.take(4, 'BININT'), true));
          break;
        case 0x4b: // BININT1
          this.push(b[this.take(1, 'BININT1')]!);
          break;
        case 0x4d: // BININT2
          this.push(dv.getUint16(this.take(2, 'BININT2'), true));
          break;
        case 0x8a: {
          // LONG1: little-endian two's complement of n bytes; more than 64 bits is never a tensor's.
          const n = b[this.take(1, 'LONG1 length')]!;
          if (n > 8) this.fail('BAD_PICKLE', `LONG1 integer of ${n} bytes: expected at most 8`, at);
          const p = this.take(n, 'LONG1');
          let v = 0n;
          for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[p + i]!);
          if (n > 0 && b[p + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
          this.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
          break;
        }
        case 0x47: // BINFLOAT (big-endian double)
          this.push(dv.getFloat64(this.take(8, 'BINFLOAT'), false));
          break;
        case 0x4e: // NONE
          this.push(null);
          break;
        case 0x88: // NEWTRUE
          this.push(true);
          break;
        case 0x89: // NEWFALSE
          this.push(false);
          break;
        case 0x71: // BINPUT
          this.memoPut(b[this.take(1, 'BINPUT')]!, at);
          break;
        case 0x72: // LONG_BINPUT
          this.memoPut(dv.getUint32(this.take(4, 'LONG_BINPUT'), true), at);
          break;
        case 0x94: // MEMOIZE
          this.memoPut(this.memo.size, at);
          break;
        case 0x68: // BINGET
          this.memoGet(b[this.take(1, 'BINGET')]!, at);
          break;
        case 0x6a: // LONG_BINGET
          this.memoGet(dv.getUint32(this.take(4, 'LONG_BINGET'), true), at);
          break;
        case 0x73: {
          // SETITEM
          const v = this.pop('SETITEM');
          const k = this.pop('SETITEM');
          this.dictOf('SETITEM', at).map.set(k, v);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = this.popMark('SETITEMS');
          if (items.length % 2) this.fail('BAD_PICKLE', 'SETITEMS with an odd number of values', at);
          const d = this.dictOf('SETITEMS', at);
          for (let i = 0; i < items.length; i += 2) d.map.set(items[i]!, items[i + 1]!);
          break;
        }
        case 0x61: {
          // APPEND
          const v = this.pop('APPEND');
          this.listOf('APPEND', at).items.push(v);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = this.popMark('APPENDS');
          const l = this.listOf('APPENDS', at);
          for (const v of items) l.items.push(v);
          break;
        }
        case 0x51: // BINPERSID
          this.push(this.storage(this.pop('BINPERSID'), at));
          break;
        case 0x52: {
          // REDUCE
          const args = this.pop('REDUCE');
          const fn = this.pop('REDUCE');
          this.push(this.reduce(fn, args, at));
          break;
        }
        case 0x63: {
          // GLOBAL
          const module = this.line('GLOBAL module');
          const name = this.line('GLOBAL name');
          this.push(this.global(module, name, at));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = this.pop('STACK_GLOBAL');
          const module = this.pop('STACK_GLOBAL');
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('BAD_PICKLE', 'STACK_GLOBAL needs two strings', at);
          this.push(this.global(module, name, at));
          break;
        }
        case 0x62: {
          // BUILD: only the state torch attaches to a state_dict (`_metadata`) or to a tensor; ignored.
          const state = this.pop('BUILD');
          const target = this.top('BUILD');
          const ok = typeof target === 'object' && target !== null && (target.kind === 'dict' || target.kind === 'tensor');
          if (!ok) this.fail('PICKLE_REFUSED', `refusing BUILD on ${describe(target)}: only OrderedDict and tensor state is read`, at);
          if (!(state === null || (typeof state === 'object' && (state.kind === 'dict' || state.kind === 'tuple')))) {
            this.fail('BAD_PICKLE', `BUILD state is ${describe(state)}, expected a dict`, at);
          }
          break;
        }
        case 0x30: // POP
          if (this.stack[this.stack.length - 1] === MARK) this.popMark('POP');
          else this.pop('POP');
          break;
        default: {
          const name = OPCODE_NAMES[op];
          const what = name ? `pickle opcode ${name} (0x${op.toString(16)})` : `byte 0x${op.toString(16).padStart(2, '0')}, not a pickle opcode`;
          if (name) this.fail('PICKLE_REFUSED', `refusing ${what}: only the opcodes of a state_dict of tensors are read`, at);
          this.fail('BAD_PICKLE', `expected a pickle opcode, got ${what}`, at);
        }
      }
    }
  }

  private dictOf(what: string, at: number): PyDict {
    const d = this.top(what);
    if (typeof d !== 'object' || d === null || d.kind !== 'dict') this.fail('BAD_PICKLE', `${what} on ${describe(d)}, expected a dict`, at);
    return d;
  }

  private listOf(what: string, at: number): PyList {
    const l = this.top(what);
    if (typeof l !== 'object' || l === null || l.kind !== 'list') this.fail('BAD_PICKLE', `${what} on ${describe(l)}, expected a list`, at);
    return l;
  }

  private global(module: string, name: string, at: number): PyGlobal {
    const qualname = `${module}.${name}`;
    if (REBUILDERS.has(qualname) || qualname in STORAGE_TYPES) return { kind: 'global', qualname };
    const why = qualname === 'torch.UntypedStorage' || qualname === 'torch.storage.UntypedStorage' ? ' (an untyped storage: its dtype is unknown)' : '';
    throw new GruCheckError(
      'PICKLE_REFUSED',
      `${this.label}: refusing pickle global ${showName(qualname)}${why}: only tensors and OrderedDict are read, as in a state_dict (at byte ${at})`,
      { hint: 'nothing from the file was run; save the weights with torch.save(model.state_dict(), path)' },
    );
  }

  /** ('storage', torch.<T>Storage, key, location, numel) -> a StorageRef; anything else refused. */
  private storage(pid: PickleValue, at: number): StorageRef {
    const t = pid !== null && typeof pid === 'object' && pid.kind === 'tuple' ? pid.items : undefined;
    if (!t || t.length !== 5 || t[0] !== 'storage') {
      this.fail('PICKLE_REFUSED', `refusing persistent id ${describe(pid)}: expected ('storage', type, key, location, numel)`, at);
    }
    const [, type, key, location, numel] = t as [string, PickleValue, PickleValue, PickleValue, PickleValue];
    const dtype = typeof type === 'object' && type !== null && type.kind === 'global' ? STORAGE_TYPES[type.qualname] : undefined;
    if (!dtype) this.fail('PICKLE_REFUSED', `storage type ${describe(type)} is not a float, int or bool storage`, at);
    if (typeof key !== 'string' || !/^[A-Za-z0-9_]{1,64}$/.test(key)) {
      this.fail('BAD_PICKLE', `storage key ${describe(key)}: expected a short alphanumeric string`, at);
    }
    if (typeof location !== 'string') this.fail('BAD_PICKLE', `storage location ${describe(location)}: expected a string`, at);
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
      this.fail('BAD_PICKLE', `storage numel ${describe(numel)}: expected a non-negative integer`, at);
    }
    return { kind: 'storage', dtype, key, location, numel };
  }

  /** REDUCE: apply a whitelisted builder to its args. Nothing else can be applied. */
  private reduce(fn: PickleValue, argsV: PickleValue, at: number): PickleValue {
    if (typeof fn !== 'object' || fn === null || fn.kind !== 'global' || !REBUILDERS.has(fn.qualname)) {
      this.fail('PICKLE_REFUSED', `refusing REDUCE of ${describe(fn)}: only tensor rebuilders and OrderedDict are applied`, at);
    }
    if (typeof argsV !== 'object' || argsV === null || argsV.kind !== 'tuple') this.fail('BAD_PICKLE', `REDUCE arguments are ${describe(argsV)}, expected a tuple`, at);
    const args = argsV.items;
    const need = (lo: number, hi: number): void => {
      if (args.length < lo || args.length > hi) {
        this.fail('BAD_PICKLE', `${fn.qualname} takes ${lo === hi ? lo : `${lo} to ${hi}`} arguments, got ${args.length}`, at);
      }
    };
    switch (fn.qualname) {
      case 'collections.OrderedDict':
        need(0, 0);
        return { kind: 'dict', ordered: true, map: new Map() };
      case 'torch._utils._rebuild_tensor':
        need(4, 4);
        return this.tensor(args, at);
      case 'torch._utils._rebuild_tensor_v2':
        // (storage, offset, size, stride, requires_grad, backward_hooks[, metadata])
        need(6, 7);
        return this.tensor(args, at);
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state': {
        // (data, requires_grad, backward_hooks[, state]): a Parameter is its data.
        need(fn.qualname.endsWith('_state') ? 4 : 3, fn.qualname.endsWith('_state') ? 4 : 3);
        const data = args[0]!;
        if (typeof data !== 'object' || data === null || data.kind !== 'tensor') this.fail('BAD_PICKLE', `${fn.qualname} of ${describe(data)}, expected a tensor`, at);
        return data;
      }
    }
    this.fail('PICKLE_REFUSED', `refusing REDUCE of ${fn.qualname}`, at);
  }

  private tensor(args: PickleValue[], at: number): TensorRef {
    const [storage, offset, size, stride] = args;
    if (typeof storage !== 'object' || storage === null || storage.kind !== 'storage') {
      this.fail('BAD_PICKLE', `tensor storage is ${describe(storage ?? null)}, expected a storage reference`, at);
    }
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
      this.fail('BAD_PICKLE', `tensor storage offset ${describe(offset ?? null)}: expected a non-negative integer`, at);
    }
    const ints = (v: PickleValue | undefined, what: string): number[] => {
      const items = typeof v === 'object' && v !== null && (v.kind === 'tuple' || v.kind === 'list') ? v.items : undefined;
      if (!items || items.length > MAX_DIMS || items.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
        this.fail('BAD_PICKLE', `tensor ${what} ${describe(v ?? null)}: expected a tuple of at most ${MAX_DIMS} non-negative integers`, at);
      }
      return items as number[];
    };
    const s = ints(size, 'size');
    const st = ints(stride, 'stride');
    if (s.length !== st.length) this.fail('BAD_PICKLE', `tensor size has ${s.length} dims but stride has ${st.length}`, at);
    return { kind: 'tensor', storage, offset, size: s, stride: st };
  }
}

/** A short, safe description of a value for messages (never its full contents). */
export function describe(v: PickleValue): string {
  if (v === null) return 'None';
  switch (typeof v) {
    case 'boolean':
      return v ? 'True' : 'False';
    case 'number':
    case 'bigint':
      return String(v);
    case 'string':
      return `'${showName(v, 40)}'`;
  }
  switch (v.kind) {
    case 'global':
      return showName(v.qualname);
    case 'storage':
      return `a ${v.dtype} storage`;
    case 'tensor':
      return 'a tensor';
    case 'dict':
      return v.ordered ? 'an OrderedDict' : 'a dict';
    case 'list':
      return 'a list';
    case 'tuple':
      return `a ${v.items.length}-tuple`;
  }
}

export interface FlattenOptions {
  /** Name for a tensor at the top level (torch.save(tensor)); default 'tensor'. */
  rootName?: string;
  /** Deepest nesting of dicts/lists walked into. */
  maxDepth?: number;
  /** Most container entries visited in total (bounds DAGs that fan out through the memo). */
  maxVisits?: number;
  label?: string;
}

/**
 * Every tensor in an unpickled value, named by its path: a state_dict's keys as they are
 * (`rnn.weight_ih_l0`), nested dicts and lists joined with dots (`model.rnn.weight_ih_l0`,
 * `optimizer.state.0.momentum_buffer`). Non-tensor leaves (ints, strings, None, ...) are skipped:
 * a checkpoint's epoch or a state_dict's version numbers are not arrays. Keys that are not str or
 * int (tuples, None) are skipped with their values. Two tensors flattening to one name are refused.
 */
export function flattenTensors(root: PickleValue, options: FlattenOptions = {}): Map<string, TensorRef> {
  const maxDepth = options.maxDepth ?? 100;
  let budget = options.maxVisits ?? 1_000_000;
  const label = options.label ?? 'pickle';
  const out = new Map<string, TensorRef>();
  const bad = (what: string): never => {
    throw new GruCheckError('BAD_PICKLE', `${label}: ${what}`);
  };
  // Explicit stack, so depth is a number we check, never the JS call stack.
  const todo: Array<{ v: PickleValue; name: string; depth: number }> = [{ v: root, name: '', depth: 0 }];
  while (todo.length) {
    const { v, name, depth } = todo.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (v.kind === 'tensor') {
      const n = name === '' ? options.rootName ?? 'tensor' : name;
      if (out.has(n)) bad(`two tensors are both named '${showName(n)}' once nested names are joined with dots`);
      out.set(n, v);
      continue;
    }
    if (v.kind !== 'dict' && v.kind !== 'list' && v.kind !== 'tuple') continue;
    if (depth >= maxDepth) bad(`containers nested deeper than ${maxDepth} levels (too deep for a state_dict)`);
    const children: Array<[string, PickleValue]> = [];
    if (v.kind === 'dict') {
      for (const [k, x] of v.map) {
        if (typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint') children.push([String(k), x]);
      }
    } else {
      v.items.forEach((x, i) => children.push([String(i), x]));
    }
    // Counted before they are queued, so neither time nor the queue can outgrow the budget.
    budget -= children.length;
    if (budget < 0) bad('containers are referenced too many times (a shared or cyclic structure, not a state_dict)');
    // Pushed in reverse so names come out in the file's order.
    for (let i = children.length - 1; i >= 0; i--) {
      const [k, x] = children[i]!;
      todo.push({ v: x, name: name === '' ? k : `${name}.${k}`, depth: depth + 1 });
    }
  }
  return out;
}
