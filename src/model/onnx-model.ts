/**
 * The GRU of an .onnx model (io/onnx.ts read its graph and initializers) as one stack: its GRU
 * nodes' W, R, B and attributes. torch.onnx.export writes an L-layer nn.GRU as L GRU nodes, each
 * reading the previous one's Y through Transpose/Reshape ([T, D, B, H] -> [T, B, D·H]); such a chain
 * is assembled into one L-layer stack. A model holding several unrelated GRUs (an encoder and a
 * decoder) needs --node NAME, any node of the chain wanted.
 *
 * Every node of a chain must have the same direction, hidden_size and gate math (linear_before_reset,
 * clip, activations): gru-check runs one gate math per direction for a whole stack, and refuses,
 * naming the attribute, what it would otherwise compute wrong. Nothing in the graph is run here.
 */
import { GruCheckError } from '../errors.js';
import type { ArrayBundle, NdArray, OnnxAttribute, OnnxNode } from '../io/types.js';
import { floatTensor, fmtShape } from './arrays.js';
import { onnxDirectionMath } from './activations.js';
import { onnxDirections } from './onnx.js';
import { PYTORCH_MATH, withMath, type GateMath } from '../gru/math.js';
import type { CaseWarning } from './config.js';
import type { GruDirectionParams, GruParams, Tensor } from './types.js';

export interface OnnxGruStack {
  params: GruParams;
  /** The gate math, one per direction. */
  math: GateMath[];
  /** The chain's node names, layer 0 first. */
  nodes: string[];
}

/** Ops that only move data between two GRU nodes of an exported stack. */
const PASS_THROUGH = new Set(['Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Identity', 'Cast', 'Flatten']);

const attr = (n: OnnxNode, name: string): OnnxAttribute | undefined => n.attributes[name];
const intAttr = (n: OnnxNode, name: string): number | undefined => {
  const a = attr(n, name);
  return a?.type === 'int' ? a.value : undefined;
};
const floatAttr = (n: OnnxNode, name: string): number | undefined => {
  const a = attr(n, name);
  return a?.type === 'float' ? a.value : a?.type === 'int' ? a.value : undefined;
};
const showNode = (n: OnnxNode): string => n.name || `(unnamed ${n.opType} -> ${n.outputs[0] ?? '?'})`;

/** The GRU nodes of the model, grouped into chains (layer 0 first). */
export function gruChains(bundle: ArrayBundle): OnnxNode[][] {
  const g = bundle.onnx!;
  const isGru = (n: OnnxNode): boolean => n.opType === 'GRU' && (n.domain === '' || n.domain === 'ai.onnx');
  const producer = new Map<string, OnnxNode>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  /** The GRU node whose Y feeds this node's X, through ops that only move data. */
  const previous = (n: OnnxNode): OnnxNode | undefined => {
    let v = n.inputs[0];
    for (let hops = 0; v && hops < 16; hops++) {
      const p = producer.get(v);
      if (!p) return undefined;
      if (isGru(p)) return p.outputs[0] === v ? p : undefined;
      if (!PASS_THROUGH.has(p.opType)) return undefined;
      v = p.inputs[0];
    }
    return undefined;
  };
  const grus = g.nodes.filter(isGru);
  const next = new Map<OnnxNode, OnnxNode[]>();
  const heads: OnnxNode[] = [];
  for (const n of grus) {
    const p = previous(n);
    if (p) next.set(p, [...(next.get(p) ?? []), n]);
    else heads.push(n);
  }
  return heads.map((h) => {
    const chain = [h];
    for (let n = next.get(h); n && n.length === 1; n = next.get(n[0]!)) chain.push(n[0]!);
    return chain;
  });
}

/** A node input's tensor: an initializer, or a Constant node's value. */
function tensorOf(bundle: ArrayBundle, name: string, what: string, node: OnnxNode, file: string): NdArray {
  const init = bundle.arrays.get(name);
  if (init) return init;
  const c = bundle.onnx!.nodes.find((n) => n.opType === 'Constant' && n.outputs[0] === name);
  const v = c && attr(c, 'value');
  if (v?.type === 'tensor') return v.value;
  throw new GruCheckError('UNSUPPORTED_ONNX', `GRU node ${showNode(node)}: its ${what} '${name}' is computed by the graph, not stored: gru-check reads stored weights only`, { file });
}

