/**
 * ONNX's `activations`, `activation_alpha` and `activation_beta` attributes -> one GateMath per
 * direction. The rule, from ONNX's GRU spec ("values are consumed in the order of activation
 * functions ... default values are the same as of corresponding ONNX operators") and ONNX Runtime's
 * rnn_helpers.cc (NormalizeActivationArgumentAndGetAlphaBetaCount), which agrees on the order:
 *   - activations lists f, g for the forward direction, then f, g for the reverse one (2 or 4 names);
 *   - the alpha and beta lists are read independently, front to back, in activation order: an
 *     activation takes the next alpha only if it has one (Affine, LeakyRelu, ThresholdedRelu,
 *     ScaledTanh, HardSigmoid, Elu), the next beta only if it has one (Affine, ScaledTanh,
 *     HardSigmoid); when a list runs out, the ONNX operator's default applies.
 * Defaults (the ONNX operators): LeakyRelu α=0.01; ThresholdedRelu α=1; HardSigmoid α=0.2 β=0.5;
 * Elu α=1; Affine α=1 β=0. ScaledTanh has none (its operator declared both optional without a
 * default), so it must be given both. ONNX Runtime uses 0 where it has no table entry (Affine,
 * ThresholdedRelu, ScaledTanh): when a case relies on one of those defaults, a warning says so.
 */
import { GruCheckError } from '../errors.js';
import { ACTIVATIONS, withMath, type Activation, type ActivationName, type GateMath } from './math.js';
import type { CaseWarning } from './config.js';

const TAKES: Record<ActivationName, { alpha: boolean; beta: boolean }> = {
  Sigmoid: { alpha: false, beta: false },
  Tanh: { alpha: false, beta: false },
  Relu: { alpha: false, beta: false },
  Softsign: { alpha: false, beta: false },
  Softplus: { alpha: false, beta: false },
  LeakyRelu: { alpha: true, beta: false },
  ThresholdedRelu: { alpha: true, beta: false },
  Elu: { alpha: true, beta: false },
  HardSigmoid: { alpha: true, beta: true },
  Affine: { alpha: true, beta: true },
  ScaledTanh: { alpha: true, beta: true },
};

/** The ONNX operators' defaults; undefined: none (must be given). */
const DEFAULTS: Partial<Record<ActivationName, { alpha?: number; beta?: number }>> = {
  LeakyRelu: { alpha: 0.01 },
  ThresholdedRelu: { alpha: 1 },
  HardSigmoid: { alpha: 0.2, beta: 0.5 },
  Elu: { alpha: 1 },
  Affine: { alpha: 1, beta: 0 },
};

/** Where ONNX Runtime's default differs from the ONNX operator's (it uses 0 without a table entry). */
const ORT_DIFFERS = new Set<ActivationName>(['Affine', 'ThresholdedRelu']);

/** 'hardsigmoid' -> 'HardSigmoid' (ONNX Runtime accepts any case; so do we). */
export function activationName(name: string): ActivationName | undefined {
  return ACTIVATIONS.find((a) => a.toLowerCase() === name.toLowerCase());
}

export interface OnnxActivationInput {
  activations: string[];
  alpha: number[] | undefined;
  beta: number[] | undefined;
  /** Where they came from, for messages: 'config' or 'flags'. */
  source: string;
}

/** GateMath per direction from `base` (linear_before_reset, clip) and the activation attributes. */
export function onnxDirectionMath(base: GateMath, numDirections: number, a: OnnxActivationInput | undefined, file: string, warnings: CaseWarning[]): GateMath[] {
  if (!a) return Array.from({ length: numDirections }, () => base);
  const want = 2 * numDirections;
  if (a.activations.length !== want) {
    throw new GruCheckError('BAD_CONFIG', `activations (${a.source}): expected ${want} names (f, g${numDirections === 2 ? ' for the forward direction, then f, g for the reverse one' : ''}), got ${a.activations.length}: ${a.activations.join(', ')}`, { file });
  }
  const alphas = a.alpha ?? [];
  const betas = a.beta ?? [];
  let ia = 0;
  let ib = 0;
  const acts: Activation[] = a.activations.map((raw, i) => {
    const name = activationName(raw);
    if (!name) {
      throw new GruCheckError('BAD_CONFIG', `activations (${a.source}): "${raw}" is not an ONNX RNN activation`, { file, hint: `one of ${ACTIVATIONS.join(', ')}` });
    }
    const takes = TAKES[name];
    const d = DEFAULTS[name] ?? {};
    let alpha = 0;
    let beta = 0;
    const missing: string[] = [];
    if (takes.alpha) {
      if (ia < alphas.length) alpha = alphas[ia++]!;
      else if (d.alpha !== undefined) alpha = d.alpha;
      else missing.push('alpha');
    }
    if (takes.beta) {
      if (ib < betas.length) beta = betas[ib++]!;
      else if (d.beta !== undefined) beta = d.beta;
      else missing.push('beta');
    }
    const role = `${i % 2 === 0 ? 'f' : 'g'}${numDirections === 2 ? (i < 2 ? ' (forward)' : ' (reverse)') : ''}`;
    if (missing.length > 0) {
      throw new GruCheckError('BAD_CONFIG', `activations (${a.source}): ${name} for ${role} needs activation_${missing.join(' and activation_')}: the ONNX operator has no default`, { file });
    }
    return { name, alpha, beta };
  });
  // Defaults ONNX Runtime does not share: say which value was used.
  {
    let ja = 0;
    let jb = 0;
    acts.forEach((act, i) => {
      const takes = TAKES[act.name];
      const defaulted = (takes.alpha && ja++ >= alphas.length) || (takes.beta && jb++ >= betas.length);
      if (defaulted && ORT_DIFFERS.has(act.name)) {
        warnings.push({
          code: 'ONNX_DEFAULT_DIFFERS',
          message: `activation ${i + 1} (${act.name}) uses the ONNX operator's default alpha=${act.alpha}${TAKES[act.name].beta ? `, beta=${act.beta}` : ''}; ONNX Runtime uses 0 there: pass activation_alpha/activation_beta to say which you mean`,
        });
      }
    });
  }
  if (ia < alphas.length || ib < betas.length) {
    warnings.push({
      code: 'ONNX_EXTRA_ALPHA_BETA',
      message: `activation_alpha has ${alphas.length} value(s) and activation_beta ${betas.length}; the activations use ${ia} and ${ib}: the rest is ignored`,
    });
  }
  return Array.from({ length: numDirections }, (_, d) => withMath(base, { f: acts[2 * d]!, g: acts[2 * d + 1]! }));
}
