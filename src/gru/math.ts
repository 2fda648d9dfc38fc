/**
 * The gate math of one GRU step, as plain data: everything a GRU step can vary, with ONNX's GRU
 * (Operators.md; reference onnx/reference/ops/op_gru.py) as the general form and PyTorch's nn.GRU
 * as the default. For one direction, gate blocks r|z|n (ONNX: z|r|h, reordered at the boundary):
 *
 *   r  = f(clip(W_ir x + b_ir + W_hr h + b_hr))
 *   z  = f(clip(W_iz x + b_iz + W_hz h + b_hz))
 *   n  = g(clip(W_in x + b_in + r ⊙ (W_hn h + b_hn)))      linearBeforeReset (PyTorch; ONNX lbr=1)
 *   n  = g(clip(W_in x + b_in + W_hn (r ⊙ h) + b_hn))      !linearBeforeReset (ONNX default lbr=0)
 *   h' = (1 − z) ⊙ n + z ⊙ h                                update 'standard'
 *   h' = z ⊙ n + (1 − z) ⊙ h                                update 'inverted' (a porting mistake)
 *
 * clip bounds each pre-activation to [−clip, clip] before f or g (ONNX: "applied to the input of
 * activations"); null is no clip. `bHnOutsideReset` (a porting mistake, lbr only) moves b_hn out
 * of the reset product: n = g(W_in x + b_in + b_hn + r ⊙ (W_hn h)). `gateOrder` says in which
 * order the port read the stacked blocks (diagnose's gate-order mistakes); 'rzn' is PyTorch's.
 *
 * Every runner honours every field or refuses the run naming it (engine/): there is no silent
 * fallback to PyTorch's math. A bidirectional ONNX node may give each direction its own f and g,
 * so runs take one GateMath per direction (`mathFor`).
 */

export const ACTIVATIONS = [
  'Sigmoid', 'Tanh', 'Relu', 'HardSigmoid', 'Affine', 'LeakyRelu', 'ThresholdedRelu', 'ScaledTanh', 'Elu', 'Softsign', 'Softplus',
] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

export interface Activation {
  name: ActivationName;
  /** Used by HardSigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, Elu; else 0. */
  alpha: number;
  /** Used by HardSigmoid, Affine, ScaledTanh; else 0. */
  beta: number;
}

export interface GateMath {
  linearBeforeReset: boolean;
  /** The gate activation, for r and z. */
  f: Activation;
  /** The candidate activation, for n. */
  g: Activation;
  /** Pre-activations are clipped to [-clip, clip]; null: no clip. */
  clip: number | null;
  update: 'standard' | 'inverted';
  bHnOutsideReset: boolean;
  /** Order in which the weights' stacked gate blocks are read; PyTorch's is 'rzn'. */
  gateOrder: string;
}

export const SIGMOID: Activation = Object.freeze({ name: 'Sigmoid', alpha: 0, beta: 0 });
export const TANH: Activation = Object.freeze({ name: 'Tanh', alpha: 0, beta: 0 });

/** PyTorch's nn.GRU. */
export const PYTORCH_MATH: GateMath = Object.freeze({
  linearBeforeReset: true,
  f: SIGMOID,
  g: TANH,
  clip: null,
  update: 'standard',
  bHnOutsideReset: false,
  gateOrder: 'rzn',
});

/** The same math with some fields changed. */
export function withMath(base: GateMath, change: Partial<GateMath>): GateMath {
  return Object.freeze({ ...base, ...change });
}

/** The math of direction d, from one GateMath for all directions or one per direction. */
export function mathFor(math: GateMath | readonly GateMath[] | undefined, d: number): GateMath {
  if (math === undefined) return PYTORCH_MATH;
  return Array.isArray(math) ? (math as readonly GateMath[])[d] ?? (math as readonly GateMath[])[0]! : (math as GateMath);
}

/** Sigmoid for f, tanh for g, no clip, the standard update, r|z|n: what the wasm gate passes compute. */
export function isPlainMath(m: GateMath): boolean {
  return m.f.name === 'Sigmoid' && m.g.name === 'Tanh' && m.clip === null && m.update === 'standard' && !m.bHnOutsideReset;
}

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

/** One line for reports: only what differs from PyTorch's math. */
export function describeMath(m: GateMath): string {
  const parts: string[] = [];
  const act = (a: Activation): string => (['Sigmoid', 'Tanh', 'Relu', 'Softsign', 'Softplus'].includes(a.name) ? a.name : `${a.name}(alpha=${a.alpha}, beta=${a.beta})`);
  if (m.f.name !== 'Sigmoid' || m.g.name !== 'Tanh') parts.push(`activations f=${act(m.f)}, g=${act(m.g)}`);
  if (m.clip !== null) parts.push(`clip=${m.clip}`);
  if (m.update !== 'standard') parts.push(`update ${m.update}`);
  if (m.bHnOutsideReset) parts.push('b_hn outside reset');
  if (m.gateOrder !== 'rzn') parts.push(`gate order ${m.gateOrder}`);
  return parts.join(', ');
}