/** The GRU stack of the model: the one chain there is, or the one holding node `pick`. */
export function onnxGruStack(bundle: ArrayBundle, pick: string | undefined, warnings: CaseWarning[]): OnnxGruStack {
  const file = bundle.source;
  const chains = gruChains(bundle);
  const describe = (c: OnnxNode[]): string => `${showNode(c[0]!)}${c.length > 1 ? ` (${c.length} layers)` : ''}`;
  if (chains.length === 0) throw new GruCheckError('MISSING_ARRAY', 'the ONNX model holds no GRU node', { file });
  let chain: OnnxNode[];
  if (pick !== undefined) {
    const found = chains.find((c) => c.some((n) => n.name === pick));
    if (!found) throw new GruCheckError('USAGE', `--node ${pick}: no GRU node of that name; the model's GRUs: ${chains.map(describe).join(', ')}`, { file });
    chain = found;
  } else if (chains.length > 1) {
    throw new GruCheckError('AMBIGUOUS_PREFIX', `several GRUs in the ONNX model: ${chains.map(describe).join(', ')}`, { file, hint: `pick one with --node, e.g. --node ${chains[0]![0]!.name}` });
  } else {
    chain = chains[0]!;
  }

  // The attributes every layer must share.
  const first = chain[0]!;
  const direction = attr(first, 'direction')?.type === 'string' ? (attr(first, 'direction') as { value: string }).value : 'forward';
  const shared = (n: OnnxNode): string => JSON.stringify(['direction', 'linear_before_reset', 'clip', 'activations', 'activation_alpha', 'activation_beta', 'layout'].map((k) => attr(n, k) ?? null));
  for (const n of chain.slice(1)) {
    if (shared(n) !== shared(first)) {
      throw new GruCheckError('UNSUPPORTED_ONNX', `GRU nodes ${showNode(first)} and ${showNode(n)} of one stack differ in their attributes (direction, linear_before_reset, clip, activations or layout)`, { file, hint: 'gru-check runs one gate math for a whole stack: check the layers separately with --node' });
    }
  }
  if (intAttr(first, 'layout') === 1) {
    throw new GruCheckError('UNSUPPORTED_ONNX', `GRU node ${showNode(first)}: layout=1 in an exported model is not read here`, { file, hint: 'export with batch-major handled by Transpose nodes (torch.onnx.export does)' });
  }
  const D = direction === 'bidirectional' ? 2 : 1;
  const layers: GruDirectionParams[][] = [];
  let H = 0;
  let inputSize = 0;
  let dtype: GruParams['dtype'] = 'float32';
  chain.forEach((n, k) => {
    const W = floatTensor(tensorOf(bundle, n.inputs[1] ?? '', 'W', n, file), file);
    const R = floatTensor(tensorOf(bundle, n.inputs[2] ?? '', 'R', n, file), file);
    const Bname = n.inputs[3];
    const B6: Tensor | undefined = Bname ? floatTensor(tensorOf(bundle, Bname, 'B', n, file), file) : undefined;
    if (R.shape.length !== 3 || R.shape[0] !== D || R.shape[1] !== 3 * R.shape[2]!) {
      throw new GruCheckError('SHAPE_MISMATCH', `GRU node ${showNode(n)}: R expected [${D}, 3*hidden_size, hidden_size], got ${fmtShape(R.shape)}`, { file });
    }
    const h = R.shape[2]!;
    const hs = intAttr(n, 'hidden_size');
    if (hs !== undefined && hs !== h) throw new GruCheckError('SHAPE_MISMATCH', `GRU node ${showNode(n)}: hidden_size ${hs} disagrees with R ${fmtShape(R.shape)}`, { file });
    if (k === 0) {
      H = h;
      dtype = W.dtype;
    } else if (h !== H) {
      throw new GruCheckError('SHAPE_MISMATCH', `GRU node ${showNode(n)}: hidden_size ${h}, but layer 0 has ${H}`, { file });
    }
    const I = k === 0 ? W.shape[2]! : D * H;
    if (W.shape.length !== 3 || W.shape[0] !== D || W.shape[1] !== 3 * H || W.shape[2] !== I) {
      throw new GruCheckError('SHAPE_MISMATCH', `GRU node ${showNode(n)}: W expected [${D}, ${3 * H}, ${k === 0 ? 'input_size' : I}], got ${fmtShape(W.shape)}`, { file });
    }
    if (B6 && (B6.shape.length !== 2 || B6.shape[0] !== D || B6.shape[1] !== 6 * H)) {
      throw new GruCheckError('SHAPE_MISMATCH', `GRU node ${showNode(n)}: B expected [${D}, ${6 * H}], got ${fmtShape(B6.shape)}`, { file });
    }
    if (k === 0) inputSize = I;
    layers.push(onnxDirections(W, R, B6, D, H, I, dtype));
  });
  const params: GruParams = { inputSize, hiddenSize: H, numLayers: chain.length, bidirectional: D === 2, bias: layers[0]![0]!.biasIh !== undefined, dtype, layers };
  if (direction === 'reverse') params.reverseOnly = true;
  // Every bias present or none: an exported stack has them on every node or on none.
  if (layers.some((l) => (l[0]!.biasIh !== undefined) !== params.bias)) {
    throw new GruCheckError('UNSUPPORTED_ONNX', 'some GRU nodes of the stack have a bias B and others not', { file });
  }

  const acts = attr(first, 'activations');
  const alpha = attr(first, 'activation_alpha');
  const beta = attr(first, 'activation_beta');
  const activations = acts?.type === 'strings' ? acts.value : undefined;
  const base = withMath(PYTORCH_MATH, { linearBeforeReset: (intAttr(first, 'linear_before_reset') ?? 0) === 1, clip: floatAttr(first, 'clip') ?? null });
  const math = onnxDirectionMath(base, D, activations || alpha || beta
    ? { activations: activations ?? (D === 2 ? ['Sigmoid', 'Tanh', 'Sigmoid', 'Tanh'] : ['Sigmoid', 'Tanh']), alpha: alpha?.type === 'floats' ? alpha.value : undefined, beta: beta?.type === 'floats' ? beta.value : undefined, source: `node ${showNode(first)}` }
    : undefined, file, warnings);
  return { params, math, nodes: chain.map((n) => n.name) };
}
