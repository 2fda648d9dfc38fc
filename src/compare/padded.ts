/**
 * A candidate's output at padded steps (t >= lengths[b]): what it holds there, and the output with
 * those steps set to what PyTorch holds (zero), for `--padded-steps ignore`. PyTorch and ONNX write
 * zeros past each sequence's end; Keras masking carries the last valid output forward and Flax's
 * nn.RNN(seq_lengths=...) computes past the end (src/gru/padded.ts). A port following those
 * conventions is right on every valid step and on h_n, and differs only here.
 *
 * Works on output in the dump's own layout (model/layout.ts toUserLayout): pytorch/keras (T, B, F),
 * (B, T, F) batch-first or (T, F) unbatched; onnx Y (T, D, B, H) or (B, T, D, H) with layout 1.
 */
import type { PaddedHolds, PaddedSteps, PaddedStepsMode } from '../result.js';
import type { GruCase, Tensor } from '../model/types.js';
import { isClose, type CompareOptions } from './isclose.js';

/** --padded-steps: 'strict' compares padded steps with PyTorch's zeros, 'ignore' leaves them out. */
export const PADDED_STEPS_MODES = ['strict', 'ignore'] as const satisfies readonly PaddedStepsMode[];

/** The index of output element (t, b, feature f = d·H + j) in the dump's own layout. */
export function outputIndex(c: GruCase): (t: number, b: number, f: number) => number {
  const { seqLen: T, batchSize: B } = c;
  const { hiddenSize: H, bidirectional, batched, batchFirst, layout } = c.config;
  const D = bidirectional ? 2 : 1;
  const F = D * H;
  if (layout === 'onnx') {
    return batchFirst
      ? (t, b, f) => ((b * T + t) * D + Math.floor(f / H)) * H + (f % H)
      : (t, b, f) => ((t * D + Math.floor(f / H)) * B + b) * H + (f % H);
  }
  if (!batched) return (t, _b, f) => t * F + f;
  return batchFirst ? (t, b, f) => (b * T + t) * F + f : (t, b, f) => (t * B + b) * F + f;
}

/** Whether the case has padded steps: lengths with some sequence shorter than T. */
export function hasPaddedSteps(c: GruCase): boolean {
  return !!c.lengths && c.lengths.some((len) => len < c.seqLen);
}

/** How many output elements lie past each sequence's end. */
export function paddedElements(c: GruCase): number {
  if (!c.lengths) return 0;
  const F = c.config.hiddenSize * (c.config.bidirectional ? 2 : 1);
  return Array.from(c.lengths).reduce((n, len) => n + Math.max(0, c.seqLen - len) * F, 0);
}

/** Calls f(index, t, b, feature) for every padded output element. */
function eachPadded(c: GruCase, f: (i: number, t: number, b: number, feature: number) => boolean | void): boolean {
  const at = outputIndex(c);
  const F = c.config.hiddenSize * (c.config.bidirectional ? 2 : 1);
  for (let b = 0; b < c.batchSize; b++) {
    for (let t = c.lengths![b]!; t < c.seqLen; t++) {
      for (let k = 0; k < F; k++) if (f(at(t, b, k), t, b, k) === false) return false;
    }
  }
  return true;
}

/** A copy of `data` (output in the dump's layout) with every padded element zero, as PyTorch's. */
export function zeroPadded(c: GruCase, data: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(data);
  if (c.lengths) eachPadded(c, (i) => void (out[i] = 0));
  return out;
}

/** Every padded element of `data` is close to the same element of `filled`. */
export function paddedClose(c: GruCase, data: ArrayLike<number>, filled: ArrayLike<number>, o: CompareOptions): boolean {
  return eachPadded(c, (i) => isClose(data[i]!, filled[i]!, o));
}

/**
 * zeros, or carried (Keras masking: the forward direction's output at len-1 repeated; a reverse
 * direction's initial output, zero on TensorFlow, its initial state on JAX), or other. 'computed'
 * needs a GRU run: see check.ts.
 */
export function paddedHolds(c: GruCase, data: ArrayLike<number>, o: CompareOptions): PaddedHolds {
  if (eachPadded(c, (i) => data[i] === 0)) return 'zeros';
  const at = outputIndex(c);
  const H = c.config.hiddenSize;
  const D = c.config.bidirectional ? 2 : 1;
  const reverse = (f: number): boolean => (D === 2 ? f >= H : c.params.reverseOnly === true);
  // The last layer's initial state of the direction owning feature f, for sequence b (h0 is (L·D, B, H)).
  const h0 = (b: number, f: number): number => c.h0[(((c.params.numLayers - 1) * D + Math.floor(f / H)) * c.batchSize + b) * H + (f % H)]!;
  const carried = (reverseH0: boolean): boolean => eachPadded(c, (i, _t, b, f) => {
    const len = c.lengths![b]!;
    const want = reverse(f) ? (reverseH0 ? h0(b, f) : 0) : len === 0 ? 0 : data[at(len - 1, b, f)]!;
    return isClose(data[i]!, want, o);
  });
  return carried(false) || carried(true) ? 'carried' : 'other';
}

/**
 * A candidate's output as its checks see it: `masked` is the output with its padded steps set to
 * PyTorch's zeros (when they hold anything else), `tested` what is compared ('ignore': the masked
 * one), and `padded` what the report says about them (onlyDifference is settled once every check
 * is made).
 */
export function paddedOutput(c: GruCase, got: Tensor, o: CompareOptions, mode: PaddedStepsMode): { tested: Tensor; masked: Tensor | undefined; padded: PaddedSteps | undefined } {
  const holds = paddedHolds(c, got.data, o);
  const masked = holds !== 'zeros' ? { ...got, data: zeroPadded(c, got.data) } : undefined;
  const padded = holds !== 'zeros' || mode === 'ignore' ? { mode, elements: paddedElements(c), holds, onlyDifference: false } : undefined;
  return { tested: mode === 'ignore' && masked ? masked : got, masked, padded };
}
