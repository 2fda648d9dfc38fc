/**
 * Keras GRU layer weights -> one validated GruCase. Keras's names and shapes:
 *   kernel [I, 3H], recurrent_kernel [H, 3H], bias [2, 3H] (reset_after=True, the default since
 *   TF 2) or [3H] (reset_after=False); gate COLUMNS z|r|h. Names may carry a layer prefix
 *   (`gru/kernel`). Tensors are batch-major: input [B, T, I], h0 and h_n [B, H], output [B, T, H].
 * reset_after=True is PyTorch's equation with bias[0] as b_ih and bias[1] as b_hh;
 * reset_after=False has one bias, applied outside the reset product: it becomes b_ih, b_hh = 0.
 *
 * A Bidirectional layer (`X/forward_layer/kernel`, `X/backward_layer/kernel`, as Keras 3 saves it)
 * is one bidirectional GRU under prefix X: output [B, T, 2H] (merge_mode "concat", forward first),
 * h0 [B, 2H] (the forward then the backward initial state). Several GRU layers in one file are a
 * prefix choice, as for a .pt holding several GRU modules: a stacked Keras model is checked layer by
 * layer (each with its own input), never assembled into one stack.
 *
 * From a Keras weight file (io/keras-file.ts), reset_after, use_bias, units, activation and
 * recurrent_activation come from config.json when the file has one (a .keras file); the case's own
 * config wins when it says otherwise (with a warning). Keras 3's config.json "hard_sigmoid" is
 * relu6(x + 3) / 6 (Keras 2's, by metadata.json's keras_version, is clip(0.2x + 0.5)).
 */
import { GruCheckError } from '../errors.js';
import type { ArrayBundle, KerasGruLayer } from '../io/types.js';
import { expectNonEmpty, expectShape, floatTensor, shapeInBrackets, readLengths, swapFirstAxes, toStorage, zerosLike } from './arrays.js';
import type { CaseOptions } from './case-options.js';
import { asBool, asPositiveInt, asString, CaseConfig, type CaseWarning } from './config.js';
import { reorderRows, transpose } from './gates.js';
import { PYTORCH_MATH, withMath, type Activation, type GateMath } from './math.js';
import type { FloatDType, GruCase, GruDirectionParams, GruParams, Tensor } from './types.js';

const KERNEL = /^(.*?)kernel$/s;

export function looksKeras(names: string[]): boolean {
  return names.some((n) => KERNEL.test(n) && !n.endsWith('recurrent_kernel'));
}

/** Layer prefixes owning a kernel, e.g. ['gru/', 'bidirectional/forward_layer/'] */
function kernelPrefixes(names: string[]): string[] {
  return names.filter((n) => KERNEL.test(n) && !n.endsWith('recurrent_kernel')).map((n) => KERNEL.exec(n)![1]!).sort();
}

/** One GRU to check: a plain layer (one direction) or a Bidirectional (forward, backward). */
interface KerasGroup {
  /** With its trailing separator: 'gru/', 'bidirectional/'. */
  prefix: string;
  directions: string[];
}

/**
 * A Bidirectional wrapper's two GRUs (`X/forward_layer/`, `X/backward_layer/`, as Keras 3 saves
 * them) are one bidirectional GRU under `X/`; every other kernel prefix is a GRU of its own.
 */
function kerasGroups(names: string[]): KerasGroup[] {
  const prefixes = kernelPrefixes(names);
  const set = new Set(prefixes);
  const groups: KerasGroup[] = [];
  for (const p of prefixes) {
    const m = /^(.*)(forward|backward)_layer\/$/s.exec(p);
    if (m && set.has(`${m[1]}forward_layer/`) && set.has(`${m[1]}backward_layer/`)) {
      if (m[2] === 'forward') groups.push({ prefix: m[1]!, directions: [p, `${m[1]}backward_layer/`] });
      continue;
    }
    groups.push({ prefix: p, directions: [p] });
  }
  return groups;
}

const showPrefix = (p: string): string => p.replace(/[/.]$/, '') || "''";

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

