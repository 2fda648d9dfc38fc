/**
 * Owns reading an .onnx model: its initializers as NdArrays and its main graph (nodes with their
 * attributes, graph inputs and outputs, opset) as plain data (OnnxGraph), so the model layer can
 * find the GRU nodes and their weights. Nothing is run.
 *
 * Decoding is protobufjs's, through the static decoder the npm package onnx-proto generates from
 * ONNX's own onnx.proto (no protobuf decoder of our own, no schema file vendored here). What we add
 * is what a checker needs on top: every tensor's declared element count checked against the bytes
 * or values present before an array is made; raw_data (little-endian) and the typed fields
 * (float_data, double_data, int32_data -- also float16/bfloat16 bits --, int64_data) both read;
 * external data read through an injected reader (onnx-external.ts: files beside the model only,
 * offsets and lengths checked), refused without one; string and complex tensors refused by name;
 * the file size held to maxBytes before
 * decoding (protobufjs keeps raw_data as views of the file's bytes, so decoding costs about the
 * file again at most, for the typed fields' number arrays).
 */
import { createRequire } from 'node:module';
import type OnnxProtoModule from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { GruCheckError, isGruCheckError } from '../errors.js';
import { allocate, decodeElements, decodedItemsize, elementCount, ITEMSIZE, MAX_TYPED_LENGTH, type NumericDType } from './dtypes.js';
import { sanitizeError, showName } from './text.js';
import { EXTERNAL_HINT, type ExternalDataReader } from './onnx-external.js';
import type { NdArray, NumericData, OnnxAttribute, OnnxGraph, OnnxNode, OnnxValueInfo } from './types.js';

/**
 * The generated decoder (and protobufjs under it) is loaded on the first .onnx file, not at start:
 * importing it is slow, and every `gru-check run case.npz` would otherwise pay for it.
 */
let decoder: (typeof OnnxProtoModule)['onnx'] | undefined;
function schema(): (typeof OnnxProtoModule)['onnx'] {
  decoder ??= (createRequire(import.meta.url)('onnx-proto') as typeof OnnxProtoModule).onnx;
  return decoder;
}
type TensorProto = OnnxTypes.ITensorProto;
type AttributeProto = OnnxTypes.IAttributeProto;
type ValueInfoProto = OnnxTypes.IValueInfoProto;

export interface ReadOnnxOptions {
  /** Refuse (TOO_LARGE) a model file, or initializers, of more than this many bytes. */
  maxBytes?: number;
  /**
   * Reads a tensor's external data (onnx-external.ts: files beside the model only). Without it a
   * tensor stored outside the model is refused, naming how to save it inside.
   */
  externalData?: ExternalDataReader;
}

/** What tensor() needs from the model being read. */
interface TensorContext {
  external: ExternalDataReader | undefined;
  /** Refuse before reading `bytes` more than the budget holds. */
  room(bytes: number, what: string): void;
}

export interface OnnxModel {
  /** Initializers by name (file order), then tensors of Constant nodes are in graph.nodes. */
  arrays: Map<string, NdArray>;
  graph: OnnxGraph;
}

/** TensorProto.DataType codes we read -> our dtype. */
const DATA_TYPES: Readonly<Record<number, NumericDType>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

/** Enum code -> name ('FLOAT', ...), from the schema itself. */
let dataTypeNames: Readonly<Record<number, string>> | undefined;
function DATA_TYPE_NAMES(): Readonly<Record<number, string>> {
  dataTypeNames ??= Object.fromEntries(
    Object.entries(schema().TensorProto.DataType as unknown as Record<string, number>)
      .filter(([, v]) => typeof v === 'number')
      .map(([k, v]) => [v, k]),
  );
  return dataTypeNames;
}

/** Protobuf int64 fields arrive as Long objects (long.js) or numbers. */
type Int64 = number | { low: number; high: number; unsigned?: boolean; toString(): string };

