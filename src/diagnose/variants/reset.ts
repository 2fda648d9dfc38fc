/**
 * Reset placement: r applied before the recurrent product (ONNX linear_before_reset=0, Keras
 * reset_after=False) where the case applies it after (PyTorch, linear_before_reset=1,
 * reset_after=True), or the other way round.
 */
import type { GruCase } from '../../model/types.js';
import { termsOf } from './common.js';
import type { Variant } from './variant.js';

/** Where the reset gate is applied: before or after the recurrent product (the layout's own switch). */
export function resetPlacement(c: GruCase): Variant[] {
  const lbr = c.math.linearBeforeReset;
  const t = termsOf(c);
  if (c.config.layout === 'onnx') {
    return [{
      name: 'onnx-linear-before-reset',
      family: 'reset',
      fix: lbr
        ? `the node has linear_before_reset=1: apply r after the recurrent product, h~ = tanh(X W_h^T + r ⊙ (H R_h^T + Rb_h) + Wb_h); the port computes linear_before_reset=0's tanh(X W_h^T + (r ⊙ H) R_h^T + Rb_h + Wb_h)`
        : `the node has linear_before_reset=0: apply r before the recurrent product, h~ = tanh(X W_h^T + (r ⊙ H) R_h^T + Rb_h + Wb_h); the port computes linear_before_reset=1's tanh(X W_h^T + r ⊙ (H R_h^T + Rb_h) + Wb_h)`,
      plan: (c) => ({ math: { linearBeforeReset: !lbr } }),
    }];
  }
  if (c.config.layout === 'keras') {
    return [{
      name: 'keras-reset-after',
      family: 'reset',
      fix: lbr
        ? 'the layer has reset_after=True: apply r after the recurrent product, h~ = tanh(x W_h + b_h + r ⊙ (h U_h + b_rh))'
        : 'the layer has reset_after=False: apply r before the recurrent product, h~ = tanh(x W_h + (r ⊙ h) U_h + b_h)',
      plan: (c) => ({ math: { linearBeforeReset: !lbr } }),
    }];
  }
  if (!lbr) return [];
  return [{
    name: 'reset-before-matmul',
    family: 'reset',
    fix: `apply the reset gate after the recurrent matmul: n = tanh(W_in x + b_in + r * (W_hn h + ${t.bhn})) (ONNX: set linear_before_reset=1; Keras: reset_after=True)`,
    plan: (c) => ({ math: { linearBeforeReset: false } }),
  }];
}