/** A Keras activation name (as a case config or config.json spells it) -> how gru-check computes it. */
function activationByName(name: string, where: string, key: string, file: string, kerasVersion: string | undefined): Activation {
  // config.json is written by one Keras: there hard_sigmoid means that Keras's own.
  const resolved = name === 'hard_sigmoid' && where !== 'config' ? (kerasVersion?.startsWith('2.') ? 'hard_sigmoid_keras2' : 'hard_sigmoid_keras3') : name;
  const a = KERAS_ACTIVATIONS[resolved];
  if (!a) {
    const hint = name === 'hard_sigmoid'
      ? 'Keras 2 and Keras 3 define hard_sigmoid differently: write "hard_sigmoid_keras2" (0.2x + 0.5) or "hard_sigmoid_keras3" (x/6 + 0.5)'
      : `gru-check computes ${Object.keys(KERAS_ACTIVATIONS).join(', ')}`;
    throw new GruCheckError('BAD_CONFIG', `${where}: ${key} "${name}" cannot be computed`, { file, hint });
  }
  return a;
}

/** What a Keras weight file says of the chosen layer (config.json of a .keras file), read key by key. */
class LayerConfig {
  constructor(
    readonly raw: Record<string, unknown> | undefined,
    /** For messages: `config.json layer 'gru'`. */
    readonly where: string,
    readonly file: string,
  ) {}

  get<T>(key: string, parse: (v: unknown) => T | undefined, want: string): T | undefined {
    if (!this.raw || !Object.prototype.hasOwnProperty.call(this.raw, key)) return undefined;
    const v = parse(this.raw[key]);
    if (v === undefined) throw new GruCheckError('BAD_CONFIG', `${this.where}: ${key} must be ${want}, got ${JSON.stringify(this.raw[key])?.slice(0, 80)}`, { file: this.file });
    return v;
  }
}

/**
 * A setting from the case's config (the user's word, it wins) or else from the weight file's layer
 * config; when both say something different, a warning names both.
 */
function setting<T>(key: string, config: CaseConfig, layer: LayerConfig, parse: (v: unknown) => T | undefined, want: string, warnings: CaseWarning[]): { value: T; from: string } | undefined {
  const fromCase = config.take(key, parse, want);
  const fromFile = layer.get(key, parse, want);
  if (fromCase !== undefined) {
    if (fromFile !== undefined && JSON.stringify(fromFile) !== JSON.stringify(fromCase)) {
      warnings.push({ code: 'CONFIG_OVERRIDES_FILE', message: `config says ${key} ${JSON.stringify(fromCase)}, ${layer.where} says ${JSON.stringify(fromFile)}: the case's config is used` });
    }
    return { value: fromCase, from: 'config' };
  }
  return fromFile === undefined ? undefined : { value: fromFile, from: layer.where };
}

function activation(key: string, config: CaseConfig, layer: LayerConfig, kerasVersion: string | undefined, file: string, warnings: CaseWarning[]): Activation | undefined {
  const s = setting(key, config, layer, asString, 'a Keras activation name', warnings);
  return s === undefined ? undefined : activationByName(s.value, s.from, key, s.from === 'config' ? file : layer.file, kerasVersion);
}

interface Direction {
  params: GruDirectionParams;
  H: number;
  I: number;
  bias: Tensor | undefined;
  /** The kernel's dtype, which the direction's weights are stored in. */
  dtype: FloatDType;
}

