/**
 * The stack (ATen's "stack"): layer k reads layer k-1's output ([forward | backward] features);
 * each layer's final states are collected into h_n with index layer*D + direction, as nn.GRU does.
 *
 * Axis order: input (T, B, I) seq-first; output (T, B, D*H) from the last layer; hN (L*D, B, H).
 * Dropout between layers is absent: this is eval mode.
 */
import type { FloatArray, GruParams, Precision } from '../model/types.js';
import { PYTORCH_MATH, type GruMath } from './cell.js';
import { gruLayerBothWays } from './bidirectional.js';

export interface GruRunInput {
  params: GruParams;
  /** (T, B, I) */
  input: FloatArray;
  seqLen: number;
  batchSize: number;
  /** (L*D, B, H) */
  h0: FloatArray;
  lengths?: Int32Array | undefined;
}

export interface GruRunOptions {
  /** f32: the state is rounded to float32 after every step, like a float32 model; f64: never. */
  precision: Precision;
  math?: GruMath;
}

export interface GruRunResult {
  /** (T, B, D*H) seq-first */
  output: Float64Array;
  /** (L*D, B, H) */
  hN: Float64Array;
}

export function runGruStack(run: GruRunInput, options: GruRunOptions): GruRunResult {
  const { params, seqLen, batchSize, lengths } = run;
  const math = options.math ?? PYTORCH_MATH;
  const D = params.bidirectional ? 2 : 1;
  const H = params.hiddenSize;
  const slice = D * batchSize * H;
  const h0 = Float64Array.from(run.h0);
  const hN = new Float64Array(params.numLayers * slice);
  let x: FloatArray = run.input;
  let output: Float64Array = new Float64Array(0);
  for (let k = 0; k < params.numLayers; k++) {
    const layer = gruLayerBothWays(
      x, seqLen, batchSize, params.layers[k]!, H, h0.subarray(k * slice, (k + 1) * slice), lengths, options.precision, math, params.reverseOnly ?? false,
    );
    hN.set(layer.hN, k * slice);
    output = layer.output;
    x = output;
  }
  return { output, hN };
}
