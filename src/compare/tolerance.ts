/**
 * Default tolerances: torch.testing.assert_close's, chosen by the expected tensor's dtype, so a
 * gru-check pass means what a PyTorch test's pass means. Two tensors of different dtypes (a float16
 * port's output against a float32 reference) get the looser rtol and the looser atol of the two,
 * as assert_close(check_dtype=False) does (torch/testing/_comparison.py, default_tolerances).
 * --rtol / --atol override each separately.
 */
import type { FloatDType } from '../model/types.js';

export const DEFAULT_TOLERANCES: Record<FloatDType, { rtol: number; atol: number }> = {
  float16: { rtol: 1e-3, atol: 1e-5 },
  float32: { rtol: 1.3e-6, atol: 1e-5 },
  float64: { rtol: 1e-7, atol: 1e-7 },
};

export interface Tolerance {
  rtol: number;
  atol: number;
  /** Where each came from, for the report: 'default float32' or 'flag'. */
  rtolSource: string;
  atolSource: string;
}

export function resolveTolerance(dtype: FloatDType, overrides: { rtol?: number | undefined; atol?: number | undefined }, other: FloatDType = dtype): Tolerance {
  const dtypes = other === dtype ? [dtype] : [dtype, other];
  const d = { rtol: Math.max(...dtypes.map((t) => DEFAULT_TOLERANCES[t].rtol)), atol: Math.max(...dtypes.map((t) => DEFAULT_TOLERANCES[t].atol)) };
  const source = `default for ${dtypes.join(' vs ')}`;
  return {
    rtol: overrides.rtol ?? d.rtol,
    atol: overrides.atol ?? d.atol,
    rtolSource: overrides.rtol !== undefined ? '--rtol' : source,
    atolSource: overrides.atol !== undefined ? '--atol' : source,
  };
}
