/**
 * Loaded arrays -> one validated GruCase: the boundary where every shape, layout and length is
 * checked once. Owns the input contract (docs/cases.md, "Input contract"): input, optional h0, expected
 * output / h_n (at least one), optional lengths and JSON config, batch_first resolution
 * (flag > config > shapes), unbatched inputs.
 */
import { GruCheckError, isGruCheckError } from '../errors.js';
import { sanitizeError } from '../io/text.js';
import type { ArrayBundle, NdArray } from '../io/types.js';
import { expectNonEmpty, expectShape, floatTensor, sameShape, shapeInBrackets, readLengths, swapFirstAxes, toStorage, zerosLike } from './arrays.js';
import { choosePrefix, findGruPrefixes, pytorchParams } from './pytorch.js';
import { onnxGruStack } from './onnx-model.js';
import type { FloatArray, GruCase, GruParams, Layout, LayoutSource, Tensor } from './types.js';
import { buildKerasCase, looksKeras } from './keras.js';
import { buildCellCase, looksCell } from './cell.js';
import { buildOnnxCase, looksOnnx } from './onnx.js';
import { PYTORCH_MATH } from './math.js';
import { asBool, asPositiveInt, asString, oneOf, readConfig, unusedKeyWarnings, type CaseConfig, type CaseWarning } from './config.js';
import type { CaseOptions } from './case-options.js';

export type { CaseOptions, OnnxDirection } from './case-options.js';

export { readConfig, type CaseConfig } from './config.js';

/** The option's flag, for messages. */
const FLAG: Record<string, string> = {
  prefix: '--prefix', linearBeforeReset: '--linear-before-reset', direction: '--direction', onnxLayout: '--onnx-layout',
  clip: '--clip', activations: '--activations', activationAlpha: '--activation-alpha', activationBeta: '--activation-beta', gateOrder: '--gate-order',
};

const LAYOUT_NAMES: Record<Layout, string> = { pytorch: "PyTorch's state_dict layout", onnx: 'the ONNX layout', keras: 'the Keras layout' };
const ONNX_ATTRIBUTE = 'it is an attribute of the ONNX GRU node (use --layout onnx for an ONNX case)';
const KERAS_SETTING = 'it is a Keras GRU layer setting (use --layout keras for a Keras case)';

/**
 * Why a setting that changes the math does not apply to a layout (undefined: it applies). One
 * table for flags (option names) and config keys (ONNX / Keras names): the same reason either way.
 */
function inapplicable(layout: Layout, key: string): string | undefined {
  const onnxKeys = ['direction', 'onnxLayout', 'onnx_layout', 'clip', 'activations', 'activationAlpha', 'activation_alpha', 'activationBeta', 'activation_beta', 'gateOrder', 'gate_order'];
  const kerasKeys = ['reset_after', 'go_backwards', 'activation', 'recurrent_activation', 'time_major', 'use_bias', 'units'];
  if (layout !== 'onnx' && onnxKeys.includes(key)) return ONNX_ATTRIBUTE;
  if (layout !== 'keras' && kerasKeys.includes(key)) return KERAS_SETTING;
  if (key === 'linearBeforeReset' || key === 'linear_before_reset') {
    if (layout === 'pytorch') return "nn.GRU always applies the reset gate after the recurrent matmul (ONNX's linear_before_reset=1)";
    if (layout === 'keras' && key === 'linear_before_reset') return "a Keras layer's is reset_after (config key reset_after, or --linear-before-reset, which must agree with it)";
  }
  return undefined;
}

/** Config keys that change the math (or the data's layout): one of them left unread is an error, not a warning. */
const MATH_KEYS = ['direction', 'onnx_layout', 'clip', 'activations', 'activation_alpha', 'activation_beta', 'gate_order', 'linear_before_reset', 'reset_after', 'go_backwards', 'activation', 'recurrent_activation', 'time_major', 'batch_first'];

/**
 * Options that do not apply to the case's layout are refused, never ignored (--batch-first on an
 * ONNX case is mapped to onnx_layout 1 by the ONNX reader; --linear-before-reset on a Keras case
 * must agree with its reset_after).
 */
