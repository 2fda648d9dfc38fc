/**
 * Owns decoding one .npy file (format versions 1.0, 2.0 and 3.0) from bytes already in memory into
 * an NdArray that is always C-order and native (little-endian) byte order.
 *
 * Why not just npyjs.parse: it reads the header with regexes, ignores fortran_order, treats `>`
 * as little-endian, never checks the data length against the shape, and makes views with no length
 * (`new Float32Array(buf, offset)` runs to the end of the buffer, so a view into a shared buffer,
 * such as a stored .npz member, silently picks up the bytes of the next member). We keep npyjs for
 * the piece it gets right and that is easy to get subtly wrong, the exact float16 -> float32
 * widening, and do the rest here:
 *   - a strict hand-written parser for the header's Python-literal dict (never eval'd);
 *   - every size check happens before anything is allocated;
 *   - aligned little-endian C-order data becomes a typed-array VIEW of the caller's bytes (no copy;
 *     this is what lets a large .npz load at ~1x its size), everything else a single copy.
 *
 * Trailing bytes after the data are refused (BAD_HEADER) rather than ignored: numpy writes exactly
 * header + data, and the usual cause of extra bytes is several arrays np.save'd into one file, of
 * which np.load would silently return only the first.
 */
import { constants as bufferConstants } from 'node:buffer';
import { float16ToFloat32 } from 'npyjs';
import { GruCheckError, isGruCheckError, type ErrorCode } from '../errors.js';
import type { DType, NdArray, NumericData } from './types.js';
import { sanitizeError, showName } from './text.js';

