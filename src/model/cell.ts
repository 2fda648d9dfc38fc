/**
 * nn.GRUCell cases -> one validated GruCase. Names are PyTorch's own for the cell: `weight_ih`
 * (3H, I), `weight_hh` (3H, H), `bias_ih` and `bias_hh` (3H, absent when bias=False), under an
 * optional module prefix (`decoder.cell.`), gate blocks r|z|n along the rows.
 *
 *   one call   input (B, I) or (I,); hx (B, H) or (H,), zeros when absent (nn.GRUCell's hx=None);
 *              expected `h`, hx's shape.
 *   a trace    config {"trace": true}: T recorded calls of the cell, each from its own recorded hx
 *              (a decoder may change h between calls): input (T, B, I) or (T, I), hx and h
 *              (T, B, H) or (T, H).
 *
 * Every call is one GRU step from its own state, so N = T·B calls (B for one call) are run as a
 * one-layer, one-step GRU over a batch of N: input (1, N, I), h0 (1, N, H). Its output (1, N, H)
 * holds h in the calls' own order — (T, B, H) for a trace — so the case's `output` is `h` with its
 * own shape and no copy; config.cell says which shape, and a trace's calls are its time axis.
 */
import { GruCheckError } from '../errors.js';
import type { ArrayBundle, NdArray } from '../io/types.js';
import { expectShape, floatTensor, shapeInBrackets, toStorage, zerosLike } from './arrays.js';
import type { CaseOptions } from './case-options.js';
import { asBool, type CaseConfig, type CaseWarning } from './config.js';
import type { CellCalls, GruCase, GruDirectionParams, GruParams, Tensor } from './types.js';
import { PYTORCH_MATH } from './math.js';

const CELL_KEY = /^(.*?)(weight_ih|weight_hh|bias_ih|bias_hh)$/s;
const STACK_KEY = /(^|\.)(weight_ih|weight_hh|bias_ih|bias_hh)_l\d+(_reverse)?$/s;

/** Module prefixes owning a GRUCell's weight_ih, e.g. ['', 'decoder.cell.']. */
function cellPrefixes(names: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const n of names) {
    const m = CELL_KEY.exec(n);
    if (m && m[2] === 'weight_ih' && (m[1] === '' || m[1]!.endsWith('.'))) out.add(m[1]!);
  }
  return [...out].sort();
}

/** A GRUCell's state_dict, and no nn.GRU's (whose names end in _l0). */
export function looksCell(names: string[]): boolean {
  return cellPrefixes(names).length > 0 && !names.some((n) => STACK_KEY.test(n));
}

/** The shape of h (and hx) for these calls. */
export function cellShape(cell: CellCalls, H: number): number[] {
  return [...(cell.trace ? [cell.calls] : []), ...(cell.batched ? [cell.batch] : []), H];
}

const show = (p: string): string => (p === '' ? '(none)' : p.replace(/\.$/, ''));

function choose(names: string[], requested: string | undefined, file: string): string {
  const prefixes = cellPrefixes(names);
  if (requested !== undefined) {
    const want = requested === '' || requested.endsWith('.') ? requested : `${requested}.`;
    if (!prefixes.includes(want)) throw new GruCheckError('MISSING_ARRAY', `no GRUCell weights under prefix '${requested}': found ${prefixes.map(show).join(', ')}`, { file, hint: 'pass one of these to --prefix' });
    return want;
  }
  if (prefixes.length > 1) throw new GruCheckError('AMBIGUOUS_PREFIX', `several GRUCells in one file: ${prefixes.map(show).join(', ')}`, { file, hint: `pick one with --prefix, e.g. --prefix ${show(prefixes[0]!)}` });
  return prefixes[0]!;
}

function cellParams(arrays: Map<string, NdArray>, prefix: string, file: string): GruParams {
  const get = (n: string): NdArray | undefined => arrays.get(`${prefix}${n}`);
  const whhA = get('weight_hh');
  if (!whhA) throw new GruCheckError('MISSING_ARRAY', `missing ${prefix}weight_hh (the cell's recurrent weights)`, { file });
  const whh = floatTensor(whhA, file);
  if (whh.shape.length !== 2 || whh.shape[1] === 0 || whh.shape[0] !== 3 * whh.shape[1]!) {
    throw new GruCheckError('SHAPE_MISMATCH', `${prefix}weight_hh: expected shape [3*hidden_size, hidden_size], got ${shapeInBrackets(whh.shape)}`, { file, hint: 'gru-check checks nn.GRUCell: 3 gate blocks r|z|n' });
  }
  const H = whh.shape[1]!;
  const wih = floatTensor(get('weight_ih')!, file);
  if (wih.shape.length !== 2 || wih.shape[0] !== 3 * H || wih.shape[1] === 0) {
    throw new GruCheckError('SHAPE_MISMATCH', `${prefix}weight_ih: expected shape [${3 * H}, input_size] (3*hidden_size from weight_hh, input_size), got ${shapeInBrackets(wih.shape)}`, { file });
  }
  const I = wih.shape[1]!;
  const dtype = wih.dtype;
  const p: GruDirectionParams = { weightIh: toStorage(wih.data, dtype), weightHh: toStorage(whh.data, dtype), inputSize: I };
  const bih = get('bias_ih');
  const bhh = get('bias_hh');
  if (!!bih !== !!bhh) throw new GruCheckError('MISSING_ARRAY', `missing ${prefix}${bih ? 'bias_hh' : 'bias_ih'} (the cell has the other bias)`, { file });
  if (bih && bhh) {
    const bi = floatTensor(bih, file);
    const bh = floatTensor(bhh, file);
    expectShape(bi, `${prefix}bias_ih`, [3 * H], '3*hidden_size', file);
    expectShape(bh, `${prefix}bias_hh`, [3 * H], '3*hidden_size', file);
    p.biasIh = toStorage(bi.data, dtype);
    p.biasHh = toStorage(bh.data, dtype);
  }
  return { inputSize: I, hiddenSize: H, numLayers: 1, bidirectional: false, bias: !!bih, dtype, layers: [[p]] };
}

