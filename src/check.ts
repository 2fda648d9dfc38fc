/**
 * One case, end to end and pure: validated arrays in, a plain serialisable CaseResult out. Runs the
 * reference GRU, lays its tensors out in the dump's own axis order and compares each expected
 * tensor. Never prints, exits or touches files; input errors surface as GruCheckError for the
 * caller to turn into a result (see caseError).
 */
import { GruCheckError, formatError } from './errors.js';
import type { ArrayBundle } from './io/types.js';
import { buildCase, type CaseOptions } from './model/case.js';
import type { FloatDType, GruCase, GruConfig, LayoutSource, Precision } from './model/types.js';
import { runGruStack, type GruRunResult } from './gru/stack.js';
import { compareTensors, type CheckResult } from './compare/isclose.js';
import { resolveTolerance, type Tolerance } from './compare/tolerance.js';

export interface CheckOptions extends CaseOptions {
  rtol?: number | undefined;
  atol?: number | undefined;
  equalNan?: boolean | undefined;
  /** Default: f64 for a float64 model, else f32. */
  precision?: Precision | undefined;
}

export interface Timings {
  loadMs: number;
  referenceMs: number;
  compareMs: number;
}

export interface CaseResult {
  case: string;
  pass: boolean;
  /** One-line description of an input error; the case was not checked. */
  error?: string;
  errorCode?: string;
  config?: GruConfig;
  /** How batch_first was decided. */
  layoutSource?: LayoutSource;
  precision?: Precision;
  /** Whether h0 came from the dump (else zeros). */
  h0Given?: boolean;
  /** Module prefix of the GRU's weights, '' if none. */
  prefix?: string;
  lengths?: number[];
  tolerance?: Record<string, Tolerance>;
  checks: CheckResult[];
  timings: Timings;
}

export interface UserTensor {
  shape: number[];
  data: Float64Array;
}

/** The reference's output and h_n in the dump's own axis order. */
export function toUserLayout(c: GruCase, r: GruRunResult): { output: UserTensor; h_n: UserTensor } {
  const { seqLen: T, batchSize: B } = c;
  const { numLayers: L, hiddenSize: H, bidirectional, batched, batchFirst } = c.config;
  const D = bidirectional ? 2 : 1;
  const F = D * H;
  if (!batched) {
    return { output: { shape: [T, F], data: r.output }, h_n: { shape: [L * D, H], data: r.hN } };
  }
  let out = r.output;
  if (batchFirst) {
    out = new Float64Array(r.output.length);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) out.set(r.output.subarray((t * B + b) * F, (t * B + b + 1) * F), (b * T + t) * F);
    }
  }
  return {
    output: { shape: batchFirst ? [B, T, F] : [T, B, F], data: out },
    h_n: { shape: [L * D, B, H], data: r.hN },
  };
}

/** Milliseconds to the microsecond: more digits are noise. */
const ms = (x: number): number => Math.round(x * 1000) / 1000;

export function defaultPrecision(dtype: FloatDType): Precision {
  return dtype === 'float64' ? 'f64' : 'f32';
}

export function runReference(c: GruCase, precision: Precision): { output: UserTensor; h_n: UserTensor } {
  const r = runGruStack(
    { params: c.params, input: c.input, seqLen: c.seqLen, batchSize: c.batchSize, h0: c.h0, lengths: c.lengths },
    { precision },
  );
  return toUserLayout(c, r);
}

export function checkGruCase(c: GruCase, options: CheckOptions = {}, loadMs = 0): CaseResult {
  const precision = options.precision ?? defaultPrecision(c.config.dtype);
  const t0 = performance.now();
  const ref = runReference(c, precision);
  const t1 = performance.now();
  const checks: CheckResult[] = [];
  const tolerance: Record<string, Tolerance> = {};
  for (const tensor of ['output', 'h_n'] as const) {
    const exp = c.expected[tensor];
    if (!exp) continue;
    const tol = resolveTolerance(exp.dtype, options);
    tolerance[tensor] = tol;
    const timeAxis = tensor === 'output' ? (c.config.batched && c.config.batchFirst ? 1 : 0) : undefined;
    checks.push(
      compareTensors(ref[tensor], exp, { tensor, subject: 'reference', against: 'expected', timeAxis }, {
        rtol: tol.rtol, atol: tol.atol, equalNan: options.equalNan ?? false,
      }),
    );
  }
  const t2 = performance.now();
  const result: CaseResult = {
    case: c.source,
    pass: checks.every((k) => k.pass),
    config: c.config,
    layoutSource: c.layoutSource,
    precision,
    h0Given: c.h0Given,
    prefix: c.prefix.replace(/\.$/, ''),
    tolerance,
    checks,
    timings: { loadMs: ms(loadMs), referenceMs: ms(t1 - t0), compareMs: ms(t2 - t1) },
  };
  if (c.lengths) result.lengths = Array.from(c.lengths);
  return result;
}

/** Validates and checks a loaded case. Input errors propagate as GruCheckError. */
export function checkBundle(bundle: ArrayBundle, options: CheckOptions = {}, loadMs = 0): CaseResult {
  return checkGruCase(buildCase(bundle, options), options, loadMs);
}

/** A case that could not be checked, as a result (for multi-case runs and JSON). */
export function caseError(source: string, e: GruCheckError, loadMs = 0): CaseResult {
  return {
    case: source,
    pass: false,
    error: formatError(e),
    errorCode: e.code,
    checks: [],
    timings: { loadMs, referenceMs: 0, compareMs: 0 },
  };
}
