/**
 * Loaded arrays -> one validated GruCase: the boundary where every shape, layout and length is
 * checked once. Owns the input contract (README "Input contract"): input, optional h0, expected
 * output / h_n (at least one), optional lengths and JSON config, batch_first resolution
 * (flag > config > shapes), unbatched inputs.
 */
import { GruCheckError } from '../errors.js';
import type { ArrayBundle, NdArray } from '../io/types.js';
import { expectShape, floatTensor, fmtShape, intVector, toStorage } from './arrays.js';
import { choosePrefix, pytorchParams } from './pytorch.js';
import type { FloatArray, GruCase, LayoutSource, Tensor } from './types.js';

export interface CaseOptions {
  /** Module prefix of the GRU's weights (`encoder.rnn`), when the file holds several. */
  prefix?: string | undefined;
  /** From --batch-first / --seq-first; overrides config and shapes. */
  batchFirst?: boolean | undefined;
  /** Weights from a separate file (--weights); then the case's own weights are ignored. */
  weights?: ArrayBundle | undefined;
}

export interface CaseConfig {
  batch_first?: boolean;
  [key: string]: unknown;
}

export function readConfig(a: NdArray | undefined, file: string): CaseConfig {
  if (!a) return {};
  if (a.dtype !== 'unicode' || a.shape.length !== 0) {
    throw new GruCheckError('BAD_CONFIG', `config: expected a 0-d unicode string holding JSON, got ${a.dtype} of shape ${fmtShape(a.shape)}`, { file });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse((a.data as string[])[0] ?? '');
  } catch (e) {
    throw new GruCheckError('BAD_CONFIG', `config: not valid JSON (${(e as Error).message})`, { file });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GruCheckError('BAD_CONFIG', 'config: expected a JSON object', { file });
  }
  const c = parsed as CaseConfig;
  if ('batch_first' in c && typeof c.batch_first !== 'boolean') {
    throw new GruCheckError('BAD_CONFIG', `config: batch_first must be true or false, got ${JSON.stringify(c.batch_first)}`, { file });
  }
  return c;
}

