/**
 * Loaded arrays -> one validated GruCase: the boundary where every shape, layout and length is
 * checked once. Owns the input contract (README "Input contract"): input, optional h0, expected
 * output / h_n (at least one), optional lengths and JSON config, batch_first resolution
 * (flag > config > shapes), unbatched inputs.
 */
import { GruCheckError, isGruCheckError } from '../errors.js';
import { sanitizeError } from '../io/text.js';
import type { ArrayBundle, NdArray } from '../io/types.js';
import { expectNonEmpty, expectShape, floatTensor, fmtShape, readLengths, swapFirstAxes, toStorage, zerosLike } from './arrays.js';
import { choosePrefix, pytorchParams } from './pytorch.js';
import type { FloatArray, GruCase, Layout, LayoutSource, Tensor } from './types.js';
import { buildKerasCase, looksKeras } from './keras.js';
import { buildOnnxCase, looksOnnx } from './onnx.js';
import { PYTORCH_MATH } from '../gru/math.js';

export interface CaseOptions {
  /** Module prefix of the GRU's weights (`encoder.rnn`), when the file holds several. */
  prefix?: string | undefined;
  /** From --batch-first / --seq-first; overrides config and shapes. */
  batchFirst?: boolean | undefined;
  /** Weights from a separate file (--weights); then the case's own weights are ignored. */
  weights?: ArrayBundle | undefined;
  /** Weight names and tensor layout; default: config.layout, else recognised from the array names. */
  layout?: Layout | undefined;
  /** ONNX only: linear_before_reset (default: config, else 0 as in ONNX). */
  linearBeforeReset?: boolean | undefined;
  /** Refuse (TOO_LARGE) a case whose computation would need more memory than this. */
  maxBytes?: number | undefined;
  /** false: a case without expected tensors is fine (a candidate will be checked against the reference). */
  requireExpected?: boolean | undefined;
  /** ONNX only: direction (default: config, else from W's first dim: 1 forward, 2 bidirectional). */
  direction?: OnnxDirection | undefined;
}

export type OnnxDirection = 'forward' | 'reverse' | 'bidirectional';

export interface CaseConfig {
  batch_first?: boolean;
  layout?: Layout;
  linear_before_reset?: number | boolean;
  direction?: OnnxDirection;
  reset_after?: boolean;
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
  const bad = (key: string, want: string): never => {
    throw new GruCheckError('BAD_CONFIG', `config: ${key} must be ${want}, got ${JSON.stringify(c[key])}`, { file });
  };
  if ('batch_first' in c && typeof c.batch_first !== 'boolean') bad('batch_first', 'true or false');
  if ('layout' in c && !['pytorch', 'onnx', 'keras'].includes(c.layout as string)) bad('layout', '"pytorch", "onnx" or "keras"');
  if ('linear_before_reset' in c && ![0, 1, true, false].includes(c.linear_before_reset as number)) bad('linear_before_reset', '0 or 1');
  if ('direction' in c && !['forward', 'reverse', 'bidirectional'].includes(c.direction as string)) bad('direction', '"forward", "reverse" or "bidirectional"');
  if ('reset_after' in c && typeof c.reset_after !== 'boolean') bad('reset_after', 'true or false');
  return c;
}


function pick(arrays: Map<string, NdArray>, prefix: string, name: string): NdArray | undefined {
  return arrays.get(name) ?? (prefix ? arrays.get(`${prefix}${name}`) : undefined);
}

/** Validates a case in any layout: flag, then config.layout, then the array names decide. */
export function buildCase(bundle: ArrayBundle, options: CaseOptions = {}): GruCase {
  try {
    return buildAnyCase(bundle, options);
  } catch (e) {
    // Messages quote array names and module prefixes, which come from the file: keep them one
    // printable line however the arrays were named.
    throw isGruCheckError(e) ? sanitizeError(e) : e;
  }
}

