/**
 * ONNX GRU node tensors -> one validated GruCase. ONNX's names and shapes (opset 7+):
 *   layout 0: X [T, B, I]; initial_h [D, B, H]; outputs Y [T, D, B, H] and Y_h [D, B, H]
 *   layout 1: X [B, T, I]; initial_h [B, D, H]; outputs Y [B, T, D, H] and Y_h [B, D, H]
 *   W [D, 3H, I]; R [D, 3H, H]; B [D, 6H] = [Wb_z Wb_r Wb_h | Rb_z Rb_r Rb_h]; sequence_lens [B].
 * Gate blocks are z|r|h (PyTorch: r|z|n) and are reordered here. One node is one layer.
 *
 * With --weights model.onnx, the model's GRU node (--node NAME, or its only one) gives W, R, B and
 * every attribute (onnx-attrs.ts validates them); a flag or config key that contradicts the node
 * is an error naming both values. Otherwise W, R, B are arrays of the case (or --weights file) and
 * the attributes come from flags or config, by their ONNX names: direction, linear_before_reset
 * (default 0 as in ONNX; PyTorch's math is 1), hidden_size (checked against R), clip, activations
 * with activation_alpha / activation_beta (activations.ts), and ONNX's `layout` as `onnx_layout`
 * (gru-check's `layout` names the weight layout). --batch-first / --seq-first (or
 * config.batch_first) mean onnx_layout 1 / 0. `gate_order` / --gate-order "rzn" reads W, R and B
 * stacked r|z|n (WebNN's gru allows either order) instead of ONNX's z|r|h. Every one is computed.
 */
import { GruCheckError } from '../errors.js';
import type { ArrayBundle, NdArray } from '../io/types.js';
import { expectNonEmpty, expectShape, floatTensor, shapeInBrackets, readLengths, swapFirstAxes, toStorage, zerosLike } from './arrays.js';
import type { CaseOptions, OnnxDirection } from './case-options.js';
import { asBit, asBool, asNumbers, asPositive, asPositiveInt, asStrings, oneOf, type CaseConfig, type CaseWarning } from './config.js';
import { onnxDirectionMath } from './activations.js';
import { PYTORCH_MATH, withMath, type Activation, type GateMath } from './math.js';
import { onnxNodeSettings, showNode, type OnnxNodeSettings } from './onnx-attrs.js';
import { OnnxFolder } from './onnx-fold.js';
import { chooseOnnxNode, nodeActivations, onnxDirections, onnxNodeWeights, type OnnxNodeWeights } from './onnx-model.js';
import type { GruCase, GruParams, LayoutSource, Tensor } from './types.js';

const describeActivation = (a: Activation): string => (a.alpha || a.beta ? `${a.name}(${a.alpha}, ${a.beta})` : a.name);

export function looksOnnx(names: string[]): boolean {
  return names.includes('W') && names.includes('R') && names.includes('X');
}