/** (d0, d1, F) in the user's order -> (T, B, F) seq-first. */
export function toSeqFirst(data: FloatArray, d0: number, d1: number, F: number): FloatArray {
  const out = new (data.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(data.length);
  for (let i = 0; i < d0; i++) {
    for (let j = 0; j < d1; j++) out.set(data.subarray((i * d1 + j) * F, (i * d1 + j + 1) * F), (j * d0 + i) * F);
  }
  return out;
}

function pick(arrays: Map<string, NdArray>, prefix: string, name: string): NdArray | undefined {
  return arrays.get(name) ?? (prefix ? arrays.get(`${prefix}${name}`) : undefined);
}

export function buildCase(bundle: ArrayBundle, options: CaseOptions = {}): GruCase {
  const file = bundle.source;
  const weightBundle = options.weights ?? bundle;
  const wfile = weightBundle.source;
  const prefix = choosePrefix(weightBundle.arrays.keys(), options.prefix, wfile);
  const params = pytorchParams(weightBundle.arrays, prefix, wfile);
  const { inputSize: I, hiddenSize: H, numLayers: L } = params;
  const D = params.bidirectional ? 2 : 1;
  const arrays = bundle.arrays;
  const config = readConfig(pick(arrays, prefix, 'config'), file);

  const inputArr = pick(arrays, prefix, 'input');
  if (!inputArr) throw new GruCheckError('MISSING_ARRAY', 'missing array input', { file, hint: 'the case must hold the GRU\'s input as "input"' });
  const input = floatTensor(inputArr, file);
  const h0Arr = pick(arrays, prefix, 'h0');
  const h0 = h0Arr ? floatTensor(h0Arr, file) : undefined;
  const outArr = pick(arrays, prefix, 'output');
  const hnArr = pick(arrays, prefix, 'h_n');
  const output = outArr ? floatTensor(outArr, file) : undefined;
  const hN = hnArr ? floatTensor(hnArr, file) : undefined;
  if (!output && !hN) {
    throw new GruCheckError('NO_EXPECTED', 'nothing to check: neither output nor h_n is present', { file, hint: 'dump the GRU\'s output and/or h_n' });
  }
  const lengthsArr = pick(arrays, prefix, 'lengths');

  if (input.shape.length !== 2 && input.shape.length !== 3) {
    throw new GruCheckError('SHAPE_MISMATCH', `input: expected 3 dims (seq, batch, input_size) or 2 dims unbatched (seq, input_size), got ${fmtShape(input.shape)}`, { file });
  }
  const batched = input.shape.length === 3;
  const F = input.shape[input.shape.length - 1]!;
  if (F !== I) {
    throw new GruCheckError('SHAPE_MISMATCH', `input: expected last dim ${I} (input_size, from ${prefix}weight_ih_l0), got ${fmtShape(input.shape)}`, { file });
  }

  let batchFirst = false;
  let layoutSource: LayoutSource = 'unbatched';
  let T: number;
  let B: number;
  if (!batched) {
    T = input.shape[0]!;
    B = 1;
    if (lengthsArr) throw new GruCheckError('BAD_LENGTHS', 'lengths: given for an unbatched (2-D) input', { file, hint: 'lengths needs a batch axis' });
  } else {
    const [d0, d1] = input.shape as [number, number, number];
    if (options.batchFirst !== undefined) {
      batchFirst = options.batchFirst;
      layoutSource = 'flag';
    } else if (config.batch_first !== undefined) {
      batchFirst = config.batch_first;
      layoutSource = 'config';
    } else {
      // The batch size shows in h0 / h_n (axis 1) and lengths (axis 0); output has input's layout and tells nothing.
      const batchHints = [h0?.shape.length === 3 ? h0.shape[1] : undefined, hN?.shape.length === 3 ? hN.shape[1] : undefined, lengthsArr?.shape.length === 1 ? lengthsArr.shape[0] : undefined].filter((x): x is number => x !== undefined);
      const fitsSeq = batchHints.length > 0 && batchHints.every((b) => b === d1);
      const fitsBatch = batchHints.length > 0 && batchHints.every((b) => b === d0);
      if (fitsSeq === fitsBatch) {
        const why = d0 === d1 ? `input is ${fmtShape(input.shape)} and batch == seq` : batchHints.length === 0 ? 'no h0, h_n or lengths shows the batch size' : 'h0 / h_n / lengths disagree with both layouts';
        throw new GruCheckError('AMBIGUOUS_LAYOUT', `cannot tell batch_first from the shapes: ${why}`, { file, hint: 'pass --batch-first or --seq-first, or add "batch_first" to config' });
      }
      batchFirst = fitsBatch;
      layoutSource = 'shapes';
    }
    T = batchFirst ? d1 : d0;
    B = batchFirst ? d0 : d1;
  }

  const stateShape = batched ? [L * D, B, H] : [L * D, H];
  const stateWhat = batched ? 'num_layers*num_directions, batch, hidden_size' : 'num_layers*num_directions, hidden_size';
  let h0Data: FloatArray;
  if (h0) {
    expectShape(h0, 'h0', stateShape, stateWhat, file);
    h0Data = toStorage(h0.data, params.dtype);
  } else {
    h0Data = params.dtype === 'float64' ? new Float64Array(L * D * B * H) : new Float32Array(L * D * B * H);
  }

  let lengths: Int32Array | undefined;
  if (lengthsArr) {
    lengths = intVector(lengthsArr, file);
    expectShape(lengthsArr, 'lengths', [B], 'batch', file);
    for (let b = 0; b < B; b++) {
      const v = lengths[b]!;
      const raw = (lengthsArr.data as ArrayLike<number | bigint>)[b];
      if (!(v >= 1 && v <= T) || Number(raw) !== v) {
        throw new GruCheckError('BAD_LENGTHS', `lengths[${b}]: expected a value in 1..${T} (seq length), got ${String(raw)}`, { file });
      }
    }
  }

  let seqInput = toStorage(input.data, params.dtype);
  if (batched && batchFirst) seqInput = toSeqFirst(seqInput, B, T, I);

  const expected: { output?: Tensor; h_n?: Tensor } = {};
  if (output) expected.output = output;
  if (hN) expected.h_n = hN;
  const gruCase: GruCase = {
    source: file,
    config: { inputSize: I, hiddenSize: H, numLayers: L, bidirectional: params.bidirectional, bias: params.bias, batchFirst, batched, dtype: params.dtype },
    layoutSource,
    params,
    seqLen: T,
    batchSize: B,
    input: seqInput,
    h0: h0Data,
    h0Given: h0 !== undefined,
    expected,
    prefix,
  };
  if (lengths) gruCase.lengths = lengths;
  return gruCase;
}