/** One direction's kernel, recurrent_kernel and bias under `prefix`, checked and in PyTorch's r|z|n order. */
function readDirection(wb: ArrayBundle, prefix: string, resetAfterFromBias: { value?: boolean }): Direction {
  const wfile = wb.source;
  const get = (n: string) => wb.arrays.get(`${prefix}${n}`);
  const ka = get('kernel');
  if (!ka) throw new GruCheckError('MISSING_ARRAY', `missing ${prefix}kernel`, { file: wfile });
  const k = floatTensor(ka, wfile);
  const rka = get('recurrent_kernel');
  if (!rka) throw new GruCheckError('MISSING_ARRAY', `missing ${prefix}recurrent_kernel`, { file: wfile });
  const rk = floatTensor(rka, wfile);
  if (rk.shape.length !== 2 || rk.shape[1] !== 3 * rk.shape[0]! || rk.shape[0] === 0) {
    throw new GruCheckError('SHAPE_MISMATCH', `${prefix}recurrent_kernel: expected shape [units, 3*units], got ${shapeInBrackets(rk.shape)}`, { file: wfile });
  }
  const H = rk.shape[0]!;
  if (k.shape.length !== 2 || k.shape[1] !== 3 * H || k.shape[0] === 0) {
    throw new GruCheckError('SHAPE_MISMATCH', `${prefix}kernel: expected shape [input_dim, ${3 * H}] (3*units from recurrent_kernel), got ${shapeInBrackets(k.shape)}`, { file: wfile });
  }
  const I = k.shape[0]!;
  const dtype = k.dtype;
  const ba = get('bias');
  const bias = ba ? floatTensor(ba, wfile) : undefined;
  if (bias) {
    if (bias.shape.length === 2) expectShape(bias, `${prefix}bias`, [2, 3 * H], 'reset_after=True: input and recurrent bias, 3*units', wfile);
    else expectShape(bias, `${prefix}bias`, [3 * H], 'reset_after=False: 3*units', wfile);
    const resetAfter = bias.shape.length === 2;
    if (resetAfterFromBias.value !== undefined && resetAfterFromBias.value !== resetAfter) {
      throw new GruCheckError('SHAPE_MISMATCH', `${prefix}bias: shape ${shapeInBrackets(bias.shape)} says reset_after=${resetAfter ? 'True' : 'False'}, the other direction's bias says otherwise`, { file: wfile });
    }
    resetAfterFromBias.value = resetAfter;
  }
  // Keras multiplies x @ kernel: the PyTorch-style (3H, I) matrix is its transpose.
  const params: GruDirectionParams = {
    weightIh: reorderRows(transpose(toStorage(k.data, dtype), I, 3 * H), H, I, 'zrh'),
    weightHh: reorderRows(transpose(toStorage(rk.data, dtype), H, 3 * H), H, H, 'zrh'),
    inputSize: I,
  };
  return { params, H, I, bias, dtype };
}

function setBias(d: Direction, resetAfter: boolean, dtype: FloatDType): void {
  if (!d.bias) return;
  const H = d.H;
  const b = toStorage(d.bias.data, dtype);
  d.params.biasIh = reorderRows(b.subarray(0, 3 * H), H, 1, 'zrh');
  d.params.biasHh = resetAfter ? reorderRows(b.subarray(3 * H), H, 1, 'zrh') : zerosLike(dtype, 3 * H);
}

/** The GRU to check: --prefix (a prefix, or a Keras layer name the file records), else the only one. */
function chooseGroup(wb: ArrayBundle, requested: string | undefined, inputDim: number | undefined): KerasGroup {
  const wfile = wb.source;
  const groups = kerasGroups([...wb.arrays.keys()]);
  const list = groups.map((g) => showPrefix(g.prefix)).join(', ') || 'none';
  if (requested !== undefined) {
    const byName = wb.keras?.layers.find((l) => l.name === requested && l.prefix !== requested);
    const want = byName ? `${byName.prefix}/` : requested;
    const found = groups.find((g) => g.prefix === want || g.prefix === `${want}/` || g.prefix === `${want}.`)
      ?? groups.flatMap((g) => g.directions.map((d) => ({ prefix: d, directions: [d] }))).find((g) => g.prefix === want || g.prefix === `${want}/` || g.prefix === `${want}.`);
    if (!found) throw new GruCheckError('MISSING_ARRAY', `no Keras GRU kernel under prefix '${requested}': found ${list}`, { file: wfile, hint: 'pass one of these to --prefix' });
    if (/backward_layer\/$/.test(found.prefix)) {
      throw new GruCheckError('USAGE', `--prefix ${requested}: a Bidirectional's backward layer runs over reversed time and is not checked alone`, { file: wfile, hint: `check the Bidirectional layer as a whole: --prefix ${showPrefix(found.prefix.replace(/backward_layer\/$/, ''))}` });
    }
    return found;
  }
  if (groups.length === 1) return groups[0]!;
  if (groups.length === 0) {
    throw new GruCheckError('MISSING_ARRAY', 'no Keras GRU weights found: expected kernel, recurrent_kernel and bias (optionally with a layer prefix such as gru/)', { file: wfile });
  }
  // Several GRU layers, as in a .pt with several GRU modules: the user picks one (stacked Keras
  // layers are separate layers, each with its own input: see docs/cases.md, "ONNX and Keras layouts").
  const fits = inputDim === undefined ? [] : groups.filter((g) => wb.arrays.get(`${g.directions[0]}kernel`)?.shape[0] === inputDim);
  const hint = fits.length === 1
    ? `pick one with --prefix: --prefix ${showPrefix(fits[0]!.prefix)} is the one whose input_dim ${inputDim} fits the input`
    : `pick one with --prefix, e.g. --prefix ${showPrefix((fits[0] ?? groups[0]!).prefix)}`;
  throw new GruCheckError('AMBIGUOUS_PREFIX', `several Keras GRU layers in one file: ${list}`, { file: wfile, hint });
}

