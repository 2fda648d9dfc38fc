/**
 * A GRU node input's value when the graph computes it from stored tensors by moving data only:
 * torch 2.x's dynamo exporter (without its optimizer) builds each node's W, R and B from the
 * module's initializers with Slice / Concat / Unsqueeze, its slice bounds from Shape and Mul on
 * integers. Folded here, without running the graph:
 *
 *   selection and shape: Identity, Cast, Reshape, Transpose, Squeeze, Unsqueeze, Slice, Split,
 *                        Concat, Gather (constant indices), Constant, Shape (static dims only)
 *   integer arithmetic:  Add, Sub, Mul, Div on integer tensors (the exporter's slice bounds)
 *
 * Anything else (arithmetic on float data, a value from a graph input, a control-flow op) is
 * UNSUPPORTED_ONNX naming the op: gru-check reads stored weights and never runs the graph; the
 * hint says how to get a model it can read, or to run the model itself with --onnx. Semantics
 * follow Operators.md (opset 1-22 forms of each op: attributes before opset 10/13/18, inputs after).
 * Every value is checked against a byte budget before it is allocated.
 */
import { GruCheckError } from '../errors.js';
import { MAX_TYPED_LENGTH } from '../io/dtypes.js';
import type { ArrayBundle, DType, NdArray, NumericData, OnnxNode } from '../io/types.js';
import { showNode } from './onnx-attrs.js';

export const FOLDED_OPS = ['Identity', 'Cast', 'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Slice', 'Split', 'Concat', 'Gather', 'Constant', 'Shape', 'Add', 'Sub', 'Mul', 'Div'] as const;

export const COMPUTED_HINT = 'export with torch.onnx.export(..., dynamo=False), or keep the exporter\'s optimizer on (optimize=True, the default), which stores them; or run the model itself with --onnx model.onnx';

