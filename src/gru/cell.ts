/**
 * One GRU time step for one sequence — the cell, as in ATen's RNN.cpp. Owns the gate equations and
 * nothing else: the layer has already computed the input projection gi = W_ih x + b_ih.
 *
 * PyTorch nn.GRU (eval mode), gate blocks stacked r|z|n along the rows of every weight and bias:
 *   r  = σ(gi_r + W_hr h + b_hr)
 *   z  = σ(gi_z + W_hz h + b_hz)
 *   n  = tanh(gi_n + r ⊙ (W_hn h + b_hn))          linear_before_reset = 1 (PyTorch, Keras reset_after)
 *   n  = tanh(gi_n + W_hn (r ⊙ h) + b_hn)          linear_before_reset = 0 (ONNX default)
 *   h' = (1 − z) ⊙ n + z ⊙ h
 *
 * Sums accumulate in double whatever the storage type; `round` is applied to h' only (Math.fround
 * for float32 precision, identity for float64), which is where a float32 model's state is stored.
 */
import type { FloatArray } from '../model/types.js';

export interface GruMath {
  /** true: PyTorch's placement of the reset gate (after the recurrent matmul). */
  linearBeforeReset: boolean;
}

export const PYTORCH_MATH: GruMath = { linearBeforeReset: true };

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

const identity = (x: number): number => x;
export const roundFor = (precision: 'f32' | 'f64'): ((x: number) => number) =>
  precision === 'f32' ? Math.fround : identity;

/** Work buffers reused across steps so the time loop allocates nothing. */
export interface CellScratch {
  /** W_h· h + b_h· for all three gates, 3H. */
  gh: Float64Array;
  /** r ⊙ h, H (only for linearBeforeReset = false). */
  rh: Float64Array;
  r: Float64Array;
}

export function cellScratch(hiddenSize: number): CellScratch {
  return {
    gh: new Float64Array(3 * hiddenSize),
    rh: new Float64Array(hiddenSize),
    r: new Float64Array(hiddenSize),
  };
}

/**
 * h' from h for one sequence. gi holds W_ih x + b_ih (3H values from giOffset); h is read from
 * h[hOffset..hOffset+H) and h' is written to out[outOffset..outOffset+H) (may not alias h).
 */
export function gruCell(
  gi: Float64Array,
  giOffset: number,
  h: Float64Array,
  hOffset: number,
  out: Float64Array,
  outOffset: number,
  weightHh: FloatArray,
  biasHh: FloatArray | undefined,
  hiddenSize: number,
  math: GruMath,
  round: (x: number) => number,
  s: CellScratch,
): void {
  const H = hiddenSize;
  const { gh, rh, r } = s;
  // r and z gates: recurrent products for rows [0, 2H).
  for (let row = 0; row < 2 * H; row++) {
    let acc = biasHh ? biasHh[row]! : 0;
    const w = row * H;
    for (let j = 0; j < H; j++) acc += weightHh[w + j]! * h[hOffset + j]!;
    gh[row] = acc;
  }
  for (let j = 0; j < H; j++) r[j] = sigmoid(gi[giOffset + j]! + gh[j]!);

  if (math.linearBeforeReset) {
    for (let row = 2 * H; row < 3 * H; row++) {
      let acc = biasHh ? biasHh[row]! : 0;
      const w = row * H;
      for (let j = 0; j < H; j++) acc += weightHh[w + j]! * h[hOffset + j]!;
      gh[row] = acc;
    }
    for (let j = 0; j < H; j++) {
      const z = sigmoid(gi[giOffset + H + j]! + gh[H + j]!);
      const n = Math.tanh(gi[giOffset + 2 * H + j]! + r[j]! * gh[2 * H + j]!);
      out[outOffset + j] = round((1 - z) * n + z * h[hOffset + j]!);
    }
  } else {
    for (let j = 0; j < H; j++) rh[j] = r[j]! * h[hOffset + j]!;
    for (let row = 2 * H; row < 3 * H; row++) {
      let acc = biasHh ? biasHh[row]! : 0;
      const w = row * H;
      for (let j = 0; j < H; j++) acc += weightHh[w + j]! * rh[j]!;
      gh[row] = acc;
    }
    for (let j = 0; j < H; j++) {
      const z = sigmoid(gi[giOffset + H + j]! + gh[H + j]!);
      const n = Math.tanh(gi[giOffset + 2 * H + j]! + gh[2 * H + j]!);
      out[outOffset + j] = round((1 - z) * n + z * h[hOffset + j]!);
    }
  }
}
