// ONNX models built in the tests with ONNX's own schema (onnx-proto's encoder): one GRU node with
// chosen attributes and W/R/B initializers, for what no exporter writes on purpose (invalid
// attributes, hostile names) and for attribute cases whose expected tensors already exist
// (test/fixtures/onnx/, validated against ONNX Runtime and a numpy GRU from the spec).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { loadArrays } from '../../src/io/load.js';
import { members, npyString, tmp, writeNpz } from '../helpers.js';

const schema = onnxProto.onnx;

export type AttrValue = number | string | number[] | string[] | { int: number } | { float: number };

/** An AttributeProto, typed as ONNX types it: integers in {int}, floats in {float} or a number with a fraction. */
export function attribute(name: string, v: AttrValue): Record<string, unknown> {
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
  if (!Array.isArray(v)) return 'int' in v ? { name, type: 2, i: v.int } : { name, type: 1, f: v.float };
  if (v.every((x) => typeof x === 'string')) return { name, type: 8, strings: (v as string[]).map((x) => new TextEncoder().encode(x)) };
  return { name, type: 6, floats: v };
}

export interface GruModel {
  W: { data: Float32Array; dims: number[] };
  R: { data: Float32Array; dims: number[] };
  B?: { data: Float32Array; dims: number[] };
  attrs: Record<string, AttrValue>;
  nodeName?: string;
  /** Initializer names; default W_init, R_init, B_init (not W/R/B, so the node is what finds them). */
  names?: [string, string, string];
  withLengths?: boolean;
  /** Extra nodes before the GRU (for folding tests). */
  extraNodes?: Array<Record<string, unknown>>;
  extraInitializers?: Array<Record<string, unknown>>;
  /** The W initializer as given (e.g. with external data) instead of W's raw_data; null: no W initializer. */
  wInitializer?: Record<string, unknown> | null;
  irVersion?: number;
  /** Opset of the default domain (14). */
  opset?: number;
  /** Cast Y and Y_h to this TensorProto data type (10 float16, 16 bfloat16, 7 int64) before the graph outputs them. */
  castOutputsTo?: number;
  /** This many unused float initializers (ONNX Runtime warns about each one). */
  unusedInitializers?: number;
}

export function gruModelBytes(m: GruModel): Uint8Array {
  const [wn, rn, bn] = m.names ?? ['W_init', 'R_init', 'B_init'];
  const t = (name: string, x: { data: Float32Array; dims: number[] }): Record<string, unknown> => ({ name, dataType: 1, dims: x.dims, rawData: new Uint8Array(x.data.buffer.slice(x.data.byteOffset, x.data.byteOffset + x.data.byteLength)) });
  const inputs = ['X', wn, rn, m.B ? bn : '', m.withLengths ? 'sequence_lens' : '', 'initial_h'];
  const vi = (name: string, elemType = 1): Record<string, unknown> => ({ name, type: { tensorType: { elemType } } });
  const cast = m.castOutputsTo;
  const outs = cast === undefined ? ['Y', 'Y_h'] : ['Y_gru', 'Y_h_gru'];
  const graph = {
    name: 'g',
    node: [
      ...(m.extraNodes ?? []),
      { name: m.nodeName ?? 'gru', opType: 'GRU', input: inputs, output: outs, attribute: Object.entries(m.attrs).map(([k, v]) => attribute(k, v)) },
      ...(cast === undefined ? [] : outs.map((o, i) => ({ opType: 'Cast', input: [o], output: [['Y', 'Y_h'][i]], attribute: [{ name: 'to', type: 2, i: cast }] }))),
    ],
    initializer: [
      ...(m.wInitializer === null ? [] : [m.wInitializer ?? t(wn, m.W)]),
      t(rn, m.R),
      ...(m.B ? [t(bn, m.B)] : []),
      ...(m.extraInitializers ?? []),
      ...Array.from({ length: m.unusedInitializers ?? 0 }, (_, i) => ({ name: `unused_${i}`, dataType: 1, dims: [1], floatData: [i] })),
    ],
    input: [vi('X'), ...(m.withLengths ? [vi('sequence_lens', 6)] : []), vi('initial_h')],
    output: [vi('Y', cast ?? 1), vi('Y_h', cast ?? 1)],
  };
  return schema.ModelProto.encode({ irVersion: m.irVersion ?? 8, opsetImport: [{ domain: '', version: m.opset ?? 14 }], graph }).finish();
}

export function writeModel(dir: string, name: string, m: GruModel): string {
  const p = join(dir, name);
  writeFileSync(p, gruModelBytes(m));
  return p;
}

export const f32 = (a: { data: unknown; shape: number[] }): { data: Float32Array; dims: number[] } => ({ data: Float32Array.from(a.data as Float32Array), dims: a.shape });

/**
 * A spec fixture (test/fixtures/onnx/<name>.npz) split in two: a model holding its W, R, B and
 * its config's attributes on the node, and the case without them (X, initial_h, sequence_lens,
 * Y, Y_h, config {"layout": "onnx"} plus `config`). `attrs` overrides the node's attributes.
 */
export async function splitSpecCase(fixture: string, opts: { attrs?: Record<string, AttrValue>; config?: Record<string, unknown>; nodeName?: string; model?: Partial<GruModel> } = {}): Promise<{ model: string; caseFile: string; dir: string; attrs: Record<string, AttrValue> }> {
  const b = await loadArrays(fixture);
  const cfg = JSON.parse((b.arrays.get('config')!.data as string[])[0]!) as Record<string, unknown>;
  const attrs: Record<string, AttrValue> = { hidden_size: { int: cfg.hidden_size as number }, direction: cfg.direction as string, linear_before_reset: { int: cfg.linear_before_reset as number } };
  if (cfg.clip !== undefined) attrs.clip = { float: cfg.clip as number };
  if (cfg.activations !== undefined) attrs.activations = cfg.activations as string[];
  if (cfg.activation_alpha !== undefined) attrs.activation_alpha = cfg.activation_alpha as number[];
  if (cfg.activation_beta !== undefined) attrs.activation_beta = cfg.activation_beta as number[];
  if (cfg.onnx_layout !== undefined) attrs.layout = { int: cfg.onnx_layout as number };
  Object.assign(attrs, opts.attrs ?? {});
  for (const [k, v] of Object.entries(attrs)) if (v === undefined) delete attrs[k];
  const dir = tmp('gru-check-onnx-node-');
  const model = writeModel(dir, 'model.onnx', {
    W: f32(b.arrays.get('W')!),
    R: f32(b.arrays.get('R')!),
    ...(b.arrays.has('B') ? { B: f32(b.arrays.get('B')!) } : {}),
    attrs,
    nodeName: opts.nodeName ?? 'gru',
    withLengths: b.arrays.has('sequence_lens'),
    ...(opts.model ?? {}),
  });
  const m = members(fixture);
  delete m.W;
  delete m.R;
  delete m.B;
  m.config = npyString(JSON.stringify({ layout: 'onnx', ...(opts.config ?? {}) }));
  const caseFile = writeNpz(join(dir, 'case.npz'), m);
  return { model, caseFile, dir, attrs };
}