/** onnx_layout from the flags or config: --onnx-layout, or --batch-first / --seq-first, else config. */
function onnxLayout(options: CaseOptions, config: CaseConfig, file: string, node?: { layout: 0 | 1; where: string; wfile: string }): { layout: 0 | 1; source: LayoutSource } {
  const fromFlag = options.onnxLayout;
  const fromBf = options.batchFirst === undefined ? undefined : options.batchFirst ? 1 : 0;
  if (fromFlag !== undefined && fromBf !== undefined && fromFlag !== fromBf) {
    throw new GruCheckError('USAGE', `--onnx-layout ${fromFlag} contradicts --${fromBf ? 'batch-first' : 'seq-first'} (on an ONNX case it means onnx_layout ${fromBf})`, { file });
  }
  const flag = fromFlag ?? fromBf;
  const cfg = config.take('onnx_layout', (v) => (v === 0 || v === 1 ? v : undefined), '0 or 1');
  const cfgBf = config.take('batch_first', asBool, 'true or false');
  if (cfg !== undefined && cfgBf !== undefined && cfg !== (cfgBf ? 1 : 0)) {
    throw new GruCheckError('BAD_CONFIG', `config: onnx_layout ${cfg} contradicts batch_first ${cfgBf}`, { file });
  }
  if (node) {
    const said = flag !== undefined ? { value: flag, from: 'flag' as const } : cfg !== undefined ? { value: cfg, from: 'config' as const } : cfgBf !== undefined ? { value: cfgBf ? 1 : 0, from: 'config' as const } : undefined;
    agree('onnx_layout', said, node.layout, String, node.where, node.wfile);
    return { layout: node.layout, source: 'layout' };
  }
  if (flag !== undefined) return { layout: flag as 0 | 1, source: 'flag' };
  if (cfg !== undefined) return { layout: cfg, source: 'config' };
  if (cfgBf !== undefined) return { layout: cfgBf ? 1 : 0, source: 'config' };
  return { layout: 0, source: 'layout' };
}

/** A setting as the user stated it (flag or config) against what the model's node says. */
function agree<T>(key: string, stated: { value: T; from: 'flag' | 'config' } | undefined, node: T, show: (v: T) => string, where: string, file: string): void {
  if (stated === undefined || JSON.stringify(stated.value) === JSON.stringify(node)) return;
  const said = stated.from === 'flag' ? `--${key.replace(/_/g, '-')} ${show(stated.value)}` : `config: ${key} ${show(stated.value)}`;
  throw new GruCheckError(stated.from === 'flag' ? 'USAGE' : 'BAD_CONFIG', `${said} contradicts ${where} (${key} ${show(node)})`, {
    file,
    hint: "with --weights model.onnx the node's attributes are the case's settings: drop the setting, or pick another node with --node",
  });
}

const stated = <T>(flag: T | undefined, cfg: T | undefined): { value: T; from: 'flag' | 'config' } | undefined =>
  flag !== undefined ? { value: flag, from: 'flag' } : cfg !== undefined ? { value: cfg, from: 'config' } : undefined;

export function buildOnnxCase(bundle: ArrayBundle, options: CaseOptions, config: CaseConfig, warnings: CaseWarning[]): GruCase {
  const file = bundle.source;
  const wbundle = options.weights ?? bundle;
  const wfile = wbundle.source;
  // With --weights model.onnx the GRU node is the settings: its W, R, B and its attributes.
  const model = wbundle.onnx ? wbundle : undefined;
  const node = model ? chooseOnnxNode(model, options.node) : undefined;
  const ns = node ? onnxNodeSettings(node, wfile) : undefined;
  const site: OnnxSite = { file, wfile, ns, where: node ? `GRU node ${showNode(node)} of the model` : '' };

  const cfgGateOrder = config.take('gate_order', oneOf<'zrn' | 'rzn'>('zrn', 'rzn'), '"zrn" (ONNX\'s z|r|h) or "rzn" (r|z|n, as WebNN\'s gru may store them)');
  const gateOrder = options.gateOrder ?? cfgGateOrder ?? 'zrn';
  let w: OnnxNodeWeights;
  if (node) {
    agree('gate_order', stated(options.gateOrder, cfgGateOrder), 'zrn', (v) => `"${v}"`, `${site.where}: an ONNX GRU node's W, R and B are z|r|h`, wfile);
    w = onnxNodeWeights(new OnnxFolder(model!, wfile, options.maxBytes), node, ns!, wfile);
  } else {
    w = onnxArrayWeights(wbundle.arrays, wfile);
  }
  const { W, R, B: B6, D, H, I } = w;
  const { direction, linearBeforeReset, clip } = onnxAttributes(options, config, w, site);
  const base = withMath(PYTORCH_MATH, { linearBeforeReset, clip, gateOrder: 'rzn' });
  const maths = onnxMaths(options, config, base, D, site, warnings);
  const { layout: ol, source: layoutSource } = onnxLayout(options, config, file, ns ? { layout: ns.layout, where: site.where, wfile } : undefined);

  const dtype = W.dtype;
  const dirs = onnxDirections(W, R, B6, D, H, I, dtype, gateOrder);
  const params: GruParams = { inputSize: I, hiddenSize: H, numLayers: 1, bidirectional: D === 2, bias: B6 !== undefined, dtype, layers: [dirs] };
  if (direction === 'reverse') params.reverseOnly = true;
  const x = onnxData(bundle.arrays, file, ol, w, dtype);

  const c: GruCase = {
    source: file,
    config: { layout: 'onnx', inputSize: I, hiddenSize: H, numLayers: 1, bidirectional: D === 2, bias: B6 !== undefined, batchFirst: ol === 1, batched: true, dtype },
    layoutSource,
    params,
    seqLen: x.T,
    batchSize: x.B,
    input: x.input,
    h0: x.h0,
    h0Given: x.h0Given,
    expected: {},
    prefix: '',
    math: maths[0]!,
    warnings,
  };
  if (D === 2 && maths[0] !== maths[1]) c.directionMath = maths;
  if (node) c.weightsFrom = `ONNX node ${showNode(node)}`;
  if (gateOrder !== 'zrn') (c.notes ??= []).push(`W, R and B read with gate blocks ${gateOrder === 'rzn' ? 'r|z|n' : gateOrder} (gate_order "${gateOrder}"), not ONNX's z|r|h`);
  if (x.Y) c.expected.output = x.Y;
  if (x.Yh) c.expected.h_n = x.Yh;
  if (x.lens) readOnnxLengths(c, x.lens, D, file);
  return c;
}