function toBigInt(v: Int64): bigint {
  if (typeof v === 'number') return BigInt(v);
  const b = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return v.unsigned ? b : BigInt.asIntN(64, b);
}

/** An int64 as a number: exact up to 2^53, the nearest double past it (INT64 sentinels only). */
function toNumber(v: Int64): number {
  return typeof v === 'number' ? v : Number(toBigInt(v));
}

/**
 * Cheap test for recognising a model by content: a ModelProto written by onnx or torch starts with
 * field 1 (ir_version, varint). The decode that follows is the real test.
 */
export function maybeOnnx(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x08 && head[1]! > 0 && head[1]! < 0x80;
}

function wrap(e: unknown, label: string): GruCheckError {
  if (isGruCheckError(e)) return e;
  const msg = (e instanceof Error ? e.message : String(e)).replace(/[\r\n]+/g, ' ').slice(0, 300);
  if (e instanceof RangeError && /alloc|invalid (typed )?array length|array buffer|call stack/i.test(msg)) {
    return /call stack/i.test(msg)
      ? new GruCheckError('BAD_ONNX', `${label}: messages nested too deeply to decode (${msg})`)
      : new GruCheckError('TOO_LARGE', `${label}: cannot allocate memory for it: ${msg}`);
  }
  return new GruCheckError('BAD_ONNX', `${label}: does not decode as an ONNX model (${msg})`);
}

/**
 * Decode an ONNX model. Throws only GruCheckError: BAD_ONNX (not a ModelProto, no graph, bad
 * tensor), UNSUPPORTED_ONNX (external data, string/complex tensors), TOO_LARGE, DUPLICATE_MEMBER.
 */
export function readOnnx(bytes: Uint8Array, options: ReadOnnxOptions = {}): OnnxModel {
  const label = 'ONNX model';
  try {
    if (options.maxBytes !== undefined && bytes.length > options.maxBytes) {
      throw new GruCheckError('TOO_LARGE', `${label}: file is ${bytes.length} bytes, more than the limit of ${options.maxBytes} bytes`);
    }
    const model = schema().ModelProto.decode(bytes);
    const g = model.graph;
    if (!g || toNumber(model.irVersion as Int64) <= 0) {
      throw new GruCheckError('BAD_ONNX', `${label}: expected an ONNX ModelProto with an ir_version and a graph, got ${g ? 'no ir_version' : 'no graph'}`);
    }
    let budget = options.maxBytes ?? Number.MAX_SAFE_INTEGER;
    const take = (t: NdArray): NdArray => {
      budget -= t.data.length * decodedItemsize(t.dtype as NumericDType);
      if (budget < 0) throw new GruCheckError('TOO_LARGE', `${label}: tensors total more than the limit of ${options.maxBytes} bytes`);
      return t;
    };
    const ctx: TensorContext = {
      external: options.externalData,
      room: (n, what) => {
        if (n > budget) throw new GruCheckError('TOO_LARGE', `${label}: ${what}'s external data (${n} bytes) would pass the limit of ${options.maxBytes} bytes`);
      },
    };
    const arrays = new Map<string, NdArray>();
    const initializerNames: string[] = [];
    for (const t of g.initializer ?? []) {
      const name = t.name ?? '';
      if (arrays.has(name)) throw new GruCheckError('DUPLICATE_MEMBER', `${label}: initializer '${showName(name)}' appears more than once`);
      arrays.set(name, take(tensor(t, `initializer '${showName(name)}'`, ctx)));
      initializerNames.push(name);
    }
    if (g.sparseInitializer?.length) {
      throw new GruCheckError('UNSUPPORTED_ONNX', `${label}: sparse initializers are not read (got ${g.sparseInitializer.length})`);
    }
    let opsetVersion: number | undefined;
    for (const o of model.opsetImport ?? []) {
      if (!o.domain || o.domain === 'ai.onnx') opsetVersion = toNumber(o.version as Int64);
    }
    const nodes: OnnxNode[] = (g.node ?? []).map((n, i) => {
      const attributes: Record<string, OnnxAttribute> = Object.create(null);
      for (const a of n.attribute ?? []) {
        const what = `node '${showName(n.name || `#${i}`)}' attribute '${showName(a.name ?? '')}'`;
        const v = attribute(a, what, ctx);
        attributes[a.name ?? ''] = v.type === 'tensor' ? { type: 'tensor', value: take(v.value) } : v;
      }
      return {
        name: n.name ?? '',
        opType: n.opType ?? '',
        domain: n.domain ?? '',
        inputs: [...(n.input ?? [])],
        outputs: [...(n.output ?? [])],
        attributes,
      };
    });
    const graph: OnnxGraph = {
      opsetVersion,
      nodes,
      inputs: (g.input ?? []).map(valueInfo),
      outputs: (g.output ?? []).map(valueInfo),
      initializerNames,
    };
    return { arrays, graph };
  } catch (e) {
    throw sanitizeError(wrap(e, label));
  }
}

