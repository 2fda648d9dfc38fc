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
import type { ArrayBundle, OnnxNode } from '../io/types.js';
import { floatTensor, shapeInBrackets, toStorage } from './arrays.js';
import { onnxDirectionMath, type OnnxActivationInput } from './activations.js';
import { onnxNodeSettings, showNode, type OnnxNodeSettings } from './onnx-attrs.js';
import { OnnxFolder } from './onnx-fold.js';
import { reorderRows } from './gates.js';
import { PYTORCH_MATH, withMath, type GateMath } from './math.js';
import type { CaseWarning } from './config.js';
import type { FloatDType, GruDirectionParams, GruParams, Tensor } from './types.js';

export interface OnnxGruStack {
  params: GruParams;
  /** The gate math, one per direction. */
  math: GateMath[];
  /** The chain's node names, layer 0 first. */
  nodes: string[];
}

/** Ops that only move data between two GRU nodes of an exported stack. */
const PASS_THROUGH = new Set(['Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Identity', 'Cast', 'Flatten']);


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

/**
 * One ONNX GRU node's W [D, 3H, I], R [D, 3H, H] and B [D, 6H] as PyTorch's per-direction
 * weights: gate blocks z|r|h reordered to r|z|n, B split into its input and recurrent halves.
 */
export function onnxDirections(W: Tensor, R: Tensor, B6: Tensor | undefined, D: number, H: number, I: number, dtype: FloatDType, gateOrder: 'zrn' | 'rzn' = 'zrn'): GruDirectionParams[] {
  const from = gateOrder === 'rzn' ? 'rzn' : 'zrh';
  const dirs: GruDirectionParams[] = [];
  for (let d = 0; d < D; d++) {
    const p: GruDirectionParams = {
      weightIh: reorderRows(toStorage(W.data, dtype).subarray(d * 3 * H * I, (d + 1) * 3 * H * I), H, I, from),
      weightHh: reorderRows(toStorage(R.data, dtype).subarray(d * 3 * H * H, (d + 1) * 3 * H * H), H, H, from),
      inputSize: I,
    };
    if (B6) {
      const b = toStorage(B6.data, dtype).subarray(d * 6 * H, (d + 1) * 6 * H);
      p.biasIh = reorderRows(b.subarray(0, 3 * H), H, 1, from);
      p.biasHh = reorderRows(b.subarray(3 * H), H, 1, from);
    }
    dirs.push(p);
  }
  return dirs;
}

/** The chain holding node `pick`, or the one chain there is. */
function chooseChain(bundle: ArrayBundle, pick: string | undefined): OnnxNode[] {
  const file = bundle.source;
  const chains = gruChains(bundle);
  const describe = (c: OnnxNode[]): string => `${showNode(c[0]!)}${c.length > 1 ? ` (${c.length} layers)` : ''}`;
  if (chains.length === 0) throw new GruCheckError('MISSING_ARRAY', 'the ONNX model holds no GRU node', { file });
  if (pick !== undefined) {
    const found = chains.find((c) => c.some((n) => n.name === pick));
    if (!found) throw new GruCheckError('USAGE', `--node ${pick}: no GRU node of that name; the model's GRUs: ${chains.map(describe).join(', ')}`, { file });
    return found;
  }
  if (chains.length > 1) {
    throw new GruCheckError('AMBIGUOUS_PREFIX', `several GRUs in the ONNX model: ${chains.map(describe).join(', ')}`, { file, hint: `pick one with --node, e.g. --node ${chains[0]![0]!.name}` });
  }
  return chains[0]!;
}

/**
 * The one GRU node an ONNX-layout case (X, initial_h, Y, Y_h: one node's tensors) is checked
 * against: `--node NAME` exactly, or the model's only GRU node.
 */
export function chooseOnnxNode(bundle: ArrayBundle, pick: string | undefined): OnnxNode {
  const file = bundle.source;
  const grus = gruChains(bundle).flat();
  if (grus.length === 0) throw new GruCheckError('MISSING_ARRAY', 'the ONNX model holds no GRU node', { file });
  if (pick !== undefined) {
    const n = grus.find((g) => g.name === pick);
    if (!n) throw new GruCheckError('USAGE', `--node ${pick}: no GRU node of that name; the model's GRU nodes: ${grus.map(showNode).join(', ')}`, { file });
    return n;
  }
  if (grus.length > 1) {
    throw new GruCheckError('AMBIGUOUS_PREFIX', `several GRU nodes in the ONNX model (${grus.map(showNode).join(', ')}) and an ONNX-layout case holds one node's X, Y and Y_h`, {
      file,
      hint: `pick the node with --node, e.g. --node ${grus[0]!.name}; a whole exported stack is checked with a PyTorch-layout case (input, h0, output, h_n)`,
    });
  }
  return grus[0]!;
}

export interface OnnxNodeWeights {
  W: Tensor;
  R: Tensor;
  B: Tensor | undefined;
  D: number;
  H: number;
  I: number;
}

/**
 * A node's W, R and B (stored, or folded from stored tensors: onnx-fold.ts), their shapes checked
 * against each other, the node's direction and hidden_size. `inputSize` is the width layer k > 0
 * must take.
 */