/** Where an ONNX case's settings come from: its files, and the model's GRU node if there is one. */
interface OnnxSite {
  file: string;
  wfile: string;
  ns: OnnxNodeSettings | undefined;
  /** How messages name the node ('' without one). */
  where: string;
}

function need(m: Map<string, NdArray>, name: string, f: string, why: string): Tensor {
  const a = m.get(name);
  if (!a) throw new GruCheckError('MISSING_ARRAY', `missing array ${name} (${why})`, { file: f, hint: 'ONNX layout: X, W, R and Y and/or Y_h' });
  return floatTensor(a, f);
}

/** W, R and B as arrays of the case (or of --weights): R gives num_directions and hidden_size. */
function onnxArrayWeights(warrays: Map<string, NdArray>, wfile: string): OnnxNodeWeights {
  const W = need(warrays, 'W', wfile, 'input weights [num_directions, 3*hidden_size, input_size]');
  const R = need(warrays, 'R', wfile, 'recurrence weights [num_directions, 3*hidden_size, hidden_size]');
  if (R.shape.length !== 3 || R.shape[1] !== 3 * R.shape[2]! || R.shape[2] === 0 || (R.shape[0] !== 1 && R.shape[0] !== 2)) {
    throw new GruCheckError('SHAPE_MISMATCH', `R: expected shape [num_directions, 3*hidden_size, hidden_size], got ${shapeInBrackets(R.shape)}`, { file: wfile });
  }
  const D = R.shape[0]!;
  const H = R.shape[2]!;
  if (W.shape.length !== 3 || W.shape[0] !== D || W.shape[1] !== 3 * H || W.shape[2] === 0) {
    throw new GruCheckError('SHAPE_MISMATCH', `W: expected shape [${D}, ${3 * H}, input_size] (num_directions and 3*hidden_size from R), got ${shapeInBrackets(W.shape)}`, { file: wfile });
  }
  const I = W.shape[2]!;
  const Barr = warrays.get('B');
  const B = Barr ? floatTensor(Barr, wfile) : undefined;
  if (B) expectShape(B, 'B', [D, 6 * H], 'num_directions, 6*hidden_size', wfile);
  return { W, R, B, D, H, I };
}

