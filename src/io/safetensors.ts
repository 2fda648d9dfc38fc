/**
 * Owns reading a .safetensors file into named arrays. The format (huggingface/safetensors): an
 * 8-byte little-endian header length N, N bytes of JSON
 * `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`
 * (possibly padded with spaces), then the data buffer; offsets are relative to the buffer's start.
 *
 * Validated like the reference implementation, all before any array is made: the header length
 * against the file and a 100 MB cap, the JSON's shape, each dtype, each shape's element count times
 * the item size against its offsets, offsets inside the buffer, and the tensors tiling the buffer
 * exactly (no overlap, no gap, nothing after the last one). Aligned native data becomes a view.
 */
import { parseBoundedJson } from './json.js';
import { GruCheckError, isGruCheckError } from '../errors.js';
import { decodeElements, decodedItemsize, elementCount, ITEMSIZE, MAX_TYPED_LENGTH, type NumericDType } from './dtypes.js';
import { sanitizeError, showName } from './text.js';
import type { NdArray } from './types.js';

export interface ReadSafetensorsOptions {
  /** Refuse (TOO_LARGE) when the arrays would take more than this many bytes. */
  maxBytes?: number;
}

/** The reference implementation's cap on the JSON header. */
export const MAX_HEADER_BYTES = 100_000_000;

const DTYPES: Readonly<Record<string, NumericDType>> = {
  F16: 'float16',
  BF16: 'bfloat16',
  F32: 'float32',
  F64: 'float64',
  I8: 'int8',
  I16: 'int16',
  I32: 'int32',
  I64: 'int64',
  U8: 'uint8',
  U16: 'uint16',
  U32: 'uint32',
  U64: 'uint64',
  BOOL: 'bool',
};

