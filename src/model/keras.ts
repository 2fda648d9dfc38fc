/**
 * Keras GRU layer weights -> one validated GruCase. Keras's names and shapes:
 *   kernel [I, 3H], recurrent_kernel [H, 3H], bias [2, 3H] (reset_after=True, the default since
 *   TF 2) or [3H] (reset_after=False); gate COLUMNS z|r|h. Names may carry a layer prefix
 *   (`gru/kernel`). Tensors are batch-major: input [B, T, I], h0 and h_n [B, H], output [B, T, H].
 * reset_after=True is PyTorch's equation with bias[0] as b_ih and bias[1] as b_hh;
 * reset_after=False has one bias, applied outside the reset product: it becomes b_ih, b_hh = 0.
 */
import { GruCheckError } from '../errors.js';
import type { ArrayBundle } from '../io/types.js';
import { expectNonEmpty, expectShape, floatTensor, fmtShape, readLengths, swapFirstAxes, toStorage, zerosLike } from './arrays.js';
import type { CaseOptions } from './case.js';
import { asBool, asPositiveInt, asString, type CaseConfig, type CaseWarning } from './config.js';
import { reorderRows, transpose } from './gates.js';
import { PYTORCH_MATH, withMath, type Activation } from '../gru/math.js';
import type { GruCase, GruDirectionParams, GruParams } from './types.js';

const KERNEL = /^(.*?)kernel$/s;

export function looksKeras(names: string[]): boolean {
  return names.some((n) => KERNEL.test(n) && !n.endsWith('recurrent_kernel'));
}

/** Layer prefixes owning a kernel, e.g. ['gru/'] */
function kerasPrefixes(names: string[]): string[] {
  return names.filter((n) => KERNEL.test(n) && !n.endsWith('recurrent_kernel')).map((n) => KERNEL.exec(n)![1]!).sort();
}

/**
 * Keras activation names gru-check computes exactly, as ONNX activations. hard_sigmoid is not one:
 * Keras 2 defines it as clip(0.2x + 0.5) and Keras 3 as relu6(x + 3) / 6, so a config must say
 * which (hard_sigmoid_keras2 / hard_sigmoid_keras3).
 */
const KERAS_ACTIVATIONS: Record<string, Activation> = {
  sigmoid: { name: 'Sigmoid', alpha: 0, beta: 0 },
  tanh: { name: 'Tanh', alpha: 0, beta: 0 },
  relu: { name: 'Relu', alpha: 0, beta: 0 },
  linear: { name: 'Affine', alpha: 1, beta: 0 },
  softsign: { name: 'Softsign', alpha: 0, beta: 0 },
  softplus: { name: 'Softplus', alpha: 0, beta: 0 },
  elu: { name: 'Elu', alpha: 1, beta: 0 },
  hard_sigmoid_keras2: { name: 'HardSigmoid', alpha: 0.2, beta: 0.5 },
  hard_sigmoid_keras3: { name: 'HardSigmoid', alpha: 1 / 6, beta: 0.5 },
};

function kerasActivation(config: CaseConfig, key: string, file: string): Activation | undefined {
  const name = config.take(key, asString, 'a Keras activation name');
  if (name === undefined) return undefined;
  const a = KERAS_ACTIVATIONS[name];
  if (!a) {
    const hint = name === 'hard_sigmoid'
      ? 'Keras 2 and Keras 3 define hard_sigmoid differently: write "hard_sigmoid_keras2" (0.2x + 0.5) or "hard_sigmoid_keras3" (x/6 + 0.5)'
      : `gru-check computes ${Object.keys(KERAS_ACTIVATIONS).join(', ')}`;
    throw new GruCheckError('BAD_CONFIG', `config: ${key} "${name}" cannot be computed`, { file, hint });
  }
  return a;
}

