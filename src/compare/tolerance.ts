/**
 * Default tolerances: torch.testing.assert_close's, chosen by the expected tensor's dtype, so a
 * gru-check pass means what a PyTorch test's pass means. --rtol / --atol override each separately.
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

export function resolveTolerance(dtype: FloatDType, overrides: { rtol?: number | undefined; atol?: number | undefined }): Tolerance {
  const d = DEFAULT_TOLERANCES[dtype];
  return {
    rtol: overrides.rtol ?? d.rtol,
    atol: overrides.atol ?? d.atol,
    rtolSource: overrides.rtol !== undefined ? '--rtol' : `default for ${dtype}`,
    atolSource: overrides.atol !== undefined ? '--atol' : `default for ${dtype}`,
  };
}
