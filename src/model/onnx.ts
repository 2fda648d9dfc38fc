/**
 * ONNX GRU node tensors -> one validated GruCase. ONNX's names and shapes (opset 7+):
 *   layout 0: X [T, B, I]; initial_h [D, B, H]; outputs Y [T, D, B, H] and Y_h [D, B, H]
 *   layout 1: X [B, T, I]; initial_h [B, D, H]; outputs Y [B, T, D, H] and Y_h [B, D, H]
 *   W [D, 3H, I]; R [D, 3H, H]; B [D, 6H] = [Wb_z Wb_r Wb_h | Rb_z Rb_r Rb_h]; sequence_lens [B].
 * Gate blocks are z|r|h (PyTorch: r|z|n) and are reordered here. One node is one layer.
 *
 * The node's attributes come from flags or config, by their ONNX names: direction,
 * linear_before_reset (default 0 as in ONNX; PyTorch's math is 1), hidden_size (checked against
 * R), clip, activations with activation_alpha / activation_beta (activations.ts), and ONNX's
 * `layout` as `onnx_layout` (gru-check's `layout` names the weight layout). --batch-first /
 * --seq-first (or config.batch_first) mean onnx_layout 1 / 0. Every one is computed.
 */
import { GruCheckError } from '../errors.js';
import type { ArrayBundle, NdArray } from '../io/types.js';
import { expectNonEmpty, expectShape, floatTensor, fmtShape, readLengths, swapFirstAxes, toStorage, zerosLike } from './arrays.js';
import type { CaseOptions, OnnxDirection } from './case.js';
import { asBit, asBool, asNumbers, asPositive, asPositiveInt, asStrings, oneOf, type CaseConfig, type CaseWarning } from './config.js';
import { onnxDirectionMath } from './activations.js';
import { reorderRows } from './gates.js';
import { PYTORCH_MATH, withMath } from '../gru/math.js';
import type { FloatDType, GruCase, GruDirectionParams, GruParams, LayoutSource, Tensor } from './types.js';

/**
 * One ONNX GRU node's W [D, 3H, I], R [D, 3H, H] and B [D, 6H] as PyTorch's per-direction
 * weights: gate blocks z|r|h reordered to r|z|n, B split into its input and recurrent halves.
 */
export function onnxDirections(W: Tensor, R: Tensor, B6: Tensor | undefined, D: number, H: number, I: number, dtype: FloatDType): GruDirectionParams[] {
  const dirs: GruDirectionParams[] = [];
  for (let d = 0; d < D; d++) {
    const p: GruDirectionParams = {
      weightIh: reorderRows(toStorage(W.data, dtype).subarray(d * 3 * H * I, (d + 1) * 3 * H * I), H, I, 'zrh'),
      weightHh: reorderRows(toStorage(R.data, dtype).subarray(d * 3 * H * H, (d + 1) * 3 * H * H), H, H, 'zrh'),
      inputSize: I,
    };
    if (B6) {
      const b = toStorage(B6.data, dtype).subarray(d * 6 * H, (d + 1) * 6 * H);
      p.biasIh = reorderRows(b.subarray(0, 3 * H), H, 1, 'zrh');
      p.biasHh = reorderRows(b.subarray(3 * H), H, 1, 'zrh');
    }
    dirs.push(p);
  }
  return dirs;
}

export function looksOnnx(names: string[]): boolean {
  return names.includes('W') && names.includes('R') && names.includes('X');
}

/** onnx_layout from the flags or config: --onnx-layout, or --batch-first / --seq-first, else config. */
function onnxLayout(options: CaseOptions, config: CaseConfig, file: string): { layout: 0 | 1; source: LayoutSource } {
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
  if (flag !== undefined) return { layout: flag as 0 | 1, source: 'flag' };
  if (cfg !== undefined) return { layout: cfg, source: 'config' };
  if (cfgBf !== undefined) return { layout: cfgBf ? 1 : 0, source: 'config' };
  return { layout: 0, source: 'layout' };
}