export function buildKerasCase(bundle: ArrayBundle, options: CaseOptions, config: CaseConfig, warnings: CaseWarning[]): GruCase {
  const file = bundle.source;
  const wb = options.weights ?? bundle;
  const wfile = wb.source;
  const prefixes = kerasPrefixes([...wb.arrays.keys()]);
  let prefix: string;
  if (options.prefix !== undefined) {
    const want = options.prefix === '' || /[/.]$/.test(options.prefix) ? options.prefix : prefixes.find((p) => p === `${options.prefix}/` || p === `${options.prefix}.`) ?? `${options.prefix}/`;
    if (!prefixes.includes(want)) throw new GruCheckError('MISSING_ARRAY', `no Keras GRU kernel under prefix '${options.prefix}': found ${prefixes.join(', ') || 'none'}`, { file: wfile });
    prefix = want;
  } else if (prefixes.length === 1) {
    prefix = prefixes[0]!;
  } else if (prefixes.length === 0) {
    throw new GruCheckError('MISSING_ARRAY', 'no Keras GRU weights found: expected kernel, recurrent_kernel and bias (optionally with a layer prefix such as gru/)', { file: wfile });
  } else {
    throw new GruCheckError('AMBIGUOUS_PREFIX', `several Keras kernels in one file: ${prefixes.join(', ')}`, { file: wfile, hint: 'pick one with --prefix' });
  }
  const get = (n: string) => wb.arrays.get(`${prefix}${n}`);
  const k = floatTensor(get('kernel')!, wfile);
  const rka = get('recurrent_kernel');
  if (!rka) throw new GruCheckError('MISSING_ARRAY', `missing ${prefix}recurrent_kernel`, { file: wfile });
  const rk = floatTensor(rka, wfile);
  if (rk.shape.length !== 2 || rk.shape[1] !== 3 * rk.shape[0]! || rk.shape[0] === 0) {
    throw new GruCheckError('SHAPE_MISMATCH', `${prefix}recurrent_kernel: expected shape [units, 3*units], got ${fmtShape(rk.shape)}`, { file: wfile });
  }
  const H = rk.shape[0]!;
  if (k.shape.length !== 2 || k.shape[1] !== 3 * H || k.shape[0] === 0) {
    throw new GruCheckError('SHAPE_MISMATCH', `${prefix}kernel: expected shape [input_dim, ${3 * H}] (3*units from recurrent_kernel), got ${fmtShape(k.shape)}`, { file: wfile });
  }
  const I = k.shape[0]!;
  const dtype = k.dtype;
  const ba = get('bias');
  const bias = ba ? floatTensor(ba, wfile) : undefined;
  const cfgResetAfter = config.take('reset_after', asBool, 'true or false');
  let resetAfter: boolean;
  if (bias) {
    if (bias.shape.length === 2) expectShape(bias, `${prefix}bias`, [2, 3 * H], 'reset_after=True: input and recurrent bias, 3*units', wfile);
    else expectShape(bias, `${prefix}bias`, [3 * H], 'reset_after=False: 3*units', wfile);
    resetAfter = bias.shape.length === 2;
    if (cfgResetAfter !== undefined && cfgResetAfter !== resetAfter) {
      throw new GruCheckError('SHAPE_MISMATCH', `${prefix}bias: config says reset_after=${cfgResetAfter} but the bias has shape ${fmtShape(bias.shape)}`, { file: wfile });
    }
  } else {
    resetAfter = cfgResetAfter ?? options.linearBeforeReset ?? true;
  }
  // --linear-before-reset on a Keras case is its reset_after: it must agree, never be ignored.
  if (options.linearBeforeReset !== undefined && options.linearBeforeReset !== resetAfter) {
    throw new GruCheckError('USAGE', `--linear-before-reset ${options.linearBeforeReset ? 1 : 0} contradicts this Keras layer's reset_after=${resetAfter ? 'True' : 'False'}${bias ? ` (bias ${fmtShape(bias.shape)})` : ' (config)'}`, { file: wfile });
  }
  const useBias = config.take('use_bias', asBool, 'true or false');
  if (useBias !== undefined && useBias !== (bias !== undefined)) {
    throw new GruCheckError('SHAPE_MISMATCH', `config: use_bias ${useBias} but ${bias ? 'a' : 'no'} ${prefix}bias array is present`, { file: wfile });
  }
  const units = config.take('units', asPositiveInt, 'a positive integer');
  if (units !== undefined && units !== H) {
    throw new GruCheckError('SHAPE_MISMATCH', `config: units ${units} disagrees with ${prefix}recurrent_kernel ${fmtShape(rk.shape)} (units ${H})`, { file: wfile });
  }
  if (config.take('go_backwards', asBool, 'true or false') === true) {
    throw new GruCheckError('BAD_CONFIG', 'config: go_backwards=True cannot be computed in the Keras layout', { file, hint: 'export the layer to ONNX (direction="reverse") or dump it without go_backwards' });
  }
  if (config.take('time_major', asBool, 'true or false') === true) {
    throw new GruCheckError('BAD_CONFIG', 'config: time_major=True: the Keras layout here is batch-major [batch, timesteps, features]', { file });
  }
  if (config.take('batch_first', asBool, 'true or false') === false) {
    throw new GruCheckError('BAD_CONFIG', 'config: batch_first=false: a Keras layer\'s input is always [batch, timesteps, features]', { file });
  }
  const g = kerasActivation(config, 'activation', file);
  const f = kerasActivation(config, 'recurrent_activation', file);
  // Keras multiplies x @ kernel: the PyTorch-style (3H, I) matrix is its transpose.
  const p: GruDirectionParams = {
    weightIh: reorderRows(transpose(toStorage(k.data, dtype), I, 3 * H), H, I, 'zrh'),
    weightHh: reorderRows(transpose(toStorage(rk.data, dtype), H, 3 * H), H, H, 'zrh'),
    inputSize: I,
  };
  if (bias) {
    const b = toStorage(bias.data, dtype);
    p.biasIh = reorderRows(b.subarray(0, 3 * H), H, 1, 'zrh');
    p.biasHh = resetAfter ? reorderRows(b.subarray(3 * H), H, 1, 'zrh') : zerosLike(dtype, 3 * H);
  }
  const params: GruParams = { inputSize: I, hiddenSize: H, numLayers: 1, bidirectional: false, bias: bias !== undefined, dtype, layers: [[p]] };

  const arrays = bundle.arrays;
  const ia = arrays.get('input');
  if (!ia) throw new GruCheckError('MISSING_ARRAY', 'missing array input', { file, hint: 'Keras layout: input [batch, timesteps, input_dim]' });
  const input = floatTensor(ia, file);
  if (input.shape.length !== 3 || input.shape[2] !== I) {
    throw new GruCheckError('SHAPE_MISMATCH', `input: expected shape [batch, timesteps, ${I}] (input_dim from ${prefix}kernel), got ${fmtShape(input.shape)}`, { file });
  }
  const [B, T] = input.shape as [number, number, number];
  expectNonEmpty('input', input.shape, T, B, 'batch, timesteps, input_dim', file);
  const h0a = arrays.get('h0');
  const h0 = h0a ? floatTensor(h0a, file) : undefined;
  if (h0) expectShape(h0, 'h0', [B, H], 'batch, units', file);
  const out = arrays.get('output') ? floatTensor(arrays.get('output')!, file) : undefined;
  const hn = arrays.get('h_n') ? floatTensor(arrays.get('h_n')!, file) : undefined;
  const c: GruCase = {
    source: file,
    config: { layout: 'keras', inputSize: I, hiddenSize: H, numLayers: 1, bidirectional: false, bias: bias !== undefined, batchFirst: true, batched: true, dtype },
    layoutSource: 'layout',
    params,
    seqLen: T,
    batchSize: B,
    input: swapFirstAxes(toStorage(input.data, dtype), B, T, I),
    h0: h0 ? toStorage(h0.data, dtype) : zerosLike(dtype, B * H),
    h0Given: h0 !== undefined,
    expected: {},
    prefix: prefix.replace(/[/.]$/, ''),
    math: withMath(PYTORCH_MATH, { linearBeforeReset: resetAfter, ...(f ? { f } : {}), ...(g ? { g } : {}) }),
    warnings,
  };
  if (out) c.expected.output = out;
  if (hn) c.expected.h_n = hn;
  const la = arrays.get('lengths');
  if (la) c.lengths = readLengths(la, B, T, file);
  return c;
}
