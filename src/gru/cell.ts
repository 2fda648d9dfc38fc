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
 * GruMath's other switches (hard sigmoid, inverted update gate, b_hn outside the reset product) are
 * the equations of known porting mistakes, for `diagnose`; PyTorch's GRU uses none of them.
 *
 * Sums accumulate in double whatever the storage type; `round` is applied to h' only (Math.fround
 * for float32 precision, identity for float64), which is where a float32 model's state is stored.
 */
import type { FloatArray, GruMath } from '../model/types.js';

export type { GruMath };

export { PYTORCH_MATH } from '../model/math.js';

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function hardSigmoid(x: number): number {
  return Math.min(1, Math.max(0, 0.2 * x + 0.5));
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
  const act = math.hardSigmoid ? hardSigmoid : sigmoid;
  const inv = math.updateInverted === true;
  const outside = math.bHnOutsideReset === true && biasHh !== undefined;
  // r and z gates: recurrent products for rows [0, 2H).
  for (let row = 0; row < 2 * H; row++) {
    let acc = biasHh ? biasHh[row]! : 0;
    const w = row * H;
    for (let j = 0; j < H; j++) acc += weightHh[w + j]! * h[hOffset + j]!;
    gh[row] = acc;
  }
  for (let j = 0; j < H; j++) r[j] = act(gi[giOffset + j]! + gh[j]!);

  if (math.linearBeforeReset) {
    // gh_n = W_hn h + b_hn; r multiplies all of it (or, as a mistake, only the matmul part)
    for (let row = 2 * H; row < 3 * H; row++) {
      let acc = biasHh ? biasHh[row]! : 0;
      const w = row * H;
      for (let j = 0; j < H; j++) acc += weightHh[w + j]! * h[hOffset + j]!;
      gh[row] = acc;
    }
    for (let j = 0; j < H; j++) {
      const z = act(gi[giOffset + H + j]! + gh[H + j]!);
      const bOut = outside ? biasHh![2 * H + j]! : 0;
      const n = Math.tanh(gi[giOffset + 2 * H + j]! + bOut + r[j]! * (gh[2 * H + j]! - bOut));
      const hj = h[hOffset + j]!;
      out[outOffset + j] = round(inv ? z * n + (1 - z) * hj : (1 - z) * n + z * hj);
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
      const z = act(gi[giOffset + H + j]! + gh[H + j]!);
      const n = Math.tanh(gi[giOffset + 2 * H + j]! + gh[2 * H + j]!);
      const hj = h[hOffset + j]!;
      out[outOffset + j] = round(inv ? z * n + (1 - z) * hj : (1 - z) * n + z * hj);
    }
  }
}
