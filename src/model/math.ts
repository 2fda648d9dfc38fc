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
 * so runs take one GateMath per direction (`mathFor`). The types are in result.ts (reports show
 * them); gru/math.ts turns a GateMath into the step's functions.
 */
import type { Activation, ActivationName, GateMath } from '../result.js';

export type { Activation, ActivationName, GateMath } from '../result.js';

/** Every activation a GateMath may name (ONNX's list), for checking names read from a file. */
export const ACTIVATIONS = [
  'Sigmoid', 'Tanh', 'Relu', 'HardSigmoid', 'Affine', 'LeakyRelu', 'ThresholdedRelu', 'ScaledTanh', 'Elu', 'Softsign', 'Softplus',
] as const satisfies readonly ActivationName[];

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