export interface ParseNpyOptions {
  /**
   * How messages name the array, e.g. `member 'w.npy'` when it came from an .npz.
   * Default: `array '<name>'`.
   */
  label?: string;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Largest element count a typed array can have in this Node (also its byte limit). */
const MAX_TYPED_LENGTH = bufferConstants.MAX_LENGTH;

const NATIVE_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The numeric dtypes we decode: numpy type char + item size -> our dtype and output array. */
interface NumericKind {
  dtype: Exclude<DType, 'unicode'>;
  itemsize: number;
  /** Output constructor (float16 decodes to Float32Array). */
  out: { new (length: number): NumericData; new (buf: ArrayBufferLike, off: number, len: number): NumericData };
}

const NUMERIC: Record<string, NumericKind> = {
  f2: { dtype: 'float16', itemsize: 2, out: Float32Array },
  f4: { dtype: 'float32', itemsize: 4, out: Float32Array },
  f8: { dtype: 'float64', itemsize: 8, out: Float64Array },
  i1: { dtype: 'int8', itemsize: 1, out: Int8Array },
  i2: { dtype: 'int16', itemsize: 2, out: Int16Array },
  i4: { dtype: 'int32', itemsize: 4, out: Int32Array },
  i8: { dtype: 'int64', itemsize: 8, out: BigInt64Array },
  u1: { dtype: 'uint8', itemsize: 1, out: Uint8Array },
  u2: { dtype: 'uint16', itemsize: 2, out: Uint16Array },
  u4: { dtype: 'uint32', itemsize: 4, out: Uint32Array },
  u8: { dtype: 'uint64', itemsize: 8, out: BigUint64Array },
  b1: { dtype: 'bool', itemsize: 1, out: Uint8Array },
} as unknown as Record<string, NumericKind>;

/** What a descr string resolved to. */
type Descr =
  | { kind: 'numeric'; spec: NumericKind; littleEndian: boolean; text: string }
  | { kind: 'unicode'; chars: number; itemsize: number; littleEndian: boolean; text: string };

interface Header {
  descr: Descr;
  fortranOrder: boolean;
  shape: number[];
  /** Offset of the first data byte from the start of the .npy bytes. */
  dataOffset: number;
}

/**
 * Decode one .npy file. `name` becomes NdArray.name (the .npz member or file stem without .npy).
 * Throws only GruCheckError: NOT_NPY, TRUNCATED, BAD_HEADER, OBJECT_DTYPE, UNSUPPORTED_DTYPE,
 * TOO_LARGE.
 *
 * The result may be a view of `bytes` (aligned little-endian C-order numeric data): keep `bytes`
 * unmodified for as long as the array is used.
 */
export function parseNpy(bytes: Uint8Array, name: string, options: ParseNpyOptions = {}): NdArray {
  const label = options.label ?? `array '${showName(name)}'`;
  try {
    const header = readHeader(bytes, label);
    return decode(bytes, header, name, label);
  } catch (e) {
    throw sanitizeError(wrapUnexpected(e, label, 'BAD_HEADER'));
  }
}

/** Any non-GruCheckError (a bug here, an allocation failure) becomes a GruCheckError. */
export function wrapUnexpected(e: unknown, label: string, code: ErrorCode): GruCheckError {
  if (isGruCheckError(e)) return e;
  if (e instanceof RangeError && /alloc|invalid (typed )?array length|array buffer/i.test(e.message)) {
    // Allocation failures ("Array buffer allocation failed", "Invalid typed array length").
    return new GruCheckError('TOO_LARGE', `${label}: cannot allocate memory for it: ${oneLine(e.message)}`);
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new GruCheckError(code, `${label}: ${oneLine(msg)}`);
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

function fail(code: ErrorCode, label: string, message: string, hint?: string): never {
  throw new GruCheckError(code, `${label}: ${message}`, hint === undefined ? {} : { hint });
}

// ---------------------------------------------------------------------------------------------
// Header

function readHeader(bytes: Uint8Array, label: string): Header {
  if (bytes.length === 0) fail('EMPTY_FILE', label, 'file is empty (0 bytes)');
  for (let i = 0; i < MAGIC.length; i++) {
    if (i >= bytes.length) fail('TRUNCATED', label, `file is ${bytes.length} bytes, shorter than the .npy magic`);
    if (bytes[i] !== MAGIC[i]) {
      fail('NOT_NPY', label, `expected the .npy magic \\x93NUMPY, got ${hexPrefix(bytes, 6)}`);
    }
  }
  if (bytes.length < 8) fail('TRUNCATED', label, `file is ${bytes.length} bytes, ends inside the .npy preamble`);
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (!(major >= 1 && major <= 3 && minor === 0)) {
    fail('BAD_HEADER', label, `expected .npy format version 1.0, 2.0 or 3.0, got ${major}.${minor}`);
  }
  const lenBytes = major === 1 ? 2 : 4;
  const start = 8 + lenBytes;
  if (bytes.length < start) fail('TRUNCATED', label, `file is ${bytes.length} bytes, ends inside the .npy preamble`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = lenBytes === 2 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const dataOffset = start + headerLen;
  if (dataOffset > bytes.length) {
    fail('TRUNCATED', label, `header length ${headerLen} runs past the end of the file (${bytes.length} bytes)`);
  }
  const raw = bytes.subarray(start, dataOffset);
  // v1/v2 headers are latin1, v3 utf-8 (numpy uses 3.0 only for non-latin1 structured field names).
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(raw);
  } catch {
    fail('BAD_HEADER', label, 'header is not valid utf-8');
  }
  const dict = parseHeaderDict(text, label);
  return { ...dict, dataOffset };
}

function hexPrefix(bytes: Uint8Array, n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < Math.min(n, bytes.length); i++) parts.push(bytes[i]!.toString(16).padStart(2, '0'));
  return parts.length ? `bytes ${parts.join(' ')}` : 'no bytes';
}

/** A Python literal, as far as an .npy header can contain one. */
type PyValue =
  | { t: 'str'; v: string }
  | { t: 'int'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'none' }
  | { t: 'tuple'; v: PyValue[] }
  | { t: 'list'; v: PyValue[] }
  | { t: 'dict'; v: Array<[PyValue, PyValue]> };

/**
 * Recursive-descent parser for the subset of Python literal syntax numpy's header uses
 * (what numpy's own reader passes to ast.literal_eval). Anything else is BAD_HEADER.
 */
class LiteralParser {
  private pos = 0;
  constructor(
    private readonly s: string,
    private readonly label: string,
  ) {}

  bad(what: string): never {
    const where =
      this.s.slice(this.pos).trim() === ''
        ? 'at the end of the header'
        : `at offset ${this.pos} (near ${JSON.stringify(this.s.slice(this.pos, this.pos + 20))})`;
    fail('BAD_HEADER', this.label, `malformed header: ${what} ${where}`);
  }

  ws(): void {
    while (this.pos < this.s.length && /[ \t\r\n]/.test(this.s[this.pos]!)) this.pos++;
  }

  peek(): string | undefined {
    this.ws();
    return this.s[this.pos];
  }

  expect(c: string): void {
    if (this.peek() !== c) this.bad(`expected '${c}'`);
    this.pos++;
  }

  atEnd(): boolean {
    this.ws();
    return this.pos >= this.s.length;
  }

  value(depth = 0): PyValue {
    if (depth > 32) this.bad('nesting too deep');
    const c = this.peek();
    if (c === undefined) this.bad('unexpected end');
    if (c === "'" || c === '"') return { t: 'str', v: this.str(c) };
    if (c === '(') return this.seq('(', ')', 'tuple', depth);
    if (c === '[') return this.seq('[', ']', 'list', depth);
    if (c === '{') return this.dict(depth);
    if (c >= '0' && c <= '9') return { t: 'int', v: this.int() };
    for (const [word, val] of [
      ['True', { t: 'bool', v: true }],
      ['False', { t: 'bool', v: false }],
      ['None', { t: 'none' }],
    ] as const) {
      if (this.s.startsWith(word, this.pos) && !/[A-Za-z0-9_]/.test(this.s[this.pos + word.length] ?? '')) {
        this.pos += word.length;
        return val;
      }
    }
    this.bad('expected a string, int, True, False, None, tuple, list or dict');
  }

  /** Plain string literal; escapes never occur in numpy headers, so they are refused. */
  str(q: string): string {
    const start = ++this.pos;
    const end = this.s.indexOf(q, start);
    if (end < 0) this.bad('unterminated string');
    const v = this.s.slice(start, end);
    if (v.includes('\\') || v.includes('\n')) this.bad('escape or newline in string');
    this.pos = end + 1;
    return v;
  }

  /** Non-negative decimal int (no sign, no leading zeros); a Python-2 `L` suffix is tolerated. */
  int(): number {
    const m = /^[0-9]+/.exec(this.s.slice(this.pos, this.pos + 40))!;
    const digits = m[0];
    if (digits.length > 1 && digits[0] === '0') this.bad('int with leading zero');
    this.pos += digits.length;
    if (this.s[this.pos] === 'L') this.pos++; // numpy still reads headers written by Python 2
    if (/[A-Za-z0-9_.]/.test(this.s[this.pos] ?? '')) this.bad('malformed int');
    const v = Number(digits);
    if (!Number.isSafeInteger(v)) fail('TOO_LARGE', this.label, `header dimension ${digits} is too large`);
    return v;
  }

  seq(open: string, close: string, t: 'tuple' | 'list', depth: number): PyValue {
    this.expect(open);
    const items: PyValue[] = [];
    let sawComma = false;
    while (this.peek() !== close) {
      items.push(this.value(depth + 1));
      if (this.peek() === ',') {
        this.pos++;
        sawComma = true;
      } else if (this.peek() !== close) this.bad(`expected ',' or '${close}'`);
    }
    this.pos++;
    // `(3)` is the int 3 in Python, not a tuple: numpy never writes it, refuse it for shape.
    if (t === 'tuple' && items.length === 1 && !sawComma) this.bad('parenthesised value is not a tuple (missing comma)');
    return { t, v: items };
  }

  dict(depth: number): PyValue {
    this.expect('{');
    const entries: Array<[PyValue, PyValue]> = [];
    while (this.peek() !== '}') {
      const k = this.value(depth + 1);
      this.expect(':');
      const v = this.value(depth + 1);
      entries.push([k, v]);
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== '}') this.bad("expected ',' or '}'");
    }
    this.pos++;
    return { t: 'dict', v: entries };
  }
}

/** Parse `{'descr': ..., 'fortran_order': ..., 'shape': (...), }` strictly. */
function parseHeaderDict(text: string, label: string): Omit<Header, 'dataOffset'> {
  const p: LiteralParser = new LiteralParser(text, label); // annotated so p.bad() narrows
  if (p.peek() !== '{') p.bad("expected the header to be a dict starting with '{'");
  const dict = p.value();
  if (!p.atEnd()) p.bad('unexpected text after the header dict');
  if (dict.t !== 'dict') p.bad('expected a dict');
  const seen = new Map<string, PyValue>();
  for (const [k, v] of dict.v) {
    if (k.t !== 'str') fail('BAD_HEADER', label, 'malformed header: dict key is not a string');
    if (!['descr', 'fortran_order', 'shape'].includes(k.v)) {
      fail('BAD_HEADER', label, `malformed header: expected keys 'descr', 'fortran_order', 'shape', got '${k.v}'`);
    }
    if (seen.has(k.v)) fail('BAD_HEADER', label, `malformed header: key '${k.v}' appears twice`);
    seen.set(k.v, v);
  }
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!seen.has(key)) fail('BAD_HEADER', label, `malformed header: missing key '${key}'`);
  }
  const descrV = seen.get('descr')!;
  const fortranV = seen.get('fortran_order')!;
  const shapeV = seen.get('shape')!;

  if (fortranV.t !== 'bool') fail('BAD_HEADER', label, 'malformed header: fortran_order is not True or False');
  if (shapeV.t !== 'tuple' || shapeV.v.some((d) => d.t !== 'int')) {
    fail('BAD_HEADER', label, 'malformed header: shape is not a tuple of non-negative ints');
  }
  const shape = shapeV.v.map((d) => (d as { t: 'int'; v: number }).v);
  if (descrV.t === 'list') {
    fail('OBJECT_DTYPE', label, 'structured (record) dtype is refused: only plain numeric or unicode arrays are supported');
  }
  if (descrV.t !== 'str') fail('BAD_HEADER', label, 'malformed header: descr is not a string');
  return { descr: parseDescr(descrV.v, label), fortranOrder: fortranV.v, shape };
}

