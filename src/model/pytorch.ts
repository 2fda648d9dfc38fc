/**
 * PyTorch state_dict names -> one validated GruParams. Owns: finding the GRU's weights among other
 * arrays (module prefixes such as `encoder.rnn.`), choosing one GRU when a file holds several, and
 * every weight shape check. Names follow nn.GRU: weight_ih_l{k}[_reverse] (3H, I_k),
 * weight_hh_l{k}[_reverse] (3H, H), bias_ih_l{k}[_reverse] and bias_hh_l{k}[_reverse] (3H),
 * gate blocks r|z|n along the rows.
 */
import { GruCheckError } from '../errors.js';
import type { NdArray } from '../io/types.js';
import { expectShape, floatTensor, toStorage } from './arrays.js';
import type { FloatDType, GruDirectionParams, GruParams } from './types.js';

const WEIGHT_KEY = /^(.*?)(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(_reverse)?$/s;

/** Module prefixes that own GRU weights, e.g. ['', 'encoder.rnn.']. */
export function findGruPrefixes(names: Iterable<string>): string[] {
  const prefixes = new Set<string>();
  for (const name of names) {
    const m = WEIGHT_KEY.exec(name);
    if (m && m[2] === 'weight_ih') prefixes.add(m[1]!);
  }
  return [...prefixes].sort();
}

const showPrefix = (p: string): string => (p === '' ? '(none)' : p.replace(/\.$/, ''));

/** input_size of the GRU under `prefix` (columns of weight_ih_l0), if readable. */
function inputSizeOf(arrays: Map<string, NdArray>, prefix: string): number | undefined {
  const w = arrays.get(`${prefix}weight_ih_l0`);
  return w && w.shape.length === 2 ? w.shape[1] : undefined;
}

/**
 * Picks the GRU: the requested prefix, or the only one present. With several and no request, the
 * hint names one whose input_size fits the case's input (`inputSize`) when one does.
 */
export function choosePrefix(names: Iterable<string>, requested: string | undefined, file: string, arrays?: Map<string, NdArray>, inputSize?: number): string {
  const prefixes = findGruPrefixes(names);
  if (prefixes.length === 0) {
    throw new GruCheckError('MISSING_ARRAY', 'no GRU weights found: expected weight_ih_l0 (optionally with a module prefix)', {
      file,
      hint: 'dump the module\'s state_dict() next to input and output',
    });
  }
  if (requested !== undefined) {
    const want = requested === '' || requested.endsWith('.') ? requested : `${requested}.`;
    if (!prefixes.includes(want)) {
      throw new GruCheckError('MISSING_ARRAY', `no GRU weights under prefix '${requested}': found ${prefixes.map(showPrefix).join(', ')}`, {
        file,
        hint: 'pass one of these to --prefix',
      });
    }
    return want;
  }
  if (prefixes.length > 1) {
    const fits = arrays && inputSize !== undefined ? prefixes.filter((p) => inputSizeOf(arrays, p) === inputSize) : [];
    const hint = fits.length === 1
      ? `pick one with --prefix: --prefix ${showPrefix(fits[0]!)} is the one whose input_size ${inputSize} fits the input`
      : `pick one with --prefix, e.g. --prefix ${showPrefix((fits[0] ?? prefixes[0])!)}`;
    throw new GruCheckError('AMBIGUOUS_PREFIX', `several GRUs in one file: ${prefixes.map(showPrefix).join(', ')}`, { file, hint });
  }
  return prefixes[0]!;
}

/**
 * Builds GruParams from the arrays under `prefix`. Layers must be 0..L-1 without gaps; either every
 * layer has a _reverse direction or none; either every direction has both biases or none.
 */
export function pytorchParams(arrays: Map<string, NdArray>, prefix: string, file: string): GruParams {
  const layerIds = new Set<number>();
  let anyReverse = false;
  let anyBias = false;
  for (const name of arrays.keys()) {
    if (!name.startsWith(prefix)) continue;
    const m = WEIGHT_KEY.exec(name.slice(prefix.length));
    if (!m || m[1] !== '') continue;
    layerIds.add(Number(m[3]));
    if (m[4]) anyReverse = true;
    if (m[2]!.startsWith('bias')) anyBias = true;
  }
  const numLayers = Math.max(...layerIds) + 1;
  const D = anyReverse ? 2 : 1;
  const get = (base: string, k: number, d: number): NdArray | undefined =>
    arrays.get(`${prefix}${base}_l${k}${d === 1 ? '_reverse' : ''}`);
  const need = (base: string, k: number, d: number, why: string): NdArray => {
    const a = get(base, k, d);
    if (!a) {
      throw new GruCheckError('MISSING_ARRAY', `missing ${prefix}${base}_l${k}${d === 1 ? '_reverse' : ''} (${why})`, { file });
    }
    return a;
  };

  const whh0 = floatTensor(need('weight_hh', 0, 0, 'recurrent weights of layer 0'), file);
  if (whh0.shape.length !== 2 || whh0.shape[0] !== 3 * whh0.shape[1]! || whh0.shape[1] === 0) {
    // Another recurrent layer's state_dict has the same names with another number of gate blocks.
    const blocks = whh0.shape.length === 2 && whh0.shape[1]! > 0 && whh0.shape[0]! % whh0.shape[1]! === 0 ? whh0.shape[0]! / whh0.shape[1]! : 0;
    const other = blocks === 4 ? 'an LSTM' : blocks === 1 ? 'a plain RNN' : undefined;
    throw new GruCheckError('SHAPE_MISMATCH', `${prefix}weight_hh_l0: expected shape [3*hidden_size, hidden_size], got [${whh0.shape.join(', ')}]${other ? `: looks like ${other} state_dict (${blocks} gate block${blocks === 1 ? '' : 's'} of ${whh0.shape[1]} rows)` : ''}`, {
      file,
      ...(other ? { hint: "gru-check checks nn.GRU: 3 gate blocks r|z|n" } : {}),
    });
  }
  const H = whh0.shape[1]!;
  const wih0 = floatTensor(need('weight_ih', 0, 0, 'input weights of layer 0'), file);
  if (wih0.shape.length !== 2 || wih0.shape[0] !== 3 * H || wih0.shape[1] === 0) {
    throw new GruCheckError('SHAPE_MISMATCH', `${prefix}weight_ih_l0: expected shape [${3 * H}, input_size] (3*hidden_size from weight_hh_l0, input_size), got [${wih0.shape.join(', ')}]`, { file });
  }
  const inputSize = wih0.shape[1]!;
  const dtype: FloatDType = wih0.dtype;

  const layers: GruDirectionParams[][] = [];
  for (let k = 0; k < numLayers; k++) {
    const dirs: GruDirectionParams[] = [];
    const Ik = k === 0 ? inputSize : D * H;
    for (let d = 0; d < D; d++) {
      const why = d === 1 ? `layer ${k} is missing its reverse direction while others have one` : `layer ${k} of ${numLayers}`;
      const wih = floatTensor(need('weight_ih', k, d, why), file);
      const whh = floatTensor(need('weight_hh', k, d, why), file);
      const n = (base: string): string => `${prefix}${base}_l${k}${d === 1 ? '_reverse' : ''}`;
      expectShape(wih, n('weight_ih'), [3 * H, Ik], k === 0 ? '3*hidden_size, input_size' : `3*hidden_size, ${D}*hidden_size`, file);
      expectShape(whh, n('weight_hh'), [3 * H, H], '3*hidden_size, hidden_size', file);
      const p: GruDirectionParams = {
        weightIh: toStorage(wih.data, dtype),
        weightHh: toStorage(whh.data, dtype),
        inputSize: Ik,
      };
      if (anyBias) {
        const bih = floatTensor(need('bias_ih', k, d, 'other directions have biases'), file);
        const bhh = floatTensor(need('bias_hh', k, d, 'other directions have biases'), file);
        expectShape(bih, n('bias_ih'), [3 * H], '3*hidden_size', file);
        expectShape(bhh, n('bias_hh'), [3 * H], '3*hidden_size', file);
        p.biasIh = toStorage(bih.data, dtype);
        p.biasHh = toStorage(bhh.data, dtype);
      }
      dirs.push(p);
    }
    layers.push(dirs);
  }
  return { inputSize, hiddenSize: H, numLayers, bidirectional: D === 2, bias: anyBias, dtype, layers };
}