function valueInfo(v: ValueInfoProto): OnnxValueInfo {
  const tt = v.type?.tensorType;
  const elem = tt?.elemType ? DATA_TYPE_NAMES()[tt.elemType] ?? `type ${tt.elemType}` : undefined;
  const shape = tt?.shape ? (tt.shape.dim ?? []).map((d) => ((d as { value?: string }).value === 'dimValue' ? toNumber(d.dimValue as Int64) : (d as { value?: string }).value === 'dimParam' ? d.dimParam ?? '' : null)) : undefined;
  return { name: v.name ?? '', elemType: elem, shape };
}


function attribute(a: AttributeProto, what: string, ctx: TensorContext): OnnxAttribute {
  const ATTR = schema().AttributeProto.AttributeType;
  let type = a.type as number;
  // Models from before IR version 2 may leave `type` unset: infer it from the field present.
  if (!type) {
    if (a.floats?.length) type = ATTR.FLOATS;
    else if (a.ints?.length) type = ATTR.INTS;
    else if (a.strings?.length) type = ATTR.STRINGS;
    else if (a.t) type = ATTR.TENSOR;
    else if (a.s && a.s.length) type = ATTR.STRING;
    else if (a.g) type = ATTR.GRAPH;
  }
  const text = (b: Uint8Array): string => new TextDecoder().decode(b);
  switch (type) {
    case ATTR.FLOAT:
      return { type: 'float', value: a.f ?? 0 };
    case ATTR.INT:
      return { type: 'int', value: toNumber(a.i as Int64) };
    case ATTR.STRING:
      return { type: 'string', value: text(a.s ?? new Uint8Array(0)) };
    case ATTR.FLOATS:
      return { type: 'floats', value: [...(a.floats ?? [])] };
    case ATTR.INTS:
      return { type: 'ints', value: (a.ints ?? []).map((x) => toNumber(x as Int64)) };
    case ATTR.STRINGS:
      return { type: 'strings', value: (a.strings ?? []).map(text) };
    case ATTR.TENSOR:
      if (!a.t) throw new GruCheckError('BAD_ONNX', `${what}: declared a tensor but holds none`);
      return { type: 'tensor', value: tensor(a.t, what, ctx) };
    default:
      return { type: 'other', typeCode: type };
  }
}