/** `<f4`, `>i8`, `|b1`, `=u2`, `<U21`, ... -> what to decode. */
function parseDescr(text: string, label: string): Descr {
  const m = /^([<>|=]?)([A-Za-z])(\d*)(\[[^\]]*\])?$/.exec(text);
  if (!m) fail('UNSUPPORTED_DTYPE', label, `unsupported dtype '${text}'`);
  const [, order, type, size] = m as unknown as [string, string, string, string, string | undefined];
  // `|` means "byte order not applicable"; numpy treats it (and `=`/none) as native.
  const littleEndian = order === '<' ? true : order === '>' ? false : NATIVE_LITTLE;
  if (type === 'O') {
    // What np.save(path, d) / np.savez(path, d) write for a dict d: one pickled object.
    fail('OBJECT_DTYPE', label, `object dtype '${text}' is refused: reading it would need unpickling, which can run arbitrary code`, 'a dict saved with np.save(path, d) is one pickled object: save its arrays with np.savez(path, **d)');
  }
  if (m[4] === undefined) {
    if (type === 'U') {
      const chars = Number(size || '0');
      if (!/^\d+$/.test(size) || !Number.isSafeInteger(chars * 4)) fail('UNSUPPORTED_DTYPE', label, `unsupported dtype '${text}'`);
      return { kind: 'unicode', chars, itemsize: chars * 4, littleEndian, text };
    }
    const spec = NUMERIC[`${type}${size}`];
    if (spec) return { kind: 'numeric', spec, littleEndian, text };
  }
  const what: Record<string, string> = {
    c: 'complex',
    M: 'datetime64',
    m: 'timedelta64',
    S: 'bytes',
    a: 'bytes',
    V: 'void/raw',
    f: 'float of this size',
  };
  const kind = what[type] ? `${what[type]} ` : '';
  fail(
    'UNSUPPORTED_DTYPE',
    label,
    `unsupported ${kind}dtype '${text}': expected float16/32/64, (u)int8/16/32/64, bool or unicode`,
  );
}