/** The node's attributes: from the model's node, else the flags, else config. */
function onnxAttributes(options: CaseOptions, config: CaseConfig, w: OnnxNodeWeights, site: OnnxSite): { direction: OnnxDirection; linearBeforeReset: boolean; clip: number | null } {
  const { ns, where, wfile } = site;
  const { D, H } = w;
  const cfgDirection = config.take('direction', oneOf<OnnxDirection>('forward', 'reverse', 'bidirectional'), '"forward", "reverse" or "bidirectional"');
  if (ns) agree('direction', stated(options.direction, cfgDirection), ns.direction, (v) => `"${v}"`, where, wfile);
  const direction: OnnxDirection = ns?.direction ?? options.direction ?? cfgDirection ?? (D === 2 ? 'bidirectional' : 'forward');
  if ((direction === 'bidirectional') !== (D === 2)) {
    throw new GruCheckError('SHAPE_MISMATCH', `W: direction "${direction}" needs num_directions ${direction === 'bidirectional' ? 2 : 1}, got ${shapeInBrackets(w.W.shape)}`, { file: wfile, hint: 'set --direction or config.direction to match W' });
  }
  const hiddenSize = config.take('hidden_size', asPositiveInt, 'a positive integer');
  if (hiddenSize !== undefined && hiddenSize !== H) {
    throw new GruCheckError('SHAPE_MISMATCH', `config: hidden_size ${hiddenSize} disagrees with R ${shapeInBrackets(w.R.shape)} (hidden_size ${H})`, { file: wfile, hint: 'the node attribute and the weights must describe the same GRU' });
  }
  const cfgLbr = config.take('linear_before_reset', asBit, '0 or 1');
  if (ns) agree('linear_before_reset', stated(options.linearBeforeReset, cfgLbr), ns.linearBeforeReset, (v) => (v ? '1' : '0'), where, wfile);
  const linearBeforeReset = ns?.linearBeforeReset ?? options.linearBeforeReset ?? cfgLbr ?? false;
  const cfgClip = config.take('clip', asPositive, 'a positive number');
  if (ns) agree('clip', stated(options.clip, cfgClip), ns.clip, (v) => (v === null ? 'none' : String(v)), where, wfile);
  const clip = ns ? ns.clip : options.clip ?? cfgClip ?? null;
  return { direction, linearBeforeReset, clip };
}

/** Each direction's gate math: the node's activations, else those of the flags or config. */
function onnxMaths(options: CaseOptions, config: CaseConfig, base: GateMath, D: number, site: OnnxSite, warnings: CaseWarning[]): GateMath[] {
  const { ns, where, file, wfile } = site;
  const cfgActs = config.take('activations', asStrings, 'a list of activation names');
  const cfgAlpha = config.take('activation_alpha', asNumbers, 'a list of numbers');
  const cfgBeta = config.take('activation_beta', asNumbers, 'a list of numbers');
  const flagActs = options.activations !== undefined || options.activationAlpha !== undefined || options.activationBeta !== undefined;
  const defaults = D === 2 ? ['Sigmoid', 'Tanh', 'Sigmoid', 'Tanh'] : ['Sigmoid', 'Tanh'];
  const userActs = flagActs
    ? { activations: options.activations ?? cfgActs ?? defaults, alpha: options.activationAlpha ?? cfgAlpha, beta: options.activationBeta ?? cfgBeta, source: 'flags' }
    : cfgActs || cfgAlpha || cfgBeta
      ? { activations: cfgActs ?? defaults, alpha: cfgAlpha, beta: cfgBeta, source: 'config' }
      : undefined;
  if (!ns) return onnxDirectionMath(base, D, userActs, file, warnings);
  const maths = onnxDirectionMath(base, D, nodeActivations(ns, D, where), wfile, warnings);
  if (userActs) {
    const mine = onnxDirectionMath(base, D, userActs, file, []);
    const fg = (m: GateMath[]): string => m.map((x) => `${describeActivation(x.f)}, ${describeActivation(x.g)}`).join(', ');
    agree('activations', { value: fg(mine), from: flagActs ? 'flag' : 'config' }, fg(maths), (v) => `[${v}]`, where, wfile);
  }
  return maths;
}

