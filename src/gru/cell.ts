/**
 * One GRU time step for one sequence — the cell, as in ATen's RNN.cpp — written as plainly as the
 * equations in math.ts, for the reference runner (layer.ts). The fast engine's kernels are held to
 * it by the tests; nothing here is tuned.
 *
 * The layer has computed gi = W_ih x + b_ih (3H, gate blocks r|z|n). Sums accumulate in double
 * whatever the storage type; `round` applies to h' only (Math.fround in f32 precision), which is
 * where a float32 model stores its state.
 */
import type { FloatArray, StatePrecision } from '../model/types.js';
import type { CompiledMath } from './math.js';

const identity = (x: number): number => x;
export const roundFor = (precision: StatePrecision): ((x: number) => number) =>
  precision === 'f32' ? Math.fround : precision === 'f16' ? f16round : identity;

/**
 * x rounded to the nearest IEEE float16 (ties to even; overflow to ±Infinity, subnormals kept),
 * as a double: Math.f16round, which Node 20 lacks. Rounds the double once (never via float32).
 */
export function f16round(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const a = Math.abs(x);
  if (a >= 65520) return x > 0 ? Infinity : -Infinity;
  let e = Math.max(-14, Math.floor(Math.log2(a)));
  if (e > -14 && 2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  const ulp = 2 ** (e - 10);
  const q = a / ulp;
  const lo = Math.floor(q);
  const r = q - lo > 0.5 || (q - lo === 0.5 && lo % 2 === 1) ? lo + 1 : lo;
  return (x > 0 ? r : -r) * ulp;
}

/** Work buffers reused across steps so the time loop allocates nothing. */
export interface CellScratch {
  /** W_h· h + b_h· for the three gates, 3H. */
  gh: Float64Array;
  /** r ⊙ h, H (reset before the matmul only). */
  rh: Float64Array;
  r: Float64Array;
}

export function cellScratch(hiddenSize: number): CellScratch {
  return { gh: new Float64Array(3 * hiddenSize), rh: new Float64Array(hiddenSize), r: new Float64Array(hiddenSize) };
}

/** gh[rows] = W_hh[rows] · v + b_hh[rows] for rows [r0, r1). */
function recurrent(gh: Float64Array, r0: number, r1: number, weightHh: FloatArray, biasHh: FloatArray | undefined, v: ArrayLike<number>, vOffset: number, H: number): void {
  for (let row = r0; row < r1; row++) {
    let acc = biasHh ? biasHh[row]! : 0;
    const w = row * H;
    for (let j = 0; j < H; j++) acc += weightHh[w + j]! * v[vOffset + j]!;
    gh[row] = acc;
  }
}

/**
 * h' from h for one sequence: gi from giOffset (3H), h from hOffset, h' to out from outOffset
 * (out may not alias h).
 */
export function gruCell(
  gi: Float64Array,
  giOffset: number,
  h: ArrayLike<number>,
  hOffset: number,
  out: Float64Array,
  outOffset: number,
  weightHh: FloatArray,
  biasHh: FloatArray | undefined,
  H: number,
  m: CompiledMath,
  round: (x: number) => number,
  s: CellScratch,
): void {
  const { gh, rh, r } = s;
  const { f, g } = m;
  recurrent(gh, 0, 2 * H, weightHh, biasHh, h, hOffset, H);
  for (let j = 0; j < H; j++) r[j] = f(gi[giOffset + j]! + gh[j]!);
  if (m.linearBeforeReset) {
    recurrent(gh, 2 * H, 3 * H, weightHh, biasHh, h, hOffset, H);
  } else {
    for (let j = 0; j < H; j++) rh[j] = r[j]! * h[hOffset + j]!;
    recurrent(gh, 2 * H, 3 * H, weightHh, biasHh, rh, 0, H);
  }
  const bOut = m.bHnOutsideReset && m.linearBeforeReset && biasHh !== undefined;
  for (let j = 0; j < H; j++) {
    const z = f(gi[giOffset + H + j]! + gh[H + j]!);
    let n: number;
    if (!m.linearBeforeReset) n = g(gi[giOffset + 2 * H + j]! + gh[2 * H + j]!);
    else if (bOut) n = g(gi[giOffset + 2 * H + j]! + biasHh![2 * H + j]! + r[j]! * (gh[2 * H + j]! - biasHh![2 * H + j]!));
    else n = g(gi[giOffset + 2 * H + j]! + r[j]! * gh[2 * H + j]!);
    const hj = h[hOffset + j]!;
    out[outOffset + j] = round(m.inverted ? z * n + (1 - z) * hj : (1 - z) * n + z * hj);
  }
}