// ---------------------------------------------------------------------------------------------
// Data

function shapeText(shape: number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

function dtypeText(d: Descr): string {
  return d.kind === 'unicode' ? `unicode '${d.text}'` : d.spec.dtype;
}

function decode(bytes: Uint8Array, h: Header, name: string, label: string): NdArray {
  const { descr, shape } = h;
  // Element count, refusing anything past 2^53 before it can lose precision.
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (!Number.isSafeInteger(count)) fail('TOO_LARGE', label, `shape ${shapeText(shape)} has more elements than can be addressed`);
  }
  const itemsize = descr.kind === 'numeric' ? descr.spec.itemsize : descr.itemsize;
  const needed = count * itemsize;
  if (!Number.isSafeInteger(needed)) fail('TOO_LARGE', label, `shape ${shapeText(shape)} ${dtypeText(descr)} needs more bytes than can be addressed`);
  const have = bytes.length - h.dataOffset;
  if (have !== needed) {
    const code = have < needed ? 'TRUNCATED' : 'BAD_HEADER';
    const tail = have > needed ? ` (${have - needed} unexpected trailing bytes)` : '';
    fail(code, label, `array data is ${have} bytes, header says shape ${shapeText(shape)} ${dtypeText(descr)} needs ${needed} bytes${tail}`);
  }
  // Items of size 0 ('<U0') cost no bytes, so the data-length check above cannot bound them: a
  // 100-byte file could claim 2**31 empty strings. Hold them to one element per byte of the file.
  if (itemsize === 0 && count > bytes.length) {
    fail('TOO_LARGE', label, `shape ${shapeText(shape)} ${dtypeText(descr)} claims ${count} zero-size elements from a ${bytes.length}-byte file`);
  }
  if (count > MAX_TYPED_LENGTH) {
    fail('TOO_LARGE', label, `shape ${shapeText(shape)} has ${count} elements, more than a typed array can hold (${MAX_TYPED_LENGTH})`);
  }
  const dataBytes = bytes.subarray(h.dataOffset);
  // A Fortran-order array's bytes are C-order bytes of the reversed shape; only matters with >1
  // axis of length > 1 (numpy does write fortran_order True only then, but be exact anyway).
  const needsTranspose = h.fortranOrder && shape.filter((d) => d > 1).length > 1;

  if (descr.kind === 'unicode') {
    let strings = decodeUnicode(dataBytes, count, descr, label);
    if (needsTranspose) strings = fortranToC(strings, shape, (n) => new Array<string>(n));
    return { name, dtype: 'unicode', shape: [...shape], data: strings };
  }

  let data = decodeNumeric(dataBytes, count, descr);
  if (needsTranspose) {
    const Out = descr.spec.out;
    data = fortranToC(data, shape, (n) => new Out(n));
  }
  return { name, dtype: descr.spec.dtype, shape: [...shape], data };
}