export function buildOnnxCase(bundle: ArrayBundle, options: CaseOptions, config: CaseConfig, warnings: CaseWarning[]): GruCase {
  const file = bundle.source;
  const arrays = bundle.arrays;
  const warrays = (options.weights ?? bundle).arrays;
  const wfile = (options.weights ?? bundle).source;
  const need = (m: Map<string, NdArray>, name: string, f: string, why: string): Tensor => {
    const a = m.get(name);
    if (!a) throw new GruCheckError('MISSING_ARRAY', `missing array ${name} (${why})`, { file: f, hint: 'ONNX layout: X, W, R and Y and/or Y_h' });
    return floatTensor(a, f);
  };
  const W = need(warrays, 'W', wfile, 'input weights [num_directions, 3*hidden_size, input_size]');
  const R = need(warrays, 'R', wfile, 'recurrence weights [num_directions, 3*hidden_size, hidden_size]');
  if (R.shape.length !== 3 || R.shape[1] !== 3 * R.shape[2]! || R.shape[2] === 0 || (R.shape[0] !== 1 && R.shape[0] !== 2)) {
    throw new GruCheckError('SHAPE_MISMATCH', `R: expected shape [num_directions, 3*hidden_size, hidden_size], got ${fmtShape(R.shape)}`, { file: wfile });
  }
  const D = R.shape[0]!;
  const H = R.shape[2]!;
  if (W.shape.length !== 3 || W.shape[0] !== D || W.shape[1] !== 3 * H || W.shape[2] === 0) {
    throw new GruCheckError('SHAPE_MISMATCH', `W: expected shape [${D}, ${3 * H}, input_size] (num_directions and 3*hidden_size from R), got ${fmtShape(W.shape)}`, { file: wfile });
  }
  const I = W.shape[2]!;
  const Barr = warrays.get('B');
  const B6 = Barr ? floatTensor(Barr, wfile) : undefined;
  if (B6) expectShape(B6, 'B', [D, 6 * H], 'num_directions, 6*hidden_size', wfile);

  // The node's attributes.
  const cfgDirection = config.take('direction', oneOf<OnnxDirection>('forward', 'reverse', 'bidirectional'), '"forward", "reverse" or "bidirectional"');
  const direction: OnnxDirection = options.direction ?? cfgDirection ?? (D === 2 ? 'bidirectional' : 'forward');
  if ((direction === 'bidirectional') !== (D === 2)) {
    throw new GruCheckError('SHAPE_MISMATCH', `W: direction "${direction}" needs num_directions ${direction === 'bidirectional' ? 2 : 1}, got ${fmtShape(W.shape)}`, { file: wfile, hint: 'set --direction or config.direction to match W' });
  }
  const hiddenSize = config.take('hidden_size', asPositiveInt, 'a positive integer');
  if (hiddenSize !== undefined && hiddenSize !== H) {
    throw new GruCheckError('SHAPE_MISMATCH', `config: hidden_size ${hiddenSize} disagrees with R ${fmtShape(R.shape)} (hidden_size ${H})`, { file: wfile, hint: 'the node attribute and the weights must describe the same GRU' });
  }
  const cfgLbr = config.take('linear_before_reset', asBit, '0 or 1');
  const linearBeforeReset = options.linearBeforeReset ?? cfgLbr ?? false;
  const cfgClip = config.take('clip', asPositive, 'a positive number');
  const clip = options.clip ?? cfgClip ?? null;
  const cfgActs = config.take('activations', asStrings, 'a list of activation names');
  const cfgAlpha = config.take('activation_alpha', asNumbers, 'a list of numbers');
  const cfgBeta = config.take('activation_beta', asNumbers, 'a list of numbers');
  const flagActs = options.activations !== undefined || options.activationAlpha !== undefined || options.activationBeta !== undefined;
  const acts = flagActs
    ? { activations: options.activations ?? cfgActs ?? (D === 2 ? ['Sigmoid', 'Tanh', 'Sigmoid', 'Tanh'] : ['Sigmoid', 'Tanh']), alpha: options.activationAlpha ?? cfgAlpha, beta: options.activationBeta ?? cfgBeta, source: 'flags' }
    : cfgActs || cfgAlpha || cfgBeta
      ? { activations: cfgActs ?? (D === 2 ? ['Sigmoid', 'Tanh', 'Sigmoid', 'Tanh'] : ['Sigmoid', 'Tanh']), alpha: cfgAlpha, beta: cfgBeta, source: 'config' }
      : undefined;
  const maths = onnxDirectionMath(withMath(PYTORCH_MATH, { linearBeforeReset, clip }), D, acts, file, warnings);
  const { layout: ol, source: layoutSource } = onnxLayout(options, config, file);

  const dtype = W.dtype;
  const dirs = onnxDirections(W, R, B6, D, H, I, dtype);
  const params: GruParams = { inputSize: I, hiddenSize: H, numLayers: 1, bidirectional: D === 2, bias: B6 !== undefined, dtype, layers: [dirs] };
  if (direction === 'reverse') params.reverseOnly = true;

  const xWhat = ol === 1 ? 'batch_size, seq_length, input_size' : 'seq_length, batch_size, input_size';
  const X = need(arrays, 'X', file, `input [${xWhat}]`);
  if (X.shape.length !== 3 || X.shape[2] !== I) {
    throw new GruCheckError('SHAPE_MISMATCH', `X: expected shape [${xWhat.replace('input_size', String(I))}] (input_size from W${ol === 1 ? ', onnx_layout 1' : ''}), got ${fmtShape(X.shape)}`, { file });
  }
  const [T, B] = ol === 1 ? [X.shape[1]!, X.shape[0]!] : [X.shape[0]!, X.shape[1]!];
  expectNonEmpty('X', X.shape, T, B, xWhat, file);
  const h0a = arrays.get('initial_h');
  const h0 = h0a ? floatTensor(h0a, file) : undefined;
  if (h0) {
    if (ol === 1) expectShape(h0, 'initial_h', [B, D, H], 'batch_size, num_directions, hidden_size (onnx_layout 1)', file);
    else expectShape(h0, 'initial_h', [D, B, H], 'num_directions, batch_size, hidden_size', file);
  }
  const lensArr = arrays.get('sequence_lens');
  const Y = arrays.get('Y') ? floatTensor(arrays.get('Y')!, file) : undefined;
  const Yh = arrays.get('Y_h') ? floatTensor(arrays.get('Y_h')!, file) : undefined;

  let input = toStorage(X.data, dtype);
  if (ol === 1) input = swapFirstAxes(input, B, T, I);
  let h0Data = h0 ? toStorage(h0.data, dtype) : zerosLike(dtype, D * B * H);
  if (h0 && ol === 1) h0Data = swapFirstAxes(h0Data, B, D, H);

  const c: GruCase = {
    source: file,
    config: { layout: 'onnx', inputSize: I, hiddenSize: H, numLayers: 1, bidirectional: D === 2, bias: B6 !== undefined, batchFirst: ol === 1, batched: true, dtype },
    layoutSource,
    params,
    seqLen: T,
    batchSize: B,
    input,
    h0: h0Data,
    h0Given: h0 !== undefined,
    expected: {},
    prefix: '',
    math: maths[0]!,
    warnings,
  };
  if (D === 2 && maths[0] !== maths[1]) c.directionMath = maths;
  if (Y) c.expected.output = Y;
  if (Yh) c.expected.h_n = Yh;
  if (lensArr) c.lengths = readLengths(lensArr, B, T, file);
  return c;
}