/** The case's data in onnx_layout ol: X and initial_h (time first), Y, Y_h and sequence_lens. */
function onnxData(arrays: Map<string, NdArray>, file: string, ol: 0 | 1, w: OnnxNodeWeights, dtype: Tensor['dtype']) {
  const { D, H, I } = w;
  const xWhat = ol === 1 ? 'batch_size, seq_length, input_size' : 'seq_length, batch_size, input_size';
  const X = need(arrays, 'X', file, `input [${xWhat}]`);
  if (X.shape.length !== 3 || X.shape[2] !== I) {
    throw new GruCheckError('SHAPE_MISMATCH', `X: expected shape [${xWhat.replace('input_size', String(I))}] (input_size from W${ol === 1 ? ', onnx_layout 1' : ''}), got ${shapeInBrackets(X.shape)}`, { file });
  }
  const [T, B] = ol === 1 ? [X.shape[1]!, X.shape[0]!] : [X.shape[0]!, X.shape[1]!];
  expectNonEmpty('X', X.shape, T, B, xWhat, file);
  const h0a = arrays.get('initial_h');
  const h0 = h0a ? floatTensor(h0a, file) : undefined;
  if (h0) {
    if (ol === 1) expectShape(h0, 'initial_h', [B, D, H], 'batch_size, num_directions, hidden_size (onnx_layout 1)', file);
    else expectShape(h0, 'initial_h', [D, B, H], 'num_directions, batch_size, hidden_size', file);
  }
  const lens = arrays.get('sequence_lens');
  const Y = arrays.get('Y') ? floatTensor(arrays.get('Y')!, file) : undefined;
  const Yh = arrays.get('Y_h') ? floatTensor(arrays.get('Y_h')!, file) : undefined;

  let input = toStorage(X.data, dtype);
  if (ol === 1) input = swapFirstAxes(input, B, T, I);
  let h0Data = h0 ? toStorage(h0.data, dtype) : zerosLike(dtype, D * B * H);
  if (h0 && ol === 1) h0Data = swapFirstAxes(h0Data, B, D, H);
  return { T, B, input, h0: h0Data, h0Given: h0 !== undefined, lens, Y, Yh };
}

/** sequence_lens into c.lengths. */
function readOnnxLengths(c: GruCase, lens: NdArray, D: number, file: string): void {
  const { batchSize: B, seqLen: T } = c;
  const H = c.config.hiddenSize;
  c.lengths = readLengths(lens, B, T, file, 0);
  // A sequence of length 0: ONNX Runtime leaves its Y and its Y_h at 0 whatever initial_h holds
  // (its GRU tests ZeroSeqInMiddle, SequenceLengthWithPartialZero, SequenceLengthAllZeros; and
  // measured with initial_h != 0 on 1.30.0). No step reads that entry's initial state, so it is
  // zeroed here and every engine gives ONNX Runtime's answer.
  const empty = [...c.lengths.keys()].filter((b) => c.lengths![b] === 0);
  if (empty.length > 0) {
    c.h0 = c.h0.slice() as typeof c.h0;
    for (let d = 0; d < D; d++) for (const b of empty) c.h0.fill(0, (d * B + b) * H, (d * B + b + 1) * H);
    (c.notes ??= []).push(`sequence_lens is 0 for batch entr${empty.length === 1 ? 'y' : 'ies'} ${empty.join(', ')}: Y and Y_h are 0 there, as ONNX Runtime computes them (initial_h is not read)`);
  }
}
