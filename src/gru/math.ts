/**
 * A GateMath (model/math.ts: the equations as data) as the functions a step loop calls: ONNX's
 * activations in double, composed with the clip.
 */
import type { Activation, GateMath } from '../result.js';

/**
 * ONNX's activation functions (Operators.md, "activation functions"), in double:
 *   Relu max(0, x) · Tanh · Sigmoid 1/(1+e^-x) · Affine αx+β · LeakyRelu x≥0 ? x : αx ·
 *   ThresholdedRelu x>α ? x : 0 · ScaledTanh α·tanh(βx) · HardSigmoid min(max(αx+β, 0), 1) ·
 *   Elu x≥0 ? x : α(e^x − 1) · Softsign x/(1+|x|) · Softplus log(1+e^x)
 * ThresholdedRelu is strict (x > α), as the ONNX operator of that name is.
 */
export function activationFn(a: Activation): (x: number) => number {
  const { alpha, beta } = a;
  switch (a.name) {
    case 'Sigmoid': return (x) => 1 / (1 + Math.exp(-x));
    case 'Tanh': return Math.tanh;
    case 'Relu': return (x) => (x > 0 ? x : 0);
    case 'HardSigmoid': return (x) => Math.min(1, Math.max(0, alpha * x + beta));
    case 'Affine': return (x) => alpha * x + beta;
    case 'LeakyRelu': return (x) => (x >= 0 ? x : alpha * x);
    case 'ThresholdedRelu': return (x) => (x > alpha ? x : 0);
    case 'ScaledTanh': return (x) => alpha * Math.tanh(beta * x);
    case 'Elu': return (x) => (x >= 0 ? x : alpha * (Math.exp(x) - 1));
    case 'Softsign': return (x) => x / (1 + Math.abs(x));
    case 'Softplus': return (x) => (x > 30 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
  }
}

/** clip as a function: identity when there is none. */
export function clipFn(clip: number | null): (x: number) => number {
  if (clip === null) return (x) => x;
  return (x) => (x > clip ? clip : x < -clip ? -clip : x);
}

/** f and g composed with clip, ready for a loop. */
export interface CompiledMath {
  f: (x: number) => number;
  g: (x: number) => number;
  linearBeforeReset: boolean;
  inverted: boolean;
  bHnOutsideReset: boolean;
}

export function compileMath(m: GateMath): CompiledMath {
  const c = clipFn(m.clip);
  const f = activationFn(m.f);
  const g = activationFn(m.g);
  return {
    f: m.clip === null ? f : (x) => f(c(x)),
    g: m.clip === null ? g : (x) => g(c(x)),
    linearBeforeReset: m.linearBeforeReset,
    inverted: m.update === 'inverted',
    bHnOutsideReset: m.bHnOutsideReset,
  };
}