export function onnxNodeWeights(folder: OnnxFolder, n: OnnxNode, s: OnnxNodeSettings, file: string, inputSize?: number): OnnxNodeWeights {
  const D = s.direction === 'bidirectional' ? 2 : 1;
  const W = floatTensor(folder.value(n.inputs[1] ?? '', 'W', n), file);
  const R = floatTensor(folder.value(n.inputs[2] ?? '', 'R', n), file);
  const Bname = n.inputs[3];
  const B = Bname ? floatTensor(folder.value(Bname, 'B', n), file) : undefined;
  if (R.shape.length !== 3 || R.shape[0] !== D || R.shape[1] !== 3 * R.shape[2]! || R.shape[2] === 0) {
    throw new GruCheckError('SHAPE_MISMATCH', `GRU node ${showNode(n)}: R expected [${D}, 3*hidden_size, hidden_size] (num_directions ${D}: direction "${s.direction}"), got ${shapeInBrackets(R.shape)}`, { file });
  }
  const H = R.shape[2]!;
  if (s.hiddenSize !== undefined && s.hiddenSize !== H) throw new GruCheckError('SHAPE_MISMATCH', `GRU node ${showNode(n)}: hidden_size ${s.hiddenSize} disagrees with R ${shapeInBrackets(R.shape)}`, { file });
  if (W.shape.length !== 3 || W.shape[0] !== D || W.shape[1] !== 3 * H || W.shape[2] === 0 || (inputSize !== undefined && W.shape[2] !== inputSize)) {
    throw new GruCheckError('SHAPE_MISMATCH', `GRU node ${showNode(n)}: W expected [${D}, ${3 * H}, ${inputSize ?? 'input_size'}], got ${shapeInBrackets(W.shape)}`, { file });
  }
  if (B && (B.shape.length !== 2 || B.shape[0] !== D || B.shape[1] !== 6 * H)) {
    throw new GruCheckError('SHAPE_MISMATCH', `GRU node ${showNode(n)}: B expected [${D}, ${6 * H}], got ${shapeInBrackets(B.shape)}`, { file });
  }
  if (B && B.dtype !== W.dtype) throw new GruCheckError('UNSUPPORTED_DTYPE', `GRU node ${showNode(n)}: B is ${B.dtype}, W is ${W.dtype}`, { file });
  return { W, R, B, D, H, I: W.shape[2]! };
}

/** The activations a node's settings describe, for onnxDirectionMath (undefined: sigmoid, tanh). */
export function nodeActivations(s: OnnxNodeSettings, D: number, source: string): OnnxActivationInput | undefined {
  if (!s.activations && !s.activationAlpha && !s.activationBeta) return undefined;
  return { activations: s.activations ?? (D === 2 ? ['Sigmoid', 'Tanh', 'Sigmoid', 'Tanh'] : ['Sigmoid', 'Tanh']), alpha: s.activationAlpha, beta: s.activationBeta, source };
}

/** The GRU stack of the model: the one chain there is, or the one holding node `pick`. */
export function onnxGruStack(bundle: ArrayBundle, pick: string | undefined, warnings: CaseWarning[], maxBytes?: number): OnnxGruStack {
  const file = bundle.source;
  const chain = chooseChain(bundle, pick);
  const settings = chain.map((n) => onnxNodeSettings(n, file));
  // The attributes every layer must share.
  const first = chain[0]!;
  const s0 = settings[0]!;
  const shared = (s: OnnxNodeSettings): string => JSON.stringify([s.direction, s.linearBeforeReset, s.clip, s.activations, s.activationAlpha, s.activationBeta, s.layout]);
  chain.forEach((n, k) => {
    if (shared(settings[k]!) !== shared(s0)) {
      throw new GruCheckError('UNSUPPORTED_ONNX', `GRU nodes ${showNode(first)} and ${showNode(n)} of one stack differ in their attributes (direction, linear_before_reset, clip, activations or layout)`, { file, hint: 'gru-check runs one gate math for a whole stack: check the layers separately with --node' });
    }
  });
  if (s0.layout === 1) {
    throw new GruCheckError('UNSUPPORTED_ONNX', `GRU node ${showNode(first)}: layout=1 in an exported model is not read with a PyTorch-layout case`, { file, hint: 'check the node with an ONNX-layout case (X [batch, seq, input], Y, Y_h), or export with batch-major handled by Transpose nodes (torch.onnx.export does)' });
  }
  const folder = new OnnxFolder(bundle, file, maxBytes);
  const layers: GruDirectionParams[][] = [];
  let H = 0;
  let inputSize = 0;
  let dtype: GruParams['dtype'] = 'float32';
  chain.forEach((n, k) => {
    const w = onnxNodeWeights(folder, n, settings[k]!, file, k === 0 ? undefined : (s0.direction === 'bidirectional' ? 2 : 1) * H);
    if (k === 0) {
      H = w.H;
      inputSize = w.I;
      dtype = w.W.dtype;
    } else if (w.H !== H) {
      throw new GruCheckError('SHAPE_MISMATCH', `GRU node ${showNode(n)}: hidden_size ${w.H}, but layer 0 has ${H}`, { file });
    }
    layers.push(onnxDirections(w.W, w.R, w.B, w.D, w.H, w.I, dtype));
  });
  const D = s0.direction === 'bidirectional' ? 2 : 1;
  const params: GruParams = { inputSize, hiddenSize: H, numLayers: chain.length, bidirectional: D === 2, bias: layers[0]![0]!.biasIh !== undefined, dtype, layers };
  if (s0.direction === 'reverse') params.reverseOnly = true;
  // Every bias present or none: an exported stack has them on every node or on none.
  if (layers.some((l) => (l[0]!.biasIh !== undefined) !== params.bias)) {
    throw new GruCheckError('UNSUPPORTED_ONNX', 'some GRU nodes of the stack have a bias B and others not', { file });
  }
  const base = withMath(PYTORCH_MATH, { linearBeforeReset: s0.linearBeforeReset, clip: s0.clip });
  const math = onnxDirectionMath(base, D, nodeActivations(s0, D, `node ${showNode(first)}`), file, warnings);
  return { params, math, nodes: chain.map((n) => n.name) };
}