/** One tensor's entry, once validated. */
export interface SafetensorsEntry {
  name: string;
  dtype: NumericDType;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Cheap test used to recognise the format by content: a header length that fits the file and
 * the cap, followed by '{'.
 */
export function looksLikeSafetensors(head: Uint8Array, fileSize: number): boolean {
  if (head.length < 9 || fileSize < 10) return false;
  const n = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  return n >= 2n && n <= BigInt(Math.min(fileSize - 8, MAX_HEADER_BYTES)) && head[8] === 0x7b;
}

function bad(message: string): never {
  throw new GruCheckError('BAD_SAFETENSORS', message);
}

/**
 * Parse and validate the header of a safetensors file of `fileSize` bytes whose first bytes are
 * `head` (at least 8 + N). Returns the entries sorted by offset and where the data buffer starts.
 * Throws only GruCheckError (BAD_SAFETENSORS, TOO_LARGE, UNSUPPORTED_DTYPE).
 */
export function parseSafetensorsHeader(head: Uint8Array, fileSize: number): { entries: SafetensorsEntry[]; dataStart: number; metadata: Record<string, string> } {
  try {
    return parseHeader(head, fileSize);
  } catch (e) {
    throw sanitizeError(wrap(e));
  }
}

function wrap(e: unknown): GruCheckError {
  if (isGruCheckError(e)) return e;
  const msg = (e instanceof Error ? e.message : String(e)).replace(/[\r\n]+/g, ' ');
  if (e instanceof RangeError && /alloc|invalid (typed )?array length|array buffer/i.test(msg)) {
    return new GruCheckError('TOO_LARGE', `safetensors: cannot allocate memory for it: ${msg}`);
  }
  return new GruCheckError('BAD_SAFETENSORS', `safetensors: ${msg}`);
}

function parseHeader(head: Uint8Array, fileSize: number) {
  if (fileSize < 8 || head.length < 8) bad(`safetensors file is ${fileSize} bytes, shorter than its 8-byte header length`);
  const n64 = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) bad(`safetensors header length ${n64} is past the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(n64);
  if (8 + n > fileSize) bad(`safetensors header length ${n} runs past the end of the ${fileSize}-byte file`);
  if (head.length < 8 + n) bad(`safetensors header: expected ${n} bytes, got ${head.length - 8}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(8, 8 + n));
  } catch {
    bad('safetensors header is not valid UTF-8');
  }
  if (!text.startsWith('{')) bad(`safetensors header: expected a JSON object starting with '{', got ${JSON.stringify(text.slice(0, 16))}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // V8's message quotes the text near the error: say only where it is (io/json.ts's parser locates it).
    let where = '';
    try {
      parseBoundedJson(text, 'safetensors header', '', { maxDepth: 1000 });
    } catch (g) {
      where = / at line \d+, column \d+$/.exec((g as Error).message)?.[0] ?? '';
    }
    bad(`safetensors header is not valid JSON${where}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad('safetensors header: expected a JSON object');
  const dataStart = 8 + n;
  const bufLen = fileSize - dataStart;
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    const what = `safetensors tensor '${showName(name)}'`;
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
        bad('safetensors __metadata__: expected an object of strings');
      }
      metadata = v as Record<string, string>;
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${what}: expected {dtype, shape, data_offsets}`);
    const { dtype, shape, data_offsets: offsets } = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string') bad(`${what}: dtype is missing or not a string`);
    const dt = DTYPES[dtype];
    if (!dt) {
      throw new GruCheckError('UNSUPPORTED_DTYPE', `${what}: unsupported dtype '${showName(dtype, 20)}': expected F16, BF16, F32, F64, I8-I64, U8-U64 or BOOL`);
    }
    const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
    if (!Array.isArray(shape) || shape.length > 64 || !shape.every(isInt)) bad(`${what}: shape is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isInt)) bad(`${what}: data_offsets is not [begin, end] of non-negative integers`);
    const [begin, end] = offsets as [number, number];
    if (end < begin) bad(`${what}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > bufLen) bad(`${what}: data_offsets [${begin}, ${end}] run past the end of the ${bufLen}-byte data buffer`);
    const count = elementCount(shape);
    if (count === undefined || count > MAX_TYPED_LENGTH) bad(`${what}: shape [${shape.join(', ')}] has more elements than a typed array can hold`);
    const need = count * ITEMSIZE[dt];
    if (end - begin !== need) bad(`${what}: shape [${shape.join(', ')}] ${dtype} expected ${need} bytes, data_offsets [${begin}, ${end}] hold ${end - begin}`);
    entries.push({ name, dtype: dt, shape: shape as number[], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of entries) {
    if (e.begin < at) bad(`safetensors tensor '${showName(e.name)}': data_offsets [${e.begin}, ${e.end}] overlap the tensor before it (which ends at ${at})`);
    if (e.begin > at) bad(`safetensors tensor '${showName(e.name)}': data_offsets [${e.begin}, ${e.end}] leave a gap after byte ${at}`);
    at = e.end;
  }
  if (at !== bufLen) bad(`safetensors data buffer is ${bufLen} bytes but its tensors end at ${at}`);
  return { entries, dataStart, metadata };
}

/**
 * Every tensor in a safetensors file held in memory. Arrays are views of `bytes` where aligned and
 * native (keep `bytes` unmodified while they are used). Throws only GruCheckError.
 */
export function readSafetensors(bytes: Uint8Array, options: ReadSafetensorsOptions = {}): Map<string, NdArray> {
  try {
    const { entries, dataStart } = parseHeader(bytes, bytes.length);
    let total = 0;
    for (const e of entries) {
      const count = (e.end - e.begin) / ITEMSIZE[e.dtype];
      total += e.dtype === 'float16' || e.dtype === 'bfloat16' ? count * decodedItemsize(e.dtype) : e.end - e.begin;
    }
    if (options.maxBytes !== undefined && total > options.maxBytes) {
      throw new GruCheckError('TOO_LARGE', `safetensors: tensors total ${total} bytes, more than the limit of ${options.maxBytes} bytes`);
    }
    const out = new Map<string, NdArray>();
    for (const e of entries) {
      const count = (e.end - e.begin) / ITEMSIZE[e.dtype];
      const data = decodeElements(bytes.subarray(dataStart + e.begin, dataStart + e.end), e.dtype, count);
      out.set(e.name, { name: e.name, dtype: e.dtype, shape: [...e.shape], data });
    }
    return out;
  } catch (e) {
    throw sanitizeError(wrap(e));
  }
}