export function buildKerasCase(bundle: ArrayBundle, options: CaseOptions, config: CaseConfig, warnings: CaseWarning[]): GruCase {
  const file = bundle.source;
  const wb = options.weights ?? bundle;
  const wfile = wb.source;
  const group = chooseGroup(wb, options.prefix, bundle.arrays.get('input')?.shape.at(-1));
  const prefix = group.prefix;
  const D = group.directions.length;
  const info = wb.keras?.layers.find((l) => `${l.prefix}/` === prefix);
  const layerName = info?.name !== undefined && info.name !== showPrefix(prefix) ? ` ('${info.name}')` : '';
  const layer = new LayerConfig(info?.config, `config.json layer ${showPrefix(prefix)}${layerName}`, wfile);
  const site: KerasSite = { file, wb, group, info, layer, config, warnings };

  const { dirs, H, I, hasBias, fromBias, dtype } = readDirections(wb, group);
  const resetAfter = kerasResetAfter(site, options.linearBeforeReset, fromBias, hasBias);
  checkKerasSettings(site, H, hasBias);
  const { math, directionMath } = kerasMaths(site, resetAfter);
  for (const d of dirs) setBias(d, resetAfter, dtype);
  const params: GruParams = { inputSize: I, hiddenSize: H, numLayers: 1, bidirectional: D === 2, bias: hasBias, dtype, layers: [dirs.map((d) => d.params)] };

  const notes: string[] = [];
  if (wb.keras && !wb.keras.hasConfig && !config.has('activation') && !config.has('recurrent_activation')) {
    notes.push('the .weights.h5 file holds no layer config: activation "tanh" and recurrent_activation "sigmoid" (Keras\'s defaults) are assumed; the .keras file, or "activation" / "recurrent_activation" in the case\'s config, says otherwise');
  }

  const { input, B, T, h0, out, hn } = kerasData(bundle, group, H, I);
  const c: GruCase = {
    source: file,
    config: { layout: 'keras', inputSize: I, hiddenSize: H, numLayers: 1, bidirectional: D === 2, bias: hasBias, batchFirst: true, batched: true, dtype },
    layoutSource: 'layout',
    params,
    seqLen: T,
    batchSize: B,
    input: swapFirstAxes(toStorage(input.data, dtype), B, T, I),
    h0: h0 ? (D === 2 ? swapFirstAxes(toStorage(h0.data, dtype), B, D, H) : toStorage(h0.data, dtype)) : zerosLike(dtype, D * B * H),
    h0Given: h0 !== undefined,
    expected: {},
    prefix: showPrefix(prefix) === "''" ? '' : showPrefix(prefix),
    math,
    warnings,
  };
  if (directionMath) c.directionMath = directionMath;
  if (wb.keras) c.weightsFrom = `Keras layer ${showPrefix(prefix)}${layerName} of ${wb.keras.container === 'keras' ? 'a .keras file' : 'a .weights.h5 file'}`;
  if (notes.length > 0) c.notes = notes;
  if (out) c.expected.output = out;
  if (hn) c.expected.h_n = hn;
  const la = bundle.arrays.get('lengths');
  if (la) c.lengths = readLengths(la, B, T, file);
  return c;
}

/** One Keras case's sources of settings: the case's config, the weight file and its layer's config. */
interface KerasSite {
  file: string;
  wb: ArrayBundle;
  group: KerasGroup;
  info: KerasGruLayer | undefined;
  layer: LayerConfig;
  config: CaseConfig;
  warnings: CaseWarning[];
}