function refuseInapplicable(layout: Layout, o: CaseOptions, file: string): void {
  const names = LAYOUT_NAMES[layout];
  for (const k of ['direction', 'onnxLayout', 'clip', 'activations', 'activationAlpha', 'activationBeta', 'gateOrder', 'linearBeforeReset'] as const) {
    const why = o[k] === undefined ? undefined : inapplicable(layout, k);
    if (why) throw new GruCheckError('USAGE', `${FLAG[k] ?? k} does not apply to ${names}: ${why}`, { file });
  }
  if (layout === 'onnx' && o.prefix !== undefined) throw new GruCheckError('USAGE', `--prefix does not apply to ${names}: an ONNX case names its tensors X, W, R, B without a module prefix`, { file });
  if (layout === 'keras' && o.batchFirst === false) {
    throw new GruCheckError('USAGE', "--seq-first does not apply to the Keras layout: a Keras layer's input is always [batch, timesteps, features]", { file });
  }
}

/**
 * The same rule for config keys, after the layout's reader took what it reads: a key that would
 * change the math but was not read is BAD_CONFIG with its flag's reason; the rest become warnings.
 */
function refuseUnreadMathKeys(layout: Layout, config: CaseConfig, file: string): void {
  for (const k of config.unused()) {
    if (!MATH_KEYS.includes(k)) continue;
    const why = inapplicable(layout, k) ?? 'the reader of this layout does not compute it';
    throw new GruCheckError('BAD_CONFIG', `config: ${k} does not apply to ${LAYOUT_NAMES[layout]}: ${why}`, { file, hint: 'remove the key, or set the layout the key belongs to' });
  }
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
  if (config.has('layout') && typeof config.raw.layout === 'number') {
    throw new GruCheckError('BAD_CONFIG', `config: layout must be "pytorch", "onnx" or "keras" (gru-check's weight layout), got ${JSON.stringify(config.raw.layout)}`, {
      file: bundle.source,
      hint: "ONNX's layout attribute is spelled onnx_layout here",
    });
  }
  const names = [...(options.weights ?? bundle).arrays.keys()];
  const cfgLayout = config.take('layout', oneOf<Layout>('pytorch', 'onnx', 'keras'), '"pytorch", "onnx" or "keras"');
  // Weights from an .onnx model fit either case layout: the case's own arrays say which.
  const fromModel = options.weights?.onnx ? (bundle.arrays.has('X') && !bundle.arrays.has('input') ? 'onnx' : 'pytorch') : undefined;
  const layout: Layout = options.layout ?? cfgLayout ?? fromModel ?? (looksOnnx(names) ? 'onnx' : looksKeras(names) ? 'keras' : 'pytorch');
  refuseInapplicable(layout, options, bundle.source);
  const warnings: CaseWarning[] = [];
  const c = layout === 'onnx' ? buildOnnxCase(bundle, options, config, warnings) : layout === 'keras' ? buildKerasCase(bundle, options, config, warnings) : looksCell(names) ? buildCellCase(bundle, options, config, warnings) : buildPytorchCase(bundle, options, config, warnings);
  const dtype = config.take('dtype', asString, 'a numpy dtype name');
  if (dtype !== undefined && dtype !== c.params.dtype) {
    warnings.push({ code: 'CONFIG_DTYPE', message: `config says dtype "${dtype}" but the weights are ${c.params.dtype}: computed as ${c.params.dtype}` });
  }
  refuseUnreadMathKeys(layout, config, bundle.source);
  warnings.push(...unusedKeyWarnings(config, layout));
  c.warnings = warnings;
  if (!c.expected.output && !c.expected.h_n && options.requireExpected !== false) {
    if (c.config.cell) throw new GruCheckError('NO_EXPECTED', 'nothing to check: h (the cell\'s output) is not present', { file: bundle.source, hint: 'dump the cell\'s output as h, or pass --candidate' });
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



/**
 * nn.GRU's constructor arguments a config may state (gru_dump does not write them, a hand-made dump
 * might): each must agree with what the weights say, else the dump is of another GRU.
 */
function checkModuleArgs(config: CaseConfig, p: GruParams, prefix: string, file: string): void {
  const stated: [string, number | boolean | undefined, number | boolean, string][] = [
    ['input_size', config.take('input_size', asPositiveInt, 'a positive integer'), p.inputSize, `${prefix}weight_ih_l0`],
    ['hidden_size', config.take('hidden_size', asPositiveInt, 'a positive integer'), p.hiddenSize, `${prefix}weight_hh_l0`],
    ['num_layers', config.take('num_layers', asPositiveInt, 'a positive integer'), p.numLayers, `the ${prefix}weight_ih_l* arrays`],
    ['bidirectional', config.take('bidirectional', asBool, 'true or false'), p.bidirectional, `the ${prefix}*_reverse arrays`],
    ['bias', config.take('bias', asBool, 'true or false'), p.bias, `the ${prefix}bias_* arrays`],
  ];
  for (const [key, said, actual, from] of stated) {
    if (said !== undefined && said !== actual) {
      throw new GruCheckError('SHAPE_MISMATCH', `config: ${key} ${String(said)} disagrees with ${from} (${key} ${String(actual)})`, { file, hint: 'config and weights must describe the same GRU' });
    }
  }
  // Inter-layer dropout is off in eval mode, which is what gru-check recomputes (and gru_dump runs).
  config.take('dropout', (v) => (typeof v === 'number' && v >= 0 && v < 1 ? v : undefined), 'a number in [0, 1)');
}

export function buildPytorchCase(bundle: ArrayBundle, options: CaseOptions, config: CaseConfig, warnings: CaseWarning[]): GruCase {
  const file = bundle.source;
  const weightBundle = options.weights ?? bundle;
  const wfile = weightBundle.source;
  const inputLast = bundle.arrays.get('input')?.shape.at(-1);
  // Weights from an .onnx model (--weights model.onnx): its GRU nodes, as one stack.
  const fromOnnx = weightBundle.onnx ? onnxGruStack(weightBundle, options.node, warnings, options.maxBytes) : undefined;
  if (options.node !== undefined && !fromOnnx) {
    throw new GruCheckError('USAGE', '--node picks a GRU of an .onnx model: the weights here are not one', { file: wfile, hint: 'pass the model with --weights model.onnx' });
  }
  const prefix = fromOnnx ? '' : choosePrefix(weightBundle.arrays.keys(), options.prefix, wfile, weightBundle.arrays, inputLast);
  const params = fromOnnx ? fromOnnx.params : pytorchParams(weightBundle.arrays, prefix, wfile);
  checkModuleArgs(config, params, prefix, file);
  const cfgBatchFirst = config.take('batch_first', asBool, 'true or false');
  const { inputSize: I, hiddenSize: H, numLayers: L } = params;
  const D = params.bidirectional ? 2 : 1;

  const t = pytorchTensors(bundle, prefix);
  const { input, h0, output, hN } = t;
  const batched = checkInputSize(input, I, prefix, weightBundle, file);
  const { batchFirst, layoutSource, T, B } = pytorchTimeBatch(t, batched, options.batchFirst ?? cfgBatchFirst, options.batchFirst !== undefined ? 'flag' : 'config', file);

  const stateShape = batched ? [L * D, B, H] : [L * D, H];
  const stateWhat = batched ? 'num_layers*num_directions, batch, hidden_size' : 'num_layers*num_directions, hidden_size';
  checkHiddenSizeAgrees(t, D, H, prefix, file, wfile);
  let h0Data: FloatArray;
  if (h0) {
    expectShape(h0, 'h0', stateShape, stateWhat, file);
    h0Data = toStorage(h0.data, params.dtype);
  } else {
    h0Data = zerosLike(params.dtype, L * D * B * H);
  }

  const lengths = t.lengthsArr ? readLengths(t.lengthsArr, B, T, file) : undefined;

  let seqInput = toStorage(input.data, params.dtype);
  if (batched && batchFirst) seqInput = swapFirstAxes(seqInput, B, T, I);

  const notes: string[] = [];
  const expected: { output?: Tensor; h_n?: Tensor } = {};
  if (output) expected.output = batched ? expectedOutput(output, { T, B, F: D * H, batchFirst, lengths, layoutSource, file, notes }) : output;
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
    math: fromOnnx ? fromOnnx.math[0]! : PYTORCH_MATH,
    warnings,
  };
  if (fromOnnx && fromOnnx.math.length === 2 && fromOnnx.math[0] !== fromOnnx.math[1]) gruCase.directionMath = fromOnnx.math;
  if (fromOnnx) gruCase.weightsFrom = `ONNX nodes ${fromOnnx.nodes.join(', ')}`;
  if (lengths) gruCase.lengths = lengths;
  if (notes.length > 0) gruCase.notes = notes;
  return gruCase;
}

/** A PyTorch case's tensors by their names under the prefix: input (required), h0, output, h_n, lengths. */
interface PytorchTensors {
  input: Tensor;
  h0: Tensor | undefined;
  output: Tensor | undefined;
  hN: Tensor | undefined;
  lengthsArr: NdArray | undefined;
}

function pytorchTensors(bundle: ArrayBundle, prefix: string): PytorchTensors {
  const file = bundle.source;
  const arrays = bundle.arrays;
  const inputArr = pick(arrays, prefix, 'input');
  if (!inputArr) {
    const weightsOnly = bundle.format === 'torch' || bundle.format === 'safetensors' || bundle.format === 'onnx';
    const what = { torch: 'a torch.save file', safetensors: 'a .safetensors file', onnx: 'an ONNX model' }[bundle.format as 'torch'] ?? '';
    throw new GruCheckError('MISSING_ARRAY', weightsOnly ? `${what} holds weights, not a case (no array input)` : 'missing array input', {
      file,
      hint: weightsOnly ? 'pass it as --weights FILE next to a case dumped with samples/gru_dump.py (input, h0, output, h_n)' : 'the case must hold the GRU\'s input as "input"',
    });
  }
  const input = floatTensor(inputArr, file);
  const h0Arr = pick(arrays, prefix, 'h0');
  const h0 = h0Arr ? floatTensor(h0Arr, file) : undefined;
  const outArr = pick(arrays, prefix, 'output');
  const hnArr = pick(arrays, prefix, 'h_n');
  const output = outArr ? floatTensor(outArr, file) : undefined;
  const hN = hnArr ? floatTensor(hnArr, file) : undefined;
  const lengthsArr = pick(arrays, prefix, 'lengths');
  return { input, h0, output, hN, lengthsArr };
}

/** input is 3-D (batched) or 2-D, its last dim the weights' input_size. Returns whether it is batched. */
function checkInputSize(input: Tensor, I: number, prefix: string, weightBundle: ArrayBundle, file: string): boolean {
  if (input.shape.length !== 2 && input.shape.length !== 3) {
    throw new GruCheckError('SHAPE_MISMATCH', `input: expected 3 dims (seq, batch, input_size) or 2 dims unbatched (seq, input_size), got ${shapeInBrackets(input.shape)}`, { file });
  }
  const F = input.shape[input.shape.length - 1]!;
  if (F !== I) {
    // With several GRUs in the weights, say which one the input fits.
    const fit = findGruPrefixes(weightBundle.arrays.keys()).find((p) => p !== prefix && weightBundle.arrays.get(`${p}weight_ih_l0`)?.shape[1] === F);
    throw new GruCheckError('SHAPE_MISMATCH', `input: expected last dim ${I} (input_size, from ${prefix}weight_ih_l0), got ${shapeInBrackets(input.shape)}`, {
      file,
      hint: fit !== undefined ? `--prefix ${fit.replace(/\.$/, '') || "''"} is the GRU whose input_size ${F} fits` : 'is this the GRU\'s own input (after any embedding or projection before it)?',
    });
  }
  return input.shape.length === 3;
}

/**
 * Sequence length and batch size, and whether input is batch-first: stated (a flag, else config,
 * as `from` says) or read from the shapes. Checks the input is not empty.
 */
function pytorchTimeBatch(t: PytorchTensors, batched: boolean, stated: boolean | undefined, from: 'flag' | 'config', file: string): { batchFirst: boolean; layoutSource: LayoutSource; T: number; B: number } {
  const { input } = t;
  let batchFirst = false;
  let layoutSource: LayoutSource = 'unbatched';
  let T: number;
  let B: number;
  if (!batched) {
    T = input.shape[0]!;
    B = 1;
    if (t.lengthsArr) throw new GruCheckError('BAD_LENGTHS', 'lengths: given for an unbatched (2-D) input', { file, hint: 'lengths needs a batch axis' });
  } else {
    const [d0, d1] = input.shape as [number, number, number];
    if (stated !== undefined) {
      batchFirst = stated;
      layoutSource = from;
    } else {
      batchFirst = batchFirstFromShapes(t, file);
      layoutSource = 'shapes';
    }
    T = batchFirst ? d1 : d0;
    B = batchFirst ? d0 : d1;
  }
  expectNonEmpty('input', input.shape, T, B, !batched ? 'seq, input_size' : batchFirst ? 'batch, seq, input_size' : 'seq, batch, input_size', file);
  return { batchFirst, layoutSource, T, B };
}

/** The batch size shows in h0 / h_n (axis 1) and lengths (axis 0); output has input's layout and tells nothing. */
function batchFirstFromShapes(t: PytorchTensors, file: string): boolean {
  const { input, h0, hN, lengthsArr } = t;
  const [d0, d1] = input.shape as [number, number, number];
  const batchHints = [h0?.shape.length === 3 ? h0.shape[1] : undefined, hN?.shape.length === 3 ? hN.shape[1] : undefined, lengthsArr?.shape.length === 1 ? lengthsArr.shape[0] : undefined].filter((x): x is number => x !== undefined);
  const fitsSeq = batchHints.length > 0 && batchHints.every((b) => b === d1);
  const fitsBatch = batchHints.length > 0 && batchHints.every((b) => b === d0);
  if (fitsSeq === fitsBatch) {
    const why = d0 === d1 ? `input is ${shapeInBrackets(input.shape)} and batch == seq` : batchHints.length === 0 ? 'no h0, h_n or lengths shows the batch size' : 'h0 / h_n / lengths disagree with both layouts';
    throw new GruCheckError('AMBIGUOUS_LAYOUT', `cannot tell batch_first from the shapes: ${why}`, { file, hint: 'pass --batch-first or --seq-first, or add "batch_first" to config' });
  }
  return fitsBatch;
}

/**
 * h0, h_n and output agreeing on another hidden_size than the weights: the weights are the odd
 * one out (another model's), not h0.
 */
function checkHiddenSizeAgrees(t: PytorchTensors, D: number, H: number, prefix: string, file: string, wfile: string): void {
  const hiddenOf = (x: Tensor | undefined, per: number): number | undefined => (x && x.shape.length > 0 ? x.shape.at(-1)! / per : undefined);
  const others = [['h0', hiddenOf(t.h0, 1)], ['h_n', hiddenOf(t.hN, 1)], ['output', hiddenOf(t.output, D)]].filter((x): x is [string, number] => x[1] !== undefined);
  if (others.length >= 2 && others.every(([, h]) => h === others[0]![1] && h !== H)) {
    throw new GruCheckError('SHAPE_MISMATCH', `hidden_size ${H} comes from ${prefix}weight_hh_l0 [${3 * H}, ${H}], but ${others.map(([n]) => n).join(', ')} have ${others[0]![1]}`, {
      file: wfile === file ? file : wfile,
      hint: 'the weights look like another model\'s: dump them from the module that produced the outputs',
    });
  }
}


/**
 * The expected output in the case's layout. One trimmed to max(lengths) steps (what
 * pad_packed_sequence returns without total_length) is read as padded with zeros, as the steps past
 * every length are. One in the other layout than the input's (batch-first while input is
 * seq-first, or the reverse) is refused: compared as it is, every element would mismatch.
 */
function expectedOutput(out: Tensor, k: { T: number; B: number; F: number; batchFirst: boolean; lengths: Int32Array | undefined; layoutSource: LayoutSource; file: string; notes: string[] }): Tensor {
  const { T, B, F, batchFirst } = k;
  const want = batchFirst ? [B, T, F] : [T, B, F];
  if (sameShape(out.shape, want)) return out;
  const max = k.lengths ? Math.max(...k.lengths) : T;
  if (max < T && sameShape(out.shape, batchFirst ? [B, max, F] : [max, B, F])) {
    const data = new (out.data.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(T * B * F);
    if (batchFirst) {
      for (let b = 0; b < B; b++) data.set(out.data.subarray(b * max * F, (b + 1) * max * F), b * T * F);
    } else {
      data.set(out.data);
    }
    k.notes.push(`output holds ${max} = max(lengths) steps of ${T} (pad_packed_sequence without total_length): read as padded with zeros`);
    return { ...out, shape: want, data };
  }
  if (B !== T && sameShape(out.shape, batchFirst ? [T, B, F] : [B, T, F])) {
    const how = k.layoutSource === 'shapes' ? ' (told by h0 / h_n / lengths)' : k.layoutSource === 'config' ? ' (config)' : k.layoutSource === 'flag' ? ' (flag)' : '';
    throw new GruCheckError('AMBIGUOUS_LAYOUT', `input is ${batchFirst ? 'batch-first [batch, seq, features]' : 'seq-first [seq, batch, features]'}${how} but output ${shapeInBrackets(out.shape)} is ${batchFirst ? 'seq-first' : 'batch-first'}`, {
      file: k.file,
      hint: 'dump input and output in the same layout, the module\'s batch_first (samples/gru_dump.py does)',
    });
  }
  return out; // any other shape: the check reports the disagreement
}
