/**
 * The fast engine's gate arithmetic for one batch row, for any GateMath (src/gru/math.ts): both
 * kernels (kernel.ts) call these on their own buffers — the JS kernel always, the wasm kernel
 * whenever the math is not the plain sigmoid/tanh its SIMD passes compute. Products arrive without
 * biases (gi = x·W_ihᵀ, ghRz = h·W_h(r|z)ᵀ, ghN = h·W_hnᵀ or (r⊙h)·W_hnᵀ), so biases are added here in
 * double, in the same order as the wasm passes add them.
 *
 * Offsets: gi row at g0 (gate blocks r|z|n, 3H), ghRz row at q0 (r|z, 2H), ghN row at n0 (H), the
 * state row at h0 in h (written in place; a Float32Array store rounds to float32 by itself, `round`
 * does it for Float64Array states in f32 precision), r ⊙ h row at h0 in rh.
 */
import type { FloatArray } from '../model/types.js';
import type { CompiledMath } from '../gru/math.js';

/** Reset after the matmul (linear_before_reset): h[row] <- h'. */
export function gatesLbrRow(
  m: CompiledMath, H: number,
  gi: Float64Array, g0: number, bih: Float64Array,
  ghRz: Float64Array, q0: number, ghN: Float64Array, n0: number, bhh: Float64Array,
  h: FloatArray, h0: number, round: (x: number) => number,
): void {
  const { f, g, inverted, bHnOutsideReset } = m;
  for (let j = 0; j < H; j++) {
    const r = f(gi[g0 + j]! + bih[j]! + (ghRz[q0 + j]! + bhh[j]!));
    const z = f(gi[g0 + H + j]! + bih[H + j]! + (ghRz[q0 + H + j]! + bhh[H + j]!));
    const n = bHnOutsideReset
      ? g(gi[g0 + 2 * H + j]! + bih[2 * H + j]! + bhh[2 * H + j]! + r * ghN[n0 + j]!)
      : g(gi[g0 + 2 * H + j]! + bih[2 * H + j]! + r * (ghN[n0 + j]! + bhh[2 * H + j]!));
    const hj = h[h0 + j]!;
    h[h0 + j] = round(inverted ? z * n + (1 - z) * hj : (1 - z) * n + z * hj);
  }
}

/** Reset before the matmul, first half: rh[row] <- r ⊙ h[row]. */
export function gatesRRow(
  m: CompiledMath, H: number,
  gi: Float64Array, g0: number, bih: Float64Array, ghRz: Float64Array, q0: number, bhh: Float64Array,
  h: FloatArray, h0: number, rh: FloatArray,
): void {
  const f = m.f;
  for (let j = 0; j < H; j++) {
    const r = f(gi[g0 + j]! + bih[j]! + (ghRz[q0 + j]! + bhh[j]!));
    rh[h0 + j] = r * h[h0 + j]!;
  }
}

/** Reset before the matmul, second half (ghN holds (r ⊙ h)·W_hnᵀ): h[row] <- h'. */
export function gatesZnRow(
  m: CompiledMath, H: number,
  gi: Float64Array, g0: number, bih: Float64Array,
  ghRz: Float64Array, q0: number, ghN: Float64Array, n0: number, bhh: Float64Array,
  h: FloatArray, h0: number, round: (x: number) => number,
): void {
  const { f, g, inverted } = m;
  for (let j = 0; j < H; j++) {
    const z = f(gi[g0 + H + j]! + bih[H + j]! + (ghRz[q0 + H + j]! + bhh[H + j]!));
    const n = g(gi[g0 + 2 * H + j]! + bih[2 * H + j]! + (ghN[n0 + j]! + bhh[2 * H + j]!));
    const hj = h[h0 + j]!;
    h[h0 + j] = round(inverted ? z * n + (1 - z) * hj : (1 - z) * n + z * hj);
  }
}
