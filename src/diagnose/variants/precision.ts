/**
 * Precision: a port storing or computing in a narrower type than the case. Emulated (the weights,
 * input and h0 rounded; the state on the reference runner, which rounds to float16), and judged
 * statistically when the emulation cannot match exactly.
 */
import type { FloatArray, GruCase } from '../../model/types.js';
import { f16round } from '../../gru/cell.js';
import { mapParams, variantList } from './common.js';
import type { Variant, VariantPlan } from './variant.js';

/** Weights, input and h0 rounded as a port storing them in a narrower type would have them. */
function stored(c: GruCase, round: (x: number) => number): Pick<VariantPlan, 'params' | 'h0' | 'input'> {
  const r = (a: FloatArray): Float32Array => Float32Array.from(a, round);
  return {
    params: mapParams(c.params, (d) => ({ ...d, weightIh: r(d.weightIh), weightHh: r(d.weightHh), ...(d.biasIh ? { biasIh: r(d.biasIh) } : {}), ...(d.biasHh ? { biasHh: r(d.biasHh) } : {}) })),
    h0: Float64Array.from(c.h0, round),
    input: (run) => ({ ...run, input: r(run.input) }),
  };
}

/** The precision emulations narrower than the case's dtype. */
export function precision(c: GruCase): Variant[] {
  const { out, add } = variantList();
  if (c.config.dtype !== 'float16') {
    add({
      name: 'fp16-storage',
      family: 'precision',
      judge: 'statistical',
      fix: 'keep the weights, input and h0 in float32 (the port stores them as float16: its error is float16 rounding, about 1e-3 relative); or, if float16 is intended, gate it with a float16 tolerance (--port-precision fp16)',
      plan: (c) => ({ ...stored(c, f16round), precision: 'f32' }),
    });
    add({
      name: 'fp16-compute',
      family: 'precision',
      judge: 'statistical',
      fix: 'compute in float32 (the port computes in float16: its error is float16 arithmetic, about 1e-3 relative, spread over every element); or, if float16 is intended, gate it with a float16 tolerance (--port-precision fp16)',
      plan: (c) => ({ ...stored(c, f16round), precision: 'f16' }),
    });
  }
  add({
    name: 'f32-compute',
    family: 'precision',
    judge: 'statistical',
    fix: 'compute in float64 as the model does: the port rounds weights, input and state to float32 (its error is float32 rounding, about 1e-7 relative)',
    plan: (c) => ({ ...stored(c, Math.fround), precision: 'f32' }),
  }, c.config.dtype === 'float64');
  return out;
}
