/**
 * The validated description of one GRU and one run of it, as the rest of the program sees it.
 * Everything here has been shape-checked by model/ (the boundary); gru/ and compare/ assume it is
 * consistent and carry no checks of their own.
 *
 * Axis order inside the program: sequences are seq-first, (T, B, features), C order. The case
 * remembers the user's layout (batchFirst, batched) so expected tensors and reported indices stay
 * in the tensor's own axis order.
 */

import type { CaseWarning, FloatDType, GateMath, GruConfig, LayoutSource, Precision } from '../result.js';

// The case's description as reported lives in the result contract; model code names them from here too.
export type { CellCalls, FloatDType, GruConfig, Layout, LayoutSource, Precision } from '../result.js';

export type FloatArray = Float32Array | Float64Array;

/** What a run may round its state to after each step: a Precision, or float16 (diagnose's emulated float16 ports, reference runner only). */
export type StatePrecision = Precision | 'f16';

/** One direction of one layer, PyTorch's names; gate blocks stacked r|z|n along rows. */
export interface GruDirectionParams {
  /** (3H, I_k) row-major: I_0 = input_size, I_k = D*H for k > 0. */
  weightIh: FloatArray;
  /** (3H, H) row-major. */
  weightHh: FloatArray;
  /** (3H), absent when bias=False. */
  biasIh?: FloatArray;
  biasHh?: FloatArray;
  /** Columns of weightIh. */
  inputSize: number;
}

export interface GruParams {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  bias: boolean;
  /** dtype of the weights as stored. */
  dtype: FloatDType;
  /** layers[k][d]: d = 0 forward, 1 reverse. */
  layers: GruDirectionParams[][];
  /** A single direction that runs backwards in time (ONNX direction="reverse"). */
  reverseOnly?: boolean;
}

/** A tensor in the user's own axis order. */
export interface Tensor {
  shape: number[];
  dtype: FloatDType;
  data: FloatArray;
}

/** Everything needed to run the reference and check it, validated. */
export interface GruCase {
  source: string;
  config: GruConfig;
  layoutSource: LayoutSource;
  params: GruParams;
  seqLen: number;
  batchSize: number;
  /** (T, B, I) seq-first, whatever the user's layout. */
  input: FloatArray;
  /** (L*D, B, H); zeros when the dump had no h0. */
  h0: FloatArray;
  h0Given: boolean;
  /** (B) valid steps per sequence, each in 1..T; absent = all T. */
  lengths?: Int32Array;
  /** Expected tensors as dumped, in their own axis order; either may be absent, not both. */
  expected: { output?: Tensor; h_n?: Tensor };
  /** Module prefix the weights were found under ('' for none). */
  prefix: string;
  /** The gate math of every direction (PyTorch's for a state_dict). */
  math: GateMath;
  /** When directions differ (ONNX activations for a bidirectional node): one per direction. */
  directionMath?: readonly GateMath[];
  /** What gru-check read but did not use or had to assume (unknown config keys, ...). */
  warnings: CaseWarning[];
  /** How something unusual but valid was read (an output trimmed to max(lengths), ...). */
  notes?: string[];
  /** Where the weights came from when not a state_dict (e.g. "ONNX nodes /GRU, /GRU_1"). */
  weightsFrom?: string;
}
