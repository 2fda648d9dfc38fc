/**
 * One direction of one layer: the cell scanned over time (ATen's "layer").
 *
 * Axis order: x is (T, B, I) seq-first, C order; output is (T, B, H); h0 and hN are (B, H).
 * The input projection gi = W_ih x + b_ih is computed for every step before the time loop, since
 * it does not depend on the recurrence.
 *
 * lengths (pack_padded_sequence semantics): sequence b only has steps t < lengths[b]. The forward
 * direction runs t = 0 .. len-1; the reverse direction starts at its last valid step, len-1, and
 * runs down to 0. Steps past the end are not computed and their output stays 0; hN holds each
 * sequence's last computed state.
 */
import type { FloatArray, GruDirectionParams, Precision } from '../model/types.js';
import { cellScratch, gruCell, roundFor, type GruMath } from './cell.js';

export interface LayerResult {
  output: Float64Array;
  hN: Float64Array;
}

/** gi[t, b, :] = W_ih x[t, b, :] + b_ih for all T*B rows: (T*B, 3H). */
export function inputProjection(
  x: FloatArray,
  rows: number,
  inputSize: number,
  p: GruDirectionParams,
  hiddenSize: number,
): Float64Array {
  const G = 3 * hiddenSize;
  const I = inputSize;
  const gi = new Float64Array(rows * G);
  const w = p.weightIh;
  const b = p.biasIh;
  for (let r = 0; r < rows; r++) {
    const xo = r * I;
    const go = r * G;
    for (let g = 0; g < G; g++) {
      let acc = b ? b[g]! : 0;
      const wo = g * I;
      for (let i = 0; i < I; i++) acc += w[wo + i]! * x[xo + i]!;
      gi[go + g] = acc;
    }
  }
  return gi;
}

export function gruLayer(
  x: FloatArray,
  seqLen: number,
  batchSize: number,
  p: GruDirectionParams,
  hiddenSize: number,
  h0: Float64Array,
  reverse: boolean,
  lengths: Int32Array | undefined,
  precision: Precision,
  math: GruMath,
): LayerResult {
  const T = seqLen;
  const B = batchSize;
  const H = hiddenSize;
  const G = 3 * H;
  const gi = inputProjection(x, T * B, p.inputSize, p, H);
  const output = new Float64Array(T * B * H);
  const round = roundFor(precision);
  const scratch = cellScratch(H);
  // Each step writes the new state straight into its output row, which is then where the next
  // step reads that sequence's state from: no copy per step. Before its first step a sequence
  // reads from hN, which starts as h0.
  const hN = Float64Array.from(h0, round);
  const src: Float64Array[] = new Array<Float64Array>(B).fill(hN);
  const srcOffset = new Int32Array(B);
  for (let b = 0; b < B; b++) srcOffset[b] = b * H;

  for (let step = 0; step < T; step++) {
    const t = reverse ? T - 1 - step : step;
    for (let b = 0; b < B; b++) {
      if (lengths && t >= lengths[b]!) continue;
      const outOffset = (t * B + b) * H;
      gruCell(gi, (t * B + b) * G, src[b]!, srcOffset[b]!, output, outOffset, p.weightHh, p.biasHh, H, math, round, scratch);
      src[b] = output;
      srcOffset[b] = outOffset;
    }
  }
  for (let b = 0; b < B; b++) {
    if (src[b] !== hN) hN.set(output.subarray(srcOffset[b]!, srcOffset[b]! + H), b * H);
  }
  return { output, hN };
}
