/**
 * The known porting mistakes, each re-enacted on the reference GRU. A variant maps a validated
 * case to the output and h_n the mistaken port would produce, in the dump's own axis order. Names
 * are stable (they are in the JSON); each carries a one-line fix in plain language.
 *
 * Cell-level mistakes are GruMath switches (see gru/cell.ts); weight-level ones transform the
 * parameters; the structural ones (how directions are combined, which state becomes h_n) re-run
 * the layers here with gru/layer.ts, since the reference stack does them right by construction.
 */
import type { FloatArray, GruCase, GruDirectionParams, GruMath, GruParams, Precision } from '../model/types.js';
import { gruLayer } from '../gru/layer.js';
import { toUserLayout, type UserTensor } from '../check.js';
import { reorderRows, transpose } from '../model/gates.js';
import { swapFirstAxes } from '../model/arrays.js';

export interface VariantOutput {
  output: UserTensor;
  h_n: UserTensor;
}

export interface Variant {
  name: string;
  fix: string;
  /** Whether the mistake can exist (or show) in this case. */
  applies: (c: GruCase) => boolean;
  run: (c: GruCase, precision: Precision) => VariantOutput;
}

interface RunKnobs {
  params?: GruParams;
  math?: GruMath;
  h0?: FloatArray;
  /** Backward outputs stored in processing order (not flipped back to input time). */
  notReReversed?: boolean;
  /** Output halves [backward | forward], also as read by the next layer. */
  directionsSwapped?: boolean;
  /** Reverse h_n = the state after the first reverse step (t = len-1) instead of the last. */
  reverseHnFromFirstStep?: boolean;
  /** Input read as (B, T) when it is (T, B): run on the swapped axes and write back swapped. */
  batchTimeSwapped?: boolean;
}

/** The stack of gru/stack.ts with the structural mistakes as switches. Axis order (T, B, F). */
function runMistaken(c: GruCase, precision: Precision, k: RunKnobs): VariantOutput {
  const params = k.params ?? c.params;
  const math = k.math ?? c.math;
  let T = c.seqLen;
  let B = c.batchSize;
  let x: FloatArray = c.input;
  let lengths = c.lengths;
  if (k.batchTimeSwapped) {
    x = swapFirstAxes(c.input, T, B, params.inputSize);
    [T, B] = [B, T];
    lengths = undefined;
  }
  const H = params.hiddenSize;
  const D = params.bidirectional ? 2 : 1;
  const h0 = Float64Array.from(k.h0 ?? c.h0);
  const slice = D * B * H;
  const hN = new Float64Array(params.numLayers * slice);
  let output = new Float64Array(0) as Float64Array;
  for (let layer = 0; layer < params.numLayers; layer++) {
    const outs: Float64Array[] = [];
    for (let d = 0; d < D; d++) {
      const reverse = d === 1 || params.reverseOnly === true;
      const h0d = h0.subarray(layer * slice + d * B * H, layer * slice + (d + 1) * B * H);
      const r = gruLayer(x, T, B, params.layers[layer]![d]!, H, h0d, reverse, lengths, precision, math);
      let out = r.output;
      if (reverse && k.reverseHnFromFirstStep) {
        for (let b = 0; b < B; b++) {
          const first = (lengths ? lengths[b]! : T) - 1;
          r.hN.set(out.subarray((first * B + b) * H, (first * B + b + 1) * H), b * H);
        }
      }
      if (reverse && k.notReReversed) out = processingOrder(out, T, B, H, lengths);
      hN.set(r.hN, layer * slice + d * B * H);
      outs.push(out);
    }
    if (k.directionsSwapped) outs.reverse();
    output = concatFeatures(outs, T * B, H);
    x = output;
  }
  if (k.batchTimeSwapped) {
    output = swapFirstAxes(output, T, B, D * H) as Float64Array;
    [T, B] = [B, T];
  }
  return toUserLayout(c, { output, hN });
}


/** Row s holds the state computed at reverse step s (input time len-1-s). */
function processingOrder(out: Float64Array, T: number, B: number, H: number, lengths: Int32Array | undefined): Float64Array {
  const res = new Float64Array(out.length);
  for (let b = 0; b < B; b++) {
    const len = lengths ? lengths[b]! : T;
    for (let s = 0; s < len; s++) res.set(out.subarray(((len - 1 - s) * B + b) * H, ((len - 1 - s) * B + b + 1) * H), (s * B + b) * H);
  }
  return res;
}

function concatFeatures(outs: Float64Array[], rows: number, H: number): Float64Array {
  if (outs.length === 1) return outs[0]!;
  const D = outs.length;
  const res = new Float64Array(rows * D * H);
  for (let r = 0; r < rows; r++) for (let d = 0; d < D; d++) res.set(outs[d]!.subarray(r * H, (r + 1) * H), (r * D + d) * H);
  return res;
}

function mapParams(p: GruParams, f: (d: GruDirectionParams, layer: number) => GruDirectionParams): GruParams {
  return { ...p, layers: p.layers.map((dirs, k) => dirs.map((d) => f(d, k))) };
}

/** Each (H, cols) gate block of a (3H, cols) matrix transposed in place of itself; needs cols == H. */
function transposeBlocks(w: FloatArray, H: number): FloatArray {
  const out = w.slice();
  for (let g = 0; g < 3; g++) out.set(transpose(w.subarray(g * H * H, (g + 1) * H * H), H, H), g * H * H);
  return out;
}