export function buildCellCase(bundle: ArrayBundle, options: CaseOptions, config: CaseConfig, _warnings: CaseWarning[]): GruCase {
  const file = bundle.source;
  // A cell's input is (batch, input_size), a trace's (calls, batch, input_size): no layout to choose.
  const NO_LAYOUT = "a GRUCell's calls have no time axis to put first or second (a trace's recorded calls always lead)";
  if (options.batchFirst !== undefined) throw new GruCheckError('USAGE', `${options.batchFirst ? '--batch-first' : '--seq-first'} does not apply to a GRUCell case: ${NO_LAYOUT}`, { file });
  if (config.take('batch_first', asBool, 'true or false') !== undefined) throw new GruCheckError('BAD_CONFIG', `config: batch_first does not apply to a GRUCell case: ${NO_LAYOUT}`, { file, hint: 'remove the key' });
  if (options.node !== undefined) throw new GruCheckError('USAGE', '--node picks a GRU of an .onnx model: a GRUCell case has its own weights', { file });
  const wb = options.weights ?? bundle;
  const prefix = choose([...wb.arrays.keys()], options.prefix, wb.source);
  const params = cellParams(wb.arrays, prefix, wb.source);
  const { inputSize: I, hiddenSize: H } = params;
  const trace = config.take('trace', asBool, 'true or false') ?? false;
  const arrays = bundle.arrays;
  const pick = (n: string): Tensor | undefined => {
    const a = arrays.get(n) ?? (prefix ? arrays.get(`${prefix}${n}`) : undefined);
    return a ? floatTensor(a, file) : undefined;
  };
  const input = pick('input');
  if (!input) throw new GruCheckError('MISSING_ARRAY', 'missing array input (the cell\'s input)', { file });
  const lead = trace ? 1 : 0;
  const what = trace ? 'calls, batch, input_size' : 'batch, input_size';
  if (input.shape.length !== lead + 1 && input.shape.length !== lead + 2) {
    throw new GruCheckError('SHAPE_MISMATCH', `input: expected [${what}] or unbatched [${trace ? 'calls, ' : ''}input_size], got ${shapeInBrackets(input.shape)}`, {
      file,
      ...(trace ? {} : input.shape.length === 3 ? { hint: 'a trace of recorded calls says so in config: {"trace": true}' } : {}),
    });
  }
  if (input.shape.at(-1) !== I) throw new GruCheckError('SHAPE_MISMATCH', `input: expected last dim ${I} (input_size, from ${prefix}weight_ih), got ${shapeInBrackets(input.shape)}`, { file });
  const batched = input.shape.length === lead + 2;
  const calls = trace ? input.shape[0]! : 1;
  const batch = batched ? input.shape[lead]! : 1;
  if (calls === 0 || batch === 0) throw new GruCheckError('SHAPE_MISMATCH', `input: ${shapeInBrackets(input.shape)} holds no call`, { file });
  const cell: CellCalls = { trace, calls, batch, batched };
  const shape = cellShape(cell, H);
  const hxName = arrays.has('hx') || arrays.has(`${prefix}hx`) ? 'hx' : undefined;
  const hx = hxName ? pick('hx') : undefined;
  if (hx) expectShape(hx, 'hx', shape, trace ? 'calls, batch, hidden_size: each call\'s hx' : 'batch, hidden_size', file);
  const h = pick('h');
  if (h) expectShape(h, 'h', shape, trace ? 'calls, batch, hidden_size: each call\'s output' : 'batch, hidden_size: the cell\'s output', file);
  if (pick('output') || pick('h_n')) {
    throw new GruCheckError('BAD_CONFIG', 'a GRUCell case names its output h (the cell returns one tensor), not output or h_n', { file, hint: 'save the cell\'s output as "h"' });
  }
  const N = calls * batch;
  const dtype = params.dtype;
  const c: GruCase = {
    source: file,
    config: { layout: 'pytorch', inputSize: I, hiddenSize: H, numLayers: 1, bidirectional: false, bias: params.bias, batchFirst: false, batched: true, dtype, cell },
    layoutSource: 'layout',
    params,
    seqLen: 1,
    batchSize: N,
    // (calls, batch, ·) row-major is (1, N, ·): the one-step run's layout, no copy.
    input: toStorage(input.data, dtype),
    h0: hx ? toStorage(hx.data, dtype) : zerosLike(dtype, N * H),
    h0Given: hx !== undefined,
    expected: {},
    prefix: prefix.replace(/\.$/, ''),
    math: PYTORCH_MATH,
    warnings: [],
  };
  if (h) c.expected.output = h;
  return c;
}