const INT_TYPES = new Set<DType>(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool']);
const isInt = (a: NdArray): boolean => INT_TYPES.has(a.dtype);

/** Cast's `to` codes we fold (TensorProto.DataType). */
const CAST_TO: Record<number, DType> = { 1: 'float32', 11: 'float64', 6: 'int32', 7: 'int64', 10: 'float16', 16: 'bfloat16' };

function numbers(a: NdArray): number[] {
  return Array.from(a.data as ArrayLike<number | bigint>, (x) => Number(x));
}

function alloc(like: NumericData, n: number): NumericData {
  return new (like.constructor as new (n: number) => NumericData)(n);
}

function size(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** out[i] = src[index(i's multi-index)] for every element of `outShape`. */
function gatherBy(src: NumericData, outShape: readonly number[], index: (idx: readonly number[]) => number): NumericData {
  const n = size(outShape);
  const out = alloc(src, n) as { [i: number]: number | bigint };
  const idx = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < n; i++) {
    out[i] = (src as unknown as { [i: number]: number | bigint })[index(idx)]!;
    for (let k = outShape.length - 1; k >= 0; k--) {
      if (++idx[k]! < outShape[k]!) break;
      idx[k] = 0;
    }
  }
  return out as unknown as NumericData;
}

export class OnnxFolder {
  private readonly producer = new Map<string, { node: OnnxNode; index: number }>();
  private readonly memo = new Map<string, NdArray>();
  private readonly active = new Set<string>();
  private budget: number;

  constructor(
    private readonly bundle: ArrayBundle,
    private readonly file: string,
    maxBytes: number | undefined,
  ) {
    for (const n of bundle.onnx!.nodes) n.outputs.forEach((o, index) => o && this.producer.set(o, { node: n, index }));
    this.budget = maxBytes ?? 4 * 2 ** 30;
  }

  /** The value named `name`, stored or folded; `what` and `gru` say whose input it is, for messages. */
  value(name: string, what: string, gru: OnnxNode): NdArray {
    try {
      return this.eval(name, 0);
    } catch (e) {
      if (e instanceof Unfoldable) {
        throw new GruCheckError('UNSUPPORTED_ONNX', `GRU node ${showNode(gru)}: its ${what} '${name}' is computed by the graph, ${e.message}: gru-check reads weights that are stored, or computed from stored ones by shape and selection ops only (${FOLDED_OPS.join(', ')})`, { file: this.file, hint: COMPUTED_HINT });
      }
      throw e;
    }
  }

  private eval(name: string, depth: number): NdArray {
    const stored = this.bundle.arrays.get(name);
    if (stored) return stored;
    const hit = this.memo.get(name);
    if (hit) return hit;
    const p = this.producer.get(name);
    if (!p) {
      const isInput = this.bundle.onnx!.inputs.some((i) => i.name === name);
      throw new Unfoldable(isInput ? `from the graph input '${name}'` : `from '${name}', which no node produces`);
    }
    if (depth > 512 || this.active.has(name)) throw new GruCheckError('BAD_ONNX', `GRU weights: value '${name}' depends on itself or lies more than 512 ops deep`, { file: this.file });
    this.active.add(name);
    const v = this.op(p.node, p.index, depth + 1);
    this.active.delete(name);
    this.memo.set(name, v);
    return v;
  }

  private make(like: NdArray, dtype: DType, shape: number[], data: NumericData, node: OnnxNode): NdArray {
    return { name: node.outputs[0] ?? '', dtype, shape, data };
  }

  /** Refuse before allocating what the budget does not hold. */
  private reserve(shape: readonly number[], itemsize: number, node: OnnxNode): void {
    const n = size(shape);
    if (!Number.isFinite(n) || n > MAX_TYPED_LENGTH || (this.budget -= n * itemsize) < 0) {
      throw new GruCheckError('TOO_LARGE', `${node.opType} node ${showNode(node)}: its output [${shape.join(', ')}] would take more memory than the limit`, { file: this.file, hint: 'raise --max-bytes if the machine has the memory' });
    }
  }

  private op(n: OnnxNode, outIndex: number, depth: number): NdArray {
    const bad = (why: string): never => {
      throw new GruCheckError('BAD_ONNX', `${n.opType} node ${showNode(n)}: ${why}`, { file: this.file });
    };
    if (n.domain !== '' && n.domain !== 'ai.onnx') throw new Unfoldable(`by a ${n.domain}.${n.opType} node (${showNode(n)})`);
    const opset = this.bundle.onnx!.opsetVersion ?? 22;
    const input = (i: number): NdArray => {
      const v = n.inputs[i];
      if (!v) bad(`input ${i} is missing`);
      return this.eval(v!, depth);
    };
    const optional = (i: number): NdArray | undefined => (n.inputs[i] ? this.eval(n.inputs[i]!, depth) : undefined);
    const intsAttr = (k: string): number[] | undefined => {
      const a = n.attributes[k];
      return a?.type === 'ints' ? a.value : undefined;
    };
    const intAttr = (k: string): number | undefined => {
      const a = n.attributes[k];
      return a?.type === 'int' ? a.value : undefined;
    };
    const intList = (a: NdArray, what: string): number[] => {
      if (!isInt(a) || a.shape.length > 1) bad(`${what} must be a 0-d or 1-d integer tensor, got ${a.dtype} [${a.shape.join(', ')}]`);
      return numbers(a);
    };
    const axisOf = (ax: number, rank: number): number => {
      const r = ax < 0 ? ax + rank : ax;
      if (!Number.isInteger(r) || r < 0 || r >= rank) bad(`axis ${ax} is out of range for rank ${rank}`);
      return r;
    };
    const itemsize = (a: NdArray): number => (a.data as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;

    switch (n.opType) {
      case 'Constant': {
        const a = n.attributes;
        const t = a.value;
        if (t?.type === 'tensor') return t.value;
        if (a.value_float?.type === 'float') return { name: '', dtype: 'float32', shape: [], data: Float32Array.of(a.value_float.value) };
        if (a.value_floats?.type === 'floats') return { name: '', dtype: 'float32', shape: [a.value_floats.value.length], data: Float32Array.from(a.value_floats.value) };
        if (a.value_int?.type === 'int') return { name: '', dtype: 'int64', shape: [], data: BigInt64Array.of(BigInt(a.value_int.value)) };
        if (a.value_ints?.type === 'ints') return { name: '', dtype: 'int64', shape: [a.value_ints.value.length], data: BigInt64Array.from(a.value_ints.value, (x) => BigInt(x)) };
        throw new Unfoldable(`by a Constant node (${showNode(n)}) whose value is not a numeric tensor`);
      }
      case 'Identity':
        return input(0);
      case 'Cast': {
        const x = input(0);
        const to = CAST_TO[intAttr('to') ?? -1];
        if (!to) throw new Unfoldable(`by a Cast node (${showNode(n)}) to data type ${intAttr('to')}`);
        if (to === x.dtype) return x;
        if (to === 'float16' || to === 'bfloat16') throw new Unfoldable(`by a Cast node (${showNode(n)}) to ${to} (a rounding gru-check does not repeat)`);
        this.reserve(x.shape, 8, n);
        const src = Array.from(x.data as ArrayLike<number | bigint>, Number);
        const data: NumericData = to === 'float32' ? Float32Array.from(src) : to === 'float64' ? Float64Array.from(src) : to === 'int32' ? Int32Array.from(src, Math.trunc) : BigInt64Array.from(src, (v) => BigInt(Math.trunc(v)));
        return this.make(x, to, [...x.shape], data, n);
      }
      case 'Reshape': {
        const x = input(0);
        const want = opset >= 5 ? intList(input(1), 'shape') : (intsAttr('shape') ?? bad('no shape'));
        const allowzero = intAttr('allowzero') === 1;
        const shape = want.map((d, i) => (d === 0 && !allowzero ? x.shape[i] ?? bad('shape copies a dim the input lacks') : d));
        const minus = shape.filter((d) => d === -1).length;
        if (minus > 1 || shape.some((d) => d < -1)) bad(`shape [${want.join(', ')}] is not a shape`);
        if (minus === 1) {
          const rest = size(shape.filter((d) => d !== -1));
          const total = size(x.shape);
          if (rest === 0 || total % rest !== 0) bad(`cannot reshape [${x.shape.join(', ')}] to [${want.join(', ')}]`);
          shape[shape.indexOf(-1)] = total / rest;
        }
        if (size(shape) !== size(x.shape)) bad(`cannot reshape [${x.shape.join(', ')}] (${size(x.shape)} elements) to [${shape.join(', ')}]`);
        return this.make(x, x.dtype, shape, x.data as NumericData, n);
      }
      case 'Transpose': {
        const x = input(0);
        const r = x.shape.length;
        const perm = intsAttr('perm') ?? x.shape.map((_, i) => r - 1 - i);
        if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) bad(`perm [${perm.join(', ')}] is not a permutation of ${r} axes`);
        const shape = perm.map((p) => x.shape[p]!);
        const st = strides(x.shape);
        this.reserve(shape, itemsize(x), n);
        return this.make(x, x.dtype, shape, gatherBy(x.data as NumericData, shape, (idx) => idx.reduce((s, v, k) => s + v * st[perm[k]!]!, 0)), n);
      }
      case 'Squeeze':
      case 'Unsqueeze': {
        const x = input(0);
        const axesIn = opset >= 13 ? optional(1) : undefined;
        const axes = axesIn ? intList(axesIn, 'axes') : intsAttr('axes');
        if (n.opType === 'Squeeze') {
          const r = x.shape.length;
          const drop = new Set((axes ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => axisOf(a, r)));
          for (const a of drop) if (x.shape[a] !== 1) bad(`axis ${a} has size ${x.shape[a]}, not 1`);
          return this.make(x, x.dtype, x.shape.filter((_, i) => !drop.has(i)), x.data as NumericData, n);
        }
        if (!axes) bad('no axes');
        const r = x.shape.length + axes!.length;
        const add = new Set(axes!.map((a) => axisOf(a, r)));
        if (add.size !== axes!.length) bad('axes repeat');
        const shape: number[] = [];
        let k = 0;
        for (let i = 0; i < r; i++) shape.push(add.has(i) ? 1 : x.shape[k++]!);
        return this.make(x, x.dtype, shape, x.data as NumericData, n);
      }
      case 'Slice': {
        const x = input(0);
        const r = x.shape.length;
        const [starts, ends, axes0, steps0] = opset >= 10
          ? [intList(input(1), 'starts'), intList(input(2), 'ends'), optional(3) && intList(optional(3)!, 'axes'), optional(4) && intList(optional(4)!, 'steps')]
          : [intsAttr('starts') ?? bad('no starts'), intsAttr('ends') ?? bad('no ends'), intsAttr('axes'), undefined];
        const axes = (axes0 ?? starts.map((_, i) => i)).map((a) => axisOf(a, r));
        const steps = steps0 ?? starts.map(() => 1);
        if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) bad('starts, ends, axes and steps differ in length');
        const begin = x.shape.map(() => 0);
        const step = x.shape.map(() => 1);
        const shape = [...x.shape];
        axes.forEach((ax, i) => {
          const dim = x.shape[ax]!;
          const s = steps[i]!;
          if (s === 0) bad('a step is 0');
          const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v < 0 ? v + dim : v, lo), hi);
          const b = s > 0 ? clamp(starts[i]!, 0, dim) : clamp(starts[i]!, -1, dim - 1);
          const e = s > 0 ? clamp(ends[i]!, 0, dim) : clamp(ends[i]!, -1, dim - 1);
          begin[ax] = b;
          step[ax] = s;
          shape[ax] = Math.max(0, Math.ceil((e - b) / s));
        });
        const st = strides(x.shape);
        this.reserve(shape, itemsize(x), n);
        return this.make(x, x.dtype, shape, gatherBy(x.data as NumericData, shape, (idx) => idx.reduce((o, v, k) => o + (begin[k]! + v * step[k]!) * st[k]!, 0)), n);
      }
      case 'Split': {
        const x = input(0);
        const ax = axisOf(intAttr('axis') ?? 0, x.shape.length);
        const dim = x.shape[ax]!;
        const outs = n.outputs.length;
        const splitIn = opset >= 13 ? optional(1) : undefined;
        let parts = splitIn ? intList(splitIn, 'split') : intsAttr('split');
        if (!parts) {
          const k = intAttr('num_outputs') ?? outs;
          const chunk = Math.ceil(dim / k);
          parts = Array.from({ length: k }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
        }
        if (parts.length !== outs || parts.reduce((a, b) => a + b, 0) !== dim || parts.some((p) => p < 0)) bad(`split [${parts.join(', ')}] does not cut axis ${ax} of size ${dim} into ${outs} parts`);
        const from = parts.slice(0, outIndex).reduce((a, b) => a + b, 0);
        const shape = [...x.shape];
        shape[ax] = parts[outIndex]!;
        const st = strides(x.shape);
        this.reserve(shape, itemsize(x), n);
        return this.make(x, x.dtype, shape, gatherBy(x.data as NumericData, shape, (idx) => idx.reduce((o, v, k) => o + (k === ax ? v + from : v) * st[k]!, 0)), n);
      }
      case 'Concat': {
        const xs = n.inputs.map((_, i) => input(i));
        const first = xs[0] ?? bad('no inputs');
        const ax = axisOf(intAttr('axis') ?? bad('no axis'), first!.shape.length);
        for (const x of xs) {
          if (x.dtype !== first!.dtype || x.shape.length !== first!.shape.length || x.shape.some((d, k) => k !== ax && d !== first!.shape[k])) bad(`inputs [${xs.map((v) => v.shape.join(', ')).join('], [')}] do not concatenate on axis ${ax}`);
        }
        const shape = [...first!.shape];
        shape[ax] = xs.reduce((s, x) => s + x.shape[ax]!, 0);
        this.reserve(shape, itemsize(first!), n);
        const outer = size(shape.slice(0, ax));
        const out = alloc(first!.data as NumericData, size(shape)) as unknown as { set(a: ArrayLike<unknown>, o: number): void };
        let o = 0;
        for (let i = 0; i < outer; i++) {
          for (const x of xs) {
            const block = size(x.shape.slice(ax));
            out.set((x.data as NumericData).subarray(i * block, (i + 1) * block) as ArrayLike<unknown>, o);
            o += block;
          }
        }
        return this.make(first!, first!.dtype, shape, out as unknown as NumericData, n);
      }
      case 'Gather': {
        const x = input(0);
        const ind = input(1);
        if (!isInt(ind)) bad('indices must be integers');
        const ax = axisOf(intAttr('axis') ?? 0, x.shape.length);
        const dim = x.shape[ax]!;
        const idx = numbers(ind).map((v) => (v < 0 ? v + dim : v));
        if (idx.some((v) => v < 0 || v >= dim)) bad(`an index is out of range for axis ${ax} of size ${dim}`);
        const shape = [...x.shape.slice(0, ax), ...ind.shape, ...x.shape.slice(ax + 1)];
        const st = strides(x.shape);
        const ist = strides(ind.shape);
        const ir = ind.shape.length;
        this.reserve(shape, itemsize(x), n);
        return this.make(x, x.dtype, shape, gatherBy(x.data as NumericData, shape, (o) => {
          let flat = 0;
          for (let k = 0; k < ir; k++) flat += o[ax + k]! * ist[k]!;
          let s = idx[flat]! * st[ax]!;
          for (let k = 0; k < ax; k++) s += o[k]! * st[k]!;
          for (let k = ax + 1; k < x.shape.length; k++) s += o[k + ir - 1]! * st[k]!;
          return s;
        }), n);
      }
      case 'Shape': {
        const v = n.inputs[0] ?? bad('no input');
        let dims: (number | string | null)[];
        const declared = this.bundle.onnx!.inputs.find((i) => i.name === v);
        if (declared && !this.bundle.arrays.has(v!)) {
          if (!declared.shape) throw new Unfoldable(`from the shape of the graph input '${v}', which the model does not declare`);
          dims = declared.shape;
        } else {
          dims = this.eval(v!, depth).shape;
        }
        const r = dims.length;
        const lo = Math.min(Math.max((intAttr('start') ?? 0) < 0 ? (intAttr('start') ?? 0) + r : intAttr('start') ?? 0, 0), r);
        const e0 = intAttr('end') ?? r;
        const hi = Math.min(Math.max(e0 < 0 ? e0 + r : e0, 0), r);
        const sel = dims.slice(lo, Math.max(lo, hi));
        if (sel.some((d) => typeof d !== 'number')) throw new Unfoldable(`from dims of '${v}' that are not fixed (${sel.join(', ')})`);
        return { name: '', dtype: 'int64', shape: [sel.length], data: BigInt64Array.from(sel as number[], (d) => BigInt(d)) };
      }
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div': {
        const a = input(0);
        const b = input(1);
        if (!isInt(a) || !isInt(b)) throw new Unfoldable(`by a ${n.opType} node (${showNode(n)}) on ${isInt(a) ? b.dtype : a.dtype} data`);
        const r = Math.max(a.shape.length, b.shape.length);
        const pa = [...Array(r - a.shape.length).fill(1), ...a.shape] as number[];
        const pb = [...Array(r - b.shape.length).fill(1), ...b.shape] as number[];
        const shape = pa.map((d, k) => (d === pb[k] || pb[k] === 1 ? d : d === 1 ? pb[k]! : bad(`shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] do not broadcast`)));
        this.reserve(shape, 8, n);
        const sa = strides(pa).map((s, k) => (pa[k] === 1 ? 0 : s));
        const sb = strides(pb).map((s, k) => (pb[k] === 1 ? 0 : s));
        const A = numbers(a);
        const B = numbers(b);
        const f = { Add: (x: number, y: number) => x + y, Sub: (x: number, y: number) => x - y, Mul: (x: number, y: number) => x * y, Div: (x: number, y: number) => (y === 0 ? bad('division by zero') : Math.trunc(x / y)) }[n.opType]!;
        const out = new Float64Array(size(shape));
        const idx = new Array<number>(r).fill(0);
        for (let i = 0; i < out.length; i++) {
          out[i] = f(A[idx.reduce((s, v, k) => s + v * sa[k]!, 0)]!, B[idx.reduce((s, v, k) => s + v * sb[k]!, 0)]!);
          for (let k = r - 1; k >= 0; k--) {
            if (++idx[k]! < shape[k]!) break;
            idx[k] = 0;
          }
        }
        const dtype = a.dtype === 'int32' && b.dtype === 'int32' ? 'int32' : 'int64';
        return { name: '', dtype, shape, data: dtype === 'int32' ? Int32Array.from(out) : BigInt64Array.from(out, (v) => BigInt(v)) };
      }
      default:
        throw new Unfoldable(`by a ${n.opType} node (${showNode(n)})`);
    }
  }
}

/** A value the folder cannot compute: turned into one UNSUPPORTED_ONNX naming the GRU input. */
class Unfoldable extends Error {}