/** Every direction's weights, which must agree in shape and in having a bias. */
function readDirections(wb: ArrayBundle, group: KerasGroup): { dirs: Direction[]; H: number; I: number; hasBias: boolean; fromBias: { value?: boolean }; dtype: FloatDType } {
  const wfile = wb.source;
  const D = group.directions.length;
  const fromBias: { value?: boolean } = {};
  const dirs = group.directions.map((p) => readDirection(wb, p, fromBias));
  const { H, I } = dirs[0]!;
  if (D === 2 && (dirs[1]!.H !== H || dirs[1]!.I !== I)) {
    throw new GruCheckError('SHAPE_MISMATCH', `${group.directions[1]}kernel: expected shape [${I}, ${3 * H}] like ${group.directions[0]}kernel, got [${dirs[1]!.I}, ${3 * dirs[1]!.H}]`, { file: wfile });
  }
  const hasBias = dirs[0]!.bias !== undefined;
  if (D === 2 && (dirs[1]!.bias !== undefined) !== hasBias) {
    throw new GruCheckError('MISSING_ARRAY', `${group.directions[hasBias ? 1 : 0]}bias: missing while the other direction has one`, { file: wfile });
  }
  // One dtype for the case, as the other readers keep it (float16 included).
  const { dtype } = dirs[0]!;
  if (D === 2 && dirs[1]!.dtype !== dtype) {
    throw new GruCheckError('SHAPE_MISMATCH', `${group.directions[1]}kernel: ${dirs[1]!.dtype}, while ${group.directions[0]}kernel is ${dtype}: both directions must have one dtype`, { file: wfile });
  }
  return { dirs, H, I, hasBias, fromBias, dtype };
}

/** reset_after: the bias's shape says it when there is one; config, the layer or the flag must agree. */
function kerasResetAfter(site: KerasSite, linearBeforeReset: boolean | undefined, fromBias: { value?: boolean }, hasBias: boolean): boolean {
  const { wb, group, layer, config, warnings } = site;
  const wfile = wb.source;
  const cfgResetAfter = setting('reset_after', config, layer, asBool, 'true or false', warnings);
  let resetAfter: boolean;
  if (fromBias.value !== undefined) {
    resetAfter = fromBias.value;
    if (cfgResetAfter !== undefined && cfgResetAfter.value !== resetAfter) {
      const b = wb.arrays.get(`${group.directions[0]}bias`)!;
      throw new GruCheckError('SHAPE_MISMATCH', `${group.directions[0]}bias: ${cfgResetAfter.from} says reset_after=${cfgResetAfter.value} but the bias has shape ${shapeInBrackets(b.shape)}`, { file: wfile });
    }
  } else {
    resetAfter = cfgResetAfter?.value ?? linearBeforeReset ?? true;
  }
  // --linear-before-reset on a Keras case is its reset_after: it must agree, never be ignored.
  if (linearBeforeReset !== undefined && linearBeforeReset !== resetAfter) {
    const why = hasBias ? ` (bias ${shapeInBrackets(wb.arrays.get(`${group.directions[0]}bias`)!.shape)})` : ` (${cfgResetAfter?.from ?? 'config'})`;
    throw new GruCheckError('USAGE', `--linear-before-reset ${linearBeforeReset ? 1 : 0} contradicts this Keras layer's reset_after=${resetAfter ? 'True' : 'False'}${why}`, { file: wfile });
  }
  return resetAfter;
}

/** The layer settings that must agree with the weights, and those gru-check cannot compute. */
function checkKerasSettings(site: KerasSite, H: number, hasBias: boolean): void {
  const { file, wb, group, info, layer, config, warnings } = site;
  const wfile = wb.source;
  const useBias = setting('use_bias', config, layer, asBool, 'true or false', warnings);
  if (useBias !== undefined && useBias.value !== hasBias) {
    throw new GruCheckError('SHAPE_MISMATCH', `${useBias.from}: use_bias ${useBias.value} but ${hasBias ? 'a' : 'no'} ${group.directions[0]}bias array is present`, { file: useBias.from === 'config' ? file : wfile });
  }
  const units = setting('units', config, layer, asPositiveInt, 'a positive integer', warnings);
  if (units !== undefined && units.value !== H) {
    throw new GruCheckError('SHAPE_MISMATCH', `${units.from}: units ${units.value} disagrees with ${group.directions[0]}recurrent_kernel [${H}, ${3 * H}] (units ${H})`, { file: wfile });
  }
  if (setting('go_backwards', config, layer, asBool, 'true or false', warnings)?.value === true) {
    throw new GruCheckError('BAD_CONFIG', 'config: go_backwards=True cannot be computed in the Keras layout', { file, hint: 'export the layer to ONNX (direction="reverse") or dump it without go_backwards' });
  }
  if (config.take('time_major', asBool, 'true or false') === true) {
    throw new GruCheckError('BAD_CONFIG', 'config: time_major=True: the Keras layout here is batch-major [batch, timesteps, features]', { file });
  }
  if (config.take('batch_first', asBool, 'true or false') === false) {
    throw new GruCheckError('BAD_CONFIG', 'config: batch_first=false: a Keras layer\'s input is always [batch, timesteps, features]', { file });
  }
  if (group.directions.length === 2 && info?.mergeMode !== undefined && info.mergeMode !== 'concat') {
    throw new GruCheckError('BAD_CONFIG', `${layer.where}: merge_mode ${JSON.stringify(info.mergeMode)}: gru-check checks a Bidirectional's output as both directions concatenated (merge_mode "concat")`, { file: wfile });
  }
}