let f16Table: Float32Array | undefined;
/** float16 bits -> float32, all 65536 values via npyjs's exact conversion, built once. */
export function float16Table(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = float16ToFloat32(i);
  }
  return f16Table;
}

/** Numeric bytes (exactly count*itemsize) -> native typed array; a view when that is possible. */
function decodeNumeric(src: Uint8Array, count: number, descr: Extract<Descr, { kind: 'numeric' }>): NumericData {
  const { spec, littleEndian } = descr;
  const size = spec.itemsize;
  if (spec.dtype === 'float16') {
    const table = float16Table();
    const out = new Float32Array(count);
    for (let i = 0, o = 0; i < count; i++, o += 2) {
      const bits = littleEndian ? src[o]! | (src[o + 1]! << 8) : (src[o]! << 8) | src[o + 1]!;
      out[i] = table[bits]!;
    }
    return out;
  }
  if (count === 0) return new spec.out(0);
  const sameOrder = size === 1 || littleEndian === NATIVE_LITTLE;
  if (sameOrder && src.byteOffset % size === 0) {
    // The zero-copy path: an exact-length view of the caller's bytes.
    return new spec.out(src.buffer, src.byteOffset, count);
  }
  // Copy into fresh (hence aligned) memory, swapping bytes when the file's order is not ours.
  const copy = new Uint8Array(count * size);
  if (sameOrder) {
    copy.set(src);
  } else {
    for (let i = 0; i < copy.length; i += size) {
      for (let j = 0; j < size; j++) copy[i + j] = src[i + size - 1 - j]!;
    }
  }
  return new spec.out(copy.buffer, 0, count);
}

/** numpy 'U' items are `chars` UCS-4 code points, NUL-padded at the end. */
function decodeUnicode(src: Uint8Array, count: number, descr: Extract<Descr, { kind: 'unicode' }>, label: string): string[] {
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const out = new Array<string>(count);
  const codes: number[] = [];
  for (let i = 0; i < count; i++) {
    codes.length = 0;
    const base = i * descr.itemsize;
    for (let j = 0; j < descr.chars; j++) {
      const cp = dv.getUint32(base + j * 4, descr.littleEndian);
      if (cp > 0x10ffff) fail('BAD_HEADER', label, `unicode element ${i} holds code point ${cp}, past U+10FFFF`);
      codes.push(cp);
    }
    // numpy strips trailing NULs only (an embedded NUL is kept).
    while (codes.length && codes[codes.length - 1] === 0) codes.pop();
    let s = '';
    for (let k = 0; k < codes.length; k += 4096) s += String.fromCodePoint(...codes.slice(k, k + 4096));
    out[i] = s;
  }
  return out;
}

/**
 * Reorder Fortran-order (column-major) elements into C order. Walks the output in C order with an
 * odometer and keeps the matching Fortran index incrementally: no per-element division.
 */
function fortranToC<T extends { length: number; [i: number]: unknown }>(
  src: T,
  shape: number[],
  make: (n: number) => T,
): T {
  const n = src.length;
  const out = make(n);
  if (n === 0) return out;
  const nd = shape.length;
  const fstride = new Array<number>(nd);
  let s = 1;
  for (let k = 0; k < nd; k++) {
    fstride[k] = s;
    s *= shape[k]!;
  }
  const idx = new Array<number>(nd).fill(0);
  let f = 0;
  for (let c = 0; c < n; c++) {
    (out as { [i: number]: unknown })[c] = src[f];
    // increment the C-order odometer (last axis fastest)
    for (let k = nd - 1; k >= 0; k--) {
      idx[k]!++;
      f += fstride[k]!;
      if (idx[k]! < shape[k]!) break;
      f -= fstride[k]! * shape[k]!;
      idx[k] = 0;
    }
  }
  return out;
}