function gateOrderVariant(perm: string): Variant {
  const [a, b, c] = perm.split('');
  return {
    name: `gate-order:${perm}`,
    fix: `reorder gate blocks r|z|n -> ${a}|${b}|${c}: the port reads block 0 as ${a}, 1 as ${b}, 2 as ${c}, but PyTorch stacks r|z|n`,
    applies: () => true,
    run: (c, precision) => {
      const H = c.params.hiddenSize;
      // The port takes block i as gate perm[i]: its gate g is our block perm.indexOf(g).
      const reorder = (m: FloatArray | undefined, cols: number) => (m ? reorderRows(m, H, cols, perm) : undefined);
      const params = mapParams(c.params, (d) => {
        const q: GruDirectionParams = { ...d, weightIh: reorder(d.weightIh, d.inputSize)!, weightHh: reorder(d.weightHh, H)! };
        if (d.biasIh) q.biasIh = reorder(d.biasIh, 1)!;
        if (d.biasHh) q.biasHh = reorder(d.biasHh, 1)!;
        return q;
      });
      return runMistaken(c, precision, { params });
    },
  };
}

const isBidir = (c: GruCase): boolean => c.params.bidirectional || c.params.reverseOnly === true;
const hasNonZero = (a: FloatArray): boolean => a.some((v) => v !== 0);

export const VARIANTS: Variant[] = [
  ...['rnz', 'zrn', 'znr', 'nrz', 'nzr'].map(gateOrderVariant),
  {
    name: 'reset-before-matmul',
    fix: 'apply the reset gate after the recurrent matmul: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) (ONNX: set linear_before_reset=1; Keras: reset_after=True)',
    applies: (c) => c.math.linearBeforeReset,
    run: (c, p) => runMistaken(c, p, { math: { ...c.math, linearBeforeReset: false } }),
  },
  {
    name: 'b_hn-outside-reset',
    fix: 'put b_hn inside the reset product: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))',
    applies: (c) => c.params.bias && c.math.linearBeforeReset,
    run: (c, p) => runMistaken(c, p, { math: { ...c.math, bHnOutsideReset: true } }),
  },
  {
    name: 'h0-ignored',
    fix: 'pass the initial hidden state h0 to the GRU instead of starting from zeros',
    applies: (c) => c.h0Given && hasNonZero(c.h0),
    run: (c, p) => runMistaken(c, p, { h0: new Float64Array(c.h0.length) }),
  },
  {
    name: 'w_hh-transposed',
    fix: 'transpose the recurrent weights back: use W_hh as (3H, H) with h on the right (W_hh @ h), not h @ W_hh',
    applies: () => true,
    run: (c, p) => runMistaken(c, p, { params: mapParams(c.params, (d) => ({ ...d, weightHh: transposeBlocks(d.weightHh, c.params.hiddenSize) })) }),
  },
  {
    name: 'w_ih-transposed',
    fix: 'transpose the input weights back: use W_ih as (3H, I) with x on the right (W_ih @ x), not x @ W_ih',
    applies: (c) => c.params.layers.some((dirs) => dirs[0]!.inputSize === c.params.hiddenSize),
    run: (c, p) => runMistaken(c, p, {
      params: mapParams(c.params, (d) => (d.inputSize === c.params.hiddenSize ? { ...d, weightIh: transposeBlocks(d.weightIh, c.params.hiddenSize) } : d)),
    }),
  },
  {
    name: 'update-gate-inverted',
    fix: "swap the update gate's roles: h' = (1 - z) * n + z * h",
    applies: () => true,
    run: (c, p) => runMistaken(c, p, { math: { ...c.math, updateInverted: true } }),
  },
  {
    name: 'hard-sigmoid',
    fix: 'use the logistic sigmoid for r and z, not hard_sigmoid (Keras: recurrent_activation="sigmoid")',
    applies: () => true,
    run: (c, p) => runMistaken(c, p, { math: { ...c.math, hardSigmoid: true } }),
  },
  {
    name: 'reverse-not-rereversed',
    fix: 'flip the backward direction\'s outputs back to input time order before concatenating',
    applies: isBidir,
    run: (c, p) => runMistaken(c, p, { notReReversed: true }),
  },
  {
    name: 'directions-swapped',
    fix: 'concatenate directions forward first: output[..., :H] is the forward pass, output[..., H:] the backward one',
    applies: (c) => c.params.bidirectional,
    run: (c, p) => runMistaken(c, p, { directionsSwapped: true }),
  },
  {
    name: 'reverse-h_n-from-last-step',
    fix: 'take the backward direction\'s h_n after it reaches t = 0 (its last step), not after its first step at t = T-1',
    applies: isBidir,
    run: (c, p) => runMistaken(c, p, { reverseHnFromFirstStep: true }),
  },
  {
    name: 'batch-time-swapped',
    fix: 'swap the batch and time axes of input and output (a batch_first mismatch: check the layout the port assumes)',
    applies: (c) => c.config.batched && c.seqLen === c.batchSize,
    run: (c, p) => runMistaken(c, p, { batchTimeSwapped: true }),
  },
];
