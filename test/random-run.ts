/**
 * Random GRU runs for property tests and the benchmark: one builder instead of a copy per file.
 * Weights are U(-k, k) with k = weightScale / sqrt(H) (PyTorch's default init at weightScale 1);
 * the generator is a seeded LCG so every run is reproducible without a dependency.
 */
import type { GruRunInput } from '../src/gru/stack.js';
import type { GruParams } from '../src/model/types.js';

export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
}

export interface RandomRunSpec {
  T: number;
  B: number;
  I: number;
  H: number;
  L: number;
  bidir: boolean;
  /** default true */
  bias?: boolean;
  /** float64 storage (default float32) */
  f64?: boolean;
  /** lengths per sequence, uniform in minLength..T */
  lengths?: boolean;
  /** smallest length drawn (default 1; 0 tests empty sequences) */
  minLength?: number;
  reverseOnly?: boolean;
  /** multiplies 1/sqrt(H) for the weights (default 1) */
  weightScale?: number;
  /** input U(-s, s), default 1.5 */
  inputScale?: number;
  /** h0 U(-s, s), default 0.8 */
  h0Scale?: number;
}

export function randomRun(s: RandomRunSpec, r: () => number): GruRunInput {
  const D = s.bidir ? 2 : 1;
  const bias = s.bias ?? true;
  const Arr = s.f64 ? Float64Array : Float32Array;
  const u = (n: number, sc: number): Float32Array | Float64Array => {
    const a = new Arr(n);
    for (let i = 0; i < n; i++) a[i] = (2 * r() - 1) * sc;
    return a;
  };
  const w = (s.weightScale ?? 1) / Math.sqrt(s.H);
  const params: GruParams = {
    inputSize: s.I,
    hiddenSize: s.H,
    numLayers: s.L,
    bidirectional: s.bidir,
    bias,
    dtype: s.f64 ? 'float64' : 'float32',
    layers: Array.from({ length: s.L }, (_, k) =>
      Array.from({ length: D }, () => {
        const I = k === 0 ? s.I : D * s.H;
        return {
          weightIh: u(3 * s.H * I, w),
          weightHh: u(3 * s.H * s.H, w),
          ...(bias ? { biasIh: u(3 * s.H, w), biasHh: u(3 * s.H, w) } : {}),
          inputSize: I,
        };
      }),
    ),
  };
  if (s.reverseOnly) params.reverseOnly = true;
  const run: GruRunInput = { params, input: u(s.T * s.B * s.I, s.inputScale ?? 1.5), seqLen: s.T, batchSize: s.B, h0: u(s.L * D * s.B * s.H, s.h0Scale ?? 0.8) };
  if (s.lengths) {
    const lo = s.minLength ?? 1;
    run.lengths = Int32Array.from({ length: s.B }, () => lo + Math.floor(r() * (s.T - lo + 1)));
  }
  return run;
}