/** The gate math from the activations; a Bidirectional's backward layer may have its own. */
function kerasMaths(site: KerasSite, resetAfter: boolean): { math: GateMath; directionMath: GateMath[] | undefined } {
  const { file, wb, info, layer, config, warnings } = site;
  const kerasVersion = wb.keras?.kerasVersion;
  const g = activation('activation', config, layer, kerasVersion, file, warnings);
  const f = activation('recurrent_activation', config, layer, kerasVersion, file, warnings);
  const math = withMath(PYTORCH_MATH, { linearBeforeReset: resetAfter, ...(f ? { f } : {}), ...(g ? { g } : {}) });
  let directionMath: GateMath[] | undefined;
  if (site.group.directions.length === 2 && info?.backwardConfig) {
    // Bidirectional(layer, backward_layer=...) may give the backward GRU other activations.
    const back = new LayerConfig(info.backwardConfig, `${layer.where} backward_layer`, wb.source);
    const none = new CaseConfig({}, file);
    const bg = config.has('activation') ? g : activation('activation', none, back, kerasVersion, file, warnings);
    const bf = config.has('recurrent_activation') ? f : activation('recurrent_activation', none, back, kerasVersion, file, warnings);
    const bm = withMath(PYTORCH_MATH, { linearBeforeReset: resetAfter, ...(bf ? { f: bf } : {}), ...(bg ? { g: bg } : {}) });
    if (JSON.stringify(bm) !== JSON.stringify(math)) directionMath = [math, bm];
  }
  return { math, directionMath };
}

/** The case's input [batch, timesteps, input_dim], h0, output and h_n, checked against the weights. */
function kerasData(bundle: ArrayBundle, group: KerasGroup, H: number, I: number): { input: Tensor; B: number; T: number; h0: Tensor | undefined; out: Tensor | undefined; hn: Tensor | undefined } {
  const file = bundle.source;
  const D = group.directions.length;
  const arrays = bundle.arrays;
  const ia = arrays.get('input');
  if (!ia) {
    const weightsOnly = bundle.format === 'keras' || bundle.format === 'keras-h5';
    throw new GruCheckError('MISSING_ARRAY', weightsOnly ? 'a Keras weight file holds weights, not a case (no array input)' : 'missing array input', {
      file,
      hint: weightsOnly ? 'pass it as --weights FILE next to a case holding input [batch, timesteps, input_dim] and Keras\'s output / h_n' : 'Keras layout: input [batch, timesteps, input_dim]',
    });
  }
  const input = floatTensor(ia, file);
  if (input.shape.length !== 3 || input.shape[2] !== I) {
    throw new GruCheckError('SHAPE_MISMATCH', `input: expected shape [batch, timesteps, ${I}] (input_dim from ${group.directions[0]}kernel), got ${shapeInBrackets(input.shape)}`, { file });
  }
  const [B, T] = input.shape as [number, number, number];
  expectNonEmpty('input', input.shape, T, B, 'batch, timesteps, input_dim', file);
  const h0a = arrays.get('h0');
  const h0 = h0a ? floatTensor(h0a, file) : undefined;
  // A Bidirectional's initial state is [forward_h, backward_h]: stored side by side, [batch, 2*units].
  if (h0) expectShape(h0, 'h0', [B, D * H], D === 2 ? 'batch, 2*units: forward then backward initial state' : 'batch, units', file);
  const out = arrays.get('output') ? floatTensor(arrays.get('output')!, file) : undefined;
  const hn = arrays.get('h_n') ? floatTensor(arrays.get('h_n')!, file) : undefined;
  // A Bidirectional's final states as its initial ones: [forward_h, backward_h] side by side.
  if (hn) expectShape(hn, 'h_n', [B, D * H], D === 2 ? 'batch, 2*units: forward then backward final state' : 'batch, units', file);
  return { input, B, T, h0, out, hn };
}