/** One TensorProto -> NdArray, every size checked before the array is made. */
function tensor(t: TensorProto, what: string, ctx: TensorContext): NdArray {
  const name = t.name ?? '';
  const external = (t.dataLocation as number) === 1 || (t.externalData?.length ?? 0) > 0;
  const entry = (key: string): string | undefined => (t.externalData ?? []).find((e) => e.key === key)?.value ?? undefined;
  if (external && !ctx.external) {
    const loc = entry('location');
    throw new GruCheckError('UNSUPPORTED_ONNX', `${what} uses external data${loc ? ` (in '${showName(loc)}')` : ''}, and this model was read from bytes alone`, { hint: EXTERNAL_HINT });
  }
  if (t.segment) throw new GruCheckError('UNSUPPORTED_ONNX', `${what} is a segment of a larger tensor: not read`);
  const code = t.dataType ?? 0;
  const dtype = DATA_TYPES[code];
  if (!dtype) {
    throw new GruCheckError('UNSUPPORTED_ONNX', `${what}: data type ${DATA_TYPE_NAMES()[code] ?? code} is not read (expected FLOAT, FLOAT16, BFLOAT16, DOUBLE or an integer type)`);
  }
  const shape: number[] = [];
  for (const d of t.dims ?? []) {
    const v = toBigInt(d as Int64);
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GruCheckError('BAD_ONNX', `${what}: dim ${v} is not a size`);
    shape.push(Number(v));
  }
  const count = elementCount(shape);
  if (count === undefined || count > MAX_TYPED_LENGTH) {
    throw new GruCheckError('TOO_LARGE', `${what}: shape [${shape.join(', ')}] has more elements than a typed array can hold`);
  }
  if (external) {
    const location = entry('location');
    if (location === undefined) throw new GruCheckError('BAD_ONNX', `${what}: external data without a location`);
    if ((t.rawData?.length ?? 0) > 0) throw new GruCheckError('BAD_ONNX', `${what}: holds raw_data and external data both`);
    const need = count * ITEMSIZE[dtype];
    ctx.room(need, what);
    const bytes = ctx.external!({ location, offset: entry('offset'), length: entry('length'), need, what });
    return { name, dtype, shape, data: decodeElements(bytes, dtype, count) };
  }
  const raw = t.rawData;
  if (raw && raw.length) {
    const need = count * ITEMSIZE[dtype];
    if (raw.length !== need) {
      throw new GruCheckError('BAD_ONNX', `${what}: raw_data is ${raw.length} bytes, shape [${shape.join(', ')}] ${DATA_TYPE_NAMES()[code]} needs ${need}`);
    }
    return { name, dtype, shape, data: decodeElements(raw, dtype, count) };
  }
  // The typed field ONNX's schema assigns to each data type.
  const field: { values: ArrayLike<unknown>; from: string } =
    dtype === 'float32'
      ? { values: t.floatData ?? [], from: 'float_data' }
      : dtype === 'float64'
        ? { values: t.doubleData ?? [], from: 'double_data' }
        : dtype === 'int64'
          ? { values: t.int64Data ?? [], from: 'int64_data' }
          : dtype === 'uint32' || dtype === 'uint64'
            ? { values: t.uint64Data ?? [], from: 'uint64_data' }
            : { values: t.int32Data ?? [], from: 'int32_data' };
  if (field.values.length !== count) {
    throw new GruCheckError('BAD_ONNX', `${what}: ${field.from} holds ${field.values.length} values, shape [${shape.join(', ')}] needs ${count}`);
  }
  return { name, dtype, shape, data: fromTyped(field.values, dtype, count) };
}

function fromTyped(values: ArrayLike<unknown>, dtype: NumericDType, count: number): NumericData {
  if (dtype === 'float16' || dtype === 'bfloat16') {
    // The 16-bit patterns, one per int32_data entry (ONNX's encoding for these two types).
    const bits = new Uint8Array(count * 2);
    for (let i = 0; i < count; i++) {
      const v = Number(values[i]) & 0xffff;
      bits[2 * i] = v & 0xff;
      bits[2 * i + 1] = v >> 8;
    }
    return decodeElements(bits, dtype, count);
  }
  const out = allocate(dtype, count) as { [i: number]: unknown };
  const wide = dtype === 'int64' || dtype === 'uint64';
  for (let i = 0; i < count; i++) {
    const v = values[i] as Int64;
    out[i] = wide ? (dtype === 'uint64' ? BigInt.asUintN(64, toBigInt(v)) : toBigInt(v)) : toNumber(v);
  }
  return out as unknown as NumericData;
}
