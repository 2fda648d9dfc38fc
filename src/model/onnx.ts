/**
 * ONNX GRU node tensors -> one validated GruCase. ONNX's names and shapes (opset 7+, layout=0):
 *   X [T, B, I]; W [D, 3H, I]; R [D, 3H, H]; B [D, 6H] = [Wb_z Wb_r Wb_h | Rb_z Rb_r Rb_h];
 *   initial_h [D, B, H]; sequence_lens [B]; outputs Y [T, D, B, H] and Y_h [D, B, H].
 * Gate blocks are z|r|h (PyTorch: r|z|n) and are reordered here. One node is one layer.
 * linear_before_reset defaults to 0 as in ONNX (PyTorch's math is 1); direction comes from the
 * flag, config or W's first dimension. Default activations (sigmoid, tanh) only.
 */
import { GruCheckError } from '../errors.js';
import type { ArrayBundle, NdArray } from '../io/types.js';
import { expectNonEmpty, expectShape, floatTensor, fmtShape, readLengths, toStorage, zerosLike } from './arrays.js';
import type { CaseConfig, CaseOptions, OnnxDirection } from './case.js';
import { reorderRows } from './gates.js';
import { PYTORCH_MATH, withMath } from '../gru/math.js';
import type { GruCase, GruDirectionParams, GruParams, Tensor } from './types.js';

export function looksOnnx(names: string[]): boolean {
  return names.includes('W') && names.includes('R') && names.includes('X');
}

export function buildOnnxCase(bundle: ArrayBundle, options: CaseOptions, config: CaseConfig): GruCase {
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

  const direction: OnnxDirection = options.direction ?? config.direction ?? (D === 2 ? 'bidirectional' : 'forward');
  if ((direction === 'bidirectional') !== (D === 2)) {
    throw new GruCheckError('SHAPE_MISMATCH', `W: direction "${direction}" needs num_directions ${direction === 'bidirectional' ? 2 : 1}, got ${fmtShape(W.shape)}`, { file: wfile, hint: 'set --direction or config.direction to match W' });
  }
  const lbrConfig = config.linear_before_reset;
  const linearBeforeReset = options.linearBeforeReset ?? (lbrConfig === undefined ? false : lbrConfig === 1 || lbrConfig === true);

  const dtype = W.dtype;
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
  const params: GruParams = { inputSize: I, hiddenSize: H, numLayers: 1, bidirectional: D === 2, bias: B6 !== undefined, dtype, layers: [dirs] };
  if (direction === 'reverse') params.reverseOnly = true;

  const X = need(arrays, 'X', file, 'input [seq_length, batch_size, input_size]');
  if (X.shape.length !== 3 || X.shape[2] !== I) {
    throw new GruCheckError('SHAPE_MISMATCH', `X: expected shape [seq_length, batch_size, ${I}] (input_size from W), got ${fmtShape(X.shape)}`, { file });
  }
  const [T, B] = X.shape as [number, number, number];
  expectNonEmpty('X', X.shape, T, B, 'seq_length, batch_size, input_size', file);
  const h0a = arrays.get('initial_h');
  const h0 = h0a ? floatTensor(h0a, file) : undefined;
  if (h0) expectShape(h0, 'initial_h', [D, B, H], 'num_directions, batch_size, hidden_size', file);
  const lensArr = arrays.get('sequence_lens');
  const Y = arrays.get('Y') ? floatTensor(arrays.get('Y')!, file) : undefined;
  const Yh = arrays.get('Y_h') ? floatTensor(arrays.get('Y_h')!, file) : undefined;

  const c: GruCase = {
    source: file,
    config: { layout: 'onnx', inputSize: I, hiddenSize: H, numLayers: 1, bidirectional: D === 2, bias: B6 !== undefined, batchFirst: false, batched: true, dtype },
    layoutSource: 'layout',
    params,
    seqLen: T,
    batchSize: B,
    input: toStorage(X.data, dtype),
    h0: h0 ? toStorage(h0.data, dtype) : zerosLike(dtype, D * B * H),
    h0Given: h0 !== undefined,
    expected: {},
    prefix: '',
    math: withMath(PYTORCH_MATH, { linearBeforeReset }),
  };
  if (Y) c.expected.output = Y;
  if (Yh) c.expected.h_n = Yh;
  if (lensArr) c.lengths = readLengths(lensArr, B, T, file);
  return c;
}