function buildAnyCase(bundle: ArrayBundle, options: CaseOptions): GruCase {
  const config = readConfig(bundle.arrays.get('config'), bundle.source);
  const names = [...(options.weights ?? bundle).arrays.keys()];
  const layout: Layout = options.layout ?? config.layout ?? (looksOnnx(names) ? 'onnx' : looksKeras(names) ? 'keras' : 'pytorch');
  const c = layout === 'onnx' ? buildOnnxCase(bundle, options, config) : layout === 'keras' ? buildKerasCase(bundle, options, config) : buildPytorchCase(bundle, options, config);
  if (!c.expected.output && !c.expected.h_n && options.requireExpected !== false) {
    const [o, h] = layout === 'onnx' ? ['Y', 'Y_h'] : ['output', 'h_n'];
    throw new GruCheckError('NO_EXPECTED', `nothing to check: neither ${o} nor ${h} is present`, { file: bundle.source, hint: `dump the GRU's ${o} and/or ${h}, or pass --candidate` });
  }
  if (options.maxBytes !== undefined) {
    // A few kilobytes of weights can ask for a huge run: refuse before allocating any of it.
    const need = workingBytes(c);
    if (need > options.maxBytes) {
      throw new GruCheckError('TOO_LARGE', `computing this GRU needs about ${fmtBytes(need)} (T=${c.seqLen}, B=${c.batchSize}, ${c.params.bidirectional ? 2 : 1}x${c.params.hiddenSize} features), over the ${fmtBytes(options.maxBytes)} limit`, { file: bundle.source, hint: 'raise --max-bytes if the machine has the memory' });
    }
  }
  return c;
}

/**
 * Memory the reference needs beyond the inputs, in float64: per layer and direction the input
 * projection (3H) and the output (H) for every step, plus the concatenated layer output (D*H) and
 * one copy in the dump's layout — about 40 bytes x T x B x D x H.
 */
export function workingBytes(c: GruCase): number {
  const D = c.params.bidirectional ? 2 : 1;
  return 8 * c.seqLen * c.batchSize * D * c.params.hiddenSize * 5;
}

export function fmtBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${Number(n.toPrecision(3))} ${units[i]}`;
}



export function buildPytorchCase(bundle: ArrayBundle, options: CaseOptions, config: CaseConfig): GruCase {
  const file = bundle.source;
  const weightBundle = options.weights ?? bundle;
  const wfile = weightBundle.source;
  const prefix = choosePrefix(weightBundle.arrays.keys(), options.prefix, wfile);
  const params = pytorchParams(weightBundle.arrays, prefix, wfile);
  const { inputSize: I, hiddenSize: H, numLayers: L } = params;
  const D = params.bidirectional ? 2 : 1;
  const arrays = bundle.arrays;

  const inputArr = pick(arrays, prefix, 'input');
  if (!inputArr) throw new GruCheckError('MISSING_ARRAY', 'missing array input', { file, hint: 'the case must hold the GRU\'s input as "input"' });
  const input = floatTensor(inputArr, file);
  const h0Arr = pick(arrays, prefix, 'h0');
  const h0 = h0Arr ? floatTensor(h0Arr, file) : undefined;
  const outArr = pick(arrays, prefix, 'output');
  const hnArr = pick(arrays, prefix, 'h_n');
  const output = outArr ? floatTensor(outArr, file) : undefined;
  const hN = hnArr ? floatTensor(hnArr, file) : undefined;
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
  expectNonEmpty('input', input.shape, T, B, !batched ? 'seq, input_size' : batchFirst ? 'batch, seq, input_size' : 'seq, batch, input_size', file);

  const stateShape = batched ? [L * D, B, H] : [L * D, H];
  const stateWhat = batched ? 'num_layers*num_directions, batch, hidden_size' : 'num_layers*num_directions, hidden_size';
  let h0Data: FloatArray;
  if (h0) {
    expectShape(h0, 'h0', stateShape, stateWhat, file);
    h0Data = toStorage(h0.data, params.dtype);
  } else {
    h0Data = zerosLike(params.dtype, L * D * B * H);
  }

  const lengths = lengthsArr ? readLengths(lengthsArr, B, T, file) : undefined;

  let seqInput = toStorage(input.data, params.dtype);
  if (batched && batchFirst) seqInput = swapFirstAxes(seqInput, B, T, I);

  const expected: { output?: Tensor; h_n?: Tensor } = {};
  if (output) expected.output = output;
  if (hN) expected.h_n = hN;
  const gruCase: GruCase = {
    source: file,
    config: { layout: 'pytorch', inputSize: I, hiddenSize: H, numLayers: L, bidirectional: params.bidirectional, bias: params.bias, batchFirst, batched, dtype: params.dtype },
    layoutSource,
    params,
    seqLen: T,
    batchSize: B,
    input: seqInput,
    h0: h0Data,
    h0Given: h0 !== undefined,
    expected,
    prefix,
    math: PYTORCH_MATH,
  };
  if (lengths) gruCase.lengths = lengths;
  return gruCase;
}
